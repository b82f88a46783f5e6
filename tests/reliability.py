"""Helpers the reliability tests share (tests/test_faults.py, test_corpus.py, test_properties.py):
a snapshot of a tree (what "nothing was touched" compares), the temporary siblings an output
may leave, and `run_forked`, the real command line in a forked child that a test can SIGKILL.

Forking the test process runs `qpack.cli.main` with every module already imported, so a run on
the small demo build takes a tenth of a second instead of a new interpreter's half second:
that is what lets the fault tests kill hundreds of runs in CI time.
"""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from qpack.cli import main

Snapshot = dict[str, tuple[str, int, str]]


def snapshot(root: Path) -> Snapshot:
    """Every path under `root` (relative, root itself excluded): (kind, permission bits, sha256 of
    a file's bytes or a link's target). Modes and bytes, not times: what a reader would notice.
    Walked through directory descriptors, so paths longer than PATH_MAX are read too."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames, dirfd in os.fwalk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for name in dirnames + filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(name, dir_fd=dirfd))
            elif stat.S_ISREG(st.st_mode):
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dirfd)
                with open(fd, "rb") as f:
                    digest = hashlib.file_digest(f, "sha256").hexdigest()
                out[rel] = ("file", stat.S_IMODE(st.st_mode), digest)
            else:
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), "")
    return out


def leftovers(outdir: Path) -> list[str]:
    """What a run into `outdir` may have left beside it: hidden `.<name>.*` siblings."""
    parent = outdir.parent
    if not parent.is_dir():
        return []
    return sorted(n for n in os.listdir(parent) if n.startswith(f".{outdir.name}."))


def error_lines(stderr: str) -> list[str]:
    """The `error:` lines of a run's stderr (warnings and notes may come before them); a
    traceback is never acceptable."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


@dataclass(frozen=True)
class Run:
    status: int  # exit status, or -N when killed by signal N
    stdout: str
    stderr: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.status == -signal.SIGKILL


def run_forked(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    before: Callable[[], None] | None = None,
    kill_after: float | None = None,
    timeout: float = 120.0,
) -> Run:
    """`qpack argv` in a forked child, with `env` added to its environment and `before` called
    in it first; SIGKILLed after `kill_after` seconds when given."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            status = 99
            try:
                os.environ.update(env or {})
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                if before is not None:
                    before()
                status = main(list(argv))
            except SystemExit as e:  # argparse's usage errors
                status = e.code if isinstance(e.code, int) else 2
            except BaseException:
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(status)
        if kill_after is not None:
            time.sleep(kill_after)
            os.kill(pid, signal.SIGKILL)
        deadline = start + timeout
        while True:
            done, wstatus = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError(f"qpack {' '.join(argv)} still running after {timeout} s")
            time.sleep(0.005)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        status = -os.WTERMSIG(wstatus) if os.WIFSIGNALED(wstatus) else os.WEXITSTATUS(wstatus)
        return Run(status, out.read().decode(errors="replace"), err.read().decode(errors="replace"), seconds)
