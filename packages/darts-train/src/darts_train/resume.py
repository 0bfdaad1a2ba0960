"""``continue-from-checkpoint``: which run a checkpoint continues, checked before anything is written.

:func:`plan_resume` only reads: it refuses a checkpoint whose model, bands, fold split or seed differ
from the config, and a ``max_epochs`` that would train nothing. :func:`prepare_resume_dir` then makes
the run folder: the checkpoint's own run (continued in place), or, when ``artifact_dir`` is given and
points elsewhere, a new folder there that starts with copies of the old run's metrics, folds and
best checkpoint (hard links where possible; the old run is never modified).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darts_core.atomic import link_or_copy_atomically
from darts_core.errors import CheckpointError
from darts_train.checkpoint_file import read_checkpoint
from darts_train.config import TrainConfig
from darts_train.data import FOLDS_FILE
from darts_train.loggers import METRICS_FILE
from darts_train.naming import RunIdentity, run_dir_for

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
_COPIED_FILES = (METRICS_FILE, FOLDS_FILE)
BEST_GLOB = "best-epoch*.ckpt"


@dataclass(frozen=True)
class Resume:
    """A checked resume: the run it continues, where, and from which checkpoint."""

    identity: RunIdentity
    checkpoint: Path
    epoch: int
    """The checkpoint's epoch (metrics rows of later epochs are dropped)."""
    epochs_trained: int
    """Epochs the checkpoint has finished."""
    source_run_dir: Path | None
    """The checkpoint's run folder when the run continues in another folder, else None."""


def epochs_trained(ckpt: dict[str, Any]) -> int:
    """Finished epochs of a checkpoint (one saved within an epoch does not count that epoch)."""
    try:
        return int(ckpt["loops"]["fit_loop"]["epoch_progress"]["total"]["processed"])
    except (KeyError, TypeError):
        return int(ckpt.get("epoch", 0))


def _mismatches(config: TrainConfig, bands: list[str], ckpt: dict[str, Any]) -> list[str]:
    hparams = ckpt.get("hyper_parameters") or {}
    run = hparams.get("run") or {}
    stored_final = bool(run.get("final_retrain", False))
    pairs: list[tuple[str, Any, Any]] = [
        ("model_arch", config.model_arch, hparams.get("model_arch")),
        ("model_encoder", config.model_encoder, hparams.get("model_encoder")),
        ("bands", bands, list(hparams.get("bands") or [])),
        ("final_retrain", config.final_retrain, stored_final),
        ("random_seed", config.random_seed, run.get("random_seed")),
    ]
    if not config.final_retrain and not stored_final:
        pairs += [("fold", config.fold, hparams.get("fold")), ("n_folds", config.n_folds, run.get("n_folds"))]
    return [
        f"{key} {given!r} (the checkpoint has {stored!r})" for key, given, stored in pairs if given != stored
    ]


def plan_resume(config: TrainConfig, bands: list[str], n_cross_val: int | None) -> Resume:
    """Check that ``config.continue_from_checkpoint`` can be continued by ``config``; write nothing."""
    if config.continue_from_checkpoint is None:
        raise ValueError("plan_resume needs config.continue_from_checkpoint: the checkpoint to continue")
    path = Path(config.continue_from_checkpoint)
    ckpt = read_checkpoint(path)
    run = (ckpt.get("hyper_parameters") or {}).get("run") or {}
    if "run_name" not in run or "run_id" not in run:
        raise CheckpointError(f"{path} lacks run name / id in its hparams; it was not written by train-smp")
    problems = _mismatches(config, bands, ckpt)
    stored_n = ((run.get("dataset") or {}).get("n_patches") or {}).get("cross-val")
    if n_cross_val is not None and stored_n is not None and stored_n != n_cross_val:
        problems.append(f"a training set of {n_cross_val} cross-val patches (the run had {stored_n})")
    if problems:
        raise CheckpointError(
            f"cannot continue {path}: it was trained with other settings: given {'; '.join(problems)}"
        )
    done = epochs_trained(ckpt)
    if config.max_epochs <= done:
        raise CheckpointError(
            f"{path} has already trained {done} epochs; max-epochs={config.max_epochs} would train nothing. "
            f"Give max-epochs larger than {done} to train more"
        )
    name, rid, trial = run["run_name"], run["run_id"], run.get("trial_name")
    for key, given, stored in (("run_name", config.run_name, name), ("run_id", config.run_id, rid)):
        if given is not None and given != stored:
            log.warning("%s=%r ignored: continuing run %s/%s of %s", key, given, name, rid, path)
    own_dir = path.parent.parent if path.parent.name == CHECKPOINT_DIR else None
    run_dir = run_dir_for(config.artifact_dir, name, rid, trial)
    if own_dir is not None and ("artifact_dir" not in config.model_fields_set or _same(own_dir, run_dir)):
        run_dir, source = own_dir, None
    else:
        source = own_dir  # None for a checkpoint outside a run folder: it continues its run's folder
        if source is not None and run_dir.is_dir() and any(run_dir.iterdir()):
            raise CheckpointError(
                f"cannot continue {path} in {run_dir}: that folder already holds another run; "
                "choose another artifact-dir"
            )
    epoch = int(ckpt.get("epoch", 0))
    log.info("resuming run %s/%s from %s (epoch %s) in %s", name, rid, path, epoch, run_dir)
    return Resume(RunIdentity(name, rid, trial, run_dir), path, epoch, done, source)


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def prepare_resume_dir(resume: Resume) -> None:
    """Create the run folder of a checked resume; a new folder starts with the old run's metrics and folds."""
    run_dir = resume.identity.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    if resume.source_run_dir is None:
        return
    for name in _COPIED_FILES:
        if (resume.source_run_dir / name).is_file():
            shutil.copy2(resume.source_run_dir / name, run_dir / name)
    for best in sorted((resume.source_run_dir / CHECKPOINT_DIR).glob(BEST_GLOB)):  # the best so far
        link_or_copy_atomically(best, run_dir / CHECKPOINT_DIR / best.name)
    log.info("continuing %s in %s; %s is left as it is", resume.checkpoint, run_dir, resume.source_run_dir)


__all__ = [
    "CHECKPOINT_DIR",
    "Resume",
    "epochs_trained",
    "plan_resume",
    "prepare_resume_dir",
]
