"""test_smp: metrics per split and per scene, figures, and the training logs left alone."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from darts_models.metric_keys import OBJECT_METRICS, PIXEL_METRICS
from darts_train import RunNotFoundError, TestConfig
from darts_train import test_smp as evaluate_checkpoint

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "eval" not in p.parts
    }


@pytest.fixture(scope="module")
def evaluation(trained_run: Any, tiny_train_data: Path) -> tuple[Any, dict[str, str], dict[str, str]]:
    before = _digest(trained_run.run_dir)
    result = evaluate_checkpoint(
        TestConfig(
            train_data_dir=tiny_train_data,
            run_name=trained_run.run_name,
            run_id=trained_run.run_id,
            artifact_dir=trained_run.run_dir.parent.parent,
            test_device="cpu",
            batch_size=3,
        )
    )
    return result, before, _digest(trained_run.run_dir)


def test_the_best_checkpoint_of_the_named_run_is_evaluated(evaluation: Any, trained_run: Any) -> None:
    result, before, after = evaluation
    assert result.checkpoint == trained_run.best_checkpoint
    assert result.output_dir == trained_run.run_dir / "eval"
    assert before == after  # metrics.csv, checkpoints, plots of training untouched


def test_files_per_split(evaluation: Any) -> None:
    result = evaluation[0]
    assert set(result.metrics) == {"val-test", "test"}
    for split in ("val-test", "test"):
        folder = result.output_dir / split
        for name in ("confusion_matrix.png", "roc.png", "pr_curve.png"):
            assert (folder / name).read_bytes()[:8] == PNG_MAGIC
        assert len(list((folder / "samples").glob("*.png"))) == 2  # both patches of the split
        stored = json.loads((folder / "metrics.json").read_text())
        assert stored["metrics"] == pytest.approx(result.metrics[split], nan_ok=True)
    summary = json.loads((result.output_dir / "metrics.json").read_text())
    assert summary["run_id"] == "run00001" and set(summary["metrics"]) == {"val-test", "test"}


def test_metrics_cover_pixels_objects_and_boundaries(evaluation: Any) -> None:
    for values in evaluation[0].metrics.values():
        assert set(PIXEL_METRICS) | set(OBJECT_METRICS) <= set(values)
        assert 0.0 <= values["JaccardIndex"] <= 1.0


def test_per_scene_rows_add_up_to_the_split(evaluation: Any) -> None:
    result = evaluation[0]
    with (result.output_dir / "val-test" / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["scene_id"] for r in rows] == ["val-test-scene0", "ALL"]
    scenes = result.per_scene["test"]
    assert sum(r["n_patches"] for r in scenes[:-1]) == scenes[-1]["n_patches"] == 2
    total = scenes[-1]
    # pixel Jaccard from counts agrees with torchmetrics' over the whole split
    assert total["JaccardIndex"] == pytest.approx(result.metrics["test"]["JaccardIndex"], abs=1e-6)


def test_output_dir_and_explicit_checkpoint(trained_run: Any, tiny_train_data: Path, tmp_path: Path) -> None:
    result = evaluate_checkpoint(
        TestConfig(
            train_data_dir=tiny_train_data,
            model_ckp=trained_run.last_checkpoint,
            output_dir=tmp_path / "out",
            test_device="cpu",
            n_sample_plots=0,
            wandb_project="darts-tests",
        )
    )
    assert (tmp_path / "out" / "test" / "metrics.csv").is_file()
    assert list((tmp_path / "out" / "wandb").glob("offline-run-*"))  # WANDB_MODE=offline is honoured
    assert not (tmp_path / "out" / "test" / "samples").exists()
    assert result.checkpoint == trained_run.last_checkpoint


def test_unknown_run_is_a_clear_error(tiny_train_data: Path, tmp_path: Path) -> None:
    with pytest.raises(RunNotFoundError, match="no run ghost/none0000"):
        evaluate_checkpoint(
            TestConfig(
                train_data_dir=tiny_train_data, run_name="ghost", run_id="none0000", artifact_dir=tmp_path
            )
        )
