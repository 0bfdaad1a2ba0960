"""Paths that darts records in its files: relative to the recording file's folder when below it.

A training set's ``config.toml``, a run's ``run.json`` and similar files record paths. A path that
lies below the folder of the file that records it is written relative to that folder (POSIX
separators), so a copied or moved folder refers to its own contents; any other path is written
absolute. Readers resolve a recorded path with :func:`resolve_recorded` against the same folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def record_path(path: str | os.PathLike[str], base: str | os.PathLike[str]) -> str:
    """``path`` as it is recorded in a file inside ``base``: relative when below ``base``, else absolute."""
    absolute = Path(os.path.abspath(Path(path).expanduser()))
    root = Path(os.path.abspath(Path(base).expanduser()))
    if absolute == root or absolute.is_relative_to(root):
        return absolute.relative_to(root).as_posix() or "."
    return str(absolute)


def resolve_recorded(value: str | os.PathLike[str], base: str | os.PathLike[str]) -> Path:
    """The path a recorded ``value`` names: relative values resolve against ``base``."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(base) / path
