"""Inventory speed against a baseline that does less: `sha256sum` over every file of the tree.

    python bench/bench_scan.py BUILD [--layout qemu] [--repeat 3]

Prints the best-of-N wall time of each and the ratio qpack/sha256sum. qpack also reads ELF
headers, dynamic sections and symbol tables, so a ratio near 1 means the ELF work is cheap.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from qpack import layout as L
from qpack.inventory import scan_for_layout


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("build", type=Path)
    ap.add_argument("--layout", default="qemu")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    lay = L.load(args.layout)
    files = [str(p) for p in args.build.rglob("*") if p.is_file() and not p.is_symlink()]
    size = sum(os.path.getsize(f) for f in files)

    def baseline() -> None:
        subprocess.run(
            ["xargs", "-0", "-P2", "-n64", "sha256sum"],
            input="\0".join(files).encode(),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def qpack_scan() -> None:
        scan_for_layout(args.build, lay)

    b = best(baseline, args.repeat)
    q = best(qpack_scan, args.repeat)
    print(f"tree: {len(files)} files, {size / 1e6:.1f} MB; cores: {os.cpu_count()}")
    print(f"sha256sum (xargs -P2): {b:.3f} s")
    print(f"qpack scan:            {q:.3f} s")
    print(f"ratio qpack/sha256sum: {q / b:.2f}")


if __name__ == "__main__":
    main()
