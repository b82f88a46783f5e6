"""Limits stated in the README and enforced with one clear line each, through the real CLI:
layout file size and kind, number of rules, dependency depth, version length, SOURCE_DATE_EPOCH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qpack.layout import MAX_DEPENDENCY_CHAIN, MAX_LAYOUT_BYTES, MAX_RULES, SHIPPED_DIR
from qpack.versions import MAX_VERSION_LENGTH

from .conftest import run_qpack

DEMO = (SHIPPED_DIR / "demo.toml").read_text()


def one_error(r: object, expected: str) -> None:
    assert r.returncode == 2, r.stderr  # type: ignore[attr-defined]
    lines = r.stderr.splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr  # type: ignore[attr-defined]
    assert expected in lines[0], lines[0]


def test_layout_that_is_a_fifo_or_a_device_is_refused_without_blocking(
    demo_build: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "layout.toml"
    os.mkfifo(fifo)
    one_error(run_qpack("plan", str(demo_build), "-l", str(fifo)), f"{fifo}: not a regular file")
    one_error(run_qpack("plan", str(demo_build), "-l", "/dev/zero"), "/dev/zero: not a regular file")


def test_layout_size_rules_and_dependency_depth(demo_build: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text(DEMO + "#" * MAX_LAYOUT_BYTES)
    one_error(run_qpack("plan", str(demo_build), "-l", str(big)), f"the limit is {MAX_LAYOUT_BYTES}")
    many = tmp_path / "many.toml"
    rules = "".join(f'[[exclude]]\nreason = "r"\nfiles = ["x{i}"]\n' for i in range(MAX_RULES + 1))
    many.write_text(DEMO + rules)
    one_error(run_qpack("plan", str(demo_build), "-l", str(many)), f"the limit is {MAX_RULES}")
    deep = tmp_path / "deep.toml"
    chain = "".join(f'"ui-m{i}" = ["ui-m{i + 1}"]\n' for i in range(MAX_DEPENDENCY_CHAIN + 5))
    text = DEMO.replace('"audio-pa" = ["audio-alsa"]', '"audio-pa" = ["audio-alsa"]\n' + chain)
    deep.write_text(text.replace("known = [", "# known = ["))
    one_error(
        run_qpack("plan", str(demo_build), "-l", str(deep)),
        f"modules.dependencies: a dependency chain of {MAX_DEPENDENCY_CHAIN + 6} modules",
    )


@pytest.mark.parametrize(
    ("version", "env", "expected"),
    [
        ("1" * (MAX_VERSION_LENGTH + 1), {}, f"the limit is {MAX_VERSION_LENGTH}"),
        (" 1.0 ", {}, "leading or trailing white space"),
        ("1.0", {"SOURCE_DATE_EPOCH": "9" * 30}, "is after 2107"),
        ("1.0", {"SOURCE_DATE_EPOCH": "soon"}, "is not a whole number of seconds"),
        # int() takes these; the reproducible-builds definition (ASCII digits) does not
        ("1.0", {"SOURCE_DATE_EPOCH": "1_700_000_000"}, "is not a whole number of seconds"),
        ("1.0", {"SOURCE_DATE_EPOCH": "+1000"}, "is not a whole number of seconds"),
        ("1.0", {"SOURCE_DATE_EPOCH": "\uff11\uff17"}, "is not a whole number of seconds"),
    ],
)
def test_versions_and_dates(
    demo_build: Path, tmp_path: Path, version: str, env: dict[str, str], expected: str
) -> None:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        r = run_qpack(
            "split", str(demo_build), "-l", "demo", "--version", version, "-o", str(tmp_path / "out")
        )
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    one_error(r, expected)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("prefix", ["../..", "usr", "/usr/../.."])
def test_prefix_must_be_absolute_without_dotdot(demo_build: Path, prefix: str) -> None:
    one_error(
        run_qpack("plan", str(demo_build), "-l", "demo", "--prefix", prefix), f"--prefix {prefix!r}: must be"
    )
