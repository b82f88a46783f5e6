"""The manual page of `qpack`, written in roff (man(7) macros) from the same argparse parser
the command line runs, so every subcommand and option in it exists and has its help text.

Sections: NAME, SYNOPSIS, DESCRIPTION, OPTIONS (the top-level ones), COMMANDS (each with its
usage, description and options), EXIT STATUS, ENVIRONMENT, SEE ALSO.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
from collections.abc import Iterable

_ENVIRONMENT = (
    ("NO_COLOR", "when set and not empty, no colour, bold or italics in terminal output (as --color=never)."),
    ("SOURCE_DATE_EPOCH", "the timestamp of every file in the wheels written (default 1980-01-01)."),
    (
        "QPACK_CACHE_DIR",
        "where the scan keeps what it read of each unchanged file of a build (default "
        "$XDG_CACHE_HOME/qpack, else ~/.cache/qpack); empty: no cache.",
    ),
    ("QPACK_NO_CACHE", "when set and not 0, the scan reads every file again and keeps nothing."),
    (
        "QEMU_MODULE_DIR",
        "not read by qpack: give it to qpack check with --env to judge a prefix as QEMU would.",
    ),
)
_EXIT = (
    ("0", "success; for check, every module present loads."),
    (
        "1",
        "check (or install, list) found modules that will not load, or versions that differ; scan "
        "found that the split cannot be planned.",
    ),
    ("2", "bad usage or an error, printed as one error: line each."),
)


def escape(text: str) -> str:
    """Text safe in a roff line: backslashes doubled as \\e, hyphens as \\-, a leading . or '
    guarded."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"(?m)^([.'])", r"\\&\1", text)


def _para(text: str) -> str:
    """Paragraphs (blank-line separated) of running text; lines starting with two spaces are
    kept as a no-fill example block."""
    out = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        if any(line.startswith("  ") for line in lines):
            out.append(".PP\n.nf\n" + "\n".join(escape(line) for line in lines) + "\n.fi")
        else:
            out.append(".PP\n" + escape(" ".join(line.strip() for line in lines)))
    return "\n".join(out)


def _help(action: argparse.Action, parser: argparse.ArgumentParser) -> str:
    text = action.help or ""
    if "%(" in text:
        text = text % {**vars(action), "prog": parser.prog}
    return text


def _option_lines(
    parser: argparse.ArgumentParser, omit: frozenset[tuple[tuple[str, ...], str]] = frozenset()
) -> Iterable[str]:
    """One `.TP` entry per option and positional; `omit`: (option strings, help) pairs already
    described (the output options every subcommand repeats from the top level)."""
    for a in parser._actions:
        if a.help == argparse.SUPPRESS or isinstance(a, argparse._SubParsersAction):
            continue
        if (tuple(a.option_strings), a.help or "") in omit:
            continue
        if a.option_strings:
            metavar = ""
            if a.nargs != 0:
                mv = a.metavar or ("{" + ",".join(map(str, a.choices)) + "}" if a.choices else a.dest.upper())
                metavar = f" \\fI{escape(str(mv))}\\fR"
            names = ", ".join(f"\\fB{escape(o)}\\fR" for o in a.option_strings)
            head = names + metavar
        else:
            head = f"\\fI{escape(str(a.metavar or a.dest.upper()))}\\fR"
        yield f".TP\n{head}\n{escape(_help(a, parser))}"


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser, str]]:
    out = []
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            helps = {c.dest: c.help or "" for c in a._choices_actions}
            seen: set[int] = set()
            for name, p in a.choices.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((name, p, helps.get(name, "")))
    return out


def _usage(parser: argparse.ArgumentParser) -> str:
    text = re.sub(r"^usage:\s*", "", parser.format_usage().strip())
    return re.sub(r"\n\s+", "\n    ", text)


def manpage(
    parser: argparse.ArgumentParser, version: str, *, summary: str = "", date: datetime.date | None = None
) -> str:
    """The roff source of the manual page of `parser`'s program (section 1); `summary` is the
    NAME line's (default: the description's first sentence)."""
    prog = parser.prog
    if date is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        date = (
            datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date()
            if epoch and epoch.isascii() and epoch.isdigit()
            else datetime.date.today()
        )
    description = (parser.description or "").strip()
    first = description.split("\n\n")[0].replace("\n", " ")
    short = summary or re.split(r"(?<=[.:])\s", first, maxsplit=1)[0].rstrip(".:")
    subs = _subcommands(parser)
    lines = [
        f'.TH {prog.upper()} 1 "{date.isoformat()}" "{prog} {escape(version)}" "User Commands"',
        ".SH NAME",
        f"{prog} \\- {escape(short[0].lower() + short[1:] if short else prog)}",
        ".SH SYNOPSIS",
        f"\\fB{prog}\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]",
    ]
    lines += [".SH DESCRIPTION", _para(description)]
    lines += [".SH OPTIONS", *_option_lines(parser)]
    shared = frozenset(
        (tuple(a.option_strings), a.help or "") for a in parser._actions if a.option_strings and a.help
    )
    lines.append(".SH COMMANDS")
    for name, p, help_text in subs:
        lines.append(f".SS {escape(name)}")
        if help_text:
            lines.append(".PP\n" + escape(help_text[0].upper() + help_text[1:]) + ".")
        lines.append(".PP\n.nf\n" + escape(_usage(p)) + "\n.fi")
        if p.description:
            lines.append(_para(p.description))
        lines.append(".RS")
        lines += list(_option_lines(p, shared))
        lines.append(".RE")
    lines.append(".SH EXIT STATUS")
    lines += [f".TP\n\\fB{code}\\fR\n{escape(text)}" for code, text in _EXIT]
    lines.append(".SH ENVIRONMENT")
    lines += [f".TP\n\\fB{name}\\fR\n{escape(text)}" for name, text in _ENVIRONMENT]
    if parser.epilog:
        first, _, rest = parser.epilog.partition("\n")
        lines += [".SH EXAMPLES", _para(rest if first.rstrip().endswith(":") else parser.epilog)]
    lines += [".SH SEE ALSO", "\\fBpip\\fR(1), \\fBdh_install\\fR(1), \\fBrpmbuild\\fR(8), \\fBdot\\fR(1)"]
    return "\n".join(lines) + "\n"
