"""A small CNN with batch renormalization: AR1's default network."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from skcl.models._batch_renorm import BatchRenorm1d, BatchRenorm2d
from skcl.models._dynamic import IncrementalClassifier
from skcl.models._mlp import FlatInput

__all__ = ["AR1Net"]

_FLAT_INPUT = FlatInput()  # stateless: shared, not a registered submodule


class AR1Net(nn.Module):
    """A small CNN for gray images, with batch renormalization, for AR1.

    Three named blocks: ``lat_features`` (convolutions, batch renorm,
    pooling, flattened: the default latent-replay layer of
    :class:`~skcl.strategies.AR1`), ``end_features`` (a hidden linear layer
    with batch renorm) and ``classifier`` (a growing
    :class:`~skcl.models.IncrementalClassifier` without bias, the CWR* layer).
    It stands in for the pretrained MobileNetV1 of the reference: nothing is
    downloaded.

    Parameters
    ----------
    in_features : int
        Flat input size; strategies fill it in from the data.
    image_shape : tuple of int, default=None
        (channels, height, width), any size (a side of 1 is not pooled).
        ``None``: one channel, square images of ``in_features`` pixels
        (64 -> 8x8 digits, 784 -> 28x28 (Fashion-)MNIST);
        :class:`~skcl.strategies.AR1` passes the shape of image inputs.
        ``uint8`` inputs are scaled to ``[0, 1]`` (as by the MLP).
    n_classes : int, default=2
        Initial output units (the head grows).
    channels : sequence of int, default=(16, 32)
        Convolution widths; each is followed by a 2x2 max-pool.
    hidden_size : int, default=64
        Width of ``end_features``.

    Examples
    --------
    >>> import torch
    >>> from skcl.models import AR1Net
    >>> net = AR1Net(in_features=64)
    >>> net.lat_features(torch.zeros(2, 64)).shape, net(torch.zeros(2, 64)).shape
    (torch.Size([2, 128]), torch.Size([2, 2]))
    """

    def __init__(self, in_features: int, image_shape: Sequence[int] | None = None,
                 n_classes: int = 2, channels: Sequence[int] = (16, 32), hidden_size: int = 64):
        super().__init__()
        if image_shape is None:
            side = math.isqrt(int(in_features))
            if side * side != in_features:
                raise ValueError(
                    f"AR1Net: {in_features} input features are not a square gray image; "
                    "pass module__image_shape=(channels, height, width).")
            image_shape = (1, side, side)
        c, h, w = (int(v) for v in image_shape)
        if c * h * w != in_features:
            raise ValueError(f"AR1Net: image_shape {tuple(image_shape)} does not match "
                             f"{in_features} input features.")
        self.image_shape = (c, h, w)
        layers: list[nn.Module] = [nn.Unflatten(1, (c, h, w))]
        for ch in channels:
            # halve each side that still can be halved: a side of 1 is kept (pooling it to 0
            # would leave no features), so any image size works; 8x8 and 28x28 images get
            # the usual 2x2 pooling
            kh, kw = (2 if h >= 2 else 1), (2 if w >= 2 else 1)
            layers += [nn.Conv2d(c, ch, 3, padding=1, bias=False), BatchRenorm2d(ch), nn.ReLU(),
                       nn.MaxPool2d(2) if (kh, kw) == (2, 2) else nn.MaxPool2d((kh, kw))]
            c, h, w = ch, h // kh, w // kw
        layers.append(nn.Flatten())
        self.lat_features = nn.Sequential(*layers)
        self.end_features = nn.Sequential(
            nn.Linear(c * h * w, hidden_size, bias=False), BatchRenorm1d(hidden_size), nn.ReLU())
        self.classifier = IncrementalClassifier(hidden_size, n_classes, bias=False)

    def get_features(self, x: torch.Tensor) -> torch.Tensor:
        """Input of the classifier."""
        # flat rows, uint8 pixels scaled to [0, 1], as the MLP takes them
        return self.end_features(self.lat_features(_FLAT_INPUT(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.get_features(x))
