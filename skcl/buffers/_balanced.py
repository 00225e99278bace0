"""Balanced buffers: one reservoir per group (experience, class, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from skcl.buffers._base import ExemplarsBuffer
from skcl.utils import Interval, InvalidParameterError

__all__ = ["BalancedExemplarsBuffer", "ExperienceBalancedBuffer", "ClassBalancedBuffer"]


def _group_quotas(max_size: int, n_groups: int, adaptive: bool, total: int | None) -> np.ndarray:
    if n_groups == 0:
        return np.zeros(0, dtype=np.int64)
    if adaptive:
        q = np.full(n_groups, max_size // n_groups, dtype=np.int64)
        q[: max_size % n_groups] += 1
        return q
    return np.full(n_groups, max_size // total, dtype=np.int64)


def _top_per_group(keys: np.ndarray, codes: np.ndarray, quotas: np.ndarray) -> np.ndarray:
    """Indices of the ``quotas[g]`` largest keys in each group ``g`` (vectorized)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((-keys, codes))
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, sorted_codes, side="left")
    rank = np.arange(len(order)) - starts
    return np.sort(order[rank < quotas[sorted_codes]])


class BalancedExemplarsBuffer(ExemplarsBuffer):
    """A memory split into groups, each a reservoir with its own quota.

    Groups are numbered in the order they first appear. In adaptive mode
    the capacity is split evenly over the groups seen so far
    (``max_size // n_groups``, the remainder going to the first groups), and
    every group shrinks when a new one arrives. In fixed mode each group
    gets ``max_size // total_num_groups``. Within a group, the samples kept
    are those with the largest random keys (a uniform sample of the group).

    This class groups by the ``group`` of each sample given by
    :meth:`_group_of`; it groups by task label. Subclasses group by
    experience or class.

    Parameters
    ----------
    max_size : int, default=200
    adaptive_size : bool, default=True
    total_num_groups : int or None, default=None
        Required when ``adaptive_size=False``.
    random_state : int, RandomState or None, default=None
    store_device : str, torch.device or None, default=None
        See :class:`~skcl.buffers.ExemplarsBuffer`.

    Attributes
    ----------
    groups_ : ndarray
        Group values in order of arrival.
    group_counts_ : ndarray
        Samples seen per group (aligned with ``groups_``).

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.buffers import BalancedExemplarsBuffer
    >>> buf = BalancedExemplarsBuffer(max_size=9, random_state=0)
    >>> X = np.zeros((30, 2)); y = np.zeros(30)
    >>> _ = buf.partial_fit(X, y, task_labels=np.repeat([0, 1, 2], 10))
    >>> np.bincount(buf.task_labels_).tolist()
    [3, 3, 3]
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "adaptive_size": ["boolean"],
        "total_num_groups": [None, Interval("int", 1, None)],
    }

    def __init__(self, max_size: int = 200, *, adaptive_size: bool = True,
                 total_num_groups: int | None = None, random_state=None, store_device=None):
        self.max_size = max_size
        self.adaptive_size = adaptive_size
        self.total_num_groups = total_num_groups
        self.random_state = random_state
        self.store_device = store_device

    _total_param = "total_num_groups"

    def _total(self) -> int | None:
        return getattr(self, self._total_param)

    def _check_relations(self, display: Callable[[str], str], owner: str) -> None:
        super()._check_relations(display, owner)
        if not self.adaptive_size and self._total() is None:
            raise InvalidParameterError(
                f"{owner}: parameter '{display(self._total_param)}' must be a positive int "
                f"when {display('adaptive_size')}=False; got None.")

    def _group_of(self, y: np.ndarray, t: np.ndarray, e: np.ndarray) -> np.ndarray:
        return t

    def _new_keys(self, X, y, t, e, n_old: int) -> np.ndarray:
        return np.concatenate([self.keys_, self.rng_.random(len(y) - n_old)])

    def _validate_groups(self, y, t, e) -> None:
        if self.adaptive_size:
            return
        g = self._group_of(y, t, e)
        known = getattr(self, "groups_", g[:0])
        new = np.setdiff1d(np.unique(g), known)
        if len(known) + len(new) > self._total():
            raise ValueError(
                f"{len(known) + len(new)} groups seen ({self._group_name} {known.tolist()} "
                f"held, {new.tolist()} new) but {self._total_param}={self._total()}.")

    _group_name = "task labels"

    def quotas(self) -> dict:
        """The current quota of each group seen so far."""
        groups = getattr(self, "groups_", np.zeros(0))
        q = _group_quotas(self.max_size, len(groups), self.adaptive_size, self._total())
        return dict(zip(groups.tolist(), q.tolist(), strict=True))

    def _select(self, keys, y, t, e) -> np.ndarray:
        g = self._group_of(y, t, e)
        known = getattr(self, "groups_", None)
        if known is None:
            known = g[:0]
        if len(g):
            _, first = np.unique(g, return_index=True)
            arrival = g[np.sort(first)]
            new = arrival[~np.isin(arrival, known)]
            known = np.concatenate([known, new]) if len(new) else known
        if not self.adaptive_size and len(known) > self._total():
            raise ValueError(f"{len(known)} groups seen but {self._total_param}="
                             f"{self._total()}.")
        self.groups_ = known
        sorter = np.argsort(known, kind="stable")
        codes = sorter[np.searchsorted(known, g, sorter=sorter)]
        # samples seen per group: stored + newly offered (counted once, on arrival)
        counts = getattr(self, "group_counts_", np.zeros(0, dtype=np.int64))
        counts = np.concatenate([counts, np.zeros(len(known) - len(counts), dtype=np.int64)])
        n_old = len(self.keys_) if hasattr(self, "keys_") else 0
        if len(keys) > n_old and keys is not getattr(self, "keys_", None):
            counts = counts + np.bincount(codes[n_old:], minlength=len(known))
        self.group_counts_ = counts
        quotas = _group_quotas(self.max_size, len(known), self.adaptive_size, self._total())
        return _top_per_group(np.asarray(keys), codes, quotas)

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {"max_size": 20, "random_state": 0}


class ExperienceBalancedBuffer(BalancedExemplarsBuffer):
    """One reservoir per experience, all with equal quotas (ReplayPlugin's default).

    Parameters
    ----------
    max_size : int, default=200
    adaptive_size : bool, default=True
        Split ``max_size`` over the experiences seen so far; otherwise over
        ``num_experiences``.
    num_experiences : int or None, default=None
    random_state : int, RandomState or None, default=None
    store_device : str, torch.device or None, default=None
        See :class:`~skcl.buffers.ExemplarsBuffer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.buffers import ExperienceBalancedBuffer
    >>> buf = ExperienceBalancedBuffer(max_size=10, random_state=0)
    >>> for k in range(4):
    ...     _ = buf.partial_fit(np.zeros((20, 3)), np.full(20, k))
    >>> np.bincount(buf.experience_ids_).tolist()
    [3, 3, 2, 2]
    """

    _total_param = "num_experiences"
    _group_name = "experiences"
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "num_experiences": [None, Interval("int", 1, None)],
    }

    def __init__(self, max_size: int = 200, *, adaptive_size: bool = True,
                 num_experiences: int | None = None, random_state=None, store_device=None):
        self.max_size = max_size
        self.adaptive_size = adaptive_size
        self.num_experiences = num_experiences
        self.random_state = random_state
        self.store_device = store_device

    def _group_of(self, y, t, e) -> np.ndarray:
        return e


class ClassBalancedBuffer(BalancedExemplarsBuffer):
    """One reservoir per class, all with equal quotas (GDumb's and CoPE's memory).

    A class seen again updates its own reservoir.

    Parameters
    ----------
    max_size : int, default=200
    adaptive_size : bool, default=True
        Split ``max_size`` over the classes seen so far; otherwise over
        ``total_num_classes``.
    total_num_classes : int or None, default=None
    random_state : int, RandomState or None, default=None
    store_device : str, torch.device or None, default=None
        See :class:`~skcl.buffers.ExemplarsBuffer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.buffers import ClassBalancedBuffer
    >>> buf = ClassBalancedBuffer(max_size=6, random_state=0)
    >>> _ = buf.partial_fit(np.zeros((40, 2)), np.repeat([0, 1], 20))
    >>> _ = buf.partial_fit(np.zeros((40, 2)), np.repeat([2, 3], 20))
    >>> np.bincount(buf.y_).tolist()
    [2, 2, 1, 1]
    """

    _total_param = "total_num_classes"
    _group_name = "classes"
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "total_num_classes": [None, Interval("int", 1, None)],
    }

    def __init__(self, max_size: int = 200, *, adaptive_size: bool = True,
                 total_num_classes: int | None = None, random_state=None, store_device=None):
        self.max_size = max_size
        self.adaptive_size = adaptive_size
        self.total_num_classes = total_num_classes
        self.random_state = random_state
        self.store_device = store_device

    def _group_of(self, y, t, e) -> np.ndarray:
        return y
