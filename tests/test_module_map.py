"""The README's module map is true: every module of qpack is in it, and each imports (at module
level) only the modules above it, so data flows one way (build -> inventory -> plan -> writers;
prefix -> loader model -> check). Imports inside functions, made lazily for start-up time, are
not held to the order."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_map() -> list[str]:
    """Module names in the order of the README's table (`writers/_zip.py` -> qpack.writers._zip)."""
    section = (ROOT / "README.md").read_text().split("## Architecture", 1)[1].split("\n## ", 1)[0]
    names = []
    for line in section.splitlines():
        if line.startswith("| `"):
            for entry in re.findall(r"`([^`]+)`", line.split("|")[1]):
                name = entry.rstrip("/").removesuffix(".py").replace("/", ".").removesuffix(".__init__")
                names.append(f"qpack.{name}")
    return names


def known(name: str, rank: dict[str, int]) -> str | None:
    """`name`, or the package of the map it is in (qpack.demo.builder -> qpack.demo)."""
    while name not in rank and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in rank else None


def test_every_module_is_in_the_map_and_imports_only_what_is_above_it() -> None:
    rank = {name: i for i, name in enumerate(module_map())}
    assert len(rank) > 40
    unmapped, upward = [], []
    for path in sorted((ROOT / "qpack").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if module in ("qpack", "qpack.__main__"):
            continue  # the lazy API re-export and `python -m qpack`
        me = known(module, rank)
        if me is None:
            unmapped.append(module)
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                other = known(target, rank) if target.startswith("qpack.") else None
                if other is not None and other != me and rank[other] > rank[me]:
                    upward.append(f"{module} imports {target}, listed below it")
    assert unmapped == [], "modules missing from README's module map"
    assert upward == []
