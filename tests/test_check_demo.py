"""`qpack check` agrees with real loaders: the demo's two programs, one per resolution kind.

`bin/demo` looks every module up by name, first existing file wins (QEMU's way); `bin/demo-registry`
registers every module file of every location, first of each id kept (plugin registries). For a
matrix of prepared prefixes, and for each program, `check`'s `loads` must equal, module for
module, whether the program, run with the same environment, printed `loaded <module>`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from qpack.check import CheckError, CheckReport, ModuleVerdict, Problem, check, check_modules
from qpack.demo.builder import (
    build_demo,
    build_extra_library,
    build_extra_module,
    compute_stamp,
    m32_supported,
)
from qpack.inventory import scan
from qpack.layout import load_layout
from qpack.plan import make_plan

from .conftest import copy_build, have_cc, run_demo

MODULES = {"ui-curses", "ui-gtk", "ui-opengl", "block-curl", "block-nfs", "audio-alsa", "audio-pa"}


@dataclass(frozen=True)
class Program:
    layout: str
    exe: str
    stale_var: str  # the variable that puts a directory first


PROGRAMS = {
    "first-found": Program("demo", "bin/demo", "DEMO_MODULE_DIR"),
    "register-all": Program("demo-registry", "bin/demo-registry", "DEMO_PLUGIN_PATH"),
}


@pytest.fixture(scope="session")
def other_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built again with another build tag: the same modules with another stamp."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the demo build needs one")
    return build_demo(tmp_path_factory.mktemp("demo-other") / "build", build_tag="other-build")


def run(prefix: Path, exe: str, env: dict[str, str]) -> set[str]:
    """The modules the real program loaded (it prints `loaded <id> from <file>`)."""
    r = subprocess.run([str(prefix / exe)], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    return {line.split()[1] for line in r.stdout.splitlines() if line.startswith("loaded ")}


Case = Callable[[Path, Path, Path, Program], dict[str, str]]  # (prefix, scratch, other build, program) -> env
MODDIR = "lib/demo"


def clean(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    return {}


def curses_from_another_build(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    shutil.copy2(other / "usr" / MODDIR / "ui/curses.so", prefix / MODDIR / "ui/curses.so")
    return {}


def stale_curses_earlier(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    stale = tmp / "stale"
    (stale / "ui").mkdir(parents=True)
    shutil.copy2(other / "usr" / MODDIR / "ui/curses.so", stale / "ui/curses.so")
    return {prog.stale_var: str(stale)}


def good_curses_later(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    """A copy that loads, searched first: the installed one is hidden but nothing breaks."""
    early = tmp / "early"
    (early / "ui").mkdir(parents=True)
    shutil.copy2(prefix / MODDIR / "ui/curses.so", early / "ui/curses.so")
    return {prog.stale_var: str(early)}


def missing_dependency(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    (prefix / MODDIR / "ui/opengl.so").unlink()
    return {}


def dependency_from_another_build(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    shutil.copy2(other / "usr" / MODDIR / "ui/opengl.so", prefix / MODDIR / "ui/opengl.so")
    return {}


def misnamed(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    (prefix / MODDIR / "ui/curses.so").rename(prefix / MODDIR / "ui-curses.so")
    return {}


def another_machine(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    if not m32_supported():
        pytest.skip("gcc cannot build -m32 objects here (apt-get install gcc-multilib)")
    stamp = compute_stamp("/usr", "1")
    build_extra_module(prefix / MODDIR, type="ui", name="curses", stamp=stamp, m32=True)
    return {}


def machine_patched(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    """An Open MPI tester's 64-bit module whose e_machine says EM_386: LIEF reads no segment
    of it, and check called it truncated (`unreadable`) where it is of another machine."""
    module = prefix / MODDIR / "ui/curses.so"
    data = bytearray(module.read_bytes())
    data[18:20] = (3).to_bytes(2, "little")  # e_machine: EM_386
    module.write_bytes(bytes(data))
    return {}


def _module_needing_extra(prefix: Path, tmp: Path) -> Path:
    libs = tmp / "libs"
    lib = build_extra_library(libs, "libdemo-extra.so.1")
    build_extra_module(
        prefix / MODDIR, type="block", name="nfs", stamp=compute_stamp("/usr", "1"), needed=[lib]
    )
    return libs


def library_missing(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    _module_needing_extra(prefix, tmp)
    return {}


def library_through_ld_library_path(prefix: Path, tmp: Path, other: Path, prog: Program) -> dict[str, str]:
    libs = _module_needing_extra(prefix, tmp)
    return {"LD_LIBRARY_PATH": str(libs)}


CASES: dict[str, tuple[Case, dict[str, set[str]]]] = {
    # case -> (how the prefix is prepared, the problem kinds check must report per module)
    "clean": (clean, {}),
    "a module from a second build": (curses_from_another_build, {"ui-curses": {"other-build"}}),
    "a stale copy earlier in the search order": (
        stale_curses_earlier,
        {"ui-curses": {"other-build", "shadowed"}},
    ),
    "a good copy earlier in the search order": (good_curses_later, {}),
    "a missing dependency module": (missing_dependency, {"ui-gtk": {"dependency"}}),
    "a dependency from another build": (
        dependency_from_another_build,
        {"ui-opengl": {"other-build"}, "ui-gtk": {"dependency"}},
    ),
    "a misnamed file": (misnamed, {"ui-curses": {"never-looked-up"}}),
    "a module for another machine": (another_machine, {"ui-curses": {"machine"}}),
    "a module whose machine field was changed": (machine_patched, {"ui-curses": {"machine"}}),
    "a module whose library is missing": (library_missing, {"block-nfs": {"missing-library"}}),
    "a library found only through LD_LIBRARY_PATH": (library_through_ld_library_path, {}),
}


@pytest.mark.parametrize("kind", sorted(PROGRAMS))
@pytest.mark.parametrize("case", list(CASES))
def test_check_agrees_with_the_real_loader(
    demo_build: Path, other_build: Path, tmp_path: Path, case: str, kind: str
) -> None:
    prog = PROGRAMS[kind]
    prefix = copy_build(demo_build, tmp_path) / "usr"
    prepare, expected = CASES[case]
    env = prepare(prefix, tmp_path, other_build, prog)
    loaded = run(prefix, prog.exe, env)
    report = check(prefix, load_layout(prog.layout).loader, env=env)
    says = {m.module for m in report.modules if m.loads}
    assert says == loaded, f"check says {sorted(says)}, {prog.exe} loaded {sorted(loaded)}"
    rows = {m.module: m for m in report.modules}
    got = {m: {p.kind for p in rows[m].problems} for m in rows if rows[m].problems}
    assert got == expected
    assert report.ok == (not expected)
    if case == "clean":
        assert loaded == MODULES


def test_check_follows_path_lists_and_replacing_variables(demo_build: Path, tmp_path: Path) -> None:
    """demo-registry: DEMO_PLUGIN_PATH prepends a list; DEMO_PLUGIN_SYSTEM_PATH, even empty,
    replaces the relocated directory."""
    prefix = copy_build(demo_build, tmp_path) / "usr"
    extra = tmp_path / "a"
    (extra / "ui").mkdir(parents=True)
    shutil.copy2(prefix / MODDIR / "ui/curses.so", extra / "ui/curses.so")
    loader = load_layout("demo-registry").loader
    for env in (
        {"DEMO_PLUGIN_PATH": f"{tmp_path}/none::{extra}", "DEMO_PLUGIN_SYSTEM_PATH": ""},
        {"DEMO_PLUGIN_PATH": f"{extra}"},
        {"DEMO_PLUGIN_SYSTEM_PATH": f"{extra}:{prefix / MODDIR}"},
    ):
        loaded = run(prefix, "bin/demo-registry", env)
        report = check(prefix, loader, env=env)
        assert {m.module for m in report.modules if m.loads} == loaded, env
    only_extra = check(prefix, loader, env={"DEMO_PLUGIN_PATH": str(extra), "DEMO_PLUGIN_SYSTEM_PATH": ""})
    assert [(m.module, m.file) for m in only_extra.modules if m.loads] == [
        ("ui-curses", f"{extra}/ui/curses.so")
    ]
    # The modules installed in the relocated directory, which the empty variable hides, are
    # named as such: the program will not see them.
    hidden = {m.module: [p.kind for p in m.problems] for m in only_extra.modules if not m.loads}
    assert hidden == {mid: ["not-searched"] for mid in MODULES - {"ui-curses"}}
    # A relative entry is opened from the program's working directory, which the check does
    # not know: not searched (it was read from the root, as if absolute), and said so.
    relative = os.path.relpath(extra, "/")
    rel = check(prefix, loader, env={"DEMO_PLUGIN_PATH": relative, "DEMO_PLUGIN_SYSTEM_PATH": ""})
    assert not any(m.loads for m in rel.modules)
    note = (
        f"$DEMO_PLUGIN_PATH: {relative!r} is relative: the program searches it from its working "
        "directory, which a check does not know (not judged)"
    )
    assert note in rel.warnings
    # An empty entry is not searched either, and said so (SANE opens /libsane-pnm.so.1 for the
    # empty first entry of LD_LIBRARY_PATH=:/opt/good); a list set to nothing is a list of none.
    empty = check(prefix, loader, env={"DEMO_PLUGIN_PATH": f":{extra}", "DEMO_PLUGIN_SYSTEM_PATH": ""})
    assert [(m.module, m.file) for m in empty.modules if m.loads] == [("ui-curses", f"{extra}/ui/curses.so")]
    said = [w for w in empty.warnings if "an empty directory entry" in w]
    assert [w.split(":")[0] for w in said] == ["$DEMO_PLUGIN_PATH"]
    # An entry that is no directory is searched, finds nothing, and is said to (with --root
    # it is read inside the root: a host path given there had no effect, unsaid).
    missing = f"{extra}/nowhere"
    gone = check(
        prefix, loader, env={"DEMO_PLUGIN_PATH": f"{missing}:{extra}", "DEMO_PLUGIN_SYSTEM_PATH": ""}
    )
    assert [m.module for m in gone.modules if m.loads] == ["ui-curses"]
    assert f"$DEMO_PLUGIN_PATH: {missing} is no directory: nothing found there" in gone.warnings
    assert not [w for w in gone.warnings if f"{extra}:" in w or f"{extra} " in w]  # the one that exists


def test_an_executable_that_is_a_script_is_said_to_be_one(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Valgrind tester named bin/valgrind, a shell script running valgrind.bin: check said
    "none of the loader's executables is installed there" of a file that is."""
    from qpack.cli import main

    prefix = copy_build(demo_build, tmp_path) / "usr"
    (prefix / "bin/demo").rename(prefix / "bin/demo.bin")
    (prefix / "bin/demo").write_text('#!/bin/sh\nexec "$0.bin" "$@"\n')
    assert main(["check", str(prefix), "-l", "demo"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {prefix}/bin/demo: named by the layout's executables, but no ELF program (a script?): "
        "name the program it runs, the one that loads the modules, in [loader] executables"
    ]


def test_a_script_that_reads_or_runs_its_modules_is_their_loader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """dracut (bash sources its modules' module-setup.sh), Prosody (lua5.4 runs its mod_*.lua)
    and Munin (Perl runs its plug-ins): check stopped, "no ELF program (a script?)", and plan
    warned on every run, with no other program to name. A script is the loader, its
    interpreter the process, where no module is a library it would dlopen."""
    from qpack.cli import main

    prefix = tmp_path / "usr"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin/prog").write_text(
        '#!/bin/sh\nfor m in "$(dirname "$0")"/../lib/prog/*.sh; do . "$m"; done\n'
    )
    (prefix / "bin/prog").chmod(0o755)
    (prefix / "lib/prog").mkdir(parents=True)
    for name in ("one", "two"):
        (prefix / f"lib/prog/{name}.sh").write_text("true\n")
    text = textwrap.dedent(
        """
        [layout]
        name = "prog"
        [loader]
        executables = ["{prefix}/bin/prog"]
        naming = "{name}.sh"
        resolution = "register-all"
        runners = { "*.sh" = "" }
        [[loader.search]]
        relocated = "lib/prog"
        [[package]]
        name = "prog"
        rest = true
        [per-module]
        name = "prog-{module}"
        """
    )
    (tmp_path / "prog.toml").write_text(text)
    assert main(["check", str(prefix), "-l", str(tmp_path / "prog.toml")]) == 0
    said = capsys.readouterr()
    assert [line.split("\t")[::2] for line in said.out.splitlines()] == [["one", "yes"], ["two", "yes"]]
    assert "2 of 2 modules load; 0 problem(s)" in said.err, said.err
    # Without its execute bit it cannot start (dracut's and Prosody's re-testers: "121 of 121").
    (prefix / "bin/prog").chmod(0o644)
    assert main(["check", str(prefix), "-l", str(tmp_path / "prog.toml")]) == 1
    assert (
        f"problem: {prefix}/bin/prog cannot start: a script without the execute bit (mode 0644)"
        in capsys.readouterr().err.splitlines()
    )
    # Its interpreter nowhere: said so, not blamed on the layout ("name the program it runs").
    (prefix / "bin/prog").write_text("#!/nonexistent/sh\n")
    assert main(["check", str(prefix), "-l", str(tmp_path / "prog.toml")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {prefix}/bin/prog: a script whose interpreter /nonexistent/sh is not installed: the program "
        "cannot start"
    ]
    plan = make_plan(scan(tmp_path), load_layout(tmp_path / "prog.toml"))
    assert not [w for w in plan.warnings if "no ELF program" in w], plan.warnings


def test_a_program_installed_elsewhere_judges_modules_of_a_prefix_without_one(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plugins packaged alone (LADSPA's, for a host in /usr/bin): `check` stopped with "none of
    the loader's executables is installed there". --program names the host; the real program,
    run so, loads what check says."""
    from qpack.cli import main

    host = copy_build(demo_build, tmp_path / "host") / "usr"
    plugins = tmp_path / "plugins"
    shutil.copytree(host / "lib/demo", plugins / "lib/demo")
    shutil.rmtree(host / "lib/demo")
    (plugins / "lib/demo/ui/gtk.so").unlink()
    env = f"DEMO_MODULE_DIR={plugins}/lib/demo"
    assert main(["check", str(plugins), "-l", "demo", "--env", env]) == 2
    err = capsys.readouterr().err
    assert "none of the loader's executables is installed there" in err
    assert err.rstrip().endswith("for modules whose program is installed elsewhere, give --program PATH")
    report_args = ["report", str(demo_build), "-l", "demo", "-o", str(tmp_path / "r.html"), "--check"]
    assert main([*report_args, str(plugins), "--env", env, "--program", f"{host}/bin/demo"]) == 0
    args = ["check", str(plugins), "-l", "demo", "--env", env, "--program", f"{host}/bin/demo", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    says = {m["module"] for m in report["modules"] if m["loads"]}
    assert says == set(run_demo(host / "bin/demo", plugins / "lib/demo")[0])
    assert says == MODULES - {"ui-gtk"}
    assert main(["check", str(plugins), "-l", "demo", "--program", "bin/demo"]) == 2
    assert "--program bin/demo: give the program's absolute path" in capsys.readouterr().err


def test_check_of_a_staged_root_and_json(demo_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qpack.cli import main

    assert main(["check", "/usr", "-l", "demo", "--root", str(demo_build), "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["version"] == 1 and data["prefix"] == "/usr"
    assert {m["module"] for m in data["modules"] if m["loads"]} == MODULES
    assert data["summary"] == {
        "modules": 7, "load": 7, "some": 0, "unused": 0, "problems": 0, "cannot_start": 0, "by_kind": {}
    }  # fmt: skip
    assert all(m["file"].startswith("/usr/lib/demo/") for m in data["modules"])


def test_a_dependency_near_an_installed_module_is_asked_about(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Apache tester's "davv" for dav: `plan` asked "did you mean dav?", `check` only said
    that davv is not installed, as if a module were missing. Only a near miss is asked about."""
    from qpack.cli import main

    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    said = '"ui-gtk" = ["ui-opengl"]\n"audio-pa" = ["audio-alsa"]\n'
    assert said in text
    layout = tmp_path / "typo.toml"
    typo = text.replace(said, '"ui-gtk" = ["ui-opengll"]\n"audio-pa" = ["audio-nope"]\n')
    layout.write_text("\n".join(line for line in typo.splitlines() if not line.startswith("known = ")))
    assert main(["check", "/usr", "-l", str(layout), "--root", str(demo_build), "--json"]) == 1
    rows = {m["module"]: m["problems"] for m in json.loads(capsys.readouterr().out)["modules"]}
    assert rows["ui-gtk"] == [
        {
            "kind": "dependency",
            "detail": "needs module 'ui-opengll', which is not installed (ui-opengl is installed: is the "
            "layout's dependency mistyped?)",
        }
    ]
    assert rows["audio-pa"] == [
        {"kind": "dependency", "detail": "needs module 'audio-nope', which is not installed"}
    ]


def test_the_prefix_may_be_given_as_install_list_and_uninstall_take_it(
    demo_build: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from qpack.cli import main

    args = ["-l", "demo", "--root", str(demo_build), "--json"]
    assert main(["check", "/usr", *args]) == 0
    positional = capsys.readouterr().out
    assert main(["check", "--prefix", "/usr", *args]) == 0
    assert capsys.readouterr().out == positional
    for twice_or_never in (["check", "/usr", "--prefix", "/usr", *args], ["check", *args]):
        assert main(twice_or_never) == 2
        err = capsys.readouterr().err
        assert err == "error: check: give the installed prefix once, as PREFIX or as --prefix PREFIX\n"
    # And `list` takes PREFIX as check does (a HexChat tester's `qpack list pfx` was refused).
    listed = ["-l", "demo", "--root", str(demo_build), "--json"]
    assert main(["list", "/usr", *listed]) == main(["list", "--prefix", "/usr", *listed])
    a, b = capsys.readouterr().out.split("\n{", 1)
    assert json.loads(a) == json.loads("{" + b)
    assert main(["list", *listed]) == 2
    assert (
        capsys.readouterr().err
        == "error: list: give the installed prefix once, as PREFIX or as --prefix PREFIX\n"
    )


def test_a_staged_root_without_ld_so_cache_finds_its_own_system_libraries(
    demo_build: Path, tmp_path: Path
) -> None:
    """A DESTDIR has no /etc/ld.so.cache: its system libraries are looked up on this host, but
    a library the tree itself installs in a default directory (/usr/lib/<triplet>) is found
    there first, as the installed system's ldconfig will list it. Before, only the host was
    searched, and a module needing such a library was 'missing-library'."""
    root = copy_build(demo_build, tmp_path)
    assert not (root / "etc/ld.so.cache").exists()
    libdir = root / "usr/lib/x86_64-linux-gnu"
    libdir.mkdir(parents=True)
    needed = [build_extra_library(libdir, "libqpack-staged-only.so.1")]
    stamp = compute_stamp("/usr", "1")
    build_extra_module(root / "usr" / MODDIR, type="ui", name="curses", stamp=stamp, needed=needed)
    report = check("/usr", load_layout("demo").loader, root=root)
    row = next(m for m in report.modules if m.module == "ui-curses")
    assert row.loads, row.problems
    assert report.ok
    (libdir / "libqpack-staged-only.so.1").unlink()  # now nowhere: the check says so
    row = next(
        m for m in check("/usr", load_layout("demo").loader, root=root).modules if m.module == "ui-curses"
    )
    assert [p.kind for p in row.problems] == ["missing-library"]


def test_a_program_that_cannot_find_the_loader_library_is_said_not_to_start(
    demo_build: Path, tmp_path: Path
) -> None:
    """An apr-util re-tester's htdbm needs libaprutil-1.so.0 and found no copy (no
    LD_LIBRARY_PATH): check said "no program links it" and judged the library alone. The
    program links it by name: it cannot start, said as for any library it cannot find."""
    root = copy_build(demo_build, tmp_path)
    private = root / "usr/lib/private"
    private.mkdir()
    (root / "usr/lib/libdemo-util.so.1").rename(private / "libdemo-util.so.1")
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    exe = 'executables = ["{prefix}/bin/demo"]'
    assert exe in text
    layout = tmp_path / "library.toml"
    layout.write_text(text.replace(exe, 'library = "{prefix}/lib/private/libdemo-util.so.1"'))
    report = check("/usr", load_layout(layout).loader, root=root)
    assert not [w for w in report.warnings if "no program in" in w], report.warnings
    assert "/usr/bin/demo" in report.cannot_start, report.cannot_start
    assert "libdemo-util.so.1" in report.cannot_start["/usr/bin/demo"]
    assert not any(m.loads for m in report.modules)


def test_a_library_path_given_that_the_root_lacks_is_noted(demo_build: Path, tmp_path: Path) -> None:
    """A PowerDNS tester gave `--root R1 --env LD_LIBRARY_PATH=<a directory of this host>`: it
    is read inside the root, where it did not exist, and the verdict stayed "cannot start"
    without a word about the path. Each absolute entry the root lacks gets a note."""
    root = copy_build(demo_build, tmp_path)
    here = tmp_path / "libs-on-the-host"
    here.mkdir()
    env = {"LD_LIBRARY_PATH": f"{here}:/usr/lib:relative/dir"}
    report = check("/usr", load_layout("demo").loader, root=root, env=env)
    assert [w for w in report.warnings if "LD_LIBRARY_PATH" in w] == [
        f"LD_LIBRARY_PATH: {here}: no such directory in {root} "
        "(paths given with --env are read inside the root)"
    ]
    # Nor is the host's directory searched behind the warning's back (syslog-ng and Evince
    # testers: the libraries it held were found, and the verdicts said "load").
    (root / "usr/lib/libdemo-util.so.1").rename(here / "libdemo-util.so.1")
    report = check("/usr", load_layout("demo").loader, root=root, env=env)
    assert list(report.cannot_start) == ["/usr/bin/demo"], report.cannot_start
    assert "libdemo-util.so.1" in report.cannot_start["/usr/bin/demo"]
    (root / str(here).lstrip("/")).mkdir(parents=True)
    (here / "libdemo-util.so.1").rename(root / str(here).lstrip("/") / "libdemo-util.so.1")
    report = check("/usr", load_layout("demo").loader, root=root, env=env)
    assert not [w for w in report.warnings if "LD_LIBRARY_PATH" in w]
    assert not report.cannot_start, report.cannot_start


def test_a_prefix_given_as_a_path_inside_the_root_is_told_how_to_say_it(
    demo_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check build/usr --root build` read PREFIX inside the root (build/build/usr) and said only
    that it did not exist."""
    root = copy_build(demo_build, tmp_path)  # tmp_path/build
    monkeypatch.chdir(tmp_path)
    loader = load_layout("demo").loader
    with pytest.raises(CheckError) as e:
        check("build/usr", loader, root="build")
    assert str(e.value) == (
        f"{root}/build/usr: no such directory (the installed prefix to check); "
        "PREFIX is read inside --root: give /usr"
    )
    with pytest.raises(CheckError) as e:
        check("elsewhere", loader, root="build")
    assert str(e.value) == f"{root}/elsewhere: no such directory (the installed prefix to check)"


def test_names_the_loader_skips_are_no_modules(demo_build: Path, tmp_path: Path) -> None:
    """ConnMan (and BlueZ, oFono) skip plug-in files whose names start with "lib": a ConnMan
    tester's libextra.so, a copy of a plug-in, was judged loading. With `skip-names` it is no
    module: plan and check say the loader skips it, and why."""
    root = copy_build(demo_build, tmp_path)
    ui = root / "usr/lib/demo/ui"
    shutil.copy2(ui / "gtk.so", ui / "libextra.so")
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    naming = 'naming = "{type}/{name}.so"\n'
    assert naming in text
    layout = tmp_path / "skips.toml"
    layout.write_text(text.replace(naming, naming + 'skip-names = ["lib*"]\n', 1))
    plan = make_plan(scan(root), load_layout(layout))
    assert "ui-libextra" not in {m.id for m in plan.modules}
    assert (
        "usr/lib/demo/ui/libextra.so: in a module directory, but the loader skips names matching 'lib*' "
        "(skip-names; if it is no module, name it in a [[package]] `files` glob)"
    ) in plan.warnings
    report = check("/usr", load_layout(layout).loader, root=root)
    (row,) = [m for m in report.modules if m.file == "/usr/lib/demo/ui/libextra.so"]
    assert (row.loads, row.problems) == (
        False,
        (
            Problem(
                "never-looked-up",
                "/usr/lib/demo/ui/libextra.so: the loader never looks this file up (it skips names "
                "matching 'lib*', skip-names)",
            ),
        ),
    )


def test_a_relocatable_object_is_said_to_be_one(demo_build: Path, tmp_path: Path) -> None:
    """A kernel tester's 4,022 .ko files (relocatable objects, which no dynamic linker loads)
    were each "truncated or corrupt ELF file" in check: a user would look for disk damage. The
    whole check (LIEF) and an install's (pyelftools) say what the file is, in the same words."""
    root = copy_build(demo_build, tmp_path)
    gtk = root / "usr/lib/demo/ui/gtk.so"
    src = tmp_path / "gtk.c"
    src.write_text("int demo_module_init(void) { return 0; }\n")
    gtk.unlink()
    subprocess.run(["cc", "-c", "-fPIC", "-o", str(gtk), str(src)], check=True)
    loader = load_layout("demo").loader
    said = (
        "/usr/lib/demo/ui/gtk.so: a relocatable object (ET_REL, as .o files and kernel modules are), "
        'which the dynamic linker never loads (dlopen: "only ET_DYN and ET_EXEC can be loaded")'
    )
    for report in (check("/usr", loader, root=root), check_modules("/usr", loader, ["ui-gtk"], root=root)):
        (verdict,) = [m for m in report.modules if m.module == "ui-gtk"]
        assert (verdict.loads, verdict.problems[0]) == (False, Problem("unreadable", said))


@pytest.mark.parametrize("layout", ["demo", "demo-registry"])
def test_a_module_whose_only_file_is_a_dangling_link_does_not_load(
    demo_build: Path, tmp_path: Path, layout: str
) -> None:
    """A PHP tester's `exif.so -> /nonexistent/exif.so` among the extensions: the loader sees
    the name and cannot open it, and check left the module out in silence. Where another
    directory holds a real file, the name looked up there is the one judged (QEMU's access()
    passes over a dangling link)."""
    root = copy_build(demo_build, tmp_path)
    gtk = root / "usr/lib/demo/ui/gtk.so"
    gtk.unlink()
    gtk.symlink_to("/nonexistent/gtk.so")
    report = check("/usr", load_layout(layout).loader, root=root)
    (verdict,) = [m for m in report.modules if m.module == "ui-gtk"]
    assert (verdict.file, verdict.loads) == ("/usr/lib/demo/ui/gtk.so", False)
    # A loader that scans its directories passes over it or fails to open it (GStreamer: "not a
    # regular file, ignoring"; Asterisk: "Error loading module"); one looking it up opens it.
    fate = "cannot load it" if layout == "demo-registry" else "cannot open it"
    assert verdict.problems[0] == Problem(
        "unreadable",
        f"/usr/lib/demo/ui/gtk.so: a dangling link (to /nonexistent/gtk.so): the loader {fate}",
    )
    assert {m.module for m in report.modules if m.loads} == MODULES - {"ui-gtk"}
    # A loop is said as one (a BitlBee tester's a.so -> b.so -> a.so was "a dangling link").
    gtk.unlink()
    gtk.symlink_to("opengl-link.so")
    (gtk.parent / "opengl-link.so").symlink_to("gtk.so")
    report = check("/usr", load_layout(layout).loader, root=root)
    (verdict,) = [m for m in report.modules if m.module == "ui-gtk"]
    assert verdict.problems[0] == Problem(
        "unreadable", f"/usr/lib/demo/ui/gtk.so: a symlink loop (to opengl-link.so): the loader {fate}"
    )


def test_a_module_in_a_location_a_replacing_one_shuts_out_is_not_searched(
    demo_build: Path, tmp_path: Path
) -> None:
    """A libvips tester's module in <prefix>/x86_64-linux-gnu/vips-modules-8.14, which libvips
    passes over while /usr/lib/x86_64-linux-gnu/vips-modules-8.14 exists: check said nothing of
    it. It is `not-searched`, as where a variable replaces the search."""
    root = copy_build(demo_build, tmp_path)
    (root / "usr/lib/demo-more/block").mkdir(parents=True)
    (root / "usr/lib/demo/block/nfs.so").rename(root / "usr/lib/demo-more/block/nfs.so")
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    text = text.replace(
        '[[loader.search]]\nrelocated = "lib/demo"\n',
        '[[loader.search]]\nabsolute = "/usr/lib/demo"\nreplaces = true\n'
        '[[loader.search]]\nrelocated = "lib/demo-more"\n',
    )
    (tmp_path / "replacing.toml").write_text(text)
    report = check("/usr", load_layout(tmp_path / "replacing.toml").loader, root=root)
    (nfs,) = [m for m in report.modules if m.module == "block-nfs"]
    assert (nfs.file, nfs.loads) == ("/usr/lib/demo-more/block/nfs.so", False)
    assert nfs.problems == (
        Problem(
            "not-searched",
            "/usr/lib/demo-more/block/nfs.so: installed where the program looks only when /usr/lib/demo "
            "does not exist, and it does",
        ),
    )
    assert {m.module for m in report.modules if m.loads} == MODULES - {"block-nfs"}


def test_a_variable_nothing_reads_is_noted(demo_build: Path, tmp_path: Path) -> None:
    """`--env DEMO_MODULE_DIRR=...` (a typo) was ignored in silence: the verdicts were those of
    an empty environment and nothing said so. A variable neither the loader nor the library
    search reads gets a note naming the ones the loader reads; the ones they read get none."""
    root = copy_build(demo_build, tmp_path)
    loader = load_layout("demo").loader
    env = {"DEMO_MODULE_DIRR": "/opt/x", "HOME": "/root", "LD_LIBRARY_PATH": "/usr/lib"}
    report = check("/usr", loader, root=root, env=env)
    assert [w for w in report.warnings if w.startswith("--env")] == [
        "--env DEMO_MODULE_DIRR: the layout's loader model reads no such variable (it reads "
        "DEMO_MODULE_DIR), nor does the library search: it changes no verdict; did you mean DEMO_MODULE_DIR, "
        "or is the layout's DEMO_MODULE_DIR the one mistyped?"
    ]
    report = check("/usr", loader, root=root, env={"DEMO_MODULE_DIR": "/opt/x", "XDG_DATA_HOME": "/d"})
    assert not [w for w in report.warnings if w.startswith("--env")]
    # A location's `{home}` reads HOME: named, and offered for a typo (a Sylpheed tester's HOM
    # was told the model "reads none").
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    env_location = '[[loader.search]]\nenv = "DEMO_MODULE_DIR"\n'
    assert env_location in text
    (tmp_path / "home.toml").write_text(
        text.replace(env_location, '[[loader.search]]\nabsolute = "{home}/.demo/modules"\n')
    )
    home = load_layout(tmp_path / "home.toml").loader
    report = check("/usr", home, root=root, env={"HOM": "/root"})
    assert [w for w in report.warnings if w.startswith("--env")] == [
        "--env HOM: the layout's loader model reads no such variable (it reads HOME), nor does the "
        "library search: it changes no verdict; did you mean HOME?"
    ]
    # A relative HOME is not searched as if under / (a Sylpheed tester's HOME=home5: /home5).
    report = check("/usr", home, root=root, env={"HOME": "home5"})
    assert (
        "{home}/.demo/modules: not searched: HOME=home5 is relative (give an absolute --env HOME=...)"
        in report.warnings
    )


def test_a_modules_code_behind_its_symlink_is_no_stray_file(demo_build: Path, tmp_path: Path) -> None:
    """A module installed as a library is: ui/curses.so -> curses.so.1.0, with the SONAME link
    curses.so.1 beside it (SASL's plugins on Debian). The loader opens curses.so; the other two
    names are that same file, not `never-looked-up` strays (which failed a stock install)."""
    prefix = copy_build(demo_build, tmp_path) / "usr"
    ui = prefix / MODDIR / "ui"
    (ui / "curses.so").rename(ui / "curses.so.1.0")
    (ui / "curses.so").symlink_to("curses.so.1.0")
    (ui / "curses.so.1").symlink_to("curses.so.1.0")
    shutil.copy(ui / "opengl.so", ui / "gtk.so.1")  # other bytes under a module's version name: a stray
    shutil.copy(ui / "gtk.so", ui / "gtk.so.2")  # its own bytes: what a wheel makes of a library link
    report = check(prefix, load_layout("demo").loader)
    strays = [m.file for m in report.modules if any(p.kind == "never-looked-up" for p in m.problems)]
    assert strays == [f"{ui}/gtk.so.1"]
    row = next(m for m in report.modules if m.module == "ui-curses")
    assert row.loads and row.file == f"{ui}/curses.so"


def test_check_never_runs_code_from_the_prefix(demo_build: Path, tmp_path: Path) -> None:
    """A module whose constructor leaves a marker when it is loaded, and a program replaced by
    a script that leaves one when run: check reads both and the markers never appear."""
    prefix = copy_build(demo_build, tmp_path) / "usr"
    marker = tmp_path / "ran"
    src = tmp_path / "evil.c"
    src.write_text(
        "#include <fcntl.h>\n"
        "__attribute__((constructor)) static void run(void)\n"
        f'{{ open("{marker}", O_CREAT | O_WRONLY, 0644); }}\n'
    )
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(prefix / MODDIR / "ui/evil.so"), str(src)], check=True
    )
    (prefix / "bin/demo-run").unlink()
    (prefix / "bin/demo-run").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (prefix / "bin/demo-run").chmod(0o755)
    for layout in ("demo", "demo-registry"):
        report = check(prefix, load_layout(layout).loader)
        rows = {m.module: m for m in report.modules}
        assert "evil" in rows or "ui-evil" in rows
    assert not marker.exists()


def test_the_libraries_a_program_lacks_are_said_once_for_each_object_needing_them() -> None:
    """An Enlightenment tester's program without EFL: "(needed by ...)" after each of 25 names,
    one line of 1,500 characters."""
    from qpack.ldpaths import missing_phrase

    missing = ["liba.so.1 (needed by /usr/bin/p)", "libc.so.9 (needed by /usr/lib/libb.so.1)"]
    missing.insert(1, "libb.so.1 (needed by /usr/bin/p)")
    assert (
        missing_phrase(missing)
        == "liba.so.1, libb.so.1 (needed by /usr/bin/p); libc.so.9 (needed by /usr/lib/libb.so.1)"
    )
    assert missing_phrase(["liba.so.1 (needed by /usr/bin/p)"]) == "liba.so.1 (needed by /usr/bin/p)"
    # Eight of one object's, and how many more (a digiKam tester's 45: 2 KB a line).
    many = [f"lib{i}.so (needed by /usr/bin/p)" for i in range(11)]
    assert missing_phrase(many) == (
        "lib0.so, lib1.so, lib2.so, lib3.so, lib4.so, lib5.so, lib6.so, lib7.so and 3 more "
        "(needed by /usr/bin/p)"
    )


def test_a_program_that_cannot_start_loads_no_module(demo_build: Path, tmp_path: Path) -> None:
    """bin/demo needs lib/libdemo-util.so.1 (found through its RUNPATH): without it the dynamic
    linker refuses the program, so none of its modules load and check exits 1, even when it
    finds no module at all (pip --target leaves lib/ out)."""
    import json

    prefix = copy_build(demo_build, tmp_path) / "usr"
    (prefix / "lib/libdemo-util.so.1").unlink()
    r = subprocess.run([str(prefix / "bin/demo")], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 127, r.stderr  # the real dynamic linker agrees
    report = check(prefix, load_layout("demo").loader)
    assert not report.ok
    assert list(report.cannot_start) == [f"{prefix}/bin/demo"]
    why = report.cannot_start[f"{prefix}/bin/demo"]
    assert why.startswith(f"{prefix}/bin/demo cannot start: the dynamic linker would not find libdemo-util")
    assert report.modules and not any(m.loads for m in report.modules)
    assert all("missing-library" in {p.kind for p in m.problems} for m in report.modules)
    # A stray file is no module that cannot load (it counted as one: "0 of 9" for 7 modules).
    shutil.copy(prefix / MODDIR / "ui/gtk.so", prefix / MODDIR / "ui/gtk.so.dpkg-old")
    with_stray = check(prefix, load_layout("demo").loader)
    assert (with_stray.summary()["modules"], with_stray.summary()["load"]) == (7, 0)
    (prefix / MODDIR / "ui/gtk.so.dpkg-old").unlink()
    # Beside programs that start, one that cannot: its rows fail, but the modules load for the
    # others, and it is one problem, not one per module (a strongSwan tester read "0 of 77
    # modules load; 77 problem(s)" of plug-ins loading in 8 programs).
    starts, rows = "/p/bin/one", []
    for mid in ("a", "b"):
        rows += [
            ModuleVerdict(module=mid, file=f"/p/{mid}.so", loads=True, executables=(starts,)),
            ModuleVerdict(module=mid, file=f"/p/{mid}.so", loads=False, executables=("/p/bin/two",),
                          problems=(Problem("missing-library", "/p/bin/two cannot start: libx.so.1"),)),
        ]  # fmt: skip
    mixed = CheckReport(
        prefix="/p", root="/", layout="t", executables=(starts, "/p/bin/two"), modules=tuple(rows),
        cannot_start={"/p/bin/two": "/p/bin/two cannot start: libx.so.1"},
    )  # fmt: skip
    assert mixed.summary() == {
        "modules": 2, "load": 0, "some": 2, "unused": 0, "problems": 1, "cannot_start": 1, "by_kind": {}
    }  # fmt: skip
    assert not mixed.ok
    # An install's check (check_modules) says the same: it said the modules would load.
    after_install = check_modules(prefix, load_layout("demo").loader, ["ui-curses"])
    assert list(after_install.cannot_start) == [f"{prefix}/bin/demo"]
    assert not any(m.loads for m in after_install.modules)
    out = subprocess.run(
        [sys.executable, "-m", "qpack", "check", str(prefix), "-l", "demo", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1, out.stderr
    assert list(json.loads(out.stdout)["cannot_start"]) == [f"{prefix}/bin/demo"]
    # The text says it once, below the rows, and each row points there (a Samba tester's 64
    # rows each repeated smbd's missing libraries in full).
    text = subprocess.run(
        [sys.executable, "-m", "qpack", "check", str(prefix), "-l", "demo"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert text.returncode == 1
    assert "libdemo-util" not in text.stdout, text.stdout
    assert f"missing-library: {prefix}/bin/demo cannot start (below)" in text.stdout
    assert f"problem: {why}" in text.stdout + text.stderr
    # Two programs missing the same library: one line for both (a darktable tester's five
    # programs printed five near-identical blocks of 2 KB each).
    shutil.copy(prefix / "bin/demo", prefix / "bin/demo2")
    programs = ["--program", str(prefix / "bin/demo"), "--program", str(prefix / "bin/demo2")]
    both = subprocess.run(
        [sys.executable, "-m", "qpack", "check", str(prefix), "-l", "demo", *programs],
        capture_output=True,
        text=True,
        check=False,
    )
    said = [line for line in (both.stdout + both.stderr).splitlines() if line.startswith("problem:")]
    assert said == [
        f"problem: {prefix}/bin/demo and {prefix}/bin/demo2 cannot start: the dynamic linker would not "
        "find libdemo-util.so.1 (needed by each)"
    ], both.stdout + both.stderr
    # And one row per module, naming both (a Knot DNS tester read each module's row twice,
    # once per program, told apart only at the end of a long line).
    curses = [line for line in both.stdout.splitlines() if line.startswith("ui-curses\t")]
    assert curses == [
        f"ui-curses\t{prefix}/lib/demo/ui/curses.so\tno\tmissing-library: {prefix}/bin/demo and "
        f"{prefix}/bin/demo2 cannot start (below)"
    ], both.stdout

    for so in (prefix / "lib/demo").rglob("*.so"):
        so.unlink()
    empty = check(prefix, load_layout("demo").loader)
    assert not empty.modules and not empty.ok


def test_a_fifo_where_a_module_should_be_does_not_hang_the_check(demo_build: Path, tmp_path: Path) -> None:
    """Opening a FIFO blocks until a writer comes; check hung on one named ui/gtk.so."""
    import json

    prefix = copy_build(demo_build, tmp_path) / "usr"
    (prefix / MODDIR / "ui/gtk.so").unlink()
    os.mkfifo(prefix / MODDIR / "ui/gtk.so")
    r = subprocess.run(
        [sys.executable, "-m", "qpack", "check", str(prefix), "-l", "demo", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    gtk = next(m for m in json.loads(r.stdout)["modules"] if m["module"] == "ui-gtk")
    assert [p["kind"] for p in gtk["problems"]] == ["unreadable"]
    assert "not a regular file (a FIFO, socket or device)" in gtk["problems"][0]["detail"]
    # One named as no module the loader knows, a stray, hung it too (a HexChat tester's fifo.so;
    # HexChat opens every *.so of its directory and blocks on one). Reported, never opened.
    os.mkfifo(prefix / MODDIR / "ui/fifo.so")
    r = subprocess.run(
        [sys.executable, "-m", "qpack", "check", str(prefix), "-l", "demo", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    rows = {m["module"]: m for m in json.loads(r.stdout)["modules"]}
    assert [p["kind"] for p in rows["fifo"]["problems"]] == ["never-looked-up"]
    # A loader taking every file of its directories opens it: unreadable.
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    every = tmp_path / "every.toml"
    every.write_text("\n".join(line for line in text.splitlines() if not line.startswith("known = ")))
    every.write_text(every.read_text().replace("[loader]\n", '[loader]\nresolution = "register-all"\n', 1))
    r = subprocess.run(
        [sys.executable, "-m", "qpack", "check", str(prefix), "-l", str(every), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    rows = {m["module"]: m for m in json.loads(r.stdout)["modules"]}
    assert [p["kind"] for p in rows["ui-fifo"]["problems"]] == ["unreadable"], rows["ui-fifo"]


def test_a_stray_row_says_neither_yes_nor_no() -> None:
    """A file the loader never looks up is no module: the text shows '-' for it, where a Qt
    tester read "no" beside a summary counting 6 of 6 modules loading. JSON keeps `loads`."""
    from qpack.check import text_rows

    stray = ModuleVerdict(
        module="libqfoo.so",
        file="/p/x/libqfoo.so",
        loads=False,
        problems=(Problem("never-looked-up", "named"),),
    )
    broken = ModuleVerdict(
        module="x-bar", file="/p/x/libbar.so", loads=False, problems=(Problem("unreadable", "cut"),)
    )
    assert [row[2] for row in text_rows([stray, broken], ())] == ["-", "no"]


def test_rows_of_a_module_judged_otherwise_by_other_programs_name_their_programs() -> None:
    """An Ardour tester's surfaces-cc121: "yes" for ardour, "no" (missing-library) for hardour
    and luasession, on rows alike but for the verdict; only --json told whose each was. A
    module judged alike by every program keeps one row and names none."""
    from qpack.check import text_rows

    lib = Problem("missing-library", "no libgtkmm2ext.so.0")
    rows = text_rows(
        [
            ModuleVerdict(module="s-cc121", file="/p/s/cc121.so", loads=True, executables=("/p/ardour",)),
            ModuleVerdict(
                module="s-cc121",
                file="/p/s/cc121.so",
                loads=False,
                problems=(lib,),
                executables=("/p/hardour", "/p/lua"),
            ),
            ModuleVerdict(
                module="s-osc",
                file="/p/s/osc.so",
                loads=True,
                executables=("/p/ardour", "/p/hardour", "/p/lua"),
            ),
        ],
        (),
    )
    assert rows == [
        ("s-cc121", "/p/s/cc121.so", "yes", "for /p/ardour"),
        ("s-cc121", "/p/s/cc121.so", "no", "missing-library: no libgtkmm2ext.so.0; for /p/hardour, /p/lua"),
        ("s-osc", "/p/s/osc.so", "yes", ""),
    ]


def test_a_module_named_through_a_symlinked_prefix_is_the_copy_loaded(tmp_path: Path) -> None:
    """A Varnish tester checked `venvlink -> venv`: every module was said to be "not the copy
    loaded", the loader's path and the installed one being one file named two ways."""
    from qpack.check import taken_elsewhere

    (tmp_path / "venv/lib").mkdir(parents=True)
    (tmp_path / "venv/lib/m.so").write_bytes(b"\x7fELF")
    (tmp_path / "other").mkdir()
    (tmp_path / "other/m.so").write_bytes(b"\x7fELF")
    (tmp_path / "venvlink").symlink_to("venv")

    def report(file: Path) -> CheckReport:
        row = ModuleVerdict(module="m", file=str(file), loads=True, executables=("/usr/bin/prog",))
        return CheckReport(
            prefix=str(tmp_path / "venvlink"), root="/", layout="x", executables=(), modules=(row,)
        )

    installed = {"m": (str(tmp_path / "venvlink/lib/m.so"), "d 1")}
    assert taken_elsewhere(report(tmp_path / "venv/lib/m.so"), installed) == []
    # A dangling link too (a Gambas tester's venv, lib64 -> lib: "installed as lib/gambas3/gb.xml.so,
    # but gbx3 takes lib64/gambas3/gb.xml.so (the copy installed is a dangling link)").
    (tmp_path / "venv/lib/gone.so").symlink_to("nowhere.so")
    gone = {"m": (str(tmp_path / "venvlink/lib/gone.so"), "d 1")}
    assert taken_elsewhere(report(tmp_path / "venv/lib/gone.so"), gone) == []
    assert taken_elsewhere(report(tmp_path / "other/m.so"), installed) == [
        f"m: installed as {tmp_path}/venvlink/lib/m.so by d 1, but /usr/bin/prog takes {tmp_path}/other/m.so "
        "and never looks there: the copy installed is not the one loaded"
    ]
    # Several programs "take ... and never look there" (a Grilo tester).
    two = report(tmp_path / "other/m.so")
    two = dataclasses.replace(
        two, modules=(dataclasses.replace(two.modules[0], executables=("/usr/bin/a", "/usr/bin/b")),)
    )
    assert taken_elsewhere(two, installed) == [
        f"m: installed as {tmp_path}/venvlink/lib/m.so by d 1, but /usr/bin/a, /usr/bin/b take "
        f"{tmp_path}/other/m.so and never look there: the copy installed is not the one loaded"
    ]
    # Many alike, one line (a LADSPA tester's venv checked without --env: 25 warnings, one a
    # plug-in, buried the advice to set LADSPA_PATH); three or fewer, one each.
    names = ["a", "b", "c", "d", "e"]
    for n in names:
        (tmp_path / f"venv/lib/{n}.so").write_bytes(b"\x7fELF")
        (tmp_path / f"other/{n}.so").write_bytes(b"\x7fELF")
    rows = tuple(
        ModuleVerdict(module=n, file=str(tmp_path / f"other/{n}.so"), loads=True, executables=("/usr/bin/p",))
        for n in names
    )
    many = CheckReport(prefix=str(tmp_path / "venv"), root="/", layout="x", executables=(), modules=rows)
    mine = {n: (str(tmp_path / f"venv/lib/{n}.so"), f"d-{n} 1") for n in names}
    assert taken_elsewhere(many, mine) == [
        f"5 modules installed in {tmp_path}/venv/lib (a, b, c and 2 more) are not the copies loaded: "
        f"/usr/bin/p takes those in {tmp_path}/other and never looks in {tmp_path}/venv/lib"
    ]
    few = dataclasses.replace(many, modules=rows[:3])
    assert len(taken_elsewhere(few, mine)) == 3
    # Where a variable has the programs look there, said (a uim tester read "never look there" of
    # modules the layout's LIBUIM_PLUGIN_LIB_DIR reaches).
    ways_in = {f"{tmp_path}/venv/lib": f"V={tmp_path}/venv/lib"}
    said = taken_elsewhere(many, mine, ways_in)
    assert said[0].endswith(
        f"never looks in {tmp_path}/venv/lib unless V={tmp_path}/venv/lib is set "
        f"(`--env V={tmp_path}/venv/lib` checks so)"
    ), said
    assert all(
        f"never looks there unless V={tmp_path}/venv/lib is set" in line
        for line in taken_elsewhere(few, mine, ways_in)
    )
    # The copy installed a dangling link: said so, searched or not (a Guile re-tester read "never
    # looks there unless ... is set" with the variable set).
    (tmp_path / "venv/lib/a.so").unlink()
    (tmp_path / "venv/lib/a.so").symlink_to("a.so.9")
    said = taken_elsewhere(few, mine, ways_in)
    assert said[0].endswith(
        f"takes {tmp_path}/other/a.so (the copy installed is a dangling link): the copy installed is not the "
        "one loaded"
    ), said


def test_a_dependency_installed_in_another_case_asks_about_the_file(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typelib tester's atk-1.0.typelib for the Atk-1.0 that Gtk-3.0 needs: the hint asked
    whether the layout's dependency was mistyped, where the file is misnamed (the loader asks
    for the layout's name, and refuses the other)."""
    from qpack.cli import main

    from .conftest import copy_build

    root = copy_build(demo_build, tmp_path)
    ui = root / "usr/lib/demo/ui"
    (ui / "opengl.so").rename(ui / "OpenGL.so")
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    layout = tmp_path / "any-name.toml"  # modules of any name: no `known` list
    layout.write_text("\n".join(line for line in text.splitlines() if not line.startswith("known = ")))
    assert main(["check", "/usr", "-l", str(layout), "--root", str(root), "--json"]) == 1
    rows = {m["module"]: m["problems"] for m in json.loads(capsys.readouterr().out)["modules"]}
    assert {
        "kind": "dependency",
        "detail": "needs module 'ui-opengl', which is not installed (ui-OpenGL is installed, named in "
        "another case: is its file misnamed?)",
    } in rows["ui-gtk"], rows["ui-gtk"]
