"""The demo program bundled with qpack: a small C program with QEMU-style modules.

`build_demo(destdir)` compiles it with the system C compiler into a staged install tree, so
that qpack can be exercised on (and tested against) a real modular build with two real loaders:
bin/demo (QEMU-style; its contract is documented at the top of src/main.c) and
bin/demo-registry (register-all plugin loader; top of src/registry.c).  `build_extra_module` and
`build_extra_library` compile module files the build does not have, for test fixtures.
"""

from .builder import (
    MODULES,
    DemoBuildError,
    DemoModule,
    build_demo,
    build_extra_library,
    build_extra_module,
    canon_build_tag,
    compute_stamp,
    fallback_module_dir,
    find_compiler,
    m32_supported,
)

__all__ = [
    "MODULES",
    "DemoBuildError",
    "DemoModule",
    "build_demo",
    "build_extra_library",
    "build_extra_module",
    "canon_build_tag",
    "compute_stamp",
    "fallback_module_dir",
    "find_compiler",
    "m32_supported",
]
