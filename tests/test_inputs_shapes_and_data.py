"""Inputs: any trailing shape, the fitted shape checked on every verb, task labels that are
integers, uint8 pixels kept compact, data on disk read per minibatch, and errors that say
what to do with a list of experiences (issues 11 and 12)."""

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from skcl.benchmarks import Experience
from skcl.strategies import Naive
from skcl.utils import LazyX


def _data(n=48, shape=(8, 2), seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(n, *shape).astype(np.float32), rng.randint(0, 3, n)


def test_default_mlp_flattens_any_trailing_shape():
    X, y = _data()
    net = Naive(max_epochs=1, random_state=0).partial_fit(X, y)
    assert net.input_shape_ == (8, 2) and net.n_features_in_ == 8
    assert net.module_.features[1].in_features == 16
    flat = Naive(max_epochs=1, random_state=0).partial_fit(X.reshape(len(X), -1), y)
    for a, b in zip(net.module_.parameters(), flat.module_.parameters(), strict=True):
        assert torch.equal(a, b)  # the same network as on flattened rows


@pytest.mark.parametrize("verb", ["partial_fit", "predict", "predict_proba", "score", "fit"])
def test_the_fitted_input_shape_is_checked_on_every_verb(verb):
    X, y = _data()
    net = Naive(max_epochs=1, random_state=0).partial_fit(X, y)
    before = [p.detach().clone() for p in net.module_.parameters()]
    wrong, _ = _data(n=6, shape=(8, 3))  # same first dimension, different trailing shape
    args = (wrong, y[:6]) if verb in ("partial_fit", "score") else (wrong,)
    if verb == "fit":
        net.set_params(warm_start=True)
        args = (wrong, y[:6])
    with pytest.raises(ValueError, match=r"samples of shape \(8, 3\).*fitted on samples of "
                                         r"shape \(8, 2\)"):
        getattr(net, verb)(*args)
    assert all(torch.equal(a, b) for a, b in zip(before, net.module_.parameters(), strict=True))


@pytest.mark.parametrize("bad", ["a", 0.7, np.array(["t"] * 48), np.full(48, 1.5), -1, True])
def test_task_labels_must_be_integer_values(bad):
    X, y = _data()
    with pytest.raises(ValueError, match="task_labels"):
        Naive(max_epochs=1).partial_fit(X, y, task_labels=bad)
    with pytest.raises(ValueError, match="task_labels"):
        Naive(max_epochs=1).partial_fit(Experience(X, y, task_label=bad))


def test_integral_float_task_labels_are_accepted():
    X, y = _data()
    net = Naive(max_epochs=1, random_state=0).partial_fit(X, y, task_labels=np.full(48, 2.0))
    assert list(net.units_by_task_) == [2]


def test_a_list_of_experiences_gets_an_error_that_says_what_to_do():
    X, y = _data()
    stream = [Experience(X, y), Experience(X, y)]
    net = Naive(max_epochs=1, random_state=0)
    with pytest.raises(TypeError, match=r"once per experience.*fit\(stream\)"):
        net.partial_fit(stream)
    net.partial_fit(stream[0])
    with pytest.raises(TypeError, match=r"skcl\.evaluation\.evaluate"):
        net.score(stream)


def test_uint8_pixels_stay_uint8_and_train_like_floats_in_unit_range():
    rng = np.random.RandomState(0)
    X8 = rng.randint(0, 256, (40, 1, 4, 4)).astype(np.uint8)
    y = rng.randint(0, 2, 40)
    seen = []

    from skcl.plugins import StrategyPlugin

    class Spy(StrategyPlugin):
        def before_training_exp(self, strategy, exp):
            seen.append(strategy.train_data_.X.dtype)

    a = Naive(max_epochs=2, lr=0.1, random_state=0, plugins=[Spy()]).partial_fit(X8, y)
    scaled = (torch.as_tensor(X8).to(torch.float32) / 255).numpy()
    b = Naive(max_epochs=2, lr=0.1, random_state=0).partial_fit(scaled, y)
    assert seen == [torch.uint8]
    for p, q in zip(a.module_.parameters(), b.module_.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6)
    np.testing.assert_array_equal(a.predict(X8), b.predict(scaled))


def _memmap(tmp_path, X):
    np.save(tmp_path / "x.npy", X)
    return np.load(tmp_path / "x.npy", mmap_mode="r")


def test_a_memmap_experience_is_read_per_minibatch_and_trains_like_memory(tmp_path):
    X, y = _data(n=64, shape=(1, 4, 4))
    mm = _memmap(tmp_path, X)
    kinds = []

    from skcl.plugins import StrategyPlugin

    class Spy(StrategyPlugin):
        def before_training_exp(self, strategy, exp):
            kinds.append(type(strategy.train_data_.X))

    lazy = Naive(max_epochs=2, batch_size=8, random_state=0, plugins=[Spy()])
    lazy.partial_fit(mm, y)
    memory = Naive(max_epochs=2, batch_size=8, random_state=0).partial_fit(X, y)
    assert kinds == [LazyX]
    for a, b in zip(lazy.module_.parameters(), memory.module_.parameters(), strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(lazy.predict(mm), memory.predict(X))
    assert lazy.score(mm, y) == memory.score(X, y)


class _PairDataset(Dataset):
    """A torch Dataset of (x, y) pairs, as torchvision's datasets are."""

    def __init__(self, X, y):
        self.X, self.y = torch.as_tensor(X), y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], int(self.y[i])


def test_a_torch_dataset_experience_trains_like_its_arrays():
    X, y = _data(n=40, shape=(6,))
    ds = Naive(max_epochs=2, batch_size=8, random_state=0).partial_fit(
        Experience(_PairDataset(X, y), y))
    arr = Naive(max_epochs=2, batch_size=8, random_state=0).partial_fit(X, y)
    for a, b in zip(ds.module_.parameters(), arr.module_.parameters(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="features"):
        ds.predict(_PairDataset(np.zeros((3, 5), np.float32), [0, 0, 0]))


def test_replay_over_a_memmap_keeps_index_references_and_trains_like_memory(tmp_path):
    from skcl.strategies import Replay

    rng = np.random.RandomState(0)
    X8 = rng.randint(0, 256, (120, 1, 4, 4)).astype(np.uint8)
    y = np.repeat([0, 1, 2, 3], 30)
    mm = _memmap(tmp_path, X8)
    common = dict(mem_size=20, max_epochs=2, batch_size=8, lr=0.05, random_state=0)
    lazy, memory = Replay(**common), Replay(**common)
    for part in (slice(0, 60), slice(60, 120)):
        lazy.partial_fit(mm[part], y[part])
        memory.partial_fit(X8[part], y[part])
    stored = lazy.named_plugins_["replay"].storage_.X_
    # index references into the file (nothing copied), read as uint8 like the memory's
    assert isinstance(stored, LazyX) and stored.shape == (20, 1, 4, 4)
    read = stored[np.arange(20)]
    assert read.dtype == torch.uint8
    assert torch.equal(read, memory.named_plugins_["replay"].storage_.X_)
    for a, b in zip(lazy.module_.parameters(), memory.module_.parameters(), strict=True):
        assert torch.equal(a, b)
