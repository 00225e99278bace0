"""The strategies `skcl run` trains by default, with settings sized for split-digits.

Each family adds its strategies in its own section. Every entry must train on
the 5-experience split-digits stream in a few seconds on one core.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator

# Shared by every entry so the comparison is fair: same MLP, same optimizer settings.
COMMON = {"module__hidden_sizes": (100,), "lr": 0.1, "max_epochs": 5, "batch_size": 32}


def default_strategies(random_state: int = 0) -> list[tuple[str, BaseEstimator]]:
    """``(name, estimator)`` pairs for the default run, all seeded with ``random_state``."""
    from skcl.strategies import Cumulative, JointTraining, Naive

    common = dict(COMMON, random_state=random_state)
    entries: list[tuple[str, BaseEstimator]] = [
        ("Naive", Naive(**common)),
        ("Cumulative", Cumulative(**common)),
        ("JointTraining", JointTraining(**common)),
    ]
    # --- family: replay (issue 4) ---
    # --- family: regularization (issue 5) ---
    # --- family: architectural (issue 6) ---
    return entries
