"""Training-time augmentation of one patch: geometric (x and y alike) and photometric (optical only).

Randomness is drawn from ``SeedSequence([run seed, epoch, sample index])``: every sample gets its
own stream for each epoch, so a run is reproducible whatever the number of workers or the order
in which they fetch (seeding by worker id would tie the result to ``num_workers``), and no two
workers or epochs repeat each other. The epoch lives in shared memory, so :meth:`Augmenter.set_epoch`
in the main process reaches persistent DataLoader workers (fork or spawn).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from darts_core.bands import BANDS, BandKind


class AugmentConfig(BaseModel):
    """Which augmentations to apply during training, and how strongly."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    flip_p: float = Field(0.5, ge=0.0, le=1.0)
    """Probability of a horizontal flip, and independently of a vertical flip."""
    rot90: bool = True
    """Rotate by a random multiple of 90 degrees."""
    photometric_p: float = Field(0.5, ge=0.0, le=1.0)
    """Probability of each photometric change (brightness, contrast, noise), drawn independently."""
    brightness_max: float = Field(0.05, ge=0.0, le=1.0)
    """Largest additive brightness shift of optical bands (model-ready units, [0, 1] scale)."""
    contrast_max: float = Field(0.1, ge=0.0, le=1.0)
    """Largest relative contrast change of optical bands: factor drawn from [1 - c, 1 + c]."""
    noise_std: float = Field(0.01, ge=0.0, le=1.0)
    """Standard deviation of gaussian noise added to optical bands (model-ready units)."""


def optical_channels(bands: Sequence[str]) -> np.ndarray:
    """Indices of the optical bands in ``bands`` (bands unknown to the registry count as non-optical)."""
    return np.array(
        [i for i, b in enumerate(bands) if b in BANDS and BANDS[b].kind is BandKind.OPTICAL], dtype=np.intp
    )


class Augmenter:
    """Apply an :class:`AugmentConfig` to ``(x [c,h,w] float32, y [h,w])`` numpy patches."""

    def __init__(self, config: AugmentConfig, bands: Sequence[str], seed: int) -> None:
        self.config = config
        self.bands = tuple(bands)
        self.seed = int(seed)
        self.optical = optical_channels(self.bands)
        self._epoch: Any = multiprocessing.Value("q", 0, lock=False)

    @property
    def epoch(self) -> int:
        return int(self._epoch.value)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch for the next draws; seen by DataLoader workers started from this object."""
        self._epoch.value = int(epoch)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if multiprocessing.context.get_spawning_popen() is None:
            state["_epoch"] = self.epoch  # plain pickling (not a worker start): shared memory cannot travel
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if isinstance(self._epoch, int):
            self._epoch = multiprocessing.Value("q", self._epoch, lock=False)

    def rng(self, index: int) -> np.random.Generator:
        """The random stream of one sample in the current epoch."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, int(index)]))

    def __call__(self, x: np.ndarray, y: np.ndarray, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Augmented copies of ``x`` and ``y`` (contiguous, ready for ``torch.from_numpy``)."""
        rng = self.rng(index)
        x, y = self._geometric(x, y, rng)
        x = self._photometric(np.array(x, dtype=np.float32, order="C"), rng)
        return x, np.ascontiguousarray(y)

    def _geometric(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        if rng.random() < cfg.flip_p:
            x, y = x[..., :, ::-1], y[..., :, ::-1]
        if rng.random() < cfg.flip_p:
            x, y = x[..., ::-1, :], y[..., ::-1, :]
        k = int(rng.integers(4)) if cfg.rot90 else 0
        if k:
            x, y = np.rot90(x, k, axes=(-2, -1)), np.rot90(y, k, axes=(-2, -1))
        return x, y

    def _photometric(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cfg = self.config
        draws = rng.random(3)
        if self.optical.size == 0:
            return x
        optical = x[self.optical]
        changed = False
        if draws[0] < cfg.photometric_p and cfg.brightness_max > 0:
            optical += np.float32(rng.uniform(-cfg.brightness_max, cfg.brightness_max))
            changed = True
        if draws[1] < cfg.photometric_p and cfg.contrast_max > 0:
            factor = np.float32(rng.uniform(1 - cfg.contrast_max, 1 + cfg.contrast_max))
            mean = optical.mean(axis=(-2, -1), keepdims=True)
            optical = (optical - mean) * factor + mean
            changed = True
        if draws[2] < cfg.photometric_p and cfg.noise_std > 0:
            optical += rng.normal(0.0, cfg.noise_std, size=optical.shape).astype(np.float32)
            changed = True
        if changed:
            x[self.optical] = np.clip(optical, 0.0, 1.0)
        return x
