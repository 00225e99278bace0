"""SmallCNN, SlimResNet18 and ResNet18: shapes, growth, multi-head, features, training."""

import numpy as np
import pytest
import torch

from skcl.models import ResNet18, SlimResNet18, SmallCNN, adapt_module
from skcl.strategies import Naive


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_slim_resnet18_parameter_counts_match_the_literature():
    # conv + BN affine + linear, computed from GEM's reduced ResNet-18 (reference table)
    assert _count(SlimResNet18(n_classes=10)) == 1_094_750
    assert _count(SlimResNet18(n_classes=100)) == 1_109_240
    assert _count(ResNet18(n_classes=10)) == 11_173_962


@pytest.mark.parametrize("make, shape, feat", [
    (lambda: SmallCNN(n_classes=3, channels=(4, 8), hidden_size=16), (1, 28, 28), 16),
    (lambda: SlimResNet18(n_classes=3, nf=4), (3, 32, 32), 32),
    (lambda: SlimResNet18((3, 64, 64), n_classes=3, nf=4), (3, 64, 64), 32),
])
def test_shapes_flat_and_image_input(make, shape, feat):
    torch.manual_seed(0)
    net = make().eval()
    x = torch.rand(5, *shape)
    out = net(x)
    assert out.shape == (5, 3)
    assert torch.allclose(net(x.reshape(5, -1)), out)
    assert net.get_features(x).shape == (5, feat)


@pytest.mark.parametrize("make", [
    lambda: SmallCNN(n_classes=2, channels=(4, 8), hidden_size=16),
    lambda: SlimResNet18((1, 28, 28), n_classes=2, nf=4),
])
def test_uint8_input_is_scaled_by_255(make):
    torch.manual_seed(0)
    net = make().eval()
    x8 = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
    assert torch.allclose(net(x8), net(x8.float() / 255), atol=1e-6)
    assert not torch.allclose(net(x8), net(x8.float()), atol=1e-3)


def test_growth_keeps_old_units():
    torch.manual_seed(0)
    net = SlimResNet18(n_classes=2, nf=4).eval()
    x = torch.rand(3, 3, 32, 32)
    before = net(x)
    assert adapt_module(net, 5, {0: np.arange(5)})
    after = net(x)
    assert after.shape == (3, 5)
    assert torch.allclose(after[:, :2], before)


def test_multi_head_routes_by_task_and_masks():
    torch.manual_seed(0)
    net = SmallCNN(n_classes=2, multi_head=True, channels=(4, 8), hidden_size=16).eval()
    adapt_module(net, 4, {0: np.array([0, 1]), 1: np.array([2, 3])})
    out = net(torch.rand(4, 1, 28, 28), torch.tensor([0, 0, 1, 1]))
    assert out.shape == (4, 4)
    assert (out[:2, 2:] < -1000).all() and (out[2:, :2] < -1000).all()
    with pytest.raises(ValueError, match="task labels"):
        net(torch.rand(1, 1, 28, 28))


def test_bad_input_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="input_shape"):
        SmallCNN(input_shape=(28, 28))
    with pytest.raises(ValueError, match="too small"):
        SmallCNN(input_shape=(1, 3, 3))


def _images(n=240, seed=0):
    # two "classes" per experience: a bright square in one of four corners
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 4, n)
    X = rng.rand(n, 1, 28, 28).astype(np.float32) * 0.2
    for i, c in enumerate(y):
        r, q = divmod(int(c), 2)
        X[i, 0, r * 14:r * 14 + 14, q * 14:q * 14 + 14] += 0.8
    return X, y


def test_naive_trains_small_cnn_class_incremental_and_task_incremental():
    X, y = _images()
    first, second = y < 2, y >= 2
    net = Naive(module=SmallCNN, module__channels=(4, 8), module__hidden_size=16, lr=0.1,
                max_epochs=3, batch_size=16, random_state=0)
    net.partial_fit(X[first], y[first])
    assert net.module_.classifier.out_features == 2
    net.partial_fit(X[second], y[second])
    assert net.module_.classifier.out_features == 4
    assert net.score(X[second], y[second]) > 0.9
    assert net.predict_proba(X[:5]).shape == (5, 4)

    mh = Naive(module=SmallCNN, module__channels=(4, 8), module__hidden_size=16,
               module__multi_head=True, lr=0.1, max_epochs=3, batch_size=16, random_state=0)
    mh.partial_fit(X[first], y[first], task_labels=np.zeros(first.sum(), dtype=int))
    mh.partial_fit(X[second], y[second], task_labels=np.ones(second.sum(), dtype=int))
    acc0 = mh.score(X[first], y[first], task_labels=np.zeros(first.sum(), dtype=int))
    assert acc0 > 0.9


def test_icarl_uses_small_cnn_features():
    from skcl.strategies import ICaRL

    X, y = _images()
    net = ICaRL(module=SmallCNN, module__channels=(4, 8), module__hidden_size=16,
                memory_size=20, lr=0.1, max_epochs=2, batch_size=16, random_state=0)
    net.partial_fit(X[y < 2], y[y < 2])
    net.partial_fit(X[y >= 2], y[y >= 2])
    assert net.score(X, y) > 0.9
