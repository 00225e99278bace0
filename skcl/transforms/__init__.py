"""Fast batch transforms (augmentation, normalisation) as scikit-learn style parameters."""

from skcl.transforms._base import BatchTransform, apply_transform
from skcl.transforms._image import (
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    ToFloat,
)

__all__ = [
    "apply_transform",
    "BatchTransform",
    "Compose",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "ToFloat",
]
