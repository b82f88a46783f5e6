"""A build stamp compared by value (`[loader.stamp] symbol` with `value`): each module defines a
data symbol holding a C string, and the program refuses a module whose string is not its own,
as pppd refuses a plug-in whose `pppd_version` is another release's and WeeChat one whose
`weechat_plugin_api_version` differs. The program here is real, built with the system compiler:
it loads modules and says which it refused, and qpack's plan, check and install are held to it.
Its version string is only the end of a longer one (`where + 15`), as a compiler keeps one copy
of "2.4.9" inside pppd's "/usr/lib/pppd/2.4.9"."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qpack.elf import held_stamps, held_stamps_pyelftools, read_elf, read_elf_pyelftools, stamp_value
from qpack.errors import LayoutError
from qpack.layout import load_layout

from .conftest import run_qpack

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the program")

PROGRAM = r"""
#include <dlfcn.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static const char where[] = "/usr/lib/vprog/" VPROG_VERSION;
int main(int argc, char **argv) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) return 2;
    exe[n] = 0;
    const char *bindir = dirname(exe);
    int bad = 0;
    if (argc == 1) puts("Maximum TLS version (1.0/1.1/1.2 (default)/1.3)");
    for (int i = 1; i < argc; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/../lib/vprog/%s.so", bindir, argv[i]);
        void *h = dlopen(path, RTLD_NOW);
        if (!h) { printf("%s: not found\n", argv[i]); bad = 1; continue; }
        const char *v = dlsym(h, "vprog_version");
        if (!v) {  /* as pppd: "Warning: plugin ... has no version information" */
            printf("%s: loaded (no version information)\n", argv[i]);
            continue;
        }
        if (strcmp(v, where + 15) != 0) {
            printf("%s: refused (version %s)\n", argv[i], v);
            bad = 1;
            continue;
        }
        printf("%s: loaded\n", argv[i]);
    }
    return bad;
}
"""

# One module's string in .rodata, the other's in .data (pppd's `char pppd_version[]`).
MODULE_CONST = "const char vprog_version[] = VPROG_VERSION; int vprog_init(void) { return 0; }\n"
MODULE_DATA = "char vprog_version[] = VPROG_VERSION; int vprog_init(void) { return 0; }\n"
MODULE_NONE = "int vprog_init(void) { return 0; }\n"  # no version information

LAYOUT = """
[layout]
name = "vprog"

[loader]
prefix = "/usr"
executables = ["{prefix}/bin/vprog"]
naming = "{name}.so"
entry = "vprog_init"

[[loader.search]]
relocated = "lib/vprog"

[loader.stamp]
symbol = "vprog_version"
value = "VALUE"

[[package]]
name = "vprog-core"
rest = true

[per-module]
name = "vprog-{name}"
"""


def gcc(source: str, out: Path, version: str, *flags: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_suffix(".c")
    src.write_text(source)
    subprocess.run(
        ["gcc", "-O2", f'-DVPROG_VERSION="{version}"', *flags, "-o", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    src.unlink()


def build(root: Path, version: str, modules: dict[str, str]) -> Path:
    """A staged tree of the program at `version`, and its modules (name -> source)."""
    gcc(PROGRAM, root / "usr/bin/vprog", version, "-ldl")
    for name, source in modules.items():
        gcc(source, root / f"usr/lib/vprog/{name}.so", version, "-shared", "-fPIC")
    return root


def layout(tmp: Path, value: str = "[0-9].[0-9]*") -> Path:
    path = tmp / "vprog.toml"
    path.write_text(LAYOUT.replace("VALUE", value))
    return path


def real_run(exe: Path, *names: str) -> dict[str, str]:
    r = subprocess.run([str(exe), *names], capture_output=True, text=True, check=False, timeout=60)
    return dict(line.split(": ", 1) for line in r.stdout.splitlines())


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(release 1.4.2 with modules alpha and beta, release 1.4.1 with gamma): the same package
    version for both, so that only the stamp tells them apart."""
    base = tmp_path_factory.mktemp("vprog")
    new = build(base / "new", "1.4.2", {"alpha": MODULE_CONST, "beta": MODULE_DATA})
    build(base / "none", "1.4.2", {"delta": MODULE_NONE, "zeta": MODULE_CONST})
    old = build(base / "old", "1.4.1", {"gamma": MODULE_DATA})
    return new, old


def mixed(trees: tuple[Path, Path], tmp_path: Path) -> Path:
    new, old = trees
    root = tmp_path / "mixed"
    shutil.copytree(new, root, symlinks=True)
    shutil.copy2(old / "usr/lib/vprog/gamma.so", root / "usr/lib/vprog/gamma.so")
    return root


def test_the_program_holds_its_string_only_inside_another(trees: tuple[Path, Path]) -> None:
    new, _ = trees
    data = (new / "usr/bin/vprog").read_bytes()
    assert b"/usr/lib/vprog/1.4.2\0" in data
    assert b"\0" + b"1.4.2\0" not in data  # no copy of its own: only the end of `where`


def test_readers_agree_on_the_value_and_the_held_strings(trees: tuple[Path, Path]) -> None:
    new, old = trees
    spec = "vprog_version=[0-9].[0-9]*"
    files = [
        new / "usr/bin/vprog",
        *sorted((new / "usr/lib/vprog").iterdir()),
        old / "usr/lib/vprog/gamma.so",
    ]
    for path in files:
        for strings in (False, True):
            with open(path, "rb") as f:
                lief_info = read_elf(f, spec, strings)
            with open(path, "rb") as f:
                assert read_elf_pyelftools(f, spec, strings) == lief_info, path
    with open(new / "usr/bin/vprog", "rb") as f:
        held = held_stamps(f, spec)
    with open(new / "usr/bin/vprog", "rb") as f:
        assert held_stamps_pyelftools(f, spec) == held
    assert "1.4.2" in held and "1.4.1" not in held
    # `*` stops at a space: no end of a sentence is a version (a pppd tester's glob matched one).
    assert not [h for h in held if " " in h], held
    values = {}
    for path in files[1:]:
        with open(path, "rb") as f:
            values[path.stem] = stamp_value(f, "vprog_version")
        with open(path, "rb") as f:
            assert read_elf(f, spec).stamps_exported == (values[path.stem],)
    assert values == {"alpha": "1.4.2", "beta": "1.4.2", "gamma": "1.4.1"}
    with open(new / "usr/bin/vprog", "rb") as f:
        assert read_elf(f, spec).stamps_exported == ()  # a program exports no stamp


def test_check_and_plan_refuse_what_the_program_refuses(trees: tuple[Path, Path], tmp_path: Path) -> None:
    root = mixed(trees, tmp_path)
    assert real_run(root / "usr/bin/vprog", "alpha", "beta", "gamma") == {
        "alpha": "loaded",
        "beta": "loaded",
        "gamma": "refused (version 1.4.1)",
    }
    lay = layout(tmp_path)
    r = run_qpack("check", "/usr", "-l", str(lay), "--root", str(root))
    assert r.returncode == 1, r.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in r.stdout.splitlines() if "\t" in line}
    assert rows["alpha"][2] == rows["beta"][2] == "yes", r.stdout
    assert rows["gamma"][2] == "no" and "its vprog_version is '1.4.1'" in rows["gamma"][3], r.stdout
    assert "other-build" in rows["gamma"][3]
    r = run_qpack("plan", str(root), "-l", str(lay))
    assert r.returncode == 0, r.stderr
    assert "gamma.so: module's vprog_version is '1.4.1', which the loader's files do not hold" in r.stderr
    assert "alpha" not in r.stderr and "beta.so" not in r.stderr, r.stderr
    # The release's own tree: nothing to say.
    r = run_qpack("check", "/usr", "-l", str(lay), "--root", str(trees[0]))
    assert r.returncode == 0 and "2 of 2 modules load" in r.stderr, r.stdout + r.stderr


def test_a_value_glob_the_program_never_holds_is_the_layouts_mistake(
    trees: tuple[Path, Path], tmp_path: Path
) -> None:
    lay = layout(tmp_path, "9.9.*")
    r = run_qpack("plan", str(trees[0]), "-l", str(lay))
    assert r.returncode == 2
    assert "holds a string like '9.9.*'" in r.stderr, r.stderr
    r = run_qpack("check", "/usr", "-l", str(lay), "--root", str(trees[0]))
    assert r.returncode == 2
    assert "a string like '9.9.*'" in r.stderr and "the modules' vprog_version is '1.4.2'" in r.stderr, (
        r.stderr
    )


def test_install_refuses_a_module_of_another_release(trees: tuple[Path, Path], tmp_path: Path) -> None:
    new, old = trees
    lay = layout(tmp_path)
    for name, tree in (("new", new), ("old", old), ("none", new.parent / "none")):
        out = str(tmp_path / name)
        r = run_qpack("split", str(tree), "-l", str(lay), "--version", "1.0", "--format", "wheel", "-o", out)
        assert r.returncode == 0, r.stderr
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    r = run_qpack("install", str(tmp_path / "new"), "-l", str(lay), "--prefix", str(venv), "alpha")
    assert r.returncode == 0, r.stderr
    assert real_run(venv / "bin/vprog", "alpha") == {"alpha": "loaded"}
    r = run_qpack("install", str(tmp_path / "old"), "-l", str(lay), "--prefix", str(venv), "gamma")
    assert r.returncode != 0
    assert "holds vprog_version '1.4.1', which" in r.stderr and "another release" in r.stderr, r.stderr
    assert not (venv / "lib/vprog/gamma.so").exists()  # nothing half-written
    # One without the symbol: refused, unless the stamp is optional (pppd loads it).
    r = run_qpack("install", str(tmp_path / "none"), "-l", str(lay), "--prefix", str(venv), "delta")
    assert r.returncode != 0 and "holds no vprog_version string" in r.stderr, r.stderr
    lenient = tmp_path / "optional.toml"
    lenient.write_text(lay.read_text().replace('value = "', 'optional = true\nvalue = "'))
    r = run_qpack("install", str(tmp_path / "none"), "-l", str(lenient), "--prefix", str(venv), "delta")
    assert r.returncode == 0, r.stderr
    assert real_run(venv / "bin/vprog", "alpha", "delta") == {
        "alpha": "loaded",
        "delta": "loaded (no version information)",
    }


@pytest.mark.parametrize(
    ("stamp", "key"),
    [
        ('value = "1.*"', "needs `symbol`"),
        ('symbol = "vprog_*"\nvalue = "1.*"', "one C identifier"),
        ('symbol = "vprog_version"\nvalue = "*.1"', "bad value glob"),
        ('symbol = "vprog_version"\nvalue = ""', "bad value glob"),
        ('symbol = "vprog_*"\noptional = true', "only with `value`"),
    ],
)
def test_bad_value_stamps_name_the_key(stamp: str, key: str, tmp_path: Path) -> None:
    text = LAYOUT.replace('symbol = "vprog_version"\nvalue = "VALUE"', stamp)
    path = tmp_path / "bad.toml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(LayoutError, match="stamp") as e:
        load_layout(path)
    assert key in str(e.value)


def test_check_notes_modules_in_another_releases_directory(trees: tuple[Path, Path], tmp_path: Path) -> None:
    """A location named by its release (pppd's lib/pppd/2.4.9): a module left in 2.4.8 beside
    it is never read, and check says so once, not also as a module misplaced beside it."""
    new, _ = trees
    root = tmp_path / "tree"
    shutil.copytree(new, root, symlinks=True)
    lay = tmp_path / "versioned.toml"
    lay.write_text(
        LAYOUT.replace('relocated = "lib/vprog"', 'relocated = "lib/vprog/1.4"').replace(
            "VALUE", "[0-9].[0-9]*"
        )
    )
    (root / "usr/lib/vprog/1.4").mkdir()
    (root / "usr/lib/vprog/1.3").mkdir()
    (root / "usr/lib/vprog/alpha.so").rename(root / "usr/lib/vprog/1.4/alpha.so")
    (root / "usr/lib/vprog/beta.so").rename(root / "usr/lib/vprog/1.3/beta.so")
    r = run_qpack("check", "/usr", "-l", str(lay), "--root", str(root), "-v")
    assert r.returncode == 0, r.stdout + r.stderr
    said = [line for line in r.stderr.splitlines() if "beta.so" in line]
    assert len(said) == 1, r.stderr
    assert (
        "/usr/lib/vprog/1.3: 1 file(s) named as modules (beta.so) in a directory of another version"
        in said[0]
    )


def test_a_module_without_the_symbol_loads_where_the_stamp_is_optional(
    trees: tuple[Path, Path], tmp_path: Path
) -> None:
    """pppd loads a plug-in that defines no `pppd_version` ("has no version information"); a
    pppd tester's was refused by check and warned of by plan. `optional = true` says so; one
    with another string is still refused."""
    new, _ = trees
    root = mixed(trees, tmp_path)
    none = new.parent / "none/usr/lib/vprog"
    shutil.copy2(none / "delta.so", root / "usr/lib/vprog/delta.so")
    assert real_run(root / "usr/bin/vprog", "delta", "gamma") == {
        "delta": "loaded (no version information)",
        "gamma": "refused (version 1.4.1)",
    }
    strict, lenient = layout(tmp_path), tmp_path / "optional.toml"
    lenient.write_text(strict.read_text().replace('value = "', 'optional = true\nvalue = "'))
    verdicts = {}
    for lay in (strict, lenient):
        r = run_qpack("check", "/usr", "-l", str(lay), "--root", str(root))
        assert r.returncode == 1, r.stderr
        verdicts[lay.stem] = {line.split("\t")[0]: line.split("\t")[2] for line in r.stdout.splitlines()}
    assert verdicts["vprog"]["delta"] == "no" and verdicts["optional"]["delta"] == "yes", verdicts
    assert verdicts["vprog"]["gamma"] == verdicts["optional"]["gamma"] == "no"
    r = run_qpack("plan", str(root), "-l", str(lenient))
    assert "delta" not in r.stderr and "gamma.so: module's vprog_version is '1.4.1'" in r.stderr, r.stderr
    r = run_qpack("plan", str(root), "-l", str(strict))
    assert "delta.so: module holds no vprog_version string" in r.stderr, r.stderr


def test_a_mistyped_value_symbol_is_the_layouts_mistake(trees: tuple[Path, Path], tmp_path: Path) -> None:
    """A pppd tester's `pppd_versoin`: check called all 14 plug-ins "of another build", exit 1,
    and plan listed the strings pppd holds. No module defining the symbol is a layout error,
    optional or not."""
    for optional in ("", "optional = true\n"):
        lay = tmp_path / "typo.toml"
        lay.write_text(
            LAYOUT.replace('symbol = "vprog_version"', 'symbol = "vprog_versoin"')
            .replace("VALUE", "[0-9].[0-9]*")
            .replace('value = "', optional + 'value = "')
        )
        r = run_qpack("check", "/usr", "-l", str(lay), "--root", str(trees[0]))
        assert r.returncode == 2, r.stdout + r.stderr
        assert "no module found defines vprog_versoin" in r.stderr and "symbol mistyped?" in r.stderr
        r = run_qpack("plan", str(trees[0]), "-l", str(lay))
        assert r.returncode == 2, r.stderr
        assert "no module of the build defines vprog_versoin" in r.stderr, r.stderr
        assert "1.4.2" not in r.stderr, r.stderr


def test_a_refused_copy_the_loader_passes_over_is_named(trees: tuple[Path, Path], tmp_path: Path) -> None:
    """A WeeChat tester's stale user copy of xfer.so ("API mismatch" at every start), searched
    before the system's, which loads: the row said "yes" and only `--json`'s copies named the
    stale one. A loader that passes over what it refuses loads the module; check names the copy."""
    new, old = trees
    root = tmp_path / "tree"
    shutil.copytree(new, root, symlinks=True)
    (root / "opt/vprog").mkdir(parents=True)
    shutil.copy2(old / "usr/lib/vprog/gamma.so", root / "opt/vprog/alpha.so")
    lay = tmp_path / "registers.toml"
    text = LAYOUT.replace("VALUE", "[0-9].[0-9]*").replace(
        '[[loader.search]]\nrelocated = "lib/vprog"',
        '[[loader.search]]\nabsolute = "/opt/vprog"\n[[loader.search]]\nrelocated = "lib/vprog"',
    )
    lay.write_text(
        text.replace('entry = "vprog_init"', 'entry = "vprog_init"\nresolution = "register-loadable"')
    )
    r = run_qpack("check", "/usr", "-l", str(lay), "--root", str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "alpha\t/usr/lib/vprog/alpha.so\tyes" in r.stdout, r.stdout
    assert (
        "/opt/vprog/alpha.so: refused (other-build) and passed over for /usr/lib/vprog/alpha.so, a later "
        "copy of module 'alpha'" in r.stderr
    ), r.stderr
