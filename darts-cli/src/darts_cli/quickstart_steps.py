"""The steps of `darts quickstart`, in order; each builds its typed config as its command would.

Every step gets a :class:`StepContext`. ``ctx.begin(command, options)`` records the equivalent
command line, announces the step and returns the command's config, built by
:func:`darts_cli.settings.build_config` from the quickstart's ``config.toml`` plus ``options``.
Library imports happen inside the steps (a missing library stops the quickstart at its step).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from darts_cli.settings import RunContext, build_config
from darts_core.errors import DartsError

if TYPE_CHECKING:  # pragma: no cover
    from darts_cli.quickstart import QuickstartSummary, StepRecord

logger = logging.getLogger(__name__)

Notify = Callable[["StepRecord"], None]
SEED = 42
JACCARD = "JaccardIndex"


@dataclass(frozen=True)
class QuickstartSize:
    """How big the quickstart's data and trainings are."""

    n_scenes: int
    size_px: int
    patch_size: int
    max_epochs: int
    batch_size: int
    sweep_max_epochs: int
    sweep_trials: int


@dataclass
class StepContext:
    """What the steps share: the work folder, the config file, results of earlier steps."""

    workdir: Path
    config_file: Path
    size: QuickstartSize
    summary: QuickstartSummary
    record: StepRecord | None = None
    notify: Notify | None = None
    state: dict[str, Any] = field(default_factory=dict)

    def begin(self, command: str | None, model: type[BaseModel] | None = None, **options: Any) -> Any:
        """Announce the step (with its command line) and return its config, built like the CLI does."""
        from darts_cli.quickstart import command_line

        if self.record is not None and command is not None:
            self.record.command = command_line(command, options, self.workdir)
        if self.notify is not None and self.record is not None:
            self.notify(self.record)
        if model is None:
            return None
        run_ctx = RunContext(
            command=command or "quickstart",
            config_file=self.config_file,
            config_file_explicit=True,
            cwd=self.workdir,
        )
        return build_config(model, options, run_ctx)

    def artifact(self, name: str, path: Path) -> None:
        self.summary.artifacts[name] = path


def _generate(ctx: StepContext) -> None:
    ctx.begin(None)
    from darts_preprocess.synthetic.collections import generate_planet_collection

    collection = generate_planet_collection(
        ctx.workdir / "data", None, n_scenes=ctx.size.n_scenes, size_px=ctx.size.size_px, seed=SEED
    )
    ctx.state["collection"] = collection
    ctx.artifact("generated scenes", collection.data_dir)
    if ctx.record is not None:
        ctx.record.detail = f"{len(collection.scene_ids)} scenes of {ctx.size.size_px} px"


def _preprocess(ctx: StepContext) -> None:
    from darts_preprocess.config import PlanetPreprocessConfig

    config = ctx.begin("preprocess-planet-train-data", PlanetPreprocessConfig)
    from darts_preprocess.pipeline import preprocess_planet_train_data

    result = preprocess_planet_train_data(config, progress=True)
    empty = [split for split in ("cross-val", "val-test", "test") if not result.n_patches.get(split)]
    if empty:
        raise DartsError(f"the generated training set has no patches in {empty}: {result.n_patches}")
    ctx.state["preprocess"] = config
    ctx.state["test_scenes"] = list(result.scenes.get("test", []))
    ctx.artifact("training set", config.train_data_dir)
    if ctx.record is not None:
        ctx.record.detail = ", ".join(f"{split} {n}" for split, n in result.n_patches.items()) + " patches"


def _validate(ctx: StepContext) -> None:
    from darts_dataset.config import ValidateConfig

    config = ctx.begin("validate-train-data", ValidateConfig)
    from darts_dataset.validate import validate_train_data

    report = validate_train_data(config.train_data_dir, config.n_folds, config.seed)
    if not report.ok:
        raise DartsError(f"the generated training set is invalid: {'; '.join(report.violations)}")
    if ctx.record is not None:
        ctx.record.detail = "valid"


def _train(ctx: StepContext) -> None:
    from darts_train.config import TrainConfig

    config = ctx.begin("train-smp", TrainConfig)
    from darts_train import train_smp

    result = train_smp(config)
    if result.best_checkpoint is None:
        raise DartsError(f"training run {result.run_dir} wrote no best checkpoint")
    ctx.state["best_checkpoint"] = result.best_checkpoint
    ctx.artifact("training run", result.run_dir)
    ctx.artifact("best checkpoint", result.best_checkpoint)
    if result.best_score is not None:
        ctx.summary.metrics["val/JaccardIndex"] = float(result.best_score)
    if ctx.record is not None:
        ctx.record.detail = f"run {result.run_name}/{result.run_id}, {result.epochs_trained} epochs"


def _test(ctx: StepContext) -> None:
    from darts_train.config import TestConfig

    config = ctx.begin("test-smp", TestConfig, model_ckp=ctx.state["best_checkpoint"])
    from darts_train import test_smp

    result = test_smp(config)
    ctx.artifact("evaluation", result.output_dir)
    for split, values in result.metrics.items():
        value = values.get(JACCARD)
        if value is not None:
            ctx.summary.metrics[f"{split}/{JACCARD}"] = float(value)
    if ctx.record is not None:
        ctx.record.detail = ", ".join(
            f"{split} IoU {values.get(JACCARD) or 0:.3f}" for split, values in result.metrics.items()
        )


def _convert(ctx: StepContext) -> None:
    from darts_train.config import ConvertConfig

    checkpoint = ctx.state["best_checkpoint"]
    config = ctx.begin("convert-lightning-checkpoint", ConvertConfig, lightning_checkpoint=checkpoint)
    from darts_train import convert_lightning_checkpoint

    path = convert_lightning_checkpoint(config)
    ctx.state["model_file"] = path
    ctx.artifact("deployable model", path)


def _inference(ctx: StepContext) -> None:
    from darts_segment.config import SegmentPlanetConfig

    config = ctx.begin(
        "segment-planet-scenes",
        SegmentPlanetConfig,
        model_file=(ctx.state["model_file"],),
        output_dir=ctx.workdir / "segmented",  # not in config.toml: test-smp has an output-dir too
        overlap=ctx.size.patch_size // 4,
    )
    from darts_cli.quickstart_scoring import binarized_iou
    from darts_segment import segment_planet_scenes

    result = segment_planet_scenes(config, progress=True)
    failed = result.with_status("failed")
    if failed:
        raise DartsError(
            f"segmenting failed for {len(failed)} scene(s): {failed[0].scene_id}: {failed[0].reason}"
        )
    ctx.artifact("segmented scenes", config.output_dir)
    prep = ctx.state["preprocess"]
    scene_id = ctx.state["test_scenes"][0]
    folder = config.output_dir / scene_id
    ctx.artifact(f"probability map of {scene_id}", folder / "probabilities.tif")
    score = binarized_iou(folder / "binarized.tif", prep.train_data_dir, "test", scene_id)
    if score is not None:
        ctx.summary.metrics[f"inference/{JACCARD}"] = score
    shown = "n/a" if score is None else f"{score:.3f}"
    logger.info(
        "segmented %d scene(s) into %s; test scene %s IoU %s",
        len(result.scenes),
        config.output_dir,
        scene_id,
        shown,
    )
    if ctx.record is not None:
        ctx.record.detail = f"{len(result.scenes)} scenes; test scene {scene_id}" + (
            f", IoU {score:.3f}" if score is not None else ""
        )


def _sweep(ctx: StepContext) -> None:
    from darts_sweep.config import SweepCommandConfig

    config = ctx.begin("optuna-sweep-smp", SweepCommandConfig, max_epochs=ctx.size.sweep_max_epochs)
    from darts_sweep import optuna_sweep_smp

    outcome = optuna_sweep_smp(config.to_sweep_config())
    ctx.state["sweep"] = config
    if outcome.n_complete == 0:
        raise DartsError(f"no sweep trial completed ({outcome.n_failed} failed); see the log for the reasons")
    ctx.summary.sweep_best = {
        "trial": outcome.best_trial,
        "value": outcome.best_value,
        "params": dict(outcome.best_params),
        "storage": outcome.storage,
    }
    if outcome.best_value is not None:
        ctx.summary.metrics["sweep/best"] = float(outcome.best_value)
    ctx.artifact("sweep", config.artifact_dir / outcome.sweep_id)
    if ctx.record is not None:
        ctx.record.detail = f"sweep {outcome.sweep_id}: {outcome.n_complete} trials complete"


def _sweep_report(ctx: StepContext) -> None:
    from darts_sweep.config import SweepReportConfig

    config = ctx.begin("sweep-report", SweepReportConfig)
    from darts_sweep.report import sweep_report

    out_dir = config.out_dir or config.artifact_dir / config.sweep_id / "report"
    report = sweep_report(
        config.sweep_db, config.sweep_id, out_dir, artifact_dir=config.artifact_dir, plots=config.plots
    )
    ctx.artifact("sweep report", out_dir)
    if ctx.record is not None and report.best is not None:
        ctx.record.detail = f"best trial {report.best.number}, {len(report.plots)} plots"


def _step(func: Callable[[StepContext], None]) -> Callable[[StepContext, Notify], None]:
    def run(ctx: StepContext, notify: Notify) -> None:
        ctx.notify = notify
        func(ctx)

    run.__name__ = func.__name__
    return run


STEPS: tuple[tuple[str, Callable[[StepContext, Notify], None]], ...] = (
    ("generate data", _step(_generate)),
    ("preprocess", _step(_preprocess)),
    ("validate", _step(_validate)),
    ("train", _step(_train)),
    ("test", _step(_test)),
    ("convert", _step(_convert)),
    ("segment scenes", _step(_inference)),
    ("sweep", _step(_sweep)),
    ("sweep report", _step(_sweep_report)),
)


def iou(pred: np.ndarray, target: np.ndarray, valid: np.ndarray) -> float | None:
    """IoU of two boolean masks over ``valid`` pixels; None when both are empty there."""
    union = np.count_nonzero((pred | target) & valid)
    if union == 0:
        return None
    return float(np.count_nonzero(pred & target & valid) / union)
