"""`qpack split --format wheel` on the demo build (real gcc), read back with `wheel unpack`,
installed with real pip in real venvs and with the installer library."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from installer.sources import WheelFile

from qpack import layout as layout_mod
from qpack.errors import OutputError, QpackError
from qpack.install import InstallError, install_wheels, read_wheel, select
from qpack.plan import Plan, plan_build
from qpack.writers.wheel import WheelReport, write_wheels

from .conftest import make_venv, run_demo, run_qpack

VERSION = "1:1.0+dfsg-1+b1"
PEP440 = "1!1.0+dfsg.0r.1.b.1"
EPOCH = 1700000000
MACHINE = platform.machine()


def plan_of(build: Path, layout: str | Path = "demo") -> Plan:
    return plan_build(build, layout)


@pytest.fixture(scope="module")
def demo_plan(demo_build: Path) -> Plan:
    return plan_of(demo_build)


@pytest.fixture(scope="module")
def dist(demo_plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WheelReport]:
    out = tmp_path_factory.mktemp("wheels") / "dist"
    seen: list[tuple[int, int]] = []
    report = write_wheels(
        demo_plan,
        out,
        version=VERSION,
        compression_level=1,
        source_date_epoch=EPOCH,
        progress=lambda n, total: seen.append((n, total)),
    )
    # The progress callback saw every payload byte exactly once, against one total.
    totals = {t for _, t in seen}
    assert len(totals) == 1
    assert sum(n for n, _ in seen) == totals.pop() > 0
    return out, report


def wheel_named(out: Path, dist_name: str) -> Path:
    (found,) = [p for p in out.glob("*.whl") if read_wheel(p).name == dist_name]
    return found


def copy_build(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


# --------------------------------------------------------------------------- what is in the wheels


def test_one_wheel_per_package_plus_meta(demo_plan: Plan, dist: tuple[Path, WheelReport]) -> None:
    out, report = dist
    names = sorted(p.name for p, _ in report.wheels)
    assert names == sorted(p.name for p in out.iterdir())
    assert len(names) == len(demo_plan.packages)
    assert f"demo_core-{PEP440}-py3-none-linux_{MACHINE}.whl" in names
    assert f"demo_ui_gtk-{PEP440}-py3-none-linux_{MACHINE}.whl" in names
    assert f"demo-{PEP440}-py3-none-linux_{MACHINE}.whl" in names
    assert {read_wheel(p).name for p in out.iterdir()} == {p.name for p in demo_plan.packages}


def test_core_wheel_entries_modes_and_symlink_copy(demo_build: Path, dist: tuple[Path, WheelReport]) -> None:
    out, _ = dist
    core = wheel_named(out, "demo-core")
    stem = f"demo_core-{PEP440}"
    with zipfile.ZipFile(core) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        names = [i.filename for i in zf.infolist()]
        tail = ("qpack-package.json", "METADATA", "WHEEL", "RECORD")
        assert names[-4:] == [f"{stem}.dist-info/{n}" for n in tail]
        # What the package is in the plan, for `check`, `list` and `uninstall` after any installer.
        declared = json.loads(zf.read(f"{stem}.dist-info/qpack-package.json"))
        assert declared == {"version": 1, "kind": "core", "modules": []}
        assert names[:-4] == sorted(names[:-4])
        assert sorted(names[:-4]) == [
            f"{stem}.data/data/lib/libdemo-util.so.1",
            f"{stem}.data/data/share/demo/banner.txt",
            f"{stem}.data/data/share/doc/demo/README",
            f"{stem}.data/scripts/demo",
            f"{stem}.data/scripts/demo-registry",
            f"{stem}.data/scripts/demo-run",
        ]
        mode = {n: i.external_attr >> 16 for n, i in infos.items()}
        assert mode[f"{stem}.data/scripts/demo"] == stat.S_IFREG | 0o755
        assert mode[f"{stem}.data/data/lib/libdemo-util.so.1"] == stat.S_IFREG | 0o644
        # bin/demo-run -> demo: a copy of the binary with its mode, never the link text.
        exe = (demo_build / "usr/bin/demo").read_bytes()
        assert zf.read(f"{stem}.data/scripts/demo-run") == exe
        assert mode[f"{stem}.data/scripts/demo-run"] == stat.S_IFREG | 0o755
        assert all(i.date_time == (2023, 11, 14, 22, 13, 20) for i in infos.values())
        meta = zf.read(f"{stem}.dist-info/METADATA").decode()
        wheel = zf.read(f"{stem}.dist-info/WHEEL").decode()
    assert "Metadata-Version: 2.1\nName: demo-core\n" in meta
    assert f"Version: {PEP440}\n" in meta
    assert "Summary: The demo program without its modules\n" in meta
    assert "Requires-Dist" not in meta
    assert "Root-Is-Purelib: false\n" in wheel
    assert f"Tag: py3-none-linux_{MACHINE}\n" in wheel


def test_record_has_sha256_and_size_of_every_entry(dist: tuple[Path, WheelReport]) -> None:
    out, _ = dist
    for whl in out.glob("*.whl"):
        with zipfile.ZipFile(whl) as zf:
            record_name = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
            assert zf.testzip() is None  # every entry's CRC-32 checks
            rows = list(csv.reader(io.StringIO(zf.read(record_name).decode())))
            assert [r[0] for r in rows] == zf.namelist()
            for name, digest, size in rows:
                if name == record_name:
                    assert (digest, size) == ("", "")
                    continue
                data = zf.read(name)
                expect = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                assert digest == f"sha256={expect}"
                assert size == str(len(data))


def test_module_and_meta_metadata(dist: tuple[Path, WheelReport]) -> None:
    out, _ = dist
    gtk = read_wheel(wheel_named(out, "demo-ui-gtk"))
    assert sorted(str(r) for r in gtk.requires) == [f"demo-core=={PEP440}", f"demo-ui-opengl=={PEP440}"]
    meta = read_wheel(wheel_named(out, "demo"))
    assert {"ui-gtk", "ui-curses", "block-curl", "ui", "block", "audio", "all"} <= meta.extras
    reqs = {str(r) for r in meta.requires}
    assert f"demo-core=={PEP440}" in reqs
    assert f'demo-ui-gtk=={PEP440}; extra == "ui-gtk"' in reqs
    assert f'demo-block-nfs=={PEP440}; extra == "block"' in reqs
    with zipfile.ZipFile(wheel_named(out, "demo")) as zf:
        assert all(".dist-info/" in n for n in zf.namelist())


def test_no_file_in_two_wheels_and_every_file_in_one(demo_plan: Plan, dist: tuple[Path, WheelReport]) -> None:
    out, report = dist
    installed: dict[str, str] = {}
    for whl in out.glob("*.whl"):
        with zipfile.ZipFile(whl) as zf:
            for n in zf.namelist():
                if ".dist-info/" in n:
                    continue
                _, scheme, rel = n.split("/", 2)
                where = f"bin/{rel}" if scheme == "scripts" else rel
                assert where not in installed, f"{where} in {whl.name} and {installed[where]}"
                installed[where] = whl.name
    planned = {f.removeprefix("usr/") for p in demo_plan.packages for f in p.files}
    assert set(installed) == planned
    assert report.notes == [] and report.dropped == []


def test_every_wheel_unpacks_and_validates(dist: tuple[Path, WheelReport], tmp_path: Path) -> None:
    out, _ = dist
    for whl in sorted(out.glob("*.whl")):
        r = subprocess.run(
            [sys.executable, "-m", "wheel", "unpack", "-d", str(tmp_path / "unpacked"), str(whl)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        with WheelFile.open(whl) as source:
            source.validate_record()
    unpacked = next((tmp_path / "unpacked").glob("demo_core-*"))
    assert os.access(unpacked / f"demo_core-{PEP440}.data/scripts/demo", os.X_OK)
    # ...and all of them install with installer into a plain prefix; the program runs there.
    prefix = tmp_path / "prefix"
    done = install_wheels(sorted(out.glob("*.whl")), prefix)
    assert len(done) == len(list(out.glob("*.whl")))
    assert all(i.record.is_file() for i in done)
    r = subprocess.run([str(prefix / "bin/demo")], capture_output=True, text=True, check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "demo: 7 modules loaded" in r.stdout


# --------------------------------------------------------------------------- reproducible


def test_two_splits_are_byte_identical(demo_build: Path, tmp_path: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
    outs = []
    for n in ("a", "b"):
        r = subprocess.run(
            [sys.executable, "-m", "qpack", "split", str(demo_build), "-l", "demo", "--version", VERSION,
             "-o", str(tmp_path / n), "--compression-level", "1"],
            env=env, capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        outs.append({p.name: p.read_bytes() for p in (tmp_path / n).iterdir()})
    assert outs[0] == outs[1]
    assert len(outs[0]) == 9  # core, 7 modules, meta
    # The date really comes from SOURCE_DATE_EPOCH (else the check above proves little).
    with zipfile.ZipFile(tmp_path / "a" / f"demo_core-{PEP440}-py3-none-linux_{MACHINE}.whl") as zf:
        assert zf.infolist()[0].date_time == (2023, 11, 14, 22, 13, 20)


def test_one_worker_or_two_and_other_dates(
    demo_plan: Plan, dist: tuple[Path, WheelReport], tmp_path: Path
) -> None:
    out, _ = dist
    write_wheels(
        demo_plan, tmp_path / "one", version=VERSION, compression_level=1, jobs=1, source_date_epoch=EPOCH
    )
    assert {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()} == {
        p.name: p.read_bytes() for p in out.iterdir()
    }
    write_wheels(demo_plan, tmp_path / "other", version=VERSION, compression_level=1, source_date_epoch=0)
    core = f"demo_core-{PEP440}-py3-none-linux_{MACHINE}.whl"
    assert (tmp_path / "other" / core).read_bytes() != (out / core).read_bytes()
    with zipfile.ZipFile(tmp_path / "other" / core) as zf:
        assert zf.infolist()[0].date_time == (1980, 1, 1, 0, 0, 0)


def test_compression_level_is_used(demo_plan: Plan, tmp_path: Path) -> None:
    write_wheels(demo_plan, tmp_path / "l0", version=VERSION, compression_level=0)
    write_wheels(demo_plan, tmp_path / "l9", version=VERSION, compression_level=9)
    core = f"demo_core-{PEP440}-py3-none-linux_{MACHINE}.whl"
    assert (tmp_path / "l0" / core).stat().st_size > (tmp_path / "l9" / core).stat().st_size


# --------------------------------------------------------------------------- real pip, real venvs


def venv_tree(root: Path) -> dict[str, tuple[str, int]]:
    """Every regular file under root: relative path -> (sha256, mode)."""
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for n in filenames:
            p = Path(dirpath) / n
            if p.is_symlink() or "__pycache__" in p.parts:
                continue
            out[p.relative_to(root).as_posix()] = (
                hashlib.sha256(p.read_bytes()).hexdigest(),
                stat.S_IMODE(p.stat().st_mode),
            )
    return out


def installed_by(
    before: dict[str, tuple[str, int]], after: dict[str, tuple[str, int]]
) -> dict[str, tuple[str, int]]:
    # The installers' own bookkeeping differs by design (INSTALLER, REQUESTED, RECORD's lines).
    own = ("/INSTALLER", "/REQUESTED", "/RECORD", "/direct_url.json")
    return {k: v for k, v in after.items() if before.get(k) != v and not k.endswith(own)}


def loaded(demo: Path) -> dict[str, str]:
    out, err = run_demo(demo)
    assert err == "", err
    return out


def pip(python: Path, *args: str) -> None:
    r = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def test_pip_installs_core_and_chosen_modules(
    dist: tuple[Path, WheelReport], fresh_venv: Path, tmp_path: Path
) -> None:
    out, _ = dist
    venv = fresh_venv.parent.parent
    before = venv_tree(venv)
    pip(fresh_venv, "install", "--no-index", "--find-links", str(out), "demo[ui-gtk,block-curl]")
    by_pip = installed_by(before, venv_tree(venv))

    mods = loaded(venv / "bin/demo")
    assert set(mods) == {"ui-gtk", "ui-opengl", "block-curl"}
    assert mods["block-curl"] == f"{venv.resolve()}/lib/demo/block/curl.so"
    assert by_pip["bin/demo"][1] == 0o755

    # The same selection through the installer library gives the same tree.
    other = tmp_path / "other"
    python2 = make_venv(other)
    before2 = venv_tree(other)
    wheels = select(out, ["ui-gtk", "block-curl"])
    assert sorted(read_wheel(w).name for w in wheels) == [
        "demo", "demo-block-curl", "demo-core", "demo-ui-gtk", "demo-ui-opengl",
    ]  # fmt: skip
    install_wheels(wheels, other)
    by_installer = installed_by(before2, venv_tree(other))
    assert by_installer == by_pip
    assert len(by_pip) > 10
    assert set(loaded(other / "bin/demo")) == {"ui-gtk", "ui-opengl", "block-curl"}
    assert python2.exists()

    # pip uninstall of one module wheel: the program no longer loads it.
    pip(fresh_venv, "uninstall", "-y", "demo-block-curl")
    assert not (venv / "lib/demo/block/curl.so").exists()
    assert set(loaded(venv / "bin/demo")) == {"ui-gtk", "ui-opengl"}


def test_select_follows_types_and_refuses_unknown_extras(dist: tuple[Path, WheelReport]) -> None:
    out, _ = dist
    names = sorted(read_wheel(w).name for w in select(out, ["block", "audio-pa"]))
    assert names == [
        "demo",
        "demo-audio-alsa",
        "demo-audio-pa",
        "demo-block-curl",
        "demo-block-nfs",
        "demo-core",
    ]
    assert sorted(read_wheel(w).name for w in select(out, ["demo-core"])) == ["demo-core"]
    with pytest.raises(InstallError, match="ui-nope: neither an extra of demo"):
        select(out, ["ui-nope"])


def test_installer_refuses_paths_outside_the_root_and_bad_records(
    dist: tuple[Path, WheelReport], tmp_path: Path
) -> None:
    out, _ = dist
    core = wheel_named(out, "demo-core")
    evil = tmp_path / core.name
    with zipfile.ZipFile(core) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(f"demo_core-{PEP440}.data/data/../../../escaped", b"x")
    with pytest.raises(InstallError, match="outside the install root"):
        install_wheels([evil], tmp_path / "prefix")
    assert not (tmp_path / "escaped").exists()

    tampered = tmp_path / "t" / core.name
    tampered.parent.mkdir()
    with zipfile.ZipFile(core) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, b"changed" if info.filename.endswith("banner.txt") else data)
    with pytest.raises(InstallError, match="didn't match RECORD"):
        install_wheels([tampered], tmp_path / "prefix2")
    assert not (tmp_path / "prefix2/share/demo/banner.txt").exists()


# --------------------------------------------------------------------------- odd builds


def test_symlink_policy(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path / "build")
    usr = build / "usr"
    (usr / "share/demo/dangling").symlink_to("nowhere.txt")
    (usr / "share/demo/docs").symlink_to("../doc/demo")  # a directory
    (usr / "share/demo/outside").symlink_to("../../../../etc/passwd")
    (usr / "lib/curl-link.so").symlink_to("demo/block/curl.so")  # another package's file
    (usr / "share/demo/banner-link.txt").symlink_to("/usr/share/demo/banner.txt")  # absolute, same package
    (usr / "share/demo/chain").symlink_to("banner-link.txt")
    (usr / "share/demo/empty").mkdir()
    report = write_wheels(plan_of(build), tmp_path / "out", version="1.0", compression_level=1)
    notes = "\n".join(report.notes)
    assert "usr/share/demo/dangling: symlink that points to 'usr/share/demo/nowhere.txt'" in notes
    assert "usr/share/demo/docs: symlink that points to the directory 'usr/share/doc/demo'" in notes
    assert "usr/share/demo/outside: symlink that points outside the build" in notes
    assert (
        "usr/lib/curl-link.so: symlink that points to 'usr/lib/demo/block/curl.so' "
        "of package 'demo-block-curl'" in notes
    )
    assert "usr/share/demo/empty: empty directory" in notes
    assert len(report.notes) == 5
    with zipfile.ZipFile(wheel_named(tmp_path / "out", "demo-core")) as zf:
        banner = (usr / "share/demo/banner.txt").read_bytes()
        assert zf.read("demo_core-1.0.data/data/share/demo/banner-link.txt") == banner
        assert zf.read("demo_core-1.0.data/data/share/demo/chain") == banner
        assert not any(n.endswith(("dangling", "docs", "outside", "curl-link.so")) for n in zf.namelist())


def test_a_module_that_links_to_another_module_is_a_copy_in_its_wheel(
    demo_build: Path, tmp_path: Path
) -> None:
    """CUPS's backend/http, https and ipps are symlinks to backend/ipp: the plan gave each its
    own package holding the link alone, and the wheel split stopped ("has no files a wheel can
    hold"). A module must be a file where the loader looks: its wheel holds a copy of the
    bytes the link leads to (the package requires the target's anyway)."""
    build = copy_build(demo_build, tmp_path / "build")
    (build / "usr/lib/demo/ui/alias.so").symlink_to("curses.so")
    layout = demo_layout(
        tmp_path / "alias.toml", ('known = ["ui-curses",', 'known = ["ui-alias", "ui-curses",')
    )
    write_wheels(plan_of(build, layout), tmp_path / "out", version="1.0", compression_level=1)
    with zipfile.ZipFile(wheel_named(tmp_path / "out", "demo-ui-alias")) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith("alias.so")]
        assert zf.read(name) == (build / "usr/lib/demo/ui/curses.so").read_bytes()


def test_large_file_in_many_chunks(demo_build: Path, tmp_path: Path) -> None:
    """A file larger than the read chunk and the in-memory spool: streamed, spooled to disk,
    and still the same bytes, hash and CRC once read back."""
    build = copy_build(demo_build, tmp_path / "build")
    big = os.urandom(3 << 20) + bytes(4 << 20)  # 7 MiB: incompressible, then compressible
    (build / "usr/share/demo/big.bin").write_bytes(big)
    write_wheels(plan_of(build), tmp_path / "out", version="1.0", compression_level=1, jobs=2)
    core = wheel_named(tmp_path / "out", "demo-core")
    with WheelFile.open(core) as source:
        source.validate_record()
    with zipfile.ZipFile(core) as zf:
        assert zf.testzip() is None
        assert zf.read("demo_core-1.0.data/data/share/demo/big.bin") == big


def test_mixed_machines_are_an_error(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path / "build")
    data = bytearray((build / "usr/lib/libdemo-util.so.1").read_bytes())
    data[18:20] = (183).to_bytes(2, "little" if data[5] == 1 else "big")  # EM_AARCH64
    (build / "usr/lib/libother.so").write_bytes(bytes(data))
    with pytest.raises(OutputError, match="the build mixes machines") as exc:
        write_wheels(plan_of(build), tmp_path / "out", version="1.0")
    assert "usr/lib/libother.so is aarch64" in str(exc.value)
    assert not (tmp_path / "out").exists()
    # ELF files for other machines under share/ (a guest's firmware) do not count.
    (build / "usr/lib/libother.so").rename(build / "usr/share/demo/firmware.elf")
    write_wheels(plan_of(build), tmp_path / "out", version="1.0", compression_level=1)


def test_a_file_changed_since_the_scan_is_an_error(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path / "build")
    plan = plan_of(build)
    (build / "usr/share/demo/banner.txt").write_text("changed\n")
    with pytest.raises(QpackError, match="changed since the build was scanned"):
        write_wheels(plan, tmp_path / "out", version="1.0", compression_level=1)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["build"]


def test_interrupted_split_leaves_nothing(demo_plan: Plan, tmp_path: Path) -> None:
    calls = []

    def progress(n: int, total: int) -> None:
        calls.append(n)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_wheels(demo_plan, tmp_path / "out", version="1.0", compression_level=1, progress=progress)
    assert len(calls) >= 3
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary sibling


def test_failed_forced_split_keeps_the_previous_output(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path / "build")
    plan = plan_of(build)
    out = tmp_path / "out"
    write_wheels(plan, out, version="1.0", compression_level=1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (build / "usr/lib/demo/ui/gtk.so").write_bytes(b"changed")  # fails mid-write, not up front
    with pytest.raises(QpackError, match="changed since the build was scanned"):
        write_wheels(plan, out, version="1.0", force=True, compression_level=1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "out"]


# --------------------------------------------------------------------------- bad input, through the CLI


def check_refused(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1, r.stderr
    for n in needles:
        assert n in errors[0]


def split_args(build: Path, out: Path, *more: str) -> list[str]:
    return [
        "split",
        str(build),
        "-l",
        "demo",
        "--version",
        "1.0",
        "-o",
        str(out),
        "--compression-level",
        "1",
        *more,
    ]


def test_non_empty_output_refused_without_force(demo_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine\n")
    check_refused(run_qpack(*split_args(demo_build, out)), "not empty", "--force")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    r = run_qpack(*split_args(demo_build, out, "--force"))
    assert r.returncode == 0, r.stderr
    assert len(list(out.glob("*.whl"))) == 9
    assert not (out / "keep.txt").exists()


def test_build_inside_the_output_is_refused(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path / "out" / "build")
    check_refused(
        run_qpack(*split_args(build, tmp_path / "out", "--force")), "is inside the output directory"
    )
    assert (build / "usr/bin/demo").is_file()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["build"]


def test_invalid_version_refused(demo_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = split_args(demo_build, out)
    args[args.index("1.0")] = "not a version"
    check_refused(run_qpack(*args), "'not a version' cannot be mapped to PEP 440")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_package_with_no_files_refused(demo_build: Path, tmp_path: Path) -> None:
    layout = tmp_path / "demo-docs.toml"
    layout.write_text(
        (layout_mod.SHIPPED_DIR / "demo.toml")
        .read_text()
        .replace('name = "demo"\n', 'name = "demo-docs"\n', 1)
        + '\n[[package]]\nname = "demo-docs"\nkind = "core"\nfiles = ["{prefix}/share/no-such-dir/*"]\n'
    )
    out = tmp_path / "out"
    args = split_args(demo_build, out)
    args[args.index("demo")] = str(layout)
    check_refused(run_qpack(*args), "package 'demo-docs' has no files")
    assert not out.exists()


def test_package_name_that_is_no_wheel_name_refused(demo_build: Path, tmp_path: Path) -> None:
    layout = tmp_path / "demo-plus.toml"
    text = (layout_mod.SHIPPED_DIR / "demo.toml").read_text()
    layout.write_text(text.replace('name = "demo-{module}"', 'name = "demo+{module}"'))
    out = tmp_path / "out"
    args = split_args(demo_build, out)
    args[args.index("demo")] = str(layout)
    r = run_qpack(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    # One line per name a wheel cannot carry (qpack/writers/_names.py).
    modules = ["audio-alsa", "audio-pa", "block-curl", "block-nfs", "ui-curses", "ui-gtk", "ui-opengl"]
    assert r.stderr.splitlines() == [
        f"error: package name 'demo+{m}': not a valid wheel name (ASCII letters, digits and . _ - only, "
        f"starting and ending with a letter or digit) (named after module {m!r}: rename it in "
        "[per-module.renames] or exclude it)"
        for m in modules
    ]
    assert not out.exists()


def test_files_outside_the_prefix(demo_build: Path, tmp_path: Path) -> None:
    build = copy_build(demo_build, tmp_path / "build")
    (build / "etc").mkdir()
    (build / "etc/demo.conf").write_text("x=1\n")
    (build / "var/lib/demo").mkdir(parents=True)  # an empty directory: not counted as a file
    out = tmp_path / "out"
    check_refused(
        run_qpack(*split_args(build, out)),
        "etc/demo.conf",
        "1 file(s) outside the prefix /usr",
        "--drop-outside-prefix",
    )
    assert not out.exists()
    r = run_qpack(*split_args(build, out, "--drop-outside-prefix"))
    assert r.returncode == 0, r.stderr
    assert "warning: etc/demo.conf: outside the prefix /usr" in r.stderr
    for whl in out.glob("*.whl"):
        with zipfile.ZipFile(whl) as zf:
            assert not any("demo.conf" in n for n in zf.namelist())
    # An empty directory is no loss: a wheel holds no directories, inside the prefix or out
    # (PHP's etc/php/8.2/cli/conf.d stopped a split that had no file outside /usr).
    # Those outside the prefix in one line (a strongSwan tester's etc/ipsec.d/* took a line each).
    (build / "etc/demo.conf").unlink()
    (build / "usr/share/demo/empty").mkdir(parents=True)
    r = run_qpack(*split_args(build, tmp_path / "out2"))
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if "empty director" in line] == [
        "warning: usr/share/demo/empty: empty directory, a wheel cannot hold it (left out of demo-core)",
        "warning: 2 empty directories outside the prefix /usr, left out (a wheel holds no directories): "
        "etc, var/lib/demo",
    ]
    # A module whose file is outside the prefix cannot be left out: its wheel would declare a
    # module it does not hold (an mpv tester's /etc/mpv/scripts/mpris.so, split with exit 0).
    (build / "etc/demo/ui").mkdir(parents=True)
    (build / "usr/lib/demo/ui/curses.so").rename(build / "etc/demo/ui/curses.so")
    layout = demo_layout(
        tmp_path / "etc.toml",
        ('[[loader.search]]\nrelocated = "lib/demo"\n',
         '[[loader.search]]\nabsolute = "/etc/demo"\n[[loader.search]]\nrelocated = "lib/demo"\n'),
    )  # fmt: skip
    split = ["split", str(build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    r = run_qpack(*split, "-o", str(tmp_path / "out3"), "--drop-outside-prefix")
    assert r.returncode == 2, r.stderr
    assert "module(s) ui-curses: the file the loader loads is outside the prefix /usr" in r.stderr, r.stderr


def test_install_runs_no_code_from_the_target(dist: tuple[Path, WheelReport], tmp_path: Path) -> None:
    """The target's python is never asked anything: qpack executes no code from a prefix."""
    out, _ = dist
    target = tmp_path / "venv"
    (target / "bin").mkdir(parents=True)
    marker = tmp_path / "ran"
    (target / "bin/python").write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    (target / "bin/python").chmod(0o755)
    (target / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    install_wheels(select(out, ["ui-curses"]), target)
    assert not marker.exists()
    assert (target / "lib/demo/ui/curses.so").is_file()
    assert (target / "bin/demo").is_file()
    assert list((target / "lib/python3.11/site-packages").glob("demo_ui_curses-*.dist-info"))


def test_only_the_wheels_asked_for_are_written_with_the_same_bytes(
    demo_plan: Plan, dist: tuple[Path, WheelReport], tmp_path: Path
) -> None:
    """`packages=` (what the PEP 517 backend asks for): those wheels only, byte for byte the
    ones of the whole split."""
    _, report = dist
    chosen = [p.name for p in demo_plan.packages if p.kind == "module"][:2]
    one = write_wheels(
        demo_plan,
        tmp_path / "some",
        version=VERSION,
        compression_level=1,
        source_date_epoch=EPOCH,
        packages=chosen,
    )
    assert sorted(w.package for w in one.written) == sorted(chosen)
    assert len(list((tmp_path / "some").iterdir())) == 2
    by_package = {w.package: w.path for w in report.written}
    for w in one.written:
        assert w.path.read_bytes() == by_package[w.package].read_bytes(), w.package
    with pytest.raises(QpackError, match="no such package in the plan: nope"):
        write_wheels(demo_plan, tmp_path / "none", version=VERSION, packages=["nope"])
    assert not (tmp_path / "none").exists()


ABSOLUTE = ('[[loader.search]]\nrelocated = "lib/demo"\n', '[[loader.search]]\nabsolute = "/usr/lib/demo"\n')


CORE_NFS = ('rest = true\nsummary = "The demo', 'rest = true\nmodules = ["block-nfs"]\nsummary = "The demo')


def demo_layout(path: Path, *replacements: tuple[str, str]) -> Path:
    """The shipped demo layout with each (old, new) text replaced, written to `path`."""
    text = (Path(__file__).parent.parent / "qpack/layouts/demo.toml").read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    return path


def wheel_metadata(dist: Path, stem: str) -> str:
    """The METADATA of the one wheel `<stem>-*.whl` in `dist` (version 1, as these tests split)."""
    (wheel,) = dist.glob(f"{stem}-*.whl")
    with zipfile.ZipFile(wheel) as z:
        return z.read(f"{stem}-1.dist-info/METADATA").decode()


def test_a_module_under_an_absolute_location_is_refused_naming_that_location(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Xorg's and Lua's testers: the refusal named the module's own subdirectory
    (/usr/lib/xorg/modules/drivers) as where the loader looks, not the search location, and
    said nothing of the variable the layout also searches."""
    from qpack.cli import main

    layout = demo_layout(tmp_path / "absolute.toml", ABSOLUTE)
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert (
        "module 'audio-alsa' (usr/lib/demo/audio/alsa.so): the loader looks for it only in the absolute "
        "/usr/lib/demo (and where $DEMO_MODULE_DIR points, which the wheel does not set: an env "
        "location's `wheels` key names the directory it is to point to), which no install prefix "
        "moves; a wheel cannot place it"
    ) in err
    # And what serves such a loader (a libvisual and a BIND tester were not told).
    assert err.rstrip().endswith("only in distro packages: split with --format tree"), err
    # A relocated location too, which does not hold it (a libvips tester's
    # {prefix}/x86_64-linux-gnu/vips-modules-8.14 for lib/x86_64-linux-gnu/...): named as well.
    absolute = '[[loader.search]]\nabsolute = "/usr/lib/demo"\n'
    relocated = (absolute, absolute + '[[loader.search]]\nrelocated = "demo"\n')
    layout = demo_layout(tmp_path / "relocated.toml", ABSOLUTE, relocated)
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w2")]) == 2
    assert (
        "which no install prefix moves, and in {prefix}/demo, which is not where the build has it; a wheel "
        "cannot place it"
    ) in capsys.readouterr().err
    # A location with `{pkgversion}` (a kernel tester's /lib/modules/{pkgversion}): every module
    # was "reached through a symlinked search directory of the build", and none was.
    build = copy_build(demo_build, tmp_path / "versioned")
    (build / "usr/lib/demo").rename(build / "usr/lib/demo-2.1")
    versioned = (
        '[[loader.search]]\nrelocated = "lib/demo"\n',
        '[[loader.search]]\nabsolute = "/usr/lib/demo-{pkgversion}"\n',
    )
    layout = demo_layout(tmp_path / "versioned.toml", versioned)
    args = ["split", str(build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w3")]) == 2
    err = capsys.readouterr().err
    assert "symlinked" not in err, err
    assert (
        "module 'audio-alsa' (usr/lib/demo-2.1/audio/alsa.so): the loader looks for it only in the absolute "
        "/usr/lib/demo-2.1 (and where $DEMO_MODULE_DIR points"
    ) in err, err


def test_modules_behind_a_symlinked_search_directory_are_split_into_trees_not_wheels(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """nginx searches share/nginx/modules, a symlink in Debian's tree to ../../lib/nginx/modules.
    The plan now finds the modules through it, as check does; trees keep the link, but a wheel
    holds no symlinks: from one the modules would be where the loader does not look, and the
    split says so rather than passing."""
    from qpack.cli import main

    build = tmp_path / "build"
    shutil.copytree(demo_build, build, symlinks=True)
    (build / "usr/lib/demo").rename(build / "usr/lib/demo-real")
    (build / "usr/lib/demo").symlink_to("demo-real")
    args = ["split", str(build), "-l", "demo", "--version", "1"]
    assert main([*args, "--format", "tree", "-o", str(tmp_path / "t")]) == 0
    capsys.readouterr()
    install = (tmp_path / "t/debian/demo-ui-gtk.install").read_text()
    assert "usr/lib/demo-real/ui/gtk.so" in install
    assert main([*args, "--format", "wheel", "-o", str(tmp_path / "w")]) == 2
    assert (
        "module 'audio-alsa' (usr/lib/demo-real/audio/alsa.so): the loader reaches it through a "
        "symlinked search directory of the build; a wheel holds no symlinks"
    ) in capsys.readouterr().err
    assert not (tmp_path / "w").exists()
    # A loader of absolute directories only (nginx's /usr/share/nginx/modules): that is the
    # reason no wheel can place the module, symlink or not (an nginx tester was told of the link).
    absolute = demo_layout(tmp_path / "absolute.toml", ABSOLUTE)
    args = ["split", str(build), "-l", str(absolute), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert (
        "module 'audio-alsa' (usr/lib/demo-real/audio/alsa.so, reached through a symlinked search "
        "directory of the build): the loader looks for it only in the absolute /usr/lib/demo, "
        "/var/run/demo/{pkgversion} (and where $DEMO_MODULE_DIR points"
    ) in err
    assert "holds no symlinks" not in err


def test_a_modules_recommendations_are_an_extra_of_its_wheel_and_in_the_manifest(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[modules.recommends] (fcitx5's OptionalDependencies, FreeRADIUS's sqlcounter -> sql):
    pip installs no recommendation by default, so a module wheel offers them as its
    `recommended` extra; the trees' manifest lists them for Debian's and RPM's Recommends."""
    from qpack.cli import main

    layout = demo_layout(
        tmp_path / "rec.toml",
        (
            "[modules.dependencies]",
            '[modules.recommends]\n"ui-curses" = ["audio-pa"]\n[modules.dependencies]',
        ),
    )
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1"]
    assert main([*args, "--format", "wheel", "-o", str(tmp_path / "w")]) == 0
    metadata = wheel_metadata(tmp_path / "w", "demo_ui_curses")
    assert "Provides-Extra: recommended\n" in metadata
    assert 'Requires-Dist: demo-audio-pa==1; extra == "recommended"\n' in metadata
    assert main([*args, "--format", "tree", "-o", str(tmp_path / "t")]) == 0
    capsys.readouterr()
    manifest = json.loads((tmp_path / "t/manifest.json").read_text())
    (entry,) = [p for p in manifest["packages"] if p["name"] == "demo-ui-curses"]
    # The fields of a requirement (a Remmina re-tester found `relation` and `version` missing).
    assert entry["recommends"] == [
        {"package": "demo-audio-pa", "relation": "=", "version": "1", "debian": "demo-audio-pa (= 1)"}
    ]


def test_plug_ins_without_their_program_are_refused_as_wheels_unless_a_variable_reaches_them(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Audacious tester split audacious-plugins alone: the host program is another source
    package's, so no program of the layout was in the build, nothing checked where the wheels
    put the plug-ins, and the split passed; installed, the system's audacious never looked
    there. Refused as for an absolute location, unless a variable's `wheels` reaches them."""
    from qpack.cli import main

    build = tmp_path / "build"
    shutil.copytree(demo_build, build, symlinks=True)
    for exe in (build / "usr/bin").iterdir():
        exe.unlink()
    args = ["split", str(build), "--version", "1", "--format", "wheel"]
    assert main([*args, "-l", "demo", "-o", str(tmp_path / "w")]) == 2
    assert (
        "module 'audio-alsa': no program of the layout is in the build, so the one that loads it is "
        "installed elsewhere and looks in its configured /usr/lib/demo, never where a wheel installs it"
    ) in capsys.readouterr().err
    reached = demo_layout(
        tmp_path / "env.toml", ('env = "DEMO_MODULE_DIR"\n', 'env = "DEMO_MODULE_DIR"\nwheels = "lib/demo"\n')
    )
    assert main([*args, "-l", str(reached), "-o", str(tmp_path / "v")]) == 0
    capsys.readouterr()
    # A `wheels` naming another directory than the modules' is said so, not told to add the key
    # it has (a Geany tester's XDG_CONFIG_HOME with `under`).
    elsewhere = ('env = "DEMO_MODULE_DIR"\n', 'env = "DEMO_MODULE_DIR"\nwheels = "lib/demo-plugins"\n')
    assert (
        main([*args, "-l", str(demo_layout(tmp_path / "x.toml", elsewhere)), "-o", str(tmp_path / "x")]) == 2
    )
    # A type's own `wheels` is the one its modules are judged by (an Octave tester's types were
    # told of the env location's directory).
    own = tmp_path / "own.toml"
    own.write_text(
        demo_layout(tmp_path / "y.toml", elsewhere).read_text()
        + '[loader.by-type.ui]\nenv = "DEMO_UI"\nwheels = "lib/demo-ui"\n'
    )
    ui_only = tmp_path / "ui-only"
    shutil.copytree(build, ui_only, symlinks=True)
    for t in ("audio", "block"):
        shutil.rmtree(ui_only / "usr/lib/demo" / t)
    only = ["split", str(ui_only), "--version", "1", "--format", "wheel"]
    assert main([*only, "-l", str(own), "-o", str(tmp_path / "y")]) == 2
    said = "error: layout 'demo': module 'ui-curses': installed as <prefix>/lib/demo/ui/curses.so, not in "
    assert f"{said}$DEMO_UI's" in capsys.readouterr().err
    assert (
        main([*args, "-l", str(demo_layout(tmp_path / "x.toml", elsewhere)), "-o", str(tmp_path / "x2")]) == 2
    )
    assert (
        "module 'audio-alsa': installed as <prefix>/lib/demo/audio/alsa.so, not in $DEMO_MODULE_DIR's "
        "`wheels` directory <prefix>/lib/demo-plugins: `wheels` (with `under`) must name where the "
        "build's modules are, relative to the prefix (lib/demo)"
    ) in capsys.readouterr().err


def test_a_program_above_the_bindir_is_refused_naming_bindir(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A strongSwan tester's layout had bindir = "lib/ipsec" and programs in sbin/: the split
    was refused because "the layout says the build does not relocate", which it never said.
    The program is less deep than the bindir, so no prefix is above it: bindir is named."""
    from qpack.cli import main

    layout = demo_layout(
        tmp_path / "deep.toml", ('prefix = "/usr"\n', 'prefix = "/usr"\nbindir = "lib/demo/bin"\n')
    )
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert (
        "usr/bin/demo installed as <prefix>/bin/demo would look only in /usr/lib/demo (it is found "
        "from the program's directory, taken as the layout's bindir 'lib/demo/bin', and bin/demo is "
        "not that deep below the prefix: [loader] bindir must name the programs' directory; an env "
        "location's `wheels` key ($DEMO_MODULE_DIR) names where the wheels put modules)"
    ) in err, err
    assert "does not relocate" not in err
    assert not (tmp_path / "a").exists()


def test_a_location_inside_another_places_modules_by_the_one_they_fit(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Tcl tester's search list has /usr/lib and /usr/lib/tcltk/x86_64-linux-gnu: the split
    took each module as lib's (the first location above it) and refused it, "would look only in
    /usr/lib", though TCLLIBPATH's `wheels` named where the modules are. The location whose
    naming the file fits is its own, as the plan decides."""
    from qpack.cli import main

    env = 'env = "DEMO_MODULE_DIR"\n'
    layout = demo_layout(
        tmp_path / "nested.toml",
        ('prefix = "/usr"\n', 'prefix = "/usr"\nrelocatable = false\n'),
        (env, f'{env}wheels = "lib/demo"\n[[loader.search]]\nrelocated = "lib"\n'),
    )
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "a")]) == 0, capsys.readouterr().err


def test_a_location_anchored_to_a_library_no_wheel_holds_is_refused_saying_so(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A GStreamer tester: plugins-base's modules are found from libgstreamer-1.0, which another
    source package builds. The refusal said "the layout says the build does not relocate",
    which the layout never said; it names the anchor no wheel holds."""
    from qpack.cli import main

    args = ["split", str(demo_build), "--version", "1", "--format", "wheel"]
    ours = ('relocated = "lib/demo"\n', 'relocated = "lib/demo"\nanchor = "lib/libdemo-util.so.1"\n')
    assert main([*args, "-l", str(demo_layout(tmp_path / "ours.toml", ours)), "-o", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    other = ('relocated = "lib/demo"\n', 'relocated = "lib/demo"\nanchor = "lib/libdemo-elsewhere.so.1"\n')
    layout = demo_layout(tmp_path / "other.toml", other)
    assert main([*args, "-l", str(layout), "-o", str(tmp_path / "b")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert (
        "would look only in /usr/lib/demo (it is found from where /usr/lib/libdemo-elsewhere.so.1 is, "
        "and no wheel of this split holds that library: the program loads another package's, at its "
        "configured path; an env location's `wheels` key ($DEMO_MODULE_DIR) names where the wheels "
        "put modules), never where a wheel installs it (and 6 more)"
    ) in line, line
    assert "does not relocate" not in line
    assert not (tmp_path / "b").exists()
    # A variable that replaces the rest is named only when no other is there (a GStreamer
    # tester: GST_PLUGIN_SYSTEM_PATH, offered beside GST_PLUGIN_PATH, hides the system's plugins).
    system = (
        'env = "DEMO_MODULE_DIR"\n',
        'env = "DEMO_SYSTEM_DIR"\nreplaces = true\n[[loader.search]]\nenv = "DEMO_MODULE_DIR"\n',
    )
    layout = demo_layout(tmp_path / "system.toml", other, system)
    assert main([*args, "-l", str(layout), "-o", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "`wheels` key ($DEMO_MODULE_DIR) names" in err, err
    # A build that does not relocate: the same way out is named (a GEGL tester's refusal said only
    # "does not relocate", where `wheels` on the GEGL_PATH location was the fix).
    fixed = ('prefix = "/usr"\n', 'prefix = "/usr"\nrelocatable = false\n')
    assert (
        main([*args, "-l", str(demo_layout(tmp_path / "fixed.toml", fixed)), "-o", str(tmp_path / "d")]) == 2
    )
    err = capsys.readouterr().err
    assert (
        "(the layout says the build does not relocate and names no bundle directory; an env location's "
        "`wheels` key ($DEMO_MODULE_DIR) names where the wheels put modules)"
    ) in err
    assert "module 'audio-alsa': usr/bin/demo installed as" in err
    # The program named is one that loads the module: an FRR tester's refusal named babeld,
    # whose program-types ask for no module.
    registry = (
        'executables = ["{prefix}/bin/demo"]',
        'executables = ["{prefix}/bin/demo-registry", "{prefix}/bin/demo"]',
    )
    types = ('types = ["ui", "block", "audio"]\n', 'types = ["ui", "block", "audio"]\n'
             '[loader.program-types]\n"{prefix}/bin/demo" = []\n')  # fmt: skip
    typed = demo_layout(tmp_path / "typed.toml", fixed, registry, types)
    assert main([*args, "-l", str(typed), "-o", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err
    assert "module 'audio-alsa': usr/bin/demo-registry installed as" in err
    assert "usr/bin/demo installed as" not in err


def test_the_split_summary_says_how_a_loader_that_never_relocates_finds_the_wheels_modules(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Grilo tester: the summary said "where the loader looks from there" of a loader that
    never relocates, which only GRL_PLUGIN_PATH leads to the wheels' modules."""
    from qpack.cli import main

    def placed(layout: str, out: str) -> list[str]:
        args = ["split", str(demo_build), "-l", layout, "--version", "1", "--format", "wheel"]
        assert main([*args, "-o", str(tmp_path / out)]) == 0
        said = capsys.readouterr()
        return [line for line in (said.out + said.err).splitlines() if "placed for the loader" in line]

    assert placed("demo", "w") == [
        "placed for the loader: relative to the install prefix, where the loader looks from there "
        "(or a variable names)"
    ]
    fixed = demo_layout(
        tmp_path / "fixed.toml",
        ('prefix = "/usr"\n', 'prefix = "/usr"\nrelocatable = false\n'),
        ('env = "DEMO_MODULE_DIR"\n', 'env = "DEMO_MODULE_DIR"\nwheels = "lib/demo"\n'),
    )
    assert placed(str(fixed), "f") == [
        "placed for the loader: relative to the install prefix; the loader does not relocate: "
        "$DEMO_MODULE_DIR leads it there"
    ]
    # Two variables each to a directory of their own: both are set (an R tester's R_LIBS and
    # R_LIBS_SITE, each reaching half the packages, were "or").
    types = "".join(
        f'[loader.by-type.{t}]\nenv = "DEMO_{t.upper()}"\nwheels = "lib/demo/{t}"\n' for t in ("ui", "block")
    )
    each = tmp_path / "each.toml"
    each.write_text(fixed.read_text() + types)
    assert placed(str(each), "e") == [
        "placed for the loader: relative to the install prefix; the loader does not relocate: "
        "$DEMO_MODULE_DIR and $DEMO_UI and $DEMO_BLOCK lead them there, each to its own directory"
    ]


def test_elf_files_of_no_machine_do_not_decide_the_wheel_tag(demo_build: Path, tmp_path: Path) -> None:
    """A Guile tester's compiled Scheme (ccache/*.go) are ELF files of machine EM_NONE: every
    wheel split of Guile stopped, "no wheel platform tag for the ELF machine of ...go (EM_NONE)".
    They are no host code; the build's programs give the tag."""
    build = copy_build(demo_build, tmp_path / "build")
    go = build / "usr/lib/demo-ccache/and-let-star.go"
    go.parent.mkdir()
    data = bytearray((build / "usr/lib/demo/ui/curses.so").read_bytes())
    data[18:20] = b"\x00\x00"  # e_machine: EM_NONE
    go.write_bytes(bytes(data))
    plan = plan_build(build, "demo")
    assert next(e for e in plan.inventory.entries if e.path.endswith(".go")).elf.machine == "EM_NONE"
    report = write_wheels(plan, tmp_path / "w", version="1")
    assert all(w.path.name.endswith("-py3-none-linux_x86_64.whl") for w in report.written)


def test_a_module_whose_file_is_a_dangling_link_fails_the_wheel_split(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Gnumeric tester's plugins/sc/sc.so -> ../dif/missing.so: the split wrote the plug-in's
    wheel with its plugin.xml alone, and installed, the module was "not found". A module's file
    that a wheel cannot hold fails the split; the tree output keeps the link, as a .deb may."""
    from qpack.cli import main

    build = copy_build(demo_build, tmp_path / "build")
    nfs = build / "usr/lib/demo/block/nfs.so"
    nfs.unlink()
    nfs.symlink_to("../nope/missing.so")
    (build / "usr/share/demo/nfs.conf").write_text("the module's own file\n")
    layout = demo_layout(
        tmp_path / "own.toml",
        (
            "[modules.dependencies]",
            '[modules.files]\n"block-nfs" = ["{prefix}/share/demo/nfs.conf"]\n[modules.dependencies]',
        ),
    )
    args = ["split", str(build), "-l", str(layout), "--version", "1"]
    assert main([*args, "--format", "wheel", "-o", str(tmp_path / "w")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: usr/lib/demo/block/nfs.so: the module's file is a symlink that points to "
        "'usr/lib/demo/nope/missing.so', which is not in this build: demo-block-nfs would hold no "
        "module (fix the link, or leave the module out with an [[exclude]] `modules` entry)"
    )
    assert not (tmp_path / "w").exists()
    assert main([*args, "--format", "tree", "-o", str(tmp_path / "t")]) == 0
    assert os.readlink(tmp_path / "t/demo-block-nfs/usr/lib/demo/block/nfs.so") == "../nope/missing.so"


def test_a_helper_run_from_an_absolute_directory_is_refused_in_a_wheel(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PulseAudio tester: gsettings-helper, run from /usr/libexec/pulse, went into a wheel at
    <prefix>/libexec/pulse with no word, and the module needing it failed in the real daemon.
    A helper under an absolute directory fails the split, as a module there does."""
    from qpack.cli import main

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path / "versioned")
    helper = build / "usr/libexec/demo/demo-helper"
    helper.parent.mkdir(parents=True)
    helper.write_text("#!/bin/sh\n")
    helper.chmod(0o755)
    helpers = ('[loader.stamp]', '[[loader.helpers]]\nname = "demo-helper"\nabsolute = "/usr/libexec/demo"\n'
               'env = "DEMO_HELPER"\n\n[loader.stamp]')  # fmt: skip
    layout = demo_layout(tmp_path / "helper.toml", helpers)
    args = ["split", str(build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        "error: layout 'demo': helper 'demo-helper': installed as <prefix>/libexec/demo/demo-helper, but "
        "the loader runs it only from /usr/libexec/demo/demo-helper (or the path $DEMO_HELPER names, "
        "which the wheel does not set), which no install prefix moves; a wheel cannot place it"
    )
    assert not (tmp_path / "w").exists()
    # Nothing on stdout: the table of files left out (--unclaimed drop) is shown only once the
    # split went ahead (a libproxy tester read a table before this refusal).
    files = 'files = ["{prefix}/bin/**", "{prefix}/lib/*.so*", "{prefix}/libexec/**"]\n'
    no_rest = demo_layout(tmp_path / "drop.toml", helpers, ("rest = true\n", files))  # share/ unclaimed
    drop = [*args[:3], str(no_rest), *args[4:], "--unclaimed", "drop"]
    assert main([*drop, "-o", str(tmp_path / "w")]) == 2
    refused = capsys.readouterr()
    assert "a wheel cannot place it" in refused.err and refused.out == "", refused
    # With a file outside the prefix too, both refusals at once (a Xfce tester passed
    # --drop-outside-prefix as told, to be told next that no flag would do).
    (build / "etc").mkdir()
    (build / "etc/demo.conf").write_text("x\n")
    assert main([*args, "-o", str(tmp_path / "w")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[1] for line in lines] == [
        " 1 file(s) outside the prefix /usr cannot go into a wheel",
        " layout 'demo'",
    ]
    # The distro outputs keep it where it is: a tree split has nothing to refuse.
    assert main([*args[:-1], "tree", "-o", str(tmp_path / "t")]) == 0


def test_a_script_running_the_program_by_its_absolute_path_is_said(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A VLC tester: cvlc is `exec /usr/bin/vlc -I dummy "$@"`; from a venv it failed (exit 127)
    or would have run the system's vlc, and the split said nothing."""
    from qpack.cli import main

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path / "versioned")
    scripts = {
        "demo-curses": '#!/bin/sh\nexec /usr/bin/demo ui-curses "$@"\n',
        "demo-any": '#!/bin/sh\nexec demo "$@"  # found on PATH, the venv\'s\n',
        "demo-reg": "#!/bin/sh\nexec /usr/bin/demo-registry\n",
        # A syslog-ng tester: update-patterndb is autoconf's, `${bindir}/pdbtool` after prefix=/usr.
        "demo-pdb": (
            "#!/bin/sh\nprefix=/usr\nexec_prefix=${prefix}\nbindir=${exec_prefix}/bin\n"
            '${bindir}/demo -u "$@"\n'
        ),
        "demo-path": '#!/bin/sh\nprefix="/usr"\nexec demo "$@"\n',  # the venv's, through PATH
        # A NUT tester's sbin/upsd, `exec /lib/nut/upsd`: a program of the build outside bin/.
        "demo-daemon": "#!/bin/sh\nexec /usr/libexec/demo/demod\n",
    }
    for name, text in scripts.items():
        (build / "usr/bin" / name).write_text(text)
        (build / "usr/bin" / name).chmod(0o755)
    (build / "usr/libexec/demo").mkdir(parents=True)
    shutil.copy2(build / "usr/bin/demo", build / "usr/libexec/demo/demod")
    args = ["split", str(build), "-l", "demo", "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "by its absolute path" in line or "configured" in line]
    assert said == [
        "warning: usr/bin/demo-curses (in demo-core): a script that runs /usr/bin/demo by its absolute "
        "path: installed from a wheel, it runs the system's program (or none), not the wheel's",
        "warning: usr/bin/demo-daemon (in demo-core): a script that runs /usr/libexec/demo/demod by its "
        "absolute path: installed from a wheel, it runs the system's program (or none), not the wheel's",
        "warning: usr/bin/demo-pdb (in demo-core): a script that runs demo from the build's configured "
        "prefix=/usr: installed from a wheel, it runs the system's program (or none), not the wheel's",
        "warning: usr/bin/demo-reg (in demo-core): a script that runs /usr/bin/demo-registry by its "
        "absolute path: installed from a wheel, it runs the system's program (or none), not the wheel's",
    ], err
    # With the loader's bindir elsewhere, bin/ goes through data/: read all the same (a syslog-ng
    # re-tester's bindir was sbin, and update-patterndb in bin/ was never read).
    sbin = demo_layout(tmp_path / "sbin.toml", ('prefix = "/usr"\n', 'prefix = "/usr"\nbindir = "sbin"\n'))
    assert main([*args[:3], str(sbin), *args[4:], "-o", str(tmp_path / "w2")]) == 0
    again = [line for line in capsys.readouterr().err.splitlines() if "a script that runs" in line]
    assert again == said, again


def test_a_module_file_naming_its_code_by_absolute_path_is_said(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Vulkan tester: the lavapipe driver's manifest `icd.d/lvp_icd.x86_64.json`, in the
    driver's package, gives `"library_path": "/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so"`; the
    loader reading it from a venv opened the system's copy, never the wheel's, and the split
    said the module was placed for the loader."""
    from qpack.cli import main

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path / "versioned")
    share = build / "usr/share/demo"
    share.mkdir(parents=True, exist_ok=True)
    (share / "curl.json").write_text('{"library_path": "/usr/lib/demo/block/curl.so"}\n')
    # A longer path beginning with a module's is not it; a relative one is the wheel's own.
    (share / "nfs.json").write_text('{"a": "/usr/lib/demo/block/nfs.so.old", "b": "lib/demo/block/nfs.so"}\n')
    # A script is code as well (an IBus tester's anthy.xml naming its shell-script engine); a
    # file without the execute bit, or no `#!`, is not.
    libexec = build / "usr/libexec/demo"
    libexec.mkdir(parents=True)
    (libexec / "nfs-engine").write_text("#!/bin/sh\nexec true\n")
    (libexec / "nfs-engine").chmod(0o755)
    (libexec / "curl-engine").write_text("#!/bin/sh\nexec true\n")
    (libexec / "curl-engine").chmod(0o644)
    (share / "nfs.xml").write_text(
        "<component><exec>/usr/libexec/demo/nfs-engine --ibus</exec></component>\n"
    )
    (share / "curl.xml").write_text("<component><exec>/usr/libexec/demo/curl-engine</exec></component>\n")
    files = (
        '[modules.files]\n"block-*" = ["{prefix}/share/demo/{name}.json", "{prefix}/share/demo/{name}.xml", '
        '"{prefix}/libexec/demo/{name}-engine"]\n\n[modules.dependencies]'
    )
    layout = demo_layout(tmp_path / "files.toml", ("[modules.dependencies]", files))
    args = ["split", str(build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "by its absolute path" in line] == [
        "warning: usr/share/demo/curl.json (in demo-block-curl): names /usr/lib/demo/block/curl.so by "
        "its absolute path: installed from a wheel, it leads the loader to the system's copy (or none), "
        "not the wheel's",
        "warning: usr/share/demo/nfs.xml (in demo-block-nfs): names /usr/libexec/demo/nfs-engine by "
        "its absolute path: installed from a wheel, it leads the loader to the system's copy (or none), "
        "not the wheel's",
    ], err
    # And "placed for the loader" says it is not so for those (a Vulkan re-tester).
    placed = [line for line in err.splitlines() if "placed for the loader" in line]
    assert placed and placed[0].endswith("; but 2 module package file(s) name code by absolute path (above)")


def test_a_file_installed_under_a_name_the_venv_holds_is_said(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CPython tester's core wheel carried bin/python3.11: `pip install` replaced the venv's
    interpreter link with it, and the venv then ran as a relocated /usr."""
    from qpack.cli import main

    from .conftest import copy_build

    build = copy_build(demo_build, tmp_path / "versioned")
    for name in ("python3", "pip", "pythonista"):
        shutil.copy2(build / "usr/bin/demo", build / "usr/bin" / name)
    args = ["split", str(build), "-l", "demo", "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "a name the venv holds" in line]
    assert said == [
        f"warning: usr/bin/{name} (in demo-core): installed as <venv>/bin/{name}, a name the venv holds of "
        "its own: pip install replaces the venv's file with it"
        for name in ("pip", "python3")
    ], said


def test_alternatives_a_wheel_cannot_carry_are_said(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`requires = ["a | b"]` keeps both in the distro lists; Requires-Dist has no "or", so a
    wheel requires `a` alone, and the split says so (a WeeChat tester's plugins pulled in
    weechat-curses beside an installed weechat-headless, unsaid)."""
    from qpack.cli import main

    requires = ('name = "demo-{module}"\n', 'name = "demo-{module}"\nrequires = ["demo-core | demo-lite"]\n')
    layout = demo_layout(tmp_path / "alt.toml", requires)
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 0
    err = capsys.readouterr().err
    said = (
        "package 'demo-ui-gtk' requires demo-core | demo-lite: its wheel requires demo-core alone "
        "(wheel metadata has no alternatives; the tree output's manifest keeps them)"
    )
    assert said in err, err


def test_many_files_left_out_of_the_wheels_are_said_in_one_line(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Apache tester's --drop-outside-prefix printed 168 warning lines, one per file of etc/
    and var/, burying the one warning that mattered. Past ten files, one line by directory."""
    from qpack.cli import main

    build = tmp_path / "build"
    shutil.copytree(demo_build, build, symlinks=True)
    (build / "etc/demo").mkdir(parents=True)
    for i in range(12):
        (build / f"etc/demo/{i}.conf").write_text("x\n")
    (build / "var/lib/demo").mkdir(parents=True)
    (build / "var/lib/demo/state").write_text("x\n")
    args = ["split", str(build), "-l", "demo", "--version", "1", "--format", "wheel", "--drop-outside-prefix"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "left out of the wheels" in line]
    assert said == [
        "warning: 13 files outside the prefix /usr, left out of the wheels (--drop-outside-prefix): "
        "etc/ (12), var/ (1); --json lists them"
    ]


def test_wheels_for_a_variable_that_names_install_prefixes(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """evolution-data-server's EDS_EXTRA_PREFIXES names install prefixes and searches
    lib/evolution-data-server under each: `wheels = "."` (the prefix itself, with `under`)
    passed the layout and then ended the plan in a GlobError traceback."""
    from qpack.cli import main

    prefixes = ('env = "DEMO_MODULE_DIR"\n', 'env = "DEMO_MODULE_DIR"\nunder = "lib/demo"\nwheels = "."\n')
    layout = demo_layout(tmp_path / "prefixes.toml", ABSOLUTE, prefixes)
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 0
    capsys.readouterr()
    assert "set DEMO_MODULE_DIR=<prefix>:" in wheel_metadata(tmp_path / "w", "demo_ui_curses")
    prefix = tmp_path / "venv"
    assert (
        main(
            [
                "install",
                str(tmp_path / "w"),
                "-l",
                str(layout),
                "--prefix",
                str(prefix),
                "ui-curses",
                "--json",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert f"set DEMO_MODULE_DIR={prefix} where the program runs" in err, err
    assert {m["module"]: m["loads"] for m in json.loads(out)["check"]} == {"ui-curses": True}
    # Refused in one line, no traceback: '.' without `under` (modules at the top of the prefix),
    # another '.' segment, and an empty one (a re-tester's lib//x ended in a GlobError).
    env = 'env = "DEMO_MODULE_DIR"\n'
    refusals = [
        ((env, env + 'wheels = "."\n'), "wheels: '.' (the prefix itself) needs `under`"),
        (
            (env, env + 'wheels = "lib/./demo"\n'),
            "without '.' only with `under`, '..' or '//', got 'lib/./demo'",
        ),
        (
            ('wheels = "."', 'wheels = "lib//demo"'),
            "without '.' only with `under`, '..' or '//', got 'lib//demo'",
        ),
        (('under = "lib/demo"', 'under = "lib//demo"'), "without '.', '..' or '//', got 'lib//demo'"),
    ]
    for i, (edit, said) in enumerate(refusals):
        base = (ABSOLUTE,) if i < 2 else (ABSOLUTE, prefixes)
        refused = demo_layout(tmp_path / f"refused{i}.toml", *base, edit)
        assert main([*args[:3], str(refused), *args[4:], "-o", str(tmp_path / "x")]) == 2
        assert said in capsys.readouterr().err, said
    relocated = demo_layout(tmp_path / "rel.toml", ('relocated = "lib/demo"', 'relocated = "lib//demo"'))
    assert main([*args[:3], str(relocated), *args[4:], "-o", str(tmp_path / "z")]) == 2
    assert (
        "relocated: must be a directory relative to the prefix, without '.', '..' or '//'"
        in capsys.readouterr().err
    )
    # No wildcards (a Krita re-tester's lib/*/kritaplugins: plan matched it, check did not).
    starred = demo_layout(tmp_path / "star.toml", ('relocated = "lib/demo"', 'relocated = "lib/*/demo"'))
    assert main([*args[:3], str(starred), *args[4:], "-o", str(tmp_path / "s")]) == 2
    assert "relocated: 'lib/*/demo': no wildcards: a location is one directory" in capsys.readouterr().err


def test_wheels_for_types_found_only_through_their_own_variables(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ImageMagick tester: coders are found through MAGICK_CODER_MODULE_PATH, filters through
    MAGICK_CODER_FILTER_PATH, each replacing its type's built-in absolute directory; `wheels`
    was refused on `[loader.by-type.T]`, so no wheel could be made. A type's own variable takes
    `wheels` as an env location does: the split places the modules, install says what to set
    and checks as if set, check finds them where the variable points."""
    from qpack.cli import main

    own = "".join(
        f'[loader.by-type.{t}]\nenv = "DEMO_{t.upper()}_DIR"\nwheels = "lib/demo/{t}"\n'
        for t in ("ui", "block", "audio")
    )
    layout = demo_layout(tmp_path / "own.toml", ABSOLUTE, ("[loader.stamp]", own + "[loader.stamp]"))
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    dist = tmp_path / "w"
    assert main([*args, "-o", str(dist)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    metadata = wheel_metadata(dist, "demo_ui_curses")
    assert "set DEMO_UI_DIR=<prefix>/lib/demo/ui" in metadata, metadata
    assert "DEMO_BLOCK_DIR" not in metadata  # another type's variable (an ImageMagick tester)
    meta = wheel_metadata(dist, "demo")
    assert all(f"set DEMO_{t}_DIR=" in meta for t in ("UI", "BLOCK", "AUDIO")), meta  # extras: any
    # Beside an env location with `wheels`, serving the types without a variable of their own:
    # a ui wheel names DEMO_UI_DIR alone, since once it is set the loader reads nothing else for
    # ui (a PipeWire tester's module wheels also asked for SPA_PLUGIN_DIR); a block wheel names
    # the env location's; the meta wheel both.
    ui_own = '[loader.by-type.ui]\nenv = "DEMO_UI_DIR"\nwheels = "lib/demo/ui"\n'
    mixed = demo_layout(
        tmp_path / "mixed.toml",
        ABSOLUTE,
        ('env = "DEMO_MODULE_DIR"\n', 'env = "DEMO_MODULE_DIR"\nwheels = "lib/demo"\n'),
        ("[loader.stamp]", ui_own + "[loader.stamp]"),
    )
    assert main([*args[:3], str(mixed), *args[4:], "-o", str(tmp_path / "m")]) == 0, capsys.readouterr().err
    capsys.readouterr()
    said = {
        stem: sorted(
            v
            for v in ("DEMO_UI_DIR", "DEMO_MODULE_DIR")
            if f"set {v}=" in wheel_metadata(tmp_path / "m", stem)
        )
        for stem in ("demo_ui_curses", "demo_block_curl", "demo")
    }
    assert said == {
        "demo_ui_curses": ["DEMO_UI_DIR"],
        "demo_block_curl": ["DEMO_MODULE_DIR"],
        "demo": ["DEMO_MODULE_DIR", "DEMO_UI_DIR"],
    }, said
    prefix = tmp_path / "venv"
    install = ["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "--json"]
    assert main([*install, "ui-curses", "block-curl"]) == 0
    out, err = capsys.readouterr()
    assert f"set DEMO_UI_DIR={prefix}/lib/demo/ui" in err and f"DEMO_BLOCK_DIR={prefix}/lib/demo/block" in err
    assert {m["module"]: m["loads"] for m in json.loads(out)["check"]} == {
        "ui-curses": True,
        "block-curl": True,
    }
    env = ["--env", f"DEMO_UI_DIR={prefix}/lib/demo/ui", "--env", f"DEMO_BLOCK_DIR={prefix}/lib/demo/block"]
    assert main(["check", str(prefix), "-l", str(layout), *env, "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    loads = {m["module"]: m["file"] for m in checked["modules"] if m["loads"]}
    # The types' variables point inside the prefix: no "the modules judged are this machine's".
    assert not [w for w in checked["warnings"] if "no directory the loader searches" in w]
    assert loads == {
        "ui-curses": f"{prefix}/lib/demo/ui/curses.so",
        "block-curl": f"{prefix}/lib/demo/block/curl.so",
    }
    assert main(["check", str(prefix), "-l", str(layout), "--json"]) == 1  # not set: not found
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert any(f"--env DEMO_UI_DIR={prefix}/lib/demo/ui" in w for w in warnings), warnings
    # Once the modules are gone, so is the directory: no variable to point at it (a GEGL tester).
    assert main(["uninstall", "--prefix", str(prefix), "-l", str(layout), "ui-curses", "block-curl"]) == 0
    capsys.readouterr()
    main(["check", str(prefix), "-l", str(layout), "--json"])
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert not [w for w in warnings if "--env DEMO_" in w], warnings
    # A `wheels` that is not where the type's modules are is refused, naming the variable.
    wrong = demo_layout(
        tmp_path / "wrong.toml",
        ABSOLUTE,
        ("[loader.stamp]", own.replace('"lib/demo/ui"', '"lib/ui"') + "[loader.stamp]"),
    )
    assert main([*args[:3], str(wrong), *args[4:], "-o", str(tmp_path / "x")]) == 2
    assert "not in $DEMO_UI_DIR's `wheels` directory <prefix>/lib/ui" in capsys.readouterr().err
    # The directory above the type's: the refusal names the one to give (a PipeWire tester's
    # SPA_PLUGIN_DIR names spa-0.2, above aec/: told to set the `wheels` it had set).
    above = demo_layout(
        tmp_path / "above.toml",
        ABSOLUTE,
        ("[loader.stamp]", own.replace('"lib/demo/ui"', '"lib/demo"') + "[loader.stamp]"),
    )
    assert main([*args[:3], str(above), *args[4:], "-o", str(tmp_path / "y")]) == 2
    assert (
        "not in $DEMO_UI_DIR's `wheels` directory <prefix>/lib/demo: a type's own variable names the "
        "directory its files are in, here lib/demo/ui, for `wheels`"
    ) in capsys.readouterr().err
    # `wheels` names where the type's variable points: without the variable it means nothing.
    bare = demo_layout(
        tmp_path / "bare.toml",
        ("[loader.stamp]", '[loader.by-type.ui]\nwheels = "lib/demo/ui"\n[loader.stamp]'),
    )
    assert main([*args[:3], str(bare), *args[4:], "-o", str(tmp_path / "y")]) == 2
    assert "loader.by-type.ui.wheels: needs `env`" in capsys.readouterr().err


def test_wheels_for_a_loader_that_finds_modules_only_through_a_variable(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LADSPA (LADSPA_PATH), WeeChat (WEECHAT_EXTRA_LIBDIR), rsyslog: a loader that never
    relocates, whose users point a variable at the modules. An env location's `wheels` names
    the directory, relative to the prefix, where wheels put them; install says what to set,
    and checks as if it were set; and the real program, run with it set, loads them there."""
    from qpack.cli import main

    # The variable in two locations (GIMP2_PLUGINDIR's plug-ins and modules): said once.
    twice = "[[loader.search]]\n".join(['env = "DEMO_MODULE_DIR"\nwheels = "lib/demo"\n'] * 2)
    layout = demo_layout(tmp_path / "env.toml", ABSOLUTE, ('env = "DEMO_MODULE_DIR"\n', twice))
    dist = tmp_path / "w"
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    # `wheels` must be where the build's modules are: the wheels do not move them.
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(layout.read_text().replace('wheels = "lib/demo"', 'wheels = "lib/plugins"'))
    assert main([*args[:3], str(wrong), *args[4:], "-o", str(tmp_path / "x")]) == 2
    assert (
        "module 'audio-alsa': installed as <prefix>/lib/demo/audio/alsa.so, not in $DEMO_MODULE_DIR's "
        "`wheels` directory <prefix>/lib/plugins: `wheels` (with `under`) must name where the build's "
        "modules are, relative to the prefix (lib/demo)"
    ) in capsys.readouterr().err
    assert main([*args, "-o", str(dist)]) == 0
    capsys.readouterr()
    # pip sets no variable: what to set is in the module wheels' description.
    metadata = wheel_metadata(dist, "demo_ui_curses")
    assert metadata.endswith(
        "\n\nOnce installed, set DEMO_MODULE_DIR=<prefix>/lib/demo: "
        "the program finds its modules only through it.\n"
    )
    # A wheel names only the variables that reach its own modules (a Guile tester's gnutls wheel
    # asked for LTDL_LIBRARY_PATH as well, which only the ssh wheel needs).
    block = copy_build(demo_build, tmp_path / "block-build")
    (block / "usr/lib/demo-block").mkdir()
    shutil.move(block / "usr/lib/demo/block", block / "usr/lib/demo-block/block")
    two = tmp_path / "two.toml"
    two.write_text(
        layout.read_text().replace(
            twice, f'{twice}[[loader.search]]\nenv = "DEMO_BLOCK_DIR"\nwheels = "lib/demo-block"\n'
        )
        + '[[loader.search]]\nabsolute = "/usr/lib/demo-block"\n'
    )
    assert (
        main(
            [
                "split",
                str(block),
                "-l",
                str(two),
                "--version",
                "1",
                "--format",
                "wheel",
                "-o",
                str(tmp_path / "t"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert [
        line for line in wheel_metadata(tmp_path / "t", "demo_ui_curses").splitlines() if "set" in line
    ] == [
        "Once installed, set DEMO_MODULE_DIR=<prefix>/lib/demo: the program finds its modules only "
        "through it."
    ]
    assert [
        line for line in wheel_metadata(tmp_path / "t", "demo_block_curl").splitlines() if "set" in line
    ] == [
        "Once installed, set DEMO_BLOCK_DIR=<prefix>/lib/demo-block: the program finds its modules only "
        "through it."
    ]
    # One absolute location inside another (a Guile tester's library directory before its
    # guile/3.0/extensions): the module is the one's whose naming it fits, which the wheels reach.
    nested = tmp_path / "nested.toml"
    nested.write_text(
        layout.read_text().replace(
            '[[loader.search]]\nabsolute = "/usr/lib/demo"\n',
            '[[loader.search]]\nabsolute = "/usr/lib"\n[[loader.search]]\nabsolute = "/usr/lib/demo"\n',
        )
    )
    assert '/usr/lib"' in nested.read_text()
    assert main([*args[:3], str(nested), *args[4:], "-o", str(tmp_path / "n")]) == 0, capsys.readouterr().err
    capsys.readouterr()
    # A core holding a module needs the variable too (rsyslog's lmnet): its description says so.
    core_too = demo_layout(tmp_path / "core.toml", ABSOLUTE, ('env = "DEMO_MODULE_DIR"\n', twice), CORE_NFS)
    assert main([*args[:3], str(core_too), *args[4:], "-o", str(tmp_path / "c")]) == 0
    capsys.readouterr()
    assert "set DEMO_MODULE_DIR=<prefix>/lib/demo" in wheel_metadata(tmp_path / "c", "demo_core")
    prefix = tmp_path / "venv"
    assert (
        main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-curses", "--json"]) == 0
    )
    out, err = capsys.readouterr()
    said = f"set DEMO_MODULE_DIR={prefix}/lib/demo where the program runs (checked as if set)"
    assert said in err, err
    verdicts = {m["module"]: m["loads"] for m in json.loads(out)["check"]}
    assert verdicts == {"ui-curses": True}
    curses = prefix / "lib/demo/ui/curses.so"
    assert curses.is_file()
    assert run_demo(prefix / "bin/demo", prefix / "lib/demo")[0]["ui-curses"] == str(curses)
    # Without the variable, check says where the loader looks instead.
    unset = main(["check", str(prefix), "-l", str(layout), "--json"])
    report = json.loads(capsys.readouterr().out)
    (row,) = [m for m in report["modules"] if m["module"] == "ui-curses"]
    assert unset == 1 and not row["loads"]
    assert any(
        w.endswith(f"for modules installed from wheels, --env DEMO_MODULE_DIR={prefix}/lib/demo")
        for w in report["warnings"]
    ), report["warnings"]
    assert row["problems"][0]["detail"].endswith(
        f"; the layout's way in for wheels: DEMO_MODULE_DIR={prefix}/lib/demo"
    ), row
    # list judges the prefix as install did: as if the variable were set, and says so.
    assert main(["list", "--prefix", str(prefix), "-l", str(layout), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert any(f"checked as if DEMO_MODULE_DIR={prefix}/lib/demo" in w for w in listed["warnings"])
    # Its modules uninstalled, the directory left holds none: nothing is to be set (a Nautilus and
    # a gedit tester were told to set XDG_DATA_DIRS for a share/ left with other files only).
    assert main(["uninstall", "--prefix", str(prefix), "ui-curses"]) == 0
    capsys.readouterr()
    (prefix / "lib/demo/ui").mkdir(parents=True, exist_ok=True)
    (prefix / "lib/demo/README").write_text("no module\n")
    assert main(["list", "--prefix", str(prefix), "-l", str(layout), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert not any("DEMO_MODULE_DIR" in w for w in listed["warnings"]), listed["warnings"]
    # Installed where the loader looks anyway (--prefix /usr in a root), nothing is to be set:
    # setting it would make the program find each module twice (a WeeChat tester).
    staged = ["install", str(dist), "-l", str(layout), "--root", str(tmp_path / "root"), "--prefix", "/usr"]
    assert main([*staged, "ui-curses", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "DEMO_MODULE_DIR" not in err, err
    assert {m["module"]: m["loads"] for m in json.loads(out)["check"]} == {"ui-curses": True}


def test_wheels_under_a_later_subdirectory_of_a_variable(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A GTK 4 tester: GTK_PATH's entries are searched at `4.0.0/linux`, `4.0.0`, `linux` and
    themselves; the build's modules are in `4.0.0/<type>`, and the split refused them as where
    no variable reaches, looking only at the first of `under`. Any of them will do."""
    from qpack.cli import main

    later = (
        'env = "DEMO_MODULE_DIR"\n',
        'env = "DEMO_MODULE_DIR"\nunder = ["linux", "."]\nwheels = "lib/demo"\n',
    )
    layout = demo_layout(tmp_path / "later.toml", ABSOLUTE, later)
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert "set DEMO_MODULE_DIR=<prefix>/lib/demo" in wheel_metadata(tmp_path / "w", "demo_ui_curses")
    prefix = tmp_path / "venv"
    install = ["install", str(tmp_path / "w"), "-l", str(layout), "--prefix", str(prefix), "--json"]
    assert main([*install, "ui-curses"]) == 0
    out, err = capsys.readouterr()
    assert f"set DEMO_MODULE_DIR={prefix}/lib/demo where the program runs" in err, err
    assert {m["module"]: m["loads"] for m in json.loads(out)["check"]} == {"ui-curses": True}


def test_the_meta_wheel_says_how_extras_are_spelled_where_a_name_is_respelled(
    demo_build: Path, tmp_path: Path
) -> None:
    """A Traffic Server tester: every plug-in id has '_', the meta wheel's extras have '-' (PEP
    685), and pip 23.2 took `trafficserver-all[server_push_preload]` for no extra at all, with
    a warning, exit 0. The meta wheel's description says how its extras are spelled."""
    plain = tmp_path / "plain"
    assert not write_wheels(plan_build(demo_build, "demo"), plain, version="1").respelled
    assert "PEP 685" not in wheel_metadata(plain, "demo")
    build = copy_build(demo_build, tmp_path / "build")
    shutil.copy(build / "usr/lib/demo/ui/opengl.so", build / "usr/lib/demo/ui/my_gl.so")
    known = ('known = ["ui-curses"', 'known = ["ui-my_gl", "ui-curses"')  # the demo lists its ids
    layout = demo_layout(tmp_path / "x.toml", known)
    respelled = tmp_path / "respelled"
    report = write_wheels(plan_build(build, layout), respelled, version="1")
    # And the split says it where it is run (an ALSA tester read none of the wheels' descriptions).
    assert report.summary()[-1] == (
        "extras: 1 module id(s) spelled as PEP 685 normalizes them (ui-my_gl is `pip install "
        "'demo[ui-my-gl]'`): pip before 23.3 takes no other spelling"
    )
    assert wheel_metadata(respelled, "demo").endswith(
        "Extras are spelled as PEP 685 normalizes module ids (ui-my_gl is ui-my-gl): pip before 23.3 "
        "does not take one spelling for the other.\n"
    )


def test_plan_warns_of_package_names_that_are_one_wheel_name(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A NUT tester's groups `nut-x_y` and `nut-x-y`: plan said nothing, and the wheel split
    refused them as one wheel name."""
    from qpack.cli import main

    groups = (
        "[per-module]\n",
        '[[package]]\nname = "demo-x_y"\nkind = "group"\nmodules = ["ui-gtk"]\n\n'
        '[[package]]\nname = "demo-x-y"\nkind = "group"\nmodules = ["ui-curses"]\n\n[per-module]\n',
    )
    layout = demo_layout(tmp_path / "x.toml", groups)
    clash = "packages 'demo-x_y' and 'demo-x-y' are the same wheel name 'demo-x-y'"
    capsys.readouterr()
    assert main(["plan", str(demo_build), "-l", str(layout)]) == 0
    assert f"warning: {clash}; split --format wheel refuses it" in capsys.readouterr().err.splitlines()
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1"]
    assert main([*args, "--format", "wheel", "-o", str(tmp_path / "w")]) == 2
    assert clash in capsys.readouterr().err


def test_plan_warns_of_extras_a_wheel_cannot_tell_apart(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A frei0r tester's B.so beside b.so: `plan` exited 0, and only `split --format wheel` said
    the meta wheel's extras 'ui-B' and 'ui-b' are one once normalized (PEP 685). The plan now
    says so, naming the split that refuses it; the split refuses it as before."""
    from qpack.cli import main

    build = copy_build(demo_build, tmp_path / "build")
    shutil.copy(build / "usr/lib/demo/ui/opengl.so", build / "usr/lib/demo/ui/B.so")
    shutil.copy(build / "usr/lib/demo/ui/opengl.so", build / "usr/lib/demo/ui/b.so")
    known = ('known = ["ui-curses"', 'known = ["ui-B", "ui-b", "ui-curses"')
    renames = ("[per-module]\n", '[per-module]\nrenames = { "ui-B" = "demo-ui-upper-b" }\n')
    layout = demo_layout(tmp_path / "x.toml", known, renames)
    clash = (
        "meta package 'demo': extras 'ui-B' and 'ui-b' are the same extra 'ui-b' once normalized (PEP 685)"
    )
    capsys.readouterr()
    assert main(["plan", str(build), "-l", str(layout)]) == 0
    assert f"warning: {clash}; split --format wheel refuses it" in capsys.readouterr().err.splitlines()
    args = ["split", str(build), "-l", str(layout), "--version", "1"]
    assert main([*args, "--format", "wheel", "-o", str(tmp_path / "w")]) == 2
    assert clash in capsys.readouterr().err
    assert main([*args, "--format", "tree", "-o", str(tmp_path / "t")]) == 0
    assert "PEP 685" not in capsys.readouterr().err
    # Extras that pick the same packages are one (a Pure Data tester's Append -> append, in one
    # group package): nothing is lost, and the split goes on.
    group = '[[package]]\nname = "demo-ui"\nkind = "group"\nmodules = ["ui-*"]\n'
    layout.write_text(layout.read_text() + group)
    assert main(["plan", str(build), "-l", str(layout)]) == 0
    assert "PEP 685" not in capsys.readouterr().err
    assert main([*args, "--format", "wheel", "-o", str(tmp_path / "w2")]) == 0
    assert "Provides-Extra: ui-b" in wheel_metadata(tmp_path / "w2", "demo").splitlines()


def test_a_module_id_an_extra_cannot_spell_gets_an_extra_it_can(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Pure Data tester: every audio object ends in '~' (`bob~`), and the wheel split failed,
    "'cyclone-acosh~' is invalid for 'provides-extra'", after a plan that said nothing. Any run
    of characters an extra cannot hold is a separator, as PEP 685 makes of '_' and '.'; install
    takes the id as written."""
    from qpack.cli import main

    build = copy_build(demo_build, tmp_path / "build")
    shutil.copy(build / "usr/lib/demo/ui/opengl.so", build / "usr/lib/demo/ui/gl~.so")
    known = ('known = ["ui-curses"', 'known = ["ui-gl~", "ui-curses"')
    renames = ("[per-module]\n", '[per-module]\nrenames = { "ui-gl~" = "demo-ui-gl-tilde" }\n')
    layout = demo_layout(tmp_path / "x.toml", known, renames)
    capsys.readouterr()
    assert main(["plan", str(build), "-l", str(layout)]) == 0
    assert "refuses" not in capsys.readouterr().err
    dist = tmp_path / "w"
    assert (
        main(["split", str(build), "-l", str(layout), "--version", "1", "--format", "wheel", "-o", str(dist)])
        == 0
    )
    assert 'Requires-Dist: demo-ui-gl-tilde==1; extra == "ui-gl"' in wheel_metadata(dist, "demo").splitlines()
    prefix = tmp_path / "p"
    assert main(["install", str(dist), "-l", str(layout), "--prefix", str(prefix), "ui-gl~"]) == 0
    assert (prefix / "lib/demo/ui/gl~.so").is_file()


def test_python_metadata_named_as_a_wheel_of_the_split_is_said(demo_build: Path, tmp_path: Path) -> None:
    """A GDAL tester: python3-gdal ships GDAL-3.6.2.egg-info, the meta wheel is `gdal`, and once
    both were installed pip and importlib.metadata named GDAL 3.6.2, not the meta package."""
    build = copy_build(demo_build, tmp_path / "build")
    info = build / "usr/lib/python3/dist-packages/Demo-1.0.egg-info"
    info.mkdir(parents=True)
    (info / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: Demo\nVersion: 1.0\n")
    other = build / "usr/lib/python3/dist-packages/other-2.0.egg-info"
    other.mkdir()
    (other / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: other\nVersion: 2.0\n")
    report = write_wheels(plan_build(build, "demo"), tmp_path / "w", version="1")
    said = [n for n in report.notes if "Python metadata" in n]
    assert said == [
        "usr/lib/python3/dist-packages/Demo-1.0.egg-info: Python metadata of a distribution named as "
        "wheel 'demo' of this split: installed together, pip and importlib.metadata see two "
        "distributions 'demo' (rename the package, or leave the metadata out)"
    ]


def test_plan_warns_of_a_wheels_directory_holding_no_module(demo_build: Path, tmp_path: Path) -> None:
    """A BitlBee tester's `wheels = "lib/bitlbe"` passed plan and check, and only the wheel
    split refused it. The plan says so, naming where the modules are."""
    env = 'env = "DEMO_MODULE_DIR"\n'

    def said(wheels: str, more: str = "") -> list[str]:
        layout = demo_layout(tmp_path / "w.toml", (env, f'{env}wheels = "{wheels}"\n{more}'))
        return [w for w in plan_build(demo_build, layout).warnings if "`wheels` directory" in w]

    assert said("lib/demo") == []
    assert said("lib/demoo") == [
        "$DEMO_MODULE_DIR: its `wheels` directory {prefix}/lib/demoo holds no module of this build (they "
        "are in usr/lib/demo/audio, usr/lib/demo/block, usr/lib/demo/ui): a wheel split refuses it; is "
        "it mistyped?"
    ]
    # Each directory `under` reaches, not its first alone (a GDAL tester's "3.6" and ".").
    assert said("lib/demoo", 'under = ["3.6", "."]\n') == [
        "$DEMO_MODULE_DIR: its `wheels` directory {prefix}/lib/demoo/3.6 or {prefix}/lib/demoo holds no "
        "module of this build (they are in usr/lib/demo/audio, usr/lib/demo/block, usr/lib/demo/ui): a "
        "wheel split refuses it; is it mistyped?"
    ]


def test_a_module_gone_from_a_variable_s_directory_is_not_found_by_list_and_check(
    demo_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An LV2 tester deleted the one module a venv held, beside a core file named as no module:
    `list` judged the host's copy (the variable no longer set: no module file left there), "yes",
    exit 0; `check --env` stopped with "is [loader] naming mistyped?", exit 2. Both say the
    module is not found, exit 1."""
    from qpack.cli import main

    wheels = ('env = "DEMO_MODULE_DIR"\n', 'env = "DEMO_MODULE_DIR"\nwheels = "lib/demo"\n')
    layout = demo_layout(tmp_path / "var.toml", ABSOLUTE, wheels)
    args = ["split", str(demo_build), "-l", str(layout), "--version", "1", "--format", "wheel"]
    assert main([*args, "-o", str(tmp_path / "w")]) == 0, capsys.readouterr().err
    prefix = tmp_path / "venv"
    assert (
        main(["install", str(tmp_path / "w"), "-l", str(layout), "--prefix", str(prefix), "ui-curses"]) == 0
    )
    # A naming typo is one all the same where the files named as none are the modules installed
    # (a VLC tester's `lib{name}_plugins.so`: exit 1, no word of the naming).
    typo = tmp_path / "typo.toml"
    typo.write_text(layout.read_text().replace('naming = "{type}/{name}.so"', 'naming = "{type}/{name}.sox"'))
    env = f"DEMO_MODULE_DIR={prefix}/lib/demo"
    capsys.readouterr()
    assert main(["check", str(prefix), "-l", str(typo), "--env", env]) == 2
    assert "is [loader] naming mistyped?" in capsys.readouterr().err
    (prefix / "lib/demo/ui/curses.so").unlink()
    shutil.copy(demo_build / "usr/lib/demo/block/curl.so", prefix / "lib/demo/curl.so")  # named as none
    capsys.readouterr()
    assert main(["list", "--prefix", str(prefix), "-l", str(layout), "--json"]) == 1
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)["distributions"]}
    assert any(p.startswith("not-found: ") for p in listed["demo-ui-curses"]["problems"]), listed
    assert main(["check", str(prefix), "-l", str(layout), "--env", env, "--json"]) == 1
    rows = {m["module"]: m for m in json.loads(capsys.readouterr().out)["modules"]}
    assert [p["kind"] for p in rows["ui-curses"]["problems"]] == ["not-found"]
