"""The band registry: every band darts can engineer, its encoding, norm factor and kind.

The ONE place that turns physical band values into model-ready values. Preprocessing and
whole-scene inference both call :func:`normalize_bands`, so a model never sees values at inference
that it did not see in training. Encodings and factors match the reference tool, so models move
between the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from darts_core.errors import UnknownBandError


class BandKind(StrEnum):
    """What a band measures; augmentation only alters ``optical`` bands."""

    OPTICAL = "optical"
    INDEX = "index"
    TERRAIN = "terrain"
    TCVIS = "tcvis"


@dataclass(frozen=True)
class BandSpec:
    """One band: how its physical value is encoded and scaled to [0, 1].

    Every encoding is affine, ``encoded = (value + offset) * scale``; normalised values are
    ``clip(encoded * norm_factor, 0, 1)``.
    """

    name: str
    kind: BandKind
    unit: str
    encoding: str
    """Human-readable encoding formula (for docs and the training set's config.toml)."""
    norm_factor: float
    offset: float = 0.0
    scale: float = 1.0

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Encoded values ``(values + offset) * scale`` (float32 for float32 or integer input)."""
        values = np.asarray(values, dtype=np.result_type(np.asarray(values).dtype, np.float32))
        return (values + self.offset) * self.scale if self.offset or self.scale != 1.0 else values


_OPTICAL_UNIT = "surface reflectance DN (reflectance x 10000)"
_TCVIS_UNIT = "TCVIS trend, uint8 0..255"
BANDS: dict[str, BandSpec] = {
    spec.name: spec
    for spec in (
        BandSpec("blue", BandKind.OPTICAL, _OPTICAL_UNIT, "dn", 1 / 3000),
        BandSpec("green", BandKind.OPTICAL, _OPTICAL_UNIT, "dn", 1 / 3000),
        BandSpec("red", BandKind.OPTICAL, _OPTICAL_UNIT, "dn", 1 / 3000),
        BandSpec("nir", BandKind.OPTICAL, _OPTICAL_UNIT, "dn", 1 / 3000),
        BandSpec(
            "ndvi", BandKind.INDEX, "NDVI in [-1, 1]", "(ndvi + 1) * 1e4", 1 / 20000, offset=1.0, scale=1e4
        ),
        BandSpec("tc_brightness", BandKind.TCVIS, _TCVIS_UNIT, "dn", 1 / 255),
        BandSpec("tc_greenness", BandKind.TCVIS, _TCVIS_UNIT, "dn", 1 / 255),
        BandSpec("tc_wetness", BandKind.TCVIS, _TCVIS_UNIT, "dn", 1 / 255),
        BandSpec(
            "relative_elevation",
            BandKind.TERRAIN,
            "TPI in metres",
            "(tpi + 50) * 300",
            1 / 30000,
            offset=50.0,
            scale=300.0,
        ),
        BandSpec("slope", BandKind.TERRAIN, "degrees", "degrees", 1 / 90),
    )
}
OPTICAL_BANDS: tuple[str, ...] = tuple(n for n, s in BANDS.items() if s.kind is BandKind.OPTICAL)


def check_bands(bands: Sequence[str]) -> tuple[str, ...]:
    """Return ``bands`` as a tuple, raising :class:`UnknownBandError` for unknown or repeated names."""
    unknown = [b for b in bands if b not in BANDS]
    if unknown:
        raise UnknownBandError(f"unknown band(s) {unknown}; known bands are {sorted(BANDS)}")
    if len(set(bands)) != len(bands):
        raise UnknownBandError(f"band list {list(bands)} names a band twice")
    if not bands:
        raise UnknownBandError("the band list is empty; name at least one of " + ", ".join(BANDS))
    return tuple(bands)


def norm_factors(bands: Sequence[str]) -> dict[str, float]:
    """Norm factor of each band, in the given order."""
    return {b: BANDS[b].norm_factor for b in check_bands(bands)}


def normalize_bands(
    values: Mapping[str, np.ndarray],
    bands: Sequence[str],
    factors: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Encode, scale and clip physical band values into a float32 ``[c, h, w]`` stack in [0, 1].

    ``values`` maps band name to a 2-D array of physical values (reflectance DN, NDVI, TPI metres,
    degrees, TCVIS uint8). ``factors`` overrides the registry's norm factors (a checkpoint carries
    the ones it was trained with). NaN stays NaN, so callers decide how to mark no-data.
    """
    bands = check_bands(bands)
    missing = [b for b in bands if b not in values]
    if missing:
        raise UnknownBandError(f"band(s) {missing} requested but not present; present: {sorted(values)}")
    first = np.asarray(values[bands[0]])
    out = np.empty((len(bands), *first.shape), dtype=np.float32)
    for i, band in enumerate(bands):
        spec = BANDS[band]
        factor = spec.norm_factor if factors is None else float(factors[band])
        # (value + offset) * (scale * factor), written straight into the stack: no temporaries
        dst = out[i]
        if spec.offset:
            np.add(values[band], np.float32(spec.offset), out=dst, casting="unsafe")
            np.multiply(dst, np.float32(spec.scale * factor), out=dst)
        else:
            np.multiply(values[band], np.float32(spec.scale * factor), out=dst, casting="unsafe")
        np.clip(dst, np.float32(0.0), np.float32(1.0), out=dst)
    return out
