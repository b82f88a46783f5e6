"""Wheels that run where pip puts them, on a program compiled here (tests/mini_program.py): its
executable has no RUNPATH and links a library of its own build, so it runs from a venv only
through the RUNPATH the wheel writer gives it; a module links a second library of the build that
the executable does not load; the loader is relocatable, or not relocatable but honours a
bundle directory (QEMU's qemu-bundle), or neither (then no wheel can work: the split says so).

Also here: the plan's requirement on the package that ships a library a file links (DT_NEEDED),
and `Requires-External` in the wheels' METADATA. Installs use real pip in real venvs; `qpack
check` judges each installed venv.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from qpack.install import read_wheel
from qpack.plan import LibraryRequirement, plan_build
from qpack.writers.wheel import write_wheels

from . import mini_program
from .conftest import have_cc, run_qpack

VERSION = "2.0-1"
PEP440 = "2.0+0r.1"
EPOCH = 1700000000
CLEAN_ENV = {"PATH": "/usr/bin:/bin"}  # no LD_LIBRARY_PATH, no MINI_MODULE_DIR

EXTRA_GROUP = """
[[package]]
name = "mini-core"
kind = "core"
rest = true

[[package]]
name = "mini-extra"
kind = "group"
files = ["{prefix}/lib/libqpackextra.so.1"]
requires = []
"""


LIBS_GROUP = """
[[package]]
name = "mini-libs"
kind = "group"
files = ["{prefix}/lib/libqpackmini.so.1"]
"""


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the mini program needs one")
    base = tmp_path_factory.mktemp("mini")
    return {
        "relocatable": mini_program.build(base / "relocatable"),
        "bundle": mini_program.build(base / "bundle", relocatable=False, bundle=True),
        "fixed": mini_program.build(base / "fixed", relocatable=False),
    }


def layout(tmp: Path, name: str = "mini", **kw: object) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(mini_program.layout_text(**kw))  # type: ignore[arg-type]
    return path


def split(build: Path, lay: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qpack", "split", str(build), "-l", str(lay), "--version", VERSION,
         "-o", str(out), *extra],
        capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)},
    )  # fmt: skip


def bare_venv(path: Path) -> Path:
    """A venv without pip of its own (this Python's pip installs into it with --python)."""
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    return path


def pip(venv_dir: Path, dist: Path, *wanted: str) -> None:
    """Real pip installing into the venv, as `pip install` run from it would."""
    r = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv_dir / "bin/python"), "--disable-pip-version-check",
         "install", "--no-index", "--find-links", str(dist), *wanted],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def pip_prefix(prefix: Path, dist: Path, *wanted: str) -> Path:
    """Real pip, installing into a plain prefix (`pip install --prefix`): no venv to create."""
    r = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--no-index", "--quiet",
         "--ignore-installed", "--no-warn-script-location", "--prefix", str(prefix),
         "--find-links", str(dist), *wanted],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    return prefix


def run(exe: Path, *modules: str) -> dict[str, str]:
    """What the program said: 'lib', 'dir', 'greeting' and one key per module."""
    r = subprocess.run(
        [str(exe), *modules], capture_output=True, text=True, env=CLEAN_ENV, timeout=60, check=False
    )
    assert r.returncode == 0, r.stderr
    said: dict[str, str] = {}
    for line in r.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("loaded", "failed"):
            name, _, what = rest.partition(": ")
            said[name] = f"{word}: {what}"
        else:
            said[word] = rest
    return said


def runpath_of(path: Path) -> str | None:
    with path.open("rb") as f:
        dyn = ELFFile(f).get_section_by_name(".dynamic")
        assert isinstance(dyn, DynamicSection)
        for tag in dyn.iter_tags():
            if tag.entry.d_tag == "DT_RUNPATH":
                return str(tag.runpath)
            if tag.entry.d_tag == "DT_RPATH":
                return f"RPATH {tag.rpath}"
    return None


def check_clean(prefix: Path, lay: Path) -> dict:
    r = run_qpack("check", str(prefix), "-l", str(lay), "--json")
    report = json.loads(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    return report


@contextlib.contextmanager
def system_copy(tmp: Path) -> Iterator[Path]:
    """The decoy library at a standard path of this machine (/usr/lib), removed afterwards."""
    target = Path("/usr/lib") / mini_program.SONAME
    if os.geteuid() != 0:
        pytest.skip("putting a system copy of the library in /usr/lib needs root")
    built = mini_program.decoy(tmp / mini_program.SONAME)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        pytest.skip(f"{target} exists already (another run of these tests?)")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(built.read_bytes())
        yield target
    finally:
        target.unlink()


# --------------------------------------------------------------------------- RUNPATH


@pytest.fixture(scope="module")
def relocatable_dist(builds: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("mini-dist")
    lay = layout(tmp)
    r = split(builds["relocatable"], lay, tmp / "dist")
    assert r.returncode == 0, r.stderr
    return tmp / "dist", lay


def test_the_system_pythons_modules_are_importable_from_the_venv(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    """A Knot tester's python3-libknot went to <venv>/lib/python3/dist-packages, which no venv
    imports from (a libproxy and an MLT tester's likewise): Debian's dist-packages (and any
    lib/python3.X/site-packages of the build) go through the platlib scheme, into the installing
    Python's site-packages; an extension there linking the build's library finds it through a
    RUNPATH computed for that depth."""
    build = shutil.copytree(builds["relocatable"], tmp_path / "build", symlinks=True)
    package = build / "usr/lib/python3/dist-packages/mini_py"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("ANSWER = 42\n")
    shutil.copy(build / "usr/lib/mini/a.so", package / "_native.so")  # links libqpackmini.so.1
    lay = layout(tmp_path)
    r = split(build, lay, tmp_path / "dist")
    assert r.returncode == 0, r.stderr
    assert "no venv imports from" not in r.stderr
    with zipfile.ZipFile(next((tmp_path / "dist").glob("mini_core-*.whl"))) as z:
        assert {n.partition(".data/")[2] for n in z.namelist()} >= {
            "platlib/mini_py/__init__.py",
            "platlib/mini_py/_native.so",
        }
    venv = bare_venv(tmp_path / "venv")
    pip(venv, tmp_path / "dist", "mini-core")
    r2 = subprocess.run(
        [str(venv / "bin/python"), "-c", "import mini_py, sys; print(mini_py.ANSWER, mini_py.__file__)"],
        capture_output=True, text=True, check=False, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert r2.returncode == 0, r2.stderr
    answer, where = r2.stdout.split()
    assert answer == "42" and Path(where).parent.parent.name == "site-packages"
    native = Path(where).parent / "_native.so"
    assert runpath_of(native) == "$ORIGIN/../../.."
    assert (native.parent / "../../.." / mini_program.SONAME).resolve().is_file()
    check_clean(venv, lay)


def test_a_runpath_entry_to_another_packages_directory_is_kept(tmp_path: Path) -> None:
    """A GDAL tester's GRASS plug-ins have RUNPATH /usr/lib/grass82/lib, where GRASS's own
    libraries are, which no file of the build is: the wheel split replaced it with `$ORIGIN/..`
    alone, and installed, the plug-ins could not load (libgrass_vector.8.2.so not found). An
    entry naming a directory of the build is replaced, as before; one naming another package's
    is kept."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the mini program needs one")
    src = "const char *mini_lib_id(void);\nconst char *mini_module(void) { return mini_lib_id(); }\n"
    link = [
        "out/usr/lib/" + mini_program.SONAME,
        "-Wl,--enable-new-dtags,-rpath,/usr/lib/qpack-third:/usr/lib",
    ]
    build = mini_program.build(tmp_path / "build", extra_modules={"g": (src, link)})
    assert runpath_of(build / "usr/lib/mini/g.so") == "/usr/lib/qpack-third:/usr/lib"
    r = split(build, layout(tmp_path), tmp_path / "dist")
    assert r.returncode == 0, r.stderr
    venv = bare_venv(tmp_path / "venv")
    pip(venv, tmp_path / "dist", "mini-g")
    assert runpath_of(venv / "lib/mini/g.so") == "$ORIGIN/..:/usr/lib/qpack-third"


def test_a_signature_of_bytes_the_runpath_rewrite_changes_is_said(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    """A libcamera tester's IPA modules ship ipa_vimc.so.sign beside them: the wheel's rewritten
    RUNPATH changed the signed bytes, and libcamera would run each module isolated, through a
    proxy a venv lacks, without a word from the split. A module left as it is says nothing."""
    build = shutil.copytree(builds["relocatable"], tmp_path / "build", symlinks=True)
    (build / "usr/lib/mini/a.so.sign").write_bytes(b"\x00" * 256)  # a.so links the build's library
    (build / "usr/lib/mini/b.so.sign").write_bytes(b"\x00" * 256)  # b.so links none of it
    r = split(build, layout(tmp_path), tmp_path / "dist")
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if "signature" in line] == [
        "warning: usr/lib/mini/a.so.sign: a signature of usr/lib/mini/a.so's bytes, which the wheel's "
        "RUNPATH rewrite changes: it no longer verifies (the tree output keeps the bytes)"
    ]


def test_build_as_staged_cannot_run_without_a_library_path(builds: dict[str, Path]) -> None:
    """The control: the executable has no RUNPATH; from the build tree its library is not found."""
    exe = builds["relocatable"] / "usr/bin/mini"
    assert runpath_of(exe) is None
    r = subprocess.run([str(exe)], capture_output=True, text=True, env=CLEAN_ENV, timeout=60, check=False)
    assert r.returncode != 0
    assert mini_program.SONAME in r.stderr


@pytest.fixture(scope="module")
def mini_venv(relocatable_dist: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = bare_venv(tmp_path_factory.mktemp("mini-venv") / "venv")
    pip(venv, relocatable_dist[0], "mini[a,b,c]")
    return venv


def test_installed_from_wheels_it_loads_its_modules_with_no_library_path(
    relocatable_dist: tuple[Path, Path], mini_venv: Path
) -> None:
    _, lay = relocatable_dist
    venv = mini_venv
    said = run(venv / "bin/mini", "a", "b", "c")
    assert said["lib"] == "build"
    assert said["dir"] == f"{venv}/lib/mini"
    assert said["greeting"] == "hello from the build"
    assert said["a"] == "loaded: build"
    assert said["b"] == "loaded: plain"
    # c links libqpackextra.so.1, which the executable does not load: only its own RUNPATH finds it.
    assert said["c"] == "loaded: extra"
    assert runpath_of(venv / "bin/mini") == "$ORIGIN/../lib"
    assert runpath_of(venv / "lib/mini/a.so") == "$ORIGIN/.."
    assert runpath_of(venv / "lib/mini/c.so") == "$ORIGIN/.."
    assert runpath_of(venv / "lib/mini/b.so") is None  # needs nothing of the build: untouched
    report = check_clean(venv, lay)
    assert {m["module"] for m in report["modules"] if m["loads"]} == {"a", "b", "c"}


def test_a_system_copy_of_the_library_is_not_used(
    builds: dict[str, Path], mini_venv: Path, tmp_path: Path
) -> None:
    with system_copy(tmp_path):
        # The control: without a RUNPATH the dynamic linker takes the system's copy.
        assert run(builds["relocatable"] / "usr/bin/mini")["lib"] == "decoy"
        said = run(mini_venv / "bin/mini", "a")
        assert said["lib"] == "build"
        assert said["a"] == "loaded: build"


def test_record_holds_the_rewritten_bytes_and_the_tree_keeps_the_build_bytes(
    builds: dict[str, Path], relocatable_dist: tuple[Path, Path], tmp_path: Path
) -> None:
    dist, lay = relocatable_dist
    core = next(dist.glob("mini_core-*.whl"))
    with zipfile.ZipFile(core) as zf:
        exe = zf.read(f"mini_core-{PEP440}.data/scripts/mini")
        record = zf.read(f"mini_core-{PEP440}.dist-info/RECORD").decode()
    built = (builds["relocatable"] / "usr/bin/mini").read_bytes()
    assert exe != built
    digest = base64.urlsafe_b64encode(hashlib.sha256(exe).digest()).rstrip(b"=").decode()
    assert f"mini_core-{PEP440}.data/scripts/mini,sha256={digest},{len(exe)}" in record.splitlines()
    # The same split again is byte-identical, rewrites included.
    again = tmp_path / "again"
    r = split(builds["relocatable"], lay, again)
    assert r.returncode == 0, r.stderr
    for whl in dist.glob("*.whl"):
        assert whl.read_bytes() == (again / whl.name).read_bytes(), whl.name
    # Distros do not want RPATHs: the tree output keeps the build's bytes.
    tree = tmp_path / "tree"
    r = run_qpack("split", str(builds["relocatable"]), "-l", str(lay), "--version", VERSION,
                  "--format", "tree", "-o", str(tree))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tree / "mini-core/usr/bin/mini").read_bytes() == built
    assert (tree / "mini-c/usr/lib/mini/c.so").read_bytes() == (
        builds["relocatable"] / "usr/lib/mini/c.so"
    ).read_bytes()


# --------------------------------------------------------------------------- placement


def test_a_non_relocatable_build_finds_its_modules_and_data_through_the_bundle_directory(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    lay = layout(tmp_path, relocatable=False, bundle=True)
    r = split(builds["bundle"], lay, tmp_path / "dist")
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(next((tmp_path / "dist").glob("mini_a-*.whl"))) as zf:
        assert f"mini_a-{PEP440}.data/data/bin/mini-bundle/usr/lib/mini/a.so" in zf.namelist()
    venv = pip_prefix(tmp_path / "prefix", tmp_path / "dist", "mini[a,c]")
    said = run(venv / "bin/mini", "a", "c")
    assert said["dir"] == f"{venv}/bin/mini-bundle/usr/lib/mini"
    assert said["greeting"] == "hello from the build"  # share/mini, found the same way
    assert said["a"] == "loaded: build"
    assert said["c"] == "loaded: extra"
    assert runpath_of(venv / "bin/mini") == "$ORIGIN/mini-bundle/usr/lib"
    check_clean(venv, lay)
    # The control (the report): the same build placed as if it relocated, as a layout
    # that gets it wrong would have it: the program looks in the configured /usr/lib/mini.
    wrong = layout(tmp_path, "wrong")
    r = split(builds["bundle"], wrong, tmp_path / "wrong-dist")
    assert r.returncode == 0, r.stderr
    said = run(pip_prefix(tmp_path / "wrong-prefix", tmp_path / "wrong-dist", "mini[a]") / "bin/mini", "a")
    assert said["dir"] == "/usr/lib/mini"
    assert said["a"].startswith("failed: ")
    assert said["greeting"] == "no greeting"


def test_a_build_that_neither_relocates_nor_has_a_bundle_directory_is_refused(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    lay = layout(tmp_path, relocatable=False)
    r = split(builds["fixed"], lay, tmp_path / "dist")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: layout 'mini': module 'a': ")
    assert "/usr/lib/mini" in lines[0]
    assert "does not relocate and names no bundle directory" in lines[0]
    assert not (tmp_path / "dist").exists()


# --------------------------------------------------------------------------- DT_NEEDED requirements


def test_a_module_linking_a_siblings_library_requires_that_sibling(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    lay = layout(tmp_path, packages=EXTRA_GROUP)
    plan = plan_build(builds["relocatable"], lay)
    assert "mini-extra" in plan.package("mini-c").requires
    assert "mini-extra" not in plan.package("mini-a").requires
    assert plan.library_requirements == (
        LibraryRequirement("mini-c", "mini-extra", "usr/lib/mini/c.so", "libqpackextra.so.1",
                           "usr/lib/libqpackextra.so.1"),
    )  # fmt: skip
    # plan says so, in every format.
    r = run_qpack("plan", str(builds["relocatable"]), "-l", str(lay), "--json")
    pkgs = {p["name"]: p for p in json.loads(r.stdout)["packages"]}
    assert "mini-extra" in pkgs["mini-c"]["requires"]
    r = run_qpack("plan", str(builds["relocatable"]), "-l", str(lay), "--explain")
    assert r.returncode == 0, r.stderr
    assert (
        "mini-c\tmini-extra\tusr/lib/mini/c.so links libqpackextra.so.1 (usr/lib/libqpackextra.so.1)"
        in r.stdout
    )
    r = run_qpack("plan", str(builds["relocatable"]), "-l", str(lay), "--explain", "--json")
    assert json.loads(r.stdout)["library_requirements"] == [
        {"package": "mini-c", "requires": "mini-extra", "path": "usr/lib/mini/c.so",
         "soname": "libqpackextra.so.1", "provider": "usr/lib/libqpackextra.so.1"}
    ]  # fmt: skip
    # The wheel requires it, and pip brings it: c loads its library from the venv.
    out = tmp_path / "dist"
    write_wheels(plan, out, version=VERSION, source_date_epoch=EPOCH, compression_level=1)
    reqs = {str(r) for r in read_wheel(next(out.glob("mini_c-*.whl"))).requires}
    assert f"mini-extra=={PEP440}" in reqs
    assert run(pip_prefix(tmp_path / "prefix", out, "mini[c]") / "bin/mini", "c")["c"] == "loaded: extra"


@pytest.mark.parametrize(
    ("packages", "message"),
    [
        (
            mini_program.CORE + LIBS_GROUP,
            "usr/bin/mini (package 'mini-core') links libqpackmini.so.1 from package 'mini-libs', "
            "which requires 'mini-core': requiring it would make a cycle (put usr/lib/libqpackmini.so.1 in "
            "'mini-core' or a package both require, or, if it belongs with the library, usr/bin/mini in "
            "'mini-libs')",
        ),
        (
            mini_program.CORE
            + '\n[[exclude]]\nreason = "not wanted"\nfiles = ["{prefix}/lib/libqpackextra.so.1"]\n',
            "usr/lib/mini/c.so (package 'mini-c') links libqpackextra.so.1, which only "
            "usr/lib/libqpackextra.so.1 provides, and that file is in no package",
        ),
    ],
    ids=["cycle", "excluded"],
)
def test_a_library_requirement_the_layout_forbids_is_an_error(
    builds: dict[str, Path], tmp_path: Path, packages: str, message: str
) -> None:
    lay = layout(tmp_path, packages=packages)
    r = run_qpack("plan", str(builds["relocatable"]), "-l", str(lay))
    assert r.returncode == 2
    assert any(line.startswith("error: " + message) for line in r.stderr.splitlines()), r.stderr


# --------------------------------------------------------------------------- Requires-External


def _needed(path: Path) -> set[str]:
    with path.open("rb") as f:
        dyn = ELFFile(f).get_section_by_name(".dynamic")
        assert isinstance(dyn, DynamicSection)
        return {str(t.needed) for t in dyn.iter_tags() if t.entry.d_tag == "DT_NEEDED"}


def test_requires_external_lists_what_the_system_must_provide(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    build = builds["relocatable"]
    lay = layout(tmp_path)
    r = split(build, lay, tmp_path / "dist", "--resolve-libs", "dpkg")
    assert r.returncode == 0, r.stderr
    ours = {mini_program.SONAME, mini_program.EXTRA}
    expected = {
        "mini-core": _needed(build / "usr/bin/mini") | _needed(build / f"usr/lib/{mini_program.SONAME}")
        | _needed(build / f"usr/lib/{mini_program.EXTRA}"),
        "mini-a": _needed(build / "usr/lib/mini/a.so"),
        "mini-c": _needed(build / "usr/lib/mini/c.so"),
    }  # fmt: skip
    for name, needed in expected.items():
        with zipfile.ZipFile(next((tmp_path / "dist").glob(f"{name.replace('-', '_')}-*.whl"))) as zf:
            text = zf.read(f"{name.replace('-', '_')}-{PEP440}.dist-info/METADATA").decode()
        listed = [
            line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Requires-External: ")
        ]
        sonames = sorted(needed - ours)
        # The sonames first, then the distro packages that provide them here (libc6 for libc).
        assert listed[: len(sonames)] == sonames
        if "libc.so.6" in sonames:
            assert "libc6" in listed[len(sonames) :]
        assert not any(x in ours for x in listed)
    assert "libc.so.6" in expected["mini-core"]
    assert "external libraries:" in r.stderr
    assert "libc.so.6" in r.stderr
