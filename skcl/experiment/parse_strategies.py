"""The ``[[strategies]]`` tables: class, plugins, objects, class references, checked values.

Each value becomes a parameter: ``{ class = ... }`` tables become objects (plugins,
transforms, buffers, selection), class references resolve through the
allow-list (:func:`skcl.experiment.registry.resolve_reference`), and the
estimator built from them is checked with its own ``validate_parameters()``
before the experiment is accepted.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from skcl.experiment import registry as R
from skcl.experiment.spec import ExperimentError, StrategySpec

__all__ = ["parse_strategies", "CLASS_KEYS"]

#: Parameters whose string value is always a class reference.
CLASS_KEYS = ("module", "criterion", "optimizer", "iterator_train", "iterator_valid", "dataset")
_CLASS_KEYS = CLASS_KEYS

# ---------------------------------------------------------------------- #
def _parse_value(key: str, value: Any, where: Callable[[str], str], trust: Sequence[str]):
    """A TOML value as a parameter: tables with ``class`` become objects, class references
    are resolved through the allow-list, lists become tuples."""
    if isinstance(value, dict):
        return _build_object(key, value, where, trust, R.object_classes())
    if isinstance(value, list):
        items = tuple(_parse_value(key, v, where, trust) for v in value)
        if key.endswith("transform") and items and all(isinstance(v, dict) for v in value):
            from skcl.transforms import Compose

            return Compose(list(items))
        return items
    if key.rpartition("__")[2] in _CLASS_KEYS or key in _CLASS_KEYS or R.is_dotted(value):
        return R.resolve_reference(value, key, where(key), trust)
    return value


def _build_object(key: str, table: dict, where: Callable[[str], str], trust: Sequence[str],
                  classes: dict[str, type]):
    table = dict(table)
    cls_name = table.pop("class", None)
    if cls_name not in classes:
        raise ExperimentError(f"{where(key)}: '{key}': unknown class {cls_name!r} in a "
                              f"{{ class = ... }} table.{R.suggest(str(cls_name), classes)}")
    cls = classes[cls_name]
    valid = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
    for sub in table:
        if sub not in valid and sub != "name":
            raise ExperimentError(f"{where(key)}: {cls_name} has no parameter '{sub}'."
                                  f"{R.suggest(sub, valid)}")
    kwargs = {k: _parse_value(k, v, where, trust) for k, v in table.items() if k != "name"}
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ExperimentError(f"{where(key)}: {cls_name}(...): {exc}") from None
    return (str(table["name"]), obj) if "name" in table else obj


def _parse_plugins(tables: Any, where: Callable[[str], str], trust: Sequence[str]) -> list:
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ExperimentError(f"{where('plugins')}: 'plugins' must be a list of tables "
                              "({ class = \"EWCPlugin\", name = \"ewc\", ... }).")
    return [_build_object("plugins", t, where, trust, R.plugin_classes()) for t in tables]


def _check_module_kwargs(est, params: dict[str, Any], where) -> None:
    """Check module__/optimizer__/criterion__ keys against the classes' signatures."""
    from skcl.models import MLP

    targets = {"module": est.module if est.module is not None else MLP,
               "optimizer": est.optimizer, "criterion": est.criterion}
    for key in params:
        prefix, _, sub = key.partition("__")
        if prefix not in targets or not sub or "__" in sub:
            continue
        cls = targets[prefix]
        if not isinstance(cls, type):
            continue
        sig = inspect.signature(cls)
        if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            continue
        valid = [p for p in sig.parameters if p not in ("self", "params")]
        if sub not in valid:
            raise ExperimentError(f"{where(key)}: unknown parameter '{key}' ({cls.__name__} "
                                  f"takes no '{sub}').{R.suggest(sub, valid)}")


def _declared(est, key: str) -> bool:
    """Whether ``key`` (a flat parameter of ``est``) has a declared constraint."""
    for klass in type(est).__mro__:
        if key in vars(klass).get("_parameter_constraints", {}):
            return True
    alias = getattr(est, "_plugin_aliases", {}).get(key)
    builtin = getattr(est, "_builtin_plugins", {})
    if alias and alias[0] in builtin:
        for klass in builtin[alias[0]].__mro__:
            if alias[1] in vars(klass).get("_parameter_constraints", {}):
                return True
    return False


def _check_undeclared(est, params: dict[str, Any], where) -> None:
    """For parameters without a declared constraint: the value must have its default's type."""
    defaults = type(est)().get_params(deep=False)
    for key, value in params.items():
        if "__" in key or key not in defaults or _declared(est, key):
            continue
        default = defaults[key]
        if isinstance(default, bool):
            ok, kind = isinstance(value, bool), "a bool (true or false)"
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and (isinstance(value, int) or not isinstance(default, int)
                         or float(value).is_integer())
            kind = "an integer" if isinstance(default, int) else "a number"
        else:
            continue
        if not ok:
            raise ExperimentError(f"{where(key)}: parameter '{key}' of {type(est).__name__} "
                                  f"must be {kind} (default {default!r}); got {value!r}.")


def _validate(est, cls_name: str, where) -> None:
    """The strategy's and every plugin's declared constraints (skcl's validate_parameters)."""
    try:
        est.validate_parameters()
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        match = re.search(r"parameter '([^']+)'", msg)
        key = match.group(1) if match else cls_name
        if match and "__" in key and where(key) == where("\0"):
            key = "plugins"
        raise ExperimentError(f"{where(key)}: {msg}") from None


def _build_estimator(cls_name: str, params: dict[str, Any], where):
    est = R.strategy_classes()[cls_name]()
    try:
        if "plugins" in params:
            est.set_params(plugins=params["plugins"])
        rest = {k: v for k, v in params.items() if k != "plugins"}
        valid = est.get_params(deep=True)
        for key in rest:
            if key not in valid and not any(key.startswith(p + "__") for p in _CLASS_KEYS):
                raise ExperimentError(
                    f"{where(key)}: unknown parameter '{key}' for {cls_name}."
                    f"{R.suggest(key, [k for k in valid if not k.startswith('_')])}")
        est.set_params(**rest)
    except ExperimentError:
        raise
    except (ValueError, TypeError) as exc:
        raise ExperimentError(f"{where('class')}: {cls_name}: {exc}") from None
    _check_module_kwargs(est, rest, where)
    _validate(est, cls_name, where)
    _check_undeclared(est, rest, where)
    return est


def _parse_strategy(i: int, entry: Any, src, trust: Sequence[str],
                    labels: set[str]) -> StrategySpec:
    tag = f"strategies[{i}]"

    def where(key: str) -> str:
        return f"{src.where(key, 'strategies', i)} ({tag})"

    if not isinstance(entry, dict):
        raise ExperimentError(f"{src.name}, {tag}: each strategy must be a [[strategies]] table.")
    entry = dict(entry)
    classes = R.strategy_classes()
    cls_name = entry.pop("class", None)
    if cls_name is None:
        raise ExperimentError(f"{where('class')}: missing 'class' (e.g. class = \"Naive\").")
    if cls_name not in classes:
        raise ExperimentError(f"{where('class')}: unknown strategy {cls_name!r}."
                              f"{R.suggest(str(cls_name), classes)}")
    label = str(entry.pop("name", cls_name))
    if label in labels:
        raise ExperimentError(f"{where('name')}: two strategies are named {label!r}; give "
                              "each a distinct name = \"...\".")
    labels.add(label)
    if "random_state" in entry:
        raise ExperimentError(f"{where('random_state')}: set seeds in [experiment] seeds, "
                              "not random_state per strategy.")
    params: dict[str, Any] = {}
    if "plugins" in entry:
        params["plugins"] = _parse_plugins(entry.pop("plugins"), where, trust)
    for key, value in entry.items():
        params[key] = _parse_value(key, value, where, trust)
    _build_estimator(cls_name, params, where)
    return StrategySpec(label, cls_name, params)


def parse_strategies(tables: Any, src, trust: Sequence[str]) -> list[StrategySpec]:
    if not isinstance(tables, list) or not tables:
        raise ExperimentError(f"{src.name}: declare at least one strategy with a "
                              "[[strategies]] table holding class = \"Naive\" (or another).")
    labels: set[str] = set()
    return [_parse_strategy(i, t, src, trust, labels) for i, t in enumerate(tables)]


