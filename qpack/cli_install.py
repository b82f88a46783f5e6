"""The command line of installed prefixes: `qpack install`, `uninstall`, `list` and `preserve`.

`add_parsers` adds the subcommands to `qpack`'s parser (qpack/cli.py calls it); each handler
calls the library and prints through `Out`. Errors are QpackErrors, which cli.main turns into
`error:` lines and exit status 2; 1 means the modules installed (or listed) will not all load.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qpack.cli_options import add_env_option, env_pairs, installed_prefix, one_prefix

if TYPE_CHECKING:  # imported where used: building the parser must not load them (qpack --version)
    from qpack.console import Out
    from qpack.layout import Layout

_LAYOUT_HELP = "shipped layout name (see `qpack layouts`) or a .toml path"


def _first_few(items: Sequence[str], sep: str, more: str, shown: int = 5) -> str:
    """A row's list cut to its first few, then how many more: JSON keeps them all (an Asterisk
    tester's group of 300 modules listed each, and each one's problems, on one 15 KB line)."""
    if len(items) <= shown + 1:
        return sep.join(items)
    return f"{sep.join(items[:shown])}{sep}and {len(items) - shown} {more}"


def layout_ref(spec: str) -> str:
    """How a layout is recorded in the prefix: a shipped name as is, a file by its absolute path."""
    if "/" not in spec and not spec.endswith(".toml"):
        return spec
    return str(Path(spec).resolve())


def _layout(args: argparse.Namespace, *, required: bool, names: Iterable[str] = ()) -> Layout | None:
    """The layout given with -l, else the one `qpack install` recorded in the prefix (for the
    distributions `names`, where those are all installed distributions)."""
    from qpack.errors import LayoutError
    from qpack.layout import load_layout
    from qpack.listing import recorded_layout

    spec = args.layout or recorded_layout(args.prefix, args.root or "/", names)
    if spec is None:
        if required:
            raise _no_layout(args.prefix)
        return None
    try:
        return load_layout(spec)
    except LayoutError as e:
        if args.layout:
            raise
        # A file the command never named (a MariaDB tester's layout, moved since the install).
        why = f"the layout `qpack install` recorded in {args.prefix}; give -l LAYOUT"
        raise LayoutError([f"{e.problems[0]} ({why})", *e.problems[1:]]) from e


def _no_layout(prefix: str) -> Exception:
    from qpack.installed import InstalledError

    return InstalledError(f"{prefix}: no installed distribution records its layout; give -l LAYOUT")


def _yes(flag: bool | None) -> str:
    return "?" if flag is None else ("yes" if flag else "no")


def cmd_install(args: argparse.Namespace, out: Out) -> int:
    from qpack.check import cannot_start_lines, text_rows
    from qpack.install import install
    from qpack.layout import load_layout

    args.prefix = installed_prefix(args.prefix, args.root)
    layout = load_layout(args.layout)
    report = install(
        Path(args.dist),
        args.names,
        args.prefix,
        loader=layout.loader,
        layout_name=layout.name,
        layout_ref=layout_ref(args.layout),
        root=args.root or "/",
        full_check=args.check_all,
        meta_name=layout.meta.name if layout.meta is not None else None,
        env=env_pairs(args.env),
        programs=args.program,
    )
    verdicts = report.verdicts()
    if args.json:
        out.json(report.to_json())
    else:
        rows = [(str(i.name), str(i.version), ", ".join(i.modules), "installed") for i in report.installed]
        # One asked for again is recorded as asked for: it stays when what needed it goes.
        now = ", now recorded as asked for"
        rows += [
            (n, v, "", "already installed" + (now if n in report.marked else "")) for n, v in report.present
        ]
        where = report.prefix + (f" (root {report.root})" if args.root else "")
        if out.rich:
            out.table(f"Distributions in {where}", ("distribution", "version", "modules", "state"), rows)
        else:  # piped: stdout keeps one shape, the modules' rows below (as `check` prints them)
            for name, version, modules, state in rows:
                state, _, more = state.partition(", ")
                tail = (f" ({modules})" if modules else "") + (f", {more}" if more else "")
                out.summary(f"{state} {name} {version}{tail}")
        if verdicts:
            starts = report.check.cannot_start.values() if report.check is not None else ()
            out.table(
                "Modules of the prefix, as the loader will see them"
                if report.full_check
                else "Modules installed, as the loader will see them",
                ("module", "file", "loads", "problems"),
                text_rows(verdicts, starts),
            )
            load, total = report.loading()
            which = "of the prefix" if report.full_check else "installed"
            partly = report.loading_for_some()
            some = f" ({partly} more for some of their programs only)" if partly else ""
            # A NetworkManager tester: "will load" where the host's copy is the one loaded.
            if other := len(set(report.loaded_elsewhere) & {v.module for v in verdicts if v.loads}):
                some += f", {other} of them from another copy than the one installed (warning below)"
            out.summary(f"{load} of {total} module(s) {which} will load{some}")
            for why in cannot_start_lines(starts):
                out.summary(f"problem: {why}", problem=True)
        elif not report.installed:
            out.summary("nothing to install: everything asked for is installed already")
        for d in report.damaged:
            out.summary(f"problem: {d}", problem=True)
    for w in report.warnings:
        out.warn(w)
    return 0 if report.ok else 1


def cmd_uninstall(args: argparse.Namespace, out: Out) -> int:
    from qpack.errors import LayoutError
    from qpack.uninstall import uninstall

    args.prefix = installed_prefix(args.prefix, args.root)
    unread: list[str] = []
    try:
        layout = _layout(args, required=False, names=args.names)
    except LayoutError as e:
        # Distributions named are removed by their RECORD, as pip removes them: the recorded
        # layout, moved since, is not needed for that (a BitlBee tester's deleted copy).
        if args.layout or not _all_installed(args, args.names):
            raise
        layout = None
        first = e.__cause__.problems[0] if isinstance(e.__cause__, LayoutError) else e.problems[0]
        unread.append(f"{first}: uninstalled by the distributions' RECORD files alone")
    report = uninstall(
        args.names,
        args.prefix,
        root=args.root or "/",
        loader=layout.loader if layout else None,
        with_dependents=args.with_dependents,
        keep_dependencies=args.keep_dependencies,
    )
    if args.json:
        out.json(report.to_json())
    else:
        why = {"named": "named", "dependent": "depends on what was named", "unneeded": "no longer needed"}
        out.table(
            f"Removed from {report.prefix}",
            ("distribution", "version", "why", "files"),
            [(r.name, r.version, why[r.why], str(r.files)) for r in report.removed],
        )
        if not out.rich:
            # The rows alone are bare cells without --header (a BIND tester read "named 9" as a
            # program and a count): a sentence each on stderr, as install writes.
            for r in report.removed:
                out.summary(f"removed {r.name} {r.version} ({why[r.why]}, {r.files} files)")
        for k in report.kept:
            out.summary(k)
        if not report.removed:
            out.summary(f"nothing removed from {report.prefix}")
    for w in [*unread, *report.warnings]:
        out.warn(w)
    return 0


def _all_installed(args: argparse.Namespace, names: Iterable[str]) -> bool:
    """Whether every name is a distribution installed in the prefix (not a module id or type)."""
    from packaging.utils import canonicalize_name

    from qpack.installed import InstalledSet, host_path, program_prefix

    host = host_path(args.root or "/", program_prefix(args.prefix))
    dists = InstalledSet.read(host, program_prefix(args.prefix)).dists if host.is_dir() else {}
    return bool(names) and all(canonicalize_name(n) in dists for n in names)


def cmd_list(args: argparse.Namespace, out: Out) -> int:
    from qpack.check import cannot_start_lines, said_below
    from qpack.installed import InstalledSet, host_path, program_prefix
    from qpack.listing import ListReport, list_installed

    args.prefix = one_prefix("list", args.prefix_arg, args.prefix, args.root)
    layout = _layout(args, required=False)
    if layout is not None:
        report = list_installed(
            args.prefix,
            loader=layout.loader,
            layout_name=layout.name,
            root=args.root or "/",
            pkgversion=args.pkgversion,
            env=env_pairs(args.env),
            programs=args.program,
        )
    else:
        # No -l and no layout recorded: an error, unless nothing is installed at all (the
        # uninstall of the last distribution leaves the prefix so): then an empty list.
        pre = program_prefix(args.prefix)
        dists = InstalledSet.read(host_path(args.root or "/", pre), pre).dists
        # Only a split's wheels need a layout: a new venv's pip and setuptools are none (a Knot
        # Resolver tester's empty venv: "no installed distribution records its layout").
        if any(d.declared_kind is not None for d in dists.values()):
            raise _no_layout(args.prefix)
        report = ListReport(prefix=pre, root=str(Path(args.root or "/").absolute()), layout="", dists=())
        others = (
            f" (only {', '.join(sorted(d.name for d in dists.values()))}: no wheel of a split)"
            if dists
            else ""
        )
        out.summary(f"nothing is installed in {pre}{others}")
    if layout is not None and not report.dists:
        # Files a tree or a distro package put there have no .dist-info (a ZNC tester's list
        # printed nothing and exited 0 where check found two modules broken).
        out.summary(
            f"nothing is installed in {report.prefix} by qpack or pip (no .dist-info): "
            f"`qpack check {report.prefix}{f' --root {args.root}' if args.root else ''} "
            f"-l {layout_ref(args.layout) if args.layout else layout.name}` judges the modules there"
        )
    if args.json:
        out.json(report.to_json())
    else:
        out.table(
            f"Installed in {report.prefix} (layout {report.layout})",
            ("distribution", "version", "kind", "modules", "loads", "problems"),
            [
                (
                    d.name,
                    d.version,
                    d.kind,
                    _first_few(d.modules, ", ", "more"),
                    _yes(d.loads) if d.modules else "",
                    said_below(
                        _first_few(d.problems, "; ", "more problems: see `qpack check`"), report.cannot_start
                    ),
                )
                for d in report.dists
            ],
        )
        for why in cannot_start_lines(report.cannot_start):
            out.summary(f"problem: {why}", problem=True)
    for w in report.warnings:
        out.warn(w)
    # A program that cannot start fails the list even with no distribution to fail (a ZNC
    # re-tester's root made from the tree output: "problem: ... cannot start", exit 0).
    return 0 if not any(d.fails for d in report.dists) and not report.cannot_start else 1


def cmd_preserve(args: argparse.Namespace, out: Out) -> int:
    from qpack.layout import load_layout
    from qpack.preserve import preserve

    args.prefix = installed_prefix(args.prefix, args.root)
    layout = load_layout(args.layout)
    report = preserve(
        args.prefix,
        loader=layout.loader,
        pkgversion=args.pkgversion,
        root=args.root or "/",
        remove=args.remove,
    )
    if args.json:
        out.json(report.to_json())
    elif report.note is not None:
        out.line(f"layout {layout.name}: {report.note}")
    elif args.remove:
        out.line(f"removed {len(report.removed)} path(s) preserve had added for {report.directory}")
        for p in report.removed:
            out.line(p)
    else:
        out.line(
            f"preserved {len(report.added)} module file(s) in {report.directory}"
            + (f" ({len(report.present)} already there)" if report.present else "")
        )
        for p in report.added:
            out.line(p)
    return 0


def _prefix_args(p: argparse.ArgumentParser, *, layout: bool | None, positional: bool = False) -> None:
    """`layout`: True = -l required, False = optional (default: the one recorded), None = none.
    `positional`: PREFIX may come as an argument too, as `check` takes it (`list`)."""
    if layout is not None:
        p.add_argument(
            "--layout",
            "-l",
            required=layout,
            help=_LAYOUT_HELP if layout else _LAYOUT_HELP + " (default: the one `qpack install` recorded)",
        )
    if positional:
        p.add_argument("prefix_arg", nargs="?", metavar="PREFIX", help="the installed prefix (or --prefix)")
    p.add_argument(
        "--prefix",
        required=not positional,
        help="the installed prefix, as the program sees it (a venv, /usr)",
    )
    p.add_argument("--root", help="a staging root (DESTDIR): the prefix is ROOT/PREFIX on this machine")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def add_parsers(sub: Any) -> None:
    """Add install, uninstall, list and preserve to `qpack`'s subparsers."""
    p = sub.add_parser(
        "install",
        help="install the core and chosen modules from split wheels, all or nothing, and check them",
        description="Install the core (if not yet installed) and the chosen module wheels with their "
        "dependency modules, through the installer library. Every check of the wheels (names, "
        "versions, hashes, paths, files other distributions own) passes before a byte is written; "
        "a failure leaves the prefix as it was. Then the loader check judges what was installed: "
        "exit status 1 when a module installed will not load (the install stands).",
    )
    p.add_argument("dist", help="the directory of wheels `qpack split --format wheel` wrote")
    p.add_argument(
        "names",
        nargs="+",
        metavar="MODULE",
        help="modules, module types or `all` (the meta wheel's extras), or distribution names",
    )
    _prefix_args(p, layout=True)
    p.add_argument(
        "--check-all",
        action="store_true",
        help="after installing, check every module of the prefix (`qpack check`), not only those installed",
    )
    add_env_option(p)
    p.set_defaults(func=cmd_install)

    p = sub.add_parser(
        "uninstall",
        help="remove installed distributions by their RECORD, and the dependencies nothing needs any more",
        description="Remove the named distributions (or the distributions holding the named modules) "
        "file by file from their RECORD, all or nothing, then the distributions that were installed "
        "only as their dependencies and that nothing needs any more (--keep-dependencies keeps them).",
    )
    p.add_argument(
        "names", nargs="+", metavar="NAME", help="distribution names, or module ids or types (with a layout)"
    )
    _prefix_args(p, layout=False)
    p.add_argument(
        "--with-dependents", action="store_true", help="also remove what depends on the named distributions"
    )
    p.add_argument(
        "--keep-dependencies",
        action="store_true",
        help="keep the dependencies that were installed only for what is removed",
    )
    p.set_defaults(func=cmd_uninstall)

    p = sub.add_parser(
        "list",
        help="the installed core and modules, their versions, and whether each loads",
        description="List the program's distributions installed in a prefix (core, modules, meta), "
        "their versions, and whether each module would load, as `qpack check` judges it. "
        "Exit status 1: an installed module will not load.",
    )
    _prefix_args(p, layout=False, positional=True)
    p.add_argument("--pkgversion", help="the build's package version, for {pkgversion} locations")
    add_env_option(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "preserve",
        help="copy the installed modules into the loader's versioned fallback directory before an upgrade",
        description="Before an upgrade replaces the modules, copy them into the directory the "
        "running program falls back to (QEMU's /var/run/qemu/<pkgversion>), so that a program still "
        "running can load the modules of its own build; --remove takes them away afterwards.",
    )
    _prefix_args(p, layout=True)
    p.add_argument(
        "--pkgversion", required=True, help='the running build\'s package version ("Debian 1:7.2+dfsg-7")'
    )
    p.add_argument("--remove", action="store_true", help="remove what an earlier preserve added")
    p.set_defaults(func=cmd_preserve)
