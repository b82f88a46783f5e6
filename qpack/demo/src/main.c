/*
 * demo: a small modular program that loads its modules the way QEMU (7.2 and later) does, so
 * that qpack can be tested on a real build.  qpack's static checker models the contract below;
 * change both together.
 *
 * Modules
 *   The table `demo_modules` in loader.c: <type>-<name> and the modules it needs.  Like QEMU's
 *   module_deps, the dependencies are compiled into the executable, not recorded in the .so files.
 *   (loader.c, linked into both demo and demo-registry, also holds the dlopen / stamp / init
 *   checks below; registry.c documents the second executable's contract.)
 *
 * Search locations, in this order, one directory each:
 *   1. $DEMO_MODULE_DIR, if set and not empty (a single directory, not a list);
 *   2. the relocated module directory <P>/lib/demo, where <P> = dirname(dirname(E)) and E is the
 *      executable's path as read from /proc/self/exe (symlinks resolved, so bin/demo-run works
 *      too; E = /x/usr/bin/demo gives /x/usr/lib/demo).  Skipped if /proc/self/exe is unreadable;
 *   3. /var/run/demo/<canon(build tag)>, never relocated; canon() replaces every character
 *      outside A-Z a-z 0-9 + - . ~ by '_'.
 *   The file of module <type>-<name> in directory D is D + "/" + type + "/" + name + ".so", built
 *   by plain concatenation and printed as built.  The first location where that file exists
 *   (access(F_OK) does not fail with ENOENT or ENOTDIR) wins: if it then fails to load, later
 *   locations are NOT tried (QEMU 7.2+ semantics: a stale module shadows a good one).
 *
 * Loading module M (each module is tried at most once per run):
 *   - M's file is found nowhere: M is not loaded, silently (with --load: "demo: module M not found");
 *   - else M's dependencies are loaded first, in table order; if one is not loaded:
 *       "demo: module M not loaded: needs <dep>"
 *   - dlopen(file, RTLD_NOW | RTLD_GLOBAL) fails (truncated file, not ELF, missing library):
 *       "demo: failed to load module <file>: <dlerror()>"
 *   - the module lacks demo_stamp_<hex> of this build:
 *       "demo: failed to initialize module: <file>"
 *       "demo: Only modules from the same build can be loaded."
 *   - its demo_module_init() fails (or registers another module's name):
 *       "demo: failed to initialize module: <file>"
 *   - else M is loaded and "loaded M from <file>" goes to stdout.
 *   Every "demo: ..." message goes to stderr; modules print nothing.
 *
 * Command line (exit status 2 and usage on stderr for anything else):
 *   demo | demo --load-all   try every module in table order; then print the banner
 *                            <P>/share/demo/banner.txt if it exists, then "demo: <N> modules loaded";
 *                            exit 0
 *   demo --load ID...        the same for the named modules (and their dependencies) only;
 *                            exit 1 if a named one was not loaded (an unknown ID is a usage error)
 *   demo --search-path       the search locations in order, one per line
 *   demo --stamp             the stamp symbol name, demo_stamp_<hex>
 *   demo --version           "demo <build tag>"
 *   demo --help              usage on stdout
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo-util.h"
#include "loader.h"

#ifndef DEMO_BUILD_TAG
#error "build with -DDEMO_BUILD_TAG=\"<tag>\" (builder.py does)"
#endif

enum state { NOT_TRIED, LOADING, LOADED, FAILED };
static enum state states[DEMO_N_MODULES];

static const char *search_dirs[3];
static size_t n_search_dirs;
/* dirname(dirname(/proc/self/exe)): "" for the root, NULL when unknown. */
static char *install_prefix;

static char *xjoin2(const char *a, const char *b)
{
    return demo_check_alloc(demo_util_join(a, b, (char *)NULL));
}

static void init_search_path(void)
{
    const char *env = getenv("DEMO_MODULE_DIR");
    if (env != NULL && env[0] != '\0') {
        search_dirs[n_search_dirs++] = env;
    }
    if (install_prefix != NULL) {
        search_dirs[n_search_dirs++] = xjoin2(install_prefix, "/lib/demo");
    }
    char *tag = demo_check_alloc(demo_util_canon(DEMO_BUILD_TAG));
    search_dirs[n_search_dirs++] = xjoin2("/var/run/demo/", tag);
    free(tag);
}

/* The path of m's file in the first search location where it exists, or NULL. */
static char *find_file(const struct demo_module *m)
{
    for (size_t i = 0; i < n_search_dirs; i++) {
        char *path = demo_check_alloc(
            demo_util_join(search_dirs[i], "/", m->type, "/", m->name, ".so", (char *)NULL));
        /* As QEMU: only a missing file or directory moves on; any other error means "found". */
        if (access(path, F_OK) == 0 || (errno != ENOENT && errno != ENOTDIR)) {
            return path;
        }
        free(path);
    }
    return NULL;
}

/* Loads module idx and its dependencies; returns 1 if it is loaded. */
static int load_module(size_t idx, int report_missing)
{
    const struct demo_module *m = &demo_modules[idx];

    if (states[idx] != NOT_TRIED) {
        return states[idx] == LOADED; /* LOADING would be a dependency cycle: not loaded */
    }
    states[idx] = LOADING;

    /*
     * The module's own file is looked for first, so that an absent module whose dependency is
     * absent too (a core installed without that package) stays silent.
     */
    char *path = find_file(m);
    if (path == NULL) {
        if (report_missing) {
            fprintf(stderr, "demo: module %s not found\n", m->id);
        }
        states[idx] = FAILED;
        return 0;
    }
    for (size_t i = 0; i < DEMO_N_NEEDS && m->needs[i] != NULL; i++) {
        long dep = demo_find_module(m->needs[i]);
        if (dep < 0 || !load_module((size_t)dep, 0)) {
            fprintf(stderr, "demo: module %s not loaded: needs %s\n", m->id, m->needs[i]);
            free(path);
            states[idx] = FAILED;
            return 0;
        }
    }
    int ok = demo_load_file(m->type, m->name, path);
    if (ok) {
        printf("loaded %s from %s\n", m->id, path);
    }
    free(path);
    states[idx] = ok ? LOADED : FAILED;
    return ok;
}

static void print_banner(void)
{
    if (install_prefix == NULL) {
        return;
    }
    char *path = xjoin2(install_prefix, "/share/demo/banner.txt");
    FILE *f = fopen(path, "r");
    free(path);
    if (f == NULL) {
        return; /* the banner is optional */
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        fwrite(buf, 1, n, stdout);
    }
    fclose(f);
}

static void print_summary(void)
{
    size_t n = 0;
    for (size_t i = 0; i < DEMO_N_MODULES; i++) {
        n += states[i] == LOADED;
    }
    print_banner();
    printf("demo: %zu modules loaded\n", n);
}

static int usage(FILE *out, int status)
{
    fputs("usage: demo [--load-all | --load TYPE-NAME... | --search-path | --stamp | --version | --help]\n",
          out);
    return status;
}

int main(int argc, char **argv)
{
    /* Line-buffered, so that stdout and stderr interleave in order when both are captured. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    demo_progname = "demo";
    install_prefix = demo_install_prefix();
    init_search_path();

    const char *cmd = argc > 1 ? argv[1] : "--load-all";
    if (strcmp(cmd, "--load") == 0) {
        if (argc < 3) {
            return usage(stderr, 2);
        }
        for (int i = 2; i < argc; i++) {
            if (demo_find_module(argv[i]) < 0) {
                fprintf(stderr, "demo: unknown module %s\n", argv[i]);
                return 2;
            }
        }
        int status = 0;
        for (int i = 2; i < argc; i++) {
            if (!load_module((size_t)demo_find_module(argv[i]), 1)) {
                status = 1;
            }
        }
        print_summary();
        return status;
    }
    if (argc > 2) {
        return usage(stderr, 2);
    }
    if (strcmp(cmd, "--load-all") == 0) {
        for (size_t i = 0; i < DEMO_N_MODULES; i++) {
            load_module(i, 0);
        }
        print_summary();
        return 0;
    }
    if (strcmp(cmd, "--search-path") == 0) {
        for (size_t i = 0; i < n_search_dirs; i++) {
            puts(search_dirs[i]);
        }
        return 0;
    }
    if (strcmp(cmd, "--stamp") == 0) {
        puts(demo_stamp_symbol);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        puts("demo " DEMO_BUILD_TAG);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0) {
        return usage(stdout, 0);
    }
    fprintf(stderr, "demo: unknown option %s\n", cmd);
    return usage(stderr, 2);
}
