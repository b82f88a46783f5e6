"""The split plan: one pure function from (Inventory, Layout) to which package owns each file.

Every file (and every empty directory) of the build ends in exactly one package or one explicit
exclusion. A file two rules claim is an error naming both rules; files no rule claims are an
error listing them (like `dh_missing --fail-missing`) unless the caller says `core` or `drop`.
Writers take a Plan and never re-decide ownership.

`make_plan` runs named phases, each a small function: the modules the loader sees and their
problems, the layout's rules, claims, the unclaimed policy, packages with their requirements,
the requirements their files' `DT_NEEDED` libraries add, the meta package, and directory
ownership. Problems from every phase are reported together.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Literal

from qpack.dist_info import normalize_extra
from qpack.elf import ElfReadError
from qpack.errors import PlanError
from qpack.fit import mistyped_locations
from qpack.globs import (
    WILDCARDS,
    ModuleKeys,
    compile_glob,
    expand_prefix,
    is_module_glob,
    module_glob_matches,
)
from qpack.inventory import Entry, Inventory, Progress, link_destination, link_end, linked_dirs
from qpack.layout import (
    Layout,
    PackageRule,
    PinKind,
    fill_template,
    load_layout,
)
from qpack.loader import FoundModules, Loader, Module, library_dir, module_file_globs, naming_slip
from qpack.sonames import provided_sonames

PackageKind = Literal["core", "module", "group", "meta"]
Unclaimed = Literal["error", "core", "drop"]

# Directories a distro's base system owns; a package never claims them for itself (RPM `%dir`).
_SYSTEM_DIRS = {
    "bin",
    "boot",
    "etc",
    "lib",
    "lib32",
    "lib64",
    "libx32",
    "opt",
    "sbin",
    "srv",
    "usr",
    "var",
    "run",
    "var/lib",
    "var/cache",
    "var/log",
    "var/run",
    "var/spool",
    "var/tmp",
    "var/opt",
    "usr/bin",
    "usr/sbin",
    "usr/lib",
    "usr/lib32",
    "usr/lib64",
    "usr/libexec",
    "usr/include",
    "usr/share",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/applications",
    "usr/share/icons",
    "usr/share/pixmaps",
    "usr/share/bash-completion",
    "usr/share/bash-completion/completions",
    "usr/share/lintian",
    "usr/share/lintian/overrides",
    "usr/share/metainfo",
    "usr/share/polkit-1",
    "usr/share/polkit-1/actions",
    "usr/share/dbus-1",
    "usr/local",
    "etc/default",
    "etc/init.d",
    "etc/sysctl.d",
    "etc/udev",
    "etc/udev/rules.d",
    "lib/systemd",
    "lib/systemd/system",
    "usr/lib/systemd",
    "usr/lib/systemd/system",
    "lib/udev",
    "lib/udev/rules.d",
    "lib/udev/hwdb.d",  # udev's too (libgphoto2, libsane ship hwdb files)
    "usr/lib/udev",
    "usr/lib/udev/rules.d",
    "usr/lib/udev/hwdb.d",
    "usr/lib/sysctl.d",
    "usr/lib/tmpfiles.d",
    "usr/lib/binfmt.d",
    "usr/lib/modules-load.d",
    "usr/share/doc-base",
    "usr/share/menu",
    "usr/share/mime",
    "usr/share/mime/packages",
    "usr/share/zsh",
    "usr/share/zsh/vendor-completions",
    "usr/share/fish",
    "usr/share/glib-2.0",
    "usr/share/glib-2.0/schemas",
    "etc/systemd",
    "etc/systemd/system",
    "etc/xdg",
    "etc/logrotate.d",
    "etc/cron.d",
    # A Samba tester's RPM lists owned these as %dir: cron's, PAM's, AppArmor's, ufw's, the
    # DHCP client's and other base packages' drop-in directories.
    "etc/cron.hourly",
    "etc/cron.daily",
    "etc/cron.weekly",
    "etc/cron.monthly",
    "etc/pam.d",
    "etc/security",
    "etc/apparmor.d",
    "etc/apparmor.d/abstractions",
    "etc/apparmor.d/local",
    "etc/ufw",
    "etc/ufw/applications.d",
    "etc/dhcp",
    "etc/dhcp/dhclient-enter-hooks.d",
    "etc/dhcp/dhclient-exit-hooks.d",
    "etc/profile.d",
    "etc/sudoers.d",
    "etc/ld.so.conf.d",
    "etc/modprobe.d",
    "etc/tmpfiles.d",
    "etc/X11",
    "etc/X11/Xsession.d",
    "usr/lib/mime",  # mime-support's (Debian's ImageMagick ships usr/lib/mime/packages/...)
    "usr/lib/mime/packages",
    "usr/share/bug",  # reportbug's
    # Other frameworks' directories a program drops files into (a PulseAudio tester's RPM lists
    # owned these as %dir; a GStreamer tester's the pkg-config and introspection ones).
    "etc/xdg/autostart",
    "etc/dbus-1",
    "etc/dbus-1/system.d",
    "usr/share/dbus-1/services",
    "usr/share/dbus-1/system-services",
    "usr/share/dbus-1/system.d",
    # A PackageKit tester's RPM list owned polkit's, D-Bus's and APT's drop-in directories too.
    "usr/share/dbus-1/interfaces",
    "usr/share/polkit-1/rules.d",
    "etc/polkit-1",
    "etc/polkit-1/rules.d",
    "etc/polkit-1/localauthority",
    "var/lib/polkit-1",
    "var/lib/polkit-1/localauthority",
    "etc/apt",
    "etc/apt/apt.conf.d",
    "etc/apt/preferences.d",
    "etc/apt/sources.list.d",
    "lib/systemd/user",
    "usr/lib/systemd/user",
    "etc/alsa",
    "etc/alsa/conf.d",
    "usr/share/alsa",
    "usr/share/alsa/alsa.conf.d",  # alsa-lib's, where plugins drop their configuration
    "usr/share/apport",
    "usr/share/apport/package-hooks",
    "usr/share/GConf",
    "usr/share/GConf/gsettings",
    "usr/lib/pkgconfig",
    "usr/share/pkgconfig",
    "usr/share/gir-1.0",
    "usr/lib/girepository-1.0",
    # Perl's and Python's module trees (an nginx tester's RPM list of libnginx-mod-http-perl
    # owned .../perl5, .../perl5/5.36 and .../5.36/auto): the interpreter's, not a plug-in's.
    "usr/share/perl5",
    "usr/lib/perl5",
    "usr/lib/python3",
    "usr/lib/python3/dist-packages",
    # Editors' add-on trees (two nginx testers' nginx.files owned vim's as %dir): vim's
    # runtime directories under addons/ and vimfiles/ are in _VIM_RUNTIME.
    "usr/share/vim",
    "usr/share/vim/addons",
    "usr/share/vim/registry",
    "usr/share/vim/vimfiles",
    "usr/share/emacs",
    "usr/share/emacs/site-lisp",
    "var/www",  # the web root Debian's servers share (a lighttpd tester's lighttpd.files owned it)
}


# The directories of vim's 'runtimepath' (`:help runtimepath`), which add-ons fill.
_VIM_RUNTIME = frozenset(
    [
        "after",
        "autoload",
        "colors",
        "compiler",
        "doc",
        "ftdetect",
        "ftplugin",
        "indent",
        "keymap",
        "lang",
        "macros",
        "pack",
        "plugin",
        "print",
        "spell",
        "syntax",
        "tutor",
    ]
)


def is_system_dir(path: str, prefix: str, system: tuple[re.Pattern[str], ...] = ()) -> bool:
    """A directory of the base system (or the layout's `system-dirs`): no package owns it."""
    return _is_system_dir(path, prefix) or any(s.match(path) for s in system)


def _is_triplet_system_dir(rest: list[str]) -> bool:
    """Whether usr/lib/<triplet>/<rest...> is the base system's: the triplet directory itself,
    its pkgconfig and girepository-1.0, and perl's module tree down to perl5/<version>/auto
    (Debian's libperl5.36; an nginx tester's perl module owned them as %dir)."""
    if len(rest) <= 1:
        return not rest or rest[0] in ("pkgconfig", "girepository-1.0", "perl5")
    return rest[0] == "perl5" and rest[1][:1].isdigit() and (len(rest) == 2 or rest[2:] == ["auto"])


def _is_system_dir(path: str, prefix: str) -> bool:
    pre = prefix.strip("/")
    if path in _SYSTEM_DIRS or path == pre:
        return True
    parts = path.split("/")
    if len(parts) == 5 and parts[:3] == ["usr", "share", "vim"] and parts[3] in ("addons", "vimfiles"):
        return parts[4] in _VIM_RUNTIME
    # usr/lib/<multiarch triplet>, usr/share/man/man1, usr/share/locale/<lang>/LC_MESSAGES...
    if len(parts) >= 3 and parts[:2] == ["usr", "lib"] and "-linux-" in parts[2]:
        return _is_triplet_system_dir(parts[3:])
    if len(parts) == 2 and parts[0] == "lib" and "-linux-" in parts[1]:
        return True
    if path.startswith(("usr/share/man/", "usr/share/locale/", "usr/share/icons/")) and len(parts) <= 6:
        return True
    return _is_unit_drop_in(path) or (
        path.startswith(f"{pre}/") and path[len(pre) + 1 :] in _SYSTEM_DIRS | {"share/doc", "lib", "bin"}
    )


def _is_unit_drop_in(path: str) -> bool:
    """systemd's <unit>.wants and .requires directories, which units of many packages drop into
    (a PackageKit tester's RPM list owned lib/systemd/system/system-update.target.wants)."""
    parent = posixpath.dirname(path)
    return path.endswith((".wants", ".requires")) and parent.endswith(("systemd/system", "systemd/user"))


@dataclass(frozen=True, slots=True)
class Claim:
    """Why a path is where it is: `--explain` prints these."""

    path: str
    package: str | None  # None: excluded
    rule: str
    module: str | None = None


@dataclass(frozen=True, kw_only=True)
class Package:
    name: str
    kind: PackageKind
    files: tuple[str, ...]
    modules: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    # How each required sibling is pinned in distro lists; unlisted ones are "exact".
    pins: Mapping[str, PinKind] = field(default_factory=dict)
    # Packages that can stand in for a required sibling in distro lists (`a (= V) | b (= V)`).
    alternatives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    depends: tuple[str, ...] = ()  # requirements outside the split, as the layout writes them
    summary: str = ""
    dirs: tuple[str, ...] = ()  # directories this package owns (RPM %dir; see with_dirs)
    # The layout's `dirs` for this package, build-root relative: directories it ships as such
    # even when other packages' files fill them (Debian's .dirs); those not in the build are
    # made empty. Each is also in `dirs` unless it is an empty directory of `files`.
    declared_dirs: tuple[str, ...] = ()
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # meta only: extra -> packages
    # The packages of the modules its modules recommend ([modules.recommends]): useful beside
    # it, not needed (Debian's Recommends, RPM's Recommends, a wheel's `recommended` extra).
    recommends: tuple[str, ...] = ()

    @property
    def relations(self) -> tuple[str, ...]:
        """Each requirement with the packages that can stand in for it: `a | b`, as the distro
        lists write it."""
        return tuple(" | ".join((r, *self.alternatives.get(r, ()))) for r in self.requires)


@dataclass(frozen=True, slots=True)
class LibraryRequirement:
    """`package` requires `requires` because `path` (one of its files) links `soname`, which
    `provider` (a file of `requires`) provides: `--explain` prints these."""

    package: str
    requires: str
    path: str
    soname: str
    provider: str

    @property
    def why(self) -> str:
        return f"{self.path} links {self.soname} ({self.provider})"


@dataclass(frozen=True, slots=True)
class LinkRequirement:
    """`package` requires `requires` because its symlink `path` leads to `target`, a file of
    `requires`: `--explain` prints these (a GTK 4 tester's libgtk-4-1 required
    libgtk-4-common through Debian's doc links, and nothing said why)."""

    package: str
    requires: str
    path: str
    target: str

    @property
    def why(self) -> str:
        return f"{self.path} is a symlink to {self.target}"


@dataclass(frozen=True, slots=True)
class Excluded:
    path: str
    reason: str
    rule: str


@dataclass(frozen=True, kw_only=True)
class Plan:
    layout: Layout
    inventory: Inventory
    packages: tuple[Package, ...]
    excluded: tuple[Excluded, ...]
    unclaimed: tuple[str, ...]
    claims: tuple[Claim, ...]
    modules: tuple[Module, ...]
    warnings: tuple[str, ...] = ()
    library_requirements: tuple[LibraryRequirement, ...] = ()  # added from DT_NEEDED
    link_requirements: tuple[LinkRequirement, ...] = ()  # added for symlinks into another package

    @property
    def prefix(self) -> str:
        """Where the build was staged: decided once, when it was scanned."""
        return self.inventory.prefix

    def package(self, name: str) -> Package:
        for p in self.packages:
            if p.name == name:
                return p
        raise KeyError(name)

    def owner(self) -> dict[str, str]:
        return {c.path: c.package for c in self.claims if c.package is not None}

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "layout": self.layout.name,
            "prefix": self.prefix,
            "packages": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "files": list(p.files),
                    "modules": list(p.modules),
                    "requires": list(p.requires),
                    # `a | b` requirements: the packages that can stand in for a (a tree's manifest).
                    **({"alternatives": alts} if (alts := _alternatives_json(p)) else {}),
                    **({"recommends": list(p.recommends)} if p.recommends else {}),
                    "declared_dirs": list(p.declared_dirs),
                    **({"extras": {k: list(v) for k, v in p.extras.items()}} if p.kind == "meta" else {}),
                }
                for p in self.packages
            ],
            "excluded": [e.path for e in self.excluded],
            "unclaimed": list(self.unclaimed),
            "warnings": list(self.warnings),
        }


def _alternatives_json(p: Package) -> dict[str, list[str]]:
    return {r: list(p.alternatives[r]) for r in p.requires if r in p.alternatives}


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One explicit layout rule, a `[[package]]` or an `[[exclude]]`, ready to match."""

    description: str  # "package[0] 'qemu-core'" or "exclude[1] (test-only accelerator)"
    package: str | None  # None: an exclusion
    reason: str
    files: tuple[tuple[str, re.Pattern[str]], ...]  # (glob as written, compiled at the prefix)
    modules: tuple[str, ...]
    tags: tuple[str, ...] = ()
    key: str = "files"  # the layout key `files` comes from, as `--explain` names it: files or dirs
    owners: tuple[str, ...] = ()  # a rule of modules' own files: those modules (no other's file)
    # Why each of `files` claims a path, where the rule's key does not say it: a rule of
    # modules' own files names the layout key and the module of each glob.
    whys: tuple[str, ...] = ()

    def why(self, j: int) -> str:
        """Why `files[j]` claims a path: `files '...'`, or what `whys` says."""
        return self.whys[j] if self.whys else f"{self.key} {self.files[j][0]!r}"

    def match(self, path: str, module: Module | None, tag: str | None = None) -> str | None:
        """Why this rule claims `path` (`files '...'`, `modules '...'` or `tags '...'`), or None."""
        for j, (_, pattern) in enumerate(self.files):
            if pattern.match(path):
                return self.why(j)
        return self.match_module_or_tag(module, tag)

    def match_module_or_tag(self, module: Module | None, tag: str | None = None) -> str | None:
        """Why this rule claims a file by its module or install tag (not its path), or None."""
        if tag is not None and tag in self.tags:
            return f"tags {tag!r}"
        if module is not None and (named := self._module_keys.naming(module.id)):
            return f"modules {named[0]!r}"
        return None

    @cached_property
    def _module_keys(self) -> ModuleKeys:
        return ModuleKeys(self.modules)


def _literal_start(pattern: re.Pattern[str]) -> tuple[str, bool]:
    """The text every match of a compiled glob (`compile_glob`) starts with, and whether that
    is the whole of it (a glob without wildcards). Conservative: it stops at anything it does not
    know to be a literal character, which only makes the text shorter."""
    s, i = pattern.pattern, 0
    out: list[str] = []
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            if s[i + 1] == "Z" and i + 2 == len(s):
                return "".join(out), True
            if s[i + 1].isalnum() or s[i + 1] == "_":  # \d, \A...: not one literal character
                break
            out.append(s[i + 1])
            i += 2
        elif c.isalnum() or c in "_/":
            out.append(c)
            i += 1
        else:
            break
    return "".join(out), False


class _RuleIndex:
    """Rules by the literal start of their file globs, so that a path is matched against the
    globs that could claim it, not against every glob of every rule: a glob without wildcards is
    looked up by its path; one with wildcards under the longest directory written out in full
    before its first wildcard (`usr/lib/*/qemu/*.so` under `usr/lib`), looked up through the
    path's ancestors. Claiming stays linear in the files however many rules there are (one per
    module with `[per-module] files`). `hits` gives what asking every rule's `match` would."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.exact: dict[str, list[tuple[int, int]]] = defaultdict(list)  # path -> (rule, glob)
        self.under: dict[str, list[tuple[int, int]]] = defaultdict(list)  # dir -> (rule, glob)
        self.other = [i for i, r in enumerate(rules) if r.modules or r.tags]
        for i, r in enumerate(rules):
            for j, (_, pattern) in enumerate(r.files):
                literal, whole = _literal_start(pattern)
                if whole:
                    self.exact[literal].append((i, j))
                else:
                    self.under[literal[: max(literal.rfind("/"), 0)]].append((i, j))

    def hits(self, path: str, module: Module | None, tag: str | None = None) -> list[tuple[Rule, str]]:
        """(rule, why) of every rule that claims `path`, in rule order."""
        first: dict[int, int] = {}  # rule -> its first glob that matches
        candidates = list(self.exact.get(path, ()))
        end = len(path) if self.under else 0
        while end > 0:  # the path's ancestors, the root ("") last
            end = path.rfind("/", 0, end)
            candidates += self.under.get(path[:end] if end > 0 else "", ())
        for i, j in candidates:
            if j < first.get(i, len(self.rules[i].files)) and self.rules[i].files[j][1].match(path):
                first[i] = j
        out = {i: self.rules[i].why(j) for i, j in first.items()}
        for i in self.other:
            if i not in out and (why := self.rules[i].match_module_or_tag(module, tag)) is not None:
                out[i] = why
        return [(self.rules[i], out[i]) for i in sorted(out)]


# A claim by a `files` glob of the layout's own [[package]] or [[exclude]] (layout_rules), or
# by a module's own files ([modules.files]: a Gnumeric tester's excelplugins/xlcall32.so, the
# library plugin.so opens from its own directory, was still warned of as never looked up; and
# [per-module] files: an Erlang tester's NIFs in <app>/priv/lib, 11 warnings a plan).
_NAMED = re.compile(
    r"(?:package|exclude)\[\d+\] .*?: files '|modules' own files \(.*?\): (?:per-module|modules)\.files '"
)


def layout_rules(layout: Layout, prefix: str) -> tuple[Rule, ...]:
    """The layout's explicit rules in layout order: packages, then exclusions."""

    def compiled(globs: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((g, compile_glob(expand_prefix(g, prefix))) for g in globs)

    rules = [
        Rule(
            description=f"package[{p.index}] {p.name!r}",
            package=p.name,
            reason="",
            files=compiled(p.files),
            modules=p.modules,
            tags=p.tags,
        )
        for p in layout.packages
    ]
    rules += [
        Rule(
            description=f"exclude[{x.index}] ({x.reason})",
            package=None,
            reason=x.reason,
            files=compiled(x.files),
            modules=x.modules,
            tags=x.tags,
        )
        for x in layout.exclusions
    ]
    return tuple(rules)


def dir_rules(layout: Layout, prefix: str, empty: Collection[str]) -> tuple[Rule, ...]:
    """The layout's `dirs` that are empty directories of the build, as rules claiming them for
    their package (shared with any other rule claiming the same directory). A `dirs` entry
    with files under it claims nothing: the files are claimed by their own rules."""
    rules = []
    for p in layout.packages:
        globs = tuple(
            (d, compile_glob(path))
            for d, path in zip(p.dirs, p.dir_paths(prefix), strict=True)
            if path in empty
        )
        if globs:
            rules.append(
                Rule(description=f"package[{p.index}] {p.name!r}", package=p.name, reason="",
                     files=globs, modules=(), key="dirs")
            )  # fmt: skip
    return tuple(rules)


def declared_dir_problems(layout: Layout, inventory: Inventory) -> list[str]:
    """A `dirs` entry must be a directory of the build or a path the build does not have, and
    none of its parents may be a file or symlink of the build (the directory would be made
    through it)."""
    kinds = {e.path: e.kind for e in inventory.entries}
    problems = []
    for p in layout.packages:
        for d, path in zip(p.dirs, p.dir_paths(inventory.prefix), strict=True):
            where = f"package[{p.index}] {p.name!r}: dirs {d!r}"
            kind = kinds.get(path)
            if kind is not None and kind != "dir":
                problems.append(f"{where}: {path} is a {kind} in the build, not a directory")
                continue
            parent = posixpath.dirname(path)
            while parent:
                if kinds.get(parent, "dir") != "dir":
                    problems.append(f"{where}: {parent} is a {kinds[parent]} in the build, not a directory")
                    break
                parent = posixpath.dirname(parent)
    return problems


@dataclass
class _Claims:
    """What the claiming phases found; the later phases read and extend it."""

    claims: list[Claim] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    unclaimed: list[str] = field(default_factory=list)
    per_module_names: dict[str, str] = field(default_factory=dict)  # module id -> package


# --------------------------------------------------------------------------- the phases


def _linked_names(inventory: Inventory) -> set[str]:
    """Every name a file of the build needs (DT_NEEDED)."""
    return {n for e in inventory.entries if e.elf is not None for n in e.elf.needed}


def _is_linked(e: Entry | None, linked: set[str]) -> bool:
    """Whether a file of the build links `e`, by its file name or its SONAME."""
    if e is None:
        return False
    return posixpath.basename(e.path) in linked or (e.elf is not None and e.elf.soname in linked)


def _code_entry(e: Entry, by_path: Mapping[str, Entry]) -> Entry:
    """The file a module that is a symlink leads to inside the build (an mpv tester's
    etc/mpv/scripts/mpris.so -> usr/lib/mpv-mpris/mpris.so, cut short: no word, where the same
    file as the module itself was unreadable), else the module's own entry."""
    end = _link_end(e, by_path) if e.kind == "symlink" else e
    return end if isinstance(end, Entry) else e


def _is_script(e: Entry, inventory: Inventory) -> bool:
    """Whether the file of `e` starts with `#!`."""
    try:
        with open(inventory.source(e.path), "rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return False


def _unreadable(e: Entry) -> str | None:
    """Why a module file is no ELF file the loader could load, or None. The scan says so only
    of a file named like a library; a module named otherwise (PostgreSQL tries the bare name
    before `.so`: `{name}` matches `llvmjit_types.bc`) is a regular file it read no ELF from."""
    if e.elf_error:
        return e.elf_error
    if e.kind == "file" and e.elf is None:
        return "not an ELF file" if e.size >= 4 else "empty or truncated file"
    return None


def _module_libraries(
    found: FoundModules, inventory: Inventory, loader: Loader
) -> tuple[FoundModules, set[str]]:
    """The modules less the files among them that lack the entry symbol and that other modules
    link (DT_NEEDED, by file name or SONAME): the modules' library, which a loader registering
    every file passes over (libpurple's libjabber.so, which libxmpp.so needs; Dia's libdia.so)
    and one looking modules up by name is never asked for (glibc's gconv libJIS.so, which
    EUC-JP.so links: six "the loader refuses it" warnings and a package each). Returns the
    modules left and the paths of those libraries and their other names, as check judges them
    (`qpack.check._drop_module_libraries`)."""
    if not found.modules:
        return found, set()
    by_path = inventory.by_path()
    code: dict[str, Entry] = {}
    for m in found.modules:
        end = _link_end(by_path[m.path], by_path)
        if not isinstance(end, str) and end.kind == "file" and end.elf is not None:
            code[m.path] = end
    needed_by: dict[str, set[str]] = {}  # library name -> the modules that link it
    for m in found.modules:
        if (e := code.get(m.path)) is not None and e.elf is not None:
            for n in e.elf.needed:
                needed_by.setdefault(n, set()).add(m.path)
    dropped: set[str] = set()
    # File name -> the build files names so lead to, where a SONAME may count (below).
    reached = _reached_by_name(inventory, by_path) if loader.registers_all else {}
    for m in found.modules:
        e = code.get(m.path)
        if e is None or e.elf is None or not (entry := loader.entry_symbols(m.id)):
            continue
        names = {posixpath.basename(m.path), e.name}
        # By its SONAME too where the loader registers every file: a loader looking modules up
        # by name finds a copy of the library under a module's name (the demo's curses.so made a
        # copy of libdemo-util.so.1) as that module, and it refuses it. Only where a file of
        # that name leads to it: the dynamic linker finds a library by file name (a GNOME
        # Software tester's copy of libgnomesoftware.so.19 among the plug-ins, which they link
        # from the program's, went to the core in silence, where check said `no-entry`).
        if e.elf.soname and e.path in reached.get(e.elf.soname, ()):
            names.add(e.elf.soname)
        users = set().union(*(needed_by.get(n, set()) for n in names)) - {m.path}
        if users and _entry_defines(inventory.source(e.path), entry) == frozenset():
            dropped.add(m.path)
    if not dropped:
        return found, set()
    gone = [m for m in found.modules if m.path in dropped]
    also = module_code(FoundModules(modules=tuple(gone), never_looked_up=(), duplicates={}), by_path)
    kept = tuple(m for m in found.modules if m.path not in dropped)
    duplicates = {mid: paths for mid, paths in found.duplicates.items() if any(m.id == mid for m in kept)}
    return FoundModules(
        modules=kept, never_looked_up=found.never_looked_up, duplicates=duplicates
    ), dropped | set(also)


def _reached_by_name(inventory: Inventory, by_path: Mapping[str, Entry]) -> dict[str, set[str]]:
    """File name -> the regular files of the build that a file or link of that name is or leads
    to: what the dynamic linker may open for a DT_NEEDED name."""
    out: dict[str, set[str]] = {}
    for e in inventory.entries:
        if e.kind in ("file", "symlink"):
            end = _code_entry(e, by_path)
            if end.kind == "file":
                out.setdefault(e.name, set()).add(end.path)
    return out


def _named_copies(found: FoundModules, layout: Layout, prefix: str) -> tuple[FoundModules, list[str]]:
    """The modules less the copies of a module installed twice that a [[package]] or [[exclude]]
    names by its `files`: that rule's plain files, the copy left the module (Debian's
    perl-base and libperl5.36 both ship POSIX.so, on purpose: perl-base's comes first in @INC;
    the plan refused the real build, whatever rule named the second copy). A rule naming every
    copy leaves the module installed twice."""
    if not found.duplicates:
        return found, []
    files = [(f"package[{rule.index}] {rule.name!r}", g) for rule in layout.packages for g in rule.files]
    files += [(f"exclude[{x.index}]", g) for x in layout.exclusions for g in x.files]
    globs = [(rule, compile_glob(expand_prefix(g, prefix))) for rule, g in files]
    named: set[str] = set()
    duplicates = dict(found.duplicates)
    warnings = []
    for mid, paths in found.duplicates.items():
        taken = {p for p in paths if any(r.match(p) for _, r in globs)}
        if len(taken) == len(paths):
            # Said beside the error the copies make (a Ruby tester's group glob named the
            # gem's copy and the arch dir's, and the error never said a rule was the cause).
            rules = sorted({rule for rule, r in globs if any(r.match(p) for p in paths)})
            warnings.append(
                f"module {mid!r}: `files` of {', '.join(rules)} name every copy of it; a rule that "
                "names some of them leaves the others to the module"
            )
        if taken and len(taken) < len(paths):
            named |= taken
            left = tuple(p for p in paths if p not in taken)
            if len(left) > 1:
                duplicates[mid] = left
            else:
                del duplicates[mid]
            first = min(paths, key=lambda p: _search_rank(layout.loader, prefix, p))
            if first in taken:
                # A rule took the copy the loader finds first: the module's package holds one
                # it passes over (a Perl re-tester's rule named perl-base's copies).
                warnings.append(
                    f"module {mid!r}: {first} is the copy the loader finds first, and a [[package]] or "
                    f"[[exclude]] names it by its files; the module's package gets {', '.join(left)}, "
                    "which the loader passes over"
                )
    if not named:
        return found, warnings
    modules = tuple(m for m in found.modules if m.path not in named)
    return FoundModules(
        modules=modules, never_looked_up=found.never_looked_up, duplicates=duplicates
    ), warnings


def _runs_itself(loader: Loader, modules: Iterable[Module], inventory: Inventory) -> list[str]:
    """A runner whose own file, no ELF file, its glob names: no code to run the others with (a
    Gnumeric tester's `"*.py" = "py-func"` passed, and every Python plug-in's package required
    py-func's). An ELF runner its glob names is only warned of (`module_problems`)."""
    if not loader.runners:
        return []
    by_path = inventory.by_path()
    out = []
    for m in modules:
        if loader.runner_of(m.path) == m.id and (e := by_path.get(m.path)) is not None and e.elf is None:
            glob = next(
                g
                for g, r in loader.runners.items()
                if r == m.id and fnmatch.fnmatchcase(posixpath.basename(m.path), g)
            )
            out.append(
                f"loader.runners: {glob!r} names module {m.id!r} as the runner of its own file {m.path}: "
                "a runner is a module of its own code that runs the others"
            )
    return out


def _strays(
    found: FoundModules, inventory: Inventory, code_of: Mapping[str, Module], known: set[str], loader: Loader
) -> list[str]:
    """The warnings of files the loader never looks up, less those that are a module's code or
    other name (`code_of`), `known` files (the modules' libraries, the helper programs), the
    loader's own files and links to them, and libraries a file of the build links."""
    if not found.never_looked_up:  # the names and paths are gathered only for a file to judge
        return []
    known = known | _loader_links(loader, inventory, inventory.prefix)
    linked, by_path = _linked_names(inventory), inventory.by_path()
    # A library linked through a chain of its links (a Bacula tester's libbaccats-9.6.7.so ->
    # libbaccats-sqlite3-9.6.7.so), and every other link to it (its -dev link): 14 warnings.
    by_link = {e.path: e.target or "" for e in inventory.entries if e.kind == "symlink"}
    ends = {e.path: link_end(e.path, by_link) for e in inventory.entries if e.kind == "symlink"}
    libraries = {
        end
        for path, end in [*ends.items(), *((e.path, e.path) for e in inventory.files() if e.kind == "file")]
        if end is not None and (posixpath.basename(path) in linked or _is_linked(by_path.get(end), linked))
    }
    return [
        w
        for w in found.never_looked_up
        if (f := w.partition(": in a module directory")[0]) not in code_of
        and f not in known
        and not _is_linked(by_path.get(f), linked)
        and f not in libraries
        and ends.get(f) not in libraries
    ]


def _deeper_without_entry(never: list[str], inventory: Inventory, loader: Loader) -> list[str]:
    """`never` less, where every type has an entry, the files deeper than the loader looks that
    define none (another program's plug-in below the location, no module misplaced: an SSSD
    tester's modules/libsss_autofs.so, autofs's own); and less the files of a library directory
    every package shares that define none, or all of them where a type has no entry (a Guile
    re-tester's libguile-cairo.so in /usr/lib/x86_64-linux-gnu, which check leaves alone)."""
    entries = loader.every_entry()

    def path_of(w: str) -> str:
        return w.partition(": in a module directory")[0]

    # The location a file is under: the deepest module directory holding it.
    dirs = sorted(loader.module_dirs(inventory.prefix), key=len, reverse=True)
    under = [(d, compile_glob(d + "/**")) for d in dirs]

    def location(path: str) -> str:
        return next((d for d, g in under if g.match(path)), posixpath.dirname(path))

    shared = {w for w in never if library_dir(location(path_of(w)))}
    deeper = [w for w in never if "deeper than the loader looks" in w or w in shared]
    if entries is None:
        return [w for w in never if w not in shared]
    if not deeper:
        return never
    from qpack.elf import dynamic_symbols

    quiet = set()
    for w in deeper:
        try:
            with open(inventory.source(path_of(w)), "rb") as f:
                defined = dynamic_symbols(f)[1]
        except (OSError, ElfReadError):
            continue
        if not any(entries.fullmatch(s) for s in defined):
            quiet.add(w)
    return [w for w in never if w not in quiet]


def _loader_links(loader: Loader, inventory: Inventory, prefix: str) -> set[str]:
    """The loader's own files (its library, its programs) and the build's symlinks that lead to
    them: a Tcl tester's libtcl8.6.so.0 -> libtcl8.6.so, in a directory its search reads, was
    called a file the loader never looks up."""
    globs = [compile_glob(g) for g in loader.loader_globs(prefix)]
    by_link = {e.path: e.target or "" for e in inventory.entries if e.kind == "symlink"}
    ends = {e.path: link_end(e.path, by_link) for e in inventory.files()}
    # Where a glob names a link (an OpenCL tester's library, libOpenCL.so.1), the file it leads
    # to is the loader's too, and so are the other links to that file (the -dev libOpenCL.so).
    own = {end for path, end in ends.items() if end is not None and any(g.match(path) for g in globs)}
    return {
        path
        for path, end in ends.items()
        if end is not None and (end in own or any(g.match(end) for g in globs))
    }


def _helper_files(loader: Loader, prefix: str) -> set[str]:
    """The build paths of the helper programs the loader runs (CUPS's daemon/cups-exec, under
    its module directory, is no module the loader never looks up)."""
    pre = prefix.strip("/")
    out = set()
    for h in loader.helpers:
        if h.relocated is not None:
            out.add(posixpath.join(pre, h.relocated, h.name) if pre else posixpath.join(h.relocated, h.name))
        if h.absolute is not None:
            out.add(posixpath.join(h.absolute.strip("/"), h.name))
    return out


def _search_rank(loader: Loader, prefix: str, path: str) -> int:
    """The place in the search order of the location a module file is found in (its first
    module directory whose naming it fits, as `Loader.find_modules` decides), with no variable
    set: a directory only an env location's `wheels` names comes after all (a Ruby tester's
    RUBYLIB `wheels`, his arch dir, had ranked before the gem directory searched first)."""
    parts = path.split("/")
    searched = loader.default_module_dirs(prefix)
    dirs = (*searched, *(d for d in loader.module_dirs(prefix) if d not in searched))
    for i, d in enumerate(dirs):
        r = compile_glob(d)
        for c in range(len(parts) - 1, 0, -1):
            if r.match("/".join(parts[:c])) and loader.parse_in_location("/".join(parts[c:])):
                return i
    return len(dirs)  # after every location


def module_problems(
    found: FoundModules,
    inventory: Inventory,
    executables: tuple[str, ...] = (),
    entries: Callable[[str], tuple[str, ...]] | None = None,
    runner_of: Callable[[str], str | None] | None = None,
    link_entries: Callable[[str], tuple[str, ...]] | None = None,
    own_entry_types: Collection[str] = (),
    scripts_run: bool = False,
    skips_unloadable: bool = False,
    registers: bool = False,
    value_symbol: str | None = None,
    stamp_optional: bool = False,
    wheels: bool = True,
) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the modules themselves: installed twice is an error; a module
    the loader cannot read as ELF (but one another module runs: `runner_of`, its file -> that
    module), a module that is a symlink out of the build or to nothing, a module built for
    another machine than the loader's files (`executables`: its executables and library
    globs), and one that defines none of the entry symbols the loader calls (`entries`: module
    id -> them; `link_entries`: for a module that is a link, build path of the file it leads
    to -> the entries that file's name gives, `entry_through_links`) are warnings; and, where
    `wheels` may hold modules, modules of one file's bytes."""
    by_path = inventory.by_path()
    problems = [
        _twice(mid, paths, found.modules, registers)
        for mid, paths in found.duplicates.items()
        # A loader passing over a file dlopen refuses takes the other: a copy that is no ELF at
        # all makes no module twice (a SQLite tester's junk `libsqlite3_mod_csvtable` beside the
        # .so, which sqlite3 tries second: plan stopped, exit 2).
        # A link to nothing is no copy (an OCaml tester's dangling dllzarith.so before the real
        # one: "installed twice ... the loader loads only the first it finds"; check passes over it).
        if len([p for p in paths if not _dangling(p, by_path)]) > 1
        and (
            not skips_unloadable
            or len(
                [p for p in paths if (e := by_path.get(p)) is None or e.kind != "file" or e.elf is not None]
            )
            > 1
        )
    ]
    warnings = [
        f"{m.path}: module unreadable: {err}; the loader cannot load it"
        for m in found.modules
        if (err := _unreadable(code := _code_entry(by_path[m.path], by_path)))
        and (runner_of is None or runner_of(m.path) is None)
        # A script where modules are programs the loader runs (`scripts_run`): netdata's
        # python.d.plugin, as check judges it.
        and not (scripts_run and _is_script(code, inventory))
    ]
    # A runner's glob that takes ELF modules (a ZNC re-tester's "*.so" = "modpython" made every
    # module, modperl.so too, need modpython).
    warnings += [
        f"{m.path}: an ELF module, but [loader] runners has {runner!r} run it; each such module "
        "then needs that one"
        if runner
        else f'{m.path}: an ELF module, but [loader] runners has the program itself read it (""): '
        "no ELF module is judged so"
        for m in found.modules
        if runner_of is not None
        and (runner := runner_of(m.path)) is not None
        and runner != m.id
        and by_path[m.path].elf is not None
    ]
    exe_res = [compile_glob(g) for g in executables]
    hosts = set()
    held: set[str] = set()  # the stamp names the loader's files hold (with a stamp glob)
    stamped: dict[str, tuple[str, ...]] = {}  # module files whose stamp was looked for -> theirs
    entered: dict[str, list[str]] = {}  # entry key -> modules whose entry was looked for
    lacking: dict[str, list[str]] = {}  # ... and is not there
    asked: dict[str, set[str]] = {}  # entry key -> its literal symbols looked up
    used: dict[str, set[str]] = {}  # ... those some module defines
    for e in inventory.entries:
        if any(r.match(e.path) for r in exe_res):
            end = _link_end(e, by_path)  # a library is often named by its SONAME link
            if not isinstance(end, str) and end.elf is not None:
                hosts.add((end.elf.machine, end.elf.elf_class))
                held.update(end.elf.stamps_held)
    for m in found.modules:
        e = by_path[m.path]
        linked = e.kind == "symlink"
        if linked:
            if (why := _link_problem(e, by_path)) is not None:
                warnings.append(
                    f"{m.path}: module is a symlink {why}; the loader cannot load it from this build "
                    "(and a wheel cannot hold it: a wheel split fails)"
                )
                continue
            end = _link_end(e, by_path)  # a module that is a link: the code it leads to
            assert not isinstance(end, str)
            e = end
        if e.elf is not None and len(hosts) == 1 and (e.elf.machine, e.elf.elf_class) not in hosts:
            ((machine, bits),) = hosts
            warnings.append(
                f"{m.path}: module is built for {e.elf.machine} ({e.elf.elf_class}-bit), the loader's "
                f"executables for {machine} ({bits}-bit); the loader cannot load it"
            )
        elif e.elf is not None and held:
            stamped[m.path] = e.elf.stamps_exported
            if not held & set(e.elf.stamps_exported) and not (stamp_optional and not e.elf.stamps_exported):
                # Caught by install and check; a split should not ship it unsaid (a tester's VLC
                # build held a plugin of VLC 2.2).
                warnings.append(_stamp_unheld(m.path, e.elf.stamps_exported, held, value_symbol))
        own = entry = entries(m.id) if entries is not None and e.elf is not None else ()
        if entry and linked and link_entries is not None:
            entry = (*entry, *(s for s in link_entries(e.path) if s not in entry))
        # By the entry templates the module is looked up with: its type's own, or [loader]'s.
        key = f"[loader.by-type.{m.type}] entry" if m.type in own_entry_types else "[loader] entry"
        if entry:
            entered.setdefault(key, []).append(m.path)
        if entry and (defines := _entry_defines(inventory.source(e.path), entry)) is not None:
            _tally_entry(m.path, key, entry, defines, (asked, used, lacking), warnings)
            warnings += _through_target_only(m.path, defines, own) if linked else []
    nobody, warnings = _entries_nobody_defines(
        entered, lacking, warnings, naming_slip([m.name for m in found.modules])
    )
    unused, warnings = _entry_alternatives_unused(asked, used, lacking, entered, warnings)
    nobody += unused
    other, warnings = _stamp_nobody_exports(stamped, held, warnings, value_symbol)
    # Of what wheels make of them: noise where no wheel can hold a module (a Dovecot tester:
    # three such warnings on every plan, for a loader whose wheel split is refused).
    return [*problems, *nobody, *other], [*warnings, *(_same_bytes(found.modules, by_path) if wheels else ())]


def _twice(mid: str, paths: Sequence[str], modules: Iterable[Module], registers: bool = False) -> str:
    """The problem of a module id two files give: one module installed twice, or two types
    whose ids meet (a GKrellM tester's types `plugins` and `plugins-gkrellmd`: the client's
    plugins/gkrellmd-x.so and the server's plugins-gkrellmd/x.so were "installed twice"). A
    loader registering every file reads both (binutils' and Yate's testers: "loads only the
    first it finds" was false of theirs)."""
    types = sorted({m.type for m in modules if m.path in paths})
    if len(types) > 1:
        return (
            f"module id {mid!r} is given to files of types {' and '.join(repr(t) for t in types)} "
            f"({', '.join(paths)}): their ids meet; rename a type, or set [loader] id-separator"
        )
    why = (
        "the loader reads every one, one module twice"
        if registers
        else "the loader loads only the first it finds"
    )
    return f"module {mid!r} is installed twice: {', '.join(paths)} ({why})"


# How the warning of a module without its entry ends; with how to say that the file is no
# module (an Erlang tester: Debian's otp_test_engine.so, an OpenSSL engine beside the NIFs, kept
# its warning when a [[package]] named it, and skip-names was found only in the README).
_NO_ENTRY = ", which the loader looks up; the loader refuses it (if it is no module: skip-names)"


_OTHER = ": a module of another build; the loader refuses it"  # how a module of another build ends


def _stamp_nobody_exports(
    stamped: Mapping[str, tuple[str, ...]],
    held: set[str],
    warnings: list[str],
    value_symbol: str | None = None,
) -> tuple[list[str], list[str]]:
    """(problems, warnings less those they replace): where no module exports a stamp the
    loader's files hold, the programs and the modules are of two builds, and a split of them
    ships modules that never load (a Zathura tester's program holding zathura_plugin_4_6 beside
    plug-ins of ABI 4_5: six wheels, exit 0, one warning a module; install then refused each)."""
    if not stamped or any(held & set(exported) for exported in stamped.values()):
        return [], warnings
    paths = list(stamped)
    shown = _some_ids(paths, 2)
    theirs = sorted({s for exported in stamped.values() for s in exported})
    if value_symbol is not None:
        # The strings like the value the loader's files hold are many: the modules' are the news
        # (a pppd tester's mistyped `pppd_versoin` was told of "1.0/1.1/1.2 (default)/1.3").
        if not theirs and len(paths) < 2:
            return [], warnings
        problem = (
            f"no module of the build defines {value_symbol} ({shown}): is [loader.stamp] symbol mistyped?"
            if not theirs
            else f"no module's {value_symbol} is a string the loader's files hold (the modules' ({shown}): "
            f"{', '.join(repr(t) for t in theirs[:3])}): are the programs and the modules of two releases, "
            "or is [loader.stamp] value wrong for this program?"
        )
        return [problem], [
            w for w in warnings if not (w.partition(": module")[0] in stamped and w.endswith(_OTHER))
        ]
    exported = ", ".join(theirs[:3]) + (" and more" if len(theirs) > 3 else "") if theirs else "none"
    holds = sorted(held)
    holds_said = ", ".join(holds[:3]) + (f" and {len(holds) - 3} more" if len(holds) > 3 else "")
    problem = (
        f"no module of the build exports a stamp the loader's files hold ({holds_said}); "
        f"the modules ({shown}) export {exported}: are the programs and the modules of two builds?"
    )
    return [problem], [
        w for w in warnings if not (w.partition(": module ")[0] in stamped and w.endswith(_OTHER))
    ]


def _entries_nobody_defines(
    entered: Mapping[str, list[str]],
    lacking: Mapping[str, list[str]],
    warnings: list[str],
    slip: str = "",
) -> tuple[list[str], list[str]]:
    """(problems, warnings less those they replace): an entry key (`[loader] entry` or a type's
    own) that two modules or more are looked up with and none defines is the layout's mistake,
    not the build's (an AbiWord tester's "abi_plugin_regster" gave 44 warnings, exit 0, and a
    split of 44 modules that never load; a GKrellM tester's typo in one type's own entry)."""
    problems = []
    for key, paths in entered.items():
        if len(paths) < 2 or lacking.get(key) != paths:
            continue
        problems.append(
            f"no module of the build defines the entry symbol the loader looks up ({_some_ids(paths, 2)}): "
            f"is {key}{slip} mistyped?"
        )
        # Only their entry warnings: one of another machine or build is still said.
        warnings = _without_entry_warnings(warnings, paths)
    return problems, warnings


def _without_entry_warnings(warnings: list[str], paths: Collection[str]) -> list[str]:
    """`warnings` less the "does not define the entry" ones of the modules at `paths`, which a
    layout problem replaces."""
    return [w for w in warnings if not (w.partition(": module ")[0] in paths and w.endswith(_NO_ENTRY))]


# The C++ and unwinding runtime's symbols, which a module may define as loose copies (template
# instantiations) and the system's libstdc++ or libgcc_s defines for all: never one module's
# API for another (a PackageKit tester's apt backend was told it needs a second apt backend
# for std::string's _M_replace, with a harmful [modules.dependencies] fix).
_RUNTIME_SYMBOLS = (
    "_ZNSt", "_ZNKSt", "_ZSt", "_ZTVSt", "_ZTISt", "_ZTSSt", "_ZNSs", "_ZNKSs", "_ZNSa",
    "_ZN9__gnu_cxx", "_ZNK9__gnu_cxx", "__cxa_", "__gxx_", "_Unwind_",
)  # fmt: skip


class _ProgramExports:
    """The dynamic symbols the loader's programs of the build export, read once, when first asked."""

    def __init__(self, programs: list[Entry], inventory: Inventory) -> None:
        self.programs, self.inventory = programs, inventory
        self._exports: set[str] | None = None

    def define(self, name: str) -> bool:
        if self._exports is None:
            from qpack.elf import ElfReadError, dynamic_symbols_path

            self._exports = set()
            for e in self.programs:
                try:
                    self._exports |= dynamic_symbols_path(self.inventory.source(e.path))[1]
                except (OSError, ElfReadError):
                    continue
        return name in self._exports


def undeclared_module_symbols(found: FoundModules, inventory: Inventory, loader: Loader) -> list[str]:
    """Warnings for modules that use a symbol only another module of the build defines, that
    module not among their dependencies: the dynamic linker cannot bind them unless that one was loaded
    first (a lighttpd tester's mod_authn_ldap calls mod_auth's http_auth_backend_set; check and
    install said it would load alone). Read, through each module's `.dynsym`, only for a layout
    that names an entry symbol, as the entry check is (a few ms a module)."""
    from qpack.elf import ElfReadError, dynamic_symbols, load_time_imports

    by_path = inventory.by_path()
    needs: dict[str, frozenset[str]] = {}
    defined_by: dict[str, set[str]] = defaultdict(set)
    linked: dict[str, set[str]] = {}  # module -> the names its DT_NEEDED loads
    names: dict[str, set[str]] = {}  # module -> the names it is linked by (file name, SONAME)
    for m in found.modules:
        e = by_path[m.path]
        end = _link_end(e, by_path) if e.kind == "symlink" else e
        if isinstance(end, str) or end.elf is None or m.id in needs:
            continue
        try:
            with open(inventory.source(end.path), "rb") as f:
                needs[m.id], exports = dynamic_symbols(f)
                if loader.binding == "lazy":
                    # Only what it binds as it loads: its calls are bound when first made (the X
                    # server's vesa driver calls int10's VBE functions after loading int10 itself;
                    # an X tester's plan asked for six dependencies that are none).
                    f.seek(0)
                    needs[m.id] = load_time_imports(f)
        except (OSError, ElfReadError):
            continue
        linked[m.id] = set(end.elf.needed)
        names[m.id] = {posixpath.basename(m.path), posixpath.basename(end.path), end.elf.soname or ""}
        for name in exports:
            defined_by[name].add(m.id)
    # What the programs link is loaded before any module: its symbols are there for all of them.
    programs = [compile_glob(g) for g in loader.loader_globs(inventory.prefix)]
    loader_files = [e for e in inventory.files() if e.elf and any(r.match(e.path) for r in programs)]
    global_libs = {n for e in loader_files if e.elf for n in e.elf.needed}
    program_exports = _ProgramExports(loader_files, inventory)
    warnings = []
    reach = _Reach({k: list(loader.deps_of(k)) for k in needs})  # what each loads first
    libraries = _BuildLibraries(inventory)
    for mid, symbols in sorted(needs.items()):
        declared = reach(mid)
        others: dict[str, list[str]] = defaultdict(list)
        for name in sorted(symbols):
            owners = defined_by.get(name, set()) - {mid}
            if (
                len(owners) != 1
                or (owner := next(iter(owners))) in declared
                or name.startswith(_RUNTIME_SYMBOLS)
            ):
                continue
            # Linked by the module itself or by the program (a Weston tester's shells link
            # libexec_weston.so.0, which sits among the modules): the dynamic linker loads it.
            if names[owner] & (linked[mid] | global_libs):
                continue
            # Defined by a library of the build that the module or the program loads (an SSSD
            # tester's ipa provider links libsss_ldap_common.so, which defines it too), or by the
            # program itself (a Kamailio tester's nathelper binds ser_memmem, which kamailio
            # exports as rtpproxy does: "add nathelper = [rtpproxy]", a bogus requirement).
            if libraries.define(linked[mid] | global_libs, name) or program_exports.define(name):
                continue
            others[owner].append(name)
        for owner, used in sorted(others.items()):
            shown = ", ".join(used[:3]) + (f" and {len(used) - 3} more" if len(used) > 3 else "")
            warnings.append(
                f"module {mid!r} uses {shown}, which only module {owner!r} of this build defines: the "
                f"dynamic linker cannot bind it unless {owner!r} is installed and loaded first; "
                f'add [modules.dependencies] "{mid}" = ["{owner}"] to the layout to say so'
            )
    return warnings


class _BuildLibraries:
    """The build's ELF files by the names DT_NEEDED finds them by (file name, SONAME), and
    whether the ones some names load, transitively, define a symbol (read when asked, once);
    a name the build lacks is looked up among this machine's libraries (its ld.so.cache), whose
    exports alone are read."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.by_name: dict[str, Entry] = {}
        for e in inventory.files():
            if e.elf is not None:
                self.by_name.setdefault(posixpath.basename(e.path), e)
                if e.elf.soname:
                    self.by_name.setdefault(e.elf.soname, e)
        self.exports: dict[str, frozenset[str]] = {}
        self._cache: dict[str, list[str]] | None = None

    def define(self, names: Iterable[str], symbol: str) -> bool:
        from qpack.elf import ElfReadError, dynamic_symbols

        todo, seen = list(names), set()
        while todo:
            name = todo.pop()
            e = self.by_name.get(name)
            if e is None and name not in seen:
                # A library the build does not have: this machine's, where it has it (a VA-API
                # tester's Mesa drivers use drmIoctl from the system's libdrm.so.2, which the iHD
                # driver also defines, bundling its own copy: no dependency on iHD).
                seen.add(name)
                if symbol in self._system_exports(name):
                    return True
                continue
            if e is None or e.path in seen or e.elf is None:
                continue
            seen.add(e.path)
            if e.path not in self.exports:
                try:
                    with open(self.inventory.source(e.path), "rb") as f:
                        self.exports[e.path] = frozenset(dynamic_symbols(f)[1])
                except (OSError, ElfReadError):
                    self.exports[e.path] = frozenset()
            if symbol in self.exports[e.path]:
                return True
            todo += e.elf.needed
        return False

    def _system_exports(self, name: str) -> frozenset[str]:
        from qpack.elf import ElfReadError, dynamic_symbols
        from qpack.ldpaths import host_cache_flags, parse_ld_so_cache

        if self._cache is None:
            try:
                # This machine's entries: its x32 and i386 libc.so.6 are listed too.
                self._cache = parse_ld_so_cache(Path("/etc/ld.so.cache").read_bytes(), host_cache_flags())
            except OSError:
                self._cache = {}
        key = f"system:{name}"
        if key not in self.exports:
            self.exports[key] = frozenset()
            for path in self._cache.get(name, [])[:1]:
                try:
                    with open(path, "rb") as f:
                        self.exports[key] = frozenset(dynamic_symbols(f)[1])
                except (OSError, ElfReadError):
                    pass
        return self.exports[key]


def _through_target_only(path: str, defines: frozenset[str], own: tuple[str, ...]) -> list[str]:
    """The warning for a symlink module that defines only its target's entry, not its own
    name's: found through the link's target name (uWSGI's python3_plugin.so ->
    python311_plugin.so), while a wheel holds a copy under the link's name, whose own entry it
    lacks (an xtables tester's libxt_DNAT.so, loading in the tree, was refused once installed
    from wheels)."""
    if not defines or defines & set(own):
        return []
    return [
        f"{path}: a symlink module found through its target's entry ({', '.join(sorted(defines))}); a "
        f"wheel holds it as a copy, which does not define {own[0]}: installed from wheels, the loader "
        "refuses it"
    ]


def _entry_defines(path: Path, entry: tuple[str, ...]) -> frozenset[str] | None:
    """Which of its entry symbols a module file defines, looked up in its symbol hash table as
    the dynamic linker would; None where it cannot be read (said elsewhere). Read only when the
    layout names an entry."""
    from qpack.elf import ElfReadError, read_link_facts

    try:
        with open(path, "rb") as f:
            return read_link_facts(f, entry).defines & set(entry)
    except (OSError, ElfReadError):
        return None


def _tally_entry(
    path: str,
    key: str,
    entry: tuple[str, ...],
    defines: frozenset[str],
    tallies: tuple[dict[str, set[str]], dict[str, set[str]], dict[str, list[str]]],
    warnings: list[str],
) -> None:
    """Counts one module's entry symbols into `tallies` (entry key -> the symbols every module
    is looked up by, not those a template fills with its name; those defined; modules defining
    none), with a warning for a module defining none."""
    asked, used, lacking = tallies
    asked[key] = asked[key] & set(entry) if key in asked else set(entry)
    used.setdefault(key, set()).update(defines)
    if not defines:
        lacking.setdefault(key, []).append(path)
        which = entry[0] if len(entry) == 1 else "any of " + ", ".join(entry)
        warnings.append(f"{path}: module does not define {which}{_NO_ENTRY}")


def _entry_alternatives_unused(
    asked: Mapping[str, set[str]],
    used: Mapping[str, set[str]],
    lacking: Mapping[str, list[str]],
    entered: Mapping[str, list[str]],
    warnings: list[str],
) -> tuple[list[str], list[str]]:
    """(problems, warnings less those they replace): an entry key of several symbols, one of
    which no module defines, while most modules, two or more, define none of them: that one is
    mistyped (a SQLite tester's ["sqlite3_extenson_init", "sqlite3_modspatialite_init"]: five
    warnings, exit 0, for extensions sqlite3 loads; one module defined the other symbol). A few
    broken modules beside an alternative this build does not use are no sign."""
    problems = []
    for key, paths in lacking.items():
        unused = sorted(asked.get(key, set()) - used.get(key, set()))
        if len(paths) < 2 or 2 * len(paths) <= len(entered.get(key, ())) or not unused or not used.get(key):
            continue
        problems.append(
            f"no module of the build defines {unused[0]!r}, a symbol of {key}, and {len(paths)} modules "
            f"define none of its symbols ({_some_ids(paths, 2)}): is {unused[0]!r} mistyped?"
        )
        warnings = _without_entry_warnings(warnings, paths)
    return problems, warnings


def _same_bytes(modules: Iterable[Module], by_path: Mapping[str, Entry]) -> list[str]:
    """A warning for each set of module files with the same bytes (Mesa's DRI drivers: 13 hard
    links of one 26 MB file): trees keep hard links, but a wheel, and an install from wheels,
    holds each name as a copy of its own."""
    alike: dict[tuple[str, int], list[Module]] = {}
    for m in modules:
        # A module that is a link counts by the file it leads to (a VDPAU tester's six drivers,
        # SONAME links to six hard links of Mesa's one file: no word, 296 MB of wheels).
        e = _code_entry(by_path[m.path], by_path)
        if e.kind == "file" and e.sha256 is not None and e.size:
            alike.setdefault((e.sha256, e.size), []).append(m)
    sets = [
        (size, same) for (_, size), same in sorted(alike.items(), key=lambda kv: sorted(m.id for m in kv[1]))
    ]
    sets = [(size, same) for size, same in sets if len(same) > 1]
    # Small files are said in one line where there are many (a terminfo tester's 676 aliases,
    # a pkgconf tester's .pc files of 542 bytes: a warning each buried any other).
    small = [(size, same) for size, same in sets if len(same) * size < _SMALL_COPIES]
    if len(small) <= 2:
        small = []
    said_together = {id(same) for _, same in small}
    out = [_same_bytes_warning(size, same, by_path) for size, same in sets if id(same) not in said_together]
    if small:
        shown = "; ".join(", ".join(sorted(m.id for m in same)) for _, same in small[:2])
        out.append(
            f"{len(small)} sets of small modules are one file's bytes ({shown} and {len(small) - 2} more "
            f"sets): wheels and installs from them hold each as a copy "
            f"({sum(len(same) * size for size, same in small)} bytes in all)"
        )
    return out


# Below this many bytes as copies, a set of modules of one file's bytes is said with the others.
_SMALL_COPIES = 64 * 1024


def _same_bytes_warning(size: int, same: list[Module], by_path: Mapping[str, Entry]) -> str:
    """The warning for one set of module files with the same bytes."""
    # By their files where one module is there twice (a speech-dispatcher tester's sd_dummy in
    # two directories read "modules dummy, dummy").
    ids = sorted(m.id for m in same)
    twice = len(set(ids)) < len(ids)
    names = sorted(m.path for m in same) if twice else ids
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    # A module that is a symlink to another one is no copy (a GTK tester's
    # libcanberra-gtk-module.so -> libcanberra-gtk3-module.so read "hard links or copies").
    links = sum(by_path[m.path].kind == "symlink" for m in same)
    how = (
        f"{len(same)} names of {size} bytes, {links} of them {_symlinks(links)}"
        if links
        else f"{len(same)} files of {size} bytes: hard links or copies"
    )
    return (
        f"{'module files' if twice else 'modules'} {shown} are one file's bytes ({how}): wheels and "
        f"installs from them hold each as a copy ({len(same) * size} bytes)"
    )


def _symlinks(n: int) -> str:
    return "symlinks" if n > 1 else "a symlink"


def _stamp_unheld(path: str, exported: tuple[str, ...], held: set[str], value_symbol: str | None) -> str:
    """The warning for a module whose build stamp no loader file holds (`value_symbol`: the
    symbol of a stamp compared by value)."""
    if value_symbol is not None:
        # The strings like the value the loader's files hold are many; the module's is the news.
        if not exported:
            return f"{path}: module holds no {value_symbol} string, the stamp the loader compares{_OTHER}"
        theirs = f"{value_symbol} is {exported[0]!r}"
        return f"{path}: module's {theirs}, which the loader's files do not hold{_OTHER}"
    return (
        f"{path}: module exports {', '.join(exported) or 'no stamp'}, but the loader's files hold "
        f"{', '.join(sorted(held))}{_OTHER}"
    )


def _link_end(e: Entry, by_path: Mapping[str, Entry]) -> Entry | str:
    """Where a symlink leads, followed lexically inside the build: the entry it ends at, or why
    it ends nowhere in the build."""
    seen = {e.path}
    while e.kind == "symlink":
        dest = link_destination(e.path, e.target or "")
        if dest is None:
            return f"to {e.target!r}, outside the build"
        nxt = by_path.get(dest)
        if nxt is None:
            return f"to {e.target!r}, which is not in the build"
        if dest in seen:
            return "loop"
        seen.add(dest)
        e = nxt
    return e


def _dangling(path: str, by_path: Mapping[str, Entry]) -> bool:
    """Whether the build's `path` is a symlink leading nowhere in it: to no entry, or round."""
    e = by_path.get(path)
    if e is None or e.kind != "symlink":
        return False
    end = _link_end(e, by_path)
    return isinstance(end, str) and (end == "loop" or end.endswith("which is not in the build"))


def _link_problem(e: Entry, by_path: Mapping[str, Entry]) -> str | None:
    """Why a symlink does not lead to a regular file of the build (followed lexically), or None."""
    end = _link_end(e, by_path)
    if isinstance(end, str):
        return end
    return None if end.kind == "file" else f"to the directory {end.path!r}"


def module_code(found: FoundModules, by_path: Mapping[str, Entry]) -> dict[str, Module]:
    """The regular file each module that is a symlink leads to (`ui/gtk.so -> gtk.so.1`,
    followed lexically inside the build), when that file is no module itself: the module's
    code, which goes where the module goes unless a rule of its own claims it. So do the other
    symlinks beside it that lead to a module or its code (SASL's SONAME link libplain.so.2 ->
    libplain.so.2.0.25, the code of module plain): in another package they would dangle."""
    out: dict[str, Module] = {}
    by_module_path = {m.path: m for m in found.modules}
    missing: dict[str, Module] = {}  # a path a module's link names that the build lacks
    links = {p for p, e in by_path.items() if e.kind == "symlink"}

    # A module linking its code straight first: its code is its own, and one reaching it through
    # that module's file is a link to that module (a glvnd tester's libGLX_indirect.so.0 ->
    # libGLX_mesa.so.0 -> libGLX_mesa.so.0.0.0: the code went to glx-indirect, by name order,
    # and glx-mesa's package required it).
    def straight(m: Module) -> bool:
        e = by_path.get(m.path)
        return e is not None and e.kind == "symlink" and link_destination(e.path, e.target or "") not in links

    for m in sorted(found.modules, key=lambda m: not straight(m)):
        e = by_path.get(m.path)
        if e is None or e.kind != "symlink":
            continue
        end = _link_end(e, by_path)
        if not isinstance(end, str) and end.kind == "file" and end.path not in by_module_path:
            out.setdefault(end.path, m)
        elif (gone := _dangling_end(e, by_path)) is not None:
            # A link that dangles (a Janus tester's libjanus_echotest.so, its .so.1.1.2 removed):
            # the other links to the file it names (libjanus_echotest.so.1) are still the
            # module's other names, not strays of the core.
            missing.setdefault(gone, m)
    for e in by_path.values():
        if e.kind != "symlink" or e.path in by_module_path or e.path in out:
            continue
        end = _link_end(e, by_path)
        if isinstance(end, str):
            gone = _dangling_end(e, by_path) if missing else None
            if gone is not None and gone in missing and posixpath.dirname(gone) == posixpath.dirname(e.path):
                out[e.path] = missing[gone]
            continue
        if posixpath.dirname(end.path) != posixpath.dirname(e.path):
            continue
        owner = by_module_path.get(end.path) or out.get(end.path)
        if owner is not None:
            out[e.path] = owner
    return out


def _dangling_end(link: Entry, by_path: Mapping[str, Entry]) -> str | None:
    """The path inside the build a symlink leads to (lexically, through other links) that the
    build lacks, or None (it leads to a file, a directory, outside the build, or round)."""
    seen = {link.path}
    while link.kind == "symlink":
        nxt = link_destination(link.path, link.target or "")
        if nxt is None or nxt in seen:
            return None
        e = by_path.get(nxt)
        if e is None:
            return nxt
        seen.add(nxt)
        link = e
    return None


def claim(
    items: tuple[Entry, ...],
    rules: tuple[Rule, ...],
    module_at: Mapping[str, Module],
    layout: Layout,
    tags: Mapping[str, str] | None = None,
    code_of: Mapping[str, Module] | None = None,
) -> tuple[_Claims, list[str]]:
    """Each path to the one rule that claims it, else to its per-module package or a `rest`
    package; paths no rule claims stay unclaimed. A path two rules claim is a problem. A
    module's code behind its symlink (`code_of`, from `module_code`) goes with the module."""
    out = _Claims()
    problems: list[str] = []
    rest_core = next((p.name for p in layout.packages if p.rest and p.kind == "core"), None)
    # Where the modules no rule claims go without [per-module]: a group with `rest`, or a core
    # with `rest-modules`.
    rest_group = next(
        (p.name for p in layout.packages if (p.rest and p.kind == "group") or p.rest_modules), None
    )
    own, out.per_module_names = _per_module_file_rules(items, rules, module_at, layout, rest_group)
    loader_res = [compile_glob(g) for g in layout.loader.loader_globs(layout.prefix)]
    index = _RuleIndex((*rules, *own))
    for e in items:
        mod = module_at.get(e.path)
        tag = tags.get(e.path) if tags else None
        hits = _once_per_package(index.hits(e.path, mod, tag))
        owner = code_of.get(e.path) if code_of and mod is None else None
        if owner is not None and not hits and _claim_code(e, owner, index, layout, rest_group, tags, out):
            continue
        if e.kind == "dir" and len(hits) > 1 and all(r.package is not None for r, _ in hits):
            # One directory in several packages (Debian ships an empty directory from two
            # .debs): each of them ships it.
            for r, why in hits:
                out.claims.append(Claim(e.path, r.package, f"{r.description}: {why}"))
            continue
        if len(hits) > 1:
            (a, why_a), (b, why_b) = hits[0], hits[1]
            problems.append(
                f"{e.path}: claimed twice: by {_claimer(a)} ({why_a}) and by {_claimer(b)} ({why_b})"
            )
            continue
        if hits and hits[0][0].owners and (taken := _not_own(e.path, mod, *hits[0], loader_res)):
            problems.append(taken)
            continue
        if hits:
            rule, why = hits[0]
            if rule.package is None:
                out.excluded.append(Excluded(e.path, rule.reason, f"{rule.description}: {why}"))
            why = _as_module(rule, mod, layout) or f"{rule.description}: {why}"
            out.claims.append(Claim(e.path, rule.package, why, mod.id if mod else None))
        elif mod is not None and layout.per_module is not None:
            name, key = layout.per_module.package_name(mod.type, mod.name, mod.id)
            out.per_module_names[mod.id] = name
            out.claims.append(Claim(e.path, name, f"{key} ({mod.id})", mod.id))
        elif mod is not None and rest_group is not None:
            out.claims.append(
                Claim(e.path, rest_group, f"package {rest_group!r}: rest (other modules)", mod.id)
            )
        elif mod is None and rest_core is not None:
            out.claims.append(Claim(e.path, rest_core, f"package {rest_core!r}{_REST_FILES}"))
        else:
            out.unclaimed.append(e.path)
    return out, problems


def _once_per_package(hits: list[tuple[Rule, str]]) -> list[tuple[Rule, str]]:
    """The rules claiming one path, but one where all give it to one package (a group's own rule
    and its modules' files naming one path: the group's, once)."""
    if len(hits) > 1 and all(r.package is not None and r.package == hits[0][0].package for r, _ in hits):
        return hits[:1]
    return hits


def _not_own(
    path: str, mod: Module | None, rule: Rule, why: str, loader_res: list[re.Pattern[str]]
) -> str | None:
    """Why a rule of modules' own files may not take `path`: another module's file, or one of
    the loader's programs (a Tracker re-tester's `[modules.files]` glob took extract-png's
    module into extract-icon's package, and another the extractor program itself)."""
    if mod is not None and mod.id not in rule.owners:
        return f"{path}: module {mod.id!r}, claimed by {why} as a file of another module"
    if any(r.match(path) for r in loader_res):
        return f"{path}: a program of the loader, claimed by {why} as a module's file"
    return None


def _claim_code(
    e: Entry,
    owner: Module,
    index: _RuleIndex,
    layout: Layout,
    rest_group: str | None,
    tags: Mapping[str, str] | None,
    out: _Claims,
) -> bool:
    """Claim a module's code (or another name of it) for the module's package, or exclude it
    with the module; False when the module goes nowhere (unclaimed)."""
    why = (
        f"another name of module {owner.id}'s code"
        if e.kind == "symlink"
        else f"the code of module {owner.id} ({owner.path} links to it)"
    )
    owner_hits = index.hits(owner.path, owner, tags.get(owner.path) if tags else None)
    if owner_hits and owner_hits[0][0].package is None:  # the module is excluded: so is its code
        rule, _ = owner_hits[0]
        out.excluded.append(Excluded(e.path, rule.reason, f"{rule.description}: {why}"))
        out.claims.append(Claim(e.path, None, f"{rule.description}: {why}"))
        return True
    package = _module_package(owner, index, layout, rest_group, tags)
    if package is None:
        return False
    out.claims.append(Claim(e.path, package, why))
    return True


def _module_package(
    mod: Module, index: _RuleIndex, layout: Layout, rest_group: str | None, tags: Mapping[str, str] | None
) -> str | None:
    """The package module `mod` goes to: the rule claiming its file, its per-module package or
    the `rest` group (None when excluded or unclaimed)."""
    hits = index.hits(mod.path, mod, tags.get(mod.path) if tags else None)
    if hits:
        return hits[0][0].package
    if layout.per_module is not None:
        return layout.per_module.package_name(mod.type, mod.name, mod.id)[0]
    return rest_group


_REST_FILES = ": rest (other files)"  # how a claim by a core's `rest` ends


def _per_module_file_rules(
    items: tuple[Entry, ...],
    rules: tuple[Rule, ...],
    module_at: Mapping[str, Module],
    layout: Layout,
    rest_group: str | None,
) -> tuple[list[Rule], dict[str, str]]:
    """`[per-module] files` and `[modules.files]`: for each package holding modules, a rule
    claiming the files its modules carry beside them (a doc directory, a helper, a man page,
    Tracker's extractor rules); and the package of each module that gets its own. A module's
    files go where the module goes: to its own package, to the group that takes it (`{package}`
    then is the group's name: an nginx tester's group of stream modules left their confs in the
    core), or out with it when it is excluded. A rule that claims the module's file itself (a
    gedit tester's `{name}/**` matched a Python plug-in's `{name}/__init__.py`) claims it for
    that package all the same: the package was left unbuilt, and its 75 files lost without a
    word."""
    per_module = layout.per_module
    names: dict[str, str] = {}
    descriptor = layout.loader.descriptor
    if not (per_module is not None and per_module.files) and not layout.module_files and descriptor is None:
        return [], names
    prefix = layout.prefix
    index = _RuleIndex(rules)
    # One rule per package: modules a rename (or normalize) gives one name share it, and two
    # rules of one package claiming one file were "claimed twice".
    by_package: dict[str, tuple[list[str], dict[str, tuple[str, str, list[str]]]]] = {}
    # An excluded module's own files go with it (an nginx tester's excluded http_geoip left
    # its mod-http-geoip.conf, a load_module line for a module not shipped, in the core).
    excluded: dict[Rule, tuple[list[str], dict[str, tuple[str, str, list[str]]]]] = {}
    for e in items:
        mod = module_at.get(e.path)
        if mod is None:
            continue
        hits = index.hits(e.path, mod)
        own = per_module.package_name(mod.type, mod.name, mod.id)[0] if per_module is not None else None
        if hits and hits[0][0].package is not None:  # a group takes it
            package = hits[0][0].package
            ids, globs = by_package.setdefault(package, ([], {}))
        elif hits:  # excluded: its files are excluded with it
            package = own or mod.id
            ids, globs = excluded.setdefault(hits[0][0], ([], {}))
        elif own is not None or rest_group is not None:
            package = own or rest_group or ""
            if own is not None:
                names[mod.id] = own
            ids, globs = by_package.setdefault(package, ([], {}))
        else:
            continue  # unclaimed: so are its files
        ids.append(mod.id)
        for key, templates in (
            ("per-module.files", per_module.files if per_module is not None else ()),
            ("modules.files", layout.files_of_module(mod.id)),
        ):
            for shown, filled in zip(
                templates, module_file_globs(templates, package, mod.type, mod.name, mod.id), strict=True
            ):
                globs.setdefault(filled, (key, shown, []))[2].append(mod.id)
        # The descriptor the loader registers it by goes where it goes (libpeas's .plugin files
        # went into the core, each plug-in package left with code the loader never registers).
        path = layout.loader.descriptor_of(e.path, mod.id)
        if descriptor is not None and path is not None and not any(c in path for c in "*?[]{},"):
            globs.setdefault(path, ("loader.descriptor", descriptor, []))[2].append(mod.id)
    rules_out = [
        _module_files_rule(ids, globs, package, "", "", prefix)
        for package, (ids, globs) in by_package.items()
        if globs
    ]
    rules_out += [
        _module_files_rule(ids, globs, None, rule.reason, f", excluded with {rule.description}", prefix)
        for rule, (ids, globs) in excluded.items()
        if globs
    ]
    return rules_out, names


def _as_module(rule: Rule, mod: Module | None, layout: Layout) -> str | None:
    """Why a module's file is in its package, where a glob of the module's own files takes it
    into the package it goes to anyway (an LV2 tester's bundle glob, `{name}.lv2/**`: its `.so`
    was explained as one of the module's own files, as its `.ttl` files are)."""
    if mod is None or mod.id not in rule.owners or layout.per_module is None:
        return None
    name, key = layout.per_module.package_name(mod.type, mod.name, mod.id)
    return f"{key} ({mod.id})" if name == rule.package else None


def _module_files_rule(
    ids: list[str],
    globs: Mapping[str, tuple[str, str, list[str]]],
    package: str | None,
    reason: str,
    more: str,
    prefix: str,
) -> Rule:
    """The rule claiming modules' own files (`globs`: filled in -> (layout key, as written,
    the modules it was filled in for, the same for each))."""
    return Rule(
        description=f"modules' own files ({', '.join(ids)}){more}",
        package=package,
        reason=reason,
        # Shown as the layout writes it; matched as filled in for these modules.
        files=tuple(
            (shown, compile_glob(expand_prefix(filled, prefix))) for filled, (_, shown, _) in globs.items()
        ),
        modules=(),
        owners=tuple(ids),
        # Which key and which module each glob is (a lighttpd tester's 05-auth.conf was said to
        # be claimed by the group's 15 modules, and 10-ssl.conf by both keys).
        # One filled in the same for several (`{package}` of a group) is theirs, not the first's.
        whys=tuple(f"{key} {shown!r} of {_first_and_more(mids)}" for key, shown, mids in globs.values()),
    )


def _claimer(rule: Rule) -> str:
    """A rule as a claimed-twice line names it: modules' own files without every module of their
    package, since the glob's own words say whose it is (an Erlang tester's include/ glob was
    said to be claimed by "modules' own files (compiler, erts, kernel, sasl, stdlib)" for
    kernel's file.hrl)."""
    if rule.owners:
        return rule.description.replace(f" ({', '.join(rule.owners)})", "", 1)
    return rule.description


def _first_and_more(ids: list[str]) -> str:
    # Once each: two keys of one module filled in alike (a PowerDNS tester's [modules.files]
    # glob and the [per-module] `{package}` one) read "of 'bind' and 1 other module".
    ids = list(dict.fromkeys(ids))
    more = len(ids) - 1
    return f"{ids[0]!r}" + (f" and {more} other module{'s' if more > 1 else ''}" if more else "")


def apply_unclaimed(
    found: _Claims,
    policy: Unclaimed,
    layout: Layout,
    module_at: Mapping[str, Module],
    core: str | None = None,
    warnings: list[str] | None = None,
) -> list[str]:
    """The unclaimed policy: fail (`error`), give them to a core package (`core`: the one named
    by `core`, else the core `rest` package, else the first core package; with several core
    packages a warning in `warnings` names the one chosen), or leave them out but still list
    them (`drop`, so scripts see what was left out). Returns problems."""
    paths = found.unclaimed
    cores = list(layout.core_packages())
    if core is not None and core not in cores:
        known = ", ".join(repr(c) for c in cores) or "none"
        return [
            f"--unclaimed core={core}: not a core package of layout {layout.name!r} (core packages: {known})"
        ]
    if not paths:
        return []
    if policy == "error":
        shown = "\n  ".join(paths[:50])
        more = f"\n  ... and {len(paths) - 50} more" if len(paths) > 50 else ""
        # A ZNC tester gave the program's package kind = "group" with rest = true, and read this
        # list of the program's own files as a rule missing.
        groups = [p.name for p in layout.packages if p.rest and p.kind == "group"]
        hint = (
            f"; group {groups[0]!r} has rest = true, which takes the modules no rule claims, not other "
            "files: a core [[package]] with rest = true (and rest-modules = true) takes both"
            if groups and not any(p.rest and p.kind == "core" for p in layout.packages)
            else ""
        )
        return [
            f"{len(paths)} file(s) claimed by no package of layout {layout.name!r} "
            f"(add a rule, or pass --unclaimed core|drop{hint}):\n  {shown}{more}"
        ]
    if policy == "core":
        rest_core = next((p.name for p in layout.packages if p.rest and p.kind == "core"), None)
        target = core or rest_core or next(iter(cores), None)
        if target is None:
            return [f"--unclaimed core: layout {layout.name!r} has no core package"]
        if core is None and len(cores) > 1 and warnings is not None:
            warnings.append(
                f"--unclaimed core: {len(paths)} file(s) claimed by no rule went to {target!r}, one of "
                f"the core packages {', '.join(repr(c) for c in cores)}; --unclaimed core=NAME picks another"
            )
        for path in paths:
            found.claims.append(
                Claim(path, target, "--unclaimed core", module_at[path].id if path in module_at else None)
            )
        found.unclaimed = []
        return []
    for path in paths:
        found.excluded.append(Excluded(path, "claimed by no rule (--unclaimed drop)", "--unclaimed drop"))
        found.claims.append(Claim(path, None, "--unclaimed drop"))
    return []


def build_packages(
    found: _Claims, layout: Layout, modules: tuple[Module, ...], prefix: str | None = None
) -> tuple[list[Package], list[str]]:
    """The layout's packages, then the per-module ones, with their files, modules and
    requirements: the core packages (or the rule's own `requires`) plus the packages of
    the modules each module needs loaded first. Returns (packages, problems)."""
    problems: list[str] = []
    files_of: dict[str, list[str]] = defaultdict(list)
    modules_of: dict[str, list[str]] = defaultdict(list)
    for cl in found.claims:
        if cl.package is None:
            continue
        files_of[cl.package].append(cl.path)
        if cl.module:
            modules_of[cl.package].append(cl.module)
    module_pkg = {cl.module: cl.package for cl in found.claims if cl.module and cl.package}
    present = {m.id for m in modules}
    # A module neither packaged nor excluded had its claim refused (claimed twice): that
    # problem is said, and its dependents' would only follow from it.
    out = {x.path for x in found.excluded}
    unclaimed = {m.id for m in modules if m.id not in module_pkg and m.path not in out}

    rules = {p.name: p for p in layout.packages}
    per_module = set(found.per_module_names.values())
    names = [p.name for p in layout.packages] + sorted(per_module - set(rules))
    for n in sorted(per_module & set(rules)):
        problems.append(f"per-module package name {n!r} is also a [[package]] of layout {layout.name!r}")
    if layout.meta and layout.meta.name in names:
        problems.append(f"meta package name {layout.meta.name!r} is also the name of another package")

    packages: list[Package] = []
    run_by_none: dict[str, list[str]] = {}  # a runner no package holds -> the modules it runs
    for name in names:
        rule = rules.get(name)
        kind: PackageKind = rule.kind if rule else "module"
        mods = sorted(set(modules_of.get(name, [])))
        req = _base_requires(layout, rule, kind)
        _dependency_requirements(
            layout, name, mods, (present, unclaimed, module_pkg), req, problems, run_by_none
        )
        recommends = [
            module_pkg[r]
            for r in _recommended(layout, rule, mods, module_pkg)
            if r in module_pkg and module_pkg[r] != name and module_pkg[r] not in req
        ]
        packages.append(
            Package(
                name=name,
                kind=kind,
                files=tuple(sorted(files_of.get(name, []))),
                modules=tuple(mods),
                requires=tuple(r for r in req if r != name),
                pins=rule.pins if rule is not None else {},
                alternatives=rule.alternatives
                if rule is not None
                else (layout.per_module.alternatives if layout.per_module else {}),
                depends=rule.depends
                if rule is not None
                else (layout.per_module.depends if layout.per_module else ()),
                summary=_summary(layout, rule, mods, name),
                declared_dirs=rule.dir_paths(layout.prefix if prefix is None else prefix) if rule else (),
                recommends=tuple(dict.fromkeys(recommends)),
            )
        )
    # Every file claimed goes into a package that is built: a claim for one that is not would
    # drop the file from every output in silence (the gedit tester's 75 files).
    built = set(names)
    for cl in found.claims:
        if cl.package is not None and cl.package not in built:
            problems.append(
                f"{cl.path}: claimed by {cl.rule}, for package {cl.package!r}, which is never made"
            )
    # Once for each runner (a GNOME Shell re-tester's "metadata.json" = "gjs": 15 lines, one a
    # module, none naming the key).
    problems += [
        f"[loader] runners names module {dep!r} as the runner of {_some_ids(sorted(mids))}, and it "
        f'{_not_packaged(layout.loader, dep, present)}: they would never load ("" says the program '
        "itself reads their files)"
        for dep, mids in run_by_none.items()
    ]
    return packages, problems


def _recommended(
    layout: Layout, rule: PackageRule | None, mods: Iterable[str], module_pkg: Mapping[str, str]
) -> list[str]:
    """The modules a package recommends: those its modules recommend ([modules.recommends] was
    read and used nowhere: an fcitx5 tester's OptionalDependencies were in no output), and
    those its [[package]] `recommends` names by id or glob (a core recommending plug-ins, as
    Debian's remmina does)."""
    wanted = [r for mid in mods for r in layout.loader.recommends_of(mid)]
    if rule is not None:
        wanted += [m for g in rule.recommends for m in sorted(module_pkg) if module_glob_matches(g, m)]
    return wanted


def _recommends_elsewhere(
    loader: Loader, modules: Iterable[Module], packages: list[Package], rules: Iterable[PackageRule] = ()
) -> list[str]:
    """A recommended module no package of the split holds: misspelt, excluded or not built.
    It only drops out of the recommendations, as a soft relation does, but an fcitx5 tester's
    `spel` for spell went unnoticed where [modules.dependencies] makes the same slip an error."""
    present = {m.id for m in modules}
    packaged = {m for p in packages for m in p.modules}
    out = []
    for mid in sorted(packaged):
        for r in loader.recommends_of(mid):
            if r not in packaged:
                # With the id it likely means (a Kea tester's "lease-cmds", the extra's spelling
                # of lease_cmds).
                where = "is excluded" if r in present else "is not in this build" + _near_hint(r, present)
                out.append(
                    f"module {mid!r} recommends module {r!r}, which {where}: left out of its recommends"
                )

    names = {p.name for p in packages}
    for rule in rules:
        for g in rule.recommends:
            if not any(module_glob_matches(g, m) for m in packaged) and not is_module_glob(g):
                where = "is excluded" if g in present else "is not in this build"
                # What was meant, where it shows (a Remmina re-tester's `rpd`, and a package's name).
                hint = (
                    f" ({g!r} is a package: `recommends` takes module ids)"
                    if g in names
                    else ""
                    if g in present
                    else _near_hint(g, present)
                )
                out.append(
                    f"package {rule.name!r} recommends module {g!r}, which {where}: left out of its "
                    f"recommends{hint}"
                )
    return out


def _entries_elsewhere(
    loader: Loader, inventory: Inventory, found: FoundModules, prefix: str, excluded: Collection[str] = ()
) -> list[str]:
    """A warning for each shared object of the build outside the module directories, or in
    them under a name no module has, that defines an entry symbol the layout names (one without
    placeholders): a module installed in the wrong directory or misnamed, which the split would
    put in whatever package claims it, where the loader never finds it (a PHP tester's
    gd_wrong.so in usr/lib/php, defining get_module; an MLT tester's xml.so beside libmltxml.so).
    Only shared objects no file of the build links are read (PHP's extensions have a SONAME
    too), and no program."""
    templates = {*loader.entry, *(x for t in loader.type_entry.values() for x in t)}
    fixed = sorted(e for e in templates if "{" not in e)
    # An entry named after its module (strongSwan's {name}_plugin_create): those of the build's
    # modules, so a copy of one outside the module directories is found (a strongSwan tester's
    # libstrongswan-aes2.so in lib/ipsec, defining aes_plugin_create, was split without a word).
    own = {s: m.id for m in found.modules for s in loader.entry_symbols(m.id) if s not in fixed}
    # A build stamp a file exports marks it as a module as well as an entry does (a Zathura
    # tester's plug-in in Arch's usr/lib/zathura, exporting zathura_plugin_4_5, went to the
    # core in silence); the scan has read every file's, so nothing more is read for it.
    stamp = loader.stamp_symbol is not None
    # Any module's entry, where the templates name the module (a Varnish tester's libvmod_tcp.so,
    # moved out of the VMOD directory: Vmod_tcp_Data is no module's of the build any more, and
    # the file went to the core in silence).
    any_entry = loader.some_entry() if any("{" in t for t in templates) else None
    if not fixed and not own and not stamp and any_entry is None:
        return []
    module_dirs = [*loader.module_dirs(prefix)]
    module_dirs += linked_dirs(inventory, module_dirs)  # a location linked to its directory
    dirs = [compile_glob(d + "/**") for d in module_dirs]
    # A module's code behind its symlink is the module (an Audacity tester's modules/x.so ->
    # ../x.so.3.2.4 was warned of as a module installed in the wrong place).
    modules = {m.path for m in found.modules} | set(module_code(found, inventory.by_path()))
    warned = {w.partition(": in a module directory")[0] for w in found.never_looked_up}
    # A file the layout names by its path, no wildcard: known to be where it belongs (a Totem
    # tester's libpeas-1.0/loaders/libpython3loader.so, libpeas's own plug-in, was warned of on
    # every plan); a glob naming many files says nothing of each.
    named = (expand_prefix(g, prefix) for g in loader.named_files)
    known = {g for g in named if not any(c in g for c in WILDCARDS)}
    linked = _linked_names(inventory)
    # The loader library itself defines what may read as an entry (an apr-util tester's
    # libaprutil-1.so.0.6.3 "defines apr_crypto_get_driver", apr_crypto_{name}_driver's shape:
    # a misplaced module?), named by its file or a link to it.
    if loader.library is not None:
        lib_glob = compile_glob(expand_prefix(loader.library, prefix).lstrip("/"))
        by_link = {e.path: e.target or "" for e in inventory.entries if e.kind == "symlink"}
        ends = (link_end(e.path, by_link) for e in inventory.entries if lib_glob.match(e.path))
        known |= {end for end in ends if end is not None}
    out = []
    for e in inventory.files():
        elf = e.elf
        if (
            e.kind != "file"
            or elf is None
            or elf.elf_type != "ET_DYN"
            or elf.interp
            or _is_linked(e, linked)
            or e.path in modules
            or e.path in warned
            or e.path in known
            # Left out of every package: in no wrong place (a Ruby tester's excluded gem copies).
            or e.path in excluded
            or not (e.name.endswith(".so") or ".so." in e.name)
        ):
            continue
        said = _entry_defined(e, inventory, fixed, own, any_entry)
        if said is None and stamp and elf.stamps_exported:
            said = (
                f"{e.path}: exports {elf.stamps_exported[0]}, the build stamp modules export, but"
                if loader.stamp_value is None
                else f"{e.path}: defines {loader.stamp_symbol}, the build stamp modules carry, but"
            )
        if said is None:
            continue
        if any(r.match(e.path) for r in dirs):
            # An MLT tester's xml.so beside libmltxml.so: in the module directory, named as no
            # module, and put in the core without a word. A hidden one is skipped for that (a
            # cmus tester's ip/.hidden.so was told its name fits no naming, which it does).
            hidden = loader.skip_hidden and any(part.startswith(".") for part in e.path.split("/"))
            out.append(
                f"{said} its name starts with '.', and the loader skips hidden names (skip-hidden): the "
                "loader never takes it as a module"
                if hidden
                else f"{said} its name is none the loader looks up (modules are named "
                f"{loader.naming.describe()}): a module misnamed? The loader never takes it as one"
            )
            continue
        where = ", ".join(d.replace("*", "{pkgversion}") for d in module_dirs)
        out.append(
            f"{said} lies outside the module directories ({where}): a module installed in the wrong "
            "place? The loader never finds it there (a [[package]] `files` entry naming its exact path, "
            "no wildcard, says it belongs there)"
        )
    return out


def _entry_defined(
    e: Entry,
    inventory: Inventory,
    fixed: Sequence[str],
    own: Mapping[str, str],
    named: re.Pattern[str] | None = None,
) -> str | None:
    """How a warning about `e` starts when it defines one of the entry symbols, `fixed` or a
    module's `own` (symbol -> module id), or one `named` matches (any module's, from the entry
    templates); None when it defines none, or cannot be read."""
    if not fixed and not own and named is None:
        return None
    from qpack.elf import ElfReadError, dynamic_symbols, read_link_facts

    try:
        with open(inventory.source(e.path), "rb") as f:
            defines = read_link_facts(f, (*fixed, *own)).defines if fixed or own else frozenset()
            if not defines & {*fixed, *own} and named is not None:
                f.seek(0)
                symbol = min((s for s in dynamic_symbols(f)[1] if named.fullmatch(s)), default=None)
                return f"{e.path}: defines {symbol}, named as a module's entry is, but" if symbol else None
    except (OSError, ElfReadError):
        return None
    if not (hit := sorted(defines & {*fixed, *own})):
        return None
    whose = f"module {own[hit[0]]!r}" if hit[0] in own else "a module"
    return f"{e.path}: defines {hit[0]}, the entry the loader calls in {whose}, but"


def _no_loader_file(loader: Loader, inventory: Inventory, prefix: str) -> list[str]:
    """A warning when no path of the build matches the layout's executables (or its loader
    library): a PHP tester's `bin/php82` for `bin/php8.2` was split without a word, and only
    `check` said later that no program was installed. A build of modules alone (plugins for a
    host packaged elsewhere) is warned too: check then needs --program."""
    globs = [g.lstrip("/") for g in loader.loader_globs(prefix)]
    if not globs:
        return []
    paths = [e.path for e in inventory.entries if e.kind != "dir"]
    if loader.library is not None:
        # An MLT tester's misspelt library beside executables that matched: every other program
        # linking the library would have gone unchecked without a word.
        library = expand_prefix(loader.library, prefix).lstrip("/")
        lib_glob = compile_glob(library)
        exe_globs = [compile_glob(g.lstrip("/")) for g in loader.executable_globs(prefix)]
        if not any(lib_glob.match(p) for p in paths) and any(r.match(p) for r in exe_globs for p in paths):
            return [
                f"no file of the build matches the layout's loader library ({library}): is its name "
                "mistyped? `check` then judges the executables alone, not every program linking it"
            ]
    patterns = [compile_glob(g) for g in globs]
    matched = [p for p in paths if any(r.match(p) for r in patterns)]
    if matched:
        # One named program missing beside another found (a BlueZ tester's "bluetoothdd" beside
        # obexd: no word, and check then called bluetoothd's plug-ins "unused", exit 0).
        missing = _executables_missing(loader, paths, prefix)
        if missing:
            return missing
    if (
        matched
        and loader.library is None
        and not loader.script_may_load  # a script reading or running its modules loads them (dracut)
        and (scripts := _only_scripts(matched, inventory))
    ):
        # A Valgrind tester's bin/valgrind, a shell script running valgrind.bin: split went ahead
        # in silence, and check of the install then found no program.
        return [
            f"the layout's executables ({', '.join(globs)}) match no ELF program of the build, only "
            f"the script(s) {', '.join(scripts[:3])}: name the program that loads the modules"
        ]
    if matched:
        return []
    what = "executables or loader library" if loader.library else "executables"
    return [
        f"no file of the build matches the layout's {what} ({', '.join(globs)}): a build of modules "
        "alone (`check` of an install then needs --program), or a name mistyped?"
    ]


def _executables_missing(loader: Loader, paths: Sequence[str], prefix: str) -> list[str]:
    """A warning for each executable the layout names by a plain path that is not in the build,
    with the name beside it that is nearest."""
    import difflib  # only for an executable not found

    have = set(paths)
    out = []
    for glob in loader.executable_globs(prefix):
        path = glob.lstrip("/")
        if any(c in path for c in "*?[{") or path in have:
            continue
        beside = [posixpath.basename(p) for p in paths if posixpath.dirname(p) == posixpath.dirname(path)]
        close = difflib.get_close_matches(posixpath.basename(path), beside, n=1, cutoff=0.8)
        hint = f" (did you mean {posixpath.join(posixpath.dirname(path), close[0])}?)" if close else ""
        out.append(
            f"the layout's executable {path} is not in the build{hint}: check of an install finds no such "
            "program, and calls the modules only it loads unused"
        )
    return out


def _only_scripts(paths: Sequence[str], inventory: Inventory) -> list[str]:
    """`paths` when every one is a script (`#!`), symlinks followed inside the build; [] when
    any is something else (an ELF program, a link out of the build, data)."""
    by_path = inventory.by_path()
    by_link = {e.path: e.target or "" for e in inventory.entries if e.kind == "symlink"}
    for path in paths:
        end = link_end(path, by_link)
        e = by_path.get(end) if end is not None else None
        if e is None or e.kind != "file" or e.elf is not None or e.elf_error is not None:
            return []
        try:
            with open(inventory.source(e.path), "rb") as f:
                if f.read(2) != b"#!":
                    return []
        except OSError:
            return []
    return list(paths)


def _program_types_mistyped(loader: Loader, inventory: Inventory, prefix: str) -> list[str]:
    """A warning for each `[loader.program-types]` glob that matches no file of the build while
    a file beside it has a name close to it: a NetworkManager tester's mistyped program was
    ignored without a word, and the program then counted as asking for every module type. A
    glob naming a program this build lacks (one configured without it) is not warned of."""
    if not loader.program_types:
        return []
    from qpack.errors import did_you_mean

    paths = [e.path for e in inventory.entries if e.kind != "dir"]
    out = []
    for glob, _ in loader.program_types:
        expanded = expand_prefix(glob, prefix).lstrip("/")
        pattern = compile_glob(expanded)
        if any(pattern.fullmatch(p) for p in paths):
            continue
        where, name = posixpath.split(expanded)
        hint = did_you_mean([name], [posixpath.basename(p) for p in paths if posixpath.dirname(p) == where])
        if hint:
            out.append(
                f"loader.program-types: {glob!r} matches no file of the build{hint} Until it does, "
                "that program counts as asking for every module type"
            )
    return out


def _wheels_dirs_empty(loader: Loader, modules: Sequence[Module], prefix: str) -> list[str]:
    """A variable's `wheels` directory holding no module of the types it reaches, where the
    build has some: a wheel split refuses it (a BitlBee tester's `lib/bitlbe` passed plan and
    check, and only `split --format wheel` failed)."""
    pre = prefix.strip("/")
    out = []
    for way in loader.wheel_ways():
        mine = [m for m in modules if way.mtype in (None, m.type)]
        dirs = [f"{pre}/{d}" if pre else d for d in way.dirs]
        if mine and not any(m.path.startswith(d.rstrip("/") + "/") for m in mine for d in dirs):
            where = sorted({posixpath.dirname(m.path) for m in mine})
            shown = ", ".join(where[:3]) + (f" and {len(where) - 3} more" if len(where) > 3 else "")
            # Every directory it reaches (a GDAL tester's `under` list was named by its first).
            reached = " or ".join(f"{{prefix}}/{d}" for d in way.dirs)
            out.append(
                f"${way.variable}: its `wheels` directory {reached} holds no module of this "
                f"build (they are in {shown}): a wheel split refuses it; is it mistyped?"
            )
    return out


def _only_through_variables(loader: Loader, modules: Sequence[Module], prefix: str) -> list[str]:
    """A warning when no module of the build, or of some types, lies where the loader looks by
    default, but some lie in a variable's `wheels` directory: installed from these packages,
    the loader finds them only with that variable set. A PHP tester's layout named
    /usr/lib/php/20210902 (PHP 8.1's API directory) where the build has 20220829, its
    variable's `wheels` directory: the plan found every module there and said nothing, and
    `check /usr` found none. A PipeWire tester's `spa-0.3` for `spa-0.2` lost the SPA types
    only (22 of 53 modules, the one every program loads among them), and was not warned of."""
    pre = prefix.strip("/")
    defaults = [compile_glob(d + "/**") for d in loader.default_module_dirs(prefix)]
    if not defaults or not modules:
        return []
    by_type: dict[str, list[Module]] = defaultdict(list)
    for m in modules:
        by_type[m.type].append(m)
    lost_types = [
        t for t, ms in sorted(by_type.items()) if not any(r.match(m.path) for m in ms for r in defaults)
    ]
    lost = [m for t in lost_types for m in by_type[t]]
    places = [
        (loc.value, f"{pre}/{d}" if pre else d)
        for loc in loader.search
        if loc.kind == "env"
        for d in loc.wheel_module_dirs
    ]
    # A type's own variable's too (a GraphicsMagick tester's modules-Q8 for modules-Q16).
    places += [
        (loader.type_env[t], f"{pre}/{d}" if pre else d)
        for t, d in loader.type_wheels.items()
        if t in loader.type_env
    ]
    reached = {var: d for var, d in places if any(m.path.startswith(d + "/") for m in lost)}
    if not reached:
        return []
    where = ", ".join(f"{d} (${var})" for var, d in reached.items())
    searched = ", ".join(
        loc.value if loc.kind == "absolute" else f"{{prefix}}/{loc.value}"
        for loc in loader.search
        if loc.kind != "env"
    )
    if len(lost_types) == len(by_type):
        what = "no module of the build is"
    else:
        kinds = ", ".join(lost_types) if len(lost_types) <= 5 else f"{', '.join(lost_types[:5])}, ..."
        what = f"no module of {len(lost_types)} type(s) ({kinds}; {len(lost)} modules) is"
    needed = [m.id for m in lost if m.id in loader.program_needs]
    starts = f"; {', '.join(needed)}, which every program loads as it starts, among them" if needed else ""
    return [
        f"{what} where the loader looks by default ({searched}); they are in {where}, a variable's "
        f"`wheels` directory{starts}: installed from these packages, the loader finds them only "
        "with that variable set. Is a location of the layout wrong?"
    ]


def _keys_naming_nothing(
    loader: Loader,
    modules: Iterable[Module],
    packages: Iterable[Package],
    module_files: Iterable[str] = (),
    rules: Iterable[PackageRule] = (),
    renames: Iterable[str] = (),
) -> list[str]:
    """A literal key of a module table that names no module of the build but a package (a
    Remmina tester's `"remmina" = ["rdp"]` in [modules.recommends], hoping the core would
    recommend rdp), or is a near miss of a module id (a typo): it applies to nothing and was
    accepted in silence. A key naming a module this build lacks is no slip (the layout's
    `known` modules, or one layout serving builds configured with other modules), nor is a
    glob that matches nothing."""

    present = sorted({m.id for m in modules})
    is_present = set(present).__contains__  # a list's `in` made this quadratic in the keys
    names = {p.name for p in packages}
    known = loader.known_modules or frozenset()
    out = []
    tables = (
        ("dependencies", loader.dependencies),
        ("recommends", loader.recommends),
        ("programs", loader.module_programs),
        # An MLT tester's "vidstb": vid.stab's data went into the core without a word.
        ("files", module_files),
    )
    # A uWSGI tester's "python31" renamed nothing (python311 got the template's name), and
    # "ecoh" in uwsgi-core's modules left echo to a package of its own: both in silence.
    # With the other keys of its table: a module that has one of its own is no typo's target (a
    # Claws Mail tester's "pgpinline", absent from the build, was offered "pgpmime", a key too).
    # Each table's keys as one set, made once (made per key, a kernel tester's 2,946 dependency
    # keys took 8.7 million insertions).
    named: list[tuple[str, str, str, frozenset[str]]] = [
        (f"[modules.{table}] key", key, "it applies to nothing", keyed)
        for table, keys in tables
        for keyed in (frozenset(keys),)
        for key in keys
    ]
    renamed = frozenset(renames)
    named += [("[per-module.renames] key", key, "it renames nothing", renamed) for key in renames]
    named += [
        (f"[[package]] {r.name!r} `modules` entry", m, "the package takes nothing by it", keyed)
        for r in rules
        for keyed in (frozenset(r.modules),)
        for m in r.modules
    ]
    for where, key, effect, keyed in named:
        # Each literal alternative of a brace glob is a key of its own: a libgphoto2 tester's
        # "camlib-{sonixx,mars,...}" left sonix to a package of its own, in silence, the glob
        # matching the others.
        for alt in _brace_alternatives(key):
            if not is_present(alt) and alt not in known and (hint := _near_hint(alt, present)):
                out.append(f"{where} {key!r}: {alt!r} names no module of this build: {effect}{hint}")
        if is_module_glob(key):
            # A glob matching nothing is no slip (a layout serving other builds), unless its
            # literal start is a near miss of the modules' (a Shotwell tester's renames key
            # "libshotwel-*" renamed nothing, in silence).
            if (near := _near_glob(key, present)) is not None:
                out.append(
                    f"{where} {key!r} matches no module of this build: {effect} (did you mean {near!r}?)"
                )
            continue
        if is_present(key) or key in known:
            continue
        said = f"{where} {key!r} names no module of this build: {effect}"
        if key in names:
            hint = (
                " (a package's recommends is its [[package]] `recommends`)"
                if where == "[modules.recommends] key"
                else ""
            )
            out.append(f"{said}; {key!r} is a package{hint}")
        elif (near := _near_hint(key, [p for p in present if p not in keyed])) and not _sibling_of(
            loader, key, present
        ):
            out.append(f"{said}{near}")
    # The first matching rename wins: a later key whose every module an earlier one takes is
    # never used (the uWSGI tester's "lua5*" before "lua5x").
    keys = list(renames)
    for i, key in enumerate(keys):
        matched = [m for m in present if module_glob_matches(key, m)]
        earlier = next(
            (e for e in keys[:i] if matched and all(module_glob_matches(e, m) for m in matched)), None
        )
        if earlier is not None:
            out.append(
                f"[per-module.renames] key {key!r} is never used: the earlier key {earlier!r} renames "
                f"every module it names ({_some_ids(matched)})"
            )
    return out


def _per_module_globs_of_all(
    layout: Layout, module_at: Mapping[str, Module], claim_problems: list[str]
) -> list[str]:
    """`claim_problems`, with the problem of a `[per-module] files` glob naming none of a
    module's own placeholders, where two or more modules fill it in alike and so claim the same
    files, said once in place of the "claimed twice" it makes of each (a Budgie tester's
    `*/*/*.plugin`: 28 such lines, none saying why)."""
    if layout.per_module is None or len({m.id for m in module_at.values()}) < 2:
        return claim_problems
    own = ("{package}", "{module}", "{name}", "{dashed-name}", "{dashed-module}")
    shared = [
        f"per-module.files[{i}]: {g!r} names no {{name}}, {{module}} or {{package}}: every module claims "
        "its files (one module's files go in [modules.files], shared ones in a [[package]])"
        for i, g in enumerate(layout.per_module.files)
        if not any(k in g for k in own)
    ]
    return (
        [*shared, *(p for p in claim_problems if ": claimed twice: " not in p)] if shared else claim_problems
    )


def _dependency_requirements(
    layout: Layout,
    name: str,
    mods: Sequence[str],
    known: tuple[Collection[str], Collection[str], Mapping[str, str]],
    req: list[str],
    problems: list[str],
    run_by_none: dict[str, list[str]],
) -> None:
    """Package `name`'s requirements from its modules' dependencies (added to `req`), and the
    problem of each dependency no package holds: one for each runner (`run_by_none`), said
    once by the caller. `known`: the modules of the build, those no rule claimed, and each
    module's package."""
    present, unclaimed, module_pkg = known
    runners = set(layout.loader.runners.values())
    for mid in mods:
        for dep in (d for d in layout.loader.deps_of(mid) if d not in unclaimed):
            if dep not in present and dep in runners:
                run_by_none.setdefault(dep, []).append(mid)
            elif dep not in present or dep not in module_pkg:
                problems.append(
                    f"module {mid!r} (package {name!r}) needs module {dep!r}, "
                    f"which {_not_packaged(layout.loader, dep, set(present) - {mid})}: it would never load"
                )
            elif module_pkg[dep] != name and module_pkg[dep] not in req:
                req.append(module_pkg[dep])


def _not_packaged(loader: Loader, mid: str, present: Collection[str]) -> str:
    """Why module `mid` is in no package: excluded, or not built, with the id close to it
    that a typo missed (a uWSGI tester's "python31" for python311 was blamed on the build)."""
    if mid in present:
        return "is excluded"
    return "is not in this build" + ("" if _sibling_of(loader, mid, present) else _near_hint(mid, present))


def _near_glob(glob: str, present: Sequence[str]) -> str | None:
    """The glob with its literal start respelled as modules of `present` start, where it
    matches none of them and that start is a near miss of theirs (`libshotwel-*` for
    `libshotwell-*`), else None."""
    if not present or any(fnmatch.fnmatchcase(m, glob) for m in present):
        return None
    head = re.split(r"[*?\[]", glob, maxsplit=1)[0]
    if len(head) < 3:
        return None
    import difflib  # only for a glob that matches nothing

    starts = sorted({m[:n] for m in present for n in range(len(head) - 1, len(head) + 2)})
    close = difflib.get_close_matches(head, starts, n=1, cutoff=0.85)
    return close[0] + glob[len(head) :] if close else None


def _brace_alternatives(key: str) -> list[str]:
    """The module ids `key` names, where it is one `{a,b}` group and no other wildcard."""
    m = re.fullmatch(r"([^{}*?\[]*)\{([^{}*?\[]*,[^{}*?\[]*)\}([^{}*?\[]*)", key)
    return [m[1] + alt + m[3] for alt in m[2].split(",")] if m else []


def _near_hint(name: str, present: Iterable[str]) -> str:
    """' (did you mean X?)' for a module id close to one of `present`, else ''."""
    from qpack.errors import did_you_mean

    near = did_you_mean([name], sorted(present), max_edits=2)
    return f" ({near[2:]})" if near else ""


def _some_ids(ids: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _sibling_of(loader: Loader, key: str, present: Iterable[str]) -> bool:
    """Whether `key` is a module id of a type of its own whose name a module of the build has
    under another type: a module this build lacks, no typo (an Irssi tester's `fe-perl`, its
    file moved away, was taken for a near miss of `core-perl`)."""
    split = loader.naming.split_id(key)
    if split is None or split[0] not in loader.naming.types:
        return False
    return any((other := loader.naming.split_id(m)) is not None and other[1] == split[1] for m in present)


def packaged_modules(plan: Plan) -> set[str]:
    """The module ids some package of the split holds: not the excluded ones (an fcitx5
    tester's report and graph counted three excluded test addons as the split's)."""
    return {m for p in plan.packages for m in p.modules}


def requirement_closure(requires: Mapping[str, Iterable[str]], name: str) -> set[str]:
    """`name` and every package it requires, directly or not (a requirement cycle ends where it
    comes back)."""
    seen, todo = {name}, [name]
    while todo:
        for r in requires.get(todo.pop(), ()):
            if r not in seen:
                seen.add(r)
                todo.append(r)
    return seen


def library_requirements(
    packages: list[Package], inventory: Inventory, claims: _Claims
) -> tuple[list[Package], list[LibraryRequirement], list[str]]:
    """A package whose ELF files link (`DT_NEEDED`) a library that another package of the split
    ships requires that package, so installing it brings the library rather than letting the
    dynamic linker take the system's copy. Forbidden, and reported as a problem: a library no
    package ships (excluded), and a requirement that closes a cycle (the layout put the library
    in a package that needs the one linking it, such as a module's library linked by the core).
    A requirement another one already brings (a module linking the core's library, requiring
    the core) is left implied. Decided on the whole graph at once, so that the order of the
    layout's [[package]] tables changes nothing (a Qt tester's libqt5gui5 required core, dbus
    and network, or only dbus and network, as libqt5dbus5's table came later or first).
    Returns (packages, the requirements added with their reasons, problems)."""
    base = {p.name: list(p.requires) for p in packages}
    needs, problems = _library_needs(packages, inventory, claims)
    every = {name: list(reqs) for name, reqs in base.items()}
    for pn, q, *_ in needs:
        every[pn].append(q)
    reach_every = _Reach(every)
    kept = {name: list(reqs) for name, reqs in base.items()}
    cycles: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for pn, q, path, soname, provider in needs:
        if pn in reach_every(q) and q not in base[pn]:
            cycles.setdefault((pn, q), []).append((path, soname, provider))
        elif q not in kept[pn]:
            kept[pn].append(q)
    problems += [_cycle_problem(pn, q, links) for (pn, q), links in cycles.items()]
    reach = _Reach(kept)
    requires = {name: list(reqs) for name, reqs in base.items()}
    added: list[LibraryRequirement] = []
    for pn, q, path, soname, provider in needs:
        if q in requires[pn] or q not in kept[pn]:
            continue  # required already (by the layout, or for an earlier file), or a cycle
        if any(q in reach(r) for r in kept[pn] if r != q):
            continue  # implied: another requirement brings it
        requires[pn].append(q)
        added.append(LibraryRequirement(pn, q, path, soname, provider))
    out = [replace(p, requires=tuple(requires[p.name])) for p in packages]
    return out, added, problems


def _cycle_problem(pn: str, q: str, links: list[tuple[str, str, str]]) -> str:
    """The problem of package `pn` linking libraries of `q`, which requires `pn`: `links`, each
    (file, soname, the library's path). One line a pair of packages (a BIND tester's 62 lines,
    one per program and library, for five libraries put in the wrong one of two packages)."""
    path, soname, provider = links[0]
    if len(links) == 1:
        return (
            f"{path} (package {pn!r}) links {soname} from package {q!r}, which requires "
            f"{pn!r}: requiring it would make a cycle (put {provider} in {pn!r} "
            # An LV2 tester's calfjackhost, linking the calf plug-in's calf.so, belonged in the
            # plug-in's package: the library's move was the only remedy said.
            f"or a package both require, or, if it belongs with the library, {path} in {q!r})"
        )
    files = list(dict.fromkeys(p for p, _, _ in links))
    libraries = list(dict.fromkeys(lib for _, _, lib in links))
    return (
        f"{len(files)} file(s) of package {pn!r} ({_some_ids(files, 2)}) link {len(libraries)} "
        f"librar{'y' if len(libraries) == 1 else 'ies'} of package {q!r} ({_some_ids(libraries, 3)}), "
        f"which requires {pn!r}: requiring it would make a cycle (put those libraries in {pn!r} or a "
        f"package both require, or, if they belong with the libraries, those files in {q!r})"
    )


def _library_needs(
    packages: list[Package], inventory: Inventory, claims: _Claims
) -> tuple[list[tuple[str, str, str, str, str]], list[str]]:
    """Every library need between two packages, in the packages' and files' order: (package,
    the provider's package, the file, the soname, the provider); and a problem for each
    library only an unpackaged file provides."""
    provided = provided_sonames(inventory, inventory.prefix)
    owner = {cl.path: cl.package for cl in claims.claims}
    by_path = inventory.by_path()
    problems: list[str] = []
    needs: list[tuple[str, str, str, str, str]] = []
    for p in packages:
        for path in p.files:
            e = by_path[path]
            if e.kind != "file" or e.elf is None:
                continue
            for soname in e.elf.needed:
                provider = provided.get(soname)
                if provider is None or provider == path:
                    continue
                q = owner.get(provider)
                if q is None:
                    rule = next((c.rule for c in claims.claims if c.path == provider), "no rule")
                    problems.append(
                        f"{path} (package {p.name!r}) links {soname}, which only {provider} provides, "
                        f"and that file is in no package ({rule})"
                    )
                elif q != p.name:
                    needs.append((p.name, q, path, soname, provider))
    return needs, problems


class _Reach:
    """`requirement_closure` in a graph that does not change, each package's computed once."""

    def __init__(self, requires: Mapping[str, Iterable[str]]) -> None:
        self.requires = requires
        self.known: dict[str, set[str]] = {}

    def __call__(self, name: str) -> set[str]:
        if name not in self.known:
            self.known[name] = requirement_closure(self.requires, name)
        return self.known[name]


def link_requirements(
    packages: list[Package], by_path: Mapping[str, Entry], excluded: Mapping[str, str] | None = None
) -> tuple[list[Package], list[LinkRequirement], list[str]]:
    """A package holding a symlink that leads (lexically, inside the build) to a file of another
    package requires that package: without it the link dangles (ALSA's
    libasound_module_rate_lavrate_fast.so -> libasound_module_rate_lavrate.so, each a module
    of its own; a Pidgin tester's libpurple-dev, whose libpurple.so leads into libpurple0). A
    requirement that would close a cycle is left out, with a warning; so is a link of any
    package to an excluded file. Returns (packages, the requirements added, warnings)."""
    owner = {f: p.name for p in packages for f in p.files}
    requires = {p.name: list(p.requires) for p in packages}
    added: list[LinkRequirement] = []
    warnings: list[str] = []
    cycles: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (package, the one led to) -> links
    for p in packages:
        modular = p.kind in ("module", "group")
        for f in p.files:
            e = by_path.get(f)
            if e is None or e.kind != "symlink":
                continue
            end = _link_end(e, by_path)
            if isinstance(end, str):
                continue
            q = owner.get(end.path)
            if q is None and excluded and end.path in excluded:
                # Any package's link: Lua's core shipped share/lua/5.4/*.lua -> ../5.1/ excluded.
                warnings.append(
                    f"{f} (package {p.name!r}) leads to {end.path}, which is excluded "
                    f"({excluded[end.path]}): the link dangles"
                    + (", the module never loads" if modular else "")
                )
                continue
            if q is None or q == p.name or q in requires[p.name]:
                continue
            if p.name in requirement_closure(requires, q):
                cycles.setdefault((p.name, q), []).append((f, end.path))
                continue
            requires[p.name].append(q)
            added.append(LinkRequirement(p.name, q, f, end.path))
    warnings += [_cycle_warning(p, q, links) for (p, q), links in cycles.items()]
    return [replace(p, requires=tuple(requires[p.name])) for p in packages], added, warnings


def _cycle_warning(p: str, q: str, links: Sequence[tuple[str, str]]) -> str:
    """The warning of links of package `p` leading into package `q`, which requires `p`: one
    for them all (a dracut tester's 17 systemd units of dracut-core, each a link into one
    module's directory, were 17 warnings of three lines each)."""
    if len(links) == 1:
        ((f, end),) = links
        return (
            f"{f} (package {p!r}) leads to {end} in package {q!r}, which requires {p!r}: not required "
            f"back (a cycle); the link dangles without {q!r}"
        )
    shown = ", ".join(f for f, _ in links[:2]) + (f" and {len(links) - 2} more" if len(links) > 2 else "")
    return (
        f"{len(links)} links of package {p!r} ({shown}) lead into package {q!r}, which requires {p!r}: "
        f"not required back (a cycle); the links dangle without {q!r}"
    )


def _requirement_problems(packages: list[Package], layout: Layout) -> list[str]:
    """A layout's `requires` naming a package the plan did not make (a [per-module] name is
    known only once the build is: a claws-mail-plugins requiring its plugin packages), or
    one that requires the package back (a core requiring a module package of its own)."""
    by_name = {p.name: p for p in packages}
    requires = {p.name: p.requires for p in packages}
    reach = _Reach(requires)  # each package's closure once (16,000 module packages require the core)
    problems = []
    cycles: set[frozenset[str]] = set()  # each pair once (a ProFTPD tester read one cycle twice)
    for p in packages:
        for r in p.requires:
            if r not in by_name:
                problems.append(
                    f"package {p.name!r} requires {r!r}, which is no package of this split (neither a "
                    "[[package]] nor a module package this build has)"
                )
            elif p.name in reach(r) and frozenset((p.name, r)) not in cycles:
                cycles.add(frozenset((p.name, r)))
                back = (
                    _why_requires(by_name[r], by_name[p.name], layout)
                    if p.name in requires[r]
                    else "through " + ", ".join(x for x in requires[r] if p.name in reach(x))
                )
                problems.append(
                    f"package {p.name!r} requires {r!r} ({_why_requires(p, by_name[r], layout)}), which "
                    f"requires it back ({back}): a cycle"
                )
    return problems


def _why_requires(p: Package, q: Package, layout: Layout) -> str:
    """Why package `p` requires `q`, in a few words: a module dependency, the layout's own
    `requires`, or else the libraries and links between their files (a Claws Mail tester's
    cycle named no cause: a core holding smime, whose dependency pgpcore was in a group)."""
    for m in p.modules:
        dep = next((d for d in layout.loader.deps_of(m) if d in q.modules), None)
        if dep is not None:
            return f"module {m} needs module {dep}"
    rule = next((r for r in layout.packages if r.name == p.name), None)
    if p.kind == "meta":
        listed = layout.meta.requires if layout.meta is not None else None
        base, explicit = list(listed or layout.required_cores()), listed is not None
    else:
        base = _base_requires(layout, rule, p.kind)
        per_module = (
            p.kind == "module" and layout.per_module is not None and layout.per_module.requires is not None
        )
        explicit = (rule is not None and rule.requires is not None) or per_module
    if q.name in base:
        return "the layout's requires" if explicit else f"{p.kind} packages require the core packages"
    return "a library it links or a symlink into it"


def _base_requires(layout: Layout, rule: PackageRule | None, kind: PackageKind) -> list[str]:
    """A package's requirements before module dependencies: its rule's own `requires`, else
    none for a core package, else the per-module `requires`, else the core packages."""
    if rule is not None and rule.requires is not None:
        return list(rule.requires)
    if kind == "core":
        return []
    if kind == "module" and layout.per_module and layout.per_module.requires is not None:
        return list(layout.per_module.requires)
    return list(layout.required_cores())


def _summary(layout: Layout, rule: PackageRule | None, mods: list[str], name: str) -> str:
    if rule is not None:
        return rule.summary
    if layout.per_module:
        # Every placeholder `name` takes (a Varnish tester's "VMOD {name}" stayed literal).
        mid = mods[0] if mods else name
        split = layout.loader.naming.split_id(mid) or ("", mid)
        return fill_template(layout.per_module.summary, split[0], split[1], mid)
    return ""


def never_loaded(inventory: Inventory, layout: Layout, modules: tuple[Module, ...]) -> dict[str, str]:
    """Module -> why no executable of the build will ever load it, where the loader model can
    tell: from the module tables the executables hold (QEMU's modinfo: an x86-only build ships
    hw-s390x-virtio-gpu-ccw, which no x86 emulator asks for). Empty without module tables."""
    if layout.loader.module_table != "qemu-modinfo":
        return {}
    from qpack.modinfo import read_module_table  # here: it imports pyelftools, ~25 ms

    emulators = []
    for e in inventory.files():
        # Every emulator of the build, wherever it is (Debian runs usr/libexec/qemu-system-i386
        # from a wrapper script in usr/bin).
        name = posixpath.basename(e.path)
        if e.elf is None or e.kind != "file" or not name.startswith("qemu-system-"):
            continue
        try:
            table = read_module_table(inventory.source(e.path))
        except ElfReadError:
            continue
        if table is not None:
            emulators.append((name.removeprefix("qemu-system-"), {m.name: m for m in table}))
    if not emulators:
        return {}
    out = {}
    for m in modules:
        if m.type != "hw" and not any(m.id in listed for _, listed in emulators):
            continue  # looked up by name (block, ui, audio...): any emulator may load it
        if any(m.id in listed and listed[m.id].arch in (None, "", target) for target, listed in emulators):
            continue
        targets = ", ".join(sorted(t for t, _ in emulators))
        out[m.id] = f"no emulator of this build ({targets}) has it in its module table for its target"
    return out


def meta_package(
    layout: Layout,
    modules: tuple[Module, ...],
    module_pkg: Mapping[str, str],
    unloadable: Mapping[str, str] | None = None,
) -> tuple[Package | None, list[str], list[str]]:
    """The meta package: requires the core packages; its extras are every module id, every
    module type and `all`, plus the layout's own `[meta.extras]`, none named as one of those.
    A module no executable of the build will ever load keeps its own extra but is left out of
    its type's and `all`. Returns (package, warnings, problems)."""
    meta = layout.meta
    if meta is None:
        return None, [], []
    warnings: list[str] = []
    problems: list[str] = []
    extras: dict[str, set[str]] = defaultdict(set)
    for m in modules:
        if m.id not in module_pkg:
            continue
        extras[m.id].add(module_pkg[m.id])
        if unloadable and m.id in unloadable:
            continue
        if m.type:
            extras[m.type].add(module_pkg[m.id])
        extras["all"].add(module_pkg[m.id])
    # Any package but the meta one: a group (LADSPA's swh-plugins-fftw) or a core package no
    # module requires (`required = false`: Enchant's tools and headers, offered as extras).
    packages = set(module_pkg.values()) | set(layout.core_packages())
    for ename, members in meta.extras.items():
        if ename in extras:
            # A PowerDNS re-tester's `pipe = ["gmysql"]` merged into module pipe's own extra:
            # `install pipe` took both, `uninstall pipe` (the module) one.
            what = (
                "a module type"
                if ename in {m.type for m in modules}
                else "every module's"
                if ename == "all"
                else "a module id"
            )
            problems.append(
                f"meta.extras.{ename}: {ename!r} is already an extra of the meta package ({what}); "
                "name this one otherwise"
            )
            continue
        for member in members:
            # A module id, a type, a glob of ids (`mbeq_*`, as [[package]] modules take), or a
            # package by name.
            glob = any(c in member for c in "*?")
            matched = [
                mm.id
                for mm in modules
                if member in (mm.id, mm.type) or (glob and module_glob_matches(member, mm.id))
            ]
            if member in packages:
                extras[ename].add(member)
            elif not matched:
                # With the id it likely means (an LXQt tester's "volum" for volume).
                near = "" if glob else _near_hint(member, {mm.id for mm in modules} | set(packages))
                warnings.append(
                    f"meta.extras.{ename}: {member!r} names no module or package of this build{near}"
                )
            extras[ename].update(module_pkg[x] for x in matched if x in module_pkg)
        if not extras[ename]:
            # An extra that installs nothing would let `pip install meta[x]` succeed, doing nothing.
            del extras[ename]
            warnings.append(
                f"meta.extras.{ename}: requires nothing in this build; left out of the meta package"
            )
    if (
        own := next((e for e in extras if normalize_extra(e) == normalize_extra(meta.name)), None)
    ) is not None:
        # A GDAL tester's meta `gdal` and module type `gdal`: `install gdal` took the meta wheel
        # (the core alone) in silence; it now takes the extra, which pip needs spelled out.
        warnings.append(
            f"meta package {meta.name!r} has an extra of its own name ({own!r}): `qpack install "
            f"{own}` takes the extra, but `pip install {meta.name}` the meta package alone (pip: "
            f"{meta.name}[{normalize_extra(own)}]); rename the meta package to tell them apart"
        )
    # A package named as an extra that installs something else (a GEGL tester's core package
    # `gegl-core` and GEGL's own module `gegl-core`: `install gegl-core` took the core alone,
    # exit 0, and the program could run no operation).
    by_name = {normalize_extra(p): p for p in packages if p != meta.name}
    warnings += [
        f"package {by_name[normalize_extra(e)]!r} has the name of an extra of the meta package ({e!r}, "
        f"which installs {', '.join(sorted(extras[e]))}): `qpack install {e}` takes the extra, "
        f"`pip install {by_name[normalize_extra(e)]}` the package; rename one to tell them apart"
        for e in sorted(extras)
        if normalize_extra(e) in by_name and set(extras[e]) != {by_name[normalize_extra(e)]}
    ]
    requires = meta.requires if meta.requires is not None else layout.required_cores()
    package = Package(
        name=meta.name,
        kind="meta",
        files=(),
        requires=tuple(requires),
        summary=meta.summary,
        extras={k: tuple(sorted(v)) for k, v in sorted(extras.items())},
        alternatives=meta.alternatives if meta.requires is not None else {},
    )
    return package, warnings, problems


def _layout_mistakes(
    layout: Layout,
    inventory: Inventory,
    found: FoundModules,
    packages: list[Package],
    prefix: str,
    excluded: Collection[str] = frozenset(),
) -> list[str]:
    """The warnings of what a layout likely got wrong about this build: keys naming nothing,
    names close to the build's, modules where the loader never looks."""
    loader = layout.loader
    return [
        *_recommends_elsewhere(loader, found.modules, packages, layout.packages),
        *_keys_naming_nothing(
            loader,
            found.modules,
            packages,
            layout.module_files,
            layout.packages,
            layout.per_module.renames if layout.per_module else (),
        ),
        *_only_through_variables(loader, found.modules, prefix),
        *_wheels_dirs_empty(loader, found.modules, prefix),
        *_no_loader_file(loader, inventory, prefix),
        *_program_types_mistyped(loader, inventory, prefix),
        *_entries_elsewhere(loader, inventory, found, prefix, excluded),
        *mistyped_locations(loader, inventory, prefix),
        *_module_files_of_no_module(layout, inventory, found.modules, packages, prefix),
        *_needs_another_version(found.modules, inventory, prefix),
        *_stamp_versions_apart(loader, found.modules, inventory),
        *_type_namings_naming_nothing(loader, found.modules, inventory, prefix),
        *_module_files_naming_nothing(layout, inventory, found.modules, prefix),
        *_modules_without_descriptor(loader, inventory, found.modules),
        *_types_mistyped(loader, inventory, found.modules, prefix),
    ]


def _types_mistyped(
    loader: Loader, inventory: Inventory, modules: Sequence[Module], prefix: str
) -> list[str]:
    """A warning for each declared type that has no module while a directory named almost as
    the naming's `{type}/` would spell it, a declared type's of none, holds files where modules
    of that type would be (a CUPS tester's `types = ["backed", ...]` beside backend/: the 12
    backends went to the core with no word of the type)."""
    import difflib  # only for a layout with a type that names nothing

    naming = loader.naming
    have = {m.type for m in modules}
    missing = [t for t in naming.types if t not in have and t not in naming.by_type]
    if not missing or not any(p.startswith("{type}/") for p in naming.patterns):
        return []
    dirs = [d for d in loader.default_module_dirs(prefix) if not any(c in d for c in WILDCARDS)]
    sub: dict[str, int] = {}  # directory name below a module directory -> files in it
    for e in inventory.entries:
        for d in dirs:
            rest = e.path[len(d) + 1 :] if e.path.startswith(d + "/") else ""
            if rest.count("/") == 1 and e.kind != "dir":
                sub[rest.split("/")[0]] = sub.get(rest.split("/")[0], 0) + 1
    spare = sorted(n for n in sub if n not in naming.types)
    out = []
    for t in missing:
        if close := difflib.get_close_matches(t, spare, n=1, cutoff=0.8):
            out.append(
                f"type {t!r} has no module, and {close[0]}/ beside the other types' directories holds "
                f"{sub[close[0]]} file(s) where such modules would be: is the type mistyped in "
                "[loader] types?"
            )
    return out


def _left_to_rest(claims: _Claims) -> list[str]:
    """The paths no rule of the layout claims: unclaimed, or in a core's `rest`."""
    return [*claims.unclaimed, *(c.path for c in claims.claims if c.rule.endswith(_REST_FILES))]


def _descriptors_without_code(loader: Loader, claims: _Claims, found: FoundModules) -> list[str]:
    """A warning for each file named as descriptors are, in a directory holding modules, that no
    rule of the layout claims and whose module the build lacks (an Atril tester's keyfile
    whose backend was gone went into the core in silence; the program registers it and fails).
    One a [[package]] takes is the layout's (libpeas's Python plug-ins have a keyfile and no
    shared object)."""
    if loader.descriptor is None:
        return []
    pattern = re.escape(loader.descriptor)
    for key in ("module", "type", "name"):
        pattern = pattern.replace(re.escape("{" + key + "}"), r"[^/]+?")
    regex = re.compile(pattern)
    own = {d for m in found.modules if (d := loader.descriptor_of(m.path, m.id)) is not None}
    dirs = {posixpath.dirname(m.path) for m in found.modules}
    left = _left_to_rest(claims)
    orphans = sorted(
        p
        for p in left
        if posixpath.dirname(p) in dirs and p not in own and regex.fullmatch(posixpath.basename(p))
    )
    if not orphans:
        return []
    return [
        f"{_some_ids(orphans)}: named as descriptors are ([loader] descriptor {loader.descriptor!r}) beside "
        "the modules, and no module of the build goes with them: they go to the rest, and the loader "
        "registers modules it finds no file of (unless they name code the layout does not take as "
        "modules, a Python plug-in's: a [[package]] naming them says so)"
    ]


def _descriptor_nowhere(loader: Loader, inventory: Inventory, modules: Sequence[Module]) -> list[str]:
    """The problem of a `[loader] descriptor` that no module of the build (two or more) has
    beside its file: the key is mistyped, as an entry no module defines is (an Eye of GNOME
    tester's "{name}.plugn" split 14 plug-ins the loader never registers, exit 0)."""
    if loader.descriptor is None or len(modules) < 2:
        return []
    paths = inventory.by_path()
    wanted = [(m, d) for m in modules if (d := loader.descriptor_of(m.path, m.id)) is not None]
    if not wanted or any(d in paths and paths[d].kind != "dir" for _, d in wanted):
        return []
    module, first = wanted[0]
    import difflib  # only for a descriptor no module has

    here = first.rpartition("/")[0]
    beside = [p.rpartition("/")[2] for p in paths if p.rpartition("/")[0] == here]
    close = difflib.get_close_matches(first.rpartition("/")[2], beside, n=1, cutoff=0.7)
    hint = f"; {close[0]} is there" if close else ""
    return [
        f"no module of the build has its descriptor beside its file ([loader] descriptor "
        f"{loader.descriptor!r}: no {first} for {module.id}{hint}): is [loader] descriptor mistyped?"
    ]


def _edits(a: str, b: str) -> int:
    """How many characters differ between `a` and `b`, by difflib's alignment (an upper bound
    of the edit distance, exact for the one or two slips it is asked about)."""
    import difflib

    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")


def _modules_without_descriptor(loader: Loader, inventory: Inventory, modules: Sequence[Module]) -> list[str]:
    """A warning for the modules whose descriptor (`[loader] descriptor`) the build lacks: the
    loader registers modules by it, and never loads one without it."""
    if loader.descriptor is None:
        return []
    paths = inventory.by_path()
    # A directory of that name is none (an Atril tester's keyfile made a directory: no word).
    lacking = [
        m.id
        for m in modules
        if (d := loader.descriptor_of(m.path, m.id)) is not None
        and (d not in paths or paths[d].kind == "dir")
    ]
    if not lacking or _descriptor_nowhere(loader, inventory, modules):
        return []
    return [
        f"module(s) {_some_ids(lacking)}: no descriptor beside the file ([loader] descriptor "
        f"{loader.descriptor!r}), which the loader registers modules by: it never loads them"
    ]


def _globs_just_off(
    layout: Layout, inventory: Inventory, claims: _Claims, found: FoundModules, prefix: str
) -> list[str]:
    """A warning for each literal `files` glob of a [[package]] or of [per-module] (filled in
    for each module) that names no file of the build while a file no rule of the layout claims
    (one in a `rest` package or unclaimed) is a near miss of it, in the same directory: a
    Pluma tester's `{name}.plugins` for the plug-ins' `.plugin` files, and `smartspace.py` for
    `smartspaces.py`, sent those files into the core in silence. A glob matching nothing is no
    slip by itself (a layout serving other builds), hence the near file."""
    leftover: dict[str, list[str]] = {}
    for path in _left_to_rest(claims):
        head, _, base = path.rpartition("/")
        leftover.setdefault(head, []).append(base)
    if not leftover:
        return []
    known = inventory.by_path()
    wanted: list[tuple[str, str, str]] = []  # (where, the glob as written, one filled-in path)
    for rule in layout.packages:
        wanted += [(f"[[package]] {rule.name!r} files", g, g) for g in rule.files]
    per_module = layout.per_module
    if per_module is not None:
        for m in found.modules:
            package = claims.per_module_names.get(m.id, "")
            filled = per_module.file_globs(package, m.type, m.name, m.id)
            wanted += [("[per-module] files", g, f) for g, f in zip(per_module.files, filled, strict=True)]
    import difflib  # only for a layout with files left to the rest

    # A glob naming a file for some module is spelt right; the others lack that file (a Postfix
    # tester's `{name}_table.5.gz`: cdb has no man page, and cidr_table.5.gz, a core's, was
    # offered as a near miss).
    works = {shown for _, shown, glob in wanted if expand_prefix(glob, prefix).lstrip("/") in known}
    out: dict[tuple[str, str], str] = {}
    for where, shown, glob in wanted:
        path = expand_prefix(glob, prefix).lstrip("/")
        if (where, shown) in out or shown in works or any(c in path for c in "*?[{") or path in known:
            continue
        head, _, base = path.rpartition("/")
        # One slip of a letter or two: a gedit tester's gedit-{name}.metainfo.xml for module
        # modelines was a "near miss" of gedit-joinlines.metainfo.xml, another plug-in's.
        slips = [n for n in leftover.get(head, []) if _edits(base, n) <= 2]
        if close := difflib.get_close_matches(base, slips, n=1, cutoff=0.85):
            near = f"{head}/{close[0]}" if head else close[0]
            out[(where, shown)] = (
                f"{where} {shown!r} names no file of the build (no {path}); {near}, which no rule of the "
                "layout claims, is a near miss: is the glob mistyped?"
            )
    return list(out.values())


def _module_files_naming_nothing(
    layout: Layout, inventory: Inventory, modules: Sequence[Module], prefix: str
) -> list[str]:
    """A warning for each glob a `[modules.files]` key naming one module of the build (no glob
    of its own) gives it, that names no file of the build: a Cairo-Dock tester's
    `plug-ins/System-Monitor/**` for `System-monitor` sent the applet's six data files into the
    core in silence, the module's package holding its .so alone. A glob key serves modules that
    may lack such files, and a `{package}` glob is the plan's to fill: both are left out."""
    by_id = {m.id: m for m in modules}
    paths = [e.path for e in inventory.entries if e.kind != "dir"]
    out = []
    for key, templates in layout.module_files.items():
        if (m := by_id.get(key)) is None:
            continue
        usable = [g for g in templates if "{package}" not in g]
        for shown, filled in zip(usable, module_file_globs(usable, "", m.type, m.name, m.id), strict=True):
            regex = compile_glob(expand_prefix(filled, prefix))
            if not any(regex.match(p) for p in paths):
                out.append(f"[modules.files] {key!r}: {shown!r} names no file of the build: is it mistyped?")
    return out


def _type_namings_naming_nothing(
    loader: Loader, modules: Sequence[Module], inventory: Inventory, prefix: str
) -> list[str]:
    """A warning for each type's own naming (`[loader.by-type.T] naming`) that names no module
    of a build holding modules of other types: a JACK tester's "jak_{name}.so" for the drivers
    sent them to the other type, whose `{name}.so` took them, with eight entry warnings and no
    word of the naming."""
    if not modules:
        return []
    have = {m.type for m in modules}
    naming = loader.naming
    out = [
        f"[loader.by-type.{t}] naming {patterns[0] if len(patterns) == 1 else list(patterns)!r} names no "
        "file of the build, which holds modules of other types: is it mistyped?"
        for t, patterns in naming.by_type.items()
        if patterns and t not in have
    ]
    # And [loader] naming, where the types it names have none while ELF files that are no module
    # are where modules are (a GNUnet tester's "libgnunet_plugins_{type}_{name}.so": 49 plug-ins
    # to the core, one type found by a naming of its own). A build without those types has none.
    top = [t for t in naming.types if t not in naming.by_type]
    if (
        not out  # a type's own naming that names nothing: its files are the likely ones besides
        and naming.by_type
        and top
        and not have & set(top)
        and _elf_files_besides(modules, loader, inventory, prefix)
    ):
        shown = naming.pattern if not naming.alternatives else list(naming.patterns)
        out.append(
            f"[loader] naming {shown!r} names no file of the build, which holds modules of types with "
            f"a naming of their own ({', '.join(sorted(have))}): is it mistyped?"
        )
    return out


def _stamp_versions_apart(loader: Loader, modules: Sequence[Module], inventory: Inventory) -> list[str]:
    """A warning for each module needing only stamp versions (`[loader.stamp] version`) that no
    other module needs, where two or more share one: a module of another build, which the loader
    refuses (a Samba tester's fruit.so needing SAMBA_4.17.99_DEBIAN_SAMBA4 beside 63 modules of
    4.17.12 was split into its own wheel without a word; install then said other-build)."""
    glob = loader.stamp_version
    if glob is None:
        return []
    by_path = inventory.by_path()
    nodes = {
        m.path: {v for _, v in e.elf.version_needs if fnmatch.fnmatchcase(v, glob)}
        for m in modules
        if (e := by_path.get(m.path)) is not None and e.elf is not None
    }
    counts = Counter(v for held in nodes.values() for v in held)
    shared = [(v, n) for v, n in counts.most_common() if n >= 2]
    if not shared:
        return []
    common, n = shared[0]
    return [
        f"{path}: needs symbol version {', '.join(sorted(held))}, which no other module needs, where {n} "
        f"modules need {common} ([loader.stamp] version): a module from another build? The loader "
        "refuses it"
        for path, held in nodes.items()
        if held and all(counts[v] == 1 for v in held)
    ]


def _needs_another_version(modules: Iterable[Module], inventory: Inventory, prefix: str) -> list[str]:
    """A warning for each module that needs a library by a soname the build lacks while it
    ships the same library at another version: a Kea tester's hook patched to need
    libkea-dhcpsrv.so.68 beside the build's .so.69 (a module of another build) passed plan and
    split without a word; kea-dhcp4 refused it."""
    provided = provided_sonames(inventory, prefix)
    stems: dict[str, list[str]] = {}
    for soname in provided:
        stems.setdefault(soname.partition(".so")[0], []).append(soname)
    by_path = inventory.by_path()
    modules = list(modules)
    # A module's own SONAME is no version of a library (a Pidgin tester's prpl libzephyr.so,
    # which needs the system's libzephyr.so.4: "a module of another build?").
    own = {e.elf.soname for m in modules if (e := by_path.get(m.path)) is not None and e.elf is not None}
    out = []
    for m in modules:
        e = by_path.get(m.path)
        for n in e.elf.needed if e is not None and e.elf is not None else ():
            others = [o for o in stems.get(n.partition(".so")[0], ()) if o not in own]
            if n not in provided and others:
                out.append(
                    f"{m.path}: module needs {n}, and the build has {', '.join(sorted(others))} instead: a "
                    "module of another build? Where the system has no such library, it does not load"
                )
    return out


_ANY_PLACEHOLDER = re.compile(r"\{(?:package|module|type|name|dashed-name|dashed-module)\}")


def _module_files_of_no_module(
    layout: Layout, inventory: Inventory, modules: Iterable[Module], packages: Iterable[Package], prefix: str
) -> list[str]:
    """A warning for each [modules.files] key that names no module of the build while its globs
    take files of the build: a Rhythmbox tester's "pythonconsole" (a Python plug-in, no module
    to the layout) put python-console/* in the core without a word. A key for a module the build
    lacks whose files are not there either is no slip (a layout serving other builds)."""
    present = {m.id for m in modules}
    owner = {f: p.name for p in packages for f in p.files}
    out = []
    for key, globs in layout.module_files.items():
        if is_module_glob(key) or key in present:
            continue
        # The placeholders filled in for a module (`{package}`: a module's docs directory) are
        # any value here: the key's module has no package (a glob with one raised a GlobError).
        res = [compile_glob(_ANY_PLACEHOLDER.sub("*", expand_prefix(g, prefix))) for g in globs]
        taken = sorted(e.path for e in inventory.files() if any(r.match(e.path) for r in res))
        if taken:
            where = sorted({owner.get(f, "no package") for f in taken})
            out.append(
                f"[modules.files] key {key!r} names no module of this build, but its files are: "
                f"{len(taken)} file(s) ({', '.join(taken[:2])}{', ...' if len(taken) > 2 else ''}) "
                f"went to {', '.join(where)}"
            )
    return out


def _elf_files_besides(modules: Sequence[Module], loader: Loader, inventory: Inventory, prefix: str) -> bool:
    """Whether the module directories hold a shared object or program that is no module."""
    dirs = [compile_glob(d + "/**") for d in loader.module_dirs(prefix)]
    taken = {m.path for m in modules}
    return any(
        e.path not in taken
        and e.elf is not None
        and e.elf.elf_type != "ET_REL"
        and any(r.match(e.path) for r in dirs)
        for e in inventory.files()
    )


def _empty_packages(packages: list[Package], layout: Layout) -> tuple[list[Package], list[str]]:
    """The packages but the `optional` ones this build gives no file, no longer required or
    recommended by the others (one layout for builds with and without a plug-in: an rsyslog
    tester's build without kafka stopped at "rsyslog-kafka has no files"); and a warning for
    each package without files, left out or kept."""
    optional = {r.name for r in layout.packages if r.optional}
    empty = [p.name for p in packages if not p.files and p.kind != "meta"]
    gone = {n for n in empty if n in optional}
    kept = [
        replace(
            p,
            requires=tuple(r for r in p.requires if r not in gone),
            recommends=tuple(r for r in p.recommends if r not in gone),
        )
        if gone
        else p
        for p in packages
        if p.name not in gone
    ]
    said = [
        f"package {n!r} (optional) has no files in this build: left out of the split"
        if n in gone
        else f"package {n!r} has no files in this build"
        for n in empty
    ]
    return kept, said


def _groups_without_modules(layout: Layout, packages: Iterable[Package]) -> list[str]:
    """A warning for each [[package]] whose `modules` take no module of the build, which holds
    other files: a GDAL tester's "*_GRASS" under id-separator "-" matched nothing, the modules
    went to packages of their own and the group held the docs, without a word."""
    rules = {r.name: r for r in layout.packages}
    out = []
    for p in packages:
        rule = rules.get(p.name)
        if rule is not None and rule.modules and p.files and not p.modules:
            out.append(
                f"package[{rule.index}] {p.name!r}: its modules ({', '.join(rule.modules)}) name no module "
                "of this build; the group holds none"
            )
    return out


def make_plan(
    inventory: Inventory, layout: Layout, *, unclaimed: Unclaimed = "error", unclaimed_core: str | None = None
) -> Plan:
    """Which package owns each file of the build; raises PlanError listing every problem.
    The prefix is the one the build was scanned with (`inventory.prefix`)."""
    prefix = inventory.prefix
    found, copy_warnings = _named_copies(layout.loader.find_modules(inventory), layout, prefix)
    found, libraries = _module_libraries(found, inventory, layout.loader)
    runs_itself = _runs_itself(layout.loader, found.modules, inventory)
    # A module another module runs needs that one (its package requires the runner's).
    layout = replace(layout, loader=layout.loader.with_runners((m.id, m.path) for m in found.modules))
    # The loader's files: its executables, and its library (a framework may name no program).
    problems, module_warnings = module_problems(
        found,
        inventory,
        layout.loader.loader_globs(prefix),
        layout.loader.entry_symbols,
        layout.loader.runner_of,
        layout.loader.entries_named_by if layout.loader.entry_through_links else None,
        layout.loader.type_entry.keys(),
        scripts_run=not layout.loader.naming.names_libraries,
        skips_unloadable=layout.loader.resolution in ("first-loadable", "register-loadable"),
        registers=layout.loader.registers_all,
        value_symbol=layout.loader.stamp_symbol if layout.loader.stamp_value is not None else None,
        stamp_optional=layout.loader.stamp_optional,
        wheels=not layout.loader.wheels_place_nothing,
    )
    if layout.loader.entry or layout.loader.type_entry:
        module_warnings += undeclared_module_symbols(found, inventory, layout.loader)
    code_of = module_code(found, inventory.by_path())
    # A module's code and its other names are the module, not names the loader never asks for;
    # nor are the modules' libraries and theirs, nor a library a file of the build links (a
    # darktable tester's libdarktable.so, every program's and plug-in's, beside the plug-in
    # directories in the one search location).
    never = _strays(
        found, inventory, code_of, libraries | _helper_files(layout.loader, prefix), layout.loader
    )
    module_at = {m.path: m for m in found.modules}

    empty = inventory.empty_dirs()
    items = (*inventory.files(), *empty)
    rules = (*layout_rules(layout, prefix), *dir_rules(layout, prefix, {e.path for e in empty}))
    claims, claim_problems = claim(items, rules, module_at, layout, inventory.tags, code_of)
    if never:
        # A file the layout names in a [[package]] or [[exclude]] `files` glob is known to it (a
        # syslog-ng tester's loggen plug-ins, another loader's, kept in the module directory).
        named = {c.path for c in claims.claims if _NAMED.match(c.rule)}
        never = _deeper_without_entry(
            [w for w in never if w.partition(": in a module directory")[0] not in named],
            inventory,
            layout.loader,
        )
    warnings = [*inventory.warnings, *never, *copy_warnings, *module_warnings]
    problems += runs_itself
    problems += declared_dir_problems(layout, inventory)
    problems += _per_module_globs_of_all(layout, module_at, claim_problems)
    problems += apply_unclaimed(claims, unclaimed, layout, module_at, unclaimed_core, warnings)

    packages, package_problems = build_packages(claims, layout, found.modules, prefix)
    problems += [*package_problems, *_descriptor_nowhere(layout.loader, inventory, found.modules)]
    mistakes = [
        *_layout_mistakes(layout, inventory, found, packages, prefix, {x.path for x in claims.excluded}),
        *_globs_just_off(layout, inventory, claims, found, prefix),
        *_descriptors_without_code(layout.loader, claims, found),
    ]
    warnings += mistakes
    packages, lib_requirements, lib_problems = library_requirements(packages, inventory, claims)
    problems += lib_problems
    excluded = {x.path: x.reason for x in claims.excluded}
    packages, link_added, link_warnings = link_requirements(packages, inventory.by_path(), excluded)
    warnings += link_warnings
    module_pkg = {cl.module: cl.package for cl in claims.claims if cl.module and cl.package}
    unloadable = never_loaded(inventory, layout, found.modules)
    warnings += [f"module {mid!r}: {why}; left out of the meta package's type and 'all' extras"
                 for mid, why in sorted(unloadable.items())]  # fmt: skip
    meta, meta_warnings, meta_problems = meta_package(layout, found.modules, module_pkg, unloadable)
    warnings += meta_warnings
    problems += meta_problems
    if meta is not None:
        packages.append(meta)
    packages, unfilled = _empty_packages(packages, layout)
    problems += _requirement_problems(packages, layout)
    warnings += [*unfilled, *_groups_without_modules(layout, packages)]
    # One package per module, unless names collide: a rename to one name (or normalize making
    # two names one) merges modules in silence, where a group package would say so.
    warnings += [
        f"package {p.name!r} holds {len(p.modules)} modules ({', '.join(p.modules[:3])}"
        f"{', ...' if len(p.modules) > 3 else ''}): [per-module] gives them one name; a [[package]] "
        'with kind = "group" holds several on purpose'
        for p in packages
        if p.kind == "module" and len(p.modules) > 1
    ]
    warnings += _program_needs_placed(layout, packages, module_pkg, prefix, problems)
    used = {x.rule.partition(" ")[0] for x in claims.excluded}  # "exclude[1]"
    warnings += [
        f"exclude[{x.index}] ({x.reason}) excludes nothing in this build"
        for x in layout.exclusions
        if f"exclude[{x.index}]" not in used and not x.optional
    ]
    if problems:
        # What the layout likely got wrong, often the cause (not what follows from the failure).
        raise PlanError(problems, [*never, *copy_warnings, *module_warnings, *mistakes])
    return Plan(
        layout=layout,
        inventory=inventory,
        packages=tuple(
            with_dirs(
                packages, prefix, layout.system_dir_patterns(prefix), _loader_packages(layout, packages)
            )
        ),
        excluded=tuple(sorted(claims.excluded, key=lambda x: x.path)),
        unclaimed=tuple(claims.unclaimed),
        claims=tuple(sorted(claims.claims, key=lambda c: c.path)),
        modules=tuple(sorted(found.modules, key=lambda m: m.id)),
        warnings=tuple(warnings),
        library_requirements=tuple(lib_requirements),
        link_requirements=tuple(link_added),
    )


def _program_needs_placed(
    layout: Layout, packages: list[Package], module_pkg: Mapping[str, str], prefix: str, problems: list[str]
) -> list[str]:
    """A module every program loads as it starts (`program-needs`) belongs with the programs: in
    the package of each program, or one that package requires, or the program installed without
    it does not start (Debian's rsyslog ships rsyslogd and lmnet in one group package): warnings.
    One in no package at all is a problem, added to `problems`: the split's programs cannot
    start (a Wayfire tester's misspelt "default-config-backnd": plan and split exited 0)."""
    # The programs' packages, or the loader library's: a PipeWire tester's layout names no
    # executable (libpipewire is the loader), and support-support went to a package of its own
    # that nothing required, without a word; every program of the split failed to start.
    # Where no package holds a program, the library's: a Tumbler tester's libtumbler-1-0 was
    # asked to require the daemon's cache plug-in, which tumbler (holding tumblerd) had.
    holders: set[str] = set()
    for named in (layout.loader.executable_globs(prefix), layout.loader.loader_globs(prefix)):
        globs = [compile_glob(g) for g in named]
        holders = {p.name for p in packages if any(g.match(f) for f in p.files for g in globs)}
        if holders:
            break
    requires = {p.name: p.requires for p in packages}
    out = []
    for mid in layout.loader.program_needs:
        pkg = module_pkg.get(mid)
        if pkg is None:
            import difflib  # only for a name not found

            close = difflib.get_close_matches(mid, sorted(module_pkg), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                f"loader.program-needs: module {mid!r} is in no package of this build{hint}: "
                "the programs would not start"
            )
            continue
        lacking = sorted(h for h in holders if pkg not in requirement_closure(requires, h))
        if lacking:
            out.append(
                f"loader.program-needs: module {mid!r} is in package {pkg!r}, which {', '.join(lacking)} "
                "(holding the programs, or the loader library where no package holds one) does not "
                "require: installed without it, they do not start "
                "(put it in that package's modules)"
            )
    return out


def _loader_packages(layout: Layout, packages: Iterable[Package]) -> set[str]:
    """The packages holding a program or the library of the loader."""
    loader_res = [compile_glob(g) for g in layout.loader.loader_globs(layout.prefix)]
    return {p.name for p in packages if any(r.match(f) for f in p.files for r in loader_res)}


def with_dirs(
    packages: list[Package],
    prefix: str,
    system: tuple[re.Pattern[str], ...] = (),
    loaders: Collection[str] = (),
) -> list[Package]:
    """Which package owns each directory (RPM `%dir`), never one of the base system's:
    - a directory whose files all belong to one package belongs to it;
    - a directory shared by several packages (QEMU's module dir: modules in many packages)
      belongs to the fewest packages such that each of them is or requires (directly or not)
      one of the owners, so that installing any of them brings an owner: one package when
      all of them require it; several when they do not (Debian's share/qemu, shared by
      qemu-system-common and the arch:all qemu-system-data, neither requiring the other, is
      owned by both, as RPM allows and Fedora's guidelines ask of unrelated packages). Of
      several that would do, one with files there, then one of `loaders` (those holding the
      loader's program or library), then the first in layout order."""
    owner_of: dict[str, set[str]] = defaultdict(set)
    for p in packages:
        # A declared directory counts as a file in it: it and its parents need an owner.
        for d in (*(posixpath.dirname(f) for f in p.files), *p.declared_dirs):
            while d:
                owner_of[d].add(p.name)
                d = posixpath.dirname(d)
    requires = {p.name: set(p.requires) for p in packages}

    order = {p.name: i for i, p in enumerate(packages)}
    dirs_of: dict[str, list[str]] = defaultdict(list)
    for d, owners in owner_of.items():
        if _is_system_dir(d, prefix) or any(s.match(d) for s in system):
            continue
        if len(owners) == 1:
            dirs_of[next(iter(owners))].append(d)
            continue
        closures = {o: requirement_closure(requires, o) for o in owners}
        uncovered = set(owners)
        while uncovered:
            # Greedy cover: the package most of the uncovered ones are or require; then one
            # with files there itself; then the loader's (a Knot tester's module directory went
            # to libknot13, a library the modules link, listed before knot); then layout order
            # (then the name). Counted in one pass over the closures, not once per candidate
            # (16,000 module packages: 0.1 s, not 300).
            covers = Counter(n for o in uncovered for n in closures[o])
            best = min(
                covers,
                key=lambda n: (-covers[n], n not in owners, n not in loaders, order.get(n, len(order)), n),
            )
            dirs_of[best].append(d)
            uncovered = {o for o in uncovered if best not in closures[o]}
    out = []
    for p in packages:
        # A declared directory is the package's own even where the cover chose another owner,
        # or a base-system rule would skip it; one of its `files` is listed there already.
        owned = set(dirs_of.get(p.name, [])) | set(p.declared_dirs)
        out.append(replace(p, dirs=tuple(sorted(owned - set(p.files)))))
    return out


def plan_build(
    build: Path | str,
    layout: Layout | Path | str,
    *,
    prefix: str | None = None,
    unclaimed: Unclaimed = "error",
    unclaimed_core: str | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Scan a staged build with the layout's loader (at `prefix`, default the layout's) and plan
    it: the load -> scan -> plan sequence every caller needs."""
    lay = layout if isinstance(layout, Layout) else load_layout(layout)
    inventory = lay.loader.scan(build, prefix, progress=progress)
    return make_plan(inventory, lay, unclaimed=unclaimed, unclaimed_core=unclaimed_core)
