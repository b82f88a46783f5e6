"""ELF facts: headers, the dynamic section, notes and symbol tables. Nothing here loads or runs
the file.

- `read_elf`, what the scan reads every ELF file of a build with: a small `struct` reader of
  just the structures `ElfInfo` holds (about 20 times faster than walking them with pyelftools,
  which was most of a scan's time); `read_elf_pyelftools` reads the same facts through pyelftools
  and is the oracle the tests hold it to, file for file.
- `read_link_facts` (pyelftools) and `read_link_facts_path` (LIEF): what the dynamic linker and
  a module loader look at, for `check` and the wheel writer.

An executable's build-stamp name is found by searching its read-only data sections in chunks,
never the whole file at once.
"""

from __future__ import annotations

import array
import os
import re
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection, DynamicSegment
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection
from elftools.elf.hash import ELFHashTable, GNUHashTable
from elftools.elf.sections import NoteSection, SymbolTableSection

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
    # Dynamic symbols are read for shared objects only (modules, libraries), not for programs.
    defined_symbols: int
    undefined_symbols: tuple[str, ...]

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
    """`qemu_stamp_*` -> a byte regex for the whole identifier."""
    head = re.escape(stamp_glob.rstrip("*").encode())
    return re.compile(head + (rb"[A-Za-z0-9_]+" if stamp_glob.endswith("*") else rb"(?![A-Za-z0-9_])"))


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
            # A match touching the end of the buffer may continue in the next chunk; the overlap
            # re-reads it whole there.
            if m.end() < len(buf) or pos + len(data) >= size:
                found.add(m.group().decode("ascii"))
        tail = buf[-overlap:]
        pos += len(data)
    return found


def read_elf(stream: BinaryIO, stamp_glob: str | None = None, scan_strings: bool = False) -> ElfInfo:
    """ELF facts of an open file, read by `_FastElf`. Raises ElfReadError for a truncated or
    corrupt file. `read_elf_pyelftools` gives the same facts through pyelftools (the oracle)."""
    try:
        return _FastElf(stream).info(stamp_glob, scan_strings)
    except (struct.error, ValueError, IndexError, OverflowError, OSError) as e:
        if isinstance(e, ElfReadError):
            raise
        raise ElfReadError(f"truncated or corrupt ELF file ({e})") from None


# Section and program header types, dynamic tags and section indexes read here (ELF gABI).
_PT_INTERP = 3
_SHT_PROGBITS, _SHT_SYMTAB, _SHT_STRTAB, _SHT_DYNAMIC, _SHT_NOTE, _SHT_NOBITS, _SHT_DYNSYM = (
    1,
    2,
    3,
    6,
    7,
    8,
    11,
)
_SHT_SUNW_LDYNSYM = 0x6FFFFFF3
_DT_NULL, _DT_NEEDED, _DT_SONAME, _DT_RPATH, _DT_RUNPATH = 0, 1, 14, 15, 29
_NT_GNU_BUILD_ID = 3
_ET_CORE = 4
_PN_XNUM = _SHN_XINDEX = 0xFFFF
_STAMP_SECTIONS = (".rodata", ".data.rel.ro", ".data")

# e_machine and e_type as pyelftools names them (its enums for the others, imported on demand).
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


class _FastElf:
    """One ELF file read with `struct`, touching only what `ElfInfo` holds: the ELF header,
    the program header types (PT_INTERP), the section headers, the dynamic sections and the
    strings they name, GNU notes, and for shared objects `.dynsym` with its string table
    (two fields of each symbol, through strided array views: no parsed object per symbol).
    Each of those is read once, whole; nothing else of the file is read (executables' stamp
    sections are searched in chunks). Sections are found the way pyelftools finds them
    (`read_elf_pyelftools`), so both give the same facts; the tests hold them to it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.size = stream.seek(0, os.SEEK_END)
        ident = self.read(0, 16)
        if ident[:4] != ELF_MAGIC:
            raise ElfReadError("truncated or corrupt ELF file (no ELF magic)")
        if ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise ElfReadError(f"truncated or corrupt ELF file (class {ident[4]}, data {ident[5]})")
        self.elf64 = ident[4] == 2
        self.little = ident[5] == 1
        self.end = "<" if self.little else ">"
        if self.elf64:
            fields = struct.unpack(self.end + "HHIQQQIHHHHHH", self.read(16, 48))
            self.shdr = struct.Struct(self.end + "IIQQQQIIQQ")
        else:
            fields = struct.unpack(self.end + "HHIIIIIHHHHHH", self.read(16, 36))
            self.shdr = struct.Struct(self.end + "IIIIIIIIII")
        (self.e_type, self.e_machine, _, _, self.phoff, self.shoff, _, _) = fields[:8]
        (self.phentsize, self.phnum, self.shentsize, self.shnum, self.shstrndx) = fields[8:]

    def read(self, offset: int, size: int) -> bytes:
        """Exactly `size` bytes at `offset`; a short read is a truncated file."""
        if offset + size > self.size:  # checked first: a corrupt size must not allocate
            raise ElfReadError(
                f"truncated or corrupt ELF file ({size} bytes wanted at offset {offset} of {self.size})"
            )
        self.stream.seek(offset)
        data = self.stream.read(size)
        if len(data) != size:
            raise ElfReadError(
                f"truncated or corrupt ELF file ({size} bytes wanted at offset {offset}, {len(data)} there)"
            )
        return data

    def cstring(self, offset: int) -> bytes:
        """The NUL-terminated string at `offset` (to the end of the file if it has no NUL)."""
        out = b""
        while True:
            self.stream.seek(offset + len(out))
            chunk = self.stream.read(256)
            nul = chunk.find(b"\0")
            if nul >= 0:
                return out + chunk[:nul]
            if not chunk:
                return out
            out += chunk

    def sections(self) -> list[tuple[int, ...]]:
        """Every section header, as a tuple in Elf_Shdr order."""
        if self.shoff == 0:
            return []
        num = self.shnum
        if num == 0:  # e_shnum overflow: the count is section 0's sh_size
            num = self.shdr.unpack(self.read(self.shoff, self.shdr.size))[5]
        if self.shentsize < self.shdr.size:
            raise ElfReadError(f"truncated or corrupt ELF file (e_shentsize {self.shentsize})")
        table = self.read(self.shoff, num * self.shentsize)
        return [self.shdr.unpack_from(table, i * self.shentsize) for i in range(num)]

    def has_interp(self, section0: tuple[int, ...] | None) -> bool:
        num = self.phnum
        if num == _PN_XNUM and section0 is not None:
            num = section0[7]  # sh_info of section 0
        if self.phoff == 0 or num == 0:
            return False
        table = self.read(self.phoff, num * self.phentsize)
        return any(
            struct.unpack_from(self.end + "I", table, i * self.phentsize)[0] == _PT_INTERP for i in range(num)
        )

    def info(self, stamp_glob: str | None, scan_strings: bool) -> ElfInfo:
        secs = self.sections()
        interp = self.has_interp(secs[0] if secs else None)
        names = self.section_names(secs)
        stamp_re = stamp_regex(stamp_glob) if stamp_glob else None
        soname: str | None = None
        needed: list[str] = []
        runpath: list[str] = []
        build_id: str | None = None
        exported: set[str] = set()
        undefined: set[str] = set()
        defined = 0
        held: set[str] = set()
        for sec, name in zip(secs, names, strict=True):
            sh_type, offset, size, link = sec[1], sec[4], sec[5], sec[6]
            if sh_type == _SHT_DYNAMIC:
                strtab = self.linked_strtab(secs, link, (_SHT_STRTAB, _SHT_NOBITS, 0))
                for tag, text in self.dynamic(offset, size, strtab):
                    if tag == _DT_SONAME:
                        soname = text
                    elif tag == _DT_NEEDED:
                        needed.append(text)
                    else:
                        runpath.extend(p for p in text.split(":") if p)
            elif sh_type == _SHT_NOTE and self.e_type != _ET_CORE:
                build_id = self.build_id(offset, size) or build_id
            elif (
                sh_type in (_SHT_SYMTAB, _SHT_DYNSYM, _SHT_SUNW_LDYNSYM) and name == ".dynsym" and not interp
            ):
                # Programs (PT_INTERP) export tens of thousands of symbols with --export-dynamic and
                # never the stamp: walking them would be most of a scan's time for nothing.
                strtab = self.linked_strtab(secs, link, (_SHT_STRTAB,))
                n_defined, undef, stamps = self.dynsym(sec, strtab, stamp_glob, stamp_re)
                defined += n_defined
                undefined |= undef
                exported |= stamps
            if scan_strings and stamp_re is not None and name in _STAMP_SECTIONS and sh_type == _SHT_PROGBITS:
                held |= _scan_section(self.stream, offset, size, stamp_re)
        return ElfInfo(
            machine=_enum_name(self.e_machine, _MACHINES, "ENUM_E_MACHINE"),
            elf_class=64 if self.elf64 else 32,
            little_endian=self.little,
            elf_type=_enum_name(self.e_type, _TYPES, "ENUM_E_TYPE"),
            interp=interp,
            soname=soname,
            needed=tuple(needed),
            runpath=tuple(runpath),
            build_id=build_id,
            stamps_exported=tuple(sorted(exported)),
            stamps_held=tuple(sorted(held)),
            defined_symbols=defined,
            undefined_symbols=tuple(sorted(undefined)),
        )

    def section_names(self, secs: list[tuple[int, ...]]) -> list[str]:
        if not secs:
            return []
        index = self.shstrndx if self.shstrndx != _SHN_XINDEX else secs[0][6]  # sh_link of section 0
        table = secs[index]
        strings = self.read(table[4], table[5]) if table[1] != _SHT_NOBITS else b""
        return [_string(strings, sec[0]) if sec[0] < len(strings) else "" for sec in secs]

    def linked_strtab(
        self, secs: list[tuple[int, ...]], link: int, types: tuple[int, ...]
    ) -> tuple[int, int]:
        """(file offset, size) of the string table a section links to."""
        sec = secs[link]
        if sec[1] not in types:
            raise ElfReadError(f"truncated or corrupt ELF file (section {link} is not a string table)")
        return sec[4], sec[5]

    def dynamic(self, offset: int, size: int, strtab: tuple[int, int]) -> list[tuple[int, str]]:
        """(tag, string) of the DT_SONAME, DT_NEEDED, DT_RPATH and DT_RUNPATH entries, in order,
        up to DT_NULL."""
        entry = struct.Struct(self.end + ("qQ" if self.elf64 else "iI"))
        data = self.read(offset, size - size % entry.size)
        out = []
        for tag, val in entry.iter_unpack(data):
            if tag == _DT_NULL:
                break
            if tag in (_DT_SONAME, _DT_NEEDED, _DT_RPATH, _DT_RUNPATH):
                out.append((tag, self.cstring(strtab[0] + val).decode("utf-8", "replace")))
        return out

    def build_id(self, offset: int, size: int) -> str | None:
        """The GNU build-id of a note section (the last one, as pyelftools' walk leaves it)."""
        data = self.read(offset, size)
        found = None
        pos = 0
        while pos + 12 < size:
            namesz, descsz, ntype = struct.unpack_from(self.end + "III", data, pos)
            pos += 12
            name = data[pos : pos + namesz].split(b"\0", 1)[0]
            pos += (namesz + 3) & ~3
            desc = data[pos : pos + descsz]
            if len(desc) != descsz:
                raise ElfReadError("truncated or corrupt ELF file (a note runs past its section)")
            if ntype == _NT_GNU_BUILD_ID and name == b"GNU":
                found = desc.hex()
            pos += (descsz + 3) & ~3
        return found

    def dynsym(
        self,
        sec: tuple[int, ...],
        strtab: tuple[int, int],
        stamp_glob: str | None,
        stamp_re: re.Pattern[bytes] | None,
    ) -> tuple[int, set[str], set[str]]:
        """(defined symbols, undefined names, stamp names defined) of a symbol table."""
        offset, size, entsize = sec[4], sec[5], sec[9]
        std = 24 if self.elf64 else 16
        if entsize == 0:
            raise ElfReadError("truncated or corrupt ELF file (symbol table entry size 0)")
        count = size // entsize
        data = self.read(offset, count * entsize)
        strings = self.read(strtab[0], strtab[1])
        if entsize == std:
            # st_name is the first word; st_shndx the half-word at byte 6 (ELF64) or 14 (ELF32).
            words, halves = array.array("I", data), array.array("H", data)
            if self.little != (sys.byteorder == "little"):
                words.byteswap()
                halves.byteswap()
            per_word, per_half = std // 4, std // 2
            name_of = words[::per_word]
            shndx_of = halves[(3 if self.elf64 else 7) :: per_half]
        else:  # an unusual entry size: the same two fields, one entry at a time
            at = 6 if self.elf64 else 14
            name_of = array.array(
                "I", [struct.unpack_from(self.end + "I", data, i * entsize)[0] for i in range(count)]
            )
            shndx_of = array.array(
                "H", [struct.unpack_from(self.end + "H", data, i * entsize + at)[0] for i in range(count)]
            )

        n = len(strings)

        def text(off: int) -> bytes:
            return _cstring_at(strings, off) if off < n else self.cstring(strtab[0] + off)

        # A symbol whose name is empty (st_name 0 points at the table's leading NUL) is skipped,
        # as in pyelftools' walk; only the undefined names and the stamp candidates are decoded.
        undef = {off for off, ndx in zip(name_of, shndx_of, strict=True) if ndx == 0}
        named = [
            off
            for off, ndx in zip(name_of, shndx_of, strict=True)
            if ndx and (strings[off] if off < n else text(off))
        ]
        undefined = {t.decode("utf-8", "replace") for t in map(text, undef) if t}
        stamps: set[str] = set()
        if stamp_re is not None and stamp_glob is not None:
            head = stamp_glob.rstrip("*").encode()
            for off in named:
                if (strings.startswith(head, off) if off < n else True) and stamp_re.fullmatch(
                    t := text(off)
                ):
                    stamps.add(t.decode("utf-8", "replace"))
        defined = len(named)
        return defined, undefined, stamps


def _cstring_at(data: bytes, offset: int) -> bytes:
    end = data.find(b"\0", offset)
    return data[offset:] if end < 0 else data[offset:end]


def _string(data: bytes, offset: int) -> str:
    return _cstring_at(data, offset).decode("utf-8", "replace")


def read_elf_pyelftools(
    stream: BinaryIO, stamp_glob: str | None = None, scan_strings: bool = False
) -> ElfInfo:
    """`read_elf` through pyelftools, walking every structure in Python (about 30 times slower):
    the independent oracle the tests compare `read_elf` with."""
    try:
        return _read_elf_pyelftools(stream, stamp_glob, scan_strings)
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, OSError) as e:
        raise ElfReadError(f"truncated or corrupt ELF file ({e})") from None
    except Exception as e:  # pyelftools raises construct's errors on short reads
        if type(e).__module__.startswith(("construct", "elftools")):
            raise ElfReadError(f"truncated or corrupt ELF file ({type(e).__name__})") from None
        raise


def _read_elf_pyelftools(stream: BinaryIO, stamp_glob: str | None, scan_strings: bool) -> ElfInfo:  # noqa: PLR0912 - one pass over the sections, a branch per structure read
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
    undefined: set[str] = set()
    defined = 0
    stamp_re = stamp_regex(stamp_glob) if stamp_glob else None
    held: set[str] = set()
    for sec in elf.iter_sections():
        if isinstance(sec, DynamicSection):
            for tag in sec.iter_tags():
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
        elif isinstance(sec, SymbolTableSection) and sec.name == ".dynsym" and not interp:
            # Programs (PT_INTERP) export tens of thousands of symbols with --export-dynamic and
            # never the stamp: walking them would be most of a scan's time for nothing.
            for sym in sec.iter_symbols():
                if not sym.name:
                    continue
                if sym["st_shndx"] == "SHN_UNDEF":
                    undefined.add(sym.name)
                else:
                    defined += 1
                    if stamp_re is not None and stamp_re.fullmatch(sym.name.encode()):
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
        defined_symbols=defined,
        undefined_symbols=tuple(sorted(undefined)),
    )


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


def read_link_facts(stream: BinaryIO, wanted: tuple[str, ...] = ()) -> LinkFacts:
    """`LinkFacts` of an open ELF file; raises ElfReadError for one that is truncated or corrupt."""
    try:
        return _read_link_facts(stream, wanted)
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, OSError) as e:
        raise ElfReadError(f"truncated or corrupt ELF file ({e})") from None
    except Exception as e:  # pyelftools raises construct's errors on short reads
        if type(e).__module__.startswith(("construct", "elftools")):
            raise ElfReadError(f"truncated or corrupt ELF file ({type(e).__name__})") from None
        raise


def _dynamic_tags(elf: ELFFile) -> tuple[str | None, list[str], list[str], list[str]]:
    """(SONAME, NEEDED, DT_RPATH entries, DT_RUNPATH entries)."""
    soname: str | None = None
    needed: list[str] = []
    paths: dict[str, list[str]] = {"DT_RPATH": [], "DT_RUNPATH": []}
    dynamic = elf.get_section_by_name(".dynamic")
    if isinstance(dynamic, DynamicSection):
        for tag in dynamic.iter_tags():
            kind = tag.entry.d_tag
            if kind == "DT_SONAME":
                soname = getattr(tag, "soname", None)
            elif kind == "DT_NEEDED":
                needed.append(str(getattr(tag, "needed", "")))
            elif kind in paths:
                paths[kind].extend(p for p in str(getattr(tag, kind[3:].lower())).split(":") if p)
    return soname, needed, paths["DT_RPATH"], paths["DT_RUNPATH"]


def _defined(elf: ELFFile, wanted: tuple[str, ...]) -> frozenset[str]:
    """Which of `wanted` the file defines, through its symbol hash table where it has one."""
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
    )


def _version_nodes(elf: ELFFile, section: str) -> frozenset[str]:
    """The version node names of `.gnu.version_r` (needed) or `.gnu.version_d` (defined; the
    first auxiliary entry of each definition is its own name, the rest its parents)."""
    sec = elf.get_section_by_name(section)
    if not isinstance(sec, GNUVerNeedSection | GNUVerDefSection):
        return frozenset()
    names: set[str] = set()
    for _, auxiliaries in sec.iter_versions():
        for i, aux in enumerate(auxiliaries):
            if isinstance(sec, GNUVerNeedSection) or i == 0:
                names.add(str(aux.name))
    return frozenset(names)


def _segment_tags(
    dynamic: DynamicSegment,
) -> tuple[str | None, list[str], list[str], list[str], dict[str, int]]:
    """(SONAME, NEEDED, DT_RPATH, DT_RUNPATH, hash table addresses by tag) of a dynamic segment."""
    soname: str | None = None
    needed: list[str] = []
    paths: dict[str, list[str]] = {"DT_RPATH": [], "DT_RUNPATH": []}
    hashes: dict[str, int] = {}
    for tag in dynamic.iter_tags():
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


# LIEF's names for the machines pyelftools calls EM_<name>, where they differ.
_LIEF_MACHINES = {"I386": "EM_386"}
_LIEF_TYPES = {"DYN": "ET_DYN", "EXEC": "ET_EXEC", "REL": "ET_REL", "CORE": "ET_CORE"}


def read_link_facts_path(path: str | Path, wanted: tuple[str, ...] = ()) -> LinkFacts:
    """`LinkFacts` of the ELF file at `path`, read with LIEF (a maintained C++ ELF library,
    about 25 times faster than pyelftools on a small module: `check` reads every module of a
    prefix). pyelftools' `read_link_facts` is the independent oracle the tests compare it with.

    LIEF reads what it can of a damaged file; the dynamic linker refuses one whose loadable
    segments run past its end, so such a file raises ElfReadError here as in pyelftools."""
    import lief

    lief.logging.disable()
    size = os.path.getsize(path)
    binary = lief.ELF.parse(str(path))
    header = binary.header if binary is not None else None
    if binary is None or header is None or header.identity_class.name not in ("ELF32", "ELF64"):
        raise ElfReadError("truncated or corrupt ELF file (no ELF header)")
    loads = [seg for seg in binary.segments if seg.type.name in ("LOAD", "DYNAMIC")]
    if not loads or any(seg.file_offset + seg.physical_size > size for seg in loads):
        raise ElfReadError("truncated or corrupt ELF file (a segment runs past the end of the file)")
    soname: str | None = None
    needed: list[str] = []
    rpath: list[str] = []
    runpath: list[str] = []
    for entry in binary.dynamic_entries:
        if isinstance(entry, lief.ELF.DynamicEntryLibrary):
            needed.append(_text(entry.name))
        elif isinstance(entry, lief.ELF.DynamicSharedObject):
            soname = _text(entry.name)
        elif isinstance(entry, lief.ELF.DynamicEntryRpath):
            rpath.extend(p for p in _text(entry.rpath).split(":") if p)
        elif isinstance(entry, lief.ELF.DynamicEntryRunPath):
            runpath.extend(p for p in _text(entry.runpath).split(":") if p)
    defines = set()
    for name in wanted:
        sym = binary.get_dynamic_symbol(name)
        if sym is not None and sym.shndx != 0:  # 0: SHN_UNDEF
            defines.add(name)
    machine = header.machine_type.name
    return LinkFacts(
        machine=_LIEF_MACHINES.get(machine, f"EM_{machine}"),
        elf_class=64 if header.identity_class.name == "ELF64" else 32,
        elf_type=_LIEF_TYPES.get(header.file_type.name, f"ET_{header.file_type.name}"),
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
    )


def held_stamps(stream: BinaryIO, stamp_glob: str) -> tuple[str, ...]:
    """The stamp names an executable holds in its read-only data (it does not export them)."""
    return read_elf(stream, stamp_glob, scan_strings=True).stamps_held
