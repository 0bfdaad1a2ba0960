"""Per-scene patch cache: what makes a preprocessing run resumable.

Each finished scene is one folder ``{cache_root}/patches-{fingerprint}/{scene_id}/`` holding
``patches.zarr`` (x and y, encoded exactly like the split arrays, so the assembly moves their chunk
files instead of encoding the patches again), ``meta.npz`` (patch rows, cols, geotransforms,
positive fractions) and ``outcome.json`` (the scene's report). It is written under a temporary
name and renamed into place, so a folder that exists is complete. The fingerprint hashes every
setting that changes a scene's patches (bands, patch size, overlap, filters, erosion, TPI radii,
input folders, label-file hashes); changing any of them uses a new folder, i.e. rebuilds. Split
settings (test regions, test-val-split, seed) are not part of it: changing them only re-assembles
the splits from the cache.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from darts_core.atomic import atomic_dir, find_partials, remove_path, write_text_atomically
from darts_core.trainset_layout import write_scene_patches

PATCH_STORE = "patches.zarr"

CACHE_FORMAT_VERSION = 2
OUTCOME_FILE = "outcome.json"
"""Written last into a scene folder (which is then renamed into place): marks a finished scene."""


def fingerprint(settings: Mapping[str, Any]) -> str:
    """Stable hex digest of JSON-serialisable settings."""
    payload = json.dumps({"cache_format": CACHE_FORMAT_VERSION, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def has_finished_scenes(cache_root: Path) -> bool:
    """True when any settings fingerprint under ``cache_root`` holds a finished scene."""
    return any(Path(cache_root).glob(f"patches-*/*/{OUTCOME_FILE}"))


class SceneCache:
    """The cache folder of one settings fingerprint."""

    def __init__(self, cache_root: Path, settings: Mapping[str, Any]) -> None:
        self.digest = fingerprint(settings)
        self.folder = Path(cache_root) / f"patches-{self.digest[:16]}"
        self.settings = dict(settings)

    def prepare(self) -> None:
        """Create the folder, record its settings, drop temporaries of interrupted writes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        settings_file = self.folder / "settings.json"
        if not settings_file.exists():
            _atomic_text(settings_file, json.dumps(self.settings, indent=2, sort_keys=True, default=str))
        for tmp in find_partials(self.folder):
            remove_path(tmp)

    def scene_dir(self, scene_id: str) -> Path:
        """Folder of one finished scene."""
        return self.folder / scene_id

    def has(self, scene_id: str) -> bool:
        """True when the scene finished in an earlier (or this) run."""
        return (self.scene_dir(scene_id) / OUTCOME_FILE).is_file()

    def write(
        self,
        scene_id: str,
        x: np.ndarray,
        y: np.ndarray,
        meta: Mapping[str, np.ndarray],
        outcome: Mapping[str, Any],
    ) -> Path:
        """Write one scene atomically (temporary folder, then rename)."""
        final = self.scene_dir(scene_id)
        # a folder another worker (or an earlier run) finished meanwhile is replaced
        with atomic_dir(final) as tmp:
            tmp.mkdir(parents=True)
            write_scene_patches(tmp / PATCH_STORE, x, y)
            np.savez(tmp / "meta.npz", allow_pickle=False, **{k: np.asarray(v) for k, v in meta.items()})
            (tmp / OUTCOME_FILE).write_text(json.dumps(outcome, sort_keys=True, default=str))
        return final

    def read_outcome(self, scene_id: str) -> dict[str, Any]:
        """The stored report of a finished scene."""
        return json.loads((self.scene_dir(scene_id) / OUTCOME_FILE).read_text())

    def patch_store(self, scene_id: str) -> Path:
        """The zarr group (x, y) of a finished scene."""
        return self.scene_dir(scene_id) / PATCH_STORE

    def read_meta(self, scene_id: str) -> dict[str, np.ndarray]:
        """Patch rows, cols, geotransforms and positive fractions of a finished scene."""
        with np.load(self.scene_dir(scene_id) / "meta.npz") as meta:
            return {k: meta[k] for k in meta.files}

    def clear(self) -> None:
        """Delete this fingerprint's folder."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _atomic_text(path: Path, text: str) -> None:
    write_text_atomically(path, text)
