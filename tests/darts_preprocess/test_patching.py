"""Patch origins, padding and the filter chain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasterio.transform import Affine

from darts_core.errors import DartsInputError
from darts_preprocess.patches.patching import FILTERS, make_patches, patch_origins

TRANSFORM = Affine(3.0, 0.0, 500_000.0, 0.0, -3.0, 7_000_000.0)


@pytest.mark.parametrize(
    ("length", "size", "overlap", "expected"),
    [
        (100, 64, 16, [0, 36]),
        (64, 64, 0, [0]),
        (50, 64, 16, [0]),
        (200, 64, 0, [0, 64, 128, 136]),
        (176, 64, 8, [0, 56, 112]),
        (177, 64, 8, [0, 56, 112, 113]),
    ],
)
def test_patch_origins(length: int, size: int, overlap: int, expected: list[int]) -> None:
    assert patch_origins(length, size, overlap) == expected


@given(length=st.integers(1, 3000), size=st.integers(2, 600), overlap_frac=st.floats(0, 0.95))
def test_patch_origins_cover_the_axis(length: int, size: int, overlap_frac: float) -> None:
    overlap = min(size - 1, int(size * overlap_frac))
    origins = patch_origins(length, size, overlap)
    assert origins[0] == 0
    if length <= size:
        assert origins == [0]
        return
    assert origins[-1] + size == length  # the last patch ends exactly at the edge
    steps = np.diff(origins)
    assert (steps > 0).all() and (steps <= size - overlap).all()
    assert (steps[:-1] == size - overlap).all()


@pytest.mark.parametrize(("size", "overlap"), [(64, 64), (64, 80), (0, 0), (64, -1)])
def test_patch_size_must_exceed_overlap(size: int, overlap: int) -> None:
    with pytest.raises(DartsInputError, match="exceed overlap"):
        patch_origins(100, size, overlap)


def _scene(h: int, w: int, c: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 0.9, (c, h, w)).astype(np.float32)
    y = np.zeros((h, w), dtype=np.uint8)
    return x, y, np.zeros((h, w), dtype=bool)


def test_small_scene_is_padded_with_ignore() -> None:
    x, y, nan = _scene(20, 30)
    y[5:10, 5:10] = 1
    out = make_patches(x, y, nan, TRANSFORM, patch_size=32, overlap=4)
    assert out.x.shape == (1, 2, 32, 32) and out.y.shape == (1, 32, 32)
    assert (out.y[0, 20:, :] == 2).all() and (out.y[0, :, 30:] == 2).all()
    assert (out.x[0, :, 20:, :] == 0).all()
    np.testing.assert_array_equal(out.y[0, :20, :30], y)
    np.testing.assert_array_equal(out.x[0, :, :20, :30], x)


def test_patch_positions_and_geotransforms() -> None:
    x, y, nan = _scene(100, 70)
    out = make_patches(x, y, nan, TRANSFORM, patch_size=32, overlap=0)
    rows, cols = [0, 32, 64, 68], [0, 32, 38]
    assert out.n_candidates == 12 and len(out.x) == 12
    assert sorted(set(out.rows.tolist())) == rows and sorted(set(out.cols.tolist())) == cols
    for i in range(len(out.x)):
        r, c = int(out.rows[i]), int(out.cols[i])
        np.testing.assert_array_equal(out.x[i], x[:, r : r + 32, c : c + 32])
        a, b, x0, d, e, y0 = out.geotransforms[i]
        assert (a, e) == (3.0, -3.0) and (b, d) == (0.0, 0.0)
        assert x0 == 500_000.0 + 3.0 * c and y0 == 7_000_000.0 - 3.0 * r


def _filter_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four 16 px patches side by side: positive / has-NaN / mostly ignored / all-NaN-and-ignored."""
    x, y, nan = _scene(16, 64)
    y[2:6, 2:6] = 1  # patch 0: positive, clean
    nan[0, 16] = True  # patch 1: one NaN pixel, no positive
    y[:, 32:48] = 2
    y[0:1, 32:48] = 0  # patch 2: 1/16 valid (< 10 %)
    nan[:, 48:64] = True
    y[:, 48:64] = 2  # patch 3: every pixel NaN
    x[:, nan] = np.nan
    return x, y, nan


@pytest.mark.parametrize(
    ("nopositive", "exclude_nan", "kept_cols", "removed"),
    [
        (False, False, [0, 16], {"exclude_nopositive": 0, "exclude_nan": 0, "min_valid": 2, "all_nan": 0}),
        (False, True, [0], {"exclude_nopositive": 0, "exclude_nan": 2, "min_valid": 1, "all_nan": 0}),
        (True, True, [0], {"exclude_nopositive": 3, "exclude_nan": 0, "min_valid": 0, "all_nan": 0}),
        (True, False, [0], {"exclude_nopositive": 3, "exclude_nan": 0, "min_valid": 0, "all_nan": 0}),
    ],
)
def test_filters_in_order_with_counts(
    nopositive: bool, exclude_nan: bool, kept_cols: list[int], removed: dict[str, int]
) -> None:
    x, y, nan = _filter_scene()
    out = make_patches(x, y, nan, TRANSFORM, 16, 0, exclude_nopositive=nopositive, exclude_nan=exclude_nan)
    assert out.cols.tolist() == kept_cols
    assert out.removed == removed
    assert sum(out.removed.values()) + len(out.x) == out.n_candidates == 4
    assert set(out.removed) == set(FILTERS)
    assert not np.isnan(out.x).any()


def test_all_nan_filter_counts_patches_with_valid_labels() -> None:
    """A patch whose x is entirely NaN but whose y was not marked (caller bug) is still removed."""
    x, y, nan = _scene(16, 16)
    nan[:] = True
    x[:] = np.nan
    out = make_patches(x, y, nan, TRANSFORM, 16, 0, exclude_nan=False)
    assert len(out.x) == 0 and out.removed["all_nan"] == 1


def test_nan_replaced_by_zero_in_kept_patches() -> None:
    x, y, nan = _scene(32, 32)
    x[:, 3, 4] = np.nan
    nan[3, 4] = True
    out = make_patches(x, y, nan, TRANSFORM, 32, 0, exclude_nan=False)
    assert len(out.x) == 1 and (out.x[0, :, 3, 4] == 0).all()
