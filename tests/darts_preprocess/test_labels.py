"""Label and footprint reading on the REAL RTS label files (the subset in tests/data/rts-labels)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from darts_core.errors import DartsFileNotFoundError, DartsInputError
from darts_preprocess.labels.collection import (
    LabelCollection,
    date_from_image_id,
    load_label_collection,
    match_scenes,
    normalise_label_value,
)

# Features per TrainingLabel file, as counted by the script that derived the subset (subset_counts.csv).
EXPECTED_FEATURES = {"001": 8, "002": 58, "003": 26, "004": 19, "005": 6, "006": 7}
EXPECTED_FOOTPRINTS = {"001": 0, "002": 6, "003": 4, "004": 2, "005": 2, "006": 3}


@pytest.fixture(scope="module")
def collection(rts_labels_dir: Path) -> LabelCollection:
    return load_label_collection(rts_labels_dir)


def test_every_label_is_kept(collection: LabelCollection, rts_labels_dir: Path) -> None:
    stats = [line.split(",") for line in (rts_labels_dir / "subset_counts.csv").read_text().splitlines()[1:]]
    assert {row[0]: int(row[1]) for row in stats} == EXPECTED_FEATURES
    assert {row[0]: int(row[3]) for row in stats} == EXPECTED_FOOTPRINTS
    per_file = collection.labels.groupby("label_file").size()
    for iteration, n in EXPECTED_FEATURES.items():
        assert per_file[f"TrainingLabel_RTS_PlanetScope_Nitze_iteration{iteration}.gpkg"] == n
    assert len(collection.footprints) == 6 + 4 + 2 + 2 + 3  # iteration001 ships no footprints


def test_label_files_are_hashed(collection: LabelCollection) -> None:
    kinds = sorted(f.kind for f in collection.files)
    assert kinds.count("labels") == 6 and kinds.count("footprints") == 5
    assert all(len(f.sha256) == 64 for f in collection.files)


def test_geometries_are_valid_after_repair(collection: LabelCollection) -> None:
    assert collection.labels.geometry.is_valid.all()
    assert not collection.labels.geometry.is_empty.any()
    assert set(collection.labels.geom_type) <= {"Polygon", "MultiPolygon"}
    # 4 + 2 + 3 + 2 invalid polygons in iterations 001, 003, 004, 005 of the real files
    assert int(collection.labels["repaired"].sum()) == 11
    assert collection.labels.crs.to_epsg() == 4326


def test_polygons_without_label_value_or_id_are_kept_and_reported(collection: LabelCollection) -> None:
    it3 = collection.labels[collection.labels["label_file"].str.contains("iteration003")]
    assert it3["label_id"].isna().sum() == 20
    assert any("20 polygon(s) without a label value" in n for n in collection.notes)
    assert any("20 polygon(s) without an id" in n for n in collection.notes)


def test_string_and_float_label_columns_are_reported(collection: LabelCollection) -> None:
    assert any("iteration005" in n and "stored as str" in n for n in collection.notes)
    assert any("iteration003" in n and "stored as float64" in n for n in collection.notes)


def test_malformed_date_repaired_from_image_id(collection: LabelCollection) -> None:
    fps = collection.footprints.set_index("image_id")
    assert fps.loc["20200722_081437_1032", "image_date"] == "2020-07-22"
    assert fps.loc["20200814_044131_1026", "image_date"] == "2020-08-14"
    assert fps["image_date"].notna().all()
    assert any("202-00-722->2020-07-22" in n for n in collection.notes)


NORMALISED = [(1, 1), (1.0, 1), ("1", 1), (" 1.0 ", 1), (np.int64(1), 1), (np.float32(1), 1)]
NOT_RTS = [(None, None), (float("nan"), None), (0, -1), ("2", -1), ("rts", -1), (1.5, -1)]


@pytest.mark.parametrize(("value", "expected"), [*NORMALISED, *NOT_RTS])
def test_normalise_label_value(value: object, expected: int | None) -> None:
    assert normalise_label_value(value) == expected


@pytest.mark.parametrize(
    ("image_id", "expected"),
    [
        ("20200722_081437_1032", "2020-07-22"),
        ("20190704_172438_93_1067", "2019-07-04"),
        ("4688749_0470419_2021-07-12_105c", "2021-07-12"),
        ("20201399_081437_1032", None),
        ("not-an-id", None),
    ],
)
def test_date_from_image_id(image_id: str, expected: str | None) -> None:
    assert date_from_image_id(image_id) == expected


def test_truncated_ids_matched_by_prefix_with_warning(
    collection: LabelCollection, caplog: pytest.LogCaptureFixture
) -> None:
    it5 = collection.footprints[collection.footprints["footprint_file"].str.contains("iteration005")]
    scene_ids = sorted(it5["image_id"])
    with caplog.at_level(logging.WARNING, logger="darts_preprocess.labels.collection"):
        matching = match_scenes(collection, scene_ids)
    assert len(matching.prefix_matches) == 2
    assert all(
        full.startswith(short) and len(full) == len(short) + 1
        for short, full in matching.prefix_matches.items()
    )
    assert sum(len(matching.scenes[s].labels) for s in scene_ids) == EXPECTED_FEATURES["005"]
    assert matching.scenes["4688749_0470419_2021-07-12_105c"].prefix_matched_ids == (
        "4688749_0470419_2021-07-12_105",
    )
    assert sum("truncated" in r.message for r in caplog.records) == 2


def test_ambiguous_prefix_is_not_matched(collection: LabelCollection) -> None:
    matching = match_scenes(
        collection, ["4688749_0470419_2021-07-12_105c", "4688749_0470419_2021-07-12_1050"]
    )
    assert "4688749_0470419_2021-07-12_105" in matching.ambiguous_ids
    assert matching.scenes["4688749_0470419_2021-07-12_1050"].labels.empty
    assert "4688749_0470419_2021-07-12_105" in matching.unmatched_label_ids


def test_scene_without_footprint_and_unmatched_labels(collection: LabelCollection) -> None:
    matching = match_scenes(collection, ["20180703_192559_1006", "5761052_1070519_2022-07-04_241f"])
    banks = matching.scenes["20180703_192559_1006"]
    assert banks.footprint is None  # iteration001: no footprint file, the pipeline uses the image extent
    assert len(banks.labels) == 4 and banks.region == "Banks_Island"
    negative = matching.scenes["5761052_1070519_2022-07-04_241f"]
    assert negative.labels.empty and negative.footprint is not None and negative.footprint.is_valid
    n_ids = collection.labels["image_id"].nunique()
    assert len(matching.unmatched_label_ids) == n_ids - 1


def test_labels_dir_errors(tmp_path: Path) -> None:
    with pytest.raises(DartsFileNotFoundError, match="does not exist"):
        load_label_collection(tmp_path / "missing")
    with pytest.raises(DartsFileNotFoundError, match="TrainingLabel"):
        load_label_collection(tmp_path)


def test_file_without_image_id_column(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    frame.to_file(tmp_path / "TrainingLabel_x.gpkg")
    with pytest.raises(DartsInputError, match="image_id"):
        load_label_collection(tmp_path)


def test_truncated_label_geopackage_names_its_file(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"image_id": ["a_b"] * 50}, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(50)]
    )
    whole = tmp_path / "whole.gpkg"
    frame.set_crs("EPSG:4326").to_file(whole)
    data = whole.read_bytes()
    (tmp_path / "labels").mkdir()
    truncated = tmp_path / "labels" / "TrainingLabel_cut.gpkg"
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises(DartsInputError) as info:
        load_label_collection(tmp_path / "labels")
    assert str(info.value).startswith(f"{truncated}: cannot read this label file (")
    assert "truncated or not a GeoPackage" in str(info.value)


def test_unknown_label_values_are_not_burned_but_reported(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"image_id": ["a_b", "a_b", "a_b"], "label": ["1", "0", None]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2), shapely.box(2, 2, 3, 3)],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "TrainingLabel_mixed.gpkg")
    collection = load_label_collection(tmp_path)
    assert len(collection.labels) == 2
    assert any("label value(s) ['0'] not burned" in n for n in collection.notes)


@dataclass(frozen=True)
class _S2Ref:
    scene_id: str
    date: str
    labels_path: Path | None = None


def test_s2_scenes_match_footprints_by_overlap_and_date(collection: LabelCollection) -> None:
    from darts_preprocess.labels.s2_labels import MATCH_WINDOW_DAYS, match_s2_scenes

    fps = collection.footprints.set_index("image_id")
    lena = fps.loc["4713120_5272315_2021-07-21_2463"]
    extent = lena.geometry.buffer(-0.01)  # an S2 scene inside the Lena footprint
    near = _S2Ref("S2_near", "2021-08-01")
    late = _S2Ref("S2_late", (date(2021, 7, 21) + timedelta(days=MATCH_WINDOW_DAYS + 1)).isoformat())
    elsewhere = _S2Ref("S2_elsewhere", "2021-07-21")
    extents = {"S2_near": extent, "S2_late": extent, "S2_elsewhere": shapely.box(0, 0, 1, 1)}
    matching, files, _ = match_s2_scenes(collection, [near, late, elsewhere], extents)
    assert files == []
    assert len(matching.scenes["S2_near"].labels) == EXPECTED_FEATURES["004"] - 7  # Lena image only
    assert set(matching.scenes["S2_near"].labels["image_id"]) == {"4713120_5272315_2021-07-21_2463"}
    assert matching.scenes["S2_near"].footprint.equals(lena.geometry)
    assert matching.scenes["S2_late"].labels.empty and matching.scenes["S2_late"].footprint is None
    assert matching.scenes["S2_elsewhere"].footprint is None
    assert "4713120_5272315_2021-07-21_2463" not in matching.unmatched_label_ids


def test_s2_sample_labels_file(tmp_path: Path) -> None:
    from darts_preprocess.labels.s2_labels import match_s2_scenes

    sample = tmp_path / "S2_sample.gpkg"
    gpd.GeoDataFrame({"label": ["1", "1"]}, geometry=[shapely.box(0, 0, 1, 1)] * 2, crs="EPSG:4326").to_file(
        sample
    )
    matching, files, _ = match_s2_scenes(None, [_S2Ref("S2_sample", "2021-01-01", sample)], {})
    assert len(matching.scenes["S2_sample"].labels) == 2
    assert set(matching.scenes["S2_sample"].labels["image_id"]) == {"S2_sample"}
    assert [f.path for f in files] == [sample] and len(files[0].sha256) == 64
