/* error.h - the one error type every stage returns upward.
 *
 * A function that fails fills an af_error and returns -1 (or NULL); only
 * the edge (the CLI, an engine's entry point) prints it, once. Readers of
 * scenario files set the position (line, column, JSON path); other errors
 * leave them empty. Nothing here prints or exits.
 */
#ifndef ASYNCFUZZ_ERROR_H
#define ASYNCFUZZ_ERROR_H

#include <stddef.h>

typedef struct af_error {
    int line;       /* 1-based; 0 when unknown */
    int column;     /* 1-based; 0 when unknown */
    char path[160]; /* JSON path of the offending field, e.g. main.body[2].ticks */
    char message[256];
} af_error;

/* Set err (when not NULL): position cleared, path and a printf message. */
void af_error_set(af_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format `e` as "FILE:LINE:COL: PATH: MESSAGE" into `buf`, always
 * NUL-terminated, truncated to `cap` bytes: ":LINE:COL" is left out when
 * the position is unknown and "PATH: " when the error is not about one
 * field. `file` may be NULL (then "<input>"). No trailing newline. */
void af_error_format(const af_error *e, const char *file, char *buf, size_t cap);

#endif
