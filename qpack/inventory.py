"""Walk a staged install tree (DESTDIR) into an Inventory: every file, symlink and directory with
its mode, size, streamed sha256 and, for ELF files, the facts of `qpack.elf`.

Symlinks are recorded, never followed. Files are hashed and their ELF facts read in forked
worker processes, one per core (LIEF holds the GIL while it parses, so threads would leave the
other cores idle for that part), or on a thread pool where forking is not safe.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import stat
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from qpack.elf import ELF_MAGIC, ElfInfo, ElfReadError, read_elf
from qpack.errors import BuildError
from qpack.globs import compile_glob
from qpack.scan_cache import ScanCache

EntryKind = Literal["file", "symlink", "dir"]
CHUNK = 1 << 20

# A file named like a library that does not start as ELF: its `elf_error`.
NOT_ELF_ERRORS = ("not an ELF file", "empty or truncated file")

Progress = Callable[[int, int], None]
"""Called with (bytes just processed, total bytes) for a progress bar the CLI owns."""


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # relative to the build root, '/'-separated, no leading '/'
    kind: EntryKind
    mode: int  # permission bits only (stat.S_IMODE)
    size: int
    sha256: str | None = None
    target: str | None = None  # a symlink's target, as written
    elf: ElfInfo | None = None
    elf_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as `scan --json` and the manifest show it (README "Inventory"); every
        key is present for every kind (null where it means nothing: a link's sha256)."""
        return {
            "path": self.path,
            "kind": self.kind,
            "mode": f"{self.mode:04o}",
            "size": self.size,
            "sha256": self.sha256,
            "target": self.target,
        }

    @property
    def executable(self) -> bool:
        return self.kind == "file" and bool(self.mode & 0o111)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


@dataclass(frozen=True, slots=True)
class Inventory:
    root: Path
    prefix: str
    entries: tuple[Entry, ...]
    warnings: tuple[str, ...] = ()
    # Where a file's bytes are read from when that is not `root / path` (a build read from
    # meson's install data: qpack.meson); writers use `source()`.
    sources: Mapping[str, Path] = field(default_factory=dict)
    # A path's install tag (meson's `install_tag`), for layout rules that select by tag.
    tags: Mapping[str, str] = field(default_factory=dict)

    def source(self, path: str) -> Path:
        """The file holding the bytes of the entry at `path`."""
        return self.sources.get(path) or self.root / path

    def by_path(self) -> dict[str, Entry]:
        return {e.path: e for e in self.entries}

    def files(self) -> tuple[Entry, ...]:
        """Everything a package ships as a path of its own: regular files and symlinks."""
        return tuple(e for e in self.entries if e.kind != "dir")

    def empty_dirs(self) -> tuple[Entry, ...]:
        paths = [e.path for e in self.entries]
        nonempty = {posixpath.dirname(p) for p in paths}
        return tuple(e for e in self.entries if e.kind == "dir" and e.path not in nonempty)


def link_destination(path: str, target: str) -> str | None:
    """The build-root-relative path a symlink at `path` points to, or None when it points above
    the root. Absolute targets are root-relative, as they are once installed. Resolved lexically:
    the link is never followed."""
    base = "" if target.startswith("/") else posixpath.dirname(path)
    parts: list[str] = []
    for part in posixpath.join(base, target.lstrip("/")).split("/"):
        if part in ("", "."):
            continue
        if part != "..":
            parts.append(part)
        elif parts:
            parts.pop()
        else:
            return None
    return "/".join(parts)


def link_end(path: str, by_link: Mapping[str, str]) -> str | None:
    """Where a chain of the build's symlinks (`by_link`: path -> target) starting at `path`
    ends, followed lexically: `path` itself when it is no link; None out of the build or in a
    loop."""
    seen = set()
    while path in by_link and path not in seen:
        seen.add(path)
        dest = link_destination(path, by_link[path])
        if dest is None:
            return None
        path = dest
    return None if path in by_link else path


def linked_dirs(inventory: Inventory, dirs: Iterable[str]) -> list[str]:
    """Of `dirs`, those that are symlinks of the build to one of its directories, as the
    directories they lead to: searched there, as a loader following the link on disk searches
    them (nginx's share/nginx/modules -> ../../lib/nginx/modules; Perl's perl/5.36 -> 5.36.0)."""
    by_link = {e.path: e.target or "" for e in inventory.entries if e.kind == "symlink"}
    build_dirs = {e.path for e in inventory.entries if e.kind == "dir"}
    return [end for d in dirs if d in by_link and (end := link_end(d, by_link)) in build_dirs]


def symlink_escapes(path: str, target: str) -> bool:
    return link_destination(path, target) is None


def _looks_like_library(name: str) -> bool:
    return name.endswith(".so") or ".so." in name


def _describe(
    root: Path,
    rel: str,
    st: os.stat_result,
    stamp_glob: str | None,
    scan_strings: bool,
    progress: Callable[[int], None] | None,
) -> Entry:
    return describe_file(
        root / rel, rel, stat.S_IMODE(st.st_mode), st.st_size, stamp_glob, scan_strings, progress
    )


def describe_file(
    full: Path,
    rel: str,
    mode: int,
    size: int,
    stamp_glob: str | None = None,
    scan_strings: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Entry:
    """The entry of the regular file `full`, recorded at build path `rel` with `mode` and `size`
    (a scanned tree's own, or those an install would give it: qpack.meson).

    The file is read once, in CHUNK pieces into this thread's buffer (hashlib releases the GIL
    on them); a file that fits in one piece (most modules) has its ELF facts read from that
    piece, a larger one through a few small reads of the structures `read_elf` needs."""
    h = hashlib.sha256()
    buf = _buffer()
    view = memoryview(buf)
    try:
        with full.open("rb", buffering=0) as f:
            n = f.readinto(buf)
            head = bytes(view[: min(n, 4)])  # the buffer holds the previous file's bytes past n
            first = bytes(view[:n]) if head == ELF_MAGIC and n < CHUNK else None
            while n:
                h.update(view[:n])
                if progress:
                    progress(n)
                n = f.readinto(buf)
            elf: ElfInfo | None = None
            err: str | None = None
            if head == ELF_MAGIC:
                try:
                    elf = read_elf(io.BytesIO(first) if first is not None else f, stamp_glob, scan_strings)
                except ElfReadError as e:
                    err = str(e)
            elif _looks_like_library(rel):
                # Shorter than the magic and its start (or empty): perhaps an ELF file cut short;
                # any other bytes are no ELF file, however few (a PHP tester's 3-byte notes.so).
                err = NOT_ELF_ERRORS[1] if ELF_MAGIC.startswith(head) else NOT_ELF_ERRORS[0]
    except PermissionError:
        raise BuildError(f"{full}: cannot read file: permission denied") from None
    except OSError as e:
        raise BuildError(f"{full}: cannot read file: {e.strerror}") from None
    return Entry(rel, "file", mode, size, h.hexdigest(), None, elf, err)


_local = threading.local()


def _buffer() -> bytearray:
    """This thread's read buffer: one CHUNK per scanning thread, reused for every file."""
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = bytearray(CHUNK)
    return buf


def shown_path(path: str, limit: int = 200) -> str:
    """A path for an error line: whole, or its start and end around '...' past `limit`
    characters (a path longer than PATH_MAX would fill a screen)."""
    if len(path) <= limit:
        return path
    return f"{path[: limit // 2]}...{path[-limit // 2 :]} ({len(os.fsencode(path))} bytes)"


def _check_target(root: Path, rel: str, target: str) -> None:
    try:
        target.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(target).decode("utf-8", "backslashreplace")
        raise BuildError(
            f"{root}/{rel}: symlink target {shown!r} is not valid UTF-8 "
            "(wheels, JSON and package lists need UTF-8 names)"
        ) from None


def _check_name(root: Path, rel: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(rel).decode("utf-8", "backslashreplace")
        raise BuildError(
            f"{root}/{shown}: file name is not valid UTF-8 (wheels, JSON and package lists need UTF-8 names)"
        ) from None


def _walk(root: Path) -> tuple[list[Entry], list[Entry], list[tuple[str, os.stat_result]], list[str]]:
    """(directories, symlinks, regular files with their stat, warnings) of the tree at `root`,
    in sorted order; symlinks are recorded, never followed."""
    dirs: list[Entry] = []
    links: list[Entry] = []
    regular: list[tuple[str, os.stat_result]] = []
    warnings: list[str] = []

    # Depth first with a stack of its own: os.walk recurses (Python 3.11), and a build ~1,000
    # directories deep, under PATH_MAX, ended in a RecursionError traceback.
    stack = [str(root)]
    while stack:
        dirpath = stack.pop()
        try:
            names = sorted(os.listdir(dirpath))
        except OSError as e:
            raise BuildError(f"{shown_path(str(e.filename))}: cannot read directory: {e.strerror}") from None
        reldir = os.path.relpath(dirpath, root)
        reldir = "" if reldir == "." else reldir.replace(os.sep, "/")
        subdirs: list[str] = []
        for name in names:
            rel = f"{reldir}/{name}" if reldir else name
            _check_name(root, rel)
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
                target = os.readlink(full) if stat.S_ISLNK(st.st_mode) else ""
            except OSError as e:
                # A directory readable but not searchable (r-- without x), a path longer than
                # the system allows (ENAMETOOLONG), a file removed while scanning...
                raise BuildError(f"{shown_path(full)}: cannot read its type and mode: {e.strerror}") from None
            if stat.S_ISLNK(st.st_mode):
                _check_target(root, rel, target)
                links.append(Entry(rel, "symlink", 0o777, len(os.fsencode(target)), None, target))
                if symlink_escapes(rel, target):
                    warnings.append(
                        f"{rel}: symlink to {target!r} points outside the build "
                        "(kept as a link, not followed)"
                    )
            elif stat.S_ISDIR(st.st_mode):
                dirs.append(Entry(rel, "dir", stat.S_IMODE(st.st_mode), 0))
                subdirs.append(full)  # a symlink to a directory is a link: never descended into
            elif stat.S_ISREG(st.st_mode):
                regular.append((rel, st))
            else:
                raise BuildError(f"{full}: not a regular file, symlink or directory (device, fifo or socket)")
        stack.extend(reversed(subdirs))  # the first in sorted order is walked first, as os.walk did

    return dirs, links, regular, warnings


def _describe_all(
    root: Path,
    misses: list[tuple[str, os.stat_result, bool]],
    stamp_glob: str | None,
    jobs: int,
    advance: Callable[[int], None] | None,
) -> list[Entry]:
    """The entries of the files the cache did not know, in `misses`' order, read on `jobs`
    cores: in forked worker processes where the system can fork and this process runs no
    other thread, else on a thread pool. LIEF holds the GIL while it parses, so threads
    leave the second core idle for that part; processes do not (README "Performance")."""
    if jobs > 1 and len(misses) > 1 and _can_fork():
        return _describe_in_processes(root, misses, stamp_glob, jobs, advance)

    def one(item: tuple[str, os.stat_result, bool]) -> Entry:
        rel, st, scan_strings = item
        return _describe(root, rel, st, stamp_glob, scan_strings, advance)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, misses))


def _can_fork() -> bool:
    """Forking is safe only without other threads (one holding a lock at the fork would leave
    it held in the child forever), and only on systems that fork (not Windows)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _describe_in_processes(
    root: Path,
    misses: list[tuple[str, os.stat_result, bool]],
    stamp_glob: str | None,
    jobs: int,
    advance: Callable[[int], None] | None,
) -> list[Entry]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    import lief  # noqa: F401 - once, here: the workers inherit it rather than each importing it

    # Largest first, so that the last file to finish is a small one: both cores busy to the end.
    order = sorted(range(len(misses)), key=lambda i: (-misses[i][1].st_size, i))
    tasks = [
        (str(root), rel, stat.S_IMODE(st.st_mode), st.st_size, stamp_glob, scan_strings)
        for rel, st, scan_strings in (misses[i] for i in order)
    ]
    out: list[Entry | None] = [None] * len(misses)
    fork = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=fork, initializer=_worker_start) as pool:
            for i, e in zip(order, pool.map(_describe_task, tasks, chunksize=4), strict=True):
                out[i] = e
                if advance is not None:
                    advance(e.size)
    except BrokenProcessPool:
        # A worker died (LIEF crashing on a hostile file, or the system killing it): the files
        # not read yet are read again one at a time, in one worker, so that a death names its file.
        with ProcessPoolExecutor(max_workers=1, mp_context=fork, initializer=_worker_start) as alone:
            for i, task in zip(order, tasks, strict=True):
                if out[i] is not None:
                    continue
                try:
                    e = out[i] = alone.submit(_describe_task, task).result()
                except BrokenProcessPool:
                    raise BuildError(
                        f"{root / task[1]}: the process reading this file died (the ELF reader "
                        "crashed on it, or the system ended the process)"
                    ) from None
                if advance is not None:
                    advance(e.size)
    return [e for e in out if e is not None]


def _worker_start() -> None:
    """A worker keeps the blocks it frees for its next file. The CLI caps glibc's mmap threshold
    at 128 KiB (qpack.cli: freed big blocks go back to the system, so a long writer's memory
    does not grow with the build), which here would map and fault in afresh every ELF file
    LIEF reads whole: a third more CPU time. A worker lives for one scan; 32 MiB is glibc's
    largest threshold."""
    import signal

    from qpack._malloc import set_mmap_threshold

    set_mmap_threshold(32 * 1024 * 1024)
    # Ctrl-C reaches the whole process group: the parent stops the scan and says so in one line;
    # a worker printing its own KeyboardInterrupt traceback would only add noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# Tests make a worker die on one file: QPACK_TEST_WORKER_DIES_ON=<build path>, and with
# QPACK_TEST_WORKER_DIES_ONCE=<marker file> only while the marker does not exist (it is made).
DIES_ON, DIES_ONCE = "QPACK_TEST_WORKER_DIES_ON", "QPACK_TEST_WORKER_DIES_ONCE"


def _describe_task(task: tuple[str, str, int, int, str | None, bool]) -> Entry:
    """One file, in a worker process (module-level: it is sent by name)."""
    root, rel, mode, size, stamp_glob, scan_strings = task
    if rel == os.environ.get(DIES_ON):
        marker = os.environ.get(DIES_ONCE)
        if marker is None or not os.path.exists(marker):
            if marker is not None:
                Path(marker).touch()
            os.kill(os.getpid(), 9)  # SIGKILL, as the kernel's OOM killer sends it
    return describe_file(Path(root) / rel, rel, mode, size, stamp_glob, scan_strings)


def scan(
    root: Path | str,
    prefix: str = "/usr",
    *,
    stamp_glob: str | None = None,
    executables: Iterable[str] = (),
    progress: Progress | None = None,
    jobs: int | None = None,
    cache: bool = True,
) -> Inventory:
    """Inventory of a staged install tree. `executables` are build-root-relative globs of the
    files whose read-only data is searched for the stamp name they hold. With `cache`, what an
    earlier scan read of an unchanged file is taken from qpack.scan_cache (which the
    environment may turn off)."""
    root = Path(root)
    if not root.exists():
        raise BuildError(f"{root}: build directory does not exist")
    if not root.is_dir():
        raise BuildError(f"{root}: not a directory (give the staged install tree, e.g. DESTDIR)")
    exe_res = [compile_glob(g) for g in executables]
    dirs, links, regular, warnings = _walk(root)
    if not regular and not links and not dirs:
        raise BuildError(f"{root}: build directory is empty")

    total = sum(st.st_size for _, st in regular)

    def advance(n: int) -> None:
        if progress is not None:
            progress(n, total)

    known = ScanCache.open(root) if cache else None
    files: list[Entry] = []
    misses: list[tuple[str, os.stat_result, bool]] = []
    # A glob naming a symlink (a library by its SONAME link) has the file it leads to searched.
    by_link = {e.path: e.target or "" for e in links}
    led_to = {
        end for e in links if any(r.match(e.path) for r in exe_res) if (end := link_end(e.path, by_link))
    }
    for rel, st in regular:
        scan_strings = rel in led_to or any(r.match(rel) for r in exe_res)
        facts = known.get(rel, st, stamp_glob, scan_strings) if known is not None else None
        if facts is None:
            misses.append((rel, st, scan_strings))
            continue
        advance(st.st_size)
        files.append(
            Entry(rel, "file", stat.S_IMODE(st.st_mode), st.st_size, facts[0], None, facts[1], facts[2])
        )
    # Hard links are read once (Mesa's 13 DRI drivers are one 26 MB file): each other name gets
    # the entry of the first, under its own path.
    first: dict[tuple[int, int, bool], int] = {}
    unique: list[tuple[str, os.stat_result, bool]] = []
    same_as: list[int] = []  # for each miss: the index of the unique one read for it
    for item in misses:
        st, key = item[1], (item[1].st_dev, item[1].st_ino, item[2])
        if st.st_nlink > 1 and key in first:
            same_as.append(first[key])
            advance(st.st_size)
            continue
        if st.st_nlink > 1:
            first[key] = len(unique)
        same_as.append(len(unique))
        unique.append(item)
    described = _describe_all(
        root, unique, stamp_glob, jobs or os.cpu_count() or 1, advance if progress is not None else None
    )
    for (rel, st, scan_strings), i in zip(misses, same_as, strict=True):
        e = described[i] if unique[i][0] == rel else replace(described[i], path=rel)
        files.append(e)
        if known is not None and e.sha256 is not None:
            known.put(rel, st, stamp_glob, scan_strings, (e.sha256, e.elf, e.elf_error))
    if known is not None:
        known.save()
    entries = sorted([*dirs, *links, *files], key=lambda e: e.path)
    return Inventory(root, prefix, tuple(entries), tuple(warnings))
