"""Cumulative training: every experience trains on all data seen so far."""

from __future__ import annotations

from skcl.plugins._base import StrategyPlugin
from skcl.strategies._base import BaseStrategy
from skcl.utils._data import TrainData

__all__ = ["Cumulative", "CumulativePlugin"]


class CumulativePlugin(StrategyPlugin):
    """Train each experience on the union of all experiences seen so far.

    The stored data grows with the stream, as the algorithm requires.

    Attributes
    ----------
    data_ : TrainData
        Every training sample seen so far (inputs, encoded labels, task labels).
    """

    def adapt_train_data(self, strategy, data: TrainData) -> TrainData:
        previous = getattr(self, "data_", None)
        self.data_ = data if previous is None else previous.concat(data)
        return self.data_


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
