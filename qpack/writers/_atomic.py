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
from qpack.writers import check_output


@contextlib.contextmanager
def atomic_dir(outdir: Path, *, build: Path | None, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory next to `outdir`; on success it replaces `outdir`.
    `build` is the tree the output is made from: the output may neither hold nor lie in it."""
    outdir = Path(outdir)
    check_output(outdir, build, force)
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
