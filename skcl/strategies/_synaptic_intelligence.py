"""Synaptic Intelligence (Zenke, Poole & Ganguli, ICML 2017)."""

from __future__ import annotations

from collections.abc import Sequence

from skcl.plugins._synaptic_intelligence import SynapticIntelligencePlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["SynapticIntelligence"]


class SynapticIntelligence(BaseStrategy):
    """Synaptic Intelligence (Zenke, Poole & Ganguli, ICML 2017).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.SynapticIntelligencePlugin` (named
    ``"si"``) whose parameters are flat here: ``set_params(si_lambda=...)`` reaches the live
    plugin.

    Parameters
    ----------
    module : torch module class or instance, default=None
    si_lambda : float or sequence of float, default=1.0
    eps : float, default=0.1
    excluded_parameters : sequence of str or None, default=None
        See :class:`~skcl.plugins.SynapticIntelligencePlugin`.
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits
    >>> from skcl.strategies import SynapticIntelligence
    >>> train, test = permuted_digits(2)
    >>> net = SynapticIntelligence(si_lambda=1.0, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> "features.1.weight" in net.named_plugins_["si"].importance_
    True
    """

    _builtin_plugins = {"si": SynapticIntelligencePlugin}
    _plugin_aliases = {
        "si_lambda": ("si", "si_lambda"),
        "eps": ("si", "eps"),
        "excluded_parameters": ("si", "excluded_parameters"),
    }

    def __init__(
        self,
        module=None,
        *,
        si_lambda: float | Sequence[float] = 1.0,
        eps: float = 0.1,
        excluded_parameters: Sequence[str] | None = None,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.si_lambda = si_lambda
        self.eps = eps
        self.excluded_parameters = excluded_parameters
