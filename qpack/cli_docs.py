"""`qpack completion SHELL` and `qpack man`: the command line describing itself, both generated
from the parser `qpack` runs (qpack/completion.py, qpack/manpage.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from qpack.console import Out, write_stdout
from qpack.errors import OutputError

SUMMARY = "split one build of a modular program into core and module packages, and check its loader"


def cmd_completion(args: argparse.Namespace, out: Out) -> int:
    from qpack.cli import parser
    from qpack.completion import completion_script
    from qpack.layout import shipped_layouts

    write_stdout(completion_script(parser(), args.shell, sorted(shipped_layouts())))
    return 0


def cmd_man(args: argparse.Namespace, out: Out) -> int:
    from qpack import __version__
    from qpack.cli import parser
    from qpack.manpage import manpage

    text = manpage(parser(), __version__, summary=SUMMARY)
    if args.output is None:
        write_stdout(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as e:
        raise OutputError(f"{args.output}: cannot write it: {e.strerror}") from None
    out.note(f"wrote {args.output}: read it with `man -l {args.output}`")
    return 0


def add_parsers(sub: Any) -> None:
    """Add completion and man to `qpack`'s subparsers."""
    from qpack.completion import SHELLS

    p = sub.add_parser(
        "completion",
        help="print the shell completion script for bash or zsh",
        description="Print a completion script for SHELL, generated from qpack's own parser: "
        "subcommands, options, layout names and paths. For bash: "
        "`qpack completion bash > ~/.local/share/bash-completion/completions/qpack`, "
        "or `source <(qpack completion bash)` in ~/.bashrc.",
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete for")
    p.set_defaults(func=cmd_completion)

    p = sub.add_parser(
        "man",
        help="print qpack's manual page (roff), generated from its parser",
        description="Print the manual page of qpack in roff, generated from the same parser the "
        "command line runs: every command and option with its help. Read it with "
        "`qpack man | man -l -`, or install it: `qpack man -o /usr/local/share/man/man1/qpack.1`.",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the page to FILE instead of stdout")
    p.set_defaults(func=cmd_man)
