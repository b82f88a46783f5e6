"""A minimal ZIP writer (PKWARE APPNOTE 6.3) for entries deflated ahead of time.

The wheel writer deflates files on worker threads and appends them in a fixed order; the
standard library's ZipFile has no public way to append data that is already compressed, and
compressing twice would halve the throughput. The binary distribution format only needs
plain ZIP: local headers, the data, a central directory, ZIP64 records past 4 GiB or 65535
entries. Everything written here is read back by `zipfile`, `wheel unpack`, pip and installer
in the tests.
"""

from __future__ import annotations

import shutil
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

from qpack._unzip import LOCAL_HEADER, LOCAL_SIGNATURE

DEFLATED = 8
_LIMIT32 = 0xFFFFFFFF
_LIMIT16 = 0xFFFF
_UNIX = 3
_UTF8 = 0x800  # general purpose bit 11: the name is UTF-8


def dos_date_time(when: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = when
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


@dataclass(frozen=True)
class _Central:
    name: bytes
    flags: int
    method: int
    time: int
    date: int
    crc: int
    size: int
    compress_size: int
    offset: int
    external_attr: int


class ZipWriter:
    """Appends entries to a binary file opened for writing; `close()` writes the directory."""

    def __init__(self, fp: BinaryIO, *, force_zip64: bool = False) -> None:
        self.fp = fp
        self.force_zip64 = force_zip64
        self.entries: list[_Central] = []
        self.names: set[str] = set()
        self.offset = fp.tell()

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()

    def add(
        self,
        name: str,
        mode: int,
        when: tuple[int, int, int, int, int, int],
        *,
        crc: int,
        size: int,
        compress_size: int,
        data: IO[bytes],
        method: int = DEFLATED,
    ) -> None:
        """Append one regular file whose (compressed) bytes are read from `data`."""
        if name in self.names:
            raise ValueError(f"duplicate zip entry {name!r}")
        if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in name.split("/")):
            raise ValueError(f"unsafe zip entry name {name!r}")
        self.names.add(name)
        raw = name.encode("utf-8")
        flags = 0 if raw.isascii() else _UTF8
        dtime, ddate = dos_date_time(when)
        zip64 = self.force_zip64 or size >= _LIMIT32 or compress_size >= _LIMIT32
        extra = struct.pack("<HHQQ", 0x0001, 16, size, compress_size) if zip64 else b""
        header = LOCAL_HEADER.pack(
            LOCAL_SIGNATURE,
            45 if zip64 else 20,
            flags,
            method,
            dtime,
            ddate,
            crc,
            _LIMIT32 if zip64 else compress_size,
            _LIMIT32 if zip64 else size,
            len(raw),
            len(extra),
        )
        start = self.offset
        self.fp.write(header + raw + extra)
        shutil.copyfileobj(data, self.fp, 1 << 20)
        self.offset = self.fp.tell()
        written = self.offset - start - len(header) - len(raw) - len(extra)
        if written != compress_size:
            raise ValueError(f"zip entry {name!r}: {written} bytes of data, {compress_size} announced")
        attr = (stat.S_IFREG | (mode & 0o7777)) << 16
        self.entries.append(_Central(raw, flags, method, dtime, ddate, crc, size, compress_size, start, attr))

    def _central(self) -> Iterator[bytes]:
        for e in self.entries:
            fields = []
            if self.force_zip64 or e.size >= _LIMIT32:
                fields.append(e.size)
            if self.force_zip64 or e.compress_size >= _LIMIT32:
                fields.append(e.compress_size)
            if self.force_zip64 or e.offset >= _LIMIT32:
                fields.append(e.offset)
            extra = struct.pack(f"<HH{len(fields)}Q", 0x0001, 8 * len(fields), *fields) if fields else b""
            need = 45 if fields else 20
            yield (
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    (_UNIX << 8) | need,
                    need,
                    e.flags,
                    e.method,
                    e.time,
                    e.date,
                    e.crc,
                    _LIMIT32 if self.force_zip64 or e.compress_size >= _LIMIT32 else e.compress_size,
                    _LIMIT32 if self.force_zip64 or e.size >= _LIMIT32 else e.size,
                    len(e.name),
                    len(extra),
                    0,
                    0,
                    0,
                    e.external_attr,
                    _LIMIT32 if self.force_zip64 or e.offset >= _LIMIT32 else e.offset,
                )
                + e.name
                + extra
            )

    def close(self) -> None:
        start = self.offset
        for record in self._central():
            self.fp.write(record)
        end = self.fp.tell()
        count, size = len(self.entries), end - start
        if self.force_zip64 or count >= _LIMIT16 or start >= _LIMIT32 or size >= _LIMIT32:
            self.fp.write(
                struct.pack(
                    "<IQHHIIQQQQ", 0x06064B50, 44, (_UNIX << 8) | 45, 45, 0, 0, count, count, size, start
                )
            )
            self.fp.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
            self.fp.write(
                struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, _LIMIT16, _LIMIT16, _LIMIT32, _LIMIT32, 0)
            )
        else:
            self.fp.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, start, 0))
        self.fp.flush()
