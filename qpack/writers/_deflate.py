"""Raw deflate for the wheel writer, through zlib-ng, and identical contents deflated once.

Measured on this project's benchmark machine (2-core Xeon with AVX2; user+system CPU seconds of one
thread over a 8.7 MB executable and 40 modules of the synthetic build; README "Performance"):

| implementation (PyPI)      | level | MB/s    | compressed / original |
|----------------------------|-------|---------|-----------------------|
| CPython's zlib (1.2.13)    | 6     | 16-18   | 0.395-0.412           |
| zlib-ng 1.1.0 (zlib-ng 2.3.3) | 6  | 35-45   | 0.408-0.425           |
| isal 1.9.1 (ISA-L)         | 3 (its highest) | 190-220 | 0.436-0.452  |

zlib-ng at the level asked for (`--compression-level`, default 6, the level `zip -6` and
CPython's zipfile use) deflates 2.2-2.6 times faster than CPython's zlib for 3% more bytes;
ISA-L would be faster still but has no level above 3, so `--compression-level 6` would quietly
mean "level 3, 10% larger" and levels 7-9 nothing at all. Both write standard deflate that
every zip reader, pip and installer inflate (the tests unpack every wheel with `zipfile`).

The bytes zlib-ng writes are fixed by its version (and the level): since zlib-ng 2.2 every CPU
uses the same hash (its SSE4.2 and ARM CRC hash variants were removed), and its SIMD match
finders compute the same match lengths as the portable one. So a wheel's bytes depend on the
installed `zlib-ng` package (the zlib-ng it bundles), which README "Performance" names.

`Shared` deflates a content that several entries of one run hold (Debian's `usr/bin/kvm` is a
copy of `qemu-system-x86_64`; a symlink becomes a copy of its target) once: the first entry to
start deflates it and the others wait for its bytes instead of deflating them again. Deflate is
deterministic, so the bytes are the same whether an entry was deflated or replayed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from zlib_ng import zlib_ng

LIBRARY = f"zlib-ng {zlib_ng.ZLIBNG_VERSION}"
BLOCK = 1 << 20  # bytes handed to zlib-ng at a time (the wheel writer reads 1 MiB chunks)
# A waiting entry takes over the deflating when the one it waits for has made no progress for
# this long (that one failed, or never flushed): only speed depends on it, never the bytes.
STALL_SECONDS = 10.0


class Compressor(Protocol):
    """What the wheel writer calls: zlib's compressobj interface."""

    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes: ...

    def flush(self, mode: int = ..., /) -> bytes: ...


def compressobj(level: int) -> Compressor:
    """A raw deflate compressor (no zlib header: what a zip entry holds) at `level` (0-9)."""
    if not 0 <= level <= 9:
        raise ValueError(f"compression level {level} is not between 0 and 9")
    return _Blocks(zlib_ng.compressobj(level, zlib_ng.DEFLATED, -15))


class _Blocks:
    """Feeds zlib-ng whole BLOCK-sized pieces, whatever sizes it is given: zlib-ng's output
    depends on how its input is split (CPython's zlib's does not), and a read may return less
    than asked for (a network filesystem), so the bytes must not depend on the reads. A piece
    that is exactly one block and finds nothing buffered goes through without a copy."""

    def __init__(self, inner: Compressor) -> None:
        self.inner = inner
        self.pending = bytearray()

    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes:
        if not self.pending and len(data) == BLOCK:
            return self.inner.compress(data)
        self.pending += data
        if len(self.pending) < BLOCK:
            return b""
        whole = len(self.pending) - len(self.pending) % BLOCK
        out = [self.inner.compress(memoryview(self.pending)[i : i + BLOCK]) for i in range(0, whole, BLOCK)]
        del self.pending[:whole]
        return b"".join(out)

    def flush(self, mode: int = zlib_ng.Z_FINISH, /) -> bytes:
        out = self.inner.compress(self.pending) + self.inner.flush(mode)
        self.pending.clear()
        return out


@dataclass
class _Slot:
    """One content several entries hold: its deflated bytes once the first entry has them."""

    users: int  # entries still to take the bytes
    data: bytes | None = None
    producing: bool = False
    progress: int = 0  # chunks the producing entry has deflated so far
    done: threading.Condition = field(default_factory=threading.Condition)


class _Recording:
    """A compressor that keeps what it returns, to hand it to the entries waiting for it."""

    def __init__(self, inner: Compressor, slot: _Slot) -> None:
        self.inner, self.slot, self.parts = inner, slot, list[bytes]()

    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes:
        out = self.inner.compress(data)
        self.parts.append(out)
        with self.slot.done:
            self.slot.progress += 1
        return out

    def flush(self, mode: int = zlib_ng.Z_FINISH, /) -> bytes:
        out = self.inner.flush(mode)
        self.parts.append(out)
        with self.slot.done:
            self.slot.data = b"".join(self.parts)
            self.slot.done.notify_all()
        return out


class _Replay:
    """Deflates nothing: returns the deflated bytes of an identical content at `flush`."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes:
        return b""

    def flush(self, mode: int = zlib_ng.Z_FINISH, /) -> bytes:
        return self.data


class Shared:
    """Compressors for one run of entries, keyed by their content (sha256): a content that
    `keys` holds more than once is deflated by the first entry that starts it and replayed for
    the others, which wait for it; its bytes are dropped once the last of them has them. Memory:
    the deflated size of the repeated contents in flight, nothing for the others."""

    def __init__(self, keys: Iterable[str | None], *, stall_seconds: float = STALL_SECONDS) -> None:
        counts = Counter(k for k in keys if k)
        self._slots = {k: _Slot(users=n) for k, n in counts.items() if n > 1}
        self._lock = threading.Lock()
        self.stall_seconds = stall_seconds

    def compressobj(self, level: int, key: str | None) -> Compressor:
        """The compressor for one entry whose content has sha256 `key` (None: not shared)."""
        slot = self._slots.get(key) if key else None
        if slot is None:
            return compressobj(level)
        with slot.done:
            seen = -1
            while slot.data is None and slot.producing:
                if seen == slot.progress:  # no progress for stall_seconds: take over
                    break
                seen = slot.progress
                slot.done.wait(self.stall_seconds)
            data = slot.data
            if data is None:
                slot.producing = True
            slot.users -= 1
            if slot.users <= 0:
                with self._lock:
                    self._slots.pop(key or "", None)
        if data is not None:
            return _Replay(data)
        return _Recording(compressobj(level), slot)
