"""A darts-nextgen set seen as darts' three splits: patch rows, per-sample metadata, band transform."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from darts_core.errors import TrainingSetError
from darts_dataset.nextgen_options import NextgenSetOptions
from darts_dataset.nextgen_set import band_transform, open_data_arrays, read_patch_table
from darts_dataset.nextgen_splits import split_positions
from darts_dataset.training_set_metadata import SplitMetadata

logger = logging.getLogger(__name__)


class NextgenView:
    """Which rows of ``data.zarr`` form each split (by :mod:`darts_dataset.nextgen_splits`)."""

    def __init__(
        self, path: Path, config: dict[str, Any], bands: tuple[str, ...], options: NextgenSetOptions
    ):
        self.path = path
        self.config = config
        self.bands = bands
        self.options = options
        x, _ = open_data_arrays(path)
        if x.shape[1] != len(bands):
            raise TrainingSetError(
                f"{path}/data.zarr: x has {x.shape[1]} channels but config.toml lists "
                f"{len(bands)} bands {list(bands)}"
            )
        self.table = read_patch_table(path, int(x.shape[0]))
        self.positions = split_positions(self.table.scene_ids, self.table.regions, options)
        logger.info(
            "%s (darts-nextgen layout): %s patches in cross-val/val-test/test by the scene rule (%s)",
            path,
            "/".join(str(len(self.positions[s])) for s in ("cross-val", "val-test", "test")),
            f"test regions {list(options.nextgen_test_regions)}"
            if options.nextgen_test_regions
            else f"test fraction {options.nextgen_test_fraction}",
        )

    def rows(self, split: str) -> np.ndarray:
        """Rows of data.zarr holding the patches of ``split``, in ascending order."""
        return self.table.rows[self.positions[split]]

    def metadata(self, split: str) -> SplitMetadata:
        """Per-sample metadata of a split (``positive_fraction`` is 1 for non-empty patches, else 0:
        the set records no fractions; geotransforms are unknown and NaN)."""
        pos = self.positions[split]
        t = self.table
        n = len(pos)
        return SplitMetadata(
            split=split,
            n=n,
            has_metadata=True,
            scene_ids=t.scene_ids[pos],
            groups=t.scene_ids[pos],
            regions=t.regions[pos],
            crs=np.full(n, "", dtype=object).astype(str),
            positive_fraction=(~t.empty[pos]).astype(np.float32),
            patch_row=t.patch_y[pos] if t.patch_y is not None else np.zeros(n, np.int32),
            patch_col=t.patch_x[pos] if t.patch_x is not None else np.zeros(n, np.int32),
            geotransform=np.full((n, 6), np.nan),
        )

    def transform(self, channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(gain, bias) of the selected channels into darts' normalisation (see band_transform)."""
        selected = tuple(self.bands[i] for i in channels)
        return band_transform(selected, self.config, self.options, self.path / "config.toml")
