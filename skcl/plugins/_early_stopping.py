"""Early stopping, per experience."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from skcl.plugins._base import StrategyPlugin
from skcl.plugins._eval_streams import get_eval_stream, stream_metric
from skcl.utils import Interval, Options

__all__ = ["EarlyStoppingPlugin"]


class EarlyStoppingPlugin(StrategyPlugin):
    """Stop training an experience when a validation metric stops improving.

    Checked after every epoch; the count restarts at each experience. The
    validation data is passed at fit time, as scikit-learn passes data to
    ``fit`` and not to ``__init__``::

        strategy.partial_fit(exp, eval_streams={"valid": valid_stream})

    Parameters
    ----------
    patience : int, default=5
        Epochs without improvement before stopping.
    val_stream_name : str, default="valid"
        Key of the stream in ``eval_streams``. With ``metric="train_loss"``
        no validation stream is needed.
    metric : {"accuracy", "loss", "train_loss"}, default="accuracy"
    mode : {"max", "min"}, default=None
        Whether larger is better; ``None`` picks "max" for accuracy and "min"
        for losses.
    margin : float, default=0.0
        Minimum change that counts as an improvement.
    restore_best : bool, default=True
        Load the best weights when stopping, and at the end of the experience.
        Avalanche keeps the last weights when patience never runs out; we
        restore the best ones in both cases, as early stopping intends.

    Attributes
    ----------
    best_ : float or None
    best_epoch_ : int
    stopped_epoch_ : int or None
        Epoch (within the experience, from 0) at which training stopped.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import EarlyStoppingPlugin
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=2, random_state=0)
    >>> net = Naive(max_epochs=50, plugins=[EarlyStoppingPlugin(patience=2)], random_state=0)
    >>> _ = net.partial_fit(train[0], eval_streams={"valid": test[:1]})
    >>> net.named_plugins_["earlystopping"].stopped_epoch_ is not None
    True
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "patience": [Interval("int", 1, None)],
        "val_stream_name": ["string"],
        "metric": [Options("accuracy", "loss", "train_loss")],
        "mode": [None, Options("max", "min")],
        "margin": [Interval("real", 0, None)],
        "restore_best": ["boolean"],
    }

    def __init__(self, patience: int = 5, val_stream_name: str = "valid",
                 metric: str = "accuracy", mode: str | None = None, margin: float = 0.0,
                 restore_best: bool = True):
        self.patience = patience
        self.val_stream_name = val_stream_name
        self.metric = metric
        self.mode = mode
        self.margin = margin
        self.restore_best = restore_best

    def _mode(self) -> str:
        if self.mode is not None:
            return self.mode
        return "max" if self.metric == "accuracy" else "min"

    def before_training_exp(self, strategy, experience) -> None:
        if self.metric != "train_loss":
            get_eval_stream(strategy, self.val_stream_name)  # fail before training
        self.best_, self.best_epoch_, self.stopped_epoch_ = None, -1, None
        self.best_state_ = None
        self.epoch_ = 0

    def _current(self, strategy) -> float:
        if self.metric == "train_loss":
            return float(strategy.history[-1, "train_loss"])
        stream = get_eval_stream(strategy, self.val_stream_name)
        return stream_metric(strategy, stream, self.metric)

    def after_training_epoch(self, strategy) -> None:
        value = self._current(strategy)
        sign = 1.0 if self._mode() == "max" else -1.0
        if self.best_ is None or sign * (value - self.best_) > self.margin:
            self.best_, self.best_epoch_ = value, self.epoch_
            if self.restore_best:
                self.best_state_ = copy.deepcopy(strategy.module_.state_dict())
        elif self.epoch_ - self.best_epoch_ >= self.patience:
            self.stopped_epoch_ = self.epoch_
            strategy.stop_training()
        self.epoch_ += 1

    def after_training_exp(self, strategy, experience) -> None:
        if self.restore_best and self.best_state_ is not None:
            strategy.module_.load_state_dict(self.best_state_)
        self.best_state_ = None  # weights are not kept between experiences
