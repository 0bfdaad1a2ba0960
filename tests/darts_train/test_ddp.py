"""Training in 2 CPU processes (DDP over gloo): the code path of a multi-GPU run, without a GPU.

The validation metrics logged by the 2-process run equal a single-process validation of the same
weights on the same fold (metric states are summed across ranks, no patch counted twice), the run
folder, checkpoints and metrics.csv exist once, and the run resumes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import lightning as L
import pytest

from darts_train import TrainConfig, train_smp
from darts_train.data import build_datamodule
from darts_train.module import load_task

PIXEL_METRICS = ("val/JaccardIndex", "val/F1Score", "val/Recall", "val/Precision", "val/Accuracy")


def _rows(metrics_csv: Path) -> list[dict[str, str]]:
    with metrics_csv.open() as f:
        return list(csv.DictReader(f))


def _single_process_validation(config: TrainConfig, checkpoint: Path) -> dict[str, float]:
    task = load_task(checkpoint)
    datamodule = build_datamodule(config, task.hparams.bands)
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False)
    (metrics,) = trainer.validate(task, datamodule=datamodule, verbose=False)
    return metrics


@pytest.mark.slow
@pytest.mark.timeout(600)  # 100 s on 2 cores; 327 s when the cores are shared with other work
def test_two_cpu_processes_log_the_single_process_metrics_once(tiny_options: Any, tmp_path: Path) -> None:
    options = tiny_options(
        tmp_path / "artifacts",
        devices=[0, 1],
        max_epochs=2,
        plot_every_n_val_epochs=0,
        run_name="ddp",
        run_id="ddprun01",
    )
    config = TrainConfig(**options)
    result = train_smp(config)

    runs = sorted(p.relative_to(tmp_path / "artifacts") for p in (tmp_path / "artifacts").glob("*/*"))
    assert runs == [Path("ddp/ddprun01")]  # one run folder: rank 1 made none of its own
    ckpts = sorted(p.name for p in (result.run_dir / "checkpoints").iterdir())
    assert "last.ckpt" in ckpts and len([c for c in ckpts if c.startswith("best-epoch")]) == 1, ckpts
    assert not [c for c in ckpts if c.startswith(".")]  # no temporary file left by a second writer
    rows = _rows(result.run_dir / "metrics.csv")
    val_rows = [r for r in rows if r.get("val/JaccardIndex")]
    assert [r["epoch"] for r in val_rows] == ["0", "1"]  # each validation logged once, not per rank
    assert json.loads((result.run_dir / "run.json").read_text())["run_id"] == "ddprun01"

    single = _single_process_validation(config, result.run_dir / "checkpoints" / "last.ckpt")
    logged = val_rows[-1]
    for key in PIXEL_METRICS:
        assert float(logged[key]) == pytest.approx(single[key], abs=1e-6), key

    resumed = train_smp(
        TrainConfig(
            **{**options, "max_epochs": 3},
            continue_from_checkpoint=result.run_dir / "checkpoints" / "last.ckpt",
        )
    )
    assert resumed.run_dir == result.run_dir
    epochs = [r["epoch"] for r in _rows(result.run_dir / "metrics.csv") if r.get("val/JaccardIndex")]
    assert epochs == ["0", "1", "2"]
