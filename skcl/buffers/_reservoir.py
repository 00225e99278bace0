"""Reservoir sampling: a uniform sample of everything seen."""

from __future__ import annotations

import numpy as np

from skcl.buffers._base import ExemplarsBuffer

__all__ = ["ReservoirSamplingBuffer"]


class ReservoirSamplingBuffer(ExemplarsBuffer):
    """Keep a uniform random sample of every sample seen so far.

    Each sample gets a random key drawn from U(0, 1) when it arrives; the
    buffer keeps the ``max_size`` largest keys over memory ∪ new data, so
    every sample seen has the same chance to be held. :meth:`resize` keeps
    the largest keys.

    Parameters
    ----------
    max_size : int, default=200
    random_state : int, RandomState or None, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.buffers import ReservoirSamplingBuffer
    >>> buf = ReservoirSamplingBuffer(max_size=10, random_state=0)
    >>> for k in range(3):
    ...     _ = buf.partial_fit(np.full((8, 2), k, dtype="float32"), np.full(8, k))
    >>> len(buf), buf.n_seen_, buf.X_.dtype
    (10, 24, dtype('float32'))
    """

    def _new_keys(self, X, y, t, e, n_old: int) -> np.ndarray:
        return np.concatenate([self.keys_, self.rng_.random(len(y) - n_old)])

    def _select(self, keys, y, t, e) -> np.ndarray:
        if len(keys) <= self.max_size:
            return np.arange(len(keys))
        top = np.argpartition(-keys, self.max_size - 1)[: self.max_size]
        return np.sort(top)
