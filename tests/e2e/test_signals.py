"""SIGTERM / SIGINT during `darts train-smp` (a real process): last.ckpt, run.json, exit code, resume."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow
DARTS = [sys.executable, "-c", "from darts_cli.app import main; main()"]
TINY = [
    "--model-encoder", "resnet18", "--devices", "cpu", "--accelerator", "cpu",
    "--plot-every-n-val-epochs", "0", "--n-folds", "2", "--batch-size", "3",
    "--check-val-every-n-epoch", "1", "--log-every-n-steps", "1",
]  # fmt: skip


def _start(args: list[str], cwd: Path, name: str) -> tuple[subprocess.Popen, Path]:
    err = cwd / f"{name}.err"
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": str(cwd), "WANDB_MODE": "disabled"}
    with open(err, "w") as err_file:
        process = subprocess.Popen(
            [*DARTS, "--log-dir", str(cwd / "logs"), *map(str, args)],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=err_file,
            env=env,
        )
    return process, err


def _wait_for(path: Path, process: subprocess.Popen, err: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.is_file():
        assert process.poll() is None, err.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_saves_last_checkpoint_and_run_json_and_resume_finishes(
    tiny_train_data: Path, tmp_path: Path, signum: int, code: int
) -> None:
    art = tmp_path / "artifacts"
    run = ["--run-name", "sig", "--run-id", "sigrun01"]
    args = ["train-smp", "--train-data-dir", tiny_train_data, "--artifact-dir", art, *run, *TINY]
    args += ["--max-epochs", "4"]
    process, err = _start(args, tmp_path, "first")
    run_dir = art / "sig" / "sigrun01"
    _wait_for(run_dir / "checkpoints" / "last.ckpt", process, err)  # epoch 0 validated: epoch 1 runs
    process.send_signal(signum)
    assert process.wait(timeout=120) == code, err.read_text()[-3000:]
    stderr = err.read_text()
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted"
    assert info["epochs_trained"] < 4
    last = run_dir / "checkpoints" / "last.ckpt"
    assert run_dir / info["last_checkpoint"] == last  # recorded relative to the run folder
    saved = torch.load(last, map_location="cpu", weights_only=True)
    assert saved["epoch"] == info["epochs_trained"]
    (line,) = [line for line in stderr.splitlines() if "resume with:" in line]
    assert signal.Signals(signum).name in line and "Traceback" not in stderr
    command = shlex.split(line.split("resume with: ", 1)[1])
    assert command[:2] == ["darts", "train-smp"] and command[-2:] == ["--continue-from-checkpoint", str(last)]

    resumed, err2 = _start(command[1:], tmp_path, "resumed")
    assert resumed.wait(timeout=600) == 0, err2.read_text()[-3000:]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["epochs_trained"] == 4
    assert torch.load(last, map_location="cpu", weights_only=True)["epoch"] >= 3


def test_resume_auto_continues_a_requeued_run_or_starts_it(tiny_train_data: Path, tmp_path: Path) -> None:
    art = tmp_path / "artifacts"
    args = ["train-smp", "--train-data-dir", tiny_train_data, "--artifact-dir", art, *TINY]
    args += ["--run-name", "req", "--run-id", "requeue1", "--resume", "auto"]
    run_dir = art / "req" / "requeue1"
    process, err = _start([*args, "--max-epochs", "4"], tmp_path, "first")
    _wait_for(run_dir / "checkpoints" / "last.ckpt", process, err)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 143, err.read_text()[-3000:]
    stopped_at = json.loads((run_dir / "run.json").read_text())["epochs_trained"]

    again, err2 = _start([*args, "--max-epochs", "4"], tmp_path, "requeued")  # the same command
    assert again.wait(timeout=600) == 0, err2.read_text()[-3000:]
    assert f"resume auto: continuing run req/requeue1 from {run_dir / 'checkpoints' / 'last.ckpt'}" in (
        err2.read_text()
    )
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["epochs_trained"] == 4
    assert stopped_at < 4

    done, err3 = _start([*args, "--max-epochs", "4"], tmp_path, "finished")  # requeued after the end
    assert done.wait(timeout=300) == 0, err3.read_text()[-3000:]
    assert "finished before" in err3.read_text()
