"""The split plan: one pure function from (Inventory, Layout) to which package owns each file.

Every file (and every empty directory) of the build ends in exactly one package or one explicit
exclusion. A file two rules claim is an error naming both rules; files no rule claims are an
error listing them (like `dh_missing --fail-missing`) unless the caller says `core` or `drop`.
Writers take a Plan and never re-decide ownership.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from qpack.errors import PlanError
from qpack.globs import compile_glob
from qpack.inventory import Entry, Inventory
from qpack.layout import Layout, expand_prefix, module_glob_matches

PackageKind = Literal["core", "module", "group", "meta"]
Unclaimed = Literal["error", "core", "drop"]

# Directories a distro's base system owns; a package never claims them for itself (RPM `%dir`).
_SYSTEM_DIRS = {
    "bin",
    "boot",
    "etc",
    "lib",
    "lib32",
    "lib64",
    "libx32",
    "opt",
    "sbin",
    "srv",
    "usr",
    "var",
    "run",
    "var/lib",
    "var/cache",
    "var/log",
    "var/run",
    "var/spool",
    "var/tmp",
    "var/opt",
    "usr/bin",
    "usr/sbin",
    "usr/lib",
    "usr/lib32",
    "usr/lib64",
    "usr/libexec",
    "usr/include",
    "usr/share",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/applications",
    "usr/share/icons",
    "usr/share/pixmaps",
    "usr/share/bash-completion",
    "usr/share/bash-completion/completions",
    "usr/share/lintian",
    "usr/share/lintian/overrides",
    "usr/share/metainfo",
    "usr/share/polkit-1",
    "usr/share/polkit-1/actions",
    "usr/share/dbus-1",
    "usr/local",
    "etc/default",
    "etc/init.d",
    "etc/sysctl.d",
    "etc/udev",
    "etc/udev/rules.d",
    "lib/systemd",
    "lib/systemd/system",
    "usr/lib/systemd",
    "usr/lib/systemd/system",
    "lib/udev",
    "lib/udev/rules.d",
    "usr/lib/udev",
    "usr/lib/udev/rules.d",
    "usr/lib/sysctl.d",
    "usr/lib/tmpfiles.d",
    "usr/lib/binfmt.d",
    "usr/lib/modules-load.d",
    "usr/share/doc-base",
    "usr/share/menu",
    "usr/share/mime",
    "usr/share/mime/packages",
    "usr/share/zsh",
    "usr/share/zsh/vendor-completions",
    "usr/share/fish",
    "usr/share/glib-2.0",
    "usr/share/glib-2.0/schemas",
    "etc/systemd",
    "etc/systemd/system",
    "etc/xdg",
}


def _is_system_dir(path: str, prefix: str) -> bool:
    pre = prefix.strip("/")
    if path in _SYSTEM_DIRS or path == pre:
        return True
    parts = path.split("/")
    # usr/lib/<multiarch triplet>, usr/share/man/man1, usr/share/locale/<lang>/LC_MESSAGES...
    if len(parts) == 3 and parts[:2] == ["usr", "lib"] and "-linux-" in parts[2]:
        return True
    if len(parts) == 2 and parts[0] == "lib" and "-linux-" in parts[1]:
        return True
    if path.startswith(("usr/share/man/", "usr/share/locale/", "usr/share/icons/")) and len(parts) <= 6:
        return True
    return path.startswith(f"{pre}/") and path[len(pre) + 1 :] in _SYSTEM_DIRS | {"share/doc", "lib", "bin"}


@dataclass(frozen=True)
class Module:
    id: str
    type: str
    name: str
    path: str


@dataclass(frozen=True)
class Claim:
    """Why a path is where it is: `--explain` prints these."""

    path: str
    package: str | None  # None: excluded
    rule: str
    module: str | None = None


@dataclass(frozen=True)
class Package:
    name: str
    kind: PackageKind
    files: tuple[str, ...]
    modules: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    summary: str = ""
    dirs: tuple[str, ...] = ()  # directories this package alone owns (RPM %dir)
    extras: tuple[tuple[str, tuple[str, ...]], ...] = ()  # meta only: extra -> packages


@dataclass(frozen=True)
class Excluded:
    path: str
    reason: str
    rule: str


@dataclass(frozen=True)
class Plan:
    layout: Layout
    inventory: Inventory
    prefix: str
    packages: tuple[Package, ...]
    excluded: tuple[Excluded, ...]
    unclaimed: tuple[str, ...]
    claims: tuple[Claim, ...]
    modules: tuple[Module, ...]
    warnings: tuple[str, ...] = field(default=())

    def package(self, name: str) -> Package:
        for p in self.packages:
            if p.name == name:
                return p
        raise KeyError(name)

    def owner(self) -> dict[str, str]:
        return {c.path: c.package for c in self.claims if c.package is not None}

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "layout": self.layout.name,
            "prefix": self.prefix,
            "packages": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "files": list(p.files),
                    "modules": list(p.modules),
                    "requires": list(p.requires),
                    **({"extras": {k: list(v) for k, v in p.extras}} if p.kind == "meta" else {}),
                }
                for p in self.packages
            ],
            "excluded": [e.path for e in self.excluded],
            "unclaimed": list(self.unclaimed),
            "warnings": list(self.warnings),
        }


def find_modules(inventory: Inventory, layout: Layout, prefix: str) -> tuple[list[Module], list[str]]:
    """Modules of the build: files in a module directory named as the loader looks them up.
    Also returns warnings for `.so` files there that the loader would never look up."""
    dir_res = [compile_glob(d) for d in layout.module_dirs(prefix)]
    naming = layout.loader.naming
    modules: list[Module] = []
    warnings: list[str] = []
    for e in inventory.files():
        for dir_re in dir_res:
            # A module dir glob may contain '*' ({pkgversion}); try every ancestor of the path.
            parts = e.path.split("/")
            for cut in range(len(parts) - 1, 0, -1):
                base = "/".join(parts[:cut])
                if dir_re.match(base):
                    rel = "/".join(parts[cut:])
                    parsed = naming.parse(rel)
                    mid = naming.module_id(*parsed) if parsed else None
                    if parsed and mid and (layout.known_modules is None or mid in layout.known_modules):
                        modules.append(Module(mid, parsed[0], parsed[1], e.path))
                    elif parsed:
                        warnings.append(
                            f"{e.path}: in a module directory, but the loader never looks up this name "
                            f"(module {mid!r} is not in modules.known)"
                        )
                    elif rel.endswith(".so") or ".so." in rel:
                        warnings.append(
                            f"{e.path}: in a module directory, but the loader never looks up this name "
                            f"(modules are named {naming.pattern!r}"
                            + (f" with types {', '.join(naming.types)}" if naming.typed else "")
                            + ")"
                        )
                    break
            else:
                continue
            break
    return modules, warnings


def make_plan(
    inventory: Inventory, layout: Layout, *, prefix: str | None = None, unclaimed: Unclaimed = "error"
) -> Plan:
    prefix = prefix if prefix is not None else inventory.prefix
    modules, warnings = find_modules(inventory, layout, prefix)
    warnings = [*inventory.warnings, *warnings]
    module_at = {m.path: m for m in modules}
    ids = defaultdict(list)
    for m in modules:
        ids[m.id].append(m.path)
    problems = [
        f"module {mid!r} is installed twice: {', '.join(paths)} (the loader loads only the first it finds)"
        for mid, paths in sorted(ids.items())
        if len(paths) > 1
    ]

    by_path = inventory.by_path()
    for m in modules:
        e = by_path[m.path]
        if e.elf_error:
            warnings.append(f"{m.path}: module is {e.elf_error}; the loader cannot load it")

    items: list[Entry] = [*inventory.files(), *inventory.empty_dirs()]
    # Explicit rules: (description, package or None, matcher)
    rules: list[tuple[str, str | None, str | None, tuple[str, ...], tuple[str, ...]]] = []
    for p in layout.packages:
        rules.append((f"package[{p.index}] {p.name!r}", p.name, None, p.files, p.modules))
    for x in layout.exclusions:
        rules.append((f"exclude[{x.index}] ({x.reason})", None, x.reason, x.files, x.modules))

    claims: list[Claim] = []
    excluded: list[Excluded] = []
    unclaimed_paths: list[str] = []
    rest_core = next((p.name for p in layout.packages if p.rest and p.kind == "core"), None)
    rest_group = next((p.name for p in layout.packages if p.rest and p.kind == "group"), None)
    per_module_names: dict[str, str] = {}

    for e in items:
        mod = module_at.get(e.path)
        hits: list[tuple[str, str | None, str | None, str]] = []
        for desc, pkg, reason, file_globs, mod_globs in rules:
            why = None
            for g in file_globs:
                if compile_glob(expand_prefix(g, prefix)).match(e.path):
                    why = f"files {g!r}"
                    break
            if why is None and mod is not None:
                for g in mod_globs:
                    if module_glob_matches(g, mod.id):
                        why = f"modules {g!r}"
                        break
            if why is not None:
                hits.append((desc, pkg, reason, why))
        if len(hits) > 1:
            a, b = hits[0], hits[1]
            problems.append(f"{e.path}: claimed twice: by {a[0]} ({a[3]}) and by {b[0]} ({b[3]})")
            continue
        if hits:
            desc, pkg, reason, why = hits[0]
            rule = f"{desc}: {why}"
            if pkg is None:
                excluded.append(Excluded(e.path, reason or "", rule))
            claims.append(Claim(e.path, pkg, rule, mod.id if mod else None))
            continue
        if mod is not None:
            if layout.per_module is not None:
                name, key = layout.per_module.package_name(mod.type, mod.name, mod.id)
                per_module_names[mod.id] = name
                claims.append(Claim(e.path, name, f"{key} ({mod.id})", mod.id))
                continue
            if rest_group is not None:
                claims.append(
                    Claim(e.path, rest_group, f"package {rest_group!r}: rest (other modules)", mod.id)
                )
                continue
        elif rest_core is not None:
            claims.append(Claim(e.path, rest_core, f"package {rest_core!r}: rest (other files)"))
            continue
        unclaimed_paths.append(e.path)

    if unclaimed_paths and unclaimed == "error":
        shown = "\n  ".join(unclaimed_paths[:50])
        more = f"\n  ... and {len(unclaimed_paths) - 50} more" if len(unclaimed_paths) > 50 else ""
        problems.append(
            f"{len(unclaimed_paths)} file(s) claimed by no package of layout {layout.name!r} "
            f"(add a rule, or pass --unclaimed core|drop):\n  {shown}{more}"
        )
    elif unclaimed_paths and unclaimed == "core":
        target = rest_core or next(iter(layout.core_packages()), None)
        if target is None:
            problems.append(f"--unclaimed core: layout {layout.name!r} has no core package")
        else:
            for path in unclaimed_paths:
                claims.append(
                    Claim(path, target, "--unclaimed core", module_at[path].id if path in module_at else None)
                )
        unclaimed_paths = []
    elif unclaimed_paths and unclaimed == "drop":
        for path in unclaimed_paths:
            excluded.append(Excluded(path, "claimed by no rule (--unclaimed drop)", "--unclaimed drop"))
            claims.append(Claim(path, None, "--unclaimed drop"))
        # Dropped files are still listed as unclaimed, so scripts see what was left out.

    # Group files by package in a stable order: layout packages, then per-module, then meta.
    files_of: dict[str, list[str]] = defaultdict(list)
    modules_of: dict[str, list[str]] = defaultdict(list)
    for cl in claims:
        if cl.package is None:
            continue
        files_of[cl.package].append(cl.path)
        if cl.module:
            modules_of[cl.package].append(cl.module)
    module_pkg = {cl.module: cl.package for cl in claims if cl.module and cl.package}
    present = {m.id for m in modules}

    names_in_order = [p.name for p in layout.packages] + sorted(
        set(per_module_names.values()) - {p.name for p in layout.packages}
    )
    clash = set(per_module_names.values()) & {p.name for p in layout.packages}
    for n in sorted(clash):
        problems.append(f"per-module package name {n!r} is also a [[package]] of layout {layout.name!r}")
    if layout.meta and layout.meta.name in names_in_order:
        problems.append(f"meta package name {layout.meta.name!r} is also the name of another package")

    kinds = {p.name: p.kind for p in layout.packages}
    explicit_requires = {p.name: p.requires for p in layout.packages}
    cores = list(layout.core_packages())
    packages: list[Package] = []
    for name in names_in_order:
        mods = sorted(set(modules_of.get(name, [])))
        kind: PackageKind = kinds.get(name, "module")
        if name in explicit_requires and explicit_requires[name] is not None:
            req = list(explicit_requires[name] or ())
        elif kind == "core":
            req = []
        elif kind == "module" and layout.per_module and layout.per_module.requires is not None:
            req = list(layout.per_module.requires)
        else:
            req = list(cores)
        for mid in mods:
            for dep in layout.deps_of(mid):
                if dep not in present or dep not in module_pkg:
                    where = "is not in this build" if dep not in present else "is excluded"
                    problems.append(
                        f"module {mid!r} (package {name!r}) needs module {dep!r}, "
                        f"which {where}: it would never load"
                    )
                    continue
                dep_pkg = module_pkg[dep]
                if dep_pkg != name and dep_pkg not in req:
                    req.append(dep_pkg)
        req = [r for r in req if r != name]
        summary = ""
        if name in kinds:
            summary = next(p.summary for p in layout.packages if p.name == name)
        elif layout.per_module:
            summary = layout.per_module.summary.replace("{module}", mods[0] if mods else name)
        packages.append(
            Package(name, kind, tuple(sorted(files_of.get(name, []))), tuple(mods), tuple(req), summary)
        )

    if layout.meta is not None:
        meta = layout.meta
        req = list(meta.requires) if meta.requires is not None else list(cores)
        extras: dict[str, set[str]] = defaultdict(set)
        for m in modules:
            if m.id not in module_pkg:
                continue
            extras[m.id].add(module_pkg[m.id])
            if m.type:
                extras[m.type].add(module_pkg[m.id])
            extras["all"].add(module_pkg[m.id])
        for ename, members in meta.extras:
            for member in members:
                matched = [mm.id for mm in modules if member in (mm.id, mm.type)]
                if not matched:
                    warnings.append(f"meta.extras.{ename}: {member!r} names no module of this build")
                extras[ename].update(module_pkg[x] for x in matched if x in module_pkg)
        packages.append(
            Package(
                meta.name,
                "meta",
                (),
                (),
                tuple(req),
                meta.summary,
                extras=tuple(sorted((k, tuple(sorted(v))) for k, v in extras.items())),
            )
        )

    for made in packages:
        if not made.files and made.kind != "meta":
            warnings.append(f"package {made.name!r} has no files in this build")

    if problems:
        raise PlanError(problems)

    packages = _with_dirs(packages, inventory, prefix)
    return Plan(
        layout=layout,
        inventory=inventory,
        prefix=prefix,
        packages=tuple(packages),
        excluded=tuple(sorted(excluded, key=lambda x: x.path)),
        unclaimed=tuple(unclaimed_paths),
        claims=tuple(sorted(claims, key=lambda c: c.path)),
        modules=tuple(sorted(modules, key=lambda m: m.id)),
        warnings=tuple(warnings),
    )


def _with_dirs(packages: list[Package], inventory: Inventory, prefix: str) -> list[Package]:
    """Which package owns each directory (RPM `%dir`), never one of the base system's:
    - a directory whose files all belong to one package belongs to it;
    - a directory shared by several packages (QEMU's module dir: modules in many packages)
      belongs to the one package that all of them are or require, directly or not, so that
      installing any of them brings its owner; with no such package it stays unowned."""
    owner_of: dict[str, set[str]] = defaultdict(set)
    for p in packages:
        for f in p.files:
            d = posixpath.dirname(f)
            while d:
                owner_of[d].add(p.name)
                d = posixpath.dirname(d)
    requires = {p.name: set(p.requires) for p in packages}

    def closure(name: str) -> set[str]:
        seen, todo = {name}, [name]
        while todo:
            for r in requires.get(todo.pop(), ()):
                if r not in seen:
                    seen.add(r)
                    todo.append(r)
        return seen

    order = [p.name for p in packages]
    dirs_of: dict[str, list[str]] = defaultdict(list)
    for d, owners in owner_of.items():
        if _is_system_dir(d, prefix):
            continue
        common = set.intersection(*(closure(o) for o in owners))
        if len(owners) == 1:
            dirs_of[next(iter(owners))].append(d)
        elif common:
            # Prefer a package that has files there itself, then layout order.
            best = min(common, key=lambda n: (n not in owners, order.index(n) if n in order else len(order)))
            dirs_of[best].append(d)
    return [
        Package(
            p.name,
            p.kind,
            p.files,
            p.modules,
            p.requires,
            p.summary,
            tuple(sorted(dirs_of.get(p.name, []))),
            p.extras,
        )
        for p in packages
    ]
