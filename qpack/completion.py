"""Shell completion for `qpack`, generated from its own parser by shtab (a small, maintained
library that reads argparse parsers), so it can never drift from the options that exist.

What argparse cannot say is added here: build trees and prefixes complete as directories,
layout names (`-l`, `layouts --show`) as the shipped layouts plus `.toml` files, file
arguments as files.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from qpack.errors import QpackError

SHELLS = ("bash", "zsh")

# Parameters completed as directories / as files, by dest.
_DIRS = {"build", "meson", "prefix", "prefix_option", "prefix_arg", "root", "output", "dist", "keep", "check"}
_FILES = {"graph"}


class CompletionError(QpackError):
    """The completion script cannot be generated (shtab missing, unknown shell)."""


def _layouts_preamble(names: list[str]) -> dict[str, str]:
    words = shlex.quote(" ".join(names))
    return {
        "bash": (
            "# qpack: layout names (the shipped ones) and .toml files\n"
            "_qpack_layouts() {\n"
            f'  compgen -W {words} -- "$1"\n'
            "  compgen -f -X '!*.toml' -- \"$1\"\n"
            '  compgen -d -- "$1"\n'
            "}\n"
        ),
        "zsh": (
            "# qpack: layout names (the shipped ones) and .toml files\n"
            "_qpack_layouts() {\n"
            f"  _alternative 'layouts:layout:({' '.join(names)})' 'files:file:_files -g \"*.toml\"'\n"
            "}\n"
        ),
    }


def _mark(parser: argparse.ArgumentParser, shtab: Any) -> None:
    """Set shtab's `complete` on the actions of `parser` and of every subcommand."""
    layout = {"bash": "_qpack_layouts", "zsh": "_qpack_layouts"}
    seen: set[int] = set()
    todo = [parser]
    while todo:
        p = todo.pop()
        if id(p) in seen:
            continue
        seen.add(id(p))
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                todo.extend(a.choices.values())
            elif a.dest in ("layout", "show"):
                a.complete = layout  # type: ignore[attr-defined]
            elif a.dest in _DIRS:
                a.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
            elif a.dest in _FILES:
                a.complete = shtab.FILE  # type: ignore[attr-defined]


def completion_script(parser: argparse.ArgumentParser, shell: str, layouts: list[str]) -> str:
    """The completion script of `parser` for `shell` (bash, zsh or tcsh)."""
    if shell not in SHELLS:
        raise CompletionError(f"{shell}: no completion for this shell (shells: {', '.join(SHELLS)})")
    try:
        import shtab
    except ImportError:
        raise CompletionError(
            "shtab is not installed (pip install shtab): cannot generate completion"
        ) from None
    _mark(parser, shtab)
    preamble = _layouts_preamble(layouts)
    text: str = shtab.complete(parser, shell=shell, preamble=preamble)  # type: ignore[arg-type]
    return text
