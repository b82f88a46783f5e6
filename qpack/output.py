"""Write an output directory or file all at once: build it in a temporary sibling, then rename.

An interrupted or failed run leaves the previous output (or nothing) and no half-written tree.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from qpack.errors import OutputError


def check_output_dir(outdir: Path, force: bool) -> None:
    """Refuse an existing non-empty output directory unless forced; do it before any work."""
    if outdir.is_symlink() or (outdir.exists() and not outdir.is_dir()):
        raise OutputError(f"{outdir}: output exists and is not a directory")
    if outdir.is_dir() and any(outdir.iterdir()) and not force:
        raise OutputError(f"{outdir}: output directory exists and is not empty (use --force to replace it)")


@contextlib.contextmanager
def atomic_dir(outdir: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory next to `outdir`; on success it replaces `outdir`."""
    outdir = Path(outdir)
    check_output_dir(outdir, force)
    parent = outdir.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".tmp", dir=parent))
    except OSError as e:
        raise OutputError(f"{outdir}: cannot create output: {e.strerror}") from None
    try:
        yield tmp
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
        if outdir.exists():
            old = parent / f".{outdir.name}.old-{os.getpid()}"
            outdir.rename(old)
            try:
                tmp.rename(outdir)
            except BaseException:
                old.rename(outdir)  # put the previous output back: never leave nothing
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
