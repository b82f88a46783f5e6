"""`--bundle-libs` on the mini program (tests/mini_program.py) with modules that link this
machine's ncurses libraries (not in the manylinux allow-list) and zlib (in it):

- each library goes once into the package all its users are or require: libpanelw (only module
  `p` uses it) into mini-p, libncursesw and libtinfo (`p` and `n`) into the core;
- renamed with a hash, so the installed modules load only the wheels' copies;
- RUNPATHs right after `pip install`, checked by running the program;
- `auditwheel show` agrees with each wheel's tag: its symbol-version verdict is the tag, and the
  only libraries it cannot find are the ones a required sibling wheel carries;
- `all` bundles zlib too, and leaves only the C library to the system.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from qpack.install import read_wheel

from . import mini_program
from .conftest import have_cc

VERSION = "3.0"
MULTIARCH = Path("/lib/x86_64-linux-gnu")
NCURSES = {
    "n": (
        "int COLOR_PAIR(int);\nconst char *mini_module(void);\n"
        'const char *mini_module(void) { return COLOR_PAIR(1) == 256 ? "ncursesw" : "?"; }\n',
        [str(MULTIARCH / "libncursesw.so.6")],
    ),
    "p": (
        "void *panel_above(const void *);\nconst char *mini_module(void);\n"
        "void *(*volatile above)(const void *) = panel_above;\n"
        'const char *mini_module(void) { return above != 0 ? "panel" : "none"; }\n',
        [str(MULTIARCH / "libpanelw.so.6")],
    ),
    "z": (
        "const char *zlibVersion(void);\nconst char *mini_module(void);\n"
        "const char *mini_module(void) { return zlibVersion(); }\n",
        [str(MULTIARCH / "libz.so.1")],
    ),
}


PANEL_GROUP = """
[[package]]
name = "mini-panel"
kind = "group"
modules = ["p"]
requires = []
"""


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the mini program needs one")
    missing = [p for _, (_, link) in NCURSES.items() for p in link if not Path(p).exists()]
    if missing:
        pytest.skip(f"this machine lacks {', '.join(missing)} (apt-get install libncursesw6 zlib1g)")
    return mini_program.build(tmp_path_factory.mktemp("mini-bundle") / "build", extra_modules=NCURSES)


def split(
    build: Path, out: Path, *extra: str, layout_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    lay = out.parent / f"{out.name}.toml"
    lay.write_text(layout_text or mini_program.layout_text())
    return subprocess.run(
        [sys.executable, "-m", "qpack", "split", str(build), "-l", str(lay), "--version", VERSION,
         "-o", str(out), "--compression-level", "1", *extra],
        capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def bundled(build: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bundled") / "dist"
    r = split(build, out, "--bundle-libs")
    assert r.returncode == 0, r.stderr
    return out, r.stderr  # the split's summary sentences: stderr when piped


def libs_in(whl: Path) -> dict[str, str]:
    """Bundled libraries of a wheel: original soname prefix (libncursesw) -> file name."""
    out = {}
    with zipfile.ZipFile(whl) as zf:
        for n in zf.namelist():
            m = re.search(r"\.data/data/lib/[^/]+\.libs/((lib[^/]+?)-[0-9a-f]{8}\.so[^/]*)$", n)
            if m:
                out[m.group(2)] = m.group(1)
    return out


def wheel(out: Path, dist: str) -> Path:
    (found,) = out.glob(f"{dist}-*.whl")
    return found


def needed(path: Path) -> list[str]:
    with path.open("rb") as f:
        dyn = ELFFile(f).get_section_by_name(".dynamic")
        assert isinstance(dyn, DynamicSection)
        return [str(t.needed) for t in dyn.iter_tags() if t.entry.d_tag == "DT_NEEDED"]


def test_each_library_once_in_the_package_all_its_users_are_or_require(bundled: tuple[Path, str]) -> None:
    out, notes = bundled
    core = libs_in(wheel(out, "mini_core"))
    assert set(core) == {"libncursesw", "libtinfo"}  # shared by modules n and p
    assert set(libs_in(wheel(out, "mini_p"))) == {"libpanelw"}  # p's alone
    assert libs_in(wheel(out, "mini_n")) == {}
    assert libs_in(wheel(out, "mini_z")) == {}  # zlib is in the manylinux allow-list
    seen: list[str] = []
    for whl in out.glob("*.whl"):
        seen += libs_in(whl)
    assert len(seen) == len(set(seen)) == 3
    assert "bundled: 3 libraries" in notes
    # What is left to the system is what Requires-External says.
    z = read_wheel(wheel(out, "mini_z"))
    with zipfile.ZipFile(wheel(out, "mini_z")) as zf:
        meta = zf.read(next(n for n in zf.namelist() if n.endswith("METADATA"))).decode()
    assert "Requires-External: libz.so.1" in meta
    assert z.name == "mini-z"
    for whl in out.glob("*.whl"):
        with zipfile.ZipFile(whl) as zf:
            meta = zf.read(next(n for n in zf.namelist() if n.endswith("METADATA"))).decode()
        assert "ncurses" not in meta and "tinfo" not in meta and "panel" not in meta, whl.name


def test_installed_modules_load_the_wheels_copies(bundled: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = bundled
    prefix = tmp_path / "prefix"
    r = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--no-index", "--quiet",
         "--ignore-installed", "--no-warn-script-location", "--prefix", str(prefix), "--find-links", str(out),
         "mini[n,p]"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    core_libs = libs_in(wheel(out, "mini_core"))
    p_libs = libs_in(wheel(out, "mini_p"))
    # The modules ask for the renamed copies, which exist nowhere but in the prefix.
    assert needed(prefix / "lib/mini/n.so")[0] == core_libs["libncursesw"]
    assert needed(prefix / "lib/mini/p.so")[0] == p_libs["libpanelw"]
    assert not list(MULTIARCH.glob(core_libs["libncursesw"]))
    libs = prefix / "lib/mini_core.libs"
    assert needed(libs / core_libs["libncursesw"])[0] == core_libs["libtinfo"]
    env = {"PATH": "/usr/bin:/bin"}
    r = subprocess.run(
        [str(prefix / "bin/mini"), "n", "p"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert r.returncode == 0, r.stderr
    assert "loaded n: ncursesw" in r.stdout
    assert "loaded p: panel" in r.stdout


def _auditwheel() -> list[str]:
    exe = shutil.which("auditwheel")
    return [exe] if exe else [sys.executable, "-m", "auditwheel"]


def audit(whl: Path) -> dict:
    r = subprocess.run([*_auditwheel(), "show", "--json", str(whl)], capture_output=True, text=True,
                       timeout=300, check=False, cwd=whl.parent)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def agrees_with_auditwheel(out: Path) -> int:
    """For every wheel with code: auditwheel's symbol-version tag is the wheel's tag, and so is its
    overall tag, unless the only libraries it cannot place under that tag are in a wheel this one
    requires, bundled or the build's own (it does not know the requirement and says `linux`).
    Returns how many wheels it judged."""
    infos = {read_wheel(w).name: w for w in out.glob("*.whl")}
    bundled_by = {}
    for name, w in infos.items():
        with zipfile.ZipFile(w) as zf:
            bundled_by[name] = {n.rsplit("/", 1)[-1] for n in zf.namelist()}
    requires = {name: {str(r).split("==")[0] for r in read_wheel(w).requires} for name, w in infos.items()}
    judged = 0
    for name, whl in sorted(infos.items()):
        tag = whl.name.removesuffix(".whl").rsplit("-", 1)[1]
        if tag.startswith("linux_"):
            continue  # the meta wheel: no code
        judged += 1
        seen, todo = set(), [name]
        while todo:
            for r in requires.get(todo.pop(), ()):
                if r not in seen:
                    seen.add(r)
                    todo.append(r)
        from_siblings = set().union(*(bundled_by.get(s, set()) for s in seen)) if seen else set()
        show = audit(whl)
        assert show["sym_tag"] == tag, (name, show["sym_tag"])
        if show["overall_tag"] != tag:
            assert show["overall_tag"] == "linux_" + tag.split("_", 3)[3], (name, show["overall_tag"])
            upgrade = show["policy_upgrades"].get(tag, {})
            missing = set(upgrade.get("libs_to_eliminate", ()))
            assert missing, (name, upgrade)
            assert missing <= from_siblings, (name, missing - from_siblings)
            assert not upgrade.get("blacklisted_symbols"), (name, upgrade)
    return judged


def test_auditwheel_show_agrees_with_each_tag(bundled: tuple[Path, str]) -> None:
    out, _ = bundled
    assert agrees_with_auditwheel(out) == 7  # core, a, b, c, n, p, z
    tags = {read_wheel(w).name: w.name.rsplit("-", 1)[1] for w in out.glob("*.whl")}
    assert all(t.startswith("manylinux_") for n, t in tags.items() if n != "mini"), tags


def test_bundle_all_leaves_only_the_c_library(build: Path, tmp_path: Path) -> None:
    out = tmp_path / "all"
    r = split(build, out, "--bundle-libs", "all")
    assert r.returncode == 0, r.stderr
    assert set(libs_in(wheel(out, "mini_z"))) == {"libz"}
    for whl in out.glob("*.whl"):
        with zipfile.ZipFile(whl) as zf:
            meta = zf.read(next(n for n in zf.namelist() if n.endswith("METADATA"))).decode()
        left = {
            line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("Requires-External: ")
        }
        assert left <= {"libc.so.6", "libdl.so.2", "ld-linux-x86-64.so.2"}, (whl.name, left)


def test_libraries_two_packages_need_but_share_no_package_for_are_refused(
    build: Path, tmp_path: Path
) -> None:
    """Module p in a group that requires nothing, module n beside the core: no package both
    are or require, so ncurses cannot be carried once."""
    packages = mini_program.CORE + PANEL_GROUP
    r = split(
        build, tmp_path / "dist", "--bundle-libs", layout_text=mini_program.layout_text(packages=packages)
    )
    assert r.returncode == 2
    assert (
        "error: libncursesw.so.6 is needed by packages mini-n, mini-panel, which share no package" in r.stderr
    )
    assert not (tmp_path / "dist").exists()


def test_libraries_come_from_the_libs_root(build: Path, tmp_path: Path) -> None:
    """--libs-root: the system the build is for (a chroot or sysroot), not this machine. Its
    copies differ from this machine's by one byte, so the hashed names tell them apart."""
    root = tmp_path / "sysroot"
    libdir = root / "usr/lib/x86_64-linux-gnu"
    libdir.mkdir(parents=True)
    for name in ("libncursesw.so.6", "libpanelw.so.6", "libtinfo.so.6"):
        (libdir / name).write_bytes((MULTIARCH / name).read_bytes() + b"\0")
    out = tmp_path / "dist"
    r = split(build, out, "--bundle-libs", "--libs-root", str(root))
    assert r.returncode == 0, r.stderr
    core = libs_in(wheel(out, "mini_core"))
    digest = hashlib.sha256((libdir / "libncursesw.so.6").read_bytes()).hexdigest()
    assert core["libncursesw"] == f"libncursesw-{digest[:8]}.so.6"
    # A library the root lacks is not taken from this machine instead.
    (libdir / "libtinfo.so.6").unlink()
    r = split(build, tmp_path / "dist2", "--bundle-libs", "--libs-root", str(root))
    assert r.returncode == 2
    assert "libtinfo.so.6 (needed by " in r.stderr
    assert f"not found in {root}, so it cannot be bundled" in r.stderr
