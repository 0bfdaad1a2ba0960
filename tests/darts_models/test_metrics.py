"""Pixel metrics vs independent numpy formulas on random masks with ignore pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import rankdata

from darts_models import build_pixel_metrics
from darts_models.metric_keys import PIXEL_METRICS


def _batches(seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(3):
        target = rng.choice([0, 1, 2], size=(2, 24, 24), p=[0.6, 0.3, 0.1])
        # probabilities correlated with the target, rounded so there are ties for the curve metrics
        probs = np.clip(0.35 * (target == 1) + rng.random(target.shape) * 0.65, 0, 1).round(3)
        out.append((torch.from_numpy(probs.astype(np.float32)), torch.from_numpy(target)))
    return out


def _auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney U with mid-ranks for ties."""
    ranks = rankdata(scores)
    n_pos, n_neg = labels.sum(), (1 - labels).sum()
    return (ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """sum_n (R_n - R_{n-1}) P_n over distinct thresholds, highest first."""
    ap, prev_recall = 0.0, 0.0
    for thr in np.unique(scores)[::-1]:
        sel = scores >= thr
        tp = (labels[sel] == 1).sum()
        recall = tp / labels.sum()
        ap += (recall - prev_recall) * tp / sel.sum()
        prev_recall = recall
    return ap


def _expected(batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
    probs = np.concatenate([p.numpy().ravel() for p, _ in batches]).astype(np.float64)
    target = np.concatenate([t.numpy().ravel() for _, t in batches])
    valid = target != 2
    s, y = probs[valid], target[valid]
    pred = s > 0.5
    tp = np.sum(pred & (y == 1))
    fp = np.sum(pred & (y == 0))
    fn = np.sum(~pred & (y == 1))
    tn = np.sum(~pred & (y == 0))
    n = tp + fp + fn + tn
    acc = (tp + tn) / n
    p_e = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / n**2
    return {
        "Accuracy": acc,
        "Precision": tp / (tp + fp),
        "Specificity": tn / (tn + fp),
        "Recall": tp / (tp + fn),
        "F1Score": 2 * tp / (2 * tp + fp + fn),
        "JaccardIndex": tp / (tp + fp + fn),
        "CohenKappa": (acc - p_e) / (1 - p_e),
        "HammingDistance": 1 - acc,
        "AUROC": _auroc(s, y),
        "AveragePrecision": _average_precision(s, y),
    }


def test_keys_are_the_shared_metric_keys() -> None:
    assert sorted(build_pixel_metrics().keys()) == sorted(PIXEL_METRICS)


def test_exact_metrics_match_numpy_to_1e6() -> None:
    batches = _batches(0)
    metrics = build_pixel_metrics(curve_thresholds=None)
    for probs, target in batches:
        metrics.update(probs, target)
    got = {k: float(v) for k, v in metrics.compute().items()}
    expected = _expected(batches)
    for key in PIXEL_METRICS:
        assert got[key] == pytest.approx(expected[key], abs=1e-6), key


def test_binned_curves_are_close_to_exact_and_others_identical() -> None:
    batches = _batches(1)
    metrics = build_pixel_metrics()  # binned AUROC / AP: constant memory
    for probs, target in batches:
        metrics.update(probs, target)
    got = {k: float(v) for k, v in metrics.compute().items()}
    expected = _expected(batches)
    for key in PIXEL_METRICS:
        tol = 5e-3 if key in ("AUROC", "AveragePrecision") else 1e-6
        assert got[key] == pytest.approx(expected[key], abs=tol), key


def test_ignored_pixels_do_not_count() -> None:
    probs, target = _batches(2)[0]
    metrics = build_pixel_metrics(curve_thresholds=None)
    metrics.update(probs, target)
    before = {k: float(v) for k, v in metrics.compute().items()}
    wild = torch.where(target == 2, 1.0 - probs, probs)  # flip predictions only where ignored
    metrics.reset()
    metrics.update(wild, target)
    after = {k: float(v) for k, v in metrics.compute().items()}
    assert before == pytest.approx(after, abs=1e-7)


@pytest.mark.parametrize("thresholds", [200, 7, [0.0, 0.25, 0.5, 0.75, 1.0]])
def test_histogram_curve_update_gives_torchmetrics_counts(thresholds: int | list[float]) -> None:
    from torchmetrics.classification import BinaryAUROC, BinaryAveragePrecision, BinaryROC

    from darts_models.metrics import FastBinaryAUROC, FastBinaryAveragePrecision, FastBinaryROC

    rng = np.random.default_rng(3)
    target = torch.from_numpy(rng.choice([0, 1, 2], size=(4, 160, 160), p=[0.6, 0.3, 0.1]))
    # probabilities exactly on the thresholds too, where >= decides
    grid = torch.linspace(0, 1, thresholds) if isinstance(thresholds, int) else torch.tensor(thresholds)
    probs = torch.from_numpy(rng.random(target.shape).astype(np.float32))
    probs.view(-1)[: grid.numel()] = grid
    probs.view(-1)[-1] = float("nan")
    for fast_cls, ref_cls in (
        (FastBinaryAUROC, BinaryAUROC),
        (FastBinaryAveragePrecision, BinaryAveragePrecision),
        (FastBinaryROC, BinaryROC),
    ):
        fast, ref = (
            fast_cls(thresholds=thresholds, ignore_index=2),
            ref_cls(thresholds=thresholds, ignore_index=2),
        )
        # over 50,000 pixels each: torchmetrics' per-threshold loop; logits are squashed by both
        for half, labels in ((probs[:2], target[:2]), (probs[2:] * 8 - 4, target[2:])):
            fast.update(half, labels)
            ref.update(half, labels)
        assert torch.equal(fast.confmat, ref.confmat), fast_cls.__name__
        assert fast.confmat.sum() > 0


def test_training_metrics_skip_target_checks_only_when_asked() -> None:
    probs, target = _batches(4)[0]
    bad = target.clone()
    bad[0, 0, 0] = 5
    with pytest.raises(RuntimeError, match="values"):
        build_pixel_metrics().update(probs, bad)
    checked, unchecked = build_pixel_metrics(), build_pixel_metrics(validate_args=False)
    checked.update(probs, target)
    unchecked.update(probs, target)
    assert {k: float(v) for k, v in unchecked.compute().items()} == {
        k: float(v) for k, v in checked.compute().items()
    }
