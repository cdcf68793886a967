"""The documentation site (`make docs` = `python docs/build.py`): it builds offline from the notebooks as stored, has a page per
notebook and an API entry (signature, docstring, inline parameter comments) per public name, serves its own MathJax, survives a
notebook that nbdev's processing cannot handle, and, in a headless Chromium when one is installed, shows rendered maths and figures.

The default run builds a part of the site (the home page, the MVAE notebook, a reproduction, two API modules, a broken notebook):
about 20 s. The whole site (about 2 minutes on two busy cores) is built by the test marked `slow` (`pytest --run-slow`).
"""
import html, http.server, inspect, json, re, shutil, subprocess, sys, tempfile, threading
from functools import partial
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / 'docs' / 'build.py'
MODEL_NB, REPRO_NB = 'nbs/12_models_mvae.ipynb', 'reproductions/mvae_binary_mnist.ipynb'
API_MODULES = ['multivae_nb.models.mvae', 'multivae_nb.trainers.config']

BROKEN_NB = {  # an exported name that is not in the package: nbdev's processing of this notebook fails
    'cells': [{'cell_type': 'markdown', 'id': 'a1', 'metadata': {}, 'source': ['# A broken notebook']},
              {'cell_type': 'code', 'execution_count': None, 'id': 'a2', 'metadata': {}, 'outputs': [], 'source': ['#| default_exp nowhere']},
              {'cell_type': 'code', 'execution_count': None, 'id': 'a3', 'metadata': {}, 'outputs': [],
               'source': ['#| export\n', 'def not_in_the_package(x): return x']}],
    'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}}, 'nbformat': 4, 'nbformat_minor': 5}


def build(tmp: Path, *args, timeout=1500) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, str(BUILD), '--out', str(tmp / 'site'), '--work', str(tmp / 'work'), *args],
                         cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


@pytest.fixture(scope='module')
def part_site():
    tmp = Path(tempfile.mkdtemp(prefix='docs_part_'))
    (tmp / '99_broken.ipynb').write_text(json.dumps(BROKEN_NB))
    out = build(tmp, '--only', MODEL_NB, REPRO_NB, '--api', *API_MODULES, '--add', str(tmp / '99_broken.ipynb'))
    yield tmp / 'site', out.stdout
    shutil.rmtree(tmp, ignore_errors=True)


def text_of(page: Path) -> str:
    "The page's text, tags removed and entities decoded, spaces collapsed."
    s = re.sub(r'<script.*?</script>|<style.*?</style>', ' ', page.read_text(encoding='utf-8'), flags=re.S)
    return re.sub(r'\s+', ' ', html.unescape(re.sub(r'<[^>]+>', '', s)))


def comment_of(cls, param: str) -> str:
    "The inline comment of a parameter in the source, as fastcore's docments reads it (what nbdev's show_doc shows)."
    from fastcore.docments import docments
    c = docments(cls, full=True)[param]['docment']
    assert c, f'{cls.__name__}.{param} has no inline comment in the source'
    return c


def summary_line(obj) -> str: return inspect.getdoc(obj).splitlines()[0].replace('`', '')   # as rendered: markdown code marks gone


def check_api_entries(site: Path):
    from multivae_nb.models.mvae import MVAE, MVAEConfig
    from multivae_nb.trainers.config import BaseTrainerConfig
    mvae = text_of(site / 'api' / 'multivae_nb.models.mvae.html')
    assert 'class MVAE(' in mvae and summary_line(MVAE) in mvae
    assert 'class MVAEConfig(' in mvae and comment_of(MVAEConfig, 'k') in mvae and 'MVAE.forward' in mvae
    cfg = text_of(site / 'api' / 'multivae_nb.trainers.config.html')
    assert 'class BaseTrainerConfig(' in cfg and summary_line(BaseTrainerConfig) in cfg
    for p in ('output_dir', 'optimizer_cls', 'grad_clip_norm'): assert comment_of(BaseTrainerConfig, p) in cfg, p


def test_part_of_the_site_builds_with_api_entries(part_site):
    site, log = part_site
    for page in ('index.html', 'models_mvae.html', 'reproductions/mvae_binary_mnist.html', 'api/index.html', 'build-log.html',
                 *(f'api/{m}.html' for m in API_MODULES)):
        assert (site / page).exists(), page
    check_api_entries(site)
    nb = text_of(site / 'models_mvae.html')          # the notebook page: nbdev's show_doc entries, exported source collapsed
    from multivae_nb.models.mvae import MVAEConfig
    assert 'class MVAEConfig(' in nb and comment_of(MVAEConfig, 'k') in nb and 'Exported source' in nb
    assert 'default_exp' not in nb and 'show_doc(' not in nb


def test_broken_notebook_is_rendered_as_stored_and_logged(part_site):
    site, log = part_site
    page = site / 'extra' / 'broken.html'
    assert page.exists()
    assert 'as stored' in text_of(page) and 'def not_in_the_package' in text_of(page)
    assert re.search(r'AS STORED .*99_broken\.ipynb: nbdev processing failed: LookupError', log)
    assert '99_broken.ipynb' in (site / 'build-log.txt').read_text()
    assert json.loads((site / 'build-summary.json').read_text())['as_stored'][-1].endswith('99_broken.ipynb')


def test_site_is_offline(part_site):
    "Every script and stylesheet is the site's own: MathJax and its fonts are in _static, the notebooks load no widget JavaScript."
    site, _ = part_site
    for page in site.rglob('*.html'):
        s = page.read_text(encoding='utf-8')
        remote = re.findall(r'<script[^>]+src="(?:https?:)?//[^"]*"|<link[^>]+rel="stylesheet"[^>]+href="(?:https?:)?//[^"]*"', s)
        assert not remote, (page, remote)
    mj = site / '_static' / 'mathjax'
    assert (mj / 'tex-chtml-full.js').stat().st_size > 500_000 and len(list((mj / 'output/chtml/fonts/woff-v2').glob('*.woff'))) > 20
    assert 'src="_static/mathjax/tex-chtml-full.js' in (site / 'models_mvae.html').read_text()


# ---------------------------------------------------------------- in a browser
class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args): self.server.log.append((self.path, args[1] if len(args) > 1 else ''))


@pytest.fixture(scope='module')
def served(part_site):
    site, _ = part_site
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(_Handler, directory=str(site)))
    srv.log = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}', srv.log
    srv.shutdown()


def chromium(*args, timeout=180) -> subprocess.CompletedProcess:
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    if exe is None: pytest.skip("no headless browser: Debian's `chromium` is not installed (apt-get install -y chromium)")
    prof = tempfile.mkdtemp(prefix='chromium_')
    try:
        return subprocess.run([exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                               '--disable-background-networking', '--disable-component-update', '--disable-sync',
                               f'--user-data-dir={prof}', '--virtual-time-budget=20000', *args],
                              capture_output=True, text=True, timeout=timeout)
    finally: shutil.rmtree(prof, ignore_errors=True)


def test_model_page_shows_rendered_maths_in_chromium(served, tmp_path):
    url, log = served
    dom = chromium('--dump-dom', f'{url}/models_mvae.html').stdout
    # MathJax replaced the TeX by its CHTML output, with the glyphs of its own fonts, and left no TeX error
    assert len(re.findall(r'<mjx-container[^>]*class="MathJax', dom)) > 50, 'MathJax did not typeset the page'
    assert '<mjx-c ' in dom and '<mjx-merror' not in dom
    assert not re.search(r'\\\(|\\\[', re.sub(r'<(script|pre|code).*?</\1>', '', dom, flags=re.S)), 'TeX left untypeset'
    png = tmp_path / 'mvae.png'
    chromium(f'--screenshot={png}', '--window-size=1280,2000', f'{url}/models_mvae.html')
    from PIL import Image
    im = Image.open(png).convert('L')
    assert im.size == (1280, 2000)
    hist = im.histogram()
    assert sum(1 for h in hist if h) > 50 and max(hist) < 0.97 * sum(hist), 'blank screenshot'
    served_ok = {p for p, code in log if code == '200'}
    assert any('/mathjax/tex-chtml-full.js' in p for p in served_ok)
    assert any(p.endswith('.woff') for p in served_ok), "MathJax's fonts were not loaded from the site"


def test_reproduction_page_shows_its_figure_in_chromium(served):
    url, log = served
    dom = chromium('--dump-dom', f'{url}/reproductions/mvae_binary_mnist.html').stdout
    imgs = re.findall(r'<img[^>]+src="([^"]+\.png)"', dom)
    assert imgs, 'no figure on the reproduction page'
    assert any(p.endswith(Path(imgs[0]).name) and code == '200' for p, code in log), 'the figure was not served'


# ---------------------------------------------------------------- the whole site
@pytest.mark.slow
def test_whole_site_builds(tmp_path):
    "`make docs`'s build in a temporary folder: a page per notebook (named as nbdev names them), an API page per module."
    out = build(tmp_path)
    site = tmp_path / 'site'
    import importlib.util
    spec = importlib.util.spec_from_file_location('docs_build', BUILD)
    docs_build = importlib.util.module_from_spec(spec); spec.loader.exec_module(docs_build)
    pages = docs_build.collect_pages()
    notebooks = {p for g in ('nbs/*.ipynb', 'nbs/tutorials/*.ipynb', 'reproductions/*.ipynb', 'reproductions/*/*.ipynb') for p in ROOT.glob(g)}
    assert {p.src for p in pages} == notebooks
    for p in pages: assert (site / f'{p.docname}.html').exists(), p
    assert (site / 'models_mvae.html').exists() and (site / 'tutorials' / 'getting_started.html').exists()
    import importlib, pkgutil, multivae_nb
    mods = ['multivae_nb'] + [m.name for m in pkgutil.walk_packages(multivae_nb.__path__, 'multivae_nb.') if '._' not in m.name]
    for m in mods:
        if getattr(importlib.import_module(m), '__all__', None): assert (site / 'api' / f'{m}.html').exists(), m
    check_api_entries(site)
    summary = json.loads((site / 'build-summary.json').read_text())
    assert summary['pages'] == len(pages) and summary['sphinx_rc'] == 0
    assert 'notebook pages' in out.stdout and (site / 'build-log.txt').exists()


def _mixed_cells(nb_path: Path) -> list:
    "The code cells nbdev's docs processing would execute although they hold test code: not exported, holding an import (at any depth) and other statements."
    import ast
    out = []
    for i, c in enumerate(json.loads(nb_path.read_text())['cells']):
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or re.search(r'^#\|\s*(export|exports|exporti|exec_doc|eval:\s*false)\b', src, re.M): continue
        try: tree = ast.parse('\n'.join('' if l.lstrip().startswith(('%', '!', '#|')) else l for l in src.split('\n')))
        except SyntaxError: continue
        has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))
        if has_import and any(not isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body): out.append(i)
    return out


def test_no_library_notebook_mixes_imports_with_test_code():
    "nbdev's own docs processing (nbdev_docs, nbdev_proc_nbs) executes every cell holding an import; a test cell that also imports fails there on"
    " names its earlier test cells define. Imports stay in import-only cells (`python docs/build.py --nbdev-check` runs nbdev's processing itself)."
    mixed = {p.name: c for p in sorted((ROOT / 'nbs').glob('*.ipynb')) if (c := _mixed_cells(p))}
    assert not mixed, f'cells mixing imports with other code (split the imports into a cell of their own): {mixed}'


def test_mixed_cell_check_catches_one(tmp_path):
    nb = {'cells': [{'cell_type': 'code', 'source': ['import os\n', 'x = toy.y']}, {'cell_type': 'code', 'source': ['def f():\n', '    import os\n']},
                    {'cell_type': 'code', 'source': ['import os']}, {'cell_type': 'code', 'source': ['#| export\n', 'import os\n', 'x = 1']}]}
    p = tmp_path / 'x.ipynb'; p.write_text(json.dumps(nb))
    assert _mixed_cells(p) == [0, 1]
