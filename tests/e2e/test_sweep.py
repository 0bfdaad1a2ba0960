"""`darts optuna-sweep-smp` and `darts sweep-report` through the real entry point."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from darts_cli.app import main
from darts_test_support.paths import GUIDE_CONFIG_FILE, GUIDE_SWEEP_FILE


def darts(tmp_path: Path, *args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(tmp_path / "logs"), *args])
    return exit_info.value.code


def guide_config(tmp_path: Path) -> Path:
    """The guide's config.toml with its paths (and sweep-db) pointed into tmp_path."""
    text = GUIDE_CONFIG_FILE.read_text()
    text = text.replace("postgresql://pguser@localhost:5432/sweeps", f"{tmp_path}/sweeps.db")
    text = re.sub(
        r'(train-data-dir|artifact-dir) = "[^"]*"',
        lambda m: f'{m.group(1)} = "{tmp_path / m.group(1)}"',
        text,
    )
    text = text.replace(
        'sweep-config = "configs/planet-tcvis-sweep.yaml"',
        f'sweep-config = "{GUIDE_SWEEP_FILE}"',
    )
    (tmp_path / "train-data-dir").mkdir()
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_create_sweep_then_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    code = darts(
        tmp_path,
        "optuna-sweep-smp",
        "--train-data-dir",
        "data",
        "--sweep-config",
        str(GUIDE_SWEEP_FILE),
        "--artifact-dir",
        "art",
        "--n-folds",
        "3",
        "--max-epochs",
        "2",
        "--no-augment",
        "--bands",
        "blue",
        "red",
    )
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, out
    sweep_id = re.search(r"sweep id: (\S+) \(created", out).group(1)
    assert (tmp_path / "art" / sweep_id / "sweep.db").is_file()
    # the printed command of another runner parses and repeats the training options
    command = re.search(r"start another runner with: (darts .*) --sweep-device <DEVICE>", captured.err).group(
        1
    )
    tokens = shlex.split(command)
    assert tokens[tokens.index("--max-epochs") + 1] == "2" and "--no-augment" in tokens
    assert tokens[tokens.index("--bands") + 1 : tokens.index("--bands") + 3] == ["blue", "red"]
    assert darts(tmp_path, *tokens[1:]) == 2  # parsed; a sweep-id without a device is a usage error
    assert "was given without a device" in capsys.readouterr().err
    code = darts(
        tmp_path, "sweep-report", "--sweep-id", sweep_id, "--artifact-dir", "art", "--format", "json"
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["sweep_id"] == sweep_id and report["trials"] == []
    assert report["metric"] == "val0/JaccardIndex" and report["direction"] == "maximize"
    code = darts(
        tmp_path, "sweep-report", "--sweep-id", sweep_id, "--artifact-dir", "art", "--format", "html"
    )
    assert code == 0 and f"sweep {sweep_id}" in capsys.readouterr().out  # the text table
    assert "<h1>Sweep " in (tmp_path / "art" / sweep_id / "report" / "report.html").read_text()
    # the runner command with --retrain-best: parsed, refused while no trial is complete
    code = darts(tmp_path, *tokens[1:], "--sweep-device", "cpu", "--retrain-best")
    captured = capsys.readouterr()
    assert code != 0 and f"sweep {sweep_id} has no complete trial yet" in captured.out + captured.err


def test_guide_config_loads_and_sweep_id_needs_a_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    config = guide_config(tmp_path)
    code = darts(tmp_path, "--config-file", str(config), "optuna-sweep-smp")
    captured = capsys.readouterr()
    assert code == 2  # a usage error
    assert "sweep-id sweep-cv-large-planet was given without a device" in captured.out + captured.err


def test_bad_sweep_file_is_rejected_before_any_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "bad.yaml").write_text(
        "method: random\nmetric: {name: val/JaccardIndex}\nparameters:\n"
        "  learning_rate: {distribution: normal, mu: 0, sigma: 1}\n"
    )
    code = darts(
        tmp_path,
        "optuna-sweep-smp",
        "--train-data-dir",
        "data",
        "--sweep-config",
        "bad.yaml",
        "--artifact-dir",
        "art",
        "--sweep-device",
        "cpu",
    )
    captured = capsys.readouterr()
    assert code == 2  # sweep-file errors are usage errors
    assert (
        "parameter 'learning_rate': distribution 'normal' cannot be expressed" in captured.out + captured.err
    )
    assert not (tmp_path / "art").exists()
