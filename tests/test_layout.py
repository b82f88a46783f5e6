"""Layout loading and validation: every problem is one line naming the file, the key path and
what is wrong; the CLI exits 2 without a traceback."""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import io
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qpack import layout as L
from qpack.cli import main
from qpack.errors import LayoutError
from qpack.globs import GlobError, compile_glob
from qpack.loader import canon_pkgversion

from .conftest import run_qpack

BASE = """
[layout]
name = "t"
[loader]
executables = ["{prefix}/bin/prog"]
naming = "{type}-{name}.so"
types = ["ui", "block"]
[[loader.search]]
env = "PROG_MODULE_DIR"
[[loader.search]]
relocated = "lib/prog"
[loader.stamp]
symbol = "prog_stamp_*"
[[package]]
name = "prog-core"
rest = true
[per-module]
name = "prog-{module}"
"""


def write(tmp_path: Path, text: str, name: str = "t.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def problems(tmp_path: Path, text: str) -> list[str]:
    """The problems the library reports, checked to be exactly what the CLI prints: one
    `error: <file>: <key>: <problem>` line each, exit status 2, no traceback."""
    path = write(tmp_path, text)
    with pytest.raises(LayoutError) as e:
        L.load_layout(path)
    assert all(line.startswith(f"{path}: ") for line in e.value.problems), e.value.problems
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["plan", str(tmp_path / "no-build-needed"), "--layout", str(path)])
    assert status == 2
    assert err.getvalue().splitlines() == [f"error: {p}" for p in e.value.problems]
    return e.value.problems


def test_shipped_layouts_load() -> None:
    for name in ("qemu", "demo"):
        lay = L.load_layout(name)
        assert lay.name == name
        assert lay.description
    q = L.load_layout("qemu")
    assert q.loader.naming.parse("ui-curses.so") == ("ui", "curses")
    assert q.loader.naming.parse("hw-display-virtio-gpu-pci-gl.so") == ("hw", "display-virtio-gpu-pci-gl")
    assert q.loader.naming.parse("libfoo.so") is None
    assert q.loader.naming.parse("net-foo.so") is None  # not a declared type
    assert [s.kind for s in q.loader.search] == ["env", "relocated", "absolute"]
    assert q.loader.deps_of("ui-spice-app") == ("ui-spice-core", "chardev-spice")


def test_the_three_naming_schemes(tmp_path: Path) -> None:
    typed_dirs = L.load_layout(write(tmp_path, BASE.replace('"{type}-{name}.so"', '"{type}/{name}.so"')))
    assert typed_dirs.loader.naming.parse("ui/gtk.so") == ("ui", "gtk")
    assert typed_dirs.loader.naming.parse("ui-gtk.so") is None
    untyped = BASE.replace('"{type}-{name}.so"', '"lib{name}.so"').replace('types = ["ui", "block"]', "")
    lay = L.load_layout(write(tmp_path, untyped, "u.toml"))
    assert lay.loader.naming.parse("libfoo.so") == ("", "foo")
    assert lay.loader.naming.module_id("", "foo") == "foo"
    # {type} would always be empty without types: `prog-{type}-{name}` gave `prog--name`.
    typeless = untyped.replace('name = "prog-{module}"', 'name = "prog-{type}-{name}"')
    assert typeless != untyped
    found = problems(tmp_path, typeless)
    assert any(": per-module.name: " in p and "{type} is always empty" in p for p in found), found


def test_all_three_search_kinds_and_pkgversion() -> None:
    assert canon_pkgversion("Debian 1:7.2+dfsg-7+deb12u18+b3") == "Debian_1_7.2+dfsg-7+deb12u18+b3"
    # byte by byte, as g_strcanon (QEMU) and the demo's demo_util_canon work on the C string
    assert canon_pkgversion("1 ü/x") == "1____x"


@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        (("[loader]", "[loader]\nbogus = 1"), "loader.bogus", "unknown key"),
        (("[layout]", "[layout]\ncolour = 'red'"), "layout.colour", "unknown key"),
        (
            ('executables = ["{prefix}/bin/prog"]', 'executables = ["{prefix}/bin/[prog"]'),
            "loader.executables[0]",
            "bad glob",
        ),
        (
            ('executables = ["{prefix}/bin/prog"]', 'executables = ["/usr/bin/prog"]'),
            "loader.executables[0]",
            "absolute",
        ),
        (  # a key holding one glob is named without an index (it said loader.library[0]), and
            # with how to write it (a PAM tester's /lib/x86_64-linux-gnu/libpam.so.0)
            ('executables = ["{prefix}/bin/prog"]', 'library = "/lib/libprog.so.1"'),
            "loader.library",
            "absolute path (globs are relative to the build root): write 'lib/libprog.so.1'",
        ),
        (
            ('executables = ["{prefix}/bin/prog"]', 'executables = ["usr/../bin"]'),
            "loader.executables[0]",
            "'..'",
        ),
        (
            ('executables = ["{prefix}/bin/prog"]', 'executables = ["{libdir}/prog"]'),
            "loader.executables[0]",
            "placeholder",
        ),
        # A terminfo tester's prefix "/" read {prefix}usr as /usr; a venv's as <venv>usr.
        (
            ('executables = ["{prefix}/bin/prog"]', 'executables = ["{prefix}usr/bin/prog"]'),
            "loader.executables[0]",
            "{prefix} is a directory: write '{prefix}/usr/bin/prog'",
        ),
        (('name = "prog-{module}"', 'name = "prog-{modul}"'), "per-module.name", "unknown placeholder"),
        (('name = "prog-{module}"', 'name = "prog/{module}"'), "per-module.name", "'/' or '..'"),
        (('name = "prog-{module}"', 'name = "prog..{module}"'), "per-module.name", "'/' or '..'"),
        (('name = "prog-{module}"', 'name = "prog.{module}"'), "per-module.name", "could produce '..'"),
        (('naming = "{type}-{name}.so"', 'naming = "{kind}-{name}.so"'), "loader.naming", "bad pattern"),
        (('naming = "{type}-{name}.so"', 'naming = "../{name}.so"'), "loader.naming", "without '..'"),
        # A Varnish tester's `{bogus}` went into every wheel's Summary as written.
        (
            ('name = "prog-{module}"', 'name = "prog-{module}"\nsummary = "x {bogus}"'),
            "per-module.summary",
            "unknown placeholder",
        ),
        # A Qt tester's `lib{name}.so.*` was taken literally, in silence.
        (('naming = "{type}-{name}.so"', 'naming = "{type}-{name}.so.*"'), "loader.naming", "no wildcards"),
        (
            ('relocated = "lib/prog"', 'relocated = "/lib/prog"'),
            "loader.search[1].relocated",
            "relative to the prefix",
        ),
        (
            ('env = "PROG_MODULE_DIR"', 'env = "PROG MODULE"'),
            "loader.search[0].env",
            "bad environment variable",
        ),
        (('symbol = "prog_stamp_*"', 'symbol = "prog stamp"'), "loader.stamp.symbol", "bad symbol glob"),
        (("rest = true", "rest = 'yes'"), "package[0].rest", "true or false"),
        (('name = "prog-core"', 'name = "prog core"'), "package[0].name", "bad package name"),
    ],
)
def test_each_problem_names_key(tmp_path: Path, edit: tuple[str, str], key: str, message: str) -> None:
    text = BASE.replace(*edit, 1)
    assert text != BASE
    found = problems(tmp_path, text)
    assert any(f": {key}: " in p and message in p for p in found), found


def test_undefined_type_unknown_module_and_cycle(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        BASE
        + """
[modules.dependencies]
"ui-gtk" = ["net-tap"]
"block-a" = ["block-b"]
"block-b" = ["block-a"]
""",
    )
    assert any("modules.dependencies.ui-gtk[0]: unknown module 'net-tap'" in p for p in found), found
    assert any("dependency cycle: block-a -> block-b -> block-a" in p for p in found), found


def test_known_modules_list(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        BASE + '\n[modules]\nknown = ["ui-gtk"]\n[modules.dependencies]\n"ui-gtk" = ["ui-opengl"]\n',
    )
    assert any("unknown module 'ui-opengl': not in modules.known" in p for p in found), found


def test_module_ids_may_start_with_an_underscore(tmp_path: Path) -> None:
    """CPython's extension modules are `_ssl`, `_sqlite3`, `_codecs_jp` (36 of 46): the scan
    named them so, and every layout key refused them ("bad module id '_ssl'")."""
    text = BASE.replace('naming = "{type}-{name}.so"\ntypes = ["ui", "block"]', 'naming = "{name}.so"')
    more = (
        '[modules.dependencies]\n"_codecs_jp" = ["_multibytecodec"]\n'
        '[modules.files]\n"_ssl" = ["{prefix}/lib/ssl.py"]\n'
    )
    lay = L.load_layout(write(tmp_path, text + more))
    assert lay.loader.dependencies == {"_codecs_jp": ("_multibytecodec",)}
    assert problems(tmp_path, text + '[modules.dependencies]\n"-x" = ["_y"]\n') == [
        f"{tmp_path / 't.toml'}: modules.dependencies.-x: bad module id '-x'"
    ]
    # Any name the naming gives: Pure Data's audio objects end in '~' (a tester's bob~ was
    # refused by every key, glob or not).
    tilde = '[modules.dependencies]\n"bob~" = ["pd~"]\n"x*~" = ["pd~"]\n'
    tilde += '[modules.files]\n"bob~" = ["{prefix}/x"]\n'
    assert L.load_layout(write(tmp_path, text + tilde)).loader.dependencies == {
        "bob~": ("pd~",),
        "x*~": ("pd~",),
    }


def test_group_glob_with_undefined_type_is_reported_at_plan(tmp_path: Path) -> None:
    # a rename glob is validated as a module glob
    found = problems(tmp_path, BASE + '\n[per-module.renames]\n"ui/x" = "prog-{*}"\n')
    assert any("per-module.renames.ui/x" in p and "bad module glob" in p for p in found), found


def test_all_problems_reported_together(tmp_path: Path) -> None:
    text = BASE.replace("[loader]", "[loader]\nbogus = 1").replace(
        'relocated = "lib/prog"', 'relocated = "/x"'
    )
    assert len(problems(tmp_path, text)) >= 2


def test_extends_inherits_loader_and_replaces_packaging(tmp_path: Path) -> None:
    write(tmp_path, BASE, "parent.toml")
    child = write(
        tmp_path,
        """
[layout]
extends = "parent.toml"
name = "child"
[modules.dependencies]
"ui-gtk" = ["ui-opengl"]
[[package]]
name = "everything"
rest = true
[[package]]
name = "mods"
kind = "group"
modules = ["*"]
""",
        "child.toml",
    )
    lay = L.load_layout(child)
    assert lay.name == "child"
    assert lay.loader.stamp_symbol == "prog_stamp_*"
    assert [p.name for p in lay.packages] == ["everything", "mods"]
    assert lay.per_module is None  # packaging is replaced as a whole
    assert lay.loader.deps_of("ui-gtk") == ("ui-opengl",)


def test_extends_shipped_by_name_and_cycles(tmp_path: Path) -> None:
    child = write(tmp_path, '[layout]\nextends = "qemu"\nname = "q2"\n', "q2.toml")
    assert L.load_layout(child).loader.stamp_symbol == "qemu_stamp_*"
    write(tmp_path, '[layout]\nextends = "b.toml"\n', "a.toml")
    write(tmp_path, '[layout]\nextends = "a.toml"\n', "b.toml")
    with pytest.raises(LayoutError, match="cycle"):
        L.load_layout(tmp_path / "a.toml")
    write(tmp_path, '[layout]\nextends = "nope.toml"\n', "c.toml")
    with pytest.raises(LayoutError, match=r"layout\.extends: .*nope\.toml: layout file not found"):
        L.load_layout(tmp_path / "c.toml")


def test_unreadable_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="layout file not found"):
        L.load_layout(tmp_path / "missing.toml")
    with pytest.raises(LayoutError, match="invalid TOML"):
        L.load_layout(write(tmp_path, "[loader\n"))
    with pytest.raises(LayoutError, match="no such shipped layout"):
        L.load_layout("nosuchlayout")


def test_cli_layout_error_is_one_line_per_problem_exit_2(tmp_path: Path, demo_build: Path) -> None:
    bad = write(tmp_path, BASE.replace('name = "prog-{module}"', 'name = "prog/{module}"'))
    r = run_qpack("plan", str(demo_build), "--layout", str(bad))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith(f"error: {bad}: per-module.name: bad template"), r.stderr
    assert r.stdout == ""


def test_a_package_takes_modules_by_brace_alternatives(tmp_path: Path, demo_build: Path) -> None:
    """An Asterisk tester's `modules = ["chan_{dahdi,iax2,...}"]`: braces, documented for file
    globs, were plain characters in module globs; the package took nothing, said only as "has
    no files", and the 11 modules went elsewhere."""
    import json

    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    group = '[[package]]\nname = "demo-display"\nkind = "group"\nmodules = ["ui-{gtk,op*}"]\n\n[per-module]'
    layout = tmp_path / "braces.toml"
    layout.write_text(text.replace("[per-module]", group, 1))
    r = run_qpack("plan", str(demo_build), "-l", str(layout), "--json")
    assert r.returncode == 0, r.stderr
    packages = {p["name"]: p for p in json.loads(r.stdout)["packages"]}
    assert packages["demo-display"]["modules"] == ["ui-gtk", "ui-opengl"]
    assert "demo-display" not in r.stderr, r.stderr


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("usr/lib/*.so", "usr/lib/a.so", True),
        ("usr/lib/*.so", "usr/lib/x/a.so", False),
        ("usr/lib/**", "usr/lib/x/a.so", True),
        ("usr/share/doc/x/**", "usr/share/doc/x", True),  # the dir itself: a link to a directory
        ("usr/share/doc/x/**", "usr/share/doc/xy", False),
        ("**", "usr", True),
        ("usr/share/doc/*/**", "usr/share/doc/x", False),  # only a written-out dir matches itself
        ("usr/**/a.so", "usr/a.so", True),
        ("usr/**/a.so", "usr/x/y/a.so", True),
        ("usr/lib/[ab].so", "usr/lib/b.so", True),
        ("usr/lib/[!ab].so", "usr/lib/b.so", False),
        ("usr/lib/?.so", "usr/lib/ab.so", False),
        # several stars in one segment: each chunk at its earliest place, the last one greedy
        ("usr/*a*a*b", "usr/xaya_b", True),
        ("usr/*a*a*b", "usr/xab", False),
        ("usr/*a*a", "usr/aa", True),
        ("usr/*a*a", "usr/a", False),
        ("usr/**a*/x", "usr/ba/x", False),  # '**a*' is no whole segment: refused below
        ("usr/a*?[xy]*z", "usr/abxz", True),
        ("usr/a*?[xy]*z", "usr/axz", False),
        ("usr/**/**/lib/*.so", "usr/lib/a.so", True),  # `**/**` is `**`
        ("usr/**/**/lib/*.so", "usr/a/b/lib/a.so", True),
    ],
)
def test_globs(glob: str, path: str, hit: bool) -> None:
    if "**a" in glob:
        with pytest.raises(GlobError):
            compile_glob(glob)
        return
    assert (compile_glob(glob).match(path) is not None) is hit
    # The same answer as fnmatch, segment by segment, where '**' plays no part.
    if "**" not in glob and glob.count("/") == path.count("/"):
        assert (
            all(fnmatch.fnmatchcase(p, g) for g, p in zip(glob.split("/"), path.split("/"), strict=True))
            is hit
        )


def test_globs_that_backtracked_for_ever_match_at_once() -> None:
    """`*a*a*a*a*a*a*a*b` against a long name of a's, `**/` twelve times against a deep path,
    and `**/a/**/a/**/a/**/a/**/b` against a path of 200 a's: a regex with a [^/]* per star
    tried every split (13 s for seven stars on 60 characters), and one with a greedy
    `(?:[^/]+/)*` per `**` every way to spread the segments over them (73 s); a hang, not a
    slow match, is what this would show."""
    script = (
        "from qpack.globs import compile_glob\n"
        "assert compile_glob('usr/' + '*a' * 12 + '*b').match('usr/' + 'a' * 200) is None\n"
        "assert compile_glob('usr/' + '*a' * 12 + '*b').match('usr/' + 'a' * 200 + 'b')\n"
        "assert compile_glob('**/' * 12 + 'x').match('d/' * 40 + 'y') is None\n"
        "assert compile_glob('**/' * 12 + 'x').match('d/' * 40 + 'x')\n"
        # several `**` with segments between them: 73 s for this one path before
        "assert compile_glob('**/a/' * 4 + '**/b').match('a/' * 200 + 'c') is None\n"
        "assert compile_glob('**/a/' * 4 + '**/b').match('a/' * 200 + 'b')\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.returncode == 0, r.stderr


def _reference_match(glob: str, path: str) -> bool:
    """The glob meaning of the module docstring, segment by segment with fnmatch and a `**` that
    takes any number of whole segments (one or more at the end); slow, and plainly right."""
    g, p = glob.split("/"), path.split("/")
    g = [s for k, s in enumerate(g) if not (s == "**" and k and g[k - 1] == "**")]  # `**/**` is `**`
    literal_dir = len(g) > 1 and g[-1] == "**" and not any(c in "/".join(g[:-1]) for c in "*?[")
    if literal_dir and p == g[:-1]:
        return True

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(g):
            return j == len(p)
        if g[i] == "**":
            if i == len(g) - 1:
                return j < len(p)
            return any(match(i + 1, k) for k in range(j, len(p) + 1))
        return j < len(p) and fnmatch.fnmatchcase(p[j], g[i]) and match(i + 1, j + 1)

    return match(0, 0)


def test_globs_match_as_a_segment_by_segment_reference_does() -> None:
    """20,000 random globs of stars, classes and several `**` against random paths: the one
    lazy, atomic try per block between two `**` (compile_glob) misses no match."""
    rng = random.Random(7)
    parts = ["a", "b", "*", "a*", "*b", "?", "[ab]", "**", "**", "*a*b"]
    names = ["a", "b", "ab", "ba", "c", "aab"]
    hits = 0
    for _ in range(20_000):
        glob = "/".join(rng.choice(parts) for _ in range(rng.randint(1, 6)))
        path = "/".join(rng.choice(names) for _ in range(rng.randint(1, 8)))
        got = compile_glob(glob).match(path) is not None
        assert got is _reference_match(glob, path), (glob, path)
        hits += got
    assert hits > 2_000  # both answers are asked often


def _expand_braces(glob: str) -> list[str]:
    """The plain globs `{a,b}` alternatives stand for, as a shell expands them."""
    start = glob.find("{")
    if start < 0:
        return [glob]
    end = glob.index("}", start)
    return [
        g
        for alt in glob[start + 1 : end].split(",")
        for g in _expand_braces(glob[:start] + alt + glob[end + 1 :])
    ]


def test_brace_alternatives_match_as_their_expansions_do() -> None:
    """A strongSwan tester wrote `{prefix}/lib/ipsec/lib{ipsec,pttls,radius}.so*`, as a shell
    would, and was told of an unknown placeholder. `{a,b}` is either alternative, inside one
    segment: 5,000 random globs with braces match exactly as any of their expansions."""
    rng = random.Random(11)
    parts = ["a", "*", "{a,b}", "{ab,a}", "*{a,}b", "{a*,b}", "?", "**", "[ab]"]
    names = ["a", "b", "ab", "ba", "aab", "bb"]
    for _ in range(5_000):
        glob = "/".join(rng.choice(parts) for _ in range(rng.randint(1, 4)))
        path = "/".join(rng.choice(names) for _ in range(rng.randint(1, 5)))
        expected = any(compile_glob(g).match(path) for g in _expand_braces(glob))
        assert (compile_glob(glob).match(path) is not None) is expected, (glob, path)
    assert compile_glob("usr/lib/ipsec/lib{ipsec,pttls}.so*").match("usr/lib/ipsec/libpttls.so.0")
    assert not L.unknown_placeholder("usr/{a,b}/x") and L.unknown_placeholder("usr/{name}/x")


@pytest.mark.parametrize(
    "glob", ["", "/abs", "a/../b", "a//b", "a/[b", "a]b", "a**/b", "a/{b}", "a/{b/c,d}", "a/{x,{y,z}}", "a}"]
)
def test_bad_globs(glob: str) -> None:
    with pytest.raises(GlobError):
        compile_glob(glob)


def test_alternatives_across_a_slash_say_so() -> None:
    """A Perl tester's `{File/Glob,Hash/Util}` was told "unbalanced '{'": the alternatives are
    within one path segment, which the message now says."""
    with pytest.raises(GlobError, match=r"alternatives are within one path segment"):
        compile_glob("auto/{File/Glob,Hash/Util}/*.so")


def test_program_types(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        BASE
        + """
[loader.program-types]
"{prefix}/bin/prog-img" = ["block"]
"{prefix}/bin/[" = ["block"]
"{prefix}/bin/{name}" = ["ui"]
"{prefix}/bin/prog-tool" = ["net"]
"{prefix}/bin/prog-other" = "ui"
""",
    )
    key = "loader.program-types"
    assert len(found) == 4, found
    assert any(f"{key}.{{prefix}}/bin/[: bad glob" in p for p in found), found
    assert any(f"{key}.{{prefix}}/bin/{{name}}: bad glob: unknown placeholder" in p for p in found), found
    assert any(
        f"{key}.{{prefix}}/bin/prog-tool: 'net': not one of loader.types (ui, block)" in p for p in found
    )
    assert any(f"{key}.{{prefix}}/bin/prog-other: must be a list of module types" in p for p in found), found

    good = write(
        tmp_path,
        BASE + '\n[loader.program-types]\n"{prefix}/bin/prog-*" = ["block"]\n"{prefix}/bin/x" = []\n',
    )
    loader = L.load_layout(good).loader
    assert loader.types_for("/usr/bin/prog-img") == ("block",)
    assert loader.types_for("/opt/bin/prog-img", "/opt") == ("block",)
    assert loader.types_for("/usr/bin/x") == ()
    assert loader.types_for("/usr/bin/prog") is None  # no glob matches: every type
    # Module id globs beside types (Dovecot's auth: its own type and the SQL drivers among the
    # mail plugins); [modules.programs], the other way round: the only programs loading a module.
    both = write(
        tmp_path,
        BASE
        + '\n[loader.program-types]\n"{prefix}/bin/prog-*" = ["block", "ui-g*"]\n'
        + '[modules.programs]\n"block-nfs" = ["{prefix}/bin/prog-nfs*"]\n',
    )
    loader = L.load_layout(both).loader
    asks = {
        m
        for m in ("ui-gtk", "ui-curses", "block-curl", "block-nfs")
        if loader.asks_for("/usr/bin/prog-img", m)
    }
    assert asks == {"ui-gtk", "block-curl"}
    assert loader.asks_for("/usr/bin/prog-nfsd", "block-nfs") and loader.asks_for(
        "/usr/bin/prog", "ui-curses"
    )
    assert not loader.asks_for("/usr/bin/prog", "block-nfs")
    bad = problems(
        tmp_path,
        BASE
        + '\n[loader.program-types]\n"{prefix}/bin/p" = ["video-*"]\n[modules.programs]\n"ui-gtk" = "p"\n',
    )
    assert any("'video-*': not one of loader.types (ui, block), nor a module id glob" in p for p in bad), bad
    assert any("modules.programs.ui-gtk: must be a list of program globs" in p for p in bad), bad


def test_a_misspelt_key_is_named_with_the_key_it_likely_is_and_nothing_it_causes(tmp_path: Path) -> None:
    """A Janus tester's `namng`: the unknown key, then `naming` missing, then per-module's
    `{type}` called always empty, an error the typo alone caused."""
    text = BASE.replace('naming = "{type}-{name}.so"', 'namng = "{type}-{name}.so"').replace(
        'name = "prog-{module}"', 'name = "prog-{type}-{name}"'
    )
    found = [p.split(": ", 1)[1] for p in problems(tmp_path, text)]
    assert found[0].startswith("loader.namng: unknown key; did you mean naming? (known: ")
    assert found[1:] == ["loader.naming: missing: how module files are named, e.g. '{type}-{name}.so'"]
