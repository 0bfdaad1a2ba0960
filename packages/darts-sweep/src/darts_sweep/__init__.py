"""darts_sweep: cross-validated, crash-safe Optuna sweeps over darts-train hyper-parameters."""

from __future__ import annotations

from darts_sweep.config import SweepCommandConfig, SweepConfig, SweepOutcome, SweepReportConfig
from darts_sweep.errors import SweepConfigError, SweepSpecError, SweepStorageError, TrainingRunError
from darts_sweep.report import SweepReport, TrialRow, render_report, sweep_report
from darts_sweep.retrain_summary import MetricStat, RetrainSummary, SeedResult
from darts_sweep.runner import optuna_sweep_smp
from darts_sweep.spec import SearchParam, SweepSpec, parse_sweep_dict, parse_sweep_file

__all__ = [
    "MetricStat",
    "RetrainSummary",
    "SearchParam",
    "SeedResult",
    "SweepCommandConfig",
    "SweepConfig",
    "SweepConfigError",
    "SweepOutcome",
    "SweepReport",
    "SweepReportConfig",
    "SweepSpec",
    "SweepSpecError",
    "SweepStorageError",
    "TrainingRunError",
    "TrialRow",
    "optuna_sweep_smp",
    "parse_sweep_dict",
    "parse_sweep_file",
    "render_report",
    "sweep_report",
]
