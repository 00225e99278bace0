"""Small PyTorch helpers shared by strategies, plugins and selection strategies."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

import torch

__all__ = ["ModuleState", "eval_mode"]


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


class ModuleState:
    """A restorable record of a module: its structure and the values of its tensors.

    Cheaper than ``copy.deepcopy`` (which walks every hook dictionary of every
    sub-module): it keeps each sub-module's attribute dictionary one level
    deep (so replaced children, e.g. a grown output layer, come back) and a
    clone of every parameter and buffer. :meth:`restore` puts all of it back
    into the same objects, so references held elsewhere stay valid.

    Examples
    --------
    >>> import torch
    >>> from skcl.utils import ModuleState
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2))
    >>> state = ModuleState(net)
    >>> with torch.no_grad():
    ...     _ = net[0].weight.add_(1.0)
    >>> net[0] = torch.nn.Linear(2, 5)
    >>> state.restore()
    >>> net[0].out_features, torch.equal(net[0].weight, state.tensors[0][1])
    (2, True)
    """

    def __init__(self, module: torch.nn.Module):
        self.records = []
        tensors: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        for m in module.modules():
            attrs = {k: (v.copy() if isinstance(v, (dict, set, list)) else v)
                     for k, v in vars(m).items()}
            self.records.append((m, attrs))
            for t in itertools.chain(m._parameters.values(), m._buffers.values()):
                if t is not None and id(t) not in tensors:
                    tensors[id(t)] = (t, t.detach().clone())
        self.tensors = list(tensors.values())

    def memo(self) -> dict[int, object]:
        """A ``copy.deepcopy`` memo mapping the module's objects to themselves.

        Deep-copying other state with it keeps references to the live module.
        """
        memo: dict[int, object] = {id(m): m for m, _ in self.records}
        memo.update((id(t), t) for t, _ in self.tensors)
        return memo

    def restore(self) -> None:
        for m, attrs in self.records:
            vars(m).clear()
            vars(m).update(attrs)
        with torch.no_grad():
            for t, saved in self.tensors:
                if t.shape == saved.shape:
                    t.copy_(saved)
                else:
                    t.data = saved
