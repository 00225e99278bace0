"""What a plugin may read and call on a strategy: the one hook protocol.

Every hook of :class:`~skcl.plugins.StrategyPlugin` (and of the evaluation
metrics and loggers) receives the strategy first. This protocol is all of the
strategy a plugin may use; nothing private. ``tests/test_base_contract.py``
checks that :class:`~skcl.strategies.BaseStrategy` provides all of it and that
no plugin, metric or logger touches a private attribute of a strategy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

    from skcl.utils import TrainData

__all__ = ["StrategyProtocol", "PROTOCOL_ATTRIBUTES"]

#: Attributes a plugin may read (and, for ``train_batch_size_``, set in
#: ``before_training_exp``), with what they hold.
PROTOCOL_ATTRIBUTES: dict[str, str] = {
    "module_": "the network (torch.nn.Module)",
    "optimizer_": "the optimizer",
    "criterion_": "the loss module",
    "device": "where the network lives",
    "batch_size": "the minibatch size (-1: the whole experience)",
    "max_epochs": "epochs per experience",
    "experience_": "the Experience being trained on (None outside an experience)",
    "train_data_": "the TrainData trained on (after adapt_train_data)",
    "class_order_": "labels in output-unit order",
    "trained_units_": "units trained in earlier experiences (the 'old' classes)",
    "units_by_task_": "output units seen in each task label",
    "n_experiences_": "experiences finished (the current one's 0-based index while training)",
    "eval_streams_": "the evaluation streams passed to partial_fit, by name (or None)",
    "train_batch_size_": "a plugin's minibatch size for this experience (set it, or None)",
    "history_": "skorch's History (evaluation plugins record into it)",
}


@runtime_checkable
class StrategyProtocol(Protocol):
    """The strategy as a plugin sees it (see ``PROTOCOL_ATTRIBUTES`` for the attributes).

    Methods
    -------
    infer(inputs)
        Run the network on a batch's inputs (task labels routed to multi-head
        modules), as in training.
    forward_logits(X)
        Logits over the known classes at predict time (eval mode).
    encode_labels(y)
        Labels to output-unit indices.
    current_experience_data()
        The current experience's own samples as TrainData (units as labels).
    transform_inputs(x, training)
        Apply the strategy's train/eval transform to a batch of inputs.
    rebuild_optimizer(keep_state=True)
        A new optimizer after a structural change of ``module_``.
    stop_training()
        End the current experience after this minibatch.
    """

    module_: torch.nn.Module
    class_order_: np.ndarray
    trained_units_: np.ndarray

    def infer(self, x: Any, **fit_params: Any) -> torch.Tensor: ...

    def forward_logits(self, X: Any, task_labels: Any = None) -> torch.Tensor: ...

    def encode_labels(self, y: Any) -> np.ndarray: ...

    def current_experience_data(self) -> TrainData: ...

    def transform_inputs(self, x: torch.Tensor, training: bool = False) -> torch.Tensor: ...

    def rebuild_optimizer(self, keep_state: bool = True) -> None: ...

    def stop_training(self) -> None: ...

    def predict(self, X: Any, task_labels: Any = None) -> np.ndarray: ...

    def score(self, X: Any, y: Any = None, sample_weight: Any = None,
              task_labels: Any = None) -> float: ...

