"""Gradient Episodic Memory (Lopez-Paz & Ranzato, NeurIPS 2017)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from scipy.optimize import nnls
from torch import nn

from skcl.plugins._base import StrategyPlugin
from skcl.plugins._utils import (
    experience_data,
    flat_grad,
    in_memory,
    memory_gradient,
    random_subset,
    trainable_parameters,
    write_flat_grad,
)
from skcl.utils import Interval
from skcl.utils._fisher import PerSampleGrads

__all__ = ["GEMPlugin", "gem_project"]


def gem_project(g: torch.Tensor, G: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
    """GEM's projection of ``g`` (P,) given past-experience gradients ``G`` (K, P).

    Solves the dual of ``min ||g~ - g||^2 / 2  s.t.  G g~ >= 0``, i.e.
    ``min_v v^T G G^T v / 2 + (G g)^T v  s.t.  v >= margin``, and returns
    ``g~ = G^T v + g``. With ``u = v - margin`` the dual is the non-negative
    least-squares problem ``min_{u >= 0} ||G^T u - b||^2`` with
    ``b = -(g + margin * G^T 1)``. Like the authors' code, it is solved on the
    small ``K x K`` Gram matrix ``M = G G^T`` only: with ``M = R^T R`` (``R``
    from the eigendecomposition of ``M``, so a rank-deficient ``M`` works too),
    ``||G^T u - b||^2 = ||R u - d||^2 + const`` where ``R^T d = G b``, and
    :func:`scipy.optimize.nnls` (Lawson-Hanson active set, exact in finitely
    many steps) solves that ``K x K`` problem in float64: microseconds, where
    the tall ``P x K`` problem took milliseconds. Only the Gram matrix and
    ``G g`` touch the ``P`` parameters. The NNLS optimality conditions are the
    GEM constraints ``G g~ >= 0``.

    Examples
    --------
    >>> import torch
    >>> g = torch.tensor([1.0, -1.0])
    >>> G = torch.tensor([[0.0, 1.0]])
    >>> gem_project(g, G).tolist()
    [1.0, 0.0]
    """
    G = G.to(g.dtype)
    M = (G @ G.T).double().cpu().numpy()  # (K, K)
    Gg = (G @ g).double().cpu().numpy()  # (K,)
    c = -(Gg + margin * M.sum(axis=1))  # G b
    w, V = np.linalg.eigh(M)
    tol = max(w.max(initial=0.0), 0.0) * len(w) * np.finfo(np.float64).eps
    keep = w > tol
    R = np.sqrt(w[keep])[:, None] * V[:, keep].T  # R^T R = M (on its range)
    d = (V[:, keep].T @ c) / np.sqrt(w[keep])  # R^T d = c (c lies in M's range)
    if R.shape[0] == 0:
        u = np.zeros(len(M))
    else:
        u, _ = nnls(R, d, maxiter=max(50, 30 * len(M)))
    v = torch.as_tensor(u + margin, dtype=g.dtype, device=g.device)
    return g + G.T @ v


class GEMPlugin(StrategyPlugin):
    """GEM: project the gradient so that no past experience's memory loss increases.

    After each experience, ``patterns_per_experience`` random samples of it
    are stored as that experience's memory. Before each training step the
    gradient ``g_k`` of the loss on each past memory is computed (rows of
    ``G``), on the memory passed through the strategy's ``train_transform``
    (as Avalanche does: the constraints hold on what the model trains on; the
    memory itself stores raw samples). After the backward pass, if any
    ``g_k . g < 0`` the gradient is replaced by the solution of the paper's
    quadratic program, through its dual, with the authors' margin ``v >= memory_strength``
    (see :func:`gem_project`).

    Solver choice: the dual is a small (K past experiences) non-negative
    least-squares problem on the ``K x K`` Gram matrix, so
    :func:`scipy.optimize.nnls` (already a dependency) solves it exactly,
    needs no ``1e-3`` ridge term (which the authors add for ``quadprog`` and
    which loosens the constraints), and
    avoids depending on ``qpsolvers``/``quadprog``.

    Parameters
    ----------
    patterns_per_experience : int, default=250
        Samples stored from each experience.
    memory_strength : float, default=0.5
        The margin ``gamma >= 0`` on the dual variables: larger values bias the
        update towards decreasing the past losses.

    Attributes
    ----------
    memories_ : list of TrainData
        One memory per past experience.
    n_projections_ : int
        Steps whose gradient was projected.

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits
    >>> from skcl.strategies import Naive
    >>> from skcl.plugins import GEMPlugin
    >>> train, test = permuted_digits(2)
    >>> net = Naive(plugins=[GEMPlugin(patterns_per_experience=50)], random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> [len(m) for m in net.named_plugins_["gem"].memories_]
    [50, 50]
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "patterns_per_experience": [Interval("int", 1, None)],
        "memory_strength": [Interval("real", 0, None)],
    }

    def __init__(self, patterns_per_experience: int = 250, memory_strength: float = 0.5):
        self.patterns_per_experience = patterns_per_experience
        self.memory_strength = memory_strength

    def before_training_exp(self, strategy, experience) -> None:
        if not hasattr(self, "memories_"):
            self.memories_ = []
            self.n_projections_ = 0
        self.memory_grads_ = None

    def before_training_iteration(self, strategy, batch) -> None:
        if not self.memories_:
            return
        params = [p for _, p in trainable_parameters(strategy.module_)]
        module = strategy.module_
        batched = (len(self.memories_) > 1 and module.training
                   and not getattr(module, "is_multi_task", False)
                   and not any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                               for m in module.modules()))
        if batched:
            # every memory in one forward/backward pass: each memory's gradient is the sum
            # of its samples' gradients (layer inputs x output gradients), divided by its size
            mems = self.memories_
            # through train_transform, like the samples the model trains on (no-op without)
            X = strategy.transform_inputs(torch.cat([m.X for m in mems]).to(strategy.device),
                                          training=True)
            y = torch.cat([m.y for m in mems]).to(strategy.device)
            bounds = np.cumsum([0] + [len(m) for m in mems])
            stats = PerSampleGrads(module, params, strategy.criterion_, X, y)
            groups = [torch.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
            sizes = torch.as_tensor(np.diff(bounds), dtype=torch.float32)[:, None]
            self.memory_grads_ = stats.group_sums(groups) / sizes
            return
        self.memory_grads_ = torch.stack(
            [memory_gradient(strategy, m, params) for m in self.memories_])

    def after_backward(self, strategy) -> None:
        if self.memory_grads_ is None:
            return
        params = [p for _, p in trainable_parameters(strategy.module_)]
        g = flat_grad(params)
        G = self.memory_grads_
        if bool((G @ g < 0).any()):
            write_flat_grad(params, gem_project(g, G, float(self.memory_strength)))
            self.n_projections_ += 1
        self.memory_grads_ = None

    def after_training_exp(self, strategy, experience) -> None:
        data = experience_data(strategy)
        # read into a tensor (lazy input stays on disk otherwise): each step reads every
        # memory, and the batched path concatenates them with torch.cat
        self.memories_.append(
            in_memory(random_subset(data, self.patterns_per_experience, self.rng_)))
        self.memory_grads_ = None

