"""Metric keys, defined once and shared by logging, checkpointing, early stopping, pruning and sweeps."""

from __future__ import annotations

PIXEL_METRICS: tuple[str, ...] = (
    "Accuracy",
    "Precision",
    "Specificity",
    "Recall",
    "F1Score",
    "JaccardIndex",
    "CohenKappa",
    "HammingDistance",
    "AUROC",
    "AveragePrecision",
)
OBJECT_METRICS: tuple[str, ...] = (
    "ObjectPrecision",
    "ObjectRecall",
    "ObjectF1",
    "ObjectTP",
    "ObjectFP",
    "ObjectFN",
    "BoundaryIoU",
)
"""Test-stage instance metrics (one-to-one matched connected components) and boundary IoU."""
POSITIVE_DEPENDENT: frozenset[str] = frozenset(
    {"Precision", "Recall", "F1Score", "JaccardIndex", "CohenKappa", "AUROC", "AveragePrecision"}
)
"""Pixel metrics without a defined value on a validation set holding no RTS pixel: logged as NaN there."""
POSITIVE_PIXELS = "positive_pixels"
"""Logged count (``val/positive_pixels``) of RTS pixels in the validation set of an epoch."""
POSITIVE_PATCHES = "positive_patches"
"""Logged count (``val/positive_patches``) of validation patches holding at least one RTS pixel."""
LOSS = "loss"
TRAIN_PREFIX = "train"
VAL_PREFIX = "val"
TEST_PREFIX = "test"

MONITOR_METRIC = "JaccardIndex"
"""The metric that selects the best checkpoint and drives early stopping (maximised)."""


def metric_key(stage: str, name: str) -> str:
    """``train/loss``, ``val/JaccardIndex``, ..."""
    return f"{stage}/{name}"


def fold_metric_key(fold: int, name: str) -> str:
    """The reference's per-fold key, ``val0/JaccardIndex``, kept for its sweep files."""
    return f"{VAL_PREFIX}{fold}/{name}"


VAL_MONITOR_KEY = metric_key(VAL_PREFIX, MONITOR_METRIC)
TRAIN_LOSS_KEY = metric_key(TRAIN_PREFIX, LOSS)
VAL_LOSS_KEY = metric_key(VAL_PREFIX, LOSS)
