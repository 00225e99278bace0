"""Bad input gets a clear error, and a failed partial_fit loses nothing."""

import copy

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skcl.plugins import StrategyPlugin
from skcl.strategies import Naive

TINY = {"module__hidden_sizes": (8,), "max_epochs": 1, "lr": 0.1, "random_state": 0}


class Memory(StrategyPlugin):
    def after_training_exp(self, strategy, experience):
        self.seen_ = getattr(self, "seen_", 0) + len(experience)


class FailsMidway(StrategyPlugin):
    """Raises after a few optimizer steps, once armed."""

    def __init__(self, armed=False):
        self.armed = armed

    def after_training_iteration(self, strategy, batch):
        if self.armed:
            raise RuntimeError("boom")


@pytest.fixture
def fitted():
    rng = np.random.RandomState(0)
    X, y = rng.rand(40, 4).astype(np.float32), np.arange(40) % 2
    net = Naive(plugins=[Memory(), FailsMidway()], **TINY).partial_fit(X, y)
    return net, X, y


def _state(net):
    return {
        "weights": [p.detach().clone() for p in net.module_.parameters()],
        "classes": net.classes_.copy(),
        "n_exp": net.n_experiences_,
        "plugin": {k: (v.bit_generator.state if k == "rng_" else v)
                   for k, v in vars(net.named_plugins_["memory"]).items()},
        "history": len(net.history),
        "opt": copy.deepcopy(net.optimizer_.state_dict()),
    }


def _assert_unchanged(net, before):
    after = _state(net)
    assert all(torch.equal(a, b) for a, b in zip(before["weights"], after["weights"]))
    assert np.array_equal(before["classes"], after["classes"])
    assert before["n_exp"] == after["n_exp"]
    assert before["plugin"] == after["plugin"]
    assert before["history"] == after["history"]
    assert str(before["opt"]) == str(after["opt"])


BAD = {
    "nan": (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y),
            ValueError, "NaN"),
    "inf": (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), y),
            ValueError, "infinity"),
    "length": (lambda X, y: (X, y[:-1]), ValueError, "40 samples but y has 39"),
    "empty": (lambda X, y: (X[:0], y[:0]), ValueError, "Empty experience"),
    "features": (lambda X, y: (X[:, :3], y), ValueError, "3 features.*expecting 4"),
    "y_2d": (lambda X, y: (X, np.c_[y, y]), ValueError, "1-dimensional"),
    "y_none": (lambda X, y: (X, None), ValueError, "requires y"),
    "new_class_but_fixed": None,
}


@pytest.mark.parametrize("case", [k for k, v in BAD.items() if v is not None])
def test_bad_data_is_rejected_and_state_kept(fitted, case):
    net, X, y = fitted
    make, exc, match = BAD[case]
    before = _state(net)
    Xb, yb = make(X.copy(), y.copy())
    with pytest.raises(exc, match=match):
        net.partial_fit(Xb, yb)
    _assert_unchanged(net, before)


@pytest.mark.parametrize("param,value", [("batch_size", 0), ("batch_size", -3),
                                         ("max_epochs", 0), ("max_epochs", 1.5), ("lr", -1.0)])
def test_bad_parameter_values(fitted, param, value):
    net, X, y = fitted
    net.set_params(**{param: value})  # validated at fit time, as in scikit-learn
    before = _state(net)
    with pytest.raises(ValueError, match=param):
        net.partial_fit(X, y)
    _assert_unchanged(net, before)
    with pytest.raises(ValueError, match=param):
        Naive(**{**TINY, param: value}).partial_fit(X, y)


def test_unknown_parameter_names_suggest_a_close_match(fitted):
    net, X, y = fitted
    with pytest.raises(ValueError, match="(?i)did you mean 'max_epochs'"):
        net.set_params(max_epoch=3)
    with pytest.raises(ValueError, match="did you mean 'batch_size'"):
        Naive(batch_sise=3).partial_fit(X, y)


def test_failure_inside_training_rolls_back_everything(fitted):
    net, X, y = fitted
    before = _state(net)
    rng_state = copy.deepcopy(net.rng_.bit_generator.state)
    net.set_params(plugins__failsmidway__armed=True)
    with pytest.raises(RuntimeError, match="boom"):
        net.partial_fit(X + 0.5, (y + 1) % 3)  # a new class grows the head first
    _assert_unchanged(net, before)
    assert net.module_.classifier.out_features == 2
    assert net.rng_.bit_generator.state == rng_state
    # and the strategy still trains normally afterwards
    net.set_params(plugins__failsmidway__armed=False)
    net.partial_fit(X, (y + 1) % 3)
    assert net.classes_.tolist() == [0, 1, 2]


def test_failed_first_call_leaves_an_unfitted_estimator():
    net = Naive(**TINY)
    with pytest.raises(ValueError, match="NaN"):
        net.partial_fit(np.array([[np.nan, 1.0]]), [0])
    assert not hasattr(net, "classes_") and not net.initialized_
    net.partial_fit(np.array([[0.0, 1.0]]), [0])
    assert net.classes_.tolist() == [0]


def test_predict_before_training_raises_not_fitted():
    with pytest.raises(NotFittedError):
        Naive().predict(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        Naive().predict_proba(np.zeros((2, 3)))


def test_predict_with_wrong_features_or_nan(fitted):
    net, X, y = fitted
    with pytest.raises(ValueError, match="expecting 4"):
        net.predict(X[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        net.predict(np.full_like(X, np.nan))


def test_finite_check_accepts_huge_values_and_catches_single_inf(fitted):
    net, X, y = fitted
    huge = np.full_like(X, 3e38)  # finite, but their float32 sum overflows
    assert net.predict(huge).shape == (len(X),)
    for value in (np.inf, -np.inf, np.nan):
        bad = X.copy()
        bad[-1, -1] = value
        with pytest.raises(ValueError, match="NaN|infinity"):
            net.predict(bad)


def test_read_only_input_is_copied_without_warning():
    import warnings

    X = np.random.RandomState(0).rand(30, 4).astype(np.float32)
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = Naive(**TINY).partial_fit(X, np.arange(30) % 2)
        assert net.predict(X).shape == (30,)


def test_plugins_must_be_plugins():
    X, y = np.zeros((4, 2)), [0, 1, 0, 1]
    with pytest.raises(TypeError, match="StrategyPlugin"):
        Naive(plugins=[object()]).partial_fit(X, y)
    with pytest.raises(ValueError, match="Duplicate plugin name"):
        Naive(plugins=[("a", Memory()), ("a", Memory())]).partial_fit(X, y)


def test_fixed_output_layer_too_small_is_reported_before_training():
    X, y = np.random.RandomState(0).rand(30, 4), np.arange(30) % 3
    net = Naive(module=torch.nn.Linear, module__in_features=4, module__out_features=2)
    with pytest.raises(ValueError, match="2 outputs but 3 classes"):
        net.partial_fit(X, y)
    ok = Naive(module=torch.nn.Linear, module__in_features=4, module__out_features=3,
               random_state=0).partial_fit(X, y)
    assert ok.predict_proba(X).shape == (30, 3)


def test_rollback_keeps_plugin_references_to_the_live_module():
    class HoldsLayer(StrategyPlugin):
        def __init__(self, fail=False):
            self.fail = fail

        def before_training_exp(self, strategy, experience):
            self.layer_ = strategy.module_.features[1]

        def after_training_iteration(self, strategy, batch):
            if self.fail:
                raise RuntimeError("boom")

    X, y = np.random.RandomState(0).rand(40, 4).astype(np.float32), np.arange(40) % 2
    net = Naive(plugins=[HoldsLayer()], **TINY).partial_fit(X, y)
    weight = net.module_.features[1].weight.detach().clone()
    net.set_params(plugins__holdslayer__fail=True)
    with pytest.raises(RuntimeError):
        net.partial_fit(X, y)
    live = net.named_plugins_["holdslayer"]
    assert live.layer_ is net.module_.features[1]
    assert torch.equal(net.module_.features[1].weight, weight)
    opt_params = {id(p) for g in net.optimizer_.param_groups for p in g["params"]}
    assert id(net.module_.features[1].weight) in opt_params


class ChangesCriterionThenFails(StrategyPlugin):
    def before_training_exp(self, strategy, experience):
        strategy.criterion_.label_smoothing = 0.5
        with torch.no_grad():
            strategy.criterion_.weight.mul_(3.0)
        raise RuntimeError("boom")


def test_rollback_restores_the_criterion():
    X, y = np.random.RandomState(0).rand(20, 4).astype(np.float32), np.arange(20) % 2
    net = Naive(**TINY, criterion__weight=torch.ones(2)).partial_fit(X, y)
    criterion = net.criterion_
    net.set_params(plugins=[ChangesCriterionThenFails()])
    net.initialize_plugins()
    with pytest.raises(RuntimeError, match="boom"):
        net.partial_fit(X, y)
    assert net.criterion_ is criterion
    assert criterion.label_smoothing == 0.0
    assert torch.equal(criterion.weight, torch.ones(2))
