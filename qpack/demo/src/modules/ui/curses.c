/* ui-curses: a text display.  No dependencies; calls only into the executable. */
#include "module.h"

static int setup(void)
{
    return 0;
}

DEMO_MODULE("ui", "curses", setup)
