"""From the runs of a trial to its value: defined folds only, and unstable trials caught.

A run's metric value is *undefined* when the metric depends on positives (IoU, F1, recall, ...) and
the run's validation fold holds no RTS pixel: it is left out, never counted as 0. A value that is
NaN or inf on a fold that does hold RTS (or for a metric defined everywhere, such as the loss), a
metric undefined on every fold, and a metric stuck at its trivial value in every run (a model that
predicts no RTS anywhere) make the trial *unstable*: :class:`UnstableTrialError`, recorded as a
failed trial with its reason, so the sampler is never told a value for it.

User attributes written on the trial (read by the sweep report):

* ``runs``: one record per run; besides fold, seed, ids and paths: ``values`` (metric -> value, None
  where undefined), ``positive_pixels`` / ``positive_patches`` (of its validation fold; None when the
  training did not log them) and ``score`` (the run's combined score, None when not defined).
* ``fold_scores``: per fold ``{fold, n_runs, values: metric -> mean of its defined runs or None,
  n_defined: metric -> runs with a value, positive_pixels: [per run], positive_patches: [per run]}``.
* ``metric_means``: metric -> mean over its defined runs; ``folds_used``: metric -> folds with a
  defined value; ``n_folds_used``: the fewest folds any metric used; ``n_folds``: folds trained.
* ``unstable_reason``: why the trial was failed as unstable (also in ``fail_reason``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from darts_sweep.errors import TrainingRunError
from darts_sweep.scoring import MetricGoal, combine, is_positive_dependent, stuck_at_trivial

ATTR_UNSTABLE = "unstable_reason"
ATTR_FOLD_SCORES = "fold_scores"
ATTR_METRIC_MEANS = "metric_means"
ATTR_FOLDS_USED = "folds_used"
ATTR_N_FOLDS_USED = "n_folds_used"
ATTR_N_FOLDS = "n_folds"


class UnstableTrialError(TrainingRunError):
    """The trial's runs gave NaN / inf, an undefined or a trivial value: no value for the sampler."""


def run_value(
    metric: str, value: float | None, positive_pixels: int | None, run_id: str | None
) -> float | None:
    """The run's value of ``metric``; None when undefined (positive-dependent, no RTS in the fold).

    Raises UnstableTrialError for NaN / inf where the value should be defined.
    """
    undefined_here = positive_pixels == 0 and is_positive_dependent(metric)
    if undefined_here:
        return None
    if value is None or not math.isfinite(value):
        where = "" if positive_pixels is None else f" on a validation fold with {positive_pixels} RTS pixels"
        raise UnstableTrialError(f"run {run_id}: {metric} is {value}{where} (NaN loss or diverged training?)")
    return float(value)


def run_score(
    values: Mapping[str, float | None], metrics: Sequence[MetricGoal], score: str | None, direction: str
) -> float | None:
    """A run's own score (its only metric, or the combination); None when undefined or pareto."""
    if any(values.get(m.name) is None for m in metrics) or score == "pareto":
        return None
    xs = [float(values[m.name]) for m in metrics]  # type: ignore[arg-type]
    if score is None:
        return xs[0]
    return combine(xs, metrics, score, direction)  # type: ignore[arg-type]


@dataclass
class TrialAggregate:
    """The trial's value (one per objective) and what the report shows."""

    values: list[float]
    """The trial value (one entry), or one value per metric in a pareto study."""
    metric_means: dict[str, float]
    folds_used: dict[str, list[int]]
    fold_scores: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_folds_used(self) -> int:
        return min((len(f) for f in self.folds_used.values()), default=0)


def fold_summary(
    runs: Sequence[Mapping[str, Any]], metrics: Sequence[MetricGoal], fold: int
) -> dict[str, Any]:
    """Per-metric mean of the fold's defined runs, run counts and positive counts."""
    mine = sorted((r for r in runs if r["fold"] == fold), key=lambda r: r["random"])
    values: dict[str, float | None] = {}
    n_defined: dict[str, int] = {}
    for m in metrics:
        defined = [r["values"][m.name] for r in mine if r.get("values", {}).get(m.name) is not None]
        values[m.name] = statistics.fmean(defined) if defined else None
        n_defined[m.name] = len(defined)
    return {
        "fold": fold,
        "n_runs": len(mine),
        "values": values,
        "n_defined": n_defined,
        "positive_pixels": [r.get("positive_pixels") for r in mine],
        "positive_patches": [r.get("positive_patches") for r in mine],
    }


def fold_value(
    summary: Mapping[str, Any], metrics: Sequence[MetricGoal], score: str | None, direction: str
) -> float | None:
    """The fold's intermediate value (pruning): None when a metric is undefined there or pareto."""
    return run_score(summary["values"], metrics, score, direction)


def aggregate(
    runs: Sequence[Mapping[str, Any]],
    metrics: Sequence[MetricGoal],
    score: str | None,
    direction: str,
    n_folds: int,
) -> TrialAggregate:
    """The trial value over the defined runs; UnstableTrialError (with the reason) when there is none."""
    means: dict[str, float] = {}
    folds_used: dict[str, list[int]] = {}
    for m in metrics:
        defined = [r for r in runs if r.get("values", {}).get(m.name) is not None]
        if not defined:
            raise UnstableTrialError(
                f"{m.name} is undefined on every fold: no validation fold of the {len(runs)} runs holds "
                "an RTS pixel (check the folds with validate-train-data)"
            )
        vals = [float(r["values"][m.name]) for r in defined]
        if stuck_at_trivial(m.name, vals):
            raise UnstableTrialError(
                f"{m.name} is {vals[0]} (its trivial value) in all {len(vals)} defined runs: the model "
                "predicts no RTS anywhere"
            )
        means[m.name] = statistics.fmean(vals)
        folds_used[m.name] = sorted({int(r["fold"]) for r in defined})
    summaries = [fold_summary(runs, metrics, k) for k in range(n_folds)]
    xs = [means[m.name] for m in metrics]
    if score == "pareto":
        values = xs
    elif score is None:
        values = [xs[0]]
    else:
        values = [combine(xs, metrics, score, direction)]  # type: ignore[arg-type]
    if not all(math.isfinite(v) for v in values):
        raise UnstableTrialError(f"the trial value is {values} (not finite)")
    return TrialAggregate(values=values, metric_means=means, folds_used=folds_used, fold_scores=summaries)
