"""`qpack plan --graph`: the packages and their requirements as DOT that Graphviz accepts, and
SVG beside it when `dot` is installed (one clear line when it is not)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qpack.graph import plan_dot, quote
from qpack.plan import plan_build

from .conftest import QemuBuild, run_qpack


def dot_accepts(text: str) -> str:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    r = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return r.stdout


def test_demo_graph_nodes_and_edges(demo_build: Path) -> None:
    plan = plan_build(demo_build, "demo")
    text = plan_dot(plan)
    nodes = set(re.findall(r'^  "([^"]+)" \[shape=', text, re.M))
    assert {p.name for p in plan.packages} <= nodes
    assert {"demo[ui]", "demo[audio]", "demo[block]"} <= nodes  # the meta package's type extras
    assert '"demo-ui-gtk" -> "demo-ui-opengl" [style="bold", color="#1c4587", label="loads first"];' in text
    assert '"demo-ui-curses" -> "demo-core" [color="#999999"];' in text
    svg = dot_accepts(text)
    assert svg.count('class="node"') == len(nodes)


def test_quote_keeps_any_name_one_id() -> None:
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    evil = quote('x"; evil -> y; "')
    svg = dot_accepts(f"digraph {{ {evil} -> b; }}")
    assert svg.count('class="node"') == 2


def test_plan_graph_writes_dot_and_svg(demo_build: Path, tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    r = run_qpack("plan", str(demo_build), "-l", "demo", "--graph", str(tmp_path / "plan.svg"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("demo-core\tcore")  # the plan is printed as usual
    assert (tmp_path / "plan.dot").read_text().startswith('digraph "demo" {')
    assert (tmp_path / "plan.svg").read_text().lstrip().startswith("<?xml")
    assert f"wrote {tmp_path / 'plan.dot'} and {tmp_path / 'plan.svg'}" in r.stderr


def test_without_dot_one_clear_line(demo_build: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"  # a PATH without dot; python by its own path (a symlink to a
    bin_dir.mkdir()  # venv's python elsewhere is the base interpreter, without the venv's packages)
    r = subprocess.run(
        [sys.executable, "-m", "qpack", "plan", str(demo_build), "-l", "demo", "--graph",
         str(tmp_path / "g.dot")],
        capture_output=True, text=True, env={"PATH": str(bin_dir)}, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if "dot" in line.lower() and "warning" in line]
    assert warnings == [
        f"warning: wrote {tmp_path / 'g.dot'} only: "
        "Graphviz's dot is not installed (apt-get install graphviz)"
    ]
    assert (tmp_path / "g.dot").is_file() and not (tmp_path / "g.svg").exists()


@pytest.mark.qemu
def test_qemu_graph_is_valid_dot(qemu_build: QemuBuild) -> None:
    r = run_qpack("plan", str(qemu_build.root), "-l", "qemu", "--graph", "-")
    assert r.returncode == 0, r.stderr
    svg = html.unescape(dot_accepts(r.stdout))  # dot writes '-' as &#45;
    for name in ("qemu-core", "qemu-ui-gtk", "qemu-ui-opengl", "qemu[block]"):
        assert f"<title>{name}</title>" in svg
    assert '"qemu-ui-gtk" -> "qemu-ui-opengl" [style="bold"' in r.stdout


def test_a_graph_file_must_be_dot_or_svg(demo_build: Path, tmp_path: Path) -> None:
    """`--graph x.png` wrote DOT text into x.png (and an x.svg beside it)."""
    r = run_qpack("plan", str(demo_build), "-l", "demo", "--graph", str(tmp_path / "x.png"))
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        f"error: --graph {tmp_path / 'x.png'}: name a .dot (or .gv) or .svg file (both are written, "
        "side by side), or - for the DOT text on stdout"
    ]
    assert list(tmp_path.iterdir()) == []
