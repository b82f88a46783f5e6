"""demo-registry, the demo build's register-all plugin loader, built with the real C compiler and run.

Its contract is the comment at the top of qpack/demo/src/registry.c; `registry_model` below is
that contract in Python (registration only: which file each id gets, what is ignored), and the
tests check the real program against it and against literal expected output.  The session's
`demo_build` is shared and read-only: tests add module directories next to it, or change a copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Collection, Sequence
from pathlib import Path

import pytest

from qpack.demo import (
    MODULES,
    DemoBuildError,
    build_demo,
    build_extra_library,
    build_extra_module,
    compute_stamp,
    m32_supported,
)

from .conftest import copy_build, have_cc

TYPES = ("ui", "block", "audio")
NEEDS = {m.id: m.needs for m in MODULES}
STAMP = compute_stamp("/usr", "1")  # demo_build's: prefix /usr, build tag "1"
SUMMARY = "demo-registry: {} modules loaded"


def ignoring(path: object, module_id: str, first: object) -> str:
    return f"demo-registry: ignoring {path}: {module_id} already registered from {first}"


needs_cc = pytest.mark.skipif(not have_cc(), reason="no C compiler (cc/gcc): the demo build needs one")


@pytest.fixture(scope="module")
def prefix(demo_build: Path) -> Path:
    """The staged prefix of the session's demo build, as /proc/self/exe will spell it."""
    return (demo_build / "usr").resolve()


@pytest.fixture(scope="module")
def other_prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The staged prefix of a second build of the same sources, build tag "2" (another stamp)."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc): the demo build needs one")
    return build_demo(tmp_path_factory.mktemp("registry-build2").resolve(), build_tag="2") / "usr"


def run_registry(
    exe: Path,
    *args: str,
    plugin_path: Sequence[Path | str] | None = None,
    system_path: Sequence[Path | str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs demo-registry with $DEMO_PLUGIN_PATH / $DEMO_PLUGIN_SYSTEM_PATH set to those lists
    (':'-joined; None leaves the variable unset, [] sets it to the empty string)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEMO_")}
    if plugin_path is not None:
        env["DEMO_PLUGIN_PATH"] = ":".join(map(str, plugin_path))
    if system_path is not None:
        env["DEMO_PLUGIN_SYSTEM_PATH"] = ":".join(map(str, system_path))
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def registry_model(locations: Sequence[Path | str]) -> tuple[list[tuple[str, str]], list[str]]:
    """The contract's registration: [(id, file)] in registration order, and the "ignoring" lines."""
    registered: dict[str, str] = {}
    ignored: list[str] = []
    for location in map(str, locations):
        try:
            type_names = sorted(os.listdir(location), key=os.fsencode)  # strcmp order
        except OSError:
            continue
        for type_ in type_names:
            type_dir = f"{location}/{type_}"
            if type_ not in TYPES or not os.path.isdir(type_dir):  # stat: follows symlinks
                continue
            try:
                file_names = sorted(os.listdir(type_dir), key=os.fsencode)
            except OSError:
                continue
            for file_name in file_names:
                path = f"{type_dir}/{file_name}"
                if not file_name.endswith(".so") or not os.path.isfile(path):
                    continue
                module_id = f"{type_}-{file_name.removesuffix('.so')}"
                if module_id in registered:
                    ignored.append(ignoring(path, module_id, registered[module_id]))
                else:
                    registered[module_id] = path
    return list(registered.items()), ignored


def model_loaded(registered: list[tuple[str, str]], failing: Collection[str] = ()) -> list[str]:
    """The "loaded" lines: every registered module in order, dependencies first, unless it (or a
    dependency) is not registered or is in `failing`."""
    files = dict(registered)
    state: dict[str, bool] = {}
    lines: list[str] = []

    def load(module_id: str) -> bool:
        if module_id not in state:
            state[module_id] = False
            deps_ok = all(dep in files and load(dep) for dep in NEEDS.get(module_id, ()))
            if deps_ok and module_id not in failing:
                state[module_id] = True
                lines.append(f"loaded {module_id} from {files[module_id]}")
        return state[module_id]

    for module_id, _ in registered:
        load(module_id)
    return lines


def module_dir(root: Path, *files: tuple[Path, str]) -> Path:
    """A module directory root/<type>/<name>.so holding copies of the given (source, "type/name.so")."""
    for source, rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / rel)
    return root


# --- the staged tree ------------------------------------------------------------------------------


def test_loads_all_seven_modules_from_the_staged_tree(prefix: Path) -> None:
    result = run_registry(prefix / "bin/demo-registry")
    assert result.returncode == 0, result.stderr
    mods = f"{prefix}/lib/demo"
    # Registration order: types in strcmp order (audio, block, ui), files in strcmp order;
    # ui-gtk's dependency ui-opengl loads first and is not tried again at its own turn.
    assert result.stdout.splitlines() == [
        f"loaded audio-alsa from {mods}/audio/alsa.so",
        f"loaded audio-pa from {mods}/audio/pa.so",
        f"loaded block-curl from {mods}/block/curl.so",
        f"loaded block-nfs from {mods}/block/nfs.so",
        f"loaded ui-curses from {mods}/ui/curses.so",
        f"loaded ui-opengl from {mods}/ui/opengl.so",
        f"loaded ui-gtk from {mods}/ui/gtk.so",
    ]
    assert result.stderr == SUMMARY.format(7) + "\n"
    registered, ignored = registry_model([mods])
    assert (model_loaded(registered), ignored) == (result.stdout.splitlines(), [])


def test_search_path_stamp_version_and_usage(prefix: Path) -> None:
    exe = prefix / "bin/demo-registry"
    assert run_registry(exe, "--search-path").stdout.splitlines() == [f"{prefix}/lib/demo"]
    # Empty entries are skipped; entries are used as written.
    got = run_registry(exe, "--search-path", plugin_path=["", "/a", "", "/b/", ""])
    assert got.stdout.splitlines() == ["/a", "/b/", f"{prefix}/lib/demo"]
    # A set $DEMO_PLUGIN_SYSTEM_PATH replaces the relocated directory, even when empty.
    got = run_registry(exe, "--search-path", plugin_path=["/a"], system_path=["/s", "", "/t"])
    assert got.stdout.splitlines() == ["/a", "/s", "/t"]
    assert run_registry(exe, "--search-path", plugin_path=["/a"], system_path=[]).stdout == "/a\n"
    assert run_registry(exe, "--search-path", system_path=[]).stdout == ""

    stamp = run_registry(exe, "--stamp")
    assert stamp.stdout == f"demo_stamp_{STAMP}\n"
    assert (
        subprocess.run([prefix / "bin/demo", "--stamp"], capture_output=True, text=True, check=False).stdout
        == stamp.stdout
    )
    assert run_registry(exe, "--version").stdout == "demo-registry 1\n"
    helped = run_registry(exe, "--help")
    assert (helped.returncode, helped.stdout.startswith("usage: demo-registry ")) == (0, True)
    bogus = run_registry(exe, "--bogus")
    assert bogus.returncode == 2
    assert bogus.stderr.splitlines()[0] == "demo-registry: unknown option --bogus"
    assert (run_registry(exe, "--stamp", "x").returncode, bogus.stdout) == (2, "")


def _readelf(*args: str) -> str:
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) not installed")
    return subprocess.run([readelf, "-W", *args], capture_output=True, text=True, check=True).stdout


def _exports(path: Path) -> set[str]:
    names = set()
    for line in _readelf("--dyn-syms", str(path)).splitlines():
        fields = line.split()
        if (
            len(fields) >= 8
            and fields[3] in {"FUNC", "OBJECT"}
            and fields[4] != "LOCAL"
            and fields[6] != "UND"
        ):
            names.add(fields[7].split("@")[0])
    return names


def test_elf_facts_match_demo(prefix: Path) -> None:
    exe = prefix / "bin/demo-registry"
    dynamic = _readelf("-d", str(exe))
    needed = [ln.split("[", 1)[1].rstrip("]") for ln in dynamic.splitlines() if "(NEEDED)" in ln]
    assert needed[0] == "libdemo-util.so.1"
    assert "Library runpath: [$ORIGIN/../lib]" in dynamic
    # -rdynamic exports what modules call; loader.c's internals stay hidden in both executables.
    for program in ("demo", "demo-registry"):
        exports = _exports(prefix / "bin" / program)
        assert "demo_core_register" in exports, program
        assert not {s for s in exports if s.startswith("demo_") and s != "demo_core_register"}, program
        assert f"demo_stamp_{STAMP}".encode() in (prefix / "bin" / program).read_bytes()


# --- search locations and registration ------------------------------------------------------------


def test_first_registered_copy_wins_and_later_ones_are_ignored(prefix: Path, tmp_path: Path) -> None:
    nfs = prefix / "lib/demo/block/nfs.so"
    first = module_dir(tmp_path / "first", (nfs, "block/nfs.so"))
    second = module_dir(tmp_path / "second", (nfs, "block/nfs.so"))
    result = run_registry(prefix / "bin/demo-registry", plugin_path=[first, second])
    assert result.returncode == 0
    mods = f"{prefix}/lib/demo"
    assert result.stdout.splitlines()[0] == f"loaded block-nfs from {first}/block/nfs.so"
    assert len(result.stdout.splitlines()) == 7
    assert result.stderr.splitlines() == [
        ignoring(f"{second}/block/nfs.so", "block-nfs", f"{first}/block/nfs.so"),
        ignoring(f"{mods}/block/nfs.so", "block-nfs", f"{first}/block/nfs.so"),
        SUMMARY.format(7),
    ]
    registered, ignored = registry_model([first, second, mods])
    assert model_loaded(registered) == result.stdout.splitlines()
    assert ignored == result.stderr.splitlines()[:-1]


def test_empty_system_path_searches_only_the_plugin_path(prefix: Path, tmp_path: Path) -> None:
    mods = prefix / "lib/demo"
    only = module_dir(
        tmp_path / "only", (mods / "ui/curses.so", "ui/curses.so"), (mods / "ui/gtk.so", "ui/gtk.so")
    )
    result = run_registry(prefix / "bin/demo-registry", plugin_path=[only], system_path=[])
    assert result.stdout == f"loaded ui-curses from {only}/ui/curses.so\n"
    # ui-opengl is in the staged tree, but that is not searched: ui-gtk lacks its dependency.
    assert result.stderr.splitlines() == [
        "demo-registry: module ui-gtk not loaded: needs ui-opengl",
        SUMMARY.format(1),
    ]
    nothing = run_registry(prefix / "bin/demo-registry", system_path=[])
    assert (nothing.returncode, nothing.stdout, nothing.stderr) == (0, "", SUMMARY.format(0) + "\n")
    # The staged module directory named as a system path gives what the relocated one gives.
    assert run_registry(prefix / "bin/demo-registry", system_path=["", mods]).stdout == (
        run_registry(prefix / "bin/demo-registry").stdout
    )


def test_what_a_directory_scan_registers(prefix: Path, tmp_path: Path) -> None:
    """Only <type>/<file>.so regular files (through symlinks) of the three types; listed order."""
    curses = prefix / "lib/demo/ui/curses.so"
    scan = module_dir(
        tmp_path / "scan",
        (curses, "video/curses.so"),  # not a type
        (curses, "ui/curses.so.1"),  # not *.so
        (curses, "ui.so"),  # not in a type directory
    )
    (scan / "block").mkdir()
    (scan / "block/dir.so").mkdir()  # not a regular file
    (scan / "block/dangling.so").symlink_to("nowhere.so")  # stat() fails
    (scan / "audio").symlink_to(prefix / "lib/demo/audio")  # a type directory through a symlink
    (scan / "ui/curses.so").symlink_to(curses)  # a module file through a symlink
    (scan / "ui/nfs-renamed.so").symlink_to(prefix / "lib/demo/block/nfs.so")  # registers as ui-nfs-renamed
    result = run_registry(prefix / "bin/demo-registry", plugin_path=[scan, scan], system_path=[])
    assert result.stdout.splitlines() == [
        f"loaded audio-alsa from {scan}/audio/alsa.so",
        f"loaded audio-pa from {scan}/audio/pa.so",
        f"loaded ui-curses from {scan}/ui/curses.so",
    ]
    errors = result.stderr.splitlines()
    # The directory listed twice: its second scan finds every id taken by the first (these
    # lines come while registering, before anything loads).
    registered, ignored = registry_model([scan, scan])
    assert [i for i, _ in registered] == ["audio-alsa", "audio-pa", "ui-curses", "ui-nfs-renamed"]
    assert errors[:-2] == ignored
    # The misnamed file registers under its file name, then fails demo_core_register's check.
    assert errors[-2:] == [
        f"demo-registry: failed to initialize module: {scan}/ui/nfs-renamed.so",
        SUMMARY.format(3),
    ]
    assert ignored[0] == ignoring(f"{scan}/audio/alsa.so", "audio-alsa", f"{scan}/audio/alsa.so")
    assert model_loaded(registered, failing={"ui-nfs-renamed"}) == result.stdout.splitlines()


def test_module_id_not_in_the_table_registers_and_loads(prefix: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    sdl = build_extra_module(extra, type="ui", name="sdl", stamp=STAMP)
    assert sdl == extra / "ui/sdl.so"
    result = run_registry(prefix / "bin/demo-registry", plugin_path=[extra])
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"loaded ui-sdl from {sdl}"
    assert lines[1:] == run_registry(prefix / "bin/demo-registry").stdout.splitlines()
    assert result.stderr == SUMMARY.format(8) + "\n"


# --- refusals -------------------------------------------------------------------------------------


def test_module_of_another_build_is_refused(prefix: Path, other_prefix: Path, tmp_path: Path) -> None:
    assert compute_stamp("/usr", "2") != STAMP
    stale = module_dir(tmp_path / "stale", (other_prefix / "lib/demo/ui/curses.so", "ui/curses.so"))
    result = run_registry(prefix / "bin/demo-registry", plugin_path=[stale])
    assert result.returncode == 0
    mods = f"{prefix}/lib/demo"
    # The stale file was registered first, so the good copy is ignored and ui-curses is not loaded.
    assert result.stderr.splitlines() == [
        ignoring(f"{mods}/ui/curses.so", "ui-curses", f"{stale}/ui/curses.so"),
        f"demo-registry: failed to initialize module: {stale}/ui/curses.so",
        "demo-registry: Only modules from the same build can be loaded.",
        SUMMARY.format(6),
    ]
    registered, _ = registry_model([stale, mods])
    assert result.stdout.splitlines() == model_loaded(registered, failing={"ui-curses"})
    # And the other build's own demo-registry refuses this build's modules.
    other = run_registry(other_prefix / "bin/demo-registry", plugin_path=[mods], system_path=[])
    assert other.stdout == ""
    assert other.stderr.count("Only modules from the same build can be loaded.") == 5
    assert [ln for ln in other.stderr.splitlines() if "needs" in ln] == [
        "demo-registry: module audio-pa not loaded: needs audio-alsa",
        "demo-registry: module ui-gtk not loaded: needs ui-opengl",
    ]


def test_stale_dependency_fails_its_dependent(prefix: Path, other_prefix: Path, tmp_path: Path) -> None:
    copy = copy_build(prefix.parent, tmp_path).resolve() / "usr"
    shutil.copyfile(other_prefix / "lib/demo/ui/opengl.so", copy / "lib/demo/ui/opengl.so")
    (copy / "lib/demo/block/curl.so").unlink()
    result = run_registry(copy / "bin/demo-registry")
    mods = f"{copy}/lib/demo"
    assert result.stdout.splitlines() == [
        f"loaded audio-alsa from {mods}/audio/alsa.so",
        f"loaded audio-pa from {mods}/audio/pa.so",
        f"loaded block-nfs from {mods}/block/nfs.so",
        f"loaded ui-curses from {mods}/ui/curses.so",
    ]
    # ui-opengl fails once, as ui-gtk's dependency; it is not tried again at its own turn.
    assert result.stderr.splitlines() == [
        f"demo-registry: failed to initialize module: {mods}/ui/opengl.so",
        "demo-registry: Only modules from the same build can be loaded.",
        "demo-registry: module ui-gtk not loaded: needs ui-opengl",
        SUMMARY.format(4),
    ]


def test_extra_modules_without_stamp_or_library(prefix: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    libs = tmp_path / "libs"
    lib = build_extra_library(libs, "libdemo-extra.so.1")
    assert lib == libs / "libdemo-extra.so.1"
    nostamp = build_extra_module(extra, type="audio", name="jack", stamp=None)
    needy = build_extra_module(
        extra, type="block", name="iscsi", stamp=STAMP, needed=[lib], runpath="$ORIGIN"
    )
    dynamic = _readelf("-d", str(needy))
    assert "Shared library: [libdemo-extra.so.1]" in dynamic
    assert "Library runpath: [$ORIGIN]" in dynamic
    assert "SONAME" in _readelf("-d", str(lib)) and "[libdemo-extra.so.1]" in _readelf("-d", str(lib))
    assert f"demo_stamp_{STAMP}" not in _exports(nostamp)
    assert {"demo_module_init", "demo_module_dummy"} <= _exports(nostamp)
    assert {f"demo_stamp_{STAMP}", "demo_module_init", "demo_module_dummy"} <= _exports(needy)

    result = run_registry(prefix / "bin/demo-registry", plugin_path=[extra], system_path=[])
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert errors[:2] == [
        f"demo-registry: failed to initialize module: {nostamp}",
        "demo-registry: Only modules from the same build can be loaded.",
    ]
    assert errors[2].startswith(f"demo-registry: failed to load module {needy}: libdemo-extra.so.1: ")
    assert errors[3:] == [SUMMARY.format(0)]
    # Next to the module, its RUNPATH $ORIGIN finds the library (whose name does not end in .so).
    shutil.copyfile(lib, extra / "block/libdemo-extra.so.1")
    result = run_registry(prefix / "bin/demo-registry", plugin_path=[extra], system_path=[])
    assert result.stdout == f"loaded block-iscsi from {needy}\n"


def test_32_bit_module_is_refused_by_dlopen(prefix: Path, tmp_path: Path) -> None:
    if not m32_supported():
        pytest.skip("the C compiler cannot build -m32 here (on Debian: apt-get install gcc-multilib)")
    extra = tmp_path / "extra"
    lib = build_extra_library(tmp_path / "libs32", "libdemo-extra32.so.1", m32=True)
    oss = build_extra_module(extra, type="audio", name="oss", stamp=STAMP, needed=[lib], m32=True)
    header = _readelf("-h", str(oss))
    assert "ELF32" in header and "Intel 80386" in header
    result = run_registry(prefix / "bin/demo-registry", plugin_path=[extra], system_path=[])
    assert result.stdout == ""
    assert result.stderr.splitlines()[0].startswith(f"demo-registry: failed to load module {oss}: ")
    assert "wrong ELF class: ELFCLASS32" in result.stderr


# --- the helpers ----------------------------------------------------------------------------------


@needs_cc
def test_extra_builds_are_deterministic_and_replace_files(tmp_path: Path) -> None:
    one = build_extra_module(tmp_path / "one", type="ui", name="sdl", stamp=STAMP)
    two = build_extra_module(tmp_path / "two" / "deeper", type="ui", name="sdl", stamp=STAMP)
    assert one.read_bytes() == two.read_bytes()
    lib_one = build_extra_library(tmp_path / "one", "libx.so.1")
    assert lib_one.read_bytes() == build_extra_library(tmp_path / "two", "libx.so.1").read_bytes()
    # A module needing a library does not record where the library was.
    a = build_extra_module(tmp_path / "a", type="ui", name="n", stamp=None, needed=[lib_one])
    b = build_extra_module(
        tmp_path / "b", type="ui", name="n", stamp=None, needed=[tmp_path / "two/libx.so.1"]
    )
    assert a.read_bytes() == b.read_bytes()
    # Rebuilding replaces the file (through no symlink) with the new module.
    one.unlink()
    one.symlink_to(lib_one)
    again = build_extra_module(tmp_path / "one", type="ui", name="sdl", stamp=None)
    assert not again.is_symlink() and again.read_bytes() != two.read_bytes()
    assert lib_one.read_bytes() == build_extra_library(tmp_path / "two", "libx.so.1").read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "", "name": "x", "stamp": None}, "module type must be"),
        ({"type": "ui", "name": "a/b", "stamp": None}, "module name must be"),
        ({"type": "..", "name": "x", "stamp": None}, "module type must be"),
        ({"type": "ui", "name": "x", "stamp": "abc"}, "stamp must be 40 hex digits"),
        (
            {"type": "ui", "name": "x", "stamp": None, "needed": [Path("/nonexistent/lib.so")]},
            "needed library",
        ),
    ],
)
def test_extra_module_bad_arguments(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(DemoBuildError, match=message):
        build_extra_module(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_extra_library_bad_soname(tmp_path: Path) -> None:
    with pytest.raises(DemoBuildError, match="soname must be"):
        build_extra_library(tmp_path, "lib/x.so")
