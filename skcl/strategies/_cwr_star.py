"""CWR*: CopyWeights with Re-init, consolidated output weights (Lomonaco et al., CVPR-W 2020)."""

from __future__ import annotations

from skcl.plugins._cwr_star import CWRStarPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["CWRStar"]


class CWRStar(BaseStrategy):
    """CWR* strategy: :class:`BaseStrategy` with a :class:`~skcl.plugins.CWRStarPlugin`.

    Each experience trains output weights for its classes from zero (old
    classes start from their consolidated weights); afterwards the trained
    weights are merged into consolidated weights by the paper's weighted
    running average, and predictions use the consolidated weights. From the
    second experience on, the rest of the model is frozen (unless
    ``freeze_remaining_model=False``). The output layer's bias, if any, is
    consolidated like the weights (see :class:`~skcl.plugins.CWRStarPlugin`).

    Parameters
    ----------
    module : default=None
        ``None`` builds :class:`~skcl.models.MLP`.
    cwr_layer_name : str, default=None
        The output ``Linear`` layer; ``None`` picks the module's last Linear.
    freeze_remaining_model : bool, default=True
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import CWRStar
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = CWRStar(lr=0.1, max_epochs=3, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> cwr = net.named_plugins_["cwr"]
    >>> int(cwr.past_counts_.sum()) == sum(len(e) for e in train)  # every sample consolidated
    True
    """

    _builtin_plugins = {"cwr": CWRStarPlugin}
    _plugin_aliases = {
        "cwr_layer_name": ("cwr", "cwr_layer_name"),
        "freeze_remaining_model": ("cwr", "freeze_remaining_model"),
    }

    def __init__(
        self,
        module=None,
        *,
        cwr_layer_name: str | None = None,
        freeze_remaining_model: bool = True,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.cwr_layer_name = cwr_layer_name
        self.freeze_remaining_model = freeze_remaining_model
