"""The wheel writer's deflate (qpack/writers/_deflate.py): standard raw deflate that CPython's
zlib inflates, the same bytes every time, and a content several entries hold deflated once."""

from __future__ import annotations

import hashlib
import threading
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from qpack.writers import _deflate
from qpack.writers._deflate import Shared, compressobj


def sample(demo_build: Path) -> bytes:
    exe, module = demo_build / "usr/bin/demo", demo_build / "usr/lib/demo/ui/gtk.so"
    return exe.read_bytes() * 3 + module.read_bytes()


def deflate(comp: _deflate.Compressor, data: bytes, chunk: int = 4096) -> bytes:
    return b"".join(comp.compress(data[i : i + chunk]) for i in range(0, len(data), chunk)) + comp.flush()


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_standard_deflate_that_zlib_inflates(demo_build: Path, level: int) -> None:
    data = sample(demo_build)
    data = data * (5 * _deflate.BLOCK // 2 // len(data) + 1)  # over two blocks
    out = deflate(compressobj(level), data)
    assert zlib.decompress(out, -15) == data
    # zlib-ng's bytes depend on how its input is split; compressobj's must not (short reads).
    for chunk in (3001, _deflate.BLOCK, _deflate.BLOCK + 7, 2 * _deflate.BLOCK):
        assert deflate(compressobj(level), data, chunk) == out, chunk


def test_level_out_of_range() -> None:
    with pytest.raises(ValueError, match="between 0 and 9"):
        compressobj(10)


def test_shared_content_is_deflated_once_with_the_same_bytes(demo_build: Path) -> None:
    a, b = sample(demo_build), (demo_build / "usr/lib/demo/block/curl.so").read_bytes()
    ka, kb = hashlib.sha256(a).hexdigest(), hashlib.sha256(b).hexdigest()
    shared = Shared([ka, kb, ka, None, ka])
    first = shared.compressobj(6, ka)
    assert isinstance(first, _deflate._Recording)
    expected = deflate(compressobj(6), a)
    assert deflate(first, a) == expected
    for _ in range(2):  # the two other entries holding `a`: replayed, nothing deflated
        again = shared.compressobj(6, ka)
        assert isinstance(again, _deflate._Replay)
        assert deflate(again, a) == expected
    assert shared._slots == {}, "the bytes are dropped once the last entry has them"
    assert not isinstance(shared.compressobj(6, kb), _deflate._Recording | _deflate._Replay)
    assert not isinstance(shared.compressobj(6, None), _deflate._Recording | _deflate._Replay)


def test_entries_started_together_wait_for_the_one_deflating(demo_build: Path) -> None:
    data = sample(demo_build)
    key = hashlib.sha256(data).hexdigest()
    shared = Shared([key] * 4)
    started = threading.Barrier(4)

    def entry() -> tuple[str, bytes]:
        started.wait()
        comp = shared.compressobj(6, key)
        return type(comp).__name__, deflate(comp, data)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: entry(), range(4)))
    expected = deflate(compressobj(6), data)
    assert all(out == expected for _, out in results)
    assert sorted(kind for kind, _ in results) == ["_Recording", "_Replay", "_Replay", "_Replay"]


def test_a_stalled_entry_is_taken_over(demo_build: Path) -> None:
    """The entry deflating a shared content failed before its end (it never flushes): the
    entry waiting for it deflates the content itself once no progress is seen."""
    data = sample(demo_build)
    key = hashlib.sha256(data).hexdigest()
    shared = Shared([key, key], stall_seconds=0.05)
    failed = shared.compressobj(6, key)
    failed.compress(data[:100])  # then its file could not be read further
    second = shared.compressobj(6, key)
    assert isinstance(second, _deflate._Recording)
    assert deflate(second, data) == deflate(compressobj(6), data)


def test_wheels_deflate_a_copied_file_once_and_keep_their_bytes(demo_build: Path, tmp_path: Path) -> None:
    """The demo's core wheel holds `demo` twice (bin/demo-run is a link to it, which a wheel
    turns into a copy): deflated once, whether entries run one at a time or side by side, and
    the wheels are the same bytes either way."""
    from qpack.plan import plan_build
    from qpack.writers.wheel import write_wheels

    plan = plan_build(demo_build, "demo")
    digests = []
    for jobs in (1, 4):
        out = tmp_path / f"jobs{jobs}"
        write_wheels(plan, out, version="1.0", jobs=jobs, source_date_epoch=0)
        digests.append(
            {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.whl"))}
        )
    assert digests[0] == digests[1]
    core = next((tmp_path / "jobs1").glob("demo_core-*.whl"))
    with zipfile.ZipFile(core) as zf:
        infos = {i.filename.rsplit("/", 1)[-1]: i for i in zf.infolist()}
        demo, run = infos["demo"], infos["demo-run"]
        assert (demo.CRC, demo.compress_size) == (run.CRC, run.compress_size)
        assert zf.read(run) == zf.read(demo) == (demo_build / "usr/bin/demo").read_bytes()
