"""Lazy experiences: memmaps, datasets and sequences read per minibatch."""

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

from skcl.strategies import Naive
from skcl.utils import (
    BatchIterator,
    LazyTrainData,
    LazyX,
    TrainData,
    as_train_data,
    compact_take,
    is_lazy_input,
)


def _arrays(n=53, seed=0, dtype=np.float32):
    rng = np.random.RandomState(seed)
    X = (rng.rand(n, 1, 4, 4) * 255).astype(dtype)
    return X, rng.randint(0, 3, n), rng.randint(0, 2, n)


def _memmap(tmp_path, X):
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=X.dtype, shape=X.shape)
    mm[:] = X
    mm.flush()
    return np.load(tmp_path / "x.npy", mmap_mode="r")


class ListDataset:
    """A plain sequence (not a torch Dataset) returning (x, y) pairs of numpy arrays."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


class XOnlyDataset(Dataset):
    def __init__(self, X):
        self.X = torch.as_tensor(X)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i]


def _batches(data, shuffle=True, seed=0, batch_size=8, drop_last=False):
    it = BatchIterator(data, batch_size, shuffle=shuffle,
                       generator=torch.Generator().manual_seed(seed), drop_last=drop_last)
    return list(it)


def _assert_same_batches(a, b):
    assert len(a) == len(b)
    for (ia, ya), (ib, yb) in zip(a, b, strict=True):
        assert ia["x"].dtype == ib["x"].dtype
        assert torch.equal(ia["x"], ib["x"])
        assert torch.equal(ya, yb)
        assert torch.equal(ia["task_labels"], ib["task_labels"])


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize("kind", ["memmap", "dataset", "xonly", "sequence"])
@pytest.mark.parametrize("shuffle, drop_last", [(True, False), (False, False), (True, True)])
def test_same_minibatches_as_in_memory(tmp_path, dtype, kind, shuffle, drop_last):
    X, y, t = _arrays(dtype=dtype)
    y_t, t_t = torch.as_tensor(y), torch.as_tensor(t)
    source = {"memmap": lambda: _memmap(tmp_path, X),
              "dataset": lambda: TensorDataset(torch.as_tensor(X), y_t),
              "xonly": lambda: XOnlyDataset(X),
              "sequence": lambda: ListDataset(X, y)}[kind]()
    assert is_lazy_input(source)
    lazy = as_train_data(source, y, t)
    assert isinstance(lazy, LazyTrainData)
    memory = TrainData(torch.as_tensor(X), y_t, t_t)
    a = _batches(lazy, shuffle=shuffle, drop_last=drop_last)
    b = _batches(memory, shuffle=shuffle, drop_last=drop_last)
    _assert_same_batches(a, b)
    assert a[0][0]["x"].dtype == (torch.uint8 if dtype == np.uint8 else torch.float32)


def test_other_dtypes_become_float32_and_in_memory_input_stays_in_memory(tmp_path):
    X = np.arange(12, dtype=np.float64).reshape(6, 2)
    lazy = LazyX(_memmap(tmp_path, X))
    assert lazy[[1]].dtype == torch.float32
    assert lazy.shape == (6, 2) and lazy.ndim == 2
    assert not is_lazy_input(X) and not is_lazy_input(torch.zeros(3)) and not is_lazy_input([1])
    data = as_train_data(X.astype(np.float32), np.zeros(6, dtype=int), np.zeros(6, dtype=int))
    assert type(data) is TrainData


def test_lazy_x_indexing_like_a_tensor():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    lx, tx = LazyX(X), torch.as_tensor(X)
    for key in [3, -1, slice(2, 7, 2), [5, 5, 0], np.array([9, 1]), torch.tensor([4, 2]),
                torch.arange(10) % 3 == 0]:
        assert torch.equal(lx[key], tx[key])
    assert torch.equal(lx.index_select(0, torch.tensor([7, 3])), tx[[7, 3]])
    assert torch.equal(lx.to("cpu"), tx)
    with pytest.raises(IndexError):
        lx[[10]]


def test_subset_keeps_index_references_and_concat_mixes_lazy_and_memory(tmp_path):
    X, y, t = _arrays(n=20, dtype=np.uint8)
    mm = _memmap(tmp_path, X)
    lazy = as_train_data(mm, y, t)
    sub = lazy.subset([7, 2, 2, 19])
    assert isinstance(sub.X, LazyX) and sub.X.source is mm
    np.testing.assert_array_equal(sub.X.indices, [7, 2, 2, 19])
    assert torch.equal(sub.X[:], torch.as_tensor(X[[7, 2, 2, 19]]))
    assert sub.y.tolist() == y[[7, 2, 2, 19]].tolist()
    # a subset of a subset composes the references
    assert sub.subset([3, 0]).X.indices.tolist() == [19, 7]
    memory = TrainData(torch.as_tensor(X[:5]), torch.as_tensor(y[:5]), torch.as_tensor(t[:5]))
    both = sub.concat(memory)
    assert isinstance(both, LazyTrainData) and len(both) == 9
    expect = np.concatenate([X[[7, 2, 2, 19]], X[:5]])
    assert torch.equal(both.X[:], torch.as_tensor(expect))
    assert torch.equal(both.X[[8, 0, 4]], torch.as_tensor(expect[[8, 0, 4]]))
    assert both.y.tolist() == np.concatenate([y[[7, 2, 2, 19]], y[:5]]).tolist()
    got = torch.cat([b[0]["x"] for b in _batches(both, batch_size=4)])
    assert sorted(map(tuple, got.reshape(9, -1).tolist())) == sorted(
        map(tuple, expect.reshape(9, -1).tolist()))


def test_compact_take_keeps_uint8_and_references_disk(tmp_path):
    X8 = torch.randint(0, 256, (10, 1, 3, 3), dtype=torch.uint8)
    kept = compact_take(X8, [1, 4])
    assert kept.dtype == torch.uint8 and torch.equal(kept, X8[[1, 4]])
    assert kept.untyped_storage().data_ptr() != X8.untyped_storage().data_ptr()
    mm = _memmap(tmp_path, X8.numpy())
    ref = compact_take(LazyX(mm), [4, 1])
    assert isinstance(ref, LazyX) and ref.source is mm and ref.indices.tolist() == [4, 1]
    assert torch.equal(ref[:], X8[[4, 1]])
    assert compact_take(X8, torch.tensor([0]), device="cpu").device.type == "cpu"


def test_training_on_a_memmap_matches_training_in_memory(tmp_path):
    from skcl.models import SmallCNN

    X, y, _ = _arrays(n=64)
    X = X / 255
    mm = _memmap(tmp_path, X)
    params = dict(module=SmallCNN, module__input_shape=(1, 4, 4), module__channels=(2, 2),
                  module__hidden_size=4, max_epochs=2, batch_size=8, random_state=0)
    lazy = Naive(**params).partial_fit(mm, y)
    memory = Naive(**params).partial_fit(X, y)
    for a, b in zip(lazy.module_.parameters(), memory.module_.parameters(), strict=True):
        assert torch.equal(a, b)
