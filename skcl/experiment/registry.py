"""What an experiment file may name, derived from the packages' ``__all__``.

- strategies: the :class:`~skcl.strategies.BaseStrategy` classes of :mod:`skcl.strategies`;
- plugins: the :class:`~skcl.plugins.StrategyPlugin` classes of :mod:`skcl.plugins`;
- objects in ``{ class = "..." }`` tables: plugins, batch transforms
  (:mod:`skcl.transforms`), buffers (:mod:`skcl.buffers`) and exemplar
  selection (:mod:`skcl.selection`);
- stream builders: the ``split_*``, ``permuted_*``, ``rotated_*`` and ``core50``
  functions of :mod:`skcl.benchmarks`;
- metrics and loggers: :data:`~skcl.experiment.METRIC_NAMES`,
  :data:`~skcl.experiment.LOGGER_NAMES`;
- class references (``module``, ``criterion``, ``optimizer``, any dotted
  path): only the allow-list :data:`ALLOWED_NAMESPACES` unless the user trusts
  more prefixes (``--trust``, ``[trust]``). A reference is checked as a string
  before anything is imported.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from skcl.experiment.spec import ExperimentError

__all__ = ["ALLOWED_NAMESPACES", "strategy_classes", "plugin_classes", "object_classes",
           "builders", "resolve_reference", "is_dotted", "suggest", "metric_objects",
           "logger_objects"]

#: Namespaces whose classes an experiment file may name without ``--trust``:
#: namespace -> (description, the base class a named class must derive from).
ALLOWED_NAMESPACES: dict[str, tuple[str, str]] = {
    "skcl.models": ("skcl's models", "torch.nn.Module"),
    "torch.nn": ("torch.nn modules and losses", "torch.nn.Module"),
    "torch.optim": ("torch.optim optimizers", "torch.optim.Optimizer"),
    "torch.optim.lr_scheduler": ("torch.optim.lr_scheduler schedulers",
                                 "torch.optim.lr_scheduler.LRScheduler"),
}
# Bare class names (``optimizer = "Adam"``) are looked up in these namespaces, in order.
_BARE: dict[str, tuple[str, ...]] = {
    "module": ("skcl.models", "torch.nn"),
    "criterion": ("torch.nn",),
    "optimizer": ("torch.optim",),
}
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_BUILDER = re.compile(r"^(split|permuted|rotated)_\w+$")


def suggest(key: str, options: Sequence[str]) -> str:
    """`` Did you mean 'x'?`` (close matches) or the list of valid names when it is short."""
    import difflib

    match = difflib.get_close_matches(str(key), list(options), n=3, cutoff=0.5)
    if match:
        return " Did you mean " + " or ".join(repr(m) for m in match) + "?"
    return f" Valid: {', '.join(sorted(options))}." if len(options) <= 12 else ""


def _public_classes(module, base: type) -> dict[str, type]:
    out = {}
    for name in module.__all__:
        obj = getattr(module, name, None)
        if isinstance(obj, type) and issubclass(obj, base) and not inspect.isabstract(obj):
            out[name] = obj
    return out


def strategy_classes() -> dict[str, type]:
    """Every named strategy of :mod:`skcl.strategies` (``BaseStrategy`` itself excluded)."""
    import skcl.strategies as S

    out = _public_classes(S, S.BaseStrategy)
    out.pop("BaseStrategy", None)
    return out


def plugin_classes() -> dict[str, type]:
    """Every public plugin of :mod:`skcl.plugins`."""
    import skcl.plugins as P

    out = _public_classes(P, P.StrategyPlugin)
    out.pop("StrategyPlugin", None)
    return out


def object_classes() -> dict[str, type]:
    """Classes a ``{ class = "..." }`` table may name: plugins, transforms, buffers, selection."""
    import skcl.buffers as Bu
    import skcl.selection as Se
    import skcl.transforms as T

    out = dict(plugin_classes())
    out.update(_public_classes(T, T.BatchTransform))
    out.update(_public_classes(Bu, object))
    out.update(_public_classes(Se, object))
    for abstract in ("BatchTransform", "ExemplarsBuffer", "BalancedExemplarsBuffer",
                     "ExemplarsSelectionStrategy", "FeatureBasedExemplarsSelectionStrategy"):
        out.pop(abstract, None)
    return out


def builders() -> dict[str, Callable]:
    """The stream builders of :mod:`skcl.benchmarks` (digits, MNIST family, CIFAR, Tiny
    ImageNet, CORe50): functions with no required argument that return ``(train, test)``."""
    import skcl.benchmarks as B

    out = {}
    for name in B.__all__:
        obj = getattr(B, name, None)
        if not (callable(obj) and (_BUILDER.match(name) or name == "core50")):
            continue
        if name.endswith("_stream") or name.endswith("_split"):
            continue
        required = [p for p in inspect.signature(obj).parameters.values()
                    if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not required:
            out[name] = obj
    return out


def is_dotted(value: Any) -> bool:
    """Whether ``value`` is a string shaped like a class reference (``package.module.Name``)."""
    return isinstance(value, str) and bool(_DOTTED.match(value))


def _trusted(value: str, trust: Sequence[str]) -> bool:
    for prefix in trust:
        prefix = str(prefix)
        if prefix.endswith("."):
            if value.startswith(prefix):
                return True
        elif value == prefix or value.startswith(prefix + "."):
            return True
    return False


def _resolve_allowed(value: str, key: str, where: str):
    namespace, _, name = value.rpartition(".")
    if namespace not in ALLOWED_NAMESPACES:
        return None
    described, base_path = ALLOWED_NAMESPACES[namespace]
    module = importlib.import_module(namespace)  # allow-listed: skcl's or torch's own code
    base_mod, _, base_name = base_path.rpartition(".")
    base = getattr(importlib.import_module(base_mod), base_name)
    obj = getattr(module, name, None) if not name.startswith("_") else None
    if not (isinstance(obj, type) and issubclass(obj, base)):
        options = [n for n in dir(module) if not n.startswith("_")
                   and isinstance(getattr(module, n, None), type)
                   and issubclass(getattr(module, n), base)]
        raise ExperimentError(f"{where}: '{key}' = {value!r}: {namespace} has no class "
                              f"{name!r} among {described}.{suggest(name, options)}")
    return obj


def _not_allowed(value: str, key: str, where: str) -> ExperimentError:
    allowed = ", ".join(f"{ns}.* ({d})" for ns, (d, _) in ALLOWED_NAMESPACES.items())
    top = value.split(".")[0]
    return ExperimentError(
        f"{where}: '{key}' = {value!r} is not allowed. Experiment files are data: class "
        f"references may name only {allowed}. Nothing was imported. To use your own "
        f"classes, trust their package explicitly, as you would trust code: "
        f"skcl run FILE --trust {top}. (or a [trust] table with modules = [\"{top}.\"]).")


def resolve_reference(value: Any, key: str, where: str, trust: Sequence[str] = ()):
    """The class named by ``value`` (a dotted path, or a bare name for module/criterion/optimizer).

    The string is checked against :data:`ALLOWED_NAMESPACES` and the trusted
    prefixes *before* anything is imported; anything else raises
    :class:`ExperimentError` naming the key.

    Examples
    --------
    >>> from skcl.experiment.registry import resolve_reference
    >>> resolve_reference("torch.optim.Adam", "optimizer", "exp.toml, line 3").__name__
    'Adam'
    >>> resolve_reference("Adam", "optimizer", "exp.toml, line 3").__name__
    'Adam'
    >>> resolve_reference("os.system", "module", "exp.toml, line 3")
    Traceback (most recent call last):
    ...
    skcl.experiment.spec.ExperimentError: exp.toml, line 3: 'module' = 'os.system' is not \
allowed...
    """
    if not isinstance(value, str):
        return value
    base_key = key.rpartition("__")[2]
    if "." not in value:
        for namespace in _BARE.get(base_key, ()):
            module = importlib.import_module(namespace)
            if isinstance(getattr(module, value, None), type):
                return _resolve_allowed(f"{namespace}.{value}", key, where)
        if base_key in _BARE:
            spaces = " or ".join(_BARE[base_key])
            raise ExperimentError(f"{where}: '{key}' = {value!r} is not a class of {spaces}; "
                                  "give a dotted path such as 'torch.optim.SGD'.")
        return value
    if not is_dotted(value):
        raise ExperimentError(f"{where}: '{key}' = {value!r} is not a 'package.module.Name' "
                              "class reference.")
    obj = _resolve_allowed(value, key, where)
    if obj is not None:
        return obj
    if not _trusted(value, trust):
        raise _not_allowed(value, key, where)
    module_name, _, attr = value.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ExperimentError(f"{where}: '{key}' = {value!r} (trusted) cannot be imported: "
                              f"{exc}") from None


# ---------------------------------------------------------------------- #
# metrics and loggers
# ---------------------------------------------------------------------- #
def metric_objects(names: Sequence[str]) -> list:
    """The :mod:`skcl.evaluation` metrics for the names of ``metrics = [...]``."""
    from skcl import evaluation as E

    table = {
        "accuracy": lambda: E.accuracy_metrics(epoch=True, experience=True, stream=True),
        "loss": lambda: E.loss_metrics(epoch=True, experience=True, stream=True),
        "forgetting": lambda: E.forgetting_metrics(experience=True, stream=True),
        "bwt": lambda: E.bwt_metrics(experience=True, stream=True),
        "fwt": lambda: E.forward_transfer_metrics(experience=True, stream=True),
        "confusion_matrix": lambda: E.confusion_matrix_metrics(stream=True),
        "timing": lambda: E.timing_metrics(epoch=True, experience=True),
        "ram": lambda: E.ram_usage_metrics(experience=True),
        "exemplars": lambda: E.exemplars_metrics(),
    }
    return [m for n in names for m in table[n]()]


def logger_objects(names: Sequence[str], folder: Path, n_experiences: int) -> list:
    """The :mod:`skcl.evaluation` loggers for ``loggers = [...]``, writing under ``folder``."""
    from skcl import evaluation as E

    table = {
        "text": lambda: E.TextLogger(folder / "log.txt"),
        "csv": lambda: E.CSVLogger(folder / "csv"),
        "tensorboard": lambda: E.TensorBoardLogger(folder / "tensorboard"),
        "interactive": lambda: E.InteractiveLogger(n_experiences=n_experiences),
    }
    return [table[n]() for n in names]
