"""Every rule of the plan, on inventories and loaders built in memory: no compiler, no disk.

The loader and the layout are built directly (the loader knows no TOML), so each test states
exactly the build and the policy it is about.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qpack.elf import ElfInfo
from qpack.errors import LayoutError, PlanError
from qpack.inventory import Entry, Inventory
from qpack.layout import Exclusion, Layout, Meta, PackageRule, PerModule, load_layout
from qpack.loader import Loader, Naming, SearchLocation
from qpack.plan import make_plan

LOADER = Loader(
    prefix="/usr",
    executables=("{prefix}/bin/prog",),
    search=(SearchLocation("env", "PROG_MODULE_DIR"), SearchLocation("relocated", "lib/prog")),
    naming=Naming("{type}-{name}.so", ("ui", "block")),
    stamp_symbol="prog_stamp_*",
    dependencies={"ui-gtk": ("ui-opengl",)},
)


# The loader table of the layouts tests write as TOML (indented as their own text is).
PROG_LOADER = """
    [loader]
    executables = ["{prefix}/bin/prog"]
    naming = "{type}-{name}.so"
    types = ["ui", "block"]
    [[loader.search]]
    relocated = "lib/prog"
"""


def inventory(*paths: str, dirs: tuple[str, ...] = ()) -> Inventory:
    """Regular files at `paths` (a trailing '@target' makes a symlink), plus empty `dirs`."""
    entries = []
    for p in paths:
        if "@" in p:
            path, target = p.split("@")
            entries.append(Entry(path, "symlink", 0o777, len(target), target=target))
        else:
            entries.append(Entry(p, "file", 0o755 if "/bin/" in p else 0o644, 1, "0" * 64))
    entries += [Entry(d, "dir", 0o755, 0) for d in dirs]
    # The parents, as a scan records them.
    parents = {"/".join(e.path.split("/")[:i]) for e in entries for i in range(1, e.path.count("/") + 1)}
    entries += [Entry(d, "dir", 0o755, 0) for d in parents - {e.path for e in entries}]
    return Inventory(Path("/nonexistent/build"), "/usr", tuple(sorted(entries, key=lambda e: e.path)))


def elf_entry(path: str, soname: str | None, *needed: str) -> Entry:
    """A regular file of the build that is an x86-64 shared object with this SONAME and NEEDED."""
    info = ElfInfo(
        machine="EM_X86_64", elf_class=64, little_endian=True, elf_type="ET_DYN", interp=False,
        soname=soname, needed=needed, runpath=(), build_id=None, stamps_exported=(), stamps_held=(),
    )  # fmt: skip
    return Entry(path, "file", 0o644, 1, "0" * 64, None, info)


def with_entries(inv: Inventory, extra: list[Entry]) -> Inventory:
    return dataclasses.replace(inv, entries=tuple(sorted([*inv.entries, *extra], key=lambda e: e.path)))


def layout(
    *packages: PackageRule,
    per_module: PerModule | None = PerModule(name="prog-{module}"),  # noqa: B008 - frozen
    exclusions: tuple[Exclusion, ...] = (),
    meta: Meta | None = None,
    loader: Loader = LOADER,
) -> Layout:
    rules = packages or (PackageRule(name="prog-core", rest=True),)
    return Layout(
        name="t",
        description="",
        path=Path("t.toml"),
        loader=loader,
        packages=tuple(rules),
        per_module=per_module,
        exclusions=exclusions,
        meta=meta,
    )


BUILD = (
    "usr/bin/prog",
    "usr/share/prog/data.txt",
    "usr/lib/prog/ui-gtk.so",
    "usr/lib/prog/ui-opengl.so",
    "usr/lib/prog/block-curl.so",
)


def test_every_path_once_modules_per_module_and_requires() -> None:
    plan = make_plan(inventory(*BUILD), layout())
    assert [p.name for p in plan.packages] == [
        "prog-core",
        "prog-block-curl",
        "prog-ui-gtk",
        "prog-ui-opengl",
    ]
    assert plan.package("prog-core").files == ("usr/bin/prog", "usr/share/prog/data.txt")
    assert plan.package("prog-ui-gtk").requires == ("prog-core", "prog-ui-opengl")
    assert plan.package("prog-block-curl").requires == ("prog-core",)
    assert {m.id for m in plan.modules} == {"ui-gtk", "ui-opengl", "block-curl"}
    claimed = [f for p in plan.packages for f in p.files]
    assert sorted(claimed) == sorted(BUILD)


def test_double_claim_names_the_file_and_both_rules() -> None:
    lay = layout(
        PackageRule(name="prog-core", rest=True, files=("{prefix}/share/**",)),
        PackageRule(name="prog-data", files=("{prefix}/share/prog/*.txt",), index=1),
    )
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*BUILD), lay)
    assert e.value.problems == [
        "usr/share/prog/data.txt: claimed twice: by package[0] 'prog-core' (files '{prefix}/share/**') "
        "and by package[1] 'prog-data' (files '{prefix}/share/prog/*.txt')"
    ]


def test_module_claimed_by_a_group_and_an_exclusion() -> None:
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        PackageRule(name="prog-gui", kind="group", modules=("ui-*",), index=1),
        exclusions=(Exclusion(reason="no gtk", modules=("ui-gtk",)),),
    )
    with pytest.raises(PlanError, match=r"ui-gtk.so: claimed twice: by package\[1\] 'prog-gui'"):
        make_plan(inventory(*BUILD), lay)


def test_unclaimed_files_in_the_three_policies() -> None:
    lay = layout(PackageRule(name="prog-core", files=("{prefix}/bin/*",)))
    inv = inventory(*BUILD)
    with pytest.raises(PlanError) as e:
        make_plan(inv, lay)
    assert e.value.problems == [
        "1 file(s) claimed by no package of layout 't' (add a rule, or pass --unclaimed core|drop):\n"
        "  usr/share/prog/data.txt"
    ]
    core = make_plan(inv, lay, unclaimed="core")
    assert core.package("prog-core").files == ("usr/bin/prog", "usr/share/prog/data.txt")
    assert core.unclaimed == ()
    drop = make_plan(inv, lay, unclaimed="drop")
    assert drop.package("prog-core").files == ("usr/bin/prog",)
    assert drop.unclaimed == ("usr/share/prog/data.txt",)
    assert [x.path for x in drop.excluded] == ["usr/share/prog/data.txt"]
    assert not any("usr/share/prog/data.txt" in p.files for p in drop.packages)


def test_unclaimed_files_with_a_rest_group_and_no_rest_core() -> None:
    """A ZNC tester made the program's package a group with `rest = true`; the error listed the
    program's own files, pointing at a missing rule rather than at the kind."""
    lay = layout(PackageRule(name="prog", kind="group", rest=True), per_module=None)
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*BUILD), lay)
    assert e.value.problems[0].splitlines()[0] == (
        "2 file(s) claimed by no package of layout 't' (add a rule, or pass --unclaimed core|drop; "
        "group 'prog' has rest = true, which takes the modules no rule claims, not other files: a core "
        "[[package]] with rest = true (and rest-modules = true) takes both):"
    )


def test_a_layout_extra_named_as_an_extra_of_its_own_is_refused() -> None:
    """A PowerDNS re-tester's `[meta.extras] pipe = ["gmysql"]` merged into module pipe's own
    extra without a word: `install pipe` took both backends, `uninstall pipe` the module only."""
    for name, what in (("ui-gtk", "a module id"), ("block", "a module type"), ("all", "every module's")):
        lay = dataclasses.replace(layout(), meta=Meta(name="prog", extras={name: ("block-curl",)}))
        with pytest.raises(PlanError) as e:
            make_plan(inventory(*BUILD), lay)
        assert e.value.problems == [
            f"meta.extras.{name}: {name!r} is already an extra of the meta package ({what}); "
            "name this one otherwise"
        ]


def test_unclaimed_core_without_a_core_package() -> None:
    lay = layout(PackageRule(name="prog-mods", kind="group", modules=("*",)), per_module=None)
    with pytest.raises(PlanError, match="--unclaimed core: layout 't' has no core package"):
        make_plan(inventory(*BUILD), lay, unclaimed="core")


def test_a_brace_glob_key_of_the_module_tables_matches_its_alternatives() -> None:
    """A WirePlumber tester's `"{si-node,metadata}" = ["lua-scripting"]` in
    [modules.dependencies]: the layout took the key, the loader's fnmatch matched nothing, and
    the wheels required no lua-scripting (check: "loads" with it gone). Every module table takes
    the brace globs the layout takes."""
    braces = dataclasses.replace(
        LOADER,
        dependencies={"{ui-gtk,block-*}": ("ui-opengl",)},
        program_types=(("{prefix}/bin/prog", ("{ui-gtk,ui-opengl}",)),),
    )
    assert braces.deps_of("ui-gtk") == ("ui-opengl",)
    assert braces.deps_of("block-curl") == ("ui-opengl",)
    assert braces.deps_of("ui-opengl") == ()
    assert braces.asks_for("/usr/bin/prog", "ui-gtk") and not braces.asks_for("/usr/bin/prog", "block-curl")
    plan = make_plan(inventory(*BUILD), layout(loader=braces))
    assert "prog-ui-opengl" in plan.package("prog-block-curl").requires


def test_missing_and_excluded_dependency_modules() -> None:
    missing = [p for p in BUILD if not p.endswith("ui-opengl.so")]
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*missing), layout())
    assert e.value.problems == [
        "module 'ui-gtk' (package 'prog-ui-gtk') needs module 'ui-opengl', "
        "which is not in this build: it would never load"
    ]
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        exclusions=(Exclusion(reason="no GL", modules=("ui-opengl",)),),
    )
    with pytest.raises(PlanError, match="needs module 'ui-opengl', which is excluded"):
        make_plan(inventory(*BUILD), lay)
    # A module claimed twice is no excluded one: its claim is the one problem (a Ruby tester's
    # enc-encdb in the core's and a group's `modules` gave ~60 "needs module 'enc-encdb',
    # which is excluded" lines after the one that mattered).
    twice = layout(
        PackageRule(name="prog-core", kind="core", rest=True, modules=("ui-opengl",)),
        PackageRule(name="prog-ui", kind="group", modules=("ui-*",), index=1),
    )
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*BUILD), twice)
    assert len(e.value.problems) == 1 and "usr/lib/prog/ui-opengl.so: claimed twice" in e.value.problems[0]


def test_module_installed_twice_and_names_never_looked_up() -> None:
    lay_loader = Loader(
        executables=("{prefix}/bin/prog",),
        search=(
            SearchLocation("relocated", "lib/prog"),
            SearchLocation("absolute", "/opt/prog/{pkgversion}"),
        ),
        naming=Naming("{type}-{name}.so", ("ui", "block")),
    )
    twice = inventory(*BUILD, "opt/prog/1.0/block-curl.so")
    with pytest.raises(
        PlanError, match=r"module 'block-curl' is installed twice: .*opt/prog/1.0/block-curl.so"
    ):
        make_plan(twice, layout(loader=lay_loader))
    # A copy a [[package]] or [[exclude]] names by its files is that rule's plain file, and the
    # other copy is the module (Debian's perl-base and libperl5.36 both ship POSIX.so, on
    # purpose: the plan refused the real build, whatever rule named the second copy).
    shadow = PackageRule(name="prog-shadow", files=("opt/prog/*/block-curl.so",), index=1)
    plan = make_plan(twice, layout(PackageRule(name="prog-core", rest=True), shadow, loader=lay_loader))
    assert plan.package("prog-shadow").files == ("opt/prog/1.0/block-curl.so",)
    assert plan.package("prog-block-curl").files == ("usr/lib/prog/block-curl.so",)
    out = Exclusion(reason="a shadowed copy", files=("opt/prog/*/block-curl.so",))
    plan = make_plan(
        twice, layout(PackageRule(name="prog-core", rest=True), exclusions=(out,), loader=lay_loader)
    )
    assert {e.path: e.reason for e in plan.excluded} == {"opt/prog/1.0/block-curl.so": "a shadowed copy"}
    # A rule naming the copy the loader finds first is said: the module's package holds the
    # one it passes over (a Perl re-tester's rule named perl-base's copies).
    first = PackageRule(name="prog-shadow", files=("usr/lib/prog/block-curl.so",), index=1)
    plan = make_plan(twice, layout(PackageRule(name="prog-core", rest=True), first, loader=lay_loader))
    assert plan.package("prog-block-curl").files == ("opt/prog/1.0/block-curl.so",)
    assert [w for w in plan.warnings if "finds first" in w] == [
        "module 'block-curl': usr/lib/prog/block-curl.so is the copy the loader finds first, and a "
        "[[package]] or [[exclude]] names it by its files; the module's package gets "
        "opt/prog/1.0/block-curl.so, which the loader passes over"
    ]
    assert not [
        w
        for w in make_plan(
            twice, layout(PackageRule(name="prog-core", rest=True), shadow, loader=lay_loader)
        ).warnings
        if "finds first" in w
    ]
    # The directory an env location's wheels use counts where it is searched with no variable
    # set (a Ruby tester's RUBYLIB `wheels`, his arch dir, was taken as searched first, before
    # the gem directory the layout lists earlier).
    wheels_first = dataclasses.replace(
        lay_loader,
        search=(
            SearchLocation("env", "PROG_MODULE_DIR", wheel_dir="lib/prog"),
            SearchLocation("absolute", "/opt/prog/{pkgversion}"),
            SearchLocation("relocated", "lib/prog"),
        ),
    )
    plan = make_plan(twice, layout(PackageRule(name="prog-core", rest=True), first, loader=wheels_first))
    assert plan.package("prog-block-curl").files == ("opt/prog/1.0/block-curl.so",)
    assert not [w for w in plan.warnings if "finds first" in w]
    # A rule naming every copy leaves no module: still an error.
    every = PackageRule(name="prog-shadow", files=("**/block-curl.so",), index=1)
    with pytest.raises(PlanError, match=r"module 'block-curl' is installed twice") as e:
        make_plan(twice, layout(PackageRule(name="prog-core", rest=True), every, loader=lay_loader))
    # ... said with the rule (a Ruby tester's error never said a rule was the cause).
    assert (
        "module 'block-curl': `files` of package[1] 'prog-shadow' name every copy of it; a rule that "
        "names some of them leaves the others to the module"
    ) in e.value.warnings
    odd = make_plan(inventory(*BUILD, "usr/lib/prog/net-tap.so"), layout(loader=lay_loader))
    assert any("net-tap.so: in a module directory, but the loader never looks up" in w for w in odd.warnings)
    assert "usr/lib/prog/net-tap.so" in odd.package("prog-core").files


def test_renames_groups_and_meta_extras() -> None:
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        PackageRule(name="prog-gui", kind="group", modules=("ui-gtk",), index=1),
        per_module=PerModule(name="prog-{module}", renames={"block-*": "prog-driver-{*}"}),
        meta=Meta(
            name="prog",
            extras={
                "desktop": ("ui",),
                # An id glob, as [[package]] modules take (LADSPA's `mbeq_*` was dropped with a
                # warning), and a group package by name.
                "heavy": ("ui-open*", "block-c?rl"),
                "gui": ("prog-gui",),
                "none": ("net-*",),
                "base": ("prog-core",),  # a core package by name (Enchant's tools, headers)
                "typo": ("ui-gtkk", "prog-core"),  # an LXQt tester's "volum": said with its near id
            },
        ),
    )
    plan = make_plan(inventory(*BUILD), lay)
    assert [p.name for p in plan.packages] == [
        "prog-core",
        "prog-gui",
        "prog-driver-curl",
        "prog-ui-opengl",
        "prog",
    ]
    meta = plan.package("prog")
    assert meta.kind == "meta" and meta.requires == ("prog-core",)
    assert meta.extras["ui"] == ("prog-gui", "prog-ui-opengl")
    assert meta.extras["desktop"] == ("prog-gui", "prog-ui-opengl")
    assert meta.extras["heavy"] == ("prog-driver-curl", "prog-ui-opengl")
    assert meta.extras["gui"] == ("prog-gui",)
    assert "meta.extras.none: 'net-*' names no module or package of this build" in plan.warnings
    assert (
        "meta.extras.typo: 'ui-gtkk' names no module or package of this build (did you mean ui-gtk?)"
        in plan.warnings
    )
    # An extra that would install nothing is left out, not written empty (pip would install none).
    assert "none" not in meta.extras
    assert "meta.extras.none: requires nothing in this build; left out of the meta package" in plan.warnings
    assert meta.extras["base"] == ("prog-core",)
    assert meta.extras["all"] == ("prog-driver-curl", "prog-gui", "prog-ui-opengl")
    assert plan.package("prog-gui").requires == ("prog-core", "prog-ui-opengl")
    claims = {c.path: c.rule for c in plan.claims}
    assert claims["usr/lib/prog/block-curl.so"] == "per-module.renames.'block-*' (block-curl)"


def test_directory_ownership() -> None:
    plan = make_plan(inventory(*BUILD, dirs=("usr/share/prog/empty",)), layout())
    dirs = {p.name: p.dirs for p in plan.packages}
    # One owner: the core owns its own directories; the module dir, shared by three module
    # packages that all require the core, goes to the core; base-system dirs go to nobody.
    assert dirs["prog-core"] == ("usr/lib/prog", "usr/share/prog")
    assert "usr/share/prog/empty" in plan.package("prog-core").files  # an empty dir is shipped itself
    assert all(not d for n, d in dirs.items() if n != "prog-core")
    # A directory shared by packages with no common requirement is owned by each of them
    # (RPM allows it; Fedora's guidelines ask it of unrelated packages).
    lay = layout(PackageRule(name="a", files=("{prefix}/bin/*",)), PackageRule(name="b", rest=True, index=1))
    plan = make_plan(
        inventory("usr/lib/x/one", "usr/bin/prog", "usr/lib/x/two", "usr/lib/prog/ui-opengl.so"), lay
    )
    assert "usr/lib/x" in plan.package("b").dirs  # only b has files there
    lay2 = layout(
        PackageRule(name="a", files=("{prefix}/lib/x/one",)),
        PackageRule(name="b", rest=True, index=1),
    )
    plan2 = make_plan(inventory("usr/lib/x/one", "usr/lib/x/two"), lay2)
    assert [p.name for p in plan2.packages if "usr/lib/x" in p.dirs] == ["a", "b"]
    # Of two core packages every module package requires, the loader's owns the module
    # directory, not the library listed first (a Knot tester's went to libknot13, not knot).
    lay3 = layout(
        PackageRule(name="prog-lib", files=("{prefix}/lib/libprog.so.1",)),
        PackageRule(name="prog-core", rest=True, index=1),
    )
    plan3 = make_plan(inventory(*BUILD, "usr/lib/libprog.so.1"), lay3)
    assert plan3.package("prog-block-curl").requires == ("prog-lib", "prog-core")
    assert [p.name for p in plan3.packages if "usr/lib/prog" in p.dirs] == ["prog-core"]


def test_symlinks_and_empty_dirs_are_claimed_like_files() -> None:
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        exclusions=(Exclusion(reason="scratch", files=("{prefix}/share/prog/tmp",)),),
    )
    plan = make_plan(inventory(*BUILD, "usr/bin/prog-run@prog", dirs=("usr/share/prog/tmp",)), lay)
    assert "usr/bin/prog-run" in plan.package("prog-core").files
    assert [x.path for x in plan.excluded] == ["usr/share/prog/tmp"]


def test_loader_and_inventory_do_not_import_the_layout_or_the_plan() -> None:
    code = (
        "import sys, qpack.loader, qpack.inventory\n"
        "bad = sorted(set(sys.modules) & {'qpack.layout', 'qpack.plan', 'qpack.cli', 'tomllib'})\n"
        "print(','.join(bad))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "", f"qpack.loader/inventory imported {r.stdout.strip()}"


def test_public_api_plans_a_build(tmp_path: Path) -> None:
    import qpack

    assert set(qpack.__all__) >= {"load_layout", "plan_build", "write_wheels", "write_tree", "select"}
    for name in qpack.__all__:
        assert getattr(qpack, name) is not None
    with pytest.raises(AttributeError):
        _ = qpack.no_such_thing


# --------------------------------------------------------------------------- 5b/12: richer packages


def test_per_module_packages_carry_more_than_the_module() -> None:
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        per_module=PerModule(
            name="prog-{module}",
            files=("{prefix}/share/doc/{package}/**", "{prefix}/share/man/man8/{name}.8.gz"),
        ),
    )
    inv = inventory(*BUILD, "usr/share/doc/prog-ui-gtk/copyright", "usr/share/man/man8/curl.8.gz")
    plan = make_plan(inv, lay)
    assert plan.package("prog-ui-gtk").files == (
        "usr/lib/prog/ui-gtk.so",
        "usr/share/doc/prog-ui-gtk/copyright",
    )
    assert "usr/share/man/man8/curl.8.gz" in plan.package("prog-block-curl").files
    rules = {c.path: c.rule for c in plan.claims}
    assert rules["usr/share/doc/prog-ui-gtk/copyright"] == (
        "modules' own files (ui-gtk): per-module.files '{prefix}/share/doc/{package}/**' of 'ui-gtk'"
    )
    # The same glob from a second key of the module is still the module's alone (a PowerDNS
    # tester's [modules.files] glob beside [per-module]'s `{package}` one: "of 'bind' and 1
    # other module").
    twice = dataclasses.replace(lay, module_files={"ui-gtk": ("{prefix}/share/doc/prog-ui-gtk/**",)})
    rule = {c.path: c.rule for c in make_plan(inv, twice).claims}["usr/share/doc/prog-ui-gtk/copyright"]
    assert rule.endswith(" of 'ui-gtk'"), rule

    # In a group, the module whose glob matched (a lighttpd tester's 05-auth.conf was said to
    # be claimed by per-module.files of all 15 modules of lighttpd's core).
    grouped = dataclasses.replace(
        lay,
        packages=(
            *lay.packages,
            PackageRule(name="prog-ui", kind="group", modules=("ui-*",), index=1),
        ),
    )
    inv = inventory(*BUILD, "usr/share/doc/prog-ui/copyright", "usr/share/man/man8/gtk.8.gz")
    rules = {c.path: c.rule for c in make_plan(inv, grouped).claims}
    assert rules["usr/share/man/man8/gtk.8.gz"] == (
        "modules' own files (ui-gtk, ui-opengl): per-module.files '{prefix}/share/man/man8/{name}.8.gz' "
        "of 'ui-gtk'"
    )
    # A glob the same for every module of the group is said to be theirs, not the first's (a
    # MariaDB tester's mariadb-server doc credited to auth_ed25519 alone of 21 plugins).
    assert rules["usr/share/doc/prog-ui/copyright"] == (
        "modules' own files (ui-gtk, ui-opengl): per-module.files '{prefix}/share/doc/{package}/**' "
        "of 'ui-gtk' and 1 other module"
    )


def test_per_module_files_that_match_the_module_itself_keep_its_package() -> None:
    """A gedit tester's `[per-module] files` held `{name}/**`, which matched a Python plug-in's
    own `{name}/__init__.py`: the module's package was never built, and its files were in no
    package, excluded or unclaimed list, with every command exiting 0."""
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        per_module=PerModule(name="prog-{module}", files=("{prefix}/lib/prog/{type}-{name}*",)),
    )
    inv = inventory(*BUILD, "usr/lib/prog/ui-gtk.so.conf")
    plan = make_plan(inv, lay)
    assert plan.package("prog-ui-gtk").files == ("usr/lib/prog/ui-gtk.so", "usr/lib/prog/ui-gtk.so.conf")
    assert plan.package("prog-ui-gtk").modules == ("ui-gtk",)
    claimed = sorted(f for p in plan.packages for f in p.files)
    assert claimed == sorted([*BUILD, "usr/lib/prog/ui-gtk.so.conf"])


def test_a_claim_for_a_package_never_made_is_a_problem_not_a_lost_file() -> None:
    """The safety net under the case above: whatever claims a file for a package that is not
    built stops the plan, naming the file, rather than dropping it from every output."""
    from qpack.plan import Claim, _Claims, build_packages

    found = _Claims(claims=[Claim("usr/lib/prog/x.py", "prog-nowhere", "a rule")])
    _, problems = build_packages(found, layout(), ())
    assert problems == [
        "usr/lib/prog/x.py: claimed by a rule, for package 'prog-nowhere', which is never made"
    ]


def test_a_search_directory_that_is_a_symlink_in_the_build_is_searched_where_it_leads() -> None:
    """nginx looks in /usr/share/nginx/modules, which Debian's tree makes a symlink to
    ../../lib/nginx/modules: check followed it and judged the modules; plan refused the layout
    ("no module under usr/share/nginx/modules ... is the layout or --prefix wrong?")."""
    inv = inventory(
        "usr/bin/prog",
        "usr/lib/prog-real/ui-opengl.so",
        "usr/lib/prog-real/block-curl.so",
        "usr/lib/prog@prog-real",
    )
    plan = make_plan(inv, layout())
    assert {m.id: m.path for m in plan.modules} == {
        "ui-opengl": "usr/lib/prog-real/ui-opengl.so",
        "block-curl": "usr/lib/prog-real/block-curl.so",
    }
    assert plan.package("prog-ui-opengl").files == ("usr/lib/prog-real/ui-opengl.so",)
    assert "usr/lib/prog" in plan.package("prog-core").files  # the link itself is the core's


def test_per_module_files_may_name_the_module_with_dashes(tmp_path: Path) -> None:
    """nginx's module http_geoip ships modules-available/mod-http-geoip.conf: `{name}` matched
    only the modules without `_` (mail, stream), and the other confs went to the core unsaid."""
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        per_module=PerModule(name="prog-{module}", files=("{prefix}/share/prog/mod-{dashed-name}.conf",)),
    )
    inv = inventory("usr/bin/prog", "usr/lib/prog/block-http_geo.so", "usr/share/prog/mod-http-geo.conf")
    plan = make_plan(inv, lay)
    assert plan.package("prog-block-http_geo").files == (
        "usr/lib/prog/block-http_geo.so",
        "usr/share/prog/mod-http-geo.conf",
    )
    # In the package name too (an Apache tester's apache2-mod-{dashed-name}).
    dashed = layout(
        PackageRule(name="prog-core", rest=True), per_module=PerModule(name="prog-mod-{dashed-name}")
    )
    assert "prog-mod-http-geo" in [p.name for p in make_plan(inv, dashed).packages]
    named = textwrap.dedent(PROG_LOADER) + '[[package]]\nname = "core"\nrest = true\n'
    (tmp_path / "named.toml").write_text(named + '[per-module]\nname = "prog-{dashed-name}"\n')
    assert load_layout(tmp_path / "named.toml").per_module is not None
    # A placeholder it does not know is refused, naming those it does.
    text = textwrap.dedent(PROG_LOADER) + '[[package]]\nname = "core"\nrest = true\n'
    text += '[per-module]\nname = "prog-{module}"\nfiles = ["{prefix}/share/prog/{dashed}.conf"]\n'
    (tmp_path / "layout.toml").write_text(text)
    with pytest.raises(LayoutError, match=r"unknown placeholder \(known: \{prefix\}, .*\{dashed-name\}"):
        load_layout(tmp_path / "layout.toml")
    # One naming no module of its own is every module's (a Budgie tester's `*/*/*.plugin`: 28
    # "claimed twice" lines, none saying why): said once, for two modules or more.
    (tmp_path / "every.toml").write_text(text.replace("{dashed}.conf", "{type}/*.plugin"))
    plugins = ("usr/share/prog/ui/a.plugin", "usr/share/prog/ui/b.plugin")
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*BUILD, *plugins), load_layout(tmp_path / "every.toml"))
    assert e.value.problems == [
        "per-module.files[0]: '{prefix}/share/prog/{type}/*.plugin' names no {name}, {module} or {package}: "
        "every module claims its files (one module's files go in [modules.files], shared ones in a "
        "[[package]])"
    ]


def test_one_modules_own_files_by_module_id(tmp_path: Path) -> None:
    """A Tracker tester: `10-ico.rule` names the extractor `icon`, and three rules name
    `gstreamer`, so no `[per-module] files` glob reached them, and they stayed in the core,
    naming modules shipped elsewhere. `[modules.files]` gives a module (or every module a glob
    names) more files, which go where the module goes: its own package, its group, or out."""
    head = textwrap.dedent(PROG_LOADER) + '[[package]]\nname = "prog-core"\nrest = true\n'
    text = head + textwrap.dedent(
        """
        [[package]]
        name = "prog-ui"
        kind = "group"
        modules = ["ui-gtk"]
        [[exclude]]
        reason = "no curl here"
        modules = ["block-curl"]
        [per-module]
        name = "prog-{module}"
        [modules.files]
        "ui-opengl" = ["{prefix}/share/prog/rules/10-gl.rule", "{prefix}/share/doc/{package}/*"]
        "ui-g*" = ["{prefix}/share/prog/rules/*-gtk-*.rule"]
        "block-curl" = ["{prefix}/share/prog/rules/20-http.rule"]
        """
    )
    (tmp_path / "layout.toml").write_text(text)
    rules = (
        "usr/share/prog/rules/10-gl.rule",
        "usr/share/prog/rules/11-gtk-a.rule",
        "usr/share/prog/rules/20-http.rule",
    )
    plan = make_plan(
        inventory(*BUILD, *rules, "usr/share/doc/prog-ui-opengl/README"),
        load_layout(tmp_path / "layout.toml"),
    )
    assert plan.package("prog-ui-opengl").files == (
        "usr/lib/prog/ui-opengl.so",
        "usr/share/doc/prog-ui-opengl/README",
        "usr/share/prog/rules/10-gl.rule",
    )
    assert plan.package("prog-ui").files == ("usr/lib/prog/ui-gtk.so", "usr/share/prog/rules/11-gtk-a.rule")
    # --explain names the key and the module of the glob that matched (a lighttpd tester's
    # 10-ssl.conf was said to be claimed by per-module.files and modules.files alike).
    why = {c.path: c.rule for c in plan.claims}
    assert why["usr/share/prog/rules/10-gl.rule"] == (
        "modules' own files (ui-opengl): modules.files '{prefix}/share/prog/rules/10-gl.rule' of 'ui-opengl'"
    )
    assert why["usr/share/prog/rules/11-gtk-a.rule"] == (
        "modules' own files (ui-gtk): modules.files '{prefix}/share/prog/rules/*-gtk-*.rule' of 'ui-gtk'"
    )
    assert {e.path: e.reason for e in plan.excluded} == {
        "usr/lib/prog/block-curl.so": "no curl here",
        "usr/share/prog/rules/20-http.rule": "no curl here",
    }
    assert plan.package("prog-core").files == ("usr/bin/prog", "usr/share/prog/data.txt")
    # Another module's file or the loader's program is no module's own file (a Tracker
    # re-tester's glob took extract-png's module into extract-icon's package, and the program).
    (tmp_path / "taking.toml").write_text(
        text.replace('"ui-g*" = [', '"ui-g*" = ["{prefix}/lib/prog/ui-opengl.so", "{prefix}/bin/prog", ')
    )
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*BUILD, *rules), load_layout(tmp_path / "taking.toml"))
    assert e.value.problems == [
        "usr/bin/prog: a program of the loader, claimed by modules.files '{prefix}/bin/prog' of "
        "'ui-gtk' as a module's file",
        "usr/lib/prog/ui-opengl.so: module 'ui-opengl', claimed by modules.files "
        "'{prefix}/lib/prog/ui-opengl.so' of 'ui-gtk' as a file of another module",
    ]
    # A key naming no module of a type, or a glob with a placeholder it does not know: one line each.
    (tmp_path / "bad.toml").write_text(
        head + '[modules.files]\n"video-x" = ["a"]\n"ui-gtk" = ["{prefix}/{nope}"]\n'
    )
    with pytest.raises(LayoutError) as e:
        load_layout(tmp_path / "bad.toml")
    assert [p.split(": ", 1)[1] for p in e.value.problems] == [
        "modules.files.video-x: unknown module 'video-x': its type is not one of loader.types (ui, block)",
        "modules.files.ui-gtk[0]: bad glob '{prefix}/{nope}': unknown placeholder (known: {prefix}, "
        "{package}, {module}, {type}, {name}, {dashed-name}, {dashed-module})",
    ]


def test_modules_files_keys_may_glob_the_type(tmp_path: Path) -> None:
    """A Gutenprint tester's `"*"` (every module's `.la`) and `{print,color}-*` were refused
    ("it must start with one of loader.types"), and a key of braces matched no module (fnmatch
    knows none): the type may be a glob of types too; a literal type none is, is mistyped."""
    head = textwrap.dedent(PROG_LOADER) + '[[package]]\nname = "prog-core"\nrest = true\n'
    head += '[per-module]\nname = "prog-{module}"\n[modules.files]\n'
    (tmp_path / "any.toml").write_text(
        head
        + '"*" = ["{prefix}/lib/prog/{module}.la"]\n"{ui,video}-*" = ["{prefix}/share/prog/{name}.rule"]\n'
    )
    extra = ("usr/lib/prog/ui-gtk.la", "usr/lib/prog/block-curl.la", "usr/share/prog/gtk.rule")
    plan = make_plan(
        inventory(*BUILD, *extra, "usr/share/prog/curl.rule"), load_layout(tmp_path / "any.toml")
    )
    assert plan.package("prog-ui-gtk").files == (
        "usr/lib/prog/ui-gtk.la",
        "usr/lib/prog/ui-gtk.so",
        "usr/share/prog/gtk.rule",
    )
    assert plan.package("prog-block-curl").files == (
        "usr/lib/prog/block-curl.la",
        "usr/lib/prog/block-curl.so",
    )
    assert "usr/share/prog/curl.rule" in plan.package("prog-core").files
    (tmp_path / "typo.toml").write_text(head + '"bloc-*" = ["{prefix}/lib/prog/{module}.la"]\n')
    with pytest.raises(LayoutError) as e:
        load_layout(tmp_path / "typo.toml")
    assert [p.split(": ", 1)[1] for p in e.value.problems] == [
        "modules.files.bloc-*: bad module glob 'bloc-*': it must start with one of loader.types (ui, block)"
    ]


def test_links_of_one_package_into_a_module_that_requires_it_are_one_warning(tmp_path: Path) -> None:
    """A dracut tester's 17 systemd units of dracut-core, each a link into one module's directory
    (which requires dracut-core: a cycle), were 17 warnings of three lines each."""
    text = textwrap.dedent(PROG_LOADER) + '[[package]]\nname = "prog-core"\nrest = true\n'
    text += '[per-module]\nname = "prog-{module}"\nfiles = ["{prefix}/share/prog/{name}/*"]\n'
    (tmp_path / "layout.toml").write_text(text)
    units = [f"usr/share/prog/gtk/{u}.service" for u in "abc"]
    links = [f"usr/lib/systemd/{u}.service@../../share/prog/gtk/{u}.service" for u in "abc"]
    plan = make_plan(inventory(*BUILD, *units, *links), load_layout(tmp_path / "layout.toml"))
    assert [w for w in plan.warnings if "a cycle" in w] == [
        "3 links of package 'prog-core' (usr/lib/systemd/a.service, usr/lib/systemd/b.service and 1 more) "
        "lead into package 'prog-ui-gtk', which requires 'prog-core': not required back (a cycle); the "
        "links dangle without 'prog-ui-gtk'"
    ]
    plan = make_plan(inventory(*BUILD, *units, links[0]), load_layout(tmp_path / "layout.toml"))
    assert [w for w in plan.warnings if "a cycle" in w] == [
        "usr/lib/systemd/a.service (package 'prog-core') leads to usr/share/prog/gtk/a.service in package "
        "'prog-ui-gtk', which requires 'prog-core': not required back (a cycle); the link dangles without "
        "'prog-ui-gtk'"
    ]


def test_an_excluded_modules_own_files_are_excluded_with_it() -> None:
    """An nginx tester excluded http_geoip: its modules-available/mod-http-geoip.conf (a
    load_module line for a module not shipped) and its doc went to the core through `rest`,
    without a word; a gedit tester's excluded snippets left its .plugin keyfile in the core."""
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        per_module=PerModule(name="prog-{module}", files=("{prefix}/share/doc/{package}/**",)),
        exclusions=(Exclusion(reason="no curl here", modules=("block-curl",)),),
    )
    inv = inventory(*BUILD, "usr/share/doc/prog-block-curl/copyright", "usr/share/doc/prog-ui-gtk/copyright")
    plan = make_plan(inv, lay)
    gone = {e.path: e.reason for e in plan.excluded}
    assert gone == {
        "usr/lib/prog/block-curl.so": "no curl here",
        "usr/share/doc/prog-block-curl/copyright": "no curl here",
    }
    assert "usr/share/doc/prog-block-curl/copyright" not in plan.package("prog-core").files
    assert "usr/share/doc/prog-ui-gtk/copyright" in plan.package("prog-ui-gtk").files


def test_recommended_modules_reach_their_packages() -> None:
    """An fcitx5 tester put the addons' OptionalDependencies in [modules.recommends], which was
    read and then used nowhere: no output said it. Each package now recommends the packages of
    the modules its modules recommend (not itself, not one it requires)."""
    loader = dataclasses.replace(LOADER, recommends={"ui-gtk": ("block-curl", "ui-opengl", "block-nope")})
    plan = make_plan(inventory(*BUILD), layout(loader=loader))
    assert plan.package("prog-ui-gtk").recommends == ("prog-block-curl",)  # opengl is required
    assert [w for w in plan.warnings if "recommends" in w] == [
        "module 'ui-gtk' recommends module 'block-nope', which is not in this build: left out of its "
        "recommends"
    ]
    assert plan.package("prog-block-curl").recommends == ()
    (gtk,) = [p for p in plan.to_json()["packages"] if p["name"] == "prog-ui-gtk"]  # type: ignore[union-attr]
    assert gtk["recommends"] == ["prog-block-curl"]
    # A near miss is offered its id (a Kea tester's "lease-cmds" for lease_cmds).
    near = dataclasses.replace(LOADER, recommends={"ui-gtk": ("block-crul",)})
    assert [w for w in make_plan(inventory(*BUILD), layout(loader=near)).warnings if "recommends" in w] == [
        "module 'ui-gtk' recommends module 'block-crul', which is not in this build (did you mean "
        "block-curl?): left out of its recommends"
    ]


def test_a_module_table_key_naming_no_module_is_said() -> None:
    """A Remmina tester's [modules.recommends] key naming the core package (hoping the core
    would recommend the plug-in) was accepted without a word, as a misspelt key is: it applies
    to nothing. A key naming a module this build lacks is no slip (a layout serves builds
    configured with other modules), nor is a glob matching nothing."""
    loader = dataclasses.replace(
        LOADER,
        # block-opengl: the build's ui-opengl's sibling of another type, which this build lacks (an
        # Irssi tester's fe-perl was taken for a near miss of core-perl).
        dependencies={
            "nosuch": ("block-curl",),
            "block-*": (),
            "nope-*": ("ui-gtk",),
            "block-opengl": ("ui-gtk",),
        },
        recommends={"ui-gtkk": ("block-curl",), "prog-core": ("ui-gtk",)},
        module_programs={"ui-gkt": ("{prefix}/bin/prog",)},
    )
    plan = make_plan(inventory(*BUILD), layout(loader=loader))
    assert [w for w in plan.warnings if "names no module" in w] == [
        "[modules.recommends] key 'ui-gtkk' names no module of this build: it applies to nothing "
        "(did you mean ui-gtk?)",
        "[modules.recommends] key 'prog-core' names no module of this build: it applies to nothing; "
        "'prog-core' is a package (a package's recommends is its [[package]] `recommends`)",
        "[modules.programs] key 'ui-gkt' names no module of this build: it applies to nothing "
        "(did you mean ui-gtk?)",
    ]
    # [modules.files] too (an MLT tester's "vidstb": vid.stab's data went into the core).
    files = dataclasses.replace(layout(), module_files={"ui-gkt": ("usr/share/x/*",), "ui-nope-*": ("a",)})
    assert [w for w in make_plan(inventory(*BUILD), files).warnings if "names no module" in w] == [
        "[modules.files] key 'ui-gkt' names no module of this build: it applies to nothing "
        "(did you mean ui-gtk?)"
    ]
    # A module's own key whose glob names no file (a Cairo-Dock tester's `System-Monitor/**` for
    # `System-monitor`: the data went to the core in silence); a glob key is left alone.
    globs = {
        "ui-gtk": ("{prefix}/share/prog/GTK/**", "{prefix}/share/prog/data.txt"),
        "ui-*": ("{prefix}/none",),
    }
    plan = make_plan(inventory(*BUILD), dataclasses.replace(layout(), module_files=globs))
    assert [w for w in plan.warnings if "names no file" in w] == [
        "[modules.files] 'ui-gtk': '{prefix}/share/prog/GTK/**' names no file of the build: is it mistyped?"
    ]


def test_a_files_glob_one_letter_off_a_file_left_to_the_rest_is_said() -> None:
    """A Pluma tester's `{name}.plugins` in [per-module] files (the plug-ins' `.plugin` files
    went into the core) and `smartspace.py` in a [[package]]'s files (`smartspaces.py` went
    there too): both in silence. Said where a file no rule claims is a near miss, not for a
    literal glob that merely matches nothing (a layout serving other builds)."""
    build = (*BUILD, "usr/lib/prog/ui-gtk.plugin", "usr/lib/prog/block-curl.plugin", "usr/share/prog/tool.py")
    core = PackageRule(name="prog-core", rest=True)
    tools = PackageRule(name="prog-tools", files=("{prefix}/share/prog/tol.py", "{prefix}/share/prog/x.py"))
    per_module = PerModule(
        name="prog-{module}", files=("{prefix}/lib/prog/{module}.plugins", "{prefix}/a/{name}")
    )
    plan = make_plan(inventory(*build), layout(core, tools, per_module=per_module))
    assert [w for w in plan.warnings if "near miss" in w] == [
        "[[package]] 'prog-tools' files '{prefix}/share/prog/tol.py' names no file of the build "
        "(no usr/share/prog/tol.py); usr/share/prog/tool.py, which no rule of the layout claims, is a "
        "near miss: is the glob mistyped?",
        "[per-module] files '{prefix}/lib/prog/{module}.plugins' names no file of the build (no "
        "usr/lib/prog/block-curl.plugins); usr/lib/prog/block-curl.plugin, which no rule of the layout "
        "claims, is a near miss: is the glob mistyped?",
    ]
    # Three letters off is another file, not a slip (a gedit tester's gedit-joinlines.metainfo.xml,
    # another plug-in's, was offered for gedit-modelines.metainfo.xml).
    other = PerModule(name="prog-{module}", files=("{prefix}/share/prog/{module}.metainfo.xml",))
    plan = make_plan(
        inventory(*build, "usr/share/prog/ui-openabc.metainfo.xml"), layout(core, per_module=other)
    )
    assert not [w for w in plan.warnings if "near miss" in w]
    # A glob that names a file for some module is spelt right: one module lacking it is no slip,
    # whatever is near (a Postfix tester's `{name}_table.5.gz`: cdb has none, cidr_table.5.gz
    # was offered).
    per_module = PerModule(name="prog-{module}", files=("{prefix}/lib/prog/{module}.plugin",))
    plan = make_plan(inventory(*build, "usr/lib/prog/ui-openg.plugin"), layout(core, per_module=per_module))
    assert not [w for w in plan.warnings if "near miss" in w]
    # Spelt right, the files go with their modules and nothing is said.
    tools = PackageRule(name="prog-tools", files=("{prefix}/share/prog/tool.py",))
    plan = make_plan(inventory(*build), layout(core, tools, per_module=per_module))
    assert not [w for w in plan.warnings if "near miss" in w]
    assert plan.package("prog-ui-gtk").files == ("usr/lib/prog/ui-gtk.plugin", "usr/lib/prog/ui-gtk.so")


def test_a_key_the_build_lacks_is_no_typo_of_a_module_keyed_beside_it() -> None:
    """A Claws Mail tester's build without pgpinline, whose layout keys pgpinline and pgpmime
    alike in [modules.dependencies]: "did you mean pgpmime?" invited a harmful fix. A module
    with a key of its own in the table is no typo's target; one without still is."""
    keyed = dataclasses.replace(LOADER, dependencies={"ui-gtkk": ("block-curl",), "ui-gtk": ("ui-opengl",)})
    assert not [w for w in make_plan(inventory(*BUILD), layout(loader=keyed)).warnings if "ui-gtkk" in w]
    alone = dataclasses.replace(LOADER, dependencies={"ui-gtkk": ("block-curl",)})
    assert [w for w in make_plan(inventory(*BUILD), layout(loader=alone)).warnings if "ui-gtkk" in w] == [
        "[modules.dependencies] key 'ui-gtkk' names no module of this build: it applies to nothing "
        "(did you mean ui-gtk?)"
    ]


def test_a_misspelt_module_in_renames_package_modules_and_dependency_values_is_said() -> None:
    """A uWSGI tester's slips, each taken in silence: a [per-module.renames] key "python31"
    (python311 got the template's name), "ecoh" in the core's `modules` (echo got a package of
    its own), a rename an earlier glob always takes first, and a dependency value "python31"
    blamed on the build with no word of python311."""
    renames = {"ui-gkt": "prog-gtk", "ui-*": "prog-ui-{*}", "ui-opengl": "prog-gl", "block-zz*": "x"}
    core = PackageRule(name="prog-core", rest=True, modules=("block-crul", "block-*", "ui-nope-*"))
    plan = make_plan(
        inventory(*BUILD), layout(core, per_module=PerModule(name="prog-{module}", renames=renames))
    )
    assert [w for w in plan.warnings if "[per-module" in w or "[[package]]" in w] == [
        "[per-module.renames] key 'ui-gkt' names no module of this build: it renames nothing "
        "(did you mean ui-gtk?)",
        "[[package]] 'prog-core' `modules` entry 'block-crul' names no module of this build: the package "
        "takes nothing by it (did you mean block-curl?)",
        "[per-module.renames] key 'ui-opengl' is never used: the earlier key 'ui-*' renames every module "
        "it names (ui-opengl)",
    ]
    assert plan.package("prog-ui-opengl").modules == ("ui-opengl",)  # as said: 'ui-*' named it
    # A glob whose literal start is a near miss of the modules' (a Shotwell tester's renames key
    # "libshotwel-*" renamed nothing, in silence); one matching nothing otherwise is no slip.
    near = {"bloc-*": "x", "zz-*": "y"}
    plan = make_plan(inventory(*BUILD), layout(per_module=PerModule(name="prog-{module}", renames=near)))
    assert [w for w in plan.warnings if "matches no module" in w] == [
        "[per-module.renames] key 'bloc-*' matches no module of this build: it renames nothing "
        "(did you mean 'block-*'?)"
    ]

    # Each literal alternative of a brace glob, as a key of its own (a libgphoto2 tester's
    # "camlib-{sonixx,mars}" left sonix to a package of its own; the glob matched mars).
    group = PackageRule(name="prog-uis", kind="group", modules=("ui-{gtkk,opengl}",))
    plan = make_plan(inventory(*BUILD), layout(PackageRule(name="prog-core", rest=True), group))
    assert [w for w in plan.warnings if "[[package]]" in w] == [
        "[[package]] 'prog-uis' `modules` entry 'ui-{gtkk,opengl}': 'ui-gtkk' names no module of "
        "this build: the package takes nothing by it (did you mean ui-gtk?)"
    ]

    typo = dataclasses.replace(LOADER, dependencies={"ui-gtk": ("ui-opengll",)})
    with pytest.raises(PlanError) as err:
        make_plan(inventory(*BUILD), layout(loader=typo))
    assert err.value.problems == [
        "module 'ui-gtk' (package 'prog-ui-gtk') needs module 'ui-opengll', which is not in this build "
        "(did you mean ui-opengl?): it would never load"
    ]
    # No near miss in the module that needs it, nor in a longer id of which the one needed is
    # the start (an Apache tester's proxy_ftp, needing the proxy the build lacked, was asked
    # "did you mean proxy_ftp?").
    deps = {"ui-gtk": ("ui-gtkk",), "ui-proxy-ftp": ("ui-proxy",)}
    proxies = ("usr/lib/prog/ui-proxy-ftp.so", "usr/lib/prog/ui-proxy-http.so")
    with pytest.raises(PlanError) as err:
        make_plan(inventory(*BUILD, *proxies), layout(loader=dataclasses.replace(LOADER, dependencies=deps)))
    assert sorted(err.value.problems) == [
        "module 'ui-gtk' (package 'prog-ui-gtk') needs module 'ui-gtkk', which is not in this build: "
        "it would never load",
        "module 'ui-proxy-ftp' (package 'prog-ui-proxy-ftp') needs module 'ui-proxy', which is not in "
        "this build: it would never load",
    ]


def test_a_layout_key_for_a_module_the_build_lacks_is_no_near_miss_three_edits_away() -> None:
    """An rsyslog tester's layout, for a build without the mysql and pgsql plug-ins: the
    [modules.files] key `ommysql` was asked "did you mean ommail?", `ompgsql` "omprog?". A
    layout key's near miss is at most two edits away, and a third of its length."""
    from qpack.errors import did_you_mean, edits

    assert (edits("ommysql", "ommail"), edits("ui-gkt", "ui-gtk"), edits("davv", "dav")) == (3, 1, 1)
    ids = ["ommail", "omprog", "imtcp", "dav"]
    assert did_you_mean(["ommysql"], ids) == "; did you mean ommail?"  # a name typed on the command line
    assert did_you_mean(["ommysql"], ids, max_edits=2) == ""
    assert did_you_mean(["ompgsql"], ids, max_edits=2) == ""
    assert did_you_mean(["im-tcp"], ids, max_edits=2) == "; did you mean imtcp?"
    assert did_you_mean(["davv"], ids, max_edits=2) == "; did you mean dav?"
    assert did_you_mean(["omprg"], ids, max_edits=2) == "; did you mean omprog?"


def test_an_optional_package_this_build_gives_no_file_is_left_out() -> None:
    """An rsyslog tester's layout, on a build without the kafka plug-ins: the group package
    rsyslog-kafka had no files, and the wheel split stopped ("a wheel cannot be empty"). An
    `optional` package is left out, with a warning, and no other package requires it; one not
    optional is kept, and said to be empty, as before."""
    core = PackageRule(name="prog-core", rest=True)
    for optional in (True, False):
        kafka = PackageRule(name="prog-kafka", kind="group", modules=("block-kafka*",), optional=optional)
        tools = PackageRule(
            name="prog-tools", files=("usr/share/prog/*",), requires=("prog-kafka",), required=False
        )
        plan = make_plan(inventory(*BUILD), layout(core, kafka, tools))
        names = [p.name for p in plan.packages]
        assert ("prog-kafka" in names) is not optional
        said = [w for w in plan.warnings if "prog-kafka" in w]
        if optional:
            assert said == [
                "package 'prog-kafka' (optional) has no files in this build: left out of the split"
            ]
            assert plan.package("prog-tools").requires == ()
        else:
            assert said == ["package 'prog-kafka' has no files in this build"]
            assert "prog-kafka" in plan.package("prog-tools").requires


def test_a_core_package_recommends_modules(tmp_path: Path) -> None:
    """Debian's remmina Recommends remmina-plugin-rdp, -vnc and -secret (a Remmina tester):
    [modules.recommends] takes modules only, so the core could recommend none. A [[package]]'s
    `recommends` names modules by id (globs too); its package recommends their packages, and
    a module not in the split is said, as for [modules.recommends]."""
    core = PackageRule(
        name="prog-core", rest=True, recommends=("block-*", "ui-opengl", "ui-nope", "ui-gkt", "prog-ui-gtk")
    )
    plan = make_plan(inventory(*BUILD), layout(core))
    assert plan.package("prog-core").recommends == ("prog-block-curl", "prog-ui-opengl")
    assert [w for w in plan.warnings if "recommends" in w] == [
        "package 'prog-core' recommends module 'ui-nope', which is not in this build: left out of its "
        "recommends",
        "package 'prog-core' recommends module 'ui-gkt', which is not in this build: left out of its "
        "recommends (did you mean ui-gtk?)",
        "package 'prog-core' recommends module 'prog-ui-gtk', which is not in this build: left out of its "
        "recommends ('prog-ui-gtk' is a package: `recommends` takes module ids)",
    ]
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    old = 'name = "demo-core"\nkind = "core"\nrest = true\n'
    assert old in text
    (tmp_path / "rec.toml").write_text(text.replace(old, old + 'recommends = ["ui-*", "audio-pa"]\n'))
    assert load_layout(tmp_path / "rec.toml").packages[0].recommends == ("ui-*", "audio-pa")
    (tmp_path / "bad.toml").write_text(text.replace(old, old + 'recommends = ["ui/x"]\n'))
    with pytest.raises(LayoutError, match=r"recommends\[0\]"):
        load_layout(tmp_path / "bad.toml")


UI_GTK_CONF, MODULE_CONF = "{prefix}/share/prog/ui-gtk.conf", "{prefix}/share/prog/{module}.conf"


def test_a_group_takes_its_modules_own_files() -> None:
    """An nginx tester's group of stream modules left each module's conf (a load_module line,
    `[per-module] files`) in the core: a module's own files go where the module goes, a group
    included; `{package}` is then the group's name. A file the group's own rule names as well
    is the group's once, not "claimed twice"."""
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        PackageRule(name="prog-ui", kind="group", modules=("ui-*",), files=(UI_GTK_CONF,), index=1),
        per_module=PerModule(name="prog-{module}", files=(MODULE_CONF, "{prefix}/share/doc/{package}/**")),
    )
    confs = ("usr/share/prog/ui-gtk.conf", "usr/share/prog/ui-opengl.conf", "usr/share/prog/block-curl.conf")
    docs = ("usr/share/doc/prog-ui/copyright", "usr/share/doc/prog-block-curl/copyright")
    inv = inventory(*BUILD, *confs, *docs)
    plan = make_plan(inv, lay)
    assert plan.package("prog-ui").files == (
        "usr/lib/prog/ui-gtk.so",
        "usr/lib/prog/ui-opengl.so",
        "usr/share/doc/prog-ui/copyright",
        "usr/share/prog/ui-gtk.conf",
        "usr/share/prog/ui-opengl.conf",
    )
    assert plan.package("prog-block-curl").files == (
        "usr/lib/prog/block-curl.so",
        "usr/share/doc/prog-block-curl/copyright",
        "usr/share/prog/block-curl.conf",
    )
    assert plan.package("prog-core").files == ("usr/bin/prog", "usr/share/prog/data.txt")


def test_per_module_files_clash_with_an_explicit_rule() -> None:
    lay = layout(
        PackageRule(name="prog-core", rest=True, files=("{prefix}/share/doc/**",)),
        per_module=PerModule(name="prog-{module}", files=("{prefix}/share/doc/{package}/**",)),
    )
    with pytest.raises(PlanError, match=r"copyright: claimed twice: by package\[0\] 'prog-core'"):
        make_plan(inventory(*BUILD, "usr/share/doc/prog-ui-gtk/copyright"), lay)
    # Of a group's modules, the one whose glob claims it is named, not every module of the group
    # (an Erlang tester's kernel include/ file was "claimed ... by modules' own files (compiler,
    # erts, kernel, sasl, stdlib)").
    group = layout(
        PackageRule(name="prog-core", rest=True, files=("{prefix}/share/doc/**",)),
        PackageRule(name="prog-ui", kind="group", modules=("ui-*",), index=1),
        per_module=PerModule(name="prog-{module}", files=("{prefix}/share/doc/{name}/**",)),
    )
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*BUILD, "usr/share/doc/gtk/copyright"), group)
    assert e.value.problems == [
        "usr/share/doc/gtk/copyright: claimed twice: by package[0] 'prog-core' "
        "(files '{prefix}/share/doc/**') and by modules' own files "
        "(per-module.files '{prefix}/share/doc/{name}/**' of 'ui-gtk')"
    ]


def test_one_directory_in_several_packages() -> None:
    lay = layout(
        PackageRule(name="prog-core", rest=True, files=("{prefix}/share/prog/hooks",)),
        PackageRule(name="prog-extra", files=("{prefix}/share/prog/hooks", "{prefix}/bin/prog"), index=1),
    )
    plan = make_plan(inventory(*BUILD, dirs=("usr/share/prog/hooks",)), lay)
    assert "usr/share/prog/hooks" in plan.package("prog-core").files
    assert "usr/share/prog/hooks" in plan.package("prog-extra").files
    # Files still cannot be in two packages.
    lay2 = layout(
        PackageRule(name="prog-core", rest=True, files=("{prefix}/bin/prog",)),
        PackageRule(name="prog-extra", files=("{prefix}/bin/prog",), index=1),
    )
    with pytest.raises(PlanError, match="usr/bin/prog: claimed twice"):
        make_plan(inventory(*BUILD), lay2)


def test_requirements_outside_the_split_and_alternatives(tmp_path: Path) -> None:
    text = (
        PROG_LOADER
        + """
    [[package]]
    name = "prog-core"
    rest = true
    depends = ["adduser", "logrotate (>= 3.8)", "libfoo1 (>= 1.2) | libbar1"]
    [[package]]
    name = "prog-extra"
    files = ["{prefix}/share/**"]
    requires = ["prog-core | prog-core-lite"]
    [per-module]
    name = "prog-{module}"
    depends = ["prog-common"]
    requires = ["prog-core | prog-core-lite"]
    """
    )
    (tmp_path / "l.toml").write_text(textwrap.dedent(text))
    lay = load_layout(tmp_path / "l.toml")
    plan = make_plan(inventory(*BUILD), lay)
    core, extra = plan.package("prog-core"), plan.package("prog-extra")
    assert core.depends == ("adduser", "logrotate (>= 3.8)", "libfoo1 (>= 1.2) | libbar1")
    assert extra.requires == ("prog-core",) and extra.alternatives == {"prog-core": ("prog-core-lite",)}
    gtk = plan.package("prog-ui-gtk")
    assert gtk.depends == ("prog-common",)
    # [per-module] requires takes alternatives as [[package]] does (WeeChat's plugins depend on
    # weechat-curses | weechat-headless); it was "unknown package 'prog-core | prog-core-lite'".
    assert gtk.requires == ("prog-core",) and gtk.alternatives == {"prog-core": ("prog-core-lite",)}
    from qpack.writers.tree import requirements

    assert requirements(extra, "1.0-1") == [
        {
            "package": "prog-core",
            "relation": "=",
            "version": "1.0-1",
            "debian": "prog-core (= 1.0-1) | prog-core-lite (= 1.0-1)",
            "alternatives": ["prog-core-lite"],
        }
    ]
    # plan's table and --json say them too (a WeeChat tester's plan showed weechat-curses alone).
    assert plan.to_json()["packages"][1]["alternatives"] == {"prog-core": ["prog-core-lite"]}
    assert "alternatives" not in plan.to_json()["packages"][0]
    from qpack.console import plan_rows

    assert [r[4] for r in plan_rows(plan) if r[0] == "prog-ui-gtk"] == ["prog-core | prog-core-lite"]
    bad = text.replace('"adduser"', '"add user"').replace('"prog-core | prog-core-lite"', '"prog-core | /x"')
    assert bad.count('"prog-core | /x"') == 2
    (tmp_path / "bad.toml").write_text(textwrap.dedent(bad))
    with pytest.raises(LayoutError) as e:
        load_layout(tmp_path / "bad.toml")
    assert any("package[0].depends[0]: bad requirement 'add user'" in p for p in e.value.problems)
    assert any("package[1].requires[0]: bad requirement" in p for p in e.value.problems)
    assert any("per-module.requires[0]: bad requirement" in p for p in e.value.problems)


def test_a_core_package_the_modules_need_not_require(tmp_path: Path) -> None:
    """WeeChat's weechat-doc, libgphoto2-dev, Enchant's -dev: core packages by default, so every
    module package and the meta package required them (three testers). `required = false`
    leaves one out of those defaults; it stays a core package."""
    text = (
        PROG_LOADER
        + """
    [[package]]
    name = "prog-core"
    rest = true
    [[package]]
    name = "prog-doc"
    files = ["{prefix}/share/**"]
    required = false
    [per-module]
    name = "prog-{module}"
    [meta]
    name = "prog"
    """
    )
    (tmp_path / "l.toml").write_text(textwrap.dedent(text))
    plan = make_plan(inventory(*BUILD), load_layout(tmp_path / "l.toml"))
    assert plan.package("prog-doc").kind == "core"
    assert plan.package("prog-ui-gtk").requires == ("prog-core",)
    assert plan.package("prog").requires == ("prog-core",)
    (tmp_path / "bad.toml").write_text(
        textwrap.dedent(text).replace('name = "prog-doc"', 'name = "prog-doc"\nkind = "group"')
    )
    with pytest.raises(LayoutError, match="required: only a core package can be left out"):
        load_layout(tmp_path / "bad.toml")


def test_library_requirements_do_not_depend_on_the_order_of_the_package_tables() -> None:
    """Qt's libqt5gui5 links Core, DBus and Network, and Network links DBus and Core: it
    required core, dbus and network, or only dbus and network, as libqt5dbus5's table came
    later or first (the requirements reduced in the order they were found). The reduction is
    the graph's own: a library another requirement brings is implied, whatever the order."""
    lib = elf_entry
    libs = [
        lib("usr/lib/libcore.so.5", "libcore.so.5"),
        lib("usr/lib/libdbus.so.5", "libdbus.so.5", "libcore.so.5"),
        lib("usr/lib/libnet.so.5", "libnet.so.5", "libdbus.so.5", "libcore.so.5"),
        lib("usr/lib/libgui.so.5", "libgui.so.5", "libcore.so.5", "libdbus.so.5", "libnet.so.5"),
        lib("usr/bin/prog", None, "libgui.so.5", "libcore.so.5"),
    ]
    inv = with_entries(inventory("usr/lib/prog/ui-curses.so"), libs)
    rules = [PackageRule(name=f"p-{n}", kind="core", files=(f"{{prefix}}/lib/lib{n}.so.5",))
             for n in ("core", "dbus", "net", "gui")]  # fmt: skip
    rest = PackageRule(name="prog-core", rest=True)
    seen = set()
    for order in (rules, rules[::-1], [rules[1], rules[3], rules[0], rules[2]]):
        plan = make_plan(inv, layout(rest, *order))
        got = {r.name: plan.package(r.name).requires for r in rules}
        got["prog-core"] = plan.package("prog-core").requires
        seen.add(tuple(sorted(got.items())))
    assert seen == {(
        ("p-core", ()), ("p-dbus", ("p-core",)), ("p-gui", ("p-net",)), ("p-net", ("p-dbus",)),
        ("prog-core", ("p-gui",)),
    )}  # fmt: skip


def test_a_plugin_carrying_another_librarys_soname_provides_nothing() -> None:
    """A VLC tester put a copy of libidn (SONAME libidn.so.12) at plugins/misc/libfake_plugin.so:
    the plan said the core linking libidn.so.12 took it from the plugin's package, a cycle,
    exit 2. The dynamic linker opens a needed library by name; outside the library directories
    a file provides its SONAME only under that name (its own, or a link's beside it)."""
    elf = elf_entry
    extra = [
        elf("usr/bin/prog", None, "libidn.so.12", "libpriv.so.1"),
        elf("usr/lib/prog/ui-gtk.so", "libidn.so.12"),  # a module with another library's SONAME
        elf("usr/lib/prog/private/libpriv.so.1.0.0", "libpriv.so.1"),  # found through its link
        Entry("usr/lib/prog/private/libpriv.so.1", "symlink", 0o777, 15, None, "libpriv.so.1.0.0"),
    ]
    inv = with_entries(inventory("usr/lib/prog/ui-curses.so"), extra)
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        PackageRule(name="prog-priv", kind="core", files=("{prefix}/lib/prog/private/**",)),
        loader=dataclasses.replace(LOADER, dependencies={}),
    )
    plan = make_plan(inv, lay)
    assert plan.package("prog-core").requires == ("prog-priv",)  # libpriv.so.1, by its link's name
    assert "prog-ui-gtk" not in plan.package("prog-core").requires


def test_requires_may_name_a_module_package(tmp_path: Path) -> None:
    """Debian's claws-mail-plugins requires five plugin packages, which [per-module] names: the
    layout refused them ("unknown package"), though `plan` listed them. With [per-module], a
    name that is no [[package]] is the plan's to find; one the build has no package of, or a
    core requiring a module package (which requires the core back), is a problem."""
    text = (
        PROG_LOADER
        + """
    [[package]]
    name = "prog-core"
    rest = true
    [per-module]
    name = "prog-{module}"
    [meta]
    name = "prog"
    requires = ["prog-core", "prog-block-curl"]
    """
    )
    (tmp_path / "l.toml").write_text(textwrap.dedent(text))
    plan = make_plan(inventory(*BUILD), load_layout(tmp_path / "l.toml"))
    assert plan.package("prog").requires == ("prog-core", "prog-block-curl")
    # Alternatives, as a [[package]] takes them (a Claws Mail tester's meta refused them).
    (tmp_path / "alt.toml").write_text(
        textwrap.dedent(text).replace('"prog-block-curl"]', '"prog-block-curl | prog-ui-gtk"]')
    )
    meta = make_plan(inventory(*BUILD), load_layout(tmp_path / "alt.toml")).package("prog")
    assert meta.requires == ("prog-core", "prog-block-curl")
    assert meta.alternatives == {"prog-block-curl": ("prog-ui-gtk",)}
    (tmp_path / "typo.toml").write_text(
        textwrap.dedent(text).replace('"prog-block-curl"]', '"prog-block-curd"]')
    )
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*BUILD), load_layout(tmp_path / "typo.toml"))
    assert (
        "package 'prog' requires 'prog-block-curd', which is no package of this split (neither a "
        "[[package]] nor a module package this build has)"
    ) in e.value.problems
    back = textwrap.dedent(text).replace("rest = true", 'rest = true\nrequires = ["prog-block-curl"]')
    (tmp_path / "back.toml").write_text(back)
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*BUILD), load_layout(tmp_path / "back.toml"))
    assert (
        "package 'prog-core' requires 'prog-block-curl' (the layout's requires), which requires it back "
        "(module packages require the core packages): a cycle"
    ) in e.value.problems
    # A module dependency is named as the cause (a Claws Mail tester's core held smime, whose
    # dependency pgpcore was in a group the layout made require the core).
    lay = layout(
        PackageRule(name="prog-core", rest=True, modules=("ui-gtk",)),
        PackageRule(name="prog-gl", kind="group", modules=("ui-opengl",), requires=("prog-core",)),
    )
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*BUILD), lay)
    assert [p for p in e.value.problems if "a cycle" in p] == [
        "package 'prog-core' requires 'prog-gl' (module ui-gtk needs module ui-opengl), which requires it "
        "back (the layout's requires): a cycle"
    ]  # once, not again from prog-gl's side (a ProFTPD tester's cycle was said twice)


def test_a_core_packages_symlink_into_another_package_requires_it() -> None:
    """A Pidgin tester: libpurple-dev's libpurple.so -> libpurple.so.0 (libpurple0's) gave
    libpurple-dev no requirement, where Debian's Depends on libpurple0 (= V): installed alone,
    its links dangled. Only module and group packages had followed their links."""
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        PackageRule(name="prog-dev", kind="core", files=("{prefix}/lib/libprog.so",), required=False),
    )
    plan = make_plan(inventory(*BUILD, "usr/lib/libprog.so.1", "usr/lib/libprog.so@libprog.so.1"), lay)
    assert plan.package("prog-dev").requires == ("prog-core",)
    assert plan.package("prog-core").requires == ()
    # --explain says why (a GTK 4 tester's libgtk-4-1 required libgtk-4-common through doc links).
    assert [(r.package, r.requires, r.why) for r in plan.link_requirements] == [
        ("prog-dev", "prog-core", "usr/lib/libprog.so is a symlink to usr/lib/libprog.so.1")
    ]
    from qpack.report import _requirements_section

    assert "<td>prog-dev</td><td>prog-core</td><td>symlink usr/lib/libprog.so</td>" in _requirements_section(
        plan, None
    ).replace("\n", "")


def test_a_core_takes_the_modules_no_rule_claims_with_rest_modules(tmp_path: Path) -> None:
    """Debian's pulseaudio is the daemon and 67 modules, kamailio the server and 130: the rest
    of the modules, beside the groups that claim some. A layout listed every module id by hand
    (a new module upstream then broke the plan), or passed --unclaimed core on every run."""
    text = (
        PROG_LOADER
        + """
    [[package]]
    name = "prog"
    rest = true
    rest-modules = true
    [[package]]
    name = "prog-ui"
    kind = "group"
    modules = ["ui-*"]
    """
    )
    (tmp_path / "l.toml").write_text(textwrap.dedent(text))
    plan = make_plan(inventory(*BUILD), load_layout(tmp_path / "l.toml"))
    assert plan.package("prog").modules == ("block-curl",)
    assert plan.package("prog-ui").modules == ("ui-gtk", "ui-opengl")
    assert plan.package("prog").files == (
        "usr/bin/prog",
        "usr/lib/prog/block-curl.so",
        "usr/share/prog/data.txt",
    )
    bad = {
        "group": text.replace('modules = ["ui-*"]', 'modules = ["ui-*"]\nrest-modules = true'),
        "per-module": text + '[per-module]\nname = "prog-{module}"\n',
        "two": text.replace('modules = ["ui-*"]', 'modules = ["ui-*"]\nrest = true'),
    }
    said = {
        "group": "package[1].rest-modules: only a core package takes it",
        "per-module": "per-module: a core package with rest-modules = true already takes every other module",
        "two": "prog, prog-ui would each take the modules no rule claims",
    }
    for case, layout_text in bad.items():
        (tmp_path / f"{case}.toml").write_text(textwrap.dedent(layout_text))
        with pytest.raises(LayoutError) as e:
            load_layout(tmp_path / f"{case}.toml")
        assert any(said[case] in p for p in e.value.problems), (case, e.value.problems)


def test_layout_system_dirs_are_nobodys(tmp_path: Path) -> None:
    lay = layout(PackageRule(name="prog-core", rest=True))
    plan = make_plan(inventory(*BUILD, "etc/monitrc.d/prog"), lay)  # monit's directory
    assert "etc/monitrc.d" in plan.package("prog-core").dirs
    lay2 = dataclasses.replace(lay, system_dirs=("etc/monitrc.d",))
    assert (
        "etc/monitrc.d"
        not in make_plan(inventory(*BUILD, "etc/monitrc.d/prog"), lay2).package("prog-core").dirs
    )
    # Known ones are nobody's without a word in the layout (logrotate's, mime-support's).
    for d in ("etc/logrotate.d", "usr/lib/mime/packages", "lib/udev/hwdb.d", "usr/lib/udev/hwdb.d"):
        assert d not in make_plan(inventory(*BUILD, f"{d}/prog"), lay).package("prog-core").dirs
    # PulseAudio's and GStreamer's testers: other frameworks' directories, owned as %dir.
    shared = [
        "etc/xdg/autostart",
        "usr/lib/systemd/user",
        "etc/dbus-1/system.d",
        "usr/share/alsa/alsa.conf.d",
        "etc/pam.d",  # and a Samba tester's
        "etc/cron.daily",
        "etc/ufw/applications.d",
        "etc/dhcp/dhclient-enter-hooks.d",
        "usr/share/vim/addons/syntax",  # and an nginx tester's
        "usr/share/vim/addons/ftplugin",  # and another's: vim's runtime directories, each
        "usr/share/vim/vimfiles/after",
        "usr/share/vim/registry",
        "var/www",  # a lighttpd tester's
        # A PackageKit tester's: polkit's, D-Bus's, APT's, and systemd's unit drop-ins.
        "usr/share/polkit-1/rules.d",
        "usr/share/dbus-1/interfaces",
        "var/lib/polkit-1/localauthority",
        "etc/apt/apt.conf.d",
        "lib/systemd/system/system-update.target.wants",
        "usr/lib/systemd/system/multi-user.target.wants",
    ]
    for d in [*shared, "usr/lib/x86_64-linux-gnu/pkgconfig", "usr/share/gir-1.0"]:
        assert not {d, d.rpartition("/")[0]} & set(
            make_plan(inventory(*BUILD, f"{d}/prog"), lay).package("prog-core").dirs
        ), d
    assert (
        "usr/lib/x86_64-linux-gnu/prog"
        in make_plan(inventory(*BUILD, "usr/lib/x86_64-linux-gnu/prog/x"), lay).package("prog-core").dirs
    )  # a directory of its own under the triplet is the package's
    # A directory of its own under vim's add-on tree is the package's.
    vim = make_plan(inventory(*BUILD, "usr/share/vim/addons/ftplugin/nginx/x.vim"), lay)
    assert [d for d in vim.package("prog-core").dirs if "vim" in d] == ["usr/share/vim/addons/ftplugin/nginx"]
    # An nginx tester: perl's module tree was libnginx-mod-http-perl's %dir; its own auto/nginx is.
    perl = make_plan(inventory(*BUILD, "usr/lib/x86_64-linux-gnu/perl5/5.36/auto/nginx/nginx.so"), lay)
    assert [d for d in perl.package("prog-core").dirs if "perl5" in d] == [
        "usr/lib/x86_64-linux-gnu/perl5/5.36/auto/nginx"
    ]


def test_a_symlink_to_a_directory_is_claimed_by_its_dir_glob() -> None:
    """Debian's usr/share/doc/<pkg> -> <other pkg>: `{prefix}/share/doc/<pkg>/**` claims the link."""
    lay = layout(
        PackageRule(name="prog-core", rest=True),
        PackageRule(name="prog-x", files=("{prefix}/share/doc/prog-x/**", "{prefix}/bin/prog"), index=1),
    )
    plan = make_plan(
        inventory(*BUILD, "usr/share/doc/prog-x@prog-core", "usr/share/doc/prog-core/README"), lay
    )
    assert "usr/share/doc/prog-x" in plan.package("prog-x").files
    assert "usr/share/doc/prog-core/README" in plan.package("prog-core").files


def test_a_module_that_is_no_elf_file_is_warned_of_whatever_its_name() -> None:
    """PostgreSQL tries the bare name before `.so` (`naming = ["{name}", "{name}.so"]`): a data
    file in the module directory is then a module. The scan says "not an ELF file" only of a
    file named like a library, so the plan warned of `bogus.so` and not of `bogus`; `check` then
    failed on it as unreadable."""
    loader = dataclasses.replace(LOADER, naming=Naming("{type}-{name}", ("ui", "block")))
    inv = inventory("usr/bin/prog")
    data = Entry("usr/lib/prog/ui-notes", "file", 0o644, 40, "0" * 64)
    inv = dataclasses.replace(inv, entries=tuple(sorted([*inv.entries, data], key=lambda e: e.path)))
    plan = make_plan(inv, layout(loader=loader))
    assert (
        "usr/lib/prog/ui-notes: module unreadable: not an ELF file; the loader cannot load it"
        in plan.warnings
    )


def test_a_modules_file_its_own_files_glob_takes_is_explained_as_the_module(tmp_path: Path) -> None:
    """An LV2 tester's bundles: `[per-module] files = ["{prefix}/lib/lv2/{name}.lv2/**"]` takes
    each bundle whole, its module's `.so` too, and `--explain` said the `.so` was there as one
    of the module's own files, as its `.ttl` files are, rather than as the module itself."""
    text = textwrap.dedent(PROG_LOADER) + '[[package]]\nname = "prog-core"\nrest = true\n'
    text += '[per-module]\nname = "prog-{module}"\nfiles = ["{prefix}/lib/prog/{type}-{name}*"]\n'
    (tmp_path / "layout.toml").write_text(text)
    plan = make_plan(inventory(*BUILD, "usr/lib/prog/ui-gtk.ttl"), load_layout(tmp_path / "layout.toml"))
    why = {c.path: c.rule for c in plan.claims}
    assert why["usr/lib/prog/ui-gtk.so"] == why["usr/lib/prog/block-curl.so"].replace("block-curl", "ui-gtk")
    assert why["usr/lib/prog/ui-gtk.so"].startswith("per-module.name")
    assert why["usr/lib/prog/ui-gtk.ttl"] == (
        "modules' own files (ui-gtk): per-module.files '{prefix}/lib/prog/{type}-{name}*' of 'ui-gtk'"
    )
    assert plan.package("prog-ui-gtk").files == ("usr/lib/prog/ui-gtk.so", "usr/lib/prog/ui-gtk.ttl")


def test_a_per_module_summary_takes_the_placeholders_its_name_does(tmp_path: Path) -> None:
    """A Varnish tester's `summary = "Varnish VMOD {name}"` stayed literal in every wheel: only
    `{module}` was filled in."""
    text = textwrap.dedent(PROG_LOADER) + '[[package]]\nname = "prog-core"\nrest = true\n'
    text += '[per-module]\nname = "prog-{module}"\nsummary = "prog {type} module {name} ({module})"\n'
    (tmp_path / "layout.toml").write_text(text)
    plan = make_plan(inventory(*BUILD), load_layout(tmp_path / "layout.toml"))
    assert plan.package("prog-ui-gtk").summary == "prog ui module gtk (ui-gtk)"


def test_a_known_module_misspelt_is_named_beside_the_file_it_leaves_out(tmp_path: Path) -> None:
    """An LXQt tester's `known = ["backlite", ...]`: libbacklight.so went into the core with a
    warning that it is not in modules.known, and nothing named the misspelt entry."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    assert '"block-curl"' in text
    (tmp_path / "k.toml").write_text(text.replace('"block-curl"', '"block-crul"'))
    files = ("usr/bin/demo", "usr/lib/demo/block/curl.so")
    found = load_layout(tmp_path / "k.toml").loader.find_modules(inventory(*files))
    assert [w for w in found.never_looked_up if "curl.so" in w] == [
        "usr/lib/demo/block/curl.so: in a module directory, but the loader never looks up this name "
        "(module 'block-curl' is not in modules.known; modules.known lists 'block-crul': a typo?)"
    ]
    # The near name offered is one that names no file of the tree (a GVfs tester's "stfp" for
    # "sftp" was offered 'ftp', a module the build has).
    (tmp_path / "f.toml").write_text(text.replace('"block-curl"', '"block-lurc", "block-url"'))
    found = load_layout(tmp_path / "f.toml").loader.find_modules(
        inventory(*files, "usr/lib/demo/block/url.so")
    )
    assert [w for w in found.never_looked_up if "curl.so" in w] == [
        "usr/lib/demo/block/curl.so: in a module directory, but the loader never looks up this name "
        "(module 'block-curl' is not in modules.known; modules.known lists 'block-lurc': a typo?)"
    ]


def test_a_group_whose_modules_take_none_is_warned_of() -> None:
    """A GDAL tester's group `modules = ["*_GRASS"]` matched nothing (ids are gdal-GRASS): the
    plug-ins went to packages of their own, the group held the docs, and the plan said nothing."""
    group = PackageRule(
        name="prog-net", kind="group", modules=("net-*",), files=("usr/share/prog/data.txt",), index=1
    )
    plan = make_plan(inventory(*BUILD), layout(PackageRule(name="prog-core", rest=True), group))
    assert plan.package("prog-net").files == ("usr/share/prog/data.txt",)
    assert [w for w in plan.warnings if "name no module" in w] == [
        "package[1] 'prog-net': its modules (net-*) name no module of this build; the group holds none"
    ]
    taking = dataclasses.replace(group, modules=("net-*", "ui-*"))
    plan = make_plan(inventory(*BUILD), layout(PackageRule(name="prog-core", rest=True), taking))
    assert not [w for w in plan.warnings if "name no module" in w]


def test_a_module_file_in_its_own_directory_above_where_it_goes_is_never_looked_up() -> None:
    """An R tester moved jsonlite/libs/jsonlite.so to jsonlite/jsonlite.so: R fails ("shared
    object 'jsonlite.so' not found"); the plan put it in the core without a word, as it did the
    package's other files. A file named as modules are, in a module's own directory (`{name}/`)
    above where its file goes, is never looked up; the package's data there is nothing."""
    lay_loader = dataclasses.replace(LOADER, naming=Naming("{name}/libs/{name}.so"))
    build = (
        "usr/bin/prog",
        "usr/lib/prog/jsonlite/DESCRIPTION",
        "usr/lib/prog/jsonlite/jsonlite.so",
        "usr/lib/prog/stats/libs/stats.so",
    )
    plan = make_plan(inventory(*build), layout(loader=lay_loader))
    assert [w for w in plan.warnings if "never looks up" in w] == [
        "usr/lib/prog/jsonlite/jsonlite.so: in a module directory, but the loader never looks up this "
        "name (modules are named '{name}/libs/{name}.so')"
    ]
    assert [m.id for m in plan.modules] == ["stats"]


def test_a_link_to_the_loader_library_in_a_module_directory_is_no_stray() -> None:
    """A Tcl tester's search list reads /usr/lib, where libtcl8.6.so.0 -> libtcl8.6.so (the
    layout's `library`) was called a file the loader never looks up; a file of no one there
    still is."""
    lib_loader = dataclasses.replace(LOADER, library="{prefix}/lib/prog/libprog-1.so")
    build = (
        *BUILD,
        "usr/lib/prog/libprog-1.so",
        "usr/lib/prog/libprog-1.so.0@libprog-1.so",
        "usr/lib/prog/ui.so",
    )
    plan = make_plan(inventory(*build), layout(loader=lib_loader))
    assert [w.partition(":")[0] for w in plan.warnings if "never looks up" in w] == ["usr/lib/prog/ui.so"]
    # The layout naming the link, the file it leads to and its other links are the loader's too
    # (an OpenCL tester's library libOpenCL.so.1 -> libOpenCL.so.1.0.0, and the -dev libOpenCL.so).
    lib_loader = dataclasses.replace(LOADER, library="{prefix}/lib/prog/libprog-1.so.0")
    build = (*build, "usr/lib/prog/libprog.so@libprog-1.so")
    plan = make_plan(inventory(*build), layout(loader=lib_loader))
    assert [w.partition(":")[0] for w in plan.warnings if "never looks up" in w] == ["usr/lib/prog/ui.so"]


def test_a_file_the_scan_read_as_no_elf_is_no_stray_whatever_its_name() -> None:
    """A libcamera tester's ipa_vimc.so.sign (a 256-byte signature beside its module) was
    warned of as a file the loader never looks up, for the `.so.` in its name; the scan had
    read it as no ELF file, and the README says such a file is no such problem."""
    inv = inventory(*BUILD, "usr/lib/prog/ui-gtk.so.sign", "usr/lib/prog/ui-old.so.1")
    entries = [
        dataclasses.replace(e, elf_error="not an ELF file") if e.path.endswith(".sign") else e
        for e in inv.entries
    ]
    plan = make_plan(dataclasses.replace(inv, entries=tuple(entries)), layout())
    assert [w.partition(":")[0] for w in plan.warnings if "never looks up" in w] == [
        "usr/lib/prog/ui-old.so.1"
    ]


def test_a_file_named_as_modules_with_an_empty_name_is_said_so() -> None:
    """An Ettercap tester's ec_.so (Sylpheed's .so alike) loads for the real program, whose
    glob `ec_*.so` takes an empty name; plan and check said "never looks up this name (modules
    are named 'ec_{name}.so')", which the name fits. qpack takes no module of an empty name,
    and says that."""
    plan = make_plan(inventory(*BUILD, "usr/lib/prog/ui-.so"), layout())
    assert [w for w in plan.warnings if "ui-.so" in w] == [
        "usr/lib/prog/ui-.so: in a module directory, named as modules are with an empty name, which "
        "qpack takes as no module (a module id cannot be empty; the loader may load it)"
    ]


def test_two_types_whose_ids_meet_are_said_so() -> None:
    """A GKrellM tester's types `plugins` and `plugins-gkrellmd`: the client's
    plugins/gkrellmd-top.so and the server's plugins-gkrellmd/top.so both became the id
    plugins-gkrellmd-top, and plan said it was "installed twice". Two types make the same id."""
    lay_loader = dataclasses.replace(
        LOADER, naming=Naming("{type}/{name}.so", ("plugins", "plugins-gkrellmd"))
    )
    build = ("usr/bin/prog", "usr/lib/prog/plugins/gkrellmd-top.so", "usr/lib/prog/plugins-gkrellmd/top.so")
    with pytest.raises(PlanError) as e:
        make_plan(inventory(*build), layout(loader=lay_loader))
    assert (
        "module id 'plugins-gkrellmd-top' is given to files of types 'plugins' and 'plugins-gkrellmd' "
        "(usr/lib/prog/plugins-gkrellmd/top.so, usr/lib/prog/plugins/gkrellmd-top.so): their ids meet; "
        "rename a type, or set [loader] id-separator"
    ) in e.value.problems


def test_module_files_of_a_key_that_is_no_module_are_warned_of() -> None:
    """A Rhythmbox tester's [modules.files] "pythonconsole" (a Python plug-in, no module to his
    layout) put python-console/* in the core without a word. A key for a module the build lacks
    whose files are absent too says nothing (a layout serving builds with other modules)."""
    lay = dataclasses.replace(
        layout(), module_files={"console": ("{prefix}/share/prog/*",), "gone": ("{prefix}/x/*",)}
    )
    plan = make_plan(inventory(*BUILD), lay)
    assert [w for w in plan.warnings if "[modules.files]" in w] == [
        "[modules.files] key 'console' names no module of this build, but its files are: 1 file(s) "
        "(usr/share/prog/data.txt) went to prog-core"
    ]


def test_a_module_needing_another_version_of_a_library_of_the_build_is_warned_of() -> None:
    """A Kea tester's hook patched to need libkea-dhcpsrv.so.68 beside the build's .so.69, as
    a hook of another build would: plan and split said nothing, and kea-dhcp4 refused it."""
    inv = with_entries(
        inventory("usr/bin/prog", "usr/lib/prog/block-curl.so"),
        [
            elf_entry("usr/lib/libprog-core.so.69", "libprog-core.so.69"),
            elf_entry("usr/lib/prog/ui-old.so", None, "libprog-core.so.68"),
            elf_entry("usr/lib/prog/ui-new.so", None, "libprog-core.so.69", "libc.so.6"),
            # A module whose own SONAME shares the stem of a system library it needs is no
            # version of it (a Pidgin tester's prpl libzephyr.so needing libzephyr.so.4).
            elf_entry("usr/lib/prog/ui-zephyr.so", "ui-zephyr.so", "ui-zephyr.so.4"),
        ],
    )
    plan = make_plan(inv, layout())
    assert [w for w in plan.warnings if "another build" in w] == [
        "usr/lib/prog/ui-old.so: module needs libprog-core.so.68, and the build has libprog-core.so.69 "
        "instead: a module of another build? Where the system has no such library, it does not load"
    ]


def test_a_file_of_an_undeclared_type_directory_is_a_stray_only_where_its_name_says_so() -> None:
    """A CUPS tester's `{type}/{name}` naming (backends and filters are programs of any name):
    cupsd's own cgi-bin/*.cgi and daemon/cups-deviced were files the loader never looks up,
    exit 1 on Debian's install. A name that fits a pattern with text of its own is still one
    (the demo's undeclared net/tap.so beside `{type}/{name}.so`)."""
    programs = Naming("{type}/{name}", ("backend", "filter"))
    assert not programs.could_name("cgi-bin/admin.cgi")
    assert not programs.could_name("daemon/cups-deviced")
    libraries = Naming("{type}/{name}.so", ("ui", "block"))
    assert libraries.could_name("net/tap.so")
    build = (*BUILD, "usr/lib/prog/cgi-bin/admin.cgi", "usr/lib/prog/backend/usb")
    bare = dataclasses.replace(LOADER, naming=programs, stamp_symbol=None, dependencies={})
    plan = make_plan(inventory(*build), layout(loader=bare), unclaimed="core")
    assert not [w for w in plan.warnings if "admin.cgi" in w], plan.warnings


def test_a_type_spelt_one_letter_off_its_directory_is_warned_of() -> None:
    """A CUPS tester's `types = ["backed", ...]` beside backend/: with `{type}/{name}` (programs
    of any name), the 12 backends went to the core, no module of the type and no word of it."""
    naming = Naming("{type}/{name}", ("backed", "filter"))
    bare = dataclasses.replace(LOADER, naming=naming, stamp_symbol=None, dependencies={})
    build = (
        "usr/bin/prog",
        "usr/lib/prog/filter/pstops",
        "usr/lib/prog/backend/usb",
        "usr/lib/prog/backend/ipp",
    )
    plan = make_plan(inventory(*build), layout(loader=bare), unclaimed="core")
    assert [w for w in plan.warnings if "mistyped in [loader] types" in w] == [
        "type 'backed' has no module, and backend/ beside the other types' directories holds 2 file(s) "
        "where such modules would be: is the type mistyped in [loader] types?"
    ]
    right = dataclasses.replace(bare, naming=Naming("{type}/{name}", ("backend", "filter")))
    assert not [w for w in make_plan(inventory(*build), layout(loader=right)).warnings if "mistyped" in w]


def test_a_deeper_file_is_said_only_where_named_as_the_modules_start() -> None:
    """An NSS tester's libc build: every gconv/*.so below `libnss_{name}.so.2`'s directory was
    "deeper than the loader looks", 200 warnings; a file named as modules start still is."""
    naming = Naming("libnss_{name}.so.2")
    nss = dataclasses.replace(LOADER, naming=naming, stamp_symbol=None, dependencies={})
    build = ("usr/bin/prog", "usr/lib/prog/libnss_x.so.2", "usr/lib/prog/gconv/UTF-16.so",
             "usr/lib/prog/sub/libnss_y.so.2")  # fmt: skip
    plan = make_plan(inventory(*build), layout(loader=nss), unclaimed="core")
    assert [w.partition(":")[0] for w in plan.warnings if "deeper than the loader looks" in w] == [
        "usr/lib/prog/sub/libnss_y.so.2"
    ]


def test_a_library_linked_through_its_links_and_a_program_are_no_strays_beside_modules() -> None:
    """A Bacula tester's plug-in directory holds bacula-dir's catalog library, linked as
    libbaccats-9.6.7.so -> libbaccats-sqlite3-9.6.7.so, its -dev link, and helper programs
    (bsmtp): 14 "never looks up this name" warnings for one plug-in."""
    build = inventory(
        *BUILD,
        "usr/lib/prog/libcats-9.so@libcats-sqlite-9.so",
        "usr/lib/prog/libcats-sqlite-9.so",
        "usr/lib/prog/libcats.so@libcats-9.so",
        "usr/lib/prog/bsmtp",
        "usr/lib/prog/stray-x.so",
    )
    entries = [
        elf_entry(e.path, None, "libcats-9.so") if e.path == "usr/bin/prog" else e for e in build.entries
    ]
    plan = make_plan(dataclasses.replace(build, entries=tuple(entries)), layout(), unclaimed="core")
    assert [w.partition(":")[0] for w in plan.warnings if "never looks up" in w] == [
        "usr/lib/prog/stray-x.so"
    ]


def test_module_files_with_placeholders_of_a_module_the_build_lacks_are_read(tmp_path: Path) -> None:
    """A [modules.files] key naming no module of the build, whose glob holds `{package}`: the
    check that its files are not in the build compiled the glob as it was, and the plan ended in
    a GlobError traceback. Its placeholders match anything there."""
    head = textwrap.dedent(PROG_LOADER) + '[[package]]\nname = "prog-core"\nrest = true\n'
    text = head + '[per-module]\nname = "prog-{module}"\n[modules.files]\n'
    text += '"block-nope" = ["{prefix}/share/doc/{package}/*"]\n'
    (tmp_path / "layout.toml").write_text(text)
    plan = make_plan(
        inventory(*BUILD, "usr/share/doc/prog-block-nope/README"), load_layout(tmp_path / "layout.toml")
    )
    assert [w for w in plan.warnings if "block-nope" in w] == [
        "[modules.files] key 'block-nope' names no module of this build, but its files are: 1 file(s) "
        "(usr/share/doc/prog-block-nope/README) went to prog-core"
    ]


def test_modules_in_another_versions_directory_beside_a_location_are_warned_of() -> None:
    """SoapySDR reads lib/.../SoapySDR/modules0.8 only: a tester's plug-in moved to modules0.7
    went into the core package in silence. pppd's 2.4.8 beside 2.4.9 is the same shape; a
    directory of another name (`extras`) or a location without digits is not."""
    versioned = Loader(
        executables=("{prefix}/bin/prog",),
        search=(SearchLocation("relocated", "lib/prog/modules0.8"),),
        naming=Naming("{name}.so"),
    )
    build = inventory(
        "usr/bin/prog",
        "usr/lib/prog/modules0.8/rtl.so",
        "usr/lib/prog/modules0.7/redpitaya.so",
        "usr/lib/prog/modules0.7/README",
        "usr/lib/prog/extras/hackrf.so",
    )
    plan = make_plan(build, layout(loader=versioned))
    (warned,) = [w for w in plan.warnings if "another version" in w]
    assert warned.startswith("usr/lib/prog/modules0.7/redpitaya.so: in a module directory of another version")
    assert "beside modules0.8, which the loader searches" in warned
    assert not any("hackrf" in w or "README" in w for w in plan.warnings), plan.warnings
    plain = dataclasses.replace(versioned, search=(SearchLocation("relocated", "lib/prog/modules"),))
    renamed = inventory("usr/bin/prog", "usr/lib/prog/modules/rtl.so", "usr/lib/prog/modules1/old.so")
    assert not [w for w in make_plan(renamed, layout(loader=plain)).warnings if "another version" in w]


def test_modules_in_another_versions_directory_are_warned_of_as_deep_as_the_naming() -> None:
    """libvisual reads `libvisual-0.4/{type}/{name}.so`: a plug-in in `libvisual-0.5/actor/` was
    "outside the module directories" in plan, where check said "of another version"; the
    directory compared is the one the naming starts from, and any segment's version counts
    (libproxy's `0.4.17/modules` beside `0.4.18/modules`)."""
    typed = Loader(
        executables=("{prefix}/bin/prog",),
        search=(SearchLocation("relocated", "lib/libvisual-0.4"),),
        naming=Naming("{type}/{name}.so", types=("actor", "input")),
    )
    build = inventory(
        "usr/bin/prog",
        "usr/lib/libvisual-0.4/actor/jess.so",
        "usr/lib/libvisual-0.5/actor/oinksie.so",
    )
    plan = make_plan(build, layout(loader=typed), unclaimed="core")
    assert [w for w in plan.warnings if "another version" in w] == [
        "usr/lib/libvisual-0.5/actor/oinksie.so: in a module directory of another version (libvisual-0.5, "
        "beside libvisual-0.4, which the loader searches): never looked up (a module of another release?)"
    ]
    nested = dataclasses.replace(typed, search=(SearchLocation("relocated", "lib/proxy/0.4.18/modules"),))
    nested = dataclasses.replace(nested, naming=Naming("{name}.so"))
    build = inventory(
        "usr/bin/prog", "usr/lib/proxy/0.4.18/modules/a.so", "usr/lib/proxy/0.4.17/modules/b.so"
    )
    plan = make_plan(build, layout(loader=nested), unclaimed="core")
    assert [w for w in plan.warnings if "another version" in w] == [
        "usr/lib/proxy/0.4.17/modules/b.so: in a module directory of another version (0.4.17/modules, "
        "beside 0.4.18/modules, which the loader searches): never looked up (a module of another release?)"
    ]


def test_many_small_sets_of_one_files_bytes_are_said_in_one_line() -> None:
    """A terminfo tester's plan gave 676 warnings, one per set of aliases (a few hundred bytes
    each), a pkgconf tester's one per .pc file: small sets, more than two, are one line; big
    ones, and two or fewer, are each said as before."""
    loader = Loader(
        executables=("{prefix}/bin/prog",),
        search=(SearchLocation("relocated", "lib/prog"),),
        naming=Naming("{name}.so"),
    )

    def build(sets: int, size: int) -> Inventory:
        inv = inventory("usr/bin/prog", *(f"usr/lib/prog/m{i}{c}.so" for i in range(sets) for c in "ab"))
        entries = [
            dataclasses.replace(e, sha256=f"{int(e.path[-5]) + 1:064x}", size=size)
            if e.path.endswith(".so")
            else e
            for e in inv.entries
        ]
        return dataclasses.replace(inv, entries=tuple(entries))

    warned = [w for w in make_plan(build(4, 100), layout(loader=loader)).warnings if "one file's bytes" in w]
    assert warned == [
        "4 sets of small modules are one file's bytes (m0a, m0b; m1a, m1b and 2 more sets): wheels and "
        "installs from them hold each as a copy (800 bytes in all)"
    ]
    warned = [w for w in make_plan(build(2, 100), layout(loader=loader)).warnings if "one file's bytes" in w]
    assert [w.split(" are ")[0] for w in warned] == ["modules m0a, m0b", "modules m1a, m1b"]
    warned = [
        w for w in make_plan(build(4, 1 << 20), layout(loader=loader)).warnings if "one file's bytes" in w
    ]
    assert len(warned) == 4, warned
