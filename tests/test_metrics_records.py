"""Evaluation records: skorch history (issue 10 item 5), not-evaluable experiences
(issue 13 item 5), ``evaluate(est, [])`` (issue 12 item 8) and the hook protocol of
metrics and loggers (issue 10 item 2)."""

import inspect
import io
import warnings

import numpy as np
import pytest
from skorch.callbacks import Callback

from skcl.benchmarks import split_digits
from skcl.evaluation import (
    BaseLogger,
    EvaluationPlugin,
    NotEvaluableWarning,
    PluginMetric,
    TextLogger,
    _loggers,
    _metrics,
    _resource_metrics,
    accuracy_metrics,
    bwt_metrics,
    evaluate,
    forgetting_metrics,
    loss_metrics,
)
from skcl.plugins import HOOKS, StrategyPlugin
from skcl.strategies import Naive, PNNStrategy

FAST = {"module__hidden_sizes": (16,), "lr": 0.1, "max_epochs": 2, "random_state": 0}


@pytest.fixture(scope="module")
def streams():
    return split_digits(n_experiences=2, random_state=0)


# ---------------------------------------------------------------------- #
# skorch history and skorch's own logging callbacks
# ---------------------------------------------------------------------- #
def test_history_holds_the_evaluation_per_experience_and_stream(streams):
    train, test = streams
    ev = EvaluationPlugin(accuracy_metrics(experience=True), forgetting_metrics(stream=True),
                          bwt_metrics(stream=True))
    net = Naive(plugins=[ev], **FAST)
    for exp in train:
        net.partial_fit(exp, eval_streams={"test": test, "val": test[:1]})
    R = net.named_plugins_["evaluation"].accuracy_matrices_["test"]
    # one row per epoch; the last epoch of each experience carries its evaluation
    assert len(net.history) == FAST["max_epochs"] * 2
    np.testing.assert_allclose(net.history[:, "test_avg_acc"], R.average_accuracies())
    assert net.history[:, "experience"][1::2] == [0, 1]
    for k in range(2):
        row = net.history[2 * k + 1]
        assert [row[f"test_acc_exp{j}"] for j in range(2)] == list(R.matrix[k])
        assert row["val_acc_exp0"] == R.matrix[k, 0]
        assert "test_acc_exp0" not in net.history[2 * k]  # not an epoch that evaluated
    assert net.history[-1, "test_forgetting"] == pytest.approx(R.average_forgetting())
    assert net.history[-1, "test_bwt"] == pytest.approx(R.bwt())
    n = np.array([len(e) for e in test])
    assert net.history[-1, "test_acc_stream"] == pytest.approx(
        np.sum(R.matrix[-1] * n) / n.sum())
    # after experience 0 the loss on experience 1 (classes not seen yet) is undefined: no
    # key rather than nan, and the stream loss pools the experiences where it is defined
    row0 = net.history[1]
    assert "test_loss_exp1" not in row0 and np.isfinite(row0["test_loss_stream"])
    assert row0["test_loss_stream"] == pytest.approx(row0["test_loss_exp0"])
    assert net.history[-1, "test_loss_stream"] == pytest.approx(
        np.sum([net.history[-1, f"test_loss_exp{j}"] * n[j] for j in range(2)]) / n.sum())


class _Recorder(Callback):
    """A callback reading history[-1] at epoch end, as skorch's loggers do."""

    def initialize(self):
        self.keys_ignored_ = set()
        self.logged_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.logged_.append({k: v for k, v in net.history[-1].items()
                             if k not in self.keys_ignored_ and k != "batches"})


def test_skorch_tensorboard_callback_logs_the_evaluation(streams, tmp_path):
    from skorch.callbacks import TensorBoard
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    train, test = streams
    # skorch's default close_after_train=True: the writer closes after every experience
    net = Naive(plugins=[EvaluationPlugin(accuracy_metrics(experience=True))],
                callbacks=[TensorBoard(SummaryWriter(str(tmp_path / "tb")))], **FAST)
    for exp in train:
        net.partial_fit(exp, eval_streams=test)
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    R = net.named_plugins_["evaluation"].accuracy_matrix_
    avg = acc.Scalars("test_avg_acc")
    # one point per experience, at the step of its last epoch, with the matrix's values
    assert [e.step for e in avg] == [net.history[1, "epoch"], net.history[3, "epoch"]]
    np.testing.assert_allclose([e.value for e in avg], R.average_accuracies(), rtol=1e-6)
    assert {"test_acc_exp1", "test_loss_exp0", "test_acc_stream"} <= set(tags)
    exp0 = acc.Scalars("test_acc_exp0")
    np.testing.assert_allclose([e.value for e in exp0], R.matrix[:, 0], rtol=1e-6)
    # the epoch's training loss is not logged twice
    train_loss = acc.Scalars("Loss/train_loss")
    assert len(train_loss) == len(net.history)


def test_skorch_loggers_are_not_notified_when_switched_off(streams, tmp_path):
    from skorch.callbacks import TensorBoard
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    train, test = streams
    writer = SummaryWriter(str(tmp_path / "tb"))
    net = Naive(plugins=[EvaluationPlugin(skorch_loggers=False)],
                callbacks=[TensorBoard(writer, close_after_train=False)], **FAST)
    net.partial_fit(train[0], eval_streams=test)
    writer.close()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert not [t for t in acc.Tags()["scalars"] if "test_" in t]
    assert "test_avg_acc" in net.history[-1]  # recorded, only not re-sent


def test_periodic_evaluation_reaches_callbacks_in_its_epoch(streams):
    train, test = streams
    rec = _Recorder()
    net = Naive(plugins=[EvaluationPlugin(eval_every=1)], callbacks=[rec],
                **dict(FAST, max_epochs=3))
    net.partial_fit(train[0], eval_streams=test)
    logged = next(cb for _, cb in net.callbacks_ if isinstance(cb, _Recorder)).logged_
    assert len(logged) == 3
    # epochs 1 and 2 evaluate inside the epoch end (before callbacks run): seen directly
    assert "test_acc_stream" in logged[0] and "test_acc_stream" in logged[1]
    assert "test_avg_acc" not in logged[0]  # periodic: no matrix row yet
    assert net.history[-1, "test_avg_acc"] == pytest.approx(
        net.named_plugins_["evaluation"].accuracy_matrix_.average_accuracy())


# ---------------------------------------------------------------------- #
# not evaluable experiences (PNN asked about tasks it never trained)
# ---------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def task_streams():
    return split_digits(n_experiences=3, task_labels=True, random_state=0)


def _pnn(**kw):
    return PNNStrategy(module__hidden_features_per_column=16, lr=0.1, max_epochs=1,
                       random_state=0, **kw)


def test_evaluation_plugin_reports_unseen_tasks_as_not_evaluable(task_streams):
    train, test = task_streams
    net = _pnn(plugins=[EvaluationPlugin(accuracy_metrics(experience=True, stream=True),
                                         forgetting_metrics(stream=True))])
    with pytest.warns(NotEvaluableWarning, match=r"experiences \[1, 2\]"):
        net.partial_fit(train[0], eval_streams=test)
    for exp in train[1:]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotEvaluableWarning)
            net.partial_fit(exp, eval_streams=test)
    live = net.named_plugins_["evaluation"]
    R = live.accuracy_matrix_.matrix
    assert np.isnan(R[0, 1:]).all() and np.isnan(R[1, 2])
    assert np.isfinite(np.tril(R)).all()
    assert R[2, 0] == pytest.approx(net.score(test[0]))
    first = [v for v in live.metric_values_ if v.metric == "Top1_Acc_Exp" and v.training_exp == 0]
    assert "never trained" in first[1].info["note"] and not first[0].info
    stream0 = next(v for v in live.metric_values_ if v.metric == "Top1_Acc_Stream")
    assert stream0.value == pytest.approx(R[0, 0]) and stream0.info["not_evaluable"] == [1, 2]
    assert np.isnan(net.history[0, "test_acc_exp1"])  # max_epochs=1: row k is experience k
    # a direct predict keeps its clear error
    with pytest.raises(ValueError, match="never seen"):
        _pnn().partial_fit(train[0]).predict(test[1])


def test_evaluate_reports_unseen_tasks_and_refuses_an_empty_stream(task_streams):
    train, test = task_streams
    net = _pnn().partial_fit(train[0])
    with pytest.warns(NotEvaluableWarning, match="task label"):
        res = evaluate(net, test)
    exps = res["experiences"]
    assert exps[0]["accuracy"] == pytest.approx(net.score(test[0]))
    assert [e.get("evaluable", True) for e in exps] == [True, False, False]
    assert exps[1]["accuracy"] is None and "never trained" in exps[1]["note"]
    assert res["stream"]["not_evaluable"] == [1, 2]
    assert res["stream"]["accuracy"] == pytest.approx(exps[0]["accuracy"])
    with pytest.raises(ValueError, match="at least one test experience"):
        evaluate(net, [])


def test_other_value_errors_still_propagate(streams):
    train, test = streams
    net = Naive(**FAST).partial_fit(train[0])
    bad = np.zeros((3, test[0].X.shape[1] + 1), np.float32)
    from skcl.benchmarks import Experience

    with pytest.raises(ValueError):
        evaluate(net, [Experience(bad, np.zeros(3, int))])


# ---------------------------------------------------------------------- #
# one hook protocol
# ---------------------------------------------------------------------- #
_METRIC_HOOKS = ("before_training_exp", "before_training_epoch", "after_training_iteration",
                 "after_training_epoch", "after_training_exp", "after_eval_exp",
                 "after_eval_stream")
_LOGGER_HOOKS = ("before_training_exp", "before_training_epoch", "after_training_iteration",
                 "after_training_epoch", "after_training_exp", "after_eval_stream")


def test_metrics_and_loggers_take_the_strategy_first():
    for base, hooks in ((PluginMetric, _METRIC_HOOKS), (BaseLogger, _LOGGER_HOOKS)):
        for hook in hooks:
            params = list(inspect.signature(getattr(base, hook)).parameters)
            assert params[:3] == ["self", "strategy", "evaluation"], (base, hook)
    # every override in the shipped metrics and loggers keeps that order
    for mod in (_metrics, _resource_metrics, _loggers):
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            for hook in set(_METRIC_HOOKS) | set(_LOGGER_HOOKS):
                fn = cls.__dict__.get(hook)
                if fn is not None:
                    params = list(inspect.signature(fn).parameters)
                    assert params[:3] == ["self", "strategy", "evaluation"], (cls, hook)


def test_evaluation_plugin_sees_outputs_through_after_forward(streams):
    assert "after_forward" in HOOKS
    assert EvaluationPlugin.penalty is StrategyPlugin.penalty  # no longer abused
    assert EvaluationPlugin.after_forward is not StrategyPlugin.after_forward
    train, _ = streams
    ev = EvaluationPlugin(accuracy_metrics(minibatch=True), loss_metrics(minibatch=True))
    net = Naive(plugins=[ev], **FAST).partial_fit(train[0])
    live = net.named_plugins_["evaluation"]
    mb = [v for v in live.metric_values_ if v.metric == "Loss_MB"]
    assert len(mb) == int(np.ceil(len(train[0]) / 32)) * FAST["max_epochs"]
    # the minibatch losses are the criterion's: their mean is the epoch train_loss skorch logs
    per_epoch = np.array([v.value for v in mb]).reshape(FAST["max_epochs"], -1)
    sizes = [min(32, len(train[0]) - 32 * i) for i in range(per_epoch.shape[1])]
    np.testing.assert_allclose(np.average(per_epoch, axis=1, weights=sizes),
                               net.history[:, "train_loss"], rtol=1e-5)


def test_loggers_must_subclass_base_logger(streams):
    train, _ = streams

    class Duck:
        def log_metrics(self, values):
            pass

    with pytest.raises(TypeError, match="BaseLogger"):
        Naive(plugins=[EvaluationPlugin(loggers=[Duck()])], **FAST).partial_fit(train[0])
    # a BaseLogger subclass overriding one hook only works
    buf = io.StringIO()

    class EpochsOnly(BaseLogger):
        def after_training_epoch(self, strategy, evaluation, values):
            buf.write(f"{strategy.n_experiences_}:{evaluation.epoch_};")

    Naive(plugins=[EvaluationPlugin(loggers=[EpochsOnly(), TextLogger(io.StringIO())])],
          **FAST).partial_fit(train[0])
    assert buf.getvalue() == "0:0;0:1;"
