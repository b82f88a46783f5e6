"""A PEP 517 build backend: the standard frontend (`python -m build`, pip) turns one build of a
modular program into qpack's wheels, one package at a time.

    [build-system]
    requires = ["qpack"]
    build-backend = "qpack.build_api"

    [tool.qpack]
    layout = "demo"                    # a shipped layout, or a .toml path relative to the project
    version = "1.0"                    # PEP 440, Debian or RPM, as `qpack split --version`
    # The build, exactly one of (paths relative to the project):
    #   staged = "stage"               # a staged install tree (DESTDIR)
    #   meson-build = "build"          # a compiled meson build directory, read as installed (qpack.meson)
    #   meson-source = "."             # a meson source tree: configured, compiled and installed into a
    #                                  # temporary directory by this backend
    meson-source = "."
    meson-args = ["-Dbuild_tag=1"]     # meson setup arguments (meson-source; --prefix is the layout's)
    # build-dir = "build"              # meson-source: keep the build directory (default: a temporary
    #                                  # one inside the source tree, removed afterwards)
    # prefix = "/usr"                  # staged: where it was staged (default: the layout's)
    # unclaimed = "error"              # error | core | drop, as `qpack split --unclaimed`
    # drop-outside-prefix = false      # as `qpack split --drop-outside-prefix`
    # compression-level = 6
    # name = "demo"                    # the sdist's name (default: the layout's meta package)
    # sdist-include = ["meson.build", "src/**"]   # default: every file but hidden ones, caches and
    #                                             # build directories

`python -m build --wheel -C package=NAME` builds the wheel of package NAME of the plan (default:
the meta package), byte for byte the one `qpack split` writes for the same build and
SOURCE_DATE_EPOCH; `python -m build --sdist` packs the project (pyproject.toml and the build's
sources) into an sdist that rebuilds the same wheels. `-C build-dir=DIR` overrides build-dir.
Every error is a QpackError; the frontend shows it.
"""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import io
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from packaging.utils import canonicalize_name

from qpack.errors import ProblemsError, QpackError
from qpack.globs import GlobError, compile_glob

BuildKind = Literal["staged", "meson-build", "meson-source"]
BUILD_KINDS: tuple[BuildKind, ...] = ("staged", "meson-build", "meson-source")
CONFIG_SETTINGS = ("package", "build-dir")
MESON_REQUIRES = ["meson>=0.60", "ninja"]
_OUTPUT_LINES = 15


class ProjectError(ProblemsError):
    """pyproject.toml's [tool.qpack] is missing or invalid; every problem, one line each."""


class BackendError(QpackError):
    """A build asked of the backend cannot be done (unknown package, failed meson run...)."""


@dataclass(frozen=True, kw_only=True)
class Project:
    """A project's [tool.qpack] table, read and checked."""

    root: Path
    layout: str
    version: str
    kind: BuildKind
    build: str  # relative to root
    meson_args: tuple[str, ...] = ()
    build_dir: str | None = None
    prefix: str | None = None
    unclaimed: Literal["error", "core", "drop"] = "error"
    drop_outside_prefix: bool = False
    compression_level: int = 6
    name: str | None = None
    sdist_include: tuple[str, ...] | None = None

    @classmethod
    def read(cls, root: Path) -> Project:
        path = root / "pyproject.toml"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProjectError([f"{path}: missing"]) from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ProjectError([f"{path}: cannot read: {e}"]) from None
        table = data.get("tool", {}).get("qpack")
        if not isinstance(table, dict):
            raise ProjectError([f"{path}: [tool.qpack]: missing (the layout, the version and the build)"])
        return _read_table(root, path, table)

    @property
    def build_path(self) -> Path:
        return self.root / self.build


class _Reader:
    """Typed reads of [tool.qpack]; every problem is kept, as `<file>: tool.qpack.<key>: <problem>`."""

    def __init__(self, path: Path, table: Mapping[str, Any]) -> None:
        self.path = path
        self.t = table
        self.problems: list[str] = []

    def bad(self, key: str, problem: str) -> None:
        self.problems.append(f"{self.path}: tool.qpack.{key}: {problem}")

    def string(self, key: str, *, required: bool = False) -> str | None:
        value = self.t.get(key)
        if value is None:
            if required:
                self.bad(key, "missing")
            return None
        if not isinstance(value, str) or not value:
            self.bad(key, "must be a non-empty string")
            return None
        return value

    def path_inside(self, key: str) -> str | None:
        value = self.string(key)
        if value is not None and (value.startswith("/") or ".." in Path(value).parts):
            self.bad(key, f"must be a path inside the project, got {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...] | None:
        value = self.t.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(key, "must be a list of strings")
            return None
        return tuple(value)

    def globs(self, key: str) -> tuple[str, ...] | None:
        globs = self.strings(key)
        for i, g in enumerate(globs or ()):
            try:
                compile_glob(g)
            except GlobError as e:
                self.bad(f"{key}[{i}]", f"bad glob {g!r}: {e}")
        return globs

    def only_for(self, keys: tuple[str, ...], kind: BuildKind, kinds: tuple[BuildKind, ...]) -> None:
        for key in keys:
            if key in self.t and kind not in kinds:
                self.bad(key, f"only for {' or '.join(kinds)}")


_KNOWN = {
    "layout", "version", *BUILD_KINDS, "meson-args", "build-dir", "prefix", "unclaimed",
    "drop-outside-prefix", "compression-level", "name", "sdist-include",
}  # fmt: skip


def _read_table(root: Path, path: Path, table: Mapping[str, Any]) -> Project:
    r = _Reader(path, table)
    for key in table:
        if key not in _KNOWN:
            r.bad(key, f"unknown key (known: {', '.join(sorted(_KNOWN))})")
    layout, version = r.string("layout", required=True), r.string("version", required=True)
    kinds = [k for k in BUILD_KINDS if k in table]
    if len(kinds) != 1:
        r.bad(
            "staged", f"give exactly one build: {', '.join(BUILD_KINDS)} (got {', '.join(kinds) or 'none'})"
        )
    kind = kinds[0] if len(kinds) == 1 else "staged"
    build = r.path_inside(kind) or "."
    r.only_for(("meson-args", "build-dir"), kind, ("meson-source",))
    r.only_for(("prefix",), kind, ("staged",))
    unclaimed = table.get("unclaimed", "error")
    if unclaimed not in ("error", "core", "drop"):
        r.bad("unclaimed", f"must be error, core or drop, got {unclaimed!r}")
        unclaimed = "error"
    drop = table.get("drop-outside-prefix", False)
    if not isinstance(drop, bool):
        r.bad("drop-outside-prefix", "must be true or false")
    level = table.get("compression-level", 6)
    if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 9:
        r.bad("compression-level", f"must be an integer from 0 to 9, got {level!r}")
    project = Project(
        root=root,
        layout=layout or "",
        version=version or "",
        kind=kind,
        build=build,
        meson_args=r.strings("meson-args") or (),
        build_dir=r.path_inside("build-dir"),
        prefix=r.string("prefix"),
        unclaimed=unclaimed,
        drop_outside_prefix=drop is True,
        compression_level=level if isinstance(level, int) else 6,
        name=r.string("name"),
        sdist_include=r.globs("sdist-include"),
    )
    if r.problems:
        raise ProjectError(r.problems)
    return project


def _settings(config_settings: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (config_settings or {}).items():
        if key not in CONFIG_SETTINGS:
            raise BackendError(f"-C {key}: unknown config setting (known: {', '.join(CONFIG_SETTINGS)})")
        if isinstance(value, list):
            if len(value) != 1:
                raise BackendError(f"-C {key}: given {len(value)} times")
            value = value[0]
        if not isinstance(value, str) or not value:
            raise BackendError(f"-C {key}: needs a value (-C {key}=...)")
        out[key] = value
    return out


# --------------------------------------------------------------------------- getting the build


def _meson_command() -> list[str]:
    if importlib.util.find_spec("mesonbuild") is not None:
        return [sys.executable, "-m", "mesonbuild.mesonmain"]
    found = shutil.which("meson")
    if found is None:
        raise BackendError("meson-source: meson not found (pip install meson ninja)")
    return [found]


def _meson_env() -> dict[str, str]:
    """The environment meson runs in: ours, with the `ninja` package's program first on PATH
    when it is installed (a venv's bin directory need not be on PATH)."""
    env = dict(os.environ)
    try:
        bin_dir = getattr(importlib.import_module("ninja"), "BIN_DIR", None)
    except ImportError:
        bin_dir = None
    if isinstance(bin_dir, str) and os.path.isdir(bin_dir):
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(argv: list[str], what: str, env: dict[str, str]) -> None:
    try:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except OSError as e:
        raise BackendError(f"{what}: cannot run {argv[0]}: {e.strerror}") from None
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines()[-_OUTPUT_LINES:] or ["(no output)"]
        details = "\n".join(f"  {line}" for line in lines)
        raise BackendError(f"{what} failed (exit status {result.returncode}):\n{details}")


def _meson_install(project: Project, prefix: str, build_dir: str | None, stage: Path) -> None:
    """meson setup (unless build_dir is configured already), then install --destdir stage.

    The build directory is inside the source tree (build_dir, else a temporary `.qpack-build-*`
    removed afterwards): compilers record paths relative to it, so the same sources give the
    same bytes wherever the project is unpacked."""
    source = project.build_path
    if not (source / "meson.build").is_file():
        raise BackendError(f"{source}: no meson.build (tool.qpack.meson-source)")
    meson, env = _meson_command(), _meson_env()
    keep = build_dir is not None
    try:
        bdir = (
            project.root / build_dir
            if build_dir is not None
            else Path(tempfile.mkdtemp(".tmp", ".qpack-build-", source))
        )
    except OSError as e:
        raise BackendError(
            f"{source}: cannot make a build directory in the source tree: {e.strerror}"
        ) from None
    try:
        setup = [*meson, "setup", str(bdir), str(source), f"--prefix={prefix}", *project.meson_args]
        if (bdir / "meson-private" / "coredata.dat").is_file():
            # A kept build directory gets this build's prefix and meson-args again: changed
            # options (another -Dbuild_tag) must not leave the old configuration in force.
            setup.insert(len(meson) + 1, "--reconfigure")
        _run(setup, "meson setup", env)
        # meson install compiles what is out of date first: one meson run, not two.
        _run([*meson, "install", "-C", str(bdir), "--destdir", str(stage)], "meson install", env)
    except BackendError as e:
        if keep:
            raise
        # The temporary build directory goes, and meson's log with it: keep the log.
        log = bdir / "meson-logs" / "meson-log.txt"
        kept = Path(tempfile.gettempdir()) / f"qpack-meson-log-{os.getpid()}.txt"
        if log.is_file():
            shutil.copyfile(log, kept)
            raise BackendError(f"{e}\n  (the whole meson log is kept in {kept})") from None
        raise
    finally:
        if not keep:
            shutil.rmtree(bdir, ignore_errors=True)


@contextmanager
def _planned(project: Project, settings: Mapping[str, str]) -> Iterator[Any]:
    """The plan of the project's build; a build made here lives as long as the context."""
    from qpack.layout import load_layout
    from qpack.meson import scan_meson
    from qpack.plan import make_plan

    layout = load_layout(project.layout)
    with tempfile.TemporaryDirectory(prefix="qpack-backend-") as tmp:
        if project.kind == "staged":
            inventory = layout.loader.scan(project.build_path, project.prefix)
        elif project.kind == "meson-build":
            inventory = scan_meson(project.build_path, layout.loader)
        else:
            stage = Path(tmp) / "stage"
            _meson_install(project, layout.prefix, settings.get("build-dir", project.build_dir), stage)
            inventory = layout.loader.scan(stage, layout.prefix)
        yield make_plan(inventory, layout, unclaimed=project.unclaimed)


@contextmanager
def _wheel(project: Project, settings: Mapping[str, str]) -> Iterator[Path]:
    """The wheel of the package asked for, written as `qpack split` writes it, in a temporary
    directory that lives as long as the context."""
    from qpack.writers.wheel import write_wheels

    with _planned(project, settings) as plan, tempfile.TemporaryDirectory(prefix="qpack-wheels-") as tmp:
        name = settings.get("package") or (plan.layout.meta.name if plan.layout.meta else None)
        if name is None:
            raise BackendError(f"layout {plan.layout.name!r} has no meta package: give -C package=NAME")
        wanted = canonicalize_name(name)
        names = [p.name for p in plan.packages]
        package = next((n for n in names if canonicalize_name(n) == wanted), None)
        if package is None:
            raise BackendError(
                f"-C package={name}: no such package in the plan (packages: {', '.join(names)})"
            )
        report = write_wheels(
            plan,
            Path(tmp) / "dist",
            version=project.version,
            outside_prefix="drop" if project.drop_outside_prefix else "error",
            compression_level=project.compression_level,
            packages=[package],  # the others' bytes are not needed: QEMU's core is 90% of them
        )
        yield next(w.path for w in report.written if canonicalize_name(w.package) == wanted)


# --------------------------------------------------------------------------- the hooks


def get_requires_for_build_wheel(config_settings: Mapping[str, Any] | None = None) -> list[str]:
    _settings(config_settings)
    return list(MESON_REQUIRES) if Project.read(Path.cwd()).kind == "meson-source" else []


def get_requires_for_build_sdist(config_settings: Mapping[str, Any] | None = None) -> list[str]:
    _settings(config_settings)
    return []


def build_wheel(
    wheel_directory: str,
    config_settings: Mapping[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    """Build the plan's package named by `-C package=` (default: the meta package) into
    wheel_directory; returns the wheel's file name."""
    settings = _settings(config_settings)
    project = Project.read(Path.cwd())
    with _wheel(project, settings) as wheel:
        out = Path(wheel_directory)
        tmp = out / f".{wheel.name}.tmp"
        try:
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(wheel, tmp)
            os.replace(tmp, out / wheel.name)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise BackendError(f"{out}: cannot write the wheel: {e.strerror}") from None
        return wheel.name


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: Mapping[str, Any] | None = None
) -> str:
    """The wheel's .dist-info (METADATA, WHEEL) in metadata_directory; returns its name. The
    metadata (requirements, extras, tag) comes from the plan, so this builds too."""
    settings = _settings(config_settings)
    project = Project.read(Path.cwd())
    with _wheel(project, settings) as wheel, zipfile.ZipFile(wheel) as zf:
        dist_info = next(n.split("/")[0] for n in zf.namelist() if n.split("/")[0].endswith(".dist-info"))
        target = Path(metadata_directory) / dist_info
        target.mkdir(parents=True, exist_ok=True)
        for name in ("METADATA", "WHEEL"):
            (target / name).write_bytes(zf.read(f"{dist_info}/{name}"))
    return dist_info


def build_sdist(sdist_directory: str, config_settings: Mapping[str, Any] | None = None) -> str:
    """pyproject.toml, the layout if it is a file of the project, and the build's sources in
    <name>-<version>.tar.gz: reproducible (sorted, owner 0, mtime SOURCE_DATE_EPOCH)."""
    from qpack.layout import load_layout
    from qpack.versions import to_pep440

    settings = _settings(config_settings)
    project = Project.read(Path.cwd())
    if project.kind == "meson-build":
        raise BackendError(
            "an sdist needs sources to rebuild from: tool.qpack.meson-build names a build directory "
            "(use meson-source, or staged)"
        )
    layout = load_layout(project.layout)
    name = project.name or (layout.meta.name if layout.meta else None)
    if name is None:
        raise BackendError(f"layout {layout.name!r} has no meta package: give tool.qpack.name for the sdist")
    version = to_pep440(project.version)
    base = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    out = Path(sdist_directory)
    skip = {
        out.absolute(),
        *((project.root / d).absolute() for d in (settings.get("build-dir"), project.build_dir) if d),
    }
    files = _sdist_files(project, skip)
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{base}.tar.gz.tmp"
    _write_sdist(tmp, base, files, pkg_info)
    os.replace(tmp, out / f"{base}.tar.gz")
    return f"{base}.tar.gz"


# --------------------------------------------------------------------------- sdists


def _is_build_dir(path: Path) -> bool:
    return (path / "meson-private").is_dir() or (path / "meson-info").is_dir()


def _sdist_files(project: Project, skip: set[Path]) -> list[tuple[str, Path]]:
    """(name in the sdist, file) for every file the sdist holds, sorted."""
    root = project.root
    keep_all = project.build_path.absolute() if project.kind == "staged" else None
    if keep_all is not None and not keep_all.is_relative_to(root.absolute()):
        raise BackendError(f"{keep_all}: the staged tree is outside the project; it cannot go in an sdist")
    includes = [compile_glob(g) for g in project.sdist_include] if project.sdist_include is not None else None
    layout_file = (root / project.layout).absolute()
    files: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        inside_stage = keep_all is not None and here.absolute().is_relative_to(keep_all)
        kept = []
        for d in sorted(dirnames):
            full = here / d
            if full.is_symlink():
                filenames.append(d)
            elif inside_stage or (
                full.absolute() == keep_all
                or not (
                    d.startswith(".") or d == "__pycache__" or full.absolute() in skip or _is_build_dir(full)
                )
            ):
                kept.append(d)
        dirnames[:] = kept
        for f in sorted(filenames):
            full = here / f
            rel = full.relative_to(root).as_posix()
            if not inside_stage:
                if f.startswith(".") or f.endswith(".pyc"):
                    continue
                wanted = rel == "pyproject.toml" or full.absolute() == layout_file
                if includes is not None and not wanted and not any(r.match(rel) for r in includes):
                    continue
            files.append((rel, full))
    return sorted(files)


def _source_date_epoch() -> int:
    from qpack.writers import parse_epoch

    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    try:
        return max(parse_epoch(env), 0) if env else 315532800  # 1980-01-01, as the wheels' default
    except ValueError:
        raise BackendError(f"SOURCE_DATE_EPOCH={env!r} is not an integer") from None


def _tar_entries(
    base: str, files: list[tuple[str, Path]], pkg_info: bytes
) -> list[tuple[tarfile.TarInfo, Path | bytes | None]]:
    """Every member of the sdist, checked before anything is written."""
    when = _source_date_epoch()

    def info(name: str, mode: int) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(f"{base}/{name}")
        ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname, ti.mode = when, 0, 0, "", "", mode
        return ti

    head = info("PKG-INFO", 0o644)
    head.size = len(pkg_info)
    out: list[tuple[tarfile.TarInfo, Path | bytes | None]] = [(head, pkg_info)]
    for name, full in files:
        st = full.lstat()
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(full)
            if target.startswith("/"):
                raise BackendError(f"{full}: absolute symlink; an sdist can only hold relative ones")
            ti = info(name, 0o777)
            ti.type, ti.linkname = tarfile.SYMTYPE, target
            out.append((ti, None))
        elif stat.S_ISREG(st.st_mode):
            ti = info(name, stat.S_IMODE(st.st_mode))
            ti.size = st.st_size
            out.append((ti, full))
        else:
            raise BackendError(f"{full}: not a regular file or symlink; it cannot go in an sdist")
    return out


def _write_sdist(path: Path, base: str, files: list[tuple[str, Path]], pkg_info: bytes) -> None:
    entries = _tar_entries(base, files, pkg_info)
    try:
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for ti, content in entries:
                if isinstance(content, bytes):
                    tar.addfile(ti, io.BytesIO(content))
                elif content is None:
                    tar.addfile(ti)
                else:
                    with content.open("rb") as f:
                        tar.addfile(ti, f)
    except OSError as e:
        path.unlink(missing_ok=True)
        raise BackendError(f"{path}: cannot write the sdist: {e.strerror} ({e.filename})") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
