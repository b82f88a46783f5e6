"""`qpack check`: which file the program's loader would use for each module of an installed
prefix, and whether it would load, worked out statically from the loader model.

For each executable the layout names, the check walks the loader's search locations with the
given environment (empty by default, so the verdict does not depend on the caller's shell),
as the loader would: `first-found` looks every module up by name and takes the first existing
file, `register-all` registers every module file of every location and keeps the first of each
id. The file taken is then judged as the loader and the dynamic linker would judge it:

- `unreadable`: not ELF, truncated, no permission;
- `machine`: another ELF class or machine than the executable's;
- `other-build`: it does not export the stamp symbol the executable holds;
- `missing-library`: a DT_NEEDED library (or one of theirs) the dynamic linker would not find
  (`qpack.ldpaths`), leaving out what the executable itself has loaded;
- `dependency`: a module it needs loaded first is missing or will not load, transitively;
- `shadowed`: the file taken will not load while a later copy would;
- `never-looked-up`: an ELF file in a search location, where a module would be, under a name the
  loader never asks for;
- `unused`: no program present asks for it, though others would: every executable's module
  table leaves it out (a module for another target's emulator). Reported, not a failure: a
  distribution ships every target's modules in one package (Debian's qemu-system-common). A
  module one program loads is not reported for the programs whose table leaves it out;
- `no-entry`: it does not define the entry symbol the loader calls (`[loader] entry`: GIO's
  g_io_module_load, GStreamer's gst_plugin_<name>_get_desc): the loader refuses it;
- `not-searched`: a module installed where the loader looks by default (an empty
  environment), which the environment given hides (a variable that replaces the search path:
  GST_PLUGIN_SYSTEM_PATH, OPENSSL_MODULES) and no searched location provides (this machine's
  modules outside a prefix checked on / are a note: none of the prefix's files);
- `duplicate`: two files in one location give one module to a `register-all` loader, which
  depends on directory order to pick one;
- `missing-helper`: a program the loader runs is not where it looks for it;
- `version` (added by `qpack.upgrades`, not judged here): the module's distribution has
  another version than the installed core's;
- `not-found` (added by `with_unfound`, from what was installed: `qpack.upgrades`, an
  install): a module an installed distribution holds that the loader does not find, its file
  where no search location reaches (a loader that is not relocatable, a module moved) or gone.

This module imports the loader model and the ELF readers, never the plan: a check has no
packaging policy and works on any prefix, however the modules got there. Nothing from the
prefix is loaded, linked or run.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import os
import posixpath
import re
import stat
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal, TypeVar, get_args

from qpack.elf import (
    ELF_MAGIC,
    RELOCATABLE,
    ElfReadError,
    LinkFacts,
    dynamic_symbols,
    dynamic_symbols_path,
    elf_file_type,
    elf_machine,
    has_interpreter,
    held_stamps,
    held_stamps_pyelftools,
    read_dynamic_facts,
    read_link_facts,
    stamp_regex,
    stamp_value,
)
from qpack.errors import QpackError, did_you_mean
from qpack.globs import WILDCARDS, compile_glob, expand_prefix
from qpack.ldpaths import (
    NOT_ELF,
    TRUNCATED,
    ElfFile,
    LibraryFinder,
    Reads,
    Root,
    ld_library_path,
    missing_phrase,
    open_regular,
    read_elf_file,
)
from qpack.loader import (
    Loader,
    Naming,
    SearchLocation,
    canon_pkgversion,
    is_slip,
    library_dir,
    naming_slip,
    near_directory,
    other_version,
    other_version_dir,
    stamp_version_unmatched,
    type_dir_slips,
    type_name_slips,
)
from qpack.modinfo import ModuleInfo, read_module_table
from qpack.modinfo import dependencies as table_dependencies

JSON_VERSION = 1

ProblemKind = Literal[
    "other-build",
    "shadowed",
    "dependency",
    "missing-library",
    "machine",
    "unreadable",
    "never-looked-up",
    "no-entry",
    "unused",
    "not-searched",
    "duplicate",
    "missing-helper",
    "missing-symbol",
    "version",  # not the loader's: qpack.upgrades, from the installed distributions' metadata
    "not-found",  # likewise: with_unfound, from what was installed
]
PROBLEM_KINDS: tuple[ProblemKind, ...] = get_args(ProblemKind)


class CheckError(QpackError):
    """The check cannot be run as asked (no such prefix, no executable found...)."""


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    detail: str


HELPER_ROW = "helper:"  # how a helper program's row is labelled: `helper:pxgsettings`


@dataclass(frozen=True, kw_only=True)
class ModuleVerdict:
    """One module (or one file the loader never asks for) as the loader would see it."""

    module: str
    file: str | None  # the file the loader would use, as the program sees its path
    loads: bool
    problems: tuple[Problem, ...] = ()
    copies: tuple[str, ...] = ()  # other files of the same module the loader passes over
    executables: tuple[str, ...] = ()

    @property
    def unused(self) -> bool:
        """No program present asks for it (`unused` problems only): reported, not a failure."""
        return bool(self.problems) and all(p.kind == "unused" for p in self.problems)

    @property
    def stray(self) -> bool:
        """A file the loader never looks up (`never-looked-up` only): no module of its own."""
        return bool(self.problems) and all(p.kind == "never-looked-up" for p in self.problems)

    @property
    def helper(self) -> bool:
        """A helper program's row (`[[loader.helpers]]`), not a module's."""
        return self.module.startswith(HELPER_ROW)

    @property
    def fails(self) -> bool:
        """A problem that makes the check fail: anything but `unused`."""
        return any(p.kind != "unused" for p in self.problems)

    def to_json(self) -> dict[str, object]:
        return {
            "module": self.module,
            "file": self.file,
            "loads": self.loads,
            "problems": [{"kind": p.kind, "detail": p.detail} for p in self.problems],
            "copies": list(self.copies),
            "executables": list(self.executables),
        }


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    prefix: str
    root: str
    layout: str
    executables: tuple[str, ...]
    modules: tuple[ModuleVerdict, ...]
    locations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # exe -> dirs searched
    warnings: tuple[str, ...] = ()
    # exe -> why it cannot start (a library of its own missing): a failure even with no module
    cannot_start: Mapping[str, str] = field(default_factory=dict)
    # Files named like modules that are the other modules' libraries (libpurple's libjabber.so):
    # no module, so no `not-found` for an install that placed one.
    libraries: tuple[str, ...] = ()
    # No directory the loader searches is inside the prefix (checked on /): the modules judged
    # are this machine's, not the prefix's (a warning says which variable reaches them).
    elsewhere: bool = False
    # What the check left undone by its own bounds, not the prefix's fault (--verbose shows them):
    # a libgphoto2 tester's layout, whose only location is the library directory, warned on
    # every check, a clean /usr too, that 1000 files had been read for an entry symbol.
    details: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.cannot_start and not any(m.fails for m in self.modules)

    def summary(self) -> dict[str, object]:
        """Counts by module, not by row: a module judged differently by two programs has a row
        for each. `load`: modules that load for every program asking for them; `unused`:
        modules no program present asks for; helper programs (`helper:NAME` rows) and files the
        loader never looks up are not modules; `some`: modules that load for some of their
        programs only. `problems`: each kind once per module and file, however many programs
        meet it (one i386 plugin in a directory 19 programs of a library loader search is one
        problem), and each program that cannot start once (`cannot_start` of them)."""
        present: dict[str, list[ModuleVerdict]] = {}
        for m in self.modules:
            # A module installed where the loader model places none of its files has no file,
            # and is a module all the same (`not-found`): "0 of 0 load" hid 13 of them.
            placed = m.file is not None or any(p.kind == "not-found" for p in m.problems)
            if placed and not m.helper and not m.stray:
                present.setdefault(m.module, []).append(m)
        # A program that cannot start fails every module it loads: one problem, said once, not
        # one per module (a strongSwan tester read "0 of 77 modules load; 77 problem(s)" of
        # plug-ins loading in 8 programs, for two programs missing a system library).
        not_started = set(self.cannot_start.values())
        distinct = {
            (m.module, m.file, p.kind)
            for m in self.modules
            for p in m.problems
            if p.detail not in not_started
        }
        kinds: dict[str, int] = {}
        for _, _, kind in distinct:
            kinds[kind] = kinds.get(kind, 0) + 1
        load = sum(1 for rows in present.values() if all(r.loads for r in rows))
        return {
            "modules": len(present),
            "load": load,
            # Modules loading for some of their programs only (the others, say, cannot start).
            "some": sum(1 for rows in present.values() if any(r.loads for r in rows)) - load,
            "unused": sum(1 for rows in present.values() if all(r.unused for r in rows)),
            "problems": sum(n for kind, n in kinds.items() if kind != "unused") + len(not_started),
            "cannot_start": len(self.cannot_start),
            "by_kind": dict(sorted(kinds.items())),
        }

    def to_json(self) -> dict[str, object]:
        return {
            "version": JSON_VERSION,
            "prefix": self.prefix,
            "root": self.root,
            "layout": self.layout,
            "executables": list(self.executables),
            "locations": {k: list(v) for k, v in self.locations.items()},
            "modules": [m.to_json() for m in self.modules],
            "summary": self.summary(),
            "warnings": list(self.warnings),
            "details": list(self.details),
            "cannot_start": dict(self.cannot_start),
        }


def said_below(text: str, cannot_start: Iterable[str]) -> str:
    """`text` (a row's problems) with each reason a program cannot start cut to "PROGRAM cannot
    start (below)": it fails every module the program loads, so text output says it once, below
    the rows (a Samba tester's 64 rows each repeated smbd's missing libraries in full). JSON
    keeps each row's whole problem."""
    for why in cannot_start:
        text = text.replace(why, f"{why.partition(' cannot start')[0]} cannot start (below)")
    return text


def text_rows(
    verdicts: Iterable[ModuleVerdict], cannot_start: Iterable[str]
) -> list[tuple[str, str, str, str]]:
    """(module, file, loads, problems) for text output: problems as `said_below` cuts them, and
    the rows of a module that differ only in which program cannot start made one, naming them
    all (a Knot DNS tester read each module twice, once for knotd and once for knotc, told
    apart only at the end of a long line). JSON keeps a row per program."""
    starts = set(cannot_start)
    merged: dict[tuple[str, str, str, str, tuple[str, ...]], list[str]] = {}
    judges: dict[tuple[str, str, str, str, tuple[str, ...]], list[str]] = {}
    for v in verdicts:
        # A file the loader never looks up is no module: it neither loads nor fails to (a Qt
        # tester read "no" beside "6 of 6 modules load").
        loads = "yes" if v.loads else "unused" if v.unused else "-" if v.stray else "no"
        others = "; ".join(f"{p.kind}: {p.detail}" for p in v.problems if p.detail not in starts)
        down = [p for p in v.problems if p.detail in starts]
        key = (v.module, v.file or "-", loads, others, tuple(sorted({p.kind for p in down})))
        programs = merged.setdefault(key, [])
        for p in down:
            program = p.detail.partition(" cannot start")[0]
            if program not in programs:
                programs.append(program)
        judged = judges.setdefault(key, [])
        judged += [e for e in v.executables if e not in judged]
    # A module judged otherwise by other programs: each row names its programs (an Ardour
    # tester's surfaces-cc121 read "yes", "no", "no" on three rows alike but for the verdict).
    rows_of = Counter((module, file) for module, file, *_ in merged)
    rows = []
    for (module, file, loads, others, kinds), programs in merged.items():
        said = [others] if others else []
        if programs:
            said.append(f"{', '.join(kinds)}: {' and '.join(programs)} cannot start (below)")
        judged = judges[module, file, loads, others, kinds]
        if rows_of[module, file] > 1 and judged:
            said.append(f"for {_some_programs(judged)}")
        rows.append((module, file, loads, "; ".join(said)))
    return rows


def taken_elsewhere(
    report: CheckReport,
    installed: Mapping[str, tuple[str | None, str]],
    ways_in: Mapping[str, str] | None = None,
) -> list[str]:
    """A warning for each module of `installed` (module id -> its file as the program sees it,
    and the distribution that installed it) that a program takes from another file: it "will
    load", but not the copy installed (Mesa's tester: the host's /usr/lib/x86_64-linux-gnu/dri
    first; a Kerberos tester's prefix whose core holds preauth/spake.so, where the loader reads
    only the host's plug-in directory, checked clean). `ways_in`: a wheels directory -> the
    setting (`VAR=value`) that has the programs look there."""
    return taken_elsewhere_lines(taken_elsewhere_by_module(report, installed), ways_in)


def _unless_set(directory: str, ways_in: Mapping[str, str] | None) -> str:
    """' unless VAR=value is set (...)' where a variable has the programs look in `directory`
    (a uim tester read "never look there" of modules the layout's variable reaches)."""
    setting = (ways_in or {}).get(directory.rstrip("/"))
    return f" unless {setting} is set (`--env {setting}` checks so)" if setting else ""


def taken_elsewhere_lines(
    lines: Sequence[tuple[str, str, tuple[str, str, str] | None]], ways_in: Mapping[str, str] | None = None
) -> list[str]:
    """The warnings of `taken_elsewhere_by_module`'s rows, those alike for many in one line."""
    # Alike for many (a LADSPA tester's venv checked without --env: 25 warnings, one a plug-in,
    # buried the advice to set LADSPA_PATH): one line for them, with a few ids.
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for module, _, key in lines:
        if key is not None:
            groups[key].append(module)
    out: list[str] = []
    for module, line, key in lines:
        if key is None or len(groups[key]) <= _ALIKE_SHOWN:
            if key is not None and (unless := _unless_set(key[2], ways_in)):
                line = line.replace(" there: the copy installed", f" there{unless}: the copy installed", 1)
            out.append(line)
        elif groups[key][0] == module:
            takes, there, mine = key
            ids = groups[key]
            shown = ", ".join(ids[:_ALIKE_SHOWN]) + f" and {len(ids) - _ALIKE_SHOWN} more"
            out.append(
                f"{len(ids)} modules installed in {mine} ({shown}) are not the copies loaded: {takes} "
                f"those in {there} and never {'looks' if takes.endswith('takes') else 'look'} in {mine}"
                f"{_unless_set(mine, ways_in)}"
            )
    return list(dict.fromkeys(out))


_ALIKE_SHOWN = 3  # modules taken elsewhere alike, said one a line; more are said in one


def taken_elsewhere_by_module(
    report: CheckReport, installed: Mapping[str, tuple[str | None, str]]
) -> list[tuple[str, str, tuple[str, str, str] | None]]:
    """(module id, warning, what makes it alike others) for each program row of
    `taken_elsewhere`: (the programs, the directory of the file they take, that of the copy
    installed) where they never look where it was installed, else None."""
    out: list[tuple[str, str, tuple[str, str, str] | None]] = []
    for v in report.modules:
        mine = installed.get(v.module)
        if mine is None or v.file is None or v.file == mine[0] or not v.executables:
            continue
        if mine[0] is not None and _same_file(report.root, v.file, mine[0]):
            continue  # one file, named through a symlink (a Varnish tester's linked prefix)
        one = len(v.executables) == 1
        programs = f"{_some_programs(v.executables)} {'takes' if one else 'take'}"
        takes = f"{programs} {v.file}"
        key = None
        if mine[0] is None:  # none of the distribution's files is placed as the module
            line = f"{v.module}: installed by {mine[1]} where the loader does not look, but {takes}"
        else:
            passed = _passed(report, v, mine[0])
            line = f"{v.module}: installed as {mine[0]} by {mine[1]}, but {takes} {passed}"
            if passed.startswith("and never look"):
                key = (programs, posixpath.dirname(v.file), posixpath.dirname(mine[0]))
        line += ": the copy installed is not the one loaded"
        out.append((v.module, line, key))
    return out


def _passed(report: CheckReport, v: ModuleVerdict, file: str) -> str:
    """How the programs of row `v` come to take its file over `file`, the copy installed."""
    one = len(v.executables) == 1
    rt = Root(report.root)
    taken = _search_rank(report, v, v.file or "")
    mine = _search_rank(report, v, file, _name_under(report, v, v.file or ""))
    if not os.path.lexists(rt.host(file)):
        # Wherever it was to be searched (an Evolution tester's deleted plug-in, searched after
        # /usr's through EDS_EXTRA_PREFIXES: "and never looks there").
        return "(the copy installed is gone)"
    if rt.resolve(file) is None:
        # Searched or not (a Guile re-tester's link to a lost .so.9 was "never looks there
        # unless GUILE_EXTENSIONS_PATH is set", with it set).
        return "(the copy installed is a dangling link)"
    if mine is not None and (taken is None or mine < taken):
        # Searched first and passed over (an LXQt tester's cut-short libmount.so was said to
        # be taken "first" from /usr; a Gwyddion tester's overwritten pixmap.so).
        passes = "passes" if one else "pass"
        if not _starts_as_elf(file, rt):
            return f"and {passes} over the copy installed, which is no ELF file"
        return f"and {passes} over the copy installed, which {'it' if one else 'they'} cannot load"
    if file in v.copies or mine is not None:
        return "first"  # searched after the copy taken, however it is
    # "take ... and never look there" for several programs (a Grilo tester).
    return f"and never {'looks' if one else 'look'} there"


def _search_rank(report: CheckReport, v: ModuleVerdict, path: str, name: str | None = None) -> int | None:
    """The place in the first program's search order of the directory holding `path` (under
    the name `name` there, when given), or None."""
    dirs = report.locations.get(v.executables[0], ()) if v.executables else ()
    return next(
        (
            i
            for i, d in enumerate(dirs)
            if path.startswith(d.rstrip("/") + "/") and name in (None, path[len(d.rstrip("/")) + 1 :])
        ),
        None,
    )


def _name_under(report: CheckReport, v: ModuleVerdict, path: str) -> str | None:
    """The name `path` has under the first directory of the search order holding it: the name
    the loader looks a module up by. A copy installed in a directory searched, under another
    name (a GTK tester's `3.0.O` typed for `3.0.0`, and `immodules/im-ibus.so` one level below
    the `gtk-3.0` also searched), is never looked up there: "passed over, cannot load" was said."""
    dirs = report.locations.get(v.executables[0], ()) if v.executables else ()
    d = next((d.rstrip("/") for d in dirs if path.startswith(d.rstrip("/") + "/")), None)
    return None if d is None else path[len(d) + 1 :]


def _searched(report: CheckReport, path: str) -> bool:
    """Whether `path` is under a directory some program of the report searches."""
    return any(path.startswith(d.rstrip("/") + "/") for dirs in report.locations.values() for d in dirs)


def _some_programs(paths: Sequence[str], shown: int = 3) -> str:
    """Programs named in a line: a few, then how many more (an Open MPI tester's 34 programs,
    each linking the loader library, in every line of seven)."""
    if len(paths) <= shown + 1:
        return ", ".join(paths)
    return f"{', '.join(paths[:shown])} and {len(paths) - shown} more programs"


def _same_file(root: str, a: str, b: str) -> bool:
    """Whether two paths, as the program sees them under install root `root`, are one file; a
    dangling link is one with itself through a linked directory (a Gambas tester's venv, lib64 ->
    lib: "installed as lib/gambas3/gb.xml.so, but gbx3 takes lib64/gambas3/gb.xml.so")."""
    a, b = os.path.join(root, a.lstrip("/")), os.path.join(root, b.lstrip("/"))
    try:
        return os.path.samefile(a, b)
    except OSError:
        pass
    try:
        return os.path.basename(a) == os.path.basename(b) and os.path.samefile(
            os.path.dirname(a), os.path.dirname(b)
        )
    except OSError:
        return False


def cannot_start_lines(whys: Iterable[str]) -> list[str]:
    """Each reason a program cannot start (`CheckReport.cannot_start`), once for all the programs
    it holds for: a darktable tester's five programs missing the same 14 libraries (those of
    libdarktable.so) printed five near-identical blocks of 2 KB each."""
    groups: dict[str, list[str]] = {}
    for why in whys:
        exe = why.partition(" cannot start")[0]
        groups.setdefault(why.replace(exe, "\0"), []).append(exe)
    out = []
    for key, exes in groups.items():
        if len(exes) == 1:
            out.append(key.replace("\0", exes[0]))
            continue
        shown = ", ".join(exes[:-1]) + f" and {exes[-1]}"
        out.append(shown + key.removeprefix("\0").replace("\0", "each"))
    return out


def with_unfound(
    report: CheckReport,
    installed: Mapping[str, tuple[str | None, str]],
    host: Path,
    ways_in: Mapping[str, str] | None = None,
) -> CheckReport:
    """The report with a `not-found` row for each module of `installed` (module id -> its file
    as the program sees it, or None when none of the distribution's files is placed as a
    module; and the distribution that installed it) that no program's loader finds: a prefix
    holding modules where no search location reaches passes no longer. `host` is the root the
    files are under, to tell a file the loader does not reach from one gone. `ways_in`: directory
    -> the variable setting through which the layout has the loader find the modules wheels put
    there (`SearchLocation.wheel_dir`), said beside a module found for want of it."""
    found = {m.module for m in report.modules if m.file is not None and not m.stray}
    libraries = set(report.libraries)
    # In search order (a Thunar tester read x86_64-linux-gnu/thunarx-3 named after thunarx-3).
    searched = _searched_dirs(report.locations)
    where = ", ".join(searched) if searched else "nowhere (no search location applies)"
    strays = {
        m.file: m.problems[0].detail.partition("the loader never looks this file up (")[2].removesuffix(")")
        for m in report.modules
        if m.stray
        and m.file is not None
        and m.problems
        and "never looks this file up (" in m.problems[0].detail
    }
    merged: set[str] = set()  # the strays said on the module's row instead
    moved: dict[str, list[str]] | None = None  # file name -> paths in the prefix, read when needed
    rows = []
    for mid, (file, dist) in sorted(installed.items()):
        if mid in found or file in libraries:
            continue
        if file is None:
            why = f"installed by {dist}, but none of its files is where the loader looks for it"
        elif not (host / file.lstrip("/")).exists():
            why = f"{file}: installed by {dist}, but the file is gone"
            if moved is None:
                moved = _files_by_name(host, report.prefix)
            if elsewhere := sorted(p for p in moved.get(posixpath.basename(file), []) if p != file):
                # Moved within the prefix, not gone (a gThumb re-tester's libsearch.so moved to
                # lib/gthumb/extensions was "gone": a packager would reinstall, not fix the path).
                why = f"{file}: installed by {dist}, but the file is not there: {elsewhere[0]} is (moved?)"
        elif _searched(report, file) and not _starts_as_elf(file, Root(host)):
            # Where the loader looks, but no ELF file, so passed over (a Gwyddion tester's
            # pixmap.so overwritten with text was called "where the loader does not look").
            problem = Problem(
                "unreadable", f"{file}: installed by {dist}, but it is no ELF file: the loader passes over it"
            )
            rows.append(ModuleVerdict(module=mid, file=file, loads=False, problems=(problem,)))
            continue
        elif (reason := strays.get(file)) is not None:
            # Where it looks, and passed over (a Totem tester's skipto without its keyfile was
            # said to be "where the loader does not look", naming the directory it is in): the
            # stray's reason, on one row.
            why = f"{file}: installed by {dist}, but the loader never takes it ({reason})"
            merged.add(file)
        else:
            why = f"{file}: installed by {dist} where the loader does not look (it searches {where})"
            way = next((w for d, w in (ways_in or {}).items() if file.startswith(d + "/")), None)
            if way is not None:
                why += f"; the layout's way in for wheels: {way}"
        problem = Problem("not-found", why)
        rows.append(ModuleVerdict(module=mid, file=file, loads=False, problems=(problem,)))
    if not rows:
        return report
    # A stray named by its stem is no row of the module it is named like (lib/demo/ui-curses.so
    # beside a ui-curses installed at ui/curses.so and gone): named by its file then.
    unfound = {r.module for r in rows}
    kept = [
        dataclasses.replace(m, module=posixpath.basename(m.file))
        if m.stray and m.file is not None and m.module in unfound
        else _installed_dependencies(m, unfound)
        for m in report.modules
        if not (m.stray and m.file in merged)
    ]
    modules = sorted([*kept, *rows], key=lambda m: (m.module, m.file or "", m.executables))
    return dataclasses.replace(report, modules=tuple(modules))


_MOVED_WALK = 100_000  # files of a prefix read at most to find a module's file moved in it


def _files_by_name(host: Path, prefix: str) -> dict[str, list[str]]:
    """File name -> the paths (as the program sees them) of the files in `prefix` under `host`,
    the first `_MOVED_WALK` of them (a prefix as large as /usr is not read whole for this)."""
    top = host / prefix.lstrip("/")
    out: dict[str, list[str]] = {}
    seen = 0
    for dirpath, _, names in os.walk(top):
        for n in names:
            out.setdefault(n, []).append("/" + posixpath.relpath(posixpath.join(dirpath, n), host))
            seen += 1
        if seen >= _MOVED_WALK:
            break
    return out


def _installed_dependencies(verdict: ModuleVerdict, unfound: set[str]) -> ModuleVerdict:
    """The verdict with each dependency said to be "not installed" that a distribution did
    install, its file gone or unreachable, said so (a lighttpd tester read "needs module 'auth',
    which is not installed" under auth's own row: installed, but the file is gone)."""
    problems = tuple(
        dataclasses.replace(
            p, detail=f"needs module {mid!r}, which is installed but not found (its row says why)"
        )
        if p.kind == "dependency"
        and (
            mid := p.detail.removeprefix("needs module ").partition(", which is not installed")[0].strip("'")
        )
        in unfound
        and p.detail.startswith(f"needs module {mid!r}, which is not installed")
        else p
        for p in verdict.problems
    )
    return verdict if problems == verdict.problems else dataclasses.replace(verdict, problems=problems)


# --------------------------------------------------------------------------- finding executables


def _glob_paths(root: Root, pattern: str) -> list[str]:
    """Absolute paths inside the root matching a root-relative glob: the directories above the
    first wildcard are taken as they are, the rest is walked one segment per level."""
    parts = pattern.split("/")
    literal = 0
    while literal < len(parts) - 1 and not any(c in parts[literal] for c in WILDCARDS):
        literal += 1
    regex = compile_glob(pattern)
    depth = len(parts) - literal if "**" not in pattern else 16
    out: list[str] = []

    def walk(d: str, level: int) -> None:
        for name in root.listdir(d):
            path = posixpath.join(d, name)
            if regex.match(path.lstrip("/")):
                out.append(path)
            if level < depth and root.is_dir(path):
                walk(path, level + 1)

    walk("/" + "/".join(parts[:literal]), 1)
    return sorted(set(out))


@dataclass(frozen=True, kw_only=True)
class _Exe:
    path: str  # as named (program view)
    real: str  # /proc/self/exe: symlinks resolved
    elf: ElfFile
    stamps: tuple[str, ...]
    table: tuple[ModuleInfo, ...] | None = None  # the module table it holds, where it has one
    target: str | None = None  # QEMU: the emulator's target, from qemu-system-<target>
    # The loader library standing for the programs that would link it, when none of bindir
    # does (used only from Python, GI or ctypes): relocated locations are then taken from
    # this directory, the prefix's bindir, as a program installed there would find them.
    program_dir: str | None = None
    unstartable: str | None = None  # why it cannot start besides its libraries (a script's exec bit)

    @property
    def directory(self) -> str:
        """The directory the program runs from (/proc/self/exe's), for relocated locations."""
        return self.program_dir or posixpath.dirname(self.real)


# --------------------------------------------------------------------------- search locations


@dataclass(frozen=True, kw_only=True)
class _Context:
    loader: Loader
    root: Root
    env: Mapping[str, str]
    pkgversion: str | None
    notes: list[str]
    prefix: str = ""  # the prefix checked, as the program sees it: `{prefix}` in program-types
    # Files named like modules that are the modules' libraries (`_drop_module_libraries`).
    libraries: set[str] = field(default_factory=set)
    # Locations not searched for want of a value to fill in ({pkgversion}, HOME): why, each.
    unfilled: list[str] = field(default_factory=list)
    # (directory, the variables set) -> this machine's modules there that those hide.
    machine_modules: dict[tuple[str, str], dict[str, None]] = field(default_factory=dict)
    # Files named as no module read for an entry symbol (`_ENTRY_READS` at most) -> the first
    # entry each defines, or None.
    entries_read: dict[str, str | None] = field(default_factory=dict)
    # A stray candidate's file -> whether it is no stray at all, judged once for all programs (an
    # OpenSSL tester's libcrypto, loaded by 35 programs: each read 9,000 files again).
    not_strays: dict[tuple[str, str], bool] = field(default_factory=dict)
    # (directories, modules wanted) -> what `find` saw there.
    finds: dict[tuple[tuple[str, ...], frozenset[str], tuple[tuple[str, str], ...]], _Found] = field(
        default_factory=dict
    )
    # Location -> files one level below where the loader reads that would be modules one level
    # up (`_one_level_down`): said in a note each location, not failing the check.
    deeper: dict[str, list[str]] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)  # CheckReport.details
    # The symbol versions each module read needs, by path: whether `[loader.stamp] version`
    # matches any (`fit.stamp_version_unmatched`).
    version_needs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Dangling links where the loader looks, which it passes over (`skip_dangling`).
    dangling_skipped: dict[str, None] = field(default_factory=dict)
    # Hidden files named as modules where a `skip_hidden` loader looks, which it skips.
    hidden_skipped: dict[str, None] = field(default_factory=dict)
    # ELF files named as modules where the loader never looks, no copy of a module found (one
    # level below a location, beside it defining an entry, in its multiarch twin) -> where:
    # `never-looked-up` rows (`_misplaced_rows`), as a misnamed file where it looks is.
    misplaced: dict[str, str] = field(default_factory=dict)
    misplaced_as: dict[str, str] = field(default_factory=dict)  # such a file -> the module it would be
    # Module files read for a stamp compared by value -> whether each defines its symbol: none
    # of two or more is the layout's typo (`_value_symbol_nowhere`).
    value_defined: dict[str, bool] = field(default_factory=dict)

    @functools.cached_property
    def package_globs(self) -> list[re.Pattern[str]]:
        """`Loader.package_files` compiled as `_named_globs` compiles `named_files`, once a check."""
        return _globs_under(self, self.loader.package_files)

    @functools.cached_property
    def every_entry(self) -> re.Pattern[str] | None:
        """`Loader.every_entry`, compiled once for the check."""
        return self.loader.every_entry()


def _note(ctx: _Context, note: str) -> None:
    """A note of the check, each once."""
    if note not in ctx.notes:
        ctx.notes.append(note)


def _detail(ctx: _Context, detail: str) -> None:
    """A detail of the check (`CheckReport.details`), each once."""
    if detail not in ctx.details:
        ctx.details.append(detail)


def _under_root(ctx: _Context) -> str:
    """' under ROOT' when the check reads a staged root, for messages about paths inside it."""
    return "" if str(ctx.root.root) == "/" else f" under {ctx.root.root}"


def _placeholders(value: str, ctx: _Context, *, optional: bool = False) -> str | None:
    """An absolute location with its placeholders filled, or None when one is unknown.
    `optional` (the location's `optional = true`): a per-user directory with no HOME given is
    passed over without a note (a Node tester's two `{home}` locations said so in every command)."""
    home = ctx.env.get("HOME")
    if optional and not home and any(p in value for p in ("{home}", "{xdg_data_home}", "{xdg_config_home}")):
        xdg = [v for v in ("XDG_DATA_HOME", "XDG_CONFIG_HOME") if "{" + v.lower() + "}" in value]
        if not any(ctx.env.get(v, "").startswith("/") for v in xdg):
            return None
    if home and not home.startswith("/") and "{home}" in value:
        # Relative to a working directory check does not know (a Sylpheed tester's HOME=home5
        # was searched as /home5 in silence).
        _note(ctx, f"{value}: not searched: HOME={home} is relative (give an absolute --env HOME=...)")
        return None
    if "{home}" in value:
        if not home:
            _note(
                ctx,
                f"{value}: not searched: no HOME given (the program's environment is --env's, not "
                "qpack's: give --env HOME=...)",
            )
            return None
        value = value.replace("{home}", home)
    # {xdg_config_home}: OBS's and HexChat's per-user plug-ins.
    for variable, default in (("XDG_DATA_HOME", ".local/share"), ("XDG_CONFIG_HOME", ".config")):
        placeholder = "{" + variable.lower() + "}"
        if placeholder not in value:
            continue
        # A relative XDG_* value is to be ignored (the XDG base directory specification).
        given = ctx.env.get(variable)
        at_home = f"{home}/{default}" if home and home.startswith("/") else None
        where = given if given and given.startswith("/") else at_home
        if not where:
            _note(
                ctx,
                f"{value}: not searched: neither {variable} nor HOME given (the program's environment "
                "is --env's, not qpack's: give --env HOME=...)",
            )
            ctx.unfilled.append(f"{value} (give --env HOME=...)")
            return None
        value = value.replace(placeholder, where)
    if "{pkgversion}" in value:
        if ctx.pkgversion is None:
            ctx.notes.append(f"{value}: not searched: give --pkgversion to fill {{pkgversion}}")
            ctx.unfilled.append(f"{value} (give --pkgversion)")
            return None
        value = value.replace("{pkgversion}", canon_pkgversion(ctx.pkgversion))
    return value


def _relocated(loc: SearchLocation, exe: _Exe, finder: LibraryFinder, ctx: _Context) -> str | None:
    loader = ctx.loader
    configured = posixpath.join(loader.prefix, loc.value)
    exe_dir = exe.directory
    if loader.bundle is not None:
        bundle = posixpath.join(exe_dir, loader.bundle)
        if ctx.root.is_dir(bundle):
            return bundle + configured
    if not loader.relocatable:
        return configured
    if loc.anchor is None:
        anchor_dir, anchor_rel = exe_dir, loader.bindir
    else:
        lib = _find_anchor(loc.anchor, exe, finder) or _dlopened_anchor(loc, exe, finder, ctx)
        if lib is None:
            ctx.notes.append(f"{loc.anchor}: the library anchoring {loc.value} is not loaded by {exe.path}")
            return None
        anchor_dir, anchor_rel = posixpath.dirname(lib), posixpath.dirname(loc.anchor)
    up = len([p for p in anchor_rel.split("/") if p])
    base = anchor_dir
    for _ in range(up):
        base = posixpath.dirname(base)
    return posixpath.join(base, loc.value)


def _find_anchor(anchor: str, exe: _Exe, finder: LibraryFinder) -> str | None:
    """Where the anchor library is loaded from for this executable (by its file name)."""
    name = posixpath.basename(anchor)
    if exe.elf.facts is None:
        return None
    if exe.program_dir is not None and name in (posixpath.basename(exe.path), posixpath.basename(exe.real)):
        return exe.real  # the loader library standing for its programs is the anchor itself
    todo, seen = [exe.elf], {exe.elf.path}
    while todo:
        cur = todo.pop()
        assert cur.facts is not None
        for needed in cur.facts.needed:
            lib = finder.find(needed, cur)
            if lib is None or lib.path in seen:
                continue
            if needed == name or posixpath.basename(lib.path) == name:
                return lib.path
            seen.add(lib.path)
            todo.append(lib)
    return None


def _dlopened_anchor(loc: SearchLocation, exe: _Exe, finder: LibraryFinder, ctx: _Context) -> str | None:
    """For a program that does not link the anchor library: the copy its `dlopen` of the
    anchor's file name would open (its RUNPATH, LD_LIBRARY_PATH, ld.so.cache, the default
    directories), said in a note. A Vulkan tester's vulkaninfo opens libvulkan.so.1 at run time;
    it was named by the layout and then judged with no location at all, in silence."""
    assert loc.anchor is not None
    name = posixpath.basename(loc.anchor)
    if exe.elf.facts is None or ".so" not in name:
        return None
    found = finder.find(name, exe.elf)
    if found is None:
        return None
    # Said instead of "judged as loading the modules itself", which it contradicts (a Vulkan
    # re-tester read both of vulkaninfo).
    ctx.notes[:] = [
        n for n in ctx.notes if not (n.startswith(f"{exe.path}: named by") and "modules itself" in n)
    ]
    _note(
        ctx,
        f"{exe.path} does not link {name}: {loc.value} judged from {found.path}, "
        f"the copy its dlopen of {name} would open",
    )
    return found.path


def _absolute_entries(variable: str, value: str, listed: bool, ctx: _Context) -> list[str]:
    """A variable's directories (`value` split at ':' when `listed`): the absolute ones. A
    relative one is opened from the program's working directory, which a check does not know:
    not searched, and said so. So is an empty entry (`:/opt/x`, `/a::/b`, or a one-directory
    variable set to nothing): by its own rule a program skips it (GStreamer), opens `/<file>`
    (SANE, Mesa, QEMU join it with '/') or the bare file name (libvirt). A list set to nothing
    is a list of none (GST_PLUGIN_SYSTEM_PATH=""), not said. An absolute one that is no
    directory (in the root checked) is searched, and said to hold nothing."""
    entries = value.split(":") if listed else [value]
    for e in entries:
        if not e and listed and not value:
            continue
        if not e:
            note = (
                f"${variable}: an empty directory entry: not searched (programs skip it, or look in / "
                "or by the bare file name there)"
            )
        elif not e.startswith("/"):
            # Searched all the same (a GTK re-tester's GTK_PATH=rel: GTK opened rel/3.0.0/...),
            # where a check cannot follow.
            note = (
                f"${variable}: {e!r} is relative: the program searches it from its working directory, "
                "which a check does not know (not judged)"
            )
        elif not ctx.root.is_dir(e):
            # Read inside the root with --root (rsyslog's tester gave host paths there, and
            # neither variable had any effect, unsaid).
            note = f"${variable}: {e} is no directory{_under_root(ctx)}: nothing found there"
        else:
            continue
        _note(ctx, note)
    return [e for e in entries if e.startswith("/")]


def _location_dir(loc: SearchLocation, exe: _Exe, finder: LibraryFinder, ctx: _Context) -> str | None:
    """The directory a relocated or absolute location names for this executable, or None."""
    if loc.kind == "relocated":
        return _relocated(loc, exe, finder, ctx)
    return _placeholders(loc.value, ctx, optional=loc.optional)


def _variable_set(loc: SearchLocation, ctx: _Context) -> str | None:
    """The variable of an env location (or of its fallbacks, the first one set) the loader reads
    in the environment given, or None. A variable set to nothing is unset for a loader that
    tests `*value` too (an xine tester: XINE_PLUGIN_PATH= searched the defaults, check searched
    nothing)."""
    return next((n for n in loc.variables if n in ctx.env and (ctx.env[n] or not loc.ignore_empty)), None)


def search_dirs(exe: _Exe, finder: LibraryFinder, ctx: _Context) -> list[str]:
    """The directories the loader searches for this executable, in order."""
    dirs: list[str] = []
    skip = False  # the location an env location set with `replaces = "next"` stands in for
    for loc in ctx.loader.search:
        if skip:
            skip = False
            continue
        if loc.kind == "env":
            name = _variable_set(loc, ctx)
            if name is None:
                continue
            value = ctx.env[name]
            entries = _absolute_entries(name, value, loc.path_list, ctx)
            dirs += loc.under(entries)
            if loc.replaces_rest:
                break
            skip = loc.replaces_next
            continue
        d = _location_dir(loc, exe, finder, ctx)
        if d is not None:
            dirs.append(d)
            if loc.replaces_rest and ctx.root.is_dir(d):
                break  # the directory exists: the locations after it are not searched
    out: list[str] = []
    for d in dirs:
        norm = posixpath.normpath(d) if d.startswith("/") else posixpath.normpath(posixpath.join("/", d))
        if norm not in out:
            out.append(norm)
    return out


# --------------------------------------------------------------------------- what is found


@dataclass
class _Found:
    """Module id -> the files the loader sees for it, in search order; and stray files."""

    files: dict[str, list[str]] = field(default_factory=dict)
    types: dict[str, tuple[str, str]] = field(default_factory=dict)
    never: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    dangling: dict[str, str] = field(default_factory=dict)  # module id -> its first dangling link
    undescribed: dict[str, str] = field(default_factory=dict)  # file without its descriptor -> module id


def _listing(root: Root, d: str, depth: int) -> Iterator[str]:
    """Paths relative to `d` of the files under it, `depth` directory levels deep at most, in
    strcmp order of each level (as a loader reading directories in sorted order)."""

    def walk(rel: str, level: int) -> Iterator[str]:
        here = posixpath.join(d, rel) if rel else d
        for name in root.listdir(here):
            sub = f"{rel}/{name}" if rel else name
            full = posixpath.join(d, sub)
            if root.is_dir(full):
                if level < depth:
                    yield from walk(sub, level + 1)
            else:
                yield sub

    yield from walk("", 0)


def _find_in(
    found: _Found, d: str, depth: int, ctx: _Context, wanted: set[str], own: Mapping[str, list[str]]
) -> None:
    """The files of one search directory, as deep as the loader reads; and one level below,
    in a location of its own, the files that would be modules one level up. Those are likely
    misplaced, as plan says of a build (a MariaDB tester's plugin/sub/disks.so, "3 of 3
    modules load", exit 0, unsaid); a note, not a problem: Python's and Lua's loaders take
    `pkg/mod.so` for a dotted name (a CPython tester's dist-packages/samba/*.so), which the
    naming cannot say."""
    loader = ctx.loader
    if loader.skip_links and os.path.islink(ctx.root.host(d.rstrip("/"))):
        # Its walk takes no link, the directory it starts from neither (a Babeltrace re-tester's
        # plugins -> plugins-2.0: "No plugins found", where check said 4 of 4 load).
        _note(
            ctx, f"{d}: a symlink, which the loader does not walk (it takes no link): nothing is found there"
        )
        return
    below = depth + 1 if loader.naming.owns_location() else depth
    seen_here: dict[str, str] = {}
    for rel in _listing(ctx.root, d, below):
        if rel.count("/") <= depth:
            _sort(found, posixpath.join(d, rel), rel, ctx, seen_here, wanted, own)
        elif _one_level_down(rel, loader) and loader.too_deep(rel) is not None:
            files = ctx.deeper.setdefault(d, [])
            if rel not in files:
                files.append(rel)


def find(dirs: list[str], ctx: _Context, wanted: set[str]) -> _Found:
    """What the loader sees in its search directories: for `register-all`, every module file in
    order; for `first-found`, each wanted module (and each module a directory holds) looked up
    by name through the directories, every existing candidate in order. A type whose own
    variable is set (`type_env`) is looked for in that directory only. Each set of
    directories is read once a check, for every program searching them (an OpenSSL tester's
    libcrypto, loaded by 140 programs of /usr/bin, had /usr/lib/x86_64-linux-gnu sorted 140
    times); each caller gets a copy of its own to change."""
    # The environment too: a type's own variable decides where its modules are looked for, and
    # `_hidden_rows` looks again with none.
    key = (tuple(dirs), frozenset(wanted), tuple(sorted(ctx.env.items())))
    if key not in ctx.finds:
        ctx.finds[key] = _find(dirs, ctx, wanted)
    done = ctx.finds[key]
    return _Found(
        files={m: list(f) for m, f in done.files.items()},
        types=dict(done.types),
        never=list(done.never),
        duplicates={m: list(f) for m, f in done.duplicates.items()},
        dangling=dict(done.dangling),
        undescribed=dict(done.undescribed),
    )


def _find(dirs: list[str], ctx: _Context, wanted: set[str]) -> _Found:
    loader, naming = ctx.loader, ctx.loader.naming
    depth = naming.depth() + loader.depth
    found = _Found()
    every = _own_type_dirs(ctx)
    # A type whose variable is searched first (GraphicsMagick's coders), then the locations;
    # any other type's variable replaces them for that type.
    first = {t: ds for t, ds in every.items() if t in loader.type_env_first}
    own = {t: ds for t, ds in every.items() if t not in first}
    _find_own(found, first, ctx, wanted)
    for d in dirs:
        _find_in(found, d, depth, ctx, wanted, own)
    _find_own(found, own, ctx, wanted)
    if not loader.registers_all:
        for mid in sorted(wanted):
            parsed = found.types.get(mid) or naming.split_id(mid)
            if parsed is None:
                continue
            for path in _candidates(dirs, every, naming, *parsed, first=parsed[0] in first):
                # The loader's access(F_OK): the file exists (links followed, unless it takes none).
                if ctx.root.exists(path) and not (loader.skip_links and os.path.islink(ctx.root.host(path))):
                    found.files.setdefault(mid, []).append(path)
    for mid, path in found.dangling.items():
        # A module whose only file is a dangling link (a PHP tester's exif.so -> /nonexistent):
        # the loader sees its name and cannot open it; it was left out of the check in silence.
        found.files.setdefault(mid, [path])
    if loader.descriptor is not None:
        _by_descriptor(found, dirs, every, ctx)
    if found.never:
        # A module's own code behind its symlink (SASL's libplain.so -> libplain.so.2.0.25)
        # and that file's other names (the SONAME link libplain.so.2) are the module the
        # loader opens, not files it never looks up.
        code = {real for files in found.files.values() for f in files if (real := ctx.root.resolve(f))}
        found.never = [(path, why) for path, why in found.never if ctx.root.resolve(path) not in code]
    return found


def _one_level_down(rel: str, loader: Loader) -> bool:
    """Whether the file at `rel`, one directory level below where the loader reads, would be a
    module's file in the directory above (`ui/sub/x.so` for `ui/x.so`, MariaDB's
    `plugin/sub/disks.so`): misplaced, not another library's plug-ins of a shared location
    (libgphoto2's `other/1/2/x.so`) nor a hidden directory's (`.git/`)."""
    head, _, base = rel.rpartition("/")
    above = head.rpartition("/")[0]
    if any(seg.startswith(".") for seg in head.split("/")):
        return False
    return loader.parse_in_location(f"{above}/{base}" if above else base) is not None


def _by_descriptor(found: _Found, dirs: list[str], every: Mapping[str, list[str]], ctx: _Context) -> None:
    """The files the loader registers where it registers modules by their descriptors (the
    layout's `descriptor`, libpeas's `{name}.plugin`): a module file without its descriptor
    beside it is never registered, and a descriptor claims the module's name in its directory
    even where the module's file is missing, so no later copy is tried (Pluma and Atril testers:
    a plug-in whose keyfile was gone passed as loading, and one whose code was gone passed on a
    later copy the program never reached). A descriptor whose module has no file anywhere is
    left alone: it may name code of another kind (libpeas's `Loader=python3` plug-ins)."""
    loader, naming, root = ctx.loader, ctx.loader.naming, ctx.root
    below = _files_below(dirs, ctx)
    for mid in sorted(found.files):
        parsed = found.types.get(mid) or naming.split_id(mid)
        if parsed is None:
            continue
        found.types.setdefault(mid, parsed)
        # A descriptor of one name for every module (LV2's manifest.ttl) tells no module's file.
        described = [
            f
            for p in below.get(posixpath.basename(loader.descriptor_of("/", mid) or ""), [])
            for f in loader.described_files(p, mid)
            if not loader.descriptor_literal
        ]
        # In search order: the files the naming names in each directory, and those found below
        # it (libpeas reads one level of subdirectories: `depth`), by the directory they are in.
        ranked = [*every.get(parsed[0], []), *dirs]
        candidates = sorted(
            dict.fromkeys(
                [*_candidates(dirs, every, naming, *parsed), *found.files.get(mid, []), *described]
            ),
            key=functools.partial(_search_order, ranked),
        )
        registered = []
        for path in candidates:
            descriptor = loader.descriptor_of(path, mid)
            if descriptor is not None and root.is_file(descriptor):
                registered.append(path)
            elif _lexists(root, path):
                found.never.append((path, f"{_no_descriptor(descriptor or '', root)}, {NO_DESCRIPTOR}"))
                found.undescribed[path] = mid
        # One descriptor registers its module once: a spelling of the naming that is not there
        # is no file claimed where another spelling beside the same descriptor is (a Liferea
        # re-tester's naming ["{name}/__init__.py", "{name}.py"]: every plug-in "not there;
        # shadowed" by its own pane.py).
        there = {loader.descriptor_of(p, mid) for p in registered if _lexists(root, p)}
        registered = [p for p in registered if _lexists(root, p) or loader.descriptor_of(p, mid) not in there]
        if registered:
            found.files[mid] = registered
        else:
            found.files.pop(mid, None)
        found.dangling.pop(mid, None)
    _code_gone(found, dirs, ctx)


def _code_gone(found: _Found, dirs: list[str], ctx: _Context) -> None:
    """A descriptor in a searched directory whose module has no file anywhere (an Evince
    tester's libpsdocument.so removed: Evince still registers the PostScript types its keyfile
    claims and fails every such document; check said "6 of 6 modules load", exit 0): the module
    is registered and its file cannot be opened. Not where a file or directory of the module's
    name beside the descriptor (`foo.py`, `foo/`) may be its code of another kind (libpeas's
    `Loader=python3` plug-ins)."""
    loader, root = ctx.loader, ctx.root
    for d in dirs:
        for rel in _listing(root, d, loader.naming.depth() + loader.depth):
            path = posixpath.join(d, rel)
            ids = loader.descriptor_modules(posixpath.basename(rel)) or loader.literal_descriptor_modules(rel)
            for mid in ids:
                files = loader.described_files(path, mid)
                parsed = loader.naming.split_id(mid)
                # Of the ids the name may give, the one whose file the naming puts beside it.
                if not files or parsed is None or loader.parse_in_location(files[0][len(d) + 1 :]) != parsed:
                    continue
                if mid in found.files or not root.is_file(path) or any(_lexists(root, f) for f in files):
                    break
                # Code of another kind beside it, where the naming names ELF modules; where it
                # names scripts (`{name}.py`), the file it names is the code, but a package
                # directory of the module's name, or its compiled `.pyc`, is code still (a
                # Liferea re-tester's pane/__init__.py for pane.py).
                elf = loader.naming.names_libraries
                own, stems = posixpath.basename(path), (f"{mid}.", f"{parsed[1]}.")
                where = posixpath.dirname(path)
                beside = [e for e in root.listdir(where) if e != own]
                # An ELF file is no code of another kind but a misnamed module (a GNOME Builder
                # tester's wrongname.so beside wrongname.plugin: only the stray was said).
                other = [
                    e
                    for e in beside
                    if (e in (mid, parsed[1]) or (elf and e.startswith(stems)))
                    and not (
                        root.is_file(posixpath.join(where, e))
                        and _starts_as_elf(posixpath.join(where, e), root)
                    )
                ]
                other += [e for e in beside if e in (f"{mid}.pyc", f"{parsed[1]}.pyc")]
                # `Module=` may give the file's stem as well (a Gnote tester's `Module=libtodo` for
                # libtodo.so: its deletion passed, every descriptor taken as naming other code).
                stem = posixpath.basename(files[0]).split(".so")[0]
                if other or _names_other_code(root, path, (mid, parsed[1], stem), elf):
                    break
                found.types.setdefault(mid, parsed)
                found.files[mid] = [files[0]]
                break


NO_DESCRIPTOR = "the descriptor the loader registers it by"


def _files_below(dirs: list[str], ctx: _Context) -> dict[str, list[str]]:
    """File name -> the files of that name below the locations (`depth`), for a registering
    loader with descriptors beside its modules, where a deeper descriptor's module file would be
    beside it (a Totem tester's user vimeo/vimeo.plugin, its code gone, hid the system's)."""
    loader = ctx.loader
    below: dict[str, list[str]] = {}
    if loader.registers_all and loader.depth:
        for d in dirs:
            for rel in _listing(ctx.root, d, loader.naming.depth() + loader.depth):
                below.setdefault(posixpath.basename(rel), []).append(posixpath.join(d, rel))
    return below


def _search_order(dirs: Sequence[str], path: str) -> int:
    """The index of the first of `dirs` that `path` is in, at any depth (len(dirs) if none)."""
    return next((i for i, d in enumerate(dirs) if path.startswith(d.rstrip("/") + "/")), len(dirs))


def _names_other_code(root: Root, descriptor: str, names: Collection[str], elf: bool = True) -> bool:
    """Whether a keyfile descriptor names code other than its module's own: a `Module=` of
    another name (an Evince re-tester's PSdocument.evince-backend copy, `Module=psdocument`,
    was a module whose code is gone), or, where the naming names ELF modules (`elf`), a
    `Loader=` other than C (libpeas's Python; where the naming names `{name}.py`, that file is
    the code: a Liferea tester's pane.py removed passed, "9 of 9 modules load")."""
    try:
        with open_regular(root.host(descriptor)) as f:
            text = f.read(65536).decode("utf-8", "replace")
    except OSError:
        return False
    keys = {
        m.group(1): m.group(2).strip() for m in re.finditer(r"(?m)^[ \t]*(Module|Loader)[ \t]*=(.*)$", text)
    }
    module = keys.get("Module", "").removesuffix(".so")
    other_loader = elf and keys.get("Loader", "c").lower() not in ("c", "")
    return bool(module and module not in names) or other_loader


def _no_descriptor(descriptor: str, root: Root) -> str:
    """What is wrong with a module's descriptor the loader cannot read (an Atril tester's
    keyfile that is a directory passed as present; a dangling link was said to be missing)."""
    base = posixpath.basename(descriptor)
    if root.exists(descriptor):
        return f"{base} beside it is no regular file"
    if _lexists(root, descriptor):
        return f"{base} beside it is a dangling link"
    return f"no {base} beside it"


def _lexists(root: Root, path: str) -> bool:
    """Whether a directory entry (a dangling link too) is at `path` inside the root."""
    parent = root.resolve(posixpath.dirname(path))
    return parent is not None and os.path.lexists(root.host(posixpath.join(parent, posixpath.basename(path))))


def _find_own(found: _Found, own: Mapping[str, list[str]], ctx: _Context, wanted: set[str]) -> None:
    """The modules of the types whose own variable is set, in the directories it names."""
    naming = ctx.loader.naming
    loader = ctx.loader
    for mtype, type_dirs in own.items():
        for d in type_dirs:
            # A directory one of the types sharing this variable has for its `wheels` is that
            # type's (an Octave tester's OCTAVE_PATH, one variable for six packages' types, made
            # each file a module of all six: "162 of 162").
            sharing = [t for t, v in loader.type_env.items() if v == loader.type_env[mtype]]
            wheels = [
                t
                for t in sharing
                if t in loader.type_wheels and posixpath.join(ctx.prefix, loader.type_wheels[t]) == d
            ]
            if wheels and mtype not in wheels:
                continue
            seen_here: dict[str, str] = {}
            for rel in _listing(ctx.root, d, 0):
                # The variable replaces the type's directory: match the patterns' last segment.
                for pattern in naming.patterns_of(mtype):
                    parsed = naming.parse(posixpath.join(posixpath.dirname(pattern), rel))
                    if parsed is not None and parsed[0] == mtype:
                        _sort(found, posixpath.join(d, rel), rel, ctx, seen_here, wanted, {}, parsed)
                        break


def _own_type_dirs(ctx: _Context) -> dict[str, list[str]]:
    """Module type -> the directories its own variable names (one, or a ':'-separated list
    where the layout says `list`: ImageMagick's MAGICK_CODER_MODULE_PATH), for those set."""
    out = {}
    for mtype, var in ctx.loader.type_env.items():
        # Set is set, even to nothing (libvirt: getenv() != NULL replaces the directory).
        if (value := ctx.env.get(var)) is not None:
            listed = mtype in ctx.loader.type_env_list
            # Normalized and each once, as the search path's are (search_dirs).
            out[mtype] = list(
                dict.fromkeys(posixpath.normpath(d) for d in _absolute_entries(var, value, listed, ctx))
            )
    return out


def _candidates(
    dirs: list[str],
    own: Mapping[str, list[str]],
    naming: Naming,
    mtype: str,
    name: str,
    *,
    first: bool = False,
) -> list[str]:
    """The files the loader tries for a module, in order: in its type's variable's directories
    alone, or `first`, before the search directories."""
    files = naming.file_names(mtype, name)
    searched = [posixpath.join(d, f) for d in dirs for f in files]
    if mtype not in own:
        return searched
    theirs = [posixpath.join(d, posixpath.basename(f)) for d in own[mtype] for f in files]
    return [*theirs, *searched] if first else theirs


def _slip_of_name(path: str, rel: str, ctx: _Context) -> bool:
    """Whether the file at `path` is named almost as a descriptor naming's file (`named_almost`);
    where the right name is not there, it is recorded as a module never looked up (a Cockpit
    tester's manifest.jsn: the bridge skips the package, and check said nothing)."""
    naming = ctx.loader.naming
    if (fixed := naming.named_almost(rel)) is None:
        return False
    meant = ctx.loader.parse_in_location(posixpath.join(posixpath.dirname(rel), fixed))
    if meant is not None and not _lexists(ctx.root, posixpath.join(posixpath.dirname(path), fixed)):
        ctx.misplaced.setdefault(path, f"named almost as {fixed!r}, the name the loader reads: a slip?")
        ctx.misplaced_as[path] = naming.module_id(*meant)
    return True


def _sort(  # noqa: PLR0911, PLR0912 - a branch per kind of file the loader meets where it looks
    found: _Found,
    path: str,
    rel: str,
    ctx: _Context,
    seen_here: dict[str, str],
    wanted: set[str],
    own: Mapping[str, list[str]],
    parsed: tuple[str, str] | None = None,
) -> None:
    """One file of a search directory: a module the loader sees, or one it never looks up."""
    loader, naming = ctx.loader, ctx.loader.naming
    parsed = parsed or loader.parse_in_location(rel)
    # A library directory every package shares (a Guile tester's /usr/lib/x86_64-linux-gnu, as
    # Guile searches it): a file there named as no module is a library, unless it defines an
    # entry; 4,089 of them were strays, exit 1, on a healthy system.
    shared = library_dir(path[: -len(rel)])
    if parsed is None and _hidden_module(rel, loader):
        # Said in a note, as the links it passes over are (a Shotwell tester's editor leftover
        # `.libshotwell-transitions.so` went unsaid).
        ctx.hidden_skipped.setdefault(path, None)
        return
    if parsed is None and _slip_of_name(path, rel, ctx):
        return
    if parsed is None:
        # Whatever its name (WeeChat loads typing.SO, LADSPA hosts any file): `_not_a_stray`
        # drops it later if it is no ELF file.
        if loader.could_be_module(rel) and not shared:
            found.never.append(
                (path, "named as modules are with an empty name, which qpack takes as no module")
                if naming.names_nothing(rel)
                else (path, f"it skips names matching {glob!r}, skip-names")
                if (glob := loader.skipped_name(rel)) is not None
                else (path, f"modules are named {naming.describe()}")
            )
        elif (entry := _entry_defined_where_modules_are(path, rel, ctx)) is not None:
            # Named otherwise, yet a module by its symbols (a Janus tester's naming typo,
            # `libjanus-{name}.so`: "0 of 0 modules load" and exit 0 beside 25 plug-ins).
            found.never.append(
                (path, f"it defines {entry}, a module's entry; modules are named {naming.describe()}")
            )
        return
    if parsed[0] in own:
        return  # this type is looked for in its own variable's directory only
    mid = naming.module_id(*parsed)
    if loader.known_modules is not None and mid not in loader.known_modules:
        if not shared:
            found.never.append((path, f"module {mid!r} is not one the loader knows"))
        return
    if (loader.resolution == "register-loadable" or _named_file(path, ctx)) and not _starts_as_elf(
        path, ctx.root
    ):
        # dlopen refuses a file that is no ELF at all: it takes no id and is no module (a README
        # among LADSPA plugins named `{name}`, as hosts dlopen every entry); nor is one the layout
        # gives a package by name (a bash tester's Makefile.inc beside the builtins), as in plan.
        _note_tried_no_elf(path, ctx)
        return
    dangling = ctx.root.stat(path) is None  # listed, yet nothing behind it
    if (dangling and loader.skip_dangling) or (loader.skip_links and os.path.islink(ctx.root.host(path))):
        # Said in a note, not a module (a Babeltrace tester's plug-in symlinked into the
        # directory was "yes", where the directory walk takes regular files only).
        ctx.dangling_skipped.setdefault(path, None)
        return
    found.types.setdefault(mid, parsed)
    if dangling:
        found.dangling.setdefault(mid, path)
    if not loader.registers_all:
        wanted.add(mid)
    elif ctx.root.is_file(path) or _special_file(path, ctx.root):
        # A FIFO, socket or device too: a loader taking every file there opens it and blocks or
        # fails (a HexChat tester's fifo.so hung it), judged `unreadable`.
        if mid in seen_here:
            found.duplicates.setdefault(mid, [seen_here[mid]]).append(path)
        seen_here.setdefault(mid, path)
        found.files.setdefault(mid, []).append(path)


def _note_tried_no_elf(path: str, ctx: _Context) -> None:
    """A note for a file named as a library module that is no ELF file, which a loader trying
    every file fails to open, and says so each time it runs (a Vamp tester's notes.so, "Unable
    to load library ... file too short", was in no row and no note); not one the layout names."""
    if ctx.loader.naming.names_libraries and not _named_file(path, ctx) and ctx.root.is_file(path):
        _note(
            ctx, f"{path}: named as a module and no ELF file: the loader tries it, fails and passes over it"
        )


def _is_program(real: str, root: Root) -> bool:
    """Whether the ELF file at `real` is a program (it has a dynamic linker to run it), not a
    library a loader opens with dlopen (LADSPA's `plate_noext`, mode 0644, loads)."""
    try:
        with open_regular(root.host(real)) as f:
            return has_interpreter(f)
    except (OSError, ElfReadError):
        return False


# Where a script's interpreter named through env(1) is looked for.
_ENV_PATH = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin")


def _script_verdict(
    path: str, real: str, st: os.stat_result | None, root: Root, system: Root
) -> _FileVerdict | None:
    """The verdict of a module that is a script (`#!`), where modules are programs the loader
    runs: it runs when executable and its interpreter is there, in the root or in `system`,
    where a staged tree takes its system files from (a netdata tester's charts.d and python.d
    plug-ins, which netdata runs, were "unreadable: not an ELF file", exit 1, on Debian's own
    install; the monitoring plug-ins' scripts alike; a re-tester's DESTDIR, with no /bin/sh of
    its own, had every script's interpreter "not installed"). None for no script."""
    if (words := _shebang(real, root)) is None:
        return None
    if st is None or not st.st_mode & 0o111:
        mode = f" (mode {stat.S_IMODE(st.st_mode):04o})" if st is not None else ""
        why = f"{path}: a script without the execute bit{mode}: the loader cannot run it"
        return _FileVerdict((Problem("unreadable", why),))
    if _interpreter(words, root, system) is None:
        why = (
            f"{path}: its interpreter {_interpreter_named(words)} is not installed: the loader cannot run it"
        )
        return _FileVerdict((Problem("missing-library", why),))
    return _FileVerdict(())


_PARSED_AT_MOST = 16 << 20  # bytes of a descriptor parsed for its syntax; a larger one is not


def _malformed(host: Path | str) -> str | None:
    """Why a descriptor the program parses itself, named `.xml` or `.json` (IBus's components,
    GNOME Shell's metadata.json) or starting with an XML declaration (Inkscape's `.inx`), is no
    document of its kind: "not well-formed XML (line 3,
    column 0: no element found)"; None for a good one, another kind of file, or one too large to
    read here. Syntax only: expat without a DTD or external entity read, `json` in memory."""
    kind = posixpath.splitext(str(host))[1].lower()
    try:
        with open_regular(host) as f:
            if os.fstat(f.fileno()).st_size > _PARSED_AT_MOST:
                return None
            if kind not in (".xml", ".json"):
                # Or XML by its declaration, whatever its name (an Inkscape tester's `.inx`).
                if not f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml"):
                    return None
                f.seek(0)
            return _json_error(f.read()) if kind == ".json" else _xml_error(f)
    except (OSError, RecursionError):
        return None


def _json_error(data: bytes) -> str | None:
    import json

    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        return f"not JSON: not UTF-8 (at byte {e.start})"
    except json.JSONDecodeError as e:
        return f"not JSON (line {e.lineno}, column {e.colno}: {e.msg})"
    if not isinstance(value, dict):
        # Every descriptor's is an object of keys (a Cockpit tester's `[1,2,3]` manifest was
        # "yes"; the bridge: "Not a JSON object", and skips it).
        kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
        return f"not a JSON object (the document is {kinds.get(type(value), 'null')})"
    return None


def _xml_error(f: BinaryIO) -> str | None:
    from xml.parsers import expat

    parser = expat.ParserCreate()
    try:
        parser.ParseFile(f)
    except expat.ExpatError as e:
        why = expat.errors.messages[e.code]
        return f"not well-formed XML (line {e.lineno}, column {e.offset}: {why})"
    return None


def _readable_by(st: os.stat_result) -> str | None:
    """Who alone may read a file where it is not everyone ("readable by no user", "readable by
    its owner root only"), else None: a program run as a user cannot open it."""
    if not st.st_mode & 0o444:
        return "readable by no user"
    if not st.st_mode & 0o044 and st.st_uid == 0:
        return "readable by its owner root only"
    return None


def _shebang(real: str, root: Root) -> list[str] | None:
    """The words of a script's `#!` line, as the kernel reads it: the first line, split at spaces
    and tabs only, a carriage return part of the name (a CUPS re-tester's CRLF filter,
    `#!/bin/sh\r`: "No such file"); None for no script."""
    try:
        with open_regular(root.host(real)) as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip(" \t")
    return [w for w in re.split(r"[ \t]+", line) if w]


def _interpreter_named(words: Sequence[str]) -> str:
    """The interpreter a `#!` line names: NAME for `env NAME`."""
    first = words[0] if words else ""
    if posixpath.basename(first) == "env" and len(words) > 1:
        return next((w for w in words[1:] if not w.startswith("-")), "")
    return first


def _interpreter(words: Sequence[str], root: Root, system: Root) -> tuple[str, Root] | None:
    """The interpreter a `#!` line (`words`) runs (`env NAME`: NAME in PATH), and the tree it is
    in: the root, else `system`, where a staged tree takes its system files from; None if in
    neither."""
    roots = (root, system) if str(system.root) != str(root.root) else (root,)
    named = _interpreter_named(words)
    if not named:
        return None
    # `env NAME` looks NAME up in PATH; any other first word is the interpreter's path.
    paths = [named] if words and named == words[0] else [posixpath.join(d, named) for d in _ENV_PATH]
    return next(((p, r) for r in roots for p in paths if r.exists(p)), None)


def _special_file(path: str, root: Root) -> bool:
    """Whether `path` is there, and neither a regular file nor a directory."""
    st = root.stat(path)
    return st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


# --------------------------------------------------------------------------- judging one file


@dataclass(frozen=True, slots=True)
class _FileVerdict:
    problems: tuple[Problem, ...]


def _unresolved(root: Root, path: str, scans: bool) -> str:
    """Why the module file at `path`, which does not resolve, cannot be opened: a loader that
    scans its directories (`scans`) may pass over it (GStreamer: "not a regular file, ignoring",
    xine: "unable to stat") or try it and fail (Asterisk: "Error loading module"); one that
    looks a module up by name opens it and fails."""
    fate = "the loader cannot load it" if scans else "the loader cannot open it"
    try:
        target = os.readlink(root.host(path))
    except OSError:
        return f"{path}: a dangling link or a path through a file"
    if _loops(root, path):
        # A BitlBee tester's a.so -> b.so -> a.so, called dangling (plan said a loop).
        return f"{path}: a symlink loop (to {target}): {fate}"
    if (end := _missing_end(root, path)) is not None and posixpath.basename(end) != posixpath.basename(
        target
    ):
        # Through links that are there, to one that is not: the missing one is named (a glvnd
        # tester's libGLX_indirect.so.0 -> libGLX_mesa.so.0 -> libGLX_mesa.so.0.0.0, gone).
        return f"{path}: a dangling link (to {target}, whose chain ends at {end}, which is not there): {fate}"
    return f"{path}: a dangling link (to {target}): {fate}"


def _missing_end(root: Root, path: str) -> str | None:
    """The path a chain of symlinks from `path` leads to that does not exist, followed inside
    the root (40 links at most, as the kernel does); None where it ends elsewhere."""
    current = path
    for _ in range(40):
        try:
            target = os.readlink(root.host(current))
        except OSError:
            return current if not os.path.lexists(root.host(current)) else None
        base = "/" if target.startswith("/") else posixpath.dirname(current)
        current = posixpath.normpath(posixpath.join(base, target))
    return None


def _loops(root: Root, path: str) -> bool:
    """Whether following the symlink at `path` inside the root comes back to a link seen."""
    seen: set[str] = set()
    current = path
    while current not in seen:
        seen.add(current)
        try:
            target = os.readlink(root.host(current))
        except OSError:
            return False  # a file, or nothing: the chain ends
        current = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
    return True


class _Judge:
    """Judges module files for one executable; verdicts are memoized by resolved path."""

    def __init__(self, exe: _Exe, ctx: _Context, finder: LibraryFinder, exe_libs: set[str]) -> None:
        self.exe = exe
        self.ctx = ctx
        self.finder = finder
        self.exe_libs = exe_libs
        self._loaded: list[ElfFile] | None = None
        self._by_soname: dict[str, ElfFile] | None = None
        # (resolved path, entry) -> the verdict, and the path it was judged by
        self.memo: dict[tuple[str, tuple[str, ...]], tuple[_FileVerdict, str]] = {}
        # The version nodes defined by what the program has loaded (itself and its libraries).
        self.versions: set[str] = set()
        if ctx.loader.stamp_version is not None:
            for obj in self.loaded():
                if obj.facts is not None:
                    self.versions |= obj.facts.version_defs

    def loaded(self) -> list[ElfFile]:
        """The program and every library the dynamic linker loads for it, walked once."""
        if self._loaded is None:
            self._loaded = [self.exe.elf, *_loaded_objects(self.exe.elf, self.finder).values()]
        return self._loaded

    def judge(self, path: str, module: str = "") -> _FileVerdict:
        real = self.ctx.root.resolve(path)
        if real is None:
            descriptor = self.ctx.loader.descriptor_of(path, module) if module else None
            if descriptor is not None and not _lexists(self.ctx.root, path):
                why = (
                    f"{path}: not there, while its descriptor {descriptor} is: the loader registers the "
                    "module and cannot open its file"
                )
                return _FileVerdict((Problem("unreadable", why),))
            return _FileVerdict(
                (Problem("unreadable", _unresolved(self.ctx.root, path, self.ctx.loader.registers_all)),)
            )
        if self.ctx.loader.runner_of(path) is not None:
            return self._run_or_read(path, real)
        entry = self.entry(module)
        if entry and self.ctx.loader.entry_through_links:
            entry = (*entry, *self._target_entry(path, real, entry))
        key = (real, entry)
        if key not in self.memo:
            self.memo[key] = (self._judge(path, real, entry), path)
        verdict, first = self.memo[key]
        if first == path or not verdict.problems:
            return verdict
        # One file under several names (a CUPS tester's cgmtopdf -> vectortopdf links): each
        # row's details name its own path, not the one judged first.
        return _FileVerdict(
            tuple(dataclasses.replace(p, detail=p.detail.replace(first, path)) for p in verdict.problems)
        )

    def entry(self, module: str) -> tuple[str, ...]:
        return self.ctx.loader.entry_symbols(module)

    def _run_or_read(self, path: str, real: str) -> _FileVerdict:
        """A module file another module runs, or the program reads: no ELF file; it loads when
        that one does, unless a user cannot read it (a GNOME Shell re-tester's metadata.json of
        mode 0000: "Permission denied" to the shell, "yes" to a check run as root), or the
        program would read nothing from it."""
        st = self.ctx.root.stat(real)
        if st is not None and (who := _readable_by(st)) is not None and not self._runs_as_root():
            why = f"{path}: {who} (mode {stat.S_IMODE(st.st_mode):04o}): only root can read it"
            return _FileVerdict((Problem("unreadable", why),))
        if _special_file(real, self.ctx.root):
            # A FIFO named as a descriptor: the program's read blocks for ever, waiting for a
            # writer (a Cockpit tester's manifest.json: the bridge hangs; check did too).
            why = (
                f"{path}: not a regular file (a FIFO, socket or device): reading it blocks the "
                "program or fails"
            )
            return _FileVerdict((Problem("unreadable", why),))
        if st is not None and st.st_size == 0 and self.ctx.loader.runner_of(path) == "":
            # Data the program reads itself, of nothing: a download that failed (a Tesseract
            # tester's empty eng.traineddata: "Failed loading language", where check said yes).
            return _FileVerdict((Problem("unreadable", f"{path}: an empty file: the program reads nothing"),))
        if (
            st is not None
            and self.ctx.loader.runner_of(path) == ""
            and (bad := _malformed(self.ctx.root.host(real)))
        ):
            # A descriptor the program parses (an IBus tester's component XML cut short: IBus
            # logs "Parse ... failed: Document ended unexpectedly" and leaves the engine out).
            return _FileVerdict((Problem("unreadable", f"{path}: {bad}: the program cannot read it"),))
        return _FileVerdict(())

    def _target_entry(self, path: str, real: str, entry: tuple[str, ...]) -> tuple[str, ...]:
        """The entry symbols of the module named by the file a symlinked module file leads to
        (`entry_through_links`): uWSGI retries `python311_plugin` in `python3_plugin.so`, a link
        to `python311_plugin.so`; none for a file that is no link, or a target named as none."""
        if not os.path.islink(self.ctx.root.host(path)):
            return ()
        return tuple(e for e in self.ctx.loader.entries_named_by(real) if e not in entry)

    def wanted(self, entry: tuple[str, ...]) -> tuple[str, ...]:
        """The symbol names looked up in a module: the stamps (a value stamp's symbol), and the
        entry symbols."""
        loader = self.ctx.loader
        if loader.stamp_value is not None and loader.stamp_symbol is not None:
            return (loader.stamp_symbol, *entry) if self.exe.stamps else entry
        return (*self.exe.stamps, *entry)

    def _stamp_refused(self, path: str, real: str, facts: LinkFacts, held: tuple[str, ...]) -> str | None:
        """Why the program refuses a module for its build stamp (it does not export the one the
        program holds; or, compared by value as pppd's `pppd_version` is, "Plugin ... is for
        pppd version 2.4.8, this is 2.4.9", the string its symbol holds is none the program
        holds); None where the stamp is right, or the program holds none to compare."""
        symbol = self.ctx.loader.stamp_symbol
        if symbol is None or not held:
            return None
        another = "a module from another build"
        if self.ctx.loader.stamp_value is None:
            good = bool(facts.defines & set(held))
            return (
                None
                if good
                else f"{path}: does not export {held[0]}, the stamp the program asks for: {another}"
            )
        self.ctx.value_defined[path] = symbol in facts.defines
        if symbol not in facts.defines and self.ctx.loader.stamp_optional:
            return None  # pppd: "Warning: plugin ... has no version information", and loads it
        value = None
        if symbol in facts.defines:
            try:
                with open_regular(self.ctx.root.host(real)) as f:
                    value = stamp_value(f, symbol)
            except (OSError, ElfReadError):
                pass
        if value is None:
            how = "holds no string" if symbol in facts.defines else "is not defined"
            return f"{path}: its {symbol} {how}, the stamp the program compares: {another}"
        if value in held:
            return None
        return f"{path}: its {symbol} is {value!r}, which the program does not hold: {another} or release"

    # What the lazy judge of an install's check (`_LazyJudge`) reads differently.
    def read(self, real: str, entry: tuple[str, ...] = ()) -> ElfFile:
        return self.finder.reads.elf_file(self.ctx.root, real, self.wanted(entry))

    def missing_versions(self, private: list[str]) -> list[str]:
        """Of the private version nodes a module needs, those the program does not define."""
        return [v for v in private if v not in self.versions]

    def missing_libraries(self, elf: ElfFile) -> list[str]:
        return list(self.finder.closure(elf, self.exe_libs)[1])

    def _runs_as_root(self) -> bool:
        """Whether the program is set-user-ID root, so that it reads what only root may (a pppd
        tester's plug-in of mode 0000 was "only root can load it", in pppd, mode 4754 root)."""
        st = self.ctx.root.stat(self.exe.real)
        return st is not None and bool(st.st_mode & stat.S_ISUID) and st.st_uid == 0

    def _judge(self, path: str, real: str, entry: tuple[str, ...]) -> _FileVerdict:
        wanted = self.exe.stamps
        st = self.ctx.root.stat(real)
        if (
            st is not None
            and self.ctx.loader.naming.names_libraries
            and (who := _readable_by(st)) is not None
            and not self._runs_as_root()
        ):
            # Root reads it, and the check ran as root; dlopen in a program run as another user
            # fails (a Wayfire tester's chmod 000 plug-in: "yes"; a Psi+ tester's 0600 one, owner
            # root, as `sudo make install` under umask 077 leaves it).
            why = f"{path}: {who} (mode {stat.S_IMODE(st.st_mode):04o}): only root can load it"
            return _FileVerdict((Problem("unreadable", why),))
        elf = self.read(real, entry)
        if (
            elf.facts is None
            and elf.error == NOT_ELF
            and not self.ctx.loader.naming.names_libraries
            and (script := _script_verdict(path, real, st, self.ctx.root, self.finder.system)) is not None
        ):
            return script
        if elf.facts is None:
            return _FileVerdict((Problem("unreadable", f"{path}: {elf.error}"),))
        exe = self.exe.elf.facts
        assert exe is not None
        facts = elf.facts
        if (unfit := _unfit(path, facts, exe)) is not None:
            return _FileVerdict((unfit,))
        if (
            not self.ctx.loader.naming.names_libraries
            and st is not None
            and not st.st_mode & 0o111
            and _is_program(real, self.ctx.root)
        ):
            # A program the loader runs, as a script is (a CUPS tester's 0644 filter and a
            # netdata re-tester's 0644 plug-in were "yes"; exec says "Permission denied").
            why = (
                f"{path}: a program without the execute bit (mode {stat.S_IMODE(st.st_mode):04o}): the "
                "loader cannot run it"
            )
            return _FileVerdict((Problem("unreadable", why),))
        problems: list[Problem] = []
        refused = self._stamp_refused(path, real, facts, wanted)
        if entry and not facts.defines & set(entry):
            which = entry[0] if len(entry) == 1 else f"any of {', '.join(entry)}"
            # An entry that is the build stamp itself (Zathura's zathura_plugin_4_5) is one
            # fact, said once: a Zathura tester's helper library was "from another build" too.
            also = ""
            if refused is not None and self.ctx.loader.stamp_value is None and set(entry) <= set(wanted):
                refused, also = None, " (the build stamp the program asks for too)"
            problems.append(
                Problem(
                    "no-entry",
                    f"{path}: does not define {which}, which the loader looks up{also}: it is refused",
                )
            )
        if refused is not None:
            problems.append(Problem("other-build", refused))
        version = self.ctx.loader.stamp_version
        if version is not None:
            self.ctx.version_needs[path] = tuple(facts.version_needs)
            private = sorted(v for v in facts.version_needs if fnmatch.fnmatchcase(v, version))
            missing_nodes = self.missing_versions(private) if private else []
            if missing_nodes:
                problems.append(
                    Problem(
                        "other-build",
                        f"{path}: needs version {missing_nodes[0]}, which the program and its "
                        "libraries do not define: a module from another build",
                    )
                )
        for m in self.missing_libraries(elf):
            problems.append(Problem("missing-library", f"{path}: the dynamic linker would not find {m}"))
        for name, node, lib in self.unmet_versions(elf):
            problems.append(
                Problem(
                    "missing-library",
                    f"{path}: needs version {node} of {name}, which {lib} does not define: the "
                    "dynamic linker refuses it (built against a newer release of that library)",
                )
            )
        return _FileVerdict(tuple(problems))

    def unmet_versions(self, elf: ElfFile) -> list[tuple[str, str, str]]:
        """(library name, version node, the library's path) of each symbol version the module
        needs that the library the dynamic linker gives it for that name does not define (a Qt
        tester's plug-in needing Qt_6.9 of a Qt 6.4 libQt6Core: "version `Qt_6.9' not
        found"). A library defining no versions at all satisfies any (ld.so only warns)."""
        assert elf.facts is not None
        out = []
        stamp = self.ctx.loader.stamp_version  # its nodes are judged as the stamp: other-build
        for name, node in sorted(elf.facts.version_needs_of):
            if stamp is not None and fnmatch.fnmatchcase(node, stamp):
                continue
            lib = self.bound(name, elf)
            defs = self.version_defs(lib) if lib is not None else None
            if defs and node not in defs:
                out.append((name, node, lib.path if lib is not None else name))
        return out

    def bound(self, name: str, elf: ElfFile) -> ElfFile | None:
        """The object ld.so binds NEEDED `name` of module `elf` to: one the program has loaded
        under that name, else the one the module's own search finds."""
        if self._by_soname is None:
            self._by_soname = {}
            for obj in self.loaded():
                if obj.facts is not None and obj.facts.soname:
                    self._by_soname.setdefault(obj.facts.soname, obj)
        return self._by_soname.get(name) or self.finder.find(name, elf)

    def version_defs(self, lib: ElfFile) -> frozenset[str] | None:
        """The version nodes `lib` defines (None: not read)."""
        return lib.facts.version_defs if lib.facts is not None else None


# --------------------------------------------------------------------------- the check


def _stamps(path: str, real: str, ctx: _Context) -> tuple[str, ...]:
    """The stamp names a loader file (a program, or the loader's library) holds."""
    glob = ctx.loader.stamp_spec
    if glob is None or ctx.loader.types_for(path, ctx.prefix) == ():  # a program that loads no module
        return ()
    try:
        with open_regular(ctx.root.host(real)) as f:
            stamps = held_stamps(f, glob)
    except (OSError, ElfReadError):
        stamps = ()
    if not stamps:
        ctx.notes.append(f"{path}: holds no {_stamp_named(ctx.loader)}: same-build checks skipped for it")
    return stamps


_T = TypeVar("_T")  # where a symbol was found: a program or a library


def _refused(
    verdicts: list[ModuleVerdict], why_of: Callable[[ModuleVerdict], str | None]
) -> list[ModuleVerdict]:
    """`verdicts`, each module judged loading that `why_of` says the dynamic linker cannot bind
    refused (`missing-symbol`, with that reason)."""
    out = []
    for v in verdicts:
        why = why_of(v) if v.loads and v.file else None
        if why is not None:
            v = dataclasses.replace(v, loads=False, problems=(*v.problems, Problem("missing-symbol", why)))
        out.append(v)
    return out


class _HostLibraries:
    """The prefix's libraries some of the programs load and others do not (strongSwan's
    libcharon: charon links it, pki does not), and whether a module a program finds needs one of
    them that the program lacks: a symbol it binds as it is loaded, which only such a library
    defines, and which neither the module's own libraries nor the program's define. The
    dynamic linker refuses that module in that program ("undefined symbol: charon"), though its
    file and libraries are there. Nothing is read unless such a library exists."""

    def __init__(
        self, programs: Sequence[tuple[_Exe, LibraryFinder, set[str]]], ctx: _Context, system: Root
    ) -> None:
        self.ctx = ctx
        self.system = system  # where the libraries found outside the root are (ElfFile.system)
        self.libs: dict[str, ElfFile] = {}  # name the programs need it by -> the library
        self._imports: dict[tuple[bool, str], frozenset[str]] = {}
        self._exports: dict[tuple[bool, str], frozenset[str]] = {}
        self._undefined: dict[tuple[bool, str], frozenset[str]] = {}
        self._definers: dict[str, list[str]] | None = None  # symbol -> the names in `libs` defining it
        self.programs = [(exe, finder) for exe, finder, _ in programs]
        if len(programs) < 2:
            return
        names = [closure for _, _, closure in programs]
        partial = set[str]().union(*names) - names[0].intersection(*names[1:])
        pre = ctx.prefix.rstrip("/") + "/"
        for exe, finder, closure in programs:
            if not partial & closure:
                continue
            for lib in _loaded_objects(exe.elf, finder).values():
                if lib.facts is None or lib.system or not lib.path.startswith(pre):
                    continue
                for name in _names(lib) & partial:
                    self.libs.setdefault(name, lib)

    def judge(
        self, exe: _Exe, finder: LibraryFinder, closure: set[str], verdicts: list[ModuleVerdict]
    ) -> list[ModuleVerdict]:
        """`verdicts` with each module the program cannot bind refused (`missing-symbol`)."""
        verdicts = self._other_programs_api(exe, finder, closure, verdicts)
        if self.ctx.loader.unresolved_refused:
            verdicts = self._defined_nowhere(exe, finder, verdicts)
        lacking = {name: lib for name, lib in self.libs.items() if name not in closure}
        if lacking:
            # A library another module of the program links may be there first, and visible
            # to the others under RTLD_GLOBAL (Dovecot's sieve/ plug-ins bind libdovecot-sieve,
            # which lmtp loads with its sieve plugin): not counted as lacking, whatever the
            # loader's flags (under RTLD_LOCAL the module is refused all the same: not said).
            brought = set[str]().union(*(self._brings(finder, closure, v) for v in verdicts if v.loads))
            lacking = {name: lib for name, lib in lacking.items() if name not in brought}
        if not lacking:
            return verdicts
        return _refused(verdicts, lambda v: self._unbound(exe, finder, closure, v, lacking))

    def _other_programs_api(
        self, exe: _Exe, finder: LibraryFinder, closure: set[str], verdicts: list[ModuleVerdict]
    ) -> list[ModuleVerdict]:
        """`verdicts` with each module refused that binds, as it is loaded, a symbol another
        program exports and this one lacks, where that program loads none of the types this one
        does: a module built for it, put where this one looks (a ConnMan tester's wireguard.so,
        connman-vpnd's, in connmand's plug-in directory: it binds vpn_register, which connmand
        does not export, and dlopen refuses it). Programs sharing a type are passed over: their
        modules of that type bind what both export, and reading every program's exports would
        cost every check of QEMU's emulators and tools."""
        mine = self.ctx.loader.types_for(exe.path, self.ctx.prefix)
        if mine is None:
            return verdicts
        others = []
        for other, _ in self.programs:
            theirs = self.ctx.loader.types_for(other.path, self.ctx.prefix)
            if other.real != exe.real and theirs is not None and not set(theirs) & set(mine):
                others.append(other)
        if not others:
            return verdicts
        return _refused(verdicts, lambda v: self._binds_other_api(exe, finder, closure, v, others))

    def _defined_nowhere(
        self, exe: _Exe, finder: LibraryFinder, verdicts: list[ModuleVerdict]
    ) -> list[ModuleVerdict]:
        """`verdicts` with each module refused that binds, as it is loaded, a symbol that
        nothing defines: not the program, the libraries loaded with it, the module's own, nor
        any module file found for the program with its libraries (an `RTLD_GLOBAL` loader's
        earlier modules). Only where the layout says so (`unresolved = "refused"`): a Mosquitto
        tester's plug-in built for a newer broker, and apr-util's and ConnMan's, were judged
        loading; dlopen refuses them ("undefined symbol")."""
        root = self.ctx.root
        if finder.closure(exe.elf, set())[1]:
            return verdicts  # the program cannot start: said once, not as each module's symbols
        program = (exe.elf, *_loaded_objects(exe.elf, finder).values())
        world = frozenset().union(*(self._symbols(o) for o in program))
        there = {o.path for o in program}
        every: list[frozenset[str]] = []  # what every module found exports: read once, if needed

        def why(v: ModuleVerdict) -> str | None:
            real = root.resolve(v.file) if v.file else None
            module = finder.reads.elf_file(root, real) if real is not None else None
            # A module whose own libraries are missing lacks their symbols for that reason (a
            # udisks re-tester's btrfs module without libgudev: "built for another release?").
            if module is None or module.facts is None or finder.closure(module, set())[1]:
                return None
            own = list(_loaded_objects(module, finder).values())
            mine = world.union(self._symbols(module), *(self._symbols(o) for o in own))
            # The module, and each library it brings that the program does not load: dlopen
            # binds them all (a Mosquitto re-tester's plug-in linking a stale helper library).
            for obj in (module, *(o for o in own if o.path not in there)):
                needs = self._symbols(obj, imports=self.ctx.loader.binding == "lazy", undefined=True)
                left = set(needs - mine)
                if left:
                    every[:] = every or [self._every_module_export(verdicts, finder)]
                    left -= every[0]
                if left:
                    sym = min(left)
                    more = f" (and {len(left) - 1} more of its symbols)" if len(left) > 1 else ""
                    who = v.file if obj is module else f"{obj.path} (needed by {v.file})"
                    return (
                        f"{who}: binds {sym}{more} as it is loaded, which nothing defines: not "
                        f"{exe.path}, the libraries loaded with it, the module's own, nor any module "
                        '(unresolved = "refused"): the dynamic linker refuses it '
                        "(a module it needs missing, or one built for another release?)"
                    )
            return None

        return _refused(verdicts, why)

    def _every_module_export(self, verdicts: list[ModuleVerdict], finder: LibraryFinder) -> frozenset[str]:
        """What every module file of `verdicts` and the libraries each loads export."""
        out: set[str] = set()
        for v in verdicts:
            real = self.ctx.root.resolve(v.file) if v.file else None
            module = finder.reads.elf_file(self.ctx.root, real) if real is not None else None
            if module is None or module.facts is None:
                continue
            out |= self._symbols(module)
            for obj in _loaded_objects(module, finder).values():
                out |= self._symbols(obj)
        return frozenset(out)

    def _binds_other_api(
        self, exe: _Exe, finder: LibraryFinder, closure: set[str], v: ModuleVerdict, others: list[_Exe]
    ) -> str | None:
        assert v.file is not None
        real = self.ctx.root.resolve(v.file)
        if real is None:
            return None
        module = finder.reads.elf_file(self.ctx.root, real)
        if module.facts is None:
            return None
        # What the module binds as it is loaded: every undefined symbol under RTLD_NOW, only its
        # load-time relocations' under RTLD_LAZY (the file's own BIND_NOW flag counts there).
        needs = self._symbols(module, imports=self.ctx.loader.binding == "lazy", undefined=True)
        hits = {s: o for o in reversed(others) for s in needs & self._symbols(o.elf)}
        if not hits:
            return None
        # Unless this program, a library it loads or one the module loads defines it.
        hits = self._defined_by_neither(hits, exe, module, finder)
        if not hits:
            return None
        sym, other = min(hits.items())
        more = f" (and {len(hits) - 1} more of its symbols)" if len(hits) > 1 else ""
        return (
            f"{v.file}: binds {sym}{more} as it is loaded, which {other.path} exports and nothing "
            f"{exe.path} or the module loads defines: the dynamic linker refuses the module (one "
            f"built for {other.path}?)"
        )

    def _defined_by_neither(
        self, hits: Mapping[str, _T], exe: _Exe, module: ElfFile, finder: LibraryFinder
    ) -> dict[str, _T]:
        """`hits` (symbol -> where it was found), less the symbols the program, a library it
        loads or one the module loads defines."""
        objects = [
            exe.elf,
            *_loaded_objects(exe.elf, finder).values(),
            *_loaded_objects(module, finder).values(),
        ]
        return {s: o for s, o in hits.items() if not any(s in self._symbols(obj) for obj in objects)}

    def _unbound(
        self,
        exe: _Exe,
        finder: LibraryFinder,
        closure: set[str],
        v: ModuleVerdict,
        lacking: Mapping[str, ElfFile],
    ) -> str | None:
        assert v.file is not None
        real = self.ctx.root.resolve(v.file)
        if real is None:
            return None
        needs = self._symbols(ElfFile(real, None), imports=True)
        # Each symbol by the last library of `libs` order lacking that defines it, found through
        # one index of their exports: 2,600 programs times 250 modules times 1,200 libraries
        # intersected one by one took a gconv tester's check of /usr 11 minutes.
        definers = self._symbol_definers()
        hits = {
            sym: lacking[name]
            for sym in sorted(needs)
            if (name := next((n for n in reversed(definers.get(sym, ())) if n in lacking), None)) is not None
        }
        if not hits:
            return None
        # Unless the module links the library itself, or the program's own objects define it.
        module = finder.reads.elf_file(self.ctx.root, real)
        if module.facts is None:
            return None
        own = finder.closure(module, closure)[0]
        hits = {s: lib for s, lib in hits.items() if not _names(lib) & own}
        if hits:
            # The program's objects, and the module's own libraries: an Enchant tester's
            # hunspell provider binds _Unwind_Resume from the libgcc_s it links, not only from
            # the libunwind that some programs load (exit 1 on a healthy system).
            hits = self._defined_by_neither(hits, exe, module, finder)
        if not hits:
            return None
        sym, lib = min(hits.items())
        more = f" (and {len(hits) - 1} more of its symbols)" if len(hits) > 1 else ""
        return (
            f"{v.file}: binds {sym}{more} as it is loaded, which {lib.path} defines and nothing {exe.path} "
            "or the module loads does: the dynamic linker refuses the module"
        )

    def _symbol_definers(self) -> dict[str, list[str]]:
        """Symbol -> the names (in `libs` order) of the libraries of `libs` that export it."""
        if self._definers is None:
            self._definers = {}
            for name, lib in self.libs.items():
                for sym in self._symbols(lib):
                    self._definers.setdefault(sym, []).append(name)
        return self._definers

    def _brings(self, finder: LibraryFinder, closure: set[str], v: ModuleVerdict) -> set[str]:
        """The names of the libraries module `v` loads beyond the program's `closure`."""
        real = self.ctx.root.resolve(v.file) if v.file else None
        if real is None:
            return set()
        module = finder.reads.elf_file(self.ctx.root, real)
        return finder.closure(module, closure)[0] - closure if module.facts is not None else set()

    def _symbols(self, obj: ElfFile, imports: bool = False, undefined: bool = False) -> frozenset[str]:
        """The load-time imports (`imports`), the undefined symbols (`undefined`: those bound
        under RTLD_NOW) or the exports of the file `obj` (its path resolved inside the root, or
        among the system libraries), read once; none for a file that cannot be read."""
        from qpack.elf import load_time_imports

        if undefined and not imports:
            return self._undefined_symbols(obj)
        memo = self._imports if imports else self._exports
        # Keyed by the path as read, not its host path: a check of glibc's gconv modules for the
        # 2,600 programs of a Debian /usr asks 4.7 million times (a gconv tester: 11 minutes).
        key = (obj.system, obj.path)
        if key not in memo:
            host = (self.system if obj.system else self.ctx.root).host(obj.path)
            try:
                if imports:
                    with open_regular(host) as f:
                        memo[key] = load_time_imports(f)
                else:
                    # Through LIEF: the exports of every library the modules load (libcrypto's
                    # 5,367 took pyelftools 110 ms; an OpenSSL tester's check ran for minutes).
                    memo[key] = dynamic_symbols_path(host)[1]
            except (OSError, ElfReadError):
                memo[key] = frozenset()
        return memo[key]

    def _undefined_symbols(self, obj: ElfFile) -> frozenset[str]:
        key = (obj.system, obj.path)
        if key not in self._undefined:
            host = (self.system if obj.system else self.ctx.root).host(obj.path)
            try:
                self._undefined[key] = dynamic_symbols_path(host)[0]
            except (OSError, ElfReadError):
                self._undefined[key] = frozenset()
        return self._undefined[key]


def _layout_programs(
    ctx: _Context, pre: str, given: Sequence[_Exe], finder_for: Callable[[ElfFile], LibraryFinder]
) -> list[tuple[_Exe, LibraryFinder, set[str]]]:
    """The layout's programs in the prefix beside those `--program` names, with the libraries
    each loads: not judged, only for which libraries some programs load and others do not (a
    re-tester's `--program /usr/bin/pki` alone passed the charon plug-ins again: no program of
    the run loaded libcharon)."""
    seen = {e.real for e in given}
    out = []
    for glob in ctx.loader.executables:
        for path in _glob_paths(ctx.root, expand_prefix(glob, pre)):
            real = ctx.root.resolve(path)
            if real is None or real in seen:
                continue
            seen.add(real)
            elf = read_elf_file(ctx.root, real)
            if elf.facts is not None:
                finder = finder_for(elf)
                out.append(
                    (_Exe(path=path, real=real, elf=elf, stamps=()), finder, finder.closure(elf, set())[0])
                )
    return out


def _names(lib: ElfFile) -> set[str]:
    """The names DT_NEEDED finds a library by: its SONAME and its file name."""
    return {n for n in (lib.facts.soname if lib.facts else None, posixpath.basename(lib.path)) if n}


def _loaded_objects(elf: ElfFile, finder: LibraryFinder) -> dict[str, ElfFile]:
    """Every shared library the dynamic linker loads for a program, by resolved path."""
    found: dict[str, ElfFile] = {}
    todo = [elf]
    while todo:
        cur = todo.pop()
        assert cur.facts is not None
        for needed in cur.facts.needed:
            lib = finder.find(needed, cur)
            if lib is not None and lib.path not in found:
                found[lib.path] = lib
                todo.append(lib)
    return found


def _program(path: str, ctx: _Context, candidate: bool, reads: Reads) -> tuple[str, ElfFile] | None:
    real = ctx.root.resolve(path)
    if real is None or not ctx.root.is_file(real):
        return None
    return _as_loader(path, real, reads.elf_file(ctx.root, real), ctx, candidate)


def _as_loader(
    path: str, real: str, elf: ElfFile, ctx: _Context, candidate: bool
) -> tuple[str, ElfFile] | None:
    """(real path, ELF file) of a program that can load modules, else None with a note why. A
    `candidate` (a file of bindir, looked at because the loader is a library it might link)
    that is no ELF file at all is a script or data: not a program, and not worth a note."""
    if elf.facts is None:
        if not (candidate and elf.error in (NOT_ELF, TRUNCATED)):
            ctx.notes.append(f"{path}: not used as a loader: {elf.error}")
        return None
    return real, elf


@dataclass(frozen=True)
class _Reading:
    """How a check reads the programs: `check` with LIEF, an install's check through pyelftools
    and one cache of what it read (`_light_reading`)."""

    program: Callable[[str, _Context, bool], tuple[str, ElfFile] | None]  # (path, ctx, candidate)
    stamps: Callable[[str, str, _Context], tuple[str, ...]]
    finder: Callable[[_Context, ElfFile, Root], LibraryFinder]


def _full_reading(reads: Reads) -> _Reading:
    """`check`'s reading: LIEF, each file read once in the run (`reads`)."""
    return _Reading(
        program=lambda path, ctx, candidate: _program(path, ctx, candidate, reads),
        stamps=_stamps,
        finder=lambda ctx, elf, system: LibraryFinder(ctx.root, ctx.env, elf, system, reads),
    )


def _given_programs(programs: Sequence[str], ctx: _Context, reading: _Reading) -> list[_Exe]:
    """The programs a check was told load the modules (`--program`: a host outside the prefix,
    as LADSPA's listplugins in /usr/bin judging plugins installed in a venv)."""
    exes = []
    for path in programs:
        if not path.startswith("/"):
            raise CheckError(f"--program {path}: give the program's absolute path, as it is installed")
        found = reading.program(path, ctx, False)
        if found is None:
            raise CheckError(
                f"--program {path}: no program there{_under_root(ctx)} (no such file, or no ELF program)"
            )
        exes.append(_Exe(path=path, real=found[0], elf=found[1], stamps=reading.stamps(path, found[0], ctx)))
    if ctx.loader.module_table is not None:
        exes = [_with_table(e, ctx) for e in exes]
    return exes


def _executables(loader: Loader, prefix: str, ctx: _Context, system: Root, reading: _Reading) -> list[_Exe]:
    """The programs that load modules: the layout's executables, and, when the loader is a
    library, every program of the prefix's bindir that links it (its stamp is the library's)."""
    exes: list[_Exe] = []
    held: dict[str, tuple[str, ...]] = {}

    def stamps(path: str, real: str) -> tuple[str, ...]:
        """The stamps `real` holds, read once (every program linking the library has its stamps)."""
        if real not in held:
            held[real] = reading.stamps(path, real, ctx)
        return held[real]

    library_paths = _by_soname_too(_library_paths(loader, prefix, ctx), ctx, reading)
    libraries = {real: path for path in library_paths if (real := ctx.root.resolve(path)) is not None}

    lib_names = {posixpath.basename(p) for p in library_paths}
    elsewhere: list[str] = []  # programs of bindir linking a copy of the library outside the prefix

    def linked(elf: ElfFile) -> str | None:
        """The loader library a program links (its dynamic linker's closure), if any."""
        loaded = _loaded_objects(elf, reading.finder(ctx, elf, system))
        lib = next((p for p in loaded if p in libraries), None)
        if lib is None and (other := next((o for o in loaded.values() if _names(o) & lib_names), None)):
            # A libdbi tester's dbilist, linking libdbi.so.1 found in /usr/lib, not the prefix's:
            # "no program links it" was said of a program that does.
            elsewhere.append(f"{posixpath.basename(elf.path)} links {other.path}")
        return lib

    def program(path: str) -> _Exe | None:
        """The program at `path`, named by the layout's executables."""
        if (script := _script_program(path, ctx, system, reading)) is not None:
            return script
        found = reading.program(path, ctx, False)
        if found is None:
            return None
        # A program named here that links the loader library has the library's stamp, as every
        # program of bindir linking it has; its own where the library has none.
        lib = (
            (linked(found[1]) or _unfound(found[1], libraries, lib_names, ctx, reading, system))
            if libraries and found[1].facts is not None
            else None
        )
        asks_none = loader.types_for(path, prefix) == ()  # program-types: loads none
        if libraries and lib is None and found[1].facts is not None and not asks_none:
            # A SASL tester's `executables = ["{prefix}/sbin/*"]` made saslauthd, which never
            # links libsasl2, a loader of SASL's plugins without a word.
            _note(
                ctx,
                f"{path}: named by the layout's executables but does not link the loader "
                f"library /{expand_prefix(loader.library or '', prefix).lstrip('/')}: judged "
                "as loading the modules itself (leave it out of `executables` if it does not)",
            )
        held_here = (stamps(libraries[lib], lib) if lib else ()) or stamps(path, found[0])
        return _Exe(path=path, real=found[0], elf=found[1], stamps=held_here)

    for glob in loader.executables:
        pattern = expand_prefix(glob, prefix)
        given = _glob_paths(ctx.root, pattern)
        if not given and not any(c in pattern for c in WILDCARDS):
            _executable_missing(f"/{pattern.lstrip('/')}", ctx)
        exes += [exe for path in given if (exe := program(path)) is not None]
    if loader.module_table is not None:
        exes = [_with_table(e, ctx) for e in exes]
    if loader.library is None:
        return exes
    bindir = posixpath.join(prefix, loader.bindir)
    named = {e.path for e in exes} | {e.real for e in exes}
    for name in ctx.root.listdir(bindir):
        path = posixpath.join(bindir, name)
        if path in named or (found := reading.program(path, ctx, True)) is None or found[0] in named:
            continue  # each program once, by its resolved path (bin/demo-run -> demo)
        if found[1].facts is None or found[1].facts.elf_type not in ("ET_DYN", "ET_EXEC"):
            continue
        lib = linked(found[1]) or _unfound(found[1], libraries, lib_names, ctx, reading, system)
        if lib is not None:
            named.add(found[0])
            exes.append(_Exe(path=path, real=found[0], elf=found[1], stamps=stamps(libraries[lib], lib)))
    if not exes:
        exes = _library_alone(library_paths, bindir, ctx, reading, stamps, list(dict.fromkeys(elsewhere)))
    return exes


def _unfound(
    elf: ElfFile,
    libraries: Mapping[str, str],
    lib_names: set[str],
    ctx: _Context,
    reading: _Reading,
    system: Root,
) -> str | None:
    """The prefix's loader library (real path, of `libraries`), where the program needs it by
    name and the dynamic linker finds no copy (an apr-util re-tester's htdbm without
    LD_LIBRARY_PATH: "no program links it", where the program cannot start), else None."""
    facts = elf.facts
    if not libraries or facts is None or not set(facts.needed) & lib_names:
        return None
    missing = reading.finder(ctx, elf, system).closure(elf, set())[1]
    if not any(m.partition(" (needed by ")[0] in lib_names for m in missing):
        return None
    return next(iter(libraries))


def _script_program(path: str, ctx: _Context, system: Root, reading: _Reading) -> _Exe | None:
    """A program of the layout that is a script (`#!`: dracut, read by bash; Prosody, by lua5.4):
    the process loading the modules is its interpreter, whose ELF file (in the root, else in
    `system`) is the program's, while locations relative to the program are the script's. None
    for no script, or one whose interpreter is nowhere (said where no program is found)."""
    if not ctx.loader.script_may_load:
        return None  # a wrapper of the ELF program that loads them (a Valgrind tester's bin/valgrind)
    real = ctx.root.resolve(path)
    if real is None or not ctx.root.is_file(real) or (words := _shebang(real, ctx.root)) is None:
        return None
    if (where := _interpreter(words, ctx.root, system)) is None:
        return None
    interpreter, tree = where
    found = reading.program(interpreter, dataclasses.replace(ctx, root=tree), False)
    if found is None:
        return None
    elf = found[1] if tree is ctx.root else ElfFile(found[1].path, found[1].facts, None, system=True)
    st = ctx.root.stat(real)
    # Run by its name (systemd's ExecStart, a kernel hook), it needs the execute bit (dracut's
    # and Prosody's re-testers: "121 of 121 modules load" of a chmod -x loader).
    unstartable = (
        f"{path} cannot start: a script without the execute bit (mode {stat.S_IMODE(st.st_mode):04o})"
        if st is not None and not st.st_mode & 0o111
        else None
    )
    return _Exe(path=path, real=real, elf=elf, stamps=(), unstartable=unstartable)


def _executable_missing(path: str, ctx: _Context) -> None:
    """A note for a program the layout names by a plain path that is not installed: the
    modules only it loads are then called unused (a BlueZ tester's "bluetoothdd" beside obexd:
    bluetoothd's broken plug-ins passed as unused, exit 0)."""
    import difflib  # only for a program not found

    directory, name = posixpath.split(path)
    beside = ctx.root.listdir(directory) if ctx.root.is_dir(directory) else []
    close = difflib.get_close_matches(name, beside, n=1, cutoff=0.8)
    hint = f" (did you mean {posixpath.join(directory, close[0])}?)" if close else ""
    # At the layout's own prefix, where the prefix checked is another (an fwupd tester's
    # `check / --root /`: "1 of 1 modules load" beside this note, no word of /usr).
    pre, own = ctx.prefix.rstrip("/"), ctx.loader.prefix.rstrip("/")
    if not hint and pre != own and path.startswith(pre + "/"):
        there = own + path[len(pre) :]
        if ctx.root.exists(there):
            hint = f" ({there} is: is the prefix {own or '/'}?)"
    # Only where programs ask for different modules: else the others load every one it would (an
    # Enchant tester read "judged unused" above rows of modules judged loading, by the library).
    only = ctx.loader.program_types or ctx.loader.module_programs
    said = ": the modules only it loads are judged unused" if only else ""
    _note(ctx, f"{path}: named by the layout's executables, not installed{hint}{said}")


def _by_soname_too(paths: list[str], ctx: _Context, reading: _Reading) -> list[str]:
    """The loader library's files, with the file named by each one's SONAME beside it: what the
    dynamic linker loads. A wheel holds no symlinks, so in a prefix installed from wheels
    libQt5Core.so.5 is a copy of libQt5Core.so.5.15.8, which `library = ".../libQt5Core.so.5.*"`
    matches and no program links (a Qt tester's check judged the two copies as loaders)."""
    out = list(paths)
    for path in paths:
        found = reading.program(path, ctx, False)
        soname = found[1].facts.soname if found is not None and found[1].facts is not None else None
        if soname is None:
            continue
        named = posixpath.join(posixpath.dirname(path), soname)
        st = ctx.root.stat(named) if named not in out else None
        if st is not None and stat.S_ISREG(st.st_mode):
            out.append(named)
    return out


def _library_alone(
    library_paths: Sequence[str],
    bindir: str,
    ctx: _Context,
    reading: _Reading,
    stamps: Callable[[str, str], tuple[str, ...]],
    elsewhere: Sequence[str] = (),
) -> list[_Exe]:
    """The loader library itself, judged as the loader, when no program of bindir links it (a
    library used from Python, GI or ctypes): as in a program of bindir that links it and
    nothing else, the library's own RPATH standing for the program's. Each library file once
    (real path -> path). `elsewhere`: the programs of bindir that load another copy of it."""
    exes = []
    names = {posixpath.basename(path) for path in library_paths}
    by_real: dict[str, list[str]] = {}
    for path in library_paths:
        if (real := ctx.root.resolve(path)) is not None:
            by_real.setdefault(real, []).append(path)
    for real, paths in sorted(by_real.items(), key=lambda item: item[1][0]):
        found = reading.program(paths[0], ctx, False)
        if found is None:
            continue
        soname = found[1].facts.soname if found[1].facts is not None else None
        if soname and soname in names and soname not in {posixpath.basename(p) for p in paths}:
            # Another name of the library the dynamic linker loads by its SONAME: a wheel holds
            # no symlinks, so libQt5Core.so.5.15.8 is a copy of libQt5Core.so.5, not a loader.
            continue
        # Named as the dynamic linker names it, by its SONAME, where that is one of its names.
        path = next((p for p in paths if posixpath.basename(p) == soname), paths[0])
        exes.append(
            _Exe(path=path, real=found[0], elf=found[1], stamps=stamps(path, real), program_dir=bindir)
        )
        where = bindir if ctx.root.is_dir(bindir) else f"{bindir} (no such directory)"
        others = (
            f" (another copy: {'; '.join(elsewhere[:3])}{' ...' if len(elsewhere) > 3 else ''})"
            if elsewhere
            else ""
        )
        ctx.notes.append(
            f"{path}: no program in {where} links it{others}: its modules are judged as it loads "
            f"them into a program of {bindir} that links it alone"
        )
    return exes


def _with_table(exe: _Exe, ctx: _Context) -> _Exe:
    """The executable with the module table it holds (QEMU's modinfo), read statically."""
    try:
        table = read_module_table(ctx.root.host(exe.real))
    except ElfReadError as e:
        ctx.notes.append(f"{exe.path}: its module table cannot be read: {e}")
        return exe
    name = posixpath.basename(exe.path)
    target = name.removeprefix("qemu-system-") if name.startswith("qemu-system-") else None
    return dataclasses.replace(exe, table=table, target=target)


def _table_dependencies(exe: _Exe, ctx: _Context) -> Mapping[str, tuple[str, ...]] | None:
    """The executable's own module dependencies, from the module table it holds; the layout's
    are cross-checked against them (a warning names both)."""
    if exe.table is None:
        return None
    deps = table_dependencies(exe.table)
    for mid, needs in deps.items():
        ours = ctx.loader.deps_of(mid)
        if set(ours) != set(needs):
            ctx.notes.append(
                f"{exe.path}: its module table says {mid} needs {', '.join(needs) or 'nothing'}; "
                f"the layout says {', '.join(ours) or 'nothing'}"
            )
    return deps


def _never_loaded(exe: _Exe, present: Iterable[str]) -> dict[str, str]:
    """Module -> why this emulator never loads it, from its module table: listed for another
    target, or a device module (`hw-*`) the table does not list (QEMU finds device modules
    through the table only)."""
    if exe.table is None:
        return {}
    listed = {m.name: m for m in exe.table}
    never = {}
    for mid in present:
        info = listed.get(mid)
        if info is None and mid.startswith("hw-"):
            never[mid] = "its module table does not list it (QEMU finds device modules only there)"
        elif info is not None and exe.target is not None and info.arch and info.arch != exe.target:
            never[mid] = f"its module table lists it for target {info.arch}, not {exe.target}"
    return never


def _helper_rows(exe: _Exe, finder: LibraryFinder, ctx: _Context) -> list[ModuleVerdict]:
    """Each helper program the loader runs: is it where this executable will look for it?"""
    rows = []
    for helper in ctx.loader.helpers:
        if (variable := next((v for v in helper.env if v in ctx.env), None)) is not None:
            path = ctx.env[variable]  # the variable names the helper program itself
        elif helper.relocated is not None:
            location = SearchLocation("relocated", helper.relocated, anchor=helper.anchor)
            where = _relocated(location, exe, finder, ctx) or ""
            path = posixpath.join(where, helper.name)
        else:
            path = posixpath.join(helper.absolute or "", helper.name)
        st = ctx.root.stat(path)
        ok = st is not None and stat.S_ISREG(st.st_mode) and bool(st.st_mode & 0o111)
        # There but not runnable is said so (a sudo tester read "runs ... from here" of a file
        # of mode 0644 that was there).
        why = f"{path}: the loader runs {helper.name} from here"
        if st is not None and not ok:
            lacks = "without the execute bit" if stat.S_ISREG(st.st_mode) else "not a regular file"
            mode = stat.S_IMODE(st.st_mode)
            why = f"{path}: there, but {lacks} (mode {mode:04o}): the loader runs it from here"
        problems = () if ok else (Problem("missing-helper", why),)
        rows.append(
            ModuleVerdict(module=f"{HELPER_ROW}{helper.name}", file=path, loads=ok, problems=problems)
        )
    return rows


def _with_helpers(verdicts: list[ModuleVerdict], helpers: list[ModuleVerdict]) -> list[ModuleVerdict]:
    """The module rows and the helper rows, less the stray rows of the helpers' own files (CUPS
    runs daemon/cups-exec from under its module directory /usr/lib/cups: a declared helper was
    also a `never-looked-up` problem)."""
    run = {h.file for h in helpers}
    # A copy of a helper in a module directory is the helper's, not a module misplaced: a
    # Valgrind tester's getoff-amd64-linux, which valgrind runs from $VALGRIND_LIB, was a
    # `never-looked-up` problem in every venv (and on Debian's /usr), where plan said nothing.
    names = {h.module.removeprefix(HELPER_ROW) for h in helpers}
    return [
        v for v in verdicts if not (v.stray and (v.file in run or posixpath.basename(v.file or "") in names))
    ] + helpers


def check(
    prefix: str | Path,
    loader: Loader,
    *,
    layout_name: str = "",
    root: str | Path = "/",
    env: Mapping[str, str] | None = None,
    pkgversion: str | None = None,
    programs: Sequence[str] = (),
    installed_modules: Collection[str] = (),
) -> CheckReport:
    """Check every module of an installed prefix against the loader, for each executable.

    `prefix` is where the program is installed, as the program sees it (inside `root`);
    `programs`, absolute paths inside the root, are the programs that load the modules when
    given (a host outside the prefix), instead of the layout's executables in the prefix.
    `installed_modules`: the files of the modules distributions of the prefix installed, as the
    program sees them (the caller reports those gone as `not-found`: `with_unfound`). No module
    found beside a file named as none is then no proof that the naming is mistyped (an LV2
    tester's deleted amp.so beside the core's examploscope.so: exit 2, "is [loader] naming
    mistyped?"), unless one of those files is such a file (a VLC tester's naming typo, checked
    on the modules qpack installed)."""
    rt, pre, ctx, system = _start(_SnapshotRoot, prefix, loader, root, env, pkgversion)
    reads = Reads()
    reading = _full_reading(reads)
    exes = (
        _given_programs(programs, ctx, reading)
        if programs
        else _executables(loader, pre, ctx, system, reading)
    )
    _some_executable(exes, rt, pre, loader)
    rows = _Rows()
    locations: dict[str, tuple[str, ...]] = {}
    finders = [(exe, LibraryFinder(rt, ctx.env, exe.elf, system, reads)) for exe in exes]
    closures = {exe.path: finder.closure(exe.elf, set()) for exe, finder in finders}
    others = (
        _layout_programs(ctx, pre, exes, lambda elf: LibraryFinder(rt, ctx.env, elf, system, reads))
        if programs
        else []
    )
    host = _HostLibraries(
        [*((exe, finder, closures[exe.path][0]) for exe, finder in finders), *others], ctx, system
    )
    found = False  # a module file found anywhere the loader looks
    module_files: list[str] = []
    for exe, finder in finders:
        exe_libs, exe_missing = closures[exe.path]
        dirs = search_dirs(exe, finder, ctx)
        locations[exe.path] = tuple(dirs)
        not_asked: list[ModuleVerdict] = []
        judge = _Judge(exe, ctx, finder, exe_libs)
        verdicts = _with_helpers(
            _verdicts(exe, dirs, ctx, judge, not_asked=not_asked), _helper_rows(exe, finder, ctx)
        )
        verdicts += _hidden_rows(exe, dirs, finder, ctx, {v.module for v in verdicts if not v.stray})
        verdicts += _shut_out_rows(exe, finder, ctx, {v.module for v in verdicts if not v.stray})
        verdicts = _strays_apart(_not_named(verdicts, ctx))
        verdicts = host.judge(exe, finder, exe_libs, verdicts)
        # A helper's row is no module found (a libproxy tester's pxgsettings made a mistyped
        # module directory "0 of 0 modules load", exit 0).
        found = found or any(v.file is not None and not v.helper for v in verdicts)
        module_files += [v.file for v in verdicts if v.file is not None and not v.helper and not v.stray]
        rows.add_program(exe.path, verdicts, not_asked, exe_missing, _needs_unmet(exe, verdicts, ctx))
    if ctx.unfilled and not any(locations.values()):
        # A libproxy tester's only location was a {pkgversion} directory: "0 of 0 modules load",
        # exit 0, for a tree holding four plug-ins.
        raise CheckError(
            f"no directory the loader searches can be named: {', '.join(dict.fromkeys(ctx.unfilled))}"
        )
    if (unheld := _stamp_held_nowhere(exes, module_files, ctx)) is not None:
        raise CheckError(unheld)
    if (
        unmatched := stamp_version_unmatched(ctx.loader.stamp_version, [*ctx.version_needs.values()])
    ) is not None:
        raise CheckError(unmatched)
    if slips := _type_dir_slips(locations, rt, ctx):
        raise CheckError(slips[0])
    elsewhere = _outside_prefix(locations, rt, pre, ctx, found)
    if not found and not elsewhere:
        _none_found(locations, rt, pre, ctx)
    elif not found and (mistyped := _location_error(_fixed_dirs(locations, ctx), rt, ctx)) is not None:
        # The layout's own, searched outside the prefix all the same (an mpv tester's
        # /etc/mpv/script for /etc/mpv/scripts, checking /usr: "0 of 0 modules load", exit 0;
        # exit 2 with --root); not a variable's, which the user may have set wrong.
        raise CheckError(mistyped)
    elif found and (mistyped := _mistyped_location(_said_dirs(locations, ctx), rt, ctx)) is not None:
        # Other locations held modules (a Pure Data tester's `extras` for `extra`, an R
        # tester's `site-libary`: "252 of 252 modules load", exit 0): said, not fatal; unless
        # the files left unjudged outnumber the modules judged (a PAM tester's `securty`: "1 of
        # 1 modules load", exit 0, beside 51 modules in security/).
        judged = len(set(module_files))
        if (most := _mistyped_location(_said_dirs(locations, ctx), rt, ctx, judged + 1)) is not None:
            raise CheckError(
                f"{most.removeprefix('no module where the loader looks: ')} The other locations hold "
                f"{judged} module file(s) only"
            )
        ctx.notes.append(mistyped.replace("no module where the loader looks: ", "", 1))
    _deeper_notes(ctx, locations, module_files)
    _beside_notes(ctx, locations, module_files)
    report = dataclasses.replace(rows.report(rt, pre, layout_name, exes, locations, ctx), elsewhere=elsewhere)
    if (
        nowhere := _entry_defined_nowhere(report, ctx.loader)
        or _value_symbol_nowhere(ctx)
        or _descriptor_nowhere(report, ctx)
        or _deeper_only(report, ctx)
        or _named_otherwise(report, installed_modules)
    ) is not None:
        raise CheckError(nowhere)
    return _files_named(report, rt, pre, ctx.loader)


def _files_named(report: CheckReport, rt: Root, pre: str, loader: Loader) -> CheckReport:
    """`report` judged for the files its modules name beyond their own: the programs a
    descriptor runs (`_descriptor_programs`), the libraries a staged tree holds where none
    looks (`_staged_tree_note`), and the modules' own files ([modules.files], `_own_files_note`)."""
    report = _descriptor_programs(report, rt, pre, loader)
    return _own_files_note(_staged_tree_note(report, rt, pre, loader), rt, pre, loader)


_DESCRIPTOR_READ = 1 << 20  # bytes of a descriptor read for the programs it names, at most


def _descriptor_programs(report: CheckReport, rt: Root, pre: str, loader: Loader) -> CheckReport:
    """`report` with `missing-helper` for each descriptor module (a file the program reads
    itself, `runners` "") naming one of its own files ([modules.files]) that is not there: by
    absolute path as the layout's prefix has it (an IBus component's `<exec>`, auditd's
    `path =`; from a venv, the system's copy, which a wheel install does not bring), or by file
    name (an Inkscape extension's script, beside it). The program runs, or loads, that file: an
    IBus, an Inkscape and an auditd tester's modules were "yes" with their program gone."""
    texts: dict[str, str | None] = {}
    rows = []
    for m in report.modules:
        if not m.file or m.stray or m.helper or loader.runner_of(m.file) != "":
            rows.append(m)
            continue
        if m.file not in texts:
            texts[m.file] = _descriptor_text(rt, m.file)
        text = texts[m.file]
        found = []
        if text is not None:
            here = loader.own_file_paths(m.module, pre)
            built = loader.own_file_paths(m.module, loader.prefix)
            found = [
                why
                for installed, configured in zip(here, built, strict=False)
                if (why := _named_gone(m.file, text, installed, configured, rt)) is not None
            ]
        if found:
            m = dataclasses.replace(
                m, loads=False, problems=(*m.problems, *(Problem("missing-helper", f) for f in found))
            )
        rows.append(m)
    return dataclasses.replace(report, modules=tuple(rows))


def _named_gone(descriptor: str, text: str, installed: str, configured: str, rt: Root) -> str | None:
    """Why the program cannot run a module's own file its descriptor names (`text`, comments
    left out): by the absolute path the layout's prefix gives it (`configured`), or by its file
    name alone, beside the descriptor or where the layout puts it (`installed`, in the prefix
    checked); None where it is there, or not named. Whole names only: `/sbin/audisp-syslog2`
    names no `/sbin/audisp-syslog`, nor `/usr/libexec/ibus-setup-hangul` a `/usr/bin` one."""
    if re.search(r"(?<![\w.-])" + re.escape(configured) + r"(?![\w.-])", text):
        if rt.exists(configured):
            return None
        # From a venv, the system's path: a wheel installed the prefix's copy, not that one.
        copy = f" (the prefix's copy, {installed}, is not the one named)" if installed != configured else ""
        return (
            f"{descriptor}: names {configured}, one of its own files, which is not there{copy}: the "
            "program cannot run it"
        )
    base = posixpath.basename(installed)
    if not re.search(r"(?<![\w./-])" + re.escape(base) + r"(?![\w.-])", text):
        return None
    # Beside the descriptor, where a program reading it looks first (an Inkscape re-tester's
    # other/clipart/import_web_image.py, beside its .inx, was "not there", exit 1).
    if rt.exists(installed) or rt.exists(posixpath.join(posixpath.dirname(descriptor), base)):
        return None
    return (
        f"{descriptor}: names {base}, one of its own files ({installed}), which is not there: the "
        "program cannot run it"
    )


_COMMENTS = re.compile(r"(?s:<!--.*?-->)|^[ \t]*[#;][^\n]*$", re.M)


def _descriptor_text(rt: Root, path: str) -> str | None:
    """The first `_DESCRIPTOR_READ` bytes of the file at `path` as text, comments left out, or
    None."""
    real = rt.resolve(path)
    if real is None:
        return None
    try:
        with open_regular(rt.host(real)) as f:
            text = f.read(_DESCRIPTOR_READ).decode("utf-8", "replace")
    except OSError:
        return None
    # Not what the program skips: XML comments, and `#` or `;` lines of a key file (a re-tester's
    # `#path = /sbin/audisp-remote` above the path auditd runs).
    return _COMMENTS.sub("", text)


def _own_files_note(report: CheckReport, rt: Root, pre: str, loader: Loader) -> CheckReport:
    """`report` with a note for each module found whose own files ([modules.files], one file
    each) are not in the prefix: an IBus tester's engine program gone beside its component XML,
    an Inkscape tester's extension script: "yes", where the program cannot run the module. A
    note, not a problem: a module's documentation may be left out (dpkg's path-exclude)."""
    notes = []
    # Not a descriptor module's (runners ""): those its descriptor names are judged
    # (`_descriptor_programs`), and one it does not name is no sign (an Inkscape sweep's layout
    # gave every extension a `{name}.py` 34 of them do not run: 34 notes on a clean tree).
    # Nor of a module that fails anyway, nor where one of its own files is there: a layout may
    # list alternative places (a sweep's Vamp layout: the .cat or the .n3 beside either of two
    # plug-in directories; one was there).
    found = (
        m.module
        for m in report.modules
        if m.file and m.loads and not m.stray and not m.helper and loader.runner_of(m.file) != ""
    )
    for mid in dict.fromkeys(found):
        paths = loader.own_file_paths(mid, pre)
        gone = [p for p in paths if not rt.exists(p)]
        if len(gone) < len(paths):
            continue
        if gone:
            notes.append(
                f"module {mid}: its own file(s) {_three_and_more(gone)} ([modules.files]) not in the "
                "prefix: it may not work without them"
            )
    return dataclasses.replace(report, warnings=(*report.warnings, *notes)) if notes else report


_NOT_FOUND = re.compile(r"would not find (.+)")
_LIBRARY_NAME = re.compile(r"[\w.+-]+\.so(?:\.[\w.]+)?")


def _staged_tree_note(report: CheckReport, rt: Root, pre: str, loader: Loader) -> CheckReport:
    """`report` with a note where libraries the dynamic linker would not find are in the prefix's
    own library directories, which it does not search: a staged tree checked as a prefix (a
    QGIS tester's `check build/usr`: "would not find libqgis_gui.so.3.22.16", which is in
    build/usr/lib; the programs' RUNPATHs name /usr/lib). Checked as installed, `--root`."""
    if str(rt.root) != "/" or pre == "/" or rt.exists(posixpath.join(pre, "pyvenv.cfg")):
        return report  # a venv is an install, not a staged tree (a sweep's tesseract venv)
    said = [p.detail for m in report.modules for p in m.problems if p.kind == "missing-library"]
    # The names before each "(needed by ...)", not the file needing them (a sweep's venv: a
    # module missing libcjson was taken for a library in the venv's lib/).
    names = {
        name
        for detail in [*said, *report.cannot_start.values()]
        if (found := _NOT_FOUND.search(detail))
        for group in found.group(1).split("; ")
        for name in _LIBRARY_NAME.findall(group.split(" (needed by ", 1)[0])
    }
    lib = posixpath.join(pre, "lib")
    dirs = [lib, posixpath.join(pre, "lib64")]
    dirs += (
        [posixpath.join(lib, d) for d in rt.listdir(lib) if d.endswith("-linux-gnu")]
        if rt.is_dir(lib)
        else []
    )
    here = sorted(n for n in names if any(rt.is_file(posixpath.join(d, n)) for d in dirs))
    if not here:
        return report
    inside = loader.prefix.rstrip("/")
    how = (
        f"qpack check {inside} --root {pre[: -len(inside)]}"
        if inside and pre.endswith(inside) and pre != inside
        else "qpack check <the installed prefix> --root <the staging root>"
    )
    note = (
        f"{_three_and_more(here)}, which the dynamic linker would not find, "
        f"{'is' if len(here) == 1 else 'are'} in {pre}'s own library directories, which it does not "
        f"search: is {pre} a staged tree? Check it as installed: {how}"
    )
    return dataclasses.replace(report, warnings=(*report.warnings, note))


def _named_otherwise(report: CheckReport, installed: Collection[str] = ()) -> str | None:
    """Why the layout is wrong, where no module was found and ELF files where the loader looks
    are named as none (an Enchant and an Atril tester's naming typos,
    `enchnt_{name}.so` and `lib{name}documents.so`: "0 of 0 modules load", exit 1, blaming the
    installed files, where plan stopped with "is the naming wrong?")."""
    if any(m.file and not m.stray and not m.helper for m in report.modules):
        return None
    named = sorted(
        m.file
        for m in report.modules
        if m.stray and m.file and any("modules are named " in p.detail for p in m.problems)
    )
    # One is enough, as for plan (a Mousepad tester's one plug-in under a naming typo: exit 1);
    # where modules were installed, one of their files (`check`'s `installed_modules`).
    if not named or (installed and not set(named) & set(installed)):
        return None
    return (
        "no module found, and where the loader looks files are named as no module "
        f"({_two_and_more(named)}): is "
        "[loader] naming mistyped?"
    )


def _deeper_only(report: CheckReport, ctx: _Context) -> str | None:
    """Why the layout is wrong, where no module was found where the loader reads and files
    named as modules lie one level below (`depth` too small, or a location one level short)."""
    if any(m.file and not m.helper and not m.stray for m in report.modules) or not ctx.deeper:
        return None
    deeper = [f for rels in _deeper_files(ctx, report.locations).values() for f in rels]
    if not deeper:
        return None
    # `depth` is for a loader taking every file; one looking a name up reads no deeper (an Emacs
    # tester raised it to 1 and was told the files are named as no module).
    depth = "is [loader] depth too small, or " if ctx.loader.registers_all else "is "
    return (
        f"no module found where the loader reads, and files named as modules lie one level deeper "
        f"({_two_and_more(deeper)}): {depth}a location one level short?"
    )


def _deeper_files(ctx: _Context, locations: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Directory searched -> the paths one level below it named as modules are, that may be
    modules misplaced: not in a directory the programs did not search (a DSSI tester's empty
    DSSI_PATH, which replaces the defaults, was told of /usr/lib/dssi's), nor in a library
    directory (its subdirectories are other programs': a Guile tester's 1,777 files), nor named
    by the layout, nor defining no entry where every type has one (an SSSD tester's
    modules/libsss_autofs.so, autofs's own plug-in; a DSSI tester's `<plugin>/<label>_gtk`)."""
    named = _named_globs(ctx)
    entries = ctx.every_entry
    searched = set(_searched_dirs(locations))
    out: dict[str, list[str]] = {}
    for d, all_rels in ctx.deeper.items():
        if d not in searched or library_dir(d):
            continue
        paths = [posixpath.join(d, r) for r in all_rels]
        # Not those another location reads (a Yate tester's lib/yate/server/*.yate, searched
        # there and loading, were 10 of the 13 "misplaced?" under lib/yate).
        inner = [s.rstrip("/") + "/" for s in searched if s != d and s.startswith(d.rstrip("/") + "/")]
        paths = [p for p in paths if not p.startswith(tuple(inner))]
        paths = [p for p in paths if not any(g.match(p.lstrip("/")) for g in named)]
        if entries is not None:
            paths = [p for p in paths if _entries_defined(p, entries, ctx.root) != ""]
        if paths:
            out[d] = paths
    return out


def _deeper_notes(
    ctx: _Context, locations: Mapping[str, tuple[str, ...]], modules: Sequence[str] = ()
) -> None:
    """For each location with files one level below where the loader reads, named as its
    modules are (MariaDB's plugin/sub/disks.so), a note; for a loader that registers every file
    to its depth (rofi's: a plug-in moved to a sub/ it never reads), the ELF files, no copy of a
    module found (`modules`, its files), are modules it never finds (`_misplace`). Not for one
    looking names up: Python's and Lua's take `pkg/mod.so` for a dotted name, which the naming
    cannot say."""
    for d, found in _deeper_files(ctx, locations).items():
        where = f"one directory level below {d}, where the loader reads: misplaced?"
        paths = _misplace(ctx, found, modules, where) if ctx.loader.registers_all else found
        rels = [p[len(d.rstrip("/")) + 1 :] for p in paths]
        if not rels:
            continue
        shown = ", ".join(rels[:3]) + (f" and {len(rels) - 3} more" if len(rels) > 3 else "")
        _note(
            ctx,
            f"{d}: {len(rels)} file(s) one directory level below where the loader reads, named as its "
            f"modules are ({shown}): never looked up as modules there (misplaced?)",
        )


def _hidden_module(rel: str, loader: Loader) -> bool:
    """Whether a file a `skip_hidden` loader skips is named as a module but for its leading '.'."""
    head, _, base = rel.rpartition("/")
    if not (loader.skip_hidden and base.startswith(".")) or "/." in f"/{head}":
        return False
    return loader.parse_in_location(posixpath.join(head, base[1:]) if head else base[1:]) is not None


def _named_alike(a: str, b: str) -> bool:
    """Whether two directory names are one's variant of the other (kritaplugin, kritaplugins;
    rofi, rofi-plugins): one starts with the other, or they differ in a letter or two."""
    import difflib

    return a.startswith(b) or b.startswith(a) or difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def _misplace(ctx: _Context, paths: Sequence[str], modules: Sequence[str], where: str) -> list[str]:
    """The files of `paths` that are left for a note: those no ELF file (a README, a dangling
    link, an object file) or a copy of a module found (`modules`, its files: a spare copy, a
    backup directory, is no module lost). The others are modules the loader never finds
    (`ctx.misplaced`, with `where`): a rofi, a Shotwell and an ulogd tester's plug-in moved
    out of the directory was "N of N modules load", exit 0, where a misnamed one failed."""
    names = {posixpath.basename(m) for m in modules}
    # The file a module found is a link to is that module (a sweep's GIO modules/libgiognutls.so
    # -> ../libgioreal.so: the target, beside the location, was a module "never looked up").
    targets = {ctx.root.resolve(m) for m in modules} - {None}
    inside = ctx.prefix.rstrip("/") + "/"
    left = []
    for path in paths:
        if ctx.root.resolve(path) in targets:
            continue
        if not path.startswith(inside):
            # Not the prefix's: the directories beside one a variable names are the user's own
            # (a Zathura tester's /opt/old beside ZATHURA_PLUGINS_PATH=/opt/plugins failed the
            # check of /usr, where every module loaded). A note only.
            left.append(path)
            continue
        # A file the program reads itself, or a module runs, is one too (a re-tester's IBus
        # component moved to component/sub/: IBus does not recurse; a note only, exit 0).
        read = ctx.loader.runner_of(path) is not None and ctx.root.is_file(path)
        if posixpath.basename(path) in names or (not read and _not_a_stray(path, {}, ctx.root)):
            left.append(path)
        else:
            ctx.misplaced.setdefault(path, where)
    return left


def _misplaced_rows(ctx: _Context, ids: Collection[str], exes: Sequence[str]) -> list[ModuleVerdict]:
    """A `never-looked-up` row for each misplaced module file (`_misplace`): named as the module
    its file name gives (else its stem), or by its file name where that is a module's id."""
    out = []
    for path, where in sorted(ctx.misplaced.items()):
        base = posixpath.basename(path)
        parsed = ctx.loader.parse_in_location(base)
        stem = ctx.loader.naming.module_id(*parsed) if parsed is not None else base.split(".so")[0]
        stem = ctx.misplaced_as.get(path, stem)
        name = base if stem in ids else stem
        problem = Problem("never-looked-up", f"{path}: the loader never looks this file up ({where})")
        out.append(
            ModuleVerdict(module=name, file=path, loads=False, problems=(problem,), executables=tuple(exes))
        )
    return out


_BESIDE_READS = 200  # files read for an entry symbol beside the locations, at most, a check


def _beside_notes(ctx: _Context, locations: Mapping[str, tuple[str, ...]], modules: Sequence[str]) -> None:
    """A note for each location with files beside it, in its parent directory or in a directory
    next to it, that define a module's entry under a name of the naming: misplaced modules the
    loader never finds, as plan says of a build (Eggdrop's, Marble's, mediastreamer2's plug-in
    moved one level up, Psi+'s into `plugin/` beside `plugins/`: "N of N modules load", exit 0,
    from six testers). Not the files of a library directory (every program's; the directories
    in it, yes), nor named by the layout;
    only where every module type has an entry, and `_BESIDE_READS` files read at most; nor the
    directory a location is through a link (Eggdrop's modules -> modules-1.8.4: its 15 loaded
    modules were "misplaced?"), nor a copy of a module found (`modules`, its files: a spare
    copy, or a backup directory of them, is no module lost). First, the dangling links the
    loader passes over where it looks (`skip_dangling`)."""
    if skipped := list(ctx.dangling_skipped):
        # Here too, as the other notes of files where the loader looks (`skip_dangling`).
        shown = ", ".join(skipped[:3]) + (f" and {len(skipped) - 3} more" if len(skipped) > 3 else "")
        what = "symlink(s)" if ctx.loader.skip_links else "dangling link(s)"
        _note(ctx, f"{len(skipped)} {what} where the loader looks, which it passes over ({shown})")
    if hidden := list(ctx.hidden_skipped):
        _note(
            ctx,
            f"{len(hidden)} hidden file(s) named as modules where the loader looks, which it skips "
            f"(skip-hidden: {_three_and_more(hidden)})",
        )
    _other_version_notes(ctx, locations)
    _twin_notes(ctx, locations, modules)
    entries = ctx.every_entry
    if entries is None:
        return
    searched = _searched_dirs(locations)
    real_searched = {ctx.root.resolve(s) for s in searched} - {None}
    names = {posixpath.basename(m) for m in modules}
    named = _named_globs(ctx)
    reads = _BESIDE_READS
    seen: set[str] = set()  # each file once, beside two locations of one parent (a sweep's A:B)
    for d in searched:
        parent = posixpath.dirname(d.rstrip("/"))
        if library_dir(d) or parent in searched or not ctx.root.is_dir(d):
            continue
        here = [posixpath.join(parent, e) for e in ctx.root.listdir(parent)]
        # In a library directory, the directories next to the location only (a Krita re-tester's
        # kritaplugin/ beside lib/<triplet>/kritaplugins), not its every library; and of those,
        # the ones named like it: every other program's (a re-tester's otherapp/filter.so,
        # defining rofi's entry `mode`, was a rofi plug-in misplaced, exit 1).
        shared = library_dir(parent)
        nearby = [
            p
            for p in here
            if p != d.rstrip("/")
            and (not shared or _named_alike(posixpath.basename(p), posixpath.basename(d.rstrip("/"))))
            and p not in searched
            and not other_version(posixpath.basename(p), posixpath.basename(d.rstrip("/")))  # noted before
            and ctx.root.is_dir(p)
            and ctx.root.resolve(p) not in real_searched
        ]
        candidates = [] if shared else [p for p in here if not ctx.root.is_dir(p)]
        candidates += [posixpath.join(s, e) for s in nearby for e in ctx.root.listdir(s)]
        found = []
        for path in candidates:
            if reads <= 0:
                break
            if (
                path in seen
                or ctx.loader.parse_in_location(posixpath.basename(path)) is None
                or posixpath.basename(path) in names
                or any(g.match(path.lstrip("/")) for g in named)
                or ctx.root.is_dir(path)
            ):
                continue
            reads -= 1
            seen.add(path)
            if defined := _entries_defined(path, entries, ctx.root):
                where = (
                    f"beside {d}, where the loader looks; it defines {defined}, a module's entry: misplaced?"
                )
                if not _misplace(ctx, [path], modules, where):
                    continue
                found.append(f"{path[len(parent) + 1 :]} ({defined})")
        if found:
            shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
            _note(
                ctx,
                f"{parent}: {len(found)} file(s) beside {d}, where the loader looks, define a module's "
                f"entry ({shown}): never looked up there (misplaced?)",
            )


def _other_version_notes(ctx: _Context, locations: Mapping[str, tuple[str, ...]]) -> None:
    """A note for each directory named as a location is but for the version digits of one of
    its segments that holds files named as modules (SoapySDR's `modules0.7` beside `modules0.8`;
    libproxy's `libproxy/0.4.17/modules` beside `0.4.18/modules`, where a libproxy tester's
    module left by a lagging plug-in package was "1 of 1 modules load", nothing said): another
    release's, never read, as plan warns of a build."""
    searched = _searched_dirs(locations)
    noted: set[str] = set()
    # Only the segments below the prefix checked: above it, digits name other trees, not releases
    # (a sweep's venv in /tmp/h133-mosquitto was told of /tmp/h135-mosquitto's, "of another
    # release?"); a location outside the prefix is the user's own, as `_misplace` says.
    top = len(ctx.prefix.rstrip("/").split("/"))
    inside = ctx.prefix.rstrip("/") + "/"
    for d in searched:
        parts = d.rstrip("/").split("/")
        if not d.startswith(inside):
            continue
        for i in range(len(parts) - 1, top - 1, -1):
            name, parent = parts[i], "/".join(parts[:i]) or "/"
            if not re.search(r"\d", name) or not ctx.root.is_dir(parent):
                continue
            for sibling in ctx.root.listdir(parent):
                there = "/".join([*parts[:i], sibling, *parts[i + 1 :]])
                if (
                    there in noted
                    or not other_version_dir(there, d)
                    or there in searched
                    or not ctx.root.is_dir(there)
                ):
                    continue
                noted.add(there)
                if named := _named_files_in(there, ctx):
                    _note(
                        ctx,
                        f"{there}: {len(named)} file(s) named as modules ({_three_and_more(named)}) in a "
                        f"directory of another version than {d}, where the loader looks: never looked up "
                        "(of another release?)",
                    )


# A multiarch directory's name (x86_64-linux-gnu, aarch64-linux-gnu, arm-linux-gnueabihf,
# x86_64-kfreebsd-gnu, i386-gnu): not any name of three words (evolution-data-server).
_TRIPLET = re.compile(r"[a-z0-9_]+-(?:linux-|kfreebsd-)?gnu[a-z0-9_]*")


def _twin_dirs(d: str, ctx: _Context) -> list[str]:
    """The directories a location `<P>/lib/<rest>` has a multiarch twin in, `<P>/lib/<triplet>/<rest>`
    (and the other way round), that exist."""
    parts = d.rstrip("/").split("/")
    if "lib" not in parts:
        return []
    i = len(parts) - 1 - parts[::-1].index("lib")
    lib, rest = "/".join(parts[: i + 1]) or "/", parts[i + 1 :]
    if not rest:
        return []
    if _TRIPLET.fullmatch(rest[0]):
        twins = [posixpath.join(lib, *rest[1:])] if rest[1:] else []
    else:
        triplets = [t for t in ctx.root.listdir(lib) if _TRIPLET.fullmatch(t)] if ctx.root.is_dir(lib) else []
        twins = [posixpath.join(lib, t, *rest) for t in sorted(triplets)]
    return [t for t in twins if ctx.root.is_dir(t)]


def _named_files_in(d: str, ctx: _Context) -> list[str]:
    """The files in `d`, and one level down (a naming `{type}/{name}.so`), named as modules, as
    paths relative to it."""
    out = []
    for e in ctx.root.listdir(d):
        path = posixpath.join(d, e)
        below = [f"{e}/{f}" for f in ctx.root.listdir(path)] if ctx.root.is_dir(path) else [e]
        out += [
            r
            for r in below
            if ctx.loader.parse_in_location(r) is not None and ctx.root.is_file(posixpath.join(d, r))
        ]
    return sorted(out)


def _twin_notes(ctx: _Context, locations: Mapping[str, tuple[str, ...]], modules: Sequence[str] = ()) -> None:
    """A note for each multiarch twin of a location (`/usr/lib/x86_64-linux-gnu/vamp` for
    `/usr/lib/vamp`) that holds files named as modules and is not searched: installed in the
    wrong place, as plan warns of a build (a Vamp tester: Debian's vamp-examples ships its
    plug-in where the 2.10 host never looks; check said "1 of 1 modules load")."""
    searched = set(_searched_dirs(locations))
    real = {ctx.root.resolve(s) for s in searched}
    for d in sorted(searched):
        for twin in _twin_dirs(d, ctx):
            if twin in searched or ctx.root.resolve(twin) in real:
                continue
            where = f"in the multiarch twin of {d}, where the loader looks: installed in the wrong place?"
            lost = _misplace(
                ctx, [posixpath.join(twin, r) for r in _named_files_in(twin, ctx)], modules, where
            )
            if named := [p[len(twin) + 1 :] for p in lost]:
                _note(
                    ctx,
                    f"{twin}: {len(named)} file(s) named as modules ({_three_and_more(named)}) in the "
                    f"multiarch twin of {d}, where the loader looks: never looked up (installed in the wrong "
                    "place?)",
                )


def _three_and_more(items: Sequence[str]) -> str:
    """The first three of `items`, then how many more, for a note."""
    return ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")


def _two_and_more(paths: Sequence[str]) -> str:
    """The first two of `paths`, then how many more, for a one-line layout error."""
    return ", ".join(paths[:2]) + (f" and {len(paths) - 2} more" if len(paths) > 2 else "")


def _value_symbol_nowhere(ctx: _Context) -> str | None:
    """Why the layout is wrong, where no module read (two or more) defines the symbol of a stamp
    compared by value: `[loader.stamp] symbol` mistyped (a pppd tester's `pppd_versoin` made
    all 14 plug-ins "of another build", exit 1)."""
    read = ctx.value_defined
    if len(read) < 2 or any(read.values()):
        return None
    return (
        f"no module found defines {ctx.loader.stamp_symbol}, the stamp the layout compares by value "
        f"({_two_and_more(sorted(read))}): is [loader.stamp] symbol mistyped?"
    )


def _descriptor_nowhere(report: CheckReport, ctx: _Context) -> str | None:
    """Why the layout is wrong, where no module file found (two or more) has its descriptor
    beside it: `descriptor` is mistyped, as plan says of a build (an Eye of GNOME tester's
    "{name}.plugn": "0 of 0 modules load; 9 problem(s)", exit 1, which blames the install)."""
    if ctx.loader.descriptor is None or any(m.file and not m.stray and not m.helper for m in report.modules):
        return None
    lacking = sorted(
        m.file for m in report.modules if m.file and any(NO_DESCRIPTOR in p.detail for p in m.problems)
    )
    if len(lacking) < 2:
        return None
    return (
        f"no module file found has its descriptor beside it ([loader] descriptor {ctx.loader.descriptor!r}; "
        f"{_two_and_more(lacking)}): is "
        "[loader] descriptor mistyped?"
    )


def _entry_defined_nowhere(report: CheckReport, loader: Loader) -> str | None:
    """Why the layout is wrong, where every module found (two or more) looked up with one entry
    key lacks the entry symbol: the key is mistyped, as plan says of a build (a Knot Resolver and
    a Wayfire tester's "{name}_apii" and "newInstace": "0 of 17 modules load", exit 1, which
    blames the system; an LMMS tester's type's own entry, beside a right one for the other type,
    exit 1 where plan stopped)."""
    # Those read as ELF: a dangling link or a text file beside them is no sign the entry is right
    # (a p11-kit tester's broken.so turned the layout error into exit 1).
    unread = {"unreadable", "machine"}
    rows = [
        m
        for m in report.modules
        if m.file is not None and not m.stray and not m.helper and not {p.kind for p in m.problems} & unread
    ]
    by_key: dict[str, list[ModuleVerdict]] = {}
    for m in rows:
        mtype = (loader.naming.split_id(m.module) or ("", m.module))[0]
        key = f"[loader.by-type.{mtype}] entry" if mtype in loader.type_entry else "[loader] entry"
        if loader.entries_for(mtype):
            by_key.setdefault(key, []).append(m)
    for key, group in sorted(by_key.items()):
        if len(group) < 2 or not all(any(p.kind == "no-entry" for p in m.problems) for m in group):
            continue
        files = sorted({m.file for m in group if m.file is not None})
        shown = _two_and_more(files)
        slip = naming_slip([(loader.naming.split_id(m.module) or ("", m.module))[1] for m in group])
        return (
            f"no module found defines the entry symbol the loader looks up ({shown}): is {key}{slip} "
            "mistyped?"
        )
    return None


def _stamp_named(loader: Loader) -> str:
    """The stamp a loader file holds, as a note says it: a name, or a value stamp's string."""
    if loader.stamp_value is not None:
        return f"string {loader.stamp_value!r} (the {loader.stamp_symbol} value modules carry)"
    return f"{loader.stamp_symbol} stamp name"


def _stamp_held_nowhere(exes: Sequence[_Exe], module_files: Sequence[str], ctx: _Context) -> str | None:
    """Why the layout is wrong, where its stamp is held by no loader file and exported by no
    module found: a libvisual tester's typo in the stamp's name, which plan refused, passed the
    check ("18 of 18 modules load", exit 0) with a note that the same-build checks were skipped.
    A few modules are read, only then: one exporting a stamp is enough to tell."""
    glob = ctx.loader.stamp_symbol
    if glob is None or not exes or not module_files or any(e.stamps for e in exes):
        return None
    # A value stamp's symbol is one name; its string, which no loader file holds, is told apart
    # from the layout's mistake by a module defining the symbol at all.
    stamp = stamp_regex(glob)
    files = list(dict.fromkeys(module_files))
    if ctx.loader.stamp_value is not None:
        return _value_held_nowhere(exes, files, ctx)
    for path in files[:_STAMP_READS]:
        real = ctx.root.resolve(path)
        try:
            with open_regular(ctx.root.host(real or path)) as f:
                _, defined = dynamic_symbols(f)
        except (OSError, ElfReadError):
            continue
        if any(stamp.fullmatch(name.encode()) for name in defined):
            return None
    names = ", ".join(dict.fromkeys(e.path for e in exes[:3])) + (" and more" if len(exes) > 3 else "")
    return (
        f"the layout demands the build stamp {glob}, but neither the loader ({names}) nor any of the "
        f"{min(len(files), _STAMP_READS)} module(s) read holds one: is [loader.stamp] symbol mistyped, "
        "or the layout wrong for this program?"
    )


def _value_held_nowhere(exes: Sequence[_Exe], files: list[str], ctx: _Context) -> str:
    """`_stamp_held_nowhere` for a stamp compared by value: no loader file holds a string the
    value glob matches, so no module could pass; the modules' own strings (a few read) tell the
    layout's glob mistyped from a program of another release."""
    symbol, like = ctx.loader.stamp_symbol, ctx.loader.stamp_value
    values: list[str] = []
    for path in files[:_STAMP_READS]:
        try:
            with open_regular(ctx.root.host(ctx.root.resolve(path) or path)) as f:
                value = stamp_value(f, str(symbol))
        except (OSError, ElfReadError):
            continue
        if value is not None and value not in values:
            values.append(value)
    names = ", ".join(dict.fromkeys(e.path for e in exes[:3])) + (" and more" if len(exes) > 3 else "")
    theirs = (
        f"the modules' {symbol} is {', '.join(repr(v) for v in values[:3])}"
        if values
        else f"none of the {min(len(files), _STAMP_READS)} module(s) read defines {symbol} as a string"
    )
    return (
        f"the layout demands the build stamp {symbol}, a string like {like!r}, but no loader file ({names}) "
        f"holds such a string, and {theirs}: is [loader.stamp] value wrong for this program, or are the "
        "program and its modules of two releases?"
    )


_STAMP_READS = 20  # modules read for a stamp no loader file holds


# How the note of `_outside_prefix` starts (`qpack list` of a prefix holding no module drops it).
ELSEWHERE_NOTE = "no directory the loader searches is inside"


def _outside_prefix(
    locations: Mapping[str, tuple[str, ...]], rt: Root, pre: str, ctx: _Context, found: bool
) -> bool:
    """A staged tree given as the prefix of a loader that looks only at absolute directories
    (SASL, PAM) is judged by this machine's modules, which passes a broken tree: say so, and
    whether it is so. `found`: whether the loader found any module there (a Qt tester's venv
    was told "the modules judged are this machine's" where the machine had none)."""
    searched = list(dict.fromkeys(d for dirs in locations.values() for d in dirs))  # in search order
    # A type's own variable set points that type's search somewhere else (MAGICK_CODER_MODULE_PATH).
    searched += [d for dirs in _own_type_dirs(ctx).values() for d in dirs if d not in searched]
    if str(rt.root) != "/" or pre == "/" or not searched:
        return False
    outside = _outside_of(ctx)  # a prefix given through a symlink: its real path too
    if all(outside(d) for d in searched):
        # A prefix made from `wheels` wheels is reached through a variable: say which.
        # Only where wheels put modules: after the last uninstall a GEGL tester was still sent
        # to the directory it removed.
        settings = [
            way.setting(pre)
            for way in ctx.loader.wheel_ways()
            if any(rt.is_dir(posixpath.join(pre, d)) for d in way.dirs)
        ]
        ways = list(dict.fromkeys(f"--env {var}={value}" for var, value in settings))
        # Each to a directory of its own, with modules there: all of them (an R tester's
        # R_LIBS and R_LIBS_SITE, each reaching half the packages, were offered as "or").
        joined = " and ".join(ways) if len({v for _, v in settings}) > 1 else " or ".join(ways)
        hint = f"; for modules installed from wheels, {joined}" if ways else ""
        judged = "the modules judged are this machine's" if found else "this machine has no module there"
        ctx.notes.append(
            f"{ELSEWHERE_NOTE} {pre} ({', '.join(searched)}): {judged}; for "
            f"a staged tree, give --root TREE and the prefix as the program sees it{hint}"
        )
        return True
    return False


def _none_found(locations: Mapping[str, tuple[str, ...]], rt: Root, pre: str, ctx: _Context) -> None:
    """A note for a check that found no module at all: where it looked, and the variable that
    reaches the modules a `wheels` directory of the prefix holds. A PHP tester's layout named
    PHP 8.1's API directory: `check /usr` said "0 of 0 modules load" and nothing else, with
    31 extensions in the variable's directory."""
    searched = _searched_dirs(locations)
    settings = [
        way.setting(pre)
        for way in ctx.loader.wheel_ways()
        if any(rt.listdir(posixpath.join(pre, d)) for d in way.dirs if rt.is_dir(posixpath.join(pre, d)))
    ]
    ways = [
        f"{value} holds files, which it reads with --env {var}={value}"
        for var, value in settings
        if var not in ctx.env
    ]
    hint = f"; {'; '.join(dict.fromkeys(ways))}" if ways else ""
    if (mistyped := _location_error(searched, rt, ctx, set(_fixed_dirs(locations, ctx)))) is not None:
        raise CheckError(mistyped)
    shown = [_dangling_shown(d, rt) for d in searched]
    ctx.notes.append(f"no module where the loader looks ({', '.join(shown) or 'nowhere'}){hint}")


def _dangling_shown(d: str, rt: Root) -> str:
    """A searched directory as a note shows it, with the target of the link it is where that
    leads nowhere (an nginx tester's share/nginx/modules -> ../../lib/nginx/modulez was only
    "no module where the loader looks")."""
    host = rt.host(d)
    if rt.resolve(d) is not None or not host.is_symlink():
        return d
    try:
        target = os.readlink(host)
    except OSError:
        return d
    return f"{d}: a link to {target}, which leads nowhere"


def _searched_dirs(locations: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Every directory searched, once, in order."""
    return list(dict.fromkeys(d for dirs in locations.values() for d in dirs))


def _location_error(
    searched: Sequence[str], rt: Root, ctx: _Context, own: Collection[str] | None = None
) -> str | None:
    """Why no module was found, where a location or the naming is plainly mistyped. An
    `optional` location may well be missing: no sign of a slip (a SANE tester's /usr/lib/sane
    was said to lack the segment x86_64-linux-gnu, where `.../sand` was the typo); nor is a
    directory a variable's value gives (`own`: the layout's own, where known), whose missing
    segment is the user's, not the layout's (a GTK tester's GTK_EXE_PREFIX=<venv>, whose
    lib/gtk-3.0 GTK reads without the multiarch part: exit 2, "a location of the layout
    missing the segment 'x86_64-linux-gnu'?")."""
    optional = {
        posixpath.normpath(loc.value) for loc in ctx.loader.search if loc.kind == "absolute" and loc.optional
    }
    required = [d for d in searched if d not in optional and (own is None or d in own)]
    return (
        _mistyped_location(searched, rt, ctx)
        or _location_too_deep(required, rt, ctx)
        or _location_lacks_segment(required, rt, ctx)
        or _naming_near_miss(searched, rt, ctx)
    )


def _naming_near_miss(searched: Sequence[str], rt: Root, ctx: _Context) -> str | None:
    """Why no module was found, where files of a searched directory start almost as a pattern
    of the naming starts, and none as it does (an IBus tester's `ibus-engin-{name}` beside
    /usr/libexec/ibus-engine-simple: "0 of 0 modules load", exit 0, where plan stopped)."""
    import difflib  # only for a check that found no module

    heads = {p.split("{", 1)[0] for p in ctx.loader.naming.patterns_all() if "/" not in p.split("{", 1)[0]}
    for d in searched:
        names = [n for n in rt.listdir(d) if rt.is_file(posixpath.join(d, n))] if rt.is_dir(d) else []
        # Five letters at least (a monitoring-plugins tester's `chek_{name}` for check_load: exit 1).
        for head in sorted(h for h in heads if len(h) >= 5):
            if any(n.startswith(head) for n in names):
                continue
            starts = sorted({n[:k] for n in names for k in (len(head) - 1, len(head), len(head) + 1)})
            # Close enough for a slip of one letter in a long start only: `libnss_` is not
            # `libnss3` (0.86), in a library directory holding no module at all.
            close = difflib.get_close_matches(head, starts, n=1, cutoff=0.9)
            near = sorted(
                n
                for n in names
                if close and n.startswith(close[0]) and _starts_as_elf(posixpath.join(d, n), rt)
            )
            if near:
                return (
                    f"no module where the loader looks: files in {d} start as {close[0]!r}, not as the "
                    f"naming's {head!r} ({', '.join(near[:3])}): is [loader] naming mistyped?"
                )
    return None


def _location_too_deep(searched: Sequence[str], rt: Root, ctx: _Context) -> str | None:
    """Why no module was found, where a searched directory does not exist and the directory
    above it holds files named as modules are, as the naming puts them (a colord tester's
    `lib/x86_64-linux-gnu/colord` for `lib/x86_64-linux-gnu`, whose `colord-sensors/` held the
    drivers: "0 of 0 modules load", exit 0)."""
    depth = ctx.loader.naming.depth() + ctx.loader.depth
    for d in searched:
        above = posixpath.dirname(d.rstrip("/"))
        if rt.is_dir(d) or not rt.is_dir(above) or above in ("", "/"):
            continue
        # In a directory below it only, as the naming puts them (`colord-sensors/`): a flat
        # `{name}.so` takes every library of a libdir above (a rofi tester's /usr/lib/<triplet>,
        # where rofi's own plug-in directory is absent until a plug-in is installed).
        named = [
            f for f in _listing(rt, above, depth) if "/" in f and ctx.loader.parse_in_location(f) is not None
        ]
        if named:
            return (
                f"no module where the loader looks: {d} does not exist, and {above} above it holds "
                f"{len(named)} file(s) named as modules are ({', '.join(sorted(named)[:3])}): is a "
                "location of the layout mistyped?"
            )
    return None


def _location_lacks_segment(searched: Sequence[str], rt: Root, ctx: _Context) -> str | None:
    """Why no module was found, where a searched directory does not exist and the same path
    with one more directory before its first missing segment holds files named as modules are
    (an Atril tester's `atril/backends` for `atril/3/backends`: "0 of 0 modules load", exit 0,
    where plan stopped)."""
    depth = ctx.loader.naming.depth() + ctx.loader.depth
    for d in searched:
        if rt.is_dir(d):
            continue
        lead = "/" if d.startswith("/") else ""
        parts = [p for p in d.split("/") if p]
        i = next((k for k in range(len(parts)) if not rt.is_dir(lead + "/".join(parts[: k + 1]))), 0)
        parent = lead + "/".join(parts[:i])
        if not parent.strip("/"):
            continue
        for sub in sorted(rt.listdir(parent)):
            there = posixpath.join(parent, sub, *parts[i:])
            if not rt.is_dir(there):
                continue
            named = [f for f in _listing(rt, there, depth) if ctx.loader.parse_in_location(f) is not None]
            if named and _some_define_an_entry(there, named, ctx):
                return (
                    f"no module where the loader looks: {d} does not exist, and {there} holds "
                    f"{len(named)} file(s) named as modules are ({', '.join(sorted(named)[:3])}): is a "
                    f"location of the layout missing the segment {sub!r}?"
                )
    return None


def _some_define_an_entry(there: str, named: Sequence[str], ctx: _Context) -> bool:
    """Whether one of the first few files `named` (relative to `there`) defines an entry symbol
    of the layout, where every type has one: a directory of another program's modules is no
    location missing a segment (a Zabbix tester's absent lib/x86_64-linux-gnu/modules, which
    Debian never creates, blamed on GIO's gio/modules: exit 2 on a clean install)."""
    entries = ctx.every_entry
    if entries is None:
        return True
    return any(_entries_defined(posixpath.join(there, f), entries, ctx.root) for f in sorted(named)[:5])


def _type_dir_slips(locations: Mapping[str, tuple[str, ...]], rt: Root, ctx: _Context) -> list[str]:
    """Each module type named in a directory none of the locations searched has, beside one
    named almost so holding files named as its modules (`loader.type_dir_slips`): a GIMP
    tester's `plug-in/{name}/{name}` for `plug-ins/`, "9 of 9 modules load", exit 0, with 121
    plug-ins unjudged."""

    def subdirs(parent: str) -> list[str]:
        return [e for e in rt.listdir(parent) if rt.is_dir(posixpath.join(parent, e))]

    def files_below(d: str, depth: int) -> list[str]:
        return [f for f in _listing(rt, d, depth) if f.count("/") == depth]

    searched = _searched_dirs(locations)
    slips = type_dir_slips(ctx.loader.naming, searched, rt.is_dir, subdirs, files_below)
    named = type_name_slips(ctx.loader.naming, searched, rt.is_dir, files_below)
    return [slip.describe() for slip in slips] + [slip.describe() for slip in named]


def _fixed_dirs(locations: Mapping[str, tuple[str, ...]], ctx: _Context) -> list[str]:
    """Of the directories searched, those the layout names itself (a relocated location, an
    absolute one without a placeholder), not those a variable or `{pkgversion}` gives: QEMU's
    module-upgrade directories differ by a version, never by a typo."""
    absolute = {posixpath.normpath(loc.value) for loc in ctx.loader.search if loc.kind == "absolute"}
    relocated = ["/" + loc.value.strip("/") for loc in ctx.loader.search if loc.kind == "relocated"]
    searched = dict.fromkeys(d for dirs in locations.values() for d in dirs)
    return [d for d in searched if d in absolute or any(d.endswith(r) for r in relocated)]


def _said_dirs(locations: Mapping[str, tuple[str, ...]], ctx: _Context) -> list[str]:
    """The directories searched that a note may call mistyped beside modules found: the
    layout's own, and those a segment of the layout's ends."""
    return [*_fixed_dirs(locations, ctx), *_layout_segment_dirs(locations, ctx)]


def _layout_segment_dirs(locations: Mapping[str, tuple[str, ...]], ctx: _Context) -> list[str]:
    """Of the directories searched, those ending in a segment the layout puts under a
    variable's directories (`under`): that segment is the layout's, even where the variable's
    value is the user's (a GTK tester's `3.0.O` typed for `3.0.0` under GTK_PATH)."""
    below = ["/" + sub.strip("/") for loc in ctx.loader.search for sub in loc.subdirs if sub.strip("./")]
    searched = dict.fromkeys(d for dirs in locations.values() for d in dirs)
    return [d for d in searched if any(d.endswith(sub) for sub in below)]


def _mistyped_location(searched: Sequence[str], rt: Root, ctx: _Context, at_least: int = 1) -> str | None:
    """Why no module was found, where a searched directory does not exist and one beside it,
    named almost so, holds files named as modules are (a Scribus tester's `.../plugin` for
    `.../plugins`: "0 of 0 modules load", exit 0, beside 67 plug-ins): the layout is wrong, as
    plan says of a build. None where nothing points to a typo (a core installed alone), or
    where fewer than `at_least` files are named so."""

    def subdirs(parent: str) -> list[str]:
        return [e for e in rt.listdir(parent) if rt.is_dir(posixpath.join(parent, e))]

    depth = ctx.loader.naming.depth() + ctx.loader.depth
    for d in searched:
        if rt.is_dir(d) or (there := near_directory(d, rt.is_dir, subdirs)) is None:
            continue
        # As deep as the naming reaches (Node's `{name}/build/Release/{name}.node`, three
        # levels: a Node tester's `nodjs` for `nodejs` was "0 of 0", exit 0).
        named = [f for f in _listing(rt, there, depth) if ctx.loader.parse_in_location(f) is not None]
        if named and len(named) >= at_least:
            beside = "beside it " if posixpath.dirname(there) == posixpath.dirname(d.rstrip("/")) else ""
            return (
                f"no module where the loader looks: {d} does not exist, and {there} {beside}holds "
                f"{len(named)} file(s) named as modules are ({', '.join(sorted(named)[:3])}): is a "
                "location of the layout mistyped?"
            )
    return None


def _outside_of(ctx: _Context) -> Callable[[str], bool]:
    """Whether a path lies outside the prefix checked on this machine (root /, a prefix other
    than /): this machine's files, not the prefix's. Inside a staged root nothing is."""
    pre = ctx.prefix
    if str(ctx.root.root) != "/" or pre in ("", "/"):
        return lambda path: False
    tops = {pre, ctx.root.resolve(pre) or pre}  # a prefix given through a symlink: its real path too

    def outside(path: str) -> bool:
        # A path through a symlink into the prefix is inside (a NUT tester's /lib/nut on a
        # merged-/usr system, /lib -> usr/lib: "no directory the loader searches is inside /usr").
        paths = {path, ctx.root.resolve(path) or path}
        return not any(p == top or p.startswith(top + "/") for top in tops for p in paths)

    return outside


def _named_file(path: str, ctx: _Context) -> bool:
    """Whether a [[package]] of the layout gives the file at `path` by name (`Loader.package_files`)."""
    return bool(ctx.loader.package_files) and any(r.match(path.lstrip("/")) for r in ctx.package_globs)


def _named_globs(ctx: _Context) -> list[re.Pattern[str]]:
    """`Loader.named_files` compiled, under the prefix checked and the layout's own (for this
    machine's files outside the prefix), matching paths without their leading '/'."""
    return _globs_under(ctx, ctx.loader.named_files)


def _globs_under(ctx: _Context, globs: Iterable[str]) -> list[re.Pattern[str]]:
    """`globs` ({prefix} or absolute) compiled under the prefix checked and the layout's own."""
    prefixes = dict.fromkeys([ctx.prefix, ctx.loader.prefix])
    return [compile_glob(expand_prefix(g, pre).lstrip("/")) for g in globs for pre in prefixes]


def _not_named(verdicts: list[ModuleVerdict], ctx: _Context) -> list[ModuleVerdict]:
    """The rows less the strays the layout gives a package by name (`Loader.named_files`, under
    the prefix checked, and under the layout's own prefix for this machine's files outside it):
    plan says nothing of them, nor does check now. An Emacs tester's venv got 124 problems for
    /usr's preloaded .eln files, which `files` gives the core: the glob was matched under the
    venv alone."""
    if not ctx.loader.named_files:
        return verdicts
    named = _named_globs(ctx)
    # And, where the loader passes over a file without its entry (register-loadable), one a
    # [[package]] names that defines none: that package's file, no module (a Mumble tester's
    # libmumble.so, the overlay library beside the plug-ins, was `no-entry`, exit 1, on a clean
    # install; Mumble opens it, finds no entry and unloads it silently).
    passed_over = ctx.loader.resolution == "register-loadable"
    return [
        v
        for v in verdicts
        if not (
            v.file is not None
            and (
                v.stray
                or (
                    passed_over
                    and {p.kind for p in v.problems} & {"no-entry"}
                    and {p.kind for p in v.problems} <= {"no-entry", "other-build"}
                    and _named_file(v.file, ctx)
                )
            )
            and any(r.match(v.file.lstrip("/")) for r in named)
        )
    ]


def _strays_apart(verdicts: list[ModuleVerdict]) -> list[ModuleVerdict]:
    """The rows, a stray labelled as a module's row is named by its file: a GDAL tester's
    gdal_GRASS.so.1, where the variable pointed, beside the installed gdal_GRASS.so that the
    variable hides (its row had been taken for the stray's)."""
    modules = {v.module for v in verdicts if not v.stray}
    return [
        dataclasses.replace(v, module=posixpath.basename(v.file))
        if v.stray and v.file is not None and v.module in modules
        else v
        for v in verdicts
    ]


def _shut_out_rows(exe: _Exe, finder: LibraryFinder, ctx: _Context, seen: set[str]) -> list[ModuleVerdict]:
    """Modules installed in the prefix in a location the loader skips because a `replaces`
    location before it exists (a libvips tester's module in <prefix>/x86_64-linux-gnu/
    vips-modules-8.14, passed over while /usr/lib/x86_64-linux-gnu/vips-modules-8.14 exists):
    `not-searched`, as where a variable replaces the search. A variable replacing the search
    stops it before: `_hidden_rows` says that."""
    replacing: str | None = None
    skipped: list[str] = []
    for loc in ctx.loader.search:
        if loc.kind == "env":
            if loc.replaces_rest and any(n in ctx.env for n in loc.variables):
                return []
            continue
        d = _location_dir(loc, exe, finder, ctx)
        if d is None:
            continue
        if replacing is not None:
            skipped.append(posixpath.normpath(d))
        elif loc.replaces_rest and ctx.root.is_dir(d):
            replacing = posixpath.normpath(d)
    if replacing is None:
        return []
    skipped = [d for d in dict.fromkeys(skipped) if d != replacing and ctx.root.is_dir(d)]
    if not skipped:
        return []
    outside = _outside_of(ctx)
    rows = []
    for mid, files in sorted(find(skipped, ctx, set()).files.items()):
        if mid in seen or outside(files[0]) or not ctx.loader.asks_for(exe.path, mid, ctx.prefix):
            continue
        why = (
            f"{files[0]}: installed where the program looks only when {replacing} does not exist, and it does"
        )
        rows.append(
            ModuleVerdict(module=mid, file=files[0], loads=False, problems=(Problem("not-searched", why),))
        )
    return rows


def _hidden_rows(
    exe: _Exe, dirs: list[str], finder: LibraryFinder, ctx: _Context, seen: set[str]
) -> list[ModuleVerdict]:
    """Modules installed where the loader looks with an empty environment that the environment
    given hides (a variable replacing the search path) and no location searched provides."""
    if not ctx.env:
        return []
    default = dataclasses.replace(ctx, env={}, notes=[])
    default_dirs = search_dirs(exe, finder, default)
    hidden: dict[str, str] = {}  # module id -> its file
    hidden_dirs = [d for d in default_dirs if d not in dirs]
    if hidden_dirs:
        hidden.update((mid, files[0]) for mid, files in find(hidden_dirs, default, set()).files.items())
    own = {t: ds for t, ds in _own_type_dirs(ctx).items() if t not in ctx.loader.type_env_first}
    if own:
        # A type's own variable set: it replaces every default directory for that type's
        # modules (ImageMagick's MAGICK_CODER_MODULE_PATH), which hid them in silence.
        found = find(default_dirs, default, set())
        for mid, files in found.files.items():
            mtype = found.types.get(mid, ("",))[0]
            # Not where the variable names the default directory itself (an ImageMagick tester's
            # MAGICK_CODER_MODULE_PATH=<venv>/...:/usr/.../coders: 123 coders said unsearched,
            # beside their own rows).
            if mtype in own and not any(files[0].startswith(d.rstrip("/") + "/") for d in own[mtype]):
                hidden.setdefault(mid, files[0])
    # The loader's own variables that it reads, not every --env given (HOME, LD_LIBRARY_PATH),
    # nor one a replacing variable before it cuts off (a Csound tester's CS_USER_PLUGINDIR, named
    # as a cause beside OPCODE6DIR64, which alone hid the modules).
    own_vars = {*_variables_read(ctx)[0], *ctx.loader.type_env.values()}
    shown = (
        ", ".join(f"{k}={v}" for k, v in sorted(ctx.env.items()) if k in own_vars) or "the environment given"
    )
    rows = []
    outside = _outside_of(ctx)
    machines: dict[str, list[str]] = {}  # directory -> this machine's modules there
    tops = sorted({d.rstrip("/") for d in default_dirs}, key=len, reverse=True)
    for mid in sorted(hidden):
        if not ctx.loader.asks_for(exe.path, mid, ctx.prefix):
            continue
        file = hidden[mid]
        if outside(file):
            # This machine's modules in the default directory, beside a prefix whose own the
            # variable names (SASL_PATH=<venv>/lib/.../sasl2): no file of the prefix's. Each
            # counts, found in the prefix too or not (the count changed with what was installed).
            # One line per directory searched, not per subdirectory (a PipeWire tester's 14
            # lines, one per SPA type directory below spa-0.2).
            top = next((d for d in tops if file.startswith(d + "/")), posixpath.dirname(file))
            machines.setdefault(top, []).append(mid)
            continue
        if mid in seen:
            continue
        why = f"{file}: installed where the program looks by default, but not searched with {shown}"
        rows.append(
            ModuleVerdict(module=mid, file=file, loads=False, problems=(Problem("not-searched", why),))
        )
    for where, mids in machines.items():
        # Gathered over the programs, said once (a Gwyddion tester read a line for gwyddion's
        # 26 and another for the thumbnailer's 19: `_machine_notes`).
        ctx.machine_modules.setdefault((where, shown), {}).update(dict.fromkeys(mids))
    return rows


def _machine_notes(ctx: _Context) -> list[str]:
    """One note per directory of this machine's modules a variable hides (`_not_searched`), for
    every program at once."""
    out = []
    for (where, shown), found in ctx.machine_modules.items():
        mids = sorted(found)
        named = ", ".join(mids[:5]) + (f" and {len(mids) - 5} more" if len(mids) > 5 else "")
        out.append(
            f"{where}: this machine's {len(mids)} module(s) there ({named}), outside {ctx.prefix}, "
            f"are not searched with {shown}: not judged as the prefix's"
        )
    return out


def _not_started(verdict: ModuleVerdict, why: str, kind: ProblemKind = "missing-library") -> ModuleVerdict:
    """A module of a program that cannot start loads for nobody."""
    if not verdict.loads and (verdict.unused or verdict.stray):
        return verdict
    return dataclasses.replace(verdict, loads=False, problems=(*verdict.problems, Problem(kind, why)))


def _needs_unmet(exe: _Exe, verdicts: list[ModuleVerdict], ctx: _Context) -> str | None:
    """Why the program cannot start for want of a module it loads itself as it starts
    (`program_needs`: rsyslogd's lmnet, without which no configuration starts), or of what a
    script needs to run (`_Exe.unstartable`), or None."""
    if exe.unstartable is not None:
        return exe.unstartable
    for mid in ctx.loader.program_needs:
        if not ctx.loader.asks_for(exe.path, mid, ctx.prefix):
            continue
        v = next((v for v in verdicts if v.module == mid and not v.stray), None)
        if v is None or v.file is None:
            return f"{exe.path} cannot start: it loads module {mid} itself, which is not found where it looks"
        if not v.loads:
            kinds = ", ".join(dict.fromkeys(p.kind for p in v.problems))
            return f"{exe.path} cannot start: it loads module {mid} itself, which will not load ({kinds})"
    return None


def _start(
    root_type: type[Root],
    prefix: str | Path,
    loader: Loader,
    root: str | Path,
    env: Mapping[str, str] | None,
    pkgversion: str | None,
) -> tuple[Root, str, _Context, Root]:
    """(the root, the prefix inside it, the check's context, where system libraries are)."""
    rt = root_type(root)
    pre = "/" + str(prefix).strip("/") if str(prefix) != "/" else "/"
    if not rt.is_dir(pre):
        raise CheckError(
            f"{rt.host(pre)}: no such directory (the installed prefix to check){_prefix_hint(prefix, root)}"
        )
    ctx = _Context(loader=loader, root=rt, env=dict(env or {}), pkgversion=pkgversion, notes=[], prefix=pre)
    _unread_variables(ctx)
    for entry in ld_library_path(ctx.env):
        if entry.startswith("/") and not rt.is_dir(entry) and str(rt.root) != "/":
            # A PowerDNS tester's path on the host, read inside --root: "cannot start" unexplained.
            ctx.notes.append(
                f"LD_LIBRARY_PATH: {entry}: no such directory in {rt.root} "
                "(paths given with --env are read inside the root)"
            )
    system = rt
    cache = rt.stat("/etc/ld.so.cache")
    if cache is None or not stat.S_ISREG(cache.st_mode):
        # A staged tree (DESTDIR), not a system root: its system libraries are this host's
        # (its own default directories are searched first: ldpaths.LibraryFinder). A cache
        # that is no file (a sweep's FIFO) is none.
        system = root_type("/")
        if str(rt.root) != "/":
            ctx.notes.append(
                f"{rt.root} has no /etc/ld.so.cache: libraries are looked up in its own default directories, "
                "then on this host (script modules' interpreters too)"
            )
    return rt, pre, ctx, system


# What the check reads of --env besides the loader's own variables: the dynamic linker's path,
# and what fills `{home}`, `{xdg_data_home}` and `{xdg_config_home}` in a location.
CHECK_VARIABLES = ("LD_LIBRARY_PATH", "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME")


def _variables_read(ctx: _Context) -> tuple[list[str], dict[str, str]]:
    """(the env locations' variables the search reads, in order; each variable given that a
    variable set before it, on a location that `replaces` the rest or the next one, keeps from
    being read -> why), as `search_dirs` walks them."""
    read: list[str] = []
    cut: dict[str, str] = {}
    stopper: str | None = None
    skipper: str | None = None  # set on a `replaces = "next"` location: the next one is cut
    for loc in ctx.loader.search:
        by = f"${stopper}, set, replaces every location after its own" if stopper else None
        by = by or (f"${skipper}, set, replaces the location after its own" if skipper else None)
        skipper = None
        if loc.kind != "env":
            continue
        if by is not None:
            cut.update((v, by) for v in loc.variables if v in ctx.env)
            continue
        name = _variable_set(loc, ctx)
        if name is not None:
            read.append(name)
            if loc.replaces_rest:
                stopper = name
            elif loc.replaces_next:
                skipper = name
    return read, cut


def _unread_variables(ctx: _Context) -> None:
    """A note for each --env variable nothing in the check reads: a misspelt QEMU_MODULE_DIR
    was ignored in silence, and the verdicts were those of an empty environment; and for one a
    replacing variable set before it keeps from being read."""
    for name, why in sorted(_variables_read(ctx)[1].items()):
        ctx.notes.append(f"--env {name}: not read: {why} (the layout's `replaces`)")
    own = ctx.loader.variables
    # What its locations' placeholders read (`{home}`: HOME), said and offered too (a Sylpheed
    # tester's HOM=... was told the model "reads none", with no word of HOME).
    values = [loc.value for loc in ctx.loader.search if loc.kind == "absolute"]
    placeholders = {
        "HOME": "{home}",
        "XDG_DATA_HOME": "{xdg_data_home}",
        "XDG_CONFIG_HOME": "{xdg_config_home}",
    }
    known = [*own, *(v for v, ph in placeholders.items() if any(ph in x for x in values))]
    for name in sorted(set(ctx.env) - {*own, *CHECK_VARIABLES}):
        reads = f"it reads {', '.join(known)}" if known else "it reads none"
        near = did_you_mean([name], known)
        theirs = near.removeprefix("; did you mean ").rstrip("?")
        if theirs in own:
            # Either side may hold the slip (a SASL tester's layout read SASL_PAHT; asked "did
            # you mean SASL_PAHT?", the right --env SASL_PATH looked like the typo).
            near = f"{near[:-1]}, or is the layout's {theirs} the one mistyped?"
        # "The layout's": an MLT tester's MLT_REPOSITORY_DENY is read by the real loader, which
        # the model cannot say (README, Limits); "the loader does not read it" was untrue.
        ctx.notes.append(
            f"--env {name}: the layout's loader model reads no such variable ({reads}), nor does the "
            f"library search: it changes no verdict{near}"
        )


def _prefix_hint(prefix: str | Path, root: str | Path) -> str:
    """A hint for a prefix given as this machine's path to a directory inside --root (`check
    build/usr --root build`): the prefix is read inside the root, as the program sees it."""
    given, top = os.path.abspath(prefix), os.path.abspath(root)
    if str(prefix).startswith("/") or top == "/" or not os.path.isdir(given):
        return ""
    if not given.startswith(top + "/"):
        return ""
    return f"; PREFIX is read inside --root: give /{os.path.relpath(given, top)}"


def _some_executable(exes: list[_Exe], rt: Root, pre: str, loader: Loader) -> None:
    if exes:
        return
    looked = [f"/{expand_prefix(g, pre)}" for g in loader.executables]
    if loader.library is not None:
        bindir = posixpath.join(pre, loader.bindir)
        library = f"/{expand_prefix(loader.library, pre)}"
        looked.append(f"a program in {bindir} linking {library}")
        if (missing := _library_link_missing(library, rt)) is not None:
            # A libvisual tester's root without libvisual-0.4.so.0, the link ldconfig makes,
            # beside the .so.0.0.0 it leads to: "none of the loader's executables", where the
            # layout names no executable at all.
            raise CheckError(missing)
        if not _glob_paths(rt, library.lstrip("/")) and "is there" in (
            near := _library_named_nowhere(library, rt)
        ):
            # Its name mistyped (a p11-kit tester's libp11-kit.so.1 beside .so.0): said with it.
            looked[-1] += f" ({near.partition('; ')[2].removesuffix(': is its name mistyped?')}: mistyped?)"
    shown = ", ".join(looked)
    where = rt.host(pre)
    # Named, and there, but no ELF program (a Valgrind tester's bin/valgrind, a shell script
    # running valgrind.bin: "none of the loader's executables is installed there").
    scripts = [
        path
        for g in loader.executables
        for path in _glob_paths(rt, expand_prefix(g, pre))
        if rt.is_file(path) and not _starts_as_elf(path, rt)
    ]
    if scripts and loader.script_may_load and (words := _shebang(rt.resolve(scripts[0]) or "", rt)):
        # The script is the loader; its interpreter is missing (a Prosody re-tester's lua5.4,
        # on neither the root nor the host: "name the program it runs" sent him back to a layout
        # naming lua5.4).
        interp = _interpreter_named(words)
        raise CheckError(
            f"{scripts[0]}: a script whose interpreter {interp} is installed neither in {rt.root} nor on "
            "this host: the program cannot start (install it, or give a --root that has it)"
            if str(rt.root) != "/"
            else f"{scripts[0]}: a script whose interpreter {interp} is not installed: the program cannot "
            "start"
        )
    if scripts:
        raise CheckError(
            f"{scripts[0]}: named by the layout's executables, but no ELF program (a script?): name "
            "the program it runs, the one that loads the modules, in [loader] executables"
        )
    # At the layout's own prefix, where another was given (`check / --root /` for /usr).
    own = loader.prefix.rstrip("/") or "/"  # "/" whole (a terminfo tester read "under : is the prefix ?")
    named = [*loader.executables, *([loader.library] if loader.library else [])]
    if own != (pre.rstrip("/") or "/") and any(_glob_paths(rt, expand_prefix(g, own)) for g in named):
        shown += f"; they are under {own}: is the prefix {own}?"
    raise CheckError(
        f"{where}: none of the loader's executables is installed there (looked for {shown}); "
        "for modules whose program is installed elsewhere, give --program PATH"
    )


def _library_paths(loader: Loader, prefix: str, ctx: _Context) -> list[str]:
    """The files the layout's loader library glob names in the prefix; none is said."""
    if loader.library is None:
        return []
    paths = _glob_paths(ctx.root, expand_prefix(loader.library, prefix))
    if not paths:
        library = "/" + expand_prefix(loader.library, prefix)
        # Its SONAME link missing beside the versioned file (a VA-API tester's libva.so.2 removed:
        # the note offered libva-x11.so.2, another library), else a name almost so.
        _note(ctx, _library_link_missing(library, ctx.root) or _library_named_nowhere(library, ctx.root))
    return paths


def _library_named_nowhere(library: str, rt: Root) -> str:
    """The note for a loader library the prefix has no file for (an Atril tester's `.so.2` for
    libatrildocument.so.3: plan warned, check said nothing, exit 0), with a file named almost so
    beside where it would be."""
    import difflib  # only for a library named by no file

    directory, name = posixpath.split(library)
    # A slip, not another library sharing `lib` and `.so.1` (a libdbi tester's libdbi.so.1 was
    # offered libdw.so.1, elfutils').
    close = [
        n for n in difflib.get_close_matches(name, rt.listdir(directory), n=3, cutoff=0.8) if is_slip(name, n)
    ]
    near = f"; {posixpath.join(directory, close[0])} is there: is its name mistyped?" if close else ""
    return f"[loader] library {library}: no such file in the prefix{near}"


def _library_link_missing(library: str, rt: Root) -> str | None:
    """Why the loader library is not found, where the layout names it by a name no file has
    (its SONAME link) and a file named as that name followed by more version digits is there."""
    if any(c in library for c in WILDCARDS):
        return None
    directory, name = posixpath.split(library)
    versioned = sorted(
        n
        for n in rt.listdir(directory)
        if n.startswith(name + ".") and not rt.is_dir(posixpath.join(directory, n))
    )
    if rt.stat(library) is not None or not versioned:
        return None
    return (
        f"{library}: no loader library under the name the layout gives, but {versioned[0]} beside it: "
        "is the link ldconfig makes from its SONAME missing, or does [loader] library name a link "
        "(a -dev package's) this install lacks?"
    )


_RowKey = tuple[str, str | None, tuple[Problem, ...], tuple[str, ...], bool]


class _Rows:
    """The verdicts of every executable, one row per verdict with the executables giving it."""

    def __init__(self) -> None:
        self.rows: dict[_RowKey, list[str]] = {}
        self.not_asked: dict[_RowKey, list[str]] = {}
        self.cannot_start: dict[str, str] = {}  # executable -> why the dynamic linker would refuse it

    def add(self, verdicts: Iterable[ModuleVerdict], exe: str) -> None:
        for v in verdicts:
            self.rows.setdefault((v.module, v.file, v.problems, v.copies, v.loads), []).append(exe)

    def add_not_asked(self, verdicts: Iterable[ModuleVerdict], exe: str) -> None:
        """Modules `exe` finds but never asks for: rows only where no program gives one."""
        for v in verdicts:
            self.not_asked.setdefault((v.module, v.file, v.problems, v.copies, v.loads), []).append(exe)

    def add_program(
        self,
        exe: str,
        verdicts: list[ModuleVerdict],
        not_asked: list[ModuleVerdict],
        missing: Iterable[str],
        unmet: str | None = None,
    ) -> None:
        """One program's verdicts; a program whose own libraries the dynamic linker would not
        find loads no module (`missing`: those libraries), nor one without a module it loads
        itself as it starts (`unmet`: why, `_needs_unmet`)."""
        if missing := list(missing):
            why = f"{exe} cannot start: the dynamic linker would not find {missing_phrase(missing)}"
            self.cannot_start[exe] = why
            verdicts = [_not_started(v, why) for v in verdicts]
        elif unmet is not None:
            self.cannot_start[exe] = unmet
            verdicts = [_not_started(v, unmet, "dependency") for v in verdicts]
        self.add(verdicts, exe)
        self.add_not_asked(not_asked, exe)

    def report(
        self,
        rt: Root,
        pre: str,
        layout_name: str,
        exes: list[_Exe],
        locations: dict[str, tuple[str, ...]],
        ctx: _Context,
    ) -> CheckReport:
        given = {k[0] for k in self.rows}
        unasked = [(k, v) for k, v in self.not_asked.items() if k[0] not in given]
        rows = [
            ModuleVerdict(
                module=k[0], file=k[1], problems=k[2], copies=k[3], loads=k[4], executables=tuple(v)
            )
            for k, v in [*self.rows.items(), *unasked]
        ]
        # A module one program loads is in use: the programs whose table leaves it out just
        # do not ask for it (qemu-system-x86_64 and accel-tcg-i386, which qemu-system-i386 loads).
        used = {m.module for m in rows if m.loads}
        rows = [m for m in rows if not (m.unused and m.module in used)]
        rows += _misplaced_rows(ctx, {m.module for m in rows}, [e.path for e in exes])
        modules = sorted(rows, key=lambda m: (m.module, m.file or "", m.executables))
        return CheckReport(
            prefix=pre,
            root=str(rt.root),
            layout=layout_name,
            executables=tuple(e.path for e in exes),
            modules=tuple(modules),
            locations=locations,
            warnings=tuple(dict.fromkeys([*ctx.notes, *_machine_notes(ctx)])),
            libraries=tuple(sorted(ctx.libraries)),
            cannot_start=dict(self.cannot_start),
            details=tuple(ctx.details),
        )


class _Resolver:
    """Whether each module loads: its own file's verdict, and its dependencies loading first,
    transitively. Iterative, so long chains cannot exhaust the stack; a cycle does not load."""

    def __init__(
        self,
        files: Mapping[str, list[str]],
        own: Mapping[str, tuple[Problem, ...]],
        deps_of: Callable[[str], tuple[str, ...]],
    ) -> None:
        self.files = files
        self.own = own
        self.deps_of = deps_of
        self.loads: dict[str, bool] = {}
        self.why: dict[str, list[Problem]] = {}

    def resolve(self, mid: str) -> bool:
        loads, stack, visiting = self.loads, [mid], set[str]()
        while stack:
            cur = stack[-1]
            if cur in loads:
                stack.pop()
                continue
            if cur not in self.files:
                loads[cur] = False
                stack.pop()
                continue
            pending = [d for d in self.deps_of(cur) if d not in loads and d not in visiting]
            if pending and cur not in visiting:
                visiting.add(cur)
                stack.extend(pending)
                continue
            visiting.discard(cur)
            problems = list(self.own[cur])
            for dep in self.deps_of(cur):
                if dep not in self.files:
                    # A module of the missing one's family (rlm_eap_md5 of rlm_eap) names it on
                    # purpose: no near miss of it is a slip (a FreeRADIUS tester's rlm_pap).
                    hint = (
                        ""
                        if cur.startswith(dep)
                        else _installed_near(dep, [m for m in self.files if m != cur])
                    )
                    problems.append(
                        Problem("dependency", f"needs module {dep!r}, which is not installed{hint}")
                    )
                elif not loads.get(dep, False):
                    problems.append(Problem("dependency", f"needs module {dep!r}, which will not load"))
            loads[cur] = not problems
            self.why[cur] = problems
            stack.pop()
        return loads[mid]


def _installed_near(dep: str, installed: list[str]) -> str:
    """' (X is installed: ...)' where an installed module's id is a near miss of `dep`: a
    layout's typo (an Apache tester's "davv" beside the installed dav read as a module to
    install; plan asks "did you mean dav?")."""
    import difflib

    from qpack.errors import swapped_letters

    # Nearer than plan's "did you mean": a module not installed is no slip, and `audio-nope` is
    # not ui-opengl.
    if cased := [m for m in sorted(installed) if m.lower() == dep.lower()]:
        # The loader's names are the layout's; a file named in another case is the slip (a
        # typelib tester's atk-1.0.typelib for Atk-1.0, which the loader refuses by name).
        return f" ({cased[0]} is installed, named in another case: is its file misnamed?)"
    near = [m for m in sorted(installed) if swapped_letters(dep, m)]
    near = near or difflib.get_close_matches(dep, sorted(installed), n=1, cutoff=0.85)
    return f" ({near[0]} is installed: is the layout's dependency mistyped?)" if near else ""


# What the dynamic linker refuses (dlopen fails): a first-loadable loader moves on to the next file.
_DLOPEN_FAILURES = frozenset({"unreadable", "machine", "missing-library"})


def _mapped_then_faults(problem: Problem) -> bool:
    """A file cut inside a segment whose headers are whole: the dynamic linker maps it (mmap
    past the end of a file succeeds) and the process dies of SIGBUS on the first page past the
    end, rather than dlopen failing and the loader trying the next file (rsyslogd with a
    3,000-byte lmnet.so first in RSYSLOG_MODDIR, on bookworm's glibc 2.36)."""
    return problem.kind == "unreadable" and "a segment runs past the end of the file" in problem.detail


def _take_first_loadable(
    found: _Found, own: dict[str, tuple[Problem, ...]], judge: _Judge, loader: Loader
) -> None:
    """Put first, for each module, the first file that dlopen would accept: the loader tries
    the candidates in order and passes over those the dynamic linker refuses. A file dlopen
    accepts that lacks the entry symbol ends the search of a `first-loadable` loader (Mesa's
    loader_open_driver_lib and FreeRADIUS look the symbol up after the first dlopen that
    succeeds, and fail there); a `register-loadable` one passes over it too (GStreamer
    blacklists a file that is no plugin, and another file may take the name)."""
    # A register-loadable loader refuses one of another build as one without the entry (a
    # Zathura re-tester's stale libps.so first in the path: "shadowed", where zathura says
    # "needs to be rebuilt" and registers the next copy).
    registers = loader.resolution == "register-loadable"
    refused = _DLOPEN_FAILURES | ({"no-entry", "other-build"} if registers else set())
    # GStreamer (register-loadable) loads in its plug-in scanner, which may die and be replaced;
    # a first-loadable loader dlopens in the program itself.
    in_process = loader.resolution == "first-loadable"
    for mid, files in found.files.items():
        for i, path in enumerate(files):
            problems = judge.judge(path, mid).problems
            if not any(p.kind in refused and not (in_process and _mapped_then_faults(p)) for p in problems):
                if i:
                    found.files[mid] = [path, *files[:i], *files[i + 1 :]]
                    own[mid] = problems
                    _passed_over_note(files[:i], path, mid, judge, refused)
                break


def _passed_over_note(
    before: Sequence[str], taken: str, mid: str, judge: _Judge, refused: Collection[str]
) -> None:
    """A note naming the copies of a module the loader tries and refuses before the one it
    takes: the module loads, and the loader complains of them each time it runs (a WeeChat
    tester's stale user copy of xfer.so, "API mismatch", passed over for the system's; only
    `--json`'s `copies` named it)."""
    for path in before:
        kinds = sorted({p.kind for p in judge.judge(path, mid).problems if p.kind in refused})
        _note(
            judge.ctx,
            f"{path}: refused ({', '.join(kinds)}) and passed over for {taken}, a later copy of module "
            f"{mid!r}: remove or replace it",
        )


def _drop_module_libraries(
    found: _Found, own: dict[str, tuple[Problem, ...]], judge: _Judge, ctx: _Context
) -> None:
    """A file without the entry symbol that other modules link is their library, not a module:
    a loader registering every file passes over it (libpurple's libjabber.so beside the prpls,
    which libxmpp.so needs through its RUNPATH, made Debian's own Pidgin fail the check; Dia's
    libdia.so, which every plug-in links), and one looking modules up by name is never asked
    for it (glibc's gconv libJIS.so, which EUC-JP.so links)."""
    # Without the entry, its stamp (a library has none) is never asked for either; nor is a
    # library a module links less a library when one of its own is missing (an LMMS tester's
    # libZynAddSubFxCore.so without libfftw3f: a module refused, where zynaddsubfx fails).
    lacking = {
        mid
        for mid, problems in own.items()
        if "no-entry" in (kinds := {p.kind for p in problems})
        and kinds <= {"no-entry", "other-build", "missing-library"}
    }
    if not lacking:
        return
    needed: set[str] = set()
    loaded: set[str] | None = None  # the real paths of the libraries the modules load
    for mid, files in found.files.items():
        if mid not in lacking and (real := ctx.root.resolve(files[0])) is not None:
            facts = judge.read(real).facts
            needed.update(facts.needed if facts is not None else ())
    # Until none is left: a library dropped is linked by the modules too, and so is what it links
    # (FreeCAD's libDriver.so, which libSMESH.so links, which Fem.so links: once libSMESH.so
    # lacking a library of its own was dropped as one, libDriver.so became a module refused).
    left = sorted(lacking)
    while left:
        dropped = []
        for mid in left:
            path = found.files[mid][0]
            real = ctx.root.resolve(path)
            facts = judge.read(real).facts if real is not None else None
            names = {
                posixpath.basename(path),
                *([facts.soname] if facts is not None and facts.soname else []),
            }
            if names & needed and loaded is None:
                loaded = _modules_load(found, lacking, judge, ctx)
            if loaded is not None and names & needed and _their_library(path, real, needed, loaded, ctx):
                del found.files[mid]
                del own[mid]
                found.duplicates.pop(mid, None)
                ctx.libraries.add(path)
                dropped.append(mid)
                needed.update(facts.needed if facts is not None else ())
        left = [m for m in left if m not in dropped] if dropped else []


def _their_library(path: str, real: str | None, needed: set[str], loaded: set[str], ctx: _Context) -> bool:
    """Whether the file at `path`, named as a library the modules link (`needed`), is the one
    they load (`loaded`, real paths)."""
    # The file they load, not a copy under a name they link (a Wireshark tester's
    # libwsutil.so.14 copied in as epan/noentry.so, while the plug-ins load lib/'s: no row);
    # or a wheel's copy of it beside it, its other name (a Pidgin tester's venv:
    # libjabber.so, a copy of the libjabber.so.0 libxmpp.so loads, was `no-entry`, exit 1).
    # Or the library by its own file name where the modules load none of that name, theirs
    # gone (a gconv re-tester removed the prefix's libJIS.so: /usr's, searched later, was a
    # module refused, exit 1; EUC-JP.so's row says its library is missing).
    base = posixpath.basename(path)
    gone = base in needed and not any(posixpath.basename(x) == base for x in loaded)
    return real in loaded or _copy_beside(real, loaded, ctx) or gone


def _copy_beside(real: str | None, loaded: set[str], ctx: _Context) -> bool:
    """Whether `real` has the bytes of a file of `loaded` in its own directory whose name is
    its own with a version added (`libjabber.so` beside `libjabber.so.0`): what a wheel makes of
    a development link. A copy under another name (`copy.so`) is no such thing."""
    if real is None:
        return False
    host, name = ctx.root.host(real), posixpath.basename(real)
    try:
        size = os.path.getsize(host)
        return any(
            posixpath.dirname(other) == posixpath.dirname(real)
            and (base := posixpath.basename(other)).startswith(name)
            and _VERSION_SUFFIX.fullmatch(base[len(name) :]) is not None
            and os.path.getsize(ctx.root.host(other)) == size
            and _same_bytes(host, ctx.root.host(other))
            for other in loaded
        )
    except OSError:
        return False


def _modules_load(found: _Found, lacking: set[str], judge: _Judge, ctx: _Context) -> set[str]:
    """The real paths of the libraries the modules found (but `lacking`) load."""
    out: set[str] = set()
    for mid, files in found.files.items():
        if mid not in lacking and (real := ctx.root.resolve(files[0])) is not None:
            elf = judge.read(real)
            if elf.facts is not None:
                out.update(r for p in _loaded_objects(elf, judge.finder) if (r := ctx.root.resolve(p)))
    return out


def _found(
    dirs: list[str],
    ctx: _Context,
    table_deps: Mapping[str, tuple[str, ...]] | None,
    deps_of: Callable[[str], tuple[str, ...]],
    only: Iterable[str] | None,
) -> _Found:
    """The modules found in `dirs`: all of them, or `only` and the modules they need."""
    if only is not None:
        needed = _needed_modules(only, deps_of)
        everything = find(dirs, ctx, needed | {r for r in ctx.loader.runners.values() if r})
        runners = {
            r for m in needed if m in everything.files if (r := ctx.loader.runner_of(everything.files[m][0]))
        }
        needed |= _needed_modules(runners, deps_of)
        return _Found(
            files={m: f for m, f in everything.files.items() if m in needed},
            types=everything.types,
            never=everything.never,
            duplicates={m: f for m, f in everything.duplicates.items() if m in needed},
        )
    loader = ctx.loader
    wanted = set(loader.known_modules or ())
    for mid, deps in loader.dependencies.items():
        if not any(c in mid for c in "*?["):
            wanted.add(mid)
        wanted.update(deps)
    if table_deps is not None:
        wanted.update(table_deps)
    return find(dirs, ctx, wanted)


_NOT_ASKED = Problem("unused", "no program present asks for modules of its type ([loader.program-types])")


def _verdicts(
    exe: _Exe,
    dirs: list[str],
    ctx: _Context,
    judge: _Judge,
    only: Iterable[str] | None = None,
    not_asked: list[ModuleVerdict] | None = None,
) -> list[ModuleVerdict]:
    """The verdict of every module `exe` finds in `dirs`; with `only`, of those modules and the
    modules they need (what an install checks after adding them). The modules it finds but
    never asks for (`program-types`) go to `not_asked`, as `unused` rows."""
    loader = ctx.loader
    table_deps = _table_dependencies(exe, ctx)

    def deps_of(mid: str) -> tuple[str, ...]:
        return table_deps.get(mid, ()) if table_deps is not None else loader.deps_of(mid)

    found = _found(dirs, ctx, table_deps, deps_of, only)

    def needs(mid: str) -> tuple[str, ...]:
        """A module run by another (ZNC's pyeval.py by modpython) needs it, said or not."""
        files = found.files.get(mid)
        return loader.with_runner(mid, files[0], deps_of(mid)) if files else deps_of(mid)

    never = _never_loaded(exe, found.files)
    own: dict[str, tuple[Problem, ...]] = {}
    for mid, files in found.files.items():
        own[mid] = judge.judge(files[0], mid).problems
    if loader.passes_over_unloadable:
        _take_first_loadable(found, own, judge, loader)
    # Under any resolution (a Dia tester's libdia.so, which dia and its 34 plug-ins link, was a
    # `no-entry` module; a gconv tester's libJIS.so, which EUC-JP.so links, failed the check).
    _drop_module_libraries(found, own, judge, ctx)
    for mid in never:
        own[mid] = (Problem("unused", f"{exe.path} never loads {mid}: {never[mid]}"), *own[mid])
    resolver = _Resolver(found.files, own, needs if loader.runners else deps_of)
    out: list[ModuleVerdict] = []
    for mid in sorted(found.files):
        files = found.files[mid]
        ok = resolver.resolve(mid)
        problems = list(resolver.why[mid])
        if not ok and own[mid]:
            good = next((f for f in files[1:] if not judge.judge(f, mid).problems), None)
            if good is not None:
                # One the dynamic linker maps and faults on ends the program there (a Dino
                # tester read "hides the good copy" of a truncated file that kills it).
                dies = loader.resolution == "first-loadable" and any(map(_mapped_then_faults, own[mid]))
                hides = ": the program dies of SIGBUS loading it, before it reaches" if dies else " and hides"
                problems.append(Problem("shadowed", f"{files[0]} is taken first{hides} the good copy {good}"))
        if mid in found.duplicates:
            shown = " and ".join(found.duplicates[mid])
            problems.append(Problem("duplicate", f"{shown} are both module {mid!r} in one search location"))
        out.append(
            ModuleVerdict(
                module=mid, file=files[0], loads=ok, problems=tuple(problems), copies=tuple(files[1:])
            )
        )
    out = _asked_only(out, exe, ctx, not_asked)
    ids = {v.module for v in out}
    # directory -> file name -> path, of the module files found: the one taken and the copies
    # passed over (an OpenLDAP tester's venv, searched after /usr/lib/ldap: the installed
    # ppolicy.so is a copy, and its ppolicy-2.5.so.0 beside it was a stray, exit 1).
    taken: dict[str, dict[str, str]] = {}
    for files in found.files.values():
        for f in files:
            taken.setdefault(posixpath.dirname(f), {}).setdefault(posixpath.basename(f), f)
    for lib in ctx.libraries:  # the modules' libraries: copies a wheel made of their links too
        taken.setdefault(posixpath.dirname(lib), {})[posixpath.basename(lib)] = lib
    out += _stray_rows(found, taken, ids, exe, judge, ctx)
    return out


def _stray_rows(
    found: _Found,
    taken: Mapping[str, Mapping[str, str]],
    ids: set[str],
    exe: _Exe,
    judge: _Judge,
    ctx: _Context,
) -> list[ModuleVerdict]:
    """A `never-looked-up` row for each file of `found.never` (path, why) that is no other name
    of a file taken (`taken`: directory -> file name -> path) and no library the program or its
    modules load."""
    out = []
    linked: tuple[set[str], set[str]] | None = None  # the libraries the program and modules load
    sonames: set[str | None] | None = None  # the loader library's
    entries = ctx.every_entry
    beside_keys: dict[str, str] = {}  # directory -> its taken files, as a key: built once a call
    for path, reason in found.never:
        where = posixpath.dirname(path)
        beside = taken.get(where, {})
        if where not in beside_keys:
            beside_keys[where] = repr(sorted(beside.items()))
        key = (path, beside_keys[where])
        if key not in ctx.not_strays:
            # No module of any name (`_defines_no_entry`): a library the loader would refuse all
            # the same. A split's core holds NetworkManager's libnm-wwan.so, which only the
            # wwan and bluetooth plug-ins link; with neither installed, check failed a correct
            # install.
            ctx.not_strays[key] = _not_a_stray(path, beside, ctx.root) or (
                entries is not None and _defines_no_entry(path, entries, ctx.root)
            )
        if ctx.not_strays[key]:
            continue
        if linked is None:
            linked = _linked_libraries(exe, found, judge, ctx)
        if (
            path not in found.undescribed  # a module's file all the same (a gThumb tester's libimporter.so)
            and ctx.root.resolve(path) in linked[0]
            and (not os.path.islink(ctx.root.host(path)) or posixpath.basename(path) in linked[1])
        ):
            # The program's own library (a darktable tester's libdarktable.so) or its modules'
            # (an SSSD tester's libsss_ldap_common.so, which the ldap, ad and ipa providers link),
            # by its own name or one it is loaded by: another link to it is a stray all the same.
            continue
        if sonames is None:
            sonames = _loader_library_sonames(judge, ctx)
        if _soname_of(path, judge, ctx) in sonames:
            continue
        stem = posixpath.basename(path).split(".so")[0]
        # Named by its file when its stem is a module's id (collectd's cpu.so.dpkg-old beside
        # cpu.so): one id, two rows, made the module that loads count as failing. A module file
        # without its descriptor is its module's, unless a row is (an Eye of GNOME tester's
        # libmap.so was "libmap", a module of another name).
        mid = found.undescribed.get(path)
        name = (
            mid
            if mid is not None and mid not in ids
            else posixpath.basename(path)
            if stem in ids or mid
            else stem
        )
        problem = Problem("never-looked-up", f"{path}: the loader never looks this file up ({reason})")
        out.append(ModuleVerdict(module=name, file=path, loads=False, problems=(problem,)))
    return out


def _loader_library_sonames(judge: _Judge, ctx: _Context) -> set[str | None]:
    """The SONAMEs of the layout's loader `library`, in the prefix checked or the one the layout
    names: a file of such a SONAME is that library, another copy of it, never a module (an
    OpenCL tester's venv, where a wheel made copies of libOpenCL.so.1's links and the system's
    copy shares the directory the ICDs are searched in: four strays, exit 1, on a correct
    install; libOpenCL defines the entry the ICDs do)."""
    glob = ctx.loader.library
    if glob is None:
        return set()
    out: set[str | None] = set()
    for pre in dict.fromkeys((ctx.prefix, ctx.loader.prefix)):
        for path in _glob_paths(ctx.root, expand_prefix(glob, pre)):
            if (soname := _soname_of(path, judge, ctx)) is not None:
                out.add(soname)
    return out


def _soname_of(path: str, judge: _Judge, ctx: _Context) -> str | None:
    """The SONAME of the ELF file at `path` (its links followed), or None."""
    real = ctx.root.resolve(path)
    elf = judge.read(real) if real is not None else None
    return elf.facts.soname if elf is not None and elf.facts is not None else None


def _entry_defined_where_modules_are(path: str, rel: str, ctx: _Context) -> str | None:
    """The entry symbol a file no pattern names defines, anywhere the search reads below a
    location (where patterns put module files or not: an Enlightenment tester's module built for
    0.25.3, in `<name>/linux-gnu-x86_64-0.25.3/`, and a `clock.so` at the top, passed a check the
    plan warned of), when every module type has an entry (else a library cannot be told from a
    module): the first one, or None. Read only for a file named `.so` or starting as ELF, each
    once a check (not once a program: GNUnet has 40), `_ENTRY_READS` files at most."""
    entries = ctx.every_entry
    if entries is None or not _could_be_misnamed(path, rel, ctx):
        return None
    if path in ctx.entries_read:
        return ctx.entries_read[path]
    if len(ctx.entries_read) >= _ENTRY_READS:
        _detail(
            ctx,
            f"{_ENTRY_READS} files where modules would be, named as none, were read for an entry "
            "symbol; the others were not (a shared library directory among the locations?)",
        )
        return None
    found = ctx.entries_read[path] = _entries_defined(path, entries, ctx.root) or None
    return found


def _could_be_misnamed(path: str, rel: str, ctx: _Context) -> bool:
    """Whether a file named as no module may be one misnamed: not hidden where the loader skips
    those, not a versioned library (libfoo.so.1) or a link to one (a GNUnet tester's layout
    searching /usr/lib/x86_64-linux-gnu, as libltdl does, had every library there read for its
    symbols: 12 minutes at 95 % CPU), and named `.so` or starting as ELF."""
    if ctx.loader.skip_hidden and (rel.startswith(".") or "/." in rel):
        return False
    base = posixpath.basename(rel)
    if _VERSIONED.search(base) or _VERSIONED.search(posixpath.basename(ctx.root.resolve(path) or "")):
        return False
    return ".so" in base or _starts_as_elf(path, ctx.root)


_VERSIONED = re.compile(r"\.so\.\d")  # a library's versioned name: libfoo.so.1, libfoo.so.1.2.3
_ENTRY_READS = 1000  # files named as no module read for an entry symbol, at most, a check


def _defines_no_entry(path: str, entries: re.Pattern[str], root: Root) -> bool:
    """The ELF file at `path` exports no symbol an entry template can become (read through
    pyelftools: only the few files named as no module is are read). A file that cannot be read
    is no proof: False."""
    return _entries_defined(path, entries, root) == ""


def _entries_defined(path: str, entries: re.Pattern[str], root: Root) -> str | None:
    """The first symbol the ELF file at `path` exports that `entries` matches, "" for none, or
    None when the file cannot be read."""
    real = root.resolve(path)
    if real is None:
        return None
    try:
        with open_regular(root.host(real)) as f:
            if f.read(4) != ELF_MAGIC:
                return None
        # Through LIEF: up to 1,000 files are read here, most of them libraries of a directory
        # a location shares (an OpenSSL tester's check /usr ran for minutes through pyelftools).
        _, defined = dynamic_symbols_path(root.host(real))
    except (OSError, ElfReadError):
        return None
    matching = sorted(name for name in defined if entries.fullmatch(name))
    # The one named as the file is, of several (a SoX tester's misnamed sox_fmt_xi.so defines
    # lsx_xi_format_fn and lsx_sndfile_format_fn: quoting the second misled).
    words = set(re.split(r"[^0-9A-Za-z]+", posixpath.basename(path)))
    return max(matching, key=lambda name: len(words & set(name.split("_"))), default="")


def _linked_libraries(exe: _Exe, found: _Found, judge: _Judge, ctx: _Context) -> tuple[set[str], set[str]]:
    """The libraries the program and the modules found load: their real paths, and the names
    they are loaded by (DT_NEEDED, SONAME)."""
    objects = dict(_loaded_objects(exe.elf, judge.finder))
    users = [exe.elf]
    for files in found.files.values():
        if ctx.loader.runner_of(files[0]) is None and (real := ctx.root.resolve(files[0])) is not None:
            elf = judge.read(real)
            if elf.facts is not None:
                objects |= _loaded_objects(elf, judge.finder)
                users.append(elf)
    names = {n for o in (*users, *objects.values()) if o.facts is not None for n in o.facts.needed}
    names |= {o.facts.soname for o in objects.values() if o.facts is not None and o.facts.soname}
    return {real for p in objects if (real := ctx.root.resolve(p)) is not None}, names


def _asked_only(
    verdicts: list[ModuleVerdict], exe: _Exe, ctx: _Context, not_asked: list[ModuleVerdict] | None
) -> list[ModuleVerdict]:
    """The verdicts of the modules the program asks for. A module of a type it never asks for
    (`program-types`) is no verdict of its own; where no program asks for it, it is `unused`
    (`not_asked`, _Rows.report), not missing. One pass: `v not in asked` compared verdicts field
    by field, 1,000 x 1,000 of them for check_1000 (0.2 s of its 0.45)."""
    asked: list[ModuleVerdict] = []
    for v in verdicts:
        if ctx.loader.asks_for(exe.path, v.module, ctx.prefix):
            asked.append(v)
        elif not_asked is not None:
            not_asked.append(ModuleVerdict(module=v.module, file=v.file, loads=False, problems=(_NOT_ASKED,)))
    return asked


# A version added to a file's name: `.1.1.1` (a library's), or Debian's `-3.11` (mod_wsgi.so ->
# mod_wsgi.so-3.11: an Apache tester's wheel install failed its own check on the copy).
_VERSION_SUFFIX = re.compile(r"(?:[.-][0-9][0-9A-Za-z+~_]*)+")
_RELEASE_SUFFIX = re.compile(r"-[0-9][0-9A-Za-z.+~_]*\.so(?:\.[0-9]+)*")  # -2.5.so.0.1.8


def _starts_as_elf(path: str, root: Root) -> bool:
    """Whether the file at `path` (links followed inside the root) starts with the ELF magic;
    one that cannot be read is taken as one (its verdict then says why)."""
    real = root.resolve(path)
    if real is None:
        return True
    try:
        with open_regular(root.host(real)) as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return True


def _elf_type(f: BinaryIO) -> str | None:
    try:
        return elf_file_type(f)
    except ElfReadError:
        return None  # cut short or corrupt: judged as it is


def _not_a_stray(path: str, taken: Mapping[str, str], root: Root) -> bool:
    """A file the loader never looks up that is nothing to report: no ELF file at all (a
    README, a `.la`, a configuration file: Xorg's `README.so.txt` was "module README"), or a
    version-named copy of a module file the loader takes beside it, with the same bytes: what a
    wheel makes of a module shipped as a library (libsane-pnm.so.1 -> libsane-pnm.so.1.1.1,
    SASL's plugins), since a wheel holds no symlink. `taken`: file name -> path of the module
    files the loader takes in this file's directory. Read only as far as needed."""
    # Links followed inside the root: /var/run -> /run of a staged tree is not the host's /run.
    real = root.resolve(path)
    if real is None:
        return True  # a dangling link is no ELF file either (an LXQt tester's libdom.so.tmp)
    host = root.host(real)
    try:
        # A FIFO where modules are is reported, never opened: it blocked the check for ever, as
        # it blocks HexChat, which opens every *.so of its directory (a HexChat tester).
        if not stat.S_ISREG(os.stat(host).st_mode):
            return False
        with open_regular(host) as f:
            # A relocatable object is nothing a loader opens or runs either (a GCC tester's
            # crtbegin.o and 12 more beside cc1: 13 `never-looked-up` problems on a working /usr).
            if f.read(4) != ELF_MAGIC or (f.seek(0) == 0 and _elf_type(f) == "ET_REL"):
                return True
        name = posixpath.basename(path)
        for module_name, module_path in taken.items():
            stem = module_name.removesuffix(".so") if module_name.endswith(".so") else None
            versioned = name.startswith(module_name) and _VERSION_SUFFIX.fullmatch(name[len(module_name) :])
            # Or the development link's name, shorter (a VDPAU tester's libvdpau_radeonsi.so beside
            # the module libvdpau_radeonsi.so.1, all one file: exit 1 on a clean wheel install).
            versioned = versioned or (
                module_name.startswith(name) and _VERSION_SUFFIX.fullmatch(module_name[len(name) :])
            )
            # libtool's -release names too (an OpenLDAP tester's back_mdb-2.5.so.0.1.8 and
            # back_mdb-2.5.so.0 beside back_mdb.so, all one file once a wheel made copies).
            released = (
                stem is not None and name.startswith(stem) and _RELEASE_SUFFIX.fullmatch(name[len(stem) :])
            )
            # Or the name without the release the module's own name carries (an apr-util tester's
            # apr_dbd_sqlite3.so -> apr_dbd_sqlite3-1.so, the module: exit 1 on a clean install).
            bare = name.removesuffix(".so") if name.endswith(".so") else None
            released = released or (
                bare is not None
                and module_name.startswith(bare)
                and _RELEASE_SUFFIX.fullmatch(module_name[len(bare) :])
            )
            if versioned or released:
                other = root.host(root.resolve(module_path) or module_path)
                if os.path.getsize(host) == os.path.getsize(other) and _same_bytes(host, other):
                    return True
    except OSError:
        return False
    return False


def _same_bytes(a: Path | str, b: Path | str) -> bool:
    with open_regular(a) as fa, open_regular(b) as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


# --------------------------------------------------------------------------- checking some modules
#
# What `qpack install` runs after installing: the verdicts of the modules just installed (and of
# the modules they need), judged as `check` judges them, reading only the files those verdicts
# depend on, each file once for all executables, through pyelftools (`read_dynamic_facts`, and
# `read_link_facts` with the symbol hash table where a stamp or version node is compared): a few
# files, where importing LIEF alone would take longer than reading them all. The executables' own
# libraries are read only when a verdict depends on them: a module library not found from the
# module itself, or a private version node the executable does not define itself.
#
# A library the dynamic linker finds among the system libraries (ld.so.cache, the default
# directories) outside the prefix is the system package manager's: it is confirmed by path (a
# regular file there), not read, and its own libraries are not followed. Libraries inside the
# prefix (which the install may have just written) are read and followed. `check` stays the
# whole-prefix check, reading every library.


def _unfit(path: str, facts: LinkFacts, exe: LinkFacts) -> Problem | None:
    """Why the program's dynamic linker cannot map the module at all, or None."""
    if facts.elf_type == "ET_REL":  # as pyelftools reads it (the install's check); LIEF raises
        return Problem("unreadable", f"{path}: {RELOCATABLE}")
    if (facts.machine, facts.elf_class) != (exe.machine, exe.elf_class):
        # The program is the row's (a row lists every program judging alike).
        return Problem(
            "machine",
            f"{path}: {facts.machine} {facts.elf_class}-bit, but the program is "
            f"{exe.machine} {exe.elf_class}-bit",
        )
    return None


class _FactsCache:
    """`ldpaths.read_elf_file` through pyelftools, each (tree, file, names wanted) read once."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str, tuple[str, ...] | None], ElfFile] = {}
        self.candidates: dict[tuple[str, str], ElfFile | None] = {}
        self.system: dict[tuple[str, str], str | None] = {}
        self.machines: dict[tuple[str, str], tuple[str, int] | None] = {}
        self.unread: set[str] = set()  # the system libraries confirmed by path only
        self.reads = Reads()  # each system tree's ld.so.cache, parsed once for all executables

    def read(self, root: Root, path: str, wanted: tuple[str, ...] = ()) -> ElfFile:
        """All the link facts, with which of the symbol names `wanted` the file defines."""
        return self._read(root, path, wanted)

    def library(self, root: Root, path: str) -> ElfFile:
        """What the library search needs (`elf.read_dynamic_facts`): no symbol, no version node."""
        return self._read(root, path, None)

    def candidate(self, root: Root, path: str) -> ElfFile | None:
        """The library at `path` (symlinks resolved), None when no regular file is there;
        looked up once for all executables."""
        key = (str(root.root), path)
        if key not in self.candidates:
            real = root.resolve(path)
            ok = real is not None and root.is_file(real)
            self.candidates[key] = self.library(root, real) if ok and real is not None else None
        return self.candidates[key]

    def machine(self, root: Root, path: str) -> tuple[str, int] | None:
        """(machine, ELF class) of the regular file at the resolved `path`, from its header
        alone; None for one that is no readable ELF file. Read once a run."""
        key = (str(root.root), path)
        if key not in self.machines:
            try:
                with open_regular(root.host(path)) as f:
                    self.machines[key] = elf_machine(f)
            except (OSError, ElfReadError):
                self.machines[key] = None
        return self.machines[key]

    def system_path(self, root: Root, path: str) -> str | None:
        """The resolved path of the regular file at `path`, None when there is none; not read."""
        key = (str(root.root), path)
        if key not in self.system:
            real = root.resolve(path)
            self.system[key] = real if real is not None and root.is_file(real) else None
        return self.system[key]

    def _read(self, root: Root, path: str, wanted: tuple[str, ...] | None) -> ElfFile:
        key = (str(root.root), path, wanted)
        found = self.files.get(key)
        if found is None:
            found = self.files[key] = _read_elf_file_light(root, path, wanted)
        return found


def _read_elf_file_light(root: Root, path: str, wanted: tuple[str, ...] | None) -> ElfFile:
    """As `ldpaths.read_elf_file`, with pyelftools (`elf.read_dynamic_facts` when `wanted` is
    None)."""
    if wanted is None:
        return read_elf_file(root, path, reader=read_dynamic_facts)
    return read_elf_file(root, path, reader=lambda stream: read_link_facts(stream, wanted))


class _SnapshotRoot(Root):
    """A Root resolving, stat-ing and listing each path once: one check judges the tree as it
    was when it looked. A check judges each module for every executable, and for a loader that
    is a library every program of bindir is one (glibc's iconv modules on a Debian /usr: 665
    programs, 250 modules, 510,000 resolutions of 143,000 paths)."""

    def __init__(self, root: Path | str = "/") -> None:
        super().__init__(root)
        self._resolved: dict[str, str | None] = {}
        self._stats: dict[str, os.stat_result | None] = {}
        self._listed: dict[str, list[str]] = {}

    def resolve(self, path: str) -> str | None:
        if path not in self._resolved:
            self._resolved[path] = super().resolve(path)
        return self._resolved[path]

    def stat(self, path: str) -> os.stat_result | None:
        if path not in self._stats:
            self._stats[path] = super().stat(path)
        return self._stats[path]

    def listdir(self, path: str) -> list[str]:
        if path not in self._listed:
            self._listed[path] = super().listdir(path)
        return list(self._listed[path])


def _inside(path: str, prefix: str) -> bool:
    return prefix in ("/", path) or path.startswith(prefix + "/")


class _CachedFinder(LibraryFinder):
    """A LibraryFinder reading each candidate through the run's `_FactsCache`; a library found
    among the system libraries outside `prefix` is confirmed by path only."""

    def __init__(
        self, root: Root, env: Mapping[str, str], exe: ElfFile, system: Root, cache: _FactsCache, prefix: str
    ):
        # The system tree as an object of its own even when it is the root: LibraryFinder.find
        # passes it for the ld.so.cache and default-directory lookups, which tells them apart.
        super().__init__(
            root, env, exe, _SnapshotRoot(system.root) if system is root else system, cache.reads
        )
        self.facts_cache = cache
        self.prefix = prefix

    def _usable(self, path: str, root: Root | None = None) -> ElfFile | None:  # LibraryFinder._usable
        root = root or self.root
        if root is self.system:
            real = self.facts_cache.system_path(root, path)
            if real is None:
                return None
            if not _inside(real, self.prefix):
                # Of the program's machine all the same: ld.so.cache lists others too (an ulogd
                # tester's install took x32's /usr/libx32/libc.so.6 for ulogd's libc, and every
                # glibc symbol its plug-ins bind was "defined nowhere", under unresolved =
                # "refused"). The cache's entries are this machine's where its flags are known
                # (as ld.so takes them); another path's ELF header is read.
                listed = self.cache_filtered and path in self.cache.get(posixpath.basename(path), ())
                if not listed and self.facts_cache.machine(root, real) != self.machine:
                    return None
                return self._unread(real)
        found = self.facts_cache.candidate(root, path)
        if (
            found is None
            or found.facts is None
            or (found.facts.machine, found.facts.elf_class) != self.machine
        ):
            return None
        if root is not self.root:
            found = ElfFile(found.path, found.facts, None, system=True)
        return found

    def _unread(self, real: str) -> ElfFile:
        """A system library taken as found, of the executable's machine, needing nothing."""
        self.facts_cache.unread.add(real)
        facts = LinkFacts(
            machine=self.machine[0],
            elf_class=self.machine[1],
            elf_type="ET_DYN",
            soname=None,
            needed=(),
            rpath=(),
            runpath=(),
            defines=frozenset(),
        )
        return ElfFile(real, facts, None, system=True)


class _LazyJudge(_Judge):
    """`_Judge` reading through the run's cache, and computing the executable's libraries and
    version nodes only for a verdict that depends on them."""

    def __init__(self, exe: _Exe, ctx: _Context, finder: _CachedFinder, cache: _FactsCache) -> None:
        # Not _Judge.__init__: it reads every library of the executable up front.
        self.exe = exe
        self.ctx = ctx
        self.finder = finder
        self.memo = {}
        self.cache = cache
        self._libs: set[str] | None = None
        self._versions: set[str] | None = None
        self._loaded = None
        self._by_soname = None

    def loaded_sonames(self) -> set[str]:
        if self._libs is None:
            self._libs = self.finder.closure(self.exe.elf, set())[0]
        return self._libs

    def exe_versions(self) -> frozenset[str]:
        """The version nodes the executable defines (it was read for the search only)."""
        whole = self.cache.read(self.ctx.root, self.exe.real)
        return whole.facts.version_defs if whole.facts is not None else frozenset()

    def defined_versions(self) -> set[str]:
        if self._versions is None:
            self._versions = set(self.exe_versions())
            for obj in self.loaded()[1:]:
                if obj.path in self.cache.unread:
                    continue  # a system library: it defines none of the build's private nodes
                # The libraries were read for the search only: read their version nodes now.
                tree = self.finder.system if obj.system else self.finder.root
                whole = self.cache.read(tree, obj.path)
                if whole.facts is not None:
                    self._versions |= whole.facts.version_defs
        return self._versions

    def read(self, real: str, entry: tuple[str, ...] = ()) -> ElfFile:
        # All the facts, the symbol versions it needs among them (`unmet_versions`).
        return self.cache.read(self.ctx.root, real, self.wanted(entry))

    def missing_versions(self, private: list[str]) -> list[str]:
        # The executable's own nodes first: its libraries are read only when it lacks one.
        if all(v in self.exe_versions() for v in private):
            return []
        return [v for v in private if v not in self.defined_versions()]

    def version_defs(self, lib: ElfFile) -> frozenset[str] | None:
        # The libraries were read for the search only; a system library, not at all (the
        # system's package manager answers for it), and is not judged.
        if lib.path in self.cache.unread:
            return None
        whole = self.cache.read(self.finder.system if lib.system else self.finder.root, lib.path)
        return whole.facts.version_defs if whole.facts is not None else None

    def missing_libraries(self, elf: ElfFile) -> list[str]:
        # A library found from the module itself is found whatever the executable loaded: the
        # executable's libraries matter only for one that is not.
        _, missing = self.finder.closure(elf, set())
        if missing:
            _, missing = self.finder.closure(elf, self.loaded_sonames())
        return list(missing)


def _light_stamps(path: str, real: str, ctx: _Context) -> tuple[str, ...]:
    """As `_stamps`, through pyelftools."""
    glob = ctx.loader.stamp_spec
    if glob is None or ctx.loader.types_for(path, ctx.prefix) == ():  # a program that loads no module
        return ()
    try:
        with open_regular(ctx.root.host(real)) as f:
            stamps = held_stamps_pyelftools(f, glob)
    except (OSError, ElfReadError):
        stamps = ()
    if not stamps:
        ctx.notes.append(f"{path}: holds no {_stamp_named(ctx.loader)}: same-build checks skipped for it")
    return stamps


def _light_program(
    path: str, ctx: _Context, cache: _FactsCache, candidate: bool
) -> tuple[str, ElfFile] | None:
    """As `_program`, through the cache."""
    real = ctx.root.resolve(path)
    if real is None or not ctx.root.is_file(real):
        return None
    return _as_loader(path, real, cache.library(ctx.root, real), ctx, candidate)


def _light_reading(cache: _FactsCache, prefix: str) -> _Reading:
    return _Reading(
        program=lambda path, ctx, candidate: _light_program(path, ctx, cache, candidate),
        stamps=_light_stamps,
        finder=lambda ctx, elf, system: _CachedFinder(ctx.root, ctx.env, elf, system, cache, prefix),
    )


def _needed_modules(modules: Iterable[str], deps_of: Callable[[str], tuple[str, ...]]) -> set[str]:
    """`modules` and the modules they need, transitively."""
    out: set[str] = set()
    todo = list(modules)
    while todo:
        mid = todo.pop()
        if mid not in out:
            out.add(mid)
            todo.extend(deps_of(mid))
    return out


def check_modules(
    prefix: str | Path,
    loader: Loader,
    modules: Iterable[str],
    *,
    layout_name: str = "",
    root: str | Path = "/",
    env: Mapping[str, str] | None = None,
    pkgversion: str | None = None,
    programs: Sequence[str] = (),
) -> CheckReport:
    """`check`'s verdicts on `modules` (module ids) and the modules they need, for each
    executable, reading only the files those verdicts depend on (pyelftools, no LIEF). The
    report lists those modules only, and the files of the search locations the loader never
    looks up; `check` is the check of the whole prefix (helpers included)."""
    modules = sorted(set(modules))
    rt, pre, ctx, system = _start(_SnapshotRoot, prefix, loader, root, env, pkgversion)
    cache = _FactsCache()
    reading = _light_reading(cache, pre)
    exes = (
        _given_programs(programs, ctx, reading)
        if programs
        else _executables(loader, pre, ctx, system, reading)
    )
    _some_executable(exes, rt, pre, loader)
    rows = _Rows()
    locations: dict[str, tuple[str, ...]] = {}
    finders = [(exe, _CachedFinder(rt, ctx.env, exe.elf, system, cache, pre)) for exe in exes]
    # As `check`: a program (or loader library) whose own libraries are missing loads no
    # module. System libraries outside the prefix are confirmed by path, not read.
    closures: dict[str, tuple[set[str], list[str]]] = {
        exe.path: finder.closure(exe.elf, set()) for exe, finder in finders
    }
    others = (
        _layout_programs(ctx, pre, exes, lambda elf: _CachedFinder(rt, ctx.env, elf, system, cache, pre))
        if programs
        else []
    )
    host = _HostLibraries(
        [*((exe, finder, closures[exe.path][0]) for exe, finder in finders), *others], ctx, system
    )
    found: list[str] = []  # the module files judged: their copies one level down are no loss
    for exe, finder in finders:
        dirs = search_dirs(exe, finder, ctx)
        locations[exe.path] = tuple(dirs)
        not_asked: list[ModuleVerdict] = []
        judge = _LazyJudge(exe, ctx, finder, cache)
        verdicts = _verdicts(
            exe, dirs, ctx, judge, only=[*modules, *loader.program_needs], not_asked=not_asked
        )
        exe_libs, exe_missing = closures[exe.path]
        verdicts = host.judge(exe, finder, exe_libs, verdicts)
        found += [v.file for v in verdicts if v.file is not None and not v.helper and not v.stray]
        rows.add_program(exe.path, verdicts, not_asked, exe_missing, _needs_unmet(exe, verdicts, ctx))
    _deeper_notes(ctx, locations, found)
    return _descriptor_programs(rows.report(rt, pre, layout_name, exes, locations, ctx), rt, pre, loader)
