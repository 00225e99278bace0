"""Split CIFAR-10 and Split CIFAR-100 read from the official python archives.

The readers take ``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz`` as
published (read in place, not extracted) or the extracted
``cifar-10-batches-py/`` / ``cifar-100-python/`` folder. Each pickled batch
holds ``data``, a uint8 array of shape (n, 3072) whose rows are the R, G and
B planes of a 32x32 image, so rows reshape to (3, 32, 32) without a copy.
Python 2 (str keys) and Python 3 (bytes keys) pickles both load.
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np

from skcl.benchmarks._common import as_output, check_format, split_images, subsample
from skcl.benchmarks._download import (
    DatasetVerificationError,
    candidate_roots,
    check_md5,
    download_first,
    not_found,
)

__all__ = ["load_cifar", "split_cifar10", "split_cifar100", "CIFAR100_ICARL_ORDER",
           "CIFAR100_LUCIR_ORDER"]

#: The class order of the original iCaRL code ("seed 1993"), used by CLB's iCaRL,
#: FeCAM and PODNet (order 1).
CIFAR100_ICARL_ORDER = (
    87, 0, 52, 58, 44, 91, 68, 97, 51, 15, 94, 92, 10, 72, 49, 78, 61, 14, 8, 86, 84, 96, 18,
    24, 32, 45, 88, 11, 4, 67, 69, 66, 77, 47, 79, 93, 29, 50, 57, 83, 17, 81, 41, 12, 37, 59,
    25, 20, 80, 73, 1, 28, 6, 46, 62, 82, 53, 9, 31, 75, 38, 63, 33, 74, 27, 22, 36, 3, 16, 21,
    60, 19, 70, 90, 89, 43, 5, 42, 65, 76, 40, 30, 23, 85, 2, 95, 56, 48, 71, 64, 98, 13, 99, 7,
    34, 55, 54, 26, 35, 39,
)
#: LUCIR's class order: ``np.random.seed(1993); np.random.shuffle(np.arange(100))``.
CIFAR100_LUCIR_ORDER = tuple(int(c) for c in np.random.RandomState(1993).permutation(100))

_BASE_URL = "https://www.cs.toronto.edu/~kriz/"

_SPECS = {
    "cifar10": dict(
        title="CIFAR-10", env_var="SKCL_CIFAR10", archive="cifar-10-python.tar.gz",
        archive_md5="c58f30108f718f92721af3b95e74349a", folder="cifar-10-batches-py",
        train=["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
               "data_batch_5"],
        test=["test_batch"], label_key="labels", n_classes=10, n_train=50000, n_test=10000,
        members_md5={
            "data_batch_1": "c99cafc152244af753f735de768cd75f",
            "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
            "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
            "data_batch_4": "634d18415352ddfa80567beed471001a",
            "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
            "test_batch": "40351d587109b95175f43aff81a1287e",
        },
    ),
    "cifar100": dict(
        title="CIFAR-100", env_var="SKCL_CIFAR100", archive="cifar-100-python.tar.gz",
        archive_md5="eb9058c3a382ffc7106e4002c42a8d85", folder="cifar-100-python",
        train=["train"], test=["test"], label_key="fine_labels", n_classes=100,
        n_train=50000, n_test=10000,
        members_md5={"train": "16019d7e3df5f24257cddd939b257f8d",
                     "test": "f0ef6b0ae62326f3e7ffdfab6717acfc"},
    ),
}


def _unpickle(raw: bytes, where: str) -> dict:
    try:
        d = pickle.loads(raw, encoding="latin1")
    except Exception as err:  # noqa: BLE001 - any unpickling failure means a bad file
        raise DatasetVerificationError(f"{where} is not a CIFAR python batch ({err}).") from err
    if not isinstance(d, dict):
        raise DatasetVerificationError(f"{where} is not a CIFAR python batch (not a dict).")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in d.items()}


def _batch_arrays(d: dict, label_key: str, where: str):
    if "data" not in d or label_key not in d:
        raise DatasetVerificationError(
            f"{where}: missing key 'data' or {label_key!r} (keys: {sorted(d)}).")
    X = np.asarray(d["data"])
    y = np.asarray(d[label_key], dtype=np.int64)
    if X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != 3072 or len(X) != len(y):
        raise DatasetVerificationError(
            f"{where}: 'data' is {X.dtype} {X.shape} for {len(y)} labels; expected uint8 "
            "(n, 3072).")
    return X.reshape(len(X), 3, 32, 32), y


def _find_source(folder: Path, spec: dict):
    """(kind, path): an extracted folder or the tar.gz archive inside ``folder``."""
    for d in (folder / spec["folder"], folder):
        if all((d / m).is_file() for m in spec["train"] + spec["test"]):
            return "folder", d
    for p in (folder / spec["archive"], folder):
        if p.is_file() and p.name.endswith((".tar.gz", ".tgz")):
            return "archive", p
    return None


def _read_members(kind: str, path: Path, spec: dict, verify: bool) -> dict[str, bytes]:
    wanted = spec["train"] + spec["test"]
    if kind == "folder":
        out = {}
        for m in wanted:
            if verify:
                check_md5(path / m, spec["members_md5"][m], spec["title"])
            out[m] = (path / m).read_bytes()
        return out
    if verify:
        check_md5(path, spec["archive_md5"], spec["title"])
    out = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in wanted and name not in out:
                    out[name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DatasetVerificationError(f"{spec['title']}: {path} is not a readable tar.gz "
                                       f"archive ({err}).") from err
    missing = [m for m in wanted if m not in out]
    if missing:
        raise DatasetVerificationError(f"{spec['title']}: {path} lacks {missing} (expected "
                                       f"{spec['folder']}/<batch> members).")
    return out


def load_cifar(name: str = "cifar10", *, root=None, download: bool = False,
               verify: bool = True):
    """CIFAR-10 or CIFAR-100 as uint8 images (n, 3, 32, 32) and int64 labels.

    Parameters
    ----------
    name : {"cifar10", "cifar100"}
    root : str or path, default=None
        A folder holding ``cifar-10-python.tar.gz`` (or ``cifar-100-python.tar.gz``)
        or the extracted ``cifar-10-batches-py/`` (``cifar-100-python/``), or the
        archive or extracted folder itself. Else ``$SKCL_CIFAR10`` /
        ``$SKCL_CIFAR100``, ``$SKCL_DATA/<name>``, then the cache folder.
    download : bool, default=False
        Fetch the archive from https://www.cs.toronto.edu/~kriz/ into ``root``
        (or the cache folder). It is read in place, not extracted.
    verify : bool, default=True
        Check the archive's md5 (or each extracted batch's md5, as published
        by torchvision), 50,000 train / 10,000 test images and the label range.
        CIFAR-100 labels are the 100 ``fine_labels``.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray

    Examples
    --------
    >>> from skcl.benchmarks import load_cifar
    >>> try:
    ...     X, Xt, y, yt = load_cifar("cifar10")
    ... except FileNotFoundError as err:
    ...     print("cifar-10-python.tar.gz" in str(err))
    ... else:
    ...     print(X.shape[1:] == (3, 32, 32))
    True
    """
    if name not in _SPECS:
        raise ValueError(f"name must be one of {sorted(_SPECS)}; got {name!r}.")
    spec = _SPECS[name]
    searched = candidate_roots(root, spec["env_var"], name)
    source = None
    for folder, _ in searched:
        source = _find_source(folder, spec)
        if source is not None:
            break
    if source is None and download:
        target = searched[0][0]
        path = download_first([_BASE_URL + spec["archive"]], target, spec["archive"],
                              spec["archive_md5"], spec["title"])
        source = ("archive", path)
    if source is None:
        raise not_found(spec["title"], searched, spec["env_var"],
                        [_BASE_URL + spec["archive"]],
                        f"{spec['archive']} (or the extracted {spec['folder']}/)",
                        searched[0][0])
    raw = _read_members(*source, spec, verify)
    parts = {}
    for split in ("train", "test"):
        arrays = [_batch_arrays(_unpickle(raw[m], f"{source[1]}:{m}"), spec["label_key"],
                                f"{source[1]}:{m}") for m in spec[split]]
        parts[split] = (np.concatenate([a[0] for a in arrays]),
                        np.concatenate([a[1] for a in arrays]))
    (X_train, y_train), (X_test, y_test) = parts["train"], parts["test"]
    if verify:
        for split, y, n in (("train", y_train, spec["n_train"]),
                            ("test", y_test, spec["n_test"])):
            if len(y) != n:
                raise DatasetVerificationError(
                    f"{spec['title']}: {len(y)} {split} images; the official set has {n}. "
                    "Pass verify=False to read other files in this format.")
            if y.min() < 0 or y.max() >= spec["n_classes"]:
                raise DatasetVerificationError(
                    f"{spec['title']}: {split} labels outside 0..{spec['n_classes'] - 1}.")
    return X_train, X_test, y_train, y_test


_DOC = """
    Parameters
    ----------
    n_experiences : int, default={n_exp}
        Number of experiences. With ``first_exp_with_half_classes`` the count
        includes the first (half-classes) experience, as in Avalanche.
    root : str or path, default=None
        Where the archive or extracted folder is (Avalanche's ``dataset_root``);
        see :func:`load_cifar`.
    first_exp_with_half_classes : bool, default=False
        The first experience holds half of the classes ({half}) and the other
        classes are spread over the remaining ``n_experiences - 1`` experiences
        (Avalanche's name; {b50}).
    return_task_id : bool, default=False
        Experience ``i`` carries task label ``i`` (task-incremental).
    random_state : int, default=0
        Seeds the class order (Avalanche's ``seed``).
    fixed_class_order : sequence of int{named}, default=None
        The class order, overriding ``shuffle`` and ``random_state``.
    shuffle : bool, default=True
        Shuffle the class order with ``random_state``; ``shuffle=False`` gives
        the natural order 0, 1, 2, ... ({natural}). Avalanche's default is an
        unseeded random order.
    class_ids_from_zero_in_each_exp : bool, default=False
        Renumber each experience's classes from 0.
    dtype : {{"uint8", "float32"}}, default="uint8"
        ``"float32"`` scales the pixels to [0, 1].
    flatten : bool, default=False
        Rows of 3072 features instead of images of shape (n, 3, 32, 32).
    max_train_samples : int, default=None
        Keep a seeded random subset of the training set.
    download : bool, default=False
        Fetch the official archive. Never done by default.
    verify : bool, default=True
        Check md5s and the official sizes.

    Returns
    -------
    train_stream, test_stream : list of Experience
"""


def _split(name, n_experiences, root, first_exp_with_half_classes, return_task_id,
           random_state, fixed_class_order, shuffle, class_ids_from_zero_in_each_exp, dtype,
           flatten, max_train_samples, download, verify, named_orders=None):
    check_format(dtype, flatten)
    X_train, X_test, y_train, y_test = load_cifar(name, root=root, download=download,
                                                  verify=verify)
    X_train, y_train = subsample(X_train, y_train, max_train_samples, random_state)
    n_classes = _SPECS[name]["n_classes"]
    return split_images(
        as_output(X_train, dtype, flatten), y_train, as_output(X_test, dtype, flatten), y_test,
        n_experiences=n_experiences,
        first_exp_classes=n_classes // 2 if first_exp_with_half_classes else None,
        fixed_class_order=fixed_class_order, shuffle=shuffle, random_state=random_state,
        return_task_id=return_task_id,
        class_ids_from_zero_in_each_exp=class_ids_from_zero_in_each_exp,
        named_orders=named_orders, classes=np.arange(n_classes),
    )


def split_cifar10(n_experiences: int = 5, *, root=None,
                  first_exp_with_half_classes: bool = False, return_task_id: bool = False,
                  random_state=0, fixed_class_order=None, shuffle: bool = True,
                  class_ids_from_zero_in_each_exp: bool = False, dtype: str = "uint8",
                  flatten: bool = False, max_train_samples: int | None = None,
                  download: bool = False, verify: bool = True):
    return _split("cifar10", n_experiences, root, first_exp_with_half_classes, return_task_id,
                  random_state, fixed_class_order, shuffle, class_ids_from_zero_in_each_exp,
                  dtype, flatten, max_train_samples, download, verify)


def split_cifar100(n_experiences: int = 10, *, root=None,
                   first_exp_with_half_classes: bool = False, return_task_id: bool = False,
                   random_state=0, fixed_class_order=None, shuffle: bool = True,
                   class_ids_from_zero_in_each_exp: bool = False, dtype: str = "uint8",
                   flatten: bool = False, max_train_samples: int | None = None,
                   download: bool = False, verify: bool = True):
    return _split("cifar100", n_experiences, root, first_exp_with_half_classes,
                  return_task_id, random_state, fixed_class_order, shuffle,
                  class_ids_from_zero_in_each_exp, dtype, flatten, max_train_samples, download,
                  verify, named_orders={"icarl": CIFAR100_ICARL_ORDER,
                                        "lucir": CIFAR100_LUCIR_ORDER})


split_cifar10.__doc__ = """Split CIFAR-10 (Avalanche's ``SplitCIFAR10``): 5 x 2 classes by default.
""" + _DOC.format(n_exp=5, half=5, b50="n_experiences=6 gives 5 + 5 x 1",
                  named="", natural="DER/Mammoth and CLB's 5 x 2 protocol") + """
    Examples
    --------
    >>> from skcl.benchmarks import split_cifar10
    >>> try:
    ...     train, test = split_cifar10(5, shuffle=False)
    ... except FileNotFoundError as err:  # no CIFAR-10 here
    ...     print("SKCL_CIFAR10" in str(err) and "download=True" in str(err))
    ... else:
    ...     print([e.classes.tolist() for e in train][0] == [0, 1])
    True
"""

split_cifar100.__doc__ = """Split CIFAR-100 (Avalanche's ``SplitCIFAR100``), 10 x 10 by default.

    The usual protocols: ``n_experiences=10`` (iCaRL, Mammoth), ``20`` with
    ``return_task_id=True`` (GEM, A-GEM), and LUCIR/PODNet's 50-class base:
    ``first_exp_with_half_classes=True`` with ``n_experiences=6`` (50 + 5 x 10),
    ``11`` (50 + 10 x 5) or ``26`` (50 + 25 x 2), usually with
    ``fixed_class_order="lucir"`` or ``"icarl"``.
""" + _DOC.format(n_exp=10, half=50, b50="n_experiences=6 gives 50 + 5 x 10",
                  named=' or {"icarl", "lucir"}', natural="Mammoth, GEM") + """
    Examples
    --------
    >>> from skcl.benchmarks import CIFAR100_LUCIR_ORDER, split_cifar100
    >>> CIFAR100_LUCIR_ORDER[:5]
    (68, 56, 78, 8, 23)
    >>> try:
    ...     train, test = split_cifar100(6, first_exp_with_half_classes=True)
    ... except FileNotFoundError as err:  # no CIFAR-100 here
    ...     print("cifar-100-python.tar.gz" in str(err))
    ... else:
    ...     print([len(e.classes) for e in train] == [50, 10, 10, 10, 10, 10])
    True
"""
