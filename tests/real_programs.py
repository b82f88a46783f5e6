"""What the real programs' tests (tests/test_freeradius.py, tests/test_dovecot.py) share: the
build of one Debian source (skipping, with the reason, where it cannot be had) and qpack's tree
split of it, through the command line as a packager runs it."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
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


def assert_external_depends(
    build: ds.Build, split: Split, packages: list[str], not_libraries: set[str]
) -> None:
    """The layout's `depends`: Debian's Depends on packages outside the source that ship no
    library, as Debian writes them."""
    manifest = split.manifest()
    for pkg in packages:
        assert manifest[pkg]["depends"] == ds.external_depends(build, pkg, not_libraries), pkg


def split_with_library_depends(
    build: ds.Build, layout: str, out: Path, packages: Sequence[str], not_libraries: set[str]
) -> dict[str, dict]:
    """A split with `--resolve-libs dpkg` whose library needs are Debian's library Depends, by
    name and with versions (as dpkg-shlibdeps wrote them from the libraries' symbols files);
    skips where dpkg cannot name a library's package (not installed here). Its manifest."""
    wanted = ds.all_library_depends(build, not_libraries)
    missing = sorted(p for p, ok in ds.installed_status(sorted(wanted)).items() if not ok)
    if missing:
        pytest.skip(
            "dpkg cannot name the package of a library not installed here: "
            f"apt-get install {' '.join(missing)}"
        )
    manifest = split_tree(build, layout, out, "--resolve-libs", "dpkg").manifest()
    for pkg in packages:
        assert manifest[pkg]["unresolved_libraries"] == [], pkg
        ours = set(filter(None, manifest[pkg]["debian_depends"].split(", ")))
        assert ours == ds.library_relations(build, pkg, not_libraries), pkg
        assert manifest[pkg]["library_packages"] == ds.library_depends(build, pkg, not_libraries), pkg
    return manifest
