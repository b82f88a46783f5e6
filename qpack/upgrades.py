"""Split installs after an upgrade: module distributions whose version is not the installed
core's.

pip upgrades only what it is asked to: `pip install -U qemu-core` leaves `qemu-ui-gtk` at the
old version, and although the module pins `qemu-core==OLD`, pip only prints an error about the
broken pin and still exits 0. The installed `.dist-info` directories tell the truth; this module
reads them (through `qpack.installed`) and names every module distribution whose version is not
the version of the core distribution it requires. `qpack check` reports each as a `version`
problem of the modules it holds.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from qpack.check import CheckReport, Problem, taken_elsewhere, with_unfound
from qpack.installed import (
    Distribution,
    InstalledError,
    InstalledSet,
    Roles,
    dist_roles,
    host_path,
    program_prefix,
)
from qpack.loader import Loader


@dataclass(frozen=True, kw_only=True, slots=True)
class VersionSkew:
    """An installed module distribution whose version differs from its core's."""

    distribution: str
    version: str
    modules: tuple[str, ...]
    core: str
    core_version: str

    @property
    def detail(self) -> str:
        return (
            f"{self.distribution} {self.version} is installed beside {self.core} {self.core_version}: "
            f"upgrade both to one version (pip install -U {self.distribution} {self.core})"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "distribution": self.distribution,
            "version": self.version,
            "modules": list(self.modules),
            "core": self.core,
            "core_version": self.core_version,
        }


def _same(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


@dataclass(frozen=True, slots=True)
class _Installed:
    """The distributions of a prefix, each with its roles, read once for all that is derived."""

    prefix: str  # as the program sees it
    dists: tuple[tuple[Distribution, Roles], ...]

    @classmethod
    def read(cls, prefix: str | Path, loader: Loader, root: str | Path) -> _Installed:
        pre = program_prefix(prefix)
        host = host_path(root, pre)
        if not host.is_dir():
            return cls(pre, ())
        state = InstalledSet.read(host, pre)
        return cls(pre, tuple((d, dist_roles(d, loader, pre)) for d in state.dists.values()))


def version_skew(prefix: str | Path, loader: Loader, root: str | Path = "/") -> list[VersionSkew]:
    """The module distributions in `prefix` (under `root`) whose version is not that of the core
    distribution they require (or, when they require others, of each core distribution
    installed). A module distribution that requires nothing was split from a build of its own
    and has none; nor has a prefix nothing was installed into by a wheel installer."""
    return _skew(_Installed.read(prefix, loader, root))


def _skewed(d: Distribution, modules: tuple[str, ...], core: Distribution) -> VersionSkew:
    return VersionSkew(
        distribution=d.name, version=d.version, modules=modules, core=core.name, core_version=core.version
    )


def _skew(installed: _Installed) -> list[VersionSkew]:
    cores: dict[str, tuple[Distribution, tuple[str, ...]]] = {}
    modules: dict[str, tuple[Distribution, tuple[str, ...]]] = {}
    for d, r in installed.dists:
        if r.kind == "core":
            cores[d.name] = (d, r.modules)
        elif r.kind == "module":
            modules[d.name] = (d, r.modules)
    out: list[VersionSkew] = []
    for d, mods in modules.values():
        if not d.needs():
            continue  # split from a build of its own (`requires = []`): its own version line
        required = [cores[n][0] for n in sorted(d.needs()) if n in cores]
        for core in required or [c for c, _ in cores.values()]:
            if not _same(d.version, core.version):
                out.append(_skewed(d, mods, core))
    # A core package requiring another of the split at another version: one build's programs
    # mixed with another's (a GCC tester's g++-12, a group holding the g++ driver and cc1plus,
    # at 12.2.1 beside gcc-12 and cpp-12 at 12.2.0: check said nothing).
    for d, mods in cores.values():
        for n in sorted(d.needs()):
            if n in cores and not _same(d.version, (core := cores[n][0]).version):
                out.append(_skewed(d, mods, core))
    return sorted(out, key=lambda s: (canonicalize_name(s.distribution), s.core))


def checked_skew(
    report: CheckReport,
    prefix: str | Path,
    loader: Loader,
    root: str | Path = "/",
    layout_ref: str | None = None,
) -> tuple[CheckReport, list[VersionSkew]]:
    """`check`'s report with what the installed distributions of `prefix` add: the version skew
    (`with_skew`), and a `not-found` row for each module they installed that the loader does
    not find (`check.with_unfound`); and the skew. Installed metadata that cannot be read (a
    distribution installed twice) leaves the report as it was, with a warning saying so."""
    try:
        installed = _Installed.read(prefix, loader, root)
    except InstalledError as e:
        return replace(report, warnings=(*report.warnings, f"installed versions not compared: {e}")), []
    skews = _skew(installed)
    pre = report.prefix
    ways_in = {
        posixpath.join(pre, d): "=".join(way.setting(pre)) for way in loader.wheel_ways() for d in way.dirs
    }
    files = _module_files(installed)
    report = with_unfound(report, files, Path(root), ways_in)
    report = replace(report, warnings=(*report.warnings, *_installed_with_another(installed, layout_ref)))
    report = replace(report, warnings=(*report.warnings, *taken_elsewhere(report, files, ways_in)))
    return with_skew(report, skews, files), skews


def _installed_with_another(installed: _Installed, layout_ref: str | None) -> list[str]:
    """A warning where the prefix's distributions record another layout than the one checking:
    their modules are judged by this one's ids and locations (an Audacious tester's untyped
    layout said `input-vorbis` was "not-found" while its file loaded, as module `vorbis`)."""
    from qpack.listing import other_layouts, same_loader

    others = [
        o
        for o in other_layouts((d.layout for d, _ in installed.dists), layout_ref)
        if layout_ref is None or not same_loader(o, layout_ref)
    ]
    if not others:
        return []
    return [
        f"the prefix's distributions record layout {', '.join(others)}, and this check uses {layout_ref}: "
        "the modules they installed are judged by this layout's ids and locations (check with -l "
        f"{others[0]} to judge them as installed)"
    ]


def installed_module_files(prefix: str | Path, loader: Loader, root: str | Path = "/") -> set[str]:
    """The files (as the program sees them) of the modules the distributions of `prefix`
    installed, for `check`'s `installed_modules`; none where the metadata cannot be read."""
    try:
        installed = _Installed.read(prefix, loader, root)
    except InstalledError:
        return set()
    return {f for f, _ in _module_files(installed).values() if f is not None}


def _module_files(installed: _Installed) -> dict[str, tuple[str | None, str]]:
    """Module id -> (its file as the program sees it, None for a module recorded by a
    distribution none of whose files is placed; the distribution that installed it)."""
    out: dict[str, tuple[str | None, str]] = {}
    for d, r in installed.dists:
        # A core distribution keeps the modules `install` recorded even where the layout given
        # now places none of its files (a Kerberos tester's krb5-core with its preauth/spake.so,
        # checked by a layout whose loader reads only the host's directory), whether it holds the
        # program or not (PHP's php8.2-common: 17 modules, the program in php8.2-cli).
        unplaced = [m for m in d.recorded if m not in r.modules] if r.kind == "core" else []
        for mid in (*r.modules, *unplaced):
            rel = r.module_files.get(mid)
            out.setdefault(
                mid, (posixpath.join(installed.prefix, rel) if rel else None, f"{d.name} {d.version}")
            )
    return out


def with_skew(
    report: CheckReport, skews: list[VersionSkew], files: Mapping[str, tuple[str | None, str]] | None = None
) -> CheckReport:
    """The check's report with a `version` problem on each module of a skewed distribution;
    a module the loader did not find is named in the warnings instead. `files`: each module's
    file as installed (`_module_files`), named where the loader takes another copy (a Gnumeric
    tester's venv plug-in at 1.12.54 was reported on the row of the host's copy alone)."""
    if not skews:
        return report
    rows_file = {v.module: v.file for v in report.modules}
    by_module: dict[str, list[Problem]] = {}
    for s in skews:
        for m in s.modules:
            mine = (files or {}).get(m, (None, ""))[0]
            loaded = rows_file.get(m)
            copy = (
                f" (its copy {mine} is not the one loaded)"
                if mine is not None and loaded is not None and loaded != mine
                else ""
            )
            by_module.setdefault(m, []).append(
                Problem(
                    "version", s.detail.replace(" is installed beside ", f"{copy} is installed beside ", 1)
                )
            )
    seen: set[str] = set()
    rows = []
    for v in report.modules:
        extra = by_module.get(v.module, [])
        if extra and v.file is not None:
            seen.add(v.module)
            rows.append(replace(v, problems=(*v.problems, *extra)))
        else:
            rows.append(v)
    warnings = [f"module {m!r}: {p.detail}" for m, ps in by_module.items() if m not in seen for p in ps]
    return replace(report, modules=tuple(rows), warnings=(*report.warnings, *warnings))
