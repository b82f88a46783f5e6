"""Map a build's version (PEP 440, Debian or RPM) to one PEP 440 version for the wheels.

The rule, applied in this order:

1. A string that contains none of ``:``, ``-``, ``~``, ``^`` and is a valid PEP 440 version is
   taken as PEP 440 and normalized (``7.2.0rc1`` stays a pre-release, ``7.2+dfsg`` keeps its
   local label).
2. Otherwise it is read as a distro version ``[epoch:]upstream[-revision]`` (Debian; RPM's
   ``[epoch:]version-release`` has the same shape; the revision starts after the *last* ``-``):

   - the epoch becomes the PEP 440 epoch: ``1:7.2`` -> ``1!7.2``;
   - the leading dotted number of ``upstream`` is the release: ``7.2+dfsg`` -> ``7.2``;
   - directly after it, ``~alpha``, ``~beta`` and ``~rc`` with an optional number become the
     pre-release (``7.2~rc1`` -> ``7.2rc1``), so they stay below the release as ``~`` makes them in
     dpkg and RPM; any other ``~word`` there (``~git20230101``, ``~pre1``) becomes a development
     release ``.devN`` (N = its first number, 0 if none), the word going to the local label so
     that two different words never give the same version. (Only the three spelled-out words:
     mapping ``~a1`` and ``~alpha1``, or ``~pre1`` and ``~rc1``, to the same PEP 440 pre-release
     would make two versions dpkg tells apart equal.)
   - everything else becomes the local label: the rest of ``upstream``, then, if there is a
     revision, the marker segment ``0r`` and the revision. Each part is written as its runs of
     letters and of digits, lowercased, joined by ``.``; other characters only separate runs.
     ``1:7.2+dfsg-7+deb12u18+b3`` -> ``1!7.2+dfsg.0r.7.deb.12.u.18.b.3``,
     ``7.2.0-5.fc38`` -> ``7.2.0+0r.5.fc.38``, ``7.2+dfsg`` (no revision) -> ``7.2+dfsg``.

   Splitting letters from digits is what keeps ``deb12u9 < deb12u18`` and ``+b2 < +b10``: PEP 440
   compares numeric local segments as numbers, and a version with more local segments after an
   equal prefix is the greater one, as dpkg and RPM order ``-7`` < ``-7+deb12u1`` < ``-7+deb12u1+b1``.
   The marker keeps the upstream part compared before the revision, as dpkg does: ``0r`` starts
   with a digit but is not a number, so it sorts below every run of letters (``1.0-2`` <
   ``1.0+dfsg-1``, RPM's ``1.0-1`` < ``1.0^git1-1``) and, like every non-number, below every
   number (``1.0+dfsg-9`` < ``1.0+dfsg1-1``).

Where PEP 440 cannot keep dpkg's order (the tests check each case against ``dpkg --compare-versions``):

- ``~`` anywhere but directly after the release (``-1~bpo12+1``): dpkg sorts it below the same
  version without it; in a PEP 440 local label nothing sorts below the end, so it sorts above.
- A non-pre-release ``~word`` against ``~alpha``/``~beta`` when the word sorts after them
  alphabetically: ``~alpha1`` < ``~git1`` in dpkg, but PEP 440 puts ``.dev1`` below ``a1``.
  And two different such words: PEP 440 compares their numbers first (``~git20240101`` >
  ``~pre1``), dpkg their letters.
- Within the upstream rest or within the revision, a run of letters against a run of digits
  at the same place (``-1`` < ``-a1`` in dpkg, but PEP 440 puts numbers above letters), or a
  separator that decides (``-1build1`` < ``-1+b1`` in dpkg, letters sorting below ``+``; PEP 440
  sees ``build`` > ``b``).
- Upper-case letters: PEP 440 lowercases local labels, dpkg and RPM compare them as ASCII.
- Separators inside the local part are not kept: ``-7.1`` and ``-7+1`` both give ``+7.1``
  (dpkg orders ``+`` below ``.``); such a pair maps to one version.
- Trailing zeros of the release: PEP 440 has ``10.0 == 10.0.0``, dpkg ``10.0 < 10.0.0``.

Within one package's history (same shape, no ``~`` in the revision), which is what a split of
one build and its updates produce, the order is kept.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

from qpack.errors import VersionError

_DISTRO_CHARS = re.compile(r"[A-Za-z0-9.+~^_-]+\Z")
_RELEASE = re.compile(r"(\d+(?:\.\d+)*)(.*)\Z", re.DOTALL)
_PRE = re.compile(r"~(alpha|beta|rc)\.?(\d*)(?![A-Za-z])", re.IGNORECASE)
_DEV = re.compile(r"~([A-Za-z]*)\.?(\d*)")
_RUNS = re.compile(r"[A-Za-z]+|\d+")
_REVISION_MARK = "0r"  # below any run of letters or digits: see the module docstring
_PRE_TAG = {"alpha": "a", "beta": "b", "rc": "rc"}


def _bad(version: str, why: str) -> VersionError:
    return VersionError(f"version {version!r} cannot be mapped to PEP 440: {why}")


MAX_VERSION_LENGTH = 255  # dpkg and rpm take longer ones, but no real version comes near


def to_pep440(version: str) -> str:  # noqa: PLR0912 - one branch per rule of the mapping, in the order the README gives
    """The PEP 440 form of a PEP 440, Debian or RPM version (see the module docstring)."""
    if len(version) > MAX_VERSION_LENGTH:
        raise VersionError(
            f'version of {len(version)} characters: the limit is {MAX_VERSION_LENGTH} (README "Limits")'
        )
    if version != version.strip():
        # Trimmed in wheels but kept raw in distro lists would be two versions of one build.
        raise _bad(version, "it has leading or trailing white space")
    text = version
    if not text:
        raise _bad(version, "it is empty")
    if not any(c in text for c in ":-~^"):
        try:
            return str(Version(text))
        except InvalidVersion:
            pass  # maybe a distro version without revision, e.g. `7.2+dfsg.1a`; tried below
    epoch = ""
    rest = text
    if ":" in rest:
        epoch, _, rest = rest.partition(":")
        if not epoch.isdigit():
            raise _bad(version, f"the epoch {epoch!r} is not a number")
        epoch = f"{int(epoch)}!"
    if not rest or not _DISTRO_CHARS.match(rest):
        bad = sorted({c for c in rest if not re.match(r"[A-Za-z0-9.+~^_-]", c)})
        why = f"it contains {''.join(bad)!r}" if bad else "nothing follows the epoch"
        raise _bad(version, why + " (allowed: letters, digits and . + ~ ^ _ -)")
    upstream, dash, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    if dash and not revision:
        raise _bad(version, "the revision after the last '-' is empty")
    m = _RELEASE.match(upstream)
    if m is None:
        raise _bad(version, "the upstream version must start with a digit")
    release, tail = m.group(1), m.group(2)
    pre = dev = ""
    local_words: list[str] = []
    pm = _PRE.match(tail)
    if pm:
        pre = f"{_PRE_TAG[pm.group(1).lower()]}{int(pm.group(2) or 0)}"
        tail = tail[pm.end() :]
    else:
        dm = _DEV.match(tail)
        if dm:
            dev = f".dev{int(dm.group(2) or 0)}"
            if dm.group(1):
                local_words.append(dm.group(1))
            tail = tail[dm.end() :]
    local = [*local_words, *_RUNS.findall(tail)]
    if dash:
        local += [_REVISION_MARK, *_RUNS.findall(revision)]
    text440 = f"{epoch}{release}{pre}{dev}" + ("+" + ".".join(local).lower() if local else "")
    try:
        return str(Version(text440))
    except InvalidVersion:  # pragma: no cover - the pieces above are valid by construction
        raise _bad(version, f"{text440!r} is not valid PEP 440") from None
