"""Atomic model files: a full disk never leaves a truncated file under the final name."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
import torch

from darts_core.atomic import link_or_copy_atomically, write_atomically
from darts_models.checkpoint import (
    DeployableModelConfig,
    ModelSpec,
    save_deployable_checkpoint,
    save_torch_atomically,
)
from darts_models.errors import DiskFullError


def _disk_full_after(n_bytes: int) -> Callable[[IO[bytes]], None]:
    """A writer that writes ``n_bytes`` for real, then fails as a write on a full disk does."""

    def write(fh: IO[bytes]) -> None:
        fh.write(b"x" * n_bytes)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return write


def test_disk_full_leaves_no_file_and_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "best-epoch000.ckpt"
    with pytest.raises(DiskFullError, match=f"disk full at {path}"):
        write_atomically(path, _disk_full_after(4096))
    assert list(tmp_path.iterdir()) == []  # neither the final name nor the temp file


def test_disk_full_keeps_the_previous_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    save_torch_atomically({"epoch": 1}, path)
    with pytest.raises(DiskFullError):
        write_atomically(path, _disk_full_after(10))
    assert torch.load(path, weights_only=True) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_other_errors_pass_through_and_clean_up(tmp_path: Path) -> None:
    def fail(fh: IO[bytes]) -> None:
        fh.write(b"partial")
        raise ValueError("not serialisable")

    with pytest.raises(ValueError, match="not serialisable"):
        write_atomically(tmp_path / "model.ckpt", fail)
    assert list(tmp_path.iterdir()) == []


def test_link_shares_bytes_and_a_later_save_breaks_the_link(tmp_path: Path) -> None:
    best, last = tmp_path / "best-epoch002.ckpt", tmp_path / "last.ckpt"
    save_torch_atomically({"epoch": 2}, best)
    save_torch_atomically({"epoch": 0}, last)  # an older last.ckpt is replaced
    link_or_copy_atomically(best, last)
    assert os.path.samefile(best, last)
    save_torch_atomically({"epoch": 3}, last)  # overwriting one never changes the other
    assert not os.path.samefile(best, last)
    assert torch.load(best, weights_only=True) == {"epoch": 2}
    assert torch.load(last, weights_only=True) == {"epoch": 3}
    best.unlink()  # the best file replaced by a better one: last stays readable
    assert torch.load(last, weights_only=True) == {"epoch": 3}


def test_link_falls_back_to_a_copy_across_file_systems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    best, last = tmp_path / "best.ckpt", tmp_path / "last.ckpt"
    save_torch_atomically({"epoch": 2}, best)
    monkeypatch.setattr(os, "link", cross_device)
    link_or_copy_atomically(best, last)
    assert not os.path.samefile(best, last)
    assert last.read_bytes() == best.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.ckpt", "last.ckpt"]


def test_deployable_file_on_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_save = torch.save

    def save_until_full(obj: object, fh: IO[bytes], *args: object, **kwargs: object) -> None:
        real_save({"partial": True}, fh)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    config = DeployableModelConfig(
        input_combination=("red",),
        model=ModelSpec(arch="Unet", encoder_name="resnet18", in_channels=1),
        norm_factors={"red": 1.0},
        name="rts",
    )
    monkeypatch.setattr(torch, "save", save_until_full)
    path = tmp_path / "models" / "rts_2026-01-01.ckpt"
    with pytest.raises(DiskFullError, match=f"disk full at {path}"):
        save_deployable_checkpoint(path, {"w": torch.zeros(2)}, config)
    assert list(path.parent.iterdir()) == []
