"""SplitWriter: appending scene patch stores by moving their chunk files (link or copy)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import zarr

from darts_core.labels import LABEL_IGNORE, LABEL_RTS
from darts_core.trainset_layout import (
    X_ARRAY,
    Y_ARRAY,
    SceneInfo,
    SplitWriter,
    positive_fractions,
    split_path,
    write_scene_patches,
)

BANDS = ("red", "nir", "ndvi")
SIZE = 8


def _patches(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.random((n, len(BANDS), SIZE, SIZE), dtype=np.float32)
    y = rng.integers(0, 3, (n, SIZE, SIZE), dtype=np.uint8)
    return x, y


def _meta(n: int, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.arange(start, start + n, dtype=np.int32)
    return rows, rows + 100, np.tile(np.arange(6, dtype=np.float64), (n, 1)) + start


def _chunk_file(store: Path, array: str, index: int) -> Path:
    tail = ".0.0.0" if array == X_ARRAY else ".0.0"
    return store / array / f"c.{index}{tail}"


@pytest.mark.parametrize("link", [True, False])
def test_append_stored_equals_the_concatenation(tmp_path: Path, link: bool) -> None:
    rng = np.random.default_rng(0)
    xa, ya = _patches(rng, 3)
    xa[1] = 0.0  # an all-fill x chunk and y chunk: zarr writes no file for them
    ya[1] = 0
    ya[2] = LABEL_IGNORE
    ya[2, :2] = LABEL_RTS
    xb, yb = _patches(rng, 2)
    store_a = write_scene_patches(tmp_path / "a.zarr", xa, ya)
    store_b = write_scene_patches(tmp_path / "b.zarr", xb, yb)
    store_empty = write_scene_patches(
        tmp_path / "e.zarr",
        np.empty((0, len(BANDS), SIZE, SIZE), np.float32),
        np.empty((0, SIZE, SIZE), np.uint8),
    )
    assert not _chunk_file(store_a, X_ARRAY, 1).exists()
    writer = SplitWriter(tmp_path / "set", "cross-val", BANDS, SIZE)
    scenes = [SceneInfo(s, "r", "EPSG:32633") for s in ("a", "empty", "b")]
    writer.append_stored(scenes[0], store_a, *_meta(3, 0), link=link)
    writer.append_stored(scenes[1], store_empty, *_meta(0, 3), link=link)
    # given fractions (as the scene cache stores them) are used as they are; else y is read
    writer.append_stored(
        scenes[2], store_b, *_meta(2, 3), link=link, positive_fraction=positive_fractions(yb)
    )
    path = writer.finish()
    assert path == split_path(tmp_path / "set", "cross-val")
    group = zarr.open_group(path, mode="r")
    np.testing.assert_array_equal(group[X_ARRAY][:], np.concatenate([xa, xb]))
    np.testing.assert_array_equal(group[Y_ARRAY][:], np.concatenate([ya, yb]))
    np.testing.assert_array_equal(group["scene_index"][:], [0, 0, 0, 2, 2])
    np.testing.assert_array_equal(group["patch_row"][:], np.arange(5))
    assert group["positive_fraction"][2] == 1.0  # 16 RTS pixels, all others ignored
    assert group["positive_fraction"][1] == 0.0
    assert [s["id"] for s in group.attrs["scenes"]] == ["a", "empty", "b"]
    shared = _chunk_file(path, X_ARRAY, 3).stat().st_ino == _chunk_file(store_b, X_ARRAY, 0).stat().st_ino
    assert shared is link  # a kept cache is never shared with the set


def test_append_stored_with_another_encoding_reencodes(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x, y = _patches(rng, 2)
    other = zarr.open_group(tmp_path / "zstd.zarr", mode="w", zarr_format=3)
    other.create_array(X_ARRAY, shape=x.shape, chunks=(1, *x.shape[1:]), dtype="float32")  # zstd
    other.create_array(Y_ARRAY, shape=y.shape, chunks=(2, SIZE, SIZE), dtype="uint8")  # 2 per chunk
    other[X_ARRAY][:] = x
    other[Y_ARRAY][:] = y
    writer = SplitWriter(tmp_path / "set", "test", BANDS, SIZE)
    writer.append_stored(SceneInfo("s", "", "EPSG:4326"), tmp_path / "zstd.zarr", *_meta(2, 0), link=True)
    group = zarr.open_group(writer.finish(), mode="r")
    np.testing.assert_array_equal(group[X_ARRAY][:], x)
    np.testing.assert_array_equal(group[Y_ARRAY][:], y)
    assert group[X_ARRAY].metadata.to_dict()["codecs"] == (
        {"name": "bytes", "configuration": {"endian": "little"}},
    )


def test_append_stored_rejects_another_band_count(tmp_path: Path) -> None:
    x, y = _patches(np.random.default_rng(2), 1)
    store = write_scene_patches(tmp_path / "s.zarr", x[:, :2], y)
    writer = SplitWriter(tmp_path / "set", "test", BANDS, SIZE)
    with pytest.raises(ValueError, match=r"scene s has shape \(1, 2, 8, 8\), expected \[n, 3, h, w\]"):
        writer.append_stored(SceneInfo("s", "", "EPSG:4326"), store, *_meta(1, 0), link=True)


def test_write_scene_patches_checks_shapes(tmp_path: Path) -> None:
    x, y = _patches(np.random.default_rng(3), 2)
    with pytest.raises(ValueError, match="patch arrays do not match"):
        write_scene_patches(tmp_path / "s.zarr", x, y[:1])


def test_append_stored_checks_metadata_rows_before_moving_anything(tmp_path: Path) -> None:
    x, y = _patches(np.random.default_rng(4), 3)
    store = write_scene_patches(tmp_path / "s.zarr", x, y)
    writer = SplitWriter(tmp_path / "set", "test", BANDS, SIZE)
    rows, cols, gts = _meta(3, 0)
    with pytest.raises(ValueError, match="patch_col of scene s has 2 rows, expected 3"):
        writer.append_stored(SceneInfo("s", "", "EPSG:4326"), store, rows, cols[:2], gts, link=True)
    assert writer.n == 0 and not (writer.partial_path / X_ARRAY / "c.0.0.0.0").exists()
    writer.append_stored(SceneInfo("s", "", "EPSG:4326"), store, rows, cols, gts, link=True)
    np.testing.assert_array_equal(zarr.open_group(writer.finish(), mode="r")[X_ARRAY][:], x)


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a second file system (/dev/shm)")
def test_link_across_file_systems_falls_back_to_copies(tmp_path: Path) -> None:
    import shutil
    import tempfile

    x, y = _patches(np.random.default_rng(5), 2)
    other_fs = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        if os.stat(other_fs).st_dev == os.stat(tmp_path).st_dev:
            pytest.skip("/dev/shm is on the same file system here")
        store = write_scene_patches(other_fs / "s.zarr", x, y)
        writer = SplitWriter(tmp_path / "set", "test", BANDS, SIZE)
        writer.append_stored(SceneInfo("s", "", "EPSG:4326"), store, *_meta(2, 0), link=True)
        path = writer.finish()
        np.testing.assert_array_equal(zarr.open_group(path, mode="r")[X_ARRAY][:], x)
        assert _chunk_file(path, X_ARRAY, 0).stat().st_nlink == 1
    finally:
        shutil.rmtree(other_fs, ignore_errors=True)
