"""Object-level (instance) metrics and boundary IoU, in numpy/scipy, plus a torchmetrics accumulator.

Objects are connected components (8-connectivity by default) of the predicted mask and of the RTS
label (value 1). Pixels labelled 2 (ignore) are removed from both masks before labelling, so an object
seen only through no-data counts for nothing. A predicted object and a true object match when their IoU
is at least ``iou_threshold``; matching is one-to-one, by the Hungarian algorithm
(:func:`scipy.optimize.linear_sum_assignment`) maximising first the number of matches, then their summed
IoU. With ``iou_threshold >= 0.5`` every object has at most one candidate, so the matching is unique.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

from darts_core.errors import DartsInputError
from darts_core.labels import LABEL_IGNORE


@dataclass(frozen=True)
class ObjectMetrics:
    """Object counts and scores. Zero denominators give 0, except no objects at all: all scores 1."""

    tp: int
    """Predicted objects matched one-to-one to a true object."""
    fp: int
    """Predicted objects without a match."""
    fn: int
    """True objects without a match."""

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp, self.tp + self.fp + self.fn)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn, self.tp + self.fp + self.fn)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn, self.tp + self.fp + self.fn)

    def __add__(self, other: ObjectMetrics) -> ObjectMetrics:
        return ObjectMetrics(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def _ratio(num: int, den: int, total: int) -> float:
    if total == 0:
        return 1.0
    return num / den if den > 0 else 0.0


def _check_pair(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred)
    target = np.asarray(target)
    if pred.shape != target.shape or pred.ndim not in (2, 3):
        raise DartsInputError(
            f"pred {pred.shape} and target {target.shape} must have the same shape [H, W] or [B, H, W]"
        )
    return pred.astype(bool, copy=False), target


def _structure(connectivity: int) -> np.ndarray:
    if connectivity not in (1, 2):
        raise DartsInputError(
            f"connectivity must be 1 (4-neighbours) or 2 (8-neighbours), got {connectivity}"
        )
    return ndimage.generate_binary_structure(2, connectivity)


def label_objects(mask: np.ndarray, connectivity: int = 2) -> tuple[np.ndarray, int]:
    """Connected components of a 2-D bool mask: int32 ids (0 = background) and their count."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    n = ndimage.label(mask, structure=_structure(connectivity), output=labels)
    return labels, int(n)


def _match_count(pred_lab: np.ndarray, n_pred: int, true_lab: np.ndarray, n_true: int, thr: float) -> int:
    """Number of one-to-one matches with IoU >= thr."""
    both = (pred_lab > 0) & (true_lab > 0)
    if n_pred == 0 or n_true == 0 or not both.any():
        return 0
    pair = pred_lab[both].astype(np.int64) * (n_true + 1) + true_lab[both]
    keys, inter = np.unique(pair, return_counts=True)
    p_ids, t_ids = keys // (n_true + 1), keys % (n_true + 1)
    area_p = np.bincount(pred_lab.ravel(), minlength=n_pred + 1)
    area_t = np.bincount(true_lab.ravel(), minlength=n_true + 1)
    iou = inter / (area_p[p_ids] + area_t[t_ids] - inter)
    ok = iou >= thr
    p_ids, t_ids, iou = p_ids[ok], t_ids[ok], iou[ok]
    if len(iou) == 0:
        return 0
    if len(np.unique(p_ids)) == len(p_ids) and len(np.unique(t_ids)) == len(t_ids):
        return len(iou)  # already one-to-one (always the case for thr >= 0.5)
    rows, p_idx = np.unique(p_ids, return_inverse=True)
    cols, t_idx = np.unique(t_ids, return_inverse=True)
    bonus = float(min(len(rows), len(cols)) + 1)  # one more match outweighs any IoU sum
    weight = np.zeros((len(rows), len(cols)))
    weight[p_idx, t_idx] = bonus + iou
    r, c = linear_sum_assignment(weight, maximize=True)
    return int(np.count_nonzero(weight[r, c] > 0))


def _object_counts(pred: np.ndarray, target: np.ndarray, thr: float, connectivity: int) -> ObjectMetrics:
    valid = target != LABEL_IGNORE
    pred_lab, n_pred = label_objects(pred & valid, connectivity)
    true_lab, n_true = label_objects((target == 1) & valid, connectivity)
    tp = _match_count(pred_lab, n_pred, true_lab, n_true, thr)
    return ObjectMetrics(tp=tp, fp=n_pred - tp, fn=n_true - tp)


def object_metrics(
    pred: np.ndarray, target: np.ndarray, iou_threshold: float = 0.5, connectivity: int = 2
) -> ObjectMetrics:
    """Object-level TP/FP/FN of a bool prediction vs a {0, 1, 2} label, ``[H, W]`` or ``[B, H, W]``.

    For a batch, objects are labelled per sample and the counts summed.
    """
    if not 0.0 < iou_threshold <= 1.0:
        raise DartsInputError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    pred, target = _check_pair(pred, target)
    if pred.ndim == 2:
        return _object_counts(pred, target, iou_threshold, connectivity)
    total = ObjectMetrics(0, 0, 0)
    for p, t in zip(pred, target, strict=True):
        total = total + _object_counts(p, t, iou_threshold, connectivity)
    return total


def _boundary(mask: np.ndarray, dilation_px: int) -> np.ndarray:
    """Mask pixels within ``dilation_px`` (chessboard distance) of its contour; outside is background."""
    eroded = ndimage.binary_erosion(
        mask, structure=np.ones((3, 3), bool), iterations=dilation_px, border_value=0
    )
    return mask & ~eroded


def boundary_iou_counts(pred: np.ndarray, target: np.ndarray, dilation_px: int) -> tuple[int, int]:
    """Summed intersection and union of the boundary bands (per-sample erosion), ignore pixels excluded."""
    if dilation_px < 1:
        raise DartsInputError(f"boundary IoU dilation_px must be >= 1, got {dilation_px}")
    pred, target = _check_pair(pred, target)
    if pred.ndim == 2:
        pred, target = pred[None], target[None]
    inter = union = 0
    for p, t in zip(pred, target, strict=True):
        valid = t != LABEL_IGNORE
        bp = _boundary(p, dilation_px) & valid
        bt = _boundary(t == 1, dilation_px) & valid
        inter += int(np.count_nonzero(bp & bt))
        union += int(np.count_nonzero(bp | bt))
    return inter, union


def boundary_iou(pred: np.ndarray, target: np.ndarray, dilation_px: int) -> float:
    """Boundary IoU (Cheng et al. 2021) of a bool prediction vs a {0, 1, 2} label.

    The boundary band of a mask is the mask minus its erosion by ``dilation_px`` pixels (3x3 square
    element, so chessboard distance; outside the image counts as background). Each sample of a
    ``[B, H, W]`` batch is eroded on its own; intersections and unions are summed over the batch (pooled,
    like pixel JaccardIndex). Pixels labelled 2 are excluded. Both bands empty: 1.0; one empty: 0.0.
    """
    inter, union = boundary_iou_counts(pred, target, dilation_px)
    return 1.0 if union == 0 else inter / union
