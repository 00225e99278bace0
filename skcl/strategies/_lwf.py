"""Learning without Forgetting (Li & Hoiem, ECCV 2016)."""

from __future__ import annotations

from collections.abc import Sequence

from skcl.plugins._lwf import LwFPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["LwF"]


class LwF(BaseStrategy):
    """Learning without Forgetting (Li & Hoiem, ECCV 2016).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.LwFPlugin` (named ``"lwf"``) whose
    parameters are flat here: ``set_params(alpha=...)`` reaches the live plugin.

    Parameters
    ----------
    module : torch module class or instance, default=None
    alpha : float or sequence of float, default=1.0
    temperature : float, default=2.0
        See :class:`~skcl.plugins.LwFPlugin`.
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import LwF
    >>> train, test = split_digits(5, task_labels=True)
    >>> net = LwF(alpha=1.0, module__multi_head=True, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> sorted(net.named_plugins_["lwf"].old_units_by_task_)
    [0, 1, 2, 3, 4]
    """

    _builtin_plugins = {"lwf": LwFPlugin}
    _plugin_aliases = {
        "alpha": ("lwf", "alpha"),
        "temperature": ("lwf", "temperature"),
    }

    def __init__(
        self,
        module=None,
        *,
        alpha: float | Sequence[float] = 1.0,
        temperature: float = 2.0,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.alpha = alpha
        self.temperature = temperature
