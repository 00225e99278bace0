"""`ParametricBuffer`: groups ranked by an exemplar selection strategy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from skcl.buffers._balanced import BalancedExemplarsBuffer
from skcl.buffers._storage import _take, _to_numpy
from skcl.selection import ExemplarsSelectionStrategy
from skcl.utils import Options

__all__ = ["ParametricBuffer"]

_GROUPBY = (None, "class", "task", "experience")


class ParametricBuffer(BalancedExemplarsBuffer):
    """A balanced buffer whose groups keep the samples a selection strategy ranks first.

    Samples are grouped by nothing, class, task label or experience id; the
    capacity is split evenly over the groups seen so far (always adaptive).
    When a group receives new samples it re-ranks old ∪ new with
    ``selection_strategy`` and keeps the top of the ranking; :meth:`resize`
    and shrinking keep the best-ranked ones.

    Parameters
    ----------
    max_size : int, default=200
    groupby : {None, "class", "task", "experience"}, default=None
    selection_strategy : ExemplarsSelectionStrategy or None, default=None
        ``None`` ranks at random (:class:`~skcl.selection.RandomExemplarsSelectionStrategy`).
    random_state : int, RandomState or None, default=None
    store_device : str, torch.device or None, default=None
        See :class:`~skcl.buffers.ExemplarsBuffer`.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skcl.buffers import ParametricBuffer
    >>> from skcl.selection import ClosestToCenterSelectionStrategy
    >>> sel = ClosestToCenterSelectionStrategy(torch.nn.Identity(), "")
    >>> buf = ParametricBuffer(max_size=2, groupby="class", selection_strategy=sel)
    >>> X = np.array([[0.0], [1.0], [5.0], [10.0], [11.0], [30.0]], dtype="float32")
    >>> _ = buf.partial_fit(X, np.array([0, 0, 0, 1, 1, 1]))
    >>> buf.X_.ravel().tolist()  # the sample closest to each class mean
    [1.0, 11.0]
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "groupby": [Options(*_GROUPBY)],
        "selection_strategy": [None, ExemplarsSelectionStrategy],
    }

    def __init__(self, max_size: int = 200, *, groupby: str | None = None,
                 selection_strategy=None, random_state=None, store_device=None):
        self.max_size = max_size
        self.groupby = groupby
        self.selection_strategy = selection_strategy
        self.random_state = random_state
        self.store_device = store_device

    adaptive_size = True
    _needs_candidates = True
    _total_param = "max_size"  # unused: always adaptive

    def _check_relations(self, display: Callable[[str], str], owner: str) -> None:
        super()._check_relations(display, owner)
        if self.selection_strategy is not None:  # its own declared parameters
            self.selection_strategy.validate_parameters()

    def _group_of(self, y, t, e) -> np.ndarray:
        if self.groupby is None:
            return np.zeros(len(y), dtype=np.int64)
        return {"class": y, "task": t, "experience": e}[self.groupby]

    def _new_keys(self, X, y, t, e, n_old: int) -> np.ndarray:
        from skcl.selection import RandomExemplarsSelectionStrategy

        selection = (RandomExemplarsSelectionStrategy() if self.selection_strategy is None
                     else self.selection_strategy)
        g = self._group_of(_to_numpy(y), _to_numpy(t), _to_numpy(e))
        keys = np.concatenate([self.keys_, np.zeros(len(g) - n_old)])
        for group in np.unique(g[n_old:]):
            cand = np.flatnonzero(g == group)
            order = np.asarray(selection.make_sorted_indices(
                _take(X, cand), _take(y, cand), rng=self.rng_))
            keys[cand[order]] = -np.arange(len(order), dtype=float)
        return keys

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {"max_size": 20, "groupby": "class", "random_state": 0}
