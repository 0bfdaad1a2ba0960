"""Assign scenes to the splits test, val-test and cross-val (by scene, never by patch).

- test: scenes whose footprint intersects an admin polygon named in ``test_regions`` (exact
  ``shapeName`` of an ADM1 or ADM2 polygon; an unknown name is an error listing close names).
- val-test: of the other scenes, groups of mutually overlapping footprints are formed; a group goes
  to val-test when ``hash(seed, smallest scene id of the group)`` mapped to [0, 1) is below
  ``test_val_split``. Each group decides alone, so adding unrelated scenes never moves a scene;
  the fraction is met in expectation, not exactly. One exception keeps val-test usable: when the
  threshold picks no group at all (few scenes), the group with the smallest hash is taken (logged,
  recorded as ``fallback``); only such a fallback choice can change when scenes are added.
- cross-val: the rest.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from darts_core.errors import DartsInputError

logger = logging.getLogger(__name__)

TEST, VAL_TEST, CROSS_VAL = "test", "val-test", "cross-val"
ADMIN_NAME_COLUMN = "shapeName"
ADMIN_LEVELS = ("ADM1", "ADM2")
_MIN_OVERLAP_FRACTION = 1e-6


@dataclass(frozen=True)
class SplitSettings:
    """How scenes are split: the val-test fraction and seed, the test regions and their admin file."""

    test_val_split: float
    seed: int
    test_regions: tuple[str, ...] = ()
    admin_dir: Path | None = None


@dataclass(frozen=True)
class SplitAssignment:
    """Split of every scene plus how it was decided."""

    split: dict[str, str]
    groups: list[list[str]]
    """Groups of scenes with overlapping footprints (each kept in one split unless one is test)."""
    region_scenes: dict[str, list[str]] = field(default_factory=dict)
    """Test region name -> scenes intersecting it."""
    fallback: list[str] = field(default_factory=list)
    """Scenes put in val-test only because the hash threshold chose none."""

    def group_of(self, scene_id: str) -> str:
        """The overlap group of a scene: the smallest scene id of its group (its own id when alone)."""
        for group in self.groups:
            if scene_id in group:
                return group[0]
        return scene_id

    def scenes_of(self, split: str) -> list[str]:
        """Sorted scene ids of one split."""
        return sorted(s for s, v in self.split.items() if v == split)


def hash_fraction(key: str, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) for ``key`` (sha256; independent of other keys)."""
    digest = hashlib.sha256(f"darts-val-test:{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _admin_levels(admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows of level ADM1 / ADM2, or of unknown level (a file that does not say)."""
    if "level" not in admin.columns:
        return admin
    known = admin["level"].notna() & (admin["level"].astype(str).str.strip() != "")
    level = admin["level"].astype(str).str.upper().str.replace("ADM", "", regex=False)
    return admin[~known | level.isin([lv.removeprefix("ADM") for lv in ADMIN_LEVELS])]


def _close_names(name: str, known: list[str]) -> list[str]:
    """Known names containing ``name`` (case-insensitive), then difflib's closest ones (at most 5)."""
    lower = name.casefold()
    containing = [k for k in known if lower in k.casefold() or k.casefold() in lower]
    similar = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    return list(dict.fromkeys([*containing, *similar]))[:5]


def select_test_regions(admin: gpd.GeoDataFrame, names: Sequence[str]) -> dict[str, BaseGeometry]:
    """Polygons (EPSG:4326) of each named region; unknown names raise with the closest known names."""
    if ADMIN_NAME_COLUMN not in admin.columns:
        raise DartsInputError(
            f"the admin regions have no {ADMIN_NAME_COLUMN!r} column (columns: {list(admin.columns)})"
        )
    admin = _admin_levels(admin)
    if admin.crs is not None:
        admin = admin.to_crs("EPSG:4326")
    known = sorted(set(admin[ADMIN_NAME_COLUMN].astype(str)))
    out: dict[str, BaseGeometry] = {}
    for name in names:
        rows = admin[admin[ADMIN_NAME_COLUMN] == name]
        if rows.empty:
            close = _close_names(name, known)
            hint = f"; close names: {close}" if close else f"; {len(known)} names are known (ADM1/ADM2)"
            raise DartsInputError(f"test region {name!r} is not a shapeName in the admin regions{hint}")
        out[name] = shapely.unary_union(rows.geometry.values)
    return out


def load_test_regions(settings: SplitSettings) -> dict[str, BaseGeometry]:
    """The test-region polygons (EPSG:4326) by name; empty without test regions."""
    if not settings.test_regions:
        return {}
    if settings.admin_dir is None:
        raise DartsInputError(f"test-regions {list(settings.test_regions)} need admin-dir, which is not set")
    from darts_preprocess.sources.admin import load_admin_regions

    return select_test_regions(load_admin_regions(settings.admin_dir), settings.test_regions)


def overlap_groups(footprints: Mapping[str, BaseGeometry]) -> list[list[str]]:
    """Connected groups of scenes whose footprints overlap with a positive area (sorted)."""
    ids = sorted(footprints)
    geoms = np.array([footprints[i] for i in ids], dtype=object)
    parent = list(range(len(ids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(ids):
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        for a, b in zip(left, right, strict=True):
            if a >= b:
                continue
            smaller = min(geoms[a].area, geoms[b].area)
            if geoms[a].intersection(geoms[b]).area > _MIN_OVERLAP_FRACTION * smaller:
                parent[find(a)] = find(b)
    groups: dict[int, list[str]] = {}
    for i, scene in enumerate(ids):
        groups.setdefault(find(i), []).append(scene)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def assign_splits(
    footprints: Mapping[str, BaseGeometry],
    test_val_split: float,
    seed: int,
    test_regions: Mapping[str, BaseGeometry] | None = None,
) -> SplitAssignment:
    """Split scenes given their footprints (EPSG:4326) and the test-region polygons (EPSG:4326)."""
    split: dict[str, str] = {}
    region_scenes: dict[str, list[str]] = {}
    for name, region in (test_regions or {}).items():
        hits = sorted(s for s, fp in footprints.items() if fp.intersects(region))
        region_scenes[name] = hits
        if not hits:
            logger.warning("test region %r intersects no scene footprint", name)
        split.update(dict.fromkeys(hits, TEST))
    groups = overlap_groups(footprints)
    candidates: list[tuple[float, list[str]]] = []
    for group in groups:
        rest = [s for s in group if s not in split]
        if len(rest) < len(group) and rest:
            logger.warning("scenes %s overlap test scenes but lie outside the test regions", rest)
        if rest:
            candidates.append((hash_fraction(rest[0], seed), rest))
    for value, rest in candidates:
        split.update(dict.fromkeys(rest, VAL_TEST if value < test_val_split else CROSS_VAL))
    fallback: list[str] = []
    if test_val_split > 0 and len(candidates) > 1 and VAL_TEST not in split.values():
        fallback = min(candidates)[1]
        split.update(dict.fromkeys(fallback, VAL_TEST))
        logger.warning(
            "test-val-split %.3g of %d scene group(s) chose none; val-test takes the group with the "
            "smallest hash: %s",
            test_val_split,
            len(candidates),
            fallback,
        )
    return SplitAssignment(split=split, groups=groups, region_scenes=region_scenes, fallback=fallback)
