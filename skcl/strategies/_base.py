"""`BaseStrategy`: a skorch classifier that learns from a stream of experiences.

The verbs live here (``partial_fit``, ``fit``, ``predict``, ...); each concern they rely on
is a mixin in :mod:`skcl.strategies._core`. Of this module's lines, about 100 are the class
docstring that documents every parameter.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch import NeuralNetClassifier

from skcl.benchmarks._experience import Experience
from skcl.benchmarks._streams import as_named_streams
from skcl.models import MLP
from skcl.strategies._core import (
    InputValidation,
    LabelOrder,
    ModelGrowth,
    Persistence,
    PluginComposition,
    Rollback,
    SklearnConventions,
    SkorchLoop,
)
from skcl.utils import (
    Interval,
    Options,
    TrainData,
    eval_mode,
)

__all__ = ["BaseStrategy"]

def _feature_names(X) -> np.ndarray | None:
    """Column names of a DataFrame-like ``X`` when they are all strings (scikit-learn's rule)."""
    columns = getattr(X, "columns", None)
    if columns is None or not all(isinstance(c, str) for c in columns):
        return None
    return np.asarray(list(columns), dtype=object)


def _add_note(exc: BaseException, note: str) -> None:
    if hasattr(exc, "add_note"):  # Python >= 3.11
        exc.add_note(note)


class BaseStrategy(
    SklearnConventions, PluginComposition, LabelOrder, InputValidation, ModelGrowth, Rollback,
    Persistence, SkorchLoop, NeuralNetClassifier,
):
    """Base class for continual learning strategies (Avalanche's ``BaseStrategy``).

    A skorch :class:`~skorch.NeuralNetClassifier` that knows experiences and
    plugins. One call to :meth:`partial_fit` trains on one experience; the
    plugins hook into the loop (see :class:`~skcl.plugins.StrategyPlugin`).

    Parameters
    ----------
    module : torch module class or instance, default=None
        The network. ``None`` builds :class:`~skcl.models.MLP`. When the
        module's constructor takes ``in_features`` and it is not set through
        ``module__in_features``, it is filled in from the data.
    criterion : torch criterion class, default=torch.nn.CrossEntropyLoss
        Expects logits.
    optimizer : torch optimizer class, default=torch.optim.SGD
    lr : float, default=0.1
        Learning rate. 0.1 with plain SGD lets a default strategy learn a
        simple scaled problem in one ``partial_fit`` (scikit-learn's
        ``check_classifiers_train`` holds for ``Naive(random_state=0)``);
        scale the inputs (``StandardScaler``) or lower it for raw features.
        Avalanche has no default (its examples use 0.001-0.1 with momentum).
    max_epochs : int, default=1
        Epochs per experience (Avalanche's ``train_epochs``).
    batch_size : int, default=32
        Minibatch size (Avalanche's ``train_mb_size``/``eval_mb_size``).
    plugins : list of StrategyPlugin or (name, StrategyPlugin), default=None
        Plugin templates; cloned into ``plugins_`` at initialization. Their
        parameters are reachable as ``plugins__<name>__<param>``; a bare
        plugin is named after its class (``EWCPlugin`` -> ``"ewc"``).
    reset_optimizer : bool, default=False
        Re-create the optimizer (dropping momentum etc.) at every experience.
    random_state : int, RandomState or None, default=None
        Seeds the module's initialization, the shuffling, dropout and every
        plugin, so that equal seeds give equal runs.
    train_split : default=None
        skorch's validation split; ``None`` trains on the whole experience.
    callbacks : list, default=None
        skorch callbacks (they keep working).
    verbose : int, default=0
    device : str, default="cpu"
    on_divergence : {"raise", "warn", "ignore"}, default="raise"
        What a NaN or infinite training loss does: ``"raise"`` stops the
        experience with a :class:`~skcl.exceptions.DivergenceError` (naming the
        experience, epoch and minibatch) and rolls the strategy back;
        ``"warn"`` warns once per experience and keeps training; ``"ignore"``
        keeps training silently.
    train_transform, eval_transform : callable, default=None
        Applied to every minibatch of inputs on the strategy's device
        (Avalanche's ``train_transform``/``eval_transform``): the training one
        after plugins add replayed samples (so they are augmented too), with
        randomness from a generator seeded from ``random_state``; the
        evaluation one at predict time. skcl's :mod:`skcl.transforms` (random
        crop, flip, normalisation) are vectorised over the batch; any callable
        on a batch tensor works (a torchvision transform). Parameters like any
        other: clonable and searchable.
    precision : {"32", "16-mixed", "bf16-mixed"}, default="32"
        ``"16-mixed"``/``"bf16-mixed"`` run the forward pass and the loss under
        :func:`torch.autocast`; ``"16-mixed"`` scales the loss with a gradient
        scaler and unscales the gradients before the plugins' ``after_backward``
        (gradient projection: GEM, A-GEM) and the optimizer step.
    loss_sync : {"batch", "epoch"}, default="batch"
        When the training loss is read back from the device. ``"batch"``
        (skorch's way) records each minibatch's loss in ``history`` (one host
        synchronisation per minibatch, negligible on a CPU). ``"epoch"`` keeps
        the running sum on the device and records only the epoch's mean loss:
        no per-minibatch synchronisation on a GPU; divergence is then detected
        at the end of the epoch (and still rolls back), and per-batch
        ``train_loss`` entries are absent from the history.
    **kwargs
        skorch's prefixed parameters (``module__*``, ``optimizer__*``,
        ``iterator_train__*``, ...). ``iterator_train__shuffle`` defaults to True.

    Attributes
    ----------
    classes_ : ndarray
        Sorted labels seen so far (or the first call's ``classes=``).
    class_order_ : ndarray
        The labels in output-unit order (the order they arrived in).
    n_experiences_ : int
        Experiences trained so far.
    plugins_ : list of (str, StrategyPlugin)
        The live plugins, holding all continual-learning state.
    units_by_task_ : dict
        Output units seen in each task label.
    trained_units_ : ndarray of int64
        Output units that received training samples in earlier experiences:
        during an experience, the "old" classes (whatever ``classes=`` fixed up
        front). Updated after ``after_training_exp``.
    train_batch_size_ : int or None
        During an experience: a minibatch size that a plugin set for this
        experience's training data in ``before_training_exp`` (ReplayPlugin's
        ``batch_size``); ``None`` uses ``batch_size``. Reset for every experience.
    module_, optimizer_, criterion_, history_
        As in skorch.

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Naive
    >>> train, test = split_digits(n_experiences=5, random_state=0)
    >>> net = Naive(max_epochs=2, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp)
    >>> len(net.classes_), net.n_experiences_
    (10, 5)
    """

    prefixes_ = [*NeuralNetClassifier.prefixes_, "plugins"]
    cuda_dependent_attributes_ = [*NeuralNetClassifier.cuda_dependent_attributes_, "plugins_"]

    #: What each parameter accepts (:func:`skcl.utils.validate_params`); subclasses add
    #: theirs, and a named strategy's flat parameters are checked through its plugins'.
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "lr": [Interval("real", 0, None)],
        "max_epochs": [Interval("int", 1, None)],
        "batch_size": [Interval("int", 1, None), Options(-1)],
        "reset_optimizer": ["boolean"],
        "random_state": ["random_state"],
        "verbose": [Interval("int", 0, None), "boolean"],
        "plugins": [None, list, tuple],
        "device": ["string", torch.device, None],
        "warm_start": ["boolean"],
        "on_divergence": [Options("raise", "warn", "ignore")],
        "train_transform": [None, "callable"],
        "eval_transform": [None, "callable"],
        "precision": [Options("32", "16-mixed", "bf16-mixed")],
        "loss_sync": [Options("batch", "epoch")],
    }

    #: Plugins a named strategy always has: name -> plugin class.
    _builtin_plugins: ClassVar[dict[str, type]] = {}
    #: Flat parameters forwarded to built-in plugins: flat name -> (plugin name, plugin param).
    _plugin_aliases: ClassVar[dict[str, tuple[str, str]]] = {}

    def __init__(
        self,
        module=None,
        *,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.SGD,
        lr: float = 0.1,
        max_epochs: int = 1,
        batch_size: int = 32,
        plugins: Sequence | None = None,
        reset_optimizer: bool = False,
        random_state=None,
        train_split=None,
        callbacks=None,
        verbose: int = 0,
        device: str = "cpu",
        on_divergence: str = "raise",
        train_transform=None,
        eval_transform=None,
        precision: str = "32",
        loss_sync: str = "batch",
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__shuffle", True)
        super(NeuralNetClassifier, self).__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.plugins = plugins
        self.reset_optimizer = reset_optimizer
        self.random_state = random_state
        self.on_divergence = on_divergence
        self.train_transform = train_transform
        self.eval_transform = eval_transform
        self.precision = precision
        self.loss_sync = loss_sync

    def initialize(self):
        self._check_params()
        self.seed_ = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.rng_ = np.random.default_rng(self.seed_)
        for attr in ("class_order_", "units_by_task_", "n_experiences_", "fixed_classes_",
                     "trained_units_"):
            vars(self).pop(attr, None)
        with self._torch_seed(self.seed_):
            super().initialize()
        self.initialize_plugins()
        self.grad_scaler_ = (torch.amp.GradScaler(torch.device(self.device).type)
                             if self.precision == "16-mixed" else None)
        self.transform_generator_ = None
        self.stop_requested_ = False
        self.experience_ = None
        self.train_batch_size_ = None
        self.shuffle_generator_ = None
        return self

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        module = MLP if self.module is None else self.module
        if isinstance(module, type) and "in_features" not in kwargs:
            if "in_features" in inspect.signature(module).parameters:
                if not hasattr(self, "n_features_in_"):
                    raise ValueError(
                        "The module needs in_features: call partial_fit/fit with data first, "
                        "or set module__in_features."
                    )
                kwargs["in_features"] = self._module_in_features()
        self.module_ = self.initialized_instance(module, kwargs)
        return self

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train on one experience.

        Parameters
        ----------
        X : Experience or array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,), default=None
            Labels; taken from the experience when ``X`` is one.
        classes : array-like, default=None
            All classes, fixed at the first call (scikit-learn's convention).
            When omitted, classes accumulate as they arrive.
        **fit_params
            ``task_labels`` (per-sample array) for array input; ``eval_streams``
            for evaluation plugins; the rest reaches the module's ``forward``.

        Returns
        -------
        self

        Raises
        ------
        ValueError, TypeError
            For malformed input or parameters; the strategy is then left
            exactly as it was before the call.
        """
        self._check_params()  # declared constraints first: a bad value changes nothing
        snapshot = self._snapshot()
        try:
            self._partial_fit(X, y, classes, fit_params)
        except BaseException:
            self._restore(snapshot)
            raise
        return self

    def _partial_fit(self, X, y, classes, fit_params: dict) -> None:
        fit_params = dict(fit_params)
        exp = self._as_experience(X, y, fit_params)
        eval_streams = fit_params.pop("eval_streams", None)
        first = not self.__sklearn_is_fitted__()
        if not first and classes is not None:
            self._check_same_classes(classes)
        Xt = self._validate_X(exp.X, reset=first)
        y_raw = np.asarray(exp.y)
        if not first:  # a change of label type is named before any other check of y
            y_raw = self._same_label_type(y_raw)
        y_arr = self._validate_y(y_raw, len(Xt))
        t = self._validate_task_labels(exp, len(Xt))
        if not self.initialized_:
            self.initialize()
        order = self._next_class_order(y_arr, classes if first else None)
        if first:
            self.fixed_classes_ = classes is not None
            self.n_experiences_ = 0
            self.units_by_task_ = {}
            self.trained_units_ = np.zeros(0, dtype=np.int64)
        self.class_order_ = order
        units = self._encode(y_arr, order)
        for task in np.unique(t.numpy()):
            seen = self.units_by_task_.get(int(task), np.zeros(0, dtype=np.int64))
            self.units_by_task_[int(task)] = np.union1d(seen, units[t.numpy() == task])
        data = self._train_data(Xt, torch.as_tensor(units, dtype=torch.long), t)
        self.eval_streams_ = None if eval_streams is None else as_named_streams(eval_streams)
        with self._torch_seed(self.rng_.integers(np.iinfo(np.int32).max)):
            shuffle_seed = int(torch.randint(0, 2**31 - 1, (1,)))
            self.shuffle_generator_ = torch.Generator().manual_seed(shuffle_seed)
            if self.train_transform is not None:  # derived, not drawn: other draws unchanged
                self.transform_generator_ = torch.Generator(device=self.device).manual_seed(
                    shuffle_seed ^ 0x5DEECE66D)
            self._adapt_model(len(order), data)
            self.stop_requested_ = False
            self.experience_ = exp
            self.train_batch_size_ = None
            self.train_data_ = data  # replaced below by what adapt_train_data returns
            self._call("before_training_exp", exp)
            for plugin in self.plugin_hooks_["adapt_train_data"]:
                data = plugin.adapt_train_data(self, data)
            self.train_data_ = data
            self._train_experience(data, **fit_params)
            self._call("after_training_exp", exp)
        self.trained_units_ = np.union1d(self.trained_units_, units).astype(np.int64)
        self.n_experiences_ += 1
        self.experience_ = None
        self.train_batch_size_ = None
        self.train_data_ = None
        self.eval_streams_ = None
        self.shuffle_generator_ = None
        self._save_experience_checkpoints()

    def _check_same_classes(self, classes) -> None:
        # scikit-learn's partial_fit convention: classes= is fixed by the first call.
        given = np.unique(np.asarray(classes))
        if not self.fixed_classes_:
            raise ValueError(
                f"classes={given.tolist()} given to a later partial_fit, but the first call did "
                "not fix the classes (they accumulate as they arrive); pass classes= at the "
                "first call or never.")
        if not np.array_equal(given, self.classes_):
            raise ValueError(f"`classes={given.tolist()}` is not the same as on the first call "
                             f"to partial_fit, was: {self.classes_.tolist()}.")

    def fit(self, X, y=None, *, experience=None, classes=None, **fit_params):
        """Train from scratch on a whole stream: one :meth:`partial_fit` per experience.

        Parameters
        ----------
        X : array-like, or list of Experience
            The whole stream. A list of experiences is trained in order.
        y : array-like, default=None
        experience : array-like of shape (n_samples,), default=None
            Experience id of each sample (travels like ``groups`` through
            ``GridSearchCV`` and ``Pipeline``); experiences run in sorted id
            order. Without it the data is one experience.
        classes : array-like, default=None
            All classes, fixed up front.
        **fit_params
            ``task_labels`` (per sample) and ``partial_fit``'s other keys.
        """
        self._check_params()
        stream = self._as_stream(X, y, experience, fit_params)
        names = _feature_names(X)
        snapshot = self._snapshot()
        before_exp = snapshot
        i = 0
        try:
            if not self.warm_start or not self.initialized_:
                for attr in ("n_features_in_", "feature_names_in_", "class_order_"):
                    vars(self).pop(attr, None)
                self.initialized_ = False
            for i, exp in enumerate(stream):
                if i:
                    before_exp = self._snapshot()
                self._partial_fit(exp, None, classes if i == 0 else None, fit_params)
        except KeyboardInterrupt as exc:
            # Keep the experiences trained before the interrupt; undo only the interrupted one.
            self._restore(before_exp)
            _add_note(exc, f"{type(self).__name__}.fit was interrupted in experience {i} "
                           f"(0-based) of {len(stream)}: the {i} experience(s) before it are "
                           "trained and kept; continue with partial_fit on the remaining "
                           "experiences."
                      if i else f"{type(self).__name__}.fit was interrupted in its first "
                                "experience: the strategy is as it was before fit.")
            raise
        except BaseException:
            self._restore(snapshot)
            raise
        if names is not None:  # the stream was split into arrays: keep the DataFrame's names
            self.feature_names_in_ = names
        return self

    def forward_logits(self, X, task_labels=None) -> torch.Tensor:
        """Logits over the known classes, in output-unit order (``class_order_``).

        Plugins may rewrite them (``adapt_eval_output``: nearest-mean
        classifiers, prototypes).
        """
        data = self._predict_data(X, task_labels)
        n_units = len(self.class_order_)
        # a read-only verb: the criteria get their training modes back too
        criteria = [(c, c.training) for c in (getattr(self, n + "_") for n in self._criteria)
                    if isinstance(c, torch.nn.Module)]
        try:
            return self._forward_logits(data, n_units)
        finally:
            for criterion, training in criteria:
                criterion.train(training)

    def _forward_logits(self, data, n_units: int) -> torch.Tensor:
        outputs = []
        with eval_mode(self.module_):  # also keeps sub-modules a plugin froze in eval mode
            hooks = self.plugin_hooks_["adapt_eval_output"]
            for batch in self.get_iterator(data, training=False):
                if hooks and self.eval_transform is not None:
                    # transformed once: plugins see the inputs as the model saw them
                    batch = self._transform_batch(batch, training=False)
                    out = self._evaluate_transformed(batch)
                else:
                    out = self.evaluation_step(batch, training=False)
                if isinstance(out, tuple):
                    out = out[0]
                out = out[:, :n_units]
                for plugin in hooks:
                    out = plugin.adapt_eval_output(self, batch[0], out)
                outputs.append(out.detach().cpu())
        return torch.cat(outputs)

    def predict_proba(self, X, task_labels=None) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        For a :class:`~skcl.utils.TrainData` (the encoded data skorch callbacks see), the
        columns are in output-unit order instead.
        """
        logits = self.forward_logits(X, task_labels)
        proba = self._get_predict_nonlinearity()(logits).numpy()
        if isinstance(X, TrainData):
            return proba
        return proba[:, np.argsort(self.class_order_, kind="stable")]

    def predict(self, X, task_labels=None) -> np.ndarray:
        """Predicted labels (from ``classes_``).

        For a :class:`~skcl.utils.TrainData`, whose ``y`` holds output-unit indices, the
        predicted unit indices, so that skorch's scoring callbacks compare
        like with like.
        """
        units = self.forward_logits(X, task_labels).argmax(dim=1).numpy()
        return units if isinstance(X, TrainData) else self.class_order_[units]

    def score(self, X, y=None, sample_weight=None, task_labels=None) -> float:
        """Accuracy on the given samples with the model as it is now."""
        if isinstance(X, list | tuple) and X and all(isinstance(e, Experience) for e in X):
            raise TypeError(
                f"score takes one experience (or X, y); got a list of {len(X)} experiences. "
                "For a whole stream use skcl.evaluation.evaluate(net, stream), which gives "
                "the accuracy per experience and the stream's average.")
        if isinstance(X, Experience):
            y = X.y if y is None else y
        y = np.asarray(y)
        if self.__sklearn_is_fitted__():
            y = self._same_label_type(y)  # strings against integer classes: an error, not 0.0
        pred = self.predict(X, task_labels=task_labels)
        if len(pred) != len(y):
            raise ValueError(f"X has {len(pred)} samples but y has {len(y)}.")
        return float(np.average(pred == y, weights=sample_weight))
