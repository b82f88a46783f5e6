"""Which file of a build provides each shared-library name (soname) its ELF files ask for.

A build file provides its `SONAME`, and its file name when it sits in a library directory (the
standard ones, the prefix's, a multiarch one, or a directory a build file's RUNPATH/RPATH points
to). The plan uses this to make a package require the sibling that ships a library it links
(`DT_NEEDED`); `libdeps` to tell a build's own libraries from the system's; the wheel writer to
point RUNPATHs at where those libraries are installed. Only names are compared: nothing is loaded.
"""

from __future__ import annotations

import posixpath
import re

from qpack.inventory import Inventory, link_end

_STANDARD_LIB_DIRS = ("lib", "lib32", "lib64", "usr/lib", "usr/lib32", "usr/lib64", "usr/local/lib")
_LIBRARY_NAME = re.compile(r"[^/]*\.so(?:\.[0-9][^/]*)?\Z")
_MULTIARCH = re.compile(r"(?:usr/)?lib/[a-z0-9_]+-linux-[a-z0-9_]+\Z")


def library_dirs(inventory: Inventory, prefix: str) -> set[str]:
    """Build-root-relative directories in which a file's name is a soname it provides."""
    pre = prefix.strip("/")
    dirs = set(_STANDARD_LIB_DIRS)
    if pre:
        dirs |= {f"{pre}/lib", f"{pre}/lib64", f"{pre}/lib32"}
    for e in inventory.entries:
        parent = posixpath.dirname(e.path)
        if _MULTIARCH.match(parent) or (pre and _MULTIARCH.match(parent.removeprefix(f"{pre}/"))):
            dirs.add(parent)
        if e.elf is None:
            continue
        for rp in e.elf.runpath:
            for d in rp.split(":"):
                if not d:
                    continue
                for token in ("$ORIGIN", "${ORIGIN}"):
                    d = d.replace(token, "/" + posixpath.dirname(e.path))
                norm = posixpath.normpath(d).lstrip("/")
                if norm and not norm.startswith(".."):
                    dirs.add(norm)
    return dirs


def provided_sonames(inventory: Inventory, prefix: str) -> dict[str, str]:
    """soname -> the (first, by path) build file that provides it. Outside the library
    directories a file provides its SONAME only under that name (its own, or a symlink's
    beside it): the dynamic linker opens a needed library by name, so a plugin whose SONAME
    is another library's (a VLC tester's libfake_plugin.so with libidn.so.12's) provides
    nothing, where it made a cycle of the plan."""
    dirs = library_dirs(inventory, prefix)
    by_link = {e.path: e.target or "" for e in inventory.entries if e.kind == "symlink"}
    provided: dict[str, str] = {}
    for e in inventory.files():
        names = []
        parent = posixpath.dirname(e.path)
        in_lib_dir = parent in dirs
        soname = e.elf.soname if e.elf is not None else None
        if soname and (
            in_lib_dir or soname == e.name or link_end(posixpath.join(parent, soname), by_link) == e.path
        ):
            names.append(soname)
        if in_lib_dir and _LIBRARY_NAME.match(e.name):
            names.append(e.name)
        for n in names:
            provided.setdefault(n, e.path)
    return provided
