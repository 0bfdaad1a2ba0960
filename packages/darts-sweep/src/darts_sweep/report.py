"""`sweep_report`: best trial, a table of trials (mean ± std), parameter importances and plots."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from darts_core.atomic import write_text_atomically
from darts_sweep.errors import SweepStorageError
from darts_sweep.report_folds import TrialFolds, failure_reason, shown_trials, trial_folds
from darts_sweep.report_plots import write_plots
from darts_sweep.retrain_summary import RETRAIN_DIR, RetrainSummary, read_summaries
from darts_sweep.scoring import objective_label
from darts_sweep.study import STUDY_ATTR_SPEC, best_trials, is_multi_objective, mask_url, storage_url

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)


class TrialRow(BaseModel):
    """One trial of the report table."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    number: int
    """Optuna trial number."""
    state: str
    """COMPLETE, FAIL, PRUNED, RUNNING or WAITING."""
    mean: float | None
    """Mean objective over the trial's runs."""
    values: list[float] | None = None
    """The trial's value(s) in the study: one per objective (None while it has none)."""
    std: float | None
    """Standard deviation of the objective over its runs."""
    n_runs: int
    """Finished runs recorded for the trial."""
    params: dict[str, Any]
    """Searched parameters (the values Optuna sampled)."""
    fixed_params: dict[str, Any] = Field(default_factory=dict)
    """Fixed parameters (``value:`` in the sweep file): the same in every trial, never searched."""
    fail_reason: str | None = None
    """Why the trial failed or was pruned."""


class SweepReport(BaseModel):
    """Summary of a sweep."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sweep_id: str
    """The Optuna study name."""
    storage: str
    """Where it is stored (password masked)."""
    metric: str | None
    """The objective."""
    direction: str
    """maximize or minimize; ``multi-objective`` for a sweep with several directions."""
    directions: list[str] = Field(default_factory=list)
    """The direction of each objective."""
    state_counts: dict[str, int]
    """Trials per state."""
    best: TrialRow | None
    """The best complete trial (None in a multi-objective sweep: see pareto_trials)."""
    pareto_trials: list[int] = Field(default_factory=list)
    """Numbers of the trials on the Pareto front of a multi-objective sweep."""
    best_folds: list[TrialFolds] = Field(default_factory=list)
    """Per-fold values of the best trials (the Pareto front of a multi-objective sweep)."""
    failed: list[TrialRow] = Field(default_factory=list)
    """Failed (and unstable) trials, with their reasons."""
    best_run_ids: list[str] = Field(default_factory=list)
    """Run ids of the best trial."""
    best_checkpoints: list[str | None] = Field(default_factory=list)
    """Best checkpoints of the best trial's runs."""
    trials: list[TrialRow]
    """Every trial, by number."""
    importances: dict[str, float]
    """Parameter importances (fANOVA); empty with a note when they cannot be computed."""
    importance_note: str | None = None
    """Why importances are missing."""
    plots: list[str] = Field(default_factory=list)
    """PNG files written into the output folder."""
    html_file: str | None = None
    """report.html in the output folder, when it was asked for."""
    retrains: list[RetrainSummary] = Field(default_factory=list)
    """Summaries of retrain-best found in the sweep's artifact folder (mean ± std over seeds)."""


def sweep_report(
    sweep_db: str | None,
    sweep_id: str,
    out_dir: Path,
    artifact_dir: Path = Path("lightning_logs"),
    plots: bool = True,
    html: bool = False,
) -> SweepReport:
    """Summarise sweep ``sweep_id``: report.json, trials.csv, PNG plots (and report.html) in ``out_dir``."""
    import optuna

    url = storage_url(sweep_db, artifact_dir, sweep_id)
    study = _load_study(url, sweep_id)
    from darts_sweep.stale import fail_stale_trials

    fail_stale_trials(study)  # trials of runners of this host that are gone: failed and queued again
    trials = study.get_trials(deepcopy=False)
    rows = [_row(trial) for trial in trials]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    multi = is_multi_objective(study)
    front = best_trials(study)
    best_frozen = front[0] if front and not multi else None
    importances, note = _importances(study, len(complete))
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = study.user_attrs.get(STUDY_ATTR_SPEC, {})
    written = write_plots(study, out_dir, len(complete), bool(importances)) if plots else []
    shown = shown_trials(study) if complete else []
    report = SweepReport(
        sweep_id=sweep_id,
        storage=mask_url(url),
        metric=objective_label(spec),
        direction="multi-objective" if multi else study.direction.name.lower(),
        directions=[d.name.lower() for d in study.directions],
        state_counts=_count_states(trials),
        best=_row(best_frozen) if best_frozen else None,
        pareto_trials=[t.number for t in shown] if multi else [],
        best_folds=[trial_folds(t) for t in shown],
        failed=[row for row in rows if row.state == "FAIL"],
        best_run_ids=list(best_frozen.user_attrs.get("run_ids", [])) if best_frozen else [],
        best_checkpoints=list(best_frozen.user_attrs.get("checkpoints", [])) if best_frozen else [],
        trials=rows,
        importances=importances,
        importance_note=note,
        plots=written,
        html_file="report.html" if html else None,
        retrains=read_summaries(artifact_dir / sweep_id / RETRAIN_DIR),
    )
    _write_atomic(out_dir / "report.json", report.model_dump_json(indent=2))
    _write_atomic(out_dir / "trials.csv", _csv(rows))
    if html:
        from darts_sweep.report_html import render_html

        _write_atomic(out_dir / "report.html", render_html(report, out_dir))
    return report


def render_report(report: SweepReport, fmt: Literal["text", "json"] = "text") -> str:
    """The report as JSON (for scripts) or as a plain-text table."""
    if fmt == "json":
        return report.model_dump_json(indent=2)
    direction = ", ".join(report.directions) if report.directions else report.direction
    lines = [f"sweep {report.sweep_id} ({report.storage}): {direction} {report.metric}"]
    lines.append("trials: " + ", ".join(f"{k} {v}" for k, v in sorted(report.state_counts.items())))
    if report.best is not None:
        lines.append(f"best: trial {report.best.number} = {_pm(report.best)}")
        lines.extend(f"  {name}: {value}" for name, value in report.best.params.items())
        if report.best.fixed_params:
            fixed = ", ".join(f"{k}={_short(v)}" for k, v in report.best.fixed_params.items())
            lines.append(f"  fixed (not searched): {fixed}")
    if report.pareto_trials:
        lines.append(f"Pareto front ({', '.join(report.directions)}): trials {report.pareto_trials}")
    lines.append(f"{'trial':>5}  {'state':<8}  {'mean ± std':<19}  runs  params")
    for row in report.trials:
        params = ", ".join(f"{k}={_short(v)}" for k, v in row.params.items())
        lines.append(f"{row.number:>5}  {row.state:<8}  {_pm(row):<19}  {row.n_runs:>4}  {params}")
    lines += _fold_lines(report) + _failure_lines(report) + _retrain_lines(report)
    if report.importances:
        lines.append("parameter importances:")
        lines.extend(f"  {name}: {value:.3f}" for name, value in report.importances.items())
    elif report.importance_note:
        lines.append(f"parameter importances: {report.importance_note}")
    return "\n".join(lines)


def _fold_lines(report: SweepReport) -> list[str]:
    if not report.best_folds:
        return []
    lines = ["per-fold values of the best trials (mean of the runs: each run):"]
    for trial in report.best_folds:
        for fold in trial.folds:
            each = ", ".join(_value(v) for v in fold.values)
            positives = f"  positive patches {_counts(fold.positives)}" if fold.positives else ""
            lines.append(
                f"  trial {trial.number:>4}  fold {fold.fold}: {_value(fold.mean)} ({each}){positives}"
            )
    return lines


def _failure_lines(report: SweepReport) -> list[str]:
    if not report.failed:
        return []
    return ["failed / unstable trials:"] + [
        f"  trial {row.number}: {row.fail_reason or 'no reason recorded'}" for row in report.failed
    ]


def _retrain_lines(report: SweepReport) -> list[str]:
    lines = []
    for retrain in report.retrains:
        stats = ", ".join(
            f"{split} JaccardIndex {m['JaccardIndex'].mean:.4f} ± {m['JaccardIndex'].std:.4f}"
            for split, m in retrain.metrics.items()
            if "JaccardIndex" in m
        )
        lines.append(f"retrained trial {retrain.trial} ({len(retrain.seeds)} seeds): {stats or 'no metrics'}")
    return lines


def _load_study(url: str, sweep_id: str) -> optuna.Study:
    import optuna

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise SweepStorageError(f"sweep-db {url} does not exist")
    if url.startswith("journal:") and not Path(url.removeprefix("journal:")).is_file():
        raise SweepStorageError(f"sweep-db {url.removeprefix('journal:')} does not exist")
    from darts_sweep.study import open_storage

    storage = open_storage(url, heartbeat_interval_s=60, grace_period_s=120)
    names = optuna.get_all_study_names(storage)
    if sweep_id not in names:
        raise SweepStorageError(
            f"sweep-db {mask_url(url)} holds no sweep {sweep_id!r} (it holds: {', '.join(names) or 'none'})"
        )
    return optuna.load_study(study_name=sweep_id, storage=storage)


def _row(trial: optuna.trial.FrozenTrial) -> TrialRow:
    runs = trial.user_attrs.get("runs", [])
    scores = [run["score"] for run in runs if run.get("score") is not None]
    values = list(trial.values) if trial.values is not None else None
    single = values[0] if values is not None and len(values) == 1 else None
    mean = trial.user_attrs.get("score_mean", single)
    if mean is None and scores:
        mean = sum(scores) / len(scores)
    std = trial.user_attrs.get("score_std")
    if std is None and len(scores) > 1:
        m = sum(scores) / len(scores)
        std = math.sqrt(sum((s - m) ** 2 for s in scores) / len(scores))
    return TrialRow(
        number=trial.number,
        state=trial.state.name,
        mean=mean,
        std=std,
        values=values,
        n_runs=len(runs),
        params=dict(trial.params),
        fixed_params=dict(trial.user_attrs.get("fixed_params", {})),
        fail_reason=failure_reason(trial),
    )


def _count_states(trials: list[optuna.trial.FrozenTrial]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def _importances(study: optuna.Study, n_complete: int) -> tuple[dict[str, float], str | None]:
    if n_complete < 2:
        return {}, f"need at least 2 complete trials, the sweep has {n_complete}"
    if is_multi_objective(study):
        return {}, "not computed for a sweep with several objectives"
    import optuna

    try:
        values = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError) as err:
        return {}, f"cannot be computed: {err}"
    if not values:
        return {}, "no parameter varies between the complete trials"
    return {name: float(value) for name, value in values.items()}, None


def _csv(rows: list[TrialRow]) -> str:
    import csv
    import io

    names = sorted({name for row in rows for name in row.params})
    fixed = sorted({name for row in rows for name in row.fixed_params})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["number", "state", "mean", "std", "n_runs", *names, *(f"fixed:{n}" for n in fixed), "fail_reason"]
    )
    for row in rows:
        writer.writerow(
            [
                row.number,
                row.state,
                row.mean,
                row.std,
                row.n_runs,
                *(row.params.get(n) for n in names),
                *(row.fixed_params.get(n) for n in fixed),
                row.fail_reason or "",
            ]
        )
    return buffer.getvalue()


def _write_atomic(path: Path, text: str) -> None:
    write_text_atomically(path, text)


def _pm(row: TrialRow) -> str:
    if row.mean is None:
        return "-"
    return f"{row.mean:.4f} ± {row.std or 0.0:.4f}"


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _counts(counts: list[int | None]) -> str:
    return ", ".join("?" if c is None else str(c) for c in counts)
