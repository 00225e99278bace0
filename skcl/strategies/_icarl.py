"""`ICaRL`: herding exemplars, distillation loss and nearest-mean-of-exemplars prediction."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import torch
from torch import nn

from skcl.models import IncrementalClassifier
from skcl.plugins._icarl import ICaRLPlugin
from skcl.plugins._icarl_loss import ICaRLLossPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["ICaRL"]


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


class ICaRL(BaseStrategy):
    """iCaRL (Rebuffi, Kolesnikov, Sperl & Lampert, CVPR 2017).

    A feature extractor and a classifier trained with iCaRL's loss
    (:class:`~skcl.plugins.ICaRLLossPlugin`: sigmoid BCE with distillation
    from the previous model on the old classes) on the experience's data plus
    the stored exemplars; exemplars chosen by herding, a fixed or growing
    memory, and predictions by nearest mean of exemplars
    (:class:`~skcl.plugins.ICaRLPlugin`). Classes are assumed not to recur
    across experiences.

    Scale versus Avalanche: the BCE is summed over the output units, as in
    the paper, where Avalanche averages it over the units, so at equal
    ``lr`` a step is ``n_units`` times Avalanche's (divide ``lr`` by the
    number of classes to reproduce an Avalanche run).

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

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "feature_extractor": [None, nn.Module],
        "classifier": [None, nn.Module],
    }

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
