"""PolyMNIST training speed of this library and of the reference library (MultiVae 1.0.3), side by side in one run (the speed issue's setting 2).

    python benchmarks/polymnist_side_by_side.py                                   # 4 models x 1 and 2 threads -> results/side_by_side_polymnist.json
    python benchmarks/polymnist_side_by_side.py --models MoPoE --threads 2 --out /tmp/p.json
    python benchmarks/polymnist_side_by_side.py --models MVTCAE --merge                # add or replace MVTCAE's rows, keep the others

Models and networks (both libraries build the same layers; the parameter counts are checked equal in each row):
- MoPoE (beta 2.5) and MVTCAE (alpha 5/6, beta 2.5): the case study's conv encoder with convolutional heads (ours `PolyMNISTConvHeadEncoder`,
  theirs `EncoderConvMMNIST_adapted`) and the conv decoder (`PolyMNISTConvDecoder` / `DecoderConvMMNIST`), latent 512, Laplace likelihoods of
  scale 0.75, batch 256, Adam lr 1e-3;
- MMVAE: the same networks, K = 10, DReG (theirs 'dreg_looser'), Laplace-softmax latents, fixed prior scale, batch 256;
- MMVAE+: the MMVAE+ ResNets (`PolyMNISTResnetEncoder(32, 32)` + `PolyMNISTResnetDecoder(64)` / `EncoderResnetMMNIST(32, 32)` +
  `DecoderResnetMMNIST(64)`), shared 32 + private 32, K = 1, beta 2.5, batch 32, Adam amsgrad lr 1e-3.
Data: the first 10,000 training samples of this library's PolyMNIST (written once to a temporary .pt file that both libraries read; its SHA-256
is in every row). MoPoE and MVTCAE train on all 10,000 (40 steps per epoch); MMVAE (≈ 20-40 s per step at K = 10) on its first 512 and MMVAE+
on its first 320 (10 steps of 32), so that an epoch is a few steps; every row gives seconds per step and the epoch times they imply for the 10,000
subset and the full 60,000. Each library runs `--epochs` timed epochs after one untimed epoch; the median is reported.
This library runs twice: in float32 (the reference's precision) and with bf16 autocast (`amp=True`, its fast path; `tests/test_accuracy_guard.py`
bounds what it changes). The reference first, then ours, per model and thread count, one process at a time (OMP_NUM_THREADS = threads).

The reference library needs its own environment and, on this project's machines, the stand-in torchvision on its PYTHONPATH
(/work/shared/reference/README.md); neither is part of this project. Run on an idle machine: the load average is recorded before and after,
and a run started above --max-load is written "provisional".
"""
from __future__ import annotations
import argparse, hashlib, json, os, platform, resource, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from side_by_side import _env, _run  # noqa: E402  (the thread environment and the child runner of the MLP setting)
OUT = HERE / 'results' / 'side_by_side_polymnist.json'
MODELS = ('MoPoE', 'MVTCAE', 'MMVAE', 'MMVAEPlus')
MODS = [f'm{i}' for i in range(5)]
SETTING = {'MoPoE': dict(batch=256, n=10000), 'MVTCAE': dict(batch=256, n=10000), 'MMVAE': dict(batch=256, n=512),
           'MMVAEPlus': dict(batch=32, n=320)}


def median(x):
    x = sorted(x); n = len(x)
    return x[n // 2] if n % 2 else (x[n // 2 - 1] + x[n // 2]) / 2


def sha256_of(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_data(path, n: int = 10000) -> str:
    "The first n PolyMNIST training samples (float32 in [0, 1]) and labels, saved for both libraries; returns the file's SHA-256."
    import torch
    sys.path.insert(0, str(ROOT / 'reproductions'))
    from polymnist_tools import load_data
    train, _ = load_data()
    b = train[torch.arange(n)]
    torch.save({'data': {m: b['data'][m].contiguous() for m in MODS}, 'labels': b['labels']}, path)
    return sha256_of(path)


# ------------------------------------------------------------------ children (one process each)
def build_ours(model_name: str):
    "This library's model of the setting (the networks of the docstring), initialised under the caller's seed."
    from multivae_nb import models as M
    from multivae_nb.nn import PolyMNISTConvHeadEncoder, PolyMNISTConvDecoder, PolyMNISTResnetEncoder, PolyMNISTResnetDecoder
    dims = {m: (3, 28, 28) for m in MODS}
    lap = dict(decoders_dist=dict.fromkeys(dims, 'laplace'), decoder_dist_params={m: {'scale': 0.75} for m in dims})
    if model_name == 'MMVAEPlus':
        model = M.MMVAEPlus(M.MMVAEPlusConfig(input_dims=dims, latent_dim=32, modalities_specific_dim=32, K=1, beta=2.5, **lap),
                            {m: PolyMNISTResnetEncoder(32, style_dim=32) for m in dims}, {m: PolyMNISTResnetDecoder(64) for m in dims})
    else:
        cfg = {'MoPoE': lambda: M.MoPoEConfig(input_dims=dims, latent_dim=512, beta=2.5, **lap),
               'MVTCAE': lambda: M.MVTCAEConfig(input_dims=dims, latent_dim=512, alpha=5 / 6, beta=2.5, **lap),
               'MMVAE': lambda: M.MMVAEConfig(input_dims=dims, latent_dim=512, K=10, learn_prior=False, **lap)}[model_name]()
        model = getattr(M, model_name)(cfg, {m: PolyMNISTConvHeadEncoder(512) for m in dims}, {m: PolyMNISTConvDecoder(512) for m in dims})
    return model


def child_ours(model_name: str, threads: int, epochs: int, data: str, amp: bool, n: int | None = None) -> dict:
    import torch
    torch.set_num_threads(threads)
    import multivae_nb
    from multivae_nb.data import MultimodalBaseDataset
    from multivae_nb.trainers import BaseTrainer, BaseTrainerConfig
    s = SETTING[model_name]; n = n or s['n']
    d = torch.load(data)
    ds = MultimodalBaseDataset({m: x[:n] for m, x in d['data'].items()}, labels=d['labels'][:n])
    torch.manual_seed(0)
    model = build_ours(model_name)
    n_params = sum(p.numel() for net in (model.encoders, model.decoders) for p in net.parameters())   # the networks (priors differ in form)
    cfg = BaseTrainerConfig(num_epochs=1 + epochs, per_device_train_batch_size=s['batch'], learning_rate=1e-3, optimizer_cls='Adam',
                            optimizer_params={'amsgrad': True} if model_name == 'MMVAEPlus' else None, amp=amp, show_progress=False, seed=0)
    hist = BaseTrainer(model, ds, training_config=cfg).train()
    t = [h['epoch_time_s'] for h in hist[1:]]
    return dict(library='multivae_nb', library_version=multivae_nb.__version__, precision='bf16 autocast' if amp else 'float32',
                s_per_epoch_all=[round(x, 3) for x in t], n_params=n_params, n=n, torch=torch.__version__)


def child_reference(model_name: str, threads: int, epochs: int, data: str, n: int | None = None) -> dict:
    import logging, importlib.metadata as md
    import torch
    torch.set_num_threads(threads)
    import multivae.models as R
    from multivae.data import MultimodalBaseDataset
    from multivae.models.nn.mmnist import EncoderConvMMNIST_adapted, DecoderConvMMNIST, EncoderResnetMMNIST, DecoderResnetMMNIST
    from multivae.trainers import BaseTrainer, BaseTrainerConfig
    from bench_reference import timed_trainer
    from pythae.models.base.base_config import BaseAEConfig
    for lg in list(logging.root.manager.loggerDict):
        if lg.startswith(('multivae', 'pythae')): logging.getLogger(lg).setLevel(logging.WARNING)
    s = SETTING[model_name]; n = n or s['n']
    d = torch.load(data)
    ds = MultimodalBaseDataset(data={m: x[:n] for m, x in d['data'].items()}, labels=d['labels'][:n])
    torch.manual_seed(0)
    dims = {m: (3, 28, 28) for m in MODS}
    common = dict(n_modalities=5, input_dims=dims, decoders_dist=dict.fromkeys(dims, 'laplace'), decoder_dist_params={m: {'scale': 0.75} for m in dims})
    if model_name == 'MMVAEPlus':
        cfg = R.MMVAEPlusConfig(**common, latent_dim=32, modalities_specific_dim=32, K=1, beta=2.5, loss='dreg_looser',
                                prior_and_posterior_dist='laplace_with_softmax', learn_shared_prior=False, learn_modality_prior=True)
        model = R.MMVAEPlus(cfg, encoders={m: EncoderResnetMMNIST(32, 32) for m in dims}, decoders={m: DecoderResnetMMNIST(64) for m in dims})
    else:
        cfg = {'MoPoE': lambda: R.MoPoEConfig(**common, latent_dim=512, beta=2.5),
               'MVTCAE': lambda: R.MVTCAEConfig(**common, latent_dim=512, alpha=5 / 6, beta=2.5),
               'MMVAE': lambda: R.MMVAEConfig(**common, latent_dim=512, K=10, loss='dreg_looser', prior_and_posterior_dist='laplace_with_softmax',
                                              learn_prior=False)}[model_name]()
        net_cfg = BaseAEConfig(input_dim=(3, 28, 28), latent_dim=512)
        model = getattr(R, model_name)(cfg, encoders={m: EncoderConvMMNIST_adapted(net_cfg) for m in dims},
                                       decoders={m: DecoderConvMMNIST(net_cfg) for m in dims})
    n_params = sum(p.numel() for net in (model.encoders, model.decoders) for p in net.parameters())   # the networks (priors differ in form)

    Timed = timed_trainer(BaseTrainer)
    with tempfile.TemporaryDirectory(prefix='bench_reference_') as tmp:
        tc = BaseTrainerConfig(output_dir=tmp, num_epochs=1 + epochs, per_device_train_batch_size=s['batch'], learning_rate=1e-3,
                               optimizer_cls='Adam', optimizer_params={'amsgrad': True} if model_name == 'MMVAEPlus' else None)
        trainer = Timed(model, ds, training_config=tc); trainer.train()
    t = [x for _, x in trainer.epoch_times][1:]
    return dict(library='multivae', library_version=md.version('multivae'), precision='float32', s_per_epoch_all=[round(x, 3) for x in t],
                n_params=n_params, n=n, torch=torch.__version__)


def _finish(row: dict, model_name: str, threads: int) -> dict:
    s = SETTING[model_name]
    steps = -(-row['n'] // s['batch'])
    med = median(row['s_per_epoch_all'])
    row.update(model=model_name, threads=threads, batch=s['batch'], steps_per_epoch=steps, s_per_epoch_median=round(med, 3),
               s_per_step=round(med / steps, 4), implied_s_per_epoch_10k=round(med / steps * -(-10000 // s['batch']), 1),
               implied_s_per_epoch_60k=round(med / steps * -(-60000 // s['batch']), 1),
               peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    return row


# ------------------------------------------------------------------ the README table
START, END = '<!-- speed-polymnist:start (generated by benchmarks/polymnist_side_by_side.py --readme) -->', '<!-- speed-polymnist:end -->'
NAMES = {'MMVAE': 'MMVAE (K = 10)', 'MMVAEPlus': 'MMVAE+ (ResNets, K = 1)'}


def table(res: dict) -> str:
    "Markdown table of a results file: seconds per step of each library, the ratios, the implied 60,000-sample epoch."
    rows = [r for r in res['rows'] if 'ratio_float32' in r]
    out = [f"Measured side by side ({res['machine']}; each row's date and 1-minute load average before it in the last column"
           f"{'; PROVISIONAL: the machine was busy' if res.get('provisional') else ''}). Same 10,000 PolyMNIST samples "
           "and networks in both libraries (parameter counts equal); seconds per training step (median over the timed epochs); ratio = the "
           "reference's time ÷ ours (> 1: ours is faster); ours in float32 and with bf16 autocast (`amp=True`).", '',
           '| model | threads | batch | reference (s/step) | ours float32 (s/step) | ours bf16 (s/step) | ratio float32 | ratio bf16 | '
           'ours bf16, implied 60,000-sample epoch | peak memory (MB) ours bf16 / reference | measured (load) |', '|' + '---|' * 11]
    for r in rows:
        ref, f32, b16 = r['reference'], r['ours_float32'], r['ours_bf16']
        out.append(f"| {NAMES.get(r['model'], r['model'])} | {r['threads']} | {ref['batch']} | {ref['s_per_step']:.3f} | {f32['s_per_step']:.3f} | "
                   f"{b16['s_per_step']:.3f} | {r['ratio_float32']:.2f}× | {r['ratio_bf16']:.2f}× | {b16['implied_s_per_epoch_60k']:.0f} s | "
                   f"{b16['peak_rss_mb']:.0f} / {ref['peak_rss_mb']:.0f} | {r['date']} ({r['load_before']:.2f}) |")
    failed = [f"{r['model']} ({r['threads']} thr.)" for r in res['rows'] if 'ratio_float32' not in r]
    if failed: out.append(f"\nFailed: {', '.join(failed)} (see the JSON).")
    return '\n'.join(out)


def readme(json_path: Path, readme_path: Path, check: bool) -> int:
    res = json.loads(Path(json_path).read_text())
    if res.get('provisional'): raise SystemExit(f"{json_path} is provisional (busy machine): rerun on an idle machine.")
    text = Path(readme_path).read_text()
    if START not in text or END not in text: raise SystemExit(f"{readme_path} lacks the markers {START!r} … {END!r}.")
    head, rest = text.split(START, 1); _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table(res)}\n{END}{tail}"
    if check: return 0 if new == text else 1
    Path(readme_path).write_text(new); print(table(res)); return 0


# ------------------------------------------------------------------ parent
def _child(python: str, args: list, env: dict, timeout: float) -> dict:
    return _run([python, str(Path(__file__).resolve()), *args], env, timeout)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--models', nargs='+', default=list(MODELS), choices=MODELS)
    p.add_argument('--threads', nargs='+', type=int, default=[1, 2])
    p.add_argument('--epochs', type=int, default=2, help='timed epochs after one untimed epoch')
    p.add_argument('--n', type=int, default=None, help='samples per epoch for every model (default: per model, see the docstring)')
    p.add_argument('--ref-python', default='/tmp/multivae-ref/bin/python')
    p.add_argument('--ref-pythonpath', default='/work/shared/reference/tv_stub')
    p.add_argument('--timeout', type=float, default=3600)
    p.add_argument('--max-load', type=float, default=0.5)
    p.add_argument('--allow-busy', action='store_true')
    p.add_argument('--out', default=str(OUT))
    p.add_argument('--merge', action='store_true', help="replace only the measured (model, threads) rows of --out's JSON, keep the others")
    p.add_argument('--readme', choices=['write', 'check'], help="regenerate (or check) the README's PolyMNIST speed table from --out's JSON; run nothing")
    p.add_argument('--child', choices=['ours', 'reference'])
    p.add_argument('--model'); p.add_argument('--data'); p.add_argument('--amp', action='store_true')
    a = p.parse_args(argv)
    if a.readme: return readme(Path(a.out), ROOT / 'README.md', a.readme == 'check')
    if a.child:
        th = int(a.threads[0])
        row = child_ours(a.model, th, a.epochs, a.data, a.amp, a.n) if a.child == 'ours' else child_reference(a.model, th, a.epochs, a.data, a.n)
        print(json.dumps(_finish(row, a.model, th))); return 0
    load0 = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix='polymnist_sbs_') as tmp:
        data = str(Path(tmp) / 'polymnist_10k.pt'); sha = write_data(data)
        for model in a.models:
            for th in a.threads:
                load_row = os.getloadavg()[0]
                base = ['--model', model, '--threads', str(th), '--epochs', str(a.epochs), '--data', data] + (['--n', str(a.n)] if a.n else [])
                ref = _child(a.ref_python, ['--child', 'reference', *base], _env(th, a.ref_pythonpath), a.timeout)
                fp32 = _child(sys.executable, ['--child', 'ours', *base], _env(th, None), a.timeout)
                bf16 = _child(sys.executable, ['--child', 'ours', '--amp', *base], _env(th, None), a.timeout)
                row = {'model': model, 'threads': th, 'data_sha256': sha, 'reference': ref, 'ours_float32': fp32, 'ours_bf16': bf16,
                       'date': time.strftime('%Y-%m-%d %H:%M'), 'load_before': load_row, 'load_after': os.getloadavg()[0]}
                if all('s_per_step' in r for r in (ref, fp32, bf16)):
                    row.update(ratio_float32=round(ref['s_per_step'] / fp32['s_per_step'], 2), ratio_bf16=round(ref['s_per_step'] / bf16['s_per_step'], 2),
                               same_parameters=ref['n_params'] == fp32['n_params'],
                               memory_ratio_bf16=round(bf16['peak_rss_mb'] / ref['peak_rss_mb'], 2))
                rows.append(row)
                print(json.dumps({k: row.get(k) for k in ('model', 'threads', 'ratio_float32', 'ratio_bf16', 'same_parameters')}), flush=True)
    load1 = os.getloadavg()[0]
    for r in rows: r['provisional'] = r['load_before'] > a.max_load and not a.allow_busy
    if a.merge and Path(a.out).exists():   # keep the other (model, threads) rows of the file, each with its own date and load
        old = json.loads(Path(a.out).read_text()); new_keys = {(r['model'], r['threads']) for r in rows}
        for r in old['rows']:
            for k in ('date', 'load_before', 'load_after', 'provisional'): r.setdefault(k, old.get(k))
        rows = [r for r in old['rows'] if (r['model'], r['threads']) not in new_keys] + rows
        rows.sort(key=lambda r: (list(MODELS).index(r['model']), r['threads']))
    out = {'setting': 'PolyMNIST (speed issue, setting 2); see benchmarks/polymnist_side_by_side.py', 'date': max(r['date'] for r in rows),
           'machine': f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or 'cpu'}", 'load_before': load0, 'load_after': load1,
           'provisional': any(r['provisional'] for r in rows), 'rows': rows}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1))
    print(f"wrote {a.out}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
