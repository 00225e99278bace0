"""scikit-learn's estimator checks over every estimator skcl exports.

Each class gives a tiny instance through ``_unit_test_params()`` and lists the
checks it cannot pass, with the reason, in ``_expected_failed_checks()``.
"""

import inspect

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skcl.buffers
import skcl.selection
import skcl.strategies
from skcl.strategies import BaseStrategy


def _exported_estimators():
    out = []
    for module in (skcl.strategies, skcl.buffers, skcl.selection):
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) and issubclass(obj, BaseEstimator)):
                continue
            if inspect.isabstract(obj) or obj is BaseStrategy or name.startswith("_"):
                continue
            if not hasattr(obj, "_unit_test_params"):
                continue
            if getattr(obj, "_skip_common_checks", False):
                continue
            out.append(obj(**obj._unit_test_params()))
    return out


ESTIMATORS = _exported_estimators()


def _expected_failed(estimator):
    getter = getattr(estimator, "_expected_failed_checks", None)
    return getter() if getter is not None else {}


def test_every_strategy_is_checked():
    names = {type(e).__name__ for e in ESTIMATORS}
    assert {"Naive", "Cumulative", "JointTraining"} <= names


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed)
def test_sklearn_compatible(estimator, check):
    check(estimator)
