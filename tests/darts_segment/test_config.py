"""The segmentation settings: defaults, aliases shared with training, checks at the boundary."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from darts_segment.config import SegmentPlanetConfig


def _config(**options: object) -> SegmentPlanetConfig:
    base = {"data_dir": Path("d"), "output_dir": Path("o"), "model_file": "a.pt"}
    return SegmentPlanetConfig(**base | options)


def test_defaults_and_list_values() -> None:
    config = _config(scene_ids="s1, s2,s1")
    assert config.model_file == (Path("a.pt"),) and config.scene_ids == ("s1", "s2")
    assert (config.threshold, config.tta, config.runtime, config.precision) == (0.5, "none", "torch", "auto")
    assert config.in_process and config.resolved_overlap(1024) == 64 and config.resolved_overlap(64) == 16
    assert _config(model_file=["a.pt", "b.pt"]).model_file == (Path("a.pt"), Path("b.pt"))


@pytest.mark.parametrize(("given", "meant"), [("32", "fp32"), ("32-true", "fp32"), ("bf16-mixed", "bf16")])
def test_training_precision_values_are_understood(given: str, meant: str) -> None:
    assert _config(precision=given).precision == meant


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"precision": "16-mixed"}, "precision"),
        ({"tta": "rotations"}, "tta"),
        ({"threshold": 1.5}, "threshold"),
        ({"patch_size": 64, "overlap": 32}, "less than half the patch size"),
        ({"model_file": []}, "model_file"),
    ],
)
def test_bad_settings_are_named(options: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _config(**options)
