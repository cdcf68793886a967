"""Leave a just-executed reproduction notebook's Colab install cell as it is stored: not executed (no execution count, no outputs).

`jupyter nbconvert --execute --inplace` numbers every code cell, the Colab-only install cell (which does nothing outside Colab) included; the
project's test `test_notebook_opens_with_colab_badge_and_install_cell` wants it unexecuted. The Makefile's reproduce targets run this after
nbconvert.

    python reproductions/unnumber_install_cell.py reproductions/mopoe_polymnist.ipynb [...]
"""
import json, sys
from pathlib import Path


def unnumber(path: Path) -> bool:
    "Clear the first code cell's execution count and outputs if it is the hidden Colab install cell; True if the file changed."
    nb = json.loads(path.read_text(encoding='utf-8'))
    first = next((c for c in nb['cells'] if c['cell_type'] == 'code'), None)
    if first is None or "if 'google.colab' in sys.modules:" not in ''.join(first['source']): return False
    if first['execution_count'] is None and not first['outputs']: return False
    first['execution_count'], first['outputs'] = None, []
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    return True


if __name__ == '__main__':
    if len(sys.argv) < 2: sys.exit(__doc__)
    for p in sys.argv[1:]: print(p, 'cleared' if unnumber(Path(p)) else 'unchanged')
