"""Debian's real QEMU build split with `qemu-debian`: the same package for every file as
Debian's own .debs, Debian's sibling pins, and the library packages Debian's Depends names."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import QEMU_PACKAGES, QemuBuild, deb_field, run_qpack

pytestmark = pytest.mark.qemu


def deb_contents(deb: Path) -> dict[str, str]:
    """Debian's own list: path -> 'file' or 'symlink -> target' (directories left out: dpkg
    shares them between packages)."""
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, capture_output=True, text=True).stdout
    files = {}
    for line in out.splitlines():
        perms, _owner, _size, _date, _time, rest = line.split(None, 5)
        if perms.startswith("d"):
            continue
        if perms.startswith("l"):
            path, target = rest.split(" -> ", 1)
            files[path.removeprefix("./")] = f"symlink -> {target}"
        else:
            files[rest.removeprefix("./")] = "file"
    return files


@pytest.fixture(scope="module")
def bookworm(qemu_build: QemuBuild) -> QemuBuild:
    if not re.match(r"(\d+:)?7\.2[+.~-]", qemu_build.version):
        pytest.skip(
            f"the downloaded QEMU is {qemu_build.version}, not bookworm's 7.2: qemu-debian describes 7.2"
        )
    return qemu_build


@pytest.fixture(scope="module")
def split(bookworm: QemuBuild, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    out = tmp_path_factory.mktemp("qemu-split") / "out"
    t0 = time.monotonic()
    r = run_qpack(
        "split", str(bookworm.root), "--layout", "qemu-debian", "--version", bookworm.version,
        "--format", "tree", "-o", str(out),
    )  # fmt: skip
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    return out, elapsed


def test_every_file_in_the_same_package_as_debians_deb(
    bookworm: QemuBuild, split: tuple[Path, float]
) -> None:
    out, elapsed = split
    manifest = json.loads((out / "manifest.json").read_text())
    ours: dict[str, tuple[str, str]] = {}
    for p in manifest["packages"]:
        for f in p["files"]:
            kind = f"symlink -> {f['target']}" if f["kind"] == "symlink" else f["kind"]
            ours[f["path"]] = (p["name"], kind)
    debian: dict[str, tuple[str, str]] = {}
    for pkg in QEMU_PACKAGES:
        for path, kind in deb_contents(bookworm.debs[pkg]).items():
            debian[path] = (pkg, kind)
    diffs = [
        f"{path}: Debian {debian.get(path, ('(absent)', ''))}, qpack {ours.get(path, ('(absent)', ''))}"
        for path in sorted(set(ours) | set(debian))
        if ours.get(path) != debian.get(path)
    ]
    assert not diffs, f"{len(diffs)} difference(s) from Debian's .debs:\n" + "\n".join(diffs)
    assert sorted(p["name"] for p in manifest["packages"]) == sorted(QEMU_PACKAGES)
    assert any(k.startswith("symlink") for _, k in ours.values())
    print(f"split of {len(ours)} files into {len(manifest['packages'])} packages: {elapsed:.2f} s")


def test_install_files_and_trees_match_each_deb(bookworm: QemuBuild, split: tuple[Path, float]) -> None:
    out, _ = split
    for pkg in QEMU_PACKAGES:
        expected = sorted(deb_contents(bookworm.debs[pkg]))
        install = sorted((out / "debian" / f"{pkg}.install").read_text().splitlines())
        assert install == expected, pkg
        rpm = [
            x for x in (out / "rpm" / f"{pkg}.files").read_text().splitlines() if not x.startswith("%dir ")
        ]
        assert sorted(x.removeprefix("%config(noreplace) ").removeprefix("/") for x in rpm) == expected, pkg
        # Files under /etc are configuration: %config(noreplace), so an upgrade keeps edits.
        assert all(x.startswith("%config(noreplace) /etc/") for x in rpm if "/etc/" in x), pkg
        tree = sorted(
            p.relative_to(out / pkg).as_posix()
            for p in (out / pkg).rglob("*")
            if not p.is_dir() or p.is_symlink()
        )
        assert tree == expected, pkg
    assert (out / "qemu-system-x86/usr/bin/kvm").is_symlink()
    assert (
        "%dir /usr/share/doc/qemu-block-extra"
        in (out / "rpm/qemu-block-extra.files").read_text().splitlines()
    )


def test_sibling_pins_are_debians(bookworm: QemuBuild, split: tuple[Path, float]) -> None:
    out, _ = split
    pk = {p["name"]: p for p in json.loads((out / "manifest.json").read_text())["packages"]}
    for pkg in QEMU_PACKAGES:
        depends = deb_field(bookworm.debs[pkg], "Depends")
        # Debian's sibling pins (the first of each set of alternatives: qemu-system-x86 before
        # the other architectures' emulators and qemu-utils) are ours, relation and version.
        debians = [dep.split("|")[0].strip() for dep in depends.split(",") if dep.strip().startswith("qemu-")]
        ours = [r["debian"] for r in pk[pkg]["requires"]]
        assert set(debians) <= set(ours), (pkg, debians, ours)
        # Ours may add a sibling that module_dep makes necessary (qemu-system-gui's ui-gtk needs
        # ui-opengl in qemu-system-common); Debian gets it through qemu-system-x86's pin.
        extra = {r["package"] for r in pk[pkg]["requires"]} - {d.split()[0] for d in debians}
        assert extra <= ({"qemu-system-common"} if pkg == "qemu-system-gui" else set()), (pkg, extra)
    x86 = {r["package"]: r for r in pk["qemu-system-x86"]["requires"]}
    assert x86["qemu-system-common"]["relation"] == "="
    assert x86["qemu-system-common"]["version"] == bookworm.version
    assert x86["qemu-system-data"]["relation"] == ">>"
    # The data package is arch:all, with its own version (no binNMU suffix): the loose pin holds.
    data_version = bookworm.deb_version("qemu-system-data")
    assert x86["qemu-system-data"]["version"] == data_version.rsplit("-", 1)[0] + "~"
    assert [r["package"] for r in pk["qemu-block-extra"]["requires"]] == ["qemu-system-x86"]


def _installed(package: str) -> bool:
    r = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return r.returncode == 0 and r.stdout.strip() == "installed"


def test_resolve_libs_dpkg_matches_debians_depends(bookworm: QemuBuild, tmp_path: Path) -> None:
    depends = deb_field(bookworm.debs["qemu-block-extra"], "Depends")
    # Library packages Debian's dpkg-shlibdeps put there; qemu-* are the sibling pins.
    libs = sorted(
        {re.split(r"[\s(]", alt.strip())[0] for dep in depends.split(",") for alt in dep.split("|")} - {""}
    )
    libs = [x for x in libs if not x.startswith("qemu-")]
    assert "libcurl3-gnutls" in libs and "libiscsi7" in libs
    missing = [x for x in libs if not _installed(x)]
    if missing:
        pytest.skip(
            "the libraries of qemu-block-extra are not installed on this host (apt-get install "
            f"qemu-block-extra): missing {', '.join(missing)}"
        )
    out = tmp_path / "out"
    r = run_qpack(
        "split", str(bookworm.root), "--layout", "qemu-debian", "--version", bookworm.version,
        "--format", "tree", "-o", str(out), "--resolve-libs", "dpkg",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    pk = {p["name"]: p for p in json.loads((out / "manifest.json").read_text())["packages"]}
    block = pk["qemu-block-extra"]
    assert block["unresolved_libraries"] == []
    assert set(libs) <= set(block["library_packages"]), (libs, block["library_packages"])
    # No module's library needs include the core's symbols: only real sonames, none of the build's.
    sonames = {x["soname"] for x in block["libraries"]["external"]}
    assert "libcurl-gnutls.so.4" in sonames and all(".so" in s for s in sonames)


@pytest.mark.skipif(
    not shutil.which("dh_install"), reason="debhelper not installed (apt-get install debhelper)"
)
def test_real_dh_install_rebuilds_each_debs_file_list(
    bookworm: QemuBuild, split: tuple[Path, float], tmp_path: Path
) -> None:
    """Our .install files, used as-is by dh_install with the build as its source dir, install
    exactly the files of each of Debian's .debs."""
    out, _ = split
    src = tmp_path / "src"
    (src / "debian").mkdir(parents=True)
    control = "Source: qemu\nMaintainer: Q <q@example.org>\nBuild-Depends: debhelper-compat (= 13)\n"
    for pkg in QEMU_PACKAGES:
        control += f"\nPackage: {pkg}\nArchitecture: any\nDescription: {pkg}\n test\n"
        shutil.copy(out / "debian" / f"{pkg}.install", src / "debian" / f"{pkg}.install")
    (src / "debian/control").write_text(control)
    r = subprocess.run(
        ["dh_install", f"--sourcedir={bookworm.root}"], cwd=src, capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    for pkg in QEMU_PACKAGES:
        got_root = src / "debian" / pkg
        got = {
            p.relative_to(got_root).as_posix(): (f"symlink -> {os.readlink(p)}" if p.is_symlink() else "file")
            for p in got_root.rglob("*")
            if p.is_symlink() or not p.is_dir()
        }
        assert got == deb_contents(bookworm.debs[pkg]), pkg
