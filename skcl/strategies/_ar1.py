"""AR1* with latent replay (Maltoni & Lomonaco 2019; Pellegrini et al., IROS 2020)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from skcl.models._ar1_net import AR1Net
from skcl.plugins._cwr_star import CWRStarPlugin
from skcl.plugins._latent_replay import LatentReplayPlugin
from skcl.strategies._base import BaseStrategy
from skcl.utils import BatchIterator, Interval, TrainData

__all__ = ["AR1"]


class _AR1CWRStarPlugin(CWRStarPlugin):
    """CWR* as AR1 uses it: the rest of the model is not frozen."""

    def __init__(self, cwr_layer_name: str | None = None):
        super().__init__(cwr_layer_name=cwr_layer_name, freeze_remaining_model=False)


class AR1(BaseStrategy):
    """AR1* with latent replay: CWR* output weights, latent replay, batch renormalization.

    The network (default :class:`~skcl.models.AR1Net`, a small CNN with
    :class:`~skcl.models.BatchRenorm2d` layers, sized from the data: images
    ``(channels, height, width)`` of any size, or flat rows of a square gray
    image such as 8x8 digits or 28x28 MNIST; any module with named layers
    works) is split at ``latent_layer_name``: the layers up to it train on
    the first experience only, the ones above keep training on every
    experience with ``inc_lr``, on minibatches that mix current samples with
    replayed latent activations (see
    :class:`~skcl.plugins.LatentReplayPlugin`); the output layer is handled by CWR*
    (:class:`~skcl.plugins.CWRStarPlugin`, without freezing), whose
    per-class counts include the memory's. SGD with ``momentum`` and ``l2``
    weight decay. Nothing is downloaded: the reference's ImageNet-pretrained
    MobileNetV1 is replaced by the module you pass.

    Not included: the optional SI regularization of the reference (its
    ``ewc_lambda``, 0 by default there).

    Parameters
    ----------
    module : default=None
        ``None`` builds :class:`~skcl.models.AR1Net`.
    latent_layer_name : str, default="lat_features"
    rm_sz : int, default=1500
    inc_lr : float, default=5e-5
    momentum : float, default=0.9
    l2 : float, default=5e-4
        SGD weight decay (used when ``optimizer`` is SGD and neither
        ``optimizer__momentum`` nor ``optimizer__weight_decay`` is given).
    init_update_rate, inc_update_rate, max_r_max, max_d_max, inc_step : float
        Batch renormalization schedule (see :class:`~skcl.plugins.LatentReplayPlugin`).
    cwr_layer_name : str, default=None
        CWR* layer; ``None``: the last Linear.
    lr : float, default=0.001
    max_epochs : int, default=4
    batch_size : int, default=128
    **kwargs
        Every other parameter of :class:`BaseStrategy`.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import AR1
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = AR1(lr=0.05, inc_lr=0.01, batch_size=32, max_epochs=2, rm_sz=200, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.named_plugins_["latent_replay"].rm_y_)
    200
    """

    _builtin_plugins = {"latent_replay": LatentReplayPlugin, "cwr": _AR1CWRStarPlugin}
    _plugin_aliases = {
        "latent_layer_name": ("latent_replay", "latent_layer_name"),
        "rm_sz": ("latent_replay", "rm_sz"),
        "inc_lr": ("latent_replay", "inc_lr"),
        "init_update_rate": ("latent_replay", "init_update_rate"),
        "inc_update_rate": ("latent_replay", "inc_update_rate"),
        "max_r_max": ("latent_replay", "max_r_max"),
        "max_d_max": ("latent_replay", "max_d_max"),
        "inc_step": ("latent_replay", "inc_step"),
        "cwr_layer_name": ("cwr", "cwr_layer_name"),
    }

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "momentum": [Interval("real", 0, None)],
        "l2": [Interval("real", 0, None)],
    }

    def __init__(
        self,
        module=None,
        *,
        latent_layer_name: str = "lat_features",
        rm_sz: int = 1500,
        inc_lr: float = 5e-05,
        momentum: float = 0.9,
        l2: float = 0.0005,
        init_update_rate: float = 0.01,
        inc_update_rate: float = 5e-05,
        max_r_max: float = 1.25,
        max_d_max: float = 0.5,
        inc_step: float = 4.1e-05,
        cwr_layer_name: str | None = None,
        lr=0.001,
        max_epochs=4,
        batch_size=128,
        **kwargs,
    ):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size, **kwargs)
        self.latent_layer_name = latent_layer_name
        self.rm_sz = rm_sz
        self.inc_lr = inc_lr
        self.momentum = momentum
        self.l2 = l2
        self.init_update_rate = init_update_rate
        self.inc_update_rate = inc_update_rate
        self.max_r_max = max_r_max
        self.max_d_max = max_d_max
        self.inc_step = inc_step
        self.cwr_layer_name = cwr_layer_name

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {"module": _TinyAR1Net, "latent_layer_name": "lower", "lr": 0.1, "inc_lr": 0.05,
                "max_epochs": 30, "batch_size": 64, "rm_sz": 20, "random_state": 0}

    def initialize_module(self):
        if self.module is None:
            kwargs = self.get_params_for("module")
            if "in_features" not in kwargs:
                if not hasattr(self, "n_features_in_"):
                    raise ValueError("The module needs in_features: call partial_fit/fit first.")
                # every trailing dimension: images of shape (c, h, w) are fed flat
                kwargs["in_features"] = self._module_in_features()
                if "image_shape" not in kwargs:
                    kwargs["image_shape"] = self._ar1_image_shape()
            self.module_ = self.initialized_instance(AR1Net, kwargs)
            return self
        return super().initialize_module()

    def _ar1_image_shape(self) -> tuple[int, int, int] | None:
        """The (channels, height, width) of image inputs for AR1Net; None for flat rows."""
        shape = tuple(getattr(self, "input_shape_", None) or (self.n_features_in_,))
        if len(shape) == 1:
            return None  # AR1Net reads flat rows as a square gray image (or names the problem)
        if len(shape) == 2:
            return (1, *shape)  # (height, width): one channel
        if len(shape) == 3:
            return shape
        raise ValueError(
            f"AR1's default network (AR1Net) takes images of shape (channels, height, width), "
            f"(height, width) or flat rows; X has samples of shape {shape}. Pass a module for "
            "such inputs, or reshape them.")

    def get_params_for_optimizer(self, prefix, named_parameters):
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if prefix == "optimizer" and self.optimizer is torch.optim.SGD:
            kwargs.setdefault("momentum", self.momentum)
            kwargs.setdefault("weight_decay", self.l2)
        return args, kwargs

    def _cwr_extra_counts(self) -> np.ndarray:
        return self.named_plugins_["latent_replay"].memory_counts()

    def get_iterator(self, dataset, training=False):
        replay = self.named_plugins_.get("latent_replay") if self.initialized_ else None
        n_mem = replay.memory_size() if replay is not None else 0
        if (training and isinstance(dataset, TrainData) and n_mem and self.batch_size > 0
                and self.n_experiences_ > 0):
            n_cur = len(dataset)
            n_iters = max(1, (n_cur + n_mem) // self.batch_size)
            cur_mb = max(1, n_cur // n_iters)
            return BatchIterator(dataset, cur_mb, shuffle=True, generator=self.shuffle_generator_,
                                 should_stop=self._should_stop)
        return super().get_iterator(dataset, training=training)

    def infer(self, x, **fit_params):
        if isinstance(x, dict) and "latent_acts" in x:
            acts = x["latent_acts"].to(self.device)
            layer = dict(self.module_.named_modules())[self.latent_layer_name]
            handle = layer.register_forward_hook(lambda m, a, out: torch.cat([out, acts]))
            try:
                return self.module_(x["x"].to(self.device), **fit_params)
            finally:
                handle.remove()
        return super().infer(x, **fit_params)


class _TinyAR1Net(nn.Module):
    """A tiny network with a named latent layer, for the common tests."""

    def __init__(self, in_features: int, n_classes: int = 2):
        from skcl.models._batch_renorm import BatchRenorm1d
        from skcl.models._dynamic import IncrementalClassifier

        super().__init__()
        self.lower = nn.Sequential(nn.Flatten(), nn.Linear(in_features, 16), nn.ReLU())
        self.upper = nn.Sequential(nn.Linear(16, 16, bias=False), BatchRenorm1d(16), nn.ReLU())
        self.classifier = IncrementalClassifier(16, n_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.upper(self.lower(x)))
