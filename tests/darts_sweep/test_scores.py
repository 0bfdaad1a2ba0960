"""Sweep files with a metrics list and a score; combining, defined folds and unstable trials."""

from __future__ import annotations

import math
from typing import Any

import pytest

from darts_sweep import SweepSpecError, parse_sweep_dict
from darts_sweep.aggregate import UnstableTrialError, aggregate, run_value
from darts_sweep.scoring import MetricGoal, combine, objective_label
from darts_sweep.trial import check_metric_names

PARAMS = {"learning_rate": {"min": 1e-4, "max": 1e-2}}
IOU = {"name": "val0/JaccardIndex", "goal": "maximize"}
F1 = {"name": "val0/F1Score", "goal": "maximize"}


def spec(**top: Any):
    return parse_sweep_dict(
        {"method": "random", "parameters": PARAMS, **top}, known_options={"learning_rate"}
    )


def test_the_guide_style_single_metric_is_unchanged() -> None:
    parsed = spec(metric=IOU)
    assert parsed.metrics == () and parsed.score is None and parsed.directions == ["maximize"]
    assert [m.name for m in parsed.objective_metrics] == ["val0/JaccardIndex"]


def test_metrics_with_a_geometric_score() -> None:
    parsed = spec(metric=IOU, metrics=[IOU, F1], score="geometric")
    assert parsed.score == "geometric" and parsed.direction == "maximize" and not parsed.is_pareto
    assert objective_label(parsed.model_dump(mode="json")) == "geometric(val0/JaccardIndex, val0/F1Score)"
    assert (
        objective_label({"metric_name": "val/loss", "direction": "minimize"}) == "val/loss"
    )  # a stored spec


def test_pareto_has_one_direction_per_metric() -> None:
    loss = {"name": "val0/loss", "goal": "minimize"}
    parsed = spec(metrics=[IOU, loss], score="pareto")
    assert parsed.is_pareto and parsed.directions == ["maximize", "minimize"]


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ({"metric": IOU, "score": "geometric"}, "'score' combines the 'metrics' list"),
        ({"metrics": [IOU, F1]}, "'metrics' needs 'score', one of arithmetic, geometric"),
        ({"metrics": [IOU, F1], "score": "median"}, "got 'median'"),
        ({"metrics": [], "score": "min"}, "non-empty list"),
        ({"metrics": [IOU, IOU], "score": "min"}, "lists a metric twice"),
        ({"metrics": [IOU], "score": "pareto"}, "pareto' needs at least 2 metrics"),
        (
            {"metric": {"name": "val0/Recall"}, "metrics": [IOU, F1], "score": "min"},
            "is not one of 'metrics'",
        ),
        ({"metrics": [IOU, {"name": "val0/loss"}], "score": "arithmetic"}, "'val0/loss' is not bounded"),
        (
            {"metrics": [IOU, {"name": "val0/CohenKappa", "goal": "maximize"}], "score": "harmonic"},
            "negative",
        ),
        ({"metrics": [IOU, {"name": "x", "goal": "up"}], "score": "min"}, "metrics\\[1\\].goal must be"),
    ],
)
def test_bad_objectives_are_refused_naming_the_key(top: dict[str, Any], message: str) -> None:
    with pytest.raises(SweepSpecError, match=message):
        spec(**top)


def test_every_metric_name_is_checked_against_the_logged_keys() -> None:
    check_metric_names(spec(metrics=[IOU, F1, {"name": "val/loss"}], score="pareto"))
    with pytest.raises(SweepSpecError, match=r"'val0/F1' of the sweep file is never logged.*val0/F1Score"):
        check_metric_names(spec(metrics=[IOU, {"name": "val0/F1", "goal": "maximize"}], score="min"))


def test_combining_scores() -> None:
    up = [
        MetricGoal(name="val/JaccardIndex", goal="maximize"),
        MetricGoal(name="val/F1Score", goal="maximize"),
    ]
    assert combine([0.25, 1.0], up, "arithmetic", "maximize") == pytest.approx(0.625)
    assert combine([0.25, 1.0], up, "geometric", "maximize") == pytest.approx(0.5)
    assert combine([0.25, 1.0], up, "harmonic", "maximize") == pytest.approx(0.4)
    assert combine([0.25, 1.0], up, "min", "maximize") == 0.25
    assert combine([0.0, 1.0], up, "geometric", "maximize") == 0.0
    down = [MetricGoal(name="val/loss"), MetricGoal(name="val/HammingDistance")]
    assert combine([0.3, 0.1], down, "min", "minimize") == 0.3  # the worst of two minimised metrics
    mixed = [up[0], MetricGoal(name="val/HammingDistance")]  # a minimised [0, 1] metric counts as 1 - value
    assert combine([0.5, 0.2], mixed, "arithmetic", "maximize") == pytest.approx(0.65)


def _run(fold: int, iou: float | None, f1: float | None, pixels: int | None = 10) -> dict[str, Any]:
    values = {"val0/JaccardIndex": iou, "val0/F1Score": f1}
    return {"fold": fold, "random": 0, "values": values, "positive_pixels": pixels, "positive_patches": 1}


METRICS = (
    MetricGoal(name="val0/JaccardIndex", goal="maximize"),
    MetricGoal(name="val0/F1Score", goal="maximize"),
)


def test_aggregate_uses_defined_folds_only() -> None:
    runs = [_run(0, 0.2, 0.4), _run(1, None, None, pixels=0), _run(2, 0.4, 0.6)]
    result = aggregate(runs, METRICS, "geometric", "maximize", n_folds=3)
    assert result.metric_means == pytest.approx({"val0/JaccardIndex": 0.3, "val0/F1Score": 0.5})
    assert result.values == [pytest.approx(math.sqrt(0.3 * 0.5))]
    assert (
        result.folds_used == {"val0/JaccardIndex": [0, 2], "val0/F1Score": [0, 2]}
        and result.n_folds_used == 2
    )
    assert result.fold_scores[1]["values"] == {"val0/JaccardIndex": None, "val0/F1Score": None}
    assert result.fold_scores[1]["positive_pixels"] == [0]


def test_a_nan_value_is_undefined_without_rts_and_unstable_with_it() -> None:
    assert run_value("val0/JaccardIndex", math.nan, positive_pixels=0, run_id="r") is None
    with pytest.raises(UnstableTrialError, match="val0/JaccardIndex is nan on a validation fold with 12 RTS"):
        run_value("val0/JaccardIndex", math.nan, positive_pixels=12, run_id="r")
    with pytest.raises(UnstableTrialError, match="val/loss is inf"):  # the loss is defined everywhere
        run_value("val/loss", math.inf, positive_pixels=0, run_id="r")
    assert run_value("val/Accuracy", 0.9, positive_pixels=0, run_id="r") == 0.9


def test_trivial_and_undefined_trials_are_unstable() -> None:
    with pytest.raises(
        UnstableTrialError, match=r"JaccardIndex is 0\.0 \(its trivial value\) in all 2 defined runs"
    ):
        aggregate([_run(0, 0.0, 0.0), _run(1, 0.0, 0.0)], METRICS, "min", "maximize", n_folds=2)
    with pytest.raises(UnstableTrialError, match="undefined on every fold"):
        aggregate([_run(0, None, None, 0), _run(1, None, None, 0)], METRICS, "min", "maximize", n_folds=2)
    # one fold at 0 and one above is a real (bad) value, not a blank model
    result = aggregate([_run(0, 0.0, 0.0), _run(1, 0.2, 0.3)], METRICS, "min", "maximize", n_folds=2)
    assert result.values == [pytest.approx(0.1)]
