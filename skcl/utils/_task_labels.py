"""Task labels: integer values, one per experience or one per sample."""

from __future__ import annotations

import numpy as np

__all__ = ["check_task_labels"]


def check_task_labels(task_labels, n_samples: int) -> np.ndarray:
    """Task labels as an int64 array of ``n_samples``: one integer, or one per sample.

    Raises a ``ValueError`` naming ``task_labels`` for anything that is not an
    integer value (a string, 0.7, NaN) or has the wrong length.
    """
    t = np.asarray(task_labels)
    if t.dtype.kind in "iu":
        values = t
    elif t.dtype.kind == "b":
        raise ValueError(f"task_labels must be integers; got booleans ({t.dtype}).")
    elif t.dtype.kind == "f" and np.isfinite(t).all() and (t == np.round(t)).all():
        values = t
    else:
        bad = t.reshape(-1)[:3].tolist() if t.size else t.tolist()
        raise ValueError(f"task_labels must be integer values (one per experience or one per "
                         f"sample); got {bad!r} (dtype {t.dtype}).")
    if values.ndim != 0 and (values.ndim != 1 or len(values) != n_samples):
        raise ValueError(f"X has {n_samples} samples but task_labels has shape {values.shape}.")
    if values.size and (values < 0).any():
        raise ValueError(f"task_labels must be non-negative; got {int(values.min())}.")
    if values.ndim == 0:
        return np.full(n_samples, int(values), dtype=np.int64)
    return values.astype(np.int64)
