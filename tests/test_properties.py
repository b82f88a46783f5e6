"""Properties over random builds (hypothesis, 200 examples each; small trees, no ELF):

1. every path of a random build (files with odd names and modes, hard links, symlinks of every
   kind, empty directories), under a random valid layout, is in exactly one package or one
   exclusion; the tree output reproduces each file's bytes and mode and each link's target;
   the wheels, installed back through qpack's installer, reproduce every file a wheel can
   carry (regular files, and links to a regular file of the same package, as copies);
2. an output reached by any mix of symlinks and `..`, split into with `--force`, never deletes
   or changes a file of the build.

Each example's files live on /dev/shm where it exists (installs fsync every file).
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qpack.cli import main
from qpack.install import install_wheels
from qpack.layout import load_layout
from qpack.plan import make_plan
from qpack.writers.tree import write_tree
from qpack.writers.wheel import write_wheels

from .reliability import snapshot

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Odd but legal names: spaces, quotes, shell and glob characters, non-ASCII letters. Not '/',
# and not a backslash or a control character, which a wheel refuses (tests/corpus_cases.py).
NAME_CHARS = st.sampled_from(list("abcxyz019 -_.+~@=,:;'&!$#%^()[]{}*?\"é文"))
NAMES = st.text(NAME_CHARS, min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))
FILE_MODES = st.sampled_from([0o644, 0o755, 0o600, 0o444, 0o700, 0o640, 0o4755, 0o2755])
DIR_MODES = st.sampled_from([0o755, 0o750, 0o700, 0o555])
CONTENT = st.binary(max_size=64).filter(lambda b: not b.startswith(b"#!"))  # no script rewriting


@contextlib.contextmanager
def sandbox() -> Iterator[Path]:
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    d = Path(tempfile.mkdtemp(prefix="qpack-prop-", dir=base))
    try:
        yield d
    finally:
        for dirpath, dirnames, _ in os.walk(d):  # read-only directories of the build
            for name in dirnames:
                p = os.path.join(dirpath, name)
                if not os.path.islink(p):
                    os.chmod(p, 0o755)
        shutil.rmtree(d)


@dataclass
class Build:
    """A random build: what it holds, by build path, and the layout's rules."""

    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # path -> (bytes, mode)
    links: dict[str, str] = field(default_factory=dict)  # path -> target
    hardlinks: dict[str, str] = field(default_factory=dict)  # path -> path it is a hard link of
    empty_dirs: dict[str, int] = field(default_factory=dict)  # path -> mode
    dir_modes: dict[str, int] = field(default_factory=dict)  # a directory of files -> mode
    groups: list[str] = field(default_factory=list)  # usr/share/<g>: one group package each
    excluded: list[str] = field(default_factory=list)  # usr/share/<x>: excluded

    def write(self, root: Path) -> None:
        for path, (data, mode) in self.files.items():
            p = root / path
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            p.chmod(mode)
        for path, of in self.hardlinks.items():
            os.link(root / of, root / path)
        for path, target in self.links.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, root / path)
        dirs = self.dirs()
        for path in dirs:
            (root / path).mkdir(parents=True, exist_ok=True)
        for path in sorted(dirs, key=lambda d: -d.count("/")):  # deepest first
            os.chmod(root / path, dirs[path])

    def dirs(self) -> dict[str, int]:
        """Every directory given a mode (some hold nothing: empty directories), with it."""
        return {**self.dir_modes, **self.empty_dirs}

    def layout(self) -> str:
        rules = "".join(
            f'[[package]]\nname = "prop-{g}"\nkind = "group"\nfiles = ["{{prefix}}/share/{g}/**"]\n\n'
            for g in self.groups
        )
        rules += "".join(
            f'[[exclude]]\nreason = "random"\nfiles = ["{{prefix}}/share/{x}/**"]\n\n' for x in self.excluded
        )
        return LAYOUT.replace("# RULES\n", rules)


LAYOUT = """
[layout]
name = "prop"
description = "random builds of the property tests"

[loader]
prefix = "/usr"
executables = ["{prefix}/bin/prog"]
naming = "{type}/{name}.so"
types = ["ui", "block"]

[[loader.search]]
relocated = "lib/prog"

[[package]]
name = "prop-core"
kind = "core"
rest = true

# RULES
[per-module]
name = "prop-{module}"

[meta]
name = "prop"
"""


@st.composite
def builds(draw: st.DrawFn) -> Build:
    b = Build()
    b.files["usr/bin/prog"] = (draw(CONTENT), 0o755)
    for mtype in ("ui", "block"):
        for name in draw(
            st.lists(st.sampled_from(["curses", "gtk", "nfs", "x1", "y2"]), max_size=2, unique=True)
        ):
            b.files[f"usr/lib/prog/{mtype}/{name}.so"] = (draw(CONTENT), draw(FILE_MODES))
    # Directories of the core (usr/share/<odd name>/...), of group packages and of exclusions.
    areas = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    for i, area in enumerate(areas):
        kind = draw(st.sampled_from(["core", "group", "exclude"]))
        top = f"g{i}" if kind == "group" else f"x{i}" if kind == "exclude" else area
        (b.groups if kind == "group" else b.excluded if kind == "exclude" else []).append(top)
        sub = draw(st.lists(NAMES, max_size=2, unique=True))
        dirs = [f"usr/share/{top}"] + [f"usr/share/{top}/{s}" for s in sub]
        for d in dirs:
            b.dir_modes[d] = draw(DIR_MODES)
        names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
        for name in names:
            d = draw(st.sampled_from(dirs))
            path = f"{d}/{name}"
            if path in b.dir_modes or path in b.files:
                continue
            b.files[path] = (draw(CONTENT), draw(FILE_MODES))
        if not any(f.startswith(f"usr/share/{top}/") for f in b.files):
            b.files[f"usr/share/{top}/file"] = (draw(CONTENT), draw(FILE_MODES))  # no package without a file
        if draw(st.booleans()):
            b.empty_dirs[f"usr/share/{top}/empty {i}"] = draw(DIR_MODES)
    regular = sorted(b.files)
    # Hard links: a second name for a file, in the same directory.
    for path in draw(st.lists(st.sampled_from(regular), max_size=2, unique=True)):
        b.hardlinks[f"{posixpath.dirname(path)}/hard-{posixpath.basename(path)}"] = path
    # Symlinks of every kind, each beside some file.
    for i in range(draw(st.integers(0, 4))):
        at = posixpath.dirname(draw(st.sampled_from(regular)))
        dest = draw(st.sampled_from(regular))
        target = draw(
            st.sampled_from(
                [
                    posixpath.relpath(dest, at),  # a file, relative
                    "/" + dest,  # a file, root-relative once installed
                    "nowhere",  # dangling
                    "../" * 8 + "etc/passwd",  # out of the build
                    "/etc/shadow",  # a system file
                    f"link {i}",  # itself: a loop
                    ".",  # a directory
                ]
            )
        )
        path = f"{at}/link {i}"
        if path not in b.files and path not in b.hardlinks and path not in b.dir_modes:
            b.links[path] = target
    return b


def resolve(path: str, links: dict[str, str], regular: set[str]) -> str | None:
    """The regular file a symlink leads to inside the build (lexically), or None: the test's own
    oracle for which links a wheel carries as copies."""
    seen = set()
    while path in links:
        if path in seen:
            return None
        seen.add(path)
        target = links[path]
        base = "" if target.startswith("/") else posixpath.dirname(path)
        parts: list[str] = []
        for part in posixpath.join(base, target.lstrip("/")).split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            else:
                parts.append(part)
        path = "/".join(parts)
    return path if path in regular else None


@SETTINGS
@given(build=builds())
def test_random_builds_split_into_exactly_one_package_each_and_reproduce(build: Build) -> None:
    with sandbox() as tmp:
        root = tmp / "build"
        root.mkdir()
        build.write(root)
        before = snapshot(root)
        (tmp / "layout.toml").write_text(build.layout())
        layout = load_layout(tmp / "layout.toml")
        plan = make_plan(layout.loader.scan(root, "/usr"), layout)

        # 1. Every path exactly once: in a package or an exclusion.
        owners: dict[str, list[str]] = {}
        for p in plan.packages:
            for f in p.files:
                owners.setdefault(f, []).append(p.name)
        for x in plan.excluded:
            owners.setdefault(x.path, []).append("(excluded)")
        items = {e.path for e in (*plan.inventory.files(), *plan.inventory.empty_dirs())}
        assert set(owners) == items
        assert {p: o for p, o in owners.items() if len(o) != 1} == {}
        excluded_tops = tuple(f"usr/share/{x}/" for x in build.excluded)
        assert {x.path for x in plan.excluded} == {p for p in items if p.startswith(excluded_tops)}

        # 2. The tree output: each file's bytes and mode, each link's target, each empty dir.
        write_tree(plan, tmp / "tree", version="1.0", lists=("debian",))
        for p in plan.packages:
            for f in p.files:
                got = tmp / "tree" / p.name / f
                if f in build.links:
                    assert os.readlink(got) == build.links[f]
                elif f in build.dirs():
                    assert got.is_dir() and not got.is_symlink()
                    assert stat.S_IMODE(got.stat().st_mode) == build.dirs()[f]
                else:
                    data, mode = build.files[build.hardlinks.get(f, f)]
                    assert got.read_bytes() == data
                    assert stat.S_IMODE(got.lstat().st_mode) == mode

        # 3. Wheels installed back through qpack's installer: every file a wheel can carry.
        report = write_wheels(plan, tmp / "dist", version="1.0")
        install_wheels([w.path for w in report.written], tmp / "prefix")
        regular = set(build.files) | set(build.hardlinks)
        owner = {f: names[0] for f, names in owners.items()}
        carried = 0
        for f, pkg in owner.items():
            if pkg == "(excluded)" or f in build.dirs():
                continue
            src = resolve(f, build.links, regular) if f in build.links else f
            if src is None or owner.get(src) != pkg:
                assert not os.path.lexists(tmp / "prefix" / f.removeprefix("usr/")), f
                continue  # a link a wheel cannot carry: left out, and said so
            data, mode = build.files[build.hardlinks.get(src, src)]
            got = tmp / "prefix" / f.removeprefix("usr/")
            assert got.read_bytes() == data, f
            assert bool(got.stat().st_mode & 0o100) == bool(mode & 0o111), f
            carried += 1
        assert carried >= 1  # the core's usr/bin/prog at least

        assert snapshot(root) == before, "splitting changed the build"


# --------------------------------------------------------------------------- the output guard

# Where an output path starts, and the steps it takes from there: into directories, up with
# '..', through symlinks to the build, its parent, its usr/ and an unrelated directory.
STARTS = ["{t}", "{t}/work", "{t}/work/build", "{t}/work/build/usr", "{t}/link-build", "{t}/link-work",
          "{t}/link-usr", "{t}/elsewhere", "{t}/link-elsewhere"]  # fmt: skip
STEPS = ["..", ".", "out", "usr", "bin", "build", "work", "link-build", "link-usr", "link-work", "elsewhere"]


@SETTINGS
@given(
    start=st.sampled_from(STARTS),
    steps=st.lists(st.sampled_from(STEPS), max_size=5),
    fmt=st.sampled_from(["tree", "wheel"]),
    existing=st.booleans(),
)
def test_an_output_reached_through_links_and_dotdot_never_touches_the_build(
    start: str, steps: list[str], fmt: str, existing: bool
) -> None:
    with sandbox() as t:
        build = t / "work" / "build"
        (build / "usr/bin").mkdir(parents=True)
        (build / "usr/bin/prog").write_bytes(b"prog")
        (build / "usr/lib/prog/ui").mkdir(parents=True)
        (build / "usr/lib/prog/ui/curses.so").write_bytes(b"module")
        (build / "usr/bin/link-build").symlink_to("../..")  # a link inside the build, to itself
        (t / "elsewhere").mkdir()
        (t / "link-build").symlink_to(build)
        (t / "link-work").symlink_to(t / "work")
        (t / "link-usr").symlink_to(build / "usr")
        (t / "link-elsewhere").symlink_to(t / "elsewhere")
        (build / "usr/link-work").symlink_to(t / "work")
        (t / "layout.toml").write_text(LAYOUT.replace("# RULES\n", ""))
        out = start.format(t=t) + "".join("/" + s for s in steps)
        real = os.path.realpath(out)
        if not (real == str(t) or real.startswith(f"{t}/")):
            return  # the path leaves the sandbox: never written to, whatever qpack would say
        if existing and not os.path.lexists(out) and os.path.isdir(os.path.dirname(real)):
            with contextlib.suppress(OSError):
                os.mkdir(out)
                Path(out, "old-output").write_bytes(b"old")
        before = snapshot(build)
        argv = ["split", str(build), "-l", str(t / "layout.toml"), "--version", "1.0", "--format", fmt,
                "-o", out, "--force", "-q"]  # fmt: skip
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            status = main(argv)
        assert status in (0, 2) and "Traceback" not in err.getvalue(), err.getvalue()
        assert snapshot(build) == before, f"split -o {out} --force changed the build"
        assert os.path.isdir(build / "usr/bin")
        if status == 0:
            real_build = os.path.realpath(build)
            written = os.path.realpath(out)
            assert not (written + "/").startswith(real_build + "/"), "wrote inside the build"
            assert not (real_build + "/").startswith(written + "/"), "replaced a directory holding the build"


def test_the_install_oracle_agrees_with_the_writer_on_a_known_case() -> None:
    """The test's own link resolution (resolve) on the cases the wheel writer documents."""
    regular = {"usr/bin/a", "usr/share/x/f"}
    links = {"usr/bin/kvm": "a", "usr/bin/abs": "/usr/bin/a", "usr/bin/up": "../../../etc/passwd",
             "usr/bin/loop": "loop", "usr/bin/two": "kvm", "usr/share/x/d": "."}  # fmt: skip
    assert resolve("usr/bin/kvm", links, regular) == "usr/bin/a"
    assert resolve("usr/bin/abs", links, regular) == "usr/bin/a"
    assert resolve("usr/bin/two", links, regular) == "usr/bin/a"
    assert resolve("usr/bin/up", links, regular) is None
    assert resolve("usr/bin/loop", links, regular) is None
    assert resolve("usr/share/x/d", links, regular) is None
