"""qpack --meson against real meson: reading a build directory must give exactly what splitting
its `meson install --destdir` tree gives, file for file and byte for byte in the wheels."""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from qpack.cli import main
from qpack.demo.builder import compute_stamp
from qpack.errors import BuildError
from qpack.inventory import Inventory, scan
from qpack.layout import load_layout
from qpack.meson import scan_meson
from qpack.plan import make_plan
from qpack.writers.tree import write_tree
from tests.meson_builds import (
    SCRIPT_OUTPUT,
    MesonBuild,
    configure_and_build,
    demo_meson,
    feature_meson,
    meson,
)

DEMO = load_layout("demo")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> MesonBuild:
    return demo_meson(tmp_path_factory)


@pytest.fixture(scope="module")
def feature(tmp_path_factory: pytest.TempPathFactory) -> MesonBuild:
    return feature_meson(tmp_path_factory)


def entries(inv: Inventory) -> dict[str, object]:
    return {e.path: e for e in inv.entries}


def test_demo_meson_tree_is_build_py_tree(demo: MesonBuild, demo_build: Path) -> None:
    """The meson build installs what builder.py stages: the same paths, kinds, modes and links."""
    by_meson = {e.path: (e.kind, e.mode, e.target) for e in scan(demo.stage).entries}
    by_hand = {e.path: (e.kind, e.mode, e.target) for e in scan(demo_build).entries}
    assert by_meson == by_hand
    assert by_meson["usr/bin/demo-run"] == ("symlink", 0o777, "demo")


def test_demo_plan_from_meson_equals_plan_from_installed_tree(demo: MesonBuild) -> None:
    from_meson = scan_meson(demo.build, DEMO.loader)
    installed = DEMO.loader.scan(demo.stage)
    # Every entry, with its mode, size, sha256 and ELF facts (the rpath meson rewrites on install).
    assert entries(from_meson) == entries(installed)
    plan_meson, plan_tree = make_plan(from_meson, DEMO), make_plan(installed, DEMO)
    assert plan_meson.to_json() == plan_tree.to_json()
    assert plan_meson.claims == plan_tree.claims
    assert from_meson.root == demo.build and from_meson.prefix == "/usr"
    assert from_meson.tags["usr/share/doc/demo/README"] == "doc"
    assert from_meson.tags["usr/lib/demo/ui/gtk.so"] == "runtime"
    # stamp.py (what meson.build runs) computes builder.py's stamp.
    gtk = entries(from_meson)["usr/lib/demo/ui/gtk.so"]
    assert gtk.elf.stamps_exported == (f"demo_stamp_{compute_stamp('/usr', '1')}",)  # type: ignore[attr-defined]


def test_demo_wheels_and_trees_from_meson_are_those_of_the_installed_tree(
    demo: MesonBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    split = ["split", "-l", "demo", "--version", "1.0", "--format", "wheel"]
    assert main([*split, "--meson", str(demo.build), "-o", str(tmp_path / "a")]) == 0
    assert main([*split, str(demo.stage), "-o", str(tmp_path / "b")]) == 0
    wheels = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(wheels) == 9 and wheels == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in wheels:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    with zipfile.ZipFile(tmp_path / "a" / "demo_core-1.0-py3-none-linux_x86_64.whl") as zf:
        info = zf.getinfo("demo_core-1.0.data/scripts/demo")
        assert info.external_attr >> 16 & 0o777 == 0o755

    plan = make_plan(scan_meson(demo.build, DEMO.loader), DEMO)
    write_tree(plan, tmp_path / "tree-meson", version="1.0")
    write_tree(make_plan(DEMO.loader.scan(demo.stage), DEMO), tmp_path / "tree-stage", version="1.0")
    manifest = json.loads((tmp_path / "tree-meson" / "manifest.json").read_text())
    assert manifest == json.loads((tmp_path / "tree-stage" / "manifest.json").read_text())
    for pkg in plan.packages:
        for f in pkg.files:
            a, b = tmp_path / "tree-meson" / pkg.name / f, tmp_path / "tree-stage" / pkg.name / f
            assert a.is_symlink() == b.is_symlink()
            if not a.is_symlink():
                assert a.read_bytes() == b.read_bytes() and a.stat().st_mode == b.stat().st_mode, f


def test_every_kind_of_install_is_replayed(feature: MesonBuild) -> None:
    """Libraries and their links, rpaths rewritten and removed, headers, man pages, renamed data,
    install modes, install_subdir, empty directories, symlinks, generated files: as installed.
    The one difference is what the install script made, and the script is reported by name."""
    from_meson = scan_meson(feature.build)
    installed = scan(feature.stage)
    got, want = entries(from_meson), entries(installed)
    assert set(want) - set(got) == {SCRIPT_OUTPUT}
    assert got == {p: e for p, e in want.items() if p != SCRIPT_OUTPUT}
    assert [w for w in from_meson.warnings if "install script" in w] == [
        f"install script '{feature.project / 'script.sh'}' (meson.add_install_script) is not run: "
        "whatever it would install is not in this split"
    ]
    tool, rel = got["usr/bin/feat-tool"], got["usr/bin/feat-rel"]
    assert tool.elf.runpath == () and rel.elf.runpath == ("$ORIGIN/../lib",)  # type: ignore[attr-defined]
    # The build directory still has the build rpaths: the inventory reads rewritten copies.
    assert from_meson.source("usr/bin/feat-tool").read_bytes() != (feature.build / "feat-tool").read_bytes()
    assert from_meson.source("usr/lib/feat/plug.so").stat().st_mode & 0o777 == 0o640
    assert from_meson.tags["usr/lib/libfeat.so"] == "devel"
    assert from_meson.tags["usr/include/feat/feat.h"] == "devel"
    assert from_meson.tags["usr/share/man/man1/feat.1"] == "man"
    assert got["var/lib/feat"].mode == 0o700


def test_install_tags_select_packages(feature: MesonBuild, tmp_path: Path) -> None:
    layout_file = tmp_path / "feat.toml"
    layout_file.write_text(
        """
[layout]
name = "feat"
description = "the feature test project: devel files apart, manual pages left out"

[loader]
prefix = "/usr"
executables = ["{prefix}/bin/feat-tool"]
naming = "{name}.so"

[[loader.search]]
relocated = "lib/feat"

[[package]]
name = "feat-dev"
tags = ["devel"]

[[package]]
name = "feat"
rest = true

[[exclude]]
reason = "manual pages stay with the distro package"
tags = ["man"]

[per-module]
name = "feat-{module}"
"""
    )
    layout = load_layout(layout_file)
    plan = make_plan(scan_meson(feature.build, layout.loader), layout)
    assert plan.package("feat-dev").files == ("usr/include/feat/feat.h", "usr/lib/libfeat.so")
    assert [x.path for x in plan.excluded] == ["usr/share/man/man1/feat.1"]
    assert plan.package("feat-plug").files == ("usr/lib/feat/plug.so",)
    claims = {c.path: c.rule for c in plan.claims}
    assert claims["usr/lib/libfeat.so"] == "package[0] 'feat-dev': tags 'devel'"
    # The same layout on the installed tree: no tags there, so nothing is devel.
    untagged = make_plan(scan(feature.stage), layout, unclaimed="core")
    assert untagged.package("feat-dev").files == ()


def test_intro_installed_json_where_the_plan_is_missing(demo: MesonBuild, tmp_path: Path) -> None:
    old = tmp_path / "build"
    shutil.copytree(demo.build, old, symlinks=True)
    (old / "meson-info" / "intro-install_plan.json").unlink()
    assert entries(scan_meson(old, DEMO.loader)) == entries(scan_meson(demo.build, DEMO.loader))
    # The two records disagreeing (a stale build directory) is an error, not a guess.
    installed = json.loads((old / "meson-info" / "intro-installed.json").read_text())
    key = next(k for k in installed if k.endswith("README"))
    installed[key] = "/usr/share/doc/demo/README.moved"
    (old / "meson-info" / "intro-installed.json").write_text(json.dumps(installed))
    with pytest.raises(
        BuildError, match=r"intro-installed.json and meson-private/install.dat disagree about .*README"
    ):
        scan_meson(old)


def _one_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_no_introspection_and_unsupported_meson_are_one_error(
    demo: MesonBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = ["plan", "-l", "demo", "--meson"]
    assert f"{tmp_path}: not a meson build directory" in _one_error(capsys, [*plan, str(tmp_path)])
    old = tmp_path / "old"
    (old / "meson-info").mkdir(parents=True)
    info = json.loads((demo.build / "meson-info" / "meson-info.json").read_text())
    info["meson_version"] = {"full": "0.59.4", "major": 0, "minor": 59, "patch": 4}
    (old / "meson-info" / "meson-info.json").write_text(json.dumps(info))
    assert _one_error(capsys, [*plan, str(old)]) == (
        f"error: {old}: configured by meson 0.59.4; qpack reads builds of meson 0.60 or later "
        "(install tags, install plan)"
    )
    info["meson_version"] = {"full": "9.0.0", "major": 9, "minor": 0, "patch": 0}
    info["introspection"]["version"] = {"full": "2.0.0", "major": 2, "minor": 0, "patch": 0}
    (old / "meson-info" / "meson-info.json").write_text(json.dumps(info))
    assert "writes introspection format 2; qpack reads format 1" in _one_error(capsys, [*plan, str(old)])
    assert "give one build" in _one_error(capsys, [*plan, str(demo.build), str(demo.stage)])
    # A file of the build for the build, and a relative --prefix: what is wrong, not a guess.
    meson_build = demo.project / "meson.build"
    assert _one_error(capsys, [*plan, str(meson_build)]) == (
        f"error: {meson_build}: not a directory (--meson takes the build directory, not a file in it)"
    )
    assert _one_error(capsys, [*plan, str(demo.build), "--prefix", "usr"]) == (
        "error: --prefix 'usr': must be an absolute path (where the build installs)"
    )


def test_unbuilt_and_stripped_builds_are_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "meson.build").write_text(
        "project('t', 'c', meson_version: '>=0.62')\n"
        "executable('tool', 'tool.c', install: true)\n"
        "shared_library('t', 'tool.c', install: true)\n"
    )
    (project / "tool.c").write_text("int main(void) { return 0; }\n")
    build = project / "build"
    configure_and_build(project, build, "--libdir=lib", "-Dstrip=true", compile=False)
    with pytest.raises(
        BuildError, match=r"build: not built yet \(run meson compile -C .*build\): tool, libt.so$"
    ):
        scan_meson(build)
    meson("compile", "-C", str(build))
    with pytest.raises(
        BuildError, match=r"-Dstrip=true: meson install would strip usr/bin/tool, usr/lib/libt.so, "
    ):
        scan_meson(build)


def test_install_data_is_read_as_data_never_run(demo: MesonBuild, tmp_path: Path) -> None:
    """A hostile install.dat cannot run anything: only meson's classes (as inert stand-ins)
    and plain data are built."""
    build = tmp_path / "build"
    shutil.copytree(demo.build / "meson-info", build / "meson-info")
    (build / "meson-private").mkdir()
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    (build / "meson-private" / "install.dat").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(BuildError, match=r"cannot read meson's install data: unexpected object posix.system"):
        scan_meson(build)
    assert not marker.exists()


def test_the_rpath_rewrite_follows_the_meson_version(feature: MesonBuild) -> None:
    """meson before 1.10 removes an emptied rpath entry but leaves its string; 1.10 and later
    overwrite it with X's (checked by hand against meson 0.60.3, 0.62.2, 1.0.1 and 1.12.1)."""
    from qpack._meson_rpath import installed_bytes
    from qpack.elf import read_elf

    build = (feature.build / "feat-tool").read_bytes()
    old = installed_bytes(build, frozenset({b"$ORIGIN/"}), b"", (1, 9))
    new = installed_bytes(build, frozenset({b"$ORIGIN/"}), b"", (1, 10))
    assert old is not None and new is not None and len(old) == len(new) == len(build)
    assert b"\0$ORIGIN/\0" in old and b"\0$ORIGIN/\0" not in new and b"\0XXXXXXXX\0" in new
    for data in (old, new):
        assert read_elf(io.BytesIO(data)).runpath == ()
    # This build's meson (from PyPI) is 1.10 or later: the tree it installed has the new bytes.
    assert (feature.stage / "usr/bin/feat-tool").read_bytes() == new
    # Nothing to do for a target without a build rpath, or for a file that is not ELF.
    assert installed_bytes((feature.build / "plug.so").read_bytes(), frozenset(), b"", (1, 10)) is None
    assert installed_bytes(b"#!/bin/sh\n", frozenset({b"$ORIGIN/"}), b"", (1, 10)) is None


def test_a_build_whose_sources_changed_since_it_was_compiled_is_refused(
    demo: MesonBuild, capsys: pytest.CaptureFixture[str]
) -> None:
    """meson install compiles what is out of date first; a plan of the build directory took
    the old curses.so as it was, silently."""
    source = demo.project / "src/modules/ui/curses.c"
    st = source.stat()
    try:
        later = time.time_ns() + 3_600_000_000_000  # edited after the build (copies keep old mtimes)
        os.utime(source, ns=(later, later))
        err = _one_error(capsys, ["plan", "-l", "demo", "--meson", str(demo.build)])
        assert err.startswith(f"error: {demo.build}: not up to date: ninja would still build ")
        assert "curses" in err and f"run meson compile -C {demo.build}" in err
    finally:
        os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert main(["plan", "-l", "demo", "--meson", str(demo.build)]) == 0  # the control
