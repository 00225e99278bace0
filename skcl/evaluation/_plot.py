"""Plots shared by the runner and users: average accuracy after each experience."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from skcl.evaluation._matrix import AccuracyMatrix

__all__ = ["plot_average_accuracy"]


def plot_average_accuracy(matrices: Mapping[str, AccuracyMatrix], ax=None, *,
                          title: str | None = "Average accuracy after each experience"):
    """One line per strategy: ACC after training experience i, for every i.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcl.evaluation import AccuracyMatrix, plot_average_accuracy
    >>> ax = plot_average_accuracy({"a": AccuracyMatrix([[1.0, 0.0], [0.5, 1.0]])})
    >>> [line.get_label() for line in ax.get_lines()]
    ['a']
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    n_max = 1
    for name, R in matrices.items():
        curve = R.average_accuracies()
        xs = np.arange(len(curve))
        ax.plot(xs, curve, marker="o", label=name)
        n_max = max(n_max, len(curve))
    ax.set_xticks(range(n_max))
    ax.set_xlabel("after training experience")
    ax.set_ylabel("average accuracy on experiences seen")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    if matrices:
        ax.legend(loc="best", fontsize=9)
    if title:
        ax.set_title(title)
    return ax
