"""The `Experience`: one step of a continual-learning stream."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skcl.utils._task_labels import check_task_labels
from skcl.utils._validation import n_samples


@dataclass(frozen=True, eq=False)
class Experience:
    """One step of a stream: the samples, their labels and task labels.

    An experience is plain, immutable data. Builders such as
    :func:`~skcl.benchmarks.class_incremental_split` create them; strategies
    consume them with ``partial_fit(experience)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        The inputs. Kept as given (no copy).
    y : array-like of shape (n_samples,)
        The labels.
    task_label : int or array-like of shape (n_samples,), default=0
        One task label for the whole experience, or one per sample.
    classes : array-like, default=None
        The classes present. Computed from ``y`` when omitted.
    index : int, default=0
        Position of the experience in its stream.
    origin : int or None, default=None
        For a piece of an online stream, the index of the experience it was
        cut from; ``None`` for an ordinary experience.
    is_first_piece, is_last_piece : bool, default=True
        For online streams: whether this piece starts or ends its origin
        experience.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import Experience
    >>> exp = Experience(np.zeros((4, 2)), np.array([0, 1, 1, 0]), index=3)
    >>> exp.classes, exp.index, len(exp)
    (array([0, 1]), 3, 4)
    """

    X: object
    y: object
    task_label: object = 0
    classes: object = field(default=None)
    index: int = 0
    origin: int | None = None
    is_first_piece: bool = True
    is_last_piece: bool = True

    def __post_init__(self) -> None:
        if self.classes is None:
            object.__setattr__(self, "classes", np.unique(np.asarray(self.y)))

    def __len__(self) -> int:
        return n_samples(self.y)

    @property
    def task_labels(self) -> np.ndarray:
        """Per-sample task labels as an int64 array."""
        return check_task_labels(self.task_label, len(self))

    @property
    def origin_index(self) -> int:
        """The index of the experience this one was cut from (itself if not online)."""
        return self.index if self.origin is None else self.origin

    def __repr__(self) -> str:
        tl = self.task_label if np.ndim(self.task_label) == 0 else "per-sample"
        return (
            f"Experience(index={self.index}, n_samples={len(self)}, "
            f"classes={list(np.asarray(self.classes).tolist())}, task_label={tl})"
        )
