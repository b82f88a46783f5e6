"""Install tags as layout selectors, on inventories built in memory (the tags a meson build
carries come from tests/test_meson.py's real builds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qpack.errors import LayoutError, PlanError
from qpack.inventory import Entry, Inventory
from qpack.layout import Layout, load_layout
from qpack.plan import make_plan

LAYOUT = """
[layout]
name = "t"
description = "tags"

[loader]
prefix = "/usr"
executables = ["{prefix}/bin/prog"]
naming = "{name}.so"

[[loader.search]]
relocated = "lib/prog"

[[package]]
name = "prog-dev"
tags = ["devel"]

[[package]]
name = "prog"
rest = true

[[exclude]]
reason = "tests are not shipped"
tags = ["tests"]
"""


def inventory(tags: dict[str, str]) -> Inventory:
    files = ("usr/bin/prog", "usr/include/prog.h", "usr/lib/libprog.so", "usr/libexec/prog/test-prog")
    entries = [Entry(p, "file", 0o644, 1, "0" * 64) for p in files]
    return Inventory(Path("/nonexistent"), "/usr", tuple(entries), tags=tags)


def layout(tmp_path: Path, text: str = LAYOUT) -> Layout:
    path = tmp_path / "t.toml"
    path.write_text(text)
    return load_layout(path)


def test_tags_claim_and_exclude(tmp_path: Path) -> None:
    tags = {
        "usr/include/prog.h": "devel",
        "usr/lib/libprog.so": "devel",
        "usr/libexec/prog/test-prog": "tests",
    }
    plan = make_plan(inventory(tags), layout(tmp_path))
    assert plan.package("prog-dev").files == ("usr/include/prog.h", "usr/lib/libprog.so")
    assert plan.package("prog").files == ("usr/bin/prog",)
    assert [(x.path, x.reason) for x in plan.excluded] == [
        ("usr/libexec/prog/test-prog", "tests are not shipped")
    ]
    rules = {c.path: c.rule for c in plan.claims}
    assert rules["usr/include/prog.h"] == "package[0] 'prog-dev': tags 'devel'"
    assert rules["usr/libexec/prog/test-prog"] == "exclude[0] (tests are not shipped): tags 'tests'"
    # Without tags (a staged tree) the tag rules claim nothing.
    plain = make_plan(inventory({}), layout(tmp_path))
    assert plain.package("prog-dev").files == ()


def test_a_file_claimed_by_tag_and_by_glob_is_claimed_twice(tmp_path: Path) -> None:
    text = LAYOUT.replace(
        "rest = true", 'rest = true\n\n[[package]]\nname = "prog-lib"\nfiles = ["{prefix}/lib/*.so"]'
    )
    with pytest.raises(PlanError) as e:
        make_plan(inventory({"usr/lib/libprog.so": "devel"}), layout(tmp_path, text))
    assert e.value.problems == [
        "usr/lib/libprog.so: claimed twice: by package[0] 'prog-dev' (tags 'devel') "
        "and by package[2] 'prog-lib' (files '{prefix}/lib/*.so')"
    ]


def test_tags_are_validated(tmp_path: Path) -> None:
    text = LAYOUT.replace('tags = ["devel"]', 'tags = ["dev el", 3]').replace(
        'tags = ["tests"]', 'tags = ["ok"]'
    )
    with pytest.raises(LayoutError) as e:
        layout(tmp_path, text)
    assert e.value.problems == [
        f"{tmp_path / 't.toml'}: package[0].tags: must be a list of strings",
        f"{tmp_path / 't.toml'}: package[0]: package 'prog-dev' claims nothing: "
        "give files, modules, tags or rest = true",
    ]
    text = LAYOUT.replace('tags = ["devel"]', 'tags = ["dev el"]')
    with pytest.raises(LayoutError) as e:
        layout(tmp_path, text)
    assert e.value.problems == [f"{tmp_path / 't.toml'}: package[0].tags[0]: bad install tag 'dev el'"]


def test_rules_of_tags_only_are_complete_rules(tmp_path: Path) -> None:
    """A package or an exclusion that selects by tags only claims something: no error."""
    lay = layout(tmp_path)
    assert [p.tags for p in lay.packages] == [("devel",), ()]
    assert lay.exclusions[0].tags == ("tests",)
