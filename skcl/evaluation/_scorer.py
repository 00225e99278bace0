"""A scikit-learn scorer that ranks by final average accuracy over experiences."""

from __future__ import annotations

import numpy as np
import sklearn
from sklearn.metrics import make_scorer

__all__ = ["average_accuracy_score", "make_average_accuracy_scorer"]


def average_accuracy_score(y_true, y_pred, *, experience=None, sample_weight=None) -> float:
    """Mean over experiences of the per-experience accuracy (the CL "ACC").

    With ``experience`` (one id per sample) each experience counts equally,
    whatever its size; without it this is plain accuracy.

    Examples
    --------
    >>> from skcl.evaluation import average_accuracy_score
    >>> y_true, y_pred = [0, 0, 0, 1], [0, 0, 0, 0]
    >>> average_accuracy_score(y_true, y_pred)
    0.75
    >>> average_accuracy_score(y_true, y_pred, experience=[0, 0, 0, 1])
    0.5
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    correct = (y_true == y_pred).astype(float)
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, float)
    if experience is None:
        return float(np.average(correct, weights=w))
    ids = np.asarray(experience)
    if len(ids) != len(y_true):
        raise ValueError(f"experience has {len(ids)} entries but y has {len(y_true)}.")
    return float(np.mean([np.average(correct[ids == e], weights=w[ids == e])
                          for e in np.unique(ids)]))


def make_average_accuracy_scorer():
    """Scorer for ``GridSearchCV``: final average accuracy over the test fold's experiences.

    When scikit-learn's metadata routing is enabled
    (``sklearn.set_config(enable_metadata_routing=True)``, or inside
    ``sklearn.config_context``) the scorer requests ``experience``, so
    ``GridSearchCV(...).fit(X, y, experience=ids)`` hands each test fold's
    ids to it (also call ``strategy.set_fit_request(experience=True)``).
    Without routing scikit-learn passes no ids to scorers and it falls back
    to pooled accuracy (what ``strategy.score`` returns).

    Examples
    --------
    >>> import sklearn
    >>> from skcl.evaluation import make_average_accuracy_scorer
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     scorer = make_average_accuracy_scorer()
    >>> scorer
    make_scorer(average_accuracy_score, ...)
    """
    scorer = make_scorer(average_accuracy_score)
    if sklearn.get_config().get("enable_metadata_routing", False):
        scorer = scorer.set_score_request(experience=True)
    return scorer
