"""`darts train-smp`: one training run on a fold of cross-val (or on all of it: the final retrain)."""

from __future__ import annotations

import logging

from rich.console import Console

from darts_cli.options import darts_command
from darts_train.config import TrainConfig  # cheap: pydantic only, no torch at import time

logger = logging.getLogger(__name__)


@darts_command(TrainConfig)
def train_smp(config: TrainConfig) -> int:
    """Train one segmentation model on a fold of cross-val (or on all of it: the final retrain)."""
    from darts_train import train_smp as run

    result = run(config)
    if result.final_retrain:
        outcome = "final retrain on all of cross-val, no validation (best = last checkpoint)"
    else:
        score = "n/a" if result.best_score is None else f"{result.best_score:.4f}"
        outcome = f"best val/JaccardIndex {score}" + (" (stopped early)" if result.stopped_early else "")
    Console().print(
        f"run [bold]{result.run_name}[/bold] / {result.run_id}: {outcome}\n"
        f"  run folder      {result.run_dir}\n"
        f"  best checkpoint {result.best_checkpoint}\n"
        f"  last checkpoint {result.last_checkpoint}"
    )
    return 0
