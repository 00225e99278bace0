"""Input validation: experiences, ``X``, ``y`` and task labels checked and made tensors."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

from skcl.benchmarks._experience import Experience
from skcl.benchmarks._streams import stream_from_groups
from skcl.utils import LazyTrainData, LazyX, TrainData, is_lazy_input
from skcl.utils._task_labels import check_task_labels
from skcl.utils._validation import n_samples

__all__ = ["InputValidation"]


def _reject_experience_list(X, name: str) -> None:
    if isinstance(X, list | tuple) and X and all(isinstance(e, Experience) for e in X):
        raise TypeError(
            f"{name} is a list of {len(X)} experiences; partial_fit trains on one experience: "
            "call it once per experience (`for exp in stream: net.partial_fit(exp)`), or "
            "train on the whole stream with `net.fit(stream)`.")


def _as_tensor(X: np.ndarray) -> torch.Tensor:
    # torch shares memory with the array; a read-only one (a memmap, joblib's
    # arguments) is copied rather than shared, as torch cannot protect it
    return torch.as_tensor(X if X.flags.writeable else X.copy())


class InputValidation:
    """Part of :class:`~skcl.strategies.BaseStrategy`.

    Experiences, ``X``, ``y`` and task labels, checked and
    turned into tensors."""

    def _as_experience(self, X, y, fit_params: dict) -> Experience:
        _reject_experience_list(X, "X")
        task_labels = fit_params.pop("task_labels", None)
        if isinstance(X, Experience):
            if y is not None and y is not X.y:
                raise ValueError("Pass either an Experience or (X, y), not both.")
            if task_labels is not None:
                raise ValueError("An Experience carries its own task labels; "
                                 "do not pass task_labels=.")
            return X
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None (pass y or an Experience).")
        return Experience(X, y, task_label=0 if task_labels is None else task_labels,
                          classes=(), index=getattr(self, "n_experiences_", 0))

    def _validate_X(self, X, reset: bool) -> torch.Tensor | LazyX:
        """``X`` checked and made a tensor, or a :class:`LazyX` for lazy input.

        ``uint8`` arrays stay ``uint8`` (pixels: 4x smaller; the models divide
        by 255); other numbers become ``float32``. Data on disk or in a
        dataset (a memmap, a torch ``Dataset``, any sequence-like reader) is
        read per minibatch. The trailing shape is recorded at the first call
        (``input_shape_``) and checked at every later one.
        """
        _reject_experience_list(X, "X")
        if is_lazy_input(X):
            return self._validate_lazy_X(X, reset)
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        if getattr(X, "shape", (None,))[0] == 0 or (isinstance(X, list) and not X):
            raise ValueError("Empty experience: X has 0 samples.")
        if (type(X) is np.ndarray and X.ndim >= 2 and X.size
                and "feature_names_in_" not in vars(self)):
            if X.dtype == np.uint8:  # integers are always finite: no check to make
                self._check_input_shape(X.shape, reset)
                return _as_tensor(X)
            if X.dtype.kind == "f" and (reset or X.shape[1] == getattr(self, "n_features_in_",
                                                                       None)):
                # The common case (a float array, as every stream builder makes) without
                # scikit-learn's generic dispatch; anything unusual, or any error to report,
                # goes through validate_data below.
                Xt = _as_tensor(np.asarray(X, dtype=np.float32))
                # A finite sum means every value is finite (NaN and inf propagate); the sum
                # is ~3x cheaper than an element-wise check, which only runs when the sum is
                # not finite (a NaN/inf, or an overflow of large values).
                if bool(torch.isfinite(Xt.sum())) or bool(np.isfinite(Xt.numpy()).all()):
                    self._check_input_shape(X.shape, reset)
                    return Xt
        X = validate_data(self, X, reset=reset, dtype=np.float32, allow_nd=True,
                          ensure_all_finite=True)
        self._check_input_shape(X.shape, reset)
        return _as_tensor(X)

    def _validate_lazy_X(self, X, reset: bool) -> LazyX:
        X = LazyX(X)
        if len(X) == 0:
            raise ValueError("Empty experience: X has 0 samples.")
        shape = tuple(X.shape)
        if len(shape) < 2:
            raise ValueError(f"Expected samples with at least one feature; X has shape {shape}.")
        if reset:
            vars(self).pop("feature_names_in_", None)
        elif shape[1] != getattr(self, "n_features_in_", shape[1]):
            raise ValueError(f"X has {shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input.")
        self._check_input_shape(shape, reset)
        return X

    def _check_input_shape(self, shape, reset: bool) -> None:
        trailing = tuple(int(s) for s in shape[1:])
        if reset:
            self.n_features_in_ = trailing[0]
            self.input_shape_ = trailing
            return
        fitted = getattr(self, "input_shape_", None)
        if fitted is not None and trailing != tuple(fitted):
            raise ValueError(
                f"X has samples of shape {trailing}, but {type(self).__name__} was fitted on "
                f"samples of shape {tuple(fitted)} (input_shape_).")

    def _module_in_features(self) -> int:
        """The flat input size a module's ``in_features`` takes (all trailing dimensions)."""
        shape = getattr(self, "input_shape_", None)
        return int(np.prod(shape)) if shape else int(self.n_features_in_)

    @staticmethod
    def _train_data(X, y, task_labels) -> TrainData:
        # data on disk stays on disk: subsets and concatenations keep index references
        cls = LazyTrainData if isinstance(X, LazyX) else TrainData
        return cls(X, y, task_labels)

    def _validate_y(self, y, n_samples: int) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim == 1 and y.dtype.kind in "iu":
            # integer labels are always valid classification targets: skip the generic check
            if len(y) != n_samples:
                raise ValueError(f"X has {n_samples} samples but y has {len(y)}.")
            return y
        if y.ndim == 2 and y.shape[1] > 1:
            raise ValueError(
                f"y must be 1-dimensional (one label per sample); got shape {y.shape}.")
        y = column_or_1d(y, warn=True)
        if len(y) != n_samples:
            raise ValueError(f"X has {n_samples} samples but y has {len(y)}.")
        check_classification_targets(y)
        return y

    def _validate_task_labels(self, exp: Experience, n_samples: int) -> torch.Tensor:
        t = check_task_labels(exp.task_label, n_samples)
        return torch.as_tensor(t, dtype=torch.long)

    def current_experience_data(self) -> TrainData:
        """The current experience's own samples as :class:`TrainData` (labels as units).

        Unlike ``train_data_`` this never includes samples a plugin added
        (replay in concat mode). Only valid during an experience.
        """
        exp = self.experience_
        X = self._validate_X(exp.X, reset=False)
        return self._train_data(X, torch.as_tensor(self.encode_labels(exp.y), dtype=torch.long),
                                torch.as_tensor(exp.task_labels, dtype=torch.long))

    def _as_stream(self, X, y, experience, fit_params: dict) -> list[Experience]:
        if isinstance(X, Experience):
            return [X]
        if isinstance(X, (list, tuple)) and len(X) and all(isinstance(e, Experience) for e in X):
            return list(X)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None (pass y, an Experience or a list of Experience).")
        task_labels = fit_params.pop("task_labels", None)
        if getattr(X, "shape", (None,))[0] == 0:
            raise ValueError("Empty experience: X has 0 samples.")
        if experience is None:
            return [Experience(X, y, task_label=0 if task_labels is None else task_labels,
                               classes=())]
        ids = np.asarray(experience)
        if len(ids) != len(y):
            raise ValueError(f"experience has {len(ids)} entries but y has {len(y)}.")
        if isinstance(X, torch.Tensor):
            X = X.numpy()
        return stream_from_groups(np.asarray(X) if not hasattr(X, "iloc") else X.to_numpy(),
                                  y, ids, task_labels=task_labels)

    def _predict_data(self, X, task_labels=None) -> TrainData:
        self._check_fitted()
        if isinstance(X, TrainData):
            return TrainData(X.X, None, X.task_labels)
        if isinstance(X, Experience):
            if task_labels is not None:
                raise ValueError("An Experience carries its own task labels.")
            exp = X
        else:
            exp = Experience(X, np.zeros(n_samples(X), dtype=np.int64),
                             task_label=0 if task_labels is None else task_labels, classes=())
        Xt = self._validate_X(exp.X, reset=False)
        return self._train_data(Xt, None, self._validate_task_labels(exp, len(Xt)))
