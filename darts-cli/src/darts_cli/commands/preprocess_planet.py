"""`darts preprocess-planet-train-data`: build a training set from PLANET scenes and label polygons."""

from __future__ import annotations

import logging

from darts_cli.commands.preprocess_s2 import render_preprocess_result
from darts_cli.options import darts_command
from darts_preprocess.config import PlanetPreprocessConfig  # cheap: pydantic + the band registry

logger = logging.getLogger(__name__)


@darts_command(PlanetPreprocessConfig)
def preprocess_planet_train_data(config: PlanetPreprocessConfig) -> int:
    """Build a training set (cross-val, val-test, test) from PLANET scenes and label polygons."""
    from darts_preprocess.jobs.allocator import tune_allocator_for_scenes

    tune_allocator_for_scenes()  # before any thread allocates: see darts_preprocess.jobs.allocator
    from darts_preprocess.pipeline import preprocess_planet_train_data as run

    render_preprocess_result(run(config))
    return 0
