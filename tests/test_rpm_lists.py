"""The RPM side of `split --format tree`, checked with the real rpmbuild: every `rpm/<pkg>.files`
list builds its subpackage from the build as buildroot (meta package included, with a bare
`%files`), every build file lands in exactly one package (rpmbuild's unpackaged-files check),
and the manifest's `rpm_requires` are the Requires rpm's own generator gives the package."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qpack.plan import is_system_dir

from .conftest import QemuBuild, run_qpack

pytestmark = pytest.mark.skipif(
    not shutil.which("rpmbuild") or not shutil.which("rpm"),
    reason="rpmbuild not installed (apt-get install rpm)",
)

# rpm's ELF dependencies (elfdeps); other generators add /bin/sh for scripts and rpmlib(...).
ELF_DEP = re.compile(r"^(\S+\.so[^(\s]*\(.*\)(\(64bit\))?|\S+\.so\S*|rtld\(GNU_HASH\))$")


def rpmbuild(
    out: Path, build: Path, workdir: Path
) -> tuple[dict[str, Path], subprocess.CompletedProcess[str]]:
    """Build one subpackage per manifest package with `%files -n NAME -f rpm/NAME.files` (a
    bare `%files -n NAME` where qpack wrote no list) from a copy of the build; excluded files
    are removed first, so rpmbuild's unpackaged-files check sees every other file packaged."""
    manifest = json.loads((out / "manifest.json").read_text())
    spec = [
        "%global debug_package %{nil}",
        "%global __os_install_post %{nil}",
        "%global _build_id_links none",
        "%global _binary_payload w0.ufdio",
        "%global _unpackaged_files_terminate_build 1",
        "Name: qpack-rpm-test",
        "Version: 1",
        "Release: 1",
        "Summary: t",
        "License: MIT",
        "%description",
        "t",
        "%install",
        f"cp -al '{build}/.' %{{buildroot}}/ 2>/dev/null || cp -a '{build}/.' %{{buildroot}}/",
    ]
    spec += [f"rm -rf '%{{buildroot}}/{x['path']}'" for x in manifest["excluded"]]
    spec += [f"rm -rf '%{{buildroot}}/{x}'" for x in manifest["unclaimed"]]
    for p in manifest["packages"]:
        name = p["name"]
        spec += [f"%package -n {name}", f"Summary: {name}", f"%description -n {name}", name]
        rpm_list = p["lists"]["rpm"]
        spec.append(f"%files -n {name} -f {out / rpm_list}" if rpm_list else f"%files -n {name}")
    (workdir / "t.spec").write_text("\n".join(spec) + "\n")
    r = subprocess.run(
        ["rpmbuild", "-bb", "--define", f"_topdir {workdir / 'top'}", str(workdir / "t.spec")],
        capture_output=True,
        text=True,
        check=False,
    )
    built = {}
    for rpm in (workdir / "top/RPMS").rglob("*.rpm") if r.returncode == 0 else ():
        name = rpm_query(rpm, "--queryformat", "%{NAME}")[0]
        built[name] = rpm
    return built, r


def rpm_query(rpm: Path, *args: str) -> list[str]:
    r = subprocess.run(["rpm", "-qp", *args, str(rpm)], capture_output=True, text=True, check=True)
    return [x for x in r.stdout.splitlines() if x]


def check_rpms(out: Path, built: dict[str, Path]) -> None:
    """Each built package holds exactly its list (files and %dir directories), and its ELF
    Requires are the manifest's."""
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(built) == sorted(p["name"] for p in manifest["packages"])
    for p in manifest["packages"]:
        rpm = built[p["name"]]
        listed = rpm_query(rpm, "--list")
        if p["lists"]["rpm"] is None:
            assert p["files"] == [] and listed == ["(contains no files)"], p["name"]
            continue
        # An empty base-system directory of the build (Fedora's staged usr/lib) is in the
        # package's files but owned by the filesystem package, not listed (qpack.writers.tree).
        own = [
            f for f in p["files"] if f["kind"] != "dir" or not is_system_dir(f["path"], manifest["prefix"])
        ]
        want = {"/" + d for d in p["dirs"]} | {"/" + f["path"] for f in own}
        assert set(listed) == want, p["name"]
        # Files under /etc are %config(noreplace): an upgrade keeps the administrator's edits
        # (a Kamailio tester's kamailio.cfg would have been replaced).
        configs = {"/" + f["path"] for f in own if f["kind"] == "file" and f["path"].startswith("etc/")}
        assert set(rpm_query(rpm, "--configfiles")) == configs, p["name"]
        noreplace = rpm_query(rpm, "--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\\n]")
        assert {x.split()[-1] for x in noreplace if x.startswith("cn ")} == configs, p["name"]
        requires = {x for x in rpm_query(rpm, "--requires") if ELF_DEP.match(x)}
        assert requires == set(p["rpm_requires"]), p["name"]


def test_rpmbuild_refuses_an_empty_files_list(tmp_path: Path) -> None:
    """Why qpack writes no list for a package without files."""
    (tmp_path / "empty.files").write_text("")
    (tmp_path / "t.spec").write_text(
        "Name: t\nVersion: 1\nRelease: 1\nSummary: t\nLicense: MIT\n%description\nt\n"
        f"%files -f {tmp_path / 'empty.files'}\n"
    )
    r = subprocess.run(
        ["rpmbuild", "-bb", "--define", f"_topdir {tmp_path / 'top'}", str(tmp_path / "t.spec")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode != 0 and "Empty %files file" in r.stderr


def test_rpmbuild_builds_every_package_of_the_demo_split(demo_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_qpack(
        "split", str(demo_build), "-l", "demo", "--version", "1.0-1", "--format", "tree", "-o", str(out)
    )
    assert r.returncode == 0, r.stderr
    assert not (out / "rpm/demo.files").exists()  # the meta package
    assert "rpm/demo.files not written" in r.stderr
    built, rb = rpmbuild(out, demo_build, tmp_path)
    assert rb.returncode == 0, rb.stderr[-3000:]
    check_rpms(out, built)
    core = json.loads((out / "manifest.json").read_text())["packages"][0]
    assert core["name"] == "demo-core"
    assert "libc.so.6()(64bit)" in core["rpm_requires"] and "rtld(GNU_HASH)" in core["rpm_requires"]


def test_rpmbuild_packages_a_file_named_with_a_backslash(demo_build: Path, tmp_path: Path) -> None:
    """systemd's units are named with escapes (system-systemd\\x2dcryptsetup.slice): a systemd
    tester's tree split was refused for the backslash, where rpmbuild takes the name as written
    (and does not find it written `\\\\x2d`); with a space too, quoted."""
    build = tmp_path / "build"
    shutil.copytree(demo_build, build, symlinks=True)
    (build / "usr/share/demo").mkdir(parents=True, exist_ok=True)
    names = ["system-systemd\\x2dcryptsetup.slice", "a b\\x2d.slice"]
    for name in names:
        (build / "usr/share/demo" / name).write_text("unit\n")
    out = tmp_path / "out"
    r = run_qpack("split", str(build), "-l", "demo", "--version", "1.0-1", "--format", "tree", "-o", str(out))
    assert r.returncode == 0, r.stderr
    built, rb = rpmbuild(out, build, tmp_path)
    assert rb.returncode == 0, rb.stderr[-3000:]
    check_rpms(out, built)
    listed = subprocess.run(
        ["rpm", "-qlp", *map(str, built.values())], capture_output=True, text=True, check=True
    ).stdout
    for name in names:
        assert f"/usr/share/demo/{name}" in listed.splitlines(), listed


@pytest.mark.qemu
@pytest.mark.parametrize("layout", ["qemu-debian", "qemu"])
def test_rpmbuild_builds_every_package_of_the_qemu_split(
    layout: str, qemu_build: QemuBuild, tmp_path: Path
) -> None:
    """Debian's split (six packages) and the neutral one (qemu-core, a package per module and
    the meta package `qemu`, built from a bare %files)."""
    if not re.match(r"(\d+:)?7\.2[+.~-]", qemu_build.version):
        pytest.skip(f"the downloaded QEMU is {qemu_build.version}, not bookworm's 7.2")
    out = tmp_path / "out"
    r = run_qpack(
        "split", str(qemu_build.root), "-l", layout, "--version", qemu_build.version,
        "--format", "tree", "-o", str(out), "--lists", "rpm",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert not (out / "debian").exists()
    built, rb = rpmbuild(out, qemu_build.root, tmp_path)
    assert rb.returncode == 0, rb.stderr[-3000:]
    check_rpms(out, built)
    block = rpm_query(
        built["qemu-block-extra" if layout == "qemu-debian" else "qemu-block-curl"], "--requires"
    )
    assert "libcurl-gnutls.so.4()(64bit)" in block and "libc.so.6(GLIBC_2.14)(64bit)" in block
    if layout == "qemu":
        assert rpm_query(built["qemu"], "--list") == ["(contains no files)"]
        assert len(built) > 30
        return
    # usr/share/qemu holds files of qemu-system-common and the arch:all qemu-system-data, neither
    # requiring the other: both own it, so installing either leaves no unowned directory.
    owners = sorted(n for n, rpm in built.items() if "/usr/share/qemu" in rpm_query(rpm, "--list"))
    assert owners == ["qemu-system-common", "qemu-system-data"]
