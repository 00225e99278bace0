"""`TransformPlugin`: a train-time batch transform (augmentation) as a plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch

from skcl.plugins._base import StrategyPlugin
from skcl.transforms import apply_transform

__all__ = ["TransformPlugin"]


class TransformPlugin(StrategyPlugin):
    """Apply a batch transform to every training minibatch (``adapt_batch``).

    The minibatch's inputs are moved to the strategy's device and transformed
    there, in one vectorised call per minibatch: skcl transforms
    (:mod:`skcl.transforms`) draw their randomness from a
    :class:`torch.Generator` seeded from the strategy's ``random_state``
    (reproducible), any other callable (a torchvision transform) is called as
    ``transform(x)``. Put it after a replay plugin (named strategies' built-in
    plugins come first) and replayed exemplars are augmented like the current
    data. Prediction is not transformed.

    Prefer the strategy's ``train_transform`` parameter: it applies to the
    same minibatches and also to the passes plugins make on stored or raw
    data (GEM/A-GEM memory gradients, EWC's Fisher, GSS and MIR scores),
    which this plugin does not reach. The plugin remains for composing an
    augmentation at a given place in the plugin order.

    Parameters
    ----------
    transform : callable or None, default=None
        ``None`` leaves the minibatches unchanged.

    Attributes
    ----------
    generator_ : torch.Generator
        Seeded at the start of each experience.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.models import SmallCNN
    >>> from skcl.plugins import TransformPlugin
    >>> from skcl.strategies import Naive
    >>> from skcl.transforms import Compose, RandomCrop, RandomHorizontalFlip
    >>> X = np.random.RandomState(0).rand(32, 1, 28, 28).astype("float32")
    >>> aug = TransformPlugin(Compose([RandomCrop(28, padding=4), RandomHorizontalFlip()]))
    >>> net = Naive(module=SmallCNN, module__channels=(4, 8), plugins=[aug], random_state=0)
    >>> net.partial_fit(X, np.arange(32) % 2).predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {"transform": [None, "callable"]}

    def __init__(self, transform: Callable | None = None):
        self.transform = transform

    def before_training_exp(self, strategy, experience) -> None:
        device = torch.device(strategy.device)
        self.generator_ = torch.Generator(device=device).manual_seed(
            int(self.rng_.integers(np.iinfo(np.int32).max)))

    def adapt_batch(self, strategy, batch):
        if self.transform is None:
            return batch
        inputs, y = batch
        x = inputs["x"].to(strategy.device, non_blocking=True)
        inputs = dict(inputs)
        inputs["x"] = apply_transform(self.transform, x, self.generator_)
        return inputs, y
