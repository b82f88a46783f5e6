"""`qpack install` on the demo's real wheels: what it installs, what it refuses before writing a
byte, and that every failure (a fault after each wheel, SIGKILL, a concurrent install) leaves the
prefix as it was or as a clean install leaves it.

The prefix is compared whole, before and after: every path, its type, mode and contents.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import time
import venv
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

from qpack.cli import main
from qpack.demo.builder import build_demo
from qpack.install import DistDir, InstallError, install, install_wheels, select
from qpack.layout import load_layout
from qpack.plan import plan_build
from qpack.transaction import KILL_HOOK, STATE_DIR, InjectedFault, PrefixLock
from qpack.writers.wheel import write_wheels

from .conftest import have_cc

LOADER = load_layout("demo").loader
Snapshot = dict[str, tuple[str, int, str]]


# --------------------------------------------------------------------------- helpers


def snapshot(root: Path) -> Snapshot:
    """Every path under root: (type, mode, sha256 of contents or link target)."""
    out: Snapshot = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = p.relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), "")
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def split(build: Path, out: Path, version: str, layout: str | Path = "demo") -> Path:
    write_wheels(plan_build(build, load_layout(layout)), out, version=version)
    return out


def loaded(prefix: Path) -> set[str]:
    """What the real demo program loads from the prefix."""
    env = {k: v for k, v in os.environ.items() if k != "DEMO_MODULE_DIR"}
    r = subprocess.run(
        [str(prefix / "bin/demo")], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert r.returncode == 0, r.stderr
    return {line.split()[1] for line in r.stdout.splitlines() if line.startswith("loaded ")}


def qpack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qpack", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


def bare_venv(path: Path) -> Path:
    """A venv without pip of its own (pip runs into it with --python): quick to make."""
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    return path / "bin" / "python"


def do_install(dist: Path, prefix: Path, *names: str, **kw: object) -> object:
    return install(dist, list(names), prefix, loader=LOADER, layout_name="demo", **kw)  # type: ignore[arg-type]


def verify_records(prefix: Path) -> int:
    """Every installed RECORD's files exist with the hash and size it says; returns how many files."""
    n = 0
    for record in prefix.glob("lib/python*/site-packages/*.dist-info/RECORD"):
        for row in csv.reader(record.read_text().splitlines()):
            path = (record.parent.parent / row[0]).resolve()
            assert path.is_file(), path
            if row[1]:
                digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=")
                assert row[1] == "sha256=" + digest.decode(), path
                assert int(row[2]) == path.stat().st_size
            n += 1
    return n


# --------------------------------------------------------------------------- fixtures


_WHEELS: dict[Path, Path] = {}


def demo_wheels(demo_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo build split into wheels, version 1.0, once a session (the other test files of
    qpack install share it through their own `demo_dist` fixtures)."""
    if demo_build not in _WHEELS:
        _WHEELS[demo_build] = split(demo_build, tmp_path_factory.mktemp("dist") / "v1", "1.0")
    return _WHEELS[demo_build]


@pytest.fixture(scope="session")
def demo_dist(demo_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_wheels(demo_build, tmp_path_factory)


@pytest.fixture(scope="session")
def demo_dist_v2(demo_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return split(demo_build, tmp_path_factory.mktemp("dist") / "v2", "2.0")


@pytest.fixture(scope="session")
def other_build_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built with another build tag (another stamp), split with the same version."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the demo build needs one")
    build = build_demo(tmp_path_factory.mktemp("other") / "build", build_tag="other")
    return split(build, tmp_path_factory.mktemp("dist") / "other", "1.0")


@pytest.fixture
def with_curses(demo_dist: Path, tmp_path: Path) -> Path:
    """A prefix holding the core and ui-curses."""
    prefix = tmp_path / "prefix"
    do_install(demo_dist, prefix, "ui-curses")
    return prefix


# --------------------------------------------------------------------------- installing


def test_install_in_two_steps_then_the_program_loads_exactly_those(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = tmp_path / "p"
    assert (
        main(["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-curses", "--json"]) == 0
    )
    first = json.loads(capsys.readouterr().out)
    assert [(i["name"], i["requested"]) for i in first["installed"]] == [
        ("demo-core", True),
        ("demo-ui-curses", True),
    ]
    assert [(c["module"], c["loads"], c["file"]) for c in first["check"]] == [
        ("ui-curses", True, f"{prefix}/lib/demo/ui/curses.so")
    ]
    assert loaded(prefix) == {"ui-curses"}

    # Typed as the user likes (PEP 503/685 normalization), a type as an extra; the core is there.
    assert (
        main(["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "UI_gtk", "block", "--json"])
        == 0
    )
    second = json.loads(capsys.readouterr().out)
    assert [(i["name"], i["requested"]) for i in second["installed"]] == [  # in the order installed
        ("demo-block-curl", True),
        ("demo-block-nfs", True),
        ("demo-ui-opengl", False),  # only as ui-gtk's dependency, so before it
        ("demo-ui-gtk", True),
    ]
    assert second["already_installed"] == [{"name": "demo-core", "version": "1.0", "now_requested": False}]
    assert {c["module"]: c["loads"] for c in second["check"]} == {
        "block-curl": True,
        "block-nfs": True,
        "ui-gtk": True,
        "ui-opengl": True,
    }
    assert loaded(prefix) == {"ui-curses", "ui-gtk", "ui-opengl", "block-curl", "block-nfs"}
    assert verify_records(prefix) > 30
    assert not (prefix / STATE_DIR).exists()  # no lock, no journal left behind
    info = prefix / "lib/python3.11/site-packages/demo_ui_gtk-1.0.dist-info"
    assert json.loads((info / "qpack.json").read_text()) == {
        "extras": ["all", "ui", "ui-gtk"],  # the meta wheel's that require it: `uninstall` takes them
        "layout": "demo",
        "modules": ["ui-gtk"],
        "version": 1,
    }
    assert (info / "INSTALLER").read_text() == "qpack\n"

    # Again: nothing to do, nothing changed.
    before = snapshot(prefix)
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-gtk"]) == 0
    assert "nothing to install" in capsys.readouterr().err
    assert snapshot(prefix) == before


def test_a_required_module_that_recommends_others_is_installed(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An rsyslog tester's `install imtcp` left out lmnetstrms, which imtcp requires: lmnetstrms
    recommends a stream driver, so its wheel offers the extra `recommended`, and every wheel
    with extras was taken for the meta wheel and skipped. Only the meta wheel is skipped; the
    recommendation itself is not installed (pip installs none by default)."""
    from .test_wheels import demo_layout

    layout = demo_layout(
        tmp_path / "rec.toml",
        (
            "[modules.dependencies]",
            '[modules.recommends]\n"ui-opengl" = ["block-nfs"]\n[modules.dependencies]',
        ),
    )
    dist = split(demo_build, tmp_path / "w", "1.0", layout)
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-gtk", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(i["name"], i["requested"]) for i in out["installed"]] == [
        ("demo-core", True),  # the core, as with every first module
        ("demo-ui-opengl", False),
        ("demo-ui-gtk", True),
    ]
    assert loaded(prefix) == {"ui-gtk", "ui-opengl"}
    # Without the layout (qpack's Python API), the meta wheel is still the one to read extras of.
    assert sorted(p.name.split("-")[0] for p in select(dist, ["ui-gtk"])) == [
        "demo",
        "demo_core",
        "demo_ui_gtk",
        "demo_ui_opengl",
    ]


def test_install_into_a_staging_root(demo_dist: Path, tmp_path: Path) -> None:
    root = tmp_path / "destdir"
    report = do_install(demo_dist, Path("/usr"), "ui-gtk", root=root)
    assert (root / "usr/lib/demo/ui/gtk.so").is_file()
    assert (root / "usr/bin/demo").is_file()
    assert {v.module: v.file for v in report.verdicts()} == {  # type: ignore[attr-defined]
        "ui-gtk": "/usr/lib/demo/ui/gtk.so",  # as the program will see it
        "ui-opengl": "/usr/lib/demo/ui/opengl.so",
    }
    assert sorted(p.name for p in root.iterdir()) == ["usr"]


def test_a_module_of_another_version_is_refused_naming_both(
    demo_dist_v2: Path, with_curses: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(with_curses)
    assert main(["install", str(demo_dist_v2), "-l", "demo", "--prefix", str(with_curses), "ui-gtk"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "error: demo-ui-gtk 2.0 does not match the installed demo-core 1.0: "
        "a module installs only with the core of its own build"
    ]
    assert snapshot(with_curses) == before


def test_a_module_of_another_build_is_refused_naming_both_stamps(
    other_build_dist: Path, with_curses: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(with_curses)
    assert (
        main(["install", str(other_build_dist), "-l", "demo", "--prefix", str(with_curses), "ui-curses"]) == 0
    )
    assert "nothing to install" in capsys.readouterr().err  # ui-curses is there already
    assert (
        main(["install", str(other_build_dist), "-l", "demo", "--prefix", str(with_curses), "block-curl"])
        == 2
    )
    (err,) = capsys.readouterr().err.splitlines()
    assert err.startswith("error: demo-block-curl 1.0: module block-curl exports demo_stamp_")
    assert ", but bin/demo (installed) holds demo_stamp_" in err
    assert err.endswith(": a module of another build")
    stamps = [w for w in err.split() if w.startswith("demo_stamp_")]
    assert len(stamps) == 2 and stamps[0] != stamps[1]
    assert snapshot(with_curses) == before


# A plug-in split from a build of its own (Irssi's tester: irssi-plugin-xmpp 0.54, its wheel
# requiring no core, beside irssi-core 1.4.3; the real irssi loads it).
APART = """
[layout]
name = "demo-alsa-apart"
extends = "demo"

[[package]]
name = "demo-core"
kind = "core"
rest = true

[[package]]
name = "demo-alsa-plugin"
kind = "group"
modules = ["audio-alsa"]  # links no library of the core (block-curl's libdemo-util would pin it)
requires = []

[per-module]
name = "demo-{module}"

[meta]
name = "demo"
"""


def test_a_module_built_apart_keeps_its_own_version_and_the_stamp_still_judges_its_build(
    demo_build: Path, with_curses: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = tmp_path / "apart.toml"
    layout.write_text(APART)
    apart = split(demo_build, tmp_path / "apart", "0.5", layout)
    assert main(["install", str(apart), "-l", "demo", "--prefix", str(with_curses), "demo-alsa-plugin"]) == 0
    err = capsys.readouterr().err
    assert (
        "warning: demo-alsa-plugin 0.5 requires nothing: taken as modules built apart "
        "from the core, not held to the version of demo-core 1.0"
    ) in err
    assert loaded(with_curses) == {"ui-curses", "audio-alsa"}  # the real program agrees
    for command in (["check", str(with_curses)], ["list", "--prefix", str(with_curses)]):
        assert main([*command, "-l", "demo", "--json"]) == 0, command
        out = json.loads(capsys.readouterr().out)
        assert out.get("version_skew", []) == []

    # A module that does require the core is still held to its version (the control).
    pinned = split(demo_build, tmp_path / "pinned", "0.5")
    before = snapshot(with_curses)
    assert main(["install", str(pinned), "-l", "demo", "--prefix", str(with_curses), "block-nfs"]) == 2
    assert "does not match the installed demo-core 1.0" in capsys.readouterr().err
    assert snapshot(with_curses) == before


def test_a_module_asked_for_by_its_distribution_name_brings_the_core_it_does_not_require(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A VA-API tester: `install W intel-media-va-driver` (Debian's package requires nothing,
    as its layout said) installed the driver alone into an empty venv, said "not checked" and
    exited 0, where `install W iHD`, its module id, brought libva too. A module named by its
    distribution now brings the core where the prefix has none, as its id does."""
    layout = tmp_path / "apart.toml"
    layout.write_text(APART)
    dist = split(demo_build, tmp_path / "d", "1.0", layout)
    prefix = tmp_path / "p"
    assert (
        main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "demo-alsa-plugin", "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [(i["name"], i["requested"]) for i in out["installed"]] == [
        ("demo-core", True),  # the core, as with every first module
        ("demo-alsa-plugin", True),
    ]
    assert loaded(prefix) == {"audio-alsa"}
    # Where the core is there, the module comes alone (and is said nothing of: one version).
    prefix2 = tmp_path / "p2"
    do_install(dist, prefix2, "demo-core")
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix2), "demo-alsa-plugin"]) == 0
    err = capsys.readouterr().err
    assert "installed demo-alsa-plugin 1.0" in err and "demo-core" not in err.replace("demo-core 1.0 (", "")
    assert "requires nothing" not in err


def test_a_module_built_apart_from_another_build_of_the_core_is_refused_by_its_stamp(
    with_curses: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = tmp_path / "apart.toml"
    layout.write_text(APART)
    build = build_demo(tmp_path / "other", build_tag="other")
    apart = split(build, tmp_path / "apart", "0.5", layout)
    before = snapshot(with_curses)
    assert main(["install", str(apart), "-l", "demo", "--prefix", str(with_curses), "demo-alsa-plugin"]) == 2
    (err,) = capsys.readouterr().err.splitlines()
    assert err.startswith("error: demo-alsa-plugin 0.5: module audio-alsa exports demo_stamp_")
    assert err.endswith(": a module of another build")
    assert snapshot(with_curses) == before


def test_never_overwrites_a_file_another_distribution_owns(
    demo_dist: Path, with_curses: Path, tmp_path: Path
) -> None:
    # A wheel of another distribution that would write ui-curses' module file.
    intruder = tmp_path / "intruder-1.0-py3-none-any.whl"
    make_wheel(intruder, "intruder", {"intruder-1.0.data/data/lib/demo/ui/curses.so": b"not a module"})
    before = snapshot(with_curses)
    with pytest.raises(
        InstallError, match=r"^lib/demo/ui/curses.so: belongs to the installed demo-ui-curses 1.0;"
    ):
        install_wheels([intruder], with_curses)
    (with_curses / "share/stray.txt").write_text("mine")
    before = snapshot(with_curses)
    stray = tmp_path / "stray-1.0-py3-none-any.whl"
    make_wheel(stray, "stray", {"stray-1.0.data/data/share/stray.txt": b"theirs"})
    with pytest.raises(
        InstallError, match=r"^share/stray.txt: already exists and no installed distribution owns it"
    ):
        install_wheels([stray], with_curses)
    assert snapshot(with_curses) == before


def test_another_distributions_program_the_executables_glob_matches_is_no_core(
    demo_dist_v2: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A GIO tester's `executables = ["{prefix}/bin/*"]` (every program that links libgio)
    matched a venv's bin/pip: install took pip 23.2.1 for the installed core ("does not match
    the installed pip 23.2.1"), exit 2. A distribution no qpack wheel made is no core."""
    prefix = tmp_path / "prefix"
    tool = make_wheel(
        tmp_path / "tool-1.0-py3-none-any.whl", "tool", {"tool-1.0.data/scripts/tool": b"#!/bin/sh\n"}
    )
    install_wheels([tool], prefix)
    assert (prefix / "bin/tool").exists()
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    layout = tmp_path / "any.toml"
    layout.write_text(text.replace('executables = ["{prefix}/bin/demo"]', 'executables = ["{prefix}/bin/*"]'))
    code = main(["install", str(demo_dist_v2), "-l", str(layout), "--prefix", str(prefix), "ui-curses"])
    err = capsys.readouterr().err
    assert "does not match the installed tool" not in err, err
    assert code == 0, err
    assert loaded(prefix) == {"ui-curses"}


def test_a_program_that_cannot_start_is_said_once_by_install_list_and_report(
    demo_build: Path, demo_dist: Path, with_curses: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Samba's and Thunar's testers: `check` said why smbd cannot start once, below its rows;
    install, list and report --check still repeated the whole reason on every module row."""
    (with_curses / "lib/libdemo-util.so.1").unlink()  # bin/demo needs it: the program cannot start
    why = f"{with_curses}/bin/demo cannot start: the dynamic linker would not find libdemo-util.so.1"
    short = f"missing-library: {with_curses}/bin/demo cannot start (below)"
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", str(with_curses), "ui-gtk"]) == 1
    installed = capsys.readouterr()
    assert "libdemo-util" not in installed.out, installed.out
    assert short in installed.out
    assert [line for line in installed.err.splitlines() if line.startswith(f"problem: {why}")] != []
    assert len([line for line in installed.err.splitlines() if "cannot start:" in line]) == 1

    assert main(["list", "--prefix", str(with_curses), "-l", "demo"]) == 1
    listed = capsys.readouterr()
    assert "libdemo-util" not in listed.out and short in listed.out, listed.out
    assert [line.startswith(f"problem: {why}") for line in listed.err.splitlines() if "problem:" in line] == [
        True
    ]
    assert main(["list", "--prefix", str(with_curses), "-l", "demo", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [w.startswith(why) for w in data["cannot_start"]] == [True]
    assert all(why in "".join(d["problems"]) for d in data["distributions"] if d["modules"])  # whole

    page = tmp_path / "report.html"
    assert main(["report", str(demo_build), "-l", "demo", "-o", str(page), "--check", str(with_curses)]) == 0
    html = page.read_text()
    assert html.count("cannot start: ") == 1 and html.count("cannot start (below)") >= 2


def test_a_module_asked_for_by_its_name_alone_is_suggested_with_its_type(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Audacious tester's `install ... flacng alsa qtui vorbis` suggested input-flacng and
    input-vorbis only: `alsa` is too far from `output-alsa` for a typo's measure."""
    assert (
        main(["install", str(demo_dist), "-l", "demo", "--prefix", str(tmp_path / "p"), "alsa", "curses"])
        == 2
    )
    assert "did you mean audio-alsa, ui-curses?" in capsys.readouterr().err
    # uninstall suggests as install does (it said nothing).
    prefix = str(tmp_path / "p")
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", prefix, "audio-alsa"]) == 0
    capsys.readouterr()
    assert main(["uninstall", "--prefix", prefix, "-l", "demo", "alsa"]) == 2
    assert "did you mean audio-alsa?" in capsys.readouterr().err
    # A name of the same family as the extras is no typo of one for the family alone (a
    # lighttpd tester's built-in mod_rewrite: "did you mean mod-userdir?").
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", prefix, "audio-oss"]) == 2
    assert "did you mean" not in capsys.readouterr().err
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", prefix, "audio_alas"]) == 2
    assert "did you mean audio-alsa?" in capsys.readouterr().err
    # Nor is a name sharing a long part with one, many edits away (a LADSPA tester's
    # `nosuchplugin` was offered swh-plugins).
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", prefix, "nosuch-curl"]) == 2
    assert "did you mean" not in capsys.readouterr().err


# --------------------------------------------------------------------------- hostile wheels


def make_wheel(
    path: Path,
    name: str,
    files: dict[str, bytes],
    *,
    record: Callable[[list[list[str]]], list[list[str]]] | None = None,
    extra: Callable[[zipfile.ZipFile], None] | None = None,
) -> Path:
    """A wheel written by hand: files, METADATA, WHEEL and a RECORD (which `record` may edit)."""
    info = f"{name}-1.0.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: py3-none-any\n",
    }
    rows = []
    for n, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append([n, f"sha256={digest}", str(len(data))])
    rows.append([f"{info}/RECORD", "", ""])
    if record is not None:
        rows = record(rows)
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in files.items():
            zi = zipfile.ZipInfo(n)
            zi.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(zi, data)
        if extra is not None:
            extra(zf)
        zf.writestr(f"{info}/RECORD", "".join(",".join(r) + "\n" for r in rows))
    return path


def _symlink_entry(zf: zipfile.ZipFile) -> None:
    zi = zipfile.ZipInfo("demo_ui_gtk-1.0.data/data/lib/demo/ui/evil.so")
    zi.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(zi, "/etc/passwd")


def _duplicate(zf: zipfile.ZipFile) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it writes
        zf.writestr("demo_ui_gtk-1.0.data/data/lib/demo/ui/gtk.so", b"second copy")


def _lie(rows: list[list[str]]) -> list[list[str]]:
    return [[r[0], "sha256=" + "A" * 43, r[2]] if r[0].endswith("gtk.so") else r for r in rows]


def _phantom(rows: list[list[str]]) -> list[list[str]]:
    return [*rows, ["demo_ui_gtk-1.0.data/data/lib/demo/ui/phantom.so", "sha256=" + "A" * 43, "1"]]


def _unlisted(rows: list[list[str]]) -> list[list[str]]:
    return [r for r in rows if not r[0].endswith("gtk.so")]


GTK = "demo_ui_gtk-1.0.data/data/lib/demo/ui/gtk.so"
HOSTILE: dict[str, tuple[dict[str, object], str]] = {
    # case -> (how the ui-gtk wheel is made hostile, what the one error line says)
    "dot-dot": ({"files": {"demo_ui_gtk-1.0.data/data/../../../../escaped": b"x"}}, "a '..' segment"),
    "absolute path": ({"files": {"/tmp/escaped": b"x"}}, "an absolute path"),
    "symlink entry": ({"extra": _symlink_entry}, "a symbolic link entry"),
    "RECORD that lies about a hash": ({"record": _lie}, "didn't match RECORD"),
    "RECORD that lists a file the wheel lacks": ({"record": _phantom}, "RECORD lists it, but the archive"),
    "RECORD that omits a file": ({"record": _unlisted}, "is not mentioned in RECORD"),
    "duplicate entries": ({"extra": _duplicate}, "the archive holds it 2 times"),
    "bytecode cache": ({"files": {"demo_ui_gtk-1.0.data/purelib/__pycache__/x.pyc": b"x"}}, "__pycache__"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_wheel_is_refused_before_anything_is_written(
    case: str, demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(demo_dist, dist)
    real = dist / "demo_ui_gtk-1.0-py3-none-linux_x86_64.whl"
    with zipfile.ZipFile(real) as zf:
        files = {
            n: zf.read(n) for n in zf.namelist() if "dist-info/RECORD" not in n and "dist-info/WHEEL" not in n
        }
    how, message = HOSTILE[case]
    files.update(how.get("files", {}))  # type: ignore[arg-type]
    make_wheel(real, "demo_ui_gtk", files, record=how.get("record"), extra=how.get("extra"))  # type: ignore[arg-type]
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    before = snapshot(tmp_path / "prefix")
    # ui-gtk comes after the core and ui-opengl: nothing of those may be written either.
    assert main(["install", str(dist), "-l", "demo", "--prefix", str(prefix), "ui-gtk"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {real}: "), err
    assert message in err[0]
    assert snapshot(prefix) == before == {}
    assert not (tmp_path / "escaped").exists()


def test_a_wheel_whose_deflated_bytes_are_damaged_is_refused_before_anything_is_written(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A flipped bit in ui-gtk's gtk.so as stored (deflated): the wheel's zip CRC-32 catches it
    where `qpack install` inflates it (qpack._unzip), before RECORD's hash would."""
    dist = tmp_path / "dist"
    shutil.copytree(demo_dist, dist)
    real = dist / "demo_ui_gtk-1.0-py3-none-linux_x86_64.whl"
    data = bytearray(real.read_bytes())
    with zipfile.ZipFile(real) as zf:
        info = zf.getinfo(GTK)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    name_len, extra_len = struct.unpack_from("<2H", data, info.header_offset + 26)  # local file header
    data[info.header_offset + 30 + name_len + extra_len + info.compress_size // 2] ^= 0x10
    real.write_bytes(bytes(data))
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    assert main(["install", str(dist), "-l", "demo", "--prefix", str(prefix), "ui-gtk"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {real}: cannot read the wheel ("), err
    assert GTK in err[0]
    assert snapshot(prefix) == {}


def _damage_deflated(wheel: Path, member: str) -> None:
    """Flip one bit in the middle of `member`'s stored (deflated) bytes."""
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as zf:
        info = zf.getinfo(member)
    name_len, extra_len = struct.unpack_from("<2H", data, info.header_offset + 26)  # local file header
    data[info.header_offset + 30 + name_len + extra_len + info.compress_size // 2] ^= 0x10
    wheel.write_bytes(bytes(data))


def test_of_several_damaged_wheels_the_first_in_install_order_is_named(
    demo_dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The wheels are checked on two threads; the refusal is still the one a check of each in
    turn would give: the first damaged wheel in the order they install, every time."""
    dist = tmp_path / "dist"
    shutil.copytree(demo_dist, dist)
    damaged = {}
    for name in ("demo-ui-gtk", "demo-audio-pa"):
        wheel = next(dist.glob(f"{name.replace('-', '_')}-1.0-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            member = next(n for n in zf.namelist() if n.endswith(".so"))
        _damage_deflated(wheel, member)
        damaged[name] = wheel
    order = [str(w.name) for w, _ in DistDir.read(dist).choose(["ui-gtk", "audio-pa"], dist)]
    first = next(n for n in order if n in damaged)
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    for _ in range(6):
        assert main(["install", str(dist), "-l", "demo", "--prefix", str(prefix), "ui-gtk", "audio-pa"]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: {damaged[first]}: cannot read the wheel ("), err
    assert snapshot(prefix) == {}


# --------------------------------------------------------------------------- faults


MANY = (
    "ui-gtk",
    "block-curl",
    "audio-pa",
)  # 6 wheels: core, ui-gtk, ui-opengl, block-curl, audio-pa, audio-alsa


@pytest.mark.parametrize("after", range(1, 6))
def test_a_failure_after_any_wheel_leaves_the_prefix_as_it_was(
    after: int, demo_dist: Path, with_curses: Path
) -> None:
    # Starting from core + ui-curses: 5 wheels to install; fail after the 1st ... 5th (the last
    # one: everything is written, nothing committed).
    before = snapshot(with_curses)
    calls = []

    def fail(step: int) -> None:
        calls.append(step)
        if step == after:
            raise KeyboardInterrupt  # any exception, not only ours, undoes the transaction

    with pytest.raises(KeyboardInterrupt):
        do_install(demo_dist, with_curses, *MANY, step_hook=fail)
    assert calls == list(range(1, after + 1))
    assert snapshot(with_curses) == before
    assert loaded(with_curses) == {"ui-curses"}


def test_piped_install_output_has_one_shape_per_line(demo_dist: Path, tmp_path: Path) -> None:
    """Piped, stdout holds only the modules' rows (module, file, loads, problems), as `check`
    prints them; what was installed goes to stderr in sentences, with the summary. Before, the
    distributions' rows came first, in another shape, with nothing to tell them apart."""
    prefix = tmp_path / "prefix"
    r = qpack("install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-gtk")
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert [(row[0], row[2]) for row in rows] == [("ui-gtk", "yes"), ("ui-opengl", "yes")]
    assert {len(row) for row in rows} == {4}
    assert r.stderr.splitlines() == [
        "installed demo-core 1.0",
        "installed demo-ui-opengl 1.0 (ui-opengl)",
        "installed demo-ui-gtk 1.0 (ui-gtk)",
        "2 of 2 module(s) installed will load",
    ]
    again = qpack("install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-gtk")
    assert again.returncode == 0 and again.stdout == ""
    assert "already installed demo-ui-gtk 1.0" in again.stderr.splitlines()


def test_installed_modules_the_loader_does_not_find_fail_the_check(demo_dist: Path, tmp_path: Path) -> None:
    """check reads what was installed: a module an installed distribution holds that no search
    location reaches (a loader that is not relocatable, judging a venv) or whose file is gone is
    a `not-found` problem, where before check said "0 of 0 modules load" and exited 0."""
    prefix = tmp_path / "prefix"
    do_install(demo_dist, prefix, "ui-curses", "block-curl")
    fixed = tmp_path / "fixed.toml"  # the demo's layout, as if the program were not relocatable
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    fixed.write_text(
        text.replace(
            'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nrelocatable = false'
        )
    )
    r = qpack("check", str(prefix), "-l", str(fixed), "--json")
    assert r.returncode == 1, r.stderr
    rows = {m["module"]: m for m in json.loads(r.stdout)["modules"]}
    assert set(rows) == {"block-curl", "ui-curses"}
    assert [p["kind"] for p in rows["ui-curses"]["problems"]] == ["not-found"]
    detail = rows["ui-curses"]["problems"][0]["detail"]
    assert detail == (
        f"{prefix}/lib/demo/ui/curses.so: installed by demo-ui-curses 1.0 where the loader does not look "
        "(it searches /usr/lib/demo)"
    )
    # With the layout it was installed with, it loads; moved away, its file is gone.
    assert qpack("check", str(prefix), "-l", "demo").returncode == 0
    (prefix / "lib/demo/ui/curses.so").rename(tmp_path / "curses.so")
    r = qpack("check", str(prefix), "-l", "demo", "--json")
    assert r.returncode == 1
    (row,) = [m for m in json.loads(r.stdout)["modules"] if m["module"] == "ui-curses"]
    assert row["problems"] == [
        {
            "kind": "not-found",
            "detail": f"{prefix}/lib/demo/ui/curses.so: installed by demo-ui-curses 1.0, but the file is gone",  # noqa: E501
        }
    ]
    # Moved within the prefix: said where it is (a gThumb re-tester's libsearch.so, moved to
    # lib/gthumb/extensions, was "gone").
    (prefix / "lib/other").mkdir()
    (tmp_path / "curses.so").rename(prefix / "lib/other/curses.so")
    r = qpack("check", str(prefix), "-l", "demo", "--json")
    (row,) = [m for m in json.loads(r.stdout)["modules"] if m["module"] == "ui-curses"]
    assert row["problems"][0]["detail"] == (
        f"{prefix}/lib/demo/ui/curses.so: installed by demo-ui-curses 1.0, but the file is not there: "
        f"{prefix}/lib/other/curses.so is (moved?)"
    )


def test_the_install_counts_modules_not_rows() -> None:
    """One row per program and verdict: ImageMagick's 11 programs made '0 of 33' of 3 coders."""
    from qpack.check import CheckReport, ModuleVerdict, Problem
    from qpack.install import Installed, InstallReport

    why = Problem("missing-library", "x")
    rows = (
        ModuleVerdict(module="a", file="/a.so", loads=True, executables=("/bin/one",)),
        ModuleVerdict(module="a", file="/a.so", loads=False, problems=(why,), executables=("/bin/two",)),
        ModuleVerdict(module="b", file="/b.so", loads=True, executables=("/bin/one", "/bin/two")),
    )
    check = CheckReport(prefix="/p", root="/", layout="t", executables=("/bin/one", "/bin/two"), modules=rows)
    done = Installed(name="t-ab", version=Version("1"), record=Path("/p/RECORD"), modules=("a", "b"))  # type: ignore[arg-type]
    report = InstallReport(prefix="/p", root="/", layout="t", installed=(done,), present=(), check=check)
    assert report.loading() == (1, 2)
    # `a` loads for /bin/one, not /bin/two: counted apart (a Wireshark tester's "0 of 3 will
    # load" had wiretap plug-ins loading in every capture tool but a tshark that cannot start).
    assert report.loading_for_some() == 1


def test_a_stray_named_like_a_missing_module_hides_no_not_found(demo_dist: Path, tmp_path: Path) -> None:
    """ui/curses.so moved to lib/demo/ui-curses.so: a stray whose stem is `ui-curses`. It took
    the module's id, and the module installed (and gone) was no longer reported not-found."""
    prefix = tmp_path / "prefix"
    do_install(demo_dist, prefix, "ui-curses", "block-curl")
    (prefix / "lib/demo/ui/curses.so").rename(prefix / "lib/demo/ui-curses.so")
    r = qpack("check", str(prefix), "-l", "demo", "--json")
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    rows = {m["module"]: [p["kind"] for p in m["problems"]] for m in data["modules"]}
    assert rows == {"block-curl": [], "ui-curses": ["not-found"], "ui-curses.so": ["never-looked-up"]}
    assert (data["summary"]["modules"], data["summary"]["load"]) == (2, 1)


def test_a_failure_after_the_first_wheel_of_a_fresh_prefix_leaves_nothing(
    demo_dist: Path, tmp_path: Path
) -> None:
    prefix = tmp_path / "fresh" / "prefix"  # made by the install, removed by its undoing
    r = qpack("install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), *MANY,
              env={"QPACK_TEST_FAIL_AFTER_WHEEL": "1"})  # fmt: skip
    assert r.returncode == 2
    assert r.stderr == "error: QPACK_TEST_FAIL_AFTER_WHEEL=1: failing after step 1 (a test hook)\n"
    assert not (tmp_path / "fresh").exists()


def test_a_wheel_changed_during_the_install_is_caught_mid_wheel(
    demo_dist: Path, with_curses: Path, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(demo_dist, dist)
    before = snapshot(with_curses)
    victim = dist / "demo_block_curl-1.0-py3-none-linux_x86_64.whl"

    def swap(step: int) -> None:  # after the first wheel, another process replaces a later one
        if step == 1:
            with zipfile.ZipFile(victim) as zf:
                entries = [(i, zf.read(i)) for i in zf.infolist()]
            with zipfile.ZipFile(victim, "w") as zf:
                for i, data in entries:
                    zf.writestr(i, b"\x7fELF changed" if i.filename.endswith("curl.so") else data)

    with pytest.raises(InstallError, match=r"lib/demo/block/curl.so changed since its RECORD was checked"):
        do_install(dist, with_curses, *MANY, step_hook=swap)
    assert snapshot(with_curses) == before


def test_a_killed_install_is_undone_by_the_next_call(
    demo_dist: Path, with_curses: Path, tmp_path: Path
) -> None:
    args = ("install", str(demo_dist), "-l", "demo", "--prefix", str(with_curses), *MANY)
    before = snapshot(with_curses)
    r = qpack(*args, env={KILL_HOOK: "3"})
    assert r.returncode == -9, r.stderr  # SIGKILL: no handler, no cleanup ran
    half = snapshot(with_curses)
    assert f"{STATE_DIR}/journal.json" in half
    # Three wheels were written, dependencies first: audio-alsa, audio-pa, block-curl.
    assert "lib/demo/block/curl.so" in half
    assert "lib/demo/ui/gtk.so" not in half
    # qpack list notices the journal and undoes the interrupted install...
    listed = qpack("list", "--prefix", str(with_curses), "--json")
    assert listed.returncode == 0, listed.stderr
    assert "warning: undid the interrupted install of process" in listed.stderr
    assert [d["name"] for d in json.loads(listed.stdout)["distributions"]] == ["demo-core", "demo-ui-curses"]
    assert snapshot(with_curses) == before

    # ...so does qpack check, before it judges the prefix...
    r = qpack(*args, env={KILL_HOOK: "3"})
    assert r.returncode == -9
    checked = qpack("check", str(with_curses), "-l", "demo")
    assert "warning: undid the interrupted install of process" in checked.stderr, checked.stderr
    assert snapshot(with_curses) == before

    # ...and so does the next install, which then does its own work.
    r = qpack(*args, env={KILL_HOOK: "2"})
    assert r.returncode == -9
    r = qpack(*args)
    assert r.returncode == 0, r.stderr
    assert "warning: undid the interrupted install" in r.stderr
    clean = tmp_path / "clean"
    do_install(demo_dist, clean, "ui-curses")
    do_install(demo_dist, clean, *MANY)
    assert snapshot(with_curses) == snapshot(clean)


def test_concurrent_installs_are_serialized(demo_dist: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    prefix.mkdir()

    def start(*names: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "qpack",
                "install",
                str(demo_dist),
                "-l",
                "demo",
                "--prefix",
                str(prefix),
                *names,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    with PrefixLock(prefix):  # the prefix is busy: both must wait, writing nothing
        procs = [start("ui-gtk", "audio-pa"), start("ui-gtk", "block-curl")]
        time.sleep(2)
        assert [p.poll() for p in procs] == [None, None]
        assert set(snapshot(prefix)) == {STATE_DIR, f"{STATE_DIR}/lock"}
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    # Whichever ran second found the core and ui-gtk installed and added only its own module
    # (piped, what was installed or found goes to stderr).
    assert sorted(r[1].count("already installed") for r in results) == [0, 3]
    assert loaded(prefix) == {"ui-gtk", "ui-opengl", "audio-pa", "audio-alsa", "block-curl"}
    assert verify_records(prefix) > 30
    assert not (prefix / STATE_DIR).exists()


def test_injected_fault_is_a_qpack_error(
    demo_dist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QPACK_TEST_FAIL_AFTER_WHEEL", "2")
    with pytest.raises(InjectedFault, match="failing after step 2"):
        do_install(demo_dist, tmp_path / "p", "ui-curses")
    assert not (tmp_path / "p").exists()


# --------------------------------------------------------------------------- what an install reads


def test_an_install_does_not_import_lief(demo_dist: Path, tmp_path: Path) -> None:
    """The stamps and the post-install check are read with pyelftools: LIEF's import alone
    takes longer than a whole install of a few modules."""
    prefix = tmp_path / "p"
    args = ["install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-gtk", "--json"]
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "qpack", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    imported = {
        line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")
    }
    assert "elftools" in imported  # the timing is there to read
    assert not {m for m in imported if m == "lief" or m.startswith("lief.")}
    assert {c["module"]: c["loads"] for c in json.loads(r.stdout)["check"]} == {
        "ui-gtk": True,
        "ui-opengl": True,
    }


def test_the_post_install_check_judges_as_qpack_check(demo_dist: Path, tmp_path: Path) -> None:
    """`check_modules` (what an install runs) gives `check`'s verdicts for the modules it is
    asked about and those they need, here with a module that is unreadable and a dependency
    that is not installed."""
    from qpack.check import ModuleVerdict, check, check_modules

    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-gtk", "ui-curses", "block")
    gtk = prefix / "lib/demo/ui/gtk.so"
    os.chmod(gtk, 0o644)
    gtk.write_bytes(b"\x7fELF" + bytes(40))  # a truncated ELF file
    (prefix / "lib/demo/ui/opengl.so").unlink()  # ui-gtk's dependency
    full = {v.module: v for v in check(prefix, LOADER).modules}

    def same(v: ModuleVerdict) -> object:  # why a file is unreadable is said by each ELF reader
        problems = [(p.kind, "" if p.kind == "unreadable" else p.detail) for p in v.problems]
        return (v.module, v.file, v.loads, problems, v.copies, v.executables)

    for asked in (["ui-gtk"], ["ui-curses", "block-nfs"], ["block-curl", "ui-gtk", "ui-opengl"]):
        some = check_modules(prefix, LOADER, asked)
        assert {v.module for v in some.modules if v.file is not None} >= set(asked) - {"ui-opengl"}
        for v in some.modules:
            assert same(v) == same(full[v.module]), v.module
    assert not full["ui-gtk"].loads
    assert {p.kind for p in full["ui-gtk"].problems} == {"unreadable", "dependency"}


def test_install_check_all_checks_the_whole_prefix(
    demo_dist: Path, with_curses: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--check-all reports the whole prefix, as `qpack check` does, and fails on a module that
    will not load wherever it came from (a PulseAudio tester's showed only the modules just
    installed, and exited 0 beside a broken one installed before)."""
    curses = with_curses / "lib/demo/ui/curses.so"
    curses.write_bytes(curses.read_bytes()[:64])  # installed before, now broken
    args = ["install", str(demo_dist), "-l", "demo", "--prefix", str(with_curses), "--json"]
    assert main([*args, "block-nfs"]) == 0  # the modules installed now load
    assert [c["module"] for c in json.loads(capsys.readouterr().out)["check"]] == ["block-nfs"]
    assert main([*args, "audio-alsa", "--check-all"]) == 1
    rows = {c["module"]: c["loads"] for c in json.loads(capsys.readouterr().out)["check"]}
    assert rows == {"audio-alsa": True, "block-nfs": True, "ui-curses": False}


def test_the_post_install_check_confirms_system_libraries_by_path(
    demo_dist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an install, a library found among the system libraries outside the prefix is
    looked up, not read (the system package manager's), while the prefix's files are read; a
    system library that is not there is still a missing library, as `qpack check` says."""
    import qpack.check
    from qpack.check import check, check_modules

    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-gtk", "block-curl")
    read: list[str] = []
    real_read = qpack.check._read_elf_file_light

    def spy(root: object, path: str, wanted: object) -> object:
        read.append(path)
        return real_read(root, path, wanted)  # type: ignore[arg-type]

    monkeypatch.setattr(qpack.check, "_read_elf_file_light", spy)
    some = check_modules(prefix, LOADER, ["ui-gtk", "block-curl"])
    assert all(v.loads for v in some.modules if v.file is not None)
    assert read and all(p.startswith(f"{prefix}/") for p in read), read
    assert any("/libdemo-util.so" in p for p in read)  # block-curl's, in the prefix
    # block-curl's DT_NEEDED libc.so.6 renamed to a system library that exists nowhere.
    curl = prefix / "lib/demo/block/curl.so"
    data = curl.read_bytes()
    assert b"libc.so.6\0" in data
    os.chmod(curl, 0o755)
    curl.write_bytes(data.replace(b"libc.so.6\0", b"libq.so.6\0"))
    full = {v.module: v for v in check(prefix, LOADER).modules}
    some = check_modules(prefix, LOADER, ["block-curl"])
    (verdict,) = [v for v in some.modules if v.module == "block-curl"]
    assert verdict.problems == full["block-curl"].problems
    assert [p.kind for p in verdict.problems] == ["missing-library"]
    assert "libq.so.6" in verdict.problems[0].detail


def test_an_install_reads_only_the_wheels_it_needs(
    demo_dist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The meta wheel is found by the layout's meta package, and only the wheels the selection
    reaches are opened: a damaged wheel of another module does not stop the install, while every
    wheel file name is still checked."""
    import qpack.install

    dist = tmp_path / "dist"
    shutil.copytree(demo_dist, dist)
    (curl,) = dist.glob("demo_block_curl-*.whl")
    curl.write_bytes(b"not a zip")
    opened: list[str] = []
    real_read_wheel = qpack.install.read_wheel

    def spy(path: Path) -> object:
        opened.append(Path(path).name.split("-")[0])
        return real_read_wheel(path)

    monkeypatch.setattr(qpack.install, "read_wheel", spy)
    prefix = tmp_path / "p"
    report = do_install(dist, prefix, "ui-gtk", meta_name="demo")
    assert sorted(set(opened)) == ["demo", "demo_core", "demo_ui_gtk", "demo_ui_opengl"]
    assert {m for i in report.installed for m in i.modules} == {"ui-gtk", "ui-opengl"}  # type: ignore[attr-defined]
    with pytest.raises(InstallError, match="cannot read the wheel's METADATA"):
        do_install(dist, tmp_path / "q", "block-curl", meta_name="demo")
    (dist / "junk.whl").write_bytes(b"")
    with pytest.raises(InstallError, match="not a wheel file name"):
        do_install(dist, tmp_path / "r", "ui-gtk", meta_name="demo")


def test_a_relative_prefix_is_the_users_own_directory_in_every_prefix_command(
    demo_dist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--prefix venv` without --root means ./venv, as pip's --prefix and `qpack check venv`
    take it. The library reads a prefix as the program sees it, so "venv" alone would be /venv:
    an install there writes outside the directory the user named."""
    monkeypatch.chdir(tmp_path)
    stray = Path("/") / f"qpack-stray-{os.getpid()}"
    assert not stray.exists()
    # preserve without --root copies into the demo's real fallback directory, /run/demo/<v>:
    # a version of this run's own, removed again (a fixed "1.0" left there made the next run,
    # with other module bytes, fail "already there with other contents").
    pkgversion = f"qpack-test-{os.getpid()}"
    kept = Path("/run/demo") / pkgversion
    try:
        done = qpack("install", str(demo_dist), "-l", "demo", "--prefix", stray.name, "ui-curses", "--json")
        assert done.returncode == 0, done.stderr
        assert not stray.exists()
        here = tmp_path / stray.name
        assert json.loads(done.stdout)["prefix"] == str(here)
        assert (here / "lib/demo/ui/curses.so").is_file()
        assert loaded(here) == {"ui-curses"}

        listed = qpack("list", "--prefix", stray.name, "--json")
        assert listed.returncode == 0, listed.stderr
        assert "demo-ui-curses" in listed.stdout
        preserved = qpack("preserve", "--prefix", stray.name, "-l", "demo", "--pkgversion", pkgversion)
        assert preserved.returncode == 0, preserved.stderr
        assert (kept / "ui/curses.so").is_file()
        unpreserved = qpack(
            "preserve", "--prefix", stray.name, "-l", "demo", "--pkgversion", pkgversion, "--remove"
        )
        assert unpreserved.returncode == 0, unpreserved.stderr
        assert not (kept / "ui/curses.so").exists()
        removed = qpack("uninstall", "--prefix", stray.name, "ui-curses")
        assert removed.returncode == 0, removed.stderr
        assert not (here / "lib/demo/ui/curses.so").exists()
        assert not stray.exists()
    finally:
        shutil.rmtree(stray, ignore_errors=True)
        shutil.rmtree(kept, ignore_errors=True)


@pytest.mark.parametrize("how", ["absolute", "relative", "the prefix itself"])
def test_a_symlink_out_of_the_root_is_refused_and_nothing_is_written_there(
    demo_dist: Path, tmp_path: Path, how: str
) -> None:
    """--root R: a staged tree whose usr/lib (or usr) is a symlink out of R must not send the
    install's files elsewhere on this machine (SECURITY.md)."""
    root, victim = tmp_path / "root", tmp_path / "victim"
    victim.mkdir()
    (root / "usr").mkdir(parents=True)
    if how == "absolute":
        (root / "usr/lib").symlink_to(victim)
    elif how == "relative":
        (root / "usr/lib").symlink_to("../../victim")
    else:
        (root / "usr").rmdir()
        (root / "usr").symlink_to(victim)
    r = qpack("install", str(demo_dist), "-l", "demo", "--root", str(root), "--prefix", "/usr", "ui-curses")
    assert r.returncode == 2, r.stdout + r.stderr
    [line] = r.stderr.splitlines()
    assert line.startswith("error: ") and "a symlink leads outside the root" in line, line
    assert list(victim.iterdir()) == []

    # A link that stays inside the root is followed, as writing through it would be.
    inner = tmp_path / "inner"
    (inner / "usr/lib-real").mkdir(parents=True)
    (inner / "usr/lib").symlink_to("lib-real")
    ok = qpack("install", str(demo_dist), "-l", "demo", "--root", str(inner), "--prefix", "/usr", "ui-curses")
    assert ok.returncode == 0, ok.stderr
    assert (inner / "usr/lib-real/demo/ui/curses.so").is_file()


def test_an_uninstall_does_not_remove_through_a_symlink_out_of_the_root(
    demo_dist: Path, tmp_path: Path
) -> None:
    root, victim = tmp_path / "root", tmp_path / "victim"
    do_install(demo_dist, Path("/usr"), "ui-curses", root=root)
    # Someone swaps the module directory for a link to a copy elsewhere on the machine.
    shutil.copytree(root / "usr/lib/demo", victim)
    shutil.rmtree(root / "usr/lib/demo")
    (root / "usr/lib/demo").symlink_to(victim)
    before = snapshot(victim)
    r = qpack("uninstall", "--root", str(root), "--prefix", "/usr", "ui-curses")
    assert r.returncode == 2 and "a symlink leads outside the root" in r.stderr, r.stdout + r.stderr
    assert snapshot(victim) == before


def test_an_empty_prefix_is_refused_by_every_prefix_command(demo_dist: Path, tmp_path: Path) -> None:
    """`--prefix "$VENV"` with VENV unset must not install into (or uninstall from) the
    current directory."""
    for args in (
        ("install", str(demo_dist), "-l", "demo", "--prefix", "", "ui-curses"),
        ("uninstall", "--prefix", "", "ui-curses"),
        ("list", "-l", "demo", "--prefix", ""),
        ("preserve", "-l", "demo", "--prefix", "", "--pkgversion", "1"),
        ("check", "", "-l", "demo"),
    ):
        r = subprocess.run(
            [sys.executable, "-m", "qpack", *args], capture_output=True, text=True, cwd=tmp_path, check=False
        )
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.splitlines() == [
            "error: the installed prefix is empty (an unset variable?); give a directory"
        ], args
        assert list(tmp_path.iterdir()) == [], args


def test_a_relative_prefix_under_a_root_is_refused_by_every_prefix_command(
    demo_dist: Path, tmp_path: Path
) -> None:
    """An Open MPI tester's `install --prefix P3 --root /`, run from their own directory,
    installed 20 MB into /P3 on the host; `--prefix rel --root R` went to R/rel, where without
    --root `--prefix rel` is the working directory's. Under --root the prefix is the program's
    path, absolute: a relative one is refused before anything is written."""
    root = tmp_path / "root"
    root.mkdir()
    for args in (
        ("install", str(demo_dist), "-l", "demo", "--prefix", "P3", "ui-curses"),
        ("uninstall", "--prefix", "P3", "ui-curses"),
        ("list", "-l", "demo", "--prefix", "P3"),
        ("check", "usr", "-l", "demo"),
    ):
        r = subprocess.run(
            [sys.executable, "-m", "qpack", *args, "--root", str(root)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        shown = args[args.index("--prefix") + 1] if "--prefix" in args else "usr"
        assert r.stderr.splitlines() == [
            f"error: prefix {shown!r}: with --root, give the prefix as the program sees it, an "
            f"absolute path (/{shown}?)"
        ], args
        assert list(root.iterdir()) == [], args
        assert sorted(p.name for p in tmp_path.iterdir()) == ["root"], args
    # A path to a directory inside the root, said without it (a GIMP tester's `check build/usr
    # --root build` was asked "/build/usr?").
    (root / "usr").mkdir()
    r = subprocess.run(
        [sys.executable, "-m", "qpack", "check", "root/usr", "-l", "demo", "--root", "root"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert r.returncode == 2 and r.stderr.rstrip().endswith("an absolute path (/usr?)"), r.stderr


def test_wheels_of_another_layout_are_refused_not_recorded_under_it(demo_dist: Path, tmp_path: Path) -> None:
    """The demo's wheels installed with `-l qemu` were recorded as qemu's, with no module, and
    `qpack list` then failed; the meta wheel the layout names is missing, so it is refused."""
    prefix = tmp_path / "p"
    r = qpack("install", str(demo_dist), "-l", "qemu", "--prefix", str(prefix), "ui-curses")
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.splitlines() == [
        "error: the layout's meta package qemu is not among the wheels (found demo): were they "
        "split with another layout? Give the -l they were split with"
    ]
    assert not prefix.exists()


def test_list_says_what_is_wrong_with_the_prefix(demo_dist: Path, tmp_path: Path) -> None:
    missing = qpack("list", "--prefix", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        f"error: {tmp_path / 'nowhere'}: no such directory (the installed prefix)"
    ]
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-curses")
    info = next((prefix / "lib").glob("python3*/site-packages/demo_ui_curses-1.0.dist-info"))
    (info / "qpack.json").write_text(
        json.dumps({"layout": "demo-registry", "modules": ["ui-curses"], "version": 1})
    )
    both = qpack("list", "--prefix", str(prefix))
    assert both.returncode == 2
    assert both.stderr.splitlines() == [
        f"error: {prefix}: its distributions record different layouts (demo, demo-registry); give -l LAYOUT"
    ]
    # A distribution named exactly needs no -l: its own record says its layout (two programs'
    # plugins in one /usr, LADSPA's swh and cmt). A module id still does.
    by_id = qpack("uninstall", "--prefix", str(prefix), "ui-curses")
    assert by_id.returncode == 2 and "record different layouts" in by_id.stderr
    by_name = qpack("uninstall", "--prefix", str(prefix), "demo-ui-curses")
    assert by_name.returncode == 0, by_name.stderr
    assert not (prefix / "lib/demo/ui/curses.so").exists()


def test_a_layout_extending_the_programs_with_its_loader_is_taken_for_both(
    demo_dist: Path, tmp_path: Path
) -> None:
    """A BitlBee tester installed a third-party plug-in with fb.toml, which `extends` the
    program's layout and adds a package: `list` and `uninstall MODULE` refused "different
    layouts". The layout that extends the other, with the same loader, judges both; one that
    changes the loader is still refused."""
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-curses", "block-curl")
    third = tmp_path / "third-party.toml"
    third.write_text(
        '[layout]\nname = "demo-third-party"\nextends = "demo"\n\n'
        '[[package]]\nname = "demo-extra-docs"\nfiles = ["{prefix}/share/doc/demo-extra/**"]\n'
    )
    info = next((prefix / "lib").glob("python3*/site-packages/demo_ui_curses-1.0.dist-info"))
    (info / "qpack.json").write_text(
        json.dumps({"layout": str(third), "modules": ["ui-curses"], "version": 1})
    )
    listed = qpack("list", "--prefix", str(prefix), "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["layout"] == "demo-third-party"
    gone = qpack("uninstall", "--prefix", str(prefix), "ui-curses")
    assert gone.returncode == 0, gone.stderr
    assert not (prefix / "lib/demo/ui/curses.so").exists()
    other = tmp_path / "other-loader.toml"
    other.write_text('[layout]\nname = "demo-other"\nextends = "demo"\n\n[loader]\nrelocatable = false\n')
    info = next((prefix / "lib").glob("python3*/site-packages/demo_block_curl-1.0.dist-info"))
    (info / "qpack.json").write_text(
        json.dumps({"layout": str(other), "modules": ["block-curl"], "version": 1})
    )
    refused = qpack("list", "--prefix", str(prefix))
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"error: {prefix}: its distributions record different layouts ({other}, demo); give -l LAYOUT"
    ]


def test_the_meta_packages_name_that_is_also_its_extra_installs_the_extra(
    demo_build: Path, tmp_path: Path
) -> None:
    """A GDAL tester's meta package `gdal` beside the module type `gdal`: `install gdal` took
    the meta wheel, which installs the core alone, and ignored the extra in silence. The plan
    warns of the name, and install takes the extra, as pip takes `gdal[gdal]`."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = '[meta]\nname = "demo"\n'
    assert old in text
    layout = tmp_path / "ui-meta.toml"
    layout.write_text(text.replace(old, '[meta]\nname = "ui"\n'))
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert (
        "warning: meta package 'ui' has an extra of its own name ('ui'): `qpack install ui` takes the "
        "extra, but `pip install ui` the meta package alone (pip: ui[ui]); rename the meta package to "
        "tell them apart"
    ) in r.stderr.splitlines()
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    r = qpack("install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui")
    assert r.returncode == 0, r.stderr
    assert loaded(prefix) == {"ui-curses", "ui-gtk", "ui-opengl"}


def test_a_package_named_as_a_module_extra_installs_the_module(demo_build: Path, tmp_path: Path) -> None:
    """A GEGL tester's core package `gegl-core` beside GEGL's own module `gegl-core` (package
    `gegl-op-gegl-core`): `install gegl-core` took the core wheel alone, exit 0, and the module
    the program needs was left out. The plan warns of the clash, and install takes the extra,
    which brings the core it requires too."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = '[[package]]\nname = "demo-core"\n'
    assert old in text
    layout = tmp_path / "clash.toml"
    layout.write_text(text.replace(old, '[[package]]\nname = "ui-gtk"\n').replace('"demo-core"', '"ui-gtk"'))
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert (
        "warning: package 'ui-gtk' has the name of an extra of the meta package ('ui-gtk', which installs "
        "demo-ui-gtk): `qpack install ui-gtk` takes the extra, `pip install ui-gtk` the package; rename "
        "one to tell them apart"
    ) in r.stderr.splitlines(), r.stderr
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    r = qpack("install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-gtk")
    assert r.returncode == 0, r.stderr
    assert loaded(prefix) == {"ui-gtk", "ui-opengl"}  # ui-gtk needs ui-opengl
    assert (prefix / "bin/demo").exists()


def test_types_sharing_one_list_variable_get_all_their_directories_in_it(
    demo_build: Path, tmp_path: Path
) -> None:
    """An Octave tester's packages are types sharing OCTAVE_PATH (a list), each with its own
    `wheels`: install told the user to set OCTAVE_PATH to one of them, checked as if it were, and
    called the other types' modules not found; set to all of them, check counted each file as a
    module of every type ("162 of 162" for 27 files)."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    types = "".join(
        f'[loader.by-type.{t}]\nenv = "DEMO_PATH"\nlist = true\nreplaces = false\nwheels = "lib/demo/{t}"\n'
        for t in ("ui", "block", "audio")
    )
    known = next(line for line in text.splitlines(keepends=True) if line.startswith("known = "))
    layout = tmp_path / "shared.toml"
    text = text.replace(known, "").replace('prefix = "/usr"\n', 'prefix = "/usr"\nrelocatable = false\n')
    layout.write_text(text + types)
    dist = split(demo_build, tmp_path / "dist", "1.0", layout)
    prefix = tmp_path / "p"
    r = qpack(
        "install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses", "block-curl", "--json"
    )
    assert r.returncode == 0, r.stderr
    value = f"{prefix}/lib/demo/ui:{prefix}/lib/demo/block"
    assert f"set DEMO_PATH={value} where the program runs" in r.stderr, r.stderr
    assert sorted(m["module"] for m in json.loads(r.stdout)["check"]) == ["block-curl", "ui-curses"]
    r = qpack("check", str(prefix), "-l", str(layout), "--env", f"DEMO_PATH={value}", "--json")
    assert r.returncode == 0, r.stderr
    assert sorted(m["module"] for m in json.loads(r.stdout)["modules"]) == ["block-curl", "ui-curses"]


def test_ctrl_c_after_the_commit_says_the_install_stands(
    demo_dist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt during the check after installing cannot undo the committed install: the
    error says it stands (status 130), where "interrupted" alone read as undone."""
    import qpack.check
    from qpack.install import InterruptedAfterInstall

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(qpack.check, "check_modules", interrupted)
    prefix = tmp_path / "p"
    with pytest.raises(InterruptedAfterInstall) as e:
        do_install(demo_dist, prefix, "ui-curses")
    assert e.value.exit_status == 130
    assert str(e.value).startswith(
        f"interrupted after installing demo-core 1.0, demo-ui-curses 1.0 into {prefix}"
    )
    assert loaded(prefix) == {"ui-curses"}
    assert not (prefix / STATE_DIR).exists()


def test_an_installed_distribution_missing_files_is_not_called_fine(demo_dist: Path, tmp_path: Path) -> None:
    """A module file removed by hand: installing the module again used to say "nothing to
    install" and exit 0; it still leaves it alone (no reinstall over it), but says what is
    missing and how to repair it, and exits 1."""
    prefix = tmp_path / "p"
    do_install(demo_dist, prefix, "ui-gtk")
    (prefix / "lib/demo/ui/gtk.so").unlink()
    r = qpack("install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-gtk")
    assert r.returncode == 1, r.stdout + r.stderr
    assert (
        "problem: demo-ui-gtk 1.0 is installed but misses lib/demo/ui/gtk.so: it was left as it is; "
        "`qpack uninstall demo-ui-gtk` and install it again to repair it"
    ) in r.stderr
    assert qpack("uninstall", "--prefix", str(prefix), "demo-ui-gtk").returncode == 0
    assert qpack("install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-gtk").returncode == 0
    assert loaded(prefix) == {"ui-gtk", "ui-opengl"}


def test_a_plain_prefix_of_another_python_is_read_where_its_distributions_are(
    demo_dist: Path, tmp_path: Path
) -> None:
    """`pip install --prefix P` by Python 3.12 puts the distributions in P/lib/python3.12/
    site-packages; qpack (another Python) looked only in its own version's directory, so it
    listed nothing and then refused the core's files as nobody's."""
    prefix = tmp_path / "p"
    r = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--disable-pip-version-check",
         "--prefix", str(prefix), *map(str, sorted(demo_dist.glob("demo_core-*.whl")))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (own,) = (prefix / "lib").glob("python3.*")
    other = "python3.9" if own.name != "python3.9" else "python3.10"
    own.rename(own.with_name(other))  # as another Python's pip lays the prefix out
    listed = qpack("list", "--prefix", str(prefix), "-l", "demo", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [d["name"] for d in json.loads(listed.stdout)["distributions"]] == ["demo-core"]
    done = qpack("install", str(demo_dist), "-l", "demo", "--prefix", str(prefix), "ui-curses", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["already_installed"] == [{"name": "demo-core", "version": "1.0", "now_requested": False}]
    assert (prefix / "lib" / other / "site-packages/demo_ui_curses-1.0.dist-info/RECORD").is_file()
    assert loaded(prefix) == {"ui-curses"}


def test_a_failed_write_names_the_file_once() -> None:
    """A full disk gave 'error: cannot write the file: cannot write the file: No space left on
    device' (a failed write() carries no file name); the file being written is named instead."""
    import errno as errno_

    from qpack.transaction import _oserror

    full = OSError(errno_.ENOSPC, os.strerror(errno_.ENOSPC))
    assert str(_oserror("cannot write the file", full, Path("/p/lib/x.so"))) == (
        "/p/lib/x.so: cannot write the file: No space left on device"
    )
    named = OSError(errno_.EACCES, os.strerror(errno_.EACCES), "/p/lib")
    assert (
        str(_oserror("cannot make the directory", named))
        == "/p/lib: cannot make the directory: Permission denied"
    )
