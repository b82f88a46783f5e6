"""A layout that does not fit the build is an error, not a silent split of the wrong files:
no module found, no file under the prefix, no build stamp in the executables."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from qpack.cli import main
from qpack.fit import LayoutFitError, check_fit, fit_findings
from qpack.layout import load_layout

from .conftest import QemuBuild

DEMO_LAYOUT = Path(__file__).parent.parent / "qpack/layouts/demo.toml"  # edited by the tests below


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def qpack(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`qpack ARGS` through cli.main in this process (the real parser and handlers, without an
    interpreter start per call)."""

    def run(*args: str) -> Result:
        status = main(list(args))
        out, err = capsys.readouterr()
        return Result(status, out, err)

    return run


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_split_of_the_demo_with_the_qemu_layout_fails_naming_what_it_found(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    out = tmp_path / "x"
    r = qpack("split", str(demo_build), "-l", "qemu", "--version", "1", "-o", str(out))
    assert r.returncode == 2, r.stdout
    errors = _errors(r.stderr)
    assert any(
        e.startswith("error: no module under usr/lib/x86_64-linux-gnu/qemu")
        and "usr/lib/demo/ui (3 .so files)" in e
        for e in errors
    ), r.stderr
    assert all("is the layout or --prefix wrong?" in e or "stamp" in e for e in errors)
    assert not out.exists(), "nothing may be written"


def test_plan_with_a_wrong_prefix_fails(demo_build: Path, qpack: Callable[..., Result]) -> None:
    r = qpack("plan", str(demo_build), "-l", "demo", "--prefix", "/opt/demo")
    assert r.returncode == 2
    errors = _errors(r.stderr)
    assert "error: no file under the prefix /opt/demo; the build has files under usr/ (" in errors[0]
    assert errors[1].startswith("error: no module under opt/demo/lib/demo or var/run/demo/{pkgversion};")
    assert "usr/lib/demo/ui (3 .so files)" in errors[1]


@pytest.mark.qemu
def test_qemu_plan_with_prefix_opt_fails_before_split_would(
    qemu_build: QemuBuild, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    r = qpack("plan", str(qemu_build.root), "-l", "qemu", "--prefix", "/opt")
    assert r.returncode == 2
    assert "no module under opt/lib/x86_64-linux-gnu/qemu" in r.stderr
    assert "usr/lib/x86_64-linux-gnu/qemu (" in r.stderr
    r = qpack("split", str(qemu_build.root), "-l", "qemu", "--prefix", "/opt", "--version", "1",
                  "-o", str(tmp_path / "w"))  # fmt: skip
    assert r.returncode == 2
    assert "platform tag" not in r.stderr and "no file under the prefix /opt" in r.stderr


def test_executables_without_the_stamp_are_an_error(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    lay = tmp_path / "other-stamp.toml"
    lay.write_text(
        '[layout]\nname = "other-stamp"\ndescription = "demo, another stamp"\nextends = "demo"\n'
        '[loader.stamp]\nsymbol = "nosuch_stamp_*"\n'
    )
    r = qpack("plan", str(demo_build), "-l", str(lay))
    assert r.returncode == 2
    assert _errors(r.stderr) == [
        "error: the layout demands the build stamp nosuch_stamp_*, but no executable it names holds one "
        "(usr/bin/demo): is the layout wrong for this build? (--allow-empty to plan it anyway)"
    ]


def test_a_loader_library_holding_the_stamp_fits(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """VLC's libvlccore holds its vlc_entry__* stamp name: the scan searched only the
    executables' read-only data, so plan refused the build ('no loader library it names holds
    one') while check read it. A library named by its SONAME link is the file the link leads
    to: read for the stamp too (it was passed over, with nothing said)."""
    import shutil

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    shutil.copy(build / "usr/bin/demo", build / "usr/lib/libstamped.so.1")  # holds demo_stamp_*
    (build / "usr/lib/libunstamped.so.1").symlink_to("libdemo-util.so.1")  # holds none
    text = DEMO_LAYOUT.read_text()
    lay = tmp_path / "lib.toml"

    def plan(library: str) -> Result:
        lay.write_text(
            text.replace('executables = ["{prefix}/bin/demo"]', f'library = "{{prefix}}/lib/{library}"')
        )
        return qpack("plan", str(build), "-l", str(lay), "--unclaimed", "core")

    r = plan("libstamped.so.1")
    assert r.returncode == 0, r.stderr
    r = plan("libunstamped.so.1")
    assert r.returncode == 2
    assert "no loader library it names holds one (usr/lib/libdemo-util.so.1)" in r.stderr


def test_allow_empty_plans_with_warnings(demo_build: Path, qpack: Callable[..., Result]) -> None:
    r = qpack("plan", str(demo_build), "-l", "qemu", "--allow-empty", "--json")
    assert r.returncode == 0, r.stderr
    assert [p["name"] for p in json.loads(r.stdout)["packages"]] == ["qemu-core", "qemu"]
    assert "warning: no module under usr/lib/x86_64-linux-gnu/qemu" in r.stderr


def test_scan_shows_the_mismatch_as_warnings(demo_build: Path, qpack: Callable[..., Result]) -> None:
    r = qpack("scan", str(demo_build), "-l", "qemu", "--json")
    assert r.returncode == 0
    assert any(w.startswith("no module under") for w in json.loads(r.stdout)["warnings"])


def test_the_layouts_fit_their_own_builds(demo_build: Path) -> None:
    """No false alarm: the demo layout on the demo build, and the library call itself."""
    lay = load_layout("demo")
    inv = lay.loader.scan(demo_build)
    assert fit_findings(inv, lay.loader) == ([], [])
    assert check_fit(inv, lay.loader) == ([], [])
    qemu = load_layout("qemu")
    with pytest.raises(LayoutFitError) as e:
        check_fit(qemu.loader.scan(demo_build), qemu.loader)
    assert len(e.value.problems) == 1


@pytest.mark.qemu
def test_qemu_layouts_fit_debians_build(qemu_build: QemuBuild) -> None:
    for name in ("qemu", "qemu-debian"):
        lay = load_layout(name)
        problems, warnings = fit_findings(lay.loader.scan(qemu_build.root), lay.loader)
        assert (problems, warnings) == ([], []), name


def test_modules_reached_only_through_a_variable_are_said(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A PHP tester's layout named PHP 8.1's API directory (/usr/lib/php/20210902) where the
    build's extensions are in 20220829, its variable's `wheels` directory: the plan found every
    module there and said nothing (the fit guard counts that directory), and `check /usr` said
    "0 of 0 modules load". The plan warns; check names where the modules are and the --env."""
    demo = DEMO_LAYOUT.read_text()
    layout = tmp_path / "typo.toml"
    layout.write_text(
        demo.replace('env = "DEMO_MODULE_DIR"', 'env = "DEMO_MODULE_DIR"\nwheels = "lib/demo"').replace(
            'relocated = "lib/demo"', 'relocated = "lib/demo-old"'
        )
    )
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert (
        "warning: no module of the build is where the loader looks by default ({prefix}/lib/demo-old, "
        "/var/run/demo/{pkgversion}); they are in usr/lib/demo ($DEMO_MODULE_DIR), a variable's `wheels` "
        "directory: installed from these packages, the loader finds them only with that variable set. "
        "Is a location of the layout wrong?"
    ) in r.stderr.splitlines()
    r = qpack("check", "/usr", "--root", str(demo_build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert (
        "warning: no module where the loader looks (/usr/lib/demo-old); /usr/lib/demo holds files, which "
        "it reads with --env DEMO_MODULE_DIR=/usr/lib/demo"
    ) in r.stderr.splitlines()
    # A location that is a link leading nowhere says so (an nginx tester's share/nginx/modules
    # -> ../../lib/nginx/modulez).
    from .conftest import copy_build

    linked = copy_build(demo_build, tmp_path)
    (linked / "usr/lib/demo-old").symlink_to("demo-gone")
    r = qpack("check", "/usr", "--root", str(linked), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert (
        "warning: no module where the loader looks (/usr/lib/demo-old: a link to demo-gone, which leads "
        "nowhere); /usr/lib/demo holds files"
    ) in r.stderr, r.stderr
    # The layout as shipped: neither.
    for args in (("plan", str(demo_build)), ("check", "/usr", "--root", str(demo_build))):
        r = qpack(*args, "-l", "demo")
        assert "no module" not in r.stderr, r.stderr
    # Some types lost only (a PipeWire tester's `spa-0.3` for `spa-0.2`: 22 of 53 modules, the
    # one every program loads among them, said nothing).
    import shutil

    build = copy_build(demo_build, tmp_path / "types")
    (build / "usr/lib/demo2").mkdir()
    shutil.move(build / "usr/lib/demo/block", build / "usr/lib/demo2/block")
    old = '[[loader.search]]\nrelocated = "lib/demo"\n'
    layout.write_text(
        demo.replace(
            old,
            f'[[loader.search]]\nenv = "DEMO2_DIR"\nwheels = "lib/demo2"\n{old}'
            '[[loader.search]]\nrelocated = "lib/demo-2"\n',
        ).replace(
            'types = ["ui", "block", "audio"]',
            'types = ["ui", "block", "audio"]\nprogram-needs = ["block-curl"]',
        )
    )
    r = qpack("plan", str(build), "-l", str(layout), "--unclaimed", "core")
    assert r.returncode == 0, r.stderr
    assert (
        "warning: no module of 1 type(s) (block; 2 modules) is where the loader looks by default "
        "({prefix}/lib/demo, {prefix}/lib/demo-2, /var/run/demo/{pkgversion}); they are in usr/lib/demo2 "
        "($DEMO2_DIR), a variable's `wheels` directory; block-curl, which every program loads as it starts, "
        "among them: installed from these packages, the loader finds them only with that variable set. "
        "Is a location of the layout wrong?"
    ) in r.stderr.splitlines(), r.stderr
    # A type's own variable with `wheels` (a GraphicsMagick tester's modules-Q8 for modules-Q16:
    # every coder in MAGICK_CODER_MODULE_PATH's `wheels`, and not a word).
    layout.write_text(
        demo.replace('relocated = "lib/demo"', 'relocated = "lib/demo-old"')
        + "".join(
            f'[loader.by-type.{t}]\nenv = "DEMO_{t.upper()}_PATH"\nwheels = "lib/demo/{t}"\n'
            for t in ("ui", "block", "audio")
        )
    )
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert (
        "warning: no module of the build is where the loader looks by default ({prefix}/lib/demo-old, "
        "/var/run/demo/{pkgversion}); they are in usr/lib/demo/ui ($DEMO_UI_PATH), usr/lib/demo/block "
        "($DEMO_BLOCK_PATH), usr/lib/demo/audio ($DEMO_AUDIO_PATH), a variable's `wheels` directory: "
        "installed from these packages, the loader finds them only with that variable set. "
        "Is a location of the layout wrong?"
    ) in r.stderr.splitlines(), r.stderr


def test_a_location_mistyped_beside_another_that_holds_modules_is_warned_of(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A Pure Data tester's `lib/puredata/extras` for `extra`: other locations held modules, so
    the plan passed, and put the 10 modules of `extra` in the core as plain files in silence."""
    import shutil

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    (build / "usr/lib/demo-extra/ui").mkdir(parents=True)
    shutil.move(build / "usr/lib/demo/ui/gtk.so", build / "usr/lib/demo-extra/ui/gtk.so")
    old = '[[loader.search]]\nrelocated = "lib/demo"\n'
    layout = tmp_path / "typo.toml"
    text = DEMO_LAYOUT.read_text().replace(old, f'{old}[[loader.search]]\nrelocated = "lib/demo-extras"\n')
    layout.write_text(text.replace('"ui-gtk", ', "").replace('"ui-gtk" = ["ui-opengl"]\n', ""))
    r = qpack("plan", str(build), "-l", str(layout), "--unclaimed", "core")
    assert r.returncode == 0, r.stderr
    assert (
        "warning: [[loader.search]] relocated = 'lib/demo-extras': usr/lib/demo-extras is not in the "
        "build, and usr/lib/demo-extra beside it holds 1 file(s) named as modules are (ui/gtk.so): is the "
        "location mistyped? Those files are no modules to the plan"
    ) in r.stderr.splitlines(), r.stderr
    # Where a variable's `wheels` directory is that one, its files are modules all the same (an
    # HDF5 tester read "no modules to the plan" beside their packages).
    wheels = layout.read_text().replace(
        'env = "DEMO_MODULE_DIR"\n', 'env = "DEMO_MODULE_DIR"\nwheels = "lib/demo-extra"\n'
    )
    (tmp_path / "wheels.toml").write_text(wheels)
    r = qpack("plan", str(build), "-l", str(tmp_path / "wheels.toml"), "--unclaimed", "core")
    assert [line for line in r.stderr.splitlines() if line.startswith("warning: [[loader.search]]")] == [
        "warning: [[loader.search]] relocated = 'lib/demo-extras': usr/lib/demo-extras is not in the "
        "build, and usr/lib/demo-extra beside it holds 1 file(s) named as modules are (ui/gtk.so): is the "
        "location mistyped? The plan finds them only in $DEMO_MODULE_DIR's `wheels` directory"
    ], r.stderr
    # Or where another location is that directory (an ALSA tester's relocated `alsa-libs` beside
    # the absolute alsa-lib that found every plug-in).
    also = layout.read_text().replace(old, f'{old}[[loader.search]]\nabsolute = "/usr/lib/demo-extra"\n', 1)
    (tmp_path / "also.toml").write_text(also)
    r = qpack("plan", str(build), "-l", str(tmp_path / "also.toml"), "--unclaimed", "core")
    assert (
        "location mistyped? The plan finds them through absolute = '/usr/lib/demo-extra' all the same"
    ) in r.stderr, r.stderr
    layout.write_text(layout.read_text().replace("lib/demo-extras", "lib/demo-extra"))
    r = qpack("plan", str(build), "-l", str(layout), "--unclaimed", "core")
    assert r.returncode == 0 and "mistyped" not in r.stderr, r.stderr
    # A typo in a segment before the last (a libproxy tester's `0.4.81/modules` for `0.4.18`).
    (build / "usr/lib/x-1.2.18").mkdir()
    shutil.move(build / "usr/lib/demo-extra", build / "usr/lib/x-1.2.18/extra")
    layout.write_text(layout.read_text().replace("lib/demo-extra", "lib/x-1.2.81/extra"))
    r = qpack("plan", str(build), "-l", str(layout), "--unclaimed", "core")
    assert (
        "warning: [[loader.search]] relocated = 'lib/x-1.2.81/extra': usr/lib/x-1.2.81/extra is not in "
        "the build, and usr/lib/x-1.2.18/extra holds 1 file(s) named as modules are (ui/gtk.so): is the "
        "location mistyped? Those files are no modules to the plan"
    ) in r.stderr.splitlines(), r.stderr


def test_a_location_that_is_a_link_to_a_directory_of_the_build_is_no_typo(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A Perl tester's location perl/5.36, a link to perl/5.36.0 in the build: plan said it was
    not in the build and mistyped, and warned of 35 modules behind it as installed in the wrong
    place, while it found them there."""
    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    (build / "usr/lib/demo").rename(build / "usr/lib/demo.0")  # named almost as the location
    (build / "usr/lib/demo").symlink_to("demo.0")
    entry = DEMO_LAYOUT.read_text().replace(
        'naming = "{type}/{name}.so"\n', 'naming = "{type}/{name}.so"\nentry = "demo_module_init"\n'
    )
    layout = tmp_path / "entry.toml"
    layout.write_text(entry)
    r = qpack("plan", str(build), "-l", str(layout), "--json")
    assert r.returncode == 0, r.stderr
    assert "mistyped" not in r.stderr and "wrong place" not in r.stderr, r.stderr
    assert sum(len(p["modules"]) for p in json.loads(r.stdout)["packages"] if p["kind"] != "meta") == 7


def test_object_files_below_the_modules_are_no_misplaced_modules(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A Node tester's addons (`{name}/build/Release/{name}.node`) ship their build's
    obj.target/**/*.o: scan, plan and split each said of the 16 that they were "deeper than the
    loader looks". A relocatable object is nothing a loader opens; a shared object there still is
    said."""
    import shutil
    import subprocess

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    ui = build / "usr/lib/demo/ui"
    for mod in (build / "usr/lib/demo").glob("*/*.so"):
        mod.rename(mod.with_suffix(".node"))
    (ui / "obj/deep").mkdir(parents=True)
    src = tmp_path / "x.c"
    src.write_text("int x(void) { return 1; }\n")
    subprocess.run(["gcc", "-c", "-fPIC", "-o", str(ui / "obj/deep/x.o"), str(src)], check=True)
    layout = tmp_path / "node.toml"
    layout.write_text(
        DEMO_LAYOUT.read_text().replace('naming = "{type}/{name}.so"', 'naming = "{type}/{name}.node"')
    )
    r = qpack("plan", str(build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert "deeper than the loader looks" not in r.stderr, r.stderr
    shutil.copy(ui / "gtk.node", ui / "obj/deep/gtk.node")
    r = qpack("plan", str(build), "-l", str(layout))
    assert [line for line in r.stderr.splitlines() if "deeper than the loader looks" in line] == [
        "warning: usr/lib/demo/ui/obj/deep/gtk.node: in a module directory, but deeper than the loader "
        "looks (1 directory level(s) below the location; modules are named '{type}/{name}.node' with "
        "types ui, block, audio)"
    ]


def test_no_module_beside_a_mistyped_location_names_that_location(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A Node tester's `nodjs` for `nodejs`, whose addons are `.node` files: plan refused the
    layout, naming the one .so of the build elsewhere (libnode.so.108), not the directory of
    modules beside the typo."""
    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    for mod in (build / "usr/lib/demo").glob("*/*.so"):
        mod.rename(mod.with_suffix(".node"))
    text = DEMO_LAYOUT.read_text().replace('naming = "{type}/{name}.so"', 'naming = "{type}/{name}.node"')
    layout = tmp_path / "typo.toml"
    layout.write_text(text.replace('relocated = "lib/demo"', 'relocated = "lib/dem"'))
    r = qpack("plan", str(build), "-l", str(layout))
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == (
        "error: no module under usr/lib/dem or var/run/demo/{pkgversion}; [[loader.search]] relocated = "
        "'lib/dem': usr/lib/dem is not in the build, and usr/lib/demo beside it holds 7 file(s) named as "
        "modules are (audio/alsa.node, audio/pa.node, block/curl.node): is the location mistyped? Those "
        "files are no modules to the plan (--allow-empty to plan it anyway)"
    ), r.stderr


def test_a_type_named_in_a_mistyped_directory_beside_its_modules_stops_the_plan(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """An Audacious tester's `naming = "Inptu/{name}.so"` for the input plug-ins: the plan warned
    18 times, each file on its own, and the split put them in the core with exit 0, while
    other types' modules were found. A type with no module, beside a directory named almost as
    its naming's, holding files named as its modules are, is a mistyped naming."""
    text = DEMO_LAYOUT.read_text()
    typed = text.replace("[modules]", '[loader.by-type.block]\nnaming = "blokc/{name}.so"\n\n[modules]')
    layout = tmp_path / "typo.toml"
    layout.write_text(typed)
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 2
    assert _errors(r.stderr) == [
        "error: no module of type 'block': usr/lib/demo has no blokc/, and usr/lib/demo/block beside it "
        "holds 2 file(s) named as its modules are (curl.so, nfs.so): is the naming 'blokc/{name}.so' "
        "mistyped? (--allow-empty to plan it anyway)"
    ], r.stderr
    # Named right, the same layout plans.
    layout.write_text(typed.replace("blokc/", "block/"))
    assert qpack("plan", str(demo_build), "-l", str(layout)).returncode == 0
    # Another type's own directory is no slip of this one's (a Vim tester's runtime holding
    # plugin/ alone: "is the naming 'ftplugin/{name}.vim' mistyped?", of plugin's files).
    layout.write_text(typed.replace("blokc/", "uii/"))
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert "is the naming 'uii/{name}.so' mistyped?" not in r.stderr, r.stderr


def test_no_module_known_among_files_named_as_modules_names_known(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A Guile tester's `known` left out the one extension of his build: plan said "no file ...
    matches the naming", sending him to a naming that was right. It names `known`."""
    text = DEMO_LAYOUT.read_text()
    known = next(line for line in text.splitlines(keepends=True) if line.startswith("known = "))
    deps = text[text.index("[modules.dependencies]") : text.index("[[package]]")]
    layout = tmp_path / "known.toml"
    layout.write_text(text.replace(known, 'known = ["ui-nothing"]\n').replace(deps, ""))
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == (
        "error: no module under usr/lib/demo or var/run/demo/{pkgversion}: its files named as modules are "
        "(usr/lib/demo/audio/alsa.so, usr/lib/demo/audio/pa.so and 5 more) are not in modules.known: is "
        "`known` wrong? (--allow-empty to plan it anyway)"
    ), r.stderr


def test_executables_matching_nothing_are_warned_of(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A PHP tester's `bin/php82` for `bin/php8.2`: plan and split said nothing, and only a check
    after installing said no program was there."""
    demo = DEMO_LAYOUT.read_text()
    layout = tmp_path / "typo.toml"
    layout.write_text(demo.replace('"{prefix}/bin/demo"', '"{prefix}/bin/demo2"'))
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert (
        "warning: no file of the build matches the layout's executables (usr/bin/demo2): a build of "
        "modules alone (`check` of an install then needs --program), or a name mistyped?"
    ) in r.stderr.splitlines()
    assert "matches the layout's" not in qpack("plan", str(demo_build), "-l", "demo").stderr
    # A loader library misspelt beside executables that match (an MLT tester's libmlt7.so.7 for
    # libmlt-7.so.7): check would judge the executables alone.
    demo_lib = demo.replace("[loader]\n", '[loader]\nlibrary = "{prefix}/lib/libdemo-utils.so.*"\n', 1)
    assert demo_lib != demo
    layout.write_text(demo_lib)
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if "matches the layout" in line] == [
        "warning: no file of the build matches the layout's loader library (usr/lib/libdemo-utils.so.*): "
        "is its name mistyped? `check` then judges the executables alone, not every program linking it"
    ]
    layout.write_text(demo_lib.replace("libdemo-utils", "libdemo-util"))
    assert "matches the layout" not in qpack("plan", str(demo_build), "-l", str(layout)).stderr


def test_a_mistyped_program_types_key_is_warned_of(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A NetworkManager tester's mistyped `[loader.program-types]` key matched no program and
    was ignored without a word: the program then counted as asking for every type. A key for a
    program this build lacks (one configured without it) is not warned of."""
    demo = DEMO_LAYOUT.read_text()
    layout = tmp_path / "types.toml"
    types = '[loader.program-types]\n"{prefix}/bin/deom" = ["block"]\n"{prefix}/bin/demo-microvm" = []\n'
    layout.write_text(demo.replace("[[loader.search]]", types + "[[loader.search]]", 1))
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if "program-types" in line] == [
        "warning: loader.program-types: '{prefix}/bin/deom' matches no file of the build; did you mean "
        "demo? Until it does, that program counts as asking for every module type"
    ]


def test_a_module_outside_the_module_directories_is_warned_of(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A PHP tester's gd_wrong.so in usr/lib/php, beside the API directory: a shared object
    defining the entry the loader calls went into the core without a word. One a file of the
    build links is a library, not read."""
    import shutil

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    shutil.copy(build / "usr/lib/demo/ui/gtk.so", build / "usr/lib/gtk.so")
    demo = DEMO_LAYOUT.read_text()
    layout = tmp_path / "entry.toml"
    layout.write_text(
        demo.replace(
            'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "demo_module_init"'
        )
    )
    r = qpack("plan", str(build), "-l", str(layout), "--unclaimed", "core")
    assert r.returncode == 0, r.stderr
    said = [line for line in r.stderr.splitlines() if "the entry the loader calls" in line]
    assert said == [
        "warning: usr/lib/gtk.so: defines demo_module_init, the entry the loader calls in a module, but lies "
        "outside the module directories (usr/lib/demo, var/run/demo/{pkgversion}): a module installed "
        "in the wrong place? The loader never finds it there "
        "(a [[package]] `files` entry naming its exact path, no wildcard, says it belongs there)"
    ]
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert "the entry the loader calls" not in r.stderr
    # Misnamed in the module directory (an MLT tester's xml.so beside libmltxml.so, where the
    # modules are lib{name}.so): in the core without a word, as no module and no stray.
    (build / "usr/lib/gtk.so").unlink()
    for f in (build / "usr/lib/demo").glob("*/*.so"):
        f.rename(f.with_name(f"lib{f.name}"))
    shutil.copy(build / "usr/lib/demo/ui/libgtk.so", build / "usr/lib/demo/ui/gtk.so")
    layout.write_text(
        layout.read_text().replace('naming = "{type}/{name}.so"', 'naming = "{type}/lib{name}.so"')
    )
    r = qpack("plan", str(build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if "the entry the loader calls" in line] == [
        "warning: usr/lib/demo/ui/gtk.so: defines demo_module_init, the entry the loader calls in a module, "
        "but its name is none the loader looks up (modules are named '{type}/lib{name}.so' with types ui, "
        "block, audio): a module misnamed? The loader never takes it as one"
    ]
    # Hidden, under skip-hidden: said so (a cmus tester's ip/.hidden.so was told its name fits
    # no naming, which it does).
    (build / "usr/lib/demo/ui/gtk.so").rename(build / "usr/lib/demo/ui/.libgtk2.so")
    text = layout.read_text()
    layout.write_text(
        text.replace('entry = "demo_module_init"', 'entry = "demo_module_init"\nskip-hidden = true')
    )
    r = qpack("plan", str(build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if "the entry the loader calls" in line] == [
        "warning: usr/lib/demo/ui/.libgtk2.so: defines demo_module_init, the entry the loader calls in a "
        "module, but its name starts with '.', and the loader skips hidden names (skip-hidden): the loader "
        "never takes it as a module"
    ]


def test_a_copy_of_a_module_named_entry_outside_the_module_directories_is_warned_of(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A strongSwan tester's libstrongswan-aes2.so, a copy of the aes plug-in one directory
    above the plug-ins, was split into the core without a word: its entry, aes_plugin_create,
    is named after its module, and only entries without a placeholder were looked for."""
    import shutil
    import subprocess

    build = tmp_path / "build"
    plugins = build / "usr/lib/prog/plugins"
    plugins.mkdir(parents=True)
    (build / "usr/bin").mkdir(parents=True)
    shutil.copy(demo_build / "usr/bin/demo", build / "usr/bin/prog")
    src = tmp_path / "aes.c"
    src.write_text("int aes_plugin_create(void) { return 1; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugins / "libprog-aes.so"), str(src)], check=True)
    shutil.copy(plugins / "libprog-aes.so", build / "usr/lib/prog/libprog-aes2.so")
    layout = tmp_path / "prog.toml"
    layout.write_text(
        '[layout]\nname = "prog"\n[loader]\nprefix = "/usr"\nexecutables = ["{prefix}/bin/prog"]\n'
        'naming = "libprog-{name}.so"\nentry = "{name}_plugin_create"\n'
        '[[loader.search]]\nrelocated = "lib/prog/plugins"\n'
        '[[package]]\nname = "prog"\nkind = "core"\nrest = true\n[per-module]\nname = "prog-{name}"\n'
    )
    r = qpack("plan", str(build), "-l", str(layout))
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if "the entry the loader calls" in line] == [
        "warning: usr/lib/prog/libprog-aes2.so: defines aes_plugin_create, the entry the loader calls in "
        "module 'aes', but lies outside the module directories (usr/lib/prog/plugins): a module installed "
        "in the wrong place? The loader never finds it there "
        "(a [[package]] `files` entry naming its exact path, no wildcard, says it belongs there)"
    ]
    (build / "usr/lib/prog/libprog-aes2.so").unlink()
    r = qpack("plan", str(build), "-l", str(layout))
    assert r.returncode == 0 and "the entry the loader calls" not in r.stderr, r.stderr


def test_a_naming_no_file_of_the_module_directories_matches_is_said_so(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """A libdbi tester's `libdbd{name}.so.1` for `libdbd{name}.so`: "no module under X; the
    build has .so files under X" read as a contradiction. Files there named otherwise point at
    the naming."""
    demo = DEMO_LAYOUT.read_text()
    layout = tmp_path / "naming.toml"
    layout.write_text(demo.replace('naming = "{type}/{name}.so"', 'naming = "{type}/{name}.so.1"'))
    r = qpack("plan", str(demo_build), "-l", str(layout))
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [
        "error: no file under usr/lib/demo or var/run/demo/{pkgversion} matches the naming "
        "('{type}/{name}.so.1' with types ui, block, audio); its .so files are named otherwise "
        "(usr/lib/demo/audio/alsa.so, usr/lib/demo/audio/pa.so and 5 more): is the naming wrong? "
        "(--allow-empty to plan it anyway)"
    ]
    # By the names a link beside them gives them, the ones a loader opens (a SASL tester was
    # shown libanonymous.so.2.0.25 for the libanonymous.so the naming should match).
    from .conftest import copy_build

    linked = copy_build(demo_build, tmp_path / "linked")
    audio = linked / "usr/lib/demo/audio"
    (audio / "alsa.so").rename(audio / "alsa.so.2.0.25")
    (audio / "alsa.so").symlink_to("alsa.so.2.0.25")
    r = qpack("plan", str(linked), "-l", str(layout))
    assert "(usr/lib/demo/audio/alsa.so, usr/lib/demo/audio/pa.so and 5 more)" in r.stderr, r.stderr
    # Modules that are programs, named without .so (a speech-dispatcher tester's `sd-{name}` for
    # `sd_{name}` was sent to the build's .so files elsewhere, not to the programs searched).
    build = copy_build(demo_build, tmp_path)
    for so in (build / "usr/lib/demo").glob("*/*.so"):
        so.rename(so.with_suffix(""))
    layout.write_text(demo.replace('naming = "{type}/{name}.so"', 'naming = "{type}/sd-{name}"'))
    r = qpack("plan", str(build), "-l", str(layout))
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [
        "error: no file under usr/lib/demo or var/run/demo/{pkgversion} matches the naming "
        "('{type}/sd-{name}' with types ui, block, audio); its ELF files are named otherwise "
        "(usr/lib/demo/audio/alsa, usr/lib/demo/audio/pa and 5 more): is the naming wrong? "
        "(--allow-empty to plan it anyway)"
    ]
    # Named so, but one level deeper than the loader reads (a Shotwell tester's `depth = 0` for
    # plug-ins in plugins/builtin/): said so, not "is the naming wrong?".
    flat = tmp_path / "flat.toml"
    flat.write_text(
        demo.replace('naming = "{type}/{name}.so"\ntypes = ["ui", "block", "audio"]', 'naming = "{name}.so"')
    )
    r = qpack("plan", str(demo_build), "-l", str(flat))
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines()[-1] == (
        "error: no file under usr/lib/demo or var/run/demo/{pkgversion} matches the naming ('{name}.so') "
        "where the loader reads (0 directory level(s) below the location); files named so lie deeper "
        "(usr/lib/demo/audio/alsa.so, usr/lib/demo/audio/pa.so and 5 more): is [loader] depth too small, "
        "or resolution not register-all? (--allow-empty to plan it anyway)"
    )
    # Where no file of the search locations is one, the ELF files are named by where they are
    # (a GCC tester's typo in the compilers' directory was pointed at the LTO plug-in's .so).
    wrong = demo.replace('naming = "{type}/{name}.so"', 'naming = "{type}/{name}"')
    layout.write_text(wrong.replace('relocated = "lib/demo"', 'relocated = "lib/other"'))
    r = qpack("plan", str(build), "-l", str(layout))
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines()[-1] == (
        "error: no module under usr/lib/other or var/run/demo/{pkgversion}; the build has ELF files under "
        "usr/lib/demo/ui (3 ELF files), usr/bin (2 ELF files), usr/lib/demo/audio (2 ELF files) and 2 more "
        "directories: is the layout or --prefix wrong? (--allow-empty to plan it anyway)"
    )


def test_a_failing_plan_still_says_what_the_layout_likely_got_wrong(
    demo_build: Path, tmp_path: Path, qpack: Callable[..., Result]
) -> None:
    """An Evolution tester's naming typo made module-plugin-lib.so no module: the plan failed
    with one "needs module 'module-plugin-lib', which is not in this build" per plug-in, and the
    warning naming the misnamed file, the cause, was printed only once the plan passed."""

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    for f in (build / "usr/lib/demo").glob("*/*.so"):
        if f.name != "opengl.so":  # ui-gtk needs ui-opengl: its file keeps the old name
            f.rename(f.with_name(f"lib{f.name}"))
    demo = DEMO_LAYOUT.read_text()
    layout = tmp_path / "lib.toml"
    layout.write_text(
        demo.replace('naming = "{type}/{name}.so"', 'naming = "{type}/lib{name}.so"').replace(
            'types = ["ui", "block", "audio"]', 'types = ["ui", "block", "audio"]\nentry = "demo_module_init"'
        )
    )
    r = qpack("plan", str(build), "-l", str(layout))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    cause = (
        "warning: usr/lib/demo/ui/opengl.so: defines demo_module_init, the entry the loader calls in a "
        "module, but its name is none the loader looks up (modules are named '{type}/lib{name}.so' with "
        "types ui, block, audio): a module misnamed? The loader never takes it as one"
    )
    assert cause in lines, lines
    errors = [line for line in lines if line.startswith("error:")]
    assert errors and all("ui-opengl" in line for line in errors), errors
    assert lines.index(cause) < lines.index(errors[0])
