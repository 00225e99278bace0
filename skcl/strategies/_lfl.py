"""Less-Forgetting Learning (Jung et al., 2016)."""

from __future__ import annotations

from collections.abc import Sequence

from skcl.plugins._lfl import LFLPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["LFL"]


class LFL(BaseStrategy):
    """Less-Forgetting Learning (Jung et al., 2016).

    :class:`BaseStrategy` with a :class:`~skcl.plugins.LFLPlugin`.

    The plugin is named ``"lfl"``; its parameters are this strategy's
    flat parameters (``set_params(lambda_e=...)`` updates the live plugin).
    Every other parameter is :class:`BaseStrategy`'s.

    Parameters
    ----------
    module : torch module class or instance, default=None
    lambda_e : float or sequence of float, default=1.0
        See :class:`~skcl.plugins.LFLPlugin`.
    criterion, optimizer, lr, max_epochs, batch_size, plugins, reset_optimizer, \
random_state, train_split, callbacks, verbose, device, **kwargs
        As in :class:`BaseStrategy`.

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
