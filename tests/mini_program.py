"""A small modular program built with the real C compiler, for the tests of wheels that must run
where pip puts them: its executable has no RUNPATH and links a library of its own build, one of
its modules links that library and another links a second library of the build that the
executable does not load, so only a right RUNPATH in each file makes it run.

    usr/bin/mini                   links libqpackmini.so.1; no RUNPATH
    usr/lib/libqpackmini.so.1      mini_lib_id() -> "build" (a decoy built with `decoy()` says "decoy")
    usr/lib/libqpackextra.so.1     mini_extra_id() -> "extra"
    usr/lib/mini/<name>.so         modules: `const char *mini_module(void)`
    usr/share/mini/greeting.txt    data the program reads from beside its module directory

`mini NAME...` prints `lib <mini_lib_id()>`, `dir <module directory>`, the greeting, then for each
NAME `loaded NAME: <what mini_module() says>` or `failed NAME: <dlerror()>`. Where it looks, in
order: $MINI_MODULE_DIR; with `bundle`, <exe dir>/mini-bundle/<configured path> when that
directory exists (QEMU's qemu-bundle); relocatable: <exe dir>/../lib/mini; else the configured
/usr/lib/mini. Its data directory (share/mini) is found the same way.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

SONAME = "libqpackmini.so.1"
EXTRA = "libqpackextra.so.1"

MAIN = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *mini_lib_id(void);

static char exe_dir[PATH_MAX];

/* A configured absolute path as this build finds it (QEMU's get_relocated_path). */
static void locate(const char *configured, const char *rel, char *out, size_t size)
{
#ifdef BUNDLE
    char bundle[PATH_MAX + 32];
    snprintf(bundle, sizeof bundle, "%s/mini-bundle", exe_dir);
    if (access(bundle, R_OK) == 0) {
        snprintf(out, size, "%s%s", bundle, configured);
        return;
    }
#endif
#if RELOCATABLE
    char up[PATH_MAX];
    snprintf(up, sizeof up, "%s", exe_dir);
    char *slash = strrchr(up, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    snprintf(out, size, "%s/%s", up, rel);
#else
    (void)rel;
    snprintf(out, size, "%s", configured);
#endif
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
    if (n < 0) {
        return 3;
    }
    exe_dir[n] = '\0';
    *strrchr(exe_dir, '/') = '\0';
    char dir[PATH_MAX * 2], data[PATH_MAX * 2];
    const char *env = getenv("MINI_MODULE_DIR");
    if (env != NULL && env[0] != '\0') {
        snprintf(dir, sizeof dir, "%s", env);
    } else {
        locate("/usr/lib/mini", "lib/mini", dir, sizeof dir);
    }
    locate("/usr/share/mini", "share/mini", data, sizeof data);
    printf("lib %s\ndir %s\n", mini_lib_id(), dir);
    char greeting_path[PATH_MAX * 3], greeting[128] = "no greeting";
    snprintf(greeting_path, sizeof greeting_path, "%s/greeting.txt", data);
    FILE *g = fopen(greeting_path, "r");
    if (g != NULL) {
        if (fgets(greeting, sizeof greeting, g) != NULL) {
            greeting[strcspn(greeting, "\n")] = '\0';
        }
        fclose(g);
    }
    printf("greeting %s\n", greeting);
    for (int i = 1; i < argc; i++) {
        char path[PATH_MAX * 3];
        snprintf(path, sizeof path, "%s/%s.so", dir, argv[i]);
        void *h = dlopen(path, RTLD_NOW);
        if (h == NULL) {
            printf("failed %s: %s\n", argv[i], dlerror());
            continue;
        }
        const char *(*f)(void) = (const char *(*)(void))dlsym(h, "mini_module");
        printf("loaded %s: %s\n", argv[i], f != NULL ? f() : "?");
    }
    return 0;
}
"""

LIB = 'const char *mini_lib_id(void);\nconst char *mini_lib_id(void) { return "%s"; }\n'
EXTRA_LIB = 'const char *mini_extra_id(void);\nconst char *mini_extra_id(void) { return "extra"; }\n'

# name -> (C source, link arguments): `a` links the build's library the executable also loads,
# `c` one the executable does not load, `b` nothing of the build.
MODULES = {
    "a": (
        "const char *mini_lib_id(void);\nconst char *mini_module(void);\n"
        "const char *mini_module(void) { return mini_lib_id(); }\n",
        ["out/usr/lib/" + SONAME],
    ),
    "b": ('const char *mini_module(void);\nconst char *mini_module(void) { return "plain"; }\n', []),
    "c": (
        "const char *mini_extra_id(void);\nconst char *mini_module(void);\n"
        "const char *mini_module(void) { return mini_extra_id(); }\n",
        ["out/usr/lib/" + EXTRA],
    ),
}

LAYOUT = """
[layout]
name = "mini"
description = "the tests' mini program"

[loader]
prefix = "/usr"
executables = ["{{prefix}}/bin/mini"]
naming = "{{name}}.so"
relocatable = {relocatable}
{bundle}

[[loader.search]]
env = "MINI_MODULE_DIR"

[[loader.search]]
relocated = "lib/mini"

{packages}

[per-module]
name = "mini-{{module}}"

[meta]
name = "mini"
"""

CORE = """
[[package]]
name = "mini-core"
kind = "core"
rest = true
"""


def layout_text(*, relocatable: bool = True, bundle: bool = False, packages: str = CORE) -> str:
    return LAYOUT.format(
        relocatable=str(relocatable).lower(),
        bundle='bundle = "mini-bundle"' if bundle else "",
        packages=packages,
    )


def _cc(work: Path, *args: str) -> None:
    cc = shutil.which("gcc") or shutil.which("cc")
    assert cc is not None
    r = subprocess.run([cc, *args], cwd=work, capture_output=True, text=True, check=False, timeout=120)
    assert r.returncode == 0, r.stderr


def build(
    dest: Path, *, relocatable: bool = True, bundle: bool = False, extra_modules: dict | None = None
) -> Path:
    """Compile the mini program into the staged tree `dest` (prefix /usr); returns `dest`.
    `extra_modules`: more modules, name -> (C source, link arguments as for MODULES)."""
    work = dest.parent / f".{dest.name}-work"
    out = work / "out"
    for d in ("usr/bin", "usr/lib/mini", "usr/share/mini"):
        (out / d).mkdir(parents=True, exist_ok=True)
    (work / "main.c").write_text(MAIN)
    (work / "lib.c").write_text(LIB % "build")
    (work / "extra.c").write_text(EXTRA_LIB)
    flags = ["-O2", "-g0", "-fPIC", "-Wall", "-Werror", "-Wl,--build-id=sha1"]
    _cc(work, *flags, "-shared", f"-Wl,-soname,{SONAME}", "-o", f"out/usr/lib/{SONAME}", "lib.c")
    _cc(work, *flags, "-shared", f"-Wl,-soname,{EXTRA}", "-o", f"out/usr/lib/{EXTRA}", "extra.c")
    defines = [f"-DRELOCATABLE={int(relocatable)}"] + (["-DBUNDLE"] if bundle else [])
    _cc(work, *flags, *defines, "-o", "out/usr/bin/mini", "main.c", f"out/usr/lib/{SONAME}", "-ldl")
    for name, (src, link) in {**MODULES, **(extra_modules or {})}.items():
        (work / f"mod-{name}.c").write_text(textwrap.dedent(src))
        _cc(work, *flags, "-shared", "-o", f"out/usr/lib/mini/{name}.so", f"mod-{name}.c", *link)
    (out / "usr/share/mini/greeting.txt").write_text("hello from the build\n")
    shutil.copytree(out, dest, symlinks=True)
    shutil.rmtree(work)
    return dest


def decoy(dest: Path) -> Path:
    """A library with the build's soname that says `decoy`: the system's copy."""
    work = dest.parent
    src = work / "decoy.c"
    src.write_text(LIB % "decoy")
    _cc(work, "-O2", "-fPIC", "-shared", f"-Wl,-soname,{SONAME}", "-o", str(dest), str(src))
    return dest
