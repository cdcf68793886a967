"""Write our PolyMNIST classifiers' weights as plain state dicts (runs/classifiers.pt, ignored) for reference_run.py, which runs in the reference
library's environment and cannot read our saved models. Run with the project's environment:  .venv/bin/python reproductions/side_by_side/export_classifiers.py"""
import sys
from pathlib import Path
import torch
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from polymnist_tools import load_data, load_polymnist_classifiers

_, test = load_data()
clfs = load_polymnist_classifiers(test)          # refused unless trained for this test set and accurate enough
(HERE / 'runs').mkdir(exist_ok=True)
torch.save({m: c.net.state_dict() for m, c in clfs.items()}, HERE / 'runs' / 'classifiers.pt')
print('wrote', HERE / 'runs' / 'classifiers.pt', {m: sum(p.numel() for p in c.parameters()) for m, c in clfs.items()})
