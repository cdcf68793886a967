"""Run the reference library's (MultiVae) user-facing examples on multivae_nb with `multivae` replaced by `multivae_nb`, and report per example
the first failing cell. The examples are read from a checkout of the reference repository (their code stays theirs; nothing of it is stored
here): its README's Python blocks, its nine tutorial notebooks (examples/tutorial_notebooks) and its docs page docs/source/metrics/info_wandb.rst.

    git clone https://github.com/AgatheSenellart/MultiVae /tmp/MultiVae        # or any checkout
    MULTIVAE_NB_DATA=../shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/porting/run_reference_examples.py /tmp/MultiVae [names...]

Beyond the rename, the declared swaps (`swaps`): DATA_PATH points to local data in the reference's layout (MNIST; our rebuilt PolyMNIST, first
PORT_N_POLY samples; our PolyMNIST classifiers written as the reference's state-dict files), MNIST-SVHN (needs a download) becomes same-shaped
random data, the Hub model of two tutorials (MultiVae format, needs the network) becomes an MVTCAE trained here for one epoch, and the
placeholders the README leaves to the user (`your_model`, `your_wandb_path`, ...) are defined. W&B runs offline. Reports: benchmarks/runs/porting/.
"""
import json, os, re, sys, tempfile, time, traceback, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REF = None   # the reference checkout (argv[1])
os.environ.setdefault('WANDB_MODE', 'offline'); os.environ.setdefault('WANDB_SILENT', 'true'); os.environ['MPLBACKEND'] = 'Agg'
N_POLY = int(os.environ.get('PORT_N_POLY', 600))   # samples per split of the same-shaped local PolyMNIST

def notebook_cells(name):
    "the code cells of a tutorial notebook of the reference checkout"
    nb = json.loads((REF / 'examples' / 'tutorial_notebooks' / f'{name}.ipynb').read_text())
    return [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']

def readme_blocks():
    "the README's fenced code blocks that are Python (shell commands, the Hub (network) and the citation are left out)"
    blocks = re.findall(r'^ *```[ a-z]*\n(.*?)^ *```', (REF / 'README.md').read_text(), re.S | re.M)
    keep = lambda b: re.search(r'^\s*(>>> )?from multivae', b, re.M) and 'hf_hub' not in b
    return [b for b in blocks if keep(b)]

def rst_snippets(path):
    "the `>>>` code of an rst page's code blocks, one cell per block"
    out, cur = [], []
    for l in (REF / path).read_text().split('\n'):
        m = re.match(r'\s*(>>> |\.\.\. )(.*)', l)
        if m: cur.append(m.group(2))
        elif cur and not l.strip(): out.append('\n'.join(cur)); cur = []
    return out + (['\n'.join(cur)] if cur else [])

def rename(src):
    "the only edit to the examples' code: the package name"
    src = re.sub(r'\bfrom multivae(\.| )', r'from multivae_nb\1', src)
    return re.sub(r'\bimport multivae\b', 'import multivae_nb', src)

def prepare_data(root: Path):
    "DATA_PATH for every example: mnist/ (IDX files), MMNIST/{train,test}/m*.pt + labels.pt (our rebuilt PolyMNIST, first N_POLY samples, the"
    " reference's file layout), clf/pretrained_img_to_digit_clf_m{i} (our classifiers' weights as the reference's state dicts)."
    import torch
    from multivae_nb.datasets.mnist import find_mnist_file
    (root / 'mnist').symlink_to(find_mnist_file('train-images-idx3-ubyte').parent)
    cache = Path.home() / '.cache/multivae_nb/polymnist'
    for split in ('train', 'test'):
        d = root / 'MMNIST' / split; d.mkdir(parents=True)
        for f in [f'm{i}.pt' for i in range(5)] + ['labels.pt']:
            torch.save(torch.load(cache / split / f, weights_only=True)[:N_POLY].clone(), d / f)
    sys.path.insert(0, str(ROOT / 'reproductions'))
    from polymnist_tools import load_data, load_polymnist_classifiers
    sd = {m: c.net.state_dict() for m, c in load_polymnist_classifiers(load_data()[1]).items()}
    (root / 'clf').mkdir()
    for m, s in sd.items():
        torch.save({'encoder.' + k: v for k, v in s.items()}, root / 'clf' / f'pretrained_img_to_digit_clf_{m}')

def local_mvtcae(data_path):
    "Stands in for the Hub model asenella/reproducing_mvtcae_seed_0 (MultiVae format, needs the network): an MVTCAE on the local PolyMNIST."
    from multivae_nb.models import MVTCAE, MVTCAEConfig
    from multivae_nb.nn import PolyMNISTConvEncoder, PolyMNISTConvDecoder
    from multivae_nb.datasets import PolyMNIST
    from multivae_nb.trainers import BaseTrainer, BaseTrainerConfig
    dims = {f'm{i}': (3, 28, 28) for i in range(5)}
    cfg = MVTCAEConfig(n_modalities=5, input_dims=dims, latent_dim=32, decoders_dist=dict.fromkeys(dims, 'laplace'),
                       decoder_dist_params={m: {'scale': 0.75} for m in dims}, alpha=5 / 6, beta=2.5)
    model = MVTCAE(cfg, {m: PolyMNISTConvEncoder(32) for m in dims}, {m: PolyMNISTConvDecoder(32) for m in dims})
    train = PolyMNIST('train', root=data_path)
    BaseTrainer(model, train, training_config=BaseTrainerConfig(num_epochs=1, learning_rate=1e-3, show_progress=False)).train()
    return model

HUB = re.compile(r'model = AutoModel\.load_from_hf_hub\(\s*"asenella/reproducing_mvtcae_seed_0", allow_pickle=True\s*\)')

def swaps(name, src, data):
    "declared substitutions beyond the rename: data paths, downloads that need the network, placeholders the examples leave to the user"
    src = re.sub(r'DATA_PATH = "[^"]*"', f'DATA_PATH = "{data}"', src)
    src = re.sub(r'SAVE_PATH = "[^"]*"', 'SAVE_PATH = "./experiments"', src)
    if HUB.search(src): src = HUB.sub(f'model = __local_mvtcae("{data}")  # swap: the Hub model needs the network', src)
    src = src.replace("'your_wandb_path'", "__wandb_path()")   # placeholder the README leaves to the user: a real (offline) run's path
    if name == 'readme':
        src = src.replace("train_set = MnistSvhn(data_path='./data', split=\"train\", download=True)",
                          "train_set = __fake_mnist_svhn()  # swap: SVHN needs a download")
    return src

PRELUDE = '''
import torch, warnings
from multivae_nb.data import MultimodalBaseDataset
from multivae_nb.models import MVTCAE as __M, MVTCAEConfig as __C
def __fake_mnist_svhn(n=256):
    g = torch.Generator().manual_seed(0)
    return MultimodalBaseDataset({'mnist': torch.rand(n, 1, 28, 28, generator=g), 'svhn': torch.rand(n, 3, 32, 32, generator=g)},
                                 labels=torch.randint(0, 10, (n,), generator=g))
# placeholders of the README snippets and the docs page
train_data = test_set = test_data = __fake_mnist_svhn()
your_model_config = __C(n_modalities=2, latent_dim=8, input_dims={'mnist': (1, 28, 28), 'svhn': (3, 32, 32)})
your_model = model = __M(your_model_config)
import torch.nn as __nn
classifiers = {'mnist': __nn.Sequential(__nn.Flatten(), __nn.Linear(784, 10)), 'svhn': __nn.Sequential(__nn.Flatten(), __nn.Linear(3072, 10))}
your_entity, your_project = None, 'porting'
display = print
def __wandb_path():
    import wandb
    r = wandb.init(project='porting'); p = r.path; r.finish(); return p
'''


def run(name):
    data = Path(tempfile.mkdtemp(prefix='port_data_')); prepare_data(data)
    os.environ.setdefault('WANDB_DIR', str(data))
    work = Path(tempfile.mkdtemp(prefix=f'port_{name}_')); os.chdir(work)
    ns = {'__name__': '__main__', '__local_mvtcae': local_mvtcae}
    exec(PRELUDE, ns)
    if name == 'readme': srcs = readme_blocks()
    elif name == 'info_wandb':   # the page's snippets, then the folder its last one reads: a training with a W&B callback
        srcs = rst_snippets('docs/source/metrics/info_wandb.rst')
        srcs[-1] = ("wandb.finish()\nfrom multivae_nb.trainers import BaseTrainer, BaseTrainerConfig\nfrom multivae_nb.trainers.base.callbacks import WandbCallback\n"
                    "cb = WandbCallback(); cb.setup(training_config=BaseTrainerConfig(num_epochs=1, output_dir='dir_path'), model_config=your_model_config, project_name='p')\n"
                    "t = BaseTrainer(model=model, train_dataset=train_data, training_config=BaseTrainerConfig(num_epochs=1, output_dir='dir_path'), callbacks=[cb]); t.train()\n"
                    + srcs[-1].replace("'dir_path'", 't.training_dir') + "\nprint(wandb_path)")
    else: srcs = notebook_cells(name)
    report = {'example': name, 'cells': len(srcs), 'ok': 0, 'failed': None}
    t0 = time.time()
    for i, s in enumerate(srcs):
        s = swaps(name, rename(s), data)
        s = '\n'.join(l for l in s.split('\n') if not l.lstrip().startswith(('%', '!')))
        s = re.sub(r'^>>> |^\.\.\. ', '', s, flags=re.M)
        try:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                exec(compile(s, f'{name}[{i}]', 'exec'), ns)
            report.setdefault('warnings', []).extend(sorted({f'{x.category.__name__}: {str(x.message)[:160]}' for x in w
                                                             if 'multivae' in str(x.filename) or issubclass(x.category, DeprecationWarning)}))
            report['ok'] += 1
        except Exception as e:
            report['failed'] = {'cell': i, 'error': f'{type(e).__name__}: {e}'[:600], 'source': s[:400],
                                'trace': traceback.format_exc()[-1500:]}
            break
    report['seconds'] = round(time.time() - t0, 1)
    return report

if __name__ == '__main__':
    import torch; torch.set_num_threads(1)
    REF = Path(sys.argv[1]).resolve()
    names = sys.argv[2:] or ['readme', 'info_wandb', 'getting_started', 'computing_visualization_and_metrics', 'learning_with_partial_data',
                             'use_mlflow_callback', 'use_tensorboard', 'use_wandb', 'using_samplers', 'training_a_CVAE_model',
                             'training_a_MHVAE_model']
    out = ROOT / 'benchmarks' / 'runs' / 'porting'; out.mkdir(parents=True, exist_ok=True)
    for n in names:
        r = run(n); print(json.dumps(r, indent=1)[:3000], flush=True)
        (out / f'{n}.json').write_text(json.dumps(r, indent=1))
    print('\n'.join(f"{json.loads((out / f'{n}.json').read_text())['example']:40s} " + ('ok' if not (r := json.loads((out / f'{n}.json').read_text()))['failed']
                     else f"stops at cell {r['failed']['cell']}: {r['failed']['error'][:150]}") for n in names))
