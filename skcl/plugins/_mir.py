"""`MIRPlugin`: maximally interfered retrieval (MIR)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch.func import functional_call

from skcl.plugins._der import OnlineRehearsalPlugin
from skcl.utils import Interval, eval_mode

__all__ = ["MIRPlugin", "virtual_sgd_params"]


def virtual_sgd_params(module: torch.nn.Module, loss: torch.Tensor, lr: float) -> dict:
    """``{name: p - lr * dloss/dp}`` for the trainable parameters: a virtual SGD step.

    The gradient comes from :func:`torch.autograd.grad` with the graph kept, so
    nothing is written to ``.grad``, to the parameters or to any optimizer.

    Examples
    --------
    >>> import torch
    >>> from skcl.plugins._mir import virtual_sgd_params
    >>> lin = torch.nn.Linear(1, 1, bias=False)
    >>> _ = torch.nn.init.constant_(lin.weight, 2.0)
    >>> loss = (lin(torch.tensor([[3.0]])) ** 2).sum()   # d/dw (3w)^2 = 18 w = 36
    >>> virtual_sgd_params(lin, loss, lr=0.1)["weight"].item()   # 2 - 0.1 * 36
    -1.6000001430511475
    >>> lin.weight.item(), lin.weight.grad
    (2.0, None)
    """
    named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, [p for _, p in named], retain_graph=True,
                                allow_unused=True)
    return {n: (p if g is None else p - lr * g).detach()
            for (n, p), g in zip(named, grads, strict=True)}


class MIRPlugin(OnlineRehearsalPlugin):
    """Maximally interfered retrieval (Aljundi et al., NeurIPS 2019).

    At each step, ``subsample`` candidates are drawn from a reservoir memory.
    A *virtual* plain-SGD step on the incoming minibatch's loss (learning
    rate: the optimizer's current one) gives parameters ``θv``; the
    candidates whose loss increases most from ``θ`` to ``θv`` (the most
    "interfered") are replayed: their cross-entropy is added to the loss,
    so one backward pass and one real optimizer step cover incoming and
    replayed samples, as in the authors' code. The virtual step goes through
    :func:`torch.func.functional_call` with ``θ - lr * grad``: the real
    parameters, their ``.grad`` and the optimizer's state (momentum, Adam
    moments) are never touched. The candidates are scored in eval mode (no
    batch-norm statistics drift), without gradients. Candidates come from
    the whole memory (the task-free variant). The memory is updated after
    every step, so the method works online and offline.

    Parameters
    ----------
    mem_size : int, default=200
    batch_size_mem : int or None, default=None
        Replayed samples per step, the top of the ranking (default: the
        current minibatch size).
    subsample : int, default=50
        Candidates scored per step (C in the paper).
    transform : callable or None, default=None
        Augmentation of the replayed inputs (not of the scoring passes). The
        strategy's ``train_transform`` applies to both, after this one: the
        candidates are scored and replayed as the model trains on them.
    update_every : int, default=8
        Optimizer steps between memory updates (see
        :class:`~skcl.plugins.OnlineRehearsalPlugin`).

    Attributes
    ----------
    storage_ : ReservoirSamplingBuffer
    last_scores_ : Tensor or None
        The interference scores of the last step's candidates.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import MIRPlugin
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[MIRPlugin(mem_size=100, subsample=30)], lr=0.1,
    ...             batch_size=10, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.named_plugins_["mir"].last_scores_.shape
    torch.Size([30])
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "subsample": [Interval("int", 1, None)]}

    def __init__(self, mem_size: int = 200, batch_size_mem: int | None = None,
                 subsample: int = 50, transform=None, update_every: int = 8):
        super().__init__(mem_size, batch_size_mem, transform, update_every)
        self.subsample = subsample

    def _call(self, strategy, params: dict | None, inputs: dict) -> torch.Tensor:
        module = strategy.module_
        x = inputs["x"].to(strategy.device)
        args = (x, inputs["task_labels"].to(strategy.device)) if getattr(
            module, "is_multi_task", False) else (x,)
        if params is None:
            return module(*args)
        return functional_call(module, params, args)

    def interference_scores(self, strategy, loss_in: torch.Tensor, inputs: dict,
                            y: torch.Tensor) -> torch.Tensor:
        """Loss increase of each candidate ``(inputs, y)`` after a virtual SGD step on ``loss_in``.
        """
        lr = float(strategy.optimizer_.param_groups[0]["lr"])
        virtual = virtual_sgd_params(strategy.module_, loss_in, lr)
        y = y.to(strategy.device)
        with eval_mode(strategy.module_):
            ce = torch.nn.functional.cross_entropy
            pre = ce(self._call(strategy, None, inputs), y, reduction="none")
            post = ce(self._call(strategy, virtual, inputs), y, reduction="none")
        return post - pre

    def penalty(self, strategy, y_pred, y_true, inputs):
        cand = self._draw(self.subsample)
        if cand is None:
            self.last_scores_ = None
            return None
        x, y, _ = cand
        loss_in = strategy.criterion_(y_pred, y_true.to(y_pred.device))
        # candidates are scored as the model trains on them: through train_transform
        seen = {**x, "x": strategy.transform_inputs(x["x"], training=True)}
        scores = self.interference_scores(strategy, loss_in, seen, y)
        self.last_scores_ = scores.detach().cpu()
        k = min(self._n_mem(len(y_true)), len(scores))
        top = torch.topk(scores, k).indices.cpu()
        if self.transform is None:  # the replay is the scored view
            x_top = seen["x"][top.to(seen["x"].device)]
        else:  # augmented afresh, then train_transform, as the incoming samples are
            x_top = strategy.transform_inputs(self._augment(x["x"][top]), training=True)
        replay = {"x": x_top, "task_labels": x["task_labels"][top]}
        return strategy.criterion_(strategy.infer(replay), y[top].to(y_pred.device))
