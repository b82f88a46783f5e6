"""Wheels of Debian's real QEMU build: pip installs the core and chosen ui modules into a fresh
venv, and the relocated emulator's loader finds exactly those (`-display help`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qpack.install import read_wheel
from qpack.versions import to_pep440

from .conftest import QemuBuild, make_venv

pytestmark = [pytest.mark.qemu, pytest.mark.network]

EMULATOR = "usr/bin/qemu-system-x86_64"
UI_MODULES = ("usr/lib/x86_64-linux-gnu/qemu/ui-curses.so", "usr/lib/x86_64-linux-gnu/qemu/ui-gtk.so")
OUTSIDE = ["etc/qemu-ifdown", "etc/qemu-ifup", "lib/systemd/system/run-qemu.mount"]


def missing_libraries(files: list[Path]) -> list[str]:
    missing: set[str] = set()
    for f in files:
        r = subprocess.run(["ldd", str(f)], capture_output=True, text=True, check=False, timeout=60)
        missing |= set(re.findall(r"^\s*(\S+) => not found", r.stdout, re.MULTILINE))
    return sorted(missing)


@pytest.fixture(scope="module")
def runnable(qemu_build: QemuBuild) -> QemuBuild:
    files = [qemu_build.root / p for p in (EMULATOR, *UI_MODULES)]
    missing = missing_libraries(files)
    if missing:
        pytest.skip(
            "the host lacks QEMU's runtime libraries "
            f"({', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}); "
            "apt-get install --no-install-recommends qemu-system-x86 qemu-system-gui brings them"
        )
    return qemu_build


def split(build: Path, out: Path, version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qpack", "split", str(build), "-l", "qemu", "--version", version,
         "-o", str(out), "--drop-outside-prefix", "--compression-level", "1"],
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def qemu_dist(runnable: QemuBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qemu-wheels") / "dist"
    r = split(runnable.root, out, runnable.version)
    assert r.returncode == 0, r.stderr
    # The files outside /usr are listed, and in no wheel.
    for path in OUTSIDE:
        assert f"warning: {path}: outside the prefix /usr, left out of the wheels" in r.stderr
    for whl in out.glob("*.whl"):
        with zipfile.ZipFile(whl) as zf:
            assert not any(n.endswith(("qemu-ifup", "qemu-ifdown", "run-qemu.mount")) for n in zf.namelist())
    return out


def displays(venv: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QEMU_MODULE_DIR", "DISPLAY")}
    r = subprocess.run(
        [str(venv / "bin/qemu-system-x86_64"), "-display", "help"],
        capture_output=True, text=True, check=False, timeout=60, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Available display backend types:"
    return lines[1:]


def pip(venv: Path, *args: str) -> None:
    r = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "--disable-pip-version-check", "install", "--no-index",
         *args],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def test_core_plus_ui_curses_then_ui_gtk(runnable: QemuBuild, qemu_dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    make_venv(venv)
    version = to_pep440(runnable.version)
    core = next(qemu_dist.glob("qemu_core-*.whl"))
    curses = next(qemu_dist.glob("qemu_ui_curses-*.whl"))
    assert core.name == f"qemu_core-{version}-py3-none-linux_x86_64.whl"
    pip(venv, str(core), str(curses))
    shown = displays(venv)
    assert "curses" in shown
    assert "gtk" not in shown
    # Since 7.1 QEMU looks in <exe dir>/qemu-bundle/<configured path> first, where the wheel put it.
    assert (venv / "bin/qemu-bundle/usr/lib/x86_64-linux-gnu/qemu/ui-curses.so").is_file()
    # Debian's usr/bin/kvm -> qemu-system-x86_64 is a copy of the binary, executable.
    assert (venv / "bin/kvm").read_bytes()[:4] == b"\x7fELF"
    assert os.access(venv / "bin/kvm", os.X_OK)

    pip(venv, "--find-links", str(qemu_dist), "qemu[ui-gtk]")
    shown = displays(venv)
    assert "gtk" in shown
    assert "curses" in shown
    # ui-gtk's dependency
    assert (venv / "bin/qemu-bundle/usr/lib/x86_64-linux-gnu/qemu/ui-opengl.so").is_file()

    # PEP 685: the module accel-tcg-x86_64 is the extra accel-tcg-x86-64, which any pip accepts.
    pip(venv, "--find-links", str(qemu_dist), "qemu[accel-tcg-x86-64]")
    assert (venv / "bin/qemu-bundle/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so").is_file()


def test_meta_wheel_extras_and_pins(runnable: QemuBuild, qemu_dist: Path) -> None:
    version = to_pep440(runnable.version)
    meta = read_wheel(next(qemu_dist.glob("qemu-*.whl")))
    assert {"ui-curses", "ui-gtk", "block", "ui", "all", "accel-tcg-x86-64"} <= meta.extras  # PEP 685
    assert f'qemu-accel-tcg-x86-64=={version}; extra == "accel-tcg-x86-64"' in {str(r) for r in meta.requires}
    gtk = read_wheel(next(qemu_dist.glob("qemu_ui_gtk-*.whl")))
    assert sorted(str(r) for r in gtk.requires) == [f"qemu-core=={version}", f"qemu-ui-opengl=={version}"]


def test_qemu_split_is_byte_identical(runnable: QemuBuild, qemu_dist: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    r = split(runnable.root, again, runnable.version)
    assert r.returncode == 0, r.stderr
    first = sorted(qemu_dist.iterdir())
    assert [p.name for p in first] == sorted(p.name for p in again.iterdir())
    assert len(first) > 30
    for p in first:
        assert p.read_bytes() == (again / p.name).read_bytes(), p.name
