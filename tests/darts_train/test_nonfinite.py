"""NaN / inf inputs and losses stop a run with a message naming split and patch; no NaN checkpoint."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
import zarr

from darts_test_support.training import tiny_train_options
from darts_test_support.trainsets import write_tiny_training_set
from darts_train import TrainConfig, train_smp
from darts_train.finite import NonFiniteError, check_batch, parameters_finite


@pytest.fixture(scope="module")
def nan_train_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny set with 3 NaN values and 1 inf in cross-val patch 5."""
    root = write_tiny_training_set(tmp_path_factory.mktemp("nan") / "train_data")
    x = zarr.open_group(root / "cross-val.zarr", mode="r+")["x"]
    patch = x[5]
    patch[0, 10, 10:13] = math.nan
    patch[1, 20, 20] = math.inf
    x[5] = patch
    return root


def test_nan_patch_stops_the_run_naming_split_patch_and_count(nan_train_data: Path, tmp_path: Path) -> None:
    config = TrainConfig(
        **tiny_train_options(nan_train_data, tmp_path / "art", run_name="nan", run_id="nanrun01")
    )
    with pytest.raises(NonFiniteError) as info:
        train_smp(config)
    message = str(info.value)
    assert message.startswith("cross-val (")
    assert "4 non-finite input values (NaN / inf) in 1 patch(es) (patch 5: 4)" in message
    checkpoints = tmp_path / "art" / "nan" / "nanrun01" / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())


def test_finite_inputs_with_a_non_finite_loss_say_the_training_diverged() -> None:
    x = torch.zeros(2, 3, 4, 4)
    check_batch(x, torch.tensor(0.5), torch.tensor([7, 8]), "cross-val (training, epoch 0)")  # fine
    with pytest.raises(NonFiniteError, match=r"epoch 0\): the loss is inf with finite inputs"):
        check_batch(x, torch.tensor(math.inf), torch.tensor([7, 8]), "cross-val (training, epoch 0)")
    x[1, 2, 0, 0] = math.nan
    with pytest.raises(NonFiniteError, match=r"1 non-finite input values .* \(patch 8: 1\)"):
        check_batch(x, torch.tensor(math.nan), torch.tensor([7, 8]), "cross-val (validation, epoch 2)")


def test_a_model_with_nan_weights_is_never_checkpointed(trained_run: Any) -> None:
    from darts_train.module import load_task

    task = load_task(trained_run.best_checkpoint)
    assert parameters_finite(task)
    with torch.no_grad():
        next(task.parameters()).view(-1)[0] = math.nan
    assert not parameters_finite(task)
    with pytest.raises(NonFiniteError, match="weights are not finite"):
        task.on_save_checkpoint({})


def test_a_label_value_5_names_split_and_patch(tmp_path: Path) -> None:
    from darts_train.finite import LabelValueError

    root = write_tiny_training_set(tmp_path / "train_data")
    y = zarr.open_group(root / "cross-val.zarr", mode="r+")["y"]
    patch = y[3]
    patch[5, 5:7] = 5
    y[3] = patch
    config = TrainConfig(
        **tiny_train_options(root, tmp_path / "art", max_epochs=1, plot_every_n_val_epochs=0)
    )
    with pytest.raises(LabelValueError) as info:
        train_smp(config)
    message = str(info.value)
    assert message.startswith("cross-val (")
    assert "label value(s) [5] outside 0 (background), 1 (RTS), 2 (no data) in patch 3 (2 pixels)" in message
