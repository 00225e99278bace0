"""One source of truth for the CL metrics (issue 10 item 4).

The pure functions of ``skcl.evaluation`` against the papers' formulas written
out by hand, and the streaming metrics of an ``EvaluationPlugin`` against
``AccuracyMatrix`` (and the skorch history record) at every experience.
"""

import inspect

import numpy as np
import pytest

import skcl.evaluation._cl_metrics as _cl_metrics
from skcl.benchmarks import permuted_digits
from skcl.evaluation import (
    AccuracyMatrix,
    EvaluationPlugin,
    accuracy_metrics,
    average_accuracy,
    average_forgetting,
    backward_transfer,
    bwt,
    bwt_metrics,
    forgetting,
    forgetting_metrics,
    forward_transfer,
    forward_transfer_metrics,
    fwt,
)
from skcl.strategies import Naive

RNG = np.random.default_rng(0)
R4 = RNG.uniform(size=(4, 4))
B4 = RNG.uniform(size=4)


def _by_loops(R, b, k):
    """The papers' formulas, written as loops over 1-based indices (T = k + 1 tasks)."""
    T = k + 1
    r = lambda i, j: R[i - 1, j - 1]  # noqa: E731  (1-based R_{i,j})
    acc = sum(r(T, i) for i in range(1, T + 1)) / T
    if T == 1:
        return acc, np.nan, np.nan, np.nan
    bwt_ = sum(r(T, i) - r(i, i) for i in range(1, T)) / (T - 1)
    fwt_ = sum(r(i - 1, i) - b[i - 1] for i in range(2, T + 1)) / (T - 1)
    forg = sum(max(r(m, j) for m in range(j, T)) - r(T, j) for j in range(1, T)) / (T - 1)
    return acc, forg, bwt_, fwt_


@pytest.mark.parametrize("k", range(4))
def test_pure_functions_follow_the_papers(k):
    acc, forg, bwt_, fwt_ = _by_loops(R4, B4, k)
    assert average_accuracy(R4, k) == pytest.approx(acc)
    np.testing.assert_allclose(average_forgetting(R4, k), forg)
    np.testing.assert_allclose(bwt(R4, k), bwt_)
    np.testing.assert_allclose(fwt(R4, B4, k), fwt_)
    # the per-experience arrays average to the scalars
    assert len(forgetting(R4, k)) == len(backward_transfer(R4, k)) == k
    assert len(forward_transfer(R4, B4, k)) == k
    R = AccuracyMatrix(R4, baseline=B4)
    np.testing.assert_allclose([R.average_accuracy(k), R.average_forgetting(k), R.bwt(k),
                                R.fwt(k)], [acc, forg, bwt_, fwt_])


def test_fwt_counts_only_trained_experiences():
    # After experience k, FWT averages j <= k (the paper's FWT on the first k+1
    # experiences); the drifted streaming version averaged j <= k + 1.
    R = [[0.9, 0.3, 0.8], [0.7, 0.8, 0.1], [0.5, 0.9, 0.6]]
    b = [0.1, 0.1, 0.1]
    assert fwt(R, b, after=1) == pytest.approx(0.3 - 0.1)
    assert fwt(R, b, after=2) == pytest.approx(((0.3 - 0.1) + (0.1 - 0.1)) / 2)
    assert np.isnan(fwt(R, b, after=0)) and np.isnan(fwt(R, None))


def test_nan_cells_propagate_and_bad_input_is_refused():
    R = [[0.9, np.nan], [0.6, np.nan]]  # experience 1 could not be evaluated
    assert np.isnan(fwt(R, [0.5, 0.5]))
    assert bwt(R) == pytest.approx(-0.3)
    with pytest.raises(ValueError, match="2-dimensional"):
        average_accuracy([0.1, 0.2])
    with pytest.raises(ValueError, match="after=3"):
        bwt(R, after=3)
    with pytest.raises(ValueError, match="baseline"):
        fwt(R, [0.5])


def test_the_formulas_live_in_one_module():
    # AccuracyMatrix and the streaming metrics call the pure functions; no other
    # evaluation module indexes the matrix to compute them.
    import skcl.evaluation._matrix as matrix_mod
    import skcl.evaluation._metrics as metrics_mod

    for mod in (matrix_mod, metrics_mod):
        src = inspect.getsource(mod)
        assert "_cl_metrics" in src
        assert "np.max(R" not in src and "R.matrix[k" not in src and "R[j - 1, j]" not in src
    assert "R[j - 1, j]" in inspect.getsource(_cl_metrics)


@pytest.fixture(scope="module")
def issue_run():
    """Naive(max_epochs=1, lr=0.1, random_state=0) on permuted_digits(3): issue 10's example."""
    train, test = permuted_digits(3, random_state=0)
    ev = EvaluationPlugin(accuracy_metrics(experience=True, stream=True),
                          forgetting_metrics(experience=True, stream=True),
                          bwt_metrics(experience=True, stream=True),
                          forward_transfer_metrics(experience=True, stream=True))
    net = Naive(plugins=[ev], max_epochs=1, lr=0.1, random_state=0)
    snapshots = []
    for exp in train:
        net.partial_fit(exp, eval_streams=test)
        live = net.named_plugins_["evaluation"]
        snapshots.append((dict(live.last_metrics_), live.accuracy_matrix_,
                          dict(net.history[-1])))
    return snapshots


def test_streaming_metrics_agree_with_the_matrix_at_every_experience(issue_run):
    name = "{}/eval_phase/test_stream"
    for k, (last, R, row) in enumerate(issue_run):
        assert R.n_trained == k + 1
        for j in range(R.n_test):
            assert last[name.format("Top1_Acc_Exp") + f"/Exp{j:03d}"] == R.matrix[k, j]
            assert row[f"test_acc_exp{j}"] == R.matrix[k, j]
        assert row["test_avg_acc"] == pytest.approx(R.average_accuracy())
        if k == 0:
            assert name.format("StreamForgetting") not in last
            assert name.format("StreamForwardTransfer") not in last
            assert "test_fwt" not in row
            continue
        assert last[name.format("StreamForgetting")] == pytest.approx(R.average_forgetting())
        assert last[name.format("StreamBWT")] == pytest.approx(R.bwt())
        assert last[name.format("StreamForwardTransfer")] == pytest.approx(R.fwt())
        assert (row["test_forgetting"], row["test_bwt"], row["test_fwt"]) == pytest.approx(
            (R.average_forgetting(), R.bwt(), R.fwt()))
        for j, f in enumerate(R.forgetting()):
            assert last[name.format("ExperienceForgetting") + f"/Exp{j:03d}"] == pytest.approx(f)
            assert last[name.format("ExperienceBWT") + f"/Exp{j:03d}"] == pytest.approx(
                R.matrix[k, j] - R.matrix[j, j])
        for j in range(1, k + 1):
            assert last[name.format("ExperienceForwardTransfer") + f"/Exp{j:03d}"] == \
                pytest.approx(R.matrix[j - 1, j] - R.baseline[j])


def test_issue_example_fwt_after_two_experiences(issue_run):
    # The issue measured the matrix at -0.033 and the streaming metric at -0.018 (j <= k+1).
    last, R, _ = issue_run[1]
    streamed = last["StreamForwardTransfer/eval_phase/test_stream"]
    assert streamed == pytest.approx(R.fwt())
    assert streamed == pytest.approx(R.matrix[0, 1] - R.baseline[1])
    drifted = np.mean([R.matrix[0, 1] - R.baseline[1],
                       R.matrix[1, 2] - R.baseline[2]])
    assert streamed != pytest.approx(drifted)
