"""Avalanche's parameter names and their skcl names, for "did you mean" messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["AVALANCHE_NAMES", "suggest_name"]

#: Avalanche name -> what to write in skcl.
AVALANCHE_NAMES: dict[str, str] = {
    "train_mb_size": "batch_size",
    "eval_mb_size": "iterator_valid__batch_size (defaults to batch_size)",
    "train_epochs": "max_epochs",
    "eval_every": "plugins=[EvaluationPlugin(eval_every=...)]",
    "patterns_per_exp": "patterns_per_experience",
    "evaluator": "plugins=[EvaluationPlugin(...)]",
    "model": "module",
    "mem_size_per_class": "mem_size (with a ClassBalancedBuffer)",
    "peval_mode": "plugins=[EvaluationPlugin(eval_every=...)]",
}


def suggest_name(key: str, valid: Iterable[str]) -> str | None:
    """The parameter a user most likely meant by ``key``: Avalanche's table first, then the
    closest valid name.

    Examples
    --------
    >>> from skcl.strategies._core.avalanche_names import suggest_name
    >>> suggest_name("train_mb_size", ["batch_size", "train_split"])
    "'batch_size' (Avalanche's train_mb_size)"
    >>> suggest_name("lrr", ["lr", "max_epochs"])
    "'lr'"
    """
    if key in AVALANCHE_NAMES:
        return f"'{AVALANCHE_NAMES[key]}' (Avalanche's {key})"
    match = difflib.get_close_matches(key, sorted(valid), n=1)
    return f"'{match[0]}'" if match else None
