"""Transactions: what a failed ``partial_fit`` or ``fit`` restores."""

from __future__ import annotations

import copy

import torch

from skcl.utils import (
    ModuleState,
)

__all__ = ["Rollback"]


class Rollback:
    """Part of :class:`~skcl.strategies.BaseStrategy`.

    The record of what a failed ``partial_fit``/``fit`` restores."""

    def _snapshot(self) -> dict:
        """What a failed ``partial_fit`` restores: attributes, module, optimizer, plugins.

        The module and the criterion are recorded in place
        (:class:`~skcl.utils.ModuleState`); the optimizer, plugins and RNG are
        deep-copied with those modules' objects memoized, so their references
        to the live module stay intact.
        """
        state = dict(vars(self))
        module_states = [ModuleState(state[k]) for k in ("module_", "criterion_")
                         if isinstance(state.get(k), torch.nn.Module)]
        memo: dict[int, object] = {}
        for module_state in module_states:
            memo.update(module_state.memo())
        live = {k: state[k] for k in ("optimizer_", "criterion_", "plugins_", "rng_",
                                      "units_by_task_") if k in state}
        state.update(copy.deepcopy(live, memo))  # the criterion, memoized, stays itself
        state["_module_states"] = module_states
        history = state.get("history_")
        state["_history_len"] = None if history is None else len(history)
        return state

    def _restore(self, state: dict) -> None:
        history, n = self.history_, state.pop("_history_len")
        module_states = state.pop("_module_states")
        vars(self).clear()
        vars(self).update(state)
        for module_state in module_states:
            module_state.restore()
        if history is not None and n is not None and history is state.get("history_"):
            del history[n:]
        if "plugins_" in state:
            self._index_hooks()
