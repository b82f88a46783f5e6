"""The conventions packagers expect of a command line (pip, dh_*, rpmbuild, meson-python):
descriptions and help for everything, --version, output options before or after the
subcommand, NO_COLOR and --color, --json everywhere with a version, one shape per piped line,
"did you mean", format-specific options refused with the other format."""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from qpack import __version__
from qpack.cli import COMMANDS, command_in, main, parser
from qpack.layout import shipped_layouts

from .conftest import run_qpack


def _subparsers(ap: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for a in ap._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    return {}


def test_every_command_and_option_has_help() -> None:
    ap = parser()
    assert ap.description and len(ap.description) > 200
    subs = _subparsers(ap)
    assert {"layouts", "scan", "plan", "split", "check", "report", "completion", "man", "demo"} <= set(subs)
    missing = []
    for name, p in [("qpack", ap), *subs.items()]:
        if name != "qpack" and not (p.description and len(p.description) > 40):
            missing.append(f"{name}: no description")
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                continue
            if not a.help or a.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(a.option_strings) or a.dest}: no help")
    assert missing == []


def _described(ap: argparse.ArgumentParser) -> list[tuple[object, ...]]:
    """Every option and positional of a parser, as argparse will use it."""
    return [
        (tuple(a.option_strings), a.dest, a.nargs, a.default, a.choices, a.required, a.help, type(a).__name__)
        for a in ap._actions
        if not isinstance(a, argparse._SubParsersAction)
    ]


def test_a_subcommand_built_alone_is_the_one_the_whole_parser_builds() -> None:
    """`main` builds only the subcommand it runs (cli.command_in): each one alone must take the
    same options, defaults and help as in the whole parser `--help`, completion and man use."""
    whole = _subparsers(parser())
    assert tuple(whole) == COMMANDS
    for name in COMMANDS:
        alone = _subparsers(parser(name))
        assert list(alone) == [name]
        assert _described(alone[name]) == _described(whole[name]), name
        assert alone[name].format_help() == whole[name].format_help(), name
        assert alone[name].get_default("func") is whole[name].get_default("func"), name
    assert _described(parser("scan")) == _described(parser())  # the top level is the same


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (
            ["install", "dist", "-l", "qemu", "list"],
            "install",
        ),  # a later word naming a command is an argument
        (["-q", "--color", "never", "--no-progress", "check", "/usr", "-l", "qemu"], "check"),
        (["--color=always", "split", "build"], "split"),
        (["-h", "install"], None),  # the top level's help lists every command
        (["--version"], None),
        (["instal", "dist"], None),  # argparse's "invalid choice" names them all
        ([], None),
    ],
)
def test_the_command_main_builds_alone(argv: list[str], command: str | None) -> None:
    assert command_in(argv) == command


def test_version() -> None:
    r = run_qpack("--version")
    assert (r.returncode, r.stdout.strip()) == (0, f"qpack {__version__}")


@pytest.mark.parametrize("where", ["before", "after"])
def test_output_options_before_or_after_the_subcommand(
    demo_build: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["-q", "--no-progress", "--color", "never", "--header", "--debug"]
    plan = ["plan", str(demo_build), "-l", "qemu", "--allow-empty"]
    argv = [*common, *plan] if where == "before" else [*plan, *common]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""  # -q: the warnings about the empty plan are not shown
    assert out.splitlines()[0] == "package\tkind\tfiles\tmodules\trequires"  # --header
    # --debug after the subcommand shows the traceback
    assert main(["plan", str(demo_build), "-l", "nosuch", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_verbose_says_what_was_read(demo_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-v", "plan", str(demo_build), "-l", "demo"]) == 0
    assert "paths (" in capsys.readouterr().err


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> bytes:
    """The output of qpack run with its stdout and stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qpack", *argv], stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks)


def test_no_color_and_color_never_mean_no_escape_codes_at_all(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env |= {"TERM": "xterm-256color", "COLUMNS": "120"}
    styled = _on_a_terminal(["layouts"], env)
    assert b"\x1b[" in styled  # the table title is italic on a terminal: the test can fail
    assert b"\x1b[" not in _on_a_terminal(["layouts"], env | {"NO_COLOR": "1"})
    assert b"\x1b[" not in _on_a_terminal(["layouts", "--color=never"], env)
    # --color=always wins over NO_COLOR, even when not on a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["--color=always", "layouts"]) == 0
    assert "\x1b[" in capsys.readouterr().out


def test_json_everywhere_with_a_version(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = str(demo_build)
    runs = {
        "layouts": ["layouts", "--json"],
        "layouts --show": ["layouts", "--show", "demo", "--json"],
        "scan": ["scan", b, "-l", "demo", "--json"],
        "plan": ["plan", b, "-l", "demo", "--json"],
        "split": ["split", b, "-l", "demo", "--version", "1.0", "-o", str(tmp_path / "w"), "--json"],
        "report": ["report", b, "-l", "demo", "-o", str(tmp_path / "r.html"), "--json"],
    }
    for name, argv in runs.items():
        assert main(argv) == 0, name
        data = json.loads(capsys.readouterr().out)
        assert data["version"] == 1, name
    assert main(["check", "/usr", "--root", b, "-l", "demo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1
    written = json.loads(run_qpack(*runs["split"][:-3], "-o", str(tmp_path / "w2"), "--json").stdout)
    assert {w["package"] for w in written["written"]} >= {"demo-core", "demo-ui-gtk", "demo"}
    assert all(Path(w["path"]).is_file() for w in written["written"])


def test_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import have_cc

    if not have_cc():
        pytest.skip("no C compiler: the demo builds its program")
    assert main(["demo", "--json", "--modules", "ui-curses"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == 1
    loaded = next(t for t in data["tables"] if t["title"].startswith("Modules "))
    assert [r["module"] for r in loaded["rows"]] == ["ui-curses"]


def test_piped_plan_files_is_one_shape_per_line(demo_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(demo_build), "-l", "demo", "--files", "--header"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "package\tfile"
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == 2 for row in rows)
    assert ["demo-ui-gtk", "usr/lib/demo/ui/gtk.so"] in rows
    assert len(rows) == 13  # every file of every package, nothing else


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    return capsys.readouterr().err


def test_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert "did you mean 'plan'?" in _usage_error(["pln"], capsys)
    assert "did you mean '--json'?" in _usage_error(["layouts", "--jsn"], capsys)
    # An option of another command is no typo (an SSSD tester's `plan --version V` was asked
    # whether it meant --version).
    err = _usage_error(["plan", "build", "-l", "demo", "--version", "2.8"], capsys)
    assert err.endswith(
        "unrecognized arguments: --version 2.8; --version is not an option of this command (see its --help)\n"
    ), err
    assert main(["layouts", "--show", "qemu-debain"]) == 2
    assert "did you mean 'qemu-debian'?" in capsys.readouterr().err


def test_did_you_mean_takes_two_letters_swapped_first() -> None:
    """A GIMP tester's `plug-in-file-pgn` was offered `plug-in-file-pnm`, as near to difflib as
    `plug-in-file-png`, the two letters swapped."""
    from qpack.errors import did_you_mean

    known = ["plug-in-file-pnm", "plug-in-file-png", "plug-in-file-pdf"]
    assert did_you_mean(["plug-in-file-pgn"], known) == "; did you mean plug-in-file-png?"
    assert did_you_mean(["plug-in-file-pmn"], known) == "; did you mean plug-in-file-pnm?"


def test_layouts_show_prints_the_shipped_toml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["layouts", "--show", "qemu"]) == 0
    out = capsys.readouterr().out
    assert out == shipped_layouts()["qemu"].read_text(encoding="utf-8")
    assert tomllib.loads(out)["layout"]["name"] == "qemu"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--copy", "--lists", "rpm"], "--lists, --copy: only for --format tree, not --format wheel"),
        (["--format", "tree", "--compression-level", "9"], "--compression-level: only for --format wheel"),
        (["--format", "tree", "--drop-outside-prefix"], "--drop-outside-prefix: only for --format wheel"),
    ],
)
def test_options_of_the_other_format_are_an_error(
    tmp_path: Path, options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["split", str(tmp_path), "-l", "demo", "--version", "1", "-o", str(tmp_path / "o"), *options]
    )
    assert status == 2
    assert capsys.readouterr().err.startswith(f"error: {message}")
    assert not (tmp_path / "o").exists()


def test_bad_usage_is_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "the following arguments are required: --layout/-l" in _usage_error(["plan"], capsys)
    assert "--version" in _usage_error(
        ["split", str(tmp_path), "-l", "demo", "-o", str(tmp_path / "o")], capsys
    )
    assert main(["plan", str(tmp_path / "missing"), "-l", "demo"]) == 2
    capsys.readouterr()
    # An FRR tester gave uninstall the prefix as check and list take it: the hint names --prefix.
    said = _usage_error(["uninstall", str(tmp_path), "bgpd-snmp"], capsys)
    assert said.endswith(
        f"the following arguments are required: --prefix; did you mean --prefix {tmp_path}?\n"
    )
    assert _usage_error(["uninstall", "bgpd-snmp"], capsys).endswith("required: --prefix\n")
    assert run_qpack("plan").returncode == 2  # and as a user runs it


def test_a_file_name_holding_a_newline_stays_one_line_of_output(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A NUT tester's driver named `bad<newline>name`: piped, `plan --files` printed the raw
    newline inside a row, one record on two lines, and a warning on two lines as well."""
    from qpack.cli import main

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path)
    (build / "usr/share/demo/bad\nname.txt").write_text("x")
    assert main(["plan", str(build), "-l", "demo", "--files"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "demo-core\tusr/share/demo/bad\\nname.txt" in out
    assert all(line.count("\t") == 1 for line in out), out
