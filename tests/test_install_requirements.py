"""`qpack.installed.Req` and the wheel file names `qpack install` reads without packaging's
parsers answer exactly as packaging does (the plain forms read directly, every other form
handed to packaging)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as packaging_canonicalize_name
from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion, Version

from qpack.install import InstallError, _wheel_name_version
from qpack.installed import Req, canonicalize_name

NAMES = ["a", "Foo_Bar", "x.y-z", "benchprog-core", "A1", "q--_.r"]
PINS = ["", "==1.0", "==1", "==1.0.0", "==2.3.4", "==0"]
MARKERS = ["", '; extra == "accel"', '; extra == "Foo_Bar"', '; extra == "a.b"']
VERSIONS = [
    "1.0", "1", "1.0.0", "1.0+local", "1.0rc1", "1.0.post1", "1!1.0", "2.3.4", "2.3.4.0", "0",
    "0.0", "1.0.dev0", "2.3.4+x.y",
]  # fmt: skip
EXTRAS = [("",), ("accel",), ("foo-bar",), ("a-b",), (), ("x", "accel")]  # normalized, as callers pass them


def _holds(req: Requirement, extras: tuple[str, ...]) -> bool:
    return req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras)


@pytest.mark.parametrize("text", ["".join(p) for p in itertools.product(NAMES, PINS, MARKERS)])
def test_plain_requirements_answer_as_packaging(text: str) -> None:
    ours, theirs = Req(text), Requirement(text)
    assert ours._plain  # read without packaging
    assert canonicalize_name(ours.name) == packaging_canonicalize_name(theirs.name)
    assert ours.conditional == (theirs.marker is not None)
    for extras in EXTRAS:
        assert ours.holds(extras) == _holds(theirs, extras), extras
    for v in VERSIONS:
        assert ours.accepts(v) == theirs.specifier.contains(v, prereleases=True), v
        assert ours.accepts(Version(v)) == theirs.specifier.contains(Version(v), prereleases=True), v
    assert str(ours) == str(theirs)


@pytest.mark.parametrize(
    "text",
    ["a>=1.0", "a==1.*", 'a ; python_version > "3"', "a[x]==1", 'a==1.0;extra=="x"', "a (==1.0)", "a==1.0+l"],
)
def test_other_requirements_go_to_packaging(text: str) -> None:
    ours, theirs = Req(text), Requirement(text)
    assert not ours._plain
    assert ours.name == theirs.name and str(ours) == str(theirs)
    for extras in EXTRAS:
        assert ours.holds(extras) == _holds(theirs, extras), extras
    for v in VERSIONS:
        assert ours.accepts(v) == theirs.specifier.contains(v, prereleases=True), v


def test_invalid_requirement_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Req("not a requirement !!")


def test_an_invalid_installed_version_is_judged_by_packaging() -> None:
    with pytest.raises(InvalidVersion):
        Version("not a version")
    assert Req("a==1.0").accepts("not a version") == Requirement("a==1.0").specifier.contains(
        "not a version", prereleases=True
    )


@pytest.mark.parametrize("name", [*NAMES, "a__b", "A.B_C", "x---y", "Ünï"])
def test_canonicalize_name(name: str) -> None:
    assert canonicalize_name(name) == packaging_canonicalize_name(name)


@pytest.mark.parametrize(
    "filename",
    [
        "benchprog_core-1.0-py3-none-linux_x86_64.whl",
        "Foo.Bar-1.0.0-py3-none-any.whl",
        "a__b-1.0-py3-none-any.whl",
        "x-1.0rc1-py3-none-any.whl",
        "x-1.0-1-py3-none-any.whl",
        "x-01.0-py3-none-any.whl",
        "qemu_accel_tcg_x86_64-7.2.0-py3-none-manylinux_2_17_x86_64.whl",
        "bad.whl",
        "x-1.0-py3-none-any.zip",
        "x-1.0-py3-none.whl",
    ],
)
def test_wheel_file_names_as_packaging_reads_them(filename: str) -> None:
    try:
        want: object = parse_wheel_filename(filename)[:2]
    except ValueError:
        want = InstallError
    try:
        got: object = _wheel_name_version(Path(filename))
    except InstallError:
        got = InstallError
    assert got == want
