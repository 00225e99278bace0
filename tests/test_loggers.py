"""Loggers: text, CSV, TensorBoard, interactive; clone, pickle and GridSearchCV safety."""

import copy
import csv
import io
import pickle
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skcl.benchmarks import split_digits, stream_to_arrays
from skcl.evaluation import (
    CSVLogger,
    EvaluationPlugin,
    InteractiveLogger,
    TensorBoardLogger,
    TextLogger,
    accuracy_metrics,
    loss_metrics,
)
from skcl.strategies import Naive

FAST = {"module__hidden_sizes": (16,), "lr": 0.1, "max_epochs": 2, "random_state": 0}


@pytest.fixture(scope="module")
def streams():
    return split_digits(n_experiences=2, random_state=0)


def _train(streams, loggers, **kw):
    train, test = streams
    ev = EvaluationPlugin(accuracy_metrics(epoch=True, experience=True, stream=True),
                          loss_metrics(epoch=True), loggers=loggers, **kw)
    net = Naive(plugins=[ev], **FAST)
    for exp in train:
        net.partial_fit(exp, eval_streams=test)
    return net, net.named_plugins_["evaluation"]


def test_text_logger_to_stream_and_file(streams, tmp_path):
    buf = io.StringIO()
    path = tmp_path / "sub" / "log.txt"
    net, live = _train(streams, [TextLogger(buf), TextLogger(path)])
    text = buf.getvalue()
    assert text == path.read_text()
    assert "Start of training experience 1" in text
    acc = live.last_metrics_["Top1_Acc_Stream/eval_phase/test_stream"]
    assert f"Top1_Acc_Stream/eval_phase/test_stream = {acc:.4f}" in text
    assert "Top1_Acc_MB" not in text  # minibatch lines only on request


def test_csv_logger_is_tidy(streams, tmp_path):
    net, live = _train(streams, [CSVLogger(tmp_path / "csv")])
    with open(tmp_path / "csv" / "training_results.csv") as fh:
        train_rows = list(csv.DictReader(fh))
    with open(tmp_path / "csv" / "eval_results.csv") as fh:
        eval_rows = list(csv.DictReader(fh))
    assert list(train_rows[0]) == ["training_exp", "epoch", "step", "granularity", "metric",
                                   "value"]
    epoch_acc = [r for r in train_rows if r["metric"] == "Top1_Acc_Epoch"]
    assert len(epoch_acc) == FAST["max_epochs"] * 2
    assert {r["training_exp"] for r in epoch_acc} == {"0", "1"}
    exp_rows = [r for r in eval_rows if r["metric"] == "Top1_Acc_Exp"]
    assert len(exp_rows) == 4  # 2 trained x 2 tested
    R = live.accuracy_matrix_.matrix
    for r in exp_rows:
        assert float(r["value"]) == pytest.approx(R[int(r["training_exp"]), int(r["eval_exp"])])
    # a new logger on the same folder starts the files afresh
    _train(streams, [CSVLogger(tmp_path / "csv")])
    with open(tmp_path / "csv" / "eval_results.csv") as fh:
        assert len(list(csv.DictReader(fh))) == len(eval_rows)


def test_tensorboard_logger_writes_real_event_files(streams, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = TensorBoardLogger(tmp_path / "tb")
    net, live = _train(streams, [logger])
    net.named_plugins_["evaluation"].loggers[0].close()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert "Top1_Acc_Exp/eval_phase/test_stream/Exp001" in tags
    events = acc.Scalars("Top1_Acc_Exp/eval_phase/test_stream/Exp000")
    assert len(events) == 2
    np.testing.assert_allclose([e.value for e in events], live.accuracy_matrix_.matrix[:, 0],
                               rtol=1e-6)
    assert events[0].step < events[1].step


def test_interactive_logger_off_when_not_a_tty_or_verbose_0(streams):
    buf = io.StringIO()  # not a TTY
    _train(streams, [InteractiveLogger(file=buf), InteractiveLogger(verbose=0, file=buf)])
    assert buf.getvalue() == ""
    assert not InteractiveLogger(verbose=0, file=sys.stderr).active


def test_interactive_logger_draws_bars_when_forced(streams):
    buf = io.StringIO()
    _train(streams, [InteractiveLogger(file=buf, disable=False, n_experiences=2)])
    out = buf.getvalue()
    assert "experiences" in out and "minibatches" in out and "epochs" in out
    assert "test: Top1_Acc_Stream=" in out


def test_loggers_survive_clone_deepcopy_and_pickle(tmp_path):
    buf = io.StringIO()
    loggers = [TextLogger(buf), TextLogger(), CSVLogger(tmp_path), TensorBoardLogger(tmp_path),
               InteractiveLogger()]
    net = Naive(plugins=[EvaluationPlugin(loggers=loggers)], **FAST)
    c = clone(net)
    cloned = c.plugins[0].loggers
    assert [type(x) for x in cloned] == [type(x) for x in loggers]
    assert cloned[0] is not loggers[0] and cloned[0].file is buf
    assert copy.deepcopy(loggers[0]) is loggers[0]
    back = pickle.loads(pickle.dumps(TextLogger(sys.stdout)))
    assert back.file is sys.stdout
    X = np.random.RandomState(0).rand(20, 3).astype(np.float32)
    fitted = net.partial_fit(X, np.arange(20) % 2)
    assert "Start of training experience 0" in buf.getvalue()
    pickle.loads(pickle.dumps(fitted))


def test_gridsearch_with_loggers_attached(streams):
    train, _ = streams
    X, y, ids = stream_to_arrays(train)[:3]
    buf = io.StringIO()
    ev = EvaluationPlugin(accuracy_metrics(epoch=True), loggers=[TextLogger(buf)])
    gs = GridSearchCV(Naive(plugins=[ev], **FAST), {"plugins__evaluation__eval_every": [-1, 1],
                                                    "lr": [0.05, 0.1]}, cv=2)
    gs.fit(X, y, experience=ids)
    assert len(gs.cv_results_["params"]) == 4
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))
    assert "Top1_Acc_Epoch" in buf.getvalue()


def test_undefined_values_are_not_nan_in_the_logs(streams, tmp_path):
    """The eval loss on an experience whose classes the head has not seen is undefined:
    the text log says n/a (with the reason), the CSV has no row, nothing prints 'nan'."""
    train, test = streams
    buf = io.StringIO()
    ev = EvaluationPlugin(loss_metrics(experience=True, stream=True),
                          loggers=[TextLogger(buf), CSVLogger(tmp_path / "csv")])
    net = Naive(plugins=[ev], **FAST)
    net.partial_fit(train[0], eval_streams=test)  # test[1]'s classes are unknown so far
    text = buf.getvalue()
    assert "nan" not in text.lower()
    assert "= n/a" in text
    with open(tmp_path / "csv" / "eval_results.csv") as fh:
        values = [row["value"] for row in csv.DictReader(fh)]
    assert values and all(v.lower() != "nan" for v in values)
