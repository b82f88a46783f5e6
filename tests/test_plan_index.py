"""The claim phase's rule index (qpack.plan._RuleIndex) finds exactly the rules that asking
every rule's `match` finds, in the same order with the same reasons, whatever the globs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qpack.globs import GlobError, compile_glob
from qpack.loader import Module
from qpack.plan import Rule, _literal_start, _RuleIndex

SEGMENTS = [
    "usr",
    "lib",
    "bin",
    "qemu",
    "x86_64-linux-gnu",
    "a.so",
    "ui-gtk.so",
    "doc",
    "my dir",
    "v1.2+b3",
    "@x",
]
WILD = ["*", "**", "?", "*.so", "ui-*", "[ab]*", "lib*", "[!u]*"]


@st.composite
def globs(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(SEGMENTS + WILD), min_size=1, max_size=5))
    return "/".join(parts)


@st.composite
def paths(draw: st.DrawFn) -> str:
    return "/".join(
        draw(st.lists(st.sampled_from([*SEGMENTS, "ab", "x.so", "lib64"]), min_size=1, max_size=6))
    )


def rule(n: int, file_globs: list[str], modules: tuple[str, ...] = (), tags: tuple[str, ...] = ()) -> Rule:
    files = []
    for g in file_globs:
        try:
            files.append((g, compile_glob(g)))
        except GlobError:
            continue
    return Rule(
        description=f"rule[{n}]", package=f"p{n}", reason="", files=tuple(files), modules=modules, tags=tags
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(globs(), min_size=0, max_size=4), min_size=1, max_size=6),
    st.lists(paths(), min_size=1, max_size=20),
    st.booleans(),
)
def test_index_agrees_with_every_rule_asked(
    rule_globs: list[list[str]], targets: list[str], typed: bool
) -> None:
    rules = tuple(rule(i, gs) for i, gs in enumerate(rule_globs))
    if typed:
        rules = (*rules, rule(len(rules), [], modules=("ui-*",)), rule(len(rules) + 1, ["**"], tags=("doc",)))
    index = _RuleIndex(rules)
    module = Module("ui-gtk", "ui", "gtk", "x")
    for path in targets:
        for mod, tag in ((None, None), (module, "doc")):
            expected = [(r, why) for r in rules if (why := r.match(path, mod, tag)) is not None]
            assert index.hits(path, mod, tag) == expected, (path, mod, tag)


def test_literal_start() -> None:
    assert _literal_start(compile_glob("usr/bin/qemu-img")) == ("usr/bin/qemu-img", True)
    assert _literal_start(compile_glob("usr/lib/*/qemu/*.so")) == ("usr/lib/", False)
    assert _literal_start(compile_glob("usr/share/doc/my dir/v1.2+b3")) == (
        "usr/share/doc/my dir/v1.2+b3",
        True,
    )
    assert _literal_start(compile_glob("**/x")) == ("", False)


def test_index_finds_each_kind_of_glob() -> None:
    rules = (
        rule(0, ["usr/bin/qemu-img", "usr/lib/*/qemu/*.so"]),
        rule(1, ["**/*.so"]),
        rule(2, ["usr/lib/x86_64-linux-gnu/qemu/ui-gtk.so"]),
        rule(3, ["usr/share/**"]),
    )
    index = _RuleIndex(rules)
    hits = index.hits("usr/lib/x86_64-linux-gnu/qemu/ui-gtk.so", None)
    assert [(r.package, why) for r, why in hits] == [
        ("p0", "files 'usr/lib/*/qemu/*.so'"),
        ("p1", "files '**/*.so'"),
        ("p2", "files 'usr/lib/x86_64-linux-gnu/qemu/ui-gtk.so'"),
    ]
    assert [r.package for r, _ in index.hits("usr/bin/qemu-img", None)] == ["p0"]
    assert [r.package for r, _ in index.hits("usr/share/qemu/bios.bin", None)] == ["p3"]
    for path in ("usr/share", "usr/lib", "usr/bin/qemu-img2"):  # whatever the glob syntax says of these
        assert index.hits(path, None) == [(r, why) for r in rules if (why := r.match(path, None)) is not None]
