"""`darts validate-train-data` via the real entry point: valid set -> 0, broken set -> violations, 1."""

from __future__ import annotations

from pathlib import Path

import pytest
import zarr

from darts_cli.app import main
from darts_test_support.trainsets import Scene, write_tiny_set

BANDS = ("red", "green", "blue", "slope")


def _x_chunk(split: Path, i: int) -> Path:
    """The chunk file of patch ``i`` of a split's x (named by the array's own chunk-key encoding)."""
    x = zarr.open_array(split / "x", mode="r")
    return split / "x" / x.metadata.encode_chunk_key((i, 0, 0, 0))


def _write_set(path: Path) -> None:
    """Five scenes of two 8 px patches, in one region; scenes b and d hold RTS."""
    scenes = {
        "cross-val": [Scene("a", "r1", 2, False), Scene("b", "r1", 2, True), Scene("c", "r1", 2, False)],
        "val-test": [Scene("d", "r1", 2, True)],
        "test": [Scene("e", "r1", 2, False)],
    }
    write_tiny_set(path, scenes=scenes, bands=BANDS, patch=8)


def _run(tmp_path: Path, train_dir: Path) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "--log-dir",
                str(tmp_path / "logs"),
                "validate-train-data",
                "--train-data-dir",
                str(train_dir),
                "--n-folds",
                "3",
            ]
        )
    return exit_info.value.code


def test_valid_set_exits_zero_with_a_table(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write_set(tmp_path / "train")
    assert _run(tmp_path, tmp_path / "train") == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps at the terminal width
    assert "cross-val" in out and "fold 2" in out and "is a valid training set" in out


def test_broken_set_exits_nonzero_listing_violations(tmp_path, monkeypatch, capsys):
    import shutil

    monkeypatch.chdir(tmp_path)
    _write_set(tmp_path / "train")
    shutil.rmtree(tmp_path / "train" / "test.zarr")
    _x_chunk(tmp_path / "train" / "val-test.zarr", 1).unlink()
    assert _run(tmp_path, tmp_path / "train") == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "missing group test.zarr" in out
    assert "x chunk file missing" in out


def _run_args(tmp_path: Path, *args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(tmp_path / "logs"), "validate-train-data", *args])
    return exit_info.value.code


def test_nextgen_set_is_validated_with_the_split_options(tmp_path, monkeypatch, capsys):
    from darts_test_support.nextgen_sets import write_nextgen_set

    monkeypatch.chdir(tmp_path)
    data = write_nextgen_set(tmp_path / "nextgen").path
    args = ["--train-data-dir", str(data), "--n-folds", "2", "--nextgen-test-regions", "Yukon", "Alaska"]
    assert _run_args(tmp_path, *args, "--nextgen-split-seed", "3") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "is a valid training set" in out
    assert "│ test │ 10 │" in out.replace("  ", " ")  # the 4 scenes of Yukon and Alaska: 10 patches
    assert _run_args(tmp_path, *args[:4], "--nextgen-test-regions", "Nowhere") == 1
    assert "'Nowhere'" in " ".join(capsys.readouterr().out.split())


def test_unknown_layout_exits_nonzero_naming_the_layouts(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "config.toml").write_text('[darts]\nbands = ["red"]\n')
    assert _run_args(tmp_path, "--train-data-dir", str(tmp_path / "train")) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "layout darts reads" in out and "metadata.parquet" in out
