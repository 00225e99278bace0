"""`DERPlugin`: dark experience replay (DER and DER++), plus the online rehearsal base."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from skcl.buffers import ReservoirSamplingBuffer
from skcl.plugins._base import StrategyPlugin
from skcl.transforms import apply_transform
from skcl.utils import Interval, eval_mode
from skcl.utils._data import make_batch

__all__ = ["DERPlugin", "DERPlusPlusPlugin", "OnlineRehearsalPlugin"]


class OnlineRehearsalPlugin(StrategyPlugin):
    """Base of the task-free rehearsal plugins (DER, ER-ACE, MIR, SCR).

    A reservoir buffer (:class:`~skcl.buffers.ReservoirSamplingBuffer`) is
    updated after every optimizer step with the minibatch just trained on
    (its inputs as this plugin saw them in ``adapt_batch``, i.e. before a
    later :class:`~skcl.plugins.TransformPlugin` augments them, encoded
    labels, task labels and the
    per-sample fields given by :meth:`_fields`), as in Mammoth and the
    authors' code. Replay therefore starts inside the first experience, and
    the plugin works online (one pass over small experiences) as well as
    offline (epochs over an experience; every epoch offers its minibatches
    again).

    The minibatches are offered to the memory in groups of ``update_every``
    optimizer steps (and at the end of each experience), one buffer update
    per group: a trained sample can be replayed from at most
    ``update_every`` steps later, and the memory is still a uniform reservoir
    sample of every sample trained on. ``update_every=1`` updates after every
    step (Mammoth's schedule) at ~0.5 ms per step on a CPU.

    Parameters
    ----------
    mem_size : int, default=200
        Total buffer size (not per class).
    batch_size_mem : int or None, default=None
        Replayed samples per draw; ``None`` uses the current minibatch size.
    transform : callable or None, default=None
        Augmentation applied to replayed inputs (``t(x, generator=g)`` for
        :mod:`skcl.transforms`); the buffer keeps the inputs unaugmented.
    update_every : int, default=8
        Optimizer steps between memory updates.

    Attributes
    ----------
    storage_ : ReservoirSamplingBuffer
        The memory (labels are output-unit indices).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "mem_size": [Interval("int", 1, None)],
        "batch_size_mem": [None, Interval("int", 1, None)],
        "transform": [None, "callable"],
        "update_every": [Interval("int", 1, None)],
    }

    def __init__(self, mem_size: int = 200, batch_size_mem: int | None = None,
                 transform=None, update_every: int = 8):
        self.mem_size = mem_size
        self.batch_size_mem = batch_size_mem
        self.transform = transform
        self.update_every = update_every

    def before_training_exp(self, strategy, experience) -> None:
        if not hasattr(self, "storage_"):
            self.storage_ = ReservoirSamplingBuffer(
                self.mem_size, random_state=int(self.rng_.integers(np.iinfo(np.int32).max)))
            self.torch_generator_ = torch.Generator().manual_seed(
                int(self.rng_.integers(np.iinfo(np.int32).max)))
        elif self.storage_.max_size != self.mem_size:  # changed by set_params
            self.storage_.resize(self.mem_size)

    # -- memory ------------------------------------------------------------
    def _n_mem(self, batch_len: int) -> int:
        return int(self.batch_size_mem or batch_len)

    def _draw_index(self, n: int) -> torch.Tensor | None:
        """Memory rows of ``min(n, len(memory))`` exemplars drawn without replacement (on
        the memory's device), or ``None`` when the memory is empty."""
        storage = getattr(self, "storage_", None)
        if storage is None or len(storage) == 0 or n == 0:
            return None
        idx = torch.from_numpy(self.rng_.choice(len(storage), size=min(n, len(storage)),
                                                replace=False))
        return idx.to(_device_of(storage.X_))

    def _gather(self, idx: torch.Tensor):
        """``(inputs, y, fields)`` of the memory rows ``idx``."""
        storage = self.storage_
        inputs = {"x": _take_rows(storage.X_, idx),
                  "task_labels": _take_rows(storage.task_labels_, idx)}
        return inputs, _take_rows(storage.y_, idx), {
            k: _take_rows(v, idx) for k, v in storage.fields_.items()}

    def _draw(self, n: int):
        """``(inputs, y, fields)`` of ``min(n, len(memory))`` exemplars drawn without
        replacement, or ``None`` when the memory is empty."""
        idx = self._draw_index(n)
        return None if idx is None else self._gather(idx)

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        return apply_transform(self.transform, x, generator=self.torch_generator_)

    def _forward(self, strategy, inputs: dict, augment: bool = True) -> torch.Tensor:
        if augment and self.transform is not None:
            inputs = {**inputs, "x": self._augment(inputs["x"])}
        return strategy.infer(inputs)

    def _fields(self, strategy, batch) -> dict | None:
        """Extra per-sample fields stored with the incoming minibatch."""
        return None

    def _replay_parts(self, strategy, n: int) -> list:
        """``(tag, rows)`` memory draws (:meth:`_draw_index`) appended to the incoming
        minibatch (one forward pass for all); a ``None`` draw (empty memory) is skipped."""
        return []

    def adapt_batch(self, strategy, batch):
        # the incoming samples before any later plugin augments them (TransformPlugin) or
        # appends to them: those are what the memory stores
        inputs, y = batch
        self.incoming_ = (inputs["x"], y, inputs["task_labels"])
        parts = [(tag, idx) for tag, idx in self._replay_parts(strategy, len(y))
                 if idx is not None]
        # (tag, size, rows) of each draw, in the order they follow the incoming samples
        self.parts_ = [(tag, len(idx), idx) for tag, idx in parts]
        if not parts:
            return batch
        # one gather and one concatenation for all the draws (this runs every step)
        storage = self.storage_
        rows = parts[0][1] if len(parts) == 1 else torch.cat([idx for _, idx in parts])
        if self.transform is None:
            x_mem = _take_rows(storage.X_, rows)
        else:  # each draw augmented on its own, in draw order (the generator's sequence)
            x_mem = torch.cat([self._augment(_take_rows(storage.X_, idx)) for _, idx in parts])
        x0, t0 = inputs["x"], inputs["task_labels"]
        return make_batch(
            torch.cat([x0, x_mem.to(x0.device, x0.dtype)]),
            torch.cat([y, _take_rows(storage.y_, rows).to(y.device)]),
            torch.cat([t0, _take_rows(storage.task_labels_, rows).to(t0.device)]))

    def _part_field(self, name: str, rows: torch.Tensor) -> torch.Tensor:
        """The stored field ``name`` of the memory rows ``rows`` (a draw of this step)."""
        return _take_rows(self.storage_.fields_[name], rows)

    def after_training_iteration(self, strategy, batch) -> None:
        x, y, t = self.incoming_
        self.incoming_ = None
        pending = getattr(self, "pending_", None) or []
        pending.append((x.detach(), y, t, self._fields(strategy, batch)))
        self.pending_ = pending
        if len(pending) >= self.update_every:
            self._flush(strategy)

    def _flush(self, strategy) -> None:
        """Offer the minibatches trained since the last update to the memory, in one call."""
        pending = getattr(self, "pending_", None)
        if not pending:
            return
        fields = pending[0][3] or {}
        self.storage_.partial_fit(
            torch.cat([p[0] for p in pending]), torch.cat([p[1] for p in pending]),
            task_labels=torch.cat([p[2] for p in pending]), experience=strategy.n_experiences_,
            fields={k: torch.cat([p[3][k] for p in pending]) for k in fields} or None)
        self.pending_ = []

    def after_training_exp(self, strategy, experience) -> None:
        self._flush(strategy)


def _mse_known(out: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the logits known at insertion time (non-NaN entries)."""
    if out.shape[1] != z.shape[1]:  # (slices only when needed: this runs every step)
        width = min(out.shape[1], z.shape[1])
        out, z = out[:, :width], z[:, :width]
    z = z.to(out.dtype)
    if not bool(torch.isnan(z).any()):
        return torch.nn.functional.mse_loss(out, z)
    known = ~torch.isnan(z)
    diff = torch.where(known, out - torch.nan_to_num(z), torch.zeros_like(out))
    return diff.pow(2).sum() / known.sum().clamp(min=1)


class DERPlugin(OnlineRehearsalPlugin):
    """Dark experience replay, DER and DER++ (Buzzega et al., NeurIPS 2020).

    The reservoir memory holds each trained sample's input (unaugmented),
    label and the logits the network gave it in the training forward pass
    (before the optimizer step, detached). The loss (this plugin replaces
    the criterion) is ``CE(f(x), y)`` on the incoming minibatch plus

    * ``alpha * mse(f(x1), z1)`` on a replayed minibatch ``(x1, z1)``
      (``F.mse_loss``: the mean over samples *and* logits, as in Mammoth), and
    * for DER++ (``beta > 0``), ``beta * CE(f(x2), y2)`` on a second,
      independent draw ``(x2, y2)``.

    The two draws are appended to the incoming minibatch in ``adapt_batch``,
    so one forward and one backward pass cover all three parts (Avalanche
    does the same; Mammoth runs three passes, which differs only for
    batch-norm statistics). Other plugins see the extended minibatch, as
    with :class:`~skcl.plugins.ReplayPlugin`.

    The paper assumes a head of fixed size (here: ``classes=`` given up
    front). With a growing head, when new output units appear (at the start
    of an experience) each stored sample's logits are extended with the
    model's outputs for the new units before they are trained, the values a
    fixed head would hold for never-trained units; the regression then keeps
    new units low on old samples (without it DER forgets everything). Units
    added in any other way are left out of the mean (stored as NaN). The
    memory is updated after every optimizer step, so the method is task-free
    and works online.

    Parameters
    ----------
    mem_size : int, default=200
    batch_size_mem : int or None, default=None
        Size of each replay draw (default: the current minibatch size).
    alpha : float, default=0.5
        Weight of the logit-matching (MSE) term.
    beta : float, default=0.0
        Weight of the replayed cross-entropy term; ``> 0`` gives DER++.
    transform : callable or None, default=None
        Augmentation of replayed inputs.
    update_every : int, default=8
        Optimizer steps between memory updates (see
        :class:`OnlineRehearsalPlugin`).

    Attributes
    ----------
    storage_ : ReservoirSamplingBuffer
        Memory with the field ``"logits"``.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import DERPlugin
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[DERPlugin(mem_size=100, alpha=0.5, beta=0.5)], lr=0.1,
    ...             random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> memory = net.named_plugins_["der"].storage_
    >>> len(memory), tuple(memory.fields_["logits"].shape)
    (100, (100, 10))
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "alpha": [Interval("real", 0, None)],
        "beta": [Interval("real", 0, None)],
    }

    def __init__(self, mem_size: int = 200, batch_size_mem: int | None = None,
                 alpha: float = 0.5, beta: float = 0.0, transform=None, update_every: int = 8):
        super().__init__(mem_size, batch_size_mem, transform, update_every)
        self.alpha = alpha
        self.beta = beta

    def before_training_exp(self, strategy, experience) -> None:
        super().before_training_exp(strategy, experience)
        storage = self.storage_
        if len(storage) == 0 or "logits" not in storage.fields_:
            return
        stored = storage.fields_["logits"]
        with eval_mode(strategy.module_):
            width = strategy.infer({"x": storage.X_[:1],
                                    "task_labels": storage.task_labels_[:1]}).shape[1]
            if width <= stored.shape[1]:
                return
        # the head grew: a never-trained unit scores a stored sample as low as its least
        # likely known class did at insertion (as a head of fixed size trained with softmax
        # cross-entropy pushes the units of classes not yet seen down)
        low = torch.nan_to_num(stored, nan=float("inf")).min(dim=1, keepdim=True).values
        fill = low.expand(len(stored), width - stored.shape[1])
        storage.set_field("logits", torch.cat([stored, fill], dim=1))

    def after_forward(self, strategy, y_pred, y_true, inputs) -> None:
        self.logits_ = y_pred[:len(self.incoming_[1])].detach()

    def _replay_parts(self, strategy, n: int) -> list:
        m = self._n_mem(n)
        return [("logits", self._draw_index(m) if self.alpha > 0 else None),
                ("labels", self._draw_index(m) if self.beta > 0 else None)]

    def compute_loss(self, strategy, y_pred, y_true, inputs):
        n = len(self.incoming_[1])
        y_true = y_true.to(y_pred.device)
        loss = strategy.criterion_(y_pred[:n], y_true[:n])
        start = n
        for tag, m, rows in self.parts_:
            out = y_pred[start:start + m]
            if tag == "logits":
                z = self._part_field("logits", rows)
                loss = loss + self.alpha * _mse_known(out, z.to(out.device))
            else:
                loss = loss + self.beta * strategy.criterion_(out, y_true[start:start + m])
            start += m
        return loss

    def _fields(self, strategy, batch) -> dict:
        z = self.logits_.float()
        self.logits_ = None
        stored = self.storage_.fields_.get("logits") if hasattr(self.storage_, "X_") else None
        if stored is not None and stored.shape[1] != z.shape[1]:
            width = max(stored.shape[1], z.shape[1])
            if stored.shape[1] < width:  # the head grew: older logits of new units unknown
                self.storage_.set_field("logits", _pad_nan(stored, width))
            z = _pad_nan(z, width)
        return {"logits": z}


class DERPlusPlusPlugin(DERPlugin):
    """DER++: :class:`DERPlugin` with the replayed cross-entropy on by default (``beta=0.5``).

    Examples
    --------
    >>> from skcl.plugins import DERPlusPlusPlugin
    >>> DERPlusPlusPlugin().beta
    0.5
    """

    def __init__(self, mem_size: int = 200, batch_size_mem: int | None = None,
                 alpha: float = 0.5, beta: float = 0.5, transform=None, update_every: int = 8):
        super().__init__(mem_size, batch_size_mem, alpha, beta, transform, update_every)


def _pad_nan(z: torch.Tensor, width: int) -> torch.Tensor:
    if z.shape[1] >= width:
        return z
    pad = torch.full((z.shape[0], width - z.shape[1]), float("nan"), dtype=z.dtype,
                     device=z.device)
    return torch.cat([z, pad], dim=1)


def _device_of(x) -> torch.device:
    return x.device if isinstance(x, torch.Tensor) else torch.device("cpu")


def _take_rows(x, idx: torch.Tensor):
    """``x[idx]`` along the first axis; ``index_select`` for tensors (a third of advanced
    indexing's cost on a CPU for small draws, the same values)."""
    if isinstance(x, torch.Tensor):
        return x.index_select(0, idx)
    return x[idx]
