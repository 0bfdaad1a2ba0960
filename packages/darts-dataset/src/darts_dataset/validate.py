"""Check a training set against the layout contract and count what it holds (``darts validate-train-data``).

Every problem found becomes one line in :attr:`ValidationReport.violations` (the set must not be
used as is) or :attr:`ValidationReport.warnings` (usable, but worth knowing). Nothing raises for a
broken set; only an unexpected internal error would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from darts_core.bands import BANDS
from darts_core.errors import DartsError
from darts_core.labels import LABEL_RTS
from darts_core.trainset_layout import SPLITS, split_path
from darts_dataset._chunks import ChunkReader, MissingChunkError
from darts_dataset.folds import make_folds, positive_group_note
from darts_dataset.nextgen_options import NextgenSetOptions
from darts_dataset.nextgen_set import open_data_arrays
from darts_dataset.training_set import (
    Layout,
    SplitMetadata,
    TrainingSet,
    detect_layout,
    read_split_metadata,
    split_arrays,
)

logger = logging.getLogger(__name__)

MAX_LISTED = 5
"""How many offending patch indices a violation names."""


@dataclass(frozen=True)
class Counts:
    """What one split or fold holds (None where the set has no metadata to tell)."""

    name: str
    n_patches: int
    n_positive_patches: int | None
    n_scenes: int | None
    n_regions: int | None


@dataclass
class ValidationReport:
    """Outcome of :func:`validate_train_data`."""

    path: Path
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    splits: list[Counts] = field(default_factory=list)
    """One entry per split that could be read."""
    folds: list[Counts] = field(default_factory=list)
    """Cross-val folds as training would make them with ``n_folds`` and ``seed``."""
    n_folds: int = 5
    seed: int = 42

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class _Scan:
    """Per-patch findings of one split's data scan."""

    positive: np.ndarray
    missing_x: list[int] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    non_finite: list[int] = field(default_factory=list)
    out_of_range: list[int] = field(default_factory=list)
    bad_labels: list[int] = field(default_factory=list)
    label_values: set[int] = field(default_factory=set)


def _listed(indices: list[int]) -> str:
    shown = ", ".join(str(i) for i in indices[:MAX_LISTED])
    return f"{len(indices)} patch(es) (e.g. index {shown})"


def _scan_split(x_reader: ChunkReader, y_reader: ChunkReader, n: int, tick: Callable[[], None]) -> _Scan:
    scan = _Scan(positive=np.zeros(n, dtype=bool))
    for i in range(n):
        tick()
        try:
            x = x_reader.read(i, strict=True)
            y = y_reader.read(i)
        except MissingChunkError:
            scan.missing_x.append(i)
            continue
        except ValueError as err:
            scan.unreadable.append(f"patch {i}: {err}")
            continue
        finite = np.isfinite(x)
        if not finite.all():
            scan.non_finite.append(i)
        if (x[finite] < 0).any() or (x[finite] > 1).any():
            scan.out_of_range.append(i)
        values = np.unique(y)
        scan.label_values.update(int(v) for v in values)
        if not np.isin(values, (0, 1, 2)).all():
            scan.bad_labels.append(i)
        scan.positive[i] = bool((y == LABEL_RTS).any())
    return scan


def _scan_violations(split: str, scan: _Scan) -> list[str]:
    out = []
    if scan.missing_x:
        out.append(f"{split}: x chunk file missing for {_listed(scan.missing_x)}; the array is truncated")
    out += [f"{split}: unreadable chunk, {msg}" for msg in scan.unreadable[:MAX_LISTED]]
    if len(scan.unreadable) > MAX_LISTED:
        out.append(f"{split}: {len(scan.unreadable)} unreadable chunks in all")
    if scan.non_finite:
        out.append(f"{split}: NaN or Inf in x of {_listed(scan.non_finite)}")
    if scan.out_of_range:
        out.append(f"{split}: x outside [0, 1] in {_listed(scan.out_of_range)}")
    if scan.bad_labels:
        bad = sorted(v for v in scan.label_values if v not in (0, 1, 2))
        out.append(f"{split}: y has label value(s) {bad} outside {{0, 1, 2}} in {_listed(scan.bad_labels)}")
    return out


def _check_arrays(report: ValidationReport, split: str, x: Any, y: Any, ts: TrainingSet | None) -> None:
    """Dtypes, band count, patch size, n vs config and chunking of one split."""
    v, w = report.violations, report.warnings
    if np.dtype(x.dtype) != np.float32:
        v.append(f"{split}: x has dtype {x.dtype}, expected float32")
    if np.dtype(y.dtype) != np.uint8:
        v.append(f"{split}: y has dtype {y.dtype}, expected uint8")
    if x.shape[0] == 0:
        v.append(f"{split}: the split is empty (0 patches)")
    if tuple(x.chunks) != (1, *x.shape[1:]) or tuple(y.chunks) != (1, *y.shape[1:]):
        w.append(f"{split}: chunks x={x.chunks} y={y.chunks}, expected one patch per chunk (slow reads)")
    if ts is None:
        return
    if x.shape[1] != len(ts.bands):
        v.append(
            f"{split}: x has {x.shape[1]} channels but config.toml lists "
            f"{len(ts.bands)} bands {list(ts.bands)}"
        )
    if ts.patch_size is not None and tuple(x.shape[2:]) != (ts.patch_size, ts.patch_size):
        v.append(
            f"{split}: patches are {tuple(x.shape[2:])} px but config.toml says patch_size={ts.patch_size}"
        )
    n_config = (ts.config.get("n_patches") or {}).get(split)
    if n_config is not None and int(n_config) != x.shape[0]:
        v.append(f"{split}: config.toml n_patches.{split}={n_config} but x holds {x.shape[0]} patches")


def _check_split(
    report: ValidationReport, ts: TrainingSet | None, root: Path, split: str, tick: Callable[[], None]
) -> tuple[SplitMetadata, np.ndarray] | None:
    """Check one split; returns its metadata and per-patch positive flags when it could be scanned."""
    path = split_path(root, split)
    if not path.is_dir():
        report.violations.append(f"{split}: missing group {path.name}")
        return None
    try:
        group = zarr.open_group(path, mode="r")
        x, y = split_arrays(group, split)
    except DartsError as err:  # names the split already
        report.violations.append(str(err))
        return None
    except (FileNotFoundError, ValueError, KeyError) as err:
        report.violations.append(f"{split}: {path.name} is not a readable zarr group ({err})")
        return None
    _check_arrays(report, split, x, y, ts)
    attr_bands = group.attrs.get("bands")
    if (
        ts is not None
        and attr_bands is not None
        and (not isinstance(attr_bands, list) or tuple(attr_bands) != ts.bands)
    ):
        report.violations.append(
            f"{split}: group attribute bands {attr_bands} differ from config.toml {list(ts.bands)}"
        )
    try:
        metadata = read_split_metadata(group, split)
    except DartsError as err:
        report.violations.append(str(err))
        metadata = SplitMetadata(split=split, n=int(x.shape[0]), has_metadata=False)
    if not metadata.has_metadata:
        report.warnings.append(f"{split}: no per-sample metadata (reference-tool set); scene counts unknown")
    scan = _scan_split(ChunkReader(x), ChunkReader(y), int(x.shape[0]), tick)
    report.violations += _scan_violations(split, scan)
    report.splits.append(_counts(split, metadata, scan.positive, np.ones(metadata.n, dtype=bool)))
    return metadata, scan.positive


def _counts(name: str, metadata: SplitMetadata, positive: np.ndarray, members: np.ndarray) -> Counts:
    return Counts(
        name=name,
        n_patches=int(members.sum()),
        n_positive_patches=int(positive[members].sum()),
        n_scenes=None if metadata.scene_ids is None else len(np.unique(metadata.scene_ids[members])),
        n_regions=None if metadata.regions is None else len(np.unique(metadata.regions[members])),
    )


def _check_config(report: ValidationReport, root: Path) -> TrainingSet | None:
    try:
        ts = TrainingSet(root)
    except DartsError as err:
        report.violations.append(str(err))
        return None
    unknown = [b for b in ts.bands if b not in BANDS]
    if unknown:
        report.warnings.append(f"config.toml: band(s) {unknown} are unknown to the band registry")
    if "norm_factors" not in ts.config:
        report.warnings.append("config.toml: no norm_factors; the band registry's factors will be used")
    if ts.patch_size is None:
        report.warnings.append("config.toml: no patch_size")
    return ts


def _check_folds(report: ValidationReport, metadata: SplitMetadata, positive: np.ndarray) -> None:
    if metadata.n == 0:
        return
    try:
        folds = make_folds(metadata, report.n_folds, report.seed)
    except DartsError as err:
        report.violations.append(f"cross-val: {err}")
        return
    if not metadata.has_metadata:
        report.warnings.append("cross-val: folds are contiguous blocks of patches (no scene metadata)")
    for k in range(report.n_folds):
        report.folds.append(_counts(f"fold {k}", metadata, positive, folds == k))
    empty = [k for k, counts in enumerate(report.folds) if counts.n_positive_patches == 0]
    if empty:
        names = ", ".join(map(str, empty))
        report.warnings.append(
            f"cross-val: fold(s) {names} of {report.n_folds} (seed {report.seed}) hold no positive patch: "
            "IoU, F1, recall and precision are undefined when validating on them (a sweep scores those "
            f"over the other folds only); {positive_group_note(metadata, positive, report.n_folds)}"
        )


def validate_train_data(
    path: Path | str,
    n_folds: int = 5,
    seed: int = 42,
    on_patch: Callable[[], None] | None = None,
    options: NextgenSetOptions | None = None,
) -> ValidationReport:
    """Check every split of the training set at ``path`` and count patches, positives, scenes, regions.

    ``n_folds``/``seed`` give the cross-val folds whose counts are reported (as training makes
    them). ``on_patch`` is called once per patch scanned (for a progress bar). A darts-nextgen set
    is checked as one array and split by the rule training uses, with ``options``.
    """
    root = Path(path)
    report = ValidationReport(path=root, n_folds=n_folds, seed=seed)
    if not root.is_dir():
        report.violations.append(f"{root} is not a folder")
        return report
    tick = on_patch or (lambda: None)
    try:
        layout = detect_layout(root)
    except DartsError as err:
        report.violations.append(str(err))
        return report
    if layout is Layout.NEXTGEN:
        from darts_dataset.validate_nextgen import validate_nextgen

        return validate_nextgen(report, options or NextgenSetOptions(), tick)
    ts = _check_config(report, root)
    for split in SPLITS:
        result = _check_split(report, ts, root, split, tick)
        if split == "cross-val" and result is not None:
            _check_folds(report, *result)
    logger.info(
        "validated %s: %d violation(s), %d warning(s)", root, len(report.violations), len(report.warnings)
    )
    return report


def total_patches(path: Path | str) -> int:
    """Number of patches over all readable splits (to size a progress bar); 0 for unreadable ones."""
    try:
        if detect_layout(path) is Layout.NEXTGEN:
            return int(open_data_arrays(path)[0].shape[0])
    except DartsError:
        return 0
    total = 0
    for split in SPLITS:
        try:
            x, _ = split_arrays(zarr.open_group(split_path(path, split), mode="r"), split)
        except (DartsError, FileNotFoundError, ValueError, KeyError):
            continue
        total += int(x.shape[0])
    return total
