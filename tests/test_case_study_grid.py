"""The case-study grid runner (reproductions/case_study/grid.py) on its tiny budget: the declared grid, a run interrupted after a checkpoint and
resumed, finished runs skipped, the status line, the results record, the two-job limit."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT / 'reproductions' / 'case_study' / 'grid.py'
DATA = Path(os.environ.get('MULTIVAE_NB_DATA', ROOT.parent / 'shared' / 'data'))
pytestmark = pytest.mark.skipif(not (DATA / 'mnist').exists() and not (DATA / 'MNIST').exists(),
                                reason=f"needs the MNIST files under {DATA} (PolyMNIST is built from them)")


@pytest.fixture(scope='module')
def grid_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp('grid')
    os.environ['MULTIVAE_NB_GRID_DIR'] = str(d)
    sys.path.insert(0, str(GRID.parent))
    import importlib, grid
    importlib.reload(grid)   # picks up MULTIVAE_NB_GRID_DIR
    yield d, grid
    os.environ.pop('MULTIVAE_NB_GRID_DIR', None)


def cli(*args, **kw):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, str(GRID), *args], capture_output=True, text=True, env=env, **kw)


def test_declared_grid(grid_dir):
    _, grid = grid_dir
    runs = grid.grid(etas=(1.0, 0.8, 0.5))
    # aggregated models: complete data once, then with and without the incomplete samples; joint-encoder models: complete samples only
    assert len(runs) == 4 * (1 + 2 + 2) + 3 * 3 == 29
    ids = {r.id for r in runs}
    assert {'MoPoE_eta100_s0', 'MoPoE_eta050_keep_s0', 'MoPoE_eta050_drop_s0', 'JNF_eta050_drop_s0'} <= ids
    assert 'JNF_eta050_keep_s0' not in ids and len(ids) == len(runs)
    with pytest.raises(SystemExit, match='Unknown model'): grid.grid(models=['VAE'])
    with pytest.raises(SystemExit, match=r'eta must be in \(0, 1\]'): grid.grid(etas=(0,))
    assert 'must be 1 or 2' in cli('run', '--budget', 'tiny', '--jobs', '3', '--models', 'MoPoE').stderr


def test_interrupt_resume_skip(grid_dir):
    d, grid = grid_dir
    run = grid.Run('MoPoE', 0.5, True)
    # a run killed after its first checkpoint: 'started', then resumed by the driver to the end of its budget
    p = subprocess.Popen([sys.executable, str(GRID), '_one', 'MoPoE', '0.5', '1', '0', '--budget', 'tiny'],
                         env=dict(os.environ, OMP_NUM_THREADS='1'), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not list(grid.run_dir(run, 'tiny').glob('*/checkpoint_epoch_*')) and time.time() - t0 < 900: time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.wait()
    assert grid.state(run, 'tiny')[0] == 'started' and not grid.result_path(run, 'tiny').exists()
    out = cli('run', '--budget', 'tiny', '--models', 'MoPoE', 'JMVAE', '--etas', '1', '0.5', '--jobs', '2')
    assert out.returncode == 0, out.stdout + out.stderr
    status = cli('status', '--budget', 'tiny', '--models', 'MoPoE', 'JMVAE', '--etas', '1', '0.5').stdout
    assert status.startswith('budget tiny: 5 runs — done 5'), status
    r = json.loads(grid.result_path(run, 'tiny').read_text())
    assert r['epochs'] == grid.BUDGETS['tiny']['epochs'] and len(r['train_loss']) == r['epochs']   # the history of both sessions
    assert r['n_train'] == 300 and 0.4 < r['observed_fraction']['m1'] < 0.6 and r['observed_fraction']['m0'] == 1.0
    m = r['metrics']
    assert set(m['coherence']['by_size']) == {'1', '2', '3', '4'} and len(m['coherence']['pairs']) == 75
    assert set(m['joint']) == {'prior', 'gmm', 'maf'} and all('fid_m0' in v for v in m['joint'].values())
    assert m['conditional_fid_m0'] > 0 and 0 <= m['clustering']['cluster_accuracy'] <= 1 and m['likelihood']['joint_nll'] > 0
    assert {'mse/unimodal/m0', 'ssim/joint/m4'} <= set(m['reconstruction'])
    assert sorted(p.name for p in (d / 'results' / 'tiny' / 'grids' / run.id).rglob('*.jpg')) == \
        ['conditional_m0+m1+m2+m3+m4.jpg', 'conditional_m1+m2+m3+m4.jpg', 'unconditional.jpg', 'unconditional.jpg']
    drop = json.loads(grid.result_path(grid.Run('JMVAE', 0.5, False), 'tiny').read_text())
    assert drop['observed_fraction'] == {f'm{i}': 1.0 for i in range(5)}   # the joint-encoder models see the complete samples only
    # a second call finds nothing to do and starts no process
    again = cli('run', '--budget', 'tiny', '--models', 'MoPoE', 'JMVAE', '--etas', '1', '0.5')
    assert again.returncode == 0 and 'started' not in again.stdout
