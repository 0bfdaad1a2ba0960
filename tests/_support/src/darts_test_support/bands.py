"""Band lists used across the tests."""

from __future__ import annotations

GUIDE_BANDS: tuple[str, ...] = (
    "blue",
    "green",
    "red",
    "nir",
    "ndvi",
    "tc_brightness",
    "tc_greenness",
    "tc_wetness",
    "relative_elevation",
    "slope",
)
"""The ten bands of the training guide's Planet models."""
OPTICAL_BANDS: tuple[str, ...] = ("blue", "green", "red", "nir")
"""The four Planet surface-reflectance bands (the reference tool's sets hold only these)."""
TRAIN_BANDS: tuple[str, ...] = (*OPTICAL_BANDS, "ndvi")
"""The bands of the tiny learnable training set."""
DATASET_BANDS: tuple[str, ...] = (*TRAIN_BANDS, "slope")
"""The bands of the tiny dataset-contract set (one engineered terrain band too)."""
