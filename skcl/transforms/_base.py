"""The batch-transform contract and the dispatch the strategies use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from sklearn.base import BaseEstimator

__all__ = ["BatchTransform", "apply_transform"]


class BatchTransform(BaseEstimator):
    """Base class of skcl's batch transforms.

    A transform is a scikit-learn style object: ``__init__`` only stores its
    parameters (so ``clone``, ``get_params`` and ``GridSearchCV`` work, and a
    transform can be a strategy parameter). Calling it,
    ``t(x, generator=None)``, transforms a whole batch tensor ``(N, C, H, W)``
    at once on ``x``'s device; random transforms draw every random number from
    ``generator`` (a :class:`torch.Generator`), so a seeded generator gives
    reproducible results.
    """

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags


def apply_transform(transform: Callable | None, x: torch.Tensor,
                    generator: torch.Generator | None = None) -> Any:
    """Apply ``transform`` to a batch: how a strategy calls any transform.

    ``None`` leaves ``x`` as it is; a :class:`BatchTransform` (skcl's own) is
    called as ``transform(x, generator=generator)``; any other callable (a
    torchvision transform, a function) as ``transform(x)``.

    Examples
    --------
    >>> import torch
    >>> from skcl.transforms import ToFloat, apply_transform
    >>> x = torch.full((1, 1, 1, 2), 51, dtype=torch.uint8)
    >>> apply_transform(ToFloat(), x).tolist(), apply_transform(lambda b: b * 2, x).tolist()
    ([[[[0.20000000298023224, 0.20000000298023224]]]], [[[[102, 102]]]])
    >>> apply_transform(None, x) is x
    True
    """
    if transform is None:
        return x
    if isinstance(transform, BatchTransform):
        return transform(x, generator=generator)
    if not callable(transform):
        raise TypeError(f"A transform must be callable; got {transform!r}.")
    return transform(x)


def _draw_device(x: torch.Tensor, generator: torch.Generator | None) -> torch.device:
    # random numbers are drawn on the generator's device, then moved to x's
    return x.device if generator is None else generator.device


def _check_images(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} expects a batch of images (N, C, H, W); got {shape}.")
