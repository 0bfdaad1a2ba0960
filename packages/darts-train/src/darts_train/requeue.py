"""``resume = "auto"``: what a job started again with the same run name and id continues from."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequeuedRun:
    """What the run folder holds: a finished run's run.json, else the checkpoint to continue from."""

    finished: dict[str, Any] | None = None
    checkpoint: Path | None = None


def find_requeued_run(run_file: Path, last_checkpoint: Path) -> RequeuedRun:
    """A finished run (run.json status "finished"), its last.ckpt, or nothing: start the run."""
    name = f"{run_file.parent.parent.name}/{run_file.parent.name}"
    if run_file.is_file():
        data = json.loads(run_file.read_text())
        if data.get("status", "finished") == "finished":
            log.info("run %s finished before (%s); nothing to do", name, run_file)
            return RequeuedRun(finished=data)
    if last_checkpoint.is_file():
        log.info("resume auto: continuing run %s from %s", name, last_checkpoint)
        return RequeuedRun(checkpoint=last_checkpoint)
    log.info("resume auto: run %s has no %s yet; starting it", name, last_checkpoint)
    return RequeuedRun()
