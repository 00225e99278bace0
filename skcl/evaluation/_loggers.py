"""Loggers: where an `EvaluationPlugin` sends its metric values."""

from __future__ import annotations

import csv
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator

from skcl.evaluation._metric_base import MetricValue

if TYPE_CHECKING:  # pragma: no cover
    from skcl.benchmarks import Experience
    from skcl.evaluation._plugin import EvaluationPlugin
    from skcl.strategies import BaseStrategy

__all__ = ["BaseLogger", "TextLogger", "CSVLogger", "TensorBoardLogger", "InteractiveLogger"]

_STD_STREAMS = {"<stdout>": lambda: sys.stdout, "<stderr>": lambda: sys.stderr}


class BaseLogger(BaseEstimator):
    """Base class of the loggers.

    A logger's ``__init__`` only stores settings; open files, writers and
    progress bars live in attributes ending in ``_`` and are created on first
    use. That makes loggers safe to carry inside estimator parameters:

    * ``clone`` (and so ``GridSearchCV``) gives a fresh logger with the same
      settings (``__sklearn_clone__``), sharing a stream it was given;
    * ``copy.deepcopy`` (the strategy's rollback snapshot) returns the logger
      itself: a logger is an output sink, not state to roll back;
    * pickling drops the open handles (they reopen on first use) and
      stores ``sys.stdout``/``sys.stderr`` by name.

    Subclasses override :meth:`log_metrics` and any of the hooks below,
    which are concrete no-ops here. They take the plugin's argument order
    (the strategy first), then the live
    :class:`~skcl.evaluation.EvaluationPlugin` (``evaluation``).

    The metric values of the whole run are also recorded in the strategy's
    skorch ``history`` (see :class:`~skcl.evaluation.EvaluationPlugin`), so
    skorch's own logging callbacks need no skcl logger; these loggers add
    what ``history`` does not hold: minibatch values, Avalanche's metric
    names, confusion matrices, tidy CSV files and progress bars.

    Examples
    --------
    >>> from skcl.evaluation import BaseLogger
    >>> class Count(BaseLogger):
    ...     def log_metrics(self, values):
    ...         self.n_ = getattr(self, "n_", 0) + len(values)
    >>> Count().after_training_epoch(None, None, [])  # the other hooks are no-ops
    """

    def log_metrics(self, values: Sequence[MetricValue]) -> None:
        """Receive every batch of values the plugin emits."""

    def before_training_exp(self, strategy: BaseStrategy, evaluation: EvaluationPlugin,
                            experience: Experience) -> None:
        """An experience starts."""

    def before_training_epoch(self, strategy: BaseStrategy, evaluation: EvaluationPlugin
                              ) -> None:
        """An epoch starts."""

    def after_training_iteration(self, strategy: BaseStrategy, evaluation: EvaluationPlugin
                                 ) -> None:
        """A minibatch was trained (after the optimizer step)."""

    def after_training_epoch(self, strategy: BaseStrategy, evaluation: EvaluationPlugin,
                             values: Sequence[MetricValue]) -> None:
        """An epoch ended; ``values`` are the epoch's metric values."""

    def after_training_exp(self, strategy: BaseStrategy, evaluation: EvaluationPlugin,
                           experience: Experience, values: Sequence[MetricValue]) -> None:
        """An experience ended and the eval streams were evaluated."""

    def after_eval_stream(self, strategy: BaseStrategy, evaluation: EvaluationPlugin,
                          stream: str, values: Sequence[MetricValue]) -> None:
        """A stream was evaluated; ``values`` are its metric values."""

    def close(self) -> None:
        """Release open files or writers (they reopen on next use)."""

    def __sklearn_clone__(self):
        return type(self)(**self.get_params(deep=False))

    def __deepcopy__(self, memo):
        return self

    def __getstate__(self):
        state = {}
        for k, v in self.__dict__.items():
            if k.endswith("_") and not k.startswith("__"):
                continue  # runtime handles
            for name, get in _STD_STREAMS.items():
                if v is get():
                    v = name
            state[k] = v
        return state

    def __setstate__(self, state):
        for k, v in state.items():
            if isinstance(v, str) and v in _STD_STREAMS:
                state[k] = _STD_STREAMS[v]()
        self.__dict__.update(state)


def _undefined(v: Any) -> bool:
    """A scalar that is NaN: a metric not defined there (no known class yet, no loss)."""
    try:
        return np.ndim(v) == 0 and math.isnan(float(v))
    except (TypeError, ValueError):
        return False


def _fmt(v: Any) -> str:
    if np.ndim(v) == 0:
        if _undefined(v):
            return "n/a"
        try:
            return f"{float(v):.4f}"
        except (TypeError, ValueError):
            return str(v)
    return "\n" + np.array2string(np.asarray(v), precision=3, max_line_width=120)


class TextLogger(BaseLogger):
    """Write the metric values as text lines, to a stream or a file.

    Parameters
    ----------
    file : str, path, text stream or None, default=None
        ``None`` writes to ``sys.stdout`` (looked up at write time). A path is
        opened in append mode for each write.
    minibatch : bool, default=False
        Also write minibatch values (many lines).

    Examples
    --------
    >>> import io
    >>> from skcl.evaluation import TextLogger, MetricValue
    >>> buf = io.StringIO()
    >>> TextLogger(buf).log_metrics([MetricValue("Top1_Acc_Epoch", 0.5, "train", "epoch", 0, 1, 8)])
    >>> print(buf.getvalue().strip())
    [exp 0 | epoch 1 | step 8] Top1_Acc_Epoch/train_phase/train_stream = 0.5000
    """

    def __init__(self, file: str | os.PathLike | IO[str] | None = None, minibatch: bool = False):
        self.file = file
        self.minibatch = minibatch

    def _write(self, text: str) -> None:
        if self.file is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        elif isinstance(self.file, (str, os.PathLike)):
            Path(self.file).parent.mkdir(parents=True, exist_ok=True)
            with open(self.file, "a", encoding="utf-8") as fh:
                fh.write(text)
        else:
            self.file.write(text)
            if hasattr(self.file, "flush"):
                self.file.flush()

    def log_metrics(self, values):
        lines = []
        for v in values:
            if v.granularity == "minibatch" and not self.minibatch:
                continue
            extra = f" labels={v.info['labels']}" if "labels" in v.info else ""
            if _undefined(v.value):
                extra += f" ({v.info['note']})" if "note" in v.info else " (undefined here)"
            lines.append(f"[exp {v.training_exp} | epoch {v.epoch} | step {v.step}] "
                         f"{v.name} = {_fmt(v.value)}{extra}\n")
        if lines:
            self._write("".join(lines))

    def before_training_exp(self, strategy, evaluation, experience):
        self._write(f"-- Start of training experience {evaluation.training_exp_} "
                    f"({len(experience)} samples) --\n")


_TRAIN_COLUMNS = ["training_exp", "epoch", "step", "granularity", "metric", "value"]
_EVAL_COLUMNS = ["training_exp", "epoch", "step", "stream", "eval_exp", "granularity",
                 "metric", "value"]


class CSVLogger(BaseLogger):
    """Tidy CSV files: one row per scalar value, one file per phase.

    ``training_results.csv`` has the columns ``training_exp, epoch, step,
    granularity, metric, value``; ``eval_results.csv`` adds ``stream`` and
    ``eval_exp``. A logger starts its files afresh the first time it writes.
    Non-scalar values (confusion matrices) are skipped.

    Parameters
    ----------
    log_folder : str or path, default="csvlogs"
    """

    def __init__(self, log_folder: str | os.PathLike = "csvlogs"):
        self.log_folder = log_folder

    @property
    def training_path(self) -> Path:
        return Path(self.log_folder) / "training_results.csv"

    @property
    def eval_path(self) -> Path:
        return Path(self.log_folder) / "eval_results.csv"

    def _append(self, path: Path, columns: list[str], rows: list[dict]) -> None:
        started = getattr(self, "started_", set())
        fresh = str(path) not in started
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w" if fresh else "a", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            if fresh:
                writer.writeheader()
            writer.writerows(rows)
        started.add(str(path))
        self.started_ = started

    def log_metrics(self, values):
        train, evals = [], []
        for v in values:
            if not v.is_scalar or _undefined(v.value):  # undefined values are not rows
                continue
            row = {"training_exp": v.training_exp, "epoch": v.epoch, "step": v.step,
                   "granularity": v.granularity, "metric": v.metric, "value": float(v.value)}
            if v.phase == "train":
                train.append(row)
            else:
                row.update(stream=v.stream, eval_exp="" if v.eval_exp is None else v.eval_exp)
                evals.append(row)
        if train:
            self._append(self.training_path, _TRAIN_COLUMNS, train)
        if evals:
            self._append(self.eval_path, _EVAL_COLUMNS, evals)


class TensorBoardLogger(BaseLogger):
    """TensorBoard event files through :class:`torch.utils.tensorboard.SummaryWriter`.

    Each scalar value becomes a scalar summary named like the metric
    (``Top1_Acc_Exp/eval_phase/test_stream/Exp001``) at ``step`` = training
    minibatches seen. Needs the ``tensorboard`` package.

    Parameters
    ----------
    log_dir : str or path, default="tb_data"
    filename_suffix : str, default=""
    """

    def __init__(self, log_dir: str | os.PathLike = "tb_data", filename_suffix: str = ""):
        self.log_dir = log_dir
        self.filename_suffix = filename_suffix

    def _writer(self):
        if getattr(self, "writer_", None) is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ImportError("TensorBoardLogger needs the tensorboard package: "
                                  "pip install tensorboard") from exc
            self.writer_ = SummaryWriter(log_dir=str(self.log_dir),
                                         filename_suffix=self.filename_suffix)
        return self.writer_

    def log_metrics(self, values):
        writer = None
        for v in values:
            if v.is_scalar:
                value = float(v.value)
                if math.isfinite(value):
                    writer = writer or self._writer()
                    writer.add_scalar(v.name, value, v.step)

    def after_training_exp(self, strategy, evaluation, experience, values):
        if getattr(self, "writer_", None) is not None:
            self.writer_.flush()

    def after_eval_stream(self, strategy, evaluation, stream, values):
        if getattr(self, "writer_", None) is not None:
            self.writer_.flush()

    def close(self):
        if getattr(self, "writer_", None) is not None:
            self.writer_.close()
            self.writer_ = None


class InteractiveLogger(BaseLogger):
    """tqdm progress bars over experiences, epochs and minibatches, plus eval summaries.

    Off when ``verbose=0`` or when ``file`` is not a terminal (so cluster
    logs are not spammed), unless ``disable=False`` forces it on.

    Parameters
    ----------
    verbose : int, default=1
    file : text stream or None, default=None
        ``None`` is ``sys.stderr`` (looked up when bars open).
    disable : bool or None, default=None
        ``None``: decide from ``verbose`` and whether ``file`` is a TTY.
    n_experiences : int or None, default=None
        Length of the stream, for the outer bar's total.
    """

    def __init__(self, verbose: int = 1, file=None, disable: bool | None = None,
                 n_experiences: int | None = None):
        self.verbose = verbose
        self.file = file
        self.disable = disable
        self.n_experiences = n_experiences

    def _file(self):
        return sys.stderr if self.file is None else self.file

    @property
    def active(self) -> bool:
        """Whether bars and lines are drawn."""
        if self.disable is not None:
            return not self.disable
        if not self.verbose:
            return False
        isatty = getattr(self._file(), "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # closed stream
            return False

    def _bar(self, **kwargs):
        from tqdm.auto import tqdm

        return tqdm(file=self._file(), dynamic_ncols=True, **kwargs)

    def before_training_exp(self, strategy, evaluation, experience):
        if not self.active:
            return
        if getattr(self, "exp_bar_", None) is None:
            self.exp_bar_ = self._bar(total=self.n_experiences, desc="experiences", position=0)
        self.epoch_bar_ = self._bar(total=strategy.max_epochs, position=1, leave=False,
                                    desc=f"exp {evaluation.training_exp_} epochs")

    def before_training_epoch(self, strategy, evaluation):
        if not self.active:
            return
        data = getattr(strategy, "train_data_", None)
        bs = strategy.batch_size
        total = None
        if data is not None:
            total = 1 if bs == -1 else math.ceil(len(data) / bs)
        self.batch_bar_ = self._bar(total=total, position=2, leave=False, desc="minibatches")

    def after_training_iteration(self, strategy, evaluation):
        bar = getattr(self, "batch_bar_", None)
        if bar is not None:
            bar.update(1)

    def after_training_epoch(self, strategy, evaluation, values):
        bar = getattr(self, "batch_bar_", None)
        if bar is not None:
            bar.close()
            self.batch_bar_ = None
        if getattr(self, "epoch_bar_", None) is not None:
            post = {v.metric: f"{float(v.value):.3f}" for v in values
                    if v.is_scalar and not _undefined(v.value)}
            if post:
                self.epoch_bar_.set_postfix(post)
            self.epoch_bar_.update(1)

    def after_training_exp(self, strategy, evaluation, experience, values):
        if getattr(self, "epoch_bar_", None) is not None:
            self.epoch_bar_.close()
            self.epoch_bar_ = None
        if getattr(self, "exp_bar_", None) is not None:
            self.exp_bar_.update(1)
            if self.n_experiences is not None and self.exp_bar_.n >= self.n_experiences:
                self.close()

    def after_eval_stream(self, strategy, evaluation, stream, values):
        if not self.active:
            return
        from tqdm.auto import tqdm

        parts = [f"{v.metric}={float(v.value):.3f}" for v in values
                 if v.is_scalar and v.granularity == "stream" and not _undefined(v.value)]
        if parts:
            tqdm.write(f"[exp {evaluation.training_exp_}] {stream}: " + " ".join(parts),
                       file=self._file())

    def close(self):
        for attr in ("batch_bar_", "epoch_bar_", "exp_bar_"):
            bar = getattr(self, attr, None)
            if bar is not None:
                bar.close()
                setattr(self, attr, None)
