"""Training speed of this library and of the reference library (MultiVae 1.0.3), measured side by side in one run, on one machine.

    python benchmarks/side_by_side.py                              # 8 models x 1 and 2 threads -> benchmarks/results/side_by_side_mlp.json
    python benchmarks/side_by_side.py --models JMVAE MVAE --threads 2 --epochs 3 --out /tmp/sbs.json
    python benchmarks/make_speed_table.py                          # then regenerate the README's speed table from the JSON

For each model, and for each thread count, the reference library runs first (benchmarks/bench_reference.py, in its own environment
--ref-python), then this library (benchmarks/bench_training.py --child --nets reference, in this environment), each in its own subprocess with
OMP_NUM_THREADS = MKL_NUM_THREADS = torch threads = the thread count; runs are one after the other, never two at once, interleaved per model
so that machine noise hits both libraries alike. Both train on the same tensors (written once to a temporary .pt file; their SHA-256 is
checked in both rows) with the same setting: 6,000 MNIST-shaped samples (binary 1x28x28 image + one-hot label), latent 20, the reference's
default MLP networks, Bernoulli image / categorical label likelihoods, batch 128, Adam lr 1e-3, MMVAE and MMVAE+ with K=10 and DReG, MMVAE+
with a private latent of 10; JNF and TELBO timed per stage (see bench_training.py). Each row also holds the alignment checks: the same
likelihood values on fixed logits (weights-free), the parameter counts, and the first batch's loss per sample at initialisation.

The reference library imports torchvision; on this project's machines it runs with a stand-in torchvision on its PYTHONPATH
(--ref-pythonpath, default /work/shared/reference/tv_stub; see /work/shared/reference/README.md). The stand-in is never part of this project.

Run it on an idle machine. The 1-minute load average is recorded before and after; if it was above --max-load (0.5) before the run, the JSON
is written with "provisional": true (make_speed_table.py refuses it) unless --allow-busy is given.
"""
from __future__ import annotations
import argparse, json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_training import BATCH, LATENT, MODELS, N, NETWORKS, PRIVATE_DIM, data_fingerprint, make_data  # noqa: E402

OUT = HERE / 'results' / 'side_by_side_mlp.json'


def _versions(python: str, env: dict) -> dict:
    code = ("import json, platform, importlib.metadata as md, torch\n"
            "v = {'python': platform.python_version(), 'torch': torch.__version__}\n"
            "for p in ('multivae', 'pythae', 'multivae_nb'):\n"
            "    try: v[p] = md.version(p)\n"
            "    except md.PackageNotFoundError: pass\n"
            "print(json.dumps(v))")
    out = subprocess.run([python, '-c', code], env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0: raise SystemExit(f"{python} cannot import torch:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env(threads: int, pythonpath: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if pythonpath: env['PYTHONPATH'] = pythonpath
    return env


def _run(cmd: list, env: dict, timeout: float | None) -> dict:
    "One child run: its JSON row, or {'error': ...}."
    t0 = time.perf_counter()
    try: out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired: return {'error': f'timed out after {timeout} s', 'cmd': ' '.join(cmd)}
    wall = time.perf_counter() - t0
    if out.returncode != 0: return {'error': f'exit {out.returncode}', 'stderr_tail': out.stderr[-3000:], 'cmd': ' '.join(cmd)}
    try: row = json.loads(out.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError): return {'error': 'no JSON row on stdout', 'stdout_tail': out.stdout[-2000:], 'cmd': ' '.join(cmd)}
    row['process_wall_s'] = round(wall, 2)
    return row


def _alignment(ref: dict, ours: dict, fingerprint: str) -> dict:
    lik = {m: round(abs(ref['likelihood_check'][m] - ours['likelihood_check'][m]), 4) for m in ref['likelihood_check']}
    return {'same_data': ref['data_sha256'] == ours['data_sha256'] == fingerprint,
            'likelihood_check_abs_diff': lik, 'likelihoods_agree': all(v <= 1e-3 * max(1., abs(ours['likelihood_check'][m])) for m, v in lik.items()),
            'n_parameters': {'reference': ref['n_parameters'], 'ours': ours['n_parameters']},
            'n_trainable_parameters': {'reference': ref['n_trainable_parameters'], 'ours': ours['n_trainable_parameters']},
            'same_trainable_parameter_count': ref['n_trainable_parameters'] == ours['n_trainable_parameters'],
            'first_batch_loss_per_sample': {'reference': ref['first_batch_loss_per_sample'], 'ours': ours['first_batch_loss_per_sample']}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--models', nargs='+', default=MODELS, choices=MODELS)
    p.add_argument('--threads', nargs='+', type=int, default=[1, 2])
    p.add_argument('--epochs', type=int, default=5, help='timed epochs (the median is reported); per stage for JNF and TELBO')
    p.add_argument('--warmup-epochs', type=int, default=1, help='untimed first epochs (of each stage for JNF and TELBO)')
    p.add_argument('--n-samples', type=int, default=N)
    p.add_argument('--out', default=str(OUT))
    p.add_argument('--ref-python', default='/tmp/multivae-ref/bin/python', help="the reference library's environment")
    p.add_argument('--ref-pythonpath', default='/work/shared/reference/tv_stub',
                   help="PYTHONPATH of the reference runs (the stand-in torchvision on this project's machines; '' for none)")
    p.add_argument('--ref-decoders', choices=['logits', 'default'], default='logits', help='see bench_reference.py --decoders')
    p.add_argument('--our-python', default=sys.executable, help="this library's environment (default: the running interpreter)")
    p.add_argument('--no-bf16', dest='bf16', action='store_false',
                   help="skip the third run per model: this library under bf16 autocast (BaseTrainerConfig(amp=True)), reported as ours_bf16 / ratio_bf16")
    p.add_argument('--max-load', type=float, default=0.5, help='1-minute load average above which the machine counts as busy')
    p.add_argument('--allow-busy', action='store_true', help='write the JSON as final even if the machine was busy before the run')
    p.add_argument('--timeout', type=float, default=3600, help='seconds allowed to one child run')
    a = p.parse_args(argv)

    load_before = os.getloadavg()[0]
    idle = load_before <= a.max_load
    if not idle:
        print(f"warning: 1-minute load average {load_before:.2f} > {a.max_load} before the run: the timings are not trustworthy"
              + ('' if a.allow_busy else '; the JSON will be provisional'), file=sys.stderr, flush=True)
    ref_env0, our_env0 = _env(1, a.ref_pythonpath or None), _env(1, str(ROOT))
    versions = {'reference_env': _versions(a.ref_python, ref_env0), 'our_env': _versions(a.our_python, our_env0)}
    if 'multivae' not in versions['reference_env']: raise SystemExit(f"{a.ref_python} has no multivae installed.")

    res = {'date': time.strftime('%Y-%m-%d'), 'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
           'setting': {'n_samples': a.n_samples, 'modalities': {'images': [1, 28, 28], 'labels': [10]}, 'latent_dim': LATENT, 'batch_size': BATCH,
                       'likelihoods': {'images': 'bernoulli', 'labels': 'categorical'}, 'optimizer': 'Adam lr 1e-3',
                       'networks': NETWORKS['reference'],
                       'reference_decoders': {'logits': "the reference's default decoders with their final Sigmoid replaced by the identity "
                                                        "(outputs are logits, as both libraries' likelihoods read them)",
                                              'default': "the reference's default decoders as built (final Sigmoid, its output read as logits)"}[a.ref_decoders],
                       'models': {'MMVAE': 'K=10, DReG', 'MMVAEPlus': f'K=10, DReG, private latent {PRIVATE_DIM}',
                                  'JNF': 'two stages (joint VAE, then unconditional MAF flows 2 x MADE 3 x 128); s/epoch: mean of the stage medians',
                                  'TELBO': 'two stages (joint, then unimodal); likelihood weights max_dim / dim_m; s/epoch: mean of the stage medians'},
                       'timed_epochs': a.epochs, 'untimed_epochs': a.warmup_epochs,
                       'timing': "reference: its trainer's train_step(epoch); this library: its trainer's epoch_time_s (train_epoch); "
                                 "median over the timed epochs; ratio = reference s/epoch / this library's s/epoch (> 1: this library is faster)",
                       'order': 'per model, per thread count: reference, then this library in float32, then this library under bf16 autocast; '
                                'one process at a time'},
           'machine': {'platform': platform.platform(), 'machine': platform.machine(), 'processor': platform.processor(),
                       'cpu_count': os.cpu_count(), 'python': platform.python_version(), **versions},
           'loadavg_1min_before': round(load_before, 2), 'max_load': a.max_load, 'machine_idle_checked': idle,
           'provisional': True, 'complete': False, 'results': [], 'failures': []}
    out_path = Path(a.out); out_path.parent.mkdir(parents=True, exist_ok=True)

    def write():
        out_path.write_text(json.dumps(res, indent=1) + '\n')

    with tempfile.TemporaryDirectory(prefix='side_by_side_') as tmp:
        import torch
        data = make_data(a.n_samples)
        data_path = str(Path(tmp) / 'data.pt'); torch.save(data, data_path)
        fp = data_fingerprint(data); res['setting']['data_sha256'] = fp
        common = ['--epochs', str(a.epochs), '--warmup-epochs', str(a.warmup_epochs), '--n-samples', str(a.n_samples), '--data', data_path]
        for m in a.models:
            for t in a.threads:
                load = round(os.getloadavg()[0], 2)
                ref = _run([a.ref_python, str(HERE / 'bench_reference.py'), '--model', m, '--threads', str(t), '--decoders', a.ref_decoders, *common],
                           _env(t, a.ref_pythonpath or None), a.timeout)
                ours = _run([a.our_python, str(HERE / 'bench_training.py'), '--child', '--models', m, '--threads', str(t), '--nets', 'reference', *common],
                            _env(t, str(ROOT)), a.timeout)
                ours_bf16 = _run([a.our_python, str(HERE / 'bench_training.py'), '--child', '--models', m, '--threads', str(t), '--nets', 'reference',
                                  '--amp', *common], _env(t, str(ROOT)), a.timeout) if a.bf16 else None
                row = {'model': m, 'threads': t, 'loadavg_1min_at_start': load, 'reference': ref, 'ours': ours}
                if ours_bf16 is not None:
                    row['ours_bf16'] = ours_bf16
                    if 'error' not in ours_bf16 and 'error' not in ref:
                        row['ratio_bf16'] = round(ref['s_per_epoch_median'] / ours_bf16['s_per_epoch_median'], 3)
                if 'error' in ref or 'error' in ours:
                    res['failures'].append({'model': m, 'threads': t, **{k: v for k, v in (('reference', ref), ('ours', ours)) if 'error' in v}})
                    print(f"{m:9s} threads={t}  FAILED: " + '; '.join(f"{k}: {v['error']}" for k, v in (('reference', ref), ('ours', ours)) if 'error' in v),
                          flush=True)
                else:
                    row['ratio'] = round(ref['s_per_epoch_median'] / ours['s_per_epoch_median'], 3)
                    row['alignment'] = _alignment(ref, ours, fp)
                    if not row['alignment']['same_data']: raise SystemExit(f"{m}: the two runs did not train on the same tensors.")
                    print(f"{m:9s} threads={t}  reference {ref['s_per_epoch_median']:.3f} s/epoch  ours {ours['s_per_epoch_median']:.3f} s/epoch  "
                          f"ratio {row['ratio']:.2f}  peak RSS {ref['peak_rss_mb']:.0f} / {ours['peak_rss_mb']:.0f} MB"
                          + (f"  bf16 {ours_bf16['s_per_epoch_median']:.3f} s/epoch ratio {row['ratio_bf16']:.2f}" if 'ratio_bf16' in row else '')
                          + ('' if row['alignment']['likelihoods_agree'] else '  LIKELIHOODS DISAGREE'), flush=True)
                res['results'].append(row); write()
    load_after = os.getloadavg()[0]
    res.update(loadavg_1min_after=round(load_after, 2), finished=time.strftime('%Y-%m-%dT%H:%M:%S%z'), complete=not res['failures'],
               provisional=not (idle or a.allow_busy))
    write()
    print(f"wrote {out_path}" + (' (provisional: the machine was busy)' if res['provisional'] else '')
          + (f"; {len(res['failures'])} run(s) failed" if res['failures'] else ''))
    return 1 if res['failures'] else 0


if __name__ == '__main__':
    sys.exit(main())
