"""Is a file a checkpoint at all? A cheap look before torch or Lightning read it.

torch.save writes a zip archive; an empty, truncated or unrelated file is reported as "not a
checkpoint: PATH (why)" instead of torch's internal message (an ``EOFError`` with no text, or
``KeyError: 101`` for a text file).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from darts_core.errors import CheckpointError
from darts_train.errors import RunNotFoundError


def check_checkpoint_file(path: Path) -> None:
    """Raise unless ``path`` is a non-empty torch zip archive (what torch.save / Lightning write)."""
    path = Path(path)
    if not path.is_file():
        raise RunNotFoundError(f"checkpoint {path} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"not a checkpoint: {path} (an empty file)")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as head:
            start = head.read(4)
        why = "a text file" if start.isascii() and start.decode("ascii").isprintable() else "no torch archive"
        raise CheckpointError(f"not a checkpoint: {path} ({why} of {size} bytes; truncated or another file?)")


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint dictionary of ``path`` (weights_only: no code runs), or a CheckpointError."""
    import torch

    check_checkpoint_file(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated archive, foreign pickle, ...
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise CheckpointError(f"not a checkpoint: {path} (torch cannot read it: {reason})") from err
    if not isinstance(data, dict):
        raise CheckpointError(f"not a checkpoint: {path} (holds a {type(data).__name__}, not a dictionary)")
    return data
