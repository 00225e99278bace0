"""Transactions (issue 12): read-only verbs change nothing; a failed mutating verb leaves its
object bit-identical (weights, training flags, optimizer, counters, generators, plugins,
buffers, history); labels keep their type."""

import numpy as np
import pytest
from _state import full_state

import skcl.buffers as buffers
import skcl.strategies as strategies
from skcl.benchmarks import split_digits
from skcl.plugins import StrategyPlugin

STRATEGIES = [n for n in strategies.__all__ if isinstance(getattr(strategies, n), type)
              and issubclass(getattr(strategies, n), strategies.BaseStrategy)
              and n not in ("BaseStrategy",)]
BUFFERS = [n for n in buffers.__all__ if isinstance(getattr(buffers, n), type)
           and issubclass(getattr(buffers, n), buffers.ExemplarsBuffer)
           and not getattr(getattr(buffers, n), "__abstractmethods__", None)]


@pytest.fixture(scope="module")
def stream():
    return split_digits(n_experiences=3, random_state=0)


class Boom(StrategyPlugin):
    """Raises in the middle of the second experience it sees."""

    def __init__(self, at_batch=1):
        self.at_batch = at_batch

    def before_training_exp(self, strategy, experience):
        self.n_ = 0

    def after_training_iteration(self, strategy, batch):
        self.n_ += 1
        if strategy.n_experiences_ >= 1 and self.n_ == self.at_batch:
            raise RuntimeError("boom")


def _fitted(name, stream, plugins=None):
    cls = getattr(strategies, name)
    net = cls(max_epochs=1, random_state=0, plugins=plugins)
    if name == "JointTraining":
        return net.fit(stream[0][:1])
    return net.partial_fit(stream[0][0])


@pytest.mark.parametrize("name", STRATEGIES)
def test_read_only_verbs_change_nothing(name, stream):
    net = _fitted(name, stream)
    test = stream[1][0]
    before = full_state(net)
    net.predict(test.X)
    net.predict_proba(test.X)
    net.score(test)
    net.forward_logits(test.X)
    assert full_state(net) == before
    assert net.criterion_.training  # predict used to leave it in eval mode


@pytest.mark.parametrize("name", [n for n in STRATEGIES if n != "JointTraining"])
def test_a_failure_mid_experience_leaves_the_strategy_bit_identical(name, stream):
    net = _fitted(name, stream, plugins=[("boom", Boom())])
    before = full_state(net)
    with pytest.raises(RuntimeError, match="boom"):
        net.partial_fit(stream[0][1])
    assert full_state(net) == before
    with pytest.raises(ValueError, match="features"):
        net.partial_fit(stream[0][1].X[:, :5], stream[0][1].y)
    assert full_state(net) == before


@pytest.mark.parametrize("name", BUFFERS)
def test_buffers_read_only_and_failed_updates(name):
    rng = np.random.RandomState(0)
    X, y = rng.rand(30, 4), np.repeat([0, 1, 2], 10)
    buf = getattr(buffers, name)(max_size=10, random_state=0).partial_fit(X, y)
    before = full_state(buf)
    buf.transform(X)
    len(buf)
    assert full_state(buf) == before
    for bad_X, bad_y in [(X[:, :3], y), (X, y[:-1]), (X, np.array(["a"] * 30))]:
        with pytest.raises(ValueError):
            buf.partial_fit(bad_X, bad_y)
        assert full_state(buf) == before


@pytest.mark.parametrize("second, message", [
    (np.array(["a", "b"] * 20), "changed type.*number classes"),
    (np.array([0.5, 1.0] * 20), "continuous|non-integral"),
])
def test_labels_that_change_type_are_refused_and_change_nothing(stream, second, message):
    X = stream[0][0].X[:40]
    net = strategies.Naive(max_epochs=1, random_state=0).partial_fit(X, np.array([0, 1] * 20))
    before = full_state(net)
    with pytest.raises(ValueError, match=message):
        net.partial_fit(X, second)
    assert full_state(net) == before


def test_integral_float_labels_keep_the_integer_classes(stream):
    X = stream[0][0].X[:40]
    net = strategies.Naive(max_epochs=1, random_state=0).partial_fit(X, np.array([0, 1] * 20))
    net.partial_fit(X, np.array([2.0, 3.0] * 20))
    assert net.classes_.dtype.kind == "i" and net.classes_.tolist() == [0, 1, 2, 3]
    assert net.predict(X).dtype.kind == "i"
