"""Pixel-level metrics (torchmetrics, binary, threshold 0.5, ignore label 2)."""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import Metric, MetricCollection
from torchmetrics.classification import (
    BinaryAUROC,
    BinaryAveragePrecision,
    BinaryPrecisionRecallCurve,
    BinaryROC,
)
from torchmetrics.functional.classification.precision_recall_curve import (
    _binary_precision_recall_curve_tensor_validation,
)
from torchmetrics.utilities.data import _bincount

from darts_core.labels import LABEL_IGNORE, LABEL_RTS
from darts_models.instances import ObjectMetrics, boundary_iou_counts, object_metrics
from darts_models.metric_keys import OBJECT_METRICS, PIXEL_METRICS

THRESHOLD = 0.5
"""A pixel counts as RTS when its probability is above this (torchmetrics uses ``>``)."""
DEFAULT_CURVE_THRESHOLDS = 200
"""Bins of AUROC / AveragePrecision by default: constant memory over a whole validation epoch."""


def binned_confusion(
    preds: torch.Tensor, target: torch.Tensor, thresholds: torch.Tensor, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """Confusion matrix ``[T, 2, 2]`` (``[[tn, fp], [fn, tp]]``) of ``preds >= thresholds[t]`` per threshold.

    The same counts as torchmetrics' binned precision-recall curve update, from one histogram of the
    predictions over the sorted ``thresholds`` instead of one pass over all pixels per threshold:
    O(N log T) instead of O(N T), which made binned AUROC / AveragePrecision the most expensive part
    of a training step. ``target == 1`` is positive; pixels where ``valid`` is False count nowhere
    (no boolean indexing, so no device-host sync); NaN predictions are negative at every threshold.
    """
    preds, target = preds.flatten(), target.flatten()
    n_thresholds = len(thresholds)
    dtype = torch.promote_types(preds.dtype, thresholds.dtype)
    # number of thresholds <= p: p is predicted positive at thresholds[0 .. k-1]
    k = torch.searchsorted(thresholds.to(dtype), preds.to(dtype), right=True)
    k = k.masked_fill(torch.isnan(preds), 0)
    label = (target == LABEL_RTS).long()
    if valid is not None:
        label = label.masked_fill(~valid.flatten(), LABEL_IGNORE)  # the third, discarded bin
    hist = _bincount(k * 3 + label, minlength=3 * (n_thresholds + 1)).reshape(n_thresholds + 1, 3)[:, :2]
    above = hist.flip(0).cumsum(0).flip(0)[1:]  # above[t] = predictions positive at thresholds[t]
    fp, tp = above[:, 0], above[:, 1]
    neg, pos = hist[:, 0].sum(), hist[:, 1].sum()
    return torch.stack([torch.stack([neg - fp, fp], -1), torch.stack([pos - tp, tp], -1)], 1)


class _HistogramCurveUpdate(BinaryPrecisionRecallCurve):
    """Binned curve metrics updated by :func:`binned_confusion` (exact or unsorted: torchmetrics' update)."""

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        thresholds = self.thresholds
        if (
            thresholds is None
            or len(thresholds) < 2
            or self.normalization not in (None, "sigmoid")
            or bool((thresholds.diff() < 0).any())
        ):
            super().update(preds, target)
            return
        if self.validate_args:
            _binary_precision_recall_curve_tensor_validation(preds, target, self.ignore_index)
        valid = None if self.ignore_index is None else target != self.ignore_index
        if self.normalization == "sigmoid":  # logits, not probabilities: as torchmetrics, on valid pixels
            outside = (preds < 0) | (preds > 1)
            outside = (outside if valid is None else outside & valid).any()
            if preds.device.type == "cpu":
                preds = preds.sigmoid() if outside else preds
            else:
                preds = torch.where(outside, preds.sigmoid(), preds)
        self.confmat += binned_confusion(preds, target, thresholds, valid)


class FastBinaryAUROC(_HistogramCurveUpdate, BinaryAUROC):
    """:class:`torchmetrics.classification.BinaryAUROC` with a histogram update (same values)."""


class FastBinaryAveragePrecision(_HistogramCurveUpdate, BinaryAveragePrecision):
    """:class:`torchmetrics.classification.BinaryAveragePrecision` with a histogram update (same values)."""


class FastBinaryROC(_HistogramCurveUpdate, BinaryROC):
    """:class:`torchmetrics.classification.BinaryROC` with a histogram update (same values)."""


class FastBinaryPrecisionRecallCurve(_HistogramCurveUpdate, BinaryPrecisionRecallCurve):
    """``BinaryPrecisionRecallCurve`` of torchmetrics with a histogram update (same values)."""


def build_pixel_metrics(
    curve_thresholds: int | None = DEFAULT_CURVE_THRESHOLDS, validate_args: bool = True
) -> MetricCollection:
    """A MetricCollection with keys :data:`darts_models.metric_keys.PIXEL_METRICS`.

    ``update(probs, target)``: ``probs`` float probabilities ``[B, H, W]`` (after the sigmoid), ``target``
    integer ``[B, H, W]`` in {0, 1, 2}; pixels labelled 2 are ignored. Threshold-based metrics binarise at
    0.5. ``curve_thresholds`` bins AUROC and AveragePrecision into that many equally spaced thresholds
    (memory independent of the number of pixels; updated from a histogram, so they cost about as
    much as the threshold metrics); ``None`` computes them exactly, keeping every pixel.
    ``validate_args=False`` skips torchmetrics' per-update check of the target values (a
    ``torch.unique`` per metric group): for targets already checked, such as a training set's.
    Clone it per stage (``collection.clone(prefix="val/")``).
    """
    from torchmetrics import classification as c

    common: dict[str, Any] = {"ignore_index": LABEL_IGNORE, "validate_args": validate_args}
    thresholded: dict[str, Any] = {"threshold": THRESHOLD, **common}
    metrics: dict[str, Metric | MetricCollection] = {
        "Accuracy": c.BinaryAccuracy(**thresholded),
        "Precision": c.BinaryPrecision(**thresholded),
        "Specificity": c.BinarySpecificity(**thresholded),
        "Recall": c.BinaryRecall(**thresholded),
        "F1Score": c.BinaryF1Score(**thresholded),
        "JaccardIndex": c.BinaryJaccardIndex(**thresholded),
        "CohenKappa": c.BinaryCohenKappa(**thresholded),
        "HammingDistance": c.BinaryHammingDistance(**thresholded),
        "AUROC": FastBinaryAUROC(thresholds=curve_thresholds, **common),
        "AveragePrecision": FastBinaryAveragePrecision(thresholds=curve_thresholds, **common),
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
    tp: torch.Tensor
    fp: torch.Tensor
    fn: torch.Tensor
    boundary_inter: torch.Tensor
    boundary_union: torch.Tensor

    def __init__(
        self, iou_threshold: float = 0.5, dilation_px: int = 3, connectivity: int = 2, **kwargs: Any
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
