/* report.h - `asyncfuzz report CAMPAIGN`: what a campaign folder holds,
 * read into one model (report_read.c), and the four writers of it:
 * Markdown (report_md.c), a self-contained HTML page (report_html.c, its
 * plots and timelines drawn by report_svg.c from timeline.c's model),
 * JUnit and JSON (report_ci.c).
 *
 * The campaign folder (docs/REPORT.md; the campaign side's contract,
 * CAMPAIGN_FORMAT: campaign.json, history.jsonl, findings/, stats/<run-id>/
 * plot_data) is only read: nothing here writes into it but the writers'
 * output files, which the caller places. Any part may be missing (a plain
 * findings store, an old campaign without history or statistics): the
 * model then says what is missing (`missing`), and the writers say it too.
 * Must not run scenarios: the findings were judged when they were filed
 * (the timelines re-read their traces, report_html.c).
 */
#ifndef ASYNCFUZZ_REPORT_H
#define ASYNCFUZZ_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

/* One interpreter a finding's reproducer was run under (meta.json's
 * "reproduces_on"). */
typedef struct af_report_python {
    char *python;  /* the interpreter's path */
    char *version; /* "3.11.2" */
    bool reproduced;
    int exit; /* the reproducer's exit status, -1 unknown */
} af_report_python;

/* One signature folder of the findings store. Strings are malloc'd, NULL
 * when the folder does not say. */
typedef struct af_report_finding {
    char sig[17]; /* 16 hex digits */
    char *dir;    /* its folder */
    char *text;   /* signature text */
    char *oracle; /* meta.json */
    char *engine;
    char *origin;
    char *first_seen;
    char *target;
    uint64_t count;
    /* meta.json "baseline": known (in a baseline list) or new; a folder
     * without the label counts as new (labelled false). */
    bool known;
    bool labelled;
    char *issue, *fixed_in, *description, *list;
    /* history.jsonl: in the last run's signatures and in no earlier run's */
    bool new_since_last_run;
    /* verdict.json */
    char *task_name, *path, *evidence, *cause, *cause_why;
    int task, op; /* -1 none */
    int64_t vtime;
    af_report_python *pythons;
    int npythons;
    bool has_trace; /* trace.jsonl is there */
} af_report_finding;

/* One row of an AFL++ plot_data file (columns read by their header's
 * names; a column the file lacks reads as NaN). */
typedef struct af_plot_row {
    double t; /* relative_time, seconds since the run's start */
    double execs_per_sec, total_execs, edges, corpus, crashes, hangs;
} af_plot_row;

/* One run of history.jsonl (the last line of its run-id). */
typedef struct af_report_run {
    char *run, *start, *end, *command, *engine, *machine, *stats;
    double seconds, execs_per_second; /* NaN: not given */
    double execs, features, corpus;   /* NaN: not given */
    int jobs;                         /* 0: not given */
    int exit;                         /* -1: null (killed before its end) */
    char **new_sigs, **known_sigs;
    int nnew, nknown;
    af_plot_row *rows; /* stats/<run-id>/plot_data; NULL when absent */
    int nrows;
} af_report_run;

typedef struct af_report {
    char *dir;                   /* the campaign folder as given */
    char *store;                 /* its findings store (DIR/findings, or DIR itself) */
    char *created;               /* campaign.json; NULL without it */
    char *settings;              /* campaign.json's settings as "key: value, ..." */
    af_report_finding *findings; /* new first, then known; by first seen */
    int nfindings;
    int nnew;            /* findings that are not known */
    af_report_run *runs; /* by start time */
    int nruns;
    char **missing; /* one sentence each: what the folder lacks */
    int nmissing;
} af_report;

/* Read the campaign folder dir. A folder with neither a findings store,
 * history.jsonl nor campaign.json is an error, as is one that cannot be
 * read; anything else missing or unreadable is listed in r->missing.
 * 0, or -1 with err set (r then holds nothing to free). */
int af_report_read(const char *dir, af_report *r, af_error *err);
void af_report_free(af_report *r);

/* Parse an AFL++ plot_data text (a "# name, name, ..." header, then rows
 * of comma-separated values). *rows is malloc'd (NULL when none). -1 when
 * the header is missing or names no relative_time column. */
int af_plot_data_parse(const char *text, af_plot_row **rows, int *nrows);

/* The signature status as written everywhere: "new" or "known". */
const char *af_report_status(const af_report_finding *f);

/* path relative to the campaign folder when it lies inside it, else path. */
const char *af_report_rel(const af_report *r, const char *path);

/* Where the reproducer was run: "3.11.2; not 3.12.1, 3.13.0" (the
 * versions, else the interpreters' paths), "" when nowhere. */
void af_report_reproduces_on(const af_report_finding *f, char *buf, size_t cap);

/* The table of runs (Markdown, HTML): its column names, and one run's
 * cells as text ("-" for what the history does not give, "killed" for the
 * exit of a run killed before its end). Columns 3 to 9 are numbers. */
#define AF_REPORT_RUN_COLUMNS 11
extern const char *const af_report_run_columns[AF_REPORT_RUN_COLUMNS];
void af_report_run_cells(const af_report_run *u, char cells[AF_REPORT_RUN_COLUMNS][96]);

/* A run's length in seconds: history's, else its plot_data's last row, else 0. */
double af_report_run_seconds(const af_report_run *u);

/* ---- the writers: each writes one document of r to out; 0, or -1 on a
 * write error (or with err set) ---- */

int af_report_write_md(const af_report *r, FILE *out);
int af_report_write_json(const af_report *r, FILE *out);
int af_report_write_junit(const af_report *r, FILE *out);
/* The page: plots, the run table, every finding with its scenario tree,
 * verdict, reproducer and timeline (read from its folder). */
int af_report_write_html(const af_report *r, FILE *out, af_error *err);

#endif
