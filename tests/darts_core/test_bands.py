"""The band registry and the one normalisation function shared by preprocessing and inference."""

from __future__ import annotations

import numpy as np
import pytest

from darts_core.bands import BANDS, check_bands, norm_factors, normalize_bands
from darts_core.errors import UnknownBandError


def test_encodings_and_factors_match_the_reference_contract() -> None:
    values = {
        "blue": np.array([[1500.0]]),
        "ndvi": np.array([[0.5]]),
        "relative_elevation": np.array([[10.0]]),
        "slope": np.array([[45.0]]),
        "tc_wetness": np.array([[51.0]]),
    }
    out = normalize_bands(values, list(values))
    expected = [1500 / 3000, (0.5 + 1) * 1e4 / 20000, (10 + 50) * 300 / 30000, 45 / 90, 51 / 255]
    np.testing.assert_allclose(out[:, 0, 0], expected, rtol=1e-6)
    assert out.dtype == np.float32


def test_values_are_clipped_nan_kept_and_order_followed() -> None:
    values = {"red": np.array([[6000.0, np.nan]]), "nir": np.array([[-10.0, 300.0]])}
    out = normalize_bands(values, ["nir", "red"])
    assert out.shape == (2, 1, 2)
    np.testing.assert_allclose(out[0, 0], [0.0, 0.1], rtol=1e-6)
    assert out[1, 0, 0] == 1.0
    assert np.isnan(out[1, 0, 1])


def test_factors_from_a_checkpoint_override_the_registry() -> None:
    out = normalize_bands({"red": np.array([[1000.0]])}, ["red"], factors={"red": 1 / 2000})
    assert out[0, 0, 0] == pytest.approx(0.5)


def test_unknown_repeated_missing_and_empty_bands_are_rejected() -> None:
    with pytest.raises(UnknownBandError, match="unknown band"):
        check_bands(["red", "swir"])
    with pytest.raises(UnknownBandError, match="twice"):
        check_bands(["red", "red"])
    with pytest.raises(UnknownBandError, match="empty"):
        check_bands([])
    with pytest.raises(UnknownBandError, match="not present"):
        normalize_bands({"red": np.zeros((1, 1))}, ["red", "nir"])


def test_norm_factors_follow_the_requested_order() -> None:
    assert list(norm_factors(["slope", "red"])) == ["slope", "red"]
    assert norm_factors(["slope"])["slope"] == BANDS["slope"].norm_factor
