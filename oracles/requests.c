/* requests.c - the ledger's view of a run (requests.h): the cancellation
 * walk run alone, with a sink that copies each task's ledger. Nothing here
 * decides a request's fate: the ledger did (ledger.c), this only names it.
 */
#include <stdlib.h>
#include <string.h>

#include "oracles/ledger.h"
#include "oracles/requests.h"

static const char *const fate_names[AF_FATE_COUNT] = {
    "outstanding", "forwarded", "withdrawn", "handled", "delivered", "lost", "undelivered",
};

const char *af_request_fate_name(af_request_fate f)
{
    return f >= 0 && f < AF_FATE_COUNT ? fate_names[f] : NULL;
}

static af_request_fate fate_of(const af_request *q)
{
    switch (q->end) {
    case AF_REQ_END_WITHDRAWN:
        return AF_FATE_WITHDRAWN;
    case AF_REQ_END_HANDLED:
        return AF_FATE_HANDLED;
    case AF_REQ_END_DELIVERED:
        return AF_FATE_DELIVERED;
    case AF_REQ_END_LOST:
        return AF_FATE_LOST;
    case AF_REQ_END_UNDELIVERED:
        return AF_FATE_UNDELIVERED;
    case AF_REQ_END_NONE:
        break;
    }
    return q->exempt ? AF_FATE_FORWARDED : AF_FATE_OUTSTANDING;
}

typedef struct sink {
    af_request_list *out;
    int cap;
    int failed;
} sink;

static void take_ledger(void *arg, const af_ledger *l)
{
    sink *k = arg;
    for (int r = 0; r < l->nreq && !k->failed; r++) {
        if (k->out->count == k->cap) {
            int cap = k->cap ? 2 * k->cap : 16;
            af_request_view *v = realloc(k->out->items, (size_t)cap * sizeof *v);
            if (!v) {
                k->failed = 1;
                return;
            }
            k->out->items = v;
            k->cap = cap;
        }
        const af_request *q = &l->reqs[r];
        af_request_fate f = fate_of(q);
        k->out->items[k->out->count++] = (af_request_view){
            .task = l->task,
            .by = q->by,
            .made_ev = q->ev,
            .fate = f,
            .settled_ev = f == AF_FATE_OUTSTANDING || f == AF_FATE_FORWARDED ? -1 : q->settled_ev,
            .lost_op = f == AF_FATE_LOST ? q->lost_op : -1,
        };
    }
}

int af_requests_of_run(const af_scenario *s, const af_trace *tr, af_request_list *out,
                       af_error *err)
{
    memset(out, 0, sizeof *out);
    if (tr->overflow) {
        out->incomplete = 1;
        return 0;
    }
    af_ctx *c = malloc(sizeof *c);
    af_verdict_list *scratch = malloc(sizeof *scratch);
    if (!c || !scratch) {
        free(c);
        free(scratch);
        af_error_set(err, "", "out of memory");
        return -1;
    }
    af_verdict_list_init(scratch);
    af_ctx_build(c, s, tr, scratch);
    sink k = {out, 0, 0};
    c->ledger_sink = take_ledger;
    c->ledger_arg = &k;
    af_oracle_cancellation(c);
    free(c);
    free(scratch);
    if (k.failed) {
        af_request_list_free(out);
        af_error_set(err, "", "out of memory");
        return -1;
    }
    return 0;
}

void af_request_list_free(af_request_list *list)
{
    free(list->items);
    memset(list, 0, sizeof *list);
}
