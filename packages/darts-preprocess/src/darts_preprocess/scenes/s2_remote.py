"""Fill ``sentinel2-dir`` from a remote archive (Earth Engine) with only the samples it lacks.

Runs before scene discovery of ``preprocess-s2-train-data``, and only when asked to:

- ``s2_scene_ids`` names Sentinel-2 product ids: each one not already in ``sentinel2-dir`` is
  fetched (over the footprints the search below found it for, else the whole scene);
- ``ee_project`` + ``labels_dir`` + ``s2_date_window_days``: every footprint (ImageFootprints*.gpkg)
  is searched for scenes overlapping it within the date window and below ``s2_max_cloud_percent``
  cloud; each scene found is fetched over the union of the footprints that found it.

Fetched scenes land in the folder layout the local reader uses (``<id>/<id>_SR.tif`` +
``<id>/<id>_SCL.tif``), so a rerun finds them on disk and downloads nothing. Search answers are
kept in ``sentinel2-dir/.darts-s2-search.json`` (written atomically after every search), so a
rerun does not search again either: the remote service is initialised only when something is
missing. The remote is any object with ``search`` and ``fetch_scene`` (:class:`S2RemoteSource`);
the default is :class:`darts_preprocess.sources.sentinel2_ee.Sentinel2EarthEngine`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from darts_core.atomic import write_text_atomically
from darts_preprocess.sources.errors import RemoteSourceError, SceneFileNotFoundError

logger = logging.getLogger(__name__)

SEARCH_RECORD = ".darts-s2-search.json"
"""File in sentinel2-dir holding the answers of earlier footprint searches."""
LOCAL_LAYOUT_HINT = (
    "put one folder per sample there (<id>/<id>_SR.tif + <id>/<id>_SCL.tif) or <id>.nc files, "
    "or let Earth Engine fill it: set s2-scene-ids, or ee-project with labels-dir and "
    "s2-date-window-days (footprint search)"
)


@dataclass(frozen=True)
class S2FillSettings:
    """What filling sentinel2-dir needs (the ``preprocess-s2-train-data`` options of the same names)."""

    sentinel2_dir: Path
    labels_dir: Path | None = None
    s2_scene_ids: tuple[str, ...] = ()
    s2_date_window_days: int | None = None
    s2_max_cloud_percent: float = 50.0
    ee_project: str | None = None
    ee_use_highvolume: bool = True
    offline: bool = False


class S2RemoteSource(Protocol):
    """A remote Sentinel-2 archive (imports and initialises itself only when called)."""

    def search(self, aoi: Any, start_date: str, end_date: str, max_cloud_pct: float = 50.0) -> list[str]:
        """Ids of the scenes intersecting ``aoi`` (odc-geo Geometry) between two ISO dates (end exclusive)."""
        ...

    def fetch_scene(self, scene_id: str, aoi: Any | None, sentinel2_dir: Path | str) -> Any:
        """Write ``sentinel2_dir/<id>/<id>_SR.tif`` and ``_SCL.tif`` over ``aoi`` (None: whole scene)."""
        ...


@dataclass
class S2FillReport:
    """What :func:`fill_sentinel2_dir` did."""

    fetched: list[str] = field(default_factory=list)
    """Scene ids downloaded in this run."""
    reused: list[str] = field(default_factory=list)
    """Wanted scene ids that were already in sentinel2-dir."""
    n_searches: int = 0
    """Remote searches made in this run (earlier answers come from the search record)."""


def search_wanted(config: S2FillSettings) -> bool:
    """Whether the footprint-driven search is switched on."""
    return (
        config.ee_project is not None
        and config.labels_dir is not None
        and config.s2_date_window_days is not None
    )


def _local_ids(root: Path) -> set[str]:
    from darts_preprocess.sources.sentinel2 import discover_s2_scenes

    if not root.is_dir():
        return set()
    return {ref.scene_id for ref in discover_s2_scenes(root).scenes}


def _read_record(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError:
        logger.warning("search record %s is not valid JSON; searching again", path)
        return {}
    return {str(k): [str(i) for i in v] for k, v in record.items()} if isinstance(record, dict) else {}


def _write_record(path: Path, record: dict[str, list[str]]) -> None:
    write_text_atomically(path, json.dumps(record, indent=1, sort_keys=True))


def _window(image_date: str, days: int) -> tuple[str, str]:
    day = date.fromisoformat(image_date)
    return (day - timedelta(days=days)).isoformat(), (day + timedelta(days=days + 1)).isoformat()


def _search_footprints(
    config: S2FillSettings, source: S2RemoteSource, report: S2FillReport
) -> dict[str, Any]:
    """Scene id -> area of interest (odc-geo Geometry, union of the footprints that found it)."""
    import shapely
    from odc.geo.geom import Geometry

    from darts_preprocess.labels.collection import load_label_collection

    root = Path(config.sentinel2_dir)
    record_path = root / SEARCH_RECORD
    record = _read_record(record_path)
    footprints = load_label_collection(Path(config.labels_dir)).footprints  # type: ignore[arg-type]
    found: dict[str, list[Any]] = {}
    days, cloud = int(config.s2_date_window_days or 0), config.s2_max_cloud_percent
    for image_id, image_date, geom in zip(
        footprints["image_id"], footprints["image_date"], footprints.geometry, strict=True
    ):
        if not image_date or geom is None or geom.is_empty:
            logger.warning("footprint %s has no date or geometry; not searched on Earth Engine", image_id)
            continue
        start, end = _window(image_date, days)
        key = f"{image_id}|{start}|{end}|{cloud:g}"
        if key not in record:
            aoi = Geometry(geom, crs=footprints.crs)
            try:
                record[key] = sorted(source.search(aoi, start, end, cloud))
            except RemoteSourceError as err:
                raise RemoteSourceError(
                    f"searching Sentinel-2 scenes for footprint {image_id} ({start} to {end}) to fill "
                    f"sentinel2-dir {root} failed: {err}"
                ) from err
            report.n_searches += 1
            root.mkdir(parents=True, exist_ok=True)
            _write_record(record_path, record)
        for scene_id in record[key]:
            found.setdefault(scene_id, []).append(geom)
    logger.info(
        "footprint search: %d footprint(s), %d scene(s) found (%d new searches)",
        len(footprints),
        len(found),
        report.n_searches,
    )
    return {sid: Geometry(shapely.unary_union(geoms), crs=footprints.crs) for sid, geoms in found.items()}


def _fetch(source: S2RemoteSource, scene_id: str, aoi: Any | None, root: Path) -> None:
    try:
        source.fetch_scene(scene_id, aoi, root)
    except RemoteSourceError as err:
        raise RemoteSourceError(
            f"could not fetch Sentinel-2 scene {scene_id} into sentinel2-dir {root}: {err}. "
            f"Check ee-project and Earth Engine access, or put the sample folder {root / scene_id} "
            "there yourself"
        ) from err


def _default_source(config: S2FillSettings) -> S2RemoteSource:
    from darts_preprocess.sources.sentinel2_ee import Sentinel2EarthEngine

    return Sentinel2EarthEngine(project=config.ee_project, high_volume=config.ee_use_highvolume)


def _offline_check(config: S2FillSettings, root: Path) -> S2FillReport:
    """Offline: no search, no fetch; the listed scene ids must already be in sentinel2-dir."""
    local = _local_ids(root) if root.is_dir() else set()
    lacking = [scene_id for scene_id in config.s2_scene_ids if scene_id not in local]
    if lacking:
        raise SceneFileNotFoundError(
            f"offline: sentinel2-dir {root} lacks the Sentinel-2 scene(s) {lacking} and darts may not "
            "fetch them; copy them there or run without --offline / DARTS_OFFLINE"
        )
    if search_wanted(config):
        logger.info("offline: no Earth Engine scene search; using the scenes already in %s", root)
    return S2FillReport(reused=sorted(set(config.s2_scene_ids)))


def fill_sentinel2_dir(config: S2FillSettings, source: S2RemoteSource | None = None) -> S2FillReport:
    """Fetch the samples ``config`` asks for that ``sentinel2-dir`` lacks (see the module docstring)."""
    root = Path(config.sentinel2_dir)
    report = S2FillReport()
    if not (config.s2_scene_ids or search_wanted(config)):
        if not root.is_dir():
            raise SceneFileNotFoundError(
                f"sentinel2-dir {root} does not exist or is not a folder; {LOCAL_LAYOUT_HINT}"
            )
        return report
    if config.offline:
        return _offline_check(config, root)
    source = source if source is not None else _default_source(config)
    wanted: dict[str, Any] = _search_footprints(config, source, report) if search_wanted(config) else {}
    for scene_id in config.s2_scene_ids:
        wanted.setdefault(scene_id, None)
    local = _local_ids(root)
    report.reused = sorted(set(wanted) & local)
    missing = sorted(set(wanted) - local)
    root.mkdir(parents=True, exist_ok=True)
    if missing:
        logger.info("fetching %d Sentinel-2 scene(s) into %s", len(missing), root)
    for scene_id in missing:
        _fetch(source, scene_id, wanted[scene_id], root)
        report.fetched.append(scene_id)
    n_fetched, n_reused = len(report.fetched), len(report.reused)
    logger.info("sentinel2-dir %s: %d scene(s) fetched, %d already there", root, n_fetched, n_reused)
    return report
