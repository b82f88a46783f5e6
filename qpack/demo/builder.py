"""Build the demo program bundled with qpack into a staged install tree.

The demo is a small modular C program with two executables that load the same modules in two
different ways: `demo` the way QEMU loads its own (the contract is the comment at the top of
src/main.c) and `demo-registry` like plugin frameworks that register every module file of whole
directories (the comment at the top of src/registry.c).  Both are linked from their own source
plus src/loader.c (module table, stamp and init checks), so they share one build tag, one stamp
and one module table.  `build_demo` compiles everything with the system C compiler in a
temporary directory and installs it DESTDIR-style:

    <destdir>/<prefix>/bin/demo                      the executable (-rdynamic, RUNPATH $ORIGIN/../lib)
    <destdir>/<prefix>/bin/demo-run -> demo          a relative symlink
    <destdir>/<prefix>/bin/demo-registry             the register-all loader (linked like bin/demo)
    <destdir>/<prefix>/lib/libdemo-util.so.1         SONAME libdemo-util.so.1, DT_NEEDED of both executables
    <destdir>/<prefix>/lib/demo/<type>/<name>.so     one per entry of MODULES
    <destdir>/<prefix>/share/demo/banner.txt
    <destdir>/<prefix>/share/doc/demo/README

Builds are deterministic: the same sources, prefix and build tag give byte-identical files.

For test fixtures that need module files the build does not have, `build_extra_module` compiles
one more module the way the build compiles its own (with a given stamp or none, optionally linked
against libraries from `build_extra_library`, optionally 32-bit x86), and `m32_supported` says
whether the compiler can build 32-bit x86 code on this machine.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

from qpack.loader import canon_pkgversion

SRC_DIR = Path(__file__).resolve().parent / "src"

# Install locations, relative to the prefix.
EXECUTABLE = "bin/demo"
EXECUTABLE_LINK = "bin/demo-run"
REGISTRY_EXECUTABLE = "bin/demo-registry"
UTIL_LIBRARY = "lib/libdemo-util.so.1"
MODULE_DIR = "lib/demo"
BANNER = "share/demo/banner.txt"
README = "share/doc/demo/README"
FALLBACK_MODULE_ROOT = "/var/run/demo"

_COMPILE_TIMEOUT_S = 300
_STDERR_LINES = 10


class DemoBuildError(Exception):
    """The demo program cannot be built; `str()` is the message."""


@dataclass(frozen=True)
class DemoModule:
    """One module of the demo: the file lib/demo/<type>/<name>.so and the modules it needs."""

    type: str
    name: str
    needs: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """`<type>-<name>`, as `demo` prints it and as `demo --load` takes it."""
        return f"{self.type}-{self.name}"

    @property
    def path(self) -> str:
        """The module's file, relative to the prefix."""
        return f"{MODULE_DIR}/{self.type}/{self.name}.so"


# Kept in step with the `demo_modules` table in src/loader.c; the order is the `demo --load-all` order.
MODULES: tuple[DemoModule, ...] = (
    DemoModule("ui", "curses"),
    DemoModule("ui", "gtk", needs=("ui-opengl",)),
    DemoModule("ui", "opengl"),
    DemoModule("block", "curl"),
    DemoModule("block", "nfs"),
    DemoModule("audio", "alsa"),
    DemoModule("audio", "pa", needs=("audio-alsa",)),
)

# Extra link arguments per module (paths are relative to the build directory).
_MODULE_LINK_ARGS: dict[str, tuple[str, ...]] = {
    # A library of the core: DT_NEEDED libdemo-util.so.1, found next to the core's lib/.
    "block-curl": (UTIL_LIBRARY, "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../.."),
    # A system library: DT_NEEDED libm.so.6.
    "audio-alsa": ("-lm",),
}


@dataclass(frozen=True)
class _Staged:
    """One entry of the install tree: a built or shipped file, or a symlink."""

    path: str  # relative to the prefix
    mode: int = 0o644
    source: Path | None = None
    link: str | None = None


def canon_build_tag(build_tag: str) -> str:
    """The build tag as the fallback module directory spells it (what demo_util_canon does:
    QEMU's canonicalisation of its pkgversion, which the loader model owns)."""
    return canon_pkgversion(build_tag)


def fallback_module_dir(build_tag: str) -> str:
    """The absolute, never relocated, last module search location of a build."""
    return f"{FALLBACK_MODULE_ROOT}/{canon_build_tag(build_tag)}"


def _c_sources(src_dir: Path) -> list[tuple[str, Path]]:
    """Every .c and .h file under src_dir as (relative POSIX path, path), sorted by that path."""
    found = [
        (p.relative_to(src_dir).as_posix(), p)
        for p in src_dir.rglob("*")
        if p.suffix in {".c", ".h"} and p.is_file()
    ]
    return sorted(found)


def compute_stamp(prefix: str, build_tag: str, src_dir: Path = SRC_DIR) -> str:
    """The build stamp: 40 hex digits; modules export `demo_stamp_<stamp>`.

    It is the SHA-1 of a sequence of fields, each written as `label NUL decimal-length NUL value`:
    first one field per .c/.h file under src_dir in sorted relative-path order (label = that
    path, value = the file's bytes), then `prefix` and `build_tag` (UTF-8).  The lengths keep
    two different inputs from running together into the same bytes.
    """
    digest = hashlib.sha1(usedforsecurity=False)

    def field(label: str, value: bytes) -> None:
        digest.update(label.encode() + b"\0" + str(len(value)).encode() + b"\0")
        digest.update(value)

    for rel, path in _c_sources(src_dir):
        field(rel, path.read_bytes())
    field("prefix", prefix.encode())
    field("build_tag", build_tag.encode())
    return digest.hexdigest()


def find_compiler(cc: str | None = None) -> list[str]:
    """The compiler command as argv: `cc` if given, else $CC if set, else `cc`, else `gcc`.

    `cc` and $CC may carry arguments ("ccache gcc"); they are split like a shell would.  An
    explicit `cc` that cannot be found is an error, not a reason to fall back to another one.
    """
    if cc is not None:
        candidates = [(cc, cc)]
    else:
        env_cc = os.environ.get("CC", "").strip()
        candidates = [(f"$CC ({env_cc})", env_cc)] if env_cc else []
        candidates += [("cc", "cc"), ("gcc", "gcc")]
    for label, command in candidates:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise DemoBuildError(f"cannot parse compiler command {label}: {exc}") from None
        if argv and (program := shutil.which(argv[0])) is not None:
            return [program, *argv[1:]]
    tried = ", ".join(label for label, _ in candidates)
    hint = "install gcc or pass a working cc" if cc is not None else "install gcc"
    raise DemoBuildError(f"no C compiler found: tried {tried}; {hint}")


def _check_arguments(prefix: str, build_tag: str) -> None:
    parts = prefix.split("/")
    if not prefix.startswith("/") or str(PurePosixPath(prefix)) != prefix or "" in parts[1:] or ".." in parts:
        raise DemoBuildError(f"prefix must be an absolute normalised path such as /usr, got {prefix!r}")
    if not build_tag or not build_tag.isascii() or not build_tag.isprintable():
        raise DemoBuildError(f"build tag must be non-empty printable ASCII, got {build_tag!r}")


def _c_string(text: str) -> str:
    """text as a C string literal (ASCII letters and digits kept, everything else octal-escaped)."""
    return '"' + "".join(c if c.isascii() and c.isalnum() else f"\\{ord(c):03o}" for c in text) + '"'


def _run(argv: list[str], cwd: Path, what: str) -> None:
    # LC_ALL=C: compiler messages (which end up in our errors) in one language.
    env = {**os.environ, "LC_ALL": "C"}
    try:
        result = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=_COMPILE_TIMEOUT_S, check=False
        )
    except OSError as exc:
        raise DemoBuildError(f"building {what}: cannot run {argv[0]}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise DemoBuildError(f"building {what}: {argv[0]} took over {_COMPILE_TIMEOUT_S} s") from None
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()[:_STDERR_LINES] or ["(no output)"]
        details = "\n".join(f"  {line}" for line in lines)
        raise DemoBuildError(
            f"building {what} failed: {shlex.join(argv)} exited with status {result.returncode}:\n{details}"
        )


def _cflags(work: Path) -> list[str]:
    """The compiler flags of every file of the build (the stamp is added where it is needed).

    Every command runs in `work` with relative paths, and -ffile-prefix-map maps `work` away in
    case the compiler still records it, so the outputs do not depend on the temporary directory.
    """
    return [
        "-std=gnu11",
        "-O2",
        "-g0",
        "-fPIC",
        "-Wall",
        "-Wextra",
        "-Werror",
        f"-ffile-prefix-map={work}=.",
        "-Isrc",
    ]


# sha1 build ids are derived from the output's content, so they are deterministic too.
_BUILD_ID = "-Wl,--build-id=sha1"


def _compile(compiler: list[str], work: Path, stamp: str, build_tag: str) -> list[_Staged]:
    """Compiles everything in work/src into work/out (laid out as the prefix); returns what to install."""
    cflags = [*_cflags(work), f"-DDEMO_STAMP={stamp}"]
    build_id = _BUILD_ID
    out = work / "out"
    for rel in (EXECUTABLE, REGISTRY_EXECUTABLE, UTIL_LIBRARY, *(m.path for m in MODULES)):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)

    _run(
        [*compiler, *cflags, "-shared", f"-Wl,-soname,{PurePosixPath(UTIL_LIBRARY).name}", build_id,
         "-o", f"out/{UTIL_LIBRARY}", "src/demo-util.c"],
        work,
        UTIL_LIBRARY,
    )  # fmt: skip
    for executable, source in ((EXECUTABLE, "src/main.c"), (REGISTRY_EXECUTABLE, "src/registry.c")):
        _run(
            [*compiler, *cflags, f"-DDEMO_BUILD_TAG={_c_string(build_tag)}",
             # -rdynamic: modules call functions of the executable (demo_core_register); loader.c
             # hides everything else it defines.
             # RUNPATH (new dtags) $ORIGIN/../lib: finds libdemo-util.so.1 wherever the prefix is copied.
             "-rdynamic", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib", build_id,
             "-o", f"out/{executable}", source, "src/loader.c", f"out/{UTIL_LIBRARY}",
             # dlopen() is in libc since glibc 2.34; older ones need libdl, which --as-needed then keeps.
             "-Wl,--push-state,--as-needed", "-ldl", "-Wl,--pop-state"],
            work,
            executable,
        )  # fmt: skip
    for module in MODULES:
        link_args = [
            f"out/{arg}" if arg == UTIL_LIBRARY else arg for arg in _MODULE_LINK_ARGS.get(module.id, ())
        ]
        _run(
            [*compiler, *cflags, "-shared", build_id, "-o", f"out/{module.path}",
             f"src/modules/{module.type}/{module.name}.c", *link_args],
            work,
            module.path,
        )  # fmt: skip

    return [
        _Staged(EXECUTABLE, mode=0o755, source=out / EXECUTABLE),
        _Staged(EXECUTABLE_LINK, link=PurePosixPath(EXECUTABLE).name),
        _Staged(REGISTRY_EXECUTABLE, mode=0o755, source=out / REGISTRY_EXECUTABLE),
        _Staged(UTIL_LIBRARY, source=out / UTIL_LIBRARY),
        *(_Staged(m.path, source=out / m.path) for m in MODULES),
        _Staged(BANNER, source=work / "src/share/banner.txt"),
        _Staged(README, source=work / "src/share/README"),
    ]


def _install(staged: list[_Staged], root: Path) -> None:
    """Writes the staged entries under root, replacing files or symlinks already there."""
    for entry in staged:
        dest = root / entry.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink() or dest.is_file():
            # Never write through an existing symlink: it could point outside root.
            dest.unlink()
        elif dest.exists():
            raise DemoBuildError(f"cannot install {entry.path}: {dest} exists and is not a file")
        if entry.link is not None:
            dest.symlink_to(entry.link)
        elif entry.source is not None:
            shutil.copyfile(entry.source, dest)
            dest.chmod(entry.mode)


def build_demo(destdir: Path, *, prefix: str = "/usr", cc: str | None = None, build_tag: str = "1") -> Path:
    """Compiles the demo and installs it under destdir/<prefix>; returns destdir.

    `cc` is the compiler command (default: $CC, else cc, else gcc).  `build_tag` is the version
    string of this build (`demo --version`, the fallback module directory); with `prefix` and the
    sources it determines the build stamp, so two builds differing in any of them refuse each
    other's modules.  Raises DemoBuildError for a missing or failing compiler or bad arguments.
    """
    destdir = Path(destdir)
    _check_arguments(prefix, build_tag)
    compiler = find_compiler(cc)
    stamp = compute_stamp(prefix, build_tag)
    with tempfile.TemporaryDirectory(prefix="qpack-demo-") as tmp:
        # Resolved: the compiler records the physical directory, which is what the prefix map must name.
        work = Path(tmp).resolve()
        shutil.copytree(SRC_DIR, work / "src")
        staged = _compile(compiler, work, stamp, build_tag)
        _install(staged, destdir / prefix.lstrip("/"))
    return destdir


# --- extra modules and libraries for test fixtures -------------------------------------------------

_STAMP_CHARS = frozenset("0123456789abcdefABCDEF")


def _check_file_name(what: str, value: str) -> None:
    if not value or value in {".", ".."} or "/" in value or not value.isascii() or not value.isprintable():
        raise DemoBuildError(f"{what} must be a printable ASCII file name without '/', got {value!r}")


@cache
def _m32_works(compiler: tuple[str, ...]) -> bool:
    with tempfile.TemporaryDirectory(prefix="qpack-demo-m32-") as tmp:
        (Path(tmp) / "t.c").write_text("int demo_m32_probe;\n")
        try:
            result = subprocess.run(
                [*compiler, "-m32", "-shared", "-o", "t.so", "t.c"],
                cwd=tmp,
                capture_output=True,
                timeout=_COMPILE_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0


def m32_supported(cc: str | None = None) -> bool:
    """Whether the compiler (as `find_compiler(cc)` finds it) builds and links `-m32` shared objects.

    On Debian this needs gcc-multilib.  False also when there is no compiler at all.  The answer
    is cached per compiler command.
    """
    try:
        compiler = find_compiler(cc)
    except DemoBuildError:
        return False
    return _m32_works(tuple(compiler))


def _extra_compiler(cc: str | None, m32: bool) -> list[str]:
    compiler = find_compiler(cc)
    if m32 and not _m32_works(tuple(compiler)):
        raise DemoBuildError(
            f"{shlex.join(compiler)} cannot build -m32 shared objects here "
            "(on Debian: apt-get install gcc-multilib)"
        )
    return compiler


def build_extra_library(dest: Path, soname: str, *, m32: bool = False, cc: str | None = None) -> Path:
    """Compiles a tiny shared library with SONAME `soname` into dest/<soname>; returns that path.

    For `build_extra_module(needed=...)`: a module linked against it has `soname` in its
    DT_NEEDED, so removing or moving the library makes the module fail to load (dlopen's "cannot
    open shared object file").  The library defines one function and needs only libc.  `m32`
    builds it for 32-bit x86 (ELFCLASS32, EM_386), for 32-bit modules; `cc` as for `build_demo`.
    Deterministic like `build_demo`.  Raises DemoBuildError for a bad soname, a missing compiler
    or a failed compile.
    """
    _check_file_name("soname", soname)
    compiler = _extra_compiler(cc, m32)
    symbol = "demo_extra_" + "".join(c if c.isalnum() else "_" for c in soname)
    source = "/* An extra library built by build_extra_library(). */\n"
    source += f"int {symbol}(void);\nint {symbol}(void)\n{{\n    return 1;\n}}\n"
    with tempfile.TemporaryDirectory(prefix="qpack-demo-extra-") as tmp:
        work = Path(tmp).resolve()
        (work / "src").mkdir()
        (work / "out").mkdir()
        (work / "src/extra-library.c").write_text(source)
        _run(
            [*compiler, *_cflags(work), *(["-m32"] if m32 else []), "-shared", f"-Wl,-soname,{soname}",
             _BUILD_ID, "-o", "out/library.so", "src/extra-library.c"],
            work,
            soname,
        )  # fmt: skip
        _install([_Staged(soname, source=work / "out/library.so")], Path(dest))
    return Path(dest) / soname


def build_extra_module(
    dest: Path,
    *,
    type: str,
    name: str,
    stamp: str | None,
    needed: Sequence[Path] = (),
    runpath: str | None = None,
    m32: bool = False,
    cc: str | None = None,
) -> Path:
    """Compiles one module into dest/<type>/<name>.so (dest being a module directory such as
    <prefix>/lib/demo); returns that path.

    The module is compiled with the build's flags and exports what the demo's modules export:
    `demo_stamp_<stamp>` when `stamp` is given (`compute_stamp(prefix, build_tag)` of the build
    that should accept it; None exports no stamp, so every build refuses it), `demo_module_dummy`,
    and `demo_module_init`, which registers `type`/`name` with demo_core_register().  Its id,
    `<type>-<name>`, need not be in MODULES (no loader knows its dependencies then) and `type`
    need not be a demo type.

    `needed`: shared libraries (such as `build_extra_library`'s) the module is linked against;
    each adds the library's SONAME to the module's DT_NEEDED (kept even though the module calls
    nothing in it), so the module fails to load where that library cannot be found.  `runpath`:
    the module's DT_RUNPATH (e.g. "$ORIGIN" to find such a library next to it), none by default.
    `m32`: build for 32-bit x86 (ELFCLASS32, EM_386), which a 64-bit demo cannot dlopen ("wrong
    ELF class"); needs `m32_supported()` (and 32-bit `needed` libraries), else DemoBuildError.
    `cc` as for `build_demo`.  Deterministic like `build_demo`; an existing file is replaced.
    """
    _check_file_name("module type", type)
    _check_file_name("module name", name)
    if stamp is not None and (len(stamp) != 40 or not set(stamp) <= _STAMP_CHARS):
        raise DemoBuildError(f"stamp must be 40 hex digits (see compute_stamp), got {stamp!r}")
    needed = [Path(lib) for lib in needed]
    for lib in needed:
        if not lib.is_file():
            raise DemoBuildError(f"needed library {lib} is not a file")
    compiler = _extra_compiler(cc, m32)
    if stamp is not None:
        # Exactly what a module of the build is (module.h's DEMO_MODULE), with a trivial setup.
        source = (
            '#include "module.h"\n\nstatic int setup(void)\n{\n    return 0;\n}\n\n'
            f"DEMO_MODULE({_c_string(type)}, {_c_string(name)}, setup)\n"
        )
    else:
        # DEMO_MODULE without the stamp function (module.h requires a stamp).
        source = (
            "int demo_core_register(const char *type, const char *name);\n"
            "void demo_module_dummy(void);\nvoid demo_module_dummy(void) {}\n"
            "int demo_module_init(void);\nint demo_module_init(void)\n{\n"
            f"    return demo_core_register({_c_string(type)}, {_c_string(name)});\n}}\n"
        )
    rel = f"{type}/{name}.so"
    with tempfile.TemporaryDirectory(prefix="qpack-demo-extra-") as tmp:
        work = Path(tmp).resolve()
        (work / "src").mkdir()
        (work / "out").mkdir()
        (work / "lib").mkdir()
        shutil.copyfile(SRC_DIR / "module.h", work / "src/module.h")
        (work / "src/extra-module.c").write_text(source)
        # Copies under relative names, so that nothing of the caller's paths reaches the output.
        libs = []
        for i, lib in enumerate(needed):
            shutil.copyfile(lib, work / f"lib/{i}.so")
            libs.append(f"lib/{i}.so")
        _run(
            [*compiler, *_cflags(work), *(["-m32"] if m32 else []),
             *([f"-DDEMO_STAMP={stamp}"] if stamp is not None else []),
             "-shared", _BUILD_ID, "-o", "out/module.so", "src/extra-module.c",
             *([f"-Wl,--enable-new-dtags,-rpath,{runpath}"] if runpath is not None else []),
             *(["-Wl,--push-state,--no-as-needed", *libs, "-Wl,--pop-state"] if libs else [])],
            work,
            rel,
        )  # fmt: skip
        _install([_Staged(rel, source=work / "out/module.so")], Path(dest))
    return Path(dest) / rel
