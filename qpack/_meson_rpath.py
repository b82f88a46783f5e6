"""What `meson install` does to an ELF file's rpath, as a pure function on its bytes.

meson links programs with the rpaths they need in the build directory (`$ORIGIN/`, padded with
`X`s to the length of the install rpath) and, on install, rewrites DT_RPATH and DT_RUNPATH in
place (`mesonbuild/scripts/depfixer.py`, the same from meson 0.60 on but for one change): the
build-only entries and the padding are dropped, the target's install_rpath goes first, other
entries (from pkg-config, say) are kept; an rpath left empty is removed from the dynamic section,
and since meson 1.10 its string is also overwritten with `X`s (but for a tail that a dynamic
symbol's name shares). This module does the same on a copy of the bytes, so that qpack reads a
meson build as installed without running meson; it refuses (ElfRpathError) where depfixer fails.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

DT_NULL = 0
DT_RPATH = 15
DT_RUNPATH = 29
DT_MIPS_RLD_MAP_REL = 0x70000035


class ElfRpathError(ValueError):
    """meson's install step would fail on this file (truncated ELF, rpath that does not fit)."""


@dataclass
class _Dyn:
    tag: int
    val: int


class _Elf:
    """The parts of an ELF file depfixer reads, over a mutable buffer, read the way it reads them."""

    def __init__(self, data: bytearray) -> None:
        self.data = data
        if data[4] not in (1, 2):
            raise ElfRpathError("unknown ELF class")
        if data[5] not in (1, 2):
            raise ElfRpathError("unknown ELF endianness")
        self.is64 = data[4] == 2
        e = "<" if data[5] == 1 else ">"
        self.word, self.xword = e + "I", e + ("Q" if self.is64 else "I")
        self.dyn_fmt = e + ("qQ" if self.is64 else "iI")
        try:
            self._parse(e)
        except (struct.error, IndexError):
            raise ElfRpathError("truncated or malformed ELF file") from None

    def _parse(self, e: str) -> None:
        ptr = 8 if self.is64 else 4
        # e_ident, e_type, e_machine, e_version, e_entry, e_phoff; then e_shoff
        off = 16 + 2 + 2 + 4 + ptr * 2
        (self.shoff,) = struct.unpack_from(self.xword, self.data, off)
        # e_shoff, e_flags, e_ehsize, e_phentsize, e_phnum, e_shentsize; then e_shnum, e_shstrndx
        shnum, shstrndx = struct.unpack_from(e + "HH", self.data, off + ptr + 4 + 2 * 4)
        # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize
        x = "Q" if self.is64 else "I"
        shdr = e + "II" + x * 4 + "II" + x * 2
        size = struct.calcsize(shdr)
        self.sections = [struct.unpack_from(shdr, self.data, self.shoff + i * size) for i in range(shnum)]
        self.names_at = self.sections[shstrndx][4]
        self.dynamic: list[_Dyn] = []
        dyn = self.find(b".dynamic")
        if dyn is not None:
            pos, step = dyn[4], struct.calcsize(self.dyn_fmt)
            while True:
                tag, val = struct.unpack_from(self.dyn_fmt, self.data, pos)
                self.dynamic.append(_Dyn(tag, val))
                pos += step
                if tag == DT_NULL:
                    break

    def dynsym_strings(self) -> list[str]:
        """The names of the dynamic symbols, as depfixer reads them (meson 1.10 and later)."""
        out: list[str] = []
        dynsym, dynstr = self.find(b".dynsym"), self.find(b".dynstr")
        if dynsym is not None and dynstr is not None:
            step = 24 if self.is64 else 16
            try:
                for i in range(dynsym[5] // dynsym[9]):
                    (name,) = struct.unpack_from(self.word, self.data, dynsym[4] + i * step)
                    out.append(self.read_str(dynstr[4] + name).decode())
            except (struct.error, ZeroDivisionError, UnicodeDecodeError):
                raise ElfRpathError("malformed dynamic symbol table") from None
        return out

    def read_str(self, offset: int) -> bytes:
        end = self.data.find(b"\0", offset)
        if end < 0:
            raise ElfRpathError("a string runs past the end of the file")
        return bytes(self.data[offset:end])

    def find(self, name: bytes) -> tuple[int, ...] | None:
        for sec in self.sections:
            if self.read_str(self.names_at + sec[0]) == name:
                return sec
        return None

    def entry_offset(self, tag: int) -> int | None:
        for d in self.dynamic:
            if d.tag == tag:
                dynstr = self.find(b".dynstr")
                if dynstr is None:
                    raise ElfRpathError("dynamic section without .dynstr")
                return dynstr[4] + d.val
        return None

    def write(self, offset: int, data: bytes) -> None:
        if offset + len(data) > len(self.data):
            raise ElfRpathError("a write runs past the end of the file")
        self.data[offset : offset + len(data)] = data

    def fix(self, tag: int, remove: frozenset[bytes], new_rpath: bytes, blank: bool) -> None:
        """depfixer's fix_rpathtype_entry."""
        offset = self.entry_offset(tag)
        if offset is None:
            return
        old = self.read_str(offset)
        keep = dict.fromkeys(new_rpath.split(b":") if new_rpath else [])
        for d in old.split(b":"):
            if d and d not in remove and d != b"X" * len(d):
                keep[d] = None
        joined = b":".join(keep)
        if len(joined) > len(old):
            raise ElfRpathError(
                f"the install rpath {joined.decode(errors='replace')!r} is longer than the build's"
            )
        if joined:
            self.write(offset, joined + b"\0")
        else:
            self.remove(tag, offset, blank)

    def remove(self, tag: int, offset: int, blank: bool) -> None:
        """depfixer's remove_rpath_entry: blank the string (meson 1.10+; but for a dynamic
        symbol name that shares its tail), move the entry to the end as DT_NULL, write back."""
        dyn = self.find(b".dynamic")
        if dyn is None:
            return
        if blank:
            try:
                text = self.read_str(offset).decode()
            except UnicodeDecodeError:
                raise ElfRpathError("an rpath that is not UTF-8") from None
            reused = max((s for s in self.dynsym_strings() if text.endswith(s)), key=len, default="")
            self.write(offset, b"X" * (len(text) - len(reused)))
        i = next(i for i, d in enumerate(self.dynamic) if d.tag == tag)
        moved = self.dynamic[i]
        moved.tag = DT_NULL
        self.dynamic = [*self.dynamic[:i], *self.dynamic[i + 1 :], moved]
        for d in self.dynamic[i:]:
            if d.tag == DT_MIPS_RLD_MAP_REL:
                d.val += 2 * (8 if self.is64 else 4)
                break
        step = struct.calcsize(self.dyn_fmt)
        for n, d in enumerate(self.dynamic):
            self.write(dyn[4] + n * step, struct.pack(self.dyn_fmt, d.tag, d.val))


def installed_bytes(
    data: bytes, remove: frozenset[bytes], install_rpath: bytes, meson_version: tuple[int, int] = (1, 10)
) -> bytes | None:
    """The bytes `meson install` (of `meson_version`) leaves of a target whose build bytes are
    `data`, given its build-only rpath entries and its install_rpath; None when they are the same
    (not an ELF file, no rpath, or nothing to change). Raises ElfRpathError where depfixer fails."""
    if len(data) < 6 or data[1:4] != b"ELF":
        return None  # depfixer leaves files that are not ELF alone
    elf = _Elf(bytearray(data))
    for tag in (DT_RPATH, DT_RUNPATH):
        elf.fix(tag, remove, install_rpath, blank=meson_version >= (1, 10))
    return None if elf.data == data else bytes(elf.data)
