"""Elastic Weight Consolidation (Kirkpatrick et al., PNAS 2017)."""

from __future__ import annotations

from skcl.plugins._ewc import EWCPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["EWC"]


class EWC(BaseStrategy):
    """Elastic Weight Consolidation (Kirkpatrick et al., PNAS 2017).

    :class:`BaseStrategy` plus an :class:`~skcl.plugins.EWCPlugin` (named ``"ewc"``) whose
    parameters are flat here: ``set_params(ewc_lambda=...)`` reaches the live plugin.

    Parameters
    ----------
    module : torch module class or instance, default=None
    ewc_lambda : float, default=1.0
    mode : {"separate", "online"}, default="separate"
    decay_factor : float or None, default=None
    keep_importance_data : bool, default=False
    fisher : {"per_sample", "minibatch"}, default="per_sample"
        See :class:`~skcl.plugins.EWCPlugin`. At equal ``ewc_lambda`` the
        paper's per-sample Fisher with its ``1/2`` is ~10-20x Avalanche's
        minibatch estimate (batch 32); ``fisher="minibatch"`` with twice
        Avalanche's ``ewc_lambda`` reproduces Avalanche.
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import permuted_digits
    >>> from skcl.strategies import EWC
    >>> train, test = permuted_digits(3)
    >>> net = EWC(ewc_lambda=100.0, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> sorted(net.named_plugins_["ewc"].importances_)
    [0, 1, 2]
    """

    _builtin_plugins = {"ewc": EWCPlugin}
    _plugin_aliases = {
        "ewc_lambda": ("ewc", "ewc_lambda"),
        "mode": ("ewc", "mode"),
        "decay_factor": ("ewc", "decay_factor"),
        "keep_importance_data": ("ewc", "keep_importance_data"),
        "fisher": ("ewc", "fisher"),
    }

    def __init__(
        self,
        module=None,
        *,
        ewc_lambda: float = 1.0,
        mode: str = 'separate',
        decay_factor: float | None = None,
        keep_importance_data: bool = False,
        fisher: str = "per_sample",
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.ewc_lambda = ewc_lambda
        self.mode = mode
        self.decay_factor = decay_factor
        self.keep_importance_data = keep_importance_data
        self.fisher = fisher
