"""Shared-library needs of each package, and (optionally) the distro packages that provide them.

A package needs a library when one of its ELF files names it in `DT_NEEDED` and no file of the
build provides it (`qpack.sonames` says which build file provides a name; `library_dirs` and
`provided_sonames` are re-exported here). Only `DT_NEEDED` counts: a module's undefined symbols that the
core executable defines (QEMU links modules against `--export-dynamic` symbols) never become
library needs, unlike tools that turn every unresolved symbol into a dependency.

Resolution (`dpkg` or `rpm`) asks the host, never the build: the library's path comes from
`ldconfig -p` (or the multiarch directories), then `dpkg -S` / `rpm -qf` names its package.
Nothing from the build is ever run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from qpack.errors import QpackError
from qpack.plan import Plan
from qpack.sonames import library_dirs as library_dirs  # noqa: PLC0414 - re-exported
from qpack.sonames import provided_sonames as provided_sonames  # noqa: PLC0414 - re-exported

Manager = Literal["dpkg", "rpm"]
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


# ldconfig -p tags 64-bit (and hard-float) entries with these; 32-bit x86/arm have none of them.
_LDCONFIG_FLAGS = {
    "EM_X86_64": "x86-64",
    "EM_AARCH64": "AArch64",
    "EM_PPC64": "64bit",
    "EM_S390": "64bit",
    "EM_RISCV": "riscv64",
    "EM_LOONGARCH": "LoongArch",
}
_MULTIARCH_TRIPLETS = {
    "EM_X86_64": "x86_64-linux-gnu",
    "EM_386": "i386-linux-gnu",
    "EM_AARCH64": "aarch64-linux-gnu",
    "EM_ARM": "arm-linux-gnueabihf",
    "EM_PPC64": "powerpc64le-linux-gnu",
    "EM_S390": "s390x-linux-gnu",
    "EM_RISCV": "riscv64-linux-gnu",
}


class LibResolveError(QpackError):
    """The host cannot answer which package provides a library (no dpkg/rpm, ldconfig fails)."""


@dataclass(frozen=True)
class External:
    soname: str
    needed_by: tuple[str, ...]
    machine: str


@dataclass(frozen=True)
class Internal:
    soname: str
    path: str  # the build file that provides it
    package: str | None  # the package that ships it (None: excluded from every package)
    needed_by: tuple[str, ...]


@dataclass(frozen=True)
class PackageLibs:
    external: tuple[External, ...]
    internal: tuple[Internal, ...]


def package_libs(plan: Plan) -> dict[str, PackageLibs]:
    """For every package: the sonames it needs from outside the build, and those a build file
    provides (with the package that ships that file)."""
    inv = plan.inventory
    by_path = inv.by_path()
    provided = provided_sonames(inv, plan.prefix)
    owner = plan.owner()
    out: dict[str, PackageLibs] = {}
    for p in plan.packages:
        ext: dict[str, list[str]] = defaultdict(list)
        machine: dict[str, str] = {}
        internal: dict[str, list[str]] = defaultdict(list)
        for path in p.files:
            e = by_path[path]
            if e.kind != "file" or e.elf is None:
                continue
            for soname in e.elf.needed:
                if soname in provided:
                    internal[soname].append(path)
                else:
                    ext[soname].append(path)
                    machine.setdefault(soname, e.elf.machine)
        out[p.name] = PackageLibs(
            tuple(External(s, tuple(sorted(ext[s])), machine[s]) for s in sorted(ext)),
            tuple(
                Internal(s, provided[s], owner.get(provided[s]), tuple(sorted(internal[s])))
                for s in sorted(internal)
            ),
        )
    return out


# --------------------------------------------------------------------------- resolution


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C"}
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, check=False, env=env, timeout=300)
    except OSError as e:
        raise LibResolveError(f"cannot run {argv[0]}: {e.strerror}") from None
    except subprocess.TimeoutExpired:
        raise LibResolveError(f"{argv[0]} did not answer within 300 s") from None


def _tool(name: str, extra_dirs: Iterable[str] = ()) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in extra_dirs:
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    return None


def parse_ldconfig(text: str) -> dict[str, list[tuple[str, str]]]:
    """`ldconfig -p` output -> soname -> [(flags, path)] in ldconfig's order."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    line_re = re.compile(r"^\s+(\S+)\s+\(([^)]*)\)(?:\s+OS ABI:[^=]*)?\s+=>\s+(\S.*)$")
    for line in text.splitlines():
        m = line_re.match(line)
        if m:
            out[m.group(1)].append((m.group(2), m.group(3).strip()))
    return out


def _pick(entries: list[tuple[str, str]], machine: str) -> str | None:
    flag = _LDCONFIG_FLAGS.get(machine)
    known = set(_LDCONFIG_FLAGS.values())
    for flags, path in entries:
        parts = {f.strip() for f in flags.split(",")}
        if (flag and flag in parts) or (not flag and not parts & known):
            return path
    return None


def _candidates(path: str) -> list[str]:
    """The path, its /usr-merged twin, and the same for its resolved target: dpkg's database
    holds whichever one the package shipped."""
    out: list[str] = []
    for p in (path, os.path.realpath(path)):
        twin = p.removeprefix("/usr") if p.startswith("/usr/") else "/usr" + p
        for q in (p, twin):
            if q not in out:
                out.append(q)
    return out


def locate(sonames: Mapping[str, str], run: Runner = _run) -> dict[str, str | None]:
    """soname -> the host's library path for the given machine (ldconfig cache, then the
    multiarch and standard directories), or None."""
    ldconfig = _tool("ldconfig", ("/sbin", "/usr/sbin"))
    cache: dict[str, list[tuple[str, str]]] = {}
    if ldconfig:
        r = run([ldconfig, "-p"])
        if r.returncode == 0:
            cache = parse_ldconfig(r.stdout)
    found: dict[str, str | None] = {}
    for soname, machine in sonames.items():
        path = _pick(cache.get(soname, []), machine)
        if path is None:
            triplet = _MULTIARCH_TRIPLETS.get(machine)
            dirs = [f"/lib/{triplet}", f"/usr/lib/{triplet}"] if triplet else []
            dirs += ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]
            path = next((f"{d}/{soname}" for d in dirs if os.path.lexists(f"{d}/{soname}")), None)
        found[soname] = path
    return found


def parse_dpkg_search(text: str) -> dict[str, str]:
    """`dpkg -S` output -> path -> package (the first one named, architecture qualifier dropped)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("diversion by") or ": /" not in line:
            continue
        pkgs, path = line.split(": /", 1)
        first = pkgs.split(",")[0].strip().split(":")[0]
        if first:
            out.setdefault("/" + path, first)
    return out


def packages_for_sonames(
    sonames: Mapping[str, str], manager: Manager, run: Runner = _run
) -> dict[str, str | None]:
    """soname (-> ELF machine of the file needing it) -> the installed package providing it."""
    tool = _tool(manager)
    if tool is None:
        raise LibResolveError(f"--resolve-libs {manager}: {manager} is not installed on this host")
    paths = locate(sonames, run)
    candidates = {s: _candidates(p) if p else [] for s, p in paths.items()}
    owner: dict[str, str] = {}
    if manager == "dpkg":
        query = sorted({c for cs in candidates.values() for c in cs})
        if query:
            owner = parse_dpkg_search(run([tool, "-S", "--", *query]).stdout)
    else:
        for cs in candidates.values():
            for c in cs:
                if c in owner:
                    continue
                r = run([tool, "-qf", "--queryformat", "%{NAME}\\n", "--", c])
                name = r.stdout.strip().splitlines()[0] if r.returncode == 0 and r.stdout.strip() else ""
                if name and " " not in name:
                    owner[c] = name
    return {s: next((owner[c] for c in cs if c in owner), None) for s, cs in candidates.items()}
