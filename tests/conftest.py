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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests when no CUDA device exists (CI never has one)."""
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
