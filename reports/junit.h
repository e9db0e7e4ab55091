/* junit.h - JUnit XML for CI (the format Jenkins, GitLab and GitHub
 * Actions' test reporters read).
 *
 * One <testsuite> holding one <testcase> per scenario file; a failing case
 * carries a <failure message="..."> with the difference between expected and
 * found verdicts, an erroring one (the scenario could not be read or run) an
 * <error>, a skipped one (its target does not support what it uses) a
 * <skipped message="...">. Text is XML-escaped; control characters other than tab and
 * newline are dropped (XML 1.0 cannot carry them).
 */
#ifndef ASYNCFUZZ_JUNIT_H
#define ASYNCFUZZ_JUNIT_H

#include <stdio.h>

#include "scenarios/ir.h"

typedef enum af_junit_status {
    AF_JUNIT_PASS = 0,
    AF_JUNIT_FAIL,    /* verdicts differ from the expected ones */
    AF_JUNIT_ERROR,   /* the scenario could not be read or run */
    AF_JUNIT_SKIPPED, /* not run: the target does not support what it uses */
} af_junit_status;

typedef struct af_junit_case {
    const char *name;      /* the scenario file */
    const char *classname; /* e.g. "asyncfuzz.replay" */
    double seconds;
    af_junit_status status;
    const char *message;    /* failure / error: one line; NULL for pass */
    const char *detail;     /* failure / error body (may be NULL) */
    const char *system_out; /* e.g. the verdicts found (may be NULL) */
} af_junit_case;

/* Text for XML (and HTML): & < > " ' escaped, control characters other
 * than tab and newline dropped. NULL writes nothing. */
void af_xml_put_escaped(FILE *out, const char *s);

/* Write the document to `out`. Returns 0 or -1 on a write error. */
int af_junit_fwrite(FILE *out, const char *suite, const af_junit_case *cases, int n,
                    double seconds);

/* Write it to `path`, fully and fsync'd. Returns 0 or -1 with err set. */
int af_junit_write(const char *path, const char *suite, const af_junit_case *cases, int n,
                   double seconds, af_error *err);

#endif
