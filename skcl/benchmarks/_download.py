"""Where data sets live, how they are checked, and (only when asked) how they are fetched.

Every image-benchmark reader finds its files the same way:

1. the ``root=`` argument, when given;
2. else the data set's own environment variable (e.g. ``SKCL_CIFAR10``);
3. else ``$SKCL_DATA/<name>``;
4. else the cache folder ``$XDG_CACHE_HOME/skcl/datasets/<name>``
   (``~/.cache/skcl/datasets/<name>``), which is also where ``download=True`` writes.

Nothing is downloaded unless the caller passes ``download=True``. Downloads go
to a ``*.part`` file, are hashed while streaming, compared with the published
md5, then renamed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DatasetNotFoundError", "DatasetVerificationError", "default_cache_dir", "md5sum"]

_CHUNK = 1 << 20


class DatasetNotFoundError(FileNotFoundError):
    """The files of a data set were not found where they were looked for."""


class DatasetVerificationError(ValueError):
    """A data set file has the wrong size, layout or checksum."""


def default_cache_dir(name: str) -> Path:
    """The folder where ``download=True`` stores the data set ``name``.

    ``$SKCL_DATA/<name>`` when ``SKCL_DATA`` is set, else
    ``$XDG_CACHE_HOME/skcl/datasets/<name>`` (``~/.cache/skcl/datasets/<name>``).

    Examples
    --------
    >>> from skcl.benchmarks import default_cache_dir
    >>> default_cache_dir("cifar10").name
    'cifar10'
    """
    base = os.environ.get("SKCL_DATA")
    if base:
        return Path(base).expanduser() / name
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "skcl" / "datasets" / name


_MD5_CACHE: dict[tuple, str] = {}


_MEMO_MIN_BYTES = 256 << 20


def md5sum(path) -> str:
    """The md5 hex digest of a file.

    Files of 256 MB or more (the CORe50 npz is 8 GB) are hashed once per
    process: the digest is remembered per path, size and modification time.

    Examples
    --------
    >>> import os, tempfile
    >>> from skcl.benchmarks import md5sum
    >>> f = os.path.join(tempfile.mkdtemp(), "a")
    >>> _ = open(f, "wb").write(b"abc")
    >>> md5sum(f)
    '900150983cd24fb0d6963f7d28e17f72'
    """
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _MD5_CACHE:
        return _MD5_CACHE[key]
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    if st.st_size >= _MEMO_MIN_BYTES:
        _MD5_CACHE[key] = h.hexdigest()
    return h.hexdigest()


def check_md5(path, expected: str | Iterable[str] | None, name: str) -> None:
    """Raise :class:`DatasetVerificationError` unless ``path`` has one of the md5s."""
    if expected is None:
        return
    allowed = {expected} if isinstance(expected, str) else set(expected)
    got = md5sum(path)
    if got not in allowed:
        raise DatasetVerificationError(
            f"{name}: {path} has md5 {got}, expected {' or '.join(sorted(allowed))}. The file "
            "is corrupt or not the official one: delete it and fetch it again (download=True), "
            "or pass verify=False to skip the checks."
        )


def candidate_roots(root, env_var: str, name: str) -> list[tuple[Path, str]]:
    """The folders searched, in order, each with how it was chosen."""
    if root is not None:
        return [(Path(root).expanduser(), "root=")]
    out = []
    if os.environ.get(env_var):
        out.append((Path(os.environ[env_var]).expanduser(), f"${env_var}"))
    out.append((default_cache_dir(name),
                "$SKCL_DATA/" + name if os.environ.get("SKCL_DATA") else "the cache folder"))
    return out


def not_found(dataset: str, searched: list[tuple[Path, str]], env_var: str, urls: list[str],
              what: str, target: Path, extra: str = "") -> DatasetNotFoundError:
    """The error raised when a data set is missing: where we looked and how to get it."""
    where = "; ".join(f"{p} ({how})" for p, how in searched)
    return DatasetNotFoundError(
        f"{dataset}: {what} not found. Searched: {where}. Put the official files in a folder "
        f"and pass root=<folder>, or set ${env_var} (or $SKCL_DATA, which holds one folder per "
        f"data set), or pass download=True to fetch them into {target} from "
        f"{' or '.join(urls)}.{(' ' + extra) if extra else ''}"
    )


def fetch_url(url: str, dest: Path) -> None:
    """Copy ``url`` to ``dest`` with urllib (tests monkeypatch this function)."""
    with urllib.request.urlopen(url) as response, open(dest, "wb") as out:  # noqa: S310
        shutil.copyfileobj(response, out, _CHUNK)


def download(url: str, folder: Path, filename: str | None = None, md5: str | None = None,
             name: str = "data set") -> Path:
    """Fetch ``url`` into ``folder`` (``*.part`` first), check its md5, rename it.

    An already present file with the right md5 is not fetched again.
    """
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / (filename or url.rsplit("/", 1)[-1])
    if dest.exists():
        try:
            check_md5(dest, md5, name)
            return dest
        except DatasetVerificationError:
            dest.unlink()
    part = dest.with_name(dest.name + ".part")
    try:
        fetch_url(url, part)
    except OSError as err:
        if part.exists():
            part.unlink()
        raise DatasetNotFoundError(
            f"{name}: download of {url} failed ({err}). Check the network, or fetch the file "
            f"by hand and put it in {folder}."
        ) from err
    try:
        check_md5(part, md5, name)
    except DatasetVerificationError:
        part.unlink()
        raise
    part.replace(dest)
    return dest


def download_first(urls: list[str], folder: Path, filename: str, md5: str | None,
                   name: str) -> Path:
    """Try each mirror in turn; raise the last failure."""
    last: Exception | None = None
    for url in urls:
        try:
            return download(url, folder, filename, md5, name)
        except DatasetNotFoundError as err:
            last = err
    assert last is not None
    raise last
