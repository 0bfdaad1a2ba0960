from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from darts_core.errors import DartsError
from darts_models import FocalLoss


def _random_case(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 1, 8, 8, generator=g) * 3
    target = torch.randint(0, 3, (2, 8, 8), generator=g)
    return logits, target


@pytest.mark.parametrize(("alpha", "gamma"), [(None, 2.0), (0.25, 2.0), (0.75, 0.0), (None, 0.5)])
def test_perfect_confident_logits_give_zero_loss(alpha: float | None, gamma: float) -> None:
    target = torch.randint(0, 2, (2, 16, 16))
    logits = (target.float() * 2 - 1) * 50  # +50 for RTS, -50 for background
    loss = FocalLoss(alpha, gamma)(logits, target)
    assert loss.item() < 1e-12


def test_ignored_pixels_change_neither_loss_nor_gradient() -> None:
    logits, target = _random_case()
    ignored = (target == 2).unsqueeze(1)
    assert ignored.any()
    loss_fn = FocalLoss(0.25, 2.0)

    a = logits.clone().requires_grad_(True)
    loss_a = loss_fn(a, target)
    loss_a.backward()
    b_values = torch.where(ignored, torch.randn_like(logits) * 100, logits)  # wild values where ignored
    b = b_values.clone().requires_grad_(True)
    loss_b = loss_fn(b, target)
    loss_b.backward()

    assert loss_a.item() == pytest.approx(loss_b.item(), abs=1e-7)
    assert torch.all(a.grad[ignored] == 0) and torch.all(b.grad[ignored] == 0)
    assert torch.allclose(a.grad, b.grad, atol=1e-9)
    # and the loss equals the loss over the valid pixels alone
    valid = ~ignored.squeeze(1)
    only_valid = loss_fn(logits.squeeze(1)[valid][None], target[valid][None])
    assert loss_a.item() == pytest.approx(only_valid.item(), rel=1e-6)


def test_alpha_weighting_matches_hand_computation() -> None:
    logits, target = _random_case(1)
    alpha, gamma = 0.3, 1.5
    x = logits.squeeze(1).double().numpy()
    t = target.numpy()
    p = 1 / (1 + np.exp(-x))
    pt = np.where(t == 1, p, 1 - p)
    alpha_t = np.where(t == 1, alpha, 1 - alpha)
    per_pixel = -alpha_t * (1 - pt) ** gamma * np.log(pt)
    expected = per_pixel[t != 2].mean()
    got = FocalLoss(alpha, gamma)(logits, target).item()
    assert got == pytest.approx(expected, rel=1e-5)


def test_gamma_zero_without_alpha_is_plain_bce() -> None:
    logits, target = _random_case(2)
    valid = target != 2
    expected = F.binary_cross_entropy_with_logits(logits.squeeze(1)[valid], target[valid].float())
    got = FocalLoss(None, 0.0)(logits.squeeze(1), target)
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)


def test_all_ignored_gives_zero_and_zero_gradient() -> None:
    logits = torch.randn(1, 1, 4, 4, requires_grad=True)
    loss = FocalLoss(0.25, 2.0)(logits, torch.full((1, 4, 4), 2))
    loss.backward()
    assert loss.item() == 0.0
    assert torch.all(logits.grad == 0)


def test_extreme_logits_stay_finite() -> None:
    logits = torch.tensor([[[[1e4, -1e4], [1e4, -1e4]]]], requires_grad=True)
    target = torch.tensor([[[0, 1], [1, 0]]])  # two confidently wrong, two confidently right
    loss = FocalLoss(None, 0.5)(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and loss.item() > 1000
    assert torch.all(torch.isfinite(logits.grad))


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(DartsError, match="shape"):
        FocalLoss()(torch.zeros(1, 1, 4, 4), torch.zeros(1, 5, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="alpha"):
        FocalLoss(alpha=1.5)
