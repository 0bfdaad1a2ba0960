"""train_smp on the tiny set: layout, logged keys, checkpoints, determinism, early stopping, resume."""

from __future__ import annotations

import csv
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

from darts_models.metric_keys import PIXEL_METRICS
from darts_train import TrainConfig, train_smp


def _rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open(newline="") as f:
        return [{k: v for k, v in r.items() if v != ""} for r in csv.DictReader(f)]


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]


def test_run_layout_and_result(trained_run: Any) -> None:
    run_dir = trained_run.run_dir
    assert run_dir.parent.name == "shared" and run_dir.name == "run00001"
    assert (trained_run.run_name, trained_run.run_id) == ("shared", "run00001")
    assert trained_run.last_checkpoint == run_dir / "checkpoints" / "last.ckpt"
    assert trained_run.best_checkpoint.parent == run_dir / "checkpoints"
    assert trained_run.best_score == pytest.approx(trained_run.best_metrics["val/JaccardIndex"])
    assert json.loads((run_dir / "run.json").read_text())["run_id"] == "run00001"
    folds = json.loads((run_dir / "folds.json").read_text())
    assert folds["n_folds"] == 2 and len(folds["assignment"]) == 12


def test_final_validation_runs_when_max_epochs_is_not_a_multiple(trained_run: Any) -> None:
    # max_epochs=2, check_val_every_n_epoch=3: only the forced validation after epoch 1 exists
    val_rows = [r for r in _rows(trained_run.run_dir) if "val/JaccardIndex" in r]
    assert [r["epoch"] for r in val_rows] == ["1"]
    last = val_rows[-1]
    for name in (*PIXEL_METRICS, "loss"):
        assert f"val/{name}" in last and last[f"val0/{name}"] == last[f"val/{name}"]
    train_rows = [r for r in _rows(trained_run.run_dir) if "train/JaccardIndex" in r]
    assert [r["epoch"] for r in train_rows] == ["0", "1"]
    # plots of the final validation only (none during the sanity check)
    plot_dirs = sorted(p.name for p in (trained_run.run_dir / "plots" / "val").iterdir())
    assert plot_dirs == ["epoch0001"]
    assert len(list((trained_run.run_dir / "plots" / "val" / "epoch0001").glob("*.png"))) == 4


def test_checkpoint_hparams_carry_provenance(trained_run: Any, tiny_train_data: Path) -> None:
    ckpt = torch.load(trained_run.best_checkpoint, map_location="cpu", weights_only=True)
    run = ckpt["hyper_parameters"]["run"]
    assert (run["run_name"], run["run_id"], run["trial_name"], run["random_seed"]) == (
        "shared",
        "run00001",
        None,
        42,
    )
    import hashlib

    expected = hashlib.sha256((tiny_train_data / "config.toml").read_bytes()).hexdigest()
    assert run["dataset"]["config_sha256"] == expected
    assert run["dataset"]["n_patches"] == {"cross-val": 12, "val-test": 2, "test": 2}
    assert {"torch", "lightning", "segmentation-models-pytorch"} <= set(run["versions"])
    assert ckpt["hyper_parameters"]["bands"] == ["blue", "green", "red", "nir", "ndvi"]
    assert ckpt["darts"]["metrics"]["val/JaccardIndex"] == pytest.approx(trained_run.best_score)


def test_same_seed_gives_identical_weights(trained_run: Any, tiny_options: Any, tmp_path: Path) -> None:
    again = train_smp(
        TrainConfig(**tiny_options(tmp_path, check_val_every_n_epoch=3, plot_every_n_val_epochs=0))
    )
    first, second = _weights(trained_run.last_checkpoint), _weights(again.last_checkpoint)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert again.run_dir != trained_run.run_dir


def test_early_stopping_stops_a_run_that_does_not_improve(tiny_options: Any, tmp_path: Path) -> None:
    result = train_smp(
        TrainConfig(
            **tiny_options(
                tmp_path,
                max_epochs=10,
                learning_rate=1e-12,
                early_stopping_patience=1,
                plot_every_n_val_epochs=0,
            )
        )
    )
    assert result.stopped_early
    assert result.epochs_trained < 10
    epochs = {r["epoch"] for r in _rows(result.run_dir) if "val/JaccardIndex" in r}
    assert len(epochs) == result.epochs_trained


def test_resume_appends_to_the_same_run(trained_run: Any, tiny_options: Any, tmp_path: Path) -> None:
    run_dir = tmp_path / "copy" / "shared" / "run00001"
    shutil.copytree(trained_run.run_dir, run_dir)
    before = (run_dir / "metrics.csv").read_text().splitlines()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train_smp(
            TrainConfig(
                **tiny_options(tmp_path / "copy", max_epochs=3, plot_every_n_val_epochs=0),
                continue_from_checkpoint=run_dir / "checkpoints" / "last.ckpt",
            )
        )
    assert not [w for w in caught if "exists and is not empty" in str(w.message)]
    assert (result.run_dir, result.run_id) == (run_dir, "run00001")
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["shared"]
    rows = _rows(run_dir)
    old = [r for r in rows if r.get("epoch") in ("0", "1")]
    assert len(old) == len([r for r in _rows(trained_run.run_dir) if r.get("epoch") in ("0", "1")])
    assert [r["epoch"] for r in rows if "train/JaccardIndex" in r] == ["0", "1", "2"]
    assert [r["epoch"] for r in rows if "val/JaccardIndex" in r] == ["1", "2"]
    after = (run_dir / "metrics.csv").read_text().splitlines()
    assert len(after) > len(before)
    ckpt = torch.load(result.last_checkpoint, map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 2 and ckpt["global_step"] == 6


def test_final_retrain_in_a_trial_with_offline_wandb(tiny_options: Any, tmp_path: Path) -> None:
    assert os.environ.get("WANDB_MODE") == "offline"
    env_before = dict(os.environ)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train_smp(
            TrainConfig(
                **tiny_options(tmp_path, max_epochs=1, fold=3),  # fold is moot without validation
                final_retrain=True,
                trial_name="trial-3",
                wandb_project="darts-tests",
                bands=("red", "green", "blue"),
            )
        )
    # no validation loop at all: Lightning has nothing to warn about (val loader, monitor keys, ...)
    user_warnings = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert user_warnings == []
    assert result.final_retrain and not result.stopped_early
    assert sorted(p.name for p in (result.run_dir / "checkpoints").iterdir()) == ["last.ckpt"]
    assert not (result.run_dir / "folds.json").exists() and not (result.run_dir / "plots").exists()
    header = (result.run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "train/JaccardIndex" in header and not any(c.startswith("val") for c in header)
    # darts sets nothing; wandb's own service token (for child processes) is wandb's business
    env_after = {k: v for k, v in os.environ.items() if k != "WANDB_SERVICE"}
    assert env_after == {k: v for k, v in env_before.items() if k != "WANDB_SERVICE"}
    assert result.run_dir == tmp_path / "trial-3" / f"{result.run_name}-{result.run_id}"
    assert result.best_score is None and result.best_checkpoint == result.last_checkpoint
    assert not any(k.startswith("val") for k in result.metrics)
    assert list((result.run_dir / "wandb").glob("offline-run-*"))
    ckpt = torch.load(result.last_checkpoint, map_location="cpu", weights_only=True)
    assert ckpt["hyper_parameters"]["bands"] == ["red", "green", "blue"]
    assert ckpt["hyper_parameters"]["run"]["trial_name"] == "trial-3"
