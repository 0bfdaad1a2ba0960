"""Pixel-level metrics (torchmetrics, binary, threshold 0.5, ignore label 2)."""

from __future__ import annotations

import torch
from torchmetrics import Metric, MetricCollection

from darts_models.instances import ObjectMetrics, boundary_iou_counts, object_metrics
from darts_models.metric_keys import OBJECT_METRICS, PIXEL_METRICS

IGNORE_INDEX = 2
"""Label value of invalid / no-data pixels, ignored by loss and metrics."""
THRESHOLD = 0.5
"""A pixel counts as RTS when its probability is above this (torchmetrics uses ``>``)."""
DEFAULT_CURVE_THRESHOLDS = 200
"""Bins of AUROC / AveragePrecision by default: constant memory over a whole validation epoch."""


def build_pixel_metrics(curve_thresholds: int | None = DEFAULT_CURVE_THRESHOLDS) -> MetricCollection:
    """A MetricCollection with keys :data:`darts_models.metric_keys.PIXEL_METRICS`.

    ``update(probs, target)``: ``probs`` float probabilities ``[B, H, W]`` (after the sigmoid), ``target``
    integer ``[B, H, W]`` in {0, 1, 2}; pixels labelled 2 are ignored. Threshold-based metrics binarise at
    0.5. ``curve_thresholds`` bins AUROC and AveragePrecision into that many equally spaced thresholds
    (memory independent of the number of pixels); ``None`` computes them exactly, keeping every pixel.
    Clone it per stage (``collection.clone(prefix="val/")``).
    """
    from torchmetrics import classification as c

    common = {"ignore_index": IGNORE_INDEX}
    thresholded = {"threshold": THRESHOLD, **common}
    metrics = {
        "Accuracy": c.BinaryAccuracy(**thresholded),
        "Precision": c.BinaryPrecision(**thresholded),
        "Specificity": c.BinarySpecificity(**thresholded),
        "Recall": c.BinaryRecall(**thresholded),
        "F1Score": c.BinaryF1Score(**thresholded),
        "JaccardIndex": c.BinaryJaccardIndex(**thresholded),
        "CohenKappa": c.BinaryCohenKappa(**thresholded),
        "HammingDistance": c.BinaryHammingDistance(**thresholded),
        "AUROC": c.BinaryAUROC(thresholds=curve_thresholds, **common),
        "AveragePrecision": c.BinaryAveragePrecision(thresholds=curve_thresholds, **common),
    }
    if tuple(metrics) != PIXEL_METRICS:  # pragma: no cover - guards the shared key list (order too)
        raise RuntimeError(f"pixel metric keys {tuple(metrics)} drifted from metric_keys {PIXEL_METRICS}")
    return MetricCollection(metrics)


class InstanceMetrics(Metric):
    """Accumulates object-level counts and boundary IoU over batches (keys :data:`OBJECT_METRICS`).

    ``update(probs, target)``: ``probs`` ``[B, H, W]`` probabilities (RTS where > 0.5) or bools, ``target``
    ``[B, H, W]`` in {0, 1, 2}. Each sample is labelled and eroded on its own (numpy/scipy on the CPU);
    counts are summed, so ``compute()`` scores the whole set.
    """

    full_state_update = False
    higher_is_better = True

    def __init__(
        self, iou_threshold: float = 0.5, dilation_px: int = 3, connectivity: int = 2, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.iou_threshold = iou_threshold
        self.dilation_px = dilation_px
        self.connectivity = connectivity
        for name in ("tp", "fp", "fn", "boundary_inter", "boundary_union"):
            self.add_state(name, default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, probs: torch.Tensor, target: torch.Tensor) -> None:
        probs = probs.detach()
        pred = (probs if probs.dtype == torch.bool else probs > THRESHOLD).cpu().numpy()
        tgt = target.detach().cpu().numpy()
        counts = object_metrics(pred, tgt, self.iou_threshold, self.connectivity)
        inter, union = boundary_iou_counts(pred, tgt, self.dilation_px)
        self.tp += counts.tp
        self.fp += counts.fp
        self.fn += counts.fn
        self.boundary_inter += inter
        self.boundary_union += union

    def compute(self) -> dict[str, torch.Tensor]:
        counts = ObjectMetrics(int(self.tp), int(self.fp), int(self.fn))
        union = int(self.boundary_union)
        biou = 1.0 if union == 0 else int(self.boundary_inter) / union
        values = (counts.precision, counts.recall, counts.f1, counts.tp, counts.fp, counts.fn, biou)
        return {k: torch.tensor(float(v)) for k, v in zip(OBJECT_METRICS, values, strict=True)}
