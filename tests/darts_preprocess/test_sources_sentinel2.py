"""Sentinel-2 readers: the real netCDF, a reference-style GeoTIFF folder, SCL and the 04.00 offset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from affine import Affine
from odc.geo.geobox import GeoBox

from darts_preprocess.sources import (
    QUALITY_HIGH,
    QUALITY_INVALID,
    QUALITY_LOW,
    SceneFormatError,
    Sentinel2EarthEngine,
    discover_s2_scenes,
    load_s2_scene,
    reflectance_offset_dn,
    scl_quality,
)
from darts_preprocess.sources._tiles import write_geotiff
from darts_preprocess.sources.earthengine import init_earthengine
from darts_preprocess.sources.errors import RemoteSourceError

NC_NAME = "L3B_S2B_00390821JXN0L2A_20210319_20220730_C01.nc"


def test_scl_mapping_of_every_class() -> None:
    expected = {0: 0, 1: 0, 2: 2, 3: 1, 4: 2, 5: 2, 6: 2, 7: 2, 8: 1, 9: 1, 10: 2, 11: 1}
    assert scl_quality(np.arange(12)).tolist() == [expected[c] for c in range(12)]


@pytest.mark.parametrize(
    ("scene_id", "date", "tag", "offset"),
    [
        ("S2A_MSIL2A_20220301T100000_N0400_R122_T33XVJ_20220301T120000", "2022-03-01", None, -1000.0),
        ("S2A_MSIL2A_20220301T100000_N0301_R122_T33XVJ_20220301T120000", "2022-03-01", None, 0.0),
        ("20230715T081609_20230715T081604_T38XMN", "2023-07-15", None, -1000.0),
        ("20210715T081609_20210715T081604_T38XMN", "2021-07-15", None, 0.0),
        ("20230715T081609_20230715T081604_T38XMN", "2023-07-15", 0.0, 0.0),  # harmonized download
        ("sample", None, None, 0.0),
    ],
)
def test_reflectance_offset_rule(scene_id: str, date: str | None, tag: float | None, offset: float) -> None:
    assert reflectance_offset_dn(scene_id, date, tag) == offset


def test_real_netcdf_scene(real_rasters_dir: Path) -> None:
    found = discover_s2_scenes(real_rasters_dir)
    assert [(r.scene_id, r.kind, r.date) for r in found.scenes] == [
        (Path(NC_NAME).stem, "netcdf", "2021-03-19")
    ]
    ds = load_s2_scene(found.scenes[0])
    with xr.open_dataset(real_rasters_dir / NC_NAME, mask_and_scale=False) as raw:
        red = raw["red"].values
        transform = raw.rio.transform()
    valid = red != 32768
    assert valid.any() and (~valid).any()
    np.testing.assert_array_equal(ds["red"].values[valid], red[valid].astype(np.float32))
    assert np.isnan(ds["red"].values[~valid]).all()
    assert (ds["quality"].values == np.where(valid, QUALITY_HIGH, QUALITY_INVALID)).all()
    assert ds.rio.crs.to_epsg() == 8858 and ds.rio.transform() == transform
    assert ds.attrs["sensor"] == "sentinel2" and ds.attrs["reflectance_offset_dn"] == 0.0


def _write_s2_folder(root: Path, scene_id: str) -> tuple[np.ndarray, np.ndarray]:
    grid = GeoBox((24, 24), Affine(10, 0, 500_000, 0, -10, 7_800_000), "EPSG:32633")
    scl_grid = GeoBox((12, 12), Affine(20, 0, 500_000, 0, -20, 7_800_000), "EPSG:32633")
    rng = np.random.default_rng(3)
    sr = rng.integers(1100, 4000, (4, 24, 24)).astype(np.uint16)
    sr[:, 0, :] = 0
    scl = (np.arange(144) % 12).reshape(12, 12).astype(np.uint8)
    folder = root / scene_id
    write_geotiff(folder / f"{scene_id}_SR.tif", sr, grid, nodata=0)
    write_geotiff(folder / f"{scene_id}_SCL.tif", scl[None], scl_grid, nodata=None)
    (folder / f"{scene_id}.gpkg").write_bytes(b"")
    return sr, scl


def test_geotiff_folder_with_coarser_scl_and_new_baseline(tmp_path: Path) -> None:
    scene_id = "20230715T081609_20230715T081604_T33XVJ"
    sr, scl = _write_s2_folder(tmp_path, scene_id)
    (tmp_path / "notes.txt").write_text("not a scene")
    found = discover_s2_scenes(tmp_path)
    ref = found.scenes[0]
    assert (ref.scene_id, ref.kind, ref.date) == (scene_id, "geotiff", "2023-07-15")
    assert ref.labels_path == tmp_path / scene_id / f"{scene_id}.gpkg"
    ds = load_s2_scene(ref)
    scl10 = np.repeat(np.repeat(scl, 2, axis=0), 2, axis=1)  # nearest onto the 10 m grid
    quality = np.where(sr[0] == 0, QUALITY_INVALID, scl_quality(scl10))
    np.testing.assert_array_equal(ds["quality"].values, quality)
    keep = quality > QUALITY_INVALID
    np.testing.assert_array_equal(ds["blue"].values[keep], sr[0][keep].astype(np.float32) - 1000)
    assert np.isnan(ds["blue"].values[~keep]).all()
    assert (quality == QUALITY_LOW).any()


def test_geotiff_with_too_few_bands(tmp_path: Path) -> None:
    scene_id = "20210715T081609_20210715T081604_T33XVJ"
    grid = GeoBox((8, 8), Affine(10, 0, 500_000, 0, -10, 7_800_000), "EPSG:32633")
    write_geotiff(tmp_path / scene_id / f"{scene_id}_SR.tif", np.ones((3, 8, 8), np.uint16), grid, nodata=0)
    ref = discover_s2_scenes(tmp_path).scenes[0]
    assert ref.scl_path is None
    with pytest.raises(SceneFormatError, match="3 bands"):
        load_s2_scene(ref)


def test_earth_engine_source_without_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    init_earthengine.cache_clear()
    source = Sentinel2EarthEngine(project="no-such-project")
    aoi = GeoBox((8, 8), Affine(10, 0, 500_000, 0, -10, 7_800_000), "EPSG:32633").extent
    with pytest.raises(RemoteSourceError, match="earthengine authenticate"):
        source.fetch_scene("20230715T081609_20230715T081604_T33XVJ", aoi, tmp_path / "s2")
    assert not (tmp_path / "s2").exists()
