"""Plots a reader can trust (issue 15 section 2): hatched untrained cells, seed spread,
class-order notes, overlapping curves kept visible."""

import matplotlib
import numpy as np
import pytest

from skcl.evaluation import (
    AccuracyMatrix,
    SeedAverage,
    average_accuracies,
    average_over_seeds,
    plot_accuracy_matrix,
    plot_average_accuracy,
)

matplotlib.use("Agg")

SEEDS = [np.array([[0.9, 0.0, 0.0], [0.5, 0.8, 0.0], [0.3, 0.4, 0.9]]),
         np.array([[0.7, 0.0, 0.0], [0.6, 0.9, 0.0], [0.2, 0.5, 0.8]]),
         np.array([[0.8, 0.0, 0.0], [0.4, 0.7, 0.0], [0.4, 0.3, 0.7]])]


def _hatched(ax):
    return [p for p in ax.patches if p.get_hatch() == "///"]


def test_average_over_seeds_gives_mean_spread_and_class_order_note():
    same = average_over_seeds(SEEDS, experience_classes=[[(0, 1), (2, 3), (4, 5)]] * 3)
    np.testing.assert_allclose(same.mean.matrix, np.mean(SEEDS, axis=0))
    np.testing.assert_allclose(same.std, np.std(SEEDS, axis=0))
    np.testing.assert_allclose(same.curves, [average_accuracies(R) for R in SEEDS])
    assert same.n_seeds == 3 and same.same_order is True and same.note is None
    shuffled = average_over_seeds(SEEDS, experience_classes=[
        [(0, 1), (2, 3), (4, 5)], [(2, 3), (0, 1), (4, 5)], [(0, 1), (2, 3), (4, 5)]])
    assert shuffled.same_order is False and "Class order differs" in shuffled.note
    unknown = average_over_seeds(SEEDS)
    assert unknown.same_order is None and "not given" in unknown.note
    assert average_over_seeds(SEEDS[:1]).note is None  # one seed: nothing averaged
    with pytest.raises(ValueError, match="shape"):
        average_over_seeds([SEEDS[0], SEEDS[0][:2]])
    with pytest.raises(ValueError, match="experience_classes"):
        average_over_seeds(SEEDS, experience_classes=[[(0,)]])


def test_matrix_plot_hatches_untrained_cells_and_shows_spread():
    avg = average_over_seeds(SEEDS, experience_classes=[
        [(0, 1), (2, 3), (4, 5)], [(2, 3), (0, 1), (4, 5)], [(0, 1), (2, 3), (4, 5)]])
    ax = plot_accuracy_matrix(avg, title="Naive")
    assert len(_hatched(ax)) == 3  # (0,1), (0,2), (1,2): not trained yet
    cells = [t.get_text() for t in ax.texts if "\n±" in t.get_text()]
    assert len(cells) == 6 and "0.80\n±0.08" in cells  # R[0,0] = mean 0.8, std 0.0816
    assert "0.00" not in " ".join(t.get_text() for t in ax.texts)
    assert "3 seeds" in ax.get_title() and "Naive" in ax.get_title()
    assert any("Class order differs" in t.get_text().replace("\n", " ") for t in ax.texts)


def test_matrix_plot_not_evaluable_and_joint():
    ax = plot_accuracy_matrix(AccuracyMatrix([[0.9, np.nan], [0.6, 0.8]]))
    assert sorted(t.get_text() for t in ax.texts) == ["0.60", "0.80", "0.90"]
    ax = plot_accuracy_matrix([[0.9, np.nan], [np.nan, 0.8]])
    assert "n/a" in [t.get_text() for t in ax.texts]  # trained but not measurable
    joint = plot_accuracy_matrix([[0.9, 0.8, 0.7]])  # one row over the whole stream
    assert not _hatched(joint) and len(joint.texts) == 3
    forced = plot_accuracy_matrix([[0.9, 0.8, 0.7]], incremental=True)
    assert len(_hatched(forced)) == 2
    with pytest.raises(ValueError, match="std"):
        plot_accuracy_matrix(SEEDS[0], std=np.zeros((2, 2)))


def test_average_accuracy_plot_keeps_overlapping_curves_visible():
    same = AccuracyMatrix(SEEDS[0])
    ax = plot_average_accuracy({"EWC": same, "Naive": same, "seeds": SEEDS,
                                "avg": average_over_seeds(SEEDS),
                                "Joint": AccuracyMatrix([[0.9, 0.8, 0.7]])})
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    ewc, naive = lines["EWC"], lines["Naive"]
    np.testing.assert_allclose(ewc.get_ydata(), naive.get_ydata())  # equal values ...
    assert ewc.get_marker() != naive.get_marker()                   # ... drawn distinctly
    assert ewc.get_linestyle() != naive.get_linestyle()
    assert not np.allclose(ewc.get_xdata(), naive.get_xdata())
    assert np.max(np.abs(ewc.get_xdata() - np.arange(3))) <= 0.15 + 1e-12  # float rounding
    assert "offset" in ax.get_xlabel()
    seeds = lines["seeds (mean ± std, 3 seeds)"]
    np.testing.assert_allclose(seeds.get_ydata(),
                               np.mean([average_accuracies(R) for R in SEEDS], axis=0))
    assert "avg (mean ± std, 3 seeds)" in lines
    assert len(ax.collections) == 2  # one ±std band per multi-seed entry
    # a model trained on the whole stream: a level at the mean of its row (0.8), not R[0, 0]
    np.testing.assert_allclose(lines["Joint (whole stream)"].get_ydata(), [0.8])
    undodged = plot_average_accuracy({"a": same, "b": same}, dodge=False)
    a, b = undodged.get_lines()
    np.testing.assert_allclose(a.get_xdata(), b.get_xdata())
    assert isinstance(average_over_seeds(SEEDS), SeedAverage)
