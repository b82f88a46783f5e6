"""What the wheels qpack writes say of themselves, and how a module id is spelt as an extra: the
one definition the wheel writer and the install side (`installed`, `install`) share."""

from __future__ import annotations

import json
import re

from packaging.utils import canonicalize_name

# What qpack's wheel writer puts in each wheel's .dist-info: the plan's kind of the package
# (core, module, group, meta) and the ids of its modules, as the layout spells them. Installed
# by pip as well, it tells `check`, `list` and `uninstall` what a distribution is where its
# files alone do not (a core that holds no program, modules installed where no search
# location reaches).
PACKAGE_FILE = "qpack-package.json"


# The extra a module's wheel offers for the modules it recommends ([modules.recommends]): pip
# installs no recommendation by default; `pip install NAME[recommended]` does.
RECOMMENDED_EXTRA = "recommended"


def normalize_extra(name: str) -> str:
    """The extra of the meta wheel that picks module `name`: PEP 685's normalization
    (`accel-tcg-x86_64` -> `accel-tcg-x86-64`), without the separators it leaves at either end,
    which no extra may have (PostgreSQL's intarray module `_int` is the extra `int`); any other
    run of characters an extra cannot hold is a separator too (Pure Data's `bob~` is `bob`,
    `a+b` is `a-b`), as wheel metadata refused them."""
    return re.sub(r"[^a-z0-9]+", "-", str(canonicalize_name(name))).strip("-")


def declaration(text: str | bytes) -> tuple[str | None, tuple[str, ...]]:
    """(the plan's kind, the module ids) a PACKAGE_FILE's text declares; (None, ()) for text
    that is no such declaration."""
    try:
        data = json.loads(text)
    except ValueError:
        return None, ()
    if not isinstance(data, dict):
        return None, ()
    kind = data.get("kind")
    return (kind if isinstance(kind, str) else None), module_ids(data.get("modules"))


def optional_core(text: str | bytes) -> bool:
    """Whether a PACKAGE_FILE declares a core the layout marks `required = false` (Enchant's
    tools, VLC's helper libraries): modules do not require it, and one pulled in by a module's
    library needs goes with the last module that needs it."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("kind") == "core" and data.get("required") is False


def module_ids(value: object) -> tuple[str, ...]:
    """A list of module ids as written, sorted and each once; anything else is none."""
    if not isinstance(value, list):
        return ()
    return tuple(sorted({m for m in value if isinstance(m, str) and m}))
