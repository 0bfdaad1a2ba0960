"""The on-disk contract of a darts training set (DESIGN.md section 3), and its writer.

```
train_data_dir/
  config.toml        [darts] bands, norm_factors, patch_size, ..., n_patches {split: n}
  cross-val.zarr/    x float32 [n, c, h, w], y uint8 [n, h, w], chunks n=1, + per-sample metadata
  val-test.zarr/
  test.zarr/
  labels.geojson
```

Per-sample metadata arrays (all length n, absent in sets written by the reference tool):
``scene_index`` int32 (into the group attribute ``scenes``), ``patch_row`` / ``patch_col`` int32
(pixel offset of the patch in its scene), ``geotransform`` float64 [n, 6] (affine a, b, c, d, e, f
of the patch), ``positive_fraction`` float32. Group attributes: ``scenes`` = list of
``{"id", "region", "crs"}``, ``bands`` = band names in channel order, ``darts_layout_version``.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
import zarr

SPLITS: tuple[str, ...] = ("cross-val", "val-test", "test")
CONFIG_FILE = "config.toml"
LABELS_FILE = "labels.geojson"
X_ARRAY = "x"
Y_ARRAY = "y"
METADATA_ARRAYS: tuple[str, ...] = (
    "scene_index",
    "patch_row",
    "patch_col",
    "geotransform",
    "positive_fraction",
)
LAYOUT_VERSION = 1
PARTIAL_SUFFIX = ".partial"

LABEL_BACKGROUND = 0
LABEL_RTS = 1
LABEL_IGNORE = 2


def split_path(train_data_dir: Path | str, split: str) -> Path:
    """Path of one split's zarr group."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return Path(train_data_dir) / f"{split}.zarr"


@dataclass(frozen=True)
class SceneInfo:
    """A scene that contributed patches to a split."""

    id: str
    region: str
    crs: str
    """CRS as an authority string (``EPSG:32633``) or WKT."""


@dataclass
class PatchBatch:
    """Patches of one scene, ready to append to a split."""

    scene: SceneInfo
    x: np.ndarray
    """float32 [n, c, h, w], values in [0, 1], no NaN."""
    y: np.ndarray
    """uint8 [n, h, w], values in {0, 1, 2}."""
    patch_row: np.ndarray
    patch_col: np.ndarray
    geotransform: np.ndarray
    """float64 [n, 6]."""
    positive_fraction: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.x)
        if self.positive_fraction is None:
            valid = (self.y != LABEL_IGNORE).sum(axis=(1, 2))
            pos = (self.y == LABEL_RTS).sum(axis=(1, 2))
            self.positive_fraction = np.where(valid > 0, pos / np.maximum(valid, 1), 0.0).astype(np.float32)
        for name in ("y", "patch_row", "patch_col", "geotransform", "positive_fraction"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"PatchBatch.{name} has {len(getattr(self, name))} rows, x has {n}")


class SplitWriter:
    """Append patches scene by scene to ``{split}.zarr.partial``; :meth:`finish` renames it into place.

    A crash leaves only the ``.partial`` folder, never a half-written ``{split}.zarr``.
    """

    def __init__(self, train_data_dir: Path | str, split: str, bands: Sequence[str], patch_size: int) -> None:
        self.final_path = split_path(train_data_dir, split)
        self.partial_path = self.final_path.with_name(self.final_path.name + PARTIAL_SUFFIX)
        if self.partial_path.exists():
            shutil.rmtree(self.partial_path)
        self.bands = list(bands)
        c, s = len(self.bands), patch_size
        self.group = zarr.open_group(self.partial_path, mode="w", zarr_format=3)
        # x is stored uncompressed: model-ready float32 barely compresses (ratio 0.7-0.9) while decoding
        # zstd costs ~20x in random-access read speed (benchmarks/loader.py).
        self.group.create_array(
            X_ARRAY, shape=(0, c, s, s), chunks=(1, c, s, s), dtype="float32", compressors=None
        )
        self.group.create_array(Y_ARRAY, shape=(0, s, s), chunks=(1, s, s), dtype="uint8")
        for name, dtype in (("scene_index", "int32"), ("patch_row", "int32"), ("patch_col", "int32")):
            self.group.create_array(name, shape=(0,), chunks=(4096,), dtype=dtype)
        self.group.create_array("geotransform", shape=(0, 6), chunks=(4096, 6), dtype="float64")
        self.group.create_array("positive_fraction", shape=(0,), chunks=(4096,), dtype="float32")
        self.scenes: list[SceneInfo] = []
        self.n = 0

    def append(self, batch: PatchBatch) -> None:
        """Append all patches of one scene (a scene with zero patches is still recorded)."""
        if batch.x.ndim != 4 or batch.x.shape[1] != len(self.bands):
            raise ValueError(
                f"x of scene {batch.scene.id} has shape {batch.x.shape}, "
                f"expected [n, {len(self.bands)}, h, w]"
            )
        scene_index = len(self.scenes)
        self.scenes.append(batch.scene)
        n = len(batch.x)
        if n == 0:
            return
        self.group[X_ARRAY].append(batch.x.astype(np.float32, copy=False), axis=0)
        self.group[Y_ARRAY].append(batch.y.astype(np.uint8, copy=False), axis=0)
        self.group["scene_index"].append(np.full(n, scene_index, dtype=np.int32), axis=0)
        self.group["patch_row"].append(np.asarray(batch.patch_row, dtype=np.int32), axis=0)
        self.group["patch_col"].append(np.asarray(batch.patch_col, dtype=np.int32), axis=0)
        self.group["geotransform"].append(np.asarray(batch.geotransform, dtype=np.float64), axis=0)
        self.group["positive_fraction"].append(np.asarray(batch.positive_fraction, dtype=np.float32), axis=0)
        self.n += n

    def finish(self) -> Path:
        """Write the group attributes and move the split into place atomically."""
        self.group.attrs.update(
            {
                "bands": self.bands,
                "scenes": [{"id": s.id, "region": s.region, "crs": s.crs} for s in self.scenes],
                "darts_layout_version": LAYOUT_VERSION,
            }
        )
        if self.final_path.exists():
            shutil.rmtree(self.final_path)
        self.partial_path.rename(self.final_path)
        return self.final_path


def write_training_set_config(train_data_dir: Path | str, settings: Mapping[str, Any]) -> Path:
    """Write ``config.toml`` with ``settings`` under ``[darts]`` (temp name, then rename)."""
    path = Path(train_data_dir) / CONFIG_FILE
    tmp = path.with_name(path.name + PARTIAL_SUFFIX)
    clean = {k: v for k, v in settings.items() if v is not None}
    tmp.write_text(tomli_w.dumps({"darts": clean}))
    tmp.replace(path)
    return path
