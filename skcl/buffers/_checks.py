"""What a buffer checks before anything changes: parameters (declared constraints and
relations), inputs (shapes, kinds, label types) and extra fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import column_or_1d, validate_data

from skcl.buffers._storage import (
    _is_torch,
    _kind,
    _label_kind,
    _per_sample,
    _shape,
    _to_numpy,
)
from skcl.utils import InvalidParameterError, validate_params

__all__: list[str] = []


class _Seen:
    """The labels a buffer has seen, formatted only when an error message needs them."""

    def __init__(self, buffer):
        self.buffer = buffer

    def __format__(self, spec: str) -> str:
        return str(getattr(self.buffer, "classes_", np.zeros(0)).tolist())


class BufferChecks:
    """Part of :class:`~skcl.buffers.ExemplarsBuffer`: the checks that run before a verb
    changes anything (nothing here writes to the buffer but ``n_features_in_`` and
    ``feature_names_in_`` on a first call, which the verbs restore on failure)."""

    def validate_parameters(self, display: Callable[[str], str] | None = None,
                            owner: str | None = None) -> None:
        """Check the parameters against ``_parameter_constraints`` (changes nothing).

        Then the relations a declaration cannot express (:meth:`_check_relations`).

        Raises
        ------
        skcl.utils.InvalidParameterError
            A ``ValueError`` naming the parameter, what it accepts and the value.

        Examples
        --------
        >>> from skcl.buffers import ReservoirSamplingBuffer
        >>> ReservoirSamplingBuffer(max_size=-1).validate_parameters()
        Traceback (most recent call last):
        ...
        skcl.utils._constraints.InvalidParameterError: ReservoirSamplingBuffer: parameter \
'max_size' must be an int in [0, inf); got -1.
        """
        constraints: dict[str, Any] = {}
        for klass in reversed(type(self).__mro__):
            constraints.update(vars(klass).get("_parameter_constraints", {}))
        owner = owner or type(self).__name__
        validate_params(constraints, self.get_params(deep=False), owner, display)
        self._check_relations(display or str, owner)

    def _check_relations(self, display: Callable[[str], str], owner: str) -> None:
        """Relations between parameters; the device must exist."""
        if self.store_device is None:
            return
        try:
            device = torch.device(self.store_device)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise InvalidParameterError(
                f"{owner}: parameter '{display('store_device')}' must name a torch device "
                f"('cpu', 'cuda', 'cuda:1', ...); got {self.store_device!r} ({exc}).") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise InvalidParameterError(
                f"{owner}: {display('store_device')}={self.store_device!r} but no CUDA device "
                "is available; use None (where the data is) or 'cpu'.")

    def _check_params(self) -> None:
        self.validate_parameters()

    # -- validation (no attribute of the buffer changes here) ----------------
    def _validate(self, X, y, task_labels, experience, fields, first: bool):
        """Validated ``(X, y, t, e, fields)``; raises before anything is stored."""
        if not first:
            stored, new = _shape(self.X_)[1:], _shape(X)[1:]
            if stored != new:
                width = new[0] if new else 1
                raise ValueError(
                    f"X has {width} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input: X has shape {_shape(X)} "
                    f"(samples of shape {new}) but the buffer holds samples of shape {stored} "
                    f"(X_ has shape {_shape(self.X_)}); X is {_kind(X)}, the stored "
                    f"exemplars {_kind(self.X_)}.")
        if self.store_device is not None and not _is_torch(X):
            raise ValueError(
                f"store_device={self.store_device!r} keeps tensors on a device but X is "
                f"{_kind(X)}: pass torch tensors, or leave store_device=None.")
        if _is_torch(X):
            if X.ndim < 1 or len(X) == 0:
                raise ValueError("Empty input: X has 0 samples.")
            if not _is_torch(y):
                y_np = np.asarray(y)
                if not first:  # a label type change gets its own message
                    self._check_label_type(y_np)
                if y_np.dtype.kind not in "biuf":
                    raise ValueError(
                        f"With tensor X the labels are stored as a tensor, so they must be "
                        f"numbers; got {y_np.dtype} labels {np.unique(y_np).tolist()[:10]}. "
                        "Encode them (e.g. sklearn.preprocessing.LabelEncoder) or pass numpy X.")
                y = torch.as_tensor(y_np)
            if y.ndim != 1 or len(y) != len(X):
                raise ValueError(f"y must be 1-d with {len(X)} entries; got shape "
                                 f"{tuple(y.shape)}.")
        else:
            # the first call records n_features_in_ (and feature names): restored on failure
            X, y = validate_data(self, X, y, reset=first, allow_nd=True, dtype=None
                                 if getattr(X, "dtype", None) is not None
                                 and np.issubdtype(X.dtype, np.number) else "numeric")
            y = column_or_1d(y, warn=True)
        if first and _is_torch(X):
            self.n_features_in_ = int(X.shape[1]) if X.ndim > 1 else 1
        if not first:
            y = self._check_label_type(y)
        n = len(X)
        default_exp = getattr(self, "n_updates_", 0)
        t = _per_sample(task_labels, n, "task_labels", 0)
        e = _per_sample(experience, n, "experience", default_exp)
        return X, y, t, e, self._validate_fields(fields, n, X, first)

    def _check_label_type(self, y):
        """``y`` in the stored labels' type; a clear error when the label type changed."""
        old, new = _label_kind(self.y_), _label_kind(y)
        seen = _Seen(self)
        if old != new:
            raise ValueError(f"The labels changed type: the buffer has seen {old} labels "
                             f"{seen} but got {new} labels {np.unique(_to_numpy(y)).tolist()}.")
        if old == "number" and not _is_torch(self.y_) and self.y_.dtype.kind in "biu":
            y_np = _to_numpy(y)
            if y_np.dtype.kind == "f":
                if not np.all(np.isfinite(y_np)) or np.any(y_np != np.round(y_np)):
                    bad = np.unique(y_np[~np.isfinite(y_np) | (y_np != np.round(y_np))])
                    raise ValueError(f"The labels changed type: the buffer has seen integer "
                                     f"labels {seen} but got non-integral labels "
                                     f"{bad.tolist()}.")
                y = y.astype(self.y_.dtype) if not _is_torch(y) else y
        elif old == "number" and _is_torch(self.y_):
            y_t = torch.as_tensor(_to_numpy(y)) if not _is_torch(y) else y
            if not self.y_.is_floating_point() and y_t.is_floating_point():
                frac = y_t != torch.round(y_t)
                if bool(frac.any()) or not bool(torch.isfinite(y_t).all()):
                    raise ValueError(f"The labels changed type: the buffer has seen integer "
                                     f"labels {seen} but got non-integral labels "
                                     f"{torch.unique(y_t[frac]).tolist()}.")
                y = y_t.to(self.y_.dtype)
        return y

    def _validate_fields(self, fields, n: int, X, first: bool) -> dict:
        """Per-sample extra fields, converted to ``X``'s array type and device."""
        fields = {} if fields is None else dict(fields)
        for name in fields:
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"Field names must be identifiers; got {name!r}.")
        if not first:
            stored = getattr(self, "fields_", {})
            if set(fields) != set(stored):
                raise ValueError(f"fields must have the names the buffer stores "
                                 f"{sorted(stored)}; got {sorted(fields)}.")
        out = {}
        for name, value in fields.items():
            if _is_torch(X):
                value = (value.detach() if _is_torch(value)
                         else torch.as_tensor(np.asarray(value))).to(X.device)
            else:
                value = _to_numpy(value)
            shape = _shape(value)
            if len(shape) == 0 or shape[0] != n:
                raise ValueError(f"Field {name!r} has shape {shape}; it needs one entry per "
                                 f"sample ({n}).")
            if not first:
                ref = _shape(self.fields_[name])[1:]
                if shape[1:] != ref:
                    raise ValueError(f"Field {name!r} has samples of shape {shape[1:]} but "
                                     f"the buffer stores samples of shape {ref}.")
            out[name] = value
        return out

    def _validate_groups(self, y: np.ndarray, t: np.ndarray, e: np.ndarray) -> None:
        """Raise if the policy cannot accept these samples (before anything changes)."""
