"""Root test configuration: offline services and the real test data under tests/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from darts_test_support.paths import REAL_RASTERS, RTS_LABELS

# Tests never reach a hub or a tracking server; set before any test imports wandb or hf hub.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_SILENT", "true")


@pytest.fixture(scope="session")
def rts_labels_dir() -> Path:
    """The subset of the real RTS labels (tests/data/rts-labels; see its README)."""
    return RTS_LABELS


@pytest.fixture(scope="session")
def real_rasters_dir() -> Path:
    """The small real rasters (tests/data/real-rasters; see its README)."""
    return REAL_RASTERS


@pytest.fixture(scope="session")
def tiny_train_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The learnable tiny training set (darts_test_support.trainsets.write_tiny_training_set). Read-only."""
    from darts_test_support.trainsets import write_tiny_training_set

    return write_tiny_training_set(tmp_path_factory.mktemp("trainset") / "train_data")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadgroup`` (pyproject addopts): whole groups per worker (darts_test_support.xdist_groups)."""
    if config.getoption("dist") != "loadgroup":
        return None
    from darts_test_support.xdist_groups import GroupScheduling

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests when no CUDA device exists (CI never has one); longest groups first in xdist."""
    if hasattr(config, "workerinput"):  # a pytest-xdist worker; serial runs keep the collection order
        from darts_test_support.xdist_groups import longest_groups_first

        longest_groups_first(items)
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a workspace dependency
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
