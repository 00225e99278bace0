"""Continual-learning metrics as pure functions of the accuracy matrix (the one source of truth).

Every place that reports ACC, forgetting, BWT or FWT (the streaming metrics of
an :class:`~skcl.evaluation.EvaluationPlugin`, :class:`~skcl.evaluation.AccuracyMatrix`,
the plots and the experiment reports) calls these functions; none recomputes them.

Notation (0-based): ``R[i, j]`` is the accuracy on test experience ``j`` after
training experience ``i``; ``T`` test experiences (columns); ``k`` the
experience after which the metric is read (``after``, default the last row);
``b_j`` the accuracy on experience ``j`` of the model as initialized.

Every metric after ``k`` is the paper's formula applied to the prefix of the
stream made of the first ``k + 1`` experiences, so it only involves
experiences trained so far, and after the whole stream it is exactly the
paper's value. Entries a run could not measure are ``nan`` and propagate
(an average with a ``nan`` term is ``nan``: the metric is not evaluable).

References
----------
.. [LR17] D. Lopez-Paz and M. Ranzato, "Gradient Episodic Memory for Continual
   Learning", NeurIPS 2017 (ACC, BWT, FWT; section 2).
.. [C18] A. Chaudhry, P. K. Dokania, T. Ajanthan and P. H. S. Torr, "Riemannian Walk
   for Incremental Learning: Understanding Forgetting and Intransigence", ECCV 2018
   (forgetting, eq. 2-3).
.. [DR18] N. Díaz-Rodríguez, V. Lomonaco, D. Filliat and D. Maltoni, "Don't forget,
   there is more than forgetting: new metrics for Continual Learning", NeurIPS 2018
   workshop (BWT and FWT over the accuracy matrix; their FWT averages the whole upper
   triangle without a baseline, which we do not use).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "average_accuracy",
    "average_accuracies",
    "forgetting",
    "average_forgetting",
    "backward_transfer",
    "bwt",
    "forward_transfer",
    "fwt",
]


def _as_matrix(R) -> np.ndarray:
    R = np.asarray(getattr(R, "matrix", R), dtype=float)
    if R.ndim != 2:
        raise ValueError(f"An accuracy matrix must be 2-dimensional; got shape {R.shape}.")
    return R


def _row(R: np.ndarray, after: int | None) -> int:
    k = R.shape[0] - 1 if after is None else int(after)
    if not 0 <= k < R.shape[0]:
        raise ValueError(f"after={after} is outside the {R.shape[0]} trained experiences.")
    return k


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def average_accuracy(R, after: int | None = None) -> float:
    """ACC [LR17]: mean accuracy over the experiences trained so far.

    ``ACC_k = 1/(k+1) * sum_{j=0}^{k} R[k, j]`` (columns beyond ``T`` are
    ignored, for a row measured on a shorter test stream).

    Examples
    --------
    >>> from skcl.evaluation import average_accuracy
    >>> average_accuracy([[0.9, 0.1], [0.6, 0.8]])
    0.7
    >>> average_accuracy([[0.9, 0.1], [0.6, 0.8]], after=0)
    0.9
    """
    R = _as_matrix(R)
    k = _row(R, after)
    return float(np.mean(R[k, : min(k + 1, R.shape[1])]))


def average_accuracies(R) -> np.ndarray:
    """ACC after each trained experience: ``[ACC_0, ..., ACC_{n_rows-1}]``.

    Examples
    --------
    >>> from skcl.evaluation import average_accuracies
    >>> average_accuracies([[0.9, 0.1], [0.6, 0.8]]).round(2).tolist()
    [0.9, 0.7]
    """
    R = _as_matrix(R)
    return np.array([average_accuracy(R, k) for k in range(R.shape[0])])


def forgetting(R, after: int | None = None) -> np.ndarray:
    """Per-experience forgetting [C18], eq. 2: entry ``j`` for ``0 <= j < k``.

    ``f_j = max_{l in [j, k-1]} R[l, j] - R[k, j]``: the best accuracy the
    experience ever had (from the moment it was trained) minus the accuracy
    now. Avalanche subtracts ``R[j, j]`` instead of the maximum; this follows
    the paper. Negative values mean the experience improved (backward
    transfer), e.g. with prototype classifiers such as CoPE.

    Examples
    --------
    >>> from skcl.evaluation import forgetting
    >>> forgetting([[0.6, 0.0, 0.0], [0.95, 0.9, 0.0], [0.5, 0.9, 0.9]]).round(2).tolist()
    [0.45, 0.0]
    """
    R = _as_matrix(R)
    k = _row(R, after)
    return np.array([np.max(R[j:k, j]) - R[k, j] for j in range(min(k, R.shape[1]))],
                    dtype=float)


def average_forgetting(R, after: int | None = None) -> float:
    """Average forgetting [C18], eq. 3: ``F_k = 1/k * sum_{j<k} f_j`` (nan when ``k = 0``).

    Examples
    --------
    >>> from skcl.evaluation import average_forgetting
    >>> round(average_forgetting([[0.9, 0.1], [0.6, 0.8]]), 3)
    0.3
    """
    return _mean(forgetting(R, after))


def backward_transfer(R, after: int | None = None) -> np.ndarray:
    """Per-experience backward transfer [LR17]: entry ``j`` is ``R[k, j] - R[j, j]``, ``j < k``.

    Examples
    --------
    >>> from skcl.evaluation import backward_transfer
    >>> backward_transfer([[0.9, 0.1], [0.6, 0.8]]).round(2).tolist()
    [-0.3]
    """
    R = _as_matrix(R)
    k = _row(R, after)
    return np.array([R[k, j] - R[j, j] for j in range(min(k, R.shape[1]))], dtype=float)


def bwt(R, after: int | None = None) -> float:
    """BWT [LR17]: ``BWT_k = 1/k * sum_{j<k} (R[k, j] - R[j, j])`` (nan when ``k = 0``).

    Negative values mean forgetting.

    Examples
    --------
    >>> from skcl.evaluation import bwt
    >>> round(bwt([[0.9, 0.1], [0.6, 0.8]]), 3)
    -0.3
    """
    return _mean(backward_transfer(R, after))


def forward_transfer(R, baseline, after: int | None = None) -> np.ndarray:
    """Per-experience forward transfer [LR17]: ``R[j-1, j] - b_j`` for ``1 <= j <= k``.

    Entry ``i`` of the result is experience ``j = i + 1``: the accuracy on
    experience ``j`` just before training it, minus that of the model as
    initialized. Only experiences already trained count (``j <= k``), so the
    value after ``k`` is the paper's FWT on the first ``k + 1`` experiences.

    Examples
    --------
    >>> from skcl.evaluation import forward_transfer
    >>> R = [[0.9, 0.2, 0.1], [0.7, 0.8, 0.3], [0.5, 0.9, 0.6]]
    >>> forward_transfer(R, [0.1, 0.1, 0.2]).round(2).tolist()
    [0.1, 0.1]
    >>> forward_transfer(R, [0.1, 0.1, 0.2], after=1).round(2).tolist()
    [0.1]
    """
    R = _as_matrix(R)
    k = _row(R, after)
    b = np.asarray(baseline, dtype=float)
    if b.shape != (R.shape[1],):
        raise ValueError(f"baseline must have one entry per test experience ({R.shape[1]}); "
                         f"got shape {b.shape}.")
    return np.array([R[j - 1, j] - b[j] for j in range(1, min(k, R.shape[1] - 1) + 1)],
                    dtype=float)


def fwt(R, baseline, after: int | None = None) -> float:
    """FWT [LR17]: ``FWT_k = 1/k * sum_{j=1}^{k} (R[j-1, j] - b_j)``.

    ``nan`` without a baseline or when ``k = 0``. After the whole stream
    (``k = T - 1``) this is the paper's ``1/(T-1) * sum_{i=2}^{T} (R_{i-1,i} - b_i)``.

    Examples
    --------
    >>> from skcl.evaluation import fwt
    >>> round(fwt([[0.9, 0.1], [0.6, 0.8]], [0.5, 0.5]), 3)
    -0.4
    """
    if baseline is None:
        return float("nan")
    return _mean(forward_transfer(R, baseline, after))
