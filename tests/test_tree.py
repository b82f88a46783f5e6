"""`qpack split --format tree`: per-package trees, dh_install and RPM file lists, the manifest,
atomic output. The demo build (real C compiler) and tiny synthetic trees made in each test."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from qpack.errors import BuildError, OutputError
from qpack.inventory import scan
from qpack.plan import Plan, plan_build
from qpack.shlibs import read_imports
from qpack.writers import tree
from qpack.writers.tree import debian_dirs_line, debian_install_line, rpm_files_line, write_tree

from .conftest import run_qpack
from .test_tree_lists import layout

VERSION = "1.0-1"


def demo_plan(build: Path) -> Plan:
    return plan_build(build, "demo")


def synthetic(root: Path, names: dict[str, str] | None = None) -> Path:
    """A tiny build for the demo layout (everything lands in demo-core): files with modes,
    a symlink, an empty directory, and any extra `names` (path -> content)."""
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/demo").write_text("#!/bin/sh\n")
    (root / "usr/bin/demo").chmod(0o755)
    (root / "usr/bin/demo-run").symlink_to("demo")
    (root / "usr/share/demo/empty").mkdir(parents=True)
    (root / "usr/share/demo/private.txt").write_text("secret\n")
    (root / "usr/share/demo/private.txt").chmod(0o600)
    for path, text in (names or {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def tree_paths(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            full = Path(dirpath) / n
            out.append(
                full.relative_to(root).as_posix() + ("/" if full.is_dir() and not full.is_symlink() else "")
            )
    return sorted(out)


# --------------------------------------------------------------------------- demo build


def test_demo_split_writes_trees_lists_and_manifest(demo_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_qpack(
        "split", str(demo_build), "--layout", "demo", "--version", VERSION, "--format", "tree", "-o", str(out)
    )
    assert r.returncode == 0, r.stderr
    plan = demo_plan(demo_build)
    names = [p.name for p in plan.packages]
    assert sorted(os.listdir(out)) == sorted([*names, "debian", "rpm", "manifest.json"])
    for p in plan.packages:
        # The tree holds exactly the plan's files (plus the directories leading to them).
        files = [x for x in tree_paths(out / p.name) if not x.endswith("/")]
        assert files == list(p.files), p.name
        # .install: one line per file, relative to the build root; .files: absolute paths + %dir.
        assert (out / "debian" / f"{p.name}.install").read_text().splitlines() == list(p.files)
        rpm_list = out / "rpm" / f"{p.name}.files"
        if not p.files:  # the meta package: rpmbuild refuses an empty %files -f list
            assert p.kind == "meta" and not rpm_list.exists(), p.name
            continue
        rpm = rpm_list.read_text().splitlines()
        assert rpm == [f"%dir /{d}" for d in p.dirs] + [f"/{f}" for f in p.files]
    core = out / "demo-core"
    assert os.readlink(core / "usr/bin/demo-run") == "demo"
    assert (core / "usr/bin/demo").stat().st_mode & 0o777 == 0o755
    # Hard links into the build: same inode, so the mode is the build's by construction.
    assert (core / "usr/bin/demo").stat().st_ino == (demo_build / "usr/bin/demo").stat().st_ino
    assert "demo-core\t6" in r.stdout

    m = json.loads((out / "manifest.json").read_text())
    assert m["version"] == 2 and m["package_version"] == VERSION and m["layout"] == "demo"
    pk = {p["name"]: p for p in m["packages"]}
    demo_file = next(f for f in pk["demo-core"]["files"] if f["path"] == "usr/bin/demo")
    assert demo_file["mode"] == "0755" and demo_file["kind"] == "file"
    assert (
        demo_file["size"] == (demo_build / "usr/bin/demo").stat().st_size and len(demo_file["sha256"]) == 64
    )
    link = next(f for f in pk["demo-core"]["files"] if f["path"] == "usr/bin/demo-run")
    assert link["kind"] == "symlink" and link["target"] == "demo" and link["sha256"] is None
    # Exact-version pins on siblings, from the plan (module_dep adds demo-audio-alsa).
    assert pk["demo-audio-pa"]["requires"] == [
        {"package": "demo-core", "relation": "=", "version": VERSION, "debian": f"demo-core (= {VERSION})"},
        {
            "package": "demo-audio-alsa",
            "relation": "=",
            "version": VERSION,
            "debian": f"demo-audio-alsa (= {VERSION})",
        },
    ]
    assert pk["demo-core"]["requires"] == []


def test_library_needs_count_only_what_the_build_does_not_provide(demo_build: Path, tmp_path: Path) -> None:
    plan = demo_plan(demo_build)
    write_tree(plan, tmp_path / "out", version=VERSION)
    pk = {p["name"]: p for p in json.loads((tmp_path / "out/manifest.json").read_text())["packages"]}
    ext = {n: {x["soname"] for x in p["libraries"]["external"]} for n, p in pk.items()}
    # libdemo-util.so.1 is the build's own (SONAME, in usr/lib): never an external need.
    assert ext["demo-core"] == {"libc.so.6"}
    assert "libdemo-util.so.1" not in ext["demo-block-curl"]
    assert pk["demo-block-curl"]["libraries"]["internal"] == [
        {
            "soname": "libdemo-util.so.1",
            "path": "usr/lib/libdemo-util.so.1",
            "package": "demo-core",
            "needed_by": ["usr/lib/demo/block/curl.so"],
        }
    ]
    assert "libm.so.6" in ext["demo-audio-alsa"]
    # A module's undefined symbols that the core defines are not library needs.
    assert read_imports(plan.inventory.source("usr/lib/demo/ui/gtk.so")).symbols
    assert ext["demo-ui-gtk"] <= {"libc.so.6"}
    assert "resolve_libs" in json.loads((tmp_path / "out/manifest.json").read_text())


def test_needing_a_sibling_library_without_requiring_it_is_noted(demo_build: Path, tmp_path: Path) -> None:
    plan = demo_plan(demo_build)
    curl = plan.package("demo-block-curl")
    bad = dataclasses.replace(
        plan,
        packages=tuple(dataclasses.replace(p, requires=()) if p is curl else p for p in plan.packages),
    )
    report = write_tree(bad, tmp_path / "out", version=VERSION)
    assert (
        "package 'demo-block-curl' needs libdemo-util.so.1 from package 'demo-core' but does not require it"
        in report.notes
    )
    # Required through another package, as the plan accepts it (libvirt's drivers get libvirt0
    # through libvirt-daemon): no note, where the writer noted seven.
    via = dataclasses.replace(
        plan,
        packages=tuple(
            dataclasses.replace(p, requires=("demo-ui-curses",))
            if p is curl
            else dataclasses.replace(p, requires=("demo-core",))
            if p.name == "demo-ui-curses"
            else p
            for p in plan.packages
        ),
    )
    report = write_tree(via, tmp_path / "out2", version=VERSION)
    assert not [n for n in report.notes if "but does not require it" in n], report.notes


def test_library_names_in_library_dirs(tmp_path: Path) -> None:
    from qpack.libdeps import provided_sonames

    extra = {"usr/lib/libx.so.2.1": "", "usr/lib/libx.so": "", "usr/lib/notes.sort": ""}
    provided = provided_sonames(scan(synthetic(tmp_path / "build", extra), "/usr"), "/usr")
    assert set(provided) == {"libx.so.2.1", "libx.so"}


@pytest.mark.skipif(
    not shutil.which("dpkg"), reason="dpkg not installed: cannot resolve sonames with dpkg -S"
)
def test_resolve_libs_dpkg_names_the_c_library_package(demo_build: Path, tmp_path: Path) -> None:
    report = write_tree(demo_plan(demo_build), tmp_path / "out", version=VERSION, resolve_libs="dpkg")
    pk = {p["name"]: p for p in json.loads((tmp_path / "out/manifest.json").read_text())["packages"]}
    assert pk["demo-core"]["library_packages"] == ["libc6"]
    assert pk["demo-core"]["unresolved_libraries"] == []
    assert pk["demo-core"]["libraries"]["external"][0]["package"] == "libc6"
    assert not any("not provided" in n for n in report.notes)


def test_resolve_libs_rpm_asks_rpm_qf(
    demo_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in `rpm` on PATH: answers for libc's path only, like `rpm -qf --queryformat`.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "rpm").write_text(
        '#!/bin/sh\ncase "$5" in\n*/libc.so.6) echo glibc;;\n'
        '*) echo "file $5 is not owned by any package"; exit 1;;\nesac\n'
    )
    (fake / "rpm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    report = write_tree(demo_plan(demo_build), tmp_path / "out", version=VERSION, resolve_libs="rpm")
    pk = {p["name"]: p for p in json.loads((tmp_path / "out/manifest.json").read_text())["packages"]}
    assert pk["demo-core"]["library_packages"] == ["glibc"]
    assert pk["demo-audio-alsa"]["unresolved_libraries"] == ["libm.so.6"]
    # Which packages' requirements lack it is said: the lists are not complete.
    assert (
        "1 library(ies) not provided by any installed rpm package: libm.so.6; the distro requirements "
        "of demo-audio-alsa leave them out (install the packages that provide them, then split again)"
    ) in report.notes


def test_resolve_libs_without_the_tool_is_a_clear_error(
    demo_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(Exception, match="rpm is not installed") as e:
        write_tree(demo_plan(demo_build), tmp_path / "out", version=VERSION, resolve_libs="rpm")
    assert e.value.__class__.__name__ == "LibResolveError"
    assert not (tmp_path / "out").exists()


def test_split_twice_is_identical(demo_build: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        r = run_qpack(
            "split", str(demo_build), "-l", "demo", "--version", VERSION, "--format", "tree", "-o", str(out)
        )
        assert r.returncode == 0, r.stderr
    assert tree_paths(a) == tree_paths(b)
    for rel in [
        "manifest.json",
        *(f"debian/{n}" for n in os.listdir(a / "debian")),
        *(f"rpm/{n}" for n in os.listdir(a / "rpm")),
    ]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    text = (a / "manifest.json").read_text()
    assert json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text


def test_existing_output_refused_without_force(demo_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ("split", str(demo_build), "-l", "demo", "--version", VERSION, "--format", "tree", "-o", str(out))
    r = run_qpack(*args)
    assert r.returncode == 2
    assert (
        r.stderr.strip()
        == f"error: {out}: output directory exists and is not empty (use --force to replace it)"
    )
    assert os.listdir(out) == ["keep.txt"]
    r = run_qpack(*args, "--force")
    assert r.returncode == 0, r.stderr
    assert not (out / "keep.txt").exists() and (out / "manifest.json").exists()
    assert [n for n in os.listdir(tmp_path) if n != "out"] == []  # no temporary or old siblings left


# --------------------------------------------------------------------------- synthetic trees


def test_empty_dir_symlink_and_modes_kept(tmp_path: Path) -> None:
    build = synthetic(tmp_path / "build")
    plan = demo_plan(build)
    report = write_tree(plan, tmp_path / "out", version=VERSION)
    core = tmp_path / "out/demo-core"
    assert (core / "usr/share/demo/empty").is_dir() and not any((core / "usr/share/demo/empty").iterdir())
    assert (core / "usr/bin/demo-run").is_symlink() and os.readlink(core / "usr/bin/demo-run") == "demo"
    assert stat.S_IMODE((core / "usr/share/demo/private.txt").stat().st_mode) == 0o600
    assert report.linked == 2 and report.copied == 0
    install = (tmp_path / "out/debian/demo-core.install").read_text().splitlines()
    assert "usr/share/demo/empty" in install
    rpm = (tmp_path / "out/rpm/demo-core.files").read_text().splitlines()
    assert "%dir /usr/share/demo/empty" in rpm and "%dir /usr/share/demo" in rpm
    m = json.loads((tmp_path / "out/manifest.json").read_text())
    empty = next(f for f in m["packages"][0]["files"] if f["path"] == "usr/share/demo/empty")
    assert empty["kind"] == "dir" and empty["mode"] == "0755"


def test_copies_when_hard_links_are_impossible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = synthetic(tmp_path / "build")
    plan = demo_plan(build)

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(tree.os, "link", no_link)
    report = write_tree(plan, tmp_path / "out", version=VERSION)
    core = tmp_path / "out/demo-core"
    assert report.copied == 2 and report.linked == 0
    assert any("copied" in n for n in report.notes)
    for rel, mode in (("usr/bin/demo", 0o755), ("usr/share/demo/private.txt", 0o600)):
        st = (core / rel).stat()
        assert stat.S_IMODE(st.st_mode) == mode
        assert st.st_ino != (build / rel).stat().st_ino
        assert (core / rel).read_bytes() == (build / rel).read_bytes()
        assert st.st_mtime_ns == (build / rel).stat().st_mtime_ns


def test_a_file_changed_since_the_scan_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = synthetic(tmp_path / "build")
    plan = demo_plan(build)
    (build / "usr/share/demo/private.txt").write_text("changed, and longer\n")
    with pytest.raises(BuildError, match="changed since the build was scanned"):
        write_tree(plan, tmp_path / "out", version=VERSION)
    monkeypatch.setattr(tree.os, "link", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EXDEV, "x")))
    with pytest.raises(BuildError, match="changed since the build was scanned"):
        write_tree(plan, tmp_path / "out", version=VERSION)
    assert sorted(os.listdir(tmp_path)) == ["build"]


def test_interrupted_split_leaves_nothing(tmp_path: Path) -> None:
    build = synthetic(tmp_path / "build", {"usr/share/demo/big.bin": "x" * 5000})
    plan = demo_plan(build)
    calls = []

    def progress(n: int, total: int) -> None:
        calls.append(n)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_tree(plan, tmp_path / "out", version=VERSION, progress=progress)
    assert sorted(os.listdir(tmp_path)) == ["build"]
    # A source file that disappears midway: an error, and still no partial output.
    (build / "usr/share/demo/private.txt").unlink()
    with pytest.raises(BuildError, match="vanished"):
        write_tree(plan, tmp_path / "out", version=VERSION)
    assert sorted(os.listdir(tmp_path)) == ["build"]


def test_a_previous_output_survives_a_failed_forced_split(tmp_path: Path) -> None:
    build = synthetic(tmp_path / "build")
    plan = demo_plan(build)
    write_tree(plan, tmp_path / "out", version=VERSION)
    before = tree_paths(tmp_path / "out")
    (build / "usr/share/demo/private.txt").unlink()
    with pytest.raises(BuildError):
        write_tree(plan, tmp_path / "out", version=VERSION, force=True)
    assert tree_paths(tmp_path / "out") == before


def test_paths_that_would_leave_the_output_are_refused(tmp_path: Path) -> None:
    build = synthetic(tmp_path / "build")
    plan = demo_plan(build)
    for bad in ("../escape", "/etc/passwd", "usr//x", "usr/./x"):
        with pytest.raises(OutputError):
            tree.check_relpath(bad)
    # A plan that somehow holds a path with '..' (the inventory cannot make one): refused
    # before anything is written.
    evil = dataclasses.replace(plan.inventory.entries[0], path="../../evil", kind="file")
    inv = dataclasses.replace(plan.inventory, entries=(*plan.inventory.entries, evil))
    core = dataclasses.replace(plan.packages[0], files=(*plan.packages[0].files, "../../evil"))
    bad_plan = dataclasses.replace(plan, inventory=inv, packages=(core, *plan.packages[1:]))
    with pytest.raises(OutputError, match="evil"):
        write_tree(bad_plan, tmp_path / "out", version=VERSION)
    assert sorted(os.listdir(tmp_path)) == ["build"]


def test_package_named_like_an_output_dir_is_refused(tmp_path: Path) -> None:
    plan = demo_plan(synthetic(tmp_path / "build"))
    bad = dataclasses.replace(
        plan, packages=(dataclasses.replace(plan.packages[0], name="debian"), *plan.packages[1:])
    )
    with pytest.raises(OutputError, match="'debian' clashes with OUT/debian"):
        write_tree(bad, tmp_path / "out", version=VERSION)


def test_build_inside_the_output_is_refused(tmp_path: Path) -> None:
    plan = demo_plan(synthetic(tmp_path / "out" / "build"))
    with pytest.raises(OutputError, match="inside the output directory"):
        write_tree(plan, tmp_path / "out", version=VERSION, force=True)
    assert (tmp_path / "out/build/usr/bin/demo").exists()


# --------------------------------------------------------------------------- unusual names

ODD = {
    "usr/share/demo/a b.txt": "space",
    "usr/share/demo/star*.txt": "star",
    "usr/share/demo/q?[1]{a,b}.txt": "glob",
    "usr/share/demo/back\\slash": "backslash",
    "usr/share/demo/dollar$HOME.txt": "dollar",
    "usr/share/demo/tab\there": "tab",
    "usr/share/demo/100%.txt": "percent",
    "#top/file": "hash",
}


def test_debian_install_escaping() -> None:
    assert debian_install_line("usr/bin/x") == ("usr/bin/x", False)
    assert debian_install_line("usr/a b.txt") == ("usr/a${Space}b.txt", True)
    assert debian_install_line("usr/q?[1]{a,b}*") == ("usr/q\\?\\[1\\]\\{a,b\\}\\*", False)
    assert debian_install_line("usr/back\\slash") == ("usr/back\\\\slash", False)
    assert debian_install_line("usr/d$x\tt") == ("usr/d${Dollar}x${Tab}t", True)
    assert debian_install_line("#top/a#b") == ("\\#top/a#b", False)
    with pytest.raises(OutputError, match="control character"):
        debian_install_line("usr/bell\x07")


def test_rpm_files_escaping() -> None:
    assert rpm_files_line("usr/bin/x") == "/usr/bin/x"
    assert rpm_files_line("usr/a b.txt") == '"/usr/a b.txt"'
    assert rpm_files_line("usr/share/x", directory=True) == "%dir /usr/share/x"
    assert rpm_files_line("usr/my dir", directory=True) == '%dir "/usr/my dir"'
    # As it is (tests/test_rpm_lists.py builds one with the real rpmbuild).
    assert rpm_files_line("usr/back\\slash") == "/usr/back\\slash"
    for bad in (
        "usr/star*.txt",
        "usr/q?",
        "usr/[1]",
        "usr/{a}",
        'usr/quo"te',
        "usr/tab\tx",
        "usr/100%.txt",
        "usr/a%_bindir",
    ):
        with pytest.raises(OutputError):
            rpm_files_line(bad)
    with pytest.raises(OutputError, match=r"'%' in a file name: rpmbuild expands .*\(--lists debian\)"):
        rpm_files_line("usr/a%_bindir")


def test_a_newline_is_refused_for_dh_install() -> None:
    """dh_install 13.11 (bookworm) substitutes ${Newline} and then installs the file as a
    directory of that name (seen with the real dh_install), so the name is refused."""
    with pytest.raises(
        OutputError, match=r"control character '\\n' in a file name: dh_install cannot take it"
    ):
        debian_install_line("usr/share/new\nline.txt")
    assert debian_dirs_line("usr/share/new\nline")[0] == "usr/share/new${Newline}line"


def test_odd_names_refused_for_rpm_with_a_clear_error(tmp_path: Path) -> None:
    build = synthetic(tmp_path / "build", {"usr/share/demo/star*.txt": "star"})
    r = run_qpack(
        "split",
        str(build),
        "-l",
        "demo",
        "--version",
        VERSION,
        "--format",
        "tree",
        "-o",
        str(tmp_path / "out"),
    )
    assert r.returncode == 2
    assert [line for line in r.stderr.strip().splitlines() if "only the script(s)" not in line] == [
        "error: /usr/share/demo/star*.txt: '*' in a file name: RPM file lists treat it as a glob or quote "
        "(escaping differs between RPM releases), so qpack refuses it; rename the file"
    ]
    assert not (tmp_path / "out").exists()


def test_spaces_escaped_for_both_formats_and_a_percent_for_debian_only(tmp_path: Path) -> None:
    build = synthetic(tmp_path / "build", {"usr/share/demo/a b.txt": "x", "usr/share/demo/100%.txt": "y"})
    with pytest.raises(OutputError, match=r"/usr/share/demo/100%.txt: '%' in a file name"):
        write_tree(demo_plan(build), tmp_path / "out", version=VERSION)
    assert not (tmp_path / "out").exists()
    report = write_tree(demo_plan(build), tmp_path / "out", version=VERSION, lists=("debian",))
    install = (tmp_path / "out/debian/demo-core.install").read_text().splitlines()
    assert "usr/share/demo/a${Space}b.txt" in install and "usr/share/demo/100%.txt" in install
    assert any("compat 13" in n for n in report.notes)
    assert (tmp_path / "out/demo-core/usr/share/demo/a b.txt").read_text() == "x"
    build = synthetic(tmp_path / "build2", {"usr/share/demo/a b.txt": "x"})
    write_tree(demo_plan(build), tmp_path / "out2", version=VERSION)
    rpm = (tmp_path / "out2/rpm/demo-core.files").read_text().splitlines()
    assert '"/usr/share/demo/a b.txt"' in rpm


def _dh_install(build: Path, out: Path, pkg: str, work: Path) -> Path:
    """Run the real dh_install on a one-binary-package source tree whose .install is ours."""
    src = work / "src"
    (src / "debian").mkdir(parents=True)
    (src / "debian/control").write_text(
        f"Source: {pkg}\nSection: misc\nPriority: optional\nMaintainer: Q <q@example.org>\n"
        "Build-Depends: debhelper-compat (= 13)\n\n"
        f"Package: {pkg}\nArchitecture: all\nDescription: test\n test\n"
    )
    shutil.copy(out / "debian" / f"{pkg}.install", src / "debian" / f"{pkg}.install")
    r = subprocess.run(
        ["dh_install", f"--sourcedir={build}"],
        cwd=src,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DH_VERBOSE": "0"},
    )
    assert r.returncode == 0, r.stderr
    return src / "debian" / pkg


@pytest.mark.skipif(
    not shutil.which("dh_install"), reason="debhelper not installed (apt-get install debhelper)"
)
def test_real_dh_install_takes_the_install_files_as_is(tmp_path: Path) -> None:
    odd = dict(ODD)
    build = synthetic(tmp_path / "build", odd)
    plan = demo_plan(build)
    # RPM refuses glob characters; dh_install takes them. Write the Debian list directly.
    lines = [debian_install_line(f)[0] for f in plan.package("demo-core").files]
    out = tmp_path / "out"
    (out / "debian").mkdir(parents=True)
    (out / "debian/demo-core.install").write_text("".join(x + "\n" for x in lines))
    got = _dh_install(build, out, "demo-core", tmp_path / "dh")
    expected = sorted(plan.package("demo-core").files)
    files = sorted(
        Path(dp, n).relative_to(got).as_posix()
        for dp, dns, fns in os.walk(got)
        for n in fns + [d for d in dns if (Path(dp) / d).is_symlink() or not any((Path(dp) / d).iterdir())]
        if not Path(dp, n).relative_to(got).as_posix().startswith("DEBIAN")
    )
    assert files == expected
    assert os.readlink(got / "usr/bin/demo-run") == "demo"
    for path, text in odd.items():
        assert (got / path).read_text() == text, path


@pytest.mark.skipif(
    not shutil.which("dh_install"), reason="debhelper not installed (apt-get install debhelper)"
)
def test_real_dh_install_on_the_demo_split(demo_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(demo_plan(demo_build), out, version=VERSION)
    for pkg in ("demo-core", "demo-ui-gtk"):
        got = _dh_install(demo_build, out, pkg, tmp_path / pkg)
        assert tree_paths(got) == tree_paths(out / pkg), pkg


# The rules of the many-package build (tests/test_tree_lists.layout gives the loader): one
# package per module with its data directory, the rest in the core.
MANY_RULES = """
    [per-module]
    name = "prog-{module}"
    files = ["{prefix}/share/prog/{name}/**"]
    [[package]]
    name = "prog-core"
    kind = "core"
    rest = true
    """


def _many(tmp_path: Path, n: int = 120) -> Plan:
    """A build of `n` module packages, each with a module and a data directory (mode 0750)."""
    build = tmp_path / "build"
    (build / "usr/bin").mkdir(parents=True)
    (build / "usr/bin/prog").write_text("#!/bin/sh\n")
    for i in range(n):
        (build / f"usr/lib/prog/ui/m{i:03}.so").parent.mkdir(parents=True, exist_ok=True)
        (build / f"usr/lib/prog/ui/m{i:03}.so").write_text(f"module {i}\n")  # not ELF: noted only
        (build / f"usr/share/prog/m{i:03}/data").mkdir(parents=True)
        (build / f"usr/share/prog/m{i:03}/data/d.txt").write_text(f"data {i}\n")
        (build / f"usr/share/prog/m{i:03}/data").chmod(0o750)
    return plan_build(build, layout(tmp_path, MANY_RULES))


def test_an_interrupted_tree_split_stops_both_threads(tmp_path: Path) -> None:
    """Ctrl-C on the first thread: the second stops at its next package, not at the last."""
    plan = _many(tmp_path)
    written: list[str] = []

    def progress(n: int, total: int) -> None:
        written.append(threading.current_thread().name)
        if threading.current_thread() is threading.main_thread():
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_tree(plan, tmp_path / "out", version=VERSION, progress=progress)
    assert len(written) < 20  # of 241 files
    assert not (tmp_path / "out").exists()


def test_many_packages_written_by_two_threads_are_each_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write_tree's two threads take the packages one at a time: every tree has exactly its
    files, modes and counts, as the lists say; a failure in any package fails the whole split
    and leaves nothing."""
    plan = _many(tmp_path)
    build = tmp_path / "build"
    assert len(plan.packages) == 121
    report = write_tree(plan, tmp_path / "out", version=VERSION)
    assert (report.linked, report.copied) == (241, 0)
    for p in plan.packages:
        listed = (tmp_path / f"out/debian/{p.name}.install").read_text().split()
        files = sorted(
            str(f.relative_to(tmp_path / "out" / p.name))
            for f in (tmp_path / "out" / p.name).rglob("*")
            if f.is_file()
        )
        assert files == sorted(listed) == sorted(p.files)
    for i in range(120):  # the build's mode on every directory, whichever thread made it
        data = tmp_path / f"out/prog-ui-m{i:03}/usr/share/prog/m{i:03}/data"
        assert stat.S_IMODE(data.stat().st_mode) == 0o750

    (build / "usr/share/prog/m119/data/d.txt").write_text("changed since the scan, and longer\n")
    with pytest.raises(BuildError, match="changed since the build was scanned"):
        write_tree(plan, tmp_path / "again", version=VERSION)
    assert not (tmp_path / "again").exists()
    assert sorted(os.listdir(tmp_path)) == ["build", "lay.toml", "out"]
