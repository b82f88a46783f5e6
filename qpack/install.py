"""Install split wheels through the `installer` library, transactionally, and pick them by extras.

- `read_wheel` / `DistDir`: what a directory of wheels offers (names, versions, requirements,
  the meta wheel's extras), read from each wheel's METADATA;
- `select` / `DistDir.choose`: the wheels a selection needs, following the meta wheel's extras
  and then every wheel's Requires-Dist, each pinned requirement checked against the wheel found;
- `check_wheel`: one wheel refused or accepted before anything is written: no duplicate, symlink
  or non-regular entry, no absolute, `..`, backslash or `__pycache__` path, RECORD validated
  (`WheelFile.validate_record`: every entry listed, hashes and sizes right) and listing nothing
  the archive lacks, every file mapped into its scheme directory;
- `install`: under the prefix lock (`qpack.transaction`), with the loader model: what is
  already installed is skipped (but recorded as asked for where it was not: `_marks`); a
  module whose version differs from the installed core's, or whose stamp the installed
  executables do not hold, is refused naming both; no file another distribution owns (or no
  distribution owns) is overwritten; then every wheel is written by `installer.install` into a
  journaled destination, all or nothing; then `qpack.check` says which of the modules
  installed will load.
- `install_wheels`: the same transaction for given wheel files, without a loader.

`install` writes `REQUESTED` (PEP 376: installed on request) into the `.dist-info` of the
distributions named and of the core, not into those installed only as dependencies (uninstall
removes those with the last module that needs them), and `qpack.json` with the layout, so that
`qpack list` and `qpack uninstall` know the loader without `-l`. The meta wheel is only read for
its extras, not installed (unless named itself).
"""

from __future__ import annotations

import base64
import csv
import email.parser
import hashlib
import io
import json
import os
import posixpath
import re
import stat
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

import installer
from installer.destinations import WheelDestination
from installer.exceptions import InstallerError
from installer.records import Hash, RecordEntry, parse_record_file
from installer.sources import WheelFile
from installer.utils import Scheme, construct_record_file, fix_shebang
from packaging.version import Version

from qpack._threads import map_on_threads
from qpack._unzip import read_entry
from qpack.dist_info import PACKAGE_FILE, RECOMMENDED_EXTRA, declaration, normalize_extra, optional_core
from qpack.elf import ElfReadError, held_stamps_pyelftools, read_elf_pyelftools, read_link_facts, stamp_value
from qpack.errors import QpackError, did_you_mean
from qpack.installed import (
    QPACK_FILE,
    SCHEMES,
    InstalledSet,
    Req,
    Roles,
    as_declared,
    canonicalize_name,
    executables_on_disk,
    host_path,
    program_prefix,
    roles,
    scheme_paths,
)
from qpack.loader import Loader, inside_prefix
from qpack.transaction import DirPlanner, StepHook, Transaction, TxPlan, locked

if TYPE_CHECKING:  # the check is imported after the install, when it runs
    from packaging.utils import NormalizedName

    from qpack.check import CheckReport, ModuleVerdict

__all__ = [
    "SCHEMES",
    "CheckedWheel",
    "DistDir",
    "InstallError",
    "InstallReport",
    "Installed",
    "WheelInfo",
    "check_wheel",
    "install",
    "install_wheels",
    "read_wheel",
    "scheme_paths",
    "select",
]


class InterruptedAfterInstall(QpackError):
    """Ctrl-C once the install was committed: it stands, and the status says interrupted."""

    exit_status = 130


class InstallError(QpackError):
    """Wheels cannot be selected or installed as asked."""


@dataclass(frozen=True)
class WheelInfo:
    path: Path
    name: NormalizedName
    version: Version
    requires: tuple[Req, ...]  # each answering as packaging's Requirement
    extras: frozenset[str]


# A wheel file name of the plain form qpack writes (NAME-VERSION-PY-ABI-PLATFORM.whl, the
# version release numbers only), read here; any other is parsed by packaging.utils, whose import
# (packaging.tags, platform, subprocess, logging) an install otherwise does without.
_PLAIN_WHEEL = re.compile(r"([A-Za-z0-9_.]+)-([0-9]+(?:\.[0-9]+)*)-[^-]+-[^-]+-[^-]+\.whl")


def _wheel_name_version(path: Path) -> tuple[NormalizedName, Version]:
    """The distribution name and version a wheel's file name gives, as packaging's
    `parse_wheel_filename` reads them."""
    plain = _PLAIN_WHEEL.fullmatch(path.name)
    if plain is not None and "__" not in plain[1]:
        return canonicalize_name(plain[1]), Version(plain[2])
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        name, version, _, _ = parse_wheel_filename(path.name)
    except InvalidWheelFilename as e:
        raise InstallError(f"{path}: not a wheel file name ({e})") from None
    return name, version


def _wheel_name(path: Path) -> NormalizedName:
    return _wheel_name_version(path)[0]


def _dist_info(path: Path) -> str:
    """The `.dist-info` directory of the wheel at `path`, as its file name gives it."""
    name, version = path.name.split("-")[:2]
    return f"{name}-{version}.dist-info"


def read_wheel(path: Path) -> WheelInfo:
    """Name, version, requirements and extras of a wheel, from its file name and METADATA."""
    path = Path(path)
    name, version = _wheel_name_version(path)
    try:
        with zipfile.ZipFile(path) as zf:
            text = zf.read(f"{_dist_info(path)}/METADATA").decode("utf-8")
    except (OSError, zipfile.BadZipFile, KeyError) as e:
        raise InstallError(f"{path}: cannot read the wheel's METADATA ({e})") from None
    msg = email.parser.HeaderParser().parsestr(text)
    try:
        requires = tuple(Req(r) for r in msg.get_all("Requires-Dist") or ())
    except ValueError as e:  # packaging's InvalidRequirement
        raise InstallError(f"{path}: invalid Requires-Dist ({e})") from None
    extras = frozenset(str(canonicalize_name(e)) for e in msg.get_all("Provides-Extra") or ())
    return WheelInfo(path, name, version, requires, extras)


class DistDir:
    """The wheels of one split: one per distribution name. Each wheel's METADATA is read when
    the selection first needs it: installing 10 modules of a split of 100 reads about 12."""

    def __init__(self, files: Mapping[NormalizedName, Path], meta_name: str | None = None) -> None:
        self.files = dict(files)
        self.meta_name = canonicalize_name(meta_name) if meta_name else None
        self._infos: dict[NormalizedName, WheelInfo] = {}

    @classmethod
    def read(cls, dist_dir: Path, meta_name: str | None = None) -> DistDir:
        """The wheels in `dist_dir`, by the names their file names give (every file name is
        checked, no wheel opened); `meta_name`, the layout's meta package, names the meta
        wheel, which is otherwise the one wheel offering extras."""
        dist_dir = Path(dist_dir)
        if not dist_dir.is_dir():
            raise InstallError(f"{dist_dir}: not a directory of wheels")
        files: dict[NormalizedName, Path] = {}
        for p in sorted(dist_dir.glob("*.whl")):
            name = _wheel_name(p)
            if name in files:
                raise InstallError(f"{dist_dir}: two wheels of {name}: {files[name].name} and {p.name}")
            files[name] = p
        if not files:
            raise InstallError(f"{dist_dir}: no wheels in it")
        return cls(files, meta_name)

    @property
    def wheels(self) -> dict[NormalizedName, WheelInfo]:
        """Every wheel, each METADATA read."""
        return {name: info for name in self.files if (info := self.get(name)) is not None}

    def get(self, name: NormalizedName) -> WheelInfo | None:
        """The wheel of distribution `name` (its METADATA read once), None when there is none."""
        if name not in self._infos:
            path = self.files.get(name)
            if path is None:
                return None
            self._infos[name] = read_wheel(path)
        return self._infos[name]

    def declared_modules(self) -> dict[str, NormalizedName]:
        """Module id (as an extra is normalized) -> the wheel that declares it in its
        PACKAGE_FILE: read only for a split without a meta wheel (a Weston and a Bacula tester
        named modules by id and were told to name distributions), each wheel's declaration."""
        out: dict[str, NormalizedName] = {}
        for name, path in self.files.items():
            try:
                with zipfile.ZipFile(path) as zf:
                    kind, ids = declaration(zf.read(f"{_dist_info(path)}/{PACKAGE_FILE}"))
            except (OSError, zipfile.BadZipFile, KeyError):
                continue
            # A group's wheel declares its modules too (a netdata tester's `install charts.d`,
            # held by netdata-plugins-bash, was told to name distributions).
            for mid in ids if kind in ("module", "group") else ():
                out.setdefault(normalize_extra(mid), name)
        return out

    def meta(self) -> WheelInfo:
        """The meta wheel: the one named by the layout's meta package when it offers extras,
        else the one wheel offering extras."""
        if self.meta_name is not None:
            named = self.get(self.meta_name)
            if named is not None and named.extras:
                return named
        metas = [w for w in self.wheels.values() if w.extras]
        # A module wheel offers its recommendations as the one extra `recommended`.
        metas = [w for w in metas if w.extras != {RECOMMENDED_EXTRA}] or metas
        if self.meta_name is not None and metas:  # another layout's meta wheel: not ours to guess
            raise InstallError(
                f"the layout's meta package {self.meta_name} is not among the wheels (found "
                f"{', '.join(w.name for w in metas)}): were they split with another layout? "
                "Give the -l they were split with"
            )
        if len(metas) != 1:
            found = ", ".join(w.name for w in metas) or "none"
            raise InstallError(f"expected exactly one wheel with extras (the meta wheel), found {found}")
        return metas[0]

    def resolve(self, roots: Iterable[tuple[WheelInfo, frozenset[str]]]) -> list[WheelInfo]:
        """`roots` (wheel, extras asked of it) and every wheel they require, transitively."""
        chosen: dict[NormalizedName, WheelInfo] = {}
        todo = list(roots)
        while todo:
            info, extras = todo.pop()
            if info.name in chosen and not extras:
                continue
            chosen[info.name] = info
            asked = extras or frozenset(("",))  # normalized, as Req.holds takes them
            for req in info.requires:
                if not req.holds(asked):
                    continue
                dep = self.get(canonicalize_name(req.name))
                if dep is None:
                    raise InstallError(f"{info.name} requires {req}, which is not among the wheels")
                if not req.accepts(dep.version):
                    raise InstallError(
                        f"{info.name} requires {req}, but the wheel is {dep.name} {dep.version}"
                    )
                if dep.name not in chosen:
                    todo.append((dep, frozenset()))
        return sorted(chosen.values(), key=lambda w: w.name)

    def _declaring(
        self, extras: set[str], typed: Mapping[str, str], where: Path, cause: InstallError
    ) -> list[WheelInfo]:
        """For a split without a meta wheel (no [meta] table): the wheels declaring the module
        ids `extras` (their own PACKAGE_FILE), or an error naming distributions to ask for; no
        type or `all` can be read."""
        declared = self.declared_modules()
        if all(x in declared for x in extras):
            return [info for x in sorted(extras) if (info := self.get(declared[x])) is not None]
        extras = {x for x in extras if x not in declared}
        # A few, and how many more (a Munin re-tester's 227 names made one line of 9 KB).
        every = sorted(self.wheels)
        names = ", ".join(every[:5]) + (f" and {len(every) - 5} more" if len(every) > 5 else "") or "none"
        # A module's package is mostly named after it (a gedit tester's `sort` was told the
        # list of all 30 distributions, gedit-plugin-sort among them).
        after = {
            x: [w for w in sorted(self.wheels) if w.endswith("-" + canonicalize_name(x))] for x in extras
        }
        hint = (
            f"; named after them: {', '.join(ws[0] for ws in after.values())}"
            if all(len(ws) == 1 for ws in after.values())
            else f" ({names})"
        )
        asked_as = ", ".join(sorted(typed[x] for x in extras))  # as typed (auth_otp, not auth-otp)
        raise InstallError(
            f"{asked_as}: no wheel in {where} of that name, and no meta wheel to "
            f"read module ids from (the split had no [meta], or its wheel is not there): name "
            f"distributions{hint}"
        ) from cause

    def roots(
        self, wanted: Sequence[str], where: Path
    ) -> tuple[list[tuple[WheelInfo, frozenset[str]]], set[str]]:
        """What `wanted` asks for: (wheel, extras asked of it) pairs, and the names of the wheels
        asked for themselves (directly, or as what an asked extra of the meta wheel requires)."""
        roots: list[tuple[WheelInfo, frozenset[str]]] = []
        extras: set[str] = set()
        typed: dict[str, str] = {}  # an extra -> as the user typed it, for messages
        asked: set[str] = set()
        for item in wanted:
            norm = canonicalize_name(item)
            named = self.get(norm)
            if named is not None and normalize_extra(item) in named.extras and named.name == self.meta_name:
                # The meta package's own name that is also one of its extras (a GDAL tester's
                # meta `gdal` and module type `gdal`): the wheel alone installs the core only,
                # so the extra is meant (`pip install gdal[gdal]`), which took the meta in silence.
                named = None
            elif named is not None and self._extra_of_another(item, named.name):
                # A wheel named as an extra installing another (a GEGL tester's core `gegl-core`
                # and module `gegl-core`): the extra, which brings the core it requires too; the
                # wheel alone took the core and left the module out, exit 0 (plan warns of it).
                named = None
            if named is not None:
                roots.append((named, frozenset()))
                asked.add(norm)
            else:
                extras.add(normalize_extra(item))
                typed.setdefault(normalize_extra(item), item)
        if extras or not roots:
            try:
                meta = self.meta()
            except InstallError as e:
                if not extras or any(w.extras for w in self.wheels.values()):
                    raise
                for info in self._declaring(extras, typed, where, e):
                    roots.append((info, frozenset()))
                    asked.add(info.name)
                return roots, asked
            unknown = sorted(extras - meta.extras)
            if unknown:
                # The extras listed only where few (an LMMS tester's one line of 161, 5,000
                # characters); `qpack list`'s and the meta wheel's own lists have them all.
                every = sorted(meta.extras)
                listed = (
                    ", ".join(every)
                    if len(every) <= 20
                    else f"{', '.join(every[:20])} and {len(every) - 20} more"
                )
                raise InstallError(
                    f"{', '.join(typed[u] for u in unknown)}: neither an extra of {meta.name} nor a wheel "
                    f"in {where}"
                    # Three edits at most: a LADSPA tester's `nosuchplugin` was offered swh-plugins.
                    f"{did_you_mean(unknown, [*meta.extras, *self.wheels], max_edits=3)} "
                    f"(extras: {listed})"
                )
            roots.append((meta, frozenset(extras)))
            for req in meta.requires:
                if req.conditional and req.holds(extras):
                    asked.add(canonicalize_name(req.name))
        return roots, asked

    def _extra_of_another(self, item: str, wheel: str) -> bool:
        """Whether `item` is an extra of the meta wheel requiring other wheels than `wheel`."""
        extra = normalize_extra(item)
        try:
            meta = self.meta()
        except InstallError:
            return False
        if extra not in meta.extras:
            return False
        wants = {canonicalize_name(r.name) for r in meta.requires if r.conditional and r.holds((extra,))}
        return bool(wants) and wants != {canonicalize_name(wheel)}

    def choose(self, wanted: Sequence[str], where: Path) -> list[tuple[WheelInfo, bool]]:
        """The wheels to install for `wanted`, each with whether it was asked for itself; the
        meta wheel only when named (extras are read from it, as pip does, but it holds no file)."""
        roots, asked = self.roots(wanted, where)
        # The one root not asked for itself is the meta wheel, read for the extras asked of it.
        # Other wheels offering extras (a module's `recommended`) are installed when required.
        meta = {w.name for w, _ in roots if w.name not in asked}
        return [(w, w.name in asked) for w in self.resolve(roots) if w.name not in meta]


def _with_core(
    dd: DistDir, chosen: list[tuple[WheelInfo, bool]], wanted: Sequence[str], host: Path, prefix: str
) -> list[tuple[WheelInfo, bool]]:
    """`chosen` with the core (what the meta wheel requires of every install) where the
    distributions named leave it out and the prefix has none of it: a module asked for by its
    distribution's name, whose package requires nothing (`requires = []`), came alone (a VA-API
    tester's intel-media-va-driver, where `install iHD` brought libva). Module ids and types
    already bring it, through the meta wheel."""
    names = {w.name for w, _ in chosen}
    if not all(dd.get(canonicalize_name(w)) is not None for w in wanted):
        return chosen  # extras asked: the meta wheel's requirements are in already
    try:
        meta = dd.meta()
    except InstallError:
        return chosen  # no meta wheel (a module split apart): no core to name
    core = {canonicalize_name(r.name) for r in meta.requires if r.holds(("",))}
    if not core or core <= names or meta.name in names:
        return chosen
    if host.is_dir() and core & set(InstalledSet.read(host, prefix).dists):
        return chosen  # a core is installed: what a module needs of it is judged as usual
    added = dd.resolve([(w, frozenset()) for n in sorted(core - names) if (w := dd.get(n)) is not None])
    return sorted([*chosen, *((w, False) for w in added if w.name not in names)], key=lambda c: c[0].name)


def select(dist_dir: Path, wanted: Sequence[str]) -> list[Path]:
    """The wheels to install for `wanted`: extras of the meta wheel (`ui-curses`, `block`, `all`)
    or distribution names (`qemu-core`), with everything they require. Asking for extras selects
    the meta wheel too, as `pip install 'qemu[ui-curses,block]'` does."""
    dd = DistDir.read(dist_dir)
    roots, _ = dd.roots(wanted, Path(dist_dir))
    return [w.path for w in dd.resolve(roots)]


# --------------------------------------------------------------------------- one wheel, checked

ADDED_METADATA = ("INSTALLER", "REQUESTED", QPACK_FILE, "direct_url.json")


@dataclass(frozen=True, slots=True)
class Member:
    """One file of a wheel and where it goes."""

    name: str  # the archive path
    scheme: str
    path: str  # inside the scheme directory
    executable: bool
    digest: str | None  # sha256 from RECORD (urlsafe base64)


@dataclass(frozen=True, kw_only=True)
class CheckedWheel:
    """A wheel whose archive and RECORD were checked: what it will write."""

    info: WheelInfo
    dist_info: str  # NAME-VERSION.dist-info
    root_scheme: str  # purelib or platlib: where the .dist-info goes
    members: tuple[Member, ...]
    # The archive's files as read and checked against RECORD (a wheel small enough to keep),
    # and the wheel file's identity then: written from memory while the file is unchanged.
    contents: Mapping[str, bytes] | None = field(default=None, repr=False, compare=False)
    identity: tuple[int, int, int, int] | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> NormalizedName:
        return self.info.name

    def unchanged(self) -> bool:
        """The wheel file is still the one read (same device, inode, size, mtime)."""
        try:
            return self.identity is not None and _identity(self.info.path) == self.identity
        except OSError:
            return False

    def member(self, name: str) -> bytes:
        """One file of the archive: as checked, or read again from a changed wheel file."""
        if self.contents is not None and name in self.contents and self.unchanged():
            return self.contents[name]
        return _read_member(self.info.path, name)


def _identity(path: Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


# The archives of one install kept in memory once checked, so that each is decompressed once
# (decompressing is most of an install's writing); larger wheels are read again when written.
KEEP_BYTES = 64 * 1024 * 1024


def _refuse(path: Path, name: str, why: str) -> InstallError:
    return InstallError(f"{path}: refusing {name!r}: {why}")


def _check_name(path: Path, name: str) -> None:
    """Refuse any archive path that could land outside its scheme directory."""
    parts = name.rstrip("/").split("/")
    if name.startswith("/") or ":" in parts[0]:
        raise _refuse(path, name, "an absolute path; it would be written outside the install root")
    if ".." in parts:
        raise _refuse(path, name, "a '..' segment; it would be written outside the install root")
    if "\\" in name or "\0" in name or "" in parts or "." in parts:
        raise _refuse(path, name, "not a plain relative path")
    if "__pycache__" in parts[:-1]:
        raise _refuse(path, name, "a file in __pycache__ (a wheel must not ship bytecode caches)")


def _first_issue(e: Exception) -> str:
    issues = getattr(e, "issues", None)
    if isinstance(issues, list) and issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        return str(issues[0]).splitlines()[0] + more
    text = str(e).splitlines()
    return text[0] if text else repr(e)


def check_wheel(info: WheelInfo, keep: int | Callable[[int], bool] = 0) -> CheckedWheel:
    """Check one wheel's archive and RECORD, reading it whole; nothing is written. The files
    read are kept (`CheckedWheel.contents`) when they come to `keep` bytes at most (or when
    `keep(their size)` says so)."""
    path = info.path
    keeps = keep if callable(keep) else (lambda n: n <= keep)
    try:
        identity = _identity(path)
        with path.open("rb") as archive, zipfile.ZipFile(archive) as zf:
            return _check_open_wheel(info, zf, archive, keeps, identity)
    except InstallError:
        raise
    except (InstallerError, ValueError) as e:
        raise InstallError(f"{path}: {_first_issue(e)}") from None
    except (OSError, zipfile.BadZipFile, KeyError, EOFError) as e:
        raise InstallError(f"{path}: cannot read the wheel ({_first_issue(e)})") from None


def _regular_entries(path: Path, zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's file entries: each name once, plain and relative, each a regular file."""
    entries = zf.infolist()
    counts = Counter(i.filename for i in entries)
    for name, n in sorted(counts.items()):
        if n > 1:
            raise _refuse(path, name, f"the archive holds it {n} times")
    files = []
    for i in entries:
        _check_name(path, i.filename)
        kind = stat.S_IFMT(i.external_attr >> 16)
        if i.is_dir():
            if kind not in (0, stat.S_IFDIR):
                raise _refuse(path, i.filename, "a directory entry of another file type")
            continue
        if kind == stat.S_IFLNK:
            raise _refuse(path, i.filename, "a symbolic link entry (a wheel holds regular files only)")
        if kind not in (0, stat.S_IFREG):
            raise _refuse(path, i.filename, f"not a regular file (type {kind:o})")
        files.append(i)
    return files


def _check_open_wheel(
    info: WheelInfo,
    zf: zipfile.ZipFile,
    archive: BinaryIO,
    keep: Callable[[int], bool],
    identity: tuple[int, int, int, int],
) -> CheckedWheel:
    path = info.path
    files = _regular_entries(path, zf)
    source = WheelFile(zf)
    dist_info = source.dist_info_dir  # exactly one, named after the wheel file
    wheel_meta = email.parser.HeaderParser().parsestr(source.read_dist_info("WHEEL"))
    if not str(wheel_meta.get("Wheel-Version", "")).startswith("1."):
        raise InstallError(
            f"{path}: Wheel-Version {wheel_meta.get('Wheel-Version')!r}; only 1.x is supported"
        )
    root_scheme = "purelib" if str(wheel_meta.get("Root-Is-Purelib", "")).strip() == "true" else "platlib"
    record_name = f"{dist_info}/RECORD"
    rows, contents = _validated(source, zf, archive, files, keep, record_name)
    names = {i.filename for i in files}
    for listed in sorted(rows):
        _check_name(path, listed)
        if listed not in names:
            raise _refuse(path, listed, "RECORD lists it, but the archive does not hold it")
    extra = sorted(n for n in ADDED_METADATA if f"{dist_info}/{n}" in names)
    if extra:
        raise _refuse(path, f"{dist_info}/{extra[0]}", "installers write this file, wheels must not ship it")
    if f"{dist_info}/entry_points.txt" in names:
        text = source.read_dist_info("entry_points.txt")
        if "[console_scripts]" in text or "[gui_scripts]" in text:
            raise InstallError(f"{path}: entry-point scripts are not supported by qpack install")
    data_dir = source.data_dir
    members = []
    for i in files:
        if i.filename == record_name:
            continue
        mode = i.external_attr >> 16
        executable = bool(mode and stat.S_ISREG(mode) and mode & 0o111)
        row = rows.get(i.filename)
        digest = row[1].partition("=")[2] if row and row[1].startswith("sha256=") else None
        if i.filename.startswith(data_dir + "/"):
            scheme, _, sub = i.filename[len(data_dir) + 1 :].partition("/")
            if scheme not in SCHEMES or not sub:
                raise _refuse(path, i.filename, f"not in a known scheme of {data_dir} ({', '.join(SCHEMES)})")
            members.append(Member(i.filename, scheme, sub, executable, digest))
        else:
            members.append(Member(i.filename, root_scheme, i.filename, executable, digest))
    return CheckedWheel(
        info=info,
        dist_info=dist_info,
        root_scheme=root_scheme,
        members=tuple(members),
        contents=contents,
        identity=identity if contents is not None else None,
    )


def _validated(
    source: WheelFile,
    zf: zipfile.ZipFile,
    archive: BinaryIO,
    files: Sequence[zipfile.ZipInfo],
    keep: Callable[[int], bool],
    record_name: str,
) -> tuple[dict[str, list[str]], dict[str, bytes] | None]:
    """RECORD validated (`WheelFile.validate_record`): its rows by path, and the files read
    when they come to `keep` bytes at most: installer then checks the names (every file
    listed, each entry with its hash and size) and the contents are checked against the same
    entries here, read once."""
    keeping = keep(sum(i.file_size for i in files))
    source.validate_record(validate_contents=not keeping)
    rows = {row[0]: list(row) for row in parse_record_file(source.read_dist_info("RECORD").splitlines())}
    return rows, (_checked_contents(zf, archive, files, rows, record_name) if keeping else None)


def _checked_contents(
    zf: zipfile.ZipFile,
    archive: BinaryIO,
    files: Sequence[zipfile.ZipInfo],
    rows: Mapping[str, Sequence[str]],
    record_name: str,
) -> dict[str, bytes]:
    """Every file of the archive, each checked against its RECORD entry (size and hash, through
    installer's `RecordEntry`) as `WheelFile.validate_record` checks them. Read from the open
    `archive` whose central directory `zf` read, inflated with zlib-ng (qpack._unzip)."""
    contents: dict[str, bytes] = {}
    issues: list[str] = []
    for i in files:
        data = contents[i.filename] = read_entry(archive, i)  # CRC-32 and size checked
        row = rows.get(i.filename)
        if row is None or i.filename == record_name:  # RECORD itself, a signature file
            continue
        if not RecordEntry.from_elements(*row).validate_stream(io.BytesIO(data)):
            issues.append(f"In {zf.filename}, hash / size of {i.filename} didn't match RECORD")
    if issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise InstallError(f"{zf.filename}: {issues[0]}{more}")
    return contents


class _CheckedStream(io.BytesIO):
    """A file's bytes as checked, with the sha256 digest (as RECORD spells it) they were
    checked against, or None when RECORD gives none."""

    def __init__(self, data: bytes, sha256: str | None) -> None:
        super().__init__(data)
        self.sha256 = sha256


class _CheckedSource(WheelFile):
    """installer's WheelFile giving each file's bytes as they were checked, not decompressing
    the archive again, each with the digest it was checked against (not computed again)."""

    def __init__(self, zf: zipfile.ZipFile, contents: Mapping[str, bytes], members: Iterable[Member]) -> None:
        super().__init__(zf)
        self.contents = contents
        self.digests = {m.name: m.digest for m in members}

    def get_contents(self) -> Iterator[tuple[tuple[str, str, str], BinaryIO, bool]]:
        for record, _stream, executable in super().get_contents():  # the stream is never read
            name = record[0]
            stream = _CheckedStream(self.contents[name], self.digests.get(name))
            yield record, cast(BinaryIO, stream), executable


# --------------------------------------------------------------------------- writing


class _Destination(WheelDestination):
    """installer's destination, writing through the transaction (only planned paths) and
    checking every file's bytes against the RECORD read before."""

    def __init__(self, tx: Transaction, schemes: Mapping[str, str], interpreter: str, wheel: CheckedWheel):
        self.tx = tx
        self.schemes = schemes
        self.interpreter = interpreter
        self.expected = {(m.scheme, m.path): m.digest for m in wheel.members}
        self.wheel = wheel

    def rel(self, scheme: str, path: str) -> str:
        return _target(self.schemes, scheme, path, self.wheel.info.path)

    def write_script(self, name: str, module: str, attr: str, section: object) -> RecordEntry:
        raise InstallError(f"{self.wheel.info.path}: entry-point scripts are not supported by qpack install")

    def write_file(
        self, scheme: Scheme, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        path = os.fspath(path)
        rel = self.rel(scheme, path)
        rewritten = False
        if scheme == "scripts":
            with fix_shebang(stream, self.interpreter) as fixed:
                rewritten = fixed is not stream
                digest, size = self.tx.create(rel, fixed, executable=is_executable)
        else:
            # Bytes checked against their RECORD digest (_CheckedSource) are not hashed again.
            checked = stream.sha256 if isinstance(stream, _CheckedStream) else None
            digest, size = self.tx.create(rel, stream, executable=is_executable, sha256=checked)
        want = self.expected.get((scheme, path))
        if want is not None and not rewritten and want != digest:
            raise InstallError(f"{self.wheel.info.path}: {path} changed since its RECORD was checked")
        return RecordEntry(path, Hash("sha256", digest), size)

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        base = self.schemes[scheme] or "."

        def prefix_for_scheme(other: Scheme) -> str | None:
            if other == scheme:
                return None
            return os.path.relpath(self.schemes[other] or ".", base) + "/"

        with construct_record_file(list(records), prefix_for_scheme) as stream:
            self.tx.create(self.rel(scheme, record_file_path), stream, executable=False)


def _target(schemes: Mapping[str, str], scheme: str, path: str, wheel: Path) -> str:
    """Where a file of a scheme lands, relative to the prefix; it must stay in the scheme's
    directory."""
    base = schemes[scheme]
    rel = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    inside = rel.startswith(base + "/") if base else not (rel == ".." or rel.startswith("../"))
    if not inside or rel.startswith("/") or rel == base:
        raise _refuse(wheel, path, f"it would leave its scheme directory {base or '.'}")
    return rel


def _added(
    requested: bool, layout_ref: str | None, modules: Sequence[str], extras: Sequence[str] = ()
) -> dict[str, bytes]:
    added = {"INSTALLER": b"qpack\n"}
    if requested:
        added["REQUESTED"] = b""
    if layout_ref is not None:
        data: dict[str, object] = {"version": 1, "layout": layout_ref, "modules": list(modules)}
        if extras:
            data["extras"] = list(extras)
        added[QPACK_FILE] = _json_bytes(data)
    return added


def _targets(w: CheckedWheel, schemes: Mapping[str, str], added: Iterable[str]) -> list[str]:
    out = [_target(schemes, m.scheme, m.path, w.info.path) for m in w.members]
    out += [_target(schemes, w.root_scheme, f"{w.dist_info}/{n}", w.info.path) for n in (*added, "RECORD")]
    return out


@dataclass(frozen=True, kw_only=True)
class _Job:
    wheel: CheckedWheel
    requested: bool
    targets: tuple[str, ...]
    roles: Roles | None
    added: Mapping[str, bytes]
    unplaced: tuple[str, ...] = ()  # module ids it is for, where the loader model places none of its files


def _write(
    host: Path,
    prefix: str,
    jobs: Sequence[_Job],
    schemes: Mapping[str, str],
    hook: StepHook | None,
    root: Path,
    marks: Sequence[_Mark] = (),
) -> None:
    """All jobs and marks in one transaction: every file planned, made, or none; nothing
    outside `root`."""
    dirs = DirPlanner(host, root)
    creates: list[str] = []
    for job in jobs:
        for t in job.targets:
            dirs.need(posixpath.dirname(t))
            creates.append(t)
    creates += [rel for m in marks for rel in m.files]
    replaced = tuple(rel for m in marks for rel in m.replaced)
    plan = TxPlan(op="install", mkdirs=tuple(dirs.made), creates=tuple(creates), removes=replaced)
    interpreter = posixpath.join(prefix, schemes["scripts"], "python")
    with Transaction(host, plan, step_hook=hook, root=root) as tx:
        tx.make_dirs()
        for job in jobs:
            try:
                with zipfile.ZipFile(job.wheel.info.path) as zf:
                    dest = _Destination(tx, schemes, interpreter, job.wheel)
                    kept = job.wheel.contents
                    # A wheel file changed since it was checked is read again: the RECORD
                    # digests compared as each file is written catch what changed.
                    source = (
                        _CheckedSource(zf, kept, job.wheel.members)
                        if kept is not None and job.wheel.unchanged()
                        else WheelFile(zf)
                    )
                    installer.install(source, dest, dict(job.added))
            except InstallError:
                raise
            except (InstallerError, ValueError, KeyError, zipfile.BadZipFile) as e:
                raise InstallError(f"{job.wheel.info.path}: cannot install: {_first_issue(e)}") from None
            except OSError as e:
                raise InstallError(f"{job.wheel.info.path}: cannot install: {e}") from None
            tx.step_done()
        for m in marks:
            for rel, data in m.files.items():
                if rel in m.replaced:
                    tx.replace(rel, io.BytesIO(data))
                else:
                    tx.create(rel, io.BytesIO(data), executable=False)
            tx.step_done()
        tx.commit()


@dataclass(frozen=True, kw_only=True)
class _Mark:
    """An installed distribution asked for again, and what its .dist-info gets for it (as apt
    sets a package it installed automatically to "manually installed"): a REQUESTED file, so
    that it stays when what needed it goes; asked for by name or module, the layout's own
    extras an earlier install recorded go from its qpack.json, so that `uninstall EXTRA` no
    longer takes it; and its RECORD, rewritten to list them."""

    name: NormalizedName
    version: str
    files: Mapping[str, bytes]  # prefix-relative path -> new content
    replaced: tuple[str, ...]  # those of `files` that exist now (moved aside, then written)


def _marks(
    chosen: Sequence[tuple[WheelInfo, bool]],
    state: InstalledSet,
    direct: set[NormalizedName],
    taken_by: Mapping[NormalizedName, tuple[str, ...]],
    warnings: list[str],
) -> list[_Mark]:
    """The installed distributions of `chosen` asked for now (not merely required) whose
    records say less: installed as a dependency only, or taken by an extra of the layout's own
    where now named (`direct`). `taken_by`: what this install records for each (`_taken_by`).
    One whose RECORD cannot be read as text is left as it is, with a warning."""
    out = []
    for info, asked in chosen:
        d = state.dists.get(info.name)
        if not asked or d is None or d.parsed_version != info.version or not d.has_record:
            continue
        now = taken_by.get(d.name, ())
        extras = list(d.meta_extras)
        if (
            not d.requested and d.declared_kind != "core"
        ):  # a dependency until now: what asks for it now is recorded too
            extras += [e for e in now if e not in extras]
        elif d.name in direct:
            extras = [e for e in extras if e in now]
        if d.requested and extras == list(d.meta_extras):
            continue
        files: dict[str, bytes] = {}
        base = posixpath.basename(d.dist_info)
        if not d.requested:
            files[f"{d.dist_info}/REQUESTED"] = b""
        qpack_json = _qpack_json(state.host / d.dist_info / QPACK_FILE, extras)
        if qpack_json is not None and d.layout is not None:
            files[f"{d.dist_info}/{QPACK_FILE}"] = qpack_json
        if not files:
            continue
        record = f"{d.dist_info}/RECORD"
        try:
            old = (state.host / record).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            warnings.append(f"{state.host / record}: cannot read ({why}): {d.name} not recorded as asked for")
            continue
        files[record] = _rerecorded(
            old, {f"{base}/{posixpath.basename(rel)}": data for rel, data in files.items()}
        )
        replaced = tuple(rel for rel in files if os.path.lexists(state.host / rel))
        out.append(_Mark(name=d.name, version=d.version, files=files, replaced=replaced))
    return out


def _qpack_json(path: Path, extras: Sequence[str]) -> bytes | None:
    """The installed qpack.json at `path` recording `extras`, as `_added` writes it; None where
    there is none to rewrite, or it records them already."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or list(data.get("extras") or ()) == list(extras):
        return None
    data.pop("extras", None)
    if extras:
        data["extras"] = list(extras)
    return _json_bytes(data)


def _json_bytes(data: Mapping[str, object]) -> bytes:
    """qpack.json's bytes, as install writes and rewrites it."""
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode()


def _rerecorded(record: str, changed: Mapping[str, bytes]) -> bytes:
    """RECORD with the rows of `changed` (paths as its rows spell them, relative to the site
    directory) holding their new digests and sizes: a row for each replaced in place, a new
    one added before RECORD's own row; the other rows kept byte for byte."""

    def row(path: str, data: bytes) -> str:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
        line = io.StringIO()
        csv.writer(line, lineterminator="").writerow(
            RecordEntry(path, Hash("sha256", digest), len(data)).to_row()
        )
        return line.getvalue()

    seen: set[str] = set()
    out: list[str] = []
    own: int | None = None  # RECORD's own row
    for line in record.splitlines():
        fields = next(csv.reader([line]), [])
        path = posixpath.normpath(fields[0]) if fields and fields[0] else ""
        if path in changed:
            seen.add(path)
            line = row(path, changed[path])
        elif path.endswith(".dist-info/RECORD") and own is None:
            own = len(out)
        out.append(line)
    where = len(out) if own is None else own
    out[where:where] = [row(p, data) for p, data in changed.items() if p not in seen]
    return ("\n".join(out) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- planning against the prefix


def _conflicts(jobs: Sequence[_Job], state: InstalledSet) -> None:
    """No file of the transaction exists already (owned or not) or comes from two wheels."""
    seen: dict[str, NormalizedName] = {}
    for job in jobs:
        for t in job.targets:
            other = seen.setdefault(t, job.wheel.name)
            if other != job.wheel.name:
                raise InstallError(f"{t}: in both {other} and {job.wheel.name}; not installing either")
            if os.path.lexists(state.host / t):
                owner = state.owners.get(t)
                if owner is not None:
                    raise InstallError(
                        f"{t}: belongs to the installed {state.describe(owner)}; "
                        f"{job.wheel.name} {job.wheel.info.version} would overwrite it"
                    )
                raise InstallError(
                    f"{t}: already exists and no installed distribution owns it; "
                    f"{job.wheel.name} {job.wheel.info.version} would overwrite it"
                )


def _versions(jobs: Sequence[_Job], state: InstalledSet, loader: Loader | None, warnings: list[str]) -> None:
    """A module goes only with its core's version, and every pin on an installed distribution
    must hold. A module wheel that requires no distribution at all was split from a build of
    its own (`requires = []`: irssi-plugin-xmpp 0.54, built apart from Irssi 1.4.3) and keeps its
    own version; where the layout has a stamp, `_stamps` still judges its build."""
    if loader is not None:
        # Only a distribution a qpack wheel made, or `qpack install` wrote, is a core: a layout
        # whose executables are `{prefix}/bin/*` (GIO's: every program that links libgio) matches
        # a venv's bin/pip, which a GIO tester's install took for the core (exit 2).
        cores = {
            name: (d.version, "installed")
            for name, d in state.dists.items()
            if (d.declared_kind is not None or d.layout is not None)
            and roles(d.files, loader, state.prefix).executables
        }
        for j in jobs:  # an installed core stays what a module is judged against
            if j.roles is not None and j.roles.executables and j.wheel.name not in cores:
                cores[j.wheel.name] = (str(j.wheel.info.version), "being installed")
        for j in sorted(jobs, key=lambda j: (not j.requested, j.wheel.name)):  # what was asked for first
            if j.roles is None or not j.roles.modules:
                continue
            name, version = j.wheel.name, j.wheel.info.version
            differ = [c for c in sorted(cores) if c != name and Version(cores[c][0]) != version]
            if not differ:
                continue
            if not any(r.holds(("",)) for r in j.wheel.info.requires):
                # Said only where the versions differ (a VA-API tester's drivers, split with
                # libva at its version, each `requires = []` as Debian's, were all said so).
                warnings.append(
                    f"{name} {version} requires nothing: taken as modules built apart from the core, "
                    "not held to the version of " + ", ".join(f"{c} {cores[c][0]}" for c in differ)
                )
                continue
            core = differ[0]
            version_there, how = cores[core]
            raise InstallError(
                f"{name} {version} does not match the {how} {core} {version_there}: "
                "a module installs only with the core of its own build"
            )
    for j in jobs:
        for req in j.wheel.info.requires:
            if not req.holds(("",)):
                continue
            dep = state.dists.get(canonicalize_name(req.name))
            if dep is not None and not req.accepts(dep.version):
                raise InstallError(
                    f"{j.wheel.name} {j.wheel.info.version} requires {req}, but {dep.name} {dep.version} "
                    "is installed"
                )


def _read_member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)


def _held(jobs: Sequence[_Job], host: Path, loader: Loader, glob: str) -> dict[str, tuple[str, ...]]:
    """Executable (and where it comes from) -> the stamp names it holds: the installed ones and
    those the transaction installs."""
    held: dict[str, tuple[str, ...]] = {}
    for j in jobs:
        if j.roles is None:
            continue
        by_target = dict(zip(j.targets, j.wheel.members, strict=False))
        for exe in j.roles.executables:
            try:
                data = j.wheel.member(by_target[exe].name)
                stamps = held_stamps_pyelftools(io.BytesIO(data), glob)
            except ElfReadError:
                stamps = ()
            if stamps:
                held[f"{exe} (in {j.wheel.name} {j.wheel.info.version})"] = stamps
    for exe in executables_on_disk(host, loader):
        try:
            with open(host / exe, "rb") as f:
                stamps = held_stamps_pyelftools(cast(BinaryIO, f), glob)
        except (OSError, ElfReadError):
            continue
        if stamps:
            held[f"{exe} (installed)"] = stamps
    return held


def _stamps(jobs: Sequence[_Job], host: Path, loader: Loader, warnings: list[str]) -> None:
    """Each module file exports the stamp every installed (or now installed) executable holds."""
    glob = loader.stamp_spec
    modules = [j for j in jobs if j.roles is not None and j.roles.modules]
    if glob is None or not modules:
        return
    held = _held(jobs, host, loader, glob)
    value = loader.stamp_symbol if loader.stamp_value is not None else None
    if not held:
        what = f"{glob} stamp name" if value is None else f"string like {loader.stamp_value!r} ({value})"
        warnings.append(f"no installed executable holds a {what}: module stamps not checked")
        return
    names = tuple(sorted({s for stamps in held.values() for s in stamps}))
    if value is not None:
        names = (value,)  # looked up; its string is read where it is defined
    for j in modules:
        assert j.roles is not None
        what = f"{j.wheel.name} {j.wheel.info.version}"
        by_target = dict(zip(j.targets, j.wheel.members, strict=False))
        for mid, rel in sorted(j.roles.module_files.items()):
            if loader.runner_of(rel) is not None:
                continue  # run by another module (ZNC's pyeval.py): no ELF file, no stamp of its own
            data = j.wheel.member(by_target[rel].name)
            entry = loader.entry_symbols(mid) if loader.resolution == "register-loadable" else ()
            try:
                # The stamp names held, looked up in the module's symbol hash table, as the
                # dynamic linker looks a name up: no symbol table is walked.
                exported = set(read_link_facts(io.BytesIO(data), (*names, *entry)).defines)
            except ElfReadError as e:
                raise InstallError(f"{what}: module {mid} ({rel}) is not a readable ELF file: {e}") from None
            if entry and not exported & set(entry):
                # A file without the entry is passed over by a register-loadable loader (the
                # modules' own library, libpurple's libjabber.so): its stamp is never asked for;
                # the check after installing says what it is.
                continue
            if (why := _stamp_refused(data, exported, held, loader)) is not None:
                raise InstallError(f"{what}: module {mid} {why}")


def _stamp_refused(
    data: bytes, defined: set[str], held: dict[str, tuple[str, ...]], loader: Loader
) -> str | None:
    """Why a module (`data`, defining those of the stamp names looked up) is of another build
    than an executable that holds `held` stamps, or None."""
    value = loader.stamp_symbol if loader.stamp_value is not None else None
    exported = defined
    if value is not None:
        if value not in defined and loader.stamp_optional:
            return None  # no stamp, which the loader lets pass (pppd warns)
        string = stamp_value(io.BytesIO(data), value) if value in defined else None
        exported = {string} if string is not None else set()
    for exe, stamps in sorted(held.items()):
        if exported & set(stamps):
            continue
        if value is not None:
            has = f"{value} {next(iter(exported))!r}" if exported else f"no {value} string"
            return f"holds {has}, which {exe} does not hold: a module of another release or build"
        # Refused: name the stamps it does export (its dynamic symbols walked).
        info = read_elf_pyelftools(io.BytesIO(data), loader.stamp_spec)
        has = ", ".join(info.stamps_exported) or "no stamp"
        return f"exports {has}, but {exe} holds {stamps[0]}: a module of another build"
    return None


# --------------------------------------------------------------------------- the API


@dataclass(frozen=True)
class Installed:
    name: NormalizedName
    version: Version
    record: Path  # the installed RECORD (on this host): every file written, for a later uninstall
    requested: bool = False
    modules: tuple[str, ...] = ()
    module_files: Mapping[str, str] = field(default_factory=dict)  # module id -> file, prefix-relative
    unplaced: tuple[str, ...] = ()  # module ids it is for, none of its files placed as a module


@dataclass(frozen=True, kw_only=True)
class InstallReport:
    prefix: str  # as the program sees it
    root: str
    layout: str
    installed: tuple[Installed, ...]
    present: tuple[tuple[str, str], ...]  # (name, version) already installed, left alone
    marked: tuple[str, ...] = ()  # those of `present` now recorded as asked for (`_marks`)
    check: CheckReport | None = None
    warnings: tuple[str, ...] = ()
    damaged: tuple[str, ...] = ()  # installed already, with files of its RECORD gone: not repaired
    full_check: bool = False  # `check` is of the whole prefix (--check-all), every row reported
    # Modules installed now that a program takes from another file than the one installed.
    loaded_elsewhere: tuple[str, ...] = ()

    @property
    def modules(self) -> tuple[str, ...]:
        """The modules installed now: placed by the loader model, or declared by a wheel whose
        files it places nowhere (a variable given with --env may still reach them)."""
        return tuple(sorted({m for i in self.installed for m in (*i.modules, *i.unplaced)}))

    def verdicts(self) -> list[ModuleVerdict]:
        """The check's rows for the modules installed now; with `full_check`, every row of the
        prefix (a PulseAudio tester's --check-all showed only the two modules just installed,
        and exited 0 beside a failing one installed before)."""
        if self.check is None:
            return []
        if self.full_check:
            return list(self.check.modules)
        mods = set(self.modules)  # and a module asked for that the loader does not find at all
        return [
            v
            for v in self.check.modules
            if v.module in mods or (v.file is None and any(p.kind == "not-found" for p in v.problems))
        ]

    def loading(self) -> tuple[int, int]:
        """(modules installed now that will load, modules installed now), by module, not by
        row: a module is judged for each program loading it (ImageMagick's 11), and loads when
        it loads for every one of them, as `qpack check` counts."""
        load, _, total = self._counts()
        return load, total

    def loading_for_some(self) -> int:
        """Modules installed now that load for some of their programs, not all (Wireshark's
        wiretap plug-ins load in editcap, not in a tshark that cannot start): the summary's
        "0 of 3 will load" read as none loading anywhere."""
        return self._counts()[1]

    def _counts(self) -> tuple[int, int, int]:
        every: dict[str, bool] = {}
        some: dict[str, bool] = {}
        for v in self.verdicts():
            if v.helper or v.stray:
                continue  # a helper program, or a file the loader never looks up: no module
            every[v.module] = every.get(v.module, True) and v.loads
            some[v.module] = some.get(v.module, False) or v.loads
        partial = sum(1 for m in every if some[m] and not every[m])
        return sum(every.values()), partial, len(every)

    @property
    def ok(self) -> bool:
        # `unused`: no installed program asks for it (a module for another target), as check
        # reports it: not a failure. A distribution asked for that misses files is one.
        if self.damaged:
            return False
        return all((v.loads and not v.problems) or v.unused for v in self.verdicts())

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "prefix": self.prefix,
            "root": self.root,
            "layout": self.layout,
            "installed": [
                {
                    "name": i.name,
                    "version": str(i.version),
                    "requested": i.requested,
                    "modules": list(i.modules),
                    "record": str(i.record),
                }
                for i in self.installed
            ],
            "already_installed": [
                {"name": n, "version": v, "now_requested": n in self.marked} for n, v in self.present
            ],
            "check": [v.to_json() for v in self.verdicts()],
            "loaded_elsewhere": list(self.loaded_elsewhere),
            "warnings": list(self.warnings),
            "damaged": list(self.damaged),
        }


def _jobs(
    chosen: Sequence[tuple[WheelInfo, bool]],
    state: InstalledSet,
    loader: Loader | None,
    layout_ref: str | None,
    present: list[tuple[str, str]],
    markers: bool,
    meta_ids: Mapping[NormalizedName, tuple[str, ...]],
    meta_extras: Mapping[NormalizedName, tuple[str, ...]],
) -> list[_Job]:
    jobs = []
    todo = []
    for info, asked in chosen:
        have = state.dists.get(info.name)
        if have is not None and have.parsed_version == info.version:
            present.append((info.name, have.version))
            continue
        todo.append((info, asked))
    checked = _check_wheels([info for info, _ in todo])  # only what will be written is read whole
    for (_, asked), w in zip(todo, checked, strict=True):
        guess = _targets(w, state.schemes, ())
        kind, declared = _declared(w)
        r = None if loader is None else as_declared(roles(guess, loader, state.prefix), kind, declared)
        # A core package of the layout is installed on request (kept when the last module goes),
        # whether it holds the loader's files or not (a library, the data: its wheel says);
        # one the layout marks `required = false`, only when asked for (a VLC tester's helper
        # libraries, pulled in by a plugin's library needs, stayed after the plugin went).
        core = kind == "core" and not _optional(w)
        requested = markers and (asked or core or bool(r is not None and r.executables))
        # Recorded in qpack.json: the modules the loader model places among its files, or for a
        # distribution it places nothing of, those its wheel declares (or the meta wheel names
        # it for): check and list read them (qpack.installed.dist_roles).
        placed = r is not None and bool(r.modules or r.executables)
        unplaced = () if placed or kind == "core" else (declared or meta_ids.get(w.name, ()))
        modules = r.modules if r is not None and placed else unplaced
        added = (
            # A core's extras are not recorded: `uninstall EXTRA` never names the program.
            _added(requested, layout_ref, modules, () if kind == "core" else meta_extras.get(w.name, ()))
            if markers
            else {"INSTALLER": b"qpack\n"}
        )
        jobs.append(
            _Job(
                wheel=w,
                requested=requested,
                targets=tuple(_targets(w, state.schemes, added)),
                roles=r,
                added=added,
                unplaced=unplaced,
            )
        )
    return _ordered(jobs)


def _declared(w: CheckedWheel) -> tuple[str | None, tuple[str, ...]]:
    """(the plan's kind, the module ids) a wheel qpack wrote declares (PACKAGE_FILE); nothing
    for another wheel, or a declaration that cannot be read."""
    name = f"{w.dist_info}/{PACKAGE_FILE}"
    if not any(m.name == name for m in w.members):
        return None, ()
    try:
        return declaration(w.member(name))
    except (KeyError, OSError, zipfile.BadZipFile):
        return None, ()


def _optional(w: CheckedWheel) -> bool:
    """Whether a wheel qpack wrote declares a core the layout marks `required = false`."""
    name = f"{w.dist_info}/{PACKAGE_FILE}"
    return any(m.name == name for m in w.members) and optional_core(w.member(name))


def _check_wheels(infos: Sequence[WheelInfo], workers: int = 2) -> list[CheckedWheel]:
    """`check_wheel` of each, on `workers` threads (inflating and hashing release the GIL: most
    of the work runs on both cores), each kept in memory while the wheels kept so far come to
    KEEP_BYTES at most (which ones depends on the threads' timing: kept or read again when
    written, the bytes installed are the same). A refusal is the first refused wheel's, in
    order, as if they were checked one by one."""
    lock = threading.Lock()
    left = KEEP_BYTES

    def keep(n: int) -> bool:
        nonlocal left
        with lock:
            if n > left:
                return False
            left -= n
            return True

    return map_on_threads(lambda info: check_wheel(info, keep), infos, workers)


def _ordered(jobs: list[_Job]) -> list[_Job]:
    """Cores first, then each wheel after the wheels it requires, by name among equals: a
    program running meanwhile never sees a module before its dependencies."""
    names = {j.wheel.name for j in jobs}
    needs = {
        j.wheel.name: {canonicalize_name(r.name) for r in j.wheel.info.requires} & names - {j.wheel.name}
        for j in jobs
    }
    left = sorted(jobs, key=lambda j: (not (j.roles and j.roles.executables), j.wheel.name))
    out: list[_Job] = []
    while left:
        placed = {j.wheel.name for j in out}
        ready = next((j for j in left if needs[j.wheel.name] <= placed), left[0])  # a cycle: as listed
        out.append(ready)
        left.remove(ready)
    return out


def _damaged(state: InstalledSet, host: Path, present: Sequence[tuple[str, str]]) -> list[str]:
    """A warning for each distribution left alone as installed whose RECORD lists files that
    are gone (removed by hand): it is not reinstalled over them, so say how to repair it."""
    out = []
    for name, version in present:
        d = state.dists[canonicalize_name(name)]
        gone = [f for f in d.files if not os.path.lexists(host / f)]
        if gone:
            more = f" and {len(gone) - 1} more" if len(gone) > 1 else ""
            out.append(
                f"{d.name} {version} is installed but misses {gone[0]}{more}: it was left as it is; "
                f"`qpack uninstall {d.name}` and install it again to repair it"
            )
    return out


def _transact(
    chosen: Sequence[tuple[WheelInfo, bool]],
    prefix: str,
    root: Path,
    *,
    loader: Loader | None,
    layout_ref: str | None,
    markers: bool,
    step_hook: StepHook | None,
    meta_ids: Mapping[NormalizedName, tuple[str, ...]] | None = None,
    meta_extras: Mapping[NormalizedName, tuple[str, ...]] | None = None,
    direct: set[NormalizedName] | None = None,
) -> tuple[list[Installed], list[tuple[str, str]], list[str], list[str], list[str]]:
    """(installed now, already present, warnings, present distributions missing files, present
    ones now marked as asked for: `_marks`, with `direct` the distributions asked for by name)."""
    host = host_path(root, prefix)
    present: list[tuple[str, str]] = []
    warnings: list[str] = []
    with locked(host, root) as notes:
        warnings += notes
        state = InstalledSet.read(host, prefix)
        warnings += _other_layouts(state, layout_ref)
        jobs = _jobs(chosen, state, loader, layout_ref, present, markers, meta_ids or {}, meta_extras or {})
        marks = _marks(chosen, state, direct or set(), meta_extras or {}, warnings) if markers else []
        damaged = _damaged(state, host, present)
        _versions(jobs, state, loader, warnings)
        for j in jobs:
            have = state.dists.get(j.wheel.name)
            if have is not None:
                raise InstallError(
                    f"{have.name} {have.version} is installed and the wheel is {j.wheel.info.version}: "
                    "uninstall it first"
                )
        if loader is not None:
            _stamps(jobs, host, loader, warnings)
        _conflicts(jobs, state)
        if jobs or marks:
            _write(host, prefix, jobs, state.schemes, step_hook, root, marks)
    done = [
        Installed(
            j.wheel.name,
            j.wheel.info.version,
            host / state.schemes[j.wheel.root_scheme] / j.wheel.dist_info / "RECORD",
            j.requested,
            j.roles.modules if j.roles else (),
            j.roles.module_files if j.roles else {},
            j.unplaced,
        )
        for j in jobs
    ]
    return done, present, warnings, damaged, [m.name for m in marks]


def _other_layouts(state: InstalledSet, layout_ref: str | None) -> list[str]:
    """A warning where the prefix's distributions record another layout than the one installing
    now (a PackageKit tester's: `list` then refused the prefix, "different layouts")."""
    from qpack.listing import other_layouts

    others = other_layouts((d.layout for d in state.dists.values()), layout_ref)
    if not others:
        return []
    return [
        f"the prefix's distributions record layout {', '.join(others)}, and these are installed with "
        f"{layout_ref}: `list` and `check` of the prefix will want -l to say which"
    ]


def install(
    dist_dir: Path,
    wanted: Sequence[str],
    prefix: str | Path,
    *,
    loader: Loader,
    layout_name: str = "",
    layout_ref: str | None = None,
    root: str | Path = "/",
    step_hook: StepHook | None = None,
    run_check: bool = True,
    full_check: bool = False,
    meta_name: str | None = None,
    env: Mapping[str, str] | None = None,
    programs: Sequence[str] = (),
) -> InstallReport:
    """Install the modules `wanted` (extras of the meta wheel: modules, types, `all`; or
    distribution names) from the wheels in `dist_dir`, with the core and their dependencies,
    into `prefix` (as the program sees it; written under `root`). All checks pass before a
    byte is written; then all wheels are installed, or none. Finally `qpack.check` judges the
    modules installed and the modules they need (`check_modules`), or, with `full_check`, the
    whole prefix, for a program run with `env` (`--env`: the variables its loader reads).
    `step_hook(n)` is called after the n-th wheel is written (tests inject faults).
    `meta_name` (the layout's meta package) names the meta wheel, so that only the wheels the
    selection needs are read."""
    dist = Path(dist_dir)
    dd = DistDir.read(dist, meta_name)
    chosen = dd.choose(wanted, dist)
    pre = program_prefix(prefix)
    rt = Path(root).absolute()
    chosen = _with_core(dd, chosen, wanted, host_path(rt, pre), pre)
    meta_extras = _meta_extras(dd)
    meta_ids = _meta_module_ids(dd, loader, meta_extras)
    taken_by = _taken_by(meta_extras, wanted, loader)
    asked = {normalize_extra(w) for w in wanted}
    direct = {canonicalize_name(w) for w in wanted} | {
        d for d, ids in meta_ids.items() if asked & {normalize_extra(i) for i in ids}
    }
    done, present, warnings, damaged, marked = _transact(
        chosen,
        pre,
        rt,
        loader=loader,
        layout_ref=layout_ref if layout_ref is not None else (layout_name or None),
        markers=True,
        step_hook=step_hook,
        meta_ids=meta_ids,
        meta_extras=taken_by,
        direct=direct,
    )
    report = None
    loaded_elsewhere: tuple[str, ...] = ()
    modules = sorted({m for i in done for m in (*i.modules, *i.unplaced)})  # --env may reach those
    settings = _wheel_settings(loader, pre, done, env or {})
    for var, value in settings.items():
        warnings.append(
            f"the loader finds the modules installed in {inside_prefix(value, pre)} only through ${var}: "
            f"set {var}={value} where the program runs (checked as if set)"
        )
    env = {**loader.as_checked(settings, env or {}, lambda d: host_path(rt, d).is_dir()), **(env or {})}
    if run_check and (modules or (full_check and done)):
        from qpack.check import (
            CheckError,
            check,
            check_modules,
            taken_elsewhere_by_module,
            taken_elsewhere_lines,
            with_unfound,
        )

        try:
            if full_check:
                report = check(pre, loader, layout_name=layout_name, root=rt, env=env, programs=programs)
            else:
                report = check_modules(
                    pre, loader, modules, layout_name=layout_name, root=rt, env=env, programs=programs
                )
            # A module written where no search location reaches is no module the loader finds.
            installed = {
                mid: (posixpath.join(pre, rel), f"{i.name} {i.version}")
                for i in done
                for mid, rel in i.module_files.items()
            }
            report = with_unfound(report, installed, rt)
            report = _unplaced(report, done)
            # A module none of whose files is placed, which the program takes from elsewhere (a
            # Janus tester's echotest: the host's copy loads; "1 of 1 will load", said nothing).
            unplaced: dict[str, tuple[str | None, str]] = {
                mid: (None, f"{i.name} {i.version}")
                for i in done
                for mid in i.unplaced
                if mid not in installed
            }
            elsewhere = taken_elsewhere_by_module(report, {**unplaced, **installed})
            warnings += taken_elsewhere_lines(elsewhere)
            loaded_elsewhere = tuple(sorted({mid for mid, _, _ in elsewhere}))
        except CheckError as e:
            warnings.append(f"not checked: {e}")
        except KeyboardInterrupt:
            # The install is committed: say so, rather than let "interrupted" read as undone.
            names = ", ".join(f"{i.name} {i.version}" for i in done)
            raise InterruptedAfterInstall(
                f"interrupted after installing {names} into {pre}: the install stands; the check "
                f"after it did not run (`qpack check {pre} -l LAYOUT` runs it)"
            ) from None
    if run_check and done and report is None:  # nothing installed was a module of the loader's
        from qpack.check import CheckReport

        none = CheckReport(prefix=pre, root=str(rt), layout=layout_name, executables=(), modules=())
        found = _unplaced(none, done)
        report = found if found.modules else None
    return InstallReport(
        prefix=pre,
        root=str(rt),
        layout=layout_name,
        installed=tuple(done),
        present=tuple(present),
        marked=tuple(marked),
        check=report,
        warnings=tuple(warnings),
        damaged=tuple(damaged),
        full_check=full_check and report is not None,
        loaded_elsewhere=loaded_elsewhere,
    )


def _wheel_settings(
    loader: Loader, prefix: str, done: Iterable[Installed], env: Mapping[str, str]
) -> dict[str, str]:
    """The variables the user is to set for the modules installed now (`Loader.wheel_settings`)."""
    files = [posixpath.join(prefix, rel) for i in done for rel in i.module_files.values()]
    return loader.wheel_settings(prefix, env, lambda d: any(f.startswith(d + "/") for f in files))


def _meta_extras(dd: DistDir) -> dict[NormalizedName, tuple[str, ...]]:
    """Distribution -> every extra of the meta wheel that requires it (recorded in its
    qpack.json: `uninstall goa` takes what `install goa` took, an evolution-data-server
    tester's two modules of one extra). Empty without a meta wheel."""
    try:
        meta = dd.meta()
    except InstallError:
        return {}
    out: dict[NormalizedName, set[str]] = {}
    for r in meta.requires:
        if r.conditional:
            held = [r.extra] if r.extra is not None else [e for e in meta.extras if r.holds((e,))]
            out.setdefault(canonicalize_name(r.name), set()).update(held)
    return {d: tuple(sorted(extras)) for d, extras in out.items() if extras}


def _taken_by(
    extras_of: Mapping[NormalizedName, tuple[str, ...]], wanted: Sequence[str], loader: Loader
) -> dict[NormalizedName, tuple[str, ...]]:
    """The extras to record for each distribution this install writes (`uninstall EXTRA`
    takes what `install EXTRA` took): those naming it alone (its module's), `all` and the
    types, which name it whatever the install was asked; a layout's own extra only when asked
    for now. A MariaDB tester's provider_lz4, installed on its own, went with `uninstall
    compression`, an extra installed after it that took the other four providers."""
    asked = {normalize_extra(w) for w in wanted}
    types = {normalize_extra(t) for t in loader.naming.types}
    naming: dict[str, int] = {}
    for extras in extras_of.values():
        for e in extras:
            naming[e] = naming.get(e, 0) + 1
    return {
        d: tuple(e for e in extras if e in asked or e == "all" or e in types or naming[e] == 1)
        for d, extras in extras_of.items()
    }


def _meta_module_ids(
    dd: DistDir, loader: Loader, extras_of: Mapping[NormalizedName, tuple[str, ...]]
) -> dict[NormalizedName, tuple[str, ...]]:
    """Distribution -> the meta wheel's extras that name it alone: the ids of the modules it
    was split for, as the meta wheel tells them (a type's extra, `all` and a layout's own extras
    name several; the cores, required by no extra, have none). `extras_of`: `_meta_extras`.
    Empty without a meta wheel."""
    try:
        meta = dd.meta()
    except InstallError:
        return {}
    candidates = meta.extras - {canonicalize_name(t) for t in loader.naming.types} - {"all"}
    named: dict[str, set[NormalizedName]] = {}  # extra -> the distributions it requires
    for dist, extras in extras_of.items():
        for extra in extras:
            if extra in candidates:
                named.setdefault(extra, set()).add(dist)
    cores = {canonicalize_name(r.name) for r in meta.requires if not r.conditional}
    out: dict[NormalizedName, list[str]] = {}
    for extra, dists in sorted(named.items()):
        if len(dists) == 1 and (d := next(iter(dists))) not in cores:
            out.setdefault(d, []).append(extra)
    return {d: tuple(ids) for d, ids in out.items()}


def _unplaced(report: CheckReport, done: Sequence[Installed]) -> CheckReport:
    """A module whose distribution was installed now, yet holds no file the loader model calls
    that module (a layout whose only location is absolute, installed under another prefix:
    SASL's /usr/lib/<triplet>/sasl2 into /opt/sasl): not-found, where the install said nothing
    at all. Its modules are those its wheel declares, or the meta wheel names it for
    (`_declared`, `_meta_module_ids`; recorded in its qpack.json too), whether it was asked for
    by module, type or name."""
    from qpack.check import ModuleVerdict, Problem

    found = {canonicalize_name(m.module) for m in report.modules}
    rows = []
    for d in done:
        if d.module_files:
            continue
        why = f"installed by {d.name} {d.version}, but none of its files is where the loader looks for it"
        for mid in d.unplaced:
            if canonicalize_name(mid) not in found:
                rows.append(
                    ModuleVerdict(module=mid, file=None, loads=False, problems=(Problem("not-found", why),))
                )
    if not rows:
        return report
    modules = sorted([*report.modules, *rows], key=lambda m: (m.module, m.file or "", m.executables))
    return replace(report, modules=tuple(modules))


def install_wheels(
    wheel_paths: Sequence[Path],
    target: Path,
    *,
    interpreter: str | None = None,
    installer_name: str = "qpack",
) -> list[Installed]:
    """Install the given wheel files into a venv or prefix (a host path), all or none, with
    the same checks as `install` but no loader model. A wheel whose distribution is already
    installed there is refused (uninstall it first); `interpreter` and `installer_name` are
    kept for compatibility (scripts' `#!python` becomes `<target>/bin/python`)."""
    del interpreter, installer_name
    chosen = [(read_wheel(Path(wp)), False) for wp in wheel_paths]
    target = Path(target).absolute()
    state_root = Path("/")
    prefix = program_prefix(target)
    host = host_path(state_root, prefix)
    existing = InstalledSet.read(host, prefix) if host.is_dir() else None
    if existing is not None:
        for w, _ in chosen:
            if w.name in existing.dists:
                d = existing.dists[w.name]
                raise InstallError(
                    f"{w.name} is already installed in {target} ({posixpath.basename(d.dist_info)})"
                )
    done, _, _, _, _ = _transact(
        chosen, prefix, state_root, loader=None, layout_ref=None, markers=False, step_hook=None
    )
    return done
