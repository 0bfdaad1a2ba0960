"""A training set already in train-data-dir: complete with these settings, other settings, or rebuilt.

A set is complete when its config.toml exists. With other settings (other than the runtime
options) a run stops with an error naming the differences, unless ``overwrite``; with identical
settings the set is returned as it is, without any work. ``overwrite`` unmarks the complete set
(removes its config.toml) and clears the scene cache of these settings; the old arrays stay until
the new set is renamed into place.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any

from darts_core.errors import DartsInputError
from darts_core.recorded_paths import resolve_recorded
from darts_core.trainset_layout import CONFIG_FILE
from darts_preprocess.jobs.scene_cache import SceneCache
from darts_preprocess.trainset.report import PreprocessResult, SetRecord

logger = logging.getLogger(__name__)


def check_existing_set(record: SetRecord, overwrite: bool) -> dict[str, Any] | None:
    """Refuse to mix settings with a finished set (``overwrite`` skips this; see :func:`start_rebuild`).

    Returns the finished set's recorded ``[darts]`` table when its settings are those of ``record``.
    """
    root = record.train_data_dir
    config_file = root / CONFIG_FILE
    if overwrite or not config_file.is_file():
        return None
    try:
        recorded = tomllib.loads(config_file.read_text()).get("darts", {})
    except tomllib.TOMLDecodeError as err:
        raise DartsInputError(
            f"{config_file} is not valid TOML ({err}); pass --overwrite to rebuild"
        ) from err
    current = {k: v for k, v in record.options.items() if k in record.compared}

    def same(key: str, old: Any, new: Any) -> bool:
        if key in record.path_keys and isinstance(old, str):  # relative to the set, or absolute in older sets
            return os.path.abspath(resolve_recorded(old, root)) == os.path.abspath(
                resolve_recorded(new, root)
            )
        return old == new

    diffs = [
        f"{k}: {recorded.get(k)!r} -> {v!r}" for k, v in current.items() if not same(k, recorded.get(k), v)
    ]
    diffs += [f"{k}: {recorded[k]!r} -> unset" for k in recorded if k in record.fields and k not in current]
    if diffs:
        raise DartsInputError(
            f"train-data-dir {root} already holds a training set built with other settings ("
            + "; ".join(diffs)
            + "); pass --overwrite (overwrite = true in the config file) to rebuild it, "
            "or choose another train-data-dir"
        )
    return recorded


def complete_result(train_data_dir: Path, recorded: dict[str, Any]) -> PreprocessResult:
    """The result of a finished set, read from its config.toml (no scene is looked at)."""
    return PreprocessResult(
        train_data_dir=train_data_dir,
        n_patches=dict(recorded.get("n_patches", {})),
        scenes={},
        skipped=[(s["scene"], s["reason"]) for s in recorded.get("skipped_scenes", [])],
        scene_reports={},
        removed=dict(recorded.get("patches_removed", {})),
        unmatched_label_ids=list(recorded.get("unmatched_label_image_ids", [])),
    )


def start_rebuild(train_data_dir: Path, cache: SceneCache) -> None:
    """``overwrite``: unmark a complete set and clear its scene cache (an unfinished set resumes)."""
    config_file = train_data_dir / CONFIG_FILE
    if not config_file.is_file():
        logger.info(
            "overwrite: no complete set in %s; finished scenes in the cache are reused", train_data_dir
        )
        return
    logger.info("overwrite: rebuilding the training set in %s from scratch", train_data_dir)
    cache.clear()
    config_file.unlink()
