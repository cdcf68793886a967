"""Where a training step's time goes, and what fraction of the machine's peak it reaches (the speed issue's "profile first").

    python benchmarks/profile_step.py --setting polymnist --model MoPoE --threads 1 [--amp]
    python benchmarks/profile_step.py --all --out benchmarks/results/profile.json     # every model of settings 1 and 2, float32 and bf16, 1 and 2 threads

For one model and setting: the median time of a training step (forward, backward, Adam step, as the trainer runs it: fused Adam, denormals flushed) over `--steps` steps after two warm-up steps, the
floating-point operations of one step (those torch.profiler counts — matrix products, forward and backward, and forward convolutions — plus
2 x the forward convolutions for their backward, which it does not count), the achieved GFLOP/s, and the fraction of this machine's peak: a 2048 x 2048 matrix product in the same precision at the same thread
count, measured here. Also the ten operators with the largest self CPU time. Settings: 'mlp' is bench_training.py's (6,000 MNIST-shaped samples,
the reference's default MLPs, batch 128); 'polymnist' is polymnist_side_by_side.py's networks and batches (random inputs of the right shape).
Run it on an idle machine, one process at a time (`--all` runs each case in its own subprocess).
"""
from __future__ import annotations
import argparse, json, os, platform, statistics, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
MLP_MODELS = ('JMVAE', 'MVAE', 'MMVAE', 'MVTCAE', 'MoPoE', 'MMVAEPlus', 'JNF', 'TELBO')
POLY_MODELS = ('MoPoE', 'MVTCAE', 'MMVAE', 'MMVAEPlus')


def peak_gflops(dtype: str, n: int = 2048, reps: int = 5) -> float:
    "GFLOP/s of an n x n matrix product in `dtype` at the current thread count (best of `reps`)."
    import torch
    dt = {'float32': torch.float32, 'bfloat16': torch.bfloat16}[dtype]
    a, b = torch.randn(n, n).to(dt), torch.randn(n, n).to(dt)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(reps))
    return 2 * n ** 3 / best / 1e9


def _timed(f) -> float:
    t = time.perf_counter(); f(); return time.perf_counter() - t


def build(setting: str, model_name: str):
    "(model, batch) of the setting."
    import torch
    torch.manual_seed(0)
    if setting == 'mlp':
        from bench_training import build_model, make_data, BATCH, STAGED
        d = make_data(BATCH)
        model = build_model(model_name, 'reference', 1)
        return model, {'data': {'images': d['images'], 'labels': d['labels']}}, model_name in STAGED
    from polymnist_side_by_side import build_ours, SETTING, MODS
    B = SETTING[model_name]['batch']
    return build_ours(model_name), {'data': {m: torch.rand(B, 3, 28, 28) for m in MODS}}, False


def profile_one(setting: str, model_name: str, threads: int, amp: bool, steps: int = 5) -> dict:
    import torch
    from torch.profiler import profile, ProfilerActivity
    torch.set_num_threads(threads)
    from multivae_nb.trainers import BaseTrainerConfig
    from multivae_nb.trainers.config import build_optimizer
    model, batch, staged = build(setting, model_name)
    cfg = BaseTrainerConfig(learning_rate=1e-3, optimizer_cls='Adam')   # the trainer's optimizer (fused Adam) and denormal flushing
    opt = build_optimizer(model.parameters(), cfg)
    torch.set_flush_denormal(cfg.flush_denormal)
    def step():
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
            out = model(batch, stage='joint') if staged else model(batch)
        opt.zero_grad(set_to_none=True); out.loss.backward(); opt.step()
    for _ in range(2): step()
    times = [_timed(step) for _ in range(steps)]
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof: step()
    ev = prof.key_averages()
    counted = sum(e.flops for e in ev if e.flops)
    conv_fwd = sum(e.flops for e in ev if e.flops and 'conv' in e.key)
    flops = counted + 2 * conv_fwd   # the profiler counts no convolution backward: its two products (input and weight gradients) ≈ 2 x forward
    top = sorted(ev, key=lambda e: e.self_cpu_time_total, reverse=True)[:10]
    total_self = sum(e.self_cpu_time_total for e in ev) or 1
    s = statistics.median(times)
    peak = peak_gflops('bfloat16' if amp else 'float32')
    return {'setting': setting, 'model': model_name, 'threads': threads, 'precision': 'bf16 autocast' if amp else 'float32',
            's_per_step': round(s, 4), 'gflop_per_step': round(flops / 1e9, 3), 'gflop_counted_by_profiler': round(counted / 1e9, 3),
            'gflop_conv_forward': round(conv_fwd / 1e9, 3), 'achieved_gflops': round(flops / 1e9 / s, 1),
            'peak_gflops_matmul': round(peak, 1), 'fraction_of_peak': round(flops / 1e9 / s / peak, 3),
            'top_ops': [{'op': e.key, 'self_cpu_share': round(e.self_cpu_time_total / total_self, 3), 'calls': e.count} for e in top],
            'torch': torch.__version__}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--setting', choices=['mlp', 'polymnist'], default='polymnist')
    p.add_argument('--model', default='MoPoE')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--amp', action='store_true')
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--all', action='store_true')
    p.add_argument('--out', default=None)
    a = p.parse_args(argv)
    if not a.all:
        row = profile_one(a.setting, a.model, a.threads, a.amp, a.steps)
        print(json.dumps(row)); return 0
    rows = []
    cases = [(s, m) for s, ms in (('mlp', MLP_MODELS), ('polymnist', POLY_MODELS)) for m in ms]
    for setting, model in cases:
        for th in (1, 2):
            for amp in (False, True):
                env = dict(os.environ, OMP_NUM_THREADS=str(th), MKL_NUM_THREADS=str(th))
                cmd = [sys.executable, __file__, '--setting', setting, '--model', model, '--threads', str(th), '--steps', str(a.steps)] + (['--amp'] if amp else [])
                out = subprocess.run(cmd, env=env, capture_output=True, text=True)
                row = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 and out.stdout.strip() else {
                    'setting': setting, 'model': model, 'threads': th, 'amp': amp, 'error': out.stderr[-2000:]}
                rows.append(row); print(json.dumps({k: row.get(k) for k in ('setting', 'model', 'threads', 'precision', 's_per_step', 'fraction_of_peak')}), flush=True)
    res = {'date': time.strftime('%Y-%m-%d %H:%M'), 'machine': f"{platform.machine()}, {os.cpu_count()} cores", 'load_before': os.getloadavg()[0], 'rows': rows}
    out = Path(a.out or HERE / 'results' / 'profile.json'); out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(res, indent=1))
    print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
