"""Focal loss on logits, with an ignore label."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from darts_core.errors import DartsInputError
from darts_core.labels import LABEL_IGNORE


class FocalLoss(nn.Module):
    """Binary focal loss (Lin et al. 2017) computed on logits.

    Per pixel: ``alpha_t * (1 - p_t) ** gamma * BCE(logit, t)`` with ``p_t`` the predicted probability
    of the true class and ``alpha_t = alpha`` for positives, ``1 - alpha`` for negatives (``alpha=None``:
    no class weighting). BCE comes from :func:`torch.nn.functional.binary_cross_entropy_with_logits`, so
    large logits are numerically stable. Pixels whose target equals ``ignore_index`` contribute neither
    loss nor gradient; the result is the mean over the remaining pixels (0 when there are none).
    """

    def __init__(
        self, alpha: float | None = None, gamma: float = 2.0, ignore_index: int = LABEL_IGNORE
    ) -> None:
        super().__init__()
        if alpha is not None and not 0.0 <= alpha <= 1.0:
            raise DartsInputError(f"focal loss alpha must be in [0, 1] or None, got {alpha}")
        if gamma < 0:
            raise DartsInputError(f"focal loss gamma must be >= 0, got {gamma}")
        self.alpha = alpha
        self.gamma = float(gamma)
        self.ignore_index = ignore_index

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, ignore_index={self.ignore_index}"

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``logits`` ``[B, 1, H, W]`` or ``[B, H, W]``; ``target`` ``[B, H, W]`` in {0, 1, ignore_index}."""
        if logits.ndim == target.ndim + 1 and logits.shape[1] == 1:
            logits = logits.squeeze(1)
        if logits.shape != target.shape:
            raise DartsInputError(
                f"focal loss: logits shape {tuple(logits.shape)} does not match target {tuple(target.shape)}"
            )
        valid = target != self.ignore_index
        t = torch.where(valid, target, torch.zeros_like(target)).to(logits.dtype)
        # ignored pixels get a neutral logit first, so no inf/NaN can leak into the gradient from them
        logits = torch.where(valid, logits, torch.zeros_like(logits))
        bce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
        if self.gamma != 0.0:
            # 1 - p_t = 1 - exp(-bce), via expm1 so it stays accurate for confident predictions; the floor
            # keeps the gradient of x ** gamma finite at x = 0 when gamma < 1
            modulator = (-torch.expm1(-bce)).clamp_min(1e-12) ** self.gamma
            bce = modulator * bce
        if self.alpha is not None:
            bce = torch.where(t > 0.5, self.alpha, 1.0 - self.alpha) * bce
        per_pixel = torch.where(valid, bce, torch.zeros_like(bce))
        n_valid = valid.sum()
        return per_pixel.sum() / n_valid.clamp_min(1)
