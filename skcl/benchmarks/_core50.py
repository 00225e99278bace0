"""CORe50 (NI, NC, NIC and NICv2 scenarios) read from its official archives.

Two official forms are read, whichever is found first:

* **npz** (the ``vlomonaco/core50`` loader): ``core50_imgs.npz`` (key ``x``,
  uint8 (164866, 128, 128, 3)) with ``paths.pkl``, ``LUP.pkl`` and
  ``labels.pkl``. ``LUP[scenario][run][batch]`` lists the rows of each training
  batch, the last entry being the test set; ``labels`` is aligned with it.
  Scenarios: whichever ``LUP.pkl`` holds (``ni``, ``nc``, ``nic``,
  ``nicv2_79``, ``nicv2_196``, ``nicv2_391``). The npz is memory-mapped
  when stored uncompressed; the streams themselves hold the pixels in RAM
  (about 8 GB for all of CORe50 at 128x128).
* **png** (Avalanche's form): the image tree ``core50_128x128/s<k>/o<j>/*.png``
  (folder or ``core50_128x128.zip``) with the Caffe-style file lists
  ``batches_filelists/{NI,NC,NIC}_inc/run<r>/train_batch_<XX>_filelist.txt`` and
  ``test_filelist.txt`` (folder or ``batches_filelists.zip``) and, for NICv2,
  ``NIC_v2_{79,196,391}/run<r>/`` (folder or ``batches_filelists_NICv2.zip``).
  Decoding needs Pillow. ``mini=True`` reads ``core50_32x32`` (folder or zip)
  instead, assumed to follow the same ``s<k>/o<j>/`` tree (not checked against
  the real archive).

Object-level labels (50 classes) are those of the files (for NC they are
renumbered per run in order of appearance, as published); category-level
labels (10 classes) are ``object // 5`` with the object read from the image
path (``o1``..``o50``). The test set is one experience, the same for every
scenario (sessions 3, 7 and 10: 44,972 images). Every task label is 0, as in
Avalanche.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np

from skcl.benchmarks._common import as_output, check_format
from skcl.benchmarks._download import (
    DatasetVerificationError,
    candidate_roots,
    check_md5,
    download_first,
    not_found,
)
from skcl.benchmarks._experience import Experience
from skcl.benchmarks._images import Tree, decode_images, require_pillow

__all__ = ["core50"]

_TITLE = "CORe50"
_ENV = "SKCL_CORE50"
_B = "http://bias.csr.unibo.it/maltoni/download/core50/"
_V = "https://vlomonaco.github.io/core50/data/"
_MD5 = {
    "core50_128x128.zip": "745f3373fed08d69343f1058ee559e13",
    "core50_imgs.npz": "3689d65d0a1c760b87821b114c8c4c6c",
    "paths.pkl": "b568f86998849184df3ec3465290f1b0",
    "LUP.pkl": "33afc26faa460aca98739137fdfa606e",
    "labels.pkl": "281c95774306a2196f4505f22fd60ab1",
    "batches_filelists.zip": "e3297508a8998ba0c99a83d6b36bde62",
    "batches_filelists_NICv2.zip": "460f980a6c85b86b1ec8e7c6067bb7a3",
    "core50_32x32.zip": "d89d34cdc0281fa84074430e9a22b728",
}
_URLS = {
    "core50_128x128.zip": _B, "core50_imgs.npz": _B, "paths.pkl": _V, "LUP.pkl": _V,
    "labels.pkl": _V, "batches_filelists.zip": _V, "batches_filelists_NICv2.zip": _V,
    "core50_32x32.zip": "https://vps.continualai.org/data/",
}
_N_BATCHES = {"ni": 8, "nc": 9, "nic": 79, "nicv2_79": 79, "nicv2_196": 196, "nicv2_391": 391}
_LIST_DIRS = {"ni": "NI_inc", "nc": "NC_inc", "nic": "NIC_inc", "nicv2_79": "NIC_v2_79",
              "nicv2_196": "NIC_v2_196", "nicv2_391": "NIC_v2_391"}
_N_TEST = 44972
_OBJ = re.compile(r"(?:^|/)o(\d+)/")


def _object_of(path: str) -> int:
    m = _OBJ.search(path.replace("\\", "/"))
    if m is None:
        raise DatasetVerificationError(f"{_TITLE}: cannot read the object from path {path!r}.")
    return int(m.group(1)) - 1


def _pickle(path: Path):
    with open(path, "rb") as fh:
        return pickle.load(fh, encoding="latin1")


def _npz_array(path: Path, key: str = "x") -> np.ndarray:
    """``np.load(path)[key]``, memory-mapped when the member is stored uncompressed.

    The official ``core50_imgs.npz`` holds 8 GB of pixels: mapping it avoids a
    second in-memory copy while the batches are gathered.
    """
    import struct
    import zipfile

    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(key + ".npy")
        stored = info.compress_type == zipfile.ZIP_STORED
    if stored:
        with open(path, "rb") as fh:
            fh.seek(info.header_offset)
            local = fh.read(30)
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(fh)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
        if not dtype.hasobject:
            return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                             order="F" if fortran else "C")
    with np.load(path) as npz:
        return npz[key]


def _npz_form(folder: Path) -> bool:
    return all((folder / f).is_file()
               for f in ("core50_imgs.npz", "paths.pkl", "LUP.pkl", "labels.pkl"))


def _png_sources(folder: Path, mini: bool, scenario: str):
    top = "core50_32x32" if mini else "core50_128x128"
    images = next((p for p in (folder / top, folder / f"{top}.zip") if p.exists()), None)
    lists_top = _LIST_DIRS[scenario]
    if scenario.startswith("nicv2"):
        cands = [folder / lists_top, folder / "batches_filelists_NICv2.zip"]
    else:
        cands = [folder / "batches_filelists" / lists_top, folder / lists_top,
                 folder / "batches_filelists.zip"]
    lists = next((p for p in cands if p.exists()), None)
    if images is None or lists is None:
        return None
    return images, lists, top


def _open_lists(path: Path, scenario: str) -> Tree:
    """The file lists of ``scenario`` (a folder, or a zip with or without the top folder)."""
    if path.is_dir():
        return Tree(folder=path)
    import zipfile

    zf = zipfile.ZipFile(path)
    names = zf.namelist()
    d = _LIST_DIRS[scenario]
    for prefix in (f"batches_filelists/{d}/", f"{d}/"):
        if any(n.startswith(prefix) for n in names):
            return Tree(zf=zf, prefix=prefix)
    zf.close()
    raise DatasetVerificationError(f"{_TITLE}: {path} holds no {d}/ file lists.")


def _batches_from_lists(lists: Tree, run: int, scenario: str):
    def parse(rel):
        files, labels = [], []
        for line in lists.read_text(rel).splitlines():
            parts = line.split()
            if len(parts) >= 2:
                files.append(parts[0])
                labels.append(int(parts[1]))
        return files, np.asarray(labels, np.int64)

    train = []
    for b in range(_N_BATCHES[scenario]):
        rel = f"run{run}/train_batch_{b:02d}_filelist.txt"
        if not lists.exists(rel):
            if b == 0:
                raise DatasetVerificationError(f"{_TITLE}: {lists}/{rel} not found.")
            break
        train.append(parse(rel))
    return train, parse(f"run{run}/test_filelist.txt")


def _read_pngs(images: Tree, files: list[str], size: int, top: str):
    blobs = []
    for f in files:
        rel = f.replace("\\", "/")
        if rel.startswith(top + "/"):
            rel = rel[len(top) + 1:]
        blobs.append(images.read_bytes(rel))
    return decode_images(blobs, (size, size), _TITLE)


def core50(scenario: str = "nicv2_391", run: int = 0, *, root=None, object_lvl: bool = True,
           mini: bool = False, dtype: str = "uint8", flatten: bool = False,
           download: bool = False, verify: bool = True):
    """CORe50 train and test streams (Avalanche's ``CORe50``).

    The arguments keep Avalanche's names (``scenario``, ``run``,
    ``object_lvl``, ``mini``), with ``root`` for its ``dataset_root``.

    Parameters
    ----------
    scenario : {"ni", "nc", "nic", "nicv2_79", "nicv2_196", "nicv2_391"}, default="nicv2_391"
        NI: 8 batches of new instances (one session each, all objects); NC: 9
        batches of new classes (10 objects, then 8 x 5); NIC/NICv2: new
        instances and classes mixed. Avalanche's default is ``"nicv2_391"``.
    run : int, default=0
        Which of the 10 published batch orders (0-9).
    root : str or path, default=None
        The folder with the files (see the module notes for the two forms);
        else ``$SKCL_CORE50``, ``$SKCL_DATA/core50``, the cache folder.
    object_lvl : bool, default=True
        50 object classes; ``False`` gives the 10 categories.
    mini : bool, default=False
        The 32x32 images (``core50_32x32``, png form only).
    dtype : {"uint8", "float32"}, default="uint8"
    flatten : bool, default=False
        Rows of features instead of images (n, 3, 128, 128).
    download : bool, default=False
        Fetch the png form (the image zip and the file lists; several GB) into
        ``root`` or the cache folder. The zips are read in place.
    verify : bool, default=True
        Check the md5 of each archive/pickle used (the 8 GB npz takes a while;
        md5s are remembered within a process), the number of batches and the
        size of the test set.

    Returns
    -------
    train_stream : list of Experience
        One experience per training batch.
    test_stream : list of Experience
        One experience: the fixed test set.

    Examples
    --------
    >>> from skcl.benchmarks import core50
    >>> try:
    ...     train, test = core50("nc")
    ... except FileNotFoundError as err:  # CORe50 is not installed here
    ...     print("SKCL_CORE50" in str(err))
    ... else:
    ...     print(len(train) == 9 and len(test) == 1)
    True
    """
    if scenario not in _N_BATCHES:
        raise ValueError(f"scenario must be one of {list(_N_BATCHES)}; got {scenario!r}.")
    if not isinstance(run, (int, np.integer)) or not 0 <= run <= 9:
        raise ValueError(f"run must be an integer in 0..9; got {run!r}.")
    check_format(dtype, flatten)
    searched = candidate_roots(root, _ENV, "core50")
    found = None
    for folder, _ in searched:
        if not mini and _npz_form(folder):
            found = ("npz", folder)
            break
        src = _png_sources(folder, mini, scenario)
        if src is not None:
            found = ("png", src)
            break
    if found is None and download:
        target = searched[0][0]
        img_zip = "core50_32x32.zip" if mini else "core50_128x128.zip"
        lists_zip = ("batches_filelists_NICv2.zip" if scenario.startswith("nicv2")
                     else "batches_filelists.zip")
        for f in (img_zip, lists_zip):
            download_first([_URLS[f] + f], target, f, _MD5[f], _TITLE)
        found = ("png", _png_sources(target, mini, scenario))
    if found is None:
        raise not_found(
            _TITLE, searched, _ENV, [_B, _V],
            "core50_imgs.npz with paths.pkl, LUP.pkl and labels.pkl, or core50_128x128/ "
            "(or .zip) with batches_filelists/ (or .zip)", searched[0][0])

    if found[0] == "npz":
        folder = found[1]
        if verify:
            for f in ("core50_imgs.npz", "paths.pkl", "LUP.pkl", "labels.pkl"):
                check_md5(folder / f, _MD5[f], _TITLE)
        lup, labels = _pickle(folder / "LUP.pkl"), _pickle(folder / "labels.pkl")
        paths = _pickle(folder / "paths.pkl")
        if scenario not in lup:
            raise DatasetVerificationError(f"{_TITLE}: LUP.pkl has no scenario {scenario!r} "
                                           f"(it has {sorted(lup)}).")
        rows = [np.asarray(r, np.int64) for r in lup[scenario][run]]
        labs = [np.asarray(t, np.int64) for t in labels[scenario][run]]
        x = _npz_array(folder / "core50_imgs.npz")
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
            raise DatasetVerificationError(f"{_TITLE}: x is {x.dtype} {x.shape}; expected "
                                           "uint8 (n, H, W, 3).")
        batches = []
        for r, t in zip(rows, labs):
            if len(r) != len(t):
                raise DatasetVerificationError(f"{_TITLE}: LUP and labels disagree in length.")
            objects = np.asarray([_object_of(paths[i]) for i in r], np.int64)
            batches.append((np.ascontiguousarray(np.asarray(x[r]).transpose(0, 3, 1, 2)), t,
                            objects))
        del x
        train_batches, test_batch = batches[:-1], batches[-1]
    else:
        images_path, lists_path, top = found[1]
        require_pillow(_TITLE)
        if verify:
            for p in (images_path, lists_path):
                if p.suffix == ".zip":
                    check_md5(p, _MD5.get(p.name), _TITLE)
        size = 32 if mini else 128
        images = Tree.open(images_path, top)
        lists = _open_lists(lists_path, scenario)
        try:
            train_lists, test_list = _batches_from_lists(lists, run, scenario)
            train_batches = [
                (_read_pngs(images, f, size, top), t,
                 np.asarray([_object_of(p) for p in f], np.int64)) for f, t in train_lists]
            f, t = test_list
            test_batch = (_read_pngs(images, f, size, top), t,
                          np.asarray([_object_of(p) for p in f], np.int64))
        finally:
            images.close()
            lists.close()

    if verify:
        if len(train_batches) != _N_BATCHES[scenario]:
            raise DatasetVerificationError(
                f"{_TITLE}: {len(train_batches)} training batches for {scenario!r}; the "
                f"official scenario has {_N_BATCHES[scenario]}.")
        if len(test_batch[1]) != _N_TEST:
            raise DatasetVerificationError(
                f"{_TITLE}: {len(test_batch[1])} test images; the official test set has "
                f"{_N_TEST}. Pass verify=False to read other data in this layout.")

    def make(batch, index):
        X, labels_, objects = batch
        y = labels_ if object_lvl else objects // 5
        return Experience(as_output(X, dtype, flatten), y, task_label=0, index=index)

    return ([make(b, i) for i, b in enumerate(train_batches)], [make(test_batch, 0)])
