"""Joint training: one pass over the whole stream at once (the upper bound)."""

from __future__ import annotations

import numpy as np

from skcl.benchmarks._experience import Experience
from skcl.strategies._base import BaseStrategy

__all__ = ["JointTraining"]


class _NoPartialFit:
    """An attribute that is absent (``hasattr`` is False) with an error that says what to do."""

    def __get__(self, obj, owner=None):
        raise AttributeError(
            "JointTraining has no partial_fit: it trains once on the whole stream. Call "
            "fit(stream) with the list of experiences (or arrays with experience= ids), or use "
            "Cumulative for a strategy that accumulates the experiences with partial_fit.")


class JointTraining(BaseStrategy):
    """Joint training: concatenate every experience and train once.

    Not a continual learner, but the upper bound to compare against. ``fit``
    takes the whole stream (a list of experiences, or arrays with
    ``experience=`` ids) and trains ``max_epochs`` epochs on all of it.
    There is no ``partial_fit``: training once more on a later experience
    would be plain fine-tuning, so ``hasattr(JointTraining(), "partial_fit")``
    is False and scikit-learn treats it as a batch learner; calling it raises
    an AttributeError that says to call ``fit(stream)`` (or to use
    :class:`~skcl.strategies.Cumulative`).

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import JointTraining
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = JointTraining(max_epochs=5, lr=0.1, random_state=0).fit(train)
    >>> import numpy as np
    >>> float(np.mean([net.score(exp) for exp in test])) > 0.85  # every class remembered
    True
    """

    partial_fit = _NoPartialFit()

    def fit(self, X, y=None, *, experience=None, classes=None, **fit_params):
        """Train from scratch, once, on the whole stream."""
        stream = self._as_stream(X, y, experience, fit_params)
        if len(stream) == 1:
            joint = stream[0]
        else:
            joint = Experience(
                np.concatenate([np.asarray(e.X) for e in stream]),
                np.concatenate([np.asarray(e.y) for e in stream]),
                task_label=np.concatenate([e.task_labels for e in stream]),
                classes=(),
            )
        return super().fit(joint, classes=classes, **fit_params)
