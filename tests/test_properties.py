"""Property-based trust test (issue 12): random sequences of valid and invalid calls against
every strategy in ``skcl.strategies.__all__`` and every buffer policy.

After each call: a valid call succeeds; an invalid one raises ``ValueError``/``TypeError`` and
leaves the object bit-identical (``tests/_state.py``); predictions are among ``classes_`` and
probabilities are finite and sum to 1; buffers hold at most ``max_size`` aligned exemplars; a
pickle round trip keeps every attribute and the predictions.
"""

import os
import pickle

import numpy as np
import pytest
import torch
from _state import full_state, state_by_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

import skcl.buffers as buffers
import skcl.strategies as strategies
from skcl.plugins import StrategyPlugin

N_FEATURES = 16  # 4x4: AR1's default model reads square gray images
STRATEGIES = [n for n in strategies.__all__ if isinstance(getattr(strategies, n), type)
              and issubclass(getattr(strategies, n), strategies.BaseStrategy)]
#: ``SKCL_PROP_EXAMPLES=50`` explores longer (the suite runs a few examples per strategy).
SETTINGS = settings(max_examples=int(os.environ.get("SKCL_PROP_EXAMPLES", 3)), deadline=None,
                    derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def _batch(seed: int, n: int | None = None, width: int = N_FEATURES):
    rng = np.random.RandomState(seed)
    n = n or int(rng.randint(6, 17))
    classes = rng.choice(6, size=rng.randint(1, 4), replace=False)
    return rng.rand(n, width).astype(np.float32), classes[rng.randint(0, len(classes), n)]


PROBE = _batch(12345, 10)[0]


#: The fault to inject, kept outside the strategy (so arming it changes nothing in the state).
FAULT = {"at": None, "tick": 0, "fired": False, "kind": RuntimeError}


class Fault(StrategyPlugin):
    """Raises ``FAULT["kind"]`` at the ``FAULT["at"]``-th hook call (any hook of training), or
    at the end of the experience (``"end"``: after the memories' updates)."""

    def _tick(self):
        if isinstance(FAULT["at"], int):
            FAULT["tick"] += 1
            if FAULT["tick"] == FAULT["at"]:
                FAULT["fired"], FAULT["at"] = True, None
                raise FAULT["kind"]("injected fault")

    def before_training_exp(self, strategy, experience):
        self._tick()

    def before_training_epoch(self, strategy):
        self._tick()

    def adapt_batch(self, strategy, batch):
        self._tick()
        return batch

    def after_forward(self, strategy, y_pred, y_true, inputs):
        self._tick()

    def after_backward(self, strategy):
        self._tick()

    def after_training_iteration(self, strategy, batch):
        self._tick()

    def after_training_exp(self, strategy, experience):
        if FAULT["at"] == "end":  # after the built-in plugins updated their memories
            FAULT["fired"], FAULT["at"] = True, None
            raise FAULT["kind"]("injected fault")
        self._tick()


def _train(net, X, y):
    if isinstance(net, strategies.JointTraining):  # trains once on a whole stream
        return net.fit(X, y, experience=np.arange(len(y)) % 2)
    return net.partial_fit(X, y)


def _fitted(net) -> bool:
    return "class_order_" in vars(net)


def _continues(net) -> bool:
    """Whether training continues from the fitted state (JointTraining restarts on fit)."""
    return _fitted(net) and not isinstance(net, strategies.JointTraining)


def _check_outputs(net):
    if not _fitted(net):
        return
    proba = net.predict_proba(PROBE)
    assert proba.shape == (len(PROBE), len(net.classes_))
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.isin(net.predict(PROBE), net.classes_).all()


def _refused(obj, call, *args, errors=(ValueError, TypeError), **kwargs):
    """``call(*args, **kwargs)`` raises one of ``errors`` and changes nothing in ``obj``."""
    before, keys = full_state(obj), state_by_key(obj)
    with pytest.raises(errors):
        call(*args, **kwargs)
    if full_state(obj) != before:
        after = state_by_key(obj)
        changed = sorted(k for k in set(keys) | set(after) if keys.get(k) != after.get(k))
        raise AssertionError(f"a refused call changed {type(obj).__name__}: {changed}")


STRATEGY_OPS = ["train", "train", "train", "fault", "fault", "predict", "pickle", "set_params",
                "bad_width", "bad_length", "nan", "string_labels", "bad_param",
                "unknown_param", "predict_bad_width"]


@pytest.mark.parametrize("name", STRATEGIES)
@SETTINGS
@given(ops=st.lists(st.sampled_from(STRATEGY_OPS), min_size=1, max_size=6),
       seed=st.integers(0, 2**16))
def test_random_call_sequences_on_every_strategy(name, ops, seed):
    net = getattr(strategies, name)(max_epochs=1, batch_size=8, random_state=0,
                                    plugins=[("fault", Fault())])
    # a small memory fills up, so updates evict (in place, journaled, inside partial_fit)
    net.set_params(**{k: 8 for k in ("mem_size", "memory_size") if k in net.get_params()})
    for step, op in enumerate(ops):
        X, y = _batch(seed + step)
        if op == "train":
            _train(net, X, y)
        elif op == "predict":
            if _fitted(net):
                before = full_state(net)
                _check_outputs(net)
                net.score(X, y) if set(y) <= set(net.classes_) else None
                assert full_state(net) == before
            else:
                _refused(net, net.predict, X, errors=NotFittedError)
        elif op == "pickle":
            copy = pickle.loads(pickle.dumps(net))
            assert state_by_key(copy) == state_by_key(net)
            if _fitted(net):
                np.testing.assert_array_equal(copy.predict_proba(PROBE), net.predict_proba(PROBE))
            net = copy
        elif op == "set_params":
            net.set_params(lr=0.05)
        elif op == "bad_width" and _continues(net):
            _refused(net, _train, net, X[:, :-1], y)
        elif op == "bad_length":
            _refused(net, _train, net, X, y[:-1])
        elif op == "nan":
            X[0, 0] = np.nan
            _refused(net, _train, net, X, y)
        elif op == "string_labels" and _continues(net):
            _refused(net, _train, net, X, np.array([f"c{v}" for v in y]))
        elif op == "bad_param":
            lr = net.lr
            net.set_params(lr=-1.0)
            _refused(net, _train, net, X, y)
            net.set_params(lr=lr)
        elif op == "fault":  # an exception (or Ctrl-C) from a hook at a random point
            at = (seed + step) % 14 + 1
            FAULT.update(at="end" if at > 12 else at, tick=0, fired=False,
                         kind=(RuntimeError, KeyboardInterrupt)[(seed + step) % 2])
            before, keys = full_state(net), state_by_key(net)
            try:
                _train(net, X, y)
            except (RuntimeError, KeyboardInterrupt) as exc:
                assert FAULT["fired"] and "injected fault" in str(exc)
                after = state_by_key(net)
                assert full_state(net) == before, sorted(
                    k for k in set(keys) | set(after) if keys.get(k) != after.get(k))
            else:
                assert not FAULT["fired"]  # the experience had fewer hook calls: it trained
            FAULT["at"] = None
        elif op == "unknown_param":
            _refused(net, net.set_params, learning_rate_typo=0.1)
        elif op == "predict_bad_width" and _fitted(net):
            _refused(net, net.predict, X[:, :-1])
        _check_outputs(net)


# -- buffers ------------------------------------------------------------------------------
BUFFER_CONFIGS = [
    (getattr(buffers, n), {}) for n in buffers.__all__
    if not getattr(getattr(buffers, n), "__abstractmethods__", None)
] + [(buffers.ClassBalancedBuffer, {"adaptive_size": False, "total_num_classes": 3})]

BUFFER_OPS = ["update", "update", "update", "update_torch", "resize", "bad_resize", "sample",
              "transform", "pickle", "bad_width", "bad_length", "string_labels", "fit"]


def _check_buffer(buf, max_size):
    assert buf.max_size == max_size and len(buf) <= max_size
    if not hasattr(buf, "X_"):
        return
    n = len(buf.X_)
    assert len(buf.y_) == len(buf.task_labels_) == len(buf.experience_ids_) == len(buf.keys_) == n
    held = buf.y_.numpy() if isinstance(buf.y_, torch.Tensor) else np.asarray(buf.y_)
    assert np.isin(held, buf.classes_).all()


@pytest.mark.parametrize("cls, params", BUFFER_CONFIGS,
                         ids=[f"{c.__name__}{'-fixed' if p else ''}" for c, p in BUFFER_CONFIGS])
@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(ops=st.lists(st.sampled_from(BUFFER_OPS), min_size=1, max_size=8),
       seed=st.integers(0, 2**16), max_size=st.integers(0, 12))
def test_random_call_sequences_on_every_buffer(cls, params, ops, seed, max_size):
    buf = cls(max_size=max_size, random_state=0, **params)
    limit = params.get("total_num_classes")
    torch_input = None  # the first update fixes numpy or torch
    for step, op in enumerate(ops):
        X, y = _batch(seed + step, width=4)
        fitted = hasattr(buf, "X_")
        if op in ("update", "update_torch", "fit"):
            as_torch = (op == "update_torch") if torch_input is None or op == "fit" else torch_input
            Xi, yi = (torch.as_tensor(X), torch.as_tensor(y)) if as_torch else (X, y)
            seen = set() if op == "fit" or not fitted else set(buf.classes_.tolist())
            call = buf.fit if op == "fit" else buf.partial_fit
            if limit is not None and len(seen | set(y.tolist())) > limit:
                _refused(buf, call, Xi, yi)
            else:
                n_seen = 0 if op == "fit" or not fitted else buf.n_seen_
                call(Xi, yi)
                torch_input = as_torch
                assert buf.n_seen_ == n_seen + len(y)
        elif op == "resize":
            buf.resize(max_size // 2)
            max_size = max_size // 2
        elif op == "bad_resize":
            _refused(buf, buf.resize, -1)
        elif op == "sample" and fitted:
            Xs, ys, _ = buf.sample(3)
            assert len(Xs) == len(ys) == min(3, len(buf))
        elif op == "transform" and fitted:
            before = full_state(buf)
            out = buf.transform(torch.as_tensor(X) if torch_input else X)
            assert full_state(buf) == before and out.shape == X.shape
        elif op == "pickle":
            copy = pickle.loads(pickle.dumps(buf))
            assert state_by_key(copy) == state_by_key(buf)
            buf = copy
        elif op == "bad_width" and fitted:
            Xw = X[:, :3]
            _refused(buf, buf.partial_fit, torch.as_tensor(Xw) if torch_input else Xw, y)
        elif op == "bad_length":
            _refused(buf, buf.partial_fit, X, y[:-1])
        elif op == "string_labels" and fitted:
            _refused(buf, buf.partial_fit, X, np.array([f"c{v}" for v in y]))
        _check_buffer(buf, max_size)
