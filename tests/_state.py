"""The full-state fingerprint the trust tests compare before and after a call (shared)."""

from __future__ import annotations

import pickle

import numpy as np
import torch

#: Attributes a verb may legitimately touch without changing what the object is.
_TRANSIENT = frozenset({"_modules", "_criteria", "_optimizers"})


def _canon(value):
    """Picklable, comparable form: generators by their state, the rest as is."""
    if isinstance(value, np.random.Generator):
        return ("np.Generator", value.bit_generator.state)
    if isinstance(value, np.random.RandomState):
        return ("np.RandomState", value.get_state(legacy=False))
    if isinstance(value, torch.Generator):
        return ("torch.Generator", value.get_state().numpy().tobytes())
    if isinstance(value, torch.Tensor):
        # the values, bit for bit (not how storages happen to be shared)
        t = value.detach().cpu().contiguous()
        return ("tensor", str(t.dtype), tuple(t.shape), t.view(-1).view(torch.uint8).numpy()
                .tobytes() if t.numel() else b"", value.requires_grad)
    if type(value).__name__ == "LazyX":  # index references: compared by the values read
        return ("LazyX", _canon(value[:]))
    if isinstance(value, np.ndarray) and value.dtype != object:
        return ("ndarray", value.dtype.str, value.shape, np.ascontiguousarray(value).tobytes())
    if isinstance(value, torch.nn.Module):
        # weights, buffers and every submodule's training flag
        return ("module", _canon(dict(value.state_dict())),
                tuple((n, m.training) for n, m in value.named_modules()))
    if isinstance(value, torch.optim.Optimizer):
        return ("optimizer", _canon(value.state_dict()))
    if type(value).__name__ in ("TrainData", "LazyTrainData"):
        return (type(value).__name__, _canon(vars(value)))
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_canon(v) for v in value)
    if hasattr(value, "__dict__") and not isinstance(value, type) and hasattr(value, "get_params"):
        # plugins, buffers, selection strategies: their own fitted state
        return (type(value).__name__, {k: _canon(v) for k, v in vars(value).items()})
    return value


def full_state(obj) -> bytes:
    """Bytes that change whenever anything in ``obj`` changes: weights, training flags,
    optimizer state, counters, random generators, plugins and their buffers, history.

    Two fingerprints of the same unchanged object are equal; compare them with ``==``.
    """
    state = {k: _canon(v) for k, v in vars(obj).items() if k not in _TRANSIENT}
    if getattr(obj, "history_", None) is not None:
        state["history_"] = pickle.dumps(list(obj.history_))
    return pickle.dumps(state)


def state_by_key(obj) -> dict[str, bytes]:
    """The fingerprint per attribute, for comparing two distinct objects (e.g. before and
    after a pickle round trip, where object sharing may be pickled differently) and for
    naming what differs."""
    state = {k: pickle.dumps(_canon(v)) for k, v in vars(obj).items() if k not in _TRANSIENT}
    if getattr(obj, "history_", None) is not None:
        state["history_"] = pickle.dumps(list(obj.history_))
    return state
