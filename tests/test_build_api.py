"""qpack.build_api through the standard frontend (`build`'s ProjectBuilder and `python -m build`,
offline: -n, no isolation) and through its hooks: the wheels are byte for byte those of
`qpack split`, and an sdist rebuilds them."""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from build import ProjectBuilder

from qpack import build_api
from qpack.build_api import BackendError, Project, ProjectError
from qpack.cli import main
from qpack.demo.builder import compute_stamp
from tests.meson_builds import DEMO_DIR, MesonBuild, demo_meson

EPOCH = "1700000000"
GTK = "demo_ui_gtk-1-py3-none-linux_x86_64.whl"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> MesonBuild:
    return demo_meson(tmp_path_factory)


@pytest.fixture(autouse=True)
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


@pytest.fixture(scope="module")
def split(demo: MesonBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`qpack split --meson` of the demo's build: the wheels every route must reproduce."""
    out = tmp_path_factory.mktemp("split") / "wheels"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        assert (
            main(["split", "--meson", str(demo.build), "-l", "demo", "--version", "1", "-o", str(out)]) == 0
        )
    return out


def python_m_build(*args: str, cwd: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "build", "-n", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_project_builder_metadata_and_wheel(demo: MesonBuild, split: Path, tmp_path: Path) -> None:
    builder = ProjectBuilder(demo.project, python_executable=sys.executable)
    assert builder.build_system_requires == {"qpack>=0.1"}  # PyPI's bare "qpack" is another project
    assert builder.get_requires_for_build("wheel") == {"meson>=0.60", "ninja"}
    assert builder.get_requires_for_build("sdist") == set()
    settings = {"package": "demo-ui-gtk", "build-dir": "build"}  # the configured build: no recompile
    prepared = builder.prepare("wheel", tmp_path / "meta", config_settings=settings)
    assert prepared is not None
    dist_info = Path(prepared)
    assert dist_info.name == "demo_ui_gtk-1.dist-info"
    metadata = email.parser.Parser().parsestr((dist_info / "METADATA").read_text())
    assert metadata["Name"] == "demo-ui-gtk"
    assert metadata.get_all("Requires-Dist") == ["demo-core==1", "demo-ui-opengl==1"]
    wheel = Path(builder.build("wheel", tmp_path / "dist", config_settings=settings))
    assert wheel.name == GTK
    assert wheel.read_bytes() == (split / GTK).read_bytes()
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("demo_ui_gtk-1.dist-info/METADATA") == (dist_info / "METADATA").read_bytes()


def test_shell_loop_over_the_plans_packages_gives_qpack_splits_wheels(
    demo: MesonBuild, split: Path, tmp_path: Path
) -> None:
    """README: one `python -m build` per package name of the plan = `qpack split`."""
    script = """
        set -eu
        for name in $("$PY" -m qpack plan --meson build -l demo | cut -f1); do
            "$PY" -m build -n --wheel -C package="$name" -C build-dir=build -o "$OUT" . >/dev/null
        done
    """
    env = {**os.environ, "PY": sys.executable, "OUT": str(tmp_path / "loop")}
    r = subprocess.run(
        ["bash", "-c", script], cwd=demo.project, env=env, capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    got = {p.name: p.read_bytes() for p in (tmp_path / "loop").iterdir()}
    want = {p.name: p.read_bytes() for p in split.iterdir()}
    assert sorted(got) == sorted(want) and len(want) == 9
    assert got == want


def test_sdist_rebuilds_the_same_wheels(demo: MesonBuild, split: Path, tmp_path: Path) -> None:
    """`python -m build` makes the sdist, then the wheel from the unpacked sdist: a fresh meson
    build elsewhere, with the same bytes."""
    python_m_build("-C", "package=demo-ui-gtk", "-o", str(tmp_path / "out"), ".", cwd=demo.project)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["demo-1.tar.gz", GTK]
    assert (tmp_path / "out" / GTK).read_bytes() == (split / GTK).read_bytes()
    with tarfile.open(tmp_path / "out" / "demo-1.tar.gz") as tar:
        names = tar.getnames()
        assert all(m.mtime == int(EPOCH) and m.uid == 0 and m.uname == "" for m in tar.getmembers())
    assert "demo-1/PKG-INFO" in names and "demo-1/pyproject.toml" in names
    assert "demo-1/src/modules/ui/gtk.c" in names and "demo-1/meson.build" in names
    assert not [n for n in names if n.startswith("demo-1/build/")]
    # Reproducible: the same project gives the same sdist bytes.
    again = build_sdist(demo.project, tmp_path / "again")
    assert again.read_bytes() == (tmp_path / "out" / "demo-1.tar.gz").read_bytes()


def test_python_m_build_works_inside_the_demo_directory(tmp_path: Path) -> None:
    """Run where the README's reader stands: in (a copy of) the whole `qpack/demo` directory,
    its Python files too. The demo's builder was `build.py`, which came first on `sys.path` and
    shadowed the frontend: `python -m build` there exited 0 and built nothing."""
    project = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "build"))
    python_m_build("--sdist", "-o", str(tmp_path / "out"), ".", cwd=project)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["demo-1.tar.gz"]


def build_sdist(project: Path, out: Path, **settings: str) -> Path:
    cwd = Path.cwd()
    os.chdir(project)
    try:
        return out / build_api.build_sdist(str(out), settings)
    finally:
        os.chdir(cwd)


def build_wheel(project: Path, out: Path, **settings: str) -> Path:
    cwd = Path.cwd()
    os.chdir(project)
    try:
        return out / build_api.build_wheel(str(out), settings)
    finally:
        os.chdir(cwd)


def write_project(root: Path, table: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["qpack"]\nbuild-backend = "qpack.build_api"\n\n[tool.qpack]\n' + table
    )
    return root


def test_staged_tree_project_and_its_sdist(demo: MesonBuild, split: Path, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        'layout = "layouts/demo.toml"\nversion = "1"\nstaged = "stage"\nsdist-include = ["stage/**"]\n',
    )
    shutil.copytree(demo.stage, project / "stage", symlinks=True)
    (project / "layouts").mkdir()
    shutil.copy(Path(build_api.__file__).parent / "layouts" / "demo.toml", project / "layouts" / "demo.toml")
    (project / "notes.txt").write_text("not in sdist-include: left out\n")
    wheel = build_wheel(project, tmp_path / "dist", package="demo-core")
    assert wheel.read_bytes() == (split / wheel.name).read_bytes()

    sdist = build_sdist(project, tmp_path / "sdist")
    with tarfile.open(sdist) as tar:
        members = {m.name: m for m in tar.getmembers()}
        tar.extractall(tmp_path / "unpacked", filter="data")
    assert "demo-1/layouts/demo.toml" in members and "demo-1/notes.txt" not in members
    link = members["demo-1/stage/usr/bin/demo-run"]
    assert link.issym() and link.linkname == "demo"
    assert members["demo-1/stage/usr/bin/demo"].mode == 0o755
    rebuilt = build_wheel(tmp_path / "unpacked" / "demo-1", tmp_path / "dist2", package="demo-core")
    assert rebuilt.read_bytes() == wheel.read_bytes()


def test_meson_build_directory_project(demo: MesonBuild, split: Path, tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", 'layout = "demo"\nversion = "1"\nmeson-build = "build"\n')
    (project / "build").symlink_to(demo.build)
    wheel = build_wheel(project, tmp_path / "dist", package="demo-block-curl")
    assert wheel.read_bytes() == (split / wheel.name).read_bytes()
    meta_wheel = build_wheel(project, tmp_path / "dist")  # the meta package by default
    assert meta_wheel.name == "demo-1-py3-none-linux_x86_64.whl"
    assert meta_wheel.read_bytes() == (split / meta_wheel.name).read_bytes()
    meta = tmp_path / "meta"
    cwd = Path.cwd()
    os.chdir(project)
    try:
        assert build_api.get_requires_for_build_wheel({}) == []
        assert build_api.prepare_metadata_for_build_wheel(str(meta), {}) == "demo-1.dist-info"
        with pytest.raises(
            BackendError, match=r"an sdist needs sources to rebuild from: tool.qpack.meson-build"
        ):
            build_api.build_sdist(str(tmp_path / "sdist"), {})
        with pytest.raises(
            BackendError, match=r"-C package=demo-ui-qt: no such package in the plan \(packages: demo-core, "
        ):
            build_api.build_wheel(str(tmp_path / "dist"), {"package": "demo-ui-qt"})
        with pytest.raises(
            BackendError, match=r"-C packages: unknown config setting \(known: package, build-dir\)"
        ):
            build_api.build_wheel(str(tmp_path / "dist"), {"packages": "x"})
    finally:
        os.chdir(cwd)
    assert "Provides-Extra: ui-gtk" in (meta / "demo-1.dist-info" / "METADATA").read_text()


def test_project_table_problems_are_reported_together(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        'version = 1\nstaged = "/abs"\nmeson-source = "."\nmeson-args = "-Dx=1"\n'
        'compression-level = 11\nunclaimed = "keep"\nflavour = "x"\n',
    )
    with pytest.raises(ProjectError) as e:
        Project.read(project)
    where = f"{project / 'pyproject.toml'}: tool.qpack"
    assert e.value.problems == [
        f"{where}.flavour: unknown key (known: build-dir, compression-level, drop-outside-prefix, layout, "
        "meson-args, meson-build, meson-source, name, prefix, sdist-include, staged, unclaimed, version)",
        f"{where}.layout: missing",
        f"{where}.version: must be a non-empty string",
        f"{where}.staged: give exactly one build: staged, meson-build, meson-source "
        "(got staged, meson-source)",
        f"{where}.staged: must be a path inside the project, got '/abs'",
        f"{where}.meson-args: only for meson-source",
        f"{where}.unclaimed: must be error, core or drop, got 'keep'",
        f"{where}.compression-level: must be an integer from 0 to 9, got 11",
        f"{where}.meson-args: must be a list of strings",
    ]
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ProjectError, match=r"\[tool.qpack\]: missing"):
        Project.read(project)


def test_a_kept_build_directory_takes_changed_meson_args(demo: MesonBuild, tmp_path: Path) -> None:
    """-C build-dir keeps a configured build from one wheel to the next; a changed meson-args
    (another build tag) went unseen, and the wheel called 2 held a demo of tag 1."""
    project = tmp_path / "project"
    shutil.copytree(demo.project, project, ignore=shutil.ignore_patterns("build"))
    first = build_wheel(project, tmp_path / "one", **{"package": "demo-core", "build-dir": "kept"})
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    text = text.replace('version = "1"', 'version = "2"').replace('"-Dbuild_tag=1"', '"-Dbuild_tag=2"')
    pyproject.write_text(text)
    second = build_wheel(project, tmp_path / "two", **{"package": "demo-core", "build-dir": "kept"})
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        (exe_a,) = [n for n in a.namelist() if n.endswith(("/bin/demo", "scripts/demo"))]
        (exe_b,) = [n for n in b.namelist() if n.endswith(("/bin/demo", "scripts/demo"))]
        # The executable holds its build's stamp name, and the build tag is part of the stamp.
        assert f"demo_stamp_{compute_stamp('/usr', '1')}".encode() in a.read(exe_a)
        assert f"demo_stamp_{compute_stamp('/usr', '2')}".encode() in b.read(exe_b), "not reconfigured"
