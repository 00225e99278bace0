"""`Replay`: experience replay with a bounded buffer."""

from __future__ import annotations

from skcl.plugins._replay import ReplayPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["Replay"]


class Replay(BaseStrategy):
    """Experience replay: every minibatch is extended with exemplars from a buffer.

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.ReplayPlugin` (named
    ``"replay"``); see it for the details. The cost of an experience does not
    grow with the number of past experiences.

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=200
    batch_size_mem : int or None, default=None
        Replayed samples per minibatch (default: the current batch size).
    task_balanced_dataloader : bool, default=False
    storage_policy : ExemplarsBuffer or None, default=None
        Default ``ExperienceBalancedBuffer(mem_size)``.
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Replay
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Replay(mem_size=200, max_epochs=3, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.score(test[0]) > 0.3  # still remembered (Naive scores 0 on it)
    True
    """

    _builtin_plugins = {"replay": ReplayPlugin}
    _plugin_aliases = {
        "mem_size": ("replay", "mem_size"),
        "batch_size_mem": ("replay", "batch_size_mem"),
        "task_balanced_dataloader": ("replay", "task_balanced_dataloader"),
        "storage_policy": ("replay", "storage_policy"),
    }
    _excluded_plugin_params = {
        ("replay", "batch_size"): "the strategy's own batch_size already sets the current "
                                  "minibatch size; the plugin's overrides it on other strategies"}

    def __init__(
        self,
        module=None,
        *,
        mem_size: int = 200,
        batch_size_mem: int | None = None,
        task_balanced_dataloader: bool = False,
        storage_policy=None,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.mem_size = mem_size
        self.batch_size_mem = batch_size_mem
        self.task_balanced_dataloader = task_balanced_dataloader
        self.storage_policy = storage_policy
