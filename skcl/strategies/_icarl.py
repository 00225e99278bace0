"""`ICaRL`: herding exemplars, distillation loss and nearest-mean-of-exemplars prediction."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from skcl.models import IncrementalClassifier
from skcl.plugins._base import StrategyPlugin
from skcl.plugins._icarl_loss import ICaRLLossPlugin
from skcl.selection import herding_order
from skcl.strategies._base import BaseStrategy
from skcl.utils import TrainData, check_int, eval_mode

__all__ = ["ICaRL", "ICaRLPlugin"]


def _features(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if hasattr(module, "get_features"):
        return module.get_features(x)
    if hasattr(module, "feature_extractor"):
        return module.feature_extractor(x)
    raise ValueError("iCaRL needs a model with get_features(x) or a feature_extractor "
                     "submodule (e.g. skcl.models.MLP, or ICaRL(feature_extractor=..., "
                     "classifier=...)).")


class _FeatureExtractorClassifier(nn.Module):
    """``classifier(feature_extractor(x))`` with ``get_features``."""

    def __init__(self, feature_extractor: nn.Module, classifier: nn.Module):
        super().__init__()
        self.feature_extractor = feature_extractor
        self.classifier = classifier

    def get_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_extractor(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.feature_extractor(x))


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
    """

    def __init__(self, memory_size: int = 200, fixed_memory: bool = True):
        self.memory_size = memory_size
        self.fixed_memory = fixed_memory

    def before_training_exp(self, strategy, experience) -> None:
        check_int(self.memory_size, "memory_size")
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
                f = _features(module, X[start:start + 512].to(strategy.device))
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


class ICaRL(BaseStrategy):
    """iCaRL (Rebuffi, Kolesnikov, Sperl & Lampert, CVPR 2017).

    A feature extractor and a classifier trained with iCaRL's loss
    (:class:`~skcl.plugins.ICaRLLossPlugin`: sigmoid BCE with distillation
    from the previous model on the old classes) on the experience's data plus
    the stored exemplars; exemplars chosen by herding, a fixed or growing
    memory, and predictions by nearest mean of exemplars
    (:class:`ICaRLPlugin`). Classes are assumed not to recur across
    experiences.

    Parameters
    ----------
    module : torch module class or instance, default=None
        A model with ``get_features(x)`` (the default :class:`~skcl.models.MLP`
        has it). Ignored when ``feature_extractor`` is given.
    feature_extractor : torch.nn.Module or None, default=None
        With ``classifier``, the model is ``classifier(feature_extractor(x))``
        (copies of both are trained).
    classifier : torch.nn.Module or None, default=None
        ``None`` with a ``feature_extractor``: a growing linear head
        (:class:`~skcl.models.IncrementalClassifier`) sized from the data
        (flat inputs).
    memory_size : int, default=200
    fixed_memory : bool, default=True
        Total memory ``memory_size`` (True) or ``memory_size`` per class.
    **kwargs
        Every other parameter of :class:`BaseStrategy` (the criterion is
        replaced by iCaRL's loss).

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import ICaRL
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = ICaRL(memory_size=100, max_epochs=3, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.named_plugins_["icarl"].memory_)
    100
    >>> net.score(test[0]) > 0.5
    True
    """

    _builtin_plugins = {"icarl": ICaRLPlugin, "icarl_loss": ICaRLLossPlugin}
    _plugin_aliases = {"memory_size": ("icarl", "memory_size"),
                       "fixed_memory": ("icarl", "fixed_memory")}

    def __init__(
        self,
        module=None,
        *,
        feature_extractor=None,
        classifier=None,
        memory_size: int = 200,
        fixed_memory: bool = True,
        **kwargs,
    ):
        # set before skorch's __init__: afterwards skorch refuses torch modules as attributes
        self.feature_extractor = feature_extractor
        self.classifier = classifier
        super().__init__(module, **kwargs)
        self.memory_size = memory_size
        self.fixed_memory = fixed_memory

    def initialize_module(self):
        if self.feature_extractor is None:
            return super().initialize_module()
        fe = copy.deepcopy(self.feature_extractor)
        clf = copy.deepcopy(self.classifier)
        if clf is None:
            if not hasattr(self, "n_features_in_"):
                raise ValueError("ICaRL needs data to size the default classifier.")
            with torch.no_grad():
                size = fe(torch.zeros(1, int(self.n_features_in_))).reshape(1, -1).shape[1]
            clf = IncrementalClassifier(size)
        self.module_ = _FeatureExtractorClassifier(fe, clf).to(self.device)
        return self
