"""Small PyTorch helpers shared by strategies, plugins and selection strategies."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["eval_mode"]


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module, no_grad: bool = True) -> Iterator[torch.nn.Module]:
    """Run a block with ``module`` in eval mode, then restore every submodule's own mode.

    Restoring each submodule (not just calling ``module.train(previous)``) keeps
    the layers a plugin froze in eval mode (CWR*, AR1) as they were.

    Examples
    --------
    >>> import torch
    >>> from skcl.utils import eval_mode
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout())
    >>> net[1].eval()
    Dropout(p=0.5, inplace=False)
    >>> with eval_mode(net):
    ...     net.training
    False
    >>> net.training, net[1].training
    (True, False)
    """
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with torch.no_grad() if no_grad else contextlib.nullcontext():
            yield module
    finally:
        for m, training in modes:
            m.training = training
