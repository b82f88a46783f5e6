/*
 * demo-registry: a register-all plugin loader (like plugin frameworks that scan whole directories).
 * The demo build's second executable, so that qpack's static checker can be verified against two
 * real loaders.  Linked from this file and loader.c, which it shares with demo: the same build tag,
 * stamp and module table (with the same dependencies), the same dlopen / stamp / init checks.
 * qpack's model of this loader follows the contract below; change both together.
 *
 * Search locations, in order:
 *   1. each directory of $DEMO_PLUGIN_PATH, a ':'-separated list (empty entries skipped), in order;
 *   2. if $DEMO_PLUGIN_SYSTEM_PATH is set (even to the empty string), each directory of it
 *      (':'-separated, empty entries skipped) INSTEAD of location 3;
 *   3. otherwise the relocated directory <P>/lib/demo (P = dirname(dirname(/proc/self/exe))).
 *   Entries are used as written (not normalised; a directory listed twice is searched twice).
 *   P is found as demo finds it; location 3 is skipped if /proc/self/exe is unreadable.
 *
 * Registration: for each location D in order, for each entry T of D in strcmp order that is one of
 *   the types ui, block, audio and is a directory (stat, following symlinks), for each entry F of D/T
 *   in strcmp order whose name ends in ".so" and that is a regular file (stat, following symlinks):
 *   module id = T + "-" + F without ".so". If that id is already registered, F is ignored with
 *   "demo-registry: ignoring <file>: <id> already registered from <first file>" on stderr;
 *   otherwise it is registered with that file. (So: every module file in every search directory is
 *   registered; a module name seen twice keeps the first.) Ids not in the module table are
 *   registered and loaded too (they have no dependencies).
 *   A module's file is D + "/" + T + "/" + F, built by plain concatenation and printed as built.
 *   A location or type directory that cannot be listed (missing, not a directory, unreadable)
 *   registers nothing, silently; so does an entry that stat() fails on (a dangling symlink).
 *
 * Loading: every registered module, in registration order, each at most once: dependencies (from
 *   the compiled table) first — a dependency that is not registered or fails: "demo-registry: module
 *   M not loaded: needs <dep>"; then the same dlopen / stamp / init checks and messages as demo
 *   (prefix "demo-registry: "), and "loaded <id> from <file>" on stdout when loaded.
 *   The checks (loader.c), for module T-N registered with file <file>:
 *   - dlopen(file, RTLD_NOW | RTLD_GLOBAL) fails (truncated file, not ELF, wrong ELF class,
 *     missing library):
 *       "demo-registry: failed to load module <file>: <dlerror()>"
 *   - the module lacks demo_stamp_<hex> of this build:
 *       "demo-registry: failed to initialize module: <file>"
 *       "demo-registry: Only modules from the same build can be loaded."
 *   - its demo_module_init() fails, or registers anything but type T and name N:
 *       "demo-registry: failed to initialize module: <file>"
 *   A dependency is loaded (with its own dependencies first) when its dependent reaches it, and is
 *   not tried again at its own turn; a dependency cycle fails with "needs".
 *   Every "demo-registry: ..." message goes to stderr; modules print nothing.
 *
 * Command line: no argument = load everything, print "demo-registry: <N> modules loaded" on stderr,
 *   exit 0; --search-path prints the locations in order, one per line; --stamp; --version; --help.
 *   demo-registry --stamp      the stamp symbol name, demo_stamp_<hex> (the same as demo's)
 *   demo-registry --version    "demo-registry <build tag>"
 *   demo-registry --help       usage on stdout, exit 0
 *   Anything else is a usage error: usage on stderr, exit 2 (after "demo-registry: unknown option
 *   <arg>" when the only argument is not one of these).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "demo-util.h"
#include "loader.h"

#ifndef DEMO_BUILD_TAG
#error "build with -DDEMO_BUILD_TAG=\"<tag>\" (builder.py does)"
#endif

#define PROGNAME "demo-registry"

/* The module types, the only subdirectories of a location that are scanned. */
static const char *const types[] = {"ui", "block", "audio"};

static char **locations;
static size_t n_locations;

enum state { NOT_TRIED, LOADING, LOADED, FAILED };

struct entry {
    char *id;   /* T + "-" + name */
    char *type; /* T */
    char *name; /* F without ".so" */
    char *path; /* D + "/" + T + "/" + F */
    long table; /* index in demo_modules, or -1: no dependencies */
    enum state state;
};

/* The registered modules, in registration order. */
static struct entry *entries;
static size_t n_entries;

static void add_location(const char *dir, size_t len)
{
    if (len == 0) {
        return; /* empty entries are skipped */
    }
    locations = demo_check_alloc(realloc(locations, (n_locations + 1) * sizeof(*locations)));
    locations[n_locations++] = demo_check_alloc(strndup(dir, len));
}

/* Adds each non-empty entry of a ':'-separated list. */
static void add_path_list(const char *list)
{
    for (;;) {
        const char *colon = strchr(list, ':');
        if (colon == NULL) {
            add_location(list, strlen(list));
            return;
        }
        add_location(list, (size_t)(colon - list));
        list = colon + 1;
    }
}

static void init_locations(void)
{
    const char *plugin_path = getenv("DEMO_PLUGIN_PATH");
    if (plugin_path != NULL) {
        add_path_list(plugin_path);
    }
    const char *system_path = getenv("DEMO_PLUGIN_SYSTEM_PATH");
    if (system_path != NULL) {
        add_path_list(system_path);
        return;
    }
    char *prefix = demo_install_prefix();
    if (prefix != NULL) {
        char *dir = demo_check_alloc(demo_util_join(prefix, "/lib/demo", (char *)NULL));
        add_location(dir, strlen(dir));
        free(dir);
        free(prefix);
    }
}

static int is_type(const char *name)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(name, types[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int stat_is(const char *path, mode_t type)
{
    struct stat st;
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

static int by_strcmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The entries of dir in strcmp order (n set to their number), or NULL if it cannot be listed. */
static struct dirent **list_dir(const char *dir, int *n)
{
    struct dirent **names;
    *n = scandir(dir, &names, NULL, by_strcmp);
    return *n < 0 ? NULL : names;
}

static struct entry *find_entry(const char *id)
{
    for (size_t i = 0; i < n_entries; i++) {
        if (strcmp(entries[i].id, id) == 0) {
            return &entries[i];
        }
    }
    return NULL;
}

/* Registers type/file (file being a "<name>.so" in the directory typedir), unless its id is taken. */
static void register_file(const char *typedir, const char *type, const char *file)
{
    char *path = demo_check_alloc(demo_util_join(typedir, "/", file, (char *)NULL));
    if (!stat_is(path, S_IFREG)) {
        free(path);
        return;
    }
    char *name = demo_check_alloc(strndup(file, strlen(file) - strlen(".so")));
    char *id = demo_check_alloc(demo_util_join(type, "-", name, (char *)NULL));
    const struct entry *first = find_entry(id);
    if (first != NULL) {
        fprintf(stderr, PROGNAME ": ignoring %s: %s already registered from %s\n", path, id, first->path);
        free(path);
        free(name);
        free(id);
        return;
    }
    entries = demo_check_alloc(realloc(entries, (n_entries + 1) * sizeof(*entries)));
    entries[n_entries++] = (struct entry){
        .id = id,
        .type = demo_check_alloc(strdup(type)),
        .name = name,
        .path = path,
        .table = demo_find_module(id),
        .state = NOT_TRIED,
    };
}

static int ends_with_so(const char *name)
{
    size_t len = strlen(name);
    return len >= strlen(".so") && strcmp(name + len - strlen(".so"), ".so") == 0;
}

static void register_location(const char *dir)
{
    int n_types;
    struct dirent **type_names = list_dir(dir, &n_types);
    if (type_names == NULL) {
        return;
    }
    for (int i = 0; i < n_types; i++) {
        const char *type = type_names[i]->d_name;
        char *typedir = demo_check_alloc(demo_util_join(dir, "/", type, (char *)NULL));
        int n_files;
        struct dirent **files = NULL;
        if (is_type(type) && stat_is(typedir, S_IFDIR) && (files = list_dir(typedir, &n_files)) != NULL) {
            for (int j = 0; j < n_files; j++) {
                if (ends_with_so(files[j]->d_name)) {
                    register_file(typedir, type, files[j]->d_name);
                }
                free(files[j]);
            }
            free(files);
        }
        free(typedir);
        free(type_names[i]);
    }
    free(type_names);
}

/* Loads e and its dependencies; returns 1 if it is loaded. */
static int load_entry(struct entry *e)
{
    if (e->state != NOT_TRIED) {
        return e->state == LOADED; /* LOADING would be a dependency cycle: not loaded */
    }
    e->state = LOADING;
    if (e->table >= 0) {
        const struct demo_module *m = &demo_modules[e->table];
        for (size_t i = 0; i < DEMO_N_NEEDS && m->needs[i] != NULL; i++) {
            struct entry *dep = find_entry(m->needs[i]);
            if (dep == NULL || !load_entry(dep)) {
                fprintf(stderr, PROGNAME ": module %s not loaded: needs %s\n", e->id, m->needs[i]);
                e->state = FAILED;
                return 0;
            }
        }
    }
    int ok = demo_load_file(e->type, e->name, e->path);
    if (ok) {
        printf("loaded %s from %s\n", e->id, e->path);
    }
    e->state = ok ? LOADED : FAILED;
    return ok;
}

static int usage(FILE *out, int status)
{
    fputs("usage: " PROGNAME " [--search-path | --stamp | --version | --help]\n", out);
    return status;
}

int main(int argc, char **argv)
{
    /* Line-buffered, so that stdout and stderr interleave in order when both are captured. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    demo_progname = PROGNAME;
    init_locations();

    if (argc == 1) {
        for (size_t i = 0; i < n_locations; i++) {
            register_location(locations[i]);
        }
        for (size_t i = 0; i < n_entries; i++) {
            load_entry(&entries[i]);
        }
        size_t n = 0;
        for (size_t i = 0; i < n_entries; i++) {
            n += entries[i].state == LOADED;
        }
        fprintf(stderr, PROGNAME ": %zu modules loaded\n", n);
        return 0;
    }
    const char *cmd = argv[1];
    if (argc > 2) {
        return usage(stderr, 2);
    }
    if (strcmp(cmd, "--search-path") == 0) {
        for (size_t i = 0; i < n_locations; i++) {
            puts(locations[i]);
        }
        return 0;
    }
    if (strcmp(cmd, "--stamp") == 0) {
        puts(demo_stamp_symbol);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        puts(PROGNAME " " DEMO_BUILD_TAG);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0) {
        return usage(stdout, 0);
    }
    fprintf(stderr, PROGNAME ": unknown option %s\n", cmd);
    return usage(stderr, 2);
}
