"""scikit-learn's conventions: repr, fitted state, tags, parameter checks, common-test settings."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from sklearn.exceptions import NotFittedError

from skcl.strategies._core.avalanche_names import suggest_name

__all__ = ["SklearnConventions"]


class SklearnConventions:
    """Part of :class:`~skcl.strategies.BaseStrategy`.

    The text repr, ``__sklearn_is_fitted__``/tags, the checks run before
    anything changes (declared constraints, device), and the settings the
    common scikit-learn tests use."""

    def __repr__(self) -> str:
        """scikit-learn's style: the class and the parameters that differ from their defaults.

        (skorch's repr shows only the module.) The fitted network is ``module_``.
        """
        defaults: dict[str, Any] = {"iterator_train__shuffle": True}
        for klass in reversed(type(self).__mro__):
            init = vars(klass).get("__init__")
            if init is None or klass is object:
                continue
            for name, param in inspect.signature(init).parameters.items():
                if param.default is not inspect.Parameter.empty:
                    defaults[name] = param.default
        changed = []
        for key, value in self.get_params(deep=False).items():
            if key in defaults and (value is defaults[key] or (
                    type(value) is type(defaults[key]) and repr(value) == repr(defaults[key]))):
                continue
            shown = value.__name__ if isinstance(value, type) else repr(value)
            changed.append(f"{key}={shown}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_is_fitted__(self) -> bool:
        return "class_order_" in vars(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'partial_fit' "
                "or 'fit' with appropriate arguments before using this estimator."
            )

    def _check_params(self) -> None:
        # Subclasses add checks that a declaration cannot express (relations between values).
        self.validate_parameters()
        device = torch.device(self.device) if self.device is not None else None
        if device is not None and device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} but torch sees no CUDA GPU "
                             "(torch.cuda.is_available() is False); use device='cpu', or install "
                             "a CUDA build of torch on a machine with a GPU.")
        if device is not None and device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"device={self.device!r} but the MPS backend is not available.")

    def _validate_params(self) -> None:
        try:
            super()._validate_params()
        except ValueError as exc:
            msg = str(exc)
            valid = [k for k in inspect.signature(type(self).__init__).parameters
                     if k not in ("self", "kwargs")]
            hints = []
            for key in sorted(self._params_to_validate):
                match = suggest_name(key, valid)
                if match:
                    hints.append(f"'{key}' -> did you mean {match}?")
            raise ValueError(msg + ("\n" + "\n".join(hints) if hints else "")) from None

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        """Parameters of a tiny, fast instance for the common tests (river's convention)."""
        return {"module__hidden_sizes": (16,), "max_epochs": 30, "lr": 0.1, "random_state": 0}

    @classmethod
    def _expected_failed_checks(cls) -> dict[str, str]:
        """scikit-learn checks this class cannot pass, each with the reason."""
        expected = {
            "check_no_attributes_set_in_init": (
                "skorch sets history_, initialized_ and virtual_params_ in __init__ and stores "
                "prefixed keyword arguments (module__*, iterator_train__*) as attributes; clone "
                "and get_params still round-trip them."
            ),
        }
        return expected
