"""Shared fixtures: the demo build (real C compiler) and Debian's real QEMU build.

Debian's QEMU packages are downloaded once into a cache (`$QPACK_TEST_CACHE`, default
`~/.cache/qpack-tests`) with `apt-get download` and extracted with `dpkg-deb -x` into one tree,
the way the facts document describes. When they cannot be had, the tests that need them skip
with the reason.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from qpack.demo.builder import build_demo

# The scan cache (qpack.scan_cache) of this test session: on, as users have it, so every test
# that scans a build twice goes through it, but never the user's own ~/.cache/qpack.
if "QPACK_CACHE_DIR" not in os.environ:
    os.environ["QPACK_CACHE_DIR"] = _SCAN_CACHE = tempfile.mkdtemp(prefix="qpack-scan-cache-")
    atexit.register(shutil.rmtree, _SCAN_CACHE, ignore_errors=True)  # one a session, not left behind

QEMU_PACKAGES = (
    "qemu-system-x86",
    "qemu-system-common",
    "qemu-system-gui",
    "qemu-block-extra",
    "qemu-utils",
    "qemu-system-data",
)


def cache_dir() -> Path:
    d = Path(os.environ.get("QPACK_TEST_CACHE", Path.home() / ".cache" / "qpack-tests"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def have_cc() -> bool:
    return any(shutil.which(c) for c in (os.environ.get("CC") or "cc", "cc", "gcc"))


def compile_c(work: Path, out: Path, source: str, *args: str) -> None:
    """`out` built from the C `source` (written beside it in `work`) by the system compiler."""
    src = work / f"{out.name}.c"
    src.write_text(source)
    cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
    subprocess.run([cc, "-o", str(out), str(src), *args], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A staged install tree of the demo program (prefix /usr). Treat it as read-only."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the demo build needs one")
    return build_demo(tmp_path_factory.mktemp("demo") / "build")


@dataclass(frozen=True)
class QemuBuild:
    debs: dict[str, Path]  # package name -> .deb
    root: Path  # all .debs extracted into one staged tree
    version: str  # the Debian version of the architecture-dependent packages

    def deb_version(self, package: str) -> str:
        return deb_field(self.debs[package], "Version")


def deb_field(deb: Path, field: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), field], check=True, capture_output=True, text=True
    ).stdout.strip()


def _download(dest: Path) -> dict[str, Path]:
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        pytest.skip("apt-get/dpkg-deb not available: cannot download Debian's QEMU packages")
    dest.mkdir(parents=True, exist_ok=True)
    found = {p: sorted(dest.glob(f"{p}_*.deb")) for p in QEMU_PACKAGES}
    if all(found.values()):
        return {p: f[-1] for p, f in found.items()}
    r = subprocess.run(
        ["apt-get", "download", *QEMU_PACKAGES],
        cwd=dest,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    found = {p: sorted(dest.glob(f"{p}_*.deb")) for p in QEMU_PACKAGES}
    if r.returncode != 0 or not all(found.values()):
        msg = (r.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(
            f"cannot download Debian's QEMU packages with apt-get download (run apt-get update?): {msg}"
        )
    return {p: f[-1] for p, f in found.items()}


@pytest.fixture(scope="session")
def qemu_build(tmp_path_factory: pytest.TempPathFactory) -> QemuBuild:
    debs = _download(cache_dir() / "qemu-debs")
    root = tmp_path_factory.mktemp("qemu") / "build"
    for deb in debs.values():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return QemuBuild(debs, root, deb_field(debs["qemu-system-x86"], "Version"))


def copy_build(src: Path, tmp_path: Path) -> Path:
    """A writable copy of a (session-shared, read-only) build, symlinks kept as links."""
    dst = tmp_path / "build"
    shutil.copytree(src, dst, symlinks=True)
    return dst


def make_venv(path: Path) -> Path:
    """A fresh venv with pip (no network needed); returns its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


@pytest.fixture
def fresh_venv(tmp_path: Path) -> Path:
    return make_venv(tmp_path / "venv")


def run_demo(exe: Path, module_dir: Path | str | None = None) -> tuple[dict[str, str], str]:
    """Run the real demo program (`DEMO_MODULE_DIR` set to `module_dir` if given): the modules
    it loaded, id -> file, and what it printed on stderr. It must exit 0."""
    env = {**os.environ, **({"DEMO_MODULE_DIR": str(module_dir)} if module_dir is not None else {})}
    r = subprocess.run([str(exe)], capture_output=True, text=True, check=False, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        if line.startswith("loaded "):
            _, mid, _, path = line.split(" ", 3)
            out[mid] = path
    return out, r.stderr


def run_qpack(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "qpack", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=900,
    )
