"""`GDumb`: greedy class-balanced memory, retrained from scratch at every experience."""

from __future__ import annotations

from skcl.plugins._gdumb import GDumbPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["GDumb"]


class GDumb(BaseStrategy):
    """GDumb (Prabhu, Torr & Dokania, ECCV 2020).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.GDumbPlugin` (named
    ``"gdumb"``): a greedy class-balanced memory of ``mem_size`` samples (the
    paper's sampler) and, at every experience, the model reset to its initial
    weights and trained on the memory only.

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=200
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import GDumb
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = GDumb(mem_size=200, max_epochs=5, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.named_plugins_["gdumb"].memory_)
    200
    """

    _builtin_plugins = {"gdumb": GDumbPlugin}
    _plugin_aliases = {"mem_size": ("gdumb", "mem_size")}

    def __init__(
        self,
        module=None,
        *,
        mem_size: int = 200,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.mem_size = mem_size
