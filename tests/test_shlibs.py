"""Versioned library dependencies (qpack/shlibs.py) against the distros' own tools, run for real:
`dpkg-shlibdeps` on every package of Debian's bookworm QEMU split and on a library with crafted
symbols and shlibs files in a private dpkg database, `objdump -T -R` for the symbols each file
imports, `dpkg --compare-versions` for the version order."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from qpack.shlibs import DpkgData, compare_versions, package_depends, read_imports

from .conftest import QemuBuild, have_cc, run_qpack

needs_dpkg_dev = pytest.mark.skipif(
    not shutil.which("dpkg-shlibdeps"), reason="dpkg-shlibdeps not installed (apt-get install dpkg-dev)"
)
needs_objdump = pytest.mark.skipif(not shutil.which("objdump"), reason="objdump not installed (binutils)")
needs_cc = pytest.mark.skipif(not have_cc(), reason="no C compiler (cc/gcc)")


def dpkg_shlibdeps(files: list[Path], cwd: Path, *extra: str) -> str:
    """The real dpkg-shlibdeps' ${shlibs:Depends} for `files`, from a source dir with a control."""
    (cwd / "debian").mkdir(parents=True, exist_ok=True)
    (cwd / "debian/control").write_text(
        "Source: t\nMaintainer: T <t@example.org>\n\nPackage: t\nArchitecture: any\nDescription: t\n t\n"
    )
    r = subprocess.run(
        ["dpkg-shlibdeps", "-O", "--warnings=0", *extra, *[f"-e{f}" for f in files]],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().removeprefix("shlibs:Depends=")


# --------------------------------------------------------------------------- QEMU, bookworm


def _installed(package: str) -> bool:
    r = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return r.returncode == 0 and r.stdout.strip() == "installed"


@pytest.fixture(scope="module")
def bookworm_split(qemu_build: QemuBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not re.match(r"(\d+:)?7\.2[+.~-]", qemu_build.version):
        pytest.skip(f"the downloaded QEMU is {qemu_build.version}, not bookworm's 7.2")
    if not shutil.which("dpkg-shlibdeps"):
        pytest.skip("dpkg-shlibdeps not installed (apt-get install dpkg-dev)")
    missing = [
        p
        for p in ("qemu-system-x86", "qemu-system-gui", "qemu-block-extra", "qemu-utils")
        if not _installed(p)
    ]
    if missing:
        pytest.skip(
            "dpkg-shlibdeps needs the libraries QEMU links on this host (apt-get install "
            f"{' '.join(missing)})"
        )
    out = tmp_path_factory.mktemp("shlibs") / "out"
    r = run_qpack(
        "split", str(qemu_build.root), "-l", "qemu-debian", "--version", qemu_build.version,
        "--format", "tree", "-o", str(out), "--resolve-libs", "dpkg",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return out


def _host_elf_files(tree: Path) -> list[Path]:
    """What dh_shlibdeps hands dpkg-shlibdeps: the package's ELF programs and shared objects
    for the host machine (symlinks are not files of their own)."""
    out = []
    for p in sorted(tree.rglob("*")):
        if p.is_symlink() or not p.is_file():
            continue
        with p.open("rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
            f.seek(0)
            elf = ELFFile(f)
            if elf["e_machine"] == "EM_X86_64" and elf["e_type"] in ("ET_EXEC", "ET_DYN"):
                out.append(p)
    return out


@pytest.mark.qemu
@pytest.mark.network
def test_every_bookworm_package_depends_as_dpkg_shlibdeps_writes_it(
    bookworm_split: Path, qemu_build: QemuBuild, tmp_path: Path
) -> None:
    manifest = json.loads((bookworm_split / "manifest.json").read_text())
    jobs = {}
    with ThreadPoolExecutor() as pool:  # one dpkg-shlibdeps per package, side by side
        for pkg in manifest["packages"]:
            files = _host_elf_files(bookworm_split / pkg["name"]) if pkg["files"] else []
            if not files:  # qemu-system-data (firmware for other machines) and the meta package
                assert pkg["debian_depends"] == "", pkg["name"]
                continue
            jobs[pkg["name"]] = (pkg, pool.submit(dpkg_shlibdeps, files, tmp_path / pkg["name"]))
    for name, (pkg, theirs) in jobs.items():
        assert pkg["debian_depends"] == theirs.result(), name
    compared = len(jobs)
    assert compared == 5
    block = {p["name"]: p for p in manifest["packages"]}["qemu-block-extra"]
    assert block["debian_depends"].startswith("libc6 (>= 2.")
    assert "libcurl3-gnutls (>= 7.16.3)" in block["debian_depends"]
    # Debian's own .deb was built from these files with the same tool: its library part agrees.
    deb_depends = subprocess.run(
        ["dpkg-deb", "-f", str(qemu_build.debs["qemu-block-extra"]), "Depends"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    libs = ", ".join(d.strip() for d in deb_depends.split(",") if not d.strip().startswith("qemu-"))
    assert block["debian_depends"] == libs


@pytest.mark.qemu
@needs_objdump
def test_imported_symbols_are_objdumps(qemu_build: QemuBuild) -> None:
    """Every ELF file of the QEMU build: the undefined dynamic symbols objdump -T lists, with
    their versions, plus those a copy relocation (objdump -R) brings in."""
    files = [p for p in sorted(qemu_build.root.rglob("*.so")) if not p.is_symlink()]
    files += [qemu_build.root / "usr/bin" / p for p in ("qemu-img", "qemu-system-x86_64")]
    checked = 0
    for p in files:
        with p.open("rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
        assert set(read_imports(p).symbols) == objdump_imports(p), p
        checked += 1
    assert checked > 30


def objdump_imports(path: Path) -> set[str]:
    out = subprocess.run(["objdump", "-w", "-T", "-R", str(path)], capture_output=True, text=True, check=True)
    undefined: set[str] = set()
    defined: dict[str, str] = {}
    copied: set[str] = set()
    section = ""
    for line in out.stdout.splitlines():
        if line.startswith(("DYNAMIC SYMBOL TABLE", "DYNAMIC RELOCATION RECORDS")):
            section = line
            continue
        if section.startswith("DYNAMIC SYMBOL"):
            m = re.match(r"^[0-9a-f]+ .{7}\s+(\S+)\s+[0-9a-f]+\s+(\(?[A-Za-z0-9_.]+\)?)?\s+(\S+)$", line)
            if not m:
                m = re.match(r"^[0-9a-f]+ .{7}\s+(\S+)\s+[0-9a-f]+()\s+(\S+)$", line)
            if not m:
                continue
            sect, ver, name = m.group(1), (m.group(2) or "").strip("()"), m.group(3)
            key = f"{name}@{ver or 'Base'}"
            if sect == "*UND*":
                undefined.add(key)
            else:
                defined[name] = key
        elif section.startswith("DYNAMIC RELOC"):
            parts = line.split()
            if len(parts) >= 3 and parts[1].endswith("_COPY"):
                copied.add(defined.get(parts[2].split("@")[0], parts[2]))
    return undefined | copied


@needs_cc
@needs_objdump
def test_copy_relocated_symbols_are_imports(tmp_path: Path) -> None:
    """A non-PIE program reading `environ` and `stderr` gets them by copy relocation: they are
    defined in its .bss, and imported all the same (dpkg-shlibdeps counts them)."""
    src = tmp_path / "p.c"
    src.write_text(
        "#include <stdio.h>\nextern char **environ;\n"
        'int main(void) { fprintf(stderr, "%p\\n", (void *)environ); return 0; }\n'
    )
    prog = tmp_path / "p"
    subprocess.run(["cc", "-no-pie", "-fno-pic", "-o", str(prog), str(src)], check=True)
    relocs = subprocess.run(["objdump", "-R", str(prog)], capture_output=True, text=True, check=True).stdout
    assert "_COPY" in relocs
    imports = set(read_imports(prog).symbols)
    assert imports == objdump_imports(prog)
    assert any(s.startswith("stderr@GLIBC_") for s in imports)


# --------------------------------------------------------------------------- crafted dpkg data


LIB_C = (
    "int fake_old(void) { return 1; }\nint fake_new(void) { return 2; }\nint fake_alt(void) { return 3; }\n"
)


@pytest.fixture
def fake_library(tmp_path: Path) -> Path:
    """libfake.so.1 (no libc needed) in tmp_path/lib."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc)")
    lib = tmp_path / "lib"
    lib.mkdir()
    (tmp_path / "fake.c").write_text(LIB_C)
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-nostdlib", "-Wl,-soname,libfake.so.1", "-o", str(lib / "libfake.so.1"),
         str(tmp_path / "fake.c")],
        check=True,
    )  # fmt: skip
    return lib


def _module(tmp_path: Path, lib: Path, calls: list[str]) -> Path:
    src = tmp_path / "mod.c"
    decls = "".join(f"int {c}(void);\n" for c in calls)
    src.write_text(decls + "int use(void) { return " + " + ".join(f"{c}()" for c in calls) + "; }\n")
    mod = tmp_path / "mod.so"
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-nostdlib", "-o", str(mod), str(src), str(lib / "libfake.so.1"),
         f"-Wl,-rpath,{lib}"],
        check=True,
    )  # fmt: skip
    return mod


def _admindir(tmp_path: Path, lib: Path, control: dict[str, str]) -> Path:
    """A private dpkg database with one installed package, libfake1, shipping libfake.so.1."""
    admin = tmp_path / "admin"
    (admin / "info").mkdir(parents=True)
    (admin / "updates").mkdir()
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True)
    (admin / "status").write_text(
        "Package: libfake1\nStatus: install ok installed\nPriority: optional\nSection: libs\n"
        f"Maintainer: T <t@example.org>\nArchitecture: {arch.stdout.strip()}\nVersion: 3.0-1\n"
        "Description: fake\n fake\n\n"
    )
    (admin / "info/libfake1.list").write_text(f"{lib}\n{lib}/libfake.so.1\n")
    for kind, text in control.items():
        (admin / "info" / f"libfake1.{kind}").write_text(text)
    return admin


CASES = {
    # minimal versions per symbol; the smallest one (0.5, a deprecated symbol's) starts it
    "symbols-max": (
        ["fake_old", "fake_new"],
        {
            "symbols": "libfake.so.1 libfake1 #MINVER#\n fake_old@Base 1.0\n fake_new@Base 2.1~rc1\n"
            "#MISSING: 2.5# fake_gone@Base 0.5\n"
        },
    ),
    # a symbol of the alternative template (id 1) adds that template
    "alternative-template": (
        ["fake_old", "fake_alt"],
        {
            "symbols": "libfake.so.1 libfake1 #MINVER#\n| libfake1 (>> 2.9), libfake1 (<< 3.1)\n"
            "* Build-Depends-Package: libfake-dev\n fake_old@Base 1.0\n fake_alt@Base 0 1\n"
        },
    ),
    # a minimal version 0 means no version at all
    "zero": (["fake_old"], {"symbols": "libfake.so.1 libfake1 #MINVER#\n fake_old@Base 0\n"}),
    # no symbols file: the shlibs line of the package type wins over the untyped one
    "shlibs": (
        ["fake_old"],
        {"shlibs": "libfake 1 libfake1 (>= 1.5) | libfake-compat\nudeb: libfake 1 libfake1-udeb\n"},
    ),
}


@needs_dpkg_dev
@pytest.mark.parametrize("case", sorted(CASES))
def test_crafted_symbols_and_shlibs_files_as_dpkg_shlibdeps_reads_them(
    case: str, tmp_path: Path, fake_library: Path
) -> None:
    calls, control = CASES[case]
    mod = _module(tmp_path, fake_library, calls)
    admin = _admindir(tmp_path, fake_library, control)
    theirs = dpkg_shlibdeps([mod], tmp_path / "src", f"--admindir={admin}")
    ours = package_depends(
        [read_imports(mod)],
        {"libfake.so.1": "libfake1"},
        set(),
        DpkgData(admindir=admin, confdir=tmp_path / "etc"),
    )
    assert ours.depends == theirs
    assert theirs  # each case yields a dependency
    if case == "symbols-max":
        assert theirs == "libfake1 (>= 2.1~rc1)"


# --------------------------------------------------------------------------- version order


PAIRS = [
    ("1.0", "1.0"), ("1.0", "1.0-1"), ("1:0.1", "2.0"), ("2.1~rc1", "2.1"), ("2.1", "2.1+b1"),
    ("7.16.3", "7.16.10"), ("1.0a", "1.0+"), ("1.0~~", "1.0~"), ("0", "0~"), ("16.2.15+ds", "16.2.6+ds"),
    ("2:6.2.1+dfsg1", "2:6.2.1+dfsg"), ("1.9.10+20150825", "1.9.10"), ("1.0-1ubuntu1", "1.0-1"),
    ("3.0.0-1~bpo12+1", "3.0.0-1"), ("010", "10"), ("1.2.3.4", "1.2.3"), ("a", "b"), ("1.0.", "1.0"),
]  # fmt: skip


@pytest.mark.skipif(not shutil.which("dpkg"), reason="dpkg not installed")
def test_version_order_is_dpkgs() -> None:
    for a, b in PAIRS:
        ours = compare_versions(a, b)
        for rel, want in (("lt", ours < 0), ("eq", ours == 0), ("gt", ours > 0)):
            r = subprocess.run(["dpkg", "--compare-versions", a, rel, b], check=False)
            assert (r.returncode == 0) == want, (a, rel, b)
