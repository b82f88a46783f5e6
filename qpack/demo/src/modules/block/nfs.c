/* block-nfs: a network block driver.  No dependencies. */
#include "module.h"

static int setup(void)
{
    return 0;
}

DEMO_MODULE("block", "nfs", setup)
