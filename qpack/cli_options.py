"""The conventions every subcommand of `qpack` shares, kept apart from the subcommands
themselves (qpack/cli.py): output options accepted before or after the subcommand (as pip's
are), "did you mean" for a misspelt subcommand or option, and the `Out` those options ask for.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from qpack.console import Out
from qpack.errors import QpackError

COLORS = ("auto", "never", "always")


class QpackParser(argparse.ArgumentParser):
    """argparse, plus a suggestion when a subcommand or an option is misspelt (argparse learnt
    to suggest only in Python 3.14)."""

    _argv: Sequence[str] = ()

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._argv = list(sys.argv[1:] if args is None else args)  # for error(): a subcommand's own
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        hint = suggestion(self, message) or _prefix_hint(self._argv, message)
        self.exit(2, f"{self.prog}: error: {message}{hint}\n")


def _prefix_hint(argv: Sequence[str], message: str) -> str:
    """`; did you mean --prefix DIR?` when --prefix is missing and an argument is a directory
    (an FRR tester typed `qpack uninstall pfx bgpd_snmp`, as `check` and `list` take PREFIX)."""
    if "required: --prefix" not in message:
        return ""
    import os

    given = next((a for a in argv if not a.startswith("-") and os.path.isdir(a)), None)
    return f"; did you mean --prefix {given}?" if given else ""


_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (.*)")


def suggestion(parser: argparse.ArgumentParser, message: str) -> str:
    """`; did you mean 'plan'?` for an argparse error about a near miss, else ''."""
    if m := _CHOICE.search(message):
        word, choices = m.group(1), re.findall(r"'([^']*)'", m.group(2))
    elif m := _UNRECOGNIZED.search(message):
        word = m.group(1).split()[0]
        if not word.startswith("-"):
            return ""
        choices = [o for a in parser._actions for o in a.option_strings]
        for a in parser._actions:  # options of the subcommand the user chose are not in `parser`
            if isinstance(a, argparse._SubParsersAction):
                choices += [o for p in a.choices.values() for b in p._actions for o in b.option_strings]
        word = word.split("=", 1)[0]
        if word in choices:  # right, for another command (an SSSD tester's `plan --version V`)
            return f"; {word} is not an option of this command (see its --help)"
    else:
        return ""
    import difflib  # only for a misspelt word: 2 ms of every start otherwise

    close = difflib.get_close_matches(word, list(dict.fromkeys(choices)), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def add_common(p: argparse.ArgumentParser, *, top: bool) -> None:
    """The output options, on the top-level parser (`top`, with their defaults) and again on
    each subcommand (defaults suppressed, so `qpack -q plan` and `qpack plan -q` both work and
    neither undoes the other). An option string a subcommand already uses is left to it."""

    def add(*names: str, **kw: object) -> None:
        names = tuple(n for n in names if n not in p._option_string_actions)
        if not names:
            return
        if not top:
            kw["default"] = argparse.SUPPRESS
        p.add_argument(*names, **kw)  # type: ignore[arg-type]

    add("--debug", action="store_true", default=False, help="show the traceback of an error")
    add(
        "-q",
        "--quiet",
        action="store_true",
        default=False,
        help="print results only: no warnings, notes or progress bar",
    )
    add(
        "-v",
        "--verbose",
        action="store_true",
        default=False,
        help="also print what was read and how long it took (on stderr)",
    )
    add("--no-progress", action="store_true", default=False, help="never show a progress bar")
    add(
        "--color",
        choices=COLORS,
        default="auto",
        help="colour and bold in terminal output: auto (default: on a terminal, unless NO_COLOR is "
        "set), never, or always (also when piped)",
    )
    add(
        "--header",
        action="store_true",
        default=False,
        help="piped tab-separated output: start with a line naming the columns",
    )


def add_common_to_subcommands(ap: argparse.ArgumentParser) -> None:
    """`add_common` on every subcommand of `ap`, including those added by other modules."""
    for action in ap._actions:
        if isinstance(action, argparse._SubParsersAction):
            for p in dict.fromkeys(action.choices.values()):
                add_common(p, top=False)


def make_out(args: argparse.Namespace) -> Out:
    """The `Out` the output options ask for. NO_COLOR (any non-empty value, as no-color.org
    says) turns off colour and every other style unless --color=always overrides it."""
    color = getattr(args, "color", "auto")
    if color == "auto" and os.environ.get("NO_COLOR"):
        color = "never"
    return Out(
        color=color,
        quiet=bool(getattr(args, "quiet", False)),
        verbose=bool(getattr(args, "verbose", False)),
        progress=not getattr(args, "no_progress", False),
        header=bool(getattr(args, "header", False)),
    )


def installed_prefix(prefix: str, root: str | None) -> str:
    """PREFIX as the program sees it: without --root a relative path is the user's own
    (`qpack check venv`, `qpack install --prefix venv`), not one under / (which would be /venv,
    since the library reads every prefix as the program sees it)."""
    if not prefix:  # `--prefix "$VENV"` with VENV unset: not the current directory
        raise QpackError("the installed prefix is empty (an unset variable?); give a directory")
    if root and not os.path.isabs(prefix):
        # An Open MPI tester's `--prefix P3 --root /`, run from their own directory, installed
        # into /P3: under --root a prefix is the program's path, which is never relative. One
        # naming a directory inside the root is said without it (a GIMP tester's `check build/usr
        # --root build` was asked "/build/usr?").
        given, top = os.path.abspath(prefix), os.path.abspath(root)
        inside = given.startswith(top.rstrip("/") + "/") and top != "/"
        guess = "/" + os.path.relpath(given, top) if inside else posixpath.normpath("/" + prefix)
        raise QpackError(
            f"prefix {prefix!r}: with --root, give the prefix as the program sees it, an absolute "
            f"path ({guess}?)"
        )
    return prefix if os.path.isabs(prefix) else os.path.abspath(prefix)


def one_prefix(command: str, positional: str | None, option: str | None, root: str | None) -> str:
    """The prefix a command was given once, as PREFIX or as --prefix PREFIX (check and list
    take both: a tester moving between them tripped over the one each lacked)."""
    if (positional is None) == (option is None):
        raise QpackError(f"{command}: give the installed prefix once, as PREFIX or as --prefix PREFIX")
    return installed_prefix(positional or option or "", root)


def env_pairs(items: Sequence[str]) -> dict[str, str]:
    """`--env VAR=VALUE` options as the environment the program would run with."""
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise QpackError(f"--env {item!r}: expected VAR=VALUE")
        env[name] = value
    return env


def add_env_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="the environment the program would run with, for the check (default: empty); repeatable",
    )
    p.add_argument(
        "--program",
        action="append",
        default=[],
        metavar="PATH",
        help="a program that loads the modules, by its absolute path (inside --root), instead of the "
        "layout's executables in the prefix: a host installed elsewhere; repeatable",
    )
