/* report_html.c - the report as one self-contained HTML page (report.h):
 * inline CSS, inline SVG (report_svg.c) and a small inline script; a
 * Content-Security-Policy that forbids loading anything, so the page works
 * from a CI artifact, offline.
 *
 * The page: the campaign and what its folder lacks; execs/s, features and
 * findings over time (all runs, or one: the run selector); every finding,
 * new ones first and open, known ones folded, each with its verdict, the
 * timeline of its run (timeline.c, from its trace.jsonl), its scenario tree
 * (as `asyncfuzz show` prints it) and its reproducer; the table of runs.
 *
 * Everything laid out is computed here and in report_svg.c. The script
 * only folds and unfolds, shows tooltips and switches runs; it also checks
 * that the plots and timelines are there (a finding whose trace could not
 * be laid out carries a note saying why, class tl-missing, instead) and
 * records the result and any script error on <html> (data-report-status,
 * data-errors), which the browser test reads.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/file_io.h"
#include "reports/junit.h"
#include "reports/report.h"
#include "reports/report_svg.h"
#include "reports/timeline.h"
#include "scenarios/json.h"
#include "scenarios/show.h"

/* Per-run plots are drawn for the last runs only. */
#define PER_RUN_PLOTS 30
/* Largest trace.jsonl laid out. */
#define TRACE_READ_MAX (32u * 1024 * 1024)

static void esc(FILE *out, const char *s)
{
    af_xml_put_escaped(out, s);
}

/* ---- series ---- */

typedef struct points {
    double *x, *y;
    int n, cap;
} points;

static void add_point(points *p, double x, double y)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        double *nx = realloc(p->x, (size_t)cap * sizeof *nx);
        if (!nx)
            return;
        p->x = nx;
        double *ny = realloc(p->y, (size_t)cap * sizeof *ny);
        if (!ny)
            return;
        p->y = ny;
        p->cap = cap;
    }
    p->x[p->n] = x;
    p->y[p->n++] = y;
}

/* A gap before the next run's points (NaN: the line breaks). */
static void add_gap(points *p)
{
    if (p->n && !isnan(p->y[p->n - 1]))
        add_point(p, p->x[p->n - 1], NAN);
}

static void free_points(points *p)
{
    free(p->x);
    free(p->y);
}

/* The three plots' series. */
typedef struct plot_data {
    points eps, features, corpus, filed, distinct, fresh;
    af_vmark *marks;
    char (*mark_text)[96];
    int nmarks;
} plot_data;

static double finding_total(const af_plot_row *row)
{
    double c = isnan(row->crashes) ? 0 : row->crashes, h = isnan(row->hangs) ? 0 : row->hangs;
    return isnan(row->crashes) && isnan(row->hangs) ? NAN : c + h;
}

/* Add a run's signatures to the signatures seen so far (pointers into
 * the run). */
static void see_signatures(const af_report_run *u, char ***seen, int *nseen)
{
    for (int pass = 0; pass < 2; pass++) {
        char **list = pass ? u->known_sigs : u->new_sigs;
        int n = pass ? u->nknown : u->nnew;
        for (int i = 0; i < n; i++) {
            bool dup = false;
            for (int k = 0; k < *nseen && !dup; k++)
                dup = strcmp((*seen)[k], list[i]) == 0;
            char **grown = dup ? NULL : realloc(*seen, (size_t)(*nseen + 1) * sizeof **seen);
            if (grown) {
                *seen = grown;
                grown[(*nseen)++] = list[i];
            }
        }
    }
}

/* One run's points at offset (its start on the campaign's clock); the
 * history's totals at its end when it has no plot_data. */
static void run_points(const af_report_run *u, double offset, plot_data *d, char ***seen,
                       int *nseen)
{
    add_gap(&d->eps);
    add_gap(&d->features);
    add_gap(&d->corpus);
    add_gap(&d->filed);
    for (int i = 0; i < u->nrows; i++) {
        const af_plot_row *row = &u->rows[i];
        add_point(&d->eps, offset + row->t, row->execs_per_sec);
        add_point(&d->features, offset + row->t, row->edges);
        add_point(&d->corpus, offset + row->t, row->corpus);
        add_point(&d->filed, offset + row->t, finding_total(row));
    }
    double end = offset + af_report_run_seconds(u);
    if (u->nrows == 0) {
        add_point(&d->eps, end, u->execs_per_second);
        add_point(&d->features, end, u->features);
        add_point(&d->corpus, end, u->corpus);
    }
    see_signatures(u, seen, nseen);
    add_point(&d->distinct, end, *nseen);
    add_point(&d->fresh, end, u->nnew);
}

/* The series of runs [first, last]: x is the campaign's fuzzing time
 * (the runs' lengths added up) for several runs, the run's own time for one. */
static void collect(const af_report *r, int first, int last, plot_data *d)
{
    memset(d, 0, sizeof *d);
    int n = last - first + 1;
    d->marks = calloc((size_t)n + 1, sizeof *d->marks);
    d->mark_text = calloc((size_t)n + 1, sizeof *d->mark_text);
    char **seen = NULL;
    int nseen = 0;
    for (int k = 0; k < first; k++) /* the signatures of earlier runs count too */
        see_signatures(&r->runs[k], &seen, &nseen);
    double offset = 0;
    for (int k = first; k <= last; k++) {
        const af_report_run *u = &r->runs[k];
        if (n > 1 && d->marks && d->mark_text) {
            snprintf(d->mark_text[d->nmarks], sizeof d->mark_text[0], "run %s started %s",
                     u->run ? u->run : "?", u->start ? u->start : "?");
            d->marks[d->nmarks] = (af_vmark){offset, d->mark_text[d->nmarks]};
            d->nmarks++;
        }
        run_points(u, offset, d, &seen, &nseen);
        offset += af_report_run_seconds(u);
    }
    free(seen);
}

static void free_plot_data(plot_data *d)
{
    points *all[] = {&d->eps, &d->features, &d->corpus, &d->filed, &d->distinct, &d->fresh};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free_points(all[i]);
    free(d->marks);
    free(d->mark_text);
}

static af_series series(const char *name, const points *p)
{
    return (af_series){name, p->x, p->y, p->n};
}

static int plots(FILE *out, const af_report *r, int first, int last, const char *run)
{
    plot_data d;
    if (r->nruns)
        collect(r, first, last, &d);
    else
        memset(&d, 0, sizeof d);
    const char *x_label = first == last && r->nruns ? "seconds into the run"
                                                    : "fuzzing time, runs one after the other";
    af_series eps[] = {series("execs/s", &d.eps)};
    af_series feat[] = {series("features", &d.features), series("corpus", &d.corpus)};
    af_series found[] = {series("signatures so far", &d.distinct),
                         series("new in the run", &d.fresh),
                         series("filed in the run (plot_data)", &d.filed)};
    char id[3][160];
    const char *names[3] = {"eps", "features", "findings"};
    for (int i = 0; i < 3; i++)
        snprintf(id[i], sizeof id[i], "plot-%s-%s", names[i], run);
    af_plot p[3] = {
        {id[0], "Execs per second", x_label, "execs/s", true, eps, 1, d.marks, d.nmarks, 440, 250},
        {id[1], "Features and corpus", x_label, "count", true, feat, 2, d.marks, d.nmarks, 440,
         250},
        {id[2], "Findings", x_label, "signatures", true, found, 3, d.marks, d.nmarks, 440, 250},
    };
    fprintf(out, "<div class=\"plots\" data-run=\"");
    esc(out, run);
    fputs("\">", out);
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = af_svg_plot(out, &p[i]);
    fputs("</div>\n", out);
    free_plot_data(&d);
    return rc;
}

/* ---- one finding ---- */

static char *scenario_tree(const char *dir, af_scenario *s, bool *ok)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/scenario.json", dir);
    af_error err;
    char *text = NULL;
    size_t len = 0;
    *ok = af_json_read_file(path, s, &err) == 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return NULL;
    if (*ok)
        af_show(s, m);
    else {
        char msg[600];
        af_error_format(&err, path, msg, sizeof msg);
        fprintf(m, "(the scenario does not read: %s)\n", msg);
    }
    fclose(m);
    return text;
}

static int read_trace(const char *dir, af_trace *tr, af_error *err)
{
    char path[4200], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/trace.jsonl", dir);
    if (af_read_file(path, TRACE_READ_MAX, &text, &len, err) < 0)
        return -1;
    int lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    int rc = af_trace_init(tr, lines + 1, len + (size_t)lines + 1024);
    if (rc == 0 && (rc = af_trace_read_jsonl(text, len, tr, err)) < 0)
        af_trace_free(tr);
    else if (rc < 0)
        af_error_set(err, "", "out of memory reading %s", path);
    free(text);
    return rc;
}

static void timeline(FILE *out, const af_report_finding *f, const af_scenario *s, bool have_s)
{
    if (!f->has_trace) {
        fputs("<p class=\"note\">No trace: the process running this input died (a crash or a "
              "hang no watchdog could end), so there is no timeline.</p>",
              out);
        return;
    }
    af_trace tr;
    af_error err;
    if (read_trace(f->dir, &tr, &err) < 0) {
        fputs("<p class=\"note tl-missing\">The trace does not read: ", out);
        esc(out, err.message);
        fputs("</p>", out);
        return;
    }
    char text[700];
    snprintf(text, sizeof text, "%s: %s", f->oracle ? f->oracle : "?",
             f->evidence ? f->evidence : "");
    af_tl_verdict v = {strtoull(f->sig, NULL, 16), f->task, f->vtime, text};
    af_timeline t;
    if (af_timeline_build(have_s ? s : NULL, &tr, &v, &t, &err) < 0) {
        fputs("<p class=\"note tl-missing\">", out);
        esc(out, err.message);
        fputs("</p>", out);
        af_trace_free(&tr);
        return;
    }
    char id[40];
    snprintf(id, sizeof id, "tl-%s", f->sig);
    fputs("<div class=\"tl-wrap\">", out);
    af_svg_timeline(out, &t, id);
    fputs("</div>", out);
    if (t.lanes_left_out)
        fprintf(out,
                "<p class=\"note\">%d more task(s) not drawn (the first %d and the "
                "verdict's task are).</p>",
                t.lanes_left_out, AF_TL_MAX_LANES);
    if (t.overflow)
        fputs("<p class=\"note\">The trace overflowed: the requests' fates are unknown.</p>", out);
    af_timeline_free(&t);
    af_trace_free(&tr);
}

static void repro(FILE *out, const af_report *r, const af_report_finding *f)
{
    char *text = NULL;
    size_t len = 0;
    char path[4200];
    af_error err;
    snprintf(path, sizeof path, "%s/repro.py", f->dir);
    if (af_read_file(path, 4u * 1024 * 1024, &text, &len, &err) < 0) {
        fputs("<p class=\"note\">No reproducer: ", out);
        esc(out, err.message);
        fputs("</p>", out);
        return;
    }
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    fprintf(out, "<details class=\"repro\"><summary>Reproducer: <code>python3.11 ");
    esc(out, af_report_rel(r, f->dir));
    fprintf(out, "/repro.py</code> (%d lines)</summary><pre>", lines);
    esc(out, text);
    fputs("</pre></details>", out);
    free(text);
}

static void field(FILE *out, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    fprintf(out, "<tr><th>%s</th><td>", name);
    esc(out, value);
    fputs("</td></tr>", out);
}

static void verdict(FILE *out, const af_report *r, const af_report_finding *f)
{
    char buf[800];
    fputs("<table class=\"verdict\">", out);
    field(out, "evidence", f->evidence);
    snprintf(buf, sizeof buf, "%s%s%s", f->cause ? f->cause : "?", f->cause_why ? ": " : "",
             f->cause_why ? f->cause_why : "");
    field(out, "cause", buf);
    snprintf(buf, sizeof buf, "%s in task %s at vtime %lld", f->path ? f->path : "?",
             f->task_name ? f->task_name : "?", (long long)f->vtime);
    field(out, "where", buf);
    if (f->known) {
        snprintf(buf, sizeof buf, "%s%s%s%s%s%s%s", f->issue ? f->issue : "no upstream issue",
                 f->fixed_in ? ", fixed in " : "", f->fixed_in ? f->fixed_in : "",
                 f->description ? ": " : "", f->description ? f->description : "",
                 f->list ? " (" : "", f->list ? f->list : "");
        if (f->list)
            strncat(buf, ")", sizeof buf - strlen(buf) - 1);
        field(out, "known", buf);
    }
    af_report_reproduces_on(f, buf, sizeof buf);
    field(out, "reproduces on", buf);
    snprintf(buf, sizeof buf, "%llu hit(s), first seen %s, filed by %s%s%s",
             (unsigned long long)f->count, f->first_seen ? f->first_seen : "?",
             f->engine ? f->engine : "?", f->origin ? ": " : "", f->origin ? f->origin : "");
    field(out, "found", buf);
    field(out, "folder", af_report_rel(r, f->dir));
    fputs("</table>", out);
}

static void finding(FILE *out, const af_report *r, const af_report_finding *f)
{
    fprintf(out, "<section class=\"finding %s\" id=\"f-%s\" data-sig=\"%s\" data-trace=\"%d\">",
            af_report_status(f), f->sig, f->sig, f->has_trace ? 1 : 0);
    fprintf(out, "<details class=\"finding-body\"%s><summary><span class=\"badge %s\">%s</span> ",
            f->known ? "" : " open", af_report_status(f), af_report_status(f));
    if (f->new_since_last_run)
        fputs("<span class=\"badge fresh\">new since the last run</span> ", out);
    fputs("<code class=\"sigtext\">", out);
    esc(out, f->text ? f->text : f->sig);
    fprintf(out, "</code> <span class=\"count\">%llu hit(s)</span>", (unsigned long long)f->count);
    if (f->known && f->issue) {
        fputs(" <span class=\"issue\">", out);
        esc(out, f->issue);
        fputs("</span>", out);
    }
    fputs("</summary>", out);
    verdict(out, r, f);
    af_scenario *s = malloc(sizeof *s);
    bool have_s = false;
    char *tree = s ? scenario_tree(f->dir, s, &have_s) : NULL;
    fputs("<h4>Timeline of the run</h4>", out);
    timeline(out, f, s, have_s);
    fputs("<details class=\"tree\" open><summary>Scenario (<code>asyncfuzz show</code>)</summary>"
          "<pre>",
          out);
    esc(out, tree ? tree : "(unreadable)");
    fputs("</pre></details>", out);
    free(tree);
    free(s);
    repro(out, r, f);
    fputs("</details></section>\n", out);
}

/* ---- the page ---- */

static const char page_css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 24px 40px;"
    "color:#1d1d1f;background:#fafafa;font-size:14px}"
    "h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px "
    "solid #ddd;padding-bottom:4px}h4{margin:12px 0 4px;font-size:13px}"
    ".sub{color:#555;margin:2px 0}.summary{font-size:16px;margin:10px 0}"
    ".summary b.new{color:#c00000}.missing{background:#fff8e1;border:1px solid #f0d98c;"
    "padding:6px 12px;margin:10px 0}.missing li{margin:2px 0}"
    ".plots{display:flex;flex-wrap:wrap;gap:12px}.plots[hidden]{display:none}"
    "svg.plot{border:1px solid #ddd;background:#fff}"
    ".finding{background:#fff;border:1px solid #ddd;border-left:5px solid #999;margin:10px 0;"
    "padding:6px 12px}.finding.new{border-left-color:#c00000}"
    ".finding.known{border-left-color:#2a9d48}.finding>details>summary{cursor:pointer;"
    "font-size:14px;padding:4px 0}.badge{display:inline-block;border-radius:3px;padding:0 6px;"
    "font-size:12px;color:#fff;background:#777}.badge.new{background:#c00000}"
    ".badge.known{background:#2a9d48}.badge.fresh{background:#d9590b}"
    ".count,.issue{color:#555;font-size:12px;margin-left:6px}.issue{font-weight:bold}"
    "table.verdict{border-collapse:collapse;margin:6px 0}table.verdict th{text-align:left;"
    "vertical-align:top;padding:2px 10px 2px 0;color:#555;font-weight:normal;width:110px}"
    "table.verdict td{padding:2px 0}.tl-wrap{overflow-x:auto;border:1px solid #e3e3e3}"
    "pre{background:#f5f5f7;padding:8px;overflow-x:auto;font-size:12px;line-height:1.35;"
    "margin:4px 0}details.repro pre{max-height:420px}.note{color:#8a5400;font-size:12px}"
    "table.runs{border-collapse:collapse;font-size:12px}table.runs th,table.runs td{border:1px "
    "solid #ddd;padding:3px 7px;text-align:right}table.runs td:first-child,"
    "table.runs th:first-child{text-align:left}"
    "#tip{position:absolute;max-width:520px;background:#222;color:#fff;font-size:12px;"
    "padding:4px 8px;border-radius:3px;pointer-events:none;z-index:10}"
    "button{font-size:12px;margin-right:6px}";

/* window.onerror first, so an error anywhere in the page is recorded. */
static const char head_script[] =
    "window.afErrors=[];window.onerror=function(m,s,l,c){window.afErrors.push(m+' (line '+l+':'"
    "+c+')');document.documentElement.setAttribute('data-errors',window.afErrors.join(' | '));};";

static const char page_script[] =
    "(function(){var root=document.documentElement;"
    "var sel=document.getElementById('run-select');"
    "function show(run){document.querySelectorAll('.plots').forEach(function(d){"
    "d.hidden=d.getAttribute('data-run')!==run;});}"
    "if(sel){sel.addEventListener('change',function(){show(sel.value);});show(sel.value);}"
    "var tip=document.getElementById('tip');"
    "document.addEventListener('mouseover',function(ev){var t=ev.target.closest&&"
    "ev.target.closest('[data-tip]');if(!t){tip.hidden=true;return;}"
    "tip.textContent=t.getAttribute('data-tip');tip.hidden=false;});"
    "document.addEventListener('mousemove',function(ev){tip.style.left=(ev.pageX+14)+'px';"
    "tip.style.top=(ev.pageY+14)+'px';});"
    "document.querySelectorAll('button[data-fold]').forEach(function(b){b.addEventListener("
    "'click',function(){var open=b.getAttribute('data-fold')==='open';"
    "document.querySelectorAll('details.finding-body').forEach(function(d){d.open=open;});});});"
    "var problems=[];var plots=document.querySelectorAll('.plots[data-run=\"all\"] svg.plot');"
    "if(plots.length<3)problems.push('plots: '+plots.length+' of 3');var drawn=0;"
    "plots.forEach(function(p){var b=p.getBoundingClientRect();if(b.width<50||b.height<50)"
    "problems.push('plot '+p.id+' not rendered');if(+p.getAttribute('data-points')>0)drawn++;});"
    "var lanes=0;document.querySelectorAll('section.finding[data-trace=\"1\"]').forEach("
    "function(f){var t=f.querySelector('svg.timeline');var n=t?t.querySelectorAll('.lane')"
    ".length:0;if(!n&&!f.querySelector('.tl-missing'))problems.push('no timeline: '+f.id);"
    "lanes+=n;});"
    "var first=document.querySelector('section.finding[data-trace=\"1\"] details[open] "
    "svg.timeline');if(first){var b=first.getBoundingClientRect();if(b.width<50||b.height<30)"
    "problems.push('timeline not rendered');}"
    "root.setAttribute('data-plots',plots.length);root.setAttribute('data-plots-with-data',"
    "drawn);root.setAttribute('data-timelines',document.querySelectorAll('svg.timeline')"
    ".length);root.setAttribute('data-lanes',lanes);"
    "var errs=problems.concat(window.afErrors);root.setAttribute('data-report-status',"
    "errs.length?'error: '+errs.join('; '):'ok');})();";

static void page_head(FILE *out, const af_report *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          "<title>asyncfuzz report: ",
          out);
    esc(out, r->dir);
    fprintf(out, "</title><style>%s</style><script>%s</script></head>\n", page_css, head_script);
    fprintf(out, "<body data-new=\"%d\" data-known=\"%d\" data-runs=\"%d\">", r->nnew,
            r->nfindings - r->nnew, r->nruns);
    fputs("<h1>asyncfuzz report</h1><p class=\"sub\"><code>", out);
    esc(out, r->dir);
    fputs("</code></p>", out);
    if (r->settings) {
        fputs("<p class=\"sub\">campaign created ", out);
        esc(out, r->created ? r->created : "(unknown)");
        fputs(": ", out);
        esc(out, r->settings);
        fputs("</p>", out);
    }
    fprintf(out,
            "<p class=\"summary\"><b class=\"%s\">%d new finding(s)</b>, %d known, %d run(s) in "
            "the history.</p>",
            r->nnew ? "new" : "", r->nnew, r->nfindings - r->nnew, r->nruns);
    if (r->nmissing) {
        fputs("<div class=\"missing\"><b>Missing from this folder</b><ul>", out);
        for (int i = 0; i < r->nmissing; i++) {
            fputs("<li>", out);
            esc(out, r->missing[i]);
            fputs("</li>", out);
        }
        fputs("</ul></div>", out);
    }
}

static int over_time(FILE *out, const af_report *r)
{
    fputs("<h2>Over time</h2>", out);
    int first = r->nruns > PER_RUN_PLOTS ? r->nruns - PER_RUN_PLOTS : 0;
    if (r->nruns > 1) {
        fputs("<p><label>Runs: <select id=\"run-select\"><option value=\"all\">all runs</option>",
              out);
        for (int k = r->nruns - 1; k >= first; k--) {
            fprintf(out, "<option value=\"run-%d\">", k);
            esc(out, r->runs[k].run);
            fputs(" (", out);
            esc(out, r->runs[k].start ? r->runs[k].start : "?");
            fputs(")</option>", out);
        }
        fputs("</select></label></p>", out);
    }
    int rc = plots(out, r, 0, r->nruns - 1, "all");
    for (int k = first; r->nruns > 1 && k < r->nruns && rc == 0; k++) {
        char id[32];
        snprintf(id, sizeof id, "run-%d", k);
        rc = plots(out, r, k, k, id);
    }
    return rc;
}

static void runs_table(FILE *out, const af_report *r)
{
    fputs("<h2>Runs</h2>", out);
    if (r->nruns == 0) {
        fputs("<p>No run recorded.</p>", out);
        return;
    }
    fputs("<table class=\"runs\"><tr>", out);
    for (int c = 0; c < AF_REPORT_RUN_COLUMNS; c++)
        fprintf(out, "<th>%s</th>", af_report_run_columns[c]);
    fputs("</tr>", out);
    for (int k = 0; k < r->nruns; k++) {
        char cells[AF_REPORT_RUN_COLUMNS][96];
        af_report_run_cells(&r->runs[k], cells);
        fputs("<tr>", out);
        for (int c = 0; c < AF_REPORT_RUN_COLUMNS; c++) {
            fputs("<td>", out);
            esc(out, cells[c]);
            fputs("</td>", out);
        }
        fputs("</tr>", out);
    }
    fputs("</table>", out);
}

int af_report_write_html(const af_report *r, FILE *out, af_error *err)
{
    page_head(out, r);
    if (over_time(out, r) < 0) {
        af_error_set(err, "", "write error");
        return -1;
    }
    fprintf(out,
            "<h2>Findings</h2><p><button data-fold=\"open\">unfold all</button>"
            "<button data-fold=\"close\">fold all</button>%d new, %d known. Timelines: one "
            "lane per task along the run's virtual time (hover for details).</p>",
            r->nnew, r->nfindings - r->nnew);
    af_svg_timeline_legend(out);
    if (r->nfindings == 0)
        fputs("<p>No finding.</p>", out);
    for (int i = 0; i < r->nfindings; i++)
        finding(out, r, &r->findings[i]);
    runs_table(out, r);
    fprintf(out, "<div id=\"tip\" hidden></div><script>%s</script></body></html>\n", page_script);
    if (ferror(out)) {
        af_error_set(err, "", "write error");
        return -1;
    }
    return 0;
}
