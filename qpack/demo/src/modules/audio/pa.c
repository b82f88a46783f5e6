/* audio-pa: a sound backend.  Needs audio-alsa (a dependency declared only in main.c's table). */
#include "module.h"

static int setup(void)
{
    return 0;
}

DEMO_MODULE("audio", "pa", setup)
