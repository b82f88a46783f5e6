"""The command line as scripts and people use it: JSON shapes, tables, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qpack.cli import main

from .conftest import run_qpack


def test_layouts_lists_shipped_layouts_with_descriptions() -> None:
    r = run_qpack("layouts", "--json")
    assert r.returncode == 0
    data = json.loads(r.stdout)
    names = {x["name"]: x["description"] for x in data["layouts"]}
    assert {"qemu", "demo"} <= set(names)
    assert all(names.values())
    plain = run_qpack("layouts")
    assert plain.stdout.splitlines()[0].split("\t")[0] in names


def test_plan_json_shape(demo_build: Path) -> None:
    r = run_qpack("plan", str(demo_build), "--layout", "demo", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"layout", "prefix", "packages", "excluded", "unclaimed"}
    for p in data["packages"]:
        assert set(p) >= {"name", "kind", "files", "modules", "requires"}
        assert p["kind"] in ("core", "module", "group", "meta")
        assert all(not f.startswith("/") for f in p["files"])
    assert data["packages"][0]["name"] == "demo-core"
    assert data["packages"][-1]["kind"] == "meta"


def test_scan_and_plan_plain_output(demo_build: Path) -> None:
    r = run_qpack("scan", str(demo_build), "--layout", "demo")
    assert r.returncode == 0, r.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in r.stdout.splitlines()}
    assert rows["usr/lib/demo/ui/gtk.so"][1:3] == ["demo-ui-gtk", "ui: gtk"]
    assert rows["usr/bin/demo-run"][3] == "-> demo"
    assert "libdemo-util.so.1" in rows["usr/bin/demo"][3]
    r = run_qpack("plan", str(demo_build), "--layout", "demo")
    assert r.returncode == 0
    assert r.stdout.splitlines()[0].split("\t")[:3] == ["demo-core", "core", "6"]


def test_main_is_callable_and_returns_status(demo_build: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["plan", str(demo_build), "--layout", "demo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layout"] == "demo"
    assert main(["plan", str(demo_build), "--layout", "nosuch"]) == 2
    assert "no such shipped layout" in capsys.readouterr().err


def test_prefix_option(demo_build: Path) -> None:
    # with the wrong prefix no module directory matches: an error (tests/test_cli_fit.py), and
    # with --allow-empty a plan whose module files have no rule
    r = run_qpack("plan", str(demo_build), "--layout", "demo", "--prefix", "/opt/demo", "--json")
    assert r.returncode == 2
    r = run_qpack(
        "plan", str(demo_build), "--layout", "demo", "--prefix", "/opt/demo", "--json", "--allow-empty"
    )
    assert r.returncode == 0
    pkgs = {p["name"] for p in json.loads(r.stdout)["packages"]}
    assert "demo-ui-gtk" not in pkgs


def test_scan_says_when_the_split_cannot_be_planned(demo_build: Path, tmp_path: Path) -> None:
    """An LV2 tester's scan showed '?' for all 1,689 files and exited 0; why (one link making a
    cycle) was one warning among 50. The problems come last, as problems, under a line saying
    what the '?' means, and the exit status is 1 (scan found problems); --json lists them."""
    layout = tmp_path / "twice.toml"
    layout.write_text(
        '[layout]\nname = "twice"\nextends = "demo"\n'
        '[[package]]\nname = "demo-a"\nrest = true\nfiles = ["{prefix}/share/demo/**"]\n'
        '[[package]]\nname = "demo-b"\nfiles = ["{prefix}/share/demo/banner.txt"]\n'
    )
    r = run_qpack("scan", str(demo_build), "-l", str(layout))
    assert r.returncode == 1, r.stderr
    assert {line.split("\t")[1] for line in r.stdout.splitlines()} == {"?"}
    lines = r.stderr.splitlines()
    at = lines.index("problem: the split cannot be planned (2 problems); the package column shows '?'")
    assert lines[at + 1].startswith("problem: usr/share/demo/banner.txt: claimed twice")
    assert lines[at + 2].startswith("problem: 7 file(s) claimed by no package of layout 'twice'")
    assert not [line for line in lines[at:] if line.startswith("warning:")]  # the problems come last
    r = run_qpack("scan", str(demo_build), "-l", str(layout), "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["problems"][0].startswith("usr/share/demo/banner.txt: claimed twice")


def test_plan_warns_of_package_names_a_split_refuses(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Sylpheed tester's `my plugin.so` made the package `sylpheed-plugin-my plugin`: plan
    printed it and exited 0, and both splits refused it. plan names each such package and
    which split refuses it (an upper-case name suits a wheel, not Debian)."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    assert 'name = "demo-{module}"' in text
    layout = tmp_path / "upper.toml"
    layout.write_text(text.replace('name = "demo-{module}"', 'name = "Demo-{module}"'))
    assert main(["plan", str(demo_build), "-l", str(layout)]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "refuses" in line]
    # The seven module packages alike, in one line (a GEGL tester's ten `*-x86_64-v2` ones).
    assert said == [
        "warning: 7 package names named after their modules, 'Demo-audio-alsa', 'Demo-audio-pa', "
        "'Demo-block-curl' and 4 more: not a valid Debian package name (lower-case letters, digits and "
        "+ - . only, at least two characters, starting with a letter or digit) (`normalize = true` in "
        "[per-module] lower-cases the names and writes '_' as '-'); split --format tree refuses them"
    ]
    layout.write_text(text + '\n[per-module.renames]\n"ui-gtk" = "Gtk"\n')
    assert main(["plan", str(demo_build), "-l", str(layout)]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "refuses" in line]
    assert said == [
        "warning: package name 'Gtk': not a valid Debian package name (lower-case letters, digits and "
        "+ - . only, at least two characters, starting with a letter or digit) (named after module "
        "'ui-gtk': `normalize = true` in [per-module] lower-cases the names and writes '_' as '-'); "
        "split --format tree refuses it"
    ]
