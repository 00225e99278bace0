"""The plugin contract: hooks a continual-learning strategy calls while it trains."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator

if TYPE_CHECKING:  # pragma: no cover
    from skcl.benchmarks import Experience
    from skcl.strategies import BaseStrategy
    from skcl.utils._data import TrainData

__all__ = ["StrategyPlugin", "HOOKS", "ClosedFormPenalty"]

# The hooks, in the order a strategy calls them for one experience (Avalanche's
# order, in skorch's spelling). Every hook is a no-op here.
HOOKS = (
    "before_training_exp",
    "adapt_train_data",
    "before_training_epoch",
    "adapt_batch",
    "before_training_iteration",
    "after_forward",
    "compute_loss",
    "penalty",
    "after_backward",
    "after_training_iteration",
    "after_training_epoch",
    "after_training_exp",
    "adapt_eval_output",
)


class ClosedFormPenalty(NamedTuple):
    """A penalty given with its gradient (what a plugin's ``penalty`` hook may return).

    ``value`` (a 0-dim tensor outside the autograd graph) is added to the
    training loss, so the loss the strategy records includes it; ``grads``
    (one tensor per parameter of ``params``, same shapes) are added to those
    parameters' ``.grad`` right after the backward pass (after a gradient
    scaler's unscaling, before any ``after_backward`` hook). A penalty whose
    gradient is known in closed form (EWC's ``lambda F (theta - theta*)``)
    then costs its arithmetic only: no autograd nodes, no extra gradient sum
    per parameter. Strategies that must differentiate the whole loss
    (data-parallel training, where the backward pass averages gradients over
    processes) use :meth:`as_autograd` instead.

    Examples
    --------
    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> term = ClosedFormPenalty(value=(w.detach() ** 2).sum(), params=[w],
    ...                          grads=[2 * w.detach()])
    >>> term.as_autograd().backward()
    >>> w.grad.tolist()
    [2.0, -4.0]
    """

    value: torch.Tensor
    params: Sequence[torch.Tensor]
    grads: Sequence[torch.Tensor]

    def as_autograd(self) -> torch.Tensor:
        """The same value as a differentiable tensor whose gradient is ``grads``."""
        surrogate = sum((p * g.detach()).sum() for p, g in
                        zip(self.params, self.grads, strict=True))
        return self.value.detach() + (surrogate - surrogate.detach())  # + exactly 0

    def add_to_grads(self) -> None:
        """Add ``grads`` to the parameters' ``.grad`` (created where missing)."""
        missing = [p for p in self.params if p.grad is None]
        for p in missing:
            p.grad = torch.zeros_like(p)
        torch._foreach_add_([p.grad for p in self.params], list(self.grads))


class StrategyPlugin(BaseEstimator):
    """Base class for strategy plugins (Avalanche's ``StrategyPlugin``).

    A plugin is a scikit-learn style object: its ``__init__`` only stores
    parameters, and whatever it learns lives in attributes ending in ``_``.
    A strategy clones its plugin templates into ``plugins_`` when it
    initializes, so ``clone`` and ``GridSearchCV`` always start clean; the
    live copy gets a seeded ``rng_`` (a :class:`numpy.random.Generator`)
    derived from the strategy's ``random_state``.

    Override any of the hooks below; all are no-ops by default. They run in
    this order for each experience:

    ``before_training_exp(strategy, experience)``
        The experience begins (the head has already grown for its classes).
    ``adapt_train_data(strategy, data) -> data``
        Replace the :class:`~skcl.utils.TrainData` trained on
        (Cumulative, GDumb, concat-mode replay).
    ``before_training_epoch(strategy)`` / ``after_training_epoch(strategy)``
        Around each epoch of an experience.
    ``adapt_batch(strategy, batch) -> batch``
        Once per minibatch, outside the optimizer closure (batch-mode replay).
        A batch is ``(inputs, y)`` with ``inputs = {"x": X, "task_labels": t}``.
    ``before_training_iteration(strategy, batch)``
        Before the forward pass (A-GEM/GEM reference gradients).
    ``after_forward(strategy, y_pred, y_true, inputs)``
        The training forward pass is done: see the outputs (metrics, logging).
    ``compute_loss(strategy, y_pred, y_true, inputs) -> Tensor or None``
        Replace the criterion (the first plugin returning a tensor wins).
    ``penalty(strategy, y_pred, y_true, inputs) -> Tensor, ClosedFormPenalty or None``
        A term added to the training loss (EWC, SI, LwF, ...); a
        :class:`ClosedFormPenalty` gives its gradient itself (EWC).
    ``after_backward(strategy)``
        Gradients are computed, the optimizer has not stepped yet.
    ``after_training_iteration(strategy, batch)``
        After the optimizer step.
    ``after_training_exp(strategy, experience)``
        The experience ends (buffers, Fisher matrices, teachers).
    ``adapt_eval_output(strategy, inputs, output) -> output``
        At predict time, rewrite the logits (nearest-mean classifiers).
        ``inputs`` went through the strategy's ``eval_transform``, as the model's.

    Examples
    --------
    >>> from skcl.plugins import StrategyPlugin
    >>> class CountBatches(StrategyPlugin):
    ...     def before_training_exp(self, strategy, experience):
    ...         self.n_batches_ = 0
    ...     def after_training_iteration(self, strategy, batch):
    ...         self.n_batches_ += 1
    >>> from skcl.strategies import Naive
    >>> import numpy as np
    >>> X, y = np.random.RandomState(0).rand(64, 3).astype("float32"), np.arange(64) % 2
    >>> net = Naive(plugins=[CountBatches()], batch_size=16, random_state=0).partial_fit(X, y)
    >>> net.named_plugins_["countbatches"].n_batches_
    4
    """

    #: What each parameter accepts (see :func:`skcl.utils.validate_params`); checked for
    #: the strategy and every plugin at the top of ``partial_fit``/``fit``.
    _parameter_constraints: ClassVar[dict[str, Any]] = {}

    def validate_parameters(self, display: Callable[[str], str] | None = None,
                            owner: str | None = None) -> None:
        """Check the parameters against ``_parameter_constraints`` (changes nothing).

        Raises
        ------
        skcl.utils.InvalidParameterError
            Naming the parameter, what it accepts and the value.
        """
        from skcl.utils import validate_params

        constraints: dict[str, Any] = {}
        for klass in reversed(type(self).__mro__):
            constraints.update(vars(klass).get("_parameter_constraints", {}))
        validate_params(constraints, self.get_params(deep=False),
                        owner or type(self).__name__, display)

    def _relation_error(self, text: str, params: tuple[str, ...],
                        display: Callable[[str], str] | None = None,
                        owner: str | None = None) -> ValueError:
        """The error for a relation between parameters that a declaration cannot express.

        ``text`` names the parameters as ``{0}``, ``{1}``, ... (filled with the names the
        user set them by, e.g. a named strategy's flat names) and may use ``{self}``.
        """
        from skcl.utils import InvalidParameterError

        names = [(display or str)(p) for p in params]
        return InvalidParameterError(f"{owner or type(self).__name__}: "
                                     + text.format(*names, self=self))

    def before_training_exp(self, strategy: BaseStrategy, experience: Experience) -> None:
        pass

    def adapt_train_data(self, strategy: BaseStrategy, data: TrainData) -> TrainData:
        return data

    def before_training_epoch(self, strategy: BaseStrategy) -> None:
        pass

    def adapt_batch(self, strategy: BaseStrategy, batch: Any) -> Any:
        return batch

    def before_training_iteration(self, strategy: BaseStrategy, batch: Any) -> None:
        pass

    def after_forward(self, strategy: BaseStrategy, y_pred: torch.Tensor, y_true: torch.Tensor,
                      inputs: dict) -> None:
        pass

    def compute_loss(self, strategy: BaseStrategy, y_pred: torch.Tensor, y_true: torch.Tensor,
                     inputs: dict) -> torch.Tensor | None:
        return None

    def penalty(self, strategy: BaseStrategy, y_pred: torch.Tensor, y_true: torch.Tensor,
                inputs: dict) -> torch.Tensor | ClosedFormPenalty | None:
        return None

    def after_backward(self, strategy: BaseStrategy) -> None:
        pass

    def after_training_iteration(self, strategy: BaseStrategy, batch: Any) -> None:
        pass

    def after_training_epoch(self, strategy: BaseStrategy) -> None:
        pass

    def after_training_exp(self, strategy: BaseStrategy, experience: Experience) -> None:
        pass

    def adapt_eval_output(self, strategy: BaseStrategy, inputs: dict,
                          output: torch.Tensor) -> torch.Tensor:
        return output

    # -- helpers ---------------------------------------------------------
    def _overrides(self, hook: str) -> bool:
        """Whether this plugin's class overrides ``hook`` (the strategy skips no-ops)."""
        return getattr(type(self), hook) is not getattr(StrategyPlugin, hook)

    def _reset_rng(self, seed) -> None:
        self.rng_ = np.random.default_rng(seed)
