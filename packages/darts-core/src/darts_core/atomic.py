"""Atomic writes: every darts file or folder is written under a temp name beside it, then renamed.

One scheme for every package: the temp name of ``out/name.ext`` is ``out/.name.partial-1a2b3c4d.ext``
(hidden, marked with :data:`PARTIAL_MARK`, the suffix kept so writers that pick a format by suffix
still work). A crash or a full disk never leaves a half-written file under the final name, and a file
that is replaced stays whole until the new one is complete. ENOSPC inside a block becomes
:class:`~darts_core.errors.DiskFullError` ("disk full at PATH"); the temp file or folder is removed on
every failure.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from darts_core.errors import DiskFullError

PARTIAL_MARK = ".partial"
"""Part of every temp name (``.name.partial-<hex>.ext``); :func:`find_partials` looks for it."""


def partial_path(path: str | os.PathLike[str]) -> Path:
    """A fresh temp name beside ``path``: ``.{stem}.partial-{8 hex}{suffix}`` in the same folder."""
    path = Path(path)
    return path.with_name(f".{path.stem}{PARTIAL_MARK}-{uuid.uuid4().hex[:8]}{path.suffix}")


def find_partials(folder: str | os.PathLike[str]) -> list[Path]:
    """Temp files and folders that an interrupted atomic write left in ``folder`` (sorted)."""
    return sorted(Path(folder).glob(f".*{PARTIAL_MARK}*"))


def remove_path(path: Path) -> None:
    """Remove a file, link or folder tree at ``path``; nothing when it does not exist."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def temp_beside(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A fresh temp path (not created) in ``path``'s folder, removed afterwards unless it was renamed
    (with any side file a writer left beside it, e.g. ``-journal``).

    The folder is created when missing. ENOSPC inside the block is raised as :class:`DiskFullError`
    naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    try:
        yield tmp
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise DiskFullError(f"disk full at {path}: free space there and run again") from err
        raise
    finally:
        for leftover in [tmp, *tmp.parent.glob(f"{tmp.name}*")]:  # also GDAL / SQLite side files
            remove_path(leftover)


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temp path beside ``path``; write a file there; it is renamed to ``path`` when the block ends.

    With ``overwrite=False`` the complete file is linked to ``path``, which raises
    :class:`FileExistsError` when ``path`` appeared meanwhile instead of replacing it.
    """
    path = Path(path)
    with temp_beside(path) as tmp:
        yield tmp
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)


@contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp folder path (not created) beside ``path``; it replaces ``path`` when the block ends.

    For zarr stores and other folders: an existing ``path`` is first renamed aside, then deleted once
    the new folder is in place, so a crash leaves either the old or the new folder under the name.
    """
    path = Path(path)
    with temp_beside(path) as tmp:
        yield tmp
        replace_dir(tmp, path)


def replace_dir(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Rename the complete folder ``source`` to ``path``; an existing ``path`` is renamed aside first and
    deleted after, so a crash leaves either the old or the new folder under the name."""
    source, path = Path(source), Path(path)
    if path.exists():
        with temp_beside(path) as old:
            path.rename(old)
            source.rename(path)
    else:
        source.rename(path)
    return path


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], object], *, overwrite: bool = True
) -> Path:
    """Call ``write`` with a binary file open on a temp name beside ``path``; rename it to ``path``.

    The file is flushed to disk before the rename. ``overwrite``: see :func:`atomic_path`.
    """
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp, tmp.open("wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomically`)."""
    return write_atomically(path, lambda fh: fh.write(data))


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`write_atomically`)."""
    return write_bytes_atomically(path, text.encode("utf-8"))


def link_or_copy_atomically(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Make ``path`` a hard link to ``source`` (one file's bytes, two names); copy across file systems.

    ``path`` is replaced atomically. Files written with :func:`write_atomically` later get a new
    inode, so overwriting either name never changes the other.
    """
    source, path = Path(source), Path(path)
    with atomic_path(path) as tmp:
        try:
            os.link(source, tmp)
        except OSError:  # another file system, or links not supported
            shutil.copyfile(source, tmp)
    return path


__all__ = [
    "PARTIAL_MARK",
    "atomic_dir",
    "atomic_path",
    "find_partials",
    "link_or_copy_atomically",
    "partial_path",
    "remove_path",
    "replace_dir",
    "temp_beside",
    "write_atomically",
    "write_bytes_atomically",
    "write_text_atomically",
]
