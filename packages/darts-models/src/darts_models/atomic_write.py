"""Write model and checkpoint files atomically: a temp file in the same folder, then ``os.replace``.

A crash or a full disk never leaves a truncated file under the final name, and a file that is
replaced stays whole until the new one is complete. ENOSPC becomes :class:`DiskFullError`
("disk full at PATH"); the temp file is removed on every failure.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from darts_models.errors import DiskFullError


@contextmanager
def temp_beside(path: Path) -> Iterator[Path]:
    """A fresh temp path in ``path``'s folder, removed afterwards unless it was renamed; ENOSPC inside
    the block is raised as :class:`DiskFullError` naming ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise DiskFullError(f"disk full at {path}: free space there and run again") from err
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], object], *, overwrite: bool = True
) -> Path:
    """Call ``write`` with a binary file open on a temp name beside ``path``; rename it to ``path``.

    With ``overwrite=False`` the complete file is linked to ``path``, which raises
    :class:`FileExistsError` when ``path`` appeared meanwhile instead of replacing it.
    """
    path = Path(path)
    with temp_beside(path) as tmp:
        with tmp.open("wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    return path


def save_torch_atomically(obj: Any, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (see :func:`write_atomically`)."""
    import torch

    return write_atomically(path, lambda fh: torch.save(obj, fh), overwrite=overwrite)


def link_or_copy_atomically(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Make ``path`` a hard link to ``source`` (one file's bytes, two names); copy across file systems.

    ``path`` is replaced atomically. Files written with :func:`write_atomically` later get a new
    inode, so overwriting either name never changes the other.
    """
    source, path = Path(source), Path(path)
    with temp_beside(path) as tmp:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:  # another file system, or links not supported
            shutil.copyfile(source, tmp)
        os.replace(tmp, path)
    return path


__all__ = ["link_or_copy_atomically", "save_torch_atomically", "write_atomically"]
