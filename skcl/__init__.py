"""skcl: continual learning strategies as scikit-learn estimators, built over skorch."""

__version__ = "0.2.0"
