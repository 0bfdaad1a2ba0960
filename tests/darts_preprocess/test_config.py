"""The typed preprocessing settings: band lists in every spelling a user or a config file gives."""

from __future__ import annotations

import pydantic
import pytest

from darts_preprocess.config import PlanetPreprocessConfig, S2PreprocessConfig

PATHS = {"data_dir": "scenes", "labels_dir": "labels", "train_data_dir": "out"}


@pytest.mark.parametrize(
    "bands",
    [
        ["red", "nir", "slope"],
        ("red", "nir", "slope"),
        "red,nir,slope",
        ["red,nir", "slope"],
        "red, nir ,slope",
    ],
)
def test_band_lists_in_any_spelling(bands: object) -> None:
    assert PlanetPreprocessConfig(**PATHS, bands=bands).bands == ("red", "nir", "slope")


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        (["red", "infrared"], "unknown band"),
        ([1], "unknown band"),
        (5, "bands must be a list of band names, got 5"),
    ],
)
def test_bad_band_lists_are_validation_errors(bands: object, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        PlanetPreprocessConfig(**PATHS, bands=bands)


def test_defaults_and_geometry_checks() -> None:
    config = S2PreprocessConfig(sentinel2_dir="s2", train_data_dir="out")
    assert config.labels_dir is None and config.patch_size == 1024 and config.overlap == 16
    assert config.cache_root.as_posix() == "out/.cache"
    with pytest.raises(pydantic.ValidationError, match="tpi_inner_radius"):
        PlanetPreprocessConfig(**PATHS, tpi_outer_radius=50, tpi_inner_radius=50)
    with pytest.raises(pydantic.ValidationError, match="extra"):
        PlanetPreprocessConfig(**PATHS, patchsize=32)
