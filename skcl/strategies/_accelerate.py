"""`AccelerateMixin`: run a strategy through Hugging Face Accelerate (several GPUs, DDP).

skcl does not write its own distributed engine: this mixin adapts skorch's
:class:`skorch.hf.AccelerateMixin` to the continual-learning loop (plugin hooks, heads
that grow, optimizers rebuilt between experiences, rollback).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from skcl.utils import TrainData

try:  # skorch.hf imports accelerate lazily; the mixin is usable only when it is installed
    from skorch.hf import AccelerateMixin as _SkorchAccelerateMixin
except ImportError:  # pragma: no cover - skorch always has skorch.hf
    _SkorchAccelerateMixin = object  # type: ignore[assignment,misc]

__all__ = ["AccelerateMixin", "DATA_PARALLEL_COMPATIBLE"]

#: Which strategies train correctly data-parallel (each process a shard of every
#: minibatch, gradients averaged by DDP in ``backward``), and why not for the others.
DATA_PARALLEL_COMPATIBLE: dict[str, str] = {
    "Naive": "yes",
    "Cumulative": "yes",
    "JointTraining": "yes",
    "EWC": "yes: the Fisher is computed per process on its shard (an estimate of the same "
           "expectation)",
    "SynapticIntelligence": "yes: importances accumulate per process from averaged gradients",
    "LwF": "yes",
    "LFL": "no: it calls the model's get_features, which DDP's wrapper does not expose",
    "Replay": "yes: one buffer per process, filled from its own shard",
    "DER": "yes (per-process buffers)", "DERPlusPlus": "yes (per-process buffers)",
    "ERACE": "yes (per-process buffers)",
    "GDumb": "yes (per-process buffers)",
    "GEM": "no: the projection needs the reference gradients of all processes gathered "
           "before it; DDP averages only the current gradient",
    "AGEM": "no: as GEM", "GSS_greedy": "no: as GEM (gradient similarity per sample)",
    "MIR": "no: the virtual step and the retrieval would differ per process",
    "ICaRL": "single process only: herding and class means need all exemplars' features",
    "SCR": "single process only: class means over the whole buffer",
    "BiC": "single process only: the bias layer is fitted on the held-out memory",
    "CoPE": "single process only: prototypes updated from per-process batches",
    "StreamingLDA": "single process only: no gradient step (closed-form updates)",
    "CWRStar": "single process only: consolidation of per-class weights",
    "AR1": "single process only: latent replay and CWR* consolidation",
    "PNNStrategy": "single process only: columns added per task",
}


class _DeviceBatches:
    """A minibatch iterator moved to the accelerator's device and, with several
    processes, cut so that each process trains on its slice of every minibatch."""

    def __init__(self, batches, device: torch.device, rank: int, world: int):
        self.batches, self.device, self.rank, self.world = batches, device, rank, world

    def __len__(self) -> int:
        return len(self.batches)

    def _slice(self, t: torch.Tensor) -> torch.Tensor:
        if self.world == 1:
            return t.to(self.device, non_blocking=True)
        return t.tensor_split(self.world)[self.rank].to(self.device, non_blocking=True)

    def __iter__(self) -> Iterator:
        for inputs, y in self.batches:
            if isinstance(inputs, dict):
                inputs = {k: self._slice(v) if isinstance(v, torch.Tensor) else v
                          for k, v in inputs.items()}
            else:
                inputs = self._slice(inputs)
            yield inputs, (None if y is None else self._slice(y))


class AccelerateMixin(_SkorchAccelerateMixin):
    """Train a strategy through an ``accelerate.Accelerator`` (multi-GPU data parallel).

    Put it first in the bases: ``class AcceleratedReplay(AccelerateMixin, Replay): pass``,
    then ``AcceleratedReplay(accelerator=Accelerator(), mem_size=500, ...)``; launch the
    script with ``accelerate launch``. Compared with skorch's mixin it keeps skcl's
    training step (plugin hooks, ``after_forward``, rollback), re-wraps the model and
    optimizer when a head grows or the optimizer is rebuilt, cuts each training
    minibatch across the processes, and evaluates on every process without gathering
    (each process holds the whole evaluation data). Use the strategy's own
    ``precision`` for mixed precision, with the accelerator's ``mixed_precision="no"``.
    :data:`DATA_PARALLEL_COMPATIBLE` says which strategies are correct with several
    processes.

    Parameters
    ----------
    accelerator : accelerate.Accelerator
    **kwargs
        The strategy's parameters. ``device`` defaults to ``None``: the accelerator
        places the model and the minibatches.

    Examples
    --------
    >>> from accelerate import Accelerator
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Naive
    >>> from skcl.strategies import AccelerateMixin
    >>> class AcceleratedNaive(AccelerateMixin, Naive):
    ...     pass
    >>> train, test = split_digits(n_experiences=2, random_state=0)
    >>> net = AcceleratedNaive(accelerator=Accelerator(cpu=True), lr=0.1, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.score(test[1]) > 0.5
    True
    """

    # the backward pass averages gradients over processes: penalties go through it
    _differentiate_closed_form_penalties = True

    def initialize(self):
        # skcl's initialize (parameter checks, seeding, plugins; skorch's mixin replaces it
        # with its own), then the wrapping
        super(_SkorchAccelerateMixin, self).initialize()
        self._wrapped_with_accelerator = False
        self._initialize_accelerator()
        return self

    def _initialize_accelerator(self):
        # skorch's, made idempotent: an optimizer already wrapped is not wrapped twice
        from accelerate.optimizer import AcceleratedOptimizer

        if self._wrapped_with_accelerator:
            return self
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            # (a criterion without parameters stays as it is: DDP refuses to wrap it)
            if isinstance(module, torch.nn.Module) and any(
                    p.requires_grad for p in module.parameters()):
                setattr(self, name + "_", self.accelerator.prepare(module))
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            if (isinstance(optimizer, torch.optim.Optimizer)
                    and not isinstance(optimizer, AcceleratedOptimizer)):
                setattr(self, name + "_", self.accelerator.prepare(optimizer))
        self._wrapped_with_accelerator = True
        return self

    def _check_params(self) -> None:
        super()._check_params()
        if self.precision != "32":
            raise ValueError("With an accelerator, use its mixed_precision setting or the "
                             f"strategy's precision, not both: got precision={self.precision!r}"
                             "; set precision='32'.")

    def train_step_single(self, batch, **fit_params):
        # skcl's step (plugin hooks), with the backward pass through the accelerator
        return super(_SkorchAccelerateMixin, self).train_step_single(batch, **fit_params)

    def _backward(self, loss: torch.Tensor) -> None:
        self.accelerator.backward(loss)

    def get_iterator(self, dataset, training=False):
        batches = super(_SkorchAccelerateMixin, self).get_iterator(dataset, training=training)
        if not isinstance(dataset, TrainData):
            return self.accelerator.prepare(batches)
        acc = self.accelerator
        world = acc.num_processes if training else 1
        return _DeviceBatches(batches, acc.device, acc.process_index, world)

    def evaluation_step(self, batch, training=False):
        # every process evaluates the whole data: nothing to gather
        return super(_SkorchAccelerateMixin, self).evaluation_step(batch, training=training)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self._initialize_accelerator()  # unwrapped at the end of the previous experience

    def _rebuild_optimizer(self, keep_state: bool = True) -> None:
        # a grown head or a rebuilt optimizer: wrap the new parameters and optimizer again
        self._unwrap_accelerator()
        super()._rebuild_optimizer(keep_state)
        self._initialize_accelerator()
