"""Read a meson build directory as the tree `meson install --destdir` would make, without
installing: an Inventory whose paths, modes, bytes and install tags are those of that tree.

What is installed, where and with which tag is meson's introspection (`meson-info/`:
`intro-install_plan.json`, or `intro-installed.json` where the plan is missing); how it is
installed (modes, symlinks, empty directories, install scripts, rpaths, strip) only meson's
install data says (`meson-private/install.dat`, the pickle `meson install` itself reads). It is
read as data: every object in it becomes an inert stand-in holding its fields, nothing of
meson's is imported and no other object can be built, so nothing from the build runs.  The
two are checked against each other, so a format this module misreads is an error, not a wrong
split.

The install is replayed, not performed: each file is recorded at its destination with the mode
meson would give it (`install_mode`, else its own executable bits under `install_umask`), read
from where it is in the build or source tree.  A target meson would rewrite (its build rpath
replaced by its install_rpath: `qpack._meson_rpath`) or a file whose installed mode differs
from its own gets a copy as installed in a private temporary directory, removed with the
inventory; `Inventory.source` says where each file is.  `install_symlink` links and shared
library aliases are recorded as links.  Install scripts are not run: each one that `meson
install --destdir` would run is reported by name (what it creates is not in the split); a
build meson would strip on install (`-Dstrip=true`) or that is not ELF is refused.  The build
is read as it is: run `meson compile` first (meson install would); a build ninja would still
rebuild something of (its dry run, `ninja -n`, asked when ninja is found) is refused.
"""

from __future__ import annotations

import json
import os
import pickle
import posixpath
import shutil
import stat
import tempfile
import threading
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from qpack._meson_rpath import ElfRpathError, installed_bytes
from qpack.errors import BuildError
from qpack.globs import compile_glob
from qpack.inventory import Entry, Inventory, Progress, describe_file, symlink_escapes
from qpack.loader import Loader

MIN_MESON = (0, 60)  # install tags, and the install plan in meson-info
INFO = "meson-info/meson-info.json"
INSTALL_DATA = "meson-private/install.dat"

# fix_rpath leaves these alone (depfixer.fix_rpath); .a only off AIX, which is refused anyway.
_NO_RPATH_SUFFIXES = (".lib", ".pdb", ".h", ".hpp", ".dll", ".exe", ".a")


# --------------------------------------------------------------------------- install.dat as data


class _MesonStr(str):
    """meson's str subclasses (OptionString: install directories)."""

    meson_class = "?"


class _MesonInt(int):
    """meson's int subclasses (OctalInt: install_umask)."""

    meson_class = "?"


_VALUES: dict[type, type] = {str: _MesonStr, int: _MesonInt}


class MesonObject:
    """A stand-in for an object of one of meson's classes: the fields it was pickled with, as
    attributes. One rebuilt from arguments that start with a str or an int (a subclass of it,
    such as OptionString(value, option name), or an enum member) stands in as that value."""

    meson_class = "?"

    def __new__(cls, *args: object) -> Any:
        if args and type(args[0]) in _VALUES:
            value = _VALUES[type(args[0])](args[0])
            value.meson_class = cls.meson_class
            return value
        return super().__new__(cls)

    def __init__(self, *args: object) -> None:
        self._args = args

    def __setstate__(self, state: object) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (__dict__, __slots__ values)
            for part in state:
                if isinstance(part, dict):
                    self.__dict__.update(part)
        elif isinstance(state, dict):
            self.__dict__.update(state)


def _reconstructor(cls: type, base: type, state: object) -> object:
    if not issubclass(cls, MesonObject):
        raise pickle.UnpicklingError(f"copyreg._reconstructor of {cls.__name__}")
    return MesonObject.__new__(cls)


class _Unresolved(MesonObject):
    """What `getattr(obj, name)` in the pickle stands for (meson pickles a few bound methods):
    never resolved, since resolving attributes is how a pickle reaches code."""


def _getattr(obj: object, name: object) -> _Unresolved:
    return _Unresolved(name)


_SAFE: dict[tuple[str, str], object] = {
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytes"): bytes,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "getattr"): _getattr,
    ("collections", "OrderedDict"): dict,
    ("copyreg", "_reconstructor"): _reconstructor,
}


class _DataUnpickler(pickle.Unpickler):
    """Builds only plain data and MesonObject stand-ins; any other global is an error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stubs: dict[tuple[str, str], type] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "mesonbuild" or module.startswith("mesonbuild."):
            key = (module, name)
            if key not in self.stubs:
                self.stubs[key] = type(
                    name.replace(".", "_"), (MesonObject,), {"meson_class": f"{module}.{name}"}
                )
            return self.stubs[key]
        if (module, name) in _SAFE:
            return _SAFE[(module, name)]
        raise pickle.UnpicklingError(f"unexpected object {module}.{name}")


def read_install_data(path: Path) -> MesonObject:
    """meson-private/install.dat as MesonObject stand-ins (InstallData at the top)."""
    try:
        with path.open("rb") as f:
            data = _DataUnpickler(f).load()
    except FileNotFoundError:
        raise BuildError(f"{path}: missing (configure the build directory with meson setup)") from None
    except OSError as e:
        raise BuildError(f"{path}: cannot read: {e.strerror}") from None
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise BuildError(f"{path}: cannot read meson's install data: {e}") from None
    if not isinstance(data, MesonObject) or not data.meson_class.endswith(".InstallData"):
        raise BuildError(f"{path}: not meson's install data")
    return data


def _field(obj: object, name: str, types: type | tuple[type, ...], default: Any = ...) -> Any:
    """A field of a stand-in, checked against the types this module expects."""
    value = obj.__dict__.get(name, default) if isinstance(obj, MesonObject) else default
    if value is ... or not isinstance(value, types):
        what = getattr(obj, "meson_class", type(obj).__name__).rsplit(".", 1)[-1]
        raise BuildError(
            f"{INSTALL_DATA}: {what}.{name} is {type(value).__name__ if value is not ... else 'missing'}; "
            "this meson version's install data is not supported"
        )
    return value


# --------------------------------------------------------------------------- what meson installs

Kind = Literal["file", "symlink", "dir"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Installed:
    """One path `meson install` creates, relative to the DESTDIR."""

    path: str
    kind: Kind
    mode: int = 0o755
    source: Path | None = None  # a file's bytes (None: a link or directory)
    target: str | None = None  # a link's target, as written
    tag: str | None = None
    rpath: tuple[frozenset[bytes], bytes] | None = None  # (build-only entries, install_rpath)
    what: str = ""  # how meson.build installs it, for messages


@dataclass
class _Replay:
    """meson install's steps (minstall.py: subdirs, targets, headers, man, empty directories,
    data, symlinks, scripts), recorded instead of performed."""

    builddir: Path
    prefix: str
    umask: int | None  # None: install_umask = 'preserve'
    items: dict[str, Installed]
    warnings: list[str]
    missing: list[str]  # targets not built

    def dest(self, install_path: str) -> str:
        """minstall's get_destdir_path, relative to the DESTDIR."""
        full = install_path if install_path.startswith("/") else posixpath.join(self.prefix, install_path)
        norm = posixpath.normpath(full).lstrip("/")
        if norm in ("", ".") or norm == ".." or norm.startswith("../"):
            raise BuildError(f"{self.builddir}: meson would install to {full!r}, outside the DESTDIR")
        return norm

    def sanitized(self, mode: int) -> int:
        """minstall's sanitize_permissions: rwx or rw- for all, less the umask."""
        if self.umask is None:
            return stat.S_IMODE(mode)
        return (0o777 if mode & 0o111 else 0o666) & ~self.umask

    @property
    def dir_mode(self) -> int:
        """A directory meson makes (under its umask; with install_umask = 'preserve', the
        installing process's, taken to be 022)."""
        return 0o777 & ~(0o022 if self.umask is None else self.umask)

    def mode_for(self, own: int, install_mode: object) -> int:
        """minstall's set_mode: install_mode's permissions if it gives some, else sanitized."""
        if isinstance(install_mode, MesonObject) and install_mode.__dict__.get("perms_s") is not None:
            perms = _field(install_mode, "perms", int)
            if perms >= 0:
                return stat.S_IMODE(perms)
        return self.sanitized(own)

    def add(self, item: Installed) -> None:
        old = self.items.get(item.path)
        if old is not None:
            if item.kind == "dir" and old.kind == "dir":
                return
            if old.kind == "dir" or item.kind == "dir" or (item.kind == "symlink") != (old.kind == "symlink"):
                raise BuildError(
                    f"{item.path}: meson install would fail: installed as a {old.kind} ({old.what}) "
                    f"and as a {item.kind} ({item.what})"
                )
            self.warnings.append(
                f"{item.path}: installed twice ({old.what}, then {item.what}); meson install keeps the last"
            )
        for parent in _parents(item.path):
            if parent not in self.items:
                self.items[parent] = Installed(path=parent, kind="dir", mode=self.dir_mode, what="")
            elif self.items[parent].kind != "dir":
                raise BuildError(f"{parent}: meson would install it as a file and as a directory")
        self.items[item.path] = item

    def copy(
        self, src: Path, path: str, install_mode: object, tag: str | None, what: str, follow: object
    ) -> None:
        """minstall's do_copyfile + set_mode: a file (its bytes and own mode) or, for a dangling
        link or with follow_symlinks = false, the link itself."""
        try:
            st = src.lstat()
            if stat.S_ISLNK(st.st_mode):
                if not src.exists() or follow is False:
                    self.add(
                        Installed(path=path, kind="symlink", target=os.readlink(src), tag=tag, what=what)
                    )
                    return
                st = src.stat()
        except OSError as e:
            raise BuildError(f"{src}: cannot install {what}: {e.strerror}") from None
        if not stat.S_ISREG(st.st_mode):
            raise BuildError(f"{src}: meson would refuse to install {what}: not a file")
        mode = self.mode_for(st.st_mode, install_mode)
        self.add(Installed(path=path, kind="file", mode=mode, source=src, tag=tag, what=what))

    def copydir(
        self,
        src: Path,
        path: str,
        exclude: object,
        install_mode: object,
        tag: str | None,
        what: str,
        follow: object,
    ) -> None:
        """minstall's do_copydir (install_subdir, directory targets)."""
        files_out, dirs_out = _excludes(exclude)
        if not src.is_dir():
            raise BuildError(f"{src}: meson would fail to install {what}: not a directory")
        self.add(Installed(path=path, kind="dir", mode=self.dir_mode, tag=tag, what=what))
        for dirpath, dirnames, filenames in os.walk(src):
            here = Path(dirpath)
            for d in sorted(dirnames):
                rel = os.path.relpath(here / d, src)
                if (here / d).is_symlink():
                    filenames.append(d)
                elif rel in dirs_out:
                    dirnames.remove(d)
                elif posixpath.join(path, rel) not in self.items:
                    mode = self.sanitized((here / d).stat().st_mode)
                    self.add(
                        Installed(path=posixpath.join(path, rel), kind="dir", mode=mode, tag=tag, what=what)
                    )
            dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
            for f in sorted(filenames):
                rel = os.path.relpath(here / f, src)
                if rel not in files_out:
                    self.copy(here / f, posixpath.join(path, rel), install_mode, tag, what, follow)


def _parents(path: str) -> Iterator[str]:
    parent = posixpath.dirname(path)
    while parent:
        yield parent
        parent = posixpath.dirname(parent)


def _excludes(exclude: object) -> tuple[set[str], set[str]]:
    if exclude is None:
        return set(), set()
    if not isinstance(exclude, tuple) or len(exclude) != 2:
        raise BuildError(f"{INSTALL_DATA}: install_subdir exclude is not (files, dirs)")
    return {os.path.normpath(x) for x in exclude[0]}, {os.path.normpath(x) for x in exclude[1]}


def _tag(obj: object) -> str | None:
    tag = obj.__dict__.get("tag") if isinstance(obj, MesonObject) else None
    return tag if isinstance(tag, str) and tag else None


def _stampfile(fname: Path) -> Path:
    """minstall's check_for_stampfile: an empty .so/.a placeholder for a Rust output named at build time."""
    name = fname.name
    if name.endswith((".so", ".dll", ".a", ".lib")) and fname.is_file() and fname.stat().st_size == 0:
        base, suffix = os.path.splitext(name)
        want = suffix if suffix in (".so", ".dll") else ".rlib"
        found = sorted(fname.parent.glob(f"{base}-*{want}"))
        if len(found) > 1:
            raise BuildError(f"{fname}: stale library files in the build directory; meson cannot install it")
        if found:
            return found[0]
    return fname


def _targets(r: _Replay, data: MesonObject) -> None:
    strip_bin = data.__dict__.get("strip_bin")
    stripped: list[str] = []
    for t in _field(data, "targets", list):
        fname = Path(_field(t, "fname", str))
        src = fname if fname.is_absolute() else r.builddir / fname
        what = f"target {fname.name}"
        if not src.exists():
            if t.__dict__.get("optional"):
                continue
            r.missing.append(str(fname))
            continue
        src = _stampfile(src)
        system = t.__dict__.get("system", "linux")
        if system in ("darwin", "aix", "windows", "cygwin"):
            raise BuildError(f"{src}: a build for {system}; qpack reads builds of ELF systems")
        outdir = _field(t, "outdir", str)
        path = r.dest(posixpath.join(outdir, src.name))
        tag = _tag(t)
        mode_obj = t.__dict__.get("install_mode")
        if src.is_dir():
            r.copydir(src, path, None, mode_obj, tag, what, None)
            continue
        if t.__dict__.get("strip") and strip_bin:
            stripped.append(path)
        if src.name.endswith(".jar"):
            raise BuildError(
                f"{src}: meson install runs the jar tool on .jar targets; qpack cannot replay that"
            )
        rpath = None
        install_rpath = t.__dict__.get("install_rpath")
        if isinstance(install_rpath, str) and not src.name.endswith(_NO_RPATH_SUFFIXES):
            remove = frozenset(_field(t, "rpath_dirs_to_remove", (set, frozenset), frozenset()))
            rpath = (remove, install_rpath.encode())
        st = src.stat()
        mode = r.mode_for(st.st_mode, mode_obj)
        r.add(Installed(path=path, kind="file", mode=mode, source=src, tag=tag, rpath=rpath, what=what))
        # Before 0.62 a shared library's aliases (libfoo.so -> libfoo.so.1) belonged to the target.
        for alias, to in (t.__dict__.get("aliases") or {}).items():
            link = r.dest(posixpath.join(outdir, alias))
            r.add(Installed(path=link, kind="symlink", target=to, tag="devel", what=what))
    if r.missing:
        raise BuildError(
            f"{r.builddir}: not built yet (run meson compile -C {r.builddir}): {_some(r.missing)}"
        )
    stale = _out_of_date(r.builddir)
    if stale:
        raise BuildError(
            f"{r.builddir}: not up to date: ninja would still build {_some(stale)} "
            f"(run meson compile -C {r.builddir}; meson install would)"
        )
    if stripped:
        raise BuildError(
            f"{r.builddir}: configured with -Dstrip=true: meson install would strip {_some(stripped)}, "
            "which qpack cannot do without running strip (reconfigure with -Dstrip=false, "
            "or split the installed tree)"
        )


def _some(items: list[str]) -> str:
    return ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")


def _files(r: _Replay, data: MesonObject, key: str, headers: bool = False) -> None:
    for d in _field(data, key, list, []):
        src = Path(_field(d, "path", str))
        install_path = _field(d, "install_path", str)
        if headers:  # install_path is the directory
            install_path = posixpath.join(install_path, src.name)
        what = f"{key} {src.name}"
        follow = d.__dict__.get("follow_symlinks")
        r.copy(src, r.dest(install_path), d.__dict__.get("install_mode"), _tag(d), what, follow)


def _subdirs(r: _Replay, data: MesonObject) -> None:
    for d in _field(data, "install_subdirs", list, []):
        src = Path(_field(d, "path", str))
        path = r.dest(_field(d, "install_path", str))
        follow = d.__dict__.get("follow_symlinks")
        what = f"install_subdir {src.name}"
        r.copydir(src, path, d.__dict__.get("exclude"), d.__dict__.get("install_mode"), _tag(d), what, follow)


def _emptydirs(r: _Replay, data: MesonObject) -> None:
    for d in _field(data, "emptydir", list, []):
        path = r.dest(_field(d, "path", str))
        item = Installed(
            path=path,
            kind="dir",
            mode=r.mode_for(r.dir_mode, d.__dict__.get("install_mode")),
            tag=_tag(d),
            what="emptydir",
        )
        if path in r.items and r.items[path].kind == "dir":
            r.items[path] = item  # set_mode on a directory made before
        else:
            r.add(item)


def _symlinks(r: _Replay, data: MesonObject) -> None:
    for s in _field(data, "symlinks", list, []):
        name, target = _field(s, "name", str), _field(s, "target", str)
        path = r.dest(name)
        what = f"symlink {posixpath.basename(name)}"
        r.add(Installed(path=path, kind="symlink", target=target, tag=_tag(s), what=what))


def _scripts(r: _Replay, data: MesonObject) -> None:
    for s in _field(data, "install_scripts", list, []):
        if s.__dict__.get("skip_if_destdir") or "reason" in s.__dict__:
            continue  # meson install --destdir skips it too (InstallScriptFailure has a reason)
        args = s.__dict__.get("cmd_args")
        name = " ".join(a for a in args if isinstance(a, str)) if isinstance(args, list) else "?"
        r.warnings.append(
            f"install script {name!r} (meson.add_install_script) is not run: "
            "whatever it would install is not in this split"
        )


def replay_install(builddir: Path, data: MesonObject) -> tuple[str, list[Installed], list[str]]:
    """(prefix, every path `meson install --destdir` creates, warnings), in minstall's order."""
    prefix = _field(data, "prefix", str)
    umask = data.__dict__.get("install_umask", 0o022)
    r = _Replay(builddir, prefix, int(umask) if isinstance(umask, int) else None, {}, [], [])
    _subdirs(r, data)
    _targets(r, data)
    _files(r, data, "headers", headers=True)
    _files(r, data, "man")
    _emptydirs(r, data)
    _files(r, data, "data")
    _symlinks(r, data)
    _scripts(r, data)
    return prefix, sorted(r.items.values(), key=lambda i: i.path), r.warnings


def _out_of_date(builddir: Path) -> list[str]:
    """What ninja would still build in `builddir` (its dry run: `ninja -n` runs no command, not
    even a regeneration, and reads the dependencies it recorded, headers included). Empty when
    it is up to date, or when no ninja is found to ask (then the outputs are taken as they are)."""
    import subprocess
    import sys

    beside = Path(sys.executable).parent / "ninja"  # PyPI's ninja, in the interpreter's bin/
    ninja = shutil.which("ninja") or (str(beside) if os.access(beside, os.X_OK) else None)
    if ninja is None or not (builddir / "build.ninja").is_file():
        return []
    try:
        r = subprocess.run(
            [ninja, "-C", str(builddir), "-n"], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if r.returncode != 0 or "no work to do" in r.stdout:
        return []
    lines = r.stdout.splitlines()
    steps = [line.split("] ", 1)[1] for line in lines if line.startswith("[") and "] " in line]
    # Regenerating alone (meson-info touched, the directory copied) changes no installed file;
    # what meson would then build differently, install.dat and meson-info disagreeing show.
    return [step for step in steps if not step.startswith("Regenerating build files")]


# --------------------------------------------------------------------------- meson-info


def meson_info(builddir: Path) -> dict[str, Any]:
    """meson-info.json, after checking that the build directory is one qpack can read."""
    path = builddir / INFO
    if builddir.exists() and not builddir.is_dir():
        raise BuildError(f"{builddir}: not a directory (--meson takes the build directory, not a file in it)")
    if not builddir.is_dir():
        raise BuildError(f"{builddir}: build directory does not exist")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(
            f"{builddir}: not a meson build directory (no {INFO}: configure it with meson setup)"
        ) from None
    except (OSError, ValueError) as e:
        raise BuildError(f"{path}: cannot read: {e}") from None
    try:
        version = info["meson_version"]
        major, minor, full = int(version["major"]), int(version["minor"]), str(version["full"])
        intro = int(info["introspection"]["version"]["major"])
    except (KeyError, TypeError, ValueError):
        raise BuildError(f"{path}: not meson's build information") from None
    if (major, minor) < MIN_MESON:
        raise BuildError(
            f"{builddir}: configured by meson {full}; qpack reads builds of meson "
            f"{'.'.join(map(str, MIN_MESON))} or later (install tags, install plan)"
        )
    if intro != 1:
        raise BuildError(
            f"{builddir}: meson {full} writes introspection format {intro}; qpack reads format 1"
        )
    if info.get("error"):
        raise BuildError(f"{builddir}: meson setup failed for this build directory (see its meson-log.txt)")
    return dict(info)


def _introspected(
    builddir: Path, info: dict[str, Any]
) -> tuple[str, dict[str, set[str]], dict[str, str | None]]:
    """(which file, source -> installed paths, source -> tag) from the install plan, else from
    intro-installed.json (no tags). Keys are absolute source paths."""
    files = info.get("introspection", {}).get("information", {})
    plan_file = builddir / "meson-info" / files.get("install_plan", {}).get("file", "intro-install_plan.json")
    dests: dict[str, set[str]] = {}
    tags: dict[str, str | None] = {}
    if plan_file.is_file():
        plan = _json(plan_file)
        for group, entries in plan.items():
            if not isinstance(entries, dict):
                raise BuildError(f"{plan_file}: {group}: not a table of files")
            for src, entry in entries.items():
                dests.setdefault(src, set())
                tags[src] = entry.get("tag") if isinstance(entry, dict) else None
        return plan_file.name, dests, tags
    installed_file = builddir / "meson-info" / "intro-installed.json"
    if not installed_file.is_file():
        raise BuildError(
            f"{builddir}: meson-info has neither intro-install_plan.json nor intro-installed.json"
        )
    for src, dest in _json(installed_file).items():
        if os.path.isabs(src):  # symlinks are listed by their bare name
            dests.setdefault(src, set()).add(os.path.normpath(str(dest)))
    return installed_file.name, dests, tags


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BuildError(f"{path}: cannot read: {e}") from None
    if not isinstance(data, dict):
        raise BuildError(f"{path}: not a JSON object")
    return data


def _cross_check(builddir: Path, data: MesonObject, info: dict[str, Any]) -> None:
    """The introspection and the install data must name the same files (and tags): a stale
    build directory, or install data this module misreads, fails here."""
    name, dests, tags = _introspected(builddir, info)
    build_dir = str(data.__dict__.get("build_dir", builddir))
    prefix = _field(data, "prefix", str)
    ours: dict[str, tuple[str, str | None]] = {}
    targets: list[str] = []
    for t in _field(data, "targets", list):
        fname = _field(t, "fname", str)
        full = os.path.join(build_dir, fname)
        ours[full] = (os.path.join(prefix, _field(t, "outdir", str), os.path.basename(fname)), _tag(t))
        targets.append(full)
    for key in ("data", "man", "headers", "install_subdirs"):
        for d in _field(data, key, list, []):
            src = _field(d, "path", str)
            dest = os.path.join(prefix, _field(d, "install_path", str))
            ours[src] = (os.path.join(dest, os.path.basename(src)) if key == "headers" else dest, _tag(d))
    # Every install plan lists the targets; older ones leave out some data (install_subdir).
    missing = sorted(src for src in targets if src not in dests)
    extra = sorted(set(dests) - set(ours))
    wrong = [
        src
        for src, (dest, tag) in ours.items()
        if src in dests
        and ((dests[src] and os.path.normpath(dest) not in dests[src]) or tags.get(src, tag) != tag)
    ]
    if extra or missing or wrong:
        first = (extra or missing or wrong)[0]
        raise BuildError(
            f"{builddir}: meson-info/{name} and {INSTALL_DATA} disagree about {first} "
            "(a stale build directory? run meson setup --reconfigure)"
        )


# --------------------------------------------------------------------------- the inventory


class _Sources(dict[str, Path]):
    """Inventory.sources of a meson build; owns the temporary directory of its prepared copies,
    removed when the inventory is (or at exit)."""

    def __init__(self) -> None:
        super().__init__()
        self.workdir: Path | None = None
        self._lock = threading.Lock()

    def prepared(self, name: str) -> Path:
        with self._lock:
            if self.workdir is None:
                self.workdir = Path(tempfile.mkdtemp(prefix="qpack-meson-"))
                weakref.finalize(self, shutil.rmtree, self.workdir, ignore_errors=True)
        return self.workdir / name


def _prepare(item: Installed, sources: _Sources, index: int, meson_version: tuple[int, int]) -> Path:
    """Where the installed bytes of `item` are: its source, or a copy made as meson install
    would leave it (rpath rewritten, mode set)."""
    assert item.source is not None
    src = item.source
    patched: bytes | None = None
    if item.rpath is not None:
        try:
            with src.open("rb") as f:
                head = f.read(6)
            if len(head) == 6 and head[1:4] == b"ELF":
                patched = installed_bytes(src.read_bytes(), *item.rpath, meson_version)
        except ElfRpathError as e:
            raise BuildError(f"{src}: meson install would fail to fix its rpath: {e}") from None
        except OSError as e:
            raise BuildError(f"{src}: cannot read file: {e.strerror}") from None
    if patched is None and stat.S_IMODE(src.stat().st_mode) == item.mode:
        return src
    copy = sources.prepared(f"{index}-{src.name}")
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        if patched is not None:
            out.write(patched)
        else:
            with src.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
        os.fchmod(out.fileno(), item.mode)
    return copy


def _check_name(what: str, name: str) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(name).decode("utf-8", "backslashreplace")
        raise BuildError(f"{what} {shown}: name is not valid UTF-8") from None


def scan_meson(
    builddir: Path | str,
    loader: Loader | None = None,
    *,
    prefix: str | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> Inventory:
    """The Inventory of the tree `meson install --destdir` would make of this build directory,
    read without installing; its root is the build directory, its prefix meson's. `loader` (a
    layout's) says which stamp symbol modules export and which files are its executables, as for
    `Loader.scan`. `prefix`, if given, must be the build's."""
    builddir = Path(builddir).absolute()
    info = meson_info(builddir)
    data = read_install_data(builddir / INSTALL_DATA)
    recorded = data.__dict__.get("version")
    if isinstance(recorded, str) and recorded != info["meson_version"]["full"]:
        raise BuildError(
            f"{builddir}: {INSTALL_DATA} was written by meson {recorded}, meson-info by "
            f"{info['meson_version']['full']} (run meson setup --reconfigure)"
        )
    _cross_check(builddir, data, info)
    version = (int(info["meson_version"]["major"]), int(info["meson_version"]["minor"]))
    meson_prefix, items, warnings = replay_install(builddir, data)
    if prefix is not None and not prefix.startswith("/"):
        raise BuildError(f"--prefix {prefix!r}: must be an absolute path (where the build installs)")
    if prefix is not None and prefix.rstrip("/") != meson_prefix.rstrip("/"):
        raise BuildError(
            f"--prefix {prefix}: the meson build {builddir} was configured with prefix {meson_prefix}"
        )
    stamp_glob = loader.stamp_spec if loader else None
    exe_res = [compile_glob(g) for g in (loader.executable_globs(meson_prefix) if loader else ())]

    entries: list[Entry] = []
    files: list[tuple[int, Installed]] = []
    tags: dict[str, str] = {}
    for i, item in enumerate(items):
        _check_name("installed file", item.path)
        if item.tag:
            tags[item.path] = item.tag
        if item.kind == "dir":
            entries.append(Entry(item.path, "dir", item.mode, 0))
        elif item.kind == "symlink":
            assert item.target is not None
            _check_name(f"symlink {item.path} to", item.target)
            entries.append(
                Entry(item.path, "symlink", 0o777, len(os.fsencode(item.target)), None, item.target)
            )
            if symlink_escapes(item.path, item.target):
                warnings.append(
                    f"{item.path}: symlink to {item.target!r} points outside the build "
                    "(kept as a link, not followed)"
                )
        else:
            files.append((i, item))
    sources = _Sources()
    total = sum(item.source.stat().st_size for _, item in files if item.source is not None)

    def advance(n: int) -> None:
        if progress is not None:
            progress(n, total)

    def one(pair: tuple[int, Installed]) -> Entry:
        index, item = pair
        src = _prepare(item, sources, index, version)
        sources[item.path] = src
        scan_strings = any(r.match(item.path) for r in exe_res)
        size = src.stat().st_size
        return describe_file(
            src, item.path, item.mode, size, stamp_glob, scan_strings, advance if progress else None
        )

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        entries += pool.map(one, files)
    if not entries:
        raise BuildError(f"{builddir}: the meson build installs nothing")
    entries.sort(key=lambda e: e.path)
    return Inventory(builddir, meson_prefix, tuple(entries), tuple(warnings), sources, tags)
