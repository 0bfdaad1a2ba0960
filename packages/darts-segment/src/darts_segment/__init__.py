"""darts_segment: whole-scene segmentation of PlanetScope / Sentinel-2 scenes (the deploy stage).

:func:`segment_planet_scenes` / :func:`segment_s2_scenes` run trained models over many scenes and
write, per scene, ``probabilities.tif``, ``binarized.tif``, ``polygons.gpkg``, ``extent.gpkg`` and
``run.json`` (see :mod:`darts_segment.outputs`). Importing this package is cheap; torch, GDAL and
dask load when a function is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from darts_core.lazy import lazy_attributes
from darts_segment.config import SegmentPlanetConfig, SegmentS2Config

if TYPE_CHECKING:
    from darts_segment.outputs import write_scene_outputs
    from darts_segment.polygons import probability_polygons, valid_extent
    from darts_segment.run import SegmentResult, segment_planet_scenes, segment_s2_scenes
    from darts_segment.scene import SceneResult, segment_model_input

_LAZY: dict[str, str] = {
    "write_scene_outputs": ".outputs",
    "probability_polygons": ".polygons",
    "valid_extent": ".polygons",
    "SegmentResult": ".run",
    "segment_planet_scenes": ".run",
    "segment_s2_scenes": ".run",
    "SceneResult": ".scene",
    "segment_model_input": ".scene",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "SceneResult",
    "SegmentPlanetConfig",
    "SegmentResult",
    "SegmentS2Config",
    "probability_polygons",
    "segment_model_input",
    "segment_planet_scenes",
    "segment_s2_scenes",
    "valid_extent",
    "write_scene_outputs",
]
