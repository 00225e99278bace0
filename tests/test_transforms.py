"""skcl.transforms: seeded, clonable, vectorised batch transforms."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid

from skcl.transforms import (
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    ToFloat,
    apply_transform,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _aug():
    return Compose([ToFloat(), RandomCrop(8, padding=2), RandomHorizontalFlip(0.5),
                    Normalize((0.5, 0.4), (0.2, 0.3))])


def test_seeded_reproducibility_and_seed_dependence():
    x = torch.randint(0, 256, (64, 2, 8, 8), dtype=torch.uint8)
    a, b = _aug()(x, generator=_gen(1)), _aug()(x, generator=_gen(1))
    c = _aug()(x, generator=_gen(2))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == (64, 2, 8, 8) and a.dtype == torch.float32


def test_clone_and_params_untouched_and_searchable():
    crop = RandomCrop(size=(8, 6), padding=3, fill=0.5)
    assert crop.get_params() == {"size": (8, 6), "padding": 3, "fill": 0.5}
    aug = _aug()
    cl = clone(aug)
    assert cl is not aug and cl.transforms[1] is not aug.transforms[1]
    assert cl.transforms[1].get_params() == aug.transforms[1].get_params()
    x = torch.rand(16, 2, 8, 8)
    assert torch.equal(cl(x, generator=_gen()), aug(x, generator=_gen()))
    flips = [clone(RandomHorizontalFlip()).set_params(**p)
             for p in ParameterGrid({"p": [0.0, 1.0]})]
    assert [f.p for f in flips] == [0.0, 1.0]
    # invalid values are stored untouched and rejected when used
    bad = RandomHorizontalFlip(p=2.0)
    assert bad.p == 2.0
    with pytest.raises(ValueError, match="p must be"):
        bad(x)


def test_crop_on_hand_made_tensor():
    x = torch.arange(1, 10, dtype=torch.float32).reshape(1, 1, 3, 3)
    # no padding, crop size = image: identity
    assert torch.equal(RandomCrop(3)(x, generator=_gen()), x)
    # every 2x2 crop with padding 1 is a window of the zero-padded image
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))[0, 0]
    windows = {tuple(padded[i:i + 2, j:j + 2].flatten().tolist())
               for i in range(4) for j in range(4)}
    xs = x.expand(500, 1, 3, 3)
    out = RandomCrop(2, padding=1)(xs, generator=_gen(3))
    seen = {tuple(o[0].flatten().tolist()) for o in out}
    assert seen <= windows
    assert len(seen) == len(windows)  # 500 draws hit all 16 offsets
    # rectangular crop, several channels: the same offset for every channel of an image
    y = torch.stack([x[0, 0], 10 * x[0, 0]])[None].expand(50, 2, 3, 3)
    out = RandomCrop((1, 3), padding=0)(y, generator=_gen())
    assert out.shape == (50, 2, 1, 3)
    assert torch.equal(out[:, 1], 10 * out[:, 0])
    rows = {tuple(o[0, 0].tolist()) for o in out}
    assert rows == {(1.0, 2.0, 3.0), (4.0, 5.0, 6.0), (7.0, 8.0, 9.0)}


def test_crop_errors():
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(5)(torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="N, C, H, W"):
        RandomCrop(2)(torch.zeros(3, 9))


def test_flip_probability_and_content():
    x = torch.arange(4.).reshape(1, 1, 1, 4).expand(4000, 1, 1, 4)
    out = RandomHorizontalFlip(p=0.3)(x, generator=_gen())
    flipped = (out[:, 0, 0] == x[0, 0, 0].flip(0)).all(1)
    kept = (out[:, 0, 0] == x[0, 0, 0]).all(1)
    assert bool((flipped | kept).all())
    # 4000 Bernoulli(0.3) draws: std 0.0072, 0.03 is > 4 std
    assert abs(flipped.float().mean().item() - 0.3) < 0.03
    assert torch.equal(RandomHorizontalFlip(p=0.0)(x), x)
    assert torch.equal(RandomHorizontalFlip(p=1.0)(x), x.flip(-1))


def test_normalize_values_and_errors():
    rng = np.random.RandomState(0)
    x = torch.as_tensor(rng.rand(5, 3, 4, 4).astype(np.float32))
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = Normalize(mean, std)(x)
    m = np.array(mean, dtype=np.float32)[:, None, None]
    s = np.array(std, dtype=np.float32)[:, None, None]
    np.testing.assert_allclose(out.numpy(), (x.numpy() - m) / s, rtol=1e-6, atol=1e-7)
    with pytest.raises(TypeError, match="ToFloat"):
        Normalize(0.5, 0.5)(torch.zeros(1, 1, 2, 2, dtype=torch.uint8))
    with pytest.raises(ValueError, match="one per channel"):
        Normalize((0.1, 0.2), (1.0, 1.0))(x)


def test_to_float_and_apply_transform_dispatch():
    x = torch.tensor([[[[0, 51, 255]]]], dtype=torch.uint8)
    out = ToFloat()(x)
    assert out.dtype == torch.float32
    assert torch.allclose(out, torch.tensor([[[[0.0, 0.2, 1.0]]]]))
    f = torch.rand(2, 3)
    assert ToFloat()(f) is f
    calls = []

    def plain(b):  # a torchvision-like callable: no generator argument
        calls.append(b)
        return b + 1

    assert torch.equal(apply_transform(plain, f, _gen()), f + 1) and len(calls) == 1
    assert apply_transform(None, f, _gen()) is f
    with pytest.raises(TypeError, match="callable"):
        apply_transform(3, f)
    # a Compose mixing both kinds still draws the skcl ones from the generator
    mixed = Compose([plain, RandomHorizontalFlip()])
    a = mixed(torch.rand(32, 1, 2, 2).expand(32, 1, 2, 2), generator=_gen(5))
    assert a.shape == (32, 1, 2, 2)


def test_runs_on_the_tensor_device_with_a_generator():
    x = torch.rand(4, 1, 6, 6)
    out = Compose([RandomCrop(6, padding=1), RandomHorizontalFlip()])(x, generator=_gen())
    assert out.device == x.device
    if torch.cuda.is_available():  # pragma: no cover - only on a GPU machine
        xc = x.cuda()
        outc = Compose([RandomCrop(6, padding=1), RandomHorizontalFlip()])(xc, generator=_gen())
        assert outc.device == xc.device and torch.equal(outc.cpu(), out)


def _plugin_data(n=48, seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(n, 1, 8, 8).astype(np.float32), np.arange(n) % 4


def _cnn_params(**kw):
    from skcl.models import SmallCNN

    return dict(module=SmallCNN, module__input_shape=(1, 8, 8), module__channels=(2, 2),
                module__hidden_size=4, batch_size=8, max_epochs=1, **kw)


def test_transform_plugin_is_seeded_and_changes_training():
    from skcl.plugins import TransformPlugin
    from skcl.strategies import Naive

    X, y = _plugin_data()
    aug = Compose([RandomCrop(8, padding=2), RandomHorizontalFlip()])

    def weights(random_state, transform):
        net = Naive(plugins=[TransformPlugin(transform)], random_state=random_state,
                    **_cnn_params()).partial_fit(X, y)
        return torch.cat([p.detach().flatten() for p in net.module_.parameters()])

    a, b = weights(0, aug), weights(0, clone(aug))
    assert torch.equal(a, b)
    assert not torch.equal(a, weights(0, None))


def test_transform_plugin_augments_replayed_exemplars():
    from skcl.plugins import ReplayPlugin, StrategyPlugin, TransformPlugin
    from skcl.strategies import Naive

    seen = []

    class Spy(StrategyPlugin):
        def before_training_iteration(self, strategy, batch):
            seen.append(batch[0]["x"].clone())

    X, y = _plugin_data()
    net = Naive(plugins=[ReplayPlugin(mem_size=8, batch_size_mem=8),
                         TransformPlugin(RandomHorizontalFlip(p=1.0)), Spy()],
                random_state=0, **_cnn_params())
    net.partial_fit(X[y < 2], y[y < 2])
    # a copy: inside a strategy the buffer updates its arrays in place (journaled for rollback)
    memory = net.named_plugins_["replay"].storage_.X_.clone()
    seen.clear()
    net.partial_fit(X[y >= 2], y[y >= 2])
    replayed = torch.cat([b[8:] for b in seen])  # 8 current + 8 replayed per minibatch
    assert len(replayed) == 8 * len(seen)
    # every replayed sample is a flipped exemplar, none is an unflipped one
    flipped = {tuple(m.flip(-1).flatten().tolist()) for m in memory}
    raw = {tuple(m.flatten().tolist()) for m in memory}
    got = {tuple(r.flatten().tolist()) for r in replayed}
    assert got <= flipped and not (got & raw)


def test_transform_plugin_rejects_a_non_callable():
    from skcl.plugins import TransformPlugin
    from skcl.strategies import Naive

    X, y = _plugin_data()
    with pytest.raises(ValueError, match="transform"):
        Naive(plugins=[TransformPlugin(transform=3)], **_cnn_params()).partial_fit(X, y)
