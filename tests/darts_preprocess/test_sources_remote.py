"""Remote fetchers against recorded answers served on 127.0.0.1; retries, unreachable services.

The recorded answers (tests/data/recorded, see its README) are served with the services' base URLs
rewritten to the local server, so the real clients (pystac-client, requests) parse them: a change of
the services' format shows up here once the files are replaced. No test contacts a real service.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from odc.geo.geobox import GeoBox

from darts_preprocess.sources import (
    ArcticDEMStac,
    AuxDataMissingError,
    RemoteSourceError,
    download_admin_regions,
    load_admin_regions,
    load_arcticdem,
)
from darts_preprocess.sources._remote import UNREACHABLE, RetryPolicy, fetch_with_retries
from darts_preprocess.sources._tiles import write_geotiff

RECORDED = Path(__file__).parents[1] / "data" / "recorded"
PGC_API = "https://stac.pgc.umn.edu/api/v1"
PGC_S3 = "https://pgc-opendata-dems.s3.us-west-2.amazonaws.com"
GB_RAW = "https://github.com/wmgeolab/geoBoundaries/raw/9469f09/releaseData/gbOpen/USA/ADM1"
NO_RETRY_WAIT = RetryPolicy(attempts=3, first_delay_s=0.0)
# Inside sub-tile 44_74_1_2 of the recorded search answer (EPSG:3413 metres; sub-row 1, sub-column 2).
GRID = GeoBox.from_bbox((3_360_000, 310_000, 3_360_400, 310_400), "EPSG:3413", resolution=2)


@dataclass
class FakeServices:
    """What the local server answers and what it was asked."""

    base: str
    files: Path | str
    """Where the COG hrefs point: a local folder, or a URL."""
    search_status: int = 200
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)

    def rewrite(self, text: str) -> str:
        text = text.replace(PGC_API, f"{self.base}/api/v1").replace(PGC_S3, str(self.files))
        return text.replace(GB_RAW, f"{self.base}/gb")


def _handler(services: FakeServices) -> type[BaseHTTPRequestHandler]:
    routes = {
        "/api/v1/": RECORDED / "pgc-stac" / "landing.json",
        "/api/v1/search": RECORDED / "pgc-stac" / "search-arcticdem-mosaics-v4.1-2m.json",
        "/api/current/gbOpen/USA/ADM1/": RECORDED / "geoboundaries" / "api-gbOpen-USA-ADM1.json",
        "/gb/geoBoundaries-USA-ADM1.geojson": RECORDED
        / "geoboundaries"
        / "geoBoundaries-USA-ADM1.excerpt.geojson",
    }

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            services.requests.append((self.command, path, body))
            if path == "/api/v1/search" and services.search_status != 200:
                self.send_response(services.search_status)
                self.end_headers()
                return
            if path not in routes:
                self.send_response(404)
                self.end_headers()
                return
            data = services.rewrite(routes[path].read_text()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer  # noqa: N815 - http.server's method names

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def services(tmp_path: Path) -> Iterator[FakeServices]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(FakeServices("", tmp_path)))
    fake = FakeServices(f"http://127.0.0.1:{server.server_address[1]}", tmp_path / "s3")
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_stac_search_parses_the_recorded_pgc_answer(services: FakeServices) -> None:
    remote = ArcticDEMStac(url=f"{services.base}/api/v1/", retry=NO_RETRY_WAIT)
    items = remote._items(GRID)
    assert [item.id for item in items] == ["44_74_1_2_2m_v4.1"]
    assert items[0].assets["dem"].href.endswith("/44_74/44_74_1_2_2m_v4.1_dem.tif")
    search = [
        body for method, path, body in services.requests if method == "POST" and path.endswith("/search")
    ]
    request = json.loads(search[0])
    assert (
        request["collections"] == ["arcticdem-mosaics-v4.1-2m"] and request["intersects"]["type"] == "Polygon"
    )


def test_stac_fetch_reads_the_items_dem_into_the_cache(services: FakeServices, tmp_path: Path) -> None:
    # the recorded item's COG, stood in by a local plane z = 100 + x / 1000 over the test grid
    cog = Path(services.files) / "arcticdem/mosaics/v4.1/2m/44_74/44_74_1_2_2m_v4.1_dem.tif"
    big = GeoBox.from_bbox((3_359_000, 309_000, 3_361_000, 311_000), "EPSG:3413", resolution=2)
    xs = np.asarray(big.coords["x"].values, dtype=np.float64)
    plane = np.broadcast_to(100 + (xs - 3_300_000) / 1000, big.shape.yx).astype(np.float32)
    write_geotiff(cog, plane[None], big, nodata=-9999.0)
    remote = ArcticDEMStac(url=f"{services.base}/api/v1/", retry=NO_RETRY_WAIT)
    dem = load_arcticdem(GRID, tmp_path / "dem", 0.0, remote=remote)
    assert dem.attrs["source"].startswith("arcticdem-stac")
    expected = 100 + (np.asarray(GRID.coords["x"].values) - 3_300_000) / 1000
    np.testing.assert_allclose(dem.values, np.broadcast_to(expected, GRID.shape.yx), atol=1e-3)
    assert len(list((tmp_path / "dem").glob("remote-arcticdem-stac-*.tif"))) == 1


def test_failing_search_is_retried_quietly_then_fails_once(
    services: FakeServices, caplog: pytest.LogCaptureFixture
) -> None:
    services.search_status = 503
    remote = ArcticDEMStac(url=f"{services.base}/api/v1/", retry=NO_RETRY_WAIT)
    caplog.set_level("INFO")
    with pytest.raises(RemoteSourceError, match="gave up after 3 attempts"):
        fetch_with_retries(remote, GRID)
    assert sum(1 for m, p, _ in services.requests if m == "POST" and p.endswith("/search")) == 3
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]  # no line per retry
    assert UNREACHABLE.reason(remote.name) is None  # an HTTP error is not a connection failure


def test_refused_connection_marks_the_service_unreachable_for_the_run(
    services: FakeServices, tmp_path: Path
) -> None:
    dead = ArcticDEMStac(url=f"http://127.0.0.1:{closed_port()}/api/v1/", retry=NO_RETRY_WAIT)
    with pytest.raises(AuxDataMissingError, match="failed"):
        load_arcticdem(GRID, tmp_path / "dem", 0.0, remote=dead)
    assert UNREACHABLE.reason("arcticdem-stac") is not None
    # later scenes fail at once, without a request, even where the service would answer
    alive = ArcticDEMStac(url=f"{services.base}/api/v1/", retry=NO_RETRY_WAIT)
    with pytest.raises(AuxDataMissingError, match="found earlier in this run, not retried"):
        load_arcticdem(GRID, tmp_path / "dem", 0.0, remote=alive)
    assert services.requests == []


def test_geoboundaries_download_parses_the_recorded_api_answer(
    services: FakeServices, tmp_path: Path
) -> None:
    api = f"{services.base}/api/current/gbOpen/{{iso3}}/ADM{{level}}/"
    path = download_admin_regions(tmp_path / "admin", "usa", 1, api=api)
    assert path.name == "geoBoundaries-USA-ADM1.geojson"
    regions = load_admin_regions(tmp_path / "admin")
    assert regions["shapeName"].tolist() == ["Alaska"] and regions["level"].tolist() == ["ADM1"]
    assert [p for _, p, _ in services.requests] == [
        "/api/current/gbOpen/USA/ADM1/",
        "/gb/geoBoundaries-USA-ADM1.geojson",
    ]


def test_geoboundaries_unknown_answer_is_a_clear_error(services: FakeServices, tmp_path: Path) -> None:
    api = f"{services.base}/api/current/gbOpen/{{iso3}}/ADM{{level}}/"
    with pytest.raises(RemoteSourceError, match="ADM2"):  # the API has no ADM2 answer here: 404
        download_admin_regions(tmp_path / "admin", "USA", 2, api=api)
    assert not (tmp_path / "admin").exists() or not list((tmp_path / "admin").iterdir())


def test_tcvis_earth_engine_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Earth Engine cannot be recorded like an HTTP answer: check the request darts builds."""
    from darts_preprocess.sources import tcvis

    calls: dict[str, object] = {}

    class Collection:
        def __init__(self, asset: str) -> None:
            calls["asset"] = asset

        def mosaic(self) -> str:
            return "mosaic"

    class FakeEE:
        ImageCollection = Collection

    def fake_compute(ee: object, image: object, grid: GeoBox, bands: list[str]) -> np.ndarray:
        calls.update(image=image, grid=grid, bands=bands)
        return np.full((3, *grid.shape.yx), 300.0, dtype=np.float32)

    monkeypatch.setattr(tcvis, "init_earthengine", lambda project, high_volume: FakeEE)
    monkeypatch.setattr(tcvis, "compute_pixels", fake_compute)
    scene = GeoBox.from_bbox((500_000, 7_600_000, 500_300, 7_600_300), "EPSG:32605", resolution=3)
    data, grid, names = tcvis.TcvisEarthEngine(project="p").fetch(scene)
    assert calls["asset"] == "users/ingmarnitze/TCTrend_SR_2000-2019_TCVIS"
    assert calls["bands"] == ["TCB_slope", "TCG_slope", "TCW_slope"]
    assert grid.crs == scene.crs and grid.resolution.x == 30
    assert grid.extent.contains(scene.extent)
    assert data.dtype == np.uint8 and data.max() == 255  # clipped to the uint8 range
    assert names == ["tc_brightness", "tc_greenness", "tc_wetness"]


def test_earth_engine_without_credentials_is_not_retried_and_marks_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from darts_preprocess.sources import TcvisEarthEngine, load_tcvis
    from darts_preprocess.sources.earthengine import init_earthengine

    monkeypatch.setenv("HOME", str(tmp_path))  # the real client, with no credentials anywhere
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    init_earthengine.cache_clear()
    slow = RetryPolicy(attempts=3, first_delay_s=3600.0)  # a retry would hang the test
    remote = TcvisEarthEngine(project="no-such-project", retry=slow)
    with pytest.raises(AuxDataMissingError, match="earthengine authenticate"):
        load_tcvis(GRID, tmp_path / "tcvis", remote=remote)
    with pytest.raises(AuxDataMissingError, match="found earlier in this run, not retried"):
        load_tcvis(GRID, tmp_path / "tcvis", remote=remote)


def test_a_cog_on_a_host_that_refuses_is_a_connection_failure(services: FakeServices, tmp_path: Path) -> None:
    """The search answers, but the item's COG lives on a host that refuses: GDAL reports it as text."""
    services.files = f"http://127.0.0.1:{closed_port()}"  # the COG href's host
    remote = ArcticDEMStac(url=f"{services.base}/api/v1/", retry=NO_RETRY_WAIT)
    with pytest.raises(AuxDataMissingError, match="arcticdem-stac is unreachable"):
        load_arcticdem(GRID, tmp_path / "dem", 0.0, remote=remote)
    assert sum(1 for m, p, _ in services.requests if p.endswith("/search")) == 1  # not retried
