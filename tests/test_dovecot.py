"""Debian bookworm's real Dovecot 2.3 build split with `dovecot-debian`: every file, symlink and
empty directory in the same package as in Debian's own .debs (dovecot-core's empty modules/dict,
which other packages fill, through the layout's `dirs`), lists the real dh_installdirs,
dh_install and dh_missing --fail-missing accept,
Debian's sibling and library Depends, the module dependencies the modules themselves declare,
and what `qpack check` says of the installed tree, clean and broken.

All binary packages of the source `dovecot` (amd64) are downloaded once with apt-get
(tests/debian_source.py) into `<cache>/debian-source/dovecot/` and extracted into one staged
tree. qpack runs as the command line, in a subprocess.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from qpack.layout import load_layout

from . import debian_source as ds
from .conftest import run_qpack
from .real_programs import (
    Split,
    assert_external_depends,
    source_build,
    split_tree,
    split_with_library_depends,
)

pytestmark = pytest.mark.network

SOURCE = "dovecot"
LAYOUT = "dovecot-debian"
MODDIR = "usr/lib/dovecot/modules"
PACKAGES = (
    "dovecot-auth-lua",
    "dovecot-core",
    "dovecot-dev",
    "dovecot-gssapi",
    "dovecot-imapd",
    "dovecot-ldap",
    "dovecot-lmtpd",
    "dovecot-lucene",
    "dovecot-managesieved",
    "dovecot-mysql",
    "dovecot-pgsql",
    "dovecot-pop3d",
    "dovecot-sieve",
    "dovecot-solr",
    "dovecot-sqlite",
    "dovecot-submissiond",
)
CHECKED_VERSION = "1:2.3.19.1+dfsg1-2.1+deb12u7"
CHECKED_ENTRIES = 1306  # files, symlinks and empty directories of the 16 .debs
CHECKED_MODULES = 68  # module ids: 62 files, and 6 links that put the SQL drivers in auth/ and dict/
# Directories a .deb ships empty while other packages fill them (Debian: dovecot-core.dirs):
# the layout's `dirs`. path -> the package whose .deb has it.
SHARED_DIRS = {"usr/lib/dovecot/modules/dict": "dovecot-core"}
NOT_LIBRARIES = {"adduser", "libpam-runtime", "lsb-base", "openssl", "ssl-cert", "ucf", "init-system-helpers"}
DOVECOT_ABI = "2.3.ABIv19"  # DOVECOT_ABI_VERSION up to the '(' (what the loader compares)
PIGEONHOLE_ABI = "0.5.ABIv19"


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> ds.Build:
    return source_build(SOURCE, "1:2.3.", LAYOUT, tmp_path_factory)


def _split(build: ds.Build, out: Path, *extra: str) -> Split:
    return split_tree(build, LAYOUT, out, *extra)


@pytest.fixture(scope="module")
def split(build: ds.Build, tmp_path_factory: pytest.TempPathFactory) -> Split:
    return _split(build, tmp_path_factory.mktemp("dovecot-split") / "out")


def _expected(build: ds.Build, pkg: str) -> dict[str, str]:
    """Debian's list for `pkg`: files, symlinks and the directories that hold nothing else of it."""
    return build.contents(pkg, dirs=True)


def test_the_sources_packages_are_the_layouts(build: ds.Build, split: Split) -> None:
    assert sorted(build.debs) == sorted(PACKAGES)
    assert sorted(split.manifest()) == sorted(PACKAGES)


def test_every_entry_in_the_same_package_as_debians_debs(build: ds.Build, split: Split) -> None:
    report = ds.compare_split(build, split.out)
    print(f"{build.version}: split in {split.seconds:.2f} s; " + ", ".join(report.per_package))
    same = sum(int(x.rsplit(" ", 1)[1].split("/")[0]) for x in report.per_package)
    print(f"same package as Debian's: {same}/{report.total}")
    assert report.diffs == [], f"{len(report.diffs)} difference(s) from Debian's .debs:\n" + "\n".join(
        report.diffs
    )
    assert same == report.total
    if build.version == CHECKED_VERSION:
        assert report.total == CHECKED_ENTRIES
    # The shared directories are full in the build, and empty in their .deb and in qpack's tree.
    manifest = split.manifest()
    for d, pkg in SHARED_DIRS.items():
        assert any((build.root / d).iterdir()), d
        assert build.contents(pkg, dirs=True)[d] == "dir"
        assert d in manifest[pkg]["declared_dirs"] and d in manifest[pkg]["dirs"]
        assert (split.out / pkg / d).is_dir() and not any((split.out / pkg / d).iterdir())
    modules = {m for p in split.manifest().values() for m in p["modules"]}
    if build.version == CHECKED_VERSION:
        assert len(modules) == CHECKED_MODULES
    # Each SQL driver is one file and three module ids, all in the driver's package.
    for db in ("mysql", "pgsql", "sqlite"):
        assert manifest[f"dovecot-{db}"]["modules"] == [f"{t}-driver_{db}" for t in ("auth", "dict", "mail")]


def test_install_lists_and_trees_are_each_debs_list(build: ds.Build, split: Split) -> None:
    """The .install lines and the .dirs lines (never a directory with its contents in .install)
    together are the .deb's list; the package's tree is too."""
    for pkg in PACKAGES:
        expected = sorted(_expected(build, pkg))
        install = (split.out / "debian" / f"{pkg}.install").read_text().splitlines()
        dirs_file = split.out / "debian" / f"{pkg}.dirs"
        dirs = dirs_file.read_text().splitlines() if dirs_file.exists() else []
        assert dirs == [d for d, p in SHARED_DIRS.items() if p == pkg], pkg
        assert not set(dirs) & set(install), pkg
        assert sorted(install + dirs) == expected, pkg
        assert sorted(ds.installed_tree(split.out / pkg)) == expected, pkg


@pytest.mark.skipif(not ds.have_debhelper(), reason="debhelper not installed (apt-get install debhelper)")
def test_real_dh_install_and_dh_missing_fail_missing(build: ds.Build, split: Split, tmp_path: Path) -> None:
    src = ds.fake_source(SOURCE, list(PACKAGES), split.out / "debian", build.root, tmp_path / "src")
    r = ds.debhelper(src, "dh_installdirs")  # before dh_install, as dh's sequence runs them
    assert r.returncode == 0, r.stderr
    r = ds.debhelper(src, "dh_install")
    assert r.returncode == 0, r.stderr
    r = ds.debhelper(src, "dh_missing", "--fail-missing")
    assert r.returncode == 0, r.stdout + r.stderr
    for pkg in PACKAGES:
        assert ds.installed_tree(src / "debian" / pkg) == _expected(build, pkg), pkg

    # dh_missing does look: without the link that puts the MySQL driver in dict/ it names it.
    src2 = ds.fake_source(SOURCE, list(PACKAGES), split.out / "debian", build.root, tmp_path / "src2")
    install = src2 / "debian/dovecot-mysql.install"
    lines = install.read_text().splitlines(True)
    install.write_text("".join(x for x in lines if x != f"{MODDIR}/dict/libdriver_mysql.so\n"))
    assert len(install.read_text().splitlines()) == len(lines) - 1
    assert ds.debhelper(src2, "dh_install").returncode == 0
    r = ds.debhelper(src2, "dh_missing", "--fail-missing")
    assert r.returncode != 0
    assert f"{MODDIR}/dict/libdriver_mysql.so" in r.stdout + r.stderr
    # And dh_installdirs is what makes the shared directory: dh_install alone leaves it out.
    for d, pkg in SHARED_DIRS.items():
        assert not (src2 / "debian" / pkg / d).exists()
        assert ds.installed_tree(src / "debian" / pkg)[d] == "dir"


def test_sibling_requirements_are_debians_depends(build: ds.Build, split: Split) -> None:
    manifest = split.manifest()
    for pkg in PACKAGES:
        debians = ds.sibling_depends(build, pkg)
        ours = {r["package"]: r["debian"] for r in manifest[pkg]["requires"]}
        assert ours == debians, pkg


def test_external_requirements_are_debians_other_depends(build: ds.Build, split: Split) -> None:
    assert_external_depends(build, split, PACKAGES, NOT_LIBRARIES)


def test_library_requirements_are_debians_library_depends(build: ds.Build, tmp_path: Path) -> None:
    manifest = split_with_library_depends(build, LAYOUT, tmp_path / "out", PACKAGES, NOT_LIBRARIES)
    # A plugin linking another plugin by its SONAME (lib02_imap_acl_plugin.so needs
    # lib01_acl_plugin.so) links the build, not a library to depend on.
    sonames = {x["soname"] for p in manifest.values() for x in p["libraries"]["external"]}
    assert not any(s.startswith(("lib0", "lib1", "lib2", "libdovecot")) for s in sonames), sonames


# --------------------------------------------------------------------------- the loader's facts


def _module_name(file_name: str) -> str:
    """module_file_get_name(): [lib][NN_]name(.so)."""
    return re.sub(r"^(?:lib)?(?:[0-9]*_)?", "", file_name, count=1).removesuffix(".so")


def _exported_strings(so: Path) -> dict[str, list[str]]:
    """Each exported `<x>_version`, `<x>_binary_dependency` (a `const char *`) and
    `<x>_dependencies` (a NULL-terminated `const char *[]`): symbol -> the strings, read through
    the R_X86_64_RELATIVE relocations that fill the pointers."""
    with so.open("rb") as f:
        elf = ELFFile(f)

        def read(addr: int, size: int) -> bytes:
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= addr < seg["p_vaddr"] + seg["p_filesz"]:
                    f.seek(addr - seg["p_vaddr"] + seg["p_offset"])
                    return f.read(size)
            return b""

        def string(addr: int) -> str:
            return read(addr, 256).split(b"\0", 1)[0].decode()

        relocated = {
            r["r_offset"]: r["r_addend"]
            for s in elf.iter_sections()
            if isinstance(s, RelocationSection)
            for r in s.iter_relocations()
            if r.entry.get("r_addend")
        }
        out: dict[str, list[str]] = {}
        dynsym = elf.get_section_by_name(".dynsym")
        for sym in dynsym.iter_symbols() if dynsym else ():
            if sym["st_shndx"] == "SHN_UNDEF":
                continue
            addr = sym["st_value"]
            if sym.name.endswith("_dependencies"):
                deps = []
                while addr in relocated:
                    deps.append(string(relocated[addr]))
                    addr += 8
                out[sym.name] = deps
            elif sym.name.endswith(("_version", "_binary_dependency")):
                out[sym.name] = [string(relocated[addr]) if addr in relocated else string(addr)]
        return out


def _module_files(root: Path) -> dict[str, Path]:
    """Module id (as the layout names it) -> regular file, for every module file of the tree."""
    out = {}
    for so in sorted((root / MODDIR).rglob("*.so")):
        if so.is_symlink():
            continue
        rel = so.relative_to(root / MODDIR)
        mtype = rel.parts[0] if len(rel.parts) > 1 else "mail"
        out[f"{mtype}-{_module_name(so.name)}"] = so
    return out


def test_the_layouts_dependencies_are_the_modules_own(build: ds.Build) -> None:
    """Every `<name>_dependencies` a module of this build exports is in the layout, and the mail
    plugins have no other; a dependency names a module of the same directory with or without
    its "_plugin" (module_dir_find)."""
    loader = load_layout(LAYOUT).loader
    files = _module_files(build.root)
    declared = {}
    for mid, so in files.items():
        mtype, name = loader.naming.split_id(mid) or ("", mid)
        deps = _exported_strings(so).get(f"{name}_dependencies")
        if deps is None:
            continue
        resolved = []
        for d in deps:
            hits = [m for m in files if m in (f"{mtype}-{d}", f"{mtype}-{d}_plugin")]
            assert len(hits) == 1, (mid, d, hits)
            resolved.append(hits[0])
        declared[mid] = resolved
    assert declared, "no module exports <name>_dependencies: not the build this test knows"
    for mid, deps in declared.items():
        assert sorted(loader.deps_of(mid)) == sorted(deps), mid
    for mid in files:
        if mid.startswith("mail-") and mid not in declared:
            assert loader.deps_of(mid) == (), mid


def test_the_same_build_check_is_an_abi_string(build: ds.Build) -> None:
    """What the layout says of the stamp: each `<name>_version` a module exports is the ABI
    string of its project (Dovecot's or Pigeonhole's), the loader comparing it up to the '(';
    the modules that export none under their own name are not checked at all."""
    unchecked = []
    for mid, so in _module_files(build.root).items():
        name = _module_name(so.name)
        version = _exported_strings(so).get(f"{name}_version")
        if version is None:
            unchecked.append(mid)
            continue
        abi = PIGEONHOLE_ABI if mid.startswith("sieve-") else DOVECOT_ABI
        assert version[0].split("(", 1)[0] == abi, (mid, version)
    if build.version == CHECKED_VERSION:
        # old_stats and imap_old_stats export stats_plugin_version / imap_stats_plugin_version.
        assert "mail-old_stats_plugin" in unchecked and "mail-imap_old_stats_plugin" in unchecked
        assert "mail-fts_plugin" not in unchecked


# --------------------------------------------------------------------------- qpack check


def _check(root: Path) -> tuple[int, dict]:
    r = run_qpack("check", "/usr", "--root", str(root), "-l", LAYOUT, "--json")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def _problems(report: dict) -> dict[str, set[str]]:
    return {m["module"]: {p["kind"] for p in m["problems"]} for m in report["modules"] if m["problems"]}


@pytest.fixture(scope="module")
def libraries_installed(build: ds.Build) -> None:
    wanted = sorted(ds.all_library_depends(build, NOT_LIBRARIES))
    missing = sorted(p for p, ok in ds.installed_status(wanted).items() if not ok)
    if missing:
        pytest.skip(f"the modules' libraries are not all installed here: apt-get install {' '.join(missing)}")


@pytest.mark.usefixtures("libraries_installed")
def test_check_every_module_loads_from_the_extracted_tree(build: ds.Build, split: Split) -> None:
    t0 = time.monotonic()
    status, report = _check(build.root)
    seconds = time.monotonic() - t0
    shown = f"{len(report['modules'])} modules, {len(report['executables'])} programs"
    print(f"qpack check: {shown}, {seconds:.2f} s")
    assert status == 0, _problems(report)
    assert "/usr/lib/dovecot/auth" in report["executables"] and "/usr/bin/doveadm" in report["executables"]
    packaged = {m for p in split.manifest().values() for m in p["modules"]}
    assert {m["module"] for m in report["modules"] if m["loads"]} == packaged


@pytest.mark.usefixtures("libraries_installed")
def test_check_sees_what_dovecot_would_refuse(build: ds.Build, tmp_path: Path) -> None:
    """Without lib20_fts_plugin.so the FTS backends and doveadm's fts plugin cannot load
    ("Plugin fts must be loaded also"); a second quota plugin file is the fatal "Multiple files
    for module quota_plugin"."""
    root = tmp_path / "root"
    shutil.copytree(build.root, root, symlinks=True)
    (root / MODDIR / "lib20_fts_plugin.so").unlink()
    shutil.copy2(root / MODDIR / "lib10_quota_plugin.so", root / MODDIR / "lib20_quota_plugin.so")
    status, report = _check(root)
    assert status == 1
    problems = _problems(report)
    dependency = {m for m, kinds in problems.items() if "dependency" in kinds}
    assert dependency == {
        "mail-fts_lucene_plugin",
        "mail-fts_solr_plugin",
        "mail-fts_squat_plugin",
        "doveadm-doveadm_fts_plugin",
    }
    assert "duplicate" in problems["mail-quota_plugin"]
