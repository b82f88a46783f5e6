/* libdemo-util.so.1: see demo-util.h. */
#include "demo-util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

char *demo_util_join(const char *first, ...)
{
    va_list ap;
    size_t len = 0;
    const char *s;

    va_start(ap, first);
    for (s = first; s != NULL; s = va_arg(ap, const char *)) {
        len += strlen(s);
    }
    va_end(ap);

    char *out = malloc(len + 1);
    if (out == NULL) {
        return NULL;
    }
    char *p = out;
    va_start(ap, first);
    for (s = first; s != NULL; s = va_arg(ap, const char *)) {
        size_t n = strlen(s);
        memcpy(p, s, n);
        p += n;
    }
    va_end(ap);
    *p = '\0';
    return out;
}

char *demo_util_canon(const char *s)
{
    char *out = strdup(s);
    if (out == NULL) {
        return NULL;
    }
    /* Explicit ranges rather than isalnum(): the result must not depend on the locale. */
    for (char *p = out; *p != '\0'; p++) {
        char c = *p;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '+' || c == '-' || c == '.' || c == '~';
        if (!keep) {
            *p = '_';
        }
    }
    return out;
}
