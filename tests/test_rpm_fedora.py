"""qemu-fedora against Fedora's own file lists: the %files sections of Fedora's qemu.spec
(2:8.0.0-2, Fedora dist-git as mirrored in github.com/fedora-riscv/qemu at commit 589d3530, the
nearest version to 7.2 that could be had here), read for x86_64 with Fedora's conditionals and
written out below package by package, macros expanded. Debian's bookworm build of QEMU 7.2,
staged with Fedora's directories, is split with qemu-fedora; every file the spec names must land
in the package whose %files names it; then rpmbuild takes every list."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from .conftest import QemuBuild, run_qpack
from .test_rpm_lists import check_rpms, rpmbuild

pytestmark = pytest.mark.qemu

_B, _S, _M, _L, _X = "usr/bin", "usr/share/qemu", "usr/share/man", "usr/lib64/qemu", "usr/libexec"
_T = "usr/share/systemtap/tapset"

# package -> the paths its %files names (RPM globs: * stays within a segment; a trailing / names
# a directory and everything in it).
FEDORA_FILES: dict[str, list[str]] = {
    "qemu-img": [
        f"{_B}/qemu-img", f"{_B}/qemu-io", f"{_B}/qemu-nbd", f"{_B}/qemu-storage-daemon",
        f"{_M}/man1/qemu-img.1*", f"{_M}/man8/qemu-nbd.8*", f"{_M}/man1/qemu-storage-daemon.1*",
        f"{_M}/man7/qemu-storage-daemon-qmp-ref.7*",
    ],
    "qemu-pr-helper": [
        f"{_B}/qemu-pr-helper", "usr/lib/systemd/system/qemu-pr-helper.service",
        "usr/lib/systemd/system/qemu-pr-helper.socket", f"{_M}/man8/qemu-pr-helper.8*",
    ],
    "qemu-tools": [
        f"{_B}/qemu-keymap", f"{_B}/qemu-edid", f"{_B}/qemu-trace-stap", f"{_S}/simpletrace.py*",
        f"{_S}/tracetool/*.py*", f"{_S}/tracetool/backend/*.py*", f"{_S}/tracetool/format/*.py*",
        f"{_S}/dump-guest-memory.py*", f"{_S}/trace-events-all", f"{_M}/man1/qemu-trace-stap.1*",
        f"{_B}/elf2dmp",
    ],
    "qemu-docs": ["usr/share/doc/qemu/"],
    "qemu-common": [
        "usr/share/icons/*", f"{_S}/keymaps/", f"{_S}/linuxboot_dma.bin", f"{_X}/qemu-bridge-helper",
        f"{_M}/man1/qemu.1*", f"{_M}/man7/qemu-block-drivers.7*", f"{_M}/man7/qemu-cpu-models.7*",
        f"{_M}/man7/qemu-ga-ref.7*", f"{_M}/man7/qemu-qmp-ref.7*", "etc/qemu/bridge.conf",
        "etc/modprobe.d/kvm.conf", "etc/modprobe.d/vhost.conf", "etc/sasl2/qemu.conf",
        "usr/share/applications/qemu.desktop", f"{_X}/virtfs-proxy-helper",
        f"{_M}/man1/virtfs-proxy-helper.1*", "usr/share/locale/*/LC_MESSAGES/qemu.mo",
    ],
    "qemu-tests": [f"{_L}/accel-qtest-*.so"],
    "qemu-device-display-vhost-user-gpu": [f"{_S}/vhost-user/50-qemu-gpu.json", f"{_X}/vhost-user-gpu"],
    "qemu-block-dmg": [f"{_L}/block-dmg-bz2.so"],
    "qemu-system-alpha-core": [f"{_B}/qemu-system-alpha", f"{_T}/qemu-system-alpha*.stp",
                               f"{_M}/man1/qemu-system-alpha.1*", f"{_S}/palcode-clipper"],
    "qemu-system-arm-core": [f"{_B}/qemu-system-arm", f"{_S}/npcm7xx_bootrom.bin",
                             f"{_T}/qemu-system-arm*.stp", f"{_M}/man1/qemu-system-arm.1*"],
    "qemu-system-hppa-core": [f"{_B}/qemu-system-hppa", f"{_T}/qemu-system-hppa*.stp",
                              f"{_M}/man1/qemu-system-hppa.1*", f"{_S}/hppa-firmware.img"],
    "qemu-system-microblaze-core": [
        f"{_B}/qemu-system-microblaze", f"{_B}/qemu-system-microblazeel",
        f"{_T}/qemu-system-microblaze*.stp", f"{_M}/man1/qemu-system-microblaze.1*",
        f"{_M}/man1/qemu-system-microblazeel.1*", f"{_S}/petalogix*.dtb",
    ],
    "qemu-system-ppc-core": [
        f"{_B}/qemu-system-ppc", f"{_B}/qemu-system-ppc64", f"{_T}/qemu-system-ppc*.stp",
        f"{_M}/man1/qemu-system-ppc.1*", f"{_M}/man1/qemu-system-ppc64.1*", f"{_S}/bamboo.dtb",
        f"{_S}/canyonlands.dtb", f"{_S}/qemu_vga.ndrv", f"{_S}/skiboot.lid", f"{_S}/u-boot.e500",
        f"{_S}/u-boot-sam460-20100605.bin", f"{_S}/vof*.bin",
    ],
    "qemu-system-riscv-core": [f"{_B}/qemu-system-riscv32", f"{_B}/qemu-system-riscv64",
                               f"{_S}/opensbi-riscv*.bin", f"{_T}/qemu-system-riscv*.stp",
                               f"{_M}/man1/qemu-system-riscv*.1*"],
    "qemu-system-s390x-core": [f"{_B}/qemu-system-s390x", f"{_T}/qemu-system-s390x*.stp",
                               f"{_M}/man1/qemu-system-s390x.1*", f"{_S}/s390-ccw.img",
                               f"{_S}/s390-netboot.img"],
    "qemu-system-sparc-core": [
        f"{_B}/qemu-system-sparc", f"{_B}/qemu-system-sparc64", f"{_T}/qemu-system-sparc*.stp",
        f"{_M}/man1/qemu-system-sparc.1*", f"{_M}/man1/qemu-system-sparc64.1*", f"{_S}/QEMU,tcx.bin",
        f"{_S}/QEMU,cgthree.bin",
    ],
    "qemu-system-x86-core": [
        f"{_B}/qemu-system-i386", f"{_B}/qemu-system-x86_64", f"{_L}/accel-tcg-i386.so",
        f"{_L}/accel-tcg-x86_64.so", f"{_T}/qemu-system-i386*.stp", f"{_T}/qemu-system-x86_64*.stp",
        f"{_M}/man1/qemu-system-i386.1*", f"{_M}/man1/qemu-system-x86_64.1*", f"{_S}/kvmvapic.bin",
        f"{_S}/linuxboot.bin", f"{_S}/multiboot.bin", f"{_S}/multiboot_dma.bin", f"{_S}/pvh.bin",
        f"{_S}/qboot.rom", f"{_B}/qemu-kvm", f"{_M}/man1/qemu-kvm.1*",
    ],
}  # fmt: skip

# One package per module, each %files naming {_libdir}/qemu/<file>.so (have_spice, have_virgl,
# have_jack, have_dbus_display, have_libblkio, have_block_rbd/gluster/nfs, have_libcacard on).
FEDORA_MODULES = {
    "block-blkio": "block-blkio", "block-curl": "block-curl", "block-iscsi": "block-iscsi",
    "block-rbd": "block-rbd", "block-ssh": "block-ssh", "ui-opengl": "ui-opengl",
    "block-gluster": "block-gluster", "block-nfs": "block-nfs", "audio-alsa": "audio-alsa",
    "audio-dbus": "audio-dbus", "audio-oss": "audio-oss", "audio-pa": "audio-pa", "audio-sdl": "audio-sdl",
    "audio-jack": "audio-jack", "ui-curses": "ui-curses", "ui-dbus": "ui-dbus", "ui-gtk": "ui-gtk",
    "ui-sdl": "ui-sdl", "ui-egl-headless": "ui-egl-headless", "char-baum": "chardev-baum",
    "device-display-virtio-gpu": "hw-display-virtio-gpu",
    "device-display-virtio-gpu-gl": "hw-display-virtio-gpu-gl",
    "device-display-virtio-gpu-pci": "hw-display-virtio-gpu-pci",
    "device-display-virtio-gpu-pci-gl": "hw-display-virtio-gpu-pci-gl",
    "device-display-virtio-gpu-ccw": "hw-s390x-virtio-gpu-ccw",
    "device-display-virtio-vga": "hw-display-virtio-vga",
    "device-display-virtio-vga-gl": "hw-display-virtio-vga-gl", "device-usb-host": "hw-usb-host",
    "device-usb-redirect": "hw-usb-redirect", "device-usb-smartcard": "hw-usb-smartcard",
    "audio-spice": "audio-spice", "char-spice": "chardev-spice", "device-display-qxl": "hw-display-qxl",
    "ui-spice-core": "ui-spice-core", "ui-spice-app": "ui-spice-app",
}  # fmt: skip
for _pkg, _mod in FEDORA_MODULES.items():
    FEDORA_FILES[f"qemu-{_pkg}"] = [f"{_L}/{_mod}.so"]


def _rpm_glob(pattern: str) -> re.Pattern[str]:
    return re.compile("[^/]*".join(re.escape(part) for part in pattern.rstrip("/").split("*")))


def fedora_package(path: str) -> str | None:
    """The package whose %files names `path` or a directory above it (RPM takes a directory's
    whole contents), or None."""
    parts = path.split("/")
    names = ["/".join(parts[:i]) for i in range(len(parts), 0, -1)]
    hits = {
        pkg
        for pkg, pats in FEDORA_FILES.items()
        for p in pats
        if any(_rpm_glob(p).fullmatch(n) for n in names)
    }
    assert len(hits) <= 1, (path, hits)
    return next(iter(hits), None)


@pytest.fixture(scope="module")
def fedora_staged(qemu_build: QemuBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Debian's build as Fedora's would be staged (hard links, nothing copied): modules in
    usr/lib64/qemu (--libdir=lib64), helpers in usr/libexec (--libexecdir=libexec)."""
    if not re.match(r"(\d+:)?7\.2[+.~-]", qemu_build.version):
        pytest.skip(f"the downloaded QEMU is {qemu_build.version}, not bookworm's 7.2")
    root = tmp_path_factory.mktemp("fedora-staged") / "build"
    shutil.copytree(qemu_build.root, root, symlinks=True, copy_function=os.link)
    (root / "usr/lib64").mkdir()
    (root / "usr/lib/x86_64-linux-gnu/qemu").rename(root / "usr/lib64/qemu")
    (root / "usr/lib/x86_64-linux-gnu").rmdir()
    for helper in (root / "usr/lib/qemu").iterdir():
        helper.rename(root / "usr/libexec" / helper.name)
    (root / "usr/lib/qemu").rmdir()
    return root


def test_every_file_fedoras_spec_names_is_in_fedoras_package(fedora_staged: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_qpack(
        "split", str(fedora_staged), "-l", "qemu-fedora", "--version", "2:7.2.0-7.fc38",
        "--format", "tree", "-o", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    ours = {f["path"]: p["name"] for p in manifest["packages"] for f in p["files"]}
    checked = {path: want for path in ours if (want := fedora_package(path)) is not None}
    wrong = {path: (ours[path], want) for path, want in checked.items() if ours[path] != want}
    assert not wrong, wrong
    # The figures the layout's header quotes: how much of the build the spec names.
    assert len(checked) == 124, len(checked)
    assert len({*checked.values()}) == 47
    # The rest is Debian's own (docs, kvm, the microvm emulator, openbios, slof, ...).
    rest = {p for path, p in ours.items() if path not in checked}
    assert rest == {"qemu-common", "qemu-system-x86-core", "qemu-img", "qemu-audio-sndio"}, rest

    if shutil.which("rpmbuild"):
        built, rb = rpmbuild(out, fedora_staged, tmp_path)
        assert rb.returncode == 0, rb.stderr[-3000:]
        check_rpms(out, built)
