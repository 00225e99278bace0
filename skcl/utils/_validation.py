"""Parameter checks shared by strategies, plugins and buffers (run at fit time)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

__all__ = ["check_int", "check_number"]


def check_int(value, name: str, *, low: int = 1, allow_none: bool = False,
              also: tuple = (), hint: str = "") -> None:
    """Raise a ValueError naming ``name`` unless ``value`` is an integer ``>= low``.

    Parameters
    ----------
    value : object
    name : str
        The parameter's name, for the message.
    low : int, default=1
        Smallest accepted value (1: positive, 0: non-negative).
    allow_none : bool, default=False
        Accept ``None`` too.
    also : tuple of int, default=()
        Other accepted values (e.g. ``-1`` for "the whole experience").
    hint : str, default=""
        Appended to the description in the message.

    Examples
    --------
    >>> from skcl.utils import check_int
    >>> check_int(3, "mem_size")
    >>> check_int(0, "mem_size")
    Traceback (most recent call last):
    ...
    ValueError: mem_size must be a positive integer; got 0.
    >>> check_int(None, "input_size", allow_none=True)
    """
    if value is None and allow_none:
        return
    if (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            and (value >= low or value in also)):
        return
    kind = {1: "a positive integer", 0: "a non-negative integer"}.get(low, f"an integer >= {low}")
    if allow_none:
        kind = f"None or {kind}"
    raise ValueError(f"{name} must be {kind}{hint}; got {value!r}.")


def check_number(value, name: str, *, low: float | None = 0.0, high: float | None = None,
                 low_open: bool = False, allow_list: bool = False) -> None:
    """Raise a ValueError naming ``name`` unless ``value`` is a finite number in range.

    With ``allow_list``, a non-empty sequence of such numbers is accepted too
    (per-experience coefficients).

    Examples
    --------
    >>> from skcl.utils import check_number
    >>> check_number(0.5, "alpha", high=1.0)
    >>> check_number(0.0, "T", low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: T must be > 0.0; got 0.0.
    """
    if allow_list and not isinstance(value, numbers.Real) and isinstance(value, (Sequence,
                                                                                 np.ndarray)):
        if len(value) == 0:
            raise ValueError(f"{name} must not be an empty sequence.")
        for v in value:
            check_number(v, name, low=low, high=high, low_open=low_open)
        return
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value):
        kind = "a number or a sequence of numbers" if allow_list else "a number"
        raise ValueError(f"{name} must be {kind}; got {value!r}.")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}; got {value!r}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}; got {value!r}.")


def n_samples(X) -> int:
    """The number of samples of an array-like (first dimension), without converting it.

    scikit-learn's ``_num_samples`` without the private import: ``shape[0]``,
    ``len``, or the length of ``np.asarray(X)`` for objects that only implement
    ``__array__``.
    """
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape):
        return int(shape[0])
    if hasattr(X, "__len__"):
        return len(X)
    if hasattr(X, "__array__"):
        return len(np.asarray(X))
    raise TypeError(f"Expected array-like input (samples first); got {type(X).__name__}.")
