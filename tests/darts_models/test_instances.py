"""Object metrics and boundary IoU vs independent numpy/scipy computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

from darts_core.errors import DartsError
from darts_models import OBJECT_METRICS, InstanceMetrics, ObjectMetrics, boundary_iou, object_metrics

EIGHT = np.ones((3, 3), dtype=bool)


def _random_pair(
    rng: np.random.Generator, shape: tuple[int, ...] = (48, 48)
) -> tuple[np.ndarray, np.ndarray]:
    """Blobby masks: smoothed noise, the prediction a perturbed copy of the label; 8 % ignore."""
    base = ndimage.gaussian_filter(rng.random(shape), 2.0) > 0.52
    noisy = ndimage.gaussian_filter(rng.random(shape), 2.0) > 0.55
    pred = np.where(rng.random(shape) < 0.7, base, noisy)
    target = base.astype(np.uint8)
    target[rng.random(shape) < 0.08] = 2
    return pred, target


def _reference_counts(pred: np.ndarray, target: np.ndarray, thr: float) -> tuple[int, int, int]:
    """Brute force: IoU of every component pair from explicit masks, maximum-cardinality matching."""
    valid = target != 2
    pl, n_p = ndimage.label(pred & valid, structure=EIGHT)
    tl, n_t = ndimage.label((target == 1) & valid, structure=EIGHT)
    eligible = np.zeros((n_p, n_t))
    for i in range(1, n_p + 1):
        pm = pl == i
        for j in np.unique(tl[pm]):
            if j == 0:
                continue
            tm = tl == j
            if (pm & tm).sum() / (pm | tm).sum() >= thr:
                eligible[i - 1, j - 1] = 1
    tp = int(eligible[linear_sum_assignment(eligible, maximize=True)].sum()) if eligible.size else 0
    return tp, n_p - tp, n_t - tp


@pytest.mark.parametrize("thr", [0.5, 0.25, 0.1])
def test_object_counts_match_brute_force(thr: float) -> None:
    rng = np.random.default_rng(3)
    for _ in range(4):
        pred, target = _random_pair(rng)
        got = object_metrics(pred, target, iou_threshold=thr)
        assert (got.tp, got.fp, got.fn) == _reference_counts(pred, target, thr)
        assert min(got.tp, got.fp, got.fn) >= 0
        assert got.precision == pytest.approx(got.tp / max(got.tp + got.fp, 1), abs=1e-12)
        assert got.recall == pytest.approx(got.tp / max(got.tp + got.fn, 1), abs=1e-12)


def test_matching_is_one_to_one_where_greedy_fails() -> None:
    # true objects A (cols 0-9) and B (cols 12-21), rows 0-3. P1 (rows 0-1, cols 2-21) has IoU 0.25
    # with A and 1/3 with B; P2 (row 3, cols 12-21, not touching P1) has IoU 0.25 with B. Greedy by
    # IoU takes P1-B and ends with one match; the maximum one-to-one matching is P1-A, P2-B.
    target = np.zeros((4, 24), np.uint8)
    target[:, 0:10] = 1
    target[:, 12:22] = 1
    pred = np.zeros((4, 24), bool)
    pred[0:2, 2:22] = True
    pred[3, 12:22] = True
    assert object_metrics(pred, target, iou_threshold=0.2) == ObjectMetrics(tp=2, fp=0, fn=0)
    assert object_metrics(pred, target, iou_threshold=0.3) == ObjectMetrics(tp=1, fp=1, fn=1)


def test_ignore_area_objects_count_for_nothing() -> None:
    target = np.zeros((10, 10), np.uint8)
    target[:4, :4] = 2
    pred = np.zeros((10, 10), bool)
    pred[1:3, 1:3] = True  # inside the ignore area only
    assert object_metrics(pred, target) == ObjectMetrics(0, 0, 0)


def test_empty_and_one_sided_cases() -> None:
    empty = np.zeros((8, 8), bool)
    label = np.zeros((8, 8), np.uint8)
    both_empty = object_metrics(empty, label)
    assert (both_empty.precision, both_empty.recall, both_empty.f1) == (1.0, 1.0, 1.0)
    label[2:5, 2:5] = 1
    missed = object_metrics(empty, label)
    assert (missed.tp, missed.fp, missed.fn, missed.recall, missed.f1) == (0, 0, 1, 0.0, 0.0)
    spurious = object_metrics(label == 1, np.zeros((8, 8), np.uint8))
    assert (spurious.fp, spurious.precision) == (1, 0.0)


def test_batch_counts_are_summed_per_sample() -> None:
    rng = np.random.default_rng(4)
    pairs = [_random_pair(rng, (32, 32)) for _ in range(3)]
    pred = np.stack([p for p, _ in pairs])
    target = np.stack([t for _, t in pairs])
    total = object_metrics(pred, target)
    assert total == sum((object_metrics(p, t) for p, t in pairs), ObjectMetrics(0, 0, 0))
    with pytest.raises(DartsError, match="shape"):
        object_metrics(pred, target[0])


def _reference_boundary(mask: np.ndarray, d: int) -> np.ndarray:
    """Mask pixels whose chessboard distance to the background (outside = background) is <= d."""
    padded = np.pad(mask, 1)
    dist = ndimage.distance_transform_cdt(padded, metric="chessboard")[1:-1, 1:-1]
    return mask & (dist <= d)


@pytest.mark.parametrize("d", [1, 2, 5])
def test_boundary_iou_matches_distance_transform(d: int) -> None:
    rng = np.random.default_rng(5)
    pairs = [_random_pair(rng, (40, 40)) for _ in range(3)]
    inter = union = 0
    for p, t in pairs:
        valid = t != 2
        bp = _reference_boundary(p, d) & valid
        bt = _reference_boundary(t == 1, d) & valid
        inter += (bp & bt).sum()
        union += (bp | bt).sum()
        single = boundary_iou(p, t, d)
        assert single == pytest.approx((bp & bt).sum() / (bp | bt).sum(), abs=1e-6)
    batch = boundary_iou(np.stack([p for p, _ in pairs]), np.stack([t for _, t in pairs]), d)
    assert batch == pytest.approx(inter / union, abs=1e-6)


def test_boundary_iou_erodes_each_sample_alone_and_defines_empty_masks() -> None:
    full = np.ones((2, 12, 12), bool)
    # per-sample erosion: every sample has its own frame of boundary, identical for pred and target
    assert boundary_iou(full, full.astype(np.uint8), 2) == 1.0
    frame = _reference_boundary(full[0], 2)
    shifted = np.zeros_like(full)
    shifted[:, 3:9, 3:9] = True
    expected = (frame & _reference_boundary(shifted[0], 2)).sum() / (
        frame | _reference_boundary(shifted[0], 2)
    ).sum()
    assert boundary_iou(shifted, full.astype(np.uint8), 2) == pytest.approx(expected, abs=1e-9)
    empty = np.zeros((12, 12), bool)
    assert boundary_iou(empty, empty.astype(np.uint8), 3) == 1.0
    assert boundary_iou(empty, full[0].astype(np.uint8), 3) == 0.0
    assert boundary_iou(full[0], empty.astype(np.uint8), 3) == 0.0


def test_instance_metric_accumulates_batches() -> None:
    rng = np.random.default_rng(6)
    pairs = [_random_pair(rng, (32, 32)) for _ in range(4)]
    metric = InstanceMetrics(iou_threshold=0.5, dilation_px=2)
    for i in (0, 2):
        probs = torch.from_numpy(np.stack([p for p, _ in pairs[i : i + 2]]).astype(np.float32) * 0.9)
        metric.update(probs, torch.from_numpy(np.stack([t for _, t in pairs[i : i + 2]])))
    out = metric.compute()
    assert set(out) == set(OBJECT_METRICS)
    pred = np.stack([p for p, _ in pairs])
    target = np.stack([t for _, t in pairs])
    ref = object_metrics(pred, target)
    assert (out["ObjectTP"], out["ObjectFP"], out["ObjectFN"]) == (ref.tp, ref.fp, ref.fn)
    assert float(out["ObjectF1"]) == pytest.approx(ref.f1, abs=1e-6)
    assert float(out["BoundaryIoU"]) == pytest.approx(boundary_iou(pred, target, 2), abs=1e-6)
