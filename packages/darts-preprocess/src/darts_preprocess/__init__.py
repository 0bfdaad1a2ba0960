"""Read scenes, engineer bands, rasterise labels and write darts zarr training sets."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from darts_preprocess.bands import (
    BANDS,
    OPTICAL_BANDS,
    BandKind,
    BandSpec,
    check_bands,
    norm_factors,
    normalize_bands,
)
from darts_preprocess.errors import (
    DartsError,
    DartsFileNotFoundError,
    DartsInputError,
    TrainingSetError,
    UnknownBandError,
)

if TYPE_CHECKING:  # pragma: no cover
    from darts_preprocess.config import PlanetPreprocessConfig, S2PreprocessConfig
    from darts_preprocess.engineering import engineer_bands
    from darts_preprocess.pipeline import preprocess_planet_train_data, preprocess_s2_train_data
    from darts_preprocess.report import PreprocessResult
    from darts_preprocess.synthetic import SyntheticCollection, generate_planet_collection

# Heavy names (xarray, rasterio, geopandas, dask) resolve on first use, so importing the package
# (e.g. by `darts --help`) stays cheap.
_LAZY: dict[str, str] = {
    "PlanetPreprocessConfig": "darts_preprocess.config",
    "PreprocessResult": "darts_preprocess.report",
    "S2PreprocessConfig": "darts_preprocess.config",
    "SyntheticCollection": "darts_preprocess.synthetic",
    "engineer_bands": "darts_preprocess.engineering",
    "generate_planet_collection": "darts_preprocess.synthetic",
    "preprocess_planet_train_data": "darts_preprocess.pipeline",
    "preprocess_s2_train_data": "darts_preprocess.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'darts_preprocess' has no attribute {name!r}")


__all__ = [
    "BANDS",
    "OPTICAL_BANDS",
    "BandKind",
    "BandSpec",
    "DartsError",
    "DartsFileNotFoundError",
    "DartsInputError",
    "PlanetPreprocessConfig",
    "PreprocessResult",
    "S2PreprocessConfig",
    "SyntheticCollection",
    "TrainingSetError",
    "UnknownBandError",
    "check_bands",
    "engineer_bands",
    "generate_planet_collection",
    "norm_factors",
    "normalize_bands",
    "preprocess_planet_train_data",
    "preprocess_s2_train_data",
]
