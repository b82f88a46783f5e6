"""Verdicts on modules near where the loader looks, and on an entry that is the build stamp, from
the testers of Zathura 0.5 and libproxy 0.4.18 (loaders taking every `.so` of their directories;
Zathura's directories from ZATHURA_PLUGINS_PATH, libproxy's versioned `0.4.18/modules`).

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
name = "viewer"
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/viewer"]
naming = "lib{name}.so"
resolution = "register-loadable"
entry = "viewer_plugin_4_5"
relocatable = false
[[loader.search]]
env = "VIEWER_PLUGINS_PATH"
list = true
replaces = true
[[loader.search]]
absolute = "/usr/lib/viewer/0.5/plugins"
[loader.stamp]
symbol = "viewer_plugin_*"
[[package]]
name = "viewer"
rest = true
[per-module]
name = "viewer-{module}"
"""

PLUGINS = "usr/lib/viewer/0.5/plugins"
SO = ("-shared", "-fPIC")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the modules are built here")
    tmp = tmp_path_factory.mktemp("viewer")
    root = tmp / "root"
    (root / PLUGINS).mkdir(parents=True)
    (root / "usr/bin").mkdir(parents=True)
    # The program holds the name it asks every plug-in for: its entry and its build stamp.
    _cc(
        tmp,
        root / "usr/bin/viewer",
        'const char *want = "viewer_plugin_4_5";\nint main(void) { return *want == 0; }',
    )
    for name in ("pdf", "ps"):
        _cc(tmp, root / PLUGINS / f"lib{name}.so", "int viewer_plugin_4_5 = 1;", *SO)
    (tmp / "viewer.toml").write_text(LAYOUT)
    return root


def _copy(tree: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(tree, root, symlinks=True)
    shutil.copy(tree.parent / "viewer.toml", tmp_path / "viewer.toml")
    return root


def _check(root: Path, *args: str) -> tuple[int, dict]:
    r = run_qpack(
        "check", "/usr", "--root", str(root), "-l", str(root.parent / "viewer.toml"), "--json", *args
    )
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def _kinds(report: dict, file_name: str) -> list[str]:
    (row,) = [m for m in report["modules"] if m["file"].rsplit("/", 1)[-1] == file_name]
    return [p["kind"] for p in row["problems"]]


def test_the_staged_tree_loads(tree: Path) -> None:
    rc, report = _check(tree)
    assert rc == 0, report["modules"]
    assert sorted(m["module"] for m in report["modules"] if m["loads"]) == ["pdf", "ps"]


def test_an_entry_that_is_the_build_stamp_is_missed_once(tree: Path, tmp_path: Path) -> None:
    """A plug-in of another API (viewer_plugin_4_6) and a helper library defining neither: the
    entry is the stamp, so "does not define it" is one problem, not a second "other-build" (a
    Zathura tester: the helper library was called "a module from another build")."""
    root = _copy(tree, tmp_path)
    _cc(tmp_path, root / PLUGINS / "libstale.so", "int viewer_plugin_4_6 = 1;", *SO)
    _cc(tmp_path, root / PLUGINS / "libhelper.so", "int helper(void) { return 1; }", *SO)
    rc, report = _check(root)
    assert rc == 1
    for name in ("libstale.so", "libhelper.so"):
        assert _kinds(report, name) == ["no-entry"], report["modules"]
    (row,) = [m for m in report["modules"] if m["file"].endswith("libstale.so")]
    assert "(the build stamp the program asks for too)" in row["problems"][0]["detail"]


def test_a_plugin_beside_the_directory_a_variable_names_is_a_note(tree: Path, tmp_path: Path) -> None:
    """VIEWER_PLUGINS_PATH=/opt/plugins: /opt/old, beside it, is the user's (an old copy kept),
    not the checked prefix's; a note, exit 0 (a Zathura tester's check of /usr failed on it)."""
    root = _copy(tree, tmp_path)
    (root / "opt/plugins").mkdir(parents=True)
    (root / "opt/old").mkdir(parents=True)
    shutil.move(root / PLUGINS / "libps.so", root / "opt/plugins/libps.so")
    shutil.move(root / PLUGINS / "libpdf.so", root / "opt/old/libpdf.so")
    rc, report = _check(root, "--env", "VIEWER_PLUGINS_PATH=/opt/plugins")
    assert rc == 0, report["modules"]
    assert [m["module"] for m in report["modules"]] == ["ps"]
    assert any("old/libpdf.so" in n and "misplaced?" in n for n in report["warnings"]), report["warnings"]


def test_a_plugin_beside_the_location_in_the_prefix_is_still_lost(tree: Path, tmp_path: Path) -> None:
    """The same file beside the compiled-in location, inside the prefix checked: a module the
    loader never finds, a failure as before."""
    root = _copy(tree, tmp_path)
    (root / "usr/lib/viewer/0.5/old").mkdir()
    shutil.move(root / PLUGINS / "libpdf.so", root / "usr/lib/viewer/0.5/old/libpdf.so")
    rc, report = _check(root)
    assert rc == 1
    assert _kinds(report, "libpdf.so") == ["never-looked-up"]


def test_a_plugin_in_another_releases_directory_is_noted(tree: Path, tmp_path: Path) -> None:
    """`0.4/plugins` beside the searched `0.5/plugins` (the version in a parent's name, as
    libproxy's `0.4.17/modules`): check notes it, plan warns of it (a libproxy tester's module
    left there was "1 of 1 modules load", nothing said)."""
    root = _copy(tree, tmp_path)
    (root / "usr/lib/viewer/0.4/plugins").mkdir(parents=True)
    shutil.move(root / PLUGINS / "libpdf.so", root / "usr/lib/viewer/0.4/plugins/libpdf.so")
    rc, report = _check(root)
    assert rc == 0, report["modules"]
    assert any(
        n.startswith(
            "/usr/lib/viewer/0.4/plugins: 1 file(s) named as modules (libpdf.so) in a directory of "
            "another version than /usr/lib/viewer/0.5/plugins"
        )
        for n in report["warnings"]
    ), report["warnings"]
    r = run_qpack("plan", str(root), "-l", str(tmp_path / "viewer.toml"))
    assert r.returncode == 0, r.stderr
    assert (
        "usr/lib/viewer/0.4/plugins/libpdf.so: in a module directory of another version (0.4/plugins, "
        "beside 0.5/plugins, which the loader searches)"
    ) in r.stderr


SOX_LAYOUT = """
[layout]
name = "snd"
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/snd"]
naming = "libsnd_fmt_{name}.so"
resolution = "register-loadable"
entry = "lsx_{name}_format_fn"
relocatable = false
[[loader.search]]
absolute = "/usr/lib/snd"
[[package]]
name = "snd"
rest = true
"""


def test_a_misnamed_module_is_said_by_the_entry_named_as_its_file(tmp_path: Path) -> None:
    """SoX's plug-ins built on libsndfile define their own entry and lsx_sndfile_format_fn: a
    SoX tester's misnamed sox_fmt_xi.so was said to define lsx_sndfile_format_fn, the first in
    order, where lsx_xi_format_fn says which module it is."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the modules are built here")
    root = tmp_path / "root"
    (root / "usr/lib/snd").mkdir(parents=True)
    (root / "usr/bin").mkdir(parents=True)
    _cc(tmp_path, root / "usr/bin/snd", "int main(void) { return 0; }")
    _cc(tmp_path, root / "usr/lib/snd/libsnd_fmt_wav.so", "int lsx_wav_format_fn(void) { return 1; }", *SO)
    two = "int lsx_xi_format_fn(void) { return 1; }\nint lsx_sndfile_format_fn(void) { return 2; }"
    _cc(tmp_path, root / "usr/lib/snd/snd_fmt_xi.so", two, *SO)
    (tmp_path / "snd.toml").write_text(SOX_LAYOUT)
    r = run_qpack("check", "/usr", "--root", str(root), "-l", str(tmp_path / "snd.toml"), "--json")
    assert r.returncode == 1, r.stderr
    (row,) = [m for m in json.loads(r.stdout)["modules"] if m["file"].endswith("snd_fmt_xi.so")]
    assert [p["kind"] for p in row["problems"]] == ["never-looked-up"]
    assert "it defines lsx_xi_format_fn, a module's entry" in row["problems"][0]["detail"], row


DASH_LAYOUT = """
[layout]
name = "dash"
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/dash-bridge"]
naming = "{name}/manifest.json"
resolution = "register-all"
relocatable = false
[loader.runners]
"manifest.json" = ""
[[loader.search]]
absolute = "/usr/share/dash"
[[package]]
name = "dash"
rest = true
[per-module]
name = "dash-{module}"
"""


def test_a_descriptor_named_almost_so_is_said(tmp_path: Path) -> None:
    """Cockpit's bridge takes each directory holding a manifest.json; a Cockpit tester's
    `tuned/manifest.jsn` and `users/Manifest.json` went to the core package in silence, and
    check said nothing, where the bridge lists neither. A copy kept beside the right name, or
    under the name with a suffix, is nothing to say; one a level too deep, plan says too."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the program is built here")
    root = tmp_path / "root"
    share = root / "usr/share/dash"
    (root / "usr/bin").mkdir(parents=True)
    _cc(tmp_path, root / "usr/bin/dash-bridge", "int main(void) { return 0; }")
    files = {
        "good/manifest.json": "{}",
        "slip/manifest.jsn": "{}",
        "spare/manifest.json": "{}",
        "spare/Manifest.json": "{}",
        "kept/manifest.json.bak": "{}",
        "vendor/deep/manifest.json": "{}",
    }
    for rel, text in files.items():
        (share / rel).parent.mkdir(parents=True, exist_ok=True)
        (share / rel).write_text(text + "\n")
    (tmp_path / "dash.toml").write_text(DASH_LAYOUT)
    r = run_qpack("plan", str(root), "-l", str(tmp_path / "dash.toml"))
    assert r.returncode == 0, r.stderr
    warned = [w for w in r.stderr.splitlines() if w.startswith("warning: usr/share/dash/")]
    assert [w.split(":")[1].strip() for w in warned] == [
        "usr/share/dash/slip/manifest.jsn",
        "usr/share/dash/spare/Manifest.json",  # the plan reads no file: a slip or a spare, said
        "usr/share/dash/vendor/deep/manifest.json",
    ], r.stderr
    assert "named almost as 'manifest.json', the name the loader reads" in warned[0]
    r = run_qpack("check", "/usr", "--root", str(root), "-l", str(tmp_path / "dash.toml"), "--json")
    assert r.returncode == 1, r.stderr
    failing = {m["module"]: m for m in json.loads(r.stdout)["modules"] if not m["loads"]}
    assert sorted(failing) == ["slip"], failing
    assert [p["kind"] for p in failing["slip"]["problems"]] == ["never-looked-up"]


def test_no_release_is_guessed_above_the_prefix(tree: Path, tmp_path: Path) -> None:
    """A prefix checked in place (a venv's): its siblings are other trees, whatever digits their
    names hold (a sweep's venv in /tmp/h133-mosquitto was told of /tmp/h135-mosquitto's modules,
    "of another release?")."""
    for name in ("proj1", "proj2"):
        shutil.copytree(tree / "usr", tmp_path / name, symlinks=True)
        (tmp_path / name / "plugins").mkdir()
        shutil.move(
            tmp_path / name / "lib/viewer/0.5/plugins/libpdf.so", tmp_path / name / "plugins/libpdf.so"
        )
    shutil.copy(tree.parent / "viewer.toml", tmp_path / "viewer.toml")
    env = f"VIEWER_PLUGINS_PATH={tmp_path}/proj1/plugins"
    r = run_qpack(
        "check", str(tmp_path / "proj1"), "-l", str(tmp_path / "viewer.toml"), "--env", env, "--json"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert [m["module"] for m in report["modules"]] == ["pdf"]
    assert not [w for w in report["warnings"] if "proj2" in w], report["warnings"]


def test_a_file_beside_two_locations_is_noted_once(tree: Path, tmp_path: Path) -> None:
    """VIEWER_PLUGINS_PATH=/opt/first:/opt/later: a plug-in in /opt/old is beside both; it was
    noted twice, once a location (a sweep of a Zathura tester's trees)."""
    root = _copy(tree, tmp_path)
    for d in ("opt/first", "opt/later", "opt/old"):
        (root / d).mkdir(parents=True)
    shutil.move(root / PLUGINS / "libps.so", root / "opt/later/libps.so")
    shutil.move(root / PLUGINS / "libpdf.so", root / "opt/old/libpdf.so")
    rc, report = _check(root, "--env", "VIEWER_PLUGINS_PATH=/opt/first:/opt/later")
    assert rc == 0, report["modules"]
    assert len([w for w in report["warnings"] if "old/libpdf.so" in w]) == 1, report["warnings"]


def test_a_fifo_as_the_trees_ld_so_cache_is_never_opened(tree: Path, tmp_path: Path) -> None:
    """A sweep's staged tree with a FIFO at etc/ld.so.cache hung check for ever (read whole, as
    a file). Run in a child with a time limit, so that a hang fails the test."""
    import os
    import subprocess
    import sys

    root = _copy(tree, tmp_path)
    (root / "etc").mkdir()
    os.mkfifo(root / "etc/ld.so.cache")
    cmd = [
        sys.executable,
        "-m",
        "qpack",
        "check",
        "/usr",
        "--root",
        str(root),
        "-l",
        str(tmp_path / "viewer.toml"),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "has no /etc/ld.so.cache" in r.stderr, r.stderr  # taken as none: the host's libraries


def test_a_library_a_plugin_links_stays_a_library_with_one_of_its_own_missing(
    tree: Path, tmp_path: Path
) -> None:
    """LMMS's libzynaddsubfx.so links libZynAddSubFxCore.so beside it, which needs libfftw3f:
    without fftw, the core library became a module refused for its entry (a row of its own,
    exit counted twice), where only zynaddsubfx fails, for the library missing."""
    root = _copy(tree, tmp_path)
    lib = root / PLUGINS
    _cc(tmp_path, tmp_path / "libfftw.so", "int fft(void) { return 1; }", *SO, "-Wl,-soname,libfftw.so.3")
    # And what that library links beside it, in turn (FreeCAD's libDriver.so, which libSMESH.so
    # links, which Fem.so links: a module refused once libSMESH.so was taken as a library).
    _cc(tmp_path, lib / "libzynbase.so", "int zyn_base(void) { return 2; }", *SO)
    core = (
        "extern int fft(void); extern int zyn_base(void); int zyn_core(void) { return fft() + zyn_base(); }"
    )
    base = ["-L", str(lib), "-l:libzynbase.so", "-Wl,-rpath,$ORIGIN"]
    _cc(tmp_path, lib / "libzyncore.so", core, *SO, "-L", str(tmp_path), "-l:libfftw.so", *base)
    plugin = "extern int zyn_core(void); int viewer_plugin_4_5 = 1; int run(void) { return zyn_core(); }"
    link = ["-L", str(lib), "-l:libzyncore.so", "-Wl,-rpath,$ORIGIN"]
    _cc(tmp_path, lib / "libzyn.so", plugin, *SO, *link)
    rc, report = _check(root)
    assert rc == 1
    rows = {m["file"].rsplit("/", 1)[-1]: [p["kind"] for p in m["problems"]] for m in report["modules"]}
    assert rows == {"libpdf.so": [], "libps.so": [], "libzyn.so": ["missing-library"]}, rows


def test_a_dangling_chain_names_the_file_missing_at_its_end(tree: Path, tmp_path: Path) -> None:
    """glvnd's libGLX_indirect.so.0 -> libGLX_mesa.so.0 -> libGLX_mesa.so.0.0.0, the last gone:
    the row said "a dangling link (to libGLX_mesa.so.0)", a link that is there."""
    root = _copy(tree, tmp_path)
    (root / PLUGINS / "libpdf.so").unlink()
    (root / PLUGINS / "libpdf.so").symlink_to("libpdf.so.1")
    (root / PLUGINS / "libpdf.so.1").symlink_to("libpdf.so.1.0")
    rc, report = _check(root)
    assert rc == 1
    (row,) = [m for m in report["modules"] if m["file"].endswith("/libpdf.so")]
    assert [p["kind"] for p in row["problems"]] == ["unreadable"]
    assert (
        f"a dangling link (to libpdf.so.1, whose chain ends at /{PLUGINS}/libpdf.so.1.0, which is not there)"
        in row["problems"][0]["detail"]
    ), row


def test_a_layout_of_prefix_slash_checked_at_usr_says_so_whole(tree: Path, tmp_path: Path) -> None:
    """A terminfo tester's layout of prefix "/" (its files in /lib and /usr), checked at /usr:
    the hint read "they are under : is the prefix ?"."""
    text = LAYOUT.replace('prefix = "/usr"', 'prefix = "/"').replace(
        'executables = ["{prefix}/bin/viewer"]', 'executables = ["{prefix}/usr/bin/viewer"]'
    )
    assert 'prefix = "/"' in text and "{prefix}/usr/bin/viewer" in text
    (tmp_path / "slash.toml").write_text(text)
    r = run_qpack("check", "/usr", "--root", str(tree), "-l", str(tmp_path / "slash.toml"))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "; they are under /: is the prefix /?" in r.stderr, r.stderr
