/* junit.c - JUnit XML writer (junit.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reports/junit.h"

void af_xml_put_escaped(FILE *out, const char *s)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            if (*p < 0x20 && *p != '\n' && *p != '\t')
                break; /* not representable in XML 1.0 */
            fputc(*p, out);
        }
    }
}

int af_junit_fwrite(FILE *out, const char *suite, const af_junit_case *cases, int n, double seconds)
{
    int failures = 0, errors = 0, skipped = 0;
    for (int i = 0; i < n; i++) {
        failures += cases[i].status == AF_JUNIT_FAIL;
        errors += cases[i].status == AF_JUNIT_ERROR;
        skipped += cases[i].status == AF_JUNIT_SKIPPED;
    }
    char stamp[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"", out);
    af_xml_put_escaped(out, suite);
    fprintf(out,
            "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\" "
            "timestamp=\"%s\">\n",
            n, failures, errors, skipped, seconds, stamp);
    for (int i = 0; i < n; i++) {
        const af_junit_case *c = &cases[i];
        fputs("    <testcase classname=\"", out);
        af_xml_put_escaped(out, c->classname ? c->classname : suite);
        fputs("\" name=\"", out);
        af_xml_put_escaped(out, c->name);
        fprintf(out, "\" time=\"%.6f\"", c->seconds);
        if (c->status == AF_JUNIT_PASS && !c->system_out) {
            fputs("/>\n", out);
            continue;
        }
        fputs(">\n", out);
        if (c->status == AF_JUNIT_SKIPPED) {
            fputs("      <skipped message=\"", out);
            af_xml_put_escaped(out, c->message ? c->message : "");
            fputs("\"/>\n", out);
        } else if (c->status != AF_JUNIT_PASS) {
            const char *tag = c->status == AF_JUNIT_FAIL ? "failure" : "error";
            fprintf(out, "      <%s message=\"", tag);
            af_xml_put_escaped(out, c->message ? c->message : "");
            fprintf(out, "\" type=\"%s\">", c->status == AF_JUNIT_FAIL ? "verdicts" : "harness");
            af_xml_put_escaped(out, c->detail ? c->detail : c->message);
            fprintf(out, "</%s>\n", tag);
        }
        if (c->system_out) {
            fputs("      <system-out>", out);
            af_xml_put_escaped(out, c->system_out);
            fputs("</system-out>\n", out);
        }
        fputs("    </testcase>\n", out);
    }
    fputs("  </testsuite>\n</testsuites>\n", out);
    return ferror(out) ? -1 : 0;
}

int af_junit_write(const char *path, const char *suite, const af_junit_case *cases, int n,
                   double seconds, af_error *err)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        af_error_set(err, "", "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    int rc = af_junit_fwrite(out, suite, cases, n, seconds);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0)
        rc = -1;
    if (fclose(out) != 0)
        rc = -1;
    if (rc < 0)
        af_error_set(err, "", "%s: write failed: %s", path, strerror(errno));
    return rc;
}
