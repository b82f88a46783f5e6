"""The bad-input corpus: every case of tests/corpus_cases.py, one line each, through the real
command line. Each must end with exactly the expected `error:` line and exit status 2 (or exit
0 with the expected warning, where the input is usable), never a traceback, and must leave
everything but its output as it was: the build, the layout and the wheels, byte for byte and
mode for mode; a refused run writes no output at all."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qpack.layout import SHIPPED_DIR

from .conftest import copy_build
from .corpus_cases import CASES
from .corpus_steps import Case, Ctx, held
from .reliability import error_lines, run_forked, snapshot

AREAS = ("builds", "layouts", "versions", "outputs", "environment", "wheels")


def test_the_corpus_covers_every_area_with_60_cases() -> None:
    assert len(CASES) >= 60
    assert {c.area for c in CASES} == set(AREAS)
    assert len({c.id for c in CASES}) == len(CASES), "two cases with one name"


@pytest.fixture(scope="module")
def demo_dist(demo_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("corpus") / "dist"
    r = run_forked(["split", str(demo_build), "-l", "demo", "--version", "1.0", "-o", str(dist)])
    assert r.status == 0, r.stderr
    return dist


def unprivileged(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """The command as an ordinary user meets permissions: as root, without the capabilities
    that bypass them (the interpreter stays readable, unlike switching to `nobody`)."""
    cmd = [sys.executable, "-m", "qpack", *argv]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("root without setpriv: cannot drop the capabilities that bypass permissions")
        cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", *cmd]
    r = subprocess.run(
        cmd, capture_output=True, text=True, check=False, env={**os.environ, **env}, timeout=300
    )
    return r.returncode, r.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, demo_build: Path, demo_dist: Path, tmp_path: Path) -> None:
    ctx = Ctx(
        tmp=tmp_path,
        build=copy_build(demo_build, tmp_path),
        layout=tmp_path / "layout.toml",
        out=tmp_path / "out",
        dist=tmp_path / "dist",
        target=tmp_path / "target",
    )
    shutil.copy(SHIPPED_DIR / "demo.toml", ctx.layout)
    shutil.copytree(demo_dist, ctx.dist)
    results = [step(ctx) for step in case.steps]
    argv = [ctx.fill(a) for a in shlex.split(case.command)]
    existed = os.path.lexists(ctx.out)
    before = snapshot(tmp_path)
    with held(results):
        if case.unprivileged:
            status, stderr = unprivileged(argv, dict(case.env))
        else:
            r = run_forked(argv, env=case.env)
            status, stderr = r.status, r.stderr
    expected = case.expect(ctx) if callable(case.expect) else ctx.fill(case.expect)
    assert status == case.status, stderr
    if case.status == 2:
        assert error_lines(stderr) == expected.split("\n")
    else:
        assert error_lines(stderr) == []
        if expected:
            assert expected in stderr.splitlines(), stderr
        assert "another filesystem" not in stderr, stderr  # the output is beside the build
    after = snapshot(tmp_path)
    mine = ("out", "target") if case.status == 0 else ()
    changed = sorted(
        p for p in before.keys() | after.keys()
        if before.get(p) != after.get(p) and p.split("/")[0] not in mine
    )  # fmt: skip
    assert changed == [], "the run changed something besides its output"
    if case.status == 2 and not existed:
        assert not os.path.lexists(ctx.out), "a refused split wrote an output"


def test_10000_rules_on_a_small_build_plan_in_seconds(demo_build: Path, tmp_path: Path) -> None:
    """The most rules a layout may hold (README "Limits"), as [[package]] groups, on the demo's
    13 files: 28 s before the layout and plan stopped being quadratic in the rules, about 3-7 s
    now on this machine; the bound leaves room for a loaded CI machine."""
    layout = tmp_path / "many.toml"
    group = '[[package]]\nname = "demo-g{i}"\nkind = "group"\nfiles = ["{{prefix}}/g{i}/*"]\n'
    groups = "".join(group.format(i=i) for i in range(9_999))
    layout.write_text((SHIPPED_DIR / "demo.toml").read_text() + groups)
    start = time.monotonic()
    r = run_forked(["plan", str(demo_build), "-l", str(layout), "-q"])
    seconds = time.monotonic() - start
    assert r.status == 0, r.stderr
    assert seconds < 60, f"10,000 rules took {seconds:.1f} s"


def test_nothing_from_a_build_or_a_prefix_is_run_or_loaded(demo_build: Path, tmp_path: Path) -> None:
    """A build whose programs, library and modules leave a mark when run or loaded, and a
    prefix whose python would leave one: scan, plan, both splits, install, list and check read
    them all, and no mark appears (SECURITY.md)."""
    if not shutil.which("gcc"):
        pytest.skip("no gcc: cannot build a library with a constructor")
    marker = tmp_path / "ran"
    build = copy_build(demo_build, tmp_path)
    # The stamp the build's executable holds: the installer takes the module as this build's.
    stamp = re.search(rb"demo_stamp_[0-9a-f]+", (build / "usr/bin/demo").read_bytes())
    assert stamp is not None
    src = tmp_path / "evil.c"
    src.write_text(
        "#include <fcntl.h>\n"
        "__attribute__((constructor)) static void run(void)\n"
        f'{{ open("{marker}", O_CREAT | O_WRONLY, 0644); }}\n'
        f"int {stamp.group().decode()};\n"
    )
    for so in ("usr/lib/demo/ui/evil.so", "usr/lib/demo/block/curl.so"):
        (build / so).unlink(missing_ok=True)
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(build / so), str(src)], check=True)
    for program in ("usr/bin/demo-run", "usr/bin/demo-registry"):
        (build / program).unlink()
        (build / program).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (build / program).chmod(0o755)
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin/python").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (prefix / "bin/python").chmod(0o755)
    runs = [
        ["scan", str(build), "-l", "demo"],
        ["plan", str(build), "-l", "demo"],
        ["split", str(build), "-l", "demo", "--version", "1", "--format", "tree", "-o", str(tmp_path / "t")],
        ["split", str(build), "-l", "demo", "--version", "1", "-o", str(tmp_path / "dist")],
        ["install", str(tmp_path / "dist"), "-l", "demo", "--prefix", str(prefix), "block-curl", "ui-curses"],
        ["list", "--prefix", str(prefix)],
        ["check", str(prefix), "-l", "demo"],
        ["check", str(build / "usr"), "-l", "demo"],
    ]
    for argv in runs:
        r = run_forked(argv)
        assert r.status in (0, 1), f"{argv[0]}: {r.stderr}"
    assert (prefix / "lib/demo/block/curl.so").is_file()
    assert not marker.exists(), "qpack ran or loaded code from the build or the prefix"
