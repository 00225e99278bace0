"""Plots shared by the runner and users: the accuracy matrix and the ACC curves.

Made to be read without a guide: cells of experiences not trained yet are
hatched (not ``0.00``), averages over seeds show their spread and the number
of seeds, columns averaged over seeds whose class order differs say so, and
overlapping curves stay visible (a marker and a line style per curve, small
horizontal offsets). Every number comes from :mod:`skcl.evaluation._cl_metrics`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from skcl.evaluation import _cl_metrics as cl
from skcl.evaluation._matrix import AccuracyMatrix

__all__ = ["SeedAverage", "average_over_seeds", "plot_accuracy_matrix", "plot_average_accuracy"]

_MARKERS = "osD^v<>ph*P"
_LINESTYLES = ("-", "--", "-.", ":")


@dataclass
class SeedAverage:
    """Mean and spread of the accuracy matrices of several seeds (see :func:`average_over_seeds`).

    ``mean`` is the cell-wise mean (an :class:`AccuracyMatrix`), ``std`` the
    cell-wise standard deviation, ``curves`` the ACC curve of each seed (one
    row per seed; for a single row over several experiences, a model trained
    on the whole stream, the mean of that row), ``same_order`` whether every
    seed's stream had the same classes in each experience (``None``: not
    given), ``note`` a sentence to show beside the matrix (or ``None``).
    """

    mean: AccuracyMatrix
    std: np.ndarray
    curves: np.ndarray
    n_seeds: int
    same_order: bool | None
    note: str | None


def _matrix(R) -> AccuracyMatrix:
    return R if isinstance(R, AccuracyMatrix) else AccuracyMatrix(R)


def _joint(R: AccuracyMatrix) -> bool:
    """A single row over several experiences: a model trained on the whole stream at once."""
    return R.n_trained == 1 and R.n_test > 1


def _acc_curve(R: AccuracyMatrix) -> np.ndarray:
    # A model trained on the whole stream at once is scored on every experience.
    return np.array([np.mean(R.matrix[0])]) if _joint(R) else cl.average_accuracies(R.matrix)


def average_over_seeds(matrices: Sequence, *, experience_classes: Sequence | None = None
                       ) -> SeedAverage:
    """Average the accuracy matrices of several seeds, cell by cell, and say what that means.

    Column ``j`` of a matrix is the ``j``-th experience of that seed's stream.
    When the seed also changes which classes go into which experience, the
    cells of column ``j`` average different classes: only the ACC curve and
    the summary metrics (forgetting, BWT, FWT) stay comparable. The result's
    ``note`` says so, and the plots show it.

    Parameters
    ----------
    matrices : sequence of AccuracyMatrix or array-like, all of one shape
    experience_classes : sequence, default=None
        One entry per seed: the classes of each experience of its stream
        (e.g. ``[exp.classes for exp in test]``). Used to tell whether the
        class order differs between seeds.

    Returns
    -------
    SeedAverage

    Examples
    --------
    >>> from skcl.evaluation import average_over_seeds
    >>> avg = average_over_seeds([[[0.8, 0.0], [0.6, 0.9]], [[1.0, 0.0], [0.4, 0.9]]],
    ...                          experience_classes=[[(0, 1), (2, 3)], [(2, 3), (0, 1)]])
    >>> avg.mean.matrix.round(2).tolist(), avg.std.round(2).tolist()
    ([[0.9, 0.0], [0.5, 0.9]], [[0.1, 0.0], [0.1, 0.0]])
    >>> avg.same_order, avg.note.split(":")[0]
    (False, 'Class order differs across the 2 seeds')
    """
    mats = [_matrix(R) for R in matrices]
    if not mats:
        raise ValueError("average_over_seeds needs at least one accuracy matrix.")
    shapes = {R.matrix.shape for R in mats}
    if len(shapes) > 1:
        raise ValueError(f"The matrices of the seeds differ in shape: {sorted(shapes)}.")
    stack = np.stack([R.matrix for R in mats])
    baselines = [R.baseline for R in mats]
    baseline = None if any(b is None for b in baselines) else np.mean(baselines, axis=0)
    n = len(mats)
    same = None
    if experience_classes is not None:
        if len(experience_classes) != n:
            raise ValueError(f"experience_classes has {len(experience_classes)} entries for "
                             f"{n} matrices.")
        orders = [tuple(tuple(sorted(np.asarray(c).tolist())) for c in seed)
                  for seed in experience_classes]
        same = all(o == orders[0] for o in orders)
    note = None
    if n > 1 and same is False:
        note = (f"Class order differs across the {n} seeds: column j averages each seed's j-th "
                "experience, which holds different classes; compare the ACC curve and the "
                "summary metrics, not single cells.")
    elif n > 1 and same is None:
        note = (f"Mean of {n} seeds, column by column (experience position); the class order "
                "of each seed was not given.")
    return SeedAverage(
        mean=AccuracyMatrix(np.mean(stack, axis=0), baseline=baseline),
        std=np.std(stack, axis=0),
        curves=np.stack([_acc_curve(R) for R in mats]),
        n_seeds=n,
        same_order=same,
        note=note,
    )


def plot_accuracy_matrix(R, ax=None, *, std=None, n_seeds: int | None = None,
                         note: str | None = None, title: str | None = None,
                         annotate: bool = True, cmap="viridis", incremental: bool | None = None,
                         show_untrained: bool = False):
    """Draw an accuracy matrix as a heatmap (rows: after training, columns: tested on).

    Cells ``(i, j)`` with ``j > i`` (experience ``j`` not trained yet) are
    hatched and carry no number, unless ``show_untrained``; cells that could
    not be measured (``nan``, e.g. a task the model cannot answer) read
    ``n/a``. With ``std`` each cell also shows ``±std``, and the title says
    how many seeds were averaged.

    Parameters
    ----------
    R : AccuracyMatrix, array-like or SeedAverage
        A :class:`SeedAverage` brings its own ``std``, ``n_seeds`` and ``note``.
    ax : matplotlib Axes, default=None
    std : array-like of R's shape, default=None
        Spread over seeds, drawn under each value.
    n_seeds : int, default=None
        Number of seeds averaged (added to the title when > 1).
    note : str, default=None
        A sentence printed under the matrix (e.g. that the class order
        differs across seeds).
    title : str, default=None
    annotate : bool, default=True
        Write the value in each cell.
    cmap : colormap, default="viridis"
    incremental : bool, default=None
        Whether row ``i`` was trained on experiences ``0..i`` only (hatching
        the later ones). ``False`` for a model trained on the whole stream at
        once (``JointTraining``). ``None``: ``False`` for a single row over
        several experiences, ``True`` otherwise.
    show_untrained : bool, default=False
        Draw the values of the cells not trained yet (greyed).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcl.evaluation import plot_accuracy_matrix
    >>> ax = plot_accuracy_matrix([[0.9, 0.0], [0.6, 0.8]], title="demo")
    >>> sorted(t.get_text() for t in ax.texts)
    ['0.60', '0.80', '0.90']
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if isinstance(R, SeedAverage):
        std = R.std if std is None else std
        n_seeds = R.n_seeds if n_seeds is None else n_seeds
        note = R.note if note is None else note
        R = R.mean
    R = _matrix(R)
    M = R.matrix
    n_rows, n_cols = M.shape
    if incremental is None:
        incremental = not _joint(R)
    untrained = np.zeros(M.shape, dtype=bool)
    if incremental:
        untrained = np.arange(n_cols)[None, :] > np.arange(n_rows)[:, None]
    if std is not None:
        std = np.asarray(std, dtype=float)
        if std.shape != M.shape:
            raise ValueError(f"std has shape {std.shape}; the matrix has {M.shape}.")
    if ax is None:
        width = max(4.5, (1.0 if std is not None else 0.8) * n_cols + 3)
        height = max(2.5, 0.7 * n_rows + 1.8 + (0.5 if note else 0.0))
        _, ax = plt.subplots(figsize=(width, height))
    shown = np.ma.masked_where(~np.isfinite(M) | (untrained & ~show_untrained), M)
    im = ax.imshow(shown, vmin=0.0, vmax=1.0, cmap=cmap, aspect="equal")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="accuracy")
    for i, j in zip(*np.nonzero(untrained)):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=not show_untrained,
                               facecolor="0.92", edgecolor="0.6", hatch="///", linewidth=0))
    ax.set_xticks(range(n_cols))
    ax.set_yticks(range(n_rows))
    ax.set_xlabel("tested on experience j")
    ax.set_ylabel("after training experience i")
    if annotate:
        for i in range(n_rows):
            for j in range(n_cols):
                v = M[i, j]
                if untrained[i, j] and not show_untrained:
                    continue
                if not np.isfinite(v):
                    ax.text(j, i, "n/a", ha="center", va="center", fontsize=8, color="0.3")
                    continue
                text = f"{v:.2f}"
                if std is not None and np.isfinite(std[i, j]):
                    text += f"\n±{std[i, j]:.2f}"
                color = "0.35" if untrained[i, j] else ("black" if v > 0.6 else "white")
                ax.text(j, i, text, ha="center", va="center",
                        fontsize=8 if std is not None else 9, color=color,
                        fontstyle="italic" if untrained[i, j] else "normal")
    if n_seeds is not None and n_seeds > 1:
        suffix = f"mean ± std of {n_seeds} seeds"
        title = suffix if title is None else f"{title}\n({suffix})"
    if title is not None:
        ax.set_title(title, fontsize=10)
    if note:
        ax.annotate("\n".join(textwrap.wrap(note, 70)), xy=(0.5, 0), xycoords="axes fraction",
                    xytext=(0, -40), textcoords="offset points", ha="center", va="top",
                    fontsize=7, color="0.25")
    return ax


def _curves(entry) -> tuple[np.ndarray, bool]:
    """(one ACC curve per seed, whether trained incrementally) for one plotted entry."""
    if isinstance(entry, SeedAverage):
        return entry.curves, not _joint(entry.mean)
    mats = [entry] if isinstance(entry, AccuracyMatrix) or np.ndim(entry) == 2 else list(entry)
    mats = [_matrix(R) for R in mats]
    lengths = {R.n_trained for R in mats}
    if len(lengths) > 1:
        raise ValueError(f"The seeds of one entry trained different numbers of experiences: "
                         f"{sorted(lengths)}.")
    return np.stack([_acc_curve(R) for R in mats]), not _joint(mats[0])


def plot_average_accuracy(matrices: Mapping[str, object], ax=None, *,
                          title: str | None = "Average accuracy after each experience",
                          dodge: bool = True):
    """One curve per entry: ACC after training experience i, for every i.

    Parameters
    ----------
    matrices : mapping of str to AccuracyMatrix, list of AccuracyMatrix, or SeedAverage
        One entry per strategy. A list (one matrix per seed) or a
        :class:`SeedAverage` is drawn as its mean with a band of ±1 standard
        deviation, its label saying how many seeds. A single row over
        several experiences (a model trained on the whole stream at once) is
        drawn as a dashed level with a star at the end.
    ax : matplotlib Axes, default=None
    title : str, default="Average accuracy after each experience"
    dodge : bool, default=True
        Shift curves by small horizontal offsets (at most ±0.15 of an
        experience) so equal curves stay visible; each curve also has its
        own marker and line style.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcl.evaluation import AccuracyMatrix, plot_average_accuracy
    >>> seeds = [AccuracyMatrix([[1.0, 0.0], [0.5, 1.0]]), AccuracyMatrix([[0.8, 0.0], [0.5, 0.9]])]
    >>> ax = plot_average_accuracy({"a": AccuracyMatrix([[1.0, 0.0], [0.5, 1.0]]), "b": seeds})
    >>> [line.get_label() for line in ax.get_lines()]
    ['a', 'b (mean ± std, 2 seeds)']
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    entries = [(name, *_curves(entry)) for name, entry in matrices.items()]
    n_max = max([c.shape[1] for _, c, inc in entries if inc] +
                [_matrix_width(matrices[name]) for name, _, inc in entries if not inc] + [1])
    n_curves = len(entries)
    step = min(0.08, 0.3 / max(n_curves - 1, 1)) if dodge and n_curves > 1 else 0.0
    colors = plt.get_cmap("tab10" if n_curves <= 10 else "tab20").colors
    for i, (name, curves, incremental) in enumerate(entries):
        color = colors[i % len(colors)]
        n = curves.shape[0]
        mean = curves.mean(axis=0)
        label = name if n == 1 else f"{name} (mean ± std, {n} seeds)"
        if not incremental:
            ax.axhline(mean[-1], linestyle="--", color=color, alpha=0.6)
            ax.plot([n_max - 1], [mean[-1]], marker="*", markersize=12, linestyle="none",
                    color=color, label=f"{label} (whole stream)")
            continue
        xs = np.arange(curves.shape[1]) + (i - (n_curves - 1) / 2) * step
        ax.plot(xs, mean, marker=_MARKERS[i % len(_MARKERS)],
                linestyle=_LINESTYLES[(i // len(_MARKERS) + i) % len(_LINESTYLES)],
                color=color, label=label, alpha=0.9)
        if n > 1:
            sd = curves.std(axis=0)
            ax.fill_between(xs, mean - sd, mean + sd, color=color, alpha=0.15, linewidth=0)
    ax.set_xticks(range(n_max))
    xlabel = "after training experience"
    if step:
        xlabel += " (curves offset slightly so overlapping ones stay visible)"
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel("average accuracy on experiences seen")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    if entries:
        ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def _matrix_width(entry) -> int:
    if isinstance(entry, SeedAverage):
        return entry.mean.n_test
    if isinstance(entry, AccuracyMatrix) or np.ndim(entry) == 2:
        return _matrix(entry).n_test
    return _matrix(list(entry)[0]).n_test
