"""Writers turn a Plan into files: wheels (`wheel.py`) or distro trees and lists (`tree.py`).

What every writer shares lives here: the progress callback, the report shape, and the one check
of an output directory against the build it is written from. A writer decides everything first
(raising before anything is written), then writes into a temporary sibling of the output that
replaces it only when complete (`_atomic.py`). A writer never re-decides ownership.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qpack.errors import OutputError

Progress = Callable[[int, int], None]
"""Called with (bytes just written, total bytes) for a progress bar the CLI owns."""


@dataclass(frozen=True, slots=True)
class Written:
    """One package as written: its name, the path written for it, and how many files it holds."""

    package: str
    path: Path
    files: int


@dataclass
class Report:
    """What a writer did: the packages written, build paths it left out (`dropped`), and
    notes on anything else worth saying (links left out, copies instead of hard links...)."""

    outdir: Path
    written: list[Written] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def check_output(outdir: Path, build: Path | None, force: bool) -> None:
    """Refuse, before any work, an output that cannot be written safely:
    - one that exists and is not a directory (or is a symlink), or is not empty without `force`;
    - one that is the build, contains it, or lies inside it, compared on fully resolved paths
      (symlinks and `..` followed as the kernel would), since replacing the output with
      `--force` would delete the build, and writing inside the build would change it.
    Before the checks, what a killed run into this output left beside it is cleaned up."""
    if build is not None:
        out_real, build_real = os.path.realpath(outdir), os.path.realpath(build)
        if _inside(build_real, out_real):
            raise OutputError(
                f"{outdir}: the build {build} is inside the output directory; choose another output"
            )
        if _inside(out_real, build_real):
            raise OutputError(
                f"{outdir}: the output directory is inside the build {build}; choose another output"
            )
    from qpack.writers._atomic import tidy  # _atomic builds on this module

    tidy(outdir)  # what a killed run into this output left (it may put the old output back)
    if outdir.is_symlink():  # the output is replaced by a rename: the link, not its target
        raise OutputError(
            f"{outdir}: output is a symlink (to {os.readlink(outdir)}); give the directory itself"
        )
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"{outdir}: output exists and is not a directory")
    try:
        nonempty = outdir.is_dir() and any(outdir.iterdir())
    except OSError as e:
        raise OutputError(f"{outdir}: cannot read the output directory: {e.strerror}") from None
    if nonempty and not force:
        raise OutputError(f"{outdir}: output directory exists and is not empty (use --force to replace it)")


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write one file (a page, a graph) through a temporary sibling renamed over `path`: a
    reader never sees half of it, and a failure leaves what was there. Mode 0644."""
    import tempfile

    directory = path.parent if str(path.parent) else Path()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)
        raise OutputError(f"{path}: cannot write it: {e.strerror}") from None


def parse_epoch(text: str) -> int:
    """SOURCE_DATE_EPOCH as reproducible-builds.org defines it: an integer in ASCII, as
    `date +%s` prints it (a '-' before 1970). `int()` alone also takes `1_700_000_000`, `+1000`
    and other scripts' digits (fullwidth ones), which another tool reading the same variable
    would refuse. Raises ValueError."""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(text)
    return int(text)
