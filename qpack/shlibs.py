"""Versioned shared-library dependencies, the way each distro's own tool writes them.

- **Debian** (`debian_depends`): what `dpkg-shlibdeps` puts in `${shlibs:Depends}`. For each ELF
  file of a package, every library it names in `DT_NEEDED` is found on the host, the installed
  package that ships it named (`libdeps.packages_for_sonames`), and that package's own data read
  from dpkg's database: its `symbols` file (deb-symbols(5)), else its `shlibs` file
  (deb-shlibs(5)). With a symbols file the dependency starts at the smallest version any of the
  library's symbols has, and every symbol the file imports (undefined in `.dynsym`, or copied in
  by an `R_*_COPY` relocation, with its version from `.gnu.version`) raises it to that symbol's
  minimal version, looked up in the libraries in `DT_NEEDED` order; a shlibs file gives its
  dependency as written. Dependencies of all files merge (the highest version wins) and are
  sorted as dpkg sorts them. Not reproduced: `Build-Depends-Package` (which needs the source's
  Build-Depends), `debian/shlibs.local`, and libraries found only inside packages being built.
- **RPM** (`rpm_requires`): what rpm's ELF dependency generator (`elfdeps --requires`, rpm 4.x)
  emits: `soname()(64bit)` per `DT_NEEDED`, `soname(VERSION)(64bit)` per version a file needs
  (`.gnu.version_r`), `rtld(GNU_HASH)` for files with only a GNU hash table; `(64bit)` marks
  64-bit ELF classes (except Alpha), nothing marks 32-bit ones.

Debian's symbol imports are read through pyelftools; RPM's facts come from the scan (LIEF, with
pyelftools as the tests' oracle). Nothing from the build or the host is run, and the host's
libraries are only opened to read their SONAME.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qpack.errors import QpackError
from qpack.libdeps import PackageLibs, locate
from qpack.plan import Plan

# pyelftools is imported where a file is read (~25 ms): the RPM lists and most tree splits read
# none (their facts come from the scan).
if TYPE_CHECKING:
    from elftools.elf.elffile import ELFFile


class ShlibsError(QpackError):
    """A file cannot be read for its imported symbols, or dpkg's data cannot be read."""


# Debian architecture of each ELF machine: dpkg names a Multi-Arch: same package's control files
# `<package>:<arch>.symbols`.
DEBIAN_ARCHES = {
    "EM_X86_64": "amd64",
    "EM_386": "i386",
    "EM_AARCH64": "arm64",
    "EM_ARM": "armhf",
    "EM_PPC64": "ppc64el",
    "EM_S390": "s390x",
    "EM_RISCV": "riscv64",
    "EM_LOONGARCH": "loong64",
}

# --------------------------------------------------------------------------- reading ELF files


@dataclass(frozen=True, kw_only=True, slots=True)
class ElfImports:
    """What one ELF file takes from its libraries."""

    elf_class: int
    machine: str
    elf_type: str
    interp: bool
    needed: tuple[str, ...]
    symbols: tuple[str, ...]  # "name@VERSION" ("name@Base" unversioned), as dpkg-shlibdeps keys them
    version_needs: tuple[tuple[str, str], ...]  # (library file, version) from .gnu.version_r
    gnu_hash: bool
    sysv_hash: bool


def _version_names(elf: ELFFile) -> dict[int, str]:
    """Version index -> name, from the needed (`.gnu.version_r`) and defined (`.gnu.version_d`)
    versions, as objdump prints them next to each dynamic symbol."""
    from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection

    names: dict[int, str] = {}
    for sec in elf.iter_sections():
        if isinstance(sec, GNUVerNeedSection):
            for _need, auxes in sec.iter_versions():
                for aux in auxes:
                    names[int(aux["vna_other"]) & 0x7FFF] = aux.name
        elif isinstance(sec, GNUVerDefSection):
            for vdef, auxes in sec.iter_versions():
                first = next(iter(auxes), None)
                if first is not None:
                    names.setdefault(int(vdef["vd_ndx"]) & 0x7FFF, first.name)
    return names


def _relative_count(elf: ELFFile) -> int:
    """DT_RELACOUNT/DT_RELCOUNT: how many leading entries of .rela.dyn are R_*_RELATIVE (no
    symbol); a position-independent program has tens of thousands of them."""
    from elftools.elf.dynamic import DynamicSection

    dyn = elf.get_section_by_name(".dynamic")
    if not isinstance(dyn, DynamicSection):
        return 0
    return next(
        (int(t.entry.d_val) for t in dyn.iter_tags() if t.entry.d_tag in ("DT_RELACOUNT", "DT_RELCOUNT")), 0
    )


def _copy_type(elf: ELFFile) -> int | None:
    """The machine's R_*_COPY relocation type number, found through pyelftools' own names."""
    from elftools.elf.descriptions import describe_reloc_type

    return next((n for n in range(256) if describe_reloc_type(n, elf).endswith("_COPY")), None)


def _copied_symbols(elf: ELFFile, dynsym_index: int) -> set[int]:
    """Indexes of .dynsym symbols that a copy relocation brings into the file (`stderr`,
    `environ`): defined in .bss, but imported all the same. Only .rel[a].dyn holds copy
    relocations, after its leading relative ones."""
    from elftools.elf.relocation import RelocationSection

    copy = _copy_type(elf)
    if copy is None:
        return set()
    out: set[int] = set()
    skip = _relative_count(elf)
    for sec in elf.iter_sections():
        if not isinstance(sec, RelocationSection) or sec["sh_link"] != dynsym_index:
            continue
        if sec.name.endswith(".plt"):
            continue
        start = skip if sec.name in (".rela.dyn", ".rel.dyn") else 0
        for n in range(min(start, sec.num_relocations()), sec.num_relocations()):
            rel = sec.get_relocation(n)
            if rel["r_info_type"] == copy:
                out.add(int(rel["r_info_sym"]))
    return out


def _imported_symbols(elf: ELFFile) -> tuple[str, ...]:
    from elftools.common.utils import struct_parse
    from elftools.elf.gnuversions import GNUVerSymSection
    from elftools.elf.sections import SymbolTableSection

    sections = list(elf.iter_sections())
    index = next((i for i, s in enumerate(sections) if s.name == ".dynsym"), None)
    if index is None or not isinstance(sections[index], SymbolTableSection):
        return ()
    dynsym = sections[index]
    assert isinstance(dynsym, SymbolTableSection)
    versym = next((s for s in sections if isinstance(s, GNUVerSymSection)), None)
    names = _version_names(elf) if versym is not None else {}
    copied = _copied_symbols(elf, index)
    out: set[str] = set()
    for i, sym in enumerate(dynsym.iter_symbols()):
        if i == 0 or not sym.name or (sym["st_shndx"] != "SHN_UNDEF" and i not in copied):
            continue
        version = "Base"
        if versym is not None:
            entry = struct_parse(
                elf.structs.Elf_Versym, elf.stream, stream_pos=versym["sh_offset"] + i * versym["sh_entsize"]
            )
            ndx = entry["ndx"]
            if isinstance(ndx, int) and (ndx & 0x7FFF) > 1:
                version = names.get(ndx & 0x7FFF, "Base")
        out.add(f"{sym.name}@{version}")
    return tuple(sorted(out))


def read_imports(path: Path | str, *, symbols: bool = True) -> ElfImports:
    """The libraries, versions and (with `symbols`) the dynamic symbols an ELF file imports."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection

    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            needed: list[str] = []
            gnu_hash = sysv_hash = False
            version_needs: list[tuple[str, str]] = []
            for sec in elf.iter_sections():
                if isinstance(sec, DynamicSection):
                    for tag in sec.iter_tags():
                        d_tag = tag.entry.d_tag
                        if d_tag == "DT_NEEDED":
                            needed.append(str(getattr(tag, "needed", "")))
                        gnu_hash = gnu_hash or d_tag == "DT_GNU_HASH"
                        sysv_hash = sysv_hash or d_tag == "DT_HASH"
                elif isinstance(sec, GNUVerNeedSection):
                    for need, auxes in sec.iter_versions():
                        version_needs.extend((str(need.name), str(aux.name)) for aux in auxes)
            return ElfImports(
                elf_class=elf.elfclass,
                machine=str(elf["e_machine"]),
                elf_type=str(elf["e_type"]),
                interp=any(seg["p_type"] == "PT_INTERP" for seg in elf.iter_segments()),
                needed=tuple(needed),
                symbols=_imported_symbols(elf) if symbols else (),
                version_needs=tuple(version_needs),
                gnu_hash=gnu_hash,
                sysv_hash=sysv_hash,
            )
    except OSError as e:
        raise ShlibsError(f"{path}: cannot read file: {e.strerror}") from None
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, StopIteration) as e:
        raise ShlibsError(f"{path}: truncated or corrupt ELF file ({e})") from None


# --------------------------------------------------------------------------- RPM


def _rpm_soname_ok(soname: str) -> bool:
    """elfdeps' soname filter: names with `.so`, starting with `lib` or the dynamic linker's."""
    if not soname.strip() or ".so" not in soname:
        return False
    return soname.startswith(("lib", "ld.", "ld-", "ld64.", "ld64-"))


def rpm_file_requires(imports: ElfImports, mode: int) -> list[str]:
    """elfdeps --requires for one file (ET_EXEC or ET_DYN; others require nothing). A program
    (PT_INTERP) without any exec bit requires nothing: rpm treats it as data."""
    if imports.elf_type not in ("ET_EXEC", "ET_DYN") or (imports.interp and not mode & 0o111):
        return []
    marker = "(64bit)" if imports.elf_class == 64 and imports.machine not in ("EM_ALPHA",) else ""
    out = [f"{lib}({ver}){marker}" for lib, ver in imports.version_needs if _rpm_soname_ok(lib)]
    out += [f"{lib}(){marker}" if marker else lib for lib in imports.needed if _rpm_soname_ok(lib)]
    if imports.gnu_hash and not imports.sysv_hash:
        out.append("rtld(GNU_HASH)")
    return out


def rpm_requires(plan: Plan) -> dict[str, tuple[str, ...]]:
    """package -> the sorted `Requires` rpm's generator would give its ELF files, from the
    facts the scan read (reading every ELF file again here was most of a tree split's time)."""
    by_path = plan.inventory.by_path()
    out: dict[str, tuple[str, ...]] = {}
    for p in plan.packages:
        reqs: set[str] = set()
        for path in p.files:
            e = by_path[path]
            if e.kind == "file" and e.elf is not None:
                imports = ElfImports(
                    elf_class=e.elf.elf_class,
                    machine=e.elf.machine,
                    elf_type=e.elf.elf_type,
                    interp=e.elf.interp,
                    needed=e.elf.needed,
                    symbols=(),
                    version_needs=e.elf.version_needs,
                    gnu_hash=e.elf.gnu_hash,
                    sysv_hash=e.elf.sysv_hash,
                )
                reqs.update(rpm_file_requires(imports, e.mode))
        out[p.name] = tuple(sorted(reqs))
    return out


# --------------------------------------------------------------------------- Debian versions


def _order(c: str) -> int:
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256 if c else 0


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i] if i < len(a) else "")
            bc = _order(b[j] if j < len(b) else "")
            if ac != bc:
                return ac - bc
            i, j = i + 1, j + 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            first_diff = first_diff or ord(a[i]) - ord(b[j])
            i, j = i + 1, j + 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _split_version(v: str) -> tuple[int, str, str]:
    epoch, sep, rest = v.strip().partition(":")
    if not sep:
        epoch, rest = "0", v.strip()
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return (int(epoch) if epoch.isdigit() else 0), upstream, revision


def compare_versions(a: str, b: str) -> int:
    """dpkg's version order: negative, zero or positive as `a` is lower, equal or higher."""
    ea, ua, ra = _split_version(a)
    eb, ub, rb = _split_version(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


# --------------------------------------------------------------------------- symbols and shlibs files


@dataclass
class SymbolsObject:
    """One library (soname) of a symbols file: its dependency templates (0 = main, then the
    `|` alternatives) and its symbols: name@version -> (minimal version, template id, deprecated)."""

    deps: list[str]
    symbols: dict[str, tuple[str, int, bool]] = field(default_factory=dict)
    _smallest: dict[int, str | None] = field(default_factory=dict, repr=False)

    def smallest_version(self, dep_id: int = 0) -> str | None:
        """dpkg's get_smallest_version: deprecated symbols count too."""
        if dep_id not in self._smallest:
            smallest: str | None = None
            for minver in {m for m, sym_dep, _ in self.symbols.values() if sym_dep == dep_id}:
                if smallest is None or compare_versions(smallest, minver) > 0:
                    smallest = minver
            self._smallest[dep_id] = smallest
        return self._smallest[dep_id]


_SYMBOL_LINE = re.compile(r"^(?:\s+|#(?:DEPRECATED|MISSING): ([^#]+)#\s*)(.*)")
_INCLUDE_LINE = re.compile(r'^(\(.*\))?#include\s+"([^"]+)"')
_FIELD_LINE = re.compile(r"^\*\s*([^:]+):\s*(.*\S)\s*$")
_OBJECT_LINE = re.compile(r"^(\S+)\s+(.*)$")
_PATTERN_TAGS = {"c++", "symver", "regex"}


def _parse_symbol_spec(spec: str) -> tuple[str, str, int, bool] | None:
    """(name, minimal version, template id, is a pattern) of one symbol line, or None."""
    tags: set[str] = set()
    m = re.match(r"^\s*\((.*?)\)(.*)$", spec)
    if m and m.group(1):
        tags = {t.split("=", 1)[0] for t in m.group(1).split("|")}
        rest = m.group(2)
        quoted = re.match(r"""^(['"])(.*?)\1(.*)$""", rest)
        if quoted:
            name, rest = quoted.group(2), quoted.group(3)
        else:
            m2 = re.match(r"^(\S+)(.*)$", rest)
            if not m2:
                return None
            name, rest = m2.group(1), m2.group(2)
    else:
        m2 = re.match(r"^(\S+)(.*)$", spec)
        if not m2:
            return None
        name, rest = m2.group(1), m2.group(2)
    ver = re.match(r"^\s(\S+)(?:\s(\d+))?", rest)
    if not ver:
        return None
    pattern = bool(tags & _PATTERN_TAGS) or name.startswith("*@")
    return name, ver.group(1), int(ver.group(2) or 0), pattern


def _header_line(line: str, objects: dict[str, SymbolsObject], current: str | None) -> str | None:
    """A line that is not a symbol: an alternative template (`| dep`), a field (`* Name:`), or
    the header of a new library (`soname template`). Returns the library now current."""
    if line.startswith("|"):
        if current is not None:
            objects[current].deps.append(line[1:].strip())
    elif _FIELD_LINE.match(line):
        pass  # Build-Depends-Package and the like: see the module docstring
    elif m := _OBJECT_LINE.match(line):
        current = m.group(1)
        if current in objects:
            objects[current].deps = [m.group(2)]
        else:
            objects[current] = SymbolsObject(deps=[m.group(2)])
    return current


def parse_symbols_file(path: Path, _seen: frozenset[Path] = frozenset()) -> dict[str, SymbolsObject]:
    """A deb-symbols(5) file: soname -> SymbolsObject (patterns are left out: dpkg-shlibdeps
    looks symbols up by exact name@version only)."""
    objects: dict[str, SymbolsObject] = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError as e:
        raise ShlibsError(f"{path}: cannot read symbols file: {e.strerror}") from None
    current: str | None = None
    for line in lines:
        if m := _SYMBOL_LINE.match(line):
            parsed = _parse_symbol_spec(m.group(2))
            if current is not None and parsed is not None and not parsed[3]:
                name, minver, dep_id, _pattern = parsed
                objects[current].symbols[name] = (minver, dep_id, bool((m.group(1) or "").strip()))
        elif m := _INCLUDE_LINE.match(line):
            inc = (path.parent / m.group(2)).resolve()
            if inc not in _seen:
                for soname, obj in parse_symbols_file(inc, _seen | {path.resolve()}).items():
                    objects.setdefault(soname, obj).symbols.update(obj.symbols)
        elif line and not line.startswith("#"):
            current = _header_line(line, objects, current)
    return objects


def split_soname(soname: str) -> tuple[str, str] | None:
    """`libfoo.so.1` -> (libfoo, 1); `libfoo-1.2.so` -> (libfoo, 1.2); else None."""
    m = re.match(r"^(.+)\.so\.(.+)$", soname) or re.match(r"^(.+)-(\d.*)\.so$", soname)
    return (m.group(1), m.group(2)) if m else None


_SHLIBS_LINE = re.compile(r"^\s*(?:(\S+):\s+)?(\S+)\s+(\S+)(?:\s+(\S.*\S))?\s*$")


def shlibs_dependency(path: Path, soname: str, package_type: str = "deb") -> str | None:
    """The dependency a deb-shlibs(5) file gives `soname`: a line of the package type wins,
    else the first untyped line."""
    split = split_soname(soname)
    if split is None:
        return None
    try:
        lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError as e:
        raise ShlibsError(f"{path}: cannot read shlibs file: {e.strerror}") from None
    dep: str | None = None
    for raw in lines:
        line = raw.rstrip()
        if line.startswith("#"):
            continue
        m = _SHLIBS_LINE.match(line)
        if not m or (m.group(2), m.group(3)) != split:
            continue
        if m.group(1) is not None:
            if m.group(1) == package_type:
                return m.group(4) or ""
        elif dep is None:
            dep = m.group(4) or ""
    return dep


@dataclass
class DpkgData:
    """dpkg's own data on this host: the control files of installed packages (`info/`), and
    the local overrides in /etc/dpkg. Parsed files are cached."""

    admindir: Path = field(default_factory=lambda: Path(os.environ.get("DPKG_ADMINDIR", "/var/lib/dpkg")))
    confdir: Path = Path("/etc/dpkg")
    _symbols: dict[Path, dict[str, SymbolsObject]] = field(default_factory=dict)
    _public: dict[tuple[str, str], bool | None] = field(default_factory=dict)

    def public_library(self, soname: str, machine: str) -> bool | None:
        """Whether the host's library for `soname` has a SONAME (cached; see _public_library)."""
        if (soname, machine) not in self._public:
            self._public[soname, machine] = _public_library(soname, machine)
        return self._public[soname, machine]

    def control_file(self, package: str, kind: str, arch: str | None) -> Path | None:
        names = [f"{package}.{kind}"]
        if arch and ":" not in package:
            names.append(f"{package}:{arch}.{kind}")
        return next((p for n in names if (p := self.admindir / "info" / n).is_file()), None)

    def symbols_object(self, package: str, soname: str, arch: str | None) -> SymbolsObject | None:
        """The first symbols file that knows `soname`, in dpkg-shlibdeps' order."""
        candidates = [self.confdir / "symbols" / f"{package}.symbols.{arch}"] if arch else []
        candidates.append(self.confdir / "symbols" / f"{package}.symbols")
        control = self.control_file(package, "symbols", arch)
        if control is not None:
            candidates.append(control)
        for path in candidates:
            if not path.is_file():
                continue
            if path not in self._symbols:
                self._symbols[path] = parse_symbols_file(path)
            if soname in self._symbols[path]:
                return self._symbols[path][soname]
        return None

    def shlibs(self, package: str, soname: str, arch: str | None) -> str | None:
        files = [self.confdir / "shlibs.override", self.control_file(package, "shlibs", arch)]
        for path in [*files, self.confdir / "shlibs.default"]:
            if path is not None and path.is_file():
                dep = shlibs_dependency(path, soname)
                if dep is not None:
                    return dep
        return None


# --------------------------------------------------------------------------- Depends lines


_SIMPLE_DEP = re.compile(
    r"^\s*([a-zA-Z0-9][a-zA-Z0-9+.-]*)(?::([a-zA-Z0-9][a-zA-Z0-9-]*))?"
    r"(?:\s*\(\s*(<<|<=|=|>=|>>|[<>])\s*([^)\s]+)\s*\))?"
    r"(?:\s*\[\s*([^\]]+?)\s*\])?((?:\s*<\s*[^>]+>)+)?\s*$"
)
_RELATION_ORDER = {None: 0, ">=": 1, ">>": 2, "=": 3, "<<": 4, "<=": 5}


@dataclass(frozen=True, slots=True)
class _Simple:
    package: str
    archqual: str | None
    relation: str | None
    version: str
    arches: str | None
    restrictions: str | None

    def __str__(self) -> str:
        out = self.package + (f":{self.archqual}" if self.archqual else "")
        if self.relation:
            out += f" ({self.relation} {self.version})"
        if self.arches:
            out += " [" + " ".join(self.arches.split()) + "]"
        if self.restrictions:
            out += " " + " ".join(
                "<" + " ".join(r.split()) + ">" for r in re.findall(r"<\s*([^>]+)>", self.restrictions)
            )
        return out


def _parse_simple(text: str) -> _Simple:
    m = _SIMPLE_DEP.match(text)
    if not m:
        raise ShlibsError(f"invalid dependency got generated: {text.strip()!r}")
    rel = {"<": "<=", ">": ">="}.get(m.group(3) or "", m.group(3))
    return _Simple(m.group(1), m.group(2), rel, m.group(4) or "", m.group(5), m.group(6))


def format_depends(entries: Iterable[str]) -> str:
    """A Depends line from dependency strings (each `a | b` or simple), sorted as dpkg's
    Dpkg::Deps sorts it: by package, relation, then version text, alternative by alternative."""
    parsed = []
    for entry in entries:
        alts = [_parse_simple(a) for a in entry.split("|")]
        key = [(s.package, _RELATION_ORDER[s.relation], s.version) for s in alts]
        parsed.append((key, " | ".join(str(s) for s in alts)))
    return ", ".join(text for _key, text in sorted(parsed, key=lambda x: x[0]))


# --------------------------------------------------------------------------- dpkg-shlibdeps


@dataclass(frozen=True, kw_only=True, slots=True)
class DebianDepends:
    """One package's `${shlibs:Depends}`: the line, its entries, and what could not be known."""

    depends: str
    entries: tuple[str, ...]
    notes: tuple[str, ...] = ()


class _Merged:
    """dpkg-shlibdeps' %dependencies for one field: template -> minimal version ('' none)."""

    def __init__(self) -> None:
        self.deps: dict[str, str] = {}

    def update(self, template: str, minver: str | None) -> None:
        if minver is None:
            return
        for sub in re.split(r"\s*,\s*", template):
            if sub in self.deps:
                cur = self.deps[sub]
                if cur == "" or (minver != "" and compare_versions(minver, cur) > 0):
                    self.deps[sub] = minver
            else:
                self.deps[sub] = minver

    def entries(self) -> list[str]:
        out = []
        for template, minver in self.deps.items():
            # Perl truth: a version "0" (or none) removes #MINVER# instead of writing (>= 0).
            text = template.replace("#MINVER#", f"(>= {minver})" if minver not in ("", "0") else "")
            out.append(re.sub(r"\s+", " ", text).strip())
        return out


def _public_library(soname: str, machine: str) -> bool | None:
    """Whether the host's library for `soname` has a SONAME (dpkg-shlibdeps only uses shlibs
    files for such libraries); None when the library is not on the host."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    path = locate({soname: machine}).get(soname)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            dyn = ELFFile(f).get_section_by_name(".dynamic")
            return isinstance(dyn, DynamicSection) and any(
                t.entry.d_tag == "DT_SONAME" for t in dyn.iter_tags()
            )
    except (OSError, ELFError, ValueError):
        return None


def package_depends(
    files: Sequence[ElfImports],
    packages: Mapping[str, str | None],
    internal: set[str],
    db: DpkgData,
) -> DebianDepends:
    """dpkg-shlibdeps for one package's ELF files: `packages` maps sonames to the installed
    package shipping each; `internal` sonames (the build's own libraries) are left out."""
    merged = _Merged()
    notes: set[str] = set()
    for imp in files:
        arch = DEBIAN_ARCHES.get(imp.machine)
        objects: dict[str, SymbolsObject] = {}
        for soname in imp.needed:
            pkg = packages.get(soname)
            if soname in internal or pkg is None:
                continue  # the build's own libraries; unresolved ones are noted by the caller
            obj = db.symbols_object(pkg, soname, arch)
            if obj is not None:
                objects[soname] = obj
                merged.update(obj.deps[0], obj.smallest_version() or "")
                continue
            dep = db.shlibs(pkg, soname, arch)
            if dep is not None:
                if db.public_library(soname, imp.machine) is not False:
                    for sub in re.split(r",\s*", dep):
                        merged.deps[sub] = ""
            elif split_soname(soname) is not None:
                notes.add(f"{soname} (package {pkg}): neither a symbols nor a shlibs file knows it")
        for sym in imp.symbols:
            for soname in imp.needed:
                obj = objects.get(soname)
                hit = obj.symbols.get(sym) if obj is not None else None
                if obj is not None and hit is not None and not hit[2]:
                    minver, dep_id, _ = hit
                    if dep_id < len(obj.deps):
                        merged.update(obj.deps[dep_id], minver)
                    break
    entries = merged.entries()
    line = format_depends(entries)
    return DebianDepends(
        depends=line, entries=tuple(line.split(", ")) if line else (), notes=tuple(sorted(notes))
    )


def debian_depends(
    plan: Plan,
    libs: Mapping[str, PackageLibs],
    packages: Mapping[str, str | None],
    *,
    db: DpkgData | None = None,
) -> dict[str, DebianDepends]:
    """package -> its `${shlibs:Depends}`, from the ELF files it ships. `libs` is
    `libdeps.package_libs(plan)`; `packages` maps each external soname to the installed
    package that ships it (`libdeps.packages_for_sonames(..., "dpkg")`)."""
    db = db or DpkgData()
    by_path = plan.inventory.by_path()
    out: dict[str, DebianDepends] = {}
    for p in plan.packages:
        internal = {i.soname for i in libs[p.name].internal}
        files = [
            read_imports(plan.inventory.source(path))
            for path in p.files
            if (e := by_path[path]).kind == "file" and e.elf is not None and e.elf.needed
        ]
        out[p.name] = package_depends(files, packages, internal, db)
    return out
