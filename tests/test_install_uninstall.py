"""`qpack uninstall` and `qpack list` on prefixes `qpack install` (or pip) filled from the demo's
real wheels: the dependency policy, refusals, faults, and pip and qpack undoing each other's work.

The policy tested: a distribution another installed one requires is not removed unless named
too or `--with-dependents`; the dependencies of what goes are removed with it when nothing left
needs them and they were installed only as dependencies (no REQUESTED file).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qpack.cli import main
from qpack.layout import load_layout
from qpack.transaction import STATE_DIR
from qpack.uninstall import UninstallError, uninstall

from .conftest import copy_build
from .test_install import bare_venv, demo_wheels, do_install, loaded, qpack, snapshot, split, verify_records


@pytest.fixture(scope="session")
def demo_dist(demo_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_wheels(demo_build, tmp_path_factory)


LAYOUT = """\
[layout]
name = "demo-shared-gl"
description = "the demo, where block-nfs needs ui-opengl too"
extends = "demo"

[modules.dependencies]
"ui-gtk" = ["ui-opengl"]
"audio-pa" = ["audio-alsa"]
"block-nfs" = ["ui-opengl"]
"""


def names(prefix: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, bool | None]:
    """`qpack list --json`: distribution -> whether its modules load."""
    capsys.readouterr()
    status = main(["list", "--prefix", str(prefix), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == (0 if all(d["loads"] is not False for d in data["distributions"]) else 1)
    return {d["name"]: d["loads"] for d in data["distributions"]}


def absolute_layout(tmp_path: Path, where: str = "/usr/lib/demo") -> Path:
    """The demo layout with its relocated module directory made the absolute `where` (a loader
    that does not relocate, as SASL's): tmp_path/absolute.toml."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = '[[loader.search]]\nrelocated = "lib/demo"\n'
    assert old in text
    layout = tmp_path / "absolute.toml"
    layout.write_text(text.replace(old, f'[[loader.search]]\nabsolute = "{where}"\n'))
    return layout


def test_a_dependency_goes_with_the_last_module_that_needs_it(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-curses")
    after_curses = snapshot(prefix)
    do_install(demo_dist, prefix, "ui-gtk")
    assert names(prefix, capsys) == {
        "demo-core": None,
        "demo-ui-curses": True,
        "demo-ui-gtk": True,
        "demo-ui-opengl": True,
    }
    assert main(["uninstall", "--prefix", str(prefix), "demo-ui-gtk", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["why"]) for r in report["removed"]] == [
        ("demo-ui-gtk", "named"),
        ("demo-ui-opengl", "unneeded"),
    ]
    assert loaded(prefix) == {"ui-curses"}
    # Byte for byte what installing ui-curses alone gave: RECORDs, dist-info, empty directories.
    assert snapshot(prefix) == after_curses


def test_a_dependency_stays_while_another_module_needs_it(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = tmp_path / "shared-gl.toml"
    layout.write_text(LAYOUT)
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert (
        main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-gtk", "block-nfs"]) == 0
    )
    capsys.readouterr()
    # The layout recorded at install time gives uninstall its module names: ui-gtk is demo-ui-gtk.
    assert main(["uninstall", "--prefix", str(prefix), "ui-gtk"]) == 0
    out = capsys.readouterr()
    assert "demo-ui-opengl 1.0: kept, still needed by demo-block-nfs" in out.err  # piped: below the table
    assert out.out.splitlines() == ["demo-ui-gtk\t1.0\tnamed\t8"]  # stdout: the table's rows only
    # And a sentence each on stderr: the bare cells read as a program and a count (a BIND tester).
    assert "removed demo-ui-gtk 1.0 (named, 8 files)" in out.err.splitlines()
    assert (prefix / "lib/demo/ui/opengl.so").is_file()
    assert not (prefix / "lib/demo/ui/gtk.so").exists()
    assert main(["uninstall", "--prefix", str(prefix), "block-nfs"]) == 0
    assert not (prefix / "lib/demo/ui/opengl.so").exists()  # the last user is gone: so is it


def test_a_dependency_installed_on_request_stays(demo_dist: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-opengl")
    do_install(demo_dist, prefix, "ui-gtk")
    report = uninstall(["demo-ui-gtk"], prefix)
    assert [r.name for r in report.removed] == ["demo-ui-gtk"]
    assert report.kept == ("demo-ui-opengl 1.0: kept, it was installed on request",)
    assert loaded(prefix) == {"ui-opengl"}
    report = uninstall(["demo-ui-opengl"], prefix)
    assert [r.name for r in report.removed] == ["demo-ui-opengl"]


def test_a_core_that_holds_only_the_loader_library_is_the_core(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A framework's core may hold no program the layout names, only the library that loads
    the plugins (`[loader] library`, no `executables`: ALSA, PAM, SASL). It is the core all the
    same: installed on request, listed as the core, kept when the last module goes. Before, it
    was 'other', and uninstalling the last module removed it as no longer needed."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    text = text.replace('name = "demo"\n', 'name = "demo-lib"\n', 1)
    text = text.replace('executables = ["{prefix}/bin/demo"]', 'library = "{prefix}/lib/libdemo-util.so.*"')
    assert 'library = "{prefix}' in text
    layout = tmp_path / "demo-lib.toml"
    layout.write_text(text)
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert (
        main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses", "block-curl"])
        == 0
    )
    assert (next(prefix.glob("lib/python*/site-packages/demo_core-1.0.dist-info")) / "REQUESTED").is_file()
    # Two programs link the library (demo, demo-registry): each module has a row for each, and
    # the sentence counts modules (it said "4 of 4").
    assert "2 of 2 module(s) installed will load" in capsys.readouterr().err.splitlines()
    assert main(["list", "--prefix", str(prefix), "--json"]) == 0
    kinds = {d["name"]: d["kind"] for d in json.loads(capsys.readouterr().out)["distributions"]}
    assert kinds == {"demo-core": "core", "demo-block-curl": "module", "demo-ui-curses": "module"}
    assert main(["uninstall", "--prefix", str(prefix), "ui-curses"]) == 0
    capsys.readouterr()
    assert main(["uninstall", "--prefix", str(prefix), "block-curl", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in report["removed"]] == ["demo-block-curl"]
    assert (prefix / "lib/libdemo-util.so.1").is_file()


def test_modules_in_an_absolute_location_under_the_prefix_are_modules(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A loader that looks only at an absolute directory (SASL's /usr/lib/<triplet>/sasl2),
    installed into a staging root at the prefix /usr: the files land in that directory, and
    they are that loader's modules. They were not recognised: no module recorded, list showed
    nothing, uninstall did not know the module ids."""
    layout = absolute_layout(tmp_path)
    root = tmp_path / "root"
    args = ["--root", str(root), "--prefix", "/usr"]
    assert main(["install", str(demo_dist), "-l", str(layout), *args, "ui-curses", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(i["name"], i["modules"]) for i in report["installed"]] == [
        ("demo-core", []),
        ("demo-ui-curses", ["ui-curses"]),
    ]
    assert main(["list", "-l", str(layout), *args, "--json"]) == 0
    kinds = {d["name"]: (d["kind"], d["loads"]) for d in json.loads(capsys.readouterr().out)["distributions"]}
    assert kinds == {"demo-core": ("core", None), "demo-ui-curses": ("module", True)}
    assert main(["uninstall", *args, "ui-curses"]) == 0
    assert not (root / "usr/lib/demo/ui/curses.so").exists()
    # Under another prefix the files are no modules of that loader at all: the install says
    # the module asked for is not found, where it said nothing.
    other = ["--root", str(tmp_path / "other"), "--prefix", "/opt/demo"]
    capsys.readouterr()
    assert main(["install", str(demo_dist), "-l", str(layout), *other, "ui-curses", "--json"]) == 1
    (row,) = json.loads(capsys.readouterr().out)["check"]
    assert (row["module"], row["file"], row["loads"]) == ("ui-curses", None, False)
    assert row["problems"] == [
        {
            "kind": "not-found",
            "detail": "installed by demo-ui-curses 1.0, but none of its files is where the loader looks for it",  # noqa: E501
        }
    ]
    # Asked for by type (or by distribution name): the same, for each of its modules.
    assert main(["install", str(demo_dist), "-l", str(layout), *other, "block", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)["check"]
    assert sorted((r["module"], r["problems"][0]["kind"]) for r in rows) == [
        ("block-curl", "not-found"),
        ("block-nfs", "not-found"),
    ]


def test_modules_installed_where_the_loader_does_not_look_stay_not_found_for_check_and_list(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The SASL-like loader of an absolute directory, installed under another prefix: `install`
    said the module asked for is not found, but `check` and `list` of that prefix afterwards
    said nothing of it (a distribution of kind "other"), and `uninstall ui-curses` did not know
    the id. Their wheels declare the module ids (qpack-package.json): they tell."""
    layout = absolute_layout(tmp_path)
    root = tmp_path / "other"
    other = ["--root", str(root), "--prefix", "/opt/demo"]
    assert main(["install", str(demo_dist), "-l", str(layout), *other, "ui-curses", "block-curl"]) == 1
    capsys.readouterr()
    why = "installed by demo-ui-curses 1.0, but none of its files is where the loader looks for it"
    assert main(["check", "/opt/demo", "--root", str(root), "-l", str(layout), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    rows = {m["module"]: m for m in report["modules"]}
    # Counted as modules that do not load (the summary said "0 of 0 modules load; 2 problem(s)").
    assert (report["summary"]["modules"], report["summary"]["load"]) == (2, 0)
    assert (rows["ui-curses"]["file"], rows["ui-curses"]["loads"]) == (None, False)
    assert rows["ui-curses"]["problems"] == [{"kind": "not-found", "detail": why}]
    assert [p["kind"] for p in rows["block-curl"]["problems"]] == ["not-found"]
    assert main(["list", "-l", str(layout), *other, "--json"]) == 1
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)["distributions"]}
    assert (listed["demo-ui-curses"]["kind"], listed["demo-ui-curses"]["loads"]) == ("module", False)
    assert listed["demo-ui-curses"]["modules"] == ["ui-curses"]
    assert main(["uninstall", *other, "ui-curses"]) == 0
    assert not any(root.glob("opt/demo/lib/python*/site-packages/demo_ui_curses-*"))


def test_list_shows_a_core_s_modules_where_the_loader_places_none_of_its_files(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Geany tester's venv, installed from a relocatable layout's wheels and listed with the
    real (absolute) one: the core row had no modules while each module package's row showed its
    own, judged on the system's copies. A core's declared modules are listed as a module
    package's are."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    core = 'rest = true\nsummary = "The demo program without its modules"\n'
    assert core in text
    with_module = tmp_path / "core-module.toml"
    with_module.write_text(text.replace(core, core + 'modules = ["ui-curses"]\n'))
    dist = split(demo_build, tmp_path / "dist", "1.0", with_module)
    prefix = tmp_path / "p"
    bare_venv(prefix)
    assert main(["install", str(dist), "-l", str(with_module), "--prefix", str(prefix), "demo-core"]) == 0
    capsys.readouterr()
    absolute = absolute_layout(tmp_path, str(tmp_path / "nowhere"))
    main(["list", "-l", str(absolute), "--prefix", str(prefix), "--json"])
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)["distributions"]}
    assert listed["demo-core"]["modules"] == ["ui-curses"]
    assert listed["demo-core"]["loads"] is False  # the absolute directory holds none


def test_install_with_another_layout_than_the_prefix_records_is_said(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PackageKit tester installed into a prefix filled with another layout: exit 0 without a
    word, and `list` of the prefix then refused it ("different layouts")."""
    prefix = tmp_path / "p"
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-curses"]) == 0
    capsys.readouterr()
    other = tmp_path / "other.toml"
    other.write_text((Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text())
    assert main(["install", str(demo_dist), "-l", str(other), "--prefix", str(prefix), "block-curl"]) == 0
    err = capsys.readouterr().err
    assert f"the prefix's distributions record layout demo, and these are installed with {other}" in err, err
    # The same layout again says nothing.
    fresh = tmp_path / "q"
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(fresh), "ui-curses"]) == 0
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(fresh), "audio-alsa"]) == 0
    assert "record layout" not in capsys.readouterr().err


def test_list_of_a_core_alone_says_nothing_of_where_modules_would_be_judged(
    demo_build: Path, demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Grilo tester's venv, left with its core by `uninstall all`: `list` showed the core and
    warned that "no directory the loader searches is inside" it and "the modules judged are this
    machine's", though it judged and listed no module. `check` still says it (the control)."""
    layout = absolute_layout(tmp_path)
    prefix = tmp_path / "p"
    from qpack.install import install_wheels

    install_wheels([next(demo_dist.glob("demo_core-*.whl"))], prefix)
    assert main(["check", str(prefix), "-l", str(layout)]) == 0
    err = capsys.readouterr().err
    assert "no directory the loader searches is inside" in err
    assert "0 of 0 modules load; 0 problem(s)" in err.splitlines()
    # Modules found there, all this machine's: said on the summary line a CI log shows (an
    # Evolution tester read "73 of 73 modules load" of a venv whose modules were never judged).
    host = tmp_path / "host"
    (host / "ui").mkdir(parents=True)
    shutil.copy(demo_build / "usr/lib/demo/ui/curses.so", host / "ui/curses.so")
    assert main(["check", str(prefix), "-l", str(absolute_layout(tmp_path, str(host)))]) == 0
    assert (
        "1 of 1 modules load (this machine's: no directory searched is in the prefix); 0 problem(s)"
        in capsys.readouterr().err.splitlines()
    )
    # The prefix's own modules, not where the loader looks, are not this machine's (an apr-util
    # tester's venv: "0 of 5 modules load (this machine's: ...)", every row the venv's).
    with_module = tmp_path / "p2"
    install_wheels([next(demo_dist.glob(f"demo_{n}-*.whl")) for n in ("core", "ui_curses")], with_module)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(with_module), "-l", str(absolute_layout(tmp_path, str(empty)))]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert any(
        line.startswith(
            "0 of 1 modules load (none where the loader looks: no directory searched is in the prefix)"
        )
        for line in lines
    ), lines
    layout = absolute_layout(tmp_path)
    assert main(["list", "--prefix", str(prefix), "-l", str(layout), "--json"]) == 0
    out = capsys.readouterr()
    assert [d["name"] for d in json.loads(out.out)["distributions"]] == ["demo-core"]
    assert not [w for w in json.loads(out.out)["warnings"] if "searches is inside" in w]
    assert "searches is inside" not in out.err
    # With a module installed where the loader does not look, list says it again.
    assert main(["install", str(demo_dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses"]) == 1
    capsys.readouterr()
    main(["list", "--prefix", str(prefix), "-l", str(layout), "--json"])
    assert [w for w in json.loads(capsys.readouterr().out)["warnings"] if "searches is inside" in w]


def test_a_core_package_without_the_loaders_files_is_a_core(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A layout's second core package holding no program (a library, the data: liblua5.4-0,
    libsane-common, xserver-common) was "other" once installed: not REQUESTED, so uninstalling
    the last module removed it as no longer needed, and `list` called it other. Its wheel says
    what it is (qpack-package.json): a core, for qpack install, list and uninstall alike."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    core = '[[package]]\nname = "demo-core"\n'
    assert core in text
    util = '[[package]]\nname = "demo-util"\nkind = "core"\nfiles = ["{prefix}/lib/libdemo-util.so*"]\n\n'
    layout = tmp_path / "two-cores.toml"
    layout.write_text(text.replace(core, util + core, 1))
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses"]) == 0
    util_info = next(prefix.glob("lib/python*/site-packages/demo_util-1.0.dist-info"))
    assert (util_info / "REQUESTED").is_file()
    capsys.readouterr()
    assert main(["list", "--prefix", str(prefix), "--json"]) == 0
    kinds = {d["name"]: d["kind"] for d in json.loads(capsys.readouterr().out)["distributions"]}
    assert kinds == {"demo-core": "core", "demo-util": "core", "demo-ui-curses": "module"}
    assert main(["uninstall", "--prefix", str(prefix), "ui-curses"]) == 0
    assert util_info.is_dir() and (prefix / "lib/libdemo-util.so.1").is_file()


def test_program_types_follow_the_prefix_checked(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`[loader.program-types]` globs name programs under `{prefix}`: matched against the
    layout's /usr only, a program installed into a venv asked for every type, and the same
    bytes got other verdicts under /usr (`--root`) than in the venv."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    layout = tmp_path / "ui-only.toml"
    layout.write_text(text + '\n[loader.program-types]\n"{prefix}/bin/demo" = ["ui"]\n')
    rows = {}
    venv, root = ["--prefix", str(tmp_path / "venv")], ["--root", str(tmp_path / "root"), "--prefix", "/usr"]
    for where in (venv, root):
        assert main(["install", str(demo_dist), "-l", str(layout), *where, "ui-curses", "block-curl"]) == 0
        capsys.readouterr()
        on = [where[-1]] if where is venv else ["/usr", "--root", where[1]]
        main(["check", *on, "-l", str(layout), "--json"])
        modules = json.loads(capsys.readouterr().out)["modules"]
        rows[where[0]] = {m["module"]: (m["loads"], [p["kind"] for p in m["problems"]]) for m in modules}
    assert rows["--prefix"] == rows["--root"]
    assert rows["--prefix"]["block-curl"] == (False, ["unused"])  # demo asks for ui modules only
    assert rows["--prefix"]["ui-curses"] == (True, [])


def test_a_link_without_the_release_the_module_name_carries_is_no_stray(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """apr-util's drivers are named with a release (apr_dbd_sqlite3-1.so), and Debian ships a
    link without it beside each (apr_dbd_sqlite3.so): a copy in a wheel, the same bytes, which
    `check` called never looked up on every install (exit 1). Other bytes under that name
    still are a stray."""
    build = copy_build(demo_build, tmp_path)
    for module in sorted(build.glob("usr/lib/demo/*/*.so")):
        module.rename(module.with_name(f"{module.stem}-1.so"))
        module.symlink_to(f"{module.stem}-1.so")
    ui, block = build / "usr/lib/demo/ui", build / "usr/lib/demo/block"
    (block / "curl.so").unlink()
    shutil.copy2(ui / "gtk-1.so", block / "curl.so")  # other bytes than the module curl-1.so
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    naming = 'naming = "{type}/{name}.so"\n'
    assert naming in text
    layout = tmp_path / "released.toml"
    layout.write_text(text.replace(naming, 'naming = "{type}/{name}-1.so"\n', 1))
    dist = split(build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    installing = ["ui-curses", "ui-gtk", "block-curl"]
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), *installing]) in (0, 1)
    assert (prefix / "lib/demo/ui/gtk.so").read_bytes() == (prefix / "lib/demo/ui/gtk-1.so").read_bytes()
    capsys.readouterr()
    assert main(["check", str(prefix), "-l", str(layout), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)["modules"]
    strays = [m["file"] for m in rows if any(p["kind"] == "never-looked-up" for p in m["problems"])]
    assert strays == [f"{prefix}/lib/demo/block/curl.so"]


def test_list_fails_where_check_fails_on_a_file_the_loader_never_looks_up(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A module shipped as a library (curses.so -> curses.so.1.0, SANE's libsane-X.so.1 ->
    .so.1.1.1) becomes two files in a wheel: the versioned copy, the same bytes, is no stray
    (it failed `check` of every such install). A file the loader never looks up still fails
    `check`, and now `list` as well (it exited 0), on the distribution that owns the file. A
    file that is no ELF file at all is no such file (Xorg's README.so.txt)."""
    build = copy_build(demo_build, tmp_path)
    ui = build / "usr/lib/demo/ui"
    (ui / "curses.so").rename(ui / "curses.so.1.0")
    (ui / "curses.so").symlink_to("curses.so.1.0")
    shutil.copy2(build / "usr/lib/demo/block/curl.so", ui / "curses.so.9")  # other bytes: a stray
    # libtool's -release names (an OpenLDAP tester's back_mdb.so -> back_mdb-2.5.so.0.1.8):
    # copies too once in a wheel, 70 false strays of a prefix slaptest loaded.
    (ui / "gtk.so").rename(ui / "gtk-2.5.so.0.1.8")
    (ui / "gtk-2.5.so.0").symlink_to("gtk-2.5.so.0.1.8")
    (ui / "gtk.so").symlink_to("gtk-2.5.so.0")
    # Debian's suffix for a module built per Python (an Apache tester's mod_wsgi.so ->
    # mod_wsgi.so-3.11: exit 1 on the wheel install `install` itself had passed).
    block = build / "usr/lib/demo/block"
    (block / "curl.so").rename(block / "curl.so-3.11")
    (block / "curl.so").symlink_to("curl.so-3.11")
    dist = split(build, tmp_path / "dist", "1.0")
    prefix = tmp_path / "p"
    installing = ["ui-curses", "ui-gtk", "block-curl"]
    assert main(["install", str(dist), "-l", "demo", "--prefix", str(prefix), *installing]) in (0, 1)
    assert (prefix / "lib/demo/ui/gtk-2.5.so.0").read_bytes() == (prefix / "lib/demo/ui/gtk.so").read_bytes()
    assert (prefix / "lib/demo/ui/curses.so.1.0").read_bytes() == (
        prefix / "lib/demo/ui/curses.so"
    ).read_bytes()
    (prefix / "lib/demo/ui/README.so.txt").write_text("not a module\n")
    capsys.readouterr()
    assert main(["check", str(prefix), "-l", "demo", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)["modules"]
    strays = [m["file"] for m in rows if any(p["kind"] == "never-looked-up" for p in m["problems"])]
    assert strays == [f"{prefix}/lib/demo/ui/curses.so.9"]
    assert main(["list", "--prefix", str(prefix), "--json"]) == 1
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)["distributions"]}
    assert any(p.startswith("never-looked-up: ") for p in listed["demo-core"]["problems"])  # it owns the file
    assert not listed["demo-ui-curses"]["problems"] and not listed["demo-ui-gtk"]["problems"]
    assert not listed["demo-block-curl"]["problems"]
    # A loader with an entry symbol has every file defining it looked at, whatever its name: the
    # copy curl.so-3.11 was "never looked up (it defines demo_module_init, a module's entry)".
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    naming = 'naming = "{type}/{name}.so"\n'
    assert naming in text
    with_entry = tmp_path / "entry.toml"
    with_entry.write_text(text.replace(naming, naming + 'entry = "demo_module_init"\n', 1))
    main(["check", str(prefix), "-l", str(with_entry), "--json"])
    rows = json.loads(capsys.readouterr().out)["modules"]
    strays = [m["file"] for m in rows if any(p["kind"] == "never-looked-up" for p in m["problems"])]
    assert strays == [f"{prefix}/lib/demo/ui/curses.so.9"]
    # The module files beside them passed over for copies searched first, they are still their
    # other names (an OpenLDAP tester's venv, searched after /usr/lib/ldap: ppolicy-2.5.so.0
    # beside the installed ppolicy.so became a stray, exit 1).
    first = tmp_path / "first"
    (first / "ui").mkdir(parents=True)
    for name in ("curses.so", "gtk.so"):
        shutil.copy2(prefix / "lib/demo/ui" / name, first / "ui" / name)
    main(["check", str(prefix), "-l", "demo", "--json", "--env", f"DEMO_MODULE_DIR={first}"])
    rows = json.loads(capsys.readouterr().out)["modules"]
    strays = [m["file"] for m in rows if any(p["kind"] == "never-looked-up" for p in m["problems"])]
    assert strays == [f"{prefix}/lib/demo/ui/curses.so.9"]


FLAT = """
[layout]
name = "flat"
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/demo"]
naming = "{name}.so"
[[loader.search]]
relocated = "lib/demo/ui"
[[package]]
name = "demo-core"
kind = "core"
rest = true
[per-module]
name = "demo-{name}"
normalize = true
[meta]
name = "demo"
"""


def test_a_module_id_with_a_leading_underscore_is_an_extra(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL's intarray module is `_int.so`: PEP 685 normalizes `_int` to `-int`, which no
    extra may be, and the wheel split failed on the meta wheel's metadata. The extra is `int`,
    and `qpack install ... _int` finds it."""
    build = copy_build(demo_build, tmp_path)
    ui = build / "usr/lib/demo/ui"
    (ui / "curses.so").rename(ui / "_curses.so")
    layout = tmp_path / "flat.toml"
    layout.write_text(FLAT)
    dist = split(build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "_curses"]) == 0
    assert (prefix / "lib/demo/ui/_curses.so").is_file()
    capsys.readouterr()


def test_module_ids_without_a_meta_wheel_are_read_from_the_module_wheels(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A split without [meta] has no wheel listing module ids: `install ... _int` said "expected
    exactly one wheel with extras (the meta wheel), found none", then to name distributions (a
    Weston and a Bacula tester), though each module wheel declares its ids. They are read from
    there; a name no wheel declares still says to name distributions."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    head, sep, _ = text.partition("\n[meta]\n")
    assert sep
    layout = tmp_path / "no-meta.toml"
    layout.write_text(head + "\n")
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses"]) == 0
    assert (prefix / "lib/demo/ui/curses.so").is_file() and (prefix / "bin/demo").is_file()
    capsys.readouterr()
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "curses"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: curses: no wheel in {dist} of that name, and no meta wheel to read module ids"
    )
    # The wheel named after the module is offered (a gedit tester's `sort` was told the list of
    # all 30 distributions, gedit-plugin-sort among them); the list where none or two are.
    assert err.rstrip().endswith("name distributions; named after them: demo-ui-curses"), err
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "no_such"]) == 2
    err = capsys.readouterr().err
    assert "name distributions (demo-audio-alsa, " in err
    # A few of them, and how many more (a Munin re-tester's 227 names: one line of 9 KB).
    names = sorted({w.name.split("-")[0].replace("_", "-") for w in dist.glob("*.whl")})
    assert len(names) > 5 and err.rstrip().endswith(f"{names[4]} and {len(names) - 5} more)"), (names, err)
    assert err.startswith("error: no_such: no wheel")  # as typed (a ProFTPD tester's auth_otp)
    # Or its meta wheel is not in the directory given (an Audacity tester's lone module wheel:
    # "the split had no [meta]" of a split that had one).
    assert "(the split had no [meta], or its wheel is not there)" in err
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "demo-ui-gtk"]) == 0
    # A module a group package holds, by its id: the group's wheel declares it too (a netdata
    # tester's `install charts.d`, in netdata-plugins-bash, was told to name distributions).
    group = tmp_path / "group.toml"
    group.write_text(head + '\n[[package]]\nname = "demo-audio"\nkind = "group"\nmodules = ["audio-*"]\n')
    dist = split(demo_build, tmp_path / "gdist", "1.0", group)
    other = tmp_path / "g"
    assert main(["install", str(dist), "-l", str(group), "--prefix", str(other), "audio-alsa"]) == 0
    assert (other / "lib/demo/audio/alsa.so").is_file()


def test_install_and_list_judge_with_the_environment_given(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A prefix whose modules only a variable reaches (Xorg's -modulepath, SANE's
    LD_LIBRARY_PATH): `check --env` passed it, while `install` and `list`, which had no --env,
    said its modules will not load."""
    layout = absolute_layout(tmp_path, "/nowhere")
    prefix = tmp_path / "p"
    args = ["-l", str(layout), "--prefix", str(prefix)]
    env = ["--env", f"DEMO_MODULE_DIR={prefix}/lib/demo"]
    assert main(["install", str(demo_dist), *args, "ui-curses", "--json"]) == 1
    capsys.readouterr()
    assert main(["uninstall", "--prefix", str(prefix), "demo-ui-curses"]) == 0
    capsys.readouterr()
    assert main(["install", str(demo_dist), *args, "ui-curses", *env, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["check"]
    assert [(r["module"], r["loads"]) for r in rows] == [("ui-curses", True)]
    assert main(["list", *args, "--json"]) == 1
    capsys.readouterr()
    assert main(["list", *args, *env, "--json"]) == 0


def test_a_module_installed_that_a_program_takes_from_elsewhere_is_said(
    demo_build: Path, demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mesa's tester: the host's /usr/lib/x86_64-linux-gnu/dri comes first, and the install
    said the drivers it had just installed "will load": the host's did, not those."""
    other = tmp_path / "other/ui"
    other.mkdir(parents=True)
    shutil.copy2(demo_build / "usr/lib/demo/ui/curses.so", other / "curses.so")
    prefix = tmp_path / "p"
    env = ["--env", f"DEMO_MODULE_DIR={tmp_path / 'other'}"]
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-curses", *env]) == 0
    err = capsys.readouterr().err
    line = (
        f"warning: ui-curses: installed as {prefix}/lib/demo/ui/curses.so by demo-ui-curses 1.0, but "
        f"{prefix}/bin/demo takes {other}/curses.so first: the copy installed is not the one loaded"
    )
    assert line in err, err
    # Its summary says so too (a NetworkManager tester: "will load" read as the copy installed).
    assert (
        "1 of 1 module(s) installed will load, 1 of them from another copy than the one installed "
        "(warning below)"
    ) in err.splitlines(), err
    p2 = tmp_path / "p2"
    assert (
        main(["install", str(demo_dist), "-l", "demo", "--prefix", str(p2), "ui-curses", *env, "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["loaded_elsewhere"] == ["ui-curses"]
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(p2), "ui-gtk", *env, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["loaded_elsewhere"] == []
    # check and list say it too (a Kerberos tester's prefix checked clean with its core's
    # plug-in never read, the host's loaded instead).
    assert main(["check", str(prefix), "-l", "demo", *env]) == 0
    assert line in capsys.readouterr().err
    assert main(["list", "--prefix", str(prefix), *env]) == 0
    assert line in capsys.readouterr().err
    # A loader of an absolute directory (a Janus tester's): the wheel's copy is placed nowhere
    # it looks, the host's loads, and the install said "1 of 1 will load" and nothing else.
    layout = absolute_layout(tmp_path, str(tmp_path / "other"))
    p3 = tmp_path / "p3"
    assert (
        main(["install", str(demo_dist), "-l", str(layout), "--prefix", str(p3), "ui-curses", "--json"]) == 0
    )
    said = capsys.readouterr()
    assert json.loads(said.out)["loaded_elsewhere"] == ["ui-curses"]
    assert (
        f"warning: ui-curses: installed by demo-ui-curses 1.0 where the loader does not look, but "
        f"{p3}/bin/demo takes {other}/curses.so: the copy installed is not the one loaded"
    ) in said.err.splitlines()
    # Checked by a layout whose loader reads only that other directory: the prefix's copy is
    # nowhere it looks, and the other one loads.
    absolute = absolute_layout(tmp_path, str(tmp_path / "other"))
    assert main(["check", str(prefix), "-l", str(absolute)]) == 0
    assert (
        f"warning: ui-curses: installed by demo-ui-curses 1.0 where the loader does not look, but "
        f"{prefix}/bin/demo takes {other}/curses.so: the copy installed is not the one loaded"
    ) in capsys.readouterr().err


def test_list_of_a_prefix_emptied_by_uninstall_is_empty(demo_dist: Path, tmp_path: Path) -> None:
    """Once the last distribution is gone, no layout is recorded: `list` without -l said
    'error: ... give -l LAYOUT' (status 2); with nothing installed it is an empty list."""
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-curses")
    assert main(["uninstall", "--prefix", str(prefix), "demo-ui-curses", "demo-core"]) == 0
    r = qpack("list", "--prefix", str(prefix), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["distributions"] == []
    assert qpack("list", "--prefix", str(prefix)).stderr == f"nothing is installed in {prefix}\n"
    # Something installed that records no layout (as pip installs it): -l is still needed.
    from qpack.install import install_wheels

    install_wheels([next(demo_dist.glob("demo_core-*.whl"))], tmp_path / "v")
    r = qpack("list", "--prefix", str(tmp_path / "v"))
    assert r.returncode == 2 and "no installed distribution records its layout; give -l LAYOUT" in r.stderr


def test_a_recorded_layout_file_that_moved_is_said_so(demo_dist: Path, tmp_path: Path) -> None:
    """A MariaDB tester's layout file, recorded by `install`, was moved: `list` and `uninstall`
    said only "error: .../tmp-layout.toml: layout file not found", a file the command never
    named; -l LAYOUT was the way out, unsaid."""
    layout = tmp_path / "moved.toml"
    shutil.copy(Path(__file__).parent.parent / "qpack/layouts/demo.toml", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(demo_dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses"]) == 0
    layout.rename(tmp_path / "elsewhere.toml")
    for cmd in (["list", "--prefix", str(prefix)], ["uninstall", "--prefix", str(prefix), "ui-curses"]):
        r = qpack(*cmd)
        assert r.returncode == 2, r.stderr
        assert r.stderr == (
            f"error: {layout}: layout file not found (the layout `qpack install` recorded in {prefix}; "
            "give -l LAYOUT)\n"
        )
    r = qpack("uninstall", "--prefix", str(prefix), "-l", str(tmp_path / "elsewhere.toml"), "ui-curses")
    assert r.returncode == 0, r.stderr
    # A distribution named is removed by its RECORD, as pip removes it: the layout is not needed
    # (a BitlBee tester's uninstall of bitlbee-plugin-otr stopped for want of a deleted copy).
    r = qpack(
        "install",
        str(demo_dist),
        "-l",
        str(layout.with_name("elsewhere.toml")),
        "--prefix",
        str(prefix),
        "ui-gtk",
    )
    assert r.returncode == 0, r.stderr
    (tmp_path / "elsewhere.toml").unlink()
    r = qpack("uninstall", "--prefix", str(prefix), "demo-ui-gtk")
    assert r.returncode == 0, r.stderr
    assert (
        f"warning: {tmp_path / 'elsewhere.toml'}: layout file not found: uninstalled by the distributions' "
        "RECORD files alone"
    ) in r.stderr.splitlines()
    assert not (prefix / "lib/demo/ui/gtk.so").exists()


def test_uninstalling_one_module_of_a_group_package_names_the_others(
    demo_build: Path, tmp_path: Path
) -> None:
    """A group package holds several modules: uninstalling one of them by its id removes them
    all, which went unsaid (a tester removed ALSA's samplerate_best and lost four siblings)."""
    layout = tmp_path / "group.toml"
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    layout.write_text(text + '\n[[package]]\nname = "demo-ui"\nkind = "group"\nmodules = ["ui-*"]\n')
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses"]) == 0
    # `list` calls it a group, as the plan and the manifest do (a Samba tester's said "module").
    from qpack.listing import list_installed

    kinds = {d.name: d.kind for d in list_installed(prefix, loader=load_layout(layout).loader).dists}
    assert kinds == {"demo-core": "core", "demo-ui": "group"}
    # A group that holds the program too (an OpenLDAP tester's slapd) is a group as well.
    whole = tmp_path / "whole.toml"
    one = text.replace('kind = "core"\nrest = true', 'kind = "group"\nrest = true\nfiles = ["{prefix}/**"]')
    one = one.split("[per-module]")[0]
    whole.write_text(one + '[meta]\nname = "demo"\n')
    everything = split(demo_build, tmp_path / "dist-whole", "1.0", whole)
    assert main(["install", str(everything), "-l", str(whole), "--prefix", str(tmp_path / "w"), "all"]) == 0
    listed = list_installed(tmp_path / "w", loader=load_layout(whole).loader).dists
    assert {d.name: d.kind for d in listed} == {"demo-core": "group"}
    report = uninstall(["ui-curses"], prefix, loader=load_layout(layout).loader)
    assert [r.name for r in report.removed] == ["demo-ui"]
    assert report.warnings == ("demo-ui 1.0 also holds ui-gtk, ui-opengl: removed with it",)
    assert uninstall(["demo-core"], prefix).warnings == ()  # a distribution named: nothing to add


def test_a_module_of_the_core_is_not_uninstalled_alone(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PulseAudio's pulseaudio holds the daemon and 67 modules: `uninstall null-sink` removed the
    daemon with it, saying only that the other modules went. A module id that leads to a core
    is refused; naming the distribution removes it."""
    layout = tmp_path / "core.toml"
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = 'rest = true\nsummary = "The demo'
    assert old in text
    layout.write_text(text.replace(old, 'rest = true\nmodules = ["block-nfs"]\nsummary = "The demo'))
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses"]) == 0
    before = snapshot(prefix)
    ld = load_layout(layout).loader
    with pytest.raises(UninstallError) as e:
        uninstall(["block-nfs"], prefix, loader=ld)
    assert str(e.value) == (
        "block-nfs is in demo-core 1.0, which holds the program (bin/demo): a module of it cannot be "
        "uninstalled alone; name demo-core to remove the whole distribution"
    )
    assert snapshot(prefix) == before
    # Checked by a layout whose loader reads only another directory, holding its own block-nfs:
    # the core's copy is said not to be the one loaded (a Kerberos tester's krb5-core and its
    # preauth/spake.so, with the host's plug-in loaded instead, checked clean).
    other = tmp_path / "other"
    (other / "block").mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/block/nfs.so", other / "block/nfs.so")
    absolute = absolute_layout(tmp_path, str(other))
    absolute.write_text(
        absolute.read_text().replace(
            'rest = true\nsummary = "The demo', 'rest = true\nmodules = ["block-nfs"]\nsummary = "The demo'
        )
    )
    capsys.readouterr()
    status = main(["check", str(prefix), "-l", str(absolute)])
    out = capsys.readouterr()
    assert status == 1, out.out + out.err  # ui-curses is nowhere it looks
    assert (
        f"warning: block-nfs: installed by demo-core 1.0 where the loader does not look, but "
        f"{prefix}/bin/demo takes {other}/block/nfs.so: the copy installed is not the one loaded"
    ) in out.err
    # A type: its modules outside the core go, the core's stays, said (a Kerberos tester's
    # `uninstall preauth` was refused whole for the one preauth module in krb5-core).
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "block-curl"]) == 0
    report = uninstall(["block"], prefix, loader=ld)
    assert [r.name for r in report.removed] == ["demo-block-curl"]
    assert report.warnings == ("block-nfs is in demo-core 1.0, which holds the program: left installed",)
    with pytest.raises(UninstallError) as e:
        uninstall(["block"], prefix, loader=ld)
    assert str(e.value) == (
        "block: every installed module of it is in a distribution holding the program (block-nfs is in "
        "demo-core 1.0); name that distribution to remove it"
    )
    report = uninstall(["block-nfs", "demo-core"], prefix, loader=ld, with_dependents=True)
    assert {r.name for r in report.removed} == {"demo-core", "demo-ui-curses"}


def test_an_optional_core_pulled_in_by_a_module_goes_with_it(demo_build: Path, tmp_path: Path) -> None:
    """A VLC tester's helper libraries, each a core package with `required = false`, pulled in by
    a plugin's library needs: install recorded them as installed on request, and uninstalling
    the plugin kept them ("kept, it was installed on request", which it was not)."""
    from qpack.demo.builder import build_extra_library, build_extra_module, compute_stamp

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    lib = build_extra_library(build / "usr/lib", "libdemo-extra.so.1")
    build_extra_module(
        build / "usr/lib/demo", type="ui", name="x", stamp=compute_stamp("/usr", "1"), needed=[lib]
    )
    layout = tmp_path / "optional.toml"
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    extra = '[[package]]\nname = "demo-extra"\nkind = "core"\nrequired = false\n'
    extra += 'files = ["{prefix}/lib/libdemo-extra.so.1"]\n'
    layout.write_text(text.replace('known = ["ui-curses", ', 'known = ["ui-x", "ui-curses", ') + extra)
    dist = split(build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-x"]) == 0
    requested = {d.name.split("-1.0")[0] for d in prefix.glob("lib/python*/site-packages/*.dist-info")
                 if (d / "REQUESTED").exists()}  # fmt: skip
    assert requested == {"demo_core", "demo_ui_x"}
    report = uninstall(["ui-x"], prefix, loader=load_layout(layout).loader)
    assert {(r.name, r.why) for r in report.removed} == {("demo-ui-x", "named"), ("demo-extra", "unneeded")}
    assert report.kept == ("demo-core 1.0: kept, a core package (it stays when its modules go)",)
    # Asked for by name, it is installed on request, and stays.
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "demo-extra"]) == 0
    assert (next(prefix.glob("lib/python*/site-packages/demo_extra-*.dist-info")) / "REQUESTED").exists()


def test_uninstall_takes_a_module_type_as_install_does(demo_dist: Path, tmp_path: Path) -> None:
    """A Qt tester: `install sqldrivers` installed every SQL driver; `uninstall sqldrivers` said
    it was neither a distribution nor a module. A type names every installed module of it."""
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui", "block-curl")
    report = uninstall(["ui"], prefix, loader=load_layout("demo").loader)
    assert {r.name for r in report.removed} == {"demo-ui-curses", "demo-ui-gtk", "demo-ui-opengl"}
    assert report.warnings == ()
    assert loaded(prefix) == {"block-curl"}
    with pytest.raises(UninstallError) as e:
        uninstall(["audio"], prefix, loader=load_layout("demo").loader)
    assert str(e.value) == f"audio: a module type of the layout, but no module of it is installed in {prefix}"


def screens_install(demo_build: Path, tmp_path: Path, prefix: Path) -> list[str]:
    """`qpack install` arguments for the demo split with a layout's own extra, `screens`
    (ui-gtk and ui-curses), into `prefix`."""
    layout = tmp_path / "extras.toml"
    demo = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    layout.write_text(demo + '\n[meta.extras]\nscreens = ["ui-gtk", "ui-curses"]\n')
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    return ["install", str(dist), "-l", str(layout), "--prefix", str(prefix)]


def test_uninstall_takes_an_extra_as_install_does(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An evolution-data-server tester's `install goa` took an extra of the meta wheel naming
    two modules; `uninstall goa` said it was neither a distribution nor a module, and suggested
    one of the two (a PowerDNS tester's `sql`, four backends: "did you mean gpgsql?")."""
    prefix = tmp_path / "p"
    args = screens_install(demo_build, tmp_path, prefix)
    assert main([*args, "screens", "block-curl"]) == 0
    assert loaded(prefix) == {"ui-gtk", "ui-curses", "ui-opengl", "block-curl"}
    capsys.readouterr()
    assert main(["uninstall", "--prefix", str(prefix), "screens", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    removed = {r["name"]: r["why"] for r in out["removed"]}
    assert removed == {"demo-ui-gtk": "named", "demo-ui-curses": "named", "demo-ui-opengl": "unneeded"}
    assert loaded(prefix) == {"block-curl"}
    # No "also holds" for the modules an extra named whole (a libproxy tester's `uninstall all`).
    assert not [w for w in out["warnings"] if "also holds" in w], out["warnings"]
    assert main(["uninstall", "--prefix", str(prefix), "all", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in out["removed"]] == ["demo-block-curl"]
    assert not [w for w in out["warnings"] if "also holds" in w], out["warnings"]
    # A module installed on its own before the extra stays when the extra goes: `install
    # screens` did not take it (a MariaDB tester's provider_lz4, then `compression`).
    assert main([*args, "ui-curses"]) == 0
    assert main([*args, "screens"]) == 0
    assert loaded(prefix) == {"ui-gtk", "ui-curses", "ui-opengl"}
    capsys.readouterr()
    assert main(["uninstall", "--prefix", str(prefix), "screens"]) == 0
    assert loaded(prefix) == {"ui-curses"}


def test_a_module_two_extras_took_stays_until_both_go(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`install net remote`, block-curl in both, then `uninstall net`: block-curl went, and
    `remote` lost a module nobody had asked to remove. It stays, said, until `remote` goes too
    or it is named."""
    layout = tmp_path / "extras.toml"
    demo = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    layout.write_text(
        demo + '\n[meta.extras]\nnet = ["block-curl", "block-nfs"]\nremote = ["block-curl", "ui-curses"]\n'
    )
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "net", "remote"]) == 0
    assert loaded(prefix) == {"block-curl", "block-nfs", "ui-curses"}
    capsys.readouterr()
    assert main(["uninstall", "--prefix", str(prefix), "net", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in out["removed"]] == ["demo-block-nfs"]
    assert (
        "demo-block-curl 1.0: kept, installed for remote too (name demo-block-curl to remove it)"
        in (out["warnings"])
    )
    assert loaded(prefix) == {"block-curl", "ui-curses"}
    assert main(["uninstall", "--prefix", str(prefix), "net"]) == 0  # again: nothing of it left to remove
    said = capsys.readouterr()
    assert (said.out, said.err.splitlines()[0]) == ("", f"nothing removed from {prefix}")
    assert main(["uninstall", "--prefix", str(prefix), "remote", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(r["name"] for r in out["removed"]) == ["demo-block-curl", "demo-ui-curses"]
    assert loaded(prefix) == set()


def test_a_module_another_module_runs_installs_with_it(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ZNC tester's pyeval.py, run by modpython: install read it for the stamp as an ELF file
    and refused it. `[loader.runners]` files are no ELF files; the runner comes with them."""
    build = copy_build(demo_build, tmp_path)
    (build / "usr/lib/demo/ui/eval.py").write_text("print('run by ui-curses')\n")
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    text = text.replace('naming = "{type}/{name}.so"', 'naming = ["{type}/{name}.so", "{type}/{name}.py"]')
    text = text.replace(
        'types = ["ui", "block", "audio"]',
        'types = ["ui", "block", "audio"]\nrunners = { "*.py" = "ui-curses" }',
    )
    layout = tmp_path / "runners.toml"
    layout.write_text(text.replace("known = [", 'known = ["ui-eval", '))
    dist = split(build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-eval"]) == 0
    out = capsys.readouterr()
    assert f"ui-eval\t{prefix}/lib/demo/ui/eval.py\tyes\t" in out.out.splitlines()
    assert "2 of 2 module(s) installed will load" in out.err
    assert loaded(prefix) == {"ui-curses"}  # the demo runs no .py: its runner is what it loads


def test_keep_dependencies(demo_dist: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-gtk")
    report = uninstall(["demo-ui-gtk"], prefix, keep_dependencies=True)
    assert [r.name for r in report.removed] == ["demo-ui-gtk"]
    assert loaded(prefix) == {"ui-opengl"}


def test_what_others_depend_on_is_refused_unless_named_or_with_dependents(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "p"
    empty.mkdir()
    before_all = snapshot(empty)
    do_install(demo_dist, empty, "ui-gtk", "audio-pa")
    prefix = empty
    before = snapshot(prefix)
    assert main(["uninstall", "--prefix", str(prefix), "demo-ui-opengl"]) == 2
    assert capsys.readouterr().err == (
        "error: demo-ui-opengl: demo-ui-gtk 1.0 depends on it; name it too, or give --with-dependents\n"
    )
    assert main(["uninstall", "--prefix", str(prefix), "demo-core"]) == 2
    # Every direct dependant at once (one per run walked an rsyslog tester through lmnet's).
    assert capsys.readouterr().err == (
        "error: demo-core: demo-audio-alsa 1.0, demo-audio-pa 1.0, demo-ui-gtk 1.0, demo-ui-opengl 1.0 "
        "depend on it; name them too, or give --with-dependents\n"
    )
    # Named by module id: which distribution holds it is said (WeeChat's irc in weechat-core).
    assert main(["uninstall", "--prefix", str(prefix), "-l", "demo", "ui-opengl"]) == 2
    assert capsys.readouterr().err == (
        "error: ui-opengl is in demo-ui-opengl, and demo-ui-gtk 1.0 depends on it; "
        "name it too, or give --with-dependents\n"
    )
    assert snapshot(prefix) == before
    # Named together, both go.
    assert main(["uninstall", "--prefix", str(prefix), "demo-ui-opengl", "demo-ui-gtk"]) == 0
    assert loaded(prefix) == {"audio-pa", "audio-alsa"}
    capsys.readouterr()
    # The core with everything that depends on it: the prefix is as before the first install.
    assert main(["uninstall", "--prefix", str(prefix), "demo-core", "--with-dependents", "--json"]) == 0
    removed = json.loads(capsys.readouterr().out)["removed"]
    assert {(r["name"], r["why"]) for r in removed} == {
        ("demo-core", "named"),
        ("demo-audio-pa", "dependent"),
        ("demo-audio-alsa", "dependent"),
    }
    assert snapshot(prefix) == before_all == {}


def test_unknown_names_and_module_ids(demo_dist: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-curses")
    with pytest.raises(
        UninstallError, match=r"^ui-nope: neither an installed distribution nor an installed module"
    ):
        uninstall(["ui-nope"], prefix)
    with pytest.raises(UninstallError, match=r"give -l LAYOUT to name modules"):
        uninstall(["ui-nope"], prefix)  # no loader given to the library: names and recorded extras only
    r = qpack("uninstall", "--prefix", str(prefix), "-l", "demo", "UI_Curses")
    assert r.returncode == 0, r.stderr
    assert loaded(prefix) == set()
    # Without a loader, a module id still names what `install` took by it: an extra of the
    # meta wheel, recorded in the distribution's qpack.json.
    do_install(demo_dist, prefix, "ui-curses")
    assert [r.name for r in uninstall(["UI_Curses"], prefix).removed] == ["demo-ui-curses"]


@pytest.mark.parametrize("after", [1, 2])
def test_a_failed_uninstall_puts_everything_back(demo_dist: Path, tmp_path: Path, after: int) -> None:
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-gtk", "block-curl")
    before = snapshot(prefix)

    def fail(step: int) -> None:
        if step == after:
            raise RuntimeError("injected")

    with pytest.raises(RuntimeError, match="injected"):
        uninstall(["demo-ui-gtk", "demo-block-curl"], prefix, step_hook=fail)
    assert snapshot(prefix) == before


def test_a_killed_uninstall_is_undone_by_the_next_call(demo_dist: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-gtk", "block-curl")
    before = snapshot(prefix)
    r = qpack("uninstall", "--prefix", str(prefix), "demo-ui-gtk", "demo-block-curl",
              env={"QPACK_TEST_KILL_AFTER_WHEEL": "1"})  # fmt: skip
    assert r.returncode == -9, r.stderr
    half = snapshot(prefix)
    assert "lib/demo/ui/gtk.so" not in half
    assert f"{STATE_DIR}/backup/0" in half
    r = qpack("list", "--prefix", str(prefix))
    assert "undid the interrupted uninstall" in r.stderr
    assert snapshot(prefix) == before


def test_list_cuts_a_long_row_to_its_first_few() -> None:
    """An Asterisk tester's group of 300 modules: `list` printed every module and each one's
    problems on one 15 KB line. Text shows the first few and how many more; JSON keeps all."""
    from qpack.cli_install import _first_few

    mods = [f"m{i}" for i in range(8)]
    assert _first_few(mods[:6], ", ", "more") == "m0, m1, m2, m3, m4, m5"
    assert _first_few(mods, ", ", "more") == "m0, m1, m2, m3, m4, and 3 more"
    said = _first_few(mods, "; ", "more problems: see `qpack check`")
    assert said == "m0; m1; m2; m3; m4; and 3 more problems: see `qpack check`"


def test_list_says_which_modules_will_not_load(
    demo_dist: Path, demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-gtk")
    (prefix / "lib/demo/ui/opengl.so").unlink()  # broken behind qpack's back
    assert main(["list", "--prefix", str(prefix)]) == 1
    rows = {line.split("\t")[0]: line.split("\t") for line in capsys.readouterr().out.splitlines()}
    assert rows["demo-ui-gtk"][1:5] == ["1.0", "module", "ui-gtk", "no"]
    # Installed, its file gone: not "not installed" (a lighttpd tester read that beside auth's row).
    assert "dependency: needs module 'ui-opengl', which is installed but not found" in rows["demo-ui-gtk"][5]
    assert rows["demo-ui-opengl"][4] == "no"
    assert rows["demo-core"][2] == "core"
    bare = tmp_path / "bare"  # nothing installed: an empty list (test_list_of_a_prefix_emptied...)
    bare.mkdir()
    assert main(["list", "--prefix", str(bare)]) == 0
    assert capsys.readouterr().err == f"nothing is installed in {bare}\n"
    # A new venv holds pip's own distributions, no wheel of a split: still nothing, not "no
    # installed distribution records its layout" (a Knot Resolver tester's empty venv, exit 2).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    assert main(["list", "--prefix", str(venv)]) == 0
    said = capsys.readouterr().err
    assert said.startswith(f"nothing is installed in {venv} (only pip") and "no wheel of a split" in said, (
        said
    )
    # With a layout, a prefix whose files came from a tree or a distro package (no .dist-info):
    # a ZNC tester's list printed nothing and exited 0 where check found two modules broken.
    tree = copy_build(demo_build, tmp_path) / "usr"
    assert main(["list", "--prefix", str(tree), "-l", "demo"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        f"nothing is installed in {tree} by qpack or pip (no .dist-info): "
        f"`qpack check {tree} -l demo` judges the modules there"
    )
    # Its program cannot start: said, and the list fails as check does (it exited 0).
    (tree / "lib/libdemo-util.so.1").unlink()
    assert main(["list", "--prefix", str(tree), "-l", "demo"]) == 1
    assert "cannot start" in capsys.readouterr().err


def test_pip_and_qpack_undo_each_others_installs(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = tmp_path / "venv"
    python = bare_venv(venv)
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(venv), "ui-gtk", "ui-curses"]) == 0
    assert loaded(venv) == {"ui-gtk", "ui-opengl", "ui-curses"}

    def pip(*args: str) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", *args],
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    # pip sees what qpack installed, and removes a module by its RECORD.
    assert "demo-ui-curses 1.0" in pip("list").replace("  ", " ").replace("  ", " ")
    pip("uninstall", "-y", "demo-ui-curses")
    assert loaded(venv) == {"ui-gtk", "ui-opengl"}
    # qpack removes what pip installed; installing through pip and qpack mixes.
    pip("install", "--no-index", "--find-links", str(demo_dist), "demo-block-curl")
    capsys.readouterr()
    assert names(venv, capsys) == {
        "demo-core": None,
        "demo-block-curl": True,
        "demo-ui-gtk": True,
        "demo-ui-opengl": True,
    }
    assert main(["uninstall", "--prefix", str(venv), "demo-block-curl"]) == 0
    assert loaded(venv) == {"ui-gtk", "ui-opengl"}
    assert "demo-block-curl" not in pip("list")
    pip("check")


def test_modules_of_a_core_without_the_program_are_judged_by_another_layout(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PHP's tester: php8.2-common (a core package holding 17 modules, not the program) installed
    by one layout and checked by another whose loader looks elsewhere: only the module wheel's
    curl was said not found; the 17 went unmentioned, as if none were installed."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = '[[package]]\nname = "demo-core"\nkind = "core"\nrest = true\n'
    assert old in text
    layout = tmp_path / "common.toml"
    layout.write_text(
        text.replace(
            old,
            '[[package]]\nname = "demo-core"\nkind = "core"\nfiles = ["{prefix}/bin/demo"]\n'
            'requires = ["demo-common"]\n\n'
            '[[package]]\nname = "demo-common"\nkind = "core"\nrest = true\nmodules = ["ui-curses"]\n',
        )
    )
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "block-curl"]) == 0
    capsys.readouterr()
    assert main(["check", str(prefix), "-l", str(layout), "--json"]) == 0
    rows = {r["module"]: r["loads"] for r in json.loads(capsys.readouterr().out)["modules"]}
    assert rows == {"ui-curses": True, "block-curl": True}
    elsewhere = absolute_layout(tmp_path, "/nowhere")
    assert main(["check", str(prefix), "-l", str(elsewhere), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    rows = {r["module"]: [p["kind"] for p in r["problems"]] for r in report["modules"]}
    assert rows == {"ui-curses": ["not-found"], "block-curl": ["not-found"]}
    why = {r["module"]: r["problems"][0]["detail"] for r in report["modules"]}
    assert why["ui-curses"].startswith("installed by demo-common 1.0, but none of its files")


def test_a_dependency_asked_for_by_name_later_stays_when_its_dependent_goes(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `apt install` marks an automatically installed package manually installed: ui-opengl,
    pulled in by ui-gtk, then asked for itself, is no longer a dependency only. Its REQUESTED
    file is written and its RECORD says so (pip's uninstall and `verify_records` agree)."""
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-gtk")
    dist_info = next(prefix.glob("lib/python*/site-packages/demo_ui_opengl-*.dist-info"))
    assert not (dist_info / "REQUESTED").exists()
    capsys.readouterr()
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-opengl"]) == 0
    out = capsys.readouterr()
    assert "already installed demo-ui-opengl 1.0, now recorded as asked for\n" in out.err
    assert (dist_info / "REQUESTED").is_file()
    assert "REQUESTED,sha256=" in (dist_info / "RECORD").read_text()
    verify_records(prefix)
    assert not (prefix / STATE_DIR).exists()  # the transaction finished
    assert main(["uninstall", "--prefix", str(prefix), "ui-gtk", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["why"]) for r in report["removed"]] == [("demo-ui-gtk", "named")]
    assert (prefix / "lib/demo/ui/opengl.so").is_file()
    # Asked for again: nothing to change, nothing written.
    before = snapshot(prefix)
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-opengl"]) == 0
    assert "already installed demo-ui-opengl 1.0\n" in capsys.readouterr().err
    assert snapshot(prefix) == before


def test_a_module_named_after_an_extra_took_it_stays_when_the_extra_goes(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other order of the MariaDB tester's case: `install screens`, then `install ui-curses`
    by name ("already installed"); `uninstall screens` took ui-curses too. Naming it records it
    as asked for by name: the extra no longer takes it. The rewrite of its .dist-info is one
    transaction: a failure in it leaves the prefix as it was."""
    prefix = tmp_path / "p"
    args = screens_install(demo_build, tmp_path, prefix)
    assert main([*args, "screens"]) == 0
    before = snapshot(prefix)
    capsys.readouterr()
    monkeypatch.setenv("QPACK_TEST_FAIL_AFTER_WHEEL", "1")  # the one step: the rewrite
    assert main([*args, "ui-curses"]) == 2
    assert "failing after step 1" in capsys.readouterr().err
    assert snapshot(prefix) == before
    monkeypatch.delenv("QPACK_TEST_FAIL_AFTER_WHEEL")
    assert main([*args, "ui-curses", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"name": "demo-ui-curses", "version": "1.0", "now_requested": True} in out["already_installed"]
    verify_records(prefix)
    assert main(["uninstall", "--prefix", str(prefix), "screens"]) == 0
    assert loaded(prefix) == {"ui-curses"}
    assert main(["uninstall", "--prefix", str(prefix), "ui-curses"]) == 0
    assert loaded(prefix) == set()


def test_an_installed_module_overwritten_with_no_elf_is_unreadable_not_misplaced(
    demo_build: Path, demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Gwyddion tester overwrote an installed pixmap.so with text: its register-loadable
    loader passes over a file that is no ELF, and check said the module was installed "where
    the loader does not look (it searches <the very directory>)". It is where it looks, and
    damaged."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = 'types = ["ui", "block", "audio"]\n'
    assert old in text
    layout = tmp_path / "registry.toml"
    layout.write_text(text.replace(old, old + 'resolution = "register-loadable"\n'))
    prefix = tmp_path / "p"
    assert main(["install", str(demo_dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses"]) == 0
    (prefix / "lib/demo/ui/curses.so").write_text("garbage\n")
    capsys.readouterr()
    assert main(["check", str(prefix), "-l", str(layout), "--json"]) == 1
    rows = {m["module"]: m for m in json.loads(capsys.readouterr().out)["modules"]}
    assert rows["ui-curses"]["problems"] == [
        {
            "kind": "unreadable",
            "detail": f"{prefix}/lib/demo/ui/curses.so: installed by demo-ui-curses 1.0, but it is no ELF "
            "file: the loader passes over it",
        }
    ]
    # A good copy searched after it loads: said as passed over, not as "never looks there"
    # (the tester's layout without `replaces`: the host's pixmap.so loaded).
    other = tmp_path / "other"
    (other / "ui").mkdir(parents=True)
    shutil.copy(demo_build / "usr/lib/demo/ui/curses.so", other / "ui/curses.so")
    after = layout.read_text().replace(
        '[[loader.search]]\nrelocated = "lib/demo"\n',
        f'[[loader.search]]\nrelocated = "lib/demo"\n[[loader.search]]\nabsolute = "{other}"\n',
    )
    assert str(other) in after
    layout.write_text(after)
    assert main(["check", str(prefix), "-l", str(layout)]) == 0
    assert (
        f"warning: ui-curses: installed as {prefix}/lib/demo/ui/curses.so by demo-ui-curses 1.0, but "
        f"{prefix}/bin/demo takes {other}/ui/curses.so and passes over the copy installed, which is no "
        "ELF file: the copy installed is not the one loaded"
    ) in capsys.readouterr().err.splitlines()
    # Cut short, still ELF: passed over all the same, not "taken first" (an LXQt tester's
    # libmount.so); gone, said so (his libsensors.so, said "no ELF file").
    good = (other / "ui/curses.so").read_bytes()
    (prefix / "lib/demo/ui/curses.so").write_bytes(good[:2000])
    assert main(["check", str(prefix), "-l", str(layout)]) == 0
    said = capsys.readouterr().err
    assert "and passes over the copy installed, which it cannot load: the copy installed" in said, said
    (prefix / "lib/demo/ui/curses.so").unlink()
    main(["check", str(prefix), "-l", str(layout)])
    said = capsys.readouterr().err
    assert f"takes {other}/ui/curses.so (the copy installed is gone): the copy installed" in said, said
    # A dangling link named as no module is no stray: it is no ELF file (his libdom.so.tmp).
    (prefix / "lib/demo/ui/stale.so.tmp").symlink_to("gone.so")
    assert main(["check", str(prefix), "-l", str(layout), "--json"]) in (0, 1)
    rows = json.loads(capsys.readouterr().out)["modules"]
    assert not [m for m in rows if (m["file"] or "").endswith("stale.so.tmp")]


def test_an_installed_copy_under_a_searched_directory_by_another_name_is_never_looked_up(
    demo_build: Path, demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A GTK tester typed `under = ["3.0.O", "."]` for GTK_PATH's `3.0.0`: the installed
    `3.0.0/immodules/im-ibus.so` sat below the GTK_PATH directory also searched, by a name
    never looked up there. Check said the programs "pass over the copy installed, which they
    cannot load" (it is a good module, never opened) and said nothing of the segment mistyped."""
    from qpack.cli import main

    prefix = tmp_path / "p"
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-curses"]) == 0
    other = tmp_path / "other"
    (other / "ui").mkdir(parents=True)
    shutil.copy(demo_build / "usr/lib/demo/ui/curses.so", other / "ui/curses.so")
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    search = text[text.index("[[loader.search]]") : text.index("[loader.stamp]")]
    typo = '[[loader.search]]\nenv = "DEMO_MODULE_DIR"\nunder = ["dmeo", "."]\n\n'
    typo += f'[[loader.search]]\nabsolute = "{other}"\n\n'
    # Configured, as GTK's is: /usr/lib/demo, outside the prefix.
    typo += '[[loader.search]]\nrelocated = "lib/demo"\n\n'
    layout = tmp_path / "typo.toml"
    layout.write_text(
        text.replace(search, typo).replace('prefix = "/usr"\n', 'prefix = "/usr"\nrelocatable = false\n')
    )
    capsys.readouterr()
    env = ["--env", f"DEMO_MODULE_DIR={prefix}/lib"]
    assert main(["check", str(prefix), "-l", str(layout), *env]) == 0
    said = capsys.readouterr().err.splitlines()
    assert (
        f"warning: ui-curses: installed as {prefix}/lib/demo/ui/curses.so by demo-ui-curses 1.0, but "
        f"{prefix}/bin/demo takes {other}/ui/curses.so and never looks there: the copy installed is not "
        "the one loaded"
    ) in said, said
    assert (
        f"warning: {prefix}/lib/dmeo does not exist, and {prefix}/lib/demo beside it holds 1 file(s) named "
        "as modules are (ui/curses.so): is a location of the layout mistyped?"
    ) in said, said
    # Searched after the copy taken: taken "first"; gone, said so wherever it was searched (an
    # Evolution tester's deleted plug-in, searched after /usr's: "and never looks there").
    after = tmp_path / "after.toml"
    after.write_text(text.replace(search, f'[[loader.search]]\nabsolute = "{other}"\n\n' + search))
    main(["check", str(prefix), "-l", str(after)])
    said = capsys.readouterr().err
    assert f"takes {other}/ui/curses.so first: the copy installed is not the one loaded" in said, said
    (prefix / "lib/demo/ui/curses.so").unlink()
    main(["check", str(prefix), "-l", str(after)])
    said = capsys.readouterr().err
    assert f"takes {other}/ui/curses.so (the copy installed is gone): the copy installed" in said, said


def test_a_check_with_another_layout_than_the_install_recorded_says_so(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Audacious tester installed with a typed layout and checked with an untyped one: the
    installed modules were "not-found: ... none of its files is where the loader looks for
    it" while the same files loaded under the other layout's ids. The check says which layout
    the prefix records; a layout of the same loader (a copy, other packages) needs no word."""
    from qpack.cli import main

    prefix = tmp_path / "p"
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-curses"]) == 0
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    same = tmp_path / "same.toml"
    same.write_text(text.replace('summary = "demo module {module}"', 'summary = "a module"'))
    untyped = tmp_path / "untyped.toml"
    untyped.write_text(
        text.replace('naming = "{type}/{name}.so"', 'naming = ["ui/{name}.so", "block/{name}.so"]')
    )
    capsys.readouterr()
    main(["check", str(prefix), "-l", str(same)])
    assert "record layout" not in capsys.readouterr().err
    main(["check", str(prefix), "-l", str(untyped)])
    said = [line for line in capsys.readouterr().err.splitlines() if "record layout" in line]
    assert said == [
        f"warning: the prefix's distributions record layout demo, and this check uses {untyped}: the modules "
        "they installed are judged by this layout's ids and locations (check with -l demo to judge them "
        "as installed)"
    ], said


def test_a_file_the_build_ships_that_is_no_elf_is_no_module_of_its_wheel(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Sylpheed tester's build shipped a text readme.so and an empty empty.so among the
    plug-ins. The plan put them in the core as files, no modules, but `install` read module ids
    from the wheel's paths: "installed sylpheed 3.8 (empty, readme)", then `unreadable: ...
    damaged?` and exit 1, where `check` of the same files installed by dpkg said nothing (the
    real loader passes over both). What the wheel declares decides; a module of the wheel
    overwritten with text is still unreadable."""
    build = copy_build(demo_build, tmp_path)
    (build / "usr/lib/demo/ui/readme.so").write_text("plug-ins go here\n")
    (build / "usr/lib/demo/ui/empty.so").write_bytes(b"")
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = 'types = ["ui", "block", "audio"]\n'
    known = next(line for line in text.splitlines(keepends=True) if line.startswith("known = "))
    assert old in text
    layout = tmp_path / "registry.toml"
    layout.write_text(text.replace(old, old + 'resolution = "register-loadable"\n').replace(known, ""))
    dist = split(build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    capsys.readouterr()
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses"]) == 0
    err = capsys.readouterr().err
    assert "installed demo-core 1.0\n" in err and "readme" not in err and "empty" not in err
    assert (prefix / "lib/demo/ui/readme.so").is_file()
    assert main(["check", str(prefix), "-l", str(layout), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["modules"]
    assert [m["module"] for m in rows] == ["ui-curses"]
    assert main(["list", "--prefix", str(prefix), "--json"]) == 0
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)["distributions"]}
    assert listed["demo-core"]["modules"] == [] and listed["demo-ui-curses"]["modules"] == ["ui-curses"]
    (prefix / "lib/demo/ui/curses.so").write_text("garbage\n")
    assert main(["check", str(prefix), "-l", str(layout), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)["modules"]
    assert [(m["module"], [p["kind"] for p in m["problems"]]) for m in rows] == [
        ("ui-curses", ["unreadable"])
    ]


def test_a_prefix_that_is_a_file_is_said_to_be_one(demo_dist: Path, tmp_path: Path) -> None:
    """A Knot Resolver tester's --prefix naming a file: "cannot make the prefix directory: File
    exists" said why mkdir failed, not what was wrong."""
    afile = tmp_path / "afile"
    afile.write_text("not a prefix\n")
    r = qpack("install", str(demo_dist), "-l", "demo", "--prefix", str(afile), "ui-curses")
    assert r.returncode == 2
    assert r.stderr.splitlines() == [f"error: {afile}: the prefix is a file, not a directory"]
    assert afile.read_text() == "not a prefix\n"


def test_uninstalling_the_meta_package_takes_the_modules_its_extras_brought(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An OpenVPN tester's `pip install 'openvpn-plugins[down-root]'`, then `qpack uninstall
    openvpn-plugins`: the meta package went, the core stayed for the module, and the module,
    which nothing required any more and nobody asked for by name, stayed without a word. What
    the meta package's extras brought goes with it, the core with them; a module asked for by
    name stays."""
    venv = tmp_path / "venv"
    python = bare_venv(venv)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "install"]
    r = subprocess.run(
        [*pip, "--no-index", "--find-links", str(demo_dist), "demo[ui-curses]"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert loaded(venv) == {"ui-curses"}
    assert main(["uninstall", "--prefix", str(venv), "demo"]) == 0
    assert not list(venv.glob("lib/python*/site-packages/demo*.dist-info"))
    assert not (venv / "bin/demo").exists()
    # Asked for by name as well, it stays (and the core with it).
    r = subprocess.run(
        [*pip, "--no-index", "--find-links", str(demo_dist), "demo[ui-curses]", "demo-ui-curses"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert main(["uninstall", "--prefix", str(venv), "demo"]) == 0
    assert loaded(venv) == {"ui-curses"}
