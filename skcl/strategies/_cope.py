"""Continual Prototype Evolution (De Lange & Tuytelaars, ICCV 2021)."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from skcl.models import MLP, DynamicModule
from skcl.plugins._cope import CoPEPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["CoPE"]


class _EmbeddingHead(DynamicModule):
    """A linear layer of fixed width ``p_size``: CoPE's embedding, never grown with classes."""

    def __init__(self, in_features: int, p_size: int):
        super().__init__()
        self.linear = nn.Linear(in_features, p_size)

    def adaptation(self, n_outputs: int, units_by_task: dict[int, np.ndarray]) -> bool:
        return False  # the embedding keeps p_size units whatever the number of classes

    def forward(self, x):
        return self.linear(x)


class CoPE(BaseStrategy):
    """Continual Prototype Evolution (De Lange & Tuytelaars, ICCV 2021).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.CoPEPlugin` (named ``"cope"``) whose
    parameters are flat here: ``set_params(mem_size=...)`` reaches the live plugin.

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=200
    n_classes : int, default=10
    p_size : int, default=100
    alpha : float, default=0.99
    T : float, default=0.1
    max_it_cnt : int, default=1
        See :class:`~skcl.plugins.CoPEPlugin`. With ``module=None`` the
        default :class:`~skcl.models.MLP` ends in an embedding layer of
        ``p_size`` units that never grows with the classes (so ``p_size`` may
        be smaller than the number of classes), unless ``module__n_classes``
        is given (then the MLP's usual growing head).
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import online_stream, split_digits
    >>> from skcl.strategies import CoPE
    >>> train, test = split_digits(5)
    >>> net = CoPE(p_size=32, random_state=0)
    >>> for exp in online_stream(train, 10, random_state=0)[:20]:
    ...     _ = net.partial_fit(exp)
    >>> net.predict(test[0].X[:3]).shape
    (3,)
    """

    _builtin_plugins = {"cope": CoPEPlugin}
    _plugin_aliases = {
        "mem_size": ("cope", "mem_size"),
        "n_classes": ("cope", "n_classes"),
        "p_size": ("cope", "p_size"),
        "alpha": ("cope", "alpha"),
        "T": ("cope", "T"),
        "max_it_cnt": ("cope", "max_it_cnt"),
    }

    def __init__(
        self,
        module=None,
        *,
        mem_size: int = 200,
        n_classes: int = 10,
        p_size: int = 100,
        alpha: float = 0.99,
        T: float = 0.1,
        max_it_cnt: int = 1,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.mem_size = mem_size
        self.n_classes = n_classes
        self.p_size = p_size
        self.alpha = alpha
        self.T = T
        self.max_it_cnt = max_it_cnt

    def initialize_module(self):
        """Build the default MLP with ``p_size`` outputs (the embedding), then as the base."""
        if self.module is None and "n_classes" not in self.get_params_for("module"):
            kwargs = dict(self.get_params_for("module"), n_classes=self.p_size)
            if "in_features" not in kwargs:
                if not hasattr(self, "n_features_in_"):
                    raise ValueError(
                        "The module needs in_features: call partial_fit/fit with data first, "
                        "or set module__in_features.")
                # every trailing dimension (images of shape (c, h, w) too): the MLP flattens
                kwargs["in_features"] = self._module_in_features()
            module = self.initialized_instance(MLP, kwargs)
            if not module.multi_head:
                module.classifier = _EmbeddingHead(module.feature_size, self.p_size)
            self.module_ = module
            return self
        return super().initialize_module()

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        # One experience per fit in the checks: let max_epochs, not max_it_cnt, end training.
        return {**super()._unit_test_params(), "p_size": 16, "max_it_cnt": 10**6}
