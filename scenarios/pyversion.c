/* pyversion.c - Python versions and patch ranges (pyversion.h).
 *
 * Strict reading: a version is written one way only, so two spellings of
 * one version never both appear in a list. No I/O, no allocation.
 */
#include "scenarios/pyversion.h"

#include <stdio.h>

/* A number 0..99 without a leading zero at *p; advances *p. -1 if none. */
static int read_number(const char **p)
{
    const char *s = *p;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    if (s[0] == '0' || s[1] < '0' || s[1] > '9') {
        *p = s + 1;
        return s[0] - '0';
    }
    if (s[2] >= '0' && s[2] <= '9')
        return -1;
    *p = s + 2;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* "3.N" at *p: the minor version's number N, or -1. */
static int read_minor(const char **p)
{
    if ((*p)[0] != '3' || (*p)[1] != '.')
        return -1;
    *p += 2;
    return read_number(p);
}

int af_pyversion_parse(const char *text, af_pyversion *out, const char **why)
{
    static const char expected[] = "expected \"3.N\", \"3.N.P\" or \"3.N.P-3.N.Q\"";
    const char *p = text;
    int minor = read_minor(&p);
    if (minor < 0) {
        *why = expected;
        return -1;
    }
    int first = -1, last = -1;
    if (*p == '.') {
        p++;
        first = last = read_number(&p);
        if (first < 0) {
            *why = expected;
            return -1;
        }
        if (*p == '-') {
            p++;
            int minor2 = read_minor(&p);
            if (minor2 < 0 || *p != '.') {
                *why = expected;
                return -1;
            }
            p++;
            last = read_number(&p);
            if (last < 0) {
                *why = expected;
                return -1;
            }
            if (minor2 != minor) {
                *why = "a patch range stays within one minor version (3.N.P-3.N.Q)";
                return -1;
            }
            if (last <= first) {
                *why = "a patch range goes from a lower patch release to a higher one";
                return -1;
            }
        }
    }
    if (*p != '\0') {
        *why = expected;
        return -1;
    }
    out->minor = (int16_t)(300 + minor);
    out->first_patch = (int16_t)first;
    out->last_patch = (int16_t)last;
    return 0;
}

void af_pyversion_format(const af_pyversion *v, char *buf, size_t cap)
{
    int major = v->minor / 100, minor = v->minor % 100;
    if (v->first_patch < 0)
        snprintf(buf, cap, "%d.%d", major, minor);
    else if (v->last_patch == v->first_patch)
        snprintf(buf, cap, "%d.%d.%d", major, minor, v->first_patch);
    else
        snprintf(buf, cap, "%d.%d.%d-%d.%d.%d", major, minor, v->first_patch, major, minor,
                 v->last_patch);
}

bool af_pyversion_holds(const af_pyversion *v, int minor, int patch)
{
    if (v->minor != minor)
        return false;
    return v->first_patch < 0 || (patch >= v->first_patch && patch <= v->last_patch);
}

bool af_pyversion_overlap(const af_pyversion *a, const af_pyversion *b)
{
    if (a->minor != b->minor)
        return false;
    if (a->first_patch < 0 || b->first_patch < 0)
        return true;
    return a->first_patch <= b->last_patch && b->first_patch <= a->last_patch;
}
