"""DataModuleConfig and DartsDataModule: folds, final retrain, loaders, Lightning integration."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from darts_dataset import AugmentConfig, DartsDataModule, DataModuleConfig, folds_from_json


def test_import_does_not_load_lightning():
    code = (
        "import sys, darts_dataset\n"
        "assert 'lightning' not in sys.modules and 'torch' not in sys.modules\n"
        "print(darts_dataset.__all__[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "AugmentConfig"


def test_config_validation(tiny_set):
    with pytest.raises(ValidationError, match="fold=5 must be below n_folds=5"):
        DataModuleConfig(train_data_dir=tiny_set.path, fold=5)
    with pytest.raises(ValidationError):
        DataModuleConfig(train_data_dir=tiny_set.path, num_workers=-1)
    with pytest.raises(ValidationError):
        DataModuleConfig(train_data_dir=tiny_set.path, n_folds=1)
    assert DataModuleConfig(train_data_dir=tiny_set.path, fold=7, final_retrain=True).final_retrain
    # the reference's boolean `augment` works too
    assert DataModuleConfig(train_data_dir=tiny_set.path, augment=False).augment is None
    assert DataModuleConfig(train_data_dir=tiny_set.path, augment=True).augment == AugmentConfig()
    custom = DataModuleConfig(train_data_dir=tiny_set.path, augment={"flip_p": 0.2}).augment
    assert custom.flip_p == 0.2 and custom.rot90


def test_fold_split_is_grouped_and_complete(tiny_set, tmp_path):
    cfg = DataModuleConfig(train_data_dir=tiny_set.path, fold=1, n_folds=3, bands=("red", "slope"), seed=3)
    dm = DartsDataModule(cfg)
    dm.setup("fit")
    train, val = dm.train_dataset.indices, dm.val_dataset.indices
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(20))
    scenes = tiny_set.scene_ids["cross-val"]
    assert not set(scenes[train]) & set(scenes[val])
    assert dm.val_dataset.augmenter is None and dm.train_dataset.augmenter is not None
    assert dm.in_channels == 2 and list(dm.norm_factors) == ["red", "slope"]
    path = dm.write_fold_assignment(tmp_path / "folds.json")
    folds = folds_from_json(path.read_text())
    np.testing.assert_array_equal(np.flatnonzero(folds == 1), val)
    assert json.loads(path.read_text())["n_folds"] == 3


def test_loaders_without_workers(tiny_set):
    dm = DartsDataModule(
        DataModuleConfig(train_data_dir=tiny_set.path, batch_size=3, n_folds=2, augment=None)
    )
    train = dm.train_dataloader()
    assert not train.pin_memory and not train.persistent_workers
    batch = next(iter(train))
    assert batch["x"].shape == (3, 6, 16, 16) and batch["y"].shape == (3, 16, 16)
    order = [int(i) for b in dm.train_dataloader() for i in b["index"]]
    n_train = len(dm.train_dataset)
    assert len(set(order)) == len(order) and set(order) <= set(dm.train_dataset.indices.tolist())
    # a last training batch of a single patch (breaks BatchNorm) is dropped, nothing else is
    assert len(order) == (n_train - 1 if n_train % 3 == 1 else n_train)
    assert len(dm.val_test_dataloader().dataset) == 3 and len(dm.test_dataloader().dataset) == 3
    assert dm.val_test_dataloader().dataset.split == "val-test"


def test_loaders_with_workers_pin_and_persist(tiny_set):
    cfg = DataModuleConfig(train_data_dir=tiny_set.path, num_workers=2, n_folds=2, in_memory=True)
    loader = DartsDataModule(cfg).train_dataloader()
    assert loader.persistent_workers and loader.num_workers == 2


def test_final_retrain_trains_on_everything_without_validation(tiny_set):
    dm = DartsDataModule(DataModuleConfig(train_data_dir=tiny_set.path, final_retrain=True))
    dm.setup("fit")
    assert len(dm.train_dataset) == 20 and dm.val_dataset is None
    assert dm.val_dataloader() == [] and not dm.has_validation
    assert dm.fold_assignment() is None


@pytest.mark.filterwarnings("ignore:.*LeafSpec")  # inside lightning itself
def test_lightning_fit_sets_epochs(tiny_set, tmp_path):
    """Lightning drives set_epoch (shuffle + augmentation); final retrain runs no validation."""
    import lightning as L
    import torch

    torch.set_num_threads(1)

    class Tiny(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(6, 1, 1)
            self.epochs: list[int] = []
            self.val_batches = 0

        def training_step(self, batch, _):
            self.epochs.append(self.trainer.datamodule.train_dataset.augmenter.epoch)
            return self.conv(batch["x"]).mean()

        def validation_step(self, batch, _):
            self.val_batches += 1

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    for final_retrain, expected_val in ((False, True), (True, False)):
        cfg = DataModuleConfig(
            train_data_dir=tiny_set.path,
            batch_size=8,
            final_retrain=final_retrain,
            augment=AugmentConfig(),
            n_folds=2,
        )
        model = Tiny()
        trainer = L.Trainer(
            max_epochs=2,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tmp_path,
            num_sanity_val_steps=0,
            limit_val_batches=0 if final_retrain else 1.0,  # how the trainer skips validation
        )
        trainer.fit(model, datamodule=DartsDataModule(cfg))
        assert sorted(set(model.epochs)) == [0, 1]
        assert (model.val_batches > 0) is expected_val
