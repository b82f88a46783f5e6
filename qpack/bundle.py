"""`--bundle-libs`: the external libraries a split's wheels need, copied into them once each.

Which libraries: every `DT_NEEDED` library no file of the build provides, and theirs in turn,
except those a manylinux system is assumed to have (`policy`: the allow-list of the newest
manylinux policy, read from auditwheel's policy file; glib, X11, libstdc++ and the C library
among them) or, with `all`, except the C library and the dynamic loader only. Each is found on
this host as the dynamic linker would find it (`/etc/ld.so.cache`, then the default directories;
`qpack.ldpaths`), read, never loaded.

Where: a library goes once into the package that all of its users are or require (`homes`): its
only user, else the one package every user has in its requirements (the core when several
modules share it). It is renamed as auditwheel renames it, `libfoo.so.1` -> `libfoo-<8 hex of
its sha256>.so.1`, so that it never clashes with a system copy loaded into the same process.

The platform tag (`platform_policy`): the oldest manylinux policy whose allow-list holds every
library the wheel still needs from the system and whose symbol versions cover every versioned
symbol its ELF files (bundled ones included) ask for, as auditwheel decides it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from elftools.elf.sections import SymbolTableSection

from qpack.elf import ElfReadError, LinkFacts, read_link_facts
from qpack.errors import QpackError
from qpack.ldpaths import ElfFile, LibraryFinder, Root
from qpack.plan import requirement_closure

BundleMode = Literal["policy", "all"]
BUNDLE_MODES: tuple[BundleMode, ...] = ("policy", "all")

# The GNU C library's own shared objects: they must come from the same glibc as libc.so.6 and
# the dynamic loader, so even `--bundle-libs all` leaves them to the system.
GLIBC = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libmvec.so.1",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libresolv.so.2",
        "libutil.so.1",
        "libanl.so.1",
        "libnsl.so.1",
        "libBrokenLocale.so.1",
        "libthread_db.so.1",
        "libc_malloc_debug.so.0",
        "libmemusage.so",
        "libpcprofile.so",
    }
)


class BundleError(QpackError):
    """The libraries cannot be bundled as asked (not found on this host, no common package...)."""


def is_loader(soname: str) -> bool:
    """The dynamic loader, which no wheel can carry (auditwheel leaves it out too)."""
    return soname.startswith("ld-linux") or soname in ("ld64.so.1", "ld64.so.2")


def is_libc(soname: str) -> bool:
    return soname in GLIBC or soname.startswith("libnss_") or is_loader(soname)


# --------------------------------------------------------------------------- manylinux policies


@dataclass(frozen=True, slots=True)
class Policy:
    name: str  # manylinux_2_17
    priority: int  # higher: older, more compatible
    whitelist: frozenset[str]
    symbol_versions: Mapping[str, frozenset[str]]  # "GLIBC" -> {"GLIBC_2.17", ...}
    blacklist: Mapping[str, frozenset[str]]  # library -> symbols a wheel must not use from it

    def tag(self, arch: str) -> str:
        return f"{self.name}_{arch}"


def policies(arch: str) -> list[Policy]:
    """The manylinux policies that know `arch`, oldest (most compatible) first, from the
    policy file of the installed auditwheel package."""
    try:
        text = (resources.files("auditwheel") / "policy" / "manylinux-policy.json").read_text()
    except (ModuleNotFoundError, OSError) as e:
        raise BundleError(
            f"--bundle-libs needs the manylinux policy of auditwheel (pip install auditwheel): {e}"
        ) from None
    out = []
    for p in json.loads(text):
        if p["name"] == "linux" or arch not in p["symbol_versions"]:
            continue
        out.append(
            Policy(
                name=p["name"],
                priority=p["priority"],
                whitelist=frozenset(p["lib_whitelist"]),
                symbol_versions={
                    k: frozenset(f"{k}_{v}" for v in vs) for k, vs in p["symbol_versions"][arch].items()
                },
                blacklist={k: frozenset(v) for k, v in p.get("blacklist", {}).items()},
            )
        )
    if not out:
        raise BundleError(f"--bundle-libs: no manylinux policy for the machine {arch}")
    return sorted(out, key=lambda p: -p.priority)


def allowed_libraries(mode: BundleMode, arch: str) -> Callable[[str], bool]:
    """Whether a library is left to the system (not bundled) in this mode."""
    if mode == "all":
        return is_libc
    allow = policies(arch)[-1].whitelist
    return lambda soname: soname in allow or is_loader(soname)


@dataclass(frozen=True, slots=True)
class ElfNeeds:
    """What one ELF file of a wheel asks of the system, for the platform tag."""

    needed: tuple[str, ...]  # DT_NEEDED names left to the system
    versions: frozenset[str]  # version names of its versioned symbol references (GLIBC_2.34)
    undefined: frozenset[str]  # undefined dynamic symbols (only read when a policy blacklists)


def platform_policy(files: Iterable[ElfNeeds], candidates: list[Policy]) -> Policy | None:
    """The oldest policy the files fit: every library they leave to the system is allowed and
    not used for a blacklisted symbol, every symbol version is known to it. None: only `linux`."""
    files = list(files)
    for p in candidates:
        ok = True
        for f in files:
            if any(n not in p.whitelist and not is_loader(n) for n in f.needed):
                ok = False
            for v in f.versions:
                group = v.partition("_")[0]
                if group in p.symbol_versions and v not in p.symbol_versions[group]:
                    ok = False
            for lib in set(f.needed) & set(p.blacklist):
                if f.undefined & p.blacklist[lib]:
                    ok = False
        if ok:
            return p
    return None


def version_needs(path: str, read_undefined: bool = False) -> tuple[frozenset[str], frozenset[str]]:
    """(version names the file's versioned symbol references ask for, leaving out the dynamic
    loader's as auditwheel does; its undefined dynamic symbols when `read_undefined`)."""
    versions: set[str] = set()
    undefined: set[str] = set()
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            for sec in elf.iter_sections():
                if isinstance(sec, GNUVerNeedSection):
                    for verneed, aux in sec.iter_versions():
                        name = str(verneed.name)
                        if is_loader(name):
                            continue
                        versions.update(str(a.name) for a in aux)
                elif read_undefined and isinstance(sec, SymbolTableSection) and sec.name == ".dynsym":
                    undefined.update(
                        s.name for s in sec.iter_symbols() if s.name and s["st_shndx"] == "SHN_UNDEF"
                    )
    except (OSError, ELFError, ValueError) as e:
        raise BundleError(f"{path}: cannot read its symbol versions: {e}") from None
    return frozenset(versions), frozenset(undefined)


# --------------------------------------------------------------------------- the host's libraries


@dataclass(frozen=True, slots=True)
class HostLib:
    """A library of this host to bundle, under the name its users ask for."""

    soname: str  # the DT_NEEDED name
    path: str  # the file on this host, symlinks resolved
    size: int
    sha256: str
    needed: tuple[str, ...]
    runpath: tuple[str, ...]

    @property
    def new_name(self) -> str:
        return hashed_name(self.soname, self.sha256)


def hashed_name(soname: str, sha256: str) -> str:
    """auditwheel's renaming: `libfoo.so.1` -> `libfoo-<first 8 hex of sha256>.so.1`."""
    base, dot, ext = soname.partition(".")
    return f"{base}-{sha256[:8]}{dot}{ext}"


def _sha256(path: str) -> tuple[int, str]:
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            n += len(chunk)
    return n, h.hexdigest()


def _requester(facts: LinkFacts, path: str = "/") -> ElfFile:
    """A build file as the host's dynamic linker would see it once installed: its absolute
    RUNPATH entries count; `$ORIGIN` ones point into the build, not at the host's libraries."""

    def absolute(entries: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(e for e in entries if e.startswith("/"))

    return ElfFile(
        path,
        LinkFacts(
            machine=facts.machine,
            elf_class=facts.elf_class,
            elf_type=facts.elf_type,
            soname=facts.soname,
            needed=facts.needed,
            rpath=absolute(facts.rpath),
            runpath=absolute(facts.runpath),
            defines=frozenset(),
        ),
    )


def find_host_libraries(
    needs: Mapping[str, Mapping[str, LinkFacts]],
    keep: Callable[[str], bool],
    root: Root | None = None,
) -> tuple[dict[str, HostLib], dict[str, set[str]]]:
    """Every library to bundle and, per package, the ones it needs (directly or through
    another bundled library).

    `needs`: package -> {build path: link facts} of its ELF files' external needs (their
    `needed` holds only names no build file provides); `keep(soname)`: left to the system."""
    root = root or Root("/")
    libs: dict[str, HostLib] = {}
    closure: dict[str, set[str]] = {}
    finders: dict[tuple[str, int], LibraryFinder] = {}

    def finder(facts: LinkFacts) -> LibraryFinder:
        key = (facts.machine, facts.elf_class)
        if key not in finders:
            finders[key] = LibraryFinder(root, {}, _requester(facts), root)
        return finders[key]

    def host_lib(soname: str, requester: ElfFile, who: str) -> HostLib:
        if soname in libs:
            return libs[soname]
        assert requester.facts is not None
        found = finder(requester.facts).find(soname, requester)
        if found is None or found.facts is None:
            where = "on this host" if str(root.root) == "/" else f"in {root.root}"
            raise BundleError(
                f"{soname} (needed by {who}): not found {where}, so it cannot be bundled "
                "(install it there, or leave out --bundle-libs)"
            )
        real = root.host(found.path)
        try:
            size, sha = _sha256(str(real))
        except OSError as e:
            raise BundleError(f"{real}: cannot read {soname} to bundle it: {e.strerror}") from None
        lib = HostLib(
            soname, str(real), size, sha, found.facts.needed, found.facts.runpath or found.facts.rpath
        )
        libs[soname] = lib
        return lib

    for pkg in sorted(needs):
        mine: set[str] = set()
        todo: list[tuple[str, ElfFile, str]] = []
        for path, facts in sorted(needs[pkg].items()):
            req = _requester(facts)
            todo += [(n, req, path) for n in facts.needed if not keep(n)]
        while todo:
            soname, req, who = todo.pop()
            if soname in mine:
                continue
            mine.add(soname)
            lib = host_lib(soname, req, who)
            try:
                with open(lib.path, "rb") as f:
                    facts = read_link_facts(f)
            except (OSError, ElfReadError) as e:
                raise BundleError(f"{lib.path}: cannot read {soname}: {e}") from None
            lreq = ElfFile(root_path(root, lib.path), facts)
            todo += [(n, lreq, lib.path) for n in facts.needed if not keep(n)]
        closure[pkg] = mine
    return libs, closure


def root_path(root: Root, host_path: str) -> str:
    """A host path as seen inside `root` (for `$ORIGIN` of a library found there)."""
    rel = str(root.root)
    if rel != "/" and host_path.startswith(rel + "/"):
        return host_path[len(rel) :]
    return host_path


# --------------------------------------------------------------------------- where each goes


def homes(
    closure: Mapping[str, set[str]], requires: Mapping[str, Iterable[str]], order: list[str]
) -> dict[str, str]:
    """soname -> the package that carries it: among the packages every user of the library is
    or requires (transitively), a user itself if there is one, else the one with the most
    requirements (the closest to the users), then the first in `order`."""

    reaches = {p: requirement_closure(requires, p) for p in order}
    rank = {p: i for i, p in enumerate(order)}
    users: dict[str, set[str]] = {}
    for pkg, sonames in closure.items():
        for s in sonames:
            users.setdefault(s, set()).add(pkg)
    out: dict[str, str] = {}
    for soname, us in sorted(users.items()):
        common = set.intersection(*(reaches[u] for u in us))
        if not common:
            shown = ", ".join(sorted(us))
            raise BundleError(
                f"{soname} is needed by packages {shown}, which share no package to carry it once: "
                "give them a common requirement in the layout (or leave out --bundle-libs)"
            )
        out[soname] = min(common, key=lambda p: (p not in us, -len(reaches[p]), rank.get(p, len(rank))))
    return out
