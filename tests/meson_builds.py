"""Real meson builds shared by the meson and PEP 517 backend tests: made once per session.

- `demo_meson`: qpack's demo as a project (meson.build, sources, pyproject.toml for
  qpack.build_api) copied into a temporary directory, configured in `<project>/build` the way
  the backend configures it (prefix /usr, -Dbuild_tag=1), compiled, and installed with
  `meson install --destdir` into `stage`.
- `feature_meson`: a small project written here that uses every way meson installs files
  (versioned library and its links, rpaths meson rewrites and removes, headers, man pages,
  renamed data with install modes, install_subdir with excludes and a link, an empty
  directory, symlinks, configure_file, custom_target, install scripts), built and installed
  the same way.

meson and ninja come from PyPI (the test extra); without them, or without a C compiler, the
tests that need these builds skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import qpack.demo

DEMO_DIR = Path(qpack.demo.__file__).parent
DEMO_PROJECT_FILES = ("meson.build", "meson_options.txt", "stamp.py", "src", "pyproject.toml")
MESON = [sys.executable, "-m", "mesonbuild.mesonmain"]

_built: dict[str, MesonBuild] = {}


@dataclass(frozen=True)
class MesonBuild:
    project: Path  # the source tree (for the demo: a project for qpack.build_api)
    build: Path  # the compiled meson build directory, inside the project
    stage: Path  # what `meson install --destdir` made of it


def have_meson() -> str | None:
    """Why the meson tests cannot run here, or None."""
    for module in ("mesonbuild", "ninja"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install meson ninja: the test extra has them)"
    if not any(shutil.which(c) for c in (os.environ.get("CC") or "cc", "cc", "gcc")):
        return "no C compiler (cc/gcc) on this machine"
    return None


def meson(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([*MESON, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError(f"meson {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r


def configure_and_build(project: Path, build: Path, *setup_args: str, compile: bool = True) -> None:
    meson("setup", str(build), str(project), "--prefix=/usr", *setup_args)
    if compile:
        meson("compile", "-C", str(build))


def _make(name: str, tmp_path_factory: pytest.TempPathFactory, write: Callable[[Path], object]) -> MesonBuild:
    if name not in _built:
        why = have_meson()
        if why is not None:
            pytest.skip(why)
        project = tmp_path_factory.mktemp(name) / "project"
        write(project)
        build = project / "build"
        configure_and_build(project, build, *(["-Dbuild_tag=1"] if name == "demo" else ["--libdir=lib"]))
        stage = project.parent / "stage"
        meson("install", "-C", str(build), "--no-rebuild", "--destdir", str(stage))
        _built[name] = MesonBuild(project, build, stage)
    return _built[name]


def copy_demo_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in DEMO_PROJECT_FILES:
        src = DEMO_DIR / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def demo_meson(tmp_path_factory: pytest.TempPathFactory) -> MesonBuild:
    return _make("demo", tmp_path_factory, copy_demo_project)


FEATURE_MESON_BUILD = """\
project('feat', 'c', version: '2.1', meson_version: '>=0.62',
        default_options: ['debug=false', 'optimization=1'])
lib = shared_library('feat', 'feat.c', version: '2.1.0', soversion: '2', install: true)
# A build rpath ($ORIGIN/) and no install_rpath: meson install removes the RUNPATH entry.
executable('feat-tool', 'tool.c', link_with: lib, install: true)
# A build rpath rewritten to the install_rpath.
executable('feat-rel', 'tool.c', link_with: lib, install: true, install_rpath: '$ORIGIN/../lib',
           install_tag: 'bin')
shared_module('plug', 'plug.c', name_prefix: '', install: true,
              install_dir: get_option('libdir') / 'feat', install_mode: 'rw-r-----')
install_headers('feat.h', subdir: 'feat')
install_man('feat.1')
install_data('data.txt', rename: 'renamed.txt', install_dir: get_option('datadir') / 'feat',
             install_mode: 'rwxr-x---')
install_data('exec.sh', install_dir: get_option('datadir') / 'feat')
install_subdir('tree', install_dir: get_option('datadir') / 'feat',
               exclude_files: ['skip.txt'], exclude_directories: ['skipdir'])
install_emptydir(get_option('localstatedir') / 'lib' / 'feat', install_mode: 'rwx------')
install_symlink('feat-link', pointing_to: 'feat-tool', install_dir: get_option('bindir'))
install_symlink('abs-link', pointing_to: '/usr/bin/feat-tool', install_dir: get_option('libexecdir'))
configure_file(output: 'feat.conf', configuration: {'X': '1'}, install: true,
               install_dir: get_option('datadir') / 'feat')
custom_target('gen', input: 'data.txt', output: 'gen.txt', command: ['cp', '@INPUT@', '@OUTPUT@'],
              install: true, install_dir: get_option('datadir') / 'feat')
meson.add_install_script('script.sh')
meson.add_install_script('script.sh', 'never', skip_if_destdir: true)
"""

SCRIPT_OUTPUT = "usr/share/feat/from-script"


def write_feature_project(project: Path) -> None:
    project.mkdir(parents=True)
    (project / "meson.build").write_text(FEATURE_MESON_BUILD)
    (project / "feat.h").write_text("int feat(void);\n")
    (project / "feat.c").write_text('#include "feat.h"\nint feat(void) { return 2; }\n')
    (project / "tool.c").write_text('#include "feat.h"\nint main(void) { return feat() - 2; }\n')
    (project / "plug.c").write_text("int plug_init(void);\nint plug_init(void) { return 0; }\n")
    (project / "feat.1").write_text(".TH FEAT 1\n")
    (project / "data.txt").write_text("data\n")
    (project / "exec.sh").write_text("#!/bin/sh\n")
    (project / "exec.sh").chmod(0o755)
    (project / "script.sh").write_text(
        textwrap.dedent("""\
        #!/bin/sh
        [ "$1" = never ] && exit 1
        mkdir -p "$MESON_INSTALL_DESTDIR_PREFIX/share/feat"
        echo made > "$MESON_INSTALL_DESTDIR_PREFIX/share/feat/from-script"
        """)
    )
    (project / "script.sh").chmod(0o755)
    tree = project / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "skipdir").mkdir()
    (tree / "a.txt").write_text("a\n")
    (tree / "a.txt").chmod(0o600)  # installed 0644: meson sanitizes modes under its umask
    (tree / "sub" / "b.txt").write_text("b\n")
    (tree / "skip.txt").write_text("left out\n")
    (tree / "skipdir" / "c.txt").write_text("left out\n")
    (tree / "link").symlink_to("a.txt")  # followed: meson copies a.txt's bytes


def feature_meson(tmp_path_factory: pytest.TempPathFactory) -> MesonBuild:
    return _make("feature", tmp_path_factory, write_feature_project)
