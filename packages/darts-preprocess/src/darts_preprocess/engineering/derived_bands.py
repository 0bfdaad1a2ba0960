"""Band engineering on the optical grid: NDVI, TPI (relative elevation), slope, TCVIS.

All functions take and return physical values (see :mod:`darts_core.bands` for the
encodings): NDVI in [-1, 1], TPI in metres, slope in degrees, TCVIS 0..255. NaN means no data.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

import numpy as np
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords, xr_reproject
from scipy import fft as sfft

from darts_core.bands import OPTICAL_BANDS, check_bands
from darts_core.errors import DartsInputError
from darts_preprocess.jobs.helper_threads import helper_threads
from darts_preprocess.sources.tcvis import TCVIS_VARS

logger = logging.getLogger(__name__)

TERRAIN_BANDS: tuple[str, ...] = ("relative_elevation", "slope")


def _work_dtype(*arrays: np.ndarray) -> np.dtype:
    """float32 for float32 / integer inputs (DN, DEM), float64 when an input is float64."""
    return np.result_type(*(np.asarray(a).dtype for a in arrays), np.float32)


def ndvi(nir: np.ndarray, red: np.ndarray) -> np.ndarray:
    """``(nir - red) / (nir + red)`` as float32; 0/0 and NaN inputs give NaN."""
    dtype = _work_dtype(nir, red)
    nir = np.asarray(nir, dtype=dtype)
    red = np.asarray(red, dtype=dtype)
    denom = nir + red
    out = np.full(denom.shape, np.nan, dtype=dtype)
    np.divide(nir - red, denom, out=out, where=denom != 0)
    return out.astype(np.float32, copy=False)


def annulus_kernel(
    outer_radius_m: float, inner_radius_m: float, res_x_m: float, res_y_m: float
) -> np.ndarray:
    """Boolean kernel of the pixels whose centre lies at ``inner <= distance <= outer`` metres."""
    if outer_radius_m <= 0 or inner_radius_m < 0 or inner_radius_m >= outer_radius_m:
        raise DartsInputError(
            f"TPI radii must satisfy 0 <= tpi-inner-radius < tpi-outer-radius, got inner "
            f"{inner_radius_m} m, outer {outer_radius_m} m"
        )
    rx, ry = abs(res_x_m), abs(res_y_m)
    nx, ny = int(outer_radius_m // rx), int(outer_radius_m // ry)
    dy, dx = np.mgrid[-ny : ny + 1, -nx : nx + 1]
    dist = np.hypot(dx * rx, dy * ry)
    return (dist <= outer_radius_m) & (dist >= inner_radius_m)


def _in_bounds(n: int, k: int) -> np.ndarray:
    """``[n, k]``: 1.0 where pixel ``i`` shifted by kernel tap ``j`` (centred) lies in ``0..n-1``."""
    shifted = np.arange(n)[:, None] + np.arange(k)[None, :] - k // 2
    return ((shifted >= 0) & (shifted < n)).astype(np.float64)


def _distinct_lines(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """In-bounds indicators of the distinct lines along an axis of ``n`` pixels, and how many pixels
    in a row use each (``np.repeat`` counts, in pixel order).

    Pixels farther than the kernel's reach from both edges all see every tap: they share one line.
    """
    top, bottom = k // 2, k - 1 - k // 2  # pixels that reach past the start / end edge
    lines = _in_bounds(n, k)
    if n < k:
        return lines, np.ones(n, dtype=np.intp)
    picked = np.r_[0 : top + 1, n - bottom : n]  # the start edge, one interior pixel, the end edge
    repeats = np.ones(len(picked), dtype=np.intp)
    repeats[top] = n - top - bottom  # every interior pixel uses the one interior line
    return lines[picked], repeats


def _in_bounds_profiles(shape: tuple[int, int], kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kernel taps of every pixel that fall inside the array, as distinct row profiles.

    Returns ``profiles [m, w]`` and ``repeats [m]``: the counts of the next ``repeats[i]`` rows are
    ``profiles[i]`` (``np.repeat(profiles, repeats, axis=0)`` is the full ``[h, w]`` count array).
    Computed from the distinct rows and columns only, ``rows @ kernel @ cols.T``: exact (sums of
    small integers), and small enough that the products never wake BLAS threads.
    """
    rows, row_repeats = _distinct_lines(shape[0], kernel.shape[0])
    cols, col_repeats = _distinct_lines(shape[1], kernel.shape[1])
    distinct = np.einsum("ia,ab,jb->ij", rows, kernel, cols)  # plain C loops, no BLAS
    return np.repeat(distinct, col_repeats, axis=1), row_repeats


def _divide_by_profiles(sums: np.ndarray, profiles: np.ndarray, repeats: np.ndarray) -> None:
    """``sums /= np.repeat(profiles, repeats, axis=0)`` in place, without building the full array."""
    start = 0
    for profile, n in zip(profiles, repeats, strict=True):
        sums[start : start + n] /= profile
        start += n


@functools.lru_cache(maxsize=4)
def _kernel_fft(
    outer_m: float, inner_m: float, res_x_m: float, res_y_m: float, shape: tuple[int, int]
) -> np.ndarray:
    """rFFT of the annulus kernel zero-padded to ``shape`` (scenes of one size share it)."""
    kernel = annulus_kernel(outer_m, inner_m, res_x_m, res_y_m).astype(np.float64)
    spectrum = sfft.rfft2(kernel, shape, workers=helper_threads())
    spectrum.flags.writeable = False
    return spectrum


def _convolve_same(
    image: np.ndarray, kernel_shape: tuple[int, int], radii_res: tuple[float, ...]
) -> np.ndarray:
    """``scipy.signal.convolve(image, kernel, mode="same")`` for the annulus kernel, by FFT in float64."""
    (h, w), (kh, kw) = image.shape, kernel_shape
    shape = (sfft.next_fast_len(h + kh - 1, real=True), sfft.next_fast_len(w + kw - 1, real=True))
    spectrum = sfft.rfft2(image, shape, workers=helper_threads())
    spectrum *= _kernel_fft(*radii_res, shape)
    full = sfft.irfft2(spectrum, shape, workers=helper_threads())
    r0, c0 = (kh - 1) // 2, (kw - 1) // 2
    return full[r0 : r0 + h, c0 : c0 + w]


def tpi(
    dem: np.ndarray, res_x_m: float, res_y_m: float, outer_radius_m: float, inner_radius_m: float = 0.0
) -> np.ndarray:
    """Topographic position index: ``dem - mean(dem over the annulus)``, in metres (float32).

    The mean ignores NaN neighbours and cells beyond the array edge (it averages the valid cells of
    the annulus); a NaN DEM cell gives NaN. Computed in float64 by FFT on the DEM minus its mean
    (so the sums stay small); without NaN the valid-neighbour counts are exact products of
    in-bounds indicators (no second convolution).
    """
    kernel = annulus_kernel(outer_radius_m, inner_radius_m, res_x_m, res_y_m).astype(np.float64)
    radii_res = (outer_radius_m, inner_radius_m, res_x_m, res_y_m)
    dem = np.asarray(dem)
    valid = np.isfinite(dem)
    all_valid = bool(valid.all())
    if not all_valid and not valid.any():
        return np.full(dem.shape, np.nan, dtype=np.float32)
    offset = (
        float(np.mean(dem, dtype=np.float64)) if all_valid else float(np.mean(dem[valid], dtype=np.float64))
    )
    relative = np.subtract(dem, offset, dtype=np.float64)
    if all_valid:
        sums = _convolve_same(relative, kernel.shape, radii_res)
        profiles, repeats = _in_bounds_profiles(dem.shape, kernel)
        if profiles.min() > 0.5:  # every cell has neighbours inside the array (the usual case)
            _divide_by_profiles(sums, profiles, repeats)
            relative -= sums
            return relative.astype(np.float32)
        counts = np.repeat(profiles, repeats, axis=0)
    else:
        sums = _convolve_same(np.where(valid, relative, 0.0), kernel.shape, radii_res)
        counts = _convolve_same(valid.astype(np.float64), kernel.shape, radii_res)
    mean = np.full(dem.shape, np.nan)
    np.divide(sums, counts, out=mean, where=counts > 0.5)
    relative -= mean
    return relative.astype(np.float32)


def _horn_sum(
    p1: np.ndarray,
    m1: np.ndarray,
    p2: np.ndarray,
    m2: np.ndarray,
    p3: np.ndarray,
    m3: np.ndarray,
    tmp: np.ndarray,
) -> np.ndarray:
    """``((p1 - m1) + 2 * (p2 - m2)) + (p3 - m3)``, evaluated in that order into a new array."""
    out = np.subtract(p1, m1)
    np.subtract(p2, m2, out=tmp)
    tmp *= 2
    out += tmp
    np.subtract(p3, m3, out=tmp)
    out += tmp
    return out


def slope_degrees(dem: np.ndarray, res_x_m: float, res_y_m: float) -> np.ndarray:
    """Slope in degrees by Horn's 3x3 method; the array edge is padded by replication.

    Computed in float32 for a float32 DEM, in float64 for a float64 one.
    """
    dtype = _work_dtype(dem)
    z = np.pad(np.asarray(dem, dtype=dtype), 1, mode="edge")
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    # neighbour differences first: exact for close elevations, so float32 loses nothing to the sums;
    # ((c - a) + 2 (f - d)) + (i - g) in that order, in place (two work arrays instead of a dozen)
    tmp = np.empty_like(b)
    dzdx = _horn_sum(c, a, f, d, i, g, tmp)
    np.divide(dzdx, dtype.type(8 * abs(res_x_m)), out=dzdx)
    dzdy = _horn_sum(g, a, h, b, i, c, tmp)
    np.divide(dzdy, dtype.type(8 * abs(res_y_m)), out=dzdy)
    out = np.hypot(dzdx, dzdy, out=dzdx)
    np.arctan(out, out=out)
    return np.degrees(out, out=out).astype(np.float32, copy=False)


def _pixel_size_m(geobox: GeoBox) -> tuple[float, float]:
    if geobox.crs is None or geobox.crs.geographic:
        raise DartsInputError(
            f"terrain bands need a projected (metric) CRS; the DEM grid has CRS {geobox.crs}. "
            "Reproject the DEM onto the scene grid first (load_arcticdem does)."
        )
    return abs(geobox.resolution.x), abs(geobox.resolution.y)


def to_scene_grid(values: np.ndarray, src: GeoBox, dst: GeoBox, resampling: str = "bilinear") -> np.ndarray:
    """``values`` on grid ``src`` cut (when aligned) or warped onto grid ``dst``."""
    if src.crs == dst.crs and src.resolution == dst.resolution:
        col, row = ~src.affine @ (dst.affine.c, dst.affine.f)
        r, c = round(row), round(col)
        aligned = abs(row - r) < 1e-6 and abs(col - c) < 1e-6
        h, w = dst.shape.yx
        if aligned and r >= 0 and c >= 0 and r + h <= src.shape.y and c + w <= src.shape.x:
            return values[r : r + h, c : c + w]
    da = xr.DataArray(values, dims=("y", "x"), coords=xr_coords(src, crs_coord_name="spatial_ref"))
    return np.asarray(xr_reproject(da, dst, resampling=resampling, dst_nodata=np.nan).values)


def _terrain(
    dem: xr.DataArray, scene_grid: GeoBox, bands: Sequence[str], outer_m: float, inner_m: float
) -> dict[str, np.ndarray]:
    grid = dem.odc.geobox
    rx, ry = _pixel_size_m(grid)
    values = np.asarray(dem.values, dtype=np.float32)
    out = {}
    if "relative_elevation" in bands:
        out["relative_elevation"] = to_scene_grid(tpi(values, rx, ry, outer_m, inner_m), grid, scene_grid)
    if "slope" in bands:
        out["slope"] = to_scene_grid(slope_degrees(values, rx, ry), grid, scene_grid)
    return out


def engineer_bands(
    scene: xr.Dataset,
    dem: xr.DataArray | None,
    tcvis: xr.Dataset | None,
    bands: Sequence[str],
    tpi_outer_radius_m: float = 100.0,
    tpi_inner_radius_m: float = 0.0,
) -> dict[str, np.ndarray]:
    """Physical values (float32 ``[h, w]`` on the scene grid) of every requested band.

    ``scene`` is a scene Dataset (blue, green, red, nir DN); ``dem`` the elevation from
    :func:`load_arcticdem` (scene grid padded by at least the TPI outer radius), needed only for
    relative_elevation / slope; ``tcvis`` the Dataset from :func:`load_tcvis` on the scene grid,
    needed only for the tc_* bands. Feed the result to :func:`darts_core.bands.normalize_bands`.
    """
    bands = check_bands(bands)
    grid = scene.odc.geobox
    out: dict[str, np.ndarray] = {}
    for band in bands:
        if band in OPTICAL_BANDS:
            out[band] = np.asarray(scene[band].values, dtype=np.float32)
        elif band == "ndvi":
            out[band] = ndvi(scene["nir"].values, scene["red"].values)
    terrain = [b for b in bands if b in TERRAIN_BANDS]
    if terrain:
        if dem is None:
            raise DartsInputError(f"band(s) {terrain} need a DEM (arcticdem-dir), but none was given")
        out.update(_terrain(dem, grid, terrain, tpi_outer_radius_m, tpi_inner_radius_m))
    tc = [b for b in bands if b in TCVIS_VARS]
    if tc:
        if tcvis is None:
            raise DartsInputError(f"band(s) {tc} need TCVIS data (tcvis-dir), but none was given")
        tc_grid = tcvis.odc.geobox
        for band in tc:
            out[band] = to_scene_grid(
                np.asarray(tcvis[band].values, dtype=np.float32), tc_grid, grid, "cubic"
            )
    return {band: out[band] for band in bands}
