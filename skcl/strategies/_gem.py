"""Gradient Episodic Memory (Lopez-Paz & Ranzato, NeurIPS 2017)."""

from __future__ import annotations

from skcl.plugins._gem import GEMPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["GEM"]


class GEM(BaseStrategy):
    """Gradient Episodic Memory (Lopez-Paz & Ranzato, NeurIPS 2017).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.GEMPlugin` (named ``"gem"``) whose
    parameters are flat here: ``set_params(patterns_per_experience=...)`` reaches the live plugin.

    Parameters
    ----------
    module : torch module class or instance, default=None
    patterns_per_experience : int, default=250
    memory_strength : float, default=0.5
        See :class:`~skcl.plugins.GEMPlugin`.
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits
    >>> from skcl.strategies import GEM
    >>> train, test = permuted_digits(2)
    >>> net = GEM(patterns_per_experience=100, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.named_plugins_["gem"].memories_)
    2
    """

    _builtin_plugins = {"gem": GEMPlugin}
    _plugin_aliases = {
        "patterns_per_experience": ("gem", "patterns_per_experience"),
        "memory_strength": ("gem", "memory_strength"),
    }

    def __init__(
        self,
        module=None,
        *,
        patterns_per_experience: int = 250,
        memory_strength: float = 0.5,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.patterns_per_experience = patterns_per_experience
        self.memory_strength = memory_strength
