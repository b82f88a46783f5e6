"""The split plan on the real demo build and on small synthetic trees: every file planned
exactly once, conflicts and unclaimed files fail loudly, module dependencies become requires."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
import zipfile
from pathlib import Path

import pytest

from qpack import layout as L
from qpack.errors import PlanError
from qpack.plan import plan_build

from .conftest import compile_c, copy_build, have_cc, run_qpack

DEMO_MODULES = {"ui-curses", "ui-gtk", "ui-opengl", "block-curl", "block-nfs", "audio-alsa", "audio-pa"}


def plan_of(build: Path, layout: str | Path = "demo", **kw: str):  # type: ignore[no-untyped-def]
    return plan_build(build, layout, **kw)  # type: ignore[arg-type]


def all_paths(build: Path) -> set[str]:
    out = set()
    for p in build.rglob("*"):
        rel = p.relative_to(build).as_posix()
        if p.is_symlink() or not p.is_dir() or not any(p.iterdir()):
            out.add(rel)
    return out


def test_demo_every_file_planned_exactly_once(demo_build: Path) -> None:
    plan = plan_of(demo_build)
    claimed = [f for p in plan.packages for f in p.files] + [x.path for x in plan.excluded]
    assert len(claimed) == len(set(claimed)), "a file is in two packages"
    assert set(claimed) == all_paths(demo_build)
    assert not plan.unclaimed
    assert {m.id for m in plan.modules} == DEMO_MODULES
    core = plan.package("demo-core")
    assert "usr/bin/demo" in core.files and "usr/bin/demo-run" in core.files
    assert not any(f.startswith("usr/lib/demo/") for f in core.files)
    for m in plan.modules:
        pkg = plan.package(f"demo-{m.id}")
        assert pkg.kind == "module"
        assert pkg.files == (m.path,)
        assert pkg.modules == (m.id,)
        assert "demo-core" in pkg.requires
    assert plan.package("demo-ui-gtk").requires == ("demo-core", "demo-ui-opengl")
    assert plan.package("demo-audio-pa").requires == ("demo-core", "demo-audio-alsa")
    meta = plan.package("demo")
    extras = dict(meta.extras)
    assert extras["ui"] == ("demo-ui-curses", "demo-ui-gtk", "demo-ui-opengl")
    assert extras["block-curl"] == ("demo-block-curl",)
    assert len(extras["all"]) == 7
    assert meta.requires == ("demo-core",)


def test_demo_elf_facts(demo_build: Path) -> None:
    plan = plan_of(demo_build)
    by = plan.inventory.by_path()
    exe = by["usr/bin/demo"].elf
    assert exe is not None
    assert exe.machine.startswith("EM_")
    assert "libdemo-util.so.1" in exe.needed
    assert exe.runpath == ("$ORIGIN/../lib",)
    assert len(exe.stamps_held) == 1
    stamp = exe.stamps_held[0]
    for m in plan.modules:
        facts = by[m.path].elf
        assert facts is not None
        assert facts.stamps_exported == (stamp,), m.id
        assert facts.build_id
    assert by["usr/lib/libdemo-util.so.1"].elf.soname == "libdemo-util.so.1"  # type: ignore[union-attr]
    assert by["usr/bin/demo-run"].kind == "symlink"
    assert by["usr/bin/demo-run"].target == "demo"


def layout_file(tmp_path: Path, extra: str, base: str = "demo") -> Path:
    p = tmp_path / "lay.toml"
    p.write_text(f'[layout]\nextends = "{base}"\nname = "t"\n' + textwrap.dedent(extra))
    return p


def test_file_claimed_twice_names_file_and_both_rules(demo_build: Path, tmp_path: Path) -> None:
    lay = layout_file(
        tmp_path,
        """
        [[package]]
        name = "core"
        rest = true
        [[package]]
        name = "docs"
        files = ["{prefix}/share/doc/**"]
        [[package]]
        name = "readme"
        files = ["usr/share/doc/demo/README"]
        [per-module]
        name = "demo-{module}"
        """,
    )
    with pytest.raises(PlanError) as e:
        plan_of(demo_build, lay)
    msg = str(e.value)
    assert "usr/share/doc/demo/README: claimed twice" in msg
    assert "package[1] 'docs' (files '{prefix}/share/doc/**')" in msg
    assert "package[2] 'readme' (files 'usr/share/doc/demo/README')" in msg
    r = run_qpack("plan", str(demo_build), "--layout", str(lay))
    assert r.returncode == 2
    assert r.stderr.startswith("error: usr/share/doc/demo/README: claimed twice")
    assert "Traceback" not in r.stderr


def test_module_claimed_by_group_and_exclusion(demo_build: Path, tmp_path: Path) -> None:
    lay = layout_file(
        tmp_path,
        """
        [[package]]
        name = "core"
        rest = true
        [[package]]
        name = "ui"
        kind = "group"
        modules = ["ui-*"]
        [[exclude]]
        reason = "no curses here"
        modules = ["ui-curses"]
        [per-module]
        name = "demo-{module}"
        """,
    )
    with pytest.raises(
        PlanError,
        match=r"ui/curses.so: claimed twice: by package\[1\] 'ui' \(modules 'ui-\*'\) and by exclude\[0\]",
    ):
        plan_of(demo_build, lay)


UNCLAIMED_LAYOUT = """
[[package]]
name = "core"
files = ["{prefix}/bin/*", "{prefix}/lib/*.so.*"]
[per-module]
name = "demo-{module}"
"""


def test_unclaimed_files_error_core_drop(demo_build: Path, tmp_path: Path) -> None:
    lay = layout_file(tmp_path, UNCLAIMED_LAYOUT)
    with pytest.raises(PlanError) as e:
        plan_of(demo_build, lay)
    msg = str(e.value)
    assert "file(s) claimed by no package" in msg and "--unclaimed core|drop" in msg
    assert "usr/share/demo/banner.txt" in msg and "usr/share/doc/demo/README" in msg

    r = run_qpack("plan", str(demo_build), "--layout", str(lay), "--json")
    assert r.returncode == 2 and r.stdout == ""
    assert "usr/share/demo/banner.txt" in r.stderr

    to_core = plan_of(demo_build, lay, unclaimed="core")
    assert "usr/share/demo/banner.txt" in to_core.package("core").files
    assert not to_core.unclaimed

    dropped = plan_of(demo_build, lay, unclaimed="drop")
    assert "usr/share/demo/banner.txt" not in dropped.package("core").files
    assert "usr/share/demo/banner.txt" in dropped.unclaimed
    assert "usr/share/demo/banner.txt" in [x.path for x in dropped.excluded]
    r = run_qpack("plan", str(demo_build), "--layout", str(lay), "--json", "--unclaimed", "drop")
    assert r.returncode == 0
    assert "usr/share/demo/banner.txt" in json.loads(r.stdout)["unclaimed"]


def test_so_the_loader_never_looks_up_is_reported(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path)
    (build / "usr/lib/demo/ui/gtk.so").rename(build / "usr/lib/demo/ui/libgtk.so")
    (build / "usr/lib/demo/net").mkdir()
    (build / "usr/lib/demo/net/tap.so").write_bytes(b"")
    plan = plan_of(build)
    text = "\n".join(plan.warnings)
    assert "usr/lib/demo/ui/libgtk.so: in a module directory, but the loader never looks up this name" in text
    assert "usr/lib/demo/net/tap.so: in a module directory, but the loader never looks up" in text
    assert "ui-gtk" not in {m.id for m in plan.modules}
    r = run_qpack("plan", str(build), "--layout", "demo")
    assert r.returncode == 0
    assert "never looks up" in r.stderr


def test_missing_dependency_is_an_error(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path)
    (build / "usr/lib/demo/ui/opengl.so").unlink()
    with pytest.raises(
        PlanError,
        match=re.escape(
            "module 'ui-gtk' (package 'demo-ui-gtk') needs module 'ui-opengl', which is not in this build"
        ),
    ):
        plan_of(build)


def test_excluded_dependency_is_an_error(demo_build: Path, tmp_path: Path) -> None:
    lay = layout_file(
        tmp_path,
        """
        [[package]]
        name = "core"
        rest = true
        [[exclude]]
        reason = "no GL"
        modules = ["ui-opengl"]
        [per-module]
        name = "demo-{module}"
        """,
    )
    with pytest.raises(PlanError, match="needs module 'ui-opengl', which is excluded"):
        plan_of(demo_build, lay)


def test_groups_renames_and_explain(demo_build: Path, tmp_path: Path) -> None:
    lay = layout_file(
        tmp_path,
        """
        [[package]]
        name = "demo-core"
        rest = true
        [[package]]
        name = "demo-gui"
        kind = "group"
        modules = ["ui-gtk", "ui-opengl"]
        [[package]]
        name = "demo-rest"
        kind = "group"
        rest = true
        [[exclude]]
        reason = "test only"
        files = ["{prefix}/share/doc/**"]
        [meta]
        name = "demo-all"
        """,
    )
    plan = plan_of(demo_build, lay)
    assert plan.package("demo-gui").modules == ("ui-gtk", "ui-opengl")
    assert set(plan.package("demo-rest").modules) == DEMO_MODULES - {"ui-gtk", "ui-opengl"}
    assert [x.path for x in plan.excluded] == ["usr/share/doc/demo/README"]
    r = run_qpack("plan", str(demo_build), "--layout", str(lay), "--explain", "--json")
    assert r.returncode == 0, r.stderr
    rules = {c["path"]: c["rule"] for c in json.loads(r.stdout)["claims"]}
    assert rules["usr/lib/demo/ui/gtk.so"] == "package[1] 'demo-gui': modules 'ui-gtk'"
    assert rules["usr/share/doc/demo/README"].startswith("exclude[0] (test only): files")
    assert rules["usr/bin/demo"] == "package 'demo-core': rest (other files)"

    renamed = layout_file(
        tmp_path,
        """
        [[package]]
        name = "demo-core"
        rest = true
        [per-module]
        name = "demo-{type}-{name}"
        [per-module.renames]
        "audio-*" = "demo-sound-{*}"
        "ui-gtk" = "demo-gtk"
        """,
    )
    names = {p.name for p in plan_of(demo_build, renamed).packages}
    assert {"demo-sound-alsa", "demo-sound-pa", "demo-gtk", "demo-ui-opengl", "demo-block-curl"} <= names


def test_module_installed_twice(demo_build: Path, tmp_path: Path) -> None:
    lay = tmp_path / "two.toml"
    lay.write_text(
        (L.SHIPPED_DIR / "demo.toml")
        .read_text()
        .replace(
            'relocated = "lib/demo"', 'relocated = "lib/demo"\n[[loader.search]]\nrelocated = "lib/demo2"'
        )
    )
    build = copy_build(demo_build, tmp_path)
    (build / "usr/lib/demo2/ui").mkdir(parents=True)
    shutil.copy(build / "usr/lib/demo/ui/gtk.so", build / "usr/lib/demo2/ui/gtk.so")
    with pytest.raises(
        PlanError, match=r"module 'ui-gtk' is installed twice: .* \(the loader loads only the first"
    ):
        plan_of(build, lay)
    # A loader registering every file reads both (binutils' and Yate's testers).
    lay.write_text(lay.read_text().replace("[loader]\n", '[loader]\nresolution = "register-all"\n', 1))
    with pytest.raises(
        PlanError, match=r"installed twice: .* \(the loader reads every one, one module twice\)"
    ):
        plan_of(build, lay)
    # A link to nothing is no copy (an OCaml tester's dangling dllzarith.so before the real one:
    # "installed twice", where check passes over it); said as a link to nothing.
    (build / "usr/lib/demo2/ui/gtk.so").unlink()
    (build / "usr/lib/demo2/ui/gtk.so").symlink_to("nowhere.so")
    plan = plan_of(build, lay)
    assert [w for w in plan.warnings if "demo2/ui/gtk.so" in w] == [
        "usr/lib/demo2/ui/gtk.so: module is a symlink to 'nowhere.so', which is not in the build; the loader "
        "cannot load it from this build (and a wheel cannot hold it: a wheel split fails)"
    ], plan.warnings


def test_directory_ownership(demo_build: Path) -> None:
    plan = plan_of(demo_build)
    core = plan.package("demo-core")
    # module dirs hold files of many packages; all of them require demo-core, so it owns them
    assert {"usr/lib/demo", "usr/lib/demo/ui", "usr/share/demo", "usr/share/doc/demo"} <= set(core.dirs)
    # base-system directories are never a package's
    owned = [d for p in plan.packages for d in p.dirs]
    assert not {"usr", "usr/bin", "usr/lib", "usr/share", "usr/share/doc"} & set(owned)
    assert len(owned) == len(set(owned))


def test_shared_directory_without_common_requirement_is_owned_by_each(
    demo_build: Path, tmp_path: Path
) -> None:
    lay = layout_file(
        tmp_path,
        """
        [[package]]
        name = "a"
        files = ["{prefix}/share/demo/banner.txt"]
        [[package]]
        name = "b"
        rest = true
        [per-module]
        name = "demo-{module}"
        requires = ["b"]
        """,
    )
    build = copy_build(demo_build, tmp_path)
    (build / "usr/share/demo/extra.txt").write_text("b's")
    plan = plan_of(build, lay)
    assert plan.package("a").files == ("usr/share/demo/banner.txt",)
    assert "usr/share/demo/extra.txt" in plan.package("b").files
    # Neither a nor b requires the other: both own it (RPM lets unrelated packages co-own one).
    assert [p.name for p in plan.packages if "usr/share/demo" in p.dirs] == ["a", "b"]
    assert "usr/lib/demo" in plan.package("b").dirs


def test_the_code_behind_a_module_symlink_goes_with_the_module(demo_build: Path, tmp_path: Path) -> None:
    """ui/gtk.so -> gtk.so.1: the loader opens gtk.so and gets gtk.so.1's code, so gtk.so.1
    belongs to demo-ui-gtk. It went to demo-core (the rest), shipping the optional module's code
    in the core and leaving demo-ui-gtk a dangling link."""
    build = copy_build(demo_build, tmp_path)
    ui = build / "usr/lib/demo/ui"
    (ui / "gtk.so").rename(ui / "gtk.so.1")
    (ui / "gtk.so").symlink_to("gtk.so.1")
    plan = plan_build(build, "demo")
    assert set(plan.package("demo-ui-gtk").files) == {"usr/lib/demo/ui/gtk.so", "usr/lib/demo/ui/gtk.so.1"}
    assert "usr/lib/demo/ui/gtk.so.1" not in plan.package("demo-core").files
    r = run_qpack("plan", str(build), "-l", "demo", "--explain", "--files")
    assert r.returncode == 0, r.stderr
    assert "the code of module ui-gtk (usr/lib/demo/ui/gtk.so links to it)" in r.stdout
    assert not [w for w in plan.warnings if "unreadable" in w]
    # Its code cut short is the module unreadable, as the module's own file would be (an mpv
    # tester's etc/mpv/scripts/mpris.so -> usr/lib/mpv-mpris/mpris.so: no word).
    code = (ui / "gtk.so.1").read_bytes()
    (ui / "gtk.so.1").write_bytes(code[:5000])
    assert [w.partition(":")[0] for w in plan_build(build, "demo").warnings if "module unreadable" in w] == [
        "usr/lib/demo/ui/gtk.so"
    ]
    (ui / "gtk.so.1").write_bytes(code)

    # A rule of its own still claims it.
    lay = L.load_layout("demo")
    text = (
        Path(lay.path).read_text() + '\n[[package]]\nname = "gtk-lib"\nfiles = ["usr/lib/demo/ui/gtk.so.1"]\n'
    )
    own = tmp_path / "own.toml"
    own.write_text(text)
    plan = plan_build(build, L.load_layout(own))
    assert plan.package("gtk-lib").files == ("usr/lib/demo/ui/gtk.so.1",)
    assert plan.package("demo-ui-gtk").files == ("usr/lib/demo/ui/gtk.so",)


def test_the_code_two_module_links_reach_goes_to_the_one_linking_it_straight(
    demo_build: Path, tmp_path: Path
) -> None:
    """glvnd's libGLX_indirect.so.0 -> libGLX_mesa.so.0 -> libGLX_mesa.so.0.0.0: the code went
    to glx-indirect, first by name, and glx-mesa's package required glx-indirect's. The module
    linking the code straight owns it; the other is a link to that module."""
    build = copy_build(demo_build, tmp_path)
    ui = build / "usr/lib/demo/ui"
    (ui / "gtk.so").rename(ui / "gtk.so.1")
    (ui / "gtk.so").symlink_to("gtk.so.1")
    (ui / "agtk.so").symlink_to("gtk.so")
    text = Path(L.load_layout("demo").path).read_text()
    layout = tmp_path / "any-name.toml"  # modules of any name: no `known` list
    layout.write_text("\n".join(line for line in text.splitlines() if not line.startswith("known = ")))
    plan = plan_build(build, L.load_layout(layout), unclaimed="core")
    assert set(plan.package("demo-ui-gtk").files) == {"usr/lib/demo/ui/gtk.so", "usr/lib/demo/ui/gtk.so.1"}
    assert plan.package("demo-ui-agtk").files == ("usr/lib/demo/ui/agtk.so",)
    assert "demo-ui-gtk" in plan.package("demo-ui-agtk").requires


def test_the_other_names_of_a_modules_code_go_with_it(demo_build: Path, tmp_path: Path) -> None:
    """SASL's plugins are libraries: libplain.so -> libplain.so.2.0.25, and the SONAME link
    libplain.so.2 -> libplain.so.2.0.25 beside them. The SONAME link went to the core (the
    rest), dangling there without the module, and both names were warned about as names the
    loader never looks up."""
    build = copy_build(demo_build, tmp_path)
    ui = build / "usr/lib/demo/ui"
    (ui / "gtk.so").rename(ui / "gtk.so.1.0")
    (ui / "gtk.so").symlink_to("gtk.so.1.0")
    (ui / "gtk.so.1").symlink_to("gtk.so.1.0")
    plan = plan_build(build, "demo")
    assert set(plan.package("demo-ui-gtk").files) == {
        f"usr/lib/demo/ui/gtk.so{v}" for v in ("", ".1", ".1.0")
    }
    assert not [w for w in plan.warnings if "never looks up" in w], plan.warnings
    r = run_qpack("plan", str(build), "-l", "demo", "--explain", "--files")
    assert "usr/lib/demo/ui/gtk.so.1\tdemo-ui-gtk\tanother name of module ui-gtk's code" in r.stdout


def test_a_module_linking_to_another_modules_file_requires_its_package(
    demo_build: Path, tmp_path: Path
) -> None:
    """ALSA's libasound_module_rate_lavrate_fast.so -> libasound_module_rate_lavrate.so: each a
    module of its own, so each a package; installed alone, the first was a dangling link."""
    build = copy_build(demo_build, tmp_path)
    block = build / "usr/lib/demo/block"
    (block / "nfs.so").unlink()
    (block / "nfs.so").symlink_to("curl.so")
    plan = plan_build(build, "demo")
    assert plan.package("demo-block-nfs").files == ("usr/lib/demo/block/nfs.so",)
    assert "demo-block-curl" in plan.package("demo-block-nfs").requires
    assert "demo-block-nfs" not in plan.package("demo-block-curl").requires
    # A wheel holds no link: the module's wheel holds the bytes it leads to, where the loader
    # looks (CUPS's backend/http -> ipp; the split stopped at "no files a wheel can hold").
    (build / "etc").mkdir()
    (build / "etc/demo.conf").write_text("x\n")
    r = run_qpack("split", str(build), "-l", "demo", "--version", "1.0", "--format", "wheel",
                  "--unclaimed", "core", "--drop-outside-prefix", "-o", str(tmp_path / "dist"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    (wheel,) = (tmp_path / "dist").glob("demo_block_nfs-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith("nfs.so")]
        assert zf.read(name) == (block / "curl.so").read_bytes()


def test_a_module_for_another_machine_than_the_loader_library_is_named(
    demo_build: Path, tmp_path: Path
) -> None:
    """A framework names its loader library, no program: the machine to hold modules to is the
    library's (read through its SONAME link). Only the wheel writer noticed an i386 plugin."""
    from qpack.demo.builder import build_extra_module, compute_stamp, m32_supported

    if not m32_supported():
        pytest.skip("this compiler cannot build 32-bit x86 code (no gcc-multilib)")
    build = copy_build(demo_build, tmp_path)
    lib = build / "usr/lib"
    (lib / "libdemo-util.so.1").rename(lib / "libdemo-util.so.1.0")
    (lib / "libdemo-util.so.1").symlink_to("libdemo-util.so.1.0")
    build_extra_module(
        build / "usr/lib/demo", type="ui", name="curses", stamp=compute_stamp("/usr", "1"), m32=True
    )
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    layout = tmp_path / "lib.toml"
    layout.write_text(
        text.replace('executables = ["{prefix}/bin/demo"]', 'library = "{prefix}/lib/libdemo-util.so.1"')
    )
    plan = plan_build(build, L.load_layout(layout))
    assert (
        "usr/lib/demo/ui/curses.so: module is built for EM_386 (32-bit), the loader's executables for "
        "EM_X86_64 (64-bit); the loader cannot load it" in plan.warnings
    )


def test_a_file_exporting_the_stamp_outside_the_module_directories_is_named(
    demo_build: Path, tmp_path: Path
) -> None:
    """A Zathura tester's plug-in at Arch's usr/lib/zathura, exporting zathura_plugin_4_5, went
    into the core package without a word (with `entry` naming that symbol it was said): a build
    stamp marks a module as an entry does."""
    import shutil

    build = copy_build(demo_build, tmp_path)
    shutil.copy2(build / "usr/lib/demo/ui/curses.so", build / "usr/lib/curses-old.so")
    plan = plan_build(build, "demo")
    (said,) = [w for w in plan.warnings if w.startswith("usr/lib/curses-old.so")]
    assert said.startswith("usr/lib/curses-old.so: exports demo_stamp_"), said
    assert said.endswith(
        ", the build stamp modules export, but lies outside the module directories (usr/lib/demo, "
        "var/run/demo/{pkgversion}): a module installed in the wrong place? The loader never finds it there "
        "(a [[package]] `files` entry naming its exact path, no wildcard, says it belongs there)"
    ), said
    assert "usr/lib/curses-old.so" in plan.package("demo-core").files
    # Named by its path in a [[package]], it is known to belong there (a Totem tester's libpeas
    # python loader, itself a libpeas plug-in, was warned of on every plan); by a glob, not.
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    rest = "rest = true\n"
    for files, said in (('["{prefix}/lib/curses-old.so"]', False), ('["{prefix}/lib/*.so"]', True)):
        layout = tmp_path / "named.toml"
        layout.write_text(text.replace(rest, f"{rest}files = {files}\n", 1))
        plan = plan_build(build, L.load_layout(layout))
        assert any(w.startswith("usr/lib/curses-old.so") for w in plan.warnings) is said, files
    # Excluded, it is in no package, so in no wrong place (a Ruby tester's gem copies, left out by
    # an [[exclude]], were warned of on every plan).
    layout.write_text(text + '\n[[exclude]]\nreason = "old"\nfiles = ["{prefix}/lib/curses-old.so"]\n')
    plan = plan_build(build, L.load_layout(layout))
    assert not any(w.startswith("usr/lib/curses-old.so") for w in plan.warnings), plan.warnings


def test_a_file_defining_any_module_s_entry_outside_the_module_directories_is_named(
    demo_build: Path, tmp_path: Path
) -> None:
    """A Varnish tester's libvmod_tcp.so moved out of the VMOD directory: its entry,
    Vmod_tcp_Data, is no module's of the build any more (the entry names the module), and the
    file went to the core in silence. Any symbol the entry templates name is looked for."""
    import subprocess

    build = copy_build(demo_build, tmp_path)
    src = tmp_path / "zz.c"
    src.write_text("int demo_zz_entry(void) { return 0; }\n")
    out = build / "usr/lib/zz.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = 'naming = "{type}/{name}.so"\n'
    assert old in text
    layout = tmp_path / "any.toml"
    layout.write_text(text.replace(old, old + 'entry = ["demo_module_init", "demo_{name}_entry"]\n'))
    said = [w for w in plan_build(build, L.load_layout(layout)).warnings if w.startswith("usr/lib/zz.so")]
    assert said and said[0].startswith(
        "usr/lib/zz.so: defines demo_zz_entry, named as a module's entry is, but lies outside the module"
    ), said
    # So where one type defines no entry (an ALSA tester's `conf` hooks, `entry = []`): a pcm
    # plug-in moved out of the plug-in directory went to the core in silence.
    layout.write_text(layout.read_text() + "\n[loader.by-type.audio]\nentry = []\n")
    said = [w for w in plan_build(build, L.load_layout(layout)).warnings if w.startswith("usr/lib/zz.so")]
    assert said and "lies outside the module directories" in said[0], said
    # Unless it is the loader library itself, named by a link to it (an apr-util tester's
    # libaprutil-1.so.0.6.3 "defines apr_crypto_get_driver", apr_crypto_{name}_driver's shape).
    (build / "usr/lib/libzz.so.1").symlink_to("zz.so")
    exe = 'executables = ["{prefix}/bin/demo"]'
    assert exe in text
    layout.write_text(layout.read_text().replace(exe, 'library = "{prefix}/lib/libzz.so.1"'))
    warnings = plan_build(build, L.load_layout(layout)).warnings
    assert not any(w.startswith("usr/lib/zz.so") for w in warnings), warnings


def test_executables_that_are_scripts_are_warned_of(demo_build: Path, tmp_path: Path) -> None:
    """A Valgrind tester named bin/valgrind, a shell script running valgrind.bin: plan and split
    went ahead in silence, and check of the install found no program."""
    build = copy_build(demo_build, tmp_path)
    (build / "usr/bin/demo").rename(build / "usr/bin/demo.bin")
    (build / "usr/bin/demo").write_text('#!/bin/sh\nexec "$0.bin" "$@"\n')
    said = [w for w in plan_build(build, "demo").warnings if "no ELF program" in w]
    assert said == [
        "the layout's executables (usr/bin/demo) match no ELF program of the build, only the script(s) "
        "usr/bin/demo: name the program that loads the modules"
    ]
    assert not [w for w in plan_build(demo_build, "demo").warnings if "no ELF program" in w]


def test_a_named_executable_missing_beside_another_is_warned_of(demo_build: Path, tmp_path: Path) -> None:
    """A BlueZ tester's `bluetoothdd` beside obexd: plan said nothing (another executable
    matched), and check called bluetoothd's broken plug-ins "unused", exit 0."""
    from qpack.check import check

    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = 'executables = ["{prefix}/bin/demo"]'
    assert old in text
    layout = tmp_path / "typo.toml"
    layout.write_text(text.replace(old, 'executables = ["{prefix}/bin/demo", "{prefix}/bin/demo-registy"]'))
    said = [w for w in plan_build(demo_build, L.load_layout(layout)).warnings if "is not in the build" in w]
    assert said == [
        "the layout's executable usr/bin/demo-registy is not in the build (did you mean "
        "usr/bin/demo-registry?): check of an install finds no such program, and calls the modules only "
        "it loads unused"
    ]
    notes = [
        w for w in check(demo_build / "usr", L.load_layout(layout).loader).warnings if "not installed" in w
    ]
    # Every program asks for every module here: the others load all it would (an Enchant
    # tester read "judged unused" above modules judged loading).
    assert notes == [
        f"{demo_build}/usr/bin/demo-registy: named by the layout's executables, not installed (did you mean "
        f"{demo_build}/usr/bin/demo-registry?)"
    ]
    # Where programs ask for different types, the modules only it asks for are unused.
    typed = tmp_path / "typed.toml"
    typed.write_text(layout.read_text() + '\n[loader.program-types]\n"{prefix}/bin/demo" = ["ui"]\n')
    notes = [
        w for w in check(demo_build / "usr", L.load_layout(typed).loader).warnings if "not installed" in w
    ]
    assert notes[0].endswith(
        "(did you mean "
        + f"{demo_build}/usr/bin/demo-registry?): the modules only it loads are judged unused"
    )
    # Checked at another prefix than the layout's, where the program is at the layout's: said (an
    # fwupd tester's `check / --root /`: "1 of 1 modules load", and no word of /usr).
    from qpack.check import CheckError

    with pytest.raises(
        CheckError, match=r"\(looked for /bin/demo; they are under /usr: is the prefix /usr\?\)"
    ):
        check("/", L.load_layout("demo").loader, root=demo_build)
    # One of two found there (this machine's /bin -> usr/bin), the other named with the hint.
    build = copy_build(demo_build, tmp_path / "merged")
    (build / "bin").symlink_to("usr/bin")
    (build / "usr/sbin").mkdir()
    shutil.copy(build / "usr/bin/demo", build / "usr/sbin/demo-helper")
    two = tmp_path / "two.toml"
    two.write_text(text.replace(old, 'executables = ["{prefix}/bin/demo", "{prefix}/sbin/demo-helper"]'))
    notes = [w for w in check("/", L.load_layout(two).loader, root=build).warnings if "not installed" in w]
    assert notes == [
        "/sbin/demo-helper: named by the layout's executables, not installed (/usr/sbin/demo-helper is: is "
        "the prefix /usr?)"
    ]


def test_a_modules_code_behind_its_symlink_is_not_a_module_in_the_wrong_place(
    demo_build: Path, tmp_path: Path
) -> None:
    """An Audacity tester's modules/mod-script-pipe.so -> ../mod-script-pipe.so.3.2.4: the plan
    put the file with its module, as its code, and warned that it defines the entry outside the
    module directories, "a module installed in the wrong place"."""
    build = copy_build(demo_build, tmp_path)
    gtk = build / "usr/lib/demo/ui/gtk.so"
    gtk.rename(build / "usr/lib/gtk-code.so.1")
    gtk.symlink_to("../../gtk-code.so.1")
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    layout = tmp_path / "entry.toml"
    layout.write_text(
        text.replace(
            'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "demo_module_init"'
        )
    )
    plan = plan_build(build, L.load_layout(layout))
    assert "usr/lib/gtk-code.so.1" in plan.package("demo-ui-gtk").files
    assert not [w for w in plan.warnings if "wrong place" in w], plan.warnings


def test_a_module_of_another_build_is_named_by_plan(demo_build: Path, tmp_path: Path) -> None:
    """install and check refuse a module whose stamp the program does not hold; plan said
    nothing, and a split shipped it (a tester's VLC 3.0 build held a plugin of VLC 2.2)."""
    from qpack.demo.builder import build_extra_module, compute_stamp

    build = copy_build(demo_build, tmp_path)
    build_extra_module(build / "usr/lib/demo", type="ui", name="curses", stamp=compute_stamp("/usr", "2"))
    plan = plan_build(build, "demo")
    (warning,) = [w for w in plan.warnings if "another build" in w]
    assert warning.startswith("usr/lib/demo/ui/curses.so: module exports demo_stamp_")
    assert warning.endswith(": a module of another build; the loader refuses it")
    assert not [w for w in plan_build(demo_build, "demo").warnings if "another build" in w]
    # Every module of another build than the program: the split is refused, not warned of module
    # by module (a Zathura tester's program of plug-in ABI 4_6 beside plug-ins of 4_5: six
    # wheels, exit 0; install then refused each).
    import re

    exe = build / "usr/bin/demo"
    data = exe.read_bytes()
    held = re.search(rb"demo_stamp_([0-9a-f]+)", data)
    assert held is not None
    zeros = "0" * len(held.group(1))
    exe.write_bytes(data.replace(held.group(1), zeros.encode()))
    with pytest.raises(PlanError) as failed:
        plan_build(build, "demo")
    (problem,) = [p for p in failed.value.problems if "two builds" in p]
    assert problem.startswith(
        f"no module of the build exports a stamp the loader's files hold (demo_stamp_{zeros}); "
        "the modules (usr/lib/demo/audio/alsa.so, usr/lib/demo/audio/pa.so and 5 more) export demo_stamp_"
    ), problem
    assert not [w for w in failed.value.warnings if "another build" in w], failed.value.warnings


def test_normalize_makes_module_package_names_debian_can_carry(demo_build: Path, tmp_path: Path) -> None:
    """collectd's curl_json, ALSA's ctl-arcam_av, VLC's 220 module ids with '_': Debian package
    names allow neither '_' nor upper case, and each needed a rename of its own (a rename
    captures one '*'). `normalize = true` in [per-module] lower-cases and writes '_' as '-'."""
    build = copy_build(demo_build, tmp_path)
    ui = build / "usr/lib/demo/ui"
    (ui / "curses.so").rename(ui / "Curses_Ext.so")
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    text = text.replace('known = ["ui-curses", ', 'known = ["ui-Curses_Ext", ')
    lay = tmp_path / "n.toml"
    lay.write_text(text)
    r = run_qpack(
        "split", str(build), "-l", str(lay), "--version", "1", "--format", "tree", "-o", str(tmp_path / "a")
    )
    assert r.returncode == 2
    assert "`normalize = true` in [per-module] lower-cases the names" in r.stderr
    lay.write_text(text.replace('name = "demo-{module}"', 'name = "demo-{module}"\nnormalize = true'))
    plan = plan_build(build, L.load_layout(lay))
    assert plan.package("demo-ui-curses-ext").modules == ("ui-Curses_Ext",)
    # A run of separators is one, as in the wheel's name (a PostgreSQL tester's `_int`:
    # postgresql-15--int in the distro lists, postgresql_15_int as a wheel).
    from qpack.layout import PerModule

    assert PerModule(name="pg-{module}", normalize=True).package_name("", "_int", "_int")[0] == "pg-int"
    # Nor one at either end (a Munin tester's wildcard plug-in `if_`: munin-plugin-if-).
    assert PerModule(name="munin-plugin-{module}", normalize=True).package_name("", "if_", "if_")[0] == (
        "munin-plugin-if"
    )
    # Nor an '@' (GNOME Shell's and Cinnamon's uuids).
    assert PerModule(name="x-{module}", normalize=True).package_name(
        "", "Menu@cinnamon.org", "Menu@cinnamon.org"
    )[0] == ("x-menu-cinnamon.org")
    r = run_qpack(
        "split", str(build), "-l", str(lay), "--version", "1", "--format", "tree", "-o", str(tmp_path / "b")
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "b/debian/demo-ui-curses-ext.install").is_file()


def test_modules_a_rename_gives_one_name_are_named(demo_build: Path, tmp_path: Path) -> None:
    """A rename giving several modules one name ("ui-*" = "demo-uis") merges them into one
    package in silence (a tester's VLC layout put 53 codecs in one): a warning says so."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    lay = tmp_path / "r.toml"
    lay.write_text(text + '\n[per-module.renames]\n"ui-*" = "demo-uis"\n')
    plan = plan_build(demo_build, L.load_layout(lay))
    assert plan.package("demo-uis").modules == ("ui-curses", "ui-gtk", "ui-opengl")
    assert (
        "package 'demo-uis' holds 3 modules (ui-curses, ui-gtk, ui-opengl): [per-module] gives them one "
        'name; a [[package]] with kind = "group" holds several on purpose'
    ) in plan.warnings
    assert not [w for w in plan_build(demo_build, "demo").warnings if "holds" in w]


def test_plan_fixes_from_an_adversarial_pass(demo_build: Path, tmp_path: Path) -> None:
    """Four from one tester: a rename giving modules one name with [per-module] files ('claimed
    twice'); an excluded module's code and its other names went to the core; a module linking
    to an excluded module's file dangled in silence; a module that is a link escaped the
    machine and stamp warnings."""
    from qpack.demo.builder import build_extra_module, compute_stamp

    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    lay = tmp_path / "l.toml"
    build = copy_build(demo_build, tmp_path)
    (build / "usr/share/doc/demo-blocks").mkdir(parents=True)
    (build / "usr/share/doc/demo-blocks/README").write_text("x\n")
    lay.write_text(
        text.replace(
            'summary = "demo module {module}"',
            'summary = "demo module {module}"\nfiles = ["{prefix}/share/doc/{package}/**"]',
        )
        + '\n[per-module.renames]\n"block-*" = "demo-blocks"\n'
    )
    plan = plan_build(build, L.load_layout(lay))
    assert "usr/share/doc/demo-blocks/README" in plan.package("demo-blocks").files

    build = copy_build(demo_build, tmp_path / "2")
    ui = build / "usr/lib/demo/ui"
    (ui / "curses.so").rename(ui / "curses.so.2.0")
    (ui / "curses.so").symlink_to("curses.so.2.0")
    (ui / "curses.so.2").symlink_to("curses.so.2.0")
    block = build / "usr/lib/demo/block"
    (block / "nfs.so").unlink()
    (block / "nfs.so").symlink_to("curl.so")
    lay.write_text(
        text + '\n[[exclude]]\nreason = "no curses, no curl"\nmodules = ["ui-curses", "block-curl"]\n'
    )
    (build / "usr/share/demo/curl-notes").symlink_to("../../lib/demo/block/curl.so")  # the core's link
    plan = plan_build(build, L.load_layout(lay))
    excluded = {x.path for x in plan.excluded}
    assert {f"usr/lib/demo/ui/curses.so{v}" for v in ("", ".2", ".2.0")} <= excluded
    # Lua's core shipped share/lua/5.4/*.lua -> ../5.1/, excluded, unsaid: any package's link.
    assert (
        "usr/share/demo/curl-notes (package 'demo-core') leads to usr/lib/demo/block/curl.so, "
        "which is excluded (no curses, no curl): the link dangles"
    ) in plan.warnings
    assert not [f for f in plan.package("demo-core").files if "curses" in f]
    assert (
        "usr/lib/demo/block/nfs.so (package 'demo-block-nfs') leads to usr/lib/demo/block/curl.so, "
        "which is excluded (no curses, no curl): the link dangles, the module never loads"
    ) in plan.warnings

    build = copy_build(demo_build, tmp_path / "3")
    ui = build / "usr/lib/demo/ui"
    (ui / "gtk.so").unlink()
    build_extra_module(tmp_path / "other", type="ui", name="gtk", stamp=compute_stamp("/usr", "2"))
    shutil.copy(tmp_path / "other/ui/gtk.so", ui / "gtk.so.1")
    (ui / "gtk.so").symlink_to("gtk.so.1")
    plan = plan_build(build, "demo")
    assert [w for w in plan.warnings if w.startswith("usr/lib/demo/ui/gtk.so: module exports demo_stamp_")]


def test_an_exclusion_that_excludes_nothing_is_named(demo_build: Path, tmp_path: Path) -> None:
    """As a package with no files is: a typo in an [[exclude]] glob must not pass silently."""
    lay = layout_file(
        tmp_path,
        """
        [[package]]
        name = "demo-core"
        rest = true
        [per-module]
        name = "demo-{module}"
        [[exclude]]
        reason = "docs: not shipped"
        files = ["usr/share/doc/demo/READNE"]
        [[exclude]]
        reason = "the banner"
        files = ["usr/share/demo/banner.txt"]
        """,
    )
    plan = plan_of(demo_build, lay)
    assert "exclude[0] (docs: not shipped) excludes nothing in this build" in plan.warnings
    assert not any("exclude[1]" in w for w in plan.warnings)
    assert [x.path for x in plan.excluded] == ["usr/share/demo/banner.txt"]

    # `optional = true`: a rule for files some builds lack (Debian deletes QEMU's qtest
    # modules) says nothing when it matches nothing; it still excludes what it matches.
    lay = layout_file(
        tmp_path,
        """
        [[package]]
        name = "demo-core"
        rest = true
        [per-module]
        name = "demo-{module}"
        [[exclude]]
        reason = "docs: not in every build"
        files = ["usr/share/doc/demo/READNE"]
        optional = true
        [[exclude]]
        reason = "the banner, where there is one"
        files = ["usr/share/demo/banner.txt"]
        optional = true
        """,
    )
    plan = plan_of(demo_build, lay)
    assert not any("excludes nothing" in w for w in plan.warnings), plan.warnings
    assert [x.path for x in plan.excluded] == ["usr/share/demo/banner.txt"]


def test_a_requirement_cycle_is_one_error_a_pair_of_packages(tmp_path: Path) -> None:
    """A BIND tester put five libraries in the wrong one of two packages that link each other:
    62 error lines, one per program and library, each advising a fix. One line a pair now."""
    if not have_cc():
        pytest.skip("no C compiler (cc/gcc) on this machine: the programs are built here")
    usr = tmp_path / "build/usr"
    (usr / "bin").mkdir(parents=True)
    (usr / "lib/prog").mkdir(parents=True)
    lib = usr / "lib"
    for name in ("x", "y"):
        compile_c(tmp_path, lib / f"lib{name}.so.1", f"int {name}_fn(void) {{ return 1; }}",
                  "-shared", "-fPIC", f"-Wl,-soname,lib{name}.so.1")  # fmt: skip
        (lib / f"lib{name}.so").symlink_to(f"lib{name}.so.1")
    main = "int x_fn(void); int y_fn(void); int main(void) { return x_fn() + y_fn(); }"
    for program in ("one", "two", "three"):
        compile_c(tmp_path, usr / "bin" / program, main, f"-L{lib}", "-lx", "-ly")
    for name in ("x", "y"):
        (lib / f"lib{name}.so").unlink()
    layout = tmp_path / "cycle.toml"
    layout.write_text(
        textwrap.dedent(
            """
            [layout]
            name = "cycle"
            [loader]
            prefix = "/usr"
            executables = ["{prefix}/bin/one"]
            naming = "{name}.so"
            [[loader.search]]
            relocated = "lib/prog"
            [[package]]
            name = "prog"
            rest = true
            [[package]]
            name = "prog-libs"
            kind = "group"
            files = ["{prefix}/lib/lib*.so.1"]
            """
        )
    )
    with pytest.raises(PlanError) as e:
        plan_of(tmp_path / "build", layout)
    assert [p for p in e.value.problems if "cycle" in p] == [
        "3 file(s) of package 'prog' (usr/bin/one, usr/bin/three and 1 more) link 2 libraries of "
        "package 'prog-libs' (usr/lib/libx.so.1, usr/lib/liby.so.1), which requires 'prog': requiring it "
        "would make a cycle (put those libraries in 'prog' or a package both require, or, if they belong "
        "with the libraries, those files in 'prog-libs')"
    ]
