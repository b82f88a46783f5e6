"""`qpack.modinfo` against QEMU's real emulators and against tables gcc builds in every link mode.

- Debian bookworm's QEMU 7.2 and trixie's 10.0 `qemu-system-x86_64`: the whole table, compared
  with the `qemu` layout's `[modules.dependencies]`, with the modules the build ships, and read
  again from copies whose words are left to the relocations alone (zeroed in place, as lld
  leaves them) and whose relocations are out of order (the search falls back to reading all).
- A QEMU-shaped table (scripts/modinfo-generate.py's output) compiled as a PIE (RELA), without
  PIE (absolute pointers), with packed relative relocations (RELR) and for i386 (REL).
- Programs without a table (the demo, a QEMU without modules, qemu-img) and broken files.

Nothing read here is run.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSegment
from elftools.elf.elffile import ELFFile

from qpack.demo.builder import find_compiler, m32_supported
from qpack.elf import ElfReadError
from qpack.layout import load_layout
from qpack.modinfo import ModuleInfo, dependencies, loadable_modules, read_module_table

from . import trixie_debs
from .conftest import QemuBuild, cache_dir, have_cc

EMULATOR = "usr/bin/qemu-system-x86_64"
MODDIR = "usr/lib/x86_64-linux-gnu/qemu"
GPU_GL = "hw-display-virtio-gpu-gl"

# Read from trixie's emulator (1:10.0.13+ds-0+deb13u1): the 13 entries the facts document lists,
# which the `qemu` layout's [modules.dependencies] copies.
DEPS_10_0 = {
    "ui-egl-headless": ("ui-opengl",),
    "ui-dbus": ("ui-opengl",),
    "ui-gtk": ("ui-opengl",),
    "ui-sdl": ("ui-opengl",),
    "ui-spice-core": ("ui-opengl",),
    "ui-spice-app": ("ui-spice-core", "chardev-spice"),
    "hw-display-qxl": ("ui-spice-core",),
    GPU_GL: ("hw-display-virtio-gpu", "ui-opengl"),
    "hw-display-virtio-gpu-pci-gl": ("hw-display-virtio-gpu-pci",),
    "hw-display-virtio-vga-gl": ("hw-display-virtio-vga",),
    "audio-spice": ("ui-spice-core",),
    "audio-dbus": ("ui-dbus",),
    "chardev-spice": ("ui-spice-core",),
}
# Bookworm's 7.2 (1:7.2+dfsg-7+deb12u18+b3): the same 13 modules, but virtio-gpu-gl does not
# load ui-opengl first (hw/display/virtio-gpu-gl.c gained module_dep("ui-opengl") in 2024).
DEPS_7_2 = {**DEPS_10_0, GPU_GL: ("hw-display-virtio-gpu",)}

# The targets QEMU 7.2 and 10.0 build accel-qtest modules for, all named in every table.
QTEST_TARGETS_10_0 = {
    "aarch64", "alpha", "arm", "avr", "hppa", "i386", "loongarch64", "m68k", "microblaze",
    "microblazeel", "mips", "mips64", "mips64el", "mipsel", "or1k", "ppc", "ppc64", "riscv32",
    "riscv64", "rx", "s390x", "sh4", "sh4eb", "sparc", "sparc64", "tricore", "x86_64", "xtensa",
    "xtensaeb",
}  # fmt: skip
QTEST_TARGETS_7_2 = QTEST_TARGETS_10_0 | {"cris", "nios2"}


def layout_dependencies() -> dict[str, tuple[str, ...]]:
    return dict(load_layout("qemu").loader.dependencies)


def differences(
    table: dict[str, tuple[str, ...]], layout: dict[str, tuple[str, ...]]
) -> dict[str, tuple[tuple[str, ...] | None, tuple[str, ...] | None]]:
    """module -> (the executable's table, the layout), where they differ."""
    return {
        m: (table.get(m), layout.get(m))
        for m in sorted(set(table) | set(layout))
        if table.get(m) != layout.get(m)
    }


def by_name(table: tuple[ModuleInfo, ...]) -> dict[str, ModuleInfo]:
    entries = {m.name: m for m in table}
    assert len(entries) == len(table), "a module is named twice"
    return entries


# --------------------------------------------------------------------------- copies of an emulator


def _table_words(elf: ELFFile) -> list[int]:
    """Virtual addresses of every pointer word of the table and of its lists, found the way the
    linker left them in place (GNU ld writes the relocated value there too)."""
    sym = elf.get_section_by_name(".dynsym").get_symbol_by_name("qemu_modinfo")[0]
    stream = elf.stream

    def raw(addr: int) -> int:
        stream.seek(next(elf.address_offsets(addr, 8)))
        return int(struct.unpack("<Q", stream.read(8))[0])

    start, size = sym["st_value"], sym["st_size"]
    words = list(range(start, start + size, 8))
    for slot in range(start, start + size, 40):
        for field in (2, 3, 4):  # objs, deps, opts
            item = raw(slot + 8 * field)
            while item and raw(item):
                words.append(item)
                item += 8
    return words


def _relative_run(elf: ELFFile) -> tuple[int, int]:
    """(file offset, entry count) of the leading relative relocations (DT_RELACOUNT)."""
    dyn = next(s for s in elf.iter_segments(type="PT_DYNAMIC") if isinstance(s, DynamicSegment))
    count = next(dyn.iter_tags("DT_RELACOUNT"))["d_val"]
    rela = elf.get_section_by_name(".rela.dyn")
    return rela["sh_offset"], count


def altered_copy(src: Path, dest: Path, *, zero_words: bool, reverse_relocations: bool) -> Path:
    """A copy of the emulator with its table's words zeroed in the file, so that only the
    relocations hold them, and/or its relative relocations in reverse order."""
    shutil.copyfile(src, dest)
    with src.open("rb") as f:
        elf = ELFFile(f)
        patches: list[tuple[int, bytes]] = []
        if zero_words:
            patches += [(next(elf.address_offsets(w, 8)), bytes(8)) for w in _table_words(elf)]
        if reverse_relocations:
            offset, count = _relative_run(elf)
            f.seek(offset)
            entries = [f.read(24) for _ in range(count)]
            patches.append((offset, b"".join(reversed(entries))))
    with dest.open("r+b") as out:
        for offset, data in patches:
            out.seek(offset)
            out.write(data)
    return dest


# --------------------------------------------------------------------------- bookworm's QEMU 7.2


@pytest.mark.qemu
@pytest.mark.network
def test_bookworm_7_2_table(qemu_build: QemuBuild) -> None:
    table = read_module_table(qemu_build.root / EMULATOR)
    assert table is not None
    modules = by_name(table)
    assert len(table) == 67
    assert table[0] == ModuleInfo(name="ui-curses", arch=None)
    assert modules["hw-display-qxl"] == ModuleInfo(
        name="hw-display-qxl", arch=None, objs=("qxl-vga", "qxl"), deps=("ui-spice-core",)
    )
    assert modules["ui-spice-core"].opts == ("spice",)
    assert modules["accel-tcg-x86_64"] == ModuleInfo(
        name="accel-tcg-x86_64", arch="x86_64", objs=("tcg-accel-ops",)
    )

    # The dependencies: the layout's 13 entries, but for one.
    deps = dependencies(table)
    assert deps == DEPS_7_2
    assert differences(deps, layout_dependencies()) == {
        GPU_GL: (("hw-display-virtio-gpu",), ("hw-display-virtio-gpu", "ui-opengl"))
    }

    # Target modules of every target are listed, each tagged with its target.
    tagged = {m.name: m.arch for m in table if m.arch}
    assert all(name.endswith("-" + arch) for name, arch in tagged.items() if arch)
    assert {arch for name, arch in tagged.items() if name.startswith("accel-qtest-")} == QTEST_TARGETS_7_2
    assert {name for name in tagged if name.startswith("accel-tcg-")} == {
        "accel-tcg-i386",
        "accel-tcg-x86_64",
    }
    loadable = loadable_modules(table, "x86_64")
    assert loadable == {m.name for m in table if m.arch in (None, "x86_64")}
    assert "accel-tcg-x86_64" in loadable
    assert "accel-tcg-i386" not in loadable
    assert loadable_modules(table, "i386") - loadable == {"accel-tcg-i386", "accel-qtest-i386"}

    # Against what the build ships: Debian deletes accel-qtest-*; the i386 TCG module is for the
    # i386 emulator; the s390x ccw display is in no x86_64 table (its Kconfig symbol is off).
    shipped = {p.stem for p in (qemu_build.root / MODDIR).glob("*.so")}
    assert loadable - shipped == {"accel-qtest-x86_64"}
    assert shipped - loadable == {"accel-tcg-i386", "hw-s390x-virtio-gpu-ccw"}
    assert "hw-s390x-virtio-gpu-ccw" not in modules


@pytest.mark.qemu
@pytest.mark.network
def test_bookworm_read_time(qemu_build: QemuBuild) -> None:
    """An 18 MB emulator with 122,000 relocations: a few hundredths of a second (reading every
    relocation would take about one)."""
    emulator = qemu_build.root / EMULATOR
    times = []
    for _ in range(3):
        start = time.perf_counter()
        read_module_table(emulator)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.5, f"read_module_table took {min(times):.3f} s at best"


@pytest.mark.qemu
@pytest.mark.network
@pytest.mark.parametrize(
    ("zero_words", "reverse_relocations"),
    [(True, False), (True, True)],
    ids=["relocations-only", "relocations-out-of-order"],
)
def test_words_come_from_relocations(
    qemu_build: QemuBuild, tmp_path: Path, zero_words: bool, reverse_relocations: bool
) -> None:
    """GNU ld also writes each relocated pointer in place; lld leaves zeros there. A copy whose
    table words are zeroed reads the same, through the relocations alone, and so does one whose
    relative relocations are in reverse order (no longer sorted for the binary search)."""
    original = qemu_build.root / EMULATOR
    copy = altered_copy(
        original,
        tmp_path / "qemu-system-x86_64",
        zero_words=zero_words,
        reverse_relocations=reverse_relocations,
    )
    expected = read_module_table(original)
    assert expected is not None
    assert read_module_table(copy) == expected


@pytest.mark.qemu
@pytest.mark.network
@pytest.mark.parametrize("program", ["usr/bin/qemu-system-x86_64-microvm", "usr/bin/qemu-img"])
def test_qemu_programs_without_a_table(qemu_build: QemuBuild, program: str) -> None:
    """Debian's microvm emulator is built without modules; qemu-img has no table (it loads block
    modules by name, with QEMU's empty stub table)."""
    assert read_module_table(qemu_build.root / program) is None


# --------------------------------------------------------------------------- trixie's QEMU 10.0


@pytest.fixture(scope="module")
def trixie_system_x86(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """trixie's qemu-system-x86 extracted (only that package: it holds the emulators)."""
    try:
        debs = trixie_debs.fetch(cache_dir() / "trixie-debs")
    except trixie_debs.Unavailable as e:
        pytest.skip(f"trixie's QEMU packages: {e}")
    except subprocess.TimeoutExpired as e:
        pytest.skip(f"trixie's QEMU packages: {e.cmd[0]} timed out after {e.timeout} s")
    version = trixie_debs.deb_field(debs["qemu-system-x86"], "Version")
    if not version.startswith("1:10.0."):
        pytest.skip(f"trixie's qemu-system-x86 is {version}, not 1:10.0.x")
    root = tmp_path_factory.mktemp("trixie-x86") / "root"
    subprocess.run(["dpkg-deb", "-x", str(debs["qemu-system-x86"]), str(root)], check=True)
    return root


@pytest.mark.qemu
@pytest.mark.network
def test_trixie_10_0_table(trixie_system_x86: Path) -> None:
    table = read_module_table(trixie_system_x86 / EMULATOR)
    assert table is not None
    modules = by_name(table)
    assert len(table) == 66
    deps = dependencies(table)
    assert deps == DEPS_10_0
    assert len(deps) == 13
    assert differences(deps, layout_dependencies()) == {}
    assert "hw-s390x-virtio-gpu-ccw" not in modules
    assert modules["hw-uefi-vars"] == ModuleInfo(
        name="hw-uefi-vars", arch=None, objs=("uefi-vars-sysbus", "uefi-vars-x64")
    )
    # TCG is built in by 10.0: no accel-tcg modules; accel-qtest for every target remains.
    assert not [m for m in modules if m.startswith("accel-tcg-")]
    assert {m.arch for m in table if m.name.startswith("accel-qtest-")} == QTEST_TARGETS_10_0
    assert loadable_modules(table, "x86_64") == {m.name for m in table if not m.arch} | {"accel-qtest-x86_64"}
    assert read_module_table(trixie_system_x86 / "usr/bin/qemu-system-x86_64-microvm") is None


# --------------------------------------------------------------------------- gcc-built tables

# What scripts/modinfo-generate.py writes, for a few modules of each shape.
MODINFO_C = r"""
#include <stddef.h>
typedef struct QemuModinfo QemuModinfo;
struct QemuModinfo {
    const char *name;
    const char *arch;
    const char **objs;
    const char **deps;
    const char **opts;
};
extern const QemuModinfo qemu_modinfo[];
const QemuModinfo qemu_modinfo[] = {{
    /* ui-opengl.modinfo */
    .name = "ui-opengl",
},{
    .name = "ui-spice-core",
    .deps = ((const char*[]){ "ui-opengl", NULL }),
    .opts = ((const char*[]){ "spice", NULL }),
},{
    .name = "chardev-spice",
    .objs = ((const char*[]){ "chardev-spice", "chardev-spicevmc", "chardev-spiceport", NULL }),
    .deps = ((const char*[]){ "ui-spice-core", NULL }),
},{
    .name = "accel-tcg-x86_64",
    .arch = "x86_64",
    .objs = ((const char*[]){ "tcg-accel-ops", NULL }),
},{
    .name = "hw-s390x-virtio-gpu-ccw",
    .arch = "s390x",
    .objs = ((const char*[]){ "virtio-gpu-ccw", NULL }),
    .deps = ((const char*[]){ "hw-display-virtio-gpu", NULL }),
},{
    .name = "hw-display-virtio-gpu",
},{
    /* end of list */
}};
int main(void) { return qemu_modinfo[0].name == NULL; }
"""
MODINFO = (
    ModuleInfo(name="ui-opengl", arch=None),
    ModuleInfo(name="ui-spice-core", arch=None, deps=("ui-opengl",), opts=("spice",)),
    ModuleInfo(
        name="chardev-spice",
        arch=None,
        objs=("chardev-spice", "chardev-spicevmc", "chardev-spiceport"),
        deps=("ui-spice-core",),
    ),
    ModuleInfo(name="accel-tcg-x86_64", arch="x86_64", objs=("tcg-accel-ops",)),
    ModuleInfo(
        name="hw-s390x-virtio-gpu-ccw",
        arch="s390x",
        objs=("virtio-gpu-ccw",),
        deps=("hw-display-virtio-gpu",),
    ),
    ModuleInfo(name="hw-display-virtio-gpu", arch=None),
)

# Link mode -> (compiler flags, what the ELF file must show for the test to be about that mode).
LINK_MODES = {
    "pie-rela": (["-fPIE", "-pie"], ("ET_DYN", 64, "DT_RELA")),
    "no-pie": (["-fno-PIE", "-no-pie"], ("ET_EXEC", 64, None)),
    "pie-relr": (["-fPIE", "-pie", "-Wl,-z,pack-relative-relocs"], ("ET_DYN", 64, "DT_RELR")),
    "i386-rel": (["-m32", "-fPIE", "-pie"], ("ET_DYN", 32, "DT_REL")),
}


def compile_program(source: str, dest: Path, flags: list[str]) -> Path:
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine")
    (dest.parent / f"{dest.name}.c").write_text(source)
    r = subprocess.run(
        [*find_compiler(), "-O2", "-rdynamic", *flags, "-o", str(dest), str(dest.parent / f"{dest.name}.c")],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0 and "-Wl,-z,pack-relative-relocs" in flags:
        pytest.skip(f"the linker cannot pack relative relocations: {r.stderr.strip()[-200:]}")
    assert r.returncode == 0, r.stderr
    return dest


def link_facts(path: Path) -> tuple[str, int, set[str]]:
    with path.open("rb") as f:
        elf = ELFFile(f)
        dyn = next(s for s in elf.iter_segments(type="PT_DYNAMIC") if isinstance(s, DynamicSegment))
        return str(elf["e_type"]), elf.elfclass, {str(t.entry.d_tag) for t in dyn.iter_tags()}


@pytest.mark.parametrize("mode", list(LINK_MODES))
def test_gcc_built_table(tmp_path: Path, mode: str) -> None:
    flags, (elf_type, elf_class, tag) = LINK_MODES[mode]
    if "-m32" in flags and not m32_supported():
        pytest.skip("the compiler cannot build -m32 programs here (apt-get install gcc-multilib)")
    program = compile_program(MODINFO_C, tmp_path / "qemu-system-fake", flags)
    facts = link_facts(program)
    assert facts[:2] == (elf_type, elf_class)
    assert tag is None or tag in facts[2]
    table = read_module_table(program)
    assert table == MODINFO
    assert dependencies(table) == {
        "ui-spice-core": ("ui-opengl",),
        "chardev-spice": ("ui-spice-core",),
        "hw-s390x-virtio-gpu-ccw": ("hw-display-virtio-gpu",),
    }
    common = {"ui-opengl", "ui-spice-core", "chardev-spice", "hw-display-virtio-gpu"}
    assert loadable_modules(table, "x86_64") == common | {"accel-tcg-x86_64"}
    assert loadable_modules(table, "s390x") == common | {"hw-s390x-virtio-gpu-ccw"}


def test_table_not_exported(tmp_path: Path) -> None:
    """The table is found in the dynamic symbols, where QEMU's --export-dynamic puts it; a
    program linked without it has none to offer."""
    source = MODINFO_C.replace("extern const QemuModinfo qemu_modinfo[];\n", "").replace(
        "const QemuModinfo qemu_modinfo[] =", "static const QemuModinfo qemu_modinfo[] ="
    )
    assert read_module_table(compile_program(source, tmp_path / "static-table", [])) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("    /* end of list */\n}};", "no terminating entry (NULL name) in its 6 entries"),
        ('.arch = "s390x",', "is not in the file's loaded data"),
    ],
    ids=["no-terminator", "pointer-into-bss"],
)
def test_broken_gcc_built_table(tmp_path: Path, change: str, message: str) -> None:
    if change.startswith("    /* end"):
        source = MODINFO_C.replace("},{\n" + change, "}};")  # the last entry is a module
    else:
        source = MODINFO_C.replace(change, ".arch = zeroed,").replace(
            "extern const", "static char zeroed[16];\nextern const"
        )
    assert source != MODINFO_C
    program = compile_program(source, tmp_path / "qemu-system-broken", [])
    with pytest.raises(ElfReadError) as e:
        read_module_table(program)
    assert str(e.value).startswith(f"{program}: qemu_modinfo: ")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


# --------------------------------------------------------------------------- no table, broken files


def test_non_qemu_program(demo_build: Path) -> None:
    assert read_module_table(demo_build / "usr/bin/demo") is None


@pytest.mark.qemu
@pytest.mark.network
@pytest.mark.parametrize("keep", ["0", "3", "64", "4096", "table", "half", "all-but-one"])
def test_truncated_emulator(qemu_build: QemuBuild, tmp_path: Path, keep: str) -> None:
    """Cut anywhere (the section headers are at the end), the file is a clean one-line error."""
    original = qemu_build.root / EMULATOR
    data = original.read_bytes()
    with original.open("rb") as f:
        elf = ELFFile(f)
        sym = elf.get_section_by_name(".dynsym").get_symbol_by_name("qemu_modinfo")[0]
        table_offset = next(elf.address_offsets(sym["st_value"]))
    sizes = {"table": table_offset + 100, "half": len(data) // 2, "all-but-one": len(data) - 1}
    copy = tmp_path / "qemu-system-x86_64"
    copy.write_bytes(data[: sizes[keep] if keep in sizes else int(keep)])
    with pytest.raises(ElfReadError) as e:
        read_module_table(copy)
    assert str(e.value).startswith(f"{copy}: ")
    assert "\n" not in str(e.value)


def test_not_elf(tmp_path: Path) -> None:
    """Debian's bookworm /usr/bin/qemu-system-i386 is such a script."""
    script = tmp_path / "qemu-system-i386"
    script.write_text('#!/bin/sh\nexec /usr/libexec/qemu-system-i386 "$@"\n')
    with pytest.raises(ElfReadError, match=r": not an ELF file$"):
        read_module_table(script)
    with pytest.raises(ElfReadError, match=r": cannot read: "):
        read_module_table(tmp_path / "missing")
