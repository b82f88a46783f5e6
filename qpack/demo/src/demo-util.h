/*
 * libdemo-util.so.1: a small shared library that the executable links against (DT_NEEDED),
 * so that the core package has a library of its own next to the executable.
 */
#ifndef DEMO_UTIL_H
#define DEMO_UTIL_H

/* Concatenates its arguments up to a NULL; returns a malloc'd string, or NULL when out of memory. */
char *demo_util_join(const char *first, ...) __attribute__((sentinel));

/*
 * Returns a malloc'd copy of s where every character outside A-Z a-z 0-9 + - . ~ is replaced
 * by '_' (QEMU canonicalises its pkgversion this way for /var/run/qemu/<version>), or NULL.
 */
char *demo_util_canon(const char *s);

#endif /* DEMO_UTIL_H */
