"""Load and validate a layout: the loader's rules and the packaging policy of one program.

A layout is TOML (see `layouts/*.toml` and README.md "Layouts"). Loading is two steps, as in
pypa/packaging: parse the TOML as it is, then validate it table by table. Each table has its
own small reader (`_read_loader`, `_read_packages`, `_read_per_module`, `_read_exclusions`,
`_read_meta`) that is handed a `_Table`: the table's data plus its key path, so every problem
is reported as `<file>: <key path>: <problem>`. All problems are collected before LayoutError
is raised. The result is frozen dataclasses: a `qpack.loader.Loader` (the program's loader,
which knows no TOML) and the packaging rules the planner reads.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import string
import tomllib
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from qpack.errors import LayoutError
from qpack.globs import (
    GlobError,
    ModuleKeys,
    compile_glob,
    expand_prefix,
    is_module_glob,
    module_glob_matches,
    module_glob_pattern,
    unknown_placeholder,
)
from qpack.loader import (
    MAX_DEPTH,
    MODULE_TABLES,
    RESOLUTIONS,
    Helper,
    Loader,
    ModuleTable,
    Naming,
    SearchKind,
    SearchLocation,
    module_file_globs,
)

SHIPPED_DIR = Path(__file__).parent / "layouts"

PackageKind = Literal["core", "group"]
PinKind = Literal["exact", "upstream", "none"]
PIN_KINDS = ("exact", "upstream", "none")

# Distro and wheel package names alike: Debian allows [a-z0-9+.-], PEP 508 [A-Za-z0-9._-].
_PACKAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*\Z")
_TYPE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
# Any name a naming's {name} can give (CPython's `_ssl`, Pure Data's `bob~`), but no glob.
# Not starting with '-', which would read as an option on the command line.
_MODULE_ID = re.compile(r"[^\s/*?\[\]-][^\s/*?\[\]]*\Z")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# --------------------------------------------------------------------------- the policy


@dataclass(frozen=True, kw_only=True)
class PackageRule:
    """An explicitly named package: a core package (by file globs) or a group of modules."""

    name: str
    kind: PackageKind = "core"
    files: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # install tags (meson's install_tag; a build read with --meson)
    rest: bool = False
    requires: tuple[str, ...] | None = None
    summary: str = ""
    index: int = 0
    # How each required sibling is pinned; unlisted ones are "exact". "upstream" is Debian's
    # `(>> <upstream version>~)` for an arch:all sibling that binNMUs (`+bN` versions of the
    # arch packages) do not rebuild, e.g. qemu-system-data.
    pins: Mapping[str, PinKind] = field(default_factory=dict)
    # False: a core package the module packages and the meta package do not require by default
    # (docs, headers, tools: WeeChat's weechat-doc, libgphoto2-dev, enchant-2).
    required: bool = True
    # A core package that also takes the modules no rule claims, where no [per-module] package
    # or `rest` group does: Debian's pulseaudio (the daemon and 67 modules) and kamailio (130).
    rest_modules: bool = False
    # A required sibling that other packages can stand in for, in distro lists: Debian's
    # `qemu-system-x86 (= V) | qemu-system-arm (= V)`. Key: the sibling in `requires`.
    alternatives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Requirements outside the split, as the distro writes them: `adduser`, `logrotate`,
    # `libfoo1 (>= 1.2) | libbar1`. Distro outputs carry them; wheels cannot.
    depends: tuple[str, ...] = ()
    # Directories the package ships as directories, even when other packages' files fill them
    # (Debian's <package>.dirs: dovecot-core's empty modules/dict). Written with {prefix}.
    dirs: tuple[str, ...] = ()
    # Modules (ids or globs) the package recommends: their packages become its `recommends`
    # (Debian's remmina recommends remmina-plugin-rdp; [modules.recommends] is per module).
    recommends: tuple[str, ...] = ()
    # A package this build may have no file for (a group of optional plug-ins, rsyslog-kafka):
    # left out of the split then, with a note, where an empty one stops the wheel split.
    optional: bool = False

    def dir_paths(self, prefix: str) -> tuple[str, ...]:
        """`dirs` as build-root relative paths at `prefix`."""
        return tuple(expand_prefix(d, prefix) for d in self.dirs)


def fill_template(template: str, mtype: str, name: str, module_id: str) -> str:
    """A `[per-module]` template (`summary`) filled in for one module, as `name` is."""
    return _fill(template, mtype, name, module_id, "")


def _fill(template: str, mtype: str, name: str, module_id: str, star: str) -> str:
    # {dashed-name} and {dashed-module} as in [per-module] files (an Apache tester reached for
    # them in `name` too).
    return (
        template.replace("{dashed-module}", module_id.replace("_", "-"))
        .replace("{dashed-name}", name.replace("_", "-"))
        .replace("{module}", module_id)
        .replace("{type}", mtype)
        .replace("{name}", name)
        .replace("{*}", star)
    )


@dataclass(frozen=True, kw_only=True)
class PerModule:
    """One package per module not claimed by a group, named from a template with renames
    (first matching glob wins: the mapping keeps the layout's order)."""

    name: str
    renames: Mapping[str, str] = field(default_factory=dict)
    requires: tuple[str, ...] | None = None
    # `a | b` in `requires`: the packages that can stand in for `a` in distro lists (as a
    # [[package]]'s: WeeChat's plugins depend on weechat-curses | weechat-headless).
    alternatives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    summary: str = ""
    # More files of a module's package than the module: globs with {prefix}, {package},
    # {module}, {type} and {name} (`{prefix}/share/doc/{package}/**`, a helper, a man page).
    files: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()
    # Names lower-cased, with '_' as '-': what Debian package names allow (collectd's
    # curl_json, ALSA's ctl-arcam_av and VLC's 220 module ids with '_' need it).
    normalize: bool = False

    def file_globs(self, package: str, mtype: str, name: str, module_id: str) -> tuple[str, ...]:
        return module_file_globs(self.files, package, mtype, name, module_id)

    def package_name(self, mtype: str, name: str, module_id: str) -> tuple[str, str]:
        """(package name, the template key that produced it)."""
        for glob, template in self.renames.items():
            m = module_glob_pattern(glob).fullmatch(module_id)
            if m:
                star = m.group(1) if m.groups() else ""
                filled = _fill(template, mtype, name, module_id, star)
                return self._normalized(filled), f"per-module.renames.{glob!r}"
        return self._normalized(_fill(self.name, mtype, name, module_id, "")), "per-module.name"

    def _normalized(self, name: str) -> str:
        # A run of separators as one, as a wheel's name has it (a PostgreSQL tester's `_int`:
        # postgresql-15--int in the distro lists, postgresql_15_int as a wheel), and none at
        # either end (a Munin tester's wildcard plug-in `if_`: munin-plugin-if-, refused by the
        # wheel split, with 60 renames asked for).
        # Any other character Debian's names refuse as '-' too (GNOME Shell's and Cinnamon's
        # uuids, `menu@cinnamon.org`: 36 names a plan, each to be renamed by hand).
        if not self.normalize:
            return name
        return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9+.-]", "-", name.lower())).strip("-")


@dataclass(frozen=True, kw_only=True)
class Exclusion:
    reason: str
    files: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    index: int = 0
    # Some builds of the program lack these files (Debian's rules delete the qtest modules
    # before packaging): matching nothing is then not worth a warning.
    optional: bool = False


@dataclass(frozen=True, kw_only=True)
class Meta:
    name: str
    summary: str = ""
    requires: tuple[str, ...] | None = None
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # `requires = ["a | b"]`: a -> (b,), as a [[package]]'s (distro lists keep the alternatives).
    alternatives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Layout:
    name: str
    description: str
    path: Path
    loader: Loader
    packages: tuple[PackageRule, ...]
    per_module: PerModule | None = None
    exclusions: tuple[Exclusion, ...] = ()
    meta: Meta | None = None
    extends: tuple[Path, ...] = ()
    # More base-system directories (build-root globs) that no package of this layout owns in
    # RPM %dir lists: /etc/logrotate.d, another program's plugin directory...
    system_dirs: tuple[str, ...] = ()
    # `[modules.files]`: module id (or glob) -> more files of that module, which go wherever the
    # module goes (its own package, its group, out with it): Tracker's `10-ico.rule` names the
    # extractor `icon`, three rules name `gstreamer`.
    module_files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def files_of_module(self, module_id: str) -> tuple[str, ...]:
        """The `[modules.files]` globs of `module_id`: those of every key naming it, in order."""
        return tuple(g for key in self._module_file_keys.naming(module_id) for g in self.module_files[key])

    @cached_property
    def _module_file_keys(self) -> ModuleKeys:
        return ModuleKeys(self.module_files)

    @property
    def prefix(self) -> str:
        """The default `--prefix`: the one the loader was configured with."""
        return self.loader.prefix

    def system_dir_patterns(self, prefix: str) -> tuple[re.Pattern[str], ...]:
        """`system_dirs` for a build staged at `prefix`, compiled."""
        return tuple(compile_glob(expand_prefix(g, prefix)) for g in self.system_dirs)

    def core_packages(self) -> tuple[str, ...]:
        return self._core_packages

    def required_cores(self) -> tuple[str, ...]:
        """The core packages module packages and the meta package require by default: those not
        marked `required = false`."""
        return self._required_cores

    @cached_property
    def _required_cores(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.packages if p.kind == "core" and p.required)

    @cached_property
    def _core_packages(self) -> tuple[str, ...]:
        # Computed once: the plan asks for every package (10,000 rules would be 10^8 steps).
        return tuple(p.name for p in self.packages if p.kind == "core")


# --------------------------------------------------------------------------- finding and reading

_TOP_KEYS = {"layout", "loader", "modules", "package", "per-module", "exclude", "meta"}
_PACKAGING_KEYS = ("package", "per-module", "exclude", "meta")


def shipped_layouts() -> dict[str, Path]:
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}


def find_layout(spec: str | Path, relative_to: Path | None = None) -> Path:
    """A layout given as a shipped name (`qemu`) or a path (`./my.toml`)."""
    text = str(spec)
    if "/" not in text and not text.endswith(".toml"):
        shipped = shipped_layouts()
        if text in shipped:
            return shipped[text]
        names = ", ".join(shipped) or "none"
        import difflib  # only for a name not shipped: a suggestion

        close = difflib.get_close_matches(text, list(shipped), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise LayoutError(
            [f"{text}: no such shipped layout ({hint}shipped: {names}); give a path to a .toml file"]
        )
    path = Path(text)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    return path


# Limits on what a layout may ask (README "Limits"): a layout is a small hand-written file.
MAX_LAYOUT_BYTES = 1 << 20
MAX_RULES = 10_000  # [[package]] plus [[exclude]] tables
MAX_DEPENDENCY_CHAIN = 1_000


def _read(path: Path) -> dict[str, Any]:
    """The TOML of a layout file: a regular file of at most MAX_LAYOUT_BYTES, read without
    blocking (a FIFO or a device such as /dev/zero is refused before it is opened)."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise LayoutError([f"{path}: is a directory, not a layout file"])
        if not stat.S_ISREG(st.st_mode):
            raise LayoutError([f"{path}: not a regular file (a FIFO, socket or device): give a .toml file"])
        if st.st_size > MAX_LAYOUT_BYTES:
            raise LayoutError([f"{path}: layout file of {st.st_size} bytes; the limit is {MAX_LAYOUT_BYTES}"])
        with path.open("rb") as f:
            data = f.read(MAX_LAYOUT_BYTES + 1)
        if len(data) > MAX_LAYOUT_BYTES:
            raise LayoutError([f"{path}: layout file larger than {MAX_LAYOUT_BYTES} bytes"])
        return tomllib.loads(data.decode("utf-8"))
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
    except RecursionError:
        raise LayoutError([f"{path}: invalid TOML: nested too deeply"]) from None
    except OSError as e:
        raise LayoutError([f"{path}: cannot read layout file: {e.strerror}"]) from None


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


def load_layout(spec: str | Path) -> Layout:
    """Load, resolve `extends`, validate. Raises LayoutError listing every problem."""
    path = find_layout(spec)
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
    try:
        parent = _load_chain(find_layout(parent_spec, relative_to=path.parent), chain)
    except LayoutError as e:
        raise LayoutError([f"{path}: layout.extends: {p}" for p in e.problems]) from None
    return _merge(parent, data)


# --------------------------------------------------------------------------- validation


class _Table:
    """One TOML table and its key path; problems go to a list shared by the whole file, each
    as `<file>: <key path>: <problem>`."""

    def __init__(self, data: Mapping[str, Any], where: str, path: Path, problems: list[str]) -> None:
        self.data = data
        self.where = where
        self.path = path
        self.problems = problems

    def key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def bad(self, key: str | None, problem: str) -> None:
        where = self.key(key) if key is not None else self.where
        self.problems.append(f"{self.path}: {where}: {problem}")

    def sub(self, data: Mapping[str, Any], where: str) -> _Table:
        return _Table(data, where, self.path, self.problems)

    def allow(self, allowed: set[str]) -> None:
        for k in self.data:
            if k not in allowed:
                from qpack.errors import did_you_mean

                near = did_you_mean([k], allowed)  # "namng" for naming (a Janus tester)
                self.bad(k, f"unknown key{near} (known: {', '.join(sorted(allowed))})")

    def table(self, key: str) -> _Table:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.bad(key, f"must be a table, got {type(value).__name__}")
            value = {}
        return self.sub(value, self.key(key))

    def tables(self, key: str, what: str) -> list[_Table]:
        """An array of tables (`[[package]]`); an entry that is not a table is reported."""
        value = self.data.get(key, [])
        if not isinstance(value, list):
            self.bad(key, f"must be an array of tables ({what})")
            return []
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.bad(f"{key}[{i}]", "must be a table")
                continue
            out.append(self.sub(item, f"{self.key(key)}[{i}]"))
        return out

    def string(self, key: str, default: str | None = None) -> str | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, str):
            self.bad(key, f"must be a string, got {type(value).__name__}")
            return default
        return value

    def strings(self, key: str) -> tuple[str, ...] | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(key, "must be a list of strings")
            return None
        return tuple(value)

    def boolean(self, key: str, *, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.bad(key, f"must be true or false, got {value!r}")
            return False
        return value

    def file_globs(
        self, globs: tuple[str, ...], key: str, prefix: str, *, one: bool = False
    ) -> tuple[str, ...]:
        """The valid globs of a list (`one`: of a key holding a single glob, named without an
        index); each bad one is reported."""
        out = []
        for i, g in enumerate(globs):
            where = key if one else f"{key}[{i}]"
            expanded = expand_prefix(g, prefix)
            if unknown_placeholder(expanded):
                self.bad(where, f"bad glob {g!r}: unknown placeholder (only {{prefix}} is known)")
                continue
            if re.search(r"\{prefix\}[^/]", g):
                # With prefix "/", {prefix}usr read as /usr, and a venv's prefix as <venv>usr (a
                # terminfo tester's install looked for <venv>usr/bin/*).
                fixed = re.sub(r"\{prefix\}(?=[^/])", "{prefix}/", g)
                self.bad(where, f"bad glob {g!r}: {{prefix}} is a directory: write {fixed!r}")
                continue
            try:
                compile_glob(expanded)
            except GlobError as e:
                # How to write it, for a path outside the prefix (a PAM tester's library
                # /lib/x86_64-linux-gnu/libpam.so.0, Debian 12's /lib).
                fix = f": write {g.lstrip('/')!r}" if g.startswith("/") and g.strip("/") else ""
                self.bad(where, f"bad glob {g!r}: {e}{fix}")
                continue
            out.append(g)
        return tuple(out)

    def module_glob(self, glob: str, key: str) -> bool:
        if not glob or "/" in glob or ".." in glob or not re.fullmatch(r"[^\s/\[\]]+", glob):
            self.bad(key, f"bad module glob {glob!r}: use module ids with * and ?")
            return False
        return True

    def install_tags(self, key: str) -> tuple[str, ...]:
        """Install tags as meson spells them (`runtime`, `devel`, `i18n`, a project's own)."""
        tags = self.strings(key) or ()
        for i, tag in enumerate(tags):
            if not re.fullmatch(r"[A-Za-z0-9_.+-]+", tag):
                self.bad(f"{key}[{i}]", f"bad install tag {tag!r}")
        return tags

    def module_globs(self, key: str) -> tuple[str, ...]:
        globs = self.strings(key) or ()
        return tuple(g for i, g in enumerate(globs) if self.module_glob(g, f"{key}[{i}]"))

    def template(self, template: str, key: str, allowed: set[str]) -> None:
        """A package-name template must give a valid name whatever the module is called:
        no '/', no '..', only known placeholders, and no '.' that a placeholder could double."""
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as e:
            self.bad(key, f"bad template {template!r}: {e}")
            return
        ok = True
        for literal, fieldname, spec, conv in parsed:
            if "/" in literal or ".." in literal:
                self.bad(key, f"bad template {template!r}: could produce '/' or '..' in a package name")
                ok = False
            if fieldname is not None and (fieldname not in allowed or spec or conv):
                known = ", ".join("{" + a + "}" for a in sorted(allowed))
                self.bad(
                    key, f"bad template {template!r}: unknown placeholder {{{fieldname}}} (known: {known})"
                )
                ok = False
        # A literal '.' next to a placeholder can make '..' with a module id that starts or ends in '.'.
        flat = re.sub(r"\{[^}]*\}", "\0", template)
        if ".\0" in flat or "\0." in flat:
            self.bad(key, f"bad template {template!r}: a '.' next to a placeholder could produce '..'")
            ok = False
        if ok and not _PACKAGE_NAME.match(re.sub(r"\{[^}]*\}", "x", template)):
            self.bad(key, f"bad template {template!r}: not a valid package name")


_PLACEHOLDER = re.compile(r"\{[a-z-]+\}")


def _validate(data: dict[str, Any], path: Path, extends: tuple[Path, ...]) -> Layout:
    problems: list[str] = []
    top = _Table(data, "", path, problems)
    top.allow(_TOP_KEYS)
    head = top.table("layout")
    head.allow({"name", "description", "extends", "system-dirs"})
    rules = [data.get(k) for k in ("package", "exclude")]
    count = sum(len(r) for r in rules if isinstance(r, list))
    if count > MAX_RULES:
        raise LayoutError([f"{path}: {count} [[package]] and [[exclude]] tables; the limit is {MAX_RULES}"])
    loader = _read_loader(top)
    packages = _read_packages(top, loader.prefix)
    per_module = _read_per_module(top, packages, loader.naming)
    module_files = _read_module_files(top.table("modules"), loader.naming, loader.known_modules)
    exclusions = _read_exclusions(top, loader.prefix)
    meta = _read_meta(top, packages)
    _check_references(top, packages, per_module, meta)
    if problems:
        raise LayoutError(problems)
    # Globs with no placeholder but {prefix}: what an installed prefix holds at those paths. A
    # Valgrind tester's getoff (a [[package]]'s file), a GCC tester's g++-mapper-server (cc1plus's
    # own file): plan said nothing, and check of the install called them strays (exit 1).
    named = [
        *(g for rule in packages for g in rule.files),
        *(g for globs in module_files.values() for g in globs),
        *(per_module.files if per_module is not None else ()),
    ]
    loader = dataclasses.replace(
        loader,
        own_files=module_files,
        named_files=tuple(
            dict.fromkeys(g for g in named if not _PLACEHOLDER.search(g.replace("{prefix}", "")))
        ),
        package_files=tuple(
            dict.fromkeys(
                g
                for rule in packages
                for g in rule.files
                if not _PLACEHOLDER.search(g.replace("{prefix}", ""))
            )
        ),
    )
    return Layout(
        name=head.string("name", path.stem) or path.stem,
        description=head.string("description", "") or "",
        path=path,
        loader=loader,
        packages=packages,
        per_module=per_module,
        exclusions=exclusions,
        meta=meta,
        extends=extends,
        system_dirs=head.file_globs(head.strings("system-dirs") or (), "system-dirs", loader.prefix),
        module_files=module_files,
    )


# ---- [loader] and [modules]: the Loader


_LOADER_KEYS = {
    "prefix", "executables", "bindir", "naming", "types", "search", "stamp",
    "resolution", "depth", "skip-hidden", "relocatable", "bundle", "library", "helpers", "by-type",
    "module-table", "program-types", "program-needs", "entry", "id-separator", "runners",
    "entry-through-links", "descriptor", "skip-dangling", "skip-links", "binding", "skip-names",
    "unresolved",
}  # fmt: skip


def _read_loader(top: _Table) -> Loader:
    t = top.table("loader")
    t.allow(_LOADER_KEYS)
    given = t.string("prefix", "/usr")
    prefix = "/usr" if given is None else given
    # An empty one is no absolute path either (a NUT tester's prefix = "" became /usr in silence).
    if not prefix.startswith("/") or ".." in prefix.split("/"):
        t.bad("prefix", f"must be an absolute path without '..', got {prefix!r}")
        prefix = "/usr"  # the rest is read as for the default, to say what else is wrong
    executables = t.strings("executables")
    library = t.string("library")
    if library is not None:
        t.file_globs((library,), "library", prefix, one=True)
    if not executables and library is None:
        t.bad("executables", "must list at least one glob of the executables that load modules")
    naming = _read_naming(t)
    stamp = _read_stamp(t.table("stamp"))
    modules = top.table("modules")
    known = _read_known(modules, naming)
    resolution = t.string("resolution", "first-found") or "first-found"
    if resolution not in RESOLUTIONS:
        t.bad("resolution", f"must be one of {', '.join(RESOLUTIONS)}, got {resolution!r}")
        resolution = "first-found"
    depth = t.data.get("depth", 0)
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_DEPTH:
        t.bad("depth", f"must be a whole number from 0 to {MAX_DEPTH}, got {depth!r}")
        depth = 0
    bundle = t.string("bundle")
    if bundle is not None and (not bundle or "/" in bundle or bundle in (".", "..")):
        t.bad("bundle", f"must be one directory name next to the executable, got {bundle!r}")
    return Loader(
        prefix=prefix,
        executables=t.file_globs(executables or (), "executables", prefix),
        bindir=t.string("bindir", "bin") or "bin",
        search=_read_search(t),
        naming=naming,
        stamp_symbol=stamp[0],
        stamp_value=stamp[1],
        stamp_optional=stamp[3],
        stamp_version=stamp[2],
        dependencies=_read_dependencies(modules, "dependencies", naming, known),
        recommends=_read_dependencies(modules, "recommends", naming, known),
        module_programs=_read_module_programs(modules, naming, known, prefix),
        known_modules=known,
        resolution=resolution,  # type: ignore[arg-type]
        depth=depth,
        skip_hidden=t.boolean("skip-hidden"),
        skip_names=t.strings("skip-names") or (),
        skip_dangling=t.boolean("skip-dangling"),
        skip_links=t.boolean("skip-links"),
        binding=_read_binding(t),
        unresolved_refused=_read_unresolved(t),
        entry_through_links=t.boolean("entry-through-links"),
        relocatable=t.boolean("relocatable", default=True),
        bundle=bundle,
        library=library,
        helpers=_read_helpers(t),
        type_env=_read_type_env(t),
        type_wheels=_read_type_wheels(t),
        runners=_read_runners(t, naming, known),
        type_env_list=frozenset(
            mtype
            for mtype, rule in t.table("by-type").data.items()
            if isinstance(rule, dict) and rule.get("list") is True
        ),
        type_env_first=frozenset(
            mtype
            for mtype, rule in t.table("by-type").data.items()
            if isinstance(rule, dict) and rule.get("replaces") is False
        ),
        module_table=_read_module_table(t),
        program_types=_read_program_types(t, naming, prefix),
        program_needs=_read_program_needs(t, naming, known),
        entry=_read_entry(t),
        type_entry=_read_type_entry(t),
        descriptor=_read_descriptor(t),
    )


def _read_descriptor(t: _Table) -> str | None:
    """`descriptor`: the file, in the directory of a module's file, that the loader registers
    the module by (libpeas's `{name}.plugin`), with {name}, {type} or {module} standing for the
    module's."""
    value = t.string("descriptor")
    if value is None:
        return None
    bare = re.sub(r"\{(name|type|module)\}", "x", value)
    if not value or "/" in value or value in (".", "..") or "{" in bare or "}" in bare:
        # Not in a directory of its own: those have a search path of their own (an fcitx5
        # tester's addon .conf files, read through XDG_DATA_DIRS and /usr/share, while the code
        # is looked for through FCITX_ADDON_DIRS), which a path under the prefix misjudged.
        t.bad(
            "descriptor",
            "must be a file name (with {name}, {type} or {module}), in the directory of each module's "
            f"file, got {value!r}",
        )
        return None
    return value


def _read_entry(t: _Table) -> tuple[str, ...]:
    """`entry`: a C symbol name, or a list of them of which a module must define one, with
    {name}, {type} or {module} standing for the module's ({NAME}: its name upper-cased, as
    ImageMagick calls RegisterJPEGImage in module jpeg)."""
    raw = t.data.get("entry")
    if raw is None:
        return ()
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else None
    if not names or not all(isinstance(n, str) for n in names):
        t.bad("entry", "must be a C symbol name or a non-empty list of them")
        return ()
    out = []
    for i, name in enumerate(names):
        bare = re.sub(r"\{(name|type|module|NAME)\}", "x", name)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", bare):
            key = "entry" if isinstance(raw, str) else f"entry[{i}]"
            t.bad(
                key,
                f"must be a C symbol name (with {{name}}, {{NAME}}, {{type}} or {{module}}), got {name!r}",
            )
            continue
        out.append(name)
    return tuple(out)


def _read_type_entry(t: _Table) -> dict[str, tuple[str, ...]]:
    """`[loader.by-type.<type>] entry`: that type's own entry symbols (checked as `entry`);
    `[]`: the type's modules define none the loader calls (an Evolution tester's EPlugins,
    loaded through their `.eplug` beside modules that must define `e_module_load`)."""
    out: dict[str, tuple[str, ...]] = {}
    by_type = t.table("by-type")
    for mtype, rule in by_type.data.items():
        if isinstance(rule, dict) and rule.get("entry") == []:
            out[mtype] = ()
        elif isinstance(rule, dict) and "entry" in rule:
            entries = _read_entry(by_type.table(mtype))
            if entries:
                out[mtype] = entries
    return out


def _read_program_needs(t: _Table, naming: Naming, known: frozenset[str] | None) -> tuple[str, ...]:
    """`program-needs`: modules every program loads itself as it starts (rsyslogd's lmnet)."""
    needs = t.strings("program-needs") or ()
    return tuple(
        mid for j, mid in enumerate(needs) if _check_module(t, mid, f"program-needs[{j}]", naming, known)
    )


def _read_program_types(t: _Table, naming: Naming, prefix: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`[loader.program-types]`: executable glob -> the module types those programs ask for."""
    table = t.table("program-types")
    out = []
    for glob, types in table.data.items():
        expanded = expand_prefix(glob, prefix)
        if unknown_placeholder(expanded):
            table.bad(glob, "bad glob: unknown placeholder (only {prefix} is known)")
            continue
        try:
            compile_glob(expanded)
        except GlobError as e:
            table.bad(glob, f"bad glob: {e}")
            continue
        if not isinstance(types, list) or not all(isinstance(ty, str) for ty in types):
            table.bad(glob, "must be a list of module types (an empty list: the program loads none)")
            continue
        # A type, or a glob of module ids (`mail-driver_*`: some modules of a type).
        unknown = [ty for ty in types if ty not in naming.types and naming.split_id(ty) is None]
        if unknown:
            known = ", ".join(naming.types) or "none declared"
            table.bad(
                glob,
                f"{', '.join(map(repr, unknown))}: not one of loader.types ({known}), nor a module id "
                "glob starting with one",
            )
            continue
        out.append((glob, tuple(types)))
    return tuple(out)


def _read_module_table(t: _Table) -> ModuleTable | None:
    kind = t.string("module-table")
    if kind is not None and kind not in MODULE_TABLES:
        t.bad("module-table", f"must be one of {', '.join(MODULE_TABLES)}, got {kind!r}")
        return None
    return kind


def _read_helpers(t: _Table) -> tuple[Helper, ...]:
    out = []
    for h in t.tables("helpers", "[[loader.helpers]]"):
        h.allow({"name", "relocated", "absolute", "env", "anchor"})
        name = h.string("name")
        if not name or "/" in name or name in (".", ".."):
            h.bad("name", f"must be a program's file name, got {name!r}")
            continue
        relocated, absolute, anchor = h.string("relocated"), h.string("absolute"), h.string("anchor")
        if (relocated is None) == (absolute is None):
            h.bad(None, "needs exactly one of relocated, absolute")
            continue
        if relocated is not None and (relocated.startswith("/") or _odd_segments(relocated)):
            h.bad(
                "relocated",
                f"must be a directory relative to the prefix, without '.', '..' or '//', got {relocated!r}",
            )
        if absolute is not None and (not absolute.startswith("/") or _odd_segments(absolute)):
            h.bad("absolute", f"must be an absolute directory without '.', '..' or '//', got {absolute!r}")
        for key, where in (("absolute", absolute), ("relocated", relocated)):
            if where is not None and where.rstrip("/").rpartition("/")[2] == name:
                # The helper's own path, not its directory (a CUPS tester's
                # "/usr/lib/cups/daemon/cups-exec": "missing-helper .../cups-exec/cups-exec").
                h.bad(
                    key,
                    f"names the helper itself ({where!r}); give the directory it is in "
                    f"({where.rstrip('/').rpartition('/')[0] or '/'!r})",
                )
        if anchor is not None and (
            relocated is None or anchor.startswith("/") or _odd_segments(anchor) or not anchor
        ):
            # As a relocated search location's (a GStreamer tester's gst-plugin-scanner, found
            # from libgstreamer's directory as the plug-ins are).
            h.bad(
                "anchor", f"must be a library's path relative to the prefix, with relocated, got {anchor!r}"
            )
        env = _helper_variables(h)
        out.append(Helper(name=name, relocated=relocated, absolute=absolute, env=env, anchor=anchor))
    return tuple(out)


def _helper_variables(h: _Table) -> tuple[str, ...]:
    """`env`: the variable naming the helper program itself, or a list of them, the first set
    winning (GStreamer's GST_PLUGIN_SCANNER_1_0, then GST_PLUGIN_SCANNER)."""
    raw = h.data.get("env")
    if raw is None:
        return ()
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else None
    if not names or not all(isinstance(n, str) and _ENV_NAME.match(n) for n in names):
        h.bad("env", f"must be an environment variable name or a list of them, got {raw!r}")
        return ()
    return tuple(names)


def _naming_pattern(t: _Table, key: str, pattern: str, types: tuple[str, ...]) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError as e:
        t.bad(key, f"bad pattern {pattern!r}: {e}")
        return
    if "name" not in fields or any(f not in ("type", "name") for f in fields):
        # {name} again stands for the same text (GIMP's `{name}/{name}`), as does {type}.
        t.bad(key, f"bad pattern {pattern!r}: needs {{name}}, may have {{type}}, nothing else")
    if pattern.startswith("/") or ".." in pattern:
        t.bad(key, f"bad pattern {pattern!r}: must be relative, without '..'")
    if any(c in pattern for c in "*?["):
        # A Qt tester's `lib{name}.so.*` matched only a file named so, in silence.
        t.bad(
            key,
            f"bad pattern {pattern!r}: no wildcards ('*', '?', '['): a pattern is the file name with "
            "placeholders; list each spelling the loader takes as another pattern",
        )
    if "type" in fields and not types:
        t.bad("types", "the naming has {type} but no module types are declared")


def _read_naming(t: _Table) -> Naming:
    types = t.strings("types") or ()
    # The layout's own shape for the hint below (a terminfo tester's `{type}/{name}` was offered
    # `A/{name}.so`, and the type `a` it already had).
    raw_naming = t.data.get("naming")
    spelled = (
        [raw_naming] if isinstance(raw_naming, str) else raw_naming if isinstance(raw_naming, list) else []
    )
    shape = next((p for p in spelled if isinstance(p, str) and "{type}" in p), "{type}/{name}.so")
    for i, ty in enumerate(types):
        if not _TYPE_NAME.match(ty):
            # A directory the loader spells otherwise (Audacious's Input/) is a type's own
            # pattern: say how, rather than leave an Audacious tester to find it.
            own = ty.lower() if ty.lower() not in types else f"{ty.lower()}-upper"
            hint = (
                f"; for a directory spelled {ty!r}, [loader.by-type.{own}] naming = "
                f'"{shape.replace("{type}", ty)}"'
                if _TYPE_NAME.match(ty.lower())
                else ""
            )
            t.bad(f"types[{i}]", f"bad module type {ty!r}: lowercase letters, digits, '_' and '-'{hint}")
    if twice := sorted({ty for ty in types if types.count(ty) > 1}):
        t.bad("types", f"lists {', '.join(map(repr, twice))} twice")
    raw = t.data.get("naming")
    if raw is None:
        by_type = _read_by_type(t, types)
        if types and all(ty in by_type for ty in types):
            # Every type named by its own (GIMP's plug-ins and modules): no top-level naming.
            return Naming("{type}/{name}", tuple(types), (), by_type, id_separator=_id_separator(t))
        t.bad("naming", "missing: how module files are named, e.g. '{type}-{name}.so'")
        # A stand-in with {type} where there are types, so that what depends on the naming
        # (per-module's `{type}`) is not called wrong too (a Janus tester's `namng`).
        return Naming("{type}/{name}.so" if types else "{name}.so", tuple(types))
    if isinstance(raw, str):
        patterns: tuple[str, ...] = (raw,)
        _naming_pattern(t, "naming", raw, types)
    elif isinstance(raw, list) and raw and all(isinstance(p, str) for p in raw):
        patterns = tuple(raw)
        for i, p in enumerate(patterns):
            _naming_pattern(t, f"naming[{i}]", p, types)
        if len({"{type}" in p for p in patterns}) > 1:
            t.bad("naming", "either every pattern has {type} or none has")
    else:
        t.bad("naming", "must be a pattern or a non-empty list of patterns")
        return Naming("{name}.so", tuple(types))
    return Naming(
        patterns[0], tuple(types), patterns[1:], _read_by_type(t, types), id_separator=_id_separator(t)
    )


def _id_separator(t: _Table) -> str:
    """`id-separator`: between a module's type and its name in its id."""
    sep = t.string("id-separator", "-")
    if sep not in ("-", "_", ".", ""):
        t.bad(
            "id-separator",
            f"must be '-', '_', '.' or '' (between a module's type and name in its id), got {sep!r}",
        )
        sep = "-"
    return sep or ""


def _read_by_type(t: _Table, types: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """`[loader.by-type.<type>]`: a type's own file names (and, read by `_read_type_env`, its
    own directory variable)."""
    by_type: dict[str, tuple[str, ...]] = {}
    table = t.table("by-type")
    for mtype in table.data:
        rule = table.table(mtype)
        rule.allow({"naming", "env", "entry", "list", "wheels", "replaces"})
        if mtype not in types:
            rule.bad(None, f"{mtype!r} is not one of loader.types ({', '.join(types)})")
            continue
        raw = rule.data.get("naming")
        patterns = (raw,) if isinstance(raw, str) else tuple(raw) if isinstance(raw, list) else ()
        if raw is not None and (not patterns or not all(isinstance(p, str) for p in patterns)):
            rule.bad("naming", "must be a pattern or a non-empty list of patterns")
            continue
        for i, p in enumerate(patterns):
            key = "naming" if isinstance(raw, str) else f"naming[{i}]"
            if "{type}" in p:
                rule.bad(key, f"bad pattern {p!r}: the type is known here, leave {{type}} out")
            _naming_pattern(rule, key, p, types)
        if patterns:
            by_type[mtype] = patterns
    return by_type


def _read_type_env(t: _Table) -> dict[str, str]:
    out = {}
    for mtype, rule in t.table("by-type").data.items():
        for key in ("list", "replaces"):
            if isinstance(rule, dict) and not isinstance(rule.get(key, False), bool):
                t.bad(f"by-type.{mtype}.{key}", f"must be true or false, got {rule[key]!r}")
        if isinstance(rule, dict) and "replaces" in rule and "env" not in rule:
            t.bad(f"by-type.{mtype}.replaces", "needs `env`: whether that variable replaces the search")
        env = rule.get("env") if isinstance(rule, dict) else None
        if env is None:
            continue
        if not isinstance(env, str) or not _ENV_NAME.match(env):
            t.bad(f"by-type.{mtype}.env", f"bad environment variable name {env!r}")
            continue
        out[mtype] = env
    return out


def _read_runners(t: _Table, naming: Naming, known: frozenset[str] | None) -> dict[str, str]:
    """`[loader.runners]`: module file-name glob -> the module id that runs such modules, or ""
    where the program itself reads them (Knot Resolver's Lua modules, GNOME Shell's extensions)."""
    table = t.table("runners")
    out = {}
    for glob, runner in table.data.items():
        if "/" in glob or not glob:
            table.bad(glob, "must be a glob of file names (no '/'): the module files that module runs")
        elif not isinstance(runner, str):
            table.bad(glob, 'must be the module id of the module that runs them, or "" (the program itself)')
        elif runner == "" or _check_module(table, runner, glob, naming, known):
            out[glob] = runner
    return out


def _read_type_wheels(t: _Table) -> dict[str, str]:
    """`[loader.by-type.<type>] wheels`: where, relative to the prefix, wheels put that type's
    modules for its own variable to name (ImageMagick's coders, found once installed only
    through MAGICK_CODER_MODULE_PATH)."""
    out = {}
    by_type = t.table("by-type")
    for mtype, rule in by_type.data.items():
        if not isinstance(rule, dict) or "wheels" not in rule:
            continue
        table = by_type.table(mtype)
        if "env" not in rule:
            table.bad("wheels", "needs `env`: the variable the user sets to that directory")
            continue
        where = _relative_dir(table, "wheels")
        if where is not None:
            out[mtype] = where
    return out


def _env_names(loc: _Table) -> tuple[str, ...]:
    raw = loc.data.get("env")
    names = (raw,) if isinstance(raw, str) else tuple(raw) if isinstance(raw, list) else ()
    if not names or not all(isinstance(n, str) for n in names):
        loc.bad("env", "must be a variable name or a non-empty list of them (the first one set is used)")
        return ()
    for n in names:
        if not _ENV_NAME.match(n):
            loc.bad("env", f"bad environment variable name {n!r}")
    return names


def _read_search(t: _Table) -> tuple[SearchLocation, ...]:
    raw = t.data.get("search", [])
    if not isinstance(raw, list) or not raw:
        t.bad("search", "must be a non-empty array of tables ([[loader.search]])")
        return ()
    out = []
    for loc in t.tables("search", "[[loader.search]]"):
        loc.allow(
            {
                "env",
                "relocated",
                "absolute",
                "optional",
                "list",
                "replaces",
                "anchor",
                "wheels",
                "under",
                "ignore-empty",
            }
        )
        kinds = [k for k in ("env", "relocated", "absolute") if k in loc.data]
        if len(kinds) != 1:
            loc.bad(None, "needs exactly one of env, relocated, absolute")
            continue
        kind: SearchKind = kinds[0]  # type: ignore[assignment]
        only = {"list": "env", "anchor": "relocated", "wheels": "env", "under": "env", "ignore-empty": "env"}
        for key, owner in only.items():
            if key in loc.data and kind != owner:
                loc.bad(key, f"only applies to {owner} locations")
        if kind == "env":
            names = _env_names(loc)
            if not names:
                continue
            replaces = _replaces(loc)
            out.append(
                SearchLocation(
                    "env",
                    names[0],
                    loc.boolean("optional"),
                    fallbacks=names[1:],
                    path_list=loc.boolean("list"),
                    replaces_rest=replaces == "rest",
                    replaces_next=replaces == "next",
                    wheel_dir=_relative_dir(loc, "wheels"),
                    subdir=_relative_dir(loc, "under"),
                    more_subdirs=_more_under(loc),
                    ignore_empty=loc.boolean("ignore-empty"),
                )
            )
            continue
        found = _read_dir_location(loc, kind)
        if found is not None:
            out.append(found)
    return tuple(out)


def _replaces(loc: _Table) -> str | None:
    """An env location's `replaces`: true (every location after it, "rest"), "next" (the one
    right after it: the default it stands in for), or false/absent (None)."""
    raw = loc.data.get("replaces", False)
    if raw == "next":
        return "next"
    if not isinstance(raw, bool):
        loc.bad("replaces", f'must be true, false or "next" (the location right after it), got {raw!r}')
        return None
    return "rest" if raw else None


def _odd_segments(path: str) -> bool:
    """A path with a '.', '..' or empty ('//') segment, past its leading and trailing '/': an
    evolution-data-server re-tester's lib//x ended plan in a GlobError traceback."""
    return bool({".", "..", ""} & set(path.strip("/").split("/")))


def _more_under(loc: _Table) -> tuple[str, ...]:
    """`under` as a list: the subdirectories after the first, "." the directory itself (GTK_PATH:
    each entry at 3.0.0, then itself, before the next entry)."""
    raw = loc.data.get("under")
    if not isinstance(raw, list):
        return ()
    out = []
    for i, sub in enumerate(raw[1:], start=1):
        if not isinstance(sub, str) or sub.startswith("/") or (sub.strip("/") != "." and _odd_segments(sub)):
            loc.bad(
                f"under[{i}]",
                f"must be a directory relative to each directory the variable names, or '.', got {sub!r}",
            )
            continue
        out.append("" if sub.strip("/") == "." else sub.strip("/"))
    return tuple(out)


def _relative_dir(loc: _Table, key: str) -> str | None:
    """An env location's (or a type's own variable's) `wheels` (the directory, relative to the
    prefix, where wheels put the modules this variable is to name once installed) or `under`
    (the subdirectory searched in each directory the variable names; the first of a list)."""
    raw = loc.data.get(key)
    if key == "under" and isinstance(raw, list):
        if not raw or not isinstance(raw[0], str):
            loc.bad(key, "must be a directory or a non-empty list of them")
            return None
        value: str | None = raw[0]
    else:
        value = loc.string(key)
    if key == "wheels" and value is not None and value.strip("/") == ".":
        # The prefix itself, for a variable that names install prefixes and searches `under`
        # each (an evolution-data-server tester's EDS_EXTRA_PREFIXES: `.` passed here, then
        # ended the plan in a GlobError traceback).
        if "under" not in loc.data:
            loc.bad(key, "'.' (the prefix itself) needs `under`: where below it the modules are")
            return None
        return ""
    if key == "under" and isinstance(raw, list) and value is not None and value.strip("/") == ".":
        # The directory itself first, then the others (a GDAL tester's `[".", "3.6"]`: wheels
        # put the plug-ins in the directory the variable names, not in 3.6/).
        return ""
    if value is not None and (value.startswith("/") or not value.strip("/") or _odd_segments(value)):
        where = "the prefix" if key == "wheels" else "each directory the variable names"
        # '.' is the prefix itself with `under` (a Traffic Server tester read it as forbidden).
        dot = "'.' only with `under`" if key == "wheels" else "'.'"
        loc.bad(key, f"must be a directory relative to {where}, without {dot}, '..' or '//', got {value!r}")
        return None
    return value.strip("/") if value is not None else None


def _read_dir_location(loc: _Table, kind: SearchKind) -> SearchLocation | None:
    """A `relocated` or `absolute` location."""
    value = loc.string(kind)
    if value is None:
        return None
    if any(c in value for c in "*?["):
        # One directory a location: plan matched `lib/*/kritaplugins` as a glob, and check looked
        # for a directory of that name (a Krita re-tester: "/usr/lib/kritaplugins does not exist").
        loc.bad(kind, f"{value!r}: no wildcards: a location is one directory (give one for each)")
    elif kind == "relocated" and (value.startswith("/") or _odd_segments(value) or not value):
        loc.bad(
            "relocated",
            f"must be a directory relative to the prefix, without '.', '..' or '//', got {value!r}",
        )
    elif kind == "absolute":
        allowed = (None, "pkgversion", "home", "xdg_data_home", "xdg_config_home")
        known = ", ".join(f"{{{a}}}" for a in allowed if a)
        try:
            fields = list(string.Formatter().parse(value))
        except ValueError as e:  # "/opt/{foo": a re-tester's traceback
            loc.bad("absolute", f"bad placeholder in {value!r}: {e} (known: {known})")
            return None
        unknown = [f for _, f, _, _ in fields if f not in allowed]
        shaped = [
            f"{{{f}:{spec}}}" if spec else f"{{{f}!{conv}}}" for _, f, spec, conv in fields if spec or conv
        ]
        # The unknown placeholder first: an OBS tester's {xdg_config_home}/... was told it
        # was not absolute, or had '..'.
        if unknown or shaped:
            shown = f"{{{unknown[0]}}}" if unknown else shaped[0]
            loc.bad("absolute", f"unknown placeholder {shown} (known: {known})")
        elif not value.startswith(("/", "{home}", "{xdg_data_home}", "{xdg_config_home}")) or _odd_segments(
            value
        ):
            loc.bad("absolute", f"must be an absolute directory without '.', '..' or '//', got {value!r}")
    anchor = loc.string("anchor")
    if anchor is not None and (anchor.startswith("/") or _odd_segments(anchor) or not anchor):
        loc.bad("anchor", f"must be a library's path relative to the prefix, got {anchor!r}")
    return SearchLocation(
        kind, value, loc.boolean("optional"), anchor=anchor, replaces_rest=loc.boolean("replaces")
    )


def _read_binding(t: _Table) -> Literal["now", "lazy"]:
    """`[loader] binding`: how the loader opens modules, dlopen's RTLD_NOW or RTLD_LAZY."""
    binding = t.string("binding", "now") or "now"
    if binding not in ("now", "lazy"):
        t.bad("binding", f'must be "now" (RTLD_NOW) or "lazy" (RTLD_LAZY), got {binding!r}')
        return "now"
    return "lazy" if binding == "lazy" else "now"


def _read_unresolved(t: _Table) -> bool:
    """`[loader] unresolved`: "refused" where nothing but the program, its libraries and the
    modules (with theirs) can define what a module binds, so check may call a symbol none of
    them defines a failure; "unknown" (the default) where the process may hold more."""
    value = t.string("unresolved", "unknown") or "unknown"
    if value not in ("refused", "unknown"):
        t.bad("unresolved", f'must be "refused" or "unknown", got {value!r}')
    return value == "refused"


def _read_stamp(t: _Table) -> tuple[str | None, str | None, str | None, bool]:
    """(symbol glob, value glob, version node glob, optional) of `[loader.stamp]`."""
    t.allow({"symbol", "value", "version", "optional"})
    stamp = t.string("symbol")
    value = t.string("value")
    optional = t.boolean("optional")
    if optional and value is None:
        # A module without a stamp name is read as one of another build: which stamp names it
        # does export is not read where it is judged.
        t.bad(
            "optional", "only with `value`: a module may go without the symbol of a stamp compared by value"
        )
    read = _read_stamp_symbols(t, stamp, value)
    return read[0], read[1], _read_stamp_version(t), optional


def _read_stamp_symbols(t: _Table, stamp: str | None, value: str | None) -> tuple[str | None, str | None]:
    """(symbol glob, value glob) of `[loader.stamp]`, each checked."""
    if value is not None:
        # Compared by value (pppd's `pppd_version`, WeeChat's `weechat_plugin_api_version`):
        # the symbol is one, and its string is found in the program by the glob's first
        # character, which a wildcard would make every position of its data.
        if stamp is None:
            t.bad("value", "needs `symbol`: the data symbol each module defines, whose string it is")
        elif not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", stamp):
            t.bad("symbol", f"bad symbol {stamp!r}: with `value`, one C identifier, no '*'")
        if not re.fullmatch(r"[\x20-\x7e]{1,128}", value) or value[0] in "*?":
            t.bad(
                "value",
                f"bad value glob {value!r}: printable ASCII starting with a character or a [class], "
                "with '*' and '?' after it, e.g. '2.4.*' or '20[0-9][0-9]*'",
            )
        return stamp, value
    if stamp is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\*?", stamp):
        t.bad("symbol", f"bad symbol glob {stamp!r}: a C identifier, optionally ending in '*'")
    return stamp, None


def _read_stamp_version(t: _Table) -> str | None:
    version = t.string("version")
    # `*` anywhere: a Samba tester's build-specific part is inside the name (SAMBA_*_DEBIAN_SAMBA4).
    if version is not None and (
        not re.fullmatch(r"[A-Za-z0-9_.*?]+", version) or not re.search(r"[A-Za-z]", version)
    ):
        t.bad(
            "version",
            f"bad version node glob {version!r}: letters, digits, '_' and '.', with '*' or '?' for any "
            "part, e.g. 'PROG_PRIVATE_*' or 'SAMBA_*_DEBIAN_SAMBA4'",
        )
    return version


def _check_module(
    t: _Table, mid: str, key: str, naming: Naming, known: Collection[str] | None, *, glob: bool = False
) -> bool:
    if glob and is_module_glob(mid):
        return _check_module_glob(t, mid, key, naming)
    if not _MODULE_ID.match(mid):
        t.bad(key, f"bad module id {mid!r}")
        return False
    if naming.split_id(mid) is None:
        t.bad(key, f"unknown module {mid!r}: its type is not one of loader.types ({', '.join(naming.types)})")
        return False
    if known is not None and mid not in known:
        t.bad(key, f"unknown module {mid!r}: not in modules.known")
        return False
    return True


def _check_module_glob(t: _Table, mid: str, key: str, naming: Naming) -> bool:
    """A dependency key that is a glob (`storage-backend-*`) gives every module it matches its
    dependencies; its type prefix must still be a declared type, or a glob of some (a Gutenprint
    tester's `*` and `{print,color}-*` for files of every module were refused): a literal prefix
    no type is, is mistyped."""
    if not re.fullmatch(r"[^\s/]+", mid):
        t.bad(key, f"bad module glob {mid!r}")
        return False
    if not naming.typed or naming.split_id(mid) is not None or mid.startswith("*"):
        return True
    head = mid.split(naming.id_separator, 1)[0]
    if is_module_glob(head) and any(module_glob_matches(head, mtype) for mtype in naming.types):
        return True
    t.bad(key, f"bad module glob {mid!r}: it must start with one of loader.types ({', '.join(naming.types)})")
    return False


def _read_known(t: _Table, naming: Naming) -> frozenset[str] | None:
    t.allow({"known", "dependencies", "recommends", "files", "programs"})
    known = t.strings("known")
    for i, k in enumerate(known or ()):
        _check_module(t, k, f"known[{i}]", naming, known)
    return frozenset(known) if known is not None else None


def _read_dependencies(
    t: _Table, key: str, naming: Naming, known: frozenset[str] | None
) -> dict[str, tuple[str, ...]]:
    """`[modules.dependencies]` (loaded first; a cycle is an error) or `[modules.recommends]`."""
    deps_t = t.table(key)
    deps: dict[str, tuple[str, ...]] = {}
    for mid, needs in deps_t.data.items():
        if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
            deps_t.bad(mid, "must be a list of module ids")
            continue
        ok = _check_module(deps_t, mid, mid, naming, known, glob=True)
        for j, n in enumerate(needs):
            ok = _check_module(deps_t, n, f"{mid}[{j}]", naming, known) and ok
            if n == mid:
                deps_t.bad(f"{mid}[{j}]", f"module {mid!r} depends on itself")
                ok = False
        if ok:
            deps[mid] = tuple(needs)
    if key == "dependencies":
        cycle = _find_cycle(deps)
        if cycle:
            t.bad(key, f"dependency cycle: {' -> '.join(cycle)}")
        elif (depth := _longest_chain(deps)) > MAX_DEPENDENCY_CHAIN:
            t.bad(key, f"a dependency chain of {depth} modules; the limit is {MAX_DEPENDENCY_CHAIN}")
    return dict(sorted(deps.items()))


def _read_module_programs(
    t: _Table, naming: Naming, known: frozenset[str] | None, prefix: str
) -> dict[str, tuple[str, ...]]:
    """`[modules.programs]`: module id (or glob) -> the only programs (globs, with {prefix})
    that load it (Dovecot's `<name>_binary_dependency`: the LDA's sieve plugin in
    dovecot-lda and lmtp alone)."""
    table = t.table("programs")
    out: dict[str, tuple[str, ...]] = {}
    for mid, programs in table.data.items():
        if not isinstance(programs, list) or not all(isinstance(g, str) for g in programs):
            table.bad(mid, "must be a list of program globs (an empty list: no program loads it)")
            continue
        if _check_module(table, mid, mid, naming, known, glob=True):
            out[mid] = table.file_globs(tuple(programs), mid, prefix)
    return dict(sorted(out.items()))


def _longest_chain(deps: Mapping[str, tuple[str, ...]]) -> int:
    """The number of modules in the longest dependency chain (no cycles), found iteratively."""
    length: dict[str, int] = {}
    for start in deps:
        stack = [start]
        while stack:
            node = stack[-1]
            pending = [n for n in deps.get(node, ()) if n not in length]
            if pending:
                stack.extend(pending)
                continue
            length[node] = 1 + max((length[n] for n in deps.get(node, ())), default=0)
            stack.pop()
    return max(length.values(), default=0)


def _find_cycle(deps: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """A dependency cycle, if any, found without recursion (chains may be long)."""
    state: dict[str, int] = {}
    for start in sorted(deps):
        if start in state:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path = [start]
        state[start] = 1
        while stack:
            node, i = stack[-1]
            needs = deps.get(node, ())
            if i == len(needs):
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            stack[-1] = (node, i + 1)
            n = needs[i]
            if state.get(n) == 1:
                return [*path[path.index(n) :], n]
            if n not in state:
                state[n] = 1
                stack.append((n, 0))
                path.append(n)
    return None


# ---- [[package]], [per-module], [[exclude]], [meta]: the policy


_PACKAGE_KEYS = {
    "name", "kind", "files", "modules", "tags", "rest", "rest-modules", "requires", "summary", "pins",
    "depends", "dirs", "required", "recommends", "optional",
}  # fmt: skip


def _pins(p: _Table, requires: tuple[str, ...] | None) -> dict[str, PinKind]:
    """A [[package]]'s `pins`: how each required sibling is pinned in distro lists."""
    pins: dict[str, PinKind] = {}
    pins_t = p.table("pins")
    for dep, pin in pins_t.data.items():
        if pin not in PIN_KINDS:
            pins_t.bad(dep, f"must be one of {', '.join(PIN_KINDS)}, got {pin!r}")
        elif dep not in (requires or ()):
            pins_t.bad(dep, f"pins {dep!r}, which is not in this package's requires")
        else:
            pins[dep] = pin
    return dict(sorted(pins.items()))


def _read_packages(top: _Table, prefix: str) -> tuple[PackageRule, ...]:
    packages: list[PackageRule] = []
    for i, p in enumerate(top.tables("package", "[[package]]")):
        p.allow(_PACKAGE_KEYS)
        name = p.string("name")
        if name is None:
            p.bad("name", "missing")
            continue
        if not _PACKAGE_NAME.match(name):
            p.bad("name", f"bad package name {name!r}")
        kind = p.string("kind", "core")
        if kind not in ("core", "group"):
            p.bad("kind", f"must be 'core' or 'group', got {kind!r}")
            kind = "core"
        files = p.file_globs(p.strings("files") or (), "files", prefix)
        modules = p.module_globs("modules")
        tags = p.install_tags("tags")
        rest = p.boolean("rest")
        rest_modules = p.boolean("rest-modules")
        if rest_modules and kind != "core":
            p.bad(
                "rest-modules",
                "only a core package takes it (a group takes the other modules with rest = true)",
            )
        dirs = _package_dirs(p, prefix)
        if not (files or modules or tags or rest or rest_modules or dirs):
            p.bad(None, f"package {name!r} claims nothing: give files, modules, tags or rest = true")
        requires, alternatives = _alternatives(p, p.strings("requires"))
        required = p.boolean("required", default=True)
        if not required and kind != "core":
            p.bad("required", "only a core package can be left out of what modules require")
        pins = _pins(p, requires)
        packages.append(
            PackageRule(
                name=name,
                kind=kind,  # type: ignore[arg-type]
                files=files,
                modules=modules,
                tags=tags,
                rest=rest,
                requires=requires,
                summary=p.string("summary", "") or "",
                index=i,
                pins=pins,
                alternatives=alternatives,
                depends=_depends(p),
                dirs=dirs,
                required=required,
                rest_modules=rest_modules,
                recommends=p.module_globs("recommends"),
                optional=p.boolean("optional"),
            )
        )
    counts = Counter(p.name for p in packages)
    for n in sorted(n for n, k in counts.items() if k > 1):
        top.bad("package", f"package name {n!r} is defined twice")
    for kind in ("core", "group"):
        rest_pkgs = [p.name for p in packages if p.rest and p.kind == kind]
        if len(rest_pkgs) > 1:
            what = "non-module files" if kind == "core" else "modules"
            top.bad(
                "package",
                f"rest = true on several {kind} packages ({', '.join(rest_pkgs)}): "
                f"only one can take the other {what}",
            )
    takers = [p.name for p in packages if p.rest_modules or (p.rest and p.kind == "group")]
    if len(takers) > 1:
        top.bad(
            "package",
            f"{', '.join(takers)} would each take the modules no rule claims (rest-modules, or a group's "
            "rest = true): only one can",
        )
    return tuple(packages)


def _package_dirs(t: _Table, prefix: str) -> tuple[str, ...]:
    """`dirs`: directories (not globs) relative to the build root, `{prefix}` allowed; a trailing
    '/' is dropped. Whether each is a directory of the build is the plan's to check."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, d in enumerate(t.strings("dirs") or ()):
        key = f"dirs[{i}]"
        path = expand_prefix(d.rstrip("/") if d.strip("/") else d, prefix)
        if "{" in path or "}" in path:
            t.bad(key, f"bad directory {d!r}: unknown placeholder (only {{prefix}} is known)")
        elif not path or path.startswith("/"):
            t.bad(key, f"bad directory {d!r}: must be relative to the build root (e.g. '{{prefix}}/lib/x')")
        elif any(part in ("", ".", "..") for part in path.split("/")):
            t.bad(key, f"bad directory {d!r}: '.', '..' or an empty path segment")
        elif any(c in path for c in "*?[]"):
            t.bad(key, f"bad directory {d!r}: a path, not a glob (no '*', '?', '[' or ']')")
        elif any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
            t.bad(key, f"bad directory {d!r}: control character in the path")
        elif path in seen:
            t.bad(key, f"directory {d!r} is listed twice (also dirs[{seen[path]}])")
        else:
            seen[path] = i
            out.append(d.rstrip("/"))
    return tuple(out)


_RELATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*(?::[a-z0-9]+)?(?: \((?:<<|<=|=|>=|>>) [^()\s]+\))?\Z")


def _alternatives(
    t: _Table, requires: tuple[str, ...] | None
) -> tuple[tuple[str, ...] | None, dict[str, tuple[str, ...]]]:
    """`requires` entries may be `a | b | c`: the first is the sibling (what wheels and the plan
    require), the rest the packages that can stand in for it in distro lists."""
    if requires is None:
        return None, {}
    first: list[str] = []
    alternatives: dict[str, tuple[str, ...]] = {}
    for j, entry in enumerate(requires):
        names = [n.strip() for n in entry.split("|")]
        if not all(_PACKAGE_NAME.match(n) for n in names):
            t.bad(f"requires[{j}]", f"bad requirement {entry!r}: package names separated by '|'")
            continue
        first.append(names[0])
        if len(names) > 1:
            alternatives[names[0]] = tuple(names[1:])
    return tuple(first), alternatives


def _depends(t: _Table) -> tuple[str, ...]:
    """`depends`: requirements outside the split, each `name`, `name (op version)` or such
    alternatives joined by ` | ` (Debian's relation syntax, which RPM lists can also carry)."""
    out = []
    for j, entry in enumerate(t.strings("depends") or ()):
        if "\n" in entry or not all(_RELATION.match(a.strip()) for a in entry.split("|")):
            t.bad(f"depends[{j}]", f"bad requirement {entry!r}: e.g. 'adduser', 'libfoo1 (>= 1.2) | libbar1'")
            continue
        out.append(" | ".join(a.strip() for a in entry.split("|")))
    return tuple(out)


def _read_per_module(top: _Table, packages: tuple[PackageRule, ...], naming: Naming) -> PerModule | None:
    if "per-module" not in top.data:
        return None
    if not isinstance(top.data["per-module"], dict):
        top.bad("per-module", "must be a table")
        return None
    t = top.table("per-module")
    t.allow({"name", "renames", "requires", "summary", "files", "depends", "normalize"})
    template = t.string("name")
    if template is None:
        t.bad("name", "missing: a template such as 'qemu-{module}'")
        template = "x"
    _name_template(t, template, "name", naming)
    renames_t = t.table("renames")
    renames: dict[str, str] = {}
    for glob, tmpl in renames_t.data.items():
        if not isinstance(tmpl, str):
            renames_t.bad(glob, "must be a template string")
            continue
        renames_t.module_glob(glob, glob)
        _name_template(renames_t, tmpl, glob, naming, star=True)
        if "{*}" in tmpl and "*" not in glob:
            renames_t.bad(glob, f"template uses {{*}} but the glob {glob!r} has no '*'")
        renames[glob] = tmpl
    if any(p.rest and p.kind == "group" for p in packages):
        top.bad("per-module", "a group with rest = true already takes every other module")
    if any(p.rest_modules for p in packages):
        top.bad("per-module", "a core package with rest-modules = true already takes every other module")
    requires, alternatives = _alternatives(t, t.strings("requires"))
    return PerModule(
        name=template,
        renames=renames,
        requires=requires,
        alternatives=alternatives,
        summary=_summary_template(t),
        files=_per_module_files(t),
        depends=_depends(t),
        normalize=t.boolean("normalize"),
    )


def _per_module_files(t: _Table, key: str = "files") -> tuple[str, ...]:
    """The globs of `key` (`[per-module] files`, or one module's in `[modules.files]`), with
    {prefix} and the module's placeholders; each bad one is reported."""
    out = []
    keys = ("{package}", "{module}", "{type}", "{name}", "{dashed-name}", "{dashed-module}")
    known = f"(known: {{prefix}}, {', '.join(keys)})"
    for i, g in enumerate(t.strings(key) or ()):
        filled = g
        for k in keys:
            filled = filled.replace(k, "x")
        expanded = expand_prefix(filled, "/usr")
        if unknown_placeholder(expanded):
            t.bad(f"{key}[{i}]", f"bad glob {g!r}: unknown placeholder {known}")
            continue
        try:
            compile_glob(expanded)
        except GlobError as e:
            t.bad(f"{key}[{i}]", f"bad glob {g!r}: {e}")
            continue
        out.append(g)
    return tuple(out)


def _read_module_files(t: _Table, naming: Naming, known: frozenset[str] | None) -> dict[str, tuple[str, ...]]:
    """`[modules.files]`: module id or glob -> the globs of that module's other files."""
    files_t = t.table("files")
    out: dict[str, tuple[str, ...]] = {}
    for mid in files_t.data:
        if _check_module(files_t, mid, mid, naming, known, glob=True):
            out[mid] = _per_module_files(files_t, mid)
    return out


def _name_template(t: _Table, template: str, key: str, naming: Naming, *, star: bool = False) -> None:
    allowed = {"module", "type", "name", "dashed-module", "dashed-name"} | ({"*"} if star else set())
    if "{type}" in template and not naming.typed:
        # It would always be empty: `x-{type}-{name}` gives `x--name`.
        t.bad(key, f"bad template {template!r}: {{type}} is always empty, loader.naming has no {{type}}")
    t.template(template, key, allowed)


def _summary_template(t: _Table) -> str:
    """`[per-module] summary`, its placeholders those `name` takes (a Varnish tester's
    `{bogus}` went into every wheel's Summary as written)."""
    summary = t.string("summary", "") or ""
    allowed = {"module", "type", "name", "dashed-module", "dashed-name"}
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(summary) if f is not None]
    except ValueError as e:
        t.bad("summary", f"bad template {summary!r}: {e}")
        return summary
    for f in fields:
        if f not in allowed:
            known = ", ".join("{" + a + "}" for a in sorted(allowed))
            t.bad("summary", f"bad template {summary!r}: unknown placeholder {{{f}}} (known: {known})")
    return summary


def _read_exclusions(top: _Table, prefix: str) -> tuple[Exclusion, ...]:
    out = []
    for i, ex in enumerate(top.tables("exclude", "[[exclude]]")):
        ex.allow({"reason", "files", "modules", "tags", "optional"})
        reason = ex.string("reason")
        if not reason:
            ex.bad("reason", "missing: say why these files are left out")
        files = ex.file_globs(ex.strings("files") or (), "files", prefix)
        modules = ex.module_globs("modules")
        tags = ex.install_tags("tags")
        if not files and not modules and not tags:
            ex.bad(None, "excludes nothing: give files, modules or tags")
        out.append(
            Exclusion(
                reason=reason or "",
                files=files,
                modules=modules,
                tags=tags,
                index=i,
                optional=ex.boolean("optional"),
            )
        )
    return tuple(out)


def _read_meta(top: _Table, packages: tuple[PackageRule, ...]) -> Meta | None:
    if "meta" not in top.data:
        return None
    if not isinstance(top.data["meta"], dict):
        top.bad("meta", "must be a table")
        return None
    t = top.table("meta")
    t.allow({"name", "summary", "requires", "extras"})
    name = t.string("name")
    if not name or not _PACKAGE_NAME.match(name):
        t.bad("name", f"bad or missing package name {name!r}")
        name = "meta"
    if name in {p.name for p in packages}:
        t.bad("name", f"package name {name!r} is also a [[package]]")
    extras_t = t.table("extras")
    extras: dict[str, tuple[str, ...]] = {}
    for extra, members in extras_t.data.items():
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", extra):
            extras_t.bad(extra, "bad extra name: lowercase letters, digits and '-'")
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            extras_t.bad(extra, "must be a list of module ids, id globs, types or module packages")
            continue
        for j, member in enumerate(members):
            extras_t.module_glob(member, f"{extra}[{j}]")
        extras[extra] = tuple(members)
    requires, alternatives = _alternatives(t, t.strings("requires"))
    return Meta(
        name=name,
        summary=t.string("summary", "") or "",
        requires=requires,
        extras=extras,
        alternatives=alternatives,
    )


def _check_references(
    top: _Table, packages: tuple[PackageRule, ...], per_module: PerModule | None, meta: Meta | None
) -> None:
    """`requires` must name packages this layout can produce. Without [per-module], those are
    its explicit ones; with it, the module packages' names depend on the build, so a name that
    is none of the explicit ones is left to the plan (Debian's claws-mail-plugins requires five
    plugin packages)."""
    if per_module is not None:
        return
    defined = {p.name for p in packages} | ({meta.name} if meta else set())
    owners: list[tuple[str, tuple[str, ...] | None]] = [(f"package[{p.index}]", p.requires) for p in packages]
    if per_module:
        owners.append(("per-module", per_module.requires))
    if meta:
        owners.append(("meta", meta.requires))
    for where, requires in owners:
        for j, r in enumerate(requires or ()):
            if r not in defined:
                top.bad(f"{where}.requires[{j}]", f"unknown package {r!r}")
