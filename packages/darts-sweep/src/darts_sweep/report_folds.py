"""What the sweep report reads from trials: the best trials, per-fold values and failure reasons.

Per-fold data comes from :func:`fold_rows`, the one place that reads a trial's per-fold user
attributes; new per-fold attributes (positive counts, defined folds) are read there.
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from darts_sweep.study import best_trials, is_multi_objective

if TYPE_CHECKING:
    import optuna

BEST_TRIALS_SHOWN = 3
"""Trials of a single-objective sweep whose folds the report shows (best first)."""
REASON_ATTRS = ("fail_reason", "unstable_reason")
"""Trial user attributes that say why a trial failed (the first one present is shown)."""


class FoldRow(BaseModel):
    """One cross-validation fold of a trial."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    fold: int
    """Index of the validation fold."""
    values: list[float | None]
    """The objective of each run on this fold (None where undefined or not finite)."""
    mean: float | None
    """Mean of the defined values (None when none is defined)."""
    positives: list[int | None] = Field(default_factory=list)
    """Positive (RTS) patches of the fold's validation set, per run (a fold's patches follow the
    run's seed); None for a run that recorded no count (sweeps of older darts)."""


class TrialFolds(BaseModel):
    """The per-fold table of one trial."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    number: int
    """Optuna trial number."""
    folds: list[FoldRow] = Field(default_factory=list)
    """One row per fold, by fold index."""
    n_defined_folds: int = 0
    """Folds with at least one defined value."""


def fold_rows(trial: optuna.trial.FrozenTrial) -> list[FoldRow]:
    """Per-fold values of a trial, from its recorded runs (``runs``: fold, score, positive patches)."""
    by_fold: dict[int, list[float | None]] = {}
    positives: dict[int, list[int | None]] = {}
    for run in trial.user_attrs.get("runs", []):
        fold = int(run["fold"])
        by_fold.setdefault(fold, []).append(_defined(run.get("score")))
        count = run.get("positive_patches")
        positives.setdefault(fold, []).append(None if count is None else int(count))
    rows = []
    for fold in sorted(by_fold):
        defined = [v for v in by_fold[fold] if v is not None]
        mean = statistics.fmean(defined) if defined else None
        known = positives[fold] if any(c is not None for c in positives[fold]) else []
        rows.append(FoldRow(fold=fold, values=by_fold[fold], mean=mean, positives=known))
    return rows


def trial_folds(trial: optuna.trial.FrozenTrial) -> TrialFolds:
    """The per-fold table of a trial."""
    rows = fold_rows(trial)
    return TrialFolds(number=trial.number, folds=rows, n_defined_folds=sum(r.mean is not None for r in rows))


def failure_reason(trial: optuna.trial.FrozenTrial) -> str | None:
    """Why a trial failed, was pruned or is unstable (None when it records no reason)."""
    for name in REASON_ATTRS:
        reason = trial.user_attrs.get(name)
        if reason:
            return str(reason)
    return None


def shown_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The Pareto front of a multi-objective sweep, else its best complete trials (best first)."""
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    if is_multi_objective(study):
        return best_trials(study)
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    complete = [t for t in complete if t.value is not None and math.isfinite(t.value)]
    maximize = study.direction == StudyDirection.MAXIMIZE
    ranked = sorted(complete, key=lambda t: (-t.value if maximize else t.value, t.number))  # type: ignore[operator]
    return ranked[:BEST_TRIALS_SHOWN]


def _defined(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


__all__ = [
    "BEST_TRIALS_SHOWN",
    "FoldRow",
    "TrialFolds",
    "failure_reason",
    "fold_rows",
    "shown_trials",
    "trial_folds",
]
