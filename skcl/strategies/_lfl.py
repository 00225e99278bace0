"""Less-Forgetting Learning (Jung et al., 2016)."""

from __future__ import annotations

from collections.abc import Sequence

from skcl.plugins._lfl import LFLPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["LFL"]


class LFL(BaseStrategy):
    """Less-Forgetting Learning (Jung et al., 2016).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.LFLPlugin` (named ``"lfl"``) whose
    parameters are flat here: ``set_params(lambda_e=...)`` reaches the live plugin.

    Parameters
    ----------
    module : torch module class or instance, default=None
    lambda_e : float or sequence of float, default=1.0
        See :class:`~skcl.plugins.LFLPlugin`.
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits
    >>> from skcl.strategies import LFL
    >>> train, test = permuted_digits(2)
    >>> net = LFL(lambda_e=1.0, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.module_.training, net.named_plugins_["lfl"].teacher_.training
    (True, False)
    """

    _builtin_plugins = {"lfl": LFLPlugin}
    _plugin_aliases = {
        "lambda_e": ("lfl", "lambda_e"),
    }

    def __init__(
        self,
        module=None,
        *,
        lambda_e: float | Sequence[float] = 1.0,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.lambda_e = lambda_e
