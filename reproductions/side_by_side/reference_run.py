"""Train a model of the reference library (MultiVae 1.0.3) on *our* rebuilt PolyMNIST, with its own networks, objective and trainer, and record
the same learning curve our reproductions record: the coherence with 1..4 inputs (targets outside the inputs, micro) on the first 1,000 test
images, scored by our PolyMNIST classifiers. With both curves on the same data, a gap between our numbers and the reference library's published
ones can be put on the data (both libraries agree here) or on the implementation (they do not).

Runs in the reference library's environment (see ../shared/reference/README.md), never in the project's:

    .venv/bin/python reproductions/side_by_side/export_classifiers.py        # once, in ours: classifier weights as plain state dicts
    PYTHONPATH=../shared/reference/tv_stub OMP_NUM_THREADS=1 $REF/bin/python reproductions/side_by_side/reference_run.py MoPoE --epochs 20

Resumable: a checkpoint (model, optimizer, epoch, curve) every `--curve-every` epochs under runs/ (ignored); the curve is written to
side_by_side/results/reference_<model>_polymnist_curve.json as it grows.
"""
import argparse, itertools, json, os, platform, sys, time
from pathlib import Path
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get('MULTIVAE_NB_POLYMNIST', Path.home() / '.cache' / 'multivae_nb' / 'polymnist'))
MODS = [f'm{i}' for i in range(5)]


def load_split(split, n=None):
    from multivae.data.datasets.base import MultimodalBaseDataset
    d = {m: torch.load(CACHE / split / f'{m}.pt', weights_only=True)[:n].float() / 255 for m in MODS}   # uint8 -> [0, 1], as ours
    return MultimodalBaseDataset(d, torch.load(CACHE / split / 'labels.pt', weights_only=True)[:n])


def classifiers():
    "Our trained PolyMNIST classifiers (the published architecture), from the state dicts export_classifiers.py wrote."
    sd = torch.load(HERE / 'runs' / 'classifiers.pt', weights_only=True)
    out = {}
    for m in MODS:
        net = nn.Sequential(nn.Conv2d(3, 10, 4, 2, 1), nn.Dropout2d(0.5), nn.ReLU(), nn.Conv2d(10, 20, 4, 2, 1), nn.Dropout2d(0.5), nn.ReLU(),
                            nn.Flatten(), nn.Linear(980, 128), nn.Dropout(0.5), nn.ReLU(), nn.Linear(128, 10))
        net.load_state_dict(sd[m]); out[m] = net.eval()
    return out


def build(name):
    "The reference library's model with the published settings of our reproductions (MoPoE, MVTCAE) or of the case study (MVAE)."
    from pythae.models.base import BaseAEConfig
    from multivae import models as R
    from multivae.models.nn.mmnist import EncoderConvMMNIST, EncoderConvMMNIST_adapted, DecoderConvMMNIST
    L = 512
    common = dict(n_modalities=5, input_dims={m: (3, 28, 28) for m in MODS}, latent_dim=L, decoders_dist={m: 'laplace' for m in MODS},
                  decoder_dist_params={m: {'scale': 0.75} for m in MODS})
    a = BaseAEConfig(latent_dim=L, input_dim=(3, 28, 28))
    dec = {m: DecoderConvMMNIST(a) for m in MODS}
    if name == 'MVAE':   # the case study's settings (examples/case_studies/benchmarking_on_partial_polymnist/mvae.py), complete data
        return R.MVAE(R.MVAEConfig(**common, warmup=0, beta=2.5), {m: EncoderConvMMNIST_adapted(BaseAEConfig(latent_dim=L, input_dim=(3, 28, 28), style_dim=0)) for m in MODS}, dec), 5e-4
    enc = {m: EncoderConvMMNIST(a, bias=True) for m in MODS}          # the MoPoE paper's encoder: conv, Linear(2048, L), ReLU, linear heads
    if name == 'MoPoE': return R.MoPoE(R.MoPoEConfig(**common, beta=2.5), enc, dec), 1e-3
    if name == 'MVTCAE': return R.MVTCAE(R.MVTCAEConfig(**common, alpha=5 / 6, beta=2.5), enc, dec), 1e-3
    raise SystemExit(f"unknown model {name}: MoPoE, MVTCAE or MVAE")


@torch.no_grad()
def coherence_by_size(model, clfs, test, bs=500):
    "Micro coherence with k inputs, k = 1..4: the accuracy of our classifiers on each modality generated from each subset that excludes it."
    model.eval()
    hits = {k: 0 for k in range(1, 5)}; total = {k: 0 for k in range(1, 5)}
    for k in range(1, 5):
        for S in itertools.combinations(MODS, k):
            for i in range(0, len(test), bs):
                b = test[torch.arange(i, min(i + bs, len(test)))]
                out = model.predict(b, cond_mod=list(S), gen_mod='all', N=1)
                for t in MODS:
                    if t in S: continue
                    hits[k] += (clfs[t](out[t]).argmax(-1) == b.labels).sum().item(); total[k] += len(b.labels)
    model.train()
    return {f'coherence_{k}': hits[k] / total[k] for k in hits}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('model'); p.add_argument('--epochs', type=int, default=20); p.add_argument('--curve-every', type=int, default=2)
    p.add_argument('--n-train', type=int, default=None); p.add_argument('--curve-n', type=int, default=1000); p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    from multivae.trainers import BaseTrainer, BaseTrainerConfig
    torch.manual_seed(a.seed)
    model, lr = build(a.model)
    train, test = load_split('train', a.n_train), load_split('test', a.curve_n)
    run = HERE / 'runs' / f'reference_{a.model}_s{a.seed}'; run.mkdir(parents=True, exist_ok=True)
    res_path = HERE / 'results' / f'reference_{a.model.lower()}_polymnist_curve.json'
    cfg = BaseTrainerConfig(output_dir=str(run / 'trainer'), num_epochs=a.epochs, learning_rate=lr, per_device_train_batch_size=256,
                            drop_last=True, seed=a.seed)
    trainer = BaseTrainer(model, train_dataset=train, training_config=cfg)
    ck = run / 'checkpoint.pt'
    state = {'epoch': 0, 'curve': [], 'epoch_times': []}
    if ck.exists():
        saved = torch.load(ck, weights_only=False)
        model.load_state_dict(saved['model']); trainer.optimizer.load_state_dict(saved['optimizer']); state = saved['state']
        torch.set_rng_state(saved['rng'])
        print(f"resumed at epoch {state['epoch']}", flush=True)
    clfs = classifiers()
    for epoch in range(state['epoch'] + 1, a.epochs + 1):
        t = time.time(); loss, metrics = trainer.train_step(epoch); state['epoch_times'].append(time.time() - t)
        kl = {k: round(float(v), 3) for k, v in metrics.items() if k.lower().startswith('kl')}   # MVAE: is the joint posterior collapsing?
        state['epoch'] = epoch
        print(f"epoch {epoch} loss {loss:.1f} ({state['epoch_times'][-1]:.0f} s) {kl}", flush=True)
        state.setdefault('kl', []).append({'epoch': epoch, **kl})
        if epoch % a.curve_every == 0 or epoch == a.epochs:
            state['curve'].append({'epoch': epoch, 'train_loss': float(loss), **coherence_by_size(model, clfs, test)})
            print(state['curve'][-1], flush=True)
            torch.save({'model': model.state_dict(), 'optimizer': trainer.optimizer.state_dict(), 'state': state, 'rng': torch.get_rng_state()}, ck)
            res_path.write_text(json.dumps({
                'what': f"the reference library's {a.model} trained on this repository's rebuilt PolyMNIST, scored by our classifiers "
                        f"(coherence with k inputs, targets outside the inputs, micro, first {a.curve_n} test images)",
                'library': 'multivae 1.0.3', 'model': a.model, 'learning_rate': lr, 'batch_size': 256, 'seed': a.seed, 'n_train': len(train),
                'epochs_done': epoch, 'epochs_planned': a.epochs, 'learning_curve': state['curve'], 'kl_terms': state.get('kl', []),
                'mean_epoch_s': sum(state['epoch_times']) / len(state['epoch_times']), 'threads': torch.get_num_threads(),
                'torch': torch.__version__, 'machine': f"{platform.machine()}, {os.cpu_count()} cores, CPU", 'date': time.strftime('%Y-%m-%d')}, indent=1))


if __name__ == '__main__':
    main()
