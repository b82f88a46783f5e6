"""The loader model beyond QEMU, each feature on a small compiled fixture: the demo's program and
library, with modules built by `build_extra_module` where each feature puts them.

The two real loaders of the demo prove the two resolution kinds (tests/test_check_demo.py); these
tests pin what `check` concludes for the features no demo program has, from the layout text on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from qpack.check import CheckError, check, check_modules, taken_elsewhere, with_unfound
from qpack.demo.builder import build_extra_library, build_extra_module, compute_stamp
from qpack.errors import LayoutError, PlanError
from qpack.inventory import scan
from qpack.layout import Layout, load_layout
from qpack.loader import Loader, SearchLocation
from qpack.plan import make_plan

from .conftest import copy_build

STAMP = compute_stamp("/usr", "1")  # the demo build's stamp

HEAD = """
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/demo"]
naming = "{type}/{name}.so"
types = ["ui", "block", "audio"]
[loader.stamp]
symbol = "demo_stamp_*"
"""


def loader(tmp_path: Path, text: str) -> Loader:
    path = tmp_path / "layout.toml"
    path.write_text(textwrap.dedent(text) + '\n[[package]]\nname = "core"\nrest = true\n')
    return load_layout(path).loader


@pytest.fixture
def prefix(demo_build: Path, tmp_path: Path) -> Path:
    return copy_build(demo_build, tmp_path) / "usr"


def files(report_modules: object) -> dict[str, str | None]:
    return {m.module: m.file for m in report_modules}  # type: ignore[attr-defined]


def test_fallback_variables_first_one_set_wins(prefix: Path, tmp_path: Path) -> None:
    ld = loader(tmp_path, HEAD + '[[loader.search]]\nenv = ["PROG_A", "PROG_B"]\n')
    a, b = tmp_path / "a", tmp_path / "b"
    build_extra_module(a, type="ui", name="x", stamp=STAMP)
    build_extra_module(b, type="ui", name="x", stamp=STAMP)
    assert files(check(prefix, ld, env={"PROG_B": str(b)}).modules) == {"ui-x": f"{b}/ui/x.so"}
    both = check(prefix, ld, env={"PROG_A": str(a), "PROG_B": str(b)})
    assert files(both.modules) == {"ui-x": f"{a}/ui/x.so"}
    assert check(prefix, ld, env={}).modules == ()


def test_a_variable_naming_directories_searched_under_a_subdirectory(prefix: Path, tmp_path: Path) -> None:
    """WeeChat searches `$WEECHAT_EXTRA_LIBDIR/plugins`: `under` on an env location. Without it
    a tester's layout judged the right setting wrong and the wrong one right."""
    ld = loader(tmp_path, HEAD + '[[loader.search]]\nenv = "PROG_EXTRA"\nlist = true\nunder = "plugins"\n')
    a, b = tmp_path / "a", tmp_path / "b"
    build_extra_module(a / "plugins", type="ui", name="x", stamp=STAMP)
    build_extra_module(b / "plugins", type="ui", name="y", stamp=STAMP)
    found = check(prefix, ld, env={"PROG_EXTRA": f"{a}:{b}"})
    assert files(found.modules) == {"ui-x": f"{a}/plugins/ui/x.so", "ui-y": f"{b}/plugins/ui/y.so"}
    assert check(prefix, ld, env={"PROG_EXTRA": f"{a}/plugins"}).modules == ()
    bad = tmp_path / "bad.toml"
    bad.write_text(
        HEAD
        + '[[loader.search]]\nrelocated = "lib/x"\nunder = "../p"\n[[package]]\nname = "c"\nrest = true\n'
    )
    with pytest.raises(LayoutError) as e:
        load_layout(bad)
    assert any("under: only applies to env locations" in p for p in e.value.problems)
    # A list: each directory the variable names at each subdirectory, in order, before the next
    # directory (a GTK tester: GTK_PATH=A:B is A/3.0.0, A, B/3.0.0, B; two locations gave A/3.0.0,
    # B/3.0.0, A, B and took B's copy where GTK takes A's). "." is the directory itself.
    gtk = loader(
        tmp_path, HEAD + '[[loader.search]]\nenv = "PROG_EXTRA"\nlist = true\nunder = ["3.0", "."]\n'
    )
    build_extra_module(a, type="ui", name="z", stamp=STAMP)
    build_extra_module(b / "3.0", type="ui", name="z", stamp=STAMP)
    (row,) = check(prefix, gtk, env={"PROG_EXTRA": f"{a}:{b}"}).modules
    assert (row.module, row.file, row.copies) == ("ui-z", f"{a}/ui/z.so", (f"{b}/3.0/ui/z.so",))
    # "." first: the directory itself, then the subdirectory (a GDAL tester's [".", "3.6"] was
    # refused, though "." was documented; wheels then put modules in the directory itself).
    first = loader(
        tmp_path,
        HEAD + '[[loader.search]]\nenv = "PROG_EXTRA"\nlist = true\nunder = [".", "3.0"]\nwheels = "lib/x"\n',
    )
    (row,) = check(prefix, first, env={"PROG_EXTRA": f"{b}:{a}"}).modules
    assert (row.module, row.file, row.copies) == ("ui-z", f"{b}/3.0/ui/z.so", (f"{a}/ui/z.so",))
    assert first.search[0].wheel_modules == "lib/x"
    bad.write_text(
        HEAD + '[[loader.search]]\nenv = "P"\nunder = ["3.0", "../x"]\n[[package]]\nname = "c"\nrest = true\n'
    )
    with pytest.raises(LayoutError) as e:
        load_layout(bad)
    assert any("under[1]: must be a directory relative to each directory" in p for p in e.value.problems)


def test_a_loader_that_skips_hidden_files(prefix: Path, tmp_path: Path) -> None:
    """WeeChat reads its plugin directories without hidden files: `.fifo.so` was module `.fifo`
    that "loads", where the real program never sees it. With `skip-hidden` it is neither a module
    nor a stray; without, it is a module, as for loaders that dlopen whatever readdir gives."""
    text = """
    [loader]
    prefix = "/usr"
    executables = ["{prefix}/bin/demo"]
    naming = "{name}.so"
    resolution = "register-all"
    [[loader.search]]
    relocated = "lib/plugins"
    """
    built = build_extra_module(tmp_path / "b", type="t", name="fifo", stamp=None)
    (prefix / "lib/plugins/.hidden").mkdir(parents=True)
    for name in ("fifo.so", ".fifo.so", ".hidden/x.so"):
        shutil.copy(built, prefix / "lib/plugins" / name)
    seen = check(prefix, loader(tmp_path, text))
    assert {m.module for m in seen.modules} == {"fifo", ".fifo"}
    skipping = check(
        prefix, loader(tmp_path, text.replace("resolution", "skip-hidden = true\n    resolution"))
    )
    assert [(m.module, m.loads, m.problems) for m in skipping.modules] == [("fifo", True, ())]
    # Said in a note, as the links a loader passes over are (a Shotwell tester's editor leftover
    # `.libshotwell-transitions.so` went unsaid); not the files of a hidden directory.
    assert [w for w in skipping.warnings if "hidden" in w] == [
        f"1 hidden file(s) named as modules where the loader looks, which it skips (skip-hidden: "
        f"{prefix}/lib/plugins/.fifo.so)"
    ]


def test_a_module_the_program_loads_itself_as_it_starts(prefix: Path, tmp_path: Path) -> None:
    """rsyslogd loads lmnet itself as it starts: without it no configuration starts, where check
    said 37 of 55 modules load. `program-needs` makes a missing or failing one stop the program,
    in check and in the check after an install (check_modules)."""
    text = HEAD.replace("[loader.stamp]", 'program-needs = ["ui-curses"]\n[loader.stamp]')
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    assert ld.program_needs == ("ui-curses",)
    assert check(prefix, ld).ok
    # The plan wants it with the programs, in a core package.
    layout = tmp_path / "split.toml"
    layout.write_text(
        textwrap.dedent(text)
        + '[[loader.search]]\nrelocated = "lib/demo"\n[[package]]\nname = "core"\nrest = true\n'
        + '[per-module]\nname = "m-{module}"\n'
    )
    said = (
        "loader.program-needs: module 'ui-curses' is in package 'm-ui-curses', which core (holding "
        "the programs, or the loader library where no package holds one) does not require"
    )
    assert any(w.startswith(said) for w in make_plan(scan(prefix.parent), load_layout(layout)).warnings)
    split = layout.read_text()
    # A loader that is a library, no executable named: its package holds the programs' loader (a
    # PipeWire tester's support-support, in a package nothing required, was split in silence).
    util = next((prefix / "lib").glob("libdemo-util.so.*")).name
    layout.write_text(
        split.replace('executables = ["{prefix}/bin/demo"]\n', f'library = "{{prefix}}/lib/{util}"\n')
    )
    assert "executables" not in layout.read_text()
    assert any(w.startswith(said) for w in make_plan(scan(prefix.parent), load_layout(layout)).warnings)
    # Where a package holds the programs, the library's package need not require it (a Tumbler
    # tester's libtumbler-1-0 was asked to require tumblerd's cache plug-in).
    both = split.replace(
        'executables = ["{prefix}/bin/demo"]\n',
        f'executables = ["{{prefix}}/bin/demo"]\nlibrary = "{{prefix}}/lib/{util}"\n',
    )
    lib = (
        f'[[package]]\nname = "libs"\nfiles = ["{{prefix}}/lib/{util}", "{{prefix}}/lib/libdemo-util.so*"]\n'
    )
    layout.write_text(both.replace("rest = true", 'rest = true\nmodules = ["ui-curses"]') + lib)
    assert not any("program-needs" in w for w in make_plan(scan(prefix.parent), load_layout(layout)).warnings)
    layout.write_text(split.replace("rest = true", 'rest = true\nmodules = ["ui-curses"]'))
    assert not any("program-needs" in w for w in make_plan(scan(prefix.parent), load_layout(layout)).warnings)
    # A group holding the program and the module, as Debian's rsyslog ships rsyslogd and lmnet.
    group = (
        '[[package]]\nname = "g"\nkind = "group"\nfiles = ["{prefix}/bin/demo"]\nmodules = ["ui-curses"]\n'
    )
    layout.write_text(split.replace("[per-module]", group + "[per-module]"))
    assert not any("program-needs" in w for w in make_plan(scan(prefix.parent), load_layout(layout)).warnings)
    # In no package at all, a misspelt id: the split's programs could not start, an error (a
    # Wayfire tester's "default-config-backnd": plan and split exited 0, check then failed).
    layout.write_text(split.replace('"ui-curses"', '"ui-curse"'))
    with pytest.raises(PlanError) as failed:
        make_plan(scan(prefix.parent), load_layout(layout))
    assert (
        "loader.program-needs: module 'ui-curse' is in no package of this build (did you mean ui-curses?): "
        "the programs would not start"
    ) in failed.value.problems
    (prefix / "lib/demo/ui/curses.so").unlink()
    gone = check(prefix, ld)
    why = (
        f"{prefix}/bin/demo cannot start: it loads module ui-curses itself, which is not found where it looks"
    )
    assert gone.cannot_start == {f"{prefix}/bin/demo": why}
    assert gone.modules and not any(m.loads for m in gone.modules)
    assert all(("dependency", why) in [(p.kind, p.detail) for p in m.problems] for m in gone.modules)
    light = check_modules(prefix, ld, ["block-curl"])
    assert light.cannot_start == {f"{prefix}/bin/demo": why} and not any(m.loads for m in light.modules)
    (prefix / "lib/demo/ui/curses.so").write_bytes(b"\x7fELF broken")
    broken = check(prefix, ld)
    assert broken.cannot_start[f"{prefix}/bin/demo"].endswith("which will not load (unreadable)")


def test_a_register_loadable_loader_of_any_file_name_passes_over_files_that_are_no_elf(
    prefix: Path, tmp_path: Path
) -> None:
    """LADSPA hosts dlopen every entry of each directory: `naming = ["{name}.so", "{name}"]`
    finds `plate_noext`, and made the README beside it a module, `unreadable`, exit 1, where
    listplugins passes over it in silence. Under `register-loadable` a file that is no ELF
    takes no id: no row, no plan warning. `register-all` keeps it (the id is taken, then fails)."""
    text = """
    [loader]
    prefix = "/usr"
    executables = ["{prefix}/bin/demo"]
    naming = ["{name}.so", "{name}"]
    resolution = "register-loadable"
    [[loader.search]]
    relocated = "lib/ladspa"
    [per-module]
    name = "p-{module}"
    """
    built = build_extra_module(tmp_path / "b", type="t", name="x", stamp=None)
    (prefix / "lib/ladspa").mkdir()
    shutil.copy(built, prefix / "lib/ladspa/x.so")
    shutil.copy(built, prefix / "lib/ladspa/plate_noext")
    (prefix / "lib/ladspa/README").write_text("LADSPA plugins\n")
    report = check(prefix, loader(tmp_path, text))
    assert [(m.module, m.loads) for m in report.modules] == [("plate_noext", True), ("x", True)]
    assert report.ok
    warned = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml")).warnings
    assert not [w for w in warned if "README" in w]
    every = check(prefix, loader(tmp_path, text.replace("register-loadable", "register-all")))
    assert ("README", False) in [(m.module, m.loads) for m in every.modules]


def test_a_plugin_in_a_directory_of_its_own_name(prefix: Path, tmp_path: Path) -> None:
    """GIMP's plug-ins are `plug-ins/<name>/<name>`: `{name}` twice was refused ("needs {name}
    once"), and with every type named `by-type`, a top-level naming was still required, added
    its level to `depth` and was shown in every stray's reason. `{name}` again now means the same
    text, and the top-level naming may be left out; one no type uses counts for nothing."""
    text = """
    [loader]
    prefix = "/usr"
    executables = ["{prefix}/bin/demo"]
    types = ["plugin"]
    resolution = "register-all"
    [loader.by-type.plugin]
    naming = "{name}/{name}"
    [[loader.search]]
    relocated = "lib/gimp/plug-ins"
    [per-module]
    name = "p-{module}"
    """
    ld = loader(tmp_path, text)
    assert ld.naming.depth() == 1
    unused = loader(
        tmp_path, text.replace('types = ["plugin"]', 'types = ["plugin"]\n    naming = "{type}/{name}.so"')
    )
    assert unused.naming.depth() == 1  # the top-level pattern no type uses adds no level
    ld = loader(tmp_path, text)
    built = build_extra_module(tmp_path / "b", type="t", name="x", stamp=None)
    plugins = prefix / "lib/gimp/plug-ins"
    (plugins / "file-png").mkdir(parents=True)
    shutil.copy(built, plugins / "file-png/file-png")
    shutil.copy(built, plugins / "file-png/helper")  # not the directory's name: GIMP ignores it
    (plugins / "file-png/README").write_text("not ELF\n")
    report = check(prefix, ld)
    rows = {(m.module, m.loads, tuple(p.kind for p in m.problems)) for m in report.modules}
    assert rows == {("plugin-file-png", True, ()), ("helper", False, ("never-looked-up",))}
    # No top-level naming is needed, nor shown, where every type has its own.
    (stray,) = [m for m in report.modules if m.module == "helper"]
    assert stray.problems[0].detail.endswith("(modules are named plugin: '{name}/{name}' with types plugin)")
    (plugins / "deep/deep").mkdir(parents=True)
    shutil.copy(built, plugins / "deep/deep/deep")  # GIMP reads no deeper: nor does check
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert [m.id for m in plan.modules] == ["plugin-file-png"]
    deep = "usr/lib/gimp/plug-ins/deep/deep/deep: in a module directory, but deeper than the loader looks"
    assert any(w.startswith(deep) for w in plan.warnings), plan.warnings


def test_a_module_using_another_modules_symbols_without_the_dependency_is_said(
    prefix: Path, tmp_path: Path
) -> None:
    """A lighttpd tester: mod_authn_ldap calls mod_auth's http_auth_backend_set, so it cannot
    load without mod_auth installed (the server loads that first); check and install said it
    would load alone.
    The plan, for a layout naming an entry, reads each module's dynamic symbols and says which
    module another one needs, until [modules.dependencies] says so."""
    import subprocess

    src = tmp_path / "src"
    src.mkdir()
    # auth.so also carries a loose copy of a C++ runtime symbol (std::, as a template instance):
    # ldap.so using it needs libstdc++, never auth.so (a PackageKit tester's apt backend was told
    # to depend on a second apt backend for std::string's _M_replace).
    # Both define demo_core_register, which the program exports (-rdynamic): ldap.so binds the
    # program's, never auth.so's (a Kamailio tester's nathelper was told to need rtpproxy for
    # ser_memmem, which kamailio exports).
    (src / "auth.c").write_text(
        "int demo_module_init(void) { return 0; }\nint auth_backend_set(int x) { return x; }\n"
        "int _ZNSt7__cxx1112demo_copyEv(void) { return 0; }\nint demo_core_register(void) { return 0; }\n"
    )
    (src / "ldap.c").write_text(
        "int auth_backend_set(int);\nint _ZNSt7__cxx1112demo_copyEv(void);\nint demo_core_register(void);\n"
        "int demo_module_init(void) {\n"
        "  return auth_backend_set(1) + _ZNSt7__cxx1112demo_copyEv() + demo_core_register();\n}\n"
    )
    block = prefix / "lib/demo/block"
    for name in ("auth", "ldap"):
        cmd = [
            "cc",
            "-shared",
            "-fPIC",
            f"-Wl,-soname,{name}.so",
            "-o",
            str(block / f"{name}.so"),
            str(src / f"{name}.c"),
        ]
        subprocess.run(cmd, check=True)
    # One that links auth.so itself (a Weston tester's shells link libexec_weston.so.0, which
    # sits among the modules): the dynamic linker loads it, no warning.
    (src / "krb.c").write_text(
        "int auth_backend_set(int);\nint demo_module_init(void) { return auth_backend_set(2); }\n"
    )
    cmd = ["cc", "-shared", "-fPIC", "-o", str(block / "krb.so"), str(src / "krb.c"), str(block / "auth.so")]
    subprocess.run(cmd, check=True)
    text = HEAD + 'entry = "demo_module_init"\n[[loader.search]]\nrelocated = "lib/demo"\n'
    text = text.replace("[loader.stamp]", 'entry = "demo_module_init"\n[loader.stamp]').replace(
        'entry = "demo_module_init"\n[[loader.search]]', "[[loader.search]]"
    )
    loader(tmp_path, text + '[per-module]\nname = "p-{module}"\n')
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    said = [w for w in plan.warnings if " uses " in w]
    # The demo's own ui-gtk calls ui-opengl's demo_opengl_context (demo.toml declares it; this
    # layout does not): found the same way.
    assert said == [
        "module 'block-ldap' uses auth_backend_set, which only module 'block-auth' of this build "
        "defines: the dynamic linker cannot bind it unless 'block-auth' is installed and loaded first; "
        "add [modules.dependencies] "
        '"block-ldap" = ["block-auth"] to the layout to say so',
        "module 'ui-gtk' uses demo_opengl_context, which only module 'ui-opengl' of this build "
        "defines: the dynamic linker cannot bind it unless 'ui-opengl' is installed and loaded first; "
        "add [modules.dependencies] "
        '"ui-gtk" = ["ui-opengl"] to the layout to say so',
    ]
    layout = (tmp_path / "layout.toml").read_text()
    declared = '[modules.dependencies]\n"block-ldap" = ["block-auth"]\n"ui-gtk" = ["ui-opengl"]\n'
    (tmp_path / "layout.toml").write_text(layout + declared)
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if " uses " in w]
    # A library of the build the module loads, itself or through another, defines it too: the
    # module needs no other module (an SSSD tester's ipa provider links libsss_ldap_common.so).
    lib = prefix / "lib"
    (src / "common.c").write_text("int auth_backend_set(int x) { return x + 1; }\n")
    cc = ["cc", "-shared", "-fPIC"]
    subprocess.run(
        [*cc, "-Wl,-soname,libcommon.so.1", "-o", str(lib / "libcommon.so.1"), str(src / "common.c")],
        check=True,
    )
    (src / "mid.c").write_text("int mid(void) { return 0; }\n")
    link = ["-Wl,--no-as-needed", str(lib / "libcommon.so.1")]
    subprocess.run(
        [*cc, "-Wl,-soname,libmid.so.1", "-o", str(lib / "libmid.so.1"), str(src / "mid.c"), *link],
        check=True,
    )
    for name, needs in (("gss", "libcommon.so.1"), ("gss2", "libmid.so.1")):
        (src / f"{name}.c").write_text((src / "ldap.c").read_text())
        out = str(block / f"{name}.so")
        subprocess.run(
            [*cc, "-o", out, str(src / f"{name}.c"), "-Wl,--no-as-needed", str(lib / needs)], check=True
        )
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if " uses " in w], plan.warnings


def test_a_lazy_loader_is_warned_only_of_symbols_bound_as_a_module_loads(
    prefix: Path, tmp_path: Path
) -> None:
    """An X server tester: Xorg opens drivers with RTLD_LAZY, and vesa calls int10's VBE
    functions only after loading int10 itself; the plan asked for six dependencies that are
    none, which check (rightly) did not. With `binding = "lazy"` a call into another module is
    no dependency; data it reads (or a function's address) is bound as it loads, and still is.
    The premise is held to the real dynamic linker first (ctypes, with both modes)."""
    import subprocess

    src = tmp_path / "src"
    src.mkdir()
    (src / "auth.c").write_text(
        "int demo_module_init(void) { return 0; }\nint auth_backend_set(int x) { return x; }\n"
        "int auth_level = 3;\n"
    )
    (src / "ldap.c").write_text(
        "int auth_backend_set(int);\nint demo_module_init(void) { return 0; }\n"
        "int ldap_bind(void) { return auth_backend_set(1); }\n"
    )
    (src / "krb.c").write_text(
        "extern int auth_level;\nint demo_module_init(void) { return 0; }\n"
        "int krb_level(void) { return auth_level; }\n"
    )
    block = prefix / "lib/demo/block"
    for name in ("auth", "ldap", "krb"):
        out = block / f"{name}.so"
        subprocess.run(
            ["cc", "-shared", "-fPIC", "-Wl,-z,lazy", "-o", str(out), str(src / f"{name}.c")], check=True
        )

    def dlopen(name: str, mode: int) -> str:
        """What the real dynamic linker says opening the module alone, in a process of its own."""
        code = "import ctypes, sys\ntry: ctypes.CDLL(sys.argv[1], mode=int(sys.argv[2]))\n"
        code += "except OSError as e: print(e)"
        run = [sys.executable, "-c", code, str(block / f"{name}.so"), str(mode)]
        return subprocess.run(run, capture_output=True, text=True, check=True).stdout

    assert dlopen("ldap", os.RTLD_LAZY) == ""  # loads alone: the call is bound when made
    assert "undefined symbol: auth_backend_set" in dlopen("ldap", os.RTLD_NOW)
    assert "undefined symbol: auth_level" in dlopen("krb", os.RTLD_LAZY)
    text = HEAD.replace("[loader.stamp]", 'entry = "demo_module_init"\n[loader.stamp]')
    text += '[[loader.search]]\nrelocated = "lib/demo"\n[per-module]\nname = "p-{module}"\n'
    loader(tmp_path, text)
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    eager = sorted(w.split(" uses ")[0] for w in plan.warnings if " uses " in w)
    assert eager == ["module 'block-krb'", "module 'block-ldap'", "module 'ui-gtk'"], plan.warnings
    loader(tmp_path, text.replace("[loader]\n", '[loader]\nbinding = "lazy"\n', 1))
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    # ui-gtk calls ui-opengl's demo_opengl_context: a call too.
    assert [w.split(",")[0] for w in plan.warnings if " uses " in w] == [
        "module 'block-krb' uses auth_level"
    ], plan.warnings
    (tmp_path / "layout.toml").write_text(text.replace("[loader]\n", '[loader]\nbinding = "later"\n', 1))
    with pytest.raises(LayoutError, match=r"binding.*\"now\" \(RTLD_NOW\) or \"lazy\""):
        load_layout(tmp_path / "layout.toml")


def test_a_symbol_a_system_library_the_module_links_defines_needs_no_other_module(
    prefix: Path, tmp_path: Path
) -> None:
    """A VA-API tester: the plan told Mesa's drivers to depend on Intel's iHD driver, the one
    module of the build defining drmIoctl (its bundled libdrm), though they link the system's
    libdrm.so.2, which defines it: libva loads radeonsi alone. A library the build lacks is
    read from this machine (its ld.so.cache) before a module is named."""
    import subprocess

    libz = next(
        (
            p
            for p in ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1")
            if Path(p).exists()
        ),
        None,
    )
    if libz is None:
        pytest.skip("no libz.so.1 in this machine's multiarch directories: the test links it")
    src = tmp_path / "src"
    src.mkdir()
    (src / "own.c").write_text(
        'int demo_module_init(void) { return 0; }\nconst char *zlibVersion(void) { return "1"; }\n'
    )
    (src / "use.c").write_text(
        "const char *zlibVersion(void);\nint demo_module_init(void) { return zlibVersion()[0]; }\n"
    )
    block = prefix / "lib/demo/block"
    cc = ["cc", "-shared", "-fPIC", "-o"]
    subprocess.run([*cc, str(block / "zown.so"), str(src / "own.c")], check=True)
    subprocess.run([*cc, str(block / "zuse.so"), str(src / "use.c"), "-Wl,--no-as-needed", libz], check=True)
    subprocess.run([*cc, str(block / "zalone.so"), str(src / "use.c")], check=True)  # links nothing
    text = HEAD.replace("[loader.stamp]", 'entry = "demo_module_init"\n[loader.stamp]')
    loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n[per-module]\nname = "p-{module}"\n')
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert [w.split(",")[0] for w in plan.warnings if " uses zlibVersion" in w] == [
        "module 'block-zalone' uses zlibVersion"
    ]


def test_this_machines_files_the_layout_names_are_no_strays_of_a_prefix_checked(
    prefix: Path, tmp_path: Path
) -> None:
    """An Emacs tester's venv: 124 `never-looked-up` problems for /usr's preloaded .eln files,
    which the layout's `files` glob gives the core. Checking the venv, the glob was expanded
    under the venv alone; this machine's files outside it are matched under the layout's own
    prefix, as `check /usr` matched them."""
    host = tmp_path / "host"
    built = build_extra_module(tmp_path / "b", type="t", name="x", stamp=None)
    (host / "lib/x/pre").mkdir(parents=True)
    shutil.copy(built, host / "lib/x/one.so")
    shutil.copy(built, host / "lib/x/dumped.so.1")  # a stray but for the layout's glob
    shutil.copy(built, host / "lib/x/pre/dumped.so")  # a note (one level deeper) but for it
    text = textwrap.dedent(
        f"""
        [loader]
        prefix = "{host}"
        executables = ["{{prefix}}/bin/demo"]
        relocatable = false
        naming = "{{name}}.so"
        [[loader.search]]
        absolute = "{host}/lib/x"
        [[package]]
        name = "core"
        rest = true
        files = ["{{prefix}}/lib/x/pre/**", "{{prefix}}/lib/x/*.so.1"]
        """
    )
    layout = tmp_path / "named.toml"
    layout.write_text(text)
    report = check(prefix, load_layout(layout).loader)
    assert report.ok, report.modules
    assert [m.module for m in report.modules] == ["one"]
    assert not [w for w in report.warnings if "dumped" in w]
    # The control: without the globs, the host's files are a stray and a note.
    layout.write_text(text.replace('files = ["{prefix}/lib/x/pre/**", "{prefix}/lib/x/*.so.1"]', ""))
    report = check(prefix, load_layout(layout).loader)
    assert [m.file for m in report.modules if not m.loads] == [f"{host}/lib/x/dumped.so.1"]
    assert [w for w in report.warnings if "pre/dumped.so" in w]


def test_a_module_below_a_flat_location_is_said_plainly(prefix: Path, tmp_path: Path) -> None:
    """A Claws Mail tester read "deeper than the loader looks (0 directory level(s) below the
    location ...)" of a WebKit extension in plugins/web_extensions/."""
    flat = loader(
        tmp_path,
        HEAD.replace('naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]', 'naming = "{name}.so"')
        + '[[loader.search]]\nrelocated = "lib/flat"\n',
    )
    built = build_extra_module(tmp_path / "b", type="t", name="x", stamp=None)
    (prefix / "lib/flat/sub").mkdir(parents=True)
    shutil.copy(built, prefix / "lib/flat/one.so")
    shutil.copy(built, prefix / "lib/flat/sub/x.so")
    # A module's helper program below it (an fcitx5 tester's libexec/comp-spell-dict) is no
    # module misplaced: modules here are libraries, and it is named as none.
    (prefix / "lib/flat/libexec").mkdir()
    shutil.copy(prefix / "bin/demo", prefix / "lib/flat/libexec/helper")
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if "libexec/helper" in w], plan.warnings
    said = [w for w in plan.warnings if w.startswith("usr/lib/flat/sub/x.so:")]
    assert said == [
        "usr/lib/flat/sub/x.so: in a module directory, but deeper than the loader looks (it reads only "
        "the files directly in the location; modules are named '{name}.so')"
    ], plan.warnings
    # check says it too, of an installed prefix (a MariaDB tester's plugin/sub/disks.so: "3 of 3
    # modules load", exit 0, where plan warned of the same file in a build): a note, where the
    # loader looks names up (Python's and Lua's take `pkg/mod.so` for a dotted name).
    report = check(prefix, flat)
    assert [w for w in report.warnings if "below where the loader reads" in w] == [
        f"{prefix}/lib/flat: 1 file(s) one directory level below where the loader reads, named as its "
        "modules are (sub/x.so): never looked up as modules there (misplaced?)"
    ]
    assert not [m for m in report.modules if m.file and "sub/x.so" in m.file]
    # Where it registers every file it reads, a module it never finds fails the check, as a
    # misnamed one does (a rofi tester's plug-in moved to sub/: "1 of 1 modules load", exit 0).
    flat_all = loader(
        tmp_path,
        HEAD.replace(
            'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]',
            'naming = "{name}.so"\nresolution = "register-all"',
        )
        + '[[loader.search]]\nrelocated = "lib/flat"\n',
    )
    report = check(prefix, flat_all)
    assert not [w for w in report.warnings if "below where the loader reads" in w], report.warnings
    rows = [m for m in report.modules if m.file and "sub/x.so" in m.file]
    assert [(m.module, m.loads, [p.kind for p in m.problems]) for m in rows] == [
        ("x", False, ["never-looked-up"])
    ]
    assert rows[0].problems[0].detail == (
        f"{prefix}/lib/flat/sub/x.so: the loader never looks this file up (one directory level below "
        f"{prefix}/lib/flat, where the loader reads: misplaced?)"
    )
    assert not report.ok and report.summary()["modules"] == 1
    # A copy of a module found is no module lost: a note.
    shutil.copy(built, prefix / "lib/flat/sub/one.so")
    report = check(prefix, flat_all)
    assert [m.file for m in report.modules if m.stray] == [f"{prefix}/lib/flat/sub/x.so"]
    assert [w for w in report.warnings if "below where the loader reads" in w] == [
        f"{prefix}/lib/flat: 1 file(s) one directory level below where the loader reads, named as its "
        "modules are (sub/one.so): never looked up as modules there (misplaced?)"
    ]
    (prefix / "lib/flat/sub/one.so").unlink()
    # Unless another location reads that directory (a Yate tester's lib/yate/server/*.yate, found
    # there and loading, were "misplaced?" under lib/yate).
    inner = loader(
        tmp_path,
        HEAD.replace('naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]', 'naming = "{name}.so"')
        + '[[loader.search]]\nrelocated = "lib/flat"\n[[loader.search]]\nrelocated = "lib/flat/sub"\n',
    )
    report = check(prefix, inner)
    assert not [w for w in report.warnings if "below where the loader reads" in w], report.warnings
    assert [m.module for m in report.modules if m.file and m.file.endswith("/sub/x.so")] == ["x"]
    # Where every type has an entry, a file below defining none is no module misplaced (an SSSD
    # tester's modules/libsss_autofs.so, autofs's plug-in, was "misplaced?").
    entered = loader(
        tmp_path,
        HEAD.replace(
            'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]', 'naming = "{name}.so"'
        ).replace("[loader.stamp]", 'entry = "demo_module_init"\n[loader.stamp]')
        + '[[loader.search]]\nrelocated = "lib/flat"\n',
    )
    build_extra_library(prefix / "lib/flat/sub", "other.so")  # linked by nothing, no entry
    said = [w for w in check(prefix, entered).warnings if "below where the loader reads" in w]
    assert len(said) == 1 and "(sub/x.so)" in said[0], said
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")  # entered
    assert [w.partition(":")[0] for w in plan.warnings if "deeper than the loader looks" in w] == [
        "usr/lib/flat/sub/x.so"
    ], plan.warnings
    (prefix / "lib/flat/sub/other.so").unlink()
    # Named in a [[package]] `files` glob, it is known to the layout: no warning (a syslog-ng
    # tester's loggen plug-ins, another loader's, in syslog-ng's module directory).
    text = (tmp_path / "layout.toml").read_text()
    for rule in ('files = ["{prefix}/lib/flat/sub/*.so"]', 'files = ["{prefix}/lib/flat/sub/**"]'):
        (tmp_path / "named.toml").write_text(text + f'[[package]]\nname = "core-extra"\n{rule}\n')
        plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "named.toml"), unclaimed="core")
        assert not [w for w in plan.warnings if "sub/x.so" in w], plan.warnings
        assert "usr/lib/flat/sub/x.so" in plan.package("core-extra").files
    # So is it named as a module's own file (a Gnumeric tester's excelplugins/xlcall32.so, the
    # library its plug-in opens from its own directory, given to it by [modules.files]).
    own = '[per-module]\nname = "m-{module}"\n[modules.files]\n"one" = ["{prefix}/lib/flat/sub/**"]\n'
    (tmp_path / "own.toml").write_text(text + own)
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "own.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if "sub/x.so" in w], plan.warnings
    assert "usr/lib/flat/sub/x.so" in plan.package("m-one").files
    # And by [per-module] files (an Erlang tester's NIFs in <app>/priv/lib: 11 warnings a plan).
    per = '[per-module]\nname = "m-{module}"\nfiles = ["{prefix}/lib/flat/sub/**"]\n'
    (tmp_path / "per.toml").write_text(text + per)
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "per.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if "sub/x.so" in w], plan.warnings
    assert "usr/lib/flat/sub/x.so" in plan.package("m-one").files


def test_a_loader_that_skips_dangling_links_has_no_module_in_one(prefix: Path, tmp_path: Path) -> None:
    """Qt's directory listings leave dangling links out (Krita, Marble, Qmmp, Qt Creator), and
    Zathura and Inkscape take regular files only: a dangling plug-in link was `unreadable`, exit
    1, for a loader that never sees it. `skip-dangling = true` says so: a note, no module."""
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    (prefix / "lib/demo/ui/ghost.so").symlink_to("nowhere.so")
    rows = {m.module: m for m in check(prefix, loader(tmp_path, text)).modules}
    assert [p.kind for p in rows["ui-ghost"].problems] == ["unreadable"]
    skips = text.replace('prefix = "/usr"\n', 'prefix = "/usr"\nskip-dangling = true\n', 1)
    report = check(prefix, loader(tmp_path, skips))
    assert report.ok and "ui-ghost" not in {m.module for m in report.modules}
    assert [w for w in report.warnings if "dangling" in w] == [
        f"1 dangling link(s) where the loader looks, which it passes over ({prefix}/lib/demo/ui/ghost.so)"
    ]
    # Nor a module of the plan (a Qmmp re-tester's plan made one, and its wheel split failed).
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert "ui-ghost" not in {m for p in plan.packages for m in p.modules}
    assert "usr/lib/demo/ui/ghost.so" in plan.package("core").files


def test_a_loader_that_takes_regular_files_only_has_no_module_in_a_link(prefix: Path, tmp_path: Path) -> None:
    """Babeltrace's directory walk takes regular files only: a tester's plug-in moved out and
    symlinked back into the plug-in directory was "yes" (and its file "misplaced?"), where
    `babeltrace2 list-plugins` never sees it. `skip-links = true` says so: no module, a note."""
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    (prefix / "lib/demo/ui/gtk.so").rename(prefix / "lib/gtk-real.so")
    (prefix / "lib/demo/ui/gtk.so").symlink_to("../../gtk-real.so")
    rows = {m.module: m for m in check(prefix, loader(tmp_path, text)).modules}
    assert rows["ui-gtk"].loads
    skips = text.replace('prefix = "/usr"\n', 'prefix = "/usr"\nskip-links = true\n', 1)
    report = check(prefix, loader(tmp_path, skips))
    assert "ui-gtk" not in {m.module for m in report.modules}
    assert f"1 symlink(s) where the loader looks, which it passes over ({prefix}/lib/demo/ui/gtk.so)" in (
        report.warnings
    ), report.warnings
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert "ui-gtk" not in {m for p in plan.packages for m in p.modules}
    # Nor the location itself, a link (a Babeltrace re-tester's plugins -> plugins-2.0: "No
    # plugins found", where check said 4 of 4 load).
    (prefix / "lib/demo").rename(prefix / "lib/demo-2.0")
    (prefix / "lib/demo").symlink_to("demo-2.0")
    assert {m.module for m in check(prefix, loader(tmp_path, text)).modules} >= {"ui-curses", "ui-gtk"}
    report = check(prefix, loader(tmp_path, skips))
    assert report.modules == ()
    said = (
        f"{prefix}/lib/demo: a symlink, which the loader does not walk (it takes no link): nothing is found "
    )
    said += "there"
    assert said in report.warnings, report.warnings
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert plan.modules == ()


def test_a_module_beside_the_location_is_said(prefix: Path, tmp_path: Path) -> None:
    """Eggdrop's, Marble's and mediastreamer2's testers moved a plug-in one level up, a Psi+
    tester into `plugin/` beside `plugins/`: "N of N modules load", exit 0, where plan warned of
    the same file in a build. Each file beside a location that defines an entry is a module the
    loader never looks up, as a misnamed one is (a rofi and a Shotwell tester: still exit 0 with
    a note)."""
    text = HEAD.replace(
        'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]', 'naming = "{name}.so"'
    )
    text = text.replace("[loader.stamp]", 'entry = "demo_module_init"\n[loader.stamp]')
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/flat/plugins"\n')
    flat = prefix / "lib/flat"
    (flat / "plugins").mkdir(parents=True)
    (flat / "plugin").mkdir()
    module = prefix / "lib/demo/ui/curses.so"
    for where in ("plugins/one.so", "two.so", "plugin/three.so", "real.so"):
        shutil.copy(module, flat / where)
    # A module that is a link to a file beside the location: that file is the module, no other
    # one misplaced (a sweep's GIO modules/libgiognutls.so -> ../libgioreal.so).
    (flat / "plugins/linked.so").symlink_to("../real.so")
    build_extra_library(flat, "libother.so")  # no entry: a library of its own
    report = check(prefix, ld)
    assert not [w for w in report.warnings if "misplaced" in w], report.warnings
    assert [(m.module, m.loads) for m in report.modules] == [
        ("linked", True),
        ("one", True),
        ("three", False),
        ("two", False),
    ]
    assert [p.detail for m in report.modules for p in m.problems] == [
        f"{flat}/plugin/three.so: the loader never looks this file up (beside {flat}/plugins, where the "
        "loader looks; it defines demo_module_init, a module's entry: misplaced?)",
        f"{flat}/two.so: the loader never looks this file up (beside {flat}/plugins, where the loader "
        "looks; it defines demo_module_init, a module's entry: misplaced?)",
    ]
    assert not report.ok and report.summary()["modules"] == 2
    # Not the location itself through a link, nor a copy of a module found (an Eggdrop re-tester's
    # modules -> modules-1.8.4: its 15 loaded modules were "misplaced?"; a spare notes.so above).
    (flat / "two.so").unlink()
    (flat / "plugins/linked.so").unlink()
    (flat / "real.so").unlink()
    shutil.rmtree(flat / "plugin")
    (flat / "plugins").rename(flat / "plugins-1.0")
    (flat / "plugins").symlink_to("plugins-1.0")
    shutil.copy(module, flat / "one.so")
    report = check(prefix, ld)
    assert [m.module for m in report.modules] == ["one"]
    assert not [w for w in report.warnings if "misplaced" in w], report.warnings
    # In a library directory, the directories next to the location (a Krita re-tester's
    # lib/<triplet>/kritaplugin/ beside kritaplugins/), not its files.
    triplet = prefix / "lib/x86_64-linux-gnu"
    (triplet / "kplugins").mkdir(parents=True)
    (triplet / "kplugin").mkdir()
    shutil.copy(module, triplet / "kplugins/one.so")
    shutil.copy(module, triplet / "kplugin/four.so")
    shutil.copy(module, triplet / "five.so")
    # Nor another program's directory there (a re-tester's otherapp/filter.so, defining rofi's
    # entry `mode`, a common word, was a rofi plug-in misplaced, exit 1).
    (triplet / "otherapp").mkdir()
    shutil.copy(module, triplet / "otherapp/six.so")
    in_lib = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/x86_64-linux-gnu/kplugins"\n')
    assert [m.file for m in check(prefix, in_lib).modules if m.stray] == [f"{triplet}/kplugin/four.so"]


def test_the_directories_searched_are_named_in_search_order(prefix: Path, tmp_path: Path) -> None:
    """A Thunar tester read "(it searches /usr/lib/thunarx-3, /usr/lib/x86_64-linux-gnu/thunarx-3)"
    of a loader searching the multiarch directory first: the names were sorted."""
    z, a = tmp_path / "z", tmp_path / "a"
    for d in (z, a):
        d.mkdir()
    ld = loader(
        tmp_path, HEAD + f'[[loader.search]]\nabsolute = "{z}"\n[[loader.search]]\nabsolute = "{a}"\n'
    )
    (note,) = [w for w in check(prefix, ld).warnings if w.startswith("no directory the loader searches")]
    assert f"({z}, {a})" in note, note


def test_module_ids_without_a_separator(prefix: Path, tmp_path: Path) -> None:
    """rsyslog's modules are imtcp.so and lmnet.so, and its users write module(load="imtcp"):
    ids were always `{type}-{name}` (`im-tcp`), so `qpack install imtcp` found nothing.
    `id-separator = ""` makes the ids the loader's own names."""
    text = """
    [loader]
    prefix = "/usr"
    executables = ["{prefix}/bin/demo"]
    naming = "{type}{name}.so"
    types = ["im", "lm"]
    id-separator = ""
    [[loader.search]]
    relocated = "lib/rsyslog"
    [modules.dependencies]
    imtcp = ["lmnet"]
    [per-module]
    name = "p-{module}"
    [meta]
    name = "p"
    """
    ld = loader(tmp_path, text)
    built = build_extra_module(tmp_path / "b", type="t", name="x", stamp=None)
    (prefix / "lib/rsyslog").mkdir()
    for name in ("imtcp.so", "lmnet.so"):
        shutil.copy(built, prefix / "lib/rsyslog" / name)
    assert {(m.module, m.loads) for m in check(prefix, ld).modules} == {("imtcp", True), ("lmnet", True)}
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert plan.package("p-imtcp").requires == ("core", "p-lmnet")
    assert {"imtcp", "lmnet", "im", "lm", "all"} <= set(plan.package("p").extras)
    (tmp_path / "bad.toml").write_text(
        textwrap.dedent(text).replace('id-separator = ""', 'id-separator = "+"')
    )
    with pytest.raises(LayoutError, match="id-separator: must be"):
        load_layout(tmp_path / "bad.toml")


def test_per_user_directories(prefix: Path, tmp_path: Path) -> None:
    ld = loader(tmp_path, HEAD + '[[loader.search]]\nabsolute = "{xdg_data_home}/demo/plugins"\n')
    home = tmp_path / "home"
    build_extra_module(home / ".local/share/demo/plugins", type="ui", name="x", stamp=STAMP)
    report = check(prefix, ld, env={"HOME": str(home)})
    assert files(report.modules) == {"ui-x": f"{home}/.local/share/demo/plugins/ui/x.so"}
    # Without HOME (check's environment is empty unless given) it is said, not dropped unsaid:
    # with no other location, nothing can be checked.
    with pytest.raises(CheckError) as e:
        check(prefix, ld)
    assert str(e.value) == (
        "no directory the loader searches can be named: {xdg_data_home}/demo/plugins (give --env HOME=...)"
    )
    assert report.ok
    # Beside another location, a note: HOME is the program's, given with --env, not qpack's own
    # (a HexChat re-tester's shell had HOME set, and read "neither ... nor HOME is set").
    both = loader(
        tmp_path,
        HEAD + '[[loader.search]]\nabsolute = "{xdg_data_home}/demo/plugins"\n'
        '[[loader.search]]\nrelocated = "lib/demo"\n',
    )
    assert (
        "{xdg_data_home}/demo/plugins: not searched: neither XDG_DATA_HOME nor HOME given (the program's "
        "environment is --env's, not qpack's: give --env HOME=...)"
    ) in check(prefix, both).warnings
    data = tmp_path / "data"
    build_extra_module(data / "demo/plugins", type="ui", name="y", stamp=STAMP)
    assert set(files(check(prefix, ld, env={"HOME": str(home), "XDG_DATA_HOME": str(data)}).modules)) == {
        "ui-y"
    }
    # OBS's per-user plug-ins are under $XDG_CONFIG_HOME (default ~/.config): {xdg_config_home}.
    cfg = loader(tmp_path, HEAD + '[[loader.search]]\nabsolute = "{xdg_config_home}/demo/plugins"\n')
    build_extra_module(home / ".config/demo/plugins", type="ui", name="z", stamp=STAMP)
    assert files(check(prefix, cfg, env={"HOME": str(home)}).modules) == {
        "ui-z": f"{home}/.config/demo/plugins/ui/z.so"
    }
    # An unknown placeholder is named as such (it was "must be an absolute directory without '..'").
    # A relative XDG_CONFIG_HOME is ignored, as the XDG specification says (it was /rel/x).
    rel = check(prefix, cfg, env={"HOME": str(home), "XDG_CONFIG_HOME": "rel/x"})
    assert files(rel.modules) == {"ui-z": f"{home}/.config/demo/plugins/ui/z.so"}
    # An unbalanced brace or a format spec is one line, not a traceback or a wrong message.
    for bad, said in (
        ("/opt/{foo", "bad placeholder in '/opt/{foo'"),
        ("{home:x}/p", "unknown placeholder {home:x}"),
    ):
        with pytest.raises(LayoutError) as e:
            loader(tmp_path, HEAD + f'[[loader.search]]\nabsolute = "{bad}"\n')
        assert said in str(e.value), str(e.value)
    with pytest.raises(LayoutError) as e:
        loader(tmp_path, HEAD + '[[loader.search]]\nabsolute = "{xdg_cache_home}/demo"\n')
    assert (
        "unknown placeholder {xdg_cache_home} (known: {pkgversion}, {home}, {xdg_data_home}, "
        "{xdg_config_home})" in str(e.value)
    )


def test_relocation_from_a_library_of_the_program(prefix: Path, tmp_path: Path) -> None:
    """Plugin frameworks find their plugin directory from their own library's location."""
    ld = loader(
        tmp_path,
        HEAD + '[[loader.search]]\nrelocated = "lib/demo-plugins"\nanchor = "lib/libdemo-util.so.1"\n',
    )
    build_extra_module(prefix / "lib/demo-plugins", type="block", name="x", stamp=STAMP)
    report = check(prefix, ld)
    assert files(report.modules) == {"block-x": f"{prefix}/lib/demo-plugins/block/x.so"}
    assert report.ok


def test_several_file_names_per_module(prefix: Path, tmp_path: Path) -> None:
    ld = loader(
        tmp_path,
        HEAD.replace('naming = "{type}/{name}.so"', 'naming = ["{type}/{name}.so", "{type}/lib{name}.so"]')
        + '[[loader.search]]\nrelocated = "lib/demo"\n',
    )
    built = build_extra_module(prefix / "lib/demo", type="ui", name="x", stamp=STAMP)
    built.rename(built.parent / "libx.so")
    report = check(prefix, ld)
    assert files(report.modules)["ui-x"] == f"{prefix}/lib/demo/ui/libx.so"
    # Both names present: the first pattern wins, the other is a copy passed over.
    build_extra_module(prefix / "lib/demo", type="ui", name="x", stamp=STAMP)
    row = next(m for m in check(prefix, ld).modules if m.module == "ui-x")
    assert row.file == f"{prefix}/lib/demo/ui/x.so" and row.copies == (f"{prefix}/lib/demo/ui/libx.so",)


def test_register_all_scans_to_a_depth_and_finds_untyped_modules(prefix: Path, tmp_path: Path) -> None:
    text = """
    [loader]
    prefix = "/usr"
    executables = ["{prefix}/bin/demo"]
    naming = "{name}.so"
    resolution = "register-all"
    depth = 1
    [[loader.search]]
    relocated = "lib/plugins"
    """
    ld = loader(tmp_path, text)
    build_extra_module(prefix / "lib/plugins", type="a", name="one", stamp=None)  # lib/plugins/a/one.so
    build_extra_module(prefix / "lib/plugins/deep", type="b", name="two", stamp=None)  # two levels down
    report = check(prefix, ld)
    found = [m for m in report.modules if not m.stray]
    assert files(found) == {"one": f"{prefix}/lib/plugins/a/one.so"}
    # Module `one`, named by the file's last segment, and it loads (it was "never-looked-up").
    assert [(m.module, m.loads, m.problems) for m in found] == [("one", True, ())]
    # A level below the depth the loader reads, likely misplaced, as plan says (a MariaDB
    # tester's plugin/sub/disks.so was said nothing of): a module the loader never finds.
    assert [(m.module, m.file) for m in report.modules if m.stray] == [
        ("two", f"{prefix}/lib/plugins/deep/b/two.so")
    ]
    # Nothing where it reads, modules one level deeper: the layout is wrong, as plan says.
    shallow = loader(tmp_path, text.replace("depth = 1", "depth = 0"))
    with pytest.raises(CheckError, match=r"files named as modules lie one level deeper .*a/one.so\): is "):
        check(prefix, shallow)
    # A loader looking a name up reads no deeper whatever its `depth`: not offered (an Emacs
    # tester raised it and was told next that the files are named as no module).
    by_name = loader(tmp_path, text.replace('resolution = "register-all"\n    depth = 1\n', ""))
    with pytest.raises(CheckError, match=r"lie one level deeper .*\): is a location one level short\?$"):
        check(prefix, by_name)
    # GStreamer recurses 10 levels below each location (gst_registry_scan_path_level): a layout
    # can say so (the limit was 8, below the real loader's, as a GStreamer tester found).
    ten = prefix / "lib/plugins" / "/".join("123456789")
    build_extra_module(ten, type="c", name="ten", stamp=None)  # ten levels below lib/plugins
    deep = loader(tmp_path, text.replace("depth = 1", "depth = 10"))
    assert files(check(prefix, deep).modules)["ten"] == f"{ten}/c/ten.so"
    nine = check(prefix, loader(tmp_path, text.replace("depth = 1", "depth = 9"))).modules
    assert "ten" not in files(m for m in nine if not m.stray)


def test_a_stray_file_named_like_a_module_is_no_module_of_that_id(prefix: Path, tmp_path: Path) -> None:
    """collectd's cpu.so with cpu.so.dpkg-old beside it: the stray's row had the id `cpu` too,
    so the summary counted module cpu as failing (108 of 152 for 109 loading); strays are no
    modules in the counts at all (PAM: '3 of 45 modules load' for 3 modules)."""
    text = """
    [loader]
    prefix = "/usr"
    executables = ["{prefix}/bin/demo"]
    naming = "{name}.so"
    [[loader.search]]
    relocated = "lib/plugins"
    """
    ld = loader(tmp_path, text)
    built = build_extra_module(tmp_path / "b", type="t", name="cpu", stamp=None)
    (prefix / "lib/plugins").mkdir()
    shutil.copy(built, prefix / "lib/plugins/cpu.so")
    shutil.copy(built, prefix / "lib/plugins/cpu.so.dpkg-old")
    report = check(prefix, ld)
    assert [(m.module, m.loads) for m in report.modules] == [("cpu", True), ("cpu.so.dpkg-old", False)]
    summary = report.summary()
    assert (summary["modules"], summary["load"], summary["problems"]) == (1, 1, 1)


def test_a_stray_above_types_own_directories_is_one_as_above_type_directories(
    prefix: Path, tmp_path: Path
) -> None:
    """Audacious's plug-ins live in Input/, Output/...: types must be lower case, so a layout
    names each type's directory in its own pattern (`[loader.by-type.input] naming =
    "Input/{name}.so"`). A stray .so at the top of the location was then said neither by plan
    nor by check, where with `{type}/{name}.so` it is `never-looked-up`."""
    own = "".join(
        f'[loader.by-type.{t}]\nnaming = "{t.capitalize()}/{{name}}.so"\n' for t in ("ui", "block", "audio")
    )
    for t in ("ui", "block", "audio"):
        (prefix / "lib/demo" / t).rename(prefix / "lib/demo" / t.capitalize())
    shutil.copy(prefix / "lib/demo/Ui/gtk.so", prefix / "lib/demo/toplevel.so")
    ld = loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n' + own)
    report = check(prefix, ld)
    strays = {m.file for m in report.modules if any(p.kind == "never-looked-up" for p in m.problems)}
    assert strays == {f"{prefix}/lib/demo/toplevel.so"}
    assert {m.module for m in report.modules if m.loads} >= {"ui-gtk", "block-curl", "audio-alsa"}
    found = ld.find_modules([f"usr/{p.relative_to(prefix)}" for p in prefix.rglob("*.so")], "/usr")
    assert [w for w in found.never_looked_up if "toplevel.so" in w]
    # Spelled as a type, the directory is refused, and the refusal says how to spell it.
    with pytest.raises(LayoutError) as e:
        loader(tmp_path, HEAD.replace('types = ["ui", "block", "audio"]', 'types = ["Ui", "block", "audio"]'))
    assert (
        "loader.types[0]: bad module type 'Ui': lowercase letters, digits, '_' and '-'; for a directory "
        "spelled 'Ui', [loader.by-type.ui] naming = \"Ui/{name}.so\""
    ) in str(e.value)
    # In the layout's own shape, under a type name it does not have yet (a terminfo tester's
    # `A/` beside `a/`, naming `{type}/{name}`, was offered `[loader.by-type.a]` and `.so`).
    terminfo = HEAD.replace('types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio", "A"]')
    with pytest.raises(LayoutError) as e:
        loader(tmp_path, terminfo.replace('naming = "{type}/{name}.so"', 'naming = "{type}/{name}"'))
    assert "for a directory spelled 'A', [loader.by-type.a] naming = \"A/{name}\"" in str(e.value)
    with pytest.raises(LayoutError) as e:
        loader(tmp_path, terminfo.replace('"audio", "A"', '"audio", "a", "A"'))
    assert "for a directory spelled 'A', [loader.by-type.a-upper] naming = \"A/{name}.so\"" in str(e.value)
    # A type listed twice is named (an Open MPI tester's "btl", twice among 40 frameworks).
    with pytest.raises(LayoutError) as e:
        loader(tmp_path, HEAD.replace('types = ["ui", "block", "audio"]', 'types = ["ui", "block", "ui"]'))
    assert "loader.types: lists 'ui' twice" in str(e.value)


def test_files_the_loader_never_looks_up_are_strays_only_where_a_module_would_be(
    prefix: Path, tmp_path: Path
) -> None:
    """libgphoto2's camlibs in `<libdir>/libgphoto2/2.5.30/{name}.so`: the libraries at the top
    of that shared location (the loader library itself among them) were 'never-looked-up'
    modules, 1,590 of them on a host's /usr/lib, and check and list failed where every module
    loads. A file beside the modules is a stray whatever its name, if it is an ELF file
    (WeeChat loads typing.SO; it was left out as not named `.so`); one named as no module of
    the pattern's is not (libc.so.6 beside `libnss_{name}.so.2`)."""
    ld = loader(
        tmp_path,
        """
        [loader]
        prefix = "/usr"
        executables = ["{prefix}/bin/demo"]
        naming = ["libgphoto/2.5/{name}.so", "libnss_{name}.so.2"]
        [[loader.search]]
        relocated = "lib/shared"
        [per-module]
        name = "p-{module}"
        """,
    )
    built = build_extra_module(tmp_path / "b", type="t", name="cam", stamp=None)
    (prefix / "lib/shared/libgphoto/2.5").mkdir(parents=True)
    for name in ("libgphoto/2.5/cam.so", "libgphoto/2.5/typing.SO", "libnss_files.so.2"):
        shutil.copy(built, prefix / "lib/shared" / name)
    for name in ("libgphoto.so.6", "libc.so.6", "libnss_old.so.1"):  # the location's own files
        shutil.copy(built, prefix / "lib/shared" / name)
    (prefix / "lib/shared/other/1/2").mkdir(parents=True)  # another library's plug-ins, deeper
    shutil.copy(built, prefix / "lib/shared/other/1/2/x.so")
    (prefix / "lib/shared/libgphoto/2.5/README").write_text("not ELF\n")
    report = check(prefix, ld)
    strays = {m.file for m in report.modules if any(p.kind == "never-looked-up" for p in m.problems)}
    shared = f"{prefix}/lib/shared"
    assert strays == {f"{shared}/libgphoto/2.5/typing.SO", f"{shared}/libnss_old.so.1"}
    assert {m.module for m in report.modules if m.loads} == {"cam", "files"}
    # The plan warns of the same files (the scan knows typing.SO is ELF).
    build = prefix.parent
    warned = make_plan(scan(build), load_layout(tmp_path / "layout.toml")).warnings
    never = sorted(w.split(":")[0] for w in warned if "never looks up" in w)
    assert never == ["usr/lib/shared/libgphoto/2.5/typing.SO", "usr/lib/shared/libnss_old.so.1"]


def test_the_programs_directory_searched_for_typed_subdirectories_holds_no_strays(
    prefix: Path, tmp_path: Path
) -> None:
    """Qt searches the program's own directory for `<dir>/<type>/lib<name>.so`: moc, uic and
    qmake there were 'never-looked-up' modules (9 problems, exit 1, where every plugin loads).
    Above the types' directories only a file named as module files are is a stray."""
    ld = loader(
        tmp_path,
        """
        [loader]
        prefix = "/usr"
        executables = ["{prefix}/bin/demo"]
        naming = "{type}/lib{name}.so"
        types = ["platforms"]
        resolution = "register-all"
        [[loader.search]]
        relocated = "bin"
        """,
    )
    built = build_extra_module(tmp_path / "b", type="t", name="q", stamp=None)
    (prefix / "bin/platforms").mkdir()
    shutil.copy(built, prefix / "bin/platforms/libqxcb.so")
    for name in ("moc", "uic", "libmisplaced.so"):
        shutil.copy(built, prefix / "bin" / name)
    report = check(prefix, ld)
    strays = {m.file for m in report.modules if any(p.kind == "never-looked-up" for p in m.problems)}
    assert strays == {f"{prefix}/bin/libmisplaced.so"}  # not demo itself, nor moc and uic
    assert [m.module for m in report.modules if m.loads] == ["platforms-qxcb"]


def test_bundle_directory_and_builds_that_do_not_relocate(prefix: Path, tmp_path: Path) -> None:
    """QEMU since 7.1: <exe dir>/qemu-bundle/<configured path> first when it exists; Debian's
    QEMU since 8.2 does not relocate: only the configured path counts."""
    search = '[[loader.search]]\nrelocated = "lib/demo"\n'
    fixed = loader(tmp_path, HEAD.replace('prefix = "/usr"', 'prefix = "/usr"\nrelocatable = false') + search)
    # Not relocated: the configured /usr/lib/demo, which is not this prefix's.
    assert all(not (m.file or "").startswith(str(prefix)) for m in check(prefix, fixed).modules)
    bundled = loader(
        tmp_path,
        HEAD.replace('prefix = "/usr"', 'prefix = "/usr"\nrelocatable = false\nbundle = "demo-bundle"')
        + search,
    )
    target = prefix / "bin/demo-bundle/usr/lib/demo"
    build_extra_module(target, type="ui", name="x", stamp=STAMP)
    report = check(prefix, bundled)
    assert files(report.modules) == {"ui-x": f"{target}/ui/x.so"}
    assert report.locations[f"{prefix}/bin/demo"] == (str(target),)


def test_pkgversion_directory_inside_a_root(demo_build: Path, tmp_path: Path) -> None:
    root = copy_build(demo_build, tmp_path)
    ld = loader(tmp_path, HEAD + '[[loader.search]]\nabsolute = "/var/run/demo/{pkgversion}"\n')
    build_extra_module(root / "var/run/demo/Debian_1_2.0~rc1", type="ui", name="x", stamp=STAMP)
    report = check("/usr", ld, root=root, pkgversion="Debian 1:2.0~rc1")
    assert files(report.modules) == {"ui-x": "/var/run/demo/Debian_1_2.0~rc1/ui/x.so"}
    with pytest.raises(CheckError, match=r"/var/run/demo/\{pkgversion\} \(give --pkgversion\)"):
        check("/usr", ld, root=root)  # nothing else to search: nothing can be checked


def test_recommended_modules_are_not_loaded_first(prefix: Path, tmp_path: Path) -> None:
    ld = loader(
        tmp_path,
        HEAD
        + '[[loader.search]]\nrelocated = "lib/demo"\n'
        + '[modules.recommends]\n"ui-curses" = ["audio-pa"]\n',
    )
    (prefix / "lib/demo/audio/pa.so").unlink()
    rows = {m.module: m for m in check(prefix, ld).modules}
    assert rows["ui-curses"].loads and not rows["ui-curses"].problems
    assert ld.recommends == {"ui-curses": ("audio-pa",)}


def test_the_loader_as_a_library_every_program_linking_it(prefix: Path, tmp_path: Path) -> None:
    """A framework whose library loads the plugins: each program of bindir that links it is a
    loader; the layout names no executable."""
    text = HEAD.replace('executables = ["{prefix}/bin/demo"]', 'library = "{prefix}/lib/libdemo-util.so.*"')
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    # A script beside the programs is no program at all (silently passed over); an ELF file cut
    # short is one that cannot be used, worth a note.
    (prefix / "bin/demo-wrapper").write_text('#!/bin/sh\nexec demo "$@"\n')
    (prefix / "bin/demo-cut").write_bytes((prefix / "bin/demo").read_bytes()[:100])
    report = check(prefix, ld)
    assert set(report.executables) == {f"{prefix}/bin/demo", f"{prefix}/bin/demo-registry"}
    assert report.ok and {m.module for m in report.modules if m.loads} >= {"ui-gtk", "block-curl"}
    assert [w for w in report.warnings if "not used as a loader" in w] == [
        f"{prefix}/bin/demo-cut: not used as a loader: "
        "truncated or corrupt ELF file (a segment runs past the end of the file)"
    ]
    # No program links the library: the error says what was looked for (it said "looked for ").
    bare = tmp_path / "bare"
    (bare / "bin").mkdir(parents=True)
    with pytest.raises(CheckError) as e:
        check(bare, ld)
    assert str(e.value) == (
        f"{bare}: none of the loader's executables is installed there "
        f"(looked for a program in {bare}/bin linking {bare}/lib/libdemo-util.so.*); "
        "for modules whose program is installed elsewhere, give --program PATH"
    )
    # Named by its SONAME link, which the install lacks beside the file it leads to (a libvisual
    # tester's root without libvisual-0.4.so.0): said so, not "none of the loader's executables".
    exact = loader(
        tmp_path,
        text.replace("libdemo-util.so.*", "libdemo-util.so.1")
        + '[[loader.search]]\nrelocated = "lib/demo"\n',
    )
    assert check(prefix, exact).ok
    (prefix / "lib/libdemo-util.so.1").rename(prefix / "lib/libdemo-util.so.1.0")
    with pytest.raises(CheckError) as e:
        check(prefix, exact)
    assert str(e.value) == (
        f"{prefix}/lib/libdemo-util.so.1: no loader library under the name the layout gives, but "
        "libdemo-util.so.1.0 beside it: is the link ldconfig makes from its SONAME missing, or does "
        "[loader] library name a link (a -dev package's) this install lacks?"
    )


def test_a_named_executable_that_does_not_link_the_loader_library_is_said(
    prefix: Path, tmp_path: Path
) -> None:
    """A SASL tester named `executables = ["{prefix}/sbin/*"]` beside `library = ...libsasl2...`:
    saslauthd, which never links libsasl2, was judged a loader of SASL's plugins in silence."""
    shutil.copy2(shutil.which("true") or "/bin/true", prefix / "bin/other")  # links libc alone
    named = 'library = "{prefix}/lib/libdemo-util.so.*"\n'
    named += 'executables = ["{prefix}/bin/demo", "{prefix}/bin/other"]'
    text = HEAD.replace('executables = ["{prefix}/bin/demo"]', named)
    report = check(prefix, loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n'))
    assert f"{prefix}/bin/other" in report.executables
    said = [w for w in report.warnings if "does not link the loader library" in w]
    # A program the layout says loads no type (`program-types`) needs no word (a Wireshark
    # tester's mmdbresolve = []).
    none = loader(
        tmp_path,
        text
        + '[[loader.search]]\nrelocated = "lib/demo"\n[loader.program-types]\n"{prefix}/bin/other" = []\n',
    )
    assert not [w for w in check(prefix, none).warnings if "does not link the loader library" in w]
    assert said == [
        f"{prefix}/bin/other: named by the layout's executables but does not link the loader library "
        f"{prefix}/lib/libdemo-util.so.*: judged as loading the modules itself (leave it out of "
        "`executables` if it does not)"
    ]


def test_a_named_program_that_opens_the_anchor_library_at_run_time_is_judged_from_it(
    prefix: Path, tmp_path: Path
) -> None:
    """A Vulkan tester's vulkaninfo opens libvulkan.so.1 with dlopen and links no copy of it:
    named by the layout beside an anchored location, it was judged with no location at all,
    in silence, while the programs linking the library said every module loads. The anchor is
    the copy its dlopen would open: here the one LD_LIBRARY_PATH leads to."""
    shutil.copy2(shutil.which("true") or "/bin/true", prefix / "bin/other")  # links libc alone
    named = 'library = "{prefix}/lib/libdemo-util.so.*"\n'
    named += 'executables = ["{prefix}/bin/demo", "{prefix}/bin/other"]'
    text = HEAD.replace('executables = ["{prefix}/bin/demo"]', named)
    anchored = '[[loader.search]]\nrelocated = "lib/demo"\nanchor = "lib/libdemo-util.so.1"\n'
    ld = loader(tmp_path, text + anchored)
    report = check(prefix, ld, env={"LD_LIBRARY_PATH": f"{prefix}/lib"})
    assert report.locations[f"{prefix}/bin/other"] == (f"{prefix}/lib/demo",)
    assert f"{prefix}/bin/other" in {e for m in report.modules if m.loads for e in m.executables}
    assert (
        f"{prefix}/bin/other does not link libdemo-util.so.1: lib/demo judged from "
        f"{prefix}/lib/libdemo-util.so.1, the copy its dlopen of libdemo-util.so.1 would open"
    ) in report.warnings
    # Not also "judged as loading the modules itself", which that contradicts (a Vulkan re-tester).
    assert not [w for w in report.warnings if "modules itself" in w], report.warnings
    # Where its dlopen finds no copy, it has no location, and that is said as before.
    report = check(prefix, ld)
    assert report.locations[f"{prefix}/bin/other"] == ()
    assert [w for w in report.warnings if "modules itself" in w]
    assert (
        f"lib/libdemo-util.so.1: the library anchoring lib/demo is not loaded by {prefix}/bin/other"
    ) in report.warnings


def test_a_loader_library_glob_past_its_soname_still_finds_the_programs(prefix: Path, tmp_path: Path) -> None:
    """A Qt tester's `library = ".../libQt5Core.so.5.*"`: in a prefix installed from wheels the
    SONAME name libQt5Core.so.5 is a copy the glob does not match, so no program linked "the"
    library and the two copies it matched were judged as loaders. The file named by the
    matched files' SONAME is the library the programs link."""
    text = HEAD.replace('executables = ["{prefix}/bin/demo"]', 'library = "{prefix}/lib/libdemo-util.so.1.*"')
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    for copy in ("libdemo-util.so.1.0", "libdemo-util.so.1.0.0"):
        shutil.copy(prefix / "lib/libdemo-util.so.1", prefix / "lib" / copy)
    report = check(prefix, ld)
    assert set(report.executables) == {f"{prefix}/bin/demo", f"{prefix}/bin/demo-registry"}
    assert not [w for w in report.warnings if "links it" in w]
    assert report.ok


def test_a_loader_library_no_program_links_is_judged_as_the_loader(prefix: Path, tmp_path: Path) -> None:
    """A library used only from Python, GI or ctypes: no program of bindir links it, so the
    library itself stands for them, its plugin directory found from its own location (an
    anchored location) and its modules' libraries searched as ld.so would, in a program of
    bindir that links it alone. Before, the check refused: no loader installed."""
    text = HEAD.replace('executables = ["{prefix}/bin/demo"]', 'library = "{prefix}/lib/libdemo-util.so.*"')
    ld = loader(
        tmp_path,
        text + '[[loader.search]]\nrelocated = "lib/demo-plugins"\nanchor = "lib/libdemo-util.so.1"\n'
        '[[loader.search]]\nrelocated = "lib/demo"\n',
    )
    for program in ("demo", "demo-registry"):  # the programs that link it; demo-run is a script
        (prefix / "bin" / program).unlink()
    build_extra_module(prefix / "lib/demo-plugins", type="block", name="x", stamp=STAMP)
    # A module needing a library nothing installs: ld.so would refuse it, and so does the check.
    lost = tmp_path / "lost"
    lost.mkdir()
    needed = [build_extra_library(lost, "liblost.so.1")]
    build_extra_module(prefix / "lib/demo", type="ui", name="y", stamp=STAMP, needed=needed)
    # A module linking the loader library with no RUNPATH to find it (Debian's Qt 6 plug-ins,
    # a Qt tester's libqico.so): ld.so matches the NEEDED to the library already loaded, by
    # its SONAME, and the module loads; it was said not to find the library loading it.
    build_extra_module(
        prefix / "lib/demo", type="ui", name="z", stamp=STAMP, needed=[prefix / "lib/libdemo-util.so.1"]
    )
    report = check(prefix, ld)
    library = f"{prefix}/lib/libdemo-util.so.1"
    assert report.executables == (library,)
    by_id = {m.module: m for m in report.modules}
    assert by_id["ui-z"].loads, by_id["ui-z"].problems
    assert by_id["block-x"].file == f"{prefix}/lib/demo-plugins/block/x.so" and by_id["block-x"].loads
    assert by_id["ui-gtk"].file == f"{prefix}/lib/demo/ui/gtk.so" and by_id["ui-gtk"].loads
    assert not by_id["ui-y"].loads
    assert [p.kind for p in by_id["ui-y"].problems] == ["missing-library"]
    assert not report.ok
    assert (
        f"{library}: no program in {prefix}/bin links it: its modules are judged as it loads them "
        f"into a program of {prefix}/bin that links it alone" in report.warnings
    )
    # A wheel holds no symlinks: the library's other names are copies. The one the dynamic
    # linker loads, by its SONAME, is the loader; the copies are not three more.
    shutil.copy(prefix / "lib/libdemo-util.so.1", prefix / "lib/libdemo-util.so.1.0")
    assert check(prefix, ld).executables == (library,)
    # The SONAME name a link to the real file, and a copy beside: still one loader, by SONAME.
    (prefix / "lib/libdemo-util.so.1.0").unlink()
    (prefix / "lib/libdemo-util.so.1").rename(prefix / "lib/libdemo-util.so.1.0.0")
    (prefix / "lib/libdemo-util.so.1").symlink_to("libdemo-util.so.1.0.0")
    shutil.copy(prefix / "lib/libdemo-util.so.1.0.0", prefix / "lib/libdemo-util.so.1.9")
    assert check(prefix, ld).executables == (library,)
    shutil.rmtree(prefix / "bin")  # a library alone in its prefix: the note says bin is not there
    assert (
        f"{library}: no program in {prefix}/bin (no such directory) links it: its modules are judged as it "
        f"loads them into a program of {prefix}/bin that links it alone" in check(prefix, ld).warnings
    )


def test_a_program_linking_another_copy_of_the_loader_library_is_named(prefix: Path, tmp_path: Path) -> None:
    """A libdbi tester's dbilist links libdbi.so.1, which it finds in /usr/lib, outside the
    prefix: the note said "no program in <prefix>/bin links it", of a program that does."""
    text = HEAD.replace('executables = ["{prefix}/bin/demo"]', 'library = "{prefix}/lib/libdemo-util.so.*"')
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    (prefix / "bin/demo-registry").unlink()
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(prefix / "lib/libdemo-util.so.1", other / "libdemo-util.so.1")
    report = check(prefix, ld, env={"LD_LIBRARY_PATH": str(other)})  # found before the RUNPATH
    assert report.executables == (f"{prefix}/lib/libdemo-util.so.1",)
    assert (
        f"{prefix}/lib/libdemo-util.so.1: no program in {prefix}/bin links it (another copy: demo links "
        f"{other}/libdemo-util.so.1): its modules are judged as it loads them into a program of "
        f"{prefix}/bin that links it alone"
    ) in report.warnings, report.warnings


def test_wheels_of_a_loader_library_no_program_links_are_placed_for_it(prefix: Path, tmp_path: Path) -> None:
    """The wheel writer proves each module is where the loader looks, from each program that
    will load it; with a loader library no program links, there was none, and any placement
    passed (Qt's plugins, for a layout saying the build does not relocate). The library stands
    for a program of bindir that links it, as check judges it."""
    from .conftest import run_qpack

    for program in ("demo", "demo-registry"):
        (prefix / "bin" / program).unlink()
    text = HEAD.replace('executables = ["{prefix}/bin/demo"]', 'library = "{prefix}/lib/libdemo-util.so.*"')
    text = text.replace('[loader.stamp]\nsymbol = "demo_stamp_*"\n', "")
    build = prefix.parent
    for relocatable, status in (("true", 0), ("false", 2)):
        layout = tmp_path / f"lib-{relocatable}.toml"
        layout.write_text(
            textwrap.dedent(text).replace('prefix = "/usr"', f'prefix = "/usr"\nrelocatable = {relocatable}')
            + '[[loader.search]]\nrelocated = "lib/demo"\n'
            + '[layout]\nname = "demo-lib"\n[[package]]\nname = "core"\nrest = true\n'
            + '[per-module]\nname = "demo-{module}"\n'
        )
        r = run_qpack("split", str(build), "-l", str(layout), "--version", "1.0", "--format", "wheel",
                      "-o", str(tmp_path / f"dist-{relocatable}"))  # fmt: skip
        assert r.returncode == status, r.stderr
    assert (
        "a program of usr/bin linking usr/lib/libdemo-util.so.1 installed as <prefix>/bin/(program) would "
        "look only in /usr/lib/demo" in r.stderr
    )


def test_a_prefix_the_loader_never_searches_is_named(prefix: Path, tmp_path: Path) -> None:
    """A staged tree given as the prefix of a loader that looks only at an absolute directory
    (SASL, PAM) is judged by this machine's modules: a broken tree passed without a word."""
    absolute = loader(tmp_path, HEAD + '[[loader.search]]\nabsolute = "/nonexistent/demo"\n')
    # No module there on this machine either (a Qt tester's venv was told the modules judged
    # were this machine's, which had no Qt plug-in at all).
    note = (
        f"no directory the loader searches is inside {prefix} (/nonexistent/demo): this machine has no "
        "module there; for a staged tree, give --root TREE and the prefix as the program sees it"
    )
    elsewhere = check(prefix, absolute)
    assert note in elsewhere.warnings
    system = tmp_path / "system"
    build_extra_module(system, type="ui", name="x", stamp=STAMP)
    machine = loader(tmp_path, HEAD + f'[[loader.search]]\nabsolute = "{system}"\n')
    assert (
        f"no directory the loader searches is inside {prefix} ({system}): the modules judged are this "
        "machine's; for a staged tree, give --root TREE and the prefix as the program sees it"
    ) in check(prefix, machine).warnings
    # report --check's headline said "N of N modules load in PREFIX" of this machine's modules.
    from qpack.report import _check_section

    assert elsewhere.elsewhere
    assert f"load for the programs of {prefix} (none of them in it" in _check_section(elsewhere)[0]
    relocated = loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n')
    assert f"load in {prefix};" in _check_section(check(prefix, relocated))[0]
    # A search path through the prefix and this machine's directories: the machine's are counted.
    both = loader(
        tmp_path,
        HEAD + f'[[loader.search]]\nrelocated = "lib/demo"\n[[loader.search]]\nabsolute = "{system}"\n',
    )
    assert (
        f"load for the programs of {prefix} (1 of them outside it" in _check_section(check(prefix, both))[0]
    )
    assert not [w for w in check(prefix, relocated).warnings if "no directory the loader searches" in w]
    link = tmp_path / "link"  # the prefix given through a symlink: its own modules, no warning
    link.symlink_to(prefix)
    assert not [w for w in check(link, relocated).warnings if "no directory the loader searches" in w]
    assert not [w for w in check("/usr", absolute, root=prefix.parent).warnings if "no directory" in w]


def test_the_machines_modules_a_variable_hides_are_not_the_prefixs_problems(
    prefix: Path, tmp_path: Path
) -> None:
    """SASL's and gdk-pixbuf's testers: a wheel-installed prefix, checked with the variable
    qpack itself advised (SASL_PATH=<prefix>/lib/.../sasl2, which replaces the default
    directory), failed with a `not-searched` row for each of this machine's plugins in the
    default directory: files of no installed distribution, outside the prefix. They are said
    once in a note; the same modules inside the prefix still fail."""
    system = tmp_path / "system"
    build_extra_module(system, type="ui", name="x", stamp=STAMP)
    build_extra_module(system, type="ui", name="gtk", stamp=STAMP)  # the prefix has one too
    build_extra_module(system, type="block", name="y", stamp=STAMP)  # another type's directory
    replacing = '[[loader.search]]\nenv = "DEMO_DIR"\nreplaces = true\n[[loader.search]]\n'
    ld = loader(tmp_path, HEAD + replacing + f'absolute = "{system}"\n')
    env = {"DEMO_DIR": str(prefix / "lib/demo")}
    report = check(prefix, ld, env=env)
    assert "ui-x" not in files(report.modules)
    assert report.ok, [(m.module, m.problems) for m in report.modules if m.fails]
    note = (
        f"{system}: this machine's 3 module(s) there (block-y, ui-gtk, ui-x), outside {prefix}, are not "
        f"searched with DEMO_DIR={prefix}/lib/demo: not judged as the prefix's"
    )
    # One note for the directory searched, not one per type directory below it (a PipeWire
    # tester's 14, one per SPA type).
    assert [w for w in report.warnings if "this machine's" in w] == [note]
    # Nor one per program (a Gwyddion tester's thumbnailer, asking for fewer types: a second
    # line with another count).
    two = HEAD.replace(
        'executables = ["{prefix}/bin/demo"]',
        'executables = ["{prefix}/bin/demo", "{prefix}/bin/demo-registry"]',
    ).replace(
        "[loader.stamp]", '[loader.program-types]\n"{prefix}/bin/demo-registry" = ["block"]\n[loader.stamp]'
    )
    assert "demo-registry" in two and "program-types" in two
    report = check(prefix, loader(tmp_path, two + replacing + f'absolute = "{system}"\n'), env=env)
    assert len(report.executables) == 2
    assert [w for w in report.warnings if "this machine's" in w] == [note]
    # Without the variable the machine's directory is what the program searches: judged.
    assert files(check(prefix, ld).modules)["ui-x"] == f"{system}/ui/x.so"
    # Inside the prefix (or a staged root), a module the variable hides is a problem.
    inside = loader(tmp_path, HEAD + replacing + f'absolute = "{prefix}/lib/demo"\n')
    hidden = check(prefix, inside, env={"DEMO_DIR": str(system)})
    not_searched = {m.module for m in hidden.modules if [p.kind for p in m.problems] == ["not-searched"]}
    assert "ui-curses" in not_searched


def test_a_variable_set_to_nothing_may_count_as_unset(prefix: Path, tmp_path: Path) -> None:
    """xine uses XINE_PLUGIN_PATH only when set and not empty (`getenv() && *value`): an xine
    tester's XINE_PLUGIN_PATH= searched the defaults, where check (`replaces`: set, even
    empty) searched nothing and said 0 of 90 load. `ignore-empty = true` says so."""
    location = '[[loader.search]]\nenv = "DEMO_DIR"\nreplaces = true\n'
    after = '[[loader.search]]\nrelocated = "lib/demo"\n'
    strict = check(prefix, loader(tmp_path, HEAD + location + after), env={"DEMO_DIR": ""})
    assert not any(m.loads for m in strict.modules)  # GStreamer's kind: set, even empty, replaces
    lenient = loader(tmp_path, HEAD + location + "ignore-empty = true\n" + after)
    assert {m.module for m in check(prefix, lenient, env={"DEMO_DIR": ""}).modules if m.loads} >= {"ui-gtk"}
    with pytest.raises(LayoutError) as e:
        loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\nignore-empty = true\n')
    assert "ignore-empty: only applies to env locations" in str(e.value)


def test_a_directory_that_replaces_the_rest_when_it_exists(prefix: Path, tmp_path: Path) -> None:
    """ALSA searches exactly one directory: <libasound's dir>/alsa-lib when it exists, else the
    configured one. `replaces = true` on a directory location: when it exists, the locations
    after it are not searched."""
    elsewhere = tmp_path / "elsewhere"
    build_extra_module(elsewhere, type="ui", name="x", stamp=STAMP)
    text = (
        HEAD
        + '[[loader.search]]\nrelocated = "lib/demo-first"\nreplaces = true\n'
        + f'[[loader.search]]\nabsolute = "{elsewhere}"\n'
    )
    ld = loader(tmp_path, text)
    assert "ui-x" in files(check(prefix, ld).modules)  # no lib/demo-first: the next one counts
    (prefix / "lib/demo-first").mkdir()
    build_extra_module(prefix / "lib/demo-first", type="ui", name="y", stamp=STAMP)
    assert set(files(check(prefix, ld).modules)) == {"ui-y"}  # it exists: the only one searched


def test_a_types_own_variable_hides_that_types_modules_in_the_default_directory(
    prefix: Path, tmp_path: Path
) -> None:
    """ImageMagick's MAGICK_CODER_MODULE_PATH replaces the built-in coder directory: set, the
    coders installed there are not searched. They vanished from the report (exit 0), where a
    replacing variable of the whole search path reports them `not-searched`."""
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n[loader.by-type.ui]\nenv = "DEMO_UI_DIR"\n'
    ld = loader(tmp_path, text)
    report = check(prefix, ld, env={"DEMO_UI_DIR": str(tmp_path / "none")})
    hidden = {m.module for m in report.modules if [p.kind for p in m.problems] == ["not-searched"]}
    assert hidden == {"ui-curses", "ui-gtk", "ui-opengl"}
    assert {m.module for m in report.modules if m.loads} == {
        "block-curl",
        "block-nfs",
        "audio-alsa",
        "audio-pa",
    }
    assert not report.ok
    # `list = true`: the variable is a ':'-separated list (MAGICK_CODER_MODULE_PATH), searched
    # in order; it was read as one directory, and the modules in it were not-found.
    first, second = tmp_path / "first", tmp_path / "second"
    build_extra_module(first, type="ui", name="x", stamp=STAMP)  # first/ui/x.so: not the type dir
    (first / "ui/x.so").rename(first / "x.so")
    build_extra_module(second, type="ui", name="y", stamp=STAMP)
    (second / "ui/y.so").rename(second / "y.so")
    listed = loader(tmp_path, text.replace('env = "DEMO_UI_DIR"', 'env = "DEMO_UI_DIR"\nlist = true'))
    report = check(prefix, listed, env={"DEMO_UI_DIR": f"{first}:{second}"})
    assert {m.module: m.file for m in report.modules if m.loads and m.module.startswith("ui-")} == {
        "ui-x": f"{first}/x.so",
        "ui-y": f"{second}/y.so",
    }
    # One directory twice (or with a trailing '/') is one directory, no copy of itself.
    twice = check(prefix, listed, env={"DEMO_UI_DIR": f"{first}:{first}/"})
    assert [(m.module, m.copies) for m in twice.modules if m.module == "ui-x"] == [("ui-x", ())]
    # This machine's default directory, named in the list itself, hides nothing (an ImageMagick
    # tester's MAGICK_CODER_MODULE_PATH=<venv>/...:/usr/.../coders: "123 module(s) there are not
    # searched", beside their own rows).
    system = tmp_path / "system"
    shutil.copytree(prefix / "lib/demo", system)
    listed_text = text.replace('env = "DEMO_UI_DIR"', 'env = "DEMO_UI_DIR"\nlist = true')
    outside = listed_text.replace('relocated = "lib/demo"', f'absolute = "{system}"')
    report = check(prefix, loader(tmp_path, outside), env={"DEMO_UI_DIR": f"{first}:{system}/ui"})
    assert not [w for w in report.warnings if "not searched with" in w], report.warnings
    assert {m.module for m in report.modules if m.loads} >= {"ui-x", "ui-curses", "ui-gtk", "block-curl"}
    report = check(prefix, loader(tmp_path, outside), env={"DEMO_UI_DIR": str(first)})
    assert [w for w in report.warnings if "not searched with" in w] == [
        f"{system}: this machine's 3 module(s) there (ui-curses, ui-gtk, ui-opengl), outside {prefix}, "
        f"are not searched with DEMO_UI_DIR={first}: not judged as the prefix's"
    ]


def test_helper_programs_must_be_where_the_loader_runs_them(prefix: Path, tmp_path: Path) -> None:
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    text += '[[loader.helpers]]\nname = "demo-helper"\nrelocated = "libexec/demo"\nenv = "DEMO_HELPER"\n'
    ld = loader(tmp_path, text)
    report = check(prefix, ld)
    rows = {m.module: m for m in report.modules}
    assert [p.kind for p in rows["helper:demo-helper"].problems] == ["missing-helper"]
    # A helper is a problem of the check, not a module of it.
    assert report.summary()["modules"] == 7 and report.summary()["problems"] == 1
    helper = prefix / "libexec/demo/demo-helper"
    helper.parent.mkdir(parents=True)
    helper.write_text("#!/bin/sh\n")
    # There without its execute bit: said so (a sudo tester read "runs ... from here" of a file
    # that was there, mode 0644).
    helper.chmod(0o644)
    (row,) = [m for m in check(prefix, ld).modules if m.module == "helper:demo-helper"]
    assert [p.detail for p in row.problems] == [
        f"{helper}: there, but without the execute bit (mode 0644): the loader runs it from here"
    ]
    helper.chmod(0o755)
    rows = {m.module: m for m in check(prefix, ld).modules}
    assert rows["helper:demo-helper"].loads
    assert not {m.module: m for m in check(prefix, ld, env={"DEMO_HELPER": "/nowhere/demo-helper"}).modules}[
        "helper:demo-helper"
    ].loads
    # A list of variables, the first set winning, and a helper found from a library's directory
    # (a GStreamer tester's gst-plugin-scanner: GST_PLUGIN_SCANNER_1_0, then GST_PLUGIN_SCANNER,
    # else relative to libgstreamer; "must be a string", "unknown key").
    both = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n[[loader.helpers]]\nname = "demo-helper"\n'
    both += 'relocated = "libexec/demo"\nanchor = "lib/libdemo-util.so.1"\n'
    both += 'env = ["DEMO_HELPER_1", "DEMO_HELPER"]\n'
    ld = loader(tmp_path, both)
    assert ld.helpers[0].env == ("DEMO_HELPER_1", "DEMO_HELPER")
    assert {m.module: m for m in check(prefix, ld).modules}["helper:demo-helper"].loads
    env = {"DEMO_HELPER_1": str(helper), "DEMO_HELPER": "/nowhere/demo-helper"}
    assert {m.module: m for m in check(prefix, ld, env=env).modules}["helper:demo-helper"].loads
    env = {"DEMO_HELPER_1": "/nowhere/demo-helper", "DEMO_HELPER": str(helper)}
    assert not {m.module: m for m in check(prefix, ld, env=env).modules}["helper:demo-helper"].loads
    # The helper's own path given for its directory: a layout error naming the directory (a CUPS
    # tester's absolute = "/usr/lib/cups/daemon/cups-exec": "missing-helper .../cups-exec/cups-exec").
    own = HEAD + '[[loader.helpers]]\nname = "cups-exec"\nabsolute = "/usr/lib/cups/daemon/cups-exec"\n'
    with pytest.raises(
        LayoutError, match=r"names the helper itself .*give the directory it is in \('/usr/lib/cups/daemon'\)"
    ):
        loader(tmp_path, own)


def test_a_helper_in_a_module_directory_is_no_stray(prefix: Path, tmp_path: Path) -> None:
    """CUPS's cupsd runs daemon/cups-exec from under its module directory /usr/lib/cups: the
    declared helper had its `helper:` row and a `never-looked-up` row besides, a problem (exit
    1); the plan warned of it too."""
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    text += '[[loader.helpers]]\nname = "demo-helper.so"\nrelocated = "lib/demo/daemon"\n'
    ld = loader(tmp_path, text)
    helper = prefix / "lib/demo/daemon/demo-helper.so"
    helper.parent.mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/curses.so", helper)
    helper.chmod(0o755)
    rows = [(m.module, m.loads, [p.kind for p in m.problems]) for m in check(prefix, ld).modules]
    assert [r for r in rows if "helper" in r[0]] == [("helper:demo-helper.so", True, [])]
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if "demo-helper" in w], plan.warnings
    # A copy where modules are, elsewhere than the helper's own location, is the helper's too (a
    # Valgrind tester's getoff-amd64-linux in a venv's $VALGRIND_LIB, run from there: a
    # `never-looked-up` problem where plan, which knows the layout's rules, said nothing).
    shutil.copy(helper, prefix / "lib/demo/demo-helper.so")
    shutil.copy(helper, prefix / "lib/demo/stray.so")
    strays = [m.file for m in check(prefix, ld).modules if m.stray]
    assert strays == [f"{prefix}/lib/demo/stray.so"], strays


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[[loader.search]]\nenv = ["OK", "bad name"]\n', "loader.search[0].env"),
        ('[[loader.search]]\nenv = "X"\nanchor = "lib/x.so"\n', "loader.search[0].anchor"),
        ('[[loader.search]]\nabsolute = "/x/{user}"\n', "loader.search[0].absolute"),
        ('[[loader.search]]\nrelocated = "lib/demo"\nlist = true\n', "loader.search[0].list"),
        # An empty prefix is no absolute path (a NUT tester's `prefix = ""` became /usr in silence).
        ('[[loader.search]]\nrelocated = "lib/demo"\n', "loader.prefix"),
    ],
)
def test_bad_loader_keys_are_named(tmp_path: Path, text: str, key: str) -> None:
    head = HEAD.replace('prefix = "/usr"', 'prefix = ""') if key == "loader.prefix" else HEAD
    with pytest.raises(LayoutError) as e:
        loader(tmp_path, head + text)
    assert any(f": {key}" in p for p in e.value.problems), e.value.problems


def test_bad_resolution_depth_and_bundle(tmp_path: Path) -> None:
    bad = (
        HEAD.replace('prefix = "/usr"', 'prefix = "/usr"\nresolution = "any"\ndepth = 17\nbundle = "a/b"')
        + '[[loader.search]]\nrelocated = "lib/demo"\n'
    )
    with pytest.raises(LayoutError) as e:
        loader(tmp_path, bad)
    joined = "\n".join(e.value.problems)
    for key in ("loader.resolution", "loader.depth", "loader.bundle"):
        assert f": {key}: " in joined, joined


def test_first_loadable_passes_over_files_dlopen_refuses(prefix: Path, tmp_path: Path) -> None:
    """FreeRADIUS-style: each candidate is tried with dlopen; a broken earlier copy is passed
    over, a copy of another build still stops the search (its same-build check fails)."""
    text = HEAD.replace('prefix = "/usr"', 'prefix = "/usr"\nresolution = "first-loadable"')
    text += '[[loader.search]]\nenv = "PROG_DIR"\n[[loader.search]]\nrelocated = "lib/demo"\n'
    ld = loader(tmp_path, text)
    early = tmp_path / "early"
    (early / "ui").mkdir(parents=True)
    (early / "ui/curses.so").write_bytes(b"not an ELF file")
    rows = {m.module: m for m in check(prefix, ld, env={"PROG_DIR": str(early)}).modules}
    assert rows["ui-curses"].loads and rows["ui-curses"].file == f"{prefix}/lib/demo/ui/curses.so"
    other = build_extra_module(early, type="ui", name="curses", stamp="0" * 40)
    assert other == early / "ui/curses.so"
    rows = {m.module: m for m in check(prefix, ld, env={"PROG_DIR": str(early)}).modules}
    assert not rows["ui-curses"].loads and rows["ui-curses"].file == str(other)
    assert "other-build" in {p.kind for p in rows["ui-curses"].problems}
    # Cut inside a segment, headers whole: mapped, then SIGBUS on the page past the end (an
    # rsyslog tester's 3,000-byte lmnet.so killed rsyslogd): no next copy is tried.
    whole = (prefix / "lib/demo/ui/curses.so").read_bytes()
    other.write_bytes(whole[: len(whole) // 2])
    rows = {m.module: m for m in check(prefix, ld, env={"PROG_DIR": str(early)}).modules}
    assert not rows["ui-curses"].loads and rows["ui-curses"].file == str(other)
    assert any("a segment runs past the end" in p.detail for p in rows["ui-curses"].problems)
    # Said as what it does (a Dino tester read "hides the good copy" of a file that kills it).
    (said,) = [p.detail for p in rows["ui-curses"].problems if p.kind == "shadowed"]
    assert said == (
        f"{other} is taken first: the program dies of SIGBUS loading it, before it reaches the good copy "
        f"{prefix}/lib/demo/ui/curses.so"
    )


def test_first_loadable_stops_at_a_file_dlopen_accepts_without_the_entry(
    prefix: Path, tmp_path: Path
) -> None:
    """Mesa's loader_open_driver_lib (and FreeRADIUS) stop at the first file dlopen accepts and
    look the entry symbol up in it: one without it fails the load, the next directory is not
    tried. It was passed over like a file dlopen refuses, and the module said to load."""
    text = HEAD.replace('prefix = "/usr"', 'prefix = "/usr"\nresolution = "first-loadable"')
    text = text.replace(
        'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "demo_module_init"'
    )
    assert 'entry = "demo_module_init"' in text
    text += '[[loader.search]]\nenv = "PROG_DIR"\n[[loader.search]]\nrelocated = "lib/demo"\n'
    ld = loader(tmp_path, text)
    early = tmp_path / "early"
    (early / "ui").mkdir(parents=True)
    shutil.copy2(build_extra_library(tmp_path / "lib", "libplain.so.1"), early / "ui/curses.so")  # no entry
    rows = {m.module: m for m in check(prefix, ld, env={"PROG_DIR": str(early)}).modules}
    assert (rows["ui-curses"].loads, rows["ui-curses"].file) == (False, str(early / "ui/curses.so"))
    assert "no-entry" in {p.kind for p in rows["ui-curses"].problems}
    # GStreamer-like registration passes over a file that is no plugin: another may take the name.
    text = text.replace('resolution = "first-loadable"', 'resolution = "register-loadable"')
    rows = {m.module: m for m in check(prefix, loader(tmp_path, text), env={"PROG_DIR": str(early)}).modules}
    assert rows["ui-curses"].loads and rows["ui-curses"].file == f"{prefix}/lib/demo/ui/curses.so"
    # And over one of another build (a Zathura re-tester's stale libps.so first in the path:
    # "shadowed", where zathura says "needs to be rebuilt" and registers the next copy).
    (early / "ui/curses.so").unlink()
    build_extra_module(early, type="ui", name="curses", stamp="0" * 40)
    rows = {m.module: m for m in check(prefix, loader(tmp_path, text), env={"PROG_DIR": str(early)}).modules}
    assert rows["ui-curses"].loads and rows["ui-curses"].file == f"{prefix}/lib/demo/ui/curses.so"


OPENED: list[list[str]] = []  # while a check here records: the paths this process opened


def _audit(event: str, args: tuple[object, ...]) -> None:
    if OPENED and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        OPENED[-1].append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def test_hard_links_are_read_once_and_their_modules_said_to_be_one_file(prefix: Path) -> None:
    """Mesa's 13 DRI drivers are one 26 MB file under 13 names: the scan hashed and parsed it
    13 times, and nothing said that every wheel (and install) would hold a copy of its own."""
    ui = prefix / "lib/demo/ui"
    (ui / "gtk.so").unlink()
    os.link(ui / "curses.so", ui / "gtk.so")
    layout = load_layout("demo")
    OPENED.append([])
    try:
        inventory = scan(prefix.parent, "/usr", jobs=1, cache=False)
    finally:
        opened = OPENED.pop()
    read = [p for p in opened if p.endswith(("/ui/curses.so", "/ui/gtk.so"))]
    assert len(read) == 1, read
    entries = inventory.by_path()
    one, two = entries["usr/lib/demo/ui/curses.so"], entries["usr/lib/demo/ui/gtk.so"]
    assert (two.sha256, two.elf, two.size) == (one.sha256, one.elf, one.size)
    warnings = make_plan(inventory, layout).warnings
    assert any(
        w.startswith("modules ui-curses, ui-gtk are one file's bytes (2 files of ") for w in warnings
    ), warnings
    # Not where no wheel can hold a module: a loader of absolute directories only (a Dovecot
    # tester: three such warnings on every plan, for a split to wheels that is refused).
    fixed = dataclasses.replace(layout.loader, search=(SearchLocation("absolute", "/usr/lib/demo"),))
    assert fixed.wheels_place_nothing and not layout.loader.wheels_place_nothing
    warnings = make_plan(inventory, dataclasses.replace(layout, loader=fixed)).warnings
    assert not [w for w in warnings if "one file's bytes" in w], warnings
    # Modules that are links to such files count by those files (a VDPAU tester's drivers, SONAME
    # links to hard links of Mesa's one file: no word, 296 MB of wheels).
    for name in ("curses", "gtk"):
        (ui / f"{name}.so").rename(ui / f"{name}.so.1")
        (ui / f"{name}.so").symlink_to(f"{name}.so.1")
    warnings = make_plan(scan(prefix.parent, "/usr", cache=False), layout).warnings
    assert any(w.startswith("modules ui-curses, ui-gtk are one file's bytes") for w in warnings), warnings
    # One module a symlink to the other is no copy (a GTK tester's libcanberra-gtk-module.so ->
    # libcanberra-gtk3-module.so read "2 files ...: hard links or copies").
    (ui / "curses.so").unlink()
    (ui / "curses.so.1").rename(ui / "curses.so")
    (ui / "gtk.so").unlink()
    (ui / "gtk.so").symlink_to("curses.so")
    warnings = make_plan(scan(prefix.parent, "/usr", cache=False), layout).warnings
    size = (ui / "curses.so").stat().st_size
    assert [w for w in warnings if "one file's bytes" in w] == [
        f"modules ui-curses, ui-gtk are one file's bytes (2 names of {size} bytes, 1 of them a symlink): "
        f"wheels and installs from them hold each as a copy ({2 * size} bytes)"
    ], warnings
    (ui / "curses.so").rename(ui / "curses.so.1")
    (ui / "curses.so").symlink_to("curses.so.1")
    (ui / "gtk.so").unlink()
    (ui / "gtk.so").symlink_to("gtk.so.1")
    for name in ("curses", "gtk"):
        (ui / f"{name}.so").unlink()
        (ui / f"{name}.so.1").rename(ui / f"{name}.so")
    # One module there twice is named by its files (a speech-dispatcher tester's sd_dummy in two
    # directories read "modules dummy, dummy are one file's bytes").
    (ui / "gtk.so").unlink()
    shutil.copy2(ui / "curses.so", ui / "gtk.so")  # back to two files of their own
    twice = prefix / "lib/demo2/ui/curses.so"
    twice.parent.mkdir(parents=True)
    shutil.copy2(ui / "curses.so", twice)
    two_dirs = load_layout("demo").loader
    more = dataclasses.replace(two_dirs, search=(*two_dirs.search, SearchLocation("relocated", "lib/demo2")))
    with pytest.raises(PlanError) as failed:
        make_plan(scan(prefix.parent, "/usr", cache=False), dataclasses.replace(layout, loader=more))
    assert [w for w in failed.value.warnings if "one file's bytes" in w] == [
        "module files usr/lib/demo/ui/curses.so, usr/lib/demo/ui/gtk.so, usr/lib/demo2/ui/curses.so are one "
        f"file's bytes (3 files of {twice.stat().st_size} bytes: hard links or copies): wheels and installs "
        f"from them hold each as a copy ({3 * twice.stat().st_size} bytes)"
    ], failed.value.warnings


def test_a_library_is_read_once_for_all_the_programs_linking_it(prefix: Path, tmp_path: Path) -> None:
    """Every program of bindir is a loader when the loader is a library: the check finds each
    one's libraries and judges each module for each, reading each file once for the run
    (ldpaths.Reads, check._SnapshotRoot) and the library's stamp once, not once a program (a
    Debian /usr here: OpenSSL's engines 52.7 s -> 1.4 s, glibc's iconv modules 50 s -> 4.5 s)."""
    for i in range(6):
        shutil.copy2(prefix / "bin/demo", prefix / f"bin/demo-copy{i}")
    text = HEAD.replace('executables = ["{prefix}/bin/demo"]', 'library = "{prefix}/lib/libdemo-util.so.*"')
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    OPENED.append([])
    try:
        report = check(prefix, ld)
    finally:
        opened = OPENED.pop()
    assert len(report.executables) == 8
    libs = [p for p in opened if Path(p).name.startswith("libdemo-util.so")]
    assert len(libs) == 2, libs  # its link facts and the stamp it holds: once each, not once a program
    module = [p for p in opened if p.endswith("/lib/demo/ui/gtk.so")]
    assert len(module) == 1, module  # judged for 8 programs, read once


def test_a_variable_that_replaces_the_search_path_hides_installed_modules(
    prefix: Path, tmp_path: Path
) -> None:
    """OPENSSL_MODULES or GST_PLUGIN_SYSTEM_PATH set to another directory: the modules installed
    where the loader looks by default are not loaded. check said "0 of 0 modules load", exit 0."""
    text = (
        HEAD
        + '[[loader.search]]\nenv = "DEMO_ONLY"\nreplaces = true\n[[loader.search]]\nrelocated = "lib/demo"\n'
    )
    ld = loader(tmp_path, text)
    assert check(prefix, ld).ok  # the control: nothing set, every module found where installed
    elsewhere = tmp_path / "elsewhere"
    build_extra_module(elsewhere, type="ui", name="curses", stamp=STAMP)
    report = check(prefix, ld, env={"DEMO_ONLY": str(elsewhere), "HOME": "/home/u"})
    rows = {m.module: m for m in report.modules}
    assert rows["ui-curses"].loads and rows["ui-curses"].file == f"{elsewhere}/ui/curses.so"
    hidden = rows["ui-gtk"]
    assert not hidden.loads and hidden.file == f"{prefix}/lib/demo/ui/gtk.so"
    assert [p.kind for p in hidden.problems] == ["not-searched"]
    # The loader's variable, not every one given (a GIMP tester's HOME was listed too).
    assert hidden.problems[0].detail.endswith(f"not searched with DEMO_ONLY={elsewhere}")
    assert not report.ok
    # Nor one of its variables that the replacing one keeps from being read, which is said (a
    # Csound tester's CS_USER_PLUGINDIR, after OPCODE6DIR64, was named as a cause).
    user = loader(tmp_path, text + '[[loader.search]]\nenv = "DEMO_USER"\n')
    report = check(prefix, user, env={"DEMO_ONLY": str(elsewhere), "DEMO_USER": f"{prefix}/lib/demo"})
    gtk = next(m for m in report.modules if m.module == "ui-gtk")
    assert gtk.problems[0].detail.endswith(f"not searched with DEMO_ONLY={elsewhere}"), gtk.problems
    assert (
        "--env DEMO_USER: not read: $DEMO_ONLY, set, replaces every location after its own (the layout's "
        "`replaces`)"
    ) in report.warnings
    assert {m for m, r in rows.items() if not r.loads} == {
        "ui-gtk",
        "ui-opengl",
        "block-curl",
        "block-nfs",
        "audio-alsa",
        "audio-pa",
    }


def test_a_stray_where_the_variable_points_keeps_the_hidden_modules_row(prefix: Path, tmp_path: Path) -> None:
    """A GDAL tester's GDAL_DRIVER_PATH named a directory holding only gdal_GRASS.so.1: its
    stray row, labelled gdal_GRASS, took the place of the installed gdal_GRASS.so's
    `not-searched` row, and the summary said "0 of 1". The module keeps its row; the stray is
    named by its file."""
    text = HEAD.replace(
        'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]\n', 'naming = "{name}.so"\n'
    )
    text += '[[loader.search]]\nenv = "DEMO_ONLY"\nreplaces = true\n'
    text += '[[loader.search]]\nrelocated = "lib/demo/ui"\n'
    ld = loader(tmp_path, text)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(prefix / "lib/demo/ui/curses.so", elsewhere / "curses.so.1")
    report = check(prefix, ld, env={"DEMO_ONLY": str(elsewhere)})
    rows = {(m.module, m.file): [p.kind for p in m.problems] for m in report.modules}
    assert rows == {
        ("curses", f"{prefix}/lib/demo/ui/curses.so"): ["not-searched"],
        ("gtk", f"{prefix}/lib/demo/ui/gtk.so"): ["not-searched"],
        ("opengl", f"{prefix}/lib/demo/ui/opengl.so"): ["not-searched"],
        ("curses.so.1", f"{elsewhere}/curses.so.1"): ["never-looked-up"],
    }


def test_a_named_program_linking_the_loader_library_has_the_librarys_stamp(
    prefix: Path, tmp_path: Path
) -> None:
    """GIO: the stamp-like name lives in libgio, not in /usr/bin/gio. A program the layout names
    that links the loader library is judged with the library's stamp, as the programs of bindir
    linking it are; it was judged with none ("same-build checks skipped"), so a module of
    another build loaded for it."""
    import subprocess

    src = tmp_path / "src"
    src.mkdir()
    (src / "loader.c").write_text(
        f'const char *loader_stamp = "demo_stamp_{STAMP}";\nint loader_ok(void) {{ return 1; }}\n'
    )
    (src / "plain.c").write_text("int loader_ok(void);\nint main(void) { return !loader_ok(); }\n")
    lib, exe = prefix / "lib/libloader.so.1", prefix / "bin/plain"
    cc = ["gcc", "-O0", "-o"]
    subprocess.run(
        [*cc, str(lib), "-shared", "-fPIC", "-Wl,-soname,libloader.so.1", str(src / "loader.c")], check=True
    )
    subprocess.run(
        [*cc, str(exe), str(src / "plain.c"), str(lib), "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib"],
        check=True,
    )
    text = HEAD.replace('executables = ["{prefix}/bin/demo"]', 'executables = ["{prefix}/bin/plain"]')
    text = text.replace('prefix = "/usr"', 'prefix = "/usr"\nlibrary = "{prefix}/lib/libloader.so.*"')
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    build_extra_module(prefix / "lib/demo", type="ui", name="stranger", stamp=compute_stamp("/usr", "other"))
    report = check(prefix, ld)
    plain = {m.module: m for m in report.modules if f"{prefix}/bin/plain" in m.executables}
    assert plain["ui-curses"].loads
    assert [p.kind for p in plain["ui-stranger"].problems] == ["other-build"]
    assert not any("plain: holds no" in w for w in report.warnings), report.warnings
    # A second program of bindir linking the library meets the same problem: one row names
    # both (a libvips tester had a row per program, the detail naming each), counted once.
    subprocess.run(
        [
            *cc,
            str(prefix / "bin/plain2"),
            str(src / "plain.c"),
            str(lib),
            "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib",
        ],
        check=True,
    )
    report = check(prefix, ld)
    stranger = [m for m in report.modules if m.module == "ui-stranger"]
    assert len(stranger) == 1
    assert set(stranger[0].executables) >= {f"{prefix}/bin/plain", f"{prefix}/bin/plain2"}
    assert report.summary()["by_kind"] == {"other-build": 1}
    assert report.summary()["problems"] == 1


def test_register_loadable_passes_over_a_file_the_dynamic_linker_refuses(
    prefix: Path, tmp_path: Path
) -> None:
    """GStreamer blacklists a plugin that fails to load and registers a later copy of it; GIO
    (register-all) lets the first file take the id. A truncated curses.so early in the path."""
    early = tmp_path / "early"
    (early / "ui").mkdir(parents=True)
    (early / "ui/curses.so").write_bytes((prefix / "lib/demo/ui/curses.so").read_bytes()[:3000])
    text = HEAD.replace(
        'naming = "{type}/{name}.so"', 'naming = "{type}/{name}.so"\nresolution = "register-all"'
    )
    text += '[[loader.search]]\nenv = "EARLY"\n[[loader.search]]\nrelocated = "lib/demo"\n'
    env = {"EARLY": str(early)}
    first = {m.module: m for m in check(prefix, loader(tmp_path, text), env=env).modules}
    assert not first["ui-curses"].loads
    assert {p.kind for p in first["ui-curses"].problems} == {"unreadable", "shadowed"}
    loadable = loader(tmp_path, text.replace('"register-all"', '"register-loadable"'))
    rows = {m.module: m for m in check(prefix, loadable, env=env).modules}
    assert rows["ui-curses"].loads and rows["ui-curses"].file == f"{prefix}/lib/demo/ui/curses.so"
    assert rows["ui-curses"].copies == (f"{early}/ui/curses.so",)


@pytest.mark.parametrize("resolution", ["register-loadable", "register-all", "first-found", "first-loadable"])
def test_a_library_the_modules_link_beside_them_is_no_module(
    prefix: Path, tmp_path: Path, resolution: str
) -> None:
    """libpurple's libjabber.so, beside the protocol plug-ins, without purple_init_plugin:
    libxmpp.so links it (RUNPATH $ORIGIN), and libpurple passes over it in silence. Check
    called it a failing module (Debian's own Pidgin: 29 of 30 load, exit 1), and the plan gave
    it a package of its own. A file without the entry that other modules link is their library;
    one no module links is still a module refused. So under register-all (a Dia tester's
    libdia.so, which dia and all 34 plug-ins link: "34 of 35 modules load", exit 1), and for a
    loader looking modules up by name, which never asks for it (a gconv tester's libJIS.so,
    which EUC-JP.so links: "the loader refuses it" in plan, a failing module in check)."""
    text = HEAD.replace(
        'types = ["ui", "block", "audio"]',
        f'types = ["ui", "block", "audio"]\nentry = "demo_module_init"\nresolution = "{resolution}"',
    )
    ld = loader(
        tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n[per-module]\nname = "m-{module}"\n'
    )
    helper = build_extra_library(prefix / "lib/demo/ui", "helper.so")  # named like module ui-helper
    build_extra_module(
        prefix / "lib/demo", type="ui", name="x", stamp=STAMP, needed=[helper], runpath="$ORIGIN"
    )
    build_extra_library(prefix / "lib/demo/ui", "lonely.so")  # no module links it
    # A copy of it under another name, which the modules do not load (they load helper.so):
    # a module refused (a Wireshark tester's libwsutil.so.14 copied in as epan/noentry.so).
    shutil.copy(helper, prefix / "lib/demo/ui/copy.so")
    rows = {m.module: m for m in check(prefix, ld).modules}
    assert "ui-helper" not in rows
    assert rows["ui-x"].loads
    assert "no-entry" in [p.kind for p in rows["ui-lonely"].problems]
    assert "no-entry" in [p.kind for p in rows["ui-copy"].problems]
    (prefix / "lib/demo/ui/copy.so").unlink()
    # A wheel's copy of the library the modules load, beside it under the name its link had (a
    # Pidgin tester's venv: libjabber.so, a copy of the libjabber.so.0 libxmpp.so loads, was a
    # refused module, exit 1, where /usr's link to the same file was no row).
    jab = build_extra_library(prefix / "lib/demo/ui", "jab.so.0")
    build_extra_module(prefix / "lib/demo", type="ui", name="y", stamp=STAMP, needed=[jab], runpath="$ORIGIN")
    shutil.copy(jab, prefix / "lib/demo/ui/jab.so")
    rows = {m.module: m for m in check(prefix, ld).modules}
    assert "ui-jab" not in rows and rows["ui-y"].loads
    for name in ("jab.so", "jab.so.0", "y.so"):
        (prefix / "lib/demo/ui" / name).unlink()
    # The modules' own copy gone, another of that name searched later is their library still (a
    # gconv re-tester removed a venv's libJIS.so: /usr's became a module refused, exit 1).
    (prefix / "lib/later/ui").mkdir(parents=True)
    shutil.copy(helper, prefix / "lib/later/ui/helper.so")
    helper.rename(tmp_path / "helper.so")
    later = loader(
        tmp_path,
        text + '[[loader.search]]\nrelocated = "lib/demo"\n[[loader.search]]\nrelocated = "lib/later"\n',
    )
    rows = {m.module: m for m in check(prefix, later).modules}
    assert "ui-helper" not in rows
    assert [p.kind for p in rows["ui-x"].problems] == ["missing-library"]
    (tmp_path / "helper.so").rename(helper)
    shutil.rmtree(prefix / "lib/later")
    ld = loader(
        tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n[per-module]\nname = "m-{module}"\n'
    )
    plan = make_plan(scan(prefix.parent, "/usr", cache=False), load_layout(tmp_path / "layout.toml"))
    modules = {m.id for m in plan.modules}
    assert "ui-helper" not in modules and {"ui-x", "ui-lonely"} <= modules
    assert plan.owner()["usr/lib/demo/ui/helper.so"] == "core"
    assert not [w for w in plan.warnings if "helper.so" in w]
    assert [w for w in plan.warnings if "lonely.so" in w]
    # A copy of it under another name, whose SONAME the modules need but which no file of that
    # name leads to: no library of theirs, a module refused, as check says (a GNOME Software
    # tester's copy of libgnomesoftware.so.19 among the plug-ins went to the core in silence).
    shutil.copy(helper, prefix / "lib/demo/ui/copy.so")
    copied = make_plan(scan(prefix.parent, "/usr", cache=False), load_layout(tmp_path / "layout.toml"))
    assert "ui-copy" in {m.id for m in copied.modules}
    assert [w for w in copied.warnings if "copy.so" in w and "demo_module_init" in w], copied.warnings
    (prefix / "lib/demo/ui/copy.so").unlink()
    # Installed from wheels (a Pidgin tester's second round): the core's helper.so is no module
    # "installed where the loader does not look", for install's check nor for list; nor is its
    # lack of the build's stamp a reason to refuse the install (no entry: never asked for one).
    from qpack.install import install
    from qpack.listing import list_installed
    from qpack.writers.wheel import write_wheels

    write_wheels(plan, tmp_path / "dist", version="1")
    venv = tmp_path / "venv"
    report = install(tmp_path / "dist", ["m-ui-x"], venv, loader=ld)
    assert report.ok and report.loading() == (1, 1), report.verdicts()
    listed = {d.name: d for d in list_installed(venv, loader=ld).dists}
    assert listed["core"].modules == () and not listed["core"].problems
    assert listed["m-ui-x"].loads


def test_a_module_that_is_a_symlink_is_a_module_of_a_register_loadable_loader(
    prefix: Path, tmp_path: Path
) -> None:
    """libpurple's libirc.so -> libirc.so.0.0.0: the plan took the link for "no ELF", so no
    module of a register-loadable loader, and put it in the core, where check (following the
    link) found module purple-libirc. A link is what it leads to inside the build."""
    text = HEAD.replace(
        'types = ["ui", "block", "audio"]',
        'types = ["ui", "block", "audio"]\nresolution = "register-loadable"',
    )
    loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n[per-module]\nname = "m-{module}"\n')
    curses = prefix / "lib/demo/ui/curses.so"
    curses.rename(curses.with_name("curses.so.0.0.0"))
    curses.symlink_to("curses.so.0.0.0")
    plan = make_plan(scan(prefix.parent, "/usr", cache=False), load_layout(tmp_path / "layout.toml"))
    owner = plan.owner()
    assert owner["usr/lib/demo/ui/curses.so"] == owner["usr/lib/demo/ui/curses.so.0.0.0"] == "m-ui-curses"
    assert "ui-curses" in {m.id for m in plan.modules}


def test_an_entry_symbol_the_module_lacks_is_refused(prefix: Path, tmp_path: Path) -> None:
    """GIO calls g_io_module_load, GStreamer gst_plugin_<name>_get_desc: a .so without it is
    refused (GStreamer blacklists it), however well named. The demo's modules define
    demo_module_init; `entry` names what the loader calls."""
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    ld = loader(
        tmp_path,
        text.replace(
            'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "demo_module_init"'
        ),
    )
    assert check(prefix, ld).ok  # every demo module defines it
    # One type's own entry, which its modules lack: those are refused, the others load.
    odd_ui = loader(
        tmp_path,
        text.replace(
            'types = ["ui", "block", "audio"]',
            'types = ["ui", "block", "audio"]\nentry = "demo_module_init"',
        )
        + '[loader.by-type.ui]\nentry = "demo_{type}_{name}_init"\n',
    )
    # Every module of the type lacks it: that key is mistyped, as plan says (an LMMS tester).
    with pytest.raises(CheckError, match=r"is \[loader.by-type.ui\] entry mistyped"):
        check(prefix, odd_ui)
    # `entry = []`: the type's modules need none (an Evolution tester's EPlugins beside modules
    # that define e_module_load: "must be a C symbol name or a non-empty list").
    no_ui = loader(
        tmp_path,
        text.replace(
            'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "demo_typo"'
        )
        + "[loader.by-type.ui]\nentry = []\n[loader.by-type.block]\nentry = []\n"
        + "[loader.by-type.audio]\nentry = []\n",
    )
    assert (no_ui.entries_for("ui"), no_ui.entries_for("block")) == ((), ())
    assert check(prefix, no_ui).ok
    # One module of the type alone: refused, the others load.
    with _alone(prefix / "lib/demo/ui", "curses.so"):
        rows = {m.module: m for m in check(prefix, odd_ui).modules}
    assert [p.kind for p in rows["ui-curses"].problems] == ["no-entry"]
    assert (
        "does not define demo_ui_curses_init, which the loader looks up"
        in rows["ui-curses"].problems[0].detail
    )
    assert rows["block-curl"].loads
    odd = loader(
        tmp_path,
        text.replace(
            'types = ["ui", "block", "audio"]',
            'types = ["ui", "block", "audio"]\nentry = "demo_{type}_{name}_init"',
        ),
    )
    # No module defines it: check refuses the layout, as plan does (below); an unreadable file
    # beside them changes nothing (a p11-kit tester's dangling broken.so made it exit 1).
    with pytest.raises(CheckError, match="is \\[loader\\] entry mistyped"):
        check(prefix, odd)
    (prefix / "lib/demo/block/broken.so").symlink_to("nowhere.so")
    with pytest.raises(CheckError, match="is \\[loader\\] entry mistyped"):
        check(prefix, odd)
    (prefix / "lib/demo/block/broken.so").unlink()
    # No module of the build defines it: the layout is wrong, an error (an AbiWord tester's
    # "abi_plugin_regster": 44 warnings, exit 0, and a split of modules that never load).
    inventory = scan(prefix.parent, "/usr", cache=False)
    with pytest.raises(PlanError) as e:
        make_plan(inventory, load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert [p for p in e.value.problems if "entry" in p] == [
        "no module of the build defines the entry symbol the loader looks up (usr/lib/demo/audio/alsa.so, "
        "usr/lib/demo/audio/pa.so and 5 more): is [loader] entry mistyped?"
    ]
    # Every name starting with a separator the naming left out: the naming is named too (a Varnish
    # tester's `libvmod{name}.so` made ids `_accept`, and the error blamed the entry alone).
    from qpack.loader import naming_slip

    assert naming_slip(["_accept", "_blob"]) == ", or [loader] naming (every module's name starts with '_'),"
    assert naming_slip(["accept", "blob"]) == naming_slip(["_accept"]) == ""
    # A file-name suffix left in every name (a CPython tester's `{name}.so` for
    # `_ssl.cpython-311-x86_64-linux-gnu.so`: the error blamed `entry` alone).
    suffix = ".cpython-311-x86_64-linux-gnu"
    assert naming_slip([f"_ssl{suffix}", f"array{suffix}"]) == (
        f", or [loader] naming (every module's name ends with {suffix!r}),"
    )
    assert naming_slip(["gtk-3.0", "qt-5.0"]) == ""  # versions alike by chance: too short
    loader(
        tmp_path,
        text.replace(
            'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "demo_module_init"'
        ),
    )
    plan = make_plan(inventory, load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if "does not define" in w]
    # One module without it: the plan says so (Xorg's tester: a hard-linked fbdev2_drv.so, with
    # no fbdev2ModuleData, became a package with no warning).
    shutil.copy(prefix / "lib/libdemo-util.so.1", prefix / "lib/demo/ui/curses.so")
    inventory = scan(prefix.parent, "/usr", cache=False)
    warnings = make_plan(inventory, load_layout(tmp_path / "layout.toml"), unclaimed="core").warnings
    assert [w for w in warnings if "does not define" in w] == [
        "usr/lib/demo/ui/curses.so: module does not define demo_module_init, which the loader looks up; "
        "the loader refuses it (if it is no module: skip-names)"
    ]
    # A type's own entry that none of its modules defines, beside a right [loader] one (a
    # GKrellM tester's `gkrellm_init_plugn`: 13 warnings, exit 0).
    shutil.copy(prefix / "lib/demo/ui/gtk.so", prefix / "lib/demo/ui/curses.so")
    loader(
        tmp_path,
        text.replace(
            'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "demo_module_init"'
        )
        + '[loader.by-type.ui]\nentry = "demo_ui_typo"\n',
    )
    with pytest.raises(PlanError) as e:
        make_plan(
            scan(prefix.parent, "/usr", cache=False), load_layout(tmp_path / "layout.toml"), unclaimed="core"
        )
    assert [p for p in e.value.problems if "entry" in p] == [
        "no module of the build defines the entry symbol the loader looks up (usr/lib/demo/ui/curses.so, "
        "usr/lib/demo/ui/gtk.so and 1 more): is [loader.by-type.ui] entry mistyped?"
    ]
    # check too, though the other types' modules load (an LMMS tester: exit 1 where plan stopped).
    with pytest.raises(CheckError, match=r"ui/curses.so, .* is \[loader.by-type.ui\] entry mistyped"):
        check(prefix, load_layout(tmp_path / "layout.toml").loader)
    shutil.copy(prefix / "lib/libdemo-util.so.1", prefix / "lib/demo/ui/curses.so")
    inventory = scan(prefix.parent, "/usr", cache=False)
    # ... said when the plan fails too, where it may be the cause (a Guile tester's plan said
    # only a package cycle through the library a link taken for a module led to).
    loader(
        tmp_path,
        text.replace(
            'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "demo_module_init"'
        )
        + '[modules.dependencies]\n"ui-gtk" = ["ui-gone"]\n',
    )
    with pytest.raises(PlanError) as e:
        make_plan(inventory, load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert [w for w in e.value.warnings if "does not define" in w] == [
        "usr/lib/demo/ui/curses.so: module does not define demo_module_init, which the loader looks up; "
        "the loader refuses it (if it is no module: skip-names)"
    ]
    with pytest.raises(LayoutError, match=r"entry: must be a C symbol name"):
        loader(
            tmp_path,
            text.replace(
                'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "a b"'
            ),
        )


def test_an_entry_with_the_name_upper_cased(prefix: Path, tmp_path: Path) -> None:
    """ImageMagick calls Register<NAME>Image, the module's name upper-cased (RegisterJPEGImage
    in coders/jpeg.so): `{NAME}`. With `{name}` every coder was refused."""
    import subprocess

    src = tmp_path / "x.c"
    src.write_text("int RegisterXImage(void) { return 0; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(prefix / "lib/demo/ui/x.so"), str(src)], check=True)
    text = (
        HEAD.replace('[loader.stamp]\nsymbol = "demo_stamp_*"\n', "")
        + '[[loader.search]]\nrelocated = "lib/demo"\n'
    )
    ld = loader(
        tmp_path,
        text.replace(
            'types = ["ui", "block", "audio"]',
            'types = ["ui", "block", "audio"]\nentry = "Register{NAME}Image"',
        ),
    )
    rows = {m.module: [p.kind for p in m.problems] for m in check(prefix, ld).modules}
    assert rows["ui-x"] == [] and rows["ui-curses"] == ["no-entry"]


def test_entry_alternatives_and_a_types_own_entry(prefix: Path, tmp_path: Path) -> None:
    """SASL calls whichever of its plug_init functions a plugin defines, PAM one of six
    pam_sm_* functions: `entry` lists alternatives, one is enough. ALSA's open function is
    named per type (`_snd_pcm_{name}_open`, `_snd_pcm_rate_{name}_open`): `[loader.by-type.T]
    entry` is that type's own. The demo's modules define demo_module_init only."""
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    types = 'types = ["ui", "block", "audio"]'
    either = loader(
        tmp_path, text.replace(types, f'{types}\nentry = ["demo_{{name}}_open", "demo_module_init"]')
    )
    assert check(prefix, either).ok
    # The ui type's alternatives, neither of which its modules define (had every module lacked
    # it, check would stop: the entry mistyped).
    neither = loader(
        tmp_path,
        text.replace(types, f'{types}\nentry = "demo_module_init"')
        + '[loader.by-type.ui]\nentry = ["demo_{name}_open", "demo_{type}_init"]\n',
    )
    with _alone(prefix / "lib/demo/ui", "curses.so"):
        rows = {m.module: m for m in check(prefix, neither).modules}
    assert (
        rows["ui-curses"]
        .problems[0]
        .detail.endswith(
            "does not define any of demo_curses_open, demo_ui_init, which the loader looks up: it is refused"
        )
    )
    own = loader(
        tmp_path,
        text.replace(types, f'{types}\nentry = "demo_module_init"')
        + '[loader.by-type.block]\nentry = "demo_block_{name}_open"\n',
    )
    with _alone(prefix / "lib/demo/block", "nfs.so"):
        bad = {m.module for m in check(prefix, own).modules if any(p.kind == "no-entry" for p in m.problems)}
    assert bad == {"block-nfs"}  # the block type's own entry, which it lacks
    with pytest.raises(CheckError, match=r"is \[loader.by-type.block\] entry mistyped"):
        check(prefix, own)  # both of the type lack it: the key is mistyped
    with pytest.raises(LayoutError, match=r"loader\.by-type\.block\.entry\[1\]: must be a C symbol name"):
        loader(tmp_path, text + '[loader.by-type.block]\nentry = ["ok", "not ok"]\n')


@contextlib.contextmanager
def _alone(directory: Path, keep: str) -> Iterator[None]:
    """`directory` holding only `keep` of its `.so` files while the block runs."""
    aside = directory.parent.parent / f".{directory.name}-aside"  # out of the search location
    aside.mkdir()
    moved = [p for p in directory.glob("*.so") if p.name != keep]
    for p in moved:
        p.rename(aside / p.name)
    try:
        yield
    finally:
        for p in moved:
            (aside / p.name).rename(p)
        aside.rmdir()


def _runner_layout(tmp_path: Path, suffix: str, runner: str) -> Layout:
    """The demo's layout (tmp_path/layout.toml) with modules also named `{type}/{name}.SUFFIX`,
    which `runner` runs ("": the program reads them itself), one package each."""
    text = HEAD.replace(
        'naming = "{type}/{name}.so"', f'naming = ["{{type}}/{{name}}.so", "{{type}}/{{name}}.{suffix}"]'
    )
    text += f'[loader.runners]\n"*.{suffix}" = "{runner}"\n[[loader.search]]\nrelocated = "lib/demo"\n'
    loader(tmp_path, text + '[per-module]\nname = "p-{module}"\n')
    return load_layout(tmp_path / "layout.toml")


def test_modules_another_module_runs(prefix: Path, tmp_path: Path) -> None:
    """A ZNC tester: pyeval.py and perleval.pm are modules ZNC looks up by name in its own
    module directories and hands to modpython.so and modperl.so. Named as modules, each was
    "not an ELF file" in plan, check, install and list, even with its runner declared a
    dependency. `[loader.runners]` says which module runs which files: such a file is read as no
    ELF file, and its module needs its runner (the plan's package requirement included)."""
    ui = prefix / "lib/demo/ui"
    (ui / "eval.py").write_text("print('run by ui-curses')\n")
    layout = _runner_layout(tmp_path, "py", "ui-curses")
    assert layout.loader.runner_of("lib/demo/ui/eval.py") == "ui-curses"
    plan = make_plan(scan(prefix.parent), layout)
    assert not [w for w in plan.warnings if "ELF" in w], plan.warnings
    assert "p-ui-curses" in plan.package("p-ui-eval").requires
    # A glob taking ELF modules is said (a ZNC re-tester's "*.so" = "modpython").
    (tmp_path / "elf.toml").write_text(
        (tmp_path / "layout.toml").read_text().replace('"*.py" = "ui-curses"', '"*.so" = "ui-curses"')
    )
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "elf.toml"))
    assert [w for w in plan.warnings if "runners" in w][:1] == [
        "usr/lib/demo/audio/alsa.so: an ELF module, but [loader] runners has 'ui-curses' run it; each "
        "such module then needs that one"
    ]
    rows = {m.module: m for m in check(prefix, layout.loader).modules}
    assert rows["ui-eval"].loads and rows["ui-eval"].problems == ()
    assert {m.module: m.loads for m in check_modules(prefix, layout.loader, ["ui-eval"]).modules} == {
        "ui-eval": True,
        "ui-curses": True,
    }
    (ui / "curses.so").unlink()  # its runner gone: it cannot run
    row = next(m for m in check(prefix, layout.loader).modules if m.module == "ui-eval")
    assert [(p.kind, p.detail) for p in row.problems] == [
        ("dependency", "needs module 'ui-curses', which is not installed")
    ]
    # A runner its own glob names runs nothing (a Gnumeric tester's "*.py" = "py-func").
    (ui / "pyrun.py").write_text("print('a script')\n")
    (tmp_path / "self.toml").write_text(
        (tmp_path / "layout.toml").read_text().replace('"*.py" = "ui-curses"', '"*.py" = "ui-pyrun"')
    )
    with pytest.raises(PlanError) as err:
        make_plan(scan(prefix.parent), load_layout(tmp_path / "self.toml"))
    assert err.value.problems == [
        "loader.runners: '*.py' names module 'ui-pyrun' as the runner of its own file "
        "usr/lib/demo/ui/pyrun.py: a runner is a module of its own code that runs the others"
    ]
    # A runner the build lacks: one line, naming the key (a GNOME Shell re-tester's "gjs": one
    # line per extension, none naming it).
    (ui / "other.py").write_text("print('run by ui-curses')\n")
    (tmp_path / "none.toml").write_text(
        (tmp_path / "layout.toml").read_text().replace('"*.py" = "ui-curses"', '"*.py" = "ui-gjs"')
    )
    with pytest.raises(PlanError) as err:
        make_plan(scan(prefix.parent), load_layout(tmp_path / "none.toml"))
    assert [p for p in err.value.problems if "ui-gjs" in p] == [
        "[loader] runners names module 'ui-gjs' as the runner of ui-eval, ui-other, ui-pyrun, and it is not "
        'in this build: they would never load ("" says the program itself reads their files)'
    ]
    # A glob with a directory, or a runner no type names: one line each.
    bad = HEAD + '[loader.runners]\n"x/*.py" = "ui-curses"\n"*.pm" = "perl-mod"\n'
    with pytest.raises(LayoutError) as e:
        loader(tmp_path, bad + '[[loader.search]]\nrelocated = "lib/demo"\n')
    assert [p.split(": ", 1)[1] for p in e.value.problems] == [
        "loader.runners.x/*.py: must be a glob of file names (no '/'): the module files that module runs",
        "loader.runners.*.pm: unknown module 'perl-mod': its type is not one of loader.types "
        "(ui, block, audio)",
    ]


def test_modules_the_program_itself_reads(prefix: Path, tmp_path: Path) -> None:
    """Knot Resolver's Lua modules (kresd runs them itself) and GNOME Shell's extensions (its
    metadata.json and JavaScript): every one was "unreadable: not an ELF file", in plan and
    check, "8 of 33 modules load", with no runner module to name. `runners` maps their files to
    "": present is loaded (not read), and no module is needed for them."""
    ui = prefix / "lib/demo/ui"
    (ui / "script.lua").write_text("return {}\n")
    layout = _runner_layout(tmp_path, "lua", "")
    assert layout.loader.runner_of("lib/demo/ui/script.lua") == ""
    plan = make_plan(scan(prefix.parent), layout)
    assert not [w for w in plan.warnings if "ELF" in w], plan.warnings
    assert plan.package("p-ui-script").requires == plan.package("p-ui-curses").requires
    report = check(prefix, layout.loader)
    rows = {m.module: m for m in report.modules}
    assert rows["ui-script"].loads and rows["ui-script"].problems == () and report.ok
    # One no user may read fails as a module file does (a GNOME Shell re-tester's metadata.json).
    (ui / "script.lua").chmod(0o000)
    row = next(m for m in check(prefix, layout.loader).modules if m.module == "ui-script")
    assert [p.detail.rpartition(": ")[2] for p in row.problems] == ["only root can read it"], row.problems
    # Empty, it holds nothing to read (a Tesseract tester's eng.traineddata of 0 bytes: "Failed
    # loading language"; check said it loads).
    (ui / "script.lua").chmod(0o644)
    (ui / "script.lua").write_text("")
    row = next(m for m in check(prefix, layout.loader).modules if m.module == "ui-script")
    assert [p.detail for p in row.problems] == [f"{ui}/script.lua: an empty file: the program reads nothing"]
    # Gone, it is not there to read: a dangling link is still one.
    (ui / "script.lua").unlink()
    (ui / "script.lua").symlink_to("nowhere.lua")
    row = next(m for m in check(prefix, layout.loader).modules if m.module == "ui-script")
    assert [p.kind for p in row.problems] == ["unreadable"]
    # A glob taking ELF modules is said.
    (tmp_path / "elf.toml").write_text((tmp_path / "layout.toml").read_text().replace('"*.lua"', '"*.so"'))
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "elf.toml"))
    assert [w for w in plan.warnings if "runners" in w][:1] == [
        "usr/lib/demo/audio/alsa.so: an ELF module, but [loader] runners has the program itself read it "
        '(""): no ELF module is judged so'
    ]


@pytest.mark.parametrize(
    ("suffix", "good", "bad", "why"),
    [
        (
            "xml",
            '<?xml version="1.0"?>\n<component>\n  <exec>/usr/libexec/e</exec>\n</component>\n',
            '<?xml version="1.0"?>\n<component>\n  <exec>/usr/lib',
            "not well-formed XML (line 3, column ",
        ),
        (
            "json",
            '{"uuid": "x@y", "shell-version": ["44"]}\n',
            '{"uuid": "x@y",\n "shell-version": [44,}\n',
            "not JSON",
        ),
        # XML by its declaration, whatever its name (an Inkscape tester's `.inx`).
        (
            "inx",
            '<?xml version="1.0" encoding="UTF-8"?>\n<inkscape-extension><id>x</id></inkscape-extension>\n',
            '<?xml version="1.0" encoding="UTF-8"?>\n<inkscape-extension><id>x</id>\n',
            "not well-formed XML (line 3, column ",
        ),
        # JSON, but no object of keys (a Cockpit tester's `[1,2,3]` manifest.json: the bridge
        # says "Not a JSON object" and skips it; check said it loads).
        ("json", '{"name": "x"}\n', "[1, 2, 3]\n", "not a JSON object (the document is an array)"),
        ("json", '{"name": "x"}\n', "null\n", "not a JSON object (the document is null)"),
        # Another file the program reads is not parsed, whatever it holds.
        ("lua", "return {}\n", "return {\n", None),
    ],
)
def test_a_descriptor_the_program_cannot_parse_is_unreadable(
    prefix: Path, tmp_path: Path, suffix: str, good: str, bad: str, why: str | None
) -> None:
    """An IBus tester's component XML cut short: IBus logs "Parse .../libpinyin.xml failed:
    Document ended unexpectedly" and leaves the engine out, where check said it loads. A
    descriptor the program reads itself (runner ""), named `.xml` or `.json`, is parsed for its
    syntax (GNOME Shell's metadata.json alike); any other file the program reads is not."""
    ui = prefix / "lib/demo/ui"
    (ui / f"engine.{suffix}").write_text(good)
    layout = _runner_layout(tmp_path, suffix, "")
    row = next(m for m in check(prefix, layout.loader).modules if m.module == "ui-engine")
    assert row.loads and row.problems == (), row.problems
    (ui / f"engine.{suffix}").write_text(bad)
    row = next(m for m in check(prefix, layout.loader).modules if m.module == "ui-engine")
    if why is None:
        assert row.loads, row.problems
        return
    assert not row.loads
    assert [p.kind for p in row.problems] == ["unreadable"]
    assert row.problems[0].detail.startswith(f"{ui}/engine.{suffix}: {why}"), row.problems
    assert row.problems[0].detail.endswith(": the program cannot read it")


def test_a_fifo_named_as_a_descriptor_is_unreadable_and_never_opened(prefix: Path, tmp_path: Path) -> None:
    """A Cockpit tester's FIFO named manifest.json hung `check` for ever (its read waited for a
    writer; the bridge hangs on it as well). It is judged from its type, never read: run in a
    child with a time limit, so that a hang fails the test rather than stopping the run."""
    (prefix / "lib/demo/ui").joinpath("engine.json").unlink(missing_ok=True)
    os.mkfifo(prefix / "lib/demo/ui/engine.json")
    _runner_layout(tmp_path, "json", "")
    code = (
        "import sys\nfrom qpack.check import check\nfrom qpack.layout import load_layout\n"
        f"layout = load_layout({str(tmp_path / 'layout.toml')!r})\n"
        f"rows = [m for m in check({str(prefix)!r}, layout.loader).modules if m.module == 'ui-engine']\n"
        "print(rows[0].problems[0].kind, rows[0].problems[0].detail)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(
        f"unreadable {prefix}/lib/demo/ui/engine.json: not a regular file (a FIFO, socket or device)"
    ), r.stdout


def test_a_modules_own_file_missing_from_the_prefix_is_said(prefix: Path, tmp_path: Path) -> None:
    """An IBus tester removed an engine program, an Inkscape tester an extension's script: each
    module's own file ([modules.files]); check said "yes" and nothing else, where the program
    cannot run the module. A note names them (not a problem: documentation may be left out);
    globs and `{package}` name no one file, and are not looked for."""
    share = prefix / "share/demo"
    share.mkdir(parents=True, exist_ok=True)
    (share / "curses.engine").write_text("#!/bin/sh\n")
    files = (
        '[modules.files]\n"ui-*" = ["{prefix}/share/demo/{name}.engine", "{prefix}/share/doc/{name}/*", '
        '"{prefix}/share/{package}.txt", "{prefix}/share/demo/{name}.alt"]\n'
    )
    # One of a module's own files there is enough: a layout may list alternative places (a
    # sweep's Vamp layout: a .cat or a .n3, beside either of two plug-in directories).
    (share / "opengl.alt").write_text("x\n")
    ld = loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n' + files)
    assert ld.own_file_paths("ui-curses", str(prefix)) == (
        f"{prefix}/share/demo/curses.engine",
        f"{prefix}/share/demo/curses.alt",
    )
    report = check(prefix, ld)
    assert [w for w in report.warnings if "own file" in w] == [
        f"module ui-gtk: its own file(s) {prefix}/share/demo/gtk.engine, {prefix}/share/demo/gtk.alt "
        "([modules.files]) not in the prefix: it may not work without them"
    ]
    assert report.ok


def test_a_descriptor_below_where_a_registering_loader_reads_is_misplaced(
    prefix: Path, tmp_path: Path
) -> None:
    """A re-tester moved an IBus component into component/sub/, which IBus never reads: a note
    only, exit 0, where an ELF plug-in moved so fails the check. A file the program reads itself
    (runner "") is a module file as well."""
    text = """
    [loader]
    prefix = "/usr"
    executables = ["{prefix}/bin/demo"]
    naming = "{name}.xml"
    resolution = "register-all"
    runners = { "*.xml" = "" }
    [[loader.search]]
    relocated = "share/components"
    """
    comp = prefix / "share/components"
    (comp / "sub").mkdir(parents=True)
    (comp / "simple.xml").write_text("<component/>\n")
    (comp / "sub/m17n.xml").write_text("<component/>\n")
    report = check(prefix, loader(tmp_path, text))
    assert [(m.module, m.loads, [p.kind for p in m.problems]) for m in report.modules] == [
        ("m17n", False, ["never-looked-up"]),
        ("simple", True, []),
    ]
    assert not report.ok


def _components_layout(prefix: Path, own_files: str, depth: int = 0) -> str:
    """A layout of components read as data (`{name}.xml`, runners "") in share/components,
    registered all, the prefix the one checked, with `own_files` as its [modules.files]."""
    return (
        f'[loader]\nprefix = "{prefix}"\nexecutables = ["{{prefix}}/bin/demo"]\nnaming = "{{name}}.xml"\n'
        f'resolution = "register-all"\ndepth = {depth}\nrunners = {{ "*.xml" = "" }}\n'
        '[[loader.search]]\nrelocated = "share/components"\n[modules.files]\n' + own_files
    )


def test_a_descriptor_naming_its_program_gone_is_missing_helper(prefix: Path, tmp_path: Path) -> None:
    """An IBus tester's component whose engine program was gone, an auditd tester's plug-in
    conf whose program was, an Inkscape tester's extension without its script: each "yes". A
    descriptor (a file the program reads itself) naming one of its own files ([modules.files])
    by the layout's absolute path, or by file name, that is not there is `missing-helper`; one
    it does not name (its documentation) is nothing to say."""
    comp, libexec = prefix / "share/components", prefix / "libexec"
    comp.mkdir(parents=True)
    libexec.mkdir(exist_ok=True)
    (comp / "simple.xml").write_text(
        f"<component><exec>{prefix}/libexec/engine-simple --ibus</exec></component>\n"
    )
    (comp / "script.xml").write_text("<component><command>script-run.py</command></component>\n")
    (comp / "docs.xml").write_text("<component/>\n")
    (libexec / "engine-simple").write_text("#!/bin/sh\n")
    (comp / "script-run.py").write_text("print()\n")
    text = _components_layout(
        prefix,
        '"simple" = ["{prefix}/libexec/engine-{name}"]\n'
        '"script" = ["{prefix}/share/components/{name}-run.py"]\n'
        '"docs" = ["{prefix}/share/doc/{name}.txt"]\n',
    )
    ld = loader(tmp_path, text)
    report = check(prefix, ld)
    assert [(m.module, m.loads) for m in report.modules] == [
        ("docs", True),
        ("script", True),
        ("simple", True),
    ]
    # One the descriptor does not name is no sign (an Inkscape sweep: a layout's `{name}.py` for
    # every extension, which 34 of them do not run, made 34 notes on a clean tree).
    assert not [w for w in report.warnings if "own file" in w], report.warnings
    (libexec / "engine-simple").unlink()
    (comp / "script-run.py").unlink()
    report = check(prefix, ld)
    assert [(m.module, [p.detail for p in m.problems]) for m in report.modules if not m.loads] == [
        (
            "script",
            [
                f"{comp}/script.xml: names script-run.py, one of its own files ({comp}/script-run.py), which "
                "is not there: the program cannot run it"
            ],
        ),
        (
            "simple",
            [
                f"{comp}/simple.xml: names {prefix}/libexec/engine-simple, one of its own files, which is "
                "not there: the program cannot run it"
            ],
        ),
    ]
    assert not [w for w in report.warnings if "own file" in w and "docs" not in w]
    # Installed elsewhere (a venv), the descriptor still names the layout's prefix: the system's
    # copy runs, or none (an IBus re-tester: "7 of 7 will load", the engines all missing).
    venv = tmp_path / "venv"
    shutil.copytree(prefix, venv / "usr", symlinks=True)
    (venv / "usr/libexec/engine-simple").write_text("#!/bin/sh\n")
    (venv / "usr/share/components/script-run.py").write_text("print()\n")
    report = check(venv / "usr", ld)
    assert [(m.module, m.loads) for m in report.modules] == [
        ("docs", True),
        ("script", True),
        ("simple", False),
    ]
    (detail,) = [p.detail for m in report.modules for p in m.problems]
    assert detail.endswith(
        f"names {prefix}/libexec/engine-simple, one of its own files, which is not there (the prefix's copy, "
        f"{venv}/usr/libexec/engine-simple, is not the one named): the program cannot run it"
    )


def test_a_descriptor_names_its_files_by_whole_name_outside_comments(prefix: Path, tmp_path: Path) -> None:
    """A re-tester's false failures of the rule above: a longer name (`/sbin/audisp-syslog2`
    for a gone /sbin/audisp-syslog), a file name inside another path (`/usr/libexec/ibus-
    setup-hangul` for a gone /usr/bin link of that name), a comment (`#path = ...`, `<!-- -->`),
    and an Inkscape script beside its `.inx`, where the layout's glob put it elsewhere: none is
    a program gone."""
    comp = prefix / "share/components"
    (comp / "sub").mkdir(parents=True)
    (prefix / "libexec").mkdir(exist_ok=True)
    (prefix / "libexec/engine-simple2").write_text("#!/bin/sh\n")
    (prefix / "libexec/tool-simple").write_text("#!/bin/sh\n")
    (comp / "simple.xml").write_text(
        f"<component><exec>{prefix}/libexec/engine-simple2 --ibus</exec>\n"
        f"<!-- <exec>{prefix}/libexec/engine-simple</exec> -->\n"
        f"#path = {prefix}/libexec/engine-simple\n"
        f"<setup>{prefix}/libexec/tool-simple</setup></component>\n"
    )
    (comp / "sub/script.xml").write_text("<component><command>script-run.py</command></component>\n")
    (comp / "sub/script-run.py").write_text("print()\n")
    text = _components_layout(
        prefix,
        '"simple" = ["{prefix}/libexec/engine-{name}", "{prefix}/bin/tool-{name}"]\n'
        '"script" = ["{prefix}/share/scripts/{name}-run.py"]\n',
        depth=1,
    )
    report = check(prefix, loader(tmp_path, text))
    assert [(m.module, m.loads, m.problems) for m in report.modules] == [
        ("script", True, ()),
        ("simple", True, ()),
    ]
    # Named plainly and gone, it is (the control).
    (comp / "sub/script-run.py").unlink()
    report = check(prefix, loader(tmp_path, text))
    assert [(m.module, [p.kind for p in m.problems]) for m in report.modules if not m.loads] == [
        ("script", ["missing-helper"])
    ]


def test_a_library_the_layout_names_among_register_loadable_modules_is_no_module(
    prefix: Path, tmp_path: Path
) -> None:
    """A Mumble tester's clean install failed: libmumble.so, the overlay library beside the
    plug-ins, which Mumble opens, finds no entry in and unloads silently, was `no-entry`, exit 1,
    though the layout gives it to the core by name. Under `register-loadable`, such a file is
    that package's, no module; one the layout does not name is still `no-entry` (a plug-in
    built without its entry looks the same)."""
    build_extra_library(prefix / "lib/demo/ui", "helper.so")  # no entry
    text = HEAD.replace(
        "[loader.stamp]", 'entry = "demo_module_init"\nresolution = "register-loadable"\n[loader.stamp]'
    )
    text += '[[loader.search]]\nrelocated = "lib/demo"\n'
    report = check(prefix, loader(tmp_path, text))
    assert [(m.module, [p.kind for p in m.problems]) for m in report.modules if not m.loads] == [
        ("ui-helper", ["no-entry", "other-build"])
    ]
    named = text + '[[package]]\nname = "helpers"\nfiles = ["{prefix}/lib/demo/ui/helper.so"]\n'
    report = check(prefix, loader(tmp_path, named))
    assert report.ok and "ui-helper" not in {m.module for m in report.modules}, report.modules


def test_the_programs_own_library_in_a_search_location_is_no_stray(prefix: Path, tmp_path: Path) -> None:
    """A darktable tester: libdarktable.so, which every program and plug-in links, sits in the
    one search location above the plug-in directories the loader scans; check called it a
    module `never-looked-up` and failed every correct install, and the plan warned of it."""
    moddir = prefix / "lib/demo"
    (prefix / "lib/libdemo-util.so.1").rename(moddir / "libdemo-util.so")
    (moddir / "libdemo-util.so.1").symlink_to("libdemo-util.so")  # the name the program needs
    text = HEAD.replace('naming = "{type}/{name}.so"\n', "")
    text += "".join(f'[loader.by-type.{t}]\nnaming = "{t}/{{name}}.so"\n' for t in ("ui", "block", "audio"))
    loaded = loader(
        tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n[per-module]\nname = "p-{module}"\n'
    )
    report = check(prefix, loaded, env={"LD_LIBRARY_PATH": str(moddir)})
    assert [m.module for m in report.modules if m.problems] == []
    assert report.ok
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if "libdemo-util" in w], plan.warnings
    # Another link to it, by a name nothing loads it by, is a stray all the same (an SSSD
    # re-tester's libsss_alias.so -> libsss_util.so).
    (moddir / "libalias.so").symlink_to("libdemo-util.so")
    report = check(prefix, loaded, env={"LD_LIBRARY_PATH": str(moddir)})
    assert [(m.module, m.problems[0].kind) for m in report.modules if m.problems] == [
        ("libalias", "never-looked-up")
    ]
    (moddir / "libalias.so").unlink()
    # One only a module links (an SSSD tester's libsss_ldap_common.so, which the ldap, ad and
    # ipa providers link through their RUNPATH) is no stray either.
    common = build_extra_library(moddir, "libmods-common.so")
    build_extra_module(moddir, type="block", name="ldap", stamp=STAMP, needed=[common], runpath="$ORIGIN/..")
    report = check(prefix, loaded, env={"LD_LIBRARY_PATH": str(moddir)})
    assert [m.module for m in report.modules if m.problems] == [], report.modules
    assert "block-ldap" in {m.module for m in report.modules}
    common.unlink()
    (moddir / "block/ldap.so").unlink()
    # A library nothing links there is still a file the loader never looks up.
    (moddir / "libdemo-util.so.1").unlink()
    (moddir / "libdemo-util.so").rename(prefix / "lib/libdemo-util.so.1")
    shutil.copy(prefix / "lib/libdemo-util.so.1", moddir / "libother.so")
    report = check(prefix, loaded)
    assert [(m.module, m.problems[0].kind) for m in report.modules if m.problems] == [
        ("libother", "never-looked-up")
    ]


def test_a_library_defining_no_entry_in_a_search_location_is_no_stray(prefix: Path, tmp_path: Path) -> None:
    """A NetworkManager tester: the split's core holds libnm-wwan.so, in the plug-in directory,
    which only the wwan and bluetooth plug-ins link; with neither installed, check called it
    `never-looked-up` and failed the correct install of the core and one plug-in. Where every
    type of module has an entry symbol, a file defining none is no module under any name."""
    moddir = prefix / "lib/demo"
    shutil.copy(prefix / "lib/libdemo-util.so.1", moddir / "libshared.so")  # nothing links it
    shutil.copy(moddir / "ui/curses.so", moddir / "libmisnamed.so")  # a module, by its symbols
    text = HEAD.replace('naming = "{type}/{name}.so"\n', "")
    text += "".join(f'[loader.by-type.{t}]\nnaming = "{t}/{{name}}.so"\n' for t in ("ui", "block", "audio"))
    text += '[[loader.search]]\nrelocated = "lib/demo"\n'

    def strays(extra: str) -> list[tuple[str, str]]:
        ld = loader(
            tmp_path,
            text.replace('types = ["ui", "block", "audio"]\n', 'types = ["ui", "block", "audio"]\n' + extra),
        )
        return [(m.module, m.problems[0].kind) for m in check(prefix, ld).modules if m.stray]

    assert 'types = ["ui", "block", "audio"]\n' in text
    # Without an entry symbol, any ELF file there may be a module misnamed.
    assert strays("") == [("libmisnamed", "never-looked-up"), ("libshared", "never-looked-up")]
    # With one, only the file defining it is (a fixed name). A template with {name} that the
    # demo's modules lack (demo_curses_init), all of them, is the layout's mistake: check stops.
    assert strays('entry = "demo_module_init"\n') == [("libmisnamed", "never-looked-up")]
    with pytest.raises(CheckError, match="mistyped"):
        strays('entry = "demo_{name}_init"\n')
    # Only one type with an entry: a file defining none may be a module of another type.
    only_ui = text.replace(
        'naming = "ui/{name}.so"\n', 'naming = "ui/{name}.so"\nentry = "demo_module_init"\n'
    )
    assert only_ui != text
    rows = check(prefix, loader(tmp_path, only_ui)).modules
    assert [(m.module, m.problems[0].kind) for m in rows if m.problems] == [
        ("libmisnamed", "never-looked-up"),
        ("libshared", "never-looked-up"),
    ]
    # Every type with an entry but one whose files a runner runs (a Gnumeric tester's Python
    # plug-ins, scripts, have no ELF entry): Debian's own install failed on xlcall32.so.
    typed = "".join(
        f'[loader.by-type.{t}]\nnaming = "{t}/{{name}}.so"\nentry = "demo_module_init"\n'
        for t in ("ui", "block", "audio")
    )
    scripts = text.replace(
        "".join(f'[loader.by-type.{t}]\nnaming = "{t}/{{name}}.so"\n' for t in ("ui", "block", "audio")),
        typed + '[loader.by-type.py]\nnaming = "py/{name}.py"\n',
    ).replace(
        'types = ["ui", "block", "audio"]\n',
        'types = ["ui", "block", "audio", "py"]\nrunners = { "*.py" = "ui-curses" }\n',
    )
    assert scripts.count("entry =") == 3 and "runners" in scripts
    rows = check(prefix, loader(tmp_path, scripts)).modules
    assert [(m.module, m.problems[0].kind) for m in rows if m.problems] == [
        ("libmisnamed", "never-looked-up")
    ]


def test_a_check_whose_every_location_needs_a_value_not_given_cannot_check(
    prefix: Path, tmp_path: Path
) -> None:
    """A libproxy tester's only location was its versioned directory, written with
    {pkgversion}: without --pkgversion check said "0 of 0 modules load" and exited 0 for a tree
    holding four plug-ins. With nothing searched, it cannot check: it says why."""
    only = loader(tmp_path, HEAD + '[[loader.search]]\nabsolute = "' + str(prefix) + '/lib/{pkgversion}"\n')
    with pytest.raises(
        CheckError,
        match=r"no directory the loader searches can be named: .*/lib/\{pkgversion\} \(give --pkgversion\)",
    ):
        check(prefix, only)
    (prefix / "lib/1.0").symlink_to("demo")
    assert {m.module for m in check(prefix, only, pkgversion="1.0").modules} >= {"ui-curses", "block-curl"}


def test_per_user_locations_are_no_directories_of_the_build(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A HexChat tester's `absolute = "{xdg_config_home}/hexchat/addons"` (plug-ins a user
    adds) made scan, plan, split, install, list and uninstall end in a traceback: the
    placeholder went into the build's module-directory globs, where `{...}` reads as a glob's
    alternatives. A build holds no user's directory: the plan is the one without it."""
    from qpack.cli import main

    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = '[[loader.search]]\nrelocated = "lib/demo"\n'
    assert old in text
    layout = tmp_path / "user.toml"
    extra = "".join(
        f'[[loader.search]]\nabsolute = "{where}/demo/plugins"\noptional = true\n'
        for where in ("{xdg_config_home}", "{home}/.demo", "{xdg_data_home}")
    )
    layout.write_text(text.replace(old, extra + old))
    plain = make_plan(scan(demo_build), load_layout("demo"))
    with_user = make_plan(scan(demo_build), load_layout(layout))
    assert [(c.path, c.package) for c in with_user.claims] == [(c.path, c.package) for c in plain.claims]
    dist, prefix = tmp_path / "dist", tmp_path / "p"
    args = ["-l", str(layout)]
    assert (
        main(["split", str(demo_build), *args, "--version", "1.0", "--format", "wheel", "-o", str(dist)]) == 0
    )
    assert main(["install", str(dist), *args, "--prefix", str(prefix), "ui-curses"]) == 0
    assert main(["list", "--prefix", str(prefix), *args]) == 0
    assert main(["check", str(prefix), *args, "--env", f"HOME={tmp_path / 'home'}"]) == 0
    assert main(["uninstall", "--prefix", str(prefix), *args, "ui-curses"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_search_directory_inside_another_finds_its_own_modules() -> None:
    """A CPython tester's sys.path: lib/python3.11, then lib/python3.11/lib-dynload. Each file of
    lib-dynload was taken for a file of the first directory, one level deeper than it looks:
    all 46 extension modules went to the core, and plan said there was no module at all."""
    from qpack.loader import Naming, SearchLocation

    ld = Loader(
        prefix="/usr",
        executables=("{prefix}/bin/py",),
        search=(SearchLocation("relocated", "lib/py"), SearchLocation("relocated", "lib/py/dyn")),
        naming=Naming("{name}.so"),
    )
    found = ld.find_modules(["usr/lib/py/a.so", "usr/lib/py/dyn/b.so", "usr/lib/py/dyn/sub/c.so"])
    assert sorted((m.id, m.path) for m in found.modules) == [
        ("a", "usr/lib/py/a.so"),
        ("b", "usr/lib/py/dyn/b.so"),
    ]
    assert found.never_looked_up == (
        "usr/lib/py/dyn/sub/c.so: in a module directory, but deeper than the loader looks (it reads "
        "only the files directly in the location; modules are named '{name}.so')",
    )


def test_a_module_taken_from_elsewhere_names_a_few_of_many_programs(prefix: Path, tmp_path: Path) -> None:
    """An Open MPI tester's check of a venv: 34 programs link the loader library, and each of
    seven warnings ("the copy installed is not the one loaded") listed all of them."""
    for i in range(5):
        shutil.copy2(prefix / "bin/demo", prefix / f"bin/demo-{i}")
    other = tmp_path / "other"
    (other / "ui").mkdir(parents=True)
    shutil.copy2(prefix / "lib/demo/ui/curses.so", other / "ui/curses.so")
    text = HEAD.replace('"{prefix}/bin/demo"', '"{prefix}/bin/demo*"')
    text += '[[loader.search]]\nenv = "DEMO_MODULE_DIR"\n[[loader.search]]\nrelocated = "lib/demo"\n'
    report = check(prefix, loader(tmp_path, text), env={"DEMO_MODULE_DIR": str(other)})
    mine = {"ui-curses": (f"{prefix}/lib/demo/ui/curses.so", "demo-ui-curses 1.0")}
    more = len(report.executables) - 3
    assert more >= 3, report.executables
    assert taken_elsewhere(report, mine) == [
        f"ui-curses: installed as {prefix}/lib/demo/ui/curses.so by demo-ui-curses 1.0, but "
        f"{prefix}/bin/demo, {prefix}/bin/demo-0, {prefix}/bin/demo-1 and {more} more programs take "
        f"{other}/ui/curses.so first: the copy installed is not the one loaded"
    ]
    # Four are named as they are.
    for exe in report.executables[4:]:
        Path(exe).unlink()
    report = check(prefix, loader(tmp_path, text), env={"DEMO_MODULE_DIR": str(other)})
    assert len(report.executables) == 4
    assert f"{', '.join(report.executables)} take {other}" in taken_elsewhere(report, mine)[0]


def test_an_entry_looked_up_again_under_a_links_target_name(prefix: Path, tmp_path: Path) -> None:
    """A uWSGI tester: `--plugin python3` opens python3_plugin.so, Debian's alternatives link to
    python311_plugin.so, finds no `python3_plugin` there and looks up `python311_plugin`, the
    name of the file the link leads to (core/plugins.c). check called the link `no-entry` and
    failed Debian's own install. `entry-through-links` says the loader does so; without it, and
    for a copy rather than a link, the entry is the link's own name's."""
    plugins = prefix / "lib/plugins"
    plugins.mkdir()
    (tmp_path / "p.c").write_text("int py311_plugin = 1;\n")
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-o", str(plugins / "py311_plugin.so"), str(tmp_path / "p.c")], check=True
    )
    (plugins / "py3_plugin.so").symlink_to("py311_plugin.so")
    shutil.copy(plugins / "py311_plugin.so", plugins / "copy_plugin.so")
    text = """
    [loader]
    prefix = "/usr"
    executables = ["{prefix}/bin/demo"]
    naming = "{name}_plugin.so"
    entry = "{name}_plugin"
    [[loader.search]]
    relocated = "lib/plugins"
    """

    def verdicts(extra: str) -> dict[str, tuple[str, ...]]:
        ld = loader(tmp_path, text.replace('entry = "{name}_plugin"\n', 'entry = "{name}_plugin"\n' + extra))
        return {m.module: tuple(p.kind for p in m.problems) for m in check(prefix, ld).modules}

    assert verdicts("") == {"copy": ("no-entry",), "py3": ("no-entry",), "py311": ()}
    assert verdicts("    entry-through-links = true\n") == {"copy": ("no-entry",), "py3": (), "py311": ()}
    # The plan reads the build alike (the tester's plan warned of such a link too).
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert [w.split(":")[0] for w in plan.warnings if "looks up" in w] == ["usr/lib/plugins/copy_plugin.so"]
    # ... and says that a wheel's copy of the link, as `copy_plugin.so` is here, is refused (an
    # xtables tester's libxt_DNAT.so loaded in the tree and not once installed from wheels).
    assert [w for w in plan.warnings if "found through its target's entry" in w] == [
        "usr/lib/plugins/py3_plugin.so: a symlink module found through its target's entry (py311_plugin); "
        "a wheel holds it as a copy, which does not define py3_plugin: installed from wheels, the loader "
        "refuses it"
    ]
    verdicts("")
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert sorted(w.split(":")[0] for w in plan.warnings if "looks up" in w) == [
        "usr/lib/plugins/copy_plugin.so",
        "usr/lib/plugins/py3_plugin.so",
    ]


def test_the_links_beside_a_dangling_module_link_go_with_the_module(prefix: Path) -> None:
    """A Janus tester removed libjanus_echotest.so.1.1.2: the module's link dangled (said), and
    its SONAME link libjanus_echotest.so.1, dangling alike, was called a file the loader never
    looks up and went into the core. It is still the module's other name."""
    block = prefix / "lib/demo/block"
    (block / "nfs.so").unlink()
    (block / "nfs.so").symlink_to("nfs.so.1.0")
    (block / "nfs.so.1").symlink_to("nfs.so.1.0")
    plan = make_plan(scan(prefix.parent), load_layout("demo"))
    assert [w for w in plan.warnings if "nfs.so" in w] == [
        "usr/lib/demo/block/nfs.so: module is a symlink to 'nfs.so.1.0', which is not in the build; the "
        "loader cannot load it from this build (and a wheel cannot hold it: a wheel split fails)"
    ]
    assert "usr/lib/demo/block/nfs.so.1" in plan.package("demo-block-nfs").files


def test_a_file_defining_the_entry_under_a_name_the_naming_does_not_give_is_said(
    prefix: Path, tmp_path: Path
) -> None:
    """A Janus tester's naming typo, `{type}/libjanus-{name}.so` for libjanus_echotest.so: check
    said "0 of 0 modules load" and exited 0 beside 25 plug-ins, where plan refused the layout.
    A file where the patterns put modules that defines a module's entry, named as no pattern
    names, is never looked up; a library defining none is no module (NetworkManager's)."""
    shutil.copy(prefix / "lib/libdemo-util.so.1", prefix / "lib/demo/ui/libshared.so")
    text = HEAD.replace("[loader.stamp]", 'entry = "demo_module_init"\n[loader.stamp]')
    text += '[[loader.search]]\nrelocated = "lib/demo"\n'
    typo = text.replace('naming = "{type}/{name}.so"', 'naming = "{type}/lib-{name}.so"')
    assert typo != text
    # No module found at all: the naming is mistyped, exit 2, as plan says (Enchant and Atril
    # testers: "0 of 0 modules load", exit 1, blamed the installed files).
    with pytest.raises(CheckError, match=r"no module found, and where the loader looks files are named as"):
        check(prefix, loader(tmp_path, typo))
    # One module named so beside them: those named otherwise are files never looked up.
    shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/demo/ui/lib-found.so")
    rows = check(prefix, loader(tmp_path, typo)).modules
    assert sorted(m.module for m in rows if not m.loads) == [
        "alsa",
        "curl",
        "curses",
        "gtk",
        "nfs",
        "opengl",
        "pa",
    ]
    assert all(m.problems[0].kind == "never-looked-up" for m in rows if m.module != "ui-found")
    assert "it defines demo_module_init, a module's entry" in rows[0].problems[0].detail
    # A versioned library, or a link to one, is not read for it (a GNUnet tester's layout
    # searching /usr/lib/x86_64-linux-gnu, as libltdl does: every library there was read, 12
    # minutes), whatever it defines.
    shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/demo/ui/libcurses-copy.so.1")
    (prefix / "lib/demo/ui/libcurses-copy.so").symlink_to("libcurses-copy.so.1")
    rows = check(prefix, loader(tmp_path, typo)).modules
    assert not [m for m in rows if m.file and "libcurses-copy" in m.file], rows
    (prefix / "lib/demo/ui/libcurses-copy.so").unlink()
    (prefix / "lib/demo/ui/libcurses-copy.so.1").unlink()
    (prefix / "lib/demo/ui/libshared.so").unlink()  # named as modules are, it would be one
    assert [m.module for m in check(prefix, loader(tmp_path, text)).modules if not m.loads] == []
    # Anywhere the search reads, not only where patterns put modules: an Enlightenment
    # tester's module built for another release in `<name>/linux-gnu-x86_64-0.25.3/`, and one
    # at the top of the module directory, passed a check ("58 of 58") that plan warned of.
    nested = text.replace('naming = "{type}/{name}.so"', 'naming = "{type}/v1/{name}.so"')
    for mod in (prefix / "lib/demo").glob("*/*.so"):
        (mod.parent / "v1").mkdir(exist_ok=True)
        mod.rename(mod.parent / "v1" / mod.name)
    (prefix / "lib/demo/ui/v0").mkdir()
    shutil.copy(prefix / "lib/demo/ui/v1/gtk.so", prefix / "lib/demo/ui/v0/gtk.so")
    shutil.copy(prefix / "lib/demo/ui/v1/gtk.so", prefix / "lib/demo/gtk.so")
    report = check(prefix, loader(tmp_path, nested))
    assert sorted(m.file for m in report.modules if not m.loads) == [
        f"{prefix}/lib/demo/gtk.so",
        f"{prefix}/lib/demo/ui/v0/gtk.so",
    ]
    assert not report.ok


def test_a_type_named_in_a_mistyped_directory_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """A GIMP tester's `plug-in/{name}/{name}` for the plug-ins in `plug-ins/`: the other type's
    modules were found, and check said "9 of 9 modules load", exit 0, the 121 plug-ins
    unjudged. A type named in a directory no location has, beside one named almost so holding
    files named as its modules, is a layout error, as plan says."""
    relocated = '[[loader.search]]\nrelocated = "lib/demo"\n'
    typo = loader(tmp_path, HEAD + '[loader.by-type.block]\nnaming = "blokc/{name}.so"\n' + relocated)
    with pytest.raises(CheckError) as e:
        check(prefix, typo)
    assert str(e.value) == (
        f"no module of type 'block': {prefix}/lib/demo has no blokc/, and {prefix}/lib/demo/block beside it "
        "holds 2 file(s) named as its modules are (curl.so, nfs.so): is the naming 'blokc/{name}.so' "
        "mistyped?"
    )
    right = loader(tmp_path, HEAD + '[loader.by-type.block]\nnaming = "block/{name}.so"\n' + relocated)
    assert check(prefix, right).ok


def assert_naming_slip(prefix: Path, tmp_path: Path, typo: str, right: str, said: str) -> None:
    """Block's naming `typo` stops check with `said` and plan with the same line (its paths
    relative to the build); `right` checks clean."""
    from qpack.fit import fit_findings

    relocated = '[[loader.search]]\nrelocated = "lib/demo"\n'
    wrong = loader(tmp_path, HEAD + f'[loader.by-type.block]\nnaming = "{typo}"\n' + relocated)
    with pytest.raises(CheckError) as e:
        check(prefix, wrong)
    assert str(e.value) == said
    problems, _ = fit_findings(scan(prefix.parent, "/usr", cache=False), wrong)
    assert said.replace(f"{prefix}/", "usr/") in problems, problems
    assert check(
        prefix, loader(tmp_path, HEAD + f'[loader.by-type.block]\nnaming = "{right}"\n' + relocated)
    ).ok


def test_a_type_named_in_a_mistyped_version_directory_fails_check_and_plan(
    prefix: Path, tmp_path: Path
) -> None:
    """A libgphoto2 tester's `libgphoto2_port/0.12.2/{name}.so` for the drivers in 0.12.1: plan
    put the six port drivers in the core with one warning, exit 0, and check said "20 of 20
    modules load", exit 0. A directory after the naming's first one, named almost as one that
    holds the type's modules, is a layout error as the first one is."""
    block = prefix / "lib/demo/block"
    (block / "1.0.0").mkdir()
    for name in ("curl", "nfs"):
        (block / f"{name}.so").rename(block / f"1.0.0/{name}.so")
    said = (
        f"no module of type 'block': {prefix}/lib/demo has no block/1.0.1/, and "
        f"{prefix}/lib/demo/block/1.0.0 beside it holds 2 file(s) named as its modules are "
        "(curl.so, nfs.so): is the naming 'block/1.0.1/{name}.so' mistyped?"
    )
    assert_naming_slip(prefix, tmp_path, "block/1.0.1/{name}.so", "block/1.0.0/{name}.so", said)


def test_a_type_named_one_letter_off_its_files_fails_check_and_plan(prefix: Path, tmp_path: Path) -> None:
    """A Weston tester's `weston/{name}-shel.so` for desktop-shell.so and three more: check said
    the shells were strays and hmi-controller's dependency "not installed", exit 1; plan only
    warned. A type none of whose files is named so, where two or more files of its directory end
    one letter off the naming's end, is a layout error. Another type's ending one letter off
    (Bacula's `-fd.so` beside `-sd.so`) is none."""
    block = prefix / "lib/demo/block"
    for name in ("curl", "nfs"):
        (block / f"{name}.so").rename(block / f"{name}-block.so")
    relocated = '[[loader.search]]\nrelocated = "lib/demo"\n'
    said = (
        f"no module of type 'block': files in {prefix}/lib/demo/block end in '-block.so', not the naming's "
        "'-blok.so' (curl-block.so, nfs-block.so): is the naming 'block/{name}-blok.so' mistyped?"
    )
    assert_naming_slip(prefix, tmp_path, "block/{name}-blok.so", "block/{name}-block.so", said)
    # Another type's ending one letter off is that type's (a Bacula layout, no `sd` module built).
    both = '[loader.by-type.block]\nnaming = "block/{name}-block.so"\n[loader.by-type.audio]\n'
    both += 'naming = "block/{name}-blocc.so"\n'
    report = check(prefix, loader(tmp_path, HEAD + both + relocated))  # no error: audio's none built
    assert {m.module for m in report.modules if m.loads} >= {"block-curl", "block-nfs"}


def test_a_type_naming_whose_start_is_one_letter_off_its_files_fails_check_and_plan(
    prefix: Path, tmp_path: Path
) -> None:
    """A libvirt tester's `storage-backend/libvirt_storage_backnd_{name}.so`: plan put the ten
    storage back-ends in the core, exit 0, behind a warning a file. Two or more files of the
    type's directory starting one letter off the naming's literal start (five letters at least)
    and ending as it does are a layout error, as an ending one letter off is."""
    from qpack.fit import fit_findings

    block = prefix / "lib/demo/block"
    for name in ("curl", "nfs"):
        (block / f"{name}.so").rename(block / f"demo_block_{name}.so")
    said = (
        f"no module of type 'block': files in {prefix}/lib/demo/block start as 'demo_block_', not the "
        "naming's 'demo_blok_' (demo_block_curl.so, demo_block_nfs.so): is the naming "
        "'block/demo_blok_{name}.so' mistyped?"
    )
    assert_naming_slip(prefix, tmp_path, "block/demo_blok_{name}.so", "block/demo_block_{name}.so", said)
    relocated = '[[loader.search]]\nrelocated = "lib/demo"\n'
    # A start shorter than five letters is no sign (`dmo_` is one letter off many a name's start).
    short = loader(tmp_path, HEAD + '[loader.by-type.block]\nnaming = "block/dmo_{name}.so"\n' + relocated)
    assert not any("start as" in p for p in fit_findings(scan(prefix.parent, "/usr", cache=False), short)[0])


def test_a_bundle_naming_one_letter_off_its_directories_or_file_fails_check_and_plan(
    prefix: Path, tmp_path: Path
) -> None:
    """An LV2 tester's `{name}-sw.lv2/plugin-linux.so` (and `plugin-linx.so`) for the 94 swh
    bundles: check called them strays, exit 1; plan put every bundle in the core, exit 0. Where
    `{name}` is in a directory's name, its directories (or the file in them) one letter off are
    a layout error as a file's ending is."""
    from qpack.fit import fit_findings

    block = prefix / "lib/demo/block"
    for name in ("curl", "nfs"):
        (block / f"{name}-x.lv2").mkdir()
        (block / f"{name}.so").rename(block / f"{name}-x.lv2/plugin.so")
    relocated = '[[loader.search]]\nrelocated = "lib/demo"\n'
    for naming, said in (
        (
            "block/{name}-y.lv2/plugin.so",
            f"no module of type 'block': directories in {prefix}/lib/demo/block end in '-x.lv2', not the "
            "naming's '-y.lv2' (curl-x.lv2/plugin.so, nfs-x.lv2/plugin.so): is the naming "
            "'block/{name}-y.lv2/plugin.so' mistyped?",
        ),
        (
            "block/{name}-x.lv2/plugn.so",
            f"no module of type 'block': the *-x.lv2 directories' files in {prefix}/lib/demo/block are named "
            "'plugin.so', not the naming's 'plugn.so' (curl-x.lv2/plugin.so, nfs-x.lv2/plugin.so): is the "
            "naming 'block/{name}-x.lv2/plugn.so' mistyped?",
        ),
    ):
        typo = loader(tmp_path, HEAD + f'[loader.by-type.block]\nnaming = "{naming}"\n' + relocated)
        with pytest.raises(CheckError) as e:
            check(prefix, typo)
        assert str(e.value) == said
        problems, _ = fit_findings(scan(prefix.parent, "/usr", cache=False), typo)
        assert said.replace(f"{prefix}/", "usr/") in problems, problems
    right = loader(
        tmp_path, HEAD + '[loader.by-type.block]\nnaming = "block/{name}-x.lv2/plugin.so"\n' + relocated
    )
    assert check(prefix, right).ok


def test_a_mistyped_location_beside_the_modules_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """A Scribus tester's `absolute = "/usr/lib/scribus/plugin"`: check said "0 of 0 modules
    load" and exited 0 beside 67 plug-ins in .../plugins, where plan refused the same layout. A
    missing location with a directory of modules named almost so beside it is a layout error;
    a prefix holding no module at all (a core installed alone) still checks."""
    typo = loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/dem"\n')
    with pytest.raises(
        CheckError, match=r"lib/dem does not exist, and .*/lib/demo beside it holds 7 file\(s\)"
    ):
        check(prefix, typo)
    # Beside a location that holds modules, said (a Pure Data tester's `extras` for `extra`:
    # "252 of 252 modules load", exit 0, an R tester's `site-libary` likewise).
    both = loader(
        tmp_path,
        HEAD + '[[loader.search]]\nrelocated = "lib/dem"\n[[loader.search]]\nrelocated = "lib/demo"\n',
    )
    report = check(prefix, both)
    assert report.ok
    assert [w for w in report.warnings if "mistyped" in w] == [
        f"{prefix}/lib/dem does not exist, and {prefix}/lib/demo beside it holds 7 file(s) named as modules "
        "are (audio/alsa.so, audio/pa.so, block/curl.so): is a location of the layout mistyped?"
    ]
    assert not [
        w
        for w in check(
            prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n')
        ).warnings
        if "mistyped" in w
    ]
    # Another word is no slip (an OBS tester's `obs-plugins`, absent on a machine without OBS, was
    # "mistyped?" for the `bfd-plugins` beside it).
    shutil.copytree(prefix / "lib/demo", prefix / "lib/bfd-demo-plugins")
    other = (
        '[[loader.search]]\nrelocated = "lib/obs-demo-plugins"\n[[loader.search]]\nrelocated = "lib/demo"\n'
    )
    assert not [w for w in check(prefix, loader(tmp_path, HEAD + other)).warnings if "mistyped" in w]
    shutil.rmtree(prefix / "lib/bfd-demo-plugins")
    # As deep as the naming reaches (a Node tester's `{name}/build/Release/{name}.node` and an
    # Enlightenment tester's `{name}/linux-gnu-x86_64-0.25.4/module.so`: exit 0 for both).
    deep = prefix / "lib/emods/clock/linux-gnu/module.so"
    deep.parent.mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/curses.so", deep)
    nested = HEAD.replace(
        'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]\n',
        'naming = "{name}/linux-gnu/module.so"\n',
    )
    with pytest.raises(
        CheckError, match=r"lib/emod does not exist, and .*/lib/emods beside it holds 1 file\(s\)"
    ):
        check(prefix, loader(tmp_path, nested + '[[loader.search]]\nrelocated = "lib/emod"\n'))
    # Unless the files beside the typo outnumber the modules found (a PAM tester's `securty`: "1
    # of 1 modules load", exit 0, beside 51 modules in security/).
    (prefix / "lib/other/ui").mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/other/ui/curses.so")
    few = '[[loader.search]]\nrelocated = "lib/dem"\n[[loader.search]]\nrelocated = "lib/other"\n'
    with pytest.raises(
        CheckError, match=r"holds 7 file\(s\) .* The other locations hold 1 module file\(s\) only"
    ):
        check(prefix, loader(tmp_path, HEAD + few))
    shutil.rmtree(prefix / "lib/other")
    # One letter off a short name, beside an optional location the prefix lacks (a SANE tester's
    # `sand` for `sane`, blamed on the optional /usr/lib/sane "missing the segment" of the other).
    short = '[[loader.search]]\nrelocated = "lib/dema"\n'
    short += '[[loader.search]]\nabsolute = "/usr/demo"\noptional = true\n'
    with pytest.raises(
        CheckError, match=r"lib/dema does not exist, and .*/lib/demo beside it holds 7 file\(s\)"
    ):
        check(prefix, loader(tmp_path, HEAD + short))
    shutil.rmtree(prefix / "lib/demo")
    assert check(prefix, typo).modules == ()


def test_a_location_mistyped_in_a_middle_segment_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """A libproxy tester's `libproxy/0.4.81/modules` for `0.4.18`: check said "0 of 0 modules
    load", exit 0, where a typo in the last segment was an error; and with a helper program
    declared, its row counted as a module found, so the last-segment typo passed too."""
    (prefix / "lib/1.2.18").mkdir()
    shutil.move(prefix / "lib/demo", prefix / "lib/1.2.18/demo")
    typo = HEAD + '[[loader.search]]\nrelocated = "lib/1.2.81/demo"\n'
    with pytest.raises(
        CheckError,
        match=r"lib/1\.2\.81/demo does not exist, and .*/lib/1\.2\.18/demo holds 7 file\(s\) named",
    ):
        check(prefix, loader(tmp_path, typo))
    helper = '[[loader.helpers]]\nname = "demo"\nrelocated = "bin"\n'  # a file that is there
    with pytest.raises(CheckError, match=r"lib/1\.2\.81/demo does not exist"):
        check(prefix, loader(tmp_path, typo + helper))
    last = HEAD + '[[loader.search]]\nrelocated = "lib/1.2.18/dem"\n' + helper
    with pytest.raises(CheckError, match=r"lib/1\.2\.18/dem does not exist, and .*/demo beside it holds"):
        check(prefix, loader(tmp_path, last))
    right = check(
        prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/1.2.18/demo"\n' + helper)
    )
    assert right.ok and len([m for m in right.modules if m.loads]) == 8, right.modules


def test_a_stamp_no_file_holds_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """A libvisual tester's typo in the stamp's name: plan refused the layout, check passed it
    ("18 of 18 modules load", exit 0) with a note that the same-build checks were skipped. Held
    by no loader file and exported by no module, the stamp is the layout's mistake; a loader
    holding none beside modules that export one is still a note (an older program)."""
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    with pytest.raises(
        CheckError, match=r"^the layout demands the build stamp demo_stampp_\*, but neither the loader"
    ):
        check(prefix, loader(tmp_path, text.replace("demo_stamp_*", "demo_stampp_*")))
    assert check(prefix, loader(tmp_path, text)).ok
    # The program holds no stamp name (stripped of it here), the modules export one: a note.
    exe = prefix / "bin/demo"
    data = exe.read_bytes()
    exe.write_bytes(data.replace(b"demo_stamp_", b"demo_stomp_"))
    report = check(prefix, loader(tmp_path, text))
    assert any("holds no demo_stamp_* stamp name" in w for w in report.warnings), report.warnings


def test_a_file_the_layout_gives_a_package_by_name_is_no_stray_to_check(prefix: Path, tmp_path: Path) -> None:
    """A Valgrind tester's getoff (a [[package]]'s file) and a GCC tester's g++-mapper-server
    (cc1plus's own file, [modules.files]) sit where modules are: plan said nothing of them, while
    check (and list) of the install called them `never-looked-up`, exit 1. A glob whose only
    placeholder is {prefix} names files of an installed prefix too; other placeholders do not."""
    shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/demo/ui/helper.so")
    shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/demo/ui/mapper.so")
    shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/demo/ui/stray.so")
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    known = ["ui-gtk", "ui-curses", "ui-opengl", "block-curl", "block-nfs", "audio-alsa", "audio-pa"]
    text += f"[modules]\nknown = {known!r}\n".replace("'", '"')
    text += '[modules.files]\n"ui-curses" = ["{prefix}/lib/demo/ui/mapper.so"]\n'
    text += '[[package]]\nname = "extra"\nfiles = ["{prefix}/lib/demo/ui/helper.so"]\n'
    text += '[per-module]\nname = "m-{module}"\nfiles = ["{prefix}/share/doc/{name}/**"]\n'
    strays = [m.file for m in check(prefix, loader(tmp_path, text)).modules if m.stray]
    assert strays == [f"{prefix}/lib/demo/ui/stray.so"], strays


def test_a_relocatable_object_where_modules_are_is_no_stray_to_check(prefix: Path, tmp_path: Path) -> None:
    """A GCC tester's crtbegin.o and 12 more objects beside cc1 were `never-looked-up` problems
    on a working /usr (exit 1); plan already took no `.o` for a module misplaced."""
    source = tmp_path / "crt.c"
    source.write_text("int crt_marker = 1;\n")
    subprocess.run(["cc", "-c", str(source), "-o", str(prefix / "lib/demo/ui/crtbegin.o")], check=True)
    shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/demo/ui/curses.so.o")
    report = check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'))
    # The object is no row at all; a shared object named so still is a stray.
    strays = [m.file for m in report.modules if m.stray]
    assert strays == [f"{prefix}/lib/demo/ui/curses.so.o"], strays


def test_a_text_file_named_as_an_unknown_module_is_not_warned_of(prefix: Path, tmp_path: Path) -> None:
    """A GCC tester's libgomp.spec beside cc1 (naming `{name}`, `known` listing the compilers)
    was a file the loader never looks up, to plan; check took it for no module, being no ELF
    file. An ELF file so named still is one."""
    (prefix / "lib/demo/ui/libgomp.spec").write_text("*link_gomp: -lgomp\n")
    shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/demo/ui/helper")
    text = HEAD.replace('naming = "{type}/{name}.so"', 'naming = ["{type}/{name}.so", "{type}/{name}"]')
    known = ["ui-gtk", "ui-curses", "ui-opengl", "block-curl", "block-nfs", "audio-alsa", "audio-pa"]
    text += '[[loader.search]]\nrelocated = "lib/demo"\n' + f"[modules]\nknown = {known!r}\n".replace(
        "'", '"'
    )
    loader(tmp_path, text)
    plan = make_plan(
        scan(prefix.parent, cache=False), load_layout(tmp_path / "layout.toml"), unclaimed="core"
    )
    said = [w.partition(":")[0] for w in plan.warnings if "never looks up" in w]
    assert said == ["usr/lib/demo/ui/helper"], plan.warnings


def test_a_location_reached_through_a_symlink_into_the_prefix_is_inside_it(
    prefix: Path, tmp_path: Path
) -> None:
    """A NUT tester's /lib/nut on a merged-/usr host (/lib -> usr/lib): check of /usr said "no
    directory the loader searches is inside /usr: the modules judged are this machine's"."""
    (prefix.parent / "lib").symlink_to("usr/lib")
    text = HEAD + f'[[loader.search]]\nabsolute = "{prefix.parent}/lib/demo"\n'
    report = check(prefix, loader(tmp_path, text))
    assert report.ok and len([m for m in report.modules if m.loads]) == 7, report.modules
    assert not [w for w in report.warnings if "is inside" in w], report.warnings


def test_an_entry_no_module_defines_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """A Knot Resolver and a Wayfire tester's misspelt entries ("{name}_apii", "newInstace"):
    check said "0 of 17 modules load", exit 1, blaming the system, where plan asked whether the
    entry is mistyped and refused the layout. One module lacking it is still a module refused."""
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    entry = 'entry = "demo_module_init"\n[loader.stamp]'
    assert check(prefix, loader(tmp_path, text.replace("[loader.stamp]", entry))).ok
    with pytest.raises(CheckError, match=r"^no module found defines the entry symbol the loader looks up \("):
        check(prefix, loader(tmp_path, text.replace("[loader.stamp]", entry.replace("init", "inti"))))
    for mod in (prefix / "lib/demo").glob("*/*.so"):
        if mod.name != "curses.so":
            mod.unlink()
    shutil.copy(prefix / "lib/libdemo-util.so.1", prefix / "lib/demo/ui/gtk.so")  # defines none
    report = check(prefix, loader(tmp_path, text.replace("[loader.stamp]", entry)))
    assert [(m.module, m.problems[0].kind) for m in report.modules if not m.loads] == [("ui-gtk", "no-entry")]


def test_a_module_no_user_may_read_is_unreadable_even_to_a_check_run_as_root(
    prefix: Path, tmp_path: Path
) -> None:
    """A Wayfire tester's chmod 000 plug-in was "yes" to a check run as root, which reads it
    all the same; the compositor, run as a user, fails to open it."""
    (prefix / "lib/demo/ui/gtk.so").chmod(0o000)
    report = check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'))
    rows = {m.module: m for m in report.modules}
    assert not rows["ui-gtk"].loads
    assert rows["ui-gtk"].problems[0].kind == "unreadable"
    assert (
        rows["ui-gtk"].problems[0].detail.endswith("readable by no user (mode 0000): only root can load it")
    )
    assert rows["ui-curses"].loads
    # Nor one only its owner root reads (a Psi+ tester's 0600 plug-in, as `sudo make install`
    # under umask 077 leaves it: "32 of 32 modules load").
    if (prefix / "lib/demo/ui/gtk.so").stat().st_uid == 0:
        (prefix / "lib/demo/ui/gtk.so").chmod(0o600)
        report = check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'))
        (row,) = [m for m in report.modules if m.module == "ui-gtk"]
        assert row.problems[0].detail.endswith(
            "readable by its owner root only (mode 0600): only root can load it"
        )
        (prefix / "lib/demo/ui/gtk.so").chmod(0o640)  # its group may: judged as any other
        report = check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'))
        assert {m.module: m for m in report.modules}["ui-gtk"].loads
        (prefix / "lib/demo/ui/gtk.so").chmod(0o000)
    # A program set-user-ID root reads it (a pppd tester's plug-in of mode 0000: pppd is 4754 root).
    if (prefix / "bin/demo").stat().st_uid == 0:
        (prefix / "bin/demo").chmod(0o4755)
        report = check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'))
        assert {m.module: m for m in report.modules}["ui-gtk"].loads


def test_an_optional_per_user_location_without_home_is_passed_over_quietly(
    prefix: Path, tmp_path: Path
) -> None:
    """A Node tester marked `{home}/.node_modules` and `{home}/.node_libraries` optional: every
    check, list, install and uninstall still said of each "not searched: no HOME given"."""
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n[[loader.search]]\nabsolute = "{home}/.demo"\n'
    said = [w for w in check(prefix, loader(tmp_path, text)).warnings if "no HOME given" in w]
    assert said == [
        "{home}/.demo: not searched: no HOME given (the program's environment is --env's, not qpack's: "
        "give --env HOME=...)"
    ]
    quiet = loader(tmp_path, text + "optional = true\n")
    assert not [w for w in check(prefix, quiet).warnings if "HOME" in w]
    home = tmp_path / "home"
    (home / ".demo/ui").mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/gtk.so", home / ".demo/ui/gtk.so")
    report = check(prefix, quiet, env={"HOME": str(home)})
    assert {m.module: m.file for m in report.modules}["ui-gtk"] == f"{prefix}/lib/demo/ui/gtk.so"
    assert f"{home}/.demo" in next(iter(report.locations.values()))


def test_a_users_own_directory_stays_in_a_replacing_variables_advice(prefix: Path, tmp_path: Path) -> None:
    """A Vamp tester: VAMP_PATH replaces `$HOME/vamp:$HOME/.vamp:/usr/local/lib/vamp:/usr/lib/vamp`,
    and install's advice set it to the venv's directory and the two system ones, hiding the
    user's plug-ins. The advice keeps `$HOME/...` for a shell to expand; install's and list's
    own checks read it as the HOME given, or leave it out. A `$HOME` given to check as it is
    stays as it is: the loader expands nothing (a Vamp re-tester's `VAMP_PATH='$HOME/.vamp'`
    found nothing, and check said the plug-in there loads)."""
    text = HEAD + '[[loader.search]]\nenv = "DEMO_PATH"\nlist = true\nreplaces = true\nwheels = "lib/demo"\n'
    text += '[[loader.search]]\nabsolute = "{home}/.demo"\noptional = true\n'
    text += '[[loader.search]]\nabsolute = "/nonexistent/demo"\n'
    ld = loader(tmp_path, text)
    (way,) = ld.wheel_ways()
    advice = dict([way.setting("/venv")])
    assert advice == {"DEMO_PATH": "/venv/lib/demo:$HOME/.demo:/nonexistent/demo"}
    assert Loader.as_checked(advice, {}) == {"DEMO_PATH": "/venv/lib/demo:/nonexistent/demo"}
    assert Loader.as_checked(advice, {"HOME": "/home/u"}) == {
        "DEMO_PATH": "/venv/lib/demo:/home/u/.demo:/nonexistent/demo"
    }
    home = tmp_path / "home"
    (home / ".demo/ui").mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/gtk.so", home / ".demo/ui/gtk.so")
    report = check(prefix, ld, env={"DEMO_PATH": f"{prefix}/lib/demo:$HOME/.demo", "HOME": str(home)})
    assert (
        "$DEMO_PATH: '$HOME/.demo' is relative: the program searches it from its working directory, "
        "which a check does not know (not judged)" in (report.warnings)
    ), report.warnings
    assert {m.module: m.copies for m in report.modules}["ui-gtk"] == ()


def test_a_file_named_as_a_module_that_is_no_elf_is_noted_where_every_file_is_tried(
    prefix: Path, tmp_path: Path
) -> None:
    """A Vamp tester's notes.so, a text file among the plug-ins: the host tries every `*.so`
    and prints "Unable to load library ... file too short" each run; check said nothing of it
    (no module: dlopen refuses it). It is noted; a file the layout names is not."""
    text = HEAD.replace(
        'types = ["ui", "block", "audio"]',
        'types = ["ui", "block", "audio"]\nresolution = "register-loadable"',
    )
    (prefix / "lib/demo/ui/notes.so").write_text("not a library\n")
    report = check(prefix, loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n'))
    assert "ui-notes" not in {m.module for m in report.modules}
    assert (
        f"{prefix}/lib/demo/ui/notes.so: named as a module and no ELF file: the loader tries it, fails and "
        "passes over it" in report.warnings
    ), report.warnings
    named = text + '[[loader.search]]\nrelocated = "lib/demo"\n[[package]]\nname = "notes"\n'
    named += 'files = ["{prefix}/lib/demo/ui/notes.so"]\n'
    assert not [w for w in check(prefix, loader(tmp_path, named)).warnings if "notes.so" in w]


def test_modules_in_a_locations_multiarch_twin_are_noted(prefix: Path, tmp_path: Path) -> None:
    """A Vamp tester: Debian's vamp-examples puts its plug-in in usr/lib/x86_64-linux-gnu/vamp,
    where the 2.10 host (searching /usr/lib/vamp) never looks; plan warned, check said "1 of 1
    modules load" and nothing else. A location's multiarch twin holding files named as modules
    is said (and the other way round): each ELF one, no copy of a module found, is a module the
    loader never looks up; one the loader searches too is not."""
    twin = prefix / "lib/x86_64-linux-gnu/demo/ui"
    twin.mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/gtk.so", twin / "extra.so")
    (twin / "README").write_text("not a module\n")
    text = HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'
    report = check(prefix, loader(tmp_path, text))
    assert [p.detail for m in report.modules if m.stray for p in m.problems] == [
        f"{twin}/extra.so: the loader never looks this file up (in the multiarch twin of {prefix}/lib/demo, "
        "where the loader looks: installed in the wrong place?)"
    ]
    assert not report.ok and not [w for w in report.warnings if "multiarch twin" in w]
    # A copy of a module found there is no module lost: a note.
    shutil.copy(prefix / "lib/demo/ui/gtk.so", twin / "gtk.so")
    said = [w for w in check(prefix, loader(tmp_path, text)).warnings if "multiarch twin" in w]
    assert said == [
        f"{prefix}/lib/x86_64-linux-gnu/demo: 1 file(s) named as modules (ui/gtk.so) in the multiarch twin "
        f"of {prefix}/lib/demo, where the loader looks: never looked up (installed in the wrong place?)"
    ]
    (twin / "gtk.so").unlink()
    both = text + '[[loader.search]]\nrelocated = "lib/x86_64-linux-gnu/demo"\n'
    report = check(prefix, loader(tmp_path, both))
    assert report.ok and not [w for w in report.warnings if "multiarch twin" in w]
    # A location's name of three words is no triplet (an evolution-data-server tester's module in
    # lib/x86_64-linux-gnu/evolution-data-server was said nothing of).
    shutil.copytree(prefix / "lib/demo", prefix / "lib/demo-data-set")
    shutil.move(prefix / "lib/x86_64-linux-gnu/demo", prefix / "lib/x86_64-linux-gnu/demo-data-set")
    words = HEAD + '[[loader.search]]\nrelocated = "lib/demo-data-set"\n'
    report = check(prefix, loader(tmp_path, words))
    assert [m.file for m in report.modules if m.stray] == [
        f"{prefix}/lib/x86_64-linux-gnu/demo-data-set/ui/extra.so"
    ]


def test_a_segment_missing_from_a_variables_value_is_no_layout_error(prefix: Path, tmp_path: Path) -> None:
    """A GTK tester's GTK_EXE_PREFIX=<venv>: GTK reads <venv>/lib/gtk-3.0, without the
    multiarch part the venv's modules are under, and finds none; check stopped, exit 2, asking
    whether "a location of the layout" lacks the segment x86_64-linux-gnu. The variable's value
    is the user's: the modules are not found, said in a note."""
    alt = prefix
    (alt / "lib/x86_64-linux-gnu/gtkmods/ui").mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/gtk.so", alt / "lib/x86_64-linux-gnu/gtkmods/ui/gtk.so")
    text = HEAD + '[[loader.search]]\nenv = "DEMO_PFX"\nunder = "lib/gtkmods"\nreplaces = true\n'
    text += '[[loader.search]]\nabsolute = "/nonexistent/demo"\n'
    report = check(prefix, loader(tmp_path, text), env={"DEMO_PFX": str(alt)})
    assert [w for w in report.warnings if w.startswith("no module where the loader looks")], report.warnings
    # Where they are is said too: the directory's multiarch twin, a module the loader never finds.
    assert [(m.module, m.stray) for m in report.modules] == [("gtk", True)]
    assert "in the multiarch twin of" in report.modules[0].problems[0].detail and not report.ok


def test_variables_each_reaching_their_own_modules_are_all_offered(prefix: Path, tmp_path: Path) -> None:
    """An R tester's layout reaches its wheels' packages through R_LIBS and R_LIBS_SITE, each
    to half of them: check offered "--env R_LIBS=... or --env R_LIBS_SITE=...". Both are."""
    text = HEAD.replace("[loader]", "[loader]\nrelocatable = false")
    text += '[[loader.search]]\nabsolute = "/nonexistent/demo"\n'
    text += "".join(
        f'[loader.by-type.{t}]\nenv = "DEMO_{t.upper()}"\nwheels = "lib/demo/{t}"\n' for t in ("ui", "block")
    )
    notes = [w for w in check(prefix, loader(tmp_path, text)).warnings if "installed from wheels" in w]
    assert len(notes) == 1, notes
    assert notes[0].endswith(
        f"for modules installed from wheels, --env DEMO_UI={prefix}/lib/demo/ui and --env "
        f"DEMO_BLOCK={prefix}/lib/demo/block"
    ), notes


def test_a_variable_that_replaces_only_the_location_after_it(prefix: Path, tmp_path: Path) -> None:
    """Csound's OPCODE6DIR64 replaces the compiled-in directory and not the user's after it (R's
    R_LIBS_SITE, Enlightenment's E_HOME, Gwyddion's GWYDDION_LIBDIR alike): `replaces = true`
    dropped the user's too, no `replaces` searched the compiled-in one. `replaces = "next"`."""
    user = tmp_path / "user"
    (user / "ui").mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/gtk.so", user / "ui/gtk.so")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "ui").mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/curses.so", elsewhere / "ui/curses.so")
    text = HEAD + (
        '[[loader.search]]\nenv = "DEMO_ONLY"\nreplaces = "next"\n'
        '[[loader.search]]\nrelocated = "lib/demo"\n'
        '[[loader.search]]\nenv = "DEMO_USER"\n'
        f'[[loader.search]]\nabsolute = "{user}"\n'
    )
    ld = loader(tmp_path, text)
    assert check(prefix, ld).ok  # nothing set: the prefix's modules, the user's copy after them
    report = check(prefix, ld, env={"DEMO_ONLY": str(elsewhere)})
    rows = {m.module: m for m in report.modules}
    assert rows["ui-curses"].file == f"{elsewhere}/ui/curses.so" and rows["ui-curses"].loads
    assert rows["ui-gtk"].file == f"{user}/ui/gtk.so" and rows["ui-gtk"].loads  # still searched
    assert [p.kind for p in rows["block-curl"].problems] == ["not-searched"]
    # The variable right after it is the location it stands in for, and said so.
    cut = text.replace(f'[[loader.search]]\nabsolute = "{user}"\n', "").replace(
        '[[loader.search]]\nrelocated = "lib/demo"\n[[loader.search]]\nenv = "DEMO_USER"\n',
        '[[loader.search]]\nenv = "DEMO_USER"\n[[loader.search]]\nrelocated = "lib/demo"\n',
    )
    report = check(prefix, loader(tmp_path, cut), env={"DEMO_ONLY": str(elsewhere), "DEMO_USER": str(user)})
    assert (
        "--env DEMO_USER: not read: $DEMO_ONLY, set, replaces the location after its own (the layout's "
        "`replaces`)"
    ) in report.warnings
    with pytest.raises(LayoutError, match=r'replaces: must be true, false or "next"'):
        loader(tmp_path, text.replace('replaces = "next"', 'replaces = "nxt"'))


def test_a_location_one_segment_too_deep_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """A colord tester's `lib/x86_64-linux-gnu/colord` for `lib/x86_64-linux-gnu`, whose
    `colord-sensors/` held the drivers: "0 of 0 modules load", exit 0."""
    with pytest.raises(
        CheckError, match=r"lib/demo/extra does not exist, and .*/lib/demo above it holds 7 file"
    ):
        check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo/extra"\n'))
    # A flat naming takes nothing above: every library of a libdir would fit `{name}.so` (a rofi
    # tester's Debian install, where rofi's plug-in directory is absent until a plug-in comes:
    # exit 2 for a correct layout).
    flat = HEAD.replace(
        'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]\n', 'naming = "{name}.so"\n'
    )
    report = check(prefix, loader(tmp_path, flat + '[[loader.search]]\nrelocated = "lib/demo/ui/extra"\n'))
    assert report.modules == () and any("no module where the loader looks" in w for w in report.warnings)


def test_a_mistyped_location_outside_the_prefix_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """An mpv tester's /etc/mpv/script for /etc/mpv/scripts, checking /usr: "0 of 0 modules
    load", exit 0, where the same layout failed with --root (the location inside the tree)."""
    scripts = tmp_path / "etc/demo/scripts"
    shutil.copytree(prefix / "lib/demo", scripts)
    with pytest.raises(CheckError, match=r"etc/demo/script does not exist, and .*etc/demo/scripts beside it"):
        check(
            prefix, loader(tmp_path, HEAD + f'[[loader.search]]\nabsolute = "{tmp_path}/etc/demo/script"\n')
        )
    report = check(prefix, loader(tmp_path, HEAD + f'[[loader.search]]\nabsolute = "{scripts}"\n'))
    assert report.ok and report.modules


def test_a_location_with_two_letters_swapped_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """A VA-API tester's `.../dir` for `.../dri`: "0 of 0 modules load", exit 0; difflib's
    ratio of the two is 0.67, under the near-name cutoff."""
    shutil.copytree(prefix / "lib/demo", prefix / "lib/dri")
    with pytest.raises(CheckError, match=r"lib/dir does not exist, and .*lib/dri beside it"):
        check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/dir"\n'))


def test_a_location_lacking_a_segment_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """An Atril tester's `atril/backends` for `atril/3/backends`: "0 of 0 modules load", exit 0,
    where plan stopped on the same layout. A location under which nothing deeper holds modules
    (a core installed alone) still checks."""
    shutil.copytree(prefix / "lib/demo", prefix / "lib/v3/mods")
    with pytest.raises(
        CheckError,
        match=r"lib/mods does not exist, and .*/lib/v3/mods holds 7 file\(s\) named as modules are .*: is a "
        r"location of the layout missing the segment 'v3'\?",
    ):
        check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/mods"\n'))
    report = check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/nomods"\n'))
    assert report.modules == () and any("no module where the loader looks" in w for w in report.warnings)
    # Files there defining none of the layout's entry symbols are another program's modules (a
    # Zabbix tester's absent lib/x86_64-linux-gnu/modules, blamed on GIO's gio/modules: exit 2).
    other = HEAD.replace("[loader.stamp]", 'entry = "zbx_module_api_version"\n[loader.stamp]')
    report = check(prefix, loader(tmp_path, other + '[[loader.search]]\nrelocated = "lib/mods"\n'))
    assert report.modules == () and any("no module where the loader looks" in w for w in report.warnings)


def test_a_loader_registering_modules_by_descriptor(prefix: Path, tmp_path: Path) -> None:
    """Pluma's libpeas registers a plug-in by its `{name}.plugin` keyfile, and Atril a backend by
    its `.atril-backend` one: a module file without it is never registered (check said it
    loads: Pluma took the system's copy, Atril said "not supported"), and one whose code is gone
    while its keyfile stays claims the name there (check said a later copy loads; Pluma failed:
    "Failed to load module 'sort'"). Checked against the real programs by the testers."""
    text = HEAD.replace('prefix = "/usr"\n', 'prefix = "/usr"\ndescriptor = "{name}.plugin"\n', 1)
    text += '[[loader.search]]\nenv = "DEMO_USER"\n'
    text += '[[loader.search]]\nrelocated = "lib/demo"\n'
    ld = loader(tmp_path, text)
    modules = sorted(p for p in (prefix / "lib/demo").glob("*/*.so"))
    for so in modules:
        so.with_suffix(".plugin").write_text("[Plugin]\n")
    assert check(prefix, ld).ok
    # No keyfile: never registered (a stray the loader never looks up), whatever the file holds.
    (prefix / "lib/demo/ui/gtk.plugin").unlink()
    report = check(prefix, ld)
    rows = {m.module: m for m in report.modules if not m.stray}
    assert "ui-gtk" not in rows
    stray = next(m for m in report.modules if m.file and m.file.endswith("/ui/gtk.so"))
    assert [p.kind for p in stray.problems] == ["never-looked-up"]
    assert "no gtk.plugin beside it" in stray.problems[0].detail
    # A directory of that name is none, a dangling link is said to be one (an Atril tester's
    # keyfile made a directory passed as present).
    for made, said in (("dir", "gtk.plugin beside it is no regular file"), ("link", "is a dangling link")):
        keyfile = prefix / "lib/demo/ui/gtk.plugin"
        keyfile.mkdir() if made == "dir" else keyfile.symlink_to("nowhere.plugin")
        (stray,) = [m for m in check(prefix, ld).modules if m.stray]
        assert said in stray.problems[0].detail, stray
        keyfile.rmdir() if made == "dir" else keyfile.unlink()
    # Installed so, the module's row says why, once (a Totem tester read "where the loader does not
    # look (it searches <the directory it is in>)" beside the stray's row: two problems, one file).
    file = f"{prefix}/lib/demo/ui/gtk.so"
    merged = with_unfound(report, {"ui-gtk": (file, "demo-ui-gtk 1")}, Path("/"))
    assert [(m.module, m.problems[0].kind) for m in merged.modules if m.file == file] == [
        ("ui-gtk", "not-found")
    ]
    assert "installed by demo-ui-gtk 1, but the loader never takes it (no gtk.plugin beside it" in next(
        m.problems[0].detail for m in merged.modules if m.file == file
    )
    # A user directory searched first: its copy without a keyfile is passed over for the next.
    user = tmp_path / "user"
    shutil.copytree(prefix / "lib/demo/block", user / "block")
    (user / "block/curl.plugin").unlink()
    rows = {m.module: m for m in check(prefix, ld, env={"DEMO_USER": str(user)}).modules if not m.stray}
    assert rows["block-curl"].file == f"{prefix}/lib/demo/block/curl.so" and rows["block-curl"].loads
    # Its keyfile without its code: the name is claimed there, and the module fails.
    (user / "block/curl.so").unlink()
    (user / "block/curl.plugin").write_text("[Plugin]\n")
    rows = {m.module: m for m in check(prefix, ld, env={"DEMO_USER": str(user)}).modules if not m.stray}
    assert rows["block-curl"].file == f"{user}/block/curl.so" and not rows["block-curl"].loads
    assert (
        f"not there, while its descriptor {user}/block/curl.plugin is"
        in rows["block-curl"].problems[0].detail
    )
    # Its stray row is named after its module where no row is (an Eye of GNOME tester's libmap.so
    # was "libmap", a module of another name), by its file where one is.
    (user / "block/curl.plugin").unlink()
    (user / "ui").mkdir()
    shutil.copy(prefix / "lib/demo/ui/gtk.so", user / "ui/gtk.so")
    report = check(prefix, ld, env={"DEMO_USER": str(user)})
    assert {m.module for m in report.modules if m.stray} == {"ui-gtk"}  # the prefix's gtk.so: no row
    (prefix / "lib/demo/ui/gtk.plugin").write_text("[Plugin]\n")
    report = check(prefix, ld, env={"DEMO_USER": str(user)})
    assert [m.module for m in report.modules if m.stray] == ["gtk.so"]
    # Registered from a directory below a location (libpeas reads one level: `depth`), in the
    # order of the locations: the user's copy in a subdirectory wins.
    deep = text.replace('prefix = "/usr"\n', 'prefix = "/usr"\nresolution = "register-all"\ndepth = 1\n', 1)
    (user / "sub/block").mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/block/curl.so", user / "sub/block/curl.so")
    (user / "sub/block/curl.plugin").write_text("[Plugin]\n")
    rows = {m.module: m for m in check(prefix, loader(tmp_path, deep), env={"DEMO_USER": str(user)}).modules}
    assert rows["block-curl"].file == f"{user}/sub/block/curl.so" and rows["block-curl"].loads
    # A keyfile down there whose code is gone claims its name as well (a Totem tester's user
    # vimeo/vimeo.plugin hid the system's vimeo: check said the system's loads).
    for gone in ("block/nfs.so", "block/nfs.plugin"):
        (user / gone).unlink(missing_ok=True)
    (user / "sub/block/nfs.plugin").write_text("[Plugin]\n")
    rows = {m.module: m for m in check(prefix, loader(tmp_path, deep), env={"DEMO_USER": str(user)}).modules}
    assert rows["block-nfs"].file == f"{user}/sub/block/nfs.so" and not rows["block-nfs"].loads
    (user / "sub/block/nfs.plugin").unlink()
    # A descriptor no module file has: the key is mistyped (exit 2), as plan says.
    with pytest.raises(
        CheckError, match=r"no module file found has its descriptor beside it .*: is \[loader\] descr"
    ):
        check(prefix, loader(tmp_path, text.replace('"{name}.plugin"', '"{name}.plugn"')))
    with pytest.raises(LayoutError, match=r"descriptor: must be a file name .* got 'x/\{name\}.plugin'"):
        loader(tmp_path, text.replace('"{name}.plugin"', '"x/{name}.plugin"'))


def test_a_descriptor_whose_code_is_nowhere_is_a_module_that_fails(prefix: Path, tmp_path: Path) -> None:
    """An Evince tester removed libpsdocument.so and kept psdocument.evince-backend: Evince
    registers the PostScript types from the keyfile and fails every such document, and check
    said "6 of 6 modules load", exit 0 (plan warned). Not where code of another kind of the
    module's name is beside it (libpeas's Python plug-ins: `foo.py`, `foo/`)."""
    text = HEAD.replace('prefix = "/usr"\n', 'prefix = "/usr"\ndescriptor = "{name}.plugin"\n', 1)
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    for so in (prefix / "lib/demo").glob("*/*.so"):
        so.with_suffix(".plugin").write_text("[Plugin]\n")
    assert check(prefix, ld).ok
    (prefix / "lib/demo/block/curl.so").unlink()
    report = check(prefix, ld)
    assert not report.ok
    (row,) = [m for m in report.modules if m.module == "block-curl"]
    assert row.file == f"{prefix}/lib/demo/block/curl.so" and not row.loads
    assert [p.kind for p in row.problems] == ["unreadable"]
    assert "not there, while its descriptor" in row.problems[0].detail
    for other in ("curl.py", "curl"):
        made = prefix / "lib/demo/block" / other
        made.mkdir() if other == "curl" else made.write_text("")
        assert check(prefix, ld).ok, other
        made.rmdir() if other == "curl" else made.unlink()
    # An ELF file of its name is a module misnamed, not code of another kind (a GNOME Builder
    # tester's wrongname.so beside wrongname.plugin: only the stray was said).
    shutil.copy(prefix / "lib/demo/block/nfs.so", prefix / "lib/demo/block/curl.so.bak")
    assert {m.module for m in check(prefix, ld).modules if not m.loads} >= {"block-curl"}
    (prefix / "lib/demo/block/curl.so.bak").unlink()
    # Nor where the keyfile names other code (an Evince re-tester's copy PSdocument.evince-backend,
    # `Module=psdocument`), or another loader (libpeas's `Loader=python3`).
    (prefix / "lib/demo/block/curl.plugin").write_text("[Plugin]\nModule=nfs\n")
    assert check(prefix, ld).ok
    (prefix / "lib/demo/block/curl.plugin").write_text("[Plugin]\nModule=curl\nLoader=python3\n")
    assert check(prefix, ld).ok
    (prefix / "lib/demo/block/curl.plugin").write_text("[Plugin]\nModule=curl\nLoader=C\n")
    assert not check(prefix, ld).ok
    # Where the naming names the scripts themselves, the file it names is the code, whatever the
    # keyfile's loader (a Liferea tester's pane.py removed: "9 of 9 modules load").
    py = text.replace('naming = "{type}/{name}.so"', 'naming = "{type}/{name}.py"')
    py_ld = loader(
        tmp_path, py + '[loader.runners]\n"*.py" = ""\n[[loader.search]]\nrelocated = "lib/demo"\n'
    )
    (prefix / "lib/demo/block/curl.plugin").write_text("[Plugin]\nModule=curl\nLoader=python3\n")
    (prefix / "lib/demo/block/curl.ui").write_text("<interface/>\n")
    (row,) = [m for m in check(prefix, py_ld).modules if m.module == "block-curl"]
    assert not row.loads and "not there, while its descriptor" in row.problems[0].detail, row
    (prefix / "lib/demo/block/curl.ui").unlink()
    # A keyfile that is no module's (of no type's directory) is not one.
    (prefix / "lib/demo/block/curl.plugin").rename(prefix / "lib/demo/curl.plugin")
    assert check(prefix, ld).ok
    # `Module=` giving the file's stem is the module's own code (a Gnote tester's `Module=libtodo`
    # for libtodo.so: the file removed passed, the descriptor taken as naming other code).
    lib = loader(
        tmp_path,
        text.replace('"{type}/{name}.so"', '"{type}/lib{name}.so"')
        + '[[loader.search]]\nrelocated = "lib/demo"\n',
    )
    (prefix / "lib/demo/block/nfs.so").rename(prefix / "lib/demo/block/libnfs.so")
    (prefix / "lib/demo/block/nfs.plugin").write_text("[Plugin]\nModule=libnfs\n")
    assert "block-nfs" in {m.module for m in check(prefix, lib).modules if m.loads}
    (prefix / "lib/demo/block/libnfs.so").unlink()
    (row,) = [m for m in check(prefix, lib).modules if m.module == "block-nfs"]
    assert not row.loads and "not there, while its descriptor" in row.problems[0].detail, row


def test_a_descriptor_of_one_name_is_in_each_modules_own_directory(prefix: Path, tmp_path: Path) -> None:
    """An LV2 tester's `descriptor = "manifest.ttl"` with `{name}.lv2/plugin-linux.so`: it was
    looked for beside the bundle directory, one file for all, and scan warned of 94 bundles,
    each with its manifest.ttl, that "it never loads them"."""
    text = HEAD.replace(
        'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]', 'naming = "{name}.lv2/plugin.so"'
    )
    text = text.replace(
        'prefix = "/usr"\n', 'prefix = "/usr"\ndescriptor = "manifest.ttl"\nresolution = "register-all"\n', 1
    )
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/bundles"\n')
    for bundle in ("a.lv2", "b.lv2"):
        (prefix / "lib/bundles" / bundle).mkdir(parents=True)
        shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/bundles" / bundle / "plugin.so")
    (prefix / "lib/bundles/a.lv2/manifest.ttl").write_text("# a\n")
    assert ld.descriptor_of("/usr/lib/bundles/a.lv2/plugin.so", "a") == "/usr/lib/bundles/a.lv2/manifest.ttl"
    report = check(prefix, ld)
    rows = {m.module: m for m in report.modules}
    assert rows["a"].loads and not rows["a"].stray
    assert rows["b"].stray and "no manifest.ttl beside it" in rows["b"].problems[0].detail
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if "a.lv2" in w and "descriptor" in w], plan.warnings
    # Its binary gone, the bundle's manifest still registers it (an LV2 re-tester's delay-swh:
    # lilv lists delay_n and fails to load it; check left it out).
    (prefix / "lib/bundles/a.lv2/plugin.so").unlink()
    (row,) = [m for m in check(prefix, ld).modules if m.module == "a"]
    assert not row.loads and "not there, while its descriptor" in row.problems[0].detail, row


def test_a_module_file_without_its_descriptor_is_a_stray_though_another_module_links_it(
    prefix: Path, tmp_path: Path
) -> None:
    """A gThumb tester removed importer.extension: libimporter.so, which photo_importer links,
    got no row (the modules' own library is no stray), so the install's row said "where the
    loader does not look" of the directory it is in, and photo_importer that importer "is not
    installed". A module's file without its descriptor is a stray, linked or not."""
    text = HEAD.replace('prefix = "/usr"\n', 'prefix = "/usr"\ndescriptor = "{name}.plugin"\n', 1)
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    ui = prefix / "lib/demo/ui"
    base = build_extra_library(ui, "base.so")
    build_extra_module(
        prefix / "lib/demo", type="ui", name="top", stamp=None, needed=[base], runpath="$ORIGIN"
    )
    for so in (prefix / "lib/demo").glob("*/*.so"):
        so.with_suffix(".plugin").write_text("[Plugin]\n")
    (ui / "base.plugin").unlink()
    report = check(prefix, ld)
    (stray,) = [m for m in report.modules if m.file == f"{ui}/base.so"]
    assert stray.stray and "no base.plugin beside it" in stray.problems[0].detail, stray


def test_a_descriptor_is_beside_the_part_of_the_path_that_names_the_module() -> None:
    """A gedit tester's Python plug-ins are packages, `{name}/__init__.py`, whose keyfiles libpeas
    reads from the location (plugins/charmap.plugin): they were looked for in the package's own
    directory, and 11 plug-ins' keyfiles went to the core."""
    from qpack.loader import Naming

    ld = Loader(
        executables=("{prefix}/bin/gedit",),
        search=(),
        naming=Naming("lib{name}.so", alternatives=("{name}/__init__.py",)),
        descriptor="{name}.plugin",
    )
    assert ld.descriptor_of("/p/charmap/__init__.py", "charmap") == "/p/charmap.plugin"
    assert ld.descriptor_of("/p/sub/libspell.so", "spell") == "/p/sub/spell.plugin"
    assert ld.described_files("/p/charmap.plugin", "charmap") == (
        "/p/libcharmap.so",
        "/p/charmap/__init__.py",
    )
    typed = dataclasses.replace(ld, naming=Naming("{type}/{name}.so", ("ui",)), descriptor="{name}.desc")
    assert typed.descriptor_of("/p/ui/gtk.so", "ui-gtk") == "/p/ui/gtk.desc"
    assert typed.described_files("/p/ui/gtk.desc", "ui-gtk") == ("/p/ui/gtk.so",)


def test_a_descriptor_goes_with_its_module_and_one_lacking_is_warned(
    demo_build: Path, tmp_path: Path
) -> None:
    """The keyfiles went into the core package (a Pluma tester's `[per-module] files` typo), so
    each plug-in's package held code its loader never registers; with `descriptor` the layout
    says it once, and a module the build has no keyfile for is said."""
    build = copy_build(demo_build, tmp_path / "b")
    modules = sorted((build / "usr/lib/demo").glob("*/*.so"))
    for so in modules[1:]:
        so.with_suffix(".plugin").write_text("[Plugin]\n")
    # A keyfile whose module is gone (an Atril tester's: it went to the core in silence).
    (modules[1].parent / "gone.plugin").write_text("[Plugin]\n")
    modules[0].with_suffix(".plugin").mkdir()  # a directory of that name is no descriptor
    layout = load_layout("demo")
    layout = dataclasses.replace(
        layout, loader=dataclasses.replace(layout.loader, descriptor="{name}.plugin")
    )
    plan = make_plan(scan(build, cache=False), layout)
    for so in modules[1:]:
        rel = str(so.with_suffix(".plugin").relative_to(build))
        (package,) = [p for p in plan.packages if rel in p.files]
        assert str(so.relative_to(build)) in package.files and package.kind == "module"
    first = f"{modules[0].parent.name}-{modules[0].stem}"
    # Mistyped, no module has it: an error, with the file that is there.
    typo = dataclasses.replace(layout, loader=dataclasses.replace(layout.loader, descriptor="{name}.plugn"))
    with pytest.raises(
        PlanError, match=r"\.plugn for .*; [a-z]+\.plugin is there\): is \[loader\] descriptor mistyped"
    ):
        make_plan(scan(build, cache=False), typo)
    assert [w for w in plan.warnings if "descriptor" in w] == [
        f"module(s) {first}: no descriptor beside the file ([loader] descriptor '{{name}}.plugin'), which "
        "the loader registers modules by: it never loads them",
        f"usr/lib/demo/{modules[1].parent.name}/gone.plugin: named as descriptors are ([loader] descriptor "
        "'{name}.plugin') beside the modules, and no module of the build goes with them: they go to the "
        "rest, and the loader registers modules it finds no file of (unless they name code the layout does "
        "not take as modules, a Python plug-in's: a [[package]] naming them says so)",
    ]


def test_a_listed_variable_set_for_wheels_keeps_the_default_it_replaces(tmp_path: Path) -> None:
    """An Eye of GNOME tester followed install's advice, XDG_DATA_DIRS=<venv>/lib/<triplet>,
    and eog aborted ("No GSettings schemas are installed"): set, the variable replaced the
    /usr/share it defaults to, the system's plug-ins with it. The advice keeps that entry."""
    text = HEAD + textwrap.dedent(
        """
        [[loader.search]]
        env = "XDG_DATA_DIRS"
        list = true
        under = "demo/plugins"
        replaces = "next"
        wheels = "lib/demo-data"
        [[loader.search]]
        absolute = "/usr/share/demo/plugins"
        """
    )
    ld = loader(tmp_path, text)
    assert ld.wheel_settings("/v", {}, lambda d: True) == {"XDG_DATA_DIRS": "/v/lib/demo-data:/usr/share"}
    # Not where the location after it is no such default (another directory, or none replaced).
    other = loader(tmp_path, text.replace('absolute = "/usr/share/demo/plugins"', 'absolute = "/opt/demo"'))
    assert other.wheel_settings("/v", {}, lambda d: True) == {"XDG_DATA_DIRS": "/v/lib/demo-data"}
    alone = loader(tmp_path, text.replace('replaces = "next"\n', ""))
    assert alone.wheel_settings("/v", {}, lambda d: True) == {"XDG_DATA_DIRS": "/v/lib/demo-data"}
    # Replacing every one after it, each such default, in order (a GNOME Shell re-tester's
    # XDG_DATA_DIRS before /usr/local/share and /usr/share; a Zathura tester's plug-in path).
    every = text.replace('replaces = "next"', "replaces = true") + (
        '[[loader.search]]\nabsolute = "/opt/demo"\n'
        '[[loader.search]]\nabsolute = "/usr/local/share/demo/plugins"\n'
    )
    assert loader(tmp_path, every).wheel_settings("/v", {}, lambda d: True) == {
        "XDG_DATA_DIRS": "/v/lib/demo-data:/usr/share:/usr/local/share"
    }


def test_the_defaults_kept_in_the_advice_are_checked_only_where_they_are(tmp_path: Path) -> None:
    """A DSSI tester's `list` of a venv was checked as if DSSI_PATH=<venv>/lib/dssi:/usr/local/lib/dssi:
    ...: the defaults the advice keeps, none on this machine, were each "no directory: nothing
    found there", three warnings about a value qpack wrote. The check leaves them out; the
    advice keeps them (another machine may have them)."""
    settings = {"DSSI_PATH": "/v/lib/dssi:/usr/local/lib/dssi:/usr/lib/dssi:$HOME/.dssi"}
    there = {"/v/lib/dssi", "/usr/lib/dssi", "/home/u/.dssi"}
    assert Loader.as_checked(settings, {"HOME": "/home/u"}, lambda d: d in there) == {
        "DSSI_PATH": "/v/lib/dssi:/usr/lib/dssi:/home/u/.dssi"
    }
    assert Loader.as_checked(settings, {}) == {"DSSI_PATH": "/v/lib/dssi:/usr/local/lib/dssi:/usr/lib/dssi"}


def test_a_staged_root_judged_with_host_libraries_follows_an_absolute_runpath_on_the_host(
    demo_build: Path, tmp_path: Path
) -> None:
    """A Nemo tester's font-manager extension, RUNPATH /usr/lib/x86_64-linux-gnu/font-manager,
    checked with --root of a build lacking that directory (and an ld.so.cache): "missing-library",
    while the warning said libraries are looked up on this host too, which has it."""
    root = copy_build(demo_build, tmp_path / "root")
    host_dir = tmp_path / "host-only"
    lib = build_extra_library(host_dir, "libhostonly.so.1")
    build_extra_module(
        root / "usr/lib/demo", type="ui", name="curses", stamp=STAMP, needed=[lib], runpath=str(host_dir)
    )
    rows = {m.module: m for m in check("/usr", load_layout("demo").loader, root=root).modules}
    assert rows["ui-curses"].loads, rows["ui-curses"].problems
    # A directory the tree has is the build's own: the host's copy there does not stand in for
    # the library the build lost (Samba's and Kerberos's testers: a library removed from the
    # staged tree's private directory, "yes", exit 0, because the host had the program installed).
    own = root / str(host_dir).lstrip("/")
    own.mkdir(parents=True)
    build_extra_library(own, "libother.so.1")
    rows = {m.module: m for m in check("/usr", load_layout("demo").loader, root=root).modules}
    assert not rows["ui-curses"].loads
    assert [p.kind for p in rows["ui-curses"].problems] == ["missing-library"], rows["ui-curses"].problems


def test_a_copy_of_the_loader_library_where_modules_are_is_no_stray(prefix: Path, tmp_path: Path) -> None:
    """An OpenCL tester's venv: the wheel made copies of libOpenCL.so.1's links (libOpenCL.so,
    libOpenCL.so.1.0.0) in the directory the ICDs are searched in, and the system's copy shared
    the other one: four `never-looked-up` strays, exit 1, on a correct install. A library of the
    loader library's SONAME is that library, not a module."""
    util = next((prefix / "lib").glob("libdemo-util.so.*"))
    text = HEAD.replace('prefix = "/usr"\n', f'prefix = "/usr"\nlibrary = "{{prefix}}/lib/{util.name}"\n', 1)
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    shutil.copy(util.resolve(), prefix / "lib/demo/libdemo-util.so")
    report = check(prefix, ld)
    assert report.ok, [(m.file, m.problems) for m in report.modules if m.problems]
    assert not [w for w in report.warnings if "[loader] library" in w]
    # Its name mistyped, it is said (an Atril tester's .so.2 for .so.3: plan warned, check not).
    typo = loader(
        tmp_path, text.replace(util.name, util.name + "9") + '[[loader.search]]\nrelocated = "lib/demo"\n'
    )
    # The SONAME link gone beside the versioned file: that is said, not a near name (a VA-API
    # tester's libva.so.2 removed got "libva-x11.so.2 is there").
    versioned = util.with_name(util.name + ".0")
    shutil.copy(util, versioned)
    util.unlink()
    said = [w for w in check(prefix, ld).warnings if util.name in w]
    assert said and "is the link ldconfig makes from its SONAME missing" in said[0], said
    util.symlink_to(versioned.name)
    said = [w for w in check(prefix, typo).warnings if "[loader] library" in w]
    assert said == [
        f"[loader] library {prefix}/lib/{util.name}9: no such file in the prefix; {prefix}/lib/{util.name} "
        "is there: is its name mistyped?"
    ], said
    # Another library alike in its `lib` and `.so.1` is no slip (a libdbi tester's libdbi.so.1
    # was offered libdw.so.1).
    other = util.name.replace("util", "utl2")
    unlike = loader(tmp_path, text.replace(util.name, other) + '[[loader.search]]\nrelocated = "lib/demo"\n')
    said = [w for w in check(prefix, unlike).warnings if "[loader] library" in w]
    assert said == [f"[loader] library {prefix}/lib/{other}: no such file in the prefix"], said
    # With no executable named, the layout's library mistyped stops the check: the file beside it
    # is named (a p11-kit tester's libp11-kit.so.1 for .so.0).
    alone = text.replace('executables = ["{prefix}/bin/demo"]\n', "").replace(util.name, util.name + "9")
    with pytest.raises(
        CheckError, match=rf"none of the loader's executables .*{util.name} is there: mistyped"
    ):
        check(prefix, loader(tmp_path, alone + '[[loader.search]]\nrelocated = "lib/demo"\n'))
    # A library of another SONAME there is a stray all the same.
    other = build_extra_library(tmp_path / "other", "libother.so.1")
    shutil.copy(other, prefix / "lib/demo/libother.so")
    assert [m.file for m in check(prefix, ld).modules if m.stray] == [f"{prefix}/lib/demo/libother.so"]


def test_a_naming_one_letter_off_the_files_fails_a_check_that_finds_no_module(
    prefix: Path, tmp_path: Path
) -> None:
    """An IBus tester's `ibus-engin-{name}` beside /usr/libexec/ibus-engine-simple: check said
    "0 of 0 modules load", exit 0, where plan stopped on the same layout. A start farther off,
    or no file near it (a core installed alone), still checks."""
    engines = prefix / "libexec/engines"
    engines.mkdir(parents=True)
    shutil.copy(prefix / "bin/demo", engines / "demo-engine-simple")
    flat = HEAD.replace(
        'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]\n', 'naming = "demo-engin-{name}"\n'
    )
    with pytest.raises(
        CheckError, match=r"files in .*/libexec/engines start as 'demo-engine-', not as the naming's"
    ):
        check(prefix, loader(tmp_path, flat + '[[loader.search]]\nrelocated = "libexec/engines"\n'))
    far = flat.replace("demo-engin-", "demo-motor-")
    report = check(prefix, loader(tmp_path, far + '[[loader.search]]\nrelocated = "libexec/engines"\n'))
    assert report.modules == ()
    # A start of five letters (a monitoring-plugins tester's `chek_{name}` for check_load: exit 1).
    (engines / "demo-engine-simple").rename(engines / "check_load")
    short = flat.replace("demo-engin-", "chek_")
    with pytest.raises(CheckError, match=r"start as 'check_', not as the naming's 'chek_'"):
        check(prefix, loader(tmp_path, short + '[[loader.search]]\nrelocated = "libexec/engines"\n'))


def test_one_file_under_two_module_names_is_said_by_each_name(prefix: Path, tmp_path: Path) -> None:
    """A CUPS tester's filters cgmtopdf, emftopdf... are links to vectortopdf (a script): each
    row's detail named cgmtopdf, the name judged first, even vectortopdf's own."""
    block = prefix / "lib/demo/block"
    (block / "curl.so").write_text("#!/bin/sh\n")
    (block / "nfs.so").unlink()
    (block / "nfs.so").symlink_to("curl.so")
    ld = loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n')
    rows = {m.module: m for m in check(prefix, ld).modules}
    for mid, name in (("block-curl", "curl.so"), ("block-nfs", "nfs.so")):
        assert rows[mid].problems[0].detail.startswith(f"{block}/{name}: "), rows[mid].problems


def test_a_wheel_s_copy_of_a_module_s_development_link_is_no_stray(prefix: Path, tmp_path: Path) -> None:
    """A VDPAU tester's drivers are named libvdpau_{name}.so.1; a wheel holds the -dev link
    libvdpau_radeonsi.so as a copy of the same bytes beside the module: a never-looked-up row,
    exit 1, on a clean install. Other bytes under that name are a stray all the same."""
    ui = prefix / "lib/demo/ui"
    for so in (prefix / "lib/demo").glob("*/*.so"):
        so.rename(so.with_name(so.name + ".1"))
    shutil.copy(ui / "curses.so.1", ui / "curses.so")  # what a wheel makes of curses.so -> .so.1
    text = HEAD.replace('naming = "{type}/{name}.so"', 'naming = "{type}/{name}.so.1"')
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    report = check(prefix, ld)
    assert not [m for m in report.modules if m.stray], [m.file for m in report.modules if m.stray]
    shutil.copy(ui / "gtk.so.1", ui / "curses.so")  # other bytes
    assert [m.file for m in check(prefix, ld).modules if m.stray] == [f"{ui}/curses.so"]


def test_a_naming_typo_with_one_file_where_modules_are_fails_the_check(prefix: Path, tmp_path: Path) -> None:
    """A Mousepad tester's one plug-in under a naming typo: plan stopped ("is the naming
    wrong?"), check said "0 of 0 modules load; 1 problem(s)", exit 1, blaming the plug-in."""
    one = prefix / "lib/one/ui"
    one.mkdir(parents=True)
    shutil.copy(prefix / "lib/demo/ui/curses.so", one / "curses.so")
    text = HEAD.replace("[loader.stamp]", 'entry = "demo_module_init"\n[loader.stamp]')
    typo = text.replace('naming = "{type}/{name}.so"', 'naming = "{type}/lib-{name}.so"')
    with pytest.raises(
        CheckError, match=r"named as no module \(.*/lib/one/ui/curses.so\): is \[loader\] naming"
    ):
        check(prefix, loader(tmp_path, typo + '[[loader.search]]\nrelocated = "lib/one"\n'))


def test_a_file_no_elf_the_layout_gives_a_package_by_name_is_no_module(prefix: Path, tmp_path: Path) -> None:
    """A bash tester's loadable builtins, named `{name}` in /usr/lib/bash beside Makefile.inc and
    loadables.h, which bash-builtins-dev takes by `files`: three modules refused ("not an ELF
    file"), an extra each in the meta wheel, and check of Debian's own /usr exit 1. A file that
    is no ELF at all, which the layout gives a package by name, is none of the modules."""
    tools = prefix / "lib/tools"
    tools.mkdir()
    shutil.copy(prefix / "lib/demo/ui/curses.so", tools / "curses")
    (tools / "Makefile.inc").write_text("CC = cc\n")
    (tools / "stray.txt").write_text("not named by the layout\n")
    text = HEAD.replace(
        'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]\n', 'naming = "{name}"\n'
    )
    text += '[[loader.search]]\nrelocated = "lib/tools"\n'
    text += '[[package]]\nname = "dev"\nrequired = false\nfiles = ["{prefix}/lib/tools/Makefile.*"]\n'
    ld = loader(tmp_path, text)
    rows = {m.module: m for m in check(prefix, ld).modules}
    assert "Makefile.inc" not in rows
    assert rows["curses"].loads
    assert [p.kind for p in rows["stray.txt"].problems] == ["unreadable"]  # named by no rule: judged
    inventory = scan(prefix.parent, "/usr", cache=False)
    plan = make_plan(inventory, load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert {m.id for m in plan.modules} == {"curses", "stray.txt"}
    assert plan.owner()["usr/lib/tools/Makefile.inc"] == "dev"


def test_the_bound_on_entry_reads_is_a_detail_not_a_warning(prefix: Path, tmp_path: Path) -> None:
    """A libgphoto2 tester's layout, whose one location is the library directory (two types in
    two directories below it), warned on every check, a clean /usr too: "1000 files where
    modules would be, named as none, were read for an entry symbol". That is the check's own
    bound, not the prefix's fault: a detail (--verbose), no warning."""
    text = HEAD.replace("[loader.stamp]", 'entry = "demo_module_init"\n[loader.stamp]')
    text = text.replace(
        'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]', 'naming = "ui/{name}.so"'
    )
    ld = loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n')
    (prefix / "lib/demo/other").mkdir()
    for i in range(1001):  # in a directory beside the types', named as no module
        (prefix / f"lib/demo/other/x{i}.so").write_bytes(b"not ELF")
    report = check(prefix, ld)
    said = [d for d in report.details if "were read for an entry symbol" in d]
    assert said and said[0].startswith("1000 files where modules would be"), report.details
    assert not [w for w in report.warnings if "were read for an entry symbol" in w], report.warnings


def test_a_bare_name_naming_makes_no_stray_of_files_above_the_type_directories(
    prefix: Path, tmp_path: Path
) -> None:
    """A MATE panel tester's `{type}/{name}` searched in /usr/lib: cpp, ld-linux.so.2 and 62 more
    of other packages' files at the top of /usr/lib were `never-looked-up`, exit 1, on a clean
    system. Any name fits a bare `{name}`: a file above the type directories is no sign of a
    module there. With an ending (`{type}/{name}.so`), one named so still is (demo's
    ui-curses.so beside ui/)."""
    shutil.copy(prefix / "bin/demo", prefix / "lib/demo/cpp")
    text = HEAD.replace('naming = "{type}/{name}.so"', 'naming = "{type}/{name}"')
    report = check(prefix, loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n'))
    assert not [m.file for m in report.modules if m.file and m.file.endswith("/cpp")]
    shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / "lib/demo/ui-curses.so")
    report = check(prefix, loader(tmp_path, HEAD + '[[loader.search]]\nrelocated = "lib/demo"\n'))
    strays = [m.file for m in report.modules if any(p.kind == "never-looked-up" for p in m.problems)]
    assert strays == [f"{prefix}/lib/demo/ui-curses.so"], strays


def test_a_library_directory_searched_holds_no_strays_but_modules(prefix: Path, tmp_path: Path) -> None:
    """A Guile tester's layout searches /usr/lib/x86_64-linux-gnu before the extensions directory,
    as Guile does, with `known` naming its two extensions: check of a healthy /usr called 4,089
    libraries there modules the loader never looks up, and 1,777 files below them misplaced,
    exit 1. A library directory every package shares (lib, lib64, lib/<triplet>) holds libraries:
    only a file defining an entry there is a stray; elsewhere a file named as an unknown module
    still is one."""
    for d in ("lib", "lib/own"):
        (prefix / d).mkdir(exist_ok=True)
        shutil.copy(prefix / "lib/demo/ui/curses.so", prefix / d / "curses.so")
        build_extra_library(prefix / d, "other.so")
        (prefix / d / "sub").mkdir()
        build_extra_library(prefix / d / "sub", "below.so")
    text = HEAD.replace(
        'naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]', 'naming = "{name}.so"'
    )
    text += '[modules]\nknown = ["curses"]\n'
    for d, strays in (("lib", []), ("lib/own", ["other.so"])):
        report = check(prefix, loader(tmp_path, text + f'[[loader.search]]\nrelocated = "{d}"\n'))
        assert [m.module for m in report.modules if m.loads] == ["curses"], report.modules
        found = [Path(m.file or "").name for m in report.modules if not m.loads]
        assert found == strays, report.modules
        below = [w for w in report.warnings if "below where the loader reads" in w]
        assert bool(below) is (d == "lib/own"), report.warnings
        # plan says the same of a build (a Guile re-tester's libguile-cairo.so: three warnings).
        plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
        said = [w.partition(":")[0] for w in plan.warnings if "in a module directory" in w]
        assert said == ([f"usr/{d}/other.so", f"usr/{d}/sub/below.so"] if d == "lib/own" else []), (
            plan.warnings
        )


def test_files_below_a_location_not_searched_are_no_sign_of_a_depth_too_small(
    prefix: Path, tmp_path: Path
) -> None:
    """A DSSI tester's `--env DSSI_PATH=` (empty: it replaces the defaults, and the programs
    search nothing): "no module found where the loader reads, and files named as modules lie
    one level deeper (/usr/lib/dssi/hexter/hexter_gtk ...): is [loader] depth too small", exit 2,
    of a directory no program searched."""
    flat = loader(
        tmp_path,
        HEAD.replace('naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]', 'naming = "{name}.so"')
        + '[[loader.search]]\nenv = "V"\nreplaces = true\n[[loader.search]]\nrelocated = "lib/flat"\n',
    )
    (prefix / "lib/flat/sub").mkdir(parents=True)
    shutil.copy(
        build_extra_module(tmp_path / "b", type="t", name="x", stamp=None), prefix / "lib/flat/sub/x.so"
    )
    with pytest.raises(CheckError, match="lie one level deeper"):
        check(prefix, flat)  # searched: the layout's depth is likely wrong
    report = check(prefix, flat, env={"V": ""})
    assert not report.modules
    assert not [w for w in report.warnings if "below where the loader reads" in w], report.warnings


def test_a_module_that_is_a_script_runs_where_modules_are_programs(prefix: Path, tmp_path: Path) -> None:
    """A netdata tester's charts.d.plugin and python.d.plugin (shell and Python scripts netdata
    runs) were "unreadable: not an ELF file", exit 1, on Debian's own install (the monitoring
    plug-ins' scripts too). Where modules are programs, a script runs when it is executable and
    its interpreter is there; as a library (`{name}.so` only) it is still no module."""
    ui = prefix / "lib/demo/ui"
    for name, text, mode in (
        ("runs", "#!/bin/sh\necho\n", 0o755),
        ("envsh", "#!/usr/bin/env sh\necho\n", 0o755),
        ("noexec", "#!/bin/sh\necho\n", 0o644),
        ("nointerp", "#!/nonexistent/qsh\necho\n", 0o755),
        ("crlf", "#!/bin/sh\r\necho\r\n", 0o755),  # the interpreter is `/bin/sh\r` (a CUPS re-tester)
    ):
        (ui / name).write_text(text)
        (ui / name).chmod(mode)
    text = HEAD.replace('naming = "{type}/{name}.so"', 'naming = ["{type}/{name}.so", "{type}/{name}"]')
    report = check(prefix, loader(tmp_path, text + '[[loader.search]]\nrelocated = "lib/demo"\n'))
    rows = {m.module: m for m in report.modules}
    assert rows["ui-runs"].loads and rows["ui-envsh"].loads, (rows["ui-runs"], rows["ui-envsh"])
    assert [p.kind for p in rows["ui-noexec"].problems] == ["unreadable"]
    assert "a script without the execute bit (mode 0644)" in rows["ui-noexec"].problems[0].detail
    assert [p.kind for p in rows["ui-crlf"].problems] == ["missing-library"], rows["ui-crlf"]
    assert [(p.kind, p.detail) for p in rows["ui-nointerp"].problems] == [
        (
            "missing-library",
            f"{ui}/nointerp: its interpreter /nonexistent/qsh is not installed: the loader cannot run it",
        )
    ]
    # An ELF program without the execute bit cannot run either (a CUPS tester's 0644 filter and a
    # netdata re-tester's 0644 plug-in were "yes"); with it, it runs.
    # A library the loader opens needs none (LADSPA's `plate_noext`, mode 0644, loads).
    for name, mode in (("elf644", 0o644), ("elf755", 0o755)):
        shutil.copy(prefix / "bin/demo", ui / name)
        (ui / name).chmod(mode)
    shutil.copy(ui / "curses.so", ui / "lib644")
    (ui / "lib644").chmod(0o644)
    rows = {m.module: m for m in check(prefix, load_layout(tmp_path / "layout.toml").loader).modules}
    assert [(p.kind, p.detail) for p in rows["ui-elf644"].problems] == [
        (
            "unreadable",
            f"{ui}/elf644: a program without the execute bit (mode 0644): the loader cannot run it",
        )
    ]
    assert "unreadable" not in [p.kind for p in rows["ui-elf755"].problems]  # it runs (no stamp)
    assert rows["ui-lib644"].loads, rows["ui-lib644"]
    for name in ("elf644", "elf755", "lib644"):
        (ui / name).unlink()
    # In a staged tree with no /bin of its own, the interpreter is the host's, as its libraries
    # are (a netdata re-tester's DESTDIR: every script's interpreter "not installed").
    staged = check("/usr", load_layout(tmp_path / "layout.toml").loader, root=prefix.parent)
    assert {m.module: m.loads for m in staged.modules}["ui-runs"], staged.modules
    # plan says nothing of them as not ELF, as check.
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert not [w for w in plan.warnings if "not an ELF file" in w], plan.warnings


def test_an_entry_alternative_no_module_defines_while_most_define_none_is_mistyped(
    prefix: Path, tmp_path: Path
) -> None:
    """A SQLite tester's `entry = ["sqlite3_extenson_init", "sqlite3_modspatialite_init"]`: five
    of six extensions defined neither (one defined the second), five warnings, exit 0, for
    extensions sqlite3 loads. An alternative no module defines, while most modules (two or more)
    define none, is mistyped; a few broken modules beside an alternative the build does not use
    are only warned of."""
    demo = prefix / "lib/demo"
    modules = sorted(demo.glob("*/*.so"))
    kept = {m: m.read_bytes() for m in modules}
    for mod in modules[1:]:
        build_extra_library(mod.parent, mod.name)  # the same name, no entry symbol
    layout = '[[loader.search]]\nrelocated = "lib/demo"\n[per-module]\nname = "p-{module}"\n'
    typo = HEAD.replace("[loader.stamp]", 'entry = ["demo_modul_init", "demo_module_init"]\n[loader.stamp]')
    loader(tmp_path, typo.replace('symbol = "demo_stamp_*"\n', "") + layout)
    with pytest.raises(PlanError) as e:
        make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"))
    assert [p for p in e.value.problems if "mistyped" in p] == [
        "no module of the build defines 'demo_modul_init', a symbol of [loader] entry, and 6 modules define "
        "none of its symbols (usr/lib/demo/audio/pa.so, usr/lib/demo/block/curl.so and 4 more): is "
        "'demo_modul_init' mistyped?"
    ], e.value.problems
    # Two broken of seven: warned of, no layout error.
    for mod in modules[:-2]:
        mod.write_bytes(kept[mod])
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"))
    assert len([w for w in plan.warnings if "does not define any of" in w]) == 2, plan.warnings


def test_a_copy_that_is_no_elf_makes_no_module_twice_for_a_loader_passing_over_it(
    prefix: Path, tmp_path: Path
) -> None:
    """A SQLite tester's junk `libsqlite3_mod_csvtable` beside the `.so` that sqlite3 tries after
    it: plan stopped, "installed twice", exit 2, where the loader passes over the file dlopen
    refuses. A loader looking up by name keeps the first file, so there it is still an error."""
    (prefix / "lib/demo/ui/curses").write_text("not ELF\n")
    naming = 'naming = ["{type}/{name}", "{type}/{name}.so"]'
    text = HEAD.replace('naming = "{type}/{name}.so"', naming) + '[[loader.search]]\nrelocated = "lib/demo"\n'
    loader(tmp_path, text.replace('prefix = "/usr"\n', 'prefix = "/usr"\nresolution = "first-loadable"\n', 1))
    plan = make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
    assert "ui-curses" in {m.id for m in plan.modules}
    loader(tmp_path, text)
    with pytest.raises(PlanError, match="installed twice"):
        make_plan(scan(prefix.parent), load_layout(tmp_path / "layout.toml"), unclaimed="core")
