"""Exemplar selection strategies: which samples a buffer keeps first."""

from skcl.selection._selection import (
    ClosestToCenterSelectionStrategy,
    ExemplarsSelectionStrategy,
    FeatureBasedExemplarsSelectionStrategy,
    HerdingSelectionStrategy,
    RandomExemplarsSelectionStrategy,
    herding_order,
)

__all__ = [
    "ClosestToCenterSelectionStrategy",
    "ExemplarsSelectionStrategy",
    "FeatureBasedExemplarsSelectionStrategy",
    "HerdingSelectionStrategy",
    "RandomExemplarsSelectionStrategy",
    "herding_order",
]
