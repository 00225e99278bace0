"""How a buffer holds its exemplars: numpy arrays, tensors (on a chosen device) or index
references into data read per minibatch (:class:`~skcl.utils.LazyX`), and the journal of
rows a buffer overwrites in place while a rollback record watches it.

Every helper returns new arrays and never writes into the arrays it is given. A buffer
writes into its own arrays only while a :class:`Journal` watches it (a strategy's rollback
record, during a ``partial_fit``): the rows it overwrites are journaled first, so the record
keeps references to the arrays and undoes the writes on failure, at a cost proportional
to the rows changed. Unwatched (standalone) buffers copy before writing: arrays handed out
never change.
"""

from __future__ import annotations

import numbers
import weakref

import numpy as np
import torch

from skcl.utils import LazyX, compact_take

__all__: list[str] = []

#: buffer -> the journals watching it (weak both ways: a journal lives as long as the
#: rollback record holding it, and watching keeps no buffer alive)
_WATCHERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Journal:
    """The rows buffers overwrite in place while this journal watches them.

    Created by a strategy's rollback record; :meth:`undo` puts the overwritten rows
    back, latest first, so every watched array is as it was when watching began.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.buffers import ReservoirSamplingBuffer
    >>> from skcl.buffers._storage import Journal
    >>> buf = ReservoirSamplingBuffer(max_size=2, random_state=0).fit(np.zeros((2, 1)), [0, 0])
    >>> journal, X = Journal(), buf.X_
    >>> journal.watch(buf)
    >>> _ = buf.partial_fit(np.ones((50, 1)), np.zeros(50, dtype=int))
    >>> buf.X_ is X, X.ravel().tolist()  # written in place, the old rows journaled
    (True, [1.0, 1.0])
    >>> journal.undo()
    >>> X.ravel().tolist()
    [0.0, 0.0]
    """

    __slots__ = ("entries", "__weakref__")

    def __init__(self):
        self.entries: list = []

    def watch(self, buffer) -> None:
        """Journal ``buffer``'s in-place writes from now on, while this journal lives."""
        _WATCHERS.setdefault(buffer, weakref.WeakSet()).add(self)

    def undo(self) -> None:
        """Write the journaled rows back, latest first; the journal is then empty."""
        with torch.no_grad():
            for array, slots, rows in reversed(self.entries):
                array[slots] = rows
        self.entries.clear()


#: Buffers whose strategy keeps no rollback record (``_record_rollback = False``, a private
#: switch for measuring the record's cost): written in place, nothing journaled.
_UNRECORDED: weakref.WeakSet = weakref.WeakSet()


def _journals(buffer) -> list[Journal]:
    watchers = _WATCHERS.get(buffer)
    return list(watchers) if watchers else []


def _write_rows(buffer, old, slots: np.ndarray, rows):
    """``old`` with ``rows`` written at ``slots``: in place when journals watch ``buffer``
    (the overwritten rows journaled first), else into a copy."""
    is_torch = isinstance(old, torch.Tensor)
    index = torch.as_tensor(slots, dtype=torch.long, device=old.device) if is_torch else slots
    journals = _journals(buffer)
    if journals:
        before = old[index]  # advanced indexing copies
        for journal in journals:
            journal.entries.append((old, index, before))
    elif buffer not in _UNRECORDED:
        old = old.clone() if is_torch else old.copy()
    old[index] = rows.to(old.device) if is_torch else rows
    return old


def _is_torch(a) -> bool:
    # data read per minibatch (LazyX) is handled like a tensor: its rows come out as tensors
    return isinstance(a, torch.Tensor | LazyX)


def _take(a, idx: np.ndarray):
    """The rows ``idx`` of ``a``, read (a :class:`LazyX`'s rows come out as a tensor)."""
    if isinstance(a, LazyX):  # only the rows asked for are read (uint8 stays uint8)
        return a.take(np.asarray(idx, dtype=np.int64))
    if _is_torch(a):
        return a[torch.as_tensor(idx, dtype=torch.long, device=a.device)]
    return a[idx]


def _leaves(lazy: LazyX, idx: np.ndarray) -> list[tuple[object, np.ndarray, np.ndarray]]:
    """``(source, rows in source, positions in idx)`` for each underlying (non-list) source."""
    if lazy.indices is not None:
        idx = lazy.indices[idx]
    src = lazy.source
    if not isinstance(src, list):
        return [(src, idx, np.arange(len(idx)))]
    offsets = np.cumsum([0] + [len(p) for p in src])
    part = np.searchsorted(offsets, idx, side="right") - 1
    out = []
    for p in np.unique(part):
        sel = np.flatnonzero(part == p)
        piece = src[p] if isinstance(src[p], LazyX) else LazyX(src[p])
        out.extend((s, rows, sel[pos]) for s, rows, pos in _leaves(piece, idx[sel] - offsets[p]))
    return out


def _gather_lazy(X: LazyX, idx: np.ndarray, device=None):
    """Rows ``idx`` of ``X`` to store: index references into data kept outside memory (a
    memmap, a dataset: :func:`~skcl.utils.compact_take`), rows copied from tensors.

    Nested concatenations (memory ∪ candidates, update after update) are flattened to
    at most one part per source, so reading a stored exemplar never walks a chain of
    earlier memories, and an earlier memory's tensor is never kept alive.
    """
    groups: dict[int, list] = {}
    for source, rows, pos in _leaves(X, np.asarray(idx, dtype=np.int64)):
        entry = groups.setdefault(id(source), [source, [], []])
        entry[1].append(rows)
        entry[2].append(pos)
    parts, positions = [], []
    for source, rows, pos in groups.values():
        rows, pos = np.concatenate(rows), np.concatenate(pos)
        if isinstance(source, torch.Tensor):  # in memory (maybe on a device): copy the rows
            parts.append(compact_take(source, rows, device))
        else:  # on disk or a dataset: index references
            parts.append(LazyX(source, rows))
        positions.append(pos)
    if not parts:  # nothing kept: an empty view of the candidates' first source
        return compact_take(X, np.zeros(0, dtype=np.int64), device)
    order = np.argsort(np.concatenate(positions), kind="stable")
    if all(isinstance(p, torch.Tensor) for p in parts):  # all in memory: one tensor
        out = torch.cat([p.to(parts[0].device) for p in parts]) if len(parts) > 1 else parts[0]
        return out if np.array_equal(order, np.arange(len(order))) else out[torch.as_tensor(
            order, device=out.device)]
    if len(parts) == 1:
        part = parts[0]
        return part if np.array_equal(order, np.arange(len(order))) else part.subset(order)
    return LazyX([p if isinstance(p, LazyX) else LazyX(p) for p in parts], order)


def _gather(a, idx: np.ndarray, device=None):
    """Rows ``idx`` of ``a`` in their stored form: a numpy array, a tensor (its dtype kept,
    on ``device`` when given) or index references into lazily read data."""
    if isinstance(a, LazyX):
        return _gather_lazy(a, idx, device)
    if isinstance(a, torch.Tensor):
        return compact_take(a, np.asarray(idx, dtype=np.int64), device)
    return a[idx]


def _cat(parts: list):
    """Concatenation of numpy arrays, tensors (on the first part's device) or lazy data."""
    if any(isinstance(p, LazyX) for p in parts):
        # candidates stay unread until the buffer takes the rows it keeps
        return LazyX([p if isinstance(p, LazyX) else LazyX(torch.as_tensor(p)) for p in parts])
    if _is_torch(parts[0]):
        device = parts[0].device
        return torch.cat([(p if _is_torch(p) else torch.as_tensor(p)).to(device) for p in parts])
    return np.concatenate([p.detach().cpu().numpy() if _is_torch(p) else p for p in parts])


def _like(a, ref):
    """``a`` converted to the array type (numpy or torch) of ``ref``."""
    if isinstance(a, LazyX):
        return a
    if _is_torch(ref) and not _is_torch(a):
        return torch.as_tensor(np.asarray(a), device=ref.device)
    if not _is_torch(ref) and _is_torch(a):
        return a.detach().cpu().numpy()
    return a


def _to_numpy(a) -> np.ndarray:
    return a.detach().cpu().numpy() if _is_torch(a) else np.asarray(a)


def _per_sample(value, n: int, name: str, default: int) -> np.ndarray:
    if value is None:
        return np.full(n, default, dtype=np.int64)
    arr = _to_numpy(value)
    if arr.ndim == 0:
        return np.full(n, int(arr), dtype=np.int64)
    arr = arr.astype(np.int64).ravel()
    if len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries but X has {n} samples.")
    return arr


def _label_kind(y) -> str:
    """``"number"`` or ``"string"``: the kind of a label array (object arrays are inspected)."""
    if _is_torch(y):
        return "number"
    y = np.asarray(y)
    if y.dtype.kind in "biuf":
        return "number"
    if y.dtype.kind in "US":
        return "string"
    kinds = {"string" if isinstance(v, (str, bytes)) else
             "number" if isinstance(v, (numbers.Number, np.number)) else type(v).__name__
             for v in y.ravel().tolist()}
    if len(kinds) == 1:
        return kinds.pop()
    if not kinds:
        return "number"
    raise ValueError(f"y mixes label types ({', '.join(sorted(kinds))}); use one type.")


def _shape(a) -> tuple:
    return tuple(int(d) for d in (a.shape if hasattr(a, "shape") else np.shape(a)))


def _kind(a) -> str:
    """What kind of array ``a`` is, for messages."""
    if isinstance(a, LazyX):
        return "data read per minibatch (LazyX)"
    return "a torch tensor" if isinstance(a, torch.Tensor) else "a numpy array"
