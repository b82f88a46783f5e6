"""Terminal output, owned by the command line (the library never prints): rich tables on a
terminal, tab-separated lines when piped, JSON with `--json`, warnings and progress on stderr.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from qpack.errors import QpackError

if TYPE_CHECKING:  # rich and the plan load when output is written, not when `qpack --version` starts
    from rich.console import Console

    from qpack.plan import Plan


def write_stdout(text: str) -> None:
    """Results to stdout. A full disk or a failing device is one error line (QpackError), not a
    traceback; a reader gone away (BrokenPipeError) is left to the command line (qpack.cli)."""
    if sys.stdout is None:  # started with it closed (`qpack ... >&-`)
        raise QpackError("cannot write the output: standard output is closed")
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise
    except OSError as e:
        raise QpackError(f"cannot write the output: {e.strerror or e}") from None


class Out:
    """Where output goes: stdout for results, stderr for warnings and progress."""

    def __init__(
        self,
        *,
        color: str = "auto",
        quiet: bool = False,
        verbose: bool = False,
        progress: bool = True,
        header: bool = False,
    ) -> None:
        """`color`: auto (rich decides), never (no colour, bold or italics) or always (styled
        as on a terminal even when piped); `quiet`: no warnings, notes or progress; `verbose`:
        `info` lines too; `header`: piped tables start with a line of column names."""
        style: dict[str, Any] = {}
        if color == "never":
            style = {"color_system": None, "no_color": True}
        elif color == "always":
            style = {"force_terminal": True}
        self._style = style
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self.show_progress = progress and not quiet
        self.header = header

    # rich's consoles are made when first used: importing rich is most of the start-up of a
    # command whose output is piped (qpack install in a script prints no table through rich).
    @functools.cached_property
    def stdout(self) -> Console:
        from rich.console import Console

        return Console(soft_wrap=True, highlight=False, **self._style)

    @functools.cached_property
    def stderr(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, soft_wrap=True, highlight=False, **self._style)

    def _terminal(self, stream: TextIO, console: Callable[[], Console]) -> bool:
        """rich's `Console.is_terminal`, without importing rich when the answer is plainly no:
        not forced by --color or the variables rich reads, and the stream is no tty."""
        if "force_terminal" in self._style or "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
            return console().is_terminal
        try:
            if not stream.isatty():
                return False
        except (AttributeError, ValueError):  # no isatty, or closed: rich says no as well
            return False
        return console().is_terminal

    @property
    def rich(self) -> bool:
        return self._terminal(sys.stdout, lambda: self.stdout)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if self.rich:
            from rich.table import Table

            t = Table(title=title, title_justify="left")
            for c in columns:
                t.add_column(c, overflow="fold")
            for r in rows:
                t.add_row(*r)
            self.stdout.print(t)
        else:
            lines = ["\t".join(columns)] if self.header else []
            cells = ("\t".join(one_line(c) for c in r) for r in rows)
            write_stdout("".join(f"{line}\n" for line in [*lines, *cells]))

    def line(self, text: str) -> None:
        write_stdout(text + "\n")

    def summary(self, text: str, *, problem: bool = False) -> None:
        """A sentence about the results just printed ("36 of 37 modules load"): below them on a
        terminal; on stderr when piped, so that stdout keeps one shape per line. `quiet` drops
        it there, unless it is a `problem` (the exit status and --json say it as well)."""
        if self.rich:
            write_stdout(text + "\n")
        elif problem or not self.quiet:
            sys.stderr.write(f"{text}\n")

    def warn(self, text: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"warning: {one_line(text)}\n")

    def note(self, text: str) -> None:
        """A note for the person running the command (what was written where), on stderr."""
        if not self.quiet:
            sys.stderr.write(f"{text}\n")

    def info(self, text: str) -> None:
        """Shown with --verbose only: what was read, how long it took."""
        if self.verbose:
            sys.stderr.write(f"{text}\n")

    def json(self, data: object) -> None:
        import json  # only for --json: 3 ms of every start otherwise

        write_stdout(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")

    @contextlib.contextmanager
    def progress(self, label: str) -> Iterator[Callable[[int, int], None] | None]:
        """A byte progress bar on a terminal; nothing when stderr is not one."""
        if not self.show_progress or not self._terminal(sys.stderr, lambda: self.stderr):
            yield None
            return
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        # Redrawn from the callback, never by rich's refresh thread: a process running another
        # thread cannot fork safely, and the scan forks its workers (qpack.inventory).
        with Progress(
            TextColumn(label),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=self.stderr,
            transient=True,
            auto_refresh=False,
        ) as bar:
            task = bar.add_task(label, total=None)
            drawn = 0.0

            def advance(n: int, total: int) -> None:
                nonlocal drawn
                bar.update(task, advance=n, total=total)
                now = time.monotonic()
                if now - drawn >= 0.1:
                    bar.refresh()
                    drawn = now

            yield advance


# Control characters as escapes: a file name holding a newline (a NUT tester's driver
# `bad\nname`) made one row of tab-separated output two, and one warning two lines.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def one_line(text: str) -> str:
    """`text` with its control characters (newline, tab...) written as escapes."""
    return text.translate(_CONTROL)


PLAN_COLUMNS = ("package", "kind", "files", "modules", "requires")


def plan_rows(plan: Plan) -> list[tuple[str, ...]]:
    """One row per package of a plan, under PLAN_COLUMNS."""
    return [
        (p.name, p.kind, str(len(p.files)), ", ".join(p.modules), ", ".join(p.relations))
        for p in plan.packages
    ]
