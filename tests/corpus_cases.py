# ruff: noqa: E501 - one case per line, as the table reads best
"""The bad-input corpus (tests/test_corpus.py runs it): one line per case, each a hostile or
broken input and the one line qpack must answer with.

Each case: area, name, how the inputs are spoiled (steps on a fresh copy of the demo build,
its layout, a directory of its wheels), the command, the exit status, and the `error:` line
(status 2) or the `warning:` line (status 0, the input is usable) expected, with placeholders
{tmp} {build} {layout} {out} {dist} {target}. `unprivileged` cases run without the capabilities
that let root bypass file permissions, as an ordinary user would.
"""

from __future__ import annotations

from .corpus_steps import (
    Case,
    Ctx,
    bad_zip,
    chardev,
    deep,
    elf_machine,
    fifo,
    file,
    hold_lock,
    layout_add,
    layout_edit,
    layout_open,
    layout_text,
    link,
    mode,
    nonutf8_link,
    nonutf8_name,
    owned_by_nobody,
    remove,
    socket,
    truncate,
    wheel_entry,
    wheel_record,
)

PLAN = "plan {build} -l {layout}"
TREE = "split {build} -l {layout} --version 1.0 --format tree -o {out}"
WHEEL = "split {build} -l {layout} --version 1.0 --format wheel -o {out}"
INSTALL = "install {dist} -l demo --prefix {target} ui-gtk"
GTK = "demo_ui_gtk-1.0-py3-none-linux_x86_64.whl"
GTK_DATA = "demo_ui_gtk-1.0.data/data/lib/demo/ui"
W = f"error: {{dist}}/{GTK}: "
DEB_NAME = "not a valid Debian package name (lower-case letters, digits and + - . only, at least two characters, starting with a letter or digit)"
WHEEL_NAME = "not a valid wheel name (ASCII letters, digits and . _ - only, starting and ending with a letter or digit)"


def too_long(c: Ctx) -> str:
    """The first path past PATH_MAX the scan meets (deep() makes them), shown by its two ends."""
    p = f"{c.build}/usr/share/demo"
    while len(p) < 4096:
        p += "/" + "d" * 250
    why = "cannot read its type and mode: File name too long"
    return f"error: {p[:100]}...{p[-100:]} ({len(p)} bytes): {why}"


# fmt: off
CASES: list[Case] = [
    # ------------------------------------------------------------------ builds
    Case("builds", "build directory missing", [remove("")], PLAN, 2, "error: {build}: build directory does not exist"),
    Case("builds", "build is a file", [remove(""), file("")], PLAN, 2, "error: {build}: not a directory (give the staged install tree, e.g. DESTDIR)"),
    Case("builds", "build directory empty", [remove("usr")], PLAN, 2, "error: {build}: build directory is empty"),
    Case("builds", "a FIFO", [fifo("usr/share/demo/pipe")], PLAN, 2, "error: {build}/usr/share/demo/pipe: not a regular file, symlink or directory (device, fifo or socket)"),
    Case("builds", "a socket", [socket("usr/share/demo/sock")], PLAN, 2, "error: {build}/usr/share/demo/sock: not a regular file, symlink or directory (device, fifo or socket)"),
    Case("builds", "a device node", [chardev("usr/share/demo/null")], TREE, 2, "error: {build}/usr/share/demo/null: not a regular file, symlink or directory (device, fifo or socket)"),
    Case("builds", "a file name that is not UTF-8", [nonutf8_name("usr/share/demo", b"caf\xe9")], PLAN, 2, "error: {build}/usr/share/demo/caf\\xe9: file name is not valid UTF-8 (wheels, JSON and package lists need UTF-8 names)"),
    Case("builds", "a symlink target that is not UTF-8", [nonutf8_link("usr/share/demo/l", b"caf\xe9")], PLAN, 2, "error: {build}/usr/share/demo/l: symlink target 'caf\\\\xe9' is not valid UTF-8 (wheels, JSON and package lists need UTF-8 names)"),
    Case("builds", "an unreadable file", [mode("usr/share/demo/banner.txt", 0)], PLAN, 2, "error: {build}/usr/share/demo/banner.txt: cannot read file: permission denied", unprivileged=True),
    Case("builds", "a directory readable but not searchable", [mode("usr/share/doc", 0o644)], PLAN, 2, "error: {build}/usr/share/doc/demo: cannot read its type and mode: Permission denied", unprivileged=True),
    Case("builds", "a directory searchable but not readable", [mode("usr/share/doc", 0o311)], PLAN, 2, "error: {build}/usr/share/doc: cannot read directory: Permission denied", unprivileged=True),
    Case("builds", "a path longer than PATH_MAX", [deep("usr/share/demo", 20)], PLAN, 2, too_long),
    Case("builds", "a module that is a symlink to /etc/shadow", [link("usr/lib/demo/ui/curses.so", "/etc/shadow")], PLAN, 0, "warning: usr/lib/demo/ui/curses.so: module is a symlink to '/etc/shadow', which is not in the build; the loader cannot load it from this build (and a wheel cannot hold it: a wheel split fails)"),
    Case("builds", "a module that is a symlink out of the build", [link("usr/lib/demo/ui/curses.so", "../../../../../curses.so")], PLAN, 0, "warning: usr/lib/demo/ui/curses.so: module is a symlink to '../../../../../curses.so', outside the build; the loader cannot load it from this build (and a wheel cannot hold it: a wheel split fails)"),
    Case("builds", "a module that is a symlink loop", [link("usr/lib/demo/ui/curses.so", "curses.so")], PLAN, 0, "warning: usr/lib/demo/ui/curses.so: module is a symlink loop; the loader cannot load it from this build (and a wheel cannot hold it: a wheel split fails)"),
    Case("builds", "a module built for another machine", [elf_machine("usr/lib/demo/ui/curses.so", 183)], PLAN, 0, "warning: usr/lib/demo/ui/curses.so: module is built for EM_AARCH64 (64-bit), the loader's executables for EM_X86_64 (64-bit); the loader cannot load it"),
    Case("builds", "a module that is not ELF", [file("usr/lib/demo/ui/curses.so", b"#!/bin/sh\n")], PLAN, 0, "warning: usr/lib/demo/ui/curses.so: module unreadable: not an ELF file; the loader cannot load it"),
    Case("builds", "a truncated module", [truncate("usr/lib/demo/ui/curses.so", 64)], PLAN, 0, "warning: usr/lib/demo/ui/curses.so: module unreadable: truncated or corrupt ELF file (a segment or section runs past the end of the file); the loader cannot load it"),
    Case("builds", "an executable for another machine, wheels", [elf_machine("usr/bin/demo-registry", 183)], WHEEL, 2, "error: the build mixes machines, one wheel tag cannot cover it: usr/bin/demo-registry is aarch64, usr/bin/demo is x86_64"),
    Case("builds", "a module file name with ';' and spaces, tree", [layout_open(), file("usr/lib/demo/ui/x;rm -rf.so", b"\x7fELF")], TREE, 2, f"error: package name 'demo-ui-x;rm -rf': {DEB_NAME} (named after module 'ui-x;rm -rf': rename it in [per-module.renames] or exclude it)"),
    Case("builds", "a module file name with a space, wheels", [layout_open(), file("usr/lib/demo/ui/a b.so", b"\x7fELF")], WHEEL, 2, f"error: package name 'demo-ui-a b': {WHEEL_NAME} (named after module 'ui-a b': rename it in [per-module.renames] or exclude it)"),
    Case("builds", "a module file name with a non-ASCII letter, wheels", [layout_open(), file("usr/lib/demo/ui/é.so", b"\x7fELF")], WHEEL, 2, f"error: package name 'demo-ui-é': {WHEEL_NAME} (named after module 'ui-é': rename it in [per-module.renames] or exclude it)\nerror: meta package 'demo': extras 'ui' and 'ui-é' are the same extra 'ui' once normalized (PEP 685)"),
    Case("builds", "a module file name with upper case, tree", [layout_open(), file("usr/lib/demo/ui/GTK4.so", b"\x7fELF")], TREE, 2, f"error: package name 'demo-ui-GTK4': {DEB_NAME} (named after module 'ui-GTK4': `normalize = true` in [per-module] lower-cases the names and writes '_' as '-')"),
    Case("builds", "a module file name with a newline, tree", [layout_open(), file("usr/lib/demo/ui/a\nb.so", b"\x7fELF")], TREE, 2, f"error: package name 'demo-ui-a\\nb': {DEB_NAME} (named after module 'ui-a\\nb': rename it in [per-module.renames] or exclude it)"),
    Case("builds", "a backslash in a file name, wheels", [file("usr/share/demo/back\\slash")], WHEEL, 2, "error: 'usr/share/demo/back\\\\slash': a backslash in a file name; a wheel cannot carry it (rename the file, or split with --format tree)"),
    Case("builds", "a newline in a file name, wheels", [file("usr/share/demo/new\nline")], WHEEL, 2, "error: 'usr/share/demo/new\\nline': the control character '\\n' in a file name; a wheel cannot carry it (rename the file, or split with --format tree)"),
    Case("builds", "an escape character in a file name, wheels", [file("usr/share/demo/\x1b[31m")], WHEEL, 2, "error: 'usr/share/demo/\\x1b[31m': the control character '\\x1b' in a file name; a wheel cannot carry it (rename the file, or split with --format tree)"),
    Case("builds", "a newline in a file name, RPM lists", [file("usr/share/demo/new\nline")], TREE + " --lists rpm", 2, "error: 'usr/share/demo/new\\nline': control character '\\n' in a file name: RPM file lists cannot take it"),
    Case("builds", "a glob character in a file name, RPM lists", [file("usr/share/demo/star*.txt")], TREE, 2, "error: /usr/share/demo/star*.txt: '*' in a file name: RPM file lists treat it as a glob or quote (escaping differs between RPM releases), so qpack refuses it; rename the file"),
    Case("builds", "a setuid executable, wheels", [mode("usr/bin/demo-registry", 0o4755)], WHEEL, 0, "warning: usr/bin/demo-registry: mode 4755: its setuid, setgid or sticky bit is dropped, as installers do not restore them (the tree output keeps them)"),
    # A CUPS tester's 0700 backends (run as root for that mode) were installed 0755 in silence.
    Case("builds", "a module only its owner may run, wheels", [mode("usr/lib/demo/block/curl.so", 0o700)], WHEEL, 0, "warning: usr/lib/demo/block/curl.so: mode 0700: installers write it 0755, as a wheel keeps no other mode (the tree output keeps it)"),
    Case("builds", "files the process may not hard-link (EPERM), tree", [owned_by_nobody("usr/lib/demo")], TREE, 0, "warning: 7 file(s) copied: the system refused to hard-link them (Operation not permitted)", unprivileged=True),
    Case("builds", "a symlink to /etc/shadow, wheels", [link("usr/share/demo/shadow", "/etc/shadow")], WHEEL, 0, "warning: usr/share/demo/shadow: symlink that points to '/etc/shadow', which is not in this build; wheels cannot hold links (left out of demo-core)"),
    Case("builds", "a file outside the prefix, wheels", [file("etc/demo.conf")], WHEEL, 2, "error: 1 file(s) outside the prefix /usr cannot go into a wheel: etc/demo.conf (pass --drop-outside-prefix to leave them out)"),
    Case("builds", "a module installed twice", [file("var/run/demo/x/ui/curses.so", b"\x7fELF")], PLAN, 2, "error: module 'ui-curses' is installed twice: usr/lib/demo/ui/curses.so, var/run/demo/x/ui/curses.so (the loader loads only the first it finds)"),
    Case("builds", "no module at all", [remove("usr/lib/demo")], PLAN, 2, "error: no module under usr/lib/demo or var/run/demo/{pkgversion}; the build has .so files under usr/lib (1 .so file): is the layout or --prefix wrong? (--allow-empty to plan it anyway)"),
    # An mpv tester's module link moved: the hint named the code's directory, not the link's.
    Case("builds", "no module, a link named as one elsewhere", [remove("usr/lib/demo"), link("usr/lib/other/curses.so", "../libdemo-util.so.1")], PLAN, 2, "error: no module under usr/lib/demo or var/run/demo/{pkgversion}; the build has .so files under usr/lib (1 .so file), usr/lib/other (1 .so file): is the layout or --prefix wrong? (--allow-empty to plan it anyway)"),
    # ------------------------------------------------------------------ layouts
    Case("layouts", "layout file missing", [remove("{layout}")], PLAN, 2, "error: {layout}: layout file not found"),
    Case("layouts", "layout is a FIFO", [remove("{layout}"), fifo("{layout}")], PLAN, 2, "error: {layout}: not a regular file (a FIFO, socket or device): give a .toml file"),
    Case("layouts", "layout is /dev/zero", [], "plan {build} -l /dev/zero", 2, "error: /dev/zero: not a regular file (a FIFO, socket or device): give a .toml file"),
    Case("layouts", "layout is a directory", [remove("{layout}"), file("{layout}/x")], PLAN, 2, "error: {layout}: is a directory, not a layout file"),
    Case("layouts", "layout larger than 1 MiB", [layout_add("#" * (1 << 20))], PLAN, 2, "error: {layout}: layout file of 1049726 bytes; the limit is 1048576"),
    Case("layouts", "layout that is not TOML", [layout_text("[layout\nname=")], PLAN, 2, "error: {layout}: invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 8)"),
    Case("layouts", "layout that is not UTF-8", [layout_text(b"\xff\xfe")], PLAN, 2, "error: {layout}: not UTF-8 text"),
    Case("layouts", "an unknown key", [layout_add("\n[layout2]\n")], PLAN, 2, "error: {layout}: layout2: unknown key; did you mean layout? (known: exclude, layout, loader, meta, modules, package, per-module)"),
    Case("layouts", "a bad glob", [layout_add('\n[[exclude]]\nreason = "r"\nfiles = ["usr/[x", "x"]\n')], PLAN, 2, "error: {layout}: exclude[0].files[0]: bad glob 'usr/[x': unbalanced '['"),
    Case("layouts", "an unknown placeholder", [layout_edit('name = "demo-{module}"', 'name = "demo-{modul}"')], PLAN, 2, "error: {layout}: per-module.name: bad template 'demo-{modul}': unknown placeholder {modul} (known: {dashed-module}, {dashed-name}, {module}, {name}, {type})"),
    Case("layouts", "a package-name template that makes '/'", [layout_edit('name = "demo-{module}"', 'name = "demo/{module}"')], PLAN, 2, "error: {layout}: per-module.name: bad template 'demo/{module}': could produce '/' or '..' in a package name"),
    Case("layouts", "a package-name template that makes '..'", [layout_edit('name = "demo-{module}"', 'name = "..{module}"')], PLAN, 2, "error: {layout}: per-module.name: bad template '..{module}': could produce '/' or '..' in a package name\nerror: {layout}: per-module.name: bad template '..{module}': a '.' next to a placeholder could produce '..'"),
    Case("layouts", "a dependency cycle", [layout_edit('"audio-pa" = ["audio-alsa"]', '"audio-pa" = ["audio-alsa"]\n"audio-alsa" = ["audio-pa"]')], PLAN, 2, "error: {layout}: modules.dependencies: dependency cycle: audio-alsa -> audio-pa -> audio-alsa"),
    Case("layouts", "a dependency on an unknown module", [layout_edit('"audio-pa" = ["audio-alsa"]', '"audio-pa" = ["audio-nope"]')], PLAN, 2, "error: {layout}: modules.dependencies.audio-pa[0]: unknown module 'audio-nope': not in modules.known"),
    Case("layouts", "two packages with one name", [layout_add('\n[[package]]\nname = "demo-core"\nkind = "group"\nmodules = ["ui-*"]\n')], PLAN, 2, "error: {layout}: package: package name 'demo-core' is defined twice"),
    Case("layouts", "rest on two core packages", [layout_add('\n[[package]]\nname = "demo-core2"\nrest = true\n')], PLAN, 2, "error: {layout}: package: rest = true on several core packages (demo-core, demo-core2): only one can take the other non-module files"),
    Case("layouts", "extends a layout that does not exist", [layout_edit("[layout]\n", '[layout]\nextends = "nope"\n')], PLAN, 2, "error: {layout}: layout.extends: nope: no such shipped layout (shipped: demo-registry, demo, dovecot-debian, freeradius-debian, qemu-debian-trixie, qemu-debian, qemu-fedora, qemu); give a path to a .toml file"),
    Case("layouts", "extends itself", [layout_edit("[layout]\n", '[layout]\nextends = "{layout}"\n')], PLAN, 2, "error: {layout}: layout.extends: {layout}: layout.extends: cycle ({layout} -> {layout})"),
    Case("layouts", "10,001 rules", [layout_add("".join(f'[[exclude]]\nreason = "r"\nfiles = ["x{i}"]\n' for i in range(10_000)))], PLAN, 2, "error: {layout}: 10001 [[package]] and [[exclude]] tables; the limit is 10000"),
    Case("layouts", "a dependency chain of 3,000 modules", [layout_open(), layout_edit('"audio-pa" = ["audio-alsa"]', "".join(f'"ui-m{i}" = ["ui-m{i + 1}"]\n' for i in range(3000)))], PLAN, 2, "error: {layout}: modules.dependencies: a dependency chain of 3001 modules; the limit is 1000"),
    Case("layouts", "a file two rules claim", [layout_add('\n[[package]]\nname = "demo-docs"\nfiles = ["{prefix}/share/doc/**"]\n\n[[exclude]]\nreason = "r"\nfiles = ["{prefix}/share/doc/demo/README"]\n')], PLAN, 2, "error: usr/share/doc/demo/README: claimed twice: by package[1] 'demo-docs' (files '{prefix}/share/doc/**') and by exclude[0] (r) (files '{prefix}/share/doc/demo/README')"),
    Case("layouts", "files no rule claims", [layout_edit("rest = true\n", 'files = ["{prefix}/bin/*", "{prefix}/lib/*.so.*"]\n')], PLAN, 2, "error: 2 file(s) claimed by no package of layout 'demo' (add a rule, or pass --unclaimed core|drop):\nerror:   usr/share/demo/banner.txt\nerror:   usr/share/doc/demo/README"),
    Case("layouts", "a package with no files, wheels", [layout_add('\n[[package]]\nname = "demo-docs"\nkind = "group"\nfiles = ["{prefix}/share/nothing/*"]\n')], WHEEL, 2, "error: package 'demo-docs' has no files: a wheel cannot be empty (check its layout rule)"),
    # ------------------------------------------------------------------ versions
    Case("versions", "an empty version", [], TREE.replace("1.0", "''"), 2, "error: version '' cannot be mapped to PEP 440: it is empty"),
    Case("versions", "a 10,000-digit version", [], TREE.replace("1.0", "1" * 10_000), 2, 'error: version of 10000 characters: the limit is 255 (README "Limits")'),
    Case("versions", "a version with surrounding spaces", [], TREE.replace("1.0", "' 1.0 '"), 2, "error: version ' 1.0 ' cannot be mapped to PEP 440: it has leading or trailing white space"),
    Case("versions", "a version with a newline", [], TREE.replace("1.0", "'1.0\n2'"), 2, "error: version '1.0\\n2' cannot be mapped to PEP 440: it contains '\\n' (allowed: letters, digits and . + ~ ^ _ -)"),
    Case("versions", "a version that is no version", [], WHEEL.replace("1.0", "not-a-version!"), 2, "error: version 'not-a-version!' cannot be mapped to PEP 440: it contains '!' (allowed: letters, digits and . + ~ ^ _ -)"),
    Case("versions", "a version with a slash", [], WHEEL.replace("1.0", "1.0/../x"), 2, "error: version '1.0/../x' cannot be mapped to PEP 440: it contains '/' (allowed: letters, digits and . + ~ ^ _ -)"),
    # ------------------------------------------------------------------ outputs
    Case("outputs", "the output is the build", [], TREE.replace("{out}", "{build}") + " --force", 2, "error: {build}: the build {build} is inside the output directory; choose another output"),
    Case("outputs", "the output is inside the build", [], WHEEL.replace("{out}", "{build}/usr/out"), 2, "error: {build}/usr/out: the output directory is inside the build {build}; choose another output"),
    Case("outputs", "the output is BUILD/.. with --force", [], TREE.replace("{out}", "{build}/..") + " --force", 2, "error: {build}/..: the build {build} is inside the output directory; choose another output"),
    Case("outputs", "the output reaches the build's parent through a symlink", [link("{tmp}/to-usr", "{build}/usr")], TREE.replace("{out}", "{tmp}/to-usr/../..") + " --force", 2, "error: {tmp}/to-usr/../..: the build {build} is inside the output directory; choose another output"),
    Case("outputs", "the output is an existing file", [file("{out}")], TREE, 2, "error: {out}: output exists and is not a directory"),
    Case("outputs", "the output is a symlink to a directory", [file("{tmp}/elsewhere/x"), link("{out}", "{tmp}/elsewhere")], WHEEL + " --force", 2, "error: {out}: output is a symlink (to {tmp}/elsewhere); give the directory itself"),
    Case("outputs", "the output is not empty, no --force", [file("{out}/keep")], WHEEL, 2, "error: {out}: output directory exists and is not empty (use --force to replace it)"),
    Case("outputs", "the output's parent is a file", [file("{tmp}/plain")], TREE.replace("{out}", "{tmp}/plain/out"), 2, "error: {tmp}/plain/out: cannot create output: {tmp}/plain is not a directory"),
    Case("outputs", "the output's parent is read-only", [file("{tmp}/ro/x"), mode("{tmp}/ro", 0o555)], TREE.replace("{out}", "{tmp}/ro/out"), 2, "error: {tmp}/ro/out: cannot create output: Permission denied", unprivileged=True),
    Case("outputs", "another run is writing the output", [hold_lock()], WHEEL, 2, "error: {out}: another qpack run (pid {pid}) is writing this output now; wait for it to finish or choose another output"),
    # ------------------------------------------------------------------ environment and options
    Case("environment", "SOURCE_DATE_EPOCH past 2107", [], WHEEL, 2, "error: SOURCE_DATE_EPOCH=999999999999999999999999999999 is after 2107, which a zip cannot hold", env={"SOURCE_DATE_EPOCH": "9" * 30}),
    Case("environment", "SOURCE_DATE_EPOCH not a number", [], WHEEL, 2, "error: SOURCE_DATE_EPOCH='soon' is not a whole number of seconds", env={"SOURCE_DATE_EPOCH": "soon"}),
    Case("environment", "SOURCE_DATE_EPOCH before 1980 is clamped", [], WHEEL, 0, "", env={"SOURCE_DATE_EPOCH": "-5"}),
    Case("environment", "--prefix ../..", [], PLAN + " --prefix ../..", 2, "error: --prefix '../..': must be an absolute path without '..' (where the build was staged)"),
    Case("environment", "--prefix relative", [], PLAN + " --prefix usr", 2, "error: --prefix 'usr': must be an absolute path without '..' (where the build was staged)"),
    Case("environment", "--prefix where nothing is", [], PLAN + " --prefix /opt/nothing", 2, "error: no file under the prefix /opt/nothing; the build has files under usr/ (13 files): is --prefix wrong? (--allow-empty to plan it anyway)\nerror: no module under opt/nothing/lib/demo or var/run/demo/{pkgversion}; the build has .so files under usr/lib/demo/ui (3 .so files), usr/lib/demo/audio (2 .so files), usr/lib/demo/block (2 .so files) and 1 more directory: is the layout or --prefix wrong? (--allow-empty to plan it anyway)"),
    Case("environment", "--lists of an unknown kind", [], TREE + " --lists debian,deb", 2, "error: --lists 'debian,deb': expected a comma-separated choice of debian, rpm"),
    Case("environment", "a test hook set to garbage does nothing", [], TREE, 0, "", env={"QPACK_TEST_KILL_AT": "soon"}),
    # ------------------------------------------------------------------ wheels, as qpack install meets them
    Case("wheels", "a '..' entry", [wheel_entry(GTK, "demo_ui_gtk-1.0.data/data/../../../../escaped")], INSTALL, 2, W + "refusing 'demo_ui_gtk-1.0.data/data/../../../../escaped': a '..' segment; it would be written outside the install root"),
    Case("wheels", "an absolute entry", [wheel_entry(GTK, "/tmp/escaped")], INSTALL, 2, W + "refusing '/tmp/escaped': an absolute path; it would be written outside the install root"),
    Case("wheels", "a backslash entry", [wheel_entry(GTK, f"{GTK_DATA}\\..\\..\\escaped")], INSTALL, 2, W + f"refusing '{GTK_DATA}\\\\..\\\\..\\\\escaped': not a plain relative path"),
    Case("wheels", "a symlink entry", [wheel_entry(GTK, f"{GTK_DATA}/evil.so", b"/etc/shadow", symlink=True)], INSTALL, 2, W + f"refusing '{GTK_DATA}/evil.so': a symbolic link entry (a wheel holds regular files only)"),
    Case("wheels", "a RECORD that lies about a hash", [wheel_record(GTK, "lie")], INSTALL, 2, W + f"In {{dist}}/{GTK}, hash / size of {GTK_DATA}/gtk.so didn't match RECORD"),
    Case("wheels", "a RECORD that omits a file", [wheel_record(GTK, "omit")], INSTALL, 2, W + f"In {{dist}}/{GTK}, {GTK_DATA}/gtk.so is not mentioned in RECORD"),
    Case("wheels", "a wheel that is not a zip", [bad_zip(GTK)], INSTALL, 2, W + "cannot read the wheel's METADATA (File is not a zip file)"),
    Case("wheels", "a wheel directory that does not exist", [remove("{dist}")], INSTALL, 2, "error: {dist}: not a directory of wheels"),
    Case("wheels", "a module nobody ships", [], INSTALL.replace("ui-gtk", "xyzzy"), 2, "error: xyzzy: neither an extra of demo nor a wheel in {dist} (extras: all, audio, audio-alsa, audio-pa, block, block-curl, block-nfs, ui, ui-curses, ui-gtk, ui-opengl)"),
    Case("wheels", "a misspelt module", [], INSTALL.replace("ui-gtk", "ui_gkt"), 2, "error: ui_gkt: neither an extra of demo nor a wheel in {dist}; did you mean ui-gtk? (extras: all, audio, audio-alsa, audio-pa, block, block-curl, block-nfs, ui, ui-curses, ui-gtk, ui-opengl)"),
]
# fmt: on
