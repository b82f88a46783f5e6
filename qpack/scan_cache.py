"""What the scan read of each regular file of a build, kept between runs.

A packager scans one build many times: `qpack plan`, `split --format tree`, `split --format
wheel` each scan it again, and a scan hashes every byte and reads every ELF file (and the first
ELF file read costs LIEF's import: 20-30 ms with LIEF 0.15, 0.35-0.6 s with later ones). This
cache keeps, per file, its sha256, its ELF facts and its ELF error, so an unchanged file is
neither read nor parsed again.

An entry is keyed, as git's index is, by what `stat` says of the file: device, inode, size,
mode, mtime and ctime in nanoseconds. Writing a file changes its ctime and no call sets a ctime
back, so a changed file is read again. A file whose times are within `RACY_NS` of the scan is
not kept: a second change inside the same clock tick would not show in its times (git's
"racily clean" entries). The key also holds what the reading depended on: the source of the
modules that read (a new qpack reads everything again), the LIEF installed (its files' names,
sizes and times), the stamp glob and
whether read-only data was searched for the stamp.

Where: `$QPACK_CACHE_DIR`, else `$XDG_CACHE_HOME/qpack`, else `~/.cache/qpack`; one JSON file
per build directory (named by the sha256 of its resolved path), written to a temporary file
and renamed. `QPACK_CACHE_DIR=""` or `QPACK_NO_CACHE=1` turns the cache off. A cache file
that does not read as this format, or a directory another user owns, is not used; a cache
that cannot be written is left alone: the scan's result never depends on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from qpack.elf import ElfInfo
from qpack.errors import ChangedSinceScanError

FORMAT = 1
RACY_NS = 2_000_000_000
MAX_BUILDS = 64  # cache files kept; the least recently written go first

# (sha256, ELF facts, ELF error) of one file.
Facts = tuple[str, ElfInfo | None, str | None]


def cache_dir() -> Path | None:
    """The cache's directory, or None when the environment turns the cache off."""
    env = os.environ.get("QPACK_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    if os.environ.get("QPACK_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qpack"


def _reader_version() -> str:
    """What the facts depend on besides the file: the reading code and the LIEF installed,
    known by its files' names, sizes and times (found without importing LIEF or
    importlib.metadata, 20-30 ms each, which a scan the cache answers whole never needs)."""
    here = Path(__file__).parent
    h = hashlib.sha256(str(FORMAT).encode())
    for name in ("elf.py", "inventory.py", "scan_cache.py"):
        h.update((here / name).read_bytes())
    spec = importlib.util.find_spec("lief")
    places = (spec.submodule_search_locations or []) if spec is not None else []
    for where in places:
        with contextlib.suppress(OSError), os.scandir(where) as it:
            for entry in sorted(it, key=lambda e: e.name):
                if entry.is_file():
                    st = entry.stat()
                    h.update(f"{entry.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def _key(st: os.stat_result, stamp_glob: str | None, scan_strings: bool) -> list[object]:
    return [
        st.st_dev,
        st.st_ino,
        st.st_size,
        st.st_mode,
        st.st_mtime_ns,
        st.st_ctime_ns,
        stamp_glob,
        scan_strings,
    ]


def _elf_to_json(info: ElfInfo) -> dict[str, Any]:
    return {f.name: getattr(info, f.name) for f in fields(info)}


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _elf_from_json(data: dict[str, Any]) -> ElfInfo:
    return ElfInfo(**{f.name: _tuples(data[f.name]) for f in fields(ElfInfo)})


def _cache_file(where: Path, root: Path) -> Path:
    name = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:32]
    return where / f"scan-{name}.json"


def forget(root: Path) -> None:
    """Drop what the cache holds of the build at `root` (a writer found one of its files
    changed: its entry may be one the stat key could not tell from the file's new state)."""
    where = cache_dir()
    if where is not None:
        with contextlib.suppress(OSError):
            _cache_file(where, root).unlink()


@contextlib.contextmanager
def forgotten_if_changed(root: Path) -> Iterator[None]:
    """Around a writer: a file found changed since the scan drops the build's cache."""
    try:
        yield
    except ChangedSinceScanError:
        forget(root)
        raise


def relinked(root: Path, linked: Iterable[tuple[str, os.stat_result]]) -> None:
    """After a hard link was made to each of the build's files in `linked` (its path relative
    to `root`, and its stat just before the link): the cache entries that were still the
    file's then take its new ctime. A link changes only the link count and the ctime, so the
    entry stays good (a tree split links every file: the scan after it read the whole build
    again). An entry that was not the file's before the link stays a miss."""
    cache = ScanCache.open(root)
    if cache is None or not cache.old:
        return
    changed = False
    for rel, before in linked:
        record = cache.old.get(rel)
        if not isinstance(record, list) or len(record) != 4 or not isinstance(record[0], list):
            continue
        key = record[0]
        if len(key) != 8 or key != _key(before, key[6], key[7]):
            continue
        try:
            new = _key(os.lstat(root / rel), key[6], key[7])
        except OSError:
            continue
        if new[:5] == key[:5] and new != key:  # device, inode, size, mode and mtime unchanged
            record[0] = new
            changed = True
    if changed:
        cache.new, cache.changed = dict(cache.old), True
        cache.save()


class ScanCache:
    """The cache file of one build directory: read at `open`, written by `save`."""

    def __init__(self, path: Path | None, reader: str, entries: dict[str, list[Any]]) -> None:
        self.path = path
        self.reader = reader
        self.old = entries
        self.new: dict[str, list[Any]] = {}
        self.changed = False
        self.started_ns = time.time_ns()

    @classmethod
    def open(cls, root: Path) -> ScanCache | None:
        where = cache_dir()
        if where is None:
            return None
        path = _cache_file(where, root)
        try:
            reader = _reader_version()
        except OSError:
            return None  # qpack's own sources cannot be read (a zipped install): no cache
        entries: dict[str, list[Any]] = {}
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            st = os.stat(where)
            if st.st_uid != os.getuid() or not stat.S_ISDIR(st.st_mode):
                return None  # never facts another user could have written
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_uid != os.getuid():
                    return None
                data = json.loads(f.read())
            if data.get("format") == FORMAT and data.get("reader") == reader:
                entries = data["files"] if isinstance(data.get("files"), dict) else {}
        return cls(path, reader, entries)

    def get(self, rel: str, st: os.stat_result, stamp_glob: str | None, scan_strings: bool) -> Facts | None:
        record = self.old.get(rel)
        key = _key(st, stamp_glob, scan_strings)
        if not isinstance(record, list) or len(record) != 4 or record[0] != key:
            return None
        try:
            sha256, elf, err = record[1], record[2], record[3]
            facts = (str(sha256), _elf_from_json(elf) if elf is not None else None, err)
        except (KeyError, TypeError, ValueError):
            return None
        self.new[rel] = record
        return facts

    def put(
        self, rel: str, st: os.stat_result, stamp_glob: str | None, scan_strings: bool, facts: Facts
    ) -> None:
        if max(st.st_mtime_ns, st.st_ctime_ns) >= self.started_ns - RACY_NS:
            return  # racy: it could change again without its times changing
        sha256, elf, err = facts
        self.new[rel] = [_key(st, stamp_glob, scan_strings), sha256, _elf_to_json(elf) if elf else None, err]
        self.changed = True

    def save(self) -> None:
        """Write the entries this scan used or made (a removed file's entry goes), if any changed."""
        if self.path is None or not (self.changed or set(self.new) != set(self.old)):
            return
        text = json.dumps({"format": FORMAT, "reader": self.reader, "files": self.new}, separators=(",", ":"))
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".scan-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(text)
                os.replace(tmp, self.path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            _prune(self.path.parent)


def _prune(where: Path) -> None:
    """Keep the MAX_BUILDS most recently written cache files."""
    written: list[tuple[int, Path]] = []
    for p in where.glob("scan-*.json"):
        with contextlib.suppress(OSError):
            written.append((p.stat().st_mtime_ns, p))
    for _, old in sorted(written, reverse=True)[MAX_BUILDS:]:
        with contextlib.suppress(OSError):
            old.unlink()
