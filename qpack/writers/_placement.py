"""Where each file of a wheel lands once installed, decided from the loader model, and the proof
that every module and helper is then where the program's loader looks.

An installer puts `<dist>.data/data/<path>` at `<root>/<path>` and `<dist>.data/scripts/<name>`
at `<root>/bin/<name>` for every POSIX scheme (a venv, `--user`, `--prefix`, Debian's
`/usr/local`): `root` is the install prefix. Two placements, chosen from the loader:

- `bundle` (the loader has a bundle directory, QEMU's `qemu-bundle`, since 7.1): the files of the
  loader's `bindir` stay in `<root>/<bindir>/`; every other file under the build's prefix goes to
  `<root>/<bindir>/<bundle>/<its absolute configured path>`, where the program looks for every
  configured path (modules, firmware, data, helpers) once that directory exists, whether the
  build relocates or not (QEMU's `get_relocated_path`).
- `relocated` (no bundle directory): a file goes to `<root>/<path relative to the prefix>`, where
  a relocatable loader finds it from the installed executable (or its anchor library).

`verify` then walks the loader's search locations from where each executable is installed, as
`qpack check` would in the installed tree, and says which module or helper would not be found
(a build that does not relocate and has no bundle directory: nowhere a wheel can put it).
Paths here are relative to the install root; none of them is touched.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from qpack.globs import compile_glob, expand_prefix
from qpack.inventory import Entry
from qpack.loader import Helper, Loader, Module, SearchLocation

Scheme = Literal["scripts", "data", "platlib"]

# The system Python's module directories under a prefix (Debian's lib/python3/dist-packages,
# lib/python3.11/site-packages): no venv imports from <venv>/lib/python3/dist-packages, so their
# files go through the platlib scheme, to whichever site-packages the installing Python has.
SYSTEM_PYTHON = re.compile(r"(?:local/)?lib/python3(?:\.[0-9]+)?/(?:dist|site)-packages/")
# Where a platlib file is taken to be, relative to the install root: the real directory has the
# installing Python's version in it; this one has the same depth, which is what relative
# RUNPATHs (`$ORIGIN/../../..`) depend on.
PLATLIB = "lib/python3/site-packages"


@dataclass(frozen=True, slots=True)
class Placed:
    """A file's place in a wheel: `<dist>.data/<scheme>/<path>`."""

    scheme: Scheme
    path: str

    @property
    def installed(self) -> str:
        """Where an installer puts it, relative to the install root (a platlib file: at the
        depth of <root>/lib/python3.X/site-packages)."""
        if self.scheme == "scripts":
            return f"bin/{self.path}"
        return f"{PLATLIB}/{self.path}" if self.scheme == "platlib" else self.path


@dataclass(frozen=True, slots=True)
class Placement:
    prefix: str  # the build's prefix, without slashes ("usr"; "" for /)
    bindir: str  # the loader's bindir, relative to the prefix
    bundle: str | None  # files outside bindir go through this directory next to the executables
    scripts: bool  # executables of bindir through the scripts scheme (else data/<bindir>/)
    # For a loader that never relocates: the variables that reach the modules once installed
    # (None: the loader looks from the install prefix).
    through: tuple[str, ...] | None = None
    # Those variables lead to directories of their own, each to some modules: all are set (an R
    # tester's R_LIBS and R_LIBS_SITE were "or", each reaching half of the packages).
    through_each: bool = False

    @property
    def how(self) -> str:
        if self.bundle:
            return f"{self.bindir}/ as it is, everything else through <prefix>/{self.bindir}/{self.bundle}/"
        if self.through is not None:
            # A Grilo tester: "where the loader looks from there" of a loader that never does.
            if self.through_each:
                reach = (
                    " and ".join(f"${v}" for v in self.through)
                    + " lead them there, each to its own directory"
                )
            else:
                reach = (" or ".join(f"${v}" for v in self.through) or "no variable") + " leads it there"
            return f"relative to the install prefix; the loader does not relocate: {reach}"
        return "relative to the install prefix, where the loader looks from there (or a variable names)"

    def place(self, path: str, executable: bool, importable: bool = True) -> Placed | None:
        """Where the build file `path` goes, or None when it is outside the prefix. A file of the
        system Python's module directories goes where the installing Python imports from,
        unless it is not `importable` there (a module the program's loader looks for)."""
        pre = self.prefix
        if pre and path != pre and not path.startswith(pre + "/"):
            return None
        rel = path[len(pre) + 1 :] if pre else path
        if importable and (python := SYSTEM_PYTHON.match(rel)) and rel[python.end() :]:
            # A Knot tester's python3-libknot: at <venv>/lib/python3/dist-packages no venv
            # imports it (nor, with a bundle directory, from beside the executables).
            return Placed("platlib", rel[python.end() :])
        if posixpath.dirname(rel) == self.bindir:
            if executable and self.scripts:
                return Placed("scripts", posixpath.basename(rel))
            return Placed("data", rel)
        if self.bundle is not None:
            return Placed("data", f"{self.bindir}/{self.bundle}/{path}")
        return Placed("data", rel)


def choose(loader: Loader, prefix: str, *, all_data: bool = False) -> Placement:
    """The placement the loader model asks for. `all_data` puts executables through the data
    scheme too, so that a wheel unpacked as-is has the installed tree's relative layout (what
    `auditwheel show` reads when it follows `$ORIGIN` RUNPATHs)."""
    bindir = loader.bindir.strip("/")
    return Placement(
        prefix=prefix.strip("/"),
        bindir=bindir,
        bundle=loader.bundle,
        scripts=bindir == "bin" and not all_data,
        through=None if loader.relocatable else tuple(dict.fromkeys(w.variable for w in loader.wheel_ways())),
        through_each=len({w.dirs for w in loader.wheel_ways()}) > 1,
    )


def _up(path: str, levels: int) -> str | None:
    for _ in range(levels):
        if not path:
            return None
        path = posixpath.dirname(path)
    return path


def _depth(rel: str) -> int:
    return len([p for p in rel.split("/") if p])


@dataclass(frozen=True, slots=True)
class _Exe:
    build_path: str
    installed: str


def _search_dir(
    loc: SearchLocation, exe: _Exe, placement: Placement, loader: Loader, placed: Mapping[str, Placed]
) -> str | None:
    """Where a `relocated` location is for this installed executable, relative to the install
    root; None when it stays at its configured absolute path, outside the install root."""
    pre = placement.prefix
    configured = f"{pre}/{loc.value}" if pre else loc.value
    exe_dir = posixpath.dirname(exe.installed)
    if placement.bundle is not None:
        return posixpath.normpath(f"{exe_dir}/{placement.bundle}/{configured}")
    if not loader.relocatable:
        return None
    if loc.anchor is None:
        base = _up(exe_dir, _depth(loader.bindir))
    else:
        lib = placed.get(f"{pre}/{loc.anchor}" if pre else loc.anchor)
        base = (
            None
            if lib is None
            else _up(posixpath.dirname(lib.installed), _depth(posixpath.dirname(loc.anchor)))
        )
    if base is None:
        return None
    return posixpath.normpath(posixpath.join(base, loc.value)) if base else posixpath.normpath(loc.value)


def loader_executables(
    loader: Loader,
    prefix: str,
    placed: Mapping[str, Placed],
    elf_paths: Iterable[str],
    by_path: Mapping[str, Entry],
) -> list[_Exe]:
    """The loader's programs among the placed ELF files: the executables the layout names, and
    with `[loader] library`, every program of the bindir that links that library."""
    elf = set(elf_paths)
    globs = [compile_glob(g) for g in loader.executable_globs(prefix)]
    chosen = {p for p in placed if p in elf and any(g.match(p) for g in globs)}
    if loader.library is not None:
        lib_re = compile_glob(expand_prefix(loader.library, prefix))
        names = {
            n
            for e in by_path.values()
            if lib_re.match(e.path)
            for n in (e.name, e.elf.soname if e.elf else None)
            if n
        }
        pre = prefix.strip("/")
        bindir = f"{pre}/{loader.bindir.strip('/')}" if pre else loader.bindir.strip("/")
        for p in placed:
            e = by_path.get(p)
            if p in elf and posixpath.dirname(p) == bindir and e and e.elf and names & set(e.elf.needed):
                chosen.add(p)
        if not chosen:
            return _library_alone(lib_re, placed, elf, by_path, bindir, loader.bindir.strip("/"))
    return [_Exe(p, placed[p].installed) for p in sorted(chosen)]


def _library_alone(
    lib_re: re.Pattern[str],
    placed: Mapping[str, Placed],
    elf: set[str],
    by_path: Mapping[str, Entry],
    bindir: str,
    installed_bindir: str,
) -> list[_Exe]:
    """No program of the build links the loader library (one used from Python, GI or ctypes):
    the library stands for a program of bindir that links it, as `qpack check` judges it, so
    that a placement the loader would not find is refused all the same. The file named by its
    SONAME is the one the dynamic linker loads."""
    libs = sorted(p for p in placed if p in elf and lib_re.match(p))
    by_soname = [p for p in libs if (e := by_path.get(p)) and e.elf and e.elf.soname == posixpath.basename(p)]
    chosen = (by_soname or libs)[:1]
    return [_Exe(f"a program of {bindir} linking {p}", f"{installed_bindir}/(program)") for p in chosen]


def _env_reaches(loader: Loader, where: Placed, rel: str, mtype: str) -> bool:
    """Whether a variable the user sets once the wheels are installed finds the module of type
    `mtype` placed at `where` (`rel`: its path under its search location): an env location's
    `wheels` directory holds it there (LADSPA_PATH=<prefix>/lib/ladspa), or its type's own
    variable's (MAGICK_CODER_MODULE_PATH=<prefix>/lib/.../coders)."""
    return any(way.reaches(where.installed, rel, mtype) for way in loader.wheel_ways())


def _env_ways(loader: Loader) -> list[str]:
    """The variables a hint names for modules the wheels place: those that add a directory
    before the rest, not one that replaces the rest (GST_PLUGIN_SYSTEM_PATH would hide the
    system's plugins, a GStreamer tester found), unless no other is there."""
    env = [x for x in loader.search if x.kind == "env"]
    adding = [x for x in env if not x.replaces_rest] or env
    return [f"${v}" for x in adding for v in x.variables]


def _location_of(loader: Loader, path: str, tops: Sequence[str]) -> str | None:
    """Of the search directories `tops` (build-root-relative, in search order), the one a module
    file at `path` is found in: the first whose naming it fits, as `Loader.find_modules`
    decides where one location is inside another (a Tcl tester's lib and
    lib/tcltk/x86_64-linux-gnu, a Guile tester's library directory and guile/3.0/extensions),
    else the first above it; None under none."""
    above = [t for t in tops if path.startswith(t + "/")]
    return next(
        (t for t in above if loader.parse_in_location(path[len(t) + 1 :])), above[0] if above else None
    )


def _filled(location: str, path: str) -> str | None:
    """An absolute location as the build's path `path` fills its `{pkgversion}` (a kernel
    tester's `/lib/modules/{pkgversion}`: every module was "reached through a symlinked search
    directory", none was), or None where it holds another placeholder or `path` is not under it."""
    if "{" not in location:
        return location
    if "{" in location.replace("{pkgversion}", ""):
        return None
    pattern = re.escape(location).replace(re.escape("{pkgversion}"), "[^/]+")
    found = re.match(pattern + "/", path)
    return found.group(0)[:-1] if found else None


def _absolute_problem(loader: Loader, m: Module, where: Placed) -> list[str]:
    """A module under an absolute search location, which no install prefix moves: found only
    where an env location's `wheels` directory holds it."""
    fixed = [_filled(loc.value.strip("/"), m.path) for loc in loader.search if loc.kind == "absolute"]
    d = _location_of(loader, m.path, [f for f in fixed if f is not None])
    if d is None:
        # Under no location: in a variable's `wheels` directory, or in a directory the build
        # links a search directory to (nginx's share/nginx/modules -> ../../lib/nginx/modules),
        # which a wheel cannot keep: from a wheel the loader would not look there.
        if any(where.installed.startswith(d + "/") for way in loader.wheel_ways() for d in way.dirs):
            return []
        if not any(loc.kind == "relocated" for loc in loader.search):
            # Only absolute directories are searched (an nginx tester's /usr/share/nginx/modules):
            # that, not the symlink, is why no wheel can place it.
            absolute = ", ".join(
                f"/{loc.value.strip('/')}" for loc in loader.search if loc.kind == "absolute"
            )
            return [
                f"module {m.id!r} ({m.path}, reached through a symlinked search directory of the "
                f"build): the loader looks for it only in the absolute {absolute}{_also(loader)}, "
                "which no install prefix moves; a wheel cannot place it"
            ]
        return [
            f"module {m.id!r} ({m.path}): the loader reaches it through a symlinked search "
            f"directory of the build; a wheel holds no symlinks, so installed as "
            f"<prefix>/{where.installed} it is where the loader does not look (the tree output keeps "
            "the link)"
        ]
    rel = m.path[len(d) + 1 :]
    if _env_reaches(loader, where, rel, m.type):
        return []
    if misplaced := _not_in_wheels_dir(loader, m, where, rel):
        return misplaced
    # The search location, not the module's own subdirectory (Xorg's drivers/); and the
    # relocated ones, which a libvips tester's message left out: not where the build has it.
    relocated = [f"{{prefix}}/{loc.value}" for loc in loader.search if loc.kind == "relocated"]
    where_not = (
        f", and in {' and '.join(relocated)}, which is not where the build has it" if relocated else ""
    )
    return [
        f"module {m.id!r} ({m.path}): the loader looks for it only in the absolute /{d}{_also(loader)}, "
        f"which no install prefix moves{where_not}; a wheel cannot place it"
    ]


def _also(loader: Loader) -> str:
    """Beside an absolute location: the variables that could reach a wheel's modules."""
    envs = _env_ways(loader)
    return (
        f" (and where {' or '.join(envs)} points, which the wheel does not set: an env "
        "location's `wheels` key names the directory it is to point to)"
        if envs
        else ""
    )


def _not_in_wheels_dir(loader: Loader, m: Module, where: Placed, rel: str) -> list[str]:
    """For a module no variable's `wheels` directory holds, where the layout names one for its
    type: that `wheels` is not where the build's modules are, and the wheels do not move them
    (a WeeChat tester wrote lib/weechat for lib/x86_64-linux-gnu/weechat; a Geany tester's
    `under` was told to add the `wheels` key it had)."""
    # The type's own first: an Octave tester's types had `wheels` of their own, and were judged
    # against the env location's of the same variable.
    given = sorted(
        (way for way in loader.wheel_ways() if way.mtype in (None, m.type)), key=lambda w: w.mtype is None
    )
    if not given:
        return []
    way = given[0]
    if way.mtype is not None:
        # A type's own variable names the directory the files are in (libvirt's, ImageMagick's):
        # a naming with a directory part puts them below it. A PipeWire tester's SPA_PLUGIN_DIR
        # names the root above aec/, audioconvert/...: told to set the `wheels` it had.
        return [
            f"module {m.id!r}: installed as <prefix>/{where.installed}, not in ${way.variable}'s "
            f"`wheels` directory <prefix>/{way.modules}: a type's own variable names the directory "
            f"its files are in, here {posixpath.dirname(where.installed)}, for `wheels`; a variable "
            "naming the directory above each type's (PipeWire's SPA_PLUGIN_DIR) is an env "
            "[[loader.search]] location"
        ]
    return [
        f"module {m.id!r}: installed as <prefix>/{where.installed}, not in ${way.variable}'s `wheels` "
        f"directory <prefix>/{way.modules}: `wheels` (with `under`) must name where the "
        f"build's modules are, relative to the prefix ({where.installed[: -len(rel) - 1]})"
    ]


def _why_fixed(loader: Loader, loc: SearchLocation, pre: str, exe: _Exe) -> str:
    """Why a `relocated` location stays at its configured path once the wheels are installed,
    and the way out an env location offers (a GEGL tester's layout searched $GEGL_PATH, and the
    refusal never said that its `wheels` key was the fix)."""
    envs = _env_ways(loader)
    way = (
        f"; an env location's `wheels` key ({' or '.join(envs)}) names where the wheels put modules"
        if envs
        else ""
    )
    if loader.relocatable and loc.anchor is not None:
        # The anchor library comes from another package (GStreamer's plugins-base split: the
        # anchor libgstreamer-1.0 is gstreamer1.0's): the one the program loads is not a wheel's.
        anchor = f"{pre}/{loc.anchor}" if pre else loc.anchor
        return (
            f"it is found from where /{anchor} is, and no wheel of this split holds that library: "
            f"the program loads another package's, at its configured path{way}"
        )
    if loader.relocatable and loc.anchor is None:
        # Found from the program's directory, `bindir` levels below the prefix: a program less
        # deep than that has no prefix above it (a strongSwan tester's sbin/charon-systemd with
        # bindir = "lib/ipsec" was told the build "does not relocate").
        return (
            f"it is found from the program's directory, taken as the layout's bindir "
            f"{loader.bindir!r}, and {exe.installed} is not that deep below the prefix: [loader] "
            f"bindir must name the programs' directory{way}"
        )
    return f"the layout says the build does not relocate and names no bundle directory{way}"


def _absolute_helper_problem(helper: Helper, placed: Mapping[str, Placed]) -> list[str]:
    """A helper the loader runs from an absolute directory, which no install prefix moves
    (PulseAudio's gsettings-helper in /usr/libexec/pulse): a wheel holding it puts it where
    the loader never runs it from."""
    if helper.absolute is None:
        return []
    where = placed.get(posixpath.join(helper.absolute.strip("/"), helper.name))
    if where is None:
        return []
    named = " or ".join(f"${v}" for v in helper.env)
    also = f" (or the path {named} names, which the wheel does not set)" if helper.env else ""
    return [
        f"helper {helper.name!r}: installed as <prefix>/{where.installed}, but the loader runs it "
        f"only from /{helper.absolute.strip('/')}/{helper.name}{also}, which no install prefix moves; "
        "a wheel cannot place it"
    ]


def _relocated_problem(
    loader: Loader,
    placement: Placement,
    placed: Mapping[str, Placed],
    exes: list[_Exe],
    m: Module,
    where: Placed,
    loc: SearchLocation,
    program_there: bool,
) -> list[str]:
    """Whether each installed loader program finds a module under a `relocated` location where
    the wheel puts it: the first reason it does not, or nothing."""
    pre = placement.prefix
    rel = m.path[len(f"{pre}/{loc.value}/" if pre else f"{loc.value}/") :]
    if not exes and not program_there and not _env_reaches(loader, where, rel, m.type):
        if misplaced := _not_in_wheels_dir(loader, m, where, rel):
            return misplaced
        # No program of the layout in the build (plug-ins for a host packaged elsewhere, an
        # Audacious tester's): that host looks at its own configured path, never under the
        # prefix a wheel installs to, as for an absolute location. (A program that is there
        # but no ELF file, a wrapper, cannot be followed: not judged, as before.)
        return [
            f"module {m.id!r}: no program of the layout is in the build, so the one that loads "
            f"it is installed elsewhere and looks in its configured /{pre + '/' if pre else ''}"
            f"{loc.value}, never where a wheel installs it (an env location's `wheels` key "
            "names a variable that reaches it)"
        ]
    for exe in exes:
        if not loader.asks_for(exe.build_path, m.id, f"/{pre}"):
            continue  # its program-types leave the module out (an FRR tester's babeld was named)
        d = _search_dir(loc, exe, placement, loader, placed)
        if d is None and _env_reaches(loader, where, rel, m.type):
            return []
        if d is None:
            return [
                f"module {m.id!r}: {exe.build_path} installed as <prefix>/{exe.installed} would look "
                f"only in /{pre + '/' if pre else ''}{loc.value} ({_why_fixed(loader, loc, pre, exe)}), "
                "never where a wheel installs it"
            ]
        if posixpath.join(d, rel) != where.installed:
            return [
                f"module {m.id!r}: installed as <prefix>/{where.installed}, but {exe.build_path} "
                f"installed as <prefix>/{exe.installed} looks in <prefix>/{d}"
            ]
    return []


def verify(
    loader: Loader,
    placement: Placement,
    modules: Iterable[Module],
    placed: Mapping[str, Placed],
    exes: list[_Exe],
    program_there: bool = True,
) -> list[str]:
    """Every module and helper placed in a wheel, checked against every installed loader
    program: one line per file the loader would not find where the wheel puts it.
    `program_there`: a file of the build is named as a loader program (or its library), ELF
    or not; without one, the program is another package's."""
    pre = placement.prefix
    problems: list[str] = []
    relocated = [loc for loc in loader.search if loc.kind == "relocated"]
    for m in modules:
        where = placed.get(m.path)
        if where is None:
            continue
        tops = {f"{pre}/{x.value}" if pre else x.value: x for x in relocated}
        top = _location_of(loader, m.path, list(tops))
        loc = tops[top] if top is not None else None
        if loc is None:
            problems += _absolute_problem(loader, m, where)
            continue
        problems += _relocated_problem(loader, placement, placed, exes, m, where, loc, program_there)
    for helper in loader.helpers:
        if helper.relocated is None:
            problems += _absolute_helper_problem(helper, placed)
            continue
        path = f"{pre}/{helper.relocated}/{helper.name}" if pre else f"{helper.relocated}/{helper.name}"
        where = placed.get(path)
        if where is None:
            continue
        for exe in exes:
            d = _search_dir(SearchLocation("relocated", helper.relocated), exe, placement, loader, placed)
            if d is None or posixpath.join(d, helper.name) != where.installed:
                shown = f"<prefix>/{d}" if d is not None else f"/{pre}/{helper.relocated}"
                problems.append(
                    f"helper {helper.name!r}: installed as <prefix>/{where.installed}, but "
                    f"{exe.build_path} installed as <prefix>/{exe.installed} runs it from {shown}"
                )
                break
    return problems
