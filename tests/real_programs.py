"""What the real programs' tests (tests/test_freeradius.py, tests/test_dovecot.py) share: the
build of one Debian source (skipping, with the reason, where it cannot be had) and qpack's tree
split of it, through the command line as a packager runs it."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import debian_source as ds
from .conftest import cache_dir, run_qpack


@dataclass(frozen=True)
class Split:
    out: Path
    seconds: float

    def manifest(self) -> dict[str, dict]:
        return {p["name"]: p for p in json.loads((self.out / "manifest.json").read_text())["packages"]}


def source_build(
    source: str, version_prefix: str, layout: str, tmp_path_factory: pytest.TempPathFactory
) -> ds.Build:
    """Every binary package of `source` extracted into one tree; skips unless apt has them, at a
    version starting with `version_prefix` (the one `layout` describes)."""
    try:
        debs = ds.fetch(source, cache_dir() / "debian-source" / source)
    except ds.Unavailable as e:
        pytest.skip(f"Debian's {source} packages: {e}")
    except subprocess.TimeoutExpired as e:
        pytest.skip(f"Debian's {source} packages: {e.cmd[0]} timed out after {e.timeout} s")
    version = ds.source_version(debs)
    if not version.startswith(version_prefix):
        pytest.skip(
            f"this machine's {source} is {version}, not {version_prefix}x: {layout} describes another"
        )
    root = ds.extract(debs, tmp_path_factory.mktemp(source) / "build")
    return ds.Build(source, debs, root, version)


def split_tree(build: ds.Build, layout: str, out: Path, *extra: str) -> Split:
    t0 = time.monotonic()
    r = run_qpack(
        "split", str(build.root), "-l", layout, "--version", build.version,
        "--format", "tree", "-o", str(out), *extra,
    )  # fmt: skip
    seconds = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    return Split(out, seconds)
