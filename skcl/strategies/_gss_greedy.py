"""`GSS_greedy`: replay from a memory chosen by gradient-based sample selection."""

from __future__ import annotations

from skcl.plugins._gss_greedy import GSS_greedyPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["GSS_greedy"]


class GSS_greedy(BaseStrategy):  # noqa: N801 (the reference's name)
    """GSS-greedy (Aljundi et al., NeurIPS 2019).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.GSS_greedyPlugin`
    (named ``"gss_greedy"``). The input shape is taken from the data.
    Avalanche's wrapper defaults to ``mem_strength=1`` and its plugin to 5;
    skcl uses 5 for both.

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=200
    mem_strength : int, default=5
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import GSS_greedy
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = GSS_greedy(mem_size=50, random_state=0).partial_fit(train[0])
    >>> net.named_plugins_["gss_greedy"].n_filled_
    50
    """

    _builtin_plugins = {"gss_greedy": GSS_greedyPlugin}
    _plugin_aliases = {"mem_size": ("gss_greedy", "mem_size"),
                       "mem_strength": ("gss_greedy", "mem_strength")}

    def __init__(
        self,
        module=None,
        *,
        mem_size: int = 200,
        mem_strength: int = 5,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.mem_size = mem_size
        self.mem_strength = mem_strength

    @classmethod
    def _unit_test_params(cls):
        return {**super()._unit_test_params(), "mem_size": 20, "max_epochs": 10}
