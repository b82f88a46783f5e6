"""Changes to an installed prefix as transactions: a lock that serializes qpack's writers, and a
journal from which an interrupted install or uninstall is undone.

Everything lives in one directory inside the prefix (on the host: `<root>/<prefix>/.qpack/`),
present only while a transaction runs or after one was interrupted:

    .qpack/lock           flock(2)ed by the one qpack process changing the prefix
    .qpack/journal.json   the transaction's whole plan, written (and fsynced) before the first change
    .qpack/committed      written once every change is made: recovery then finishes, not undoes
    .qpack/backup/<n>     the n-th file an uninstall removes, moved aside until the commit

A transaction makes directories, creates files, moves files aside and removes directories, in
that order, and only what its journal lists; everything it changed reaches the disk (an
fsync of each file it created and of each directory it changed) before the commit marker is
written. Every file it creates is absent when the journal is written (the callers check that
under the lock), but for the ones it replaces (listed both as removed and created: an installed
`.dist-info`'s RECORD rewritten), which are moved aside first. So undoing removes the files
that exist (and their temporary siblings; a replaced file only once its original is in the
backup), puts moved files back (re-making removed directories with their modes) and removes
the directories it made, deepest first, when empty. The next transaction, or
`recover`, undoes an interrupted one before anything else; after the commit marker it finishes
instead (deleting the backups). When nothing is left to do, `.qpack/` itself is removed, so a
failed or undone transaction leaves the prefix exactly as it was.

The lock file is unlinked by its holder before it lets go; a waiter that then gets the lock on
the unlinked file notices (the path no longer names its file) and locks again.

Test hooks (read only here, by `Transaction.step_done`): `QPACK_TEST_FAIL_AFTER_WHEEL=N` makes
the transaction fail after its N-th step (a wheel installed, a distribution removed);
`QPACK_TEST_KILL_AFTER_WHEEL=N` makes the process kill itself with SIGKILL there instead.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from qpack._threads import map_on_threads
from qpack.errors import QpackError

STATE_DIR = ".qpack"
JOURNAL = "journal.json"
COMMITTED = "committed"
BACKUP = "backup"
LOCK = "lock"
JOURNAL_VERSION = 1
FAIL_HOOK = "QPACK_TEST_FAIL_AFTER_WHEEL"
KILL_HOOK = "QPACK_TEST_KILL_AFTER_WHEEL"
_CHUNK = 1 << 20

StepHook = Callable[[int], None]


class TransactionError(QpackError):
    """The prefix cannot be locked, changed or restored."""


class InjectedFault(TransactionError):
    """The failure a test hook asked for."""


def _oserror(what: str, e: OSError, path: Path | None = None) -> TransactionError:
    """`<file>: <what>: <why>`: the file the error names, else the one being changed."""
    where = e.filename or path
    return TransactionError(f"{where}: {what}: {e.strerror or e}" if where else f"{what}: {e.strerror or e}")


def tmp_sibling(path: Path) -> Path:
    """Where a file is written before it is renamed into place."""
    return path.with_name(f".{path.name}.qpack-tmp")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_path(path: Path) -> None:
    """fsync a file or a directory by its path (a directory may be reached through a symlink,
    as the files were written through it)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- the lock


class PrefixLock:
    """An exclusive lock on a prefix (a context manager); blocks while another holds it. The
    prefix directory is made if missing, and removed again on release if still empty."""

    def __init__(self, host: Path) -> None:
        self.host = Path(host)
        self.state = self.host / STATE_DIR
        self._fd: int | None = None
        self._made: list[Path] = []

    def __enter__(self) -> PrefixLock:
        missing = []
        p = self.host
        while not p.exists() and p != p.parent:
            missing.append(p)
            p = p.parent
        if self.host.exists() and not self.host.is_dir():
            # A Knot Resolver tester's --prefix naming a file: "cannot make the prefix
            # directory: File exists" said why mkdir failed, not what was wrong.
            raise TransactionError(f"{self.host}: the prefix is a file, not a directory")
        try:
            self.host.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _oserror("cannot make the prefix directory", e) from None
        self._made = missing
        path = self.state / LOCK
        while True:
            try:
                self.state.mkdir(exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
            except FileNotFoundError:
                continue  # the holder removed .qpack between our mkdir and open
            except OSError as e:
                raise _oserror("cannot lock the prefix", e) from None
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                st = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                os.close(fd)
                continue
            mine = os.fstat(fd)
            if (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino):
                self._fd = fd
                return self
            os.close(fd)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            with contextlib.suppress(OSError):
                (self.state / LOCK).unlink()
            with contextlib.suppress(OSError):
                self.state.rmdir()  # only when nothing else (a journal) is left in it
            for d in self._made:  # deepest first
                try:
                    d.rmdir()
                except OSError:
                    break
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- the journal


@dataclass(frozen=True, kw_only=True)
class TxPlan:
    """Every change of one transaction, as paths relative to the prefix, in the order made."""

    op: str
    mkdirs: tuple[str, ...] = ()  # parents first; none exists beforehand
    creates: tuple[str, ...] = ()  # none exists beforehand, but for those `removes` lists too
    removes: tuple[str, ...] = ()  # moved to backup/<index>
    rmdirs: tuple[tuple[str, int], ...] = ()  # (directory, mode), deepest first

    def to_json(self) -> dict[str, object]:
        return {
            "version": JOURNAL_VERSION,
            "op": self.op,
            "pid": os.getpid(),
            "mkdirs": list(self.mkdirs),
            "creates": list(self.creates),
            "removes": list(self.removes),
            "rmdirs": [[d, m] for d, m in self.rmdirs],
        }

    @classmethod
    def from_json(cls, data: dict[str, object], where: Path) -> TxPlan:
        try:
            if data["version"] != JOURNAL_VERSION:
                raise TransactionError(f"{where}: journal version {data['version']}, expected 1")
            rmdirs = data["rmdirs"]
            assert isinstance(rmdirs, list)
            return cls(
                op=str(data["op"]),
                mkdirs=tuple(str(p) for p in data["mkdirs"]),  # type: ignore[attr-defined]
                creates=tuple(str(p) for p in data["creates"]),  # type: ignore[attr-defined]
                removes=tuple(str(p) for p in data["removes"]),  # type: ignore[attr-defined]
                rmdirs=tuple((str(d), int(m)) for d, m in rmdirs),
            )
        except (KeyError, TypeError, ValueError, AssertionError) as e:
            raise TransactionError(f"{where}: not a journal qpack can read ({e!r})") from None


def _safe(host: Path, rel: str) -> Path:
    """A journal path inside the prefix; a journal naming anything else is refused."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or ".." in parts or "" in parts:
        raise TransactionError(f"{host / STATE_DIR / JOURNAL}: names {rel!r}, outside the prefix")
    return host / rel


def _lexists(p: Path) -> bool:
    return os.path.lexists(p)


def inside_root(root: Path | str | None, path: Path) -> None:
    """Refuse `path` when where it really is (its directory with symlinks followed, and the
    path itself unless it is a symlink) lies outside the install root `root` (`--root`): a
    symlink in a staged tree (`usr/lib -> /usr/lib`, or `../../elsewhere`) must not send an
    install's writes or an uninstall's removals elsewhere on this machine. A root of `/` (or
    None) contains everything."""
    if root is not None:
        _inside(root, os.path.realpath(root), path)


def _inside(root: Path | str, top: str, path: Path) -> None:
    """`inside_root`, with the root's real path `top` already resolved."""
    if top == "/":
        return
    real = os.path.realpath(path.parent if path.is_symlink() else path)
    if real != top and not real.startswith(top + "/"):
        raise TransactionError(
            f"{path}: a symlink leads outside the root {root} (to {real}); refusing to change it "
            "(within a staged root, a link must stay inside it)"
        )


def check_plan_inside(root: Path | str | None, host: Path, plan: TxPlan) -> None:
    """Every path a transaction (or its undoing) touches is inside the root, `host` first.
    The root is resolved once, not once per path (QEMU's core wheel alone has ~300)."""
    if root is None:
        return
    top = os.path.realpath(root)
    _inside(root, top, host)
    for rel in (*plan.mkdirs, *plan.creates, *plan.removes, *(r for r, _ in plan.rmdirs)):
        _inside(root, top, _safe(host, rel))


class Transaction:
    """One journaled change of a prefix. Use under a `PrefixLock`, as a context manager: leaving
    it by an exception undoes every change made; `commit()` makes them final."""

    def __init__(
        self, host: Path, plan: TxPlan, *, step_hook: StepHook | None = None, root: Path | str | None = None
    ) -> None:
        self.host = Path(host)
        self.plan = plan
        self.root = root  # the install root: nothing outside it is changed, symlinks followed
        self.state = self.host / STATE_DIR
        self._hook = step_hook
        self._creates = set(plan.creates)
        self._created: set[str] = set()
        self._steps = 0
        self._done = False

    # ---- life cycle

    def __enter__(self) -> Transaction:
        if _lexists(self.state / JOURNAL):
            raise TransactionError(f"{self.state / JOURNAL}: an unfinished transaction; recover it first")
        check_plan_inside(self.root, self.host, self.plan)
        data = json.dumps(self.plan.to_json(), indent=1).encode()
        tmp = self.state / f".{JOURNAL}.tmp"
        try:
            self.state.mkdir(exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(self.state / JOURNAL)
            _fsync_dir(self.state)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise _oserror("cannot write the journal", e, self.state / JOURNAL) from None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._done:
            return
        # Any way out but commit(), KeyboardInterrupt included, puts the prefix back.
        undo(self.host, self.plan)
        _forget(self.host)

    def commit(self) -> None:
        try:
            # Every change reaches the disk before the marker that makes it final.
            self._flush()
            with open(self.state / COMMITTED, "wb") as f:
                os.fsync(f.fileno())
            _fsync_dir(self.state)
        except OSError as e:
            raise _oserror("cannot commit the transaction", e, self.state / COMMITTED) from None
        self._done = True
        finish(self.host)

    def _flush(self) -> None:
        """fsync what this transaction changed, and only that: each file it created and each
        directory whose entries it changed (created, renamed, moved aside, made or removed).
        Not sync(2), which waits for every other writer of the machine as well. The fsyncs run
        on a few threads, so that the disk sees them together (QEMU's core: 300 files)."""
        files = {self.host / rel for rel in self._created}
        dirs = {p.parent for p in files}
        dirs |= {(self.host / rel).parent for rel in (*self.plan.mkdirs, *self.plan.removes)}
        dirs |= {(self.host / rel).parent for rel, _ in self.plan.rmdirs}
        if self.plan.removes:
            dirs.add(self.state / BACKUP)
        paths = sorted(files) + sorted(d for d in dirs if d.is_dir())
        if len(paths) <= 4:
            for path in paths:
                _fsync_path(path)
            return
        map_on_threads(_fsync_path, paths, min(8, len(paths)))  # the disk sees them together

    def step_done(self) -> None:
        """One step (a wheel, a distribution) is complete; the test hooks act here."""
        self._steps += 1
        if self._hook is not None:
            self._hook(self._steps)
        if os.environ.get(KILL_HOOK) == str(self._steps):
            os.kill(os.getpid(), signal.SIGKILL)
        if os.environ.get(FAIL_HOOK) == str(self._steps):
            raise InjectedFault(f"{FAIL_HOOK}={self._steps}: failing after step {self._steps} (a test hook)")

    # ---- changes

    def make_dirs(self) -> None:
        for rel in self.plan.mkdirs:
            path = _safe(self.host, rel)
            try:
                path.mkdir()
            except FileExistsError:
                if not path.is_dir() or path.is_symlink():
                    raise TransactionError(f"{path}: exists and is no directory") from None
            except OSError as e:
                raise _oserror("cannot make the directory", e) from None

    def create(
        self, rel: str, stream: BinaryIO, *, executable: bool, sha256: str | None = None
    ) -> tuple[str, int]:
        """Write a new file from `stream` (temporary sibling, then rename): its sha256 digest
        (urlsafe base64 without padding, as RECORD spells it) and size. `sha256`: the
        stream's digest, known already (its bytes were checked against it): not computed."""
        if rel not in self._creates or rel in self._created:
            raise TransactionError(f"{rel}: not a file this transaction may write (or written twice)")
        self._created.add(rel)
        path = _safe(self.host, rel)
        tmp = tmp_sibling(path)
        digest = hashlib.sha256()
        size = 0
        try:
            if _lexists(path):
                raise TransactionError(f"{path}: exists; not overwriting")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
            with os.fdopen(fd, "wb") as f:
                while chunk := stream.read(_CHUNK):
                    if sha256 is None:
                        digest.update(chunk)
                    size += len(chunk)
                    f.write(chunk)
                if executable:
                    mode = os.fstat(f.fileno()).st_mode
                    os.fchmod(f.fileno(), stat.S_IMODE(mode) | ((mode & 0o444) >> 2))
            os.rename(tmp, path)
        except OSError as e:
            raise _oserror("cannot write the file", e, path) from None
        if sha256 is not None:
            return sha256, size
        return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("="), size

    def replace(self, rel: str, stream: BinaryIO) -> tuple[str, int]:
        """Move a planned file aside, then write its new content in its place (`create`)."""
        if rel not in self.plan.removes:
            raise TransactionError(f"{rel}: not a file this transaction may replace")
        self.remove(rel)
        return self.create(rel, stream, executable=False)

    def remove(self, rel: str) -> None:
        """Move a planned file aside into the backup directory."""
        index = self.plan.removes.index(rel)
        path = _safe(self.host, rel)
        backup = self.state / BACKUP / str(index)
        try:
            backup.parent.mkdir(exist_ok=True)
            try:
                os.rename(path, backup)
            except OSError as e:
                if e.errno != errno.EXDEV:
                    raise
                shutil.copy2(path, backup, follow_symlinks=False)
                path.unlink()
        except FileNotFoundError:
            return  # already gone (a RECORD may list a file removed by hand)
        except OSError as e:
            raise _oserror("cannot remove the file", e) from None

    def remove_dirs(self) -> None:
        for rel, _ in self.plan.rmdirs:
            with contextlib.suppress(FileNotFoundError):
                try:
                    _safe(self.host, rel).rmdir()
                except OSError as e:
                    if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise _oserror("cannot remove the directory", e) from None


# --------------------------------------------------------------------------- recovery


def undo(host: Path, plan: TxPlan) -> None:
    """Undo whatever part of `plan` was done; safe to repeat."""
    state = host / STATE_DIR
    replaced = set(plan.creates) & set(plan.removes)
    try:
        _drop_replacements(host, plan, replaced)
        for rel, mode in reversed(plan.rmdirs):  # parents first
            path = _safe(host, rel)
            if not _lexists(path):
                path.mkdir()
                path.chmod(mode)
        for index, rel in enumerate(plan.removes):
            backup = state / BACKUP / str(index)
            path = _safe(host, rel)
            if _lexists(backup) and not _lexists(path):
                os.rename(backup, path)
        for rel in reversed(plan.creates):
            if rel in replaced:
                continue  # handled above: what is there now is the original
            path = _safe(host, rel)
            for p in (path, tmp_sibling(path)):
                if _lexists(p) and not p.is_dir():
                    p.unlink()
        for rel in reversed(plan.mkdirs):
            path = _safe(host, rel)
            if path.is_dir() and not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.rmdir()
    except OSError as e:
        raise _oserror("cannot undo the interrupted transaction", e) from None


def _drop_replacements(host: Path, plan: TxPlan, replaced: set[str]) -> None:
    """A replaced file's new content goes before its original comes back; while the original
    is not in the backup yet, the file there is the original, and stays."""
    for index, rel in enumerate(plan.removes):
        if rel in replaced and _lexists(host / STATE_DIR / BACKUP / str(index)):
            for p in (_safe(host, rel), tmp_sibling(_safe(host, rel))):
                if _lexists(p) and not p.is_dir():
                    p.unlink()


def finish(host: Path) -> None:
    """After the commit: drop the backups and the journal."""
    state = host / STATE_DIR
    try:
        if _lexists(state / BACKUP):
            shutil.rmtree(state / BACKUP)
    except OSError as e:
        raise _oserror("cannot remove the backups", e) from None
    _forget(host)


def _forget(host: Path) -> None:
    state = host / STATE_DIR
    for name in (JOURNAL, COMMITTED, f".{JOURNAL}.tmp"):
        with contextlib.suppress(FileNotFoundError):
            (state / name).unlink()
    with contextlib.suppress(OSError):
        (state / BACKUP).rmdir()
    with contextlib.suppress(OSError):
        _fsync_dir(state)


def pending(host: Path) -> bool:
    """Whether an interrupted transaction's journal is in the prefix."""
    state = Path(host) / STATE_DIR
    return _lexists(state / JOURNAL) or _lexists(state / f".{JOURNAL}.tmp")


def recover(host: Path, root: Path | str | None = None) -> str | None:
    """Under the prefix lock: undo (or, once committed, finish) an interrupted transaction.
    Returns one line saying what was done, or None when there was nothing to do. Nothing
    outside the install root `root` is changed (`inside_root`)."""
    host = Path(host)
    state = host / STATE_DIR
    journal = state / JOURNAL
    if not _lexists(journal):
        _forget(host)  # at most a half-written journal: nothing was changed yet
        return None
    try:
        data = json.loads(journal.read_bytes())
    except (OSError, ValueError) as e:
        raise TransactionError(f"{journal}: cannot read the journal ({e})") from None
    if not isinstance(data, dict):
        raise TransactionError(f"{journal}: not a journal qpack can read")
    plan = TxPlan.from_json(data, journal)
    check_plan_inside(root, host, plan)
    pid = data.get("pid", "?")
    if _lexists(state / COMMITTED):
        finish(host)
        return f"finished the {plan.op} that process {pid} had committed when it was interrupted"
    undo(host, plan)
    _forget(host)
    return f"undid the interrupted {plan.op} of process {pid} ({len(plan.creates)} file(s) planned)"


@contextlib.contextmanager
def locked(host: Path, root: Path | str | None = None) -> Iterator[list[str]]:
    """The prefix locked and any interrupted transaction recovered; yields notes on what the
    recovery did (for the caller to show). The prefix must be inside the install root `root`."""
    inside_root(root, Path(host))
    with PrefixLock(host):
        note = recover(host, root)
        yield [note] if note else []


@dataclass
class DirPlanner:
    """The directories a set of new files needs that do not exist yet, parents first."""

    host: Path
    root: Path | str | None = None  # the install root: a directory followed out of it is refused
    made: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def need(self, rel_dir: str) -> None:
        parts = [p for p in rel_dir.split("/") if p]
        for i in range(1, len(parts) + 1):
            rel = "/".join(parts[:i])
            if rel in self._seen:
                continue
            self._seen.add(rel)
            path = self.host / rel
            if path.is_dir():  # follows a symlink to a directory, as writing through it would
                inside_root(self.root, path)
                continue
            if _lexists(path):
                raise TransactionError(f"{path}: exists and is no directory; a wheel needs it as one")
            self.made.append(rel)
