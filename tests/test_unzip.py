"""qpack._unzip.read_entry (what `qpack install` inflates wheels with, through zlib-ng) against
zipfile: the same bytes for every entry, and a refusal wherever zipfile refuses or an entry
holds other bytes than its central directory says."""

from __future__ import annotations

import io
import os
import random
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from qpack._unzip import read_entry

from .test_install import demo_wheels

NAME = "pkg-1.0.data/data/lib/prog/mod.so"


def archive(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def read_all(data: bytes) -> dict[str, bytes]:
    f = io.BytesIO(data)
    with zipfile.ZipFile(f) as zf:
        return {i.filename: read_entry(f, i) for i in zf.infolist()}


def payload(n: int, seed: int) -> bytes:
    """Bytes that deflate like code: runs of repeats mixed with noise."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < n:
        out += rng.randbytes(rng.randrange(1, 64)) * rng.randrange(1, 20)
    return bytes(out[:n])


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_every_entry_reads_as_zipfile_reads_it(method: int) -> None:
    files = {f"d/f{n}": payload(n, n) for n in (0, 1, 100, 65536, 1 << 20, (1 << 20) + 17)}
    files["d/\u00e9t\u00e9.txt"] = b"utf-8 name"  # flag bit 11
    data = archive(files, method)
    assert read_all(data) == files
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == files


def test_the_wheels_qpack_writes_read_as_zipfile_reads_them(
    demo_build: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    wheels = sorted(demo_wheels(demo_build, tmp_path_factory).glob("*.whl"))
    assert wheels
    for w in wheels:
        with w.open("rb") as f, zipfile.ZipFile(f) as zf:
            for i in zf.infolist():
                assert read_entry(f, i) == zf.read(i), (w.name, i.filename)


def _offsets(data: bytes) -> tuple[zipfile.ZipInfo, int]:
    """The entry NAME and where its deflated bytes start."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(NAME)
    n, m = struct.unpack_from("<2H", data, info.header_offset + 26)
    return info, info.header_offset + 30 + n + m


def test_a_damaged_byte_of_deflated_data_is_refused() -> None:
    data = bytearray(archive({NAME: payload(200_000, 1)}))
    info, start = _offsets(bytes(data))
    refused = 0
    for at in range(start, start + info.compress_size, max(1, info.compress_size // 50)):
        damaged = bytearray(data)
        damaged[at] ^= 0x5A
        with pytest.raises(zipfile.BadZipFile):
            read_all(bytes(damaged))
        with (
            zipfile.ZipFile(io.BytesIO(bytes(damaged))) as zf,
            pytest.raises((zipfile.BadZipFile, zlib.error)),
        ):
            zf.read(NAME)  # zipfile refuses it too
        refused += 1
    assert refused >= 50


def test_a_local_header_naming_another_file_is_refused() -> None:
    data = bytearray(archive({NAME: b"x" * 100}))
    info, _ = _offsets(bytes(data))
    at = info.header_offset + 30
    data[at : at + 3] = b"PKG"  # same length, another name than the central directory's
    with pytest.raises(zipfile.BadZipFile, match="differ"):
        read_all(bytes(data))


def test_an_entry_larger_than_its_central_directory_says_is_not_inflated_past_it() -> None:
    """A zip bomb: 64 MiB of zeros declared as 1 KiB; the reader stops one byte past 1 KiB."""
    big = bytes(64 << 20)
    data = bytearray(archive({NAME: big}))
    # The central directory's uncompressed size (offset 24 of its record) says 1024.
    central = bytes(data).rindex(b"PK\x01\x02")
    struct.pack_into("<L", data, central + 24, 1024)
    f = io.BytesIO(bytes(data))
    with zipfile.ZipFile(f) as zf:
        info = zf.getinfo(NAME)
    tracemalloc.start()
    try:
        with pytest.raises(zipfile.BadZipFile, match="does not end where"):
            read_entry(f, info)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(data) + (1 << 20), peak  # the compressed bytes read, never the 64 MiB


def test_a_truncated_archive_is_refused(tmp_path: Path) -> None:
    data = archive({NAME: payload(100_000, 2)})
    info, start = _offsets(data)
    path = tmp_path / "cut.whl"
    path.write_bytes(data)
    with path.open("rb") as f, zipfile.ZipFile(f) as zf:
        entry = zf.getinfo(NAME)
        os.truncate(path, start + info.compress_size // 2)  # after zipfile read the directory
        with pytest.raises(zipfile.BadZipFile, match="truncated"):
            read_entry(f, entry)
