"""Minimal Debian chroots for the tests that run wheels on a system holding only what they claim
to need: `debootstrap --variant=minbase` (plus python3-venv), then the given packages with apt.

Chroots are cached under `<test cache>/chroots/<suite>-<key>`, the key naming the package set, so
that CI builds each one once: the base of a suite first, then each package set on a copy of it.
They are never changed afterwards: a test gets its own work directory, bind-mounted at /mnt/work
inside the chroot, with /proc mounted too (QEMU reads /proc/self/exe to find its directory), in a
private mount namespace (`unshare -m`), so that nothing stays mounted whatever happens to the
test. Nothing here raises for a machine that cannot do this: `Unavailable` says why (a skip).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

WORK = "/mnt/work"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Unavailable(Exception):
    """Chroots cannot be made here; the message says why."""


def check_tools() -> None:
    if os.geteuid() != 0:
        raise Unavailable("debootstrap and chroot need root")
    for tool, package in (("debootstrap", "debootstrap"), ("unshare", "util-linux"), ("chroot", "coreutils")):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} not found (apt-get install {package})")


def _run(argv: Sequence[str], timeout: int, what: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    try:
        r = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False, env=env)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{what} took over {timeout} s") from None
    if r.returncode != 0:
        lines = [x for x in (r.stderr + r.stdout).splitlines() if x.strip()]
        errors = [x for x in lines if x.startswith(("E:", "W: Failure", "W: Couldn't"))] or lines[-3:]
        raise Unavailable(f"{what} failed: {' / '.join(errors) or f'exit status {r.returncode}'}")


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _in_namespace(root: Path, work: Path | None, command: str) -> list[str]:
    """argv running `command` (a shell script) inside `root` with /proc and `work` mounted, in a
    mount namespace of its own, with an empty environment but PATH, HOME and LANG."""
    mounts = [f"mount -t proc proc {shlex.quote(str(root / 'proc'))}"]
    if work is not None:
        mounts.insert(0, f"mount --bind {shlex.quote(str(work))} {shlex.quote(str(root / WORK.lstrip('/')))}")
    inner = shlex.join(
        ["chroot", str(root), "/usr/bin/env", "-i", f"PATH={PATH}", "HOME=/root", "LANG=C.UTF-8",
         "DEBIAN_FRONTEND=noninteractive", "PYTHONDONTWRITEBYTECODE=1", "/bin/sh", "-c", command]
    )  # fmt: skip
    return [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        " && ".join([*mounts, "exec " + inner]),
    ]


def base(cache: Path, suite: str, mirror: str) -> Path:
    """The suite's minbase chroot with python3-venv, made once."""
    check_tools()
    done = cache / f"{suite}-base"
    with _locked(cache):
        if (done / ".qpack-complete").exists():
            return done
        tmp = cache / f".{suite}-base.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        _run(
            ["debootstrap", "--variant=minbase", "--include=python3-venv", suite, str(tmp), mirror],
            1800,
            f"debootstrap {suite} from {mirror}",
        )
        (tmp / WORK.lstrip("/")).mkdir(parents=True, exist_ok=True)
        (tmp / ".qpack-complete").write_text("python3-venv\n")
        shutil.rmtree(done, ignore_errors=True)
        tmp.rename(done)
    return done


def with_packages(cache: Path, suite: str, mirror: str, packages: Iterable[str]) -> Path:
    """The base chroot plus `packages` (and what they depend on), installed with apt, made once."""
    wanted = sorted(set(packages))
    if not wanted:
        return base(cache, suite, mirror)
    key = hashlib.sha1(" ".join(wanted).encode()).hexdigest()[:12]
    done = cache / f"{suite}-{key}"
    if (done / ".qpack-complete").exists():
        return done
    root = base(cache, suite, mirror)
    with _locked(cache):
        if (done / ".qpack-complete").exists():
            return done
        tmp = cache / f".{suite}-{key}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        _run(["cp", "-a", "--reflink=auto", str(root), str(tmp)], 900, "copying the base chroot")
        (tmp / ".qpack-complete").unlink()
        script = "apt-get -q update && apt-get -q install -y --no-install-recommends " + shlex.join(wanted)
        _run(
            _in_namespace(tmp, None, script + " && apt-get clean"),
            1800,
            f"apt-get install in a {suite} chroot",
        )
        (tmp / ".qpack-complete").write_text("\n".join(wanted) + "\n")
        shutil.rmtree(done, ignore_errors=True)
        tmp.rename(done)
    return done


def run(root: Path, work: Path, script: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """`script` run by /bin/sh inside the chroot, `work` at /mnt/work, as root, no environment."""
    return subprocess.run(
        _in_namespace(root, work, script), capture_output=True, text=True, timeout=timeout, check=False
    )


def library_packages(depends: str) -> list[str]:
    """The library packages of a Debian `Depends` field: the first of each alternative, kept when
    its name is a library's (lib*, zlib1g)."""
    out = []
    for item in depends.split(","):
        first = item.split("|")[0].strip()
        name = re.split(r"[\s(:]", first, maxsplit=1)[0]
        if name.startswith("lib") or name == "zlib1g":
            out.append(name)
    return out
