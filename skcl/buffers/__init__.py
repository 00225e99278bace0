"""Exemplar buffers: bounded memories, usable as resampling steps in a pipeline."""

from skcl.buffers._balanced import (
    BalancedExemplarsBuffer,
    ClassBalancedBuffer,
    ExperienceBalancedBuffer,
)
from skcl.buffers._base import ExemplarsBuffer
from skcl.buffers._parametric import ParametricBuffer
from skcl.buffers._reservoir import ReservoirSamplingBuffer

__all__ = [
    "BalancedExemplarsBuffer",
    "ClassBalancedBuffer",
    "ExemplarsBuffer",
    "ExperienceBalancedBuffer",
    "ParametricBuffer",
    "ReservoirSamplingBuffer",
]
