/* py_embed.h - the Python modules of harness/py/ and the built-in target
 * adapters of harness/targets/, embedded at build time.
 *
 * cmake/embed_py.cmake generates the table; the harness loads modules from
 * it (never from the file system) so the binary works from any directory.
 * The harness's own modules are imported at start-up; the adapters only
 * when a run names them (they import the libraries they adapt).
 */
#ifndef ASYNCFUZZ_PY_EMBED_H
#define ASYNCFUZZ_PY_EMBED_H

#include <stddef.h>
#include <string.h>

struct af_py_source {
    const char *name;   /* module name: file name without .py */
    const char *source; /* NUL-terminated source text */
    size_t length;
    const char *folder; /* "harness/py" or "harness/targets" */
};

/* Whether a module of the table is the harness's own (imported at start). */
static inline int af_py_source_is_harness(const struct af_py_source *m)
{
    return strcmp(m->folder, "harness/py") == 0;
}

/* Terminated by an entry whose name is NULL. */
extern const struct af_py_source af_py_sources[];

#endif
