"""The trial value of a sweep: which metrics count, how they combine, and when a value is not one.

A sweep optimises one metric (wandb's ``metric``) or several (the darts extension ``metrics:``),
combined by ``score:`` into one value (``arithmetic``, ``geometric``, ``harmonic``, ``min``) or kept
apart as the objectives of a multi-objective study (``pareto``).

Goals of a combined score: when every metric has the same goal, the score keeps it (``min`` is then
the worst metric: the smallest when maximising, the largest when minimising). When goals mix, each
minimised metric must be bounded in [0, 1] (a pixel metric such as HammingDistance) and counts as
``1 - value``; the score is maximised. A loss (unbounded) cannot be mixed: use ``score: pareto``.
``geometric`` and ``harmonic`` need non-negative values, so CohenKappa (in [-1, 1]) is refused there.

Positive-dependent metrics (:data:`POSITIVE_DEPENDENT`) are undefined on a validation fold without
any RTS pixel; such a run's value is left out of the trial aggregate, not counted as 0.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from darts_models.metric_keys import (
    PIXEL_METRICS,
    POSITIVE_DEPENDENT,
    POSITIVE_PATCHES,
    POSITIVE_PIXELS,
    VAL_PREFIX,
    metric_key,
)

Goal = Literal["maximize", "minimize"]
ScoreKind = Literal["arithmetic", "geometric", "harmonic", "min", "pareto"]
COMBINED_SCORES: tuple[str, ...] = ("arithmetic", "geometric", "harmonic", "min")
SCORES: tuple[str, ...] = (*COMBINED_SCORES, "pareto")

TRIVIAL_VALUES: dict[str, float] = {
    "JaccardIndex": 0.0,
    "F1Score": 0.0,
    "Recall": 0.0,
    "Precision": 0.0,
    "CohenKappa": 0.0,
    "AUROC": 0.5,
}
"""The value a metric takes for a model that predicts no RTS anywhere (or a constant probability).

IoU, F1, recall and precision are 0, Cohen's kappa is 0 (chance agreement) and AUROC is 0.5. A trial
whose every defined run has this value learned nothing: it is failed as unstable. Accuracy,
Specificity, HammingDistance, AveragePrecision and the loss have no fixed trivial value."""

_BOUNDED_01 = frozenset(PIXEL_METRICS) - {"CohenKappa"}
_TRIVIAL_TOLERANCE = 1e-9


class MetricGoal(BaseModel):
    """One metric of the sweep and whether it is maximised or minimised."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    name: str
    """A logged metric key, e.g. ``val0/JaccardIndex``."""
    goal: Goal = "minimize"
    """maximize or minimize (wandb's default goal is minimize)."""


def base_name(metric_name: str) -> str:
    """``val0/JaccardIndex`` -> ``JaccardIndex`` (the metric family, without the stage prefix)."""
    return metric_name.rpartition("/")[2]


def is_positive_dependent(metric_name: str) -> bool:
    """Whether the metric is undefined on a validation fold without any RTS pixel."""
    return base_name(metric_name) in POSITIVE_DEPENDENT and metric_name.startswith(VAL_PREFIX)


def combined_direction(metrics: Sequence[MetricGoal], score: str, source: str) -> Goal:
    """The direction of a combined score; raises ValueError when the metrics cannot be combined."""
    if score in ("geometric", "harmonic"):
        for metric in metrics:
            if base_name(metric.name) == "CohenKappa":
                raise ValueError(
                    f"{source}: metric {metric.name!r} can be negative, so score '{score}' cannot use it; "
                    "use arithmetic, min or pareto"
                )
    goals = {metric.goal for metric in metrics}
    if len(goals) == 1:
        return next(iter(goals))
    for metric in metrics:
        if metric.goal == "minimize" and base_name(metric.name) not in _BOUNDED_01:
            raise ValueError(
                f"{source}: score '{score}' mixes maximised and minimised metrics, which works only for "
                f"metrics in [0, 1] (a minimised one counts as 1 - value), but {metric.name!r} is not "
                "bounded; use the same goal for every metric, or score: pareto"
            )
    return "maximize"


def combine(values: Sequence[float], metrics: Sequence[MetricGoal], score: str, direction: Goal) -> float:
    """The combined score of per-metric values (same order as ``metrics``)."""
    mixed = len({m.goal for m in metrics}) > 1
    xs = [1.0 - v if mixed and m.goal == "minimize" else v for v, m in zip(values, metrics, strict=True)]
    if score == "arithmetic":
        return statistics.fmean(xs)
    if score == "min":
        return min(xs) if direction == "maximize" else max(xs)
    if any(x < 0 for x in xs):
        raise ValueError(f"score '{score}' needs non-negative values, got {xs}")
    if score == "geometric":
        return 0.0 if any(x == 0 for x in xs) else math.exp(statistics.fmean(math.log(x) for x in xs))
    if score == "harmonic":
        return 0.0 if any(x == 0 for x in xs) else len(xs) / sum(1.0 / x for x in xs)
    raise ValueError(
        f"score {score!r} does not combine into one value (expected {', '.join(COMBINED_SCORES)})"
    )


def objective_label(spec: Mapping[str, object]) -> str | None:
    """What a sweep spec's trial value is (``SweepSpec.model_dump()``, possibly stored by an older
    darts): the metric, or ``score(metric, ...)`` for a ``metrics:`` list."""
    metrics = spec.get("metrics") or []
    if not isinstance(metrics, list | tuple) or not metrics:
        name = spec.get("metric_name")
        return name if isinstance(name, str) else None
    names = ", ".join(str(m["name"] if isinstance(m, Mapping) else m.name) for m in metrics)
    return f"{spec.get('score')}({names})"


def positive_counts(metrics: Mapping[str, float | None]) -> tuple[int | None, int | None]:
    """(positive pixels, positive patches) of a run's validation set, None when not logged."""
    out = []
    for name in (POSITIVE_PIXELS, POSITIVE_PATCHES):
        value = metrics.get(metric_key(VAL_PREFIX, name))
        out.append(None if value is None or not math.isfinite(value) else round(value))
    return out[0], out[1]


def trivial_value(metric_name: str) -> float | None:
    """The value of a model that predicts nothing (see :data:`TRIVIAL_VALUES`), or None."""
    return TRIVIAL_VALUES.get(base_name(metric_name))


def stuck_at_trivial(metric_name: str, values: Sequence[float]) -> bool:
    """True when every value is the metric's trivial value (a model that predicts no RTS anywhere)."""
    trivial = trivial_value(metric_name)
    return (
        trivial is not None and bool(values) and all(abs(v - trivial) <= _TRIVIAL_TOLERANCE for v in values)
    )


class Objectives(BaseModel):
    """The objective part of a sweep file: wandb's ``metric`` and the darts ``metrics:`` / ``score:``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric_name: str
    direction: Goal
    metrics: tuple[MetricGoal, ...] = ()
    score: ScoreKind | None = None


def parse_objectives(raw: Mapping[str, object], source: str) -> Objectives:
    """Validate ``metric``, ``metrics`` and ``score`` of a sweep file (raises ValueError naming the key)."""
    metrics_raw, score = raw.get("metrics"), raw.get("score")
    if metrics_raw is None:
        if score is not None:
            raise ValueError(f"{source}: 'score' combines the 'metrics' list, but the file has no 'metrics'")
        name, goal = _parse_metric(raw.get("metric"), source, "metric")
        return Objectives(metric_name=name, direction=goal)
    if not isinstance(metrics_raw, list) or not metrics_raw:
        raise ValueError(f"{source}: 'metrics' must be a non-empty list of {{name, goal}} mappings")
    metrics = tuple(
        MetricGoal(name=name, goal=goal)
        for name, goal in (_parse_metric(m, source, f"metrics[{i}]") for i, m in enumerate(metrics_raw))
    )
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise ValueError(f"{source}: 'metrics' lists a metric twice: {names}")
    if score not in SCORES:
        raise ValueError(
            f"{source}: 'metrics' needs 'score', one of {', '.join(SCORES)} (how the metrics make the "
            f"trial value), got {score!r}"
        )
    metric = raw.get("metric")
    if metric is not None:  # wandb's own key: kept, and must agree with the list
        name, goal = _parse_metric(metric, source, "metric")
        if MetricGoal(name=name, goal=goal) not in metrics:
            raise ValueError(
                f"{source}: 'metric' {name} ({goal}) is not one of 'metrics' {names}; list it there with "
                "the same goal, or leave 'metric' out"
            )
    if score == "pareto":
        if len(metrics) < 2:
            raise ValueError(f"{source}: score 'pareto' needs at least 2 metrics, got {len(metrics)}")
        return Objectives(
            metric_name=metrics[0].name, direction=metrics[0].goal, metrics=metrics, score="pareto"
        )
    direction = combined_direction(metrics, str(score), source)
    return Objectives(metric_name=metrics[0].name, direction=direction, metrics=metrics, score=score)


def _parse_metric(metric: object, source: str, key: str) -> tuple[str, Goal]:
    if not isinstance(metric, Mapping) or not isinstance(metric.get("name"), str) or not metric["name"]:
        raise ValueError(f"{source}: '{key}' must be a mapping with a 'name' (e.g. val0/JaccardIndex)")
    unknown = set(metric) - {"name", "goal"}
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {sorted(unknown)} in '{key}' (expected name, goal)")
    goal = metric.get("goal", "minimize")
    if goal not in ("maximize", "minimize"):
        raise ValueError(f"{source}: {key}.goal must be maximize or minimize, got {goal!r}")
    return metric["name"], goal
