"""resume=auto: a finished run is left alone, a stopped one continues from last.ckpt, else it starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from darts_train import TrainConfig
from darts_train.requeue import find_requeued_run


def test_finished_stopped_or_new(tmp_path: Path) -> None:
    run_file, last = tmp_path / "run.json", tmp_path / "checkpoints" / "last.ckpt"
    assert find_requeued_run(run_file, last) == find_requeued_run(run_file, last).__class__()
    last.parent.mkdir()
    last.write_bytes(b"x")
    assert find_requeued_run(run_file, last).checkpoint == last
    run_file.write_text(json.dumps({"status": "interrupted", "epochs_trained": 3}))
    assert find_requeued_run(run_file, last).checkpoint == last
    run_file.write_text(json.dumps({"status": "finished", "epochs_trained": 5}))
    found = find_requeued_run(run_file, last)
    assert found.finished == {"status": "finished", "epochs_trained": 5} and found.checkpoint is None


def test_auto_needs_the_run_identity(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="resume=auto needs run_name and run_id"):
        TrainConfig(train_data_dir=tmp_path, resume="auto", run_name="a")
    with pytest.raises(ValueError, match="not both"):
        TrainConfig(
            train_data_dir=tmp_path,
            resume="auto",
            run_name="a",
            run_id="b",
            continue_from_checkpoint=tmp_path,
        )
