"""Exit codes, messages and log files of `darts` command runs (in-process, through `main`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from darts_cli.app import main
from darts_cli.registry import COMMANDS


def log_files(workdir: Path) -> list[Path]:
    return sorted((workdir / "logs").glob("darts-*.log"))


def test_darts_error_is_one_line_and_exit_1(run_cli, workdir) -> None:
    result = run_cli("fail-darts")
    assert result.code == 1
    assert result.err.strip() == "ERROR scene /data/x.tif has no red band; expected blue, green, red, nir"
    assert "Traceback" in log_files(workdir)[-1].read_text()


def test_unexpected_error_points_to_the_log_file_with_the_traceback(run_cli, workdir) -> None:
    result = run_cli("fail-bug")
    assert result.code == 70
    assert "Traceback" not in result.err
    (log,) = log_files(workdir)
    assert "unexpected RuntimeError: a bug deep inside" in result.err and str(log) in result.err
    text = log.read_text()
    assert "Traceback" in text and 'raise RuntimeError("a bug deep inside")' in text


def test_ctrl_c_exits_130(run_cli) -> None:
    assert run_cli("interrupted").code == 130


def test_validation_error_from_a_library_exits_2(run_cli) -> None:
    result = run_cli("validate-late", "--train-data-dir", "d")
    assert result.code == 2
    assert "batch_size" in result.err and "\n" not in result.err.strip()


def test_each_run_gets_its_own_log_file_and_verbose_shows_debug(run_cli, workdir) -> None:
    run_cli("show-train", "--train-data-dir", "d")
    quiet = run_cli("show-train", "--train-data-dir", "d")
    loud = run_cli("-v", "show-train", "--train-data-dir", "d")
    assert "DEBUG" not in quiet.err and "DEBUG" in loud.err
    logs = log_files(workdir)
    assert len(logs) == 3 and all(p.name.startswith("darts-show-train-") for p in logs)
    assert "darts show-train --train-data-dir d" in logs[0].read_text()


def test_unknown_option_and_unknown_command_exit_2(run_cli) -> None:
    assert run_cli("show-train", "--no-such-option", "1").code == 2
    result = run_cli("no-such-command")
    assert result.code == 2 and "no-such-command" in result.err


# The commands of the workspace issue (plus sweep-report and validate-train-data of their issues).
REQUIRED_COMMANDS = (
    "preprocess-planet-train-data",
    "preprocess-s2-train-data",
    "validate-train-data",
    "train-smp",
    "test-smp",
    "convert-lightning-checkpoint",
    "export-model",
    "segment-planet-scenes",
    "segment-s2-scenes",
    "optuna-sweep-smp",
    "sweep-report",
    "env-info",
    "quickstart",
)


def test_every_required_command_is_registered() -> None:
    assert sorted(info.name for info in COMMANDS) == sorted(REQUIRED_COMMANDS)


def test_registry_targets_exist_and_help_is_one_line() -> None:
    import importlib

    names = [info.name for info in COMMANDS]
    assert len(set(names)) == len(names)
    for info in COMMANDS:
        module, _, attr = info.target.partition(":")
        func = getattr(importlib.import_module(module), attr)
        assert callable(func) and hasattr(func, "__darts_settings__"), info.name
        assert "\n" not in info.help
        model = func.__darts_settings__
        reserved = {"config_file", "log_dir", "verbose", "ctx", "help", "version"}
        assert not reserved & set(model.model_fields if model else ()), info.name


def test_command_module_that_fails_to_import_is_one_line_exit_70(workdir, capsys) -> None:
    from darts_cli.registry import CommandInfo

    broken = (CommandInfo("broken", "darts_cli_no_such_module:run", "cannot be imported"),)
    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(workdir / "logs"), "broken"], commands=broken)
    err = capsys.readouterr().err
    assert exit_info.value.code == 70
    assert "unexpected ImportError" in err and "darts_cli_no_such_module" in err
    assert "Traceback" not in err
    (log,) = log_files(workdir)
    assert "Traceback" in log.read_text()


def test_log_file_never_shows_the_password_of_a_url(run_cli, workdir) -> None:
    result = run_cli("show-sweep", "--sweep-db", "postgresql://pguser:s3cret-pw@db.example:5432/sweeps")
    assert result.code == 0 and result.config["sweep_db"].endswith("@db.example:5432/sweeps")
    (log,) = log_files(workdir)
    text = log.read_text()
    assert "postgresql://pguser:***@db.example:5432/sweeps" in text and "s3cret-pw" not in text
