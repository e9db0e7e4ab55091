/* cli_report.c - `asyncfuzz report CAMPAIGN`: reads a campaign folder
 * (reports/report.h) and writes its report as Markdown, HTML, JUnit and
 * JSON into CAMPAIGN/report/ (or --out), each file replaced at once.
 * Prints what it wrote and the new findings; exit 0 when nothing is new,
 * 1 when new findings are listed (CI can gate on it), 2 on an error.
 * Nothing here lays out or judges: the writers do.
 */
#include <stdlib.h>
#include <string.h>

#include "base/file_io.h"
#include "harness/cli/cli.h"
#include "reports/report.h"

static const af_cli_help report_help = {
    .usage = "report CAMPAIGN [--out DIR] [--format md,html,junit,json]",
    .args = "CAMPAIGN",
    .min_args = 1,
    .max_args = 1,
    .above = "Write the report of a campaign folder (the --out of fuzz and gen): the new\n"
             "findings first, then the known ones with their issue and count, then the trend\n"
             "over past runs. report.html is one self-contained page (no network): plots of\n"
             "execs/s, features and findings over time, and for each finding its verdict,\n"
             "scenario tree, reproducer and a timeline of its run, one lane per task.\n"
             "report.junit.xml has one test case per signature (a new one fails), report.json\n"
             "the whole model. A folder without history or statistics (an old campaign, a\n"
             "plain findings store) still gives a report, which says what is missing.\n",
    .below = "exit: 0 written and nothing new, 1 written and new findings listed, 2 error\n",
};

/* One document: its --format word, file name and writer. */
typedef struct document {
    const char *format, *file;
    int (*write)(const af_report *r, FILE *out, af_error *err);
} document;

static int write_md(const af_report *r, FILE *out, af_error *err)
{
    (void)err;
    return af_report_write_md(r, out);
}

static int write_junit(const af_report *r, FILE *out, af_error *err)
{
    (void)err;
    return af_report_write_junit(r, out);
}

static int write_json(const af_report *r, FILE *out, af_error *err)
{
    (void)err;
    return af_report_write_json(r, out);
}

static const document documents[] = {
    {"md", "report.md", write_md},
    {"html", "report.html", af_report_write_html},
    {"junit", "report.junit.xml", write_junit},
    {"json", "report.json", write_json},
};

static bool wanted(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
        if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
    }
    return false;
}

/* Write one document into dir/file, whole or not at all. */
static int write_document(const af_report *r, const document *d, const char *dir, af_error *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        af_error_set(err, "", "out of memory");
        return -1;
    }
    af_error_set(err, "", "%s: write error", d->file);
    int rc = d->write(r, m, err);
    if (fclose(m) != 0)
        rc = -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, d->file);
    if (rc == 0)
        rc = af_write_file(path, text, len, err);
    free(text);
    if (rc == 0)
        printf("  wrote %s\n", path);
    return rc;
}

static void print_new(const af_report *r)
{
    for (int i = 0; i < r->nfindings; i++) {
        const af_report_finding *f = &r->findings[i];
        if (!f->known)
            printf("  new  %s  %s%s\n", f->sig, f->text ? f->text : "",
                   f->new_since_last_run ? "  (new since the last run)" : "");
    }
}

int af_cmd_report(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_report, &report_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    const char *campaign = o.args[0];
    af_report r;
    af_error err;
    if (af_report_read(campaign, &r, &err) < 0) {
        fprintf(stderr, "asyncfuzz report: %s\n", err.message);
        return AF_EXIT_USAGE;
    }
    char dir[4200];
    if (o.report_out)
        snprintf(dir, sizeof dir, "%s", o.report_out);
    else
        snprintf(dir, sizeof dir, "%s/report", campaign);
    rc = af_make_dirs(dir, &err);
    printf("report: %s: %d new finding(s), %d known, %d run(s)\n", campaign, r.nnew,
           r.nfindings - r.nnew, r.nruns);
    for (int i = 0; i < r.nmissing; i++)
        printf("  missing: %s\n", r.missing[i]);
    for (size_t i = 0; rc == 0 && i < sizeof documents / sizeof documents[0]; i++)
        if (wanted(o.report_format, documents[i].format))
            rc = write_document(&r, &documents[i], dir, &err);
    print_new(&r);
    int nnew = r.nnew;
    af_report_free(&r);
    if (rc < 0 || af_flush_stdout(&err) < 0) {
        fprintf(stderr, "asyncfuzz report: %s\n", err.message);
        return AF_EXIT_USAGE;
    }
    return nnew ? AF_EXIT_FINDING : AF_EXIT_OK;
}
