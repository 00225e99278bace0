"""Shared pieces of the image benchmarks: output format and the class split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skcl.benchmarks._streams import class_incremental_split

_DTYPES = ("uint8", "float32")


def check_format(dtype: str, flatten: bool) -> None:
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}; got {dtype!r}.")
    if not isinstance(flatten, (bool, np.bool_)):
        raise ValueError(f"flatten must be True or False; got {flatten!r}.")


def as_output(X: np.ndarray, dtype: str, flatten: bool) -> np.ndarray:
    """uint8 (n, C, H, W) images to the requested format.

    ``dtype="uint8"`` keeps the pixels (no copy); ``"float32"`` scales them to
    [0, 1]. ``flatten=True`` gives rows of ``C * H * W`` features (for MLPs).
    """
    if dtype == "float32":
        X = X.astype(np.float32)
        X *= np.float32(1.0 / 255.0)
    if flatten:
        X = X.reshape(len(X), -1)
    return X


def subsample(X, y, n, random_state):
    """A seeded subset of ``n`` samples (all when ``n`` is None)."""
    if n is None or n >= len(y):
        return X, y
    if n < 1:
        raise ValueError(f"max_train_samples must be >= 1; got {n}.")
    idx = np.sort(np.random.RandomState(random_state).permutation(len(y))[:n])
    return X[idx], y[idx]


def first_exp_groups(order: np.ndarray, n_experiences: int, first_exp_classes: int):
    """Classes per experience when the first experience holds ``first_exp_classes``."""
    if not 1 <= first_exp_classes < len(order):
        raise ValueError(f"the first experience must hold between 1 and {len(order) - 1} "
                         f"classes; got {first_exp_classes}.")
    rest = len(order) - first_exp_classes
    if not 2 <= n_experiences <= rest + 1:
        raise ValueError(f"with {first_exp_classes} classes in the first experience, "
                         f"n_experiences must be between 2 and {rest + 1}; got {n_experiences}.")
    return [order[:first_exp_classes], *np.array_split(order[first_exp_classes:],
                                                       n_experiences - 1)]


def resolve_class_order(classes, fixed_class_order, shuffle, random_state,
                        named: dict[str, Sequence[int]] | None = None) -> np.ndarray:
    """The class order: fixed (a sequence or a named preset), seeded shuffle, or natural."""
    classes = np.asarray(classes)
    if fixed_class_order is not None:
        if isinstance(fixed_class_order, str):
            named = named or {}
            if fixed_class_order not in named:
                raise ValueError(f"unknown class order {fixed_class_order!r}; named orders: "
                                 f"{sorted(named) or 'none for this benchmark'}.")
            fixed_class_order = named[fixed_class_order]
        order = np.asarray(fixed_class_order)
        if sorted(order.tolist()) != sorted(classes.tolist()):
            raise ValueError("fixed_class_order must be a permutation of the classes "
                             f"{classes.min()}..{classes.max()}.")
        return order
    if shuffle:
        return classes[np.random.RandomState(random_state).permutation(len(classes))]
    return classes


def split_images(X_train, y_train, X_test, y_test, *, n_experiences, first_exp_classes=None,
                 fixed_class_order=None, shuffle=True, random_state=0, return_task_id=False,
                 class_ids_from_zero_in_each_exp=False, named_orders=None, classes=None):
    """Class-incremental train and test streams over one class order."""
    if classes is None:
        classes = np.unique(y_train)
    order = resolve_class_order(classes, fixed_class_order, shuffle, random_state, named_orders)
    if first_exp_classes:
        groups = first_exp_groups(order, n_experiences, first_exp_classes)
    else:
        if not isinstance(n_experiences, (int, np.integer)) or not (
                1 <= n_experiences <= len(order)):
            raise ValueError(f"n_experiences must be an integer between 1 and the number of "
                             f"classes ({len(order)}); got {n_experiences!r}.")
        groups = np.array_split(order, n_experiences)
    return class_incremental_split(
        X_train, y_train, X_test, y_test, per_exp_classes=[g.tolist() for g in groups],
        task_labels=return_task_id,
        class_ids_from_zero_in_each_exp=class_ids_from_zero_in_each_exp,
    )
