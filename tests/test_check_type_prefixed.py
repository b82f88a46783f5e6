"""A loader whose module files start with their type (FreeRADIUS's `rlm_pap.so`, `proto_dhcp.so`,
naming `{type}_{name}.so`, entry the data symbol named as the module): the libraries that share its
directory (the server's libfreeradius-eap.so, a libz.so.1 an admin put in its libdir) start as no
module does, and are never looked up, so `check` must not call them strays (a FreeRADIUS tester's
clean `qpack install` of rlm_ldap alone was "1 problem(s)", exit 1, for the core's
libfreeradius-eap.so that no installed module linked).

Built here with the system compiler, checked with `--root`, as a staged tree is.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import compile_c as _cc
from .conftest import have_cc, run_qpack

LAYOUT = """
[layout]
name = "fr"
[loader]
prefix = "/usr"
executables = ["{prefix}/sbin/radiusd"]
bindir = "sbin"
naming = "{type}_{name}.so"
types = ["rlm", "proto"]
id-separator = "_"
entry = "{module}"
relocatable = false
[[loader.search]]
absolute = "/usr/lib/fr"
[modules.dependencies]
"rlm_eap_*" = ["rlm_eap"]
[[package]]
name = "fr-core"
rest = true
"""

LIBDIR = "usr/lib/fr"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the modules are built here")
    tmp = tmp_path_factory.mktemp("fr")
    root = tmp / "root"
    lib = root / LIBDIR
    lib.mkdir(parents=True)
    (root / "usr/sbin").mkdir(parents=True)
    so = ["-shared", "-fPIC"]
    # The server's own library in the module directory, defining a symbol shaped as any C name.
    _cc(tmp, lib / "libfr-eap.so", "int T_PRF; int fr_eap_x(void) { return 1; }", *so)
    # An unrelated library put there (libz.so.1: defines crc32).
    _cc(tmp, lib / "libz.so.1", "int crc32(int c) { return c; }", *so, "-Wl,-soname,libz.so.1")
    _cc(tmp, root / "usr/sbin/radiusd", "int main(void) { return 0; }")
    for module in ("rlm_pap", "rlm_eap_md5", "proto_dhcp"):
        _cc(tmp, lib / f"{module}.so", f"int {module} = 1;", *so)
    eap = ["-L", str(lib), "-l:libfr-eap.so", "-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags"]
    _cc(tmp, lib / "rlm_eap.so", "extern int fr_eap_x(void); int rlm_eap = 1;", *so, *eap)
    (tmp / "fr.toml").write_text(LAYOUT)
    return root


def _check(root: Path) -> tuple[int, dict]:
    r = run_qpack("check", "/usr", "--root", str(root), "-l", str(root.parent / "fr.toml"), "--json")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def _rows(report: dict) -> dict[str, dict]:
    return {m["file"].rsplit("/", 1)[-1]: m for m in report["modules"]}


def _status(row: dict) -> str:
    return "yes" if row["loads"] else ",".join(p["kind"] for p in row["problems"])


def _copy(tree: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(tree, root, symlinks=True)
    shutil.copy(tree.parent / "fr.toml", tmp_path / "fr.toml")
    return root


def test_the_libraries_sharing_the_module_directory_are_no_strays(tree: Path) -> None:
    rc, report = _check(tree)
    rows = _rows(report)
    assert rc == 0, [m for m in report["modules"] if not m["loads"]]
    assert {m: _status(rows[m]) for m in rows} == {
        "proto_dhcp.so": "yes",
        "rlm_eap.so": "yes",
        "rlm_eap_md5.so": "yes",
        "rlm_pap.so": "yes",
    }


def test_without_the_module_linking_it_the_servers_library_is_still_no_stray(
    tree: Path, tmp_path: Path
) -> None:
    """rlm_eap gone (a prefix holding a few modules): nothing links libfr-eap.so, which defines a
    symbol of any C name (T_PRF), and still starts as no module's file does."""
    root = _copy(tree, tmp_path)
    (root / LIBDIR / "rlm_eap.so").unlink()
    (root / LIBDIR / "rlm_eap_md5.so").unlink()
    rc, report = _check(root)
    assert rc == 0, [m for m in report["modules"] if not m["loads"]]
    assert sorted(_rows(report)) == ["proto_dhcp.so", "rlm_pap.so"]


def test_a_module_named_otherwise_is_still_one_the_loader_never_looks_up(tree: Path, tmp_path: Path) -> None:
    root = _copy(tree, tmp_path)
    (root / LIBDIR / "rlm_pap.so").rename(root / LIBDIR / "rlm-pap.so")
    rc, report = _check(root)
    assert rc == 1
    row = _rows(report)["rlm-pap.so"]
    assert _status(row) == "never-looked-up", row


def test_a_missing_parent_module_is_no_typo_of_an_installed_one(tree: Path, tmp_path: Path) -> None:
    """rlm_eap_md5 needs rlm_eap, its family's own name: rlm_pap, one letter off, is no slip of
    the layout's (the hint said "rlm_pap is installed: is the layout's dependency mistyped?")."""
    root = _copy(tree, tmp_path)
    (root / LIBDIR / "rlm_eap.so").unlink()
    rc, report = _check(root)
    assert rc == 1
    why = " ".join(p["detail"] for p in _rows(report)["rlm_eap_md5.so"]["problems"])
    assert "needs module 'rlm_eap', which is not installed" in why
    assert "mistyped" not in why, why
