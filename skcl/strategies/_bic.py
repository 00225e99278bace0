"""`BiC`: bias correction for class-incremental learning."""

from __future__ import annotations

from typing import Any

from skcl.plugins._bic import BiCPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["BiC"]


class BiC(BaseStrategy):
    """Bias correction, BiC (Wu et al., CVPR 2019).

    :class:`BaseStrategy` plus a :class:`~skcl.plugins.BiCPlugin` (named
    ``"bic"``): training on the experience joined with a class-balanced
    memory under cross-entropy and distillation from the previous model, then
    a two-parameter bias layer on the new classes' logits fit on a held-out,
    class-balanced validation part of the memory, applied at predict time.

    Parameters
    ----------
    module : torch module class or instance, default=None
    mem_size : int, default=2000
        Total memory (training and validation parts).
    val_percentage : float, default=0.1
    temperature : float, default=2.0
    lamb : float or None, default=None
        Distillation weight; ``None`` is ``n_old / n_all`` (the paper's).
    bias_epochs : int, default=200
    bias_lr : float, default=0.01
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import BiC
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = BiC(mem_size=200, lr=0.1, max_epochs=2, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.score(test[0]) > 0.5
    True
    """

    _builtin_plugins = {"bic": BiCPlugin}
    _plugin_aliases = {
        "mem_size": ("bic", "mem_size"),
        "val_percentage": ("bic", "val_percentage"),
        "temperature": ("bic", "temperature"),
        "lamb": ("bic", "lamb"),
        "bias_epochs": ("bic", "bias_epochs"),
        "bias_lr": ("bic", "bias_lr"),
    }

    def __init__(self, module=None, *, mem_size: int = 2000, val_percentage: float = 0.1,
                 temperature: float = 2.0, lamb: float | None = None, bias_epochs: int = 200,
                 bias_lr: float = 0.01, **kwargs):
        super().__init__(module, **kwargs)
        self.mem_size = mem_size
        self.val_percentage = val_percentage
        self.temperature = temperature
        self.lamb = lamb
        self.bias_epochs = bias_epochs
        self.bias_lr = bias_lr

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {**super()._unit_test_params(), "mem_size": 20, "bias_epochs": 20}
