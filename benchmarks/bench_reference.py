"""Training speed of the reference library (MultiVae 1.0.3, PyPI `multivae`) on the setting of benchmarks/bench_training.py.

Run it in the reference library's environment, never in this project's. On this project's machines MultiVae needs a stand-in torchvision
(see /work/shared/reference/README.md) on PYTHONPATH; it is not part of this project:

    PYTHONPATH=/work/shared/reference/tv_stub OMP_NUM_THREADS=1 /tmp/multivae-ref/bin/python benchmarks/bench_reference.py \\
        --model JMVAE --threads 1 --epochs 5

It prints one JSON row (the last line of stdout) in the format of bench_training.py's rows. `benchmarks/side_by_side.py` runs it beside this
library's benchmark, on the same tensors (--data), and writes both into one JSON.

The setting, aligned with bench_training.py --nets reference:
- data: make_data() of bench_training.py (the same generator and seed) or the tensors of --data; n samples (default 6,000);
- model configs: latent 20, decoders_dist {'images': 'bernoulli', 'labels': 'categorical'}, the reference's default networks
  (encoders_dict/decoders None), MMVAE and MMVAE+ K=10 with 'dreg_looser', MMVAE+ modalities_specific_dim=10; every other field at the
  reference's default (JMVAE alpha 0.1, warm-up 10; MVAE warm-up 10, subsampling; MVTCAE alpha 0.1, beta 2.5; MoPoE all subsets;
  JNF default MAF flows; TELBO likelihood rescaling max_dim / dim_m);
- --decoders logits (default): the reference's default decoders end with a Sigmoid whose output its Bernoulli and categorical log-probs then
  read as *logits* (probabilities in (0.5, 0.73) only); the final Sigmoid is replaced by the identity, so that both libraries compute the
  same model. --decoders default keeps it (one more element-wise op per decoder call);
- trainer: its BaseTrainer (MultistageTrainer for JNF and TELBO), batch 128, Adam, learning rate 1e-3 (its default is 1e-4), no eval set,
  console progress bar and metric printer callbacks left out (this library's run has show_progress=False);
- timing: `train_step(epoch)` of each epoch (the loop over the batches with the optimizer steps; its best-model copies, checkpoint at the
  stage change and final save are outside, as this library's `epoch_time_s` leaves its best-state copy out); the median of the timed epochs
  after --warmup-epochs untimed ones. JNF and TELBO: each stage lasts warmup + epochs epochs (model warmup = that), timed like the others,
  and the row gives the mean of the two stage medians, as bench_training.py does.
"""
import argparse, json, logging, os, resource, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import (BATCH, DIMS, LATENT, MODELS, N, PRIVATE_DIM, STAGED, check_inputs, data_fingerprint, load_data, median, parameter_counts,  # noqa: E402
                            stage_epochs)


def build_model(name: str, stage_len: int, decoders: str = 'logits'):
    import torch
    import multivae.models as R
    common = dict(n_modalities=len(DIMS), input_dims=DIMS, latent_dim=LATENT,
                  decoders_dist={'images': 'bernoulli', 'labels': 'categorical'})
    cfg = {'JMVAE': lambda: R.JMVAEConfig(**common), 'MVAE': lambda: R.MVAEConfig(**common),
           'MMVAE': lambda: R.MMVAEConfig(**common, K=10, loss='dreg_looser'),
           'MVTCAE': lambda: R.MVTCAEConfig(**common), 'MoPoE': lambda: R.MoPoEConfig(**common),
           'MMVAEPlus': lambda: R.MMVAEPlusConfig(**common, K=10, modalities_specific_dim=PRIVATE_DIM, loss='dreg_looser'),
           'JNF': lambda: R.JNFConfig(**common, warmup=stage_len), 'TELBO': lambda: R.TELBOConfig(**common, warmup=stage_len)}[name]()
    model = getattr(R, name)(cfg)
    if decoders == 'logits':
        for m, dec in model.decoders.items():
            last = dec.layers[-1]
            if not (isinstance(last, torch.nn.Sequential) and isinstance(last[-1], torch.nn.Sigmoid)):
                raise SystemExit(f"{name}: the reference's default decoder of '{m}' no longer ends with a Sigmoid; check --decoders.")
            last[-1] = torch.nn.Identity()
    return model


def _alignment_checks(model, ds_cls, d, staged: bool) -> dict:
    "Weights-free likelihood check (fixed logits) and the first batch's loss at initialisation (no annealing; first stage for JNF and TELBO)."
    c = check_inputs(d)
    lik = {m: round(float(model.recon_log_probs[m](c['logits'][m], c['targets'][m]).reshape(len(c['logits'][m]), -1).sum(-1).mean()), 4)
           for m in DIMS}
    batch = ds_cls(data=dict(c['targets']))
    out = model(batch, epoch=1 if staged else 10 ** 6)   # epoch past the warm-ups: full objective (grad on: DReG registers hooks)
    loss = float(out.loss.detach())
    per_sample = float(out.loss_sum.detach()) / len(c['targets']['images']) if 'loss_sum' in out.keys() else loss
    return {'likelihood_check': lik, 'first_batch_loss': round(loss, 4), 'first_batch_loss_per_sample': round(per_sample, 4)}


def timed_trainer(Base):
    "A subclass of the reference's trainer class `Base` that times train_step(epoch) into `epoch_times` [(epoch, s)], without console callbacks."
    from multivae.trainers.base.callbacks import CallbackHandler, TrainingCallback

    class Timed(Base):
        epoch_times = []

        def _setup_callbacks(self):
            self.callbacks = [TrainingCallback()] if self.callbacks is None else self.callbacks
            self.callback_handler = CallbackHandler(callbacks=self.callbacks, model=self.model)

        def train_step(self, epoch):
            t0 = time.perf_counter(); out = super().train_step(epoch)
            self.epoch_times.append((epoch, time.perf_counter() - t0)); return out
    return Timed


def run_one(name: str, threads: int, epochs: int, warmup_epochs: int, n: int = N, data: str | None = None, decoders: str = 'logits') -> dict:
    import torch
    torch.set_num_threads(threads)
    import importlib.metadata as md
    from multivae.data import MultimodalBaseDataset
    from multivae.trainers import BaseTrainer, BaseTrainerConfig, MultistageTrainer, MultistageTrainerConfig
    for lg in list(logging.root.manager.loggerDict):   # its modules log every epoch at INFO on the console
        if lg.startswith(('multivae', 'pythae')): logging.getLogger(lg).setLevel(logging.WARNING)

    d = load_data(data, n)
    ds = MultimodalBaseDataset(data={'images': d['images'], 'labels': d['labels']}, labels=d['classes'])
    staged = name in STAGED
    stage_len, num_epochs = stage_epochs(warmup_epochs, epochs, staged)
    torch.manual_seed(0)
    model = build_model(name, stage_len, decoders)
    counts = parameter_counts(model)   # before training (staged runs end with parts frozen)
    checks = _alignment_checks(model, MultimodalBaseDataset, d, staged)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    Cfg, Base = (MultistageTrainerConfig, MultistageTrainer) if staged else (BaseTrainerConfig, BaseTrainer)

    Timed = timed_trainer(Base)
    with tempfile.TemporaryDirectory(prefix='bench_reference_') as tmp:   # its trainer writes checkpoints and the final model
        cfg = Cfg(output_dir=tmp, num_epochs=num_epochs, per_device_train_batch_size=BATCH, learning_rate=1e-3, optimizer_cls='Adam')
        trainer = Timed(model, ds, training_config=cfg)
        trainer.train()
    times = dict(trainer.epoch_times)
    assert sorted(times) == list(range(1, num_epochs + 1)), f"epochs run: {sorted(times)}"
    row = {'model': name, 'threads': threads, 'nets': 'reference library defaults' + (', decoders without the final Sigmoid' if decoders == 'logits' else ''),
           'torch_threads': torch.get_num_threads()}
    if staged:
        stages = []
        for i, st in enumerate(STAGED[name]):
            t = [times[e] for e in range(i * stage_len + 1, (i + 1) * stage_len + 1)][warmup_epochs:]
            stages.append({'name': st, 's_per_epoch_median': round(median(t), 4), 's_per_epoch_all': [round(x, 4) for x in t]})
        row.update(s_per_epoch_median=round(sum(s['s_per_epoch_median'] for s in stages) / len(stages), 4),
                   s_per_epoch_all=[x for s in stages for x in s['s_per_epoch_all']], stages=stages,
                   timed='mean of the two stage medians; each stage: median of its timed epochs after its untimed first ones')
    else:
        t = [times[e] for e in range(warmup_epochs + 1, num_epochs + 1)]
        row.update(s_per_epoch_median=round(median(t), 4), s_per_epoch_all=[round(x, 4) for x in sorted(t)])
    row.update(samples_per_s=round(n / row['s_per_epoch_median'], 1),
               peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), rss_before_training_mb=round(rss0 / 1024, 1),
               library='multivae', library_version=md.version('multivae'), pythae_version=md.version('pythae'), torch=torch.__version__,
               n_samples=n, epochs_run=num_epochs, **counts, data_sha256=data_fingerprint(d),
               decoders=decoders, **checks)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', required=True, choices=MODELS)
    p.add_argument('--threads', type=int, default=1, help='torch threads (set OMP_NUM_THREADS to the same number)')
    p.add_argument('--epochs', type=int, default=5, help='timed epochs (the median is reported); per stage for JNF and TELBO')
    p.add_argument('--warmup-epochs', type=int, default=1, help='untimed first epochs (of each stage for JNF and TELBO)')
    p.add_argument('--n-samples', type=int, default=N)
    p.add_argument('--data', default=None, help='a .pt file of the tensors to train on (written by side_by_side.py); default: generated, seed 0')
    p.add_argument('--decoders', choices=['logits', 'default'], default='logits',
                   help="'logits': the default decoders without their final Sigmoid (the outputs are logits, as the likelihoods read them); "
                        "'default': as the reference builds them")
    a = p.parse_args()
    if os.environ.get('OMP_NUM_THREADS') not in (None, str(a.threads)):
        print(f"warning: OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} but --threads {a.threads}", file=sys.stderr)
    print(json.dumps(run_one(a.model, a.threads, a.epochs, a.warmup_epochs, a.n_samples, a.data, a.decoders)))


if __name__ == '__main__':
    main()
