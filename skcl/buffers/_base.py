"""`ExemplarsBuffer`: a bounded memory of exemplars, as a scikit-learn estimator."""

from __future__ import annotations

import numbers
from abc import ABCMeta, abstractmethod
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from skcl.utils import LazyX, check_int

__all__ = ["ExemplarsBuffer"]


# -- helpers that work on numpy arrays and torch tensors alike -------------------
def _is_torch(a) -> bool:
    # data read per minibatch (LazyX) is handled like a tensor: its rows come out as tensors
    return isinstance(a, torch.Tensor | LazyX)


def _take(a, idx: np.ndarray):
    if isinstance(a, LazyX):  # only the rows kept are read (uint8 stays uint8)
        return a.take(np.asarray(idx, dtype=np.int64))
    if _is_torch(a):
        return a[torch.as_tensor(idx, dtype=torch.long, device=a.device)]
    return a[idx]


def _cat(parts: list):
    if any(isinstance(p, LazyX) for p in parts):
        # candidates stay unread until the buffer takes the rows it keeps
        return LazyX([p if isinstance(p, LazyX) else LazyX(torch.as_tensor(p)) for p in parts])
    if _is_torch(parts[0]):
        return torch.cat([p if _is_torch(p) else torch.as_tensor(p) for p in parts])
    return np.concatenate([p.detach().cpu().numpy() if _is_torch(p) else p for p in parts])


def _like(a, ref):
    """``a`` converted to the array type (numpy or torch) of ``ref``."""
    if isinstance(a, LazyX):
        return a
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


def _label_kind(y) -> str:
    """``"number"`` or ``"string"``: the kind of a label array (object arrays are inspected)."""
    if _is_torch(y):
        return "number"
    y = np.asarray(y)
    if y.dtype.kind in "biuf":
        return "number"
    if y.dtype.kind in "US":
        return "string"
    kinds = {"string" if isinstance(v, (str, bytes)) else
             "number" if isinstance(v, (numbers.Number, np.number)) else type(v).__name__
             for v in y.ravel().tolist()}
    if len(kinds) == 1:
        return kinds.pop()
    if not kinds:
        return "number"
    raise ValueError(f"y mixes label types ({', '.join(sorted(kinds))}); use one type.")


class _Seen:
    """The labels a buffer has seen, formatted only when an error message needs them."""

    def __init__(self, buffer):
        self.buffer = buffer

    def __format__(self, spec: str) -> str:
        return str(getattr(self.buffer, "classes_", np.zeros(0)).tolist())


def _shape(a) -> tuple:
    return tuple(int(d) for d in (a.shape if hasattr(a, "shape") else np.shape(a)))


class ExemplarsBuffer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator,
                      metaclass=ABCMeta):
    """Base class of exemplar buffers: a memory of at most ``max_size`` samples.

    A buffer is a scikit-learn estimator. :meth:`partial_fit` adds one
    experience under the buffer's storage policy, :meth:`fit` resets the
    memory first. The exemplars are kept as compact arrays of the input's
    type: numpy arrays stay numpy arrays, torch tensors (for instance a
    strategy's :class:`~skcl.strategies.TrainData` tensors, whose labels are
    output-unit indices) stay tensors. Nothing is stored per sample as a
    Python object.

    Each exemplar can carry extra per-sample fields (``fields=`` in
    :meth:`partial_fit`, stored in ``fields_``): they follow the exemplar
    through every policy, :meth:`resize`, pickling and a strategy's rollback.

    In a pipeline (:mod:`skcl.pipeline`) a buffer is a resampling step:
    :meth:`fit_resample` returns the new data together with the stored
    exemplars, and :meth:`transform` is the identity (so
    :meth:`get_feature_names_out` returns the input feature names, and
    ``Pipeline.set_output(transform="pandas")`` works through a buffer).

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
    fields_ : dict of str to array or Tensor
        Extra per-sample values given to :meth:`partial_fit` (``fields=``),
        aligned with ``X_`` (same type and device), for instance the logits
        at insertion time of dark experience replay.
    classes_ : ndarray
        Sorted labels offered to the buffer so far (held or not).
    n_features_in_ : int
        Features (``X.shape[1]``) of the samples.
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
                    f"(X_ has shape {_shape(self.X_)}).")
        if _is_torch(X):
            if X.ndim < 1 or len(X) == 0:
                raise ValueError("Empty input: X has 0 samples.")
            y = torch.as_tensor(y) if not _is_torch(y) else y
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

    # -- the verbs ------------------------------------------------------------
    _STATE = ("X_", "y_", "task_labels_", "experience_ids_", "keys_", "n_seen_", "n_updates_",
              "rng_", "n_features_in_", "feature_names_in_", "groups_", "group_counts_",
              "fields_", "classes_")

    def _reset(self) -> None:
        for attr in self._STATE:
            vars(self).pop(attr, None)

    def fit(self, X, y, *, task_labels=None, experience=None, fields=None):
        """Empty the memory, then add ``X`` (see :meth:`partial_fit`).

        A rejected call leaves the buffer as it was.
        """
        saved = self._save_state()
        self._reset()
        try:
            return self.partial_fit(X, y, task_labels=task_labels, experience=experience,
                                    fields=fields)
        except BaseException:
            self._load_state(saved)
            raise

    def _save_state(self) -> dict:
        state = {k: v for k, v in vars(self).items() if k in self._STATE}
        if "rng_" in state:  # the getter builds a new dict: a snapshot
            state["rng_state_"] = state["rng_"].bit_generator.state
        return state

    def _load_state(self, state: dict) -> None:
        state = dict(state)
        rng_state = state.pop("rng_state_", None)
        self._reset()
        vars(self).update(state)
        if rng_state is not None:
            self.rng_.bit_generator.state = rng_state

    def partial_fit(self, X, y, *, task_labels=None, experience=None, fields=None):
        """Add one experience to the memory under the buffer's policy.

        The input is validated before the memory changes: a rejected call
        (malformed input, a label type different from the labels seen so far,
        a class or group over a fixed-size buffer's limit, fields that do not
        match) raises a ``ValueError`` and leaves the buffer exactly as it was,
        its random generator included.

        Parameters
        ----------
        X : array-like or Tensor of shape (n_samples, ...)
        y : array-like or Tensor of shape (n_samples,)
        task_labels : int or array-like of shape (n_samples,), default=None
            Task label(s); 0 when omitted.
        experience : int or array-like of shape (n_samples,), default=None
            Experience id(s); by default the number of previous calls.
        fields : dict of str to array-like or Tensor, default=None
            Extra per-sample values kept with each exemplar (for instance the
            logits at insertion time), each with ``n_samples`` rows. The first
            call fixes the names and the shape of a row; they are stored in
            ``fields_`` with ``X``'s array type and device and stay aligned
            with ``X_`` through every policy and :meth:`resize`.

        Returns
        -------
        self
        """
        self._check_params()
        first = not hasattr(self, "X_")
        saved = self._save_state()
        try:
            self._partial_fit(X, y, task_labels, experience, fields, first)
        except BaseException:
            self._load_state(saved)
            raise
        return self

    def _partial_fit(self, X, y, task_labels, experience, fields, first: bool) -> None:
        X, y, t, e, f = self._validate(X, y, task_labels, experience, fields, first)
        self._validate_groups(_to_numpy(y), t, e)
        # -- validated: from here on the buffer changes
        if first:
            self.rng_ = np.random.default_rng(
                check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            self.n_seen_ = 0
            self.n_updates_ = 0
            t_like = torch.as_tensor(t) if _is_torch(X) else t
            self.X_, self.y_ = _take(X, np.zeros(0, dtype=np.int64)), y[:0]
            self.task_labels_, self.experience_ids_ = t_like[:0], _like(e, X)[:0]
            self.fields_ = {name: value[:0] for name, value in f.items()}
            self.keys_ = np.zeros(0)
            self.classes_ = np.unique(_to_numpy(y)[:0])
        n_old = len(self.keys_)
        X_new = _like(X, self.X_)
        y_new, t_new = _like(y, self.y_), _like(t, self.task_labels_)
        e_new = _like(e, self.experience_ids_)
        f_new = {name: _like(f[name], old) for name, old in self.fields_.items()}
        y_all = _cat([self.y_, y_new])
        t_all = _cat([self.task_labels_, t_new])
        e_all = _cat([self.experience_ids_, e_new])
        X_all = _cat([self.X_, X_new]) if self._needs_candidates else None
        keys = self._new_keys(X_all, y_all, t_all, e_all, n_old=n_old)
        self.n_seen_ += len(X)
        self.n_updates_ += 1
        self.classes_ = np.union1d(self.classes_, np.unique(_to_numpy(y)))
        keep = np.asarray(self._select(keys, _to_numpy(y_all), _to_numpy(t_all),
                                       _to_numpy(e_all)), dtype=np.int64)
        if self._replace_slots(keep, n_old, keys, X_new, y_new, t_new, e_new, f_new):
            return
        if X_all is None:
            X_all = _cat([self.X_, X_new])
        f_all = {name: _cat([old, f_new[name]]) for name, old in self.fields_.items()}
        self._store(X_all, y_all, t_all, e_all, keys, keep, f_all)

    #: Whether ``_new_keys`` reads the candidates' inputs (else it gets ``X=None``).
    _needs_candidates = False

    def _replace_slots(self, keep, n_old: int, keys, X, y, t, e, f) -> bool:
        """Store by writing the entering samples into the evicted slots (no full gather).

        Possible when no more old exemplars leave than new ones enter (the usual
        update of a full memory); the held exemplars keep their positions. The
        arrays are copied before the writes, so arrays handed out earlier do not
        change. Returns False when the memory must be compacted instead.
        """
        kept = np.zeros(n_old, dtype=bool)
        kept[keep[keep < n_old]] = True
        evicted = np.flatnonzero(~kept)
        entering = keep[keep >= n_old] - n_old
        if len(entering) < len(evicted):
            return False
        fill, extra = entering[:len(evicted)], entering[len(evicted):]

        def put(old, new):
            if len(evicted):
                old = old.clone() if _is_torch(old) else old.copy()
                slots = (torch.as_tensor(evicted, dtype=torch.long, device=old.device)
                         if _is_torch(old) else evicted)
                old[slots] = _take(new, fill)
            return _cat([old, _take(new, extra)]) if len(extra) else old

        self.X_, self.y_ = put(self.X_, X), put(self.y_, y)
        self.task_labels_, self.experience_ids_ = put(self.task_labels_, t), put(
            self.experience_ids_, e)
        self.fields_ = {name: put(old, f[name]) for name, old in self.fields_.items()}
        keys = np.asarray(keys)
        self.keys_ = put(keys[:n_old], keys[n_old:])
        return True

    def _store(self, X, y, t, e, keys, keep: np.ndarray, fields: dict | None = None) -> None:
        keep = np.asarray(keep, dtype=np.int64)
        self.X_, self.y_ = _take(X, keep), _take(y, keep)
        self.task_labels_, self.experience_ids_ = _take(t, keep), _take(e, keep)
        self.keys_ = np.asarray(keys)[keep]
        fields = self.fields_ if fields is None else fields
        self.fields_ = {name: _take(value, keep) for name, value in fields.items()}

    @abstractmethod
    def _new_keys(self, X, y, t, e, n_old: int) -> np.ndarray:
        """Priorities of old ∪ new candidates (the old ones keep theirs, ``keys_``)."""

    @abstractmethod
    def _select(self, keys: np.ndarray, y: np.ndarray, t: np.ndarray,
                e: np.ndarray) -> np.ndarray:
        """Indices of the candidates to keep."""

    def resize(self, new_max_size: int):
        """Change ``max_size``; a smaller memory keeps the samples the policy ranks first."""
        old = self.max_size
        self.max_size = new_max_size
        try:
            self._check_params()
        except ValueError:
            self.max_size = old
            raise
        if hasattr(self, "X_"):
            keep = self._select(self.keys_, _to_numpy(self.y_), _to_numpy(self.task_labels_),
                                _to_numpy(self.experience_ids_))
            self._store(self.X_, self.y_, self.task_labels_, self.experience_ids_,
                        self.keys_, keep)
        return self

    def set_field(self, name: str, values):
        """Replace (or add) the extra field ``name`` of the exemplars held now.

        ``values`` has one row per held exemplar, in the order of ``X_``; its
        row shape may differ from the old one (e.g. logits widened when a
        classifier head grew). Later :meth:`partial_fit` calls must give rows
        of the new shape.

        Examples
        --------
        >>> import numpy as np
        >>> from skcl.buffers import ReservoirSamplingBuffer
        >>> buf = ReservoirSamplingBuffer(max_size=3, random_state=0)
        >>> _ = buf.fit(np.zeros((2, 1)), [0, 1], fields={"z": np.ones((2, 2))})
        >>> _ = buf.set_field("z", np.zeros((2, 3)))
        >>> buf.fields_["z"].shape
        (2, 3)
        """
        check_is_fitted(self, "X_")
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Field names must be identifiers; got {name!r}.")
        if _is_torch(self.X_):
            values = (values.detach() if _is_torch(values)
                      else torch.as_tensor(np.asarray(values))).to(self.X_.device)
        else:
            values = _to_numpy(values)
        if len(_shape(values)) == 0 or _shape(values)[0] != len(self):
            raise ValueError(f"Field {name!r} needs one row per held exemplar ({len(self)}); "
                             f"got shape {_shape(values)}.")
        self.fields_ = {**self.fields_, name: values}
        return self

    def __len__(self) -> int:
        return len(self.X_) if hasattr(self, "X_") else 0

    def sample(self, n: int, *, random_state=None, return_fields: bool = False):
        """Draw ``min(n, len(self))`` stored exemplars without replacement.

        Parameters
        ----------
        n : int
        random_state : int, Generator or None, default=None
            ``None`` uses the buffer's own seeded generator (``rng_``).
        return_fields : bool, default=False
            Also return the drawn exemplars' extra fields (a dict).

        Returns
        -------
        X, y, task_labels : arrays or Tensors (the stored type)
        fields : dict
            Only with ``return_fields=True``.
        """
        check_is_fitted(self, "X_")
        rng = self.rng_ if random_state is None else np.random.default_rng(random_state)
        idx = rng.choice(len(self), size=min(int(n), len(self)), replace=False)
        out = (_take(self.X_, idx), _take(self.y_, idx), _take(self.task_labels_, idx))
        if return_fields:
            return (*out, {name: _take(v, idx) for name, v in self.fields_.items()})
        return out

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
