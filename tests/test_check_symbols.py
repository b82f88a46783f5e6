"""Modules that bind, as they load, a symbol of a library only some of the loader's programs
load (strongSwan's charon plug-ins use libcharon's `charon`; `pki` does not link libcharon and
its loader refuses them): `check` judges each program apart, against the real dynamic linker.

Built here with the system compiler: a library, two programs (one links it), and four
modules, each run through the real dlopen (RTLD_LAZY, as strongSwan's plug-in loader).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from .conftest import compile_c as _cc
from .conftest import have_cc, run_qpack

PROGRAM = r"""
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    void *h = dlopen(argv[1], RTLD_LAZY);
    puts(h ? "ok" : dlerror());
    return h ? 0 : 1;
}
"""

LAYOUT = """
[layout]
name = "host"
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/with", "{prefix}/bin/without"]
naming = "{name}.so"
[[loader.search]]
relocated = "lib/plug"
[[package]]
name = "host-core"
rest = true
"""
# `without` never loads `linked` (as Dovecot's <name>_binary_dependency, [modules.programs]):
# a module of the program linking the library would bring it for the others (see below).
ONLY_WITH = '[modules.programs]\n"linked" = ["{prefix}/bin/with"]\n'

# module -> (C source, extra link arguments)
MODULES = {
    "data": ("extern int host_state; int get(void) { return host_state; }", []),
    "lazy": ("extern int host_fn(void); int get(void) { return host_fn(); }", []),
    "now": ("extern int host_fn(void); int get(void) { return host_fn(); }", ["-Wl,-z,now"]),
    "linked": (
        "extern int host_state; int get(void) { return host_state; }",
        ["-L{lib}", "-lhost", "-Wl,-rpath,$ORIGIN/..", "-Wl,--enable-new-dtags"],
    ),
    # Binds the symbol from a library of its own that defines it too (an Enchant tester's
    # hunspell provider: _Unwind_Resume from its libgcc_s, not from the libunwind some
    # programs load, was called missing on a healthy system).
    "own": (
        "extern int host_state; int get(void) { return host_state; }",
        ["-L{lib}", "-lown", "-Wl,-rpath,$ORIGIN/..", "-Wl,--enable-new-dtags"],
    ),
}


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the programs are built here")
    tmp = tmp_path_factory.mktemp("host")
    usr = tmp / "usr"
    lib, plug, bindir = usr / "lib", usr / "lib/plug", usr / "bin"
    for d in (plug, bindir):
        d.mkdir(parents=True)
    _cc(tmp, lib / "libhost.so.1", "int host_state = 7; int host_fn(void) { return 3; }",
        "-shared", "-fPIC", "-Wl,-soname,libhost.so.1")  # fmt: skip
    (lib / "libhost.so").symlink_to("libhost.so.1")
    _cc(tmp, lib / "libown.so.1", "int host_state = 9;", "-shared", "-fPIC", "-Wl,-soname,libown.so.1")
    (lib / "libown.so").symlink_to("libown.so.1")
    rpath = ["-Wl,-rpath,$ORIGIN/../lib", "-Wl,--enable-new-dtags", "-ldl"]
    _cc(tmp, bindir / "with", PROGRAM, f"-L{lib}", "-Wl,--no-as-needed", "-lhost", *rpath)
    _cc(tmp, bindir / "without", PROGRAM, *rpath)
    for name, (source, extra) in MODULES.items():
        _cc(tmp, plug / f"{name}.so", source, "-shared", "-fPIC", *(a.format(lib=lib) for a in extra))
    (lib / "libhost.so").unlink()  # a development link: no package ships it here
    (lib / "libown.so").unlink()
    (tmp / "layout.toml").write_text(textwrap.dedent(LAYOUT) + ONLY_WITH)
    (tmp / "all.toml").write_text(textwrap.dedent(LAYOUT))
    return usr


def real(prefix: Path, program: str, module: str) -> bool:
    """Whether the real program's dlopen accepts the module (lib/plug/<module>.so)."""
    r = subprocess.run(
        [str(prefix / "bin" / program), str(prefix / f"lib/plug/{module}.so")],
        capture_output=True, text=True, check=False, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return r.returncode == 0


def verdicts(prefix: Path, layout: str) -> tuple[dict, dict[tuple[str, str], dict]]:
    """The report, and each (module, program)'s row."""
    r = run_qpack("check", str(prefix), "-l", str(prefix.parent / layout), "--json")
    assert r.returncode in (0, 1), r.stderr
    report = json.loads(r.stdout)
    return report, {(m["module"], p): m for m in report["modules"] for p in m["executables"]}


def test_a_module_binding_a_symbol_its_program_lacks_is_refused_for_that_program(prefix: Path) -> None:
    report, found = verdicts(prefix, "layout.toml")
    for module in MODULES:
        for program in ("with", "without"):
            if (module, program) == ("linked", "without"):
                assert (module, f"{prefix}/bin/{program}") not in found  # [modules.programs]
                continue
            v = found[(module, f"{prefix}/bin/{program}")]
            assert v["loads"] == real(prefix, program, module), (module, program, v)
    # What the real loader says: data and -z now refused without the library; a lazily bound
    # call (never made) loads.
    refused = {m for (m, p), v in found.items() if p.endswith("/without") and not v["loads"]}
    assert refused == {"data", "now"}
    (problem,) = found[("data", f"{prefix}/bin/without")]["problems"]
    assert problem == {
        "kind": "missing-symbol",
        "detail": f"{prefix}/lib/plug/data.so: binds host_state as it is loaded, which "
        f"{prefix}/lib/libhost.so.1 defines and nothing {prefix}/bin/without or the module loads does: "
        "the dynamic linker refuses the module",
    }
    assert report["summary"]["load"] == 3 and report["summary"]["some"] == 2
    # Judged alone (`--program`), as among the layout's programs (a re-tester's pki alone was
    # passed again: no program of that run loaded libcharon).
    r = run_qpack(
        "check", str(prefix), "-l", str(prefix.parent / "layout.toml"), "--json",
        "--program", str(prefix / "bin/without"),
    )  # fmt: skip
    alone = {m["module"]: m["loads"] for m in json.loads(r.stdout)["modules"] if m["module"] != "linked"}
    assert alone == {"data": False, "lazy": True, "now": False, "own": True}, r.stdout


def test_a_library_another_module_of_the_program_links_is_not_taken_as_lacking(prefix: Path) -> None:
    """`without` asking for `linked` too: linked.so brings libhost.so.1, which a loader opening
    modules RTLD_GLOBAL (Dovecot, whose sieve/ plug-ins bind the libdovecot-sieve the sieve
    plugin brings) makes visible to the modules after it. Check counts it as there, whatever
    the loader's flags: no module is refused for it (this RTLD_LOCAL program would refuse
    data.so opened alone: the README says so), and linked.so loads, as the real program agrees."""
    _, found = verdicts(prefix, "all.toml")
    assert found[("linked", f"{prefix}/bin/without")]["loads"] is real(prefix, "without", "linked") is True
    assert all(v["loads"] for (m, _), v in found.items() if m in ("data", "lazy", "linked"))


TWO_PROGRAMS = """
[layout]
name = "two"
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/connd", "{prefix}/bin/vpnd"]
naming = "{type}/{name}.so"
types = ["plugin", "vpn"]
[[loader.search]]
relocated = "lib/plug"
[loader.program-types]
"{prefix}/bin/connd" = ["plugin"]
"{prefix}/bin/vpnd" = ["vpn"]
[[package]]
name = "two-core"
rest = true
"""


def test_a_module_built_for_another_program_is_refused_where_it_lies(tmp_path: Path) -> None:
    """ConnMan's connman-vpnd exports vpn_register to its VPN plug-ins; connmand does not. A
    ConnMan tester's wireguard.so copied into connmand's plug-in directory was judged loading:
    dlopen(RTLD_NOW) refuses it there ("undefined symbol: vpn_register"). The programs load
    different types, so each one's modules may bind what only it exports."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the programs are built here")
    usr = tmp_path / "usr"
    bindir, plug = usr / "bin", usr / "lib/plug"
    for d in (bindir, plug / "plugin", plug / "vpn"):
        d.mkdir(parents=True)
    now = PROGRAM.replace("RTLD_LAZY", "RTLD_NOW")
    _cc(tmp_path, bindir / "connd", now + "int conn_register(void) { return 1; }\n", "-rdynamic", "-ldl")
    _cc(tmp_path, bindir / "vpnd", now + "int vpn_register(void) { return 2; }\n", "-rdynamic", "-ldl")
    wg = "extern int vpn_register(void); int init(void) { return vpn_register(); }"
    _cc(tmp_path, plug / "vpn/wg.so", wg, "-shared", "-fPIC")
    shutil.copy2(plug / "vpn/wg.so", plug / "plugin/wg.so")
    ok = "extern int conn_register(void); int init(void) { return conn_register(); }"
    _cc(tmp_path, plug / "plugin/ok.so", ok, "-shared", "-fPIC")
    layout = tmp_path / "two.toml"
    layout.write_text(textwrap.dedent(TWO_PROGRAMS))
    r = run_qpack("check", str(usr), "-l", str(layout), "--json")
    assert r.returncode == 1, r.stderr
    rows = {m["module"]: m for m in json.loads(r.stdout)["modules"]}

    assert (rows["plugin-wg"]["loads"], real(usr, "connd", "plugin/wg")) == (False, False)
    assert (rows["plugin-ok"]["loads"], real(usr, "connd", "plugin/ok")) == (True, True)
    assert (rows["vpn-wg"]["loads"], real(usr, "vpnd", "vpn/wg")) == (True, True)
    assert rows["plugin-wg"]["problems"] == [
        {
            "kind": "missing-symbol",
            "detail": f"{plug}/plugin/wg.so: binds vpn_register as it is loaded, which {bindir}/vpnd "
            f"exports and nothing {bindir}/connd or the module loads defines: the dynamic linker "
            f"refuses the module (one built for {bindir}/vpnd?)",
        }
    ]


ONE_PROGRAM = """
[layout]
name = "one"
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/host"]
naming = "{name}.so"
unresolved = "refused"
[[loader.search]]
relocated = "lib/plug"
[[package]]
name = "one-core"
rest = true
"""


def _host(tmp_path: Path, usr: Path) -> tuple[Path, Path]:
    """(bin, lib/plug) of `usr`, with bin/host, a program loading a module RTLD_NOW | RTLD_GLOBAL
    and exporting host_api."""
    bindir, plug = usr / "bin", usr / "lib/plug"
    for d in (bindir, plug):
        d.mkdir(parents=True)
    host = PROGRAM.replace("RTLD_LAZY", "RTLD_NOW | RTLD_GLOBAL") + "int host_api(void) { return 1; }\n"
    _cc(tmp_path, bindir / "host", host, "-rdynamic", "-ldl")
    return bindir, plug


def test_a_symbol_nothing_defines_refuses_the_module_where_the_layout_says_so(tmp_path: Path) -> None:
    """A Mosquitto tester's plug-in built for a newer broker binds a symbol nothing defines, and
    dlopen(RTLD_NOW) refuses it; check said it loads (apr-util's and ConnMan's testers too).
    With `unresolved = "refused"`, a module binding a symbol that neither the program, its
    libraries, the module's own nor any module found defines is `missing-symbol`; a symbol
    another module defines (an RTLD_GLOBAL loader's earlier module) is not."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the programs are built here")
    usr = tmp_path / "usr"
    bindir, plug = _host(tmp_path, usr)
    sources = {
        "good": '#include <stdio.h>\nint host_api(void);\nint init(void) { puts("x"); return host_api(); }',
        "newer": "extern int host_api_v2(void); int init(void) { return host_api_v2(); }",
        "base": "int base_api(void) { return 4; }",
        "extra": "extern int base_api(void); int init(void) { return base_api(); }",
    }
    for name, source in sources.items():
        _cc(tmp_path, plug / f"{name}.so", source, "-shared", "-fPIC")
    # A library the module brings, itself binding what nothing defines (a Mosquitto re-tester's
    # stale helper library: "libdep.so.1: undefined symbol: nothere_sym").
    lib = usr / "lib"
    stale = "extern int nothere_sym; int libdep_fn(void) { return nothere_sym; }"
    _cc(tmp_path, lib / "libdep.so.1", stale, "-shared", "-fPIC", "-Wl,-soname,libdep.so.1")
    (lib / "libdep.so").symlink_to("libdep.so.1")
    user = "extern int libdep_fn(void); int init(void) { return libdep_fn(); }"
    _cc(tmp_path, plug / "depuser.so", user, "-shared", "-fPIC", f"-L{lib}", "-ldep", "-Wl,-rpath,$ORIGIN/..")
    (lib / "libdep.so").unlink()
    layout = tmp_path / "one.toml"
    layout.write_text(textwrap.dedent(ONE_PROGRAM))
    r = run_qpack("check", str(usr), "-l", str(layout), "--json")
    assert r.returncode == 1, r.stderr
    rows = {m["module"]: m for m in json.loads(r.stdout)["modules"]}
    assert {m: rows[m]["loads"] for m in sources} == {
        "good": True,
        "newer": False,
        "base": True,
        "extra": True,
    }
    assert not rows["depuser"]["loads"]
    assert rows["depuser"]["problems"][0]["detail"].startswith(
        f"{lib}/libdep.so.1 (needed by {plug}/depuser.so): binds nothere_sym as it is loaded, which nothing "
    )
    assert rows["newer"]["problems"] == [
        {
            "kind": "missing-symbol",
            "detail": f"{plug}/newer.so: binds host_api_v2 as it is loaded, which nothing defines: not "
            f"{bindir}/host, the libraries loaded with it, the module's own, nor any module "
            '(unresolved = "refused"): the dynamic linker refuses it '
            "(a module it needs missing, or one built for another release?)",
        }
    ]

    assert (real(usr, "host", "good"), real(usr, "host", "newer"), real(usr, "host", "depuser")) == (
        True,
        False,
        False,
    )
    # Without the key, as before: qpack cannot know what else the process holds.
    layout.write_text(textwrap.dedent(ONE_PROGRAM).replace('unresolved = "refused"\n', ""))
    r = run_qpack("check", str(usr), "-l", str(layout), "--json")
    assert r.returncode == 0, r.stdout


def _other_machines_libc() -> bool:
    """Whether this machine's ld.so.cache lists a libc.so.6 of another machine (x32's, from
    gcc-multilib) as well as the x86-64 one."""
    try:
        out = subprocess.run(
            ["ldconfig", "-p"], capture_output=True, text=True, check=False, timeout=30
        ).stdout
    except OSError:
        return False
    kinds = {line.split("(", 1)[1].split(")")[0] for line in out.splitlines() if "libc.so.6 (" in line}
    return len(kinds) > 1


def test_install_reads_the_programs_libc_not_another_machines(tmp_path: Path) -> None:
    """An ulogd tester's install: 16 of its plug-ins were "missing-symbol ... binds __sprintf_chk,
    which nothing defines" under unresolved = "refused", exit 1, where check of the same prefix
    said they load. Install's check takes a system library by its path (not read), and took
    the first libc.so.6 ld.so.cache lists, x32's /libx32/libc.so.6: no symbol of it counted."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the programs are built here")
    if not _other_machines_libc():
        pytest.skip("this machine's ld.so.cache lists one machine's libc.so.6 only (libc6-x32 not installed)")
    from .conftest import make_venv

    usr = tmp_path / "build/usr"
    _, plug = _host(tmp_path, usr)
    sources = {
        # libc's own, bound as it is loaded: puts, and __errno_location through errno.
        "good": "#include <stdio.h>\n#include <errno.h>\nint host_api(void);\n"
        'int init(void) { puts("x"); return errno + host_api(); }',
        "newer": "extern int host_api_v2(void); int init(void) { return host_api_v2(); }",
    }
    for name, source in sources.items():
        _cc(tmp_path, plug / f"{name}.so", source, "-shared", "-fPIC")
    layout = tmp_path / "one.toml"
    layout.write_text(textwrap.dedent(ONE_PROGRAM) + '[per-module]\nname = "one-{module}"\n')
    dist = tmp_path / "dist"
    r = run_qpack(
        "split",
        str(tmp_path / "build"),
        "-l",
        str(layout),
        "--version",
        "1",
        "--format",
        "wheel",
        "-o",
        str(dist),
    )
    assert r.returncode == 0, r.stderr
    venv = tmp_path / "venv"
    make_venv(venv)
    r = run_qpack("install", str(dist), "-l", str(layout), "--prefix", str(venv), "good", "newer", "--json")
    assert r.returncode == 1, r.stderr
    rows = {m["module"]: m for m in json.loads(r.stdout)["check"]}
    assert rows["good"]["loads"], rows["good"]["problems"]
    assert [p["kind"] for p in rows["newer"]["problems"]] == ["missing-symbol"]
    # As check says it.
    r = run_qpack("check", str(venv), "-l", str(layout), "--json")
    assert {m["module"]: m["loads"] for m in json.loads(r.stdout)["modules"]} == {
        "good": True,
        "newer": False,
    }


def test_ld_so_cache_is_read_for_one_machine_as_ld_so_reads_it() -> None:
    """ld.so takes only the cache entries of its own ABI's flags; a multilib host lists x32's
    and i386's libc.so.6 too, and the first one listed is x32's here."""
    import platform

    from elftools.elf.elffile import ELFFile

    from qpack.ldpaths import host_cache_flags, parse_ld_so_cache

    if platform.machine() != "x86_64" or not _other_machines_libc():
        pytest.skip(
            "not an x86-64 host whose ld.so.cache lists other ABIs' libc.so.6 (libc6-x32, libc6-i386)"
        )
    data = Path("/etc/ld.so.cache").read_bytes()
    every = parse_ld_so_cache(data)["libc.so.6"]
    mine = parse_ld_so_cache(data, host_cache_flags())["libc.so.6"]
    assert len(every) > 1 and len(mine) == 1 and mine[0] in every
    with open(mine[0], "rb") as f:
        elf = ELFFile(f)
        assert (elf["e_machine"], elf.elfclass) == ("EM_X86_64", 64)
