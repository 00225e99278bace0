"""Resource metrics: training time, process memory and the exemplars a strategy stores."""

from __future__ import annotations

import os
import time

from skcl.evaluation._metric_base import PluginMetric

__all__ = ["Timing", "RAMUsage", "StoredExemplars", "rss_mb", "count_exemplars",
           "BUFFER_ATTRIBUTES"]


class Timing(PluginMetric):
    """Training wall time in seconds (``Time_Epoch``, ``Time_Exp``), evaluation excluded."""

    def __init__(self, epoch: bool = False, experience: bool = True):
        self.epoch = epoch
        self.experience = experience

    def before_training_exp(self, strategy, evaluation):
        self._exp_start = (time.perf_counter(), evaluation.eval_seconds_)
        return []

    def before_training_epoch(self, strategy, evaluation):
        self._epoch_start = (time.perf_counter(), evaluation.eval_seconds_)
        return []

    @staticmethod
    def _elapsed(evaluation, start) -> float:
        t0, e0 = start
        return time.perf_counter() - t0 - (evaluation.eval_seconds_ - e0)

    def after_training_epoch(self, strategy, evaluation):
        if self.epoch and hasattr(self, "_epoch_start"):
            seconds = self._elapsed(evaluation, self._epoch_start)
            return [evaluation.value("Time_Epoch", seconds, "train", "epoch")]
        return []

    def after_training_exp(self, strategy, evaluation):
        if self.experience and hasattr(self, "_exp_start"):
            seconds = self._elapsed(evaluation, self._exp_start)
            return [evaluation.value("Time_Exp", seconds, "train", "experience")]
        return []


def rss_mb() -> float:
    """The process's resident set size in MB (``/proc/self/status``; else peak via ``resource``).

    Examples
    --------
    >>> from skcl.evaluation import rss_mb
    >>> rss_mb() > 1
    True
    """
    try:
        with open(f"/proc/{os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:  # pragma: no cover - not Linux
        pass
    import resource  # pragma: no cover
    import sys  # pragma: no cover

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # pragma: no cover
    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0  # pragma: no cover
    return peak / scale  # pragma: no cover


class RAMUsage(PluginMetric):
    """Process memory: resident set size in MB (``RSS_MB_Epoch``, ``RSS_MB_Exp``)."""

    def __init__(self, epoch: bool = False, experience: bool = True):
        self.epoch = epoch
        self.experience = experience

    def after_training_epoch(self, strategy, evaluation):
        return [evaluation.value("RSS_MB_Epoch", rss_mb(), "train", "epoch")] if self.epoch else []

    def after_training_exp(self, strategy, evaluation):
        if not self.experience:
            return []
        return [evaluation.value("RSS_MB_Exp", rss_mb(), "train", "experience")]


#: Attribute names under which a live plugin may keep its exemplar memory.
BUFFER_ATTRIBUTES = ("storage_policy_", "buffer_", "memory_", "data_")


def count_exemplars(strategy) -> int | None:
    """Samples stored by the strategy's plugins, or None when no plugin has a buffer.

    A plugin exposes a buffer through ``n_stored_exemplars_`` (an int) or an
    attribute in :data:`BUFFER_ATTRIBUTES` whose value has a length.
    """
    total, found = 0, False
    for _, plugin in getattr(strategy, "plugins_", []):
        n = getattr(plugin, "n_stored_exemplars_", None)
        if n is None:
            for attr in BUFFER_ATTRIBUTES:
                buf = getattr(plugin, attr, None)
                if buf is not None:
                    try:
                        n = len(buf)
                    except TypeError:
                        continue
                    break
        if n is not None:
            total, found = total + int(n), True
    return total if found else None


class StoredExemplars(PluginMetric):
    """Number of exemplars held by the strategy's buffers (``Stored_Exemplars_Exp``).

    Emitted after each experience when some plugin exposes a buffer (see
    :func:`count_exemplars`); nothing otherwise.
    """

    def after_training_exp(self, strategy, evaluation):
        n = count_exemplars(strategy)
        if n is None:
            return []
        return [evaluation.value("Stored_Exemplars_Exp", n, "train", "experience")]
