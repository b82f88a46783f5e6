"""After an upgrade of only some packages of a split install, `qpack check` names the modules
whose version is not the installed core's. The upgrade is done by the real pip, which upgrades
only what it is asked to, prints an error about the broken pins and still exits 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from venv import EnvBuilder

from qpack.layout import load_layout
from qpack.plan import plan_build
from qpack.upgrades import version_skew
from qpack.writers.wheel import write_wheels

from .conftest import run_qpack


def pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real pip (this interpreter's, >= 22.3) installing into the venv of `python`: a venv
    without its own pip is made in milliseconds instead of seconds."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-index",
            "--disable-pip-version-check",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_check_reports_modules_left_behind_by_pip_upgrade(demo_build: Path, tmp_path: Path) -> None:
    plan = plan_build(demo_build, "demo")
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    write_wheels(plan, v1, version="1.0")
    write_wheels(plan, v2, version="2.0")
    venv = tmp_path / "venv"
    EnvBuilder(with_pip=False).create(venv)
    python = venv / "bin" / "python"
    r = pip(python, "--find-links", str(v1), "demo[ui-gtk]")
    assert r.returncode == 0, r.stderr
    loader = load_layout("demo").loader
    assert version_skew(venv, loader) == []
    r = run_qpack("check", str(venv), "-l", "demo", "--json")
    assert r.returncode == 0, r.stderr  # the control: one version, nothing to say

    # Upgrade the core only: pip leaves the modules at 1.0, says so, and exits 0.
    r = pip(python, "--find-links", str(v2), "-U", "demo-core")
    assert r.returncode == 0, r.stderr
    assert "demo-ui-gtk 1.0 requires demo-core==1.0, but you have demo-core 2.0" in r.stderr

    skew = [
        (s.distribution, s.version, s.modules, s.core, s.core_version) for s in version_skew(venv, loader)
    ]
    assert skew == [
        ("demo-ui-gtk", "1.0", ("ui-gtk",), "demo-core", "2.0"),
        ("demo-ui-opengl", "1.0", ("ui-opengl",), "demo-core", "2.0"),
    ]
    r = run_qpack("check", str(venv), "-l", "demo", "--json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert [s["distribution"] for s in data["version_skew"]] == ["demo-ui-gtk", "demo-ui-opengl"]
    row = next(m for m in data["modules"] if m["module"] == "ui-gtk")
    assert "version" in [p["kind"] for p in row["problems"]]
    # A relative PREFIX is the user's own directory, not one under / (cwd: tmp_path).
    r = run_qpack("check", "venv", "-l", "demo", cwd=tmp_path)
    assert r.returncode == 1
    assert "version: demo-ui-gtk 1.0 is installed beside demo-core 2.0" in r.stdout
    # `qpack list` says it too, and fails as check does (it said nothing, status 0).
    r = run_qpack("list", "--prefix", str(venv), "-l", "demo", "--json")
    assert r.returncode == 1, r.stderr
    listed = {d["name"]: d for d in json.loads(r.stdout)["distributions"]}
    assert any(
        p.startswith("version: demo-ui-gtk 1.0 is installed") for p in listed["demo-ui-gtk"]["problems"]
    )
    assert listed["demo-ui-gtk"]["loads"] is True  # it loads; it is the wrong version

    # The README's way out: upgrade through the meta package and the extras installed.
    r = pip(python, "--find-links", str(v2), "-U", "demo[ui-gtk]")
    assert r.returncode == 0, r.stderr
    assert version_skew(venv, loader) == []
    assert run_qpack("check", str(venv), "-l", "demo").returncode == 0
    assert run_qpack("list", "--prefix", str(venv), "-l", "demo").returncode == 0


def test_a_package_holding_a_program_left_behind_by_pip_upgrade_is_skew_too(
    demo_build: Path, tmp_path: Path
) -> None:
    """A GCC tester's g++-12, a group holding the g++ driver (a loader executable) and cc1plus,
    at 12.2.1 beside gcc-12 and cpp-12 at 12.2.0: check said nothing. A package holding a
    program is a core to check, and cores were never compared with one another."""
    layout = tmp_path / "group.toml"
    layout.write_text(
        '[layout]\nname = "demo-grouped"\nextends = "demo"\n\n'
        '[loader]\nexecutables = ["{prefix}/bin/demo", "{prefix}/bin/demo-registry"]\n\n'
        '[[package]]\nname = "demo-core"\nkind = "core"\nrest = true\n\n'
        '[[package]]\nname = "demo-ui"\nkind = "group"\nmodules = ["ui-*"]\n'
        'files = ["{prefix}/bin/demo-registry"]\n\n'
        '[per-module]\nname = "demo-{module}"\n'
    )
    lay = load_layout(layout)
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    write_wheels(plan_build(demo_build, lay), v1, version="1.0")
    write_wheels(plan_build(demo_build, lay), v2, version="2.0")
    venv = tmp_path / "venv"
    EnvBuilder(with_pip=False).create(venv)
    python = venv / "bin" / "python"
    assert pip(python, "--find-links", str(v1), "demo-core", "demo-ui").returncode == 0
    assert version_skew(venv, lay.loader) == []
    assert pip(python, "--find-links", str(v2), "-U", "--no-deps", "demo-ui").returncode == 0
    skew = [(s.distribution, s.version, s.core, s.core_version) for s in version_skew(venv, lay.loader)]
    assert skew == [("demo-ui", "2.0", "demo-core", "1.0")]
    r = run_qpack("check", str(venv), "-l", str(layout))
    assert r.returncode == 1 and "version: demo-ui 2.0 is installed beside demo-core 1.0" in r.stdout, (
        r.stdout
    )


def test_a_module_built_apart_is_no_version_skew(demo_build: Path, tmp_path: Path) -> None:
    """A module wheel that requires no distribution was split from a build of its own (Irssi's
    tester: irssi-plugin-xmpp 0.54 beside irssi-core 1.4.3), so its version is its own: pip
    installs it, and check and list do not call it skew."""
    layout = tmp_path / "apart.toml"
    layout.write_text(
        '[layout]\nname = "demo-alsa-apart"\nextends = "demo"\n\n'
        '[[package]]\nname = "demo-core"\nkind = "core"\nrest = true\n\n'
        '[[package]]\nname = "demo-alsa-plugin"\nkind = "group"\nmodules = ["audio-alsa"]\nrequires = []\n\n'
        '[per-module]\nname = "demo-{module}"\n'
    )
    v1, apart = tmp_path / "v1", tmp_path / "apart"
    write_wheels(plan_build(demo_build, "demo"), v1, version="1.0")
    write_wheels(plan_build(demo_build, load_layout(layout)), apart, version="0.5")
    venv = tmp_path / "venv"
    EnvBuilder(with_pip=False).create(venv)
    python = venv / "bin" / "python"
    r = pip(python, "--find-links", str(v1), "--find-links", str(apart), "demo[ui-gtk]", "demo-alsa-plugin")
    assert r.returncode == 0, r.stderr
    assert version_skew(venv, load_layout("demo").loader) == []
    r = run_qpack("check", str(venv), "-l", "demo", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert {m["module"] for m in json.loads(r.stdout)["modules"] if m["loads"]} >= {"audio-alsa", "ui-gtk"}
    assert run_qpack("list", "--prefix", str(venv), "-l", "demo").returncode == 0


def test_a_skewed_module_the_loader_takes_elsewhere_names_its_own_copy() -> None:
    """A Gnumeric tester's venv plug-in at 1.12.54 was reported on the row of the host's copy,
    which the loader takes first, with nothing naming the venv's file that is skewed."""
    from qpack.check import CheckReport, ModuleVerdict
    from qpack.upgrades import VersionSkew, with_skew

    row = ModuleVerdict(module="m", file="/usr/lib/p/m.so", loads=True, executables=("/v/bin/p",))
    report = CheckReport(prefix="/v", root="/", layout="x", executables=(), modules=(row,))
    skew = VersionSkew(distribution="p-m", version="1.0", modules=("m",), core="p", core_version="2.0")
    (elsewhere,) = with_skew(report, [skew], {"m": ("/v/lib/p/m.so", "p-m 1.0")}).modules
    assert [p.detail for p in elsewhere.problems] == [
        "p-m 1.0 (its copy /v/lib/p/m.so is not the one loaded) is installed beside p 2.0: upgrade both "
        "to one version (pip install -U p-m p)"
    ]
    (here,) = with_skew(report, [skew], {"m": ("/usr/lib/p/m.so", "p-m 1.0")}).modules
    assert [p.detail for p in here.problems] == [skew.detail]
