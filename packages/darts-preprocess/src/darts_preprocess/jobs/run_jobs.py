"""Run the scene jobs: in threads of this process, or on dask workers (local cluster or a scheduler)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darts_core.errors import DartsInputError
from darts_preprocess.jobs.helper_threads import helper_threads_for
from darts_preprocess.jobs.scene_cache import SceneCache, has_finished_scenes
from darts_preprocess.jobs.scene_job import SceneJob, SceneOutcome, SceneSettings, run_scene_job
from darts_preprocess.jobs.scene_threads import SceneThreads
from darts_preprocess.labels.collection import LabelMatching

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    """Where the scene jobs run: ``n_workers`` processes (or a scheduler) of ``n_threads`` scenes each."""

    n_workers: int
    n_threads: int
    dask_scheduler: str | None = None

    @property
    def in_process(self) -> bool:
        """True when the scenes run in threads of this process (one worker, no dask scheduler)."""
        return self.dask_scheduler is None and self.n_workers <= 1

    @property
    def helper_threads(self) -> int | None:
        """Warp/FFT threads per scene: this machine's CPUs shared by the scenes in flight (None: remote)."""
        if self.dask_scheduler:
            return None  # the workers' machines are unknown here: each uses its own default
        return helper_threads_for(self.n_workers * self.n_threads)


def build_jobs(
    refs: list[Any],
    matching: LabelMatching,
    settings: SceneSettings,
    cache: SceneCache,
    helper_threads: int | None = None,
) -> tuple[list[SceneJob], list[str]]:
    """Jobs for scenes not in the cache, and the ids of cached (resumed) scenes."""
    jobs, resumed = [], []
    for ref in refs:
        if cache.has(ref.scene_id):
            resumed.append(ref.scene_id)
            continue
        found = matching.scenes[ref.scene_id]
        jobs.append(
            SceneJob(
                scene_id=ref.scene_id,
                ref=ref,
                labels=found.labels[["label_uid", "geometry", "repaired"]],
                footprint=found.footprint,
                region=found.region,
                prefix_matched_ids=found.prefix_matched_ids,
                settings=settings,
                cache_root=cache.folder.parent,
                cache_settings=cache.settings,
                helper_threads=helper_threads,
            )
        )
    if resumed:
        logger.info("resuming: %d scene(s) already finished in %s", len(resumed), cache.folder)
    return jobs, resumed


@contextmanager
def dask_client(config: Any) -> Iterator[Any]:
    """A dask client: the given scheduler, or a LocalCluster of ``n_workers`` processes.

    ``config`` needs ``dask_scheduler``, ``n_workers`` and ``n_threads`` (:class:`RunSettings` and the
    segmentation config both have them)."""
    from distributed import Client, LocalCluster

    if config.dask_scheduler:
        try:
            client = Client(config.dask_scheduler)
        except (OSError, TimeoutError, ValueError) as err:
            raise DartsInputError(
                f"dask-scheduler {config.dask_scheduler!r}: no dask scheduler reachable there ({err}); "
                "start one (`dask scheduler` plus `dask worker ADDRESS` on each host) or leave "
                "dask-scheduler unset to use a local cluster"
            ) from err
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=config.n_workers,
            threads_per_worker=config.n_threads,
            processes=True,
            dashboard_address=":0",  # any free port: 8787 may be taken (None still binds it)
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextmanager
def early_scene_threads(
    run: RunSettings, settings: SceneSettings, refs: list[Any], cache_root: Path
) -> Iterator[SceneThreads | None]:
    """In-process scene threads that start loading ``refs`` now, while the labels are read.

    Only for a fresh run: with finished scenes in the cache (a resume) the jobs are known first,
    so no cached scene is loaded again. Yields None when the scenes run on dask workers.
    """
    if not run.in_process or has_finished_scenes(cache_root):
        yield None
        return
    with SceneThreads(run.n_threads, settings, run.helper_threads) as threads:
        threads.start(refs)
        yield threads


def _iter_outcomes(
    jobs: list[SceneJob], run: RunSettings, threads: SceneThreads | None
) -> Iterator[SceneOutcome]:
    if not jobs:
        return
    if run.in_process:
        if threads is not None:
            yield from threads.run(jobs)
            return
        with SceneThreads(run.n_threads, jobs[0].settings, run.helper_threads) as own:
            yield from own.run(jobs)
        return
    from distributed import as_completed as dask_completed

    with dask_client(run) as client:
        token = uuid.uuid4().hex[:8]  # keys unique per run, also on a long-lived scheduler
        futures = client.map(run_scene_job, jobs, key=[f"darts-scene-{j.scene_id}-{token}" for j in jobs])
        for future in dask_completed(futures):
            yield future.result()
            future.release()


def run_jobs(
    jobs: list[SceneJob], run: RunSettings, *, progress: bool = True, threads: SceneThreads | None = None
) -> dict[str, SceneOutcome]:
    """Process scenes in parallel; returns the outcome of each (skipped scenes carry a reason).

    ``threads``: in-process scene threads that may have started loading scenes already (see
    :mod:`.scene_threads`); without them, in-process runs make their own.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    outcomes: dict[str, SceneOutcome] = {}
    columns = (TextColumn("preprocessing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress or not jobs, transient=False) as bar:
        task = bar.add_task("scenes", total=len(jobs))
        for outcome in _iter_outcomes(jobs, run, threads):
            outcomes[outcome.scene_id] = outcome
            if outcome.status == "skipped":
                logger.warning("scene %s skipped: %s", outcome.scene_id, outcome.reason)
            else:
                logger.info(
                    "scene %s: %d patches (%d candidates, removed %s); labels %s",
                    outcome.scene_id,
                    outcome.n_patches,
                    outcome.n_candidates,
                    outcome.removed,
                    outcome.labels,
                )
            bar.advance(task)
    return outcomes
