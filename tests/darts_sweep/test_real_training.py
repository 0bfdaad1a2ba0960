"""A sweep of real tiny trainings through darts_train.train_smp (64 px, resnet18, 1 epoch, CPU)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from darts_sweep import optuna_sweep_smp
from darts_test_support.sweep_processes import make_config
from darts_test_support.sweeps import write_sweep_file
from darts_test_support.trainsets import write_tiny_training_set

pytestmark = pytest.mark.slow


def test_sweep_of_real_tiny_trainings(tiny_train_data: Path, tmp_path: Path) -> None:
    parameters = {
        "learning_rate": {"min": 1e-4, "max": 1e-2, "distribution": "log_uniform_values"},
        "model_encoder": {"value": "resnet18"},
    }
    sweep = write_sweep_file(tmp_path / "sweep.yaml", parameters, method="bayes")
    config = make_config(
        tiny_train_data,
        sweep,
        tmp_path,
        real=True,
        n_trials=1,
        n_randoms=1,
        sweep_id="real",
        train_options={"check_val_every_n_epoch": 1, "log_every_n_steps": 1, "early_stopping_patience": 0},
    )
    outcome = optuna_sweep_smp(config)
    assert outcome.n_complete == 1, outcome
    trial = optuna.load_study(study_name="real", storage=outcome.storage).trials[0]
    runs = trial.user_attrs["runs"]
    assert [(r["fold"], r["seed"]) for r in runs] == [(0, 42), (1, 42)]
    for run in runs:
        run_dir = Path(run["run_dir"])
        assert run_dir.parent == tmp_path / "artifacts" / "real" / "trial-0000"
        assert run_dir.name == f"{run['run_name']}-{run['run_id']}"
        assert Path(run["best_checkpoint"]).is_file()
        assert 0.0 <= run["score"] <= 1.0
    assert trial.value == pytest.approx(sum(r["score"] for r in runs) / 2)
    assert trial.user_attrs["fixed_params"] == {"model_encoder": "resnet18"}


def test_a_nan_training_set_fails_the_trial_with_the_reason(tmp_path: Path) -> None:
    import math

    import zarr

    data = write_tiny_training_set(tmp_path / "nan_data")
    x = zarr.open_group(data / "cross-val.zarr", mode="r+")["x"]
    patch = x[2]
    patch[0, 0, :5] = math.nan
    x[2] = patch
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "method: random\nmetric: {name: val0/JaccardIndex, goal: maximize}\n"
        "parameters:\n  learning_rate: {value: 0.001}\n  model_encoder: {value: resnet18}\n"
    )
    config = make_config(data, sweep, tmp_path, real=True, n_trials=1, n_randoms=1, sweep_id="nan")
    outcome = optuna_sweep_smp(config)
    assert outcome.n_complete == 0 and outcome.failed_here == [0] and outcome.exit_code == 1
    trial = optuna.load_study(study_name="nan", storage=outcome.storage).trials[0]
    assert trial.state == optuna.trial.TrialState.FAIL
    reason = trial.user_attrs["fail_reason"]
    assert "NonFiniteError" in reason and "5 non-finite input values" in reason and "patch 2: 5" in reason


def test_real_trainings_with_a_geometric_score_of_two_metrics(tiny_train_data: Path, tmp_path: Path) -> None:
    """The real path: train-smp logs both metrics and the positive counts the aggregate records."""
    import math
    import statistics

    import yaml

    metrics = [
        {"name": "val0/AUROC", "goal": "maximize"},
        {"name": "val0/AveragePrecision", "goal": "maximize"},
    ]
    body = {
        "method": "random",
        "metric": metrics[0],
        "metrics": metrics,
        "score": "geometric",
        "parameters": {"learning_rate": {"values": [1e-3, 3e-3]}, "model_encoder": {"value": "resnet18"}},
    }
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump(body), encoding="utf-8")
    config = make_config(
        tiny_train_data,
        sweep,
        tmp_path,
        real=True,
        n_trials=2,
        n_randoms=1,
        sweep_id="geo",
        train_options={"early_stopping_patience": 0},
    )
    outcome = optuna_sweep_smp(config)
    assert outcome.n_complete == 2, outcome
    for trial in optuna.load_study(study_name="geo", storage=outcome.storage).trials:
        runs = trial.user_attrs["runs"]
        assert all(r["positive_pixels"] > 0 and r["positive_patches"] > 0 for r in runs)
        auroc = statistics.fmean(r["values"]["val0/AUROC"] for r in runs)
        ap = statistics.fmean(r["values"]["val0/AveragePrecision"] for r in runs)
        assert trial.value == pytest.approx(math.sqrt(auroc * ap))
        assert trial.user_attrs["n_folds_used"] == 2


def test_a_real_sweep_on_a_set_with_a_positive_free_fold(tmp_path: Path) -> None:
    """validate-train-data warns about the fold; the trial value comes from the other fold only."""
    from darts_dataset import validate_train_data
    from darts_test_support.trainsets import write_sparse_training_set

    data = write_sparse_training_set(tmp_path / "sparse")
    report = validate_train_data(data, n_folds=2, seed=42)
    assert any("hold no positive patch" in w for w in report.warnings), report.warnings
    empty = next(k for k, fold in enumerate(report.folds) if fold.n_positive_patches == 0)
    parameters = {"learning_rate": {"value": 0.001}, "model_encoder": {"value": "resnet18"}}
    sweep = write_sweep_file(tmp_path / "sweep.yaml", parameters, metric="val0/AUROC")
    config = make_config(data, sweep, tmp_path, real=True, n_trials=1, n_randoms=1, sweep_id="sparse")
    outcome = optuna_sweep_smp(config)
    assert outcome.n_complete == 1, outcome
    trial = optuna.load_study(study_name="sparse", storage=outcome.storage).trials[0]
    runs = {r["fold"]: r for r in trial.user_attrs["runs"]}
    assert runs[empty]["values"] == {"val0/AUROC": None} and runs[empty]["positive_pixels"] == 0
    defined = runs[1 - empty]
    assert (
        defined["positive_pixels"] > 0
        and defined["positive_patches"] == report.folds[1 - empty].n_positive_patches
    )
    assert trial.value == pytest.approx(defined["values"]["val0/AUROC"])
    assert trial.user_attrs["n_folds_used"] == 1 and trial.user_attrs["folds_used"] == {
        "val0/AUROC": [1 - empty]
    }
