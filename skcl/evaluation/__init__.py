"""Evaluation: accuracy matrices, metrics, the `EvaluationPlugin`, loggers and plots."""

from skcl.benchmarks._streams import as_named_streams
from skcl.evaluation._evaluate import ExperienceResult, evaluate, evaluate_experience
from skcl.evaluation._loggers import (
    BaseLogger,
    CSVLogger,
    InteractiveLogger,
    TensorBoardLogger,
    TextLogger,
)
from skcl.evaluation._matrix import AccuracyMatrix
from skcl.evaluation._metrics import (
    BWT,
    Accuracy,
    ConfusionMatrix,
    Forgetting,
    ForwardTransfer,
    Loss,
    MetricValue,
    PluginMetric,
    RAMUsage,
    StoredExemplars,
    Timing,
    accuracy_metrics,
    bwt_metrics,
    confusion_matrix_metrics,
    count_exemplars,
    exemplars_metrics,
    forgetting_metrics,
    forward_transfer_metrics,
    loss_metrics,
    ram_usage_metrics,
    rss_mb,
    timing_metrics,
)
from skcl.evaluation._plot import plot_average_accuracy
from skcl.evaluation._plugin import EvaluationPlugin
from skcl.evaluation._scorer import average_accuracy_score, make_average_accuracy_scorer

__all__ = [
    "BWT",
    "Accuracy",
    "AccuracyMatrix",
    "BaseLogger",
    "CSVLogger",
    "ConfusionMatrix",
    "EvaluationPlugin",
    "ExperienceResult",
    "Forgetting",
    "ForwardTransfer",
    "InteractiveLogger",
    "Loss",
    "MetricValue",
    "PluginMetric",
    "RAMUsage",
    "StoredExemplars",
    "TensorBoardLogger",
    "TextLogger",
    "Timing",
    "accuracy_metrics",
    "as_named_streams",
    "average_accuracy_score",
    "bwt_metrics",
    "confusion_matrix_metrics",
    "count_exemplars",
    "evaluate",
    "evaluate_experience",
    "exemplars_metrics",
    "forgetting_metrics",
    "forward_transfer_metrics",
    "loss_metrics",
    "make_average_accuracy_scorer",
    "plot_average_accuracy",
    "ram_usage_metrics",
    "rss_mb",
    "timing_metrics",
]
