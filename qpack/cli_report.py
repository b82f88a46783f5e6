"""`qpack report`: one self-contained HTML page of a split (qpack/report.py), optionally with
the verdicts of `qpack check` on an installed prefix."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from qpack.cli import _build_args, load_plan
from qpack.cli_options import env_pairs, installed_prefix
from qpack.console import Out
from qpack.errors import OutputError

REPORT_JSON_VERSION = 1


def cmd_report(args: argparse.Namespace, out: Out) -> int:
    from qpack.check import CheckReport, check
    from qpack.layout import load_layout
    from qpack.plan import packaged_modules
    from qpack.report import render_report

    output = Path(args.output)
    if args.output == "-" and args.json:
        raise OutputError("-o -: the page goes to stdout, which --json would share; give a file with --json")
    if output.is_dir():
        raise OutputError(f"{output}: is a directory; give the HTML file to write (-o report.html)")
    plan = load_plan(args, out)
    report: CheckReport | None = None
    if args.check is not None:
        from qpack.upgrades import checked_skew

        loader = load_layout(args.layout).loader
        args.check = installed_prefix(args.check, args.root)
        report = check(
            args.check,
            loader,
            layout_name=plan.layout.name,
            root=args.root or "/",
            env=env_pairs(args.env),
            pkgversion=args.pkgversion,
            programs=args.program,
        )
        report, _ = checked_skew(report, args.check, loader, root=args.root or "/")
    notes = report.warnings if report else ()  # why a program cannot start: below the check table
    page = render_report(plan, check=report, warnings=notes)
    if args.output == "-":  # as `plan --graph -`: the page on stdout
        from qpack.console import write_stdout

        write_stdout(page)
    else:
        from qpack.writers import write_file_atomic

        write_file_atomic(output, page.encode("utf-8"))
    if args.json:
        out.json(
            {
                "version": REPORT_JSON_VERSION,
                "output": str(output),
                "layout": plan.layout.name,
                "packages": [p.name for p in plan.packages],
                "check": report.summary() if report else None,
                "warnings": list(plan.warnings),
            }
        )
    else:
        where = "the page to stdout" if args.output == "-" else output
        out.note(f"wrote {where}: {len(plan.packages)} packages, {len(packaged_modules(plan))} modules")
    for w in plan.warnings:
        out.warn(w)
    return 0


def add_parser(sub: Any) -> None:
    """Add `report` to `qpack`'s subparsers."""
    p = sub.add_parser(
        "report",
        help="write one self-contained HTML page of a split: sizes, modules, requirements, checks",
        description="Plan the build and write one HTML page needing nothing else: the packages with "
        "their sizes (a treemap and bars), the modules by type, the requirements (drawn with "
        "Graphviz when `dot` is installed), the libraries each package needs from outside the "
        "build, the warnings, and with --check PREFIX the verdicts of `qpack check` on an "
        "installed prefix.",
    )
    _build_args(p)
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the HTML file to write (-: to stdout)"
    )
    p.add_argument(
        "--check", metavar="PREFIX", help="also check this installed prefix (as `qpack check PREFIX`)"
    )
    p.add_argument("--root", help="with --check: judge PREFIX inside this staged root (DESTDIR)")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="with --check: the environment the program would run with (default: empty); repeatable",
    )
    p.add_argument(
        "--program",
        action="append",
        default=[],
        metavar="PATH",
        help="with --check: a program that loads the modules, installed outside the prefix; repeatable",
    )
    p.add_argument("--pkgversion", help="with --check: the build's package version, for {pkgversion}")
    p.add_argument("--json", action="store_true", help="print what was written as JSON (version 1)")
    p.set_defaults(func=cmd_report)
