"""The MultiVae paper's case study (Senellart, Chadebec & Allasonnière 2023, §4): seven models trained on PolyMNIST with modalities missing at
random, keeping or dropping the incomplete samples, as a resumable grid of runs.

    python reproductions/case_study/grid.py status  [--budget cpu]             # what is done, running and left, with the CPU time left
    python reproductions/case_study/grid.py run     [--budget cpu] [--jobs 2]   # train and evaluate what is left (resumes interrupted runs)
    python reproductions/case_study/grid.py run --models MoPoE MVTCAE --etas 1 0.5 --seeds 0

Each run trains in its own folder `runs/<budget>/<run id>/` (checkpoints every `save_every` epochs, a learning curve; ignored by git) and writes
`results/<budget>/<run id>.json` when its evaluation is done (committed). Rerunning skips finished runs and resumes unfinished ones from their
last checkpoint. At most two trainings run at once, each in its own process at one thread (`--jobs 1` or `2`).
The settings of every budget are in `BUDGETS`; `published` is the paper's configuration (for a GPU), `cpu` the budget of this repository.
"""
from __future__ import annotations
import argparse, json, math, os, platform, subprocess, sys, time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))        # polymnist_tools
ROOT = Path(os.environ.get('MULTIVAE_NB_GRID_DIR', HERE))   # where runs/ (ignored) and results/ (committed) live; the tests use a temporary one
RUNS, RESULTS = ROOT / 'runs', ROOT / 'results'
MODALITIES = [f'm{i}' for i in range(5)]
AGGREGATED = ('MVAE', 'MMVAE', 'MVTCAE', 'MoPoE')       # trained with and without the incomplete samples
JOINT = ('JMVAE', 'JNF', 'JNFDcca')                    # joint encoders: complete samples only
MODELS = AGGREGATED + JOINT
ETAS = (1.0, 0.8, 0.5)                                 # share of the samples observing each of m1..m4 (m0 is always observed)
PAPER_EPOCHS = {'JMVAE': 800, 'JNF': 600, 'JNFDcca': 800, 'MVAE': 500, 'MMVAE': 100, 'MVTCAE': 400, 'MoPoE': 400}

# One budget for the whole grid. 'published': the paper's settings (§5d of the protocols; a GPU job of 2-4 h per run).
# 'cpu': what two CPU cores can fill in a few days (see the case-study notebooks for the pilot that justifies it).
# 'pilot': the complete-data runs, twice as long, with a dense learning curve (is the models' ordering at 10 epochs that of 20?).
# 'tiny': the test suite (a few hundred samples, three epochs, latent 16).
# Sample counts: None = all of the set, 0 = skip that evaluation.
BUDGETS = {
    'published': dict(epochs=PAPER_EPOCHS, n_train=None, latent_dim=512, mmvae_K=10, eval_n=None, fid_n=None, nll_n=None, nll_K=1000,
                      sampler_fit_n=None, maf_epochs=100, curve_every=25, curve_n=1000, save_every=25, amp=False, eval_split=0.1,
                      plateau_patience=30, seeds=(0, 1, 2, 3)),
    'cpu': dict(epochs=10, n_train=None, latent_dim=512, mmvae_K=1, eval_n=2000, fid_n=500, nll_n=200, nll_K=1000,
                sampler_fit_n=10000, maf_epochs=50, curve_every=2, curve_n=1000, save_every=1, amp=True, eval_split=0, plateau_patience=None,
                seeds=(0,)),
    'pilot': dict(epochs=20, n_train=None, latent_dim=512, mmvae_K=1, eval_n=2000, fid_n=0, nll_n=0, nll_K=1000,
                  sampler_fit_n=0, maf_epochs=0, curve_every=2, curve_n=1000, save_every=2, amp=True, eval_split=0, plateau_patience=None,
                  seeds=(0,), etas=(1.0,)),
    'tiny': dict(epochs=3, n_train=300, latent_dim=16, mmvae_K=1, eval_n=60, fid_n=6, nll_n=4, nll_K=8,
                 sampler_fit_n=100, maf_epochs=2, curve_every=1, curve_n=40, save_every=1, batch_size=64, amp=True, eval_split=0,
                 plateau_patience=None, seeds=(0,)),
}

SHARED = dict(laplace_scale=0.75, batch_size=256, learning_rate=1e-3, mask_seed=0, split_seed=42)
# Per model, from the reference library's case study (protocols §5d). Epoch fractions: JMVAE anneals its KL over the first quarter (200 of 800),
# JNF trains its joint VAE for two thirds (400 of 600), JNF-DCCA its DCCA for a quarter and its joint VAE for half (200 + 400 of 800).
MODEL_SETTINGS = {
    'MVAE': dict(beta=2.5, warmup=0, learning_rate=5e-4),
    'MMVAE': dict(prior_and_posterior_dist='laplace_with_softmax', learn_prior=False),
    'MVTCAE': dict(alpha=5 / 6, beta=2.5),
    'MoPoE': dict(beta=2.5),
    'JMVAE': dict(alpha=0.1, warmup_fraction=200 / 800),
    'JNF': dict(joint_fraction=400 / 600),
    'JNFDcca': dict(dcca_fraction=200 / 800, joint_fraction=400 / 800, embedding_dcca_dim=20, learning_rate_dcca=1e-4, dcca_batch_size=500),
}
# Seconds per epoch over the 60,000 training samples at 1 thread with the other core busy, before any run has finished: MoPoE and MVTCAE from
# their PolyMNIST reproductions (2026-12-03), the others scaled from MoPoE by the step times of one side-by-side measurement (MMVAE at K=1 1.65x,
# MVAE 1.1x, JMVAE 1.3x, the joint stage of JNF / JNF-DCCA 0.6x). `status` replaces them with the epoch times of finished runs.
EPOCH_SECONDS = {'MoPoE': 127, 'MVTCAE': 102, 'MMVAE': 210, 'MVAE': 140, 'JMVAE': 165, 'JNF': 80, 'JNFDcca': 80}


@dataclass(frozen=True)
class Run:
    model: str
    eta: float
    keep: bool      # keep the incomplete samples (aggregated models); False: train on the complete samples only
    seed: int = 0
    @property
    def id(self) -> str:
        part = '' if self.eta == 1 else ('_keep' if self.keep else '_drop')
        return f"{self.model}_eta{round(100 * self.eta):03d}{part}_s{self.seed}"


def grid(models=MODELS, etas=ETAS, seeds=(0,)) -> list:
    "The declared runs: aggregated models with and without the incomplete samples, joint-encoder models on the complete samples only."
    bad = [m for m in models if m not in MODELS]
    if bad: raise SystemExit(f"Unknown model(s) {bad}; the grid has {list(MODELS)}.")
    bad = [e for e in etas if not 0 < e <= 1]
    if bad: raise SystemExit(f"eta must be in (0, 1] (the share of observed samples per modality); got {bad}.")
    runs = []
    for seed in dict.fromkeys(seeds):
        for eta in dict.fromkeys(float(e) for e in etas):
            for m in dict.fromkeys(models):
                keeps = [True] if eta == 1 else ([True, False] if m in AGGREGATED else [False])
                runs += [Run(m, eta, k, seed) for k in keeps]
    return runs


def check_budget(name: str):
    "Refuse a budget whose epochs do not fit the staged models or do not end on a checkpoint."
    b = BUDGETS[name]
    for m in MODELS:
        E = b['epochs'][m] if isinstance(b['epochs'], dict) else b['epochs']
        if E % b['save_every']: raise SystemExit(f"budget {name}: {m}'s {E} epochs are not a multiple of save_every={b['save_every']}.")
        if E < {'JNF': 2, 'JNFDcca': 3}.get(m, 1): raise SystemExit(f"budget {name}: {E} epochs cannot hold {m}'s training stages.")


def _round(x: float) -> int: return int(math.floor(x + 0.5))   # halves up (Python's round() takes halves to even)


def epochs_of(run: Run, budget: dict) -> int:
    e = budget['epochs']
    return e[run.model] if isinstance(e, dict) else e


def result_path(run: Run, budget_name: str) -> Path: return RESULTS / budget_name / f'{run.id}.json'
def run_dir(run: Run, budget_name: str) -> Path: return RUNS / budget_name / run.id


# ---------------------------------------------------------------- data and models
def data_for(run: Run, budget: dict):
    "Training set of the run (masks drawn once, seed `mask_seed`, the same for every model and seed) and the complete test set."
    import torch
    from multivae_nb.datasets import PolyMNIST
    from polymnist_tools import load_data, CACHE
    train, test = load_data()
    if run.eta < 1:
        train = PolyMNIST('train', build=True, cache_dir=CACHE, missing_ratio=1 - run.eta, keep_incomplete=run.keep, seed=SHARED['mask_seed'])
    if budget['n_train']: train = train.subset(torch.arange(min(budget['n_train'], len(train))))
    return train, test


def split_eval(train, fraction: float):
    "(train, eval) with `fraction` of the samples held out by a permutation seeded 42 (the reference's case study); (train, None) if 0."
    import torch
    if not fraction: return train, None
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(SHARED['split_seed']))
    k = int(round(fraction * len(train)))
    return train.subset(perm[k:]), train.subset(perm[:k])


def build_model(run: Run, budget: dict):
    "The model of the run with the case study's networks: the conv encoder with convolutional heads, MoPoE's conv decoder, Laplace 0.75."
    import torch
    from multivae_nb import models as M
    from multivae_nb.nn import PolyMNISTConvHeadEncoder, PolyMNISTConvDecoder, MultiHeadJointEncoder, MLPEncoder
    torch.manual_seed(run.seed)
    L, s = budget['latent_dim'], MODEL_SETTINGS[run.model]
    dims = {m: (3, 28, 28) for m in MODALITIES}
    common = dict(input_dims=dims, latent_dim=L, decoders_dist=dict.fromkeys(dims, 'laplace'),
                  decoder_dist_params={m: {'scale': SHARED['laplace_scale']} for m in dims})
    enc = lambda: {m: PolyMNISTConvHeadEncoder(L) for m in dims}
    dec = lambda: {m: PolyMNISTConvDecoder(L) for m in dims}
    E = epochs_of(run, budget)
    if run.model == 'MVAE': return M.MVAE(M.MVAEConfig(**common, beta=s['beta'], kl_warmup_epochs=s['warmup']), enc(), dec())
    if run.model == 'MMVAE':
        return M.MMVAE(M.MMVAEConfig(**common, K=budget['mmvae_K'], prior_and_posterior_dist=s['prior_and_posterior_dist'],
                                     learn_prior=s['learn_prior']), enc(), dec())
    if run.model == 'MVTCAE': return M.MVTCAE(M.MVTCAEConfig(**common, alpha=s['alpha'], beta=s['beta']), enc(), dec())
    if run.model == 'MoPoE': return M.MoPoE(M.MoPoEConfig(**common, beta=s['beta']), enc(), dec())
    joint = MultiHeadJointEncoder({m: PolyMNISTConvHeadEncoder(L).architecture_spec() for m in dims}, L)
    if run.model == 'JMVAE':
        return M.JMVAE(M.JMVAEConfig(**common, alpha=s['alpha'], kl_warmup_epochs=_round(E * s['warmup_fraction'])), enc(), dec(), joint)
    if run.model == 'JNF':
        return M.JNF(M.JNFConfig(**common, joint_stage_epochs=max(1, min(E - 1, _round(E * s['joint_fraction'])))), enc(), dec(), joint)
    k = s['embedding_dcca_dim']
    n_dcca = max(1, _round(E * s['dcca_fraction'])); n_joint = max(1, min(E - n_dcca - 1, _round(E * s['joint_fraction'])))
    return M.JNFDcca(M.JNFDccaConfig(**common, joint_stage_epochs=n_joint, nb_epochs_dcca=n_dcca, embedding_dcca_dim=k),
                     {m: MLPEncoder((k,), L) for m in dims}, dec(), joint, dcca_networks={m: PolyMNISTConvHeadEncoder(k) for m in dims})


def trainer_for(run: Run, budget: dict, model, train, callbacks, eval_set=None):
    from multivae_nb.trainers import BaseTrainer, BaseTrainerConfig, TwoStepsTrainer, TwoStepsTrainerConfig, AddDccaTrainer, AddDccaTrainerConfig
    s = MODEL_SETTINGS[run.model]
    bs = budget.get('batch_size', SHARED['batch_size'])
    kw = dict(output_dir=str(run_dir(run, budget['name'])), num_epochs=epochs_of(run, budget), per_device_train_batch_size=bs,
              learning_rate=s.get('learning_rate', SHARED['learning_rate']), optimizer_cls='Adam', seed=run.seed, drop_last=len(train) >= bs,
              amp=budget['amp'], steps_saving=budget['save_every'], resume_from_checkpoint='latest', show_progress=False)
    if budget['plateau_patience']:
        kw.update(scheduler_cls='ReduceLROnPlateau', scheduler_params={'patience': budget['plateau_patience']})
    if run.model == 'JNFDcca':
        dbs = min(s['dcca_batch_size'], len(train))
        cfg = AddDccaTrainerConfig(**kw, learning_rate_dcca=s['learning_rate_dcca'], per_device_dcca_train_batch_size=dbs,
                                   per_device_dcca_eval_batch_size=dbs)
        return AddDccaTrainer(model, train, eval_set, training_config=cfg, callbacks=callbacks)
    if run.model == 'JNF': return TwoStepsTrainer(model, train, eval_set, training_config=TwoStepsTrainerConfig(**kw), callbacks=callbacks)
    return BaseTrainer(model, train, eval_set, training_config=BaseTrainerConfig(**kw), callbacks=callbacks)


# ---------------------------------------------------------------- evaluation
def evaluate(model, run: Run, budget: dict, train, test, classifiers) -> dict:
    """Every metric of the paper's figures on the complete test set: coherences per subset and by size (Fig. 4-5), the FID of m0 given the
    four others (Fig. 6), joint coherence and FID of m0 from the prior, a GMM and a MAF fitted on the training codes (Fig. 7), k-means accuracy on
    the latent means (Fig. 8), the joint NLL with K importance samples (Fig. 14), unimodal and joint reconstruction MSE / SSIM (Figs. 15-18)."""
    import torch
    from multivae_nb.metrics import (CoherenceEvaluator, CoherenceEvaluatorConfig, FIDEvaluator, FIDEvaluatorConfig, Clustering, ClusteringConfig,
                                     LikelihoodsEvaluator, LikelihoodsEvaluatorConfig, Reconstruction, ReconstructionConfig)
    from multivae_nb.samplers import GaussianMixtureSampler, MAFSampler
    B, out, times = budget, {}, {}
    first = lambda ds, n: ds if not n or n >= len(ds) else ds.subset(torch.arange(n))
    ev_set = first(test, B['eval_n'])
    model.eval()
    t = time.time()
    ce = CoherenceEvaluator(model, classifiers, ev_set, eval_config=CoherenceEvaluatorConfig(joint_samples=0, batch_size=250))
    r = ce.eval()
    out['coherence'] = {'pairs': {k.split('/', 1)[1]: v for k, v in r.items() if '->' in k},
                        'by_size': {str(k): v for k, v in ce.by_size('micro').items()},
                        'by_size_macro': {str(k): v for k, v in ce.by_size('macro').items()},
                        'by_subset': _by_subset(r)}
    times['coherence'] = time.time() - t
    # joint generation: prior, GMM and MAF on the latent codes of (a part of) the training set
    t = time.time()
    fit_set = first(train, B['sampler_fit_n'])
    samplers = {'prior': None}
    if B['sampler_fit_n'] != 0:   # None: all of the training set; 0: no fitted sampler
        samplers['gmm'] = GaussianMixtureSampler(model, n_components=10).fit(fit_set)
        samplers['maf'] = MAFSampler(model, epochs=B['maf_epochs']).fit(fit_set)
    out['joint'] = {}
    n_joint = len(ev_set)
    real_m0 = None   # Inception statistics of the real m0 test images: computed by the first FID, reused by the others
    def fid(fe):
        nonlocal real_m0
        if real_m0 is not None: fe.reuse_real_stats(real_m0)
        r = fe.eval(); real_m0 = fe.real_stats
        return r
    for name, smp in samplers.items():
        je = CoherenceEvaluator(model, classifiers, ev_set, sampler=smp,
                                eval_config=CoherenceEvaluatorConfig(subsets=[], joint_samples=n_joint, batch_size=250))
        out['joint'][name] = {'coherence': je.eval()['joint_coherence']}
        if B['fid_n'] != 0:
            fe = FIDEvaluator(model, first(test, B['fid_n']), sampler=smp,
                              eval_config=FIDEvaluatorConfig(gen_mod=['m0'], unconditional=True, batch_size=100))
            out['joint'][name]['fid_m0'] = fid(fe)[f'fd/{fe.source}->m0']
    times['joint'] = time.time() - t
    if B['fid_n'] != 0:
        t = time.time()
        others = [m for m in MODALITIES if m != 'm0']
        fe = FIDEvaluator(model, first(test, B['fid_n']), eval_config=FIDEvaluatorConfig(gen_mod=['m0'], unconditional=False, cond_subsets=[others],
                                                                                         batch_size=100))
        out['conditional_fid_m0'] = fid(fe)[f"fd/{'+'.join(others)}->m0"]
        times['conditional_fid'] = time.time() - t
    t = time.time()
    out['clustering'] = Clustering(model, ev_set, train_dataset=first(train, B['sampler_fit_n'] or B['eval_n']),
                                   eval_config=ClusteringConfig(batch_size=250)).eval()
    times['clustering'] = time.time() - t
    if B['nll_n'] != 0:
        t = time.time()
        out['likelihood'] = LikelihoodsEvaluator(model, first(test, B['nll_n']),
                                                 eval_config=LikelihoodsEvaluatorConfig(K=B['nll_K'], batch_size=2)).eval()
        times['likelihood'] = time.time() - t
    t = time.time()
    out['reconstruction'] = Reconstruction(model, ev_set, eval_config=ReconstructionConfig(batch_size=250)).eval()
    times['reconstruction'] = time.time() - t
    t = time.time()
    save_grids(model, test, samplers.get('gmm'), RESULTS / budget['name'] / 'grids' / run.id)
    times['grids'] = time.time() - t
    out['eval_time_s'] = {k: round(v, 1) for k, v in times.items()}
    return out


def save_grids(model, test, gmm, folder: Path, n: int = 8):
    "The generation grids of the paper's Appendix C as PNGs: m0 from the four others, joint reconstruction, samples from the prior and the GMM."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from multivae_nb.metrics import Visualization, VisualizationConfig
    cfg = VisualizationConfig(n_samples=2, n_data_cols=n, cell_size=0.6, dpi=80)
    v = Visualization(model, test, output=folder, eval_config=cfg)
    v.conditional_samples_subset([m for m in MODALITIES if m != 'm0'], gen_mod=['m0']); plt.close('all')
    Visualization(model, test, output=folder, eval_config=VisualizationConfig(n_samples=1, n_data_cols=n, cell_size=0.6, dpi=80)
                  ).conditional_samples_subset(MODALITIES, gen_mod=MODALITIES); plt.close('all')   # joint reconstruction
    Visualization(model, test, output=folder, eval_config=VisualizationConfig(n_samples=n, cell_size=0.6, dpi=80)).eval(); plt.close('all')
    if gmm is not None:
        Visualization(model, test, output=folder / 'gmm', eval_config=VisualizationConfig(n_samples=n, cell_size=0.6, dpi=80), sampler=gmm).eval()
        plt.close('all')
    from PIL import Image
    for png in folder.rglob('*.png'):   # JPEG: a tenth of the bytes, so that the grids of every run can be committed
        Image.open(png).convert('RGB').save(png.with_suffix('.jpg'), quality=85); png.unlink()


def _observed(ds) -> dict:
    "Share of the samples observing each modality (1 everywhere for a complete dataset)."
    masks = getattr(ds, 'masks', None)
    return {m: 1.0 if not masks else float(masks[m].float().mean()) for m in MODALITIES}


def _by_subset(r: dict) -> dict:
    "{subset 'm1+m3': mean accuracy over its targets} from the evaluator's '<prefix>/<S>-><m>' entries."
    acc = {}
    for k, v in r.items():
        if '->' not in k: continue
        s = k.split('/', 1)[1].split('->')[0]
        acc.setdefault(s, []).append(v)
    return {s: sum(v) / len(v) for s, v in acc.items()}


# ---------------------------------------------------------------- one run
def run_one(run: Run, budget_name: str) -> dict:
    "Train (resuming if a checkpoint exists), evaluate, write the results JSON atomically."
    import torch
    import multivae_nb
    from multivae_nb.trainers import LearningCurve
    from polymnist_tools import load_polymnist_classifiers, coherence_curve, classifier_summary
    budget = dict(BUDGETS[budget_name], name=budget_name)
    train, test = data_for(run, budget)
    train, eval_set = split_eval(train, budget['eval_split'])
    classifiers = load_polymnist_classifiers(test)
    model = build_model(run, budget)
    curve_set = test.subset(torch.arange(min(budget['curve_n'], len(test))))
    curve = LearningCurve(coherence_curve(classifiers, curve_set), every=budget['curve_every'])
    trainer = trainer_for(run, budget, model, train, [curve], eval_set)
    t0 = time.time()
    history = trainer.train()
    train_time = sum(h['epoch_time_s'] for h in history)
    model = trainer._best_model if getattr(trainer, '_best_model', None) is not None else trainer.model
    metrics = evaluate(model, run, budget, train, test, classifiers)
    record = {'run': run.id, 'model': run.model, 'eta': run.eta, 'keep_incomplete': run.keep, 'seed': run.seed, 'budget': budget_name,
              'status': 'complete', 'epochs': len(history), 'n_train': len(train), 'observed_fraction': _observed(train),
              'metrics': metrics, 'learning_curve': curve.points, 'train_loss': [h['train_loss'] for h in history],
              'epoch_time_s': train_time / max(1, len(history)), 'train_time_s': round(train_time), 'wall_time_s': round(time.time() - t0),
              'settings': {**{k: v for k, v in budget.items() if k != 'name'}, **SHARED, **MODEL_SETTINGS[run.model],
                           'epochs': epochs_of(run, budget)},
              'classifier_test_accuracy': classifier_summary(), 'threads': torch.get_num_threads(), 'torch': torch.__version__,
              'library_version': multivae_nb.__version__, 'machine': f"{platform.machine()}, {os.cpu_count()} cores",
              'date': time.strftime('%Y-%m-%d')}
    p = result_path(run, budget_name); p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix('.json.tmp'); tmp.write_text(json.dumps(record, indent=1, default=float)); os.replace(tmp, p)
    return record


# ---------------------------------------------------------------- status and the driver
def _lock(run: Run, budget_name: str) -> Path: return RUNS / budget_name / f'{run.id}.running'

def _owner_alive(lock: Path, run: Run) -> bool:
    "True if the lock's process exists and is this run's training (not a reused pid)."
    try: pid = int(lock.read_text().strip() or 0)
    except (OSError, ValueError): return False
    if pid <= 0: return False
    try: cmd = Path(f'/proc/{pid}/cmdline').read_bytes().split(b'\0')
    except OSError: return False
    return b'_one' in cmd and run.model.encode() in cmd

def state(run: Run, budget_name: str) -> tuple:
    "('done' | 'running' | 'started' | 'todo', epochs trained so far)."
    if result_path(run, budget_name).exists(): return 'done', json.loads(result_path(run, budget_name).read_text())['epochs']
    lock = _lock(run, budget_name)
    ckpts = [int(p.name.rsplit('_', 1)[1]) for p in run_dir(run, budget_name).glob('*/checkpoint_epoch_*')]
    done = max(ckpts, default=0)   # what a restart keeps
    if lock.exists() and _owner_alive(lock, run): return 'running', done
    return ('started' if done else 'todo'), done


def _epoch_seconds(runs, budget_name) -> dict:
    "Seconds per epoch over the full training set, per model: measured by finished runs where there are some, else EPOCH_SECONDS."
    est = dict(EPOCH_SECONDS)
    for m in MODELS:
        v = [r['epoch_time_s'] * 60000 / r['n_train'] for r in (json.loads(p.read_text()) for p in (RESULTS / budget_name).glob(f'{m}_*.json'))]
        if v: est[m] = sum(v) / len(v)
    return est


def train_fraction(run: Run) -> float:
    "Expected share of the 60,000 training samples the run trains on: all with the incomplete ones kept, the complete ones (eta^4) else."
    return 1.0 if run.keep or run.eta == 1 else run.eta ** 4


def status(runs, budget_name: str) -> str:
    budget = BUDGETS[budget_name]
    est = _epoch_seconds(runs, budget_name)
    lines, left, counts = [], 0.0, {}
    for r in runs:
        st, ep = state(r, budget_name)
        E = epochs_of(r, budget); counts[st] = counts.get(st, 0) + 1
        n = budget['n_train'] or 60000 * train_fraction(r)
        rest = 0 if st == 'done' else (E - ep) * est[r.model] * n / 60000
        left += rest
        lines.append(f"{r.id:28s} {st:8s} {ep:4d}/{E:<4d} {'' if st == 'done' else f'{rest / 3600:6.1f} h'}")
    head = (f"budget {budget_name}: {len(runs)} runs — " + ', '.join(f'{k} {v}' for k, v in sorted(counts.items()))
            + f"; about {left / 3600:.1f} CPU hours of training left at 1 thread (plus evaluation)")
    return '\n'.join([head, *lines])


def drive(runs, budget_name: str, jobs: int = 2, log=print):
    "Train and evaluate the runs not done yet, at most `jobs` (<= 2) processes at once, one thread each; returns the failed run ids."
    if jobs not in (1, 2): raise SystemExit(f"--jobs must be 1 or 2 (two CPU cores, one training per core); got {jobs}.")
    todo = [r for r in runs if state(r, budget_name)[0] in ('todo', 'started')]
    running, failed = {}, []
    (RUNS / budget_name).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    while todo or running:
        while todo and len(running) < jobs:
            r = todo.pop(0)
            if state(r, budget_name)[0] not in ('todo', 'started'): continue   # another driver took it or finished it meanwhile
            lock = _lock(r, budget_name)
            if lock.exists() and not _owner_alive(lock, r): lock.unlink()      # left by a killed session
            try: fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)       # exclusive: two drivers never train one run twice
            except FileExistsError: continue
            logf = open(RUNS / budget_name / f'{r.id}.log', 'a')
            p = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), '_one', r.model, str(r.eta), str(int(r.keep)), str(r.seed),
                                  '--budget', budget_name], stdout=logf, stderr=subprocess.STDOUT, env=env)
            os.write(fd, str(p.pid).encode()); os.close(fd); running[r] = (p, logf)
            log(f"{time.strftime('%H:%M:%S')} started {r.id} (pid {p.pid})")
        time.sleep(2)
        for r, (p, logf) in list(running.items()):
            if p.poll() is None: continue
            logf.close(); _lock(r, budget_name).unlink(missing_ok=True); del running[r]
            if p.returncode: failed.append(r.id)
            log(f"{time.strftime('%H:%M:%S')} {'finished' if p.returncode == 0 else f'FAILED (exit {p.returncode}; see its log)'} {r.id}")
    return failed


def _args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('command', choices=['status', 'run', 'list', '_one'])
    ap.add_argument('rest', nargs='*')
    ap.add_argument('--budget', default='cpu', choices=list(BUDGETS))
    ap.add_argument('--models', nargs='+', default=list(MODELS))
    ap.add_argument('--etas', nargs='+', type=float, default=None)
    ap.add_argument('--seeds', nargs='+', type=int, default=None, help="default: the budget's seeds")
    ap.add_argument('--jobs', type=int, default=2)
    return ap.parse_args(argv)


def main(argv=None):
    a = _args(argv)
    if a.command == '_one':
        import torch
        torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
        model, eta, keep, seed = a.rest
        run_one(Run(model, float(eta), bool(int(keep)), int(seed)), a.budget); return 0
    check_budget(a.budget)
    etas = a.etas or BUDGETS[a.budget].get('etas', ETAS)
    runs = grid(a.models, etas, a.seeds or BUDGETS[a.budget]['seeds'])
    if a.command == 'list': print('\n'.join(r.id for r in runs)); return 0
    if a.command == 'status': print(status(runs, a.budget)); return 0
    failed = drive(runs, a.budget, a.jobs)
    print(status(runs, a.budget))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
