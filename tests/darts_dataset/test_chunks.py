"""The direct chunk reader gives exactly zarr's values for every codec layout it accepts."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
import zarr

from darts_dataset._chunks import ChunkReader, MissingChunkError

LAYOUTS = [
    pytest.param(
        2, numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE), id="v2-blosc-lz4"
    ),
    pytest.param(2, numcodecs.Zstd(), id="v2-zstd"),
    pytest.param(2, None, id="v2-raw"),
    pytest.param(3, "auto", id="v3-default"),
    pytest.param(3, None, id="v3-raw"),
    pytest.param(3, zarr.codecs.BloscCodec(cname="lz4"), id="v3-blosc"),
    pytest.param(3, zarr.codecs.GzipCodec(), id="v3-gzip"),
]


def _write(path, fmt, compressors, data):
    group = zarr.open_group(path, mode="w", zarr_format=fmt)
    arr = group.create_array(
        "x", shape=data.shape, chunks=(1, *data.shape[1:]), dtype=data.dtype, compressors=compressors
    )
    arr[:] = data
    return zarr.open_group(path, mode="r")["x"]


@pytest.mark.parametrize(("fmt", "compressors"), LAYOUTS)
def test_reads_equal_zarr_and_detect_damage(tmp_path, fmt, compressors):
    data = np.random.default_rng(0).random((4, 3, 8, 8), dtype=np.float32)
    data[2] = 0  # an all-fill chunk: zarr 3 does not write it
    reader = ChunkReader(_write(tmp_path / "a.zarr", fmt, compressors, data))
    assert reader.direct
    for i in range(4):
        out = reader.read(i)
        assert out.flags.writeable and out.dtype == np.float32
        np.testing.assert_array_equal(out, data[i])
    if not reader.chunk_file(2).exists():
        with pytest.raises(MissingChunkError):
            reader.read(2, strict=True)
    raw = reader.chunk_file(1).read_bytes()
    reader.chunk_file(1).write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="chunk file"):
        reader.read(1)


def test_other_chunking_falls_back_to_zarr(tmp_path):
    data = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    group = zarr.open_group(tmp_path / "b.zarr", mode="w", zarr_format=3)
    arr = group.create_array("y", shape=data.shape, chunks=(1, 2, 4), dtype="uint8")
    arr[:] = data
    reader = ChunkReader(arr)
    assert not reader.direct
    np.testing.assert_array_equal(reader.read(1), data[1])


@pytest.mark.parametrize("separator", ["/", "."])
def test_one_chunk_per_band_is_read_directly(tmp_path, separator):
    """darts-nextgen writes x with chunks (1, 1, h, w) and Blosc lz4: one file per band."""
    from zarr.codecs import BloscCodec

    data = np.random.default_rng(0).random((3, 4, 8, 8), dtype=np.float32)
    group = zarr.open_group(tmp_path / "data.zarr", mode="w", zarr_format=3)
    arr = group.create_array(
        "x",
        shape=data.shape,
        chunks=(1, 1, 8, 8),
        dtype="float32",
        compressors=BloscCodec(cname="lz4", clevel=9),
        chunk_key_encoding={"name": "default", "separator": separator},
    )
    arr[:] = data
    reader = ChunkReader(arr)
    assert reader.direct
    for i in range(3):
        np.testing.assert_array_equal(reader.read(i, strict=True), data[i])
    band_file = tmp_path / "data.zarr" / "x" / arr.metadata.encode_chunk_key((1, 2, 0, 0))
    band_file.unlink()
    with pytest.raises(MissingChunkError, match="missing"):
        reader.read(1, strict=True)
    expected = data[1].copy()
    expected[2] = 0.0
    np.testing.assert_array_equal(reader.read(1), expected)
