"""Build the documentation site offline: Sphinx + MyST-NB over the notebooks' stored outputs, after nbdev's processing.

    python docs/build.py [--out _docs] [--work _proc/docs]     # what `make docs` runs
    python docs/build.py --nbdev-check                          # which notebooks nbdev's own docs processing fails on (slow)

What it does, in order:

1. Pages. `nbs/index.ipynb` (home), the library notebooks `nbs/*.ipynb` (named as nbdev names them: `12_models_mvae.ipynb` ->
   `models_mvae.html`), `nbs/tutorials/*.ipynb`, `reproductions/*.ipynb` and `reproductions/*/*.ipynb`. Nothing is executed: the pages show what the notebooks
   store (the library notebooks are stored mostly without outputs; the tutorials and reproductions keep those of their recorded run).
2. nbdev's processing, with nbdev's own processors (`nbdev.processors`): `#| hide` cells dropped, `#| hide_line`, magics and
   `#| default_exp` removed, a `show_doc` entry added after every exported definition (`add_show_docs`). Three changes, because
   the site is built without executing notebooks and without Quarto:
   - the `show_doc` entries are rendered from this checkout's package (the library is the notebooks' export, `make test` checks
     that they are in sync) with nbdev's renderer (fastcore's `MarkdownRenderer`: signature, docstring and the inline parameter comments
     that `docments` reads), instead of executing the notebook's exported and import cells (`exec_show_docs`);
   - exported code is kept, collapsed under its `show_doc` entry ("Exported source"), instead of removed;
   - the title cell is kept as it is (nbdev's `FrontmatterProc` turns it into Quarto front matter and drops whatever else the cell holds).
   A notebook that cannot be processed is rendered as stored, with a note at its top, and listed in the build log.
3. API reference: one page per module of the package, an entry (signature with the inline parameter comments, docstring, source
   line, defining notebook) for every name of the module's `__all__` and every public method of its classes.
4. MathJax 3 (the `django-static-mathjax` wheel's files, Apache-2.0; no Django needed) is copied into the site: no CDN at build
   or view time.

The build log (notebooks rendered as stored and why, Sphinx's warnings) is printed and written to `<out>/build-log.txt`.
"""
from __future__ import annotations
import argparse, ast, configparser, importlib, importlib.util, inspect, json, os, pkgutil, re, shutil, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))                                  # document this checkout's package, whatever the venv has installed

# library notebooks grouped in the sidebar by their number prefix (first number of each range)
GROUPS = [(0, 'Foundations'), (10, 'Models'), (20, 'Training'), (30, 'Evaluation'), (49, 'Datasets'), (60, 'Demo')]


def settings() -> dict:
    cp = configparser.ConfigParser(delimiters=['='])
    cp.read(ROOT / 'settings.ini', encoding='utf-8')
    return dict(cp['DEFAULT'])


def page_name(nb: Path) -> str:
    "nbdev's page name for a notebook: the file name without its number prefix (`12_models_mvae` -> `models_mvae`)."
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb.stem.lower())


def nb_group(nb: Path) -> str:
    m = re.match(r'(\d+)', nb.name)
    if not m: return 'Library'
    return [name for start, name in GROUPS if int(m.group(1)) >= start][-1]


# ------------------------------------------------------------------------------------------------------------- the pages
def rel(p: Path) -> str:
    "A path as the log shows it: relative to the repository when inside it."
    p = Path(p).resolve()
    return p.relative_to(ROOT).as_posix() if ROOT in p.parents else str(p)


class Page:
    def __init__(self, src: Path, docname: str, kind: str, group: str):
        self.src, self.docname, self.kind, self.group = src, docname, kind, group
        self.status, self.reason, self.notes = 'ok', '', []

    def __repr__(self): return f'Page({rel(self.src)} -> {self.docname})'


def collect_pages(root: Path = ROOT) -> list[Page]:
    nbs, pages = root / 'nbs', []
    if (nbs / 'index.ipynb').exists(): pages.append(Page(nbs / 'index.ipynb', 'index', 'home', ''))
    for p in sorted(nbs.glob('tutorials/*.ipynb')): pages.append(Page(p, f'tutorials/{p.stem}', 'tutorial', 'Tutorials'))
    for p in sorted(nbs.glob('*.ipynb')):
        if p.name != 'index.ipynb': pages.append(Page(p, page_name(p), 'library', nb_group(p)))
    rep = root / 'reproductions'
    for p in sorted(rep.glob('*.ipynb')): pages.append(Page(p, f'reproductions/{p.stem}', 'reproduction', 'Reproductions'))
    for p in sorted(rep.glob('*/*.ipynb')):
        pages.append(Page(p, f'reproductions/{p.parent.name}/{p.stem}', 'reproduction', 'Reproductions'))
    return pages


# ------------------------------------------------------------------------------------------------------------- API entries
def _unwrap(obj):
    obj = getattr(obj, '__func__', obj)                       # classmethod / staticmethod
    return getattr(obj, 'fget', None) or obj                  # property


def source_line(obj, st: dict) -> str | None:
    "GitHub link to the line that defines `obj`."
    try:
        o = inspect.unwrap(_unwrap(obj))
        f = Path(inspect.getsourcefile(o)).resolve()
        line = inspect.getsourcelines(o)[1]
        path = f.relative_to(ROOT).as_posix()
    except Exception: return None
    return f"{st['git_url']}/blob/{st['branch']}/{path}#L{line}"


def render_entry(obj, name: str, level: int, st: dict, label: str | None = None, notebook: str | None = None,
                 api: str | None = None) -> str:
    """One API entry in MyST markdown: heading, signature with the inline parameter comments (nbdev's `show_doc` renderer,
    fastcore's `MarkdownRenderer`, which reads them with `docments`), docstring, links to the source line and the notebook."""
    from fastcore.docments import MarkdownRenderer
    out = [f'({label})=\n'] if label else []
    out.append(f"{'#' * level} {name}\n")
    links = []
    if notebook: links.append(f'[notebook]({notebook})')
    if api: links.append(f'[API reference]({api})')
    if (src := source_line(obj, st)): links.append(f'[source]({src})')
    if links: out.append('{.api-links}\n' + ' · '.join(links) + '\n')
    try:
        if not (callable(_unwrap(obj)) or inspect.isclass(obj)): raise TypeError('no signature')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            md = MarkdownRenderer(_unwrap(obj), name=name, title_level=level)._repr_markdown_()
        if inspect.isclass(obj): md = md.replace('```python\ndef ', '```python\nclass ', 1)
        if isinstance(obj, property): md = md.replace('```python\ndef ', '```python\n@property\ndef ', 1)
        md = '{.api-sig}\n' + md
    except Exception:                                          # no signature (a constant, a registry, an alias): its repr
        doc = inspect.getdoc(obj) if callable(obj) or inspect.isclass(obj) else ''
        r = repr(obj)
        md = f"```text\n{name} = {r[:300] + (' ...' if len(r) > 300 else '')}\n```\n\n*{type(obj).__name__}*" + (f'\n\n{doc}' if doc else '')
    out.append(md + '\n')
    return '\n'.join(out)


def public_methods(cls) -> list[tuple[str, object]]:
    "Public methods and properties a class defines itself (not inherited), in definition order."
    res = []
    for k, v in cls.__dict__.items():
        if k.startswith('_'): continue
        f = _unwrap(v)
        if inspect.isfunction(f) and getattr(f, '__module__', '').startswith(cls.__module__.split('.')[0]): res.append((k, v))
    return res


_labels: dict[str, str] = {}


def api_label(full: str) -> str:
    "A label for `full` that stays unique once Sphinx lowercases it (`POLYMNIST_BACKGROUNDS` vs `polymnist_backgrounds`)."
    if full in _labels: return _labels[full]
    lab, n = 'api-' + full, 2
    while lab.lower() in {v.lower() for v in _labels.values()}: lab, n = f'api-{full}-{n}', n + 1
    _labels[full] = lab
    return lab


class Api:
    "The package's modules and public names, the API pages, and a lookup from names to their entries."
    def __init__(self, st: dict, pages: list[Page], only: list[str] | None = None):
        self.st, self.lib = st, st['lib_name']
        self.modules, self.failed = {}, {}
        pkg = importlib.import_module(self.lib)
        names = [self.lib] + [m.name for m in pkgutil.walk_packages(pkg.__path__, self.lib + '.') if not m.name.split('.')[-1].startswith('_')]
        for n in sorted(names):
            if only and n not in only: continue
            try: self.modules[n] = importlib.import_module(n)
            except Exception as e: self.failed[n] = f'{type(e).__name__}: {e}'
        try: self.modidx = importlib.import_module(self.lib + '._modidx').d['syms']
        except Exception: self.modidx = {}
        self.nb_of_page = {p.docname: p for p in pages if p.kind == 'library'}
        self.defined, self.targets = {}, {}                     # module -> [(name, obj)]; full name -> (docname, label)
        self.in_modules = in_modules = {}                         # id of each public object -> plain modules that export it
        for mod, m in self.modules.items():
            if not hasattr(m, '__path__'):
                for nm in self.public(m): in_modules.setdefault(id(getattr(m, nm, None)), []).append(mod)
        for mod, m in self.modules.items():
            self.defined[mod] = []
            if self.public(m): self.targets[mod] = (f'api/{mod}', api_label(mod))
            for nm in self.public(m):
                obj = getattr(m, nm, None)
                if inspect.isclass(obj) or inspect.isfunction(obj): home = getattr(obj, '__module__', mod) == mod
                else: home = not hasattr(m, '__path__') or not in_modules.get(id(obj))   # a package re-exporting a constant
                if home:
                    self.defined[mod].append((nm, obj))
                    self.targets[f'{mod}.{nm}'] = (f'api/{mod}', api_label(f'{mod}.{nm}'))
                    if inspect.isclass(obj):
                        for k, _ in public_methods(obj):
                            self.targets[f'{mod}.{nm}.{k}'] = (f'api/{mod}', api_label(f'{mod}.{nm}.{k}'))
        self.short = {}                                           # `MVAE`, `MVAE.forward` -> full name, when unique
        for full in self.targets:
            if full in self.modules: continue
            for short in (full.rsplit('.', 1)[-1], '.'.join(full.split('.')[-2:])):
                self.short.setdefault(short, set()).add(full)

    def public(self, m) -> list[str]:
        "The module's `__all__`; for a package with an empty one (`models`, `trainers`, ...), the library names it imports."
        names = list(getattr(m, '__all__', []))
        if names or not hasattr(m, '__path__'): return names
        return [k for k, v in vars(m).items() if not k.startswith('_') and not inspect.ismodule(v)
                and str(getattr(v, '__module__', '')).startswith(self.lib + '.')]

    def notebook_of(self, mod: str, qual: str) -> str | None:
        "The page of the notebook that defines `mod.qual` (from nbdev's `_modidx`), as a link from an API page."
        hit = self.modidx.get(mod, {}).get(f'{mod}.{qual}')
        if not hit: return None
        page = hit[0].split('#')[0].rsplit('.', 1)[0]
        return f'../{page}.ipynb' if page in self.nb_of_page else None

    def resolve(self, name: str, mod_hint: str | None = None):
        "The object a notebook's `show_doc(name)` refers to: in the export target module, else anywhere in the package."
        cands = ([mod_hint] if mod_hint else []) + list(self.modules)
        for mod in cands:
            m = self.modules.get(mod)
            if m is None:
                try: m = importlib.import_module(mod)           # a module left out of a partial build (--api)
                except Exception: continue
            obj = m
            try:
                for part in name.split('.'): obj = getattr(obj, part)
            except AttributeError: continue
            return mod, obj
        raise LookupError(f'show_doc({name}): no such name in the package {self.lib} (notebook and library out of sync?)')

    def link(self, text: str) -> str | None:
        "The link target of an inline-code name in prose (`MVAE`, `MVAE.forward`, `multivae_nb.models.MVAE`), when it is unique."
        t = text[:-2] if text.endswith('()') else text
        if not re.fullmatch(r'[A-Za-z_][\w.]*', t): return None
        if t in self.targets: return self.targets[t][1]
        full = self.short.get(t)
        if full and len(full) == 1: return self.targets[next(iter(full))][1]
        return None

    def write_pages(self, srcdir: Path) -> list[str]:
        api = srcdir / 'api'
        api.mkdir(parents=True, exist_ok=True)
        docnames = []
        for mod, m in self.modules.items():
            pub = self.public(m)
            if not pub: continue
            lines = [f'({api_label(mod)})=\n', f'# {mod}\n']
            doc = inspect.getdoc(m)
            if doc and not doc.startswith('Autogenerated'): lines.append(doc + '\n')
            mine = {nm for nm, _ in self.defined[mod]}
            reexp = [nm for nm in pub if nm not in mine]
            defined = self.defined[mod]
            if defined:
                for nm, obj in defined:
                    lines.append(render_entry(obj, nm, 2, self.st, label=api_label(f'{mod}.{nm}'), notebook=self.notebook_of(mod, nm)))
                    if inspect.isclass(obj):
                        for k, meth in public_methods(obj):
                            lines.append(render_entry(meth, f'{nm}.{k}', 3, self.st, label=api_label(f'{mod}.{nm}.{k}'),
                                                      notebook=self.notebook_of(mod, f'{nm}.{k}')))
            if reexp:
                lines.append('## Re-exported names\n')
                lines.append('Defined elsewhere in the package and importable from here:\n')
                for nm in reexp:
                    obj = getattr(m, nm, None)
                    homes = [f'{getattr(obj, "__module__", "?")}.{nm}'] + [f"{h}.{nm}" for h in self.in_modules.get(id(obj), [])]
                    home = next((h for h in homes if h in self.targets), homes[0])
                    tgt = self.targets.get(home)
                    lines.append(f'- [`{nm}`](#{tgt[1]}) (`{home}`)' if tgt else f'- `{nm}` (`{home}`)')
                lines.append('')
            (api / f'{mod}.md').write_text('\n'.join(lines), encoding='utf-8')
            docnames.append(mod)
        idx = ['# API reference\n',
               'Every public name of the package (each module\'s `__all__`) and the public methods of its classes, with the signature, '
               'the inline parameter comments (the `# ...` after a parameter in the source, read by fastcore\'s `docments` as nbdev\'s '
               '`show_doc` does) and the docstring. Rendered from this checkout\'s package; each entry links to the notebook that defines it.\n']
        if self.failed:
            idx.append('Modules that could not be imported while building these pages:\n')
            idx += [f'- `{k}`: {v}' for k, v in self.failed.items()]
            idx.append('')
        idx.append('| module | names |\n|---|---|')
        for mod in docnames:
            idx.append(f"| [`{mod}`]({mod}.md) | {', '.join(f'`{n}`' for n in self.public(self.modules[mod])[:12])}"
                       f"{' …' if len(self.public(self.modules[mod])) > 12 else ''} |")
        idx.append('\n```{toctree}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(docnames) + '\n```\n')
        (api / 'index.md').write_text('\n'.join(idx), encoding='utf-8')
        return docnames


# ------------------------------------------------------------------------------------------------------------- notebook processing
_re_badge = re.compile(r'\[!\[([^\]]*)\]\((https?://[^)]+)\)\]\((https?://[^)]+)\)')
_re_code = re.compile(r'(?<![`\[\w])`([^`\n]+)`(?![`\]])')
_re_link = re.compile(r'(\]\()([^)\s#]+\.ipynb|[^)\s:#]+)(#[^)\s]*)?\)')
_re_quarto_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
_re_nbval = re.compile(r'^\s*#\s*NBVAL_[A-Z_]+\s*$')
_TEST_IMPORTS = (ast.Import, ast.ImportFrom)


class Ctx:
    "What processing one notebook needs to know about the site."
    def __init__(self, api: Api, page: Page, pages: list[Page], st: dict):
        self.api, self.page, self.st = api, page, st
        self.by_src = {p.src.resolve(): p for p in pages}


def _fix_markdown(src: str, ctx: Ctx) -> str:
    "Badges -> plain links (their images are remote); links to notebooks -> their pages, to other repo files -> GitHub; names -> API."
    out, fence = [], False
    for line in src.split('\n'):
        if line.lstrip().startswith(('```', '~~~')): fence = not fence
        if not fence:
            line = _re_badge.sub(lambda m: f'[{m.group(1)}]({m.group(3)})', line)
            line = _re_link.sub(lambda m: _fix_link(m, ctx), line)
            line = _re_code.sub(lambda m: _link_code(m, ctx), line)
        out.append(line)
    return '\n'.join(out)


def _fix_link(m, ctx: Ctx) -> str:
    target, anchor = m.group(2), m.group(3) or ''
    if re.match(r'^[a-z]+:', target) or target.startswith('/'): return m.group(0)
    p = (ctx.page.src.parent / target).resolve()
    here = Path(ctx.page.docname).parent
    if p in ctx.by_src:
        return f'{m.group(1)}{os.path.relpath(ctx.by_src[p].docname + ".ipynb", here)}{anchor})'
    if p.exists() and ROOT in p.parents:
        return f"{m.group(1)}{ctx.st['git_url']}/blob/{ctx.st['branch']}/{p.relative_to(ROOT).as_posix()}{anchor})"
    return m.group(0)


def _link_code(m, ctx: Ctx) -> str:
    label = ctx.api.link(m.group(1))
    return f'[`{m.group(1)}`](#{label})' if label else m.group(0)


def process_notebook(page: Page, ctx: Ctx):
    "nbdev's processing of one notebook, without executing it (see the module docstring); returns the processed notebook."
    from execnb.nbio import read_nb
    from nbdev.process import NBProcessor
    from nbdev.processors import (populate_language, add_show_docs, strip_ansi, hide_line, filter_stream_, rm_header_dash,
                                  ai_magics, clean_magics, hide_, strip_hidden_metadata, _default_exp)
    nb = read_nb(page.src)
    default_mod = _default_exp(nb)
    lib = ctx.st['lib_name']

    def render_show_docs(nb_):
        "nbdev's `exec_show_docs`, without execution: each `show_doc(name)` cell becomes the entry rendered from the package."
        cells, mod = nb_.cells, default_mod
        for cell in cells:
            if cell.cell_type != 'code': continue
            d = cell.directives_ or {}
            if 'export' in d or 'exports' in d or 'exporti' in d:
                args = d.get('export') or d.get('exports') or d.get('exporti') or []
                mod = args[0] if args else default_mod
                continue
            m = re.fullmatch(r'\s*show_doc\((.+?)\)\s*', cell.source or '')
            if not m: continue
            name = m.group(1).split(',')[0].strip()
            full_mod, obj = ctx.api.resolve(name, f'{lib}.{mod}'.removesuffix('.__init__') if mod else None)
            cell.cell_type = 'markdown'
            for k in ('outputs', 'execution_count'): cell.pop(k, None)
            cell.pop('has_sd', None)
            label = ctx.api.targets.get(f'{full_mod}.{name}')
            cell.source = render_entry(obj, name, 3, ctx.st, api=f'#{label[1]}' if label else None)
            cell.metadata = {}

    def arrange(nb_):
        "Exported cells: `default_exp` dropped, source collapsed and put after its `show_doc` entries; quarto options applied."
        cells = nb_.cells
        i = 0
        while i < len(cells):
            c = cells[i]
            d = getattr(c, 'directives_', None) or {}
            if c.cell_type == 'code':
                if 'default_exp' in d: del c['source']; i += 1; continue
                tags = list(c.metadata.get('tags', []))
                keep = []
                for line in (c.source or '').split('\n'):
                    if _re_nbval.match(line): continue                  # nbval's markers (# NBVAL_SKIP, ...): for the tests only
                    q = _re_quarto_dir.match(line)
                    if q:
                        k, v = q.group(1), q.group(2).lower()
                        if k == 'echo' and v == 'false': tags.append('remove-input')
                        elif k == 'output' and v == 'false': tags.append('remove-output')
                        elif k == 'include' and v == 'false': del c['source']; break
                        continue
                    keep.append(line)
                else:
                    c.source = '\n'.join(keep).strip('\n')
                if 'source' not in c: i += 1; continue
                if not c.source.strip() and not c.get('outputs'): del c['source']; i += 1; continue
                if ('export' in d or 'exporti' in d) and 'exports' not in d: tags.append('hide-input')
                if tags: c.metadata['tags'] = sorted(set(tags))
                if 'export' in d or 'exporti' in d or 'exports' in d:      # move the show_doc entries that follow above it
                    j = i + 1
                    while j < len(cells) and cells[j].cell_type == 'markdown' and getattr(cells[j], 'is_entry', False): j += 1
                    if j > i + 1:
                        cells[i:j] = cells[i + 1:j] + [c]
                        i = j
                        continue
            i += 1

    def mark_entries(nb_):
        for c in nb_.cells:
            if c.cell_type == 'code' and re.fullmatch(r'\s*show_doc\((.+?)\)\s*', c.source or ''): c.is_entry = True

    procs = [populate_language, add_show_docs, strip_ansi, hide_line, filter_stream_, rm_header_dash,
             ai_magics, clean_magics, hide_, strip_hidden_metadata]
    proc = NBProcessor(nb=nb, procs=procs)
    proc.process()
    mark_entries(nb)
    render_show_docs(nb)
    for c in nb.cells:
        if c.cell_type == 'markdown' and c.get('source'): c.source = _fix_markdown(c.source, ctx)
    arrange(nb)
    nb.cells = [c for c in nb.cells if c.get('source') is not None]
    page.notes.extend(mixed_cells_note(nb_path=page.src))
    return nb


def mixed_cells_note(nb_path: Path) -> list[str]:
    """Cells that nbdev's `exec_show_docs` would execute although they are neither exports nor imports alone: in a notebook
    with exports, nbdev runs every cell that contains an import (and warns "Found cells containing imports and other code").
    Not executed here; they are where nbdev's own processing fails (names defined in test cells that it does not run)."""
    from execnb.nbio import read_nb
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval
    nb = NBProcessor(nb=read_nb(nb_path), procs=[]).nb
    dirs = [c.directives_ or {} for c in nb.cells]
    if not any(c.cell_type == 'code' and {'export', 'exports', 'exec_doc'} & set(d) for c, d in zip(nb.cells, dirs)): return []
    n = 0
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for c, d in zip(nb.cells, dirs):
            if c.cell_type != 'code' or {'export', 'exports', 'exporti', 'exec_doc'} & set(d): continue
            try:
                if not _do_eval(c): continue
                trees = c.parsed_()
            except Exception: continue
            if not all(isinstance(t, _TEST_IMPORTS) for t in trees): n += 1
    return [f'{n} mixed cell(s)'] if n else []


def as_stored(page: Page, reason: str):
    "The notebook as stored, with a note at its top saying why it was not processed."
    import nbformat
    nb = nbformat.read(page.src, as_version=4)
    why = reason.replace('`', "'")
    note = nbformat.v4.new_markdown_cell(
        ':::{note}\nThis page shows the notebook **as stored**: nbdev\'s processing of it failed during the docs build '
        f'(`{why}`), so hidden cells and exported code are shown as they are, without API entries (see the API reference).\n:::')
    at = next((i + 1 for i, c in enumerate(nb.cells) if c.cell_type == 'markdown' and re.search(r'^# ', c.source, re.M)), 0)
    nb.cells.insert(at, note)
    return nb


def write_notebook(nb, path: Path):
    import nbformat
    path.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(nb, 'cells') and not isinstance(nb, nbformat.NotebookNode):
        from execnb.nbio import nb2dict
        d = nb2dict(nb)
        for c in d['cells']:
            for k in [k for k in c if k not in ('cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count', 'attachments')]: c.pop(k)
            if c['cell_type'] == 'markdown': c.pop('outputs', None); c.pop('execution_count', None)
            c.setdefault('metadata', {})
        nb = nbformat.from_dict(d)
    nb.metadata.pop('widgets', None)                           # no widget state: the site loads no widget JavaScript
    nbformat.write(nb, str(path))


# ------------------------------------------------------------------------------------------------------------- index and site
def write_index(pages: list[Page], srcdir: Path, api_pages: list[str], ctx_api: Api, st: dict, log: list[str]):
    home = next((p for p in pages if p.kind == 'home'), None)
    groups: dict[str, list[Page]] = {}
    for p in pages:
        if p.kind != 'home': groups.setdefault(p.group, []).append(p)
    order = ['Tutorials', 'Models'] + [g for _, g in GROUPS if g != 'Models'] + ['Library', 'Reproductions']
    toc = []
    for g in order:
        if g not in groups: continue
        toc.append(f'```{{toctree}}\n:caption: {g}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(p.docname for p in groups[g]) + '\n```\n')
    toc.append('```{toctree}\n:caption: Reference\n:hidden:\n:maxdepth: 1\n\napi/index\nbuild-log\n```\n')
    import nbformat
    if home is not None:
        try:
            nb = process_notebook(home, Ctx(ctx_api, home, pages, st))
            write_notebook(nb, srcdir / 'index.ipynb')
            nb = nbformat.read(srcdir / 'index.ipynb', as_version=4)
        except Exception as e:
            home.status, home.reason = 'as stored', f'{type(e).__name__}: {e}'
            nb = as_stored(home, home.reason)
    else:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {st['title']}\n\n{st['description']}")])
    nb.cells.append(nbformat.v4.new_markdown_cell('\n'.join(toc)))
    write_notebook(nb, srcdir / 'index.ipynb')


def copy_mathjax(static: Path) -> str:
    "MathJax 3's `tex-chtml-full` component and its fonts, from the `django-static-mathjax` wheel (Apache-2.0)."
    spec = importlib.util.find_spec('mathjax')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('MathJax files not found: install the docs dependencies (pip install -e ".[dev]"; django-static-mathjax)')
    base = Path(list(spec.submodule_search_locations)[0]) / 'static' / 'mathjax'
    es5, dst = base / 'es5', static / 'mathjax'
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / 'tex-chtml-full.js', dst / 'tex-chtml-full.js')
    shutil.copytree(es5 / 'output' / 'chtml' / 'fonts' / 'woff-v2', dst / 'output' / 'chtml' / 'fonts' / 'woff-v2', dirs_exist_ok=True)
    shutil.copy2(base / 'LICENSE', dst / 'LICENSE')
    version = json.loads((base / 'package.json').read_text()).get('version', '?')
    return version


def write_log_page(pages: list[Page], srcdir: Path, log_lines: list[str]):
    rows = ['# Build log\n',
            'How each notebook was turned into its page by the last docs build. **Nothing was executed**: every page shows the '
            'outputs stored in its notebook (the library notebooks are stored mostly without outputs). *nbdev*: processed as '
            '`docs/build.py` describes; *as stored*: that processing failed, the page shows the notebook as it is. The notes count '
            'the cells that mix imports with test code: nbdev\'s own docs processing would execute them, this build does not.\n',
            '| notebook | processing | notes |', '|---|---|---|']
    for p in pages:
        rows.append(f"| [{rel(p.src)}](/{p.docname}.ipynb) | "
                    f"{'nbdev' if p.status == 'ok' else '**as stored**: ' + p.reason.replace('|', '/')} | {'; '.join(p.notes)} |")
    (srcdir / 'build-log.md').write_text('\n'.join(rows) + '\n', encoding='utf-8')


def build(out: Path, work: Path, quiet: bool = True, only: list[str] | None = None, api_only: list[str] | None = None,
          add: list[str] | None = None) -> dict:
    """Build the site into `out`. `only` (paths of notebooks, relative to the repository) and `api_only` (module names) build
    a part of it, for a quick check; the home page is always built."""
    t0 = time.time()
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    st = settings()
    os.chdir(ROOT)                                             # nbdev reads settings.ini from the working directory up
    srcdir = work / 'src'
    if srcdir.exists(): shutil.rmtree(srcdir)
    srcdir.mkdir(parents=True)
    log: list[str] = []
    pages = collect_pages()
    if only: pages = [p for p in pages if p.kind == 'home' or rel(p.src) in only]
    for a in add or []: pages.append(Page(Path(a).resolve(), f'extra/{page_name(Path(a))}', 'library', 'Library'))
    api = Api(st, pages, api_only)
    for mod, err in api.failed.items(): log.append(f'API: module {mod} could not be imported: {err}')
    api_pages = api.write_pages(srcdir)
    for p in pages:
        if p.kind == 'home': continue
        try:
            nb = process_notebook(p, Ctx(api, p, pages, st))
        except Exception as e:
            p.status, p.reason = 'as stored', f'{type(e).__name__}: {e}'.splitlines()[0][:300]
            log.append(f'AS STORED {rel(p.src)}: nbdev processing failed: {p.reason}')
            nb = as_stored(p, p.reason)
        write_notebook(nb, srcdir / f'{p.docname}.ipynb')
    write_index(pages, srcdir, api_pages, api, st, log)
    home = next((p for p in pages if p.kind == 'home'), None)
    if home and home.status != 'ok': log.append(f'AS STORED {rel(home.src)}: {home.reason}')
    mj = copy_mathjax(srcdir / '_static')
    shutil.copy2(DOCS / 'conf.py', srcdir / 'conf.py')
    shutil.copy2(DOCS / 'custom.css', srcdir / '_static' / 'custom.css')
    (srcdir / 'site.json').write_text(json.dumps({k: st[k] for k in ('title', 'description', 'git_url', 'branch', 'doc_host', 'doc_baseurl',
                                                                      'version', 'copyright', 'lib_name')} | {'mathjax': mj}))
    write_log_page(pages, srcdir, log)
    t_proc = time.time() - t0

    from sphinx.cmd.build import build_main
    warn_file = work / 'sphinx-warnings.txt'
    html = work / 'html'                                       # MyST-NB writes its images next to Sphinx's output folder: keep both in work
    for d in (html, out):
        if d.exists(): shutil.rmtree(d)
    args = ['-b', 'html', '-d', str(work / 'doctrees'), '-w', str(warn_file), '-E', '-j', '1']
    if quiet: args.append('-q')
    rc = build_main(args + [str(srcdir), str(html)])
    if html.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(html), str(out))
    sphinx_warnings = [l for l in warn_file.read_text().splitlines() if l.strip()] if warn_file.exists() else []
    (out / '.nojekyll').touch() if out.exists() else None
    summary = {'pages': len(pages), 'api_pages': len(api_pages), 'as_stored': [rel(p.src) for p in pages if p.status != 'ok'],
               'sphinx_rc': rc, 'sphinx_warnings': len(sphinx_warnings), 'seconds_processing': round(t_proc, 1),
               'seconds_total': round(time.time() - t0, 1), 'mathjax': mj}
    lines = [f"docs: {summary['pages']} notebook pages + {summary['api_pages']} API pages -> {out} "
             f"({summary['seconds_total']} s; processing {summary['seconds_processing']} s; MathJax {mj}, offline)"]
    lines += log or ['every notebook was processed the nbdev way (no notebook rendered as stored)']
    mixed = [p for p in pages if p.notes]
    if mixed:
        lines.append(f'{len(mixed)} notebooks hold cells mixing imports with test code, which nbdev\'s own processing would execute '
                     '(not executed here; `python docs/build.py --nbdev-check` runs it): ' + ', '.join(p.src.name for p in mixed))
    lines.append(f'Sphinx: exit {rc}, {len(sphinx_warnings)} warnings' + (f' (in {warn_file})' if sphinx_warnings else ''))
    lines += ['  ' + w for w in sphinx_warnings[:30]]
    text = '\n'.join(lines)
    print(text)
    if out.exists():
        (out / 'build-log.txt').write_text(text + '\n', encoding='utf-8')
        (out / 'build-summary.json').write_text(json.dumps(summary, indent=1))
    if rc != 0: raise SystemExit(f'sphinx-build failed (exit {rc})')
    return summary


def nbdev_check(only: list[str] | None = None) -> int:
    """Run nbdev's own, unmodified docs processing (`FilterDefaults`, as `nbdev_docs`/`nbdev_proc_nbs` do) on every notebook and
    list those it fails on, with the failing cell. This EXECUTES the exported cells, the import cells and the cells that mix
    imports with test code (trainings included): minutes."""
    os.chdir(ROOT)
    os.environ['IN_TEST'] = '1'
    from execnb.nbio import read_nb
    from nbdev.processors import FilterDefaults
    failed = []
    pages = [p for p in collect_pages() if not only or rel(p.src) in only]
    for p in pages:
        t = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            try:
                FilterDefaults()(read_nb(p.src)); ok = True
            except Exception as e:
                ok, cause = False, e.__cause__ or e
                first = str(e).splitlines()[0]
                src = '\n'.join(str(e).splitlines()[1:]).strip()
                failed.append((rel(p.src), first, f'{type(cause).__name__}: {cause}'.splitlines()[0], src))
        print(f"{'ok  ' if ok else 'FAIL'} {time.time() - t:6.1f} s  {rel(p.src)}", flush=True)
    print(f'\n{len(failed)} of {len(pages)} notebooks fail nbdev\'s docs processing:')
    for f, first, cause, src in failed:
        print(f'- {f}: {cause} ({first.strip(": ")}); the cell starts: {src.splitlines()[0][:100] if src else "?"}')
    return 1 if failed else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default=str(ROOT / settings().get('doc_path', '_docs')), help='output folder (default: doc_path of settings.ini)')
    p.add_argument('--work', default=str(ROOT / '_proc' / 'docs'), help='intermediate files (processed notebooks, doctrees)')
    p.add_argument('--verbose', action='store_true', help="show Sphinx's progress")
    p.add_argument('--only', nargs='+', metavar='NOTEBOOK', help='build only these notebooks (and the home page), e.g. nbs/12_models_mvae.ipynb')
    p.add_argument('--api', nargs='+', metavar='MODULE', help='build the API pages of these modules only, e.g. multivae_nb.models.mvae')
    p.add_argument('--add', nargs='+', metavar='NOTEBOOK', help='also build these notebooks (from anywhere), under extra/')
    p.add_argument('--nbdev-check', action='store_true', help="list the notebooks that nbdev's own processing fails on (executes cells)")
    a = p.parse_args(argv)
    if a.nbdev_check: return nbdev_check(a.only)
    build(Path(a.out).resolve(), Path(a.work).resolve(), quiet=not a.verbose, only=a.only, api_only=a.api, add=a.add)
    return 0


if __name__ == '__main__':
    sys.exit(main())
