"""What the check of every model call costs: `check_call_inputs` (the forward pre-hook) against a whole training step of the same model.

The two settings of the speed benchmarks where the check weighs most: the MLP setting (JMVAE and MoPoE, batch 128 of a 1x28x28 binary image and a
one-hot label, latent 20, MultiVae's default 512-512 MLPs: the cheapest step of the library) and PolyMNIST MoPoE (5 modalities 3x28x28, the published
convolutional networks, latent 512, batch 256), half of its batch with missing modalities so that the mask part of the check runs too. For each, the
median over repeats of: one step (forward, backward and Adam) with the check switched off (`model.check_inputs = False`), and the check alone;
interleaved, so that both see the same load. Writes `benchmarks/results/input_check.json`.

    OMP_NUM_THREADS=1 python benchmarks/bench_input_check.py [--repeats 30]
"""
import argparse, json, os, platform, statistics, time
from datetime import datetime, timezone
from pathlib import Path
import torch

HERE = Path(__file__).resolve().parent


def mlp_setting(name: str):
    import multivae_nb.models as M
    from multivae_nb.nn import MLPEncoder, MLPDecoder
    from multivae_nb.data import DatasetOutput
    dims = {'images': (1, 28, 28), 'labels': (10,)}
    common = dict(input_dims=dims, latent_dim=20, decoders_dist={'images': 'bernoulli', 'labels': 'categorical'})
    nets = dict(encoders={m: MLPEncoder(s, 20, (512, 512)) for m, s in dims.items()}, decoders={m: MLPDecoder(20, s, (512,)) for m, s in dims.items()})
    model = {'JMVAE': lambda: M.JMVAE(M.JMVAEConfig(**common), **nets), 'MoPoE': lambda: M.MoPoE(M.MoPoEConfig(**common), **nets)}[name]()
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(128, 1, 28, 28, generator=g) > 0.5).float()
    y = torch.nn.functional.one_hot(torch.randint(0, 10, (128,), generator=g), 10).float()
    return model, DatasetOutput(data={'images': x, 'labels': y})


def polymnist_setting():
    import multivae_nb.models as M
    from multivae_nb.nn import PolyMNISTConvEncoder, PolyMNISTConvDecoder
    from multivae_nb.data import DatasetOutput
    mods = [f'm{i}' for i in range(5)]
    cfg = M.MoPoEConfig(input_dims={m: (3, 28, 28) for m in mods}, latent_dim=512, beta=2.5,
                        decoders_dist={m: 'laplace' for m in mods}, decoder_dist_params={m: {'scale': 0.75} for m in mods})
    model = M.MoPoE(cfg, {m: PolyMNISTConvEncoder(512) for m in mods}, {m: PolyMNISTConvDecoder(512) for m in mods})
    g = torch.Generator().manual_seed(0)
    data = {m: torch.rand(256, 3, 28, 28, generator=g) for m in mods}
    masks = {m: torch.ones(256, dtype=torch.bool) for m in mods}
    for j, m in enumerate(mods[1:]): masks[m][j::8] = False          # some samples miss a modality: the mask part of the check runs
    return model, DatasetOutput(data=data, masks=masks)


def measure(model, batch, repeats: int) -> dict:
    from multivae_nb.models.base import check_call_inputs
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train(); model.check_inputs = False
    def step():
        opt.zero_grad(set_to_none=True); model(batch, epoch=1).loss.backward(); opt.step()
    def check(): check_call_inputs(model, batch)
    for _ in range(2): step(); check()                                  # warm-up
    steps, checks = [], []
    for _ in range(repeats):
        t = time.perf_counter(); step(); steps.append(time.perf_counter() - t)
        t = time.perf_counter()
        for _ in range(10): check()
        checks.append((time.perf_counter() - t) / 10)
    s, c = statistics.median(steps), statistics.median(checks)
    return {'step_ms': round(1e3 * s, 3), 'check_ms': round(1e3 * c, 4), 'check_over_step_percent': round(100 * c / s, 3)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--repeats', type=int, default=30)
    p.add_argument('--out', default=str(HERE / 'results' / 'input_check.json'))
    a = p.parse_args()
    torch.manual_seed(0)
    rows = {}
    for name, build in (('MLP JMVAE (batch 128)', lambda: mlp_setting('JMVAE')), ('MLP MoPoE (batch 128)', lambda: mlp_setting('MoPoE')),
                        ('PolyMNIST MoPoE (batch 256, conv)', polymnist_setting)):
        model, batch = build()
        rows[name] = measure(model, batch, a.repeats if 'PolyMNIST' not in name else max(3, a.repeats // 5))
        print(f"{name:36s} step {rows[name]['step_ms']:9.2f} ms   check {rows[name]['check_ms']:7.3f} ms   "
              f"{rows[name]['check_over_step_percent']:.2f} % of a step", flush=True)
    rec = {'what': 'check_call_inputs (every model call) vs one training step (forward, backward, Adam), medians', 'results': rows,
           'threads': torch.get_num_threads(), 'date': datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'), 'torch': torch.__version__,
           'machine': f"{platform.machine()}, {os.cpu_count()} cores", 'load_average_at_end': os.getloadavg()[0]}
    Path(a.out).write_text(json.dumps(rec, indent=1) + '\n')
    print('wrote', a.out)


if __name__ == '__main__':
    main()
