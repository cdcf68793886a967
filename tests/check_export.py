"""Fail if the exported library differs from what `nbdev_export` produces from the notebooks.

Exports into a temporary copy of the project (so the checkout is never modified) and compares every file of the package.
"""
import filecmp, shutil, subprocess, sys, tempfile
from pathlib import Path

root = Path(__file__).resolve().parents[1]
with tempfile.TemporaryDirectory() as d:
    d = Path(d)
    for f in ('settings.ini', 'setup.py', 'README.md', 'pyproject.toml'):
        if (root / f).exists(): shutil.copy(root / f, d / f)
    shutil.copytree(root / 'nbs', d / 'nbs')
    shutil.copytree(root / 'multivae_nb', d / 'multivae_nb')
    nbdev_export = Path(sys.executable).parent / 'nbdev_export'
    subprocess.run([str(nbdev_export)], cwd=d, check=True)
    diffs = []
    def walk(a: Path, b: Path):
        c = filecmp.dircmp(a, b, ignore=['__pycache__'])
        diffs.extend(str(a / f) for f in c.left_only + c.right_only + c.diff_files)
        for sub in c.common_dirs: walk(a / sub, b / sub)
    walk(root / 'multivae_nb', d / 'multivae_nb')
    if diffs:
        sys.exit("The library is out of sync with the notebooks (run nbdev_export and commit):\n  " + "\n  ".join(diffs))
print("nbdev_export: library and notebooks in sync")
