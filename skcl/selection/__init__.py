"""skcl.selection."""
