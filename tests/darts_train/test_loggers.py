"""The run's CSV logger keeps earlier rows (resume) and writes the union of columns."""

from __future__ import annotations

import csv
from pathlib import Path

from darts_train.loggers import RunCSVLogger


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_rows_of_an_earlier_session_are_kept(tmp_path: Path) -> None:
    first = RunCSVLogger(tmp_path, "n", "i")
    first.log_metrics({"train/loss": 0.5, "epoch": 0}, step=0)
    first.log_metrics({"val/JaccardIndex": 0.1, "epoch": 0}, step=1)
    first.finalize("success")
    second = RunCSVLogger(tmp_path, "n", "i")
    second.log_metrics({"train/loss": 0.25, "lr": 1e-3, "epoch": 1}, step=2)
    second.save()
    rows = _rows(first.metrics_file)
    assert [r["step"] for r in rows] == ["0", "1", "2"]
    assert rows[1]["val/JaccardIndex"] == "0.1" and rows[2]["lr"] == "0.001"
    assert set(rows[0]) == {"train/loss", "val/JaccardIndex", "lr", "epoch", "step"}


def test_rows_after_the_resumed_epoch_are_dropped(tmp_path: Path) -> None:
    log = RunCSVLogger(tmp_path, "n", "i")
    for epoch in range(4):
        log.log_metrics({"train/loss": 1.0 / (epoch + 1), "epoch": epoch}, step=epoch)
    log.save()
    resumed = RunCSVLogger(tmp_path, "n", "i", keep_until_epoch=1)
    resumed.log_metrics({"train/loss": 0.1, "epoch": 2}, step=2)
    resumed.save()
    assert [r["epoch"] for r in _rows(log.metrics_file)] == ["0", "1", "2"]
    assert not list(tmp_path.glob("*.tmp"))


def test_hyperparameters_are_written_as_json(tmp_path: Path) -> None:
    RunCSVLogger(tmp_path, "n", "i").log_hyperparams({"lr": 0.1, "path": tmp_path})
    assert '"lr": 0.1' in (tmp_path / "hparams.json").read_text()
