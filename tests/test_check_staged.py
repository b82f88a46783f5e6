"""A staged tree checked as a prefix: its programs' libraries are in <tree>/usr/lib, which the
dynamic linker does not search for a prefix elsewhere than /usr (a QGIS tester's
`qpack check build/usr`: "would not find libqgis_gui.so.3.22.16", which is in build/usr/lib).
Check says where they are and how to check the tree as installed (`--root`). Built here with the
system compiler: the mini program (tests/mini_program.py), whose executable has no RUNPATH."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import mini_program
from .conftest import compile_c, have_cc, run_qpack


def test_a_staged_tree_checked_as_a_prefix_is_told_to_use_root(tmp_path: Path) -> None:
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the program is built here")
    tree = mini_program.build(tmp_path / "build", relocatable=False)
    layout = tmp_path / "mini.toml"
    layout.write_text(mini_program.layout_text(relocatable=False))
    r = run_qpack("check", str(tree / "usr"), "-l", str(layout))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "cannot start: the dynamic linker would not find libqpackmini.so.1" in r.stdout + r.stderr
    assert (
        f"warning: libqpackmini.so.1, which the dynamic linker would not find, is in {tree}/usr's own "
        f"library directories, which it does not search: is {tree}/usr a staged tree? Check it as "
        f"installed: qpack check /usr --root {tree}\n"
    ) in r.stderr
    # Not of a venv, which is an install (a sweep's tesseract venv was asked whether it was
    # a staged tree).
    (tree / "usr/pyvenv.cfg").write_text("home = /usr/bin\n")
    r = run_qpack("check", str(tree / "usr"), "-l", str(layout))
    assert r.returncode == 1 and "own library directories" not in r.stderr, r.stderr
    (tree / "usr/pyvenv.cfg").unlink()
    # As it says: the program starts, and no such note.
    r = run_qpack("check", "/usr", "--root", str(tree), "-l", str(layout))
    assert "cannot start" not in r.stdout + r.stderr and "staged tree" not in r.stderr, r.stdout + r.stderr


def test_a_module_needing_a_library_nowhere_is_no_staged_tree(tmp_path: Path) -> None:
    """A sweep's venv: a module in the prefix's lib/ missing libcjson.so.1 read "mosquitto_dynamic_
    security.so, which the dynamic linker would not find, is in the venv's own library
    directories: a staged tree?", the file needing the library taken for the one missing."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the program is built here")
    usr = tmp_path / "prefix"
    (usr / "bin").mkdir(parents=True)
    (usr / "lib").mkdir()
    compile_c(tmp_path, usr / "bin/prog", "int main(void) { return 0; }")
    compile_c(tmp_path, usr / "lib/libgone.so.1", "int gone(void) { return 1; }",
              "-shared", "-fPIC", "-Wl,-soname,libgone.so.1")  # fmt: skip
    compile_c(tmp_path, usr / "lib/mod_a.so", "int gone(void); int a(void) { return gone(); }",
              "-shared", "-fPIC", str(usr / "lib/libgone.so.1"))  # fmt: skip
    (usr / "lib/libgone.so.1").unlink()
    layout = tmp_path / "mod.toml"
    layout.write_text(
        '[layout]\nname = "mod"\n[loader]\nprefix = "/usr"\nexecutables = ["{prefix}/bin/prog"]\n'
        'naming = "mod_{name}.so"\n[[loader.search]]\nrelocated = "lib"\n'
        '[[package]]\nname = "core"\nrest = true\n'
    )
    r = run_qpack("check", str(usr), "-l", str(layout))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "would not find libgone.so.1 (needed by" in r.stdout + r.stderr
    assert "staged tree" not in r.stderr, r.stderr
