"""The image benchmarks read files written here in the exact official formats.

Nothing is downloaded: the fixtures generate tiny IDX files, CIFAR python
archives, a Tiny-ImageNet tree and CORe50 layouts; the Fashion-MNIST path is
checked on the real files of the Debian package when it is installed.
"""

import gzip
import hashlib
import inspect
import io
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import skcl.benchmarks as B
from skcl.benchmarks import (
    CIFAR100_ICARL_ORDER,
    CIFAR100_LUCIR_ORDER,
    DatasetNotFoundError,
    DatasetVerificationError,
    _cifar,
    _core50,
    _download,
    _mnist,
    core50,
    load_cifar,
    load_tiny_imagenet,
    permuted_mnist,
    rotated_mnist,
    split_cifar10,
    split_cifar100,
    split_fashion_mnist,
    split_mnist,
    split_tiny_imagenet,
)


@pytest.fixture(autouse=True)
def _no_user_data(tmp_path, monkeypatch):
    """Point every search location into tmp_path so a user's data never leaks in."""
    for var in ("SKCL_MNIST", "SKCL_FASHION_MNIST", "SKCL_CIFAR10", "SKCL_CIFAR100",
                "SKCL_TINY_IMAGENET", "SKCL_CORE50"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SKCL_DATA", str(tmp_path / "skcl_data"))


def _md5(path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- IDX
_STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def _idx_bytes(arr: np.ndarray, magic_code=0x08) -> bytes:
    header = struct.pack(">HBB", 0, magic_code, arr.ndim) + struct.pack(f">{arr.ndim}I",
                                                                       *arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def _write_mnist(folder: Path, gz=True, n_train=40, n_test=20, seed=0):
    rng = np.random.RandomState(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.randint(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.randint(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    for stem, arr in arrays.items():
        data = _idx_bytes(arr)
        if gz:
            with gzip.open(folder / f"{stem}.gz", "wb") as fh:
                fh.write(data)
        else:
            (folder / stem).write_bytes(data)
    return arrays


def test_split_mnist_reads_idx_images_as_uint8(tmp_path):
    arrays = _write_mnist(tmp_path / "mnist")
    train, test = split_mnist(5, root=tmp_path / "mnist", shuffle=False, verify=False)
    assert len(train) == len(test) == 5
    assert [e.classes.tolist() for e in train] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert train[0].X.dtype == np.uint8 and train[0].X.shape == (8, 1, 28, 28)
    first = np.flatnonzero(arrays["train-labels-idx1-ubyte"] == 0)[0]
    assert np.array_equal(train[0].X[0, 0], arrays["train-images-idx3-ubyte"][first])
    assert sum(len(e) for e in train) == 40 and sum(len(e) for e in test) == 20
    assert all(e.task_label == 0 for e in train)


def test_raw_idx_and_torchvision_layout(tmp_path):
    _write_mnist(tmp_path / "MNIST" / "raw", gz=False)
    train, _ = split_mnist(2, root=tmp_path, shuffle=False, verify=False)
    assert [len(e.classes) for e in train] == [5, 5]


def test_class_order_seeding_fixed_order_and_task_labels(tmp_path):
    _write_mnist(tmp_path)
    orders = {s: [e.classes.tolist() for e in split_mnist(5, root=tmp_path, random_state=s,
                                                          verify=False)[0]]
              for s in (0, 1)}
    again = [e.classes.tolist() for e in split_mnist(5, root=tmp_path, random_state=0,
                                                     verify=False)[0]]
    assert again == orders[0] and orders[0] != orders[1]
    order = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    train, test = split_mnist(5, root=tmp_path, fixed_class_order=order, return_task_id=True,
                              class_ids_from_zero_in_each_exp=True, verify=False)
    assert [e.task_label for e in train] == [0, 1, 2, 3, 4] == [e.task_label for e in test]
    assert all(e.classes.tolist() == [0, 1] for e in train)
    original, _ = split_mnist(5, root=tmp_path, fixed_class_order=order, verify=False)
    assert original[0].classes.tolist() == [8, 9]
    with pytest.raises(ValueError, match="permutation"):
        split_mnist(5, root=tmp_path, fixed_class_order=[0, 1], verify=False)
    with pytest.raises(ValueError, match="n_experiences"):
        split_mnist(11, root=tmp_path, verify=False)


def test_float32_and_flat_output(tmp_path):
    arrays = _write_mnist(tmp_path)
    train, _ = split_mnist(1, root=tmp_path, dtype="float32", flatten=True, shuffle=False,
                           verify=False)
    X = train[0].X
    assert X.dtype == np.float32 and X.shape == (40, 784)
    assert np.allclose(X[0] * 255, arrays["train-images-idx3-ubyte"][0].ravel())
    with pytest.raises(ValueError, match="dtype"):
        split_mnist(1, root=tmp_path, dtype="float64", verify=False)


def test_permuted_and_rotated_mnist(tmp_path):
    _write_mnist(tmp_path)
    train, test = permuted_mnist(3, root=tmp_path, random_state=0, verify=False)
    base, base_test, _, _ = _mnist.load_idx_images("mnist", root=tmp_path, verify=False)
    assert len(train) == 3 and all(len(e.classes) == 10 for e in train)
    assert not np.array_equal(train[0].X, base)  # the first experience is permuted too
    for tr, te in zip(train, test):
        flat, flat_b = tr.X.reshape(len(tr.X), -1), base.reshape(len(base), -1)
        perm = [int(np.flatnonzero((flat_b == flat[:, [j]]).all(0))[0]) for j in range(3)]
        assert np.array_equal(te.X.reshape(len(te.X), -1)[:, :3],
                              base_test.reshape(len(base_test), -1)[:, perm])
    rtrain, _ = rotated_mnist(2, root=tmp_path, rotations_list=[0, 90], verify=False)
    assert np.array_equal(rtrain[0].X, base)
    assert rtrain[1].X.dtype == np.uint8
    assert any(np.array_equal(rtrain[1].X, np.rot90(base, k, axes=(-2, -1))) for k in (1, 3))
    drawn, _ = rotated_mnist(3, root=tmp_path, random_state=0, verify=False)
    assert len(drawn) == 3
    with pytest.raises(ValueError, match="rotations_list"):
        rotated_mnist(3, root=tmp_path, rotations_list=[0, 90], verify=False)


def test_md5_and_sizes_are_checked(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    _write_mnist(folder, n_train=40, n_test=20)
    spec = _mnist._IdxSpec("MNIST", "SKCL_MNIST", [], {s: (_md5(folder / f"{s}.gz"),)
                                                       for s in _STEMS},
                           n_train=40, n_test=20)
    monkeypatch.setitem(_mnist._SPECS, "mnist", spec)
    train, _ = split_mnist(5, root=folder)  # verify=True passes on intact files
    assert len(train) == 5
    monkeypatch.setitem(_mnist._SPECS, "mnist",
                        _mnist._IdxSpec("MNIST", "SKCL_MNIST", [], spec.md5, n_train=50,
                                        n_test=20))
    with pytest.raises(DatasetVerificationError, match="official ones hold"):
        split_mnist(5, root=folder)
    monkeypatch.setitem(_mnist._SPECS, "mnist", spec)
    path = folder / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-9] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetVerificationError, match="md5"):
        split_mnist(5, root=folder)


def test_missing_files_error_says_where_and_how(tmp_path, monkeypatch):
    with pytest.raises(DatasetNotFoundError) as err:
        split_mnist(root=tmp_path / "nowhere")
    msg = str(err.value)
    assert str(tmp_path / "nowhere") in msg and "SKCL_MNIST" in msg
    assert "download=True" in msg and "ossci-datasets" in msg
    monkeypatch.setenv("SKCL_CIFAR10", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as err:
        split_cifar10()
    msg = str(err.value)
    assert str(tmp_path / "env") in msg and "$SKCL_CIFAR10" in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in msg
    assert str(tmp_path / "skcl_data" / "cifar10") in msg and "$SKCL_DATA/cifar10" in msg


def test_download_from_file_url_checks_md5(tmp_path, monkeypatch):
    src = tmp_path / "mirror"
    _write_mnist(src)
    md5 = {s: (_md5(src / f"{s}.gz"),) for s in _STEMS}
    spec = _mnist._IdxSpec("MNIST", "SKCL_MNIST", [src.as_uri() + "/"], md5, n_train=40,
                           n_test=20)
    monkeypatch.setitem(_mnist._SPECS, "mnist", spec)
    with pytest.raises(DatasetNotFoundError):
        split_mnist(5)  # nothing is fetched by default
    train, _ = split_mnist(5, download=True)
    cache = tmp_path / "skcl_data" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{s}.gz" for s in _STEMS)
    assert sum(len(e) for e in train) == 40
    bad = dict(md5, **{"t10k-labels-idx1-ubyte": ("0" * 32,)})
    monkeypatch.setitem(_mnist._SPECS, "mnist", _mnist._IdxSpec(
        "MNIST", "SKCL_MNIST", [src.as_uri() + "/"], bad, n_train=40, n_test=20))
    target = tmp_path / "fresh"
    with pytest.raises(DatasetVerificationError, match="md5"):
        split_mnist(5, root=target, download=True)
    assert not any(p.name.endswith(".part") for p in target.iterdir())
    assert not (target / "t10k-labels-idx1-ubyte.gz").exists()


def test_download_uses_the_fetch_hook_and_reports_failures(tmp_path, monkeypatch):
    calls = []

    def failing(url, dest):
        calls.append(url)
        raise OSError("no network")

    monkeypatch.setattr(_download, "fetch_url", failing)
    with pytest.raises(DatasetNotFoundError, match="no network"):
        split_cifar10(root=tmp_path, download=True)
    assert calls == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]


def test_cifar_download_goes_to_the_cache_folder(tmp_path, monkeypatch):
    src, _ = _write_cifar10(tmp_path / "mirror")
    monkeypatch.setitem(_cifar._SPECS, "cifar10",
                        dict(_cifar._SPECS["cifar10"], archive_md5=_md5(src)))
    fetched = []

    def fake_fetch(url, dest):
        fetched.append(url)
        Path(dest).write_bytes(src.read_bytes())

    monkeypatch.setattr(_download, "fetch_url", fake_fetch)
    X, Xt, y, yt = load_cifar("cifar10", download=True, verify=False)
    cached = tmp_path / "skcl_data" / "cifar10" / "cifar-10-python.tar.gz"
    assert cached.is_file() and len(X) == 50
    load_cifar("cifar10", download=True, verify=False)  # found: not fetched again
    assert fetched == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]


# --------------------------------------------------------------------------- CIFAR
def _cifar_batch(n, labels, key, bytes_keys, seed):
    rng = np.random.RandomState(seed)
    d = {"data": rng.randint(0, 256, (n, 3072)).astype(np.uint8), key: list(map(int, labels)),
         "batch_label": "batch", "filenames": [f"img{i}.png" for i in range(n)]}
    if bytes_keys:
        d = {k.encode(): v for k, v in d.items()}
    return pickle.dumps(d, protocol=2)


def _write_cifar10(folder: Path, bytes_keys=True, as_tar=True, per_batch=10):
    members = {f"data_batch_{i + 1}": _cifar_batch(per_batch, (np.arange(per_batch) + i) % 10,
                                                   "labels", bytes_keys, i) for i in range(5)}
    members["test_batch"] = _cifar_batch(20, np.arange(20) % 10, "labels", bytes_keys, 9)
    members["batches.meta"] = pickle.dumps({"label_names": [str(i) for i in range(10)]})
    folder.mkdir(parents=True, exist_ok=True)
    if as_tar:
        path = folder / "cifar-10-python.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            for name, data in [("readme.html", b"<html/>"), *members.items()]:
                info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path, members
    (folder / "cifar-10-batches-py").mkdir()
    for name, data in members.items():
        (folder / "cifar-10-batches-py" / name).write_bytes(data)
    return folder / "cifar-10-batches-py", members


@pytest.mark.parametrize("bytes_keys, as_tar", [(True, True), (False, False)])
def test_cifar10_archive_and_folder(tmp_path, bytes_keys, as_tar):
    _, members = _write_cifar10(tmp_path, bytes_keys=bytes_keys, as_tar=as_tar)
    X, Xt, y, yt = load_cifar("cifar10", root=tmp_path, verify=False)
    first = pickle.loads(members["data_batch_1"], encoding="latin1")
    data = first[b"data" if bytes_keys else "data"]
    assert X.shape == (50, 3, 32, 32) and X.dtype == np.uint8 and Xt.shape == (20, 3, 32, 32)
    assert np.array_equal(X[0, 1].ravel(), data[0, 1024:2048])  # the G plane
    assert y[:10].tolist() == list(range(10)) and y[10] == 1
    train, test = split_cifar10(5, root=tmp_path, shuffle=False, verify=False)
    assert [e.classes.tolist() for e in test] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert [len(e) for e in train] == [10] * 5 and [len(e) for e in test] == [4] * 5
    half, _ = split_cifar10(6, root=tmp_path, first_exp_with_half_classes=True, verify=False)
    assert [len(e.classes) for e in half] == [5, 1, 1, 1, 1, 1]


def test_cifar10_checksums(tmp_path, monkeypatch):
    path, _ = _write_cifar10(tmp_path)
    spec = dict(_cifar._SPECS["cifar10"], archive_md5=_md5(path), n_train=50, n_test=20)
    monkeypatch.setitem(_cifar._SPECS, "cifar10", spec)
    assert len(load_cifar("cifar10", root=tmp_path)[0]) == 50
    monkeypatch.setitem(_cifar._SPECS, "cifar10", dict(spec, n_train=50000))
    with pytest.raises(DatasetVerificationError, match="official set has 50000"):
        load_cifar("cifar10", root=tmp_path)
    monkeypatch.setitem(_cifar._SPECS, "cifar10", spec)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetVerificationError, match="md5"):
        load_cifar("cifar10", root=tmp_path)
    path.write_bytes(bytes(data[: len(data) // 2]))  # a truncated download
    with pytest.raises(DatasetVerificationError, match="not a readable tar.gz"):
        load_cifar("cifar10", root=tmp_path, verify=False)
    # the official md5s of the extracted batches are checked too
    _write_cifar10(tmp_path / "x", as_tar=False)
    with pytest.raises(DatasetVerificationError, match="c99cafc152244af753f735de768cd75f"):
        load_cifar("cifar10", root=tmp_path / "x")


def _write_cifar100(folder: Path):
    root = folder / "cifar-100-python"
    root.mkdir(parents=True)
    for name, n, seed in (("train", 200, 0), ("test", 100, 1)):
        labels = np.arange(n) % 100
        d = pickle.loads(_cifar_batch(n, labels, "fine_labels", True, seed))
        d[b"coarse_labels"] = list(map(int, labels // 5))
        (root / name).write_bytes(pickle.dumps(d, protocol=2))
    (root / "meta").write_bytes(pickle.dumps({b"fine_label_names": [b"x"] * 100}))


def test_cifar100_first_experience_orders_and_task_labels(tmp_path):
    _write_cifar100(tmp_path)
    train, test = split_cifar100(6, root=tmp_path, first_exp_with_half_classes=True,
                                 fixed_class_order="lucir", verify=False)
    assert [len(e.classes) for e in train] == [50, 10, 10, 10, 10, 10]
    assert train[0].classes.tolist() == sorted(CIFAR100_LUCIR_ORDER[:50])
    assert train[1].classes.tolist() == sorted(CIFAR100_LUCIR_ORDER[50:60])
    assert [len(e) for e in train] == [100, 20, 20, 20, 20, 20]
    assert [len(e) for e in test] == [50, 10, 10, 10, 10, 10]
    icarl, _ = split_cifar100(10, root=tmp_path, fixed_class_order="icarl",
                              return_task_id=True, verify=False)
    assert icarl[0].classes.tolist() == sorted(CIFAR100_ICARL_ORDER[:10])
    assert [e.task_label for e in icarl] == list(range(10))
    b50_5, _ = split_cifar100(11, root=tmp_path, first_exp_with_half_classes=True,
                              verify=False)
    assert [len(e.classes) for e in b50_5] == [50] + [5] * 10
    with pytest.raises(ValueError, match="between 2 and 51"):
        split_cifar100(52, root=tmp_path, first_exp_with_half_classes=True, verify=False)
    with pytest.raises(ValueError, match="icarl"):
        split_cifar100(10, root=tmp_path, fixed_class_order="der", verify=False)
    assert sorted(CIFAR100_ICARL_ORDER) == list(range(100))
    assert CIFAR100_LUCIR_ORDER[:4] == (68, 56, 78, 8) and CIFAR100_LUCIR_ORDER[-2:] == (57, 33)


# --------------------------------------------------------------------------- Tiny-ImageNet
def _encode(arr, fmt):
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def _tiny_files(n_train=3, n_val=2):
    rng = np.random.RandomState(0)
    wnids = ["n02", "n01", "n03"]  # not sorted: numbering follows wnids.txt
    files = {"wnids.txt": ("\n".join(wnids) + "\n").encode(), "words.txt": b"n01\tthing\n"}
    lines = []
    for w in wnids:
        for k in range(n_train):
            img = np.full((64, 64, 3), 10 * wnids.index(w) + k, np.uint8)
            files[f"train/{w}/images/{w}_{k}.JPEG"] = _encode(img, "JPEG")
        files[f"train/{w}/{w}_boxes.txt"] = b""
    for i in range(n_val * len(wnids)):
        w = wnids[i % len(wnids)]
        img = rng.randint(0, 256, (64, 64), dtype=np.uint8) if i == 0 else \
            rng.randint(0, 256, (64, 64, 3), dtype=np.uint8)
        files[f"val/images/val_{i}.JPEG"] = _encode(img, "JPEG")  # val_0 is greyscale
        lines.append(f"val_{i}.JPEG\t{w}\t0\t0\t63\t63")
    files["val/val_annotations.txt"] = ("\n".join(lines) + "\n").encode()
    return files


@pytest.mark.parametrize("as_zip", [False, True])
def test_tiny_imagenet_folder_and_zip(tmp_path, as_zip):
    pytest.importorskip("PIL")
    files = _tiny_files()
    if as_zip:
        with zipfile.ZipFile(tmp_path / "tiny-imagenet-200.zip", "w") as zf:
            for rel, data in files.items():
                zf.writestr(f"tiny-imagenet-200/{rel}", data)
    else:
        for rel, data in files.items():
            p = tmp_path / "tiny-imagenet-200" / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    X, Xt, y, yt = load_tiny_imagenet(root=tmp_path, verify=False)
    assert X.shape == (9, 3, 64, 64) and X.dtype == np.uint8 and Xt.shape == (6, 3, 64, 64)
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2] and yt.tolist() == [0, 1, 2] * 2
    assert abs(int(X[4].mean()) - 11) <= 2  # wnids.txt's second class, image k=1
    assert np.array_equal(Xt[0, 0], Xt[0, 1]) and np.array_equal(Xt[0, 0], Xt[0, 2])
    train, test = split_tiny_imagenet(3, root=tmp_path, shuffle=False, return_task_id=True,
                                      verify=False)
    assert [e.classes.tolist() for e in train] == [[0], [1], [2]]
    assert [e.task_label for e in test] == [0, 1, 2] and [len(e) for e in test] == [2, 2, 2]
    # the zip's md5 is checked first; an extracted folder is checked by its counts
    with pytest.raises(DatasetVerificationError, match="md5" if as_zip else "200 classes"):
        load_tiny_imagenet(root=tmp_path)


def test_tiny_imagenet_decoded_cache(tmp_path, monkeypatch):
    pytest.importorskip("PIL")
    import os
    import sys

    for rel, data in _tiny_files().items():
        p = tmp_path / "tiny-imagenet-200" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    first = load_tiny_imagenet(root=tmp_path, verify=False, cache_decoded=True)
    cached = list((tmp_path / "skcl_data" / "tiny_imagenet").glob("decoded-*.npz"))
    assert len(cached) == 1
    monkeypatch.setitem(sys.modules, "PIL", None)  # no decoding possible: the cache is read
    again = load_tiny_imagenet(root=tmp_path, verify=False, cache_decoded=True)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    ann = tmp_path / "tiny-imagenet-200" / "val" / "val_annotations.txt"
    os.utime(ann, ns=(ann.stat().st_atime_ns, ann.stat().st_mtime_ns + 10**9))
    with pytest.raises(ImportError, match="pillow"):  # the source changed: decode again
        load_tiny_imagenet(root=tmp_path, verify=False, cache_decoded=True)


def test_pillow_is_optional_with_a_clear_error(tmp_path, monkeypatch):
    import sys

    files = _tiny_files() if "PIL" in sys.modules or _has_pil() else None
    if files is None:
        pytest.skip("Pillow is needed to write the JPEG fixture")
    for rel, data in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match="pip install pillow"):
        load_tiny_imagenet(root=tmp_path, verify=False)


def _has_pil():
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- CORe50
def _core50_layout(n_objects=10):
    """Image paths of a tiny CORe50 (2 frames per object and session) and NC lists."""
    train_sessions, test_sessions = (1, 2), (3,)
    paths = []
    for s in (*train_sessions, *test_sessions):
        for o in range(1, n_objects + 1):
            for f in range(2):
                paths.append(f"s{s}/o{o}/C_{s:02d}_{o:02d}_{f:03d}.png")
    # NC, run 0: objects grouped in 3 batches; labels renumbered in order of appearance
    groups = [[1, 6, 3], [2, 7, 9], [4, 5, 8, 10]]
    relabel = {o: i for i, o in enumerate([o for g in groups for o in g])}
    batches = [[i for i, p in enumerate(paths)
                if int(p.split("/")[1][1:]) in g and int(p.split("/")[0][1:]) in train_sessions]
               for g in groups]
    test = [i for i, p in enumerate(paths) if int(p.split("/")[0][1:]) in test_sessions]
    labels = [[relabel[int(paths[i].split("/")[1][1:])] for i in b] for b in [*batches, test]]
    return paths, [*batches, test], labels


@pytest.mark.parametrize("compressed", [False, True])
def test_core50_npz_form(tmp_path, monkeypatch, compressed):
    paths, lup_run, labels_run = _core50_layout()
    x = np.random.RandomState(0).randint(0, 256, (len(paths), 8, 8, 3)).astype(np.uint8)
    (np.savez_compressed if compressed else np.savez)(tmp_path / "core50_imgs.npz", x=x)
    mapped = _core50._npz_array(tmp_path / "core50_imgs.npz")
    assert isinstance(mapped, np.memmap) is not compressed and np.array_equal(mapped, x)
    (tmp_path / "paths.pkl").write_bytes(pickle.dumps(paths, protocol=2))
    (tmp_path / "LUP.pkl").write_bytes(pickle.dumps({"nc": [lup_run]}, protocol=2))
    (tmp_path / "labels.pkl").write_bytes(pickle.dumps({"nc": [labels_run]}, protocol=2))
    train, test = core50("nc", 0, root=tmp_path, verify=False)
    assert len(train) == 3 and len(test) == 1
    assert [len(e) for e in train] == [12, 12, 16] and len(test[0]) == 20
    assert train[0].classes.tolist() == [0, 1, 2] and train[2].classes.tolist() == [6, 7, 8, 9]
    row = lup_run[1][0]
    assert np.array_equal(train[1].X[0], x[row].transpose(2, 0, 1))
    assert train[0].X.dtype == np.uint8 and train[0].X.shape[1:] == (3, 8, 8)
    cat, cat_test = core50("nc", 0, root=tmp_path, object_lvl=False, verify=False)
    # objects 1, 6, 3 are in categories 0, 1, 0
    assert cat[0].classes.tolist() == [0, 1] and cat_test[0].classes.tolist() == [0, 1]
    with pytest.raises(DatasetVerificationError, match="no scenario 'ni'"):
        core50("ni", 0, root=tmp_path, verify=False)
    with pytest.raises(DatasetVerificationError, match="3689d65d0a1c760b87821b114c8c4c6c"):
        core50("nc", 0, root=tmp_path)  # not the official npz
    md5 = {f: _md5(tmp_path / f) for f in ("core50_imgs.npz", "paths.pkl", "LUP.pkl",
                                           "labels.pkl")}
    monkeypatch.setattr(_core50, "_MD5", dict(_core50._MD5, **md5))
    with pytest.raises(DatasetVerificationError, match="training batches"):
        core50("nc", 0, root=tmp_path)  # the official NC has 9 batches


@pytest.mark.parametrize("zipped", [False, True])
def test_core50_png_form_mini(tmp_path, zipped):
    pytest.importorskip("PIL")
    paths, lup_run, labels_run = _core50_layout()
    rng = np.random.RandomState(0)
    images = {p: rng.randint(0, 256, (32, 32, 3)).astype(np.uint8) for p in paths}
    lists = {}
    for b, (rows, labels) in enumerate(zip(lup_run, labels_run)):
        name = "test_filelist.txt" if b == len(lup_run) - 1 else f"train_batch_{b:02d}_filelist.txt"
        lists[f"run0/{name}"] = "".join(f"{paths[r]} {t}\n" for r, t in zip(rows, labels))
    if zipped:
        with zipfile.ZipFile(tmp_path / "core50_32x32.zip", "w") as zf:
            for p, img in images.items():
                zf.writestr(f"core50_32x32/{p}", _encode(img, "PNG"))
        with zipfile.ZipFile(tmp_path / "batches_filelists.zip", "w") as zf:
            for rel, text in lists.items():
                zf.writestr(f"batches_filelists/NC_inc/{rel}", text)
    else:
        for p, img in images.items():
            f = tmp_path / "core50_32x32" / p
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(_encode(img, "PNG"))
        for rel, text in lists.items():
            f = tmp_path / "batches_filelists" / "NC_inc" / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)
    train, test = core50("nc", 0, root=tmp_path, mini=True, verify=False, dtype="float32")
    assert [len(e) for e in train] == [12, 12, 16] and len(test[0]) == 20
    first = paths[lup_run[0][0]]
    assert np.allclose(train[0].X[0] * 255, images[first].transpose(2, 0, 1), atol=1e-3)
    assert train[1].classes.tolist() == [3, 4, 5]
    with pytest.raises(DatasetNotFoundError, match="core50_imgs.npz"):
        core50("nc", 0, root=tmp_path)  # 128x128 images are not there
    with pytest.raises(ValueError, match="scenario"):
        core50("nd", root=tmp_path)


# --------------------------------------------------------------------------- the real files
def test_split_fashion_mnist_on_the_debian_files():
    if not Path(B.FASHION_MNIST_DEBIAN_PATH).is_dir():
        pytest.skip("dataset-fashion-mnist is not installed on this machine")
    train, test = split_fashion_mnist(5, random_state=0)  # verify=True: md5 and sizes
    assert len(train) == len(test) == 5
    assert [len(e) for e in train] == [12000] * 5 and [len(e) for e in test] == [2000] * 5
    assert train[0].X.dtype == np.uint8 and train[0].X.shape == (12000, 1, 28, 28)
    assert sorted(np.concatenate([e.classes for e in train]).tolist()) == list(range(10))
    flat, _ = split_fashion_mnist(5, random_state=0, dtype="float32", flatten=True,
                                  max_train_samples=1000)
    assert flat[0].X.shape[1] == 784 and float(flat[0].X.max()) <= 1.0
    assert sum(len(e) for e in flat) == 1000


# --------------------------------------------------------------------------- the runner
BUILDERS = ["split_mnist", "permuted_mnist", "rotated_mnist", "split_fashion_mnist",
            "split_cifar10", "split_cifar100", "split_tiny_imagenet", "core50"]


@pytest.mark.parametrize("name", BUILDERS)
def test_builders_are_exported_with_consistent_arguments(name):
    assert name in B.__all__
    params = inspect.signature(getattr(B, name)).parameters
    for arg in ("root", "download", "verify", "dtype", "flatten"):
        assert arg in params and params[arg].kind == inspect.Parameter.KEYWORD_ONLY
    assert params["download"].default is False
    if name != "core50":
        for arg in ("n_experiences", "random_state", "return_task_id"):
            assert arg in params
