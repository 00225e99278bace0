"""Issue 10 item 3: every plugin, named strategy and selection strategy declares its parameters
once (``_parameter_constraints``), and a strategy checks them all before anything changes,
reporting a built-in plugin's parameter under the strategy's flat name."""

import importlib
import inspect
import pickle
import pkgutil

import numpy as np
import pytest
import torch

import skcl.plugins
import skcl.selection
import skcl.strategies as strategies
from skcl.benchmarks import split_digits
from skcl.exceptions import InvalidParameterError
from skcl.plugins import StrategyPlugin
from skcl.strategies import BaseStrategy

#: Parameters that accept any string (a layer's name): "x" is a valid value for them.
NAME_PARAMETERS = {"latent_layer_name", "cwr_layer_name"}


def _declared(cls) -> dict:
    out: dict = {}
    for klass in reversed(cls.__mro__):
        out.update(vars(klass).get("_parameter_constraints", {}))
    return out


def _init_params(cls) -> list[str]:
    return [p for p, v in inspect.signature(cls.__init__).parameters.items()
            if p != "self" and v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL)]


def _plugin_classes():
    found = set()
    for info in pkgutil.iter_modules(skcl.plugins.__path__):
        module = importlib.import_module(f"skcl.plugins.{info.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, StrategyPlugin)
                    and obj is not StrategyPlugin and obj.__module__ == module.__name__):
                found.add(obj)
    return sorted(found, key=lambda c: c.__name__)


def _named_strategies():
    return [getattr(strategies, n) for n in strategies.__all__
            if isinstance(getattr(strategies, n), type)
            and issubclass(getattr(strategies, n), BaseStrategy)
            and getattr(strategies, n) is not BaseStrategy]


def _selection_classes():
    return [getattr(skcl.selection, n) for n in skcl.selection.__all__
            if isinstance(getattr(skcl.selection, n), type)]


@pytest.mark.parametrize("cls", [*_plugin_classes(), *_selection_classes()],
                         ids=lambda c: c.__name__)
def test_every_plugin_and_selection_parameter_is_declared(cls):
    missing = [p for p in _init_params(cls) if p not in _declared(cls)]
    assert not missing, f"{cls.__name__} declares no constraint for {missing}"


@pytest.mark.parametrize("cls", _named_strategies(), ids=lambda c: c.__name__)
def test_every_strategy_parameter_is_declared_by_it_or_its_plugin(cls):
    """A flat alias is declared by its plugin; every other parameter of a named strategy's
    own (those BaseStrategy does not have) by the strategy."""
    own, base = _declared(cls), set(_init_params(BaseStrategy))
    missing = [p for p in _init_params(cls)
               if p not in base and p not in own and p not in cls._plugin_aliases]
    assert not missing, f"{cls.__name__} declares no constraint for {missing}"
    for flat, (name, param) in cls._plugin_aliases.items():
        assert param in _declared(cls._builtin_plugins[name]), (
            f"{cls.__name__}.{flat}: {cls._builtin_plugins[name].__name__} does not declare "
            f"{param!r}")


@pytest.mark.parametrize("cls", _plugin_classes(), ids=lambda c: c.__name__)
def test_plugin_defaults_meet_their_declarations(cls):
    cls().validate_parameters()


@pytest.fixture(scope="module")
def stream():
    return split_digits(n_experiences=2, random_state=0)[0]


_FITTED: dict = {}


def _fitted(cls, stream):
    """One fitted instance per strategy class (a tiny, one-epoch fit), shared by the cases."""
    if cls not in _FITTED:
        params = {**cls._unit_test_params(), "max_epochs": 1}
        if "bias_epochs" in params:
            params["bias_epochs"] = 1
        _FITTED[cls] = cls(**params).partial_fit(stream[0])
    return _FITTED[cls]


def _state(net):
    optimizer = getattr(net, "optimizer_", None)
    return pickle.dumps((net.module_.state_dict(),
                         optimizer.state_dict() if optimizer is not None else None,
                         net.class_order_, net.n_experiences_, len(net.history_)))


def _alias_cases():
    cases = []
    for cls in _named_strategies():
        for flat in cls._plugin_aliases:
            for bad in (-1, "x"):
                if bad == "x" and flat in NAME_PARAMETERS:
                    continue  # any string names a layer; -1 is the invalid value here
                cases.append(pytest.param(cls, flat, bad, id=f"{cls.__name__}-{flat}-{bad}"))
    return cases


@pytest.mark.parametrize("cls, flat, bad", _alias_cases())
def test_invalid_flat_parameter_is_named_and_changes_nothing(stream, cls, flat, bad):
    net = _fitted(cls, stream)
    good = net.get_params(deep=False)[flat]
    n_before, before = net.n_experiences_, _state(net)
    net.set_params(**{flat: bad})
    try:
        with pytest.raises(InvalidParameterError,
                           match=rf"^{cls.__name__}: parameter '{flat}' must be"):
            net.partial_fit(stream[1])
        assert net.n_experiences_ == n_before
        assert _state(net) == before
    finally:
        net.set_params(**{flat: good})
    # and on an unfitted instance, before anything is built
    fresh = cls(**{**cls._unit_test_params(), flat: bad})
    with pytest.raises(InvalidParameterError, match=f"parameter '{flat}' must be"):
        fresh.partial_fit(stream[0])
    assert not hasattr(fresh, "class_order_")


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "online"}, r"EWC: parameter 'decay_factor' is required when mode='online'"),
    ({"decay_factor": 0.5}, r"EWC: parameter 'decay_factor' is only used when mode='online'"),
])
def test_relations_between_parameters_use_the_flat_names(stream, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        strategies.EWC(**{**strategies.EWC._unit_test_params(), **kwargs}).partial_fit(stream[0])


def test_user_plugin_relation_is_named_by_its_nested_path(stream):
    from skcl.buffers import ClassBalancedBuffer
    from skcl.plugins import ReplayPlugin

    plugin = ReplayPlugin(mem_size=10, storage_policy=ClassBalancedBuffer(max_size=5))
    with pytest.raises(InvalidParameterError,
                       match=r"Naive: plugins__replay__storage_policy.max_size \(5\) must "
                             r"equal plugins__replay__mem_size \(10\)"):
        strategies.Naive(plugins=[plugin], max_epochs=1).partial_fit(stream[0])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.5, "x"])
def test_real_plugin_parameters_must_be_finite(stream, value):
    with pytest.raises(InvalidParameterError, match="'temperature' must be a finite real"):
        strategies.LwF(temperature=value, max_epochs=1).partial_fit(stream[0])


def test_selection_strategy_parameters_are_checked_before_use():
    from skcl.selection import HerdingSelectionStrategy

    s = HerdingSelectionStrategy(torch.nn.Identity(), "", batch_size=0)
    with pytest.raises(InvalidParameterError,
                       match=r"HerdingSelectionStrategy: parameter 'batch_size' must be"):
        s.make_sorted_indices(np.zeros((3, 2), dtype="float32"))
    with pytest.raises(InvalidParameterError, match="'normalize' must be a bool"):
        HerdingSelectionStrategy(torch.nn.Identity(), "", normalize="yes").validate_parameters()
