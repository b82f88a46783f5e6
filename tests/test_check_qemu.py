"""`qpack check` against the real loader: Debian's QEMU emulator and its ui modules in a prefix.

For a clean prefix and for prefixes broken the ways users meet (a module from another build,
a stale copy shadowing through QEMU_MODULE_DIR, a missing or broken dependency, a misnamed file,
a module for another machine, a missing library, a library found only through
LD_LIBRARY_PATH), `-display help` must list exactly the displays whose ui modules `check` says
load. The modules are altered only in their string tables (a stamp name, a library name), the
way another build or a renamed library differs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from qpack.check import check
from qpack.layout import load_layout

from .conftest import QemuBuild, cache_dir

pytestmark = [pytest.mark.qemu, pytest.mark.network]

MODDIR = "lib/x86_64-linux-gnu/qemu"
DISPLAYS = {"ui-curses", "ui-gtk", "ui-sdl", "ui-egl-headless", "ui-dbus", "ui-spice-app"}


def make_prefix(qemu: QemuBuild, dest: Path) -> Path:
    (dest / "bin").mkdir(parents=True)
    (dest / MODDIR).mkdir(parents=True)
    shutil.copy2(qemu.root / "usr/bin/qemu-system-x86_64", dest / "bin")
    for so in sorted((qemu.root / "usr" / MODDIR).glob("ui-*.so")):
        shutil.copy2(so, dest / MODDIR)
    shutil.copy2(qemu.root / "usr" / MODDIR / "chardev-spice.so", dest / MODDIR)  # for ui-spice-app
    return dest


class Run:
    """What `-display help` says: the displays listed (as ui module ids), or None when QEMU
    7.2 aborts after refusing a module of another build (an assertion in module_load_dso);
    and the module files it refused, with its message."""

    def __init__(self, prefix: Path, env: dict[str, str]) -> None:
        r = subprocess.run(
            [str(prefix / "bin/qemu-system-x86_64"), "-display", "help"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        self.stderr = r.stderr
        self.listed: set[str] | None = None
        if r.returncode == 0:
            names = r.stdout.split(":", 1)[1].split()
            self.listed = {f"ui-{n}" for n in names if n != "none"}
        else:
            assert "module_load_dso: Assertion" in r.stderr, r.stderr
        self.refused = {
            Path(m.group(1)).name.removesuffix(".so"): m.group(0)
            for m in re.finditer(r"failed to (?:initialize|open) module:? (\S+\.so)\b.*", r.stderr)
        }


def displays(prefix: Path, env: dict[str, str]) -> set[str]:
    run = Run(prefix, env)
    assert run.listed is not None, run.stderr
    return run.listed


def loads(prefix: Path, env: dict[str, str]) -> set[str]:
    report = check(prefix, load_layout("qemu").loader, env=env)
    return {m.module for m in report.modules if m.loads and m.module in DISPLAYS}


def rewrite(path: Path, old: bytes, new: bytes) -> None:
    """Replace a NUL-terminated string of the same length (a name in the string table)."""
    assert len(old) == len(new)
    data = path.read_bytes()
    assert data.count(old + b"\0") >= 1, f"{old!r} not in {path}"
    path.write_bytes(data.replace(old + b"\0", new + b"\0"))


def stamp_of(so: Path) -> bytes:
    m = re.search(rb"qemu_stamp_[0-9a-f]{40}", so.read_bytes())
    assert m is not None
    return m.group()


def other_build(so: Path) -> None:
    stamp = stamp_of(so)
    rewrite(so, stamp, stamp[:-1] + (b"0" if stamp[-1:] != b"0" else b"1"))


def foreign_machine_so() -> Path:
    """A 32-bit x86 shared library, from Debian's libc6-i386 (an amd64 package)."""
    dest = cache_dir() / "libc6-i386"
    found = sorted(dest.glob("**/lib32/libm.so.6"))
    if not found:
        dest.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            ["apt-get", "download", "libc6-i386"], cwd=dest, capture_output=True, text=True, check=False
        )
        debs = sorted(dest.glob("libc6-i386_*.deb"))
        if r.returncode != 0 or not debs:
            pytest.skip(f"cannot download libc6-i386 for a 32-bit library: {r.stderr.strip()[-200:]}")
        subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(dest / "x")], check=True)
        found = sorted(dest.glob("**/lib32/libm.so.6"))
    return found[0]


Breakage = Callable[[Path, Path], dict[str, str]]  # (prefix, scratch dir) -> environment


def clean(prefix: Path, tmp: Path) -> dict[str, str]:
    return {}


def curses_from_another_build(prefix: Path, tmp: Path) -> dict[str, str]:
    other_build(prefix / MODDIR / "ui-curses.so")
    return {}


def stale_curses_first_through_module_dir(prefix: Path, tmp: Path) -> dict[str, str]:
    stale = tmp / "stale"
    stale.mkdir()
    shutil.copy2(prefix / MODDIR / "ui-curses.so", stale)
    other_build(stale / "ui-curses.so")
    return {"QEMU_MODULE_DIR": str(stale)}


def gtk_without_opengl(prefix: Path, tmp: Path) -> dict[str, str]:
    (prefix / MODDIR / "ui-opengl.so").unlink()
    return {}


def opengl_from_another_build(prefix: Path, tmp: Path) -> dict[str, str]:
    other_build(prefix / MODDIR / "ui-opengl.so")
    return {}


def misnamed_curses(prefix: Path, tmp: Path) -> dict[str, str]:
    (prefix / MODDIR / "ui-curses.so").rename(prefix / MODDIR / "ui_curses.so")
    return {}


def curses_for_another_machine(prefix: Path, tmp: Path) -> dict[str, str]:
    shutil.copy2(foreign_machine_so(), prefix / MODDIR / "ui-curses.so")
    return {}


def curses_library_missing(prefix: Path, tmp: Path) -> dict[str, str]:
    rewrite(prefix / MODDIR / "ui-curses.so", b"libncursesw.so.6", b"libncursesQ.so.6")
    return {}


def curses_library_through_ld_library_path(prefix: Path, tmp: Path) -> dict[str, str]:
    rewrite(prefix / MODDIR / "ui-curses.so", b"libncursesw.so.6", b"libncursesQ.so.6")
    libs = tmp / "libs"
    libs.mkdir()
    real = next(
        p
        for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu")
        if (p := Path(d, "libncursesw.so.6")).exists()
    )
    shutil.copy2(real, libs / "libncursesQ.so.6")
    return {"LD_LIBRARY_PATH": str(libs)}


GL_USERS = {"ui-gtk", "ui-sdl", "ui-egl-headless", "ui-dbus", "ui-spice-app"}  # ui-spice-core needs GL too
CASES: dict[str, tuple[Breakage, set[str], dict[str, set[str]]]] = {
    # case -> (how the prefix is broken, displays gone compared with the clean prefix,
    #          the problem kinds check must give those modules)
    "clean": (clean, set(), {}),
    "curses from another build": (curses_from_another_build, {"ui-curses"}, {"ui-curses": {"other-build"}}),
    "stale curses first through QEMU_MODULE_DIR": (
        stale_curses_first_through_module_dir,
        {"ui-curses"},
        {"ui-curses": {"other-build", "shadowed"}},
    ),
    "gtk without its dependency ui-opengl": (gtk_without_opengl, GL_USERS, {"ui-gtk": {"dependency"}}),
    "ui-opengl from another build": (
        opengl_from_another_build,
        GL_USERS,
        {"ui-opengl": {"other-build"}, "ui-gtk": {"dependency"}},
    ),
    "misnamed curses": (misnamed_curses, {"ui-curses"}, {"ui_curses": {"never-looked-up"}}),
    "curses for another machine": (curses_for_another_machine, {"ui-curses"}, {"ui-curses": {"machine"}}),
    "curses library missing": (curses_library_missing, {"ui-curses"}, {"ui-curses": {"missing-library"}}),
    "curses library through LD_LIBRARY_PATH": (curses_library_through_ld_library_path, set(), {}),
}


@pytest.fixture(scope="module")
def qemu_runs(qemu_build: QemuBuild, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The displays of a clean prefix; skips where the host lacks QEMU's libraries."""
    prefix = make_prefix(qemu_build, tmp_path_factory.mktemp("qemu-check") / "prefix")
    r = subprocess.run(
        [str(prefix / "bin/qemu-system-x86_64"), "--version"],
        capture_output=True,
        text=True,
        env={},
        check=False,
    )
    if r.returncode != 0:
        pytest.skip(
            "Debian's qemu-system-x86_64 cannot start here (its libraries are missing: "
            f"apt-get install qemu-system-x86 qemu-system-gui): {r.stderr.strip()[-200:]}"
        )
    return displays(prefix, {})


@pytest.mark.parametrize("case", list(CASES))
def test_check_agrees_with_qemu_display_help(
    qemu_build: QemuBuild, qemu_runs: set[str], tmp_path: Path, case: str
) -> None:
    breakage, gone, kinds = CASES[case]
    prefix = make_prefix(qemu_build, tmp_path / "prefix")
    env = breakage(prefix, tmp_path)
    run = Run(prefix, env)
    report = check(prefix, load_layout("qemu").loader, env=env)
    verdict = {m.module: m for m in report.modules}
    if run.listed is not None:
        assert run.listed == qemu_runs - gone, f"QEMU itself: expected {sorted(qemu_runs - gone)}"
        assert {m for m in DISPLAYS if m in verdict and verdict[m].loads} == run.listed
    else:
        # QEMU 7.2 aborts after refusing a module from another build: compare what it refused.
        assert run.refused, run.stderr
        for module, message in run.refused.items():
            assert not verdict[module].loads, message
            assert "other-build" in {p.kind for p in verdict[module].problems}, verdict[module]
    for module in gone:
        assert not verdict.get(module) or not verdict[module].loads
    for module, expected in kinds.items():
        assert {p.kind for p in verdict[module].problems} == expected, verdict[module]
    assert report.ok == (not kinds)


def test_clean_prefix_checks_clean_through_the_cli(
    qemu_build: QemuBuild, qemu_runs: set[str], tmp_path: Path
) -> None:
    prefix = make_prefix(qemu_build, tmp_path / "prefix")
    from qpack.cli import main

    assert main(["check", str(prefix), "-l", "qemu"]) == 0
    broken = make_prefix(qemu_build, tmp_path / "broken")
    other_build(broken / MODDIR / "ui-curses.so")
    r = subprocess.run(
        [sys.executable, "-m", "qpack", "check", str(broken), "-l", "qemu", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    row = next(m for m in data["modules"] if m["module"] == "ui-curses")
    assert row["loads"] is False and [p["kind"] for p in row["problems"]] == ["other-build"]
    assert data["version"] == 1 and data["summary"]["problems"] >= 1


def test_module_table_tells_what_an_emulator_never_loads(qemu_build: QemuBuild, tmp_path: Path) -> None:
    """The x86_64 emulator's modinfo lists accel-tcg-i386 for target i386 and has no
    hw-s390x-virtio-gpu-ccw: check says it never loads them, read from the executable itself
    (unused: reported, not a failure); and the layout's dependency list is cross-checked
    against the table."""
    prefix = make_prefix(qemu_build, tmp_path / "prefix")
    for name in ("accel-tcg-i386.so", "hw-s390x-virtio-gpu-ccw.so", "hw-display-virtio-gpu.so"):
        shutil.copy2(qemu_build.root / "usr" / MODDIR / name, prefix / MODDIR)
    report = check(prefix, load_layout("qemu").loader)
    rows = {m.module: m for m in report.modules}
    for mid, why in (("accel-tcg-i386", "for target i386"), ("hw-s390x-virtio-gpu-ccw", "does not list it")):
        assert not rows[mid].loads and rows[mid].unused
        assert rows[mid].problems[0].kind == "unused" and why in rows[mid].problems[0].detail
    assert rows["hw-display-virtio-gpu"].loads
    assert report.ok and report.summary()["unused"] == 2 and report.summary()["problems"] == 0
    # 7.2's table: hw-display-virtio-gpu-gl needs only hw-display-virtio-gpu; the layout adds
    # ui-opengl (upstream since 2024): a warning names both.
    assert any("hw-display-virtio-gpu-gl needs hw-display-virtio-gpu;" in w for w in report.warnings)


def test_debians_own_install_checks_clean(qemu_build: QemuBuild) -> None:
    """Bookworm's packages installed as Debian installs them: /usr/bin/qemu-system-i386 is a
    shell wrapper around /usr/libexec/qemu-system-i386, which alone loads accel-tcg-i386; the
    tools ask for block drivers only; the microvm emulator is built without modules; and
    qemu-system-common ships hw-s390x-virtio-gpu-ccw, which no x86 emulator loads. None of that
    is a problem: check exits 0, as the real loaders would all work."""
    report = check("/usr", load_layout("qemu-debian").loader, root=qemu_build.root)
    assert report.ok, [m for m in report.modules if m.fails]
    rows: dict[str, list] = {}
    for m in report.modules:
        rows.setdefault(m.module, []).append(m)
    assert [(m.loads, m.executables) for m in rows["accel-tcg-i386"]] == [
        (True, ("/usr/libexec/qemu-system-i386",))
    ]
    assert all(m.unused for m in rows["hw-s390x-virtio-gpu-ccw"])
    tools = {f"/usr/bin/{t}" for t in ("qemu-img", "qemu-io", "qemu-nbd", "qemu-storage-daemon")}
    present = tools & set(report.executables)
    assert present, report.executables
    assert present <= {e for m in rows["block-curl"] for e in m.executables}
    for mid, ms in rows.items():
        used_by = {e for m in ms for e in m.executables}
        assert "/usr/bin/qemu-system-x86_64-microvm" not in used_by, mid
        if not mid.startswith("block-"):
            assert not used_by & tools, (mid, used_by)
    assert not any("microvm: holds no" in w for w in report.warnings), report.warnings
    summary = report.summary()
    assert summary["unused"] == 1 and summary["problems"] == 0
    assert summary["modules"] == len(rows) and summary["load"] == len(rows) - 1

    # The same through the command line: exit 0, and the text says what is unused.
    r = subprocess.run(
        [sys.executable, "-m", "qpack", "check", "/usr", "-l", "qemu-debian", "--root", str(qemu_build.root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(rows) - 1} of {len(rows)} modules load; 1 no program present uses; 0 problem(s)" in r.stderr
