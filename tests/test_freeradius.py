"""Debian bookworm's real FreeRADIUS 3.2 build split with `freeradius-debian`: every file, symlink
and empty directory in the same package as in Debian's own .debs, lists the real dh_install and
dh_missing --fail-missing accept, Debian's sibling Depends and library Depends, and what
`qpack check` says of the installed tree.

All binary packages of the source `freeradius` (amd64 and all) are downloaded once with
apt-get (tests/debian_source.py) into `<cache>/debian-source/freeradius/` and extracted into one
staged tree. qpack runs as the command line, in a subprocess.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

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

SOURCE = "freeradius"
LAYOUT = "freeradius-debian"
MODDIR = "usr/lib/freeradius"
# The source's binary packages in bookworm (17; all of them install on amd64).
PACKAGES = (
    "freeradius",
    "freeradius-common",
    "freeradius-config",
    "freeradius-dhcp",
    "freeradius-iodbc",
    "freeradius-krb5",
    "freeradius-ldap",
    "freeradius-memcached",
    "freeradius-mysql",
    "freeradius-postgresql",
    "freeradius-python3",
    "freeradius-redis",
    "freeradius-rest",
    "freeradius-utils",
    "freeradius-yubikey",
    "libfreeradius-dev",
    "libfreeradius3",
)
# What the layout's header says it was checked against.
CHECKED_VERSION = "3.2.1+dfsg-4+deb12u1"
CHECKED_ENTRIES = 922  # files, symlinks and empty directories of the 17 .debs
CHECKED_MODULES = 66
# Debian's Depends that name no shared library (and so no soname of ours resolves to them).
NOT_LIBRARIES = {"adduser", "ca-certificates", "lsb-base", "make", "openssl", "ssl-cert"}
# Sibling Depends the format cannot say as Debian does: it pins every sibling, Debian leaves
# these unversioned. (package, Debian's, ours)
UNVERSIONED = {
    ("freeradius", "freeradius-common", "freeradius-common (>> {upstream}~)"),
    ("freeradius", "freeradius-config", "freeradius-config (= {version})"),
    ("freeradius-config", "freeradius-common", "freeradius-common (>> {upstream}~)"),
    ("freeradius-utils", "freeradius-common", "freeradius-common (>> {upstream}~)"),
    ("freeradius-utils", "freeradius-config", "freeradius-config (= {version})"),
}
# libfreeradius-*.so share the module directory; the loader never looks them up as modules.
LIBRARIES_IN_MODDIR = {
    "libfreeradius-dhcp",
    "libfreeradius-eap",
    "libfreeradius-radius",
    "libfreeradius-server",
}


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> ds.Build:
    return source_build(SOURCE, "3.2.", LAYOUT, tmp_path_factory)


def _split(build: ds.Build, out: Path, *extra: str) -> Split:
    return split_tree(build, LAYOUT, out, *extra)


@pytest.fixture(scope="module")
def split(build: ds.Build, tmp_path_factory: pytest.TempPathFactory) -> Split:
    return _split(build, tmp_path_factory.mktemp("freeradius-split") / "out")


def test_the_sources_packages_are_the_layouts(build: ds.Build, split: Split) -> None:
    assert sorted(build.debs) == sorted(PACKAGES)
    assert sorted(split.manifest()) == sorted(PACKAGES)


def test_every_entry_in_the_same_package_as_debians_debs(build: ds.Build, split: Split) -> None:
    report = ds.compare_split(build, split.out)
    print(f"{build.version}: split in {split.seconds:.2f} s; " + ", ".join(report.per_package))
    assert not report.diffs, f"{len(report.diffs)} difference(s) from Debian's .debs:\n" + "\n".join(
        report.diffs
    )
    if build.version == CHECKED_VERSION:
        assert report.total == CHECKED_ENTRIES
    modules = {m for p in split.manifest().values() for m in p["modules"]}
    on_disk = {p.name.removesuffix(".so") for p in (build.root / MODDIR).glob("*_*.so")}
    assert modules == on_disk  # the loader's own names (`id-separator = "_"`)
    if build.version == CHECKED_VERSION:
        assert len(modules) == CHECKED_MODULES


def test_install_lists_and_trees_are_each_debs_list(build: ds.Build, split: Split) -> None:
    for pkg in PACKAGES:
        expected = sorted(build.contents(pkg, dirs=True))
        install = sorted((split.out / "debian" / f"{pkg}.install").read_text().splitlines())
        assert install == expected, pkg
        assert sorted(ds.installed_tree(split.out / pkg)) == expected, pkg


@pytest.mark.skipif(not ds.have_debhelper(), reason="debhelper not installed (apt-get install debhelper)")
def test_real_dh_install_and_dh_missing_fail_missing(build: ds.Build, split: Split, tmp_path: Path) -> None:
    src = ds.fake_source(SOURCE, list(PACKAGES), split.out / "debian", build.root, tmp_path / "src")
    r = ds.debhelper(src, "dh_install")
    assert r.returncode == 0, r.stderr
    r = ds.debhelper(src, "dh_missing", "--fail-missing")
    assert r.returncode == 0, r.stdout + r.stderr
    for pkg in PACKAGES:
        assert ds.installed_tree(src / "debian" / pkg) == build.contents(pkg, dirs=True), pkg

    # dh_missing does look: without one module's line it names that module.
    src2 = ds.fake_source(SOURCE, list(PACKAGES), split.out / "debian", build.root, tmp_path / "src2")
    install = src2 / "debian/freeradius-redis.install"
    install.write_text(
        "".join(x for x in install.read_text().splitlines(True) if not x.endswith("rlm_rediswho.so\n"))
    )
    assert ds.debhelper(src2, "dh_install").returncode == 0
    r = ds.debhelper(src2, "dh_missing", "--fail-missing")
    assert r.returncode != 0
    assert f"{MODDIR}/rlm_rediswho.so" in r.stdout + r.stderr


def test_sibling_requirements_are_debians_depends(build: ds.Build, split: Split) -> None:
    manifest = split.manifest()
    upstream = build.version.rsplit("-", 1)[0]
    differ = set()
    for pkg in PACKAGES:
        debians = ds.sibling_depends(build, pkg)
        ours = {r["package"]: r["debian"] for r in manifest[pkg]["requires"]}
        assert sorted(ours) == sorted(debians), pkg
        differ |= {(pkg, name, ours[name]) for name, rel in debians.items() if ours[name] != rel}
    expected = {(p, n, o.format(version=build.version, upstream=upstream)) for p, n, o in UNVERSIONED}
    assert differ == expected


def test_external_requirements_are_debians_other_depends(build: ds.Build, split: Split) -> None:
    assert_external_depends(build, split, PACKAGES, NOT_LIBRARIES)


def test_library_requirements_are_debians_library_depends(build: ds.Build, tmp_path: Path) -> None:
    manifest = split_with_library_depends(build, LAYOUT, tmp_path / "out", PACKAGES, NOT_LIBRARIES)
    # Modules link the server's symbols without DT_NEEDED: no bogus library needs from them.
    sonames = {x["soname"] for x in manifest["freeradius"]["libraries"]["external"]}
    assert not any(s.startswith("libfreeradius") for s in sonames)


def _check(root: Path, *extra: str) -> tuple[int, dict]:
    r = run_qpack("check", "/usr", "--root", str(root), "-l", LAYOUT, "--json", *extra)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def test_check_every_module_loads_from_the_extracted_tree(build: ds.Build) -> None:
    missing = sorted(
        p
        for p, ok in ds.installed_status(sorted(ds.all_library_depends(build, NOT_LIBRARIES))).items()
        if not ok
    )
    if missing:
        pytest.skip(f"the modules' libraries are not all installed here: apt-get install {' '.join(missing)}")
    status, report = _check(build.root)
    assert report["executables"] == ["/usr/sbin/freeradius"]
    loaded = {m["module"] for m in report["modules"] if m["loads"]}
    assert len(loaded) == len(list((build.root / MODDIR).glob("*_*.so")))
    # The server's own libraries in the module directory are no strays: the server and the
    # modules link them (they were `never-looked-up` rows, and check exited 1).
    problems = {m["module"]: [p["kind"] for p in m["problems"]] for m in report["modules"] if m["problems"]}
    assert problems == {}
    assert not {m["module"] for m in report["modules"]} & LIBRARIES_IN_MODDIR
    assert status == 0


def test_check_follows_the_drivers_to_their_parent_module(build: ds.Build, tmp_path: Path) -> None:
    """Without rlm_sql.so, the SQL drivers and the modules that use an sql instance do not load;
    without rlm_eap.so, no EAP method does."""
    root = tmp_path / "root"
    shutil.copytree(build.root, root, symlinks=True)
    (root / MODDIR / "rlm_sql.so").unlink()
    (root / MODDIR / "rlm_eap.so").unlink()
    _, report = _check(root)
    broken = {m["module"] for m in report["modules"] if any(p["kind"] == "dependency" for p in m["problems"])}
    on_disk = {p.name.removesuffix(".so") for p in (root / MODDIR).glob("rlm_*.so")}
    assert broken == {m for m in on_disk if m.startswith(("rlm_sql_", "rlm_eap_"))} | {"rlm_sqlippool"}
    # rlm_eap_md5 needs rlm_eap, its parent: rlm_pap, one letter off, is no typo of the layout's.
    why = " ".join(
        p["detail"] for m in report["modules"] if m["module"] == "rlm_eap_md5" for p in m["problems"]
    )
    assert "needs module 'rlm_eap', which is not installed" in why and "mistyped" not in why, why


def _module_struct_head(so: Path) -> int:
    """The first 8 bytes of the data symbol named like the file (rlm_pap in rlm_pap.so)."""
    with so.open("rb") as f:
        elf = ELFFile(f)
        dynsym = elf.get_section_by_name(".dynsym")
        syms = dynsym.get_symbol_by_name(so.name.removesuffix(".so")) if dynsym else None
        assert syms, f"{so.name}: exports no {so.name.removesuffix('.so')}"
        addr = syms[0]["st_value"]
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= addr < seg["p_vaddr"] + seg["p_filesz"]:
                f.seek(addr - seg["p_vaddr"] + seg["p_offset"])
                return int(struct.unpack("<Q", f.read(8))[0])
    raise AssertionError(f"{so.name}: symbol outside the file's loaded data")


def test_the_same_build_check_is_a_magic_number_of_the_version(build: ds.Build) -> None:
    """What the layout says of the stamp (which [loader.stamp] cannot say): every rlm_<name> and
    proto_<name> module's struct starts with one magic, RADIUSD_MAGIC_NUMBER =
    HEXIFY3(f, RADIUSD_VERSION, 00000) (libradius.h; a tarball build has no commit): 0xf03020100000
    for 3.2.1. EAP methods, SQL and cache drivers start with a pointer instead (no magic: they
    are loaded by their parent module, which checks none)."""
    drivers = ("rlm_eap_", "rlm_sql_", "rlm_cache_")
    top = {so.name: _module_struct_head(so) for so in (build.root / MODDIR).glob("*_*.so")}
    is_driver = {name: name.startswith(drivers) and name != "rlm_sql_map.so" for name in top}
    magics = {v for name, v in top.items() if not is_driver[name]}
    major, minor, incr = (int(x) for x in build.version.split("+")[0].split(".")[:3])
    assert magics == {int(f"f{major:02d}{minor:02d}{incr:02d}00000", 16)}, [hex(m) for m in magics]
    assert not any(top[name] in magics for name in top if is_driver[name])
    if build.version == CHECKED_VERSION:
        assert sum(is_driver.values()) == 17  # 9 EAP methods, 6 SQL and 2 cache drivers


# --------------------------------------------------------------------------- the real server

RADIUSD_CONF = """\
prefix = /usr
raddbdir = {raddb}
libdir = /nonexistent
run_dir = {raddb}
logdir = {raddb}
log {{
  destination = stdout
}}
modules {{
  pap {{
  }}
}}
server default {{
  listen {{
    type = auth
    ipaddr = 127.0.0.1
    port = 18120
  }}
  authorize {{
    pap
  }}
  authenticate {{
    Auth-Type PAP {{
      pap
    }}
  }}
}}
"""


def _radiusd_check(root: Path, raddb: Path, fr_library_path: str) -> subprocess.CompletedProcess[str]:
    """The real server's configuration check (`freeradius -XC`), which loads rlm_pap, run from
    the extracted tree: its libraries through LD_LIBRARY_PATH (its RUNPATH is the installed
    /usr/lib/freeradius), its modules through FR_LIBRARY_PATH (host paths inside `root`)."""
    raddb.mkdir()
    (raddb / "radiusd.conf").write_text(RADIUSD_CONF.format(raddb=raddb))
    (raddb / "clients.conf").write_text("")
    dirs = ":".join(f"{root}{d}" for d in fr_library_path.split(":"))
    return subprocess.run(
        [
            str(root / "usr/sbin/freeradius"),
            "-XC",
            "-xx",
            "-d",
            str(raddb),
            "-D",
            str(root / "usr/share/freeradius"),
        ],
        env={"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": str(root / MODDIR), "FR_LIBRARY_PATH": dirs},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _with_bad_pap(build: ds.Build, tmp_path: Path, change: str) -> Path:
    """A copy of the tree with a second rlm_pap.so in /opt/bad: one that cannot load (its libc
    renamed) or one of another version (its magic changed to 3.2.2's)."""
    root = tmp_path / "root"
    shutil.copytree(build.root, root, symlinks=True)
    (root / "opt/bad").mkdir(parents=True)
    bad = root / "opt/bad/rlm_pap.so"
    shutil.copy2(root / MODDIR / "rlm_pap.so", bad)
    data = bad.read_bytes()
    if change == "unloadable":
        assert data.count(b"libc.so.6\0") == 1
        bad.write_bytes(data.replace(b"libc.so.6\0", b"libq.so.6\0"))
    else:
        magic = struct.pack("<Q", _module_struct_head(bad))
        assert data.count(magic) == 1
        bad.write_bytes(data.replace(magic, struct.pack("<Q", 0xF03020200000)))
    return root


@pytest.fixture(scope="module")
def runs_here(build: ds.Build) -> None:
    # The server and the packages of this source it depends on (libfreeradius3, which links
    # libpcre3): their library Depends are what it needs to start.
    server, todo = set(), ["freeradius"]
    while todo:
        pkg = todo.pop()
        if pkg not in server:
            server.add(pkg)
            names = {ds.relation_name(a) for alts in ds.relations(build.debs[pkg], "Depends") for a in alts}
            todo += sorted(n for n in names if n in build.debs)
    wanted = sorted({lib for pkg in server for lib in ds.library_depends(build, pkg, NOT_LIBRARIES)})
    missing = sorted(p for p, ok in ds.installed_status(wanted).items() if not ok)
    if missing:
        pytest.skip(f"the server's libraries are not installed here: apt-get install {' '.join(missing)}")


@pytest.mark.usefixtures("runs_here")
def test_real_server_takes_the_first_copy_that_loads_and_so_does_check(
    build: ds.Build, tmp_path: Path
) -> None:
    """fr_dlopenext tries each FR_LIBRARY_PATH directory until dlopen() succeeds: a copy that
    cannot load does not hide a good one after it. The layout's `first-loadable` says so, and
    check takes the good copy with the bad one passed over (under `first-found`, check stopped
    at the bad copy and called the module not loading, `shadowed`)."""
    root = _with_bad_pap(build, tmp_path, "unloadable")
    r = _radiusd_check(root, tmp_path / "raddb", "/opt/bad:/usr/lib/freeradius")
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "Configuration appears to be OK" in out, out
    assert "Loading rlm_pap failed: libq.so.6" in out
    assert f"Loading rlm_pap with path: {root}/{MODDIR}/rlm_pap.so" in out

    _, report = _check(root, "--env", "FR_LIBRARY_PATH=/opt/bad:/usr/lib/freeradius")
    pap = next(m for m in report["modules"] if m["module"] == "rlm_pap")
    assert pap["file"] == f"/{MODDIR}/rlm_pap.so" and pap["loads"], pap
    assert "/opt/bad/rlm_pap.so" in json.dumps(report)  # said, as the copy passed over


@pytest.mark.usefixtures("runs_here")
def test_real_server_refuses_another_versions_module_which_check_cannot_see(
    build: ds.Build, tmp_path: Path
) -> None:
    """A module that dlopen()s but carries another version's magic is refused, and the search
    stops there: "Application and rlm_pap magic number (commit) mismatch" (MAGIC_COMMIT covers
    the low 32 bits, where HEXIFY3 puts the last version digits). Without a stamp the format can
    say, qpack check calls it loading."""
    root = _with_bad_pap(build, tmp_path, "other-version")
    r = _radiusd_check(root, tmp_path / "raddb", "/opt/bad:/usr/lib/freeradius")
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert (
        "Application and rlm_pap magic number (commit) mismatch.  application: 20100000 module: 20200000"
        in out
    )

    _, report = _check(root, "--env", "FR_LIBRARY_PATH=/opt/bad:/usr/lib/freeradius")
    pap = next(m for m in report["modules"] if m["module"] == "rlm_pap")
    assert pap["file"] == "/opt/bad/rlm_pap.so" and pap["loads"]
