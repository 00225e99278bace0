"""Label order and encoding: ``class_order_`` (output-unit order), ``classes_``."""

from __future__ import annotations

import numpy as np

__all__ = ["LabelOrder"]


def _label_kind(y: np.ndarray) -> str:
    """``"number"`` or ``"string"`` (object arrays are inspected element by element)."""
    y = np.asarray(y)
    if y.dtype.kind in "biuf":
        return "number"
    if y.dtype.kind in "US":
        return "string"
    kinds = {"string" if isinstance(v, str | bytes) else "number"
             if isinstance(v, int | float | np.number) else type(v).__name__
             for v in y.ravel().tolist()}
    if len(kinds) > 1:
        raise ValueError(f"y mixes label types ({', '.join(sorted(kinds))}); use one type.")
    return kinds.pop() if kinds else "number"


class LabelOrder:
    """Part of :class:`~skcl.strategies.BaseStrategy`.

    The class order (``class_order_``, output-unit order),
    ``classes_`` and label-to-unit encoding."""

    @property
    def classes_(self) -> np.ndarray:
        try:
            order = self.class_order_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'classes_' before it is fitted."
            ) from None
        return np.sort(order)

    def encode_labels(self, y) -> np.ndarray:
        """Output-unit indices (int64) of the labels ``y`` (all must be in ``classes_``).

        Labels of another type than the classes (strings for number classes,
        non-integral floats for integer classes) raise a ``ValueError`` that
        says so; integral floats (``1.0``) encode like the integer class ``1``.

        Examples
        --------
        >>> import numpy as np
        >>> from skcl.strategies import Naive
        >>> net = Naive(max_epochs=1, random_state=0).partial_fit(np.eye(4), [3, 5, 3, 5])
        >>> net.encode_labels([5.0, 3]).tolist()
        [1, 0]
        >>> net.encode_labels(["5"])
        Traceback (most recent call last):
        ...
        ValueError: The labels changed type: Naive has seen number classes [3, 5] but got \
string labels ['5']; use one label type for the whole stream.
        """
        y = np.asarray(y)
        y = self._same_label_type(y.ravel() if y.ndim == 2 else y)
        return self._encode(y, self.class_order_).astype(np.int64)

    def _encode(self, y: np.ndarray, order: np.ndarray) -> np.ndarray:
        sorter = np.argsort(order)
        pos = np.searchsorted(order, y, sorter=sorter)
        pos = np.clip(pos, 0, len(order) - 1)
        units = sorter[pos]
        if not np.array_equal(order[units], y):
            unknown = np.setdiff1d(y, order)
            raise ValueError(f"Unknown class(es) {unknown.tolist()}: not in classes_ "
                             f"{np.sort(order).tolist()}.")
        return units

    def _same_label_type(self, y: np.ndarray) -> np.ndarray:
        """``y`` in the type of the classes seen so far, or a clear error if it changed.

        Numbers then strings (or the reverse) raise; non-integral floats after
        integer classes raise; integral floats after integers are cast to the
        classes' integer type (``classes_`` never silently becomes float).
        """
        order = vars(self).get("class_order_")
        if order is None or len(y) == 0:
            return y
        old, new = _label_kind(order), _label_kind(y)
        if old != new:
            raise ValueError(
                f"The labels changed type: {type(self).__name__} has seen {old} classes "
                f"{np.sort(order).tolist()} but got {new} labels {np.unique(y).tolist()[:10]}; "
                "use one label type for the whole stream.")
        if order.dtype.kind in "iub" and y.dtype.kind == "f":
            integral = np.isfinite(y) & (y == np.round(y))
            if not integral.all():
                raise ValueError(
                    f"The labels changed type: {type(self).__name__} has seen integer classes "
                    f"{np.sort(order).tolist()} but got non-integral labels "
                    f"{np.unique(y[~integral]).tolist()[:10]}.")
            return y.astype(order.dtype)
        return y

    def _next_class_order(self, y: np.ndarray, classes) -> np.ndarray:
        if "class_order_" not in vars(self):
            if classes is not None:
                order = np.unique(np.asarray(classes))
                unknown = np.setdiff1d(y, order)
                if len(unknown):
                    raise ValueError(
                        f"y contains class(es) {unknown.tolist()} not in classes=.")
                return order
            return np.unique(y)
        order = self.class_order_
        new = np.setdiff1d(np.unique(y), order)
        if len(new) and self.fixed_classes_:
            raise ValueError(f"Unknown class(es) {new.tolist()}: the first call fixed classes_ "
                             f"to {np.sort(order).tolist()}.")
        return np.concatenate([order, new]) if len(new) else order
