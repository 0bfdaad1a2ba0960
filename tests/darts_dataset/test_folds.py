"""Folds: grouped by scene, stratified by positives, seeded, with a contiguous fallback."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from darts_dataset import (
    FoldError,
    SplitMetadata,
    TrainingSet,
    fold_indices,
    folds_from_json,
    folds_to_json,
    make_folds,
    write_folds_json,
)
from darts_dataset.training_set import open_split_group, read_split_metadata


def _metadata(sizes: list[int], positive: list[bool]) -> SplitMetadata:
    scene_ids = np.repeat([f"scene{i:02d}" for i in range(len(sizes))], sizes)
    pos = np.repeat(np.where(positive, 0.2, 0.0), sizes).astype(np.float32)
    return SplitMetadata(
        split="cross-val",
        n=int(sum(sizes)),
        has_metadata=True,
        scene_ids=scene_ids,
        regions=np.full(len(scene_ids), "r"),
        positive_fraction=pos,
    )


def _scenes_per_fold(meta: SplitMetadata, folds: np.ndarray) -> list[set[str]]:
    return [set(meta.scene_ids[folds == k]) for k in range(int(folds.max()) + 1)]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 30), min_size=2, max_size=25),
    data=st.data(),
)
def test_grouped_nonempty_and_deterministic(sizes, data):
    positive = data.draw(st.lists(st.booleans(), min_size=len(sizes), max_size=len(sizes)))
    n_folds = data.draw(st.integers(2, len(sizes)))
    seed = data.draw(st.integers(0, 2**31))
    meta = _metadata(sizes, positive)
    folds = make_folds(meta, n_folds, seed)
    assert folds.shape == (meta.n,) and set(folds.tolist()) == set(range(n_folds))
    for scene in np.unique(meta.scene_ids):
        assert len(np.unique(folds[meta.scene_ids == scene])) == 1
    np.testing.assert_array_equal(folds, make_folds(meta, n_folds, seed))
    # stratified: every fold gets a positive scene when there are enough of them
    pos_per_fold = [
        len({s for s in scenes if positive[int(s[5:])]}) for scenes in _scenes_per_fold(meta, folds)
    ]
    if sum(positive) >= n_folds:
        assert min(pos_per_fold) >= 1


def test_stratified_spreads_positive_scenes_and_balances_sizes():
    sizes = [10, 9, 8, 7, 6, 5, 10, 9, 8, 7, 6, 5]
    positive = [True] * 6 + [False] * 6
    meta = _metadata(sizes, positive)
    folds = make_folds(meta, 3, seed=0)
    for scenes in _scenes_per_fold(meta, folds):
        assert sum(positive[int(s[5:])] for s in scenes) == 2
    counts = np.bincount(folds)
    assert counts.max() - counts.min() <= 5


def test_seed_changes_assignment():
    meta = _metadata([3] * 10, [True, False] * 5)
    assignments = {tuple(make_folds(meta, 5, seed)) for seed in range(6)}
    assert len(assignments) > 1


def test_too_many_or_too_few_folds():
    meta = _metadata([2, 3, 1], [True, False, True])
    with pytest.raises(FoldError, match=r"n_folds=4 exceeds the 3 scene groups"):
        make_folds(meta, 4, 0)
    with pytest.raises(FoldError, match=">= 2"):
        make_folds(meta, 1, 0)
    assert isinstance(FoldError("x"), ValueError)


def test_empty_cross_val_says_so_without_suggesting_a_fold_range():
    for meta in (_metadata([], []), SplitMetadata(split="cross-val", n=0, has_metadata=False)):
        with pytest.raises(FoldError) as info:
            make_folds(meta, 2, 0)
        assert "split 'cross-val' has 0" in str(info.value) and "at least 2" in str(info.value)
        assert "use 2.." not in str(info.value)


def test_contiguous_fallback_without_metadata(caplog):
    meta = SplitMetadata(split="cross-val", n=10, has_metadata=False)
    with caplog.at_level(logging.WARNING):
        folds = make_folds(meta, 3, seed=0)
    np.testing.assert_array_equal(folds, [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert "contiguous blocks" in caplog.text
    with pytest.raises(FoldError, match="11 exceeds the 10 patches"):
        make_folds(meta, 11, 0)


def test_fold_indices_partition():
    folds = np.array([0, 1, 1, 2, 0])
    train, val = fold_indices(folds, 1)
    np.testing.assert_array_equal(train, [0, 3, 4])
    np.testing.assert_array_equal(val, [1, 2])
    with pytest.raises(FoldError, match="out of range"):
        fold_indices(folds, 3)


def test_json_round_trip_on_a_real_set(tiny_set, tmp_path):
    meta = TrainingSet(tiny_set.path).split_metadata("cross-val")
    folds = make_folds(meta, 4, seed=42)
    data = json.loads(folds_to_json(meta, folds, 4, 42))
    assert data["grouping"] == "overlap group" and data["n_folds"] == 4 and data["seed"] == 42
    assert sum(f["n_patches"] for f in data["folds"]) == meta.n
    assert sorted(s for f in data["folds"] for s in f["scenes"]) == sorted(set(meta.scene_ids))
    path = write_folds_json(tmp_path / "run" / "folds.json", meta, folds, 4, 42)
    np.testing.assert_array_equal(folds_from_json(path.read_text()), folds)
    assert [p.name for p in path.parent.iterdir()] == ["folds.json"]
    with pytest.raises(FoldError):
        folds_from_json("{}")


def test_overlapping_scenes_share_a_fold():
    """Scenes of one overlap group (the same slopes on other days) never straddle folds."""
    meta = _metadata([5, 4, 6, 3, 5, 4], [True, True, False, True, False, True])
    groups = np.where(np.isin(meta.scene_ids, ["scene01", "scene03"]), "scene01", meta.scene_ids)
    grouped = SplitMetadata(**{**meta.__dict__, "groups": groups})
    for seed in range(20):
        folds = make_folds(grouped, 3, seed)
        assert len(np.unique(folds[np.isin(meta.scene_ids, ["scene01", "scene03"])])) == 1
        assert set(folds.tolist()) == {0, 1, 2}
    with pytest.raises(FoldError, match="scene groups"):
        make_folds(SplitMetadata(**{**meta.__dict__, "groups": np.full(meta.n, "g")}), 2, 0)


def test_groups_read_from_a_written_set(tmp_path):
    """The scenes attribute's "group" reaches SplitMetadata.groups; a scene without one is its own."""
    from darts_core.trainset_layout import PatchBatch, SceneInfo, SplitWriter

    rng = np.random.default_rng(0)
    writer = SplitWriter(tmp_path, "cross-val", ["red"], 4)
    for scene, group in (("a", "a"), ("b", "a"), ("c", ""), ("d", "d")):
        x = rng.random((2, 1, 4, 4), dtype=np.float32)
        y = np.zeros((2, 4, 4), np.uint8)
        rows = np.zeros(2, np.int32)
        writer.append(
            PatchBatch(SceneInfo(scene, "r", "EPSG:32633", group), x, y, rows, rows, np.zeros((2, 6)))
        )
    writer.finish()
    meta = read_split_metadata(open_split_group(tmp_path, "cross-val"), "cross-val")
    assert meta.groups.tolist() == ["a", "a", "a", "a", "c", "c", "d", "d"]
    folds = make_folds(meta, 3, 0)
    assert len(set(folds[:4].tolist())) == 1  # a and b overlap: one fold


def test_too_few_positive_scenes_for_the_folds_is_logged(caplog):
    meta = _metadata([3, 2, 2, 2, 2], [True, True, False, False, False])
    with caplog.at_level(logging.WARNING, logger="darts_dataset.folds"):
        folds = make_folds(meta, 4, seed=1)
    assert "only 2 scene group(s) hold RTS, so 2 of the 4 folds validate without any RTS" in caplog.text
    positive_folds = {int(f) for f in folds[meta.positive_fraction > 0]}
    assert len(positive_folds) == 2  # the two positive scenes still go to two different folds
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="darts_dataset.folds"):
        make_folds(meta, 2, seed=1)
    assert "hold RTS" not in caplog.text
