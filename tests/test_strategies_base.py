"""The foundation's contract: verbs, labels, growth, plugins as parameters, persistence."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import EpochScoring

from skcl.benchmarks import Experience, stream_to_arrays, task_incremental_split
from skcl.plugins import EarlyStoppingPlugin, LRSchedulerPlugin, StrategyPlugin
from skcl.strategies import Cumulative, JointTraining, Naive

TINY = {"module__hidden_sizes": (32,), "max_epochs": 2, "lr": 0.1, "random_state": 0}


class Counter(StrategyPlugin):
    """Records hook calls; has a parameter and learned state."""

    def __init__(self, step=1):
        self.step = step

    def before_training_exp(self, strategy, experience):
        self.calls_ = getattr(self, "calls_", []) + ["begin"]

    def after_training_iteration(self, strategy, batch):
        self.total_ = getattr(self, "total_", 0) + self.step

    def after_training_exp(self, strategy, experience):
        self.calls_.append("end")


def _weights(net):
    return [p.detach().clone() for p in net.module_.parameters()]


def test_partial_fit_loop_accumulates_classes(digits_streams):
    train, test = digits_streams
    net = Naive(**TINY)
    seen = set()
    for exp in train:
        net.partial_fit(exp)
        seen |= set(exp.classes.tolist())
        assert net.classes_.tolist() == sorted(seen)
    assert net.n_experiences_ == 5
    assert set(net.predict(test[0].X)) <= seen


def test_string_labels_and_sorted_classes():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 3).astype(np.float32)
    net = Naive(**TINY)
    net.partial_fit(X[:20], np.array(["zebra", "cat"] * 10))
    net.partial_fit(X[20:], np.array(["ant", "bee"] * 10))
    assert net.classes_.tolist() == ["ant", "bee", "cat", "zebra"]
    assert net.class_order_.tolist() == ["cat", "zebra", "ant", "bee"]
    proba = net.predict_proba(X)
    assert proba.shape == (40, 4)
    assert np.array_equal(net.classes_[proba.argmax(1)], net.predict(X))


def test_classes_given_on_first_call_fix_the_label_set():
    X, y = np.random.RandomState(0).rand(20, 2), np.arange(20) % 2
    net = Naive(**TINY).partial_fit(X, y, classes=[0, 1, 2])
    assert net.classes_.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="Unknown class"):
        net.partial_fit(X, np.full(20, 7))


def test_head_grows_keeps_old_weights_and_optimizer_sees_new_units(digits_streams):
    train, _ = digits_streams
    net = Naive(**TINY).partial_fit(train[0])
    head = net.module_.classifier.classifier
    old_w = head.weight.detach().clone()
    net.set_params(lr=0.0)  # freeze training to compare weights exactly
    net.partial_fit(train[1])
    head = net.module_.classifier.classifier
    assert head.out_features == 4
    assert torch.equal(head.weight[:2], old_w)
    opt_params = {id(p) for g in net.optimizer_.param_groups for p in g["params"]}
    assert id(head.weight) in opt_params
    net.set_params(lr=0.1)
    before = head.weight[2:].detach().clone()
    net.partial_fit(train[1])
    assert not torch.equal(net.module_.classifier.classifier.weight[2:4], before)


def test_multi_head_routes_by_task_label_at_train_and_predict():
    X = np.random.RandomState(0).rand(300, 5).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int) + 2 * (np.arange(300) % 2)
    train, test = task_incremental_split(X, y, X, y, n_experiences=2, shuffle=False)
    net = Naive(module__multi_head=True, **{**TINY, "max_epochs": 5})
    for exp in train:
        net.partial_fit(exp)
    assert net.module_.classifier.known_tasks() == [0, 1]
    # each head only predicts the classes of its own task
    assert set(net.predict(test[0])) <= set(train[0].classes.tolist())
    assert set(net.predict(test[1])) <= set(train[1].classes.tolist())
    # the same samples routed to task 1's head give task 1's classes
    assert set(net.predict(test[0].X, task_labels=np.ones(len(test[0]), int))) <= {2, 3}
    with pytest.raises(ValueError, match="never seen"):
        net.predict(test[0].X, task_labels=np.full(len(test[0]), 5))


def test_fit_equals_partial_fit_loop(digits_streams):
    train, test = digits_streams
    X, y, ids, _ = stream_to_arrays(train)
    a = Naive(**TINY).fit(X, y, experience=ids)
    b = Naive(**TINY)
    for exp in train:
        b.partial_fit(exp)
    c = Naive(**TINY).fit(train)
    for other in (b, c):
        assert all(torch.equal(p, q) for p, q in zip(_weights(a), _weights(other)))


def test_fit_restarts_from_scratch(digits_streams):
    train, _ = digits_streams
    net = Naive(**TINY).fit(train[:2])
    net.fit(train[2:3])
    assert net.n_experiences_ == 1
    assert net.classes_.tolist() == sorted(train[2].classes.tolist())


def test_seeded_runs_are_identical_and_seeds_differ(digits_streams):
    train, test = digits_streams
    runs = []
    for seed in (3, 3, 4):
        net = Naive(**{**TINY, "random_state": seed})
        for exp in train:
            net.partial_fit(exp)
        runs.append((_weights(net), net.predict(test[-1].X)))
    assert all(torch.equal(p, q) for p, q in zip(runs[0][0], runs[1][0]))
    assert np.array_equal(runs[0][1], runs[1][1])
    assert not all(torch.equal(p, q) for p, q in zip(runs[0][0], runs[2][0]))


def test_seeding_does_not_touch_global_torch_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Naive(**TINY).partial_fit(np.random.rand(10, 2), np.arange(10) % 2)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_mid_stream_then_continue(digits_streams, tmp_path, dump):
    train, test = digits_streams
    net = Naive(plugins=[Counter()], **TINY)
    for exp in train[:2]:
        net.partial_fit(exp)
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(net))
    else:
        joblib.dump(net, tmp_path / "net.joblib")
        restored = joblib.load(tmp_path / "net.joblib")
    assert np.array_equal(restored.predict(test[0].X), net.predict(test[0].X))
    for exp in train[2:]:
        net.partial_fit(exp)
        restored.partial_fit(exp)
    assert all(torch.equal(p, q) for p, q in zip(_weights(net), _weights(restored)))
    assert restored.named_plugins_["counter"].total_ == net.named_plugins_["counter"].total_


def test_clone_after_training_is_fresh(digits_streams):
    train, _ = digits_streams
    net = Naive(plugins=[("count", Counter(step=2))], **TINY).partial_fit(train[0])
    fresh = clone(net)
    assert not fresh.initialized_ and not hasattr(fresh, "plugins_")
    assert fresh.get_params()["plugins__count__step"] == 2
    assert not hasattr(fresh, "classes_")
    assert net.plugins[0][1] is not fresh.plugins[0][1]
    assert not hasattr(fresh.plugins[0][1], "total_")


def test_plugin_params_nested_before_and_after_fit(digits_streams):
    train, _ = digits_streams
    net = Naive(plugins=[Counter(), ("other", Counter(step=5))], **TINY)
    params = net.get_params()
    assert params["plugins__counter__step"] == 1 and params["plugins__other__step"] == 5
    net.set_params(plugins__counter__step=3)
    net.partial_fit(train[0])
    live = net.named_plugins_["counter"]
    n_batches = live.total_ // 3
    assert live.total_ == 3 * n_batches and n_batches > 0
    net.set_params(plugins__counter__step=10)  # keeps the learned state
    assert net.named_plugins_["counter"] is live and live.step == 10
    net.partial_fit(train[1])
    assert live.total_ > 3 * n_batches
    assert live.calls_ == ["begin", "end", "begin", "end"]
    with pytest.raises(ValueError, match="(?i)did you mean .plugins__counter__step."):
        net.set_params(plugins__counter__stepp=1)


def test_replacing_plugins_on_a_fitted_strategy(digits_streams):
    train, _ = digits_streams
    net = Naive(plugins=[Counter()], **TINY).partial_fit(train[0])
    template = Counter(step=2)
    net.set_params(plugins=[("fresh", template)])
    assert list(net.named_plugins_) == ["fresh"]
    live = net.named_plugins_["fresh"]
    assert live is not template and not hasattr(live, "total_")  # a fresh clone
    net.partial_fit(train[1])
    assert live.total_ > 0 and net.n_experiences_ == 2


def test_plugins_compose_and_hooks_run_in_order(digits_streams):
    train, _ = digits_streams
    order = []

    class Tracer(StrategyPlugin):
        def __init__(self, tag="a"):
            self.tag = tag

        def before_training_exp(self, strategy, experience):
            order.append((self.tag, "before_exp"))

        def adapt_train_data(self, strategy, data):
            order.append((self.tag, "adapt_data"))
            return data

        def before_training_epoch(self, strategy):
            order.append((self.tag, "epoch"))

        def penalty(self, strategy, y_pred, y_true, inputs):
            if ("penalty" not in [o[1] for o in order if o[0] == self.tag]):
                order.append((self.tag, "penalty"))
            return None

        def after_training_exp(self, strategy, experience):
            order.append((self.tag, "after_exp"))

    net = Naive(plugins=[("a", Tracer("a")), ("b", Tracer("b"))], **{**TINY, "max_epochs": 1})
    net.partial_fit(train[0])
    assert order == [("a", "before_exp"), ("b", "before_exp"), ("a", "adapt_data"),
                     ("b", "adapt_data"), ("a", "epoch"), ("b", "epoch"), ("a", "penalty"),
                     ("b", "penalty"), ("a", "after_exp"), ("b", "after_exp")]


def test_penalty_reaches_the_loss():
    class Huge(StrategyPlugin):
        def penalty(self, strategy, y_pred, y_true, inputs):
            return 1000.0 + 0 * y_pred.sum()

    X, y = np.random.RandomState(0).rand(32, 2), np.arange(32) % 2
    plain = Naive(**TINY).partial_fit(X, y)
    penal = Naive(plugins=[Huge()], **TINY).partial_fit(X, y)
    assert penal.history[-1, "train_loss"] > plain.history[-1, "train_loss"] + 999


def test_cumulative_trains_on_union(digits_streams):
    train, test = digits_streams
    net = Cumulative(**TINY)
    for exp in train:
        net.partial_fit(exp)
    assert len(net.named_plugins_["cumulative"].data_) == sum(len(e) for e in train)
    naive = Naive(**TINY)
    for exp in train:
        naive.partial_fit(exp)
    acc = lambda n: np.mean([n.score(e) for e in test])  # noqa: E731
    assert acc(net) > acc(naive) + 0.3


def test_joint_training_has_no_partial_fit_and_trains_once(digits_streams):
    train, test = digits_streams
    assert not hasattr(JointTraining(), "partial_fit")
    net = JointTraining(**{**TINY, "max_epochs": 5}).fit(train)
    assert net.n_experiences_ == 1
    assert np.mean([net.score(e) for e in test]) > 0.8


def test_grid_search_over_stream(digits_streams):
    train, _ = digits_streams
    X, y, ids, _ = stream_to_arrays(train)
    search = GridSearchCV(
        Naive(**TINY), {"lr": [0.0001, 0.1], "max_epochs": [1, 2]}, cv=GroupKFold(2), n_jobs=2,
    )
    # cross-validate over samples from every experience: split by a second id
    folds = np.arange(len(y)) % 2
    search.fit(X, y, experience=ids, groups=folds)
    assert search.best_params_["lr"] == 0.1
    assert search.best_estimator_.n_experiences_ == 5


def test_pipeline_forwards_experience_ids(digits_streams):
    train, test = digits_streams
    X, y, ids, _ = stream_to_arrays(train)
    pipe = make_pipeline(StandardScaler(), Naive(**TINY)).fit(X, y, naive__experience=ids)
    assert pipe[-1].n_experiences_ == 5
    assert pipe.score(test[-1].X, test[-1].y) > 0.5


def test_skorch_callbacks_keep_working(digits_streams):
    train, _ = digits_streams
    net = Naive(callbacks=[("acc", EpochScoring("accuracy", on_train=True, lower_is_better=False))],
                **TINY)
    net.partial_fit(train[0])
    assert "accuracy" in net.history[-1]
    assert net.history[-1, "experience"] == 0


def test_early_stopping_plugin_stops_and_restores_best(digits_streams):
    train, test = digits_streams
    plugin = EarlyStoppingPlugin(patience=1, metric="accuracy")
    net = Naive(plugins=[plugin], **{**TINY, "max_epochs": 30, "lr": 0.5})
    net.partial_fit(train[0], eval_streams={"valid": test[:1]})
    live = net.named_plugins_["earlystopping"]
    assert live.stopped_epoch_ is not None and live.stopped_epoch_ < 29
    assert len(net.history) == live.stopped_epoch_ + 1
    assert net.score(test[0]) == pytest.approx(live.best_)
    # patience restarts with each experience
    net.partial_fit(train[1], eval_streams={"valid": test[1:2]})
    assert len(net.history) > live.stopped_epoch_ + 1
    with pytest.raises(ValueError, match="No validation stream named 'valid'"):
        net.partial_fit(train[2])


def test_lr_scheduler_plugin_steps_and_resets(digits_streams):
    train, _ = digits_streams
    lrs = []

    class Spy(StrategyPlugin):
        def after_training_epoch(self, strategy):
            lrs.append(strategy.optimizer_.param_groups[0]["lr"])

    plugin = LRSchedulerPlugin("StepLR", {"step_size": 1, "gamma": 0.5})
    net = Naive(plugins=[plugin, Spy()], **{**TINY, "max_epochs": 3, "lr": 0.4})
    net.partial_fit(train[0])
    net.partial_fit(train[1])
    # the spy runs after the scheduler: 0.2, 0.1, 0.05 within each experience
    assert lrs == pytest.approx([0.2, 0.1, 0.05] * 2)
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(0.4)
    keep = Naive(plugins=[LRSchedulerPlugin("StepLR", {"step_size": 1, "gamma": 0.5},
                                            reset_lr=False, reset_scheduler=False)],
                 **{**TINY, "max_epochs": 2, "lr": 0.4})
    keep.partial_fit(train[0]).partial_fit(train[1])
    assert keep.optimizer_.param_groups[0]["lr"] == pytest.approx(0.4 / 16)


def test_stop_training_from_a_plugin():
    class StopAfterTwo(StrategyPlugin):
        def after_training_iteration(self, strategy, batch):
            self.n_ = getattr(self, "n_", 0) + 1
            if self.n_ >= 2:
                strategy.stop_training()

    X, y = np.random.RandomState(0).rand(320, 2), np.arange(320) % 2
    net = Naive(plugins=[StopAfterTwo()], **{**TINY, "max_epochs": 5}).partial_fit(X, y)
    assert net.named_plugins_["stopaftertwo"].n_ == 2
    net.partial_fit(X, y)  # the next experience trains again
    assert net.named_plugins_["stopaftertwo"].n_ == 3


def test_experience_object_and_task_labels_fit_param():
    X, y = np.random.RandomState(0).rand(20, 2), np.arange(20) % 2
    net = Naive(**TINY).partial_fit(Experience(X, y, task_label=3))
    assert list(net.units_by_task_) == [3]
    net.partial_fit(X, y, task_labels=np.full(20, 4))
    assert sorted(net.units_by_task_) == [3, 4]


def test_seeded_runs_are_reproducible_when_trained_in_threads(digits_streams):
    from concurrent.futures import ThreadPoolExecutor

    train, test = digits_streams

    def run(seed):
        net = Naive(**{**TINY, "random_state": seed, "module__dropout": 0.3})
        for exp in train[:3]:
            net.partial_fit(exp)
        return net.predict_proba(test[0].X)

    seeds = (0, 1, 2, 3)
    serial = [run(s) for s in seeds]
    with ThreadPoolExecutor(len(seeds)) as pool:
        threaded = list(pool.map(run, seeds))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


def test_silent_at_verbose_0_and_logs_at_verbose_1(digits_streams, capsys):
    train, _ = digits_streams
    Naive(**TINY).partial_fit(train[0]).predict(train[0].X)
    assert capsys.readouterr().out == ""
    Naive(**{**TINY, "verbose": 1}).partial_fit(train[0])
    assert "train_loss" in capsys.readouterr().out


def test_gradient_callbacks_and_closure_optimizers_still_work():
    from skorch.callbacks import Callback, GradientNormClipping

    class GradSpy(Callback):
        def on_grad_computed(self, net, named_parameters, **kwargs):
            self.norms_ = getattr(self, "norms_", []) + [
                float(sum(p.grad.norm() for _, p in named_parameters if p.grad is not None))]

    X, y = np.random.RandomState(0).rand(64, 3).astype(np.float32), np.arange(64) % 2
    spy = GradSpy()
    Naive(callbacks=[("clip", GradientNormClipping(0.1)), ("spy", spy)], **TINY).partial_fit(X, y)
    assert len(spy.norms_) == 2 * 2  # 2 batches of 32, 2 epochs
    lbfgs = Naive(optimizer=torch.optim.LBFGS, **{**TINY, "lr": 0.5, "max_epochs": 5})
    lbfgs.partial_fit(X, y)
    losses = lbfgs.history[:, "train_loss"]
    assert losses[-1] < losses[0]
