"""Continual learning strategies: `BaseStrategy` and one module per named strategy."""

from skcl.strategies._base import BaseStrategy
from skcl.strategies._cumulative import Cumulative, CumulativePlugin
from skcl.strategies._data import BatchIterator, TrainData, make_batch
from skcl.strategies._joint import JointTraining
from skcl.strategies._naive import Naive

# --- family: replay (issue 4) ---
# --- family: regularization (issue 5) ---
# --- family: architectural (issue 6) ---

__all__ = [
    "BaseStrategy",
    "BatchIterator",
    "Cumulative",
    "CumulativePlugin",
    "JointTraining",
    "Naive",
    "TrainData",
    "make_batch",
]
