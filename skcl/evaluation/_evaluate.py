"""`evaluate(strategy, test_stream)`: per-experience and stream metrics without a plugin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from skcl.benchmarks._experience import Experience

__all__ = ["evaluate", "ExperienceResult", "evaluate_experience"]


@dataclass
class ExperienceResult:
    """What one evaluation of one test experience measured."""

    index: int
    accuracy: float
    loss: float
    n_samples: int
    y_true: np.ndarray
    y_pred: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "accuracy": self.accuracy,
                "loss": None if not np.isfinite(self.loss) else self.loss,
                "n_samples": self.n_samples}


def evaluate_experience(strategy, experience: Experience, index: int | None = None
                        ) -> ExperienceResult:
    """Accuracy and loss of ``strategy`` (as it is now) on one experience.

    The loss is the strategy's criterion on its logits; it is ``nan`` when the
    experience holds classes the strategy has not seen (they have no output
    unit yet).
    """
    logits = strategy.forward_logits(experience)
    order = np.asarray(strategy.class_order_)
    y_true = np.asarray(experience.y)
    y_pred = order[logits.argmax(dim=1).numpy()]
    accuracy = float(np.mean(y_pred == y_true)) if len(y_true) else float("nan")
    loss = float("nan")
    lookup = {c: i for i, c in enumerate(order.tolist())}
    units = [lookup.get(c) for c in y_true.tolist()]
    if len(units) and all(u is not None for u in units):
        with torch.no_grad():
            target = torch.as_tensor(units, dtype=torch.long)
            try:
                loss = float(strategy.criterion_(logits.to(torch.float32), target))
            except (RuntimeError, ValueError, TypeError):  # a criterion for other targets
                loss = float("nan")
    idx = experience.index if index is None else index
    return ExperienceResult(int(idx), accuracy, loss, len(y_true), y_true, y_pred)


def _stream_summary(results: Sequence[ExperienceResult]) -> dict[str, Any]:
    n = np.array([r.n_samples for r in results], dtype=float)
    acc = np.array([r.accuracy for r in results])
    loss = np.array([r.loss for r in results])
    total = n.sum()
    return {
        "accuracy": float(np.sum(acc * n) / total) if total else float("nan"),
        "average_accuracy": float(np.mean(acc)) if len(acc) else float("nan"),
        "loss": float(np.sum(loss * n) / total) if total else float("nan"),
        "n_samples": int(total),
    }


def evaluate(strategy, test_stream: Sequence[Experience] | Experience) -> dict[str, Any]:
    """Evaluate a fitted strategy on a test stream, experience by experience.

    Parameters
    ----------
    strategy : BaseStrategy
        A fitted strategy (any skcl strategy; the model is used as it is now).
    test_stream : list of Experience, or one Experience

    Returns
    -------
    dict
        ``"experiences"``: one dict per test experience with ``index``,
        ``accuracy``, ``loss`` (``None`` where undefined) and ``n_samples``;
        ``"stream"``: ``accuracy`` (pooled over all samples, Avalanche's
        Top1_Acc_Stream), ``average_accuracy`` (mean over experiences, the
        continual-learning ACC), ``loss`` (pooled) and ``n_samples``.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Cumulative
    >>> from skcl.evaluation import evaluate
    >>> train, test = split_digits(n_experiences=2, random_state=0)
    >>> net = Cumulative(max_epochs=2, lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> res = evaluate(net, test)
    >>> len(res["experiences"]), res["stream"]["average_accuracy"] > 0.7
    (2, True)
    """
    if isinstance(test_stream, Experience):
        test_stream = [test_stream]
    results = [evaluate_experience(strategy, exp, index=j) for j, exp in enumerate(test_stream)]
    summary = _stream_summary(results)
    if not np.isfinite(summary["loss"]):
        summary["loss"] = None
    return {"experiences": [r.to_dict() for r in results], "stream": summary}
