"""Write an output directory all at once: build it in a temporary sibling, then swap it in.

Guarantees, for the writers that go through `atomic_dir` (README "Reliability", SECURITY.md):

- **Never partial, never absent.** The new output is written into `.<name>.qpack-tmp-<hex>`
  beside OUT. A new OUT appears by one rename; an existing OUT (`--force`) is swapped with the
  new tree by one `renameat2(RENAME_EXCHANGE)`, so at every instant OUT is the old output or the
  complete new one, whatever kills the process. Where the filesystem cannot exchange (EINVAL,
  ENOTSUP, ...), OUT is first renamed to `.<name>.qpack-old-<hex>`: a run killed between the two
  renames leaves OUT absent, and the next run into OUT puts the old output back first.
- **Nothing left behind.** A killed run leaves its temporary sibling; the next run into the same
  OUT (which holds the lock, so no other run is using them) removes every `.<name>.qpack-tmp-*`
  and `.<name>.qpack-old-*` sibling before it writes.
- **One writer per output.** `.<name>.qpack-lock` beside OUT is flock(2)ed for the whole run
  (a killed holder's lock is released by the kernel); a second run into the same OUT is refused
  with one line, instead of both "succeeding" and the later rename replacing the earlier output.
  The output checks are repeated under the lock, so a run that waited behind another finds its
  output. The holder unlinks the lock file before releasing it; a run that locked the unlinked
  file sees the path no longer names it and locks again.

Test hook (read only here, documented so it is not mistaken for a feature): with
`QPACK_TEST_KILL_AT=N` the process SIGKILLs itself at the N-th `checkpoint()` of the run (the
writers call it once per file written, this module at each step of the swap); with
`QPACK_TEST_STEP_LOG=FILE`, each checkpoint's label is appended to FILE. tests/test_faults.py
kills splits at every such point.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from qpack.errors import OutputError
from qpack.writers import check_output

KILL_HOOK = "QPACK_TEST_KILL_AT"
STEP_LOG = "QPACK_TEST_STEP_LOG"
_TMP, _OLD, _LOCK = "qpack-tmp", "qpack-old", "qpack-lock"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_steps: dict[int, int] = {}  # pid -> checkpoints passed (a forked child counts from zero)
_steps_lock = threading.Lock()


def checkpoint(label: str) -> None:
    """One step of writing an output, for the kill-point test hook (module docstring)."""
    kill_at, log = os.environ.get(KILL_HOOK), os.environ.get(STEP_LOG)
    if not kill_at and not log:
        return
    pid = os.getpid()
    with _steps_lock:  # two threads write a tree split's packages
        n = _steps[pid] = _steps.get(pid, 0) + 1
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{n}\t{label}\n")
    if kill_at and kill_at.isdigit() and n == int(kill_at):
        os.kill(pid, signal.SIGKILL)


def _stem(outdir: Path) -> str:
    """`.<name>` for the siblings of `outdir` (a hash for a name too long to take a suffix)."""
    name = outdir.name
    if len(os.fsencode(name)) > 200:
        name = hashlib.sha256(os.fsencode(name)).hexdigest()[:16]
    return f".{name}"


def _sibling(outdir: Path, kind: str) -> Path:
    return outdir.absolute().parent / f"{_stem(outdir)}.{kind}-{secrets.token_hex(4)}"


def stale_siblings(outdir: Path) -> list[Path]:
    """The temporary siblings a killed run into `outdir` may have left (exactly its names)."""
    parent = outdir.absolute().parent
    pattern = re.compile(rf"{re.escape(_stem(outdir))}\.({_TMP}|{_OLD})-[0-9a-f]{{8}}")
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    return sorted(parent / n for n in names if pattern.fullmatch(n))


def remove_tree(path: Path) -> None:
    """Remove a tree this module made (a temporary or replaced output), even where the writer
    gave its directories read-only modes. Only directories are chmod-ed, never through a link:
    a regular file in the tree may be a hard link into the build, whose mode must not change."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    with contextlib.suppress(OSError):
        shutil.rmtree(path)
    if not os.path.lexists(path):
        return
    # Read-only directories (a 0555 directory of the build, kept in the tree): open them up,
    # top-down so that each one can be listed, then remove again.
    with contextlib.suppress(OSError):
        os.chmod(path, stat.S_IMODE(os.lstat(path).st_mode) | 0o700)
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            full = os.path.join(dirpath, d)
            with contextlib.suppress(OSError):
                st = os.lstat(full)
                if stat.S_ISDIR(st.st_mode):
                    os.chmod(full, stat.S_IMODE(st.st_mode) | 0o700)
    shutil.rmtree(path)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (renameat2 RENAME_EXCHANGE). False where the system or the
    filesystem cannot; an OSError for any other failure."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class OutputLock:
    """The flock(2) on `.<name>.qpack-lock` beside an output, held for one run (module docstring)."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.path = outdir.absolute().parent / f"{_stem(outdir)}.{_LOCK}"
        self.fd: int | None = None

    def __enter__(self) -> OutputLock:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            except OSError as e:  # the first file made beside the output
                raise OutputError(f"{self.outdir}: cannot create output: {e.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                os.close(fd)
                who = f" (pid {holder})" if holder.isdigit() else ""
                raise OutputError(
                    f"{self.outdir}: another qpack run{who} is writing this output now; "
                    "wait for it to finish or choose another output"
                ) from None
            except OSError as e:
                os.close(fd)
                raise OutputError(f"{self.outdir}: cannot lock the output: {e.strerror}") from None
            try:
                same = os.path.samestat(os.fstat(fd), os.lstat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the previous holder unlinked the file we locked: lock the new one
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            os.close(self.fd)
            self.fd = None


def recover(outdir: Path) -> None:
    """Under the output's lock: undo what a killed run left. An output absent while a replaced
    one waits beside it (killed between the two renames of the fallback) is put back; then every
    temporary sibling is removed."""
    stale = stale_siblings(outdir)
    if not os.path.lexists(outdir):
        old = [p for p in stale if p.name.startswith(f"{_stem(outdir)}.{_OLD}-")]
        if old:
            os.rename(old[0], outdir)
            stale.remove(old[0])
    for p in stale:
        remove_tree(p)


def tidy(outdir: Path) -> None:
    """What a killed run into `outdir` left, undone now if no other run holds the output's lock
    (`recover`): so that even a run that goes on to refuse the output leaves nothing behind.
    Never raises: what cannot be tidied now, the next run that writes will."""
    outdir = Path(outdir)
    lock = _stem(outdir) + f".{_LOCK}"
    if not stale_siblings(outdir) and not os.path.lexists(outdir.absolute().parent / lock):
        return
    with contextlib.suppress(OutputError, OSError), OutputLock(outdir):
        recover(outdir)


@contextlib.contextmanager
def atomic_dir(outdir: Path, *, build: Path | None, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory next to `outdir`; on success it replaces `outdir`.
    `build` is the tree the output is made from: the output may neither hold nor lie in it.
    Holds the output's lock throughout (module docstring)."""
    outdir = Path(outdir)
    check_output(outdir, build, force)
    # From here on the path as check_output judged it, fully resolved: creating the parents of
    # `build/new/../../out` as written would make `build/new` inside the build.
    outdir = Path(os.path.realpath(outdir))
    parent = outdir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next(p for p in (parent, *parent.parents) if p.exists() or p.is_symlink())
        raise OutputError(f"{outdir}: cannot create output: {blocker} is not a directory") from None
    except OSError as e:
        raise OutputError(f"{outdir}: cannot create output: {e.strerror}") from None
    with OutputLock(outdir):
        try:
            recover(outdir)
        except OSError as e:
            raise OutputError(f"{outdir}: cannot clean up after an interrupted run: {e.strerror}") from None
        checkpoint("cleaned up")
        # Again, under the lock: another run may have written the output since the first check.
        check_output(outdir, build, force)
        try:
            tmp = _sibling(outdir, _TMP)
            os.mkdir(tmp, 0o700)
        except OSError as e:
            raise OutputError(f"{outdir}: cannot create output: {e.strerror}") from None
        checkpoint("temporary directory made")
        try:
            yield tmp
            checkpoint("written")
            os.chmod(tmp, 0o755)
            if os.path.lexists(outdir):
                _replace(outdir, tmp)
            else:
                os.rename(tmp, outdir)
                checkpoint("renamed")
        except OSError as e:
            _discard(tmp)
            raise OutputError(f"{outdir}: cannot write output: {e.strerror}") from None
        except BaseException:
            _discard(tmp)
            raise


def _discard(tree: Path) -> None:
    """Remove a temporary tree on the way out; what cannot be removed now, the next run will."""
    with contextlib.suppress(OSError):
        remove_tree(tree)


def _replace(outdir: Path, tmp: Path) -> None:
    """Put the complete tree `tmp` in place of the existing `outdir`, then remove the old one."""
    if _exchange(tmp, outdir):
        checkpoint("exchanged")
        _discard(tmp)  # now the previous output
        checkpoint("previous output removed")
        return
    old = _sibling(outdir, _OLD)
    os.rename(outdir, old)
    checkpoint("previous output moved aside")
    try:
        os.rename(tmp, outdir)
    except BaseException:
        os.rename(old, outdir)  # put the previous output back: never leave nothing
        raise
    checkpoint("renamed")
    _discard(old)
    checkpoint("previous output removed")
