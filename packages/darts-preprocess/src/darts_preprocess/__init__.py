"""Read scenes, engineer bands, rasterise labels and write darts zarr training sets.

Quick example::

    import numpy as np
    from affine import Affine
    from darts_preprocess import make_patches

    x = np.random.default_rng(0).random((3, 100, 100), dtype=np.float32)  # model-ready bands [c, h, w]
    y = np.zeros((100, 100), dtype=np.uint8)  # 0 background, 1 RTS, 2 ignore
    y[40:60, 40:60] = 1
    nan = np.zeros((100, 100), dtype=bool)
    patches = make_patches(x, y, nan, Affine(3.0, 0, 500000, 0, -3.0, 7600000), patch_size=64, overlap=16)
    assert patches.x.shape[1:] == (3, 64, 64) and len(patches.x) == len(patches.y)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from darts_core.bands import (
    BANDS,
    OPTICAL_BANDS,
    BandKind,
    BandSpec,
    check_bands,
    norm_factors,
    normalize_bands,
)
from darts_core.errors import (
    DartsError,
    DartsFileNotFoundError,
    DartsInputError,
    TrainingSetError,
    UnknownBandError,
)
from darts_core.lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover
    from darts_preprocess.config import PlanetPreprocessConfig, S2PreprocessConfig
    from darts_preprocess.engineering.derived_bands import engineer_bands
    from darts_preprocess.jobs.scene_job import SceneOutcome
    from darts_preprocess.labels.collection import LabelCollection, load_label_collection, match_scenes
    from darts_preprocess.patches.patching import make_patches, patch_origins
    from darts_preprocess.pipeline import preprocess_planet_train_data, preprocess_s2_train_data
    from darts_preprocess.sources import (
        AdminRegionsError,
        ArcticDEMStac,
        AuxDataMissingError,
        PlanetDiscovery,
        PlanetSceneRef,
        RemoteSourceError,
        S2Discovery,
        S2SceneRef,
        SceneFileNotFoundError,
        SceneFormatError,
        Sentinel2EarthEngine,
        TcvisEarthEngine,
        discover_planet_scenes,
        discover_s2_scenes,
        download_admin_regions,
        load_admin_regions,
        load_arcticdem,
        load_planet_scene,
        load_s2_scene,
        load_tcvis,
    )
    from darts_preprocess.synthetic.collections import (
        TEST_REGION,
        SyntheticCollection,
        generate_planet_collection,
        generate_s2_collection,
    )
    from darts_preprocess.trainset.report import PreprocessResult
    from darts_preprocess.trainset.splits import assign_splits, select_test_regions

# Heavy names (xarray, rasterio, geopandas, dask) resolve on first use, so importing the package
# (e.g. by `darts --help`) stays cheap.
_LAZY: dict[str, str] = {
    "AdminRegionsError": "darts_preprocess.sources",
    "ArcticDEMStac": "darts_preprocess.sources",
    "AuxDataMissingError": "darts_preprocess.sources",
    "LabelCollection": "darts_preprocess.labels.collection",
    "PlanetDiscovery": "darts_preprocess.sources",
    "PlanetPreprocessConfig": "darts_preprocess.config",
    "PlanetSceneRef": "darts_preprocess.sources",
    "PreprocessResult": "darts_preprocess.trainset.report",
    "RemoteSourceError": "darts_preprocess.sources",
    "S2Discovery": "darts_preprocess.sources",
    "S2PreprocessConfig": "darts_preprocess.config",
    "S2SceneRef": "darts_preprocess.sources",
    "SceneFileNotFoundError": "darts_preprocess.sources",
    "SceneFormatError": "darts_preprocess.sources",
    "SceneOutcome": "darts_preprocess.jobs.scene_job",
    "Sentinel2EarthEngine": "darts_preprocess.sources",
    "SyntheticCollection": "darts_preprocess.synthetic.collections",
    "TEST_REGION": "darts_preprocess.synthetic.collections",
    "TcvisEarthEngine": "darts_preprocess.sources",
    "assign_splits": "darts_preprocess.trainset.splits",
    "discover_planet_scenes": "darts_preprocess.sources",
    "discover_s2_scenes": "darts_preprocess.sources",
    "download_admin_regions": "darts_preprocess.sources",
    "engineer_bands": "darts_preprocess.engineering.derived_bands",
    "generate_planet_collection": "darts_preprocess.synthetic.collections",
    "generate_s2_collection": "darts_preprocess.synthetic.collections",
    "load_admin_regions": "darts_preprocess.sources",
    "load_arcticdem": "darts_preprocess.sources",
    "load_label_collection": "darts_preprocess.labels.collection",
    "load_planet_scene": "darts_preprocess.sources",
    "load_s2_scene": "darts_preprocess.sources",
    "load_tcvis": "darts_preprocess.sources",
    "make_patches": "darts_preprocess.patches.patching",
    "match_scenes": "darts_preprocess.labels.collection",
    "patch_origins": "darts_preprocess.patches.patching",
    "preprocess_planet_train_data": "darts_preprocess.pipeline",
    "preprocess_s2_train_data": "darts_preprocess.pipeline",
    "select_test_regions": "darts_preprocess.trainset.splits",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "BANDS",
    "OPTICAL_BANDS",
    "TEST_REGION",
    "AdminRegionsError",
    "ArcticDEMStac",
    "AuxDataMissingError",
    "BandKind",
    "BandSpec",
    "DartsError",
    "DartsFileNotFoundError",
    "DartsInputError",
    "LabelCollection",
    "PlanetDiscovery",
    "PlanetPreprocessConfig",
    "PlanetSceneRef",
    "PreprocessResult",
    "RemoteSourceError",
    "S2Discovery",
    "S2PreprocessConfig",
    "S2SceneRef",
    "SceneFileNotFoundError",
    "SceneFormatError",
    "SceneOutcome",
    "Sentinel2EarthEngine",
    "SyntheticCollection",
    "TcvisEarthEngine",
    "TrainingSetError",
    "UnknownBandError",
    "assign_splits",
    "check_bands",
    "discover_planet_scenes",
    "discover_s2_scenes",
    "download_admin_regions",
    "engineer_bands",
    "generate_planet_collection",
    "generate_s2_collection",
    "load_admin_regions",
    "load_arcticdem",
    "load_label_collection",
    "load_planet_scene",
    "load_s2_scene",
    "load_tcvis",
    "make_patches",
    "match_scenes",
    "norm_factors",
    "normalize_bands",
    "patch_origins",
    "preprocess_planet_train_data",
    "preprocess_s2_train_data",
    "select_test_regions",
]
