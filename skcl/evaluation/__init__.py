"""skcl.evaluation."""
