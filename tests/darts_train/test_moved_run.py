"""A copied run folder refers to its own checkpoints: run.json records them relative to the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from darts_train import TestConfig
from darts_train.evaluate import _locate


def test_run_json_records_paths_relative_to_the_run(trained_run: Any) -> None:
    recorded = json.loads((trained_run.run_dir / "run.json").read_text())
    assert recorded["run_dir"] == "."
    assert recorded["best_checkpoint"] == f"checkpoints/{trained_run.best_checkpoint.name}"
    assert recorded["last_checkpoint"] == "checkpoints/last.ckpt"


def test_copied_run_is_tested_from_its_new_location(
    trained_run: Any, tiny_train_data: Path, tmp_path: Path
) -> None:
    artifacts = tmp_path / "moved-artifacts"
    # the run's folder as artifact_dir/run_name/run_id, copied; the original stays where it was
    copied = artifacts / "shared" / trained_run.run_id
    shutil.copytree(trained_run.run_dir, copied)
    assert trained_run.best_checkpoint.is_file()
    config = TestConfig(
        train_data_dir=tiny_train_data, artifact_dir=artifacts, run_name="shared", run_id=trained_run.run_id
    )
    checkpoint, run_dir = _locate(config)
    assert run_dir == copied
    assert checkpoint == copied / "checkpoints" / trained_run.best_checkpoint.name
