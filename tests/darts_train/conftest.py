"""Fixtures of the darts_train tests: a tiny training set, a tiny CPU config and one shared run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from darts_test_support.training import tiny_train_options


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_options(tiny_train_data: Path) -> Any:
    """``tiny_options(artifact_dir, **overrides)`` -> TrainConfig fields of a seconds-long CPU run."""

    def make(artifact_dir: Path, **overrides: object) -> dict[str, object]:
        return tiny_train_options(tiny_train_data, artifact_dir, **overrides)

    return make


@pytest.fixture(scope="session")
def trained_run(tiny_options: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One 2-epoch run (validation every 3 epochs, so only the forced final one runs), shared."""
    from darts_train import TrainConfig, train_smp

    artifacts = tmp_path_factory.mktemp("artifacts")
    config = TrainConfig(
        **tiny_options(artifacts, check_val_every_n_epoch=3, run_name="shared", run_id="run00001")
    )
    return train_smp(config)
