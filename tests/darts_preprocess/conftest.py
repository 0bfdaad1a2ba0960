"""Shared fixtures of the darts_preprocess tests (helpers append their own fixtures at the end)."""

from __future__ import annotations

from pathlib import Path

import pytest

from darts_preprocess.synthetic.collections import SyntheticCollection, generate_planet_collection


@pytest.fixture(scope="session")
def synthetic_planet(tmp_path_factory: pytest.TempPathFactory, rts_labels_dir: Path) -> SyntheticCollection:
    """Six 128 px synthetic PlanetScope scenes on real label sites (+ DEM, TCVIS, admin caches).

    Read-only: tests that modify files must copy what they change.
    """
    out = tmp_path_factory.mktemp("synthetic_planet")
    return generate_planet_collection(out, labels_dir=rts_labels_dir, n_scenes=6, size_px=128, seed=42)


@pytest.fixture(scope="session")
def real_dem_path(real_rasters_dir: Path) -> Path:
    """The real DEM (uint16 metres, EPSG:4326, nodata 65535)."""
    return real_rasters_dir / "rmnp-dem.tif"


@pytest.fixture(autouse=True)
def _forget_unreachable_services():
    """A remote service marked unreachable by one test must not fail the next (the mark is per process)."""
    from darts_preprocess.sources._remote import UNREACHABLE

    UNREACHABLE.clear()
    yield
    UNREACHABLE.clear()
