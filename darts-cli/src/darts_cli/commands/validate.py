"""`darts validate-train-data`: check a training set against the layout contract and count what it holds."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.table import Table

from darts_cli.options import darts_command
from darts_dataset.config import ValidateConfig

logger = logging.getLogger(__name__)


def _table(title: str, rows: list) -> Table:
    table = Table(title=title)
    for column in ("", "patches", "positive patches", "scenes", "regions"):
        table.add_column(column, justify="left" if not column else "right")
    for c in rows:
        cells = (c.n_patches, c.n_positive_patches, c.n_scenes, c.n_regions)
        table.add_row(c.name, *("?" if v is None else str(v) for v in cells))
    return table


@darts_command(ValidateConfig)
def validate_train_data(config: ValidateConfig) -> int:
    """Check that a training set on disk follows the layout contract; exit 1 listing violations."""
    from rich.progress import Progress

    from darts_dataset.nextgen_options import nextgen_options_of
    from darts_dataset.validate import total_patches
    from darts_dataset.validate import validate_train_data as run

    console = Console()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("scanning patches", total=total_patches(config.train_data_dir))
        report = run(
            config.train_data_dir,
            config.n_folds,
            config.seed,
            lambda: progress.advance(task),
            nextgen_options_of(config),
        )
    console.print(_table(f"{report.path}", report.splits))
    if report.folds:
        console.print(_table(f"cross-val folds (n_folds={report.n_folds}, seed={report.seed})", report.folds))
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    for violation in report.violations:
        console.print(f"[red]violation:[/red] {violation}", highlight=False)
    if not report.ok:
        logger.error(
            "%s breaks the training-set contract: %d violation(s)", report.path, len(report.violations)
        )
        return 1
    console.print(f"[green]{report.path} is a valid training set[/green]")
    return 0
