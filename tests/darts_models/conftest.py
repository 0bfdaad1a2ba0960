"""Fixtures of the darts_models tests: one CPU thread, a tiny fully convolutional net."""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)


class TinyFCN(nn.Module):
    """Three 3x3 convs with zero padding (receptive radius 3 px): exactly translation-equivariant."""

    def __init__(self, in_channels: int, seed: int = 0, gain: float = 1.0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 1, 3, padding=1),
        )
        self.gain = gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # a strong mean-brightness term spreads the probabilities so binarised masks are not trivial
        return self.net(x) + self.gain * (x.mean(dim=1, keepdim=True) - 0.5) * 20


@pytest.fixture
def tiny_fcn() -> type[TinyFCN]:
    return TinyFCN
