"""`ExemplarsBuffer`: a bounded memory of exemplars, as a scikit-learn estimator."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from skcl.utils import check_int

__all__ = ["ExemplarsBuffer"]


# -- helpers that work on numpy arrays and torch tensors alike -------------------
def _is_torch(a) -> bool:
    return isinstance(a, torch.Tensor)


def _take(a, idx: np.ndarray):
    if _is_torch(a):
        return a[torch.as_tensor(idx, dtype=torch.long, device=a.device)]
    return a[idx]


def _cat(parts: list):
    if _is_torch(parts[0]):
        return torch.cat([p if _is_torch(p) else torch.as_tensor(p) for p in parts])
    return np.concatenate([p.detach().cpu().numpy() if _is_torch(p) else p for p in parts])


def _like(a, ref):
    """``a`` converted to the array type (numpy or torch) of ``ref``."""
    if _is_torch(ref) and not _is_torch(a):
        return torch.as_tensor(np.asarray(a), device=ref.device)
    if not _is_torch(ref) and _is_torch(a):
        return a.detach().cpu().numpy()
    return a


def _to_numpy(a) -> np.ndarray:
    return a.detach().cpu().numpy() if _is_torch(a) else np.asarray(a)


def _per_sample(value, n: int, name: str, default: int) -> np.ndarray:
    if value is None:
        return np.full(n, default, dtype=np.int64)
    arr = _to_numpy(value)
    if arr.ndim == 0:
        return np.full(n, int(arr), dtype=np.int64)
    arr = arr.astype(np.int64).ravel()
    if len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries but X has {n} samples.")
    return arr


class ExemplarsBuffer(TransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of exemplar buffers: a memory of at most ``max_size`` samples.

    A buffer is a scikit-learn estimator. :meth:`partial_fit` adds one
    experience under the buffer's storage policy, :meth:`fit` resets the
    memory first. The exemplars are kept as compact arrays of the input's
    type: numpy arrays stay numpy arrays, torch tensors (for instance a
    strategy's :class:`~skcl.strategies.TrainData` tensors, whose labels are
    output-unit indices) stay tensors. Nothing is stored per sample as a
    Python object.

    In a pipeline (:mod:`skcl.pipeline`) a buffer is a resampling step:
    :meth:`fit_resample` returns the new data together with the stored
    exemplars, and :meth:`transform` is the identity.

    Every policy ranks the samples it holds by a priority ``keys_`` (higher
    is kept first); :meth:`resize` keeps the highest-ranked ones.

    Parameters
    ----------
    max_size : int
        Maximum number of exemplars.
    random_state : int, RandomState or None, default=None
        Seeds the policy's random choices and :meth:`sample`.

    Attributes
    ----------
    X_, y_, task_labels_, experience_ids_ : array or Tensor
        The stored exemplars, their labels, task labels and experience ids
        (numpy arrays or tensors, following the first input's type).
    keys_ : ndarray of float
        Keep-priority of each stored exemplar.
    n_seen_ : int
        Samples offered to the buffer so far.
    n_updates_ : int
        Calls to :meth:`partial_fit` (experiences) so far.
    """

    def __init__(self, max_size: int = 200, *, random_state=None):
        self.max_size = max_size
        self.random_state = random_state

    # -- scikit-learn plumbing ----------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.random_state is None
        return tags

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        """Parameters of a tiny instance for the common tests."""
        return {"max_size": 20, "random_state": 0}

    @classmethod
    def _expected_failed_checks(cls) -> dict[str, str]:
        """scikit-learn checks a buffer cannot pass, with the reason."""
        return {}

    def _check_params(self) -> None:
        check_int(self.max_size, "max_size", low=0)

    # -- validation -----------------------------------------------------------
    def _validate(self, X, y, task_labels, experience, reset: bool):
        if _is_torch(X):
            if X.ndim < 1 or len(X) == 0:
                raise ValueError("Empty input: X has 0 samples.")
            if reset:
                self.n_features_in_ = int(X.shape[1]) if X.ndim > 1 else 1
            y = torch.as_tensor(y) if not _is_torch(y) else y
            if y.ndim != 1 or len(y) != len(X):
                raise ValueError(f"y must be 1-d with {len(X)} entries; got shape "
                                 f"{tuple(y.shape)}.")
        else:
            X, y = validate_data(self, X, y, reset=reset, allow_nd=True, dtype=None
                                 if getattr(X, "dtype", None) is not None
                                 and np.issubdtype(X.dtype, np.number) else "numeric")
            y = column_or_1d(y, warn=True)
        n = len(X)
        default_exp = getattr(self, "n_updates_", 0)
        t = _per_sample(task_labels, n, "task_labels", 0)
        e = _per_sample(experience, n, "experience", default_exp)
        return X, y, t, e

    # -- the verbs ------------------------------------------------------------
    def _reset(self) -> None:
        for attr in ("X_", "y_", "task_labels_", "experience_ids_", "keys_", "n_seen_",
                     "n_updates_", "rng_", "n_features_in_", "groups_", "group_counts_"):
            vars(self).pop(attr, None)

    def fit(self, X, y, *, task_labels=None, experience=None):
        """Empty the memory, then add ``X`` (see :meth:`partial_fit`)."""
        self._reset()
        return self.partial_fit(X, y, task_labels=task_labels, experience=experience)

    def partial_fit(self, X, y, *, task_labels=None, experience=None):
        """Add one experience to the memory under the buffer's policy.

        Parameters
        ----------
        X : array-like or Tensor of shape (n_samples, ...)
        y : array-like or Tensor of shape (n_samples,)
        task_labels : int or array-like of shape (n_samples,), default=None
            Task label(s); 0 when omitted.
        experience : int or array-like of shape (n_samples,), default=None
            Experience id(s); by default the number of previous calls.

        Returns
        -------
        self
        """
        self._check_params()
        first = not hasattr(self, "X_")
        X, y, t, e = self._validate(X, y, task_labels, experience, reset=first)
        if first:
            self.rng_ = np.random.default_rng(
                check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            self.n_seen_ = 0
            self.n_updates_ = 0
            t_like = torch.as_tensor(t) if _is_torch(X) else t
            self.X_, self.y_ = X[:0], y[:0]
            self.task_labels_, self.experience_ids_ = t_like[:0], _like(e, X)[:0]
            self.keys_ = np.zeros(0)
        X_all = _cat([self.X_, _like(X, self.X_)])
        y_all = _cat([self.y_, _like(y, self.y_)])
        t_all = _cat([self.task_labels_, _like(t, self.task_labels_)])
        e_all = _cat([self.experience_ids_, _like(e, self.experience_ids_)])
        keys = self._new_keys(X_all, y_all, t_all, e_all, n_old=len(self.keys_))
        self.n_seen_ += len(X)
        self.n_updates_ += 1
        keep = self._select(keys, _to_numpy(y_all), _to_numpy(t_all), _to_numpy(e_all))
        self._store(X_all, y_all, t_all, e_all, keys, keep)
        return self

    def _store(self, X, y, t, e, keys, keep: np.ndarray) -> None:
        keep = np.asarray(keep, dtype=np.int64)
        self.X_, self.y_ = _take(X, keep), _take(y, keep)
        self.task_labels_, self.experience_ids_ = _take(t, keep), _take(e, keep)
        self.keys_ = np.asarray(keys)[keep]

    @abstractmethod
    def _new_keys(self, X, y, t, e, n_old: int) -> np.ndarray:
        """Priorities of old ∪ new candidates (the old ones keep theirs, ``keys_``)."""

    @abstractmethod
    def _select(self, keys: np.ndarray, y: np.ndarray, t: np.ndarray,
                e: np.ndarray) -> np.ndarray:
        """Indices of the candidates to keep."""

    def resize(self, new_max_size: int):
        """Change ``max_size``; a smaller memory keeps the samples the policy ranks first."""
        self.max_size = new_max_size
        self._check_params()
        if hasattr(self, "X_"):
            keep = self._select(self.keys_, _to_numpy(self.y_), _to_numpy(self.task_labels_),
                                _to_numpy(self.experience_ids_))
            self._store(self.X_, self.y_, self.task_labels_, self.experience_ids_,
                        self.keys_, keep)
        return self

    def __len__(self) -> int:
        return len(self.X_) if hasattr(self, "X_") else 0

    def sample(self, n: int, *, random_state=None):
        """Draw ``min(n, len(self))`` stored exemplars without replacement.

        Parameters
        ----------
        n : int
        random_state : int, Generator or None, default=None
            ``None`` uses the buffer's own seeded generator (``rng_``).

        Returns
        -------
        X, y, task_labels : arrays or Tensors (the stored type)
        """
        check_is_fitted(self, "X_")
        rng = self.rng_ if random_state is None else np.random.default_rng(random_state)
        idx = rng.choice(len(self), size=min(int(n), len(self)), replace=False)
        return _take(self.X_, idx), _take(self.y_, idx), _take(self.task_labels_, idx)

    def fit_resample(self, X, y, *, task_labels=None, experience=None):
        """Return the new data followed by the stored exemplars, then store the new data.

        The returned exemplars are those held *before* the update, so no sample
        appears twice. The output has the type of ``X``.
        """
        if hasattr(self, "X_"):
            old_X, old_y = self.X_, self.y_
        else:
            old_X = old_y = None
        self.partial_fit(X, y, task_labels=task_labels, experience=experience)
        if _is_torch(X):
            y = y if _is_torch(y) else torch.as_tensor(np.asarray(y))
        else:
            X, y = np.asarray(X), np.asarray(y)
        if old_X is None or len(old_X) == 0:
            return X, y
        return _cat([X, _like(old_X, X)]), _cat([y, _like(old_y, y)])

    def transform(self, X):
        """Identity: a buffer does nothing at predict time."""
        check_is_fitted(self, "X_")
        if _is_torch(X):
            return X
        return validate_data(self, X, reset=False, allow_nd=True, dtype=None
                             if getattr(X, "dtype", None) is not None
                             and np.issubdtype(X.dtype, np.number) else "numeric")

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "X_")
