"""`BaseStrategy`: a skorch classifier that learns from a stream of experiences."""

from __future__ import annotations

import contextlib
import copy
import difflib
import inspect
import threading
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _num_samples, column_or_1d, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, PrintLog
from skorch.dataset import unpack_data
from skorch.history import History
from skorch.utils import TeeGenerator
from torch.utils.data import DataLoader

from skcl.benchmarks._experience import Experience
from skcl.benchmarks._streams import as_named_streams, stream_from_groups
from skcl.models import MLP, DynamicModule, adapt_module
from skcl.plugins._base import HOOKS, StrategyPlugin
from skcl.utils import (
    BatchIterator,
    ModuleState,
    TrainData,
    check_int,
    eval_mode,
    make_batch,
)

__all__ = ["BaseStrategy"]


class _PrintLog(PrintLog):
    """skorch's PrintLog, which skips building its table when ``verbose=0``."""

    def on_epoch_end(self, net, **kwargs):
        if net.verbose:
            super().on_epoch_end(net, **kwargs)


class _History(History):
    """skorch's History with a fast path for integer indices.

    skorch records every batch through ``history[-1]``, which its general
    index parser handles in ~5 us; plain integer indices go straight to the list.
    """

    def __getitem__(self, i):
        if type(i) is int:
            return list.__getitem__(self, i)
        return super().__getitem__(i)


_TORCH_RNG_LOCK = threading.RLock()


def _as_tensor(X: np.ndarray) -> torch.Tensor:
    # torch shares memory with the array; a read-only one (a memmap, joblib's
    # arguments) is copied rather than shared, as torch cannot protect it
    return torch.as_tensor(X if X.flags.writeable else X.copy())


class BaseStrategy(NeuralNetClassifier):
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
    lr : float, default=0.01
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
        lr: float = 0.01,
        max_epochs: int = 1,
        batch_size: int = 32,
        plugins: Sequence | None = None,
        reset_optimizer: bool = False,
        random_state=None,
        train_split=None,
        callbacks=None,
        verbose: int = 0,
        device: str = "cpu",
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

    # ------------------------------------------------------------------ #
    # scikit-learn contract
    # ------------------------------------------------------------------ #
    @property
    def classes_(self) -> np.ndarray:
        try:
            order = self.class_order_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'classes_' before it is fitted."
            ) from None
        return np.sort(order)

    def __sklearn_is_fitted__(self) -> bool:
        return "class_order_" in vars(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'partial_fit' "
                "or 'fit' with appropriate arguments before using this estimator."
            )

    def _check_params(self) -> None:
        check_int(self.batch_size, "batch_size", also=(-1,),
                  hint=" (or -1 for the whole experience)")
        check_int(self.max_epochs, "max_epochs")
        lr_ok = isinstance(self.lr, (int, float, np.floating)) and not isinstance(self.lr, bool)
        if not lr_ok or not self.lr >= 0:
            raise ValueError(f"lr must be a non-negative number; got {self.lr!r}.")

    def _validate_params(self) -> None:
        try:
            super()._validate_params()
        except ValueError as exc:
            msg = str(exc)
            valid = [k for k in inspect.signature(type(self).__init__).parameters
                     if k not in ("self", "kwargs")]
            hints = []
            for key in sorted(self._params_to_validate):
                match = difflib.get_close_matches(key, valid, n=1)
                if match:
                    hints.append(f"'{key}' -> did you mean '{match[0]}'?")
            raise ValueError(msg + ("\n" + "\n".join(hints) if hints else "")) from None

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        """Parameters of a tiny, fast instance for the common tests (river's convention)."""
        return {"module__hidden_sizes": (16,), "max_epochs": 30, "lr": 0.1, "random_state": 0}

    @classmethod
    def _expected_failed_checks(cls) -> dict[str, str]:
        """scikit-learn checks this class cannot pass, each with the reason."""
        expected = {
            "check_no_attributes_set_in_init": (
                "skorch sets history_, initialized_ and virtual_params_ in __init__ and stores "
                "prefixed keyword arguments (module__*, iterator_train__*) as attributes; clone "
                "and get_params still round-trip them."
            ),
        }
        if "callbacks" in inspect.signature(cls.__init__).parameters:
            # Only signatures that name `callbacks` get it set to nonsense by this check.
            expected["check_do_not_raise_errors_in_init_or_set_params"] = (
                "skorch re-initializes callbacks inside set_params, so set_params(callbacks=-1) "
                "raises there instead of at fit time."
            )
        return expected

    # ------------------------------------------------------------------ #
    # plugins as nested parameters
    # ------------------------------------------------------------------ #
    def _default_plugins(self) -> list[tuple[str, StrategyPlugin]]:
        """The named strategy's own plugins, built from its flat parameters."""
        kwargs: dict[str, dict] = {name: {} for name in self._builtin_plugins}
        for flat, (name, param) in self._plugin_aliases.items():
            kwargs[name][param] = getattr(self, flat)
        return [(name, cls(**kwargs[name])) for name, cls in self._builtin_plugins.items()]

    def _user_plugins(self) -> list[tuple[str, StrategyPlugin]]:
        named, seen = [], set(self._builtin_plugins)
        for item in self.plugins or []:
            if isinstance(item, tuple) and len(item) == 2:
                name, plugin = item
            else:
                plugin = item
                base = type(plugin).__name__.lower()
                if base.endswith("plugin") and base != "plugin":
                    base = base[: -len("plugin")]
                name, k = base, 2
                while name in seen:
                    name, k = f"{base}_{k}", k + 1
            if not isinstance(plugin, StrategyPlugin):
                raise TypeError(
                    f"plugins must hold StrategyPlugin instances or (name, plugin) pairs; "
                    f"got {item!r}."
                )
            if not isinstance(name, str) or "__" in name or not name:
                raise ValueError(f"Plugin name {name!r} must be a non-empty string without '__'.")
            if name in seen:
                raise ValueError(f"Duplicate plugin name {name!r}.")
            seen.add(name)
            named.append((name, plugin))
        return named

    def _plugin_templates(self) -> list[tuple[str, StrategyPlugin]]:
        return self._default_plugins() + self._user_plugins()

    def _get_param_names(self):
        # skorch's private bookkeeping (`_params_to_validate`) is not a parameter: clone
        # rebuilds it from the prefixed keyword arguments anyway.
        return [k for k in super()._get_param_names() if not k.startswith("_")]

    def get_params(self, deep: bool = True, **kwargs) -> dict[str, Any]:
        params = super().get_params(deep=deep, **kwargs)
        if deep:
            try:
                templates = self._plugin_templates()
            except (TypeError, ValueError):  # malformed plugins are reported at fit time
                templates = []
            for name, plugin in templates:
                params[f"plugins__{name}"] = plugin
                for key, value in plugin.get_params(deep=True).items():
                    params[f"plugins__{name}__{key}"] = value
        return params

    def set_params(self, **kwargs):
        """Set parameters; ``plugins__<name>__<param>`` reaches a plugin.

        On a fitted strategy the live plugin gets the new value too, and keeps
        its learned state.
        """
        valid = set(self.get_params(deep=True))
        for key in kwargs:
            top = key.split("__", 1)[0]
            known = key in valid or top in valid or any(
                key.startswith(p + "__") for p in self.prefixes_ if p != "plugins")
            if key.startswith("plugins__"):
                known = key in valid
            if not known:
                match = difflib.get_close_matches(key, sorted(valid), n=1)
                hint = f" Did you mean '{match[0]}'?" if match else ""
                raise ValueError(
                    f"Invalid parameter '{key}' for estimator {type(self).__name__}.{hint}"
                )
        plugin_keys = {k: v for k, v in kwargs.items() if k.startswith("plugins__")}
        other = {k: v for k, v in kwargs.items() if k not in plugin_keys}
        alias_of = {v: k for k, v in self._plugin_aliases.items()}
        for key, value in plugin_keys.items():
            name, _, param = key[len("plugins__"):].partition("__")
            if name in self._builtin_plugins:
                if (name, param) not in alias_of:
                    raise ValueError(
                        f"'{key}' belongs to a built-in plugin of {type(self).__name__}; set "
                        f"it through the strategy's own parameters."
                    )
                other[alias_of[(name, param)]] = value
            elif param == "":
                self.plugins = [
                    (n, value if n == name else p) for n, p in self._user_plugins()
                ]
            else:
                template = dict(self._user_plugins())[name]
                template.set_params(**{param: value})
                self._set_live_plugin_param(name, param, value)
        plugins_replaced = "plugins" in other or any(
            k.startswith("plugins__") and k.count("__") == 1 for k in plugin_keys)
        if "plugins" in other:
            # set here: skorch would take it for a module prefix and try to re-initialize
            self.plugins = other.pop("plugins")
        super().set_params(**other)
        for flat in other:
            if flat in self._plugin_aliases:
                name, param = self._plugin_aliases[flat]
                self._set_live_plugin_param(name, param, other[flat])
        if plugins_replaced and self.initialized_:
            self.initialize_plugins()
        return self

    def _set_live_plugin_param(self, name: str, param: str, value) -> None:
        live = dict(getattr(self, "plugins_", []))
        if name in live:
            live[name].set_params(**{param: value})

    @property
    def named_plugins_(self) -> dict[str, StrategyPlugin]:
        """The live plugins by name."""
        return dict(self.plugins_)

    # ------------------------------------------------------------------ #
    # initialization (skorch seams)
    # ------------------------------------------------------------------ #
    @contextlib.contextmanager
    def _torch_seed(self, seed: int) -> Iterator[None]:
        """Seed torch's global RNG for the block without disturbing the caller's RNG.

        Module initialization and dropout draw from torch's process-wide RNG, so
        strategies training in threads of one process (joblib's threading
        backend, a Dask worker with several threads) take turns here; otherwise
        their seeds would interleave and runs would not be reproducible.
        """
        cuda = str(self.device).startswith("cuda") and torch.cuda.is_available()
        devices = [torch.device(self.device).index or 0] if cuda else []
        with _TORCH_RNG_LOCK, torch.random.fork_rng(devices=devices):
            if cuda:
                torch.manual_seed(int(seed))
            else:  # torch.manual_seed also queues a lazy CUDA seeding (~1 ms each call)
                torch.default_generator.manual_seed(int(seed))
            yield

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
                kwargs["in_features"] = int(self.n_features_in_)
        self.module_ = self.initialized_instance(module, kwargs)
        return self

    def initialize_plugins(self):
        """Clone the plugin templates into ``plugins_``, each with its own seeded RNG."""
        templates = self._plugin_templates()
        children = np.random.SeedSequence(self.seed_).spawn(len(templates))
        self.plugins_ = []
        for (name, template), seed in zip(templates, children):
            plugin = clone(template)
            plugin._reset_rng(seed)
            self.plugins_.append((name, plugin))
        self._index_hooks()
        return self

    def __setstate__(self, state):
        super().__setstate__(state)
        if "plugins_" in vars(self):  # the hook index must point at the unpickled plugins
            self._index_hooks()

    def _index_hooks(self) -> None:
        # Only plugins that override a hook are called for it: Naive pays nothing.
        self.plugin_hooks_ = {
            hook: [p for _, p in self.plugins_ if p._overrides(hook)] for hook in HOOKS
        }

    # ------------------------------------------------------------------ #
    # input validation
    # ------------------------------------------------------------------ #
    def _as_experience(self, X, y, fit_params: dict) -> Experience:
        task_labels = fit_params.pop("task_labels", None)
        if isinstance(X, Experience):
            if y is not None and y is not X.y:
                raise ValueError("Pass either an Experience or (X, y), not both.")
            if task_labels is not None:
                raise ValueError("An Experience carries its own task labels; "
                                 "do not pass task_labels=.")
            return X
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None (pass y or an Experience).")
        return Experience(X, y, task_label=0 if task_labels is None else task_labels,
                          classes=(), index=getattr(self, "n_experiences_", 0))

    def _validate_X(self, X, reset: bool) -> torch.Tensor:
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        if getattr(X, "shape", (None,))[0] == 0 or (isinstance(X, list) and not X):
            raise ValueError("Empty experience: X has 0 samples.")
        if (type(X) is np.ndarray and X.dtype.kind == "f" and X.ndim >= 2 and X.size
                and "feature_names_in_" not in vars(self)
                and (reset or X.shape[1] == getattr(self, "n_features_in_", None))):
            # The common case (a float array, as every stream builder makes) without
            # scikit-learn's generic dispatch; anything unusual, or any error to report,
            # goes through validate_data below.
            Xt = _as_tensor(np.asarray(X, dtype=np.float32))
            # A finite sum means every value is finite (NaN and inf propagate); the sum is
            # ~3x cheaper than an element-wise check, which only runs when the sum is not
            # finite (a NaN/inf, or an overflow of large values).
            if bool(torch.isfinite(Xt.sum())) or bool(np.isfinite(Xt.numpy()).all()):
                if reset:
                    self.n_features_in_ = X.shape[1]
                return Xt
        X = validate_data(self, X, reset=reset, dtype=np.float32, allow_nd=True,
                          ensure_all_finite=True)
        return _as_tensor(X)

    def _validate_y(self, y, n_samples: int) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim == 1 and y.dtype.kind in "iu":
            # integer labels are always valid classification targets: skip the generic check
            if len(y) != n_samples:
                raise ValueError(f"X has {n_samples} samples but y has {len(y)}.")
            return y
        if y.ndim == 2 and y.shape[1] > 1:
            raise ValueError(
                f"y must be 1-dimensional (one label per sample); got shape {y.shape}.")
        y = column_or_1d(y, warn=True)
        if len(y) != n_samples:
            raise ValueError(f"X has {n_samples} samples but y has {len(y)}.")
        check_classification_targets(y)
        return y

    def _validate_task_labels(self, exp: Experience, n_samples: int) -> torch.Tensor:
        t = exp.task_labels
        if len(t) != n_samples:
            raise ValueError(f"X has {n_samples} samples but task_labels has {len(t)}.")
        return torch.as_tensor(t, dtype=torch.long)

    def encode_labels(self, y) -> np.ndarray:
        """Output-unit indices (int64) of the labels ``y`` (all must be in ``classes_``)."""
        y = np.asarray(y)
        return self._encode(y.ravel() if y.ndim == 2 else y, self.class_order_).astype(np.int64)

    def current_experience_data(self) -> TrainData:
        """The current experience's own samples as :class:`TrainData` (labels as units).

        Unlike ``train_data_`` this never includes samples a plugin added
        (replay in concat mode). Only valid during an experience.
        """
        exp = self.experience_
        X = self._validate_X(exp.X, reset=False)
        return TrainData(X, torch.as_tensor(self.encode_labels(exp.y), dtype=torch.long),
                         torch.as_tensor(exp.task_labels, dtype=torch.long))

    def _encode(self, y: np.ndarray, order: np.ndarray) -> np.ndarray:
        sorter = np.argsort(order)
        pos = np.searchsorted(order, y, sorter=sorter)
        pos = np.clip(pos, 0, len(order) - 1)
        units = sorter[pos]
        if not np.array_equal(order[units], y):
            unknown = np.setdiff1d(y, order)
            raise ValueError(f"Unknown class(es) {unknown.tolist()}: not in classes_ "
                             f"{np.sort(order).tolist()}.")
        return units

    def _next_class_order(self, y: np.ndarray, classes) -> np.ndarray:
        if "class_order_" not in vars(self):
            if classes is not None:
                order = np.unique(np.asarray(classes))
                unknown = np.setdiff1d(y, order)
                if len(unknown):
                    raise ValueError(
                        f"y contains class(es) {unknown.tolist()} not in classes=.")
                return order
            return np.unique(y)
        order = self.class_order_
        new = np.setdiff1d(np.unique(y), order)
        if len(new) and self.fixed_classes_:
            raise ValueError(f"Unknown class(es) {new.tolist()}: the first call fixed classes_ "
                             f"to {np.sort(order).tolist()}.")
        return np.concatenate([order, new]) if len(new) else order

    # ------------------------------------------------------------------ #
    # the verbs
    # ------------------------------------------------------------------ #
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
        self._check_params()
        first = not self.__sklearn_is_fitted__()
        Xt = self._validate_X(exp.X, reset=first)
        y_arr = self._validate_y(exp.y, len(Xt))
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
        data = TrainData(Xt, torch.as_tensor(units, dtype=torch.long), t)
        self.eval_streams_ = None if eval_streams is None else as_named_streams(eval_streams)
        with self._torch_seed(self.rng_.integers(np.iinfo(np.int32).max)):
            self.shuffle_generator_ = torch.Generator().manual_seed(
                int(torch.randint(0, 2**31 - 1, (1,))))
            self._adapt_model(len(order), data)
            self.stop_requested_ = False
            self.experience_ = exp
            self.train_batch_size_ = None
            self._call("before_training_exp", exp)
            for plugin in self.plugin_hooks_["adapt_train_data"]:
                data = plugin.adapt_train_data(self, data)
            self.train_data_ = data
            super().partial_fit(data, None, **fit_params)
            self._call("after_training_exp", exp)
        self.trained_units_ = np.union1d(self.trained_units_, units).astype(np.int64)
        self.n_experiences_ += 1
        self.experience_ = None
        self.train_batch_size_ = None
        self.train_data_ = None
        self.eval_streams_ = None
        self.shuffle_generator_ = None

    def _adapt_model(self, n_units: int, data: TrainData) -> None:
        """Grow dynamic heads for the known classes and tasks; rebuild the optimizer if needed."""
        changed = adapt_module(self.module_, n_units, self.units_by_task_)
        if changed or (self.reset_optimizer and self.n_experiences_ > 0):
            self._rebuild_optimizer(keep_state=not self.reset_optimizer)
        if not any(isinstance(m, DynamicModule) for m in self.module_.modules()):
            # A fixed output layer: check its width once, before any training.
            out = self.evaluation_step(make_batch(data.X[:1], None, data.task_labels[:1]))
            width = (out[0] if isinstance(out, tuple) else out).shape[-1]
            if width < n_units:
                raise ValueError(
                    f"The module has {width} outputs but {n_units} classes were seen; use a "
                    "growing head (skcl.models.IncrementalClassifier) or a wider output layer."
                )

    def rebuild_optimizer(self, keep_state: bool = True) -> None:
        """New optimizer over the current parameters; unchanged ones keep their state.

        Call it after a structural change to ``module_`` (new or replaced
        parameters). ``keep_state=False`` drops momentum and the like.
        """
        self._rebuild_optimizer(keep_state)

    def _rebuild_optimizer(self, keep_state: bool = True) -> None:
        old_state = self.optimizer_.state if keep_state else {}
        lrs = [g["lr"] for g in self.optimizer_.param_groups]
        self.initialize_optimizer()
        if keep_state:
            for group in self.optimizer_.param_groups:
                for p in group["params"]:
                    if p in old_state:
                        self.optimizer_.state[p] = old_state[p]
        if len(lrs) == len(self.optimizer_.param_groups):  # keep schedules/virtual lr
            for group, lr in zip(self.optimizer_.param_groups, lrs):
                group["lr"] = lr

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
        stream = self._as_stream(X, y, experience, fit_params)
        snapshot = self._snapshot()
        try:
            if not self.warm_start or not self.initialized_:
                for attr in ("n_features_in_", "feature_names_in_", "class_order_"):
                    vars(self).pop(attr, None)
                self.initialized_ = False
            for i, exp in enumerate(stream):
                self._partial_fit(exp, None, classes if i == 0 else None, fit_params)
        except BaseException:
            self._restore(snapshot)
            raise
        return self

    def _as_stream(self, X, y, experience, fit_params: dict) -> list[Experience]:
        if isinstance(X, Experience):
            return [X]
        if isinstance(X, (list, tuple)) and len(X) and all(isinstance(e, Experience) for e in X):
            return list(X)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None (pass y, an Experience or a list of Experience).")
        task_labels = fit_params.pop("task_labels", None)
        if getattr(X, "shape", (None,))[0] == 0:
            raise ValueError("Empty experience: X has 0 samples.")
        if experience is None:
            return [Experience(X, y, task_label=0 if task_labels is None else task_labels,
                               classes=())]
        ids = np.asarray(experience)
        if len(ids) != len(y):
            raise ValueError(f"experience has {len(ids)} entries but y has {len(y)}.")
        if isinstance(X, torch.Tensor):
            X = X.numpy()
        return stream_from_groups(np.asarray(X) if not hasattr(X, "iloc") else X.to_numpy(),
                                  y, ids, task_labels=task_labels)

    # ------------------------------------------------------------------ #
    # skorch seams used by the training loop
    # ------------------------------------------------------------------ #
    @property
    def _default_callbacks(self):
        # Without a validation split there is no valid_loss or valid_acc to score (skorch
        # would still call them every batch and epoch); PrintLog stays quiet at verbose=0.
        return [(name, _PrintLog() if name == "print_log" else cb)
                for name, cb in super()._default_callbacks
                if not (name in ("valid_loss", "valid_acc") and self.train_split is None)]

    def initialize_history(self):
        self.history_ = _History()
        return self

    def notify(self, method_name, **cb_kwargs):
        # skorch calls every callback for every event, twice per batch; most callbacks
        # only listen to epoch events, so call just the ones that override the event.
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in self._listeners(method_name):
            getattr(cb, method_name)(self, **cb_kwargs)

    def _listeners(self, method_name: str) -> list:
        callbacks = self.callbacks_
        index = vars(self).get("callback_index_")
        if index is None or index[0] is not callbacks or index[1] != len(callbacks):
            index = (callbacks, len(callbacks), {})
            self.callback_index_ = index
        table = index[2]
        if method_name not in table:
            base = getattr(Callback, method_name, None)
            table[method_name] = [
                cb for _, cb in callbacks
                if base is None or getattr(type(cb), method_name, None) is not base
            ]
        return table[method_name]

    def check_data(self, X, y=None):
        # Classes are tracked by partial_fit (skorch's version would reset them).
        pass

    def get_iterator(self, dataset, training=False):
        if isinstance(dataset, TrainData):
            iterator = self.iterator_train if training else self.iterator_valid
            if iterator is DataLoader:
                kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
                batch_size = kwargs.get("batch_size", self.batch_size)
                if training and getattr(self, "train_batch_size_", None) is not None:
                    batch_size = self.train_batch_size_  # set by a plugin for this experience
                return BatchIterator(
                    dataset,
                    batch_size,
                    shuffle=bool(kwargs.get("shuffle", False)) and training,
                    generator=self.shuffle_generator_,
                    drop_last=bool(kwargs.get("drop_last", False)),
                    should_stop=self._should_stop if training else None,
                )
        return super().get_iterator(dataset, training=training)

    def _set_training(self, training=True):
        # skorch calls this on every batch; walking the module tree each time costs ~10%
        # on small models. Only flip when the top-level mode differs, which also keeps
        # sub-modules a plugin froze in eval mode (CWR*, AR1) as the plugin left them.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    def _should_stop(self) -> bool:
        return self.stop_requested_

    def stop_training(self) -> None:
        """Ask the loop to end the current experience after this minibatch."""
        self.stop_requested_ = True

    def infer(self, x, **fit_params):
        if isinstance(x, dict) and "task_labels" in x and "x" in x:
            inputs = x["x"].to(self.device)
            if getattr(self.module_, "is_multi_task", False):
                return self.module_(inputs, x["task_labels"].to(self.device), **fit_params)
            return self.module_(inputs, **fit_params)
        return super().infer(x, **fit_params)

    def train_step(self, batch, **fit_params):
        """One optimizer step, with the plugin hooks around it.

        skorch's own ``train_step`` with one change: the ``on_grad_computed``
        event (and the parameter generator it carries) is only built when a
        plugin or callback listens to it. The closure is kept, so optimizers
        that re-evaluate the loss (LBFGS) work; batch adaptation happens once,
        outside it.
        """
        hooks = self.plugin_hooks_  # loops over plugins inlined: this runs every minibatch
        for plugin in hooks["adapt_batch"]:
            batch = plugin.adapt_batch(self, batch)
        for plugin in hooks["before_training_iteration"]:
            plugin.before_training_iteration(self, batch)
        accumulator = self.get_train_step_accumulator()
        grad_listeners = bool(hooks["after_backward"] or self._listeners("on_grad_computed"))

        def step_fn():
            self._zero_grad_optimizer()
            step = self.train_step_single(batch, **fit_params)
            accumulator.store_step(step)
            if grad_listeners:
                self.notify("on_grad_computed",
                            named_parameters=TeeGenerator(self.get_all_learnable_params()),
                            batch=batch, training=True)
            return step["loss"]

        self._step_optimizer(step_fn)
        for plugin in hooks["after_training_iteration"]:
            plugin.after_training_iteration(self, batch)
        return accumulator.get_step()

    def train_step_single(self, batch, **fit_params):
        # skorch's, minus the generic unpacking: our iterators yield (inputs, y) pairs.
        self._set_training(True)
        Xi, yi = batch if type(batch) is tuple else unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        for plugin in self.plugin_hooks_["after_forward"]:
            plugin.after_forward(self, y_pred, yi, Xi)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = None
        if training:
            for plugin in self.plugin_hooks_["compute_loss"]:
                loss = plugin.compute_loss(self, y_pred, y_true, X)
                if loss is not None:
                    break
        if loss is None:
            if type(y_true) is torch.Tensor and not isinstance(self.criterion_, torch.nn.NLLLoss):
                # skorch's path (to_tensor + the NLLLoss log) reduced to what applies here
                loss = self.criterion_(y_pred, y_true.to(y_pred.device))
            else:
                loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training:
            for plugin in self.plugin_hooks_["penalty"]:
                term = plugin.penalty(self, y_pred, y_true, X)
                if term is not None:
                    loss = loss + term
        return loss

    def on_grad_computed(self, net, named_parameters, X=None, y=None, training=False, **kwargs):
        self._call("after_backward")

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train=dataset_train, dataset_valid=dataset_valid,
                               **kwargs)
        self.history.record("experience", self.n_experiences_)
        self._call("before_training_epoch")

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train=dataset_train, dataset_valid=dataset_valid,
                             **kwargs)
        self._call("after_training_epoch")
        if self.stop_requested_:
            raise KeyboardInterrupt  # skorch's own way to end partial_fit early

    def _call(self, hook: str, *args) -> None:
        for plugin in self.plugin_hooks_[hook]:
            getattr(plugin, hook)(self, *args)

    # ------------------------------------------------------------------ #
    # prediction
    # ------------------------------------------------------------------ #
    def _predict_data(self, X, task_labels=None) -> TrainData:
        self._check_fitted()
        if isinstance(X, TrainData):
            return TrainData(X.X, None, X.task_labels)
        if isinstance(X, Experience):
            if task_labels is not None:
                raise ValueError("An Experience carries its own task labels.")
            exp = X
        else:
            exp = Experience(X, np.zeros(_num_samples(X), dtype=np.int64),
                             task_label=0 if task_labels is None else task_labels, classes=())
        Xt = self._validate_X(exp.X, reset=False)
        return TrainData(Xt, None, self._validate_task_labels(exp, len(Xt)))

    def forward_logits(self, X, task_labels=None) -> torch.Tensor:
        """Logits over the known classes, in output-unit order (``class_order_``).

        Plugins may rewrite them (``adapt_eval_output``: nearest-mean
        classifiers, prototypes).
        """
        data = self._predict_data(X, task_labels)
        n_units = len(self.class_order_)
        outputs = []
        with eval_mode(self.module_):  # also keeps sub-modules a plugin froze in eval mode
            for batch in self.get_iterator(data, training=False):
                inputs = batch[0]
                out = self.evaluation_step(batch, training=False)
                if isinstance(out, tuple):
                    out = out[0]
                out = out[:, :n_units]
                for plugin in self.plugin_hooks_["adapt_eval_output"]:
                    out = plugin.adapt_eval_output(self, inputs, out)
                outputs.append(out.detach().cpu())
        return torch.cat(outputs)

    def evaluation_step(self, batch, training=False):
        Xi, _ = unpack_data(batch)
        with torch.set_grad_enabled(training):
            self._set_training(training)
            return self.infer(Xi)

    def predict_proba(self, X, task_labels=None) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        For a :class:`TrainData` (the encoded data skorch callbacks see), the
        columns are in output-unit order instead.
        """
        logits = self.forward_logits(X, task_labels)
        proba = self._get_predict_nonlinearity()(logits).numpy()
        if isinstance(X, TrainData):
            return proba
        return proba[:, np.argsort(self.class_order_, kind="stable")]

    def predict(self, X, task_labels=None) -> np.ndarray:
        """Predicted labels (from ``classes_``).

        For a :class:`TrainData`, whose ``y`` holds output-unit indices, the
        predicted unit indices, so that skorch's scoring callbacks compare
        like with like.
        """
        units = self.forward_logits(X, task_labels).argmax(dim=1).numpy()
        return units if isinstance(X, TrainData) else self.class_order_[units]

    def score(self, X, y=None, sample_weight=None, task_labels=None) -> float:
        """Accuracy on the given samples with the model as it is now."""
        if isinstance(X, Experience):
            y = X.y if y is None else y
        y = np.asarray(y)
        pred = self.predict(X, task_labels=task_labels)
        if len(pred) != len(y):
            raise ValueError(f"X has {len(pred)} samples but y has {len(y)}.")
        return float(np.average(pred == y, weights=sample_weight))
