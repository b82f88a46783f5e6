"""`[[package]] dirs`: directories a package owns as directories even when other packages' files
fill them (Debian's `<package>.dirs`; Dovecot's dovecot-core ships modules/dict empty while the
SQL and LDAP packages put their drivers in it), through the real command line: validation (one
line per problem, exit 2), the plan and its JSON, the tree writer's package trees, `.dirs`
files, `%dir` lines and manifest, the real dh_installdirs + dh_install, and wheels (which hold
no directories). tests/test_dovecot.py holds it to Debian's real split.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from qpack.errors import OutputError
from qpack.writers.tree import debian_dirs_line

from . import debian_source as ds
from .conftest import run_qpack

VERSION = "1.0-1"
PACKAGES = """
    [[package]]
    name = "prog-core"
    files = ["{prefix}/bin/**"]
    dirs = [%s]
    [[package]]
    name = "prog-ui"
    files = ["{prefix}/lib/prog/ui/**"]
    requires = ["prog-core"]
    """


def build(root: Path) -> Path:
    """The core's program, a ui file in usr/lib/prog/ui (prog-ui's), an empty var/cache/prog."""
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/prog").write_text("#!/bin/sh\n")
    (root / "usr/bin/prog").chmod(0o755)
    (root / "usr/lib/prog/ui").mkdir(parents=True)
    (root / "usr/lib/prog/ui/gtk.txt").write_text("ui\n")
    (root / "var/cache/prog").mkdir(parents=True)
    return root


def layout(tmp_path: Path, dirs: str) -> Path:
    p = tmp_path / "lay.toml"
    p.write_text(
        textwrap.dedent(
            """
            [layout]
            name = "t"
            [loader]
            prefix = "/usr"
            executables = ["{prefix}/bin/prog"]
            naming = "{type}/{name}.so"
            types = ["ui"]
            [[loader.search]]
            relocated = "lib/prog"
            """
        )
        + textwrap.dedent(PACKAGES % dirs)
    )
    return p


DIRS = '"{prefix}/lib/prog/ui", "var/lib/prog", "var/cache/prog/"'


def split(src: Path, lay: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_qpack(
        "split", str(src), "-l", str(lay), "--version", VERSION, "--format", "tree", "-o", str(out), *args
    )


# --------------------------------------------------------------------------- validation


def test_bad_dirs_are_one_line_each_exit_2(tmp_path: Path) -> None:
    src = build(tmp_path / "b")
    lay = layout(
        tmp_path,
        '"{prefix}/lib/prog/ui", "/usr/lib/x", "a/../b", "x/*", "{bindir}/x", "usr/lib/prog/ui/", ""',
    )
    r = run_qpack("plan", str(src), "-l", str(lay))
    assert r.returncode == 2
    where = f"error: {lay}: package[0]"
    assert r.stderr.splitlines() == [
        f"{where}.dirs[1]: bad directory '/usr/lib/x': must be relative to the build root "
        "(e.g. '{prefix}/lib/x')",
        f"{where}.dirs[2]: bad directory 'a/../b': '.', '..' or an empty path segment",
        f"{where}.dirs[3]: bad directory 'x/*': a path, not a glob (no '*', '?', '[' or ']')",
        f"{where}.dirs[4]: bad directory '{{bindir}}/x': unknown placeholder (only {{prefix}} is known)",
        f"{where}.dirs[5]: directory 'usr/lib/prog/ui/' is listed twice (also dirs[0])",
        f"{where}.dirs[6]: bad directory '': must be relative to the build root (e.g. '{{prefix}}/lib/x')",
    ]
    not_a_list = run_qpack("plan", str(src), "-l", str(layout(tmp_path, '"x", 3')))
    assert not_a_list.returncode == 2
    assert not_a_list.stderr == f"error: {lay}: package[0].dirs: must be a list of strings\n"


def test_dirs_alone_is_a_package_that_claims_something(tmp_path: Path) -> None:
    src = build(tmp_path / "b")
    lay = tmp_path / "lay.toml"
    lay.write_text(
        layout(tmp_path, DIRS).read_text() + '[[package]]\nname = "prog-spool"\ndirs = ["var/spool/prog"]\n'
    )
    r = run_qpack("plan", str(src), "-l", str(lay), "--json")
    assert r.returncode == 0, r.stderr
    spool = {p["name"]: p for p in json.loads(r.stdout)["packages"]}["prog-spool"]
    assert spool["files"] == [] and spool["declared_dirs"] == ["var/spool/prog"]


def test_a_dir_that_is_a_file_or_under_a_symlink_of_the_build_is_a_plan_error(tmp_path: Path) -> None:
    src = build(tmp_path / "b")
    (src / "usr/share").mkdir()
    (src / "usr/share/prog").write_text("a file\n")
    (src / "usr/lib/prog/link").symlink_to("ui")
    lay = layout(tmp_path, '"{prefix}/share/prog", "{prefix}/lib/prog/link/sub"')
    lay.write_text(lay.read_text() + '[[package]]\nname = "rest"\nrest = true\n')
    r = run_qpack("plan", str(src), "-l", str(lay))
    assert r.returncode == 2
    assert [line for line in r.stderr.splitlines() if "only the script(s)" not in line] == [
        "error: package[0] 'prog-core': dirs '{prefix}/share/prog': usr/share/prog is a file in the build, "
        "not a directory",
        "error: package[0] 'prog-core': dirs '{prefix}/lib/prog/link/sub': usr/lib/prog/link is a symlink "
        "in the build, not a directory",
    ]


# --------------------------------------------------------------------------- the plan


def test_plan_json_and_explain(tmp_path: Path) -> None:
    src = build(tmp_path / "b")
    lay = layout(tmp_path, DIRS)
    r = run_qpack("plan", str(src), "-l", str(lay), "--json", "--explain")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    packages = {p["name"]: p for p in data["packages"]}
    assert packages["prog-core"]["declared_dirs"] == ["usr/lib/prog/ui", "var/lib/prog", "var/cache/prog"]
    assert packages["prog-ui"]["declared_dirs"] == []
    # The empty directory of the build is claimed by `dirs`: no rule's files name it.
    assert packages["prog-core"]["files"] == ["usr/bin/prog", "var/cache/prog"]
    claims = {c["path"]: (c["package"], c["rule"]) for c in data["claims"]}
    assert claims["var/cache/prog"] == ("prog-core", "package[0] 'prog-core': dirs 'var/cache/prog'")
    assert data["unclaimed"] == []

    # Without `dirs` that empty directory is claimed by nobody: an error.
    bare = run_qpack("plan", str(src), "-l", str(layout(tmp_path, "")))
    assert bare.returncode == 2 and "var/cache/prog" in bare.stderr


def test_a_relocated_prefix_moves_the_dirs(tmp_path: Path) -> None:
    src = tmp_path / "b"
    (src / "opt/p/bin").mkdir(parents=True)
    (src / "opt/p/bin/prog").write_text("#!/bin/sh\n")
    (src / "opt/p/lib/prog/ui").mkdir(parents=True)
    (src / "opt/p/lib/prog/ui/gtk.txt").write_text("ui\n")
    lay = layout(tmp_path, '"{prefix}/lib/prog/ui"')
    r = run_qpack("plan", str(src), "-l", str(lay), "--prefix", "/opt/p", "--json")
    assert r.returncode == 0, r.stderr
    core = json.loads(r.stdout)["packages"][0]
    assert core["declared_dirs"] == ["opt/p/lib/prog/ui"]


# --------------------------------------------------------------------------- the tree writer


def test_tree_dirs_file_rpm_dir_lines_manifest(tmp_path: Path) -> None:
    src = build(tmp_path / "b")
    (src / "usr/lib/prog/ui").chmod(0o750)
    out = tmp_path / "out"
    r = split(src, layout(tmp_path, DIRS), out)
    assert r.returncode == 0, r.stderr

    # dh_installdirs' list: one relative path a line, in the layout's order; none for prog-ui.
    assert (out / "debian/prog-core.dirs").read_text() == "usr/lib/prog/ui\nvar/lib/prog\nvar/cache/prog\n"
    assert not (out / "debian/prog-ui.dirs").exists()
    # Not .install lines (dh_install would copy the directory with prog-ui's file in it); the
    # build's empty directory is one of prog-core's files, so it is there too.
    assert (out / "debian/prog-core.install").read_text() == "usr/bin/prog\nvar/cache/prog\n"
    assert (out / "debian/prog-ui.install").read_text() == "usr/lib/prog/ui/gtk.txt\n"

    # RPM: each a %dir of prog-core, once; prog-ui requires prog-core, so it has none of them.
    core_rpm = (out / "rpm/prog-core.files").read_text().splitlines()
    for d in ("/usr/lib/prog/ui", "/var/lib/prog", "/var/cache/prog"):
        assert core_rpm.count(f"%dir {d}") == 1, d
    assert "%dir /usr/lib/prog" in core_rpm  # the parent needs an owner too
    assert (out / "rpm/prog-ui.files").read_text() == "/usr/lib/prog/ui/gtk.txt\n"
    # A directory the build does not have cannot be in rpmbuild's build root: a note says so.
    assert "rpm/prog-core.files: %dir /var/lib/prog is not in the build" in r.stderr
    assert "%dir /usr/lib/prog/ui is not in the build" not in r.stderr

    # The trees: the directory is in prog-core's, empty there, with the build's mode (0755 when
    # the build has none); prog-ui's has the file.
    for d, mode in (("usr/lib/prog/ui", 0o750), ("var/lib/prog", 0o755), ("var/cache/prog", 0o755)):
        path = out / "prog-core" / d
        assert path.is_dir() and not path.is_symlink() and not any(path.iterdir()), d
        assert stat.S_IMODE(path.stat().st_mode) == mode, d
    assert (out / "prog-ui/usr/lib/prog/ui/gtk.txt").is_file()

    manifest = {p["name"]: p for p in json.loads((out / "manifest.json").read_text())["packages"]}
    core = manifest["prog-core"]
    assert core["declared_dirs"] == ["usr/lib/prog/ui", "var/lib/prog", "var/cache/prog"]
    # Owned (%dir) too; the build's empty one is a file entry (kind dir), not listed twice.
    assert {"usr/lib/prog/ui", "var/lib/prog"} <= set(core["dirs"]) and "var/cache/prog" not in core["dirs"]
    assert {"path": "var/cache/prog", "kind": "dir"}.items() <= core["files"][1].items()
    assert core["lists"]["debian_dirs"] == "debian/prog-core.dirs"
    assert "debian_dirs" not in manifest["prog-ui"]["lists"]
    assert json.loads((out / "manifest.json").read_text())["lists"] == ["debian", "rpm"]

    # RPM lists alone write no debian/ at all.
    rpm_only = split(src, layout(tmp_path, DIRS), tmp_path / "rpm-only", "--lists", "rpm")
    assert rpm_only.returncode == 0, rpm_only.stderr
    assert sorted(os.listdir(tmp_path / "rpm-only")) == ["manifest.json", "prog-core", "prog-ui", "rpm"]


def test_dirs_lines_are_what_dh_installdirs_reads() -> None:
    assert debian_dirs_line("usr/lib/prog/ui") == ("usr/lib/prog/ui", False)
    # Split on whitespace, `${...}` substituted (compat 13), no globbing: no backslashes.
    assert debian_dirs_line("srv/a b/$x/[y]") == ("srv/a${Space}b/${Dollar}x/[y]", True)
    assert debian_dirs_line("#cache") == ("./#cache", False)  # a leading '#' is a comment
    with pytest.raises(OutputError, match="control character"):
        debian_dirs_line("srv/a\x01b")


@pytest.mark.skipif(not ds.have_debhelper(), reason="debhelper not installed (apt-get install debhelper)")
def test_real_dh_installdirs_and_dh_install(tmp_path: Path) -> None:
    src = build(tmp_path / "b")
    (src / "srv/odd $dir").mkdir(parents=True)
    out = tmp_path / "out"
    r = split(src, layout(tmp_path, DIRS + ', "srv/odd $dir"'), out, "--lists", "debian")
    assert r.returncode == 0, r.stderr
    assert "debian/prog-core.dirs uses ${Space}-style substitutions" in r.stderr
    pkgs = ["prog-core", "prog-ui"]
    tree = ds.fake_source("prog", pkgs, out / "debian", src, tmp_path / "src")
    for cmd in ("dh_installdirs", "dh_install"):
        done = ds.debhelper(tree, cmd)
        assert done.returncode == 0, done.stderr
    assert ds.debhelper(tree, "dh_missing", "--fail-missing").returncode == 0
    for pkg in pkgs:
        assert ds.installed_tree(tree / "debian" / pkg) == ds.installed_tree(out / pkg), pkg
    assert ds.installed_tree(tree / "debian/prog-core") == {
        "usr/bin/prog": "file",
        "usr/lib/prog/ui": "dir",
        "var/lib/prog": "dir",
        "var/cache/prog": "dir",
        "srv/odd $dir": "dir",
    }


@pytest.mark.skipif(not shutil.which("rpmbuild"), reason="rpmbuild not installed")
def test_rpmbuild_takes_the_dir_lines(tmp_path: Path) -> None:
    src = build(tmp_path / "b")
    (src / "var/lib/prog").mkdir(parents=True)  # in the build root, as the note asks
    out = tmp_path / "out"
    r = split(src, layout(tmp_path, DIRS), out, "--lists", "rpm")
    assert r.returncode == 0, r.stderr
    assert "is not in the build" not in r.stderr
    spec = tmp_path / "t.spec"
    spec.write_text(
        textwrap.dedent(
            f"""
            Name: prog-core
            Version: 1.0
            Release: 1
            Summary: t
            License: MIT
            BuildArch: noarch
            %description
            t
            %package -n prog-ui
            Summary: t
            %description -n prog-ui
            t
            %install
            cp -a {src}/. %{{buildroot}}/
            %files -f {out}/rpm/prog-core.files
            %files -n prog-ui -f {out}/rpm/prog-ui.files
            """
        )
    )
    top = tmp_path / "rpmbuild"
    defines = ["--define", f"_topdir {top}", "--define", "__spec_install_post %{nil}"]
    done = subprocess.run(
        ["rpmbuild", "-bb", *defines, str(spec)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (rpm,) = (top / "RPMS/noarch").glob("prog-core-*.rpm")
    listed = subprocess.run(["rpm", "-qlp", str(rpm)], capture_output=True, text=True, check=True).stdout
    assert {"/usr/lib/prog/ui", "/var/lib/prog", "/var/cache/prog"} <= set(listed.splitlines())


# --------------------------------------------------------------------------- wheels


def test_wheels_leave_the_dirs_out(tmp_path: Path) -> None:
    """A wheel holds no directories: the declared ones are not in it (the directory is made
    when a file is installed into it); the split still works."""
    src = build(tmp_path / "b")
    lay = layout(tmp_path, '"{prefix}/lib/prog/ui", "{prefix}/share/prog-empty"')
    r = run_qpack(
        "split", str(src), "-l", str(lay), "--version", VERSION, "--format", "wheel",
        "-o", str(tmp_path / "d"), "--unclaimed", "drop",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (core,) = (tmp_path / "d").glob("prog_core-*.whl")
    with zipfile.ZipFile(core) as z:
        names = z.namelist()
    assert not any(n.endswith("/") or "prog-empty" in n for n in names), names


def test_an_empty_base_system_directory_of_the_build_is_no_rpm_dir(demo_build: Path, tmp_path: Path) -> None:
    """collectd's .deb ships the empty var/log and var/run; the rest rule claimed them, and the
    core's RPM list said `%dir /var/log` and `%dir /var/run`, directories of the filesystem
    package (on Fedora /var/run is a link it owns)."""
    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    for d in ("var/log", "var/run", "var/lib/demo"):
        (build / d).mkdir(parents=True)
    r = run_qpack("split", str(build), "-l", "demo", "--version", "1.0", "--format", "tree",
                  "--prefix", "/usr", "--unclaimed", "core", "-o", str(tmp_path / "out"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    core = (tmp_path / "out/rpm/demo-core.files").read_text().splitlines()
    assert "%dir /var/lib/demo" in core  # the package's own, empty in the build: still its %dir
    assert not [line for line in core if line in ("%dir /var/log", "%dir /var/run", "%dir /var")]
