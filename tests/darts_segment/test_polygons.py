"""Probability map -> polygons and extent, on hand-made maps whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from darts_segment.polygons import probability_polygons, valid_extent

TRANSFORM = Affine(3.0, 0.0, 500_000.0, 0.0, -3.0, 8_000_000.0)  # 3 m pixels: 9 m² each
CRS = "EPSG:32645"


def _map() -> np.ndarray:
    probs = np.zeros((20, 20), dtype=np.float32)
    probs[2:6, 2:7] = 0.8  # region 1: 4 x 5 = 20 px, with one stronger pixel
    probs[3, 4] = 0.95
    probs[10:15, 10:15] = 0.6  # region 2: a 5 x 5 ring around a hole ...
    probs[12, 12] = 0.1  # ... of one pixel: 24 px
    probs[17, 17] = 0.7  # region 3 and 4 touch only diagonally: separate regions of 1 px
    probs[18, 18] = 0.9
    probs[0, 19] = np.nan  # no data is never RTS
    return probs


def test_one_polygon_per_region_with_area_and_probabilities() -> None:
    frame = probability_polygons(_map(), TRANSFORM, CRS, threshold=0.5)
    assert list(frame["region_id"]) == [1, 2, 3, 4]
    assert frame.crs.to_epsg() == 32645
    np.testing.assert_allclose(frame["area_m2"], [20 * 9, 24 * 9, 9, 9])
    np.testing.assert_allclose(frame["mean_probability"], [(19 * 0.8 + 0.95) / 20, 0.6, 0.7, 0.9], rtol=1e-6)
    np.testing.assert_allclose(frame["max_probability"], [0.95, 0.6, 0.7, 0.9], rtol=1e-6)
    ring = frame.geometry.iloc[1]
    assert len(ring.interiors) == 1 and ring.area == pytest.approx(24 * 9)
    # the polygon lies where the pixels are: region 1 spans columns 2..6, rows 2..5
    assert frame.geometry.iloc[0].bounds == (500_006.0, 7_999_982.0, 500_021.0, 7_999_994.0)


def test_threshold_and_min_area_filter() -> None:
    frame = probability_polygons(_map(), TRANSFORM, CRS, threshold=0.5, min_area_m2=10.0)
    assert list(frame["region_id"]) == [1, 2]
    assert len(probability_polygons(_map(), TRANSFORM, CRS, threshold=0.85)) == 2  # 0.95 and 0.9 pixels
    empty = probability_polygons(np.zeros((4, 4)), TRANSFORM, CRS)
    assert len(empty) == 0 and list(empty.columns[:4]) == [
        "region_id",
        "area_m2",
        "mean_probability",
        "max_probability",
    ]


def test_geographic_crs_gives_geodesic_square_metres() -> None:
    probs = np.ones((10, 10), dtype=np.float32)
    # 0.001° cells at 70° N: ~111 m x ~38 m
    frame = probability_polygons(probs, Affine(0.001, 0, 100.0, 0, -0.001, 70.0), "EPSG:4326")
    assert 100 * 111.0 * 37.0 < frame["area_m2"].iloc[0] < 100 * 112.0 * 39.0


def test_extent_is_the_valid_footprint() -> None:
    valid = np.zeros((10, 10), dtype=bool)
    valid[:, :6] = True
    valid[8:, 8:] = True  # a separate valid corner
    frame = valid_extent(valid, TRANSFORM, CRS, "scene-a")
    assert frame["scene_id"].iloc[0] == "scene-a"
    assert frame["area_m2"].iloc[0] == pytest.approx((60 + 4) * 9)
    assert frame.geometry.iloc[0].geom_type == "MultiPolygon"


def test_noisy_map_gives_the_polygons_of_one_shape_per_region() -> None:
    """The vectorised polygon builder equals tracing each region with shapely's ``shape`` (the
    straightforward way): same geometry, area and order, holes included, on a salt-and-pepper map."""
    from rasterio.features import shapes
    from scipy import ndimage
    from shapely.geometry import shape

    rng = np.random.default_rng(5)
    probs = rng.uniform(0, 1, (60, 70)).astype(np.float32)
    probs[20:30, 20:30] = 0.9  # a block with a hole and an island in the hole
    probs[23:27, 23:27] = 0.1
    probs[25, 25] = 0.95
    probs[0, :5] = np.nan
    frame = probability_polygons(probs, TRANSFORM, CRS, threshold=0.6)
    regions, n = ndimage.label(np.nan_to_num(probs) >= 0.6)
    assert n > 300 and list(frame["region_id"]) == list(range(1, n + 1))
    by_id = {int(v): shape(g) for g, v in shapes(regions, mask=regions > 0, transform=TRANSFORM)}
    for row in frame.itertuples():
        expected = by_id[row.region_id]
        assert row.geometry.equals(expected), row.region_id
        assert row.area_m2 == pytest.approx(expected.area)
        assert row.area_m2 == pytest.approx(9.0 * (regions == row.region_id).sum())
    assert max(len(g.interiors) for g in frame.geometry) >= 1
