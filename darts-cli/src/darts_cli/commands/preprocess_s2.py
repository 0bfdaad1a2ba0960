"""`darts preprocess-s2-train-data`: build a training set from Sentinel-2 scenes and label polygons."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from darts_cli.options import darts_command
from darts_preprocess.config import S2PreprocessConfig  # cheap: pydantic + the band registry

if TYPE_CHECKING:
    from darts_preprocess.trainset.report import PreprocessResult

logger = logging.getLogger(__name__)


def render_preprocess_result(result: PreprocessResult) -> None:
    """Print the splits, the per-filter patch removals and every skipped input (shared by both sensors)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"training set {result.train_data_dir}")
    for column in ("split", "scenes", "patches"):
        table.add_column(column)
    for split, n in result.n_patches.items():
        table.add_row(split, str(len(result.scenes.get(split, []))), str(n))
    console.print(table)
    console.print(f"patches removed by filter: {result.removed}")
    console.print(f"scenes processed {result.n_processed}, resumed from cache {result.n_resumed}")
    for note in result.label_notes:
        console.print(f"labels: {note}")
    if result.unmatched_label_ids:
        console.print(f"{len(result.unmatched_label_ids)} label image id(s) match no scene (not used)")
    for scene, reason in result.skipped:
        console.print(f"skipped {scene}: {reason}")


@darts_command(S2PreprocessConfig)
def preprocess_s2_train_data(config: S2PreprocessConfig) -> int:
    """Build a training set (cross-val, val-test, test) from Sentinel-2 scenes and label polygons."""
    from darts_preprocess.jobs.allocator import tune_allocator_for_scenes

    tune_allocator_for_scenes()  # before any thread allocates: see darts_preprocess.jobs.allocator
    from darts_preprocess.pipeline import preprocess_s2_train_data as run

    render_preprocess_result(run(config))
    return 0
