"""Raw scene -> model input: the one path preprocessing and whole-scene inference share.

:func:`load_model_input` reads a discovered scene (PlanetScope or Sentinel-2), loads its ArcticDEM
and TCVIS layers from the caches (fetching what a cache lacks unless ``offline``), engineers the
requested bands and returns their *physical* values (DN, NDVI, TPI metres, degrees, TCVIS 0..255)
on the scene grid plus the valid-data mask. Preprocessing normalises the same values with
:func:`darts_core.bands.normalize_bands`; inference hands them to a model, which normalises
them with the norm factors stored in its file. No torch here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from darts_core.bands import BANDS, BandKind, check_bands
from darts_core.errors import DartsInputError
from darts_preprocess.scenes.sensors import SENSORS

logger = logging.getLogger(__name__)

VALID_VAR = "valid"
"""Name of the valid-data mask in the Dataset :func:`load_model_input` returns."""


@dataclass(frozen=True)
class ModelInputSettings:
    """Where a scene's auxiliary layers come from and how terrain bands are computed (picklable)."""

    sensor: str
    """``planet`` or ``s2`` (a key of :data:`darts_preprocess.scenes.sensors.SENSORS`)."""
    arcticdem_dir: Path | None = None
    tcvis_dir: Path | None = None
    tpi_outer_radius: int = 100
    tpi_inner_radius: int = 0
    ee_project: str | None = None
    ee_use_highvolume: bool = True
    offline: bool = False
    """Never fetch: a cache that lacks a scene's area raises :class:`AuxDataMissingError`."""


def check_sensor_bands(sensor: str, bands: Sequence[str], source: str = "the model") -> tuple[str, ...]:
    """``bands`` as a tuple; a band the sensor cannot provide is an error naming it."""
    provided = SENSORS[sensor].bands
    missing = [b for b in bands if b not in provided]
    if missing:
        raise DartsInputError(
            f"{source} needs band(s) {missing}, which {SENSORS[sensor].label} scenes cannot provide "
            f"(they provide: {', '.join(provided)})"
        )
    return check_bands(bands)


def aux_layers(
    scene: xr.Dataset, bands: Sequence[str], settings: ModelInputSettings
) -> tuple[xr.DataArray | None, xr.Dataset | None]:
    """The DEM (scene grid padded by the TPI radius) and TCVIS layers the bands need, else None.

    Each layer is read from a darts-nextgen datacube, our GeoTIFF tiles or the remote service, in
    that order; one log line per scene names the source that served each layer.
    """
    kinds = {BANDS[b].kind for b in bands}
    geobox = scene.odc.geobox
    dem = tcvis = None
    served = []
    if BandKind.TERRAIN in kinds:
        from darts_preprocess.sources.arcticdem import ArcticDEMStac, collection_resolution_m, load_arcticdem

        if settings.arcticdem_dir is None:
            raise DartsInputError(f"band(s) {_of_kind(bands, BandKind.TERRAIN)} need arcticdem-dir")
        collection = SENSORS[settings.sensor].arcticdem_collection
        remote = None if settings.offline else ArcticDEMStac(collection=collection)
        dem = load_arcticdem(
            geobox,
            settings.arcticdem_dir,
            settings.tpi_outer_radius,
            remote=remote,
            resolution_m=collection_resolution_m(collection),
        )
        served.append(f"ArcticDEM from {dem.attrs['source']}")
    if BandKind.TCVIS in kinds:
        from darts_preprocess.sources.tcvis import TcvisEarthEngine, load_tcvis

        if settings.tcvis_dir is None:
            raise DartsInputError(f"band(s) {_of_kind(bands, BandKind.TCVIS)} need tcvis-dir")
        remote_tc = (
            None
            if settings.offline
            else TcvisEarthEngine(project=settings.ee_project, high_volume=settings.ee_use_highvolume)
        )
        tcvis = load_tcvis(geobox, settings.tcvis_dir, remote=remote_tc)
        served.append(f"TCVIS from {tcvis.attrs['source']}")
    if served:
        logger.info("scene %s: %s", scene.attrs.get("scene_id", "?"), "; ".join(served))
    return dem, tcvis


def _of_kind(bands: Sequence[str], kind: BandKind) -> list[str]:
    return [b for b in bands if BANDS[b].kind is kind]


def physical_bands(
    scene: xr.Dataset, bands: Sequence[str], settings: ModelInputSettings
) -> dict[str, np.ndarray]:
    """Physical values (float32 ``[h, w]``, NaN = no data) of ``bands`` for a loaded scene."""
    from darts_preprocess.engineering.derived_bands import engineer_bands

    dem, tcvis = aux_layers(scene, bands, settings)
    return engineer_bands(
        scene, dem, tcvis, bands, float(settings.tpi_outer_radius), float(settings.tpi_inner_radius)
    )


def valid_mask(values: dict[str, np.ndarray]) -> np.ndarray:
    """bool ``[h, w]``: every band has data (band by band, no ``[c, h, w]`` temporary)."""
    arrays = iter(values.values())
    valid = ~np.isnan(next(arrays))
    for band in arrays:
        valid &= ~np.isnan(band)
    return valid


def load_model_input(ref: Any, bands: Sequence[str], settings: ModelInputSettings) -> xr.Dataset:
    """A scene as model input: one float32 variable per band (physical values) plus ``valid`` and
    ``quality`` (uint8: 0 invalid, 1 low, 2 high), on the scene's own grid and CRS.

    ``ref`` is a reference from the sensor's discovery (:func:`discover_planet_scenes`,
    :func:`discover_s2_scenes`). Raises a :class:`~darts_core.errors.DartsError` for an
    unreadable scene or an auxiliary cache that does not cover it.
    """
    bands = check_sensor_bands(settings.sensor, bands, source="the band list")
    scene = SENSORS[settings.sensor].load(ref)
    values = physical_bands(scene, bands, settings)
    valid = valid_mask(values)
    variables: dict[str, Any] = {band: (("y", "x"), value) for band, value in values.items()}
    variables[VALID_VAR] = (("y", "x"), valid)
    variables["quality"] = scene["quality"]
    coords = {k: v for k, v in scene.coords.items()}
    out = xr.Dataset(variables, coords=coords, attrs=dict(scene.attrs))
    return out.rio.write_crs(scene.rio.crs, grid_mapping_name="spatial_ref", inplace=True)
