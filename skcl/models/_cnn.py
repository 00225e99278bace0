"""A small CNN for MNIST-like images (1x28x28), with a growing or multi-head classifier."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from skcl.models._mlp import _FeatureClassifierModel

__all__ = ["SmallCNN"]


class ImageInput(nn.Module):
    """Bring a batch to float images of ``input_shape``.

    Flat rows (``(n, c*h*w)``) are reshaped to ``(n, c, h, w)``; integer
    pixels (``uint8``, as compact datasets and buffers keep them) become
    ``float32`` in ``[0, 1]`` (divided by 255). Float input is used as is.

    Examples
    --------
    >>> import torch
    >>> from skcl.models._cnn import ImageInput
    >>> ImageInput((1, 2, 2))(torch.full((1, 4), 255, dtype=torch.uint8))
    tensor([[[[1., 1.],
              [1., 1.]]]])
    """

    def __init__(self, input_shape: Sequence[int]):
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not x.is_floating_point():
            x = x.to(torch.float32).div_(255.0)
        if x.ndim != 4:
            x = x.reshape(len(x), *self.input_shape)
        return x


def _check_shape(input_shape) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (channels, height, width); got {input_shape!r}.")
    return shape  # type: ignore[return-value]


class SmallCNN(_FeatureClassifierModel):
    """A small CNN for MNIST-like data: two conv-ReLU-maxpool blocks and a hidden layer.

    ``features``: conv 3x3 (``channels[0]``) - ReLU - maxpool 2 - conv 3x3
    (``channels[1]``) - ReLU - maxpool 2 - flatten - linear (``hidden_size``) -
    ReLU; then a growing :class:`~skcl.models.IncrementalClassifier` head (or
    a :class:`~skcl.models.MultiHeadClassifier` with ``multi_head=True``).
    :meth:`get_features` returns the ``hidden_size``-d features (iCaRL, SLDA,
    selection).

    Inputs may be images ``(n, c, h, w)`` or flat rows ``(n, c*h*w)``, float
    or ``uint8`` (``uint8`` pixels are divided by 255 inside the model, so a
    compact uint8 stream needs no transform).

    Parameters
    ----------
    input_shape : tuple of int, default=(1, 28, 28)
        ``(channels, height, width)``.
    n_classes : int, default=2
        Initial output units (the head grows with new classes).
    multi_head : bool, default=False
        One head per task label (task-incremental learning).
    channels : tuple of two int, default=(32, 64)
    hidden_size : int, default=128
    dropout : float, default=0.0
        Dropout before the classifier.

    Examples
    --------
    >>> import torch
    >>> from skcl.models import SmallCNN
    >>> net = SmallCNN(n_classes=3)
    >>> net(torch.zeros(2, 1, 28, 28)).shape, net.get_features(torch.zeros(2, 784)).shape
    (torch.Size([2, 3]), torch.Size([2, 128]))
    """

    def __init__(self, input_shape: Sequence[int] = (1, 28, 28), n_classes: int = 2,
                 multi_head: bool = False, channels: Sequence[int] = (32, 64),
                 hidden_size: int = 128, dropout: float = 0.0):
        c, h, w = _check_shape(input_shape)
        if len(channels) != 2:
            raise ValueError(f"channels must hold two widths; got {channels!r}.")
        c1, c2 = (int(v) for v in channels)
        h2, w2 = h // 2 // 2, w // 2 // 2
        if h2 < 1 or w2 < 1:
            raise ValueError(f"input_shape {input_shape!r} is too small for two 2x2 poolings.")
        layers: list[nn.Module] = [
            ImageInput((c, h, w)),
            nn.Conv2d(c, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * h2 * w2, hidden_size), nn.ReLU(),
        ]
        if dropout:
            layers.append(nn.Dropout(dropout))
        super().__init__(nn.Sequential(*layers), hidden_size, n_classes, multi_head)
