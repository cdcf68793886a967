"""Inference-time benchmark: generate every modality from each subset of modalities, for a minibatch of 100, on CPU.

Models (issue #4): JNF, JNF-DCCA (subset posteriors = product of unimodal flows, sampled by SIR) and MVAE (an aggregated model: closed-form
product of Gaussian experts). Setting: the tri-modal `DigitsHalves` (top half 1x4x8, bottom half 1x4x8, one-hot label; sklearn digits, no download),
latent 16, the library's default networks (MLP encoders/decoders 512-512, joint encoder, MAFs with the reference size: 2 MADEs of 3 x 128), label
likelihood weighted by 10. The models are trained briefly first (JNF 30 + 30 epochs, JNF-DCCA 30 DCCA + 30 + 30, MVAE 30) so that the flows, and hence
the importance-sampling efficiency, are realistic. Timed call: `model.predict(batch, cond_mod=S, gen_mod='all')` (N=1), after warm-up calls;
the median over `--repeats` calls, for every subset S, with the calls of all models and subsets interleaved (round-robin) so that a change of
machine load affects them alike. JNF is timed with both proposal linearisations ('diagonal', the default, and 'full' Jacobian).

    OMP_NUM_THREADS=2 python benchmarks/bench_inference.py                 # writes benchmarks/results/inference_time.json
    OMP_NUM_THREADS=2 python benchmarks/bench_inference.py --cache-dir /tmp/bench_models   # reuse trained models between runs

Run it on a quiet machine: it waits (up to 30 min) until the 1-minute load average is below --max-load, and records the load before and after.
"""
import argparse, json, os, platform, statistics, sys, time
from pathlib import Path


def build_and_train(name, train, epochs, cache):
    import torch
    import multivae_nb.models as M
    from multivae_nb.models.jnf import JNF, JNFConfig
    from multivae_nb.models.jnf_dcca import JNFDcca, JNFDccaConfig
    from multivae_nb.trainers import BaseTrainer, BaseTrainerConfig
    from multivae_nb.trainers.multistage import TwoStepsTrainer, TwoStepsTrainerConfig, AddDccaTrainer, AddDccaTrainerConfig
    folder = None if cache is None else Path(cache) / name
    if folder is not None and (folder / 'model.json').exists(): return M.AutoModel.load_from_folder(folder)
    torch.manual_seed(0)
    common = dict(input_dims=train.shapes, latent_dim=16, rescale_factors={'labels': 10.0},
                  decoders_dist={'top': 'bernoulli', 'bottom': 'bernoulli', 'labels': 'categorical'})
    quiet = dict(show_progress=False)
    if name == 'MVAE':
        m = M.MVAE(M.MVAEConfig(**common, kl_warmup_epochs=0))
        BaseTrainer(m, train, training_config=BaseTrainerConfig(num_epochs=epochs, **quiet)).train()
    elif name == 'JNF':
        m = JNF(JNFConfig(**common, joint_stage_epochs=epochs))
        TwoStepsTrainer(m, train, training_config=TwoStepsTrainerConfig(num_epochs=2 * epochs, **quiet)).train()
    else:
        m = JNFDcca(JNFDccaConfig(**common, joint_stage_epochs=epochs, nb_epochs_dcca=epochs, embedding_dcca_dim=10))
        AddDccaTrainer(m, train, training_config=AddDccaTrainerConfig(num_epochs=3 * epochs, learning_rate_dcca=1e-3, **quiet)).train()
    if folder is not None: m.save(folder)
    return m


def time_all(variants, batch, repeats, warmup=3):
    "Median time of predict for every (variant, subset), the calls interleaved (round-robin) so that load changes hit all variants alike."
    import torch
    from multivae_nb.distributions import subsets
    jobs = [(label, m, jac, list(S)) for label, m, jac in variants for S in subsets(m.modalities)]
    def call(m, jac, S):
        if jac is not None: m.model_config.proposal_jacobian = jac
        t0 = time.perf_counter(); m.predict(batch, S, 'all'); return time.perf_counter() - t0
    for job in jobs:
        for _ in range(warmup): call(*job[1:])
    ts = {(label, '+'.join(S)): [] for label, _, _, S in jobs}
    for _ in range(repeats):
        for label, m, jac, S in jobs: ts[(label, '+'.join(S))].append(call(m, jac, S))
    out = {}
    for (label, key), v in ts.items():
        out.setdefault(label, {})[key] = {'size': key.count('+') + 1, 'median_ms': round(1e3 * statistics.median(v), 2), 'min_ms': round(1e3 * min(v), 2)}
    return out


def wait_quiet(max_load, timeout=1800):
    "Wait until the 1-minute load average is below max_load (at most `timeout` s); returns the load then."
    t0 = time.time()
    while os.getloadavg()[0] > max_load and time.time() - t0 < timeout: time.sleep(15)
    return os.getloadavg()[0]


def ess_of(model, batch):
    "Mean SIR effective sample size over the batch for each pair of modalities (JNF models)."
    import torch
    from multivae_nb.distributions import subsets
    res = {}
    for S in subsets(model.modalities, 2, len(model.modalities) - 1):
        torch.manual_seed(0); q = model.posterior(batch, list(S)); q.rsample()
        res['+'.join(S)] = round(float(q.ess.mean()), 2)
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--epochs', type=int, default=30, help='epochs per training stage')
    p.add_argument('--repeats', type=int, default=30)
    p.add_argument('--cache-dir', default=None, help='folder to save/reuse the trained models')
    p.add_argument('--max-load', type=float, default=1.0, help='wait until the 1-min load average is below this before timing (at most 30 min)')
    p.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'inference_time.json'))
    a = p.parse_args()
    import torch
    threads = int(os.environ.get('OMP_NUM_THREADS', torch.get_num_threads())); torch.set_num_threads(threads)
    import multivae_nb
    from multivae_nb.datasets import DigitsHalves
    train, test = DigitsHalves('train'), DigitsHalves('test')
    batch = test[torch.arange(100)]
    torch.set_num_threads(1)   # training single-threaded (not timed)
    models = {n: build_and_train(n, train, a.epochs, a.cache_dir).eval() for n in ('MVAE', 'JNF', 'JNF-DCCA')}
    torch.set_num_threads(threads)
    variants = [('MVAE', models['MVAE'], None), ('JNF', models['JNF'], 'diagonal'), ('JNF (full-Jacobian proposal)', models['JNF'], 'full'),
                ('JNF-DCCA', models['JNF-DCCA'], 'diagonal')]
    load0 = wait_quiet(a.max_load)
    times = time_all(variants, batch, a.repeats)
    load1 = os.getloadavg()[0]
    rows = {label: {'subsets': times[label]} for label, _, _ in variants}
    for label, m, jac in variants:
        if jac is not None: m.model_config.proposal_jacobian = jac; rows[label]['sir_ess_of_16'] = ess_of(m, batch)
        print(label, {k: v['median_ms'] for k, v in times[label].items()}, flush=True)
    print(f'load average (1 min): {load0:.2f} before, {load1:.2f} after', flush=True)
    by_size = {}
    for label, r in rows.items():
        sizes = sorted({v['size'] for v in r['subsets'].values()})
        by_size[label] = {s: round(statistics.mean(v['median_ms'] for v in r['subsets'].values() if v['size'] == s), 2) for s in sizes}
    ratio = {label: {s: round(v / by_size['MVAE'][s], 1) for s, v in d.items()} for label, d in by_size.items() if label != 'MVAE'}
    res = {'setting': {'dataset': 'DigitsHalves test split, first 100 samples', 'modalities': {k: list(v) for k, v in train.shapes.items()},
                       'latent_dim': 16, 'batch': 100, 'call': "model.predict(batch, cond_mod=S, gen_mod='all'), N=1",
                       'networks': 'default MLPs 512-512, JointMLPEncoder, MAF 2 x MADE(128,128,128) conditioned on the encoder output; DCCA MLPEmbedder 512-512 -> 10',
                       'jnf_sir': 'n_proposals=16, proposal_scale=1.05, proposal_jacobian diagonal (default) or full', 'training_epochs_per_stage': a.epochs, 'repeats': a.repeats,
                       'torch_threads': threads, 'timing': 'calls interleaved round-robin over models and subsets; median'},
           'load_average_1min': {'before': round(load0, 2), 'after': round(load1, 2)},
           'machine': {'machine': platform.machine(), 'cpu_count': os.cpu_count(), 'python': platform.python_version(), 'torch': torch.__version__,
                       'library_version': multivae_nb.__version__},
           'mean_ms_by_subset_size': by_size, 'ratio_to_MVAE_by_subset_size': ratio, 'details': rows,
           'note': 'Subsets of all modalities use the joint encoder in JNF/JNF-DCCA (Gaussian); size-1 subsets one flow; size 2 the SIR sampler. '
                   'Reference (Senellart et al. 2023): ~20 s for 100 samples from 2 of 5 modalities with HMC vs 0.05 s for the aggregated models.'}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps({'mean_ms_by_subset_size': by_size, 'ratio_to_MVAE': ratio}, indent=1))


if __name__ == '__main__':
    main()
