"""`DER` and `DERPlusPlus`: dark experience replay."""

from __future__ import annotations

from skcl.plugins._der import DERPlugin, DERPlusPlusPlugin
from skcl.strategies._online_rehearsal import OnlineRehearsalStrategy, rehearsal_aliases

__all__ = ["DER", "DERPlusPlus"]


class DER(OnlineRehearsalStrategy):
    """Dark experience replay, DER (Buzzega et al., NeurIPS 2020).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.DERPlugin` (named
    ``"der"``) with ``beta=0``: a reservoir memory of inputs and their logits
    at insertion time, updated after every step, and ``alpha`` times the mean
    squared error between the current and the stored logits of a replayed
    minibatch. Task-free: works offline and online.

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=200
    batch_size_mem : int or None, default=None
        Replayed samples per step (default: the current batch size).
    alpha : float, default=0.5
    replay_transform : callable or None, default=None
        Augmentation of the replayed inputs.
    mem_update_every : int, default=8
        Optimizer steps between memory updates (1: after every step).
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import DER
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = DER(mem_size=200, alpha=1.0, lr=0.1, max_epochs=3, random_state=0)
    >>> for i, exp in enumerate(train):  # a head over all classes from the start
    ...     _ = net.partial_fit(exp, classes=range(10) if i == 0 else None)
    >>> net.score(test[0]) > 0.5
    True
    """

    _builtin_plugins = {"der": DERPlugin}
    _plugin_aliases = rehearsal_aliases("der", "alpha")
    _excluded_plugin_params = {
        ("der", "beta"): "DER is the plugin with beta=0; DERPlusPlus exposes beta"}

    def __init__(self, module=None, *, mem_size: int = 200, batch_size_mem: int | None = None,
                 alpha: float = 0.5, replay_transform=None, mem_update_every: int = 8, **kwargs):
        super().__init__(module, mem_size=mem_size, batch_size_mem=batch_size_mem,
                         mem_update_every=mem_update_every, **kwargs)
        self.alpha = alpha
        self.replay_transform = replay_transform


class DERPlusPlus(OnlineRehearsalStrategy):
    """Dark experience replay with replayed labels, DER++ (Buzzega et al., NeurIPS 2020).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.DERPlusPlusPlugin` (named
    ``"der"``): ``alpha`` times the logit-matching MSE on one replayed
    minibatch plus ``beta`` times the cross-entropy on a second, independent
    draw.

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=200
    batch_size_mem : int or None, default=None
    alpha : float, default=0.5
    beta : float, default=0.5
    replay_transform : callable or None, default=None
    mem_update_every : int, default=8
        Optimizer steps between memory updates (1: after every step).
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import DERPlusPlus
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = DERPlusPlus(mem_size=200, alpha=0.3, beta=0.5, lr=0.1, max_epochs=3,
    ...                   random_state=0)
    >>> for i, exp in enumerate(train):  # a head over all classes from the start
    ...     _ = net.partial_fit(exp, classes=range(10) if i == 0 else None)
    >>> net.score(test[0]) > 0.5
    True
    """

    _builtin_plugins = {"der": DERPlusPlusPlugin}
    _plugin_aliases = rehearsal_aliases("der", "alpha", "beta")

    def __init__(self, module=None, *, mem_size: int = 200, batch_size_mem: int | None = None,
                 alpha: float = 0.5, beta: float = 0.5, replay_transform=None,
                 mem_update_every: int = 8, **kwargs):
        super().__init__(module, mem_size=mem_size, batch_size_mem=batch_size_mem,
                         mem_update_every=mem_update_every, **kwargs)
        self.alpha = alpha
        self.beta = beta
        self.replay_transform = replay_transform
