"""`qpack preserve` on the demo: the installed modules copied into the loader's versioned fallback
directory inside a staging root, found there by `qpack check` once an upgrade replaced the
prefix's files with another build's, and `--remove` taking away exactly what was added."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qpack.check import check
from qpack.cli import main
from qpack.demo.builder import build_demo
from qpack.layout import load_layout
from qpack.loader import canon_pkgversion
from qpack.preserve import PreserveError, fallback_dir, preserve

from .conftest import have_cc
from .test_install import demo_wheels, do_install, snapshot


@pytest.fixture(scope="session")
def demo_dist(demo_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_wheels(demo_build, tmp_path_factory)


LOADER = load_layout("demo").loader
NO_FALLBACK = """\
[layout]
name = "demo-no-fallback"
description = "the demo's loader without its /var/run directory"
extends = "demo"

[loader]
search = [{ env = "DEMO_MODULE_DIR" }, { relocated = "lib/demo" }]
"""


@pytest.fixture
def staged(demo_dist: Path, tmp_path: Path) -> Path:
    """A staging root with the demo's core, ui-gtk (and ui-opengl) and block-curl in /usr, and
    /var/run a link to /run as on Debian."""
    root = tmp_path / "root"
    do_install(demo_dist, Path("/usr"), "ui-gtk", "block-curl", root=root)
    (root / "run/demo").mkdir(parents=True)
    (root / "run/demo/unrelated").write_text("not ours")
    (root / "var").mkdir()
    (root / "var/run").symlink_to("/run")  # absolute: followed inside the root, not on the host
    return root


def test_canonical_directory_as_qemu_names_it() -> None:
    qemu = load_layout("qemu").loader
    assert (
        fallback_dir(qemu, "Debian 1:7.2+dfsg-7+deb12u18+b3")
        == "/var/run/qemu/Debian_1_7.2+dfsg-7+deb12u18+b3"
    )
    assert fallback_dir(qemu, "a/b ~x") == "/var/run/qemu/a_b_~x"
    assert canon_pkgversion("v1.0:~+-._") == "v1.0_~+-._"


def test_preserve_then_remove_exactly_what_was_added(
    staged: Path,
    demo_dist: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = snapshot(staged)
    args = ["preserve", "-l", "demo", "--prefix", "/usr", "--root", str(staged), "--pkgversion", "1"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["directory"] == "/var/run/demo/1"
    assert report["added"] == [
        "/var/run/demo/1/block/curl.so",
        "/var/run/demo/1/ui/gtk.so",
        "/var/run/demo/1/ui/opengl.so",
    ]
    for rel in ("block/curl.so", "ui/gtk.so", "ui/opengl.so"):
        assert (staged / "run/demo/1" / rel).read_bytes() == (staged / "usr/lib/demo" / rel).read_bytes()
    assert not (staged / "var/run").is_dir() or (staged / "var/run").is_symlink()
    # Again: nothing new to copy, nothing changes.
    added = snapshot(staged)
    assert main(args) == 0
    assert "preserved 0 module file(s)" in capsys.readouterr().out
    assert snapshot(staged) == added
    # A module installed meanwhile is added to what preserve owns.
    assert main(["install", str(demo_dist), "-l", "demo", "--prefix", "/usr", "--root", str(staged),
                 "ui-curses"]) == 0  # fmt: skip
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "/var/run/demo/1/ui/curses.so"
    shutil.rmtree(staged / "usr/lib/demo/ui")  # the removal does not depend on what is installed now
    assert main([*args, "--remove"]) == 0
    after = snapshot(staged)
    assert {k: v for k, v in after.items() if not k.startswith("usr/")} == {
        k: v for k, v in before.items() if not k.startswith("usr/")
    }
    assert main([*args, "--remove"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_a_different_file_in_the_way_is_refused_before_anything_is_written(staged: Path) -> None:
    (staged / "run/demo/1/ui").mkdir(parents=True)
    (staged / "run/demo/1/ui/opengl.so").write_bytes(b"someone else's")
    before = snapshot(staged)
    with pytest.raises(PreserveError, match=r"run/demo/1/ui/opengl.so: already there with other contents"):
        preserve("/usr", loader=LOADER, pkgversion="1", root=staged)
    assert snapshot(staged) == before


def test_an_identical_file_already_there_is_not_ours_to_remove(staged: Path) -> None:
    (staged / "run/demo/1/ui").mkdir(parents=True)
    shutil.copy2(staged / "usr/lib/demo/ui/gtk.so", staged / "run/demo/1/ui/gtk.so")
    before = snapshot(staged)
    report = preserve("/usr", loader=LOADER, pkgversion="1", root=staged)
    assert report.present == ("/var/run/demo/1/ui/gtk.so",)
    assert len(report.added) == 2
    preserve("/usr", loader=LOADER, pkgversion="1", root=staged, remove=True)
    assert snapshot(staged) == before


def test_a_loader_without_a_fallback_directory_says_so(
    staged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = tmp_path / "no-fallback.toml"
    layout.write_text(NO_FALLBACK)
    before = snapshot(staged)
    args = ["preserve", "-l", str(layout), "--prefix", "/usr", "--root", str(staged), "--pkgversion", "1"]
    assert main(args) == 0
    assert capsys.readouterr().out == (
        "layout demo-no-fallback: its loader has no versioned fallback directory ({pkgversion}): "
        "nothing to preserve\n"
    )
    assert snapshot(staged) == before


@pytest.fixture(scope="session")
def newer_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the demo build needs one")
    return build_demo(tmp_path_factory.mktemp("newer") / "build", build_tag="2")


def test_check_finds_the_preserved_modules_after_an_upgrade(staged: Path, newer_build: Path) -> None:
    old_exe = (staged / "usr/bin/demo").read_bytes()
    preserve("/usr", loader=LOADER, pkgversion="1", root=staged)
    # The upgrade: every file of the core and of the modules comes from the newer build, which no
    # longer ships ui-gtk and ui-opengl.
    for rel in ("bin/demo", "bin/demo-registry", "lib/libdemo-util.so.1", "lib/demo/block/curl.so"):
        shutil.copy2(newer_build / "usr" / rel, staged / "usr" / rel)
    for rel in ("lib/demo/ui/gtk.so", "lib/demo/ui/opengl.so"):
        (staged / "usr" / rel).unlink()

    def verdicts() -> dict[str, tuple[str | None, bool, set[str]]]:
        report = check("/usr", LOADER, root=staged, pkgversion="1")
        return {m.module: (m.file, m.loads, {p.kind for p in m.problems}) for m in report.modules}

    # The new program (asked about the old build's directory) finds the copies there: of another build.
    assert verdicts() == {
        "block-curl": ("/usr/lib/demo/block/curl.so", True, set()),
        "ui-gtk": ("/var/run/demo/1/ui/gtk.so", False, {"other-build", "dependency"}),
        "ui-opengl": ("/var/run/demo/1/ui/opengl.so", False, {"other-build"}),
    }
    # The program still running is the old build (its image is the old executable): it loads
    # ui-gtk and ui-opengl from the preserved copies; the upgraded block-curl, found first, it
    # refuses, and check names the good copy that the first-found rule hides.
    (staged / "usr/bin/demo").write_bytes(old_exe)
    got = verdicts()
    assert got["ui-gtk"] == ("/var/run/demo/1/ui/gtk.so", True, set())
    assert got["ui-opengl"] == ("/var/run/demo/1/ui/opengl.so", True, set())
    assert got["block-curl"] == ("/usr/lib/demo/block/curl.so", False, {"other-build", "shadowed"})
    report = check("/usr", LOADER, root=staged, pkgversion="1")
    (curl,) = [m for m in report.modules if m.module == "block-curl"]
    assert curl.copies == ("/var/run/demo/1/block/curl.so",)
