"""`darts preprocess-s2-train-data`: build a training set from Sentinel-2 scenes and label polygons."""

from __future__ import annotations

from darts_cli.errors import NotImplementedYetError
from darts_cli.options import darts_command


@darts_command()
def preprocess_s2_train_data() -> int:
    """Build a training set (cross-val, val-test, test) from Sentinel-2 scenes and label polygons."""
    raise NotImplementedYetError("preprocess-s2-train-data")
