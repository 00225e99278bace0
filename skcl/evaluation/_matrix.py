"""`AccuracyMatrix`: R[i, j] = accuracy on test experience j after training experience i."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from skcl.evaluation import _cl_metrics as _m

__all__ = ["AccuracyMatrix"]


class AccuracyMatrix:
    """The accuracy matrix of a continual-learning run and the metrics derived from it.

    ``R[i, j]`` is the accuracy on test experience ``j`` after training
    experience ``i`` (0-based). Rows may be fewer than columns while the run
    is in progress; the metrics then use the last row ``k = n_rows - 1``.
    Entries not measured are ``nan``.

    With ``T`` test experiences, ``k`` the last trained experience and
    ``b_j`` the accuracy of the model at random initialization on
    experience ``j`` (``baseline``):

    * average accuracy (Lopez-Paz & Ranzato 2017, ACC):
      ``ACC = 1/(k+1) * sum_{j<=k} R[k, j]``, the mean accuracy over the
      experiences trained so far (over all ``T`` once the stream is done).
    * forgetting of experience ``j < k`` (Chaudhry et al. 2018):
      ``f_j = max_{l in [j, k-1]} R[l, j] - R[k, j]``; average forgetting
      ``F = 1/k * sum_{j<k} f_j``. Avalanche uses ``R[j, j] - R[k, j]``
      instead of the max; we follow the paper.
    * backward transfer (Lopez-Paz & Ranzato 2017):
      ``BWT = 1/k * sum_{j<k} (R[k, j] - R[j, j])`` (negative: forgetting).
    * forward transfer (Lopez-Paz & Ranzato 2017):
      ``FWT = 1/k * sum_{1<=j<=k} (R[j-1, j] - b_j)``; needs ``baseline``.

    Forgetting, BWT and FWT are ``nan`` when fewer than two experiences were
    trained. Each metric after ``k`` is the paper's formula on the first
    ``k + 1`` experiences (FWT averages over ``j <= k``, the experiences trained
    so far, not ``j <= k + 1``); the formulas live in one place,
    :mod:`skcl.evaluation._cl_metrics` (:func:`~skcl.evaluation.average_accuracy`,
    :func:`~skcl.evaluation.forgetting`, :func:`~skcl.evaluation.bwt`,
    :func:`~skcl.evaluation.fwt`), which the streaming metrics and the plots use too.

    Parameters
    ----------
    matrix : array-like of shape (n_trained, n_test)
        Accuracies in [0, 1].
    baseline : array-like of shape (n_test,), default=None
        Accuracy of the randomly initialized model on each test experience
        (for FWT).

    Examples
    --------
    >>> from skcl.evaluation import AccuracyMatrix
    >>> R = AccuracyMatrix([[0.9, 0.1], [0.6, 0.8]], baseline=[0.5, 0.5])
    >>> round(R.average_accuracy(), 3), round(R.average_forgetting(), 3)
    (0.7, 0.3)
    >>> round(R.bwt(), 3), round(R.fwt(), 3)
    (-0.3, -0.4)
    >>> AccuracyMatrix.from_json(R.to_json()) == R
    True
    """

    def __init__(self, matrix, baseline=None):
        R = np.asarray(matrix, dtype=float)
        if R.ndim != 2:
            raise ValueError(f"An accuracy matrix must be 2-dimensional; got shape {R.shape}.")
        self.matrix = R
        if baseline is not None:
            b = np.asarray(baseline, dtype=float)
            if b.shape != (R.shape[1],):
                raise ValueError(
                    f"baseline must have one entry per test experience ({R.shape[1]}); "
                    f"got shape {b.shape}.")
            baseline = b
        self.baseline = baseline

    # ------------------------------------------------------------------ #
    @property
    def n_trained(self) -> int:
        """Number of rows (experiences trained)."""
        return self.matrix.shape[0]

    @property
    def n_test(self) -> int:
        """Number of columns (test experiences)."""
        return self.matrix.shape[1]

    def _k(self, after: int | None) -> int:
        k = self.n_trained - 1 if after is None else int(after)
        if not 0 <= k < self.n_trained:
            raise ValueError(f"after={after} is outside the {self.n_trained} trained experiences.")
        return k

    def average_accuracy(self, after: int | None = None) -> float:
        """ACC after training experience ``after`` (default: the last); see
        :func:`~skcl.evaluation.average_accuracy`."""
        return _m.average_accuracy(self.matrix, after)

    def average_accuracies(self) -> np.ndarray:
        """ACC after each trained experience (a curve of length ``n_trained``)."""
        return _m.average_accuracies(self.matrix)

    def forgetting(self, after: int | None = None) -> np.ndarray:
        """Per-experience forgetting ``f_j`` (Chaudhry et al. 2018) for ``j < k``; see
        :func:`~skcl.evaluation.forgetting`."""
        return _m.forgetting(self.matrix, after)

    def average_forgetting(self, after: int | None = None) -> float:
        """Mean forgetting over the experiences before ``after`` (nan if none)."""
        return _m.average_forgetting(self.matrix, after)

    def bwt(self, after: int | None = None) -> float:
        """Backward transfer (Lopez-Paz & Ranzato 2017); nan with one row; see
        :func:`~skcl.evaluation.bwt`."""
        return _m.bwt(self.matrix, after)

    def fwt(self, after: int | None = None) -> float:
        """Forward transfer (Lopez-Paz & Ranzato 2017) over ``1 <= j <= k``; nan without a
        baseline or with one row; see :func:`~skcl.evaluation.fwt`."""
        self._k(after)
        return _m.fwt(self.matrix, self.baseline, after)

    def summary(self) -> dict[str, float]:
        """The scalar metrics after the last trained experience."""
        return {
            "average_accuracy": self.average_accuracy(),
            "average_forgetting": self.average_forgetting(),
            "bwt": self.bwt(),
            "fwt": self.fwt(),
        }

    # ------------------------------------------------------------------ #
    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (``nan`` becomes ``None``); see :meth:`from_dict`."""

        def clean(a):
            return [None if not np.isfinite(v) else float(v) for v in np.ravel(a)]

        out: dict[str, Any] = {
            "matrix": [clean(row) for row in self.matrix],
            "baseline": None if self.baseline is None else clean(self.baseline),
        }
        out.update({k: (None if not np.isfinite(v) else v) for k, v in self.summary().items()})
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AccuracyMatrix:
        """Rebuild from :meth:`to_dict`'s output (derived fields are recomputed)."""

        def back(a: Sequence) -> list[float]:
            return [float("nan") if v is None else float(v) for v in a]

        matrix = [back(row) for row in d["matrix"]]
        if not matrix:
            matrix = np.zeros((0, 0))
        baseline = d.get("baseline")
        return cls(matrix, None if baseline is None else back(baseline))

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> AccuracyMatrix:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def __eq__(self, other) -> bool:
        if not isinstance(other, AccuracyMatrix):
            return NotImplemented
        same_b = (self.baseline is None and other.baseline is None) or (
            self.baseline is not None and other.baseline is not None
            and np.allclose(self.baseline, other.baseline, equal_nan=True))
        return (self.matrix.shape == other.matrix.shape and same_b
                and np.allclose(self.matrix, other.matrix, equal_nan=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        acc = self.average_accuracy() if self.n_trained else float("nan")
        return (f"AccuracyMatrix(n_trained={self.n_trained}, n_test={self.n_test}, "
                f"average_accuracy={acc:.3f})")

    # ------------------------------------------------------------------ #
    def plot(self, ax=None, *, title: str | None = None, annotate: bool = True,
             cmap="viridis", **kwargs):
        """Draw the matrix as a heatmap; see :func:`~skcl.evaluation.plot_accuracy_matrix`.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from skcl.evaluation import AccuracyMatrix
        >>> ax = AccuracyMatrix([[0.9, 0.1], [0.6, 0.8]]).plot(title="demo")
        >>> ax.get_title()
        'demo'
        """
        from skcl.evaluation._plot import plot_accuracy_matrix

        return plot_accuracy_matrix(self, ax, title=title, annotate=annotate, cmap=cmap,
                                    **kwargs)
