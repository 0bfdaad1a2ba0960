"""``test_smp``: evaluate a train-smp checkpoint on val-test and test, per split and per scene.

Writes into ``{run_dir}/eval/{split}/`` (or ``{output_dir}/{split}/``): ``metrics.json``,
``metrics.csv`` (one row per scene plus ``ALL``), ``confusion_matrix.png``, ``roc.png``,
``pr_curve.png`` and ``samples/*.png``; a summary of all splits in ``{eval dir}/metrics.json``.
The training run's own logs are never touched.

Object metrics and boundary IoU are computed per patch (an object cut by a patch edge counts in
each patch that holds part of it) and summed per scene and per split.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from darts_core.atomic import atomic_path, write_text_atomically
from darts_core.labels import LABEL_IGNORE, LABEL_RTS
from darts_core.recorded_paths import record_path, resolve_recorded
from darts_models.instances import ObjectMetrics, boundary_iou_counts, object_metrics
from darts_models.metric_keys import PIXEL_METRICS
from darts_train.config import TestConfig
from darts_train.hardware import torch_device
from darts_train.module import SegmentationTask, load_task
from darts_train.naming import find_run_dir
from darts_train.plotting import plot_sample, save_figure

if TYPE_CHECKING:
    from darts_dataset import TrainingSet
    from darts_dataset.nextgen_options import NextgenSetOptions

log = logging.getLogger(__name__)

EVAL_SPLITS = ("val-test", "test")
EVAL_DIR = "eval"
ALL_SCENES = "ALL"
THRESHOLD = 0.5
"""Probability above which a pixel counts as RTS (as in torchmetrics)."""
BOUNDARY_DILATION_PX = 3
OBJECT_IOU_THRESHOLD = 0.5
"""IoU at which a predicted object and a true object match (one-to-one)."""


SceneRow = dict[str, str | float | None]
"""One scene's row of a split's metrics table: ``scene_id``, counts and metric values."""


@dataclass(frozen=True)
class TestResult:
    """Where the evaluation went and what it measured."""

    __test__ = False  # not a pytest class

    checkpoint: Path
    output_dir: Path
    metrics: dict[str, dict[str, float | None]]
    """Split -> metric -> value (pixel metrics, object metrics, BoundaryIoU)."""
    per_scene: dict[str, list[SceneRow]] = field(default_factory=dict)
    """Split -> one row per scene."""


@dataclass
class _Counts:
    """Confusion counts, object counts and boundary counts of one scene (or split)."""

    n_patches: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    objects: ObjectMetrics = field(default_factory=lambda: ObjectMetrics(0, 0, 0))
    boundary_inter: int = 0
    boundary_union: int = 0

    def add(self, pred: np.ndarray, y: np.ndarray) -> None:
        valid, target = y != LABEL_IGNORE, y == LABEL_RTS
        self.n_patches += 1
        self.tp += int(np.count_nonzero(pred & target))
        self.fp += int(np.count_nonzero(pred & ~target & valid))
        self.fn += int(np.count_nonzero(~pred & target))
        self.tn += int(np.count_nonzero(~pred & ~target & valid))
        self.objects = self.objects + object_metrics(pred, y, iou_threshold=OBJECT_IOU_THRESHOLD)
        inter, union = boundary_iou_counts(pred, y, BOUNDARY_DILATION_PX)
        self.boundary_inter += inter
        self.boundary_union += union

    def object_row(self) -> dict[str, float | None]:
        o = self.objects
        boundary = self.boundary_inter / self.boundary_union if self.boundary_union else 1.0
        return {
            "ObjectPrecision": o.precision,
            "ObjectRecall": o.recall,
            "ObjectF1": o.f1,
            "ObjectTP": o.tp,
            "ObjectFP": o.fp,
            "ObjectFN": o.fn,
            "BoundaryIoU": boundary,
        }

    def row(self) -> dict[str, float | None]:
        """Threshold metrics from the counts (None where undefined), then object metrics."""

        def ratio(num: int, den: int) -> float | None:
            return num / den if den else None

        tp, fp, fn, tn = self.tp, self.fp, self.fn, self.tn
        return {
            "n_patches": self.n_patches,
            "n_valid_pixels": tp + fp + fn + tn,
            "n_positive_pixels": tp + fn,
            "Accuracy": ratio(tp + tn, tp + fp + fn + tn),
            "Precision": ratio(tp, tp + fp),
            "Specificity": ratio(tn, tn + fp),
            "Recall": ratio(tp, tp + fn),
            "F1Score": ratio(2 * tp, 2 * tp + fp + fn),
            "JaccardIndex": ratio(tp, tp + fp + fn),
            **self.object_row(),
        }


def _locate(config: TestConfig) -> tuple[Path, Path]:
    """(checkpoint, run dir) of the model to test."""
    from darts_train.train import CHECKPOINT_DIR, LAST_CHECKPOINT, RUN_FILE

    if config.model_ckp is not None:
        ckpt = Path(config.model_ckp)
        run_dir = ckpt.parent.parent if ckpt.parent.name == CHECKPOINT_DIR else ckpt.parent
        return ckpt, run_dir
    assert config.run_name is not None and config.run_id is not None  # TestConfig checks: or model_ckp
    run_dir = find_run_dir(config.artifact_dir, config.run_name, config.run_id)
    run_file = run_dir / RUN_FILE
    if run_file.is_file():
        best = json.loads(run_file.read_text()).get("best_checkpoint")
        if best and resolve_recorded(best, run_dir).is_file():  # relative to the run folder
            return resolve_recorded(best, run_dir), run_dir
    candidates = sorted((run_dir / CHECKPOINT_DIR).glob("best-*.ckpt"), key=lambda p: p.stat().st_mtime)
    if candidates:
        return candidates[-1], run_dir
    return run_dir / CHECKPOINT_DIR / LAST_CHECKPOINT, run_dir


def _write_json(path: Path, data: Any) -> None:
    write_text_atomically(path, json.dumps(data, indent=2, default=str))


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


class _SplitEvaluator:
    """Accumulates pixel metrics, curves, per-scene counts and sample patches of one split."""

    def __init__(self, scene_ids: np.ndarray | None, samples: set[int], device: torch.device) -> None:
        from torchmetrics.classification import BinaryConfusionMatrix

        from darts_models.metrics import FastBinaryPrecisionRecallCurve, FastBinaryROC, build_pixel_metrics

        self.pixel = build_pixel_metrics().to(device)
        self.roc = FastBinaryROC(thresholds=200, ignore_index=LABEL_IGNORE).to(device)
        self.pr = FastBinaryPrecisionRecallCurve(thresholds=200, ignore_index=LABEL_IGNORE).to(device)
        self.confusion = BinaryConfusionMatrix(threshold=THRESHOLD, ignore_index=LABEL_IGNORE).to(device)
        self.scene_ids = scene_ids
        self.sample_indices = samples
        self.scenes: dict[str, _Counts] = {}
        self.total = _Counts()
        self.samples: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def update(self, x: torch.Tensor, y: torch.Tensor, prob: torch.Tensor, index: torch.Tensor) -> None:
        target = y.to(prob.device)
        for metric in (self.pixel, self.roc, self.pr, self.confusion):
            metric.update(prob, target)
        prob_np, y_np = prob.cpu().numpy(), y.numpy()
        for k, i in enumerate(index.tolist()):
            pred = prob_np[k] > THRESHOLD  # torchmetrics binarises with >
            scene = str(self.scene_ids[i]) if self.scene_ids is not None else ALL_SCENES
            self.scenes.setdefault(scene, _Counts()).add(pred, y_np[k])
            self.total.add(pred, y_np[k])
            if i in self.sample_indices:
                self.samples[i] = (x[k].cpu().numpy(), y_np[k], prob_np[k])

    def summary(self) -> dict[str, float | None]:
        pixel = {k: float(v) for k, v in self.pixel.compute().items()}
        return {**{k: pixel[k] for k in PIXEL_METRICS}, **self.total.object_row()}

    def per_scene_rows(self) -> list[SceneRow]:
        rows = [{"scene_id": s, **c.row()} for s, c in sorted(self.scenes.items())]
        return [*rows, {"scene_id": ALL_SCENES, **self.total.row()}]


def _choose_samples(metadata: Any, n: int, k: int) -> set[int]:
    from darts_train.data import choose_samples

    return set(choose_samples(metadata.positive_fraction if metadata.has_metadata else None, n, k))


def _evaluate_split(
    task: SegmentationTask,
    config: TestConfig,
    split: str,
    bands: list[str],
    out_dir: Path,
    device: torch.device,
) -> tuple[dict[str, float | None], list[SceneRow]]:
    from torch.utils.data import DataLoader

    from darts_dataset import PatchDataset

    dataset = PatchDataset(
        config.train_data_dir, split, bands=bands, set_options=_split_options(config, task)
    )
    metadata = dataset.training_set.split_metadata(split)
    loader = DataLoader(dataset, batch_size=config.batch_size, num_workers=config.num_workers, shuffle=False)
    samples = _choose_samples(metadata, len(dataset), config.n_sample_plots)
    evaluator = _SplitEvaluator(metadata.scene_ids, samples, device)
    with torch.inference_mode():
        for batch in loader:
            prob = torch.sigmoid(task(batch["x"].to(device)).float())
            evaluator.update(batch["x"], batch["y"], prob, batch["index"])
    summary = evaluator.summary()
    rows = evaluator.per_scene_rows()
    _write_json(
        out_dir / "metrics.json",
        {"split": split, "n_patches": len(dataset), "metrics": summary, "per_scene": rows},
    )
    _write_csv(out_dir / "metrics.csv", rows)
    _write_split_figures(evaluator, summary, split, out_dir)
    for i, (x, y, sample_prob) in sorted(evaluator.samples.items()):
        fig = plot_sample(x, y, sample_prob, bands, title=f"{split} patch {i}")
        save_figure(fig, out_dir / "samples" / f"sample{i:06d}.png")
    return summary, rows


def _write_split_figures(
    evaluator: _SplitEvaluator, summary: dict[str, Any], split: str, out_dir: Path
) -> None:
    from darts_train.eval_plots import confusion_matrix_figure, pr_figure, roc_figure

    matrix = evaluator.confusion.compute().cpu().numpy()
    save_figure(
        confusion_matrix_figure(matrix, f"{split}: confusion matrix"), out_dir / "confusion_matrix.png"
    )
    fpr, tpr, _ = evaluator.roc.compute()
    auroc = summary.get("AUROC") or 0.0
    save_figure(roc_figure(fpr.cpu().numpy(), tpr.cpu().numpy(), auroc, f"{split}: ROC"), out_dir / "roc.png")
    precision, recall, _ = evaluator.pr.compute()
    ap = summary.get("AveragePrecision") or 0.0
    fig = pr_figure(precision.cpu().numpy(), recall.cpu().numpy(), ap, f"{split}: precision-recall")
    save_figure(fig, out_dir / "pr_curve.png")


def test_smp(config: TestConfig) -> TestResult:
    """Evaluate a checkpoint on val-test and test (splits that are missing or empty are skipped)."""
    from darts_dataset import TrainingSet

    checkpoint, run_dir = _locate(config)
    out_dir = Path(config.output_dir) if config.output_dir is not None else run_dir / EVAL_DIR
    device = torch_device(config.test_device)
    task = load_task(checkpoint, map_location=device)
    bands = list(task.hparams["bands"])
    training_set = TrainingSet(config.train_data_dir, _split_options(config, task))
    _check_norm_factors(task, training_set)
    metrics: dict[str, dict[str, float | None]] = {}
    per_scene: dict[str, list[SceneRow]] = {}
    for split in EVAL_SPLITS:
        if not training_set.has_split(split) or training_set.n_patches(split) == 0:
            log.warning("split %s is missing or empty in %s; not evaluated", split, config.train_data_dir)
            continue
        log.info("evaluating %s on %s (%d patches)", checkpoint.name, split, training_set.n_patches(split))
        metrics[split], per_scene[split] = _evaluate_split(
            task, config, split, bands, out_dir / split, device
        )
    run = dict(task.hparams.get("run") or {})
    summary = {
        "checkpoint": record_path(checkpoint, out_dir),  # relative only when inside the eval folder
        "run_name": run.get("run_name"),
        "run_id": run.get("run_id"),
        "metrics": metrics,
    }
    _write_json(out_dir / "metrics.json", summary)
    if config.wandb_project:
        _log_wandb(config, run, metrics, out_dir)
    return TestResult(checkpoint=checkpoint, output_dir=out_dir, metrics=metrics, per_scene=per_scene)


def _split_options(config: TestConfig, task: SegmentationTask) -> NextgenSetOptions:
    """The darts-nextgen split options of the run (from its recorded config), overridden by the
    ones given to test-smp; a difference is logged, since test scenes may then have been trained on."""
    from darts_dataset.nextgen_options import NextgenSetOptions

    recorded = dict((task.hparams.get("run") or {}).get("config") or {})
    keys = set(NextgenSetOptions.model_fields)
    values = {k: v for k, v in recorded.items() if k in keys}
    given = {k: getattr(config, k) for k in config.model_fields_set & keys}
    options = NextgenSetOptions(**{**values, **given})
    trained = NextgenSetOptions(**values)
    changed = sorted(k for k in keys if getattr(options, k) != getattr(trained, k))
    if values and changed:
        log.warning(
            "split option(s) %s differ from the ones the run trained with; for a darts-nextgen set the "
            "test and val-test scenes then differ from training's",
            changed,
        )
    return options


def _check_norm_factors(task: SegmentationTask, training_set: TrainingSet) -> None:
    trained = task.hparams["norm_factors"]
    for band in task.hparams["bands"]:
        if band not in training_set.bands:
            from darts_core.errors import CheckpointError

            raise CheckpointError(
                f"the checkpoint was trained on band {band!r}, which {training_set.path} lacks "
                f"(it has {list(training_set.bands)})"
            )
        if not np.isclose(trained[band], training_set.norm_factors[band]):
            log.warning(
                "band %s: the checkpoint was trained with norm factor %g, the test set uses %g",
                band,
                trained[band],
                training_set.norm_factors[band],
            )


def _log_wandb(
    config: TestConfig, run: dict[str, Any], metrics: dict[str, dict[str, Any]], out_dir: Path
) -> None:
    import wandb

    wb = wandb.init(
        project=config.wandb_project,
        entity=config.wandb_entity,
        name=run.get("run_name"),
        group=run.get("trial_name"),
        job_type="test",
        dir=str(out_dir),
        config={"checkpoint_run": run.get("run_id")},
    )
    try:
        wb.log(
            {
                f"{split}/{k}": v
                for split, values in metrics.items()
                for k, v in values.items()
                if v is not None
            }
        )
    finally:
        wb.finish()
