"""sweep_report on a real sweep (fake trainings): best trial, table, importances, plots, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from darts_sweep import SweepStorageError, optuna_sweep_smp, sweep_report
from darts_sweep.report import render_report
from darts_test_support.sweep_processes import make_config
from darts_test_support.sweeps import write_sweep_file


def run_sweep(train_data_dir: Path, sweep_file: Path, tmp_path: Path, n_trials: int, **kw: object) -> str:
    config = make_config(train_data_dir, sweep_file, tmp_path, n_trials=n_trials, n_randoms=1, **kw)
    return optuna_sweep_smp(config).sweep_id


def test_report_with_several_trials(train_data_dir, tmp_path) -> None:
    parameters = {
        "learning_rate": {"min": 1e-6, "max": 1e-1, "distribution": "log_uniform_values"},
        "batch_size": {"values": [2, 4]},
        "model_encoder": {"values": ["resnet18", "fail"]},
        "gamma": {"value": 0.95},
    }
    sweep = write_sweep_file(tmp_path / "two.yaml", parameters)
    sweep_id = run_sweep(train_data_dir, sweep, tmp_path, n_trials=4)
    out = tmp_path / "report"
    report = sweep_report(None, sweep_id, out, artifact_dir=tmp_path / "artifacts")
    assert sum(report.state_counts.values()) == 4
    complete = [row for row in report.trials if row.state == "COMPLETE"]
    assert report.best is not None and report.best.mean == max(row.mean for row in complete)
    assert report.best.fixed_params == {"gamma": 0.95} and len(report.best_run_ids) == 2
    assert all("gamma" not in row.params for row in report.trials)  # fixed, not searched
    failed = [row for row in report.trials if row.state == "FAIL"]
    assert all("simulated" in row.fail_reason for row in failed)
    assert all(row.params["model_encoder"] == "fail" for row in failed)
    if len(complete) >= 2:
        assert (
            set(report.importances) <= {"learning_rate", "batch_size", "model_encoder"} and report.importances
        )
        assert "param_importances.png" in report.plots
    assert {"optimization_history.png", "parallel_coordinate.png"} <= set(report.plots)
    for name in report.plots:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "report.json").read_text())["sweep_id"] == sweep_id
    csv_lines = (out / "trials.csv").read_text().splitlines()
    assert len(csv_lines) == 5 and "fixed:gamma" in csv_lines[0].split(",")
    text = render_report(report)
    assert f"best: trial {report.best.number}" in text and "±" in text
    assert "fixed (not searched): gamma=0.95" in text
    assert json.loads(render_report(report, "json"))["best"]["number"] == report.best.number


def test_report_with_one_trial_has_no_importances(train_data_dir, sweep_file, tmp_path) -> None:
    sweep_id = run_sweep(train_data_dir, sweep_file, tmp_path, n_trials=1)
    report = sweep_report(None, sweep_id, tmp_path / "r1", artifact_dir=tmp_path / "artifacts")
    assert report.importances == {} and "at least 2 complete trials" in report.importance_note
    assert "param_importances.png" not in report.plots and "optimization_history.png" in report.plots
    assert "parameter importances: need at least 2" in render_report(report)


def test_report_errors(train_data_dir, sweep_file, tmp_path) -> None:
    with pytest.raises(SweepStorageError, match="does not exist"):
        sweep_report(None, "nope", tmp_path / "r", artifact_dir=tmp_path / "artifacts")
    sweep_id = run_sweep(train_data_dir, sweep_file, tmp_path, n_trials=1, sweep_id="known")
    db = tmp_path / "artifacts" / sweep_id / "sweep.db"
    with pytest.raises(SweepStorageError, match="holds no sweep 'other' \\(it holds: known\\)"):
        sweep_report(str(db), "other", tmp_path / "r")


def test_password_is_masked() -> None:
    from darts_sweep.study import mask_url, storage_url

    url = storage_url("postgresql://user:s3cret@127.0.0.1:1/db", Path("."), "x")
    assert url.startswith("postgresql+psycopg://") and "s3cret" not in mask_url(url)
    with pytest.raises(SweepStorageError) as info:
        from darts_sweep.study import open_storage

        open_storage(url, 60, 120)
    assert "s3cret" not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize(
    ("sweep_db", "expected"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql+psycopg://u:pw@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
        ("/tmp/sweeps.sqlite", "sqlite:////tmp/sweeps.sqlite"),
        ("/tmp/sweeps.journal", "journal:/tmp/sweeps.journal"),
        (None, "sqlite:///{tmp}/art/s1/sweep.db"),
    ],
)
def test_storage_urls(sweep_db, expected, tmp_path) -> None:
    from darts_sweep.study import storage_url

    assert storage_url(sweep_db, tmp_path / "art", "s1") == expected.format(tmp=tmp_path)


@pytest.mark.parametrize(
    "sweep_db", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"]
)
def test_in_memory_urls_are_refused(sweep_db) -> None:
    from darts_sweep import SweepConfigError
    from darts_sweep.study import storage_url

    with pytest.raises(SweepConfigError, match="in-memory"):
        storage_url(sweep_db, Path("."), "s1")


def test_report_fails_a_trial_left_running_by_a_gone_runner(train_data_dir, sweep_file, tmp_path) -> None:
    import optuna

    from darts_sweep.stale import RUNNER_ATTR, runner_identity
    from darts_sweep.study import storage_url

    sweep_id = run_sweep(train_data_dir, sweep_file, tmp_path, n_trials=1)
    artifacts = tmp_path / "artifacts"
    study = optuna.load_study(study_name=sweep_id, storage=storage_url(None, artifacts, sweep_id))
    orphan = study.ask({"learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True)})
    gone = {**runner_identity(grace_s=600), "start": "0"}  # this PID with another start time: exited
    study._storage.set_trial_system_attr(orphan._trial_id, RUNNER_ATTR, gone)
    report = sweep_report(None, sweep_id, tmp_path / "report", artifact_dir=artifacts, plots=False)
    assert [row.state for row in report.trials] == ["COMPLETE", "FAIL", "WAITING"]
    assert "runner lost" in report.trials[1].fail_reason
