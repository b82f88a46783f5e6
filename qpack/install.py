"""Install split wheels without pip, through the `installer` library, and pick them by extras.

Three steps, kept apart so that later work (safe installs of module subsets, uninstall) can slot
in between them:

- `read_wheel` / `DistDir`: what a directory of wheels offers (names, versions, requirements,
  the meta wheel's extras), read from each wheel's METADATA;
- `select`: the wheels a selection needs, following the meta wheel's extras and then every
  wheel's Requires-Dist, each pinned requirement checked against the wheel found;
- `install_wheels`: each wheel's RECORD validated (`WheelFile.validate_record`), every path
  checked to stay inside its scheme directory, then written by `SchemeDictionaryDestination`.
  Exec bits come from the zip entries' mode (the writer stores `S_IFREG | mode`).
  Returns what was installed, with each distribution's RECORD path (what an uninstall reads).
"""

from __future__ import annotations

import email.parser
import os
import sys
import sysconfig
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.sources import WheelFile
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from qpack.errors import QpackError

SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")


class InstallError(QpackError):
    """Wheels cannot be selected or installed as asked."""


@dataclass(frozen=True)
class WheelInfo:
    path: Path
    name: NormalizedName
    version: Version
    requires: tuple[Requirement, ...]
    extras: frozenset[str]


def read_wheel(path: Path) -> WheelInfo:
    """Name, version, requirements and extras of a wheel, from its file name and METADATA."""
    path = Path(path)
    try:
        name, version, _, _ = parse_wheel_filename(path.name)
    except InvalidWheelFilename as e:
        raise InstallError(f"{path}: not a wheel file name ({e})") from None
    stem = f"{path.name.split('-')[0]}-{path.name.split('-')[1]}"
    try:
        with zipfile.ZipFile(path) as zf:
            text = zf.read(f"{stem}.dist-info/METADATA").decode("utf-8")
    except (OSError, zipfile.BadZipFile, KeyError) as e:
        raise InstallError(f"{path}: cannot read the wheel's METADATA ({e})") from None
    msg = email.parser.HeaderParser().parsestr(text)
    try:
        requires = tuple(Requirement(r) for r in msg.get_all("Requires-Dist") or ())
    except InvalidRequirement as e:
        raise InstallError(f"{path}: invalid Requires-Dist ({e})") from None
    extras = frozenset(str(canonicalize_name(e)) for e in msg.get_all("Provides-Extra") or ())
    return WheelInfo(path, name, version, requires, extras)


@dataclass(frozen=True)
class DistDir:
    """The wheels of one split: one per distribution name."""

    wheels: dict[NormalizedName, WheelInfo]

    @classmethod
    def read(cls, dist_dir: Path) -> DistDir:
        dist_dir = Path(dist_dir)
        if not dist_dir.is_dir():
            raise InstallError(f"{dist_dir}: not a directory of wheels")
        wheels: dict[NormalizedName, WheelInfo] = {}
        for p in sorted(dist_dir.glob("*.whl")):
            info = read_wheel(p)
            if info.name in wheels:
                raise InstallError(
                    f"{dist_dir}: two wheels of {info.name}: {wheels[info.name].path.name} and {p.name}"
                )
            wheels[info.name] = info
        if not wheels:
            raise InstallError(f"{dist_dir}: no wheels in it")
        return cls(wheels)

    def meta(self) -> WheelInfo:
        """The meta wheel: the one wheel offering extras."""
        metas = [w for w in self.wheels.values() if w.extras]
        if len(metas) != 1:
            found = ", ".join(w.name for w in metas) or "none"
            raise InstallError(f"expected exactly one wheel with extras (the meta wheel), found {found}")
        return metas[0]

    def resolve(self, roots: Iterable[tuple[WheelInfo, frozenset[str]]]) -> list[WheelInfo]:
        """`roots` (wheel, extras asked of it) and every wheel they require, transitively."""
        chosen: dict[NormalizedName, WheelInfo] = {}
        todo = list(roots)
        while todo:
            info, extras = todo.pop()
            if info.name in chosen and not extras:
                continue
            chosen[info.name] = info
            envs = [{"extra": e} for e in sorted(extras)] or [{"extra": ""}]
            for req in info.requires:
                if req.marker is not None and not any(req.marker.evaluate(env) for env in envs):
                    continue
                dep = self.wheels.get(canonicalize_name(req.name))
                if dep is None:
                    raise InstallError(f"{info.name} requires {req}, which is not among the wheels")
                if not req.specifier.contains(dep.version, prereleases=True):
                    raise InstallError(
                        f"{info.name} requires {req}, but the wheel is {dep.name} {dep.version}"
                    )
                if dep.name not in chosen:
                    todo.append((dep, frozenset()))
        return sorted(chosen.values(), key=lambda w: w.name)


def select(dist_dir: Path, wanted: Sequence[str]) -> list[Path]:
    """The wheels to install for `wanted`: extras of the meta wheel (`ui-curses`, `block`, `all`)
    or distribution names (`qemu-core`), with everything they require. Asking for extras selects
    the meta wheel too, as `pip install 'qemu[ui-curses,block]'` does."""
    dd = DistDir.read(dist_dir)
    roots: list[tuple[WheelInfo, frozenset[str]]] = []
    extras: set[str] = set()
    for item in wanted:
        norm = canonicalize_name(item)
        if norm in dd.wheels:
            roots.append((dd.wheels[norm], frozenset()))
        else:
            extras.add(str(norm))
    if extras or not roots:
        meta = dd.meta()
        unknown = sorted(extras - meta.extras)
        if unknown:
            raise InstallError(
                f"{', '.join(unknown)}: neither an extra of {meta.name} nor a wheel in {dist_dir} "
                f"(extras: {', '.join(sorted(meta.extras))})"
            )
        roots.append((meta, frozenset(extras)))
    return [w.path for w in dd.resolve(roots)]


@dataclass(frozen=True)
class Installed:
    name: NormalizedName
    version: Version
    record: Path  # the installed RECORD: every file written, for a later uninstall


def _venv_python_version(cfg: Path) -> str | None:
    """X.Y of a venv's interpreter, read from its pyvenv.cfg (`version` or `version_info`)."""
    try:
        lines = cfg.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("version", "version_info"):
            parts = value.strip().split(".")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                return f"{parts[0]}.{parts[1]}"
    return None


def scheme_paths(target: Path) -> dict[str, str]:
    """Where each wheel scheme goes under `target`: a venv (its Python version read from
    pyvenv.cfg) or a plain prefix (this interpreter's version), in the POSIX prefix layout.

    Computed, never asked of the target's own python: qpack runs no code from a prefix."""
    target = Path(target).absolute()
    cfg = target / "pyvenv.cfg"
    version = _venv_python_version(cfg) if cfg.is_file() else None
    if cfg.is_file() and version is None:
        raise InstallError(f"{cfg}: no Python version in it; cannot tell where the venv's site-packages is")
    base = str(target)
    variables = {"base": base, "platbase": base, "installed_base": base, "installed_platbase": base}
    if version is not None:
        variables |= {"py_version_short": version, "py_version_nodot": version.replace(".", "")}
    paths = sysconfig.get_paths("posix_prefix", vars=variables)
    return {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "headers": paths.get("include", os.path.join(target, "include")),
        "scripts": paths["scripts"],
        "data": paths["data"],
    }


def _check_paths(path: Path, names: Iterable[str]) -> None:
    """Refuse any archive path that could land outside its scheme directory."""
    for name in names:
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0]:
            raise InstallError(f"{path}: refusing {name!r}: it would be written outside the install root")
        if len(parts) > 2 and parts[0].endswith(".data") and parts[1] not in SCHEMES:
            raise InstallError(f"{path}: {name!r} is in the unknown scheme {parts[1]!r}")


def install_wheels(
    wheel_paths: Sequence[Path],
    target: Path,
    *,
    interpreter: str | None = None,
    installer_name: str = "qpack",
) -> list[Installed]:
    """Install the wheels into a venv or prefix with the `installer` library. A wheel whose
    distribution is already installed there is refused (uninstall it first)."""
    target = Path(target).absolute()
    schemes = scheme_paths(target)
    python = interpreter or (
        str(target / "bin" / "python") if (target / "pyvenv.cfg").is_file() else sys.executable
    )
    done: list[Installed] = []
    for wp in wheel_paths:
        done.append(_install_one(Path(wp), target, schemes, python, installer_name))
    return done


def _install_one(
    wp: Path, target: Path, schemes: dict[str, str], python: str, installer_name: str
) -> Installed:
    """One wheel, its zip opened once: paths checked, RECORD validated, then installed."""
    try:
        name, version, _, _ = parse_wheel_filename(wp.name)
    except InvalidWheelFilename as e:
        raise InstallError(f"{wp}: not a wheel file name ({e})") from None
    for lib in {schemes["purelib"], schemes["platlib"]}:
        for existing in Path(lib).glob("*.dist-info"):
            if canonicalize_name(existing.name.split("-")[0]) == name:
                raise InstallError(f"{name} is already installed in {target} ({existing.name})")
    destination = SchemeDictionaryDestination(
        schemes, interpreter=python, script_kind="posix", bytecode_optimization_levels=()
    )
    try:
        with zipfile.ZipFile(wp) as zf:
            _check_paths(wp, zf.namelist())
            source = WheelFile(zf)
            source.validate_record()
            wheel_text = source.read_dist_info("WHEEL")
            install(source, destination, {"INSTALLER": f"{installer_name}\n".encode()})
            dist_info = source.dist_info_dir
    except InstallerError as e:
        raise InstallError(f"{wp}: {e}") from None
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as e:
        raise InstallError(f"{wp}: cannot install: {str(e).splitlines()[0] if str(e) else e!r}") from None
    root = schemes["platlib"] if "Root-Is-Purelib: false" in wheel_text else schemes["purelib"]
    return Installed(name, version, Path(root) / dist_info / "RECORD")
