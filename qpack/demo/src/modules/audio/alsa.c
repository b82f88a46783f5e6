/*
 * audio-alsa: a sound backend.  Linked with -lm and calls cbrt(), so libm.so.6 is in its
 * DT_NEEDED: a module depending on a system library, which packagers turn into a package
 * dependency.
 */
#include <math.h>

#include "module.h"

static int setup(void)
{
    /* volatile keeps the compiler from folding the call, so the libm reference stays. */
    volatile double rate = 48000.0;
    return cbrt(rate) > 1.0 ? 0 : -1;
}

DEMO_MODULE("audio", "alsa", setup)
