"""`qpack report`: one self-contained HTML page of a split, opened in real headless Chromium.

The page is judged from the DOM Chromium built after the page's script ran (every package of
the plan has its row, the script finished), from the console (no message at all), and from a
screenshot whose pixels must show the package colours of the treemap and bars.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from qpack.install import install_wheels, select
from qpack.plan import plan_build
from qpack.report import KIND_COLORS, Rect, render_report, squarify
from qpack.writers.wheel import write_wheels

from . import chromium
from .conftest import QemuBuild, run_qpack


class _Rows(HTMLParser):
    """data-package of every table row, data-ready of <html>, and the external resources."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.cells: list[str] = []
        self.check_rows: dict[str, str] = {}
        self.ready: str | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.ready = a.get("data-ready")
        if tag == "tr" and a.get("data-package"):
            self.rows.append(a["data-package"] or "")
        if tag == "tr" and a.get("data-module"):
            self.check_rows[a["data-module"] or ""] = a.get("data-loads") or ""
        if tag == "g" and a.get("data-package"):
            self.cells.append(a["data-package"] or "")
        for key in ("src", "href"):
            if a.get(key):
                self.external.append(a[key] or "")


def _parse(dom: str) -> _Rows:
    p = _Rows()
    p.feed(dom)
    return p


def test_squarify_fills_the_box_with_proportional_areas() -> None:
    values = [500.0, 300.0, 120.0, 50.0, 20.0, 10.0]
    box = Rect(0, 0, 1000, 360)
    rects = squarify(values, box)
    assert len(rects) == len(values)
    total = sum(values)
    for v, r in zip(values, rects, strict=True):
        assert r.w * r.h == pytest.approx(box.w * box.h * v / total)
        assert r.x >= -1e-6 and r.y >= -1e-6 and r.x + r.w <= 1000 + 1e-6 and r.y + r.h <= 360 + 1e-6
    assert sum(r.w * r.h for r in rects) == pytest.approx(box.w * box.h)


@pytest.mark.qemu
def test_qemu_report_opens_in_chromium_with_every_package(qemu_build: QemuBuild, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    r = run_qpack("report", str(qemu_build.root), "-l", "qemu", "-o", str(page), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["version"] == 1 and data["output"] == str(page)
    packages = data["packages"]
    assert len(packages) > 30 and "qemu-core" in packages and "qemu-ui-gtk" in packages

    text = page.read_text(encoding="utf-8")
    # Self-contained: no script, style or image is fetched from anywhere.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)

    loaded = chromium.load(page)
    assert loaded.console == [], loaded.console
    dom = _parse(loaded.dom)
    assert dom.ready == "1", "the page's script did not run to its end"
    assert sorted(dom.rows) == sorted(packages)
    # every package with files is a cell of the size treemap
    assert "qemu-core" in dom.cells and "qemu-ui-gtk" in dom.cells and "qemu" not in dom.cells
    assert dom.external == []


def test_console_errors_are_seen(tmp_path: Path) -> None:
    """The console check above can fail: a page whose script throws is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><script>throw new Error("broken page")</script></body></html>')
    assert any("broken page" in m for m in chromium.load(bad).console)


def test_report_of_a_checked_prefix_screenshot_and_dom(demo_build: Path, tmp_path: Path) -> None:
    """The demo split, with the check of a prefix it was installed into: the verdicts are in
    the DOM, and the screenshot shows the treemap's package colours."""
    plan = plan_build(demo_build, "demo")
    dist = tmp_path / "dist"
    write_wheels(plan, dist, version="1.0")
    prefix = tmp_path / "prefix"
    install_wheels(select(dist, ["ui-gtk"]), prefix)
    page = tmp_path / "report.html"
    r = run_qpack("report", str(demo_build), "-l", "demo", "-o", str(page), "--check", str(prefix), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["check"]["load"] == 2
    loaded = chromium.load(page)
    assert loaded.console == []
    dom = _parse(loaded.dom)
    assert dom.check_rows == {"ui-gtk": "yes", "ui-opengl": "yes"}
    assert sorted(dom.rows) == sorted(p.name for p in plan.packages)

    png = tmp_path / "report.png"
    chromium.screenshot(page, png, width=800, height=600)
    img = chromium.read_png(png)
    assert (img.width, img.height) == (800, 600)
    total = img.width * img.height

    def rgb(color: str) -> tuple[int, int, int]:
        return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))

    # The treemap is drawn: large areas in the core's and the modules' colours.
    assert img.count(rgb(KIND_COLORS["core"])) > total * 0.03
    assert img.count(rgb(KIND_COLORS["module"])) > total * 0.03
    # And the page is not one flat colour: there is text too.
    assert len(set(img.pixels)) > 50


def test_blank_page_fails_the_screenshot_check(tmp_path: Path) -> None:
    """The screenshot check above can fail: an empty page has no package colour."""
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body></body></html>")
    png = tmp_path / "blank.png"
    chromium.screenshot(blank, png, width=320, height=200)
    img = chromium.read_png(png)
    assert img.count((0x4E, 0x79, 0xA7)) == 0 and len(set(img.pixels)) < 5


def test_render_report_escapes_names(demo_build: Path) -> None:
    plan = plan_build(demo_build, "demo")
    page = render_report(plan, warnings=['<script>alert("x")</script>'], graph=False)
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_excluded_modules_are_not_counted_as_the_splits(demo_build: Path, tmp_path: Path) -> None:
    """An fcitx5 tester's three excluded test addons made the page and the line say 21 modules
    of the 18 the split packages, the three listed by type with no package."""
    layout = tmp_path / "excl.toml"
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    layout.write_text(text + '\n[[exclude]]\nreason = "not shipped"\nmodules = ["block-nfs"]\n')
    r = run_qpack("report", str(demo_build), "-l", str(layout), "-o", str(tmp_path / "r.html"))
    assert r.returncode == 0, r.stderr
    assert "packages, 6 modules" in r.stderr, r.stderr  # 7 modules, one excluded
    page = (tmp_path / "r.html").read_text()
    assert '"modules": 6' in page and ">block-nfs</code>" not in page
    graph = run_qpack("plan", str(demo_build), "-l", str(layout), "--graph", "-")
    assert "packages, 6 modules" in graph.stdout, graph.stdout[:300]  # the graph's label too


def test_the_page_on_stdout_and_singular_counts(demo_build: Path, tmp_path: Path) -> None:
    """`-o -` wrote a file named '-'; it means stdout, as `plan --graph -` does. A package of one
    file says '1 file'."""
    r = run_qpack("report", str(demo_build), "-l", "demo", "-o", "-", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.lstrip().startswith("<!DOCTYPE html>") and r.stdout.rstrip().endswith("</html>")
    assert not (tmp_path / "-").exists()
    assert ", 1 file</title>" in r.stdout and ", 1 files<" not in r.stdout  # demo-ui-curses: one .so
    both = run_qpack("report", str(demo_build), "-l", "demo", "-o", "-", "--json", cwd=tmp_path)
    assert both.returncode == 2 and both.stderr.startswith("error: -o -: the page goes to stdout")
