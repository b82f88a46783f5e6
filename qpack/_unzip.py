"""One entry of a zip archive read whole, inflated with zlib-ng rather than CPython's zlib.

`qpack install` inflates every file of the wheels it installs; on the benchmark machine CPython's
zlib (1.2.13) inflates module code at about 170 MB/s and zlib-ng (already qpack's deflate, see
`writers/_deflate.py`) at about 320 MB/s: 17 ms less in an install of ten module wheels (0.3 s).

zipfile still reads the archive: its central directory gives each entry's `ZipInfo` (name,
offsets, sizes, CRC-32, method), and `install` checks the names and types from there. This module
reads only what `ZipFile.open` reads after that, by the zip specification (APPNOTE.TXT 4.3.7, the
local file header): the header before the entry's data, whose name must be the central
directory's, then exactly `compress_size` bytes. The output must come to `file_size` bytes with
the central directory's CRC-32, as zipfile requires."""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO, cast

from zlib_ng import zlib_ng

# The local file header (APPNOTE 4.3.7), as the wheel writer writes it too (writers/_zip.py):
# signature, version needed, flags, method, time, date, CRC-32, compressed and uncompressed
# sizes, name length, extra field length.
LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
LOCAL_SIGNATURE = 0x04034B50
_ENCRYPTED = 0x1
_PATCHED = 0x20  # compressed patched data
_STRONG_ENCRYPTION = 0x40
_UTF8_NAME = 0x800
# zlib-ng's stub declares its error an instance (`error: Exception`); it is a class.
_INFLATE_ERROR = cast("type[Exception]", zlib_ng.error)


def read_entry(archive: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    """The bytes of the entry `info` (from the `ZipFile` of the same file) of the open archive;
    raises zipfile.BadZipFile where `ZipFile.read` would refuse the entry."""
    name = info.filename
    if info.flag_bits & (_ENCRYPTED | _PATCHED | _STRONG_ENCRYPTION):
        raise zipfile.BadZipFile(f"{name}: encrypted or patched data (not in a wheel)")
    archive.seek(info.header_offset)
    header = archive.read(LOCAL_HEADER.size)
    if len(header) != LOCAL_HEADER.size:
        raise zipfile.BadZipFile(f"{name}: truncated local file header")
    fields = LOCAL_HEADER.unpack(header)
    if fields[0] != LOCAL_SIGNATURE:
        raise zipfile.BadZipFile(f"{name}: bad magic number for its local file header")
    name_length, extra_length = fields[9], fields[10]
    local_name = archive.read(name_length)
    # As zipfile compares them: the central directory's name, encoded as its flags say.
    encoding = "utf-8" if info.flag_bits & _UTF8_NAME else "cp437"
    if local_name != info.orig_filename.encode(encoding):
        raise zipfile.BadZipFile(f"file name in directory {name!r} and header {local_name!r} differ")
    archive.seek(extra_length, 1)
    data = archive.read(info.compress_size)
    if len(data) != info.compress_size:
        raise zipfile.BadZipFile(f"{name}: truncated data")
    if info.compress_type == zipfile.ZIP_STORED:
        out = data
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        out = _inflate(name, data, info.file_size)
    else:
        raise zipfile.BadZipFile(
            f"{name}: compression method {info.compress_type} (a wheel deflates or stores)"
        )
    if len(out) != info.file_size:
        raise zipfile.BadZipFile(f"{name}: {len(out)} bytes, the central directory says {info.file_size}")
    if zlib_ng.crc32(out) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {name!r}")
    return out


def _inflate(name: str, data: bytes, size: int) -> bytes:
    """Raw deflate data to at most `size` bytes: more, or data left over, is a damaged entry."""
    d = zlib_ng.decompressobj(-15)
    try:
        # One byte of room past `size`: the end of the stream is reached within it, or the
        # entry holds more than it says (never inflated further: no zip bomb).
        out = d.decompress(data, size + 1)
    except _INFLATE_ERROR as e:
        raise zipfile.BadZipFile(f"{name}: cannot inflate ({e})") from None
    if not d.eof or d.unconsumed_tail or d.unused_data or len(out) > size:
        raise zipfile.BadZipFile(f"{name}: deflate data does not end where the central directory says")
    return out
