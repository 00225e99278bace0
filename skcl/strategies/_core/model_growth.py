"""The network as the stream grows: heads for new classes and tasks, the optimizer rebuilt
over new parameters, and torch's global RNG seeded without disturbing the caller."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

from skcl.models import DynamicModule, adapt_module
from skcl.utils import TrainData, make_batch

__all__ = ["ModelGrowth"]

_TORCH_RNG_LOCK = threading.RLock()


class ModelGrowth:
    """Part of :class:`~skcl.strategies.BaseStrategy`.

    Grows dynamic heads, rebuilds the optimizer keeping unchanged
    parameters' state, and seeds torch for module initialization."""

    @contextlib.contextmanager
    def _torch_seed(self, seed: int) -> Iterator[None]:
        """Seed torch's global RNG for the block without disturbing the caller's RNG.

        Module initialization and dropout draw from torch's process-wide RNG, so
        strategies training in threads of one process (joblib's threading
        backend, a Dask worker with several threads) take turns here; otherwise
        their seeds would interleave and runs would not be reproducible.
        """
        cuda = str(self.device).startswith("cuda") and torch.cuda.is_available()
        devices = [torch.device(self.device).index or 0] if cuda else []
        with _TORCH_RNG_LOCK, torch.random.fork_rng(devices=devices):
            if cuda:
                torch.manual_seed(int(seed))
            else:  # torch.manual_seed also queues a lazy CUDA seeding (~1 ms each call)
                torch.default_generator.manual_seed(int(seed))
            yield

    def _adapt_model(self, n_units: int, data: TrainData) -> None:
        """Grow dynamic heads for the known classes and tasks; rebuild the optimizer if needed."""
        changed = adapt_module(self.module_, n_units, self.units_by_task_)
        if changed or (self.reset_optimizer and self.n_experiences_ > 0):
            self._rebuild_optimizer(keep_state=not self.reset_optimizer)
        if not any(isinstance(m, DynamicModule) for m in self.module_.modules()):
            # A fixed output layer: check its width once, before any training.
            out = self.evaluation_step(make_batch(data.X[:1], None, data.task_labels[:1]))
            width = (out[0] if isinstance(out, tuple) else out).shape[-1]
            if width < n_units:
                raise ValueError(
                    f"The module has {width} outputs but {n_units} classes were seen; use a "
                    "growing head (skcl.models.IncrementalClassifier) or a wider output layer."
                )

    def rebuild_optimizer(self, keep_state: bool = True) -> None:
        """New optimizer over the current parameters; unchanged ones keep their state.

        Call it after a structural change to ``module_`` (new or replaced
        parameters). ``keep_state=False`` drops momentum and the like.
        """
        self._rebuild_optimizer(keep_state)

    def _rebuild_optimizer(self, keep_state: bool = True) -> None:
        old_state = self.optimizer_.state if keep_state else {}
        lrs = [g["lr"] for g in self.optimizer_.param_groups]
        self.initialize_optimizer()
        if keep_state:
            for group in self.optimizer_.param_groups:
                for p in group["params"]:
                    if p in old_state:
                        self.optimizer_.state[p] = old_state[p]
        if len(lrs) == len(self.optimizer_.param_groups):  # keep schedules/virtual lr
            for group, lr in zip(self.optimizer_.param_groups, lrs):
                group["lr"] = lr
