"""Write a plan as wheels: one per package (core, modules, groups) plus the meta wheel.

Two steps, as elsewhere in qpack: `wheel_specs` decides, without writing anything, every wheel's
name, tag, metadata and entries, and fails on anything a wheel cannot hold; `write_wheels` then
streams the files into the archives in parallel, inside `atomic_dir`.

Policies (README "Wheels"):

- Placement: a file under the prefix goes to ``<dist>.data/data/<path relative to the prefix>``;
  an executable directly in ``<prefix>/<loader bindir>/`` goes to ``<dist>.data/scripts/``.
  Installed into a venv or prefix, both land at ``<root>/<same path>``, where the relocated loader
  looks. Files outside the prefix (``etc/...``) cannot be placed: an error listing them, or, with
  ``outside_prefix="drop"``, left out and returned in ``WheelReport.dropped``.
- Names: PEP 503-normalized (``qemu-accel-tcg-x86_64`` -> ``qemu-accel-tcg-x86-64``), with ``-``
  escaped to ``_`` in file and directory names (binary distribution format). Extras are
  normalized the same way (PEP 685): the module ``accel-tcg-x86_64`` is the extra
  ``accel-tcg-x86-64``. pip 23.3 and later normalize what the user types, so
  ``qemu[accel-tcg-x86_64]`` works there; older pip (23.2, bundled with Python 3.11) compares
  the text as typed and needs ``qemu[accel-tcg-x86-64]``.
- Metadata-Version 2.1; every sibling requirement is pinned ``==`` to the exact version.
- Tag ``py3-none-linux_<machine>`` from the ELF machine of the build's host code: every ELF file
  outside ``<prefix>/share/`` (``share`` holds architecture-independent data, such as QEMU's
  guest firmware for other machines). Two machines there is an error; no ELF file gives ``any``.
- Symlinks: wheels cannot hold them (installers would write the link text as a regular file,
  turning a binary into a text file). A link whose target, followed inside the build, is a
  regular file of the *same* package becomes a copy of that file's bytes and mode (Debian's
  ``usr/bin/kvm -> qemu-system-x86_64``). Any other link (to a directory, dangling, pointing out
  of the build, or to another package's file, whose copy would ship that package's content
  without it) is left out and named in ``WheelReport.notes``.
- Empty directories cannot be in a wheel: left out and named in ``notes``.
- Reproducible: entries in sorted order (``.dist-info`` last, ``RECORD`` the very last), every
  timestamp from ``source_date_epoch`` (else ``$SOURCE_DATE_EPOCH``, else 1980-01-01 00:00:00
  UTC, the earliest date a zip can hold; earlier epochs are clamped to it), Unix file-type and
  permission bits only, fixed compression level: the same inputs give byte-identical wheels.
- A file is in exactly one wheel; this is checked, not assumed.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import os
import posixpath
import stat
import tempfile
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from packaging.metadata import Metadata
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidName, canonicalize_name

from qpack import __version__
from qpack.errors import OutputError
from qpack.inventory import Entry, link_destination
from qpack.plan import Package, Plan
from qpack.versions import to_pep440
from qpack.writers import Progress, Report, Written, check_output
from qpack.writers._atomic import atomic_dir
from qpack.writers._zip import ZipWriter

CHUNK = 1 << 20
DEFAULT_DATE = (1980, 1, 1, 0, 0, 0)
OutsidePrefix = Literal["error", "drop"]


class WheelError(OutputError):
    """The plan cannot be written as wheels (empty package, unplaceable file, mixed machines...)."""


@dataclass
class WheelReport(Report):
    """`dropped`: build paths outside the prefix, left out; `notes`: what else was left out."""

    @property
    def wheels(self) -> list[tuple[Path, int]]:
        """(wheel, payload files) for each wheel written."""
        return [(w.path, w.files) for w in self.written]


@dataclass(frozen=True)
class Member:
    """One archive entry: streamed from `source` (expected size and sha256 from the scan) or `data`."""

    arcname: str
    mode: int
    source: Path | None = None
    data: bytes | None = None
    size: int = 0
    sha256: str | None = None
    build_path: str | None = None  # the build file it comes from (a link's own path for copies)


@dataclass(frozen=True)
class WheelSpec:
    package: str
    dist: str  # PEP 503 normalized
    stem: str  # <escaped name>-<version>, the .data and .dist-info directories' stem
    filename: str
    payload: tuple[Member, ...]  # sorted by arcname
    metadata: tuple[Member, ...]  # METADATA and WHEEL; RECORD is computed while writing

    @property
    def dist_info(self) -> str:
        return f"{self.stem}.dist-info"

    @property
    def payload_bytes(self) -> int:
        return sum(m.size for m in self.payload)


def escape(name: str) -> str:
    """A normalized name as it appears in wheel file and directory names."""
    return canonicalize_name(name).replace("-", "_")


def normalize_extra(name: str) -> str:
    """PEP 685: extras are normalized like names (`accel-tcg-x86_64` -> `accel-tcg-x86-64`)."""
    return str(canonicalize_name(name))


def date_time(source_date_epoch: int | None) -> tuple[int, int, int, int, int, int]:
    if source_date_epoch is None:
        env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if not env:
            return DEFAULT_DATE
        try:
            source_date_epoch = int(env)
        except ValueError:
            raise WheelError(f"SOURCE_DATE_EPOCH={env!r} is not a whole number of seconds") from None
    t = time.gmtime(max(source_date_epoch, 315532800))  # 1980-01-01T00:00:00Z
    if t.tm_year > 2107:
        raise WheelError(f"SOURCE_DATE_EPOCH={source_date_epoch} is after 2107, which a zip cannot hold")
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _resolve_link(path: str, by_path: dict[str, Entry]) -> tuple[Entry | None, str]:
    """Follow a symlink inside the build, lexically. (final file, '') or (None, why not)."""
    seen = {path}
    entry = by_path[path]
    while entry.kind == "symlink":
        target = entry.target or ""
        resolved = link_destination(entry.path, target)
        if resolved is None:
            return None, f"points outside the build ({target!r})"
        if resolved in seen:
            return None, "is a symlink loop"
        seen.add(resolved)
        nxt = by_path.get(resolved)
        if nxt is None:
            return None, f"points to {resolved!r}, which is not in this build"
        entry = nxt
    if entry.kind == "dir":
        return None, f"points to the directory {entry.path!r}"
    return entry, ""


def machine_tag(plan: Plan) -> str:
    """`linux_<machine>` from the ELF files of the build's host code, or `any`."""
    share = posixpath.join(plan.prefix.strip("/"), "share") + "/"
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for e in plan.inventory.entries:
        if e.elf is None or e.path.startswith(share):
            continue
        m = e.elf.wheel_machine
        if m is None:
            unknown.append(f"{e.path} ({e.elf.machine})")
        else:
            seen.setdefault(m, e.path)
    if unknown:
        raise WheelError(f"no wheel platform tag for the ELF machine of {unknown[0]}")
    if len(seen) > 1:
        shown = ", ".join(f"{p} is {m}" for m, p in sorted(seen.items()))
        raise WheelError(f"the build mixes machines, one wheel tag cannot cover it: {shown}")
    return f"linux_{next(iter(seen))}" if seen else "any"


def _metadata(plan: Plan, pkg: Package, version: str) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {canonicalize_name(pkg.name)}",
        f"Version: {version}",
    ]
    if pkg.summary:
        lines.append(f"Summary: {' '.join(pkg.summary.split())}")
    reqs = [f"{canonicalize_name(r)}=={version}" for r in pkg.requires]
    extras: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name, members in pkg.extras.items():
        norm = normalize_extra(name)
        if norm in extras and extras[norm][0] != name:
            raise WheelError(
                f"meta package {pkg.name!r}: extras {extras[norm][0]!r} and {name!r} are the same "
                f"extra {norm!r} once normalized (PEP 685)"
            )
        extras[norm] = (name, members)
    for norm in sorted(extras):
        lines.append(f"Provides-Extra: {norm}")
        reqs += [f'{canonicalize_name(m)}=={version}; extra == "{norm}"' for m in extras[norm][1]]
    for r in reqs:
        try:
            Requirement(r)
        except InvalidRequirement as e:
            raise WheelError(f"package {pkg.name!r}: invalid requirement {r!r}: {e}") from None
        lines.append(f"Requires-Dist: {r}")
    text = "\n".join(lines) + "\n"
    try:  # the whole file, as installers will read it
        Metadata.from_email(text, validate=True)
    except ExceptionGroup as eg:
        problems = "; ".join(str(e) for e in eg.exceptions)
        raise WheelError(f"package {pkg.name!r}: invalid wheel metadata: {problems}") from None
    return text


# One pass deciding every wheel's entries; it is split when placement moves to the loader model (6/12).
def wheel_specs(  # noqa: PLR0912, PLR0915
    plan: Plan, version: str, outside_prefix: OutsidePrefix = "error"
) -> tuple[list[WheelSpec], WheelReport]:
    """Every wheel to write and what is left out; raises before anything is written."""
    pep440 = to_pep440(version)
    tag = f"py3-none-{machine_tag(plan)}"
    by_path = plan.inventory.by_path()
    owner: dict[str, str] = {}
    for pkg in plan.packages:
        for f in pkg.files:
            if f in owner:
                raise WheelError(
                    f"{f}: in both packages {owner[f]!r} and {pkg.name!r}; pip would overwrite it"
                )
            owner[f] = pkg.name
    pre = plan.prefix.strip("/")
    bindir = plan.layout.loader.bindir.strip("/")
    report = WheelReport(Path())
    outside: list[str] = []
    specs: list[WheelSpec] = []
    placed: dict[str, str] = {}  # installed path (relative to the root) -> package

    names: dict[str, str] = {}
    for pkg in plan.packages:
        try:
            dist = canonicalize_name(pkg.name, validate=True)
        except InvalidName:
            raise WheelError(
                f"package name {pkg.name!r} is not a valid wheel name "
                "(letters, digits and . _ - only, starting and ending with a letter or digit)"
            ) from None
        if dist in names:
            raise WheelError(f"packages {names[dist]!r} and {pkg.name!r} are the same wheel name {dist!r}")
        names[dist] = pkg.name

    for pkg in plan.packages:
        if pkg.kind != "meta" and not pkg.files:
            raise WheelError(
                f"package {pkg.name!r} has no files: a wheel cannot be empty (check its layout rule)"
            )
        dist = canonicalize_name(pkg.name)
        stem = f"{escape(pkg.name)}-{pep440}"
        data_dir = f"{stem}.data"
        payload: list[Member] = []
        for path in pkg.files:
            entry = by_path[path]
            if pre and path != pre and not path.startswith(pre + "/"):
                outside.append(path)
                continue
            rel = path[len(pre) + 1 :] if pre else path
            if entry.kind == "dir":
                report.notes.append(f"{path}: empty directory, a wheel cannot hold it (left out of {dist})")
                continue
            src = entry
            if entry.kind == "symlink":
                final, why = _resolve_link(path, by_path)
                if final is not None and owner.get(final.path) != pkg.name:
                    why = f"points to {final.path!r} of package {owner.get(final.path, '(excluded)')!r}"
                    final = None
                if final is None:
                    report.notes.append(
                        f"{path}: symlink that {why}; wheels cannot hold links (left out of {dist})"
                    )
                    continue
                src = final
            is_script = bool(bindir) and posixpath.dirname(rel) == bindir and bool(src.mode & 0o111)
            arc = f"{data_dir}/scripts/{posixpath.basename(rel)}" if is_script else f"{data_dir}/data/{rel}"
            if rel in placed:
                raise WheelError(f"{rel}: would be installed by both {placed[rel]!r} and {dist!r}")
            placed[rel] = dist
            payload.append(
                Member(
                    arc,
                    stat.S_IMODE(src.mode) & 0o777,
                    source=plan.inventory.source(src.path),
                    size=src.size,
                    sha256=src.sha256,
                    build_path=path,
                )
            )
        if pkg.kind != "meta" and not payload and not outside:
            raise WheelError(
                f"package {pkg.name!r} has no files a wheel can hold (only empty directories or links)"
            )
        wheel_text = (
            f"Wheel-Version: 1.0\nGenerator: qpack {__version__}\nRoot-Is-Purelib: false\nTag: {tag}\n"
        )
        meta = (
            Member(f"{stem}.dist-info/METADATA", 0o644, data=_metadata(plan, pkg, pep440).encode()),
            Member(f"{stem}.dist-info/WHEEL", 0o644, data=wheel_text.encode()),
        )
        specs.append(
            WheelSpec(
                pkg.name,
                dist,
                stem,
                f"{stem}-{tag}.whl",
                tuple(sorted(payload, key=lambda m: m.arcname)),
                meta,
            )
        )
    if outside:
        if outside_prefix != "drop":
            shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
            raise WheelError(
                f"{len(outside)} file(s) outside the prefix {plan.prefix} cannot go into a wheel: {shown} "
                "(pass --drop-outside-prefix to leave them out)"
            )
        report.dropped = sorted(outside)
        for spec in specs:
            pkg = plan.package(spec.package)
            if pkg.kind != "meta" and not spec.payload:
                raise WheelError(
                    f"package {pkg.name!r} has no files inside the prefix {plan.prefix}: "
                    "its wheel would be empty"
                )
    return specs, report


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Compressed:
    """One entry compressed ahead of its place in the archive: raw deflate data (spooled to
    disk past SPOOL_MAX), CRC-32, sizes and the RECORD hash of the uncompressed bytes."""

    member: Member
    data: IO[bytes]
    crc: int
    size: int
    compress_size: int
    digest: str

    def close(self) -> None:
        self.data.close()


SPOOL_MAX = 4 << 20


def compress(member: Member, level: int, advance: Callable[[int], None] | None = None) -> Compressed:
    """Deflate one entry, streaming it in chunks; sha256, CRC-32 and zlib all release the GIL on
    large buffers, so several of these run on several cores at once."""
    h = hashlib.sha256()
    crc = 0
    n = 0
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw deflate, as zipfile writes it
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX)  # noqa: SIM115 - closed by the caller
    try:
        if member.data is not None:
            src: IO[bytes] = io.BytesIO(member.data)
        else:
            assert member.source is not None
            src = member.source.open("rb")
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        with src:
            while k := src.readinto(buf):  # type: ignore[attr-defined]
                chunk = view[:k]
                h.update(chunk)
                crc = zlib.crc32(chunk, crc)
                spool.write(comp.compress(chunk))
                n += k
                if advance is not None:
                    advance(k)
        spool.write(comp.flush())
        csize = spool.tell()
        spool.seek(0)
    except OSError as e:
        spool.close()
        raise WheelError(f"{e.filename or member.source}: cannot read: {e.strerror}") from None
    except BaseException:
        spool.close()
        raise
    if member.source is not None and (n != member.size or h.hexdigest() != member.sha256):
        spool.close()
        raise WheelError(f"{member.source}: changed since the build was scanned; scan and split again")
    return Compressed(member, spool, crc, n, csize, f"sha256={_b64(h.digest())}")


def assemble(
    spec: WheelSpec,
    path: Path,
    entries: Iterator[Compressed],
    *,
    when: tuple[int, int, int, int, int, int],
    compression_level: int,
) -> None:
    """Write the wheel from its payload entries (compressed, in `spec.payload` order), then
    METADATA, WHEEL and the RECORD of what was written."""
    records: list[tuple[str, str, str]] = []

    def append(zw: ZipWriter, c: Compressed) -> None:
        m = c.member
        zw.add(m.arcname, m.mode, when, crc=c.crc, size=c.size, compress_size=c.compress_size, data=c.data)
        records.append((m.arcname, c.digest, str(c.size)))

    try:
        with path.open("wb") as f, ZipWriter(f) as zw:
            for m in spec.payload:
                c = next(entries)
                assert c.member is m
                with contextlib.closing(c):
                    append(zw, c)
            for m in spec.metadata:
                with contextlib.closing(compress(m, compression_level)) as c:
                    append(zw, c)
            record_name = f"{spec.dist_info}/RECORD"
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows([*records, (record_name, "", "")])
            record = Member(record_name, 0o644, data=out.getvalue().encode())
            with contextlib.closing(compress(record, compression_level)) as c:
                zw.add(
                    record_name,
                    0o644,
                    when,
                    crc=c.crc,
                    size=c.size,
                    compress_size=c.compress_size,
                    data=c.data,
                )
    except OSError as e:
        raise WheelError(f"{e.filename or path}: cannot write wheel {spec.filename}: {e.strerror}") from None


def write_wheel(
    spec: WheelSpec,
    path: Path,
    *,
    when: tuple[int, int, int, int, int, int] = DEFAULT_DATE,
    compression_level: int = 6,
    advance: Callable[[int], None] | None = None,
) -> None:
    """Write one wheel on this thread (write_wheels spreads the compression over cores)."""
    entries = (compress(m, compression_level, advance) for m in spec.payload)
    assemble(spec, path, entries, when=when, compression_level=compression_level)


def write_wheels(
    plan: Plan,
    outdir: Path,
    *,
    version: str,
    force: bool = False,
    outside_prefix: OutsidePrefix = "error",
    compression_level: int = 6,
    progress: Progress | None = None,
    jobs: int | None = None,
    source_date_epoch: int | None = None,
) -> WheelReport:
    """One wheel per package of the plan (the meta wheel included) in `outdir`, atomically.

    Parallel at the level of files, not wheels (QEMU's core wheel holds ~90% of the bytes):
    `jobs` worker threads (default: one per core) deflate the entries ahead, a bounded window
    of them at a time, while this thread appends them to the archives in their fixed order.
    """
    outdir = Path(outdir)
    if not 0 <= compression_level <= 9:
        raise WheelError(f"compression level {compression_level} is not between 0 and 9")
    check_output(outdir, plan.inventory.root, force)
    when = date_time(source_date_epoch)
    specs, report = wheel_specs(plan, version, outside_prefix)
    report.outdir = outdir
    total = sum(s.payload_bytes for s in specs)
    lock = threading.Lock()

    def advance(n: int) -> None:
        if progress is not None:
            with lock:
                progress(n, total)

    workers = max(1, jobs or os.cpu_count() or 1)
    window = 4 * workers  # entries compressed ahead of the writer: bounds memory and disk
    todo = iter([m for s in specs for m in s.payload])
    pending: deque[Future[Compressed]] = deque()

    with (
        atomic_dir(outdir, build=plan.inventory.root, force=force) as tmp,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):

        def entries() -> Iterator[Compressed]:
            while True:
                while len(pending) < window and (m := next(todo, None)) is not None:
                    pending.append(pool.submit(compress, m, compression_level, advance if progress else None))
                if not pending:
                    return
                yield pending.popleft().result()

        stream = entries()
        try:
            for s in specs:
                assemble(s, tmp / s.filename, stream, when=when, compression_level=compression_level)
        except BaseException:
            for f in pending:
                f.cancel()
            for f in pending:
                if not f.cancelled() and f.exception() is None:
                    f.result().close()
            raise
    report.written = [Written(s.package, outdir / s.filename, len(s.payload)) for s in specs]
    return report
