"""`darts quickstart`: the whole flow on generated data in a few minutes (CPU, local storage)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from darts_cli.options import darts_command

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from darts_cli.quickstart import QuickstartSummary

logger = logging.getLogger(__name__)


class QuickstartConfig(BaseModel):
    """Options of `darts quickstart`."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    workdir: Path = Path("darts-quickstart")
    """Folder for everything the quickstart makes; emptied first if an earlier quickstart made it."""
    tiny: bool = False
    """Even smaller data and shorter trainings (used by the tests)."""


@darts_command(QuickstartConfig)
def quickstart(config: QuickstartConfig) -> int:
    """Run the whole flow on generated data in a few minutes (CPU, local storage)."""
    from rich.console import Console
    from rich.text import Text

    from darts_cli.quickstart import StepRecord, run_quickstart

    console = Console(soft_wrap=True)
    started = [0]

    def show(record: StepRecord) -> None:
        if record.status == "running":
            started[0] += 1
            console.rule(f"[bold]step {started[0]}: {record.name}")
            if record.command:
                console.print(Text.assemble(("equivalent command: ", "dim"), record.command))
        elif record.status == "done":
            console.print(
                Text.assemble(("done ", "green"), f"{record.name} in {record.seconds:.0f} s ", record.detail)
            )

    console.print(f"darts quickstart in {config.workdir.resolve()} (CPU, generated data)")
    summary = run_quickstart(config.workdir, tiny=config.tiny, on_step=show)
    _render_summary(console, summary)
    return 1 if summary.stopped_at else 0


def _render_summary(console: Console, summary: QuickstartSummary) -> None:
    from rich.markup import escape
    from rich.table import Table

    steps = Table(title="steps")
    for column in ("step", "status", "seconds"):
        steps.add_column(column)
    steps.add_column("equivalent command (run in the work folder)", overflow="fold")
    for record in summary.steps:
        steps.add_row(record.name, record.status, f"{record.seconds:.0f}", record.command or "(Python API)")
    results = Table(title="results", show_header=False)
    results.add_column("what")
    results.add_column("value", overflow="fold")
    results.add_row("work folder", str(summary.workdir))
    results.add_row("config file", str(summary.config_file))
    for name, path in summary.artifacts.items():
        shown = path.relative_to(summary.workdir) if path.is_relative_to(summary.workdir) else path
        results.add_row(name, str(shown))
    for name, value in summary.metrics.items():
        results.add_row(name, f"{value:.3f}")
    best = summary.sweep_best
    if best and best.get("value") is not None:
        results.add_row("best sweep trial", f"#{best['trial']}: {best['value']:.3f} with {best['params']}")
    console.print(steps)
    console.print(results)
    if summary.stopped_at:
        console.print(f"[yellow]stopped:[/yellow] {escape(summary.message)}")
    else:
        console.print(f"[green]all steps done.[/green] Rerun a step from {summary.workdir} with its command.")
