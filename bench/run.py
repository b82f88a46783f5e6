"""qpack against the tools that do less, on a large synthetic build, side by side in one run.

    python bench/run.py [--json] [--quick] [--repeat N] [--only KEY ...]

Generates (once; reused while its parameters and the host files it copies are unchanged) a
build of the size of a modular program with many modules, under bench/out/builds/:

- full: 20 executables of 8-16 MiB and 400 modules of 10 KiB-2 MiB (about 400 MB);
  --quick: 3 executables and 60 modules (about 60 MB);
- a quarter build (the first quarter of the executables and modules, identical files) for the
  peak memory growth;
- tiny builds of 1,000, 4,000 and 16,000 small modules (--quick: 64, 256 and 1,024) for plan
  scaling, and of 1,000 for `qpack check`.

Contents are real ELF files of this host: each executable is a real executable and each module a
real shared object (or, for the smallest, a gcc-compiled one) with its SONAME entry disabled (a
module has none), followed by chunks of other ELF files of the host with a few bytes changed, and
a trailer naming the file, so that every file differs and compresses like ELF code. Randomness is
seeded per file name.

Every command runs in a fresh child wrapper that times it and reads its peak RSS
(getrusage(RUSAGE_CHILDREN) of that wrapper, which has no other child). The builds are read
through once first, so every tool reads them from the page cache. Comparisons run qpack then
the baseline, --repeat times (default 3), with `sync` run before each, and report the median of
the per-pair ratios. Every command writes a new output, and none is removed before the run
ends (the work directory goes then): removing one made the next commands' new inodes dearer on
this VM's ext4 (see tree_vs_cp). "machine_state" records, at the start and the end, the
memory the page cache holds and what creating one inode costs on the output's filesystem.
The baselines (each named in "details"):

- wheel_vs_zip: `zip -r -q -6` of the build; qpack splits with `--compression-level 6`;
- tree_vs_cp: `cp -a` of the build, on the same filesystem as qpack's output;
- scan_vs_sha256sum: `sha256sum` of every file through `xargs -P<cores>`, since qpack hashes on
  all cores too;
- install_vs_pip: `pip install --no-index --no-deps --no-compile --prefix P` of the 10 module
  wheels against `qpack install DIST -l LAYOUT --prefix P` of the same 10 modules, each P a copy
  of one venv (`--without-pip`) where pip installed the core wheel (of the quarter build); the
  files both install are compared once;
- check_1000: `qpack check` of the 1,000-module build's usr/, laid out as `make install` would.

Every qpack run starts with an empty scan cache (`QPACK_CACHE_DIR` set to a new directory), so
each figure is what a first scan of the build costs; scan_vs_sha256sum_warm is the same pair
with the cache filled by one scan before (what `plan`, `split` and `check` after a scan get).
plan_tables_scaling is plan_scaling through a layout whose module tables grow with the build:
a `[modules.dependencies]` key for every module and a package naming a quarter of them by id.

Only qpack's command line is used: `python -m qpack` with this interpreter, so the qpack measured
is the one it imports (from the current directory first; run elsewhere, with PYTHONPATH, to
measure another checkout). `qpack check` and `qpack install` are measured once they exist
(`--help` exits 0); until then their keys are null and "skipped" says why.

Exit status: 0, or 1 if a command failed (listed under "errors").
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import random
import shutil
import statistics
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LAYOUT = HERE / "bench-layout.toml"
GENERATOR = 2  # bump when generated contents change, so cached builds are remade
SEED = "qpack-bench"
KIB = 1024
MIB = 1024 * 1024
TYPES = ("accel", "audio", "block", "chardev", "hw", "ui")
VERSION = "1.0"
CLI_START_RUNS = 10

TARGETS = {
    "wheel_vs_zip": "<= 0.45 (same deflate level, 6)",
    "tree_vs_cp": "<= 2.0",
    "scan_vs_sha256sum": "<= 0.5",
    "install_vs_pip": "<= 0.2",
    "check_1000": "<= 2 s",
    "plan_scaling": "16x the modules within 20x the time",
    "peak_rss_mb": "< 150 MB at both sizes, growing by less than 20%",
    "cli_start_ms": "< 150 ms",
}
# Figures with the scan cache warm (qpack.scan_cache); every other qpack run starts with an
# empty cache, so the figures above are a first scan of the build.
WARM = {"scan_vs_sha256sum_warm": "<= 0.5 (the same, a second scan of the unchanged build)"}
# plan_scaling again with a layout whose tables grow with the build: a dependency key for every
# module and a package naming a quarter of the modules by id (a kernel tester's 4,022 modules
# with 2,946 dependency keys and 965 ids in one package took a plan 93 s, each module matched
# against every key: what plan_scaling's layout, with no table, never showed).
TABLES = {"plan_tables_scaling": "16x the modules within 20x the time (a key per module)"}

# Runs one command in this fresh process and reports its wall time and peak RSS: RUSAGE_CHILDREN
# is the maximum over the children waited for, and this wrapper has only this one.
WRAPPER = """\
import json, resource, subprocess, sys, time
result, cmd = sys.argv[1], sys.argv[2:]
t = time.perf_counter()
rc = subprocess.call(cmd)
seconds = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(result, "w") as f:
    json.dump({"rc": rc, "seconds": seconds, "maxrss_kb": rss}, f)
"""

TINY_MODULE_C = """\
const char benchprog_module_id[] = "BENCHPROG-MODULE-ID-0000000000000000";
int benchprog_module_init(void) { return (int)sizeof benchprog_module_id; }
"""
TINY_MARKER = b"BENCHPROG-MODULE-ID-"
TINY_ID_LEN = 16


def log(msg: str) -> None:
    sys.stderr.write(f"bench: {msg}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# Host ELF files


@dataclass(frozen=True)
class ElfFile:
    path: str
    size: int


@dataclass
class Pool:
    """The host's ELF files of the host's machine: executables, shared objects, all of them."""

    exes: list[ElfFile]
    libs: list[ElfFile]
    every: list[ElfFile]
    tiny: bytes  # a small shared object with TINY_MARKER, or the smallest host one
    tiny_patchable: bool
    fingerprint: str


def elf_ident(head: bytes) -> tuple[int, int, int] | None:
    """(class, byte order, machine) of an ELF header, None if it is none."""
    if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    endian = "<" if head[5] == 1 else ">"
    (machine,) = struct.unpack_from(endian + "H", head, 18)
    return head[4], head[5], machine


def elf_kind(path: str, host: tuple[int, int, int]) -> str | None:
    """Of an ELF file of the host's class, byte order and machine: "exe" if it has a program
    interpreter, "lib" if it is ET_DYN with a dynamic section and none; otherwise None."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if elf_ident(head) != host:
                return None
            endian = "<" if head[5] == 1 else ">"
            (e_type,) = struct.unpack_from(endian + "H", head, 16)
            if head[4] == 2:  # ELF64
                (phoff,) = struct.unpack_from(endian + "Q", head, 32)
                phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
            else:
                (phoff,) = struct.unpack_from(endian + "I", head, 28)
                phentsize, phnum = struct.unpack_from(endian + "HH", head, 42)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return None
    if len(table) < phentsize * phnum or phentsize < 4:
        return None
    ptypes = {struct.unpack_from(endian + "I", table, i * phentsize)[0] for i in range(phnum)}
    pt_dynamic, pt_interp = 2, 3
    if pt_interp in ptypes and e_type in (2, 3):
        return "exe"
    if e_type == 3 and pt_dynamic in ptypes:
        return "lib"
    return None


def compile_tiny(workdir: Path) -> bytes | None:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        return None
    src, so = workdir / "tiny.c", workdir / "tiny.so"
    src.write_text(TINY_MODULE_C)
    flags = ["-O2", "-fPIC", "-shared", "-s", "-Wl,--build-id=none", "-Wl,-z,noseparate-code"]
    r = subprocess.run([cc, *flags, "-o", str(so), str(src)], capture_output=True, check=False)
    if r.returncode != 0 or not so.exists():
        return None
    data = so.read_bytes()
    return data if data.count(TINY_MARKER) == 1 else None


def host_pool(workdir: Path) -> Pool:
    exe = os.path.realpath(sys.executable)
    with open(exe, "rb") as f:
        host = elf_ident(f.read(64))
    if host is None:
        sys.exit(f"bench: {exe} is not an ELF file; the generator copies this host's ELF files")
    dirs = ["/usr/bin", "/usr/lib", "/usr/lib64"]
    multiarch = sysconfig.get_config_var("MULTIARCH")
    if multiarch:
        dirs.insert(1, f"/usr/lib/{multiarch}")
    exes: list[ElfFile] = []
    libs: list[ElfFile] = []
    seen: set[tuple[int, int]] = set()
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            path = f"{d}/{name}"
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not os.path.isfile(path) or os.path.islink(path) or st.st_size < 4 * KIB:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            kind = elf_kind(path, host)
            if kind == "exe":
                exes.append(ElfFile(path, st.st_size))
            elif kind == "lib":
                libs.append(ElfFile(path, st.st_size))
    if not exes or not libs:
        sys.exit("bench: found no ELF executables or shared objects of this machine under /usr")
    tiny = compile_tiny(workdir)
    patchable = tiny is not None
    if tiny is None:
        tiny = Path(min(libs, key=lambda e: (e.size, e.path)).path).read_bytes()
    every = sorted(exes + libs, key=lambda e: e.path)
    h = hashlib.sha256(hashlib.sha256(tiny).digest())
    for e in every:
        h.update(f"{e.path}\0{e.size}\n".encode())
    return Pool(exes, libs, every, tiny, patchable, h.hexdigest()[:16])


# ---------------------------------------------------------------------------------------------
# Synthetic builds


def read_chunk(path: str, offset: int, n: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(n)


def drop_soname(data: bytes) -> bytes:
    """`data` (an ELF file of this host) with its DT_SONAME entry turned into DT_DEBUG, which
    nothing reads in a shared object: a program's modules have no SONAME, and a module that kept
    a host library's (libtinfo.so.6) would "provide" it to every executable of the build that
    links that library, which the plan rightly refuses as a dependency cycle."""
    ident = elf_ident(data[:64])
    if ident is None:
        return data
    endian = "<" if ident[1] == 1 else ">"
    elf64 = ident[0] == 2
    if elf64:
        (phoff,) = struct.unpack_from(endian + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 54)
        dyn, ph = struct.Struct(endian + "qQ"), struct.Struct(endian + "IIQQQQQQ")
    else:
        (phoff,) = struct.unpack_from(endian + "I", data, 28)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 42)
        dyn, ph = struct.Struct(endian + "iI"), struct.Struct(endian + "IIIIIIII")
    out = bytearray(data)
    dt_soname, dt_debug, pt_dynamic = 14, 21, 2
    for i in range(phnum):
        fields = ph.unpack_from(data, phoff + i * phentsize)
        if fields[0] != pt_dynamic:
            continue
        offset, filesz = (fields[2], fields[5]) if elf64 else (fields[1], fields[4])
        for at in range(offset, offset + filesz - dyn.size + 1, dyn.size):
            tag, value = dyn.unpack_from(data, at)
            if tag == dt_soname:
                dyn.pack_into(out, at, dt_debug, value)
    return bytes(out)


def write_elf(dest: Path, base: bytes, size: int, rng: random.Random, pool: Pool) -> int:
    """`base` (without its SONAME), then chunks of the host's ELF files (a few bytes changed in
    each) up to `size`, then a trailer naming the file: real ELF headers, contents compressing
    like ELF code, all distinct."""
    trailer = f"\nbenchprog synthetic file {dest.name}\n".encode()
    base = drop_soname(base)
    with open(dest, "wb") as f:
        f.write(base)
        remaining = size - len(base) - len(trailer)
        while remaining > 0:
            src = rng.choice(pool.every)
            n = min(remaining, rng.randint(16 * KIB, MIB), src.size)
            chunk = bytearray(read_chunk(src.path, rng.randrange(src.size - n + 1), n))
            for _ in range(4):
                chunk[rng.randrange(len(chunk))] ^= rng.randrange(1, 256)
            f.write(chunk)
            remaining -= len(chunk)
        f.write(trailer)
    dest.chmod(0o755)
    return dest.stat().st_size


def patched_tiny(pool: Pool, ident: str) -> bytes:
    """The tiny module with `ident` (hashed to 16 hex digits) in place of its id string."""
    data = bytearray(pool.tiny)
    if not pool.tiny_patchable:
        return bytes(data) + f"\nbenchprog {ident}\n".encode()
    i = data.index(TINY_MARKER) + len(TINY_MARKER)
    data[i : i + TINY_ID_LEN] = hashlib.sha256(ident.encode()).hexdigest()[:TINY_ID_LEN].encode()
    return bytes(data)


def module_ids(count: int, prefix: str = "mod") -> list[str]:
    width = max(4, len(str(count - 1)))
    return [f"{TYPES[i % len(TYPES)]}-{prefix}{i:0{width}d}" for i in range(count)]


@dataclass(frozen=True)
class BuildSpec:
    name: str
    kind: str  # "large" or "tiny"
    executables: int
    modules: int

    def stamp(self, pool: Pool) -> dict[str, object]:
        return {**asdict(self), "generator": GENERATOR, "seed": SEED, "host_files": pool.fingerprint}


def generate_large(root: Path, spec: BuildSpec, pool: Pool) -> None:
    bindir, moddir = root / "usr/bin", root / "usr/lib/benchprog"
    bindir.mkdir(parents=True)
    moddir.mkdir(parents=True)
    for i in range(spec.executables):
        name = f"benchprog-system-{i:02d}"
        rng = random.Random(f"{SEED}:{name}")
        size = rng.randint(8 * MIB, 16 * MIB)
        fits = [e for e in pool.exes if e.size <= size // 2] or [min(pool.exes, key=lambda e: e.size)]
        base = Path(rng.choice(fits).path).read_bytes()
        write_elf(bindir / name, base, size, rng, pool)
    for mid in module_ids(spec.modules):
        rng = random.Random(f"{SEED}:{mid}")
        size = int(math.exp(rng.uniform(math.log(10 * KIB), math.log(2 * MIB))))
        fits = [e for e in pool.libs if e.size <= size * 3 // 4]
        base = Path(rng.choice(fits).path).read_bytes() if fits else patched_tiny(pool, mid)
        write_elf(moddir / f"{mid}.so", base, size, rng, pool)


def generate_tiny(root: Path, spec: BuildSpec, pool: Pool) -> None:
    bindir, moddir = root / "usr/bin", root / "usr/lib/benchprog"
    bindir.mkdir(parents=True)
    moddir.mkdir(parents=True)
    exe = min(pool.exes, key=lambda e: (e.size, e.path))
    write_elf(bindir / "benchprog-tiny", Path(exe.path).read_bytes(), 0, random.Random(SEED), pool)
    for mid in module_ids(spec.modules, "m"):
        dest = moddir / f"{mid}.so"
        dest.write_bytes(patched_tiny(pool, mid))
        dest.chmod(0o755)


def ensure_build(builds: Path, spec: BuildSpec, pool: Pool) -> Path:
    """The build for `spec`, generated unless a stamp says an identical one is there."""
    root, stamp_file = builds / spec.name, builds / f"{spec.name}.stamp.json"
    stamp = spec.stamp(pool)
    if root.is_dir() and stamp_file.is_file():
        with contextlib.suppress(ValueError):
            if json.loads(stamp_file.read_text()) == stamp:
                return root
    log(f"generating {spec.name} build ({spec.executables} executables, {spec.modules} modules)")
    stamp_file.unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    tmp = builds / f".{spec.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (generate_large if spec.kind == "large" else generate_tiny)(tmp, spec, pool)
    tmp.rename(root)
    stamp_file.write_text(json.dumps(stamp, indent=1) + "\n")
    return root


def tree_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def read_through(root: Path) -> None:
    """Read every file of a build once, so that the first pair does not time the disk for
    whichever command runs first (each reads the build from the page cache)."""
    for path in tree_files(root):
        with path.open("rb") as f:
            while f.read(1 << 20):
                pass


def tree_summary(root: Path) -> dict[str, object]:
    files = tree_files(root)
    return {
        "path": str(root),
        "files": len(files),
        "executables": len(list((root / "usr/bin").iterdir())),
        "modules": len(list((root / "usr/lib/benchprog").iterdir())),
        "mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),
    }


# ---------------------------------------------------------------------------------------------
# Measuring


class BenchError(Exception):
    """A measurement that cannot be taken: its key becomes null and the message goes under "errors"."""


class CommandFailed(BenchError):
    def __init__(self, cmd: Sequence[str], rc: int, stderr: str) -> None:
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        super().__init__(f"`{' '.join(cmd)}` exited {rc}: {tail}")


@dataclass(frozen=True)
class Run:
    seconds: float
    maxrss_mb: float
    rc: int


def measure(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    stdin: Path | None = None,
    stdout: Path | None = None,
    ok: Sequence[int] = (0,),
    cache: Path | None = None,
) -> Run:
    """Run `cmd` in a fresh wrapper process and return its time and peak RSS. Its output is
    discarded, or written to `stdout`. qpack's scan cache is `cache`, or an empty directory (a
    first scan)."""
    with tempfile.TemporaryDirectory(prefix="qpack-bench-") as tmp:
        result = Path(tmp) / "result.json"
        env = {**os.environ, "QPACK_CACHE_DIR": str(cache or Path(tmp) / "cache")}
        with open(stdin or os.devnull, "rb") as inp, open(stdout or os.devnull, "wb") as outp:
            p = subprocess.run(
                [sys.executable, "-c", WRAPPER, str(result), *cmd],
                env=env,
                cwd=cwd,
                stdin=inp,
                stdout=outp,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        if p.returncode != 0 or not result.exists():
            raise CommandFailed(cmd, p.returncode, p.stderr)
        r = json.loads(result.read_text())
    if r["rc"] not in ok:
        raise CommandFailed(cmd, r["rc"], p.stderr)
    return Run(r["seconds"], r["maxrss_kb"] / 1024, r["rc"])


def clean(*paths: Path) -> None:
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
    os.sync()  # write-back of the previous run's output must not land in the next timing


def qpack(*args: str) -> list[str]:
    return [sys.executable, "-m", "qpack", *args]


def has_subcommand(name: str) -> bool:
    r = subprocess.run(qpack(name, "--help"), capture_output=True, check=False)
    return r.returncode == 0


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


@dataclass
class Pair:
    """A timed against B, run alternately; the figure is the median of the per-pair ratios."""

    a_cmd: str
    b_cmd: str
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    a_rss_mb: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [x / y for x, y in zip(self.a, self.b, strict=True)]

    def details(self) -> dict[str, object]:
        return {
            "a": self.a_cmd,
            "b": self.b_cmd,
            "a_seconds": [round(x, 4) for x in self.a],
            "b_seconds": [round(x, 4) for x in self.b],
            "a_median_s": round(median(self.a), 4),
            "b_median_s": round(median(self.b), 4),
            "ratios": [round(x, 3) for x in self.ratios],
        }


def pairs(
    repeat: int,
    label: str,
    a: Callable[[], Run],
    b: Callable[[], Run],
    a_cmd: str,
    b_cmd: str,
    reset: Callable[[], None],
) -> Pair:
    pair = Pair(a_cmd, b_cmd)
    for i in range(repeat):
        log(f"{label} {i + 1}/{repeat}")
        reset()
        ra = a()
        reset()
        rb = b()
        pair.a.append(ra.seconds)
        pair.a_rss_mb.append(ra.maxrss_mb)
        pair.b.append(rb.seconds)
    reset()
    return pair


# ---------------------------------------------------------------------------------------------
# The benchmarks


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.repeat: int = args.repeat
        self.out: Path = args.out.resolve()
        self.work: Path = self.out / "work"
        self.builds = self.out / "builds"
        self.layout = str(LAYOUT)
        self.result: dict[str, object] = {"quick": args.quick, "repeat": self.repeat}
        self.details: dict[str, object] = {}
        self.skipped: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.full: Path | None = None
        self.quarter: Path | None = None
        self.tiny: dict[int, Path] = {}
        self.full_rss: list[float] = []
        self.outputs = 0

    def fresh(self, name: str) -> Path:
        """A new output path under the work directory. Outputs are not removed until the run
        ends (with the work directory): removing one makes the next command's new inodes
        dearer on this VM (`tree_vs_cp` says why), which would time the bench's own `rm -rf`."""
        self.outputs += 1
        return self.work / f"{name}-{self.outputs}"

    def wanted(self, key: str) -> bool:
        return not self.args.only or key in self.args.only

    def prepare(self) -> None:
        # Bytecode for the qpack measured, as an installed qpack has it: with
        # PYTHONDONTWRITEBYTECODE set (or a read-only checkout), every run would compile it anew.
        compile_qpack = (
            "import compileall, os, qpack; compileall.compile_dir(os.path.dirname(qpack.__file__), quiet=1)"
        )
        subprocess.run([sys.executable, "-c", compile_qpack], check=False)
        self.builds.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        pool = host_pool(self.work)
        n_exe, n_mod = (3, 60) if self.args.quick else (20, 400)
        prefix = "quick" if self.args.quick else "full"
        self.full = ensure_build(self.builds, BuildSpec(prefix, "large", n_exe, n_mod), pool)
        q = BuildSpec(f"{prefix}-quarter", "large", max(1, n_exe // 4), n_mod // 4)
        self.quarter = ensure_build(self.builds, q, pool)
        counts = set(self.args.plan_counts)
        if self.wanted("check_1000"):
            counts.add(1000)
        for n in sorted(counts):
            self.tiny[n] = ensure_build(self.builds, BuildSpec(f"tiny-{n}", "tiny", 1, n), pool)
        self.result["build"] = {"full": tree_summary(self.full), "quarter": tree_summary(self.quarter)}
        for build in (self.full, self.quarter):
            read_through(build)
        self.result["host_elf_files"] = {"executables": len(pool.exes), "shared_objects": len(pool.libs)}

    def guarded(self, key: str, fn: Callable[[], object]) -> None:
        if not self.wanted(key):
            self.skipped[key] = "not asked for (--only)"
            return
        try:
            self.result[key] = fn()
        except BenchError as e:
            self.result[key] = None
            self.errors[key] = str(e)
            log(f"{key}: {e}")

    def run(self) -> dict[str, object]:
        self.prepare()
        state = {"start": machine_state(self.fresh("inode-probe"))}
        for key in [*TARGETS, *WARM, *TABLES]:
            self.result[key] = None
        self.guarded("cli_start_ms", self.cli_start)
        self.guarded("scan_vs_sha256sum", self.scan_vs_sha256sum)
        self.guarded("scan_vs_sha256sum_warm", lambda: self.scan_vs_sha256sum(warm=True))
        self.guarded("wheel_vs_zip", self.wheel_vs_zip)
        self.guarded("tree_vs_cp", self.tree_vs_cp)
        self.guarded("peak_rss_mb", self.peak_rss)
        self.guarded("install_vs_pip", self.install_vs_pip)
        self.guarded("check_1000", self.check_1000)
        self.guarded("plan_scaling", self.plan_scaling)
        self.guarded("plan_tables_scaling", lambda: self.plan_scaling(tables=True))
        state["end"] = machine_state(self.fresh("inode-probe"))
        shutil.rmtree(self.work, ignore_errors=True)
        self.result["machine"] = machine()
        self.result["machine_state"] = state
        self.result["targets"] = self.targets()
        self.result["skipped"] = self.skipped
        self.result["errors"] = self.errors
        self.result["details"] = self.details
        return self.result

    # -- the measurements

    def cli_start(self) -> float:
        runs = max(CLI_START_RUNS, self.repeat)
        log(f"cli_start_ms ({runs} runs)")
        qp = [measure(qpack("--version")).seconds for _ in range(runs)]
        py = [measure([sys.executable, "-c", "pass"]).seconds for _ in range(runs)]
        self.details["cli_start_ms"] = {
            "command": "python -m qpack --version",
            "ms": [round(x * 1000, 1) for x in qp],
            "python_alone_ms": round(median(py) * 1000, 1),
        }
        return round(median(qp) * 1000, 1)

    def scan_vs_sha256sum(self, warm: bool = False) -> float:
        """A first scan (an empty scan cache each run), or with `warm` a scan after one that
        filled the cache (what `plan`, `split` and `check` after it get)."""
        assert self.full
        key = "scan_vs_sha256sum_warm" if warm else "scan_vs_sha256sum"
        listing = self.work / "files.lst"
        listing.write_bytes(b"\0".join(bytes(p) for p in tree_files(self.full)))
        jobs = os.cpu_count() or 1
        base = ["xargs", "-0", f"-P{jobs}", "-n8", "sha256sum"]
        scan = qpack("scan", str(self.full), "-l", self.layout, "--json")
        cache = self.work / "scan-cache" if warm else None
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
            measure(scan, cache=cache)  # fills it
        pair = pairs(
            self.repeat,
            key,
            lambda: measure(scan, cache=cache),
            lambda: measure(base, stdin=listing),
            "qpack scan BUILD -l LAYOUT --json" + (" (scan cache filled by one scan before)" if warm else ""),
            f"xargs -0 -P{jobs} -n8 sha256sum < list of every file (all cores, as qpack hashes)",
            clean,
        )
        self.details[key] = pair.details()
        return round(median(pair.ratios), 3)

    def wheel_vs_zip(self) -> float:
        assert self.full
        full = self.full
        sizes: dict[str, float] = {}

        def wheels() -> Run:
            dist = self.fresh("wheels")
            r = measure(self.split_cmd(full, "wheel", dist))
            sizes["wheels_mb"] = round(sum(p.stat().st_size for p in dist.glob("*.whl")) / 1e6, 1)
            return r

        def zip_tree() -> Run:
            archive = self.fresh("build") / "build.zip"
            archive.parent.mkdir()
            r = measure(["zip", "-r", "-q", "-6", str(archive), "."], cwd=full)
            sizes["zip_mb"] = round(archive.stat().st_size / 1e6, 1)
            return r

        pair = pairs(
            self.repeat,
            "wheel_vs_zip",
            wheels,
            zip_tree,
            "qpack split BUILD -l LAYOUT --version 1.0 --format wheel --compression-level 6 -o OUT",
            "cd BUILD && zip -r -q -6 OUT.zip .",
            clean,  # with no path, syncs: the previous run's write-back lands outside the timings
        )
        self.full_rss = pair.a_rss_mb
        d = pair.details()
        d["qpack_peak_rss_mb"] = [round(x, 1) for x in pair.a_rss_mb]
        d.update(sizes)
        self.details["wheel_vs_zip"] = d
        return round(median(pair.ratios), 3)

    def tree_vs_cp(self) -> float:
        """Each run writes to a new directory (`fresh`), none removed before the run ends.
        Removing outputs made the next runs' inodes dearer: this VM's ext4 (no journal) passes
        over every inode freed in the last minute or more, a buffer lookup each, for each inode
        it allocates (`recently_deleted` in fs/ext4/ialloc.c; perf: find_inode_bit ->
        recently_deleted -> find_get_block at the top of mkdir). The tree split makes ~2,450
        inodes to `cp -a`'s ~450: `write_tree` took 0.48-0.76 s just after a removal and
        0.19-0.28 s without one, so the figure timed the bench's own `rm -rf`."""
        assert self.full
        full = self.full
        pair = pairs(
            self.repeat,
            "tree_vs_cp",
            lambda: measure(self.split_cmd(full, "tree", self.fresh("tree"))),
            lambda: measure(["cp", "-a", str(full), str(self.fresh("copy"))]),
            "qpack split BUILD -l LAYOUT --version 1.0 --format tree -o OUT (same fs, new OUT each run)",
            "cp -a BUILD OUT (same fs, new OUT each run)",
            clean,  # with no path, syncs: the previous run's write-back lands outside the timings
        )
        self.details["tree_vs_cp"] = pair.details()
        return round(median(pair.ratios), 3)

    def split_cmd(self, build: Path, fmt: str, dest: Path) -> list[str]:
        args = ["split", str(build), "-l", self.layout, "--version", VERSION, "--format", fmt]
        if fmt == "wheel":
            args += ["--compression-level", "6"]
        return qpack(*args, "-o", str(dest))

    def peak_rss(self) -> dict[str, float]:
        assert self.full
        assert self.quarter
        quarter = []
        for i in range(self.repeat):
            log(f"peak_rss_mb quarter {i + 1}/{self.repeat}")
            quarter.append(measure(self.split_cmd(self.quarter, "wheel", self.fresh("wheels"))).maxrss_mb)
        if not self.full_rss:  # wheel_vs_zip was not run
            for i in range(self.repeat):
                log(f"peak_rss_mb full {i + 1}/{self.repeat}")
                dist = self.fresh("wheels")
                self.full_rss.append(measure(self.split_cmd(self.full, "wheel", dist)).maxrss_mb)
        self.details["peak_rss_mb"] = {
            "command": "qpack split BUILD -l LAYOUT --format wheel: peak RSS of the process, median of runs",
            "quarter_runs": [round(x, 1) for x in quarter],
            "full_runs": [round(x, 1) for x in self.full_rss],
        }
        return {"quarter": round(median(quarter), 1), "full": round(median(self.full_rss), 1)}

    def install_vs_pip(self) -> float | None:
        if not has_subcommand("install"):
            self.skipped["install_vs_pip"] = "no `qpack install` yet (`qpack install --help` fails)"
            return None
        assert self.quarter
        dist = self.fresh("install-wheels")
        log("install_vs_pip: splitting the quarter build into wheels")
        measure(self.split_cmd(self.quarter, "wheel", dist))
        plan = self.plan_json(self.quarter)
        core = [p["name"] for p in plan["packages"] if p["kind"] == "core"]
        packages = plan["packages"]
        modules = sorted((m, p["name"]) for p in packages if p["kind"] == "module" for m in p["modules"])
        step = max(1, len(modules) // 10)
        chosen = modules[::step][:10]
        core_wheels = [wheel_file(dist, name) for name in core]
        module_wheels = [wheel_file(dist, name) for _, name in chosen]
        template = self.fresh("prefix-template")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(template)], check=True)
        pip = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--no-compile"]
        pip += ["--disable-pip-version-check", "--no-warn-script-location"]
        measure([*pip, "--prefix", str(template), *map(str, core_wheels)])
        ids = [m for m, _ in chosen]
        pair = Pair(
            "qpack install DIST -l LAYOUT --prefix P MODULE x10 (P: a venv holding the core)",
            "pip install --no-index --no-deps --no-compile --prefix P WHEEL x10 (P: an identical venv)",
        )
        for i in range(self.repeat):
            log(f"install_vs_pip {i + 1}/{self.repeat}")
            p_qpack, p_pip = self.fresh("prefix-qpack"), self.fresh("prefix-pip")  # copies of the template
            subprocess.run(["cp", "-a", str(template), str(p_qpack)], check=True)
            subprocess.run(["cp", "-a", str(template), str(p_pip)], check=True)
            clean()  # syncs
            install = qpack("install", str(dist), "-l", self.layout, "--prefix", str(p_qpack), *ids)
            pair.a.append(measure(install).seconds)
            pair.b.append(measure([*pip, "--prefix", str(p_pip), *map(str, module_wheels)]).seconds)
            if i == 0 and (diff := installed_files(p_qpack) ^ installed_files(p_pip)):
                raise BenchError(f"qpack and pip installed different files: {', '.join(sorted(diff)[:5])}")
        d = pair.details()
        d["modules"] = ids
        d["same_files_installed"] = True
        self.details["install_vs_pip"] = d
        return round(median(pair.ratios), 3)

    def check_1000(self) -> float | None:
        if not has_subcommand("check"):
            self.skipped["check_1000"] = "`qpack check` does not exist yet (`qpack check --help` fails)"
            return None
        prefix = self.tiny[1000] / "usr"
        cmd = qpack("check", str(prefix), "-l", self.layout, "--json")
        report = self.work / "check.json"
        runs = []
        for i in range(self.repeat):
            log(f"check_1000 {i + 1}/{self.repeat}")
            runs.append(measure(cmd, stdout=report, ok=(0, 1)))
        d: dict[str, object] = {
            "command": "qpack check PREFIX -l LAYOUT --json (PREFIX: usr/ of the 1,000-module build)",
            "seconds": [round(r.seconds, 4) for r in runs],
            "exit_status": runs[0].rc,
        }
        with contextlib.suppress(ValueError, AttributeError):
            d["summary"] = json.loads(report.read_text()).get("summary")  # what it found, as a sanity check
        self.details["check_1000"] = d
        return round(median([r.seconds for r in runs]), 3)

    def plan_json(self, build: Path) -> dict[str, list[dict[str, Any]]]:
        cmd = qpack("plan", str(build), "-l", self.layout, "--json")
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            raise CommandFailed(cmd, r.returncode, r.stderr)
        data: dict[str, list[dict[str, Any]]] = json.loads(r.stdout)
        return data

    def plan_scaling(self, tables: bool = False) -> dict[str, float]:
        """`qpack plan` of the tiny builds; with `tables`, through a layout whose module tables
        grow with the build (`tables_layout`)."""
        key = "plan_tables_scaling" if tables else "plan_scaling"
        counts = sorted(self.args.plan_counts)
        layouts = {n: self.tables_layout(n) if tables else self.layout for n in counts}
        times: dict[int, list[float]] = {n: [] for n in counts}
        for i in range(self.repeat):
            for n in counts:
                log(f"{key} {n} modules {i + 1}/{self.repeat}")
                cmd = qpack("plan", str(self.tiny[n]), "-l", layouts[n], "--json")
                times[n].append(measure(cmd).seconds)
        lo, hi = counts[0], counts[-1]
        ratios = [h / low for h, low in zip(times[hi], times[lo], strict=True)]
        result: dict[str, float] = {str(n): round(median(times[n]), 3) for n in counts}
        result[f"ratio_{short(hi)}_{short(lo)}"] = round(median(ratios), 2)
        d: dict[str, object] = {
            "command": "qpack plan BUILD -l LAYOUT --json (tiny gcc-built modules, each with distinct bytes)"
            + (
                ": LAYOUT with a dependency key per module and a package naming a quarter by id"
                if tables
                else ""
            ),
            "seconds": {str(n): [round(x, 3) for x in times[n]] for n in counts},
            "ratios": [round(x, 2) for x in ratios],
        }
        if self.args.quick:
            d["note"] = (
                "quick mode: smaller counts with the same 16x span; start-up weighs more at these"
                " counts, so the ratio understates the growth: the full run gives the figure"
            )
        self.details[key] = d
        return result

    def tables_layout(self, n: int) -> str:
        """The bench layout, with a `[modules.dependencies]` key for each module of the n-module
        build but the first eight (each needing one of those eight) and a group package naming
        every fourth of them by id."""
        ids = module_ids(n, "m")
        picked = ", ".join(f'"{m}"' for m in ids[8::4])
        lines = [LAYOUT.read_text(), "", "[[package]]", 'name = "benchprog-picked"', 'kind = "group"']
        lines += [f"modules = [{picked}]", "", "[modules.dependencies]"]
        lines += [f'"{m}" = ["{ids[i % 8]}"]' for i, m in enumerate(ids) if i >= 8]
        path = self.work / f"tables-{n}.toml"
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    # -- verdicts

    def targets(self) -> dict[str, dict[str, object]]:
        r = self.result

        def met(key: str, test: Callable[[object], bool]) -> bool | None:
            v = r.get(key)
            return None if v is None else test(v)

        def f(v: object) -> float:
            assert isinstance(v, int | float)
            return float(v)

        def scaling(v: object) -> bool:
            assert isinstance(v, dict)
            lo, hi = min(int(k) for k in v if k.isdigit()), max(int(k) for k in v if k.isdigit())
            allowed = 20 * (hi / lo) / 16  # 16x the modules within 20x the time
            return bool(v[f"ratio_{short(hi)}_{short(lo)}"] <= allowed)

        def rss(v: object) -> bool:
            assert isinstance(v, dict)
            return bool(v["quarter"] < 150 and v["full"] < 150 and v["full"] < 1.2 * v["quarter"])

        verdicts = {
            "wheel_vs_zip": met("wheel_vs_zip", lambda v: f(v) <= 0.45),
            "tree_vs_cp": met("tree_vs_cp", lambda v: f(v) <= 2.0),
            "scan_vs_sha256sum": met("scan_vs_sha256sum", lambda v: f(v) <= 0.5),
            "install_vs_pip": met("install_vs_pip", lambda v: f(v) <= 0.2),
            "check_1000": met("check_1000", lambda v: f(v) <= 2.0),
            "plan_scaling": met("plan_scaling", scaling),
            "peak_rss_mb": met("peak_rss_mb", rss),
            "cli_start_ms": met("cli_start_ms", lambda v: f(v) < 150),
            "scan_vs_sha256sum_warm": met("scan_vs_sha256sum_warm", lambda v: f(v) <= 0.5),
            "plan_tables_scaling": met("plan_tables_scaling", scaling),
        }
        wanted = {**TARGETS, **WARM, **TABLES}
        out: dict[str, dict[str, object]] = {k: {"target": wanted[k], "met": verdicts[k]} for k in wanted}
        v = r.get("peak_rss_mb")
        if isinstance(v, dict):
            out["peak_rss_mb"]["growth"] = round(v["full"] / v["quarter"] - 1, 3)
        return out


def short(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def wheel_file(dist: Path, package: object) -> Path:
    stem = str(package).replace("-", "_").replace(".", "_")
    found = sorted(dist.glob(f"{stem}-*.whl"))
    if len(found) != 1:
        raise BenchError(f"{len(found)} wheels named {stem}-*.whl in {dist}, expected one")
    return found[0]


def installed_files(prefix: Path) -> set[str]:
    """Files a prefix holds outside *.dist-info (whose INSTALLER and RECORD name the installer)."""
    return {
        str(p.relative_to(prefix))
        for p in prefix.rglob("*")
        if not p.is_dir() and not any(part.endswith(".dist-info") for part in p.parts)
    }


# ---------------------------------------------------------------------------------------------
# The machine


def output_lines(cmd: Sequence[str]) -> list[str]:
    """The lines `cmd` prints, or none if it fails."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError:
        return []
    return [line.strip() for line in r.stdout.strip().splitlines()] if r.returncode == 0 else []


def first_line(cmd: Sequence[str]) -> str | None:
    return next(iter(output_lines(cmd)), None)


def dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_state(probe: Path, n: int = 400) -> dict[str, object]:
    """What made the same run faster or slower on this VM: the memory the page cache holds and
    what one new inode costs on the output's filesystem. A tree split creates ~2,450 inodes
    (directories and list files) where `cp -a` creates ~450; here that cost was 15-280 us an
    inode, higher the more inodes had been removed in the minutes before (`tree_vs_cp`)."""
    meminfo: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            meminfo[key] = int(rest.split()[0])
    probe.mkdir(parents=True)  # a new directory, kept: removing it would make later inodes dearer
    start = time.perf_counter()
    for i in range(n):
        sub = os.path.join(probe, f"d{i}")
        os.mkdir(sub)
        os.close(os.open(os.path.join(sub, "f"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    seconds = time.perf_counter() - start
    gb = 1024 * 1024
    return {
        "memory_available_gb": round(meminfo["MemAvailable"] / gb, 1) if "MemAvailable" in meminfo else None,
        "page_cache_gb": round(meminfo["Cached"] / gb, 1) if "Cached" in meminfo else None,
        "new_inode_us": round(seconds / (2 * n) * 1e6, 1),
    }


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = None
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as f:
        mem = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    zip_version = next((line for line in output_lines(["zip", "-v"]) if line.startswith("This is Zip")), None)
    # The qpack measured is the one this interpreter imports: name its commit if it is this checkout's.
    qpack_dir = first_line([sys.executable, "-c", "import qpack, os; print(os.path.dirname(qpack.__file__))"])
    commit = None
    if qpack_dir and Path(qpack_dir).resolve() == HERE.parent / "qpack":
        commit = first_line(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"])
        if commit and output_lines(["git", "-C", str(HERE), "status", "--porcelain", "--", "../qpack"]):
            commit += "+uncommitted changes"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": mem,
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "qpack": first_line(qpack("--version")),
        "qpack_path": qpack_dir,
        "qpack_commit": commit,
        "versions": {
            "zlib (CPython's)": zlib.ZLIB_RUNTIME_VERSION,
            "pyelftools": dist_version("pyelftools"),
            "lief": dist_version("lief"),
            "zlib-ng": dist_version("zlib-ng"),
            "isal": dist_version("isal"),
            "installer": dist_version("installer"),
            "packaging": dist_version("packaging"),
            "pip": dist_version("pip"),
            "zip": zip_version.removeprefix("This is ").split(",")[0] if zip_version else None,
            "sha256sum": first_line(["sha256sum", "--version"]),
        },
    }


# ---------------------------------------------------------------------------------------------


def report(result: dict[str, object]) -> Iterator[str]:
    targets = result["targets"]
    assert isinstance(targets, dict)
    build = result["build"]
    assert isinstance(build, dict)
    size = "quick" if result["quick"] else "full"
    yield f"build: {build['full']['files']} files, {build['full']['mb']} MB ({size})"
    for key in [*TARGETS, *WARM, *TABLES]:
        v = result.get(key)
        t = targets[key]
        mark = {True: "met", False: "MISSED", None: "-"}[t["met"]]
        shown = json.dumps(v) if v is not None else "null"
        why = result["skipped"].get(key) or result["errors"].get(key) or ""  # type: ignore[attr-defined]
        yield f"{key:20} {shown:60} target {t['target']}: {mark} {why}".rstrip()
    m = result["machine"]
    assert isinstance(m, dict)
    yield f"machine: {m['cpu']}, {m['cores']} cores, {m['python']}, {m['qpack']}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="a 60 MB build and smaller plan counts")
    ap.add_argument("--repeat", type=int, default=3, help="pairs per comparison (default 3)")
    ap.add_argument("--out", type=Path, default=HERE / "out", help="builds and scratch (default bench/out)")
    ap.add_argument(
        "--only", nargs="+", choices=[*TARGETS, *WARM, *TABLES], help="run only these measurements"
    )
    ap.add_argument("--plan-counts", type=int, nargs=3, metavar="N", help="module counts for plan_scaling")
    args = ap.parse_args(argv)
    if args.repeat < 3:
        ap.error("--repeat must be at least 3 (the figures are medians)")
    if args.plan_counts is None:
        args.plan_counts = [64, 256, 1024] if args.quick else [1000, 4000, 16000]
    for tool in ("zip", "sha256sum", "xargs", "cp"):
        if shutil.which(tool) is None:
            ap.error(f"{tool} is not installed (apt-get install -y zip coreutils findutils)")
    result = Bench(args).run()
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        for line in report(result):
            sys.stdout.write(line + "\n")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
