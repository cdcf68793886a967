"""Shared pieces of the PolyMNIST reproductions (MoPoE, MVTCAE, MMVAE, MMVAE+): data, the evaluation classifiers, coherences under both
conventions, the learning-curve function, the figures and the results record. The notebooks in this folder import it; it is not part of the
library because it only fixes the settings of these experiments.
"""
from __future__ import annotations
import json, os, platform
from pathlib import Path
import torch
import multivae_nb
from multivae_nb.datasets import PolyMNIST
from multivae_nb.metrics import (CoherenceEvaluator, CoherenceEvaluatorConfig, load_classifiers, dataset_fingerprint, InceptionFeatures,
                                FeatureStats)
from multivae_nb.metrics.fid import frechet_distance_stats

HERE = Path(__file__).resolve().parent
CLASSIFIERS = HERE / 'assets' / 'polymnist_classifiers'
CACHE = Path(os.environ.get('MULTIVAE_NB_POLYMNIST', Path.home() / '.cache' / 'multivae_nb' / 'polymnist'))
MIN_ACCURACY = 0.9
MODALITIES = [f'm{i}' for i in range(5)]
CONVENTIONS = {'reference_micro': ('micro', False), 'reference_macro': ('macro', False), 'paper_micro': ('micro', True), 'paper_macro': ('macro', True)}


def choose_budget(budgets: dict) -> tuple:
    """(name, settings) of the budget this run uses: 'quick' under MULTIVAE_NB_QUICK=1 (the test suite), else MULTIVAE_NB_BUDGET if set,
    else 'published' on a CUDA machine and 'cpu' elsewhere. Refuses a name that `budgets` does not define."""
    if os.environ.get('MULTIVAE_NB_QUICK', '0') == '1': name = 'quick'
    else: name = os.environ.get('MULTIVAE_NB_BUDGET') or ('published' if torch.cuda.is_available() else 'cpu')
    if name not in budgets: raise ValueError(f"MULTIVAE_NB_BUDGET={name!r} is not one of this notebook's budgets {list(budgets)}; unset it or pick one.")
    return name, budgets[name]


def stop_epoch(settings: dict) -> int:
    """The last epoch of this session: MULTIVAE_NB_STOP_AT (default: the whole budget), rounded down to a checkpoint (`save_every`),
    so that the next session resumes exactly where this one stopped."""
    stop = min(settings['num_epochs'], int(os.environ.get('MULTIVAE_NB_STOP_AT', settings['num_epochs'])))
    if stop >= settings['num_epochs']: return settings['num_epochs']
    return max(settings['save_every'], stop - stop % settings['save_every'])


def load_data(root=None, cache_dir=CACHE):
    "PolyMNIST train and test: the files under `root` if any, else built from MNIST (seed 0, scikit-image's photos) into `cache_dir` once."
    return PolyMNIST('train', root=root, build=True, cache_dir=cache_dir), PolyMNIST('test', root=root, build=True, cache_dir=cache_dir)


def load_polymnist_classifiers(test, folder=CLASSIFIERS) -> dict:
    "The saved classifiers, refused unless they were trained for exactly this (full) test set and reached MIN_ACCURACY."
    return load_classifiers(folder, expect={m: {'dataset': dataset_fingerprint(test, m)} for m in test.modalities}, min_accuracy=MIN_ACCURACY)


def classifier_summary(folder=CLASSIFIERS) -> dict:
    "{modality: test accuracy} recorded when the classifiers were trained."
    return {m: v['test_accuracy'] for m, v in json.loads((Path(folder) / 'summary.json').read_text())['modalities'].items()}


@torch.no_grad()
def coherences(model, classifiers, test, batch_size: int = 500, joint_samples=None, seed: int = 0) -> dict:
    """One evaluation with every (subset, target) pair, inputs included: the coherence per number of inputs under the four conventions
    (reference library: targets outside the inputs; the papers' code: every target; each micro and macro), the joint coherence and every pair."""
    torch.manual_seed(seed)
    ev = CoherenceEvaluator(model.eval(), classifiers, test,
                            eval_config=CoherenceEvaluatorConfig(include_recon=True, joint_samples=joint_samples, batch_size=batch_size))
    r = ev.eval()
    out = {name: {str(k): v for k, v in ev.by_size(avg, inc).items()} for name, (avg, inc) in CONVENTIONS.items()}
    out['joint_coherence'] = r.get('joint_coherence')
    out['pairs_micro'] = {k.split('/', 1)[1]: v for k, v in ev.results_by_average['micro'].items() if '->' in k}
    return out


def coherence_curve(classifiers, test_subset, batch_size: int = 500):
    "For `LearningCurve`: the coherence with 1..4 inputs (reference convention, micro) of the current weights on a test subset."
    def fn(model):
        ev = CoherenceEvaluator(model, classifiers, test_subset, eval_config=CoherenceEvaluatorConfig(joint_samples=0, batch_size=batch_size))
        ev.eval(); return {f'coherence_{k}': v for k, v in ev.by_size().items()}
    return fn


def run_record(name: str, **fields) -> dict:
    "The results record with the machine fields every reproduction writes."
    return {'name': name, **fields, 'threads': torch.get_num_threads(), 'library_version': multivae_nb.__version__, 'torch': torch.__version__,
            'machine': f"{platform.machine()}, {os.cpu_count()} cores, CPU"}


def plot_coherences(ax, coh: dict, published: dict, title: str):
    "Coherence against the number of inputs: ours under each convention, and the published points."
    ks = [1, 2, 3, 4]
    for name, style in (('reference_micro', 'o-'), ('reference_macro', 's--'), ('paper_micro', '^:')):
        ax.plot(ks, [coh[name][str(k)] for k in ks], style, label=f'ours, {name.replace("_", ", ")}')
    for lab, vals in published.items():   # a published list may be shorter, or hold None where nothing was published
        pts = [(k, v / 100) for k, v in zip(ks, vals) if v is not None]
        ax.plot([k for k, _ in pts], [v for _, v in pts], 'x', ms=9, mew=2, label=lab)
    ax.set_xticks(ks); ax.set_xlabel('number of input modalities'); ax.set_ylabel('coherence'); ax.set_ylim(0, 1); ax.set_title(title)
    ax.legend(fontsize=7)


@torch.no_grad()
def generation_grid(ax, model, test, n: int = 6, seed: int = 0):
    "Rows: for each source m_i, the five modalities generated from it (columns: targets x samples); first row: the inputs."
    torch.manual_seed(seed)
    b = test[torch.arange(n)]
    rows = [torch.cat([b['data'][m] for m in MODALITIES], -1)]                       # (n, 3, 28, 5*28)
    for src in MODALITIES:
        g = model.predict(b, cond_mod=[src], gen_mod='all')
        rows.append(torch.cat([g[m].reshape(n, 3, 28, 28) for m in MODALITIES], -1))
    img = torch.cat([torch.cat(list(r), -2) for r in rows], -1).clamp(0, 1)          # (3, n*28, 6*5*28)
    ax.imshow(img.permute(1, 2, 0).numpy()); ax.axis('off')
    ax.set_title('columns: inputs, then generated from m0 … m4 (each block: m0 … m4); rows: test samples', fontsize=8)


@torch.no_grad()
def cross_modal_fids(model, test, n: int = 1000, batch_size: int = 10, seed: int = 0) -> dict:
    """Inception FIDs of every modality generated from every single modality, on the first `n` test samples (one generation each, decoder means
    clipped to [0, 1], TensorFlow's input convention), with the two averages of the literature: over the 20 cross pairs (source ≠ target) and over
    all 25 pairs (MMVAE+'s code averages over every source, the target included). `floor` is the FID between two disjoint halves of the real test
    images of each modality (n/2 each): the finite-sample bias that a small `n` adds to every value here."""
    torch.manual_seed(seed)
    net = InceptionFeatures().to(model.device).eval()
    feats = lambda x: net(x.to(model.device).float()).double().cpu()
    real = {m: FeatureStats() for m in MODALITIES}
    halves = {(m, h): FeatureStats() for m in MODALITIES for h in (0, 1)}
    gen = {(s, t): FeatureStats() for s in MODALITIES for t in MODALITIES}
    for i in range(0, n, batch_size):
        idx = torch.arange(i, min(n, i + batch_size))
        b = test[idx]
        for m in MODALITIES:
            f = feats(b['data'][m]); real[m].update(f)
            for h in (0, 1):
                rows = (idx % 2) == h
                if rows.any(): halves[m, h].update(f[rows])
        outs = {s: model.predict(b, cond_mod=[s], gen_mod='all') for s in MODALITIES}
        f = feats(torch.cat([outs[s][t].reshape(len(idx), 3, 28, 28) for s in MODALITIES for t in MODALITIES]))   # one Inception call
        for j, (s, t) in enumerate((s, t) for s in MODALITIES for t in MODALITIES): gen[s, t].update(f[j * len(idx):(j + 1) * len(idx)])
    pairs = {f'{s}->{t}': frechet_distance_stats(real[t], gen[s, t]) for s in MODALITIES for t in MODALITIES}
    cross = [v for k, v in pairs.items() if k.split('->')[0] != k.split('->')[1]]
    floor = {m: frechet_distance_stats(halves[m, 0], halves[m, 1]) for m in MODALITIES}
    return {'n': n, 'pairs': pairs, 'cross_mean': sum(cross) / len(cross), 'all_mean': sum(pairs.values()) / len(pairs),
            'floor': floor, 'floor_mean': sum(floor.values()) / len(floor)}
