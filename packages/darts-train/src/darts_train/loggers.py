"""Loggers of a training run: a CSV file always, Weights & Biases when a project is set.

Lightning's own CSVLogger deletes an existing ``metrics.csv``; a resumed run must keep the rows
of its earlier epochs, so the run writes through :class:`RunCSVLogger`, which appends.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger, WandbLogger
from lightning.pytorch.utilities import rank_zero_only

from darts_core.atomic import atomic_path, write_text_atomically
from darts_train.naming import RunIdentity

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.csv"
HPARAMS_FILE = "hparams.json"


def _to_float(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


class RunCSVLogger(Logger):
    """Writes every logged metric to ``{run_dir}/metrics.csv`` (one row per logging step).

    Rows already in the file are kept; with ``keep_until_epoch`` only the rows of epochs up to that
    one are kept, so a run resumed from an earlier checkpoint does not duplicate epochs.
    """

    def __init__(
        self, run_dir: Path, run_name: str, run_id: str, keep_until_epoch: int | None = None
    ) -> None:
        super().__init__()
        self._run_dir = Path(run_dir)
        self._name = run_name
        self._version = run_id
        self._rows: list[dict[str, Any]] = self._read_existing(keep_until_epoch)
        self._dirty = False

    def _read_existing(self, keep_until_epoch: int | None) -> list[dict[str, Any]]:
        path = self._run_dir / METRICS_FILE
        if not path.is_file():
            return []
        with path.open(newline="") as f:
            rows = [{k: v for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(f)]
        if keep_until_epoch is None:
            return rows
        return [r for r in rows if "epoch" not in r or float(r["epoch"]) <= keep_until_epoch]

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return self._version

    @property
    def save_dir(self) -> str:
        return str(self._run_dir)

    @property
    def log_dir(self) -> str:
        return str(self._run_dir)

    @property
    def metrics_file(self) -> Path:
        return self._run_dir / METRICS_FILE

    @rank_zero_only
    def log_hyperparams(self, params: Mapping[str, Any] | Any, *args: Any, **kwargs: Any) -> None:
        params = dict(params) if isinstance(params, Mapping) else vars(params)
        path = self._run_dir / HPARAMS_FILE
        write_text_atomically(path, json.dumps(params, indent=2, default=str))

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        row = {k: _to_float(v) for k, v in metrics.items()}
        row["step"] = step if step is not None else len(self._rows)
        self._rows.append(row)
        self._dirty = True

    @rank_zero_only
    def save(self) -> None:
        """Rewrite the file atomically with the union of all columns."""
        if not self._dirty:
            return
        keys = sorted({k for row in self._rows for k in row})
        path = self.metrics_file
        with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self._rows)
        self._dirty = False

    @rank_zero_only
    def finalize(self, status: str) -> None:
        self.save()


def build_loggers(
    identity: RunIdentity,
    *,
    wandb_project: str | None,
    wandb_entity: str | None,
    wandb_group: str | None,
    keep_until_epoch: int | None = None,
) -> list[Logger]:
    """CSV logger always; a WandbLogger when ``wandb_project`` is set.

    wandb reads WANDB_MODE (e.g. ``offline``) from the environment itself; nothing here changes
    the environment. The wandb run id is the darts run id, so a resumed run continues it.
    """
    loggers: list[Logger] = [
        RunCSVLogger(identity.run_dir, identity.run_name, identity.run_id, keep_until_epoch=keep_until_epoch)
    ]
    if wandb_project:
        loggers.append(
            WandbLogger(
                project=wandb_project,
                entity=wandb_entity,
                name=identity.run_name,
                id=identity.run_id,
                group=wandb_group or identity.trial_name,
                job_type=identity.trial_name,
                save_dir=str(identity.run_dir),
                resume="allow",
            )
        )
    elif wandb_entity:
        log.warning("wandb_entity=%r is set but wandb_project is not; wandb logging stays off", wandb_entity)
    return loggers
