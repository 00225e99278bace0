import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from skcl.benchmarks import (
    FASHION_MNIST_DEBIAN_PATH,
    Experience,
    class_incremental_split,
    load_fashion_mnist,
    load_mnist,
    online_stream,
    permuted_digits,
    permuted_stream,
    read_idx,
    rotated_stream,
    split_digits,
    stream_from_groups,
    stream_to_arrays,
    task_incremental_split,
)


def test_experience_is_immutable_and_does_not_copy():
    X = np.zeros((3, 2))
    exp = Experience(X, np.array([0, 1, 1]))
    assert exp.X is X
    with pytest.raises(AttributeError):
        exp.X = None
    assert exp.task_labels.tolist() == [0, 0, 0]
    assert exp.origin_index == 0


def test_class_incremental_split_is_disjoint_aligned_and_seeded():
    rng = np.random.RandomState(0)
    X, y = rng.rand(100, 3), np.arange(100) % 10
    Xt, yt = rng.rand(50, 3), np.arange(50) % 10
    train, test = class_incremental_split(X, y, Xt, yt, n_experiences=5, random_state=1)
    assert [e.classes.tolist() for e in train] == [e.classes.tolist() for e in test]
    all_classes = np.concatenate([e.classes for e in train])
    assert sorted(all_classes.tolist()) == list(range(10))
    assert sum(len(e) for e in train) == 100
    again, _ = class_incremental_split(X, y, Xt, yt, n_experiences=5, random_state=1)
    assert [e.classes.tolist() for e in again] == [e.classes.tolist() for e in train]
    other = class_incremental_split(X, y, n_experiences=5, random_state=2)
    assert [e.classes.tolist() for e in other] != [e.classes.tolist() for e in train]


def test_class_order_and_explicit_classes():
    X, y = np.zeros((8, 1)), np.array([0, 1, 2, 3] * 2)
    s = class_incremental_split(X, y, n_experiences=2, class_order=[3, 2, 1, 0])
    assert [e.classes.tolist() for e in s] == [[2, 3], [0, 1]]
    s = class_incremental_split(X, y, per_exp_classes=[[1], [0, 2, 3]])
    assert [len(e) for e in s] == [2, 6]
    with pytest.raises(ValueError, match="not in y"):
        class_incremental_split(X, y, per_exp_classes=[[9]])
    with pytest.raises(ValueError, match="n_experiences"):
        class_incremental_split(X, y, n_experiences=5)


def test_task_incremental_renumbering():
    X, y = np.zeros((8, 1)), np.array([4, 5, 6, 7] * 2)
    s = task_incremental_split(X, y, n_experiences=2, shuffle=False,
                               class_ids_from_zero_in_each_exp=True)
    assert [e.task_label for e in s] == [0, 1]
    assert all(set(np.asarray(e.y).tolist()) == {0, 1} for e in s)


def test_permuted_stream_fixed_permutation_per_experience():
    X, y = np.arange(20.0).reshape(2, 10), np.array([0, 1])
    Xt = X + 100
    train, test = permuted_stream(X, y, Xt, y, n_experiences=3, random_state=0)
    for tr, te in zip(train, test):
        # the same permutation applies to train and test
        perm = np.argsort(tr.X[0])
        assert np.array_equal(np.argsort(te.X[0]), perm)
    assert not np.array_equal(train[0].X, train[1].X)
    assert not np.array_equal(train[0].X, X)  # the first experience is permuted too


def test_rotated_stream_rotates_images():
    img = np.zeros((1, 4, 4))
    img[0, 0, 1] = 1.0
    s = rotated_stream(img.reshape(1, 16), [0], angles=[0, 90])
    assert np.allclose(s[0].X, img.reshape(1, 16))
    assert not np.allclose(s[1].X, s[0].X)
    assert s[1].X.shape == (1, 16)


def test_stream_from_groups_and_back():
    X, y = np.arange(6).reshape(6, 1), np.array([0, 1, 0, 1, 2, 2])
    s = stream_from_groups(X, y, groups=[5, 5, 1, 1, 9, 9], task_labels=[0, 0, 1, 1, 2, 2])
    assert [e.task_label for e in s] == [1, 0, 2]
    X2, y2, ids, t = stream_to_arrays(s)
    assert ids.tolist() == [0, 0, 1, 1, 2, 2] and t.tolist() == [1, 1, 0, 0, 2, 2]


def test_online_stream_pieces_know_their_origin():
    train, _ = split_digits(n_experiences=2, random_state=0)
    pieces = online_stream(train, 100, random_state=0)
    assert sum(len(p) for p in pieces) == sum(len(e) for e in train)
    assert {p.origin for p in pieces} == {0, 1}
    for origin in (0, 1):
        mine = [p for p in pieces if p.origin == origin]
        assert mine[0].is_first_piece and mine[-1].is_last_piece
        assert sum(p.is_first_piece for p in mine) == 1
    assert [p.index for p in pieces] == list(range(len(pieces)))


def test_digits_streams():
    train, test = split_digits(n_experiences=5, random_state=0)
    assert len(train) == 5 and train[0].X.dtype == np.float32
    assert 0.0 <= train[0].X.min() and train[0].X.max() <= 1.0
    ptrain, _ = permuted_digits(3)
    assert len(ptrain) == 3 and len(ptrain[0].classes) == 10


def _write_idx(path: Path, arr: np.ndarray, gz: bool):
    header = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_loader_reads_and_scales(tmp_path, gz):
    rng = np.random.RandomState(0)
    imgs = rng.randint(0, 256, size=(5, 28, 28))
    labels = np.array([0, 1, 2, 3, 4])
    suffix = ".gz" if gz else ""
    for stem, arr in [("train-images-idx3-ubyte", imgs), ("train-labels-idx1-ubyte", labels),
                      ("t10k-images-idx3-ubyte", imgs[:2]), ("t10k-labels-idx1-ubyte", labels[:2])]:
        _write_idx(tmp_path / (stem + suffix), arr, gz)
    assert read_idx(tmp_path / ("train-labels-idx1-ubyte" + suffix)).tolist() == labels.tolist()
    X_train, X_test, y_train, y_test = load_mnist(tmp_path)
    assert X_train.shape == (5, 784) and X_train.dtype == np.float32
    assert np.allclose(X_train[0] * 255, imgs[0].ravel())
    assert y_test.tolist() == [0, 1]


def test_missing_files_error_names_path_and_remedy(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)) as err:
        load_fashion_mnist(tmp_path)
    assert "apt-get install -y dataset-fashion-mnist" in str(err.value)
    with pytest.raises(FileNotFoundError, match="SKCL_MNIST"):
        load_mnist()


def test_fashion_mnist_from_debian_package_when_installed():
    if not Path(FASHION_MNIST_DEBIAN_PATH).exists():
        pytest.skip("dataset-fashion-mnist is not installed on this machine")
    X_train, X_test, y_train, y_test = load_fashion_mnist()
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X_train.dtype == np.float32 and float(X_train.max()) <= 1.0
    assert sorted(np.unique(y_train).tolist()) == list(range(10))
