"""skorch-native checkpoints that carry the continual-learning state.

skorch saves what has a ``state_dict``: ``save_params(f_params=..., f_optimizer=...)``
and its ``Checkpoint``/``LoadInitState`` callbacks. The strategy's continual-learning
state (class order, tasks seen, input shape, every plugin's learned state, the random
generators) is exposed the same way, as the attribute ``cl_state_``, so
``save_params(f_cl_state=...)``, ``load_params(f_cl_state=...)`` and
``Checkpoint(f_cl_state="cl_state.pt")`` carry it with no other change.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import torch
from skorch.history import History

__all__ = ["ContinualState", "Persistence"]

# Attributes that are not continual-learning state: skorch's own (saved through its
# f_* files or rebuilt by initialize) and what lives only during one experience.
_NOT_STATE = frozenset({
    "optimizer_", "criterion_", "history_", "callbacks_", "initialized_", "virtual_params_",
    "plugin_hooks_", "callback_index_", "experience_", "train_data_", "eval_streams_",
    "shuffle_generator_", "transform_generator_", "stop_requested_", "train_batch_size_",
    "divergence_warned_",
    "cl_state_", "_modules", "_criteria", "_optimizers",
})


class ContinualState:
    """The strategy's continual-learning state as a ``state_dict`` (a uint8 tensor of a pickle).

    skorch's ``save_params``/``load_params`` save and load ``state_dict()``s with
    ``torch.save``/``torch.load(weights_only=True)``; the state (numpy arrays,
    plugins, generators) travels as the bytes of one pickle, which also keeps
    the plugins' references to the module they were saved with. Load only
    files you trust, as with any pickle.
    """

    def __init__(self, strategy: Any):
        self.strategy = strategy

    def state_dict(self) -> dict[str, torch.Tensor]:
        net = self.strategy
        state = {k: v for k, v in vars(net).items()
                 if k.endswith("_") and k not in _NOT_STATE}
        payload = pickle.dumps({"class": type(net).__name__, "state": state},
                               protocol=pickle.HIGHEST_PROTOCOL)
        return {"pickle": torch.frombuffer(bytearray(payload), dtype=torch.uint8)}

    def load_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        self.strategy._load_cl_state(state_dict)


class Persistence:
    """Part of :class:`~skcl.strategies.BaseStrategy`.

    ``cl_state_`` for skorch's checkpoint machinery, and a ``load_params``
    that rebuilds a fresh strategy from it before loading the weights.
    """

    @property
    def cl_state_(self) -> ContinualState:
        """The continual-learning state, for ``save_params(f_cl_state=...)``."""
        if "class_order_" not in vars(self):
            raise AttributeError("cl_state_ exists once the strategy has been fitted.")
        return ContinualState(self)

    def load_params(self, f_params=None, f_optimizer=None, f_criterion=None, f_history=None,
                    checkpoint=None, f_cl_state=None, **kwargs):
        """skorch's ``load_params``, plus ``f_cl_state``: the continual-learning state.

        Loaded first, it rebuilds the network (input size, grown heads, plugins)
        so that the weights, the optimizer and the criterion then load into a
        fresh, unfitted strategy too; the result predicts and continues
        training exactly like the strategy that was saved.

        Examples
        --------
        >>> import tempfile, os
        >>> from sklearn.base import clone
        >>> from skcl.benchmarks import split_digits
        >>> from skcl.strategies import Replay
        >>> train, _ = split_digits(n_experiences=2, random_state=0)
        >>> net = Replay(mem_size=20, random_state=0).partial_fit(train[0])
        >>> d = tempfile.mkdtemp()
        >>> files = {k: os.path.join(d, k + ".pt") for k in ("f_params", "f_optimizer",
        ...                                                     "f_cl_state")}
        >>> net.save_params(**files)
        >>> fresh = clone(net)
        >>> fresh.load_params(**files)
        >>> bool((fresh.predict(train[0].X) == net.predict(train[0].X)).all())
        True
        """
        if f_cl_state is None and getattr(checkpoint, "f_cl_state", None) is not None:
            # the file of a Checkpoint(f_cl_state=...); formatted as skorch's Checkpoint does,
            # but before initialization (a template may not use the history)
            f_cl_state = os.path.join(checkpoint.dirname,
                                      checkpoint.fn_prefix + checkpoint.f_cl_state)
        if f_cl_state is not None:
            state_dict = torch.load(f_cl_state, map_location="cpu", weights_only=True)
            self._load_cl_state(state_dict)
        elif "class_order_" not in vars(self) and (f_params is not None or checkpoint is not None):
            raise ValueError(
                f"load_params into an unfitted {type(self).__name__} needs the continual-learning "
                "state too: pass f_cl_state= (saved with save_params(f_cl_state=...) or "
                "Checkpoint(f_cl_state=...)) so the network is rebuilt with its input size, heads "
                "and plugins before the weights load.")
        if checkpoint is not None:
            if not self.initialized_:
                self.initialize()
            if f_history is None and checkpoint.f_history is not None:  # as skorch does
                self.history = History.from_file(checkpoint.f_history_)
            kwargs.update({k: v for k, v in checkpoint.get_formatted_files(self).items()
                           if k != "f_cl_state" and k not in kwargs})
            for key, value in (("f_params", f_params), ("f_optimizer", f_optimizer),
                               ("f_criterion", f_criterion), ("f_history", f_history)):
                if value is not None:
                    kwargs[key] = value
            return super().load_params(**{k: v for k, v in kwargs.items() if v is not None})
        return super().load_params(f_params=f_params, f_optimizer=f_optimizer,
                                   f_criterion=f_criterion, f_history=f_history, **kwargs)

    def _load_cl_state(self, state_dict: dict[str, torch.Tensor]) -> None:
        saved = pickle.loads(state_dict["pickle"].numpy().tobytes())
        if saved["class"] != type(self).__name__:
            raise ValueError(f"The continual-learning state was saved from a {saved['class']}, "
                             f"not a {type(self).__name__}.")
        state = saved["state"]
        for key in ("n_features_in_", "input_shape_"):  # the module's size, before initialize
            if key in state:
                setattr(self, key, state[key])
        if not self.initialized_:
            self.initialize()
        vars(self).update(state)  # module_ and plugins_ together: their references agree
        self.initialize_optimizer()
        self._index_hooks()

