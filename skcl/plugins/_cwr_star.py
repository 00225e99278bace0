"""CWR* (Lomonaco, Maltoni & Pellegrini, CVPR-W 2020): consolidated output weights."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from skcl.plugins._base import StrategyPlugin

__all__ = ["CWRStarPlugin", "cwr_consolidate", "freeze_modules"]

# A finite "minus infinity" for units no experience has consolidated yet.
_MASK = -1e4


def _keep_frozen_in_eval(root: nn.Module, args) -> None:
    """Forward pre-hook: modules flagged frozen stay in eval mode while the rest trains."""
    if root.training:
        for m in root.modules():
            if getattr(m, "_skcl_frozen", False):
                m.eval()


def freeze_modules(root: nn.Module, modules) -> None:
    """Freeze ``modules`` inside ``root``: no gradients, and eval mode even while training.

    Batch-norm statistics and dropout of a frozen module therefore stop
    changing too. The flag travels with the module (pickle, deepcopy).
    """
    for m in modules:
        m._skcl_frozen = True
        m.eval()
        for p in m.parameters(recurse=False):
            p.requires_grad_(False)
    if not getattr(root, "_skcl_freeze_hook", False):
        root.register_forward_pre_hook(_keep_frozen_in_eval)
        root._skcl_freeze_hook = True


def cwr_consolidate(saved: np.ndarray, past: np.ndarray, trained: np.ndarray,
                    units: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One CWR* consolidation step (the paper's Algorithm, lines "for each class j in B_i").

    ``avg`` is the mean of all entries of the trained rows of the classes in
    the batch; for each such class ``j``, ``w_past = sqrt(past_j / cur_j)`` and
    ``saved_j = (saved_j * w_past + (trained_j - avg)) / (w_past + 1)``, then
    ``past_j += cur_j``. A class never consolidated before (``past_j = 0``)
    simply gets ``trained_j - avg``.

    Parameters
    ----------
    saved : ndarray of shape (n_units, n_inputs)
        Consolidated weights before the step.
    past : ndarray of shape (n_units,)
        Samples of each unit consolidated so far.
    trained : ndarray of shape (n_units, n_inputs)
        Weights after training on the batch.
    units : ndarray of int
        Units (classes) present in the batch.
    counts : ndarray
        Samples of each of ``units`` in the batch.

    Returns
    -------
    saved, past : new arrays

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.plugins._cwr_star import cwr_consolidate
    >>> saved, past = np.zeros((2, 2)), np.zeros(2)
    >>> saved, past = cwr_consolidate(saved, past, np.array([[1., 3.], [3., 5.]]),
    ...                               np.array([0, 1]), np.array([4, 2]))
    >>> saved.tolist(), past.tolist()
    ([[-2.0, 0.0], [0.0, 2.0]], [4.0, 2.0])
    """
    saved, past = saved.copy(), past.astype(np.float64).copy()
    units = np.asarray(units, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    avg = trained[units].mean()
    for j, cur in zip(units, counts, strict=True):
        w_past = np.sqrt(past[j] / cur)
        saved[j] = (saved[j] * w_past + (trained[j] - avg)) / (w_past + 1.0)
        past[j] += cur
    return saved, past


class CWRStarPlugin(StrategyPlugin):
    """CWR*: train fresh output weights per experience, consolidate them by running average.

    The output layer (``cwr_layer_name``) keeps two sets of weights: the
    training weights of the layer itself, and consolidated weights
    (``consolidated_weights_``), kept apart. At the start of each experience
    every row of the layer is zeroed and the consolidated rows of the
    classes present in the experience are loaded; after the experience the
    trained rows of those classes are merged into the consolidated weights
    (see :func:`cwr_consolidate`) and all consolidated rows are written back
    to the layer, so predictions use the consolidated weights. With
    ``freeze_remaining_model``, everything except the output layer is frozen
    (no gradients, eval mode) from the second experience on.

    Bias: the paper's output layer has per-class weight vectors and no
    separate bias. Here a bias, when the layer has one, is treated as one more
    input weight of each class (the augmented-input view ``x -> [x, 1]``): it
    is reset, mean-shifted and consolidated together with the weights.
    (Avalanche never resets or consolidates the bias; see the reference.)

    Units no experience has consolidated yet (possible with ``classes=`` given
    up front) cannot win a prediction.

    Parameters
    ----------
    cwr_layer_name : str, default=None
        Name (as in ``module.named_modules()``) of the ``torch.nn.Linear``
        output layer; ``None`` picks the last Linear of the module.
    freeze_remaining_model : bool, default=True
        Freeze all other layers after the first experience.

    Attributes
    ----------
    consolidated_weights_ : ndarray of shape (n_units, n_inputs [+ 1])
        The consolidated weights (bias, if any, in the last column).
    past_counts_ : ndarray of shape (n_units,)
        Samples of each unit consolidated so far (the paper's ``past_j``).
    cur_counts_ : ndarray of shape (n_units,)
        Samples of each unit in the current experience (``cur_j``).
    layer_name_ : str
        The resolved output layer.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import CWRStarPlugin
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[CWRStarPlugin()], lr=0.1, max_epochs=3, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.named_plugins_["cwrstar"].consolidated_weights_.shape
    (10, 101)
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "cwr_layer_name": [None, "string"],
        "freeze_remaining_model": ["boolean"],
    }

    def __init__(self, cwr_layer_name: str | None = None, freeze_remaining_model: bool = True):
        self.cwr_layer_name = cwr_layer_name
        self.freeze_remaining_model = freeze_remaining_model

    # -- the layer ---------------------------------------------------------
    def _resolve_layer(self, strategy) -> str:
        modules = dict(strategy.module_.named_modules())
        if self.cwr_layer_name is None:
            linears = [n for n, m in modules.items() if isinstance(m, nn.Linear)]
            if not linears:
                raise ValueError("CWRStarPlugin: the module has no torch.nn.Linear layer; "
                                 "set cwr_layer_name.")
            return linears[-1]
        if self.cwr_layer_name not in modules:
            raise ValueError(
                f"CWRStarPlugin: no layer named {self.cwr_layer_name!r}; known names: "
                f"{[n for n in modules if n]}.")
        if not isinstance(modules[self.cwr_layer_name], nn.Linear):
            raise ValueError(f"CWRStarPlugin: layer {self.cwr_layer_name!r} must be a "
                             f"torch.nn.Linear; got {type(modules[self.cwr_layer_name]).__name__}.")
        return self.cwr_layer_name

    def _layer(self, strategy) -> nn.Linear:
        return dict(strategy.module_.named_modules())[self.layer_name_]

    @staticmethod
    def _get_rows(layer: nn.Linear) -> np.ndarray:
        w = layer.weight.detach().cpu().double().numpy()
        if layer.bias is not None:
            w = np.hstack([w, layer.bias.detach().cpu().double().numpy()[:, None]])
        return w

    @staticmethod
    def _set_rows(layer: nn.Linear, rows: np.ndarray) -> None:
        with torch.no_grad():
            t = torch.as_tensor(rows, dtype=layer.weight.dtype, device=layer.weight.device)
            if layer.bias is not None:
                layer.weight.copy_(t[:, :-1])
                layer.bias.copy_(t[:, -1])
            else:
                layer.weight.copy_(t)

    def _current_counts(self, strategy, experience) -> np.ndarray:
        n_rows = self._layer(strategy).out_features
        units = strategy.encode_labels(np.asarray(experience.y).reshape(-1))
        counts = np.bincount(units, minlength=n_rows).astype(np.float64)
        extra = getattr(strategy, "_cwr_extra_counts", None)
        if extra is not None:  # AR1: the latent replay memory's classes
            more = np.asarray(extra(), dtype=np.float64)
            counts[: len(more)] += more
        return counts

    # -- hooks ---------------------------------------------------------------
    def before_training_exp(self, strategy, experience) -> None:
        self.layer_name_ = self._resolve_layer(strategy)
        layer = self._layer(strategy)
        width = layer.in_features + (layer.bias is not None)
        n_rows = layer.out_features
        saved = getattr(self, "consolidated_weights_", np.zeros((0, width)))
        if saved.shape[1] != width:
            raise ValueError(f"CWRStarPlugin: the layer {self.layer_name_!r} changed its input "
                             f"size ({saved.shape[1]} -> {width}).")
        past = getattr(self, "past_counts_", np.zeros(0))
        self.consolidated_weights_ = np.vstack([saved, np.zeros((n_rows - len(saved), width))])
        self.past_counts_ = np.concatenate([past, np.zeros(n_rows - len(past))])
        if self.freeze_remaining_model and strategy.n_experiences_ > 0:
            name = self.layer_name_
            others = [m for n, m in strategy.module_.named_modules()
                      if not (n == "" or name.startswith(n + ".") or n == name
                              or n.startswith(name + "."))]
            freeze_modules(strategy.module_, others)
        self.cur_counts_ = self._current_counts(strategy, experience)
        present = np.flatnonzero(self.cur_counts_)
        rows = np.zeros((n_rows, width))
        rows[present] = self.consolidated_weights_[present]
        self._set_rows(layer, rows)

    def after_training_exp(self, strategy, experience) -> None:
        layer = self._layer(strategy)
        present = np.flatnonzero(self.cur_counts_)
        self.consolidated_weights_, self.past_counts_ = cwr_consolidate(
            self.consolidated_weights_, self.past_counts_, self._get_rows(layer), present,
            self.cur_counts_[present])
        self._set_rows(layer, self.consolidated_weights_)

    def adapt_eval_output(self, strategy, inputs, output: torch.Tensor) -> torch.Tensor:
        past = getattr(self, "past_counts_", None)
        if past is None or not past.any():
            return output
        never = torch.as_tensor(past[: output.shape[1]] == 0, device=output.device)
        if len(never) < output.shape[1]:
            never = torch.nn.functional.pad(never, (0, output.shape[1] - len(never)), value=True)
        return output.masked_fill(never, _MASK)
