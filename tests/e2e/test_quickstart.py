"""`darts quickstart --tiny` end to end through the real CLI, then every artifact it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DARTS = Path(sys.executable).with_name("darts")
QUICKSTART_TIMEOUT_S = 1200
CONFIG = ("--config-file", "config.toml")
STEP_COMMANDS = (
    "darts preprocess-planet-train-data --config-file config.toml",
    "darts validate-train-data --config-file config.toml",
    "darts train-smp --config-file config.toml",
    "darts test-smp --config-file config.toml --model-ckp artifacts/quickstart-unet/",
    "darts convert-lightning-checkpoint --config-file config.toml --lightning-checkpoint artifacts/",
    "darts segment-planet-scenes --config-file config.toml --model-file models/quickstart-unet_",
    "darts optuna-sweep-smp --config-file config.toml --max-epochs",
    "darts sweep-report --config-file config.toml",
)


def _env() -> dict[str, str]:
    # one BLAS/OpenMP thread per process: the CI machine has two cores shared by the test session
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COLUMNS": "200"}


# the first test also runs the module's quickstart (2-5 minutes on 2 busy cores)
pytestmark = pytest.mark.timeout(QUICKSTART_TIMEOUT_S + 60)


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict]:
    """Run `darts quickstart --tiny` once; returns (work folder, console output, summary.json)."""
    root = tmp_path_factory.mktemp("quickstart")
    workdir = root / "qs"
    proc = subprocess.run(
        [str(DARTS), "--log-dir", str(root / "logs"), "quickstart", "--workdir", str(workdir), "--tiny"],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=QUICKSTART_TIMEOUT_S,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    summary = json.loads((workdir / "summary.json").read_text())
    return workdir, output, summary


@pytest.mark.slow
def test_every_step_ran_and_printed_its_command(quickstart: tuple[Path, str, dict]) -> None:
    workdir, output, summary = quickstart
    assert summary["stopped_at"] is None, summary["message"]
    assert [s["status"] for s in summary["steps"]] == ["done"] * len(summary["steps"])
    assert len(summary["steps"]) == 9
    for command in STEP_COMMANDS:
        assert command in output, f"command line {command!r} was not shown"
    assert (workdir / ".darts-quickstart").is_file()


@pytest.mark.slow
def test_config_file_rebuilds_each_steps_config(quickstart: tuple[Path, str, dict]) -> None:
    """config.toml (plus the shown options) gives the configs the steps ran with; no unknown keys."""
    from darts_cli.settings import RunContext, build_config
    from darts_dataset.config import ValidateConfig
    from darts_preprocess.config import PlanetPreprocessConfig
    from darts_sweep.config import SweepCommandConfig, SweepReportConfig
    from darts_train.config import TestConfig, TrainConfig

    workdir, _, _ = quickstart
    table = tomllib.loads((workdir / "config.toml").read_text())["darts"]
    assert table["paths"]["train-data-dir"] == "training-set"

    def build(model: type, **options: object) -> object:
        ctx = RunContext(
            command="test", config_file=workdir / "config.toml", config_file_explicit=True, cwd=workdir
        )
        return build_config(model, options, ctx)

    prep = build(PlanetPreprocessConfig)
    assert prep.train_data_dir == workdir / "training-set"
    assert prep.data_dir == workdir / "data" / "planet"
    assert prep.test_regions == ("Taymyrsky Dolgano-Nenetsky District",)
    train = build(TrainConfig)
    assert (train.model_arch, train.model_encoder, train.accelerator) == ("Unet", "resnet18", "cpu")
    assert train.artifact_dir == workdir / "artifacts"
    assert build(ValidateConfig).train_data_dir == workdir / "training-set"
    sweep = build(SweepCommandConfig, max_epochs=1).to_sweep_config()
    assert sweep.sweep_id == "quickstart-sweep" and sweep.sweep_device == "cpu"
    assert build(TestConfig, model_ckp=workdir / "m.ckpt").test_device == "cpu"
    assert sweep.train_options["max_epochs"] == 1
    assert build(SweepReportConfig).sweep_id == "quickstart-sweep"


@pytest.mark.slow
def test_training_set_is_valid_with_all_splits(quickstart: tuple[Path, str, dict]) -> None:
    from darts_dataset.validate import validate_train_data

    workdir, _, _ = quickstart
    report = validate_train_data(workdir / "training-set", n_folds=2)
    assert report.ok, report.violations
    counts = {c.name: c.n_patches for c in report.splits}
    assert all(counts[split] > 0 for split in ("cross-val", "val-test", "test")), counts


@pytest.mark.slow
def test_model_beats_all_background(quickstart: tuple[Path, str, dict]) -> None:
    """An all-background prediction has IoU 0 on every split; the trained model must do better."""
    workdir, _, summary = quickstart
    metrics = summary["metrics"]
    assert metrics["test/JaccardIndex"] > 0.0
    assert metrics["val-test/JaccardIndex"] > 0.0
    evaluation = workdir / summary["artifacts"]["evaluation"]
    for split in ("val-test", "test"):
        split_metrics = json.loads((evaluation / split / "metrics.json").read_text())
        assert json.dumps(split_metrics).count("JaccardIndex") >= 1
        assert (evaluation / split / "confusion_matrix.png").stat().st_size > 0


@pytest.mark.slow
def test_checkpoints_and_deployable_model(quickstart: tuple[Path, str, dict]) -> None:
    import torch

    from darts_dataset import TrainingSet
    from darts_models import load_deployable_checkpoint

    workdir, _, summary = quickstart
    best = workdir / summary["artifacts"]["best checkpoint"]
    assert best.is_file() and (best.parent / "last.ckpt").is_file()
    assert (workdir / summary["artifacts"]["training run"] / "metrics.csv").is_file()
    model_file = workdir / summary["artifacts"]["deployable model"]
    assert model_file.parent == workdir / "models" and model_file.name.startswith("quickstart-unet_")
    loaded = load_deployable_checkpoint(model_file, "cpu")
    bands = TrainingSet(workdir / "training-set").bands
    assert list(loaded.config.input_combination) == list(bands)
    x = torch.zeros(1, len(bands), 64, 64)
    with torch.no_grad():
        assert loaded.model(x).shape == (1, 1, 64, 64)


@pytest.mark.slow
def test_every_scene_is_segmented_on_its_own_grid(quickstart: tuple[Path, str, dict]) -> None:
    import rasterio

    from darts_cli.quickstart import TINY_SIZE

    workdir, _, summary = quickstart
    segmented = workdir / summary["artifacts"]["segmented scenes"]
    scene_dirs = {p.parent.name: p.parent for p in (workdir / "data" / "planet").rglob("*_SR*.tif")}
    assert sorted(p.name for p in segmented.iterdir()) == sorted(scene_dirs)
    for scene_id, scene_dir in scene_dirs.items():
        folder = segmented / scene_id
        assert (folder / "run.json").is_file()
        with (
            rasterio.open(next(scene_dir.glob("*_SR*.tif"))) as scene,
            rasterio.open(folder / "probabilities.tif") as probs,
        ):
            assert probs.crs == scene.crs and probs.transform == scene.transform
            assert (probs.height, probs.width) == (TINY_SIZE.size_px, TINY_SIZE.size_px)
            values = probs.read(1)
            assert probs.nodata == 255 and values[values != 255].max() <= 100
            assert np.count_nonzero(values != 255) > 0.5 * values.size


@pytest.mark.slow
def test_binarized_map_scores_the_reported_iou(quickstart: tuple[Path, str, dict]) -> None:
    """The quickstart's IoU is that of the command's binarized.tif against the burned test labels."""
    from darts_cli.quickstart_scoring import binarized_iou

    workdir, _, summary = quickstart
    (name,) = [k for k in summary["artifacts"] if k.startswith("probability map of ")]
    scene_id = name.removeprefix("probability map of ")
    folder = workdir / summary["artifacts"]["segmented scenes"] / scene_id
    score = binarized_iou(folder / "binarized.tif", workdir / "training-set", "test", scene_id)
    assert score is not None and score > 0.0
    assert score == pytest.approx(summary["metrics"]["inference/JaccardIndex"], abs=1e-9)


@pytest.mark.slow
def test_sweep_study_and_report(quickstart: tuple[Path, str, dict]) -> None:
    import optuna

    workdir, _, summary = quickstart
    db = workdir / "artifacts" / "quickstart-sweep" / "sweep.db"
    study = optuna.load_study(study_name="quickstart-sweep", storage=f"sqlite:///{db}")
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 2
    assert summary["sweep_best"]["trial"] == study.best_trial.number
    report_dir = workdir / summary["artifacts"]["sweep report"]
    report = json.loads((report_dir / "report.json").read_text())
    assert report["best"]["number"] == study.best_trial.number
    assert list(report_dir.glob("*.png"))


@pytest.mark.slow
def test_shown_command_reruns_a_step(quickstart: tuple[Path, str, dict]) -> None:
    """The printed command line, run inside the work folder, repeats its step."""
    workdir, _, _ = quickstart
    proc = subprocess.run(
        [
            str(DARTS),
            "--log-dir",
            str(workdir.parent / "logs"),
            "validate-train-data",
            "--config-file",
            "config.toml",
        ],
        cwd=workdir,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid training set" in proc.stdout
    assert "unknown key" not in proc.stderr


def test_quickstart_refuses_a_foreign_folder(tmp_path: Path) -> None:
    from darts_cli.quickstart import TINY_SIZE, prepare_workdir
    from darts_core.errors import DartsInputError

    (tmp_path / "precious.txt").write_text("mine")
    with pytest.raises(DartsInputError, match="not empty"):
        prepare_workdir(tmp_path, TINY_SIZE)
    assert (tmp_path / "precious.txt").read_text() == "mine"
    # a folder an earlier quickstart made is emptied and reused
    other = tmp_path / "qs"
    prepare_workdir(other, TINY_SIZE)
    (other / "stale.txt").write_text("old")
    prepare_workdir(other, TINY_SIZE)
    assert not (other / "stale.txt").exists()
    assert (
        tomllib.loads((other / "config.toml").read_text())["darts"]["sweep"]["sweep-id"] == "quickstart-sweep"
    )


def test_quickstart_stops_at_a_step_whose_library_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import darts_cli.quickstart as qs

    ran: list[str] = []

    def fine(ctx: object, notify: object) -> None:
        ran.append("fine")

    def missing(ctx: object, notify: object) -> None:
        raise ImportError("No module named 'darts_future'")

    def never(ctx: object, notify: object) -> None:  # pragma: no cover - must not run
        ran.append("never")

    monkeypatch.setattr(qs, "STEPS", (("first", fine), ("second", missing), ("third", never)))
    seen: list[tuple[str, str]] = []
    summary = qs.run_quickstart(tmp_path / "qs", tiny=True, on_step=lambda r: seen.append((r.name, r.status)))
    assert ran == ["fine"]
    assert summary.stopped_at == "second" and "darts_future" in summary.message
    assert [(s.name, s.status) for s in summary.steps] == [("first", "done"), ("second", "unavailable")]
    assert ("second", "unavailable") in seen
    written = json.loads((tmp_path / "qs" / "summary.json").read_text())
    assert written["stopped_at"] == "second"
