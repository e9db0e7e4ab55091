/* findings_table.c - one process's view of a findings store (findings.h):
 * the table of signatures it has met, which decides what goes to disk
 * (a signature's first run, a smaller run when asked) and counts the rest
 * in memory until af_findings_flush. The one signature table of every
 * command that files findings. Must not write a folder itself: that is
 * af_findings_record's job. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/findings.h"
#include "reports/findings_io.h"

/* A known signature's count is added to its folder once this many runs
 * are pending, besides every af_findings_flush. */
#define FLUSH_PENDING 1000

struct af_findings_store {
    char dir[AF_STORE_PATH_CAP];
    char engine[32];
    bool refile_smaller;
    const af_baseline *baseline; /* labels meta.json; NULL: none */
    af_findings_known *items;    /* in the order met */
    size_t n, cap;
    int32_t *slots; /* open addressing over items: index, -1 empty */
    size_t nslots;  /* a power of two, at least twice n */
};

af_findings_store *af_findings_open(const char *dir, const char *engine, FILE *log, af_error *err)
{
    if (strlen(dir) + 20 >= AF_STORE_PATH_CAP) {
        af_error_set(err, "", "%s: findings folder path too long", dir);
        return NULL;
    }
    af_findings_store *st = calloc(1, sizeof *st);
    if (!st) {
        af_error_set(err, "", "out of memory");
        return NULL;
    }
    snprintf(st->dir, sizeof st->dir, "%s", dir);
    snprintf(st->engine, sizeof st->engine, "%s", engine ? engine : "");
    if (af_findings_repair(dir, log, err) < 0) {
        free(st);
        return NULL;
    }
    return st;
}

void af_findings_close(af_findings_store *st)
{
    if (!st)
        return;
    af_error ignored;
    af_findings_flush(st, &ignored);
    free(st->items);
    free(st->slots);
    free(st);
}

const char *af_findings_dir(const af_findings_store *st)
{
    return st->dir;
}

void af_findings_use_baseline(af_findings_store *st, const af_baseline *b)
{
    st->baseline = b;
}

const af_baseline *af_findings_baseline(const af_findings_store *st)
{
    return st->baseline;
}

void af_findings_refile_smaller(af_findings_store *st, bool on)
{
    st->refile_smaller = on;
}

void af_findings_sig_dir(const af_findings_store *st, uint64_t signature, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%016" PRIx64, st->dir, signature);
}

size_t af_findings_known_count(const af_findings_store *st)
{
    return st->n;
}

const af_findings_known *af_findings_known_at(const af_findings_store *st, size_t i)
{
    return i < st->n ? &st->items[i] : NULL;
}

/* ---- the table ---- */

static size_t slot_of(uint64_t sig, size_t nslots)
{
    return (size_t)(sig ^ (sig >> 32)) & (nslots - 1);
}

static af_findings_known *find(const af_findings_store *st, uint64_t sig)
{
    if (!st->nslots)
        return NULL;
    for (size_t k = slot_of(sig, st->nslots); st->slots[k] >= 0; k = (k + 1) & (st->nslots - 1))
        if (st->items[st->slots[k]].signature == sig)
            return &st->items[st->slots[k]];
    return NULL;
}

static int grow_slots(af_findings_store *st)
{
    size_t nslots = st->nslots ? st->nslots * 2 : 256;
    int32_t *slots = malloc(nslots * sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < nslots; i++)
        slots[i] = -1;
    for (size_t i = 0; i < st->n; i++) {
        size_t k = slot_of(st->items[i].signature, nslots);
        while (slots[k] >= 0)
            k = (k + 1) & (nslots - 1);
        slots[k] = (int32_t)i;
    }
    free(st->slots);
    st->slots = slots;
    st->nslots = nslots;
    return 0;
}

static af_findings_known *add(af_findings_store *st, uint64_t signature, const char *oracle,
                              const char *text)
{
    if ((st->n + 1) * 2 > st->nslots && grow_slots(st) < 0)
        return NULL;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        af_findings_known *items = realloc(st->items, cap * sizeof *items);
        if (!items)
            return NULL;
        st->items = items;
        st->cap = cap;
    }
    af_findings_known *e = &st->items[st->n];
    memset(e, 0, sizeof *e);
    e->signature = signature;
    snprintf(e->oracle, sizeof e->oracle, "%s", oracle);
    snprintf(e->text, sizeof e->text, "%s", text);
    size_t k = slot_of(signature, st->nslots);
    while (st->slots[k] >= 0)
        k = (k + 1) & (st->nslots - 1);
    st->slots[k] = (int32_t)st->n;
    st->n++;
    return e;
}

/* ---- filing ---- */

static int flush_one(af_findings_store *st, af_findings_known *e, af_error *err)
{
    if (!e->pending)
        return 0;
    if (af_findings_add_count(st->dir, e->signature, e->pending, err) < 0)
        return -1;
    e->pending = 0;
    return 0;
}

int af_findings_flush(af_findings_store *st, af_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < st->n; i++)
        if (flush_one(st, &st->items[i], err) < 0)
            rc = -1;
    return rc;
}

static af_findings_result record(af_findings_store *st, const af_findings_record_in *in,
                                 af_error *err)
{
    af_findings_record_in r = *in;
    if (!r.engine)
        r.engine = st->engine;
    if (!r.baseline)
        r.baseline = st->baseline;
    return af_findings_record(st->dir, &r, NULL, 0, err);
}

int af_findings_file_run(af_findings_store *st, const af_findings_record_in *in,
                         af_findings_filed *out, int cap, af_error *err)
{
    const af_verdict_list *v = in->verdicts;
    af_findings_size size;
    bool have_size = false;
    int made = 0;
    for (int i = 0; v && i < v->count; i++) {
        uint64_t sig = v->items[i].signature;
        bool again = false; /* counted once per run */
        for (int j = 0; j < i && !again; j++)
            again = v->items[j].signature == sig;
        if (again)
            continue;
        af_findings_known *e = find(st, sig);
        if (e && !st->refile_smaller) {
            e->hits++;
            if (++e->pending >= FLUSH_PENDING && flush_one(st, e, err) < 0)
                return -1;
            continue;
        }
        if (!have_size) {
            af_findings_size_of(in->scenario, &size);
            have_size = true;
        }
        if (e && af_findings_size_cmp(&size, &e->best) >= 0) {
            e->hits++;
            e->pending++;
            continue;
        }
        af_findings_record_in one = *in;
        one.primary = i;
        af_findings_result r = record(st, &one, err);
        if (r == AF_FINDINGS_ERROR)
            return -1;
        if (!e) {
            e = add(st, sig, af_oracle_name(v->items[i].oracle), v->items[i].signature_text);
            if (!e) {
                af_error_set(err, "", "out of memory for the table of signatures");
                return -1;
            }
            e->first = r;
        }
        e->hits++;
        e->best = size;
        if (out && made < cap)
            out[made] = (af_findings_filed){.verdict = i, .result = r};
        made++;
    }
    return made;
}

int af_findings_adopt(af_findings_store *st, const af_findings_known *k)
{
    af_findings_known *e = find(st, k->signature);
    if (!e && !(e = add(st, k->signature, k->oracle, k->text)))
        return -1;
    e->hits = k->hits;
    e->pending = 0;
    e->best = k->best;
    e->first = k->first;
    return 0;
}

af_findings_result af_findings_file_one(af_findings_store *st, const af_findings_record_in *in,
                                        af_error *err)
{
    af_findings_result r = record(st, in, err);
    const af_verdict_list *v = in->verdicts;
    if (r == AF_FINDINGS_SMALLER && v && in->primary >= 0 && in->primary < v->count) {
        af_findings_known *e = find(st, v->items[in->primary].signature);
        if (e)
            af_findings_size_of(in->scenario, &e->best);
    }
    return r;
}
