"""Label order and encoding: ``class_order_`` (output-unit order), ``classes_``."""

from __future__ import annotations

import numpy as np

__all__ = ["LabelOrder"]


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
        """Output-unit indices (int64) of the labels ``y`` (all must be in ``classes_``)."""
        y = np.asarray(y)
        return self._encode(y.ravel() if y.ndim == 2 else y, self.class_order_).astype(np.int64)

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
