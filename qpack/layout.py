"""Load and validate a layout: the loader's rules and the packaging policy of one program.

A layout is TOML (see `layouts/*.toml` and README.md "Layout format"). Loading is two steps, as
in pypa/packaging: parse the TOML as it is, then validate every key, collecting all problems
(each one line naming the file, the key path and what is wrong) before raising LayoutError.
The result is a tree of frozen dataclasses that the planner and the loader model read.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qpack.errors import LayoutError
from qpack.globs import GlobError, compile_glob

SHIPPED_DIR = Path(__file__).parent / "layouts"

SearchKind = Literal["env", "relocated", "absolute"]
PackageKind = Literal["core", "group"]

# Distro and wheel package names alike: Debian allows [a-z0-9+.-], PEP 508 [A-Za-z0-9._-].
_PACKAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*\Z")
_TYPE_NAME = re.compile(r"[a-z0-9][a-z0-9_]*\Z")
_MODULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*\Z")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PKGVERSION_UNSAFE = re.compile(r"[^A-Za-z0-9+\-.~]")


def canon_pkgversion(pkgversion: str) -> str:
    """QEMU's module-upgrade directory name: every char outside `A-Za-z0-9+-.~` becomes `_`."""
    return _PKGVERSION_UNSAFE.sub("_", pkgversion)


@dataclass(frozen=True)
class SearchLocation:
    """One directory the loader searches. `value` is an env var name, a prefix-relative directory
    (relocated next to the executable) or an absolute directory that may hold `{pkgversion}`."""

    kind: SearchKind
    value: str
    optional: bool = False


@dataclass(frozen=True)
class Naming:
    """How a module's file is named inside a module directory: `{type}-{name}.so`,
    `{type}/{name}.so` or `lib{name}.so`."""

    pattern: str
    types: tuple[str, ...]

    @property
    def typed(self) -> bool:
        return "{type}" in self.pattern

    @property
    def regex(self) -> re.Pattern[str]:
        return _naming_regex(self.pattern, self.types)

    def parse(self, relpath: str) -> tuple[str, str] | None:
        """(type, name) of a path relative to a module dir, or None if the loader would never
        look it up under this naming. Untyped naming gives type ''."""
        m = self.regex.match(relpath)
        if m is None:
            return None
        return (m.groupdict().get("type") or "", m.group("name"))

    def module_id(self, mtype: str, name: str) -> str:
        """The id used in dependencies, package templates and extras (QEMU: the file stem)."""
        return f"{mtype}-{name}" if mtype else name


def _naming_regex(pattern: str, types: tuple[str, ...]) -> re.Pattern[str]:
    out = []
    for literal, fieldname, _, _ in string.Formatter().parse(pattern):
        out.append(re.escape(literal))
        if fieldname == "type":
            # Longest first so that a type that prefixes another cannot steal its files.
            alts = "|".join(re.escape(t) for t in sorted(types, key=len, reverse=True))
            out.append(f"(?P<type>{alts})")
        elif fieldname == "name":
            out.append("(?P<name>[^/]+?)")
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class Loader:
    executables: tuple[str, ...]
    bindir: str
    search: tuple[SearchLocation, ...]
    naming: Naming
    stamp_symbol: str | None

    @property
    def types(self) -> tuple[str, ...]:
        return self.naming.types


@dataclass(frozen=True)
class PackageRule:
    """An explicitly named package: a core package (by file globs) or a group of modules."""

    name: str
    kind: PackageKind
    files: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    rest: bool = False
    requires: tuple[str, ...] | None = None
    summary: str = ""
    index: int = 0
    # How each required sibling is pinned: (package, "exact" | "upstream"); unlisted ones are exact.
    # "upstream" is Debian's `(>> <upstream version>~)` for an arch:all sibling that binNMUs
    # (`+bN` versions of the arch packages) do not rebuild, e.g. qemu-system-data.
    pins: tuple[tuple[str, str], ...] = ()


PIN_KINDS = ("exact", "upstream")


@dataclass(frozen=True)
class PerModule:
    """One package per module not claimed by a group, named from a template with renames."""

    name: str
    renames: tuple[tuple[str, str], ...] = ()
    requires: tuple[str, ...] | None = None
    summary: str = ""

    def package_name(self, mtype: str, name: str, module_id: str) -> tuple[str, str]:
        """(package name, the template key that produced it)."""
        for glob, template in self.renames:
            m = re.fullmatch(_fnmatch_regex(glob), module_id)
            if m:
                star = m.group(1) if m.groups() else ""
                return _fill(template, mtype, name, module_id, star), f"per-module.renames.{glob!r}"
        return _fill(self.name, mtype, name, module_id, ""), "per-module.name"


def _fill(template: str, mtype: str, name: str, module_id: str, star: str) -> str:
    return (
        template.replace("{module}", module_id)
        .replace("{type}", mtype)
        .replace("{name}", name)
        .replace("{*}", star)
    )


def _fnmatch_regex(glob: str) -> str:
    # One `*` captured so that renames can reuse it as `{*}`; further `*` and `?` just match.
    parts = re.split(r"(\*|\?)", glob)
    out, captured = [], False
    for p in parts:
        if p == "*":
            out.append("(.*)" if not captured else ".*")
            captured = True
        elif p == "?":
            out.append(".")
        else:
            out.append(re.escape(p))
    return "".join(out)


def module_glob_matches(glob: str, module_id: str) -> bool:
    return re.fullmatch(_fnmatch_regex(glob), module_id) is not None


@dataclass(frozen=True)
class Exclusion:
    reason: str
    files: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    index: int = 0


@dataclass(frozen=True)
class Meta:
    name: str
    summary: str = ""
    requires: tuple[str, ...] | None = None
    extras: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    path: Path
    prefix: str
    loader: Loader
    dependencies: tuple[tuple[str, tuple[str, ...]], ...]
    known_modules: tuple[str, ...] | None
    packages: tuple[PackageRule, ...]
    per_module: PerModule | None
    exclusions: tuple[Exclusion, ...]
    meta: Meta | None
    extends: tuple[Path, ...] = field(default=())

    def deps_of(self, module_id: str) -> tuple[str, ...]:
        return dict(self.dependencies).get(module_id, ())

    def core_packages(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.packages if p.kind == "core")

    def module_dirs(self, prefix: str) -> tuple[str, ...]:
        """Build-root-relative globs of the directories where modules are installed."""
        pre = prefix.strip("/")
        dirs = []
        for loc in self.loader.search:
            if loc.kind == "relocated":
                dirs.append(f"{pre}/{loc.value}" if pre else loc.value)
            elif loc.kind == "absolute":
                dirs.append(loc.value.strip("/").replace("{pkgversion}", "*"))
        return tuple(dirs)


# --------------------------------------------------------------------------- loading

_TOP_KEYS = {"layout", "loader", "modules", "package", "per-module", "exclude", "meta"}
_PACKAGING_KEYS = ("package", "per-module", "exclude", "meta")


def shipped_layouts() -> dict[str, Path]:
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}


def resolve(spec: str | Path, relative_to: Path | None = None) -> Path:
    """A layout given as a shipped name (`qemu`) or a path (`./my.toml`)."""
    text = str(spec)
    if "/" not in text and not text.endswith(".toml"):
        shipped = shipped_layouts()
        if text in shipped:
            return shipped[text]
        names = ", ".join(shipped) or "none"
        raise LayoutError([f"{text}: no such shipped layout (shipped: {names}); give a path to a .toml file"])
    path = Path(text)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    return path


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise LayoutError([f"{path}: layout file not found"]) from None
    except IsADirectoryError:
        raise LayoutError([f"{path}: is a directory, not a layout file"]) from None
    except PermissionError:
        raise LayoutError([f"{path}: cannot read layout file: permission denied"]) from None
    except UnicodeDecodeError:
        raise LayoutError([f"{path}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as e:
        raise LayoutError([f"{path}: invalid TOML: {e}"]) from None


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """`[layout]`, `[loader]` and `[modules]` are inherited key by key; the packaging tables are
    inherited only when the child defines none of them (a distro policy is a whole split)."""
    merged: dict[str, Any] = {}
    for key in ("layout", "loader", "modules"):
        p, c = parent.get(key, {}), child.get(key, {})
        if isinstance(p, dict) and isinstance(c, dict):
            both = {**p, **c}
            if (
                key == "modules"
                and isinstance(p.get("dependencies"), dict)
                and isinstance(c.get("dependencies"), dict)
            ):
                both["dependencies"] = {**p["dependencies"], **c["dependencies"]}
            if key == "layout":
                both.pop("extends", None)
            merged[key] = both
        else:
            merged[key] = c if key in child else p
    source = child if any(k in child for k in _PACKAGING_KEYS) else parent
    for key in _PACKAGING_KEYS:
        if key in source:
            merged[key] = source[key]
    for key, value in child.items():
        if key not in merged:
            merged[key] = value  # unknown keys stay, so that validation names them
    return merged


def load(spec: str | Path) -> Layout:
    """Load, resolve `extends`, validate. Raises LayoutError listing every problem."""
    path = resolve(spec)
    chain: list[Path] = []
    data = _load_chain(path, chain)
    return _validate(data, path, tuple(chain[1:]))


def _load_chain(path: Path, chain: list[Path]) -> dict[str, Any]:
    real = path.resolve()
    if real in chain:
        raise LayoutError([f"{path}: layout.extends: cycle ({' -> '.join(str(p) for p in [*chain, real])})"])
    chain.append(real)
    data = _read(path)
    table = data.get("layout", {})
    parent_spec = table.get("extends") if isinstance(table, dict) else None
    if parent_spec is None:
        return data
    if not isinstance(parent_spec, str) or not parent_spec:
        raise LayoutError([f"{path}: layout.extends: must be a layout name or path, got {parent_spec!r}"])
    parent_path = resolve(parent_spec, relative_to=path.parent)
    try:
        parent = _load_chain(parent_path, chain)
    except LayoutError as e:
        raise LayoutError([f"{path}: layout.extends: {p}" for p in e.problems]) from None
    return _merge(parent, data)


class _Checker:
    """Collects problems as `<file>: <key path>: <problem>`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def bad(self, key: str, problem: str) -> None:
        self.problems.append(f"{self.path}: {key}: {problem}")

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = data.get(key.rsplit(".", 1)[-1], {})
        if not isinstance(value, dict):
            self.bad(key, f"must be a table, got {type(value).__name__}")
            return {}
        return value

    def unknown(self, data: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for k in data:
            if k not in allowed:
                hint = f" (known: {', '.join(sorted(allowed))})"
                self.bad(f"{where}.{k}" if where else k, f"unknown key{hint}")

    def string(self, data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str | None:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, str):
            self.bad(f"{where}.{key}", f"must be a string, got {type(value).__name__}")
            return default
        return value

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(f"{where}.{key}", "must be a list of strings")
            return None
        return tuple(value)

    def boolean(self, data: Mapping[str, Any], key: str, where: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.bad(f"{where}.{key}", f"must be true or false, got {value!r}")
            return False
        return value

    def file_globs(self, globs: tuple[str, ...], where: str, prefix: str) -> tuple[str, ...]:
        out = []
        for i, g in enumerate(globs):
            expanded = expand_prefix(g, prefix)
            if "{" in expanded or "}" in expanded:
                self.bad(f"{where}[{i}]", f"bad glob {g!r}: unknown placeholder (only {{prefix}} is known)")
                continue
            try:
                compile_glob(expanded)
            except GlobError as e:
                self.bad(f"{where}[{i}]", f"bad glob {g!r}: {e}")
                continue
            out.append(g)
        return tuple(out)

    def module_globs(self, globs: tuple[str, ...], where: str) -> tuple[str, ...]:
        out = []
        for i, g in enumerate(globs):
            if not g or "/" in g or ".." in g or not re.fullmatch(r"[A-Za-z0-9_.+*?-]+", g):
                self.bad(f"{where}[{i}]", f"bad module glob {g!r}: use module ids with * and ?")
                continue
            out.append(g)
        return tuple(out)

    def template(self, template: str, where: str, allowed: set[str]) -> bool:
        """A package-name template must give a valid name whatever the module is called:
        no '/', no '..', only known placeholders, and no '.' that a placeholder could double."""
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as e:
            self.bad(where, f"bad template {template!r}: {e}")
            return False
        ok = True
        for literal, fieldname, spec, conv in parsed:
            if "/" in literal or ".." in literal:
                self.bad(where, f"bad template {template!r}: could produce '/' or '..' in a package name")
                ok = False
            if fieldname is not None and (fieldname not in allowed or spec or conv):
                known = ", ".join("{" + a + "}" for a in sorted(allowed))
                self.bad(
                    where, f"bad template {template!r}: unknown placeholder {{{fieldname}}} (known: {known})"
                )
                ok = False
        # A literal '.' next to a placeholder can make '..' with a module id that starts or ends in '.'.
        flat = re.sub(r"\{[^}]*\}", "\0", template)
        if ".\0" in flat or "\0." in flat:
            self.bad(where, f"bad template {template!r}: a '.' next to a placeholder could produce '..'")
            ok = False
        if ok and not _PACKAGE_NAME.match(re.sub(r"\{[^}]*\}", "x", template)):
            self.bad(where, f"bad template {template!r}: not a valid package name")
            ok = False
        return ok


def expand_prefix(glob: str, prefix: str) -> str:
    pre = prefix.strip("/")
    if glob.startswith("{prefix}/"):
        return f"{pre}/{glob[len('{prefix}/') :]}" if pre else glob[len("{prefix}/") :]
    return glob.replace("{prefix}", pre)


def _validate(data: dict[str, Any], path: Path, extends: tuple[Path, ...]) -> Layout:
    c = _Checker(path)
    c.unknown(data, "", _TOP_KEYS)

    meta_t = c.table(data, "layout")
    c.unknown(meta_t, "layout", {"name", "description", "extends"})
    name = c.string(meta_t, "name", "layout", path.stem) or path.stem
    description = c.string(meta_t, "description", "layout", "") or ""

    # ---- loader
    lt = c.table(data, "loader")
    c.unknown(lt, "loader", {"prefix", "executables", "bindir", "naming", "types", "search", "stamp"})
    prefix = c.string(lt, "prefix", "loader", "/usr") or "/usr"
    if not prefix.startswith("/") or ".." in prefix.split("/"):
        c.bad("loader.prefix", f"must be an absolute path without '..', got {prefix!r}")
    executables = c.strings(lt, "executables", "loader")
    if not executables:
        c.bad("loader.executables", "must list at least one glob of the executables that load modules")
        executables = ()
    executables = c.file_globs(executables, "loader.executables", prefix)
    bindir = c.string(lt, "bindir", "loader", "bin") or "bin"
    types = c.strings(lt, "types", "loader") or ()
    for i, t in enumerate(types):
        if not _TYPE_NAME.match(t):
            c.bad(f"loader.types[{i}]", f"bad module type {t!r}: lowercase letters, digits and '_'")
    if len(set(types)) != len(types):
        c.bad("loader.types", "lists a type twice")
    naming_s = c.string(lt, "naming", "loader")
    if naming_s is None:
        c.bad("loader.naming", "missing: how module files are named, e.g. '{type}-{name}.so'")
        naming_s = "{name}.so"
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(naming_s) if f is not None]
    except ValueError as e:
        c.bad("loader.naming", f"bad pattern {naming_s!r}: {e}")
        fields = ["name"]
    if (
        fields.count("name") != 1
        or any(f not in ("type", "name") for f in fields)
        or fields.count("type") > 1
    ):
        c.bad(
            "loader.naming",
            f"bad pattern {naming_s!r}: needs {{name}} once, {{type}} at most once, nothing else",
        )
    if naming_s.startswith("/") or ".." in naming_s:
        c.bad("loader.naming", f"bad pattern {naming_s!r}: must be relative, without '..'")
    if "type" in fields and not types:
        c.bad("loader.types", "the naming has {type} but no module types are declared")
    naming = Naming(naming_s, tuple(types))

    search: list[SearchLocation] = []
    raw_search = lt.get("search", [])
    if not isinstance(raw_search, list) or not raw_search:
        c.bad("loader.search", "must be a non-empty array of tables ([[loader.search]])")
        raw_search = []
    for i, loc in enumerate(raw_search):
        where = f"loader.search[{i}]"
        if not isinstance(loc, dict):
            c.bad(where, "must be a table")
            continue
        c.unknown(loc, where, {"env", "relocated", "absolute", "optional"})
        kinds = [k for k in ("env", "relocated", "absolute") if k in loc]
        if len(kinds) != 1:
            c.bad(where, "needs exactly one of env, relocated, absolute")
            continue
        skind: SearchKind = kinds[0]  # type: ignore[assignment]
        value = c.string(loc, skind, where)
        if value is None:
            continue
        optional = c.boolean(loc, "optional", where)
        if skind == "env" and not _ENV_NAME.match(value):
            c.bad(f"{where}.env", f"bad environment variable name {value!r}")
        elif skind == "relocated" and (value.startswith("/") or ".." in value.split("/") or not value):
            c.bad(f"{where}.relocated", f"must be a directory relative to the prefix, got {value!r}")
        elif skind == "absolute":
            unknown_ph = [
                f for _, f, _, _ in string.Formatter().parse(value) if f not in (None, "pkgversion")
            ]
            if not value.startswith("/") or ".." in value.split("/"):
                c.bad(f"{where}.absolute", f"must be an absolute directory without '..', got {value!r}")
            elif unknown_ph:
                c.bad(f"{where}.absolute", f"unknown placeholder {{{unknown_ph[0]}}} (only {{pkgversion}})")
        search.append(SearchLocation(skind, value, optional))

    stamp_t = c.table(lt, "loader.stamp")
    c.unknown(stamp_t, "loader.stamp", {"symbol"})
    stamp = c.string(stamp_t, "symbol", "loader.stamp")
    if stamp is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\*?", stamp):
        c.bad("loader.stamp.symbol", f"bad symbol glob {stamp!r}: a C identifier, optionally ending in '*'")

    loader = Loader(tuple(executables), bindir, tuple(search), naming, stamp)

    # ---- modules
    mt = c.table(data, "modules")
    c.unknown(mt, "modules", {"known", "dependencies"})
    known = c.strings(mt, "known", "modules")

    def check_module(mid: str, where: str) -> bool:
        if not _MODULE_ID.match(mid):
            c.bad(where, f"bad module id {mid!r}")
            return False
        if naming.typed:
            mtype = next((t for t in sorted(types, key=len, reverse=True) if mid.startswith(t + "-")), None)
            if mtype is None:
                c.bad(
                    where, f"unknown module {mid!r}: its type is not one of loader.types ({', '.join(types)})"
                )
                return False
        if known is not None and mid not in known:
            c.bad(where, f"unknown module {mid!r}: not in modules.known")
            return False
        return True

    for i, k in enumerate(known or ()):
        check_module(k, f"modules.known[{i}]")
    deps_t = c.table(mt, "modules.dependencies")
    deps: dict[str, tuple[str, ...]] = {}
    for mid, needs in deps_t.items():
        where = f"modules.dependencies.{mid}"
        if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
            c.bad(where, "must be a list of module ids")
            continue
        ok = check_module(mid, where)
        for j, n in enumerate(needs):
            ok = check_module(n, f"{where}[{j}]") and ok
            if n == mid:
                c.bad(f"{where}[{j}]", f"module {mid!r} depends on itself")
                ok = False
        if ok:
            deps[mid] = tuple(needs)
    cycle = _find_cycle(deps)
    if cycle:
        c.bad("modules.dependencies", f"dependency cycle: {' -> '.join(cycle)}")

    # ---- packaging
    tmpl_vars = {"module", "type", "name"}
    packages: list[PackageRule] = []
    raw_pkgs = data.get("package", [])
    if not isinstance(raw_pkgs, list):
        c.bad("package", "must be an array of tables ([[package]])")
        raw_pkgs = []
    for i, p in enumerate(raw_pkgs):
        where = f"package[{i}]"
        if not isinstance(p, dict):
            c.bad(where, "must be a table")
            continue
        c.unknown(p, where, {"name", "kind", "files", "modules", "rest", "requires", "summary", "pins"})
        pname = c.string(p, "name", where)
        if pname is None:
            c.bad(f"{where}.name", "missing")
            continue
        if not _PACKAGE_NAME.match(pname):
            c.bad(f"{where}.name", f"bad package name {pname!r}")
        kind = c.string(p, "kind", where, "core")
        if kind not in ("core", "group"):
            c.bad(f"{where}.kind", f"must be 'core' or 'group', got {kind!r}")
            kind = "core"
        files = c.file_globs(c.strings(p, "files", where) or (), f"{where}.files", prefix)
        mods = c.module_globs(c.strings(p, "modules", where) or (), f"{where}.modules")
        rest = c.boolean(p, "rest", where)
        if not (files or mods or rest):
            c.bad(where, f"package {pname!r} claims nothing: give files, modules or rest = true")
        requires = c.strings(p, "requires", where)
        pins = []
        for dep, pin in c.table(p, f"{where}.pins").items():
            if pin not in PIN_KINDS:
                c.bad(f"{where}.pins.{dep}", f"must be one of {', '.join(PIN_KINDS)}, got {pin!r}")
            elif dep not in (requires or ()):
                c.bad(f"{where}.pins.{dep}", f"pins {dep!r}, which is not in this package's requires")
            else:
                pins.append((dep, pin))
        packages.append(
            PackageRule(
                name=pname,
                kind=kind,  # type: ignore[arg-type]
                files=files,
                modules=mods,
                rest=rest,
                requires=requires,
                summary=c.string(p, "summary", where, "") or "",
                index=i,
                pins=tuple(sorted(pins)),
            )
        )
    names = [p.name for p in packages]
    for n in sorted({n for n in names if names.count(n) > 1}):
        c.bad("package", f"package name {n!r} is defined twice")
    for kind in ("core", "group"):
        rest_pkgs = [p.name for p in packages if p.rest and p.kind == kind]
        if len(rest_pkgs) > 1:
            what = "non-module files" if kind == "core" else "modules"
            c.bad(
                "package",
                f"rest = true on several {kind} packages ({', '.join(rest_pkgs)}): "
                f"only one can take the other {what}",
            )

    per_module = None
    pm = data.get("per-module")
    if pm is not None:
        if not isinstance(pm, dict):
            c.bad("per-module", "must be a table")
        else:
            c.unknown(pm, "per-module", {"name", "renames", "requires", "summary"})
            template = c.string(pm, "name", "per-module")
            if template is None:
                c.bad("per-module.name", "missing: a template such as 'qemu-{module}'")
                template = "x"
            c.template(template, "per-module.name", tmpl_vars)
            renames_t = c.table(pm, "per-module.renames")
            renames = []
            for g, t in renames_t.items():
                where = f"per-module.renames.{g}"
                if not isinstance(t, str):
                    c.bad(where, "must be a template string")
                    continue
                c.module_globs((g,), where)
                c.template(t, where, tmpl_vars | {"*"})
                if "{*}" in t and g.count("*") < 1:
                    c.bad(where, f"template uses {{*}} but the glob {g!r} has no '*'")
                renames.append((g, t))
            if any(p.rest and p.kind == "group" for p in packages):
                c.bad("per-module", "a group with rest = true already takes every other module")
            per_module = PerModule(
                template,
                tuple(renames),
                c.strings(pm, "requires", "per-module"),
                c.string(pm, "summary", "per-module", "") or "",
            )

    exclusions = []
    raw_ex = data.get("exclude", [])
    if not isinstance(raw_ex, list):
        c.bad("exclude", "must be an array of tables ([[exclude]])")
        raw_ex = []
    for i, ex in enumerate(raw_ex):
        where = f"exclude[{i}]"
        if not isinstance(ex, dict):
            c.bad(where, "must be a table")
            continue
        c.unknown(ex, where, {"reason", "files", "modules"})
        reason = c.string(ex, "reason", where)
        if not reason:
            c.bad(f"{where}.reason", "missing: say why these files are left out")
        files = c.file_globs(c.strings(ex, "files", where) or (), f"{where}.files", prefix)
        mods = c.module_globs(c.strings(ex, "modules", where) or (), f"{where}.modules")
        if not files and not mods:
            c.bad(where, "excludes nothing: give files or modules")
        exclusions.append(Exclusion(reason or "", files, mods, i))

    meta = None
    mt2 = data.get("meta")
    if mt2 is not None:
        if not isinstance(mt2, dict):
            c.bad("meta", "must be a table")
        else:
            c.unknown(mt2, "meta", {"name", "summary", "requires", "extras"})
            mname = c.string(mt2, "name", "meta")
            if not mname or not _PACKAGE_NAME.match(mname):
                c.bad("meta.name", f"bad or missing package name {mname!r}")
                mname = "meta"
            if mname in names:
                c.bad("meta.name", f"package name {mname!r} is also a [[package]]")
            extras_t = c.table(mt2, "meta.extras")
            extras = []
            for ename, members in extras_t.items():
                where = f"meta.extras.{ename}"
                if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", ename):
                    c.bad(where, "bad extra name: lowercase letters, digits and '-'")
                if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
                    c.bad(where, "must be a list of module ids or types")
                    continue
                extras.append((ename, tuple(members)))
            meta = Meta(
                mname,
                c.string(mt2, "summary", "meta", "") or "",
                c.strings(mt2, "requires", "meta"),
                tuple(extras),
            )

    # requires must name packages this layout can produce (explicit ones; per-module names are data)
    defined = set(names) | ({meta.name} if meta else set())
    for p in packages:
        for j, r in enumerate(p.requires or ()):
            if r not in defined:
                c.bad(f"package[{p.index}].requires[{j}]", f"unknown package {r!r}")
    if per_module:
        for j, r in enumerate(per_module.requires or ()):
            if r not in defined:
                c.bad(f"per-module.requires[{j}]", f"unknown package {r!r}")
    if meta:
        for j, r in enumerate(meta.requires or ()):
            if r not in defined:
                c.bad(f"meta.requires[{j}]", f"unknown package {r!r}")

    if c.problems:
        raise LayoutError(c.problems)
    return Layout(
        name=name,
        description=description,
        path=path,
        prefix=prefix,
        loader=loader,
        dependencies=tuple(sorted(deps.items())),
        known_modules=known,
        packages=tuple(packages),
        per_module=per_module,
        exclusions=tuple(exclusions),
        meta=meta,
        extends=extends,
    )


def _find_cycle(deps: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for n in deps.get(node, ()):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n] if n in stack else [node, n]
            if n not in state:
                found = visit(n, [*stack, n])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(deps):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None
