"""`sweep_report`: best trial, a table of trials (mean ± std), parameter importances and plots."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from darts_core.atomic import atomic_path, write_text_atomically
from darts_sweep.errors import SweepStorageError
from darts_sweep.study import STUDY_ATTR_SPEC, mask_url, storage_url

if TYPE_CHECKING:
    import optuna
    from matplotlib.axes import Axes

logger = logging.getLogger(__name__)

_PLOTS = ("optimization_history", "parallel_coordinate", "param_importances")


class TrialRow(BaseModel):
    """One trial of the report table."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    number: int
    """Optuna trial number."""
    state: str
    """COMPLETE, FAIL, PRUNED, RUNNING or WAITING."""
    mean: float | None
    """Mean objective over the trial's runs."""
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
    """maximize or minimize."""
    state_counts: dict[str, int]
    """Trials per state."""
    best: TrialRow | None
    """The best complete trial."""
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


def sweep_report(
    sweep_db: str | None,
    sweep_id: str,
    out_dir: Path,
    artifact_dir: Path = Path("lightning_logs"),
    plots: bool = True,
) -> SweepReport:
    """Summarise sweep ``sweep_id`` and write report.json, trials.csv and PNG plots into ``out_dir``."""
    import optuna

    url = storage_url(sweep_db, artifact_dir, sweep_id)
    study = _load_study(url, sweep_id)
    from darts_sweep.stale import fail_stale_trials

    fail_stale_trials(study)  # trials of runners of this host that are gone: failed and queued again
    trials = study.get_trials(deepcopy=False)
    rows = [_row(trial) for trial in trials]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    best_frozen = study.best_trial if complete else None
    importances, note = _importances(study, len(complete))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = _plots(study, out_dir, len(complete), bool(importances)) if plots else []
    spec = study.user_attrs.get(STUDY_ATTR_SPEC, {})
    report = SweepReport(
        sweep_id=sweep_id,
        storage=mask_url(url),
        metric=spec.get("metric_name"),
        direction=study.direction.name.lower(),
        state_counts=_count_states(trials),
        best=_row(best_frozen) if best_frozen else None,
        best_run_ids=list(best_frozen.user_attrs.get("run_ids", [])) if best_frozen else [],
        best_checkpoints=list(best_frozen.user_attrs.get("checkpoints", [])) if best_frozen else [],
        trials=rows,
        importances=importances,
        importance_note=note,
        plots=written,
    )
    _write_atomic(out_dir / "report.json", report.model_dump_json(indent=2))
    _write_atomic(out_dir / "trials.csv", _csv(rows))
    return report


def render_report(report: SweepReport, fmt: Literal["text", "json"] = "text") -> str:
    """The report as JSON (for scripts) or as a plain-text table."""
    if fmt == "json":
        return report.model_dump_json(indent=2)
    lines = [f"sweep {report.sweep_id} ({report.storage}): {report.direction} {report.metric}"]
    lines.append("trials: " + ", ".join(f"{k} {v}" for k, v in sorted(report.state_counts.items())))
    if report.best is not None:
        lines.append(f"best: trial {report.best.number} = {_pm(report.best)}")
        lines.extend(f"  {name}: {value}" for name, value in report.best.params.items())
        if report.best.fixed_params:
            fixed = ", ".join(f"{k}={_short(v)}" for k, v in report.best.fixed_params.items())
            lines.append(f"  fixed (not searched): {fixed}")
    lines.append(f"{'trial':>5}  {'state':<8}  {'mean ± std':<19}  runs  params")
    for row in report.trials:
        params = ", ".join(f"{k}={_short(v)}" for k, v in row.params.items())
        lines.append(f"{row.number:>5}  {row.state:<8}  {_pm(row):<19}  {row.n_runs:>4}  {params}")
    if report.importances:
        lines.append("parameter importances:")
        lines.extend(f"  {name}: {value:.3f}" for name, value in report.importances.items())
    elif report.importance_note:
        lines.append(f"parameter importances: {report.importance_note}")
    return "\n".join(lines)


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
    scores = [run["score"] for run in runs]
    mean = trial.user_attrs.get("score_mean", trial.value)
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
        n_runs=len(runs),
        params=dict(trial.params),
        fixed_params=dict(trial.user_attrs.get("fixed_params", {})),
        fail_reason=trial.user_attrs.get("fail_reason"),
    )


def _count_states(trials: list[optuna.trial.FrozenTrial]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def _importances(study: optuna.Study, n_complete: int) -> tuple[dict[str, float], str | None]:
    if n_complete < 2:
        return {}, f"need at least 2 complete trials, the sweep has {n_complete}"
    import optuna

    try:
        values = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError) as err:
        return {}, f"cannot be computed: {err}"
    if not values:
        return {}, "no parameter varies between the complete trials"
    return {name: float(value) for name, value in values.items()}, None


def _plots(study: optuna.Study, out_dir: Path, n_complete: int, has_importances: bool) -> list[str]:
    if n_complete == 0:
        return []
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from optuna.visualization import matplotlib as ovm

    makers: dict[str, Callable[[optuna.Study], Axes]] = {
        "optimization_history": ovm.plot_optimization_history,
        "parallel_coordinate": ovm.plot_parallel_coordinate,
        "param_importances": ovm.plot_param_importances,
    }
    written = []
    for name in _PLOTS:
        if name == "param_importances" and not has_importances:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ax = makers[name](study)
        except (ValueError, RuntimeError) as err:
            logger.warning("plot %s skipped: %s", name, err)
            continue
        figure = ax.figure
        assert isinstance(figure, Figure)  # optuna draws on a new top-level figure
        target = out_dir / f"{name}.png"
        with atomic_path(target) as tmp:
            figure.savefig(tmp, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(target.name)
    return written


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


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
