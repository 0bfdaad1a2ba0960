"""``darts validate-train-data`` for a darts-nextgen set (``data.zarr`` + ``metadata.parquet``).

Checks the arrays and the table against each other, scans every patch as for darts' own sets, and
counts the splits and folds that training would derive (darts_dataset.nextgen_splits).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import zarr

from darts_core.bands import BANDS
from darts_core.errors import DartsError
from darts_core.trainset_layout import SPLITS
from darts_dataset._chunks import ChunkReader
from darts_dataset.nextgen_options import NextgenSetOptions
from darts_dataset.nextgen_set import open_data_arrays
from darts_dataset.training_set import TrainingSet
from darts_dataset.validate import ValidationReport, _check_folds, _counts, _scan_split, _scan_violations

DATA = "data.zarr"


def _check_arrays(report: ValidationReport, ts: TrainingSet, x: zarr.Array, y: zarr.Array) -> None:
    v = report.violations
    xs, ys = x.shape, y.shape
    if np.dtype(x.dtype) != np.float32:
        v.append(f"{DATA}: x has dtype {x.dtype}, expected float32")
    if np.dtype(y.dtype) != np.uint8:
        v.append(f"{DATA}: y has dtype {y.dtype}, expected uint8")
    if ts.patch_size is not None and tuple(xs[2:]) != (ts.patch_size, ts.patch_size):
        v.append(f"{DATA}: patches are {tuple(xs[2:])} px but config.toml says patch_size={ts.patch_size}")
    n_config = ts.config.get("n_patches")
    if isinstance(n_config, int) and n_config != xs[0]:
        v.append(f"{DATA}: config.toml n_patches={n_config} but x holds {xs[0]} patches")
    if xs[0] != ys[0]:
        v.append(f"{DATA}: x holds {xs[0]} patches but y {ys[0]}")


def validate_nextgen(
    report: ValidationReport, options: NextgenSetOptions, tick: Callable[[], None]
) -> ValidationReport:
    """Fill ``report`` for the darts-nextgen set at ``report.path``."""
    root = report.path
    try:
        ts = TrainingSet(root, options)
        x, y = open_data_arrays(root)
    except DartsError as err:
        report.violations.append(str(err))
        return report
    assert ts.nextgen is not None
    unknown = [b for b in ts.bands if b not in BANDS]
    if unknown:
        report.warnings.append(
            f"config.toml: band(s) {unknown} are unknown to the band registry; train on the others (bands)"
        )
    if ts.nextgen.table.geo is None:
        report.warnings.append("metadata.parquet: no GeoParquet 'geo' metadata")
    if ts.patch_size is None:
        report.warnings.append("config.toml: no patch_size")
    _check_arrays(report, ts, x, y)
    scan = _scan_split(ChunkReader(x), ChunkReader(y), int(x.shape[0]), tick)
    report.violations += _scan_violations(DATA, scan)
    table = ts.nextgen.table
    disagree = np.flatnonzero(table.empty == scan.positive[table.rows])
    if len(disagree):
        report.violations.append(
            f"metadata.parquet: 'empty' contradicts the labels of y for {len(disagree)} patch(es) "
            f"(e.g. z_idx {table.rows[disagree[:5]].tolist()})"
        )
    for split in SPLITS:
        metadata = ts.split_metadata(split)
        positive = scan.positive[ts.nextgen.rows(split)]
        report.splits.append(_counts(split, metadata, positive, np.ones(metadata.n, dtype=bool)))
        if metadata.n == 0:
            where = report.violations if split == "cross-val" else report.warnings
            where.append(
                f"{split}: the split rule gives no patch (see nextgen_test_regions / nextgen_test_fraction)"
            )
        if split == "cross-val":
            _check_folds(report, metadata, positive)
    return report
