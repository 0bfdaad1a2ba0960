"""Benchmark optuna-sweep-smp: per-run overhead beyond training, and 2 runners vs 1 on one study.

    uv run python benchmarks/sweep.py                          # SQLite study in a temp folder
    uv run python benchmarks/sweep.py --sweep-db postgresql://user@host/db
    uv run python benchmarks/sweep.py --runs 24 --train-s 1.0

1. Overhead: a runner executes ``--runs`` trainings whose training function returns at once, in
   a process of their own started from the runner's forkserver, which preloads torch, lightning
   and darts_train as a real sweep does. Each run costs: process start, result transfer, scoring
   and the storage writes of the run record (a run's time beyond its training). The forkserver's
   one-time start (importing torch and lightning) is reported apart. Goal: < 2 s per run.
2. Throughput: trials per minute of one runner, then of two runner processes sharing one study,
   with trainings that sleep ``--train-s`` seconds (stand-ins for trainings on separate GPUs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning  # noqa: F401  (preloaded by the forkserver, like the real training module)
import torch  # noqa: F401

from darts_train.config import TrainConfig

SCRIPT = Path(__file__).resolve()

SWEEP_YAML = (
    "method: random\nmetric: {name: val/JaccardIndex, goal: maximize}\nparameters:\n"
    "  learning_rate: {min: !!float 1e-5, max: !!float 1e-1, distribution: log_uniform_values}\n"
)


def instant_train(options: dict[str, Any]) -> dict[str, Any]:
    """A training that validates its options and returns at once (optionally after sleeping)."""
    config = TrainConfig(**options)
    time.sleep(config.max_epochs / 10 if config.max_epochs > 1 else 0.0)
    return {
        "run_name": config.run_name,
        "run_id": f"f{config.fold}s{config.random_seed}",
        "run_dir": None,
        "best_checkpoint": None,
        "metrics": {"val/JaccardIndex": 0.5 + config.learning_rate},
    }


def sweep_config(root: Path, sweep_db: str | None, **kw: Any) -> Any:
    from darts_sweep import SweepConfig

    (root / "data").mkdir(exist_ok=True)
    (root / "sweep.yaml").write_text(SWEEP_YAML)
    return SweepConfig(
        train_data_dir=root / "data",
        sweep_config=root / "sweep.yaml",
        artifact_dir=root / "art",
        sweep_db=sweep_db,
        train_fn="sweep:instant_train",
        **{"sweep_device": "cpu", **kw},
    )


def overhead(root: Path, sweep_db: str | None, runs: int) -> dict[str, float]:
    from darts_sweep import optuna_sweep_smp

    warm = sweep_config(
        root, sweep_db, sweep_id="warmup", n_trials=1, n_folds=2, n_randoms=1, train_options={"max_epochs": 1}
    )
    start = time.perf_counter()
    optuna_sweep_smp(warm)  # starts the forkserver (imports torch, lightning) + 2 runs
    first = time.perf_counter() - start
    n_randoms = max(1, runs // 4)
    config = sweep_config(
        root,
        sweep_db,
        sweep_id="overhead",
        n_trials=2,
        n_folds=2,
        n_randoms=n_randoms,
        train_options={"max_epochs": 1},
    )
    start = time.perf_counter()
    optuna_sweep_smp(config)
    elapsed = time.perf_counter() - start
    n_runs = 2 * 2 * n_randoms
    return {
        "forkserver_start_and_first_trial_s": first,
        "runs": n_runs,
        "per_run_overhead_s": elapsed / n_runs,
    }


def throughput(
    root: Path, sweep_db: str | None, n_runners: int, trials_per_runner: int, train_s: float
) -> float:
    from darts_sweep import optuna_sweep_smp

    sweep_id = f"throughput-{n_runners}"
    epochs = max(2, round(train_s * 10))
    create = sweep_config(
        root,
        sweep_db,
        sweep_id=None,
        n_trials=1,
        n_folds=2,
        n_randoms=1,
        sweep_device=None,
        train_options={"max_epochs": epochs},
    )
    created = optuna_sweep_smp(create)
    config = create.model_copy(
        update={"sweep_id": created.sweep_id, "sweep_device": "cpu", "n_trials": trials_per_runner}
    )
    path = root / f"{sweep_id}.json"
    path.write_text(config.model_dump_json())
    procs = []
    for i in range(n_runners):  # each runner first warms its forkserver on a sweep of its own
        warm = sweep_config(
            root,
            None,
            sweep_id=f"warm-{n_runners}-{i}",
            n_trials=1,
            n_folds=2,
            n_randoms=1,
            train_options={"max_epochs": 1},
        )
        warm_path = root / f"warm-{n_runners}-{i}.json"
        warm_path.write_text(warm.model_dump_json())
        procs.append(subprocess.Popen([sys.executable, str(SCRIPT), "--runner", str(warm_path), str(path)]))
    if any(p.wait() != 0 for p in procs):
        raise SystemExit("a runner failed")
    # steady state, from the study: first trial start to last trial end (forkserver start excluded)
    import optuna

    trials = optuna.load_study(study_name=created.sweep_id, storage=storage_for(config)).trials
    start = min(t.datetime_start for t in trials)
    end = max(t.datetime_complete for t in trials)
    return len(trials) / (end - start).total_seconds() * 60


def storage_for(config: Any) -> Any:
    from darts_sweep.study import open_storage, storage_url

    return open_storage(storage_url(config.sweep_db, config.artifact_dir, config.sweep_id), 60, 120)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sweep-db", default=None, help="storage URL; default SQLite under a temp folder")
    parser.add_argument("--runs", type=int, default=16, help="runs timed for the overhead")
    parser.add_argument("--trials", type=int, default=3, help="trials per runner for the throughput")
    parser.add_argument(
        "--train-s", type=float, default=1.0, help="seconds per training in the throughput test"
    )
    parser.add_argument("--runner", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # Python 3.11's forkserver ignores the parent's sys.path: from this folder it can preload this
    # module (and with it torch and lightning), as it preloads darts_sweep's own training module.
    os.chdir(SCRIPT.parent)
    if args.runner:
        from darts_sweep import SweepConfig, optuna_sweep_smp

        for path in args.runner:
            optuna_sweep_smp(SweepConfig.model_validate_json(Path(path).read_text()))
        return
    with tempfile.TemporaryDirectory(prefix="darts-sweep-bench-") as tmp:
        root = Path(tmp)
        db = args.sweep_db or f"{root}/bench.db"
        result: dict[str, Any] = overhead(root, db, args.runs)
        print(json.dumps(result), flush=True)
        one = throughput(root, db, 1, args.trials, args.train_s)
        two = throughput(root, db, 2, args.trials, args.train_s)
        result |= {
            "trials_per_min_1_runner": one,
            "trials_per_min_2_runners": two,
            "speedup_2_vs_1": two / one,
            "train_s": args.train_s,
            "runs_per_trial": 2,
            "storage": "given URL" if args.sweep_db else "SQLite",
        }
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}, indent=2))


if __name__ == "__main__":
    main()
