"""The base class's contract added with the architecture work: declared parameters checked
first, interrupts and divergence with rollback, scikit-learn conventions (repr, classes=,
feature names), Avalanche names in messages, one hook protocol."""

import ast
import inspect
import pathlib
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import skcl.strategies as strategies
from skcl.benchmarks import split_digits, stream_to_arrays
from skcl.exceptions import DivergenceError, InvalidParameterError
from skcl.plugins import StrategyPlugin
from skcl.strategies import EWC, BaseStrategy, Naive, Replay

TINY = {"module__hidden_sizes": (16,), "max_epochs": 1, "lr": 0.1, "random_state": 0}


@pytest.fixture(scope="module")
def stream():
    return split_digits(n_experiences=3, random_state=0)[0]


def _state(net):
    return pickle.dumps((net.module_.state_dict(), net.optimizer_.state_dict(),
                         net.class_order_, net.n_experiences_, len(net.history_)))


class Interrupt(StrategyPlugin):
    """Raises KeyboardInterrupt at the given (experience, minibatch)."""

    def __init__(self, at=(1, 3)):
        self.at = at

    def before_training_exp(self, strategy, experience):
        self.n_ = 0

    def after_training_iteration(self, strategy, batch):
        self.n_ += 1
        if (strategy.n_experiences_, self.n_) == tuple(self.at):
            raise KeyboardInterrupt


# -- item 3 (issue 10): parameters declared once, checked first --------------------------
@pytest.mark.parametrize("params, name", [
    ({"lr": "fast"}, "lr"), ({"lr": float("inf")}, "lr"), ({"max_epochs": -1}, "max_epochs"),
    ({"batch_size": 0}, "batch_size"), ({"on_divergence": "explode"}, "on_divergence"),
    ({"reset_optimizer": "yes"}, "reset_optimizer"),
])
def test_bad_strategy_parameter_is_named_and_changes_nothing(stream, params, name):
    net = Naive(**TINY).partial_fit(stream[0])
    net.set_params(**params)  # skorch passes lr on to the optimizer here already
    before = _state(net)
    with pytest.raises(InvalidParameterError, match=f"parameter '{name}' must be"):
        net.partial_fit(stream[1])
    assert _state(net) == before
    assert isinstance(InvalidParameterError("x"), ValueError)


def test_builtin_plugin_parameter_reported_under_its_flat_name(stream):
    with pytest.raises(ValueError, match="parameter 'ewc_lambda' must be"):
        EWC(ewc_lambda=-1.0, **TINY).partial_fit(stream[0])


def _named_strategies():
    return [getattr(strategies, n) for n in strategies.__all__
            if isinstance(getattr(strategies, n), type)
            and issubclass(getattr(strategies, n), BaseStrategy)
            and getattr(strategies, n)._builtin_plugins]


@pytest.mark.parametrize("cls", _named_strategies(), ids=lambda c: c.__name__)
def test_flat_parameters_agree_with_the_plugins(cls):
    """Every built-in plugin parameter is aliased with the plugin's own default, or excluded
    with a reason (``_excluded_plugin_params``)."""
    flat_defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()}
    excluded = getattr(cls, "_excluded_plugin_params", {})
    aliased = {v: k for k, v in cls._plugin_aliases.items()}
    for name, plugin_cls in cls._builtin_plugins.items():
        for param, p in inspect.signature(plugin_cls.__init__).parameters.items():
            if param == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            if (name, param) in excluded:
                assert excluded[(name, param)], "an exclusion needs its reason"
                continue
            assert (name, param) in aliased, f"{cls.__name__}: {name}.{param} has no flat alias"
            flat = aliased[(name, param)]
            assert repr(flat_defaults[flat]) == repr(p.default), (
                f"{cls.__name__}.{flat} defaults to {flat_defaults[flat]!r} but "
                f"{plugin_cls.__name__}.{param} to {p.default!r}")


# -- issue 12 items 2 and 3: interrupts and divergence ----------------------------------
def test_ctrl_c_propagates_from_partial_fit_and_rolls_back(stream):
    net = Naive(plugins=[Interrupt()], **TINY).partial_fit(stream[0])
    before = _state(net)
    with pytest.raises(KeyboardInterrupt):
        net.partial_fit(stream[1])
    assert _state(net) == before
    net.set_params(plugins__interrupt__at=(-1, -1)).partial_fit(stream[1])  # resumable
    assert net.n_experiences_ == 2


def test_ctrl_c_in_fit_keeps_completed_experiences_and_names_the_interrupted_one(stream):
    net = Naive(plugins=[Interrupt(at=(2, 1))], **TINY)
    with pytest.raises(KeyboardInterrupt) as info:
        net.fit(stream)
    assert net.n_experiences_ == 2
    assert "interrupted in experience 2" in " ".join(getattr(info.value, "__notes__", []))
    reference = Naive(**TINY).fit(stream[:2])
    X = stream[0].X
    np.testing.assert_array_equal(net.predict_proba(X), reference.predict_proba(X))


def test_stop_training_still_ends_the_experience_quietly(stream):
    class StopAtOnce(StrategyPlugin):
        def after_training_iteration(self, strategy, batch):
            strategy.stop_training()

    net = Naive(plugins=[StopAtOnce()], **{**TINY, "max_epochs": 3}).partial_fit(stream[0])
    assert net.n_experiences_ == 1 and len(net.history_) == 1


def _unscaled(stream):
    X = np.asarray(stream[0].X) * 1e6  # pixels in [0, 1e6] instead of [0, 1]
    return X, np.asarray(stream[0].y)


def test_divergence_raises_and_rolls_back(stream):
    net = Naive(**TINY).partial_fit(stream[0])
    X, y = _unscaled(stream)
    net.set_params(lr=1e6)
    before = _state(net)
    with pytest.raises(DivergenceError, match=r"experience 1 \(0-based\), epoch 0, minibatch"):
        net.partial_fit(X, y)
    assert _state(net) == before
    assert np.isfinite(net.predict_proba(X)).all()


def test_divergence_warn_and_ignore(stream):
    X, y = _unscaled(stream)
    with pytest.warns(RuntimeWarning, match="diverged"):
        Naive(**{**TINY, "lr": 1e6}, on_divergence="warn").partial_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Naive(**{**TINY, "lr": 1e6}, on_divergence="ignore").partial_fit(X, y)


# -- issue 10 item 6: scikit-learn conventions ------------------------------------------
def test_repr_shows_a_named_strategys_own_parameters():
    assert repr(EWC(ewc_lambda=10.0, lr=0.5)) == "EWC(lr=0.5, ewc_lambda=10.0)"
    assert repr(Naive()) == "Naive()"


def test_later_partial_fit_with_other_classes_raises(stream):
    net = Naive(**TINY).partial_fit(stream[0], classes=np.arange(10))
    net.partial_fit(stream[1], classes=np.arange(10))  # the same: fine
    before = _state(net)
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        net.partial_fit(stream[2], classes=np.arange(12))
    assert _state(net) == before
    unfixed = Naive(**TINY).partial_fit(stream[0])
    with pytest.raises(ValueError, match="did not fix the classes"):
        unfixed.partial_fit(stream[1], classes=np.arange(10))


def test_fit_dataframe_with_experience_ids_keeps_feature_names(stream):
    X, y, ids, _ = stream_to_arrays(stream)
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(X.shape[1])])
    net = Naive(**TINY).fit(df, y, experience=ids)
    assert list(net.feature_names_in_) == list(df.columns)
    with pytest.warns(UserWarning, match="feature names"):
        net.predict(X)


# -- issue 12 item 11: Avalanche's names -------------------------------------------------
@pytest.mark.parametrize("avalanche, skcl_name", [
    ("train_mb_size", "batch_size"), ("eval_mb_size", "iterator_valid__batch_size"),
    ("train_epochs", "max_epochs"), ("eval_every", r"plugins=\[EvaluationPlugin"),
])
def test_avalanche_names_point_to_the_skcl_name(stream, avalanche, skcl_name):
    with pytest.raises(ValueError, match=f"did you mean '{skcl_name}"):
        Naive(**{avalanche: 3}).partial_fit(stream[0])
    with pytest.raises(ValueError, match=f"Did you mean '{skcl_name}"):
        Naive().set_params(**{avalanche: 3})


def test_patterns_per_exp_points_to_patterns_per_experience(stream):
    from skcl.strategies import GEM

    with pytest.raises(ValueError, match="did you mean 'patterns_per_experience'"):
        GEM(patterns_per_exp=3).partial_fit(stream[0])


# -- issue 10 item 2: one hook protocol: no plugin or metric touches a strategy private --
def _private_strategy_accesses(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in ("strategy", "net", "estimator")
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_plugins_and_metrics_use_only_the_public_protocol():
    root = pathlib.Path(strategies.__file__).parent.parent
    files = [*root.joinpath("plugins").glob("*.py"), *root.joinpath("evaluation").glob("*.py")]
    offenders = [hit for f in files for hit in _private_strategy_accesses(f)]
    assert not offenders, offenders



# -- issue 10 item 5: skorch-native checkpoints carry the continual-learning state --------
def _files(tmp_path):
    return {k: str(tmp_path / f"{k}.pt") for k in ("f_params", "f_optimizer", "f_cl_state")}


@pytest.mark.parametrize("make", [
    lambda: Naive(**TINY),
    lambda: Replay(mem_size=30, **TINY),
    lambda: EWC(ewc_lambda=10.0, **TINY),
    lambda: strategies.LwF(**TINY),
    lambda: strategies.ICaRL(memory_size=30, **TINY),
], ids=["Naive", "Replay", "EWC", "LwF", "ICaRL"])
def test_save_load_params_continue_exactly(tmp_path, stream, make):
    from sklearn.base import clone

    net = make().partial_fit(stream[0]).partial_fit(stream[1])
    net.save_params(**_files(tmp_path))
    fresh = clone(net)
    fresh.load_params(**_files(tmp_path))
    X = stream[2].X
    np.testing.assert_array_equal(fresh.predict_proba(X), net.predict_proba(X))
    assert fresh.n_experiences_ == 2
    net.partial_fit(stream[2])
    fresh.partial_fit(stream[2])
    np.testing.assert_array_equal(fresh.predict_proba(X), net.predict_proba(X))


def test_load_params_into_unfitted_strategy_without_cl_state_says_what_to_pass(tmp_path, stream):
    from sklearn.base import clone

    net = Naive(**TINY).partial_fit(stream[0])
    net.save_params(f_params=str(tmp_path / "p.pt"))
    with pytest.raises(ValueError, match="f_cl_state"):
        clone(net).load_params(f_params=str(tmp_path / "p.pt"))


def test_skorch_checkpoint_and_load_init_state_carry_the_state(tmp_path, stream):
    from sklearn.base import clone
    from skorch.callbacks import Checkpoint

    cp = Checkpoint(monitor=None, dirname=str(tmp_path), f_cl_state="cl_state.pt")
    net = Replay(mem_size=30, callbacks=[cp], **TINY).partial_fit(stream[0])
    fresh = clone(net)
    fresh.load_params(checkpoint=cp)
    np.testing.assert_array_equal(fresh.predict_proba(stream[1].X),
                                  net.predict_proba(stream[1].X))
    live, loaded = net.named_plugins_["replay"], fresh.named_plugins_["replay"]
    assert loaded.current_data_ is None and fresh.n_experiences_ == 1  # the finished experience
    np.testing.assert_array_equal(live.storage_.y_, loaded.storage_.y_)
    net.partial_fit(stream[1])
    fresh.partial_fit(stream[1])
    np.testing.assert_array_equal(fresh.predict_proba(stream[2].X),
                                  net.predict_proba(stream[2].X))


def test_base_strategy_provides_the_plugin_protocol(stream):
    from skcl.plugins import PROTOCOL_ATTRIBUTES, StrategyProtocol

    seen = {}

    class Probe(StrategyPlugin):
        def before_training_exp(self, strategy, experience):
            seen.update({name: hasattr(strategy, name) for name in PROTOCOL_ATTRIBUTES})
            seen["protocol"] = isinstance(strategy, StrategyProtocol)

    Naive(plugins=[Probe()], **TINY).partial_fit(stream[0])
    assert seen.pop("protocol") and all(seen.values()), seen


@pytest.mark.parametrize("variant", [{}, {"readonly_memmap": True},
                                     {"readonly_memmap": True, "X_dtype": "float32"}],
                         ids=["plain", "memmap", "memmap-float32"])
def test_a_default_strategy_learns(variant):
    """Defaults that learn (scikit-learn's MLPClassifier spirit): a default-constructed
    Naive passes check_classifiers_train, not only the tuned _unit_test_params."""
    from sklearn.utils.estimator_checks import check_classifiers_train

    from skcl.strategies import Naive

    check_classifiers_train("Naive", Naive(random_state=0), **variant)
