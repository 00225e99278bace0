"""Split Tiny-ImageNet read from the official ``tiny-imagenet-200`` layout (folder or zip).

Layout (under ``tiny-imagenet-200/``): ``wnids.txt`` (200 wnids),
``train/<wnid>/images/<wnid>_<k>.JPEG`` (500 per class) and
``val/images/val_<i>.JPEG`` labelled by ``val/val_annotations.txt``
(``file<TAB>wnid<TAB>x0 y0 x1 y1``). As in the continual-learning literature
``val/`` is the test set; ``test/`` (unlabelled) is not read. Classes are
numbered in ``wnids.txt`` order, as in Avalanche (ImageFolder-style loaders
sort the wnids instead).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from skcl.benchmarks._common import as_output, check_format, split_images, subsample
from skcl.benchmarks._download import (
    DatasetVerificationError,
    candidate_roots,
    check_md5,
    default_cache_dir,
    download_first,
    not_found,
)
from skcl.benchmarks._images import decode_images, require_pillow

__all__ = ["load_tiny_imagenet", "split_tiny_imagenet"]

_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
_ZIP = "tiny-imagenet-200.zip"
_ZIP_MD5 = "90528d7ca1a48142e341f4ef8d21d0de"
_TOP = "tiny-imagenet-200"
_ENV = "SKCL_TINY_IMAGENET"
_TITLE = "Tiny-ImageNet"


class _Folder:
    def __init__(self, base: Path):
        self.base = base

    def read_text(self, rel: str) -> str:
        return (self.base / rel).read_text()

    def list_train(self, wnid: str) -> list[str]:
        d = self.base / "train" / wnid / "images"
        if not d.is_dir():
            raise DatasetVerificationError(f"{_TITLE}: {d} is missing.")
        return sorted(f"train/{wnid}/images/{p.name}" for p in d.iterdir()
                      if p.suffix.lower() in (".jpeg", ".jpg", ".png"))

    def read_bytes(self, rel: str) -> bytes:
        return (self.base / rel).read_bytes()

    def close(self):
        pass


class _Zip:
    def __init__(self, path: Path):
        try:
            self.zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as err:
            raise DatasetVerificationError(f"{_TITLE}: {path} is not a zip file.") from err
        names = self.zf.namelist()
        self.prefix = _TOP + "/" if any(n.startswith(_TOP + "/") for n in names) else ""
        self.by_wnid: dict[str, list[str]] = {}
        for n in names:
            parts = n[len(self.prefix):].split("/")
            if len(parts) == 4 and parts[0] == "train" and parts[2] == "images" and parts[3]:
                self.by_wnid.setdefault(parts[1], []).append(n[len(self.prefix):])

    def read_text(self, rel: str) -> str:
        return self.read_bytes(rel).decode()

    def list_train(self, wnid: str) -> list[str]:
        if wnid not in self.by_wnid:
            raise DatasetVerificationError(f"{_TITLE}: the zip has no train/{wnid}/images/.")
        return sorted(self.by_wnid[wnid])

    def read_bytes(self, rel: str) -> bytes:
        try:
            return self.zf.read(self.prefix + rel)
        except KeyError as err:
            raise DatasetVerificationError(f"{_TITLE}: the zip lacks {self.prefix}{rel}.") \
                from err

    def close(self):
        self.zf.close()


def _find_source(folder: Path):
    for d in (folder / _TOP, folder):
        if (d / "wnids.txt").is_file() and (d / "val" / "val_annotations.txt").is_file():
            return "folder", d
    for p in (folder / _ZIP, folder):
        if p.is_file() and p.suffix == ".zip":
            return "zip", p
    return None


def _cache_file(kind: str, path: Path) -> tuple[Path, str]:
    """Where the decoded arrays of this source are cached, and the source's signature."""
    import hashlib

    stat_of = path if kind == "zip" else path / "val" / "val_annotations.txt"
    st = stat_of.stat()
    signature = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    digest = hashlib.sha1(signature.encode()).hexdigest()[:16]
    return default_cache_dir("tiny_imagenet") / f"decoded-{digest}.npz", signature


def load_tiny_imagenet(*, root=None, download: bool = False, verify: bool = True,
                       cache_decoded: bool = False):
    """Tiny-ImageNet-200 as uint8 images (n, 3, 64, 64) and int64 labels (train and val).

    Decoding needs Pillow (``pip install pillow``), imported only here. The
    100,000 + 10,000 JPEGs take a while to decode; ``cache_decoded=True`` keeps
    the decoded arrays for the next time.

    Parameters
    ----------
    root : str or path, default=None
        A folder holding ``tiny-imagenet-200.zip`` (read in place) or the
        extracted ``tiny-imagenet-200/`` folder, or either of them itself. Else
        ``$SKCL_TINY_IMAGENET``, ``$SKCL_DATA/tiny_imagenet``, the cache folder.
    download : bool, default=False
        Fetch ``tiny-imagenet-200.zip`` from http://cs231n.stanford.edu/.
    verify : bool, default=True
        Check the zip's md5, and 200 classes with 500 train and 50 val images each.
    cache_decoded : bool, default=False
        Keep the decoded arrays (about 1.4 GB) in the cache folder
        (``$SKCL_DATA/tiny_imagenet`` or ``~/.cache/skcl/datasets/tiny_imagenet``)
        and read them from there next time, as long as the source file is unchanged.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
        The test arrays are the ``val/`` images.

    Examples
    --------
    >>> from skcl.benchmarks import load_tiny_imagenet
    >>> try:
    ...     X, Xt, y, yt = load_tiny_imagenet()
    ... except FileNotFoundError as err:
    ...     print("tiny-imagenet-200" in str(err))
    ... else:
    ...     print(X.shape[1:] == (3, 64, 64))
    True
    """
    searched = candidate_roots(root, _ENV, "tiny_imagenet")
    source = None
    for folder, _ in searched:
        source = _find_source(folder)
        if source is not None:
            break
    if source is None and download:
        source = ("zip", download_first([_URL], searched[0][0], _ZIP, _ZIP_MD5, _TITLE))
    if source is None:
        raise not_found(_TITLE, searched, _ENV, [_URL],
                        f"{_ZIP} (or the extracted {_TOP}/ with wnids.txt and "
                        "val/val_annotations.txt)", searched[0][0])
    kind, path = source
    if cache_decoded:
        cache, signature = _cache_file(kind, path)
        if cache.is_file():
            with np.load(cache) as npz:
                if str(npz["signature"]) == signature and bool(npz["verified"]) >= verify:
                    return npz["X_train"], npz["X_test"], npz["y_train"], npz["y_test"]
    require_pillow(_TITLE)
    if kind == "zip" and verify:
        check_md5(path, _ZIP_MD5, _TITLE)
    reader = _Folder(path) if kind == "folder" else _Zip(path)
    try:
        wnids = [w.strip() for w in reader.read_text("wnids.txt").splitlines() if w.strip()]
        index = {w: i for i, w in enumerate(wnids)}
        train_files, y_train = [], []
        for w in wnids:
            files = reader.list_train(w)
            train_files += files
            y_train += [index[w]] * len(files)
        val_files, y_test = [], []
        for line in reader.read_text("val/val_annotations.txt").splitlines():
            parts = line.split("\t")
            if len(parts) < 2:
                continue
            if parts[1] not in index:
                raise DatasetVerificationError(
                    f"{_TITLE}: val_annotations.txt names {parts[1]}, not in wnids.txt.")
            val_files.append(f"val/images/{parts[0]}")
            y_test.append(index[parts[1]])
        y_train, y_test = np.asarray(y_train, np.int64), np.asarray(y_test, np.int64)
        if verify:
            n_train, n_val = np.bincount(y_train, minlength=len(wnids)), \
                np.bincount(y_test, minlength=len(wnids))
            if len(wnids) != 200 or (n_train != 500).any() or (n_val != 50).any():
                raise DatasetVerificationError(
                    f"{_TITLE}: {len(wnids)} classes with {n_train.min()}-{n_train.max()} "
                    f"train and {n_val.min()}-{n_val.max()} val images per class; the "
                    "official set has 200 classes with 500 and 50. Pass verify=False to read "
                    "other data in this layout.")
        X_train = decode_images([reader.read_bytes(f) for f in train_files], (64, 64), _TITLE)
        X_test = decode_images([reader.read_bytes(f) for f in val_files], (64, 64), _TITLE)
    finally:
        reader.close()
    if cache_decoded:
        cache.parent.mkdir(parents=True, exist_ok=True)
        part = cache.with_name(cache.name + ".part.npz")
        np.savez(part, X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                 signature=np.asarray(signature), verified=np.asarray(verify))
        part.replace(cache)
    return X_train, X_test, y_train, y_test


def split_tiny_imagenet(n_experiences: int = 10, *, root=None, return_task_id: bool = False,
                        random_state=0, fixed_class_order=None, shuffle: bool = True,
                        class_ids_from_zero_in_each_exp: bool = False, dtype: str = "uint8",
                        flatten: bool = False, max_train_samples: int | None = None,
                        download: bool = False, verify: bool = True,
                        cache_decoded: bool = False):
    """Split Tiny-ImageNet (Avalanche's ``SplitTinyImageNet``): 10 x 20 classes by default.

    The protocol of DER/Mammoth ``seq-tinyimg`` (class- and task-incremental,
    ``val/`` as the test set). Classes are numbered in ``wnids.txt`` order.

    Parameters
    ----------
    n_experiences : int, default=10
    root, download, verify, cache_decoded
        See :func:`load_tiny_imagenet` (``root`` is Avalanche's ``dataset_root``).
    return_task_id : bool, default=False
        Experience ``i`` carries task label ``i``.
    random_state : int, default=0
        Seeds the class order (Avalanche's ``seed``, whose default is also 0).
    fixed_class_order : sequence of int, default=None
        The class order, overriding ``shuffle``.
    shuffle : bool, default=True
        ``shuffle=False`` keeps the ``wnids.txt`` order.
    class_ids_from_zero_in_each_exp : bool, default=False
    dtype : {"uint8", "float32"}, default="uint8"
    flatten : bool, default=False
        Rows of 12,288 features instead of images (n, 3, 64, 64).
    max_train_samples : int, default=None

    Returns
    -------
    train_stream, test_stream : list of Experience

    Examples
    --------
    >>> from skcl.benchmarks import split_tiny_imagenet
    >>> try:
    ...     train, test = split_tiny_imagenet()
    ... except FileNotFoundError as err:
    ...     print("SKCL_TINY_IMAGENET" in str(err))
    ... else:
    ...     print(len(train) == 10)
    True
    """
    check_format(dtype, flatten)
    X_train, X_test, y_train, y_test = load_tiny_imagenet(
        root=root, download=download, verify=verify, cache_decoded=cache_decoded)
    X_train, y_train = subsample(X_train, y_train, max_train_samples, random_state)
    return split_images(
        as_output(X_train, dtype, flatten), y_train, as_output(X_test, dtype, flatten), y_test,
        n_experiences=n_experiences, fixed_class_order=fixed_class_order, shuffle=shuffle,
        random_state=random_state, return_task_id=return_task_id,
        class_ids_from_zero_in_each_exp=class_ids_from_zero_in_each_exp,
    )
