"""Burning labels by pixel centre, the eroded border and the target y."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from rasterio.transform import Affine
from scipy import ndimage

from darts_preprocess.labels.rasterize import burn_labels, geometry_mask
from darts_preprocess.labels.target import _erode_blocks, build_target, erode

# 10 m pixels, origin (1000, 2000): pixel (r, c) has its centre at (1005 + 10c, 1995 - 10r)
T = Affine(10.0, 0.0, 1000.0, 0.0, -10.0, 2000.0)


def _disk(r: int) -> np.ndarray:
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return yy**2 + xx**2 <= r**2


@pytest.mark.parametrize("radius", [0, 1, 3, 10])
def test_erode_equals_binary_erosion_with_a_disk(radius: int) -> None:
    rng = np.random.default_rng(radius)
    valid = ndimage.binary_opening(rng.random((80, 90)) > 0.2, iterations=2)
    expected = valid.copy() if radius == 0 else ndimage.binary_erosion(valid, _disk(radius), border_value=0)
    np.testing.assert_array_equal(erode(valid, radius), expected)


@pytest.mark.parametrize(("radius", "block"), [(1, 8), (3, 8), (4, 8), (5, 16), (10, 24)])
def test_blockwise_erode_equals_binary_erosion_with_a_disk(radius: int, block: int) -> None:
    rng = np.random.default_rng(100 + radius)
    valid = ndimage.binary_opening(rng.random((97, 83)) > 0.1, iterations=2)
    valid[40:70, 10:60] = True  # blocks far from any invalid pixel
    valid[:, 75:] = False  # blocks without a valid pixel
    expected = ndimage.binary_erosion(valid, _disk(radius), border_value=0)
    np.testing.assert_array_equal(_erode_blocks(valid, radius, block), expected)


def test_burn_by_pixel_centre_with_constant_one() -> None:
    # covers the centres of pixels (1, 1) .. (2, 3): x 1015..1035, y 1985..1975
    square = shapely.box(1011, 1971, 1039, 1989)
    tiny = shapely.box(1041, 1941, 1044, 1944)  # inside pixel (5, 4) but away from its centre (1045, 1945)
    far = shapely.box(5000, 5000, 5010, 5010)
    mask, outside, too_small = burn_labels([square, tiny, far], T, (8, 8))
    expected = np.zeros((8, 8), dtype=np.uint8)
    expected[1:3, 1:4] = 1
    np.testing.assert_array_equal(mask, expected)
    assert outside.tolist() == [False, False, True]
    assert too_small.tolist() == [False, True, False]


def test_overlapping_labels_still_burn_one() -> None:
    a, b = shapely.box(1000, 1950, 1040, 2000), shapely.box(1020, 1930, 1060, 1980)
    mask, _, _ = burn_labels([a, b], T, (8, 8))
    assert set(np.unique(mask)) == {0, 1}
    assert mask.sum() == 20 + 20 - 6


def test_labels_outside_the_footprint_are_counted_outside() -> None:
    footprint = shapely.box(1000, 1960, 1040, 2000)
    inside, beyond = shapely.box(1001, 1961, 1039, 1999), shapely.box(1050, 1921, 1079, 1949)
    _, outside, _ = burn_labels([inside, beyond], T, (8, 8), footprint)
    assert outside.tolist() == [False, True]
    np.testing.assert_array_equal(
        geometry_mask(footprint, T, (8, 8))[:, :5].sum(axis=1), [4, 4, 4, 4, 0, 0, 0, 0]
    )
    assert geometry_mask(None, T, (3, 3)).all()


def test_build_target_marks_every_ignore_reason() -> None:
    shape = (30, 30)
    labels = np.zeros(shape, dtype=np.uint8)
    labels[10:14, 10:14] = 1
    quality = np.full(shape, 2, dtype=np.uint8)
    quality[0, 0] = 0
    quality[20, 5] = 1
    inside = np.ones(shape, dtype=bool)
    inside[:, 25:] = False
    nan = np.zeros(shape, dtype=bool)
    nan[12, 12] = True
    dem_valid = np.ones(shape, dtype=bool)
    dem_valid[25, 12] = False
    y = build_target(labels, quality, inside, nan, dem_valid, erosion_px=2)
    assert y.dtype == np.uint8 and set(np.unique(y)) == {0, 1, 2}
    assert y[12, 12] == 2 and y[25, 12] == 2  # NaN x, DEM without data
    assert (y[:, 23:] == 2).all() and (y[:2, :] == 2).all()  # outside footprint / image edge, eroded by 2
    assert (y[18:23, 3:8][_disk(2)] == 2).all() and y[20, 8] == 0  # low quality pixel + its eroded disk
    assert y[11, 11] == 1 and y[15, 15] == 0
    assert (y[labels == 1] != 0).all()  # labels never become background
