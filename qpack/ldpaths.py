"""Where the dynamic linker would find a shared library, worked out statically inside a root.

`Root` resolves paths the way the kernel would inside a chroot (symlinks followed within the
root, never out of it), so `check --root DESTDIR` judges a staged tree as if it were installed.
`LibraryFinder` follows ld.so's search order for one DT_NEEDED name (glibc, `man ld.so`):

1. a name with a slash is a path;
2. the requesting object's DT_RPATH (only when it has no DT_RUNPATH), then the executable's
   DT_RPATH (only when the executable has no DT_RUNPATH);
3. `LD_LIBRARY_PATH` from the given environment;
4. the requesting object's DT_RUNPATH;
5. `/etc/ld.so.cache` inside the root (read here, never by running ldconfig);
6. the default directories (`/lib/<triplet>`, `/usr/lib/<triplet>`, `/lib64`, `/usr/lib64`,
   `/lib`, `/usr/lib`).

`$ORIGIN` expands to the requesting object's directory. A candidate of another ELF class or
machine is skipped, as ld.so skips it. Nothing is loaded or run.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from qpack.elf import ELF_MAGIC, ElfReadError, LinkFacts, read_link_facts_path

MAX_SYMLINKS = 40  # as the kernel's ELOOP limit

_MULTIARCH = {
    ("EM_X86_64", 64): "x86_64-linux-gnu",
    ("EM_386", 32): "i386-linux-gnu",
    ("EM_AARCH64", 64): "aarch64-linux-gnu",
    ("EM_ARM", 32): "arm-linux-gnueabihf",
    ("EM_PPC64", 64): "powerpc64le-linux-gnu",
    ("EM_S390", 64): "s390x-linux-gnu",
    ("EM_RISCV", 64): "riscv64-linux-gnu",
}


# The flags of an ld.so.cache entry the dynamic linker of each (machine, class) takes, and no
# other (glibc's dl-cache.h: FLAG_ELF_LIBC6 with the ABI's FLAG_*_LIB64, FLAG_X8664_LIBX32 ...;
# `_dl_cache_check_flags`): a multilib host lists x32's and i386's libc.so.6 beside x86-64's.
# Machines with more than one ABI of one class (ARM's hard and soft float) are not listed.
_CACHE_FLAGS = {
    ("EM_X86_64", 64): 0x0303,
    ("EM_X86_64", 32): 0x0803,
    ("EM_386", 32): 0x0003,
    ("EM_AARCH64", 64): 0x0A03,
    ("EM_PPC64", 64): 0x0503,
    ("EM_S390", 64): 0x0403,
    ("EM_RISCV", 64): 0x1003,
}


_HOST_MACHINES = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64", "i686": "EM_386", "i386": "EM_386",
                  "ppc64le": "EM_PPC64", "s390x": "EM_S390", "riscv64": "EM_RISCV"}  # fmt: skip


def host_cache_flags() -> int | None:
    """The ld.so.cache flags of this machine's own libraries (its Python's machine and word
    size), or None where they are not known."""
    import platform

    machine = _HOST_MACHINES.get(platform.machine())
    return _CACHE_FLAGS.get((machine, 8 * struct.calcsize("P"))) if machine else None


def open_regular(host: Path | str) -> BinaryIO:
    """The file `host` opened for reading, if it is a regular one; else OSError, without waiting:
    a FIFO opened as a file blocks for ever for a writer that never comes (a Cockpit tester's
    FIFO named manifest.json hung `check`). A directory raises IsADirectoryError, as open does."""
    fd = os.open(host, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(host))
        raise OSError(errno.ENXIO, "not a regular file (a FIFO, socket or device)", str(host))
    os.set_blocking(fd, True)  # O_NONBLOCK means nothing for a regular file; as open() gives it
    return open(fd, "rb")


class Root:
    """A filesystem tree seen from inside, as a program installed there would see it."""

    def __init__(self, root: Path | str = "/") -> None:
        self.root = Path(root).absolute()

    def host(self, path: str) -> Path:
        """The host path of an absolute path inside the root (lexically: no resolution)."""
        return self.root / path.lstrip("/")

    def resolve(self, path: str) -> str | None:
        """`path` with every symlink followed inside the root, or None when a component does
        not exist, is not a directory where one is needed, or links loop (ENOENT, ENOTDIR,
        ELOOP: what `access(F_OK)` fails with)."""
        todo = [p for p in path.split("/") if p and p != "."]
        todo.reverse()
        parts: list[str] = []
        links = 0
        while todo:
            part = todo.pop()
            if part == "..":
                if parts:
                    parts.pop()
                continue
            current = "/" + "/".join([*parts, part])
            try:
                st = os.lstat(self.host(current))
            except OSError:
                return None
            if stat.S_ISLNK(st.st_mode):
                links += 1
                if links > MAX_SYMLINKS:
                    return None
                target = os.readlink(self.host(current))
                if target.startswith("/"):
                    parts = []
                more = [p for p in target.split("/") if p and p != "."]
                todo.extend(reversed(more))
                continue
            if todo and not stat.S_ISDIR(st.st_mode):
                return None
            parts.append(part)
        return "/" + "/".join(parts)

    def exists(self, path: str) -> bool:
        return self.resolve(path) is not None

    def stat(self, path: str) -> os.stat_result | None:
        real = self.resolve(path)
        if real is None:
            return None
        try:
            return os.stat(self.host(real), follow_symlinks=False)
        except OSError:
            return None

    def is_dir(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def is_file(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and stat.S_ISREG(st.st_mode)

    def listdir(self, path: str) -> list[str]:
        """Names in a directory, sorted as strcmp sorts them (by bytes); [] if unreadable."""
        real = self.resolve(path)
        if real is None:
            return []
        try:
            names = os.listdir(self.host(real))
        except OSError:
            return []
        return sorted(names, key=os.fsencode)


NOT_ELF = "not an ELF file"  # ElfFile.error of a file without the ELF magic (a script, data)
TRUNCATED = "empty or truncated file"  # ... of one cut inside the magic (empty, or `\x7fE`)


@dataclass(frozen=True, slots=True)
class ElfFile:
    """An ELF file at a (resolved) path inside the root, or why it cannot be read."""

    path: str
    facts: LinkFacts | None
    error: str | None = None
    system: bool = False  # found among the system libraries (LibraryFinder.system), not the root


def read_elf_file(
    root: Root,
    path: str,
    wanted: tuple[str, ...] = (),
    reader: Callable[[BinaryIO], LinkFacts] | None = None,
) -> ElfFile:
    """Link facts of the file at `path` (already resolved inside the root): read with LIEF, or
    from the open file by `reader` (pyelftools, where a few files are read and LIEF's import
    would cost more than reading them), or why it cannot be read."""
    try:
        # O_NONBLOCK: a FIFO in the prefix must not block the check (no writer ever comes).
        fd = os.open(root.host(path), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(fd, "rb") as f:
            why = _not_regular(os.fstat(f.fileno()).st_mode)
            if why is None and (head := f.read(4)) != ELF_MAGIC:
                # As plan says it (a Samba re-tester's empty vfs/zero.so: "not an ELF file" in
                # check, "empty or truncated file" in plan; smbd: "file too short").
                why = TRUNCATED if len(head) < 4 and ELF_MAGIC.startswith(head) else NOT_ELF
            if why is not None:
                return ElfFile(path, None, why)
            facts = reader(cast(BinaryIO, f)) if reader is not None else None
        return ElfFile(path, facts or read_link_facts_path(root.host(path), wanted))
    except PermissionError:
        return ElfFile(path, None, "cannot read it: permission denied")
    except IsADirectoryError:
        return ElfFile(path, None, "is a directory")
    except ElfReadError as e:
        return ElfFile(path, None, str(e))
    except OSError as e:
        return ElfFile(path, None, f"cannot read it: {e.strerror or errno.errorcode.get(e.errno or 0, e)}")


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is no file the dynamic linker maps, or None for a regular one."""
    if stat.S_ISREG(mode):
        return None
    return "is a directory" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, socket or device)"


class Reads:
    """What one run has read: each (tree, file)'s link facts and each system tree's ld.so.cache,
    shared by the run's LibraryFinders. A check finds libraries for every executable of a
    prefix (every program of bindir, for a loader that is a library); without it each one read
    every library again: 30,000 LIEF parses and 900 ld.so.cache parses for /usr/bin here."""

    def __init__(self) -> None:
        self._files: dict[tuple[str, str, tuple[str, ...]], ElfFile] = {}
        self._ld_so_caches: dict[tuple[str, tuple[str, int] | None], dict[str, list[str]]] = {}

    def elf_file(self, root: Root, path: str, wanted: tuple[str, ...] = ()) -> ElfFile:
        """`read_elf_file(root, path, wanted)`, once."""
        key = (str(root.root), path, wanted)
        found = self._files.get(key)
        if found is None:
            found = self._files[key] = read_elf_file(root, path, wanted)
        return found

    def ld_so_cache(self, system: Root, machine: tuple[str, int] | None = None) -> dict[str, list[str]]:
        """The system tree's /etc/ld.so.cache, parsed once a machine (empty when it has none):
        the entries the dynamic linker of `machine` takes, where its flags are known."""
        key = (str(system.root), machine if machine in _CACHE_FLAGS else None)
        if key not in self._ld_so_caches:
            try:
                # Not blocking on a FIFO there (a sweep's staged tree hung check on one).
                with open_regular(system.host("/etc/ld.so.cache")) as f:
                    data = f.read()
            except OSError:
                data = b""
            self._ld_so_caches[key] = parse_ld_so_cache(data, _CACHE_FLAGS.get(key[1]) if key[1] else None)
        return self._ld_so_caches[key]


# --------------------------------------------------------------------------- ld.so.cache

_CACHE_NEW = b"glibc-ld.so.cache1.1"
_CACHE_OLD = b"ld.so-1.7.0"


def parse_ld_so_cache(data: bytes, flags: int | None = None) -> dict[str, list[str]]:
    """soname -> library paths, in the cache's order, from the bytes of `/etc/ld.so.cache`
    (glibc's format 1.1, alone or after the old libc5 table): with `flags`, only the entries
    of those flags (one machine's, `_CACHE_FLAGS`). Unreadable data gives {}."""
    start = 0
    if data.startswith(_CACHE_OLD):
        (nlibs,) = struct.unpack_from("<I", data, len(_CACHE_OLD) + 1)
        start = (len(_CACHE_OLD) + 1 + 4 + nlibs * 12 + 7) & ~7
    if data[start : start + len(_CACHE_NEW)] != _CACHE_NEW:
        return {}
    try:
        nlibs, _strings = struct.unpack_from("<II", data, start + 20)
        entries = start + 48
        out: dict[str, list[str]] = {}
        for i in range(nlibs):
            entry_flags, key, value = struct.unpack_from("<iII", data, entries + i * 24)
            if flags is not None and entry_flags != flags:
                continue
            # String offsets count from the start of the new-format header.
            name, path = _cstr(data, start + key), _cstr(data, start + value)
            out.setdefault(name, []).append(path)
    except struct.error:
        return {}
    return out


def _cstr(data: bytes, offset: int) -> str:
    end = data.index(b"\0", offset)
    return data[offset:end].decode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------- the search


def _expand(entry: str, origin: str) -> str:
    for token in ("${ORIGIN}", "$ORIGIN"):
        entry = entry.replace(token, origin)
    return entry


def ld_library_path(env: Mapping[str, str]) -> tuple[str, ...]:
    """The directories `LD_LIBRARY_PATH` names in `env`, as ld.so splits it (':' or ';')."""
    return tuple(p for p in env.get("LD_LIBRARY_PATH", "").replace(";", ":").split(":") if p)


def missing_phrase(missing: Iterable[str]) -> str:
    """`LibraryFinder.closure`'s missing names (`name (needed by path)`) as one phrase, those one
    object needs together: an Enlightenment tester's program without EFL got one line of 1,500
    characters, "(needed by ...)" after each of its libraries."""
    groups: dict[str, list[str]] = {}
    for m in missing:
        name, sep, who = m.partition(" (needed by ")
        groups.setdefault(who.removesuffix(")") if sep else "", []).append(name)

    def some(names: list[str]) -> str:
        # Eight, and how many more (a digiKam tester's 45 names: 2 KB on each command's line).
        return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")

    return "; ".join(
        f"{some(names)} (needed by {who})" if who else some(names) for who, names in groups.items()
    )


class LibraryFinder:
    """Find libraries by DT_NEEDED name for objects loaded into one executable."""

    def __init__(
        self,
        root: Root,
        env: Mapping[str, str],
        exe: ElfFile,
        system: Root | None = None,
        reads: Reads | None = None,
    ) -> None:
        self.root = root
        self.system = system or root  # where ld.so.cache and the default directories are
        self.exe = exe
        self.ld_library_path = ld_library_path(env)
        self.reads = reads or Reads()  # the run's, shared with its other finders
        self._found: dict[tuple[str, tuple[str, ...], tuple[str, ...]], ElfFile | None] = {}
        facts = exe.facts
        self.machine = (facts.machine, facts.elf_class) if facts else ("", 0)

    @property
    def cache(self) -> dict[str, list[str]]:
        """ld.so.cache's entries for this program's machine, as its dynamic linker takes them."""
        return self.reads.ld_so_cache(self.system, self.machine)

    @property
    def cache_filtered(self) -> bool:
        """Whether `cache` holds this machine's entries alone (its flags are known)."""
        return self.machine in _CACHE_FLAGS

    def default_dirs(self) -> tuple[str, ...]:
        triplet = _MULTIARCH.get(self.machine)
        dirs = (f"/lib/{triplet}", f"/usr/lib/{triplet}") if triplet else ()
        lib64 = ("/lib64", "/usr/lib64") if self.machine[1] == 64 else ()
        return (*dirs, *lib64, "/lib", "/usr/lib")

    def _dirs(self, requester: ElfFile, env: bool = True) -> Iterator[tuple[str, Root]]:
        """(directory, the tree it is in): an object's own paths are in its own tree. Without
        `env`, the run paths alone (not LD_LIBRARY_PATH)."""
        facts = requester.facts
        assert facts is not None
        origin = posixpath.dirname(requester.path)
        own = self.system if requester.system else self.root
        if not facts.runpath:
            yield from ((_expand(d, origin), own) for d in facts.rpath)
        exe = self.exe.facts
        if exe is not None and not exe.runpath and requester is not self.exe:
            yield from ((_expand(d, posixpath.dirname(self.exe.path)), self.root) for d in exe.rpath)
        if env:
            yield from ((d, self.root) for d in self.ld_library_path)
        yield from ((_expand(d, origin), own) for d in facts.runpath)

    def _usable(self, path: str, root: Root | None = None) -> ElfFile | None:
        root = root or self.root
        real = root.resolve(path)
        if real is None or not root.is_file(real):
            return None
        found = self.reads.elf_file(root, real)
        if found.facts is None or (found.facts.machine, found.facts.elf_class) != self.machine:
            return None  # ld.so skips a file it cannot use and searches on
        if root is not self.root:
            found = ElfFile(found.path, found.facts, None, system=True)
        return found

    def find(self, name: str, requester: ElfFile) -> ElfFile | None:
        """The library ld.so would load for DT_NEEDED `name` of `requester`, or None."""
        facts = requester.facts
        assert facts is not None
        key = (name, (requester.path, str(requester.system), *facts.rpath), facts.runpath)
        if key in self._found:
            return self._found[key]
        found: ElfFile | None = None
        if "/" in name:
            found = self._usable(name)
        else:
            for d, tree in self._dirs(requester):
                if d and (found := self._usable(posixpath.join(d, name), tree)) is not None:
                    break
            else:
                found = self._system_library(name) or self._host_run_path(name, requester)
        self._found[key] = found
        return found

    def _host_run_path(self, name: str, requester: ElfFile) -> ElfFile | None:
        """For a staged tree judged with this host's libraries: the object's own absolute
        RPATH/RUNPATH directories on the host, last (a Nemo tester's font-manager extension,
        RUNPATH /usr/lib/x86_64-linux-gnu/font-manager, was "missing-library" under --root of a
        build that lacks that directory, while the host has it). Not a directory the tree has:
        that is the build's own (Samba's and Kerberos's private library directories), and the
        host's copy, there only where the program is installed, hid a library the build lost
        ("yes", exit 0, for a module the real program refuses)."""
        if str(self.system.root) == str(self.root.root):
            return None
        # Not LD_LIBRARY_PATH's directories: --env paths are read inside the root, as check warns
        # (syslog-ng and Evince testers: "no such directory in ROOT", and the libraries of that
        # host directory found all the same).
        for d, tree in self._dirs(requester, env=False):
            if (
                tree is self.root
                and d.startswith("/")
                and not self.root.is_dir(d)
                and (found := self._usable(posixpath.join(d, name), self.system))
            ):
                return found
        return None

    def _system_library(self, name: str) -> ElfFile | None:
        """ld.so.cache, then the default directories. A staged tree without a cache of its own
        (its system libraries are this host's) has its own default directories searched first:
        the libraries it installs there are the ones its ldconfig will list, and the host may
        not have them at all."""
        if str(self.system.root) != str(self.root.root):
            for d in self.default_dirs():
                if (found := self._usable(posixpath.join(d, name))) is not None:
                    return found
        for path in self.cache.get(name, ()):
            if (found := self._usable(path, self.system)) is not None:
                return found
        for d in self.default_dirs():
            if (found := self._usable(posixpath.join(d, name), self.system)) is not None:
                return found
        return None

    def closure(self, obj: ElfFile, loaded: set[str]) -> tuple[set[str], list[str]]:
        """Every soname `obj` brings in, transitively, given the sonames already `loaded`
        (matched by name, as ld.so matches DT_NEEDED against loaded objects: `obj`'s own SONAME
        among them, a loader library standing for its programs, which a module links with no
        RUNPATH to find it), and the names it cannot find, each as `name (needed by path)`."""
        have = set(loaded)
        if obj.facts is not None and obj.facts.soname:
            have.add(obj.facts.soname)
        missing: list[str] = []
        todo = [obj]
        seen = {obj.path}
        while todo:
            cur = todo.pop()
            assert cur.facts is not None
            for name in cur.facts.needed:
                if name in have:
                    continue
                lib = self.find(name, cur)
                if lib is None:
                    missing.append(f"{name} (needed by {cur.path})")
                    have.add(name)
                    continue
                have.add(name)
                if lib.facts is not None and lib.facts.soname:
                    have.add(lib.facts.soname)
                if lib.path not in seen:
                    seen.add(lib.path)
                    todo.append(lib)
        return have, missing
