"""Fixtures of the darts_sweep tests: a throwaway PostgreSQL cluster, a sweep file, a data folder.

The fake training the runner tests sweep over is darts_test_support.fake_training.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from darts_test_support.sweeps import write_sweep_file


def _pg_bin() -> Path | None:
    """The newest Debian PostgreSQL bin folder, else the one of `initdb` on PATH (as .ci/run checks)."""

    def version(path: str) -> tuple[int, ...]:
        parts = Path(path).parents[1].name.split(".")
        return tuple(int(p) for p in parts if p.isdigit())

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _install_postgres() -> Path | None:
    """Install Debian's PostgreSQL when running as root (as .ci/run does); None when impossible."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, env=env, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "postgresql"],
        check=False,
        capture_output=True,
        env=env,
        timeout=900,
    )
    return _pg_bin()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster on 127.0.0.1 (trust auth, free port), removed afterwards; yields its base URL."""
    pg_bin = _pg_bin() or _install_postgres()
    if pg_bin is None:
        pytest.fail(
            "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin and apt-get could not install "
            "them; run `apt-get install -y postgresql` (.ci/run does)"
        )
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="darts-pg-"))
    if as_postgres:
        shutil.chown(root, user="postgres", group="postgres")
    data, log = root / "data", root / "server.log"
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_postgres, *args], check=True, capture_output=True, timeout=120)

    try:
        run(
            str(pg_bin / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        run(str(pg_bin / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start")
    except subprocess.CalledProcessError as err:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"cannot start PostgreSQL: {err.stderr.decode(errors='replace')}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_postgres, str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the throwaway cluster."""
    import psycopg

    name = f"sweep_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    """A small random sweep over the learning rate with a fixed gamma."""
    parameters = {
        "learning_rate": {"min": 1e-5, "max": 1e-1, "distribution": "log_uniform_values"},
        "gamma": {"value": 0.97},
    }
    return write_sweep_file(tmp_path / "sweep.yaml", parameters, name="tiny")


@pytest.fixture
def train_data_dir(tmp_path: Path) -> Path:
    """A path for the (fake) training set; the fake training never reads it."""
    path = tmp_path / "train-data"
    path.mkdir()
    return path
