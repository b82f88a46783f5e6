"""Shell completion (shtab, from the parser) driven in a real bash, and the man page (from the
same parser) rendered by the real `man`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from qpack.cli import main, parser

from .conftest import run_qpack
from .test_cli_conventions import _subparsers


@pytest.fixture(scope="module")
def completion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = run_qpack("completion", "bash")
    assert r.returncode == 0, r.stderr
    path = tmp_path_factory.mktemp("completion") / "qpack.bash"
    path.write_text(r.stdout)
    return path


def complete(script: Path, *words: str, cwd: Path | None = None) -> list[str]:
    """What bash offers for the last of `words`, through the function `complete -F` registered."""
    driver = f"""
source {script}
spec=$(complete -p qpack) || exit 3
func=$(sed -E 's/.* -F ([^ ]+) .*/\\1/' <<<"$spec")
COMP_WORDS=({" ".join(f"'{w}'" for w in words)})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$func" qpack "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    r = subprocess.run(
        ["bash", "--norc", "-c", driver], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if line]


def test_bash_completes_subcommands_options_and_layouts(completion: Path, tmp_path: Path) -> None:
    assert complete(completion, "qpack", "pl") == ["plan"]
    assert set(complete(completion, "qpack", "")) >= {"plan", "split", "check", "report", "completion", "man"}
    assert complete(completion, "qpack", "plan", "--gr") == ["--graph"]
    assert set(complete(completion, "qpack", "split", "b", "--f")) == {"--format", "--force"}
    assert complete(completion, "qpack", "split", "b", "--format", "") == ["wheel", "tree"]
    # layout names, after -l and --layout and --show (tmp_path: no directory named like them)
    assert complete(completion, "qpack", "plan", "b", "-l", "qemu-d", cwd=tmp_path) == [
        "qemu-debian",
        "qemu-debian-trixie",
    ]
    assert complete(completion, "qpack", "layouts", "--show", "fre", cwd=tmp_path) == ["freeradius-debian"]
    (tmp_path / "mine.toml").write_text("")
    assert complete(completion, "qpack", "check", "p", "--layout", "mi", cwd=tmp_path) == ["mine.toml"]
    # output options after the subcommand too
    assert "--no-progress" in complete(completion, "qpack", "plan", "b", "--no")


def test_completion_for_zsh_and_bad_shell(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "zsh"]) == 0
    assert "#compdef qpack" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["completion", "fish"])
    assert e.value.code == 2


def test_man_renders_every_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("man") is None:
        pytest.skip("man is not installed (apt-get install man-db)")
    page = tmp_path / "qpack.1"
    assert main(["man", "-o", str(page)]) == 0
    r = subprocess.run(
        ["man", "--warnings", "-l", str(page)],
        capture_output=True,
        text=True,
        env={
            "MANWIDTH": "100",
            "MANPAGER": "cat",
            "PAGER": "cat",
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
        },
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr  # groff saw no mistake in the roff
    text = r.stdout
    assert text.startswith("QPACK(1)")
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT"):
        assert f"\n{section}\n" in text
    for name in _subparsers(parser()):
        assert f"\n   {name}\n" in text, name
    assert "--allow-empty" in text and "NO_COLOR" in text
