"""train-smp -> test-smp -> convert-lightning-checkpoint -> segment_scene, through the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from darts_test_support.bands import GUIDE_BANDS
from darts_test_support.paths import GUIDE_CONFIG_FILE
from darts_test_support.trainsets import write_tiny_training_set

TINY = ["--model-encoder", "resnet18", "--devices", "cpu", "--plot-every-n-val-epochs", "0"]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def darts(*args: object, log_dir: Path) -> int:
    from darts_cli.app import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(log_dir), *map(str, args)])
    return exit_info.value.code


def _segment(model_file: Path) -> None:
    import rioxarray  # noqa: F401
    import xarray as xr

    from darts_models import segment_scene

    rng = np.random.default_rng(1)
    h, w = 90, 100
    dn = {b: rng.uniform(300, 900, (h, w)).astype(np.float32) for b in ("blue", "green", "red", "nir")}
    dn["ndvi"] = (dn["nir"] - dn["red"]) / (dn["nir"] + dn["red"])
    dn["red"][:5, :5] = np.nan
    coords = {"y": 7_000_000 - 3.0 * np.arange(h), "x": 500_000 + 3.0 * np.arange(w)}
    scene = xr.Dataset({b: (("y", "x"), v) for b, v in dn.items()}, coords=coords).rio.write_crs("EPSG:32633")
    probs = segment_scene(model_file, scene, patch_size=64, overlap=16, batch_size=2, device="cpu")
    assert probs.shape == (h, w)
    assert np.isnan(probs.values[:5, :5]).all()
    finite = probs.values[5:, 5:]
    assert np.isfinite(finite).all() and finite.min() >= 0.0 and finite.max() <= 1.0


def test_train_test_convert_segment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = write_tiny_training_set(tmp_path / "train_data")
    logs, art, models = tmp_path / "logs", tmp_path / "artifacts", tmp_path / "models"
    common = ["--train-data-dir", data, "--artifact-dir", art]
    run = ["--run-name", "e2e", "--run-id", "e2erun01"]
    code = darts(
        "train-smp",
        *common,
        *run,
        *TINY,
        "--n-folds",
        "2",
        "--batch-size",
        "3",
        "--max-epochs",
        "2",
        "--check-val-every-n-epoch",
        "1",
        "--checkpoint-every-n-minutes",
        "60",
        log_dir=logs,
    )
    assert code == 0
    run_dir = art / "e2e" / "e2erun01"
    recorded = json.loads((run_dir / "run.json").read_text())["best_checkpoint"]
    assert recorded.startswith("checkpoints/best-epoch")  # relative to the run folder
    best = str(run_dir / recorded)
    options = json.loads((run_dir / "hparams.json").read_text())["run"]["config"]
    assert options["checkpoint_every_n_minutes"] == 60

    assert darts("test-smp", *common, *run, "--test-device", "cpu", "--batch-size", "2", log_dir=logs) == 0
    summary = json.loads((run_dir / "eval" / "metrics.json").read_text())
    assert summary["checkpoint"] == best and set(summary["metrics"]) == {"val-test", "test"}

    convert = [
        "convert-lightning-checkpoint",
        "--lightning-checkpoint",
        best,
        "--out-directory",
        models,
        "--checkpoint-name",
        "e2e-model",
    ]
    assert darts(*convert, log_dir=logs) == 0
    (model_file,) = models.glob("*.ckpt")
    assert re.fullmatch(r"e2e-model_\d{4}-\d{2}-\d{2}\.ckpt", model_file.name)
    assert darts(*convert, log_dir=logs) == 1  # refuses to overwrite
    assert darts(*convert, "--overwrite", log_dir=logs) == 0
    _segment(model_file)
    _lightning_checkpoint_predicts_like_its_conversion(Path(best), model_file)


def _lightning_checkpoint_predicts_like_its_conversion(lightning: Path, deployable: Path) -> None:
    from darts_models import load_predictor

    from_ckpt = load_predictor([lightning], device="cpu", precision="fp32")
    from_file = load_predictor([deployable], device="cpu", precision="fp32")
    n_bands = len(from_file.config.input_combination)
    x = np.random.default_rng(2).random((2, n_bands, 64, 64), dtype=np.float32)
    assert from_ckpt.config.input_combination == from_file.config.input_combination
    assert from_ckpt.config.norm_factors == from_file.config.norm_factors
    assert from_ckpt.sources[0].kind == "lightning"
    np.testing.assert_allclose(from_ckpt.predict_patches(x), from_file.predict_patches(x), atol=1e-6)


def test_the_guides_example_config_drives_train_smp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = GUIDE_CONFIG_FILE.read_text()
    data = tmp_path / "train_data"
    text, n_data = re.subn(r'(?m)^train-data-dir = ".*?"', f'train-data-dir = "{data}"', text)
    text, n_art = re.subn(r'(?m)^artifact-dir = ".*?"', 'artifact-dir = "artifacts"', text)
    assert n_data == n_art == 1
    # a set with the ten bands the guide's config names (its `bands` key serves train-smp as well)
    write_tiny_training_set(data, bands=GUIDE_BANDS)
    (tmp_path / "config.toml").write_text(text)
    # only the paths differ from the guide's file; the tiny encoder and one epoch keep the test short
    code = darts(
        "train-smp",
        "--max-epochs",
        "1",
        "--model-encoder",
        "resnet18",
        "--devices",
        "cpu",
        log_dir=tmp_path / "logs",
    )
    assert code == 0
    (run_dir,) = (tmp_path / "artifacts").glob("*/*")
    hparams = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    config = hparams["hyper_parameters"]["run"]["config"]
    assert (config["batch_size"], config["num_workers"], config["n_folds"]) == (6, 16, 3)
    assert (config["wandb_project"], config["early_stopping_patience"]) == ("darts", 0)
    assert (config["check_val_every_n_epoch"], config["plot_every_n_val_epochs"]) == (5, 4)
    assert len(json.loads((run_dir / "folds.json").read_text())["folds"]) == 3
    assert list((run_dir / "plots" / "val").glob("epoch0000/*.png"))  # forced final validation plotted
    assert list((run_dir / "wandb").glob("offline-run-*"))
