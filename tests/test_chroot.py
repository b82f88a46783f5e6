"""The issue's acceptance, in minimal Debian chroots (tests/chroots.py), as a new user would:
`python3 -m venv`, `pip install 'qemu[ui-curses]'`, `qemu-system-x86_64 -display help`, with no
environment variable set.

- trixie's QEMU 10.0 (built --disable-relocatable) in a trixie minbase chroot holding only
  python3-venv and the core's libraries: curses is listed and gtk is not; with gtk's libraries
  installed with apt, adding `qemu[ui-gtk]` adds gtk. The same for bookworm's 7.2 in a bookworm
  chroot, where `-bios qboot.rom -M microvm` also finds the firmware in the venv.
- `--bundle-libs` (libraries taken from a trixie chroot holding all of QEMU's, `--libs-root`): in a
  chroot holding python3-venv and only the manylinux policy's libraries, curses and gtk load;
  `--bundle-libs all`: the same in a chroot holding python3-venv only. `auditwheel show` agrees
  with every tag of the bundled split, and no library is in it twice.

Skipped, with the reason, without root, debootstrap, unshare or the Debian archive. The chroots
are cached under the test cache (`<cache>/chroots`); the first run builds them (minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from . import chroots, trixie_debs
from .conftest import QemuBuild, cache_dir
from .test_bundle import agrees_with_auditwheel, libs_in

pytestmark = [pytest.mark.qemu, pytest.mark.network]

# What the manylinux policy assumes a system has (auditwheel's allow-list), as Debian packages.
POLICY_LIBS = {
    "trixie": ["libglib2.0-0t64", "libx11-6", "libxext6", "libxrender1", "libice6", "libsm6", "libgl1",
               "libexpat1", "zlib1g", "libstdc++6", "libgcc-s1"],
    "bookworm": ["libglib2.0-0", "libx11-6", "libxext6", "libxrender1", "libice6", "libsm6", "libgl1",
                 "libexpat1", "zlib1g", "libstdc++6", "libgcc-s1"],
}  # fmt: skip
CORE_PACKAGES = ("qemu-system-x86", "qemu-utils")  # the emulators and tools of qemu-core
GTK_PACKAGES = ("qemu-system-gui", "qemu-system-modules-opengl")  # ui-gtk and ui-opengl


@pytest.fixture(scope="module")
def cache() -> Path:
    try:
        chroots.check_tools()
    except chroots.Unavailable as e:
        pytest.skip(f"chroot tests: {e}")
    return cache_dir() / "chroots"


@pytest.fixture(scope="module")
def mirror() -> str:
    try:
        return trixie_debs.machine_mirror()
    except trixie_debs.Unavailable as e:
        pytest.skip(f"chroot tests: {e}")


def chroot(cache: Path, suite: str, mirror: str, packages: Iterable[str] = ()) -> Path:
    try:
        return chroots.with_packages(cache, suite, mirror, packages)
    except chroots.Unavailable as e:
        pytest.skip(f"a {suite} chroot: {e}")


def libraries_of(debs: dict[str, Path], packages: Iterable[str]) -> list[str]:
    out: list[str] = []
    for p in packages:
        depends = subprocess.run(
            ["dpkg-deb", "-f", str(debs[p]), "Depends"], capture_output=True, text=True, check=True
        ).stdout
        out += chroots.library_packages(depends)
    return sorted(set(out))


def split(build: Path, version: str, out: Path, *extra: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "qpack", "split", str(build), "-l", "qemu", "--version", version,
         "-o", str(out), "--drop-outside-prefix", "--compression-level", "1", *extra],
        capture_output=True, text=True, check=False, timeout=1800,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
    )  # fmt: skip
    if r.returncode != 0 and "cannot be bundled" in r.stderr:
        pytest.skip(r.stderr.strip().splitlines()[-1])
    assert r.returncode == 0, r.stderr


class Venv:
    """A venv made inside a chroot, in the work directory that holds the wheels (dist/)."""

    def __init__(self, root: Path, work: Path, name: str) -> None:
        self.root, self.work, self.name = root, work, name
        shutil.rmtree(work / name, ignore_errors=True)
        self.sh(f"python3 -m venv {chroots.WORK}/{name}")

    def sh(self, script: str, timeout: int = 900) -> str:
        r = chroots.run(self.root, self.work, script, timeout)
        assert r.returncode == 0, f"{script}\n{r.stdout}\n{r.stderr}"
        return r.stdout

    def pip(self, *wanted: str) -> None:
        self.sh(
            f"{chroots.WORK}/{self.name}/bin/pip --disable-pip-version-check install --no-cache-dir "
            f"--no-index --find-links {chroots.WORK}/dist " + " ".join(f"'{w}'" for w in wanted)
        )

    def qemu(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        exe = f"{chroots.WORK}/{self.name}/bin/qemu-system-x86_64"
        script = f"cd / && printf '{stdin}' | {exe} " + " ".join(args)
        return chroots.run(self.root, self.work, script, 300)

    def displays(self) -> list[str]:
        r = self.qemu("-display", "help")
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == "Available display backend types:", r.stdout
        return lines[1:]


# --------------------------------------------------------------------------- the builds


@pytest.fixture(scope="module")
def trixie(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Path]]:
    try:
        debs = trixie_debs.fetch(cache_dir() / "trixie-debs")
    except trixie_debs.Unavailable as e:
        pytest.skip(f"trixie's QEMU packages: {e}")
    root = tmp_path_factory.mktemp("trixie") / "build"
    for deb in debs.values():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root, trixie_debs.deb_field(debs["qemu-system-x86"], "Version"), debs


@pytest.fixture(scope="module")
def trixie_work(trixie: tuple[Path, str, dict[str, Path]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("trixie-plain")
    split(trixie[0], trixie[1], work / "dist")
    return work


@pytest.fixture(scope="module")
def trixie_sysroot(cache: Path, mirror: str, trixie: tuple[Path, str, dict[str, Path]]) -> Path:
    """A trixie chroot holding every library QEMU's packages depend on: what is bundled."""
    return chroot(cache, "trixie", mirror, libraries_of(trixie[2], trixie_debs.PACKAGES))


@pytest.fixture(scope="module")
def bundled_work(
    trixie: tuple[Path, str, dict[str, Path]], trixie_sysroot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    work = tmp_path_factory.mktemp("trixie-bundled")
    split(trixie[0], trixie[1], work / "dist", "--bundle-libs", "--libs-root", str(trixie_sysroot))
    return work


@pytest.fixture(scope="module")
def bundled_all_work(
    trixie: tuple[Path, str, dict[str, Path]], trixie_sysroot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    work = tmp_path_factory.mktemp("trixie-bundled-all")
    split(trixie[0], trixie[1], work / "dist", "--bundle-libs", "all", "--libs-root", str(trixie_sysroot))
    return work


# --------------------------------------------------------------------------- trixie and bookworm


def test_trixie_venv_loads_curses_then_gtk(
    cache: Path, mirror: str, trixie: tuple[Path, str, dict[str, Path]], trixie_work: Path
) -> None:
    core_libs = libraries_of(trixie[2], CORE_PACKAGES)
    venv = Venv(chroot(cache, "trixie", mirror, core_libs), trixie_work, "venv-core")
    venv.pip("qemu[ui-curses]")
    shown = venv.displays()
    assert "curses" in shown
    assert "gtk" not in shown

    gtk_libs = libraries_of(trixie[2], GTK_PACKAGES)
    venv = Venv(chroot(cache, "trixie", mirror, core_libs + gtk_libs), trixie_work, "venv-gtk")
    venv.pip("qemu[ui-curses]")
    assert "gtk" not in venv.displays()
    venv.pip("qemu[ui-gtk]")
    shown = venv.displays()
    assert "gtk" in shown
    assert "curses" in shown


@pytest.fixture(scope="module")
def bookworm_work(qemu_build: QemuBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("bookworm-plain")
    split(qemu_build.root, qemu_build.version, work / "dist")
    return work


def test_bookworm_venv_loads_curses_then_gtk_and_finds_its_firmware(
    cache: Path, mirror: str, qemu_build: QemuBuild, bookworm_work: Path
) -> None:
    core_libs = libraries_of(qemu_build.debs, CORE_PACKAGES)
    gtk_libs = libraries_of(qemu_build.debs, ("qemu-system-gui",))
    venv = Venv(chroot(cache, "bookworm", mirror, core_libs + gtk_libs), bookworm_work, "venv")
    venv.pip("qemu[ui-curses,accel-tcg-x86-64]")  # TCG is a module in 7.2
    shown = venv.displays()
    assert "curses" in shown
    assert "gtk" not in shown
    dirs = venv.qemu("-L", "help").stdout.split()
    assert f"{chroots.WORK}/venv/bin/qemu-bundle/usr/share/qemu" in dirs
    r = venv.qemu(
        "-M", "microvm", "-bios", "qboot.rom", "-accel", "tcg", "-display", "none", "-S", "-monitor", "stdio",
        stdin="quit\\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    venv.pip("qemu[ui-gtk]")
    shown = venv.displays()
    assert "gtk" in shown
    assert "curses" in shown


# --------------------------------------------------------------------------- --bundle-libs


def test_bundled_wheels_run_where_only_the_policys_libraries_are(
    cache: Path, mirror: str, bundled_work: Path
) -> None:
    root = chroot(cache, "trixie", mirror, POLICY_LIBS["trixie"])
    venv = Venv(root, bundled_work, "venv-curses")
    venv.pip("qemu[ui-curses]")
    shown = venv.displays()
    assert "curses" in shown
    assert "gtk" not in shown
    venv = Venv(root, bundled_work, "venv-gtk")
    venv.pip("qemu[ui-gtk]")
    assert "gtk" in venv.displays()


def test_bundle_all_wheels_run_where_only_python3_venv_is(
    cache: Path, mirror: str, bundled_all_work: Path
) -> None:
    root = chroot(cache, "trixie", mirror)
    venv = Venv(root, bundled_all_work, "venv")
    venv.pip("qemu[ui-curses,ui-gtk]")
    shown = venv.displays()
    assert "curses" in shown
    assert "gtk" in shown


def test_the_bundled_split_agrees_with_auditwheel_and_bundles_each_library_once(bundled_work: Path) -> None:
    dist = bundled_work / "dist"
    assert agrees_with_auditwheel(dist) > 30
    seen: list[str] = []
    for whl in dist.glob("*.whl"):
        seen += libs_in(whl)
    assert seen
    assert len(seen) == len(set(seen))
