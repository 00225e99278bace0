"""Plugins: objects with hooks into a strategy's training loop."""

from skcl.plugins._base import HOOKS, StrategyPlugin

# --- family: foundation ---
from skcl.plugins._early_stopping import EarlyStoppingPlugin
from skcl.plugins._lr_scheduler import LRSchedulerPlugin
# --- family: replay (issue 4) ---
# --- family: regularization (issue 5) ---
# --- family: architectural (issue 6) ---
# --- family: evaluation (issue 3) ---

__all__ = [
    "EarlyStoppingPlugin",
    "HOOKS",
    "LRSchedulerPlugin",
    "StrategyPlugin",
]
