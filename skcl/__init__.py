"""skcl: continual learning strategies as scikit-learn estimators, built over skorch."""

__version__ = "0.1.0"
