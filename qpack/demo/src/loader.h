/*
 * The part of the module loader that the demo build's two executables share: demo (main.c) and
 * demo-registry (registry.c) are each linked from their own source plus loader.c.  Shared: the
 * module table, the installation prefix, and what happens to a module file once the executable
 * has chosen it (dlopen, stamp check, init), with its messages.  Each executable's source
 * documents its own loader contract (how files are found and in which order they are loaded).
 *
 * Everything declared here is hidden: with -rdynamic the executables export only
 * demo_core_register (module.h), which modules call.
 */
#ifndef DEMO_LOADER_H
#define DEMO_LOADER_H

#include <stddef.h>

#define DEMO_HIDDEN __attribute__((visibility("hidden")))

struct demo_module {
    const char *id; /* "<type>-<name>", as printed and as given to demo --load */
    const char *type;
    const char *name;
    const char *needs[2]; /* ids of modules loaded first; unused slots are NULL */
};

/* The module table (loader.c), kept in step with MODULES in builder.py. */
#define DEMO_N_MODULES 7
#define DEMO_N_NEEDS 2
DEMO_HIDDEN extern const struct demo_module demo_modules[DEMO_N_MODULES];

/* The name that starts every message ("demo", "demo-registry"); main() sets it first. */
DEMO_HIDDEN extern const char *demo_progname;

/* This build's stamp symbol name, demo_stamp_<hex>.  The executables only hold the name. */
DEMO_HIDDEN extern const char demo_stamp_symbol[];

/* Returns p; if p is NULL, prints "<progname>: out of memory" and exits with status 1. */
DEMO_HIDDEN void *demo_check_alloc(void *p);

/*
 * dirname(dirname(E)) for E = the executable's path read from /proc/self/exe (symlinks
 * resolved), like QEMU's get_relocated_path(): malloc'd, "" for the root, NULL if unreadable.
 */
DEMO_HIDDEN char *demo_install_prefix(void);

/* The index of id in demo_modules, or -1. */
DEMO_HIDDEN long demo_find_module(const char *id);

/*
 * dlopen()s path (RTLD_NOW | RTLD_GLOBAL), checks the stamp and runs the module's
 * demo_module_init(), which must register exactly (type, name).  Prints on stderr, <p> being
 * demo_progname:
 *   dlopen() fails:     "<p>: failed to load module <path>: <dlerror()>"
 *   no stamp symbol:    "<p>: failed to initialize module: <path>"
 *                       "<p>: Only modules from the same build can be loaded."
 *   init fails:         "<p>: failed to initialize module: <path>"
 * and nothing on success.  Returns 1 if the module is now loaded, else 0 (and dlclose()s it).
 */
DEMO_HIDDEN int demo_load_file(const char *type, const char *name, const char *path);

#endif /* DEMO_LOADER_H */
