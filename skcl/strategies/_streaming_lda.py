"""Streaming Linear Discriminant Analysis (Hayes & Kanan, CVPR-W 2020)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from skcl.strategies._base import BaseStrategy
from skcl.utils import Interval

__all__ = ["StreamingLDA"]


class StreamingLDA(BaseStrategy):
    """Streaming LDA: running class means and a shared covariance over frozen features.

    A frozen feature extractor (``module``; the identity by default) maps
    each sample to a vector ``z``. Training needs no backpropagation and no
    optimizer: for each sample ``(z, y)``, in stream order, with ``n`` the
    number of updates so far and ``delta = z - mu_y`` (the class mean before
    the update)::

        Sigma <- (n * Sigma + n / (n + 1) * delta delta^T) / (n + 1)   (if streaming_update_sigma)
        mu_y  <- mu_y + delta / (c_y + 1);   c_y += 1;   n += 1

    A minibatch applies exactly these per-sample updates (vectorized), so the
    result does not depend on ``batch_size``. Prediction scores class ``k``
    by ``z^T Lambda mu_k - mu_k^T Lambda mu_k / 2`` with the shrunk precision
    ``Lambda = pinv((1 - eps) Sigma + eps I)``, ``eps = shrinkage_param``
    (``precision_``, recomputed at the end of each experience, or when
    predicting after more updates). Classes never
    seen score minus infinity, so they cannot win (in Avalanche they score 0 and can outrank seen
    classes). ``Sigma`` starts at zero (Avalanche's all-ones start is wiped by
    the first streaming update anyway; with ``streaming_update_sigma=False``
    and no :meth:`fit_base`, zero gives ``Lambda = I / eps``: nearest class
    mean, instead of an all-ones covariance).

    Parameters
    ----------
    module : torch module (class or instance), default=None
        The frozen feature extractor, always run in eval mode without
        gradients. ``None``: the identity (inputs flattened).
    input_size : int, default=None
        Feature size; ``None`` takes it from the first features. When set,
        features of another size raise a ValueError.
    num_classes : int, default=None
        Maximum number of classes; ``None`` grows with the stream.
    shrinkage_param : float, default=1e-4
    streaming_update_sigma : bool, default=True
        Update the covariance while streaming (else it stays as set by
        :meth:`fit_base`, or zero).
    output_layer_name : str, default=None
        If set, features are the output of this named layer of ``module``.
    batch_size : int, default=128
        Minibatch size (only speed depends on it: the updates are per sample).
        Avalanche's ``train_mb_size`` does change its result (its minibatch
        update of ``Sigma`` is not the per-sample one), so a migrating user
        gets the per-sample result whatever minibatch size was used there.
    max_epochs : int, default=1
        Passes over each experience; the paper makes one (more passes count
        every sample again).
    **kwargs
        Other :class:`BaseStrategy` parameters (``random_state``, ``device``,
        ``plugins`` ...). ``criterion``, ``optimizer`` and ``lr`` are unused.

    Attributes
    ----------
    means_ : Tensor of shape (n_classes, input_size), float64
        Class means, rows in output-unit order (``class_order_``).
    counts_ : Tensor of shape (n_classes,)
    covariance_ : Tensor of shape (input_size, input_size), float64
    n_updates_ : int
    precision_ : Tensor of shape (input_size, input_size), float64

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import StreamingLDA
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> slda = StreamingLDA(shrinkage_param=0.1)
    >>> for exp in train:
    ...     _ = slda.partial_fit(exp)
    >>> round(sum(slda.score(e) for e in test) / len(test), 2) > 0.9
    True
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "input_size": [None, Interval("int", 1, None)],
        "num_classes": [None, Interval("int", 1, None)],
        "shrinkage_param": [Interval("real", 0, 1, closed="both")],
        "streaming_update_sigma": ["boolean"],
        "output_layer_name": [None, "string"],
    }

    def __init__(
        self,
        module=None,
        *,
        input_size: int | None = None,
        num_classes: int | None = None,
        shrinkage_param: float = 0.0001,
        streaming_update_sigma: bool = True,
        output_layer_name: str | None = None,
        batch_size=128,
        **kwargs,
    ):
        super().__init__(module, batch_size=batch_size, **kwargs)
        self.input_size = input_size
        self.num_classes = num_classes
        self.shrinkage_param = shrinkage_param
        self.streaming_update_sigma = streaming_update_sigma
        self.output_layer_name = output_layer_name

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {"shrinkage_param": 1e-2, "random_state": 0}

    # ------------------------------------------------------------------ #
    # a frozen extractor and no optimizer
    # ------------------------------------------------------------------ #
    def initialize_module(self):
        if self.module is None:
            self.module_ = nn.Flatten()
        else:
            super().initialize_module()
        self.module_.eval()
        for p in self.module_.parameters():
            p.requires_grad_(False)
        return self

    def initialize_optimizer(self, triggered_directly=None):
        self.optimizer_ = None  # no backpropagation
        return self

    def _rebuild_optimizer(self, keep_state: bool = True) -> None:
        pass

    def _adapt_model(self, n_units: int, data) -> None:
        if self.num_classes is not None and n_units > self.num_classes:
            raise ValueError(f"StreamingLDA: {n_units} classes seen but num_classes="
                             f"{self.num_classes}.")

    def _features(self, inputs: dict, **fit_params) -> torch.Tensor:
        x = inputs["x"].to(self.device)
        self.module_.eval()
        with torch.no_grad():
            if self.output_layer_name is None:
                z = self.infer(dict(inputs, x=x), **fit_params)
            else:
                layers = dict(self.module_.named_modules())
                if self.output_layer_name not in layers:
                    raise ValueError(f"StreamingLDA: no layer named {self.output_layer_name!r}.")
                store = []
                handle = layers[self.output_layer_name].register_forward_hook(
                    lambda m, a, out: store.append(out))
                try:
                    self.infer(dict(inputs, x=x), **fit_params)
                finally:
                    handle.remove()
                z = store[0]
        z = z.reshape(len(z), -1).double().cpu()
        if self.input_size is not None and z.shape[1] != self.input_size:
            raise ValueError(f"StreamingLDA: features have size {z.shape[1]} but input_size="
                             f"{self.input_size}.")
        return z

    def _grow(self, d: int) -> None:
        n_rows = self.num_classes or len(self.class_order_)
        if getattr(self, "means_", None) is None:
            self.means_ = torch.zeros(n_rows, d, dtype=torch.float64)
            self.counts_ = torch.zeros(n_rows, dtype=torch.float64)
            self.covariance_ = torch.zeros(d, d, dtype=torch.float64)
            self.n_updates_ = 0
        elif self.means_.shape[1] != d:
            raise ValueError(f"StreamingLDA: features changed size ({self.means_.shape[1]} -> "
                             f"{d}).")
        extra = n_rows - len(self.means_)
        if extra > 0:
            self.means_ = torch.cat([self.means_, self.means_.new_zeros(extra, d)])
            self.counts_ = torch.cat([self.counts_, self.counts_.new_zeros(extra)])

    def _update(self, z: torch.Tensor, y: torch.Tensor) -> None:
        """The per-sample streaming updates of a minibatch, in order, vectorized."""
        self._grow(z.shape[1])
        means, counts = self.means_.clone(), self.counts_.clone()
        n0 = self.n_updates_
        delta = torch.empty_like(z)
        for c in torch.unique(y).tolist():
            idx = torch.nonzero(y == c).flatten()
            zc = z[idx]
            k = torch.arange(len(idx), dtype=torch.float64)
            cnt = counts[c] + k  # class count before each sample
            prev_sum = means[c] * counts[c] + torch.cumsum(zc, 0) - zc
            mean_before = prev_sum / cnt.clamp(min=1)[:, None]
            mean_before[cnt == 0] = 0.0  # an empty class has mean 0, as in the reference
            delta[idx] = zc - mean_before
            total = counts[c] + len(idx)
            means[c] = (means[c] * counts[c] + zc.sum(0)) / total
            counts[c] = total
        if self.streaming_update_sigma:
            n = n0 + torch.arange(len(z), dtype=torch.float64)  # updates before each sample
            w = n / (n + 1)
            scatter = self.covariance_ * n0 + (delta * w[:, None]).T @ delta
            self.covariance_ = scatter / (n0 + len(z))
        self.means_, self.counts_ = means, counts
        self.n_updates_ = n0 + len(z)

    def train_step(self, batch, **fit_params):
        batch = self._prepare_train_batch(batch)
        self._call("before_training_iteration", batch)
        inputs, y = batch
        z = self._features(inputs, **fit_params)
        if getattr(self, "_batch_init", None) is not None:
            self._batch_init.append((z, y))
        else:
            self._update(z, y.cpu())
        self._call("after_training_iteration", batch)
        return {"loss": torch.zeros(()), "y_pred": torch.zeros(len(y), 0)}

    # ------------------------------------------------------------------ #
    # batch initialization
    # ------------------------------------------------------------------ #
    def fit_base(self, X, y=None, classes=None, **fit_params):
        """Start from scratch with a batch initialization on a first chunk of data.

        Class means and counts are the chunk's; the shared covariance is the
        within-class covariance estimated by scikit-learn's ``OAS`` on the
        class-centred features (``assume_centered=True``), as in the
        reference. Continue with :meth:`partial_fit`.

        Parameters
        ----------
        X : array-like or Experience
        y : array-like, default=None
        classes : array-like, default=None

        Returns
        -------
        self
        """
        from sklearn.covariance import OAS

        self._batch_init = []
        try:
            self.fit(X, y, classes=classes, **fit_params)
            z = torch.cat([c[0] for c in self._batch_init])
            yy = torch.cat([c[1] for c in self._batch_init]).cpu()
        finally:
            del self._batch_init
        self.means_ = None
        self._grow(z.shape[1])
        for c in torch.unique(yy).tolist():
            zc = z[yy == c]
            self.means_[c] = zc.mean(0)
            self.counts_[c] = len(zc)
        centred = (z - self.means_[yy]).numpy()
        self.covariance_ = torch.as_tensor(OAS(assume_centered=True).fit(centred).covariance_,
                                           dtype=torch.float64)
        self.n_updates_ = len(z)
        self._compute_precision()
        return self

    # ------------------------------------------------------------------ #
    # prediction
    # ------------------------------------------------------------------ #
    def _compute_precision(self) -> None:
        """``precision_ = pinv((1 - eps) Sigma + eps I)``, refreshed after each experience."""
        eps = float(self.shrinkage_param)
        d = self.covariance_.shape[0]
        shrunk = (1 - eps) * self.covariance_ + eps * torch.eye(d, dtype=torch.float64)
        chol, info = torch.linalg.cholesky_ex(shrunk)
        if eps > 0 and int(info) == 0:  # positive definite: the inverse is the pseudo-inverse
            self.precision_ = torch.cholesky_inverse(chol)
        else:
            self.precision_ = torch.linalg.pinv(shrunk, hermitian=True)
        self.precision_n_ = self.n_updates_

    def initialize(self):
        super().initialize()
        for attr in ("means_", "counts_", "covariance_", "n_updates_", "precision_",
                     "precision_n_"):
            vars(self).pop(attr, None)
        return self

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        if getattr(self, "_batch_init", None) is None and getattr(self, "means_", None) is not None:
            self._compute_precision()

    def evaluation_step(self, batch, training=False):
        if self.eval_transform is not None:
            batch = self._transform_batch(batch, training=False)
        inputs = batch[0]
        z = self._features(inputs)
        if getattr(self, "precision_n_", None) != self.n_updates_:  # predicting mid-experience
            self._compute_precision()
        lam = self.precision_
        w = self.means_ @ lam  # (C, d)
        c = 0.5 * (w * self.means_).sum(1)
        scores = z @ w.T - c
        scores[:, self.counts_ == 0] = -torch.inf
        return scores.float()
