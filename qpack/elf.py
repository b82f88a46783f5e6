"""ELF facts: headers, the dynamic section, notes and symbol tables. Nothing here loads or runs
the file.

- `read_elf`, what the scan reads every ELF file of a build with, through LIEF (a maintained
  C++ ELF library, about 20 times faster than walking the structures with pyelftools, which was
  most of a scan's time); `read_elf_pyelftools` reads the same facts through pyelftools and is
  the oracle the tests hold it to, file for file. ELF is never parsed by hand here.
- `read_link_facts` (pyelftools) and `read_link_facts_path` (LIEF): what the dynamic linker and
  a module loader look at, for `check` and the wheel writer; `read_dynamic_facts` (pyelftools)
  the part of them the library search needs, from the dynamic segment alone.
- `held_stamps` (LIEF) and `held_stamps_pyelftools`: the stamp names an executable holds.

An executable's build-stamp name is found by searching its read-only data sections in chunks,
never the whole file at once.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

# LIEF and pyelftools are imported where a file is read: a command that reads no ELF file (or
# has every fact from the scan cache) imports neither, and only one of them is needed by most.
if TYPE_CHECKING:
    import lief
    from elftools.elf.dynamic import DynamicSegment, DynamicTag
    from elftools.elf.elffile import ELFFile
    from elftools.elf.hash import ELFHashTable, GNUHashTable
    from elftools.elf.sections import SymbolTableSection
    from elftools.elf.segments import Segment

ELF_MAGIC = b"\x7fELF"

# e_machine -> the machine part of a wheel platform tag (PEP 600 / auditwheel's names).
WHEEL_MACHINES = {
    "EM_X86_64": "x86_64",
    "EM_386": "i686",
    "EM_AARCH64": "aarch64",
    "EM_ARM": "armv7l",
    "EM_PPC64": "ppc64le",
    "EM_S390": "s390x",
    "EM_RISCV": "riscv64",
    "EM_LOONGARCH": "loongarch64",
}


class ElfReadError(ValueError):
    """The file starts like ELF (or is named like a library) but cannot be read as ELF."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ElfInfo:
    machine: str
    elf_class: int
    little_endian: bool
    elf_type: str
    interp: bool
    soname: str | None
    needed: tuple[str, ...]
    runpath: tuple[str, ...]
    build_id: str | None
    stamps_exported: tuple[str, ...]
    stamps_held: tuple[str, ...]
    # What rpm's dependency generator reads besides NEEDED: the (library, version) pairs of
    # .gnu.version_r, and whether the file has a GNU and a SysV symbol hash table. Read at the
    # scan so a tree split does not open every ELF file again.
    version_needs: tuple[tuple[str, str], ...] = ()
    gnu_hash: bool = False
    sysv_hash: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "machine": self.machine,
            "class": self.elf_class,
            "type": self.elf_type,
            "soname": self.soname,
            "needed": list(self.needed),
            "runpath": list(self.runpath),
            "build_id": self.build_id,
            "stamp_exported": list(self.stamps_exported),
            "stamp_held": list(self.stamps_held),
        }

    @property
    def wheel_machine(self) -> str | None:
        if self.machine == "EM_PPC64" and not self.little_endian:
            return "ppc64"
        return WHEEL_MACHINES.get(self.machine)


def stamp_regex(stamp_glob: str) -> re.Pattern[bytes]:
    """`qemu_stamp_*` -> a byte regex for the whole identifier; a value stamp's spec
    (`pppd_version=[0-9]*`) -> one finding each string its glob matches, in data, as a C string
    or the end of one (a compiler keeps one copy of "2.4.9" inside "/usr/lib/pppd/2.4.9")."""
    if (value := value_stamp(stamp_glob)) is not None:
        return value[1]
    head = re.escape(stamp_glob.rstrip("*").encode())
    return re.compile(head + (rb"[A-Za-z0-9_]+" if stamp_glob.endswith("*") else rb"(?![A-Za-z0-9_])"))


# The longest string a value stamp is read as, in a module and in an executable's data.
VALUE_MAX = 128
_PRINTABLE = rb"[\x20-\x7e]"
# What a value glob's `*` and `?` stand for: no space, so that "[0-9].[0-9]*" is no end of a
# sentence ("... (default)/1.3)", which a pppd tester's glob matched); a space the glob writes
# is matched.
_WORD = rb"[\x21-\x7e]"


def value_stamp(spec: str | None) -> tuple[str, re.Pattern[bytes]] | None:
    """(symbol, regex of the held strings) of a value stamp's spec, `SYMBOL=GLOB`
    (`Loader.stamp_spec`): the data symbol each module defines, a C string, and a glob of the
    strings its program holds; None for a symbol glob."""
    if not spec or "=" not in spec:
        return None
    symbol, glob = spec.split("=", 1)
    pattern = b""
    for part in re.findall(r"\[[^\]]+\]|.", glob, re.S):
        if part == "*":
            pattern += _WORD + b"{0,%d}" % VALUE_MAX
        elif part == "?":
            pattern += _WORD
        elif part.startswith("[") and len(part) > 2:
            body = part[1:-1]
            negate = body[0] in "!^"
            body = body[1:] if negate else body
            # Only printable ASCII is a value; a negated class stays inside `*`'s characters.
            cls = re.sub(rb"[\\\]^]", lambda m: b"\\" + m.group(), body.encode())
            pattern += (rb"(?![" + cls + rb"])" + _WORD) if negate else (rb"[" + cls + rb"]")
        else:
            pattern += re.escape(part.encode())
    # Every position is tried (a lookahead matches nothing), so a string is found where another
    # ends in it; the NUL after it ends the C string.
    return symbol, re.compile(rb"(?=(" + pattern + rb")\x00)")


def c_string(raw: bytes) -> str | None:
    """A value stamp read from a module's data: the bytes before the first NUL, printable ASCII
    and not empty; None for anything else (a pointer, zeros, binary data)."""
    text = raw.split(b"\0", 1)[0]
    if not text or len(text) > VALUE_MAX or not re.fullmatch(_PRINTABLE + b"+", text):
        return None
    return text.decode("ascii")


def _scan_section(stream: BinaryIO, offset: int, size: int, regex: re.Pattern[bytes]) -> set[str]:
    found: set[str] = set()
    chunk, overlap = 1 << 20, 256
    pos, tail = 0, b""
    while pos < size:
        stream.seek(offset + pos)
        data = stream.read(min(chunk, size - pos))
        if not data:
            break
        buf = tail + data
        for m in regex.finditer(buf):
            if regex.groups:  # a value stamp's: its string, which a NUL in the buffer ends
                found.add(m.group(1).decode("ascii"))
            # A match touching the end of the buffer may continue in the next chunk; the overlap
            # re-reads it whole there.
            elif m.end() < len(buf) or pos + len(data) >= size:
                found.add(m.group().decode("ascii"))
        tail = buf[-overlap:]
        pos += len(data)
    return found


def read_elf(stream: BinaryIO, stamp_glob: str | None = None, scan_strings: bool = False) -> ElfInfo:
    """ELF facts of an open file, read with LIEF (a maintained C++ ELF library: about 20 times
    faster than walking the structures with pyelftools, which was most of a scan's time). Raises
    ElfReadError for a truncated or corrupt file. `read_elf_pyelftools` gives the same facts
    through pyelftools: the oracle the tests hold this to, file for file."""
    try:
        return _read_elf_lief(stream, stamp_glob, scan_strings)
    except ElfReadError:
        raise
    except (SystemError, ValueError, RuntimeError, TypeError, OverflowError, UnicodeError) as e:
        # LIEF reads what it can of a damaged file; values its enums do not know surface here.
        raise ElfReadError(f"truncated or corrupt ELF file ({type(e).__name__})") from None


def _parser_config(dynamic_symbols: bool) -> lief.ELF.ParserConfig:
    """What `read_elf` needs LIEF to parse: headers, sections, the dynamic section, symbol
    versions (the version requirements) and notes, and the dynamic symbols only when asked (a
    stamp is looked for in a library). Not the relocations, `.symtab` or the bytes past the
    last segment: on the bench's 420 files that is 3-4 times less time (1.6-1.9 s -> 0.4-0.6 s
    for the whole build, one thread) and 45 -> 18 MB of peak memory; leaving out the dynamic
    symbols takes a further 20-35 % off (programs built with --export-dynamic define tens of
    thousands). Made for each file: one kept until exit would make nanobind report it as leaked
    on stderr."""
    import lief

    config = lief.ELF.ParserConfig()
    config.parse_relocations = False
    config.parse_symtab_symbols = False
    config.parse_overlay = False
    config.parse_dyn_symbols = dynamic_symbols
    return config


def _read_elf_lief(stream: BinaryIO, stamp_glob: str | None, scan_strings: bool) -> ElfInfo:
    import lief

    lief.logging.disable()
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    binary = lief.ELF.parse(cast("io.IOBase", stream), _parser_config(dynamic_symbols=False))
    header = binary.header if binary is not None else None
    if binary is None or header is None or header.identity_class not in _lief_classes():
        raise ElfReadError("truncated or corrupt ELF file (no ELF header)")
    # LIEF 0.15 fills in the fields of a header the file cuts short (a file of the 4-byte magic
    # alone reads as an ELF64 file of machine EM_NONE). Elf32_Ehdr is 52 bytes, Elf64_Ehdr 64.
    if size < (64 if header.identity_class == lief.ELF.Header.CLASS.ELF64 else 52):
        raise ElfReadError("truncated or corrupt ELF file (shorter than its ELF header)")
    regions = [(seg.file_offset, seg.physical_size) for seg in binary.segments]
    nobits = lief.ELF.Section.TYPE.NOBITS
    regions += [(sec.offset, sec.size) for sec in binary.sections if sec.size and sec.type != nobits]
    # The header tables themselves: a file cut inside them parses as an ELF with no segment.
    regions += [
        (header.program_header_offset, header.numberof_segments * header.program_header_size),
        (header.section_header_offset, header.numberof_sections * header.section_header_size),
    ]
    if _segments_dropped(binary) or any(offset + length > size for offset, length in regions):
        raise ElfReadError(
            "truncated or corrupt ELF file (a segment or section runs past the end of the file)"
        )
    interp = any(seg.type == lief.ELF.Segment.TYPE.INTERP for seg in binary.segments)
    soname, needed, paths = _lief_dynamic(binary)
    runpath = [p for _, p in paths]  # the scan shows DT_RPATH and DT_RUNPATH together
    stamp_re = stamp_regex(stamp_glob) if stamp_glob else None
    # Dynamic symbols are walked only for a stamp, and never in programs (PT_INTERP): they
    # export tens of thousands of symbols with --export-dynamic and never the stamp.
    exported: set[str] = set()
    if stamp_re is not None and not interp:
        stream.seek(0)
        with_symbols = lief.ELF.parse(cast("io.IOBase", stream), _parser_config(dynamic_symbols=True))
        if with_symbols is None:
            raise ElfReadError("truncated or corrupt ELF file (no ELF header)")
        value = value_stamp(stamp_glob)
        exported = (
            _lief_stamps(with_symbols, stamp_re) if value is None else _lief_value(with_symbols, value[0])
        )
    held: set[str] = set()
    if scan_strings and stamp_re is not None:
        for sec in binary.sections:
            if sec.name in _STAMP_SECTIONS and sec.type == lief.ELF.Section.TYPE.PROGBITS:
                held |= _scan_section(stream, sec.offset, sec.size, stamp_re)
    little = header.identity_data == lief.ELF.Header.ELF_DATA.LSB
    return ElfInfo(
        machine=_enum_name(header.machine_type.value, _MACHINES, "ENUM_E_MACHINE"),
        elf_class=64 if header.identity_class == lief.ELF.Header.CLASS.ELF64 else 32,
        little_endian=little,
        elf_type=_enum_name(header.file_type.value, _TYPES, "ENUM_E_TYPE"),
        interp=interp,
        soname=soname,
        needed=tuple(needed),
        runpath=tuple(runpath),
        build_id=_lief_build_id(binary, little),
        stamps_exported=tuple(sorted(exported)),
        stamps_held=tuple(sorted(held)),
        version_needs=tuple(
            (_text(req.name), _text(aux.name))
            for req in binary.symbols_version_requirement
            for aux in req.get_auxiliary_symbols()
        ),
        # Asked by tag, not read from each entry: a tag LIEF's enum lacks (trixie's binaries have
        # some) reads as an int with a RuntimeWarning on stderr.
        gnu_hash=binary.has(lief.ELF.DynamicEntry.TAG.GNU_HASH),
        sysv_hash=binary.has(lief.ELF.DynamicEntry.TAG.HASH),
    )


def _lief_dynamic(binary: lief.ELF.Binary) -> tuple[str | None, list[str], list[tuple[str, str]]]:
    """(SONAME, NEEDED, the DT_RPATH and DT_RUNPATH entries as (tag, path) in the order of the
    dynamic section): what both the scan and the link facts read of it."""
    import lief

    soname: str | None = None
    needed: list[str] = []
    paths: list[tuple[str, str]] = []
    for entry in binary.dynamic_entries:
        if isinstance(entry, lief.ELF.DynamicEntryLibrary):
            needed.append(_text(entry.name))
        elif isinstance(entry, lief.ELF.DynamicSharedObject):
            soname = _text(entry.name)
        elif isinstance(entry, lief.ELF.DynamicEntryRpath):
            paths += [("RPATH", p) for p in _text(entry.rpath).split(":") if p]
        elif isinstance(entry, lief.ELF.DynamicEntryRunPath):
            paths += [("RUNPATH", p) for p in _text(entry.runpath).split(":") if p]
    return soname, needed, paths


def _lief_stamps(binary: lief.ELF.Binary, stamp_re: re.Pattern[bytes]) -> set[str]:
    """The stamp names among the dynamic symbols the file defines."""
    exported: set[str] = set()
    if not binary.has_section(".dynsym"):
        return exported
    for sym in binary.dynamic_symbols:
        raw = sym.name  # a name that is not UTF-8 reads as pyelftools reads it (U+FFFD)
        name = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        if name and sym.shndx != 0 and stamp_re.fullmatch(name.encode()):  # 0: SHN_UNDEF
            exported.add(name)
    return exported


def _lief_value(binary: lief.ELF.Binary, symbol: str) -> set[str]:
    """A value stamp: the C string the module's data symbol holds (none where it defines no
    such symbol, or its bytes are no string: a pointer, or zeros in .bss)."""
    sym = binary.get_dynamic_symbol(symbol) if binary.has_section(".dynsym") else None
    if sym is None or sym.shndx == 0:  # 0: SHN_UNDEF
        return set()
    try:
        raw = bytes(binary.get_content_from_virtual_address(sym.value, sym.size or VALUE_MAX))
    except (RuntimeError, ValueError, TypeError):
        return set()
    return {text} if (text := c_string(raw)) is not None else set()


def _lief_build_id(binary: lief.ELF.Binary, little_endian: bool) -> str | None:
    import lief

    build_id = None
    for note in binary.notes:
        if note.type == lief.ELF.Note.TYPE.GNU_BUILD_ID and _text(note.name) == "GNU":
            desc = bytes(note.description)
            if not little_endian:
                # LIEF hands a big-endian file's note description back as 32-bit words in host
                # order; the build-id is a byte string, so put each word's bytes back.
                desc = (
                    b"".join(desc[i : i + 4][::-1] for i in range(0, len(desc) - len(desc) % 4, 4))
                    + (desc[len(desc) - len(desc) % 4 :])
                )
            build_id = desc.hex()
    return build_id


# Where an executable holds its stamp name; e_machine and e_type as pyelftools names them.
_STAMP_SECTIONS = (".rodata", ".data.rel.ro", ".data")

_MACHINES = {
    3: "EM_386", 8: "EM_MIPS", 20: "EM_PPC", 21: "EM_PPC64", 22: "EM_S390", 40: "EM_ARM",
    43: "EM_SPARCV9", 62: "EM_X86_64", 183: "EM_AARCH64", 243: "EM_RISCV", 258: "EM_LOONGARCH",
}  # fmt: skip
_TYPES = {0: "ET_NONE", 1: "ET_REL", 2: "ET_EXEC", 3: "ET_DYN", 4: "ET_CORE"}


def _enum_name(value: int, known: dict[int, str], enum: str) -> str:
    if value in known:
        return known[value]
    from elftools.elf import enums

    table: dict[str, object] = getattr(enums, enum)
    return next((k for k, v in table.items() if v == value and not k.startswith("_")), str(value))


@contextlib.contextmanager
def pyelftools_errors() -> Iterator[None]:
    """Around reading a file with pyelftools: what it raises for a truncated or corrupt file
    (its own errors, construct's on short reads, the lookups that fail on garbage) becomes one
    ElfReadError; an ElfReadError raised inside passes through as it is."""
    from elftools.common.exceptions import ELFError

    try:
        yield
    except ElfReadError:
        raise
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, OSError) as e:
        raise ElfReadError(f"truncated or corrupt ELF file ({e})") from None
    except Exception as e:  # pyelftools raises construct's errors on short reads
        if type(e).__module__.startswith(("construct", "elftools")):
            raise ElfReadError(f"truncated or corrupt ELF file ({type(e).__name__})") from None
        raise


def read_elf_pyelftools(
    stream: BinaryIO, stamp_glob: str | None = None, scan_strings: bool = False
) -> ElfInfo:
    """`read_elf` through pyelftools, walking every structure in Python (about 30 times slower):
    the independent oracle the tests compare `read_elf` with."""
    with pyelftools_errors():
        return _read_elf_pyelftools(stream, stamp_glob, scan_strings)


def _read_elf_pyelftools(stream: BinaryIO, stamp_glob: str | None, scan_strings: bool) -> ElfInfo:  # noqa: PLR0912 - one pass over the sections, a branch per structure read
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection
    from elftools.elf.sections import NoteSection, SymbolTableSection

    elf = ELFFile(stream)
    soname: str | None = None
    needed: list[str] = []
    runpath: list[str] = []
    interp = False
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_INTERP":
            interp = True
    build_id = None
    exported: set[str] = set()
    stamp_re = stamp_regex(stamp_glob) if stamp_glob else None
    held: set[str] = set()
    version_needs: list[tuple[str, str]] = []
    tags: set[str] = set()
    for sec in elf.iter_sections():
        if isinstance(sec, GNUVerNeedSection):
            for need, auxes in sec.iter_versions():
                version_needs.extend((str(need.name), str(aux.name)) for aux in auxes)
        if isinstance(sec, DynamicSection):
            for tag in sec.iter_tags():
                tags.add(tag.entry.d_tag)
                if tag.entry.d_tag == "DT_SONAME":
                    soname = getattr(tag, "soname", None)
                elif tag.entry.d_tag == "DT_NEEDED":
                    needed.append(str(getattr(tag, "needed", "")))
                elif tag.entry.d_tag in ("DT_RUNPATH", "DT_RPATH"):
                    runpath.extend(p for p in getattr(tag, tag.entry.d_tag[3:].lower()).split(":") if p)
        elif isinstance(sec, NoteSection):
            for note in sec.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID" and note["n_name"] == "GNU":  # not stapsdt's type 3
                    build_id = note["n_desc"]
        elif isinstance(sec, SymbolTableSection) and sec.name == ".dynsym" and not interp and stamp_re:
            # As read_elf: symbols only for a stamp, never a program's.
            if (value := value_stamp(stamp_glob)) is not None:
                exported |= _pyelftools_value(elf, sec, value[0])
                continue
            for sym in sec.iter_symbols():
                if sym.name and sym["st_shndx"] != "SHN_UNDEF" and stamp_re.fullmatch(sym.name.encode()):
                    exported.add(sym.name)
        if (
            scan_strings
            and stamp_re is not None
            and sec.name in (".rodata", ".data.rel.ro", ".data")
            and sec["sh_type"] == "SHT_PROGBITS"
        ):
            held |= _scan_section(stream, sec["sh_offset"], sec["sh_size"], stamp_re)
    return ElfInfo(
        machine=str(elf["e_machine"]),
        elf_class=elf.elfclass,
        little_endian=elf.little_endian,
        elf_type=str(elf["e_type"]),
        interp=interp,
        soname=soname,
        needed=tuple(needed),
        runpath=tuple(runpath),
        build_id=build_id,
        stamps_exported=tuple(sorted(exported)),
        stamps_held=tuple(sorted(held)),
        version_needs=tuple(version_needs),
        gnu_hash="DT_GNU_HASH" in tags,
        sysv_hash="DT_HASH" in tags,
    )


def _pyelftools_value(elf: ELFFile, dynsym: SymbolTableSection, symbol: str) -> set[str]:
    """`_lief_value` through pyelftools: the bytes at the symbol's address in its section."""
    syms = [s for s in dynsym.get_symbol_by_name(symbol) or [] if isinstance(s["st_shndx"], int)]
    if not syms:
        return set()
    sym = syms[0]
    sec = elf.get_section(sym["st_shndx"])
    if sec["sh_type"] == "SHT_NOBITS":
        return set()
    start = sym["st_value"] - sec["sh_addr"]
    if not 0 <= start < sec["sh_size"]:
        return set()
    elf.stream.seek(sec["sh_offset"] + start)
    raw = elf.stream.read(min(sym["st_size"] or VALUE_MAX, sec["sh_size"] - start))
    return {text} if (text := c_string(raw)) is not None else set()


def stamp_value(stream: BinaryIO, symbol: str) -> str | None:
    """The C string a module's data symbol holds, a value stamp (`value_stamp`), through
    pyelftools; None where the file defines no such symbol or it holds no string. Raises
    ElfReadError for a truncated or corrupt file."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with pyelftools_errors():
        elf = ELFFile(stream)
        dynsym = elf.get_section_by_name(".dynsym")
        if not isinstance(dynsym, SymbolTableSection):
            return None
        return next(iter(_pyelftools_value(elf, dynsym, symbol)), None)


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkFacts:
    """What the dynamic linker and a module loader look at, read without walking symbol tables:
    machine and class, SONAME, NEEDED, DT_RPATH and DT_RUNPATH apart (ld.so treats them
    differently), and which of some wanted symbol names the file defines (through its symbol
    hash table, as the dynamic linker looks a name up)."""

    machine: str
    elf_class: int
    elf_type: str
    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    defines: frozenset[str]
    # Symbol version nodes the file needs from its libraries (.gnu.version_r) and those it
    # defines (.gnu.version_d): a private node such as PROG_PRIVATE_9.0.0, needed by modules
    # and defined only by the same build's library, is a same-build check without a stamp.
    version_needs: frozenset[str] = frozenset()
    version_defs: frozenset[str] = frozenset()
    # The needed nodes with the library each is needed of, (file name, node), weak ones left
    # out: ld.so refuses a file whose library lacks one (a plug-in built against a newer Qt
    # or glibc: "version `Qt_6.9' not found").
    version_needs_of: frozenset[tuple[str, str]] = frozenset()


def elf_file_type(stream: BinaryIO) -> str:
    """The file's `e_type` (`ET_DYN`, `ET_EXEC`, `ET_REL`...), from its ELF header alone,
    through pyelftools. Raises ElfReadError for a file that is no readable ELF file."""
    from elftools.elf.elffile import ELFFile

    with pyelftools_errors():
        return str(ELFFile(stream).header["e_type"])


def elf_machine(stream: BinaryIO) -> tuple[str, int]:
    """The file's (`e_machine`, ELF class), as `LinkFacts` has them, from its ELF header alone,
    through pyelftools. Raises ElfReadError for a file that is no readable ELF file."""
    from elftools.elf.elffile import ELFFile

    with pyelftools_errors():
        elf = ELFFile(stream)
        return str(elf["e_machine"]), elf.elfclass


def has_interpreter(stream: BinaryIO) -> bool:
    """Whether the file is a program the kernel runs through a dynamic linker (a `PT_INTERP`
    segment), not a library opened with dlopen; from its program headers alone. Raises
    ElfReadError for a file that is no readable ELF file."""
    from elftools.elf.elffile import ELFFile

    with pyelftools_errors():
        return any(seg["p_type"] == "PT_INTERP" for seg in ELFFile(stream).iter_segments())


def read_link_facts(stream: BinaryIO, wanted: tuple[str, ...] = ()) -> LinkFacts:
    """`LinkFacts` of an open ELF file; raises ElfReadError for one that is truncated or corrupt."""
    with pyelftools_errors():
        return _read_link_facts(stream, wanted)


def dynamic_symbols(stream: BinaryIO) -> tuple[frozenset[str], frozenset[str]]:
    """(the symbols an ELF file needs from elsewhere, the ones it exports): its `.dynsym`'s
    undefined global symbols (weak ones may stay unresolved) and its defined global or weak
    ones of default or protected visibility, through pyelftools. Raises ElfReadError for a
    truncated or corrupt file."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with pyelftools_errors():
        elf = ELFFile(stream)
        dynsym = elf.get_section_by_name(".dynsym")
        undefined: set[str] = set()
        defined: set[str] = set()
        if isinstance(dynsym, SymbolTableSection):
            for sym in dynsym.iter_symbols():
                bind, name = sym["st_info"]["bind"], sym.name
                if not name or bind not in ("STB_GLOBAL", "STB_WEAK"):
                    continue
                if sym["st_shndx"] == "SHN_UNDEF":
                    if bind == "STB_GLOBAL":
                        undefined.add(name)
                elif sym["st_other"]["visibility"] in ("STV_DEFAULT", "STV_PROTECTED"):
                    defined.add(name)
    return frozenset(undefined), frozenset(defined)


# The flags asking the dynamic linker to bind every symbol as it loads the file (`-z now`):
# DF_BIND_NOW in DT_FLAGS, DF_1_NOW in DT_FLAGS_1.
_DF_BIND_NOW, _DF_1_NOW = 0x8, 0x1
# The relocations of PLT slots, bound at first call under RTLD_LAZY; every other dynamic
# relocation (GLOB_DAT, COPY, absolute addresses) is bound as the file is loaded.
_LAZY_RELOCATIONS = (".rela.plt", ".rel.plt")


def load_time_imports(stream: BinaryIO) -> frozenset[str]:
    """The undefined global symbols the dynamic linker must find as it loads the file, even
    under RTLD_LAZY: those its load-time relocations name (data, function addresses), and
    every one when the file asks for immediate binding. Weak ones may stay unresolved. Read
    from the relocations, not the symbol types, which compilers leave STT_NOTYPE. Through
    pyelftools; raises ElfReadError for a truncated or corrupt file."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    from elftools.elf.relocation import RelocationSection
    from elftools.elf.sections import SymbolTableSection

    with pyelftools_errors():
        elf = ELFFile(stream)
        now = False
        dynamic = elf.get_section_by_name(".dynamic")
        if isinstance(dynamic, DynamicSection):
            for tag in dynamic.iter_tags():
                kind, value = tag.entry.d_tag, tag.entry.d_val
                now = now or kind == "DT_BIND_NOW"
                now = now or (kind == "DT_FLAGS" and bool(value & _DF_BIND_NOW))
                now = now or (kind == "DT_FLAGS_1" and bool(value & _DF_1_NOW))
        dynsym = elf.get_section_by_name(".dynsym")
        if not isinstance(dynsym, SymbolTableSection):
            return frozenset()
        bound: set[int] | None = None if now else set()
        if bound is not None:
            for section in elf.iter_sections():
                if isinstance(section, RelocationSection) and section.name not in _LAZY_RELOCATIONS:
                    bound.update(r["r_info_sym"] for r in section.iter_relocations())
        out: set[str] = set()
        for i, sym in enumerate(dynsym.iter_symbols()):
            undefined = sym["st_shndx"] == "SHN_UNDEF" and sym["st_info"]["bind"] == "STB_GLOBAL"
            if sym.name and undefined and (bound is None or i in bound):
                out.add(sym.name)
    return frozenset(out)


def _dynamic_tags(elf: ELFFile) -> tuple[str | None, list[str], list[str], list[str]]:
    """(SONAME, NEEDED, DT_RPATH entries, DT_RUNPATH entries)."""
    from elftools.elf.dynamic import DynamicSection

    dynamic = elf.get_section_by_name(".dynamic")
    if not isinstance(dynamic, DynamicSection):
        return None, [], [], []
    soname, needed, rpath, runpath, _ = _tags(dynamic.iter_tags())
    return soname, needed, rpath, runpath


def _defined(elf: ELFFile, wanted: tuple[str, ...]) -> frozenset[str]:
    """Which of `wanted` the file defines, through its symbol hash table where it has one."""
    from elftools.elf.sections import SymbolTableSection

    defines: set[str] = set()
    table = elf.get_section_by_name(".gnu.hash") or elf.get_section_by_name(".hash")
    lookup = getattr(table, "get_symbol", None)
    dynsym = elf.get_section_by_name(".dynsym")
    for name in wanted:
        if lookup is not None:
            syms = [s] if (s := lookup(name)) is not None else []
        elif isinstance(dynsym, SymbolTableSection):
            syms = dynsym.get_symbol_by_name(name) or []
        else:
            syms = []
        if any(sym["st_shndx"] != "SHN_UNDEF" for sym in syms):
            defines.add(name)
    return frozenset(defines)


def _read_link_facts(stream: BinaryIO, wanted: tuple[str, ...]) -> LinkFacts:
    from elftools.elf.dynamic import DynamicSegment
    from elftools.elf.elffile import ELFFile

    elf = ELFFile(stream)
    dynamic = next((seg for seg in elf.iter_segments() if seg["p_type"] == "PT_DYNAMIC"), None)
    if not isinstance(dynamic, DynamicSegment):
        # No dynamic segment: read the sections (a relocatable object, or an odd file).
        soname, needed, rpath, runpath = _dynamic_tags(elf)
        defines = _defined(elf, wanted) if wanted else frozenset()
    else:
        # Through the dynamic segment alone, as the dynamic linker reads a file: no section
        # headers to parse, which is most of the time pyelftools spends on a small module.
        soname, needed, rpath, runpath, hashes = _segment_tags(dynamic)
        defines = _segment_defined(elf, dynamic, hashes, wanted) if wanted else frozenset()
    return LinkFacts(
        machine=str(elf["e_machine"]),
        elf_class=elf.elfclass,
        elf_type=str(elf["e_type"]),
        soname=soname,
        needed=tuple(needed),
        rpath=tuple(rpath),
        runpath=tuple(runpath),
        defines=defines,
        version_needs=_version_nodes(elf, ".gnu.version_r"),
        version_defs=_version_nodes(elf, ".gnu.version_d"),
        version_needs_of=_version_needs_of(elf),
    )


_VER_FLG_WEAK = 0x2


def _version_nodes(elf: ELFFile, section: str) -> frozenset[str]:
    """The version node names of `.gnu.version_r` (needed) or `.gnu.version_d` (defined; the
    first auxiliary entry of each definition is its own name, the rest its parents)."""
    from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection

    sec = elf.get_section_by_name(section)
    if not isinstance(sec, GNUVerNeedSection | GNUVerDefSection):
        return frozenset()
    names: set[str] = set()
    for _, auxiliaries in sec.iter_versions():
        for i, aux in enumerate(auxiliaries):
            if isinstance(sec, GNUVerNeedSection) or i == 0:
                names.add(str(aux.name))
    return frozenset(names)


def _version_needs_of(elf: ELFFile) -> frozenset[tuple[str, str]]:
    """(library file name, version node) of each node `.gnu.version_r` needs, but weak ones
    (VER_FLG_WEAK: ld.so only warns where they are missing)."""
    from elftools.elf.gnuversions import GNUVerNeedSection

    sec = elf.get_section_by_name(".gnu.version_r")
    if not isinstance(sec, GNUVerNeedSection):
        return frozenset()
    return frozenset(
        (str(need.name), str(aux.name))
        for need, auxiliaries in sec.iter_versions()
        for aux in auxiliaries
        if not aux["vna_flags"] & _VER_FLG_WEAK
    )


def _segment_tags(
    dynamic: DynamicSegment,
) -> tuple[str | None, list[str], list[str], list[str], dict[str, int]]:
    """(SONAME, NEEDED, DT_RPATH, DT_RUNPATH, hash table addresses by tag) of a dynamic segment."""
    return _tags(dynamic.iter_tags())


def _tags(tags: Iterable[DynamicTag]) -> tuple[str | None, list[str], list[str], list[str], dict[str, int]]:
    """(SONAME, NEEDED, DT_RPATH, DT_RUNPATH, hash table addresses by tag) of the entries of a
    dynamic section or segment."""
    soname: str | None = None
    needed: list[str] = []
    paths: dict[str, list[str]] = {"DT_RPATH": [], "DT_RUNPATH": []}
    hashes: dict[str, int] = {}
    for tag in tags:
        kind = tag.entry.d_tag
        if kind == "DT_SONAME":
            soname = getattr(tag, "soname", None)
        elif kind == "DT_NEEDED":
            needed.append(str(getattr(tag, "needed", "")))
        elif kind in paths:
            paths[kind].extend(p for p in str(getattr(tag, kind[3:].lower())).split(":") if p)
        elif kind in ("DT_GNU_HASH", "DT_HASH"):
            hashes[kind] = int(tag.entry.d_val)
    return soname, needed, paths["DT_RPATH"], paths["DT_RUNPATH"], hashes


def _segment_defined(
    elf: ELFFile, dynamic: DynamicSegment, hashes: dict[str, int], wanted: tuple[str, ...]
) -> frozenset[str]:
    """Which of `wanted` the file defines, looked up through its hash table as dlsym does."""
    from elftools.elf.hash import ELFHashTable, GNUHashTable

    table: GNUHashTable | ELFHashTable | None = None
    gnu = list(elf.address_offsets(hashes["DT_GNU_HASH"])) if "DT_GNU_HASH" in hashes else []
    sysv = list(elf.address_offsets(hashes["DT_HASH"])) if "DT_HASH" in hashes else []
    if gnu:
        table = GNUHashTable(elf, gnu[0], dynamic)
    elif sysv:
        table = ELFHashTable(elf, sysv[0], None, dynamic)
    defines = set()
    for name in wanted:
        if table is not None:
            sym = table.get_symbol(name)
            syms = [sym] if sym is not None else []
        else:
            syms = dynamic.get_symbol_by_name(name) or []
        if any(s["st_shndx"] != "SHN_UNDEF" for s in syms):
            defines.add(name)
    return frozenset(defines)


def _text(value: str | bytes) -> str:
    """LIEF gives bytes for a string that is not UTF-8; keep its bytes, as file names do."""
    return value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")


def _segments_dropped(binary: lief.ELF.Binary) -> bool:
    """Whether LIEF left out program headers the file declares: LIEF 0.15 drops a segment
    whose contents run past the end of the file, where 1.0 keeps it (and the size check finds
    it)."""
    header = binary.header
    return header is not None and len(binary.segments) != header.numberof_segments


def _read_whole_pyelftools(path: str | Path, wanted: tuple[str, ...]) -> LinkFacts | None:
    """`read_link_facts` of a file with loadable segments, none of which (nor the dynamic one)
    runs past its end, else None (a file cut short, an object file that loads nothing, or one
    pyelftools cannot read either)."""
    try:
        with open(path, "rb") as f, pyelftools_errors():
            from elftools.elf.elffile import ELFFile

            elf = ELFFile(f)
            segments = list(elf.iter_segments())
            if not any(s["p_type"] == "PT_LOAD" for s in segments) or _runs_past_end(elf, segments):
                return None
            return _read_link_facts(f, wanted)
    except (OSError, ElfReadError):
        return None


def _runs_past_end(elf: ELFFile, segments: list[Segment]) -> bool:
    """Whether a loadable or the dynamic segment runs past the end of the file: the dynamic
    linker refuses such a file (pyelftools reads the table all the same)."""
    return any(
        seg["p_type"] in ("PT_LOAD", "PT_DYNAMIC") and seg["p_offset"] + seg["p_filesz"] > elf.stream_len
        for seg in segments
    )


def _lief_classes() -> tuple[object, ...]:
    """The ELF classes a file read by LIEF may have. LIEF's enums are compared with their
    members, never by `.name`: LIEF 0.15's enums have none (README "Performance": 0.15 imports
    in 30 ms, 1.0 in 0.4-0.6 s), and the values a newer enum does not name come back as ints."""
    import lief

    return (lief.ELF.Header.CLASS.ELF32, lief.ELF.Header.CLASS.ELF64)


def _lief_parse(path: str | Path, dynamic_symbols: bool) -> tuple[lief.ELF.Binary, int]:
    """(the ELF file at `path` as LIEF parses it, its size); ElfReadError where LIEF finds no
    ELF header of a class it knows."""
    import lief

    lief.logging.disable()
    size = os.path.getsize(path)
    binary = lief.ELF.parse(str(path), _parser_config(dynamic_symbols=dynamic_symbols))
    header = binary.header if binary is not None else None
    if binary is None or header is None or header.identity_class not in _lief_classes():
        raise ElfReadError("truncated or corrupt ELF file (no ELF header)")
    return binary, size


def dynamic_symbols_path(path: str | Path) -> tuple[frozenset[str], frozenset[str]]:
    """`dynamic_symbols` of the ELF file at `path`, read with LIEF: about 9 times faster on a
    large library (libcrypto's 5,367 exports: 12 ms against 110 ms), where a check reads the
    exports of every library the modules load (an OpenSSL tester's check /usr ran for minutes).
    pyelftools' `dynamic_symbols` is the oracle the tests compare it with. Raises ElfReadError
    for a file LIEF cannot read as ELF."""
    import lief

    binary, size = _lief_parse(path, dynamic_symbols=True)
    # LIEF reads what it can of a file cut short; pyelftools, the oracle, refuses it.
    loads = [seg for seg in binary.segments if seg.type == lief.ELF.Segment.TYPE.LOAD]
    if not loads or _segments_dropped(binary) or any(s.file_offset + s.physical_size > size for s in loads):
        raise ElfReadError("truncated or corrupt ELF file (a segment runs past the end of the file)")
    binding, visibility = lief.ELF.Symbol.BINDING, lief.ELF.Symbol.VISIBILITY
    shown = (visibility.DEFAULT, visibility.PROTECTED)
    undefined: set[str] = set()
    defined: set[str] = set()
    for sym in binary.dynamic_symbols:
        name, bind = _text(sym.name), sym.binding
        if not name or bind not in (binding.GLOBAL, binding.WEAK):
            continue
        if sym.shndx == 0:  # SHN_UNDEF
            if bind == binding.GLOBAL:
                undefined.add(name)
        elif sym.visibility in shown:
            defined.add(name)
    return frozenset(undefined), frozenset(defined)


# Why a relocatable object is no module: glibc's dlopen refuses one with these words. A kernel
# tester's 4,022 .ko files were each "truncated or corrupt" (they have no segment to load).
RELOCATABLE = (
    "a relocatable object (ET_REL, as .o files and kernel modules are), which the dynamic linker never "
    'loads (dlopen: "only ET_DYN and ET_EXEC can be loaded")'
)


def read_link_facts_path(path: str | Path, wanted: tuple[str, ...] = ()) -> LinkFacts:
    """`LinkFacts` of the ELF file at `path`, read with LIEF (a maintained C++ ELF library,
    about 25 times faster than pyelftools on a small module: `check` reads every module of a
    prefix). pyelftools' `read_link_facts` is the independent oracle the tests compare it with.

    LIEF reads what it can of a damaged file; the dynamic linker refuses one whose loadable
    segments run past its end, so such a file raises ElfReadError here as in pyelftools."""
    import lief

    binary, size = _lief_parse(path, dynamic_symbols=bool(wanted))
    header = binary.header
    loadable = (lief.ELF.Segment.TYPE.LOAD, lief.ELF.Segment.TYPE.DYNAMIC)
    loads = [seg for seg in binary.segments if seg.type in loadable]
    if not loads and header.file_type == lief.ELF.Header.FILE_TYPE.REL:
        raise ElfReadError(RELOCATABLE)
    if (not loads or _segments_dropped(binary)) and (whole := _read_whole_pyelftools(path, wanted)):
        # LIEF drops the segments of a file whose machine does not fit its class (an Open MPI
        # tester's 64-bit component patched to EM_386), not only of one cut short: said to be
        # "truncated", where it is of another machine. pyelftools reads it as the oracle does.
        return whole
    if (
        not loads
        or _segments_dropped(binary)
        or any(seg.file_offset + seg.physical_size > size for seg in loads)
    ):
        raise ElfReadError("truncated or corrupt ELF file (a segment runs past the end of the file)")
    soname, needed, paths = _lief_dynamic(binary)
    rpath = [p for tag, p in paths if tag == "RPATH"]  # ld.so treats the two differently
    runpath = [p for tag, p in paths if tag == "RUNPATH"]
    defines = set()
    for name in wanted:
        sym = binary.get_dynamic_symbol(name)
        if sym is not None and sym.shndx != 0:  # 0: SHN_UNDEF
            defines.add(name)
    return LinkFacts(
        machine=_enum_name(header.machine_type.value, _MACHINES, "ENUM_E_MACHINE"),
        elf_class=64 if header.identity_class == lief.ELF.Header.CLASS.ELF64 else 32,
        elf_type=_enum_name(header.file_type.value, _TYPES, "ENUM_E_TYPE"),
        soname=soname,
        needed=tuple(needed),
        rpath=tuple(rpath),
        runpath=tuple(runpath),
        defines=frozenset(defines),
        version_needs=frozenset(
            _text(aux.name)
            for req in binary.symbols_version_requirement
            for aux in req.get_auxiliary_symbols()
        ),
        version_defs=frozenset(
            _text(d.auxiliary_symbols[0].name)
            for d in binary.symbols_version_definition
            if d.auxiliary_symbols
        ),
        version_needs_of=frozenset(
            (_text(req.name), _text(aux.name))
            for req in binary.symbols_version_requirement
            for aux in req.get_auxiliary_symbols()
            if not aux.flags & _VER_FLG_WEAK
        ),
    )


def held_stamps(stream: BinaryIO, stamp_glob: str) -> tuple[str, ...]:
    """The stamp names an executable holds in its read-only data (it does not export them)."""
    return read_elf(stream, stamp_glob, scan_strings=True).stamps_held


def held_stamps_pyelftools(stream: BinaryIO, stamp_glob: str) -> tuple[str, ...]:
    """`held_stamps` through pyelftools, without importing LIEF (what `qpack install` reads an
    executable with): the stamp names found in the read-only data sections, located by their
    section headers (`ELFFile.get_section_by_name`), no symbol table walked. Raises
    ElfReadError for a truncated or corrupt file."""
    from elftools.elf.elffile import ELFFile

    regex = stamp_regex(stamp_glob)
    held: set[str] = set()
    with pyelftools_errors():
        elf = ELFFile(stream)
        for name in _STAMP_SECTIONS:
            sec = elf.get_section_by_name(name)
            if sec is not None and sec["sh_type"] == "SHT_PROGBITS":
                held |= _scan_section(stream, sec["sh_offset"], sec["sh_size"], regex)
    return tuple(sorted(held))


def read_dynamic_facts(stream: BinaryIO) -> LinkFacts:
    """The `LinkFacts` the library search needs, through pyelftools: class, machine, type, and
    SONAME, NEEDED, DT_RPATH and DT_RUNPATH from the dynamic segment (`ELFFile.iter_segments`,
    `DynamicSegment.iter_tags`), as ld.so reads them; no symbol is looked up (`defines` is
    empty) and no version node read. A file without a dynamic segment is read as
    `read_link_facts` reads it. A file whose loadable or dynamic segments run past its end is
    refused (ElfReadError), as the dynamic linker and `read_link_facts_path` refuse it."""
    with pyelftools_errors():
        return _read_dynamic_facts(stream)


def _read_dynamic_facts(stream: BinaryIO) -> LinkFacts:
    from elftools.elf.dynamic import DynamicSegment
    from elftools.elf.elffile import ELFFile

    elf = ELFFile(stream)
    segments = list(elf.iter_segments())
    if _runs_past_end(elf, segments):
        raise ElfReadError("truncated or corrupt ELF file (a segment runs past the end of the file)")
    dynamic = next((seg for seg in segments if isinstance(seg, DynamicSegment)), None)
    if dynamic is None:
        return _read_link_facts(stream, ())
    soname, needed, rpath, runpath, _ = _segment_tags(dynamic)
    return LinkFacts(
        machine=str(elf["e_machine"]),
        elf_class=elf.elfclass,
        elf_type=str(elf["e_type"]),
        soname=soname,
        needed=tuple(needed),
        rpath=tuple(rpath),
        runpath=tuple(runpath),
        defines=frozenset(),
    )
