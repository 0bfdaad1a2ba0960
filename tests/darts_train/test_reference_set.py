"""A training set written by the reference tool (zarr v2, Blosc-lz4, only x and y) trains unchanged."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch
import zarr

from darts_test_support.training import tiny_train_options
from darts_test_support.trainsets import write_reference_set
from darts_train import TestConfig, TrainConfig, train_smp
from darts_train import test_smp as evaluate_checkpoint


def test_reference_set_trains_and_tests(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = write_reference_set(
        tmp_path / "reference", n_patches={"cross-val": 8, "val-test": 2, "test": 2}, seed=2, patch=32
    ).path
    group = zarr.open_group(data / "cross-val.zarr", mode="r")
    assert group.metadata.zarr_format == 2 and sorted(group.array_keys()) == ["x", "y"]
    assert group["x"].compressors[0].cname == "lz4"
    options = tiny_train_options(data, tmp_path / "artifacts", max_epochs=1, batch_size=4)
    with caplog.at_level(logging.WARNING):
        result = train_smp(TrainConfig(**options))
    assert "contiguous blocks" in caplog.text  # the fold fallback says so
    folds = json.loads((result.run_dir / "folds.json").read_text())
    assert folds["grouping"] == "contiguous" and folds["assignment"] == [0, 0, 0, 0, 1, 1, 1, 1]
    ckpt = torch.load(result.best_checkpoint, map_location="cpu", weights_only=True)
    assert ckpt["hyper_parameters"]["norm_factors"] == {
        b: pytest.approx(1 / 3000) for b in ("blue", "green", "red", "nir")
    }
    assert 0.0 <= result.best_score <= 1.0
    assert len(list((result.run_dir / "plots" / "val" / "epoch0000").glob("*.png"))) == 4

    tested = evaluate_checkpoint(
        TestConfig(
            train_data_dir=data,
            run_name=result.run_name,
            run_id=result.run_id,
            artifact_dir=tmp_path / "artifacts",
            test_device="cpu",
            n_sample_plots=1,
        )
    )
    assert set(tested.metrics) == {"val-test", "test"}
    assert [row["scene_id"] for row in tested.per_scene["test"]] == ["ALL", "ALL"]
    assert tested.per_scene["test"][-1]["n_patches"] == 2
