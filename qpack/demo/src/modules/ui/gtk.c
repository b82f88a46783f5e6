/* ui-gtk: a windowed display.  Needs ui-opengl, whose demo_opengl_context() it calls. */
#include "module.h"

static int setup(void)
{
    return demo_opengl_context() > 0 ? 0 : -1;
}

DEMO_MODULE("ui", "gtk", setup)
