"""The program's module loader as data: where it searches, how it names module files, which
build stamp it demands and which modules it loads first.

This module knows no TOML and no packaging policy. `qpack.layout` builds a `Loader` from a
layout file; tests build one directly. The plan asks it which files of a build are modules
(`find_modules`), the wheel writer where modules must land, and `check` (which never imports
the plan) which file the loader would take in an installed prefix.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import posixpath
import re
import string
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from qpack.errors import BuildError, swapped_letters
from qpack.globs import ModuleKeys, compile_glob, expand_prefix, module_glob_matches

if TYPE_CHECKING:  # the inventory (hashing, ELF reading) is imported where a build is read
    from qpack.inventory import Inventory, Progress

SearchKind = Literal["env", "relocated", "absolute"]
Resolution = Literal["first-found", "first-loadable", "register-all", "register-loadable"]
ModuleTable = Literal["qemu-modinfo"]
MODULE_TABLES: tuple[ModuleTable, ...] = ("qemu-modinfo",)
RESOLUTIONS: tuple[Resolution, ...] = ("first-found", "first-loadable", "register-all", "register-loadable")
MAX_DEPTH = 16  # directory levels a register-all loader scans below a location (GStreamer: 10)

_PKGVERSION_UNSAFE = re.compile(rb"[^A-Za-z0-9+\-.~]")


def canon_pkgversion(pkgversion: str) -> str:
    """QEMU's module-upgrade directory name: every byte outside `A-Za-z0-9+-.~` becomes `_`,
    as g_strcanon does on the C string (`ü`, two bytes in UTF-8, becomes `__`)."""
    raw = pkgversion.encode("utf-8", "surrogateescape")
    return _PKGVERSION_UNSAFE.sub(b"_", raw).decode("ascii")


_NOT_KNOWN = " is not in modules.known"  # how a never-looked-up warning of a name `known` lacks goes on


def _named_tail(pattern: str, name: str) -> str:
    """A pattern filled in for `name`, from its last segment holding `{name}` on: the part of a
    module's path beside which its descriptor is (`lib{name}.so`; `{name}/__init__.py`)."""
    parts = pattern.split("/")
    k = max((i for i, p in enumerate(parts) if "{name}" in p), default=len(parts) - 1)
    return "/".join(parts[k:]).replace("{name}", name)


def other_version(name: str, location: str) -> bool:
    """Whether directory `name` is `location`'s name with other version digits (`modules0.7`
    for `modules0.8`, `2.4.8` for `2.4.9`): another release's module directory."""
    return (
        name != location
        and bool(re.search(r"\d", location))
        and re.sub(r"\d+", "0", name) == re.sub(r"\d+", "0", location)
    )


# A segment whose digits name an ABI, not a release (lib32 beside lib64).
_ABI_SEGMENT = re.compile(r"lib(?:32|64|x32)")


def other_version_dir(path: str, location: str) -> bool:
    """Whether directory `path` is `location` with other version digits in one or more of its
    segments: `modules0.7` for `modules0.8`, and libproxy's `libproxy/0.4.17/modules` for
    `libproxy/0.4.18/modules` (a libproxy tester's module left there by a lagging plug-in
    package: "1 of 1 modules load", nothing said)."""
    a, b = path.rstrip("/").split("/"), location.rstrip("/").split("/")
    return (
        len(a) == len(b)
        and a != b
        and all(
            x == y or (other_version(x, y) and not _ABI_SEGMENT.fullmatch(y))
            for x, y in zip(a, b, strict=True)
        )
    )


def _other_version_warning(path: str, head: str, location: str) -> str:
    """The plan's warning of a module file under `head`, a directory of another version than
    `location`, each shown from the first segment that differs (`0.4.17/modules, beside
    0.4.18/modules`)."""
    a, b = head.split("/"), location.split("/")
    k = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
    return (
        f"{path}: in a module directory of another version ({'/'.join(a[k:])}, beside {'/'.join(b[k:])}, "
        "which the loader searches): never looked up (a module of another release?)"
    )


def near_directory(
    path: str, is_dir: Callable[[str], bool], subdirs: Callable[[str], Iterable[str]]
) -> str | None:
    """The directory `path`, which does not exist, was likely meant to name: its first missing
    segment swapped for the one directory beside it named almost so, the segments after it
    kept, where that exists. A libproxy tester's `libproxy/0.4.81/modules` for `0.4.18` was
    "0 of 0 modules load", exit 0, where a typo in the last segment was found."""
    import difflib  # only for a location that does not exist

    lead = "/" if path.startswith("/") else ""
    parts = [p for p in path.split("/") if p]
    for i, name in enumerate(parts):
        if is_dir(lead + "/".join(parts[: i + 1])):
            continue
        parent = lead + "/".join(parts[:i])
        beside = sorted(subdirs(parent))
        # Two letters swapped in a short name are far by difflib's ratio (a VA-API tester's `dir`
        # for `dri`, 0.67): taken first.
        swapped = [n for n in beside if swapped_letters(name, n)]
        # One letter off a short name too (a SANE tester's `sand` for `sane`, 0.75).
        off = [n for n in beside if len(name) >= 4 and _one_edit(name, n)]
        close = [n for n in difflib.get_close_matches(name, beside, n=3, cutoff=0.8) if _near_core(name, n)]
        for near in [*swapped, *off, *close]:
            there = posixpath.join(parent, near, *parts[i + 1 :])
            if is_dir(there):
                return there
        return None
    return None


@dataclass(frozen=True, slots=True)
class TypeDirSlip:
    """A module type whose naming puts its files in a directory (`Input/{name}.so`) none of the
    locations has, while one beside it, named almost so, holds files named as its modules."""

    mtype: str
    pattern: str
    location: str
    there: str  # the directory named almost so
    named: tuple[str, ...]  # the files there named as the type's modules, relative to it

    def describe(self) -> str:
        head = _literal_head(self.pattern)[0]
        shown = ", ".join(self.named[:3]) + (
            f" and {len(self.named) - 3} more" if len(self.named) > 3 else ""
        )
        return (
            f"no module of type {self.mtype!r}: {self.location} has no {head}/, and {self.there} beside it "
            f"holds {len(self.named)} file(s) named as its modules are ({shown}): is the naming "
            f"{self.pattern!r} mistyped?"
        )


# Symbol versions of the toolchain's runtime, which every build's modules need: never the one a
# mistyped `[loader.stamp] version` meant.
_RUNTIME_NODES = ("GLIBC_", "GCC_", "GLIBCXX_", "CXXABI_")


def stamp_version_unmatched(glob: str | None, needs: Sequence[Sequence[str]]) -> str | None:
    """Why the layout is wrong, where its `[loader.stamp] version` glob matches no symbol version
    two modules or more need (`needs`: the nodes each module read needs): a Samba tester's
    `SABMA_4*` turned the same-build check off in silence, "64 of 64 modules load", exit 0."""
    if glob is None or len(needs) < 2 or any(fnmatch.fnmatchcase(v, glob) for n in needs for v in n):
        return None
    counts = Counter(v for n in needs for v in set(n) if not v.startswith(_RUNTIME_NODES))
    shown = ", ".join(v for v, _ in counts.most_common(3))
    return (
        f"[loader.stamp] version {glob!r} matches no symbol version the {len(needs)} modules read need"
        f"{f' (they need {shown})' if shown else ''}: is it mistyped, or the layout wrong for this program?"
    )


# A directory of libraries every program shares (the dynamic linker's: lib, lib64, lib/<triplet>).
_LIBRARY_DIR = re.compile(r"(?:^|/)lib(?:32|64|x32)?(?:/[a-z0-9_]+-linux-[a-z0-9_]+)?/?$")


def library_dir(directory: str) -> bool:
    """Whether `directory` is a library directory shared by every package (`/usr/lib`,
    `/usr/lib/x86_64-linux-gnu`): its files named as no module the loader knows are libraries."""
    return _LIBRARY_DIR.search(directory) is not None


def _literal_head(pattern: str) -> tuple[str, str]:
    """(the directories `pattern` names before its first placeholder or wildcard, the rest):
    `libgphoto2_port/0.12.1/{name}.so` -> ("libgphoto2_port/0.12.1", "{name}.so"); no head where
    the first directory has one, or is `.` or `..`."""
    segments = pattern.split("/")
    lead: list[str] = []
    for seg in segments[:-1]:
        if any(c in seg for c in "{*?[") or seg in ("", ".", ".."):
            break
        lead.append(seg)
    return "/".join(lead), "/".join(segments[len(lead) :])


def type_dir_slips(
    naming: Naming,
    locations: Iterable[str],
    is_dir: Callable[[str], bool],
    subdirs: Callable[[str], Iterable[str]],
    files_below: Callable[[str, int], Iterable[str]],
) -> list[TypeDirSlip]:
    """Each type whose naming's literal directories (those before its first placeholder) are in
    none of the `locations` that exist, where one of them has a directory named almost so holding
    files named as the type's modules are (`files_below(dir, depth)`: the files that many levels
    below it, relative to it). An Audacious tester's `Inptu/{name}.so` put 18 plug-ins in the
    core; a GIMP tester's `plug-in/{name}/{name}` left 121 plug-ins unjudged, "9 of 9 modules
    load"; a libgphoto2 tester's `libgphoto2_port/0.12.2/{name}.so` for 0.12.1 put the six port
    drivers in the core, and check said "20 of 20 modules load", exit 0."""
    present = [d for d in dict.fromkeys(locations) if is_dir(d)]
    heads = {_literal_head(p)[0] for t in naming.types for p in naming.patterns_of(t)}
    out = []
    for mtype in naming.types:
        for pattern in naming.patterns_of(mtype):
            head, tail = _literal_head(pattern)
            if not head:
                continue
            if any(is_dir(posixpath.join(d, head)) for d in present):
                continue
            for d in present:
                # `d` exists: the segment swapped is one of the head's, the rest kept.
                there = near_directory(posixpath.join(d, head), is_dir, subdirs)
                # Another type's own directory is none of this one's slips (a Vim tester's
                # runtime with plugin/ alone: "is the naming 'ftplugin/{name}.vim' mistyped?").
                if there is None or there[len(d.rstrip("/")) + 1 :] in heads - {head}:
                    continue
                near = Naming(pattern=tail)
                named = tuple(
                    sorted(f for f in files_below(there, tail.count("/")) if near.parse(f) is not None)
                )
                if named:
                    out.append(TypeDirSlip(mtype, pattern, d, there, named))
                    break
    return out


@dataclass(frozen=True, slots=True)
class TypeNameSlip:
    """A module type none of whose files is named as its naming says, while files of its
    directory end one letter off the naming's literal end (`{name}-shel.so` beside
    `desktop-shell.so`)."""

    mtype: str
    pattern: str
    directory: str
    ending: str  # as the files end
    named: tuple[str, ...]
    what: str = "files"  # or "directories": `{name}` in a directory's name (LV2's bundles)
    wanted: str = ""  # the naming's part they miss, where not the end of its `{name}` segment
    at_start: bool = False  # `ending` is how they start, one letter off the naming's start

    def describe(self) -> str:
        segment = next(s for s in self.pattern.split("/") if "{name}" in s).partition("{name}")
        wanted = self.wanted or (segment[0] if self.at_start else segment[2])
        shown = ", ".join(self.named[:3]) + (
            f" and {len(self.named) - 3} more" if len(self.named) > 3 else ""
        )
        verb = "are named" if self.wanted else "start as" if self.at_start else "end in"
        return (
            f"no module of type {self.mtype!r}: {self.what} in {self.directory} {verb} {self.ending!r}, not "
            f"the naming's {wanted!r} ({shown}): is the naming {self.pattern!r} mistyped?"
        )


def type_name_slips(
    naming: Naming,
    locations: Iterable[str],
    is_dir: Callable[[str], bool],
    files_below: Callable[[str, int], Iterable[str]],
) -> list[TypeNameSlip]:
    """Each type with no file named as its naming says in any of the `locations`, where files
    of the directory it names end one letter off the naming's literal end: a Weston tester's
    `weston/{name}-shel.so` made the four shells strays and `hmi-controller`'s dependency "not
    installed", exit 1, where plan warned that the naming names no file."""
    present = [d for d in dict.fromkeys(locations) if is_dir(d)]
    # Every pattern's literal end: one of them one letter off is that pattern's, no slip.
    others = {p.rpartition("{name}")[2] for p in naming.patterns_all()}
    out = _bundle_name_slips(naming, present, files_below)
    for mtype in naming.types:
        if any(slip.mtype == mtype for slip in out):
            continue
        listed: list[tuple[str, str, str, str, list[str]]] = []  # pattern, dir, start, end, files
        for pattern in naming.patterns_of(mtype):
            sub, _, last = pattern.rpartition("/")
            start, has_name, end = last.partition("{name}")
            if not has_name or "{" in sub + start + end or len(end) < 3:
                listed = []
                break
            for d in present:
                directory = posixpath.join(d, sub) if sub else d
                if is_dir(directory):
                    listed.append((pattern, directory, start, end, list(files_below(directory, 0))))
        if not listed or any(
            len(f) > len(st) + len(en) and f.startswith(st) and f.endswith(en)
            for _, _, st, en, fs in listed
            for f in fs
        ):
            continue  # the type's files are named so somewhere, or its naming is not literal enough
        for pattern, directory, start, end, every in listed:
            files = [f for f in every if f.startswith(start)]
            # Not another pattern's ending (a Bacula layout's `{name}-fd.so` beside
            # `{name}-sd.so`), and two or more alike: one library ending so is no sign
            # (libbacsd.so).
            endings = {
                f: e
                for f in files
                if (e := _ending_near(f[len(start) :], end)) is not None and e not in others
            }
            ending, count = Counter(endings.values()).most_common(1)[0] if endings else ("", 0)
            if count >= 2:
                alike = tuple(sorted(f for f, e in endings.items() if e == ending))
                out.append(TypeNameSlip(mtype, pattern, directory, ending, alike))
                break
            if slip := _start_slip(mtype, pattern, directory, start, end, every):
                out.append(slip)
                break
    return out


def _start_slip(
    mtype: str, pattern: str, directory: str, start: str, end: str, files: Iterable[str]
) -> TypeNameSlip | None:
    """The files of `directory` that end as the naming's `{name}` segment does and start one
    letter off its literal start, two or more alike: a libvirt tester's
    `libvirt_storage_backnd_{name}.so` put the ten storage back-ends in the core, exit 0, with a
    warning a file. Five letters at least, as check's near miss of a naming's start."""
    if len(start) < 5:
        return None
    starts: dict[str, str] = {}
    for f in files:
        for cut in (len(start) - 1, len(start) + 1, len(start)):
            head = f[:cut]
            if (
                len(f) > cut + len(end)
                and f.endswith(end)
                and head != start
                and (swapped_letters(head, start) or _one_edit(head, start))
            ):
                starts[f] = head
                break
    head, count = Counter(starts.values()).most_common(1)[0] if starts else ("", 0)
    if count < 2:
        return None
    alike = tuple(sorted(f for f, h in starts.items() if h == head))
    return TypeNameSlip(mtype, pattern, directory, head, alike, at_start=True)


def _bundle_name_slips(
    naming: Naming, present: list[str], files_below: Callable[[str, int], Iterable[str]]
) -> list[TypeNameSlip]:
    """`type_name_slips` of the types named by a directory and a literal file in it (LV2's
    `{name}-swh.lv2/plugin-linux.so`): no directory named so holds that file, while two or more
    that do end one letter off (an LV2 tester's `{name}-sw.lv2`: 94 strays, exit 1; the plan put
    every bundle in the core)."""
    out = []
    for mtype in naming.types:
        patterns = naming.patterns_of(mtype)
        shaped = [p for p in patterns if _bundle_shaped(p)]
        if not shaped or len(shaped) != len(patterns):
            continue
        for pattern in shaped:
            slip = _bundle_slip(mtype, pattern, present, files_below)
            if slip is not None:
                out.append(slip)
                break
    return out


def _bundle_shaped(pattern: str) -> bool:
    """Whether `{name}` is in a directory's name of `pattern`, and nothing else is a placeholder."""
    segments = pattern.split("/")
    at = [i for i, seg in enumerate(segments) if "{" in seg]
    return (
        len(at) == 1
        and at[0] < len(segments) - 1
        and segments[at[0]].count("{") == 1
        and "{name}" in segments[at[0]]
    )


def _bundle_slip(
    mtype: str, pattern: str, present: list[str], files_below: Callable[[str, int], Iterable[str]]
) -> TypeNameSlip | None:
    segments = pattern.split("/")
    k = next(i for i, seg in enumerate(segments) if "{name}" in seg)
    start, _, end = segments[k].partition("{name}")
    rest = "/".join(segments[k + 1 :])
    if len(end) < 3:
        return None
    for d in present:
        top = posixpath.join(d, *segments[:k]) if k else d
        inside = [f.partition("/") for f in files_below(top, rest.count("/") + 1) if f.startswith(start)]
        named = [(b, f) for b, _, f in inside if len(b) > len(start) + len(end) and b.endswith(end)]
        if any(f == rest for _, f in named):
            return None  # the type's bundles are named so
        # The directories one letter off (`{name}-sw.lv2`), or the file in them (`plugin-linx.so`).
        endings = {
            b: e for b, _, f in inside if f == rest and (e := _ending_near(b[len(start) :], end)) is not None
        }
        ending, count = Counter(endings.values()).most_common(1)[0] if endings else ("", 0)
        if count >= 2:
            alike = tuple(sorted(f"{b}/{rest}" for b, e in endings.items() if e == ending))
            return TypeNameSlip(mtype, pattern, top, ending, alike, "directories")
        files = {
            f"{b}/{f}": f
            for b, f in named
            if "/" not in f and (swapped_letters(f, rest) or _one_edit(f, rest))
        }
        held, count = Counter(files.values()).most_common(1)[0] if files else ("", 0)
        if count >= 2:
            alike = tuple(sorted(p for p, f in files.items() if f == held))
            return TypeNameSlip(mtype, pattern, top, held, alike, f"the *{end} directories' files", rest)
    return None


def _ending_near(rest: str, end: str) -> str | None:
    """The end of `rest` (a file name past the naming's start) one letter off `end`: one letter
    swapped, changed, added or left out, with a name before it."""
    for cut in range(1, len(rest)):
        tail = rest[cut:]
        if (
            abs(len(tail) - len(end)) <= 1
            and tail != end
            and (swapped_letters(tail, end) or _one_edit(tail, end))
        ):
            return tail
    return None


def _near_core(a: str, b: str) -> bool:
    """Whether what differs between `a` and `b`, once the start and end they share are set
    aside, is a slip of the keys rather than another word: an OBS tester's `obs-plugins`, absent
    on a machine without OBS, was "mistyped?" for `bfd-plugins` (0.82 by difflib's ratio, all of
    it the shared `-plugins`)."""
    import difflib  # only for a location that does not exist

    start = len(posixpath.commonprefix([a, b]))
    end = len(posixpath.commonprefix([a[start:][::-1], b[start:][::-1]]))
    x, y = a[start : len(a) - end], b[start : len(b) - end]
    return max(len(x), len(y)) <= 2 or difflib.SequenceMatcher(None, x, y).ratio() >= 0.5


def is_slip(a: str, b: str) -> bool:
    """Whether `a` and `b` differ as a typing slip does: one letter changed, added or left
    out, or two swapped."""
    return swapped_letters(a, b) or _one_edit(a, b)


def _one_edit(a: str, b: str) -> bool:
    """Whether `a` and `b` differ by one letter changed, added or left out."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return len(long) - len(short) == 1 and any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def naming_slip(names: Sequence[str]) -> str:
    """', or [loader] naming (...),' where every module name (two or more) starts or ends with the
    same separator, which the naming left out of its text (a Varnish tester's
    `libvmod{name}.so` made ids `_accept`..., and the error blamed the entry alone)."""
    if len(names) < 2:
        return ""
    for where, char in (("starts", names[0][:1]), ("ends", names[0][-1:])):
        if char in ("_", "-", ".") and all((n[:1] if where == "starts" else n[-1:]) == char for n in names):
            return f", or [loader] naming (every module's name {where} with {char!r}),"
    # A file-name suffix the naming left in every name (a CPython tester's `{name}.so` without
    # `{name}.cpython-311-x86_64-linux-gnu.so`: `_ssl.cpython-311-x86_64-linux-gnu`, and the
    # error blamed `entry`).
    tail = posixpath.commonprefix([n[::-1] for n in names])[::-1]
    cut = tail.find(".")
    if cut >= 0 and len(tail) - cut >= 3 and all(len(n) > len(tail) - cut for n in names):
        return f", or [loader] naming (every module's name ends with {tail[cut:]!r}),"
    return ""


@dataclass(frozen=True, slots=True)
class SearchLocation:
    """One place the loader searches.

    - `env`: `value` names an environment variable holding one directory (or, with `path_list`,
      a `:`-separated list); `fallbacks` are further variable names tried in order when it is
      not set (the first one set is used); with `replaces_rest`, once one of them is set the
      locations after this one are not searched; with `replaces_next`, only the one right after
      it (the default it stands in for: Csound's OPCODE6DIR64, R's R_LIBS_SITE, Enlightenment's
      E_HOME; the user's directory after it is still searched). `subdir` is searched under each directory the
      variable names rather than the directory itself (WeeChat's `$WEECHAT_EXTRA_LIBDIR/plugins`);
      `more_subdirs` are searched after it in each directory, before the next one ("" the
      directory itself, for `subdir` too: GTK tries `A/3.0.0`, then `A`, then `B/3.0.0` for
      GTK_PATH=A:B).
      With `ignore_empty`, a variable set to nothing is as if unset (xine's XINE_PLUGIN_PATH).
      `wheel_dir` (a directory relative to the prefix) is where wheels may put modules for a
      loader that finds them only through this variable: the user sets it to
      `<prefix>/<wheel_dir>` (LADSPA_PATH, WEECHAT_EXTRA_LIBDIR), and the modules go to
      `<wheel_dir>/<subdir>`.
    - `relocated`: `value` is a directory relative to the configured prefix. A relocatable build
      finds it from where its anchor is installed: the executable (in the loader's `bindir`),
      or, with `anchor`, a shared library of the program (its prefix-relative path).
    - `absolute`: `value` is an absolute directory, never relocated; it may hold `{pkgversion}`,
      `{home}`, `{xdg_data_home}` (`$XDG_DATA_HOME`, default `{home}/.local/share`) and
      `{xdg_config_home}` (`$XDG_CONFIG_HOME`, default `{home}/.config`).

    A `relocated` or `absolute` location with `replaces_rest` is the only one searched from there
    on when its directory exists (ALSA: `<libasound's dir>/alsa-lib` if it is there, else the
    configured directory, never both).
    """

    kind: SearchKind
    value: str
    optional: bool = False
    fallbacks: tuple[str, ...] = ()
    path_list: bool = False
    replaces_rest: bool = False
    replaces_next: bool = False
    anchor: str | None = None
    wheel_dir: str | None = None
    subdir: str | None = None
    more_subdirs: tuple[str, ...] = ()
    ignore_empty: bool = False  # set to nothing counts as unset (xine: getenv() && *value)

    @property
    def variables(self) -> tuple[str, ...]:
        return (self.value, *self.fallbacks) if self.kind == "env" else ()

    @property
    def subdirs(self) -> tuple[str, ...]:
        """The segments (`under`) searched below each directory the variable names, in order
        ("" the directory itself); none where it names the directories themselves."""
        return (self.subdir, *self.more_subdirs) if self.subdir is not None else ()

    def under(self, entries: Iterable[str]) -> list[str]:
        """The directories searched for the directories `entries` the variable names, in order."""
        if self.subdir is None:
            return list(entries)
        return [posixpath.join(e, sub) if sub else e for e in entries for sub in self.subdirs]

    @property
    def wheel_modules(self) -> str | None:
        """Where, relative to the prefix, wheels put this location's modules: `wheel_dir`, and
        `subdir` under it."""
        dirs = self.wheel_module_dirs
        return dirs[0] if dirs else None

    @property
    def wheel_module_dirs(self) -> tuple[str, ...]:
        """Every directory, relative to the prefix, where this location finds modules wheels
        put in `wheel_dir`: `subdir` under it, then each of `more_subdirs` (a GTK 4 tester's
        modules in `4.0.0/printbackends`, where the first of GTK_PATH's, `4.0.0/linux`, held
        none, were said to be unreachable)."""
        if self.wheel_dir is None:
            return ()
        subs = self.subdirs or ("",)
        return tuple(
            dict.fromkeys(
                posixpath.join(self.wheel_dir, sub) if sub and self.wheel_dir else sub or self.wheel_dir
                for sub in subs
            )
        )


def inside_prefix(value: str, prefix: str) -> str:
    """The entries of a wheels setting's `value` inside `prefix` (where the wheels put modules;
    not the default a listed variable keeps after them: `WheelWay.keep`)."""
    top = prefix.rstrip("/") + "/"
    return ":".join(e for e in value.split(":") if e == prefix or e.startswith(top)) or value


@dataclass(frozen=True, slots=True)
class WheelWay:
    """A variable a user sets once wheels are installed, and where it leads: `value` is the
    directory (relative to the prefix) to set it to, `modules` where the wheels put the modules
    it reaches (`value`, or a subdirectory of it), `mtype` the one type it reaches (a type's own
    variable: ImageMagick's MAGICK_CODER_MODULE_PATH), None for every type. `variables`: the
    variable and the ones it falls back to, any of which set means the user set it."""

    variable: str
    value: str
    modules: str
    mtype: str | None = None
    variables: tuple[str, ...] = ()
    more: tuple[str, ...] = ()  # further directories it reaches modules in (`under`'s others)
    listed: bool = False  # the variable holds a ':'-separated list of directories
    # Entries a listed variable keeps after `value`: the default it replaces once set (an Eye of
    # GNOME tester's XDG_DATA_DIRS=<venv dir> dropped /usr/share: the system's plug-ins, and
    # GLib's schemas, which eog aborts without).
    keep: tuple[str, ...] = ()

    @property
    def dirs(self) -> tuple[str, ...]:
        """Every directory, relative to the prefix, the variable reaches modules in."""
        return (self.modules, *self.more)

    def setting(self, prefix: str) -> tuple[str, str]:
        """(variable, value) for a program installed at `prefix` (`value` "" is the prefix
        itself, for a variable naming install prefixes: EDS_EXTRA_PREFIXES)."""
        value = posixpath.join(prefix, self.value) if self.value else prefix
        return self.variable, ":".join((value, *(k for k in self.keep if k != value)))

    def reaches(self, installed: str, rel: str, mtype: str) -> bool:
        """Whether the module of type `mtype` a wheel installs at `installed` (relative to the
        prefix; `rel`: its path under its search location) is found through this variable."""
        if self.mtype is None:
            return any(posixpath.join(d, rel) == installed for d in self.dirs)
        # A type's own variable names the directory the file's last segment is looked up in.
        return mtype == self.mtype and posixpath.dirname(installed) == self.modules


def _library_like(name: str) -> bool:
    """A file name (or pattern) a shared library has: `.so`, or `.so.` and a version."""
    name = name.lower()
    return name.endswith(".so") or ".so." in name


@lru_cache(maxsize=64)
def _naming_regex(pattern: str, types: tuple[str, ...]) -> re.Pattern[str]:
    out = []
    seen: set[str] = set()
    for literal, fieldname, _, _ in string.Formatter().parse(pattern):
        out.append(re.escape(literal))
        if fieldname in seen:
            # The same text again: GIMP's plug-ins are `{name}/{name}`.
            out.append(f"(?P={fieldname})")
        elif fieldname == "type":
            # Longest first so that a type that prefixes another cannot steal its files.
            alts = "|".join(re.escape(t) for t in sorted(types, key=len, reverse=True))
            out.append(f"(?P<type>{alts})")
        elif fieldname == "name":
            out.append("(?P<name>[^/]+?)")
        if fieldname is not None:
            seen.add(fieldname)
    return re.compile("".join(out) + r"\Z")


@lru_cache(maxsize=64)
def _any_placeholder(pattern: str) -> re.Pattern[str]:
    """`pattern` with any one segment's text for each placeholder: a `{type}` directory of a
    type the layout does not declare is still the modules' own (demo's `net/tap.so`)."""
    parts = string.Formatter().parse(pattern)
    return re.compile(
        "".join(re.escape(text) + ("[^/]+" if field else "") for text, field, _, _ in parts) + r"\Z"
    )


def _specificity(pattern: str) -> int:
    return len(re.sub(r"\{[^}]*\}", "", pattern))


@dataclass(frozen=True, slots=True)
class Naming:
    """How a module's file is named inside a module directory: `{type}-{name}.so`,
    `{type}/{name}.so` or `lib{name}.so`; `alternatives` are further patterns the loader also
    accepts, tried after `pattern` in order (a module may load from `name.so` or `libname.so`).
    `by_type` gives a type its own patterns (without `{type}`), for loaders whose types differ
    in more than a word: `storage-backend/libprog_storage_backend_{name}.so`."""

    pattern: str
    types: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    by_type: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Between the type and the name in a module id: QEMU's `block-curl`; rsyslog's own names,
    # what its users write in `module(load="imtcp")`, have none.
    id_separator: str = "-"

    @property
    def patterns(self) -> tuple[str, ...]:
        return (self.pattern, *self.alternatives)

    @property
    def typed(self) -> bool:
        return "{type}" in self.pattern or bool(self.by_type)

    def patterns_of(self, mtype: str) -> tuple[str, ...]:
        """The file-name patterns of one type, `{type}` filled in."""
        own = self.by_type.get(mtype)
        if own:
            return own
        return tuple(p.replace("{type}", mtype) for p in self.patterns)

    def _every_pattern(self) -> tuple[str, ...]:
        """The patterns some module type is named by: the top-level ones only where a type has
        no `by_type` patterns of its own (GIMP's layout names every type so, and its required
        top-level `{type}/{name}.so` made `depth` reach one level short)."""
        own = tuple(p for ps in self.by_type.values() for p in ps)
        return (*self.patterns, *own) if self._top_level_used() else own

    def depth(self) -> int:
        """How many directory levels below a module directory its file names reach."""
        return max(p.count("/") for p in self._every_pattern())

    def parse(self, relpath: str) -> tuple[str, str] | None:
        """(type, name) of a path relative to a module dir, or None if the loader would never
        look it up under this naming. Untyped naming gives type ''."""
        # The most specific pattern first: with `{name}.so` and `lib{name}.so`, `libx.so` is
        # module `x` (the loader asking for `libx` would be the odder reading).
        candidates: list[tuple[str, str | None]] = [(p, t) for t, ps in self.by_type.items() for p in ps]
        candidates += [(p, None) for p in self.patterns]
        for pattern, mtype in sorted(candidates, key=lambda c: -_specificity(c[0])):
            m = _naming_regex(pattern, self.types).match(relpath)
            if m is None:
                continue
            found = mtype if mtype is not None else (m.groupdict().get("type") or "")
            if mtype is None and found in self.by_type:
                continue  # that type's files are named by its own patterns only
            return (found, m.group("name"))
        return None

    def could_name(self, relpath: str) -> bool:
        """Whether a file at `relpath` (relative to a module directory) that no pattern parses
        sits where a module would: where a pattern puts module files, its name starting as that
        pattern's file names start, or above them in a directory of the modules' own (demo's
        ui-curses.so beside `{type}/`). Elsewhere it is someone else's file: libgphoto2's
        `libgphoto2/2.5.30/{name}.so` puts nothing beside libgphoto2.so.6 at the top of its
        location (the next directory down is a literal one, so others share that one), and
        `libnss_{name}.so.2` makes nothing of libc.so.6."""
        directory, _, base = relpath.rpartition("/")
        have = directory.split("/") if directory else []
        own = self._type_dirs()
        for pattern in self._every_pattern():
            pattern_dir, _, pattern_base = pattern.rpartition("/")
            want = pattern_dir.split("/") if pattern_dir else []
            if len(have) > len(want) or (
                have and not _any_placeholder("/".join(want[: len(have)])).match(directory)
            ):
                continue
            if len(have) == len(want):
                if not re.sub(r"\{[^}]*\}", "", pattern_base) and not self._declared_dirs(have, want):
                    # Any name fits `{name}`: a file of an undeclared type's directory is no sign
                    # of a module there (a CUPS tester's cgi-bin/*.cgi and daemon/cups-deviced
                    # beside backend/ and filter/, named `{type}/{name}`: strays, exit 1).
                    continue
                if _library_like(pattern_base) and not _library_like(base):
                    # Modules are libraries: a program beside them is none (a Bacula tester's
                    # bsmtp and bdirjson in the plug-in directory, `{name}-{type}.so`).
                    continue
                if self._starts_as(pattern_base, base):
                    return True
            elif (
                (
                    "{" in want[len(have)]
                    or (have and "{" in want[len(have) - 1])
                    or (not have and want[0] in own)
                )
                # Any name fits a bare `{name}`: above the type directories that is no sign of a
                # module (a MATE panel tester's `{type}/{name}` in /usr/lib: cpp, ld-linux.so.2
                # and 62 more were strays of a clean /usr, exit 1).
                and re.sub(r"\{[^}]*\}", "", pattern_base)
                and base.startswith(pattern_base.split("{", 1)[0])
                and base.endswith(pattern_base.rsplit("}", 1)[-1])
            ):
                # Above the modules' own directories, only a file named as module files are
                # (ui-curses.so beside ui/): Qt's program directory, searched for <dir>/<type>/,
                # holds moc and uic, which are no modules of any name. Or in one of them, above
                # where its file goes (an R tester's jsonlite/jsonlite.so for
                # jsonlite/libs/jsonlite.so: R fails, plan and check said nothing).
                return True
        return False

    def _starts_as(self, pattern_base: str, base: str) -> bool:
        """Whether a file name starts as the pattern's file names do. Where the name starts
        with the module type (FreeRADIUS's `{type}_{name}.so`), that is with a declared type,
        or in the pattern's shape (a module of a type the layout does not declare): the server's
        libfreeradius-eap.so, or a libz.so.1 an admin put in its libdir, start as no module does
        (a FreeRADIUS tester's: strays, exit 1, where the loader never looks at them)."""
        head, _, rest = pattern_base.partition("{")
        if not base.startswith(head):
            return False
        if not (rest.startswith("type}") and self.types):
            return True
        after = base[len(head) :]
        return any(after.startswith(t) for t in self.types) or bool(
            _any_placeholder(pattern_base).match(base)
        )

    def _declared_dirs(self, have: Sequence[str], want: Sequence[str]) -> bool:
        """Whether each directory of `have` that a pattern's `{type}` segment in `want` matches
        is a declared type's."""
        return all(
            "{type}" not in w or any(h == w.replace("{type}", t) for t in self.types)
            for h, w in zip(have, want, strict=False)
        )

    def names_nothing(self, relpath: str) -> bool:
        """Whether a pattern names the file with an empty `{name}` (Ettercap's `ec_.so` for
        `ec_{name}.so`, Sylpheed's `.so`): a name the loader may load, and qpack takes no module
        of (a module id cannot be empty)."""
        for t, ps in [(None, self.patterns), *self.by_type.items()]:
            for pattern in ps:
                types = (t,) if t is not None else (self.types or ("",))
                for mtype in types:
                    if pattern.replace("{type}", mtype or "").replace("{name}", "") == relpath:
                        return True
        return False

    def puts_modules_in(self, directory: str) -> bool:
        """Whether a pattern puts module files directly in `directory` (relative to a module
        directory; "" for the location itself), whatever their names."""
        have = directory.split("/") if directory else []
        for pattern in self._every_pattern():
            pattern_dir = pattern.rpartition("/")[0]
            want = pattern_dir.split("/") if pattern_dir else []
            if len(have) == len(want) and (not have or _any_placeholder(pattern_dir).match(directory)):
                return True
        return False

    def _type_dirs(self) -> set[str]:
        """Types' own directories spelled as the loader spells them (Audacious's `Input/{name}.so`
        for type input): the modules' own, as `{type}/` is: one directory, then the file."""
        return {p.partition("/")[0] for ps in self.by_type.values() for p in ps if p.count("/") == 1}

    def patterns_all(self) -> tuple[str, ...]:
        """Every pattern a module type is named by."""
        return self._every_pattern()

    def fixed_names(self) -> frozenset[str]:
        """The file names patterns end in that hold no placeholder (`{name}/manifest.json`)."""
        return frozenset(b for p in self._every_pattern() if "{" not in (b := p.rpartition("/")[2]))

    def named_almost(self, relpath: str) -> str | None:
        """The fixed file name a pattern ends in (Cockpit's `{name}/manifest.json`) that the file
        at `relpath`, where that pattern puts it, is a slip of: the same but for case, or for a
        letter or two at the same length or one off (`Manifest.json`, `manifest.jsn`; not a
        `manifest.json.bak`, a copy kept). None for any other file. A Cockpit tester's
        misnamed manifests were left in the core package, and check said nothing."""
        import difflib  # only for a file no pattern names, under a naming with a fixed file name

        directory, _, base = relpath.rpartition("/")
        for pattern in self._every_pattern():
            pattern_dir, _, fixed = pattern.rpartition("/")
            if "{" in fixed or base.startswith(fixed) or not pattern_dir or not directory:
                continue  # the name itself, or a copy kept beside it (`.bak`, `~`, `.dpkg-old`)
            if not _any_placeholder(pattern_dir).match(directory):
                continue
            near = (
                abs(len(base) - len(fixed)) <= 1 and difflib.SequenceMatcher(None, base, fixed).ratio() >= 0.9
            )
            if base.lower() == fixed.lower() or near:
                return fixed
        return None

    @property
    def names_libraries(self) -> bool:
        """Whether every pattern names a shared library (`.so`, `.so.N`): modules that are
        libraries, not programs (GCC's cc1, GIMP's plug-ins)."""
        return all(_library_like(p) for p in self._every_pattern())

    def owns_location(self) -> bool:
        """Whether a search location holds nothing but modules: some pattern puts its files at
        the top of the location or in a directory named by a placeholder. One whose patterns all
        start with a literal directory (`libgphoto2/2.5.30/{name}.so`) shares its location."""
        own = self._type_dirs()
        return any(
            not (d := p.rpartition("/")[0]) or d.startswith("{") or d in own for p in self._every_pattern()
        )

    def file_names(self, mtype: str, name: str) -> tuple[str, ...]:
        """The paths, relative to a module directory, the loader tries for a module, in order."""
        return tuple(p.replace("{name}", name) for p in self.patterns_of(mtype))

    def module_id(self, mtype: str, name: str) -> str:
        """The id used in dependencies, package templates and extras (QEMU: the file stem)."""
        return f"{mtype}{self.id_separator}{name}" if mtype else name

    def split_id(self, module_id: str) -> tuple[str, str] | None:
        """(type, name) of a module id, or None when no declared type starts it."""
        if not self.typed:
            return ("", module_id)
        for t in sorted(self.types, key=len, reverse=True):
            head = t + self.id_separator
            if module_id.startswith(head) and len(module_id) > len(head):
                return (t, module_id[len(head) :])
        return None

    def describe(self) -> str:
        own = "".join(f"; {t}: {' or '.join(map(repr, ps))}" for t, ps in self.by_type.items())
        if not self._top_level_used():
            return own[2:] + f" with types {', '.join(self.types)}"
        shown = " or ".join(repr(p) for p in self.patterns) + own
        return shown + (f" with types {', '.join(self.types)}" if self.typed else "")

    def _top_level_used(self) -> bool:
        """Whether some type is named by the top-level patterns (not every one by `by_type`)."""
        return not (
            self.types
            and all(t in self.by_type for t in self.types)
            and all("{type}" in p for p in self.patterns)
        )


@dataclass(frozen=True, slots=True)
class Module:
    """A file of a build (or prefix) that the loader looks up as module `id`."""

    id: str
    type: str
    name: str
    path: str


@dataclass(frozen=True, kw_only=True, slots=True)
class FoundModules:
    """What `Loader.find_modules` sees in a tree: the modules, in path order; the `.so` files
    in module directories that the loader never asks for (one warning each); and modules
    present under more than one path (the loader would only ever load one of them)."""

    modules: tuple[Module, ...]
    never_looked_up: tuple[str, ...]
    duplicates: Mapping[str, tuple[str, ...]]


def _matching_all(
    table: Mapping[str, tuple[str, ...]], keys: ModuleKeys, module_id: str
) -> tuple[str, ...] | None:
    """The values of every key of `table` (indexed as `keys`) that is `module_id` or a glob
    matching it, itself included; None when no key matches."""
    named = keys.naming(module_id)
    return tuple(dict.fromkeys(v for k in named for v in table[k])) if named else None


def module_file_globs(
    templates: Iterable[str], package: str, mtype: str, name: str, module_id: str
) -> tuple[str, ...]:
    """`[per-module] files` or `[modules.files]` globs filled in for one module in `package`."""
    # {dashed-name}: the name with `_` as `-`, as Debian spells it in file names (nginx's
    # module http_geoip ships modules-available/mod-http-geoip.conf).
    fill = {
        "{package}": package,
        "{module}": module_id,
        "{type}": mtype,
        "{name}": name,
        "{dashed-name}": name.replace("_", "-"),
        "{dashed-module}": module_id.replace("_", "-"),
    }
    out = []
    for g in templates:
        for key, value in fill.items():
            g = g.replace(key, value)
        out.append(g)
    return tuple(out)


def _braces_expanded(glob: str) -> list[str]:
    """`a{b,c}d{e,f}` as the names it stands for, each `{...,...}` group in turn."""
    m = re.search(r"\{([^{}]*,[^{}]*)\}", glob)
    if m is None:
        return [glob]
    return [x for alt in m[1].split(",") for x in _braces_expanded(glob[: m.start()] + alt + glob[m.end() :])]


def _matching(table: Mapping[str, tuple[str, ...]], keys: ModuleKeys, module_id: str) -> tuple[str, ...]:
    """The values of every key of `table` (indexed as `keys`) that is `module_id` or a glob
    matching it, the module's own key first, then in key order, without repeats and without the
    module itself."""
    out: dict[str, None] = dict.fromkeys(table.get(module_id, ()))
    for key in keys.naming(module_id):
        # Brace globs too (a WirePlumber tester's "{si-node,metadata}" matched nothing: the
        # layout takes them, fnmatch does not).
        if key != module_id:
            out.update(dict.fromkeys(table[key]))
    out.pop(module_id, None)
    return tuple(out)


@dataclass(frozen=True, kw_only=True, slots=True)
class Helper:
    """A program the loader runs (QEMU's qemu-bridge-helper, a plugin scanner): the path in the
    first of the variables `env` that is set, else `name` in `relocated` (a prefix-relative
    directory, found from the executable like a relocated search location, or from the library
    `anchor` when given) or in `absolute`."""

    name: str
    relocated: str | None = None
    absolute: str | None = None
    env: tuple[str, ...] = ()
    anchor: str | None = None


@dataclass(frozen=True, kw_only=True)
class Loader:
    """One program's module loader.

    - `prefix`: the install prefix it was configured with (a build's default `--prefix`);
    - `executables`: globs (`{prefix}/bin/qemu-system-*`) of the programs that load modules;
    - `bindir`: where those programs live, relative to the prefix (relocation starts there);
    - `search`: the directories searched, in order;
    - `naming`: module file names inside a module directory;
    - `stamp_symbol`: the symbol glob each module exports and each executable holds the exact
      name of (QEMU's `qemu_stamp_<hex>`), or None when the loader checks no build stamp;
    - `stamp_value`: with it, `stamp_symbol` names a data symbol each module defines, a C string
      (pppd's `pppd_version`, WeeChat's `weechat_plugin_api_version`) the program compares with
      its own: a glob of that string's shape, to find the program's among its data;
    - `stamp_optional`: a module without the stamp symbol loads (pppd only warns of a plug-in
      "with no version information"); one with another stamp is still refused;
    - `stamp_version`: a glob of private symbol version nodes (`PROG_PRIVATE_*`) that modules
      need and only the same build's program or library defines: a same-build check without an
      exported stamp;
    - `dependencies`: module id -> modules loaded first (a missing one: the module is not found);
    - `recommends`: module id -> modules that are useful beside it but not loaded first;
    - `module_programs`: module id (or glob) -> the only programs (globs) that load it
      (Dovecot's `<name>_binary_dependency`); the others never ask for it;
    - `known_modules`: the only module ids the loader ever looks up, when the program has a
      fixed table; None when any name fitting `naming` is looked up;
    - `resolution`: `first-found` (each module is looked up by name through the locations in
      order; the first existing file wins and the search stops there, even if it then fails to
      load: QEMU 7.2 and later), `first-loadable` (looked up the same way, but a file the
      dynamic linker refuses is passed over for the next one, as a loader that tries dlopen on
      each candidate does: FreeRADIUS; a same-build check failing still stops it) or
      `register-all` (every module file in every location is registered, in order; a module id
      seen twice keeps the first, even if it then fails to load: GIO) or `register-loadable`
      (registered the same way, but a file the dynamic linker refuses does not take the id:
      GStreamer blacklists it and registers a later copy);
    - `depth`: how many directory levels below a location `register-all` scans (beyond the
      levels the naming itself has, as in `{type}/{name}.so`);
    - `skip_hidden`: a file or directory whose name starts with '.' is never looked at (WeeChat
      reads its plugin directories so): no module, and no stray;
    - `unresolved_refused`: every symbol a module binds as it is loaded comes from the program,
      the libraries loaded with it, the module's own or another module found, so a symbol none
      of them defines is one the dynamic linker cannot bind (a plug-in built for another
      release); off by default, a process may hold objects qpack does not see;
    - `skip_names`: file-name globs the loader passes over (ConnMan, BlueZ and oFono skip
      `lib*`): no module, and a stray where it is a shared object, told why;
    - `binding`: how the loader opens modules, dlopen's RTLD_NOW (the default) or RTLD_LAZY (the
      X server): lazily, a call into another module is bound when first made, so a module
      calling one it does not declare still loads;
    - `skip_links`: no symlink is looked at, the loader takes regular files only (Babeltrace's
      directory walk, Shotwell); `skip_dangling` for links leading nowhere alone;
    - `skip_dangling`: a symlink leading nowhere is never looked at (Qt's directory listings
      leave them out: Krita, Marble, Qmmp, Qt Creator; Zathura and Inkscape take regular files
      only): no module, said in a note;
    - `entry_through_links`: a module file that is a symlink may define the entry of the module
      its target's file name is instead (uWSGI looks `python311_plugin` up again in
      `python3_plugin.so -> python311_plugin.so`, Debian's alternatives link);
    - `relocatable`: whether `relocated` locations follow the installed anchor (False: they
      are the configured absolute paths, as in Debian's QEMU since 8.2);
    - `bundle`: a directory next to the executable (QEMU's `qemu-bundle`) that, when it exists,
      takes precedence for every configured path: `<exe dir>/<bundle>/<configured path>`;
    - `library`: a glob (`{prefix}/lib/libgst*.so.*`) of the shared library that holds the loader,
      for frameworks whose library loads the plugins: every program of `bindir` that links it
      is a loader too, and the stamp name is read from the library;
    - `helpers`: programs the loader runs, which must be where it looks for them;
    - `type_env`: module type -> a variable that, when set, names the only directory searched
      for that type's modules (the file name's last segment is looked up there);
      `type_env_first`: the types whose variable's directories are searched first, before the
      search locations, rather than alone (GraphicsMagick's MAGICK_CODER_MODULE_PATH);
      `type_wheels`: module type -> the directory (relative to the prefix) that variable is to
      name once wheels are installed, for a loader that finds them only through it;
    - `module_table`: the kind of module table each executable holds, read statically where it
      has one (`qemu-modinfo`: QEMU's per-target table of names, target and dependencies);
    - `entry`: the symbols a module must define one of, which the loader looks up (a function
      it calls, or data: Kamailio's `exports`)
      (`g_io_module_load`; `gst_plugin_{name}_get_desc`, with `{name}`, `{type}`, `{module}`
      filled in per module); a file with none of them is refused; `type_entry`: a type's own
      (ALSA: `_snd_pcm_{name}_open` for pcm plugins, `_snd_pcm_rate_{name}_open` for rate);
    - `program_types`: (executable glob, module types) pairs: the only types a program matching
      the glob ever asks for (QEMU's tools: block drivers; a program built without module
      support: none), or module id globs (Dovecot's auth process: `auth` and the SQL drivers
      among the mail plugins, `mail-driver_*`); the first glob that matches counts, and a
      program matching none asks for every type;
    - `program_needs`: modules every program loads itself as it starts (rsyslogd's lmnet): one
      missing or failing, the program does not start, and loads no module;
    - `descriptor`: the file, in the directory of a module's file, that the loader registers the
      module by (libpeas's `{name}.plugin`, Atril's `{name}document.atril-backend`): a module
      file without it is never registered, and one present claims the module's name in its
      directory even where the module's file is missing (no later location is tried).

    `dependencies` and `recommends` keys may be globs (`storage-backend-*`): every module the
    glob matches has those dependencies.
    """

    prefix: str = "/usr"
    executables: tuple[str, ...]
    bindir: str = "bin"
    search: tuple[SearchLocation, ...]
    naming: Naming
    stamp_symbol: str | None = None
    stamp_value: str | None = None
    stamp_optional: bool = False
    stamp_version: str | None = None
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    recommends: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # [modules.files]: module id (or glob) -> the globs of that module's own other files, which
    # its package carries (an IBus component's engine program, an Inkscape extension's script).
    own_files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # module id (or glob) -> the only programs (globs) that load it ([modules.programs]).
    module_programs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    known_modules: frozenset[str] | None = None
    resolution: Resolution = "first-found"
    depth: int = 0
    skip_hidden: bool = False
    skip_names: tuple[str, ...] = ()
    skip_dangling: bool = False
    skip_links: bool = False
    binding: Literal["now", "lazy"] = "now"
    unresolved_refused: bool = False
    entry_through_links: bool = False
    relocatable: bool = True
    bundle: str | None = None
    library: str | None = None
    helpers: tuple[Helper, ...] = ()
    # Globs (`{prefix}` or absolute) of files the layout gives a package by name ([[package]]
    # files, a module's own files): none of them is a module misplaced, to `check` as to `plan`.
    named_files: tuple[str, ...] = ()
    # Those of them a [[package]]'s `files` gives: a file no ELF there is none of the modules.
    package_files: tuple[str, ...] = ()
    type_env: Mapping[str, str] = field(default_factory=dict)
    type_env_list: frozenset[str] = frozenset()  # types whose variable holds a ':'-separated list
    type_env_first: frozenset[str] = frozenset()  # types whose variable is searched first, not alone
    type_wheels: Mapping[str, str] = field(default_factory=dict)
    module_table: ModuleTable | None = None
    program_types: tuple[tuple[str, tuple[str, ...]], ...] = ()
    program_needs: tuple[str, ...] = ()
    entry: tuple[str, ...] = ()
    type_entry: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # File-name glob -> the module that runs such modules (ZNC's `*.py` by modpython, `*.pm` by
    # modperl): the loader looks them up by name as its modules, and hands them to that module.
    # Such a file is no ELF file to read; the module loads when its runner does.
    runners: Mapping[str, str] = field(default_factory=dict)
    descriptor: str | None = None

    def descriptor_of(self, path: str, module_id: str) -> str | None:
        """The path of the descriptor the loader registers module `module_id` by, whose file is
        at `path`, or None where the loader reads none. It is beside the deepest part of the
        path the naming puts the module's name in: the file (`lib{name}.so`), or the directory
        a package is (`{name}/__init__.py`: a gedit tester's Python plug-ins, whose keyfiles
        libpeas reads from the location, were looked for in their own directories)."""
        if self.descriptor is None:
            return None
        mtype, name = self.naming.split_id(module_id) or ("", module_id)
        base = self.descriptor.replace("{module}", module_id).replace("{type}", mtype).replace("{name}", name)
        if self.descriptor_literal:
            # One name for every module: in the module's own directory, beside its file (an LV2
            # tester's manifest.ttl in each bundle, looked for above `{name}.lv2/`).
            return posixpath.join(posixpath.dirname(path), base)
        tail = next(
            (t for p in self.naming.patterns_of(mtype) if path.endswith("/" + (t := _named_tail(p, name)))),
            posixpath.basename(path),
        )
        return posixpath.join(path[: len(path) - len(tail)].rstrip("/"), base)

    def literal_descriptor_modules(self, rel: str) -> tuple[str, ...]:
        """The ids of the modules whose directory holds a descriptor of one name at `rel` (under a
        location): those whose naming puts their file in that directory (LV2's bundles,
        `{name}.lv2/manifest.ttl` of `{name}.lv2/plugin-linux.so`)."""
        if not self.descriptor_literal or posixpath.basename(rel) != self.descriptor:
            return ()
        out = []
        for mtype in self.naming.types or ("",):
            for pattern in self.naming.patterns_of(mtype):
                head = pattern.rpartition("/")[0]
                if "{name}" in head and (got := Naming(pattern=f"{head}/{self.descriptor}").parse(rel)):
                    out.append(self.naming.module_id(mtype, got[1]))
        return tuple(dict.fromkeys(out))

    @property
    def descriptor_literal(self) -> bool:
        """Whether the descriptor's name holds no placeholder (LV2's `manifest.ttl`)."""
        return self.descriptor is not None and not any(
            k in self.descriptor for k in ("{module}", "{type}", "{name}")
        )

    def descriptor_modules(self, file_name: str) -> tuple[str, ...]:
        """The ids of the modules a descriptor named `file_name` may register (the converse of
        `descriptor_of`'s name): none for no descriptor's name, one of each type where the
        naming has types the name does not tell (`{name}.plugin` beside `{type}/{name}.so`)."""
        if self.descriptor is None:
            return ()
        pattern, seen = "", set()
        for part in re.split(r"(\{module\}|\{type\}|\{name\})", self.descriptor):
            key = part[1:-1] if part in ("{module}", "{type}", "{name}") else None
            if key is None:
                pattern += re.escape(part)
            else:
                pattern += f"(?P={key})" if key in seen else f"(?P<{key}>[^/]+?)"
                seen.add(key)
        m = re.fullmatch(pattern, file_name)
        if m is None:
            return ()
        got = m.groupdict()
        if got.get("module"):
            ids = [got["module"]]
        elif not self.naming.typed:
            ids = [got["name"]] if got.get("name") else []
        elif got.get("name"):
            types = [got["type"]] if got.get("type") else self.naming.types
            ids = [self.naming.module_id(t, got["name"]) for t in types]
        else:
            ids = []
        return tuple(i for i in ids if self.naming.split_id(i) is not None)

    def described_files(self, descriptor: str, module_id: str) -> tuple[str, ...]:
        """The module files a descriptor at `descriptor` registers module `module_id` by, one per
        pattern of its type (the converse of `descriptor_of`)."""
        mtype, name = self.naming.split_id(module_id) or ("", module_id)
        where = posixpath.dirname(descriptor)
        if self.descriptor_literal:
            return tuple(
                posixpath.join(where, p.rpartition("/")[2].replace("{name}", name))
                for p in self.naming.patterns_of(mtype)
            )
        return tuple(posixpath.join(where, _named_tail(p, name)) for p in self.naming.patterns_of(mtype))

    def runner_of(self, path: str) -> str | None:
        """The module that runs the module file at `path`, "" where the program itself reads it
        (no module to need), or None (a module of its own code)."""
        name = posixpath.basename(path)
        return next((r for glob, r in self.runners.items() if fnmatch.fnmatchcase(name, glob)), None)

    def with_runner(self, module_id: str, path: str, needs: tuple[str, ...]) -> tuple[str, ...]:
        """`needs`, what module `module_id` needs, with the module that runs its file at `path`."""
        runner = self.runner_of(path)
        return needs if not runner or runner == module_id or runner in needs else (*needs, runner)

    def with_runners(self, modules: Iterable[tuple[str, str]]) -> Loader:
        """This loader with each of `modules` ((module id, its file)) that a runner runs needing
        that runner, as `[modules.dependencies]` would say."""
        deps = dict(self.dependencies)
        for mid, path in modules:
            ours = self.deps_of(mid)
            if (needs := self.with_runner(mid, path, ours)) != ours:
                deps[mid] = (*deps.get(mid, ()), needs[-1])
        return self if deps == self.dependencies else dataclasses.replace(self, dependencies=deps)

    def entries_for(self, module_type: str) -> tuple[str, ...]:
        """The entry symbols (templates) a module of this type must define one of."""
        return self.type_entry.get(module_type, self.entry)

    def entry_symbols(self, module: str) -> tuple[str, ...]:
        """The entry symbols the loader calls in module `module` (it must define one), when the
        layout names them: the templates filled in, as C names."""
        split = self.naming.split_id(module) or ("", module)
        out = []
        for template in self.entries_for(split[0]):
            filled = (
                template.replace("{module}", module).replace("{type}", split[0]).replace("{name}", split[1])
            )
            filled = filled.replace("{NAME}", split[1].upper())  # ImageMagick: RegisterJPEGImage
            out.append(filled.replace("-", "_"))  # a C name: GStreamer's plugin names map '-' so too
        return tuple(out)

    def entries_named_by(self, path: str) -> tuple[str, ...]:
        """The entry symbols of the module a file's name (at `path`, its directory's last part
        counted for a typed naming) names, or none: what `entry_through_links` looks up in a
        link's target (uWSGI's python311_plugin in python311_plugin.so)."""
        base = posixpath.basename(path)
        rel = posixpath.join(posixpath.basename(posixpath.dirname(path)), base)
        parsed = self.parse_in_location(base) or self.parse_in_location(rel)
        return self.entry_symbols(self.naming.module_id(*parsed)) if parsed is not None else ()

    def every_entry(self) -> re.Pattern[str] | None:
        """One pattern matching every symbol name an entry template of any type can become
        (`{name}`, `{type}`, `{module}`, `{NAME}` standing for any C name), or None when a type
        of module has no entry: a file defining none of them is no module of any type, only a
        library (NetworkManager's libnm-wwan.so among its device plug-ins)."""
        types = self.naming.types or ("",)
        # A type whose files a runner runs (scripts: Gnumeric's py and pl plug-ins) has no ELF
        # entry to name: every ELF module is of the other types.
        types = tuple(ty for ty in types if not self._run_by_runners(ty)) or types
        if any(not self.entries_for(ty) for ty in types):
            return None
        return self.some_entry(types)

    def some_entry(self, types: Sequence[str] | None = None) -> re.Pattern[str] | None:
        """One pattern matching every symbol name an entry template of some type can become, or
        None when no type has one: what marks a file as a module of the types that have one (an
        ALSA tester's `conf` type, whose entries its configuration names, has `entry = []`; a
        pcm plug-in moved out of the plug-in directory was then split without a word)."""
        types = types or self.naming.types or ("",)
        # `{type}` and `{module}` filled with each type: FreeRADIUS's entry `{module}` is
        # `rlm_<name>`, not any C name (its libfreeradius-eap.so, which defines T_PRF, was a
        # module's file named otherwise, a stray, exit 1).
        templates = {
            t.replace("{module}", self.naming.module_id(ty, "{name}")).replace("{type}", ty) if ty else t
            for ty in types
            for t in self.entries_for(ty)
        }
        if not templates:
            return None
        parts = []
        for template in sorted(templates):
            pieces = re.split(r"\{(?:name|type|module|NAME)\}", template.replace("-", "_"))
            parts.append("[A-Za-z0-9_]+".join(re.escape(p) for p in pieces))
        return re.compile("|".join(parts))

    @property
    def script_may_load(self) -> bool:
        """Whether a program that is a script (`#!`) may be the modules' loader, its interpreter
        the process: where no module is a library it would dlopen (dracut's bash and Prosody's
        lua5.4 read theirs, `runners` ""; Munin's Perl runs its plug-ins as programs); a script
        beside `.so` modules wraps the ELF program that loads them (a Valgrind tester's
        bin/valgrind)."""
        types = self.naming.types or ("",)
        read = all(
            self._run_by_runners(t) and all(self.runner_of(p) == "" for p in self.naming.patterns_of(t))
            for t in types
        )
        return read or not self.naming.names_libraries

    def _run_by_runners(self, mtype: str) -> bool:
        """Whether every file name of type `mtype` is one a runner runs."""
        patterns = self.naming.patterns_of(mtype)
        return bool(self.runners) and bool(patterns) and all(self.runner_of(p) is not None for p in patterns)

    @property
    def registers_all(self) -> bool:
        """Every module file of every location is registered, not looked up by name."""
        return self.resolution in ("register-all", "register-loadable")

    @property
    def passes_over_unloadable(self) -> bool:
        """A file the dynamic linker refuses is passed over for the next one of its module."""
        return self.resolution in ("first-loadable", "register-loadable")

    def parse_in_location(self, rel: str) -> tuple[str, str] | None:
        """(type, name) of the file at `rel` under a search location, or None: its naming, and
        for a `register-all` loader scanning `depth` levels deeper, the naming of its last
        segments (`a/one.so` is module `one` with `{name}.so` and depth 1: GStreamer registers
        plugins in subdirectories)."""
        if self.skip_hidden and (rel.startswith(".") or "/." in rel):
            return None
        if self.skipped_name(rel) is not None:
            return None
        parsed = self.naming.parse(rel)
        if parsed is None and self.registers_all and self.depth:
            parts = rel.split("/")
            extra = len(parts) - 1 - self.naming.depth()
            if 0 < extra <= self.depth:
                parsed = self.naming.parse("/".join(parts[extra:]))
        return parsed

    def skipped_name(self, rel: str) -> str | None:
        """The `skip_names` glob the file name at `rel` matches, or None."""
        base = posixpath.basename(rel)
        return next((g for g in self.skip_names if fnmatch.fnmatchcase(base, g)), None)

    def could_be_module(self, rel: str) -> bool:
        """Whether a file at `rel` under a search location that is no module (`parse_in_location`)
        is where a module of another name would be (`Naming.could_name`, deeper for `depth`), or
        is one by its name but for `skip_names` (a ConnMan tester's libextra.so, skipped by the
        loader, was judged loading)."""
        if self.skip_hidden and (rel.startswith(".") or "/." in rel):
            return False
        if self.skipped_name(rel) is not None:
            return self.naming.parse(rel) is not None
        if self.naming.could_name(rel) or self.naming.names_nothing(rel):
            return True
        if self.registers_all and self.depth:
            parts = rel.split("/")
            extra = len(parts) - 1 - self.naming.depth()
            if 0 < extra <= self.depth:
                return self.naming.could_name("/".join(parts[extra:]))
        return False

    def wheel_settings(
        self, prefix: str, env: Mapping[str, str], holds: Callable[[str], bool]
    ) -> dict[str, str]:
        """The variables to set for a program at `prefix` to find the modules installed there
        from wheels (`wheel_ways`), where `env` sets none of a location's and
        `holds(directory)` says modules are there. None where the loader looks anyway: an
        absolute location (--prefix /usr for a loader built for /usr), or the relocated one at
        its own prefix; setting the variable there would list each module twice."""
        built_in = {posixpath.normpath(loc.value) for loc in self.search if loc.kind == "absolute"}
        if prefix == self.prefix:
            built_in |= {posixpath.join(prefix, loc.value) for loc in self.search if loc.kind == "relocated"}
        out: dict[str, str] = {}
        for way in self.wheel_ways():
            if any(v in env for v in way.variables):
                continue
            if any((where := posixpath.join(prefix, d)) not in built_in and holds(where) for d in way.dirs):
                variable, value = way.setting(prefix)
                if way.listed and variable in out and value not in out[variable].split(":"):
                    # One list variable for several types' directories (an Octave tester's
                    # OCTAVE_PATH for each package: set to one of them, the others were not found).
                    value = f"{out[variable]}:{value}"
                out[variable] = value
        return out

    @property
    def wheels_place_nothing(self) -> bool:
        """Whether no wheel can hold a module where the loader looks: it searches absolute
        directories only (Dovecot's compiled-in ones), with no variable's `wheels` directory and
        no bundle, so `split --format wheel` refuses every module."""
        return (
            self.bundle is None
            and not self.wheel_ways()
            and all(loc.kind == "absolute" for loc in self.search)
        )

    def wheel_ways(self) -> tuple[WheelWay, ...]:
        """The variables that lead a program installed from wheels to its modules: each env
        location's with a `wheels` directory, then each type's own with one."""
        ways = [
            WheelWay(
                loc.value,
                loc.wheel_dir,
                loc.wheel_modules or loc.wheel_dir,
                None,
                loc.variables,
                loc.wheel_module_dirs[1:],
                loc.path_list,
                self._default_entries(i),
            )
            for i, loc in enumerate(self.search)
            if loc.kind == "env" and loc.wheel_dir is not None
        ]
        ways += [
            WheelWay(self.type_env[t], d, d, t, (self.type_env[t],), listed=t in self.type_env_list)
            for t, d in self.type_wheels.items()
            if t in self.type_env
        ]
        return tuple(ways)

    def _default_entries(self, index: int) -> tuple[str, ...]:
        """The entries a listed variable (the search location at `index`) names the locations
        after it by, where it replaces them once set: `/usr/share` for XDG_DATA_DIRS with `under
        = "eog/plugins"` before `/usr/share/eog/plugins` (`replaces = "next"`); each absolute one
        after it with `replaces = true` (a Zathura tester's ZATHURA_PLUGINS_PATH and a GNOME
        Shell re-tester's XDG_DATA_DIRS: the advice set alone hid the system's modules, and the
        shell its /usr/share). None for a location not spelled so."""
        loc = self.search[index]
        if not (loc.path_list and (loc.replaces_next or loc.replaces_rest)):
            return ()
        tail = "/" + loc.subdir.strip("/") if loc.subdir else ""
        out = []
        for after in self.search[index + 1 : index + 2 if loc.replaces_next else None]:
            value = after.value.rstrip("/")
            # A user's own directory as the shell names it (a Vamp tester's VAMP_PATH advice
            # left out $HOME/vamp and $HOME/.vamp, hiding the user's plug-ins).
            if value.startswith("{home}/") and "{" not in value[len("{home}") :]:
                value = "$HOME" + value[len("{home}") :]
            if after.kind != "absolute" or "{" in value or not value.endswith(tail):
                continue
            if (entry := value[: len(value) - len(tail)]).startswith(("/", "$HOME/")):
                out.append(entry)
        return tuple(dict.fromkeys(out))

    @staticmethod
    def as_checked(
        settings: Mapping[str, str], env: Mapping[str, str], exists: Callable[[str], bool] | None = None
    ) -> dict[str, str]:
        """`wheel_settings` as the program sees them once a shell has set them: `$HOME/...`
        entries (a user's own directories a replacing list keeps) as the HOME `env` gives, and
        left out without one, as a `{home}` location with no HOME is. The loader itself expands
        nothing (a Vamp re-tester: `VAMP_PATH='$HOME/.vamp'` finds nothing), so only the advice
        is read so. With `exists`, the entries that name no directory are left out too: they
        add nothing to the check, and qpack wrote them into the advice itself (a DSSI tester's
        `list` of a venv warned three times that the system's default directories were none)."""
        home = env.get("HOME", "").rstrip("/")
        out = {}
        for var, value in settings.items():
            entries = [
                (home + e[len("$HOME") :] if home.startswith("/") else None) if e.startswith("$HOME/") else e
                for e in value.split(":")
            ]
            out[var] = ":".join(e for e in entries if e is not None and (exists is None or exists(e)))
        return out

    @property
    def variables(self) -> tuple[str, ...]:
        """Every environment variable this loader reads: its search locations', its types' own
        and its helpers'."""
        names = [v for loc in self.search for v in loc.variables]
        names += [*self.type_env.values(), *(v for h in self.helpers for v in h.env)]
        return tuple(dict.fromkeys(names))

    def asks_for(self, program: str, module_id: str, prefix: str | None = None) -> bool:
        """Whether the program at `program` (installed at `prefix`: the layout's by default)
        ever asks for module `module_id`: its type, or a glob of module ids, is among the
        program's `program_types`, or the program has none."""
        pre = self.prefix if prefix is None else prefix
        only = _matching_all(self.module_programs, self._program_keys, module_id)
        if only is not None and not any(
            compile_glob(expand_prefix(g, pre)).fullmatch(program.lstrip("/")) for g in only
        ):
            return False
        entries = self.types_for(program, prefix)
        if entries is None:
            return True
        split = self.naming.split_id(module_id)
        return any(
            (split is not None and split[0] == e)
            if e in self.naming.types
            else module_glob_matches(e, module_id)
            for e in entries
        )

    def types_for(self, program: str, prefix: str | None = None) -> tuple[str, ...] | None:
        """The module types (and module id globs) the program at `program` (a path as
        installed, `/usr/bin/qemu-img`) asks for, or None for every module."""
        pre = self.prefix if prefix is None else prefix
        for glob, types in self.program_types:
            if compile_glob(expand_prefix(glob, pre)).fullmatch(program.lstrip("/")):
                return types
        return None

    # Indexed once per loader (a frozen dataclass: cached_property writes past its __setattr__).
    @cached_property
    def _dependency_keys(self) -> ModuleKeys:
        return ModuleKeys(self.dependencies)

    @cached_property
    def _recommend_keys(self) -> ModuleKeys:
        return ModuleKeys(self.recommends)

    @cached_property
    def _program_keys(self) -> ModuleKeys:
        return ModuleKeys(self.module_programs)

    @cached_property
    def _own_file_keys(self) -> ModuleKeys:
        return ModuleKeys(self.own_files)

    def own_file_paths(self, module_id: str, prefix: str) -> tuple[str, ...]:
        """The paths of a module's own files ([modules.files]) that name one file under the
        prefix: `{prefix}/...` filled in for the module, with no wildcard and no `{package}`
        (which only the plan knows)."""
        mtype, name = self.naming.split_id(module_id) or ("", module_id)
        templates = [
            t
            for t in _matching(self.own_files, self._own_file_keys, module_id)
            if t.startswith("{prefix}/") and "{package}" not in t
        ]
        out = []
        for template in module_file_globs(templates, "", mtype, name, module_id):
            # Each `{a,b}` is one file each (IBus's `ibus-{engine,setup}-hangul`).
            for path in _braces_expanded("/" + expand_prefix(template, prefix)):
                if not any(c in path for c in "*?[]{},"):
                    out.append(path)
        return tuple(dict.fromkeys(out))

    def deps_of(self, module_id: str) -> tuple[str, ...]:
        return _matching(self.dependencies, self._dependency_keys, module_id)

    def recommends_of(self, module_id: str) -> tuple[str, ...]:
        return _matching(self.recommends, self._recommend_keys, module_id)

    def executable_globs(self, prefix: str | None = None) -> tuple[str, ...]:
        """Build-root-relative globs of the executables, for a build staged at `prefix`."""
        pre = self.prefix if prefix is None else prefix
        return tuple(expand_prefix(g, pre) for g in self.executables)

    @property
    def stamp_spec(self) -> str | None:
        """What the scan and the ELF readers look for: the stamp symbol's glob, or for a stamp
        compared by value `SYMBOL=GLOB` (`elf.value_stamp`)."""
        if self.stamp_symbol is None or self.stamp_value is None:
            return self.stamp_symbol
        return f"{self.stamp_symbol}={self.stamp_value}"

    def loader_globs(self, prefix: str | None = None) -> tuple[str, ...]:
        """The executables' globs and the loader library's: the files that make a package the
        core (a framework's core may hold no program at all, only the library)."""
        pre = self.prefix if prefix is None else prefix
        library = (expand_prefix(self.library, pre),) if self.library is not None else ()
        return (*self.executable_globs(prefix), *library)

    def module_dirs(self, prefix: str | None = None) -> tuple[str, ...]:
        """Build-root-relative globs of the directories where modules are installed
        (`{pkgversion}` matches any one path segment), an env location's `wheels` directory
        among them."""
        pre = (self.prefix if prefix is None else prefix).strip("/")
        dirs = []
        for loc in self.search:
            if (default := self.default_dir(loc, pre)) is not None:
                dirs.append(default)
            else:
                dirs += [f"{pre}/{where}" if pre else where for where in loc.wheel_module_dirs]
        for mtype, where in self.type_wheels.items():
            # The type's variable names the directory its files' last segment is in: the
            # location is where its patterns' own directories hang from (ImageMagick's
            # `.../modules-Q16` for `coders/{name}.so` in `.../modules-Q16/coders`).
            for pattern in self.naming.patterns_of(mtype):
                sub = posixpath.dirname(pattern)
                if not sub:
                    base = where
                elif where.endswith("/" + sub):
                    base = where[: -len(sub) - 1]
                else:
                    continue  # not where such files are: the split says so (`_placement`)
                dirs.append(f"{pre}/{base}" if pre else base)
        return tuple(dict.fromkeys(dirs))

    def default_module_dirs(self, prefix: str | None = None) -> tuple[str, ...]:
        """Of `module_dirs`, those the loader searches with no variable set: its relocated
        and absolute locations."""
        pre = (self.prefix if prefix is None else prefix).strip("/")
        return tuple(d for loc in self.search if (d := self.default_dir(loc, pre)) is not None)

    @staticmethod
    def default_dir(loc: SearchLocation, pre: str) -> str | None:
        """The build-root-relative glob of a relocated or absolute location, else None. A
        per-user location ({home}, {xdg_config_home}: HexChat's addons) is no directory of a
        build or of a prefix installed to: only `check` looks there."""
        if loc.kind == "relocated":
            return f"{pre}/{loc.value}" if pre else loc.value
        if loc.kind == "absolute" and loc.value.startswith("/"):
            return loc.value.strip("/").replace("{pkgversion}", "*")
        return None

    def scan(
        self,
        root: Path | str,
        prefix: str | None = None,
        *,
        progress: Progress | None = None,
        jobs: int | None = None,
    ) -> Inventory:
        """Inventory of a build staged at `prefix` (default: this loader's), reading what the
        loader needs: the stamp symbol modules export and the stamp name executables hold."""
        from qpack.inventory import scan

        pre = self.prefix if prefix is None else prefix
        if not pre.startswith("/") or ".." in pre.split("/") or "\0" in pre:
            raise BuildError(
                f"--prefix {pre!r}: must be an absolute path without '..' (where the build was staged)"
            )
        return scan(
            root,
            pre,
            stamp_glob=self.stamp_spec,
            executables=self.loader_globs(pre),  # the library holds the stamp name too (VLC)
            progress=progress,
            jobs=jobs,
        )

    def find_modules(self, inventory: Inventory | Iterable[str], prefix: str | None = None) -> FoundModules:
        """Modules of a tree: files in a module directory named as the loader looks them up.
        Takes an Inventory (its prefix is the default) or plain build-root-relative paths."""
        # An Inventory exists only once qpack.inventory is imported; not importing it here keeps
        # its imports (the scan cache, the thread pools) off `install`'s path, 5-10 ms.
        scanned = sys.modules.get("qpack.inventory")
        elf: Mapping[str, bool] = {}  # ELF or not, where the scan read it
        no_elf: set[str] = set()  # named as a library, and read as no ELF file at all
        dangling: set[str] = set()  # links to nothing in the build, which `skip_dangling` passes over
        if scanned is not None and isinstance(inventory, scanned.Inventory):
            pre = inventory.prefix if prefix is None else prefix
            paths: Iterable[str] = (e.path for e in inventory.files())
            # ELF or not by its magic: a corrupt ELF file is one (its module is then unreadable).
            # A relocatable object (`.o`) is none that anything loads: a Node tester's
            # obj.target/**/*.o were "deeper than the loader looks", 16 warnings a scan.
            elf = {
                e.path: (e.elf is not None and e.elf.elf_type != "ET_REL")
                or (e.elf is None and e.elf_error not in (None, *scanned.NOT_ELF_ERRORS))
                for e in inventory.files()
                if e.kind == "file"
            }
            no_elf = {e.path for e in inventory.files() if e.elf_error == scanned.NOT_ELF_ERRORS[0]}
            # A symlink is what it leads to inside the build (libpurple's libirc.so ->
            # libirc.so.0.0.0 was "no ELF", so no module of a register-loadable loader, where
            # check, following the link, found one); one leading out of the build or nowhere is
            # left unknown, and the plan says what is wrong with it.
            by_link = {e.path: e.target or "" for e in inventory.entries if e.kind == "symlink"}
            for link in by_link:
                end = scanned.link_end(link, by_link)
                if end is not None and end in elf:
                    elf[link] = elf[end]
            # No module, as check says (a Qmmp re-tester's plan made one of a link to nothing
            # the loader passes over, and its wheel split failed).
            there = {e.path for e in inventory.entries} if self.skip_dangling else set()
            dangling = {
                link
                for link, target in by_link.items()
                if self.skip_links
                or (
                    self.skip_dangling
                    and not target.startswith("/")
                    and (scanned.link_end(link, by_link) or "") not in there
                )
            }
            # A search directory that is a symlink to a directory of the build is searched
            # there (nginx's usr/share/nginx/modules -> ../../lib/nginx/modules), as check,
            # following it on disk, searches it.
            linked = [] if self.skip_links else scanned.linked_dirs(inventory, self.module_dirs(pre))
        else:
            pre = self.prefix if prefix is None else prefix
            paths = cast("Iterable[str]", inventory)
            linked = []
        paths = list(paths)
        dir_res = [compile_glob(d) for d in (*self.module_dirs(pre), *linked)]
        # A file that is no ELF at all, which a [[package]] gives a package by name, is none of the
        # modules (a bash tester's Makefile.inc and loadables.h beside the `{name}` builtins:
        # three refused modules, an extra each, and check of Debian's own /usr exit 1).
        named = [compile_glob(expand_prefix(g, pre).lstrip("/")) for g in self.package_files]
        modules: list[Module] = []
        warnings: list[str] = []
        # Where the module directory ends among a path's segments depends only on its parent
        # directory: worked out once per directory, not once per file.
        cuts: dict[str, tuple[int, ...]] = {}
        for path in paths:
            parts = path.split("/")
            parent = path.rpartition("/")[0]
            if parent not in cuts:
                cuts[parent] = self._module_dir_ends(parts, dir_res)
            here = cuts[parent]
            if not here:
                continue
            # One search directory inside another (CPython's lib/python3.11, then its
            # lib-dynload): the file is the module of the first whose naming it fits.
            cut = next((c for c in here[1:] if self.parse_in_location("/".join(parts[c:]))), here[0])
            if (elf.get(path) is False and any(r.match(path) for r in named)) or path in dangling:
                continue
            verdict = self._look_up(path, "/".join(parts[cut:]), elf.get(path), path in no_elf)
            if isinstance(verdict, Module):
                modules.append(verdict)
            elif verdict is not None:
                warnings.append(verdict)
        if self.known_modules is not None:
            warnings = self._known_hints(warnings, {m.id for m in modules})
        warnings += self._other_versions(paths, pre)
        ids: dict[str, list[str]] = {}
        for m in modules:
            ids.setdefault(m.id, []).append(m.path)
        return FoundModules(
            modules=tuple(modules),
            never_looked_up=tuple(warnings),
            duplicates={mid: tuple(p) for mid, p in sorted(ids.items()) if len(p) > 1},
        )

    def _other_versions(self, paths: list[str], prefix: str) -> list[str]:
        """Warnings for files named as modules in a directory named as a location is but for its
        version's digits (`other_version_dir`: SoapySDR's `modules0.7` beside `modules0.8`,
        pppd's `2.4.8` beside `2.4.9`, libproxy's `0.4.17/modules`): another release's
        directory, which the loader never reads (a SoapySDR tester's plug-in moved there went
        to the core package in silence)."""
        dirs = [d for d in self.module_dirs(prefix) if not any(c in d for c in "*?[{")]
        by_shape: dict[str, list[str]] = {}  # a location with its digits as 0 -> the locations
        for d in dirs:
            if re.search(r"\d", d):
                by_shape.setdefault(re.sub(r"\d+", "0", d), []).append(d)
        if not by_shape:
            return []
        searched = set(dirs)
        out = []
        depth = self.naming.depth()
        for path in paths:
            parts, shapes = path.split("/"), re.sub(r"\d+", "0", path).split("/")
            # The file's directory, or one above it as deep as the naming reaches (libvisual's
            # `libvisual-0.5/actor/x.so` beside the location `libvisual-0.4`, `{type}/{name}.so`).
            for up in range(1, min(depth + 1, len(parts) - 1) + 1):
                head = "/".join(parts[:-up])
                if head in searched:
                    break
                if (shaped := by_shape.get("/".join(shapes[:-up]))) is None:
                    continue
                beside = [d for d in shaped if other_version_dir(head, d)]
                if beside and self.parse_in_location("/".join(parts[-up:])) is not None:
                    out.append(_other_version_warning(path, head, beside[0]))
                    break
        return out

    @staticmethod
    def _module_dir_ends(parts: list[str], dir_res: list[re.Pattern[str]]) -> tuple[int, ...]:
        """How many leading segments of a path (`parts`) may be its module directory, in search
        order: for each module dir glob that matches an ancestor (a glob may contain '*' for
        {pkgversion}), the longest such ancestor; empty outside every module directory."""
        ends: dict[int, None] = {}
        for dir_re in dir_res:
            cut = next((c for c in range(len(parts) - 1, 0, -1) if dir_re.match("/".join(parts[:c]))), None)
            if cut is not None:
                ends[cut] = None
        return tuple(ends)

    def _look_up(
        self, path: str, rel: str, elf: bool | None = None, no_elf: bool = False
    ) -> Module | str | None:
        """The module a file in a module directory is, a warning why the loader never asks for
        it, or None for a file that is no module and does not look like one: not where a module
        would be (`could_be_module`), or neither named `.so` nor an ELF file (`elf`, where the
        scan read it)."""
        naming = self.naming
        parsed = self.parse_in_location(rel)
        if parsed is not None and elf is False and self.resolution == "register-loadable":
            return None  # dlopen refuses a file that is no ELF: no module (check's `_sort`)
        if parsed is not None:
            mid = naming.module_id(*parsed)
            if self.known_modules is None or mid in self.known_modules:
                return Module(mid, parsed[0], parsed[1], path)
            if no_elf or (elf is False and not (rel.endswith(".so") or ".so." in rel)):
                # Read, and no ELF file: a known loader asks for none of its names (a GCC
                # tester's libgomp.spec beside cc1, under `{name}`), as check judges it.
                return None
            # A typo in `known` (an LXQt tester's "backlite") shows as its module's absence; the
            # names it lists near this one are offered once every file is read (`_known_hints`).
            return (
                f"{path}: in a module directory, but the loader never looks up this name (module {mid!r}"
                + _NOT_KNOWN
            )
        # Read and no ELF file at all (a libcamera tester's ipa_vimc.so.sign, a signature): no
        # module of any name, as check judges it; one cut short still is a stray. Unless named as
        # a descriptor naming's file is (Cockpit's manifest.json), or almost (`named_almost`).
        descriptor = rel.rpartition("/")[2] in naming.fixed_names() or naming.named_almost(rel) is not None
        if not descriptor and (no_elf or not (elf or rel.endswith(".so") or ".so." in rel)):
            return None
        return self._never_looked_up(path, rel)

    def _known_hints(self, warnings: list[str], found: set[str]) -> list[str]:
        """The not-in-known warnings with the id `known` lists near theirs, among those that name
        no file of the tree: a GVfs tester's "stfp" for "sftp" was offered 'ftp', a module the
        build has."""
        import difflib  # only for a file named as no known module

        spare = sorted((self.known_modules or frozenset()) - found)
        out = []
        for w in warnings:
            head, sep, _ = w.partition(_NOT_KNOWN)
            if (
                sep
                and (mid := head.rpartition("(module ")[2].strip("'\""))
                and (close := difflib.get_close_matches(mid, spare, n=1, cutoff=0.6))
            ):
                w = f"{head} is not in modules.known; modules.known lists {close[0]!r}: a typo?)"
            elif sep:
                w = f"{head} is not in modules.known)"
            out.append(w)
        return out

    def _never_looked_up(self, path: str, rel: str) -> str | None:
        """Why the loader never looks up a file at `rel` that looks like a module, or None."""
        naming = self.naming
        if (fixed := naming.named_almost(rel)) is not None:
            return (
                f"{path}: in a module directory, named almost as {fixed!r}, the name the loader reads "
                f"(modules are named {naming.describe()}): never looked up (a slip of the name?)"
            )
        if self.naming.names_nothing(rel):
            return (
                f"{path}: in a module directory, named as modules are with an empty name, which qpack "
                "takes as no module (a module id cannot be empty; the loader may load it)"
            )
        if (glob := self.skipped_name(rel)) is not None and self.could_be_module(rel):
            # A file that is no module at all is named in a [[package]] `files` glob, which says so
            # (a sudo tester's sudo_noexec.so, a library preloaded into commands, kept the warning).
            return (
                f"{path}: in a module directory, but the loader skips names matching {glob!r} (skip-names; "
                "if it is no module, name it in a [[package]] `files` glob)"
            )
        if self.could_be_module(rel):
            return (
                f"{path}: in a module directory, but the loader never looks up this name "
                f"(modules are named {naming.describe()})"
            )
        if (levels := self.too_deep(rel)) is not None:
            return (
                f"{path}: in a module directory, but deeper than the loader looks "
                f"({levels}; modules are named {naming.describe()})"
            )
        return None

    def too_deep(self, rel: str) -> str | None:
        """How deep the loader reads, where a file at `rel` in a location it owns lies below
        that and is named as a module's file starts (check and plan say it is misplaced), or
        None."""
        naming = self.naming
        reach = naming.depth() + (self.depth if self.registers_all else 0)
        # Where modules are libraries, a deeper file named as none is a module's helper program,
        # not a module misplaced (an fcitx5 tester's libexec/comp-spell-dict was called one);
        # where they are programs (GIMP's `{name}/{name}`), any ELF file may be one.
        base = rel.rpartition("/")[2].lower()
        libraries = naming.names_libraries
        # Named as a pattern's files start, where they all start so (an NSS tester's libc
        # gconv/*.so, 200 warnings beside `libnss_{name}.so.2`).
        starts = {p.rpartition("/")[2].split("{", 1)[0].lower() for p in naming.patterns_all()}
        named = "" in starts or any(base.startswith(h) for h in starts)
        if not (
            rel.count("/") > reach
            and naming.owns_location()
            and (_library_like(base) or not libraries)
            and named
        ):
            return None
        # Below where the loader reads: Xorg's drivers one level deeper than a layout's depth,
        # a GIMP plug-in in plug-ins/deep/deep/deep, a MariaDB tester's plugin/sub/disks.so.
        if reach == 0:
            return "it reads only the files directly in the location"
        return f"{reach} directory level(s) below the location"
