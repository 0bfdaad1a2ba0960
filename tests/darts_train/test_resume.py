"""continue-from-checkpoint: checks before touching anything, never goes backwards, honours artifact-dir."""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

from darts_train import TrainConfig, train_smp
from darts_train.errors import CheckpointError


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file below ``folder``: modification time and content hash."""
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def old_run(trained_run: Any, tmp_path: Path) -> Path:
    """A copy of the shared finished 2-epoch run, at ``tmp_path/old/shared/run00001``."""
    run_dir = tmp_path / "old" / "shared" / "run00001"
    shutil.copytree(trained_run.run_dir, run_dir)
    return run_dir


@pytest.mark.parametrize("max_epochs", [1, 2])
def test_resume_refuses_to_go_backwards(old_run: Path, tiny_options: Any, max_epochs: int) -> None:
    before = _snapshot(old_run.parent.parent)
    with pytest.raises(CheckpointError, match=rf"trained 2 epochs.*max-epochs={max_epochs}"):
        train_smp(
            TrainConfig(
                **tiny_options(old_run.parent.parent, max_epochs=max_epochs),
                continue_from_checkpoint=old_run / "checkpoints" / "last.ckpt",
            )
        )
    assert _snapshot(old_run.parent.parent) == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bands": ("red", "green", "blue")}, r"bands \['red', 'green', 'blue'\].*\['blue', 'green', 'red'"),
        ({"model_encoder": "resnet34"}, "model_encoder 'resnet34'.*'resnet18'"),
        ({"fold": 1}, "fold 1.*0"),
        ({"random_seed": 7}, "random_seed 7.*42"),
        ({"final_retrain": True}, "final_retrain True.*False"),
    ],
)
def test_incompatible_resume_touches_nothing(
    old_run: Path, tiny_options: Any, tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    before = _snapshot(tmp_path)
    with pytest.raises(CheckpointError, match=message):
        train_smp(
            TrainConfig(
                **tiny_options(tmp_path / "elsewhere", max_epochs=3, **overrides),
                continue_from_checkpoint=old_run / "checkpoints" / "last.ckpt",
            )
        )
    assert _snapshot(tmp_path) == before
    assert not (tmp_path / "elsewhere").exists()


def test_resume_into_another_artifact_dir_leaves_the_old_run_alone(
    old_run: Path, tiny_options: Any, tmp_path: Path
) -> None:
    before = _snapshot(old_run)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train_smp(
            TrainConfig(
                **tiny_options(tmp_path / "new", max_epochs=3, plot_every_n_val_epochs=0),
                continue_from_checkpoint=old_run / "checkpoints" / "last.ckpt",
            )
        )
    assert not [w for w in caught if "dirpath has changed" in str(w.message)]
    assert _snapshot(old_run) == before
    # the copied best file and score carry on: one best file, replaced only by a better epoch 2
    old_best = json.loads((old_run / "run.json").read_text())["best_score"]
    bests = sorted(p.name for p in (result.run_dir / "checkpoints").glob("best-*.ckpt"))
    assert bests == [result.best_checkpoint.name]
    assert result.best_checkpoint.parent == result.run_dir / "checkpoints"
    if result.best_checkpoint.name == "best-epoch001.ckpt":
        assert result.best_score == pytest.approx(old_best)
    else:
        assert result.best_checkpoint.name == "best-epoch002.ckpt" and result.best_score > old_best
    assert result.run_dir == tmp_path / "new" / "shared" / "run00001"
    assert (result.run_id, result.epochs_trained) == ("run00001", 3)
    assert (result.run_dir / "folds.json").read_bytes() == (old_run / "folds.json").read_bytes()
    lines = (result.run_dir / "metrics.csv").read_text().splitlines()
    assert len(lines) > len((old_run / "metrics.csv").read_text().splitlines())
    assert result.last_checkpoint.parent == result.run_dir / "checkpoints"


def test_resume_into_an_existing_other_run_folder_is_refused(
    old_run: Path, tiny_options: Any, tmp_path: Path
) -> None:
    taken = tmp_path / "new" / "shared" / "run00001"
    taken.mkdir(parents=True)
    (taken / "run.json").write_text("{}")
    with pytest.raises(CheckpointError, match=f"{taken}.*already holds"):
        train_smp(
            TrainConfig(
                **tiny_options(tmp_path / "new", max_epochs=3),
                continue_from_checkpoint=old_run / "checkpoints" / "last.ckpt",
            )
        )
    assert (taken / "run.json").read_text() == "{}"
