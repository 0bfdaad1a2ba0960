"""Scenes per sensor: discovery, loading, extents, and filling sentinel2-dir from a remote archive."""
