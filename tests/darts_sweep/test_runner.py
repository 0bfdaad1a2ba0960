"""The sweep runner on SQLite and journal storages, with a small real training function."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import optuna
import pytest

from darts_sweep import SweepConfigError, SweepSpecError, optuna_sweep_smp
from darts_sweep.study import storage_url
from darts_sweep.trial import run_seeds
from darts_test_support.sweep_processes import make_config
from darts_test_support.sweeps import write_sweep_file

TrialState = optuna.trial.TrialState


def load(outcome_storage: str, sweep_id: str) -> optuna.Study:
    return optuna.load_study(study_name=sweep_id, storage=outcome_storage)


def trainings(artifact_dir: Path, sweep_id: str) -> list[str]:
    log = artifact_dir / sweep_id / "trainings.log"
    return log.read_text().splitlines() if log.exists() else []


def test_seeds() -> None:
    assert run_seeds(3) == [42, 21, 69]
    more = run_seeds(6)
    assert more[:3] == [42, 21, 69] and len(set(more)) == 6 and more == run_seeds(6)


def test_sweep_id_without_device_is_an_error(train_data_dir, sweep_file, tmp_path) -> None:
    with pytest.raises(SweepConfigError, match="without a device"):
        optuna_sweep_smp(make_config(train_data_dir, sweep_file, tmp_path, sweep_id="s1", sweep_device=None))


def test_neither_creates_the_sweep_and_runs_nothing(train_data_dir, sweep_file, tmp_path) -> None:
    outcome = optuna_sweep_smp(make_config(train_data_dir, sweep_file, tmp_path, sweep_device=None))
    assert outcome.created and outcome.trials_run == []
    assert f"--sweep-id {outcome.sweep_id}" in outcome.runner_command
    assert "--max-epochs 1 " in outcome.runner_command  # every runner trains alike
    db = tmp_path / "artifacts" / outcome.sweep_id / "sweep.db"
    assert db.is_file()
    study = load(f"sqlite:///{db}", outcome.sweep_id)
    assert study.trials == [] and study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert not (tmp_path / "artifacts" / outcome.sweep_id / "trainings.log").exists()


def test_trials_record_runs_scores_and_fixed_params(train_data_dir, sweep_file, tmp_path) -> None:
    config = make_config(train_data_dir, sweep_file, tmp_path)
    environ = dict(os.environ)
    outcome = optuna_sweep_smp(config)
    assert dict(os.environ) == environ  # WANDB_* and everything else untouched
    assert outcome.trials_run == [0, 1] and outcome.n_complete == 2
    study = load(storage_url(None, config.artifact_dir, outcome.sweep_id), outcome.sweep_id)
    for trial in study.trials:
        attrs = trial.user_attrs
        assert attrs["fixed_params"] == {"gamma": 0.97}
        runs = attrs["runs"]
        assert [(r["fold"], r["seed"]) for r in runs] == [(0, 42), (0, 21), (1, 42), (1, 21)]
        assert trial.value == pytest.approx(statistics.fmean(r["score"] for r in runs))
        assert attrs["score_std"] == pytest.approx(statistics.pstdev(attrs["run_scores"]))
        assert len(set(attrs["run_ids"])) == 4
        for run, ckpt in zip(runs, attrs["checkpoints"], strict=True):
            assert Path(ckpt).is_file()
            assert (
                Path(run["run_dir"]).parent
                == tmp_path / "artifacts" / outcome.sweep_id / f"trial-{trial.number:04d}"
            )
        assert sorted(trial.intermediate_values) == [0, 1]
    # a `value:` parameter is a trial attribute, never among the searched parameters
    assert "gamma" not in outcome.best_params and "learning_rate" in outcome.best_params
    assert outcome.fixed_params == {"gamma": 0.97}
    assert len(trainings(config.artifact_dir, outcome.sweep_id)) == 8


def test_resume_continues_numbering_and_seeded_sampling_differs_per_trial(
    train_data_dir, sweep_file, tmp_path
) -> None:
    first = optuna_sweep_smp(make_config(train_data_dir, sweep_file, tmp_path, n_trials=1, n_randoms=1))
    second = optuna_sweep_smp(
        make_config(train_data_dir, sweep_file, tmp_path, n_trials=1, n_randoms=1, sweep_id=first.sweep_id)
    )
    assert not second.created and second.trials_run == [1]
    study = load(second.storage, first.sweep_id)
    lrs = [t.params["learning_rate"] for t in study.trials]
    assert lrs[0] != lrs[1]
    # the same seed and trial number reproduce the same parameters in another sweep
    again = optuna_sweep_smp(make_config(train_data_dir, sweep_file, tmp_path, n_trials=2, n_randoms=1))
    assert [t.params["learning_rate"] for t in load(again.storage, again.sweep_id).trials] == lrs


def test_failing_training_fails_only_its_trial(train_data_dir, tmp_path) -> None:
    encoders = {"model_encoder": {"values": ["fail", "resnet18", "nan", "crash"]}}
    sweep = write_sweep_file(tmp_path / "enc.yaml", encoders, method="grid", metric="val/JaccardIndex")
    config = make_config(train_data_dir, sweep, tmp_path, n_trials=4, n_folds=2, n_randoms=1, sampler_seed=1)
    outcome = optuna_sweep_smp(config)
    assert len(outcome.trials_run) == 4
    study = load(outcome.storage, outcome.sweep_id)
    by_encoder = {t.params["model_encoder"]: t for t in study.trials}
    assert by_encoder["resnet18"].state == TrialState.COMPLETE
    reasons = {enc: by_encoder[enc].user_attrs.get("fail_reason", "") for enc in ("fail", "nan", "crash")}
    assert all(by_encoder[enc].state == TrialState.FAIL for enc in reasons)
    assert "CUDA out of memory (simulated)" in reasons["fail"]
    assert "nan" in reasons["nan"].lower()
    assert "signal 9" in reasons["crash"]
    assert outcome.best_params == {"model_encoder": "resnet18"}


def test_invalid_training_values_are_rejected_before_any_trial(train_data_dir, tmp_path) -> None:
    alpha = {"focal_loss_alpha": {"min": 0.5, "max": 1.5}}
    sweep = write_sweep_file(tmp_path / "bad.yaml", alpha, metric="val/JaccardIndex")
    with pytest.raises(SweepSpecError, match=r"focal_loss_alpha' = 1\.5"):
        optuna_sweep_smp(make_config(train_data_dir, sweep, tmp_path))
    assert not (tmp_path / "artifacts").exists()
    with pytest.raises(SweepConfigError, match="fold"):
        optuna_sweep_smp(make_config(train_data_dir, sweep, tmp_path, train_options={"fold": 1}))


def test_resume_with_other_metric_or_folds_is_rejected(train_data_dir, sweep_file, tmp_path) -> None:
    first = optuna_sweep_smp(make_config(train_data_dir, sweep_file, tmp_path, sweep_device=None))
    with pytest.raises(SweepConfigError, match="n_folds"):
        optuna_sweep_smp(
            make_config(train_data_dir, sweep_file, tmp_path, sweep_id=first.sweep_id, n_folds=3)
        )
    other = tmp_path / "other.yaml"
    other.write_text(sweep_file.read_text().replace("maximize", "minimize"))
    with pytest.raises(SweepConfigError, match="direction"):
        optuna_sweep_smp(make_config(train_data_dir, other, tmp_path, sweep_id=first.sweep_id))


def test_median_pruner_stops_weak_trials(train_data_dir, tmp_path) -> None:
    rates = {"learning_rate": {"values": [0.001, 0.01, 0.0001, 0.00000001]}}
    sweep = write_sweep_file(tmp_path / "lr.yaml", rates, method="grid")
    config = make_config(
        train_data_dir,
        sweep,
        tmp_path,
        n_trials=4,
        n_folds=3,
        n_randoms=1,
        prune=True,
        prune_startup_trials=2,
        sampler_seed=0,
    )
    outcome = optuna_sweep_smp(config)
    study = load(outcome.storage, outcome.sweep_id)
    states = {t.params["learning_rate"]: t.state for t in study.trials}
    assert len(states) == 4
    # 1e-8 is the worst; unless it ran among the first two (startup) trials it is pruned after fold 0
    worst = next(t for t in study.trials if t.params["learning_rate"] == 1e-8)
    if worst.number >= 2:
        assert worst.state == TrialState.PRUNED and list(worst.intermediate_values) == [0]
        assert len(worst.user_attrs["runs"]) == 1
    assert outcome.n_pruned == sum(s == TrialState.PRUNED for s in states.values())


def test_journal_storage(train_data_dir, sweep_file, tmp_path) -> None:
    journal = tmp_path / "sweeps.journal"
    outcome = optuna_sweep_smp(
        make_config(train_data_dir, sweep_file, tmp_path, sweep_db=str(journal), n_trials=1)
    )
    assert outcome.n_complete == 1 and journal.is_file()
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(
        study_name=outcome.sweep_id, storage=optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
    )
    assert study.trials[0].state == TrialState.COMPLETE


def test_in_memory_storage_is_refused(train_data_dir, sweep_file, tmp_path) -> None:
    with pytest.raises(SweepConfigError, match="in-memory"):
        optuna_sweep_smp(make_config(train_data_dir, sweep_file, tmp_path, sweep_db="sqlite://"))


def test_command_config_splits_sweep_and_training_options(tmp_path) -> None:
    from darts_sweep.config import SweepCommandConfig

    command = SweepCommandConfig(
        train_data_dir=tmp_path,
        sweep_config=tmp_path / "s.yaml",
        batch_size=6,
        augment=True,
        early_stopping_patience=0,
        sweep_device=0,
        n_folds=3,
    )
    config = command.to_sweep_config()
    assert config.train_options == {"batch_size": 6, "augment": True, "early_stopping_patience": 0}
    assert (config.sweep_device, config.n_folds, config.n_randoms) == (0, 3, 3)
    assert (
        "fold" not in SweepCommandConfig.model_fields and "random_seed" not in SweepCommandConfig.model_fields
    )


def _lr_trial(study: optuna.Study, runner: dict) -> optuna.trial.Trial:
    """A RUNNING trial with one finished run, claimed by ``runner``."""
    trial = study.ask({"learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True)})
    study._storage.set_trial_user_attr(trial._trial_id, "runs", [{"trial": trial.number, "fold": 0}])
    study._storage.set_trial_system_attr(trial._trial_id, "darts_runner", runner)
    return trial


def _gone_runner() -> dict:
    """The identity of a runner process of this host that has exited (its PID now names another one)."""
    from darts_sweep.stale import runner_identity

    return {**runner_identity(grace_s=600), "start": "0"}


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")
@pytest.mark.parametrize("backend", ["sqlite", "journal"])
def test_trial_of_a_gone_runner_of_this_host_is_failed_at_once_and_retried_once(backend, tmp_path) -> None:
    from darts_sweep.stale import fail_stale_trials, runner_identity
    from darts_sweep.study import open_storage

    url = f"sqlite:///{tmp_path / 's.db'}" if backend == "sqlite" else f"journal:{tmp_path / 's.journal'}"
    study = optuna.create_study(storage=open_storage(url, 300, 600), study_name="s", direction="maximize")
    alive = _lr_trial(study, runner_identity(grace_s=600))  # this process: alive, never failed
    gone = _lr_trial(study, _gone_runner())
    assert fail_stale_trials(study, grace_s=600) == [gone.number]
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.RUNNING, TrialState.FAIL, TrialState.WAITING]
    assert "runner lost" in trials[1].user_attrs["fail_reason"]
    queued = trials[2]
    assert queued.params == trials[1].params and queued.user_attrs["runs"] == trials[1].user_attrs["runs"]
    assert "darts_runner" not in queued.system_attrs and "fail_reason" not in queued.user_attrs
    # the retry is claimed by a runner that dies too: failed, but not retried a second time
    retry = study.ask()
    assert retry.number == queued.number
    study._storage.set_trial_system_attr(retry._trial_id, "darts_runner", _gone_runner())
    assert fail_stale_trials(study, grace_s=600) == [retry.number]
    assert [t.state for t in study.get_trials()] == [TrialState.RUNNING, TrialState.FAIL, TrialState.FAIL]
    assert study.get_trials()[0].number == alive.number


def test_journal_trial_of_another_host_fails_when_its_heartbeat_is_stale(tmp_path) -> None:
    from darts_sweep.stale import HEARTBEAT_ATTR, fail_stale_trials
    from darts_sweep.study import open_storage

    study = optuna.create_study(storage=open_storage(f"journal:{tmp_path / 'j'}", 1, 2), study_name="s")
    elsewhere = {"host": "another-host", "pid_ns": "pid:[1]", "pid": 1, "start": "1", "grace_s": 60}
    fresh = _lr_trial(study, elsewhere)
    stale = _lr_trial(study, elsewhere)
    study._storage.set_trial_system_attr(fresh._trial_id, HEARTBEAT_ATTR, time.time() - 30)
    study._storage.set_trial_system_attr(stale._trial_id, HEARTBEAT_ATTR, time.time() - 90)
    assert fail_stale_trials(study, grace_s=2) == [stale.number]  # the runner's own grace (60 s) counts
    assert [t.state for t in study.get_trials()] == [TrialState.RUNNING, TrialState.FAIL, TrialState.WAITING]


def test_sampling_options_are_checked_sweep_parameters(train_data_dir, tmp_path) -> None:
    sweep = tmp_path / "sampling.yaml"
    sweep.write_text(
        "method: random\nmetric: {name: val/JaccardIndex, goal: maximize}\n"
        "parameters:\n  sampling:\n    values: [shuffle, balanced]\n"
        "  positive_ratio:\n    min: 0.3\n    max: 1.0\n"
    )
    with pytest.raises(SweepSpecError, match=r"positive_ratio' = 1\.0"):
        optuna_sweep_smp(make_config(train_data_dir, sweep, tmp_path))
    assert not (tmp_path / "artifacts").exists()
