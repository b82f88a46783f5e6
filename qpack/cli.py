"""The command line: parse, call the library, print. The library never prints; this module owns
all output (rich tables on a terminal, tab-separated lines when piped, JSON with --json) and
turns every QpackError into `error: ...` lines and its exit status (2; 1 for check findings).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qpack import __version__
from qpack.console import PLAN_COLUMNS, Out, plan_rows
from qpack.errors import PlanError, QpackError
from qpack.inventory import Inventory
from qpack.layout import Layout, load_layout, shipped_layouts
from qpack.plan import Plan, Unclaimed, make_plan

if TYPE_CHECKING:
    from qpack.writers.tree import ListKind

Handler = Callable[[argparse.Namespace, Out], int]

# Each file is `Entry.to_json()`, shared with the tree writer's manifest, plus what scan adds.
SCAN_JSON_VERSION = 1


# --------------------------------------------------------------------------- shared steps


def build_path(args: argparse.Namespace) -> Path:
    """The build a command reads: a staged install tree (BUILD) or a meson build directory (--meson)."""
    if (args.build is None) == (args.meson is None):
        raise QpackError(
            "give one build: a staged install tree (BUILD) or a meson build directory (--meson DIR)"
        )
    return Path(args.meson if args.meson is not None else args.build)


def load_inventory(args: argparse.Namespace, layout: Layout, out: Out) -> Inventory:
    build = build_path(args)
    with out.progress("hashing") as progress:
        if args.meson is not None:
            from qpack.meson import scan_meson

            return scan_meson(build, layout.loader, prefix=args.prefix, progress=progress)
        return layout.loader.scan(build, args.prefix, progress=progress)


def load_plan(args: argparse.Namespace, out: Out) -> Plan:
    layout = load_layout(args.layout)
    policy, core = unclaimed_policy(args.unclaimed)
    return make_plan(load_inventory(args, layout, out), layout, unclaimed=policy, unclaimed_core=core)


def unclaimed_policy(value: str) -> tuple[Unclaimed, str | None]:
    """`--unclaimed error|core|core=NAME|drop` -> (policy, the core package NAME or None)."""
    policy, sep, name = value.partition("=")
    if policy == "core" and sep and name:
        return "core", name
    if not sep and value in _POLICIES:
        return _POLICIES[value], None
    raise QpackError(f"--unclaimed {value!r}: expected error, core, core=NAME or drop")


_POLICIES: dict[str, Unclaimed] = {"error": "error", "core": "core", "drop": "drop"}


def _warn_all(plan: Plan, out: Out) -> None:
    for w in plan.warnings:
        out.warn(w)


# --------------------------------------------------------------------------- subcommands


def cmd_layouts(args: argparse.Namespace, out: Out) -> int:
    rows = []
    for name, path in shipped_layouts().items():
        try:
            desc = load_layout(path).description
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
    layout = load_layout(args.layout)
    inventory = load_inventory(args, layout, out)
    owner: dict[str, str] = {}
    problems: list[str] = []
    try:
        policy, core = unclaimed_policy(args.unclaimed)
        plan = make_plan(inventory, layout, unclaimed=policy, unclaimed_core=core)
        owner = {c.path: c.package or "(excluded)" for c in plan.claims}
        modules = {m.path: m for m in plan.modules}
        warnings = list(plan.warnings)
    except PlanError as err:
        # scan is the diagnostic view: show every file even when the split cannot be planned.
        found = layout.loader.find_modules(inventory)
        modules = {m.path: m for m in found.modules}
        warnings = [*inventory.warnings, *found.never_looked_up]
        problems = err.problems
    if args.json:
        files: list[dict[str, Any]] = []
        for e in inventory.entries:
            m = modules.get(e.path)
            files.append(
                {
                    **e.to_json(),
                    "package": owner.get(e.path),
                    "module": {"id": m.id, "type": m.type, "name": m.name} if m else None,
                    "elf": e.elf.to_json() if e.elf else None,
                    "elf_error": e.elf_error,
                }
            )
        out.json(
            {
                "version": SCAN_JSON_VERSION,
                "layout": layout.name,
                "prefix": inventory.prefix,
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
            f"{inventory.root} (layout {layout.name}, prefix {inventory.prefix})",
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
            data["library_requirements"] = [
                {"package": r.package, "requires": r.requires, "path": r.path, "soname": r.soname,
                 "provider": r.provider}
                for r in plan.library_requirements
            ]  # fmt: skip
        out.json(data)
        _warn_all(plan, out)  # also in the JSON; stderr is for the person running it
        return 0
    if args.explain:
        out.table(
            "Which rule claimed each file",
            ("file", "package", "rule"),
            [(c.path, c.package or "(excluded)", c.rule) for c in plan.claims],
        )
        if plan.library_requirements:
            out.table(
                "Requirements added because a file links a sibling's library (DT_NEEDED)",
                ("package", "requires", "because"),
                [(r.package, r.requires, r.why) for r in plan.library_requirements],
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


def _write_wheels(plan: Plan, args: argparse.Namespace, out: Out) -> None:
    from qpack.writers.wheel import write_wheels

    with out.progress("writing wheels") as progress:
        report = write_wheels(
            plan,
            Path(args.output),
            version=args.version,
            force=args.force,
            outside_prefix="drop" if args.drop_outside_prefix else "error",
            compression_level=args.compression_level,
            progress=progress,
            resolve_libs=args.resolve_libs,
            bundle_libs=args.bundle_libs,
        )
    for w in report.dropped:
        out.warn(f"{w}: outside the prefix {plan.prefix}, left out of the wheels (--drop-outside-prefix)")
    for note in report.notes:
        out.warn(note)
    out.table("Wheels", ("wheel", "files"), [(str(w.path), str(w.files)) for w in report.written])
    for line in report.summary():
        out.line(line)
    for soname, package in (report.resolved or {}).items():
        if package is None:
            out.warn(f"{soname}: no installed {args.resolve_libs} package provides it (soname only)")


def _write_tree(plan: Plan, args: argparse.Namespace, out: Out) -> None:
    from qpack.writers.tree import write_tree

    with out.progress("writing trees") as progress:
        report = write_tree(
            plan,
            Path(args.output),
            version=args.version,
            force=args.force,
            resolve_libs=args.resolve_libs,
            lists=_list_kinds(args.lists),
            copy=args.copy,
            progress=progress,
        )
    for note in report.notes:
        out.warn(note)
    out.table("Packages", ("package", "files"), [(w.package, str(w.files)) for w in report.written])


def _list_kinds(value: str) -> tuple[ListKind, ...]:
    """`--lists debian,rpm` -> the list kinds asked for."""
    names = [k.strip() for k in value.split(",") if k.strip()]
    kinds: dict[str, ListKind] = {"debian": "debian", "rpm": "rpm"}
    if not names or any(k not in kinds for k in names):
        raise QpackError(f"--lists {value!r}: expected a comma-separated choice of debian, rpm")
    return tuple(kinds[k] for k in dict.fromkeys(names))


# `split --format F` -> the writer that writes F.
WRITERS: dict[str, Callable[[Plan, argparse.Namespace, Out], None]] = {
    "wheel": _write_wheels,
    "tree": _write_tree,
}


def cmd_split(args: argparse.Namespace, out: Out) -> int:
    from qpack.versions import to_pep440
    from qpack.writers import check_output

    # Cheap refusals first: a bad version or an output that cannot be used fails before a long
    # scan. A version that cannot be read as PEP 440, Debian or RPM is no good for distro lists.
    to_pep440(args.version)
    _list_kinds(args.lists)
    unclaimed_policy(args.unclaimed)
    check_output(Path(args.output), build_path(args), args.force)
    plan = load_plan(args, out)
    _warn_all(plan, out)
    if plan.unclaimed:
        out.table(
            "Claimed by no rule, left out (--unclaimed drop)", ("file",), [(f,) for f in plan.unclaimed]
        )
    WRITERS[args.format](plan, args, out)
    return 0


def _env_pairs(items: Sequence[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise QpackError(f"--env {item!r}: expected VAR=VALUE")
        env[name] = value
    return env


def cmd_check(args: argparse.Namespace, out: Out) -> int:
    from qpack.check import check

    layout = load_layout(args.layout)
    report = check(
        args.prefix,
        layout.loader,
        layout_name=layout.name,
        root=args.root or "/",
        env=_env_pairs(args.env),
        pkgversion=args.pkgversion,
    )
    if args.json:
        out.json(report.to_json())
    else:
        rows = []
        for m in report.modules:
            problems = "; ".join(f"{p.kind}: {p.detail}" for p in m.problems)
            rows.append((m.module, m.file or "-", "yes" if m.loads else "no", problems))
        out.table(
            f"Modules of {report.prefix} (layout {report.layout}"
            + (f", root {report.root}" if args.root else "")
            + ")",
            ("module", "file", "loads", "problems"),
            rows,
        )
        s = report.summary()
        out.line(f"{s['load']} of {s['modules']} modules load; {s['problems']} problem(s)")
    for w in report.warnings:
        out.warn(w)
    return 0 if report.ok else 1


def cmd_demo(args: argparse.Namespace, out: Out) -> int:
    from qpack.demo.run import run_demo

    return run_demo(args, out)


# --------------------------------------------------------------------------- parser


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("build", nargs="?", help="staged install tree (DESTDIR) of one build")
    p.add_argument(
        "--meson",
        metavar="BUILDDIR",
        help="instead of BUILD: a meson build directory, read as `meson install --destdir` would leave it",
    )
    p.add_argument(
        "--layout", "-l", required=True, help="shipped layout name (see `qpack layouts`) or a .toml path"
    )
    p.add_argument(
        "--prefix", help="install prefix the build was staged with (default: the layout's, usually /usr)"
    )
    p.add_argument(
        "--unclaimed",
        default="error",
        metavar="error|core|core=NAME|drop",
        help="files no rule claims: fail (default), put them in the core package (NAME: which one, "
        "when the layout has several), or drop them (listed as unclaimed)",
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
    p.add_argument("--format", choices=tuple(WRITERS), default="wheel")
    p.add_argument("-o", "--output", required=True, help="output directory (must be empty or absent)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    p.add_argument("--compression-level", type=int, default=6, choices=range(10), metavar="0-9")
    p.add_argument(
        "--drop-outside-prefix",
        action="store_true",
        help="wheels: leave out (and list) files outside the prefix, such as /etc, instead of failing",
    )
    p.add_argument(
        "--resolve-libs",
        choices=("dpkg", "rpm"),
        help="map needed sonames to distro packages (tree: with dpkg-shlibdeps' minimum versions; "
        "wheel: in Requires-External)",
    )
    p.add_argument(
        "--bundle-libs",
        nargs="?",
        const="policy",
        choices=("policy", "all"),
        help="wheel: copy the external libraries into the wheels, once each (policy, the default: all "
        "but the manylinux allow-list; all: all but the C library and the dynamic loader)",
    )
    p.add_argument(
        "--lists",
        default="debian,rpm",
        metavar="debian,rpm",
        help="tree: which file lists to write (default both): debian/*.install, rpm/*.files",
    )
    p.add_argument(
        "--copy",
        action="store_true",
        help="tree: copy files instead of hard-linking them to the build (for packagers who strip or edit)",
    )
    p.set_defaults(func=cmd_split)

    p = sub.add_parser(
        "check",
        help="which module file the loader would use in an installed prefix, and whether it loads",
        description="Work out statically, from the layout's loader model, which file each module "
        "of an installed prefix would be loaded from and whether it would load; nothing is run. "
        "Exit status 0: every module present loads; 1: problems found; 2: bad usage.",
    )
    p.add_argument("prefix", help="the installed prefix (a venv, /usr; inside --root if given)")
    p.add_argument(
        "--layout", "-l", required=True, help="shipped layout name (see `qpack layouts`) or a .toml path"
    )
    p.add_argument("--root", help="judge PREFIX inside this staged root (DESTDIR), as if installed")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="the environment the program would run with (default: empty); repeatable",
    )
    p.add_argument("--pkgversion", help="the build's package version, for {pkgversion} locations")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_check)

    from qpack.cli_install import add_parsers as add_install_parsers

    add_install_parsers(sub)  # install, uninstall, list, preserve: qpack/cli_install.py

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
