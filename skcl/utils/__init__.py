"""skcl.utils."""
