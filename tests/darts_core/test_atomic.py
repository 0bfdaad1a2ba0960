"""Atomic writes (one scheme for every package): complete or absent under the final name."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from darts_core.atomic import (
    PARTIAL_MARK,
    atomic_dir,
    atomic_path,
    find_partials,
    partial_path,
    write_text_atomically,
)
from darts_core.errors import DiskFullError


def test_temp_name_is_hidden_marked_and_keeps_the_suffix(tmp_path: Path) -> None:
    tmp = partial_path(tmp_path / "polygons.gpkg")
    assert tmp.parent == tmp_path and tmp.name.startswith(".polygons" + PARTIAL_MARK + "-")
    assert tmp.suffix == ".gpkg" and tmp != partial_path(tmp_path / "polygons.gpkg")


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = write_text_atomically(tmp_path / "run.json", "old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        (tmp.parent / f"{tmp.name}-journal").write_text("side file")
        raise RuntimeError("crash")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_enospc_becomes_disk_full_naming_the_target(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "report.json"
    with pytest.raises(DiskFullError, match=f"disk full at {path}"), atomic_path(path) as tmp:
        tmp.write_text("x")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert list(path.parent.iterdir()) == []


def test_a_folder_replaces_the_old_one_whole(tmp_path: Path) -> None:
    path = tmp_path / "cross-val.zarr"
    (path / "x").mkdir(parents=True)
    (path / "x" / "old").write_text("old")
    with atomic_dir(path) as tmp:
        (tmp / "x").mkdir(parents=True)
        (tmp / "x" / "new").write_text("new")
    assert sorted(p.name for p in (path / "x").iterdir()) == ["new"]
    assert find_partials(tmp_path) == []
    with pytest.raises(RuntimeError), atomic_dir(path) as tmp:
        tmp.mkdir()
        raise RuntimeError("crash")
    assert sorted(p.name for p in (path / "x").iterdir()) == ["new"] and find_partials(tmp_path) == []


def test_find_partials_lists_leftovers_of_an_interrupted_run(tmp_path: Path) -> None:
    left = partial_path(tmp_path / "binarized.tif")
    left.write_bytes(b"half")
    (tmp_path / "binarized.tif").write_bytes(b"whole")
    assert find_partials(tmp_path) == [left]
