"""The one check of package names against the formats they are written in.

Package names come from the layout, and per-module ones from module file names
(`qemu-{module}`): a module file `ui-x;rm -rf.so` would otherwise become
`debian/qemu-ui-x;rm -rf.install`. Each writer calls `check_package_names` with the formats it
writes, before anything is written; every offending name is reported, one line each.

- `debian`: Debian Policy 5.6.1: lower-case letters, digits, `+ - .`, at least two characters,
  starting with a letter or digit (dpkg refuses anything else).
- `rpm`: rpmbuild's `Name:` check (build/parsePreamble.c `rpmCharCheck`): ASCII letters,
  digits, `. _ + -`, starting with a letter, digit or `_`, no `..`.
- `wheel`: the name a wheel file and its METADATA can carry (packaging's
  `canonicalize_name(validate=True)`: ASCII letters, digits, `. _ -`, starting and ending with a
  letter or digit).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Literal

from qpack.dist_info import normalize_extra
from qpack.errors import ProblemsError
from qpack.plan import Package, Plan

NameFormat = Literal["debian", "rpm", "wheel"]

_RULES: dict[NameFormat, tuple[re.Pattern[str], str]] = {
    "debian": (
        re.compile(r"[a-z0-9][a-z0-9+.-]+"),
        "not a valid Debian package name (lower-case letters, digits and + - . only, "
        "at least two characters, starting with a letter or digit)",
    ),
    "rpm": (
        re.compile(r"(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9._+-]*"),
        "not a valid RPM package name (ASCII letters, digits and . _ + - only, "
        "starting with a letter, digit or _, no '..')",
    ),
    "wheel": (
        re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"),
        "not a valid wheel name (ASCII letters, digits and . _ - only, "
        "starting and ending with a letter or digit)",
    ),
}


class PackageNameError(ProblemsError):
    """Package names an output format cannot carry; one line per name."""


def _origin(p: Package, pattern: re.Pattern[str]) -> str:
    if p.kind == "module" and p.modules:
        if pattern.fullmatch(p.name.lower().replace("_", "-")):
            return (
                f" (named after module {p.modules[0]!r}: `normalize = true` in [per-module] lower-cases "
                "the names and writes '_' as '-')"
            )
        return f" (named after module {p.modules[0]!r}: rename it in [per-module.renames] or exclude it)"
    return " (rename it in the layout)"


def wheel_extras(pkg: Package) -> tuple[dict[str, tuple[str, tuple[str, ...]]], list[str]]:
    """A package's extras by the name a wheel gives them (PEP 685's normal form) -> (the name
    as the layout spells it, its packages); and the problems: an extra empty once normalized,
    or two that become one."""
    extras: dict[str, tuple[str, tuple[str, ...]]] = {}
    problems = []
    for name, members in pkg.extras.items():
        norm = normalize_extra(name)
        if not norm:
            problems.append(f"meta package {pkg.name!r}: extra {name!r} is empty once normalized (PEP 685)")
        elif norm in extras and set(extras[norm][1]) == set(members):
            continue  # the same packages either way (a Pure Data tester's Append and append, in one group)
        elif norm in extras and extras[norm][0] != name:
            problems.append(
                f"meta package {pkg.name!r}: extras {extras[norm][0]!r} and {name!r} are the same "
                f"extra {norm!r} once normalized (PEP 685)"
            )
        else:
            extras[norm] = (name, members)
    return extras, problems


def name_problems(plan: Plan, formats: Collection[NameFormat]) -> list[str]:
    """One line per package whose name one of `formats` cannot carry (the first such format),
    and for wheels, per extra of the meta package that a wheel cannot carry (a frei0r
    tester's modules B and b: `plan` said nothing, `split` failed)."""
    problems = []
    for p in plan.packages:
        for fmt in ("debian", "rpm", "wheel"):
            if fmt not in formats:
                continue
            pattern, why = _RULES[fmt]
            if not pattern.fullmatch(p.name):
                problems.append(f"package name {p.name!r}: {why}{_origin(p, pattern)}")
                break
        if "wheel" in formats:
            problems += wheel_extras(p)[1]
    if "wheel" in formats:
        problems += _same_wheel_name(plan)
    return problems


def name_warnings(plan: Plan, formats: Collection[NameFormat]) -> list[str]:
    """`name_problems` for the plan's warnings: more than three module packages wrong alike in
    one line (a GEGL tester's ten `*-x86_64-v2` operations: ten long lines, each the same)."""
    alike: dict[tuple[str, str], list[str]] = {}
    for p in plan.packages:
        for fmt in formats:
            pattern, why = _RULES[fmt]
            if not pattern.fullmatch(p.name):
                if p.kind == "module" and p.modules:
                    normal = pattern.fullmatch(p.name.lower().replace("_", "-")) is not None
                    alike.setdefault((why, "normalize" if normal else "rename"), []).append(p.name)
                break
    grouped = {name for names in alike.values() if len(names) > _ALIKE for name in names}
    out = [
        line
        for line in name_problems(plan, formats)
        if not any(line.startswith(f"package name {name!r}:") for name in grouped)
    ]
    for (why, fix), names in alike.items():
        if len(names) <= _ALIKE:
            continue
        how = (
            "`normalize = true` in [per-module] lower-cases the names and writes '_' as '-'"
            if fix == "normalize"
            else "rename them in [per-module.renames] or exclude them"
        )
        shown = ", ".join(repr(n) for n in names[:_ALIKE]) + f" and {len(names) - _ALIKE} more"
        out.append(f"{len(names)} package names named after their modules, {shown}: {why} ({how})")
    return out


_ALIKE = 3  # names wrong alike said one a line; more in one


def _same_wheel_name(plan: Plan) -> list[str]:
    """Two packages whose names are one wheel name once normalized (a NUT tester's groups
    `nut-x_y` and `nut-x-y`: plan said nothing, the wheel split refused them)."""
    from packaging.utils import canonicalize_name

    names: dict[str, str] = {}
    out = []
    for pkg in plan.packages:
        dist = canonicalize_name(pkg.name)
        if dist in names:
            out.append(f"packages {names[dist]!r} and {pkg.name!r} are the same wheel name {dist!r}")
        names.setdefault(dist, pkg.name)
    return out


def check_package_names(plan: Plan, formats: Collection[NameFormat]) -> None:
    """Raise PackageNameError listing every package name one of `formats` cannot carry."""
    problems = name_problems(plan, formats)
    if problems:
        raise PackageNameError(problems)
