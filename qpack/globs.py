"""Path globs of layouts: `*` and `?` stay inside one path segment, `**` spans segments
(a trailing `dir/**`, dir written without wildcards, also matches `dir` itself: a symlink to
a directory, an empty directory).

fnmatch lets `*` cross `/`, which would make `usr/lib/*.so` claim files in subdirectories and
turn layouts into guesswork; this is the gitignore-like meaning packagers already know.
"""

from __future__ import annotations

import re
from functools import lru_cache


class GlobError(ValueError):
    """A glob cannot be compiled; the message says why."""


def _class(pattern: str, start: int) -> tuple[str, int]:
    end = pattern.find("]", start + 2 if pattern[start + 1 : start + 2] in ("!", "]") else start + 1)
    if end < 0:
        raise GlobError("unbalanced '['")
    body = pattern[start + 1 : end]
    if body.startswith("!"):
        body = "^" + body[1:]
    if "/" in body:
        raise GlobError("'/' inside [...]")
    return "[" + body.replace("\\", "\\\\") + "]", end + 1


@lru_cache(maxsize=1 << 15)  # a layout may hold 10,000 rules: each glob is compiled once
def compile_glob(pattern: str) -> re.Pattern[str]:  # noqa: PLR0912 - a tokenizer: one branch per glob token
    """Compile a relative path glob. Raises GlobError for empty, absolute or `..` patterns."""
    if not pattern:
        raise GlobError("empty glob")
    if pattern.startswith("/"):
        raise GlobError("absolute path (globs are relative to the build root)")
    parts = pattern.split("/")
    if any(p in ("..", ".") for p in parts):
        raise GlobError("'.' or '..' segment")
    if any(p == "" for p in parts):
        raise GlobError("empty path segment")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern[i:] == "/**" and not any(ch in pattern[:i] for ch in "*?["):
            # `dir/**` (dir written out) is everything under dir and dir itself: a symlink to a
            # directory, or an empty directory, at that path is claimed with what is under it.
            out.append("(?:/.*)?")
            break
        if pattern.startswith("**", i):
            before_ok = i == 0 or pattern[i - 1] == "/"
            after = pattern[i + 2 : i + 3]
            if not before_ok or after not in ("", "/"):
                raise GlobError("'**' must be a whole path segment")
            if after == "/":
                out.append("(?:[^/]+/)*")
                i += 3
            else:
                out.append(".*")
                i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            cls, i = _class(pattern, i)
            out.append(cls)
        elif c == "]":
            raise GlobError("unbalanced ']'")
        else:
            out.append(re.escape(c))
            i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error as e:
        raise GlobError(str(e)) from None


def expand_prefix(glob: str, prefix: str) -> str:
    """`{prefix}/bin/qemu-*` with prefix `/usr` -> `usr/bin/qemu-*` (build-root relative)."""
    pre = prefix.strip("/")
    if glob.startswith("{prefix}/"):
        return f"{pre}/{glob[len('{prefix}/') :]}" if pre else glob[len("{prefix}/") :]
    return glob.replace("{prefix}", pre)
