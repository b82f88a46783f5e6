"""The steps the bad-input corpus (tests/corpus_cases.py) spoils its inputs with, and `Case`.

A step is a function of the case's `Ctx`; a path argument is relative to the build unless it
starts with a placeholder ({tmp}, {layout}, {out}, {dist}, {target}). A step may return a context
manager that is held while the command runs (another run's lock on the output).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import socket as _socket
import stat
import struct
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from qpack.writers._atomic import OutputLock


@dataclass(frozen=True)
class Ctx:
    tmp: Path
    build: Path
    layout: Path
    out: Path
    dist: Path
    target: Path

    def fill(self, text: str) -> str:
        for key in ("tmp", "build", "layout", "out", "dist", "target"):
            text = text.replace("{" + key + "}", str(getattr(self, key)))
        return text.replace("{pid}", str(os.getpid()))

    def path(self, rel: str) -> Path:
        return Path(self.fill(rel)) if rel.startswith("{") else self.build / rel if rel else self.build


Step = Callable[[Ctx], Any]


@dataclass(frozen=True)
class Case:
    area: str
    name: str
    steps: list[Step]
    command: str
    status: int
    expect: str | Callable[[Ctx], str]  # several lines: one error line each
    unprivileged: bool = False
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.area}: {self.name}"


def _parent(p: Path) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def file(rel: str, data: bytes = b"x\n", perm: int = 0o644) -> Step:
    def step(c: Ctx) -> None:
        p = _parent(c.path(rel))
        p.write_bytes(data)
        p.chmod(perm)

    return step


def fifo(rel: str) -> Step:
    return lambda c: os.mkfifo(_parent(c.path(rel)))


def socket(rel: str) -> Step:
    def step(c: Ctx) -> None:
        s = _socket.socket(_socket.AF_UNIX)
        # bind() takes at most 107 bytes: bind from inside the directory
        cwd = os.getcwd()
        os.chdir(_parent(c.path(rel)).parent)
        try:
            s.bind(c.path(rel).name)
        finally:
            os.chdir(cwd)
            s.close()

    return step


def chardev(rel: str) -> Step:
    return lambda c: os.mknod(_parent(c.path(rel)), stat.S_IFCHR | 0o666, os.makedev(1, 3))


def link(rel: str, target: str) -> Step:
    def step(c: Ctx) -> None:
        p = _parent(c.path(rel))
        if p.is_symlink() or p.exists():
            p.unlink()
        p.symlink_to(c.fill(target))

    return step


def mode(rel: str, perm: int) -> Step:
    return lambda c: os.chmod(c.path(rel), perm)


def owned_by_nobody(rel: str) -> Step:
    """Hand a subtree to another user; with fs.protected_hardlinks, a process that may not
    bypass permissions then cannot hard-link its files (EPERM)."""

    def step(c: Ctx) -> None:
        if Path("/proc/sys/fs/protected_hardlinks").read_text().strip() != "1":
            pytest.skip("fs.protected_hardlinks is off here: hard links to others' files succeed")
        for dirpath, dirnames, filenames in os.walk(c.path(rel)):
            for name in [".", *dirnames, *filenames]:
                os.chown(os.path.join(dirpath, name), 65534, 65534, follow_symlinks=False)

    return step


def remove(rel: str) -> Step:
    def step(c: Ctx) -> None:
        p = c.path(rel)
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()

    return step


def nonutf8_name(reldir: str, raw: bytes) -> Step:
    def step(c: Ctx) -> None:
        with open(os.path.join(os.fsencode(c.path(reldir)), raw), "wb") as f:
            f.write(b"x")

    return step


def nonutf8_link(rel: str, raw_target: bytes) -> Step:
    return lambda c: os.symlink(raw_target, os.fsencode(c.path(rel)))


def deep(reldir: str, levels: int) -> Step:
    """A file `levels` directories of 250 'd's below `reldir`: past PATH_MAX."""

    def step(c: Ctx) -> None:
        fd = os.open(c.path(reldir), os.O_RDONLY | os.O_DIRECTORY)
        try:
            for _ in range(levels):
                os.mkdir("d" * 250, dir_fd=fd)
                nxt = os.open("d" * 250, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = nxt
            os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
        finally:
            os.close(fd)

    return step


def elf_machine(rel: str, machine: int) -> Step:
    """Rewrite an ELF file's e_machine (183: EM_AARCH64): an ELF for another machine."""

    def step(c: Ctx) -> None:
        with open(c.path(rel), "r+b") as f:
            f.seek(18)
            f.write(struct.pack("<H", machine))

    return step


def truncate(rel: str, size: int) -> Step:
    return lambda c: os.truncate(c.path(rel), size)


def layout_text(text: str | bytes) -> Step:
    def step(c: Ctx) -> None:
        c.layout.write_bytes(text.encode() if isinstance(text, str) else text)

    return step


def layout_add(text: str) -> Step:
    def step(c: Ctx) -> None:
        with c.layout.open("a", encoding="utf-8") as f:
            f.write(text)

    return step


def layout_edit(old: str, new: str) -> Step:
    def step(c: Ctx) -> None:
        text = c.layout.read_text(encoding="utf-8")
        assert old in text, old
        c.layout.write_text(text.replace(old, new.replace("{layout}", str(c.layout)), 1), encoding="utf-8")

    return step


def layout_open() -> Step:
    """The demo layout without its list of known modules: any `<type>/<name>.so` is a module."""
    return layout_edit("\nknown = [", "\n# known = [")


def hold_lock() -> Step:
    """Another qpack run writing the output: its lock, held while the command runs."""
    return lambda c: OutputLock(c.out)


# --------------------------------------------------------------------------- wheels


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


Entries = dict[str, tuple[zipfile.ZipInfo, bytes]]


def _rewrite(path: Path, edit: Callable[[Entries], None], record: str = "") -> None:
    """Rewrite a wheel: `edit` changes its entries; RECORD is made anew from them, then spoiled
    as `record` says (lie: a wrong hash; omit: a file left out)."""
    with zipfile.ZipFile(path) as zf:
        entries = {i.filename: (i, zf.read(i)) for i in zf.infolist()}
    rec_name = next(n for n in entries if n.endswith(".dist-info/RECORD"))
    del entries[rec_name]
    edit(entries)
    rows = [f"{n},sha256={_b64(d)},{len(d)}" for n, (_, d) in entries.items()]
    if record == "lie":
        rows = [
            r.split(",")[0] + ",sha256=" + "A" * 43 + "," + r.split(",")[2] if ".so," in r else r
            for r in rows
        ]
    elif record == "omit":
        rows = [r for r in rows if ".so," not in r]
    rows.append(f"{rec_name},,")
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in entries.values():
            zf.writestr(info, data)
        zf.writestr(rec_name, "".join(r + "\n" for r in rows))


def wheel_entry(wheel: str, name: str, data: bytes = b"x", *, symlink: bool = False) -> Step:
    def step(c: Ctx) -> None:
        def edit(entries: Entries) -> None:
            info = zipfile.ZipInfo(name)
            info.external_attr = ((stat.S_IFLNK | 0o777) if symlink else (stat.S_IFREG | 0o644)) << 16
            entries[name] = (info, data)

        _rewrite(c.dist / wheel, edit)

    return step


def wheel_record(wheel: str, how: str) -> Step:
    return lambda c: _rewrite(c.dist / wheel, lambda e: None, how)


def bad_zip(wheel: str) -> Step:
    return lambda c: (c.dist / wheel).write_bytes(b"PK\x03\x04 not really a zip")


def held(results: list[Any]) -> contextlib.ExitStack:
    """The context managers steps returned, entered together."""
    stack = contextlib.ExitStack()
    for r in results:
        if isinstance(r, contextlib.AbstractContextManager):
            stack.enter_context(r)
    return stack
