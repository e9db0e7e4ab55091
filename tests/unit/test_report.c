/* test_report.c - the report's parts in C (reports/report.h, timeline.h,
 * report_svg.h, oracles/requests.h).
 *
 * Properties: a timeline has a lane per task with its creation, end and
 * the ops it was inside, and each cancel request where the ledger says it
 * was made and settled (delivered at the task's cancelled end, withdrawn
 * at an uncancel(), lost at the op that dropped it: real runs of catalog
 * scenarios, the loss 3.11's wait_for's or from 3.12 timeout's); the verdict sits at its deciding
 * event; the lanes are capped with the verdict's task kept; slots follow (vtime, iteration) with
 * larger gaps for virtual time that passed; an overflowed trace still shows its requests, fates
 * unknown. Plots: nice scales, "no data" for empty series, a single point drawn inside a widened
 * range, NaN gaps; tick labels. A campaign folder is read whatever is
 * missing (history's last line per run wins, stats-only runs, new since
 * the last run, plot_data by its header's names), and the writers put new
 * findings first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/file_io.h"
#include "harness/run/embed.h"
#include "harness/run/runner.h"
#include "oracles/requests.h"
#include "oracles/verdict.h"
#include "reports/report.h"
#include "reports/report_svg.h"
#include "reports/timeline.h"
#include "scenarios/json.h"

static af_runner *R;
static char BASE[64];

typedef struct run {
    af_scenario s;
    af_trace tr;
    af_verdict_list v;
} run;

static run *run_json(const char *json)
{
    run *r = calloc(1, sizeof *r);
    af_error err;
    assert_non_null(r);
    assert_int_equal(af_json_read(json, strlen(json), &r->s, &err), 0);
    assert_int_equal(af_trace_init(&r->tr, 0, 0), 0);
    assert_int_equal(af_judge_run(R, &r->s, &r->tr, &r->v, &err), 0);
    return r;
}

static run *run_catalog(const char *name)
{
    char path[512], *text = NULL;
    size_t len = 0;
    af_error err;
    snprintf(path, sizeof path, "%s/scenarios/catalog/%s", AF_SOURCE_DIR, name);
    assert_int_equal(af_read_file(path, 1 << 20, &text, &len, &err), 0);
    run *r = run_json(text);
    free(text);
    return r;
}

static void free_run(run *r)
{
    af_trace_free(&r->tr);
    free(r);
}

static int lane_named(const af_timeline *t, const char *name)
{
    for (int l = 0; l < t->nlanes; l++)
        if (strcmp(t->lanes[l].name, name) == 0)
            return l;
    return -1;
}

static const af_tl_mark *mark_of(const af_timeline *t, int lane, af_tl_kind kind, int n)
{
    for (int k = 0; lane >= 0 && k < t->lanes[lane].nmarks; k++)
        if (t->lanes[lane].marks[k].kind == kind && n-- == 0)
            return &t->lanes[lane].marks[k];
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    af_runner_options o;
    af_runner_options_default(&o);
    af_error err;
    R = af_runner_new(&o, &err);
    snprintf(BASE, sizeof BASE, "/tmp/af-test-report.XXXXXX");
    return R && mkdtemp(BASE) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", BASE);
    af_runner_free(R);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- timelines ---- */

/* A catalog scenario run and laid out (no verdict placed). */
static run *laid_out(const char *catalog, af_timeline *t)
{
    run *r = run_catalog(catalog);
    af_error err;
    assert_int_equal(af_timeline_build(&r->s, &r->tr, NULL, t, &err), 0);
    return r;
}

static void test_cancel_delivered(void **state)
{
    (void)state;
    af_timeline t;
    run *r = laid_out("basic-cancel.json", &t);
    int main_l = lane_named(&t, "main"), worker = lane_named(&t, "worker");
    assert_int_equal(t.nlanes, 2);
    assert_true(main_l >= 0 && worker >= 0);
    assert_int_equal(t.requests.count, 1);
    assert_int_equal(t.requests.items[0].fate, AF_FATE_DELIVERED);
    const af_tl_mark *req = mark_of(&t, worker, AF_TL_REQUEST, 0);
    const af_tl_mark *done = mark_of(&t, worker, AF_TL_SETTLED, 0);
    const af_tl_mark *end = mark_of(&t, worker, AF_TL_CANCELLED, 0);
    assert_non_null(req);
    assert_non_null(done);
    assert_non_null(end);
    assert_int_equal(req->from_lane, main_l);
    assert_int_equal(r->tr.events[req->ev].kind, AF_EV_CANCEL);
    assert_int_equal(r->tr.events[req->ev].vtime, 1);
    /* delivered: settled at the worker's cancelled end */
    assert_int_equal(done->ev, end->ev);
    assert_true(done->slot > req->slot);
    assert_int_equal(t.lanes[worker].slot_done, end->slot);
    assert_non_null(mark_of(&t, main_l, AF_TL_CREATED, 0));
    assert_null(mark_of(&t, main_l, AF_TL_REQUEST, 0));
    assert_true(t.end_slot >= 0);
    assert_int_equal(t.verdict_slot, -1);

    /* the SVG draws both lanes and the request's marks with their fate */
    char *svg = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&svg, &len);
    assert_int_equal(af_svg_timeline(m, &t, "tl-x"), 0);
    fclose(m);
    assert_non_null(strstr(svg, "class=\"timeline\" id=\"tl-x\" data-lanes=\"2\""));
    assert_non_null(strstr(svg, "class=\"m m-request fate-delivered\""));
    assert_non_null(strstr(svg, "class=\"m m-settled fate-delivered\""));
    assert_non_null(strstr(svg, "class=\"req-link\""));
    assert_null(strstr(svg, "nan"));
    free(svg);
    af_timeline_free(&t);
    free_run(r);
}

static void test_request_withdrawn_and_spans(void **state)
{
    (void)state;
    af_timeline t;
    run *r = laid_out("basic-uncancel-handler.json", &t);
    int worker = lane_named(&t, "worker");
    assert_int_equal(t.requests.count, 1);
    assert_int_equal(t.requests.items[0].fate, AF_FATE_WITHDRAWN);
    const af_tl_mark *done = mark_of(&t, worker, AF_TL_SETTLED, 0);
    assert_non_null(done);
    assert_int_equal(r->tr.events[done->ev].kind, AF_EV_UNCANCEL);
    assert_non_null(mark_of(&t, worker, AF_TL_CAUGHT, 0));
    assert_non_null(mark_of(&t, worker, AF_TL_RESULT, 0));
    /* the try the worker was inside, and main's await of it */
    assert_int_equal(t.lanes[worker].nspans, 1);
    assert_string_equal(t.lanes[worker].spans[0].label, "try");
    assert_int_equal(t.lanes[worker].spans[0].open, 0);
    assert_true(t.lanes[worker].spans[0].slot1 > t.lanes[worker].spans[0].slot0);
    int main_l = lane_named(&t, "main");
    assert_int_equal(t.lanes[main_l].nspans, 1);
    assert_string_equal(t.lanes[main_l].spans[0].label, "await");
    af_timeline_free(&t);
    free_run(r);
}

static void test_request_lost_and_verdict(void **state)
{
    (void)state;
    /* a CancelledError asyncio drops in an op of the worker: 3.11's
     * wait_for (gh-86296, fixed in 3.12), from 3.12 on timeout's
     * (gh-134471, not on Debian's 3.11.2) */
    bool wait_for_race = af_embed_pyversion() < 312;
    run *r = run_catalog(wait_for_race ? "defect-wait-for-cancel-race.json"
                                       : "defect-timeout-converts-pending-cancel.json");
    int vi = -1;
    for (int i = 0; i < r->v.count && vi < 0; i++)
        if (r->v.items[i].oracle == AF_ORACLE_CANCEL_SWALLOWED)
            vi = i;
    assert_true(vi >= 0);
    const af_verdict *v = &r->v.items[vi];
    af_tl_verdict tv = {v->signature, v->task, v->vtime, "swallowed"};
    af_timeline t;
    af_error err;
    assert_int_equal(af_timeline_build(&r->s, &r->tr, &tv, &t, &err), 0);
    int t1 = lane_named(&t, "worker");
    /* one request lost (timeout's own, at its deadline, is handled) */
    const af_request_view *q = NULL;
    for (int i = 0; i < t.requests.count; i++)
        if (t.requests.items[i].fate == AF_FATE_LOST) {
            assert_null(q);
            q = &t.requests.items[i];
        }
    assert_non_null(q);
    assert_int_equal(q->task, v->task);
    assert_int_equal(r->s.ops[q->lost_op].kind, wait_for_race ? AF_OP_WAIT_FOR : AF_OP_TIMEOUT);
    const af_event *settled = &r->tr.events[q->settled_ev];
    assert_int_equal(settled->kind, AF_EV_OP_EXIT);
    assert_int_equal(settled->op, q->lost_op);
    assert_non_null(mark_of(&t, t1, AF_TL_SETTLED, 0));
    /* the verdict: on t1's lane, at the event the oracle decided it */
    assert_int_equal(t.verdict_lane, t1);
    const af_tl_mark *vm = mark_of(&t, t1, AF_TL_VERDICT, 0);
    assert_non_null(vm);
    assert_int_equal(vm->ev, v->event);
    assert_int_equal(t.verdict_slot, vm->slot);
    af_timeline_free(&t);
    free_run(r);
}

/* A trace of n tasks (all children of task 0) with one event each at the
 * given vtime/iteration steps. */
static void many_tasks(af_trace *tr, int n)
{
    assert_int_equal(af_trace_init(tr, 0, 0), 0);
    for (int k = 0; k < n; k++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", k);
        af_trace_task_new(tr, k, k, k, name, k ? 0 : -1, -1, k);
    }
}

static void test_lanes_capped_verdict_kept(void **state)
{
    (void)state;
    af_trace tr;
    many_tasks(&tr, 30);
    af_timeline t;
    af_error err;
    af_tl_verdict v = {1, 29, 29, "x"};
    assert_int_equal(af_timeline_build(NULL, &tr, &v, &t, &err), 0);
    assert_int_equal(t.nlanes, AF_TL_MAX_LANES);
    assert_int_equal(t.lanes_left_out, 30 - AF_TL_MAX_LANES);
    assert_int_equal(t.lanes[AF_TL_MAX_LANES - 1].task, 29);
    assert_int_equal(t.lanes[AF_TL_MAX_LANES - 2].task, AF_TL_MAX_LANES - 2);
    assert_int_equal(t.verdict_lane, AF_TL_MAX_LANES - 1);
    af_timeline_free(&t);
    assert_int_equal(af_timeline_build(NULL, &tr, NULL, &t, &err), 0);
    assert_int_equal(t.lanes[AF_TL_MAX_LANES - 1].task, AF_TL_MAX_LANES - 1);
    af_timeline_free(&t);
    af_trace_free(&tr);
}

static void test_slots_follow_time(void **state)
{
    (void)state;
    af_trace tr;
    assert_int_equal(af_trace_init(&tr, 0, 0), 0);
    af_trace_task_new(&tr, 0, 0, 0, "main", -1, -1, 0);
    af_trace_op_enter(&tr, 0, 1, 0, 0, 0);
    af_trace_op_enter(&tr, 0, 1, 0, 1, 0); /* same slot */
    af_trace_op_exit(&tr, 0, 2, 0, 1, AF_OPEXIT_OK, "", "", AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_trace_op_exit(&tr, 1000, 3, 0, 0, AF_OPEXIT_RAISE, "builtins.ValueError", "()",
                     AF_DETAIL_NONE, 0, 0, NULL, 0);
    af_timeline t;
    af_error err;
    assert_int_equal(af_timeline_build(NULL, &tr, NULL, &t, &err), 0);
    assert_int_equal(t.nslots, 4);
    assert_true(t.slot_pos[1] - t.slot_pos[0] == 1.0);
    assert_true(t.slot_pos[3] - t.slot_pos[2] > 5.0); /* 1000 ticks passed */
    assert_int_equal(t.slot_vtime[3], 1000);
    /* nested spans: op 1 inside op 0; op 0 raised, and no task end: open lane */
    const af_tl_lane *L = &t.lanes[0];
    assert_int_equal(L->nspans, 2);
    assert_int_equal(L->depth, 2);
    assert_int_equal(L->spans[0].op, 1);
    assert_int_equal(L->spans[0].depth, 1);
    assert_int_equal(L->spans[1].raised, 1);
    assert_int_equal(L->slot_done, -1);
    assert_non_null(mark_of(&t, 0, AF_TL_RAISE, 0));
    af_timeline_free(&t);
    af_trace_free(&tr);
}

static void test_overflowed_trace_keeps_requests(void **state)
{
    (void)state;
    run *r = run_catalog("basic-cancel.json");
    r->tr.overflow = 1;
    af_timeline t;
    af_error err;
    assert_int_equal(af_timeline_build(&r->s, &r->tr, NULL, &t, &err), 0);
    assert_int_equal(t.requests.incomplete, 1);
    assert_int_equal(t.requests.count, 0);
    const af_tl_mark *req = mark_of(&t, lane_named(&t, "worker"), AF_TL_REQUEST, 0);
    assert_non_null(req);
    assert_non_null(strstr(req->text, "fate is unknown"));
    af_timeline_free(&t);
    free_run(r);
}

/* ---- plots ---- */

static void test_nice_scales(void **state)
{
    (void)state;
    af_scale s;
    af_scale_nice(0, 97, 5, &s);
    assert_true(s.lo == 0 && s.hi == 100 && s.step == 20 && s.nticks == 6);
    af_scale_nice(0, 0, 5, &s); /* one value, 0 */
    assert_true(s.lo == 0 && s.hi == 1 && s.nticks >= 2);
    af_scale_nice(5, 5, 5, &s); /* one value */
    assert_true(s.lo <= 4 && s.hi >= 6 && s.lo < 5 && s.hi > 5);
    af_scale_nice(NAN, 3, 5, &s);
    assert_true(s.lo == 0 && s.hi == 1);
    af_scale_nice(10, -3, 4, &s); /* reversed */
    assert_true(s.lo <= -3 && s.hi >= 10 && s.step == 5);
    af_scale_nice(0.001, 0.0042, 5, &s);
    assert_true(fabs(s.step - 0.001) < 1e-12 && s.lo <= 0.001 && s.hi >= 0.0042);
    af_scale_nice_time(0, 150, 6, &s); /* 2.5 minutes: 30 s ticks */
    assert_true(s.lo == 0 && s.hi == 150 && s.step == 30);
    af_scale_nice_time(0, 7000, 6, &s); /* about 2 hours: 30 minutes */
    assert_true(s.step == 1800 && s.hi == 7200);
    af_scale_nice_time(0, 86400 * 20, 5, &s); /* weeks: whole days */
    assert_true(fmod(s.step, 86400) == 0 && s.hi >= 86400 * 20);
    af_scale_nice_time(0, 0.2, 4, &s); /* below a second: decimal */
    assert_true(fabs(s.step - 0.05) < 1e-12);
    assert_true(af_scale_map(&(af_scale){0, 10, 2, 6}, 5, 100, 200) == 150);
    assert_true(af_scale_map(&(af_scale){0, 10, 2, 6}, 10, 300, 100) == 100);
    static const struct {
        double v, step;
        bool as_time;
        const char *text;
    } labels[] = {
        {1500, 500, false, "1.5k"}, {2e6, 1e6, false, "2M"}, {0.25, 0.05, false, "0.25"},
        {40, 10, false, "40"},      {900, 300, true, "15m"}, {7200, 3600, true, "2h"},
        {4, 1, true, "4s"},         {90, 30, true, "90s"},   {172800, 86400, true, "2d"},
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        char b[32];
        af_svg_number(labels[i].v, labels[i].step, labels[i].as_time, b, sizeof b);
        assert_string_equal(b, labels[i].text);
    }
}

static char *plot_text(const af_plot *p)
{
    char *svg = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&svg, &len);
    assert_int_equal(af_svg_plot(m, p), 0);
    fclose(m);
    return svg;
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++)
        n++;
    return n;
}

static void test_plot_empty_single_gap(void **state)
{
    (void)state;
    af_series none = {"execs/s", NULL, NULL, 0};
    af_plot p = {"p1", "Execs", "time", "execs/s", true, &none, 1, NULL, 0, 0, 0};
    char *svg = plot_text(&p);
    assert_non_null(strstr(svg, "class=\"plot\" id=\"p1\" data-series=\"1\" data-points=\"0\""));
    assert_non_null(strstr(svg, ">no data</text>"));
    assert_int_equal(count_of(svg, "<circle"), 0);
    free(svg);

    /* one point: drawn, inside the plot, the ranges widened around it */
    double x1[] = {600}, y1[] = {42};
    af_series one = {"features", x1, y1, 1};
    p.series = &one;
    svg = plot_text(&p);
    assert_int_equal(count_of(svg, "<circle"), 1);
    assert_null(strstr(svg, "no data"));
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    double cx, cy;
    const char *c = strstr(svg, "<circle cx=\"");
    assert_int_equal(sscanf(c, "<circle cx=\"%lf\" cy=\"%lf\"", &cx, &cy), 2);
    assert_true(cx > 58 && cx < 560 - 16 && cy > 52 && cy < 260 - 36);
    assert_non_null(strstr(svg, "features: 42 at 10m")); /* x as a duration */
    free(svg);

    /* a NaN leaves a gap: two sub-paths; a run mark is drawn */
    double x2[] = {0, 1, 2, 3, 4}, y2[] = {1, 2, NAN, 4, 5};
    af_series gap = {"eps", x2, y2, 5};
    af_vmark mk = {2, "run 2 started"};
    p.series = &gap;
    p.marks = &mk;
    p.nmarks = 1;
    svg = plot_text(&p);
    const char *d = strstr(svg, "<path fill=\"none\"");
    assert_non_null(d);
    assert_int_equal(count_of(d, " M"), 1);
    assert_int_equal(count_of(svg, "<circle"), 4);
    assert_non_null(strstr(svg, "class=\"run-mark\" data-tip=\"run 2 started\""));
    free(svg);
}

/* ---- the campaign folder ---- */

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    af_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(af_write_file(path, text, strlen(text), &err), 0);
}

static void finding_folder(const char *camp, const char *sig, const char *text, const char *status,
                           const char *first)
{
    char dir[512], meta[1024], verdict[512];
    af_error err;
    snprintf(dir, sizeof dir, "%s/findings/%s", camp, sig);
    assert_int_equal(af_make_dirs(dir, &err), 0);
    snprintf(meta, sizeof meta,
             "{\"signature\": \"%s\", \"signature_text\": \"%s\", \"oracle\": \"x\", "
             "\"engine\": \"builtin\", \"first_seen\": \"%s\"%s%s%s}",
             sig, text, first, status ? ", \"baseline\": {\"status\": \"" : "",
             status ? status : "", status ? "\", \"issue\": \"gh-1\"}" : "");
    put_file(dir, "meta.json", meta);
    snprintf(verdict, sizeof verdict,
             "{\"oracle\": \"x\", \"task\": {\"id\": 0, \"name\": \"main\"}, \"path\": "
             "\"main/0:sleep\", \"op\": 0, \"vtime\": 3, \"evidence\": \"e\", \"cause\": "
             "\"target\", \"cause_why\": \"w\", \"signature\": {\"hash\": \"%s\", \"text\": "
             "\"%s\"}}",
             sig, text);
    put_file(dir, "verdict.json", verdict);
    put_file(dir, "count", "3\n");
}

static void test_plot_data_by_header(void **state)
{
    (void)state;
    af_plot_row *rows;
    int n;
    assert_int_equal(
        af_plot_data_parse("# relative_time, cycles_done, cur_item, corpus_count, pending_total, "
                           "pending_favs, map_size, saved_crashes, saved_hangs, max_depth, "
                           "execs_per_sec, total_execs, edges_found\n"
                           "5, 0, 0, 100, 0, 0, 12.50%, 2, 1, 0, 4000.50, 20000, 3000\n"
                           "\n10, 0, 0, 120, 0, 0, 13.00%, 3, 1, 0, 4100.00, 41000, 3200\n",
                           &rows, &n),
        0);
    assert_int_equal(n, 2);
    assert_true(rows[1].t == 10 && rows[1].corpus == 120 && rows[1].crashes == 3 &&
                rows[1].hangs == 1 && rows[1].execs_per_sec == 4100 &&
                rows[1].total_execs == 41000 && rows[1].edges == 3200);
    free(rows);
    /* AFL++'s older names; a column the file lacks reads as NaN */
    assert_int_equal(
        af_plot_data_parse("# relative_time, paths_total, unique_crashes\n1, 7, 2\n", &rows, &n),
        0);
    assert_true(n == 1 && rows[0].corpus == 7 && rows[0].crashes == 2 && isnan(rows[0].edges));
    free(rows);
    assert_int_equal(af_plot_data_parse("# unix_time, execs_per_sec\n1, 2\n", &rows, &n), -1);
    assert_int_equal(af_plot_data_parse("", &rows, &n), -1);
}

/* What a writer writes of r. */
static char *written(int (*write)(const af_report *, FILE *), const af_report *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_int_equal(write(r, m), 0);
    fclose(m);
    return text;
}

static void test_campaign_folder(void **state)
{
    (void)state;
    char camp[128], stats[256];
    af_error err;
    snprintf(camp, sizeof camp, "%s/camp", BASE);
    finding_folder(camp, "00000000000000aa", "a|b|c", "known", "2026-01-01T00:00:00Z");
    finding_folder(camp, "00000000000000bb", "d|e|f", "new", "2026-01-02T00:00:00Z");
    finding_folder(camp, "00000000000000cc", "g|h|i", NULL, "2026-01-01T00:00:00Z");
    /* run A, then B started (end null) and completed (a later copy of its line) */
    put_file(camp, "history.jsonl",
             "{\"run\": \"20260101T000000Z-1\", \"start\": \"2026-01-01T00:00:00Z\", \"end\": "
             "\"2026-01-01T00:10:00Z\", \"seconds\": 600, \"execs\": 1000, \"exit\": 0, "
             "\"signatures\": {\"new\": [], \"known\": [\"00000000000000aa\"]}, \"stats\": "
             "\"stats/20260101T000000Z-1\"}\n"
             "{\"run\": \"20260102T000000Z-2\", \"start\": \"2026-01-02T00:00:00Z\", \"end\": "
             "null, \"exit\": null}\n"
             "not json\n"
             "{\"run\": \"20260102T000000Z-2\", \"start\": \"2026-01-02T00:00:00Z\", \"end\": "
             "\"2026-01-02T00:10:00Z\", \"seconds\": 600, \"exit\": 1, \"signatures\": {\"new\": "
             "[\"00000000000000bb\"], \"known\": [\"00000000000000aa\"]}}\n");
    snprintf(stats, sizeof stats, "%s/stats/20260101T000000Z-1", camp);
    assert_int_equal(af_make_dirs(stats, &err), 0);
    put_file(stats, "plot_data", "# relative_time, execs_per_sec\n0, 10\n600, 20\n");
    snprintf(stats, sizeof stats, "%s/stats/20251231T000000Z-9", camp); /* not in history */
    assert_int_equal(af_make_dirs(stats, &err), 0);
    put_file(stats, "plot_data", "# relative_time, execs_per_sec\n0, 5\n");

    af_report r;
    assert_int_equal(af_report_read(camp, &r, &err), 0);
    assert_int_equal(r.nruns, 3);
    assert_string_equal(r.runs[0].run, "20251231T000000Z-9"); /* by start */
    assert_string_equal(r.runs[0].start, "2025-12-31T00:00:00Z");
    assert_int_equal(r.runs[1].nrows, 2);
    assert_int_equal(r.runs[2].exit, 1); /* the last line of its run-id */
    assert_int_equal(r.runs[2].nnew, 1);
    assert_int_equal(r.runs[2].nrows, 0);
    assert_int_equal(r.nfindings, 3);
    assert_int_equal(r.nnew, 2);
    /* new first (by first seen), then known */
    assert_string_equal(r.findings[0].sig, "00000000000000cc");
    assert_false(r.findings[0].labelled);
    assert_string_equal(r.findings[1].sig, "00000000000000bb");
    assert_true(r.findings[1].new_since_last_run);
    assert_string_equal(r.findings[2].sig, "00000000000000aa");
    assert_false(r.findings[2].new_since_last_run);
    assert_int_equal(r.findings[2].count, 3);
    assert_string_equal(r.findings[2].issue, "gh-1");
    assert_string_equal(r.findings[2].path, "main/0:sleep");
    char all[4096] = "";
    for (int i = 0; i < r.nmissing; i++)
        strncat(all, r.missing[i], sizeof all - strlen(all) - 1);
    assert_non_null(strstr(all, "no campaign.json"));
    assert_non_null(strstr(all, "history.jsonl line 3"));
    assert_non_null(strstr(all, "not in history.jsonl"));
    assert_non_null(strstr(all, "run 20260102T000000Z-2: no stats/20260102T000000Z-2/plot_data"));
    assert_non_null(strstr(all, "1 finding(s) carry no baseline label"));

    /* Markdown: new findings, then the known table, then the trend */
    char *md = written(af_report_write_md, &r);
    const char *n = strstr(md, "## New findings (2)"), *k = strstr(md, "## Known findings (1)"),
               *t = strstr(md, "## Trend over past runs");
    assert_true(n && k && t && n < k && k < t);
    assert_true(strstr(md, "`g|h|i`") < strstr(md, "`d|e|f` (new since the last run)"));
    assert_non_null(strstr(md, "| `a\\|b\\|c` | x | gh-1 |"));
    free(md);
    /* JUnit: the two new ones fail, the known one passes naming its issue */
    char *xml = written(af_report_write_junit, &r);
    assert_non_null(strstr(xml, "tests=\"3\" failures=\"2\""));
    assert_non_null(strstr(xml, "<system-out>known: gh-1"));
    free(xml);
    char *json = written(af_report_write_json, &r);
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    cJSON *sum = cJSON_GetObjectItem(j, "summary");
    assert_int_equal(cJSON_GetObjectItem(sum, "new")->valueint, 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "runs")), 3);
    cJSON_Delete(j);
    free(json);
    af_report_free(&r);

    /* the findings store alone is read too; an empty folder is an error */
    char store[160];
    snprintf(store, sizeof store, "%s/findings", camp);
    assert_int_equal(af_report_read(store, &r, &err), 0);
    assert_int_equal(r.nfindings, 3);
    assert_int_equal(r.nruns, 0);
    assert_non_null(strstr(r.missing[0], "plain findings store"));
    af_report_free(&r);
    snprintf(store, sizeof store, "%s/empty", BASE);
    assert_int_equal(af_make_dirs(store, &err), 0);
    assert_int_equal(af_report_read(store, &r, &err), -1);
    assert_non_null(strstr(err.message, "not a campaign folder"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_delivered),
        cmocka_unit_test(test_request_withdrawn_and_spans),
        cmocka_unit_test(test_request_lost_and_verdict),
        cmocka_unit_test(test_lanes_capped_verdict_kept),
        cmocka_unit_test(test_slots_follow_time),
        cmocka_unit_test(test_overflowed_trace_keeps_requests),
        cmocka_unit_test(test_nice_scales),
        cmocka_unit_test(test_plot_empty_single_gap),
        cmocka_unit_test(test_plot_data_by_header),
        cmocka_unit_test(test_campaign_folder),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
