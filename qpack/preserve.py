"""Keep a running program able to load modules of its own build across an upgrade.

A loader with a versioned fallback location (QEMU built with `--enable-module-upgrades`:
`/var/run/qemu/<canonicalized pkgversion>/`, searched last and never relocated) lets a program
that is still running after its modules were replaced load copies of the old ones from there.
`preserve` copies the modules installed in the prefix's module directories into that location
(under `root`, as the loader would see it), keeping their names relative to the module
directory; `preserve(remove=True)` takes away exactly what earlier calls added.

What was added is listed in `<fallback dir>/.qpack-preserve.json` (the files, and the
directories made for them), written before the first copy, so an interrupted preserve is still
removed completely. A file already there with the same bytes is left alone and not listed (it is
not ours to remove); one with other bytes is refused before anything is written. Each copy is
written to a temporary sibling, then renamed. Paths are resolved inside `root` (a `var/run`
that links to `/run` is followed to `<root>/run`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import shutil
from dataclasses import dataclass
from pathlib import Path

from qpack.errors import QpackError
from qpack.installed import host_path, program_prefix
from qpack.ldpaths import Root
from qpack.loader import Loader, canon_pkgversion
from qpack.transaction import locked, tmp_sibling

MANIFEST = ".qpack-preserve.json"


class PreserveError(QpackError):
    """Modules cannot be preserved (or their copies removed) as asked."""


@dataclass(frozen=True, kw_only=True)
class PreserveReport:
    directory: str | None  # the fallback directory as the program sees it; None: the loader has none
    root: str
    added: tuple[str, ...] = ()  # files copied now (program view)
    present: tuple[str, ...] = ()  # identical files that were there already (not ours)
    removed: tuple[str, ...] = ()  # with remove=True: files and directories taken away
    note: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "directory": self.directory,
            "root": self.root,
            "added": list(self.added),
            "present": list(self.present),
            "removed": list(self.removed),
            "note": self.note,
        }


def fallback_dir(loader: Loader, pkgversion: str) -> str | None:
    """The loader's versioned fallback directory for a build, or None when it has none."""
    for loc in loader.search:
        if loc.kind == "absolute" and "{pkgversion}" in loc.value and "{home}" not in loc.value:
            if "{xdg_data_home}" in loc.value or "{xdg_config_home}" in loc.value:
                continue
            return posixpath.normpath(loc.value.replace("{pkgversion}", canon_pkgversion(pkgversion)))
    return None


def _module_dirs(root: Root, loader: Loader, prefix: str) -> list[str]:
    """The prefix's module directories, as the relocated loader finds them: in the bundle
    directory next to the executables when there is one, else under the prefix."""
    dirs = []
    bundle = posixpath.join(prefix, loader.bindir, loader.bundle) if loader.bundle else None
    for loc in loader.search:
        if loc.kind != "relocated":
            continue
        if bundle is not None and root.is_dir(bundle):
            dirs.append(bundle + posixpath.join(loader.prefix, loc.value))
        else:
            dirs.append(posixpath.join(prefix, loc.value))
    return dirs


def _modules(root: Root, loader: Loader, prefix: str) -> dict[str, str]:
    """Name relative to the module directory -> the module file's resolved path (program
    view), for every module file the loader would look up, first module directory first."""
    naming = loader.naming
    depth = max(p.count("/") for p in naming.patterns) + loader.depth
    out: dict[str, str] = {}

    def walk(base: str, rel: str, level: int) -> None:
        here = posixpath.join(base, rel) if rel else base
        for name in root.listdir(here):
            sub = f"{rel}/{name}" if rel else name
            full = posixpath.join(base, sub)
            if root.is_dir(full):
                if level < depth:
                    walk(base, sub, level + 1)
                continue
            parsed = naming.parse(sub)
            if parsed is None or not root.is_file(full):
                continue
            mid = naming.module_id(*parsed)
            if loader.known_modules is not None and mid not in loader.known_modules:
                continue
            real = root.resolve(full)
            if real is not None:
                out.setdefault(sub, real)

    for d in _module_dirs(root, loader, prefix):
        walk(d, "", 0)
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _place(root: Root, path: str) -> tuple[str, list[str]]:
    """`path` resolved inside the root as far as it exists, plus the directories to make below
    that (program view, parents first)."""
    parts = [p for p in path.split("/") if p]
    for cut in range(len(parts), -1, -1):
        head = "/" + "/".join(parts[:cut])
        real = root.resolve(head)
        if real is None:
            continue
        if not root.is_dir(real):
            raise PreserveError(
                f"{root.host(real)}: not a directory, but the fallback directory needs one there"
            )
        made = []
        cur = real
        for p in parts[cut:]:
            cur = posixpath.join(cur, p)
            made.append(cur)
        return (made[-1] if made else real), made
    raise PreserveError(f"{root.root}: cannot resolve {path} inside it")


def _read_manifest(root: Root, directory: str) -> dict[str, list[str]]:
    path = root.host(posixpath.join(directory, MANIFEST))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"files": [], "dirs": []}
    except (OSError, ValueError) as e:
        raise PreserveError(f"{path}: cannot read it ({e})") from None
    if not isinstance(data, dict) or data.get("version") != 1:
        raise PreserveError(f"{path}: not a manifest qpack wrote")
    files, dirs = data.get("files"), data.get("dirs")
    if not isinstance(files, list) or not isinstance(dirs, list):
        raise PreserveError(f"{path}: not a manifest qpack wrote")
    for d in dirs:
        if not isinstance(d, str) or not d.startswith("/") or ".." in d.split("/"):
            raise PreserveError(f"{path}: names the directory {d!r}, which qpack never makes")
    return {"files": [str(f) for f in files], "dirs": [str(d) for d in dirs]}


def _write_manifest(root: Root, directory: str, files: list[str], dirs: list[str], prefix: str) -> None:
    path = root.host(posixpath.join(directory, MANIFEST))
    data = {"version": 1, "prefix": prefix, "files": sorted(set(files)), "dirs": dirs}
    tmp = tmp_sibling(path)
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _inside(directory: str, rel: str) -> str:
    parts = rel.split("/")
    if rel.startswith("/") or ".." in parts or "" in parts:
        raise PreserveError(f"{MANIFEST} in {directory}: names {rel!r}, outside the directory")
    return posixpath.join(directory, rel)


def preserve(
    prefix: str | Path,
    *,
    loader: Loader,
    pkgversion: str,
    root: str | Path = "/",
    remove: bool = False,
) -> PreserveReport:
    """Copy the modules installed in `prefix` into the loader's fallback directory for
    `pkgversion` (or, with `remove`, take away what earlier calls copied there)."""
    rt = Root(root)
    pre = program_prefix(prefix)
    if not pkgversion.strip():
        raise PreserveError("--pkgversion is empty: the fallback directory is named after it")
    directory = fallback_dir(loader, pkgversion)
    if directory is None:
        return PreserveReport(
            directory=None,
            root=str(rt.root),
            note="its loader has no versioned fallback directory ({pkgversion}): nothing to preserve",
        )
    host = host_path(rt.root, pre)
    if not host.is_dir():
        raise PreserveError(f"{host}: no such directory (the installed prefix)")
    try:
        with locked(host, rt.root):  # an interrupted install is undone first: copy what is really installed
            if remove:
                return _remove(rt, directory)
            return _copy(rt, loader, pre, directory)
    except OSError as e:
        raise PreserveError(f"{e.filename or directory}: {e.strerror or e}") from None


def _copy(rt: Root, loader: Loader, pre: str, directory: str) -> PreserveReport:
    modules = _modules(rt, loader, pre)
    real_dir, made = _place(rt, directory)
    old = _read_manifest(rt, real_dir) if not made else {"files": [], "dirs": []}
    ours = set(old["files"])
    todo: list[tuple[str, str]] = []
    present: list[str] = []
    for rel, src in sorted(modules.items()):
        dest = rt.host(posixpath.join(real_dir, rel))
        if os.path.lexists(dest):
            if not dest.is_file() or dest.is_symlink() or _sha256(dest) != _sha256(rt.host(src)):
                raise PreserveError(
                    f"{dest}: already there with other contents than {rt.host(src)}; not replacing it"
                )
            if rel not in ours:
                present.append(posixpath.join(directory, rel))
            continue
        todo.append((rel, src))
    new_dirs: list[str] = list(made)
    for rel, _ in todo:
        d = posixpath.dirname(rel)
        acc = real_dir
        for part in [p for p in d.split("/") if p]:
            acc = posixpath.join(acc, part)
            if acc not in new_dirs and not os.path.lexists(rt.host(acc)):
                new_dirs.append(acc)
    files = sorted(ours | {rel for rel, _ in todo})
    if not todo:
        return PreserveReport(directory=directory, root=str(rt.root), present=tuple(present))
    for d in made:
        rt.host(d).mkdir()
    _write_manifest(rt, real_dir, files, [*old["dirs"], *new_dirs], pre)  # before the first copy
    for d in new_dirs:
        if d not in made:
            rt.host(d).mkdir()
    added = []
    for rel, src in todo:
        dest = rt.host(posixpath.join(real_dir, rel))
        tmp = tmp_sibling(dest)
        shutil.copy2(rt.host(src), tmp)
        os.replace(tmp, dest)
        added.append(posixpath.join(directory, rel))
    return PreserveReport(directory=directory, root=str(rt.root), added=tuple(added), present=tuple(present))


def _remove(rt: Root, directory: str) -> PreserveReport:
    real = rt.resolve(directory)
    if real is None or not rt.exists(posixpath.join(real, MANIFEST)):
        return PreserveReport(
            directory=directory,
            root=str(rt.root),
            note=f"nothing to remove: no modules preserved by qpack in {directory}",
        )
    manifest = _read_manifest(rt, real)
    removed = []
    for rel in manifest["files"]:
        path = rt.host(_inside(real, rel))
        for p in (path, tmp_sibling(path)):
            if os.path.lexists(p):
                p.unlink()
                if p == path:
                    removed.append(posixpath.join(directory, rel))
    rt.host(posixpath.join(real, MANIFEST)).unlink()
    for d in reversed(manifest["dirs"]):
        with contextlib.suppress(OSError):
            rt.host(d).rmdir()
            removed.append(d)
    return PreserveReport(directory=directory, root=str(rt.root), removed=tuple(removed))
