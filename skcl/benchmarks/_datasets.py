"""Data sets: scikit-learn's bundled digits, and (Fashion-)MNIST read from IDX files."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skcl.benchmarks._streams import class_incremental_split, permuted_stream

__all__ = [
    "load_digits_arrays",
    "split_digits",
    "permuted_digits",
    "read_idx",
    "load_fashion_mnist",
    "load_mnist",
    "FASHION_MNIST_DEBIAN_PATH",
]

FASHION_MNIST_DEBIAN_PATH = "/usr/share/datasets/fashion-mnist"


def load_digits_arrays(test_size: float = 0.3, random_state=0):
    """Digits (8x8, 10 classes) as float32 in [0, 1], split into train and test.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray

    Examples
    --------
    >>> from skcl.benchmarks import load_digits_arrays
    >>> X_train, X_test, y_train, y_test = load_digits_arrays()
    >>> X_train.shape, X_train.dtype, float(X_train.max())
    ((1257, 64), dtype('float32'), 1.0)
    """
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=test_size, random_state=random_state, stratify=y)


def split_digits(n_experiences: int = 5, *, task_labels=False,
                 class_ids_from_zero_in_each_exp=False, random_state=0, shuffle=True,
                 test_size=0.3):
    """Class-incremental (or task-incremental) split-digits: train and test streams.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> len(train), len(test), len(train[0].classes)
    (5, 5, 2)
    """
    X_train, X_test, y_train, y_test = load_digits_arrays(test_size, random_state)
    return class_incremental_split(
        X_train, y_train, X_test, y_test, n_experiences=n_experiences, shuffle=shuffle,
        task_labels=task_labels, class_ids_from_zero_in_each_exp=class_ids_from_zero_in_each_exp,
        random_state=random_state,
    )


def permuted_digits(n_experiences: int = 5, *, task_labels=False, random_state=0, test_size=0.3):
    """Domain-incremental permuted-digits: train and test streams.

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits
    >>> train, test = permuted_digits(3)
    >>> len(train), train[0].classes.tolist() == list(range(10))
    (3, True)
    """
    X_train, X_test, y_train, y_test = load_digits_arrays(test_size, random_state)
    return permuted_stream(X_train, y_train, X_test, y_test, n_experiences=n_experiences,
                           task_labels=task_labels, random_state=random_state)


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a numpy array.

    Examples
    --------
    >>> import tempfile, os, struct, numpy as np
    >>> from skcl.benchmarks import read_idx
    >>> f = os.path.join(tempfile.mkdtemp(), "x.idx")
    >>> with open(f, "wb") as fh:
    ...     _ = fh.write(struct.pack(">HBB", 0, 8, 1) + struct.pack(">I", 3) + bytes([1, 2, 3]))
    >>> read_idx(f).tolist()
    [1, 2, 3]
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number).")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    code, ndim = data[2], data[3]
    if code not in dtypes:
        raise ValueError(f"{path}: unknown IDX data type code {code:#x}.")
    shape = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(int)
    arr = np.frombuffer(data, dtype=dtypes[code], offset=4 + 4 * ndim)
    return arr.reshape(tuple(shape)).astype(np.dtype(dtypes[code]).newbyteorder("="))


_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(folder: Path, stem: str) -> Path | None:
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).exists():
            return folder / name
    return None


def _load_idx_dataset(path, env_var: str, default: str | None, name: str, how_to_get: str):
    candidates = [path, os.environ.get(env_var), default]
    folder = next((Path(p) for p in candidates if p is not None), None)
    if folder is None:
        raise FileNotFoundError(
            f"{name}: no data path given. Pass path=... or set {env_var}. {how_to_get}"
        )
    out = []
    for split in ("train", "test"):
        for stem in _IDX_FILES[split]:
            found = _find(folder, stem)
            if found is None:
                raise FileNotFoundError(
                    f"{name}: {stem}[.gz] not found in {folder}. {how_to_get}"
                )
            out.append(read_idx(found))
    X_train, y_train, X_test, y_test = out
    scale = np.float32(1.0 / 255.0)
    X_train = X_train.reshape(len(X_train), -1).astype(np.float32) * scale
    X_test = X_test.reshape(len(X_test), -1).astype(np.float32) * scale
    return X_train, X_test, y_train.astype(np.int64), y_test.astype(np.int64)


def load_fashion_mnist(path=None):
    """Fashion-MNIST from IDX files: flattened 784 float32 pixels in [0, 1].

    The folder is ``path``, else ``$SKCL_FASHION_MNIST``, else the Debian
    package's ``/usr/share/datasets/fashion-mnist``. Nothing is downloaded.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
    """
    return _load_idx_dataset(
        path, "SKCL_FASHION_MNIST", FASHION_MNIST_DEBIAN_PATH, "Fashion-MNIST",
        "Install it with `apt-get update && apt-get install -y dataset-fashion-mnist` "
        f"(files go to {FASHION_MNIST_DEBIAN_PATH}), or point path= at a folder holding "
        "the four IDX files.",
    )


def load_mnist(path=None):
    """MNIST from IDX files at ``path`` (or ``$SKCL_MNIST``), scaled like Fashion-MNIST."""
    return _load_idx_dataset(
        path, "SKCL_MNIST", None, "MNIST",
        "Copy the four MNIST IDX files (train-images-idx3-ubyte[.gz], ...) into a folder and "
        "pass it as path= or set SKCL_MNIST.",
    )
