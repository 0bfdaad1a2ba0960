"""Tiny training sets in darts-nextgen's layout: ``data.zarr`` + ``metadata.parquet`` + ``config.toml``.

Written as darts-nextgen's training-set builder writes them (zarr format 3, ``x`` chunks
``(1, 1, h, w)``, Blosc lz4 level 9; a GeoParquet table in EPSG:4326 with a WKB ``geometry``
column and the ``geo`` key; ``[darts]`` config with the band list and an integer ``n_patches``).
Patch values are physical band values normalised as darts-nextgen does: ``(value - low) /
(high - low)`` over each band's valid range (optical: reflectance -0.1..0.5), clipped, NaN -> 0.

Same arguments, same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
import tomli_w
import zarr
from zarr.codecs import BloscCodec

from darts_test_support.bands import TRAIN_BANDS

NEXTGEN_RANGES: dict[str, tuple[float, float]] = {
    "blue": (-1000.0, 5000.0),
    "green": (-1000.0, 5000.0),
    "red": (-1000.0, 5000.0),
    "nir": (-1000.0, 5000.0),
    "ndvi": (-1.0, 1.0),
    "slope": (0.0, 90.0),
    "relative_elevation": (-50.0, 50.0),
    "tc_brightness": (0.0, 255.0),
    "tc_greenness": (0.0, 255.0),
    "tc_wetness": (0.0, 255.0),
}
"""Valid ranges of darts-nextgen's band manager (optical in DN = reflectance x 10000)."""

NEXTGEN_SCENES: tuple[tuple[str, str, int], ...] = (
    ("20190709_210446_1035_planet", "Alaska", 3),
    ("20190712_211542_1010_planet", "Alaska", 2),
    ("20200731_204123_103c_planet", "Yukon", 3),
    ("20200803_193011_0f22_planet", "Yukon", 2),
    ("20210714_052311_2262_planet", "Taymyr", 3),
    ("20210719_051456_2424_planet", "Taymyr", 2),
    ("20220801_183305_2416_planet", "Banks Island", 3),
    ("20220806_184411_2439_planet", "Banks Island", 2),
)
"""(sample_id, region, patches) of the default set: eight scenes in four regions."""


@dataclass
class NextgenSet:
    """A darts-nextgen set on disk and what was written into it."""

    path: Path
    bands: tuple[str, ...]
    physical: np.ndarray
    """float64 [n, c, h, w]: the band values before normalisation (optical in DN)."""
    y: np.ndarray
    scene_ids: np.ndarray
    regions: np.ndarray


def _geo_metadata() -> bytes:
    return json.dumps(
        {
            "version": "1.0.0",
            "primary_column": "geometry",
            "columns": {
                "geometry": {
                    "encoding": "WKB",
                    "geometry_types": ["Polygon"],
                    "crs": {"id": {"authority": "EPSG", "code": 4326}},
                }
            },
        }
    ).encode()


def _patches(
    rng: np.random.Generator, bands: tuple[str, ...], n: int, patch: int
) -> tuple[np.ndarray, np.ndarray]:
    physical = np.empty((n, len(bands), patch, patch))
    for i, band in enumerate(bands):
        low, high = NEXTGEN_RANGES[band]
        physical[:, i] = rng.uniform(low + 0.1 * (high - low), low + 0.8 * (high - low), (n, patch, patch))
    y = np.zeros((n, patch, patch), dtype=np.uint8)
    for k in range(n):
        if k % 2 == 0:  # every other patch holds an RTS blob; a strip of ignore pixels in each
            r, c = rng.integers(0, patch // 2, 2)
            y[k, r : r + patch // 3, c : c + patch // 3] = 1
            physical[k, :, r : r + patch // 3, c : c + patch // 3] *= 0.9
        y[k, :, -1] = 2
    return physical, y


def nextgen_normalise(physical: np.ndarray, bands: tuple[str, ...]) -> np.ndarray:
    """darts-nextgen's model values of ``physical`` [n, c, h, w] (its band manager's formula)."""
    low = np.array([NEXTGEN_RANGES[b][0] for b in bands])[None, :, None, None]
    high = np.array([NEXTGEN_RANGES[b][1] for b in bands])[None, :, None, None]
    return np.nan_to_num(np.clip((physical - low) / (high - low), 0, 1), nan=0.0).astype(np.float32)


def write_nextgen_set(
    path: Path,
    bands: tuple[str, ...] = TRAIN_BANDS,
    scenes: tuple[tuple[str, str, int], ...] = NEXTGEN_SCENES,
    patch: int = 16,
    seed: int = 0,
) -> NextgenSet:
    """Write a darts-nextgen set at ``path`` (created) with ``scenes`` of (sample_id, region, n)."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    parts = [_patches(rng, bands, n, patch) for _, _, n in scenes]
    physical = np.concatenate([p for p, _ in parts])
    y = np.concatenate([labels for _, labels in parts])
    n = len(y)
    root = zarr.open_group(path / "data.zarr", mode="w", zarr_format=3)
    lz4 = BloscCodec(cname="lz4", clevel=9)
    x_arr = root.create_array(
        "x",
        shape=(0, len(bands), patch, patch),
        chunks=(1, 1, patch, patch),
        dtype="float32",
        compressors=lz4,
    )
    y_arr = root.create_array(
        "y", shape=(0, patch, patch), chunks=(1, patch, patch), dtype="uint8", compressors=lz4
    )
    x_arr.append(nextgen_normalise(physical, bands))
    y_arr.append(y)
    scene_ids = np.concatenate([[s] * k for s, _, k in scenes])
    regions = np.concatenate([[r] * k for _, r, k in scenes])
    patch_id = np.concatenate([np.arange(k) for _, _, k in scenes])
    lon0 = -150.0 + 10.0 * np.arange(len(scenes)).repeat([k for _, _, k in scenes])
    geometry = [
        shapely.to_wkb(shapely.box(lon + 0.001 * p, 69.0, lon + 0.001 * (p + 1), 69.001))
        for lon, p in zip(lon0, patch_id, strict=True)
    ]
    table = pa.table(
        {
            "z_idx": pa.array(np.arange(n), pa.int64()),
            "patch_id": pa.array(patch_id, pa.int64()),
            "region": pa.array(regions.tolist(), pa.string()),
            "sample_id": pa.array(scene_ids.tolist(), pa.string()),
            "empty": pa.array([not (y[k] == 1).any() for k in range(n)], pa.bool_()),
            "x": pa.array(patch_id * patch, pa.int64()),
            "y": pa.array(np.zeros(n, dtype=np.int64), pa.int64()),
            "patch_idx_x": pa.array(patch_id, pa.int64()),
            "patch_idx_y": pa.array(np.zeros(n, dtype=np.int64), pa.int64()),
            "geometry": pa.array(geometry, pa.binary()),
            "planet_id": pa.array(scene_ids.tolist(), pa.string()),
        }
    )
    table = table.replace_schema_metadata({b"geo": _geo_metadata()})
    pq.write_table(table, path / "metadata.parquet")
    config = {
        "darts": {
            "train_data_dir": str(path),
            "patch_size": patch,
            "overlap": 0,
            "n_bands": len(bands),
            "exclude_nopositive": False,
            "exclude_nan": True,
            "n_patches": n,
            "device": "cpu",
            "bands": list(bands),
        }
    }
    (path / "config.toml").write_text(tomli_w.dumps(config))
    return NextgenSet(path, bands, physical, y, scene_ids, regions)
