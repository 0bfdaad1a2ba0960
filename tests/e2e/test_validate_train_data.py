"""`darts validate-train-data` via the real entry point: valid set -> 0, broken set -> violations, 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from darts_cli.app import main
from darts_preprocess.bands import norm_factors
from darts_preprocess.trainset_layout import PatchBatch, SceneInfo, SplitWriter, write_training_set_config

BANDS = ("red", "green", "blue", "slope")


def _x_chunk(split: Path, i: int) -> Path:
    """The chunk file of patch ``i`` of a split's x (named by the array's own chunk-key encoding)."""
    x = zarr.open_array(split / "x", mode="r")
    return split / "x" / x.metadata.encode_chunk_key((i, 0, 0, 0))


def _write_set(path: Path) -> None:
    rng = np.random.default_rng(0)
    n_patches = {}
    for split, scenes in {"cross-val": ["a", "b", "c"], "val-test": ["d"], "test": ["e"]}.items():
        writer = SplitWriter(path, split, BANDS, 8)
        for k, scene in enumerate(scenes):
            x = rng.random((2, len(BANDS), 8, 8), dtype=np.float32)
            y = np.zeros((2, 8, 8), dtype=np.uint8)
            y[0, 2:5, 2:5] = k % 2
            zeros = np.zeros(2, dtype=np.int32)
            writer.append(
                PatchBatch(SceneInfo(scene, "r1", "EPSG:3413"), x, y, zeros, zeros, np.zeros((2, 6)))
            )
        writer.finish()
        n_patches[split] = 2 * len(scenes)
    write_training_set_config(
        path,
        {"bands": list(BANDS), "norm_factors": norm_factors(BANDS), "patch_size": 8, "n_patches": n_patches},
    )


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
