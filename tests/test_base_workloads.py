"""The strategy's transforms, devices and precision (issue 11 items 3 and 5, base side)."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skcl.models import SmallCNN
from skcl.plugins import StrategyPlugin
from skcl.strategies import GEM, Naive, Replay
from skcl.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip

TINY = {"module__hidden_sizes": (16,), "max_epochs": 2, "lr": 0.05, "random_state": 0}
CNN = {"module": SmallCNN, "module__input_shape": (1, 8, 8), "module__channels": (4, 8),
       "module__hidden_size": 16, "max_epochs": 2, "lr": 0.05, "random_state": 0}


def _images(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 1, 8, 8), dtype=np.float32)
    y = np.arange(n) % 2
    X[y == 1, :, :4] += 1.0  # learnable: class 1 is brighter on top
    return X, y


class SeenInputs(StrategyPlugin):
    """Records the inputs of every training minibatch as the loss sees them."""

    def penalty(self, strategy, y_pred, y_true, inputs):
        self.seen_ = [*getattr(self, "seen_", []), inputs["x"].detach().clone()]


def _augment():
    return Compose([RandomCrop(8, padding=1), RandomHorizontalFlip()])


def test_train_transform_reaches_the_loss_and_is_seeded():
    X, y = _images()
    runs = [Naive(train_transform=_augment(), plugins=[SeenInputs()], **CNN).partial_fit(X, y)
            for _ in range(2)]
    seen = [torch.cat(r.named_plugins_["seeninputs"].seen_) for r in runs]
    torch.testing.assert_close(seen[0], seen[1])  # same random_state: same augmentation
    plain = Naive(plugins=[SeenInputs()], **CNN).partial_fit(X, y)
    raw = torch.cat(plain.named_plugins_["seeninputs"].seen_)
    assert raw.shape == seen[0].shape and not torch.equal(raw, seen[0])  # augmented
    np.testing.assert_array_equal(plain.predict_proba(X),
                                  Naive(**CNN).partial_fit(X, y).predict_proba(X))


def test_replayed_samples_are_transformed_too():
    X, y = _images()
    marker = lambda x: x * 0 + 7.0  # noqa: E731 - any callable is a transform
    net = Replay(mem_size=20, train_transform=marker, plugins=[SeenInputs()], **CNN)
    net.partial_fit(X[:32], y[:32]).partial_fit(X[32:], y[32:])
    seen = net.named_plugins_["seeninputs"].seen_
    assert all(bool((batch == 7.0).all()) for batch in seen)


def test_eval_transform_applies_at_predict_time():
    X, y = _images()
    norm = Normalize(mean=0.5, std=0.25)
    a = Naive(eval_transform=norm, **CNN).partial_fit(X, y)
    b = Naive(**CNN).partial_fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba((X - 0.5) / 0.25), rtol=1e-5)


def test_transform_is_a_searchable_parameter():
    X, y = _images()
    search = GridSearchCV(Naive(**CNN), {"train_transform": [None, _augment()]}, cv=2)
    search.fit(X, y)
    assert set(map(type, search.cv_results_["param_train_transform"])) <= {
        type(None), Compose, np.ma.core.MaskedConstant}
    assert clone(Naive(train_transform=_augment())).train_transform is not None


@pytest.mark.parametrize("bad", [{"precision": "64"}, {"train_transform": 3},
                                 {"eval_transform": "flip"}])
def test_bad_transform_or_precision_is_named(bad):
    X, y = _images()
    with pytest.raises(ValueError, match=f"parameter '{next(iter(bad))}' must be"):
        Naive(**CNN, **bad).partial_fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without a GPU")
def test_cuda_without_a_gpu_says_so_before_training():
    X, y = _images()
    net = Naive(device="cuda", **CNN)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        net.partial_fit(X, y)
    assert not hasattr(net, "class_order_")


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
@pytest.mark.parametrize("make", [lambda **k: Naive(**k),
                                  lambda **k: GEM(patterns_per_experience=16, **k)],
                         ids=["Naive", "GEM"])
def test_mixed_precision_trains_close_to_fp32(precision, make):
    X, y = _images(128)
    X2 = X.reshape(len(X), -1)
    params = {**TINY, "max_epochs": 5}
    mixed = make(precision=precision, **params).partial_fit(X2[:64], y[:64])
    mixed.partial_fit(X2[64:], 1 - y[64:] + 2)
    full = make(**params).partial_fit(X2[:64], y[:64]).partial_fit(X2[64:], 1 - y[64:] + 2)
    assert mixed.predict_proba(X2).dtype == np.float32
    assert np.isfinite(mixed.predict_proba(X2)).all()
    # the same model up to low-precision rounding: predictions mostly agree
    assert (mixed.predict(X2) == full.predict(X2)).mean() >= 0.9
    if precision == "16-mixed":
        assert mixed.grad_scaler_ is not None


@pytest.mark.parametrize("make", [lambda **k: Naive(**k), lambda **k: Replay(mem_size=30, **k),
                                  lambda **k: GEM(patterns_per_experience=10, **k)],
                         ids=["Naive", "Replay", "GEM"])
def test_loss_sync_epoch_trains_the_same_without_a_read_per_minibatch(make, monkeypatch):
    from skcl.benchmarks import split_digits

    train, _ = split_digits(n_experiences=2, random_state=0)
    common = dict(max_epochs=2, lr=0.05, random_state=0)
    per_batch = make(**common)
    for exp in train:
        per_batch.partial_fit(exp)
    reads = []
    original = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda t: reads.append(1) or original(t))
    per_epoch = make(loss_sync="epoch", **common)
    for exp in train:
        per_epoch.partial_fit(exp)
    monkeypatch.undo()
    for a, b in zip(per_batch.module_.parameters(), per_epoch.module_.parameters(), strict=True):
        assert torch.equal(a, b)
    n_batches = sum(len(e["batches"]) for e in per_epoch.history_)
    assert len(reads) < n_batches  # skorch's way reads every minibatch's loss
    assert "train_loss" not in per_epoch.history_[-1]["batches"][-1]
    assert per_epoch.history_[-1]["train_loss"] == pytest.approx(
        per_batch.history_[-1]["train_loss"], rel=1e-6)


def test_loss_sync_epoch_still_detects_divergence_and_rolls_back():
    from skcl.benchmarks import split_digits
    from skcl.exceptions import DivergenceError

    train, _ = split_digits(n_experiences=2, random_state=0)
    net = Naive(lr=0.05, random_state=0, loss_sync="epoch").partial_fit(train[0])
    before = [p.detach().clone() for p in net.module_.parameters()]
    net.set_params(lr=1e30)
    with pytest.raises(DivergenceError, match="end of epoch"):
        net.partial_fit(train[1].X * 1e20, train[1].y)
    assert net.n_experiences_ == 1
    assert all(torch.equal(a, b) for a, b in zip(before, net.module_.parameters(), strict=True))


def _affine(x, generator=None):
    return x * x * 0.5 + 1.0  # not affine: LDA is invariant to affine maps


def _identity(x, generator=None):
    return x


@pytest.mark.parametrize("name, extra", [("ICaRL", {}), ("CoPE", {}), ("StreamingLDA", {}),
                                         # SCR's own augmentation runs before the strategy's
                                         # train_transform: no augmentation to compare
                                         ("SCR", {"view_transform": _identity})])
def test_nearest_mean_classifiers_see_inputs_through_eval_transform(name, extra):
    """Class means, herding and predict-time features use the inputs the model trains on."""
    import skcl.strategies as strategies
    from skcl.benchmarks import split_digits

    train, test = split_digits(n_experiences=2, random_state=0)
    cls = getattr(strategies, name)
    common = dict(max_epochs=2, lr=0.05, random_state=0, **extra)
    with_transform = cls(train_transform=_affine, eval_transform=_affine, **common)
    on_transformed = cls(**common)
    for exp in train:
        with_transform.partial_fit(exp)
        on_transformed.partial_fit(_affine(exp.X), exp.y)
    X = np.concatenate([e.X for e in test])
    np.testing.assert_array_equal(with_transform.predict(X), on_transformed.predict(_affine(X)))
