"""Typed configuration and outcome of ``optuna-sweep-smp``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from darts_core.renamed_keys import renamed_field, warn_renamed_keys
from darts_sweep.retrain_summary import RetrainSummary

DEFAULT_TRAIN_FN = "darts_sweep._train_entry:train_smp_from_options"


class SweepOptions(BaseModel):
    """The user-facing options of a sweep runner, shared by the CLI model and the runner config."""

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
    sweep_device: int | Literal["cpu", "auto"] | None = renamed_field("sweep_device", "device", None)
    """Device of this runner's trainings: GPU index, cpu or auto; none = create the sweep (or check
    it) and run nothing. Formerly `device`."""
    prune: bool = False
    """Stop trials whose per-fold score falls below the median of earlier trials at that fold."""
    retrain_best: bool = False
    """Run no trials: train the best complete trial's parameters on all of cross-val for each of
    n-randoms seeds, test and convert each model, and write a summary into
    {artifact_dir}/{sweep_id}/retrain-best/trial-NNNN/; finished seeds are reused."""
    retrain_trial: int | None = Field(default=None, ge=0)
    """Retrain this trial instead of the best one (implies retrain-best; needed for a multi-objective
    sweep)."""

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: object) -> object:
        warn_renamed_keys(cls, data)
        return data


class SweepConfig(SweepOptions):
    """A sweep runner: which sweep, where it is stored, how each trial cross-validates."""

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
    it returns a darts_train.TrainResult (or a mapping with its keys). Must live in an importable
    module (not ``__main__``): run processes import it by name."""


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
    pareto_trials: list[int] = Field(default_factory=list)
    """Numbers of the Pareto-front trials of a multi-objective (``score: pareto``) sweep, which has
    no single best trial (best_trial is then None)."""
    best_value: float | None = None
    """Its score (mean objective over its runs)."""
    best_params: dict[str, Any] = Field(default_factory=dict)
    """Its searched parameters (the values Optuna sampled)."""
    fixed_params: dict[str, Any] = Field(default_factory=dict)
    """The fixed parameters of the sweep file (``value:``), the same in every trial."""
    interrupted: bool = False
    """True when SIGINT or SIGTERM stopped the runner (its current trial is failed and queued again)."""
    interrupt_signal: int | None = None
    """The signal that stopped the runner (2 = SIGINT, 15 = SIGTERM)."""
    failed_here: list[int] = Field(default_factory=list)
    """Numbers of the trials this runner ran that failed."""
    retrain: RetrainSummary | None = None
    """What retrain-best produced (None when it was not asked for)."""
    retrain_summary_file: str | None = None
    """Where its summary.json was written."""

    @property
    def exit_code(self) -> int:
        """128 + signal when a signal stopped the runner; 1 when every trial it ran failed; else 0."""
        if self.interrupted:
            return 128 + (self.interrupt_signal or 2)
        if self.trials_run and len(self.failed_here) == len(self.trials_run):
            return 1
        return 0


class _SweepCommandBase(SweepOptions):
    """The sweep options of `darts optuna-sweep-smp`; the training options are added below."""

    def to_sweep_config(self) -> SweepConfig:
        """The runner configuration: training options = the training fields that are set."""
        base = set(SweepOptions.model_fields)
        train = {k: v for k, v in self.model_dump(exclude_none=True).items() if k not in base}
        # model_encoder_weights=None is meaningful but indistinguishable from "not set"; keep train's default
        return SweepConfig(**{k: getattr(self, k) for k in base}, train_options=train)


def _training_fields() -> dict[str, Any]:
    """Every train-smp option that a sweep does not set itself, as an optional default for all runs."""
    from darts_sweep.options import RUN_MANAGED_OPTIONS
    from darts_train.config import TrainConfig

    fields: dict[str, Any] = {}
    for name, info in TrainConfig.model_fields.items():
        if name in RUN_MANAGED_OPTIONS or name in _SweepCommandBase.model_fields:
            continue
        doc = (
            f"{info.description or name} Default of every run when the sweep file does not set it "
            f"[train-smp: {info.default!r}]."
        )
        assert info.annotation is not None  # pydantic records the annotation of every field
        fields[name] = (info.annotation | None, Field(default=None, description=doc))
    return fields


SweepCommandConfig = create_model("SweepCommandConfig", __base__=_SweepCommandBase, **_training_fields())
SweepCommandConfig.__doc__ = (
    "Options of `darts optuna-sweep-smp`: the sweep, and train-smp defaults for its runs."
)


class SweepReportConfig(BaseModel):
    """Options of `darts sweep-report`."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sweep_id: str
    """The sweep to summarise."""
    sweep_db: str | None = None
    """Where the sweep is stored (as for optuna-sweep-smp); default {artifact_dir}/{sweep_id}/sweep.db."""
    artifact_dir: Path = Path("lightning_logs")
    """Artifact folder of the sweep (locates the default sweep-db and report folder)."""
    out_dir: Path | None = None
    """Folder of report.json, trials.csv and the PNG plots; default {artifact_dir}/{sweep_id}/report."""
    format: Literal["text", "json", "html"] = "text"
    """Print the report as a text table or as JSON (for scripts); html also writes report.html (one
    file, plots embedded) into out-dir and prints the text table."""
    plots: bool = True
    """Write the PNG plots (optimisation history, parallel coordinates, importances)."""
