"""`darts optuna-sweep-smp`: Create, resume or run a cross-validated Optuna hyperparameter sweep."""

from __future__ import annotations

import logging

from darts_cli.options import darts_command
from darts_sweep.config import SweepCommandConfig  # cheap: pydantic only, no optuna / torch at import time

logger = logging.getLogger(__name__)


@darts_command(SweepCommandConfig)
def optuna_sweep_smp(config: SweepCommandConfig) -> int:
    """Create, resume or run a cross-validated Optuna hyperparameter sweep."""
    from rich.console import Console

    from darts_cli.logs import route_optuna_logs
    from darts_sweep import optuna_sweep_smp as run

    route_optuna_logs()
    outcome = run(config.to_sweep_config())
    console = Console(soft_wrap=True)
    verb = "created" if outcome.created else "continuing"
    console.print(f"sweep id: {outcome.sweep_id} ({verb}, stored in {outcome.storage})", markup=False)
    if outcome.trials_run:
        best = (
            f"best trial {outcome.best_trial} = {outcome.best_value}"
            if outcome.best_trial is not None
            else f"Pareto front: trials {outcome.pareto_trials}"
            if outcome.pareto_trials
            else ""
        )
        console.print(
            f"ran trials {outcome.trials_run}; sweep: {outcome.n_complete} complete, "
            f"{outcome.n_failed} failed, {outcome.n_pruned} pruned. {best}",
            markup=False,
        )
    if outcome.retrain is not None:
        retrain = outcome.retrain
        console.print(
            f"retrained trial {retrain.trial} with {len(retrain.seeds)} seed(s) "
            f"({len(retrain.reused_seeds)} reused); summary: {outcome.retrain_summary_file}",
            markup=False,
        )
        for split, stats in retrain.metrics.items():
            if "JaccardIndex" in stats:
                iou = stats["JaccardIndex"]
                console.print(f"  {split} JaccardIndex {iou.mean:.4f} ± {iou.std:.4f}", markup=False)
    if outcome.exit_code == 1:
        logger.error(
            "every trial this runner ran failed (%s); see fail_reason in sweep-report",
            ", ".join(map(str, outcome.failed_here)),
        )
    return outcome.exit_code
