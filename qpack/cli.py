"""The command line: parse, call the library, print. The library never prints; this module owns
all output (rich tables on a terminal, tab-separated lines when piped, JSON with --json) and
turns every QpackError into `error: ...` lines and its exit status (2; 1 for check findings).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from qpack import __version__
from qpack import layout as layout_mod
from qpack.errors import PlanError, QpackError
from qpack.inventory import Inventory, scan_for_layout
from qpack.layout import Layout
from qpack.plan import Plan, find_modules, make_plan

Handler = Callable[[argparse.Namespace, "Out"], int]


class Out:
    """Where output goes: stdout for results, stderr for warnings and progress."""

    def __init__(self) -> None:
        self.stdout = Console(soft_wrap=True, highlight=False)
        self.stderr = Console(stderr=True, soft_wrap=True, highlight=False)

    @property
    def rich(self) -> bool:
        return self.stdout.is_terminal

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if self.rich:
            t = Table(title=title, title_justify="left")
            for c in columns:
                t.add_column(c, overflow="fold")
            for r in rows:
                t.add_row(*r)
            self.stdout.print(t)
        else:
            for r in rows:
                sys.stdout.write("\t".join(r) + "\n")

    def line(self, text: str) -> None:
        sys.stdout.write(text + "\n")

    def warn(self, text: str) -> None:
        sys.stderr.write(f"warning: {text}\n")

    def json(self, data: object) -> None:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")

    @contextlib.contextmanager
    def progress(self, label: str) -> Iterator[Callable[[int, int], None] | None]:
        """A byte progress bar on a terminal; nothing when stderr is not one."""
        if not self.stderr.is_terminal:
            yield None
            return
        with Progress(
            TextColumn(label),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=self.stderr,
            transient=True,
        ) as bar:
            task = bar.add_task(label, total=None)

            def advance(n: int, total: int) -> None:
                bar.update(task, advance=n, total=total)

            yield advance


# --------------------------------------------------------------------------- shared steps


def load_inventory(args: argparse.Namespace, layout: Layout, out: Out) -> Inventory:
    with out.progress("hashing") as progress:
        return scan_for_layout(Path(args.build), layout, args.prefix, progress=progress)


def load_plan(args: argparse.Namespace, out: Out) -> Plan:
    layout = layout_mod.load(args.layout)
    inventory = load_inventory(args, layout, out)
    return make_plan(inventory, layout, prefix=args.prefix or layout.prefix, unclaimed=args.unclaimed)


PLAN_COLUMNS = ("package", "kind", "files", "modules", "requires")


def plan_rows(plan: Plan) -> list[tuple[str, ...]]:
    return [
        (p.name, p.kind, str(len(p.files)), ", ".join(p.modules), ", ".join(p.requires))
        for p in plan.packages
    ]


def _warn_all(plan: Plan, out: Out) -> None:
    for w in plan.warnings:
        out.warn(w)


# --------------------------------------------------------------------------- subcommands


def cmd_layouts(args: argparse.Namespace, out: Out) -> int:
    rows = []
    for name, path in layout_mod.shipped_layouts().items():
        try:
            desc = layout_mod.load(path).description
        except QpackError as e:
            desc = f"(invalid: {str(e).splitlines()[0]})"
        rows.append((name, desc))
    if args.json:
        out.json({"version": 1, "layouts": [{"name": n, "description": d} for n, d in rows]})
    else:
        out.table("Shipped layouts", ("layout", "description"), rows)
    return 0


def _module_label(mtype: str, name: str) -> str:
    return f"{mtype}: {name}" if mtype else name


def cmd_scan(args: argparse.Namespace, out: Out) -> int:
    layout = layout_mod.load(args.layout)
    inventory = load_inventory(args, layout, out)
    prefix = args.prefix or layout.prefix
    owner: dict[str, str] = {}
    modules = {}
    problems: list[str] = []
    try:
        plan = make_plan(inventory, layout, prefix=prefix, unclaimed=args.unclaimed)
        owner = {c.path: c.package or "(excluded)" for c in plan.claims}
        modules = {m.path: m for m in plan.modules}
        warnings = list(plan.warnings)
    except PlanError as err:
        # scan is the diagnostic view: show every file even when the split cannot be planned.
        found, warnings = find_modules(inventory, layout, prefix)
        modules = {m.path: m for m in found}
        warnings = [*inventory.warnings, *warnings]
        problems = err.problems
    if args.json:
        files = []
        for e in inventory.entries:
            m = modules.get(e.path)
            elf = e.elf
            files.append(
                {
                    "path": e.path,
                    "kind": e.kind,
                    "mode": f"{e.mode:04o}",
                    "size": e.size,
                    "sha256": e.sha256,
                    "target": e.target,
                    "package": owner.get(e.path),
                    "module": {"id": m.id, "type": m.type, "name": m.name} if m else None,
                    "elf": None
                    if elf is None
                    else {
                        "machine": elf.machine,
                        "class": elf.elf_class,
                        "type": elf.elf_type,
                        "soname": elf.soname,
                        "needed": list(elf.needed),
                        "runpath": list(elf.runpath),
                        "build_id": elf.build_id,
                        "stamp_exported": list(elf.stamps_exported),
                        "stamp_held": list(elf.stamps_held),
                    },
                    "elf_error": e.elf_error,
                }
            )
        out.json(
            {
                "version": 1,
                "layout": layout.name,
                "prefix": prefix,
                "files": files,
                "warnings": warnings,
                "problems": problems,
            }
        )
    else:
        rows = []
        for e in inventory.entries:
            if e.kind == "dir":
                continue
            m = modules.get(e.path)
            needs = ", ".join(e.elf.needed) if e.elf else (e.elf_error or "")
            if e.kind == "symlink":
                needs = f"-> {e.target}"
            rows.append((e.path, owner.get(e.path, "?"), _module_label(m.type, m.name) if m else "", needs))
        out.table(
            f"{inventory.root} (layout {layout.name}, prefix {prefix})",
            ("file", "package", "module", "ELF needs / link"),
            rows,
        )
        for w in warnings:
            out.warn(w)
        for p in problems:
            out.warn(p)
    return 0


def cmd_plan(args: argparse.Namespace, out: Out) -> int:
    plan = load_plan(args, out)
    if args.json:
        data = plan.to_json()
        if args.explain:
            data["claims"] = [{"path": c.path, "package": c.package, "rule": c.rule} for c in plan.claims]
        out.json(data)
        _warn_all(plan, out)  # also in the JSON; stderr is for the person running it
        return 0
    if args.explain:
        out.table(
            "Which rule claimed each file",
            ("file", "package", "rule"),
            [(c.path, c.package or "(excluded)", c.rule) for c in plan.claims],
        )
    else:
        out.table(
            f"Plan for {plan.inventory.root} (layout {plan.layout.name})", PLAN_COLUMNS, plan_rows(plan)
        )
        if args.files:
            for p in plan.packages:
                for f in p.files:
                    out.line(f"{p.name}\t{f}")
        if plan.excluded:
            out.table("Excluded", ("file", "reason"), [(x.path, x.reason) for x in plan.excluded])
    _warn_all(plan, out)
    return 0


def cmd_split(args: argparse.Namespace, out: Out) -> int:
    from qpack.output import check_output_dir
    from qpack.versions import to_pep440

    # Cheap refusals first: a bad version or a non-empty output fails before a long scan.
    # A version that cannot be read as PEP 440, Debian or RPM is no good for the distro lists either.
    to_pep440(args.version)
    outdir = Path(args.output)
    check_output_dir(outdir, args.force)
    plan = load_plan(args, out)
    _warn_all(plan, out)
    if args.format == "wheel":
        from qpack.writers.wheel import write_wheels

        with out.progress("writing wheels") as progress:
            wheels = write_wheels(
                plan,
                outdir,
                version=args.version,
                force=args.force,
                outside_prefix="drop" if args.drop_outside_prefix else "error",
                compression_level=args.compression_level,
                progress=progress,
            )
        for w in wheels.dropped:
            out.warn(f"{w}: outside the prefix {plan.prefix}, left out of the wheels (--drop-outside-prefix)")
        for w in wheels.notes:
            out.warn(w)
        out.table("Wheels", ("wheel", "files"), [(p.name, str(n)) for p, n in wheels.wheels])
        return 0
    from qpack.writers.tree import write_tree

    with out.progress("writing trees") as progress:
        report = write_tree(
            plan,
            outdir,
            version=args.version,
            force=args.force,
            resolve_libs=args.resolve_libs,
            progress=progress,
        )
    for w in report.notes:
        out.warn(w)
    out.table("Packages", ("package", "files"), [(name, str(n)) for name, n in report.packages])
    return 0


def cmd_demo(args: argparse.Namespace, out: Out) -> int:
    from qpack.demo_run import run_demo

    return run_demo(args, out)


# --------------------------------------------------------------------------- parser


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("build", help="staged install tree (DESTDIR) of one build")
    p.add_argument(
        "--layout", "-l", required=True, help="shipped layout name (see `qpack layouts`) or a .toml path"
    )
    p.add_argument(
        "--prefix", help="install prefix the build was staged with (default: the layout's, usually /usr)"
    )
    p.add_argument(
        "--unclaimed",
        choices=("error", "core", "drop"),
        default="error",
        help="files no rule claims: fail (default), put them in the core package, or drop them",
    )


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="qpack", description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--version", action="version", version=f"qpack {__version__}")
    ap.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("layouts", help="list the shipped layouts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_layouts)

    p = sub.add_parser("scan", help="every file of a build: package, module, ELF needs")
    _build_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("plan", help="the packages a build splits into, their files, modules and requirements")
    _build_args(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--explain", action="store_true", help="show which layout rule claimed each file")
    p.add_argument("--files", action="store_true", help="also list each package's files")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("split", help="write the packages: wheels or distro trees")
    _build_args(p)
    p.add_argument("--version", required=True, help="version of the build (PEP 440, Debian or RPM style)")
    p.add_argument("--format", choices=("wheel", "tree"), default="wheel")
    p.add_argument("-o", "--output", required=True, help="output directory (must be empty or absent)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    p.add_argument("--compression-level", type=int, default=6, choices=range(10), metavar="0-9")
    p.add_argument(
        "--drop-outside-prefix",
        action="store_true",
        help="wheels: leave out (and list) files outside the prefix, such as /etc, instead of failing",
    )
    p.add_argument(
        "--resolve-libs", choices=("dpkg", "rpm"), help="tree: map needed sonames to distro packages"
    )
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("demo", help="build the demo program, split it, install two modules and run it")
    p.add_argument(
        "--modules", default="ui-gtk,block-curl", help="modules to install (default: ui-gtk,block-curl)"
    )
    p.add_argument("--keep", metavar="DIR", help="keep the build, wheels and prefix in DIR")
    p.set_defaults(func=cmd_demo)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    out = Out()
    func: Handler = args.func
    try:
        return int(func(args, out))
    except QpackError as e:
        if args.debug:
            traceback.print_exc()
        for line in str(e).splitlines() or [type(e).__name__]:
            sys.stderr.write(f"error: {line}\n")
        return e.exit_status
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except BrokenPipeError:
        # `qpack plan ... | head`: the reader went away; not an error of ours.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
