"""Transactions: what a failed ``partial_fit`` or ``fit`` restores."""

from __future__ import annotations

import copy

import numpy as np
import torch

from skcl.buffers._storage import _UNRECORDED, Journal
from skcl.utils import (
    LazyX,
    ModuleState,
    TrainData,
)

__all__ = ["Rollback"]

#: What a call changes in place and the record therefore copies (the rest of the strategy's
#: attributes are replaced, never mutated, so the record keeps references): the optimizer,
#: the plugins (their buffers' arrays shared, copy-on-write), the generators and the mixed
#: precision gradient scaler (its scale and growth tracker advance every step).
_LIVE = ("optimizer_", "criterion_", "plugins_", "rng_", "units_by_task_", "grad_scaler_")


class Rollback:
    """Part of :class:`~skcl.strategies.BaseStrategy`.

    The record of what a failed ``partial_fit``/``fit`` restores."""

    #: Private switch for ``benchmarks/speed.py --rollback`` (measuring the record's cost):
    #: with False no record is kept and a failed call is not undone.
    _record_rollback = True

    def _snapshot(self) -> dict | None:
        """What a failed ``partial_fit`` restores: attributes, module, optimizer, plugins.

        The module and the criterion are recorded in place
        (:class:`~skcl.utils.ModuleState`); the optimizer, plugins and RNG are
        deep-copied with those modules' objects memoized, so their references
        to the live module stay intact.
        """
        if not self._record_rollback:  # buffers then write in place, journaling nothing
            from skcl.buffers import ExemplarsBuffer

            for entry in vars(self).get("plugins_") or ():
                plugin = entry[1] if isinstance(entry, tuple) else entry
                _UNRECORDED.update(v for v in vars(plugin).values()
                                   if isinstance(v, ExemplarsBuffer))
            return None
        state = dict(vars(self))
        module_states = [ModuleState(state[k]) for k in ("module_", "criterion_")
                         if isinstance(state.get(k), torch.nn.Module)]
        memo: dict[int, object] = {}
        for module_state in module_states:
            memo.update(module_state.memo())
        live = {k: state[k] for k in _LIVE if k in state}
        generators: list = []  # recorded by their state, restored in place (cheaper than copies)
        journal = Journal()  # rows the buffers overwrite in place from now on
        _share_generators(self, memo, generators)
        for entry in state.get("plugins_") or ():
            _share_copy_on_write(entry[1] if isinstance(entry, tuple) else entry, memo,
                                 generators, journal)
        state.update(copy.deepcopy(live, memo))  # the criterion, memoized, stays itself
        state["_module_states"] = module_states
        state["_generator_states"] = generators
        state["_journal"] = journal
        # skorch callbacks (timers, early stopping counters): their own attributes
        state["_callback_states"] = [(cb, dict(vars(cb)))
                                     for _, cb in state.get("callbacks_") or ()]
        history = state.get("history_")
        state["_history_len"] = None if history is None else len(history)
        return state

    def _restore(self, state: dict | None) -> None:
        if state is None:  # no record was kept (the private switch above)
            return
        history, n = self.history_, state.pop("_history_len")
        module_states = state.pop("_module_states")
        state.pop("_journal").undo()  # the buffers' arrays, shared with the record, as they were
        for generator, generator_state in state.pop("_generator_states"):
            generator.bit_generator.state = generator_state
        for callback, attributes in state.pop("_callback_states"):
            vars(callback).clear()
            vars(callback).update(attributes)
        vars(self).clear()
        vars(self).update(state)
        for module_state in module_states:
            module_state.restore()
        if history is not None and n is not None and history is state.get("history_"):
            del history[n:]
        if "plugins_" in state:
            self._index_hooks()


#: A buffer's arrays are replaced by its updates, or written in place with the overwritten
#: rows journaled while a record's Journal watches the buffer (tests/test_trust_buffers.py
#: checks every policy), so the rollback record shares them instead of copying: neither the
#: record nor the update costs in proportion to the memory.
_BUFFER_ARRAYS = ("X_", "y_", "task_labels_", "experience_ids_", "keys_", "classes_",
                  "groups_", "group_counts_")
_SHARED = (torch.Tensor, np.ndarray, LazyX)


def _share_generators(obj, memo: dict, generators: list) -> None:
    """Share ``obj``'s numpy generators in ``memo``, recording their states in ``generators``
    (a deep copy of a generator costs ~25 us, reading and writing its state ~3 us)."""
    for value in vars(obj).values():
        if isinstance(value, np.random.Generator) and id(value) not in memo:
            memo[id(value)] = value
            generators.append((value, value.bit_generator.state))


def _share_copy_on_write(plugin, memo: dict, generators: list, journal) -> None:
    """Mark the arrays a plugin's buffers (and TrainData memories) hold as shared in ``memo``
    (the buffers replace them or, watched by ``journal``, journal the rows they overwrite);
    share the plugin's and its buffers' generators, recording their states."""
    from skcl.buffers import ExemplarsBuffer

    _share_generators(plugin, memo, generators)
    for value in vars(plugin).values():
        if isinstance(value, ExemplarsBuffer):
            journal.watch(value)
            _share_generators(value, memo, generators)
            for name in _BUFFER_ARRAYS:
                array = vars(value).get(name)
                if isinstance(array, _SHARED):
                    memo[id(array)] = array
            for array in (vars(value).get("fields_") or {}).values():
                memo[id(array)] = array
        elif isinstance(value, TrainData):  # e.g. iCaRL's memory: rebuilt, never mutated
            for array in (value.X, value.y, value.task_labels):
                if isinstance(array, _SHARED):
                    memo[id(array)] = array
