"""Checkpoints of train_smp: last.ckpt after every epoch (and every n minutes), atomic writes, one copy."""

from __future__ import annotations

import csv
import errno
import os
from pathlib import Path
from typing import IO, Any

import pytest
import torch

from darts_models.errors import DiskFullError
from darts_train import TrainConfig, train_smp
from darts_train.module import SegmentationTask

STEPS_PER_EPOCH = 2  # 6 training patches of the tiny set's fold 0, batches of 3


def _load(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=True)


def _crash_at_step(monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    """Make the training step at global step ``step`` fail, as a killed job would stop there."""
    real_step = SegmentationTask.training_step

    def training_step(self: SegmentationTask, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.global_step >= step:
            raise RuntimeError("simulated crash")
        return real_step(self, batch, batch_idx)

    monkeypatch.setattr(SegmentationTask, "training_step", training_step)


def _only_run_dir(artifacts: Path) -> Path:
    (run_dir,) = (p for p in artifacts.glob("*/*") if p.is_dir())
    return run_dir


def test_last_checkpoint_is_the_last_epoch_not_the_last_best(tiny_options: Any, tmp_path: Path) -> None:
    # a learning rate of ~0 keeps val/JaccardIndex from improving after the first epoch
    result = train_smp(
        TrainConfig(
            **tiny_options(
                tmp_path,
                max_epochs=3,
                learning_rate=1e-12,
                early_stopping_patience=0,
                plot_every_n_val_epochs=0,
            )
        )
    )
    assert result.best_checkpoint.name == "best-epoch000.ckpt"
    last = _load(result.last_checkpoint)
    assert (last["epoch"], last["global_step"]) == (2, 3 * STEPS_PER_EPOCH)
    assert not os.path.samefile(result.best_checkpoint, result.last_checkpoint)


def test_last_checkpoint_after_an_epoch_without_validation(
    tiny_options: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_at_step(monkeypatch, STEPS_PER_EPOCH + 1)  # in the middle of epoch 1; no validation ran yet
    with pytest.raises(RuntimeError, match="simulated crash"):
        train_smp(TrainConfig(**tiny_options(tmp_path, max_epochs=3, check_val_every_n_epoch=3)))
    last = _load(_only_run_dir(tmp_path) / "checkpoints" / "last.ckpt")
    assert (last["epoch"], last["global_step"]) == (0, STEPS_PER_EPOCH)


def test_best_epoch_that_is_also_the_last_is_one_file(trained_run: Any) -> None:
    assert trained_run.best_checkpoint.name == "best-epoch001.ckpt"
    assert os.path.samefile(trained_run.best_checkpoint, trained_run.last_checkpoint)
    assert [
        p.name for p in trained_run.run_dir.joinpath("checkpoints").iterdir() if p.name.startswith(".")
    ] == []


def test_best_metrics_hold_the_best_epochs_train_metrics(trained_run: Any) -> None:
    with (trained_run.run_dir / "metrics.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("train/JaccardIndex")]
    by_epoch = {int(r["epoch"]): float(r["train/JaccardIndex"]) for r in rows}
    assert set(by_epoch) == {0, 1} and by_epoch[0] != by_epoch[1]
    assert trained_run.best_metrics["train/JaccardIndex"] == pytest.approx(by_epoch[1])
    stored = _load(trained_run.best_checkpoint)["darts"]["metrics"]
    assert stored["train/JaccardIndex"] == pytest.approx(by_epoch[1])


def test_periodic_save_within_an_epoch(
    tiny_options: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = tiny_options(tmp_path, max_epochs=2, checkpoint_every_n_minutes=1e-9, plot_every_n_val_epochs=0)
    with monkeypatch.context() as patch:
        _crash_at_step(patch, 1)  # the second batch of epoch 0
        with pytest.raises(RuntimeError, match="simulated crash"):
            train_smp(TrainConfig(**options))
    path = _only_run_dir(tmp_path) / "checkpoints" / "last.ckpt"
    assert (_load(path)["epoch"], _load(path)["global_step"]) == (0, 1)
    result = train_smp(TrainConfig(**options, continue_from_checkpoint=path))  # resumes within epoch 0
    assert result.epochs_trained == 2 and _load(result.last_checkpoint)["epoch"] == 1


def test_without_periodic_saves_nothing_is_saved_within_the_first_epoch(
    tiny_options: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_at_step(monkeypatch, 1)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train_smp(TrainConfig(**tiny_options(tmp_path, max_epochs=2)))
    assert list((_only_run_dir(tmp_path) / "checkpoints").glob("*")) == []


def test_final_retrain_saves_every_epoch_and_resumes(
    tiny_options: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = 4  # final retrain: all 12 cross-val patches, batches of 3
    with monkeypatch.context() as patch:
        _crash_at_step(patch, steps + 1)
        with pytest.raises(RuntimeError, match="simulated crash"):
            train_smp(TrainConfig(**tiny_options(tmp_path, max_epochs=2), final_retrain=True))
    last = _only_run_dir(tmp_path) / "checkpoints" / "last.ckpt"
    assert (_load(last)["epoch"], _load(last)["global_step"]) == (0, steps)
    result = train_smp(
        TrainConfig(**tiny_options(tmp_path, max_epochs=2), final_retrain=True, continue_from_checkpoint=last)
    )
    assert result.last_checkpoint == last and result.epochs_trained == 2
    assert (_load(last)["epoch"], _load(last)["global_step"]) == (1, 2 * steps)


def test_disk_full_during_training_leaves_no_truncated_checkpoint(
    tiny_options: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = torch.save

    def save_until_full(obj: object, fh: IO[bytes], *args: object, **kwargs: object) -> None:
        real_save({"partial": True}, fh)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", save_until_full)
    with pytest.raises(DiskFullError, match=r"disk full at .*checkpoints/(best-epoch000|last)\.ckpt"):
        train_smp(TrainConfig(**tiny_options(tmp_path, max_epochs=1, plot_every_n_val_epochs=0)))
    assert list((_only_run_dir(tmp_path) / "checkpoints").iterdir()) == []
