"""Declared parameter constraints (scikit-learn's ``_parameter_constraints`` style).

Each strategy, plugin and buffer declares, in one class attribute, what each of
its parameters accepts; :func:`validate_params` checks them all at the top of a
fitting verb, before anything changes, with a message that names the
parameter, its constraint and the value.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Interval", "Options", "InstanceOf", "SequenceOf", "Constraint", "InvalidParameterError",
    "validate_params", "describe",
]


class InvalidParameterError(ValueError, TypeError):
    """A parameter value breaks its declared constraint (both a ValueError and a TypeError,
    like scikit-learn's)."""


class Constraint:
    """One accepted kind of value; ``accepts(value)`` and a description for messages."""

    def accepts(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(
        value, bool)


class Interval(Constraint):
    """Numbers of a kind (``"int"`` or ``"real"``) in an interval; reals must be finite.

    Examples
    --------
    >>> from skcl.utils import Interval
    >>> Interval("real", 0, None, closed="left").accepts(float("inf"))
    False
    >>> str(Interval("int", 1, None))
    'an int in [1, inf)'
    """

    def __init__(self, kind: str, left: float | None, right: float | None, *,
                 closed: str = "left"):
        if kind not in ("int", "real"):
            raise ValueError(f"kind must be 'int' or 'real'; got {kind!r}.")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def accepts(self, value: Any) -> bool:
        if self.kind == "int":
            if not _is_int(value):
                return False
        elif not _is_real(value) or not np.isfinite(value):
            return False
        lo_closed = self.closed in ("left", "both")
        hi_closed = self.closed in ("right", "both")
        if self.left is not None and (value < self.left or (value == self.left and not lo_closed)):
            return False
        if self.right is not None and (value > self.right
                                       or (value == self.right and not hi_closed)):
            return False
        return True

    def __str__(self) -> str:
        lo = "-inf" if self.left is None else self.left
        hi = "inf" if self.right is None else self.right
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        kind = "an int" if self.kind == "int" else "a finite real number"
        return f"{kind} in {lb}{lo}, {hi}{rb}"


class Options(Constraint):
    """One of a fixed set of values (strings, ``-1``, ...)."""

    def __init__(self, *values: Any):
        self.values = values

    def accepts(self, value: Any) -> bool:
        for option in self.values:
            if option is None or isinstance(option, bool):
                if value is option:
                    return True
            elif isinstance(option, str):
                if isinstance(value, str) and value == option:
                    return True
            elif _is_real(option) and _is_real(value) and value == option:
                return True
        return False

    def __str__(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


class InstanceOf(Constraint):
    """An instance of the given type(s); ``"boolean"`` excludes numpy's and Python's ints."""

    def __init__(self, *types: type, name: str | None = None):
        self.types, self.name = types, name

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.name or "an instance of " + " or ".join(t.__name__ for t in self.types)


class SequenceOf(Constraint):
    """A non-empty list/tuple/array whose every item meets ``item``."""

    def __init__(self, item: Constraint):
        self.item = item

    def accepts(self, value: Any) -> bool:
        if isinstance(value, str) or not isinstance(value, (Sequence, np.ndarray)):
            return False
        return len(value) > 0 and all(self.item.accepts(v) for v in value)

    def __str__(self) -> str:
        return f"a non-empty sequence of {self.item}"


class _Callable(Constraint):
    def accepts(self, value: Any) -> bool:
        return callable(value)

    def __str__(self) -> str:
        return "a callable"


class _RandomState(Constraint):
    def accepts(self, value: Any) -> bool:
        return value is None or _is_int(value) and 0 <= value < 2**32 or isinstance(
            value, np.random.RandomState)

    def __str__(self) -> str:
        return "None, an int in [0, 2**32) or a numpy RandomState"


_SHORTHANDS: dict[Any, Constraint] = {
    "boolean": InstanceOf(bool, np.bool_, name="a bool"),
    "callable": _Callable(),
    "random_state": _RandomState(),
    "string": InstanceOf(str, name="a string"),
}


def _as_constraint(c: Any) -> Constraint:
    if c is None:
        return Options(None)
    if isinstance(c, Constraint):
        return c
    if isinstance(c, str) and c in _SHORTHANDS:
        return _SHORTHANDS[c]
    if isinstance(c, type):
        return InstanceOf(c)
    raise TypeError(f"Unknown constraint {c!r}.")


def describe(constraints: Iterable[Any]) -> str:
    """The constraints of one parameter in words (``"None or an int in [1, inf)"``)."""
    parts = [str(_as_constraint(c)) for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def validate_params(constraints: Mapping[str, Any], params: Mapping[str, Any], owner: str,
                    display: Callable[[str], str] | None = None) -> None:
    """Check ``params`` against ``constraints``; raise :class:`InvalidParameterError`.

    Parameters
    ----------
    constraints : mapping
        Parameter name -> list of accepted constraints (:class:`Interval`,
        :class:`Options`, :class:`InstanceOf`, a type, ``None``, or one of the
        strings ``"boolean"``, ``"callable"``, ``"random_state"``, ``"string"``),
        or the string ``"no_validation"``.
    params : mapping
        Parameter name -> value (``get_params(deep=False)``).
    owner : str
        Who the parameters belong to, for the message.
    display : callable, default=None
        Maps a parameter name to the name the user set it by (a named
        strategy's flat parameter for a built-in plugin's).

    Examples
    --------
    >>> from skcl.utils import Interval, validate_params
    >>> validate_params({"lr": [Interval("real", 0, None)]}, {"lr": "fast"}, "Naive")
    Traceback (most recent call last):
    ...
    skcl.utils._constraints.InvalidParameterError: Naive: parameter 'lr' must be a finite \
real number in [0, inf); got 'fast'.
    """
    for name, accepted in constraints.items():
        if accepted == "no_validation" or name not in params:
            continue
        value = params[name]
        if any(_as_constraint(c).accepts(value) for c in accepted):
            continue
        shown = display(name) if display else name
        raise InvalidParameterError(
            f"{owner}: parameter '{shown}' must be {describe(accepted)}; got {value!r}.")
