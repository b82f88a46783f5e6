"""`qpack demo`: the whole story on the bundled demo program, in one command.

Build the demo with the system C compiler, plan it with the `demo` layout, split it into wheels,
install the core plus the chosen modules into a temporary prefix with the installer library,
run the installed program and show which modules its loader found. Output goes through the
`Out` the command line hands in (`qpack.console`); everything else is the library.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from qpack.console import PLAN_COLUMNS, plan_rows
from qpack.demo.builder import MODULES, DemoBuildError, build_demo
from qpack.errors import QpackError
from qpack.install import install_wheels, read_wheel, select
from qpack.layout import load_layout
from qpack.plan import plan_build
from qpack.writers.wheel import write_wheels

DEMO_VERSION = "1.0"
_RUN_TIMEOUT_S = 60


class DemoError(QpackError):
    """The demo cannot be built, installed or run."""


class _Out(Protocol):
    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None: ...
    def line(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...


def parse_modules(text: str) -> list[str]:
    """`ui-gtk,block-curl` -> ids, checked against the demo's modules (types are extras too)."""
    ids = {m.id for m in MODULES}
    types = {m.type for m in MODULES}
    wanted = [w.strip() for w in text.split(",") if w.strip()]
    bad = [w for w in wanted if w not in ids | types | {"all"}]
    if bad:
        raise DemoError(
            f"unknown demo module {', '.join(bad)} (modules: {', '.join(m.id for m in MODULES)}; "
            f"or a type: {', '.join(sorted(types))}, or all)"
        )
    return wanted


def expected_modules(wanted: list[str]) -> set[str]:
    """The modules the loader should load: the chosen ones and their dependencies."""
    by_id = {m.id: m for m in MODULES}
    todo = [m.id for m in MODULES if m.id in wanted or m.type in wanted or "all" in wanted]
    found: set[str] = set()
    while todo:
        mid = todo.pop()
        if mid not in found:
            found.add(mid)
            todo.extend(by_id[mid].needs)
    return found


@contextlib.contextmanager
def _workdir(keep: str | None) -> Iterator[Path]:
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="qpack-demo-") as tmp:
            yield Path(tmp)
        return
    path = Path(keep)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise DemoError(f"{path}: --keep needs an empty or absent directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DemoError(f"{path}: cannot create it: {e.strerror}") from None
    yield path


def run_demo(args: argparse.Namespace, out: _Out) -> int:
    wanted = parse_modules(args.modules)
    with _workdir(args.keep) as work:
        build = work / "build"
        try:
            build_demo(build)
        except DemoBuildError as e:
            first = str(e).splitlines()[0]
            raise DemoError(f"cannot build the demo: {first}") from e

        layout = load_layout("demo")
        plan = plan_build(build, layout)
        out.table(f"Plan for the demo build (layout {layout.name})", PLAN_COLUMNS, plan_rows(plan))
        for w in plan.warnings:
            out.warn(w)

        dist = work / "dist"
        report = write_wheels(plan, dist, version=DEMO_VERSION)
        for note in report.notes:
            out.warn(note)
        wheels = select(dist, wanted)
        installed = install_wheels(wheels, work / "prefix")
        out.table(
            f"Installed into {work / 'prefix'} with the installer library",
            ("wheel", "version"),
            [(str(i.name), str(i.version)) for i in installed],
        )
        names = {read_wheel(w).name for w in wheels}
        out.line(f"{len(report.wheels)} wheels written, {len(names)} installed: {', '.join(sorted(names))}")

        demo = work / "prefix" / layout.loader.bindir / "demo"
        env = {k: v for k, v in os.environ.items() if k != "DEMO_MODULE_DIR"}
        try:
            r = subprocess.run(
                [str(demo)], capture_output=True, text=True, env=env, timeout=_RUN_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise DemoError(f"cannot run {demo}: {e}") from None
        if r.returncode != 0:
            first = (r.stderr.strip().splitlines() or ["no output"])[0]
            raise DemoError(f"{demo} exited with status {r.returncode}: {first}")
        loaded = []
        for line in r.stdout.splitlines():
            if line.startswith("loaded "):
                _, mid, _, path = line.split(" ", 3)
                loaded.append((mid, path))
        for line in r.stderr.splitlines():
            out.warn(line)
        out.table(f"Modules {demo} loaded", ("module", "from"), loaded)
        expected = expected_modules(wanted)
        got = {m for m, _ in loaded}
        if got != expected:
            raise DemoError(
                f"the demo loaded {', '.join(sorted(got)) or 'no module'}, "
                f"expected {', '.join(sorted(expected))}"
            )
        out.line(f"loaded exactly {', '.join(sorted(got))}: the chosen modules and their dependencies")
        if args.keep:
            out.line(f"kept the build, wheels and prefix in {work}")
    return 0
