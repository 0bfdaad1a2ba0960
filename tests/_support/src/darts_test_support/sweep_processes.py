"""Sweep runner configs and runner processes for the sweep tests (fake training, SQLite by default)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from darts_sweep import SweepConfig
from darts_sweep.study import storage_url
from darts_test_support.fake_training import FAKE_TRAIN_FN

TrialState = optuna.trial.TrialState


RUNNER_TIMING: dict[str, object] = {"heartbeat_interval_s": 1, "grace_period_s": 2}
"""Heartbeat and grace of runner-process tests: a killed runner's trial is failed within seconds."""


TINY_REAL_TRAINING: dict[str, object] = {
    "model_arch": "Unet",
    "model_encoder_weights": None,
    "batch_size": 3,
    "max_epochs": 1,
    "plot_every_n_val_epochs": 0,
}
"""Training options shared by the sweep tests' real tiny trainings (untrained Unet, 1 epoch, no plots)."""


def make_config(
    train_data_dir: Path, sweep_file: Path, tmp_path: Path, *, real: bool = False, **kw: object
) -> SweepConfig:
    """A fake-training sweep (2 trials x 2 folds x 2 seeds, 1 epoch, CPU); ``kw`` overrides fields.

    ``train_options`` given in ``kw`` are added to ``max_epochs=1``; pass ``**RUNNER_TIMING`` for a
    runner that other processes watch or kill. ``real=True`` trains for real (the default
    ``train_fn``) with ``train_options`` added to :data:`TINY_REAL_TRAINING`.
    """
    shared = TINY_REAL_TRAINING if real else {"max_epochs": 1}
    options = {**shared, **kw.pop("train_options", {})}  # type: ignore[dict-item]
    base: dict[str, object] = dict(
        train_data_dir=train_data_dir,
        sweep_config=sweep_file,
        artifact_dir=tmp_path / "artifacts",
        n_trials=2,
        n_folds=2,
        n_randoms=2,
        sweep_device="cpu",
        train_options=options,
    )
    if not real:
        base["train_fn"] = FAKE_TRAIN_FN
    return SweepConfig(**{**base, **kw})


def start_runner(config: SweepConfig, tmp_path: Path, name: str) -> subprocess.Popen:
    config_file = tmp_path / f"{name}.json"
    config_file.write_text(config.model_dump_json())
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "darts_test_support.sweep_runner",
            str(config_file),
            str(tmp_path / f"{name}.out.json"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait(process: subprocess.Popen, tmp_path: Path, name: str, timeout: float = 150) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"runner {name} hung:\n{(tmp_path / f'{name}.log').read_text()[-3000:]}")


def study_of(config: SweepConfig, sweep_id: str) -> optuna.Study:
    url = storage_url(config.sweep_db, config.artifact_dir, sweep_id)
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        url = optuna.storages.JournalStorage(JournalFileBackend(url.removeprefix("journal:")))
    return optuna.load_study(study_name=sweep_id, storage=url)


def running_runs(config: SweepConfig, sweep_id: str) -> int:
    try:
        study = study_of(config, sweep_id)
    except Exception:  # the runner has not created the storage or the study yet
        return 0
    running = study.get_trials(states=(TrialState.RUNNING,))
    return len(running[0].user_attrs.get("runs", [])) if running else 0


def interrupt_during_second_run(config: SweepConfig, tmp_path: Path, name: str, signum: int) -> int:
    """Start a runner of ``config``, send it ``signum`` once its first trial has one finished run
    (the second is training), and return the runner's exit code."""
    import time

    runner = start_runner(config, tmp_path, name)
    deadline = time.monotonic() + 120
    while running_runs(config, config.sweep_id) < 1:
        assert runner.poll() is None and time.monotonic() < deadline, (tmp_path / f"{name}.log").read_text()
        time.sleep(0.2)
    runner.send_signal(signum)
    return wait(runner, tmp_path, name, timeout=60)
