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
    """Files claimed twice, unclaimed files, or a module whose dependency is in no package."""


class VersionError(QpackError):
    """A version string cannot be mapped to PEP 440."""


class OutputError(QpackError):
    """The output cannot be written as asked (existing directory, unwritable place...)."""


def did_you_mean(unknown: Iterable[str], known: Iterable[str]) -> str:
    """'; did you mean ...?' for names close to a known one (a typo, or rsyslog's `imtcp` for
    the id `im-tcp`), else ''. The extras alone can be a hundred names long."""
    import difflib  # only for a name not found

    choices = sorted(set(known))
    close = []
    for u in unknown:
        # A module's name without its type (an Audacious tester's `alsa` for output-alsa, which
        # difflib finds too far from the whole id) first, then a typo's nearest id.
        # The shortest: the module id, not the distribution named after it (demo-audio-alsa).
        named = [c for c in choices if c.endswith(f"-{u}")]
        named = [c for c in named if len(c) == min(map(len, named))]
        close += named or difflib.get_close_matches(u, choices, n=1, cutoff=0.6)
    return f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else ""
