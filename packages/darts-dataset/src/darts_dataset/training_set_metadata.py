"""Per-sample metadata of one split (any training-set layout)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SplitMetadata:
    """Per-sample metadata of one split; every array has length ``n``.

    Sets written by the reference tool carry none: then ``has_metadata`` is False and the
    per-sample arrays are None (folds fall back to contiguous blocks of patches).
    """

    split: str
    n: int
    has_metadata: bool
    scene_ids: np.ndarray | None = None
    """str, the scene each patch comes from."""
    groups: np.ndarray | None = None
    """str, the overlap group of that scene (scenes whose footprints overlap share one; the scene id
    where the set records none)."""
    regions: np.ndarray | None = None
    """str, the admin region of that scene."""
    crs: np.ndarray | None = None
    """str, CRS of that scene (authority string or WKT)."""
    positive_fraction: np.ndarray | None = None
    """float32, fraction of valid pixels labelled RTS."""
    patch_row: np.ndarray | None = None
    """int32, pixel row of the patch's origin in its scene."""
    patch_col: np.ndarray | None = None
    """int32, pixel column of the patch's origin in its scene."""
    geotransform: np.ndarray | None = None
    """float64 [n, 6], affine (a, b, c, d, e, f) of the patch."""

    @property
    def n_scenes(self) -> int | None:
        """Number of scenes with at least one patch (None without metadata)."""
        return None if self.scene_ids is None else len(np.unique(self.scene_ids))

    @property
    def n_regions(self) -> int | None:
        """Number of regions with at least one patch (None without metadata)."""
        return None if self.regions is None else len(np.unique(self.regions))
