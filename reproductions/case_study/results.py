"""Reading the case-study grid's results (`results/<budget>/*.json`) into one table, the paper's figures drawn from it with seaborn, and the
paper's qualitative claims checked against it. The figure notebooks of this folder import it."""
from __future__ import annotations
import json, os, subprocess, sys, tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL_ORDER = ['MVAE', 'MMVAE', 'MVTCAE', 'MoPoE', 'JMVAE', 'JNF', 'JNFDcca']
AGGREGATED = ['MVAE', 'MMVAE', 'MVTCAE', 'MoPoE']
TINY = dict(models=['MoPoE', 'JMVAE'], etas=['1', '0.5'])   # the grid of the test suite


def choose(quick: bool | None = None) -> tuple:
    """(budget, grid folder): under MULTIVAE_NB_QUICK=1 the tiny grid of the test suite, trained here into a temporary folder (once: the runs
    that are done are skipped); else MULTIVAE_NB_CASE_BUDGET (default 'cpu') read from this folder's results."""
    quick = os.environ.get('MULTIVAE_NB_QUICK', '0') == '1' if quick is None else quick
    if not quick: return os.environ.get('MULTIVAE_NB_CASE_BUDGET', 'cpu'), Path(os.environ.get('MULTIVAE_NB_GRID_DIR', HERE))
    import hashlib
    code = hashlib.sha256(b''.join(p.read_bytes() for p in (HERE / 'grid.py', HERE.parent / 'polymnist_tools.py'))).hexdigest()[:12]
    d = Path(tempfile.gettempdir()) / f'multivae_nb_tiny_grid_{code}'   # results of this very code: a change retrains the tiny grid
    env = dict(os.environ, MULTIVAE_NB_GRID_DIR=str(d), OMP_NUM_THREADS='1')
    out = subprocess.run([sys.executable, str(HERE / 'grid.py'), 'run', '--budget', 'tiny', '--models', *TINY['models'], '--etas', *TINY['etas']],
                         env=env, capture_output=True, text=True)
    if out.returncode: raise RuntimeError(f"The tiny grid failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return 'tiny', d


def load(budget: str, root: Path = HERE):
    "One row per finished run, with every metric flattened; at eta = 1 the run is both the 'keep' and the 'drop' end of the lines."
    import pandas as pd
    rows = []
    for p in sorted((Path(root) / 'results' / budget).glob('*.json')):
        r = json.loads(p.read_text()); m = r['metrics']
        row = dict(run=r['run'], model=r['model'], eta=r['eta'], seed=r['seed'], epochs=r['epochs'], n_train=r['n_train'],
                   train_time_h=r['train_time_s'] / 3600, eval_time_h=sum(m['eval_time_s'].values()) / 3600)
        for k, v in m['coherence']['by_size'].items(): row[f'coherence_{k}'] = v
        row['coherence_mean'] = sum(m['coherence']['by_size'].values()) / len(m['coherence']['by_size'])
        for s, v in m['coherence']['by_subset'].items(): row[f'coherence_given_{s}'] = v
        row['conditional_fid_m0'] = m.get('conditional_fid_m0')
        for s, v in m['joint'].items():
            row[f'joint_coherence_{s}'] = v['coherence']; row[f'joint_fid_m0_{s}'] = v.get('fid_m0')
        row['cluster_accuracy'] = m['clustering']['cluster_accuracy']
        row['joint_nll'] = m.get('likelihood', {}).get('joint_nll')
        for kind in ('unimodal', 'joint'):
            for met in ('mse', 'ssim'):
                vals = [v for k, v in m['reconstruction'].items() if k.startswith(f'{met}/{kind}/')]
                row[f'{met}_{kind}'] = sum(vals) / len(vals) if vals else None
        keeps = ['keep', 'drop'] if r['eta'] == 1 else ['keep' if r['keep_incomplete'] else 'drop']
        for k in keeps: rows.append(dict(row, incomplete=k))
    df = pd.DataFrame(rows)
    if len(df): df['model'] = pd.Categorical(df['model'], [m for m in MODEL_ORDER if m in set(df['model'])], ordered=True)
    return df


def lines(ax, df, y: str, title: str, ylabel: str | None = None):
    "The paper's encoding: x = eta, colour = model, line style = keep (solid) / drop (dashed) the incomplete samples; mean and spread over seeds."
    import seaborn as sns
    if y not in df or not df[y].notna().any():
        ax.set_title(f'{title}: not evaluated at this budget', fontsize=9); return
    sns.lineplot(data=df, x='eta', y=y, hue='model', style='incomplete', style_order=['keep', 'drop'], markers=True, dashes=[(1, 0), (4, 2)],
                 errorbar=('sd') if df['seed'].nunique() > 1 else None, ax=ax)
    ax.set_xlabel('η (share of the samples observing each of m1…m4)'); ax.set_ylabel(ylabel or y); ax.set_title(title, fontsize=10)
    ax.invert_xaxis()
    ax.legend(fontsize=7)


def claim(name: str, holds, detail: str) -> dict:
    "A row of the claims table: the paper's statement, whether it holds here (True / False / None: not testable on these runs), and why."
    return {'claim': name, 'holds here': {True: 'yes', False: 'no', None: 'not testable'}[holds], 'detail': detail}


def keep_vs_drop(df, y: str, higher_is_better: bool = True) -> dict:
    "{(model, eta): keep value - drop value (sign-adjusted so > 0 means keeping helps)} for the aggregated models at eta < 1."
    out = {}
    for (m, eta), g in df[(df.eta < 1) & df.model.isin(AGGREGATED)].groupby(['model', 'eta'], observed=True):
        if set(g.incomplete) >= {'keep', 'drop'}:
            d = g[g.incomplete == 'keep'][y].mean() - g[g.incomplete == 'drop'][y].mean()
            out[(m, eta)] = d if higher_is_better else -d
    return out


def pilot_ordering(root: Path = HERE, early: int = 10, late: int = 20):
    """The pilot's check of the CPU budget: the models ranked by their mean coherence (1-4 inputs, learning curve on 1,000 test samples) at epoch
    `early` and at epoch `late` of the complete-data runs of budget 'pilot', and Kendall's tau between the two rankings (1: same order).
    None if the pilot has not run yet."""
    from scipy.stats import kendalltau
    at = {}
    for p in sorted((Path(root) / 'results' / 'pilot').glob('*.json')):
        r = json.loads(p.read_text())
        pts = {q['epoch']: sum(q[f'coherence_{k}'] for k in (1, 2, 3, 4)) / 4 for q in r['learning_curve']}
        if early in pts and late in pts: at[r['model']] = (pts[early], pts[late])
    if len(at) < 2: return None
    models = sorted(at)
    tau = kendalltau([at[m][0] for m in models], [at[m][1] for m in models]).statistic
    order = lambda i: ' > '.join(sorted(models, key=lambda m: -at[m][i]))
    return {'models': models, 'early': {m: at[m][0] for m in models}, 'late': {m: at[m][1] for m in models}, 'kendall_tau': float(tau),
            f'order_at_{early}': order(0), f'order_at_{late}': order(1)}
