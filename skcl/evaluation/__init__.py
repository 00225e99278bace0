"""Evaluation: accuracy matrices, metrics, the `EvaluationPlugin`, loggers and plots.

The continual-learning metrics (ACC, forgetting, BWT, FWT) are defined once, as
pure functions of the accuracy matrix (:func:`average_accuracy`,
:func:`forgetting`, :func:`bwt`, :func:`fwt`, ...); the streaming metrics,
:class:`AccuracyMatrix`, the plots and the experiment reports all call them.
"""

from skcl.evaluation._cl_metrics import (
    average_accuracies,
    average_accuracy,
    average_forgetting,
    backward_transfer,
    bwt,
    forgetting,
    forward_transfer,
    fwt,
)
from skcl.evaluation._evaluate import (
    ExperienceResult,
    NotEvaluableWarning,
    evaluate,
    evaluate_experience,
)
from skcl.evaluation._factories import (
    accuracy_metrics,
    bwt_metrics,
    confusion_matrix_metrics,
    exemplars_metrics,
    forgetting_metrics,
    forward_transfer_metrics,
    loss_metrics,
    ram_usage_metrics,
    timing_metrics,
)
from skcl.evaluation._loggers import (
    BaseLogger,
    CSVLogger,
    InteractiveLogger,
    TensorBoardLogger,
    TextLogger,
)
from skcl.evaluation._matrix import AccuracyMatrix
from skcl.evaluation._metric_base import MetricValue, PluginMetric
from skcl.evaluation._metrics import (
    BWT,
    Accuracy,
    ConfusionMatrix,
    Forgetting,
    ForwardTransfer,
    Loss,
)
from skcl.evaluation._plot import (
    SeedAverage,
    average_over_seeds,
    plot_accuracy_matrix,
    plot_average_accuracy,
)
from skcl.evaluation._plugin import EvaluationPlugin
from skcl.evaluation._resource_metrics import (
    RAMUsage,
    StoredExemplars,
    Timing,
    count_exemplars,
    rss_mb,
)
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
    "NotEvaluableWarning",
    "PluginMetric",
    "RAMUsage",
    "SeedAverage",
    "StoredExemplars",
    "TensorBoardLogger",
    "TextLogger",
    "Timing",
    "accuracy_metrics",
    "average_accuracies",
    "average_accuracy",
    "average_accuracy_score",
    "average_forgetting",
    "average_over_seeds",
    "backward_transfer",
    "bwt",
    "bwt_metrics",
    "confusion_matrix_metrics",
    "count_exemplars",
    "evaluate",
    "evaluate_experience",
    "exemplars_metrics",
    "forgetting",
    "forgetting_metrics",
    "forward_transfer",
    "forward_transfer_metrics",
    "fwt",
    "loss_metrics",
    "make_average_accuracy_scorer",
    "plot_accuracy_matrix",
    "plot_average_accuracy",
    "ram_usage_metrics",
    "rss_mb",
    "timing_metrics",
]
