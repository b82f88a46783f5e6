"""Debian trixie's real QEMU 10.0 build split with `qemu-debian-trixie`: every file and symlink in
the same package as in trixie's own .debs, lists that the real dh_install + dh_missing
--fail-missing accept, and the sibling Depends trixie's packages declare.

The 8 packages are downloaded once with a private apt configuration (tests/trixie_debs.py) into
`<cache>/trixie-debs/` and extracted with `dpkg-deb -x` into one staged tree. qpack runs as the
command line, in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from qpack.elf import ELF_MAGIC, read_elf, read_elf_pyelftools

from . import trixie_debs
from .conftest import cache_dir, run_qpack
from .trixie_debs import PACKAGES, deb_contents, deb_field

LAYOUT = "qemu-debian-trixie"
MODDIR = "usr/lib/x86_64-linux-gnu/qemu"
# What the layout's header says it was checked against.
CHECKED_VERSION = "1:10.0.13+ds-0+deb13u1"
CHECKED_FILES = 383
CHECKED_MODULES = 38


@dataclass(frozen=True)
class Trixie:
    debs: dict[str, Path]  # package -> .deb
    root: Path  # all 8 extracted into one staged tree (prefix /usr)
    version: str  # Version of qemu-system-x86


@pytest.fixture(scope="module")
def trixie(tmp_path_factory: pytest.TempPathFactory) -> Trixie:
    try:
        debs = trixie_debs.fetch(cache_dir() / "trixie-debs")
    except trixie_debs.Unavailable as e:
        pytest.skip(f"trixie's QEMU packages: {e}")
    except subprocess.TimeoutExpired as e:
        pytest.skip(f"trixie's QEMU packages: {e.cmd[0]} timed out after {e.timeout} s")
    version = deb_field(debs["qemu-system-x86"], "Version")
    if not re.match(r"1:10\.0[.+~]", version):
        pytest.skip(f"trixie's qemu-system-x86 is {version}, not 1:10.0.x: {LAYOUT} describes 10.0")
    # One build: the arch packages share qemu-system-x86's version, the arch:all data its upstream.
    other = {p: deb_field(d, "Version") for p, d in debs.items()}
    upstream = version.rsplit("-", 1)[0]
    mixed = {
        p: v
        for p, v in other.items()
        if (v.rsplit("-", 1)[0] != upstream if p == "qemu-system-data" else v != version)
    }
    assert not mixed, f"the cached .debs mix versions (delete {cache_dir() / 'trixie-debs'}): {mixed}"
    root = tmp_path_factory.mktemp("trixie") / "build"
    for deb in debs.values():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return Trixie(debs, root, version)


@pytest.fixture(scope="module")
def split(trixie: Trixie, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trixie-split") / "out"
    r = run_qpack(
        "split", str(trixie.root), "-l", LAYOUT, "--version", trixie.version,
        "--format", "tree", "-o", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return out


def _manifest(out: Path) -> dict[str, dict]:
    return {p["name"]: p for p in json.loads((out / "manifest.json").read_text())["packages"]}


@pytest.mark.network
@pytest.mark.qemu
def test_every_file_in_the_same_package_as_trixies_debs(trixie: Trixie, split: Path) -> None:
    manifest = _manifest(split)
    ours: dict[str, tuple[str, str]] = {}
    for p in manifest.values():
        for f in p["files"]:
            if f["kind"] == "dir":
                continue
            ours[f["path"]] = (
                p["name"],
                f"symlink -> {f['target']}" if f["kind"] == "symlink" else f["kind"],
            )
    debian = {path: (pkg, kind) for pkg in PACKAGES for path, kind in deb_contents(trixie.debs[pkg]).items()}
    lines = []
    for pkg in PACKAGES:
        theirs = {x for x, (q, _) in debian.items() if q == pkg}
        same = sum(ours.get(x) == debian[x] for x in theirs)
        lines.append(f"{pkg}: {same}/{len(theirs)}")
    print(f"{trixie.version}: " + ", ".join(lines))
    diffs = [
        f"{path}: Debian {debian.get(path, ('(absent)', ''))}, qpack {ours.get(path, ('(absent)', ''))}"
        for path in sorted(set(ours) | set(debian))
        if ours.get(path) != debian.get(path)
    ]
    assert not diffs, (
        f"{len(diffs)} difference(s) from trixie's .debs {trixie.version}:\n"
        + "\n".join(diffs)
        + "\nper package (same/Debian's): "
        + ", ".join(lines)
    )
    assert sorted(manifest) == sorted(PACKAGES)
    if trixie.version == CHECKED_VERSION:
        assert len(debian) == CHECKED_FILES
    # The non-relocatable loader's absolute module dir still finds every module.
    modules = {m for p in manifest.values() for m in p["modules"]}
    on_disk = {p.name.removesuffix(".so") for p in (trixie.root / MODDIR).glob("*.so")}
    assert modules == on_disk
    if trixie.version == CHECKED_VERSION:
        assert len(modules) == CHECKED_MODULES


@pytest.mark.network
@pytest.mark.qemu
def test_install_lists_and_trees_are_each_debs_file_list(trixie: Trixie, split: Path) -> None:
    for pkg in PACKAGES:
        expected = sorted(deb_contents(trixie.debs[pkg]))
        install = sorted((split / "debian" / f"{pkg}.install").read_text().splitlines())
        assert install == expected, pkg
        tree = sorted(
            p.relative_to(split / pkg).as_posix()
            for p in (split / pkg).rglob("*")
            if p.is_symlink() or not p.is_dir()
        )
        assert tree == expected, pkg
    # A symlink to a directory, claimed by an exact path, listed as the link itself.
    doc = split / "qemu-system-x86/usr/share/doc/qemu-system-x86"
    assert doc.is_symlink() and os.readlink(doc) == "qemu-system-common"


def _sibling_depends(deb: Path) -> tuple[list[str], list[str]]:
    """Debian's Depends on qemu-* siblings: (those we can say, those only alternatives say).
    `qemu-system-any` is a virtual package every qemu-system-<arch> Provides; in this x86 split
    its provider is qemu-system-x86 (which Provides `qemu-system-any (= V)`)."""
    plain, alternatives = [], []
    for dep in deb_field(deb, "Depends").split(","):
        alts = [a.strip() for a in dep.split("|")]
        if not alts[0].startswith("qemu-"):
            continue
        first = alts[0].replace("qemu-system-any ", "qemu-system-x86 ", 1)
        plain.append(first)
        if len(alts) > 1:
            alternatives.append(dep.strip())
    return plain, alternatives


@pytest.mark.network
@pytest.mark.qemu
def test_sibling_requirements_follow_trixies_depends(trixie: Trixie, split: Path) -> None:
    provides = deb_field(trixie.debs["qemu-system-x86"], "Provides")
    assert f"qemu-system-any (= {trixie.version})" in provides
    manifest = _manifest(split)
    unsaid = []
    for pkg in PACKAGES:
        debians, alternatives = _sibling_depends(trixie.debs[pkg])
        unsaid += alternatives
        ours = [r["debian"] for r in manifest[pkg]["requires"]]
        assert set(debians) <= set(ours), (pkg, debians, ours)
        # module_dep may add a sibling Debian gets through qemu-system-x86's pin: the *-gl
        # displays load qemu-system-common's virtio-gpu/-vga first.
        extra = {r["package"] for r in manifest[pkg]["requires"]} - {d.split()[0] for d in debians}
        allowed = {"qemu-system-common"} if pkg == "qemu-system-modules-opengl" else set()
        assert extra <= allowed, (pkg, extra)
    x86 = {r["package"]: r for r in manifest["qemu-system-x86"]["requires"]}
    assert x86["qemu-system-data"]["relation"] == ">>"
    # The one set of alternatives the layout format cannot say (it names the first one's provider).
    assert unsaid == [f"qemu-system-any (= {trixie.version}) | qemu-utils (= {trixie.version})"], unsaid


def _debian_source(split: Path, build: Path, where: Path) -> Path:
    """A fake source package: debian/control for the 8 packages (compat 13), our .install files
    and debian/tmp = the build (hard links where the filesystem allows)."""
    (where / "debian").mkdir(parents=True)
    control = "Source: qemu\nMaintainer: Q <q@example.org>\nBuild-Depends: debhelper-compat (= 13)\n"
    for pkg in PACKAGES:
        control += f"\nPackage: {pkg}\nArchitecture: any\nDescription: {pkg}\n test\n"
        shutil.copy(split / "debian" / f"{pkg}.install", where / "debian" / f"{pkg}.install")
    (where / "debian/control").write_text(control)

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(build, where / "debian/tmp", symlinks=True, copy_function=link)
    return where


def _debhelper(src: Path, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), cwd=src, capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.skipif(
    not (shutil.which("dh_install") and shutil.which("dh_missing")),
    reason="debhelper not installed (apt-get install debhelper)",
)
@pytest.mark.network
@pytest.mark.qemu
def test_real_dh_install_and_dh_missing_fail_missing(trixie: Trixie, split: Path, tmp_path: Path) -> None:
    """Our .install files, used as-is by dh_install from debian/tmp, install exactly each .deb's
    files and symlinks, and dh_missing --fail-missing finds nothing left behind."""
    src = _debian_source(split, trixie.root, tmp_path / "src")
    r = _debhelper(src, "dh_install")
    assert r.returncode == 0, r.stderr
    r = _debhelper(src, "dh_missing", "--fail-missing")
    assert r.returncode == 0, r.stdout + r.stderr
    for pkg in PACKAGES:
        got_root = src / "debian" / pkg
        got = {
            p.relative_to(got_root).as_posix(): (f"symlink -> {os.readlink(p)}" if p.is_symlink() else "file")
            for p in got_root.rglob("*")
            if p.is_symlink() or not p.is_dir()
        }
        assert got == deb_contents(trixie.debs[pkg]), pkg

    # dh_missing does check: one line fewer and it names the file it found nowhere.
    src2 = _debian_source(split, trixie.root, tmp_path / "src2")
    install = src2 / "debian/qemu-system-common.install"
    install.write_text(
        "".join(
            x for x in install.read_text().splitlines(True) if not x.endswith("qemu-vmsr-helper.socket\n")
        )
    )
    assert _debhelper(src2, "dh_install").returncode == 0
    r = _debhelper(src2, "dh_missing", "--fail-missing")
    assert r.returncode != 0
    assert "usr/lib/systemd/system/qemu-vmsr-helper.socket" in r.stdout + r.stderr


def test_machine_mirror_reads_both_source_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No network: the mirror is the machine's own entry for its release, in either format."""
    monkeypatch.delenv("QPACK_DEBIAN_MIRROR", raising=False)
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list").write_text(
        "# deb http://old.example/debian bookworm main\n"
        "deb https://packages.example/apt cloud-sdk-bookworm main\n"
    )
    (etc / "sources.list.d/debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
        "Components: main\n\n"
        "Types: deb deb-src\n# a comment\nURIs: http://mirror.example/debian/\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n"
    )
    assert trixie_debs.machine_mirror(etc, "bookworm") == "http://mirror.example/debian"
    (etc / "sources.list.d/debian.sources").unlink()
    (etc / "sources.list.d/x.list").write_text(
        "deb [signed-by=/usr/share/keyrings/k.gpg arch=amd64] http://one.example/debian bookworm main\n"
    )
    assert trixie_debs.machine_mirror(etc, "bookworm") == "http://one.example/debian"
    with pytest.raises(trixie_debs.Unavailable, match="QPACK_DEBIAN_MIRROR"):
        trixie_debs.machine_mirror(etc, "trixie")
    monkeypatch.setenv("QPACK_DEBIAN_MIRROR", "http://env.example/debian")
    assert trixie_debs.machine_mirror(etc, "trixie") == "http://env.example/debian"


def test_read_elf_agrees_with_pyelftools_on_every_elf_file_without_a_warning(trixie: Trixie) -> None:
    """trixie's binaries carry dynamic tags LIEF's enum does not name (0x60000001): reading
    them must neither fail nor warn on stderr, and must give pyelftools' facts."""
    files = [p for p in sorted(trixie.root.rglob("*")) if p.is_file() and not p.is_symlink()]
    elves = [p for p in files if p.read_bytes()[:4] == ELF_MAGIC]
    assert len(elves) > 40
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in elves:
            with path.open("rb") as f:
                fast = read_elf(f, "qemu_stamp_*")
            with path.open("rb") as f:
                assert fast == read_elf_pyelftools(f, "qemu_stamp_*"), path
    program = next(p for p in elves if p.name == "qemu-system-x86_64")
    with program.open("rb") as f:
        assert read_elf(f).gnu_hash
