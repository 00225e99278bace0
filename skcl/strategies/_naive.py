"""Naive fine-tuning: the lower bound."""

from skcl.strategies._base import BaseStrategy

__all__ = ["Naive"]


class Naive(BaseStrategy):
    """Naive fine-tuning: train on each experience in turn, with no protection.

    The lower bound of continual learning: it forgets. It takes every
    parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(max_epochs=3, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.score(test[-1]) > 0.9  # the last experience is remembered...
    True
    >>> net.score(test[0]) < 0.5   # ...the first is forgotten
    True
    """
