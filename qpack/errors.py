"""One exception base that every qpack error really derives from.

The CLI turns a QpackError into `error: <message>` lines and the exit status below; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations


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
