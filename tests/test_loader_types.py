"""Loaders unlike QEMU's (issue 5b/12): types that differ in more than a word, dependency keys
as globs, and same-build checks through a private symbol version node instead of a stamp.

The version-node check is compared with the real dynamic linker: a tiny C program dlopens each
module and says whether it loaded.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from qpack.check import check, check_modules
from qpack.demo.builder import build_extra_module
from qpack.errors import LayoutError, PlanError
from qpack.layout import load_layout
from qpack.loader import Loader
from qpack.plan import make_plan

from .conftest import copy_build, have_cc

TYPED = """
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/demo"]
naming = "{type}/{name}.so"
types = ["connection-driver", "storage-backend", "lock-driver"]
[loader.by-type.connection-driver]
naming = "connection-driver/libprog_driver_{name}.so"
env = "PROG_DRIVER_DIR"
[loader.by-type.storage-backend]
naming = "storage-backend/libprog_storage_backend_{name}.so"
env = "PROG_STORAGE_BACKEND_DIR"
[[loader.search]]
relocated = "lib/prog"
[modules.dependencies]
"storage-backend-*" = ["connection-driver-storage"]
[[package]]
name = "prog-core"
rest = true
[per-module]
name = "prog-{module}"
"""


def typed_loader(tmp_path: Path) -> Loader:
    (tmp_path / "typed.toml").write_text(TYPED)
    return load_layout(tmp_path / "typed.toml").loader


def test_per_type_file_names_and_ids_without_file_prefixes(tmp_path: Path) -> None:
    naming = typed_loader(tmp_path).naming
    assert naming.parse("connection-driver/libprog_driver_qemu.so") == ("connection-driver", "qemu")
    assert naming.parse("storage-backend/libprog_storage_backend_fs.so") == ("storage-backend", "fs")
    assert naming.parse("lock-driver/sanlock.so") == ("lock-driver", "sanlock")  # the default naming
    assert naming.parse("connection-driver/qemu.so") is None  # not this type's file name
    assert naming.split_id("storage-backend-fs") == ("storage-backend", "fs")


def test_glob_dependency_keys(tmp_path: Path) -> None:
    ld = typed_loader(tmp_path)
    assert ld.deps_of("storage-backend-fs") == ("connection-driver-storage",)
    assert ld.deps_of("storage-backend-rbd") == ("connection-driver-storage",)
    assert ld.deps_of("connection-driver-qemu") == ()


def test_check_per_type_directories_and_variables(demo_build: Path, tmp_path: Path) -> None:
    prefix = copy_build(demo_build, tmp_path) / "usr"
    moddir = prefix / "lib/prog"
    build_extra_module(moddir, type="connection-driver", name="libprog_driver_storage", stamp=None)
    build_extra_module(moddir, type="storage-backend", name="libprog_storage_backend_fs", stamp=None)
    build_extra_module(moddir, type="lock-driver", name="sanlock", stamp=None)
    ld = typed_loader(tmp_path)
    rows = {m.module: m for m in check(prefix, ld).modules}
    assert set(rows) == {"connection-driver-storage", "storage-backend-fs", "lock-driver-sanlock"}
    assert all(m.loads for m in rows.values())
    # The driver missing: every backend needs it (the glob key).
    (moddir / "connection-driver/libprog_driver_storage.so").unlink()
    rows = {m.module: m for m in check(prefix, ld).modules}
    assert [p.kind for p in rows["storage-backend-fs"].problems] == ["dependency"]
    # A type's own variable replaces its directory: the driver is found there, the default
    # directory's backends still are.
    own = tmp_path / "drivers"
    build_extra_module(tmp_path, type="drivers", name="libprog_driver_storage", stamp=None)
    report = check(prefix, ld, env={"PROG_DRIVER_DIR": str(own)})
    rows = {m.module: m for m in report.modules}
    assert rows["connection-driver-storage"].file == f"{own}/libprog_driver_storage.so"
    assert rows["storage-backend-fs"].loads
    # Set to nothing, it is set (libvirt: getenv() != NULL): the type's directory is still
    # replaced, by a name the check cannot search, and said so; it was read as unset.
    (moddir / "connection-driver/libprog_driver_storage.so").symlink_to(own / "libprog_driver_storage.so")
    assert next(m for m in check(prefix, ld).modules if m.module == "connection-driver-storage").loads
    report = check(prefix, ld, env={"PROG_DRIVER_DIR": ""})
    rows = {m.module: m for m in report.modules}
    assert not rows["connection-driver-storage"].loads
    assert any(w.startswith("$PROG_DRIVER_DIR: an empty directory entry") for w in report.warnings)


def test_a_type_variable_searched_first_does_not_replace_the_search(demo_build: Path, tmp_path: Path) -> None:
    """A GraphicsMagick tester: MAGICK_CODER_MODULE_PATH is searched before the built-in
    directory, not in its place (`gm` with it empty or naming a missing directory still wrote a
    GIF); check said "1 of 90 modules load" and 89 coders `not-searched`. `replaces = false`:
    its directories first, then the search locations."""
    prefix = copy_build(demo_build, tmp_path) / "usr"
    moddir = prefix / "lib/prog"
    build_extra_module(moddir, type="connection-driver", name="libprog_driver_storage", stamp=None)
    build_extra_module(moddir, type="connection-driver", name="libprog_driver_qemu", stamp=None)
    build_extra_module(moddir, type="storage-backend", name="libprog_storage_backend_fs", stamp=None)
    own = tmp_path / "drivers"
    build_extra_module(tmp_path, type="drivers", name="libprog_driver_storage", stamp=None)
    text = TYPED.replace('env = "PROG_DRIVER_DIR"\n', 'env = "PROG_DRIVER_DIR"\nreplaces = false\n')
    assert text != TYPED
    (tmp_path / "first.toml").write_text(text)
    ld = load_layout(tmp_path / "first.toml").loader
    for env in ({"PROG_DRIVER_DIR": str(own)}, {"PROG_DRIVER_DIR": str(tmp_path / "missing")}):
        report = check(prefix, ld, env=env)
        rows = {m.module: m for m in report.modules}
        assert all(m.loads for m in rows.values()), rows
        assert rows["connection-driver-qemu"].file == f"{moddir}/connection-driver/libprog_driver_qemu.so"
        assert rows["connection-driver-storage"].file == (
            f"{own}/libprog_driver_storage.so"
            if env["PROG_DRIVER_DIR"] == str(own)
            else f"{moddir}/connection-driver/libprog_driver_storage.so"
        )
    # The default still replaces (ImageMagick 6, libvirt).
    report = check(prefix, typed_loader(tmp_path), env={"PROG_DRIVER_DIR": str(own)})
    rows = {m.module: m for m in report.modules}
    assert [p.kind for p in rows["connection-driver-qemu"].problems] == ["not-searched"]
    (tmp_path / "bad.toml").write_text(TYPED.replace('env = "PROG_DRIVER_DIR"\n', 'replaces = "no"\n'))
    with pytest.raises(LayoutError) as e:
        load_layout(tmp_path / "bad.toml")
    key = f"{tmp_path / 'bad.toml'}: loader.by-type.connection-driver.replaces"
    assert e.value.problems == [
        f"{key}: must be true or false, got 'no'",
        f"{key}: needs `env`: whether that variable replaces the search",
    ]


def test_plan_reads_per_type_names(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path)
    moddir = build / "usr/lib/prog"
    build_extra_module(moddir, type="storage-backend", name="libprog_storage_backend_fs", stamp=None)
    build_extra_module(moddir, type="connection-driver", name="libprog_driver_storage", stamp=None)
    (tmp_path / "typed.toml").write_text(TYPED)
    lay = load_layout(tmp_path / "typed.toml")
    plan = make_plan(lay.loader.scan(build), lay)
    names = {p.name for p in plan.packages}
    assert {"prog-storage-backend-fs", "prog-connection-driver-storage"} <= names
    assert "prog-connection-driver-storage" in plan.package("prog-storage-backend-fs").requires
    assert not [w for w in plan.warnings if "names no file" in w], plan.warnings
    # A type's own naming that names nothing, beside modules of other types, is said (a JACK
    # tester's "jak_{name}.so" sent his drivers to another type in silence).
    (tmp_path / "typo.toml").write_text(TYPED.replace("libprog_driver_{name}", "libprog_drivr_{name}"))
    typo = load_layout(tmp_path / "typo.toml")
    with pytest.raises(PlanError) as failed:  # its storage driver is no module now
        make_plan(typo.loader.scan(build), typo)
    warnings = failed.value.warnings
    assert [w for w in warnings if "names no file" in w] == [
        "[loader.by-type.connection-driver] naming 'connection-driver/libprog_drivr_{name}.so' names no "
        "file of the build, which holds modules of other types: is it mistyped?"
    ], warnings
    # So [loader] naming, where only types of their own naming have modules (a GNUnet tester's
    # "libgnunet_plugins_{type}_{name}.so": 49 plug-ins went to the core).
    moddir.joinpath("lock-driver").mkdir()
    build_extra_module(moddir, type="lock-driver", name="flock", stamp=None)
    (tmp_path / "top.toml").write_text(
        TYPED.replace('naming = "{type}/{name}.so"', 'naming = "{type}/x{name}.so"')
    )
    top = load_layout(tmp_path / "top.toml")
    said = [w for w in make_plan(top.loader.scan(build), top).warnings if "names no file" in w]
    assert said == [
        "[loader] naming '{type}/x{name}.so' names no file of the build, which holds modules of types with "
        "a naming of their own (connection-driver, storage-backend): is it mistyped?"
    ], said
    plan = make_plan(lay.loader.scan(build), lay)
    assert "lock-driver-flock" in {m.id for m in plan.modules}
    assert not [w for w in plan.warnings if "names no file" in w], plan.warnings


# --------------------------------------------------------------------------- version nodes

LIB_C = "int prog_private_call(void) { return %d; }\n"
MAP = "PROG_PRIVATE_%s { global: prog_private_call; local: *; };\n"
MOD_C = "int prog_private_call(void);\nint prog_module_init(void) { return prog_private_call(); }\n"
PROG_C = textwrap.dedent(
    r"""
    #include <dlfcn.h>
    #include <stdio.h>
    int prog_private_call(void);
    int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++)
            printf("%s %s\n", argv[i], dlopen(argv[i], RTLD_NOW) ? "loaded" : "refused");
        return prog_private_call() == 1 ? 0 : 3;
    }
    """
)


def gcc(*args: str) -> None:
    subprocess.run(["gcc", *args], check=True, capture_output=True)


def build_versioned(root: Path, tmp: Path) -> None:
    """root/usr: bin/prog linking lib/libprog.so.1 (node PROG_PRIVATE_1.0), and modules in
    lib/prog: same.so built against it, other.so against another build (PROG_PRIVATE_2.0)."""
    pre = root / "usr"
    for d in ("bin", "lib/prog", "other"):
        (pre / d).mkdir(parents=True, exist_ok=True)
    for v, where in (("1.0", pre / "lib"), ("2.0", pre / "other")):
        (tmp / f"lib{v}.c").write_text(LIB_C % 1)
        (tmp / f"map{v}").write_text(MAP % v)
        gcc("-shared", "-fPIC", f"-Wl,--version-script={tmp / f'map{v}'}", "-Wl,-soname,libprog.so.1",
            "-o", str(where / "libprog.so.1"), str(tmp / f"lib{v}.c"))  # fmt: skip
    (tmp / "prog.c").write_text(PROG_C)
    gcc("-o", str(pre / "bin/prog"), str(tmp / "prog.c"), f"-L{pre / 'lib'}", "-l:libprog.so.1",
        "-Wl,-rpath,$ORIGIN/../lib", "-ldl")  # fmt: skip
    (tmp / "mod.c").write_text(MOD_C)
    for name, libdir in (("same", pre / "lib"), ("other", pre / "other")):
        gcc("-shared", "-fPIC", "-o", str(pre / "lib/prog" / f"{name}.so"), str(tmp / "mod.c"),
            f"-L{libdir}", "-l:libprog.so.1")  # fmt: skip
    shutil.rmtree(pre / "other")


VERSIONED = """
[loader]
prefix = "/usr"
executables = ["{prefix}/bin/prog"]
naming = "{name}.so"
[loader.stamp]
version = "PROG_PRIVATE_*"
[[loader.search]]
relocated = "lib/prog"
[[package]]
name = "core"
rest = true
"""


@pytest.mark.skipif(not have_cc(), reason="no C compiler (cc/gcc) on this machine")
def test_version_node_stamp_agrees_with_the_dynamic_linker(tmp_path: Path) -> None:
    root = tmp_path / "root"
    build_versioned(root, tmp_path)
    pre = root / "usr"
    r = subprocess.run(
        [str(pre / "bin/prog"), str(pre / "lib/prog/same.so"), str(pre / "lib/prog/other.so")],
        capture_output=True,
        text=True,
        check=True,
        env={},
    )
    real = dict(line.rsplit(" ", 1) for line in r.stdout.splitlines())
    assert real == {str(pre / "lib/prog/same.so"): "loaded", str(pre / "lib/prog/other.so"): "refused"}
    (tmp_path / "v.toml").write_text(VERSIONED)
    report = check(pre, load_layout(tmp_path / "v.toml").loader)
    rows = {m.module: m for m in report.modules}
    assert rows["same"].loads and not rows["other"].loads
    assert [p.kind for p in rows["other"].problems] == ["other-build"]
    assert "PROG_PRIVATE_2.0" in rows["other"].problems[0].detail
    # Without the stamp, the node is still one the library must define, as ld.so refused (a Qt
    # tester's plug-in needing Qt_6.9 of a Qt 6.4 libQt6Core was said to load).
    (tmp_path / "plain.toml").write_text(
        VERSIONED.replace('[loader.stamp]\nversion = "PROG_PRIVATE_*"\n', "")
    )
    rows = {m.module: m for m in check(pre, load_layout(tmp_path / "plain.toml").loader).modules}
    assert rows["same"].loads and not rows["other"].loads
    assert [(p.kind, p.detail) for p in rows["other"].problems] == [
        (
            "missing-library",
            f"{pre}/lib/prog/other.so: needs version PROG_PRIVATE_2.0 of libprog.so.1, which "
            f"{pre}/lib/libprog.so.1 does not define: the dynamic linker refuses it (built against a "
            "newer release of that library)",
        )
    ]
    # The same from the check after an install (which reads only what it needs).
    ld = load_layout(tmp_path / "plain.toml").loader
    rows = {m.module: m for m in check_modules(str(pre), ld, ["same", "other"]).modules}
    assert rows["same"].loads and not rows["other"].loads
    assert [p.kind for p in rows["other"].problems] == ["missing-library"]


@pytest.mark.skipif(not have_cc(), reason="no C compiler (cc/gcc) on this machine")
def test_a_version_stamp_matching_nothing_or_one_module_apart_is_said(tmp_path: Path) -> None:
    """A Samba tester's `version = "SABMA_4*"`: no module needs a node it matches, and the
    same-build check was off in silence ("64 of 64 modules load", exit 0; plan exit 0); a module
    needing a stamp version no other module needs (fruit.so of 4.17.99 beside 63 of 4.17.12) was
    split without a word; and `SAMBA_*_DEBIAN_SAMBA4`, a glob with `*` inside, was refused."""
    from qpack.check import CheckError
    from qpack.fit import fit_findings

    root = tmp_path / "root"
    build_versioned(root, tmp_path)
    pre = root / "usr"
    shutil.copy(pre / "lib/prog/same.so", pre / "lib/prog/same2.so")
    (tmp_path / "v.toml").write_text(VERSIONED)
    lay = load_layout(tmp_path / "v.toml")
    plan = make_plan(lay.loader.scan(root), lay, unclaimed="core")
    assert [w for w in plan.warnings if "another build" in w] == [
        "usr/lib/prog/other.so: needs symbol version PROG_PRIVATE_2.0, which no other module needs, "
        "where 2 modules need PROG_PRIVATE_1.0 ([loader.stamp] version): a module from another build? "
        "The loader refuses it"
    ]
    said = (
        "[loader.stamp] version 'PROG_PRIVTE_*' matches no symbol version the 3 modules read need "
        "(they need PROG_PRIVATE_1.0, PROG_PRIVATE_2.0): is it mistyped, or the layout wrong for this "
        "program?"
    )
    (tmp_path / "typo.toml").write_text(VERSIONED.replace("PROG_PRIVATE_*", "PROG_PRIVTE_*"))
    typo = load_layout(tmp_path / "typo.toml")
    assert said in fit_findings(typo.loader.scan(root), typo.loader)[0]
    with pytest.raises(CheckError) as e:
        check(pre, typo.loader)
    assert str(e.value) == said
    # `*` inside the glob: the same verdicts as with it at the end.
    (tmp_path / "inner.toml").write_text(VERSIONED.replace("PROG_PRIVATE_*", "PROG_*_?.0"))
    rows = {m.module: m for m in check(pre, load_layout(tmp_path / "inner.toml").loader).modules}
    assert rows["same"].loads and rows["same2"].loads
    assert [p.kind for p in rows["other"].problems] == ["other-build"]
    (tmp_path / "bad.toml").write_text(VERSIONED.replace("PROG_PRIVATE_*", "PROG PRIVATE"))
    with pytest.raises(LayoutError, match=r"bad version node glob 'PROG PRIVATE': letters, digits"):
        load_layout(tmp_path / "bad.toml")
