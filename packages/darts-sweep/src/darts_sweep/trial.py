"""One trial: n_folds x n_randoms trainings with the same parameters, scored by their mean."""

from __future__ import annotations

import logging
import random
import re
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from darts_core.errors import SignalInterruptError
from darts_models.metric_keys import (
    LOSS,
    PIXEL_METRICS,
    TRAIN_PREFIX,
    VAL_PREFIX,
    fold_metric_key,
    metric_key,
)
from darts_sweep.aggregate import (
    ATTR_FOLD_SCORES,
    ATTR_FOLDS_USED,
    ATTR_METRIC_MEANS,
    ATTR_N_FOLDS,
    ATTR_N_FOLDS_USED,
    ATTR_UNSTABLE,
    UnstableTrialError,
    aggregate,
    fold_summary,
    fold_value,
    run_score,
    run_value,
)
from darts_sweep.errors import SweepSpecError, TrainingRunError
from darts_sweep.process import run_in_process
from darts_sweep.scoring import is_positive_dependent, positive_counts
from darts_sweep.stale import RUNNER_ATTR, runner_identity

if TYPE_CHECKING:
    import optuna

    from darts_sweep.config import SweepConfig
    from darts_sweep.heartbeat import TrialHeartbeat
    from darts_sweep.spec import SweepSpec

logger = logging.getLogger(__name__)

FIRST_SEEDS = (42, 21, 69)
_EXTRA_SEED_RNG_SEED = 0xDA575
ATTR_RUNS = "runs"
ATTR_FAIL_REASON = "fail_reason"


def run_seeds(n: int) -> list[int]:
    """Seeds of the n_randoms runs per fold: 42, 21, 69, then fixed pseudo-random ones."""
    seeds = list(FIRST_SEEDS[:n])
    rng = random.Random(_EXTRA_SEED_RNG_SEED)
    while len(seeds) < n:
        seed = rng.randrange(1, 2**31)
        if seed not in seeds:
            seeds.append(seed)
    return seeds


def objective_keys(metric_name: str, fold: int) -> tuple[str, ...]:
    """Metric keys that hold the objective of a run validated on ``fold``.

    The reference's sweep files name ``val0/X``: the validation metric of the run's own fold, which
    darts logs as ``val{fold}/X`` and ``val/X``.
    """
    match = re.fullmatch(rf"{VAL_PREFIX}\d+/(.+)", metric_name)
    if match:
        return (fold_metric_key(fold, match.group(1)), metric_key(VAL_PREFIX, match.group(1)))
    return (metric_name,)


def check_metric_name(metric_name: str) -> None:
    """Reject an objective that train-smp never logs, naming the closest key it does log.

    train-smp logs ``train/X`` and ``val/X`` for every pixel metric X and the loss, and ``val{fold}/X``
    (the reference's per-fold keys) for the validation ones.
    """
    import difflib

    names = (*PIXEL_METRICS, LOSS)
    match = re.fullmatch(rf"({VAL_PREFIX}\d+)/(.*)", metric_name)
    if match:
        if match.group(2) in names:
            return
        stage, candidates = match.group(1), [f"{match.group(1)}/{n}" for n in names]
    else:
        candidates = [metric_key(stage, n) for stage in (TRAIN_PREFIX, VAL_PREFIX) for n in names]
        if metric_name in candidates:
            return
        stage = metric_name.partition("/")[0]
    close = difflib.get_close_matches(metric_name, candidates, n=1, cutoff=0.0)
    hint = f"did you mean {close[0]!r}? " if close else ""
    valid = ", ".join(metric_key(stage or VAL_PREFIX, n) for n in names)
    raise SweepSpecError(
        f"metric {metric_name!r} of the sweep file is never logged by train-smp; {hint}"
        f"valid names: {valid} (train/, val/ or val<fold>/ before the metric)"
    )


def check_metric_names(spec: SweepSpec) -> None:
    """Check every metric of the sweep file's objective (``metric`` and each of ``metrics``)."""
    for metric in spec.objective_metrics:
        check_metric_name(metric.name)


def trial_name(number: int) -> str:
    """Folder and wandb job type of a trial."""
    return f"trial-{number:04d}"


def device_options(device: int | str | None) -> dict[str, Any]:
    """TrainConfig accelerator / devices for a runner's device."""
    if isinstance(device, int):
        return {"accelerator": "gpu", "devices": [device]}
    if device == "cpu":
        return {"accelerator": "cpu", "devices": "auto"}
    return {"accelerator": "auto", "devices": "auto"}


def suggest(trial: optuna.Trial, spec: SweepSpec) -> dict[str, Any]:
    """Sampled values of the searched parameters."""
    params: dict[str, Any] = {}
    for name, param in spec.search.items():
        if param.kind == "categorical":
            params[name] = trial.suggest_categorical(name, list(param.choices))
        elif param.kind == "int":
            low, high = param.bounds
            params[name] = trial.suggest_int(
                name, int(low), int(high), step=int(param.step or 1), log=param.log
            )
        else:
            low, high = param.bounds
            params[name] = trial.suggest_float(name, low, high, step=param.step, log=param.log)
    return params


class TrialObjective:
    """The Optuna objective of a sweep: cross-validated trainings, each in its own process."""

    def __init__(self, config: SweepConfig, spec: SweepSpec, sweep_id: str) -> None:
        self.config = config
        self.spec = spec
        self.sweep_id = sweep_id
        self.sweep_dir = (config.artifact_dir / sweep_id).resolve()
        self.seeds = run_seeds(config.n_randoms)
        self.trainings_started = 0
        self.heartbeat: TrialHeartbeat | None = None
        """Heartbeat of journal storages (database storages beat through Optuna)."""
        self.current_trial_id: int | None = None
        """Storage id of the trial being run (None between trials)."""
        self.identity = runner_identity(config.grace_period_s or 2 * config.heartbeat_interval_s)
        """This runner process, recorded on each trial so a restarted runner knows it is gone."""

    def __call__(self, trial: optuna.Trial) -> float | list[float]:
        self.current_trial_id = trial._trial_id
        trial.study._storage.set_trial_system_attr(trial._trial_id, RUNNER_ATTR, self.identity)
        if self.heartbeat is not None:
            self.heartbeat.beat(trial._trial_id)
        params = suggest(trial, self.spec)
        name = trial_name(trial.number)
        trial.set_user_attr("trial_name", name)
        trial.set_user_attr("fixed_params", self.spec.fixed)
        runs: list[dict[str, Any]] = list(trial.user_attrs.get(ATTR_RUNS, []))
        if runs:
            logger.info(
                "trial %d reuses %d finished run(s) of trial(s) %s",
                trial.number,
                len(runs),
                sorted({run["trial"] for run in runs}),
            )
            trial.set_user_attr(ATTR_RUNS, runs)
        try:
            for fold in range(self.config.n_folds):
                for i in range(len(self.seeds)):
                    self._run(trial, name, params, fold, i, runs)
                self._report_fold(trial, runs, fold)
            result = self._aggregate(trial, runs)
        except UnstableTrialError as err:
            trial.set_user_attr(ATTR_UNSTABLE, str(err))
            trial.set_user_attr(ATTR_FAIL_REASON, f"unstable: {err}")
            logger.warning(
                "trial %d is unstable and failed (the sampler gets no value): %s", trial.number, err
            )
            raise
        except TrainingRunError as err:
            trial.set_user_attr(ATTR_FAIL_REASON, str(err))
            raise
        except KeyboardInterrupt:
            trial.set_user_attr(ATTR_FAIL_REASON, "interrupted (SIGINT)")
            raise
        except SignalInterruptError as err:
            trial.set_user_attr(ATTR_FAIL_REASON, f"interrupted ({err.signal_name})")
            raise
        return result

    def _report_fold(self, trial: optuna.Trial, runs: list[dict[str, Any]], fold: int) -> None:
        """Report the fold's value for the pruner (single objective, defined folds only)."""
        import optuna

        if self.spec.is_pareto:  # Optuna prunes single-objective studies only
            return
        summary = fold_summary(runs, self.spec.objective_metrics, fold)
        value = fold_value(summary, self.spec.objective_metrics, self.spec.score, self.spec.direction)
        if value is None:
            logger.info(
                "trial %d: fold %d has no defined value (no RTS in its validation)", trial.number, fold
            )
            return
        trial.report(value, step=fold)
        if self.config.prune and trial.should_prune():
            raise optuna.TrialPruned(f"fold {fold} value {value:.4f} below median")

    def _aggregate(self, trial: optuna.Trial, runs: list[dict[str, Any]]) -> float | list[float]:
        """Record the trial's per-fold table and value; the value (a list in a pareto study)."""
        runs.sort(key=lambda run: (run["fold"], run["random"]))
        metrics = self.spec.objective_metrics
        trial.set_user_attr(
            ATTR_FOLD_SCORES, [fold_summary(runs, metrics, k) for k in range(self.config.n_folds)]
        )
        trial.set_user_attr(ATTR_N_FOLDS, self.config.n_folds)
        result = aggregate(runs, metrics, self.spec.score, self.spec.direction, self.config.n_folds)
        trial.set_user_attr(ATTR_METRIC_MEANS, result.metric_means)
        trial.set_user_attr(ATTR_FOLDS_USED, result.folds_used)
        trial.set_user_attr(ATTR_N_FOLDS_USED, result.n_folds_used)
        scores = [run["score"] for run in runs if run.get("score") is not None]
        trial.set_user_attr("run_scores", scores)
        trial.set_user_attr("run_ids", [run["run_id"] for run in runs])
        trial.set_user_attr("checkpoints", [run["best_checkpoint"] for run in runs])
        if self.spec.is_pareto:
            return result.values
        trial.set_user_attr("score_mean", result.values[0])
        trial.set_user_attr("score_std", statistics.pstdev(scores) if len(scores) > 1 else 0.0)
        return result.values[0]

    def _run(
        self,
        trial: optuna.Trial,
        name: str,
        params: dict[str, Any],
        fold: int,
        index: int,
        runs: list[dict[str, Any]],
    ) -> None:
        """Run (fold, index): reused when a finished run is recorded, else trained and recorded."""
        for run in runs:
            if run["fold"] == fold and run["random"] == index:
                if "values" not in run:  # recorded before metrics lists: its score is the single metric
                    run["values"] = {self.spec.metric_name: run["score"]}
                return
        seed = self.seeds[index]
        options = self.run_options(name, params, fold, seed)
        logger.info(
            "trial %d: fold %d, seed %d (run %d of %d)",
            trial.number,
            fold,
            seed,
            fold * len(self.seeds) + index + 1,
            self.config.n_folds * len(self.seeds),
        )
        self.trainings_started += 1
        result = run_in_process(self.config.train_fn, options, self.config.start_method)
        pixels, patches = positive_counts(result["metrics"])
        values = self._values(result, fold, pixels)
        metrics = self.spec.objective_metrics
        runs.append(
            {
                "trial": trial.number,
                "fold": fold,
                "random": index,
                "seed": seed,
                "score": run_score(values, metrics, self.spec.score, self.spec.direction),
                "values": values,
                "positive_pixels": pixels,
                "positive_patches": patches,
                "run_name": result["run_name"],
                "run_id": result["run_id"],
                "run_dir": result["run_dir"],
                "best_checkpoint": result["best_checkpoint"],
            }
        )
        trial.set_user_attr(ATTR_RUNS, runs)  # recorded at once: a retried trial reuses it

    def run_options(self, name: str, params: dict[str, Any], fold: int, seed: int) -> dict[str, Any]:
        """TrainConfig options of one run."""
        return {
            **self.config.train_options,
            **self.spec.fixed,
            **params,
            **device_options(self.config.sweep_device),
            "train_data_dir": Path(self.config.train_data_dir).resolve(),
            "artifact_dir": self.sweep_dir,
            "fold": fold,
            "n_folds": self.config.n_folds,
            "random_seed": seed,
            "run_name": f"{self.sweep_id}-{name}",
            "trial_name": name,
            "wandb_group": self.sweep_id,
        }

    def _values(
        self, result: dict[str, Any], fold: int, positive_pixels: int | None
    ) -> dict[str, float | None]:
        """Each objective metric of the run: None where undefined (no RTS in its validation fold).

        Raises TrainingRunError for a metric the training did not log, UnstableTrialError for NaN / inf.
        """
        metrics = result["metrics"]
        values: dict[str, float | None] = {}
        for metric in self.spec.objective_metrics:
            keys = objective_keys(metric.name, fold)
            key = next((k for k in keys if k in metrics), None)
            if key is None and not (positive_pixels == 0 and is_positive_dependent(metric.name)):
                raise TrainingRunError(
                    f"run {result['run_id']}: the training logged no {metric.name!r} "
                    f"(looked for {', '.join(keys)}; it logged {', '.join(sorted(metrics)) or 'nothing'})"
                )
            value = None if key is None else metrics[key]
            values[metric.name] = run_value(metric.name, value, positive_pixels, result["run_id"])
        return values
