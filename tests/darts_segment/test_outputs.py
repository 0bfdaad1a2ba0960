"""The files of one scene folder: encodings, COG layout, grid, no-data, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
from affine import Affine

from darts_segment.outputs import (
    OUTPUT_FILES,
    binarize,
    is_finished,
    probability_percent,
    start_scene_folder,
    write_scene_outputs,
)
from darts_segment.writers import atomic_path, write_json

TRANSFORM = Affine(3.0, 0.0, 500_000.0, 0.0, -3.0, 8_000_000.0)
CRS = "EPSG:32645"


def _scene(shape: tuple[int, int] = (600, 700)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    probs = rng.random(shape, dtype=np.float32) * 0.4
    probs[100:150, 200:260] = 0.9
    valid = np.ones(shape, dtype=bool)
    valid[:50] = False  # an invalid strip: no data, never 0
    probs[60:70, 60:70] = np.nan  # NaN probabilities count as no data too
    return probs, valid


def test_encodings() -> None:
    probs = np.array([[0.0, 0.004, 0.005, 0.5, 1.0, np.nan]], dtype=np.float32)
    valid = np.array([[True, True, True, True, False, True]])
    assert probability_percent(probs, valid).tolist() == [[0, 0, 0, 50, 255, 255]]
    assert binarize(probs, valid, 0.5).tolist() == [[0, 0, 0, 1, 255, 255]]


def test_scene_folder_files_open_on_the_scene_grid(tmp_path: Path) -> None:
    probs, valid = _scene()
    folder = tmp_path / "scene-a"
    written = write_scene_outputs(
        folder, "scene-a", probs, valid, TRANSFORM, CRS, threshold=0.5, min_area_m2=100.0, record={"x": 1}
    )
    assert sorted(p.name for p in folder.iterdir()) == sorted(OUTPUT_FILES)  # no temporary file left
    nodata = ~valid | np.isnan(probs)
    for name, top in (("probabilities.tif", 90), ("binarized.tif", 1)):
        with rasterio.open(folder / name) as src:
            assert src.crs.to_epsg() == 32645 and src.transform == TRANSFORM
            assert (src.height, src.width, src.dtypes[0], src.nodata) == (600, 700, "uint8", 255)
            assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert src.compression is not None and src.profile["tiled"] and src.overviews(1)
            values = src.read(1)
        assert np.all(values[nodata] == 255)
        assert values[~nodata].max() == top and values[~nodata].min() == 0
    with rasterio.open(folder / "probabilities.tif") as src:
        assert src.read(1)[120, 230] == 90
    polygons = pyogrio.read_dataframe(folder / "polygons.gpkg")
    assert len(polygons) == written.n_polygons == 1  # the 0.9 block; random specks < 0.5
    assert polygons["area_m2"].iloc[0] == pytest.approx(50 * 60 * 9)
    assert polygons["max_probability"].iloc[0] == pytest.approx(0.9)
    assert polygons.crs.to_epsg() == 32645
    extent = pyogrio.read_dataframe(folder / "extent.gpkg")
    assert extent["area_m2"].iloc[0] == pytest.approx(np.count_nonzero(~nodata) * 9)
    record = json.loads((folder / "run.json").read_text())
    assert record["x"] == 1 and record["outputs"]["n_polygons"] == 1
    assert record["outputs"]["crs"] == "EPSG:32645" and record["outputs"]["transform"] == list(TRANSFORM)[:6]
    assert is_finished(folder)


def test_interrupted_folder_is_unfinished_and_cleaned(tmp_path: Path) -> None:
    folder = tmp_path / "scene-b"
    folder.mkdir()
    (folder / ".probabilities.partial-1234abcd.tif").write_bytes(b"half a raster")
    (folder / "probabilities.tif").write_bytes(b"an older result")
    assert not is_finished(folder)
    start_scene_folder(folder, overwrite=False)
    assert sorted(p.name for p in folder.iterdir()) == ["probabilities.tif"]
    write_json(folder / "run.json", {"done": True})
    assert is_finished(folder)
    start_scene_folder(folder, overwrite=True)  # overwrite unmarks the folder first
    assert not is_finished(folder)


def test_failed_write_leaves_no_file_under_the_final_name(tmp_path: Path) -> None:
    from darts_segment.writers import write_cog

    probs, _ = _scene((20, 20))
    with pytest.raises(ValueError, match="uint8"):
        write_cog(tmp_path / "probabilities.tif", probs, TRANSFORM, CRS)
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "polygons.gpkg") as tmp:
        tmp.write_bytes(b"half a layer")
        raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []
