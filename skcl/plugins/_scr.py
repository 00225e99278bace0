"""`SCRPlugin`: supervised contrastive replay with a nearest-class-mean classifier."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from skcl.plugins._der import OnlineRehearsalPlugin
from skcl.transforms import BatchTransform
from skcl.utils import Interval, eval_mode, validate_params

__all__ = ["FeatureNoise", "SCRPlugin", "supcon_loss"]


def supcon_loss(z: torch.Tensor, y: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al., 2020) of L2-normalised embeddings.

    For each anchor ``i``, with ``P(i)`` the other embeddings of its label and
    ``A(i)`` all the others:
    ``-1/|P(i)| sum_{p in P(i)} log(exp(z_i.z_p/t) / sum_{a in A(i)} exp(z_i.z_a/t))``,
    averaged over the anchors that have a positive. The row maximum is
    subtracted (detached) before exponentiating, for stability.

    Parameters
    ----------
    z : Tensor of shape (n, d)
        Embeddings (already normalised; all views stacked along the rows).
    y : Tensor of shape (n,)
    temperature : float, default=0.1

    Examples
    --------
    >>> import torch
    >>> from skcl.plugins._scr import supcon_loss
    >>> z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> round(supcon_loss(z, torch.tensor([0, 0, 1]), 1.0).item(), 4)  # see the tests
    0.3133
    """
    n = len(z)
    sim = z @ z.T / temperature
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    sim = sim - sim.masked_fill(self_mask, float("-inf")).max(dim=1, keepdim=True).values.detach()
    exp = torch.exp(sim).masked_fill(self_mask, 0.0)
    log_prob = sim - torch.log(exp.sum(dim=1, keepdim=True))
    pos = (y[:, None] == y[None, :]) & ~self_mask
    n_pos = pos.sum(dim=1)
    has = n_pos > 0
    if not bool(has.any()):
        return z.sum() * 0.0
    mean_log_prob = (log_prob * pos).sum(dim=1)[has] / n_pos[has]
    return -mean_log_prob.mean()


class FeatureNoise(BatchTransform):
    """Augmentation for flat (tabular) features: scaled Gaussian noise, then feature dropout.

    ``x + noise * std(x) * N(0, 1)`` (the per-feature standard deviation of
    the batch), then each feature zeroed with probability ``dropout``. SCR's
    default view for non-image data.

    Parameters
    ----------
    noise : float, default=0.1
    dropout : float, default=0.1

    Examples
    --------
    >>> import torch
    >>> from skcl.plugins import FeatureNoise
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.arange(8.0).reshape(4, 2)
    >>> FeatureNoise(noise=0.0, dropout=0.0)(x, generator=g).equal(x)
    True
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "noise": [Interval("real", 0, None)],
        "dropout": [Interval("real", 0, 1, closed="both")],
    }

    def __init__(self, noise: float = 0.1, dropout: float = 0.1):
        self.noise = noise
        self.dropout = dropout

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        validate_params(self._parameter_constraints, vars(self), type(self).__name__)
        x = x.float()
        dev = x.device if generator is None else generator.device
        if self.noise > 0 and len(x) > 1:
            eps = torch.randn(x.shape, generator=generator, device=dev).to(x.device)
            x = x + self.noise * x.std(dim=0, keepdim=True) * eps
        if self.dropout > 0:
            keep = torch.rand(x.shape, generator=generator, device=dev).to(x.device)
            x = x * (keep >= self.dropout)
        return x


class SCRPlugin(OnlineRehearsalPlugin):
    """Supervised contrastive replay (Mai et al., CVPR-W 2021).

    The loss is replaced by the supervised contrastive loss
    (:func:`supcon_loss`) of the projected, L2-normalised features of the
    minibatch and a replayed memory batch, in two views: the inputs as they
    are and an augmented copy (``transform``; default :class:`FeatureNoise`
    for flat data; for images pass e.g. a :mod:`skcl.transforms` crop and
    flip). The projection head ``Linear(d, d), ReLU, Linear(d,
    projection_size)`` over the module's features (``module_.get_features``)
    is added to the module as ``scr_projection`` (so it is trained by the
    strategy's optimizer, pickled and rolled back with the module) and is
    used only in training. At predict time the logits are replaced by a
    nearest-class-mean classifier: ``-||f(x) - mu_c||^2`` with ``f`` the
    normalised features and ``mu_c`` the normalised mean of class ``c``'s
    exemplars in memory (recomputed when the model or memory changed since
    the last prediction); classes with no exemplar get ``-inf``. The
    classifier layer of the module is not trained. The memory is a reservoir
    updated after every step, so SCR works online and offline. Unlike the
    paper, the very first minibatch (empty memory) is trained on its two
    views alone, and the end-of-task "review trick" is not done.

    Parameters
    ----------
    mem_size : int, default=200
    batch_size_mem : int, default=100
        Replayed samples per step.
    temperature : float, default=0.1
    projection_size : int, default=128
    transform : callable or None, default=None
        ``None`` uses ``FeatureNoise()`` (flat inputs only).
    update_every : int, default=8
        Optimizer steps between memory updates (see
        :class:`~skcl.plugins.OnlineRehearsalPlugin`).

    Attributes
    ----------
    storage_ : ReservoirSamplingBuffer
    class_means_ : Tensor of shape (n_units, n_features)
        The nearest-class-mean prototypes last computed (NaN rows: no exemplar).

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.plugins import SCRPlugin
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(plugins=[SCRPlugin(mem_size=100, projection_size=32)], lr=0.1,
    ...             random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> net.score(test[0]) > 0.5
    True
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "temperature": [Interval("real", 0, None, closed="neither")],
        "projection_size": [Interval("int", 1, None)],
    }

    def __init__(self, mem_size: int = 200, batch_size_mem: int | None = 100,
                 temperature: float = 0.1, projection_size: int = 128, transform=None,
                 update_every: int = 8):
        super().__init__(mem_size, batch_size_mem, transform, update_every)
        self.temperature = temperature
        self.projection_size = projection_size

    def before_training_exp(self, strategy, experience) -> None:
        super().before_training_exp(strategy, experience)
        module = strategy.module_
        if not callable(getattr(module, "get_features", None)):
            raise TypeError(f"SCR needs a module with get_features(x) (features before the "
                            f"classifier); {type(module).__name__} has none.")
        if not isinstance(getattr(module, "scr_projection", None), torch.nn.Module):
            d = self._feature_size(strategy)
            g = torch.Generator().manual_seed(int(self.rng_.integers(2**31 - 1)))
            head = torch.nn.Sequential(torch.nn.Linear(d, d), torch.nn.ReLU(),
                                       torch.nn.Linear(d, self.projection_size))
            with torch.no_grad():
                for p in head.parameters():  # seeded like torch's default init
                    bound = 1.0 / (p.shape[-1] if p.ndim > 1 else d) ** 0.5
                    p.uniform_(-bound, bound, generator=g)
            module.add_module("scr_projection", head.to(strategy.device))
            strategy.rebuild_optimizer(keep_state=True)
        self.default_transform_ = FeatureNoise()
        self.stale_ = True

    def _feature_size(self, strategy) -> int:
        size = getattr(strategy.module_, "feature_size", None)
        if isinstance(size, int):
            return size
        x = strategy.current_experience_data().X[:2]
        with eval_mode(strategy.module_):
            return int(strategy.module_.get_features(x.to(strategy.device)).shape[1])

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform is None:
            return self.default_transform_(x, generator=self.torch_generator_)
        return super()._augment(x)

    def _embed(self, strategy, x: torch.Tensor) -> torch.Tensor:
        module = strategy.module_
        return F.normalize(module.scr_projection(module.get_features(x.to(strategy.device))),
                           dim=1)

    def compute_loss(self, strategy, y_pred, y_true, inputs):
        x, y = inputs["x"], y_true.to(y_pred.device)
        mem = self._draw(self._n_mem(len(y_true)))
        if mem is not None:
            # replayed exemplars go through train_transform like the incoming batch did
            x_mem = strategy.transform_inputs(mem[0]["x"], training=True)
            x = torch.cat([x_mem.to(x.device), x])
            y = torch.cat([mem[1].to(y.device), y])
        z = torch.cat([self._embed(strategy, x), self._embed(strategy, self._augment(x))])
        return supcon_loss(z, torch.cat([y, y]), self.temperature)

    def after_training_iteration(self, strategy, batch) -> None:
        super().after_training_iteration(strategy, batch)
        self.stale_ = True

    def _features(self, strategy, x: torch.Tensor) -> torch.Tensor:
        with eval_mode(strategy.module_):
            return F.normalize(strategy.module_.get_features(x.to(strategy.device)), dim=1)

    def _compute_means(self, strategy, n_units: int) -> torch.Tensor:
        storage = self.storage_
        # the stored exemplars as the model sees them at predict time (eval_transform)
        feats = torch.cat([self._features(strategy, strategy.transform_inputs(
            storage.X_[i:i + 256], training=False)) for i in range(0, len(storage), 256)])
        y = storage.y_.to(feats.device)
        means = torch.full((n_units, feats.shape[1]), float("nan"), device=feats.device)
        sums = torch.zeros(n_units, feats.shape[1], device=feats.device).index_add_(0, y, feats)
        counts = torch.bincount(y, minlength=n_units)
        has = counts > 0
        means[has] = F.normalize(sums[has] / counts[has, None], dim=1)
        return means

    def after_training_exp(self, strategy, experience) -> None:
        super().after_training_exp(strategy, experience)
        # computed once here, so that predicting is read-only
        self.class_means_ = self._compute_means(strategy, len(strategy.class_order_))
        self.stale_ = False

    def adapt_eval_output(self, strategy, inputs, output):
        n_units = output.shape[1]
        means = getattr(self, "class_means_", None)
        if getattr(self, "stale_", True) or means is None or len(means) != n_units:
            # predicting mid-experience: means of the model as it is, not kept
            means = self._compute_means(strategy, n_units)
        f = self._features(strategy, inputs["x"])
        dist = torch.cdist(f, torch.nan_to_num(means)).pow(2)
        return (-dist).masked_fill(torch.isnan(means[:, 0])[None, :], float("-inf"))
