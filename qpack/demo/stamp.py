"""Print the demo's build stamp, for meson.build (which cannot hash files itself).

The same algorithm as `compute_stamp` in builder.py (the tests check that both agree): the SHA-1
of one field per .c/.h file under SRC in sorted relative-path order, then the prefix and the
build tag, each field written as `label NUL decimal-length NUL value`.  Standalone on purpose:
meson runs it with whatever Python it has, where qpack need not be importable.

    python3 stamp.py SRC PREFIX BUILD_TAG
"""

import hashlib
import sys
from pathlib import Path


def main(src: str, prefix: str, build_tag: str) -> None:
    digest = hashlib.sha1(usedforsecurity=False)

    def field(label: str, value: bytes) -> None:
        digest.update(label.encode() + b"\0" + str(len(value)).encode() + b"\0")
        digest.update(value)

    root = Path(src)
    sources = [p for p in root.rglob("*") if p.suffix in {".c", ".h"} and p.is_file()]
    for rel, path in sorted((p.relative_to(root).as_posix(), p) for p in sources):
        field(rel, path.read_bytes())
    field("prefix", prefix.encode())
    field("build_tag", build_tag.encode())
    sys.stdout.write(digest.hexdigest() + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
