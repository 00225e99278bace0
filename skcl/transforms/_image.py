"""Vectorised image batch transforms: crop, flip, normalise, to float, compose."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from skcl.transforms._base import BatchTransform, _check_images, _draw_device, apply_transform

__all__ = ["RandomCrop", "RandomHorizontalFlip", "Normalize", "ToFloat", "Compose"]


def _pair(size, name: str) -> tuple[int, int]:
    if isinstance(size, int | float) and not isinstance(size, bool):
        size = (size, size)
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a pair of ints; got {size!r}.") from None
    return h, w


class RandomCrop(BatchTransform):
    """Random crop of each image, after zero padding (torchvision's ``RandomCrop``).

    One offset per image, drawn from ``generator``; the crop of the whole
    batch is one gather (no loop over images).

    Parameters
    ----------
    size : int or (int, int)
        Output height and width.
    padding : int, default=0
        Pixels of ``fill`` added on every side before cropping.
    fill : float, default=0
        Value of the padding.

    Examples
    --------
    >>> import torch
    >>> from skcl.transforms import RandomCrop
    >>> x = torch.arange(16.).reshape(1, 1, 4, 4)
    >>> RandomCrop(4, padding=2)(x, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([1, 1, 4, 4])
    """

    def __init__(self, size: int | Sequence[int], padding: int = 0, fill: float = 0):
        self.size = size
        self.padding = padding
        self.fill = fill

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        _check_images(x, "RandomCrop")
        th, tw = _pair(self.size, "size")
        pad = int(self.padding)
        if pad < 0:
            raise ValueError(f"padding must be >= 0; got {self.padding!r}.")
        n, _, h, w = x.shape
        if pad:
            x = F.pad(x, (pad, pad, pad, pad), value=self.fill)
        H, W = h + 2 * pad, w + 2 * pad
        if th > H or tw > W:
            raise ValueError(f"Crop size {(th, tw)} is larger than the padded image {(H, W)}.")
        dev = _draw_device(x, generator)
        i = torch.randint(0, H - th + 1, (n,), generator=generator, device=dev).to(x.device)
        j = torch.randint(0, W - tw + 1, (n,), generator=generator, device=dev).to(x.device)
        rows = (i[:, None] + torch.arange(th, device=x.device))[:, :, None]  # (n, th, 1)
        cols = (j[:, None] + torch.arange(tw, device=x.device))[:, None, :]  # (n, 1, tw)
        batch = torch.arange(n, device=x.device)[:, None, None]
        # advanced indices around a slice: the result is (n, th, tw, C)
        return x[batch, :, rows, cols].permute(0, 3, 1, 2).contiguous()


class RandomHorizontalFlip(BatchTransform):
    """Flip each image left-right with probability ``p``.

    Parameters
    ----------
    p : float, default=0.5

    Examples
    --------
    >>> import torch
    >>> from skcl.transforms import RandomHorizontalFlip
    >>> RandomHorizontalFlip(p=1.0)(torch.tensor([[[[1, 2, 3]]]])).tolist()
    [[[[3, 2, 1]]]]
    """

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        _check_images(x, "RandomHorizontalFlip")
        p = float(self.p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1]; got {self.p!r}.")
        dev = _draw_device(x, generator)
        flip = (torch.rand(len(x), generator=generator, device=dev) < p).to(x.device)
        return torch.where(flip[:, None, None, None], x.flip(-1), x)


class Normalize(BatchTransform):
    """Per-channel ``(x - mean) / std`` of a float batch.

    Parameters
    ----------
    mean, std : sequence of float (one per channel) or float

    Examples
    --------
    >>> import torch
    >>> from skcl.transforms import Normalize
    >>> Normalize(mean=(0.5, 1.0), std=(0.5, 2.0))(torch.ones(1, 2, 1, 1)).flatten().tolist()
    [1.0, 0.0]
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]):
        self.mean = mean
        self.std = std

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        _check_images(x, "Normalize")
        if not x.is_floating_point():
            raise TypeError(f"Normalize expects a float batch; got {x.dtype}. Put ToFloat() "
                            "before it (uint8 pixels become floats in [0, 1]).")
        # checked on the host values: no device synchronisation per minibatch
        mean_h = torch.as_tensor(self.mean, dtype=torch.float64).reshape(-1)
        std_h = torch.as_tensor(self.std, dtype=torch.float64).reshape(-1)
        if mean_h.numel() not in (1, x.shape[1]) or std_h.numel() not in (1, x.shape[1]):
            raise ValueError(f"mean and std need 1 or {x.shape[1]} values (one per channel); "
                             f"got {mean_h.numel()} and {std_h.numel()}.")
        if bool((std_h == 0).any()):
            raise ValueError("std must not contain zeros.")
        mean = mean_h.to(device=x.device, dtype=x.dtype).reshape(-1, 1, 1)
        std = std_h.to(device=x.device, dtype=x.dtype).reshape(-1, 1, 1)
        return (x - mean) / std


class ToFloat(BatchTransform):
    """Integer pixels (``uint8``) to ``float32`` in ``[0, 1]`` (divided by 255).

    Float input is returned unchanged (already converted), so the transform
    can sit at the start of every pipeline. Works on any tensor shape.

    Examples
    --------
    >>> import torch
    >>> from skcl.transforms import ToFloat
    >>> ToFloat()(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
    [0.0, 1.0]
    """

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if x.is_floating_point():
            return x
        return x.to(torch.float32).div_(255.0)


class Compose(BatchTransform):
    """Apply transforms in order, all drawing from the same generator.

    Parameters
    ----------
    transforms : list of callables
        skcl transforms get the generator; other callables (torchvision's)
        are called as ``t(x)`` (see :func:`apply_transform`).

    Examples
    --------
    >>> import torch
    >>> from skcl.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToFloat
    >>> aug = Compose([ToFloat(), RandomCrop(28, padding=4), RandomHorizontalFlip(),
    ...                Normalize(0.2860, 0.3530)])
    >>> x = torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8)
    >>> aug(x, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([8, 1, 28, 28])
    """

    def __init__(self, transforms: Sequence):
        self.transforms = transforms

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for t in self.transforms:
            x = apply_transform(t, x, generator)
        return x
