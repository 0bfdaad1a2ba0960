"""Sweeps with `metrics:` + geometric / pareto scores (SQLite, PostgreSQL); honest folds; unstable trials."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import optuna
import pytest

from darts_sweep import SweepConfigError, optuna_sweep_smp, render_report, sweep_report
from darts_sweep.study import storage_url
from darts_test_support.sweep_processes import make_config

TrialState = optuna.trial.TrialState
IOU = {"name": "val0/JaccardIndex", "goal": "maximize"}
F1 = {"name": "val0/F1Score", "goal": "maximize"}
LOSS = {"name": "val0/loss", "goal": "minimize"}


def write_sweep(path: Path, score: str, metrics: list[dict[str, str]], **parameters: Any) -> Path:
    import yaml

    params = {"learning_rate": {"min": 1e-4, "max": 1e-2, "distribution": "log_uniform_values"}, **parameters}
    body = {
        "method": "random",
        "metric": metrics[0],
        "metrics": metrics,
        "score": score,
        "parameters": params,
    }
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def db(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return str(tmp_path / "sweep.db") if kind == "sqlite" else request.getfixturevalue("postgres_url")


def load(outcome: Any, config: Any) -> optuna.Study:
    url = storage_url(config.sweep_db, config.artifact_dir, outcome.sweep_id)
    return optuna.load_study(study_name=outcome.sweep_id, storage=url)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_geometric_score_sweep(kind: str, train_data_dir: Path, tmp_path: Path, request) -> None:
    sweep = write_sweep(tmp_path / "sweep.yaml", "geometric", [IOU, F1])
    config = make_config(train_data_dir, sweep, tmp_path, sweep_db=db(kind, tmp_path, request), n_randoms=1)
    outcome = optuna_sweep_smp(config)
    assert outcome.n_complete == 2 and outcome.best_trial is not None
    for trial in load(outcome, config).trials:
        runs = trial.user_attrs["runs"]
        assert [r["fold"] for r in runs] == [0, 1]
        iou = statistics.fmean(r["values"]["val0/JaccardIndex"] for r in runs)
        f1 = statistics.fmean(r["values"]["val0/F1Score"] for r in runs)
        assert trial.value == pytest.approx(math.sqrt(iou * f1))
        assert trial.user_attrs["metric_means"] == pytest.approx(
            {"val0/JaccardIndex": iou, "val0/F1Score": f1}
        )
        assert trial.user_attrs["n_folds_used"] == 2
        assert [f["positive_pixels"] for f in trial.user_attrs["fold_scores"]] == [[100], [100]]
    report = sweep_report(
        config.sweep_db, outcome.sweep_id, tmp_path / "report", config.artifact_dir, plots=False
    )
    assert report.metric == "geometric(val0/JaccardIndex, val0/F1Score)" and report.best is not None


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_pareto_sweep(kind: str, train_data_dir: Path, tmp_path: Path, request) -> None:
    sweep = write_sweep(tmp_path / "sweep.yaml", "pareto", [IOU, LOSS])
    storage = db(kind, tmp_path, request)
    config = make_config(train_data_dir, sweep, tmp_path, sweep_db=storage, n_randoms=1, sweep_id="front")
    outcome = optuna_sweep_smp(config)
    assert outcome.n_complete == 2 and outcome.best_trial is None and outcome.best_value is None
    study = load(outcome, config)
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert outcome.pareto_trials == sorted(t.number for t in study.best_trials) and outcome.pareto_trials
    for trial in study.trials:
        means = trial.user_attrs["metric_means"]
        assert trial.values == pytest.approx([means["val0/JaccardIndex"], means["val0/loss"]])
    report = sweep_report(storage, "front", tmp_path / "report", config.artifact_dir)
    assert report.best is None and report.direction == "multi-objective"
    assert report.directions == ["maximize", "minimize"]
    assert {row.state for row in report.trials} == {"COMPLETE"}
    text = render_report(report)
    assert "maximize, minimize pareto(val0/JaccardIndex, val0/loss)" in text and "best:" not in text
    # the existing-study check refuses other directions, and pruning a multi-objective study
    other = write_sweep(tmp_path / "other.yaml", "pareto", [IOU, {**LOSS, "goal": "maximize"}])
    with pytest.raises(SweepConfigError, match="optimises metrics="):
        optuna_sweep_smp(make_config(train_data_dir, other, tmp_path, sweep_db=storage, sweep_id="front"))
    with pytest.raises(SweepConfigError, match="cannot prune"):
        optuna_sweep_smp(make_config(train_data_dir, sweep, tmp_path, sweep_db=storage, prune=True))


def test_a_positive_free_fold_is_left_out_of_the_aggregate(train_data_dir: Path, tmp_path: Path) -> None:
    (train_data_dir / "fake_positives.json").write_text(json.dumps({"1": 0}))
    sweep = write_sweep(tmp_path / "sweep.yaml", "arithmetic", [IOU, F1])
    config = make_config(train_data_dir, sweep, tmp_path, n_trials=1, prune=True, prune_startup_trials=0)
    outcome = optuna_sweep_smp(config)
    assert outcome.n_complete == 1
    trial = load(outcome, config).trials[0]
    defined = [r for r in trial.user_attrs["runs"] if r["fold"] == 0]
    assert [r["values"] for r in trial.user_attrs["runs"] if r["fold"] == 1] == [
        {"val0/JaccardIndex": None, "val0/F1Score": None}
    ] * 2
    iou = statistics.fmean(r["values"]["val0/JaccardIndex"] for r in defined)
    f1 = statistics.fmean(r["values"]["val0/F1Score"] for r in defined)
    assert trial.value == pytest.approx((iou + f1) / 2)  # not dragged towards 0 by fold 1
    assert trial.user_attrs["n_folds_used"] == 1
    assert trial.user_attrs["folds_used"] == {"val0/JaccardIndex": [0], "val0/F1Score": [0]}
    folds = trial.user_attrs["fold_scores"]
    assert [f["positive_pixels"] for f in folds] == [[100, 100], [0, 0]]
    assert folds[1]["values"] == {"val0/JaccardIndex": None, "val0/F1Score": None}
    assert trial.intermediate_values.keys() == {0}  # the pruner hears only the defined fold


@pytest.mark.parametrize(
    ("encoder", "reason"),
    [("blank", "val0/JaccardIndex is 0.0 (its trivial value) in all 4 defined runs"), ("nan", "is nan on a")],
)
def test_unstable_trials_fail_with_the_reason_and_give_the_sampler_no_value(
    encoder: str, reason: str, train_data_dir: Path, tmp_path: Path
) -> None:
    from darts_test_support.sweeps import write_sweep_file

    sweep = write_sweep_file(tmp_path / "sweep.yaml", {"model_encoder": {"value": encoder}}, method="bayes")
    config = make_config(train_data_dir, sweep, tmp_path, n_trials=1)
    outcome = optuna_sweep_smp(config)
    assert outcome.n_complete == 0 and outcome.failed_here == [0] and outcome.best_trial is None
    study = load(outcome, config)
    trial = study.trials[0]
    assert trial.state == TrialState.FAIL and trial.values is None
    # TPE learns from COMPLETE and PRUNED trials only (and the median pruner from COMPLETE ones)
    assert study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED)) == []
    assert reason in trial.user_attrs["unstable_reason"]
    assert trial.user_attrs["fail_reason"].startswith("unstable: ")


def test_a_sweep_stored_before_metrics_lists_resumes(
    train_data_dir: Path, sweep_file: Path, tmp_path: Path
) -> None:
    from darts_sweep.study import STUDY_ATTR_SPEC

    config = make_config(train_data_dir, sweep_file, tmp_path, sweep_device=None)
    outcome = optuna_sweep_smp(config)
    old = outcome.sweep_id
    study = load(outcome, config)
    old_spec = {k: v for k, v in study.user_attrs[STUDY_ATTR_SPEC].items() if k not in ("metrics", "score")}
    study.set_user_attr(STUDY_ATTR_SPEC, old_spec)  # as an older darts stored it
    resumed = optuna_sweep_smp(make_config(train_data_dir, sweep_file, tmp_path, sweep_id=old, n_trials=1))
    assert resumed.n_complete == 1 and not resumed.created
    geometric = write_sweep(tmp_path / "geo.yaml", "geometric", [IOU, F1])
    with pytest.raises(SweepConfigError, match="optimises metrics=\\[\\]"):
        optuna_sweep_smp(make_config(train_data_dir, geometric, tmp_path, sweep_id=old))
