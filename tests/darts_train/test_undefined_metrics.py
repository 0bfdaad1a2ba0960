"""A validation fold without RTS: positive-dependent metrics are logged as missing (NaN), not 0."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from darts_dataset import TrainingSet, make_folds
from darts_models.metric_keys import POSITIVE_DEPENDENT
from darts_test_support.training import tiny_train_options
from darts_test_support.trainsets import write_sparse_training_set
from darts_train import TrainConfig, train_smp


@pytest.fixture(scope="module")
def sparse_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cross-val of one labelled scene and three without RTS (2 folds: one validates without RTS)."""
    return write_sparse_training_set(tmp_path_factory.mktemp("sparse") / "train_data")


def _rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open(newline="") as f:
        return [{k: v for k, v in r.items() if v != ""} for r in csv.DictReader(f)]


def test_a_fold_without_rts_logs_undefined_metrics_as_nan(sparse_set: Path, tmp_path: Path) -> None:
    seed = 42
    metadata = TrainingSet(sparse_set).split_metadata("cross-val")
    folds = make_folds(metadata, 2, seed)
    positive_folds = {int(f) for f in folds[metadata.positive_fraction > 0]}
    empty_fold = ({0, 1} - positive_folds).pop()
    options = tiny_train_options(
        sparse_set,
        tmp_path,
        fold=empty_fold,
        random_seed=seed,
        max_epochs=3,
        early_stopping_patience=1,  # an undefined (NaN) IoU must neither stop the run nor crash it
        plot_every_n_val_epochs=0,
    )
    result = train_smp(TrainConfig(**options))
    metrics = result.metrics
    assert metrics["val/positive_pixels"] == 0 and metrics["val/positive_patches"] == 0
    for name in POSITIVE_DEPENDENT:
        assert math.isnan(metrics[f"val/{name}"]), name
        assert math.isnan(metrics[f"val{empty_fold}/{name}"]), name
    assert 0.0 <= metrics["val/Accuracy"] <= 1.0 and math.isfinite(metrics["val/loss"])
    assert result.best_checkpoint is not None and result.best_checkpoint.is_file()
    assert result.epochs_trained == 3 and not result.stopped_early  # NaN: neither better nor worse
    rows = [r for r in _rows(result.run_dir) if "val/JaccardIndex" in r]
    assert rows and all(r["val/JaccardIndex"] == "nan" for r in rows)


def test_a_fold_with_rts_logs_defined_metrics_and_its_positive_count(
    sparse_set: Path, tmp_path: Path
) -> None:
    seed = 42
    metadata = TrainingSet(sparse_set).split_metadata("cross-val")
    folds = make_folds(metadata, 2, seed)
    fold = int(folds[metadata.positive_fraction > 0][0])
    options = tiny_train_options(
        sparse_set,
        tmp_path,
        fold=fold,
        random_seed=seed,
        max_epochs=1,
        plot_every_n_val_epochs=0,
    )
    result = train_smp(TrainConfig(**options))
    members = folds == fold
    expected_patches = int((metadata.positive_fraction[members] > 0).sum())
    assert result.metrics["val/positive_patches"] == expected_patches > 0
    assert result.metrics["val/positive_pixels"] > 0
    assert all(math.isfinite(result.metrics[f"val/{name}"]) for name in POSITIVE_DEPENDENT)
