"""The command line: parse, call the library, print. The library never prints; this module owns
all output (rich tables on a terminal, tab-separated lines when piped, JSON with --json) and
turns every QpackError into `error: ...` lines and its exit status (2; 1 for check findings).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

from qpack import __version__
from qpack.cli_options import (
    COLORS,
    QpackParser,
    add_common,
    add_common_to_subcommands,
    add_env_option,
    env_pairs,
    make_out,
    one_prefix,
)
from qpack.console import write_stdout
from qpack.errors import PlanError, QpackError

# The library is imported where a command uses it, so that `qpack --version` and `--help` start
# without loading the plan, the ELF readers and rich (python -X importtime -m qpack --version).
if TYPE_CHECKING:
    from qpack.console import Out
    from qpack.inventory import Inventory
    from qpack.layout import Layout
    from qpack.plan import Plan, Unclaimed
    from qpack.writers import Report
    from qpack.writers.tree import ListKind

Handler = Callable[[argparse.Namespace, "Out"], int]

# Each file is `Entry.to_json()`, shared with the tree writer's manifest, plus what scan adds.
SCAN_JSON_VERSION = 1


# --------------------------------------------------------------------------- shared steps


# Files left out of wheels by --drop-outside-prefix named one by one up to this many, then by directory.
_DROPPED_SHOWN = 10


def build_path(args: argparse.Namespace) -> Path:
    """The build a command reads: a staged install tree (BUILD) or a meson build directory (--meson)."""
    if (args.build is None) == (args.meson is None):
        raise QpackError(
            "give one build: a staged install tree (BUILD) or a meson build directory (--meson DIR)"
        )
    return Path(args.meson if args.meson is not None else args.build)


def load_inventory(args: argparse.Namespace, layout: Layout, out: Out) -> Inventory:
    build = build_path(args)
    start = time.monotonic()
    with out.progress("hashing") as progress:
        if args.meson is not None:
            from qpack.meson import scan_meson

            inventory = scan_meson(build, layout.loader, prefix=args.prefix, progress=progress)
        else:
            inventory = layout.loader.scan(build, args.prefix, progress=progress)
    size = sum(e.size for e in inventory.entries if e.kind == "file")
    out.info(
        f"read {len(inventory.entries)} paths ({size} bytes) of {build} at prefix {inventory.prefix} "
        f"for layout {layout.name} in {time.monotonic() - start:.2f} s"
    )
    return inventory


def load_plan(args: argparse.Namespace, out: Out) -> Plan:
    from qpack.fit import check_fit
    from qpack.layout import load_layout
    from qpack.plan import make_plan

    layout = load_layout(args.layout)
    policy, core = unclaimed_policy(args.unclaimed)
    inventory = load_inventory(args, layout, out)
    # A layout that does not fit the build (no module, nothing under the prefix, no stamp)
    # would still plan: everything in the core package. Fail first, saying what was found.
    warnings, notes = check_fit(inventory, layout.loader, allow_empty=args.allow_empty)
    for w in warnings:
        out.warn(w)
    for n in notes:
        out.info(n)
    return make_plan(inventory, layout, unclaimed=policy, unclaimed_core=core)


def unclaimed_policy(value: str) -> tuple[Unclaimed, str | None]:
    """`--unclaimed error|core|core=NAME|drop` -> (policy, the core package NAME or None)."""
    policy, sep, name = value.partition("=")
    if policy == "core" and sep and name:
        return "core", name
    if not sep and value in _POLICIES:
        return _POLICIES[value], None
    raise QpackError(f"--unclaimed {value!r}: expected error, core, core=NAME or drop")


_POLICIES: dict[str, Unclaimed] = {"error": "error", "core": "core", "drop": "drop"}


def _warn_all(plan: Plan, out: Out, *, names: bool = True) -> None:
    """The plan's warnings; with `names`, also the package names a split would refuse (split
    itself refuses them, in its own words)."""
    for w in plan.warnings:
        out.warn(w)
    if not names:
        return
    # A name an output cannot carry: the split refuses it, and the plan said nothing (a
    # Sylpheed tester's module `my plugin.so` made `sylpheed-plugin-my plugin`).
    from qpack.writers._names import NameFormat, name_warnings

    splits: tuple[tuple[str, tuple[NameFormat, ...]], ...] = (
        ("tree", ("debian", "rpm")),
        ("wheel", ("wheel",)),
    )
    for fmt, formats in splits:
        for line in name_warnings(plan, formats):
            out.warn(f"{line}; split --format {fmt} refuses {'them' if line[0].isdigit() else 'it'}")


# --------------------------------------------------------------------------- subcommands


def cmd_layouts(args: argparse.Namespace, out: Out) -> int:
    from qpack.layout import load_layout, shipped_layouts

    if args.show is not None:
        from qpack.layout import find_layout

        path = find_layout(args.show)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise QpackError(f"{path}: cannot read it: {e.strerror}") from None
        if args.json:
            out.json({"version": 1, "name": args.show, "path": str(path), "toml": text})
        else:
            write_stdout(text)
        return 0
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
    from qpack.fit import fit_findings
    from qpack.layout import load_layout
    from qpack.plan import make_plan

    layout = load_layout(args.layout)
    inventory = load_inventory(args, layout, out)
    fit_problems, fit_notes = fit_findings(inventory, layout.loader)
    for n in fit_notes:
        out.info(n)
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
    warnings += fit_problems
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
        if problems:  # last, and said as problems: among 50 warnings they went unseen
            n = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
            out.summary(
                f"problem: the split cannot be planned ({n}); the package column shows '?'", problem=True
            )
            for p in problems:
                out.summary(f"problem: {p}", problem=True)
    return 1 if problems else 0


def cmd_plan(args: argparse.Namespace, out: Out) -> int:
    from qpack.console import PLAN_COLUMNS, plan_rows

    plan = load_plan(args, out)
    if args.graph is not None:
        from qpack.graph import plan_dot, write_graph

        if args.graph == "-":
            write_stdout(plan_dot(plan))
            _warn_all(plan, out)
            return 0
        written, note = write_graph(plan, Path(args.graph))
        out.note(f"wrote {' and '.join(str(w) for w in written)}")
        if note:
            out.warn(note)
    if args.json:
        data = plan.to_json()
        if args.explain:
            data["claims"] = [{"path": c.path, "package": c.package, "rule": c.rule} for c in plan.claims]
            data["library_requirements"] = [
                {"package": r.package, "requires": r.requires, "path": r.path, "soname": r.soname,
                 "provider": r.provider}
                for r in plan.library_requirements
            ]  # fmt: skip
            data["link_requirements"] = [
                {"package": r.package, "requires": r.requires, "path": r.path, "target": r.target}
                for r in plan.link_requirements
            ]
        out.json(data)
        _warn_all(plan, out)  # also in the JSON; stderr is for the person running it
        return 0
    if args.explain:
        out.table(
            "Which rule claimed each file",
            ("file", "package", "rule"),
            [(c.path, c.package or "(excluded)", c.rule) for c in plan.claims],
        )
        added = [(r.package, r.requires, r.why) for r in plan.library_requirements]
        added += [(r.package, r.requires, r.why) for r in plan.link_requirements]
        if added:
            out.table(
                "Requirements added because a file links a sibling's library (DT_NEEDED) or is a "
                "symlink into it",
                ("package", "requires", "because"),
                added,
            )
    else:
        # Piped, `--files` gives one shape per line: `package<TAB>file`, nothing else (the
        # excluded files are in --json).
        if out.rich or not args.files:
            out.table(
                f"Plan for {plan.inventory.root} (layout {plan.layout.name})", PLAN_COLUMNS, plan_rows(plan)
            )
        if args.files:
            out.table(
                "Files of each package",
                ("package", "file"),
                [(p.name, f) for p in plan.packages for f in p.files],
            )
        if plan.excluded and (out.rich or not args.files):
            out.table("Excluded", ("file", "reason"), [(x.path, x.reason) for x in plan.excluded])
    _warn_all(plan, out)
    return 0


def _write_wheels(plan: Plan, args: argparse.Namespace, out: Out) -> Report:
    from qpack.writers.wheel import write_wheels

    level = DEFAULT_COMPRESSION if args.compression_level is None else args.compression_level
    with out.progress("writing wheels") as progress:
        report = write_wheels(
            plan,
            Path(args.output),
            version=args.version,
            force=args.force,
            outside_prefix="drop" if args.drop_outside_prefix else "error",
            compression_level=level,
            progress=progress,
            resolve_libs=args.resolve_libs,
            bundle_libs=args.bundle_libs,
            libs_root=Path(args.libs_root) if args.libs_root else None,
        )
    if len(report.dropped) <= _DROPPED_SHOWN:
        for w in report.dropped:
            out.warn(f"{w}: outside the prefix {plan.prefix}, left out of the wheels (--drop-outside-prefix)")
    else:
        # One line, by top directory: an Apache tester's 168 lines, one per file of etc/ and
        # var/, buried the one warning that mattered (--json lists every file).
        tops = Counter(w.split("/", 1)[0] + "/" for w in report.dropped)
        shown = ", ".join(f"{top} ({n})" for top, n in sorted(tops.items()))
        out.warn(
            f"{len(report.dropped)} files outside the prefix {plan.prefix}, left out of the wheels "
            f"(--drop-outside-prefix): {shown}; --json lists them"
        )
    for note in report.notes:
        out.warn(note)
    if not args.json:
        out.table("Wheels", ("wheel", "files"), [(str(w.path), str(w.files)) for w in report.written])
        for line in report.summary():
            out.summary(line)
    for soname, package in (report.resolved or {}).items():
        if package is None:
            out.warn(f"{soname}: no installed {args.resolve_libs} package provides it (soname only)")
    return report


def _write_tree(plan: Plan, args: argparse.Namespace, out: Out) -> Report:
    from qpack.writers.tree import write_tree

    with out.progress("writing trees") as progress:
        report = write_tree(
            plan,
            Path(args.output),
            version=args.version,
            force=args.force,
            resolve_libs=args.resolve_libs,
            lists=_list_kinds(args.lists or DEFAULT_LISTS),
            copy=args.copy,
            progress=progress,
        )
    for note in report.notes:
        out.warn(note)
    if not args.json:
        out.table("Packages", ("package", "files"), [(w.package, str(w.files)) for w in report.written])
    return report


def _list_kinds(value: str) -> tuple[ListKind, ...]:
    """`--lists debian,rpm` -> the list kinds asked for."""
    names = [k.strip() for k in value.split(",") if k.strip()]
    kinds: dict[str, ListKind] = {"debian": "debian", "rpm": "rpm"}
    if not names or any(k not in kinds for k in names):
        raise QpackError(f"--lists {value!r}: expected a comma-separated choice of debian, rpm")
    return tuple(kinds[k] for k in dict.fromkeys(names))


DEFAULT_COMPRESSION = 6
DEFAULT_LISTS = "debian,rpm"
SPLIT_JSON_VERSION = 1

# Options of `split` that only one format takes (dest -> option, format): given with the other
# format they are an error, not silently ignored. Their defaults are None/False, so "given" shows.
FORMAT_ONLY: dict[str, tuple[str, str]] = {
    "bundle_libs": ("--bundle-libs", "wheel"),
    "libs_root": ("--libs-root", "wheel"),
    "compression_level": ("--compression-level", "wheel"),
    "drop_outside_prefix": ("--drop-outside-prefix", "wheel"),
    "lists": ("--lists", "tree"),
    "copy": ("--copy", "tree"),
}


def _format_options(args: argparse.Namespace) -> None:
    wrong = [
        (opt, fmt)
        for dest, (opt, fmt) in FORMAT_ONLY.items()
        if fmt != args.format and getattr(args, dest, None) not in (None, False)
    ]
    if wrong:
        opts = ", ".join(opt for opt, _ in wrong)
        raise QpackError(
            f"{opts}: only for --format {wrong[0][1]}, not --format {args.format} (nothing written)"
        )


# `split --format F` -> the writer that writes F.
WRITERS: dict[str, Callable[[Plan, argparse.Namespace, Out], Report]] = {
    "wheel": _write_wheels,
    "tree": _write_tree,
}


def cmd_split(args: argparse.Namespace, out: Out) -> int:
    from qpack.versions import to_pep440
    from qpack.writers import check_output

    # Cheap refusals first: a bad version or an output that cannot be used fails before a long
    # scan. A version that cannot be read as PEP 440, Debian or RPM is no good for distro lists.
    _format_options(args)
    to_pep440(args.version)
    _list_kinds(args.lists or DEFAULT_LISTS)
    unclaimed_policy(args.unclaimed)
    check_output(Path(args.output), build_path(args), args.force)
    plan = load_plan(args, out)
    _warn_all(plan, out, names=False)
    report = WRITERS[args.format](plan, args, out)
    # After the writer: a split it refuses shows no table, as if it had gone ahead.
    if plan.unclaimed and not args.json:
        out.table(
            "Claimed by no rule, left out (--unclaimed drop)", ("file",), [(f,) for f in plan.unclaimed]
        )
    if args.json:
        out.json(
            {
                "version": SPLIT_JSON_VERSION,
                "layout": plan.layout.name,
                "format": args.format,
                "output": str(report.outdir),
                "written": [
                    {"package": w.package, "path": str(w.path), "files": w.files} for w in report.written
                ],
                "dropped": list(report.dropped),
                "unclaimed": list(plan.unclaimed),
                "warnings": [*plan.warnings, *report.notes],
            }
        )
    return 0


def _repair_interrupted_install(args: argparse.Namespace) -> list[str]:
    """An install or uninstall killed in this prefix is undone (or finished) from its journal
    before the prefix is judged, as the next `qpack install` would."""
    from qpack.transaction import locked, pending

    host = Path(args.root or "/").absolute() / str(args.prefix).lstrip("/")
    if not host.is_dir() or not pending(host):
        return []
    with locked(host, args.root) as notes:
        return list(notes)


def cmd_check(args: argparse.Namespace, out: Out) -> int:
    from qpack.check import cannot_start_lines, check, text_rows
    from qpack.cli_install import layout_ref
    from qpack.layout import load_layout
    from qpack.upgrades import checked_skew, installed_module_files

    args.prefix = one_prefix("check", args.prefix, args.prefix_option, args.root)
    layout = load_layout(args.layout)
    repaired = _repair_interrupted_install(args)
    report = check(
        args.prefix,
        layout.loader,
        layout_name=layout.name,
        root=args.root or "/",
        env=env_pairs(args.env),
        pkgversion=args.pkgversion,
        programs=args.program,
        installed_modules=installed_module_files(args.prefix, layout.loader, args.root or "/"),
    )
    # After `pip install -U` of some of the packages: modules whose version is not the core's.
    report, skews = checked_skew(
        report, args.prefix, layout.loader, root=args.root or "/", layout_ref=layout_ref(args.layout)
    )
    if args.json:
        out.json({**report.to_json(), "version_skew": [s.to_json() for s in skews]})
    else:
        rows = text_rows(report.modules, report.cannot_start.values())
        out.table(
            f"Modules of {report.prefix} (layout {report.layout}"
            + (f", root {report.root}" if args.root else "")
            + ")",
            ("module", "file", "loads", "problems"),
            rows,
        )
        s = report.summary()
        unused = f"; {s['unused']} no program present uses" if s["unused"] else ""
        some = f" ({s['some']} more for some of their programs only)" if s["some"] else ""
        # None of them the prefix's: said on the line a CI log shows (an Evolution tester read
        # "73 of 73 modules load" of a venv whose own modules were never judged).
        # Unless the rows are the prefix's own modules, not found (an apr-util tester's venv,
        # its drivers all `not-found`, read "0 of 5 modules load (this machine's ...)").
        pre = report.prefix.rstrip("/") + "/"
        theirs = any(m.file is not None and not m.file.startswith(pre) for m in report.modules)
        whose = (
            (" (this machine's" if theirs else " (none where the loader looks")
            + ": no directory searched is in the prefix)"
            if report.elsewhere and s["modules"]
            else ""
        )
        out.summary(
            f"{s['load']} of {s['modules']} modules load{some}{unused}{whose}; {s['problems']} problem(s)"
        )
        for why in cannot_start_lines(report.cannot_start.values()):
            out.summary(f"problem: {why}", problem=True)
    for w in repaired:
        out.warn(w)
    for w in report.warnings:
        out.warn(w)
    for d in report.details:
        out.info(d)
    return 0 if report.ok and not skews else 1


def cmd_demo(args: argparse.Namespace, out: Out) -> int:
    from qpack.demo.run import run_demo

    if not args.json:
        return run_demo(args, out)
    record = Recorder()
    status = run_demo(args, record)
    out.json({"version": DEMO_JSON_VERSION, **record.to_json()})
    for w in record.warnings:
        out.warn(w)
    return status


DEMO_JSON_VERSION = 1


class Recorder:
    """Collects what a command would print (`qpack demo --json`): its tables as lists of
    objects keyed by column, its lines and its warnings."""

    def __init__(self) -> None:
        self.tables: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.warnings: list[str] = []

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.tables.append({"title": title, "rows": [dict(zip(columns, r, strict=True)) for r in rows]})

    def line(self, text: str) -> None:
        self.lines.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def to_json(self) -> dict[str, Any]:
        return {"tables": self.tables, "lines": self.lines, "warnings": self.warnings}


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
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="plan a build in which the layout finds no module, no file under the prefix or no build "
        "stamp (a core-only build), with a warning instead of the error",
    )


DESCRIPTION = """\
Split one build of a modular program (QEMU and its block-curl.so, ui-gtk.so, ...) into a core
package plus one package per module: wheels for pip, per-package trees and file lists for
dh_install and rpmbuild; and check statically which module file the program's loader would
load from an installed prefix. A layout (`qpack layouts`) describes the program's loader and
the packaging policy.

Exit status: 0 success; 1 `check` (or install/list) found modules that will not load, or
`scan` found that the split cannot be planned; 2 bad usage or an error, printed as one
`error:` line each."""

EPILOG = """\
examples:
  qpack plan BUILD -l qemu                       the packages BUILD splits into
  qpack split BUILD -l qemu --version 1:7.2 -o dist
  pip install --no-index --find-links dist 'qemu[ui-gtk]'
  qpack check ~/venv -l qemu                     which modules load in a venv
  qpack report BUILD -l qemu -o report.html      one HTML page of the split

`qpack COMMAND --help` describes each command; `qpack man` prints the manual page."""


def _split_parser(sub: Any) -> None:
    p = sub.add_parser(
        "split",
        help="write the packages: wheels or distro trees",
        description="Plan the build, then write every package: one wheel per package plus the meta "
        "wheel (--format wheel), or per-package trees with debian/*.install, rpm/*.files and "
        "manifest.json (--format tree). Everything is decided before a byte is written; outputs "
        "appear whole or not at all.",
    )
    _build_args(p)
    p.add_argument("--version", required=True, help="version of the build (PEP 440, Debian or RPM style)")
    p.add_argument(
        "--format", choices=tuple(WRITERS), default="wheel", help="what to write: wheel (default) or tree"
    )
    p.add_argument("-o", "--output", required=True, help="output directory (must be empty or absent)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    p.add_argument(
        "--compression-level",
        type=int,
        choices=range(10),
        metavar="0-9",
        help=f"wheels: zlib compression level (default {DEFAULT_COMPRESSION})",
    )
    p.add_argument(
        "--json", action="store_true", help="print what was written as JSON (split format, version 1)"
    )
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
        "--libs-root",
        metavar="DIR",
        help="wheel: with --bundle-libs, take the libraries from this chroot or sysroot of the system "
        "the build is for (default: this machine)",
    )
    p.add_argument(
        "--lists",
        metavar="debian,rpm",
        help="tree: which file lists to write (default both): debian/*.install, rpm/*.files",
    )
    p.add_argument(
        "--copy",
        action="store_true",
        help="tree: copy files instead of hard-linking them to the build (for packagers who strip or edit)",
    )
    p.set_defaults(func=cmd_split)


# Every subcommand, in the order `qpack --help` lists them (tests hold this to the parser).
COMMANDS = (
    "layouts",
    "scan",
    "plan",
    "split",
    "check",
    "install",
    "uninstall",
    "list",
    "preserve",
    "report",
    "completion",
    "man",
    "demo",
)


class _Unbuilt(argparse.ArgumentParser):
    """The parser of a subcommand that is not being run: what is added to it is dropped."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        return argparse.Action(option_strings=[], dest=argparse.SUPPRESS)

    def set_defaults(self, **kwargs: Any) -> None:
        pass


class _OnlyCommand:
    """The subparsers action, building only the subcommand `only` (every one when None)."""

    def __init__(self, sub: Any, only: str | None) -> None:
        self.sub = sub
        self.only = only

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if self.only is None or name == self.only:
            return cast(argparse.ArgumentParser, self.sub.add_parser(name, **kwargs))
        return _Unbuilt(add_help=False)


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand argparse will run for `argv`, when it can be told without parsing: the
    first word naming a command, with only output options before it (whose one value, --color's,
    is never a command name). None when help is asked for first or another word comes first:
    then the whole parser is built, for the help or the error message it gives."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return None
        if arg in COMMANDS:
            return arg
        if not arg.startswith("-") and arg not in COLORS:
            return None
    return None


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """`qpack`'s parser; with `only`, the top level and that one subcommand (what `main` needs
    to run it: building all thirteen took 7-9 ms of every command's start, one 2.6 ms)."""
    ap = QpackParser(
        prog="qpack",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--version", action="version", version=f"qpack {__version__}", help="print qpack's version"
    )
    add_common(ap, top=True)
    sub = _OnlyCommand(
        ap.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND"), only
    )

    p = sub.add_parser(
        "layouts",
        help="list the shipped layouts, or print one to copy or extend",
        description="List the layouts shipped with qpack, each with its one-line description; with "
        "--show NAME print that layout's TOML, to copy into a file of your own or to extend "
        '(`extends = "NAME"`).',
    )
    p.add_argument("--json", action="store_true", help="print the list (or the shown layout) as JSON")
    p.add_argument("--show", metavar="NAME", help="print the TOML of the shipped layout NAME")
    p.set_defaults(func=cmd_layouts)

    p = sub.add_parser(
        "scan",
        help="every file of a build: package, module, ELF needs",
        description="Read every file of a staged build (mode, size, sha256, ELF facts) and show the "
        "package each would go to, the module it is, and the libraries it needs (DT_NEEDED). The "
        "diagnostic view: problems that would stop a plan are shown as warnings.",
    )
    _build_args(p)
    p.add_argument("--json", action="store_true", help="print every file as JSON (scan format, version 1)")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser(
        "plan",
        help="the packages a build splits into, their files, modules and requirements",
        description="Decide which package owns each file of the build under the layout, without "
        "writing anything: packages, their modules and requirements, exclusions and warnings. A "
        "layout that does not fit the build (no module found, no file under the prefix, no build "
        "stamp) is an error; --allow-empty plans it anyway.",
    )
    _build_args(p)
    p.add_argument("--json", action="store_true", help="print the plan as JSON (plan format, version 1)")
    p.add_argument("--explain", action="store_true", help="show which layout rule claimed each file")
    p.add_argument(
        "--files",
        action="store_true",
        help="list each package's files (piped: one `package<TAB>file` line per file)",
    )
    p.add_argument(
        "--graph",
        metavar="FILE",
        help="also write the packages and their requirements as Graphviz DOT to FILE, and as SVG "
        "beside it when `dot` is installed (FILE.svg: DOT to FILE.dot; `-`: DOT to stdout only)",
    )
    p.set_defaults(func=cmd_plan)

    _split_parser(sub)

    p = sub.add_parser(
        "check",
        help="which module file the loader would use in an installed prefix, and whether it loads",
        description="Work out statically, from the layout's loader model, which file each module "
        "of an installed prefix would be loaded from and whether it would load; nothing is run. "
        "Exit status 0: every module present loads (or no program present uses it); 1: problems found; "
        "2: bad usage.",
    )
    p.add_argument("prefix", nargs="?", help="the installed prefix (a venv, /usr; inside --root if given)")
    # install, list and uninstall take --prefix: check takes it too, so one command line serves all four.
    p.add_argument("--prefix", dest="prefix_option", metavar="PREFIX", help="the same, as an option")
    p.add_argument(
        "--layout", "-l", required=True, help="shipped layout name (see `qpack layouts`) or a .toml path"
    )
    p.add_argument("--root", help="judge PREFIX inside this staged root (DESTDIR), as if installed")
    add_env_option(p)
    p.add_argument("--pkgversion", help="the build's package version, for {pkgversion} locations")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_check)

    from qpack.cli_install import add_parsers as add_install_parsers

    add_install_parsers(sub)  # install, uninstall, list, preserve: qpack/cli_install.py

    from qpack.cli_docs import add_parsers as add_docs_parsers
    from qpack.cli_report import add_parser as add_report_parser

    add_report_parser(sub)  # report: qpack/cli_report.py
    add_docs_parsers(sub)  # completion, man: qpack/cli_docs.py

    p = sub.add_parser(
        "demo",
        help="build the demo program, split it, install two modules and run it",
        description="The whole story on the bundled demo program: build it with the system C "
        "compiler, plan and split it into wheels, install the core plus the chosen modules into a "
        "temporary prefix, run the installed program and show which modules its loader loaded.",
    )
    p.add_argument(
        "--modules", default="ui-gtk,block-curl", help="modules to install (default: ui-gtk,block-curl)"
    )
    p.add_argument("--keep", metavar="DIR", help="keep the build, wheels and prefix in DIR")
    p.add_argument("--json", action="store_true", help="print the demo's tables and lines as JSON")
    p.set_defaults(func=cmd_demo)
    # Output options (--debug, -q, -v, --no-progress, --color, --header) after the subcommand too.
    add_common_to_subcommands(ap)
    return ap


def _give_back_big_buffers() -> None:
    """Have glibc serve each allocation of 128 KiB or more from its own mapping, unmapped when
    freed. By default glibc raises that threshold to the largest block freed so far (up to 32
    MiB), and from then on such blocks stay in a thread's heap once freed: the scan's whole-file
    buffers (LIEF reads an ELF file whole) and the writers' chunks made the peak memory grow with
    the build (bench peak_rss_mb, wheels of the quarter and the full build: 115 -> 149 MB; with
    this 109 -> 110 MB, and no slower). A no-op where the C library has no mallopt."""
    from qpack._malloc import set_mmap_threshold

    set_mmap_threshold(128 * 1024)


def main(argv: Sequence[str] | None = None) -> int:
    if sys.stderr is None:  # started with it closed (`2>&-`): messages go nowhere, statuses stay
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the whole run
    ap = parser(command_in(sys.argv[1:] if argv is None else argv))
    args = ap.parse_args(argv)
    _give_back_big_buffers()
    out = make_out(args)
    func: Handler = args.func
    try:
        return int(func(args, out))
    except QpackError as e:
        if args.debug:
            import traceback  # only here: 5 ms of every start otherwise

            traceback.print_exc()
        for line in e.warnings if isinstance(e, PlanError) else ():
            sys.stderr.write(f"warning: {line}\n")
        for line in str(e).splitlines() or [type(e).__name__]:
            sys.stderr.write(f"error: {line}\n")
        return e.exit_status
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except RuntimeError as e:
        # Ctrl-C while a class was being made by a lazy import: Python wraps it ("Error calling
        # __set_name__"); it is still the user's interrupt, not a crash.
        if not isinstance(e.__cause__, KeyboardInterrupt):
            raise
        sys.stderr.write("error: interrupted\n")
        return 130
    except BrokenPipeError:
        # `qpack plan ... | head`: the reader went away; not an error of ours.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run() -> NoReturn:
    """The `qpack` command (the console script and `python -m qpack`): `main`, then an exit
    that skips the interpreter's teardown. Freeing every object and module of a scan or an
    install took 33-49 ms after the work was done (a tenth of `qpack install`'s time, bench
    install_vs_pip); the exit handlers still run, and the output is flushed first. `main`
    itself returns, for callers in the same process."""
    try:
        status = main()
    except SystemExit as e:  # argparse: --help, --version and usage errors
        status = _exit_status(e.code)
    except KeyboardInterrupt:
        # Ctrl-C before `main` handles it (while the parser is built or the options are read,
        # the first milliseconds): the same one line as after.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.write("error: interrupted\n")
        status = 130
    _exit(status)


def _exit_status(code: object) -> int:
    """The exit status `sys.exit(code)` gives."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def _exit(status: int) -> NoReturn:
    import atexit
    import threading

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    mp = sys.modules.get("multiprocessing")
    if run_exit_handlers is None or threading.active_count() > 1 or (mp and mp.active_children()):
        sys.exit(status)  # something still runs: the ordinary exit waits for it
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(status)  # a profiler, coverage or a debugger writes its results after this returns
    run_exit_handlers()  # what the interpreter runs at exit (temporary directories' finalizers)
    try:
        if sys.stdout is not None:  # None: started with it closed
            sys.stdout.flush()
    except BrokenPipeError:
        pass  # `qpack plan ... | head`: the reader went away; not an error of ours (as in main)
    except (OSError, ValueError) as e:
        if sys.stderr is not None:
            sys.stderr.write(f"error: cannot write the output: {getattr(e, 'strerror', None) or e}\n")
        status = status or 2
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    run()
