"""How the `qpack` command ends (cli.run): the work's exit status and output as `main` gives
them, then an exit that skips the interpreter's teardown, yet runs the exit handlers, waits
for anything still running, and never loses or hides an output that could not be written."""

from __future__ import annotations

import json
import os
import pstats
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from qpack import __version__
from qpack.cli import main

from .conftest import run_qpack

# A script that ends through cli.run, as the console script and `python -m qpack` do. Teardown
# writes the marker (an object freed at teardown); an atexit handler writes another; THREAD
# leaves a thread running for a moment past the end of the work.
SCRIPT = """\
import atexit, sys, threading, time
from pathlib import Path
out = Path(sys.argv[1])
class Teardown:
    def __del__(self):
        (out / "teardown").write_text("ran")
keep = Teardown()
atexit.register(lambda: (out / "atexit").write_text("ran"))
if sys.argv[2] == "thread":
    threading.Thread(target=lambda: (time.sleep(0.3), (out / "thread").write_text("done"))).start()
sys.argv = ["qpack", *sys.argv[3:]]
from qpack.cli import run
run()
"""


# Output buffered, as it is by default: what is still in the buffer is written at the exit.
BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _end(
    tmp_path: Path, thread: str, *argv: str, stdout: int | IO[str] = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "end.py"
    script.write_text(SCRIPT)
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path), thread, *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=300,
        env=BUFFERED,
    )


def test_the_command_gives_what_main_gives(demo_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", str(demo_build), "-l", "demo", "--json"]
    assert main(argv) == 0
    r = run_qpack(*argv)
    assert (r.returncode, r.stdout) == (0, capsys.readouterr().out)
    assert json.loads(r.stdout)["packages"]
    bad = run_qpack("plan", str(demo_build / "nowhere"), "-l", "demo")
    assert bad.returncode == 2
    assert bad.stderr == f"error: {demo_build / 'nowhere'}: build directory does not exist\n"
    assert run_qpack("--version").returncode == 0
    assert run_qpack("--no-such-option").returncode == 2


def test_the_exit_skips_teardown_but_runs_the_exit_handlers(tmp_path: Path) -> None:
    r = _end(tmp_path, "-", "--version")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.startswith("qpack ")
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not (tmp_path / "teardown").exists()  # the fast exit was taken


def test_a_thread_still_running_is_waited_for(tmp_path: Path) -> None:
    r = _end(tmp_path, "thread", "--version")
    assert r.returncode == 0
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "teardown").read_text() == "ran"  # the ordinary exit


def test_ctrl_c_before_main_handles_it_is_one_line_not_a_traceback() -> None:
    """A Ctrl-C while the parser is built (the first milliseconds of every command, before
    `main`'s own handler) printed a KeyboardInterrupt traceback."""
    code = (
        "import qpack.cli as c\n"
        "def parser(*a, **k):\n"
        "    raise KeyboardInterrupt\n"
        "c.parser = parser\n"
        "c.run()\n"
    )
    r = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True, check=False)
    assert (r.returncode, r.stderr, r.stdout) == (130, "error: interrupted\n", "")


def test_a_reader_gone_away_is_not_an_error(demo_build: Path, tmp_path: Path) -> None:
    """`qpack plan ... | head`: the output is flushed at the end, into a closed pipe."""
    script = tmp_path / "end.py"
    script.write_text(SCRIPT)
    argv = [sys.executable, str(script), str(tmp_path), "-", "plan", str(demo_build), "-l", "demo", "--json"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BUFFERED) as p:
        assert p.stdout is not None and p.stderr is not None
        p.stdout.close()
        assert p.wait(timeout=300) == 0
        assert p.stderr.read() == b""
    assert not (tmp_path / "teardown").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("argv", [["--version"], ["plan", "{build}", "-l", "demo", "--json"], ["man"]])
def test_an_output_that_cannot_be_written_is_an_error(
    argv: list[str], demo_build: Path, tmp_path: Path
) -> None:
    """A full disk: a short output fails when it is flushed at the end, a long one (the man
    page, 19 KB) while it is written (console.write_stdout); either is one line and status 2."""
    with open("/dev/full", "w") as full:
        r = _end(tmp_path, "-", *(a.format(build=demo_build) for a in argv), stdout=full)
    assert (r.returncode, r.stderr) == (2, "error: cannot write the output: No space left on device\n")


def test_a_closed_standard_output_is_an_error(tmp_path: Path) -> None:
    """Started with stdout closed (`qpack layouts >&-`): Python has no sys.stdout at all."""
    script = tmp_path / "end.py"
    script.write_text(SCRIPT)
    argv = [sys.executable, str(script), str(tmp_path), "-", "layouts"]
    r = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *argv],
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=300,
    )
    assert (r.returncode, r.stderr) == (2, "error: cannot write the output: standard output is closed\n")
    assert (tmp_path / "atexit").read_text() == "ran"


def test_a_closed_standard_error_keeps_the_exit_status(tmp_path: Path) -> None:
    """Started with stderr closed (`2>&-`): the error line has nowhere to go, its status stays 2."""
    r = subprocess.run(
        [
            "sh",
            "-c",
            'exec "$@" 2>&-',
            "sh",
            sys.executable,
            "-m",
            "qpack",
            "plan",
            str(tmp_path / "none"),
            "-l",
            "demo",
        ],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        timeout=300,
    )
    assert (r.returncode, r.stdout) == (2, "")


def test_a_profiler_still_gets_to_write_its_results(tmp_path: Path) -> None:
    """`python -m cProfile -o F -m qpack ...` writes F after qpack returns: no fast exit then."""
    out = tmp_path / "qpack.prof"
    r = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "qpack", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert (r.returncode, r.stdout) == (0, f"qpack {__version__}\n")
    assert pstats.Stats(str(out)).total_calls > 0
