"""The ZIP writer under the wheels, read back by the standard library's independent reader."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

import pytest

from qpack.writers._zip import ZipWriter


def deflate(data: bytes) -> tuple[bytes, int]:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data)


@pytest.mark.parametrize("force_zip64", [False, True])
def test_entries_read_back_with_modes_times_and_utf8(tmp_path: Path, force_zip64: bool) -> None:
    files = {
        "a/bin/tool": (b"\x7fELF" + bytes(range(256)) * 50, 0o755),
        "a/donn\u00e9es.txt": (b"caf\xc3\xa9\n", 0o644),
        "empty": (b"", 0o600),
    }
    path = tmp_path / "x.zip"
    with path.open("wb") as f, ZipWriter(f, force_zip64=force_zip64) as zw:
        for name, (data, mode) in files.items():
            comp, crc = deflate(data)
            zw.add(
                name,
                mode,
                (2023, 4, 5, 6, 7, 8),
                crc=crc,
                size=len(data),
                compress_size=len(comp),
                data=io.BytesIO(comp),
            )
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == list(files)
        for info in zf.infolist():
            data, mode = files[info.filename]
            assert zf.read(info) == data
            assert info.external_attr >> 16 == 0o100000 | mode
            assert info.date_time == (2023, 4, 5, 6, 7, 8)
            assert info.create_system == 3


def test_refuses_duplicates_unsafe_names_and_wrong_sizes(tmp_path: Path) -> None:
    comp, crc = deflate(b"x")
    with (tmp_path / "y.zip").open("wb") as f:
        zw = ZipWriter(f)
        zw.add(
            "a", 0o644, (1980, 1, 1, 0, 0, 0), crc=crc, size=1, compress_size=len(comp), data=io.BytesIO(comp)
        )
        with pytest.raises(ValueError, match="duplicate"):
            zw.add(
                "a",
                0o644,
                (1980, 1, 1, 0, 0, 0),
                crc=crc,
                size=1,
                compress_size=len(comp),
                data=io.BytesIO(comp),
            )
        for bad in ("../x", "/abs", "a//b", "a/./b", "a\\b"):
            with pytest.raises(ValueError, match="unsafe"):
                zw.add(
                    bad,
                    0o644,
                    (1980, 1, 1, 0, 0, 0),
                    crc=crc,
                    size=1,
                    compress_size=len(comp),
                    data=io.BytesIO(comp),
                )
        with pytest.raises(ValueError, match="announced"):
            zw.add(
                "b",
                0o644,
                (1980, 1, 1, 0, 0, 0),
                crc=crc,
                size=1,
                compress_size=len(comp) + 1,
                data=io.BytesIO(comp),
            )
