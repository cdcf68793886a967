"""Copy the progress of the reproduction trainings (ignored run folders) into reproductions/progress/<name>.json, which is committed.

    python reproductions/snapshot_progress.py

For each run folder reproductions/runs/<name>/<Model>_training_<time>/ it records the epochs done, the last checkpoint, the training time so far,
the per-epoch training loss and the learning curve, so that an interrupted run still says something before its notebook records the result.
Rerunning the notebook continues the training from the last checkpoint.
"""
from __future__ import annotations
import datetime, json
from pathlib import Path
from multivae_nb.trainers.base import checkpoints_of

HERE = Path(__file__).resolve().parent


def snapshot(run_root: Path) -> dict | None:
    runs = sorted((p for p in run_root.glob('*_training_*') if (p / 'metrics_history.json').exists()), key=lambda p: p.name)
    if not runs: return None
    run = runs[-1]
    hist = json.loads((run / 'metrics_history.json').read_text())
    curve = json.loads((run / 'learning_curve.json').read_text()) if (run / 'learning_curve.json').exists() else []
    cks = checkpoints_of(run)
    cfg = json.loads((run / 'training_config.json').read_text()) if (run / 'training_config.json').exists() else {}
    return {'name': run_root.name, 'run_folder': str(run.relative_to(HERE)), 'snapshot_time': datetime.datetime.now().isoformat(timespec='seconds'),
            'epochs_done': len(hist), 'num_epochs': cfg.get('num_epochs'), 'last_checkpoint_epoch': int(cks[-1].name.rsplit('_', 1)[1]) if cks else None,
            'training_time_s': round(sum(h.get('epoch_time_s', 0) for h in hist)),
            'train_loss': [round(h['train_loss'], 4) for h in hist], 'learning_curve': curve,
            'continue_with': f"cd reproductions && OMP_NUM_THREADS=1 jupyter nbconvert --to notebook --execute --inplace "
                             f"--ExecutePreprocessor.timeout=-1 {run_root.name}.ipynb"}


def main():
    out = HERE / 'progress'; out.mkdir(exist_ok=True)
    for root in sorted((HERE / 'runs').glob('*')):
        if root.is_dir() and (s := snapshot(root)) is not None:
            (out / f'{root.name}.json').write_text(json.dumps(s, indent=1))
            print(f"{root.name}: {s['epochs_done']} epochs done, last checkpoint at epoch {s['last_checkpoint_epoch']}, "
                  f"{s['training_time_s'] / 3600:.2f} h of training")


if __name__ == '__main__':
    main()
