"""What is installed in a prefix: where each wheel scheme goes, and the distributions there
(their `.dist-info` directories, as pip and qpack write them), each with its files from RECORD.

A prefix is seen twice: as the program sees it (`prefix`, say `/usr`) and on this host
(`host` = `<root>/<prefix>` when staging into a DESTDIR). Paths of installed files are kept
relative to the prefix, so the two views never mix. Nothing from the prefix is run.
"""

from __future__ import annotations

import csv
import email.parser
import json
import os
import posixpath
import re
import sysconfig
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from packaging.version import InvalidVersion, Version

from qpack.dist_info import PACKAGE_FILE, declaration, module_ids
from qpack.errors import QpackError
from qpack.globs import WILDCARDS, compile_glob
from qpack.loader import Loader

if TYPE_CHECKING:  # packaging's requirements, markers and specifiers: imported only when needed
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import NormalizedName

SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
QPACK_FILE = "qpack.json"  # what `qpack install` adds to a .dist-info: the layout and the modules


class InstalledError(QpackError):
    """The installed state of a prefix cannot be read."""


_SEPARATORS = re.compile(r"[-_.]+")


def canonicalize_name(name: str) -> NormalizedName:
    """PEP 503's normalized name, as `packaging.utils.canonicalize_name` gives it (importing
    packaging.utils imports packaging.tags, platform, subprocess and logging: ~10 ms)."""
    return cast("NormalizedName", _SEPARATORS.sub("-", name).lower())


# A Requires-Dist entry of the plain form qpack's wheels write: a name, optionally `==` release
# numbers, optionally `; extra == "x"`, spelled exactly as packaging prints it. Such an entry is
# read here; any other through packaging's Requirement. An install reads hundreds (a meta wheel
# lists every module), and packaging's parser imports in ~25 ms and parses them in ~15 ms.
_PLAIN_REQUIREMENT = re.compile(
    r'([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:==([0-9]+(?:\.[0-9]+)*))?(?:; extra == "([^"\\]+)")?'
)


class Req:
    """One Requires-Dist entry, answering as packaging's `Requirement` would: a plain entry
    (`_PLAIN_REQUIREMENT`) is read directly, any other by packaging (imported then); `str()`,
    `marker` and `specifier` are packaging's. Raises ValueError (packaging's
    InvalidRequirement) for an entry that is no PEP 508 requirement."""

    __slots__ = ("_extra", "_parsed", "_pin", "_plain", "name", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._parsed: Requirement | None = None
        self._pin: Version | str | None = None
        self._extra: str | None = None
        plain = _PLAIN_REQUIREMENT.fullmatch(text)
        self._plain = plain is not None
        if plain is not None:
            self.name: str = plain[1]
            self._pin = plain[2]
            self._extra = canonicalize_name(plain[3]) if plain[3] is not None else None
        else:
            self.name = self.requirement.name

    @property
    def requirement(self) -> Requirement:
        """packaging's Requirement of the entry."""
        if self._parsed is None:
            from packaging.requirements import Requirement

            self._parsed = Requirement(self.text)
        return self._parsed

    @property
    def marker(self) -> Marker | None:
        return self.requirement.marker

    @property
    def specifier(self) -> SpecifierSet:
        return self.requirement.specifier

    @property
    def extra(self) -> str | None:
        """The extra of a plain `name==V; extra == "x"` entry (normalized), else None."""
        return self._extra if self._plain else None

    @property
    def conditional(self) -> bool:
        """Whether it has a marker (applies only in some environments or for some extras)."""
        if self._plain:
            return self._extra is not None
        return self.requirement.marker is not None

    def holds(self, extras: Collection[str]) -> bool:
        """Whether it applies when one of `extras` (normalized names, "" for none) is asked
        for: no marker, or its marker evaluates true with that extra (packaging compares
        extras normalized too)."""
        if self._plain:
            return self._extra is None or self._extra in extras
        marker = self.requirement.marker
        return marker is None or any(marker.evaluate({"extra": e}) for e in extras)

    def accepts(self, version: Version | str) -> bool:
        """Whether `version` satisfies it, pre-releases included: packaging's
        `specifier.contains(version, prereleases=True)`."""
        if self._plain:
            if self._pin is None:
                return True
            try:
                have = version if isinstance(version, Version) else Version(version)
            except InvalidVersion:
                return self.specifier.contains(version, prereleases=True)
            if isinstance(self._pin, str):
                self._pin = Version(self._pin)
            # `==` with release numbers only: compared with the public version (no local
            # label), release numbers zero-padded (Version equality), as packaging compares.
            return Version(have.public) == self._pin
        return self.specifier.contains(version, prereleases=True)

    def __str__(self) -> str:
        return str(self.requirement)

    def __repr__(self) -> str:
        return f"<Req({self.text!r})>"


def host_path(root: str | Path, prefix: str | Path) -> Path:
    """The prefix on this host: `<root>/<prefix>`."""
    return Path(root).absolute() / str(prefix).lstrip("/")


def program_prefix(prefix: str | Path) -> str:
    """The prefix as the program sees it: absolute, normalized."""
    return posixpath.normpath("/" + str(prefix).strip("/")) if str(prefix).strip("/") else "/"


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


def _prefix_python_version(target: Path) -> str | None:
    """X.Y of the one `lib/pythonX.Y/site-packages` of a plain prefix that holds installed
    distributions (`pip install --prefix` by another Python than this one), else None."""
    found = sorted(
        d.parent.name.removeprefix("python")
        for d in target.glob("lib/python3.*/site-packages")
        if re.fullmatch(r"python3\.\d+", d.parent.name) and any(d.glob("*.dist-info"))
    )
    if len(found) > 1 and sysconfig.get_python_version() not in found:
        raise InstalledError(
            f"{target}: holds distributions for several Pythons ({', '.join(found)}); "
            "qpack cannot tell which site-packages is the program's"
        )
    return found[0] if len(found) == 1 else None


def scheme_paths(target: Path) -> dict[str, str]:
    """Where each wheel scheme goes under `target`: a venv (its Python version read from
    pyvenv.cfg) or a plain prefix (the Python version whose site-packages already holds
    distributions there, else this interpreter's), in the POSIX prefix layout.

    Computed, never asked of the target's own python: qpack runs no code from a prefix."""
    target = Path(target).absolute()
    cfg = target / "pyvenv.cfg"
    version = _venv_python_version(cfg) if cfg.is_file() else _prefix_python_version(target)
    if cfg.is_file() and version is None:
        raise InstalledError(f"{cfg}: no Python version in it; cannot tell where the venv's site-packages is")
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


def scheme_dirs(host: Path) -> dict[str, str]:
    """Each scheme's directory relative to the prefix (`bin`, `lib/python3.11/site-packages`)."""
    out = {}
    for scheme, path in scheme_paths(host).items():
        rel = posixpath.normpath(os.path.relpath(path, host))
        if rel == ".." or rel.startswith(("../", "/")):
            raise InstalledError(f"{host}: the {scheme} directory {path} is outside the prefix")
        out[scheme] = "" if rel == "." else rel
    return out


@dataclass(frozen=True, kw_only=True)
class Distribution:
    """One installed distribution, read from its `.dist-info` directory."""

    name: NormalizedName
    version: str
    dist_info: str  # relative to the prefix
    files: tuple[str, ...]  # every file its RECORD lists, relative to the prefix
    outside: tuple[str, ...] = ()  # RECORD entries outside the prefix, as written
    requires: tuple[Req, ...] = ()
    extras: frozenset[str] = frozenset()
    requested: bool = False  # a REQUESTED file: installed on request, not as a dependency
    installer: str = ""
    layout: str | None = None  # the layout `qpack install` was given
    # The module ids `qpack install` recorded: those the loader model found among its files, or
    # for a distribution whose files it did not place (written where no search location
    # reaches), those its wheel declared (PACKAGE_FILE) or the meta wheel's extras named it for.
    recorded: tuple[str, ...] = ()
    # The meta wheel's extras that required it when `qpack install` wrote it (`uninstall EXTRA`).
    meta_extras: tuple[str, ...] = ()
    # What its wheel declared (PACKAGE_FILE): the plan's kind, and its module ids.
    declared_kind: str | None = None
    declared_modules: tuple[str, ...] = ()
    has_record: bool = True

    @property
    def parsed_version(self) -> Version | None:
        try:
            return Version(self.version)
        except InvalidVersion:
            return None

    def needs(self) -> set[NormalizedName]:
        """The distributions it requires unconditionally (not only for some extra)."""
        out: set[NormalizedName] = set()
        for r in self.requires:
            if r.holds(("",)):
                out.add(canonicalize_name(r.name))
        return out


def _read_record(text: str) -> list[str]:
    return [row[0] for row in csv.reader(text.splitlines()) if row]


def _relative(entry: str, site: str, prefix: str, host: Path) -> str | None:
    """A RECORD entry (relative to the site directory, or absolute) relative to the prefix;
    None when it lies outside."""
    if entry.startswith("/"):
        for base in (prefix, str(host)):
            base = base.rstrip("/")
            if entry == base or entry.startswith(base + "/"):
                rel = posixpath.normpath(entry[len(base) :].lstrip("/"))
                return None if rel.startswith("..") or rel == "." else rel
        return None
    rel = posixpath.normpath(posixpath.join(site, entry))
    if rel == ".." or rel.startswith("../") or rel == ".":
        return None
    return rel


def _json_object(path: Path) -> dict[str, object]:
    """The JSON object in `path`; empty when there is none (no file, not JSON, not an object)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_distribution(host: Path, prefix: str, dist_info: str) -> Distribution:
    """The distribution whose .dist-info is at `dist_info` (relative to the prefix)."""
    d = host / dist_info
    site = posixpath.dirname(dist_info)
    stem = posixpath.basename(dist_info).removesuffix(".dist-info")
    name, _, version = stem.partition("-")
    meta: dict[str, list[str]] = {}
    warnings: list[str] = []
    try:
        msg = email.parser.HeaderParser().parsestr((d / "METADATA").read_text(encoding="utf-8"))
        meta = {k.lower(): [str(v) for v in msg.get_all(k) or ()] for k in set(msg.keys())}
    except (OSError, UnicodeDecodeError):
        warnings.append("no METADATA")
    name = (meta.get("name") or [name])[0]
    version = (meta.get("version") or [version])[0]
    requires = []
    for r in meta.get("requires-dist", []):
        try:
            requires.append(Req(r))
        except ValueError:  # packaging's InvalidRequirement
            continue
    files: list[str] = []
    outside: list[str] = []
    has_record = True
    try:
        entries = _read_record((d / "RECORD").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        entries, has_record = [], False
    for entry in entries:
        rel = _relative(entry, site, prefix, host)
        if rel is None:
            outside.append(entry)
        else:
            files.append(rel)
    added = _json_object(d / QPACK_FILE)
    layout = added.get("layout")
    try:
        kind, declared = declaration((d / PACKAGE_FILE).read_bytes())
    except OSError:
        kind, declared = None, ()
    try:
        installer = (d / "INSTALLER").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        installer = ""
    return Distribution(
        name=canonicalize_name(name),
        version=version,
        dist_info=dist_info,
        files=tuple(files),
        outside=tuple(outside),
        requires=tuple(requires),
        extras=frozenset(str(canonicalize_name(e)) for e in meta.get("provides-extra", [])),
        requested=(d / "REQUESTED").exists(),
        installer=installer,
        layout=layout if isinstance(layout, str) else None,
        recorded=module_ids(added.get("modules")),
        meta_extras=module_ids(added.get("extras")),
        declared_kind=kind,
        declared_modules=declared,
        has_record=has_record,
    )


@dataclass(frozen=True, kw_only=True)
class InstalledSet:
    """The distributions installed in a prefix, and which one owns each file."""

    host: Path
    prefix: str
    schemes: Mapping[str, str]  # scheme -> directory relative to the prefix
    dists: Mapping[NormalizedName, Distribution]
    owners: Mapping[str, NormalizedName] = field(default_factory=dict)

    @classmethod
    def read(cls, host: Path, prefix: str) -> InstalledSet:
        host = Path(host)
        schemes = scheme_dirs(host)
        dists: dict[NormalizedName, Distribution] = {}
        for site in sorted({schemes["purelib"], schemes["platlib"]}):
            sd = host / site
            if not sd.is_dir():
                continue
            for entry in sorted(os.listdir(sd)):
                if not entry.endswith(".dist-info") or not (sd / entry).is_dir():
                    continue
                dist = read_distribution(host, prefix, posixpath.join(site, entry) if site else entry)
                if dist.name in dists:
                    other = dists[dist.name]
                    raise InstalledError(
                        f"{host}: {dist.name} is installed twice ({other.dist_info} and {dist.dist_info})"
                    )
                dists[dist.name] = dist
        owners: dict[str, NormalizedName] = {}
        for dist in dists.values():
            for f in dist.files:
                owners.setdefault(f, dist.name)
        return cls(host=host, prefix=prefix, schemes=schemes, dists=dists, owners=owners)

    def describe(self, name: NormalizedName) -> str:
        d = self.dists[name]
        return f"{d.name} {d.version}"


@dataclass(frozen=True, kw_only=True)
class Roles:
    """What a distribution is to the program's loader, from its files."""

    modules: tuple[str, ...]  # module ids
    module_files: Mapping[str, str]  # module id -> file relative to the prefix
    # The loader's files, relative to the prefix: its executables and its library (a
    # framework's core may ship only the library that loads the plugins).
    executables: tuple[str, ...]
    core: bool = False  # a core package of the layout without the loader's files (its wheel says)

    @property
    def kind(self) -> str:
        if self.executables or self.core:
            return "core"
        return "module" if self.modules else "other"


def roles(files: Iterable[str], loader: Loader, prefix: str = "") -> Roles:
    """Modules and loader executables among prefix-relative paths: modules in the relocated
    module directories (`lib/x86_64-linux-gnu/qemu/...`), in the bundle directory next to
    the executables (`bin/qemu-bundle/usr/lib/x86_64-linux-gnu/qemu/...`), or, given the
    install `prefix` (as the program sees it), in an absolute search location under it (SASL's
    /usr/lib/x86_64-linux-gnu/sasl2, installed with --prefix /usr)."""
    files = list(files)
    module_files = {m.id: m.path for m in loader.find_modules(files, prefix="").modules}
    pre = prefix.strip("/")
    if pre and any(loc.kind == "absolute" for loc in loader.search):
        under = [f"{pre}/{f}" for f in files]
        for m in loader.find_modules(under, prefix=prefix).modules:
            module_files.setdefault(m.id, m.path[len(pre) + 1 :])
    if loader.bundle is not None:
        # <bindir>/<bundle>/<configured path>: where QEMU's get_relocated_path looks first.
        bundle = posixpath.join(loader.bindir, loader.bundle) + "/"
        inner = [f[len(bundle) :] for f in files if f.startswith(bundle)]
        for m in loader.find_modules(inner, prefix=loader.prefix).modules:
            module_files.setdefault(m.id, bundle + m.path)
    exe_res = [compile_glob(g) for g in loader.loader_globs("")]
    exes = tuple(sorted(f for f in files if any(r.match(f) for r in exe_res)))
    return Roles(modules=tuple(sorted(module_files)), module_files=module_files, executables=exes)


def as_declared(r: Roles, kind: str | None, declared: Iterable[str]) -> Roles:
    """`r` without the module ids a wheel qpack wrote (`kind`: its declaration's, None for
    another wheel) does not declare: the plan judged those files no modules (a Sylpheed
    tester's text readme.so among the plug-ins, which the loader passes over, had made the
    core "installed (empty, readme)" and then "unreadable")."""
    if kind is None:
        return r
    keep = set(declared)
    files = {m: f for m, f in r.module_files.items() if m in keep}
    return Roles(modules=tuple(sorted(files)), module_files=files, executables=r.executables, core=r.core)


def dist_roles(d: Distribution, loader: Loader, prefix: str = "") -> Roles:
    """`roles` of an installed distribution's files, completed by what its wheel declared
    (PACKAGE_FILE) and `qpack install` recorded: a core package of the layout that holds none
    of the loader's files (a library, the data) is a core all the same; one whose files the
    loader model places nowhere (no module, no executable) has the module ids declared or
    recorded for it as its modules, with no file: they are installed, and not found."""
    r = as_declared(roles(d.files, loader, prefix), d.declared_kind, d.declared_modules)
    if r.executables:
        # Its modules where the loader places none of its files, as for a module package (a
        # Geany tester's core listed no module beside module packages listing theirs).
        return r if r.modules or not d.declared_modules else replace(r, modules=d.declared_modules)
    core = d.declared_kind == "core"
    if r.modules or core:
        return Roles(modules=r.modules, module_files=r.module_files, executables=(), core=core)
    ids = d.declared_modules or d.recorded
    return Roles(modules=ids, module_files={}, executables=()) if ids else r


def executables_on_disk(host: Path, loader: Loader) -> list[str]:
    """The loader's executables (and its library) present under the prefix (however they were
    installed), relative to it."""
    out: set[str] = set()
    for glob in loader.loader_globs(""):
        regex = compile_glob(glob)
        parts = glob.split("/")
        literal = 0
        while literal < len(parts) - 1 and not any(c in parts[literal] for c in WILDCARDS):
            literal += 1
        start = "/".join(parts[:literal])
        depth = len(parts) - literal if "**" not in glob else 16
        base = host / start if start else host
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            sub = os.path.relpath(dirpath, base)
            level = 0 if sub == "." else sub.count("/") + 1
            if level + 1 >= depth:
                dirnames[:] = []
            for name in filenames:
                rel = posixpath.normpath(posixpath.join(start, sub, name))
                if regex.match(rel):
                    out.add(rel)
    return sorted(out)
