"""Fast reads of one whole ``n=1`` chunk of a zarr array, straight from its file.

zarr's own indexing costs about a millisecond per call in Python overhead, which dominates the
read of a training patch. Training sets are written with chunks ``(1, *shape[1:])`` on a local
store, so one sample is one file: this module reads that file and decodes it with numcodecs into
a fresh, writable array. Arrays chunked ``(1, 1, *shape[2:])`` (one file per band, as
darts-nextgen writes ``x``) are read file by file the same way. Layouts it does not understand
(sharding, transposes, remote stores) fall back to zarr indexing, which gives identical values,
only slower.
"""

from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import zarr
from zarr.core.metadata import ArrayV2Metadata, ArrayV3Metadata

logger = logging.getLogger(__name__)

_V3_COMPRESSORS: dict[str, type] = {"zstd": numcodecs.Zstd, "blosc": numcodecs.Blosc, "gzip": numcodecs.GZip}


_SENTINEL = 987654321
_BAND_SENTINEL = 876543219


class MissingChunkError(LookupError):
    """A chunk file that a strict read expected does not exist."""


def _v3_plan(array: zarr.Array) -> tuple[np.dtype, list[Any]] | None:
    """Target dtype and numcodecs decoders (outermost first) for a v3 array, or None if unsupported."""
    if not isinstance(array.metadata, ArrayV3Metadata):
        return None
    codecs = list(array.metadata.codecs)
    if not codecs or type(codecs[0]).__name__ != "BytesCodec":
        return None
    endian = getattr(codecs[0], "endian", None)
    dtype = np.dtype(array.dtype)
    if endian is not None and dtype.itemsize > 1:
        dtype = dtype.newbyteorder("<" if getattr(endian, "value", endian) == "little" else ">")
    decoders = []
    for codec in codecs[1:]:
        name = type(codec).__name__.removesuffix("Codec").lower()
        if name not in _V3_COMPRESSORS:
            return None
        decoders.append(_V3_COMPRESSORS[name]())
    return dtype, decoders[::-1]


def _v2_plan(array: zarr.Array) -> tuple[np.dtype, list[Any]] | None:
    meta = array.metadata
    if not isinstance(meta, ArrayV2Metadata) or meta.order != "C":
        return None
    dtype = np.dtype(array.dtype)
    byteorder = getattr(meta.dtype, "endianness", None)
    if byteorder is not None and dtype.itemsize > 1:
        dtype = dtype.newbyteorder("<" if byteorder == "little" else ">")
    decoders = [meta.compressor] if meta.compressor is not None else []
    decoders += list(reversed(meta.filters or []))
    return dtype, decoders


class ChunkReader:
    """Read sample ``i`` (chunk ``(i, 0, ...)``) of an array chunked ``(1, *shape[1:])``."""

    def __init__(self, array: zarr.Array) -> None:
        self.array = array
        self.shape: tuple[int, ...] = tuple(array.shape[1:])
        self.dtype = np.dtype(array.dtype)
        self.fill_value = array.metadata.fill_value
        self._zeros = (0,) * (array.ndim - 1)
        self._dir: Path | None = None
        self._template: tuple[str, str] = ("", "")
        self._plan: tuple[np.dtype, list[Any]] | None = None
        reason = self._unsupported_reason()
        if reason is None:
            plan = _v3_plan(array) if array.metadata.zarr_format == 3 else _v2_plan(array)
            reason = "codecs not supported by the direct reader" if plan is None else None
            self._plan = plan
        self._bands = 0
        """> 0: chunks hold one band each (``(1, 1, ...)``), this many per sample."""
        if reason is None and isinstance(array.store, zarr.storage.LocalStore):
            self._dir = Path(array.store.root) / array.path
            # chunk keys as "<prefix><i><suffix>": cheaper per read than zarr's key encoder
            key = array.metadata.encode_chunk_key((_SENTINEL, *self._zeros))
            prefix, suffix = key.split(str(_SENTINEL))
            self._template = (f"{self._dir}{os.sep}{prefix}", suffix)
            if self._per_band():
                self._bands = int(array.shape[1])
                key = array.metadata.encode_chunk_key((_SENTINEL, _BAND_SENTINEL, *self._zeros[1:]))
                prefix, rest = key.split(str(_SENTINEL))
                middle, suffix = rest.split(str(_BAND_SENTINEL))
                self._band_template = (f"{self._dir}{os.sep}{prefix}", middle, suffix)
        else:
            logger.debug("array %s: reading through zarr (%s)", array.path, reason)

    def _per_band(self) -> bool:
        shape = self.array.shape
        return len(shape) > 2 and shape[1] > 1 and tuple(self.array.chunks) == (1, 1, *shape[2:])

    def _unsupported_reason(self) -> str | None:
        array = self.array
        if not isinstance(array.store, zarr.storage.LocalStore):
            return f"store {type(array.store).__name__} is not local"
        if tuple(array.chunks) != (1, *array.shape[1:]) and not self._per_band():
            return f"chunks {array.chunks} are neither (1, *shape[1:]) nor (1, 1, *shape[2:])"
        return None

    @property
    def direct(self) -> bool:
        """True when chunks are read from their files without zarr."""
        return self._dir is not None

    def chunk_file(self, i: int) -> Path | None:
        """Path of sample ``i``'s chunk file (None when reading through zarr)."""
        if self._dir is None:
            return None
        return Path(self._path(i))

    def _path(self, i: int) -> str:
        return f"{self._template[0]}{i}{self._template[1]}"

    def read(self, i: int, strict: bool = False) -> np.ndarray:
        """Sample ``i`` as a writable array of ``shape[1:]``.

        A chunk file that does not exist means "all fill value" in zarr (zarr skips writing
        chunks equal to the fill value); with ``strict`` it raises :class:`MissingChunkError`.
        A corrupt or truncated chunk file raises ValueError naming the file.
        """
        if self._dir is None or self._plan is None:
            return np.array(self.array[i], dtype=self.dtype)
        dtype, decoders = self._plan
        out = np.empty(self.shape, dtype=dtype)
        if self._bands:
            prefix, middle, suffix = self._band_template
            for b in range(self._bands):
                path = f"{prefix}{i}{middle}{b}{suffix}"
                if not self._read_chunk(path, decoders, out[b], strict):
                    out[b] = self.fill_value
        elif not self._read_chunk(self._path(i), decoders, out, strict):
            return np.full(self.shape, self.fill_value, dtype=self.dtype)
        return out if dtype.isnative else out.astype(dtype.newbyteorder("="))

    @staticmethod
    def _read_chunk(path: str, decoders: list[Any], out: np.ndarray, strict: bool) -> bool:
        """Decode the chunk file ``path`` into ``out``; False when it does not exist (fill value)."""
        out_bytes = out.reshape(-1).view(np.uint8)
        try:
            if decoders:
                _decode_into(_read_file(path), decoders, out_bytes, path)
            else:
                _read_into(path, out_bytes)
        except FileNotFoundError:
            if strict:
                raise MissingChunkError(f"chunk file {path} is missing") from None
            return False
        return True


def _read_into(path: str, out: np.ndarray) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        n = os.readv(fd, [out.data])
        extra = os.read(fd, 1) if n == out.nbytes else b""
    finally:
        os.close(fd)
    if n != out.nbytes or extra:
        raise ValueError(f"chunk file {path} holds {os.path.getsize(path)} bytes, expected {out.nbytes}")


def _read_file(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size)
        while len(data) < size:  # a short read is rare on local files, but allowed
            more = os.read(fd, size - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    return data


def _check_blosc_frame(buf: Any) -> None:
    """Blosc decodes a truncated frame without complaint: compare its header with the buffer size."""
    size = memoryview(buf).nbytes
    if size < 16:
        raise ValueError(f"blosc frame of {size} bytes is shorter than its 16-byte header")
    cbytes = int(np.frombuffer(memoryview(buf)[12:16], dtype="<u4")[0])
    if cbytes != size:
        raise ValueError(f"blosc frame holds {size} bytes but its header says {cbytes}")


def _decode_into(raw: bytes, decoders: list[Any], out: np.ndarray, path: str) -> None:
    buf: Any = raw
    try:
        for k, codec in enumerate(decoders):
            if isinstance(codec, numcodecs.Blosc):
                _check_blosc_frame(buf)
            buf = codec.decode(buf, out=out) if k == len(decoders) - 1 else codec.decode(buf)
    except (RuntimeError, EOFError, zlib.error, ValueError) as err:  # how numcodecs reports corrupt input
        raise ValueError(
            f"chunk file {path} cannot be decoded ({err}); the file is corrupt or truncated"
        ) from err
    if buf is not None and not np.shares_memory(np.asarray(buf), out):
        flat = np.frombuffer(buf, dtype=np.uint8)
        if flat.size != out.nbytes:
            raise ValueError(f"chunk file {path} decodes to {flat.size} bytes, expected {out.nbytes}")
        out[:] = flat
