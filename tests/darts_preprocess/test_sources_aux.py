"""ArcticDEM and TCVIS tile caches: reading, warping onto scene grids, clear errors for missing data."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from odc.geo.geobox import GeoBox

from darts_preprocess.sources import (
    TCVIS_VARS,
    ArcticDEMStac,
    AuxDataMissingError,
    TcvisEarthEngine,
    buffered_geobox,
    discover_planet_scenes,
    load_arcticdem,
    load_planet_scene,
    load_tcvis,
)
from darts_preprocess.sources.earthengine import init_earthengine
from darts_preprocess.sources.errors import RemoteSourceError

# A refused local port: the remote code runs, but nothing leaves the machine.
OFFLINE_URL = "http://127.0.0.1:9/"


@pytest.fixture(scope="module")
def scene(synthetic_planet):
    ref = discover_planet_scenes(synthetic_planet.data_dir).scenes[0]
    return load_planet_scene(ref)


def test_buffered_geobox_pads_whole_pixels(scene) -> None:
    grid = scene.odc.geobox
    padded = buffered_geobox(grid, 100.0)
    assert padded.shape.yx == (grid.shape.y + 68, grid.shape.x + 68)  # ceil(100 / 3) = 34 px a side
    assert padded.resolution == grid.resolution
    assert buffered_geobox(grid, 0.0) == grid


def test_arcticdem_on_buffered_scene_grid(synthetic_planet, scene) -> None:
    dem = load_arcticdem(scene.odc.geobox, synthetic_planet.arcticdem_dir, 100.0, remote=None)
    grid = buffered_geobox(scene.odc.geobox, 100.0)
    assert dem.shape == grid.shape.yx and dem.dtype == np.float32
    assert dem.odc.geobox == grid and dem.rio.crs == scene.rio.crs
    assert not np.isnan(dem.values).any()
    # Independent check: the tile's own value at a few pixel centres (smooth terrain, 2 m -> 3 m).
    tile = next(synthetic_planet.arcticdem_dir.glob(f"*{scene.attrs['scene_id']}*"))
    rows, cols = np.array([10, 60, 120, 150]), np.array([15, 80, 100, 170])
    xs, ys = zip(*(grid.affine @ (c + 0.5, r + 0.5) for r, c in zip(rows, cols, strict=True)), strict=True)
    with rasterio.open(tile) as src:
        direct = np.array([v[0] for v in src.sample(zip(xs, ys, strict=True))])
    np.testing.assert_allclose(dem.values[rows, cols], direct, atol=0.3)


def test_arcticdem_from_real_geographic_dem(real_dem_path: Path, tmp_path: Path) -> None:
    cache = tmp_path / "dem"
    cache.mkdir()
    shutil.copy(real_dem_path, cache / "rmnp-dem.tif")
    # A 30 m UTM 13N grid inside the real DEM (EPSG:4326, uint16, nodata 65535).
    grid = GeoBox.from_bbox((440_000, 4_465_000, 455_000, 4_480_000), "EPSG:32613", resolution=30)
    dem = load_arcticdem(grid, cache, 0.0, remote=None)
    values = dem.values
    assert not np.isnan(values).any()
    assert values.min() > 2200 and values.max() < 4300  # real range 2281..4261 m; nodata never leaks in


def test_missing_area_offline_names_dir_and_extent(scene, tmp_path: Path) -> None:
    with pytest.raises(AuxDataMissingError) as err:
        load_arcticdem(scene.odc.geobox, tmp_path / "empty", 100.0, remote=None)
    message = str(err.value)
    assert str(tmp_path / "empty") in message and "lon" in message and "lat" in message
    assert isinstance(err.value, FileNotFoundError)


def test_missing_area_remote_unreachable(scene, tmp_path: Path) -> None:
    remote = ArcticDEMStac(url=OFFLINE_URL, timeout_s=5)
    with pytest.raises(
        AuxDataMissingError, match=r"arcticdem-stac is unreachable \(.*127\.0\.0\.1:9/\)"
    ) as err:
        load_arcticdem(scene.odc.geobox, tmp_path / "dem", 100.0, remote=remote)
    assert isinstance(err.value.__cause__, RemoteSourceError)
    assert not list((tmp_path / "dem").glob("*.tif"))  # nothing half-written into the cache


@pytest.fixture
def no_ee_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    init_earthengine.cache_clear()


def test_tcvis_earth_engine_without_credentials(scene, tmp_path: Path, no_ee_credentials) -> None:
    with pytest.raises(AuxDataMissingError, match="earthengine authenticate"):
        load_tcvis(scene.odc.geobox, tmp_path / "tcvis", remote=TcvisEarthEngine(project="no-such-project"))


def test_tcvis_on_scene_grid_with_rts_signal(synthetic_planet, scene, rts_labels_dir: Path) -> None:
    from rasterio.features import rasterize

    from darts_preprocess.synthetic.sites import labels_of, read_label_files

    tc = load_tcvis(scene.odc.geobox, synthetic_planet.tcvis_dir, remote=None)
    assert list(tc.data_vars) == list(TCVIS_VARS)
    assert tc.odc.geobox == scene.odc.geobox
    for var in TCVIS_VARS:
        values = tc[var].values
        assert not np.isnan(values).any() and values.min() >= 0 and values.max() <= 255
    labels, _ = read_label_files(rts_labels_dir)
    grid = scene.odc.geobox
    shapes = labels_of(scene.attrs["scene_id"], labels).to_crs(grid.crs.to_wkt()).geometry
    rts = rasterize([(g, 1) for g in shapes], out_shape=grid.shape.yx, transform=grid.affine).astype(bool)
    assert rts.any()
    brightness = tc["tc_brightness"].values
    assert brightness[rts].mean() > brightness[~rts].mean() + 5


class _FakeImage:
    """Stands in for ee.Image / ee.ImageCollection in the request chain (Earth Engine cannot run offline)."""

    def __init__(self) -> None:
        self.bands: list[str] = []

    def mosaic(self):
        return self

    def projection(self):
        return self

    def getInfo(self):  # noqa: N802 - Earth Engine's method name
        return {"crs": "EPSG:32633", "transform": [10, 0, 0, 0, -10, 0]}

    def select(self, bands):
        self.bands = list(bands)
        return self

    def toFloat(self):  # noqa: N802 - Earth Engine's method name
        return self

    def unmask(self, value, same_footprint):
        return self


class _FakeEE:
    """computePixels answering band k with ``k * 50 + x / 1e6`` (x = pixel centre), masked at 1000 < x."""

    def __init__(self) -> None:
        self.requests = 0
        self.data = self

    def ImageCollection(self, asset):  # noqa: N802 - Earth Engine's name
        return _FakeImage()

    def Image(self, asset_id):  # noqa: N802 - Earth Engine's name
        return _FakeImage()

    def computePixels(self, request):  # noqa: N802 - Earth Engine's method name
        from darts_preprocess.sources.earthengine import MASKED_VALUE

        self.requests += 1
        grid, bands = request["grid"], request["expression"].bands
        w, h = grid["dimensions"]["width"], grid["dimensions"]["height"]
        t = grid["affineTransform"]
        x = t["translateX"] + (np.arange(w) + 0.5) * t["scaleX"]
        out = np.zeros((h, w), dtype=[(b, "f4") for b in bands])
        for k, band in enumerate(bands, start=1):
            out[band] = np.where((x > 1000) & (x < 1e5), MASKED_VALUE, k * 50 + x / 1e6)
        return out


def test_compute_pixels_assembles_blocks_and_masks() -> None:
    from darts_preprocess.sources.earthengine import compute_pixels

    grid = GeoBox.from_bbox((0, 0, 1300 * 1.0, 1100), "EPSG:32633", resolution=1.0)
    fake = _FakeEE()
    out = compute_pixels(fake, _FakeImage().select(["b"]), grid, ["b"])
    assert out.shape == (1, 1100, 1300) and fake.requests == 4  # 2 x 2 blocks of 1024 px
    expected = 50 + (np.arange(1300) + 0.5) / 1e6
    np.testing.assert_allclose(out[0, 700, :1000], expected[:1000])
    assert np.isnan(out[0, :, 1000:]).all()


def test_tcvis_remote_fill_writes_a_cache_tile(
    scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from darts_preprocess.sources import tcvis as tcvis_module

    fake = _FakeEE()
    monkeypatch.setattr(tcvis_module, "init_earthengine", lambda project, high_volume: fake)
    first = load_tcvis(scene.odc.geobox, tmp_path / "tcvis")
    tiles = list((tmp_path / "tcvis").glob("remote-tcvis-ee-*.tif"))
    assert len(tiles) == 1 and fake.requests == 1
    with rasterio.open(tiles[0]) as src:
        assert src.res == (30.0, 30.0) and src.dtypes[0] == "uint8" and src.crs == scene.rio.crs
    for k, var in enumerate(TCVIS_VARS, start=1):
        np.testing.assert_allclose(first[var].values, k * 50, atol=1)
    load_tcvis(scene.odc.geobox, tmp_path / "tcvis")
    assert fake.requests == 1  # the second load reads the cache


def test_sentinel2_earth_engine_fills_the_reference_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from darts_preprocess.sources import Sentinel2EarthEngine, load_s2_scene, sentinel2_ee

    fake = _FakeEE()
    monkeypatch.setattr(sentinel2_ee, "init_earthengine", lambda project, high_volume: fake)
    aoi = GeoBox.from_bbox((500_000, 7_800_000, 500_640, 7_800_480), "EPSG:32633", resolution=10).extent
    scene_id = "20230715T081609_20230715T081604_T33XVJ"  # after 2022-01-25, but harmonized: no offset
    ref = Sentinel2EarthEngine(project="p").fetch_scene(scene_id, aoi, tmp_path)
    assert ref.sr_path == tmp_path / scene_id / f"{scene_id}_SR.tif" and ref.scl_path is not None
    ds = load_s2_scene(ref)
    assert ds.attrs["reflectance_offset_dn"] == 0.0
    assert ds["blue"].shape == (48, 64) and ds.rio.crs.to_epsg() == 32633
    np.testing.assert_allclose(ds["nir"].values, 200, atol=1)  # B8 is the 4th band: 4 * 50
    Sentinel2EarthEngine(project="p").fetch_scene(scene_id, aoi, tmp_path)
    assert fake.requests == 1  # kept, not fetched again
