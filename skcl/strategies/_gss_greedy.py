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
    skcl uses 5 for both. ``scored_batch="training"`` (default) scores the
    batch the model trains on, as Avalanche does (without leaking the
    scoring gradients into the update); ``"incoming"`` scores only the
    incoming samples after the step, as the authors' code does (for online
    streams).

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=200
    mem_strength : int, default=5
    scored_batch : {"training", "incoming"}, default="training"
        See :class:`~skcl.plugins.GSS_greedyPlugin`.
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
                       "mem_strength": ("gss_greedy", "mem_strength"),
                       "scored_batch": ("gss_greedy", "scored_batch")}

    def __init__(
        self,
        module=None,
        *,
        mem_size: int = 200,
        mem_strength: int = 5,
        scored_batch: str = "training",
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.mem_size = mem_size
        self.mem_strength = mem_strength
        self.scored_batch = scored_batch

    @classmethod
    def _unit_test_params(cls):
        return {**super()._unit_test_params(), "mem_size": 20, "max_epochs": 10}
