"""A sweep of real tiny trainings on a darts-nextgen set (data.zarr + metadata.parquet), SQLite storage."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from darts_sweep import optuna_sweep_smp
from darts_test_support.nextgen_sets import write_nextgen_set
from darts_test_support.sweep_processes import make_config
from darts_test_support.sweeps import write_sweep_file

pytestmark = pytest.mark.slow


def test_sweep_trial_trains_every_fold_of_a_nextgen_set(tmp_path: Path) -> None:
    data = write_nextgen_set(tmp_path / "nextgen", patch=32).path
    sweep = write_sweep_file(
        tmp_path / "sweep.yaml",
        {"learning_rate": {"min": 1e-4, "max": 1e-2, "distribution": "log_uniform_values"}},
        method="random",
    )
    config = make_config(
        data,
        sweep,
        tmp_path,
        real=True,
        sweep_db=f"sqlite:///{tmp_path / 'sweep.db'}",
        n_trials=1,
        n_randoms=1,
        sweep_id="nextgen",
        train_options={
            "model_encoder": "resnet18",
            "batch_size": 4,
            "check_val_every_n_epoch": 1,
            "early_stopping_patience": 0,
            "nextgen_test_regions": ["Banks Island"],
            "nextgen_split_seed": 5,
        },
    )
    outcome = optuna_sweep_smp(config)
    assert outcome.n_complete == 1, outcome
    trial = optuna.load_study(study_name="nextgen", storage=outcome.storage).trials[0]
    runs = trial.user_attrs["runs"]
    assert [r["fold"] for r in runs] == [0, 1]
    assert all(0.0 <= r["score"] <= 1.0 and Path(r["best_checkpoint"]).is_file() for r in runs)
    folds = (Path(runs[0]["run_dir"]) / "folds.json").read_text()
    assert "20220801_183305_2416_planet" not in folds  # Banks Island is the test region
