"""LIEF (fast, what `check` reads link facts with) against pyelftools (the independent oracle):
the same machine, class, type, SONAME, NEEDED, RPATH, RUNPATH and defined symbols for every ELF
file of the demo build and of Debian's QEMU build, and the same refusal of damaged files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qpack.elf import ELF_MAGIC, ElfReadError, read_link_facts, read_link_facts_path

from .conftest import QemuBuild


def elf_files(root: Path) -> list[Path]:
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            with p.open("rb") as f:
                if f.read(4) == ELF_MAGIC:
                    out.append(p)
    return out


def stamps(path: Path) -> tuple[str, ...]:
    found = re.findall(rb"(?:qemu|demo)_stamp_[0-9a-f]{40}", path.read_bytes())
    return (*sorted({s.decode() for s in found}), "qemu_module_dummy", "demo_module_dummy", "no_such")


def agree(path: Path) -> None:
    wanted = stamps(path)
    with path.open("rb") as f:
        oracle = read_link_facts(f, wanted)
    assert read_link_facts_path(path, wanted) == oracle, path


def test_lief_agrees_with_pyelftools_on_the_demo(demo_build: Path) -> None:
    files = elf_files(demo_build)
    assert len(files) >= 10
    for path in files:
        agree(path)


@pytest.mark.qemu
@pytest.mark.network
def test_lief_agrees_with_pyelftools_on_qemu(qemu_build: QemuBuild) -> None:
    files = [p for p in elf_files(qemu_build.root) if "/share/" not in str(p)]
    assert len(files) > 40
    for path in files:
        agree(path)


@pytest.mark.parametrize("keep", [64, 1000, 4000])
def test_damaged_files_are_refused_by_both(demo_build: Path, tmp_path: Path, keep: int) -> None:
    src = demo_build / "usr/lib/demo/ui/gtk.so"
    cut = tmp_path / "cut.so"
    cut.write_bytes(src.read_bytes()[:keep])
    with pytest.raises(ElfReadError):
        read_link_facts_path(cut)
    with pytest.raises(ElfReadError), cut.open("rb") as f:
        read_link_facts(f)


def test_garbage_after_the_magic_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.so"
    bad.write_bytes(ELF_MAGIC + b"\0" * 12 + b"garbage" * 10)
    with pytest.raises(ElfReadError):
        read_link_facts_path(bad)
