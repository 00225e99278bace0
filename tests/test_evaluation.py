"""Accuracy matrix, metrics, EvaluationPlugin, evaluate() and the GridSearchCV scorer."""

import json

import matplotlib
import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold

from skcl.benchmarks import split_digits, stream_to_arrays
from skcl.evaluation import (
    AccuracyMatrix,
    EvaluationPlugin,
    accuracy_metrics,
    average_accuracy_score,
    bwt_metrics,
    confusion_matrix_metrics,
    count_exemplars,
    evaluate,
    exemplars_metrics,
    forgetting_metrics,
    forward_transfer_metrics,
    loss_metrics,
    make_average_accuracy_scorer,
    ram_usage_metrics,
    rss_mb,
    timing_metrics,
)
from skcl.strategies import Cumulative, JointTraining, Naive

matplotlib.use("Agg")

FAST = {"module__hidden_sizes": (16,), "lr": 0.1, "max_epochs": 2, "random_state": 0}


@pytest.fixture(scope="module")
def streams():
    return split_digits(n_experiences=2, random_state=0)


# ---------------------------------------------------------------------- #
# AccuracyMatrix against hand-computed values
# ---------------------------------------------------------------------- #
R3 = [[0.9, 0.2, 0.1],
      [0.7, 0.8, 0.3],
      [0.5, 0.9, 0.6]]


def test_matrix_metrics_hand_computed():
    R = AccuracyMatrix(R3, baseline=[0.1, 0.1, 0.2])
    # ACC: mean of the last row
    assert R.average_accuracy() == pytest.approx((0.5 + 0.9 + 0.6) / 3)
    assert R.average_accuracy(0) == pytest.approx(0.9)
    assert R.average_accuracy(1) == pytest.approx((0.7 + 0.8) / 2)
    np.testing.assert_allclose(R.average_accuracies(), [0.9, 0.75, 2.0 / 3])
    # Chaudhry forgetting: max over earlier rows minus now.
    # j=0: max(0.9, 0.7) - 0.5 = 0.4 ; j=1: max(0.8) - 0.9 = -0.1
    np.testing.assert_allclose(R.forgetting(), [0.4, -0.1])
    assert R.average_forgetting() == pytest.approx(0.15)
    # BWT: ((0.5 - 0.9) + (0.9 - 0.8)) / 2
    assert R.bwt() == pytest.approx(-0.15)
    # FWT: ((R[0,1] - b1) + (R[1,2] - b2)) / 2 = ((0.2-0.1) + (0.3-0.2)) / 2
    assert R.fwt() == pytest.approx(0.1)
    # after row 1: forgetting j=0: 0.9 - 0.7; BWT 0.7 - 0.9; FWT only j=1
    assert R.average_forgetting(1) == pytest.approx(0.2)
    assert R.bwt(1) == pytest.approx(-0.2)
    assert R.fwt(1) == pytest.approx(0.1)


def test_forgetting_uses_max_not_diagonal():
    # Accuracy on exp 0 rises after exp 1 then drops: Chaudhry uses the max (0.95).
    R = AccuracyMatrix([[0.6, 0.0, 0.0], [0.95, 0.9, 0.0], [0.5, 0.9, 0.9]])
    assert R.forgetting()[0] == pytest.approx(0.45)
    assert R.bwt() == pytest.approx(((0.5 - 0.6) + (0.9 - 0.9)) / 2)


def test_matrix_undefined_values_are_nan():
    R = AccuracyMatrix([[0.8, 0.1]])
    assert np.isnan(R.average_forgetting())
    assert np.isnan(R.bwt())
    assert np.isnan(R.fwt())  # no baseline, one row
    with pytest.raises(ValueError, match="2-dimensional"):
        AccuracyMatrix([0.1, 0.2])
    with pytest.raises(ValueError, match="baseline"):
        AccuracyMatrix(R3, baseline=[0.1])


def test_matrix_json_round_trip():
    R = AccuracyMatrix([[0.9, np.nan], [0.6, 0.8]], baseline=[0.5, 0.5])
    d = json.loads(R.to_json())
    assert d["matrix"] == [[0.9, None], [0.6, 0.8]]
    assert d["bwt"] == pytest.approx(-0.3)
    back = AccuracyMatrix.from_json(R.to_json())
    assert back == R
    assert back != AccuracyMatrix([[0.9, np.nan], [0.6, 0.7]], baseline=[0.5, 0.5])
    full = AccuracyMatrix(R3, baseline=[0.1, 0.1, 0.2])
    assert AccuracyMatrix.from_dict(full.to_dict()).fwt() == pytest.approx(0.1)


def test_matrix_plot_is_a_heatmap():
    ax = AccuracyMatrix(R3).plot(title="t")
    images = ax.get_images()
    assert len(images) == 1
    shown = images[0].get_array()
    # trained cells (j <= i) are drawn with their values; cells of experiences not trained
    # yet (j > i) are masked out and hatched, with no number (issue 15: not 0.00)
    upper = np.triu(np.ones((3, 3), bool), k=1)
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), upper)
    np.testing.assert_allclose(shown.data[~upper], np.array(R3)[~upper])
    texts = [t.get_text() for t in ax.texts]
    assert sorted(texts) == sorted(f"{v:.2f}" for v in np.array(R3)[~upper])
    assert sum(p.get_hatch() == "///" for p in ax.patches) == upper.sum()
    # on request the untrained values are shown too (all 9 numbers)
    ax = AccuracyMatrix(R3).plot(title="t", show_untrained=True)
    assert len(ax.texts) == 9 and "0.20" in [t.get_text() for t in ax.texts]


# ---------------------------------------------------------------------- #
# evaluate() and the plugin
# ---------------------------------------------------------------------- #
def test_evaluate_per_experience_and_stream(streams):
    train, test = streams
    net = Cumulative(**FAST)
    for exp in train:
        net.partial_fit(exp)
    res = evaluate(net, test)
    accs = [e["accuracy"] for e in res["experiences"]]
    assert accs == [pytest.approx(net.score(e)) for e in test]
    n = np.array([len(e) for e in test])
    assert res["stream"]["accuracy"] == pytest.approx(np.sum(np.array(accs) * n) / n.sum())
    assert res["stream"]["average_accuracy"] == pytest.approx(np.mean(accs))
    assert all(e["loss"] > 0 for e in res["experiences"])


def test_plugin_builds_the_matrix_and_does_not_change_training(streams):
    train, test = streams
    ev = EvaluationPlugin(accuracy_metrics(minibatch=True, epoch=True, experience=True,
                                           stream=True),
                          loss_metrics(epoch=True, experience=True, stream=True),
                          forgetting_metrics(experience=True, stream=True),
                          bwt_metrics(experience=True, stream=True),
                          forward_transfer_metrics(experience=True, stream=True),
                          confusion_matrix_metrics(),
                          timing_metrics(epoch=True, experience=True),
                          ram_usage_metrics(epoch=True, experience=True),
                          exemplars_metrics())
    net = Naive(plugins=[ev], **FAST)
    ref = Naive(**FAST)
    expected_rows = []
    for exp in train:
        net.partial_fit(exp, eval_streams=test)
        ref.partial_fit(exp)
        expected_rows.append([ref.score(e) for e in test])
    live = net.named_plugins_["evaluation"]
    np.testing.assert_allclose(live.accuracy_matrix_.matrix, expected_rows)
    np.testing.assert_array_equal(net.predict(test[0].X), ref.predict(test[0].X))
    last = live.last_metrics_
    R = live.accuracy_matrix_
    assert last["StreamForgetting/eval_phase/test_stream"] == pytest.approx(
        R.average_forgetting())
    assert last["StreamBWT/eval_phase/test_stream"] == pytest.approx(R.bwt())
    assert last["ExperienceForgetting/eval_phase/test_stream/Exp000"] == pytest.approx(
        R.matrix[0, 0] - R.matrix[1, 0])
    # class-incremental: nothing is known of exp 1 before training it -> FWT is 0
    assert last["StreamForwardTransfer/eval_phase/test_stream"] == pytest.approx(0.0)
    assert live.baselines_["test"][1] == 0.0
    assert last["Top1_Acc_Exp/eval_phase/test_stream/Exp001"] == pytest.approx(
        expected_rows[-1][1])
    cm = last["ConfusionMatrix_Stream/eval_phase/test_stream"]
    assert cm.sum() == sum(len(e) for e in test)
    assert np.trace(cm) == pytest.approx(
        sum(ref.score(e) * len(e) for e in test), abs=1e-6)
    assert last["Time_Exp/train_phase/train_stream"] > 0
    assert last["RSS_MB_Exp/train_phase/train_stream"] > 10
    assert "Stored_Exemplars_Exp/train_phase/train_stream" not in last  # Naive has no buffer
    # minibatch values: one per training minibatch
    n_batches = sum(int(np.ceil(len(e) / 32)) * FAST["max_epochs"] for e in train)
    mb = [v for v in live.metric_values_ if v.metric == "Top1_Acc_MB"]
    assert len(mb) == n_batches
    assert mb[-1].step == n_batches
    epoch = [v for v in live.metric_values_ if v.metric == "Top1_Acc_Epoch"]
    assert len(epoch) == FAST["max_epochs"] * len(train)
    assert all(0 <= v.value <= 1 for v in epoch)


def test_eval_every_evaluates_per_epoch(streams):
    train, test = streams
    net = Naive(plugins=[EvaluationPlugin(accuracy_metrics(stream=True), eval_every=1)],
                **dict(FAST, max_epochs=3))
    net.partial_fit(train[0], eval_streams={"test": test, "val": test[:1]})
    live = net.named_plugins_["evaluation"]
    vals = [v for v in live.metric_values_ if v.name == "Top1_Acc_Stream/eval_phase/test_stream"]
    # epochs 1 and 2 (periodic) + end of experience; the matrix has one row only
    assert [v.epoch for v in vals] == [1, 2, 3]
    assert live.accuracy_matrices_["test"].matrix.shape == (1, 2)
    assert live.accuracy_matrices_["val"].matrix.shape == (1, 1)
    with pytest.raises(ValueError, match="eval_every"):
        Naive(plugins=[EvaluationPlugin(eval_every=-3)], **FAST).partial_fit(train[0])


def test_plugin_without_streams_and_exemplars(streams):
    train, _ = streams
    net = Cumulative(plugins=[EvaluationPlugin(exemplars_metrics())], **FAST)
    net.partial_fit(train[0])
    live = net.named_plugins_["evaluation"]
    assert live.last_metrics_["Stored_Exemplars_Exp/train_phase/train_stream"] == len(train[0])
    assert count_exemplars(net) == len(train[0])
    assert count_exemplars(Naive(**FAST).partial_fit(train[0])) is None
    with pytest.raises(AttributeError, match="eval_streams"):
        _ = live.accuracy_matrix_


def test_plugin_clone_and_param_round_trip():
    ev = EvaluationPlugin(accuracy_metrics(experience=True), eval_every=2)
    params = ev.get_params()
    assert params["eval_every"] == 2 and len(params["metrics"]) == 1
    c = clone(ev)
    assert c.eval_every == 2 and c.metrics[0][0] is not ev.metrics[0][0]
    assert c.metrics[0][0].get_params() == ev.metrics[0][0].get_params()
    with pytest.raises(TypeError, match="not both"):
        EvaluationPlugin(accuracy_metrics(), metrics=[])
    with pytest.raises(TypeError, match="PluginMetric"):
        Naive(plugins=[EvaluationPlugin("accuracy")], **FAST).partial_fit(
            np.zeros((4, 2), np.float32), [0, 1, 0, 1])


def test_rss_reads_proc():
    assert 10 < rss_mb() < 1e6


# ---------------------------------------------------------------------- #
# the scorer
# ---------------------------------------------------------------------- #
def test_average_accuracy_score_weighs_experiences_equally():
    y = np.array([0] * 9 + [1])
    pred = np.zeros(10, int)
    ids = np.array([0] * 9 + [1])
    assert average_accuracy_score(y, pred) == pytest.approx(0.9)
    assert average_accuracy_score(y, pred, experience=ids) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="experience"):
        average_accuracy_score(y, pred, experience=ids[:3])


def test_gridsearch_ranks_by_average_accuracy_over_experiences(streams):
    train, _ = streams
    X, y, ids = stream_to_arrays(train)[:3]
    # make the experiences unequal in size so pooled and averaged accuracy differ
    keep = np.r_[np.flatnonzero(ids == 0), np.flatnonzero(ids == 1)[:40]]
    X, y, ids = X[keep], y[keep], ids[keep]
    cv = GroupKFold(n_splits=2)
    groups = np.arange(len(y)) % 2
    with sklearn.config_context(enable_metadata_routing=True):
        est = Naive(**FAST).set_fit_request(experience=True)
        scorer = make_average_accuracy_scorer()
        gs = GridSearchCV(est, {"lr": [0.01, 0.1]}, scoring=scorer, cv=cv, refit=False)
        gs.fit(X, y, experience=ids, groups=groups)
    # recompute fold 0 of the second candidate by hand
    train_idx, test_idx = next(cv.split(X, y, groups))
    net = Naive(**dict(FAST, lr=0.1)).fit(X[train_idx], y[train_idx],
                                           experience=ids[train_idx])
    pred = net.predict(X[test_idx])
    expected = average_accuracy_score(y[test_idx], pred, experience=ids[test_idx])
    pooled = float(np.mean(pred == y[test_idx]))
    assert gs.cv_results_["split0_test_score"][1] == pytest.approx(expected)
    assert expected != pytest.approx(pooled)


def test_joint_training_with_evaluate(streams):
    train, test = streams
    net = JointTraining(**FAST).fit(train)
    res = evaluate(net, test)
    assert res["stream"]["average_accuracy"] == pytest.approx(
        np.mean([net.score(e) for e in test]))
    assert res["stream"]["average_accuracy"] > 0.3  # chance is 0.1
