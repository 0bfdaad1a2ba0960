"""Empty, text or foreign files given as checkpoints: "not a checkpoint: PATH (why)", never "101"."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from darts_train import CheckpointError, ConvertConfig, TrainConfig, convert_lightning_checkpoint, train_smp
from darts_train.checkpoint_file import read_checkpoint
from darts_train.module import load_task


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {"empty": b"", "text": b"hello, I am not a checkpoint\n", "binary": bytes(range(200, 256)) * 5}
    out = {}
    for name, content in files.items():
        out[name] = tmp_path / f"{name}.ckpt"
        out[name].write_bytes(content)
    good = tmp_path / "list.ckpt"
    torch.save([1, 2], good)
    out["list"] = good
    return out


WHY = {
    "empty": "(an empty file)",
    "text": "(a text file of 29 bytes",
    "binary": "(no torch archive of 280 bytes",
    "list": "(holds a list, not a dictionary)",
}


def test_read_checkpoint_says_what_the_file_is_not(bad_files: dict[str, Path]) -> None:
    for name, path in bad_files.items():
        with pytest.raises(CheckpointError) as info:
            read_checkpoint(path)
        assert str(info.value).startswith(f"not a checkpoint: {path} {WHY[name]}"), str(info.value)


def test_test_convert_and_resume_use_it(bad_files: dict[str, Path], tmp_path: Path, tiny_options) -> None:
    text = bad_files["text"]
    with pytest.raises(CheckpointError, match=r"not a checkpoint: .*text.ckpt \(a text file"):
        load_task(text)
    with pytest.raises(CheckpointError, match=r"not a checkpoint: .*empty.ckpt \(an empty file\)"):
        convert_lightning_checkpoint(
            ConvertConfig(
                lightning_checkpoint=bad_files["empty"], out_directory=tmp_path, checkpoint_name="m"
            )
        )
    config = TrainConfig(**tiny_options(tmp_path / "art", continue_from_checkpoint=bad_files["binary"]))
    with pytest.raises(CheckpointError, match=r"not a checkpoint: .*binary.ckpt \(no torch archive"):
        train_smp(config)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_gpu_accelerator_without_a_gpu_fails_before_a_run_folder_exists(tmp_path: Path, tiny_options) -> None:
    from darts_core.errors import DartsError

    config = TrainConfig(**tiny_options(tmp_path / "art", accelerator="gpu", devices="auto", run_name="g"))
    with pytest.raises(DartsError, match="accelerator=gpu but torch sees no CUDA device"):
        train_smp(config)
    assert not (tmp_path / "art").exists() or not any((tmp_path / "art").rglob("*"))
