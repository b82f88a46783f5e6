"""Bad builds: each gives one clear `error:` line and exit 2 (or a warning where the build is
still usable), never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import copy_build, run_qpack


def assert_clean_error(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_missing_build_dir(tmp_path: Path) -> None:
    assert_clean_error(
        run_qpack("plan", str(tmp_path / "nope"), "-l", "demo"), "nope: build directory does not exist"
    )


def test_empty_build_dir(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_clean_error(run_qpack("scan", str(tmp_path / "empty"), "-l", "demo"), "build directory is empty")


def test_file_instead_of_dir(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert_clean_error(run_qpack("plan", str(f), "-l", "demo"), "not a directory")


def test_unreadable_file(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path)
    secret = build / "usr/share/demo/banner.txt"
    secret.chmod(0)
    cmd = [sys.executable, "-m", "qpack", "plan", str(build), "-l", "demo"]
    if os.geteuid() == 0:
        # root reads anything; drop the capabilities that let it, so the file really is unreadable
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot make a file unreadable")
        cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert_clean_error(r, "banner.txt: cannot read file: permission denied")


def test_symlink_outside_the_build_is_recorded_not_followed(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path)
    outside = tmp_path / "outside-secret"
    outside.write_text("secret")
    (build / "usr/share/demo/escape").symlink_to("../../../../outside-secret")
    (build / "usr/share/demo/abs").symlink_to(outside)  # absolute: root-relative once installed
    (build / "usr/share/demo/dirlink").symlink_to("/")
    r = run_qpack("scan", str(build), "-l", "demo", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    files = {f["path"]: f for f in data["files"]}
    esc = files["usr/share/demo/escape"]
    assert (
        esc["kind"] == "symlink" and esc["target"] == "../../../../outside-secret" and esc["sha256"] is None
    )
    assert files["usr/share/demo/dirlink"]["kind"] == "symlink"
    assert not any(p.startswith("usr/share/demo/dirlink/") for p in files), "followed a directory symlink"
    assert any(
        "usr/share/demo/escape: symlink to '../../../../outside-secret' points outside the build" in w
        for w in data["warnings"]
    )
    # an absolute target stays inside once installed (it is root-relative), so it is not flagged
    assert not any(w.startswith("usr/share/demo/abs:") for w in data["warnings"])


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"", "empty or truncated file"),
        (b"\x7fE", "empty or truncated file"),  # the start of an ELF file
        (b"abc", "not an ELF file"),  # too short for the magic, and none of it (a PHP tester's notes.so)
        (b"not an elf at all\n", "not an ELF file"),
        (None, "truncated or corrupt ELF"),
    ],
)
def test_broken_module_is_reported_not_crashed(
    demo_build: Path, tmp_path: Path, content: bytes | None, expect: str
) -> None:
    build = copy_build(demo_build, tmp_path)
    so = build / "usr/lib/demo/block/nfs.so"
    so.write_bytes(so.read_bytes()[:300] if content is None else content)
    r = run_qpack("plan", str(build), "-l", "demo", "--json")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert f"usr/lib/demo/block/nfs.so: module unreadable: {expect}" in r.stderr
    pkgs = {p["name"]: p for p in json.loads(r.stdout)["packages"]}
    assert pkgs["demo-block-nfs"]["files"] == ["usr/lib/demo/block/nfs.so"]
    # check says it as plan does (a Samba re-tester's empty vfs/zero.so: "not an ELF file").
    if content is not None:
        r = run_qpack("check", str(build / "usr"), "-l", "demo", "--json")
        rows = {m["module"]: m for m in json.loads(r.stdout)["modules"]}
        assert rows["block-nfs"]["problems"][0]["detail"].endswith(f": {expect}"), rows["block-nfs"]


def test_non_utf8_file_name(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path)
    with open(os.path.join(os.fsencode(build / "usr/share/demo"), b"caf\xe9.txt"), "wb") as f:
        f.write(b"x")
    assert_clean_error(
        run_qpack("plan", str(build), "-l", "demo"), "caf\\xe9.txt: file name is not valid UTF-8"
    )


def test_fifo_in_build(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path)
    os.mkfifo(build / "usr/share/demo/pipe")
    assert_clean_error(
        run_qpack("plan", str(build), "-l", "demo"), "pipe: not a regular file, symlink or directory"
    )


def test_a_build_a_thousand_directories_deep_is_scanned(demo_build: Path, tmp_path: Path) -> None:
    """os.walk recurses in Python 3.11: 990 nested directories (a 2,000-byte path, well under
    PATH_MAX) ended in a RecursionError traceback, exit status 1."""
    build = copy_build(demo_build, tmp_path)
    levels = [build / "usr/share/demo"]
    for _ in range(1000):  # one level at a time: Path.mkdir(parents=True) recurses too
        levels.append(levels[-1] / "d")
        levels[-1].mkdir()
    (levels[-1] / "leaf.txt").write_text("x")
    try:
        r = run_qpack("plan", str(build), "-l", "demo", "--files")
        assert r.returncode == 0, r.stderr[-2000:]
        leaf = "usr/share/demo/" + "d/" * 1000 + "leaf.txt"
        assert f"demo-core\t{leaf}" in r.stdout.splitlines()
    finally:  # shutil.rmtree recurses too: pytest's clean-up of old temporary trees would fail
        (levels[-1] / "leaf.txt").unlink()
        for level in reversed(levels[1:]):
            level.rmdir()
