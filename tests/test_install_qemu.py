"""qpack install, uninstall, list and preserve with Debian's real QEMU 7.2 build: the emulator, run
from a venv, lists exactly the displays whose modules are installed (`-display help`); modules
preserved before an upgrade are found by `qpack check` in /var/run/qemu/<canonical pkgversion>."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qpack.check import check
from qpack.cli import main
from qpack.layout import load_layout
from qpack.plan import plan_build
from qpack.writers.wheel import write_wheels

from .conftest import QemuBuild
from .test_install import bare_venv, snapshot
from .test_wheels_qemu import EMULATOR, displays, missing_libraries

pytestmark = [pytest.mark.qemu, pytest.mark.network]

MODDIR = "usr/lib/x86_64-linux-gnu/qemu"
NEEDED = [EMULATOR, *(f"{MODDIR}/{m}.so" for m in ("ui-curses", "ui-gtk", "ui-sdl", "ui-opengl"))]


@pytest.fixture(scope="module")
def wheels(qemu_build: QemuBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = missing_libraries([qemu_build.root / p for p in NEEDED])
    if missing:
        pytest.skip(
            f"the host lacks QEMU's runtime libraries ({', '.join(missing[:5])}); apt-get install "
            "--no-install-recommends qemu-system-x86 qemu-system-gui brings them"
        )
    out = tmp_path_factory.mktemp("qemu-install") / "dist"
    plan = plan_build(qemu_build.root, load_layout("qemu"))
    write_wheels(plan, out, version=qemu_build.version, outside_prefix="drop", compression_level=1)
    return out


def run(capsys: pytest.CaptureFixture[str], *args: str, status: int = 0) -> dict[str, object]:
    capsys.readouterr()
    assert main([*args, "--json"]) == status, capsys.readouterr().err
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def module_files(prefix: Path, name: str) -> list[Path]:
    """Where a module file is in the prefix (the wheels decide: module dir or qemu-bundle)."""
    return sorted(p for p in prefix.rglob(f"{name}.so") if "/qemu/" in p.as_posix())


def test_install_modules_into_a_venv_then_uninstall_them(
    wheels: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = tmp_path / "venv"
    python = bare_venv(venv)
    install = ("install", str(wheels), "-l", "qemu", "--prefix", str(venv))

    first = run(capsys, *install, "ui-curses")
    assert [i["name"] for i in first["installed"]] == ["qemu-core", "qemu-ui-curses"]  # type: ignore[index]
    assert [(c["module"], c["loads"]) for c in first["check"]] == [("ui-curses", True)]  # type: ignore[index]
    shown = displays(venv)
    assert "curses" in shown and "gtk" not in shown

    # The module accel-tcg-x86_64 as typed, or as its PEP 685 extra: one and the same.
    second = run(capsys, *install, "ui-gtk", "accel-tcg-x86_64", "ui-sdl")
    assert {i["name"]: i["requested"] for i in second["installed"]} == {  # type: ignore[union-attr]
        "qemu-accel-tcg-x86-64": True,
        "qemu-ui-gtk": True,
        "qemu-ui-opengl": False,
        "qemu-ui-sdl": True,
    }
    assert {c["module"]: c["loads"] for c in second["check"]} == {  # type: ignore[union-attr]
        "accel-tcg-x86_64": True,
        "ui-gtk": True,
        "ui-opengl": True,
        "ui-sdl": True,
    }
    assert {"curses", "gtk", "sdl"} <= set(displays(venv))
    again = run(capsys, *install, "accel-tcg-x86-64")
    assert again["installed"] == []

    # Policy: a dependency goes with the last module that needs it; ui-sdl still needs ui-opengl.
    gone = run(capsys, "uninstall", "--prefix", str(venv), "qemu-ui-gtk")
    assert [(r["name"], r["why"]) for r in gone["removed"]] == [("qemu-ui-gtk", "named")]  # type: ignore[union-attr]
    assert any(k.startswith("qemu-ui-opengl ") and "still needed by qemu-ui-sdl" in k for k in gone["kept"])  # type: ignore[union-attr]
    shown = displays(venv)
    assert "gtk" not in shown and {"curses", "sdl"} <= set(shown)
    assert module_files(venv, "ui-opengl")
    # By module id (the layout recorded at install time): ui-sdl goes, and ui-opengl with it.
    gone = run(capsys, "uninstall", "--prefix", str(venv), "ui-sdl")
    assert [(r["name"], r["why"]) for r in gone["removed"]] == [  # type: ignore[union-attr]
        ("qemu-ui-sdl", "named"),
        ("qemu-ui-opengl", "unneeded"),
    ]
    assert not module_files(venv, "ui-opengl")
    assert "sdl" not in displays(venv)

    # pip uninstalls a module qpack installed.
    r = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check",
         "uninstall", "-y", "qemu-ui-curses"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "curses" not in displays(venv)
    assert not module_files(venv, "ui-curses")
    listed = run(capsys, "list", "--prefix", str(venv))
    assert [(d["name"], d["kind"], d["loads"]) for d in listed["distributions"]] == [  # type: ignore[union-attr]
        ("qemu-core", "core", None),
        ("qemu-accel-tcg-x86-64", "module", True),
    ]


def _restamp(path: Path) -> None:
    """Another build of the same version: the stamp name changed in the string table."""
    data = path.read_bytes()
    stamps = set(re.findall(rb"qemu_stamp_[0-9a-f]{40}", data))
    assert len(stamps) == 1, path
    (old,) = stamps
    new = old[:-1] + (b"0" if old[-1:] != b"0" else b"1")
    path.write_bytes(data.replace(old + b"\0", new + b"\0"))


def test_preserved_modules_are_found_after_an_upgrade(
    qemu_build: QemuBuild, wheels: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    pkgversion = f"Debian {qemu_build.version}"  # QEMU's PKGVERSION in Debian's build
    run(
        capsys,
        "install",
        str(wheels),
        "-l",
        "qemu",
        "--root",
        str(root),
        "--prefix",
        "/usr",
        "ui-curses",
        "ui-gtk",
    )
    before = {k: v for k, v in snapshot(root).items() if not k.startswith("usr")}
    args = ("preserve", "-l", "qemu", "--root", str(root), "--prefix", "/usr", "--pkgversion", pkgversion)
    report = run(capsys, *args)
    fallback = "/var/run/qemu/Debian_1_7.2+dfsg-7+deb12u18+b3"
    assert report["directory"] == fallback
    assert report["added"] == [
        f"{fallback}/ui-curses.so",
        f"{fallback}/ui-gtk.so",
        f"{fallback}/ui-opengl.so",
    ]

    # The upgrade: the core's files and the modules come from a newer build (another stamp);
    # that build no longer ships ui-gtk and ui-opengl.
    exes = sorted(
        p
        for p in (root / "usr/bin").iterdir()
        if p.is_file() and re.search(rb"qemu_stamp_[0-9a-f]{40}", p.read_bytes())
    )
    old_images = {p: p.read_bytes() for p in exes}
    for p in exes:
        _restamp(p)
    (curses,) = module_files(root / "usr", "ui-curses")
    _restamp(curses)
    for name in ("ui-gtk", "ui-opengl"):
        for p in module_files(root / "usr", name):
            p.unlink()
    loader = load_layout("qemu").loader

    def verdicts() -> dict[str, tuple[str | None, bool, set[str], tuple[str, ...]]]:
        report = check("/usr", loader, root=root, pkgversion=pkgversion)
        return {
            m.module: (m.file, m.loads, {p.kind for p in m.problems}, m.copies)
            for m in report.modules
            if "/usr/bin/qemu-system-x86_64" in m.executables
        }

    # The new emulator, asked about the old build's directory, finds the copies there.
    new = verdicts()
    assert new["ui-gtk"][:3] == (f"{fallback}/ui-gtk.so", False, {"other-build", "dependency"})
    assert new["ui-opengl"][:3] == (f"{fallback}/ui-opengl.so", False, {"other-build"})
    assert new["ui-curses"][1] is True
    # The emulator still running is the old build: it loads ui-gtk and ui-opengl from the copies;
    # the upgraded ui-curses, found first, it refuses, and check names the preserved good copy.
    for p, image in old_images.items():
        p.write_bytes(image)
    old = verdicts()
    assert old["ui-gtk"][:3] == (f"{fallback}/ui-gtk.so", True, set())
    assert old["ui-opengl"][:3] == (f"{fallback}/ui-opengl.so", True, set())
    assert old["ui-curses"][1:] == (False, {"other-build", "shadowed"}, (f"{fallback}/ui-curses.so",))

    assert run(capsys, *args, "--remove")["removed"]
    assert {k: v for k, v in snapshot(root).items() if not k.startswith("usr")} == before
