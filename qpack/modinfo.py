"""QEMU's module table, read statically from an emulator: which modules it knows, for which
target, and which modules each one loads first.

Every QEMU emulator built with modules holds its own table (`qemu_modinfo`, generated into
`modinfo-<target>-softmmu.c` by scripts/modinfo-generate.py from the `module_dep()`,
`module_obj()`, `module_arch()`, `module_opts()` and `module_kconfig()` annotations of every
module's sources; include/qemu/module.h). A module whose Kconfig symbol the target lacks is left
out (x86_64 has no `hw-s390x-virtio-gpu-ccw`); target modules of every target stay in, tagged
with their target (`accel-qtest-aarch64` in the x86_64 table):

    struct QemuModinfo {
        const char *name;   /* the module's file stem, type prefix included: "hw-display-qxl" */
        const char *arch;   /* TARGET_NAME ("x86_64") or NULL: every target */
        const char **objs;  /* NULL-terminated: QOM types it provides (module_load_qom) */
        const char **deps;  /* NULL-terminated: modules loaded first (module_load) */
        const char **opts;  /* NULL-terminated: QemuOpts groups it registers */
    };

an array ending with an entry whose name is NULL. The layout is the same in 7.2 and 10.0 (five
pointers: 40 bytes on 64-bit hosts), and the names are the ids qpack uses (`ui-gtk`).

Finding it: QEMU links its emulators with --export-dynamic when it has modules (the modules
resolve their undefined symbols against the executable), so the table is the defined object
`qemu_modinfo` of `.dynsym`, looked up through the symbol hash table as the dynamic linker
would; a program without it (no modules, not QEMU, a tool like qemu-img) has no table. Its
`st_size` gives the entry count, which the terminator must confirm.

Reading it: the executable is position independent, so the pointers are only filled in at load
time, by relative relocations (`R_X86_64_RELATIVE` and the like in `.rela.dyn`, whose addend is
the target's virtual address). A word that no RELA relocation covers holds its final value in
the file itself (a non-PIE executable, REL and RELR relocations, whose addends are in place).
Linkers emit the relative relocations first, sorted by address, and count them in
`DT_RELACOUNT` (`-z combreloc`, the default of GNU ld, gold and lld), so one word is looked up by
a binary search through pyelftools' `get_relocation`, about 17 entries of 122,000, instead of
parsing them all (a second). A search that meets entries out of order, a file without
`DT_RELACOUNT`, or a non-zero word the search did not find falls back to reading every
relocation once. Virtual addresses map to file offsets through the PT_LOAD segments; the only
bytes read outside pyelftools are those words and the strings they point to. Nothing is run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import (
    ENUM_RELOC_TYPE_AARCH64,
    ENUM_RELOC_TYPE_ARM,
    ENUM_RELOC_TYPE_LOONGARCH,
    ENUM_RELOC_TYPE_PPC64,
    ENUM_RELOC_TYPE_S390X,
    ENUM_RELOC_TYPE_i386,
    ENUM_RELOC_TYPE_x64,
)
from elftools.elf.hash import ELFHashSection, GNUHashSection
from elftools.elf.relocation import RelocationTable
from elftools.elf.sections import Symbol, SymbolTableSection

from qpack.elf import ELF_MAGIC, ElfReadError

__all__ = ["TABLE_SYMBOL", "ModuleInfo", "dependencies", "loadable_modules", "read_module_table"]

TABLE_SYMBOL = "qemu_modinfo"
_FIELDS = 5  # name, arch, objs, deps, opts
_MAX_STRING = 4096  # longer than any module, target or QOM type name
_MAX_LIST = 4096  # entries of one objs/deps/opts list
_MAX_ENTRIES = 65536  # modules in a table whose symbol has no usable size

# e_machine -> the relocation type whose addend is the target address (pyelftools' names).
_RELATIVE = {
    "EM_X86_64": ENUM_RELOC_TYPE_x64["R_X86_64_RELATIVE"],
    "EM_386": ENUM_RELOC_TYPE_i386["R_386_RELATIVE"],
    "EM_AARCH64": ENUM_RELOC_TYPE_AARCH64["R_AARCH64_RELATIVE"],
    "EM_ARM": ENUM_RELOC_TYPE_ARM["R_ARM_RELATIVE"],
    "EM_PPC64": ENUM_RELOC_TYPE_PPC64["R_PPC64_RELATIVE"],
    "EM_S390": ENUM_RELOC_TYPE_S390X["R_390_RELATIVE"],
    "EM_LOONGARCH": ENUM_RELOC_TYPE_LOONGARCH["R_LARCH_RELATIVE"],
    "EM_RISCV": 3,  # R_RISCV_RELATIVE (the RISC-V psABI); pyelftools has no RISC-V table
}


@dataclass(frozen=True, kw_only=True, slots=True)
class ModuleInfo:
    """One entry of an emulator's module table.

    - `name`: the module id, its file stem with the type prefix (`hw-display-qxl`);
    - `arch`: the only target that may load it (QEMU's TARGET_NAME, `x86_64`), None for all;
    - `objs`: the QOM types it provides, which `-device help` and friends load it for;
    - `deps`: the modules loaded first; when one cannot be loaded, neither can this one;
    - `opts`: the QemuOpts groups it registers (`spice`), which load it from the command line.
    """

    name: str
    arch: str | None
    objs: tuple[str, ...] = ()
    deps: tuple[str, ...] = ()
    opts: tuple[str, ...] = ()


def loadable_modules(table: Iterable[ModuleInfo], target_arch: str) -> set[str]:
    """The ids of the modules an emulator for `target_arch` (QEMU's TARGET_NAME: `x86_64`,
    `aarch64`) can ever load: util/module.c's module_check_arch() refuses an entry whose arch
    is set and differs from the target the emulator passed to module_allow_arch()."""
    return {m.name for m in table if not m.arch or m.arch == target_arch}


def dependencies(table: Iterable[ModuleInfo]) -> dict[str, tuple[str, ...]]:
    """Module id -> the modules it loads first, in the table's order, for the modules that
    have any (the shape of a layout's `[modules.dependencies]`)."""
    deps: dict[str, tuple[str, ...]] = {}
    for m in table:
        if m.deps:
            # module_load() follows the deps of every entry of that name.
            deps[m.name] = tuple(dict.fromkeys((*deps.get(m.name, ()), *m.deps)))
    return deps


def read_module_table(path: Path | str) -> tuple[ModuleInfo, ...] | None:
    """The module table of the QEMU emulator at `path`, in the executable's order (without the
    terminating entry); None when the file holds none (QEMU built without modules, a QEMU tool,
    any other program). Raises ElfReadError, naming the file, when it is not ELF, truncated or
    corrupt, or its table cannot be read to the end."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            return _read_table(stream)
    except ElfReadError as e:
        raise ElfReadError(f"{path}: {e}") from None
    except OSError as e:
        raise ElfReadError(f"{path}: cannot read: {e.strerror or e}") from None
    except (ELFError, ValueError, KeyError, IndexError, AssertionError) as e:
        raise ElfReadError(f"{path}: truncated or corrupt ELF file ({e})") from None
    except Exception as e:  # pyelftools raises construct's errors on short reads
        if type(e).__module__.startswith(("construct", "elftools")):
            raise ElfReadError(f"{path}: truncated or corrupt ELF file ({type(e).__name__})") from None
        raise


# --------------------------------------------------------------------------- the table


def _table_symbol(elf: ELFFile) -> Symbol | None:
    """`qemu_modinfo` as the dynamic linker finds it: through the symbol hash table of the
    dynamic symbols (a bloom filter says no at once for other programs)."""
    for name in (".gnu.hash", ".hash"):
        table = elf.get_section_by_name(name)
        if isinstance(table, (GNUHashSection, ELFHashSection)):
            sym: Symbol | None = table.get_symbol(TABLE_SYMBOL)
            break
    else:
        dynsym = elf.get_section_by_name(".dynsym")
        found = dynsym.get_symbol_by_name(TABLE_SYMBOL) if isinstance(dynsym, SymbolTableSection) else None
        sym = found[0] if found else None
    if sym is None or sym["st_shndx"] == "SHN_UNDEF" or sym["st_info"]["type"] != "STT_OBJECT":
        return None
    return sym


def _read_table(stream: BinaryIO) -> tuple[ModuleInfo, ...] | None:
    if stream.read(len(ELF_MAGIC)) != ELF_MAGIC:
        raise ElfReadError("not an ELF file")
    elf = ELFFile(stream)
    sym = _table_symbol(elf)
    if sym is None:
        return None
    image = _Image(elf, stream)
    stride = _FIELDS * image.word_size
    start, size = int(sym["st_value"]), int(sym["st_size"])
    sized = size > 0 and size % stride == 0
    count = size // stride if sized else _MAX_ENTRIES
    entries: list[ModuleInfo] = []
    for i in range(count):
        slots = [start + i * stride + k * image.word_size for k in range(_FIELDS)]
        name_at = image.word(slots[0])
        if not name_at:
            if sized and i != count - 1:
                raise ElfReadError(
                    f"{TABLE_SYMBOL}: entry {i} of {count} has no name (the terminator comes early)"
                )
            return tuple(entries)
        arch_at, objs_at, deps_at, opts_at = (image.word(s) for s in slots[1:])
        entries.append(
            ModuleInfo(
                name=image.string(name_at),
                arch=(image.string(arch_at) or None) if arch_at else None,
                objs=image.string_list(objs_at),
                deps=image.string_list(deps_at),
                opts=image.string_list(opts_at),
            )
        )
    what = f"its {count} entries (st_size {size})" if sized else f"{count} entries"
    raise ElfReadError(f"{TABLE_SYMBOL}: no terminating entry (NULL name) in {what}")


# --------------------------------------------------------------------------- the loaded image


class _Image:
    """The words and strings of the executable as the dynamic linker leaves them, read one at a
    time: file bytes of the PT_LOAD segments, with RELA relative relocations applied."""

    def __init__(self, elf: ELFFile, stream: BinaryIO) -> None:
        self._stream = stream
        self.word_size = elf.elfclass // 8
        self._byteorder: Literal["little", "big"] = "little" if elf.little_endian else "big"
        self._loads = [
            (int(seg["p_vaddr"]), int(seg["p_filesz"]), int(seg["p_offset"]))
            for seg in elf.iter_segments(type="PT_LOAD")
        ]
        self._machine = str(elf["e_machine"])
        self._rela: RelocationTable | None = None
        self._sorted: int | None = None  # leading RELATIVE entries sorted by address (DT_RELACOUNT)
        self._probed: dict[int, tuple[int, int, int]] = {}  # index -> (offset, type, addend)
        self._all: dict[int, int] | None = None  # offset -> addend, once every entry was read
        if elf["e_type"] == "ET_DYN":  # an ET_EXEC holds absolute addresses
            for seg in elf.iter_segments(type="PT_DYNAMIC"):
                if isinstance(seg, DynamicSegment):
                    table = seg.get_relocation_tables().get("RELA")
                    self._rela = table if isinstance(table, RelocationTable) else None
                    counts = [int(t["d_val"]) for t in seg.iter_tags("DT_RELACOUNT")]
                    self._sorted = counts[0] if counts else None
                break

    def read(self, addr: int, size: int) -> bytes:
        for vaddr, filesz, offset in self._loads:
            if vaddr <= addr and addr + size <= vaddr + filesz:
                self._stream.seek(offset + addr - vaddr)
                data = self._stream.read(size)
                if len(data) != size:
                    raise ElfReadError(f"truncated ELF file: {size} bytes at {addr:#x} are past its end")
                return data
        raise self._unmapped(addr)

    def word(self, addr: int) -> int:
        """The pointer at `addr` once relocated (0 for NULL)."""
        raw = int.from_bytes(self.read(addr, self.word_size), self._byteorder)
        if self._rela is None:
            return raw
        relocated = self._relocation(addr)
        if relocated is None and raw and self._all is None:
            # GNU ld also writes the value in place: a word no sorted entry covers should be 0.
            self._read_all()
            relocated = self._relocation(addr)
        return raw if relocated is None else relocated

    def string(self, addr: int) -> str:
        """The NUL-terminated string at `addr`, read in small steps up to its segment's end."""
        room = min(self._room(addr), _MAX_STRING)
        if not room:
            raise self._unmapped(addr)
        data = b""
        while len(data) < room:
            data += self.read(addr + len(data), min(256, room - len(data)))
            end = data.find(b"\0")
            if end >= 0:
                try:
                    return data[:end].decode("utf-8")
                except UnicodeDecodeError:
                    raise ElfReadError(f"{TABLE_SYMBOL}: the string at {addr:#x} is not UTF-8") from None
        raise ElfReadError(f"{TABLE_SYMBOL}: no string end within {len(data)} bytes at {addr:#x}")

    def string_list(self, addr: int) -> tuple[str, ...]:
        """The strings of the NULL-terminated pointer array at `addr` (NULL: none)."""
        items: list[str] = []
        while addr:
            if len(items) == _MAX_LIST:
                raise ElfReadError(f"{TABLE_SYMBOL}: no NULL within {_MAX_LIST} pointers at {addr:#x}")
            target = self.word(addr + len(items) * self.word_size)
            if not target:
                break
            items.append(self.string(target))
        return tuple(items)

    def _room(self, addr: int) -> int:
        """How many bytes of file data its segment has from `addr` on (0: not in the file)."""
        return next((v + n - addr for v, n, _ in self._loads if v <= addr < v + n), 0)

    @staticmethod
    def _unmapped(addr: int) -> ElfReadError:
        return ElfReadError(f"{TABLE_SYMBOL}: {addr:#x} is not in the file's loaded data")

    # ------------------------------------------------------------------ relocations

    def _relocation(self, addr: int) -> int | None:
        """The addend of the relative relocation of the word at `addr`, if there is one."""
        if self._all is None and self._sorted is None:
            self._read_all()
        if self._all is not None:
            return self._all.get(addr)
        lo, hi = 0, min(self._sorted or 0, self._rela_count())
        lo_addr, hi_addr = -1, math.inf
        while lo < hi:
            mid = (lo + hi) // 2
            offset, kind, addend = self._entry(mid)
            if not lo_addr < offset < hi_addr or kind != self._relative_type():
                # Not the sorted run of relative relocations DT_RELACOUNT promised.
                self._read_all()
                return self._relocation(addr)
            if offset == addr:
                return addend
            if offset < addr:
                lo, lo_addr = mid + 1, offset
            else:
                hi, hi_addr = mid, offset
        return None

    def _rela_count(self) -> int:
        return self._rela.num_relocations() if self._rela is not None else 0

    def _relative_type(self) -> int:
        kind = _RELATIVE.get(self._machine)
        if kind is None:
            raise ElfReadError(f"{TABLE_SYMBOL}: relocations of {self._machine} are not supported")
        return kind

    def _entry(self, index: int) -> tuple[int, int, int]:
        if index not in self._probed:
            assert self._rela is not None
            rel = self._rela.get_relocation(index)
            self._probed[index] = (int(rel["r_offset"]), int(rel["r_info_type"]), int(rel["r_addend"]))
        return self._probed[index]

    def _read_all(self) -> None:
        kind = self._relative_type()
        self._all = {}
        if self._rela is not None:
            for rel in self._rela.iter_relocations():
                if rel["r_info_type"] == kind:
                    self._all[int(rel["r_offset"])] = int(rel["r_addend"])
