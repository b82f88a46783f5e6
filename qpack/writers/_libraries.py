"""How the ELF files of a split's wheels find their libraries once installed.

For every ELF file placed in a wheel, each `DT_NEEDED` name is one of:

- the build's own (a build file provides it, `qpack.sonames`): it is found through a RUNPATH of
  `$ORIGIN`-relative directories to where a wheel the file's package is or requires installs a
  file of that name (the plan made the package require it);
- bundled (`--bundle-libs`): copied from this host into the package that all its users are or
  require (`qpack.bundle`), renamed with a hash, its users' `DT_NEEDED` rewritten and a RUNPATH
  pointing at it;
- left to the system: listed in the wheel's METADATA as `Requires-External`.

A file whose RUNPATH already says exactly that (the demo's `$ORIGIN/../lib`), and a file needing
none of the build's or bundled libraries, keep their bytes. Absolute RUNPATH entries outside the
build's prefix are kept after the new ones; those inside it (the system's copy of this build)
and old `$ORIGIN` entries are dropped. Nothing here writes: it returns the patches to apply.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qpack.bundle import (
    BundleMode,
    ElfNeeds,
    HostLib,
    find_host_libraries,
    homes,
    platform_policy,
    policies,
    version_needs,
)
from qpack.bundle import allowed_libraries as _allowed
from qpack.elf import LinkFacts
from qpack.errors import OutputError
from qpack.inventory import Entry
from qpack.ldpaths import Root
from qpack.writers._runpath import ElfPatch, runpath


@dataclass(frozen=True, slots=True)
class FileRef:
    """One file placed in a wheel: its package, archive name, installed path (relative to the
    install root) and the build entry whose bytes it holds."""

    package: str
    arcname: str
    installed: str
    entry: Entry
    source: str  # the file on this host (in the build tree)


@dataclass(frozen=True, slots=True)
class Graft:
    """A host library bundled into `package`, installed at `installed`."""

    package: str
    lib: HostLib
    installed: str
    patch: ElfPatch


@dataclass
class Linked:
    patches: dict[str, ElfPatch] = field(default_factory=dict)  # arcname -> patch
    grafts: list[Graft] = field(default_factory=list)
    external: dict[str, list[str]] = field(default_factory=dict)  # package -> sonames left to the system
    tags: dict[str, str] = field(default_factory=dict)  # package -> platform tag (bundling only)


def libs_dir(dist_escaped: str) -> str:
    """Where a wheel's bundled libraries are installed, relative to the install root."""
    return f"lib/{dist_escaped}.libs"


def _kept(entries: Sequence[str], prefix: str, own_dirs: Collection[str]) -> list[str]:
    """The absolute RUNPATH entries a rewrite keeps: those outside the prefix, and those in it
    that name no directory of the build's libraries (`own_dirs`, absolute), whose `$ORIGIN`
    entries replace them. A GDAL tester's GRASS plug-ins lost /usr/lib/grass82/lib, where
    another package's libraries are, and once installed from wheels could not load."""
    pre = "/" + prefix.strip("/")
    if pre == "/":
        return [e for e in entries if e.startswith("/") and posixpath.normpath(e) not in own_dirs]
    return [
        e
        for e in entries
        if e.startswith("/")
        and ((e != pre and not e.startswith(pre + "/")) or posixpath.normpath(e) not in own_dirs)
    ]


def _reach(requires: Mapping[str, Sequence[str]], order: Sequence[str]) -> dict[str, set[str]]:
    """Each package with everything it requires, directly or not."""
    out: dict[str, set[str]] = {}
    for p in order:
        seen, todo = {p}, [p]
        while todo:
            for r in requires.get(todo.pop(), ()):
                if r not in seen:
                    seen.add(r)
                    todo.append(r)
        out[p] = seen
    return out


def _split_needs(
    elf_files: Sequence[FileRef],
    files: Sequence[FileRef],
    provided: Mapping[str, str],
    reach: Mapping[str, set[str]],
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(arcname -> installed dirs of the build's libraries it links, arcname -> the names it
    needs from outside the build). A build library is looked for, by the file name ld.so looks
    for, among the files of the wheels its package is or requires."""
    where: dict[str, list[tuple[str, str]]] = defaultdict(list)  # file name -> [(package, dir)]
    for f in files:
        where[posixpath.basename(f.installed)].append((f.package, posixpath.dirname(f.installed)))
    internal: dict[str, list[str]] = {}
    external: dict[str, list[str]] = {}
    for f in elf_files:
        assert f.entry.elf is not None
        dirs: list[str] = []
        ext: list[str] = []
        for n in f.entry.elf.needed:
            if n not in provided:
                ext.append(n)
                continue
            cands = [d for pkg, d in where.get(n, []) if pkg in reach[f.package]]
            if not cands:
                raise OutputError(
                    f"{f.entry.path} (package {f.package!r}) links {n}, which the build provides "
                    f"({provided[n]}), but no wheel {f.package!r} is or requires installs a file named {n}"
                )
            dirs.append(cands[0])
        internal[f.arcname] = dirs
        external[f.arcname] = ext
    return internal, external


def _patch(
    f: FileRef, dirs: list[str], renames: tuple[tuple[str, str], ...], prefix: str, own_dirs: Collection[str]
) -> ElfPatch | None:
    """The rewrite a file needs so that it finds `dirs`, or None when it already does."""
    assert f.entry.elf is not None
    if not dirs:
        return None
    new = runpath(f.installed, dirs).split(":")
    old = list(f.entry.elf.runpath)
    value = ":".join(new + [e for e in _kept(old, prefix, own_dirs) if e not in new])
    if value == ":".join(old) and not renames:
        return None
    return ElfPatch(runpath=value, replace_needed=renames)


def link_libraries(
    files: Sequence[FileRef],
    *,
    provided: Mapping[str, str],
    requires: Mapping[str, Sequence[str]],
    order: Sequence[str],
    escaped: Mapping[str, str],
    prefix: str,
    machine: str | None,
    bundle: BundleMode | None = None,
    libs_root: Path | None = None,
) -> Linked:
    """The patches, bundled libraries, external needs and (when bundling) platform tags of a
    split whose files are placed as `files` say. `provided`: soname -> build file providing it;
    `escaped`: package -> its escaped wheel name; `machine`: the wheel machine (x86_64);
    `libs_root`: the system whose libraries are bundled (a chroot or sysroot; default /)."""
    elf_files = [f for f in files if f.entry.elf is not None]
    internal, external = _split_needs(elf_files, files, provided, _reach(requires, order))
    own_dirs = {posixpath.normpath("/" + posixpath.dirname(p)) for p in provided.values()}
    out = Linked()
    grafted: dict[str, Graft] = {}
    if bundle is not None:
        grafted = _graft(elf_files, external, requires, order, escaped, machine, bundle, libs_root)
        out.grafts = sorted(grafted.values(), key=lambda g: (g.package, g.installed))
    for f in elf_files:
        mine = [n for n in external[f.arcname] if n in grafted]
        renames = tuple((n, grafted[n].lib.new_name) for n in mine)
        dirs = internal[f.arcname] + [posixpath.dirname(grafted[n].installed) for n in mine]
        patch = _patch(f, dirs, renames, prefix, own_dirs)
        if patch is not None:
            out.patches[f.arcname] = patch
    ext_of: dict[str, set[str]] = defaultdict(set)
    for f in elf_files:
        ext_of[f.package].update(n for n in external[f.arcname] if n not in grafted)
    for g in out.grafts:
        ext_of[g.package].update(n for n in g.lib.needed if n not in grafted)
    out.external = {p: sorted(ext_of.get(p, ())) for p in order}
    if bundle is not None and machine is not None:
        out.tags = _tags(elf_files, external, grafted, out.grafts, machine)
    return out


def _graft(
    elf_files: Sequence[FileRef],
    external: Mapping[str, list[str]],
    requires: Mapping[str, Sequence[str]],
    order: Sequence[str],
    escaped: Mapping[str, str],
    machine: str | None,
    mode: BundleMode,
    libs_root: Path | None,
) -> dict[str, Graft]:
    keep = _allowed(mode, machine or "x86_64")
    needs: dict[str, dict[str, LinkFacts]] = defaultdict(dict)
    for f in elf_files:
        e = f.entry.elf
        assert e is not None
        if not any(not keep(n) for n in external[f.arcname]):
            continue
        needs[f.package][f.entry.path] = LinkFacts(
            machine=e.machine,
            elf_class=e.elf_class,
            elf_type=e.elf_type,
            soname=e.soname,
            needed=tuple(external[f.arcname]),
            rpath=(),
            runpath=e.runpath,
            defines=frozenset(),
        )
    libs, closure = find_host_libraries(needs, keep, Root(libs_root) if libs_root is not None else None)
    home = homes(closure, requires, list(order))
    installed = {s: f"{libs_dir(escaped[home[s]])}/{lib.new_name}" for s, lib in libs.items()}
    grafts: dict[str, Graft] = {}
    for s, lib in libs.items():
        deps = [n for n in lib.needed if n in libs]
        patch = ElfPatch(
            runpath=runpath(installed[s], [posixpath.dirname(installed[n]) for n in deps]) if deps else "",
            soname=lib.new_name,
            replace_needed=tuple((n, libs[n].new_name) for n in deps),
        )
        grafts[s] = Graft(home[s], lib, installed[s], patch)
    return grafts


def _tags(
    elf_files: Sequence[FileRef],
    external: Mapping[str, list[str]],
    grafted: Mapping[str, Graft],
    grafts: Sequence[Graft],
    machine: str,
) -> dict[str, str]:
    candidates = policies(machine)
    blacklisted = {lib for p in candidates for lib in p.blacklist}
    needs: dict[str, list[ElfNeeds]] = defaultdict(list)
    for f in elf_files:
        e = f.entry.elf
        assert e is not None
        if e.wheel_machine != machine:
            continue  # guest firmware and the like: not code this machine runs
        left = tuple(n for n in external[f.arcname] if n not in grafted)
        versions, undefined = version_needs(f.source, bool(set(left) & blacklisted))
        needs[f.package].append(ElfNeeds(left, versions, undefined))
    for g in grafts:
        left = tuple(n for n in g.lib.needed if n not in grafted)
        versions, undefined = version_needs(g.lib.path, bool(set(left) & blacklisted))
        needs[g.package].append(ElfNeeds(left, versions, undefined))
    tags: dict[str, str] = {}
    for pkg, files in needs.items():
        p = platform_policy(files, candidates)
        tags[pkg] = p.tag(machine) if p is not None else f"linux_{machine}"
    return tags
