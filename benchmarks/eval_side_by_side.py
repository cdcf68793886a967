"""Evaluation speed of this library and of the reference library (MultiVae 1.0.3), side by side in one run (the speed issue's setting 3).

    python benchmarks/eval_side_by_side.py                      # 1 and 2 threads -> benchmarks/results/side_by_side_eval.json
    python benchmarks/eval_side_by_side.py --threads 1 --nll-n 100 --coh-n 500 --out /tmp/e.json    # a quick look

Two workloads, each timed once per library and thread count (the reference first, then ours, one process at a time):
- **joint NLL**: -log p(x, y) by importance sampling with K = 1000 samples from the joint posterior, on the first `--nll-n` (1,000) samples of
  the MLP setting of `bench_training.py` (binary 1x28x28 image + one-hot label, latent 20, the reference's default MLP networks, the same
  tensors), for JMVAE, MVAE, MMVAE, MVTCAE and MoPoE at their initial weights (seed 0; the time does not depend on training). The reference's
  `LikelihoodsEvaluator` (batch 512, batch_size_k 100, its defaults) against ours (`LikelihoodsEvaluator`, K 1000, its default
  chunking). The NLL values are printed beside the times but are not comparable (different initial weights).
- **coherence of all subsets**: the cross-modal coherence of every proper subset of the five PolyMNIST modalities (one generation per sample
  and subset, targets outside the subset) on the first `--coh-n` (10,000) test samples, for MoPoE with the case study's conv networks
  (latent 512), scored by the published classifier architecture (random weights: the time does not depend on them). The reference's
  `CoherenceEvaluator.cross_coherences()` (batch 512) against ours (`CoherenceEvaluator`, joint coherence off, batch 512).
Run it on an idle machine; a run started above --max-load is written "provisional".
"""
from __future__ import annotations
import argparse, json, os, platform, resource, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from side_by_side import _env, _run as _run_cmd  # noqa: E402
OUT = HERE / 'results' / 'side_by_side_eval.json'
NLL_MODELS = ('JMVAE', 'MVAE', 'MMVAE', 'MVTCAE', 'MoPoE')
MODS = [f'm{i}' for i in range(5)]


def _classifier():
    import torch.nn as nn
    return nn.Sequential(nn.Conv2d(3, 10, 4, 2, 1), nn.Dropout2d(0.5), nn.ReLU(), nn.Conv2d(10, 20, 4, 2, 1), nn.Dropout2d(0.5), nn.ReLU(),
                         nn.Flatten(), nn.Linear(980, 128), nn.Dropout(0.5), nn.ReLU(), nn.Linear(128, 10)).eval()


def child(lib: str, task: str, model_name: str, threads: int, data: str, n: int) -> dict:
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    d = torch.load(data)
    if task == 'nll':
        if lib == 'ours':
            from bench_training import build_model
            from multivae_nb.data import MultimodalBaseDataset
            from multivae_nb.metrics import LikelihoodsEvaluator, LikelihoodsEvaluatorConfig
            model = build_model(model_name, 'reference', 1).eval()
            ds = MultimodalBaseDataset({'images': d['images'][:n], 'labels': d['labels'][:n]})
            t0 = time.perf_counter()
            r = LikelihoodsEvaluator(model, ds, eval_config=LikelihoodsEvaluatorConfig(K=1000)).eval()
            t = time.perf_counter() - t0; value = r['joint_nll']
        else:
            import logging
            for lg in list(logging.root.manager.loggerDict):
                if lg.startswith(('multivae', 'pythae')): logging.getLogger(lg).setLevel(logging.WARNING)
            from bench_reference import build_model
            from multivae.data import MultimodalBaseDataset
            from multivae.metrics import LikelihoodsEvaluator, LikelihoodsEvaluatorConfig
            model = build_model(model_name, 1).eval()
            ds = MultimodalBaseDataset(data={'images': d['images'][:n], 'labels': d['labels'][:n]}, labels=d['classes'][:n])
            t0 = time.perf_counter()
            r = LikelihoodsEvaluator(model, ds, eval_config=LikelihoodsEvaluatorConfig(num_samples=1000)).eval()
            t = time.perf_counter() - t0; value = float(r['joint_likelihood']) if 'joint_likelihood' in r.keys() else None
    else:   # coherence, MoPoE on PolyMNIST
        dims = {m: (3, 28, 28) for m in MODS}
        clf = {m: _classifier() for m in MODS}
        if lib == 'ours':
            from multivae_nb import models as M
            from multivae_nb.data import MultimodalBaseDataset
            from multivae_nb.nn import PolyMNISTConvHeadEncoder, PolyMNISTConvDecoder
            from multivae_nb.metrics import CoherenceEvaluator, CoherenceEvaluatorConfig
            model = M.MoPoE(M.MoPoEConfig(input_dims=dims, latent_dim=512, beta=2.5, decoders_dist=dict.fromkeys(dims, 'laplace')),
                            {m: PolyMNISTConvHeadEncoder(512) for m in dims}, {m: PolyMNISTConvDecoder(512) for m in dims}).eval()
            ds = MultimodalBaseDataset({m: x[:n] for m, x in d['data'].items()}, labels=d['labels'][:n])
            t0 = time.perf_counter()
            r = CoherenceEvaluator(model, clf, ds, eval_config=CoherenceEvaluatorConfig(joint_samples=0, batch_size=512)).eval()
            t = time.perf_counter() - t0; value = r.get('mean_coherence')
        else:
            import multivae.models as R
            from multivae.data import MultimodalBaseDataset
            from multivae.metrics import CoherenceEvaluator, CoherenceEvaluatorConfig
            from multivae.models.nn.mmnist import EncoderConvMMNIST_adapted, DecoderConvMMNIST
            from pythae.models.base.base_config import BaseAEConfig
            net_cfg = BaseAEConfig(input_dim=(3, 28, 28), latent_dim=512)
            model = R.MoPoE(R.MoPoEConfig(n_modalities=5, input_dims=dims, latent_dim=512, beta=2.5, decoders_dist=dict.fromkeys(dims, 'laplace')),
                            encoders={m: EncoderConvMMNIST_adapted(net_cfg) for m in dims}, decoders={m: DecoderConvMMNIST(net_cfg) for m in dims}).eval()
            ds = MultimodalBaseDataset(data={m: x[:n] for m, x in d['data'].items()}, labels=d['labels'][:n])
            with tempfile.TemporaryDirectory() as tmp:
                ev = CoherenceEvaluator(model, clf, ds, output=tmp, eval_config=CoherenceEvaluatorConfig(batch_size=512))
                t0 = time.perf_counter(); ev.cross_coherences(); t = time.perf_counter() - t0
            value = None
    return {'library': lib, 'task': task, 'model': model_name, 'threads': threads, 'n': n, 'seconds': round(t, 2), 'value': value,
            'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--threads', nargs='+', type=int, default=[1, 2])
    p.add_argument('--models', nargs='+', default=list(NLL_MODELS), choices=NLL_MODELS)
    p.add_argument('--nll-n', type=int, default=1000)
    p.add_argument('--coh-n', type=int, default=10000)
    p.add_argument('--ref-python', default='/tmp/multivae-ref/bin/python')
    p.add_argument('--ref-pythonpath', default='/work/shared/reference/tv_stub')
    p.add_argument('--timeout', type=float, default=3600)
    p.add_argument('--max-load', type=float, default=0.5)
    p.add_argument('--allow-busy', action='store_true')
    p.add_argument('--out', default=str(OUT))
    p.add_argument('--child', choices=['ours', 'reference']); p.add_argument('--task'); p.add_argument('--model'); p.add_argument('--data')
    p.add_argument('--n', type=int)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.child, a.task, a.model, a.threads[0], a.data, a.n))); return 0
    import torch
    from bench_training import make_data
    load0, rows = os.getloadavg()[0], []
    with tempfile.TemporaryDirectory(prefix='eval_sbs_') as tmp:
        mlp = str(Path(tmp) / 'mlp.pt'); torch.save(make_data(a.nll_n), mlp)
        sys.path.insert(0, str(ROOT / 'reproductions'))
        from polymnist_tools import load_data
        _, test = load_data(); b = test[torch.arange(a.coh_n)]
        poly = str(Path(tmp) / 'poly.pt'); torch.save({'data': {m: b['data'][m].contiguous() for m in MODS}, 'labels': b['labels']}, poly)
        jobs = [('nll', m, mlp, a.nll_n) for m in a.models] + [('coherence', 'MoPoE', poly, a.coh_n)]
        for task, model, data, n in jobs:
            for th in a.threads:
                args = ['--task', task, '--model', model, '--threads', str(th), '--data', data, '--n', str(n)]
                ref = _run_cmd([a.ref_python, str(Path(__file__).resolve()), '--child', 'reference', *args], _env(th, a.ref_pythonpath), a.timeout)
                ours = _run_cmd([sys.executable, str(Path(__file__).resolve()), '--child', 'ours', *args], _env(th, None), a.timeout)
                row = {'task': task, 'model': model, 'threads': th, 'n': n, 'reference': ref, 'ours': ours}
                if 'seconds' in ref and 'seconds' in ours: row['ratio'] = round(ref['seconds'] / ours['seconds'], 2)
                rows.append(row); print(json.dumps({k: row.get(k) for k in ('task', 'model', 'threads', 'ratio')}), flush=True)
    out = {'setting': 'evaluation (speed issue, setting 3); see benchmarks/eval_side_by_side.py', 'date': time.strftime('%Y-%m-%d %H:%M'),
           'machine': f"{platform.machine()}, {os.cpu_count()} cores", 'load_before': load0, 'load_after': os.getloadavg()[0],
           'provisional': load0 > a.max_load and not a.allow_busy, 'rows': rows}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1)); print(f"wrote {a.out}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
