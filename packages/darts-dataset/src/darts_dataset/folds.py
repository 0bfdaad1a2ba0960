"""Cross-validation folds over the patches of a split, grouped by scene and stratified by positives.

Scenes, not patches, are assigned to folds, so overlapping patches of one scene never sit in both
training and validation; scenes whose footprints overlap (the same slopes imaged on other days)
share an overlap group recorded by preprocessing and go to one fold together. Below, "scene" means
such a group (a scene alone in sets that record none). Scenes with RTS are dealt out first (most
positive patches first, each to the fold holding the fewest positive patches so far), then scenes
without RTS (largest first, to the fold holding the fewest patches), so positive patches spread
over the folds and every fold gets a positive scene when there are at least as many positive
scenes as folds. The seed breaks ties and numbers the folds, so one seed always gives the same
assignment. Sets without per-sample metadata (written by the reference tool) fall back to
contiguous blocks of patches, with a warning.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from darts_core.atomic import write_text_atomically
from darts_dataset.errors import FoldError
from darts_dataset.training_set import SplitMetadata

logger = logging.getLogger(__name__)

FOLDS_FORMAT_VERSION = 1


def _check_n_folds(n_folds: int, n_groups: int, what: str, split: str) -> None:
    if not isinstance(n_folds, int | np.integer) or n_folds < 2:
        raise FoldError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    if n_groups < 2:
        raise FoldError(
            f"split {split!r} has {n_groups} {what}, but cross-validation needs at least 2 (one per fold); "
            "it is empty or too small: check the training set"
        )
    if n_folds > n_groups:
        raise FoldError(
            f"n_folds={n_folds} exceeds the {n_groups} {what} of the split; use 2..{max(n_groups, 2)}"
        )


def _deal(sizes: np.ndarray, loads: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Assign groups (largest first, random tie order) to the currently lightest fold."""
    order = rng.permutation(len(sizes))
    order = order[np.argsort(-sizes[order], kind="stable")]
    fold_of = np.empty(len(sizes), dtype=np.int64)
    tiebreak = rng.random(len(loads))
    for g in order:
        fold = int(np.lexsort((tiebreak, loads))[0])
        fold_of[g] = fold
        loads[fold] += sizes[g]
    return fold_of


def make_folds(metadata: SplitMetadata, n_folds: int, seed: int) -> np.ndarray:
    """Fold index (0..n_folds-1) of every patch of a split.

    Grouped by overlap group (no scene, and no two overlapping scenes, in two folds), stratified
    by whether a group has positive patches, deterministic for a seed. Needs
    ``2 <= n_folds <= number of groups``.
    """
    if not metadata.has_metadata or metadata.scene_ids is None:
        _check_n_folds(n_folds, metadata.n, "patches", metadata.split)
        logger.warning(
            "split %r has no per-sample metadata (a set written by the reference tool): folds are "
            "%d contiguous blocks of patches, so patches of one scene may sit in two folds",
            metadata.split,
            n_folds,
        )
        return np.repeat(np.arange(n_folds), [len(b) for b in np.array_split(np.arange(metadata.n), n_folds)])
    grouping = metadata.groups if metadata.groups is not None else metadata.scene_ids
    scenes, scene_of_sample = np.unique(grouping, return_inverse=True)
    _check_n_folds(n_folds, len(scenes), "scene groups (overlapping scenes count as one)", metadata.split)
    sizes = np.bincount(scene_of_sample, minlength=len(scenes)).astype(np.float64)
    positive_patches: np.ndarray = np.zeros(len(scenes))
    if metadata.positive_fraction is not None:
        positive_patches = np.bincount(
            scene_of_sample,
            weights=(metadata.positive_fraction > 0).astype(np.float64),
            minlength=len(scenes),
        )
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(n_folds)]))
    scene_fold = np.empty(len(scenes), dtype=np.int64)
    pos = np.flatnonzero(positive_patches > 0)
    if metadata.positive_fraction is not None and len(pos) < n_folds:
        logger.warning(
            "split %r: only %d scene group(s) hold RTS, so %d of the %d folds validate without any RTS "
            "(IoU, F1, recall undefined there); %s",
            metadata.split,
            len(pos),
            n_folds - len(pos),
            n_folds,
            _remedy(len(pos)),
        )
    neg = np.flatnonzero(positive_patches == 0)
    if len(pos):  # balance positive patches first, then fill up with the negative scenes
        scene_fold[pos] = _deal(positive_patches[pos], np.zeros(n_folds), rng)
    if len(neg):
        loads = np.bincount(scene_fold[pos], weights=sizes[pos], minlength=n_folds)
        scene_fold[neg] = _deal(sizes[neg], loads, rng)
    # every fold is non-empty: n_folds <= n_scenes, each scene has >= 1 patch and an empty fold
    # (load 0) is always the lightest
    relabel = rng.permutation(n_folds)
    return relabel[scene_fold[scene_of_sample]]


def positive_group_note(metadata: SplitMetadata, positive: np.ndarray, n_folds: int) -> str:
    """Why folds lack positives: how many scene groups hold a positive patch, against ``n_folds``.

    ``positive`` flags each patch of the split holding RTS.
    """
    if not metadata.has_metadata or metadata.scene_ids is None:
        return "the set has no scene metadata, so folds are contiguous blocks and cannot be stratified"
    grouping = metadata.groups if metadata.groups is not None else metadata.scene_ids
    n_positive = len(np.unique(np.asarray(grouping)[np.asarray(positive, dtype=bool)]))
    if n_positive >= n_folds:
        return (
            f"{n_positive} scene groups hold RTS, but the stored positive_fraction that folds are "
            "stratified by disagrees with the labels"
        )
    return f"only {n_positive} scene group(s) hold RTS, fewer than the {n_folds} folds: {_remedy(n_positive)}"


def _remedy(n_positive: int) -> str:
    if n_positive < 2:
        return "add labelled scenes (every fold needs one; cross-validation needs at least 2 folds)"
    return f"use n_folds <= {n_positive} or add labelled scenes"


def fold_indices(folds: np.ndarray, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices) for validation fold ``fold``."""
    n_folds = int(folds.max()) + 1 if len(folds) else 0
    if not 0 <= fold < n_folds:
        raise FoldError(f"fold {fold} is out of range; the assignment has folds 0..{n_folds - 1}")
    return np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)


def folds_to_dict(metadata: SplitMetadata, folds: np.ndarray, n_folds: int, seed: int) -> dict[str, Any]:
    """A JSON-ready description of a fold assignment (for the run's artifacts)."""
    if len(folds) != metadata.n:
        raise FoldError(f"fold assignment has {len(folds)} entries, the split has {metadata.n} patches")
    summary = []
    for k in range(n_folds):
        members = folds == k
        entry: dict[str, Any] = {"fold": k, "n_patches": int(members.sum())}
        if metadata.positive_fraction is not None:
            entry["n_positive_patches"] = int((metadata.positive_fraction[members] > 0).sum())
        if metadata.scene_ids is not None:
            entry["scenes"] = sorted(set(metadata.scene_ids[members].tolist()))
        summary.append(entry)
    return {
        "format_version": FOLDS_FORMAT_VERSION,
        "split": metadata.split,
        "n_folds": int(n_folds),
        "seed": int(seed),
        "grouping": "overlap group" if metadata.has_metadata else "contiguous",
        "folds": summary,
        "assignment": [int(f) for f in folds],
    }


def folds_to_json(metadata: SplitMetadata, folds: np.ndarray, n_folds: int, seed: int) -> str:
    """:func:`folds_to_dict` as an indented JSON string."""
    return json.dumps(folds_to_dict(metadata, folds, n_folds, seed), indent=1)


def folds_from_json(text: str) -> np.ndarray:
    """The per-patch fold assignment stored by :func:`folds_to_json`."""
    try:
        data = json.loads(text)
        return np.asarray(data["assignment"], dtype=np.int64)
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise FoldError(f"not a fold assignment written by folds_to_json: {err}") from err


def write_folds_json(
    path: Path | str, metadata: SplitMetadata, folds: np.ndarray, n_folds: int, seed: int
) -> Path:
    """Write the fold assignment to ``path`` atomically (temp name, then rename)."""
    return write_text_atomically(path, folds_to_json(metadata, folds, n_folds, seed))
