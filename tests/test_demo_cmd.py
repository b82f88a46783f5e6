"""`qpack demo`, run as a user runs it: real compiler, real wheels, real installer, real program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import have_cc, run_qpack

needs_cc = pytest.mark.skipif(not have_cc(), reason="no C compiler (cc/gcc): the demo build needs one")


def loaded_lines(stdout: str) -> dict[str, str]:
    rows = [ln.split("\t") for ln in stdout.splitlines()]
    return {r[0]: r[1] for r in rows if len(r) == 2 and r[1].endswith(".so")}


@needs_cc
def test_demo_default_modules(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    r = run_qpack("demo", "--keep", str(keep))
    assert r.returncode == 0, r.stderr
    loaded = loaded_lines(r.stdout)
    assert set(loaded) == {"ui-gtk", "ui-opengl", "block-curl"}
    assert loaded["block-curl"] == f"{keep.resolve()}/prefix/lib/demo/block/curl.so"
    assert "loaded exactly block-curl, ui-gtk, ui-opengl" in r.stdout
    assert "demo-core\tcore\t6" in r.stdout  # the plan table
    # --keep kept the three stages; only the chosen wheels' files are in the prefix.
    assert len(list((keep / "dist").glob("*.whl"))) == 9
    assert (keep / "build/usr/bin/demo").is_file()
    assert sorted(p.name for p in (keep / "prefix/lib/demo/ui").iterdir()) == ["gtk.so", "opengl.so"]
    assert not (keep / "prefix/lib/demo/block/nfs.so").exists()


@needs_cc
def test_demo_by_type() -> None:
    r = run_qpack("demo", "--modules", "audio,ui-curses")
    assert r.returncode == 0, r.stderr
    assert set(loaded_lines(r.stdout)) == {"audio-alsa", "audio-pa", "ui-curses"}


def test_unknown_module_is_one_error_line() -> None:
    r = run_qpack("demo", "--modules", "ui-gtk,ui-nope")
    assert r.returncode == 2
    assert r.stderr.startswith("error: unknown demo module ui-nope (modules: ui-curses, ")
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_compiler_is_one_error_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path / "empty")}
    env.pop("CC", None)
    r = subprocess.run(
        [sys.executable, "-m", "qpack", "demo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr == "error: cannot build the demo: no C compiler found: tried cc, gcc; install gcc\n"


def test_keep_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("x\n")
    r = run_qpack("demo", "--keep", str(tmp_path))
    assert r.returncode == 2
    assert r.stderr == f"error: {tmp_path}: --keep needs an empty or absent directory\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
