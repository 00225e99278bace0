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

        The record costs what the experience can change, not the memory: the
        module and the criterion are recorded in place
        (:class:`~skcl.utils.ModuleState`, O(model)), so is a torch optimizer
        (its groups and state); numpy generators by their state; the plugins are
        copied with the module's objects memoized (their references to the live
        module stay intact) and their buffers' arrays shared, not copied: a
        buffer watched by the record's journal writes into its arrays in place
        and journals the overwritten rows, which :meth:`_restore` writes back.
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
        rng = state.get("rng_")  # the strategy's one numpy generator
        if isinstance(rng, np.random.Generator):
            memo[id(rng)] = rng
            generators.append((rng, rng.bit_generator.state))
        for entry in state.get("plugins_") or ():
            _share_copy_on_write(entry[1] if isinstance(entry, tuple) else entry, memo,
                                 generators, journal)
        optimizer = _OptimizerRecord.of(live.get("optimizer_"))
        if optimizer is not None:  # recorded in place, like the module
            del live["optimizer_"]
        state.update(_copy(live, memo))  # the criterion, memoized, stays itself
        state["_optimizer_record"] = optimizer
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
        optimizer = state.pop("_optimizer_record")
        if optimizer is not None:
            optimizer.restore()
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


class _OptimizerRecord:
    """A torch optimizer's parameter groups and per-parameter state, restored in place (the
    optimizer object stays the one callbacks and schedulers hold)."""

    __slots__ = ("optimizer", "groups", "state")

    @classmethod
    def of(cls, optimizer) -> _OptimizerRecord | None:
        """The record, or None for an optimizer that is not a plain ``torch.optim`` one (a
        wrapper: deep-copied instead)."""
        if not isinstance(optimizer, torch.optim.Optimizer) or not type(
                optimizer).__module__.startswith("torch.optim"):
            return None
        record = cls()
        record.optimizer = optimizer
        record.groups = [{k: (list(v) if k == "params" else _value_copy(v)) for k, v in g.items()}
                         for g in optimizer.param_groups]
        record.state = {p: {k: _value_copy(v) for k, v in s.items()}
                        for p, s in optimizer.state.items()}
        return record

    def restore(self) -> None:
        self.optimizer.param_groups[:] = self.groups
        self.optimizer.state.clear()
        self.optimizer.state.update(self.state)


def _value_copy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    return value if isinstance(value, _ATOMIC) else copy.deepcopy(value)


_ATOMIC = (int, float, bool, str, bytes, complex, type(None), torch.dtype, torch.device)


def _copy(value, memo: dict):
    """``copy.deepcopy(value, memo)`` with a fast path for what a record copies most: plain
    containers, scalars, numpy arrays and skcl's estimators (plugins, buffers, selection
    strategies: their attributes, without ``__getstate__``); anything else is deep-copied."""
    found = memo.get(id(value), memo)
    if found is not memo:
        return found
    kind = type(value)
    if kind in _ATOMIC_TYPES or isinstance(value, np.generic):
        return value
    if kind is dict:
        out: dict = {}
        memo[id(value)] = out
        for k, v in value.items():
            out[k] = _copy(v, memo)
        return out
    if kind is list:
        out_list: list = []
        memo[id(value)] = out_list
        out_list.extend(_copy(v, memo) for v in value)
        return out_list
    if kind is tuple:
        return tuple(_copy(v, memo) for v in value)
    if kind is np.ndarray and value.dtype != object:
        out_array = value.copy()
        memo[id(value)] = out_array
        return out_array
    if _is_skcl_estimator(kind):
        new = kind.__new__(kind)
        memo[id(value)] = new
        vars(new).update(_copy(vars(value), memo))
        return new
    return copy.deepcopy(value, memo)


_ATOMIC_TYPES = frozenset(_ATOMIC)
_ESTIMATOR_KINDS: dict[type, bool] = {}


def _is_skcl_estimator(kind: type) -> bool:
    """Plugins, buffers and selection strategies whose copy is their attributes' copy (no
    ``__slots__``, no pickling or copying of their own but ExemplarsBuffer's ``__deepcopy__``,
    which copies attributes too)."""
    known = _ESTIMATOR_KINDS.get(kind)
    if known is not None:
        return known
    from sklearn.base import BaseEstimator

    from skcl.buffers import ExemplarsBuffer
    from skcl.plugins import StrategyPlugin
    from skcl.selection import ExemplarsSelectionStrategy

    plain = (issubclass(kind, StrategyPlugin | ExemplarsBuffer | ExemplarsSelectionStrategy)
             and "__slots__" not in vars(kind)
             and getattr(kind, "__deepcopy__", None) in (None, ExemplarsBuffer.__deepcopy__)
             and kind.__reduce_ex__ is object.__reduce_ex__
             and kind.__getstate__ in (BaseEstimator.__getstate__, ExemplarsBuffer.__getstate__)
             and kind.__setstate__ is BaseEstimator.__setstate__)
    _ESTIMATOR_KINDS[kind] = plain
    return plain
