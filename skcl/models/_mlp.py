"""Small ready-made networks: an MLP and a CNN with a feature/classifier split."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from skcl.models._dynamic import IncrementalClassifier, MultiHeadClassifier

__all__ = ["MLP", "SimpleCNN"]


class _FeatureClassifierModel(nn.Module):
    """A ``features`` extractor followed by a growing ``classifier`` head.

    With ``multi_head=True`` the head is a :class:`MultiHeadClassifier` and
    ``forward`` routes by the task labels the strategy passes along.
    """

    def __init__(self, features: nn.Module, feature_size: int, n_classes: int, multi_head: bool,
                 bias: bool = True):
        super().__init__()
        self.features = features
        self.multi_head = multi_head
        self.feature_size = feature_size
        if multi_head:
            self.classifier = MultiHeadClassifier(feature_size, n_classes)
        else:
            self.classifier = IncrementalClassifier(feature_size, n_classes, bias=bias)

    @property
    def is_multi_task(self) -> bool:
        return self.multi_head

    def get_features(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the feature extractor (the input of the classifier)."""
        return self.features(x)

    def forward(self, x: torch.Tensor, task_labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)
        if self.multi_head:
            if task_labels is None:
                raise ValueError("A multi-head model needs task labels: pass an Experience "
                                 "or task_labels=... .")
            return self.classifier(h, task_labels)
        return self.classifier(h)


class FlatInput(nn.Module):
    """Flatten each sample to one row; ``uint8`` pixels become floats in ``[0, 1]``.

    Lets the MLP take images of any trailing shape, and compact ``uint8``
    data (as image streams and buffers keep it) without a transform.

    Examples
    --------
    >>> import torch
    >>> from skcl.models._mlp import FlatInput
    >>> FlatInput()(torch.full((1, 2, 2), 255, dtype=torch.uint8))
    tensor([[1., 1., 1., 1.]])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.uint8:
            x = x.to(torch.float32).div_(255.0)
        return x.flatten(1)


class MLP(_FeatureClassifierModel):
    """Multi-layer perceptron with a growing output layer.

    Parameters
    ----------
    in_features : int
        Input size (the product of a sample's dimensions: inputs are
        flattened). Strategies fill it in from the data when not given.
    hidden_sizes : sequence of int, default=(100,)
    n_classes : int, default=2
        Initial number of output units (the head grows with new classes).
    dropout : float, default=0.0
    multi_head : bool, default=False
        One head per task label (task-incremental learning).

    Examples
    --------
    >>> import torch
    >>> from skcl.models import MLP
    >>> MLP(in_features=4, hidden_sizes=(8,))(torch.zeros(2, 4)).shape
    torch.Size([2, 2])
    """

    def __init__(self, in_features: int, hidden_sizes: Sequence[int] = (100,), n_classes: int = 2,
                 dropout: float = 0.0, multi_head: bool = False, bias: bool = True):
        layers: list[nn.Module] = [FlatInput()]
        size = in_features
        for h in hidden_sizes:
            layers += [nn.Linear(size, h), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            size = h
        super().__init__(nn.Sequential(*layers), size, n_classes, multi_head, bias=bias)


class SimpleCNN(_FeatureClassifierModel):
    """A small CNN for gray images, given flat or as (n, channels, h, w).

    Parameters
    ----------
    image_shape : tuple, default=(1, 28, 28)
        (channels, height, width); flat inputs are reshaped to it.
    n_classes : int, default=2
    multi_head : bool, default=False

    Examples
    --------
    >>> import torch
    >>> from skcl.models import SimpleCNN
    >>> SimpleCNN(image_shape=(1, 8, 8))(torch.zeros(2, 64)).shape
    torch.Size([2, 2])
    """

    def __init__(self, image_shape: Sequence[int] = (1, 28, 28), n_classes: int = 2,
                 multi_head: bool = False, channels: Sequence[int] = (16, 32)):
        c, h, w = image_shape
        convs: list[nn.Module] = [nn.Unflatten(1, (c, h, w))]
        size_in = c
        for ch in channels:
            convs += [nn.Conv2d(size_in, ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            size_in = ch
            h, w = h // 2, w // 2
        convs += [nn.Flatten()]
        super().__init__(_ImageFeatures(nn.Sequential(*convs), (c, *image_shape[1:])),
                         size_in * h * w, n_classes, multi_head)


class _ImageFeatures(nn.Module):
    def __init__(self, body: nn.Module, image_shape):
        super().__init__()
        self.body = body
        self.image_shape = tuple(image_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.reshape(len(x), -1))
