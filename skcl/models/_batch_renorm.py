"""Batch renormalization (Ioffe, NeurIPS 2017): batch norm that works with small minibatches."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BatchRenorm1d", "BatchRenorm2d"]


class _BatchRenorm(nn.Module):
    """Shared code of :class:`BatchRenorm1d` and :class:`BatchRenorm2d`.

    In training, with batch mean/std ``mu_B``/``sigma_B`` and running
    ``mu``/``sigma``::

        r = clip(sigma_B / sigma, 1/r_max, r_max)     (no gradient)
        d = clip((mu_B - mu) / sigma, -d_max, d_max)  (no gradient)
        y = gamma * ((x - mu_B) / sigma_B * r + d) + beta

    and the running statistics move by ``momentum``. ``r_max`` starts at 1 and
    ``d_max`` at 0 (plain batch norm) and both grow by ``r_d_max_inc_step`` per
    training sample seen, up to ``max_r_max`` and ``max_d_max``. In eval mode
    ``y = gamma * (x - mu) / sigma + beta``. All statistics (running mean and
    std, the current ``r_max``/``d_max``) are registered buffers, so they are in
    ``state_dict`` and survive pickling (Avalanche keeps them as plain
    attributes, see the reference's AR1 quirks).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.01,
                 affine: bool = True, max_r_max: float = 3.0, max_d_max: float = 5.0,
                 r_d_max_inc_step: float = 1e-4):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.max_r_max = max_r_max
        self.max_d_max = max_d_max
        self.r_d_max_inc_step = r_d_max_inc_step
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_std", torch.ones(num_features))
        self.register_buffer("r_max", torch.tensor(1.0))
        self.register_buffer("d_max", torch.tensor(0.0))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def _check_input(self, x: torch.Tensor) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _shape(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return t.view(1, -1, *([1] * (x.dim() - 2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        dims = tuple(i for i in range(x.dim()) if i != 1)
        if self.training:
            mean_b = x.mean(dim=dims)
            std_b = torch.sqrt(x.var(dim=dims, unbiased=False) + self.eps)
            with torch.no_grad():
                r = (std_b / self.running_std).clamp(1.0 / self.r_max, self.r_max)
                d = ((mean_b - self.running_mean) / self.running_std).clamp(
                    -self.d_max, self.d_max)
            x_hat = (x - self._shape(mean_b, x)) / self._shape(std_b, x)
            x_hat = x_hat * self._shape(r, x) + self._shape(d, x)
            with torch.no_grad():
                self.running_mean += self.momentum * (mean_b.detach() - self.running_mean)
                self.running_std += self.momentum * (std_b.detach() - self.running_std)
                self.num_batches_tracked += 1
                inc = self.r_d_max_inc_step * x.shape[0]
                self.r_max.copy_((self.r_max + inc).clamp(max=self.max_r_max))
                self.d_max.copy_((self.d_max + inc).clamp(max=self.max_d_max))
        else:
            x_hat = (x - self._shape(self.running_mean, x)) / self._shape(self.running_std, x)
        if self.affine:
            x_hat = x_hat * self._shape(self.weight, x) + self._shape(self.bias, x)
        return x_hat

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"max_r_max={self.max_r_max}, max_d_max={self.max_d_max}")


class BatchRenorm1d(_BatchRenorm):
    """Batch renormalization over (n, features) or (n, features, length) inputs.

    A drop-in replacement of :class:`torch.nn.BatchNorm1d` that stays reliable
    with small or non-i.i.d. minibatches (used by :class:`~skcl.strategies.AR1`).

    Parameters
    ----------
    num_features : int
    eps : float, default=1e-5
    momentum : float, default=0.01
        Update rate of the running mean and std.
    affine : bool, default=True
    max_r_max, max_d_max : float, default=3.0, 5.0
        Ceilings of the correction clips.
    r_d_max_inc_step : float, default=1e-4
        Growth of ``r_max`` and ``d_max`` per training sample.

    Examples
    --------
    >>> import torch
    >>> from skcl.models import BatchRenorm1d
    >>> brn = BatchRenorm1d(3)
    >>> out = brn(torch.randn(8, 3))
    >>> out.shape, sorted(k for k, _ in brn.named_buffers())[:2]
    (torch.Size([8, 3]), ['d_max', 'num_batches_tracked'])
    """

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() not in (2, 3):
            raise ValueError(f"BatchRenorm1d expects 2D or 3D input; got {x.dim()}D.")


class BatchRenorm2d(_BatchRenorm):
    """Batch renormalization over (n, channels, h, w) inputs.

    Same parameters as :class:`BatchRenorm1d`.

    Examples
    --------
    >>> import torch
    >>> from skcl.models import BatchRenorm2d
    >>> BatchRenorm2d(4)(torch.randn(2, 4, 5, 5)).shape
    torch.Size([2, 4, 5, 5])
    """

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 4:
            raise ValueError(f"BatchRenorm2d expects 4D input; got {x.dim()}D.")
