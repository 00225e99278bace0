"""`ICaRLPlugin`: iCaRL's herding exemplar memory and nearest-mean-of-exemplars classifier."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from skcl.plugins._base import StrategyPlugin
from skcl.selection import herding_order
from skcl.utils import Interval, TrainData, eval_mode

__all__ = ["ICaRLPlugin"]


def _features(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if hasattr(module, "get_features"):
        return module.get_features(x)
    if hasattr(module, "feature_extractor"):
        return module.feature_extractor(x)
    raise ValueError("iCaRL needs a model with get_features(x) or a feature_extractor "
                     "submodule (e.g. skcl.models.MLP, or ICaRL(feature_extractor=..., "
                     "classifier=...)).")


class ICaRLPlugin(StrategyPlugin):
    """iCaRL's exemplar memory and nearest-mean-of-exemplars classifier.

    - Training data of an experience = its samples ∪ the stored exemplars.
    - When an experience ends, the exemplars of each new class are chosen by
      herding (:func:`~skcl.selection.herding_order`, iCaRL's Algorithm 4
      exactly, on L2-normalized features: always ``m`` distinct exemplars,
      unlike Avalanche's 1000-step loop), old classes keep their first ``m``,
      and the class means are recomputed with the current model from the
      exemplars' normalized features (then L2-normalized). Avalanche also
      averages in horizontally flipped images; skcl models are not assumed
      to take images, so no flip is used.
    - At predict time the logits become ``-‖φ(x) − μ_c‖²`` (nearest mean of
      exemplars).

    Parameters
    ----------
    memory_size : int, default=200
        Total memory (``fixed_memory=True``; ``m = memory_size // n_classes``,
        the paper's K/t, where Avalanche rounds up and can exceed it) or
        exemplars per class (``fixed_memory=False``, a growing memory).
    fixed_memory : bool, default=True

    Attributes
    ----------
    memory_ : TrainData
        The exemplars, grouped by output unit, each group in herding order.
    class_means_ : Tensor of shape (n_units, n_features)

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import ICaRLPlugin
    >>> from skcl.strategies import Naive
    >>> train, _ = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[ICaRLPlugin(memory_size=40)], random_state=0)
    >>> for exp in train[:2]:
    ...     _ = net.partial_fit(exp)
    >>> plugin = net.named_plugins_["icarl"]
    >>> len(plugin.memory_), tuple(plugin.class_means_.shape)
    (40, (4, 100))
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "memory_size": [Interval("int", 1, None)],
        "fixed_memory": ["boolean"],
    }

    def __init__(self, memory_size: int = 200, fixed_memory: bool = True):
        self.memory_size = memory_size
        self.fixed_memory = fixed_memory

    def before_training_exp(self, strategy, experience) -> None:
        module = strategy.module_
        if not (hasattr(module, "get_features") or hasattr(module, "feature_extractor")):
            _features(module, None)  # raises the explanatory error

    def adapt_train_data(self, strategy, data: TrainData) -> TrainData:
        self.current_data_ = data
        memory = getattr(self, "memory_", None)
        return data if memory is None or len(memory) == 0 else data.concat(memory)

    def _normalized_features(self, strategy, X: torch.Tensor) -> torch.Tensor:
        out = []
        with eval_mode(strategy.module_) as module:
            for start in range(0, len(X), 512):
                x = strategy.transform_inputs(X[start:start + 512], training=False)
                f = _features(module, x.to(strategy.device))
                out.append(F.normalize(f.reshape(len(f), -1).float(), dim=1).cpu())
        return torch.cat(out)

    def after_training_exp(self, strategy, experience) -> None:
        data = self.current_data_
        self.current_data_ = None
        memory = getattr(self, "memory_", None)
        old_units = (np.zeros(0, dtype=np.int64) if memory is None
                     else np.unique(memory.y.numpy()))
        y = data.y.numpy()
        new_units = np.setdiff1d(np.unique(y), old_units)
        n_classes = len(old_units) + len(new_units)
        m = self.memory_size // n_classes if self.fixed_memory else self.memory_size
        parts = []
        if memory is not None:  # reduce: keep the first m of each old class
            my = memory.y.numpy()
            for u in old_units:
                parts.append(memory.subset(np.flatnonzero(my == u)[:m]))
        for u in new_units:
            idx = np.flatnonzero(y == u)
            feats = self._normalized_features(strategy, data.X[torch.as_tensor(idx)])
            parts.append(data.subset(idx[herding_order(feats, n=m)]))
        self.memory_ = parts[0].concat(*parts[1:]) if len(parts) > 1 else parts[0]
        self._update_means(strategy)

    def _update_means(self, strategy) -> None:
        memory = self.memory_
        feats = self._normalized_features(strategy, memory.X)
        y = memory.y
        n_units = len(strategy.class_order_)
        means = torch.zeros(n_units, feats.shape[1])
        self.has_mean_ = torch.zeros(n_units, dtype=torch.bool)
        for u in torch.unique(y).tolist():
            means[u] = F.normalize(feats[y == u].mean(dim=0), dim=0)
            self.has_mean_[u] = True
        self.class_means_ = means

    def adapt_eval_output(self, strategy, inputs, output):
        means = getattr(self, "class_means_", None)
        if means is None:
            return output
        with torch.no_grad():
            f = _features(strategy.module_, inputs["x"].to(strategy.device))
            f = F.normalize(f.reshape(len(f), -1).float(), dim=1)
            mu = means.to(f.device)
            dist = torch.cdist(f, mu) ** 2
        scores = -dist
        scores[:, ~self.has_mean_.to(f.device)] = -1e4
        n = output.shape[1]
        if scores.shape[1] < n:
            scores = F.pad(scores, (0, n - scores.shape[1]), value=-1e4)
        return scores[:, :n].to(output.dtype)
