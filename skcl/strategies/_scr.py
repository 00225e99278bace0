"""`SCR`: supervised contrastive replay with a nearest-class-mean classifier."""

from __future__ import annotations

from typing import Any

from skcl.plugins._scr import SCRPlugin
from skcl.strategies._online_rehearsal import OnlineRehearsalStrategy, rehearsal_aliases

__all__ = ["SCR"]


class SCR(OnlineRehearsalStrategy):
    """Supervised contrastive replay (Mai et al., CVPR-W 2021).

    :class:`BaseStrategy` plus an :class:`~skcl.plugins.SCRPlugin` (named
    ``"scr"``): a projection head trained with the supervised contrastive
    loss on the current and replayed minibatches in two views (one
    augmented), and a nearest-class-mean classifier on the module's features
    (``module_.get_features``) at predict time.

    Parameters
    ----------
    module : torch module class or instance, default=None
        Must have ``get_features(x)`` (skcl's models do).
    mem_size : int, default=200
    batch_size_mem : int or None, default=100
    temperature : float, default=0.1
    projection_size : int, default=128
    view_transform : callable or None, default=None
        The augmented view; ``None`` uses :class:`~skcl.plugins.FeatureNoise`
        (flat inputs). For images pass e.g. ``Compose([RandomCrop(28,
        padding=4), RandomHorizontalFlip()])`` from :mod:`skcl.transforms`.
    mem_update_every : int, default=8
        Optimizer steps between memory updates (1: after every step).
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import SCR
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = SCR(mem_size=200, projection_size=32, lr=0.1, max_epochs=2, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.score(test[0]) > 0.5
    True
    """

    _builtin_plugins = {"scr": SCRPlugin}
    _plugin_aliases = rehearsal_aliases("scr", "temperature", "projection_size",
                                        transform="view_transform")

    def __init__(self, module=None, *, mem_size: int = 200, batch_size_mem: int | None = 100,
                 temperature: float = 0.1, projection_size: int = 128, view_transform=None,
                 mem_update_every: int = 8, **kwargs):
        super().__init__(module, mem_size=mem_size, batch_size_mem=batch_size_mem,
                         mem_update_every=mem_update_every, **kwargs)
        self.temperature = temperature
        self.projection_size = projection_size
        self.view_transform = view_transform

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {**super()._unit_test_params(), "batch_size_mem": 10,
                "projection_size": 8}
