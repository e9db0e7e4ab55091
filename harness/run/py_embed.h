/* py_embed.h - the Python modules of harness/py/, embedded at build time.
 *
 * cmake/embed_py.cmake generates the table; the harness loads modules from
 * it (never from the file system) so the binary works from any directory.
 */
#ifndef ASYNCFUZZ_PY_EMBED_H
#define ASYNCFUZZ_PY_EMBED_H

#include <stddef.h>

struct af_py_source {
    const char *name;   /* module name: file name without .py */
    const char *source; /* NUL-terminated source text */
    size_t length;
};

/* Terminated by an entry whose name is NULL. */
extern const struct af_py_source af_py_sources[];

#endif
