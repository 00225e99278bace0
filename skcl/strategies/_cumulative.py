"""Cumulative training: every experience trains on all data seen so far."""

from __future__ import annotations

from skcl.plugins._cumulative import CumulativePlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["Cumulative"]


class Cumulative(BaseStrategy):
    """Cumulative strategy: at each experience, train on all data seen so far.

    The model is never reset. An upper bound that grows in cost with the
    stream. Takes every parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Cumulative
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Cumulative(max_epochs=3, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.named_plugins_["cumulative"].data_) == sum(len(e) for e in train)
    True
    """

    _builtin_plugins = {"cumulative": CumulativePlugin}
