"""Path globs of layouts: `*` and `?` stay inside one path segment, `**` spans segments
(a trailing `dir/**`, dir written without wildcards, also matches `dir` itself: a symlink to
a directory, an empty directory), and `{a,b}` is either alternative, inside one segment.

fnmatch lets `*` cross `/`, which would make `usr/lib/*.so` claim files in subdirectories and
turn layouts into guesswork; this is the gitignore-like meaning packagers already know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


class GlobError(ValueError):
    """A glob cannot be compiled; the message says why."""


# What makes a segment a pattern rather than a name.
WILDCARDS = "*?[{"
# A `{...}` without a ',': a placeholder ({prefix}, {name}) left unfilled, not alternatives.
_PLACEHOLDER = re.compile(r"\{[^{},]*\}")


def unknown_placeholder(glob: str) -> bool:
    """Whether a glob (its known placeholders filled in) still holds a `{...}` that is no set of
    alternatives (`{a,b}`), or an unbalanced brace."""
    if _PLACEHOLDER.search(glob):
        return True
    depth = 0
    for c in glob:
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth not in (0, 1):
            return True
    return depth != 0


def _alternatives(seg: str, start: int) -> tuple[str, int]:
    """`{a,b*}` at `start`: the regex of either alternative, and where it ends."""
    end = seg.find("}", start)
    if end < 0:
        raise GlobError("unbalanced '{'")
    body = seg[start + 1 : end]
    if "{" in body:
        raise GlobError("'{' inside {...}")
    alternatives = body.split(",")
    if len(alternatives) < 2:
        raise GlobError("'{...}' without ',': alternatives are written {a,b}")
    return "(?:" + "|".join(_segment(a) if a else "" for a in alternatives) + ")", end + 1


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


def _segment(seg: str) -> str:
    """One path segment's regex. `*X*Y*Z` is `X` matched lazily and atomically, then `Y`, and a
    greedy `*` before the last chunk: the earliest place a fixed-length chunk fits is always a
    good one (the `*` after it takes the rest), so nothing is retried. A plain `[^/]*` per
    star backtracks exponentially: `*a*a*a*a*a*a*b` against a long name ran for seconds per
    file (CPython's fnmatch does the same for the same reason)."""
    chunks: list[list[str]] = [[]]
    varying: set[int] = set()  # chunks holding alternatives of several lengths: not atomic
    i = 0
    while i < len(seg):
        c = seg[i]
        if c == "*":
            if chunks[-1] or len(chunks) == 1:
                chunks.append([])  # consecutive stars are one
            i += 1
        elif c == "{":
            alternatives, i = _alternatives(seg, i)
            chunks[-1].append(alternatives)
            varying.add(len(chunks) - 1)
        elif c == "?":
            chunks[-1].append("[^/]")
            i += 1
        elif c == "[":
            cls, i = _class(seg, i)
            chunks[-1].append(cls)
        elif c == "]":
            raise GlobError("unbalanced ']'")
        elif c == "}":
            raise GlobError("unbalanced '}'")
        else:
            chunks[-1].append(re.escape(c))
            i += 1
    if len(chunks) == 1:
        return "".join(chunks[0])
    first, *middle, last = ("".join(chunk) for chunk in chunks)
    # The earliest place a chunk fits is as good as any only when every way it matches has one
    # length: `*{ab,a}*bc` against `xabc` needs `a`, which an atomic try passing over it misses.
    return (
        first
        + "".join(f"[^/]*?{m}" if k in varying else f"(?>[^/]*?{m})" for k, m in enumerate(middle, 1) if m)
        + "[^/]*"
        + last
    )


@lru_cache(maxsize=1 << 15)  # a layout may hold 10,000 rules: each glob is compiled once
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Compile a relative path glob. Raises GlobError for empty, absolute or `..` patterns."""
    segs = _segments(pattern)
    pieces: list[str] = []
    k = 0
    while k < len(segs):
        seg = segs[k]
        last = k == len(segs) - 1
        if seg == "**" and not last:
            # `**/` and the block of whole segments up to the next `**`. Each segment's regex
            # matches exactly one segment, so a block spans a fixed number of them, and where
            # another `**` follows, the earliest place the block fits is as good as any (that
            # `**` takes the gap): one lazy, atomic try, as `_segment` does for `*`. Greedy
            # `(?:[^/]+/)*` for each `**` tried every split: `**/a/**/a/**/a/**/b` took 73 s on
            # one path 200 segments deep.
            end = segs.index("**", k + 1) if "**" in segs[k + 1 :] else len(segs)
            block = "".join(_whole_segment(s, i == len(segs) - 1) for i, s in enumerate(segs[:end]) if i > k)
            pieces.append(f"(?>(?:[^/]+/)*?{block})" if end < len(segs) else f"(?:[^/]+/)*{block}")
            k = end
            continue
        if seg != "**":
            pieces.append(_whole_segment(seg, last))
        elif k and not any(ch in "/".join(segs[:k]) for ch in "*?["):  # `{a,b}/**`: a/** or b/**
            # `dir/**` (dir written out) is everything under dir and dir itself: a symlink to a
            # directory, or an empty directory, at that path is claimed with what is under it.
            pieces[-1] = pieces[-1][: -len("/")]
            pieces.append("(?:/.*)?")
        else:
            pieces.append(".*")
        k += 1
    try:
        return re.compile("".join(pieces) + r"\Z")
    except re.error as e:
        raise GlobError(str(e)) from None


def _segments(pattern: str) -> list[str]:
    """The glob's path segments, `**/**` made one `**`; GlobError for what no path can match."""
    if not pattern:
        raise GlobError("empty glob")
    if pattern.startswith("/"):
        raise GlobError("absolute path (globs are relative to the build root)")
    if re.search(r"\{[^{}]*/[^{}]*\}", pattern):
        raise GlobError("'{...}' across a '/': alternatives are within one path segment ({a,b}/c)")
    parts = pattern.split("/")
    if any(p in ("..", ".") for p in parts):
        raise GlobError("'.' or '..' segment")
    if any(p == "" for p in parts):
        raise GlobError("empty path segment")
    # `**/**` is `**`: each further one only multiplies the ways to match (and the time).
    return [p for k, p in enumerate(parts) if not (p == "**" and k and parts[k - 1] == "**")]


def _whole_segment(seg: str, last: bool) -> str:
    """A segment that is not `**`: its regex, and the `/` after it unless it ends the glob."""
    if "**" in seg:
        raise GlobError("'**' must be a whole path segment")
    return _segment(seg) + ("" if last else "/")


def expand_prefix(glob: str, prefix: str) -> str:
    """`{prefix}/bin/qemu-*` with prefix `/usr` -> `usr/bin/qemu-*` (build-root relative)."""
    pre = prefix.strip("/")
    if glob.startswith("{prefix}/"):
        return f"{pre}/{glob[len('{prefix}/') :]}" if pre else glob[len("{prefix}/") :]
    return glob.replace("{prefix}", pre)


# --------------------------------------------------------------------------- module id globs


def module_glob_regex(glob: str) -> str:
    # One `*` captured so that renames can reuse it as `{*}`; further `*` and `?` just match.
    # `{a,b}`: either, as in file globs (an Asterisk tester's `chan_{dahdi,iax2,...}` matched no
    # module, said only as a package without files).
    parts = re.split(r"(\*|\?|\{[^{}]*,[^{}]*\})", glob)
    out, captured = [], False
    for p in parts:
        if p == "*":
            out.append("(.*)" if not captured else ".*")
            captured = True
        elif p == "?":
            out.append(".")
        elif p.startswith("{") and p.endswith("}") and "," in p:
            either = (re.escape(a).replace(r"\*", ".*").replace(r"\?", ".") for a in p[1:-1].split(","))
            out.append("(?:" + "|".join(either) + ")")
        else:
            out.append(re.escape(p))
    return "".join(out)


_BRACES = re.compile(r"\{[^{}]*,[^{}]*\}")


def is_module_glob(key: str) -> bool:
    """Whether a module key is a glob (`ui-*`, `chan_{dahdi,iax2}`) rather than one module id."""
    return any(c in key for c in "*?[") or ("{" in key and _BRACES.search(key) is not None)


# Compiled once per glob, however many: a kernel tester's layout named 965 module ids in one
# package's `modules` and 2,946 `[modules.dependencies]` keys, past the 512 patterns `re`
# keeps, so each of 3.3 million matches compiled its pattern again (a 4,022-module plan: 93 s).
@lru_cache(maxsize=1 << 15)
def module_glob_pattern(glob: str) -> re.Pattern[str]:
    return re.compile(module_glob_regex(glob))


def module_glob_matches(glob: str, module_id: str) -> bool:
    """Whether module key `glob` (an id, or a glob of ids) names `module_id`."""
    if not is_module_glob(glob):
        return glob == module_id  # an id names itself alone, and most keys are ids
    return module_glob_pattern(glob).fullmatch(module_id) is not None


class ModuleKeys:
    """Module ids and globs of ids (a module table's keys, a package's `modules`), indexed once:
    an id is looked up, the globs alone are matched. A kernel tester's layout (4,022 modules,
    2,946 `[modules.dependencies]` keys, 965 ids in one package) matched every module against
    every key: 23.7 million matches, and a plan of 93 s. Brace globs are globs (a WirePlumber
    tester's "{si-node,metadata}" and a Gutenprint tester's `{print,color}-*`: fnmatch took none)."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.order: dict[str, int] = {}
        for key in keys:
            self.order.setdefault(key, len(self.order))
        self.globs = tuple(k for k in self.order if is_module_glob(k))

    def naming(self, module_id: str) -> list[str]:
        """The keys that are `module_id` or a glob matching it, in key order."""
        keys = [k for k in self.globs if module_glob_matches(k, module_id)]
        if module_id in self.order and module_id not in keys:
            keys.append(module_id)
            keys.sort(key=self.order.__getitem__)
        return keys
