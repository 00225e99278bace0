"""skcl.buffers."""
