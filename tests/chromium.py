"""Real headless Chromium (Debian's `chromium` package) for the HTML report's tests: the DOM
after the page's script ran, the console messages it logged, a screenshot, and a small PNG
reader (zlib and the five PNG filters) so that the screenshot can be judged without Pillow."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]? ?(.*)")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium on this machine (apt-get install chromium)")


@dataclass(frozen=True)
class Page:
    dom: str
    console: list[str]  # every console message the page logged (errors included)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="qpack-chromium-") as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def load(page: Path) -> Page:
    """The DOM of `page` once its scripts ran, and what it logged to the console."""
    r = _run(["--dump-dom", page.resolve().as_uri()])
    assert r.returncode == 0, r.stderr[-2000:]
    console = [m.group(1) for line in r.stderr.splitlines() if (m := _CONSOLE.search(line))]
    return Page(r.stdout, console)


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 1600) -> None:
    r = _run([f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri()])
    assert r.returncode == 0 and png.is_file(), r.stderr[-2000:]


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    pixels: list[tuple[int, int, int]]  # row-major RGB

    def count(self, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
        """Pixels within `tolerance` of `rgb` in every channel."""
        return sum(
            n
            for p, n in Counter(self.pixels).items()
            if all(abs(a - b) <= tolerance for a, b in zip(p, rgb, strict=True))
        )


def read_png(path: Path) -> Image:
    """An 8-bit RGB or RGBA PNG, non-interlaced (what Chromium writes), as RGB pixels."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = depth = ctype = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and ctype in (2, 6), f"unsupported PNG: depth {depth}, colour type {ctype}"
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytes(stride)
    pixels: list[tuple[int, int, int]] = []
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if ftype == 2:  # Up: no dependency inside the row
            line = bytearray((x + b) & 0xFF for x, b in zip(line, prev, strict=True))
        elif ftype in (1, 3, 4):
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                if ftype == 1:
                    line[i] = (line[i] + a) & 0xFF
                    continue
                b = prev[i]
                if ftype == 3:
                    line[i] = (line[i] + (a + b) // 2) & 0xFF
                    continue
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        pixels += zip(line[0::bpp], line[1::bpp], line[2::bpp], strict=True)
        prev = bytes(line)
    return Image(width, height, pixels)
