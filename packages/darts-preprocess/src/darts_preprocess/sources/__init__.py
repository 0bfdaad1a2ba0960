"""Scene and auxiliary-data sources: PlanetScope, Sentinel-2, ArcticDEM, TCVIS, admin regions."""

from darts_preprocess.sources._scene import QUALITY_HIGH, QUALITY_INVALID, QUALITY_LOW
from darts_preprocess.sources.admin import download_admin_regions, load_admin_regions
from darts_preprocess.sources.arcticdem import ArcticDEMStac, buffered_geobox, load_arcticdem
from darts_preprocess.sources.errors import (
    AdminRegionsError,
    AuxDataMissingError,
    RemoteSourceError,
    SceneFileNotFoundError,
    SceneFormatError,
)
from darts_preprocess.sources.planet import (
    PlanetDiscovery,
    PlanetSceneRef,
    discover_planet_scenes,
    load_planet_scene,
    parse_planet_id,
)
from darts_preprocess.sources.sentinel2 import (
    S2Discovery,
    S2SceneRef,
    discover_s2_scenes,
    load_s2_scene,
    reflectance_offset_dn,
    scl_quality,
)
from darts_preprocess.sources.sentinel2_ee import Sentinel2EarthEngine
from darts_preprocess.sources.tcvis import TCVIS_VARS, TcvisEarthEngine, load_tcvis

__all__ = [
    "QUALITY_HIGH",
    "QUALITY_INVALID",
    "QUALITY_LOW",
    "TCVIS_VARS",
    "AdminRegionsError",
    "ArcticDEMStac",
    "AuxDataMissingError",
    "PlanetDiscovery",
    "PlanetSceneRef",
    "RemoteSourceError",
    "S2Discovery",
    "S2SceneRef",
    "SceneFileNotFoundError",
    "SceneFormatError",
    "Sentinel2EarthEngine",
    "TcvisEarthEngine",
    "buffered_geobox",
    "discover_planet_scenes",
    "discover_s2_scenes",
    "download_admin_regions",
    "load_admin_regions",
    "load_arcticdem",
    "load_planet_scene",
    "load_s2_scene",
    "load_tcvis",
    "parse_planet_id",
    "reflectance_offset_dn",
    "scl_quality",
]
