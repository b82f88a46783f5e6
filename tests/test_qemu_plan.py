"""Debian's real QEMU build (several .debs of one build extracted into one tree) planned with
the shipped `qemu` layout."""

from __future__ import annotations

import json

from .conftest import QemuBuild, run_qpack

MODDIR = "usr/lib/x86_64-linux-gnu/qemu/"


def test_plan_puts_every_module_in_its_own_package(qemu_build: QemuBuild) -> None:
    r = run_qpack("plan", str(qemu_build.root), "--layout", "qemu", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["layout"] == "qemu" and data["prefix"] == "/usr"
    assert data["unclaimed"] == [] and data["excluded"] == []
    sos = sorted(p.relative_to(qemu_build.root).as_posix() for p in (qemu_build.root / MODDIR).glob("*.so"))
    assert len(sos) >= 30, sos
    pkgs = {p["name"]: p for p in data["packages"]}
    for so in sos:
        stem = so[len(MODDIR) : -len(".so")]
        pkg = pkgs[f"qemu-{stem}"]
        assert pkg["kind"] == "module"
        assert pkg["files"] == [so]
        assert pkg["modules"] == [stem]
        assert pkg["requires"][0] == "qemu-core"
    core = pkgs["qemu-core"]
    assert core["kind"] == "core"
    assert "usr/bin/qemu-system-x86_64" in core["files"] and "usr/bin/kvm" in core["files"]
    assert not any(f.startswith(MODDIR) for f in core["files"])
    every = [f for p in data["packages"] for f in p["files"]]
    assert len(every) == len(set(every))
    if "ui-gtk" in pkgs["qemu-ui-gtk"]["modules"] and "qemu-ui-opengl" in pkgs:
        assert pkgs["qemu-ui-gtk"]["requires"] == ["qemu-core", "qemu-ui-opengl"]
    meta = pkgs["qemu"]
    assert meta["kind"] == "meta"
    assert meta["extras"]["ui-curses"] == ["qemu-ui-curses"]
    assert "qemu-block-curl" in meta["extras"]["block"]
    # Every module but hw-s390x-virtio-gpu-ccw, which no x86 emulator of the build ever loads.
    assert len(meta["extras"]["all"]) == len(sos) - 1


def test_scan_reads_the_build_stamp(qemu_build: QemuBuild) -> None:
    r = run_qpack("scan", str(qemu_build.root), "--layout", "qemu", "--json")
    assert r.returncode == 0, r.stderr
    files = {f["path"]: f for f in json.loads(r.stdout)["files"]}
    exe = files["usr/bin/qemu-system-x86_64"]["elf"]
    assert exe["machine"] == "EM_X86_64"
    (stamp,) = exe["stamp_held"]
    assert stamp.startswith("qemu_stamp_") and len(stamp) == len("qemu_stamp_") + 40
    for path, f in files.items():
        if path.startswith(MODDIR) and path.endswith(".so"):
            assert f["elf"]["stamp_exported"] == [stamp], path
            assert f["module"]["id"] == path[len(MODDIR) : -3]
    assert (
        files["usr/bin/kvm"]["kind"] == "symlink" and files["usr/bin/kvm"]["target"] == "qemu-system-x86_64"
    )
    curl = files[MODDIR + "block-curl.so"]["elf"]
    assert "libcurl-gnutls.so.4" in curl["needed"]
    assert curl["soname"] is None


def test_modules_no_emulator_loads_stay_out_of_type_and_all_extras(qemu_build: QemuBuild) -> None:
    """An x86-only build ships hw-s390x-virtio-gpu-ccw, which no emulator's module table lists:
    the plan says so and leaves it out of `hw` and `all` (it keeps its own extra). accel-tcg-i386
    stays: Debian's usr/libexec/qemu-system-i386 lists it for its target."""
    r = run_qpack("plan", str(qemu_build.root), "--layout", "qemu", "--json")
    assert r.returncode == 0, r.stderr
    extras = next(p for p in json.loads(r.stdout)["packages"] if p["kind"] == "meta")["extras"]
    assert "qemu-hw-s390x-virtio-gpu-ccw" not in extras["hw"] + extras["all"]
    assert extras["hw-s390x-virtio-gpu-ccw"] == ["qemu-hw-s390x-virtio-gpu-ccw"]
    assert "qemu-hw-display-qxl" in extras["hw"] and "qemu-accel-tcg-i386" in extras["all"]
    assert "warning: module 'hw-s390x-virtio-gpu-ccw': no emulator of this build" in r.stderr
