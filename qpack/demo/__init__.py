"""The demo program bundled with qpack: a small C program with QEMU-style modules.

`build_demo(destdir)` compiles it with the system C compiler into a staged install tree, so
that qpack can be exercised on (and tested against) a real modular build.  The loader contract
is documented at the top of src/main.c.
"""

from .build import (
    MODULES,
    DemoBuildError,
    DemoModule,
    build_demo,
    canon_build_tag,
    compute_stamp,
    fallback_module_dir,
    find_compiler,
)

__all__ = [
    "MODULES",
    "DemoBuildError",
    "DemoModule",
    "build_demo",
    "canon_build_tag",
    "compute_stamp",
    "fallback_module_dir",
    "find_compiler",
]
