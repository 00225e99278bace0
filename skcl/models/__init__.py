"""Models: an MLP, a small CNN, growing and multi-head classifiers, PNN, batch renorm."""

# architectural family (issue 6): _ar1_net, _batch_renorm, _pnn (kept in isort order)
from skcl.models._ar1_net import AR1Net
from skcl.models._batch_renorm import BatchRenorm1d, BatchRenorm2d
from skcl.models._cnn import SmallCNN
from skcl.models._dynamic import (
    DynamicModule,
    IncrementalClassifier,
    MultiHeadClassifier,
    MultiTaskModule,
    adapt_module,
)
from skcl.models._mlp import MLP, SimpleCNN
from skcl.models._pnn import PNN, LinearAdapter, MLPAdapter, PNNColumn
from skcl.models._resnet import ResNet18, SlimResNet18

__all__ = [
    "adapt_module",
    "AR1Net",
    "BatchRenorm1d",
    "BatchRenorm2d",
    "DynamicModule",
    "IncrementalClassifier",
    "LinearAdapter",
    "MLP",
    "MLPAdapter",
    "MultiHeadClassifier",
    "MultiTaskModule",
    "PNN",
    "PNNColumn",
    "ResNet18",
    "SimpleCNN",
    "SlimResNet18",
    "SmallCNN",
]
