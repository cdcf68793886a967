"""Project-level checks: the public API of DESIGN.md runs, recorded results are complete and quoted in the README, the CLI is installed."""
import json, re, subprocess, sys, shutil
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def test_public_api_example(tmp_path):
    "The DESIGN.md usage example (without the network parts) runs as written."
    from multivae_nb.models import JMVAE, JMVAEConfig, AutoModel
    from multivae_nb.trainers import BaseTrainer, BaseTrainerConfig
    from multivae_nb.data import MultimodalBaseDataset
    train_dataset = MultimodalBaseDataset({'modality 1': torch.rand(40, 1, 28, 28), 'modality 2': torch.rand(40, 3, 32, 32)})
    model_config = JMVAEConfig(n_modalities=2, latent_dim=10,
                               input_dims={'modality 1': (1, 28, 28), 'modality 2': (3, 32, 32)}, alpha=0.1)
    model = JMVAE(model_config=model_config, encoders=None, decoders=None)
    trainer_config = BaseTrainerConfig(output_dir=str(tmp_path / 'runs'), num_epochs=2, optimizer_cls='Adam', show_progress=False)
    trainer = BaseTrainer(model=model, train_dataset=train_dataset, training_config=trainer_config)
    trainer.train()
    folder = next((tmp_path / 'runs').glob('JMVAE_training_*')) / 'final_model'
    loaded = AutoModel.load_from_folder(folder)
    batch = train_dataset[torch.arange(5)]
    out = loaded.predict(batch, cond_mod=['modality 1'], gen_mod='all', N=3)
    assert out['modality 2'].shape == (3, 5, 3, 32, 32)
    assert torch.isfinite(loaded.compute_joint_nll(batch, K=10))


RESULT_NAMES = sorted(p.stem for p in (ROOT / 'reproductions' / 'results').glob('*.json') if p.stem != 'demo_digits')


def test_mnist_reproductions_recorded():
    assert {'jmvae_binary_mnist', 'mvae_binary_mnist'} <= set(RESULT_NAMES)


@pytest.mark.parametrize('name', RESULT_NAMES)
def test_reproduction_results_recorded_and_quoted(name):
    "Each reproduction wrote its JSON with the required fields and has its notebook, and the README quotes its value."
    r = json.loads((ROOT / 'reproductions' / 'results' / f'{name}.json').read_text())
    for key in ('metric', 'value', 'published', 'seeds', 'epochs', 'hyperparameters', 'train_time_s', 'threads', 'library_version'):
        assert key in r, f"{name}.json lacks '{key}'"
    assert r['mode'] != 'quick', f"{name}.json holds a quick-mode result"
    assert (ROOT / 'reproductions' / f'{name}.ipynb').exists(), f"no notebook for {name}"
    readme = (ROOT / 'README.md').read_text()
    shown = r.get('display') or f"{r['value']:.2f}"
    assert shown in readme, f"README does not quote {name}'s value {shown}"


def test_reproduction_table_generated_from_results():
    "The README's reproduction table is exactly what reproductions/make_table.py builds from the result files."
    out = subprocess.run([sys.executable, str(ROOT / 'reproductions' / 'make_table.py'), '--check'], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_speed_table_generated_from_side_by_side_run():
    "The README's speed table is exactly what benchmarks/make_speed_table.py builds from the side-by-side JSON (not provisional)."
    out = subprocess.run([sys.executable, str(ROOT / 'benchmarks' / 'make_speed_table.py'), '--check'], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_benchmark_recorded():
    b = json.loads((ROOT / 'benchmarks' / 'results' / 'training_speed.json').read_text())
    assert b['setting']['n_samples'] == 6000 and b['setting']['batch_size'] == 128 and b['setting']['latent_dim'] == 20
    got = {(r['model'], r['threads']) for r in b['results']}
    assert {('JMVAE', 1), ('JMVAE', 2), ('MVAE', 1), ('MVAE', 2)} <= got
    assert all(r['s_per_epoch_median'] > 0 and r['peak_rss_mb'] > 0 for r in b['results'])


def test_demo_cli_installed():
    exe = shutil.which('multivae-nb-demo') or str(Path(sys.executable).parent / 'multivae-nb-demo')
    out = subprocess.run([exe, '--help'], capture_output=True, text=True)
    assert out.returncode == 0 and '--epochs' in out.stdout


def test_readme_starts_with_the_two_commands():
    text = (ROOT / 'README.md').read_text()
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert blocks and 'make demo' in blocks[0] and 'make test' in blocks[1]
    assert 'make test' in (ROOT / '.ci' / 'run').read_text()


def test_readme_usage_example_runs(tmp_path, monkeypatch):
    "The python block of the README runs as written."
    code = re.findall(r"```python\n(.*?)```", (ROOT / 'README.md').read_text(), re.S)[0]
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(code, 'README.md', 'exec'), ns)
    assert ns['out']['images'].shape == (4, 8, 1, 28, 28)
    assert type(ns['model']).__name__ == 'MVAE' and torch.isfinite(ns['nll'])


def test_demo_table_quoted_from_recorded_run():
    "The README's demo table is the one recorded in reproductions/results/demo_digits.json."
    m = json.loads((ROOT / 'reproductions' / 'results' / 'demo_digits.json').read_text())
    readme = (ROOT / 'README.md').read_text()
    for name, r in m['results'].items():
        row = f"| {name} | {r['test_loss']:.2f} | {r['joint_log_likelihood']:.2f} | {r['img_to_label_acc']:.3f} | {r['label_to_img_coherence']:.3f} |"
        assert row in readme, row


# --- Run it online: Colab/Binder badges, the Colab install cell, the Binder environment (issue #7) ---
ONLINE_NBS = sorted([*ROOT.glob('nbs/tutorials/*.ipynb'), *ROOT.glob('reproductions/*.ipynb')])
GITHUB_REPO = 'multivae-nb/multivae_nb'


@pytest.mark.parametrize('nb_path', ONLINE_NBS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_opens_with_colab_badge_and_install_cell(nb_path):
    "Every tutorial and reproduction notebook has Colab and Binder badges for its own path, then a hidden Colab-only install cell first among its code cells."
    rel = nb_path.relative_to(ROOT).as_posix()
    cells = json.loads(nb_path.read_text(encoding='utf-8'))['cells']
    head = ''.join(''.join(c['source']) for c in cells[:3] if c['cell_type'] == 'markdown')
    assert f'https://colab.research.google.com/github/{GITHUB_REPO}/blob/main/{rel}' in head, f'{rel}: no Colab badge for its own path'
    assert f'https://mybinder.org/v2/gh/{GITHUB_REPO}/main?labpath={rel.replace("/", "%2F")}' in head, f'{rel}: no Binder badge'
    code = [c for c in cells if c['cell_type'] == 'code']
    src = ''.join(code[0]['source'])
    lines = src.splitlines()
    assert lines[0] == '#| hide' and '# NBVAL_SKIP' in lines, f'{rel}: the install cell must be hidden (#| hide) and skipped by nbval (# NBVAL_SKIP)'
    assert "if 'google.colab' in sys.modules:" in src, f'{rel}: the install cell must act on Colab only'
    assert re.search(r'^\s+!pip install -q "multivae_nb(\[[\w,]+\])? @ git\+https://github\.com/' + GITHUB_REPO + '"', src, re.M), src
    assert not code[0]['outputs'] and code[0]['execution_count'] is None
    if 'MnistLabels' in ''.join(''.join(c['source']) for c in code):   # notebooks that read MNIST fetch it on Colab
        assert 'download_mnist()' in src or 'download=True' in src, f'{rel}: reads MNIST but the Colab cell does not download it'


def test_binder_environment_pins_the_makefile_torch():
    "binder/requirements.txt installs this package with the CPU torch that the Makefile pins."
    torch_pin = re.search(r'^TORCH\s*:=\s*(torch==\S+)', (ROOT / 'Makefile').read_text(), re.M).group(1)
    reqs = [l.strip() for l in (ROOT / 'binder' / 'requirements.txt').read_text().splitlines() if l.strip() and not l.startswith('#')]
    assert [r for r in reqs if re.match(r'torch\b', r)] == [torch_pin]
    assert '--extra-index-url https://download.pytorch.org/whl/cpu' in reqs     # the CPU build, not PyPI's CUDA one
    assert any(re.fullmatch(r'(-e )?\.(\[[\w,]+\])?', r) for r in reqs), 'binder/requirements.txt must install the package itself'
    assert re.fullmatch(r'python-3\.\d+', (ROOT / 'binder' / 'runtime.txt').read_text().strip())


def test_every_module_imports_first_in_a_fresh_process():
    "No circular import: each public module of the package can be the first one a user imports."
    mods = ['multivae_nb.' + str(p.relative_to(ROOT / 'multivae_nb').with_suffix('')).replace('/', '.').replace('.__init__', '')
            for p in sorted((ROOT / 'multivae_nb').rglob('*.py')) if p.name != '_modidx.py']
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    for k in [k for k in sys.modules if k.startswith('multivae_nb')]: del sys.modules[k]\n    importlib.import_module(m)\n"
    out = subprocess.run([sys.executable, '-c', code, *mods], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


def test_polymnist_speed_table_generated_from_its_run():
    "The README's PolyMNIST speed table is what benchmarks/polymnist_side_by_side.py builds from its JSON (not provisional)."
    out = subprocess.run([sys.executable, str(ROOT / 'benchmarks' / 'polymnist_side_by_side.py'), '--readme', 'check'], capture_output=True, text=True)
    assert out.returncode == 0, f"README.md's PolyMNIST speed table is out of date: python benchmarks/polymnist_side_by_side.py --readme write\n{out.stderr}"


def _ensure_data():
    sys.path.insert(0, str(ROOT / 'tests'))
    import ensure_data
    return ensure_data


def test_ensure_data_offline_stops_with_one_line(tmp_path, monkeypatch, capsys):
    "An empty data root without network: `make test` stops before any test, with one line naming the folder and the fix."
    ed = _ensure_data()
    def offline(root=None): raise ed.ConfigError('Could not download MNIST file train-images-idx3-ubyte (no route).')
    monkeypatch.setattr(ed, 'download_mnist', offline)
    assert ed.main(['--root', str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path) in err and 'MULTIVAE_NB_DATA' in err


def test_ensure_data_fetches_what_is_missing(tmp_path, monkeypatch, capsys):
    "Missing files are fetched (here from a local copy standing in for the mirror) and checksummed; present files are left alone."
    ed = _ensure_data()
    src = ed.find_mnist_file('train-images-idx3-ubyte')
    if src is None: pytest.skip('MNIST is not under the data root of this machine')
    calls = []
    def fake_download(root=None):
        calls.append(root); (Path(root) / 'mnist').mkdir(parents=True, exist_ok=True)
        for n in ed.MNIST_FILES: shutil.copy(ed.find_mnist_file(n), Path(root) / 'mnist' / Path(ed.find_mnist_file(n)).name)
    monkeypatch.setattr(ed, 'download_mnist', fake_download)
    assert ed.ensure_mnist(str(tmp_path)) == 'downloaded' and len(calls) == 1
    assert ed.ensure_mnist(str(tmp_path)) == 'present' and len(calls) == 1
    (tmp_path / 'mnist' / Path(src).name).write_bytes(b'\x1f\x8b' + b'0' * 100)   # a corrupt file is caught, not used
    with pytest.raises(ed.ConfigError): ed.ensure_mnist(str(tmp_path))


def test_makefile_names_no_machine_path():
    "The Makefile's data default is the user's cache; only the CI script knows where this project's machines keep the data."
    mk = (ROOT / 'Makefile').read_text()
    assert '/work/' not in mk and 'shared/data' not in mk
    assert 'ensure_data.py' in mk


def _compat_section() -> str:
    readme = (ROOT / 'README.md').read_text()
    start = readme.index('## Compatibility')
    end = readme.find('\n## ', start + 3)
    return readme[start:] if end < 0 else readme[start:end]


def test_readme_compatibility_table_names_every_alias():
    "Every renamed config field (`_renamed_fields`) and every deprecated model method is in the README's compatibility table."
    import importlib, inspect, pkgutil
    import multivae_nb
    from multivae_nb.core import BaseConfig, MODELS
    for mod in pkgutil.walk_packages(multivae_nb.__path__, 'multivae_nb.'):
        if mod.name.split('.')[-1] in ('hub', 'widgets', 'demo', '_modidx'): continue
        importlib.import_module(mod.name)
    section = _compat_section()
    def configs(c):
        for s in c.__subclasses__(): yield s; yield from configs(s)
    renamed = {(cls.__name__, old) for cls in configs(BaseConfig) for old in getattr(cls, '_renamed_fields', {})}
    assert renamed, "no renamed fields found: the check would pass vacuously"
    for cls_name, old in sorted(renamed):
        assert f'`{old}`' in section, f"README's compatibility table does not name {cls_name}'s old field '{old}'"
    deprecated = {n for cls in (MODELS.get(k) for k in MODELS) for n, f in inspect.getmembers(cls, inspect.isfunction)
                  if (f.__doc__ or '').startswith('Deprecated')}
    assert {'posterior_distribution', 'draw_private'} <= deprecated, deprecated
    for n in deprecated: assert f'`{n}(' in section, f"README's compatibility table does not name the deprecated method {n}"
