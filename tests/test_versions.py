"""qpack.versions against the real oracle: `dpkg --compare-versions`."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import pytest
from packaging.version import Version

from qpack.errors import VersionError
from qpack.versions import to_pep440

# Versions of the shapes one package's history has (same shape, no `~` in the revision): for
# every pair, PEP 440 must order the mapped versions as dpkg orders the originals.
ORDERED = [
    # the upstream part is compared before the revision, whatever their shapes
    "7.1",
    "7.1-1",
    "7.1-9",
    "7.1+dfsg",
    "7.1+dfsg-1",
    "7.1+dfsg-9",
    "7.1+dfsg1-1",
    "7.1+dfsg2-1",
    "7.1.1",
    "7.2-1",
    "7.2-2",
    "7.2+dfsg-7",
    "7.2+dfsg-7+b1",
    "7.2+dfsg-7+b2",
    "7.2+dfsg-7+b10",
    "7.2+dfsg-7+deb12u1",
    "7.2+dfsg-7+deb12u1+b1",
    "7.2+dfsg-7+deb12u9",
    "7.2+dfsg-7+deb12u15",
    "7.2+dfsg-7+deb12u18",
    "7.2+dfsg-7+deb12u18+b3",
    "7.2+dfsg-8",
    "7.2+dfsg-10",
    "7.2.1+dfsg-1",
    "7.2.10+dfsg-1",
    "8.0~rc1+dfsg-1",
    "8.0~rc2+dfsg-1",
    "8.0+dfsg-1",
    "1:7.2+dfsg-7+deb12u18+b3",
    "1:8.0~rc1+dfsg-1",
    "1:8.0~rc4+dfsg-1",
    "1:8.0+dfsg-1",
    "1:10.0.13+ds-0+deb13u1",
    "1:10.0.13+ds-1",
    "2:1.0+dfsg-1",
    "9.0~git20240101+dfsg-1",
    "9.0~git20240215+dfsg-1",
    "9.0~rc1+dfsg-1",
    "9.0~rc2+dfsg-1",
    "9.0+dfsg-1",
    "10.0~alpha1-1",
    "10.0~alpha2-1",
    "10.0~beta1-1",
    "10.0~rc1-1",
    "10.0-1",
    "10.0-1+b1",
    "10.0-1.1",
    "7.3.0-5.fc38",
    "7.3.0-6.fc38",
    "7.3.0-6.fc39",
    "7.3.0-10.fc39",
]

# The documented cases where PEP 440 cannot follow dpkg: (lower, higher) by dpkg.
DIVERGENT = [
    ("7.2+dfsg-7~bpo12+1", "7.2+dfsg-7"),  # `~` in the revision (backports)
    ("9.0~alpha1-1", "9.0~git1-1"),  # a non-pre-release ~word after a pre-release word
    ("9.0~beta1-1", "9.0~pre1-1"),
    ("9.0~git20240101-1", "9.0~pre1-1"),  # two non-pre-release words: numbers first
    ("1.0-1build1", "1.0-1+b1"),  # separators dpkg compares, PEP 440 drops
    ("1.0-1", "1.0-a1"),  # letters against digits inside the revision
    ("1.0-1+B1", "1.0-1+a1"),  # upper case
]
# Distinct by dpkg, one version in PEP 440 (separators are not kept).
COLLIDING = [("7.2-7+1", "7.2-7.1"), ("10.0-1", "10.0.0-1")]

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed: no oracle")


def dpkg_cmp(a: str, b: str) -> int:
    for rel, result in (("lt", -1), ("eq", 0)):
        r = subprocess.run(["dpkg", "--compare-versions", a, rel, b], check=False)
        if r.returncode == 0:
            return result
    return 1


def pep_cmp(a: str, b: str) -> int:
    va, vb = Version(to_pep440(a)), Version(to_pep440(b))
    return (va > vb) - (va < vb)


def test_examples() -> None:
    assert to_pep440("1:7.2+dfsg-7+deb12u18+b3") == "1!7.2+dfsg.0r.7.deb.12.u.18.b.3"
    assert to_pep440("7.2.0-5.fc38") == "7.2.0+0r.5.fc.38"
    assert to_pep440("7.2+dfsg") == "7.2+dfsg"
    assert to_pep440("7.2.0") == "7.2.0"
    assert to_pep440("7.2.0rc1") == "7.2.0rc1"
    assert to_pep440("1!2.0.post1") == "1!2.0.post1"
    assert to_pep440("7.2~rc1-1") == "7.2rc1+0r.1"
    assert to_pep440("9.0~git20240101+dfsg-1") == "9.0.dev20240101+git.dfsg.0r.1"
    assert to_pep440("9.0~pre1") == "9.0.dev1+pre"
    assert to_pep440("1:10.0.13+ds-0+deb13u1") == "1!10.0.13+ds.0r.0.deb.13.u.1"


def test_every_mapped_version_is_valid_pep440() -> None:
    for v in ORDERED + [x for pair in DIVERGENT for x in pair]:
        assert str(Version(to_pep440(v))) == to_pep440(v)


@needs_dpkg
def test_order_agrees_with_dpkg() -> None:
    disagreements = []
    checked = 0
    for a, b in itertools.combinations(ORDERED, 2):
        checked += 1
        d, p = dpkg_cmp(a, b), pep_cmp(a, b)
        if d != p:
            disagreements.append(f"{a} vs {b}: dpkg {d}, PEP 440 {p} ({to_pep440(a)} vs {to_pep440(b)})")
    assert checked == len(ORDERED) * (len(ORDERED) - 1) // 2
    assert not disagreements, "\n".join(disagreements)
    # The list is not trivially sorted by accident: dpkg really orders it in more than one way.
    assert len({dpkg_cmp(a, b) for a, b in itertools.combinations(ORDERED, 2)}) >= 2


@needs_dpkg
def test_equal_versions_stay_equal() -> None:
    assert dpkg_cmp("1.0-01", "1.0-1") == 0
    assert pep_cmp("1.0-01", "1.0-1") == 0
    assert dpkg_cmp("0:1.0-1", "1.0-1") == 0
    assert pep_cmp("0:1.0-1", "1.0-1") == 0


@needs_dpkg
@pytest.mark.parametrize(("low", "high"), DIVERGENT)
def test_documented_divergences_really_diverge(low: str, high: str) -> None:
    """The docstring's list of what PEP 440 cannot express is true (and complete for these)."""
    assert dpkg_cmp(low, high) == -1
    assert pep_cmp(low, high) == 1


@pytest.mark.parametrize(("a", "b"), COLLIDING)
@needs_dpkg
def test_documented_collisions(a: str, b: str) -> None:
    assert dpkg_cmp(a, b) != 0
    assert Version(to_pep440(a)) == Version(to_pep440(b))


def test_no_two_listed_versions_collide() -> None:
    mapped = [to_pep440(v) for v in ORDERED]
    assert len(set(mapped)) == len(mapped)


def test_rpm_style() -> None:
    # rpmvercmp: digits beat letters and separators only separate, as in a PEP 440 local label.
    assert Version(to_pep440("7.2.0-5.fc38")) < Version(to_pep440("7.2.0-5.fc39"))
    assert Version(to_pep440("7.2.0-5.fc38")) < Version(to_pep440("7.2.0-10.fc38"))
    assert Version(to_pep440("2:7.2.0-5.fc38")) > Version(to_pep440("8.0.0-1.fc40"))
    # `^` (a snapshot after the release) sorts above the release and below the next one.
    assert Version(to_pep440("1.0-1")) < Version(to_pep440("1.0^git1-1")) < Version(to_pep440("1.0.1-1"))


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("", "empty"),
        ("abc", "start with a digit"),
        ("x:1.0", "epoch"),
        ("1.0 beta", "contains ' '"),
        ("1.0-", "revision"),
        ("1:", "nothing follows"),
        ("1.0/2", "contains '/'"),
    ],
)
def test_unmappable_versions_are_one_line_errors(bad: str, why: str) -> None:
    with pytest.raises(VersionError) as exc:
        to_pep440(bad)
    msg = str(exc.value)
    assert "\n" not in msg
    assert why in msg
    assert repr(bad) in msg
