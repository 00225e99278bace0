"""Exemplar selection strategies: rank samples in the order a buffer should keep them."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator

from skcl.utils import Interval, eval_mode, validate_params

__all__ = [
    "ExemplarsSelectionStrategy",
    "RandomExemplarsSelectionStrategy",
    "FeatureBasedExemplarsSelectionStrategy",
    "HerdingSelectionStrategy",
    "ClosestToCenterSelectionStrategy",
    "herding_order",
]


class ExemplarsSelectionStrategy(BaseEstimator, metaclass=ABCMeta):
    """Base class: order samples by keep-priority (the first are kept first).

    A selection strategy holds only parameters, declared in
    ``_parameter_constraints`` and checked by :meth:`validate_parameters`.
    :class:`~skcl.buffers.ParametricBuffer` and :class:`~skcl.strategies.ICaRL` call
    :meth:`make_sorted_indices`.
    """

    #: What each parameter accepts (see :func:`skcl.utils.validate_params`).
    _parameter_constraints: ClassVar[dict[str, Any]] = {}

    def validate_parameters(self) -> None:
        """Check the parameters against ``_parameter_constraints`` (changes nothing).

        Raises
        ------
        skcl.utils.InvalidParameterError
            Naming the parameter, what it accepts and the value.
        """
        validate_params(self._parameter_constraints, self.get_params(deep=False),
                        type(self).__name__)

    @abstractmethod
    def make_sorted_indices(self, X, y=None, *, rng: np.random.Generator | None = None
                            ) -> np.ndarray:
        """Indices of ``X`` (numpy array or tensor), most important first."""


class RandomExemplarsSelectionStrategy(ExemplarsSelectionStrategy):
    """A random order (drawn from ``rng``, the caller's seeded generator).

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.selection import RandomExemplarsSelectionStrategy
    >>> s = RandomExemplarsSelectionStrategy()
    >>> sorted(s.make_sorted_indices(np.zeros((4, 2)), rng=np.random.default_rng(0)).tolist())
    [0, 1, 2, 3]
    """

    def make_sorted_indices(self, X, y=None, *, rng=None) -> np.ndarray:
        rng = np.random.default_rng() if rng is None else rng
        return rng.permutation(len(X))


def _resolve_module(model) -> torch.nn.Module:
    module = getattr(model, "module_", model)  # a fitted skcl strategy gives its module
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"model must be a torch module or a fitted skcl strategy; got "
                        f"{type(model).__name__}.")
    return module


class FeatureBasedExemplarsSelectionStrategy(ExemplarsSelectionStrategy):
    """Base class of strategies that rank by the features of a named layer.

    Features are the output of ``model``'s submodule ``layer_name`` (a name
    from ``named_modules()``; ``""`` means the whole model), computed in
    batches, in eval mode and without gradients. The model's train/eval
    mode (of every submodule) is restored afterwards, unlike Avalanche,
    which leaves the model in eval mode.

    Parameters
    ----------
    model : torch.nn.Module or fitted skcl strategy
    layer_name : str
    batch_size : int, default=256
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "model": "no_validation",  # a module or a fitted strategy: checked when it is used
        "layer_name": ["string"],
        "batch_size": [Interval("int", 1, None)],
    }

    def __init__(self, model, layer_name: str, *, batch_size: int = 256):
        self.model = model
        self.layer_name = layer_name
        self.batch_size = batch_size

    def features(self, X) -> torch.Tensor:
        """Flattened features of ``X`` at ``layer_name`` (float tensor, shape (n, d))."""
        self.validate_parameters()
        module = _resolve_module(self.model)
        layers = dict(module.named_modules())
        if self.layer_name not in layers:
            raise ValueError(f"No layer named {self.layer_name!r}; known layers: "
                             f"{[k for k in layers if k]}.")
        captured = []
        handle = layers[self.layer_name].register_forward_hook(
            lambda _m, _i, out: captured.append(out[0] if isinstance(out, tuple) else out))
        device = next(module.parameters(), torch.zeros(0)).device
        X = torch.as_tensor(np.asarray(X, dtype=np.float32)) if not isinstance(
            X, torch.Tensor) else X
        out = []
        try:
            with eval_mode(module):
                for start in range(0, len(X), self.batch_size):
                    captured.clear()
                    module(X[start:start + self.batch_size].to(device))
                    out.append(captured[-1].reshape(len(captured[-1]), -1).float().cpu())
        finally:
            handle.remove()
        return torch.cat(out) if out else torch.zeros(0, 0)

    def make_sorted_indices(self, X, y=None, *, rng=None) -> np.ndarray:
        return self.make_sorted_indices_from_features(self.features(X))

    @abstractmethod
    def make_sorted_indices_from_features(self, features: torch.Tensor) -> np.ndarray:
        """Order given the features."""


def herding_order(features, n: int | None = None) -> np.ndarray:
    """iCaRL's herding (Rebuffi et al. 2017, Algorithm 4): a greedy ordering.

    With μ the mean feature, the k-th pick is the sample (not yet picked)
    minimizing ``‖μ − (f_x + Σ_{j<k} f_{p_j}) / k‖``: the running mean of
    the picks tracks the class mean as closely as possible.

    Expanding the square, that is the sample minimizing
    ``‖f_x‖² / k − 2 f_x · (μ − Σ_{j<k} f_{p_j} / k)``: one matrix-vector product
    per pick, in float32, with no ``n x d`` temporary.

    Parameters
    ----------
    features : array-like or Tensor of shape (n_samples, n_features)
    n : int, default=None
        Number of picks; all samples by default.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.selection import herding_order
    >>> herding_order(np.array([[0.0], [1.0], [5.0]])).tolist()  # mean 2: 1, then 5, then 0
    [1, 2, 0]
    """
    f = features.detach() if isinstance(features, torch.Tensor) else torch.as_tensor(
        np.asarray(features))
    f = f.reshape(len(f), -1).to(device="cpu", dtype=torch.float32)
    n_samples = len(f)
    n = n_samples if n is None else min(int(n), n_samples)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    mu = f.mean(dim=0)
    sq = torch.linalg.vector_norm(f, dim=1) ** 2
    running = torch.zeros_like(mu)
    taken = torch.zeros(n_samples, dtype=torch.bool)
    order = np.empty(n, dtype=np.int64)
    scores = torch.empty(n_samples)
    for k in range(1, n + 1):
        target = mu - running / k
        torch.mv(f, target, out=scores)
        scores.mul_(-2.0).add_(sq, alpha=1.0 / k)
        scores.masked_fill_(taken, float("inf"))
        i = int(torch.argmin(scores))
        order[k - 1] = i
        taken[i] = True
        running += f[i]
    return order


class HerdingSelectionStrategy(FeatureBasedExemplarsSelectionStrategy):
    """Herding selection (iCaRL): exemplars whose running mean tracks the class mean.

    Follows iCaRL's Algorithm 4 exactly (see :func:`herding_order`): a full
    ordering, every sample picked once. With ``normalize=True`` (the paper)
    features are L2-normalized first; Avalanche's selection strategy uses
    the raw features.

    Parameters
    ----------
    model : torch.nn.Module or fitted skcl strategy
    layer_name : str
    batch_size : int, default=256
    normalize : bool, default=True

    Examples
    --------
    >>> import torch
    >>> from skcl.selection import HerdingSelectionStrategy
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3))
    >>> s = HerdingSelectionStrategy(net, "0")
    >>> sorted(s.make_sorted_indices(torch.randn(5, 2)).tolist())
    [0, 1, 2, 3, 4]
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **FeatureBasedExemplarsSelectionStrategy._parameter_constraints,
        "normalize": ["boolean"],
    }

    def __init__(self, model, layer_name: str, *, batch_size: int = 256, normalize: bool = True):
        super().__init__(model, layer_name, batch_size=batch_size)
        self.normalize = normalize

    def make_sorted_indices_from_features(self, features: torch.Tensor) -> np.ndarray:
        if self.normalize:
            features = torch.nn.functional.normalize(features, dim=1)
        return herding_order(features)


class ClosestToCenterSelectionStrategy(FeatureBasedExemplarsSelectionStrategy):
    """Keep first the samples whose features are closest to the mean feature.

    Examples
    --------
    >>> import torch
    >>> from skcl.selection import ClosestToCenterSelectionStrategy
    >>> s = ClosestToCenterSelectionStrategy(torch.nn.Identity(), "")
    >>> s.make_sorted_indices(torch.tensor([[0.0], [1.0], [5.0]])).tolist()  # mean 2
    [1, 0, 2]
    """

    def make_sorted_indices_from_features(self, features: torch.Tensor) -> np.ndarray:
        f = features.reshape(len(features), -1).float()
        mu = f.mean(dim=0)
        # ||f - mu||^2 up to the constant ||mu||^2: one matrix-vector product, no n x d temporary
        d = torch.linalg.vector_norm(f, dim=1) ** 2 - 2.0 * torch.mv(f, mu)
        return np.argsort(d.numpy(), kind="stable")
