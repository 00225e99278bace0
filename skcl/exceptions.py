"""Exceptions skcl raises beyond Python's and scikit-learn's."""

from skcl.utils._constraints import InvalidParameterError

__all__ = ["DivergenceError", "InvalidParameterError"]


class DivergenceError(FloatingPointError):
    """The training loss became NaN or infinite (``on_divergence="raise"``).

    The strategy is rolled back to its state before the experience; lower the
    learning rate or scale the inputs.
    """
