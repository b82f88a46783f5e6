"""`qpack list`: the program's distributions installed in a prefix, their versions, and whether
each module loads (the verdicts of `qpack.check`).

The program's distributions are those holding one of the loader's executables (the core) or
modules, those that require one of them (the meta package, groups) and those they require. What
else is installed there (pip itself in a venv) is not listed.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from qpack.check import ELSEWHERE_NOTE, CheckError, CheckReport, check
from qpack.installed import InstalledError, InstalledSet, dist_roles, host_path, program_prefix
from qpack.loader import Loader, inside_prefix
from qpack.transaction import locked, pending

if TYPE_CHECKING:
    from qpack.layout import Layout


@dataclass(frozen=True, kw_only=True)
class Listed:
    name: str
    version: str
    kind: str  # core, group, module, meta, other
    modules: tuple[str, ...]
    loads: bool | None  # modules only; None when the check could not run
    problems: tuple[str, ...] = ()
    requested: bool = False
    installer: str = ""
    fails: bool = False  # a problem `qpack check` fails on (a version skew, say), not only `unused`

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "modules": list(self.modules),
            "loads": self.loads,
            "problems": list(self.problems),
            "requested": self.requested,
            "installer": self.installer,
        }


@dataclass(frozen=True, kw_only=True)
class ListReport:
    prefix: str
    root: str
    layout: str
    dists: tuple[Listed, ...]
    warnings: tuple[str, ...] = ()
    cannot_start: tuple[str, ...] = ()  # why each program that cannot start cannot: once, not per row

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "prefix": self.prefix,
            "root": self.root,
            "layout": self.layout,
            "distributions": [d.to_json() for d in self.dists],
            "warnings": list(self.warnings),
            "cannot_start": list(self.cannot_start),
        }


def recorded_layout(prefix: str | Path, root: str | Path = "/", names: Iterable[str] = ()) -> str | None:
    """The layout `qpack install` recorded in the prefix; None when no distribution records one.
    With `names` that are all installed distributions, the layout those record: two programs'
    plugins in one /usr (LADSPA's swh and cmt) each name their own. Raises InstalledError for a
    prefix that does not exist, and for distributions that record different layouts (say which
    to use with -l)."""
    pre = program_prefix(prefix)
    host = host_path(root, pre)
    if not host.is_dir():
        raise InstalledError(f"{host}: no such directory (the installed prefix)")
    dists = InstalledSet.read(host, pre).dists
    named = [canonicalize_name(n) for n in names]
    if named and all(n in dists for n in named):
        dists = {n: dists[n] for n in named}
    found = sorted({d.layout for d in dists.values() if d.layout})
    if len(found) > 1:
        if (derived := derived_of_all(found)) is not None:
            return derived
        raise InstalledError(
            f"{host}: its distributions record different layouts ({', '.join(found)}); give -l LAYOUT"
        )
    return found[0] if found else None


def other_layouts(recorded: Iterable[str | None], layout_ref: str | None) -> list[str]:
    """The layouts the prefix's distributions record (`recorded`) other than `layout_ref`, the
    one given now; none where one of them extends all the others (a plug-in's layout and its
    program's: `list` takes it)."""
    if layout_ref is None:
        return []
    others = sorted({r for r in recorded if r and r != layout_ref})
    if not others or derived_of_all([*others, layout_ref]) is not None:
        return []
    return others


def same_loader(a: str, b: str) -> bool:
    """Whether the layouts `a` and `b` describe one loader (the files each names aside); False
    where one cannot be read."""
    from qpack.errors import LayoutError
    from qpack.layout import load_layout

    try:
        loaders = [_bare_loader(load_layout(x)) for x in (a, b)]
    except LayoutError:
        return False
    return loaders[0] == loaders[1]


def _bare_loader(layout: Layout) -> Loader:
    """A layout's loader without the files its packages name: what two layouts share when one
    extends the other with packages, not another loader."""
    return dataclasses.replace(layout.loader, named_files=(), package_files=())


def derived_of_all(specs: Sequence[str]) -> str | None:
    """The one of the recorded layouts `specs` that extends all the others, when their loaders
    are the same: a third-party plug-in's layout that extends the program's adds packages, not
    another loader (a BitlBee tester's fb.toml; `list` had refused "different layouts"). None
    when one cannot be read or the loaders differ."""
    from qpack.errors import LayoutError
    from qpack.layout import load_layout

    try:
        layouts = {spec: load_layout(spec) for spec in specs}
    except LayoutError:
        return None
    # The files each names are its own (a derived layout's packages add some): not the loader.
    loaders = [_bare_loader(lay) for lay in layouts.values()]
    if any(ld != loaders[0] for ld in loaders):
        return None
    for spec, lay in layouts.items():
        chain = {Path(p).resolve() for p in (lay.path, *lay.extends)}
        if all(Path(other.path).resolve() in chain for other in layouts.values()):
            return spec
    return None


def _module_verdicts(
    report: CheckReport | None, modules: tuple[str, ...]
) -> tuple[bool | None, tuple[str, ...], bool]:
    """(whether the modules load, their problems, whether any problem fails the check)."""
    if report is None:
        return None, (), False
    problems: list[str] = []
    loads = True
    fails = False
    for mid in modules:
        rows = [m for m in report.modules if m.module == mid]
        if not rows:
            loads = False
            problems.append(f"{mid}: the loader does not find it")
        for row in rows:
            loads = loads and (row.loads or row.unused)  # unused: no program asks for it
            fails = fails or row.fails
            problems += [f"{p.kind}: {p.detail}" for p in row.problems]
    return loads, tuple(dict.fromkeys(problems)), fails or not loads


def _strays_by_owner(
    report: CheckReport | None, state: InstalledSet, prefix: str
) -> dict[NormalizedName, list[str]]:
    """Distribution -> the problems of its files the loader never looks up (`never-looked-up`
    rows, which `check` fails on and which belong to no module)."""
    if report is None:
        return {}
    owner = {posixpath.join(prefix, f): d.name for d in state.dists.values() for f in d.files}
    out: dict[NormalizedName, list[str]] = {}
    for m in report.modules:
        if m.stray and m.file is not None and (name := owner.get(m.file)) is not None:
            out.setdefault(name, []).extend(f"{p.kind}: {p.detail}" for p in m.problems)
    return out


def _holds_modules(where: Path, loader: Loader) -> bool:
    """Whether the directory `where` holds a file named as the loader's modules are, as deep as
    its naming reaches: an empty one, or one of other files, calls for no variable (a Nautilus
    and a gedit tester were told to set XDG_DATA_DIRS for a share/ left with none)."""
    depth = loader.naming.depth() + loader.depth
    for dirpath, dirnames, filenames in os.walk(where):
        rel = os.path.relpath(dirpath, where)
        level = 0 if rel == "." else rel.count("/") + 1
        if level >= depth:
            dirnames[:] = []
        for name in filenames:
            if loader.parse_in_location(name if rel == "." else f"{rel}/{name}") is not None:
                return True
    return False


def list_installed(
    prefix: str | Path,
    *,
    loader: Loader,
    layout_name: str = "",
    root: str | Path = "/",
    pkgversion: str | None = None,
    env: Mapping[str, str] | None = None,
    programs: Sequence[str] = (),
) -> ListReport:
    """The program's distributions in `prefix` (under `root`), with the check's verdict on each
    module; an interrupted transaction found there is recovered first."""
    pre = program_prefix(prefix)
    rt = Path(root).absolute()
    host = host_path(rt, pre)
    if not host.is_dir():
        raise CheckError(f"{host}: no such directory (the installed prefix)")
    warnings: list[str] = []
    if pending(host):
        with locked(host, rt) as notes:
            warnings += notes
    state = InstalledSet.read(host, pre)
    kinds: dict[NormalizedName, str] = {}
    found: dict[NormalizedName, tuple[str, ...]] = {}
    module_files: dict[str, str] = {}  # module id -> its file, as the program sees it
    for name, d in state.dists.items():
        r = dist_roles(d, loader, pre)
        if r.kind != "other":
            # A group package says so, as the plan and the manifest call it (a Samba tester's
            # samba-vfs-modules was a "group" there and a "module" here; an OpenLDAP tester's
            # slapd, a group holding the program too, was a "core").
            kinds[name] = "group" if d.declared_kind == "group" and r.kind in ("module", "core") else r.kind
            found[name] = r.modules
            module_files.update({m: posixpath.join(pre, f) for m, f in r.module_files.items()})
    for name, d in state.dists.items():
        if name not in kinds and any(canonicalize_name(q.name) in kinds for q in d.requires):
            kinds[name] = "meta" if d.extras else "other"
    for name in list(kinds):
        for dep in state.dists[name].needs():
            if dep in state.dists and dep not in kinds:
                kinds[dep] = "other"
    # As install checked: as if the variables a wheels layout names were set (said so).
    # Or where the distributions put modules, gone since (an LV2 tester's deleted amp.so: the
    # host's copy was judged, "yes", exit 0, where check --env said not-found).
    placed = {posixpath.dirname(f) for f in module_files.values()}

    def holds_modules(d: str) -> bool:
        return _holds_modules(host_path(rt, d), loader) or any(
            p == d or p.startswith(f"{d}/") for p in placed
        )

    settings = loader.wheel_settings(pre, env or {}, holds_modules)
    warnings += [
        f"the loader finds the modules in {inside_prefix(value, pre)} only through ${var}: "
        f"checked as if {var}={value} "
        "(give --env to check otherwise)"
        for var, value in settings.items()
    ]
    env = {**loader.as_checked(settings, env or {}, lambda d: host_path(rt, d).is_dir()), **(env or {})}
    report = None
    try:
        from qpack.upgrades import checked_skew

        report = check(
            pre,
            loader,
            layout_name=layout_name,
            root=rt,
            env=env,
            pkgversion=pkgversion,
            programs=programs,
            installed_modules=set(module_files.values()),
        )
        report, _ = checked_skew(report, pre, loader, rt)  # a module left at another version
        # What check judged of this machine's modules says nothing of a list holding no module (a
        # Grilo tester's venv left with its core: "the modules judged are this machine's").
        holds = any(found.values())
        warnings += [w for w in report.warnings if holds or not w.startswith(ELSEWHERE_NOTE)]
    except CheckError as e:
        warnings.append(f"whether modules load is unknown: {e}")
    strays = _strays_by_owner(report, state, pre)
    # A file named like a module that the other modules link is their library, no module
    # (libpurple's libjabber.so in a wheel-installed core: "the loader does not find it").
    libraries = set(report.libraries) if report is not None else set()
    rows = []
    for name in sorted(
        kinds, key=lambda n: (("core", "group", "module", "meta", "other").index(kinds[n]), n)
    ):
        d = state.dists[name]
        mods = tuple(m for m in found.get(name, ()) if module_files.get(m) not in libraries)
        loads, problems, fails = _module_verdicts(report, mods) if mods else (None, (), False)
        if strays.get(name):  # its files the loader never looks up fail `check`: they fail `list`
            problems, fails = (*problems, *strays[name]), True
        rows.append(
            Listed(
                name=d.name,
                version=d.version,
                kind=kinds[name],
                modules=mods,
                loads=loads,
                problems=problems,
                requested=d.requested,
                installer=d.installer,
                fails=fails,
            )
        )
    return ListReport(
        prefix=pre,
        root=str(rt),
        layout=layout_name,
        dists=tuple(rows),
        warnings=tuple(warnings),
        cannot_start=tuple(report.cannot_start.values()) if report is not None else (),
    )
