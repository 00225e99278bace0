"""Progressive Neural Networks strategy (Rusu et al., arXiv 1606.04671, 2016)."""

from __future__ import annotations

from typing import Any

import numpy as np

from skcl.models._pnn import PNN
from skcl.plugins._base import StrategyPlugin
from skcl.strategies._base import BaseStrategy

__all__ = ["PNNStrategy"]


class _PNNGuard(StrategyPlugin):
    """Refuses to train a task whose column is already frozen."""

    def before_training_exp(self, strategy, experience) -> None:
        module = strategy.module_
        tasks = sorted({int(t) for t in np.unique(experience.task_labels)})
        frozen = [t for t in tasks if t in module.frozen_tasks]
        if frozen:
            raise ValueError(
                f"PNNStrategy: task label(s) {frozen} were learned before and their columns are "
                "frozen (later columns depend on them); a PNN learns each task once.")


class PNNStrategy(BaseStrategy):
    """Progressive Neural Networks: a new column per task label, earlier columns frozen.

    Task-incremental: every sample needs its task label, at train and at
    predict time (from an :class:`~skcl.benchmarks.Experience`, or
    ``task_labels=`` with arrays; plain arrays get task label 0). The model is
    a :class:`~skcl.models.PNN`; each task's column gets lateral adapters
    from all earlier columns, which are frozen, so earlier tasks are never
    forgotten. Predicting a task label never trained raises a ValueError.

    Parameters
    ----------
    module : default=None
        ``None`` builds :class:`~skcl.models.PNN`; set its shape through
        ``module__num_layers``, ``module__hidden_features_per_column`` and
        ``module__adapter``. A module given must be a ``PNN``.
    **kwargs
        Every other parameter of :class:`BaseStrategy`, ``optimizer__*``
        included (e.g. ``optimizer__momentum=0.9``): they reach the optimizer,
        which is built with the first column.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import PNNStrategy
    >>> train, test = split_digits(n_experiences=5, task_labels=True, random_state=0)
    >>> net = PNNStrategy(module__hidden_features_per_column=32, lr=0.1, max_epochs=3,
    ...                   random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.module_.columns), net.score(test[0]) > 0.9
    (5, True)
    """

    _builtin_plugins = {"pnn_guard": _PNNGuard}

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {"module__hidden_features_per_column": 16, "max_epochs": 30, "lr": 0.1,
                "random_state": 0}

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        module = PNN if self.module is None else self.module
        if isinstance(module, type) and "in_features" not in kwargs:
            if not hasattr(self, "n_features_in_"):
                raise ValueError("The module needs in_features: call partial_fit/fit first.")
            # every trailing dimension (images of shape (c, h, w) too): the PNN flattens
            kwargs["in_features"] = self._module_in_features()
        self.module_ = self.initialized_instance(module, kwargs)
        if not isinstance(self.module_, PNN):
            raise TypeError(f"PNNStrategy needs a skcl.models.PNN module; got "
                            f"{type(self.module_).__name__}.")
        return self

    def initialize_optimizer(self, triggered_directly=None):
        # A PNN has no parameters before its first column (built at the first experience).
        if next(self.module_.parameters(), None) is None:
            # Register the optimizer prefix now (as skorch does when it sets a torch
            # optimizer), so that optimizer__momentum=... etc. are accepted and
            # reach the optimizer built with the first column.
            if "optimizer" not in self._optimizers:
                self._register_attribute("optimizer_", None)
            self.optimizer_ = None
            return self
        return super().initialize_optimizer()

    def _rebuild_optimizer(self, keep_state: bool = True) -> None:
        if self.optimizer_ is None:
            self._initialize_optimizer()
            return
        super()._rebuild_optimizer(keep_state)
