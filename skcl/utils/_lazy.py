"""Data larger than memory: sequence-like inputs (memmaps, datasets, readers) read per
minibatch, and the compact storage buffers use for them."""

from __future__ import annotations

import contextlib
import mmap
import os

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import Dataset

from skcl.utils._data import TrainData

__all__ = ["LazyX", "LazyTrainData", "as_train_data", "compact_take", "is_lazy_input"]


def _batch_tensor(a) -> torch.Tensor:
    """A gathered batch as a tensor: uint8 and float32 kept, other numbers -> float32."""
    t = a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))
    if t.dtype in (torch.uint8, torch.float32):
        return t
    return t.to(torch.float32)


# bytes read per mapped file since its pages were last released (see LazyX._release_pages)
_RELEASE_COUNTER: dict[int, int] = {}
_FAULT_AROUND = 2 * 2**20


def _pread_rows(src: np.memmap, rows: np.ndarray) -> np.ndarray | None:
    """Rows ``rows`` (sorted, unique) of a C-contiguous memmap, read from its file with
    ``preadv`` (one call per run of consecutive rows) rather than through the mapping.

    Pages read through a mapping count towards the process's resident memory (a large
    file read at random would end up resident in full); file reads only fill the OS page
    cache. Returns None when the memmap cannot be located in its file (then the mapping
    is used).
    """
    mm, fn = getattr(src, "_mmap", None), getattr(src, "filename", None)
    if (mm is None or fn is None or not src.flags.c_contiguous or src.ndim < 1
            or not hasattr(os, "preadv")):
        return None
    try:
        base = np.frombuffer(mm, dtype=np.uint8).ctypes.data
    except (TypeError, ValueError, BufferError):
        return None
    start = int(src.offset) - int(src.offset) % mmap.ALLOCATIONGRANULARITY
    pos0 = src.ctypes.data - base + start
    row = src.itemsize * int(np.prod(src.shape[1:], dtype=np.int64))
    out = np.empty((len(rows), *src.shape[1:]), dtype=src.dtype)
    if len(rows) == 0:
        return out
    flat = out.reshape(-1).view(np.uint8)
    cuts = np.flatnonzero(np.diff(rows) != 1) + 1
    firsts = np.concatenate([[0], cuts])
    lasts = np.concatenate([cuts, [len(rows)]])
    with open(fn, "rb", buffering=0) as f:
        fd = f.fileno()
        for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True):
            want = (b - a) * row
            buf = memoryview(flat[a * row:b * row])
            got = os.preadv(fd, [buf], pos0 + int(rows[a]) * row)
            if got != want:
                return None
    return out


def _item_x(item):
    # a dataset item is x, or (x, y, ...): keep the input
    return item[0] if isinstance(item, tuple | list) else item


def is_lazy_input(X) -> bool:
    """Whether ``X`` should be read per minibatch rather than loaded in memory.

    True for a :class:`numpy.memmap`, a :class:`LazyX`, a torch ``Dataset``,
    and any other object with ``__len__`` and ``__getitem__`` that is not an
    in-memory array (ndarray, tensor, list, tuple, pandas object), such as an
    ``h5py`` dataset or an image-folder reader.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skcl.utils import is_lazy_input
    >>> is_lazy_input(np.zeros((2, 3))), is_lazy_input(torch.zeros(2)), is_lazy_input([[1]])
    (False, False, False)
    >>> from torch.utils.data import TensorDataset
    >>> is_lazy_input(TensorDataset(torch.zeros(2, 3)))
    True
    """
    if isinstance(X, np.memmap | LazyX | Dataset):
        return True
    if (isinstance(X, np.ndarray | torch.Tensor | list | tuple) or hasattr(X, "iloc")
            or sp.issparse(X)):  # in-memory containers: validated (and rejected) as such
        return False
    return hasattr(X, "__len__") and hasattr(X, "__getitem__")


class LazyX:
    """Samples of a sequence-like source, gathered into tensors on demand.

    The source is a :class:`numpy.memmap` or any array-like with ``shape``
    and fancy indexing (read with the indices sorted, one read per batch), a
    torch ``Dataset`` or any object with ``__len__``/``__getitem__`` whose
    items are ``x`` or ``(x, y, ...)`` (items stacked), a tensor, or a list of
    :class:`LazyX` (their concatenation). ``indices`` optionally maps this
    view's positions to the source's (index references: a subset costs no
    copy of the samples).

    A gathered batch is a tensor: ``uint8`` stays ``uint8`` (the model or a
    :class:`~skcl.transforms.ToFloat` transform scales it), ``float32`` stays,
    other numeric types become ``float32``.

    ``LazyX`` mimics the tensor operations plugins use on ``TrainData.X``:
    ``len``, ``shape``, ``dtype``, indexing by int, slice, index array or
    tensor (returns a tensor), ``index_select(0, idx)`` and ``to(device)``
    (both gather, the latter everything: avoid it on large data).

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.utils import LazyX
    >>> X = LazyX(np.arange(12, dtype=np.uint8).reshape(6, 2))
    >>> X.shape, X[[4, 1]].tolist(), X.subset([5, 0])[0:2].dtype
    ((6, 2), [[8, 9], [2, 3]], torch.uint8)
    """

    def __init__(self, source, indices=None):
        if isinstance(source, LazyX) and indices is None:
            source, indices = source.source, source.indices
        self.source = source
        self.indices = None if indices is None else np.asarray(indices, dtype=np.int64)
        if isinstance(source, list):
            self._offsets = np.cumsum([0] + [len(p) for p in source])

    # -- shape -------------------------------------------------------------------
    def _source_len(self) -> int:
        return int(self._offsets[-1]) if isinstance(self.source, list) else len(self.source)

    def __len__(self) -> int:
        return self._source_len() if self.indices is None else len(self.indices)

    def _first(self) -> torch.Tensor:
        return self.take(np.zeros(1, dtype=np.int64))[0]

    @property
    def shape(self) -> tuple[int, ...]:
        src = self.source
        if isinstance(src, np.ndarray | torch.Tensor) or (
                hasattr(src, "shape") and hasattr(src, "dtype") and not isinstance(src, list)):
            return (len(self), *tuple(src.shape[1:]))
        return (len(self), *tuple(self._first().shape)) if len(self) else (0,)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> torch.dtype:
        return self._first().dtype

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    # -- gathering ---------------------------------------------------------------
    def take(self, idx) -> torch.Tensor:
        """The samples at positions ``idx`` (1-d int array or tensor), in that order."""
        idx = idx.cpu().numpy() if isinstance(idx, torch.Tensor) else np.asarray(idx)
        idx = idx.astype(np.int64, copy=False).reshape(-1)
        n = len(self)
        if len(idx) and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Index out of range for {n} samples.")
        idx = np.where(idx < 0, idx + n, idx)
        if self.indices is not None:
            idx = self.indices[idx]
        return self._take_source(idx)

    def _take_source(self, idx: np.ndarray) -> torch.Tensor:
        src = self.source
        if isinstance(src, torch.Tensor):
            return src.index_select(0, torch.from_numpy(idx))
        if isinstance(src, list):
            part = np.searchsorted(self._offsets, idx, side="right") - 1
            pieces, where = [], []
            for p in np.unique(part):
                sel = np.flatnonzero(part == p)
                pieces.append(src[p].take(idx[sel] - self._offsets[p]))
                where.append(sel)
            dtype = pieces[0].dtype
            if any(q.dtype != dtype for q in pieces):
                pieces = [q.to(torch.float32) / 255 if q.dtype == torch.uint8 else q
                          for q in pieces]
            out = pieces[0].new_empty((len(idx), *pieces[0].shape[1:]))
            for q, sel in zip(pieces, where, strict=True):
                out[torch.from_numpy(sel)] = q
            return out
        if isinstance(src, np.ndarray) or (hasattr(src, "shape") and hasattr(src, "dtype")
                                           and not isinstance(src, Dataset)):
            if len(idx) == 0:
                return _batch_tensor(np.asarray(src[:0]))
            # one read of the sorted, unique rows (memmaps and h5py read forward fast)
            uniq, inverse = np.unique(idx, return_inverse=True)
            rows = _pread_rows(src, uniq) if isinstance(src, np.memmap) else None
            if rows is None:
                rows = np.asarray(src[uniq])
                if isinstance(src, np.memmap):
                    # each row read maps in the pages (or large folios) around it too
                    self._release_pages(src, rows.nbytes + len(uniq) * _FAULT_AROUND)
            if len(uniq) != len(idx) or not np.array_equal(uniq, idx):
                rows = rows[inverse]
            return _batch_tensor(rows)
        items = [_item_x(src[int(i)]) for i in idx]
        if not items:
            return torch.zeros(0)
        return _batch_tensor(torch.stack([torch.as_tensor(np.asarray(x))
                                          if not isinstance(x, torch.Tensor) else x
                                          for x in items]))

    #: Bytes of a memmap mapped in (an upper bound) after which its pages are dropped from
    #: this process's resident memory (they stay in the OS page cache): a mapped file read
    #: once fully would otherwise count in full towards the process's RSS.
    release_every = 64 * 2**20

    def _release_pages(self, src: np.memmap, nbytes: int) -> None:
        mm = getattr(src, "_mmap", None)
        if mm is None or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
            return
        read = _RELEASE_COUNTER.get(id(mm), 0) + nbytes
        if read < self.release_every:
            _RELEASE_COUNTER[id(mm)] = read
            return
        _RELEASE_COUNTER[id(mm)] = 0
        with contextlib.suppress(OSError, ValueError):
            mm.madvise(mmap.MADV_DONTNEED)

    def __getitem__(self, key):
        if isinstance(key, int | np.integer):
            return self.take(np.array([key]))[0]
        if isinstance(key, slice):
            return self.take(np.arange(len(self))[key])
        if isinstance(key, torch.Tensor) and key.dtype == torch.bool:
            key = key.nonzero().flatten()
        key = np.asarray(key)
        if key.dtype == bool:
            key = np.flatnonzero(key)
        return self.take(key)

    def index_select(self, dim: int, index) -> torch.Tensor:
        if dim != 0:
            raise ValueError("LazyX.index_select only selects samples (dim=0).")
        return self.take(index)

    def to(self, *args, **kwargs) -> torch.Tensor:
        """Gather every sample into one tensor, then ``Tensor.to(...)``."""
        return self.take(np.arange(len(self))).to(*args, **kwargs)

    def subset(self, idx) -> LazyX:
        """A view of positions ``idx``: index references, no sample is read."""
        idx = idx.cpu().numpy() if isinstance(idx, torch.Tensor) else np.asarray(idx)
        idx = idx.astype(np.int64, copy=False).reshape(-1)
        return LazyX(self.source, idx if self.indices is None else self.indices[idx])

    def __deepcopy__(self, memo) -> LazyX:
        # the source is read-only data (often a file): copies share it, never duplicate it
        return LazyX(self.source, None if self.indices is None else self.indices.copy())

    def __repr__(self) -> str:
        return f"LazyX(n_samples={len(self)}, source={type(self.source).__name__})"


class LazyTrainData(TrainData):
    """:class:`TrainData` whose ``X`` is a :class:`LazyX`: samples read per minibatch.

    Labels and task labels are small and stay in memory as tensors;
    :class:`BatchIterator` gathers each minibatch's samples (for the same
    generator, the same minibatches as the in-memory :class:`TrainData`).
    ``subset`` keeps index references; ``concat`` with other (lazy or
    in-memory) data gives lazy data over all parts.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skcl.utils import BatchIterator, LazyTrainData
    >>> X = np.arange(10, dtype=np.float32).reshape(5, 2)
    >>> data = LazyTrainData(X, torch.arange(5), torch.zeros(5, dtype=torch.long))
    >>> [b[0]["x"].shape[0] for b in BatchIterator(data, 2, shuffle=False)]
    [2, 2, 1]
    """

    def __init__(self, X, y: torch.Tensor | None, task_labels: torch.Tensor):
        super().__init__(X if isinstance(X, LazyX) else LazyX(X), y, task_labels)

    def subset(self, idx) -> LazyTrainData:
        idx = torch.as_tensor(idx, dtype=torch.long)
        return LazyTrainData(self.X.subset(idx), None if self.y is None else self.y[idx],
                             self.task_labels[idx])

    def concat(self, *others: TrainData) -> LazyTrainData:
        parts = [self, *others]
        return LazyTrainData(
            LazyX([p.X if isinstance(p.X, LazyX) else LazyX(p.X) for p in parts]),
            torch.cat([p.y for p in parts]),
            torch.cat([p.task_labels for p in parts]),
        )


def as_train_data(X, y_units, task_labels) -> TrainData:
    """The container for an experience: :class:`LazyTrainData` for lazy input, else
    :class:`TrainData`.

    Parameters
    ----------
    X : Tensor, ndarray, memmap, Dataset or sequence-like
        Lazy input (see :func:`is_lazy_input`) is read per minibatch; anything
        else is made a tensor (no copy when possible) and kept in memory.
    y_units : array-like of int or None
        Output-unit indices.
    task_labels : array-like of int

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch.utils.data import TensorDataset
    >>> from skcl.utils import as_train_data
    >>> ds = TensorDataset(torch.zeros(4, 2, dtype=torch.uint8))
    >>> type(as_train_data(ds, [0, 1, 0, 1], [0] * 4)).__name__
    'LazyTrainData'
    >>> type(as_train_data(np.zeros((4, 2), "float32"), [0, 1, 0, 1], [0] * 4)).__name__
    'TrainData'
    """
    y = None if y_units is None else torch.as_tensor(np.asarray(y_units), dtype=torch.long)
    t = torch.as_tensor(np.asarray(task_labels), dtype=torch.long)
    if is_lazy_input(X):
        return LazyTrainData(X, y, t)
    return TrainData(X if isinstance(X, torch.Tensor) else torch.as_tensor(X), y, t)


def compact_take(X, idx, device: str | torch.device | None = None):
    """Exemplars ``X[idx]`` in the most compact form, for buffers.

    Samples of a :class:`LazyX` whose source is on disk (a memmap, an
    array-like file, a dataset) are kept as **index references** (a
    :class:`LazyX` view, no copy; ``device`` is then ignored: they are read
    when replayed). Tensors are copied keeping their dtype (``uint8`` images
    stay ``uint8``: 4x smaller than float32), onto ``device`` when given
    (a ``store_device``).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skcl.utils import LazyX, compact_take
    >>> compact_take(torch.zeros(5, 3, dtype=torch.uint8), [0, 2]).dtype
    torch.uint8
    >>> compact_take(LazyX(np.zeros((5, 3), np.uint8)), [0, 2])
    LazyX(n_samples=2, source=ndarray)
    """
    if isinstance(X, LazyX):
        if isinstance(X.source, torch.Tensor):
            out = X.take(idx)
            return out if device is None else out.to(device)
        return X.subset(idx)
    idx = torch.as_tensor(np.asarray(idx) if not isinstance(idx, torch.Tensor) else idx,
                          dtype=torch.long)
    out = X.index_select(0, idx.to(X.device))
    return out if device is None else out.to(device)
