/* pyversion.h - the Python versions an expected verdict holds on.
 *
 * A scenario's `expect` names the interpreters a verdict is expected on,
 * and a known-defect list the versions a defect holds on. Most verdicts
 * differ only between minor versions ("3.12"), some between patch releases
 * of one (gh-130145: 3.13.0 to 3.13.2), so a version here is a minor
 * version with an optional range of its patch releases:
 *
 *   "3.13"            every 3.13.x
 *   "3.13.0"          3.13.0 only
 *   "3.13.0-3.13.2"   3.13.0, 3.13.1 and 3.13.2
 *
 * Parsing, printing and matching only: no I/O, no allocation.
 */
#ifndef ASYNCFUZZ_PYVERSION_H
#define ASYNCFUZZ_PYVERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest text af_pyversion_format writes, with its NUL. */
#define AF_PYVERSION_TEXT 16

typedef struct af_pyversion {
    int16_t minor;       /* major*100+minor: 313 for 3.13 */
    int16_t first_patch; /* -1: every patch release of minor */
    int16_t last_patch;  /* >= first_patch; -1 with first_patch -1 */
} af_pyversion;

/* Reads "3.N", "3.N.P" or "3.N.P-3.N.Q" (N, P, Q 0..99 without leading
 * zeros, P <= Q, one minor version). Returns 0, or -1 with *why set to a
 * static explanation. */
int af_pyversion_parse(const char *text, af_pyversion *out, const char **why);

/* The text af_pyversion_parse reads back. */
void af_pyversion_format(const af_pyversion *v, char *buf, size_t cap);

/* Whether v covers the interpreter minor (major*100+minor) at patch. */
bool af_pyversion_holds(const af_pyversion *v, int minor, int patch);

/* Whether a and b cover a common version. */
bool af_pyversion_overlap(const af_pyversion *a, const af_pyversion *b);

#endif
