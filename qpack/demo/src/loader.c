/* The loader code shared by demo and demo-registry: see loader.h. */
#include "loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo-util.h"
#include "module.h"

/* Kept in step with MODULES in builder.py; the order is demo's --load-all order. */
const struct demo_module demo_modules[DEMO_N_MODULES] = {
    {"ui-curses", "ui", "curses", {NULL}},
    {"ui-gtk", "ui", "gtk", {"ui-opengl", NULL}},
    {"ui-opengl", "ui", "opengl", {NULL}},
    {"block-curl", "block", "curl", {NULL}},
    {"block-nfs", "block", "nfs", {NULL}},
    {"audio-alsa", "audio", "alsa", {NULL}},
    {"audio-pa", "audio", "pa", {"audio-alsa", NULL}},
};
_Static_assert(sizeof(demo_modules[0].needs) / sizeof(demo_modules[0].needs[0]) == DEMO_N_NEEDS,
               "DEMO_N_NEEDS is the size of needs[]");

const char *demo_progname = "demo";

/* Only the name: the executable never defines the stamp function itself. */
const char demo_stamp_symbol[] = DEMO_STAMP_SYMBOL;

/* The module whose demo_module_init() is running, and whether it registered as itself. */
static const char *initializing_type;
static const char *initializing_name;
static int registered;

int demo_core_register(const char *type, const char *name)
{
    if (initializing_type == NULL || strcmp(type, initializing_type) != 0 ||
        strcmp(name, initializing_name) != 0) {
        return -1;
    }
    registered = 1;
    return 0;
}

void *demo_check_alloc(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "%s: out of memory\n", demo_progname);
        exit(1);
    }
    return p;
}

char *demo_install_prefix(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0 || (size_t)n >= sizeof(exe) - 1) {
        return NULL;
    }
    exe[n] = '\0';
    /* The path is canonical, so dropping two components is the same as <dir>/.. */
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
        }
    }
    return demo_check_alloc(strdup(exe));
}

long demo_find_module(const char *id)
{
    for (size_t i = 0; i < DEMO_N_MODULES; i++) {
        if (strcmp(demo_modules[i].id, id) == 0) {
            return (long)i;
        }
    }
    return -1;
}

int demo_load_file(const char *type, const char *name, const char *path)
{
    /*
     * RTLD_NOW: an unresolvable symbol fails here, with a message, instead of crashing later.
     * RTLD_GLOBAL: a module's exports resolve the modules loaded after it (ui-gtk uses ui-opengl).
     */
    void *handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (handle == NULL) {
        fprintf(stderr, "%s: failed to load module %s: %s\n", demo_progname, path, dlerror());
        return 0;
    }
    if (dlsym(handle, demo_stamp_symbol) == NULL) {
        fprintf(stderr, "%s: failed to initialize module: %s\n", demo_progname, path);
        fprintf(stderr, "%s: Only modules from the same build can be loaded.\n", demo_progname);
        dlclose(handle);
        return 0;
    }
    int (*init)(void) = (int (*)(void))dlsym(handle, "demo_module_init");
    initializing_type = type;
    initializing_name = name;
    registered = 0;
    int ok = init != NULL && init() == 0 && registered;
    initializing_type = NULL;
    initializing_name = NULL;
    if (!ok) {
        fprintf(stderr, "%s: failed to initialize module: %s\n", demo_progname, path);
        dlclose(handle);
        return 0;
    }
    return 1;
}
