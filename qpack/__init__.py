"""qpack: split one build of a modular program into a core package plus module packages.

The library API, imported lazily so that `qpack --version` and `import qpack` stay fast:

    layout = load_layout("qemu")                       # or a path to a .toml file
    plan = plan_build("BUILD", layout)                 # scan (layout.loader.scan) + make_plan
    plan = make_plan(scan_meson("builddir", layout.loader), layout)   # a meson build, as installed
    write_wheels(plan, "dist", version="1.0")          # or write_tree(plan, "out", version=...)
    install_wheels(select("dist", ["ui-curses"]), "venv")

Every error it raises on purpose is a `QpackError` with a one-line message per problem.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = {
    "QpackError": "qpack.errors",
    "Layout": "qpack.layout",
    "load_layout": "qpack.layout",
    "find_layout": "qpack.layout",
    "shipped_layouts": "qpack.layout",
    "Loader": "qpack.loader",
    "Inventory": "qpack.inventory",
    "Plan": "qpack.plan",
    "make_plan": "qpack.plan",
    "plan_build": "qpack.plan",
    "scan_meson": "qpack.meson",
    "write_wheels": "qpack.writers.wheel",
    "write_tree": "qpack.writers.tree",
    "select": "qpack.install",
    "install_wheels": "qpack.install",
}

__all__ = [  # noqa: RUF022 - grouped as _API is: errors, layouts, loader, plans, writers, installs
    "QpackError",
    "Layout",
    "load_layout",
    "find_layout",
    "shipped_layouts",
    "Loader",
    "Inventory",
    "Plan",
    "make_plan",
    "plan_build",
    "scan_meson",
    "write_wheels",
    "write_tree",
    "select",
    "install_wheels",
    "__version__",
]

if TYPE_CHECKING:
    from qpack.errors import QpackError
    from qpack.install import install_wheels, select
    from qpack.inventory import Inventory
    from qpack.layout import Layout, find_layout, load_layout, shipped_layouts
    from qpack.loader import Loader
    from qpack.meson import scan_meson
    from qpack.plan import Plan, make_plan, plan_build
    from qpack.writers.tree import write_tree
    from qpack.writers.wheel import write_wheels


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'qpack' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
