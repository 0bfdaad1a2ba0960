"""`darts segment-s2-scenes`: segment Sentinel-2 scenes with trained models."""

from __future__ import annotations

import logging
from typing import Any

from darts_cli.errors import EXIT_ERROR, EXIT_OK
from darts_cli.options import darts_command
from darts_segment.config import SegmentS2Config  # cheap: pydantic only

logger = logging.getLogger(__name__)


def render_segment_result(result: Any, strict: bool) -> int:
    """Print one line per scene and the totals; the exit code (non-zero: all failed, or any with strict)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"segmented scenes in {result.output_dir}")
    for column in ("scene", "status", "polygons", "seconds", "reason"):
        table.add_column(column)
    for scene in result.scenes:
        table.add_row(
            scene.scene_id, scene.status, str(scene.n_polygons), f"{scene.seconds:.1f}", scene.reason
        )
    console.print(table)
    counts = {status: len(result.with_status(status)) for status in ("done", "finished", "failed")}
    console.print(
        f"{counts['done']} segmented, {counts['finished']} already finished (not redone), "
        f"{counts['failed']} failed, in {result.seconds:.1f} s"
    )
    for path, reason in result.skipped_inputs:
        logger.debug("not a scene: %s (%s)", path, reason)
    if result.all_failed or (strict and result.any_failed):
        logger.error(
            "%d of %d scene(s) failed%s", counts["failed"], len(result.scenes), " (strict)" if strict else ""
        )
        return EXIT_ERROR
    return EXIT_OK


@darts_command(SegmentS2Config)
def segment_s2_scenes(config: SegmentS2Config) -> int:
    """Segment Sentinel-2 scenes with trained models: probabilities, binarized map, polygons per scene."""
    from darts_segment import segment_s2_scenes as run

    return render_segment_result(run(config), config.strict)
