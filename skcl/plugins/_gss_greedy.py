"""`GSS_greedyPlugin`: gradient-based sample selection (greedy variant)."""

from __future__ import annotations

import numpy as np
import torch

from skcl.plugins._base import StrategyPlugin
from skcl.utils import check_int, eval_mode, extend_batch

__all__ = ["GSS_greedyPlugin"]




class GSS_greedyPlugin(StrategyPlugin):  # noqa: N801 (the reference's name)
    """GSS-greedy (Aljundi, Lin, Goujaud & Bengio, NeurIPS 2019).

    A memory of ``mem_size`` samples chosen to keep their loss gradients
    diverse. For each training minibatch (before it is used):

    - while the memory is not full, the batch fills the free slots; each
      sample's score is its maximal cosine similarity to the gradients of
      random memory subsets (0.1 for the very first samples);
    - once full, the batch's gradient is compared with the gradients of up
      to ``mem_strength`` random disjoint memory subsets (each of the
      batch's size); only if the maximal cosine similarity is negative,
      ``|batch|`` slots are drawn with probability growing with their score
      and each new sample replaces its slot with probability
      ``(s_slot + 1) / (s_new + s_slot + 2)``.

    Then a memory batch (of the current batch's size) is appended to the
    minibatch. Gradients are computed with :func:`torch.autograd.grad` in
    eval mode, so the training step's gradients are untouched; the model's
    mode is restored. The input shape is taken from the data (no
    ``input_size`` parameter). Unlike Avalanche, only the current samples
    are offered to the memory (replayed ones are not re-inserted), the
    memory batch never includes unfilled slots, and a memory smaller than
    the batch works.

    Parameters
    ----------
    mem_size : int, default=200
    mem_strength : int, default=5
        Number of memory subsets whose gradients are compared.

    Attributes
    ----------
    memory_x_, memory_y_, memory_t_ : Tensor
        The memory (inputs, output-unit indices, task labels), preallocated.
    scores_ : Tensor
    n_filled_ : int

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import GSS_greedyPlugin
    >>> from skcl.strategies import Naive
    >>> train, _ = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[GSS_greedyPlugin(mem_size=40)], random_state=0)
    >>> _ = net.partial_fit(train[0])
    >>> net.named_plugins_["gss_greedy"].n_filled_
    40
    """

    def __init__(self, mem_size: int = 200, mem_strength: int = 5):
        self.mem_size = mem_size
        self.mem_strength = mem_strength

    def before_training_exp(self, strategy, experience) -> None:
        check_int(self.mem_size, "mem_size")
        check_int(self.mem_strength, "mem_strength")
    def _allocate(self, x: torch.Tensor) -> None:
        """Preallocate the memory from the first batch's sample shape."""
        self.memory_x_ = torch.zeros((self.mem_size, *x.shape[1:]), dtype=x.dtype)
        self.memory_y_ = torch.zeros(self.mem_size, dtype=torch.long)
        self.memory_t_ = torch.zeros(self.mem_size, dtype=torch.long)
        self.scores_ = torch.zeros(self.mem_size)
        self.n_filled_ = 0

    # -- gradients -------------------------------------------------------------
    def _grad(self, strategy, x, y, t) -> torch.Tensor:
        params = [p for p in strategy.module_.parameters() if p.requires_grad]
        out = strategy.infer({"x": x, "task_labels": t})
        loss = strategy.criterion_(out, y.to(out.device))
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                          for g, p in zip(grads, params, strict=True)])

    def _mem_grads(self, strategy, batch_size: int) -> torch.Tensor:
        filled = self.n_filled_
        size = min(batch_size, filled)
        n_sub = max(1, min(self.mem_strength, filled // size))
        perm = torch.as_tensor(self.rng_.permutation(filled), dtype=torch.long)
        out = []
        for i in range(n_sub):
            idx = perm[i * size:(i + 1) * size]
            out.append(self._grad(strategy, self.memory_x_[idx], self.memory_y_[idx],
                                  self.memory_t_[idx]))
        return torch.stack(out)

    @staticmethod
    def _max_cos(g: torch.Tensor, mem_grads: torch.Tensor) -> float:
        return float(torch.nn.functional.cosine_similarity(mem_grads, g[None], dim=1).max())

    def _sample_grads(self, strategy, x, y, t) -> torch.Tensor:
        """Per-sample flattened gradients, shape (n, n_params)."""
        return torch.stack([self._grad(strategy, x[i:i + 1], y[i:i + 1], t[i:i + 1])
                            for i in range(len(x))])

    def _sample_sims(self, strategy, mem_grads, x, y, t) -> torch.Tensor:
        g = self._sample_grads(strategy, x, y, t)
        sims = torch.nn.functional.cosine_similarity(
            g[:, None, :], mem_grads[None, :, :].to(g.device), dim=2)
        return sims.max(dim=1).values.cpu()

    def _update_memory(self, strategy, x, y, t) -> None:
        filled, free = self.n_filled_, self.mem_size - self.n_filled_
        if free > 0:
            k = min(free, len(x))
            x, y, t = x[:k], y[:k], t[:k]
            if filled == 0:
                scores = torch.full((k,), 0.1)
            else:
                scores = self._sample_sims(strategy, self._mem_grads(strategy, len(x)), x, y, t)
            sl = slice(filled, filled + k)
            self.memory_x_[sl], self.memory_y_[sl], self.memory_t_[sl] = x, y, t
            self.scores_[sl] = scores
            self.n_filled_ += k
            return
        mem_grads = self._mem_grads(strategy, len(x))
        if self._max_cos(self._grad(strategy, x, y, t), mem_grads) >= 0:
            return
        s = self.scores_.numpy().astype(float)
        p = (s - s.min()) / (s.max() - s.min() + 0.01) + 1e-12
        n = min(len(x), self.mem_size)
        slots = self.rng_.choice(self.mem_size, size=n, replace=False, p=p / p.sum())
        x, y, t = x[:n], y[:n], t[:n]
        new_sims = self._sample_sims(strategy, mem_grads, x, y, t).numpy()
        w_new = (new_sims + 1) / 2
        w_slot = (s[slots] + 1) / 2
        replace = self.rng_.random(n) * (w_new + w_slot) < w_slot
        slots_t = torch.as_tensor(slots[replace], dtype=torch.long)
        rows = torch.as_tensor(np.flatnonzero(replace), dtype=torch.long)
        self.memory_x_[slots_t] = x[rows]
        self.memory_y_[slots_t] = y[rows]
        self.memory_t_[slots_t] = t[rows]
        self.scores_[slots_t] = torch.as_tensor(new_sims[replace], dtype=self.scores_.dtype)

    def adapt_batch(self, strategy, batch):
        inputs, y = batch
        x, t = inputs["x"], inputs["task_labels"]
        if not hasattr(self, "memory_x_"):
            self._allocate(x)
        # the replay batch is drawn before this batch enters the memory
        mem = None
        if self.n_filled_ > 0:
            idx = torch.as_tensor(self.rng_.choice(self.n_filled_, size=min(len(y), self.n_filled_),
                                                   replace=False), dtype=torch.long)
            mem = (self.memory_x_[idx], self.memory_y_[idx], self.memory_t_[idx])
        with eval_mode(strategy.module_, no_grad=False):  # scoring needs gradients
            self._update_memory(strategy, x.detach().cpu(), y.detach().cpu(), t.detach().cpu())
        return batch if mem is None else extend_batch(batch, *mem)
