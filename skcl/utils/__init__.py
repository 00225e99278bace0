"""Shared mechanisms: the minibatch format, training data as tensors, torch helpers."""

from skcl.utils._data import BatchIterator, TrainData, extend_batch, make_batch
from skcl.utils._torch import ModuleState, eval_mode

__all__ = [
    "BatchIterator", "ModuleState", "TrainData", "eval_mode", "extend_batch", "make_batch",
]
