"""`MIR`: maximally interfered retrieval."""

from __future__ import annotations

from typing import Any

from skcl.plugins._mir import MIRPlugin
from skcl.strategies._online_rehearsal import OnlineRehearsalStrategy, rehearsal_aliases

__all__ = ["MIR"]


class MIR(OnlineRehearsalStrategy):
    """Maximally interfered retrieval (Aljundi et al., NeurIPS 2019).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.MIRPlugin` (named
    ``"mir"``): each step replays the ``batch_size_mem`` memory candidates
    (out of ``subsample``) whose loss a virtual SGD step on the incoming
    minibatch would increase most. The virtual step leaves the parameters
    and the optimizer untouched.

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=200
    batch_size_mem : int or None, default=None
        Replayed samples per step (default: the current batch size).
    subsample : int, default=50
        Candidates scored per step.
    replay_transform : callable or None, default=None
        Augmentation of the replayed inputs.
    mem_update_every : int, default=8
        Optimizer steps between memory updates (1: after every step).
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import MIR
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = MIR(mem_size=200, subsample=50, lr=0.1, max_epochs=3, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.score(test[0]) > 0.5
    True
    """

    _builtin_plugins = {"mir": MIRPlugin}
    _plugin_aliases = rehearsal_aliases("mir", "subsample")

    def __init__(self, module=None, *, mem_size: int = 200, batch_size_mem: int | None = None,
                 subsample: int = 50, replay_transform=None, mem_update_every: int = 8, **kwargs):
        super().__init__(module, mem_size=mem_size, batch_size_mem=batch_size_mem,
                         mem_update_every=mem_update_every, **kwargs)
        self.subsample = subsample
        self.replay_transform = replay_transform

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {**super()._unit_test_params(), "subsample": 10}
