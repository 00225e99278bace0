"""`ERACE`: experience replay with the asymmetric cross-entropy."""

from __future__ import annotations

from skcl.plugins._er_ace import ERACEPlugin
from skcl.strategies._online_rehearsal import OnlineRehearsalStrategy, rehearsal_aliases

__all__ = ["ERACE"]


class ERACE(OnlineRehearsalStrategy):
    """ER-ACE (Caccia et al., ICLR 2022): replay with an asymmetric cross-entropy.

    :class:`BaseStrategy` plus an :class:`~skcl.plugins.ERACEPlugin` (named
    ``"er_ace"``): the incoming minibatch's loss is masked to the classes
    present in it (and the unseen ones), a replayed minibatch from a
    reservoir memory (updated after every step) is trained over all classes.

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=200
    batch_size_mem : int or None, default=None
        Replayed samples per step (default: the current batch size).
    replay_transform : callable or None, default=None
        Augmentation of the replayed inputs.
    mem_update_every : int, default=8
        Optimizer steps between memory updates (1: after every step).
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import ERACE
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = ERACE(mem_size=200, lr=0.1, max_epochs=2, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.score(test[0]) > 0.5
    True
    """

    _builtin_plugins = {"er_ace": ERACEPlugin}
    _plugin_aliases = rehearsal_aliases("er_ace")

    def __init__(self, module=None, *, mem_size: int = 200, batch_size_mem: int | None = None,
                 replay_transform=None, mem_update_every: int = 8, **kwargs):
        super().__init__(module, mem_size=mem_size, batch_size_mem=batch_size_mem,
                         mem_update_every=mem_update_every, **kwargs)
        self.replay_transform = replay_transform
