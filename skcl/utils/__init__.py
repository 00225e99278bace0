"""Shared mechanisms: the minibatch format, training data as tensors, torch helpers,
parameter checks."""

from skcl.utils._constraints import (
    Interval,
    InvalidParameterError,
    Options,
    SequenceOf,
    validate_params,
)
from skcl.utils._data import BatchIterator, TrainData, extend_batch, make_batch
from skcl.utils._lazy import LazyTrainData, LazyX, as_train_data, compact_take, is_lazy_input
from skcl.utils._torch import ModuleState, eval_mode
from skcl.utils._validation import check_int, check_number

__all__ = [
    "BatchIterator", "Interval", "InvalidParameterError", "Options", "SequenceOf",
    "validate_params", "ModuleState", "TrainData", "check_int", "check_number", "eval_mode",
    "extend_batch", "make_batch",
    # lazy data (issue 11)
    "as_train_data", "compact_take", "is_lazy_input", "LazyTrainData", "LazyX",
]
