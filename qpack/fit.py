"""Does a layout fit a build at all? Caught before planning, because a plan of the wrong build
is not an error to the planner: with `rest = true` the core package takes every file, and a
`qemu` split of the demo build is a `qemu-core` wheel full of the demo's files.

Three signs that the layout (or `--prefix`) does not describe the build, each an error naming
what was searched and what was found instead:

- no file of the build lies under the prefix;
- the loader's module directories hold no module, while the build has `.so` files elsewhere
  (a build with no `.so` file at all gets only a note: nothing in it could be a module);
- the layout demands a build stamp and none of the executables it names holds one.

A build that really has no module (a core-only build) passes with `allow_empty`, which turns
the errors into warnings.
"""

from __future__ import annotations

import posixpath
from collections import Counter, defaultdict
from collections.abc import Sequence

from qpack.errors import ProblemsError
from qpack.globs import compile_glob, expand_prefix
from qpack.inventory import Entry, Inventory, link_end, linked_dirs
from qpack.loader import (
    Loader,
    Module,
    near_directory,
    stamp_version_unmatched,
    type_dir_slips,
    type_name_slips,
)

_SHOWN = 3  # directories named in a message before "and N more"


class LayoutFitError(ProblemsError):
    """The layout (or the prefix) does not fit the build: no module, no file under the prefix,
    or executables without the stamp the layout demands."""


def _counted(counts: Counter[str], unit: str) -> str:
    """`a (3 .so files), b (1 .so file) and 4 more directories`, most files first."""
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{d or '.'} ({n} {unit}{'' if n == 1 else 's'})" for d, n in top[:_SHOWN])
    more = len(top) - _SHOWN
    return shown + (f" and {more} more director{'y' if more == 1 else 'ies'}" if more > 0 else "")


def _is_shared_object(e: Entry) -> bool:
    return e.kind == "file" and (e.name.endswith(".so") or ".so." in e.name)


def _is_loadable_elf(e: Entry) -> bool:
    """An ELF file a loader could load or run: not a relocatable object (`.o`)."""
    return e.kind == "file" and e.elf is not None and e.elf.elf_type != "ET_REL"


def _prefix_problem(inventory: Inventory) -> str | None:
    pre = inventory.prefix.strip("/")
    files = inventory.files()
    if not pre or not files or any(e.path.startswith(pre + "/") for e in files):
        return None
    tops = Counter(e.path.split("/", 1)[0] + "/" if "/" in e.path else e.path for e in files)
    return (
        f"no file under the prefix {inventory.prefix}; the build has files under "
        f"{_counted(tops, 'file')}: is --prefix wrong?"
    )


def mistyped_locations(loader: Loader, inventory: Inventory, prefix: str) -> list[str]:
    """A warning for each search location (relocated or absolute, no placeholder) whose
    directory the build lacks, where one beside it, named almost so, holds files named as
    modules are: a Pure Data tester's `lib/puredata/extras` for `extra` put its 10 modules in
    the core as plain files, without a word, because other locations held modules."""
    pre = prefix.strip("/")
    dirs = {e.path for e in inventory.entries if e.kind == "dir"}
    # A location that is a link to a directory of the build is there (a Perl tester's perl/5.36
    # -> 5.36.0 was "not in the build ... mistyped?").
    dirs |= {
        d for loc in loader.search if (d := loader.default_dir(loc, pre)) and linked_dirs(inventory, [d])
    }
    files_in: dict[str, list[str]] = defaultdict(list)
    subdirs: dict[str, list[str]] = defaultdict(list)
    for e in inventory.entries:
        if e.kind != "dir":
            files_in[posixpath.dirname(e.path)].append(e.path)
        else:
            subdirs[posixpath.dirname(e.path)].append(posixpath.basename(e.path))
    out = []
    for loc in loader.search:
        d = loader.default_dir(loc, pre)
        if d is None or "*" in d or "{" in d or d in dirs:
            continue
        there = near_directory(d, dirs.__contains__, lambda parent: subdirs.get(parent, ()))
        if there is None:
            continue
        named = sorted(
            f[len(there) + 1 :]
            for x, fs in files_in.items()
            if x == there or x.startswith(there + "/")
            for f in fs
            if loader.parse_in_location(f[len(there) + 1 :]) is not None
        )
        if not named:
            continue
        # Where a variable's `wheels` directory is that one, the plan takes them as modules all
        # the same (an HDF5 tester read "no modules to the plan" beside their module packages).
        ways = [
            f"${w.variable}"
            for w in loader.wheel_ways()
            for x in w.dirs
            if (f"{pre}/{x}" if pre else x) == there
        ]
        # Or where another location is that directory (an ALSA tester's relocated `alsa-libs`
        # beside the absolute /usr/lib/x86_64-linux-gnu/alsa-lib, which found all 25 plug-ins).
        others = [o for o in loader.search if o is not loc and loader.default_dir(o, pre) == there]
        fate = (
            f"The plan finds them only in {' and '.join(dict.fromkeys(ways))}'s `wheels` directory"
            if ways
            else f"The plan finds them through {others[0].kind} = {others[0].value!r} all the same"
            if others
            else "Those files are no modules to the plan"
        )
        beside = "beside it " if posixpath.dirname(there) == posixpath.dirname(d) else ""
        out.append(
            f"[[loader.search]] {loc.kind} = {loc.value!r}: {d} is not in the build, and {there} "
            f"{beside}holds {len(named)} file(s) named as modules are ({', '.join(named[:3])}): "
            f"is the location mistyped? {fate}"
        )
    return out


def mistyped_type_dirs(loader: Loader, inventory: Inventory) -> list[str]:
    """A problem for each module type whose naming's directory (`Input/{name}.so`) no search
    location of the build has, while one beside it, named almost so, holds files named as that
    type's modules are (`loader.type_dir_slips`): an Audacious tester's `Inptu/{name}.so` put
    its 18 input plug-ins in the core, behind 18 warnings of their own, and the split succeeded
    (a location mistyped so stopped it)."""
    pre = inventory.prefix.strip("/")
    dirs = {e.path for e in inventory.entries if e.kind == "dir"}
    subdirs: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[str]] = defaultdict(list)  # directory -> its files' names
    for e in inventory.entries:
        (subdirs if e.kind == "dir" else children)[posixpath.dirname(e.path)].append(
            posixpath.basename(e.path)
        )

    def files_below(directory: str, depth: int) -> list[str]:
        # Each level's directories through `subdirs`: no walk over the whole build per call.
        if depth == 0:
            return children.get(directory, [])
        return [
            f"{sub}/{rel}"
            for sub in subdirs.get(directory, ())
            for rel in files_below(posixpath.join(directory, sub), depth - 1)
        ]

    locations = [
        d for loc in loader.search if (d := loader.default_dir(loc, pre)) and "*" not in d and "{" not in d
    ]
    slips = type_dir_slips(
        loader.naming, locations, dirs.__contains__, lambda parent: subdirs.get(parent, ()), files_below
    )
    named = type_name_slips(loader.naming, locations, dirs.__contains__, files_below)
    return [slip.describe() for slip in slips] + [slip.describe() for slip in named]


def _module_findings(
    inventory: Inventory, loader: Loader, modules: Sequence[Module], never: Sequence[str] = ()
) -> tuple[str | None, str | None]:
    """(problem, note): no module while the build has shared objects elsewhere is a problem
    (the layout looks in the wrong place); a build with no shared object at all has nothing
    that could be a module, so the layout cannot be wrong about where they are: a note."""
    if modules:
        return None, None
    searched = " or ".join(d.replace("*", "{pkgversion}") for d in loader.module_dirs(inventory.prefix))
    # Where modules are programs, where the ELF files are (a GCC tester's typo in the compilers'
    # directory was pointed at the LTO plug-in's .so, not at cc1 and cc1plus).
    libraries = loader.naming.names_libraries
    unit = ".so file" if libraries else "ELF file"
    objects = Counter(
        posixpath.dirname(e.path)
        for e in inventory.files()
        if (_is_shared_object(e) if libraries else _is_loadable_elf(e))
    )
    if libraries:
        # Links named so, in directories of no such file: a module that is a link (an mpv
        # tester's scripts/mpris.so -> ../../mpv-mpris/mpris.so, moved: the hint named only
        # the directory of the code).
        objects += Counter(
            d
            for e in inventory.entries
            if e.kind == "symlink"
            and (e.name.endswith(".so") or ".so." in e.name)
            and (d := posixpath.dirname(e.path)) not in objects
        )
    where = f"no module under {searched or 'any search location'}"
    if mistyped := mistyped_locations(loader, inventory, inventory.prefix):
        # A Node tester's `nodjs` for `nodejs`, whose addons are `.node` files: the problem
        # named libnode.so.108 elsewhere, not the directory of modules beside the typo.
        return f"{where}; {mistyped[0]}", None
    if not objects:
        return None, f"{where}; the build has no {unit} at all: every package but the core is empty"
    dirs = [compile_glob(d + "/**") for d in loader.module_dirs(inventory.prefix)]
    # Programs too, where the modules are programs (a speech-dispatcher tester's `sd-{name}` for
    # `sd_{name}` was sent to the audio plug-ins' .so files, not to the 7 programs searched).
    inside = sorted(
        e.path
        for e in inventory.files()
        if (_is_shared_object(e) or _is_loadable_elf(e)) and any(r.match(e.path) for r in dirs)
    )
    unknown = [w.partition(": in a module directory")[0] for w in never if "is not in modules.known" in w]
    if unknown:
        # Named as modules are, but not known (a Guile tester's libguile-ssh.so: "no file
        # matches the naming" sent him to a naming that was right).
        names = ", ".join(unknown[:2]) + (f" and {len(unknown) - 2} more" if len(unknown) > 2 else "")
        return (
            f"no module under {searched}: its files named as modules are ({names}) are not in "
            "modules.known: is `known` wrong?"
        ), None
    if inside:
        return _named_otherwise(inside, loader, inventory, searched), None
    return (
        f"{where}; the build has {unit}s under {_counted(objects, unit)}: is the layout or --prefix wrong?"
    ), None


def _named_otherwise(inside: Sequence[str], loader: Loader, inventory: Inventory, searched: str) -> str:
    """Why no module was found among files that are in the module directories: named so, but
    deeper than the loader reads (a Shotwell tester's `depth = 0` for plug-ins in
    `plugins/builtin/`, told "is the naming wrong?"), or named otherwise (a libdbi tester's
    `libdbd{name}.so.1` for `libdbd{name}.so`: "no module under X; the build has .so files
    under X" read as a contradiction)."""
    naming = loader.naming.describe()
    if deeper := _named_deeper(inside, loader, inventory.prefix):
        reach = loader.naming.depth() + (loader.depth if loader.registers_all else 0)
        names = ", ".join(deeper[:2]) + (f" and {len(deeper) - 2} more" if len(deeper) > 2 else "")
        return (
            f"no file under {searched} matches the naming ({naming}) where the loader reads ({reach} "
            f"directory level(s) below the location); files named so lie deeper ({names}): is [loader] "
            "depth too small, or resolution not register-all?"
        )
    shown = _by_link_names(inside, inventory)
    names = ", ".join(shown[:2]) + (f" and {len(shown) - 2} more" if len(shown) > 2 else "")
    libraries = all(_is_shared_object(e) for e in inventory.files() if e.path in inside)
    kind = ".so files" if libraries else "ELF files"
    return (
        f"no file under {searched} matches the naming ({naming}); its {kind} are named otherwise ({names}): "
        "is the naming wrong?"
    )


def _by_link_names(paths: Sequence[str], inventory: Inventory) -> list[str]:
    """`paths`, each by the shortest name a symlink beside it gives it, where one does: the name
    a loader opens (a SASL tester's `lib{name}.s0` was shown libanonymous.so.2.0.25, not the
    libanonymous.so the naming should match)."""
    by_link = {e.path: e.target or "" for e in inventory.entries if e.kind == "symlink"}
    names: dict[str, list[str]] = defaultdict(list)
    for link in by_link:
        end = link_end(link, by_link)
        if end is not None and posixpath.dirname(end) == posixpath.dirname(link):
            names[end].append(link)
    return sorted(min(names[p], key=lambda n: (len(n), n)) if names[p] else p for p in paths)


def _named_deeper(paths: Sequence[str], loader: Loader, prefix: str) -> list[str]:
    """Of `paths`, under the module directories, those whose last segments the naming parses:
    module files deeper than the loader reads."""
    dirs = [d for d in loader.module_dirs(prefix) if "*" not in d]
    keep = loader.naming.depth() + 1
    out = []
    for path in paths:
        d = next((d for d in dirs if path.startswith(d + "/")), None)
        if d is not None and loader.naming.parse("/".join(path[len(d) + 1 :].split("/")[-keep:])):
            out.append(path)
    return out


def _stamp_findings(inventory: Inventory, loader: Loader) -> tuple[str | None, str | None]:
    """(problem, note) about the build stamp: the executables (or the loader library) the
    layout names should hold its name."""
    if loader.stamp_symbol is None:
        return None, None
    if loader.library:
        globs = [expand_prefix(loader.library, inventory.prefix).lstrip("/")]
    else:
        globs = list(loader.executable_globs(inventory.prefix))
    patterns = [compile_glob(g) for g in globs]
    by_path = inventory.by_path()
    by_link = {e.path: e.target or "" for e in inventory.entries if e.kind == "symlink"}
    holders: list[Entry] = []
    for e in inventory.files():
        if any(p.match(e.path) for p in patterns):
            # A library named by its SONAME link: the file it leads to.
            end = by_path.get(path) if (path := link_end(e.path, by_link)) else None
            if end is not None and end.kind == "file" and end.elf and end not in holders:
                holders.append(end)
    what = "loader library" if loader.library else "executable"
    if not holders:
        return None, (
            f"no ELF {what} of the build matches {', '.join(globs)}: whether modules carry the "
            f"build stamp ({loader.stamp_symbol}) they need cannot be seen"
        )
    if any(e.elf and e.elf.stamps_held for e in holders):
        return None, None
    names = ", ".join(e.path for e in holders[:_SHOWN]) + (
        f" and {len(holders) - _SHOWN} more" if len(holders) > _SHOWN else ""
    )
    return (
        f"the layout demands the build stamp {loader.stamp_symbol}, but no {what} it names holds "
        f"{'one' if loader.stamp_value is None else f'a string like {loader.stamp_value!r}'} "
        f"({names}): is the layout wrong for this build?"
    ), None


def fit_findings(inventory: Inventory, loader: Loader) -> tuple[list[str], list[str]]:
    """(problems, notes) saying whether the loader's layout fits the scanned build. Notes are
    what could not be judged (no `.so` at all, no executable to read the stamp from): the
    command line shows them with --verbose."""
    problems: list[str] = []
    notes: list[str] = []
    if p := _prefix_problem(inventory):
        problems.append(p)
    found = loader.find_modules(inventory)
    module, module_note = _module_findings(inventory, loader, found.modules, found.never_looked_up)
    if found.modules:
        problems += mistyped_type_dirs(loader, inventory)
    stamp, stamp_note = _stamp_findings(inventory, loader)
    by_path = inventory.by_path()
    needs = [
        [v for _, v in e.elf.version_needs]
        for m in found.modules
        if (e := by_path.get(m.path)) is not None and e.elf is not None
    ]
    if (unmatched := stamp_version_unmatched(loader.stamp_version, needs)) is not None:
        problems.append(unmatched)
    for problem, note in ((module, module_note), (stamp, stamp_note)):
        problems += [problem] if problem else []
        notes += [note] if note else []
    return problems, notes


def check_fit(
    inventory: Inventory, loader: Loader, *, allow_empty: bool = False
) -> tuple[list[str], list[str]]:
    """Raise LayoutFitError when the layout does not fit the build; else return (warnings,
    notes). With `allow_empty` (a build that really has no module) the problems are warnings."""
    problems, notes = fit_findings(inventory, loader)
    if problems and not allow_empty:
        raise LayoutFitError([f"{p} (--allow-empty to plan it anyway)" for p in problems])
    return problems, notes
