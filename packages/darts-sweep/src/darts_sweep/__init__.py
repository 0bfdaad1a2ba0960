"""darts_sweep: cross-validated, crash-safe Optuna sweeps over darts-train hyper-parameters."""

from __future__ import annotations

from darts_sweep.config import SweepConfig, SweepOutcome
from darts_sweep.errors import SweepConfigError, SweepSpecError, SweepStorageError, TrainingRunError
from darts_sweep.report import SweepReport, sweep_report
from darts_sweep.runner import optuna_sweep_smp
from darts_sweep.spec import SearchParam, SweepSpec, parse_sweep_dict, parse_sweep_file

__all__ = [
    "SearchParam",
    "SweepConfig",
    "SweepConfigError",
    "SweepOutcome",
    "SweepReport",
    "SweepSpec",
    "SweepSpecError",
    "SweepStorageError",
    "TrainingRunError",
    "optuna_sweep_smp",
    "parse_sweep_dict",
    "parse_sweep_file",
    "sweep_report",
]
