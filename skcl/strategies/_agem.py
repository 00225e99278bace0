"""Averaged GEM (Chaudhry et al., ICLR 2019)."""

from __future__ import annotations

from skcl.plugins._agem import AGEMPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["AGEM"]


class AGEM(BaseStrategy):
    """Averaged GEM (Chaudhry et al., ICLR 2019).

    :class:`BaseStrategy` plus an :class:`~skcl.plugins.AGEMPlugin` (named ``"agem"``) whose
    parameters are flat here: ``set_params(patterns_per_experience=...)`` reaches the live plugin.

    Parameters
    ----------
    module : torch module class or instance, default=None
    patterns_per_experience : int, default=250
    sample_size : int, default=64
        See :class:`~skcl.plugins.AGEMPlugin`.
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits
    >>> from skcl.strategies import AGEM
    >>> train, test = permuted_digits(2)
    >>> net = AGEM(patterns_per_experience=100, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.named_plugins_["agem"].memory_)
    200
    """

    _builtin_plugins = {"agem": AGEMPlugin}
    _plugin_aliases = {
        "patterns_per_experience": ("agem", "patterns_per_experience"),
        "sample_size": ("agem", "sample_size"),
    }

    def __init__(
        self,
        module=None,
        *,
        patterns_per_experience: int = 250,
        sample_size: int = 64,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.patterns_per_experience = patterns_per_experience
        self.sample_size = sample_size
