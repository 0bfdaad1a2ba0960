"""A small, real training function for runner tests (runs in the run's own process).

It validates the options as darts_train.TrainConfig, writes a run folder like train-smp, and
returns a TrainResult-shaped dict. Behaviour is driven by valid training options:
``model_encoder`` "fail" raises, "nan" returns a NaN score, "crash" kills its own process;
``max_epochs`` sets the run's duration (0.1 s per epoch). Every call appends one line to
{artifact_dir}/trainings.log, so tests can count trainings.
"""

from __future__ import annotations

import math
import os
import secrets
import signal
import time
from pathlib import Path
from typing import Any

from darts_train.config import TrainConfig

FAKE_TRAIN_FN = f"{__name__}:fake_train"
"""The ``train_fn`` path of :func:`fake_train` (a sweep runner's run processes import it by name)."""


def fake_train(options: dict[str, Any]) -> dict[str, Any]:
    config = TrainConfig(**options)
    run_id = secrets.token_hex(4)
    run_dir = Path(config.artifact_dir) / str(config.trial_name) / f"{config.run_name}-{run_id}"
    run_dir.mkdir(parents=True, exist_ok=False)  # a duplicate folder would be a bug
    with open(Path(config.artifact_dir) / "trainings.log", "a", encoding="utf-8") as log:
        log.write(f"{config.trial_name} {config.fold} {config.random_seed} {os.getpid()}\n")
    time.sleep(0.1 * config.max_epochs)
    if config.model_encoder == "fail":
        raise RuntimeError("CUDA out of memory (simulated)")
    if config.model_encoder == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    score = 1.0 - abs(math.log10(config.learning_rate) + 3.0) / 10.0 + (config.random_seed % 7) / 1000.0
    if config.model_encoder == "nan":
        score = math.nan
    checkpoint = run_dir / "best.ckpt"
    checkpoint.write_text("fake")
    metrics = {"val/JaccardIndex": score, f"val{config.fold}/JaccardIndex": score, "val/loss": 1.0 - score}
    return {
        "run_name": config.run_name,
        "run_id": run_id,
        "run_dir": str(run_dir),
        "best_checkpoint": str(checkpoint),
        "last_checkpoint": str(checkpoint),
        "best_score": score,
        "metrics": metrics,
    }
