"""Every list `split --format tree` writes is usable, through the real command line: Debian and
RPM lists asked for separately (`--lists`), copies instead of hard links (`--copy`), the core
package unclaimed files go to named or chosen by the user (`--unclaimed core[=NAME]`), dropped
files shown and kept in the manifest (`--unclaimed drop`), shared directories owned."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

from qpack.plan import plan_build
from qpack.writers.tree import write_tree

from .conftest import run_qpack

VERSION = "1.0-1"


def build(root: Path, names: dict[str, str]) -> Path:
    for path, text in names.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    (root / "usr/bin/prog").chmod(0o755)
    return root


def layout(tmp_path: Path, packages: str) -> Path:
    """A layout for `build` trees: no modules, the packages given."""
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
        + textwrap.dedent(packages)
    )
    return p


TWO_CORES = """
    [[package]]
    name = "prog-bin"
    files = ["{prefix}/bin/**"]
    [[package]]
    name = "prog-data"
    files = ["{prefix}/share/prog/known.txt"]
    """


def split(src: Path, lay: Path | str, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_qpack(
        "split", str(src), "-l", str(lay), "--version", VERSION, "--format", "tree", "-o", str(out), *args
    )


def test_debian_lists_alone_are_not_stopped_by_a_name_rpm_cannot_take(tmp_path: Path) -> None:
    src = build(tmp_path / "b", {"usr/bin/prog": "#!/bin/sh\n", "usr/share/prog/a*b.txt": "x"})
    lay = layout(tmp_path, '[[package]]\nname = "prog"\nrest = true\n')
    both = split(src, lay, tmp_path / "both")
    assert both.returncode == 2 and "error: /usr/share/prog/a*b.txt: '*' in a file name" in both.stderr
    assert not (tmp_path / "both").exists()

    out = tmp_path / "out"
    r = split(src, lay, out, "--lists", "debian")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["debian", "manifest.json", "prog"]
    assert (out / "debian/prog.install").read_text() == "usr/bin/prog\nusr/share/prog/a\\*b.txt\n"
    m = json.loads((out / "manifest.json").read_text())
    assert m["lists"] == ["debian"]
    assert m["packages"][0]["lists"] == {"debian": "debian/prog.install", "rpm": None}
    assert "rpm_requires" not in m["packages"][0]

    rpm_only = split(src, lay, tmp_path / "rpm", "--lists", "rpm")
    assert rpm_only.returncode == 2 and "'*' in a file name" in rpm_only.stderr


def test_rpm_lists_alone_and_bad_list_names(tmp_path: Path) -> None:
    src = build(tmp_path / "b", {"usr/bin/prog": "#!/bin/sh\n", "usr/share/prog/x.txt": "x"})
    lay = layout(tmp_path, '[[package]]\nname = "prog"\nrest = true\n')
    out = tmp_path / "out"
    r = split(src, lay, out, "--lists", "rpm")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["manifest.json", "prog", "rpm"]
    assert (
        out / "rpm/prog.files"
    ).read_text() == "%dir /usr/share/prog\n/usr/bin/prog\n/usr/share/prog/x.txt\n"
    bad = split(src, lay, tmp_path / "bad", "--lists", "debian,wheel")
    assert bad.returncode == 2
    assert bad.stderr == "error: --lists 'debian,wheel': expected a comma-separated choice of debian, rpm\n"


def test_copy_gives_files_a_packager_can_edit(demo_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_qpack(
        "split",
        str(demo_build),
        "-l",
        "demo",
        "--version",
        VERSION,
        "--format",
        "tree",
        "-o",
        str(out),
        "--copy",
    )
    assert r.returncode == 0, r.stderr
    assert "copied" not in r.stderr  # asked for: no note about filesystems
    ours, theirs = out / "demo-core/usr/bin/demo", demo_build / "usr/bin/demo"
    assert ours.stat().st_ino != theirs.stat().st_ino
    assert ours.read_bytes() == theirs.read_bytes() and ours.stat().st_mode == theirs.stat().st_mode
    before = theirs.read_bytes()
    ours.chmod(0o755)
    with ours.open("r+b") as f:  # what strip or a patch would do in place
        f.write(b"\0\0\0\0")
    assert theirs.read_bytes() == before
    # Without --copy the same file is the build's own inode.
    linked = write_tree(plan_build(demo_build, "demo"), tmp_path / "linked", version=VERSION)
    assert linked.copied == 0 and linked.linked > 0
    assert (tmp_path / "linked/demo-core/usr/bin/demo").stat().st_ino == theirs.stat().st_ino


def test_unclaimed_core_names_the_package_or_takes_one(tmp_path: Path) -> None:
    src = build(
        tmp_path / "b",
        {"usr/bin/prog": "#!/bin/sh\n", "usr/share/prog/known.txt": "k", "usr/share/prog/stray.txt": "s"},
    )
    lay = layout(tmp_path, TWO_CORES)
    chosen = split(src, lay, tmp_path / "o1", "--unclaimed", "core")
    assert chosen.returncode == 0, chosen.stderr
    assert (
        "warning: --unclaimed core: 1 file(s) claimed by no rule went to 'prog-bin', one of the core "
        "packages 'prog-bin', 'prog-data'; --unclaimed core=NAME picks another"
    ) in chosen.stderr
    assert (tmp_path / "o1/prog-bin/usr/share/prog/stray.txt").exists()

    named = split(src, lay, tmp_path / "o2", "--unclaimed", "core=prog-data")
    assert named.returncode == 0, named.stderr
    assert "--unclaimed core" not in named.stderr
    assert (tmp_path / "o2/debian/prog-data.install").read_text().splitlines() == [
        "usr/share/prog/known.txt",
        "usr/share/prog/stray.txt",
    ]

    wrong = split(src, lay, tmp_path / "o3", "--unclaimed", "core=prog-gui")
    assert wrong.returncode == 2
    assert "".join(line for line in wrong.stderr.splitlines(True) if "only the script(s)" not in line) == (
        "error: --unclaimed core=prog-gui: not a core package of layout 't' "
        "(core packages: 'prog-bin', 'prog-data')\n"
    )
    assert split(src, lay, tmp_path / "o4", "--unclaimed", "core=").returncode == 2


def test_unclaimed_drop_is_shown_by_split_and_kept_in_the_manifest(tmp_path: Path) -> None:
    src = build(
        tmp_path / "b",
        {"usr/bin/prog": "#!/bin/sh\n", "usr/share/prog/known.txt": "k", "usr/share/prog/stray.txt": "s"},
    )
    lay = layout(tmp_path, TWO_CORES)
    out = tmp_path / "out"
    r = split(src, lay, out, "--unclaimed", "drop")
    assert r.returncode == 0, r.stderr
    assert "usr/share/prog/stray.txt" in r.stdout  # the table of what was left out
    plan_out = run_qpack("plan", str(src), "-l", str(lay), "--unclaimed", "drop")
    assert "usr/share/prog/stray.txt" in plan_out.stdout
    m = json.loads((out / "manifest.json").read_text())
    assert m["unclaimed"] == ["usr/share/prog/stray.txt"]
    assert {"path": "usr/share/prog/stray.txt", "reason": "claimed by no rule (--unclaimed drop)"} in m[
        "excluded"
    ]
    assert not any(f["path"].endswith("stray.txt") for p in m["packages"] for f in p["files"])


def test_shared_data_directory_is_owned_by_every_unrelated_package(tmp_path: Path) -> None:
    """Like Debian's usr/share/qemu: files of two packages neither of which requires the other
    (the directory goes to both), and of a third that requires one of them (covered by it)."""
    src = build(
        tmp_path / "b",
        {
            "usr/bin/prog": "#!/bin/sh\n",
            "usr/share/prog/trace-events": "t",
            "usr/share/prog/firmware.bin": "f",
            "usr/share/prog/gui.json": "g",
        },
    )
    lay = layout(
        tmp_path,
        """
        [[package]]
        name = "prog-common"
        files = ["{prefix}/bin/prog", "{prefix}/share/prog/trace-events"]
        [[package]]
        name = "prog-data"
        files = ["{prefix}/share/prog/firmware.bin"]
        [[package]]
        name = "prog-gui"
        kind = "group"
        files = ["{prefix}/share/prog/gui.json"]
        requires = ["prog-common"]
        """,
    )
    out = tmp_path / "out"
    r = split(src, lay, out, "--lists", "rpm")
    assert r.returncode == 0, r.stderr
    owners = sorted(p.stem for p in (out / "rpm").iterdir() if "%dir /usr/share/prog\n" in p.read_text())
    assert owners == ["prog-common", "prog-data"]
