"""PlanetScope discovery and reading, on the synthetic collection and hand-made edge cases."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from darts_core.errors import DartsError
from darts_preprocess.sources import (
    QUALITY_HIGH,
    QUALITY_INVALID,
    QUALITY_LOW,
    SceneFileNotFoundError,
    SceneFormatError,
    discover_planet_scenes,
    load_planet_scene,
    parse_planet_id,
)
from darts_preprocess.sources.planet import read_udm2_quality


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20200722_081437_1032", ("PSScene", "2020-07-22")),
        ("20200722_081437_12_1032", ("PSScene", "2020-07-22")),
        ("4688749_0470419_2021-07-12_105c", ("PSOrthoTile", "2021-07-12")),
        ("4688749_0470419_2021-07-12_105", None),
        ("20200722_081437_1032_3B", None),
        ("2020-07-22", None),
        ("previews", None),
    ],
)
def test_parse_planet_id(name: str, expected: tuple[str, str] | None) -> None:
    assert parse_planet_id(name) == expected


def test_discovery_finds_every_synthetic_scene(synthetic_planet) -> None:
    found = discover_planet_scenes(synthetic_planet.data_dir)
    assert sorted(r.scene_id for r in found.scenes) == sorted(synthetic_planet.scene_ids)
    orthotile = next(r for r in found.scenes if r.product == "PSOrthoTile")
    assert orthotile.folder.parent.parent == synthetic_planet.data_dir  # nested under a tile-id folder
    assert orthotile.sr_path.name.endswith("_SR_clip.tif")
    assert found.skipped == [(synthetic_planet.data_dir / "manifest.json", "file outside a scene folder")]


def _copy_scene(synthetic_planet, tmp_path: Path, scene_id: str = "20200722_081437_1032") -> Path:
    target = tmp_path / "data" / scene_id
    shutil.copytree(synthetic_planet.data_dir / scene_id, target)
    return target


def test_discovery_reports_bad_folders_without_crashing(synthetic_planet, tmp_path: Path) -> None:
    good = _copy_scene(synthetic_planet, tmp_path)
    no_sr = tmp_path / "data" / "sub" / "20210101_101010_abcd"
    no_sr.mkdir(parents=True)
    (no_sr / "20210101_101010_abcd_3B_udm2.tif").write_bytes(b"")
    no_udm = tmp_path / "data" / "20210101_101011_abcd"
    no_udm.mkdir()
    shutil.copy(next(good.glob("*_SR.tif")), no_udm / "20210101_101011_abcd_3B_AnalyticMS_SR.tif")
    (tmp_path / "data" / "previews").mkdir()
    (tmp_path / "data" / "previews" / "x.png").write_bytes(b"")
    found = discover_planet_scenes(tmp_path / "data")
    assert [r.scene_id for r in found.scenes] == [good.name]
    reasons = dict(found.skipped)
    assert "surface-reflectance" in reasons[no_sr]
    assert "udm2" in reasons[no_udm]
    assert "holds no scene" in reasons[tmp_path / "data" / "previews"]
    with pytest.raises(SceneFileNotFoundError, match="does not exist"):
        discover_planet_scenes(tmp_path / "nope")


def test_udm2_quality_rules() -> None:
    udm2 = np.zeros((8, 1, 8), dtype=np.uint8)
    udm2[0] = 1
    for band in range(1, 6):  # snow, shadow, light haze, heavy haze, cloud -> low
        udm2[band, 0, band] = 1
    udm2[6, 0, :] = 80  # confidence never matters
    udm2[7, 0, 7] = 1  # unusable -> invalid
    udm2[5, 0, 7] = 1
    expected = [QUALITY_HIGH] + [QUALITY_LOW] * 5 + [QUALITY_HIGH, QUALITY_INVALID]
    assert read_udm2_quality(udm2)[0].tolist() == expected


def test_load_scene_values_quality_and_grid(synthetic_planet) -> None:
    ref = next(r for r in discover_planet_scenes(synthetic_planet.data_dir).scenes if r.product == "PSScene")
    ds = load_planet_scene(ref)
    with rasterio.open(ref.sr_path) as src:
        raw, transform, crs = src.read(), src.transform, src.crs
    with rasterio.open(ref.udm2_path) as src:
        udm2 = src.read()
    assert list(ds.data_vars) == ["blue", "green", "red", "nir", "quality"]
    assert ds["red"].dtype == np.float32 and ds["quality"].dtype == np.uint8
    valid = raw[2] != 0
    np.testing.assert_array_equal(ds["red"].values[valid], raw[2][valid].astype(np.float32))
    assert np.isnan(ds["red"].values[~valid]).all() and (~valid).any()
    quality = ds["quality"].values
    assert (quality[udm2[7] != 0] == QUALITY_INVALID).all()
    low = (udm2[1:6] != 0).any(axis=0) & (udm2[7] == 0)
    assert low.any() and (quality[low] == QUALITY_LOW).all()
    assert (quality[~low & (udm2[7] == 0)] == QUALITY_HIGH).all()
    assert ds.rio.crs == crs and ds.rio.transform() == transform
    assert ds.odc.geobox.affine == transform
    assert ds.attrs == {
        "scene_id": ref.scene_id,
        "date": "2020-07-22",
        "sensor": "planetscope",
        "product": "PSScene",
    }


def test_missing_sr_file_names_the_file(synthetic_planet, tmp_path: Path) -> None:
    folder = _copy_scene(synthetic_planet, tmp_path)
    ref = discover_planet_scenes(tmp_path / "data").scenes[0]
    ref.sr_path.unlink()
    with pytest.raises(SceneFileNotFoundError, match=ref.sr_path.name) as err:
        load_planet_scene(ref)
    assert isinstance(err.value, DartsError) and isinstance(err.value, FileNotFoundError)
    assert not (folder / ref.sr_path.name).exists()


@pytest.mark.parametrize("change", ["size", "transform"])
def test_udm2_of_another_grid_is_rejected(synthetic_planet, tmp_path: Path, change: str) -> None:
    _copy_scene(synthetic_planet, tmp_path)
    ref = discover_planet_scenes(tmp_path / "data").scenes[0]
    with rasterio.open(ref.udm2_path) as src:
        profile, data = src.profile, src.read()
    if change == "size":
        profile.update(height=profile["height"] - 5)
        data = data[:, :-5]
    else:
        profile.update(transform=profile["transform"] @ Affine.translation(2, 0))
    with rasterio.open(ref.udm2_path, "w", **profile) as dst:
        dst.write(data)
    with pytest.raises(SceneFormatError, match=ref.udm2_path.name) as err:
        load_planet_scene(ref)
    assert ref.sr_path.name in str(err.value) and isinstance(err.value, ValueError)


def test_sr_with_wrong_band_count_is_rejected(synthetic_planet, tmp_path: Path) -> None:
    _copy_scene(synthetic_planet, tmp_path)
    ref = discover_planet_scenes(tmp_path / "data").scenes[0]
    with rasterio.open(ref.sr_path) as src:
        profile, data = src.profile, src.read()
    profile.update(count=3)
    with rasterio.open(ref.sr_path, "w", **profile) as dst:
        dst.write(data[:3])
    with pytest.raises(SceneFormatError, match="3 bands"):
        load_planet_scene(ref)
