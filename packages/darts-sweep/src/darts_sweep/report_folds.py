"""What the sweep report reads from trials: the best trials, per-fold values and failure reasons.

Per-fold data comes from :func:`fold_rows`, the one place that reads a trial's per-fold user
attributes; new per-fold attributes (positive counts, defined folds) are read there.
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

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
    positives: int | None = None
    """Positive (RTS) patches of the fold's validation set (None until trials record it)."""


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
    """Per-fold values of a trial, from its recorded runs (``runs`` user attribute: fold and score)."""
    by_fold: dict[int, list[float | None]] = {}
    for run in trial.user_attrs.get("runs", []):
        by_fold.setdefault(int(run["fold"]), []).append(_defined(run.get("score")))
    rows = []
    for fold in sorted(by_fold):
        defined = [v for v in by_fold[fold] if v is not None]
        mean = statistics.fmean(defined) if defined else None
        rows.append(FoldRow(fold=fold, values=by_fold[fold], mean=mean))
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


def best_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The Pareto front of a multi-objective sweep, else its best complete trials (best first)."""
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    if len(study.directions) > 1:
        return sorted(study.best_trials, key=lambda t: t.number)
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
    "best_trials",
    "failure_reason",
    "fold_rows",
    "trial_folds",
]
