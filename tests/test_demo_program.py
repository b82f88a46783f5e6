"""The bundled demo program, built with the real C compiler and run for real.

One build per session (plus a second one with another build tag); every test that changes a
tree works on a copy of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from qpack.demo import (
    MODULES,
    DemoBuildError,
    build_demo,
    canon_build_tag,
    compute_stamp,
    fallback_module_dir,
    find_compiler,
)

BY_ID = {m.id: m for m in MODULES}
BANNER = "demo: a modular program bundled with qpack"


def _have_compiler() -> bool:
    try:
        find_compiler()
    except DemoBuildError:
        return False
    return True


needs_cc = pytest.mark.skipif(not _have_compiler(), reason="no C compiler on this machine (cc, gcc, $CC)")


@pytest.fixture(scope="session")
def build1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The staged prefix (<destdir>/usr) of a build with build tag "1"."""
    if not _have_compiler():
        pytest.skip("no C compiler on this machine (cc, gcc, $CC)")
    destdir = tmp_path_factory.mktemp("build1").resolve()
    assert build_demo(destdir) == destdir
    return destdir / "usr"


@pytest.fixture(scope="session")
def build2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The staged prefix of a second build of the same sources, build tag "2" (another stamp)."""
    if not _have_compiler():
        pytest.skip("no C compiler on this machine (cc, gcc, $CC)")
    destdir = tmp_path_factory.mktemp("build2").resolve()
    build_demo(destdir, build_tag="2")
    return destdir / "usr"


def copy_prefix(prefix: Path, tmp_path: Path) -> Path:
    """A copy of a staged prefix somewhere else (symlinks kept), to run and to damage."""
    dest = tmp_path.resolve() / "elsewhere" / "opt" / "demo"
    shutil.copytree(prefix, dest, symlinks=True)
    return dest


def run_demo(exe: Path, *args: str, module_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEMO_MODULE_DIR"}
    if module_dir is not None:
        env["DEMO_MODULE_DIR"] = str(module_dir)
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def loaded_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("loaded ")]


def expected_order(present: set[str]) -> list[str]:
    """Which modules `demo --load-all` loads, in print order, when only `present` have a good file."""
    state: dict[str, bool] = {}
    order: list[str] = []

    def load(module_id: str) -> bool:
        if module_id not in state:
            state[module_id] = False
            if module_id in present and all(load(dep) for dep in BY_ID[module_id].needs):
                state[module_id] = True
                order.append(module_id)
        return state[module_id]

    for module in MODULES:
        load(module.id)
    return order


def expected_lines(prefix: Path, present: set[str]) -> list[str]:
    return [f"loaded {i} from {prefix}/{BY_ID[i].path}" for i in expected_order(present)]


ALL = {m.id for m in MODULES}


# --- the staged tree -----------------------------------------------------------------------------


def test_staged_tree_has_exactly_the_documented_files(build1: Path) -> None:
    entries = {}
    for path in sorted(build1.parent.rglob("*")):
        rel = path.relative_to(build1.parent).as_posix()
        if path.is_symlink():
            entries[rel] = f"-> {os.readlink(path)}"
        elif path.is_file():
            entries[rel] = oct(path.stat().st_mode & 0o777)
    assert entries == {
        "usr/bin/demo": "0o755",
        "usr/bin/demo-run": "-> demo",
        "usr/bin/demo-registry": "0o755",
        "usr/lib/libdemo-util.so.1": "0o644",
        **{f"usr/{m.path}": "0o644" for m in MODULES},
        "usr/share/demo/banner.txt": "0o644",
        "usr/share/doc/demo/README": "0o644",
    }


def test_module_table_is_the_documented_one() -> None:
    assert [m.id for m in MODULES] == [
        "ui-curses", "ui-gtk", "ui-opengl", "block-curl", "block-nfs", "audio-alsa", "audio-pa",
    ]  # fmt: skip
    assert {m.id: m.needs for m in MODULES if m.needs} == {
        "ui-gtk": ("ui-opengl",),
        "audio-pa": ("audio-alsa",),
    }


def _readelf(*args: str) -> str:
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) not installed")
    return subprocess.run([readelf, "-W", *args], capture_output=True, text=True, check=True).stdout


def _dynamic(path: Path, tag: str) -> list[str]:
    return [
        line.split("[", 1)[1].rstrip("]")
        for line in _readelf("-d", str(path)).splitlines()
        if f"({tag})" in line
    ]


def _dynsyms(path: Path, *, defined: bool) -> set[str]:
    names = set()
    for line in _readelf("--dyn-syms", str(path)).splitlines():
        fields = line.split()
        is_symbol = len(fields) >= 8 and fields[3] in {"FUNC", "OBJECT", "NOTYPE"} and fields[4] != "LOCAL"
        if is_symbol and (fields[6] != "UND") == defined:
            names.add(fields[7].split("@")[0])
    return names


def test_elf_facts_that_qpack_relies_on(build1: Path) -> None:
    stamp = "demo_stamp_" + compute_stamp("/usr", "1")
    exe = build1 / "bin/demo"
    assert _dynamic(exe, "NEEDED")[0] == "libdemo-util.so.1"
    assert _dynamic(exe, "RUNPATH") == ["$ORIGIN/../lib"]
    assert _dynamic(exe, "RPATH") == []
    assert _dynamic(build1 / "lib/libdemo-util.so.1", "SONAME") == ["libdemo-util.so.1"]
    exe_exports = _dynsyms(exe, defined=True)
    assert "demo_core_register" in exe_exports  # -rdynamic
    assert stamp not in exe_exports  # the executable only holds the name
    assert stamp.encode() in exe.read_bytes()
    for module in MODULES:
        so = build1 / module.path
        exports = _dynsyms(so, defined=True)
        assert {stamp, "demo_module_dummy", "demo_module_init"} <= exports, module.id
        assert "demo_core_register" in _dynsyms(so, defined=False), module.id  # provided by the core
    assert "libm.so.6" in _dynamic(build1 / "lib/demo/audio/alsa.so", "NEEDED")
    assert "libdemo-util.so.1" in _dynamic(build1 / "lib/demo/block/curl.so", "NEEDED")
    assert "demo_opengl_context" in _dynsyms(build1 / "lib/demo/ui/gtk.so", defined=False)
    assert "demo_opengl_context" in _dynsyms(build1 / "lib/demo/ui/opengl.so", defined=True)


# --- running the executable ----------------------------------------------------------------------


def test_all_modules_load_from_the_staged_tree(build1: Path) -> None:
    result = run_demo(build1 / "bin/demo")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        *expected_lines(build1, ALL),
        BANNER,
        "demo: 7 modules loaded",
    ]
    # Dependencies are printed first, each module once.
    assert loaded_lines(result.stdout)[1:3] == [
        f"loaded ui-opengl from {build1}/lib/demo/ui/opengl.so",
        f"loaded ui-gtk from {build1}/lib/demo/ui/gtk.so",
    ]


def test_load_all_option_and_symlinked_executable_behave_the_same(build1: Path) -> None:
    plain = run_demo(build1 / "bin/demo")
    assert run_demo(build1 / "bin/demo", "--load-all").stdout == plain.stdout
    # /proc/self/exe resolves bin/demo-run to bin/demo, so relocation still finds lib/demo.
    assert run_demo(build1 / "bin/demo-run").stdout == plain.stdout


def test_search_path_version_and_stamp(build1: Path, tmp_path: Path) -> None:
    assert run_demo(build1 / "bin/demo", "--search-path").stdout.splitlines() == [
        f"{build1}/lib/demo",
        "/var/run/demo/1",
    ]
    assert run_demo(build1 / "bin/demo", "--search-path", module_dir=tmp_path).stdout.splitlines() == [
        str(tmp_path),
        f"{build1}/lib/demo",
        "/var/run/demo/1",
    ]
    assert run_demo(build1 / "bin/demo", "--version").stdout == "demo 1\n"
    stamp = run_demo(build1 / "bin/demo", "--stamp").stdout.strip()
    assert stamp == "demo_stamp_" + compute_stamp("/usr", "1")
    assert len(stamp) == len("demo_stamp_") + 40


def test_load_named_modules_brings_their_dependencies(build1: Path) -> None:
    result = run_demo(build1 / "bin/demo", "--load", "ui-gtk", "block-nfs")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"loaded ui-opengl from {build1}/lib/demo/ui/opengl.so",
        f"loaded ui-gtk from {build1}/lib/demo/ui/gtk.so",
        f"loaded block-nfs from {build1}/lib/demo/block/nfs.so",
        BANNER,
        "demo: 3 modules loaded",
    ]


def test_usage_errors(build1: Path) -> None:
    exe = build1 / "bin/demo"
    result = run_demo(exe, "--bogus")
    assert (result.returncode, result.stderr.splitlines()[0]) == (2, "demo: unknown option --bogus")
    result = run_demo(exe, "--load", "ui-nope")
    assert (result.returncode, result.stderr) == (2, "demo: unknown module ui-nope\n")
    assert result.stdout == ""
    assert run_demo(exe, "--load").returncode == 2
    assert run_demo(exe, "--version", "extra").returncode == 2
    assert run_demo(exe, "--help").returncode == 0


def test_copied_prefix_without_ui_opengl(build1: Path, tmp_path: Path) -> None:
    prefix = copy_prefix(build1, tmp_path)
    (prefix / "lib/demo/ui/opengl.so").unlink()
    result = run_demo(prefix / "bin/demo")
    assert result.returncode == 0
    assert loaded_lines(result.stdout) == [
        f"loaded ui-curses from {prefix}/lib/demo/ui/curses.so",
        f"loaded block-curl from {prefix}/lib/demo/block/curl.so",
        f"loaded block-nfs from {prefix}/lib/demo/block/nfs.so",
        f"loaded audio-alsa from {prefix}/lib/demo/audio/alsa.so",
        f"loaded audio-pa from {prefix}/lib/demo/audio/pa.so",
    ]
    assert result.stdout.splitlines()[-1] == "demo: 5 modules loaded"
    assert result.stderr == "demo: module ui-gtk not loaded: needs ui-opengl\n"

    named = run_demo(prefix / "bin/demo", "--load", "ui-gtk")
    assert named.returncode == 1
    assert loaded_lines(named.stdout) == []
    assert named.stderr == "demo: module ui-gtk not loaded: needs ui-opengl\n"
    missing = run_demo(prefix / "bin/demo", "--load", "ui-opengl")
    assert (missing.returncode, missing.stderr) == (1, "demo: module ui-opengl not found\n")


@pytest.mark.parametrize("removed", [m.id for m in MODULES])
def test_a_missing_module_drops_exactly_its_dependents(build1: Path, tmp_path: Path, removed: str) -> None:
    """Checks main.c's dependency table against MODULES, one removed module at a time."""
    prefix = copy_prefix(build1, tmp_path)
    (prefix / BY_ID[removed].path).unlink()
    result = run_demo(prefix / "bin/demo")
    assert result.returncode == 0
    assert loaded_lines(result.stdout) == expected_lines(prefix, ALL - {removed})
    dependents = [m.id for m in MODULES if removed in m.needs]
    assert result.stderr.splitlines() == [f"demo: module {d} not loaded: needs {removed}" for d in dependents]


def test_a_core_without_modules_is_quiet(build1: Path, tmp_path: Path) -> None:
    prefix = copy_prefix(build1, tmp_path)
    shutil.rmtree(prefix / "lib/demo")
    (prefix / "share/demo/banner.txt").unlink()
    result = run_demo(prefix / "bin/demo")
    assert (result.returncode, result.stdout, result.stderr) == (0, "demo: 0 modules loaded\n", "")


def test_module_of_another_build_in_env_dir_shadows_the_good_one(
    build1: Path, build2: Path, tmp_path: Path
) -> None:
    assert compute_stamp("/usr", "1") != compute_stamp("/usr", "2")
    shadow = tmp_path / "shadow"
    (shadow / "ui").mkdir(parents=True)
    shutil.copyfile(build2 / "lib/demo/ui/curses.so", shadow / "ui/curses.so")

    result = run_demo(build1 / "bin/demo", module_dir=shadow)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"demo: failed to initialize module: {shadow}/ui/curses.so",
        "demo: Only modules from the same build can be loaded.",
    ]
    # The good copy in the relocated directory is not tried: the first existing file wins.
    assert loaded_lines(result.stdout) == expected_lines(build1, ALL - {"ui-curses"})

    named = run_demo(build1 / "bin/demo", "--load", "ui-curses", module_dir=shadow)
    assert named.returncode == 1
    assert loaded_lines(named.stdout) == []


def test_module_of_the_same_build_in_env_dir_is_used_first(build1: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    (extra / "block").mkdir(parents=True)
    shutil.copyfile(build1 / "lib/demo/block/nfs.so", extra / "block/nfs.so")
    result = run_demo(build1 / "bin/demo", module_dir=extra)
    assert result.stderr == ""
    assert f"loaded block-nfs from {extra}/block/nfs.so" in loaded_lines(result.stdout)
    assert len(loaded_lines(result.stdout)) == 7


def test_stale_dependency_fails_its_dependent(build1: Path, build2: Path, tmp_path: Path) -> None:
    prefix = copy_prefix(build1, tmp_path)
    shutil.copyfile(build2 / "lib/demo/ui/opengl.so", prefix / "lib/demo/ui/opengl.so")
    result = run_demo(prefix / "bin/demo")
    assert result.returncode == 0
    assert loaded_lines(result.stdout) == expected_lines(prefix, ALL - {"ui-opengl"})
    assert result.stderr.splitlines() == [
        f"demo: failed to initialize module: {prefix}/lib/demo/ui/opengl.so",
        "demo: Only modules from the same build can be loaded.",
        "demo: module ui-gtk not loaded: needs ui-opengl",
    ]


def test_truncated_non_elf_and_misnamed_modules_fail_cleanly(build1: Path, tmp_path: Path) -> None:
    prefix = copy_prefix(build1, tmp_path)
    nfs = prefix / "lib/demo/block/nfs.so"
    nfs.write_bytes(nfs.read_bytes()[:100])
    (prefix / "lib/demo/audio/pa.so").write_text("not a shared object\n")
    # A good module of this build under another module's name registers as ui-curses.
    shutil.copyfile(prefix / "lib/demo/ui/curses.so", prefix / "lib/demo/block/curl.so")

    result = run_demo(prefix / "bin/demo", "--load-all")
    assert result.returncode == 0
    broken = {"block-nfs", "audio-pa", "block-curl"}
    assert loaded_lines(result.stdout) == expected_lines(prefix, ALL - broken)
    errors = result.stderr.splitlines()
    assert errors[0] == f"demo: failed to initialize module: {prefix}/lib/demo/block/curl.so"
    assert errors[1].startswith(f"demo: failed to load module {nfs}: ")
    assert len(errors[1]) > len(f"demo: failed to load module {nfs}: ")  # dlerror()'s reason
    assert errors[2].startswith(f"demo: failed to load module {prefix}/lib/demo/audio/pa.so: ")
    assert len(errors) == 3

    named = run_demo(prefix / "bin/demo", "--load", "block-nfs")
    assert named.returncode == 1
    assert named.stderr.startswith(f"demo: failed to load module {nfs}: ")


# --- the build -----------------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, tuple[str, int, bytes]]:
    tree = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            tree[rel] = ("link", 0, os.readlink(path).encode())
        elif path.is_dir():
            tree[rel] = ("dir", 0, b"")
        else:
            tree[rel] = ("file", path.stat().st_mode & 0o777, path.read_bytes())
    return tree


def test_builds_are_byte_identical(build1: Path, tmp_path: Path) -> None:
    again = build_demo(tmp_path / "again")
    first, second = _tree(build1.parent), _tree(again)
    assert sorted(first) == sorted(second)
    for rel, entry in first.items():
        assert second[rel] == entry, rel


@needs_cc
def test_other_prefix_and_build_tag_needing_quoting(tmp_path: Path) -> None:
    tag = 'Debian 1:7.2+dfsg-7~b3 "x" \\ %s'
    destdir = build_demo(tmp_path / "dest", prefix="/opt/demo", build_tag=tag)
    prefix = destdir / "opt/demo"
    assert (prefix / "bin/demo").is_file()
    assert not (destdir / "usr").exists()
    exe = prefix / "bin/demo"
    assert run_demo(exe, "--version").stdout == f"demo {tag}\n"
    assert canon_build_tag(tag) == "Debian_1_7.2+dfsg-7~b3__x_____s"
    assert run_demo(exe, "--search-path").stdout.splitlines()[-1] == fallback_module_dir(tag)
    assert fallback_module_dir(tag) == "/var/run/demo/Debian_1_7.2+dfsg-7~b3__x_____s"
    assert run_demo(exe, "--stamp").stdout.strip() == "demo_stamp_" + compute_stamp("/opt/demo", tag)
    assert len(loaded_lines(run_demo(exe).stdout)) == 7


@needs_cc
def test_rebuilding_into_the_same_destdir_replaces_files(build1: Path, tmp_path: Path) -> None:
    destdir = tmp_path / "dest"
    build_demo(destdir, build_tag="2")
    (destdir / "usr/bin/demo-run").unlink()
    (destdir / "usr/bin/demo-run").symlink_to("/bin/true")
    build_demo(destdir)
    assert _tree(destdir) == _tree(build1.parent)


def test_stamp_depends_on_prefix_tag_and_sources(tmp_path: Path) -> None:
    base = compute_stamp("/usr", "1")
    assert len(base) == 40
    assert int(base, 16) >= 0
    assert compute_stamp("/usr", "1") == base
    assert compute_stamp("/usr/local", "1") != base
    assert compute_stamp("/usr", "1.1") != base
    # Fields cannot run together: moving a character from the prefix to the tag changes the stamp.
    assert compute_stamp("/usr1", "2") != compute_stamp("/usr", "12")
    src = tmp_path / "src"
    (src / "modules").mkdir(parents=True)
    (src / "a.c").write_text("int a;\n")
    (src / "modules" / "b.c").write_text("int b;\n")
    (src / "notes.txt").write_text("not a C source\n")
    one = compute_stamp("/usr", "1", src)
    (src / "notes.txt").write_text("changed\n")
    assert compute_stamp("/usr", "1", src) == one
    (src / "modules" / "b.c").write_text("int b2;\n")
    assert compute_stamp("/usr", "1", src) != one


def test_missing_explicit_compiler(tmp_path: Path) -> None:
    with pytest.raises(DemoBuildError, match=r"^no C compiler found: tried /nonexistent/cc; install gcc"):
        build_demo(tmp_path / "dest", cc="/nonexistent/cc")
    assert not (tmp_path / "dest").exists()


def test_no_compiler_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(DemoBuildError) as excinfo:
        build_demo(tmp_path / "dest")
    assert str(excinfo.value) == "no C compiler found: tried cc, gcc; install gcc"
    monkeypatch.setenv("CC", "clang-nope -O1")
    with pytest.raises(DemoBuildError) as excinfo:
        build_demo(tmp_path / "dest")
    assert str(excinfo.value) == "no C compiler found: tried $CC (clang-nope -O1), cc, gcc; install gcc"


@needs_cc
def test_compiler_from_env_and_compiler_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cc = find_compiler()[0]
    monkeypatch.setenv("CC", f"{cc} -include /nonexistent/missing.h")
    with pytest.raises(DemoBuildError) as excinfo:
        build_demo(tmp_path / "dest")
    message = str(excinfo.value)
    assert message.startswith("building lib/libdemo-util.so.1 failed: ")
    assert "missing.h" in message
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize("prefix", ["usr", "/usr/", "//usr", "/usr/../etc", "/usr/./lib", ""])
def test_bad_prefix(tmp_path: Path, prefix: str) -> None:
    with pytest.raises(DemoBuildError, match="prefix must be an absolute normalised path"):
        build_demo(tmp_path, prefix=prefix)


@pytest.mark.parametrize("tag", ["", "a\nb", "caf\u00e9"])
def test_bad_build_tag(tmp_path: Path, tag: str) -> None:
    with pytest.raises(DemoBuildError, match="build tag must be non-empty printable ASCII"):
        build_demo(tmp_path, build_tag=tag)
