"""Scene jobs in this process, several at once in threads, started before their labels are matched.

The heavy steps of a scene (reads, GDAL warps, FFTs, writes) release the GIL, so threads of one
process keep the CPUs busy without the start-up and memory of worker processes. A scene's work
splits in two (:mod:`.scene_job`): loading its inputs needs no labels, burning the labels and
writing the patches does. :class:`SceneThreads` can therefore be handed the discovered scenes
*before* the label files are read and matched (:meth:`SceneThreads.start`): its threads load the
first scenes while the caller reads the labels, and each thread then waits for its scene's job
(:meth:`SceneThreads.run`). A scene that gets no job (no labels or footprint, or already in the
scene cache) is dropped after loading. Memory stays bounded by ``n_threads`` scenes: a thread holds
its scene until the job arrives, and the next scene starts only when a thread is free.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

from darts_core.errors import DartsError
from darts_preprocess.jobs.scene_job import (
    SceneJob,
    SceneOutcome,
    SceneSettings,
    finish_scene,
    ignore_spurious_rasterio_warnings,
    load_scene_inputs,
    skipped_outcome,
)

logger = logging.getLogger(__name__)


class SceneThreads:
    """Run scene jobs in ``n_threads`` threads of this process (a context manager; see the module doc).

    ``settings`` and ``helper_threads`` must be those of the jobs given to :meth:`run` later.
    """

    def __init__(self, n_threads: int, settings: SceneSettings, helper_threads: int | None = None) -> None:
        self.settings = settings
        self.helper_threads = helper_threads
        self._pool = ThreadPoolExecutor(max_workers=max(1, n_threads), thread_name_prefix="darts-scene")
        self._jobs: dict[str, Future[SceneJob | None]] = {}
        self._tasks: dict[str, Future[SceneOutcome | None]] = {}

    def __enter__(self) -> SceneThreads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, refs: Iterable[Any]) -> None:
        """Start loading these scenes (in this order, ``n_threads`` at once) before their jobs exist."""
        for ref in refs:
            if ref.scene_id not in self._tasks:
                promise: Future[SceneJob | None] = Future()
                self._jobs[ref.scene_id] = promise
                self._tasks[ref.scene_id] = self._pool.submit(self._scene, ref, promise)

    def run(self, jobs: list[SceneJob]) -> Iterator[SceneOutcome]:
        """Hand out the jobs and yield each scene's outcome as it finishes.

        Started scenes without a job are dropped; jobs of scenes not started yet are started now.
        """
        wanted = {job.scene_id: job for job in jobs}
        for job in jobs:
            if job.settings != self.settings or job.helper_threads != self.helper_threads:
                raise ValueError(f"job of scene {job.scene_id} has other settings than these scene threads")
        self.start(job.ref for job in jobs if job.scene_id not in self._tasks)
        for scene_id, promise in self._jobs.items():
            if not promise.done():
                promise.set_result(wanted.get(scene_id))
        for task in as_completed([self._tasks[job.scene_id] for job in jobs]):
            outcome = task.result()
            if outcome is not None:
                yield outcome

    def close(self) -> None:
        """Drop the scenes still waiting for a job, start no further scene, let running ones end."""
        for promise in self._jobs.values():
            if not promise.done():
                promise.set_result(None)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _scene(self, ref: Any, promise: Future[SceneJob | None]) -> SceneOutcome | None:
        """One scene in a thread: load its inputs, wait for its job, finish it (None: no job)."""
        ignore_spurious_rasterio_warnings()
        inputs = error = None
        try:
            inputs = load_scene_inputs(ref, self.settings, self.helper_threads)
        except Exception as err:  # reported only if the scene gets a job
            error = err
        job = promise.result()
        if job is None:
            logger.debug("scene %s loaded but not used (no job for it)", ref.scene_id)
            return None
        if isinstance(error, DartsError):
            return skipped_outcome(job.scene_id, error)
        if error is not None:
            raise error
        assert inputs is not None  # loaded without an error
        try:
            return finish_scene(job, inputs)
        except DartsError as err:
            return skipped_outcome(job.scene_id, err)
