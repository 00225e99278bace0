"""Reading and scoring the evaluation streams given to ``partial_fit(..., eval_streams=...)``.

Shared by the plugins that watch a held-out stream while training (early stopping,
learning-rate scheduling on plateau). Helpers, not plugins: not exported by
``skcl.plugins``.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["get_eval_stream", "stream_metric"]


def get_eval_stream(strategy, name: str):
    """The stream ``name`` passed as ``partial_fit(..., eval_streams=...)``, with a clear error."""
    streams = getattr(strategy, "eval_streams_", None) or {}
    if name not in streams:
        raise ValueError(
            f"No validation stream named {name!r}: pass partial_fit(..., eval_streams="
            f"{{{name!r}: [experiences]}}); got streams {sorted(streams)}."
        )
    return streams[name]


def stream_metric(strategy, stream, metric: str) -> float:
    """Accuracy or cross-entropy loss of ``strategy`` over the samples of ``stream``.

    Loss is computed on samples whose class the strategy knows (future classes
    have no output unit yet).
    """
    if metric == "accuracy":
        correct = sum(strategy.score(exp) * len(exp) for exp in stream)
        return correct / max(sum(len(exp) for exp in stream), 1)
    if metric == "loss":
        total, count = 0.0, 0
        order = strategy.class_order_
        for exp in stream:
            y = np.asarray(exp.y)
            known = np.isin(y, order)
            if not known.any():
                continue
            logits = strategy.forward_logits(exp)[torch.as_tensor(known)]
            units = torch.as_tensor(strategy.encode_labels(y[known]))
            total += float(torch.nn.functional.cross_entropy(logits, units, reduction="sum"))
            count += int(known.sum())
        return total / max(count, 1)
    raise ValueError(f"metric must be 'accuracy' or 'loss'; got {metric!r}.")
