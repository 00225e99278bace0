"""Plugins: objects with hooks into a strategy's training loop."""

from skcl.plugins._base import HOOKS, StrategyPlugin

# --- family: foundation ---
# --- family: replay (issue 4) ---
# --- family: regularization (issue 5) ---
# --- family: architectural (issue 6) ---
# --- family: evaluation (issue 3) ---

__all__ = [
    "HOOKS",
    "StrategyPlugin",
]
