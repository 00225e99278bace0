"""Shared mechanisms: the minibatch format, training data as tensors, torch helpers,
parameter checks."""

from skcl.utils._data import BatchIterator, TrainData, extend_batch, make_batch
from skcl.utils._torch import ModuleState, eval_mode
from skcl.utils._validation import check_int, check_number

__all__ = [
    "BatchIterator", "ModuleState", "TrainData", "check_int", "check_number", "eval_mode",
    "extend_batch", "make_batch",
]
