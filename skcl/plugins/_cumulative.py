"""`CumulativePlugin`: train each experience on every sample seen so far."""

from __future__ import annotations

from skcl.plugins._base import StrategyPlugin
from skcl.utils._data import TrainData

__all__ = ["CumulativePlugin"]


class CumulativePlugin(StrategyPlugin):
    """Train each experience on the union of all experiences seen so far.

    The stored data grows with the stream, as the algorithm requires.

    Attributes
    ----------
    data_ : TrainData
        Every training sample seen so far (inputs, encoded labels, task labels).

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import CumulativePlugin
    >>> from skcl.strategies import Naive
    >>> train, _ = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[CumulativePlugin()], random_state=0)
    >>> for exp in train[:2]:
    ...     _ = net.partial_fit(exp)
    >>> len(net.named_plugins_["cumulative"].data_) == len(train[0]) + len(train[1])
    True
    """

    def adapt_train_data(self, strategy, data: TrainData) -> TrainData:
        previous = getattr(self, "data_", None)
        self.data_ = data if previous is None else previous.concat(data)
        return self.data_
