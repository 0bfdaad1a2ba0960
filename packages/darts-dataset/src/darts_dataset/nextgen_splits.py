"""Our three splits of a darts-nextgen set, whose patches carry no split: a rule by scene.

1. test: every scene (``sample_id``) with a patch in one of ``nextgen_test_regions``; without regions, each
   scene whose hash ``sha256("darts-test:{seed}:{scene}")`` mapped to [0, 1) is below
   ``nextgen_test_fraction``.
2. val-test: of the other scenes, each whose hash ``sha256("darts-val-test:{seed}:{scene}")`` is
   below ``nextgen_val_test_fraction`` (the hash darts' own preprocessing uses for val-test).
3. cross-val: the rest; its folds are made as for our sets (darts_dataset.folds), grouped by scene.

Each scene decides alone, so adding scenes never moves another scene; fractions hold in
expectation. When a draw picks no scene although its fraction is above 0 and at least two scenes
are left, the scene with the smallest hash is taken (so the split is never empty by chance).
A scene is never in two splits.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np

from darts_core.errors import DartsInputError
from darts_core.trainset_layout import SPLITS
from darts_dataset.nextgen_options import NextgenSetOptions

logger = logging.getLogger(__name__)

TEST, VAL_TEST, CROSS_VAL = "test", "val-test", "cross-val"


def scene_hash(scene: str, seed: int, purpose: str) -> float:
    """A stable number in [0, 1) for a scene (sha256, independent of the other scenes)."""
    digest = hashlib.sha256(f"darts-{purpose}:{seed}:{scene}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _draw(scenes: list[str], fraction: float, seed: int, purpose: str) -> list[str]:
    """Scenes whose hash is below ``fraction`` (the smallest-hash scene when that picks none)."""
    if fraction <= 0 or not scenes:
        return []
    hashes = {s: scene_hash(s, seed, purpose) for s in scenes}
    chosen = [s for s in scenes if hashes[s] < fraction]
    if not chosen and len(scenes) > 1:
        chosen = [min(scenes, key=lambda s: hashes[s])]
        logger.info(
            "%s fraction %.3g chose none of %d scenes; taking %s", purpose, fraction, len(scenes), chosen
        )
    return chosen


def _test_scenes(scene_ids: np.ndarray, regions: np.ndarray, options: NextgenSetOptions) -> list[str]:
    scenes = sorted(set(scene_ids.tolist()))
    if options.nextgen_test_regions is None:
        return _draw(scenes, options.nextgen_test_fraction, options.nextgen_split_seed, TEST)
    known = sorted(set(regions.tolist()))
    unknown = [r for r in options.nextgen_test_regions if r not in known]
    if unknown:
        raise DartsInputError(
            f"test region(s) {unknown} not in the set's region column; its regions: {known}"
        )
    return sorted(set(scene_ids[np.isin(regions, list(options.nextgen_test_regions))].tolist()))


def scene_splits(scene_ids: np.ndarray, regions: np.ndarray, options: NextgenSetOptions) -> dict[str, str]:
    """Split of every scene (``scene_ids``/``regions``: one entry per patch)."""
    test = set(_test_scenes(scene_ids, regions, options))
    rest = sorted(set(scene_ids.tolist()) - test)
    val_test = (
        set(_draw(rest, options.nextgen_val_test_fraction, options.nextgen_split_seed, VAL_TEST))
        if len(rest) > 1
        else set()
    )
    return {
        s: TEST if s in test else VAL_TEST if s in val_test else CROSS_VAL
        for s in sorted(set(scene_ids.tolist()))
    }


def split_positions(
    scene_ids: np.ndarray, regions: np.ndarray, options: NextgenSetOptions
) -> dict[str, np.ndarray]:
    """Positions (into the per-patch arrays, ascending) of the patches of each split."""
    of_scene = scene_splits(scene_ids, regions, options)
    split_of_patch = np.array([of_scene[s] for s in scene_ids.tolist()], dtype=object)
    return {split: np.flatnonzero(split_of_patch == split) for split in SPLITS}
