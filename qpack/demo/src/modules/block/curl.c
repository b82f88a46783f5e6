/*
 * block-curl: a network block driver.  Links libdemo-util.so.1 itself (a DT_NEEDED entry that
 * the core package provides, found through the module's RUNPATH $ORIGIN/../.., or as the copy
 * the executable has already loaded).
 */
#include <stdlib.h>

#include "demo-util.h"
#include "module.h"

static int setup(void)
{
    char *scheme = demo_util_join("http", "s", "://", (char *)NULL);
    if (scheme == NULL) {
        return -1;
    }
    free(scheme);
    return 0;
}

DEMO_MODULE("block", "curl", setup)
