"""train-smp, test-smp and convert on a darts-nextgen set (data.zarr + metadata.parquet)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from darts_test_support.nextgen_sets import write_nextgen_set
from darts_test_support.training import tiny_train_options
from darts_train import TestConfig, TrainConfig, train_smp
from darts_train import test_smp as evaluate_checkpoint

BANDS = ("blue", "green", "red", "nir", "ndvi", "slope")


def test_train_test_and_convert_on_a_nextgen_set(tmp_path: Path) -> None:
    from darts_models.loading import read_model_file
    from darts_train import convert_lightning_checkpoint
    from darts_train.config import ConvertConfig

    data = write_nextgen_set(tmp_path / "nextgen", bands=BANDS, patch=32).path
    art = tmp_path / "art"
    split = {"nextgen_test_regions": ("Taymyr",), "nextgen_val_test_fraction": 0.2, "nextgen_split_seed": 3}
    options = tiny_train_options(data, art, max_epochs=1, run_name="ng", run_id="ngrun001", **split)
    result = train_smp(TrainConfig(**options))
    assert result.best_checkpoint.is_file() and result.epochs_trained == 1
    run_dir = art / "ng" / "ngrun001"
    folds = json.loads((run_dir / "folds.json").read_text())
    cross_val_scenes = {s for fold in folds["folds"] for s in fold["scenes"]}
    assert cross_val_scenes and not any("2021" in s for s in cross_val_scenes)  # Taymyr scenes are 2021's
    for fold in folds["folds"]:  # no scene in two folds
        assert all(
            s not in other["scenes"] for other in folds["folds"] if other is not fold for s in fold["scenes"]
        )

    # the split options default to the run's: the test split is the one training held out
    test = TestConfig(
        train_data_dir=data, run_name="ng", run_id="ngrun001", artifact_dir=art, test_device="cpu"
    )
    outcome = evaluate_checkpoint(test)
    assert set(outcome.metrics) == {"val-test", "test"}
    test_scenes = {row["scene_id"] for row in outcome.per_scene["test"]} - {"ALL"}
    assert test_scenes == {"20210714_052311_2262_planet", "20210719_051456_2424_planet"}

    model = convert_lightning_checkpoint(
        ConvertConfig(
            lightning_checkpoint=result.best_checkpoint,
            out_directory=tmp_path / "models",
            checkpoint_name="ng",
        )
    )
    config, _, _ = read_model_file(model)
    assert list(config.input_combination) == list(BANDS)
    assert config.norm_factors == pytest.approx(
        {
            "blue": 1 / 3000,
            "green": 1 / 3000,
            "red": 1 / 3000,
            "nir": 1 / 3000,
            "ndvi": 1 / 20000,
            "slope": 1 / 90,
        }
    )
