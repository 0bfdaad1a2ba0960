"""A training set on disk: its ``config.toml``, band metadata and per-sample metadata.

The formats are documented in docs/formats/training-set.md. Layouts read (detected on open):

- ``splits``: ``cross-val.zarr``, ``val-test.zarr``, ``test.zarr``, written by darts (zarr format
  3, with per-sample metadata) or by the reference tool (zarr format 2, only ``x`` and ``y``,
  ``config.toml`` possibly without ``norm_factors``);
- ``nextgen``: darts-nextgen's ``data.zarr`` + ``metadata.parquet``, split by the rule of
  :mod:`darts_dataset.nextgen_splits` (see :mod:`darts_dataset.nextgen_set`).
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr

from darts_core.bands import BANDS
from darts_core.errors import DartsFileNotFoundError, TrainingSetError
from darts_core.trainset_layout import (
    CONFIG_FILE,
    METADATA_ARRAYS,
    SPLITS,
    X_ARRAY,
    Y_ARRAY,
    group_array,
    split_path,
)
from darts_dataset.nextgen_options import NextgenSetOptions
from darts_dataset.nextgen_set import DATA_ZARR, METADATA_PARQUET, is_nextgen_set, open_data_arrays
from darts_dataset.training_set_metadata import SplitMetadata

if TYPE_CHECKING:
    from darts_dataset.nextgen_view import NextgenView

logger = logging.getLogger(__name__)


class Layout(StrEnum):
    """The training-set layouts darts reads."""

    SPLITS = "splits"
    NEXTGEN = "nextgen"


LAYOUTS_READ = (
    f"darts / reference tool (config.toml + {', '.join(f'{s}.zarr' for s in SPLITS)}); "
    f"darts-nextgen (config.toml + {DATA_ZARR} + {METADATA_PARQUET})"
)


def detect_layout(train_data_dir: Path | str) -> Layout:
    """The layout of a training-set folder; an unknown one raises, listing the layouts darts reads."""
    path = Path(train_data_dir)
    if is_nextgen_set(path):
        return Layout.NEXTGEN
    if any(split_path(path, s).is_dir() for s in SPLITS):
        return Layout.SPLITS
    found = sorted(p.name for p in path.iterdir())[:10] if path.is_dir() else []
    raise TrainingSetError(
        f"{path} is not a training set in a layout darts reads ({LAYOUTS_READ}); it holds {found}"
    )


@dataclass(frozen=True)
class SplitData:
    """The arrays holding a split and which of their rows it is (None = all rows, in order)."""

    x: zarr.Array
    y: zarr.Array
    rows: np.ndarray | None

    @property
    def n(self) -> int:
        return int(self.x.shape[0]) if self.rows is None else len(self.rows)


def _normalise_keys(table: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys with dashes become underscores (``n-patches`` = ``n_patches``)."""
    return {key.replace("-", "_"): value for key, value in table.items()}


def read_training_set_config(train_data_dir: Path | str) -> dict[str, Any]:
    """The ``[darts]`` table of a training set's ``config.toml`` (top-level keys with underscores)."""
    path = Path(train_data_dir) / CONFIG_FILE
    if not path.is_file():
        raise DartsFileNotFoundError(
            f"{path} not found; a training set needs its config.toml beside the zarr splits"
        )
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise TrainingSetError(f"{path} is not valid TOML: {err}") from err
    if not isinstance(data.get("darts"), dict):
        raise TrainingSetError(f"{path} has no [darts] table; expected the settings the set was made with")
    return _normalise_keys(data["darts"])


def open_split_group(train_data_dir: Path | str, split: str) -> zarr.Group:
    """Open one split's zarr group read-only (zarr format 2 or 3)."""
    path = split_path(train_data_dir, split)
    if not path.is_dir():
        raise DartsFileNotFoundError(f"split {split!r} not found: {path} does not exist")
    try:
        return zarr.open_group(path, mode="r")
    except (FileNotFoundError, ValueError, KeyError) as err:
        raise TrainingSetError(f"{path} is not a readable zarr group: {err}") from err


def split_arrays(group: zarr.Group, split: str) -> tuple[zarr.Array, zarr.Array]:
    """The ``x`` and ``y`` arrays of a split, checked for presence, rank and matching ``n``."""
    names = set(group.array_keys())
    missing = [name for name in (X_ARRAY, Y_ARRAY) if name not in names]
    if missing:
        raise TrainingSetError(
            f"split {split!r} ({group.store}) lacks array(s) {missing}; found {sorted(names)}"
        )
    x, y = group_array(group, X_ARRAY), group_array(group, Y_ARRAY)
    if x.ndim != 4 or y.ndim != 3:
        raise TrainingSetError(
            f"split {split!r}: x has shape {x.shape}, y {y.shape}; expected [n,c,h,w] and [n,h,w]"
        )
    if x.shape[0] != y.shape[0] or x.shape[2:] != y.shape[1:]:
        raise TrainingSetError(
            f"split {split!r}: x has shape {x.shape} but y has {y.shape}; n, h and w must match"
        )
    return x, y


class TrainingSet:
    """A training set folder: config, bands, norm factors, splits and their per-sample metadata."""

    def __init__(self, train_data_dir: Path | str, options: NextgenSetOptions | None = None) -> None:
        self.path = Path(train_data_dir)
        if not self.path.is_dir():
            raise DartsFileNotFoundError(f"training set folder {self.path} does not exist")
        self.config: dict[str, Any] = read_training_set_config(self.path)
        self.layout = detect_layout(self.path)
        self.options = options or NextgenSetOptions()
        self.bands: tuple[str, ...] = self._resolve_bands()
        self._metadata: dict[str, SplitMetadata] = {}
        self.nextgen: NextgenView | None = None
        if self.layout is Layout.NEXTGEN:
            from darts_dataset.nextgen_view import NextgenView

            self.nextgen = NextgenView(self.path, self.config, self.bands, self.options)

    def __repr__(self) -> str:
        return f"TrainingSet({str(self.path)!r}, layout={self.layout.value}, bands={list(self.bands)})"

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def patch_size(self) -> int | None:
        """``patch_size`` from config.toml, if recorded."""
        value = self.config.get("patch_size")
        return int(value) if value is not None else None

    def _resolve_bands(self) -> tuple[str, ...]:
        bands = self.config.get("bands")
        if bands is None and isinstance(self.config.get("norm_factors"), dict):
            bands = list(self.config["norm_factors"])
            logger.warning(
                "%s has no 'bands'; using the order of its norm_factors: %s", self.config_path, bands
            )
        if bands is None:
            for split in SPLITS:
                if split_path(self.path, split).is_dir():
                    attr_bands = open_split_group(self.path, split).attrs.get("bands")
                    if isinstance(attr_bands, list) and attr_bands:
                        bands = list(attr_bands)
                        break
        if not isinstance(bands, list) or not bands or not all(isinstance(b, str) for b in bands):
            raise TrainingSetError(
                f"{self.config_path}: [darts] 'bands' must be a non-empty list of band names"
            )
        return tuple(bands)

    @cached_property
    def norm_factors(self) -> dict[str, float]:
        """Factor of each band (from config.toml, else the band registry's, which match the reference).

        darts-nextgen sets are read converted into the registry's normalisation: their factors are
        the registry's, for the bands it knows (a model on another band cannot be deployed)."""
        if self.nextgen is not None:
            return {b: BANDS[b].norm_factor for b in self.bands if b in BANDS}
        factors = self.config.get("norm_factors")
        if isinstance(factors, dict):
            missing = [b for b in self.bands if b not in factors]
            if missing:
                raise TrainingSetError(f"{self.config_path}: norm_factors lacks band(s) {missing}")
            return {b: float(factors[b]) for b in self.bands}
        unknown = [b for b in self.bands if b not in BANDS]
        if unknown:
            raise TrainingSetError(
                f"{self.config_path} has no norm_factors and band(s) {unknown} are not in the band registry"
            )
        logger.warning(
            "%s has no norm_factors; using the band registry's (same as the reference)", self.config_path
        )
        return {b: BANDS[b].norm_factor for b in self.bands}

    def has_split(self, split: str) -> bool:
        return self.nextgen is not None or split_path(self.path, split).is_dir()

    def open_split(self, split: str) -> zarr.Group:
        """The split's zarr group, read-only (split layout only; see :meth:`split_data`)."""
        if self.nextgen is not None:
            raise TrainingSetError(f"{self.path} is a darts-nextgen set: its splits are rows of {DATA_ZARR}")
        return open_split_group(self.path, split)

    def split_data(self, split: str) -> SplitData:
        """The arrays of a split and its rows in them (opened afresh on each call)."""
        if self.nextgen is not None:
            x, y = open_data_arrays(self.path)
            return SplitData(x, y, self.nextgen.rows(split))
        x, y = split_arrays(self.open_split(split), split)
        return SplitData(x, y, None)

    def band_transform(self, channels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Per selected channel (gain, bias) into darts' normalisation; None when values are darts' own."""
        return None if self.nextgen is None else self.nextgen.transform(channels)

    def n_patches(self, split: str) -> int:
        """Number of patches in a split."""
        if self.nextgen is not None:
            return len(self.nextgen.rows(split))
        x, _ = split_arrays(self.open_split(split), split)
        return int(x.shape[0])

    def split_metadata(self, split: str) -> SplitMetadata:
        """Per-sample metadata of a split (read once, then cached)."""
        if split not in self._metadata:
            if self.nextgen is not None:
                self._metadata[split] = self.nextgen.metadata(split)
            else:
                self._metadata[split] = read_split_metadata(self.open_split(split), split)
        return self._metadata[split]


def read_split_metadata(group: zarr.Group, split: str) -> SplitMetadata:
    """Read the per-sample metadata arrays of a split group (see trainset_layout)."""
    x, _ = split_arrays(group, split)
    n = int(x.shape[0])
    names = set(group.array_keys())
    present = [name for name in METADATA_ARRAYS if name in names]
    if not present:
        return SplitMetadata(split=split, n=n, has_metadata=False)
    missing = [name for name in METADATA_ARRAYS if name not in names]
    if missing:
        raise TrainingSetError(f"split {split!r} has metadata arrays {present} but lacks {missing}")
    arrays = {name: np.asarray(group_array(group, name)[...]) for name in METADATA_ARRAYS}
    short = {name: len(a) for name, a in arrays.items() if len(a) != n}
    if short:
        raise TrainingSetError(f"split {split!r}: metadata array lengths {short} differ from n={n} patches")
    raw_scenes = group.attrs.get("scenes") or []
    if not isinstance(raw_scenes, list) or not all(isinstance(s, dict) for s in raw_scenes):
        raise TrainingSetError(f"split {split!r}: the group attribute 'scenes' must be a list of tables")
    scenes = [s for s in raw_scenes if isinstance(s, dict)]
    scene_index = arrays["scene_index"].astype(np.int64)
    if n and (scene_index.min() < 0 or scene_index.max() >= len(scenes)):
        raise TrainingSetError(
            f"split {split!r}: scene_index spans {scene_index.min()}..{scene_index.max()} "
            f"but the group attribute 'scenes' lists {len(scenes)} scenes"
        )

    def per_sample(key: str) -> np.ndarray:
        table = np.array([str(s.get(key, "")) for s in scenes] or [""])
        return table[scene_index]

    scene_ids, groups = per_sample("id"), per_sample("group")
    return SplitMetadata(
        split=split,
        n=n,
        has_metadata=True,
        scene_ids=scene_ids,
        groups=np.where(groups == "", scene_ids, groups),
        regions=per_sample("region"),
        crs=per_sample("crs"),
        positive_fraction=arrays["positive_fraction"].astype(np.float32),
        patch_row=arrays["patch_row"].astype(np.int32),
        patch_col=arrays["patch_col"].astype(np.int32),
        geotransform=arrays["geotransform"].astype(np.float64).reshape(n, 6),
    )
