"""NDVI, slope and TPI against independent computations (on the real DEM), and engineer_bands."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rioxarray
from affine import Affine
from odc.geo.geobox import GeoBox

from darts_core.bands import BANDS, normalize_bands
from darts_core.errors import DartsInputError, UnknownBandError
from darts_preprocess.engineering.derived_bands import (
    annulus_kernel,
    engineer_bands,
    ndvi,
    slope_degrees,
    to_scene_grid,
    tpi,
)
from darts_preprocess.sources import discover_planet_scenes, load_arcticdem, load_planet_scene, load_tcvis


@pytest.fixture(scope="module")
def real_dem_utm(real_dem_path: Path) -> tuple[np.ndarray, float]:
    """The real DEM reprojected to UTM 13N at 30 m (metres on both axes), NaN nodata."""
    da = rioxarray.open_rasterio(real_dem_path, masked=True).squeeze("band", drop=True)
    utm = da.rio.reproject("EPSG:32613", resolution=30.0, resampling=1, nodata=np.nan)
    values = utm.values.astype(np.float64)
    return values, 30.0


def test_ndvi_formula_and_zero_division() -> None:
    nir = np.array([[3000.0, 0.0, 1000.0, np.nan]])
    red = np.array([[1000.0, 0.0, 3000.0, 500.0]])
    out = ndvi(nir, red)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, [0, 2]], [0.5, -0.5])
    assert np.isnan(out[0, 1]) and np.isnan(out[0, 3])


def _horn_loop(z: np.ndarray, rx: float, ry: float, r: int, c: int) -> float:
    """Horn (1981) slope at one interior cell, written out cell by cell."""
    a, b, cc = z[r - 1, c - 1], z[r - 1, c], z[r - 1, c + 1]
    d, f = z[r, c - 1], z[r, c + 1]
    g, h, i = z[r + 1, c - 1], z[r + 1, c], z[r + 1, c + 1]
    dzdx = ((cc + 2 * f + i) - (a + 2 * d + g)) / (8 * rx)
    dzdy = ((g + 2 * h + i) - (a + 2 * b + cc)) / (8 * ry)
    return math.degrees(math.atan(math.sqrt(dzdx**2 + dzdy**2)))


def test_slope_matches_loop_and_gradient_on_real_dem(real_dem_utm) -> None:
    dem, res = real_dem_utm
    slope = slope_degrees(dem, res, res)
    rng = np.random.default_rng(0)
    interior = np.argwhere(np.isfinite(dem))
    interior = interior[(interior > 2).all(axis=1) & (interior < np.array(dem.shape) - 3).all(axis=1)]
    sample = interior[rng.choice(len(interior), 200, replace=False)]
    checked = 0
    for r, c in sample:
        expected = _horn_loop(dem, res, res, r, c)
        if np.isfinite(expected):
            assert slope[r, c] == pytest.approx(expected, abs=1e-3)
            checked += 1
    assert checked > 150
    gy, gx = np.gradient(dem, res)
    simple = np.degrees(np.arctan(np.hypot(gx, gy)))
    both = np.isfinite(simple) & np.isfinite(slope)
    assert np.median(np.abs(simple[both] - slope[both])) < 1.0  # a smoother stencil, same terrain
    assert 5 < np.nanmean(slope) < 40  # mountainous real terrain


def test_slope_of_planes_with_anisotropic_pixels() -> None:
    rows, cols = np.mgrid[0:20, 0:30].astype(np.float64)
    plane = cols * 2.0  # rises 2 m per column of 2 m -> 45 degrees
    np.testing.assert_allclose(slope_degrees(plane, 2.0, 5.0)[1:-1, 1:-1], 45.0, atol=1e-9)
    plane = rows * 5.0 * math.tan(math.radians(30))  # rows are 5 m apart
    np.testing.assert_allclose(slope_degrees(plane, 2.0, 5.0)[1:-1, 1:-1], 30.0, atol=1e-9)


def _tpi_loop(z: np.ndarray, res: float, outer: float, inner: float, r: int, c: int) -> float:
    n = int(outer // res)
    values = []
    for dr in range(-n, n + 1):
        for dc in range(-n, n + 1):
            rr, cc = r + dr, c + dc
            dist = math.hypot(dr * res, dc * res)
            inside = 0 <= rr < z.shape[0] and 0 <= cc < z.shape[1]
            if inner <= dist <= outer and inside and np.isfinite(z[rr, cc]):
                values.append(z[rr, cc])
    return z[r, c] - sum(values) / len(values)


@pytest.mark.parametrize(("outer", "inner"), [(100.0, 0.0), (150.0, 60.0)])
def test_tpi_matches_brute_force_annulus_on_real_dem(real_dem_utm, outer: float, inner: float) -> None:
    dem, res = real_dem_utm
    dem = dem.copy()
    dem[40:44, 50:56] = np.nan  # a nodata hole inside some annuli
    out = tpi(dem, res, res, outer, inner)
    rng = np.random.default_rng(1)
    finite = np.argwhere(np.isfinite(dem))
    for r, c in finite[rng.choice(len(finite), 60, replace=False)]:
        assert out[r, c] == pytest.approx(_tpi_loop(dem, res, outer, inner, r, c), abs=1e-3)
    assert np.isnan(out[42, 52])
    for r, c in [(0, 0), (3, dem.shape[1] - 1)]:  # edges average what exists
        if np.isfinite(dem[r, c]):
            assert out[r, c] == pytest.approx(_tpi_loop(dem, res, outer, inner, r, c), abs=1e-3)


def test_annulus_kernel_rejects_bad_radii() -> None:
    kernel = annulus_kernel(10.0, 0.0, 3.0, 3.0)
    assert kernel.shape == (7, 7) and kernel[3, 3] and not kernel[0, 0]
    assert not annulus_kernel(10.0, 4.0, 3.0, 3.0)[3, 3]
    with pytest.raises(DartsInputError, match="tpi-inner-radius"):
        annulus_kernel(10.0, 10.0, 3.0, 3.0)


def test_to_scene_grid_crops_aligned_and_warps_others() -> None:
    grid = GeoBox((4, 5), Affine(3, 0, 300, 0, -3, 600), "EPSG:32633")
    padded = grid.pad(2)
    values = np.arange(np.prod(padded.shape.yx), dtype=np.float32).reshape(padded.shape.yx)
    np.testing.assert_array_equal(to_scene_grid(values, padded, grid), values[2:-2, 2:-2])
    shifted = GeoBox((4, 5), Affine(3, 0, 301.5, 0, -3, 600), "EPSG:32633")
    warped = to_scene_grid(values, padded, shifted)
    np.testing.assert_allclose(warped[1:-1, 1:-1], values[2:-2, 2:-2][1:-1, 1:-1] + 0.5, atol=1e-4)


@pytest.fixture(scope="module")
def scene_inputs(synthetic_planet):
    ref = discover_planet_scenes(synthetic_planet.data_dir).scenes[0]
    scene = load_planet_scene(ref)
    dem = load_arcticdem(scene.odc.geobox, synthetic_planet.arcticdem_dir, 100.0, remote=None)
    tcvis = load_tcvis(scene.odc.geobox, synthetic_planet.tcvis_dir, remote=None)
    return scene, dem, tcvis


def test_engineer_bands_all_bands(scene_inputs) -> None:
    scene, dem, tcvis = scene_inputs
    bands = ["slope", "nir", "ndvi", "tc_wetness", "relative_elevation", "red"]
    out = engineer_bands(scene, dem, tcvis, bands, 100.0, 0.0)
    assert list(out) == bands
    shape = scene.odc.geobox.shape.yx
    assert all(v.shape == shape and v.dtype == np.float32 for v in out.values())
    np.testing.assert_array_equal(out["nir"], scene["nir"].values)
    np.testing.assert_allclose(out["ndvi"], ndvi(scene["nir"].values, scene["red"].values))
    pad = (dem.shape[0] - shape[0]) // 2
    full = tpi(dem.values, 3.0, 3.0, 100.0, 0.0)
    np.testing.assert_allclose(out["relative_elevation"], full[pad:-pad, pad:-pad])
    assert not np.isnan(out["relative_elevation"]).any() and not np.isnan(out["slope"]).any()
    x = normalize_bands(out, bands)
    assert x.shape == (len(bands), *shape)


def test_buffer_gives_real_neighbours_at_the_edge(scene_inputs, synthetic_planet) -> None:
    scene, dem, _ = scene_inputs
    unbuffered = load_arcticdem(scene.odc.geobox, synthetic_planet.arcticdem_dir, 0.0, remote=None)
    inner = engineer_bands(scene, dem, None, ["relative_elevation"])["relative_elevation"]
    edge = engineer_bands(scene, unbuffered, None, ["relative_elevation"])["relative_elevation"]
    centre = (slice(40, 88), slice(40, 88))  # > 100 m from every edge: identical either way
    np.testing.assert_allclose(inner[centre], edge[centre], atol=0.05)
    assert np.abs(inner[0] - edge[0]).max() > 0.05  # the edge row differs without the buffer


def test_engineer_bands_errors(scene_inputs) -> None:
    scene, _, _ = scene_inputs
    with pytest.raises(DartsInputError, match="DEM"):
        engineer_bands(scene, None, None, ["slope"])
    with pytest.raises(DartsInputError, match="TCVIS"):
        engineer_bands(scene, None, None, ["tc_greenness"])
    with pytest.raises(UnknownBandError, match="swir"):
        engineer_bands(scene, None, None, ["swir"])
    assert set(engineer_bands(scene, None, None, list(BANDS)[:5])) == set(list(BANDS)[:5])
