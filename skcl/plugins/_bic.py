"""`BiCPlugin`: bias correction for class-incremental learning (BiC)."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from skcl.buffers import ClassBalancedBuffer
from skcl.plugins._base import StrategyPlugin
from skcl.utils import Interval, eval_mode

__all__ = ["BiCPlugin", "bic_distillation"]


def bic_distillation(student: torch.Tensor, teacher: torch.Tensor,
                     temperature: float = 2.0) -> torch.Tensor:
    """BiC's distillation term over the old-class logits, times ``T**2``.

    ``T**2 * mean_i sum_k -softmax(teacher_i / T)_k log softmax(student_i / T)_k``
    (a per-sample softmax over the classes; the ``T**2`` keeps the gradient
    scale independent of ``T``, as in Mammoth).

    Examples
    --------
    >>> import torch
    >>> from skcl.plugins._bic import bic_distillation
    >>> s = torch.zeros(1, 2); t = torch.zeros(1, 2)
    >>> round(bic_distillation(s, t, 1.0).item(), 4)   # log 2
    0.6931
    """
    target = F.softmax(teacher / temperature, dim=1)
    return -(target * F.log_softmax(student / temperature, dim=1)).sum(dim=1).mean() \
        * temperature ** 2


def _forward(module: torch.nn.Module, inputs: dict, device) -> torch.Tensor:
    x = inputs["x"].to(device)
    if getattr(module, "is_multi_task", False):
        return module(x, inputs["task_labels"].to(device))
    return module(x)


class BiCPlugin(StrategyPlugin):
    """Bias correction, BiC (Wu et al., CVPR 2019).

    The memory of ``mem_size`` exemplars is split into a training part and a
    held-out, class-balanced validation part (``val_percentage`` of it, never
    trained on in stage 1). For each experience:

    1. **Training** on the current data (less the samples held out for
       validation: as many per class as the validation memory will hold per
       class) joined with the training memory, with the loss
       ``lam * L_d + (1 - lam) * L_c``: ``L_c`` the cross-entropy over all
       logits, ``L_d`` the distillation (:func:`bic_distillation`,
       temperature ``T``) of the old-class logits towards a frozen copy of
       the model before the experience, whose outputs get the previous bias
       correction. ``lam = n_old / (n_old + n_new)`` (the paper's; Mammoth
       uses ``1 / (t + 1)``) unless ``lamb`` is given.
    2. **Bias correction** (when there were old classes): with the model
       frozen, two parameters ``a, b`` (initialised 1 and 0) act on the
       logits of the experience's new classes, ``q = a * o + b``, and are
       fit with the cross-entropy on the validation memory (full batch, Adam,
       ``bias_epochs`` steps of ``bias_lr``; the logits are computed once, on
       the memory passed through the strategy's ``eval_transform`` as at predict
       time).
       At predict time the latest correction is applied.

    Both memories are class-balanced reservoirs (random selection, not
    iCaRL's herding). BiC needs experience boundaries; online, every small
    experience is one.

    Parameters
    ----------
    mem_size : int, default=2000
        Total memory (training + validation parts).
    val_percentage : float, default=0.1
        Share of the memory held out for the bias correction.
    temperature : float, default=2.0
    lamb : float or None, default=None
        Weight of the distillation term; ``None``: ``n_old / n_all``.
    bias_epochs : int, default=200
    bias_lr : float, default=0.01

    Attributes
    ----------
    train_memory_, val_memory_ : ClassBalancedBuffer
    bias_ : tuple of float
        ``(a, b)`` of the latest correction.
    bias_units_ : ndarray of int64
        The output units it acts on (the last experience's new classes).

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import BiCPlugin
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[BiCPlugin(mem_size=200)], lr=0.1, max_epochs=2, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> bic = net.named_plugins_["bic"]
    >>> len(bic.val_memory_), bic.bias_units_.tolist()
    (20, [8, 9])
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "mem_size": [Interval("int", 2, None)],
        "val_percentage": [Interval("real", 0, 1, closed="right")],
        "temperature": [Interval("real", 0, None, closed="neither")],
        "lamb": [None, Interval("real", 0, 1, closed="both")],
        "bias_epochs": [Interval("int", 0, None)],
        "bias_lr": [Interval("real", 0, None, closed="neither")],
    }

    def __init__(self, mem_size: int = 2000, val_percentage: float = 0.1,
                 temperature: float = 2.0, lamb: float | None = None, bias_epochs: int = 200,
                 bias_lr: float = 0.01):
        self.mem_size = mem_size
        self.val_percentage = val_percentage
        self.temperature = temperature
        self.lamb = lamb
        self.bias_epochs = bias_epochs
        self.bias_lr = bias_lr

    def _sizes(self) -> tuple[int, int]:
        val = min(max(1, int(round(self.mem_size * self.val_percentage))), self.mem_size - 1)
        return self.mem_size - val, val

    def _seed(self) -> int:
        return int(self.rng_.integers(np.iinfo(np.int32).max))

    def before_training_exp(self, strategy, experience) -> None:
        n_train, n_val = self._sizes()
        if not hasattr(self, "train_memory_"):
            self.train_memory_ = ClassBalancedBuffer(n_train, random_state=self._seed())
            self.val_memory_ = ClassBalancedBuffer(n_val, random_state=self._seed())
            self.bias_ = (1.0, 0.0)
            self.bias_units_ = np.zeros(0, dtype=np.int64)
        else:
            if self.train_memory_.max_size != n_train:
                self.train_memory_.resize(n_train)
            if self.val_memory_.max_size != n_val:
                self.val_memory_.resize(n_val)
        self.old_units_ = np.asarray(strategy.trained_units_, dtype=np.int64)
        self.teacher_ = None
        if len(self.old_units_):
            teacher = copy.deepcopy(strategy.module_)
            teacher.eval()
            for p in teacher.parameters():
                p.requires_grad_(False)
            self.teacher_ = teacher
        self.teacher_bias_ = (self.bias_, self.bias_units_)

    def adapt_train_data(self, strategy, data):
        y = data.y.numpy()
        classes = np.unique(y)
        n_classes = len(np.union1d(self.old_units_, classes))
        per_class = self._sizes()[1] // max(n_classes, 1)
        held = []
        for c in classes:
            idx = np.flatnonzero(y == c)
            k = min(per_class, len(idx) - 1)
            if k > 0:
                held.append(self.rng_.choice(idx, size=k, replace=False))
        held = np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=np.int64)
        rest = np.setdiff1d(np.arange(len(y)), held)
        self.val_new_ = data.subset(held)
        self.train_new_ = data.subset(rest)
        n_all = len(np.union1d(self.old_units_, classes))
        self.lambda_ = (float(self.lamb) if self.lamb is not None
                        else len(self.old_units_) / max(n_all, 1))
        self.new_units_ = np.setdiff1d(classes, self.old_units_)
        out = self.train_new_
        mem = self.train_memory_
        if len(mem):
            out = out.concat(type(data)(mem.X_, mem.y_, mem.task_labels_))
        return out

    def _teacher_logits(self, strategy, inputs) -> torch.Tensor:
        with torch.no_grad():
            out = _forward(self.teacher_, inputs, strategy.device)
            (a, b), units = self.teacher_bias_
            if len(units):
                out = out.clone()
                u = torch.as_tensor(units, device=out.device)
                out[:, u] = a * out[:, u] + b
        return out

    def compute_loss(self, strategy, y_pred, y_true, inputs):
        y_true = y_true.to(y_pred.device)
        ce = strategy.criterion_(y_pred, y_true)
        if self.teacher_ is None or self.lambda_ == 0:
            return ce
        old = torch.as_tensor(self.old_units_, device=y_pred.device)
        kd = bic_distillation(y_pred[:, old], self._teacher_logits(strategy, inputs)[:, old],
                              self.temperature)
        return self.lambda_ * kd + (1.0 - self.lambda_) * ce

    def after_training_exp(self, strategy, experience) -> None:
        kw = {"experience": strategy.n_experiences_}
        if len(self.train_new_):
            self.train_memory_.partial_fit(self.train_new_.X, self.train_new_.y,
                                           task_labels=self.train_new_.task_labels, **kw)
        if len(self.val_new_):
            self.val_memory_.partial_fit(self.val_new_.X, self.val_new_.y,
                                         task_labels=self.val_new_.task_labels, **kw)
        if self.teacher_ is not None and len(self.new_units_) and len(self.val_memory_):
            self.bias_ = self._fit_bias(strategy, self.new_units_)
            self.bias_units_ = self.new_units_.astype(np.int64)
        self.teacher_ = None
        self.train_new_ = self.val_new_ = None

    def _fit_bias(self, strategy, units: np.ndarray) -> tuple[float, float]:
        mem = self.val_memory_
        with eval_mode(strategy.module_):
            logits = torch.cat([
                _forward(strategy.module_,
                         {"x": strategy.transform_inputs(mem.X_[i:i + 256], training=False),
                          "task_labels": mem.task_labels_[i:i + 256]},
                         strategy.device)
                for i in range(0, len(mem), 256)]).float()
        y = mem.y_.to(logits.device)
        new = torch.zeros(logits.shape[1], dtype=torch.bool, device=logits.device)
        new[torch.as_tensor(units, device=logits.device)] = True
        params = torch.tensor([1.0, 0.0], device=logits.device, requires_grad=True)
        opt = torch.optim.Adam([params], lr=self.bias_lr)
        with torch.enable_grad():
            for _ in range(self.bias_epochs):
                opt.zero_grad()
                q = torch.where(new, params[0] * logits + params[1], logits)
                F.cross_entropy(q, y).backward()
                opt.step()
        a, b = params.detach().tolist()
        return float(a), float(b)

    def adapt_eval_output(self, strategy, inputs, output):
        units = self.bias_units_
        if not len(units):
            return output
        a, b = self.bias_
        out = output.clone()
        u = torch.as_tensor(units[units < out.shape[1]], device=out.device)
        out[:, u] = a * out[:, u] + b
        return out
