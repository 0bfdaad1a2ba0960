"""`darts preprocess-planet-train-data`: build a training set from PLANET scenes and label polygons."""

from __future__ import annotations

from darts_cli.errors import NotImplementedYetError
from darts_cli.options import darts_command


@darts_command()
def preprocess_planet_train_data() -> int:
    """Build a training set (cross-val, val-test, test) from PLANET scenes and label polygons."""
    raise NotImplementedYetError("preprocess-planet-train-data")
