"""The distro layouts: Fedora's per-module names and requirements, trixie's two extra module
packages, and the `pins` key that Debian's loose pin on its arch:all data package needed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from qpack import layout as layout_mod
from qpack.errors import LayoutError

from .conftest import QemuBuild, run_qpack

DEBIAN_MODDIR = "usr/lib/x86_64-linux-gnu/qemu"
FEDORA_MODDIR = "usr/lib64/qemu"

# module_dep, as the facts document has it (QEMU built with OpenGL).
MODULE_DEPS = {
    "audio-dbus": ["ui-dbus"],
    "audio-spice": ["ui-spice-core"],
    "chardev-spice": ["ui-spice-core"],
    "hw-display-qxl": ["ui-spice-core"],
    "ui-spice-app": ["ui-spice-core", "chardev-spice"],
    "ui-spice-core": ["ui-opengl"],
    "ui-dbus": ["ui-opengl"],
    "ui-egl-headless": ["ui-opengl"],
    "ui-gtk": ["ui-opengl"],
    "ui-sdl": ["ui-opengl"],
    "hw-display-virtio-gpu-gl": ["hw-display-virtio-gpu", "ui-opengl"],
    "hw-display-virtio-gpu-pci-gl": ["hw-display-virtio-gpu-pci"],
    "hw-display-virtio-vga-gl": ["hw-display-virtio-vga"],
}


def fedora_name(module: str) -> str:
    """Fedora's package for a module, written out from the facts document (independent of the
    layout's renames)."""
    if module.startswith("accel-tcg-"):
        return "qemu-system-x86-core"
    if module.startswith("accel-qtest-"):
        return "qemu-tests"
    if module == "hw-s390x-virtio-gpu-ccw":
        return "qemu-device-display-virtio-gpu-ccw"
    for prefix, name in (
        ("chardev-", "qemu-char-"),
        ("hw-display-", "qemu-device-display-"),
        ("hw-usb-", "qemu-device-usb-"),
    ):
        if module.startswith(prefix):
            return name + module[len(prefix) :]
    return f"qemu-{module}"


@pytest.fixture(scope="module")
def fedora_tree(qemu_build: QemuBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Debian's build with its modules where Fedora's build installs them (usr/lib64/qemu):
    hard links, so nothing is copied."""
    root = tmp_path_factory.mktemp("fedora") / "build"
    shutil.copytree(qemu_build.root, root, symlinks=True, copy_function=os.link)
    (root / FEDORA_MODDIR).parent.mkdir(parents=True, exist_ok=True)
    (root / DEBIAN_MODDIR).rename(root / FEDORA_MODDIR)
    return root


def test_fedora_names_every_module_and_follows_module_dep(fedora_tree: Path, tmp_path: Path) -> None:
    r = run_qpack("plan", str(fedora_tree), "--layout", "qemu-fedora", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    pkgs = {p["name"]: p for p in data["packages"]}
    owner = {m: p["name"] for p in data["packages"] for m in p["modules"]}
    modules = sorted(p.name[: -len(".so")] for p in (fedora_tree / FEDORA_MODDIR).glob("*.so"))
    assert len(modules) >= 30
    wrong = {m: (owner.get(m), fedora_name(m)) for m in modules if owner.get(m) != fedora_name(m)}
    assert not wrong, wrong
    assert owner["chardev-spice"] == "qemu-char-spice"
    assert owner["hw-usb-host"] == "qemu-device-usb-host"
    assert owner["hw-display-qxl"] == "qemu-device-display-qxl"
    for m in modules:
        p = pkgs[owner[m]]
        if p["kind"] == "module":
            assert p["requires"][0] == "qemu-common", p
            needed = {fedora_name(d) for d in MODULE_DEPS.get(m, [])}
            assert set(p["requires"][1:]) == needed, (m, p["requires"])
    assert pkgs["qemu-ui-spice-app"]["requires"] == ["qemu-common", "qemu-ui-spice-core", "qemu-char-spice"]
    # Written out with exact pins.
    out = tmp_path / "out"
    r = run_qpack(
        "split",
        str(fedora_tree),
        "-l",
        "qemu-fedora",
        "--version",
        "2:7.2.0-7.fc38",
        "--format",
        "tree",
        "-o",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    man = {p["name"]: p for p in json.loads((out / "manifest.json").read_text())["packages"]}
    assert man["qemu-ui-gtk"]["requires"] == [
        {
            "package": "qemu-common",
            "relation": "=",
            "version": "2:7.2.0-7.fc38",
            "debian": "qemu-common (= 2:7.2.0-7.fc38)",
        },
        {
            "package": "qemu-ui-opengl",
            "relation": "=",
            "version": "2:7.2.0-7.fc38",
            "debian": "qemu-ui-opengl (= 2:7.2.0-7.fc38)",
        },
    ]
    assert (out / "rpm/qemu-ui-gtk.files").read_text() == "/usr/lib64/qemu/ui-gtk.so\n"


def test_fedora_layout_looks_in_lib64(qemu_build: QemuBuild) -> None:
    lay = layout_mod.load_layout("qemu-fedora")
    assert lay.loader.module_dirs("/usr") == ("usr/lib64/qemu",)
    assert lay.loader.dependencies == layout_mod.load_layout("qemu").loader.dependencies
    # Applied to Debian's tree as staged, its module dir is not Fedora's: nothing is a module,
    # which is an error naming both directories (qpack/fit.py), unless --allow-empty.
    r = run_qpack("plan", str(qemu_build.root), "--layout", "qemu-fedora", "--json")
    assert r.returncode == 2
    assert "no module under usr/lib64/qemu; the build has .so files under usr/lib/x86_64" in r.stderr
    r = run_qpack("plan", str(qemu_build.root), "--layout", "qemu-fedora", "--json", "--allow-empty")
    assert r.returncode == 0, r.stderr
    assert all(p["modules"] == [] for p in json.loads(r.stdout)["packages"])


def test_module_whose_dependency_is_in_no_package_is_an_error(tmp_path: Path) -> None:
    build = tmp_path / "build"
    (build / FEDORA_MODDIR).mkdir(parents=True)
    (build / "usr/bin").mkdir()
    (build / "usr/bin/qemu-system-x86_64").write_text("not really\n")
    (build / FEDORA_MODDIR / "ui-gtk.so").write_text("not really\n")  # no ui-opengl.so
    r = run_qpack(
        "split",
        str(build),
        "-l",
        "qemu-fedora",
        "--version",
        "1",
        "--format",
        "tree",
        "-o",
        str(tmp_path / "out"),
    )
    assert r.returncode == 2
    assert (
        "error: module 'ui-gtk' (package 'qemu-ui-gtk') needs module 'ui-opengl', "
        "which is not in this build: it would never load" in r.stderr
    )
    assert not (tmp_path / "out").exists()


def test_trixie_adds_opengl_and_spice_module_packages(qemu_build: QemuBuild) -> None:
    # Bookworm's build has files trixie's layout no longer knows (tests/test_trixie.py checks
    # trixie's own build file for file); the module packages are what this test is about.
    r = run_qpack(
        "plan", str(qemu_build.root), "--layout", "qemu-debian-trixie", "--json", "--unclaimed", "drop"
    )
    assert r.returncode == 0, r.stderr
    pkgs = {p["name"]: p for p in json.loads(r.stdout)["packages"]}
    present = {p.name[: -len(".so")] for p in (qemu_build.root / DEBIAN_MODDIR).glob("*.so")}
    opengl = {
        "ui-opengl",
        "ui-egl-headless",
        "hw-display-virtio-gpu-gl",
        "hw-display-virtio-gpu-pci-gl",
        "hw-display-virtio-vga-gl",
        "ui-dbus",
        "audio-dbus",
    }
    spice = {"audio-spice", "chardev-spice", "hw-display-qxl", "ui-spice-app", "ui-spice-core"}
    assert set(pkgs["qemu-system-modules-opengl"]["modules"]) == opengl & present
    assert set(pkgs["qemu-system-modules-spice"]["modules"]) == spice & present
    assert (
        set(pkgs["qemu-system-gui"]["modules"])
        == {"ui-gtk", "ui-sdl", "audio-jack", "audio-pa", "audio-sdl"} & present
    )
    assert not (set(pkgs["qemu-system-common"]["modules"]) & (opengl | spice))
    assert "qemu-system-modules-opengl" in pkgs["qemu-system-gui"]["requires"]
    assert "qemu-system-modules-opengl" in pkgs["qemu-system-modules-spice"]["requires"]


def test_debian_layout_on_debians_own_debs_warns_of_no_empty_exclusion(qemu_build: QemuBuild) -> None:
    """Debian's .debs no longer hold the qtest modules qemu-debian excludes (debian/rules deletes
    them): the rule says `optional = true`, so planning Debian's own build warns of nothing."""
    assert not list((qemu_build.root / DEBIAN_MODDIR).glob("accel-qtest-*"))
    r = run_qpack("plan", str(qemu_build.root), "--layout", "qemu-debian")
    assert r.returncode == 0, r.stderr
    assert "excludes nothing" not in r.stderr, r.stderr


def test_all_shipped_distro_layouts_load() -> None:
    for name in ("qemu-debian", "qemu-fedora", "qemu-debian-trixie"):
        lay = layout_mod.load_layout(name)
        assert lay.name == name
    deb = layout_mod.load_layout("qemu-debian")
    x86 = next(p for p in deb.packages if p.name == "qemu-system-x86")
    assert x86.pins == {"qemu-system-data": "upstream"}


def _layout(tmp_path: Path, package: str) -> Path:
    p = tmp_path / "l.toml"
    p.write_text(
        '[layout]\nextends = "demo"\n\n'
        '[[package]]\nname = "data"\nkind = "core"\nfiles = ["usr/share/**"]\n\n' + package
    )
    return p


def test_pins_are_validated(tmp_path: Path) -> None:
    ok = _layout(
        tmp_path,
        '[[package]]\nname = "core"\nkind = "core"\nrest = true\nrequires = ["data"]\n'
        'pins = { "data" = "upstream" }\n',
    )
    assert next(p for p in layout_mod.load_layout(ok).packages if p.name == "core").pins == {
        "data": "upstream"
    }
    bad = _layout(
        tmp_path,
        '[[package]]\nname = "core"\nkind = "core"\nrest = true\nrequires = ["data"]\n'
        'pins = { "data" = "loose", "other" = "exact" }\n',
    )
    with pytest.raises(LayoutError) as e:
        layout_mod.load_layout(bad)
    assert e.value.problems == [
        f"{bad}: package[1].pins.data: must be one of exact, upstream, none, got 'loose'",
        f"{bad}: package[1].pins.other: pins 'other', which is not in this package's requires",
    ]
    not_table = _layout(
        tmp_path, '[[package]]\nname = "core"\nkind = "core"\nrest = true\npins = "upstream"\n'
    )
    with pytest.raises(LayoutError, match=r"package\[1\]\.pins: must be a table"):
        layout_mod.load_layout(not_table)
