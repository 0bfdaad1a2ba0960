"""Scene splits: test regions, the stable val-test choice, overlap groups."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from darts_core.errors import DartsInputError
from darts_preprocess.trainset.splits import (
    CROSS_VAL,
    TEST,
    VAL_TEST,
    assign_splits,
    hash_fraction,
    overlap_groups,
    select_test_regions,
)


def _box(i: int, size: float = 0.5) -> shapely.Polygon:
    """Disjoint footprints on a grid of 1-degree cells."""
    x, y = (i % 100) * 1.0, 60 + (i // 100) * 1.0
    return shapely.box(x, y, x + size, y + size)


@pytest.fixture
def admin() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "shapeName": ["Taymyrsky Dolgano-Nenetsky District", "Krasnoyarsk Krai", "Russia", "Nowhere"],
            "level": ["ADM2", "ADM1", "ADM0", None],
        },
        geometry=[
            shapely.box(0, 60, 2.2, 61),
            shapely.box(0, 60, 10, 62),
            shapely.box(-10, 50, 50, 80),
            shapely.box(80, 0, 81, 1),
        ],
        crs="EPSG:4326",
    )


def test_test_region_scenes_go_to_test(admin: gpd.GeoDataFrame) -> None:
    footprints = {f"s{i:03d}": _box(i) for i in range(10)}
    regions = select_test_regions(admin, ["Taymyrsky Dolgano-Nenetsky District"])
    result = assign_splits(footprints, 0.0, 42, regions)
    assert result.scenes_of(TEST) == ["s000", "s001", "s002"]
    assert result.scenes_of(CROSS_VAL) == [f"s{i:03d}" for i in range(3, 10)]
    assert result.region_scenes == {"Taymyrsky Dolgano-Nenetsky District": ["s000", "s001", "s002"]}


def test_unknown_region_lists_close_names(admin: gpd.GeoDataFrame) -> None:
    with pytest.raises(DartsInputError, match=r"'Taymyrsky District'.*Taymyrsky Dolgano-Nenetsky District"):
        select_test_regions(admin, ["Taymyrsky District"])


def test_region_names_are_exact_and_adm1_adm2_only(admin: gpd.GeoDataFrame) -> None:
    with pytest.raises(DartsInputError, match="not a shapeName"):
        select_test_regions(admin, ["krasnoyarsk krai"])  # case matters
    with pytest.raises(DartsInputError, match="not a shapeName"):
        select_test_regions(admin, ["Russia"])  # ADM0 is not a test region level
    assert set(select_test_regions(admin, ["Krasnoyarsk Krai", "Nowhere"])) == {"Krasnoyarsk Krai", "Nowhere"}


def test_admin_without_name_column() -> None:
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    with pytest.raises(DartsInputError, match="shapeName"):
        select_test_regions(frame, ["a"])


def test_val_test_fraction_close_to_requested() -> None:
    footprints = {f"scene-{i:05d}": _box(i) for i in range(3000)}
    result = assign_splits(footprints, 0.05, 42)
    fraction = len(result.scenes_of(VAL_TEST)) / 3000
    assert 0.035 < fraction < 0.065
    assert set(result.split.values()) == {VAL_TEST, CROSS_VAL}


def test_seed_changes_the_choice() -> None:
    footprints = {f"scene-{i:05d}": _box(i) for i in range(400)}
    a = assign_splits(footprints, 0.2, 1).scenes_of(VAL_TEST)
    b = assign_splits(footprints, 0.2, 2).scenes_of(VAL_TEST)
    assert a != b
    assert a == assign_splits(footprints, 0.2, 1).scenes_of(VAL_TEST)


@settings(max_examples=25, deadline=None)
@given(
    n_old=st.integers(1, 60), n_new=st.integers(1, 60), fraction=st.floats(0.0, 1.0), seed=st.integers(0, 99)
)
def test_adding_unrelated_scenes_moves_no_scene(n_old: int, n_new: int, fraction: float, seed: int) -> None:
    old = {f"old-{i}": _box(i) for i in range(n_old)}
    new = {f"new-{i}": _box(100 + i) for i in range(n_new)}  # other rows: no overlap with old ones
    before = assign_splits(old, fraction, seed)
    after = assign_splits(old | new, fraction, seed)
    moved = {k for k in old if after.split[k] != before.split[k]}
    assert moved <= set(before.fallback) | set(after.fallback)  # only a fallback choice may move
    if not before.fallback and not after.fallback:
        assert not moved


def test_overlapping_footprints_share_a_split() -> None:
    # chains of three overlapping footprints; every chain must land in one split
    footprints = {}
    for chain in range(200):
        for j in range(3):
            footprints[f"c{chain:03d}-{j}"] = shapely.box(
                chain * 2 + j * 0.4, 60, chain * 2 + j * 0.4 + 0.5, 60.5
            )
    result = assign_splits(footprints, 0.3, 7)
    assert len(result.groups) == 200
    for chain in range(200):
        assert len({result.split[f"c{chain:03d}-{j}"] for j in range(3)}) == 1
        # the group (recorded in the training set for the folds) is the chain's smallest id
        assert {result.group_of(f"c{chain:03d}-{j}") for j in range(3)} == {f"c{chain:03d}-0"}
    assert 0 < len(result.scenes_of(VAL_TEST)) < 600
    assert result.group_of("not-a-scene") == "not-a-scene"


def test_touching_footprints_are_not_grouped() -> None:
    groups = overlap_groups(
        {"a": shapely.box(0, 0, 1, 1), "b": shapely.box(1, 0, 2, 1), "c": shapely.box(1.5, 0, 3, 1)}
    )
    assert groups == [["a"], ["b", "c"]]


def test_hash_fraction_is_stable_and_uniform() -> None:
    assert hash_fraction("20200722_081437_1032", 42) == hash_fraction("20200722_081437_1032", 42)
    values = [hash_fraction(f"s{i}", 0) for i in range(5000)]
    assert all(0.0 <= v < 1.0 for v in values)
    assert abs(sum(v < 0.25 for v in values) / 5000 - 0.25) < 0.03


def test_fallback_when_the_threshold_picks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    footprints = {f"s{i}": _box(i) for i in range(4)}
    smallest = min(footprints, key=lambda s: hash_fraction(s, 42))
    fraction = hash_fraction(smallest, 42) * 0.5  # below every scene's hash: the threshold picks none
    result = assign_splits(footprints, fraction, 42)
    assert result.scenes_of(VAL_TEST) == [smallest] and result.fallback == [smallest]
    assert "chose none" in caplog.text
    assert assign_splits({"only": _box(0)}, fraction, 42).split == {
        "only": CROSS_VAL
    }  # one group: no fallback
    assert VAL_TEST not in assign_splits(footprints, 0.0, 42).split.values()
