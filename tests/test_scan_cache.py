"""The scan cache: an unchanged file is neither read nor parsed again, a changed one always is,
and the cache never changes what a scan finds (qpack.scan_cache)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qpack import scan_cache
from qpack.inventory import Inventory, scan

RECORDING: list[list[str]] = []  # while a scan runs here: the paths it opened


def _audit(event: str, args: tuple[object, ...]) -> None:
    if RECORDING and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        RECORDING[-1].append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def scan_opening(root: Path, executables: str = "usr/bin/*") -> tuple[Inventory, list[str]]:
    """The scan of `root` and the files under it that the scan opened."""
    RECORDING.append([])
    try:
        # One job: the files are read in this process, where the audit hook sees them (with
        # more, a scan reads them in forked workers: tests/test_scan_workers.py).
        inv = scan(root, stamp_glob="demo_stamp_*", executables=[executables], jobs=1)
        return inv, sorted(p for p in RECORDING[-1] if p.startswith(f"{root}/"))
    finally:
        RECORDING.pop()


@pytest.fixture
def build(demo_build: Path, tmp_path: Path) -> Path:
    root = tmp_path / "build"
    shutil.copytree(demo_build, root, symlinks=True)
    return root


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("QPACK_CACHE_DIR", str(where))
    # The files were written just now: without this they would all be "racy" and never kept.
    monkeypatch.setattr(scan_cache, "RACY_NS", 0)
    return where


def test_a_second_scan_opens_no_file_and_finds_the_same(build: Path, cache: Path) -> None:
    first, opened = scan_opening(build)
    assert len(opened) == len([e for e in first.entries if e.kind == "file"]) > 10
    assert any(e.elf and e.elf.stamps_exported for e in first.entries)
    again, opened = scan_opening(build)
    assert opened == []
    assert again == first
    (cached,) = cache.glob("scan-*.json")
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert len(json.loads(cached.read_text())["files"]) == len([e for e in first.entries if e.kind == "file"])


def test_a_changed_file_is_read_again_even_with_its_size_and_times_put_back(build: Path, cache: Path) -> None:
    first, _ = scan_opening(build)
    module = build / "usr/lib/demo/ui/gtk.so"
    st = module.stat()
    data = bytearray(module.read_bytes())
    data[-1] ^= 0xFF  # same size
    module.write_bytes(bytes(data))
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime back; ctime cannot go back
    again, opened = scan_opening(build)
    assert opened == [str(module)]
    old = first.by_path()["usr/lib/demo/ui/gtk.so"]
    new = again.by_path()["usr/lib/demo/ui/gtk.so"]
    assert new.sha256 != old.sha256 and new.size == old.size


def test_the_stamp_glob_and_string_search_are_part_of_the_key(build: Path, cache: Path) -> None:
    scan_opening(build)
    other = scan(build, stamp_glob="other_stamp_*", executables=["usr/bin/*"])
    assert not any(e.elf and e.elf.stamps_exported for e in other.entries)
    assert not any(e.elf and e.elf.stamps_held for e in scan(build, stamp_glob="demo_stamp_*").entries)


def test_files_written_within_the_racy_window_are_not_kept(
    build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QPACK_CACHE_DIR", str(tmp_path / "cache"))
    scan_opening(build)  # every file was written just now
    _, opened = scan_opening(build)
    assert len(opened) > 10


def test_a_removed_file_leaves_the_cache(build: Path, cache: Path) -> None:
    scan_opening(build)
    (build / "usr/lib/demo/ui/gtk.so").unlink()
    scan_opening(build)
    (cached,) = cache.glob("scan-*.json")
    assert "usr/lib/demo/ui/gtk.so" not in json.loads(cached.read_text())["files"]


@pytest.mark.parametrize(
    "garbage", [b"", b"{", b"[]", b'{"format": 1, "reader": 5, "files": []}', b"\xff\xfe"]
)
def test_a_damaged_cache_file_is_ignored_and_replaced(build: Path, cache: Path, garbage: bytes) -> None:
    first, _ = scan_opening(build)
    (cached,) = cache.glob("scan-*.json")
    cached.write_bytes(garbage)
    again, opened = scan_opening(build)
    assert again == first and opened
    assert json.loads(cached.read_text())["format"] == scan_cache.FORMAT


def test_facts_in_the_cache_are_what_the_scan_returns(build: Path, cache: Path) -> None:
    """The hit path is real: what the cache file says is what a scan gives (so a cache entry
    that does not match its file would show; the stat key is what keeps them matched)."""
    scan_opening(build)
    (cached,) = cache.glob("scan-*.json")
    data = json.loads(cached.read_text())
    data["files"]["usr/lib/demo/ui/gtk.so"][1] = "0" * 64
    cached.write_text(json.dumps(data))
    assert (
        scan(build, stamp_glob="demo_stamp_*", executables=["usr/bin/*"])
        .by_path()["usr/lib/demo/ui/gtk.so"]
        .sha256
        == "0" * 64
    )


def test_the_cache_can_be_turned_off(build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_cache, "RACY_NS", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("QPACK_CACHE_DIR", "")
    scan_opening(build)
    _, opened = scan_opening(build)
    assert opened
    monkeypatch.delenv("QPACK_CACHE_DIR")
    monkeypatch.setenv("QPACK_NO_CACHE", "1")
    scan_opening(build)
    assert not (tmp_path / "xdg").exists()
    monkeypatch.delenv("QPACK_NO_CACHE")
    scan_opening(build)
    assert list((tmp_path / "xdg/qpack").glob("scan-*.json"))


def test_an_unwritable_cache_place_does_not_stop_a_scan(
    build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("QPACK_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(scan_cache, "RACY_NS", 0)
    first, _ = scan_opening(build)
    assert first.by_path()["usr/lib/demo/ui/gtk.so"].elf is not None


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to make a cache directory another user owns")
def test_a_cache_another_user_owns_is_not_used(build: Path, cache: Path) -> None:
    scan_opening(build)
    os.chown(cache, 65534, 65534)
    _, opened = scan_opening(build)
    assert opened


def test_a_warm_cli_scan_does_not_import_lief_and_prints_the_same(build: Path, cache: Path) -> None:
    from qpack.layout import load_layout

    layout = load_layout(Path(__file__).parent.parent / "layouts" / "demo.toml")
    layout.loader.scan(build)  # primes the cache as the CLI would (in-process: RACY_NS is 0 here)
    cmd = [sys.executable, "-X", "importtime", "-m", "qpack", "scan", str(build), "-l", "demo", "--json"]
    env = {**os.environ, "QPACK_CACHE_DIR": str(cache)}
    warm = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    cold = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**env, "QPACK_CACHE_DIR": ""})
    assert warm.stdout == cold.stdout
    # A new process: the cache file, not this one's memory, carried the facts, and LIEF's
    # import (0.4 s of a scan) was not needed.
    assert "| lief" in cold.stderr
    assert "| lief" not in warm.stderr
    # Nor pyelftools (the oracle and the install path's reader), nor importlib.metadata.
    assert "elftools" not in warm.stderr and "importlib.metadata" not in warm.stderr


def test_another_lief_is_another_reader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The cache's key names the LIEF that read the facts by its files: a new version, or the
    same version rebuilt, makes every entry read again."""
    import importlib.util

    fake = tmp_path / "lief"
    fake.mkdir()
    (fake / "_lief.so").write_bytes(b"one build")
    spec = importlib.util.spec_from_file_location(
        "lief", fake / "__init__.py", submodule_search_locations=[str(fake)]
    )
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec if name == "lief" else None)
    first = scan_cache._reader_version()
    assert scan_cache._reader_version() == first
    (fake / "_lief.so").write_bytes(b"another build")
    assert scan_cache._reader_version() != first


@pytest.mark.parametrize("fmt", ["wheel", "tree"])
def test_a_writer_that_finds_a_file_changed_drops_the_cache(
    build: Path, cache: Path, tmp_path: Path, fmt: str
) -> None:
    """An entry the stat key could not tell from the file (made here by writing a wrong sha256
    into the cache) is caught when a writer reads the file again, and the cache is dropped so
    that the scan the error asks for is right."""
    from qpack.errors import ChangedSinceScanError
    from qpack.plan import plan_build
    from qpack.writers.tree import write_tree
    from qpack.writers.wheel import write_wheels

    plan_build(build, "demo")
    (cached,) = cache.glob("scan-*.json")
    data = json.loads(cached.read_text())
    data["files"]["usr/lib/demo/ui/gtk.so"][1] = "0" * 64
    cached.write_text(json.dumps(data))
    stale = plan_build(build, "demo")
    with pytest.raises(ChangedSinceScanError, match=r"gtk\.so: changed since the build was scanned"):
        if fmt == "wheel":
            write_wheels(stale, tmp_path / "out", version="1.0")
        else:
            write_tree(stale, tmp_path / "out", version="1.0", copy=True)  # a copy is hashed
    assert not cached.exists()
    assert not (tmp_path / "out").exists()
    fresh = plan_build(build, "demo")
    assert fresh.inventory.by_path()["usr/lib/demo/ui/gtk.so"].sha256 != "0" * 64
    write_wheels(fresh, tmp_path / "out", version="1.0")


def test_a_tree_split_that_links_the_files_keeps_the_cache_warm(
    build: Path, cache: Path, tmp_path: Path
) -> None:
    """A hard link changes its file's ctime (the link count): after `split --format tree`
    linked every file, the next plan or split read the whole build again (0.45 s of the bench's
    0.5 s wheel split's scan), where it should have found each file in the cache."""
    from qpack.plan import plan_build
    from qpack.writers.tree import write_tree

    def opening() -> tuple[Inventory, list[str]]:  # as the demo layout's scan reads
        return scan_opening(build, "usr/bin/demo")

    plan = plan_build(build, "demo")
    assert opening()[1] == []  # the plan's scan filled the cache
    report = write_tree(plan, tmp_path / "out", version="1.0")
    assert report.linked > 10 and report.copied == 0
    again, opened = opening()
    assert opened == []
    assert (
        again.entries
        == scan(build, stamp_glob="demo_stamp_*", executables=["usr/bin/demo"], cache=False).entries
    )
    # A file changed after the tree was written is read again all the same.
    gtk = build / "usr/lib/demo/ui/gtk.so"
    st = gtk.stat()
    with gtk.open("r+b") as f:
        f.write(b"\x7fELF")  # the same bytes: only its times change, and its mtime is put back
    os.utime(gtk, ns=(st.st_atime_ns, st.st_mtime_ns))
    _, opened = opening()
    assert opened == [str(gtk)]
