"""Tiny training sets for the darts_dataset tests (written by darts_test_support.trainsets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from darts_test_support.trainsets import TinySet, write_reference_set, write_tiny_set


@pytest.fixture(scope="session")
def tiny_set(tmp_path_factory: pytest.TempPathFactory) -> TinySet:
    """A valid darts set, shared read-only by tests (copy it before breaking it)."""
    return write_tiny_set(tmp_path_factory.mktemp("tiny") / "train")


@pytest.fixture(scope="session")
def reference_set(tmp_path_factory: pytest.TempPathFactory) -> TinySet:
    """A valid reference-tool set (zarr v2, no metadata), shared read-only."""
    return write_reference_set(tmp_path_factory.mktemp("reference") / "train")


@pytest.fixture
def broken_copy(tiny_set: TinySet, tmp_path: Path):
    """A function giving a fresh copy of the tiny set to break."""
    import shutil

    def copy() -> TinySet:
        target = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
        shutil.copytree(tiny_set.path, target)
        return TinySet(
            path=target, bands=tiny_set.bands, x=tiny_set.x, y=tiny_set.y, scene_ids=tiny_set.scene_ids
        )

    return copy


@pytest.fixture
def make_reference_set():
    """:func:`write_reference_set`, for tests that need their own."""
    return write_reference_set
