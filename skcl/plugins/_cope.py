"""Continual Prototype Evolution (De Lange & Tuytelaars, ICCV 2021)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from skcl.plugins._base import StrategyPlugin
from skcl.plugins._utils import experience_data
from skcl.utils import Interval
from skcl.utils._data import extend_batch

__all__ = ["CoPEPlugin", "ppp_loss", "update_prototypes"]


def ppp_loss(z: torch.Tensor, y: torch.Tensor, prototypes: torch.Tensor,
             T: float = 0.1) -> torch.Tensor:
    """The pseudo-prototypical proxy (PPP) loss.

    With ``s(a, b) = exp(a.b / T)``, for each class ``c`` in the batch (``B_c``
    its samples, ``B_k`` the others, ``P_k`` the prototypes of every other
    class) and a candidate prototype ``q``::

        P_q(x) = s(q, x) / (s(q, x) + sum_{p in P_k} s(p, x))

    * attractor, for ``i`` in ``B_c``: ``log(mean_q P_q(z_i))`` over the
      candidates ``q in {p_c} + B_c \\ {i}`` (the other samples of the class act
      as pseudo-prototypes);
    * repellor, for ``x`` in ``B_k``: ``sum_{q in B_c} log(1 - (P_q(x) + P_{p_c}(x)) / 2)``.

    The loss is ``-(attractor + repellor) / len(batch)``, summed over classes.

    The pseudo-prototypes (the batch's own embeddings used as candidates
    ``q``) are constants of the loss, as in the authors' code and Avalanche:
    the gradient flows only through the embedding being classified (``z_i``
    in the attractor, ``x`` in the repellor), never through ``q``.

    Parameters
    ----------
    z : Tensor (N, d)
        L2-normalised embeddings.
    y : Tensor (N,)
        Class (unit) indices into ``prototypes``.
    prototypes : Tensor (C, d)
        L2-normalised class prototypes (treated as constants).
    T : float
        Temperature.

    Examples
    --------
    >>> import torch
    >>> p = torch.eye(2)
    >>> good = ppp_loss(p.clone(), torch.tensor([0, 1]), p)
    >>> bad = ppp_loss(p.flip(0), torch.tensor([0, 1]), p)
    >>> bool(good < bad)
    True
    """
    protos = prototypes.detach()
    n = len(z)
    loss = z.new_zeros(())
    for c in torch.unique(y).tolist():
        in_c = y == c
        zc, zk = z[in_c], z[~in_c]
        pc = protos[c]
        pk = torch.cat([protos[:c], protos[c + 1:]])
        # attractor
        others_c = torch.exp(zc @ pk.T / T).sum(1)  # (n_c,)
        s_p = torch.exp(zc @ pc / T)
        p_proto = s_p / (s_p + others_c)
        pseudo = zc.detach()  # pseudo-prototypes: constants, as in the authors' code
        s_q = torch.exp(zc @ pseudo.T / T)  # [i, j] = s(z_j, z_i)
        p_pseudo = s_q / (s_q + others_c[:, None])
        n_c = len(zc)
        off_diag = ~torch.eye(n_c, dtype=torch.bool, device=z.device)
        mean_p = (p_proto + (p_pseudo * off_diag).sum(1)) / n_c
        attractor = torch.log(mean_p.clamp_min(1e-12)).sum()
        # repellor
        repellor = z.new_zeros(())
        if len(zk):
            others_k = torch.exp(zk @ pk.T / T).sum(1)  # (n_k,)
            s_pk = torch.exp(zk @ pc / T)
            p_proto_k = s_pk / (s_pk + others_k)
            s_qk = torch.exp(zk @ pseudo.T / T)  # (n_k, n_c)
            p_pseudo_k = s_qk / (s_qk + others_k[:, None])
            avg = (p_pseudo_k + p_proto_k[:, None]) / 2
            repellor = torch.log((1 - avg).clamp_min(1e-12)).sum()
        loss = loss - (attractor + repellor) / n
    return loss


def update_prototypes(prototypes: torch.Tensor, z: torch.Tensor, y: torch.Tensor,
                      alpha: float) -> torch.Tensor:
    """Momentum update ``p_c <- normalize(alpha p_c + (1 - alpha) normalize(mean_c z))``.

    Only the classes present in ``y`` change. Returns a new tensor.

    Examples
    --------
    >>> import torch
    >>> p = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> update_prototypes(p, torch.tensor([[0.0, 1.0]]), torch.tensor([0]), 0.5).tolist()
    [[0.7071067690849304, 0.7071067690849304], [0.0, 1.0]]
    """
    out = prototypes.clone()
    z = z.detach()
    for c in torch.unique(y).tolist():
        mean = F.normalize(z[y == c].mean(0), dim=0)
        out[c] = F.normalize(alpha * prototypes[c] + (1 - alpha) * mean, dim=0)
    return out


class CoPEPlugin(StrategyPlugin):
    """Continual Prototype Evolution for online, data-incremental streams.

    The model's output is an embedding of size ``p_size``; it is
    L2-normalised and trained with the pseudo-prototypical proxy loss
    (:func:`ppp_loss`), which replaces the criterion. Each class has a
    prototype (initialised uniformly in [-1, 1] and normalised, for all
    ``n_classes``) that evolves by momentum ``alpha`` towards the mean
    embedding of its samples (:func:`update_prototypes`). Every minibatch is
    extended with as many samples from a class-balanced replay memory of
    ``mem_size`` samples (one reservoir per class, equal quotas).
    Prediction is by the nearest prototype: the logits are the cosine
    similarities divided by ``T``.

    Each experience trains for at most ``max_it_cnt`` iterations (one
    minibatch by default, as for an online stream of small experiences).
    Prototypes are updated after every training iteration, as in the
    paper's algorithm (Avalanche accumulates over the experience and updates
    at its end, which is the same with ``max_it_cnt=1``).

    Requirements: class (unit) indices below ``n_classes``; a model whose
    output width is ``p_size`` (the :class:`~skcl.strategies.CoPE` strategy
    builds such an :class:`~skcl.models.MLP` by default); no multi-head model.

    Parameters
    ----------
    mem_size : int, default=200
    n_classes : int, default=10
    p_size : int, default=100
        Embedding (and prototype) size.
    alpha : float, default=0.99
        Prototype momentum, in [0, 1].
    T : float, default=0.1
        Temperature of the PPP loss.
    max_it_cnt : int, default=1
        Training iterations per experience.

    Attributes
    ----------
    prototypes_ : Tensor (n_classes, p_size)
    memory_ : TrainData or None
        The replay memory (all classes).
    memory_keys_ : dict of int -> (TrainData, Tensor)
        Per-class reservoir contents and their random keys.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits, online_stream
    >>> from skcl.strategies import Naive
    >>> from skcl.plugins import CoPEPlugin
    >>> train, test = split_digits(5)
    >>> net = Naive(plugins=[CoPEPlugin(p_size=16)], module__n_classes=16,
    ...             module__hidden_sizes=(32,), random_state=0)
    >>> for exp in online_stream(train[:2], 32, random_state=0):
    ...     _ = net.partial_fit(exp)
    >>> tuple(net.named_plugins_["cope"].prototypes_.shape)
    (10, 16)
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "mem_size": [Interval("int", 1, None)],
        "n_classes": [Interval("int", 1, None)],
        "p_size": [Interval("int", 1, None)],
        "alpha": [Interval("real", 0, 1, closed="both")],
        "T": [Interval("real", 0, None, closed="neither")],
        "max_it_cnt": [Interval("int", 1, None)],
    }

    def __init__(self, mem_size: int = 200, n_classes: int = 10, p_size: int = 100,
                 alpha: float = 0.99, T: float = 0.1, max_it_cnt: int = 1):
        self.mem_size = mem_size
        self.n_classes = n_classes
        self.p_size = p_size
        self.alpha = alpha
        self.T = T
        self.max_it_cnt = max_it_cnt

    def before_training_exp(self, strategy, experience) -> None:
        if getattr(strategy.module_, "is_multi_task", False):
            raise ValueError("CoPE needs a single-head model (one embedding per sample).")
        n_units = len(strategy.class_order_)
        if n_units > self.n_classes:
            raise ValueError(f"CoPE was set up for n_classes={self.n_classes} but "
                             f"{n_units} classes have been seen.")
        if not hasattr(self, "prototypes_"):
            init = self.rng_.uniform(-1, 1, size=(self.n_classes, self.p_size))
            self.prototypes_ = F.normalize(torch.as_tensor(init, dtype=torch.float32), dim=1)
            self.memory_ = None
            self.memory_keys_ = {}
        self.prototypes_ = self.prototypes_.to(strategy.device)
        self.iterations_ = 0

    def adapt_batch(self, strategy, batch):
        if self.memory_ is None:
            return batch
        inputs, y = batch
        size = len(y) if strategy.batch_size == -1 else strategy.batch_size
        n = len(self.memory_)
        idx = np.sort(self.rng_.choice(n, size=min(size, n), replace=False))
        mem = self.memory_.subset(idx)
        return extend_batch(batch, mem.X, mem.y, mem.task_labels)

    def compute_loss(self, strategy, y_pred, y_true, inputs):
        if y_pred.shape[1] != self.p_size:
            raise ValueError(f"CoPE needs the model's output size to equal p_size="
                             f"{self.p_size}; it is {y_pred.shape[1]}.")
        z = F.normalize(y_pred, dim=1)
        self.last_batch_ = (z.detach(), y_true.detach())
        return ppp_loss(z, y_true, self.prototypes_, self.T)

    def after_training_iteration(self, strategy, batch) -> None:
        z, y = self.last_batch_
        self.prototypes_ = update_prototypes(self.prototypes_, z, y, self.alpha)
        del self.last_batch_
        self.iterations_ += 1
        if self.iterations_ >= self.max_it_cnt:
            strategy.stop_training()

    def after_training_exp(self, strategy, experience) -> None:
        data = experience_data(strategy)
        store = self.memory_keys_
        for c in torch.unique(data.y).tolist():
            sub = data.subset(torch.nonzero(data.y == c).flatten())
            keys = torch.as_tensor(self.rng_.random(len(sub)))
            if c in store:
                old, old_keys = store[c]
                sub, keys = old.concat(sub), torch.cat([old_keys, keys])
            store[c] = (sub, keys)
        classes = sorted(store)
        quota, extra = divmod(self.mem_size, len(classes))
        for i, c in enumerate(classes):
            sub, keys = store[c]
            k = quota + (1 if i < extra else 0)
            if len(keys) > k:
                top = torch.sort(torch.argsort(keys, descending=True)[:k]).values
                store[c] = (sub.subset(top), keys[top])
        parts = [store[c][0] for c in classes if len(store[c][0])]
        self.memory_ = parts[0].concat(*parts[1:]) if parts else None

    def adapt_eval_output(self, strategy, inputs, output):
        with torch.no_grad():
            z = strategy.infer(inputs)
            if isinstance(z, tuple):
                z = z[0]
            z = F.normalize(z, dim=1)
        n_units = len(strategy.class_order_)  # the output may be narrower (p_size < classes)
        return z @ self.prototypes_[:n_units].to(z.device).T / self.T
