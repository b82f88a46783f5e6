/* ui-opengl: shared rendering support that other ui modules call (like QEMU's ui-opengl). */
#include "module.h"

static int contexts;

/*
 * Exported for ui-gtk.  The executable dlopen()s modules RTLD_GLOBAL, so once ui-opengl is
 * loaded this symbol resolves ui-gtk's undefined reference; that is why ui-gtk must be
 * loaded after it (the dependency table in main.c).
 */
int demo_opengl_context(void)
{
    return ++contexts;
}

static int setup(void)
{
    contexts = 0;
    return 0;
}

DEMO_MODULE("ui", "opengl", setup)
