"""retrain-best on a tiny sweep: real trainings (64 px, resnet18, 1 epoch, CPU), tested, converted, reused.

The sweep's own trial runs with the fake training (the retrain reads only the trial's parameters
from the study); the retrain trains, tests and converts for real.
"""

from __future__ import annotations

import json
import logging
import statistics
from pathlib import Path

import numpy as np
import pytest

from darts_sweep import SweepConfig, SweepConfigError, optuna_sweep_smp, sweep_report
from darts_sweep.retrain import choose_trial
from darts_sweep.retrain_summary import RetrainSummary
from darts_test_support.fake_training import FAKE_TRAIN_FN
from darts_test_support.sweep_processes import make_config
from darts_test_support.sweeps import write_sweep_file
from darts_test_support.trainsets import write_tiny_training_set

pytestmark = pytest.mark.slow

TRAIN_OPTIONS = {"check_val_every_n_epoch": 1, "log_every_n_steps": 1, "early_stopping_patience": 0}
"""Added to the shared tiny real-training options."""


def sweep_config(data: Path, sweep: Path, tmp_path: Path, **kw: object) -> SweepConfig:
    options: dict[str, object] = {"n_trials": 1, "sweep_id": "rt", "train_options": TRAIN_OPTIONS}
    return make_config(data, sweep, tmp_path, real=True, **(options | kw))


@pytest.mark.timeout(900)  # two real trainings and evaluations, each in a fresh process
def test_retrain_best_trains_tests_converts_and_reuses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from darts_models.loading import load_predictor

    data = write_tiny_training_set(tmp_path / "train_data")
    parameters = {
        "learning_rate": {"values": [3e-3]},
        "model_encoder": {"value": "resnet18"},
    }
    sweep = write_sweep_file(tmp_path / "sweep.yaml", parameters, method="grid")
    artifacts = tmp_path / "artifacts"
    ran = optuna_sweep_smp(sweep_config(data, sweep, tmp_path, train_fn=FAKE_TRAIN_FN))
    assert ran.n_complete == 1 and ran.retrain is None

    outcome = optuna_sweep_smp(sweep_config(data, sweep, tmp_path, retrain_best=True))
    assert outcome.trials_run == [] and outcome.exit_code == 0
    summary = outcome.retrain
    assert summary is not None and summary.trial == 0 and summary.reused_seeds == []
    trial_dir = artifacts / "rt" / "retrain-best" / "trial-0000"
    assert outcome.retrain_summary_file == str(trial_dir / "summary.json")
    assert summary.folder == "retrain-best/trial-0000"
    assert summary.params == {"learning_rate": 3e-3} and summary.fixed_params == {"model_encoder": "resnet18"}
    assert [s.seed for s in summary.seeds] == [42, 21]
    for seed in summary.seeds:
        assert not Path(seed.model_file).is_absolute() and not Path(seed.checkpoint).is_absolute()
        assert seed.run_dir == f"retrain-seed-{seed.seed}" and seed.epochs_trained == 1
        assert (trial_dir / seed.checkpoint).is_file()
        assert (trial_dir / seed.eval_dir / "metrics.json").is_file()
        run = json.loads((trial_dir / seed.run_dir / "run.json").read_text())
        assert run["final_retrain"] is True and run["status"] == "finished"
        assert set(seed.metrics) == {"val-test", "test"}
        assert 0.0 <= seed.metrics["test"]["JaccardIndex"] <= 1.0
        predictor = load_predictor([trial_dir / seed.model_file], device="cpu")
        provenance = predictor.config.provenance
        assert provenance["final_retrain"] is True and provenance["random_seed"] == seed.seed
        bands = len(predictor.config.input_combination)
        patches = np.random.default_rng(0).normal(size=(2, bands, 64, 64)).astype(np.float32)
        probabilities = predictor.predict_patches(patches)
        assert probabilities.shape == (2, 64, 64)
        assert np.all((probabilities >= 0) & (probabilities <= 1))
    # the seeds are different models: their test numbers differ
    assert summary.seeds[0].metrics["test"] != summary.seeds[1].metrics["test"]
    for split in ("val-test", "test"):
        for name in ("JaccardIndex", "F1Score"):
            values = [s.metrics[split][name] for s in summary.seeds]
            defined = [v for v in values if v is not None]
            stat = summary.metrics[split][name]
            assert stat.n == len(defined)
            assert stat.mean == pytest.approx(statistics.fmean(defined))
            assert stat.std == pytest.approx(statistics.pstdev(defined))
    stored = RetrainSummary.model_validate_json((trial_dir / "summary.json").read_text())
    assert stored == summary
    markdown = (trial_dir / "summary.md").read_text()
    assert "# Retrain of trial 0 of sweep rt" in markdown and "| JaccardIndex |" in markdown

    report = sweep_report(None, "rt", tmp_path / "report", artifact_dir=artifacts, plots=False)
    assert report.retrains == [summary]

    # a second call trains, tests and converts nothing: the seeds' files stay as they are
    watched = [trial_dir / s.run_dir / name for s in summary.seeds for name in ("run.json", "retrain.json")]
    watched += [trial_dir / s.model_file for s in summary.seeds]
    watched += [trial_dir / s.eval_dir / "metrics.json" for s in summary.seeds]
    before = {p: p.stat().st_mtime_ns for p in watched}
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="darts_sweep.retrain"):
        again = optuna_sweep_smp(sweep_config(data, sweep, tmp_path, retrain_trial=0))
    assert again.retrain is not None and again.retrain.reused_seeds == [42, 21]
    assert again.retrain.seeds == summary.seeds and again.retrain.metrics == summary.metrics
    assert {p: p.stat().st_mtime_ns for p in watched} == before
    assert "seed 42: reused" in caplog.text and "training on all of cross-val" not in caplog.text
    assert sorted(p.name for p in trial_dir.iterdir()) == [
        "retrain-seed-21",
        "retrain-seed-42",
        "summary.json",
        "summary.md",
    ]

    # a seed stopped after its training (no record, no model file yet) is finished without training again:
    # train-smp's resume=auto returns the finished run, then the seed is tested and converted
    seed_dir = trial_dir / summary.seeds[1].run_dir
    (seed_dir / "retrain.json").unlink()
    (trial_dir / summary.seeds[1].model_file).unlink()
    caplog.clear()
    third = optuna_sweep_smp(sweep_config(data, sweep, tmp_path, retrain_best=True))
    assert third.retrain is not None and third.retrain.reused_seeds == [42]
    assert third.retrain.seeds[1].metrics == summary.seeds[1].metrics
    assert (trial_dir / third.retrain.seeds[1].model_file).is_file() and (seed_dir / "retrain.json").is_file()
    assert (seed_dir / "run.json").stat().st_mtime_ns == before[seed_dir / "run.json"]
    assert (seed_dir / "checkpoints" / "last.ckpt").is_file()

    # other training options never reuse a seed silently
    other = {**TRAIN_OPTIONS, "batch_size": 2}
    with pytest.raises(SweepConfigError, match="other training options \\(batch_size\\)"):
        optuna_sweep_smp(sweep_config(data, sweep, tmp_path, retrain_best=True, train_options=other))


def test_choose_trial_errors(tmp_path: Path) -> None:
    import optuna

    storage = f"sqlite:///{tmp_path / 'c.db'}"
    single = optuna.create_study(storage=storage, study_name="single", direction="maximize")
    with pytest.raises(SweepConfigError, match="no complete trial yet"):
        choose_trial(single, None)
    single.add_trial(optuna.trial.create_trial(value=0.5, params={}, distributions={}))
    single.add_trial(
        optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={"fail_reason": "NaN"})
    )
    assert choose_trial(single, None).number == 0
    with pytest.raises(SweepConfigError, match=r"trial 1 of sweep single is FAIL \(NaN\), not COMPLETE"):
        choose_trial(single, 1)
    with pytest.raises(SweepConfigError, match="has no trial 7"):
        choose_trial(single, 7)
    multi = optuna.create_study(storage=storage, study_name="multi", directions=["maximize", "minimize"])
    for values in ([0.5, 1.0], [0.6, 2.0], [0.4, 3.0]):
        multi.add_trial(optuna.trial.create_trial(values=values, params={}, distributions={}))
    with pytest.raises(SweepConfigError, match=r"Pareto front holds trials \[0, 1\]"):
        choose_trial(multi, None)
    assert choose_trial(multi, 2).number == 2


def test_retrain_needs_a_sweep_id(tmp_path: Path) -> None:
    sweep = write_sweep_file(tmp_path / "s.yaml", {"learning_rate": {"value": 1e-3}})
    with pytest.raises(SweepConfigError, match="retrain-best needs --sweep-id"):
        optuna_sweep_smp(
            sweep_config(
                tmp_path, sweep, tmp_path, artifact_dir=tmp_path / "a", sweep_id=None, retrain_best=True
            )
        )
