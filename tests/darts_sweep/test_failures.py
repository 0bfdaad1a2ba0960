"""Sweeps that cannot work are refused before the first trial; failed and stopped runners say so."""

from __future__ import annotations

import signal

import optuna
import pytest

from darts_sweep import SweepConfigError, SweepSpecError, optuna_sweep_smp
from darts_sweep.trial import check_metric_name
from darts_test_support.sweep_processes import (
    RUNNER_TIMING,
    interrupt_during_second_run,
    make_config,
    study_of,
)
from darts_test_support.sweeps import write_sweep_file

TrialState = optuna.trial.TrialState


def test_a_metric_that_training_never_logs_is_refused_before_the_sweep_exists(
    train_data_dir, tmp_path
) -> None:
    sweep = tmp_path / "typo.yaml"
    sweep.write_text(
        "method: random\nmetric: {name: val/JacardIndex, goal: maximize}\n"
        "parameters:\n  learning_rate: {min: 0.0001, max: 0.01}\n"
    )
    config = make_config(train_data_dir, sweep, tmp_path, sweep_id="typo")
    config = config.model_copy(update={"train_fn": type(config).model_fields["train_fn"].default})
    with pytest.raises(
        SweepSpecError, match=r"'val/JacardIndex' .* never logged .* did you mean 'val/JaccardIndex'"
    ):
        optuna_sweep_smp(config)
    assert not (tmp_path / "artifacts" / "typo").exists()  # no study, no trial


@pytest.mark.parametrize(
    "name", ["val/JaccardIndex", "val0/JaccardIndex", "val3/loss", "train/Recall", "val/AUROC"]
)
def test_logged_metric_names_pass(name: str) -> None:
    check_metric_name(name)


def test_fold_metric_typo_suggests_the_same_fold() -> None:
    with pytest.raises(SweepSpecError, match="did you mean 'val1/F1Score'"):
        check_metric_name("val1/F1score")


def test_changed_search_space_is_refused_naming_the_differences(train_data_dir, sweep_file, tmp_path) -> None:
    first = optuna_sweep_smp(make_config(train_data_dir, sweep_file, tmp_path, sweep_device=None))
    changed = write_sweep_file(
        tmp_path / "changed.yaml",
        {
            "learning_rate": {"min": 1e-5, "max": 1e-2, "distribution": "log_uniform_values"},
            "gamma": {"value": 0.9},
            "batch_size": {"values": [4, 8]},
        },
        name="tiny",
    )
    with pytest.raises(SweepConfigError) as info:
        optuna_sweep_smp(make_config(train_data_dir, changed, tmp_path, sweep_id=first.sweep_id, n_trials=1))
    message = str(info.value)
    assert "searched parameter 'batch_size' added" in message
    assert (
        "searched parameter 'learning_rate'" in message and "high: 0.1" in message and "high: 0.01" in message
    )
    assert "fixed parameter 'gamma': 0.97 -> 0.9" in message
    # the unchanged file still resumes
    resumed = optuna_sweep_smp(
        make_config(train_data_dir, sweep_file, tmp_path, sweep_id=first.sweep_id, n_trials=1)
    )
    assert resumed.n_complete == 1


def test_a_runner_whose_every_trial_failed_exits_non_zero(train_data_dir, tmp_path) -> None:
    sweep = tmp_path / "fail.yaml"
    sweep.write_text(
        "method: random\nmetric: {name: val/JaccardIndex, goal: maximize}\n"
        "parameters:\n  model_encoder: {values: [fail, nan]}\n"
    )
    outcome = optuna_sweep_smp(make_config(train_data_dir, sweep, tmp_path, n_trials=2, n_randoms=1))
    assert len(outcome.trials_run) == 2 and sorted(outcome.failed_here) == outcome.trials_run
    assert outcome.exit_code == 1
    ok = tmp_path / "ok.yaml"
    ok.write_text(sweep.read_text().replace("[fail, nan]", "[fail, resnet18]"))
    mixed = optuna_sweep_smp(
        make_config(train_data_dir, ok, tmp_path, n_trials=4, n_randoms=1, sampler_seed=3)
    )
    assert 0 < len(mixed.failed_here) < 4 and mixed.exit_code == 0


@pytest.mark.slow
def test_sigterm_requeues_the_running_trial_like_sigint(train_data_dir, sweep_file, tmp_path) -> None:
    config = make_config(
        train_data_dir, sweep_file, tmp_path, sweep_id="term", n_trials=3, n_folds=3, n_randoms=1,
        train_options={"max_epochs": 20}, **RUNNER_TIMING,
    )  # fmt: skip
    assert interrupt_during_second_run(config, tmp_path, "terminated", signal.SIGTERM) == 143
    study = study_of(config, "term")
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.WAITING]
    stopped, queued = study.trials
    assert stopped.user_attrs["fail_reason"] == "interrupted (SIGTERM)"
    assert queued.params == stopped.params and queued.user_attrs["runs"] == stopped.user_attrs["runs"]
