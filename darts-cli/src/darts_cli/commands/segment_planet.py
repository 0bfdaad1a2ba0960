"""`darts segment-planet-scenes`: segment PlanetScope scenes with trained models."""

from __future__ import annotations

import logging

from darts_cli.commands.segment_s2 import render_segment_result
from darts_cli.options import darts_command
from darts_segment.config import SegmentPlanetConfig  # cheap: pydantic only

logger = logging.getLogger(__name__)


@darts_command(SegmentPlanetConfig)
def segment_planet_scenes(config: SegmentPlanetConfig) -> int:
    """Segment PlanetScope scenes with trained models: probabilities, binarized map, polygons per scene."""
    from darts_segment import segment_planet_scenes as run

    return render_segment_result(run(config), config.strict)
