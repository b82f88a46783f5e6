"""A scan on several cores reads files in forked worker processes (LIEF holds the GIL while it
parses, so threads left the second core idle for that part): the workers find exactly what a
scan in one process finds, a process that runs other threads never forks, and a worker that
dies is one error line naming the file it died on."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

import pytest

from qpack.errors import BuildError
from qpack.inventory import DIES_ON, DIES_ONCE, scan

from .conftest import run_qpack

OPENED: list[list[str]] = []  # while a scan runs here: the paths this process opened


def _audit(event: str, args: tuple[object, ...]) -> None:
    if OPENED and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        OPENED[-1].append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def build(demo_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QPACK_CACHE_DIR", "")  # every scan here reads every file
    root = tmp_path / "build"
    shutil.copytree(demo_build, root, symlinks=True)
    return root


def scan_opening(root: Path, jobs: int) -> tuple[object, list[str]]:
    OPENED.append([])
    try:
        inv = scan(root, stamp_glob="demo_stamp_*", executables=["usr/bin/*"], jobs=jobs)
        return inv, [p for p in OPENED[-1] if p.startswith(f"{root}/")]
    finally:
        OPENED.pop()


def test_forked_workers_find_what_one_process_finds(build: Path) -> None:
    alone, opened_alone = scan_opening(build, jobs=1)
    assert opened_alone  # read here, in this process
    forked, opened_forked = scan_opening(build, jobs=2)
    assert opened_forked == []  # read in the workers, which this process's hook does not see
    assert forked == alone
    assert any(e.elf and e.elf.stamps_exported for e in forked.entries)  # type: ignore[attr-defined]
    assert any(e.elf and e.elf.stamps_held for e in forked.entries)  # type: ignore[attr-defined]


def test_a_process_running_another_thread_scans_on_threads(build: Path) -> None:
    alone, _ = scan_opening(build, jobs=1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        threaded, opened = scan_opening(build, jobs=2)
    finally:
        stop.set()
        other.join()
    assert opened  # no fork: read by this process's threads
    assert threaded == alone


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_progress_callback_sees_every_byte_once(build: Path, jobs: int) -> None:
    seen: list[tuple[int, int]] = []
    inv = scan(build, jobs=jobs, progress=lambda n, total: seen.append((n, total)))
    total = sum(e.size for e in inv.entries if e.kind == "file")
    assert {t for _, t in seen} == {total}
    assert sum(n for n, _ in seen) == total


def _a_module(build: Path) -> str:
    """The build path of one of the build's modules, a file a worker reads."""
    return next(str(p.relative_to(build)) for p in sorted(build.rglob("*.so")) if not p.is_symlink())


def test_a_worker_dying_on_a_file_is_one_error_naming_it(
    build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed while it reads a file (LIEF crashing on it, the OOM killer) ends the
    pool; the files not read yet are read again one at a time, and the one a worker dies on
    again is named, with status 2 and no output."""
    victim = _a_module(build)
    monkeypatch.setenv(DIES_ON, victim)
    with pytest.raises(BuildError) as err:
        scan(build, jobs=2)
    assert str(err.value) == (
        f"{build / victim}: the process reading this file died (the ELF reader crashed on it, "
        "or the system ended the process)"
    )
    out = tmp_path / "trees"
    r = run_qpack("split", str(build), "-l", "demo", "--version", "1.0", "--format", "tree", "-o", str(out))
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"error: {err.value}\n"
    assert not out.exists()


def test_a_worker_dying_once_costs_nothing_but_time(
    build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = scan(build, jobs=1)
    marker = tmp_path / "died"
    monkeypatch.setenv(DIES_ON, _a_module(build))
    monkeypatch.setenv(DIES_ONCE, str(marker))
    assert scan(build, jobs=2) == alone
    assert marker.exists()  # a worker did die
