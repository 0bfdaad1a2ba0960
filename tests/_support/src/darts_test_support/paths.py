"""Paths of the files in the repository that tests read."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
TEST_DATA = REPO_ROOT / "tests" / "data"
RTS_LABELS = TEST_DATA / "rts-labels"
"""The subset of the real RTS labels (see its README)."""
REAL_RASTERS = TEST_DATA / "real-rasters"
"""Small real rasters: a netCDF Sentinel-2 composite, a 4-band GeoTIFF scene, a DEM."""
GUIDE_SWEEP_FILE = REPO_ROOT / "configs" / "planet-tcvis-sweep.yaml"
"""The training guide's sweep file, verbatim."""
GUIDE_CONFIG_FILE = REPO_ROOT / "configs" / "planet-sweep-config.toml"
"""The training guide's config.toml, verbatim."""
