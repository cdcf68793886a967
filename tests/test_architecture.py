"""The shape of the package (issue #15): methods defined on their classes, and layers that only import downwards.

Layers, lowest first; a module may import its own layer's lower modules and any lower layer, never a higher one. Trainers, metrics and samplers
share a layer and never import each other. Imports inside functions (lazy, e.g. the Hub code behind `model.push_to_hf_hub`) are allowed.
"""
import ast, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / 'multivae_nb'
LAYERS = [['core'], ['io'], ['distributions', 'data', 'nn', 'flows', 'dcca', 'callbacks', 'trackers', 'datasets'], ['models'],
          ['trainers', 'metrics', 'samplers'], ['hub', 'widgets', 'demo']]
SIBLINGS_APART = 4   # the layer whose packages do not import each other


def _modules():
    for p in sorted(PKG.rglob('*.py')):
        if p.name == '_modidx.py': continue
        yield p, '.'.join(p.relative_to(ROOT).with_suffix('').parts).removesuffix('.__init__')


def _layer(mod: str):
    top = mod.split('.')[1] if '.' in mod else mod
    return next((i for i, names in enumerate(LAYERS) if top in names), None), top


def _module_level_imports(path: Path, mod: str):
    "The multivae_nb modules imported at module level by `path` (relative imports resolved; `from pkg import sub` gives pkg.sub)."
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split('.') if path.name == '__init__.py' else mod.split('.')[:-1]
                base = base[:len(base) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else: target = node.module or ''
            names = [target + '.' + a.name for a in node.names] if target == 'multivae_nb' else [target]
        elif isinstance(node, ast.Import): names = [a.name for a in node.names]
        else: continue
        yield from (n for n in names if n.startswith('multivae_nb.'))


def test_every_module_has_a_layer():
    assert [m for _, m in _modules() if m != 'multivae_nb' and _layer(m)[0] is None] == []


def test_no_module_imports_from_a_layer_above_it():
    bad = []
    for path, mod in _modules():
        if mod == 'multivae_nb': continue
        L, top = _layer(mod)
        for target in _module_level_imports(path, mod):
            TL, ttop = _layer(target)
            if TL > L or (TL == L == SIBLINGS_APART and ttop != top): bad.append(f'{mod} (layer {L}) imports {target} (layer {TL})')
    assert bad == [], '\n'.join(bad)


def test_no_method_attached_from_outside_its_class():
    "`Cls.meth = fn` hides methods from readers, tracebacks and the docs: methods are defined in the class or with fastcore's @patch."
    pat = re.compile(r'^[A-Z][A-Za-z]+\.[a-z_]+(, [A-Z][A-Za-z]+\.[a-z_]+)* = ', re.M)
    bad = [f'{p.relative_to(ROOT)}: {m.group(0)}' for p, _ in _modules() for m in pat.finditer(p.read_text())]
    assert bad == [], '\n'.join(bad)


def test_the_checks_catch_what_they_forbid(tmp_path):
    "The layer check reads relative and absolute imports (a check that cannot fail is no check)."
    p = tmp_path / 'x.py'; p.write_text('from ..trainers.base import to_device\nfrom multivae_nb import hub\nimport torch\n')
    got = list(_module_level_imports(p, 'multivae_nb.metrics.x'))
    assert got == ['multivae_nb.trainers.base', 'multivae_nb.hub']


def test_no_module_over_400_lines():
    "A module that grows past 400 lines is doing the work of two: split it along its sections."
    big = [f'{p.relative_to(ROOT)}: {n} lines' for p, _ in _modules() if (n := len(p.read_text().splitlines())) > 400]
    assert big == [], '\n'.join(big)


# ---------------------------------------------------------------- notebooks that teach cell by cell
NBS = sorted((ROOT / 'nbs').glob('*.ipynb'))
_EXPORT = re.compile(r'\s*#\|\s*export')
_TESTS_HEADER = re.compile(r'#+\s*Tests?\b')


def _exported_cell_sizes(nb_path: Path) -> list:
    "Lines of each `#| export` cell that are neither blank nor `#|` directives."
    import json
    cells = json.loads(nb_path.read_text())['cells']
    return [len([l for l in ''.join(c['source']).splitlines() if l.strip() and not l.strip().startswith('#|')])
            for c in cells if c['cell_type'] == 'code' and _EXPORT.match(''.join(c['source']))]


def test_exported_cells_are_short():
    "The median exported cell has at most 15 lines and none has more than 50 (fastcore's notebooks: a median of about 6)."
    sizes = {p.name: _exported_cell_sizes(p) for p in NBS}
    allsizes = sorted(n for v in sizes.values() for n in v)
    assert allsizes, 'no exported cells found'
    median = allsizes[len(allsizes) // 2]
    assert median <= 15, f'median exported cell: {median} lines'
    over = {nb: [n for n in v if n > 50] for nb, v in sizes.items() if any(n > 50 for n in v)}
    assert not over, f'exported cells over 50 lines: {over}'


def test_no_trailing_tests_section():
    "No notebook puts its tests in a '## Tests' section after its code: each check sits right after the cell it checks."
    import json
    bad = []
    for p in NBS:
        cells = json.loads(p.read_text())['cells']
        if any(c['cell_type'] == 'markdown' and _TESTS_HEADER.match(''.join(c['source']).strip()) for c in cells): bad.append(p.name)
    assert not bad, f"notebooks with a '## Tests' section: {bad}"


def _only_imports(cell) -> bool:
    "A cell of imports only (and directives): it needs no check of its own."
    lines = [l.strip() for l in ''.join(cell['source']).splitlines() if l.strip() and not l.strip().startswith('#')]
    return all(re.match(r'(import |from \S+ import )', l) or l.startswith(')') or l.endswith(',') for l in lines)


def test_every_exported_cell_is_followed_by_a_check():
    "After each exported cell, before the next one, there is a code cell that is not exported (its example or test)."
    import json
    missing = []
    for p in NBS:
        cells = [c for c in json.loads(p.read_text())['cells'] if c['cell_type'] == 'code']
        kinds = [('imports' if _only_imports(c) else 'export') if _EXPORT.match(''.join(c['source']))
                 else 'hide' if re.match(r'\s*#\|\s*hide', ''.join(c['source'])) else 'check' for c in cells]
        for i, k in enumerate(kinds):
            if k != 'export': continue
            nxt = next((kinds[j] for j in range(i + 1, len(kinds)) if kinds[j] not in ('hide', 'imports')), None)
            if nxt == 'export': missing.append(f'{p.name} code cell {i}')
    assert len(missing) <= 0, f'exported cells followed directly by another exported cell: {missing[:20]} ({len(missing)} in all)'


def _private_imports(path: Path):
    "Private names (`_x`) that `path` imports, at any depth, from a multivae_nb module: ['from <module> import <name>', ...]."
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or '').startswith('multivae_nb')):
            for a in node.names:
                if a.name.startswith('_') and not a.name.startswith('__'): yield f"from {'.' * node.level}{node.module or ''} import {a.name}"


def test_no_private_name_imported_across_modules():
    "A name another module needs is public (documented, in `__all__`); `_names` stay inside their module."
    bad = [f'{mod}: {imp}' for path, mod in _modules() for imp in _private_imports(path)]
    assert bad == [], '\n'.join(bad)


def test_private_import_check_catches_one(tmp_path):
    p = tmp_path / 'x.py'; p.write_text('from .base import _helper, check_batch\ndef f():\n    from multivae_nb.flows import _lazy\n')
    assert list(_private_imports(p)) == ['from .base import _helper', 'from multivae_nb.flows import _lazy']
