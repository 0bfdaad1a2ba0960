"""Typed configuration and outcome of ``optuna-sweep-smp``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_TRAIN_FN = "darts_sweep._train_entry:train_smp_from_options"


class SweepConfig(BaseModel):
    """A sweep runner: which sweep, where it is stored, how each trial cross-validates."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    train_data_dir: Path
    """Root of the preprocessed training set."""
    sweep_config: Path
    """The wandb sweep YAML file (method, metric, parameters)."""
    n_trials: int = Field(default=10, ge=1)
    """Trials this runner runs, one after another."""
    sweep_db: str | None = None
    """SQLAlchemy URL (postgresql://…, sqlite:///…) or a file (.db/.sqlite = SQLite, else an Optuna
    journal); none = SQLite file {artifact_dir}/{sweep_id}/sweep.db."""
    sweep_id: str | None = None
    """The sweep (Optuna study name) to continue or create; none = a new sweep."""
    n_folds: int = Field(default=5, ge=2)
    """Cross-validation folds; each trial trains on every fold."""
    n_randoms: int = Field(default=3, ge=1)
    """Trainings per fold with different seeds (42, 21, 69, then fixed pseudo-random ones)."""
    artifact_dir: Path = Path("lightning_logs")
    """Runs are written to {artifact_dir}/{sweep_id}/{trial_name}/{run_name}-{run_id}."""
    device: int | Literal["cpu", "auto"] | None = None
    """GPU index, cpu or auto; none = create the sweep (or check it) and run nothing."""
    prune: bool = False
    """Stop trials whose per-fold score falls below the median of earlier trials at that fold."""
    prune_startup_trials: int = Field(default=3, ge=0)
    """Trials that complete before the pruner may stop any."""
    sampler_seed: int = 42
    """Seed of the sampler; trial n samples with seed + n."""
    train_options: dict[str, Any] = Field(default_factory=dict)
    """train-smp options for every run (max_epochs, …, and hyper-parameter defaults for the
    parameters the sweep file does not name)."""
    heartbeat_interval_s: int = Field(default=60, ge=1)
    """A running trial records a heartbeat this often (database storages)."""
    grace_period_s: int | None = Field(default=None, ge=1)
    """A trial without heartbeat for this long is failed and retried once; none = 2 x interval."""
    start_method: Literal["forkserver", "spawn"] = "forkserver"
    """How each run's process starts: forkserver (torch preloaded, fast) or spawn."""
    train_fn: str = DEFAULT_TRAIN_FN
    """``module:function`` run in each run's process with the run's TrainConfig options (a dict);
    it returns a darts_train.TrainResult (or a mapping with its keys)."""


class SweepOutcome(BaseModel):
    """What a runner did."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sweep_id: str
    """The Optuna study name."""
    storage: str
    """The storage, password masked."""
    created: bool
    """True when this call created the sweep."""
    runner_command: str
    """The command line that starts another runner on this sweep."""
    trials_run: list[int] = Field(default_factory=list)
    """Numbers of the trials this runner ran."""
    n_complete: int = 0
    """Trials of the whole sweep that completed."""
    n_failed: int = 0
    """Trials of the whole sweep that failed."""
    n_pruned: int = 0
    """Trials of the whole sweep that were pruned."""
    best_trial: int | None = None
    """Number of the best trial of the sweep so far."""
    best_value: float | None = None
    """Its score (mean objective over its runs)."""
    best_params: dict[str, Any] = Field(default_factory=dict)
    """Its parameters (searched and fixed)."""
    interrupted: bool = False
    """True when SIGINT stopped the runner (the current trial is marked failed)."""
