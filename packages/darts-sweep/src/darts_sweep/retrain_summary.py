"""What a retrain of a sweep's best trial produced: one record per seed and the summary over seeds.

Pydantic only (no torch, no optuna): the sweep outcome refers to these models. Every path is
recorded relative to the trial's retrain folder, so the folder can be read from any host.
"""

from __future__ import annotations

import logging
import math
import statistics
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

RETRAIN_DIR = "retrain-best"
"""Folder of the retrains below the sweep's artifact folder."""
SplitMetrics = dict[str, dict[str, float | None]]
"""Split (val-test, test) -> metric -> value (None where the metric is undefined)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class SeedResult(_Frozen):
    """One seed of the retrain: trained on all of cross-val, tested, converted."""

    seed: int
    """Random seed of the training."""
    run_dir: str
    """The training run's folder, relative to the trial's retrain folder."""
    checkpoint: str
    """The Lightning checkpoint that was tested and converted (relative)."""
    model_file: str
    """The deployable model file (relative)."""
    eval_dir: str
    """test-smp's output folder (relative): metrics.json, per-scene tables, plots."""
    epochs_trained: int = 0
    """Epochs the training ran."""
    metrics: SplitMetrics = Field(default_factory=dict)
    """test-smp's metrics of this seed."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The training options of the run (without host-local paths and devices); a rerun with other
    options does not reuse this seed."""


class MetricStat(_Frozen):
    """Mean and (population) standard deviation of one metric over the seeds that define it."""

    mean: float
    std: float
    n: int
    """Seeds with a defined, finite value."""


class RetrainSummary(_Frozen):
    """The retrain of one trial: its parameters, each seed's files and metrics, mean ± std over seeds."""

    sweep_id: str
    """The sweep (Optuna study name)."""
    trial: int
    """Number of the retrained trial."""
    trial_values: list[float] = Field(default_factory=list)
    """The trial's cross-validated value(s) in the sweep."""
    params: dict[str, Any]
    """The trial's searched parameters."""
    fixed_params: dict[str, Any] = Field(default_factory=dict)
    """The sweep file's fixed parameters."""
    folder: str
    """The trial's retrain folder, relative to the sweep's artifact folder."""
    seeds: list[SeedResult]
    """One record per seed, in seed order."""
    metrics: dict[str, dict[str, MetricStat]]
    """Split -> metric -> mean ± std over the seeds."""
    reused_seeds: list[int] = Field(default_factory=list)
    """Seeds this call found finished and did not train again."""


def metric_stats(seeds: list[SeedResult]) -> dict[str, dict[str, MetricStat]]:
    """Split -> metric -> mean ± std over the seeds with a defined, finite value (others are left out)."""
    out: dict[str, dict[str, MetricStat]] = {}
    for split in dict.fromkeys(s for seed in seeds for s in seed.metrics):
        names = dict.fromkeys(m for seed in seeds for m in seed.metrics.get(split, {}))
        stats: dict[str, MetricStat] = {}
        for name in names:
            values = [seed.metrics.get(split, {}).get(name) for seed in seeds]
            defined = [float(v) for v in values if v is not None and math.isfinite(v)]
            if defined:
                std = statistics.pstdev(defined) if len(defined) > 1 else 0.0
                stats[name] = MetricStat(mean=statistics.fmean(defined), std=std, n=len(defined))
        out[split] = stats
    return out


def read_summaries(retrain_dir: Path) -> list[RetrainSummary]:
    """The summaries of ``retrain_dir``/trial-*/summary.json, by trial (unreadable ones are skipped)."""
    summaries = []
    for path in sorted(retrain_dir.glob("trial-*/summary.json")) if retrain_dir.is_dir() else []:
        try:
            summaries.append(RetrainSummary.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:
            logger.warning("retrain summary %s skipped: %s", path, err)
    return summaries


def render_summary_markdown(summary: RetrainSummary) -> str:
    """A short markdown page of the summary: parameters, mean ± std per split and metric, the files."""
    lines = [f"# Retrain of trial {summary.trial} of sweep {summary.sweep_id}", ""]
    values = ", ".join(f"{v:.4f}" for v in summary.trial_values)
    lines.append(f"Cross-validated value in the sweep: {values or '-'}; seeds: {len(summary.seeds)}.")
    lines += ["", "## Parameters", ""]
    lines += [f"- {name}: {value}" for name, value in summary.params.items()]
    lines += [f"- {name}: {value} (fixed)" for name, value in summary.fixed_params.items()]
    for split, stats in summary.metrics.items():
        lines += [
            "",
            f"## {split} (mean ± std over seeds)",
            "",
            "| metric | mean ± std | seeds |",
            "|---|---|---|",
        ]
        lines += [f"| {name} | {s.mean:.4f} ± {s.std:.4f} | {s.n} |" for name, s in stats.items()]
    lines += ["", "## Files", "", "| seed | model file | checkpoint | evaluation |", "|---|---|---|---|"]
    lines += [f"| {s.seed} | {s.model_file} | {s.checkpoint} | {s.eval_dir} |" for s in summary.seeds]
    return "\n".join(lines) + "\n"


__all__ = [
    "RETRAIN_DIR",
    "MetricStat",
    "RetrainSummary",
    "SeedResult",
    "metric_stats",
    "read_summaries",
    "render_summary_markdown",
]
