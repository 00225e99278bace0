"""Models: an MLP, a small CNN, growing and multi-head classifiers."""

from skcl.models._dynamic import (
    DynamicModule,
    IncrementalClassifier,
    MultiHeadClassifier,
    MultiTaskModule,
    adapt_module,
)
from skcl.models._mlp import MLP, SimpleCNN

__all__ = [
    "DynamicModule",
    "IncrementalClassifier",
    "MLP",
    "MultiHeadClassifier",
    "MultiTaskModule",
    "SimpleCNN",
    "adapt_module",
]
