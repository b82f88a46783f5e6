"""Write a plan as wheels: one per package (core, modules, groups) plus the meta wheel.

Two steps, as elsewhere in qpack: `wheel_specs` decides, without writing anything, every wheel's
name, tag, metadata and entries, and fails on anything a wheel cannot hold; `write_wheels` then
streams the files into the archives in parallel, inside `atomic_dir`.

Policies (README "Wheels"):

- Placement: a file under the prefix goes to ``<dist>.data/data/<path relative to the prefix>``;
  an executable directly in ``<prefix>/<loader bindir>/`` goes to ``<dist>.data/scripts/``.
  Installed into a venv or prefix, both land at ``<root>/<same path>``, where the relocated loader
  looks. Files of the system Python's module directories (``lib/python3/dist-packages``) go to
  ``<dist>.data/platlib/``: the installing Python's site-packages, where a venv imports them.
  Files outside the prefix (``etc/...``) cannot be placed: an error listing them, or, with
  ``outside_prefix="drop"``, left out and returned in ``WheelReport.dropped``.
- Names: PEP 503-normalized (``qemu-accel-tcg-x86_64`` -> ``qemu-accel-tcg-x86-64``), with ``-``
  escaped to ``_`` in file and directory names (binary distribution format). Extras are
  normalized the same way (PEP 685): the module ``accel-tcg-x86_64`` is the extra
  ``accel-tcg-x86-64``. pip 23.3 and later normalize what the user types, so
  ``qemu[accel-tcg-x86_64]`` works there; older pip (23.2, bundled with Python 3.11) compares
  the text as typed and needs ``qemu[accel-tcg-x86-64]``.
- Metadata-Version 2.1; every sibling requirement is pinned ``==`` to the exact version.
- Tag ``py3-none-linux_<machine>`` from the ELF machine of the build's host code: every ELF file
  outside ``<prefix>/share/`` (``share`` holds architecture-independent data, such as QEMU's
  guest firmware for other machines). Two machines there is an error; no ELF file gives ``any``.
- Symlinks: wheels cannot hold them (installers would write the link text as a regular file,
  turning a binary into a text file). A link whose target, followed inside the build, is a
  regular file of the *same* package becomes a copy of that file's bytes and mode (Debian's
  ``usr/bin/kvm -> qemu-system-x86_64``). Any other link (to a directory, dangling, pointing out
  of the build, or to another package's file, whose copy would ship that package's content
  without it) is left out and named in ``WheelReport.notes``.
- Empty directories cannot be in a wheel: left out and named in ``notes``.
- Reproducible: entries in sorted order (``.dist-info`` last, ``RECORD`` the very last), every
  timestamp from ``source_date_epoch`` (else ``$SOURCE_DATE_EPOCH``, else 1980-01-01 00:00:00
  UTC, the earliest date a zip can hold; earlier epochs are clamped to it), Unix file-type and
  permission bits only, fixed compression level: the same inputs give byte-identical wheels.
- A file is in exactly one wheel; this is checked, not assumed.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import os
import posixpath
import re
import stat
import tempfile
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Literal

from packaging.metadata import Metadata
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from qpack import __version__
from qpack.bundle import BundleMode
from qpack.dist_info import PACKAGE_FILE, RECOMMENDED_EXTRA, normalize_extra
from qpack.errors import ChangedSinceScanError, OutputError
from qpack.globs import compile_glob
from qpack.inventory import Entry, link_destination
from qpack.libdeps import Manager, package_libs, packages_for_sonames
from qpack.plan import Package, Plan
from qpack.scan_cache import forgotten_if_changed
from qpack.sonames import provided_sonames
from qpack.versions import to_pep440
from qpack.writers import Progress, Report, Written, check_output, parse_epoch
from qpack.writers._atomic import atomic_dir, checkpoint
from qpack.writers._deflate import Shared, compressobj
from qpack.writers._libraries import FileRef, link_libraries
from qpack.writers._names import check_package_names, wheel_extras
from qpack.writers._placement import Placed, Placement, choose, loader_executables, verify
from qpack.writers._runpath import ElfPatch, patched_copy
from qpack.writers._zip import ZipWriter

CHUNK = 1 << 20
DEFAULT_DATE = (1980, 1, 1, 0, 0, 0)
OutsidePrefix = Literal["error", "drop"]


class WheelError(OutputError):
    """The plan cannot be written as wheels (empty package, unplaceable file, mixed machines...)."""


@dataclass
class WheelReport(Report):
    """`dropped`: build paths outside the prefix, left out; `notes`: what else was left out;
    `placement`: how modules were placed; `external`: soname -> the wheels that need it from the
    system (their `Requires-External`); `resolved`: soname -> distro package, with `resolve_libs`;
    `bundled`: (soname, file name in the wheel, wheel, bytes) of each library `bundle_libs` copied;
    `rewritten`: how many ELF files got a new RUNPATH (or SONAME, DT_NEEDED)."""

    placement: str = ""
    external: dict[str, list[str]] = field(default_factory=dict)
    resolved: dict[str, str | None] | None = None
    bundled: list[tuple[str, str, str, int]] = field(default_factory=list)
    rewritten: int = 0
    respelled: list[tuple[str, str, str]] = field(default_factory=list)  # (meta, module id, extra)

    @property
    def wheels(self) -> list[tuple[Path, int]]:
        """(wheel, payload files) for each wheel written."""
        return [(w.path, w.files) for w in self.written]

    def summary(self) -> list[str]:
        """A few lines for the person splitting: the libraries the wheels need from the system
        (most needed first), what was bundled, and how many files got a RUNPATH."""
        lines = [f"placed for the loader: {self.placement}"] if self.placement else []
        if self.external:
            wheels = {w for ws in self.external.values() for w in ws}
            top = sorted(self.external.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            shown = ", ".join(f"{s} ({len(ws)})" for s, ws in top[:8])
            more = f" and {len(top) - 8} more" if len(top) > 8 else ""
            lines.append(
                f"external libraries: {len(top)} needed from the system by {len(wheels)} wheel(s), "
                f"in their Requires-External: {shown}{more}"
            )
            if self.resolved:
                found = sorted({p for p in self.resolved.values() if p})
                lines.append(f"distro packages providing them: {', '.join(found) or 'none found'}")
        if self.bundled:
            size = sum(b[3] for b in self.bundled)
            into = sorted({b[2] for b in self.bundled})
            lines.append(
                f"bundled: {len(self.bundled)} libraries ({size / 1e6:.1f} MB) into {len(into)} wheel(s): "
                + ", ".join(f"{w} ({sum(1 for b in self.bundled if b[2] == w)})" for w in into)
            )
        if self.rewritten:
            lines.append(
                f"RUNPATH rewritten in {self.rewritten} ELF file(s) to find the wheels' own libraries"
            )
        if self.respelled:
            # An ALSA tester's pip 23.2 took `[ctl-arcam_av]` as no extra and installed nothing.
            meta, first, extra = self.respelled[0]
            more = f" and {len(self.respelled) - 1} more" if len(self.respelled) > 1 else ""
            lines.append(
                f"extras: {len(self.respelled)} module id(s) spelled as PEP 685 normalizes them ({first} is "
                f"`pip install '{meta}[{extra}]'`{more}): pip before 23.3 takes no other spelling"
            )
        return lines


@dataclass(frozen=True)
class Member:
    """One archive entry: streamed from `source` (expected size and sha256 from the scan) or `data`;
    with `patch`, an ELF file rewritten (RUNPATH, SONAME, DT_NEEDED) on a copy before it is
    stored, RECORD then holding the rewritten bytes."""

    arcname: str
    mode: int
    source: Path | None = None
    data: bytes | None = None
    size: int = 0
    sha256: str | None = None
    build_path: str | None = None  # the build file it comes from (a link's own path for copies)
    patch: ElfPatch | None = None


@dataclass(frozen=True)
class WheelSpec:
    package: str
    dist: str  # PEP 503 normalized
    stem: str  # <escaped name>-<version>, the .data and .dist-info directories' stem
    filename: str
    payload: tuple[Member, ...]  # sorted by arcname
    metadata: tuple[Member, ...]  # qpack-package.json, METADATA, WHEEL; RECORD is made while writing

    @property
    def dist_info(self) -> str:
        return f"{self.stem}.dist-info"

    @property
    def payload_bytes(self) -> int:
        return sum(m.size for m in self.payload)


def escape(name: str) -> str:
    """A normalized name as it appears in wheel file and directory names."""
    return canonicalize_name(name).replace("-", "_")


def date_time(source_date_epoch: int | None) -> tuple[int, int, int, int, int, int]:
    if source_date_epoch is None:
        env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if not env:
            return DEFAULT_DATE
        try:
            source_date_epoch = parse_epoch(env)
        except ValueError:
            raise WheelError(f"SOURCE_DATE_EPOCH={env!r} is not a whole number of seconds") from None
    if source_date_epoch > 4354819199:  # 2107-12-31T23:59:59Z, the last time a zip can hold
        raise WheelError(f"SOURCE_DATE_EPOCH={source_date_epoch} is after 2107, which a zip cannot hold")
    t = time.gmtime(max(source_date_epoch, 315532800))  # 1980-01-01T00:00:00Z
    if t.tm_year > 2107:
        raise WheelError(f"SOURCE_DATE_EPOCH={source_date_epoch} is after 2107, which a zip cannot hold")
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _resolve_link(path: str, by_path: dict[str, Entry]) -> tuple[Entry | None, str]:
    """Follow a symlink inside the build, lexically. (final file, '') or (None, why not)."""
    seen = {path}
    entry = by_path[path]
    while entry.kind == "symlink":
        target = entry.target or ""
        resolved = link_destination(entry.path, target)
        if resolved is None:
            return None, f"points outside the build ({target!r})"
        if resolved in seen:
            return None, "is a symlink loop"
        seen.add(resolved)
        nxt = by_path.get(resolved)
        if nxt is None:
            # An absolute target as the link holds it (a Caja tester's /nonexistent/libfoo.so read
            # as the relative 'nonexistent/libfoo.so').
            shown = target if target.startswith("/") else resolved
            return None, f"points to {shown!r}, which is not in this build"
        entry = nxt
    if entry.kind == "dir":
        return None, f"points to the directory {entry.path!r}"
    return entry, ""


def machine_tag(plan: Plan) -> str:
    """`linux_<machine>` from the ELF files of the build's host code, or `any`."""
    share = posixpath.join(plan.prefix.strip("/"), "share") + "/"
    seen: dict[str, str] = {}
    unknown: list[str] = []
    excluded = {x.path for x in plan.excluded}
    for e in plan.inventory.entries:
        # No host code: an ELF file of no machine (a Guile tester's compiled Scheme, ccache/*.go,
        # EM_NONE, stopped every wheel split of Guile), or one no wheel holds.
        if e.elf is None or e.path.startswith(share) or e.elf.machine == "EM_NONE" or e.path in excluded:
            continue
        m = e.elf.wheel_machine
        if m is None:
            unknown.append(f"{e.path} ({e.elf.machine})")
        else:
            seen.setdefault(m, e.path)
    if unknown:
        raise WheelError(f"no wheel platform tag for the ELF machine of {unknown[0]}")
    if len(seen) > 1:
        shown = ", ".join(f"{p} is {m}" for m, p in sorted(seen.items()))
        raise WheelError(f"the build mixes machines, one wheel tag cannot cover it: {shown}")
    return f"linux_{next(iter(seen))}" if seen else "any"


def _settings_to_make(plan: Plan, pkg: Package) -> list[str]:
    """`VAR=<prefix>/DIR` for each variable whose `wheels` directory holds the package's modules
    (an env location's; a type's own only for a package with modules of that type: an
    ImageMagick tester's coder wheels also asked for the filters' variable). A meta package's
    extras may bring any type."""
    loader = plan.layout.loader
    types = {split[0] for m in pkg.modules if (split := loader.naming.split_id(m)) is not None}
    every = loader.wheel_ways()
    # A type whose own variable is set is searched there alone: where every type of the
    # package has one, an env location's variable changes nothing for it (a PipeWire tester's
    # module wheels also asked for SPA_PLUGIN_DIR).
    generic = pkg.kind == "meta" or not types or not types <= {w.mtype for w in every}
    ways = [w for w in every if (generic if w.mtype is None else pkg.kind == "meta" or w.mtype in types)]
    if pkg.kind != "meta":
        # Of an env location's, those whose directories hold the package's modules (a Guile
        # tester's gnutls wheel asked for LTDL_LIBRARY_PATH, which only the ssh wheel needs).
        pre = plan.prefix.strip("/")
        mine = [m.path[len(pre) + 1 :] if pre else m.path for m in plan.modules if m.id in pkg.modules]
        holding = [
            w for w in ways if w.mtype is not None or any(f.startswith(d + "/") for f in mine for d in w.dirs)
        ]
        ways = holding or ways
    out = [f"{v}={value}" for v, value in (w.setting("<prefix>") for w in ways)]
    return list(dict.fromkeys(out))  # one variable, several locations (GIMP2_PLUGINDIR's two)


def _metadata(plan: Plan, pkg: Package, version: str, external: Sequence[str] = ()) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {canonicalize_name(pkg.name)}",
        f"Version: {version}",
    ]
    if pkg.summary:
        lines.append(f"Summary: {' '.join(pkg.summary.split())}")
    reqs = [f"{canonicalize_name(r)}=={version}" for r in pkg.requires]
    extras, clashes = wheel_extras(pkg)
    if clashes:
        raise WheelError(clashes[0])
    if pkg.recommends:
        extras.setdefault(RECOMMENDED_EXTRA, (RECOMMENDED_EXTRA, pkg.recommends))
    for norm in sorted(extras):
        lines.append(f"Provides-Extra: {norm}")
        reqs += [f'{canonicalize_name(m)}=={version}; extra == "{norm}"' for m in extras[norm][1]]
    for r in reqs:
        try:
            Requirement(r)
        except InvalidRequirement as e:
            raise WheelError(f"package {pkg.name!r}: invalid requirement {r!r}: {e}") from None
        lines.append(f"Requires-Dist: {r}")
    lines += [f"Requires-External: {x}" for x in external]
    text = "\n".join(lines) + "\n"
    body: list[str] = []
    if (pkg.kind in ("module", "group", "meta") or pkg.modules) and (
        settings := _settings_to_make(plan, pkg)
    ):
        # A core holding modules too (rsyslog's lmnet): without the variable it does not start.
        # pip cannot set a variable; its user reads what to set here (`pip show -v`, PyPI).
        body += [f"Once installed, set {s}: the program finds its modules only through it." for s in settings]
    if respelled := sorted(name for norm, (name, _) in extras.items() if name != norm):
        # A Traffic Server tester's pip 23.2 took no plug-in for `[server_push_preload]`: pip
        # matches an extra spelled otherwise only since 23.3 (PEP 685).
        first = respelled[0]
        body.append(
            f"Extras are spelled as PEP 685 normalizes module ids ({first} is {normalize_extra(first)}): "
            "pip before 23.3 does not take one spelling for the other."
        )
    if body:
        text += "\n" + "".join(f"{line}\n" for line in body)
    try:  # the whole file, as installers will read it
        Metadata.from_email(text, validate=True)
    except ExceptionGroup as eg:
        problems = "; ".join(str(e) for e in eg.exceptions)
        raise WheelError(f"package {pkg.name!r}: invalid wheel metadata: {problems}") from None
    return text


def _respelled_extras(plan: Plan) -> list[tuple[str, str, str]]:
    """(meta package, module id, extra) of each extra a wheel spells otherwise than its id."""
    return [
        (pkg.name, name, norm)
        for pkg in plan.packages
        if pkg.kind == "meta"
        for norm, (name, _) in sorted(wheel_extras(pkg)[0].items())
        if name != norm
    ]


def _check_names(plan: Plan) -> None:
    """Every package name is a valid wheel name, and no two are the same once normalized."""
    check_package_names(plan, ["wheel"])


def _link_source(
    path: str,
    entry: Entry,
    package: str,
    by_path: dict[str, Entry],
    owner: dict[str, str],
    module_paths: Collection[str] = (),
) -> Entry | str:
    """The file whose bytes a wheel holds for `path`: itself, or for a symlink the regular file
    of the same package it leads to, or for a module the file it leads to wherever that is (the
    loader needs a file where it looks: CUPS's backend/http -> ipp, its own package requiring
    ipp's); else why the link cannot be held."""
    if entry.kind != "symlink":
        return entry
    final, why = _resolve_link(path, by_path)
    if final is not None and owner.get(final.path) != package and path not in module_paths:
        return f"points to {final.path!r} of package {owner.get(final.path, '(excluded)')!r}"
    return final if final is not None else why


@dataclass
class _Payloads:
    """Each package's files as placed: archive members, where they land, what they hold."""

    files: dict[str, list[FileRef]]
    members: dict[str, list[Member]]
    placed: dict[str, Placed]  # build path -> its place
    outside: list[str]
    elf: set[str] = field(default_factory=set)  # build paths placed as ELF files (links: their target's)


def _owners(plan: Plan) -> dict[str, str]:
    """build path -> its package; a file in two packages is an error (pip would overwrite it)."""
    owner: dict[str, str] = {}
    dirs = {e.path for e in plan.inventory.entries if e.kind == "dir"}
    for pkg in plan.packages:
        for f in pkg.files:
            if f in owner and f not in dirs:  # an empty directory may be in several packages
                raise WheelError(
                    f"{f}: in both packages {owner[f]!r} and {pkg.name!r}; pip would overwrite it"
                )
            owner[f] = pkg.name
    return owner


def _payloads(plan: Plan, placement: Placement, pep440: str, report: WheelReport) -> _Payloads:
    """Place every file of every package; links become copies of same-package files."""
    by_path = plan.inventory.by_path()
    owner = _owners(plan)
    out = _Payloads({}, {}, {}, [])
    installed_by: dict[str, str] = {}  # installed path -> wheel
    python_said: set[str] = set()  # wheels whose system-Python files were said
    empty_outside: list[str] = []  # empty directories outside the prefix
    module_paths = {m.path for m in plan.modules}  # where the loader looks: kept there
    for pkg in plan.packages:
        if pkg.kind != "meta" and not pkg.files:
            raise WheelError(
                f"package {pkg.name!r} has no files: a wheel cannot be empty (check its layout rule)"
            )
        dist = canonicalize_name(pkg.name)
        for first, others in sorted(pkg.alternatives.items()):
            # Requires-Dist has no "or": the wheel needs the first (WeeChat's plugins, for
            # weechat-curses | weechat-headless, pulled in curses beside an installed headless).
            report.notes.append(
                f"package {pkg.name!r} requires {' | '.join((first, *others))}: its wheel requires "
                f"{first} alone (wheel metadata has no alternatives; the tree output's manifest keeps them)"
            )
        data_dir = f"{escape(pkg.name)}-{pep440}.data"
        files: list[FileRef] = []
        members: list[Member] = []
        for path in pkg.files:
            src = _link_source(path, by_path[path], pkg.name, by_path, owner, module_paths)
            if isinstance(src, str) and path in module_paths:
                # A Gnumeric tester's dangling plugins/sc/sc.so: the module wheel held only the
                # plug-in's plugin.xml, and installed, its module was "not found".
                raise WheelError(
                    f"{path}: the module's file is a symlink that {src}: {dist} would hold no module "
                    "(fix the link, or leave the module out with an [[exclude]] `modules` entry)"
                )
            if isinstance(src, str) or src.kind == "dir":
                if placement.place(path, False) is None:
                    # A link is a file outside the prefix; an empty directory, said once below.
                    (out.outside if isinstance(src, str) else empty_outside).append(path)
                else:
                    # An empty directory is left out wherever it is, with a note: a wheel
                    # holds no directories, so one outside the prefix is no loss (PHP's
                    # etc/php/8.2/cli/conf.d stopped a split with no file outside /usr).
                    why = (
                        f"symlink that {src}; wheels cannot hold links"
                        if isinstance(src, str)
                        else ("empty directory, a wheel cannot hold it")
                    )
                    report.notes.append(f"{path}: {why} (left out of {dist})")
                continue
            where = placement.place(path, bool(src.mode & 0o111), importable=path not in module_paths)
            if where is None:
                out.outside.append(path)
                continue
            if where.installed in installed_by:
                raise WheelError(
                    f"{where.installed}: would be installed by both {installed_by[where.installed]!r} "
                    f"and {dist!r}"
                )
            installed_by[where.installed] = dist
            out.placed[path] = where
            if src.elf is not None:
                out.elf.add(path)
            report.notes += _placing_notes(path, src, where, dist, python_said)
            m = Member(
                f"{data_dir}/{where.scheme}/{where.path}",
                stat.S_IMODE(src.mode) & 0o777,
                source=plan.inventory.source(src.path),
                size=src.size,
                sha256=src.sha256,
                build_path=path,
            )
            members.append(m)
            files.append(FileRef(pkg.name, m.arcname, where.installed, src, str(m.source)))
        outside_here = any(owner.get(o) == pkg.name for o in out.outside)
        if pkg.kind != "meta" and not members and not outside_here:
            # (One with files outside the prefix is _check_outside's to name.)
            raise WheelError(
                f"package {pkg.name!r} has no files a wheel can hold (only empty directories or links)"
            )
        out.files[pkg.name] = files
        out.members[pkg.name] = members
    report.notes += _empty_outside_note(empty_outside, plan.prefix)
    return out


def _metadata_named_as_a_wheel(plan: Plan, payloads: _Payloads) -> list[str]:
    """A note for each Python distribution's metadata the build ships (`X-1.0.egg-info`,
    `X-1.0.dist-info`, installed where Python imports from) named as a wheel of this split is: a
    GDAL tester's python3-gdal ships GDAL-3.6.2.egg-info, and beside the meta wheel `gdal`, pip
    and importlib.metadata then named the other one."""
    ours = {canonicalize_name(p.name): p.name for p in plan.packages}
    out: dict[str, str] = {}
    for path, where in payloads.placed.items():
        if where.scheme not in ("purelib", "platlib"):
            continue
        top = where.path.split("/", 1)[0]
        stem, dot, kind = top.rpartition(".")
        if not dot or kind not in ("egg-info", "dist-info"):
            continue
        name = canonicalize_name(stem.split("-", 1)[0])
        if name in ours and top not in out:
            out[top] = (
                f"{path.rpartition(top)[0]}{top}: Python metadata of a distribution named as wheel "
                f"{ours[name]!r} of this split: installed together, pip and importlib.metadata see two "
                f"distributions {name!r} (rename the package, or leave the metadata out)"
            )
    return list(out.values())


# What a detached signature beside a file is named: libcamera's ipa_vimc.so.sign, GnuPG's .sig
# and .asc.
_SIGNATURES = (".sign", ".sig", ".asc")


def _signatures_broken(payloads: _Payloads, patches: Mapping[str, ElfPatch]) -> list[str]:
    """A note for each file whose bytes a RUNPATH rewrite changes beside a detached signature of
    them the build ships: a libcamera tester's ipa_vimc.so.sign no longer verified, so libcamera
    would run the module isolated, through a proxy a venv does not have."""
    refs = [f for fs in payloads.files.values() for f in fs]
    shipped = {f.entry.path for f in refs}
    out = []
    for f in refs:
        if f.arcname in patches:
            sigs = [f.entry.path + ext for ext in _SIGNATURES if f.entry.path + ext in shipped]
            out += [
                f"{sig}: a signature of {f.entry.path}'s bytes, which the wheel's RUNPATH rewrite "
                "changes: it no longer verifies (the tree output keeps the bytes)"
                for sig in sigs
            ]
    return out


def _empty_outside_note(paths: Collection[str], prefix: str) -> list[str]:
    """One line for every empty directory outside the prefix: a strongSwan tester's split with
    --drop-outside-prefix said its 94 files outside /usr in one warning, then each empty
    etc/ipsec.d/ directory in one more."""
    empty = sorted(set(paths))
    if not empty:
        return []
    shown = ", ".join(empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
    return [
        f"{len(empty)} empty director{'y' if len(empty) == 1 else 'ies'} outside the prefix {prefix}, "
        f"left out (a wheel holds no directories): {shown}"
    ]


def _placing_notes(path: str, src: Entry, where: Placed, dist: str, python_said: set[str]) -> list[str]:
    """What a wheel loses of a file it holds: a mode bit, or being importable."""
    notes = []
    if src.mode & 0o7000:
        notes.append(
            f"{path}: mode {src.mode:04o}: its setuid, setgid or sticky bit is dropped, as "
            "installers do not restore them (the tree output keeps them)"
        )
    installed = 0o755 if src.mode & 0o111 else 0o644
    if src.kind == "file" and installed & ~src.mode & ~0o200 & 0o777:
        # A CUPS tester's 0700 backends, run as root for that mode, installed 0755 (run as lp).
        notes.append(
            f"{path}: mode {src.mode & 0o777:04o}: installers write it {installed:04o}, as a wheel "
            "keeps no other mode (the tree output keeps it)"
        )
    if _PYTHON_DIR.match(where.installed) and dist not in python_said:
        # A module the loader looks for there stays (the rest go through platlib): on no venv's
        # sys.path (a libproxy tester's python3-libproxy, before platlib).
        python_said.add(dist)
        notes.append(
            f"{path}: installed as <prefix>/{where.installed}, a directory of the system's Python "
            f"that no venv imports from ({dist}: its Python modules are not importable once "
            "pip-installed)"
        )
    return notes


# Where a distribution's Python modules go: not where a venv (or pip's --prefix) imports from.
_PYTHON_DIR = re.compile(r"(?:local/)?lib/python3(?:\.[0-9]+)?/dist-packages/")
# A backslash is a path separator to zip readers and Windows installers (qpack's installer
# refuses it); a control or line-break character breaks RECORD, which installers read by lines.
_UNWHEELABLE = re.compile(r"[\\\x00-\x1f\x7f\x85\u2028\u2029]")


def _check_file_names(payloads: _Payloads) -> None:
    """Every file name a wheel would hold, each refused name on its own line."""
    problems = []
    for members in payloads.members.values():
        for m in members:
            bad = _UNWHEELABLE.search(m.arcname)
            if bad is not None:
                what = "a backslash" if bad.group() == "\\" else f"the control character {bad.group()!r}"
                problems.append(
                    f"{m.build_path!r}: {what} in a file name; a wheel cannot carry it (rename the file, "
                    "or split with --format tree)"
                )
    if problems:
        raise WheelError("\n".join(problems))


def _check_outside(
    plan: Plan, payloads: _Payloads, outside_prefix: OutsidePrefix, report: WheelReport
) -> None:
    outside = payloads.outside
    if not outside:
        return
    if outside_prefix != "drop":
        shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
        raise WheelError(
            f"{len(outside)} file(s) outside the prefix {plan.prefix} cannot go into a wheel: {shown} "
            "(pass --drop-outside-prefix to leave them out)"
        )
    report.dropped = sorted(outside)
    # A module's own file left out leaves its wheel declaring a module it does not hold (an mpv
    # tester's /etc/mpv/scripts/mpris.so link: the split went ahead, exit 0).
    gone = sorted(m.id for m in plan.modules if m.path in set(outside))
    if gone:
        raise WheelError(
            f"module(s) {', '.join(gone[:5])}{' and more' if len(gone) > 5 else ''}: the file the loader "
            f"loads is outside the prefix {plan.prefix} (and left out by --drop-outside-prefix): a wheel "
            "cannot carry the module (split with --format tree)"
        )
    for pkg in plan.packages:
        if pkg.kind != "meta" and not payloads.members[pkg.name]:
            raise WheelError(
                f"package {pkg.name!r} has no files inside the prefix {plan.prefix}: its wheel would be empty"
            )


def _verify_placement(plan: Plan, placement: Placement, payloads: _Payloads) -> None:
    """The loader model must find every placed module and helper after install: else one line."""
    by_path = plan.inventory.by_path()
    exes = loader_executables(plan.layout.loader, plan.prefix, payloads.placed, payloads.elf, by_path)
    globs = [compile_glob(g) for g in plan.layout.loader.loader_globs(plan.prefix)]
    program_there = any(g.match(path) for path in by_path for g in globs)
    problems = verify(plan.layout.loader, placement, plan.modules, payloads.placed, exes, program_there)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        # Where no module can be placed, what can be done (a libvisual and a BIND tester: refused,
        # and not told the tree split serves such a loader).
        tree = (
            "; this loader's modules stay where it looks only in distro packages: split with --format tree"
            if all(p.startswith("module ") and "no install prefix moves" in p for p in problems)
            else ""
        )
        raise WheelError(f"layout {plan.layout.name!r}: {problems[0]}{more}{tree}")


# How much of a script is read for the absolute paths it runs: a wrapper's exec line is near
# its top, and a build's bindir may hold large non-ELF files (a self-extracting archive).
_SCRIPT_HEAD = 64 * 1024


def _scripts_naming_the_build(plan: Plan, payloads: _Payloads) -> list[str]:
    """Scripts installed in bin/ or sbin/ that run a program of the build by its absolute path
    (VLC's cvlc is `exec /usr/bin/vlc -I dummy "$@"`): from a venv they run the system's
    program, or none. Said, not changed: qpack never rewrites or runs a build's scripts."""
    # Wherever the loader's bindir is (a re-tester's syslog-ng has sbin: its bin/ scripts went
    # through data/ and were not read), and with --bundle-libs (everything through data/).
    bindirs = {"bin", "sbin", plan.layout.loader.bindir.strip("/")}
    placed = {
        path: where
        for path, where in payloads.placed.items()
        if posixpath.dirname(where.installed) in bindirs
    }
    programs = {posixpath.basename(path): path for path in placed if path in payloads.elf}
    # By its absolute path, any program of the build, wherever it is (a NUT tester's sbin/upsd,
    # `exec /lib/nut/upsd`, a program of the same build outside bin/ and sbin/).
    by_inventory = plan.inventory.by_path()
    anywhere = sorted(
        path
        for path in payloads.elf
        if path in payloads.placed
        and (e := by_inventory.get(path)) is not None
        and e.elf is not None
        and e.elf.interp
    )
    notes = []
    owner = _owners(plan)
    for path, _where in sorted(placed.items()):
        if path in payloads.elf:
            continue
        try:
            with plan.inventory.source(path).open("rb") as f:
                head = f.read(_SCRIPT_HEAD)
        except OSError:
            continue
        if not head.startswith(b"#!"):
            continue
        named = sorted(
            f"/{program}"
            for program in dict.fromkeys([*programs.values(), *anywhere])
            if re.search(rb"(?<![\w./-])/" + re.escape(program.encode()) + rb"(?![\w.-])", head)
        )
        if named:
            notes.append(
                f"{path} (in {canonicalize_name(owner[path])}): a script that runs {', '.join(named)} "
                "by its absolute path: installed from a wheel, it runs the system's program (or none), "
                "not the wheel's"
            )
        elif (via := _configured_prefix(head, plan.prefix)) and (
            named := sorted(
                name
                for name in programs
                if re.search(rb"(?:\}|\$\w*bindir)/" + re.escape(name.encode()) + rb"(?![\w.-])", head)
            )
        ):
            # autoconf's substituted wrappers (syslog-ng's update-patterndb: prefix=/usr,
            # bindir=${exec_prefix}/bin, then ${bindir}/pdbtool).
            notes.append(
                f"{path} (in {canonicalize_name(owner[path])}): a script that runs {', '.join(named)} "
                f"from the build's configured {via}: installed from a wheel, it runs the system's "
                "program (or none), not the wheel's"
            )
    return notes


# The files a venv's bin/ holds of its own (python -m venv, with pip): a wheel's file installed
# under one of those names replaces it.
_VENV_OWN = re.compile(r"bin/(python(\d+(\.\d+)?)?|pip(\d+(\.\d+)?)?|activate(\.\w+)?|Activate\.ps1)")


def _venv_own_files(plan: Plan, payloads: _Payloads) -> list[str]:
    """Files the wheels install under a name a venv's bin/ already holds: a CPython tester's core
    wheel carried bin/python3.11, and `pip install` replaced the venv's interpreter link with it
    (the venv then ran as a relocated /usr; `qpack install` refuses the overwrite)."""
    owner = _owners(plan)
    return [
        f"{path} (in {canonicalize_name(owner[path])}): installed as <venv>/{where.installed}, a name the "
        "venv holds of its own: pip install replaces the venv's file with it"
        for path, where in sorted(payloads.placed.items())
        if _VENV_OWN.fullmatch(where.installed) and path in owner
    ]


def _module_files_naming_code(plan: Plan, payloads: _Payloads) -> list[str]:
    """Module packages' other files (a manifest, a registry entry) that name an ELF file of the
    build by its absolute path: a Vulkan tester's `icd.d/lvp_icd.x86_64.json` gives
    `"library_path": "/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so"`, so the loader that reads it
    from a venv opens the system's copy (or none), never the wheel's, while the split said the
    module was placed for the loader. Said, not changed: qpack never rewrites a build's files."""
    by_inventory = plan.inventory.by_path()
    texts = [
        (pkg.name, path)
        for pkg in plan.packages
        if pkg.kind == "module"
        for path in pkg.files
        if path in payloads.placed
        and path not in payloads.elf
        and (entry := by_inventory.get(path)) is not None
        and entry.kind == "file"
    ]
    if not texts:
        return []
    # Scripts are code too (an IBus tester's anthy.xml runs /usr/libexec/ibus-engine-anthy, a
    # shell script its wheel carries: not said, where hangul.xml's ELF engine was).
    scripts = [
        path
        for path, entry in by_inventory.items()
        if path in payloads.placed
        and path not in payloads.elf
        and entry.executable
        and _is_script(plan, path)
    ]
    code = sorted([*(p for p in payloads.elf if p in payloads.placed), *scripts], key=len, reverse=True)
    if not code:
        return []
    # Longest first, so that /usr/lib/x.so.1 is not reported as /usr/lib/x.so.
    named_re = re.compile(
        rb"(?<![\w./-])/(" + b"|".join(re.escape(p.encode()) for p in code) + rb")(?![\w.-])"
    )
    notes = []
    for package, path in texts:
        try:
            with plan.inventory.source(path).open("rb") as f:
                head = f.read(_SCRIPT_HEAD)
        except OSError:
            continue
        named = sorted({"/" + m.decode() for m in named_re.findall(head)})
        if named:
            notes.append(
                f"{path} (in {canonicalize_name(package)}): names {', '.join(named)} by its absolute "
                "path: installed from a wheel, it leads the loader to the system's copy (or none), "
                "not the wheel's"
            )
    return notes


def _is_script(plan: Plan, path: str) -> bool:
    """Whether the build's file at `path` starts with `#!`."""
    try:
        with plan.inventory.source(path).open("rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return False


def _configured_prefix(head: bytes, prefix: str) -> str | None:
    """`prefix=/usr` (or exec_prefix, bindir, sbindir) set to the build's prefix in a script, as
    autoconf substitutes it: the assignment as written, or None."""
    pre = re.escape(("/" + prefix.strip("/")).encode())
    m = re.search(
        rb"(?m)^[ \t]*((?:exec_)?prefix|s?bindir)=[\"']?" + pre + rb"(?:/s?bin)?[\"']?[ \t]*(?:#.*)?$", head
    )
    return m[0].strip().decode("utf-8", "replace") if m else None


def wheel_specs(
    plan: Plan,
    version: str,
    outside_prefix: OutsidePrefix = "error",
    *,
    resolve_libs: Manager | None = None,
    bundle_libs: BundleMode | None = None,
    libs_root: Path | None = None,
) -> tuple[list[WheelSpec], WheelReport]:
    """Every wheel to write and what is left out; raises before anything is written.

    Phases: names; placement from the loader model (`_placement`), each file to its place;
    files outside the prefix; proof that the loader finds every placed module; how every ELF
    file finds its libraries (RUNPATH patches, bundled libraries, external needs, tags); then
    each wheel's members, METADATA and WHEEL."""
    pep440 = to_pep440(version)
    _check_names(plan)
    split_tag = machine_tag(plan)
    machine = split_tag.removeprefix("linux_") if split_tag != "any" else None
    placement = choose(plan.layout.loader, plan.prefix, all_data=bundle_libs is not None)
    report = WheelReport(Path(), placement=placement.how, respelled=_respelled_extras(plan))
    payloads = _payloads(plan, placement, pep440, report)
    # Every refusal at once: a Xfce tester passed --drop-outside-prefix as the first told him,
    # to be told next that no wheel could place the panel's plug-ins, whatever the flags.
    refusals = []
    steps: tuple[Callable[[], None], ...] = (
        lambda: _check_file_names(payloads),
        lambda: _check_outside(plan, payloads, outside_prefix, report),
        lambda: _verify_placement(plan, placement, payloads),
    )
    for step in steps:
        try:
            step()
        except WheelError as e:
            refusals.append(str(e))
    if refusals:
        raise WheelError("\n".join(refusals))
    report.notes += _scripts_naming_the_build(plan, payloads)
    naming_code = _module_files_naming_code(plan, payloads)
    report.notes += naming_code
    if naming_code and report.placement:
        # Not for those (a Vulkan re-tester read "placed for the loader" under four warnings
        # that the drivers' manifests lead the loader to the system's copies).
        report.placement += (
            f"; but {len(naming_code)} module package file(s) name code by absolute path (above)"
        )
    report.notes += _venv_own_files(plan, payloads)
    report.notes += _metadata_named_as_a_wheel(plan, payloads)

    linked = link_libraries(
        [f for fs in payloads.files.values() for f in fs],
        provided=provided_sonames(plan.inventory, plan.prefix),
        requires={p.name: p.requires for p in plan.packages},
        order=[p.name for p in plan.packages],
        escaped={p.name: escape(p.name) for p in plan.packages},
        prefix=plan.prefix,
        machine=machine,
        bundle=bundle_libs,
        libs_root=libs_root,
    )
    report.rewritten = len(linked.patches)
    report.notes += _signatures_broken(payloads, linked.patches)
    for name, sonames in linked.external.items():
        for soname in sonames:
            report.external.setdefault(soname, []).append(canonicalize_name(name))
    report.external = dict(sorted(report.external.items()))
    distro: dict[str, str | None] = {}
    if resolve_libs is not None and report.external:
        machines = {e.soname: e.machine for pl in package_libs(plan).values() for e in pl.external}
        wanted = {s: machines.get(s, "EM_X86_64" if machine == "x86_64" else "") for s in report.external}
        distro = packages_for_sonames(wanted, resolve_libs)
        report.resolved = dict(sorted(distro.items()))

    specs: list[WheelSpec] = []
    required_cores = set(plan.layout.required_cores())
    for pkg in plan.packages:
        stem = f"{escape(pkg.name)}-{pep440}"
        payload = [
            replace(m, patch=linked.patches[m.arcname]) if m.arcname in linked.patches else m
            for m in payloads.members[pkg.name]
        ]
        for g in linked.grafts:
            if g.package == pkg.name:
                payload.append(
                    Member(
                        f"{stem}.data/data/{g.installed}", 0o644, source=Path(g.lib.path), size=g.lib.size,
                        sha256=g.lib.sha256, patch=g.patch,
                    )
                )  # fmt: skip
                report.bundled.append((g.lib.soname, g.lib.new_name, canonicalize_name(pkg.name), g.lib.size))
        ext = linked.external.get(pkg.name, [])
        requires_external = [*ext, *sorted({d for s in ext if (d := distro.get(s))})]
        tag = f"py3-none-{linked.tags.get(pkg.name, split_tag)}"
        wheel_text = (
            f"Wheel-Version: 1.0\nGenerator: qpack {__version__}\nRoot-Is-Purelib: false\nTag: {tag}\n"
        )
        declared: dict[str, object] = {"version": 1, "kind": pkg.kind, "modules": sorted(pkg.modules)}
        if pkg.kind == "core" and pkg.name not in required_cores:
            # `required = false`: installed on request only when asked for (install reads it).
            declared["required"] = False
        meta = (
            Member(
                f"{stem}.dist-info/{PACKAGE_FILE}",
                0o644,
                data=(json.dumps(declared, indent=1, sort_keys=True) + "\n").encode(),
            ),
            Member(
                f"{stem}.dist-info/METADATA",
                0o644,
                data=_metadata(plan, pkg, pep440, requires_external).encode(),
            ),
            Member(f"{stem}.dist-info/WHEEL", 0o644, data=wheel_text.encode()),
        )
        specs.append(
            WheelSpec(
                pkg.name,
                canonicalize_name(pkg.name),
                stem,
                f"{stem}-{tag}.whl",
                tuple(sorted(payload, key=lambda m: m.arcname)),
                meta,
            )
        )
    return specs, report


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Compressed:
    """One entry compressed ahead of its place in the archive: raw deflate data (spooled to
    disk past SPOOL_MAX), CRC-32, sizes and the RECORD hash of the uncompressed bytes."""

    member: Member
    data: IO[bytes]
    crc: int
    size: int
    compress_size: int
    digest: str

    def close(self) -> None:
        self.data.close()


SPOOL_MAX = 4 << 20


def compress(
    member: Member,
    level: int,
    advance: Callable[[int], None] | None = None,
    workdir: Path | None = None,
    shared: Shared | None = None,
) -> Compressed:
    """Deflate one entry, streaming it in chunks; sha256, CRC-32 and zlib all release the GIL on
    large buffers, so several of these run on several cores at once. A member with a `patch` is
    first copied into `workdir` and rewritten there; the archive and RECORD get the new bytes.
    With `shared`, a content other entries hold too is deflated once (qpack/writers/_deflate.py)."""
    if member.patch is not None:
        assert member.source is not None and workdir is not None
        dst = workdir / hashlib.sha256(member.arcname.encode()).hexdigest()
        size, sha = patched_copy(member.source, dst, member.patch, size=member.size, sha256=member.sha256)
        try:
            done = compress(replace(member, source=dst, size=size, sha256=sha, patch=None), level, advance)
        finally:
            dst.unlink()
        done.member = member  # the spec's member: its place in the archive
        return done
    h = hashlib.sha256()
    crc = 0
    n = 0
    # raw deflate (zlib-ng), as zipfile writes it: qpack/writers/_deflate.py
    comp = compressobj(level) if shared is None else shared.compressobj(level, member.sha256)
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX)  # noqa: SIM115 - closed by the caller
    try:
        if member.data is not None:
            src: IO[bytes] = io.BytesIO(member.data)
        else:
            assert member.source is not None
            src = member.source.open("rb")
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        with src:
            while k := src.readinto(buf):  # type: ignore[attr-defined]
                chunk = view[:k]
                h.update(chunk)
                crc = zlib.crc32(chunk, crc)
                spool.write(comp.compress(chunk))
                n += k
                if advance is not None:
                    advance(k)
        spool.write(comp.flush())
        csize = spool.tell()
        spool.seek(0)
    except OSError as e:
        spool.close()
        raise WheelError(f"{e.filename or member.source}: cannot read: {e.strerror}") from None
    except BaseException:
        spool.close()
        raise
    if member.source is not None and (n != member.size or h.hexdigest() != member.sha256):
        spool.close()
        raise ChangedSinceScanError(
            f"{member.source}: changed since the build was scanned; scan and split again"
        )
    return Compressed(member, spool, crc, n, csize, f"sha256={_b64(h.digest())}")


def assemble(
    spec: WheelSpec,
    path: Path,
    entries: Iterator[Compressed],
    *,
    when: tuple[int, int, int, int, int, int],
    compression_level: int,
    outdir: Path | None = None,
) -> None:
    """Write the wheel from its payload entries (compressed, in `spec.payload` order), then
    METADATA, WHEEL and the RECORD of what was written. `outdir`: the output an error names
    (not the temporary directory `path` is in)."""
    records: list[tuple[str, str, str]] = []

    def append(zw: ZipWriter, c: Compressed) -> None:
        m = c.member
        zw.add(m.arcname, m.mode, when, crc=c.crc, size=c.size, compress_size=c.compress_size, data=c.data)
        records.append((m.arcname, c.digest, str(c.size)))

    try:
        with path.open("wb") as f, ZipWriter(f) as zw:
            for m in spec.payload:
                c = next(entries)
                assert c.member is m
                with contextlib.closing(c):
                    append(zw, c)
            for m in spec.metadata:
                with contextlib.closing(compress(m, compression_level)) as c:
                    append(zw, c)
            record_name = f"{spec.dist_info}/RECORD"
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows([*records, (record_name, "", "")])
            record = Member(record_name, 0o644, data=out.getvalue().encode())
            with contextlib.closing(compress(record, compression_level)) as c:
                zw.add(
                    record_name,
                    0o644,
                    when,
                    crc=c.crc,
                    size=c.size,
                    compress_size=c.compress_size,
                    data=c.data,
                )
    except OSError as e:
        where = outdir if outdir is not None else (e.filename or path)
        raise WheelError(f"{where}: cannot write wheel {spec.filename}: {e.strerror}") from None


def write_wheel(
    spec: WheelSpec,
    path: Path,
    *,
    when: tuple[int, int, int, int, int, int] = DEFAULT_DATE,
    compression_level: int = 6,
    advance: Callable[[int], None] | None = None,
) -> None:
    """Write one wheel on this thread (write_wheels spreads the compression over cores)."""
    with tempfile.TemporaryDirectory(prefix=".qpack-patch-", dir=path.parent) as work:
        entries = (compress(m, compression_level, advance, Path(work)) for m in spec.payload)
        assemble(spec, path, entries, when=when, compression_level=compression_level)


def write_wheels(
    plan: Plan,
    outdir: Path,
    *,
    version: str,
    force: bool = False,
    outside_prefix: OutsidePrefix = "error",
    compression_level: int = 6,
    progress: Progress | None = None,
    jobs: int | None = None,
    source_date_epoch: int | None = None,
    resolve_libs: Manager | None = None,
    bundle_libs: BundleMode | None = None,
    libs_root: Path | None = None,
    packages: Collection[str] | None = None,
) -> WheelReport:
    """One wheel per package of the plan (the meta wheel included) in `outdir`, atomically;
    with `packages`, only the wheels of those packages (the PEP 517 backend builds one), each
    the same bytes as in the whole split: everything is still decided for the whole plan.

    Parallel at the level of files, not wheels (QEMU's core wheel holds ~90% of the bytes):
    `jobs` worker threads (default: one per core) deflate the entries ahead (rewriting ELF
    files that need a new RUNPATH on copies first), a bounded window of them at a time, while
    this thread appends them to the archives in their fixed order. `resolve_libs` names the
    distro package of each external library in `Requires-External`; `bundle_libs` copies
    external libraries into the wheels (`qpack.bundle`), found in `libs_root` (a chroot or
    sysroot of the system the build is for; default this machine).
    """
    outdir = Path(outdir)
    if not 0 <= compression_level <= 9:
        raise WheelError(f"compression level {compression_level} is not between 0 and 9")
    check_output(outdir, plan.inventory.root, force)
    when = date_time(source_date_epoch)
    specs, report = wheel_specs(
        plan, version, outside_prefix, resolve_libs=resolve_libs, bundle_libs=bundle_libs, libs_root=libs_root
    )
    report.outdir = outdir
    if packages is not None:
        unknown = sorted(set(packages) - {s.package for s in specs})
        if unknown:
            raise WheelError(f"no such package in the plan: {', '.join(unknown)}")
        specs = [s for s in specs if s.package in packages]
    total = sum(s.payload_bytes for s in specs)
    lock = threading.Lock()

    def advance(n: int) -> None:
        if progress is not None:
            with lock:
                progress(n, total)

    workers = max(1, jobs or os.cpu_count() or 1)
    window = 4 * workers  # entries compressed ahead of the writer: bounds memory and disk
    todo = iter([m for s in specs for m in s.payload])
    pending: deque[Future[Compressed]] = deque()
    # Identical contents (a copy such as Debian's usr/bin/kvm, a symlink made a copy) deflated once.
    shared = Shared(m.sha256 for s in specs for m in s.payload if m.patch is None)

    with (
        forgotten_if_changed(plan.inventory.root),
        atomic_dir(outdir, build=plan.inventory.root, force=force) as tmp,
        # inside the temporary output: removed with it, also after a kill
        tempfile.TemporaryDirectory(prefix=".qpack-patch-", dir=tmp) as work,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):

        def entries() -> Iterator[Compressed]:
            while True:
                while len(pending) < window and (m := next(todo, None)) is not None:
                    pending.append(
                        pool.submit(
                            compress, m, compression_level, advance if progress else None, Path(work), shared
                        )
                    )
                if not pending:
                    return
                yield pending.popleft().result()

        stream = entries()
        try:
            for s in specs:
                assemble(
                    s, tmp / s.filename, stream, when=when, compression_level=compression_level, outdir=outdir
                )
                checkpoint(f"wrote {s.filename}")
        except BaseException:
            for f in pending:
                f.cancel()
            for f in pending:
                if not f.cancelled() and f.exception() is None:
                    f.result().close()
            raise
    report.written = [Written(s.package, outdir / s.filename, len(s.payload)) for s in specs]
    return report
