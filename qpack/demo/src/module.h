/*
 * Declarations shared by the demo executable and its modules.
 *
 * builder.py compiles every file with -DDEMO_STAMP=<40 hex digits>, the build stamp (see
 * compute_stamp in builder.py).  Each module exports a function named demo_stamp_<hex>; the
 * executable only holds that name as a string and asks each module for it after dlopen(), so
 * a module from another build (another stamp) is refused, as QEMU does with qemu_stamp_<hex>.
 */
#ifndef DEMO_MODULE_H
#define DEMO_MODULE_H

#ifndef DEMO_STAMP
#error "build with -DDEMO_STAMP=<40 hex digits> (builder.py does)"
#endif

/* Two levels so that DEMO_STAMP is expanded before it is pasted or quoted. */
#define DEMO_PASTE_(a, b) a##b
#define DEMO_PASTE(a, b) DEMO_PASTE_(a, b)
#define DEMO_QUOTE_(x) #x
#define DEMO_QUOTE(x) DEMO_QUOTE_(x)

#define DEMO_STAMP_FN DEMO_PASTE(demo_stamp_, DEMO_STAMP)
#define DEMO_STAMP_SYMBOL "demo_stamp_" DEMO_QUOTE(DEMO_STAMP)

/*
 * Defined in the executable, which is linked with -rdynamic so that modules can call it: a
 * module's undefined symbols are provided by the core, not by a library.  A module's init
 * calls it with its own type and name; it returns 0 when they are those of the module the
 * executable is loading, -1 otherwise (a module file renamed to another module's name).
 */
int demo_core_register(const char *type, const char *name);

/* Defined in ui-opengl; modules calling it list ui-opengl among their dependencies. */
int demo_opengl_context(void);

/*
 * Defines what every module exports: the stamp function, demo_module_dummy (like
 * qemu_module_dummy) and demo_module_init, which the executable calls after the stamp check.
 * setup_ is the module's own static int (void) function, returning 0 on success.
 */
#define DEMO_MODULE(type_, name_, setup_)                     \
    void DEMO_STAMP_FN(void);                                 \
    void DEMO_STAMP_FN(void) {}                               \
    void demo_module_dummy(void);                             \
    void demo_module_dummy(void) {}                           \
    int demo_module_init(void);                               \
    int demo_module_init(void)                                \
    {                                                         \
        if (demo_core_register(type_, name_) != 0) {          \
            return -1;                                        \
        }                                                     \
        return setup_();                                      \
    }

#endif /* DEMO_MODULE_H */
