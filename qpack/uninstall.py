"""Remove installed distributions by their RECORD, all or nothing, whoever installed them (qpack
or pip).

Which distributions go:

- the ones named, by distribution name (`qemu-ui-gtk`) or, with a loader, by module id
  (`ui-gtk`, typed as the user likes: `accel-tcg-x86_64` or `accel-tcg-x86-64`);
- a distribution that an installed one requires (unconditionally, by Requires-Dist) is not
  removed unless that one is named too, or `with_dependents` adds every such dependent;
- then, unless `keep_dependencies`: every distribution the removed ones required that nothing
  left requires and that was installed only as a dependency (no `REQUESTED` file in its
  `.dist-info`; `qpack install` writes one for what was asked for and for the core, pip for
  what was named on its command line), transitively. So `ui-opengl`, pulled in by `ui-gtk`,
  goes with `ui-gtk` unless another installed module (`ui-egl-headless`) needs it, or it was
  installed on request.

Every file a removed distribution's RECORD lists (and the rest of its `.dist-info`, and the
`__pycache__` entries of its `.py` files) is moved into the journal's backup directory, then
the directories this leaves empty are removed, up to the prefix; a file that a distribution
which stays also lists is kept. A RECORD entry outside the prefix is refused (nothing is
removed). The transaction is undone on any failure (`qpack.transaction`).
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from qpack.errors import QpackError, did_you_mean
from qpack.installed import Distribution, InstalledSet, dist_roles, host_path, program_prefix
from qpack.loader import Loader
from qpack.transaction import STATE_DIR, StepHook, Transaction, TxPlan, locked


class UninstallError(QpackError):
    """Distributions cannot be removed as asked."""


@dataclass(frozen=True, slots=True)
class Removed:
    name: NormalizedName
    version: str
    why: str  # "named", "dependent" (--with-dependents) or "unneeded" (installed as a dependency)
    files: int


@dataclass(frozen=True, kw_only=True)
class UninstallReport:
    prefix: str
    root: str
    removed: tuple[Removed, ...]
    kept: tuple[str, ...] = ()  # dependencies kept, with why
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "prefix": self.prefix,
            "root": self.root,
            "removed": [
                {"name": r.name, "version": r.version, "why": r.why, "files": r.files} for r in self.removed
            ],
            "kept": list(self.kept),
            "warnings": list(self.warnings),
        }


_Words = dict[str, list[tuple[str, NormalizedName]]]  # word -> (module id or extra, distribution)


def _names(state: InstalledSet, loader: Loader | None) -> tuple[dict[str, NormalizedName], _Words, _Words]:
    """(installed module id -> its distribution, word -> the distributions it names with the
    word a refusal names each by, word -> the modules of that type a core holds). The words: a
    module type, every installed module of it outside a core, as `install` takes a type (a Qt
    tester: `install sqldrivers` worked, `uninstall sqldrivers` did not; a Kerberos tester's
    `uninstall preauth` was refused whole for the one preauth module in krb5-core); then an
    extra of the meta wheel, what `install goa` took (an evolution-data-server tester's
    `uninstall goa` was told to pick one of its two modules)."""
    by_module: dict[str, NormalizedName] = {}
    several: _Words = {}
    in_core: _Words = {}
    if loader is not None:
        for d in state.dists.values():
            roles = dist_roles(d, loader, state.prefix)
            for mid in roles.modules:
                by_module.setdefault(canonicalize_name(mid), d.name)
                if loader.naming.typed and (typed := loader.naming.split_id(mid)) is not None:
                    word = canonicalize_name(typed[0])
                    (in_core if roles.kind == "core" else several).setdefault(word, []).append((mid, d.name))
    types = set(several) | set(in_core)
    for d in state.dists.values():
        for extra in d.meta_extras:
            if extra not in types:
                several.setdefault(extra, []).append((extra, d.name))
    return by_module, several, in_core


def _lookup(
    state: InstalledSet, items: Sequence[str], loader: Loader | None
) -> tuple[list[NormalizedName], dict[NormalizedName, str], list[str]]:
    """Distribution names for what the user typed: names first, then module ids, module types,
    and the meta wheel's extras `install` recorded; and for a distribution named through a
    module id, type or extra, that word (a refusal says which distribution it is: WeeChat's irc
    is in weechat-core, and "weechat-core: ..." alone puzzled); and warnings."""
    by_module, several, in_core = _names(state, loader)
    out: list[NormalizedName] = []
    via: dict[NormalizedName, str] = {}
    warnings: list[str] = []
    for item in items:
        norm = canonicalize_name(item)
        if norm not in state.dists and norm not in by_module and norm in in_core:
            held = sorted(in_core[norm])
            what = f"{', '.join(m for m, _ in held)} {'is' if len(held) == 1 else 'are'} in "
            what += ", ".join(sorted({state.describe(d) for _, d in held}))
            if norm not in several:
                raise UninstallError(
                    f"{item}: every installed module of it is in a distribution holding the program "
                    f"({what}); name that distribution to remove it"
                )
            warnings.append(f"{what}, which holds the program: left installed")
        if norm not in state.dists and norm not in by_module and norm in several:
            for word, dist in sorted(several[norm]):
                if word == norm and (others := _other_extras(state, dist, items, by_module, loader)):
                    warnings.append(
                        f"{state.describe(dist)}: kept, installed for {', '.join(others)} too "
                        f"(name {dist} to remove it)"
                    )
                    continue
                via.setdefault(dist, word)
                if dist not in out:
                    out.append(dist)
            continue
        name = norm if norm in state.dists else by_module.get(norm)
        if name is not None and name != norm:
            via.setdefault(name, item)
        if (
            name is None
            and loader is not None
            and norm in {canonicalize_name(t) for t in loader.naming.types}
        ):
            raise UninstallError(
                f"{item}: a module type of the layout, but no module of it is installed in {state.host}"
            )
        if name is None:
            hint = "" if loader is not None else " (give -l LAYOUT to name modules)"
            # As install suggests (an Audacious tester's `uninstall alsa` for output-alsa).
            known = [*state.dists, *by_module, *several]
            raise UninstallError(
                f"{item}: neither an installed distribution nor an installed module in {state.host}"
                f"{hint}{did_you_mean([norm], known)}"
            )
        if name not in out:
            out.append(name)
    return out, via, warnings


def _other_extras(
    state: InstalledSet,
    dist: NormalizedName,
    items: Sequence[str],
    by_module: Mapping[str, NormalizedName],
    loader: Loader | None,
) -> list[str]:
    """The layout's own extras, besides those named now, that `install` recorded for `dist`
    having been asked for them: recorded for another installed distribution too (an extra
    naming several distributions is recorded only when asked: install._taken_by), not `all`,
    a type or a module's own. `install net remote` with block-curl in both, then `uninstall
    net`, took block-curl from `remote`."""
    named = {canonicalize_name(i) for i in items}
    types = {canonicalize_name(t) for t in loader.naming.types} if loader is not None else set()
    shared = Counter(e for d in state.dists.values() for e in d.meta_extras)
    return [
        e
        for e in state.dists[dist].meta_extras
        if shared[e] > 1 and e != "all" and e not in types and e not in by_module and e not in named
    ]


def _siblings(
    state: InstalledSet, items: Sequence[str], named: Sequence[NormalizedName], loader: Loader | None
) -> list[str]:
    """A module named whose distribution holds other modules too (a group package): they go
    with it, which the user who named one module should be told."""
    if loader is None:
        return []
    asked = {canonicalize_name(i) for i in items}
    out = []
    types = {canonicalize_name(t) for t in loader.naming.types}
    for name in named:
        if name in asked:
            continue  # the distribution itself was named
        modules = dist_roles(state.dists[name], loader, state.prefix).modules
        if asked & set(state.dists[name].meta_extras) - {canonicalize_name(m) for m in modules} - types:
            continue  # an extra of the layout's own (or `all`) named it whole
        others = [m for m in modules if canonicalize_name(m) not in asked and not _of(m, asked, loader)]
        if others:
            out.append(f"{state.describe(name)} also holds {', '.join(others)}: removed with it")
    return out


def _of(module_id: str, asked: set[NormalizedName], loader: Loader) -> bool:
    """Whether the module is of a type named among `asked`."""
    typed = loader.naming.split_id(module_id) if loader.naming.typed else None
    return typed is not None and canonicalize_name(typed[0]) in asked


def _refuse_core(
    state: InstalledSet, items: Sequence[str], via: Mapping[NormalizedName, str], loader: Loader | None
) -> None:
    """A module id that leads to a core distribution (PulseAudio's pulseaudio holds the daemon
    and 67 modules; rsyslog's core holds lmnet): removing the module would remove the program
    with it. Only naming the distribution itself does that."""
    if loader is None:
        return
    asked = {canonicalize_name(i) for i in items}
    for name, module in via.items():
        if name in asked:
            continue  # the distribution is named too
        roles = dist_roles(state.dists[name], loader, state.prefix)
        if roles.kind != "core":
            continue
        what = f"the program ({', '.join(roles.executables)})" if roles.executables else "the program's core"
        raise UninstallError(
            f"{module} is in {state.describe(name)}, which holds {what}: a module of it cannot be "
            f"uninstalled alone; name {name} to remove the whole distribution"
        )


def _needed_by(state: InstalledSet) -> dict[NormalizedName, set[NormalizedName]]:
    """Distribution -> the installed distributions that require it."""
    rdeps: dict[NormalizedName, set[NormalizedName]] = {n: set() for n in state.dists}
    for d in state.dists.values():
        for dep in d.needs():
            if dep in rdeps and dep != d.name:
                rdeps[dep].add(d.name)
    return rdeps


def _wanted_by_extras(state: InstalledSet) -> dict[NormalizedName, set[NormalizedName]]:
    """Distribution -> the installed distributions whose extras (only) require it."""
    out: dict[NormalizedName, set[NormalizedName]] = {n: set() for n in state.dists}
    for d in state.dists.values():
        for r in d.requires:
            dep = canonicalize_name(r.name)
            if dep in out and dep != d.name and r.conditional and not r.holds(("",)):
                out[dep].add(d.name)
    return out


def _choose(
    state: InstalledSet,
    named: list[NormalizedName],
    *,
    with_dependents: bool,
    keep_dependencies: bool,
    via: Mapping[NormalizedName, str] | None = None,
) -> tuple[dict[NormalizedName, str], list[str]]:
    rdeps = _needed_by(state)
    why: dict[NormalizedName, str] = dict.fromkeys(named, "named")
    todo = list(named)
    while todo:
        cur = todo.pop()
        dependents = sorted(rdeps[cur] - set(why))
        if dependents and not with_dependents:
            # Every one at once: one per run walked an rsyslog tester through lmnet's users.
            module = (via or {}).get(cur)
            held = f"{module} is in {cur}, and " if module is not None else f"{cur}: "
            shown = ", ".join(state.describe(d) for d in dependents)
            verb = "depends" if len(dependents) == 1 else "depend"
            them = "it" if len(dependents) == 1 else "them"
            raise UninstallError(f"{held}{shown} {verb} on it; name {them} too, or give --with-dependents")
        for dependent in dependents:
            why[dependent] = "dependent"
            todo.append(dependent)
    # What a removed distribution's extras required counts as its dependency too: pip installs
    # `meta[x]`'s modules without REQUESTED, and they were left behind when the meta package
    # went, nothing requiring them (an OpenVPN tester's openvpn-plugin-down-root, said nowhere).
    by_extras = _wanted_by_extras(state)
    changed = True
    while changed:
        changed = False
        for name in sorted(state.dists):
            users = rdeps[name]
            if name in why or not (users | by_extras[name]) & set(why) or users - set(why):
                continue  # removed already, no dependency of what goes, or still needed
            if state.dists[name].requested or keep_dependencies:
                continue
            why[name] = "unneeded"
            changed = True
    return why, _kept(state, rdeps, why)


def _kept(
    state: InstalledSet, rdeps: dict[NormalizedName, set[NormalizedName]], why: dict[NormalizedName, str]
) -> list[str]:
    """Why each dependency of what goes, that would otherwise go too, stays."""
    kept: list[str] = []
    for name in sorted(state.dists):
        users = rdeps[name]
        if name in why or not users & set(why):
            continue
        if users - set(why):
            if state.dists[name].requested:
                continue  # it would stay anyway: nothing to say
            kept.append(
                f"{state.describe(name)}: kept, still needed by {', '.join(sorted(users - set(why)))}"
            )
        elif state.dists[name].requested and state.dists[name].declared_kind == "core":
            # Installed with the first module, on request, so that it outlives the modules (a Qt
            # tester read "installed on request" as a claim that they had asked for it).
            kept.append(f"{state.describe(name)}: kept, a core package (it stays when its modules go)")
        elif state.dists[name].requested:
            kept.append(f"{state.describe(name)}: kept, it was installed on request")
        else:
            kept.append(f"{state.describe(name)}: kept (--keep-dependencies)")
    return kept


def _files_of(d: Distribution, state: InstalledSet) -> list[str]:
    """Every file to remove for a distribution: its RECORD, the rest of its .dist-info, and the
    bytecode caches of its .py files."""
    files = set(d.files)
    info = state.host / d.dist_info
    for dirpath, dirnames, filenames in os.walk(info):
        dirnames.sort()
        rel_dir = posixpath.normpath(posixpath.join(d.dist_info, os.path.relpath(dirpath, info)))
        files.update(posixpath.join(rel_dir, n) for n in filenames)
    for f in list(files):
        if f.endswith(".py"):
            cache = state.host / posixpath.dirname(f) / "__pycache__"
            stem = posixpath.basename(f)[:-3]
            if cache.is_dir():
                for n in sorted(os.listdir(cache)):
                    if n.startswith(stem + ".") and n.endswith(".pyc"):
                        files.add(posixpath.join(posixpath.dirname(f), "__pycache__", n))
    return sorted(files)


def _emptied_dirs(host: Path, removed: set[str]) -> list[tuple[str, int]]:
    """Directories (below the prefix) that hold nothing once `removed` is gone, deepest first,
    with their modes."""
    candidates: set[str] = set()
    for f in removed:
        d = posixpath.dirname(f)
        while d and d != ".":
            candidates.add(d)
            d = posixpath.dirname(d)
    gone = set(removed)
    out: list[tuple[str, int]] = []
    for d in sorted(candidates, key=lambda p: (-p.count("/"), p)):
        if d == STATE_DIR or d.startswith(STATE_DIR + "/"):
            continue
        path = host / d
        try:
            st = os.lstat(path)
            names = os.listdir(path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        if all(posixpath.join(d, n) in gone for n in names):
            gone.add(d)
            out.append((d, stat.S_IMODE(st.st_mode)))
    return out


def uninstall(
    items: Sequence[str],
    prefix: str | Path,
    *,
    root: str | Path = "/",
    loader: Loader | None = None,
    with_dependents: bool = False,
    keep_dependencies: bool = False,
    step_hook: StepHook | None = None,
) -> UninstallReport:
    """Remove the distributions (or modules) `items` from `prefix` (as the program sees it,
    under `root`), as the module docstring says; all or nothing."""
    pre = program_prefix(prefix)
    rt = Path(root).absolute()
    host = host_path(rt, pre)
    if not host.is_dir():
        raise UninstallError(f"{host}: no such directory (the installed prefix)")
    warnings: list[str] = []
    with locked(host, rt) as notes:
        warnings += notes
        state = InstalledSet.read(host, pre)
        named, via, found_notes = _lookup(state, items, loader)
        warnings += found_notes
        _refuse_core(state, items, via, loader)
        warnings += _siblings(state, items, named, loader)
        why, kept = _choose(
            state, named, with_dependents=with_dependents, keep_dependencies=keep_dependencies, via=via
        )
        order = sorted(why, key=lambda n: (named.index(n) if n in named else len(named), n))
        staying = {f for n, d in state.dists.items() if n not in why for f in d.files}
        per_dist: list[tuple[Distribution, list[str]]] = []
        for name in order:
            d = state.dists[name]
            if d.outside:
                raise UninstallError(
                    f"{d.name} {d.version}: its RECORD lists {d.outside[0]}, outside {pre}; "
                    "not removing anything"
                )
            if not d.has_record:
                raise UninstallError(
                    f"{d.name} {d.version}: no RECORD in {d.dist_info}; cannot tell its files"
                )
            files = []
            for f in _files_of(d, state):
                path = host / f
                if f in staying:
                    warnings.append(f"{f}: kept, another installed distribution lists it too")
                elif not os.path.lexists(path):
                    warnings.append(f"{f}: listed by {d.name} but already gone")
                elif path.is_symlink() or not path.is_dir():
                    files.append(f)
            per_dist.append((d, files))
        all_files = [f for _, fs in per_dist for f in fs]
        plan = TxPlan(
            op="uninstall",
            removes=tuple(all_files),
            rmdirs=tuple(_emptied_dirs(host, set(all_files))),
        )
        with Transaction(host, plan, step_hook=step_hook, root=rt) as tx:
            for _, files in per_dist:
                for f in files:
                    tx.remove(f)
                tx.step_done()
            tx.remove_dirs()
            tx.commit()
    removed = tuple(Removed(d.name, d.version, why[d.name], len(fs)) for d, fs in per_dist)
    return UninstallReport(
        prefix=pre, root=str(rt), removed=removed, kept=tuple(kept), warnings=tuple(warnings)
    )
