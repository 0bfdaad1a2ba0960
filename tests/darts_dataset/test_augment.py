"""Augmentation: x and y move together, photometric changes touch optical bands only, seeds reproduce."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from pydantic import ValidationError

from darts_dataset import AugmentConfig, Augmenter

BANDS = ("blue", "ndvi", "red", "relative_elevation", "tc_wetness", "slope")
OPTICAL = [0, 2]


def _patch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, (12, 12)).astype(np.uint8)
    x = rng.random((len(BANDS), 12, 12), dtype=np.float32) * 0.5 + 0.25
    x[5] = y / 2  # a non-optical channel that mirrors y
    return x, y


def _dihedral(a: np.ndarray) -> list[np.ndarray]:
    out = []
    for flipped in (a, a[..., ::-1]):
        out += [np.rot90(flipped, k, axes=(-2, -1)) for k in range(4)]
    return out


def test_geometric_moves_x_and_y_alike():
    x, y = _patch()
    aug = Augmenter(AugmentConfig(photometric_p=0.0), BANDS, seed=1)
    changed = 0
    for index in range(40):
        xa, ya = aug(x, y, index)
        assert xa.flags.c_contiguous and ya.flags.c_contiguous
        np.testing.assert_array_equal(xa[5], ya / 2)
        k = next(k for k, candidate in enumerate(_dihedral(y)) if np.array_equal(candidate, ya))
        np.testing.assert_array_equal(xa, _dihedral(x)[k])
        changed += k != 0
    assert changed > 20  # the draws do vary


def test_photometric_changes_only_optical_bands():
    x, y = _patch()
    cfg = AugmentConfig(flip_p=0.0, rot90=False, photometric_p=1.0, brightness_max=0.1, noise_std=0.05)
    xa, ya = Augmenter(cfg, BANDS, seed=1)(x, y, index=3)
    np.testing.assert_array_equal(ya, y)
    non_optical = [i for i in range(len(BANDS)) if i not in OPTICAL]
    np.testing.assert_array_equal(xa[non_optical], x[non_optical])
    assert not np.allclose(xa[OPTICAL], x[OPTICAL])
    assert xa.min() >= 0 and xa.max() <= 1
    np.testing.assert_array_equal(x, _patch()[0])  # the input was not modified in place


def test_same_seed_epoch_index_same_output():
    x, y = _patch()
    a, b = Augmenter(AugmentConfig(), BANDS, seed=5), Augmenter(AugmentConfig(), BANDS, seed=5)
    for index in range(5):
        np.testing.assert_array_equal(a(x, y, index)[0], b(x, y, index)[0])
    first = a(x, y, 0)[0]
    a.set_epoch(1)
    assert a.epoch == 1
    outputs = [a(x, y, 0)[0], Augmenter(AugmentConfig(), BANDS, seed=6)(x, y, 0)[0]]
    assert all(not np.array_equal(first, other) for other in outputs)


def test_epoch_survives_plain_pickling():
    aug = Augmenter(AugmentConfig(), BANDS, seed=5)
    aug.set_epoch(3)
    clone = pickle.loads(pickle.dumps(aug))
    assert clone.epoch == 3
    clone.set_epoch(4)
    assert aug.epoch == 3  # a plain copy is independent


def test_config_is_validated():
    with pytest.raises(ValidationError):
        AugmentConfig(flip_p=1.5)
    with pytest.raises(ValidationError):
        AugmentConfig(hue=0.1)
