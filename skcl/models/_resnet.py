"""The reduced ("slim") ResNet-18 of GEM, iCaRL and most continual-learning papers."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from skcl.models._cnn import ImageInput, _check_shape
from skcl.models._mlp import _FeatureClassifierModel

__all__ = ["SlimResNet18", "ResNet18"]


class _BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class _ResNetFeatures(nn.Module):
    def __init__(self, input_shape: tuple[int, int, int], nf: int):
        super().__init__()
        c = input_shape[0]
        self.input = ImageInput(input_shape)
        self.conv1 = nn.Conv2d(c, nf, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(nf)
        stages, in_planes = [], nf
        for mult, stride in zip((1, 2, 4, 8), (1, 2, 2, 2), strict=True):
            stages.append(nn.Sequential(_BasicBlock(in_planes, nf * mult, stride),
                                        _BasicBlock(nf * mult, nf * mult, 1)))
            in_planes = nf * mult
        self.layers = nn.Sequential(*stages)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(self.input(x))))
        out = self.layers(out)
        # average over the remaining map (4x4 for 32x32 input; any size works)
        return F.adaptive_avg_pool2d(out, 1).flatten(1)


class SlimResNet18(_FeatureClassifierModel):
    """Reduced ResNet-18 (GEM, A-GEM, Avalanche ``SlimResNet18``, Mammoth ``reduced-resnet18``).

    A 3x3 stem (stride 1, no max-pool), four stages of two basic blocks with
    widths ``nf * (1, 2, 4, 8)`` and strides ``(1, 2, 2, 2)``, global average
    pooling, then a growing :class:`~skcl.models.IncrementalClassifier` head
    (or a :class:`~skcl.models.MultiHeadClassifier` with ``multi_head=True``).
    ``nf=20`` gives the 160-d features of the continual-learning literature;
    :class:`ResNet18` is the full-width ``nf=64`` variant (512-d).
    :meth:`get_features` returns the pooled features.

    Inputs may be images ``(n, c, h, w)`` or flat rows, float or ``uint8``
    (``uint8`` is divided by 255 inside). Normalisation, if wanted, is a
    transform (:class:`skcl.transforms.Normalize`).

    Parameters
    ----------
    input_shape : tuple of int, default=(3, 32, 32)
        ``(channels, height, width)``; any size >= 8x8 works (pooling is global).
    n_classes : int, default=2
        Initial output units (the head grows with new classes).
    multi_head : bool, default=False
    nf : int, default=20
        Width of the first stage.

    Examples
    --------
    >>> import torch
    >>> from skcl.models import SlimResNet18
    >>> net = SlimResNet18(n_classes=10)
    >>> net(torch.zeros(2, 3, 32, 32)).shape, net.feature_size
    (torch.Size([2, 10]), 160)
    """

    def __init__(self, input_shape: Sequence[int] = (3, 32, 32), n_classes: int = 2,
                 multi_head: bool = False, nf: int = 20):
        shape = _check_shape(input_shape)
        nf = int(nf)
        if nf < 1:
            raise ValueError(f"nf must be a positive integer; got {nf}.")
        super().__init__(_ResNetFeatures(shape, nf), 8 * nf, n_classes, multi_head)


class ResNet18(SlimResNet18):
    """The full-width ResNet-18 of DER/Mammoth/iCaRL-era CIFAR work: :class:`SlimResNet18` with
    ``nf=64`` (512-d features).

    Examples
    --------
    >>> from skcl.models import ResNet18
    >>> ResNet18(n_classes=10).feature_size
    512
    """

    def __init__(self, input_shape: Sequence[int] = (3, 32, 32), n_classes: int = 2,
                 multi_head: bool = False, nf: int = 64):
        super().__init__(input_shape, n_classes, multi_head, nf)
