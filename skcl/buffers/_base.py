"""`ExemplarsBuffer`: a bounded memory of exemplars, as a scikit-learn estimator."""

from __future__ import annotations

import copy
from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from skcl.buffers._checks import BufferChecks
from skcl.buffers._storage import (
    _cat,
    _gather,
    _is_torch,
    _like,
    _shape,
    _take,
    _to_numpy,
    _write_rows,
)
from skcl.utils import Interval, LazyX

__all__ = ["ExemplarsBuffer"]


class ExemplarsBuffer(BufferChecks, OneToOneFeatureMixin, TransformerMixin, BaseEstimator,
                      metaclass=ABCMeta):
    """Base class of exemplar buffers: a memory of at most ``max_size`` samples.

    A buffer is a scikit-learn estimator. :meth:`partial_fit` adds one
    experience under the buffer's storage policy, :meth:`fit` resets the
    memory first. The exemplars are kept as compact arrays of the input's
    type: numpy arrays stay numpy arrays, torch tensors (for instance a
    strategy's :class:`~skcl.strategies.TrainData` tensors, whose labels are
    output-unit indices) stay tensors of their dtype (``uint8`` images stay
    ``uint8``), on ``store_device`` when it is given. Data read per minibatch
    (:class:`~skcl.utils.LazyX` over a memmap, a dataset, an image folder) is
    stored as index references into its source: no sample is copied into
    memory (see :func:`~skcl.utils.compact_take`). Nothing is stored per
    sample as a Python object.

    Updates replace the stored arrays, they never write into them: an array
    read from the buffer (``X_``, ``y_``, ...) does not change afterwards, and
    a strategy's rollback record keeps references to them instead of copies.

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
    store_device : str, torch.device or None, default=None
        Where the stored inputs (``X_``) and extra fields (``fields_``) of
        tensor input live; ``None`` keeps them where the data is. Labels, task
        labels and experience ids stay on the CPU, where the policy reads them.
        Requires tensor input (numpy input is stored as numpy arrays); ignored
        for data read per minibatch, which is stored as index references.

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

    #: What each parameter accepts (:func:`skcl.utils.validate_params`), checked at the top
    #: of :meth:`fit`, :meth:`partial_fit` and :meth:`resize` before anything changes.
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "max_size": [Interval("int", 0, None)],
        "random_state": ["random_state"],
        "store_device": [None, "string", torch.device],
    }

    def __init__(self, max_size: int = 200, *, random_state=None, store_device=None):
        self.max_size = max_size
        self.random_state = random_state
        self.store_device = store_device

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

        Labels keep the type of the first call's: strings after numbers (or the
        reverse) and non-integral floats after integers are refused, naming the
        labels seen so far; integral floats after integers (``1.0`` after ``1``)
        are the same classes and are stored with the integer dtype.

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
            none = np.zeros(0, dtype=np.int64)
            self.X_, self.y_ = _gather(X, none, self._device()), y[:0]
            self.task_labels_, self.experience_ids_ = t_like[:0], _like(e, X)[:0]
            self.fields_ = {name: _gather(value, none, self._device())
                            for name, value in f.items()}
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
        change, unless a rollback record's :class:`~skcl.buffers._storage.Journal`
        watches the buffer (inside a strategy's ``partial_fit``): then the rows
        are written in place and the overwritten ones journaled (a cost in the
        rows changed, not in the memory). Returns False when the memory must be
        compacted instead.

        Index references (lazily read data) are gathered in the same order, so a
        memory over a memmap holds its exemplars where an in-memory one does.
        """
        kept = np.zeros(n_old, dtype=bool)
        kept[keep[keep < n_old]] = True
        evicted = np.flatnonzero(~kept)
        entering = keep[keep >= n_old] - n_old
        if len(entering) < len(evicted):
            return False
        fill, extra = entering[:len(evicted)], entering[len(evicted):]
        if isinstance(X, LazyX) or isinstance(self.X_, LazyX):
            order = np.arange(n_old + len(extra))
            order[evicted] = n_old + fill
            order[n_old:] = n_old + extra
            self._store(_cat([self.X_, X]), _cat([self.y_, y]), _cat([self.task_labels_, t]),
                        _cat([self.experience_ids_, e]), keys, order,
                        {name: _cat([old, f[name]]) for name, old in self.fields_.items()})
            return True

        def put(old, new):
            if len(evicted):
                old = _write_rows(self, old, evicted, _take(new, fill))
            return _cat([old, _take(new, extra)]) if len(extra) else old

        self.X_, self.y_ = put(self.X_, X), put(self.y_, y)
        self.task_labels_, self.experience_ids_ = put(self.task_labels_, t), put(
            self.experience_ids_, e)
        self.fields_ = {name: put(old, f[name]) for name, old in self.fields_.items()}
        keys = np.array(keys)  # a copy (small): written directly
        kept_keys = keys[:n_old]
        kept_keys[evicted] = keys[n_old:][fill]
        self.keys_ = np.concatenate([kept_keys, keys[n_old:][extra]]) if len(extra) else kept_keys
        return True

    def _store(self, X, y, t, e, keys, keep: np.ndarray, fields: dict | None = None) -> None:
        keep = np.asarray(keep, dtype=np.int64)
        device = self._device()
        self.X_, self.y_ = _gather(X, keep, device), _take(y, keep)
        self.task_labels_, self.experience_ids_ = _take(t, keep), _take(e, keep)
        self.keys_ = np.asarray(keys)[keep]
        fields = self.fields_ if fields is None else fields
        self.fields_ = {name: _gather(value, keep, device) for name, value in fields.items()}

    def _device(self) -> torch.device | None:
        return None if self.store_device is None else torch.device(self.store_device)

    @abstractmethod
    def _new_keys(self, X, y, t, e, n_old: int) -> np.ndarray:
        """Priorities of old ∪ new candidates (the old ones keep theirs, ``keys_``)."""

    @abstractmethod
    def _select(self, keys: np.ndarray, y: np.ndarray, t: np.ndarray,
                e: np.ndarray) -> np.ndarray:
        """Indices of the candidates to keep."""

    def resize(self, new_max_size: int):
        """Change ``max_size``; a smaller memory keeps the samples the policy ranks first.

        A rejected size (or any failure) leaves the buffer as it was.
        """
        saved, old = self._save_state(), self.max_size
        self.max_size = new_max_size
        try:
            self._check_params()
            if hasattr(self, "X_"):
                keep = self._select(self.keys_, _to_numpy(self.y_),
                                    _to_numpy(self.task_labels_),
                                    _to_numpy(self.experience_ids_))
                self._store(self.X_, self.y_, self.task_labels_, self.experience_ids_,
                            self.keys_, keep)
        except BaseException:
            self.max_size = old
            self._load_state(saved)
            raise
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

    def __getstate__(self) -> dict:
        # index references into data read per minibatch (a memmap, a dataset) are pickled as
        # the exemplars' values: a pickle (a checkpoint) holds the memory, not the whole
        # file, and loads where the file is absent
        state = dict(super().__getstate__())
        if isinstance(state.get("X_"), LazyX):
            state["X_"] = state["X_"][:]
        return state

    def __deepcopy__(self, memo: dict):
        # attribute by attribute: a rollback record keeps index references as they are
        # (``__getstate__`` would read every referenced exemplar)
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        vars(new).update(copy.deepcopy(vars(self), memo))
        return new

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "X_")
