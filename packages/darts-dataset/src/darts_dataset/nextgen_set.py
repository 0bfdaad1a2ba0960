"""A darts-nextgen training set: ``data.zarr`` (``x``, ``y``) + ``metadata.parquet`` + ``config.toml``.

Layout (written by darts-nextgen's training-set builder since mid 2025)::

    train_data_dir/
      config.toml        [darts] bands, patch_size, n_patches (int), ... (band_factors/band_offsets
                         in sets written before 2025-08-20)
      data.zarr/         zarr format 3: x float32 [n, c, h, w] chunks (1, 1, h, w), y uint8 [n, h, w]
                         chunks (1, h, w), values 0/1/2 (2 = ignore), Blosc lz4
      metadata.parquet   GeoParquet (EPSG:4326), one row per patch: z_idx (row in data.zarr),
                         patch_id, region, sample_id (the scene), empty (no RTS pixel), x, y (pixel
                         offset in the scene), patch_idx_x, patch_idx_y, geometry (WKB), extra columns

The table is read with pyarrow (geometry is not read). Values of ``x`` are converted on read into
darts' own normalisation (the band registry's), see :func:`band_transform`, so a model trained on
such a set is deployed with darts' band metadata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from darts_core.bands import BANDS, BandKind
from darts_core.errors import TrainingSetError
from darts_core.trainset_layout import X_ARRAY, Y_ARRAY, group_array
from darts_dataset.nextgen_options import NextgenSetOptions

DATA_ZARR = "data.zarr"
METADATA_PARQUET = "metadata.parquet"
REQUIRED_COLUMNS: tuple[str, ...] = ("sample_id", "region", "empty")
_PANDAS_INDEX = "__index_level_0__"

VALID_RANGES: dict[BandKind | str, tuple[float, float]] = {
    "ndvi": (-1.0, 1.0),
    "relative_elevation": (-50.0, 50.0),
    "slope": (0.0, 90.0),
    BandKind.TCVIS: (0.0, 255.0),
}
"""darts-nextgen's band manager maps [low, high] of these physical values onto [0, 1] (optical
bands: ``NextgenSetOptions.nextgen_optical_range``, in DN)."""


@dataclass(frozen=True)
class PatchTable:
    """The columns of ``metadata.parquet`` that darts uses, one entry per patch, in table order."""

    path: Path
    rows: np.ndarray
    """int64, row of the patch in data.zarr (``z_idx``; the pandas index or the position without)."""
    scene_ids: np.ndarray
    regions: np.ndarray
    empty: np.ndarray
    """bool, True when the patch holds no RTS pixel."""
    patch_x: np.ndarray | None
    patch_y: np.ndarray | None
    geo: dict[str, Any] | None
    """The GeoParquet ``geo`` metadata, None when the file has none."""

    @property
    def n(self) -> int:
        return len(self.rows)


def is_nextgen_set(path: Path | str) -> bool:
    """True when ``path`` holds a darts-nextgen ``data.zarr`` or ``metadata.parquet``."""
    return (Path(path) / DATA_ZARR).exists() or (Path(path) / METADATA_PARQUET).exists()


def open_data_arrays(path: Path | str) -> tuple[zarr.Array, zarr.Array]:
    """``x`` and ``y`` of ``data.zarr``, checked for presence, rank and matching shapes."""
    data = Path(path) / DATA_ZARR
    if not data.is_dir():
        raise TrainingSetError(
            f"{data} not found; a darts-nextgen set needs data.zarr beside metadata.parquet"
        )
    try:
        group = zarr.open_group(data, mode="r")
        x, y = group_array(group, X_ARRAY), group_array(group, Y_ARRAY)
    except (FileNotFoundError, ValueError, KeyError, TypeError) as err:
        raise TrainingSetError(f"{data} is not a zarr group with arrays x and y: {err}") from err
    if x.ndim != 4 or y.ndim != 3 or x.shape[0] != y.shape[0] or x.shape[2:] != y.shape[1:]:
        raise TrainingSetError(f"{data}: x has shape {x.shape}, y {y.shape}; expected [n,c,h,w] and [n,h,w]")
    return x, y


def _column(table: Any, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def read_patch_table(path: Path | str, n_rows: int) -> PatchTable:
    """Read ``metadata.parquet`` and check it against ``n_rows`` patches of data.zarr."""
    import pyarrow.parquet as pq  # only when a darts-nextgen set is read

    file = Path(path) / METADATA_PARQUET
    if not file.is_file():
        raise TrainingSetError(f"{file} not found; a darts-nextgen set needs it beside data.zarr")
    try:
        schema = pq.read_schema(file)
    except (OSError, ValueError) as err:
        raise TrainingSetError(f"{file} is not a readable parquet file: {err}") from err
    names = set(schema.names)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise TrainingSetError(f"{file} lacks column(s) {missing}; found {sorted(names)}")
    wanted = [c for c in (*REQUIRED_COLUMNS, "z_idx", _PANDAS_INDEX, "x", "y") if c in names]
    table = pq.read_table(file, columns=wanted)
    index = "z_idx" if "z_idx" in names else _PANDAS_INDEX if _PANDAS_INDEX in names else None
    rows = _column(table, index).astype(np.int64) if index else np.arange(table.num_rows, dtype=np.int64)
    if len(rows) != n_rows or (n_rows and not np.array_equal(np.sort(rows), np.arange(n_rows))):
        raise TrainingSetError(
            f"{file}: {index or 'the row order'} must number the {n_rows} patches of data.zarr once each "
            f"(0..{n_rows - 1}); the table has {len(rows)} rows"
        )
    scene_ids = _column(table, "sample_id")
    if any(s is None for s in scene_ids.tolist()):
        raise TrainingSetError(f"{file}: sample_id is empty for some patches; every patch needs its scene")
    raw_geo = (schema.metadata or {}).get(b"geo")
    return PatchTable(
        path=file,
        rows=rows,
        scene_ids=scene_ids.astype(str),
        regions=np.array(["" if r is None else str(r) for r in _column(table, "region").tolist()]),
        empty=_column(table, "empty").astype(bool),
        patch_x=_column(table, "x").astype(np.int32) if "x" in names else None,
        patch_y=_column(table, "y").astype(np.int32) if "y" in names else None,
        geo=json.loads(raw_geo) if raw_geo else None,
    )


def _valid_range(band: str, options: NextgenSetOptions) -> tuple[float, float] | None:
    spec = BANDS[band]
    if spec.kind is BandKind.OPTICAL:
        return options.nextgen_optical_range
    return VALID_RANGES.get(band, VALID_RANGES.get(spec.kind))


def band_transform(
    bands: tuple[str, ...], config: dict[str, Any], options: NextgenSetOptions, where: Path
) -> tuple[np.ndarray, np.ndarray]:
    """Per band (gain, bias) turning the set's values ``s`` into darts' ``clip(gain * s + bias, 0, 1)``.

    darts normalises ``(value + offset) * scale * norm_factor`` (band registry). Sets with
    ``band_factors``/``band_offsets`` stored ``encoded * f + o`` of the same encoding; later sets
    stored ``(value - low) / (high - low)`` over a fixed valid range per band.
    """
    unknown = [b for b in bands if b not in BANDS]
    if unknown:
        raise TrainingSetError(
            f"{where}: band(s) {unknown} are not in darts' band registry ({sorted(BANDS)}); darts cannot "
            "deploy a model on them"
        )
    gain, bias = np.ones(len(bands)), np.zeros(len(bands))
    factors, offsets = config.get("band_factors"), config.get("band_offsets")
    for i, band in enumerate(bands):
        spec = BANDS[band]
        if isinstance(factors, list) and len(factors) == len(bands):
            f = float(factors[i])
            o = float(offsets[i]) if isinstance(offsets, list) and len(offsets) == len(bands) else 0.0
            gain[i], bias[i] = spec.norm_factor / f, -o * spec.norm_factor / f
            continue
        low_high = _valid_range(band, options)
        if low_high is None:
            raise TrainingSetError(f"{where}: no darts-nextgen valid range known for band {band!r}")
        low, high = low_high
        gain[i] = (high - low) * spec.scale * spec.norm_factor
        bias[i] = (low + spec.offset) * spec.scale * spec.norm_factor
    return gain.astype(np.float32), bias.astype(np.float32)


def apply_transform(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``clip(gain * x + bias, 0, 1)`` per channel of ``x`` [c, h, w] (float32, in place)."""
    x *= gain[:, None, None]
    x += bias[:, None, None]
    np.clip(x, np.float32(0.0), np.float32(1.0), out=x)
    return x
