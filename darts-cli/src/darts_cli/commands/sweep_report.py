"""`darts sweep-report`: Summarise a sweep: best trials, parameter importances and plots."""

from __future__ import annotations

import logging

from darts_cli.options import darts_command
from darts_sweep.config import SweepReportConfig  # cheap: pydantic only

logger = logging.getLogger(__name__)


@darts_command(SweepReportConfig)
def sweep_report(config: SweepReportConfig) -> int:
    """Summarise a sweep: best trials, parameter importances and plots."""
    from rich.console import Console

    from darts_cli.logs import route_optuna_logs
    from darts_sweep.report import render_report
    from darts_sweep.report import sweep_report as run

    route_optuna_logs()
    out_dir = config.out_dir or config.artifact_dir / config.sweep_id / "report"
    report = run(
        config.sweep_db,
        config.sweep_id,
        out_dir,
        artifact_dir=config.artifact_dir,
        plots=config.plots,
        html=config.format == "html",
    )
    text = render_report(report, "json" if config.format == "json" else "text")
    Console(soft_wrap=True).print(text, markup=False, highlight=False)
    if report.html_file:
        logger.info("HTML report: %s", out_dir / report.html_file)
    logger.info("report written to %s", out_dir)
    return 0
