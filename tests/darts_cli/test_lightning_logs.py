"""Lightning's log lines reach the console once (not by its handler and ours) and the log file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from darts_cli.logs import command_logging


def test_a_lightning_message_is_printed_once(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    import lightning  # noqa: F401 - adds Lightning's own console handler

    with command_logging(tmp_path, "train-smp") as log_file:
        logging.getLogger("lightning.pytorch.utilities.rank_zero").info("GPU available: False, used: False")
        logging.getLogger("darts_train.train").info("run a/b in c")
    err = capfd.readouterr().err
    assert err.count("GPU available: False, used: False") == 1, err
    assert err.count("run a/b in c") == 1
    assert "GPU available: False, used: False" in Path(log_file).read_text()
