/* report_md.c - the Markdown report (report.h): what the campaign folder
 * lacks, the new findings first (each with its verdict, cause, place and
 * reproducer), then the known ones in a table with their issue and count,
 * then the trend over past runs. Writes the model; reads nothing.
 */
#include <math.h>
#include <string.h>

#include "reports/report.h"

/* Text inside a table cell: `|` escaped, line breaks as spaces. */
static void cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

/* A code span: backticks in s become ' (Markdown has no escape there). */
static void code(FILE *out, const char *s)
{
    fputc('`', out);
    for (; s && *s; s++)
        fputc(*s == '`' ? '\'' : *s == '\n' ? ' ' : *s, out);
    fputc('`', out);
}

static void header(const af_report *r, FILE *out)
{
    fputs("# asyncfuzz report: ", out);
    code(out, r->dir);
    fputs("\n\n", out);
    if (r->settings)
        fprintf(out, "Campaign created %s; %s.\n\n", r->created ? r->created : "(unknown)",
                r->settings);
    int known = r->nfindings - r->nnew;
    fprintf(out, "**%d new finding(s)**, %d known, %d run(s) in the history.\n\n", r->nnew, known,
            r->nruns);
    if (r->nmissing) {
        fputs("Missing from this folder:\n\n", out);
        for (int i = 0; i < r->nmissing; i++)
            fprintf(out, "- %s\n", r->missing[i]);
        fputs("\n", out);
    }
}

static void new_finding(const af_report *r, const af_report_finding *f, int n, FILE *out)
{
    fprintf(out, "### %d. ", n);
    code(out, f->text ? f->text : f->sig);
    fprintf(out, "%s\n\n", f->new_since_last_run ? " (new since the last run)" : "");
    fputs("- signature ", out);
    code(out, f->sig);
    fprintf(out, ", oracle %s, %llu hit(s), first seen %s", f->oracle ? f->oracle : "?",
            (unsigned long long)f->count, f->first_seen ? f->first_seen : "?");
    if (f->origin)
        fprintf(out, ", found by %s", f->origin);
    fputs("\n", out);
    if (f->evidence)
        fprintf(out, "- verdict: %s\n", f->evidence);
    if (f->cause)
        fprintf(out, "- cause: %s%s%s\n", f->cause, f->cause_why ? ": " : "",
                f->cause_why ? f->cause_why : "");
    if (f->path) {
        fputs("- where: ", out);
        code(out, f->path);
        fprintf(out, " in task %s at vtime %lld\n", f->task_name ? f->task_name : "?",
                (long long)f->vtime);
    }
    char on[512];
    af_report_reproduces_on(f, on, sizeof on);
    if (*on)
        fprintf(out, "- reproduces on: %s\n", on);
    fputs("- folder: ", out);
    code(out, af_report_rel(r, f->dir));
    fputs("; reproducer: `python3.11 ", out);
    fprintf(out, "%s/repro.py`\n\n", af_report_rel(r, f->dir));
}

static void known_table(const af_report *r, FILE *out)
{
    fprintf(out, "## Known findings (%d)\n\n", r->nfindings - r->nnew);
    if (r->nfindings == r->nnew) {
        fputs("No known finding.\n\n", out);
        return;
    }
    fputs("| signature | oracle | issue | fixed in | count | in the last run | description |\n"
          "| --- | --- | --- | --- | ---: | --- | --- |\n",
          out);
    const af_report_run *last = r->nruns ? &r->runs[r->nruns - 1] : NULL;
    for (int i = 0; i < r->nfindings; i++) {
        const af_report_finding *f = &r->findings[i];
        if (!f->known)
            continue;
        bool in_last = false;
        for (int k = 0; last && k < last->nknown && !in_last; k++)
            in_last = strcmp(last->known_sigs[k], f->sig) == 0;
        fputs("| `", out);
        cell(out, f->text ? f->text : f->sig);
        fputs("` | ", out);
        cell(out, f->oracle);
        fputs(" | ", out);
        cell(out, f->issue ? f->issue : "none");
        fputs(" | ", out);
        cell(out, f->fixed_in ? f->fixed_in : "-");
        fprintf(out, " | %llu | %s | ", (unsigned long long)f->count,
                last ? (in_last ? "yes" : "no") : "-");
        cell(out, f->description);
        fputs(" |\n", out);
    }
    fputs("\n", out);
}

static void trend(const af_report *r, FILE *out)
{
    fputs("## Trend over past runs\n\n", out);
    if (r->nruns == 0) {
        fputs("No run recorded (history.jsonl is missing or empty).\n", out);
        return;
    }
    for (int c = 0; c < AF_REPORT_RUN_COLUMNS; c++)
        fprintf(out, "| %s ", af_report_run_columns[c]);
    fputs("|\n", out);
    for (int c = 0; c < AF_REPORT_RUN_COLUMNS; c++)
        fputs(c >= 3 && c <= 9 ? "| ---: " : "| --- ", out);
    fputs("|\n", out);
    for (int i = 0; i < r->nruns; i++) {
        char cells[AF_REPORT_RUN_COLUMNS][96];
        af_report_run_cells(&r->runs[i], cells);
        for (int c = 0; c < AF_REPORT_RUN_COLUMNS; c++) {
            fputs("| ", out);
            cell(out, cells[c]);
            fputs(" ", out);
        }
        fputs("|\n", out);
    }
    const af_report_run *a = &r->runs[0], *b = &r->runs[r->nruns - 1];
    if (r->nruns > 1 && isfinite(a->execs_per_second) && isfinite(b->execs_per_second))
        fprintf(out, "\nexecs/s: %.1f in the first run, %.1f in the last.\n", a->execs_per_second,
                b->execs_per_second);
    if (r->nruns > 1 && isfinite(a->features) && isfinite(b->features))
        fprintf(out, "features: %.0f in the first run, %.0f in the last.\n", a->features,
                b->features);
}

int af_report_write_md(const af_report *r, FILE *out)
{
    header(r, out);
    fprintf(out, "## New findings (%d)\n\n", r->nnew);
    if (r->nnew == 0)
        fputs(r->nfindings ? "No new finding: every signature is known.\n\n" : "No finding.\n\n",
              out);
    for (int i = 0, n = 0; i < r->nfindings; i++)
        if (!r->findings[i].known)
            new_finding(r, &r->findings[i], ++n, out);
    known_table(r, out);
    trend(r, out);
    return ferror(out) ? -1 : 0;
}
