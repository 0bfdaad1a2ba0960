"""A small, real training function for runner tests (runs in the run's own process).

It validates the options as darts_train.TrainConfig, writes a run folder like train-smp, and
returns a TrainResult-shaped dict. Behaviour is driven by valid training options:
``model_encoder`` "fail" raises, "nan" returns a NaN score, "crash" kills its own process;
"blank" logs the values of a model that predicts no RTS (IoU, F1, recall, precision 0);
``max_epochs`` sets the run's duration (0.1 s per epoch). Every call appends one line to
{artifact_dir}/trainings.log, so tests can count trainings.

It logs every pixel metric (derived from one score) for ``val/`` and ``val{fold}/``, and the
validation fold's RTS counts (``val/positive_pixels``, ``val/positive_patches``): 100 pixels in 2
patches, unless ``{train_data_dir}/fake_positives.json`` maps the fold (``{"1": 0}``) to another
pixel count. On a fold without RTS the positive-dependent metrics are NaN, as train-smp logs them.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import time
from pathlib import Path
from typing import Any

from darts_models.metric_keys import POSITIVE_DEPENDENT
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
    positives = _fold_positives(Path(config.train_data_dir), config.fold)
    metrics: dict[str, float] = {}
    for name, value in _pixel_metrics(score, blank=config.model_encoder == "blank").items():
        value = math.nan if positives == 0 and name in POSITIVE_DEPENDENT else value
        metrics[f"val/{name}"] = metrics[f"val{config.fold}/{name}"] = value
    metrics["val/positive_pixels"] = float(positives)
    metrics["val/positive_patches"] = float(min(positives, 2))
    return {
        "run_name": config.run_name,
        "run_id": run_id,
        "run_dir": str(run_dir),
        "best_checkpoint": str(checkpoint),
        "last_checkpoint": str(checkpoint),
        "best_score": score,
        "metrics": metrics,
    }


def _fold_positives(train_data_dir: Path, fold: int) -> int:
    path = train_data_dir / "fake_positives.json"
    if not path.is_file():
        return 100
    return int(json.loads(path.read_text()).get(str(fold), 100))


def _pixel_metrics(score: float, blank: bool) -> dict[str, float]:
    """Pixel metrics of a model whose IoU is ``score`` (all 0 / chance for a ``blank`` model)."""
    if blank:
        return {
            "JaccardIndex": 0.0,
            "F1Score": 0.0,
            "Recall": 0.0,
            "Precision": 0.0,
            "AUROC": 0.5,
            "loss": 0.3,
        }
    f1 = 2 * score / (1 + score) if math.isfinite(score) else score
    return {
        "JaccardIndex": score,
        "F1Score": f1,
        "Recall": min(1.0, score + 0.05),
        "Precision": score,
        "AUROC": 0.5 + score / 2,
        "HammingDistance": (1.0 - score) / 10,
        "loss": 1.0 - score,
    }
