"""MNIST and Fashion-MNIST benchmarks read from the official IDX files.

Split MNIST, Permuted MNIST, Rotated MNIST and Split Fashion-MNIST, with
Avalanche's argument names (``n_experiences``, ``return_task_id``,
``fixed_class_order``, ``shuffle``, ``class_ids_from_zero_in_each_exp``,
``rotations_list``); Avalanche's ``seed`` is ``random_state`` and its
``dataset_root`` is ``root``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skcl.benchmarks._common import as_output, check_format, split_images, subsample
from skcl.benchmarks._datasets import FASHION_MNIST_DEBIAN_PATH, _find, read_idx
from skcl.benchmarks._download import (
    DatasetVerificationError,
    candidate_roots,
    check_md5,
    download_first,
    not_found,
)
from skcl.benchmarks._streams import permuted_stream, rotated_stream

__all__ = ["split_mnist", "permuted_mnist", "rotated_mnist", "split_fashion_mnist",
           "load_idx_images"]

_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass
class _IdxSpec:
    title: str
    env_var: str
    urls: list[str]
    md5: dict[str, tuple[str, ...]]  # md5s of the official .gz files (by stem)
    n_train: int = 60000
    n_test: int = 10000
    image_shape: tuple[int, int] = (28, 28)
    n_classes: int = 10
    extra_roots: list[str] = field(default_factory=list)


# md5s of the .gz files, from torchvision's datasets/mnist.py. Debian's
# dataset-fashion-mnist package re-gzips the same IDX bytes without the file name
# in the gzip header, so its .gz files have their own md5s (listed second).
_SPECS = {
    "mnist": _IdxSpec(
        "MNIST", "SKCL_MNIST",
        ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
        {"train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873",),
         "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432",),
         "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3",),
         "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c",)},
    ),
    "fashion_mnist": _IdxSpec(
        "Fashion-MNIST", "SKCL_FASHION_MNIST",
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
         "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"],
        {"train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                                     "cf8536b0aa1a6ac5fa3f23001093305c"),
         "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe",
                                     "10bea18fdb374794d4bb42e356e600c9"),
         "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79",
                                    "f78720b4224f21cce2f2ccf2d7a94c9a"),
         "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310",
                                    "0d30e22e447f3c33dab9ed536400ac01")},
        extra_roots=[FASHION_MNIST_DEBIAN_PATH],
    ),
}

# torchvision keeps the files in <root>/<Class>/raw/
_SUBFOLDERS = ("", "raw", "MNIST/raw", "FashionMNIST/raw")


def _locate(folder: Path) -> dict[str, Path] | None:
    for sub in _SUBFOLDERS:
        d = folder / sub if sub else folder
        found = {stem: _find(d, stem) for stem in _STEMS}
        if all(v is not None for v in found.values()):
            return found
    return None


def _verify_sizes(spec: _IdxSpec, X_train, y_train, X_test, y_test):
    # raw files: the published sizes, checked through the decoded shapes
    for split, X, y, n in (("train", X_train, y_train, spec.n_train),
                           ("test", X_test, y_test, spec.n_test)):
        if X.shape != (n, *spec.image_shape) or y.shape != (n,):
            raise DatasetVerificationError(
                f"{spec.title}: the {split} files hold images {X.shape} and labels {y.shape}; "
                f"the official ones hold ({n}, {spec.image_shape[0]}, {spec.image_shape[1]}) "
                f"and ({n},). Pass verify=False to read other IDX files."
            )
        if y.min() < 0 or y.max() >= spec.n_classes:
            raise DatasetVerificationError(
                f"{spec.title}: {split} labels outside 0..{spec.n_classes - 1}.")


def _read_images_labels(files: dict[str, Path], title: str):
    out = []
    for stem in _STEMS:
        try:
            arr = read_idx(files[stem])
        except (OSError, EOFError, ValueError) as err:
            raise DatasetVerificationError(f"{title}: cannot read {files[stem]} ({err}).") \
                from err
        want = 3 if "images" in stem else 1
        if arr.ndim != want or arr.dtype != np.uint8:
            raise DatasetVerificationError(
                f"{title}: {files[stem]} holds a {arr.ndim}-d {arr.dtype} array; an IDX "
                f"{'image' if want == 3 else 'label'} file holds {want}-d uint8 data.")
        out.append(arr)
    X_train, y_train, X_test, y_test = out
    if len(X_train) != len(y_train) or len(X_test) != len(y_test):
        raise DatasetVerificationError(f"{title}: image and label files disagree in length.")
    return X_train, y_train, X_test, y_test


def load_idx_images(name: str = "mnist", *, root=None, download: bool = False,
                    verify: bool = True):
    """(Fashion-)MNIST as uint8 images of shape (n, 1, 28, 28) and int64 labels.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}
    root : str or path, default=None
        Folder holding the four IDX files (``train-images-idx3-ubyte[.gz]``, ...;
        torchvision's ``<root>/MNIST/raw`` layout works too). Else
        ``$SKCL_MNIST`` / ``$SKCL_FASHION_MNIST``, ``$SKCL_DATA/<name>``, the
        cache folder, and for Fashion-MNIST the Debian package's folder.
    download : bool, default=False
        Fetch the missing files from the official mirrors into ``root`` (or
        the cache folder).
    verify : bool, default=True
        Check the md5 of the ``.gz`` files (published by torchvision; Debian's
        ``dataset-fashion-mnist`` re-gzips the same IDX bytes, and its md5s are
        accepted too) and the official sizes (60,000 train and 10,000 test 28x28
        images, labels 0-9). Uncompressed files are checked by their sizes.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray

    Examples
    --------
    >>> import os
    >>> from skcl.benchmarks import load_idx_images
    >>> if os.path.isdir("/usr/share/datasets/fashion-mnist"):
    ...     X, Xt, y, yt = load_idx_images("fashion_mnist")
    ...     print(X.shape, X.dtype, yt.shape)
    ... else:
    ...     print((60000, 1, 28, 28), "uint8", (10000,))
    (60000, 1, 28, 28) uint8 (10000,)
    """
    if name not in _SPECS:
        raise ValueError(f"name must be one of {sorted(_SPECS)}; got {name!r}.")
    spec = _SPECS[name]
    searched = candidate_roots(root, spec.env_var, name)
    if root is None:
        searched += [(Path(p), "the Debian package folder") for p in spec.extra_roots]
    files = None
    for folder, _ in searched:
        files = _locate(folder)
        if files is not None:
            break
    if files is None and download:
        target = searched[0][0]
        files = {stem: download_first([u + stem + ".gz" for u in spec.urls], target,
                                      stem + ".gz", spec.md5[stem][0], spec.title)
                 for stem in _STEMS}
    if files is None:
        extra = ("On Debian/Ubuntu: apt-get install dataset-fashion-mnist."
                 if name == "fashion_mnist" else "")
        raise not_found(spec.title, searched, spec.env_var, spec.urls,
                        "the four IDX files (train-images-idx3-ubyte[.gz], "
                        "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
                        "t10k-labels-idx1-ubyte[.gz])", searched[0][0], extra)
    if verify:
        for stem, path in files.items():
            if path.suffix == ".gz":
                check_md5(path, spec.md5.get(stem), spec.title)
    X_train, y_train, X_test, y_test = _read_images_labels(files, spec.title)
    if verify:
        _verify_sizes(spec, X_train, y_train, X_test, y_test)
    return (X_train[:, None], X_test[:, None],
            y_train.astype(np.int64), y_test.astype(np.int64))


def _load(name, root, download, verify, dtype, flatten, max_train_samples, random_state):
    check_format(dtype, flatten)
    X_train, X_test, y_train, y_test = load_idx_images(name, root=root, download=download,
                                                       verify=verify)
    X_train, y_train = subsample(X_train, y_train, max_train_samples, random_state)
    return (as_output(X_train, dtype, flatten), as_output(X_test, dtype, flatten),
            y_train, y_test)


_SPLIT_DOC = """
    Parameters
    ----------
    n_experiences : int, default=5
        Number of experiences; the 10 classes are spread evenly (5 gives 5 x 2).
    root : str or path, default=None
        Folder with the IDX files (Avalanche's ``dataset_root``); see
        :func:`load_idx_images` for where it is looked for otherwise.
    return_task_id : bool, default=False
        Experience ``i`` carries task label ``i`` (task-incremental); else all 0.
    random_state : int, default=0
        Seeds the class order (Avalanche's ``seed``; Avalanche draws with torch,
        so the same seed gives another order there).
    fixed_class_order : sequence of int, default=None
        The class order, overriding ``shuffle`` and ``random_state``.
    shuffle : bool, default=True
        Shuffle the class order with ``random_state``. ``shuffle=False`` gives
        the natural order {0, 1}, {2, 3}, ... used by GEM, van de Ven and Mammoth.
        Avalanche's default is an unseeded random order.
    class_ids_from_zero_in_each_exp : bool, default=False
        Renumber each experience's classes from 0 (per-task label spaces).
    dtype : {"uint8", "float32"}, default="uint8"
        ``"uint8"`` keeps the pixels as stored; ``"float32"`` scales them to [0, 1].
    flatten : bool, default=False
        Rows of 784 features (for MLPs) instead of images of shape (n, 1, 28, 28).
    max_train_samples : int, default=None
        Keep a seeded random subset of the training set (e.g. GEM's 1,000 per task).
    download : bool, default=False
        Fetch missing files from the official mirrors. Never done by default.
    verify : bool, default=True
        Check md5s and the official sizes.

    Returns
    -------
    train_stream, test_stream : list of Experience
"""


def _split(name, n_experiences, root, return_task_id, random_state, fixed_class_order,
           shuffle, class_ids_from_zero_in_each_exp, dtype, flatten, max_train_samples,
           download, verify):
    X_train, X_test, y_train, y_test = _load(name, root, download, verify, dtype, flatten,
                                             max_train_samples, random_state)
    return split_images(X_train, y_train, X_test, y_test, n_experiences=n_experiences,
                        fixed_class_order=fixed_class_order, shuffle=shuffle,
                        random_state=random_state, return_task_id=return_task_id,
                        class_ids_from_zero_in_each_exp=class_ids_from_zero_in_each_exp,
                        classes=np.arange(10))


def split_mnist(n_experiences: int = 5, *, root=None, return_task_id: bool = False,
                random_state=0, fixed_class_order=None, shuffle: bool = True,
                class_ids_from_zero_in_each_exp: bool = False, dtype: str = "uint8",
                flatten: bool = False, max_train_samples: int | None = None,
                download: bool = False, verify: bool = True):
    return _split("mnist", n_experiences, root, return_task_id, random_state,
                  fixed_class_order, shuffle, class_ids_from_zero_in_each_exp, dtype, flatten,
                  max_train_samples, download, verify)


split_mnist.__doc__ = """Split MNIST (class-incremental; task-incremental with ``return_task_id``).

    Avalanche's ``SplitMNIST``.
""" + _SPLIT_DOC + """
    Examples
    --------
    >>> from skcl.benchmarks import split_mnist
    >>> try:
    ...     train, test = split_mnist(5, shuffle=False)
    ... except FileNotFoundError as err:  # MNIST is not installed here
    ...     print("download=True" in str(err))
    ... else:
    ...     print(train[0].X.shape[1:] == (1, 28, 28))
    True
"""


def split_fashion_mnist(n_experiences: int = 5, *, root=None, return_task_id: bool = False,
                        random_state=0, fixed_class_order=None, shuffle: bool = True,
                        class_ids_from_zero_in_each_exp: bool = False, dtype: str = "uint8",
                        flatten: bool = False, max_train_samples: int | None = None,
                        download: bool = False, verify: bool = True):
    return _split("fashion_mnist", n_experiences, root, return_task_id, random_state,
                  fixed_class_order, shuffle, class_ids_from_zero_in_each_exp, dtype, flatten,
                  max_train_samples, download, verify)


split_fashion_mnist.__doc__ = """Split Fashion-MNIST (Avalanche's ``SplitFMNIST``).

    Read from ``root``, ``$SKCL_FASHION_MNIST``, ``$SKCL_DATA/fashion_mnist``,
    the cache folder, or the Debian package's ``/usr/share/datasets/fashion-mnist``.
    Before issue 11 this builder returned flattened float32 rows: pass
    ``dtype="float32", flatten=True`` for that.
""" + _SPLIT_DOC + """
    Examples
    --------
    >>> import os
    >>> from skcl.benchmarks import split_fashion_mnist
    >>> if os.path.isdir("/usr/share/datasets/fashion-mnist"):
    ...     train, test = split_fashion_mnist(5, random_state=0)
    ...     print(len(train), train[0].X.shape[1:], train[0].X.dtype, len(train[0].classes))
    ... else:
    ...     print(5, (1, 28, 28), "uint8", 2)
    5 (1, 28, 28) uint8 2
"""


def permuted_mnist(n_experiences: int = 10, *, root=None, return_task_id: bool = False,
                   random_state=0, dtype: str = "uint8", flatten: bool = False,
                   max_train_samples: int | None = None, download: bool = False,
                   verify: bool = True):
    """Permuted MNIST (domain-incremental): one fixed pixel permutation per experience.

    Avalanche's ``PermutedMNIST``: every experience, the first included, gets
    its own permutation drawn from ``RandomState(random_state)``; the same
    permutation is applied to the train and test images; all 10 classes in
    each experience. CLB's EWC/SI runs use 10 experiences, GEM 20 (with
    ``max_train_samples=1000``), A-GEM 17.

    Parameters
    ----------
    n_experiences : int, default=10
    root, return_task_id, random_state, dtype, flatten, max_train_samples, download, verify
        As in :func:`split_mnist`; ``random_state`` seeds the permutations.

    Returns
    -------
    train_stream, test_stream : list of Experience

    Examples
    --------
    >>> from skcl.benchmarks import permuted_mnist
    >>> try:
    ...     train, test = permuted_mnist(3)
    ... except FileNotFoundError as err:
    ...     print("SKCL_MNIST" in str(err))
    ... else:
    ...     print(len(train) == 3)
    True
    """
    X_train, X_test, y_train, y_test = _load("mnist", root, download, verify, dtype, flatten,
                                             max_train_samples, random_state)
    return permuted_stream(X_train, y_train, X_test, y_test, n_experiences=n_experiences,
                           task_labels=return_task_id, random_state=random_state)


def rotated_mnist(n_experiences: int = 10, *, root=None, return_task_id: bool = False,
                  random_state=0, rotations_list=None, dtype: str = "uint8",
                  flatten: bool = False, max_train_samples: int | None = None,
                  download: bool = False, verify: bool = True):
    """Rotated MNIST (domain-incremental): each experience rotates the images by one angle.

    As Avalanche's ``RotatedMNIST``: without ``rotations_list`` each experience
    draws an integer angle in [-180, 180] degrees from
    ``RandomState(random_state)``. Rotation is bilinear about the image centre,
    zero outside (scipy.ndimage).

    Parameters
    ----------
    rotations_list : sequence of float, default=None
        One angle in degrees per experience (its length must be ``n_experiences``).
    root, return_task_id, random_state, dtype, flatten, max_train_samples, download, verify
        As in :func:`split_mnist`.

    Returns
    -------
    train_stream, test_stream : list of Experience

    Examples
    --------
    >>> from skcl.benchmarks import rotated_mnist
    >>> try:
    ...     train, test = rotated_mnist(2, rotations_list=[0, 90])
    ... except FileNotFoundError as err:
    ...     print("download=True" in str(err))
    ... else:
    ...     print(len(train) == 2)
    True
    """
    if rotations_list is None:
        rng = np.random.RandomState(random_state)
        rotations_list = [int(rng.randint(-180, 181)) for _ in range(n_experiences)]
    elif len(rotations_list) != n_experiences:
        raise ValueError(f"rotations_list has {len(rotations_list)} angles for "
                         f"{n_experiences} experiences.")
    X_train, X_test, y_train, y_test = _load("mnist", root, download, verify, dtype, flatten,
                                             max_train_samples, random_state)
    return rotated_stream(X_train, y_train, X_test, y_test, n_experiences=n_experiences,
                          angles=list(rotations_list), task_labels=return_task_id,
                          image_shape=(28, 28) if flatten else None)
