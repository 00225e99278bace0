"""`LatentReplayPlugin`: AR1's latent replay (Pellegrini et al., IROS 2020)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from skcl.models._batch_renorm import _BatchRenorm
from skcl.plugins._base import StrategyPlugin
from skcl.plugins._cwr_star import freeze_modules
from skcl.utils import Interval, TrainData, eval_mode

__all__ = ["LatentReplayPlugin"]


def _below(module: nn.Module, name: str) -> list[nn.Module]:
    """The layer ``name`` and every module registered before it (its ancestors excluded)."""
    out = []
    for n, m in module.named_modules():
        if n == "" or name.startswith(n + "."):
            continue  # ancestors
        out.append(m)
        if n == name:
            out.extend(m.modules())
            return out
    raise ValueError(f"AR1: no layer named {name!r}; known names: "
                     f"{[n for n, _ in module.named_modules() if n]}.")


class LatentReplayPlugin(StrategyPlugin):
    """AR1's latent replay: a memory of activations of a latent layer, replayed in each batch.

    The layers up to ``latent_layer_name`` (in registration order, the
    execution order of a sequential network) train on the first experience
    only and are frozen after it (no gradients, eval mode, so batch-renorm
    statistics stop moving too), which keeps the stored activations valid.
    After each experience ``t`` (0-based), ``h = min(rm_sz // (t + 1), n)``
    random samples of the experience are passed through the (now frozen)
    lower layers; their activations and labels fill the memory (``t = 0``) or
    overwrite ``h`` random slots. In later experiences each minibatch holds
    ``n_cur // ((n_cur + len(memory)) // batch_size)`` current samples and is
    topped up to ``batch_size`` with stored activations, which enter the
    network at the latent layer.

    Differences from Avalanche: the activations are computed by an eval-mode
    forward pass after the experience instead of being collected during the
    first training epoch, so each stored activation is exactly what the frozen
    lower layers compute for its stored input, with that input's own label
    (Avalanche reads the labels by loader position, which a shuffled loader
    mismatches); the lower layers are fully frozen after the first experience.

    Parameters
    ----------
    latent_layer_name : str, default="lat_features"
    rm_sz : int, default=1500
        Memory size (activations).
    inc_lr : float, default=5e-5
        Learning rate from the second experience on (a new optimizer).
    init_update_rate, inc_update_rate : float, default=0.01, 5e-5
        Batch-renorm momentum in the first and in later experiences.
    max_r_max, max_d_max : float, default=1.25, 0.5
        Batch-renorm clip ceilings (fixed from the second experience on).
    inc_step : float, default=4.1e-5
        Growth of r_max/d_max per sample in the first experience.

    Attributes
    ----------
    rm_acts_ : Tensor of shape (n_stored, ...)
        Stored latent activations.
    rm_y_ : Tensor of shape (n_stored,)
        Their labels (output-unit indices).
    rm_source_ : ndarray of shape (n_stored, 2)
        (experience index, sample index in that experience's training data)
        of each stored activation.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import AR1
    >>> train, _ = split_digits(n_experiences=5, random_state=0)
    >>> net = AR1(lr=0.05, inc_lr=0.01, batch_size=32, max_epochs=1, rm_sz=60, random_state=0)
    >>> for exp in train[:2]:
    ...     _ = net.partial_fit(exp)
    >>> plugin = net.named_plugins_["latent_replay"]  # a LatentReplayPlugin
    >>> len(plugin.rm_y_), plugin.rm_acts_.shape[0]
    (60, 60)
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "latent_layer_name": ["string"],
        "rm_sz": [Interval("int", 0, None)],
        "inc_lr": [Interval("real", 0, None, closed="neither")],
        "init_update_rate": [Interval("real", 0, 1, closed="both")],
        "inc_update_rate": [Interval("real", 0, 1, closed="both")],
        "max_r_max": [Interval("real", 1, None)],
        "max_d_max": [Interval("real", 0, None)],
        "inc_step": [Interval("real", 0, None)],
    }

    def __init__(self, latent_layer_name: str = "lat_features", rm_sz: int = 1500,
                 inc_lr: float = 5e-5, init_update_rate: float = 0.01,
                 inc_update_rate: float = 5e-5, max_r_max: float = 1.25, max_d_max: float = 0.5,
                 inc_step: float = 4.1e-5):
        self.latent_layer_name = latent_layer_name
        self.rm_sz = rm_sz
        self.inc_lr = inc_lr
        self.init_update_rate = init_update_rate
        self.inc_update_rate = inc_update_rate
        self.max_r_max = max_r_max
        self.max_d_max = max_d_max
        self.inc_step = inc_step

    def memory_size(self) -> int:
        return 0 if getattr(self, "rm_y_", None) is None else len(self.rm_y_)

    def memory_counts(self) -> np.ndarray:
        if not self.memory_size():
            return np.zeros(0)
        return np.bincount(self.rm_y_.numpy())

    def before_training_exp(self, strategy, experience) -> None:
        t = strategy.n_experiences_
        lower = _below(strategy.module_, self.latent_layer_name)
        brns = [m for m in strategy.module_.modules() if isinstance(m, _BatchRenorm)]
        if t == 0:
            for m in brns:
                m.momentum = self.init_update_rate
                m.max_r_max, m.max_d_max = self.max_r_max, self.max_d_max
                m.r_d_max_inc_step = self.inc_step
            return
        freeze_modules(strategy.module_, lower)
        frozen = {id(m) for m in lower}
        for m in (b for b in brns if id(b) not in frozen):
            m.momentum = self.inc_update_rate
            m.max_r_max, m.max_d_max, m.r_d_max_inc_step = self.max_r_max, self.max_d_max, 0.0
            m.r_max.fill_(self.max_r_max)
            m.d_max.fill_(self.max_d_max)
        strategy.rebuild_optimizer(keep_state=False)
        for group in strategy.optimizer_.param_groups:
            group["lr"] = self.inc_lr

    def before_training_epoch(self, strategy) -> None:
        n = self.memory_size()
        self.order_ = self.rng_.permutation(n) if n else np.zeros(0, dtype=np.int64)
        self.pos_ = 0

    def adapt_batch(self, strategy, batch):
        n_mem = self.memory_size()
        inputs, y = batch
        n_inject = strategy.batch_size - len(y) if strategy.batch_size > 0 else 0
        if strategy.n_experiences_ == 0 or not n_mem or n_inject <= 0:
            return batch
        idx = self.order_[(self.pos_ + np.arange(n_inject)) % n_mem]
        self.pos_ = (self.pos_ + n_inject) % n_mem
        idx = torch.as_tensor(idx, dtype=torch.long)
        inputs = dict(inputs, latent_acts=self.rm_acts_[idx],
                      task_labels=torch.cat([inputs["task_labels"],
                                             torch.zeros(n_inject, dtype=torch.long)]))
        return inputs, torch.cat([y, self.rm_y_[idx]])

    def latent_activations(self, strategy, X: torch.Tensor) -> torch.Tensor:
        """Eval-mode activations of the latent layer for inputs ``X``."""
        module = strategy.module_
        layer = dict(module.named_modules())[self.latent_layer_name]
        store = []
        handle = layer.register_forward_hook(lambda m, a, out: store.append(out.detach()))
        try:
            with eval_mode(module):
                for start in range(0, len(X), 256):
                    module(X[start:start + 256].to(strategy.device))
        finally:
            handle.remove()
        return torch.cat(store).cpu()

    def after_training_exp(self, strategy, experience) -> None:
        t = strategy.n_experiences_
        data: TrainData = strategy.train_data_
        n = len(data)
        h = min(self.rm_sz // (t + 1), n)
        if h == 0:
            return
        pick = np.sort(self.rng_.choice(n, size=h, replace=False))
        acts = self.latent_activations(strategy, data.X[torch.as_tensor(pick)])
        labels = data.y[torch.as_tensor(pick)].clone()
        source = np.column_stack([np.full(h, experience.index if experience is not None else t),
                                  pick])
        if not self.memory_size():
            self.rm_acts_, self.rm_y_, self.rm_source_ = acts, labels, source
            return
        slots = self.rng_.choice(self.memory_size(), size=min(h, self.memory_size()),
                                 replace=False)
        acts_new, y_new, src_new = self.rm_acts_.clone(), self.rm_y_.clone(), self.rm_source_.copy()
        slots_t = torch.as_tensor(slots, dtype=torch.long)
        acts_new[slots_t] = acts[: len(slots)]
        y_new[slots_t] = labels[: len(slots)]
        src_new[slots] = source[: len(slots)]
        self.rm_acts_, self.rm_y_, self.rm_source_ = acts_new, y_new, src_new
