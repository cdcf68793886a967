"""Accuracy guard of the fast path: a short training with bf16 autocast (`BaseTrainerConfig(amp=True)`) learns what the float32 one learns.

JMVAE on real binarised MNIST (the reproduction's networks, narrower) and MoPoE on a PolyMNIST subset (the published conv networks): same seed, same
data order; the final training losses must agree within a stated relative tolerance, and the posterior algebra stays float32 under autocast.
"""
import sys
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TOL = 0.02   # relative difference of the final training loss allowed between bf16 autocast and float32


def _train(model_fn, data, amp: bool, epochs: int, batch: int):
    from multivae_nb.trainers import BaseTrainer, BaseTrainerConfig
    torch.manual_seed(0)
    model = model_fn()
    cfg = BaseTrainerConfig(num_epochs=epochs, per_device_train_batch_size=batch, learning_rate=1e-3, seed=0, show_progress=False, amp=amp)
    return BaseTrainer(model, data, training_config=cfg).train()


def _mnist_available():
    from multivae_nb.core import data_root
    return any((data_root() / 'mnist' / f).exists() for f in ('train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte'))


@pytest.mark.skipif(not _mnist_available(), reason='MNIST files not found under $MULTIVAE_NB_DATA/mnist')
def test_jmvae_mnist_bf16_learns_like_float32():
    from multivae_nb.datasets import MnistLabels
    from multivae_nb.models import JMVAE, JMVAEConfig
    from multivae_nb.nn import MLPEncoder, MLPDecoder, JointMLPEncoder
    train = MnistLabels('train', binarize='fixed', binarize_seed=0, n_samples=3000)
    dims = {'images': (1, 28, 28), 'labels': (10,)}
    def make():
        return JMVAE(JMVAEConfig(input_dims=dims, latent_dim=16, kl_warmup_epochs=2, decoders_dist={'images': 'bernoulli', 'labels': 'categorical'}),
                     {m: MLPEncoder(s, 16, (256, 256)) for m, s in dims.items()}, {m: MLPDecoder(16, s, (256, 256)) for m, s in dims.items()},
                     JointMLPEncoder(dims, 16, (256,), (256,)))
    f32, b16 = (_train(make, train, amp, 4, 100) for amp in (False, True))
    a, b = f32[-1]['train_loss'], b16[-1]['train_loss']
    assert a < 0.7 * f32[0]['train_loss']                       # it learned
    print(f'final train loss: float32 {a:.3f}, bf16 autocast {b:.3f} ({100 * abs(a - b) / a:.2f} %)')
    assert abs(a - b) / a < TOL, (a, b)


def test_mopoe_polymnist_bf16_learns_like_float32(tmp_path):
    pytest.importorskip('skimage')
    if not _mnist_available(): pytest.skip('MNIST files not found under $MULTIVAE_NB_DATA/mnist')
    from multivae_nb.datasets import PolyMNIST
    from multivae_nb.models import MoPoE, MoPoEConfig
    from multivae_nb.nn import PolyMNISTConvEncoder, PolyMNISTConvDecoder
    from multivae_nb.distributions import subset_products
    sys.path.insert(0, str(ROOT / 'reproductions'))
    from polymnist_tools import CACHE
    train = PolyMNIST('train', build=True, cache_dir=CACHE).subset(torch.arange(1024))
    dims = {f'm{i}': (3, 28, 28) for i in range(5)}
    def make():
        return MoPoE(MoPoEConfig(input_dims=dims, latent_dim=64, beta=2.5, decoders_dist=dict.fromkeys(dims, 'laplace'),
                                 decoder_dist_params={m: {'scale': 0.75} for m in dims}),
                     encoders={m: PolyMNISTConvEncoder(64) for m in dims}, decoders={m: PolyMNISTConvDecoder(64) for m in dims})
    f32, b16 = (_train(make, train, amp, 3, 128) for amp in (False, True))
    a, b = f32[-1]['train_loss'], b16[-1]['train_loss']
    assert a < 0.9 * f32[0]['train_loss']
    print(f'final train loss: float32 {a:.3f}, bf16 autocast {b:.3f} ({100 * abs(a - b) / a:.2f} %)')
    assert abs(a - b) / a < TOL, (a, b)
    mus, lvs = torch.randn(5, 4, 3).bfloat16(), torch.randn(5, 4, 3).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        mu, lv = subset_products(mus, lvs, torch.ones(2, 5, dtype=torch.bool), torch.ones(2, dtype=torch.bool))
    assert mu.dtype == lv.dtype == torch.float32
