"""Our side of the MVAE collapse check (side_by_side/results/reference_mvae_polymnist_collapse.json): MVAE with the case study's settings (grid.build_model),
trained 2 epochs on the first 10,240 samples of our rebuilt PolyMNIST in fp32, printing the joint KL per epoch. The reference library's side:
    PYTHONPATH=../shared/reference/tv_stub OMP_NUM_THREADS=1 $REF/bin/python reproductions/side_by_side/reference_run.py MVAE --epochs 2 --curve-every 1 --n-train 10240 --curve-n 200
Ours:  MULTIVAE_NB_DATA=../shared/data OMP_NUM_THREADS=1 .venv/bin/python reproductions/side_by_side/ours_mvae_collapse.py"""
import json, sys, tempfile
from pathlib import Path
import torch
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / 'case_study')]
import grid
from polymnist_tools import load_data
from multivae_nb.trainers import BaseTrainer, BaseTrainerConfig

torch.set_num_threads(1)
train, _ = load_data()
model = grid.build_model(grid.Run('MVAE', 1.0, True, 0), dict(grid.BUDGETS['pilot'], name='collapse'))
with tempfile.TemporaryDirectory() as d:
    cfg = BaseTrainerConfig(output_dir=d, num_epochs=2, per_device_train_batch_size=256, learning_rate=5e-4, seed=0, drop_last=True, amp=False,
                            show_progress=False, steps_saving=None)
    BaseTrainer(model, train.subset(torch.arange(10240)), None, training_config=cfg).train()
    for h in json.loads(next(Path(d).glob('*/metrics_history.json')).read_text()):
        print({'epoch': h['epoch'], 'kl_joint': h['train_kl_joint'], 'train_loss': h['train_loss'], 'epoch_s': round(h['epoch_time_s'], 1)})
