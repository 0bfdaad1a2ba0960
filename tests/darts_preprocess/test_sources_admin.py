"""Admin regions: the local boundary folder and the geoBoundaries download's failure mode."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from darts_preprocess.sources import (
    AdminRegionsError,
    RemoteSourceError,
    download_admin_regions,
    load_admin_regions,
)
from darts_preprocess.sources import admin as admin_module


def test_synthetic_admin_file(synthetic_planet) -> None:
    regions = load_admin_regions(synthetic_planet.admin_dir)
    assert list(regions.columns) == ["shapeName", "level", "source", "geometry"]
    assert regions.crs.to_epsg() == 4326
    by_name = dict(zip(regions["shapeName"], regions["level"], strict=True))
    assert by_name[synthetic_planet.test_region] == "ADM2" and by_name["Krasnoyarsk Krai"] == "ADM1"


def test_level_from_file_name_and_other_crs(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"shapeName": ["A"]}, geometry=[box(500_000, 7_000_000, 510_000, 7_010_000)], crs=32645
    )
    frame.to_file(tmp_path / "geoBoundaries-RUS-ADM1.geojson", driver="GeoJSON")
    regions = load_admin_regions(tmp_path)
    assert regions["level"].tolist() == ["ADM1"]
    assert 86 < regions.geometry.iloc[0].centroid.x < 88  # reprojected to lon/lat


def test_admin_errors(tmp_path: Path) -> None:
    with pytest.raises(AdminRegionsError, match="does not exist"):
        load_admin_regions(tmp_path / "missing")
    with pytest.raises(AdminRegionsError, match="no boundary file"):
        load_admin_regions(tmp_path)
    gpd.GeoDataFrame({"NAME_2": ["A"]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(tmp_path / "gadm.gpkg")
    with pytest.raises(AdminRegionsError, match="shapeName"):
        load_admin_regions(tmp_path)


def test_download_keeps_existing_and_fails_clearly_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = tmp_path / "geoBoundaries-RUS-ADM2.geojson"
    existing.write_text("{}")
    assert download_admin_regions(tmp_path, "rus", 2) == existing
    monkeypatch.setattr(admin_module, "GEOBOUNDARIES_API", "http://127.0.0.1:9/{iso3}/ADM{level}/")
    with pytest.raises(RemoteSourceError, match="CAN ADM1"):
        download_admin_regions(tmp_path, "CAN", 1, timeout_s=5)
    assert not (tmp_path / "geoBoundaries-CAN-ADM1.geojson").exists()
