"""Training-speed benchmark of multivae_nb models.

Fixed setting (issues #2, #3): 6,000 MNIST-shaped samples (binary 1x28x28 image + one-hot label), latent 20, the default MLP networks (512-512),
Bernoulli image / categorical label likelihoods, batch 128, Adam 1e-3. Each (model, threads) pair runs in its own subprocess so that peak memory
and thread settings don't leak between runs.

    python benchmarks/bench_training.py                  # all models, 1 and 2 threads, writes benchmarks/results/training_speed.json
    python benchmarks/bench_training.py --models JMVAE --threads 2 --epochs 3   # replaces only JMVAE's rows in the JSON

MMVAE and MMVAE+ use K=10 importance samples (DReG) and MMVAE+ a private latent of size 10, as the reference measurements do.
JNF and TELBO train in two stages (`TwoStepsTrainer`): each stage lasts `--warmup-epochs` untimed + `--epochs` timed epochs; a row gives each
stage's median under 'stages' and, as 's_per_epoch_median', the mean of the two stage medians (a run that spends as many epochs in each stage).

`benchmarks/side_by_side.py` runs this script's child mode beside `benchmarks/bench_reference.py` (the reference library, same data and setting).

Run it on an idle machine: another busy process on the 2 cores makes the numbers meaningless.
"""
import argparse, hashlib, json, os, platform, resource, subprocess, sys, time
from pathlib import Path

N, LATENT, BATCH = 6000, 20, 128
DIMS = {'images': (1, 28, 28), 'labels': (10,)}
REFERENCE = {'JMVAE': 1.1, 'MVAE': 1.2, 'MMVAE': 3.0, 'MVTCAE': 0.6, 'MoPoE': 0.65, 'MMVAEPlus': 2.9}   # MultiVae, s/epoch, 2 threads
MODELS = [*REFERENCE, 'JNF', 'TELBO']
STAGED = {'JNF': ('joint', 'flows'), 'TELBO': ('joint', 'unimodal')}
PRIVATE_DIM = 10   # MMVAE+'s private latent
NETWORKS = {'reference': "the reference library's default MLPs: encoders 512-512 (MMVAE+: 512, the reference's default encoder with a private "
                         "head has one hidden layer), decoders 512; JMVAE, JNF and TELBO joint encoder as the reference's MultipleHeadJointEncoder "
                         "(a copy of each unimodal encoder, their means concatenated, then 512-512)",
            'library': "this library's defaults: MLPs 512-512 both ways"}


# ---------------------------------------------------------------- data shared with benchmarks/bench_reference.py (torch only, no library import)
def make_data(n: int = N, seed: int = 0) -> dict:
    "The benchmark data: {'images': binary (n, 1, 28, 28) float, 'labels': one-hot (n, 10) float, 'classes': (n,) long}."
    import torch
    g = torch.Generator().manual_seed(seed)
    classes = torch.randint(0, 10, (n,), generator=g)
    return {'images': torch.bernoulli(torch.full((n, 1, 28, 28), 0.13), generator=g),
            'labels': torch.nn.functional.one_hot(classes, 10).float(), 'classes': classes}


def load_data(path, n: int) -> dict:
    "make_data(n), or the tensors saved at `path` (by benchmarks/side_by_side.py) so that both libraries train on the same ones."
    if not path: return make_data(n)
    import torch
    d = torch.load(path)
    if len(d['images']) != n: raise SystemExit(f"{path} holds {len(d['images'])} samples, not --n-samples {n}.")
    return d


def data_fingerprint(d: dict) -> str:
    "SHA-256 of the tensors' bytes (images, labels, classes): the two libraries' rows must show the same one."
    h = hashlib.sha256()
    for k in ('images', 'labels', 'classes'): h.update(d[k].contiguous().numpy().tobytes())
    return h.hexdigest()


def check_inputs(d: dict, seed: int = 1) -> dict:
    "Fixed logits for the weights-free likelihood check: {'images': (128, 1, 28, 28), 'labels': (128, 10)} and the first 128 samples."
    import torch
    g = torch.Generator().manual_seed(seed)
    b = min(BATCH, len(d['images']))
    return {'logits': {'images': 2 * torch.randn(b, 1, 28, 28, generator=g), 'labels': 2 * torch.randn(b, 10, generator=g)},
            'targets': {'images': d['images'][:b], 'labels': d['labels'][:b]}}


def median(v): v = sorted(v); return v[len(v) // 2]


def parameter_counts(model) -> dict:
    "All and trainable parameters of a model (either library's)."
    return {'n_parameters': sum(p.numel() for p in model.parameters()),
            'n_trainable_parameters': sum(p.numel() for p in model.parameters() if p.requires_grad)}


def stage_epochs(warmup_epochs: int, epochs: int, staged: bool) -> tuple:
    "(epochs of each stage (staged models), total epochs of the run)."
    per_stage = warmup_epochs + epochs
    return per_stage, (2 * per_stage if staged else per_stage)


# ---------------------------------------------------------------- this library's side
def _ref_joint_encoder(dims, latent):
    "A mirror of the reference's default joint encoder (MultipleHeadJointEncoder): a copy of each unimodal MLP encoder (input-512-512, both "
    "Gaussian heads computed, as there), their means concatenated (2 x latent), then 512-512 and a Gaussian head."
    import torch
    from multivae_nb.nn import BaseJointEncoder, MLPEncoder, GaussianHead, mlp

    class ReferenceJointEncoder(BaseJointEncoder):
        def __init__(self, input_dims: dict, latent_dim: int):
            super().__init__()
            self.encoders = torch.nn.ModuleDict({m: MLPEncoder(s, latent_dim, (512, 512)) for m, s in input_dims.items()})
            self.joint = mlp([latent_dim * len(input_dims), 512, 512])
            self.head = GaussianHead(512, latent_dim)

        def forward(self, inputs: dict):
            return self.head(self.joint(torch.cat([e(inputs[m]).embedding for m, e in self.encoders.items()], -1)))

    return ReferenceJointEncoder(dims, latent)


def build_model(model_name: str, nets: str, stage_len: int):
    import multivae_nb.models as M
    common = dict(input_dims=DIMS, latent_dim=LATENT, decoders_dist={'images': 'bernoulli', 'labels': 'categorical'})
    if nets == 'reference':   # MultiVae's default networks: encoders input-512-512 (with a private head: input-512), decoders latent-512-output
        from multivae_nb.nn import MLPEncoder, MLPDecoder
        style = PRIVATE_DIM if model_name == 'MMVAEPlus' else 0
        enc_hidden = (512,) if style else (512, 512)
        kw = dict(encoders={m: MLPEncoder(s, LATENT, enc_hidden, style_dim=style) for m, s in DIMS.items()},
                  decoders={m: MLPDecoder(LATENT + style, s, (512,)) for m, s in DIMS.items()})
        if model_name in ('JMVAE', 'JNF', 'TELBO'): kw['joint_encoder'] = _ref_joint_encoder(DIMS, LATENT)
    else: kw = {}
    # JNF: unconditional MAF flows of 2 MADEs of 3 x 128, as the reference's default (pythae MAF); TELBO: likelihood weights max_dim / dim_m (default)
    return {'JMVAE': lambda: M.JMVAE(M.JMVAEConfig(**common), **kw), 'MVAE': lambda: M.MVAE(M.MVAEConfig(**common), **kw),
            'MMVAE': lambda: M.MMVAE(M.MMVAEConfig(**common, K=10), **kw),
            'MVTCAE': lambda: M.MVTCAE(M.MVTCAEConfig(**common), **kw), 'MoPoE': lambda: M.MoPoE(M.MoPoEConfig(**common), **kw),
            'MMVAEPlus': lambda: M.MMVAEPlus(M.MMVAEPlusConfig(**common, K=10, modalities_specific_dim=PRIVATE_DIM), **kw),
            'JNF': lambda: M.JNF(M.JNFConfig(**common, joint_stage_epochs=stage_len, conditional_flows=False, flows_transforms=2,
                                             flows_hidden=(128, 128, 128)), **kw),
            'TELBO': lambda: M.TELBO(M.TELBOConfig(**common, joint_stage_epochs=stage_len), **kw)}[model_name]()


def _alignment_checks(model, ds, d) -> dict:
    "Weights-free likelihood check (fixed logits) and the loss of the first batch at initialisation (full objective, first stage)."
    import torch
    c = check_inputs(d)
    lik = {m: round(float(model.likelihoods[m].log_prob(c['logits'][m], c['targets'][m]).mean()), 4) for m in DIMS}
    batch = ds[torch.arange(len(c['targets']['images']))]
    with torch.enable_grad():
        out = model(batch, stage='joint') if hasattr(model, 'training_stages') else model(batch)
    loss = float(out.loss.detach())
    return {'likelihood_check': lik, 'first_batch_loss': round(loss, 4), 'first_batch_loss_per_sample': round(loss, 4)}   # ours: mean over the batch


def run_one(model_name: str, threads: int, epochs: int, warmup_epochs: int, nets: str = 'reference', n: int = N, data: str | None = None,
            amp: bool = False) -> dict:
    import torch
    torch.set_num_threads(threads)
    import multivae_nb
    from multivae_nb.data import MultimodalBaseDataset
    from multivae_nb.trainers import BaseTrainer, BaseTrainerConfig, TwoStepsTrainer, TwoStepsTrainerConfig
    d = load_data(data, n)
    ds = MultimodalBaseDataset({'images': d['images'], 'labels': d['labels']}, labels=d['classes'])
    staged = model_name in STAGED
    stage_len, num_epochs = stage_epochs(warmup_epochs, epochs, staged)
    torch.manual_seed(0)
    model = build_model(model_name, nets, stage_len)
    counts = parameter_counts(model)   # before training (staged runs end with parts frozen)
    checks = _alignment_checks(model, ds, d)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    Cfg, Trainer = (TwoStepsTrainerConfig, TwoStepsTrainer) if staged else (BaseTrainerConfig, BaseTrainer)
    cfg = Cfg(num_epochs=num_epochs, per_device_train_batch_size=BATCH, learning_rate=1e-3, optimizer_cls='Adam', show_progress=False, amp=amp)
    trainer = Trainer(model, ds, training_config=cfg)
    hist = trainer.train()
    row = {'model': model_name, 'threads': threads, 'nets': nets, 'torch_threads': torch.get_num_threads(),
           'precision': 'bf16 autocast' if amp else 'float32'}
    if staged:
        stages = []
        for i, name in enumerate(STAGED[model_name]):
            t = [h['epoch_time_s'] for h in hist[i * stage_len:(i + 1) * stage_len][warmup_epochs:]]
            assert all(h.get('stage') == i for h in hist[i * stage_len:(i + 1) * stage_len]), 'stage schedule mismatch'
            stages.append({'name': name, 's_per_epoch_median': round(median(t), 4), 's_per_epoch_all': [round(x, 4) for x in t]})
        med = sum(s['s_per_epoch_median'] for s in stages) / len(stages)
        row.update(s_per_epoch_median=round(med, 4), s_per_epoch_all=[x for s in stages for x in s['s_per_epoch_all']], stages=stages,
                   timed='mean of the two stage medians; each stage: median of its timed epochs after its untimed first ones')
    else:
        times = [h['epoch_time_s'] for h in hist[warmup_epochs:]]
        row.update(s_per_epoch_median=round(median(times), 4), s_per_epoch_all=[round(t, 4) for t in sorted(times)])
    row.update(samples_per_s=round(n / row['s_per_epoch_median'], 1),
               peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), rss_before_training_mb=round(rss0 / 1024, 1),
               library_version=multivae_nb.__version__, torch=torch.__version__, n_samples=n, epochs_run=num_epochs,
               **counts, data_sha256=data_fingerprint(d), **checks)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--models', nargs='+', default=MODELS, choices=MODELS)
    p.add_argument('--threads', nargs='+', type=int, default=[1, 2])
    p.add_argument('--epochs', type=int, default=5, help='timed epochs (the median is reported); per stage for JNF and TELBO')
    p.add_argument('--warmup-epochs', type=int, default=1, help='untimed first epochs (of each stage for JNF and TELBO)')
    p.add_argument('--n-samples', type=int, default=N, help='training samples (the recorded setting is 6,000)')
    p.add_argument('--data', default=None, help='a .pt file of the tensors to train on (written by side_by_side.py); default: generated, seed 0')
    p.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'training_speed.json'))
    p.add_argument('--nets', choices=['reference', 'library'], default='reference',
                   help="'reference': the reference library's default MLPs (encoders 512-512, decoders 512), the like-for-like comparison; "
                        "'library': this library's defaults (512-512 both ways)")
    p.add_argument('--amp', action='store_true', help='train under bf16 autocast (BaseTrainerConfig(amp=True)); default float32')
    p.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(run_one(a.models[0], a.threads[0], a.epochs, a.warmup_epochs, a.nets, a.n_samples, a.data, a.amp))); return
    rows = []
    if Path(a.out).exists():   # keep the recorded rows of the models not re-run now (same setting only)
        old = json.loads(Path(a.out).read_text())
        if old['setting'].get('n_samples') == a.n_samples:
            rows = [r for r in old['results'] if r['model'] not in a.models and r.get('nets') == a.nets]
    for m in a.models:
        for t in a.threads:
            env = {**os.environ, 'OMP_NUM_THREADS': str(t), 'MKL_NUM_THREADS': str(t)}
            cmd = [sys.executable, __file__, '--child', '--models', m, '--threads', str(t), '--epochs', str(a.epochs),
                   '--warmup-epochs', str(a.warmup_epochs), '--nets', a.nets, '--n-samples', str(a.n_samples)]
            out = subprocess.run(cmd + (['--data', a.data] if a.data else []), env=env, capture_output=True, text=True)
            if out.returncode != 0: sys.exit(f"benchmark of {m} at {t} threads failed:\n{out.stderr}")
            r = json.loads(out.stdout.strip().splitlines()[-1]); rows.append(r)
            print(f"{m:9s} threads={t}  {r['s_per_epoch_median']:.3f} s/epoch  {r['samples_per_s']:8.0f} samples/s  peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    res = {'setting': {'n_samples': a.n_samples, 'modalities': {'images': [1, 28, 28], 'labels': [10]}, 'latent_dim': LATENT, 'batch_size': BATCH,
                       'networks': NETWORKS[a.nets], 'likelihoods': {'images': 'bernoulli', 'labels': 'categorical'},
                       'optimizer': 'Adam lr 1e-3', 'timed_epochs': a.epochs, 'untimed_epochs': a.warmup_epochs},
           'machine': {'machine': platform.machine(), 'cpu_count': os.cpu_count(), 'python': platform.python_version(),
                       'processor': platform.processor()},
           'date': time.strftime('%Y-%m-%d'), 'results': rows,
           'reference_library_s_per_epoch_2_threads': {**REFERENCE,
                                                        'source': 'issues #2 and #3: MultiVae measured on this machine class, same setting '
                                                                  '(MMVAE and MMVAE+ with K=10, MMVAE+ private dim 10)'}}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1))
    print(f"wrote {a.out}")


if __name__ == '__main__':
    main()
