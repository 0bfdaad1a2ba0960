"""What a preprocessing run returns and records: the result object, config.toml, labels.geojson."""

from __future__ import annotations

import importlib.metadata
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from darts_core.atomic import atomic_path, write_text_atomically
from darts_core.bands import BANDS
from darts_core.recorded_paths import record_path
from darts_core.trainset_layout import LABELS_FILE, LAYOUT_VERSION, SPLITS
from darts_preprocess.jobs.scene_job import SceneOutcome
from darts_preprocess.labels.collection import LabelFile
from darts_preprocess.patches.patching import FILTERS

LABELS_CRS = "EPSG:3413"
REPORT_FILE = "preprocess-report.json"
_VERSIONED = (
    "darts-preprocess",
    "numpy",
    "xarray",
    "rasterio",
    "geopandas",
    "shapely",
    "zarr",
    "dask",
    "odc-geo",
)


@dataclass(frozen=True)
class SetRecord:
    """The options a training set records in its config.toml (built from the config, see
    :mod:`darts_preprocess.stage_settings`) and which of them must match an existing set."""

    train_data_dir: Path
    bands: tuple[str, ...]
    options: dict[str, Any]
    """Every recorded option as TOML-friendly values, paths as :func:`record_path` writes them."""
    compared: frozenset[str]
    """Options that change the set (compared with an existing set's record)."""
    fields: frozenset[str]
    """Every option name that changes the set, also those unset now (None is not recorded)."""
    path_keys: frozenset[str]
    """Options holding paths (compared as resolved paths)."""


@dataclass
class PreprocessResult:
    """Outcome of ``preprocess_planet_train_data`` / ``preprocess_s2_train_data``."""

    train_data_dir: Path
    n_patches: dict[str, int]
    """Patches per split."""
    scenes: dict[str, list[str]]
    """Scene ids per split (scenes that were processed, with or without patches)."""
    skipped: list[tuple[str, str]]
    """(scene id or path, reason) of everything not used."""
    scene_reports: dict[str, SceneOutcome]
    removed: dict[str, int]
    """Patches removed by each filter, summed over scenes."""
    label_notes: list[str] = field(default_factory=list)
    unmatched_label_ids: list[str] = field(default_factory=list)
    n_processed: int = 0
    """Scenes processed in this run."""
    n_resumed: int = 0
    """Scenes taken from the cache of an earlier, interrupted run."""
    seconds: float = 0.0


def software_versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape the output."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def training_set_settings(
    record: SetRecord,
    sensor: str,
    result: PreprocessResult,
    label_files: Sequence[LabelFile],
) -> dict[str, Any]:
    """The ``[darts]`` table of the training set's config.toml."""
    settings = dict(record.options)
    settings.update(
        {
            "sensor": sensor,
            "norm_factors": {b: BANDS[b].norm_factor for b in record.bands},
            "band_encodings": {b: BANDS[b].encoding for b in record.bands},
            "band_units": {b: BANDS[b].unit for b in record.bands},
            "n_patches": {s: int(result.n_patches.get(s, 0)) for s in SPLITS},
            "n_scenes": {s: len(result.scenes.get(s, [])) for s in SPLITS},
            "patches_removed": {f: int(result.removed.get(f, 0)) for f in FILTERS},
            "layout_version": LAYOUT_VERSION,
            "versions": software_versions(),
            "label_files": [
                {
                    "path": record_path(f.path, record.train_data_dir),
                    "kind": f.kind,
                    "sha256": f.sha256,
                    "n_features": f.n_features,
                }
                for f in label_files
            ],
            "skipped_scenes": [{"scene": s, "reason": r} for s, r in result.skipped],
            "unmatched_label_image_ids": list(result.unmatched_label_ids),
        }
    )
    return settings


def labels_frame(
    labels: gpd.GeoDataFrame,
    scene_of_label: pd.Series,
    split_of: Mapping[str, str],
    status: Mapping[str, str],
) -> gpd.GeoDataFrame:
    """Labels of the processed scenes, each once, in EPSG:3413 with scene, split ('mode') and status.

    ``status`` is 'burned', or 'outside_image' / 'too_small' for labels that set no pixel.
    """
    scenes = scene_of_label.loc[labels.index]
    frame = gpd.GeoDataFrame(
        {
            "label_uid": labels["label_uid"].to_numpy(),
            "image_id": scenes.to_numpy(),
            "source_image_id": labels["image_id"].to_numpy(),
            "region": labels["region"].astype(object).where(labels["region"].notna(), None).to_numpy(),
            "label_id": pd.to_numeric(labels["label_id"], errors="coerce").astype("Int64").to_numpy(),
            "label_file": labels["label_file"].to_numpy(),
            "mode": [split_of[s] for s in scenes],
            "status": [status.get(uid, "burned") for uid in labels["label_uid"]],
        },
        geometry=labels.geometry.values,
        crs=labels.crs,
    )
    frame = frame.drop_duplicates("label_uid", keep="first")  # a label seen by two scenes: listed once
    return frame.to_crs(LABELS_CRS).sort_values("label_uid").reset_index(drop=True)


def write_labels(train_data_dir: Path, frame: gpd.GeoDataFrame) -> Path:
    """labels.geojson (temporary name, then rename)."""
    path = Path(train_data_dir) / LABELS_FILE
    with atomic_path(path) as tmp:
        frame.to_file(tmp, driver="GeoJSON", layer="labels")
    return path


def write_report(train_data_dir: Path, result: PreprocessResult) -> Path:
    """preprocess-report.json: the per-scene reports (labels matched / repaired / outside / too small)."""
    path = Path(train_data_dir) / REPORT_FILE
    data = {
        "scenes": {k: v.to_dict() | {"seconds": None} for k, v in sorted(result.scene_reports.items())},
        "skipped": [{"scene": s, "reason": r} for s, r in result.skipped],
        "label_notes": result.label_notes,
    }
    return write_text_atomically(path, json.dumps(data, indent=1, sort_keys=True, default=str))
