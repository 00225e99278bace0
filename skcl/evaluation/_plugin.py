"""`EvaluationPlugin`: computes metrics while a strategy trains and sends them to loggers."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from skcl.benchmarks._streams import as_named_streams
from skcl.evaluation._evaluate import ExperienceResult, NotEvaluableWarning, evaluate_experience
from skcl.evaluation._factories import accuracy_metrics, loss_metrics
from skcl.evaluation._history import history_record, publish_to_skorch_loggers, record_history
from skcl.evaluation._loggers import BaseLogger
from skcl.evaluation._matrix import AccuracyMatrix
from skcl.evaluation._metric_base import MetricValue, PluginMetric
from skcl.plugins._base import StrategyPlugin

__all__ = ["EvaluationPlugin"]


def _flatten(metrics) -> tuple[PluginMetric, ...]:
    flat: list[PluginMetric] = []
    for m in metrics:
        if isinstance(m, PluginMetric):
            flat.append(m)
        elif isinstance(m, Iterable) and not isinstance(m, (str, bytes)):
            flat.extend(_flatten(m))
        else:
            raise TypeError(f"EvaluationPlugin takes metrics (PluginMetric or lists of them); "
                            f"got {m!r}.")
    return tuple(flat)


class EvaluationPlugin(StrategyPlugin):
    """Evaluate a strategy while it trains, and send the metrics to loggers.

    Give the test stream(s) at fit time: ``partial_fit(exp,
    eval_streams=[test_stream])`` (or ``{"test": ..., "val": ...}``). After
    every experience the plugin evaluates each stream, adds a row to its
    accuracy matrix, and emits the metrics; with ``eval_every=k`` it also
    evaluates every ``k`` epochs. Training-time metrics (minibatch, epoch,
    timing, memory) need no stream.

    Parameters
    ----------
    *metrics : PluginMetric or lists of them
        From the factories (:func:`accuracy_metrics`, ...). Default: accuracy
        and loss per epoch, experience and stream. May also be given as
        ``metrics=`` (that is how ``clone`` passes them).
    loggers : list of loggers, default=None
        Receive every value (:class:`TextLogger`, :class:`CSVLogger`,
        :class:`TensorBoardLogger`, :class:`InteractiveLogger`). Loggers are
        clone-safe: cloning the strategy gives the clone fresh loggers with
        the same settings.
    eval_every : int, default=-1
        ``k > 0``: also evaluate the streams every ``k`` epochs (not after the
        last epoch, which the end-of-experience evaluation covers).
        ``-1`` or ``0``: only after each experience.
    collect_all : bool, default=True
        Keep every emitted value in ``metric_values_``.
    skorch_loggers : bool, default=True
        Also hand the end-of-experience record to the strategy's skorch
        logging callbacks (``skorch.callbacks.TensorBoard``, ``WandbLogger``,
        ``MlflowLogger``, ...), which otherwise read ``history[-1]`` before
        the experience ends.

    Notes
    -----
    Every evaluation is also recorded in the strategy's skorch ``history``:
    after experience ``k``, ``history[-1]`` (the row of its last epoch, whose
    ``"experience"`` is ``k``) holds flat scalar keys, for each eval stream
    ``s`` and test experience ``j``: ``{s}_acc_exp{j}`` and ``{s}_loss_exp{j}``
    (row ``k`` of the accuracy matrix and the losses), ``{s}_acc_stream`` and
    ``{s}_loss_stream`` (pooled over the stream's samples), ``{s}_avg_acc``
    (ACC), and from the second experience ``{s}_forgetting``, ``{s}_bwt`` and,
    with a forward-transfer metric, ``{s}_fwt``. So
    ``net.history[:, "test_avg_acc"]`` is the ACC curve, and skorch's logging
    callbacks (``TensorBoard``, ``WandbLogger``, ``MlflowLogger``, ...) log
    these keys unchanged (see ``skorch_loggers``). Periodic evaluations
    (``eval_every``) record the per-experience and stream keys in their
    epoch's row.

    An experience whose task the model never trained and cannot answer (a
    :class:`~skcl.strategies.PNNStrategy` asked about a future task) is not
    evaluable: its accuracy and loss are ``nan`` (the matrix cell too, with
    ``info["note"]`` on the emitted value) and a
    :class:`~skcl.evaluation.NotEvaluableWarning` is issued, instead of
    aborting the run.

    Attributes
    ----------
    accuracy_matrices_ : dict of str -> AccuracyMatrix
        One per eval stream, one row per trained experience.
    last_metrics_ : dict
        The latest value of each metric name.
    metric_values_ : list of MetricValue
        Every value emitted (when ``collect_all``).
    baselines_ : dict of str -> ndarray
        Accuracy on each test experience of the model as initialized (for FWT).

    Examples
    --------
    >>> from skcl.benchmarks import split_digits
    >>> from skcl.strategies import Naive
    >>> from skcl.evaluation import EvaluationPlugin, accuracy_metrics, forgetting_metrics
    >>> train, test = split_digits(n_experiences=2, random_state=0)
    >>> ev = EvaluationPlugin(accuracy_metrics(experience=True),
    ...                       forgetting_metrics(stream=True))
    >>> net = Naive(plugins=[ev], lr=0.1, max_epochs=2, random_state=0)
    >>> for exp in train:
    ...     _ = net.partial_fit(exp, eval_streams=test)
    >>> R = net.named_plugins_["evaluation"].accuracy_matrix_
    >>> R.matrix.shape
    (2, 2)
    >>> sorted(net.named_plugins_["evaluation"].last_metrics_)[-1]
    'Top1_Acc_Exp/eval_phase/test_stream/Exp001'
    >>> net.history[-1, "test_avg_acc"] == R.average_accuracy()
    True
    """

    def __init__(self, *metrics_args, metrics=None, loggers=None, eval_every: int = -1,
                 collect_all: bool = True, skorch_loggers: bool = True):
        if metrics_args and metrics is not None:
            raise TypeError("Give the metrics either positionally or as metrics=, not both.")
        self.metrics = tuple(metrics_args) if metrics is None else metrics
        self.loggers = loggers
        self.eval_every = eval_every
        self.collect_all = collect_all
        self.skorch_loggers = skorch_loggers

    @classmethod
    def _get_param_names(cls):
        return ["collect_all", "eval_every", "loggers", "metrics", "skorch_loggers"]

    # ------------------------------------------------------------------ #
    def _metrics(self) -> tuple[PluginMetric, ...]:
        if not hasattr(self, "metrics_"):
            flat = _flatten(self.metrics or ())
            if not flat:
                flat = _flatten([accuracy_metrics(epoch=True, experience=True, stream=True),
                                 loss_metrics(epoch=True, experience=True, stream=True)])
            self.metrics_ = flat
        return self.metrics_

    def _loggers(self) -> list:
        return list(self.loggers or [])

    def _check(self) -> None:
        ee = self.eval_every
        if not isinstance(ee, (int, np.integer)) or isinstance(ee, bool) or ee < -1:
            raise ValueError(f"eval_every must be an integer >= -1; got {ee!r}.")
        for logger in self._loggers():
            if not isinstance(logger, BaseLogger):
                raise TypeError(
                    "loggers must be skcl.evaluation.BaseLogger instances (subclass it and "
                    f"override log_metrics and the hooks you need); got {logger!r}.")
        self._metrics()

    def _ensure_state(self) -> None:
        if not hasattr(self, "rows_"):
            self.rows_: dict[str, list[list[float]]] = {}
            self.baselines_: dict[str, np.ndarray] = {}
            self.last_metrics_: dict[str, Any] = {}
            self.metric_values_: list[MetricValue] = []
            self.step_ = 0
            self.eval_seconds_ = 0.0
            self.periodic_ = False
            self.training_exp_ = 0
            self.epoch_ = 0

    @property
    def accuracy_matrices_(self) -> dict[str, AccuracyMatrix]:
        rows = getattr(self, "rows_", {})
        return {name: AccuracyMatrix(np.array(r, dtype=float).reshape(len(r), -1),
                                     baseline=self.baselines_.get(name))
                for name, r in rows.items()}

    @property
    def accuracy_matrix_(self) -> AccuracyMatrix:
        """The accuracy matrix of the first eval stream."""
        mats = self.accuracy_matrices_
        if not mats:
            raise AttributeError("No eval stream was given: pass eval_streams= to partial_fit.")
        return next(iter(mats.values()))

    def value(self, metric: str, value, phase: str, granularity: str, *, stream: str = "train",
              eval_exp: int | None = None, info: dict | None = None) -> MetricValue:
        """Build a :class:`MetricValue` in the current context."""
        return MetricValue(metric, value, phase, granularity, self.training_exp_, self.epoch_,
                           self.step_, stream, eval_exp, info or {})

    def _emit(self, values: list[MetricValue]) -> None:
        if not values:
            return
        for v in values:
            self.last_metrics_[v.name] = v.value
        if self.collect_all:
            self.metric_values_.extend(values)
        for logger in self._loggers():
            logger.log_metrics(values)

    # ------------------------------------------------------------------ #
    # evaluation
    # ------------------------------------------------------------------ #
    def _evaluate_stream(self, strategy, name: str, stream, *, baseline: bool = False
                         ) -> list[ExperienceResult]:
        results = [evaluate_experience(strategy, exp, index=j, warn=False)
                   for j, exp in enumerate(stream)]
        skipped = [r.index for r in results if not r.evaluable]
        if skipped:
            when = ("measuring the FWT baseline" if baseline
                    else f"after training experience {self.training_exp_}")
            warnings.warn(
                f"EvaluationPlugin, {when}: experiences {skipped} of stream {name!r} are "
                f"recorded as nan, {results[skipped[0]].note}", NotEvaluableWarning,
                stacklevel=4)
        return results

    def _evaluate(self, strategy, *, periodic: bool) -> list[str]:
        """Evaluate every stream; return the history keys recorded."""
        streams = as_named_streams(getattr(strategy, "eval_streams_", None))
        if not streams:
            return []
        t0 = time.perf_counter()
        self.periodic_ = periodic
        fwt = any(m.needs_baseline for m in self._metrics())
        record: dict[str, float] = {}
        try:
            for name, stream in streams.items():
                results = self._evaluate_stream(strategy, name, stream)
                values: list[MetricValue] = []
                for res in results:
                    for m in self._metrics():
                        values += m.after_eval_exp(strategy, self, name, res) or []
                if not periodic:
                    self.rows_.setdefault(name, []).append([r.accuracy for r in results])
                for m in self._metrics():
                    values += m.after_eval_stream(strategy, self, name, results) or []
                R = None if periodic else self.accuracy_matrices_[name]
                record.update(history_record(name, results, R, fwt=fwt))
                self._emit(values)
                for logger in self._loggers():
                    logger.after_eval_stream(strategy, self, name, values)
        finally:
            self.periodic_ = False
            self.eval_seconds_ += time.perf_counter() - t0
        return list(record) if record_history(strategy, self.training_exp_, record) else []

    def _measure_baseline(self, strategy) -> None:
        streams = as_named_streams(getattr(strategy, "eval_streams_", None))
        t0 = time.perf_counter()
        for name, stream in streams.items():
            if name not in self.baselines_:
                self.baselines_[name] = np.array(
                    [r.accuracy for r in self._evaluate_stream(strategy, name, stream,
                                                               baseline=True)])
        self.eval_seconds_ += time.perf_counter() - t0

    def _collect(self, call) -> list[MetricValue]:
        out: list[MetricValue] = []
        for m in self._metrics():
            out.extend(call(m) or [])
        return out

    # ------------------------------------------------------------------ #
    # hooks
    # ------------------------------------------------------------------ #
    def before_training_exp(self, strategy, experience) -> None:
        self._check()
        self._ensure_state()
        self.training_exp_ = int(strategy.n_experiences_)
        self.epoch_ = 0
        if strategy.n_experiences_ == 0 and any(m.needs_baseline for m in self._metrics()):
            self._measure_baseline(strategy)
        self._emit(self._collect(lambda m: m.before_training_exp(strategy, self)))
        for logger in self._loggers():
            logger.before_training_exp(strategy, self, experience)

    def before_training_epoch(self, strategy) -> None:
        self._emit(self._collect(lambda m: m.before_training_epoch(strategy, self)))
        for logger in self._loggers():
            logger.before_training_epoch(strategy, self)

    def after_forward(self, strategy, y_pred, y_true, inputs) -> None:
        # Keep the training outputs for the metrics, which see them after the step.
        if isinstance(y_pred, (tuple, list)):
            y_pred = y_pred[0]
        self._last_output = (y_pred.detach(), y_true.detach())

    def after_training_iteration(self, strategy, batch) -> None:
        self.step_ += 1
        out = getattr(self, "_last_output", None)
        if out is not None:
            y_pred, y_true = out
            self._emit(self._collect(
                lambda m: m.after_training_iteration(strategy, self, y_pred, y_true)))
            self._last_output = None
        for logger in self._loggers():
            logger.after_training_iteration(strategy, self)

    def after_training_epoch(self, strategy) -> None:
        values = self._collect(lambda m: m.after_training_epoch(strategy, self))
        self._emit(values)
        for logger in self._loggers():
            logger.after_training_epoch(strategy, self, values)
        self.epoch_ += 1
        k = self.eval_every
        if k > 0 and self.epoch_ % k == 0 and self.epoch_ < strategy.max_epochs:
            # inside the epoch's end, before skorch's callbacks: they log the record as usual
            self._evaluate(strategy, periodic=True)

    def after_training_exp(self, strategy, experience) -> None:
        values = self._collect(lambda m: m.after_training_exp(strategy, self))
        self._emit(values)
        keys = self._evaluate(strategy, periodic=False)
        if self.skorch_loggers:
            publish_to_skorch_loggers(strategy, keys)
        for logger in self._loggers():
            logger.after_training_exp(strategy, self, experience, values)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_last_output", None)
        return state

    # ------------------------------------------------------------------ #
    def get_all_metrics(self) -> dict[str, tuple[list[int], list[Any]]]:
        """``{name: (steps, values)}`` of every collected value (Avalanche's shape)."""
        out: dict[str, tuple[list[int], list[Any]]] = {}
        for v in getattr(self, "metric_values_", []):
            xs, ys = out.setdefault(v.name, ([], []))
            xs.append(v.step)
            ys.append(v.value)
        return out

    def results(self) -> dict[str, Any]:
        """A JSON-friendly summary: the accuracy matrices and the last scalar metrics."""
        last = {k: (float(v) if np.ndim(v) == 0 else np.asarray(v).tolist())
                for k, v in getattr(self, "last_metrics_", {}).items()}
        return {"accuracy_matrices": {k: m.to_dict() for k, m in
                                      self.accuracy_matrices_.items()},
                "last_metrics": last}
