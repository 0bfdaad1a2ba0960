"""The on-disk contract of a darts training set (docs/formats/training-set.md), and its writer.

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
``{"id", "region", "crs", "group"}`` (``group``, the overlap group, optional), ``bands`` = band
names in channel order, ``darts_layout_version``.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import tomli_w
import zarr

from darts_core.atomic import PARTIAL_MARK, replace_dir, write_text_atomically
from darts_core.labels import LABEL_IGNORE, LABEL_RTS

if TYPE_CHECKING:
    from zarr.core.chunk_key_encodings import ChunkKeyEncodingParams

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
PARTIAL_SUFFIX = PARTIAL_MARK

logger = logging.getLogger(__name__)


def split_path(train_data_dir: Path | str, split: str) -> Path:
    """Path of one split's zarr group."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return Path(train_data_dir) / f"{split}.zarr"


def group_array(group: zarr.Group, name: str) -> zarr.Array:
    """The array ``name`` of a zarr group (KeyError when absent, TypeError when it is a subgroup)."""
    node = group[name]
    if not isinstance(node, zarr.Array):
        raise TypeError(f"{group.store_path}/{name} is a zarr group, expected an array")
    return node


@dataclass(frozen=True)
class SceneInfo:
    """A scene that contributed patches to a split."""

    id: str
    region: str
    crs: str
    """CRS as an authority string (``EPSG:32633``) or WKT."""
    group: str = ""
    """Overlap group: scenes whose footprints overlap share one (the smallest scene id among them), so
    cross-validation keeps them in one fold. Empty = not recorded (the scene counts as its own group)."""


def positive_fractions(y: np.ndarray) -> np.ndarray:
    """RTS pixels / valid (not ignored) pixels of each patch of ``y`` [n, h, w]; 0 without valid pixels."""
    valid = (y != LABEL_IGNORE).sum(axis=(1, 2))
    pos = (y == LABEL_RTS).sum(axis=(1, 2))
    return np.where(valid > 0, pos / np.maximum(valid, 1), 0.0).astype(np.float32)


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
    positive_fraction: np.ndarray | None = field(default=None)
    """float32 [n]; computed from ``y`` when not given."""

    def __post_init__(self) -> None:
        n = len(self.x)
        if self.positive_fraction is None:
            self.positive_fraction = positive_fractions(self.y)
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
        self.group = zarr.open_group(self.partial_path, mode="w", zarr_format=3)
        create_patch_arrays(self.group, 0, len(self.bands), patch_size)
        for name, dtype in (("scene_index", "int32"), ("patch_row", "int32"), ("patch_col", "int32")):
            self.group.create_array(name, shape=(0,), chunks=(4096,), dtype=dtype)
        self.group.create_array("geotransform", shape=(0, 6), chunks=(4096, 6), dtype="float64")
        self.group.create_array("positive_fraction", shape=(0,), chunks=(4096,), dtype="float32")
        self.scenes: list[SceneInfo] = []
        self._metadata: dict[str, list[np.ndarray]] = {name: [] for name in METADATA_ARRAYS}
        self.n = 0

    def append(self, batch: PatchBatch) -> None:
        """Append all patches of one scene (a scene with zero patches is still recorded)."""
        b = batch
        self._check_bands(b.scene, b.x.shape)
        n = len(b.x)
        fraction = positive_fractions(b.y) if b.positive_fraction is None else b.positive_fraction
        columns = self._columns(b.scene, n, b.patch_row, b.patch_col, b.geotransform, fraction)
        if n:
            group_array(self.group, X_ARRAY).append(b.x.astype(np.float32, copy=False), axis=0)
            group_array(self.group, Y_ARRAY).append(b.y.astype(np.uint8, copy=False), axis=0)
        self._record(b.scene, columns)

    def append_stored(
        self,
        scene: SceneInfo,
        source: Path | str,
        patch_row: np.ndarray,
        patch_col: np.ndarray,
        geotransform: np.ndarray,
        *,
        link: bool,
        positive_fraction: np.ndarray | None = None,
    ) -> None:
        """Append the patches of a zarr group written by :func:`write_scene_patches`, moving chunk files.

        The chunk files of ``x`` and ``y`` are hard-linked (``link``) or copied into this split under
        their new index, so the patches are not decoded and encoded again (``y`` is read only when
        ``positive_fraction``, see :func:`positive_fractions`, is not given). Link only from a store
        that is deleted afterwards or never written again: a linked file is shared. A source with
        another encoding is re-encoded; a file system without hard links gets copies.
        """
        src = zarr.open_group(source, mode="r")
        x_src, y_src = group_array(src, X_ARRAY), group_array(src, Y_ARRAY)
        self._check_bands(scene, x_src.shape)
        if not all(_same_encoding(a, group_array(self.group, a.basename)) for a in (x_src, y_src)):
            x, y = np.asarray(x_src[:]), np.asarray(y_src[:])
            self.append(PatchBatch(scene, x, y, patch_row, patch_col, geotransform, positive_fraction))
            return
        if positive_fraction is None:
            positive_fraction = positive_fractions(np.asarray(y_src[:]))
        n = x_src.shape[0]
        columns = self._columns(scene, n, patch_row, patch_col, geotransform, positive_fraction)
        for array in (x_src, y_src):
            self._move_chunks(array, Path(source) / array.basename, link)
        self._record(scene, columns)

    def _move_chunks(self, src: zarr.Array, src_dir: Path, link: bool) -> None:
        dst = group_array(self.group, src.basename)
        dst_dir = self.partial_path / src.basename
        tail = (0,) * (src.ndim - 1)
        folders: set[Path] = set()
        for i in range(src.shape[0]):
            source_file = src_dir / src.metadata.encode_chunk_key((i, *tail))
            if not source_file.is_file():  # zarr writes no chunk that is all fill value: same here
                continue
            target = dst_dir / dst.metadata.encode_chunk_key((self.n + i, *tail))
            if target.parent not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.add(target.parent)
            _link_or_copy(source_file, target, link)
        dst.resize((self.n + src.shape[0], *dst.shape[1:]))

    def _check_bands(self, scene: SceneInfo, x_shape: tuple[int, ...]) -> None:
        if len(x_shape) != 4 or x_shape[1] != len(self.bands):
            raise ValueError(
                f"x of scene {scene.id} has shape {x_shape}, expected [n, {len(self.bands)}, h, w]"
            )

    @staticmethod
    def _columns(
        scene: SceneInfo,
        n: int,
        patch_row: np.ndarray,
        patch_col: np.ndarray,
        geotransform: np.ndarray,
        positive_fraction: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """The per-sample metadata of a scene's ``n`` patches, checked (scene_index is added later)."""
        columns: dict[str, np.ndarray] = {
            "patch_row": np.asarray(patch_row, dtype=np.int32),
            "patch_col": np.asarray(patch_col, dtype=np.int32),
            "geotransform": np.asarray(geotransform, dtype=np.float64),
            "positive_fraction": np.asarray(positive_fraction, dtype=np.float32),
        }
        for name, values in columns.items():
            if len(values) != n:
                raise ValueError(f"{name} of scene {scene.id} has {len(values)} rows, expected {n}")
        columns["geotransform"] = columns["geotransform"].reshape(n, 6)
        return columns

    def _record(self, scene: SceneInfo, columns: dict[str, np.ndarray]) -> None:
        """Record a scene and its metadata columns (written once, by :meth:`finish`)."""
        n = len(columns["patch_row"])
        columns = {"scene_index": np.full(n, len(self.scenes), dtype=np.int32), **columns}
        for name, values in columns.items():
            self._metadata[name].append(values)
        self.scenes.append(scene)
        self.n += n

    def finish(self) -> Path:
        """Write the metadata arrays and group attributes, then move the split into place atomically."""
        for name, parts in self._metadata.items():
            if self.n:
                group_array(self.group, name).append(np.concatenate(parts), axis=0)
        self.group.attrs.update(
            {
                "bands": self.bands,
                "scenes": [_scene_attr(s) for s in self.scenes],
                "darts_layout_version": LAYOUT_VERSION,
            }
        )
        return replace_dir(self.partial_path, self.final_path)


def _scene_attr(scene: SceneInfo) -> dict[str, str]:
    attr = {"id": scene.id, "region": scene.region, "crs": scene.crs}
    if scene.group:
        attr["group"] = scene.group
    return attr


def create_patch_arrays(group: zarr.Group, n: int, n_bands: int, patch_size: int) -> None:
    """Create the ``x`` and ``y`` arrays (one patch per chunk) of a split or of a scene's patch store.

    Both use this one encoding, so :meth:`SplitWriter.append_stored` can move chunk files between them.
    x is stored uncompressed: model-ready float32 barely compresses (ratio 0.7-0.9) while decoding
    zstd costs ~20x in random-access read speed (benchmarks/loader.py). Chunk keys use the ``.``
    separator (``c.17.0.0.0``): one file per patch in the array folder, not four nested folders,
    which shared file systems handle far better.
    """
    c, s = n_bands, patch_size
    # chunk files c.<i>.0.0.0: no folder per patch
    flat: ChunkKeyEncodingParams = {"name": "default", "separator": "."}
    group.create_array(
        X_ARRAY,
        shape=(n, c, s, s),
        chunks=(1, c, s, s),
        dtype="float32",
        compressors=None,
        chunk_key_encoding=flat,
    )
    group.create_array(Y_ARRAY, shape=(n, s, s), chunks=(1, s, s), dtype="uint8", chunk_key_encoding=flat)


def write_scene_patches(path: Path | str, x: np.ndarray, y: np.ndarray) -> Path:
    """Write one scene's patches (x float32 [n, c, s, s], y uint8 [n, s, s]) as a zarr group at ``path``."""
    if x.ndim != 4 or y.shape != (len(x), *x.shape[2:]):
        raise ValueError(
            f"patch arrays do not match: x {x.shape}, y {y.shape}; expected [n, c, s, s] and [n, s, s]"
        )
    group = zarr.open_group(path, mode="w", zarr_format=3)
    create_patch_arrays(group, len(x), x.shape[1], x.shape[2])
    if len(x):
        group_array(group, X_ARRAY)[:] = x.astype(np.float32, copy=False)
        group_array(group, Y_ARRAY)[:] = y.astype(np.uint8, copy=False)
    return Path(path)


def _same_encoding(a: zarr.Array, b: zarr.Array) -> bool:
    """True when chunk files of ``a`` can be used as chunk files of ``b`` (all but the length agree)."""
    da, db = a.metadata.to_dict(), b.metadata.to_dict()
    for meta in (da, db):
        meta.pop("attributes", None)
        shape = meta["shape"]
        if not isinstance(shape, list | tuple):
            return False
        meta["shape"] = tuple(shape)[1:]
    return da == db


def _link_or_copy(source: Path, target: Path, link: bool) -> None:
    if link:
        try:
            os.link(source, target)
            return
        except OSError as err:  # another file system, or one without hard links
            logger.debug("cannot hard-link %s (%s); copying", source, err)
    shutil.copyfile(source, target)


def write_training_set_config(train_data_dir: Path | str, settings: Mapping[str, Any]) -> Path:
    """Write ``config.toml`` with ``settings`` under ``[darts]`` (temp name, then rename)."""
    clean = {k: v for k, v in settings.items() if v is not None}
    return write_text_atomically(Path(train_data_dir) / CONFIG_FILE, tomli_w.dumps({"darts": clean}))
