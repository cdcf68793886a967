"""Golden outputs: every model's numbers on a fixed seed, recorded once and compared on every run.

A refactor that keeps behaviour (moving methods, renaming, splitting modules) must reproduce these to float32 round-off: the training loss and its
gradient norm (complete and partially observed batches), the posterior means, seeded samples of `encode` / `predict` / `generate_from_prior`, and the
importance-sampled joint log-likelihood. A change that is meant to change a model's numbers regenerates the file on purpose:

    python tests/test_golden_outputs.py --record      # writes tests/golden/models.json
"""
import json, sys
from pathlib import Path
import pytest
import torch

GOLDEN = Path(__file__).resolve().parent / 'golden' / 'models.json'
DIMS = {'a': (1, 4, 4), 'b': (6,), 'c': (3,)}
MODELS = ('JMVAE', 'MVAE', 'MMVAE', 'MVTCAE', 'MoPoE', 'MMVAEPlus', 'TELBO', 'JNF', 'JNFDcca')
EXTRA = {'MoPoE': dict(modalities_specific_dim=2), 'MMVAEPlus': dict(modalities_specific_dim=2, K=3), 'MMVAE': dict(K=3),
         'JNF': dict(joint_stage_epochs=1, nb_epochs_dcca=None) , 'JNFDcca': dict(joint_stage_epochs=1, nb_epochs_dcca=1, embedding_dcca_dim=4), 'TELBO': dict(joint_stage_epochs=1)}
RTOL, ATOL = 1e-4, 1e-5


def _batch(masked: bool):
    from multivae_nb.data import DatasetOutput
    g = torch.Generator().manual_seed(1)
    data = {'a': torch.rand(8, *DIMS['a'], generator=g), 'b': torch.randn(8, 6, generator=g), 'c': torch.randn(8, 3, generator=g)}
    if not masked: return DatasetOutput(data=data)
    masks = {'a': torch.tensor([1, 1, 0, 1, 1, 0, 1, 1]).bool(), 'b': torch.tensor([1, 0, 1, 1, 0, 1, 1, 1]).bool(), 'c': torch.ones(8).bool()}
    return DatasetOutput(data={m: x * masks[m].view(-1, *[1] * (x.dim() - 1)) for m, x in data.items()}, masks=masks)


def _model(name):
    import multivae_nb.models as M
    cls, cfg = getattr(M, name), getattr(M, name + 'Config')
    kw = dict(input_dims=DIMS, latent_dim=3, decoders_dist={'a': 'bernoulli', 'b': 'normal', 'c': 'laplace'})
    fields = cfg.__dataclass_fields__
    kw.update({k: v for k, v in EXTRA.get(name, {}).items() if k in fields})
    torch.manual_seed(0)
    return cls(cfg(**kw))


def _r(x): return [round(float(v), 6) for v in torch.as_tensor(x).detach().float().flatten()[:24]]


def _try(fn):
    try: return fn()
    except Exception as e: return f'{type(e).__name__}: {str(e)[:160]}'


def outputs(name) -> dict:
    model = _model(name); out = {}
    for masked in (False, True):
        b, tag = _batch(masked), 'masked' if masked else 'complete'
        def loss(epoch):
            model.train(); model.zero_grad(); torch.manual_seed(2)
            o = model(b, epoch=epoch, batch_ratio=0.5); o.loss.backward()
            gn = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters() if p.grad is not None))
            return {'loss': round(o.loss.item(), 5), 'grad_norm': round(gn.item(), 5)}
        for epoch in (0, 3): out[f'{tag}/train_epoch{epoch}'] = _try(lambda: loss(epoch))
        for st in [s.name for s in model.training_stages()][1:] if hasattr(model, 'training_stages') else []:   # staged models: every stage
            model.set_stage(st); out[f'{tag}/train_stage_{st}'] = _try(lambda: loss(3))
        if hasattr(model, 'training_stages'): model.set_stage(model.training_stages()[0].name)
        model.eval()
        def enc():
            torch.manual_seed(3); e = model.encode(b, cond_mod=['a', 'c'], N=2)
            return {'z': _r(e.z), 'mean': _r(model.encode(b, cond_mod=['c'], return_mean=True).z)}
        out[f'{tag}/encode'] = _try(enc)
        def pred():
            torch.manual_seed(4); p = model.predict(b, cond_mod=['c'], gen_mod='all')
            return {m: _r(p[m]) for m in DIMS}
        out[f'{tag}/predict'] = _try(pred)
        def ll():
            torch.manual_seed(5); return _r(model.log_likelihood(b, K=6, batch_size_K=4))
        out[f'{tag}/log_likelihood'] = _try(ll)
    def prior():
        torch.manual_seed(6); g = model.generate_from_prior(3)
        return {m: _r(g[m]) for m in DIMS}
    out['prior'] = _try(prior)
    return out


def record():
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps({n: outputs(n) for n in MODELS}, indent=1) + '\n')
    print(f'wrote {GOLDEN}')


def _close(a, b, where):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f'{where}: {a} vs {b}'
        for k in a: _close(a[k], b[k], f'{where}/{k}')
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f'{where}: {a} vs {b}'
        assert torch.allclose(torch.tensor(a), torch.tensor(b), rtol=RTOL, atol=ATOL, equal_nan=True), f'{where}: {a} vs {b}'
    elif isinstance(a, float): assert (a != a and b != b) or abs(a - b) <= ATOL + RTOL * abs(b), f'{where}: {a} vs {b}'
    else: assert a == b, f'{where}: {a!r} vs {b!r}'


@pytest.mark.parametrize('name', MODELS)
def test_golden_outputs(name):
    torch.set_num_threads(1)
    _close(outputs(name), json.loads(GOLDEN.read_text())[name], name)


if __name__ == '__main__':
    if '--record' in sys.argv: record()
    else: print(json.dumps({n: outputs(n) for n in MODELS}, indent=1))
