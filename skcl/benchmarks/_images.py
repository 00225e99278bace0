"""Decoding PNG/JPEG files with Pillow, an optional dependency imported lazily."""

from __future__ import annotations

import io

import numpy as np


def require_pillow(what: str):
    try:
        from PIL import Image
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{what} stores its images as PNG/JPEG files; decoding them needs Pillow, an "
            "optional dependency of skcl: pip install pillow"
        ) from err
    return Image


def decode_images(blobs, size: tuple[int, int], what: str) -> np.ndarray:
    """Decode encoded images (bytes) into uint8 (n, 3, H, W); greyscale becomes RGB."""
    Image = require_pillow(what)
    out = np.empty((len(blobs), 3, *size), dtype=np.uint8)
    for i, blob in enumerate(blobs):
        with Image.open(io.BytesIO(blob)) as img:
            arr = np.asarray(img.convert("RGB"))
        if arr.shape[:2] != size:
            raise ValueError(f"{what}: image {i} is {arr.shape[1]}x{arr.shape[0]}, expected "
                             f"{size[1]}x{size[0]}.")
        out[i] = arr.transpose(2, 0, 1)
    return out


class Tree:
    """Read files from a folder or from a zip archive (optionally under a top folder).

    ``Tree.open(path, top)`` accepts a folder, a folder holding ``top/``, or a
    zip whose members are under ``top/`` or at its root.
    """

    def __init__(self, folder=None, zf=None, prefix: str = ""):
        self.folder, self.zf, self.prefix = folder, zf, prefix
        self._names = set(zf.namelist()) if zf is not None else None

    @classmethod
    def open(cls, path, top: str | None = None):
        import zipfile
        from pathlib import Path

        path = Path(path)
        if path.is_dir():
            if top and (path / top).is_dir():
                return cls(folder=path / top)
            return cls(folder=path)
        zf = zipfile.ZipFile(path)
        names = zf.namelist()
        prefix = top + "/" if top and any(n.startswith(top + "/") for n in names) else ""
        return cls(zf=zf, prefix=prefix)

    def exists(self, rel: str) -> bool:
        if self.folder is not None:
            return (self.folder / rel).is_file()
        return self.prefix + rel in self._names

    def read_bytes(self, rel: str) -> bytes:
        if self.folder is not None:
            return (self.folder / rel).read_bytes()
        return self.zf.read(self.prefix + rel)

    def read_text(self, rel: str) -> str:
        return self.read_bytes(rel).decode()

    def close(self) -> None:
        if self.zf is not None:
            self.zf.close()

    def __repr__(self) -> str:
        where = self.folder if self.folder is not None else f"{self.zf.filename}:{self.prefix}"
        return str(where)
