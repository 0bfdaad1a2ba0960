"""Runner processes sharing a study: PostgreSQL and SQLite, two runners, SIGKILL + restart, SIGINT."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import optuna
import pytest

from darts_sweep import optuna_sweep_smp
from darts_test_support.sweep_processes import (
    RUNNER_TIMING,
    interrupt_during_second_run,
    make_config,
    running_runs,
    start_runner,
    study_of,
    wait,
)

TrialState = optuna.trial.TrialState
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def test_two_runners_on_one_study(backend, request, train_data_dir, sweep_file, tmp_path) -> None:
    sweep_db = None  # sqlite: the default file under the artifact dir
    if backend == "postgres":  # with a password (trust auth accepts any): it must never show
        sweep_db = request.getfixturevalue("postgres_url").replace("postgres@", "postgres:s3cret-pw@", 1)
    created = optuna_sweep_smp(
        make_config(
            train_data_dir,
            sweep_file,
            tmp_path,
            sweep_db=sweep_db,
            sweep_device=None,
            n_randoms=1,
            **RUNNER_TIMING,
        )
    )
    assert "s3cret-pw" not in created.storage + created.runner_command
    if backend == "postgres":
        assert "postgres:***@" in created.storage and "postgres:***@" in created.runner_command
    config = make_config(
        train_data_dir,
        sweep_file,
        tmp_path,
        sweep_db=sweep_db,
        sweep_id=created.sweep_id,
        n_randoms=1,
        **RUNNER_TIMING,
    )
    runners = [start_runner(config, tmp_path, f"runner{i}") for i in range(2)]
    codes = [wait(p, tmp_path, f"runner{i}") for i, p in enumerate(runners)]
    assert codes == [0, 0], [(tmp_path / f"runner{i}.log").read_text()[-2000:] for i in range(2)]
    outcomes = [json.loads((tmp_path / f"runner{i}.out.json").read_text()) for i in range(2)]
    for i in range(2):  # the password is never logged
        assert "s3cret-pw" not in (tmp_path / f"runner{i}.log").read_text() + json.dumps(outcomes[i])
    numbers = outcomes[0]["trials_run"] + outcomes[1]["trials_run"]
    assert sorted(numbers) == [0, 1, 2, 3]  # distinct trials
    study = study_of(config, created.sweep_id)
    assert all(t.state == TrialState.COMPLETE for t in study.trials) and len(study.trials) == 4
    sweep_dir = config.artifact_dir / created.sweep_id
    trial_dirs = sorted(p.name for p in sweep_dir.iterdir() if p.is_dir())
    assert trial_dirs == [f"trial-{n:04d}" for n in range(4)]
    lines = (sweep_dir / "trainings.log").read_text().splitlines()
    keys = Counter(tuple(line.split()[:3]) for line in lines)
    assert len(lines) == 8 and max(keys.values()) == 1  # every (trial, fold, seed) trained once
    assert sum(len(list((sweep_dir / d).iterdir())) for d in trial_dirs) == 8


@pytest.mark.parametrize("backend", ["postgres", "sqlite", "journal"])
def test_sigkilled_runner_restarts_and_reuses_finished_runs(
    backend, request, train_data_dir, sweep_file, tmp_path
) -> None:
    sweep_db = {
        "postgres": lambda: request.getfixturevalue("postgres_url"),
        "sqlite": lambda: None,
        "journal": lambda: str(tmp_path / "sweep.journal"),
    }[backend]()
    config = make_config(
        train_data_dir,
        sweep_file,
        tmp_path,
        sweep_db=sweep_db,
        sweep_id="killme",
        n_trials=1,
        n_folds=2,
        n_randoms=2,
        train_options={"max_epochs": 5},
        **RUNNER_TIMING,
    )
    runner = start_runner(config, tmp_path, "victim")
    deadline = time.monotonic() + 120
    while running_runs(config, "killme") < 2:
        assert runner.poll() is None, (tmp_path / "victim.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the victim runner recorded no runs in time"
        time.sleep(0.2)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    assert study_of(config, "killme").trials[0].state == TrialState.RUNNING
    # Restarted at once, with a heartbeat grace period far longer than the test: the restarted runner
    # must see that the killed runner of this host is gone, not wait for the heartbeat to go stale.
    patient = config.model_copy(update={"heartbeat_interval_s": 300, "grace_period_s": 600})
    restarted = start_runner(patient, tmp_path, "restarted")
    assert wait(restarted, tmp_path, "restarted") == 0, (tmp_path / "restarted.log").read_text()[-3000:]
    study = study_of(config, "killme")
    states = [t.state for t in study.trials]
    assert states == [TrialState.FAIL, TrialState.COMPLETE]  # none RUNNING or WAITING
    assert "runner lost" in study.trials[0].user_attrs["fail_reason"]
    assert "fail_reason" not in study.trials[1].user_attrs
    retried = study.trials[1]
    assert retried.params == study.trials[0].params
    runs = retried.user_attrs["runs"]
    assert len(runs) == 4 and sorted((r["fold"], r["random"]) for r in runs) == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    reused = [r for r in runs if r["trial"] == 0]
    assert len(reused) >= 2
    lines = (config.artifact_dir / "killme" / "trainings.log").read_text().splitlines()
    assert sum(line.startswith("trial-0001 ") for line in lines) == 4 - len(reused)


def test_sigint_marks_the_current_trial_and_the_next_runner_reuses_its_runs(
    train_data_dir, sweep_file, tmp_path
) -> None:
    config = make_config(
        train_data_dir,
        sweep_file,
        tmp_path,
        sweep_id="ctrl-c",
        n_trials=3,
        n_folds=3,
        n_randoms=1,
        train_options={"max_epochs": 20},
        **RUNNER_TIMING,
    )
    assert interrupt_during_second_run(config, tmp_path, "interrupted", signal.SIGINT) == 130
    study = study_of(config, "ctrl-c")
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.WAITING]
    interrupted, queued = study.trials
    assert interrupted.user_attrs["fail_reason"] == "interrupted (SIGINT)"
    assert queued.params == interrupted.params and queued.user_attrs["runs"] == interrupted.user_attrs["runs"]
    finished = len(interrupted.user_attrs["runs"])
    assert finished in (1, 2)

    restarted = start_runner(config.model_copy(update={"n_trials": 1}), tmp_path, "restarted")
    assert wait(restarted, tmp_path, "restarted") == 0, (tmp_path / "restarted.log").read_text()[-3000:]
    study = study_of(config, "ctrl-c")
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE]
    runs = study.trials[1].user_attrs["runs"]
    assert sorted(r["fold"] for r in runs) == [0, 1, 2]
    assert sum(r["trial"] == 0 for r in runs) == finished
    lines = (config.artifact_dir / "ctrl-c" / "trainings.log").read_text().splitlines()
    assert sum(line.startswith("trial-0001 ") for line in lines) == 3 - finished
