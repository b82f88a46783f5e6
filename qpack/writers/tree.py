"""Distro outputs from one plan: per-package trees, debhelper `.install` files, RPM `%files -f`
lists and a manifest with each package's files, sibling pins and shared-library needs.

    OUT/<package>/<build path>     hard links into the build where possible, else copies
    OUT/debian/<package>.install   for dh_install, sources relative to the build root (debian/tmp)
    OUT/debian/<package>.dirs      for dh_installdirs: the layout's `dirs` of the package (only
                                   for packages that have some), one relative path a line
    OUT/rpm/<package>.files        for `%files -f`, absolute paths, `%dir` for owned directories;
                                   none for a package without files (rpmbuild refuses an empty
                                   list: such a package takes a bare `%files -n NAME`)
    OUT/manifest.json              "version": 2 (the format), "package_version": the build's

Only the lists asked for (`lists`) are made, so a name one format cannot carry does not stop
the other's. The manifest carries each package's `debian_depends` (dpkg-shlibdeps' line, with
`resolve_libs="dpkg"`) and `rpm_requires` (rpm's generator's, with the RPM lists): qpack.shlibs.

Trees hold hard links to the build's files when OUT is on the same filesystem (they share the
build's inode, mode and mtime: edit a copy, not the tree, if a later step rewrites files in
place; `copy` copies every file), else streamed copies verified against the scanned sha256.
Lists name every file, symlink and assigned empty directory on its own line, never a whole
directory, so each list claims exactly the plan's files even where packages share a directory
(share/qemu; which packages own a directory with `%dir` is plan.with_dirs' rule).

Two steps, as for wheels: `tree_spec` decides and checks everything (names every format can
carry, library resolution, the lists and the manifest) without writing; `write_tree` then
writes into a temporary sibling of OUT that replaces OUT only when complete, so a failed or
interrupted split leaves no partial output. The writer never re-decides ownership.

Names a format cannot carry as-is:
- dh_install splits lines on whitespace and globs each word (Perl bsd_glob with brace and
  backslash quoting; debhelper >= 13 substitutes `${Space}`-style variables first). So
  `\\ * ? [ ] { }` and a leading `#` are backslash-escaped, `$` becomes `${Dollar}`, space and
  tab become `${Space}`, `${Tab}` (those need compat 13: a note says so); a newline is refused
  (dh_install makes a directory of such a name), in `.dirs` lines it becomes `${Newline}`.
- RPM quotes a path containing spaces in double quotes. It macro-expands `%files -f` lines more
  than once (rpm 4.18: `%%_bindir` still reads as `/usr/bin`), so a `%` is refused. Whether a
  backslash-escaped or quoted glob character is literal differs between RPM releases (4.19
  changed it), so paths with `* ? [ ] { } \\ "` or control characters are refused.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from qpack.errors import BuildError, ChangedSinceScanError, OutputError
from qpack.inventory import CHUNK, Entry, Inventory
from qpack.libdeps import Manager, PackageLibs, package_libs, packages_for_sonames
from qpack.plan import Package, Plan, is_system_dir, requirement_closure
from qpack.scan_cache import forgotten_if_changed, relinked
from qpack.shlibs import DebianDepends, debian_depends, rpm_requires
from qpack.writers import Progress, Report, Written, check_output
from qpack.writers._atomic import atomic_dir, checkpoint
from qpack.writers._names import check_package_names

# 2: file records are `Entry.to_json()`, as `scan --json` shows them ("kind", not "type").
MANIFEST_VERSION = 2
RESERVED = frozenset({"debian", "rpm", "manifest.json"})
ListKind = Literal["debian", "rpm"]
LISTS: tuple[ListKind, ...] = ("debian", "rpm")
_LINK_FALLBACK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}


@dataclass
class TreeReport(Report):
    linked: int = 0
    copied: int = 0

    @property
    def packages(self) -> list[tuple[str, int]]:
        return [(w.package, w.files) for w in self.written]


# --------------------------------------------------------------------------- name escaping


def check_relpath(path: str) -> None:
    """A build path must stay inside the output: relative, no '.', '..' or empty segment."""
    if not path or path.startswith("/") or "\0" in path:
        raise OutputError(f"{path!r}: not a relative path inside the build; refusing to write it")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise OutputError(f"{path!r}: path with '.', '..' or an empty segment; refusing to write it")


def _control(path: str, allowed: str) -> str | None:
    return next((c for c in path if (ord(c) < 0x20 or ord(c) == 0x7F) and c not in allowed), None)


_DH_GLOB = set("\\*?[]{}")
_DH_VARS = {"$": "${Dollar}", " ": "${Space}", "\t": "${Tab}", "\n": "${Newline}"}


def debian_install_line(path: str) -> tuple[str, bool]:
    """One `.install` line claiming exactly `path` (relative to the build root), and whether it
    needs debhelper compat 13 (variable substitution)."""
    # A newline is refused although ${Newline} exists: dh_install (13.11) splits the substituted
    # line again and installs such a file as a directory of that name.
    bad = _control(path, "\t")
    if bad is not None:
        raise OutputError(f"{path!r}: control character {bad!r} in a file name: dh_install cannot take it")
    out = []
    needs_13 = False
    for i, c in enumerate(path):
        if c in _DH_GLOB or (c == "#" and i == 0):
            out.append("\\" + c)
        elif c in _DH_VARS:
            out.append(_DH_VARS[c])
            needs_13 = True
        else:
            out.append(c)
    return "".join(out), needs_13


def debian_dirs_line(path: str) -> tuple[str, bool]:
    """One `.dirs` line making exactly the directory `path`, and whether it needs debhelper
    compat 13. dh_installdirs splits lines on whitespace and substitutes `${...}` variables
    (compat 13) but does not glob, so only `$` and whitespace are written as variables; a
    leading `#` (a comment) is written after `./`."""
    bad = _control(path, "\t\n")
    if bad is not None:
        raise OutputError(
            f"{path!r}: control character {bad!r} in a directory name: dh_installdirs cannot take it"
        )
    out = "".join(_DH_VARS.get(c, c) for c in path)
    return ("./" + out if out.startswith("#") else out), any(c in _DH_VARS for c in path)


# A backslash is written as it is: rpmbuild takes a %files line without glob characters as the
# path, backslash and all (rpm 4.18: systemd's system-systemd\x2dcryptsetup.slice, quoted or
# not; written `\\x2d`, it is not found). With glob characters beside it, the escaping
# would differ between RPM releases, so those stay refused.
_RPM_REFUSED = set('*?[]{}"')


def rpm_files_line(path: str, *, directory: bool = False, config: bool = False) -> str:
    """One `%files` line for `/path` (`%dir` for a directory the package owns, `%config(noreplace)`
    for a configuration file)."""
    bad = _control(path, "")
    if bad is not None:
        raise OutputError(
            f"{path!r}: control character {bad!r} in a file name: RPM file lists cannot take it"
        )
    glob = sorted(set(path) & _RPM_REFUSED)
    if glob:
        raise OutputError(
            f"/{path}: {''.join(glob)!r} in a file name: RPM file lists treat it as a glob or quote "
            "(escaping differs between RPM releases), so qpack refuses it; rename the file"
        )
    if "%" in path:
        raise OutputError(
            f"/{path}: '%' in a file name: rpmbuild expands macros in `%files -f` lines more than "
            "once (rpm 4.18 reads /a%%_bindir as /a/usr/bin, and no number of %s reads back as one), "
            "so qpack refuses it; rename the file, or write Debian lists only (--lists debian)"
        )
    text = "/" + path
    if " " in text:
        text = f'"{text}"'
    if directory:
        return f"%dir {text}"
    return f"%config(noreplace) {text}" if config else text


def is_config(path: str, prefix: str) -> bool:
    """A file under /etc (or the prefix's etc/): the administrator's to edit. Debian's
    dh_installdeb makes such files conffiles by itself; RPM replaces a file on upgrade unless its
    list says `%config(noreplace)` (a Kamailio tester's edited kamailio.cfg would be lost)."""
    pre = prefix.strip("/")
    return path.startswith("etc/") or (bool(pre) and path.startswith(f"{pre}/etc/"))


# --------------------------------------------------------------------------- requirements


def upstream_version(version: str) -> str:
    """Debian's ${source:Upstream-Version}: the version without its revision."""
    return version.rsplit("-", 1)[0] if "-" in version else version


def requirements(package: Package, version: str) -> list[dict[str, Any]]:
    """Each sibling requirement with its pin; `debian` is the relation as a control file writes
    it, alternatives included (`qemu-system-x86 (= V) | qemu-system-arm (= V)`, the stand-ins
    pinned like the sibling)."""
    out: list[dict[str, Any]] = []
    for req in package.requires:
        pin = package.pins.get(req)
        if pin == "upstream":
            rel, ver = ">>", upstream_version(version) + "~"
        elif pin == "none":  # any version: Debian's unversioned sibling Depends
            rel, ver = "", ""
        else:
            rel, ver = "=", version
        names = (req, *package.alternatives.get(req, ()))
        entry: dict[str, Any] = {
            "package": req,
            "relation": rel,
            "version": ver,
            "debian": " | ".join(f"{n} ({rel} {ver})" if rel else n for n in names),
        }
        if len(names) > 1:
            entry["alternatives"] = list(names[1:])
        out.append(entry)
    return out


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True, kw_only=True)
class _Libraries:
    """What the manifest says of each package's libraries, decided before anything is written."""

    libs: Mapping[str, PackageLibs]
    resolve_libs: Manager | None = None
    resolved: Mapping[str, str | None] | None = None  # soname -> distro package
    debian: Mapping[str, DebianDepends] | None = None  # with --resolve-libs dpkg
    rpm: Mapping[str, tuple[str, ...]] | None = None  # when RPM lists are written


def build_manifest(
    plan: Plan, version: str, lib: _Libraries, lists: Mapping[str, Collection[str]]
) -> dict[str, Any]:
    """The manifest; `lists` maps each list kind written to the packages that have one."""
    by_path = plan.inventory.by_path()
    libs, resolved = lib.libs, lib.resolved
    packages = []
    for p in plan.packages:
        pl = libs[p.name]
        external = []
        for x in pl.external:
            rec: dict[str, Any] = {"soname": x.soname, "needed_by": list(x.needed_by)}
            if resolved is not None:
                rec["package"] = resolved.get(x.soname)
            external.append(rec)
        entry: dict[str, Any] = {
            "name": p.name,
            "kind": p.kind,
            "summary": p.summary,
            "modules": list(p.modules),
            "files": [by_path[f].to_json() for f in p.files],
            "dirs": list(p.dirs),
            "declared_dirs": list(p.declared_dirs),
            "requires": requirements(p, version),
            # Soft: Debian's Recommends, RPM's Recommends (exact version, as the requirements).
            "recommends": [
                {"package": r, "relation": "=", "version": version, "debian": f"{r} (= {version})"}
                for r in p.recommends
            ],
            "depends": list(p.depends),
            "libraries": {
                "external": external,
                "internal": [
                    {"soname": i.soname, "path": i.path, "package": i.package, "needed_by": list(i.needed_by)}
                    for i in pl.internal
                ],
            },
        }
        if resolved is not None:
            entry["library_packages"] = sorted(
                {v for x in pl.external if (v := resolved.get(x.soname)) is not None}
            )
            entry["unresolved_libraries"] = [x.soname for x in pl.external if resolved.get(x.soname) is None]
        if lib.debian is not None:
            entry["debian_depends"] = lib.debian[p.name].depends
        if lib.rpm is not None:
            entry["rpm_requires"] = list(lib.rpm[p.name])
        entry["lists"] = {
            "debian": f"debian/{p.name}.install" if p.name in lists.get("debian", ()) else None,
            "rpm": f"rpm/{p.name}.files" if p.name in lists.get("rpm", ()) else None,
        }
        if p.name in lists.get("debian_dirs", ()):
            entry["lists"]["debian_dirs"] = f"debian/{p.name}.dirs"
        if p.kind == "meta":
            entry["extras"] = {k: list(v) for k, v in p.extras.items()}
        packages.append(entry)
    return {
        "version": MANIFEST_VERSION,
        "package_version": version,
        "layout": plan.layout.name,
        "prefix": plan.prefix,
        "resolve_libs": lib.resolve_libs,
        "lists": sorted(k for k in lists if k in LISTS),
        "packages": packages,
        "excluded": [{"path": x.path, "reason": x.reason} for x in plan.excluded],
        "unclaimed": list(plan.unclaimed),
    }


# --------------------------------------------------------------------------- writing files


class _Taken:
    """Packages taken one at a time by the threads that make their trees; none once a thread
    has failed (the other stops at its next package)."""

    def __init__(self, packages: Iterable[Package]) -> None:
        self._left: Iterator[Package] = iter(packages)
        self._lock = threading.Lock()

    def next(self) -> Package | None:
        with self._lock:
            return next(self._left, None)

    def close(self) -> None:
        with self._lock:
            self._left = iter(())


def _make_trees(w: _TreeWriter, packages: _Taken, by_path: Mapping[str, Entry]) -> None:
    while (p := packages.next()) is not None:
        (w.root / p.name).mkdir()
        w.made.add(p.name)
        for f in p.files:
            w.write(p.name, by_path[f])
            checkpoint(f"wrote {p.name}/{f}")
        for d in p.declared_dirs:  # in the package's tree, empty if nothing else is there
            w.ensure_dir(p.name, d)


def _lists_then_trees(
    tmp: Path, spec: TreeSpec, w: _TreeWriter, packages: _Taken, by_path: Mapping[str, Entry]
) -> None:
    """The second thread's part: the lists and the manifest, then package trees."""
    try:
        _write_lists(tmp, spec)
        _make_trees(w, packages, by_path)
    except BaseException:
        packages.close()  # the first thread stops at its next package
        raise


def _locked(progress: Progress | None) -> Progress | None:
    """`progress`, called by one thread at a time."""
    if progress is None:
        return None
    lock = threading.Lock()

    def call(n: int, total: int) -> None:
        with lock:
            progress(n, total)

    return call


class _TreeWriter:
    def __init__(
        self,
        root: Path,
        build: Path,
        progress: Progress | None,
        total: int,
        inventory: Inventory | None = None,
        copy: bool = False,
    ) -> None:
        self.root = root
        self.build = build
        self.inventory = inventory  # where each file's bytes are (Inventory.source), if not build/path
        self.progress = progress
        self.total = total
        self.try_links = not copy
        self.linked = 0
        self.copied = 0
        self.made: set[str] = set()
        self.refused: dict[int, int] = {}  # errno -> files copied because linking failed with it
        # Build files linked, each with its stat before the link (scan_cache.relinked).
        self.relinked: list[tuple[str, os.stat_result]] = []

    def ensure_dir(self, pkgroot: str, rel: str) -> None:
        """Create pkgroot/rel and its parents, refusing to pass through anything but a real
        directory (a symlink there would let a later write land outside OUT)."""
        parts = rel.split("/") if rel else []
        cur = pkgroot
        for part in parts:
            cur = f"{cur}/{part}"
            if cur in self.made:
                continue
            full = self.root / cur
            try:
                os.mkdir(full, 0o755)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(full).st_mode):
                    raise OutputError(
                        f"{full}: exists and is not a directory; refusing to write into it"
                    ) from None
            self.made.add(cur)

    def write(self, pkg: str, e: Entry) -> None:
        check_relpath(e.path)
        dst = self.root / pkg / e.path
        if not os.path.normpath(dst).startswith(os.path.normpath(self.root / pkg) + os.sep):
            raise OutputError(f"{e.path!r}: would be written outside {self.root / pkg}")
        parent, _, _ = e.path.rpartition("/")
        self.ensure_dir(pkg, parent)
        if e.kind == "dir":
            self.ensure_dir(pkg, e.path)
        elif e.kind == "symlink":
            assert e.target is not None
            os.symlink(e.target, dst)
        else:
            self._file(e, dst)
            if self.progress is not None:
                self.progress(e.size, self.total)

    def _file(self, e: Entry, dst: Path) -> None:
        src = self.inventory.source(e.path) if self.inventory is not None else self.build / e.path
        if self.try_links:
            try:
                before = os.lstat(src)
                os.link(src, dst, follow_symlinks=False)
            except FileNotFoundError:
                raise BuildError(f"{src}: vanished since the build was scanned") from None
            except OSError as err:
                if err.errno not in _LINK_FALLBACK:
                    raise OutputError(f"{dst}: cannot link {src}: {err.strerror}") from None
                if err.errno == errno.EXDEV:
                    self.try_links = False  # another filesystem: every file will need a copy
                self.refused[err.errno] = self.refused.get(err.errno, 0) + 1
            else:
                st = os.lstat(dst)
                if not stat.S_ISREG(st.st_mode) or st.st_size != e.size or stat.S_IMODE(st.st_mode) != e.mode:
                    raise ChangedSinceScanError(
                        f"{src}: changed since the build was scanned (type, size or mode)"
                    )
                self.linked += 1
                if src == self.build / e.path:
                    self.relinked.append((e.path, before))
                return
        self._copy(e, src, dst)
        self.copied += 1

    @staticmethod
    def _copy(e: Entry, src: Path, dst: Path) -> None:
        try:
            fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
        except PermissionError:
            raise BuildError(f"{src}: cannot read file: permission denied") from None
        except OSError as err:
            raise BuildError(f"{src}: cannot read file: {err.strerror}") from None
        h = hashlib.sha256()
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise BuildError(f"{src}: no longer a regular file")
            out_fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(out_fd, "wb") as out:
                while chunk := f.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                os.fchmod(out.fileno(), e.mode)
            os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        if h.hexdigest() != e.sha256:
            raise ChangedSinceScanError(f"{src}: changed since the build was scanned (sha256 differs)")

    def merge(self, other: _TreeWriter) -> None:
        """Take in what another thread's writer made, linked, copied and was refused."""
        self.made |= other.made
        self.linked += other.linked
        self.relinked += other.relinked
        self.copied += other.copied
        for err, n in other.refused.items():
            self.refused[err] = self.refused.get(err, 0) + n

    def apply_dir_modes(self, dir_modes: dict[str, int]) -> None:
        """Give created directories the build's modes, deepest first (a 0555 parent must not
        block its children)."""
        for cur in sorted(self.made, key=lambda d: d.count("/"), reverse=True):
            rel = cur.split("/", 1)[1] if "/" in cur else ""
            if rel in dir_modes:
                os.chmod(self.root / cur, dir_modes[rel])


def _copy_notes(refused: Mapping[int, int], copied: int) -> list[str]:
    """Why files were copied rather than hard-linked: another filesystem (EXDEV), or the system
    refusing the link itself (EPERM under fs.protected_hardlinks, EMLINK, EACCES...)."""
    notes = []
    if errno.EXDEV in refused:
        notes.append(
            f"{copied} file(s) copied: the output is on another filesystem than the build, "
            "so hard links were not possible"
        )
    for err, n in sorted(refused.items()):
        if err != errno.EXDEV:
            notes.append(f"{n} file(s) copied: the system refused to hard-link them ({os.strerror(err)})")
    return notes


def _write_lists(tmp: Path, spec: TreeSpec) -> None:
    """The debian and rpm lists asked for, and the manifest."""
    outputs = (
        ("debian", spec.install, "install"),
        ("debian", spec.dirs, "dirs"),
        ("rpm", spec.rpm, "files"),
    )
    for kind, texts, suffix in outputs:
        if texts is None:
            continue
        (tmp / kind).mkdir(exist_ok=True)
        for name, text in sorted(texts.items()):
            _write_text(tmp / kind / f"{name}.{suffix}", text)
    # Encoded here, not when decided: indented JSON is pure Python (40 ms for the bench's 420
    # packages), which this thread does while the other waits on the kernel making directories.
    _write_text(
        tmp / "manifest.json", json.dumps(spec.manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)


@dataclass(frozen=True, kw_only=True)
class TreeSpec:
    """Everything `write_tree` will write, decided and checked."""

    install: Mapping[str, str] | None  # package -> debian/<package>.install text (None: not asked)
    dirs: Mapping[str, str] | None  # package -> debian/<package>.dirs text, for packages with `dirs`
    rpm: Mapping[str, str] | None  # package -> rpm/<package>.files text; packages without files have none
    manifest: Mapping[str, Any]  # encoded as it is written, on the lists' thread (write_tree)
    notes: tuple[str, ...]
    total: int  # bytes of regular files to link or copy


def _check_names(plan: Plan) -> None:
    for p in plan.packages:
        if p.name in RESERVED or "/" in p.name or p.name in (".", ".."):
            raise OutputError(f"package name {p.name!r} clashes with OUT/{p.name}; rename the package")
        for f in (*p.files, *p.declared_dirs):
            check_relpath(f)


def debian_dirs_lists(plan: Plan) -> tuple[dict[str, str], list[str]]:
    """(package -> its dh_installdirs list, notes) for the packages with declared `dirs`: not
    `.install` lines, which would make dh_install copy the directory with everything in it."""
    out: dict[str, str] = {}
    notes: list[str] = []
    for p in plan.packages:
        if not p.declared_dirs:
            continue
        lines = [debian_dirs_line(d) for d in p.declared_dirs]
        if any(needs for _, needs in lines):
            notes.append(
                f"debian/{p.name}.dirs uses ${{Space}}-style substitutions for unusual directory names: "
                "it needs debhelper compat 13 or later"
            )
        out[p.name] = "".join(line + "\n" for line, _ in lines)
    return out, notes


def debian_lists(plan: Plan) -> tuple[dict[str, str], list[str]]:
    """(package -> its dh_install list, notes), refusing names dh_install cannot carry. A package
    without files gets an empty list, which dh_install takes as installing nothing."""
    install: dict[str, str] = {}
    notes: list[str] = []
    for p in plan.packages:
        lines, compat13 = [], False
        for f in p.files:
            line, needs = debian_install_line(f)
            lines.append(line)
            compat13 = compat13 or needs
        if compat13:
            notes.append(
                f"debian/{p.name}.install uses ${{Space}}-style substitutions for unusual file names: "
                "it needs debhelper compat 13 or later"
            )
        install[p.name] = "".join(x + "\n" for x in lines)
    return install, notes


def rpm_lists(plan: Plan, by_path: Mapping[str, Entry]) -> tuple[dict[str, str], list[str]]:
    """(package -> its `%files -f` list, notes), refusing names RPM cannot carry. A package
    without files (the meta package) gets no list: rpmbuild refuses an empty `%files -f` file
    ("Empty %files file"), and a bare `%files -n NAME` section builds it."""
    rpm: dict[str, str] = {}
    empty: list[str] = []
    system = plan.layout.system_dir_patterns(plan.prefix)
    for p in plan.packages:
        lines = [rpm_files_line(d, directory=True) for d in p.dirs]
        lines += [
            rpm_files_line(
                f,
                directory=by_path[f].kind == "dir",
                config=by_path[f].kind == "file" and is_config(f, plan.prefix),
            )
            for f in p.files
            # An empty directory of the build that the base system owns (collectd's .deb ships
            # var/log): the filesystem package's, not this one's (on Fedora /var/run is a link).
            if by_path[f].kind != "dir" or not is_system_dir(f, plan.prefix, system)
        ]
        if lines:
            rpm[p.name] = "".join(x + "\n" for x in lines)
        else:
            empty.append(p.name)
    notes = [
        f"rpm/{n}.files not written: package {n!r} has no files (give it a bare `%files -n {n}`; "
        "rpmbuild refuses an empty %files -f list)"
        for n in empty
    ]
    notes += [
        f"rpm/{p.name}.files: %dir /{d} is not in the build: rpmbuild needs it in the build root "
        f"(`install -d %{{buildroot}}/{d}` in %install)"
        for p in plan.packages
        for d in p.declared_dirs
        if d not in by_path
    ]
    return rpm, notes


def _library_notes(plan: Plan, libs: Mapping[str, PackageLibs]) -> list[str]:
    """A package needing a library of the split that it does not require, directly or through
    what it requires (as the plan accepts it: libvirt's drivers get libvirt0 through
    libvirt-daemon); or that no package ships."""
    requires = {p.name: p.requires for p in plan.packages}
    notes = []
    for p in plan.packages:
        for i in libs[p.name].internal:
            if i.package is None:
                notes.append(
                    f"package {p.name!r} needs {i.soname} ({i.path}), which is excluded from every package"
                )
            elif i.package != p.name and i.package not in requirement_closure(requires, p.name):
                notes.append(
                    f"package {p.name!r} needs {i.soname} from package {i.package!r} but does not require it"
                )
    return notes


def _libraries(plan: Plan, resolve_libs: Manager | None, with_rpm: bool) -> tuple[_Libraries, list[str]]:
    """Each package's library needs, resolved to distro packages (and Debian's versioned
    Depends) when asked, and rpm's Requires when RPM lists are written. Returns (them, notes)."""
    libs = package_libs(plan)
    notes: list[str] = []
    resolved: dict[str, str | None] | None = None
    debian = None
    if resolve_libs is not None:
        wanted = {x.soname: x.machine for pl in libs.values() for x in pl.external}
        resolved = packages_for_sonames(wanted, resolve_libs)
        missing = sorted(s for s, v in resolved.items() if v is None)
        if missing:
            # dpkg-shlibdeps would fail here; the lists are written without these needs, so say
            # which packages' requirements lack them (an Enchant tester took them as complete).
            lacking = sorted(p for p, pl in libs.items() if any(x.soname in missing for x in pl.external))
            notes.append(
                f"{len(missing)} library(ies) not provided by any installed {resolve_libs} package: "
                + ", ".join(missing)
                + f"; the distro requirements of {', '.join(lacking)} leave them out (install the "
                "packages that provide them, then split again)"
            )
        if resolve_libs == "dpkg":
            debian = debian_depends(plan, libs, resolved)
            notes += [f"package {n!r}: {note}" for n, d in debian.items() for note in d.notes]
    notes += _library_notes(plan, libs)
    lib = _Libraries(
        libs=libs,
        resolve_libs=resolve_libs,
        resolved=resolved,
        debian=debian,
        rpm=rpm_requires(plan) if with_rpm else None,
    )
    return lib, notes


def tree_spec(
    plan: Plan, *, version: str, resolve_libs: Manager | None = None, lists: Collection[ListKind] = LISTS
) -> TreeSpec:
    """Decide and check everything a tree split writes; raises before anything is written.
    Only the lists asked for are made, so a name RPM cannot carry does not stop Debian's."""
    unknown = sorted(set(lists) - set(LISTS))
    if unknown:
        raise OutputError(f"unknown list kind(s) {', '.join(unknown)}: expected debian, rpm")
    by_path = plan.inventory.by_path()
    check_package_names(plan, {"rpm", *(k for k in lists if k == "debian")})
    _check_names(plan)
    notes: list[str] = []
    install = rpm = dirs = None
    if "debian" in lists:
        install, more = debian_lists(plan)
        notes += more
        dirs, more = debian_dirs_lists(plan)
        notes += more
    if "rpm" in lists:
        rpm, more = rpm_lists(plan, by_path)
        notes += more
    lib, more = _libraries(plan, resolve_libs, with_rpm=rpm is not None)
    notes += more
    written = {
        k: set(v) for k, v in (("debian", install), ("rpm", rpm), ("debian_dirs", dirs)) if v is not None
    }
    manifest = build_manifest(plan, version, lib, written)
    return TreeSpec(
        install=install,
        dirs=dirs,
        rpm=rpm,
        manifest=manifest,
        notes=tuple(notes),
        total=sum(by_path[f].size for p in plan.packages for f in p.files if by_path[f].kind == "file"),
    )


def write_tree(
    plan: Plan,
    outdir: Path | str,
    *,
    version: str,
    force: bool = False,
    resolve_libs: Manager | None = None,
    lists: Collection[ListKind] = LISTS,
    copy: bool = False,
    progress: Progress | None = None,
) -> TreeReport:
    """Per-package trees, the dh_install and/or RPM lists (`lists`) and the manifest in `outdir`,
    atomically. Trees hard-link the build's files where they can; `copy` copies every file (for
    packagers who strip or edit files in place, which would change the build through a link)."""
    outdir = Path(outdir)
    build = plan.inventory.root
    check_output(outdir, build, force)
    spec = tree_spec(plan, version=version, resolve_libs=resolve_libs, lists=lists)
    report = TreeReport(outdir, notes=list(spec.notes))
    by_path = plan.inventory.by_path()
    dir_modes = {e.path: e.mode for e in plan.inventory.entries if e.kind == "dir"}

    with forgotten_if_changed(build), atomic_dir(outdir, build=build, force=force) as tmp:
        shown = _locked(progress)
        w = _TreeWriter(tmp, build, shown, spec.total, plan.inventory, copy=copy)
        w2 = _TreeWriter(tmp, build, shown, spec.total, plan.inventory, copy=copy)
        try:
            # Two threads: this one makes package trees; the second writes the lists and the
            # manifest, then makes package trees too, each taking the next package not yet
            # taken. Both are mostly the kernel creating inodes, which releases the GIL (on the
            # bench's 420 packages, ~1,600 directories and ~840 list files).
            packages = _Taken(plan.packages)
            with ThreadPoolExecutor(1) as second:
                done = second.submit(_lists_then_trees, tmp, spec, w2, packages, by_path)
                try:
                    _make_trees(w, packages, by_path)
                    done.result()
                except BaseException:  # failed or interrupted: the second thread stops at its next package
                    packages.close()
                    raise
            w.merge(w2)
            w.apply_dir_modes(dir_modes)
        except OSError as err:
            # The file as it would have been in the output, not in the temporary directory.
            name = os.fsdecode(err.filename) if err.filename else ""
            where = f" ({outdir}{name[len(str(tmp)) :]})" if name.startswith(f"{tmp}/") else ""
            raise OutputError(f"{outdir}: cannot write output: {err.strerror}{where}") from None
        report.written = [Written(p.name, outdir / p.name, len(p.files)) for p in plan.packages]
        report.linked, report.copied = w.linked, w.copied
    # Each link moved its file's ctime: the scan cache's entries follow, or the next scan of
    # the build would read every file again.
    relinked(build, w.relinked)
    report.notes += _copy_notes(w.refused, w.copied)
    return report
