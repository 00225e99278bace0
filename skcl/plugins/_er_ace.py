"""`ERACEPlugin`: experience replay with the asymmetric cross-entropy (ER-ACE)."""

from __future__ import annotations

import torch

from skcl.plugins._der import OnlineRehearsalPlugin

__all__ = ["ERACEPlugin", "ace_mask"]


def ace_mask(y_in: torch.Tensor, seen: torch.Tensor, n_outputs: int) -> torch.Tensor:
    """The output units ER-ACE keeps for an incoming minibatch (a boolean row).

    The units of the classes present in the minibatch, every unit from the
    highest unit seen so far on (the authors' code:
    ``mask[:, present] = 1; mask[:, max(seen):] = 1``), and every unit never
    seen. The last part changes nothing when classes arrive in increasing
    unit order (the authors' benchmarks, where the units above the highest
    seen one are exactly the unseen ones); with any other order (a class
    order drawn at random over a head of fixed size) it keeps the future
    classes in the softmax as the authors' code does, instead of masking the
    unseen units below the highest seen one (the reference's pitfall: "for
    arbitrary label orders, unmask never-seen classes explicitly").

    Examples
    --------
    >>> import torch
    >>> from skcl.plugins._er_ace import ace_mask
    >>> ace_mask(torch.tensor([1, 1]), torch.tensor([0, 1, 2, 3]), 6).int().tolist()
    [0, 1, 0, 1, 1, 1]
    >>> ace_mask(torch.tensor([3]), torch.tensor([1, 3]), 5).int().tolist()  # 0, 2 unseen
    [1, 0, 1, 1, 1]
    """
    keep = torch.zeros(n_outputs, dtype=torch.bool, device=y_in.device)
    keep[y_in] = True
    if len(seen):
        keep[int(seen.max()):] = True
        never = torch.ones(n_outputs, dtype=torch.bool, device=y_in.device)
        never[seen] = False
        keep |= never
    return keep


class ERACEPlugin(OnlineRehearsalPlugin):
    """ER-ACE: asymmetric cross-entropy (Caccia et al., ICLR 2022).

    The incoming minibatch's cross-entropy is computed with the logits of the
    old classes *absent from it* masked out (filled with -1e9, as in the
    authors' code; see :func:`ace_mask`), so learning new classes does not
    push the old ones' logits down. A replayed minibatch from a reservoir
    memory adds the ordinary cross-entropy over all the logits; it is
    appended to the incoming minibatch (one forward pass, as in the authors'
    code) and the plugin replaces the criterion. The memory is
    updated after every step (task-free), so the method works online and
    offline; the incoming loss is masked from the first minibatch on
    (the authors' task-free mode).

    Parameters
    ----------
    mem_size : int, default=200
    batch_size_mem : int or None, default=None
        Replayed samples per step (default: the current minibatch size).
    transform : callable or None, default=None
        Augmentation of replayed inputs.
    update_every : int, default=8
        Optimizer steps between memory updates (see
        :class:`~skcl.plugins.OnlineRehearsalPlugin`).

    Attributes
    ----------
    storage_ : ReservoirSamplingBuffer
    seen_units_ : Tensor
        Output units seen in incoming minibatches so far.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import ERACEPlugin
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[ERACEPlugin(mem_size=100)], lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.named_plugins_["erace"].seen_units_.tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """

    def before_training_exp(self, strategy, experience) -> None:
        super().before_training_exp(strategy, experience)
        if not hasattr(self, "seen_units_"):
            self.seen_units_ = torch.zeros(0, dtype=torch.long)

    def _replay_parts(self, strategy, n: int) -> list:
        return [("labels", self._draw_index(self._n_mem(n)))]

    def compute_loss(self, strategy, y_pred, y_true, inputs):
        n = len(self.incoming_[1])
        y_true = y_true.to(y_pred.device)
        y_in = y_true[:n]
        self.seen_units_ = torch.unique(torch.cat([self.seen_units_, y_in.cpu()]))
        keep = ace_mask(y_in, self.seen_units_.to(y_pred.device), y_pred.shape[1])
        loss = strategy.criterion_(y_pred[:n].masked_fill(~keep, -1e9), y_in)
        if len(y_true) > n:  # the replayed minibatch: plain cross-entropy over all units
            loss = loss + strategy.criterion_(y_pred[n:], y_true[n:])
        return loss
