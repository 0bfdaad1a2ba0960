"""The one exit-code table (darts_cli.errors) holds for every class of failure, sweep files included."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from darts_cli.app import main
from darts_cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_UNEXPECTED, EXIT_USAGE
from darts_cli.options import darts_command
from darts_cli.registry import COMMANDS, CommandInfo
from darts_core.errors import DartsInputError, SignalInterruptError


@darts_command()
def stopped() -> int:
    """A long job stopped by SIGTERM."""
    raise SignalInterruptError(signal.SIGTERM, "interrupted by SIGTERM: resume with: darts x")


@darts_command()
def bad_data() -> int:
    """A darts error."""
    raise DartsInputError("patch 3 of /d/cross-val.zarr: label value 5 (expected 0, 1 or 2)")


@darts_command()
def bug() -> int:
    """Not a darts error."""
    raise ZeroDivisionError("division by zero")


COMMANDS_HERE = (
    CommandInfo("stopped", stopped, "SIGTERM"),
    CommandInfo("bad-data", bad_data, "DartsError"),
    CommandInfo("bug", bug, "bug"),
)


def code_of(workdir: Path, *args: str, commands: tuple[CommandInfo, ...] = COMMANDS_HERE) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(workdir / "logs"), *args], commands=commands)
    return int(exit_info.value.code or 0)


def test_the_table() -> None:
    assert (EXIT_ERROR, EXIT_USAGE, EXIT_UNEXPECTED, EXIT_INTERRUPTED, EXIT_TERMINATED) == (
        1,
        2,
        70,
        130,
        143,
    )


def test_each_class_has_its_code(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert code_of(workdir, "stopped") == 143
    assert "resume with: darts x" in capsys.readouterr().err
    assert code_of(workdir, "bad-data") == 1
    assert code_of(workdir, "bug") == 70
    assert code_of(workdir, "stopped", "--no-such-option", "1") == 2


def test_a_broken_sweep_file_is_a_usage_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = workdir / "sweep.yaml"
    sweep.write_text(
        "method: random\nmetric: {name: val/JaccardIndex}\nparameters: {learning_rate: {min: 1}}\n"
    )
    data = workdir / "data"
    data.mkdir()
    args = ["optuna-sweep-smp", "--train-data-dir", str(data), "--sweep-config", str(sweep)]
    assert code_of(workdir, *args, commands=COMMANDS) == 2
    assert "learning_rate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("signum", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")]
)
def test_a_signal_in_any_running_command_exits_with_its_code(
    tmp_path: Path, signum: int, code: int, name: str
) -> None:
    script = (
        "import time\n"
        "from darts_cli.app import main\n"
        "from darts_cli.options import darts_command\n"
        "from darts_cli.registry import CommandInfo\n"
        "@darts_command()\n"
        "def wait() -> int:\n"
        "    print('started', flush=True)\n"
        "    time.sleep(60)\n"
        "    return 0\n"
        "main(['wait'], commands=(CommandInfo('wait', wait, 'sleep'),))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "started"
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == code
    assert "interrupted" in err and "Traceback" not in err
