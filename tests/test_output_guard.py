"""One output check for both writers, on fully resolved paths: an output that is the build,
holds it or lies in it is refused before anything is written, however it is reached (through
a symlinked directory, `..`, or a build given through a symlink), `--force` or not."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from qpack.cli import main

from .conftest import copy_build


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every path under root: (mode, sha256 of a file's bytes or a link's target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                digest = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                digest = "dir"
            out[str(p.relative_to(root))] = (st.st_mode, digest)
    return out


# (how the output is named, how the build is named), from the temporary directory `t` that holds
# `t/work/build` and a few symlinks made by `links` below.
CASES: dict[str, Callable[[Path], tuple[Path, Path]]] = {
    "output is the build's parent through a symlinked directory": lambda t: (
        t / "to-usr" / ".." / "..",
        t / "work" / "build",
    ),
    "build given through a symlink, output is its real parent": lambda t: (
        t / "work",
        t / "build-link",
    ),
    "output is BUILD/..": lambda t: (t / "work" / "build" / "..", t / "work" / "build"),
    "output is the build itself, through a link": lambda t: (t / "build-link", t / "work" / "build"),
    "output inside the build": lambda t: (t / "work" / "build" / "usr" / "out", t / "work" / "build"),
}


@pytest.mark.parametrize("fmt", ["wheel", "tree"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_output_reaching_the_build_is_refused(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, case: str
) -> None:
    build = copy_build(demo_build, tmp_path / "work")
    (tmp_path / "to-usr").symlink_to(build / "usr")
    (tmp_path / "build-link").symlink_to(build)
    before = snapshot(tmp_path)
    out, build_arg = CASES[case](tmp_path)
    status = main(
        [
            "split",
            str(build_arg),
            "-l",
            "demo",
            "--version",
            "1.0",
            "--format",
            fmt,
            "-o",
            str(out),
            "--force",
        ]
    )
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {out}: the "), err
    assert "inside the output directory" in err or "inside the build" in err, err
    assert snapshot(tmp_path) == before, "the split changed something outside its output"
