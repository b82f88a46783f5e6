"""One exception base that every qpack error really derives from, and the one helper their
messages share (`did_you_mean`).

The CLI turns a QpackError into `error: <message>` lines and the exit status below; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class QpackError(Exception):
    """Base of every error qpack raises on purpose. `str()` is the one-line message."""

    exit_status = 2


class ProblemsError(QpackError):
    """An error that reports every problem found at once, one line each (as packaging's
    validators do), rather than stopping at the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class LayoutError(ProblemsError):
    """A layout file is unreadable or invalid. Holds every problem found, one line each."""


class BuildError(QpackError):
    """The build tree cannot be read as given (missing, not a directory, unreadable file...)."""


class ChangedSinceScanError(BuildError):
    """A file of the build is no longer what the scan read of it (size or sha256), found by a
    writer reading it again. The writers then drop the build's scan cache (qpack.scan_cache),
    so that the scan the message asks for reads every file again."""


class PlanError(ProblemsError):
    """Files claimed twice, unclaimed files, or a module whose dependency is in no package.
    `warnings`: what the plan would have warned of, often the cause (a naming typo that made a
    needed module's file no module, which an Evolution tester saw only once the plan passed)."""

    def __init__(self, problems: list[str], warnings: Iterable[str] = ()) -> None:
        super().__init__(problems)
        self.warnings = list(warnings)


class VersionError(QpackError):
    """A version string cannot be mapped to PEP 440."""


class OutputError(QpackError):
    """The output cannot be written as asked (existing directory, unwritable place...)."""


def did_you_mean(unknown: Iterable[str], known: Iterable[str], max_edits: int | None = None) -> str:
    """'; did you mean ...?' for names close to a known one (a typo, or rsyslog's `imtcp` for
    the id `im-tcp`), else ''. The extras alone can be a hundred names long. With `max_edits`,
    a near name (not a module's by its bare name) must be that few edits away, and no more
    than a third of the name's length: for a name that may be no typo at all, a module the
    build lacks (an rsyslog tester's `ommysql` was asked "did you mean ommail?")."""
    import difflib  # only for a name not found

    choices = sorted(set(known))
    close = []
    for u in unknown:
        # A module's name without its type (an Audacious tester's `alsa` for output-alsa, which
        # difflib finds too far from the whole id) first, then a typo's nearest id.
        # The shortest: the module id, not the distribution named after it (demo-audio-alsa).
        named = [c for c in choices if c.endswith(f"-{u}")]
        named = [c for c in named if len(c) == min(map(len, named))]
        # Two letters swapped first (a GIMP tester's `file-pgn` was offered `file-pnm`, as near
        # to difflib as `file-png`).
        swapped = [c for c in choices if swapped_letters(u, c)]
        near = [
            c
            for c in difflib.get_close_matches(u, choices, n=5, cutoff=0.6)
            if _close_past_family(u, c)
            and (max_edits is None or edits(u, c) <= min(max_edits, len(u) // 3 or 1))
        ]
        close += named or swapped[:1] or near[:1]
    return f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else ""


def edits(a: str, b: str) -> int:
    """The edits (insert, delete, replace, swap two neighbours) between `a` and `b`."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            cost = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, prev2[j - 2] + 1)
            row.append(cost)
        prev2, prev = prev, row
    return prev[-1]


def swapped_letters(a: str, b: str) -> bool:
    """Whether `b` is `a` with two adjacent characters swapped."""
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    return (
        len(a) == len(b)
        and len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def _close_past_family(unknown: str, known: str) -> bool:
    """Whether the names are still close past the family prefix they share (`mod-`, `ui-`):
    every lighttpd extra starts with mod-, which made `mod-userdir` the nearest to the built-in
    `mod_rewrite`; `ui_gkt` and `ui-gtk` stay close, and `audio`, the family, is no member
    `audio-oss` was a typo of."""
    import difflib
    import re

    a, b = (re.sub(r"[-_.]+", "-", n.lower()) + "-" for n in (unknown, known))
    same = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    cut = a[:same].rfind("-") + 1
    a, b = a[cut:].rstrip("-"), b[cut:].rstrip("-")
    if not a or not b:
        # The family itself, either way round (`audio` for `audio-oss`): no member a typo missed.
        # An Apache tester's `proxy`, which the build lacked, was offered `proxy_ftp`.
        return not a and not b
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.6
