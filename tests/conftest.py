"""Root test configuration: offline services and paths to the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()

# Tests never reach a hub or a tracking server; set before any test imports wandb or hf hub.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_SILENT", "true")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real RTS labels and rasters of ../shared/data (see its README)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_DATA}; tests need ../shared/data beside the repo")
    return SHARED_DATA


@pytest.fixture(scope="session")
def rts_labels_dir(shared_data: Path) -> Path:
    return shared_data / "rts-labels"


@pytest.fixture(scope="session")
def real_rasters_dir(shared_data: Path) -> Path:
    return shared_data / "real-rasters"


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
