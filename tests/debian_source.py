"""Every binary package of one Debian source package, as this machine's apt knows it.

The real programs' tests (tests/test_freeradius.py, tests/test_dovecot.py) split one build that
Debian cut into several packages and compare qpack's split with Debian's, package for package.
This module gets that build: the source's binary packages for amd64 (and arch:all) that apt's
local index lists (`apt-cache dumpavail`, the candidate version of each), downloaded once with
`apt-get download <package>=<version>` into the test cache and extracted with `dpkg-deb -x`
into one staged tree. It also reads what the tests compare against: `dpkg-deb -c` file lists,
control fields and their relations, and it runs the real dh_install and dh_missing on lists.

Nothing here skips or fails a test by itself: `fetch` raises Unavailable with the reason (no
apt, an index without the source, a failed download), for the caller's pytest.skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ARCHES = ("amd64", "all")


class Unavailable(Exception):
    """The packages cannot be had here; the message says why (a skip reason)."""


@dataclass(frozen=True)
class Binary:
    name: str
    version: str
    arch: str


@dataclass(frozen=True)
class Build:
    """One source's binary packages: the .debs, and all of them extracted into one tree."""

    source: str
    debs: dict[str, Path]  # package -> .deb
    root: Path  # the staged tree (prefix /usr)
    version: str  # the source's binary version (of its arch:any packages)

    def contents(self, package: str, *, dirs: bool = False) -> dict[str, str]:
        return deb_contents(self.debs[package], dirs=dirs)


# --------------------------------------------------------------------------- apt's index


def _stanzas(text: str) -> list[dict[str, str]]:
    out = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key is not None:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Package" in fields:
            out.append(fields)
    return out


def source_binaries(source: str) -> dict[str, Binary]:
    """The binary packages of `source` in apt's local index for amd64 or all, at the candidate
    version apt lists (no -dbgsym: they live in another archive)."""
    if not shutil.which("apt-cache"):
        raise Unavailable("apt-cache not found: not a Debian machine")
    r = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, timeout=300, check=False)
    if r.returncode != 0:
        raise Unavailable(f"apt-cache dumpavail failed: {(r.stderr.strip() or 'no output').splitlines()[-1]}")
    found: dict[str, Binary] = {}
    for st in _stanzas(r.stdout):
        name = st["Package"]
        src = st.get("Source", name).split()[0]
        if src != source or name.endswith("-dbgsym") or st.get("Architecture") not in ARCHES:
            continue
        found[name] = Binary(name, st.get("Version", ""), st["Architecture"])
    if not found:
        raise Unavailable(
            f"apt's index lists no binary package of the source {source!r} (run apt-get update?)"
        )
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------- .debs


def deb_field(deb: Path, field: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), field], check=True, capture_output=True, text=True
    ).stdout.strip()


def deb_contents(deb: Path, *, dirs: bool = False) -> dict[str, str]:
    """`dpkg-deb -c`: path (no leading ./, no trailing /) -> 'file' or 'symlink -> <target>'.
    Directories are left out (dpkg shares them between packages) unless `dirs`: then the
    directories that hold nothing else of this .deb are listed too, as 'dir'."""
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, capture_output=True, text=True).stdout
    files: dict[str, str] = {}
    directories = []
    for line in out.splitlines():
        perms, _owner, _size, _date, _time, rest = line.split(None, 5)
        if perms.startswith("d"):
            directories.append(rest.removeprefix("./").rstrip("/"))
        elif perms.startswith("l"):
            path, target = rest.split(" -> ", 1)
            files[path.removeprefix("./")] = f"symlink -> {target}"
        else:
            files[rest.removeprefix("./")] = "file"
    if dirs:
        everything = [*files, *directories]
        for d in directories:
            if d and not any(p.startswith(d + "/") for p in everything):
                files[d] = "dir"
    return files


def relations(deb: Path, field: str) -> list[list[str]]:
    """A relation field as lists of alternatives, each `name` or `name (op version)` as written
    (architecture qualifiers dropped)."""
    text = deb_field(deb, field)
    out = []
    for dep in text.split(","):
        alts = [re.sub(r":[a-z0-9]+(?=\s|$)", "", a.strip()) for a in dep.split("|")]
        if alts and alts[0]:
            out.append([re.sub(r"\s+", " ", a).replace("( ", "(") for a in alts])
    return out


def relation_name(rel: str) -> str:
    return re.split(r"[\s(]", rel, maxsplit=1)[0]


def _cached(dest: Path, wanted: dict[str, Binary]) -> dict[str, Path]:
    """The .debs in `dest` of exactly the wanted versions."""
    out = {}
    for name, b in wanted.items():
        for deb in sorted(dest.glob(f"{name}_*_{b.arch}.deb")):
            if deb.name.split("_", 1)[0] == name and deb_field(deb, "Version") == b.version:
                out[name] = deb
    return out


def fetch(source: str, dest: Path) -> dict[str, Path]:
    """Every binary package of `source` (amd64 and all) as .debs in `dest`, downloaded once."""
    for tool in ("apt-get", "dpkg-deb"):
        if not shutil.which(tool):
            raise Unavailable(f"{tool} not found: not a Debian machine")
    wanted = source_binaries(source)
    dest.mkdir(parents=True, exist_ok=True)
    have = _cached(dest, wanted)
    missing = [b for n, b in wanted.items() if n not in have]
    if missing:
        # Into a private directory first (same filesystem): no half-written .deb in the cache.
        with tempfile.TemporaryDirectory(prefix=".apt-", dir=dest) as tmp:
            r = subprocess.run(
                ["apt-get", "-q", "download", *(f"{b.name}={b.version}" for b in missing)],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if r.returncode != 0:
                lines = [x for x in r.stderr.splitlines() if "unsandboxed" not in x]
                errors = [x for x in lines if x.startswith("E:")] or lines or ["no output"]
                raise Unavailable(f"apt-get download of {source}'s packages failed: {errors[0]}")
            for deb in Path(tmp).glob("*.deb"):
                deb.rename(dest / deb.name)
        have = _cached(dest, wanted)
    lost = sorted(set(wanted) - set(have))
    if lost:
        raise Unavailable(f"apt-get download gave no .deb of the listed version for {', '.join(lost)}")
    return have


def source_version(debs: dict[str, Path]) -> str:
    """The version of the source's arch:any packages; every one must have it (one build), the
    arch:all ones at least its upstream part (binNMUs rebuild only arch:any packages)."""
    versions = {p: deb_field(d, "Version") for p, d in debs.items()}
    arches = {p: deb_field(d, "Architecture") for p, d in debs.items()}
    any_versions = {v for p, v in versions.items() if arches[p] != "all"}
    if len(any_versions) != 1:
        raise AssertionError(f"not one build: the arch:any packages have versions {sorted(any_versions)}")
    version = any_versions.pop()
    upstream = re.sub(r"\+b\d+$", "", version)
    off = {p: v for p, v in versions.items() if arches[p] == "all" and v != upstream}
    if off:
        raise AssertionError(f"not one build: arch:all packages {off} against {version}")
    return version


def extract(debs: dict[str, Path], root: Path) -> Path:
    for deb in debs.values():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


# --------------------------------------------------------------------------- debhelper


def have_debhelper() -> bool:
    return bool(shutil.which("dh_install") and shutil.which("dh_missing"))


def fake_source(
    source: str, packages: list[str], install_dir: Path, build: Path, where: Path, *, compat: int = 13
) -> Path:
    """A source tree dh_install can work in: debian/control for `packages`, the .install files
    (and the .dirs files, for dh_installdirs, of the packages that have one) from `install_dir`,
    and debian/tmp = the build (hard links where the filesystem allows)."""
    (where / "debian").mkdir(parents=True)
    control = (
        f"Source: {source}\nMaintainer: Q <q@example.org>\nBuild-Depends: debhelper-compat (= {compat})\n"
    )
    for pkg in packages:
        control += f"\nPackage: {pkg}\nArchitecture: any\nDescription: {pkg}\n test\n"
        shutil.copy(install_dir / f"{pkg}.install", where / "debian" / f"{pkg}.install")
        if (install_dir / f"{pkg}.dirs").exists():
            shutil.copy(install_dir / f"{pkg}.dirs", where / "debian" / f"{pkg}.dirs")
    (where / "debian/control").write_text(control)

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(build, where / "debian/tmp", symlinks=True, copy_function=link)
    return where


def debhelper(src: Path, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), cwd=src, capture_output=True, text=True, check=False, timeout=300)


def installed_tree(root: Path) -> dict[str, str]:
    """What dh_install put in debian/<package>: path -> 'file', 'symlink -> t' or 'dir' (empty
    directories only)."""
    out = {}
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            out[rel] = f"symlink -> {os.readlink(p)}"
        elif p.is_dir():
            if not any(p.iterdir()):
                out[rel] = "dir"
        else:
            out[rel] = "file"
    return out


def installed_status(packages: list[str]) -> dict[str, bool]:
    """Whether each package is installed on this host (dpkg's status)."""
    r = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", *packages],
        capture_output=True,
        text=True,
        check=False,
    )
    status = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    return {p: status.get(p) == "installed" for p in packages}


# --------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Comparison:
    per_package: list[str]  # "<package>: <same>/<Debian's>"
    diffs: list[str]  # one line per path that differs
    total: int  # Debian's entries (files, symlinks, empty directories)


def split_entries(out: Path) -> dict[str, tuple[str, str]]:
    """qpack's manifest: path -> (package, 'file' | 'symlink -> t' | 'dir'); a package's declared
    directory (the layout's `dirs`) that holds nothing else of the package is a 'dir' of it, as
    `deb_contents(dirs=True)` lists a .deb's."""
    entries = {}
    for p in json.loads((out / "manifest.json").read_text())["packages"]:
        for f in p["files"]:
            kind = f"symlink -> {f['target']}" if f["kind"] == "symlink" else f["kind"]
            entries[f["path"]] = (p["name"], kind)
        for d in p["declared_dirs"]:
            if not any(f["path"].startswith(d + "/") for f in p["files"]):
                entries.setdefault(d, (p["name"], "dir"))
    return entries


def compare_split(build: Build, out: Path) -> Comparison:
    """Every file, symlink and empty directory of every .deb against qpack's split of them."""
    ours = split_entries(out)
    debian = {
        path: (pkg, kind) for pkg in build.debs for path, kind in build.contents(pkg, dirs=True).items()
    }
    per_package = []
    for pkg in sorted(build.debs):
        theirs = [x for x, (q, _) in debian.items() if q == pkg]
        same = sum(ours.get(x) == debian[x] for x in theirs)
        per_package.append(f"{pkg}: {same}/{len(theirs)}")
    absent = ("(absent)", "")
    diffs = [
        f"{path}: Debian {debian.get(path, absent)}, qpack {ours.get(path, absent)}"
        for path in sorted(set(ours) | set(debian))
        if ours.get(path) != debian.get(path)
    ]
    return Comparison(per_package, diffs, len(debian))


def sibling_depends(build: Build, package: str) -> dict[str, str]:
    """Debian's Depends of `package` on other packages of the source: name -> the relation as
    written (the first alternative of each)."""
    out = {}
    for alts in relations(build.debs[package], "Depends"):
        name = relation_name(alts[0])
        if name in build.debs:
            out[name] = alts[0]
    return out


def library_depends(build: Build, package: str, not_libraries: set[str]) -> list[str]:
    """Debian's Depends of `package` on packages outside the source that ship shared libraries
    (every alternative's name, minus `not_libraries`), sorted."""
    names = {relation_name(a) for alts in relations(build.debs[package], "Depends") for a in alts}
    return sorted(n for n in names if n not in build.debs and n not in not_libraries)


def all_library_depends(build: Build, not_libraries: set[str]) -> set[str]:
    return {n for pkg in build.debs for n in library_depends(build, pkg, not_libraries)}


def external_depends(build: Build, package: str, names: set[str]) -> list[str]:
    """Debian's Depends of `package` on the packages `names` (those that ship no library), as
    written, in Debian's order."""
    return [
        " | ".join(alts)
        for alts in relations(build.debs[package], "Depends")
        if relation_name(alts[0]) in names
    ]


def library_relations(build: Build, package: str, not_libraries: set[str]) -> set[str]:
    """Debian's Depends of `package` on library packages (what dpkg-shlibdeps wrote), as written."""
    return {
        " | ".join(alts)
        for alts in relations(build.debs[package], "Depends")
        if relation_name(alts[0]) not in build.debs and relation_name(alts[0]) not in not_libraries
    }
