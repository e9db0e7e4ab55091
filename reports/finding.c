/* finding.c - write one finding folder (finding.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_io.h"
#include "reports/finding.h"
#include "reports/repro.h"
#include "scenarios/json.h"

void af_finding_scenario(const af_scenario *s, const af_verdict_list *v, int pyversion,
                         const char *origin, af_scenario *out)
{
    *out = *s;
    out->nexpect = 0;
    bool seen[AF_ORACLE_COUNT] = {0};
    char oracles[160] = "";
    size_t pos = 0;
    for (int i = 0; v && i < v->count; i++) {
        af_oracle o = v->items[i].oracle;
        if (seen[o] || out->nexpect >= AF_MAX_EXPECT)
            continue;
        seen[o] = true;
    }
    /* In oracle order, so that the file is canonical whatever the order of
     * the verdicts. */
    for (int o = 0; o < AF_ORACLE_COUNT; o++) {
        if (!seen[o] || out->nexpect >= AF_MAX_EXPECT)
            continue;
        af_expect *e = &out->expect[out->nexpect++];
        memset(e, 0, sizeof *e);
        snprintf(e->oracle, sizeof e->oracle, "%s", af_oracle_name((af_oracle)o));
        e->pyversions[0] = (int16_t)pyversion;
        e->npyversions = 1;
        if (pos < sizeof oracles)
            pos += (size_t)snprintf(oracles + pos, sizeof oracles - pos, "%s%s", pos ? ", " : "",
                                    af_oracle_name((af_oracle)o));
    }
    if (origin) {
        snprintf(out->description, sizeof out->description, "found by asyncfuzz %s: %s", origin,
                 oracles[0] ? oracles : "no verdict");
        /* A description is one line of printable text. */
        for (char *c = out->description; *c; c++)
            if ((unsigned char)*c < 0x20)
                *c = ' ';
    }
}

char *af_finding_repro(const af_scenario *s, const af_verdict_list *v, af_error *err)
{
    return af_finding_repro_target(s, v, NULL, err);
}

char *af_finding_repro_target(const af_scenario *s, const af_verdict_list *v, const char *target,
                              af_error *err)
{
    struct af_repro_assert asserts[AF_MAX_VERDICTS];
    size_t n = 0;
    /* One assert per verdict; the words say where and what, so that a
     * failing assert reads as the finding. Pointers into v. */
    for (int i = 0; v && i < v->count && n < AF_MAX_VERDICTS; i++) {
        const af_verdict *x = &v->items[i];
        asserts[n].oracle = af_oracle_name(x->oracle);
        asserts[n].task = x->task_name[0] ? x->task_name : NULL;
        /* A coroutine never awaited is nobody's task: the verdict names the
         * task that created it, the reproducer's check takes no task. */
        if (x->oracle == AF_ORACLE_LEAKED_TASK && x->op >= 0 && x->op < s->nops &&
            s->ops[x->op].kind == AF_OP_NEVER_AWAITED)
            asserts[n].task = NULL;
        asserts[n].words = x->evidence;
        n++;
    }
    char *text = af_codegen_python_target(s, target, asserts, n);
    if (!text)
        af_error_set(
            err, "",
            "generating the Python reproducer failed (unknown target adapter or out of memory)");
    return text;
}

/* verdicts.json */
static char *verdicts_json(const af_finding *f, size_t *len_out)
{
    size_t cap = 8192 + (size_t)f->verdicts->count * (AF_VERDICT_EVIDENCE_MAX * 2 + 1024);
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    size_t pos = 0;
    const af_verdict *p =
        f->primary >= 0 && f->primary < f->verdicts->count ? &f->verdicts->items[f->primary] : NULL;
#define PUT(...) pos += (size_t)snprintf(buf + pos, pos < cap ? cap - pos : 0, __VA_ARGS__)
    PUT("{\n  \"asyncfuzz_finding\": 1,\n  \"python\": \"%d.%d\",\n  \"origin\": ",
        f->pyversion / 100, f->pyversion % 100);
    const char *origin = f->origin ? f->origin : "";
    if (pos < cap)
        af_json_put_string(buf, cap, &pos, origin, strlen(origin));
    if (p) {
        PUT(",\n  \"oracle\": \"%s\",\n  \"signature\": {\"hash\": \"%016" PRIx64 "\", \"text\": ",
            af_oracle_name(p->oracle), p->signature);
        if (pos < cap)
            af_json_put_string(buf, cap, &pos, p->signature_text, strlen(p->signature_text));
        PUT("}");
    }
    PUT(",\n  \"verdicts\": [");
    for (int i = 0; i < f->verdicts->count; i++) {
        PUT("%s\n    ", i ? "," : "");
        if (pos < cap)
            pos += af_verdict_write_json(&f->verdicts->items[i], buf + pos, cap - pos);
    }
    PUT("%s]", f->verdicts->count ? "\n  " : "");
    if (f->verdicts->dropped)
        PUT(",\n  \"dropped\": %d", f->verdicts->dropped);
    if (f->trace && f->trace->overflow)
        PUT(",\n  \"trace_overflow\": true");
    PUT("\n}\n");
#undef PUT
    if (pos >= cap) {
        free(buf);
        return NULL;
    }
    *len_out = pos;
    return buf;
}

int af_finding_write(const char *dir, const af_finding *f, af_error *err)
{
    int rc = -1;
    char path[4200];
    char *text = NULL;
    af_scenario *fs = NULL;
    size_t len = 0;

    if (af_mkdirs(dir, err) < 0)
        return -1;

    /* scenario.json */
    fs = malloc(sizeof *fs);
    if (!fs)
        goto oom;
    af_finding_scenario(f->scenario, f->all_verdicts ? f->all_verdicts : f->verdicts, f->pyversion,
                        f->origin, fs);
    text = af_json_write(fs);
    if (!text)
        goto oom;
    snprintf(path, sizeof path, "%s/scenario.json", dir);
    if (af_write_file_durable(path, text, strlen(text), err) < 0)
        goto done;
    free(text);

    /* repro.py */
    text = af_finding_repro_target(f->scenario, f->verdicts, f->target, err);
    if (!text)
        goto done;
    snprintf(path, sizeof path, "%s/repro.py", dir);
    if (af_write_file_durable(path, text, strlen(text), err) < 0)
        goto done;
    free(text);

    /* verdicts.json */
    text = verdicts_json(f, &len);
    if (!text)
        goto oom;
    snprintf(path, sizeof path, "%s/verdicts.json", dir);
    if (af_write_file_durable(path, text, len, err) < 0)
        goto done;
    free(text);
    text = NULL;

    /* trace.jsonl */
    if (f->trace) {
        len = af_trace_write_jsonl(f->trace, NULL, 0);
        text = malloc(len + 1);
        if (!text)
            goto oom;
        af_trace_write_jsonl(f->trace, text, len + 1);
        snprintf(path, sizeof path, "%s/trace.jsonl", dir);
        if (af_write_file_durable(path, text, len, err) < 0)
            goto done;
        free(text);
        text = NULL;
    }

    /* input.bin */
    if (f->input) {
        snprintf(path, sizeof path, "%s/input.bin", dir);
        if (af_write_file_durable(path, f->input, f->input_len, err) < 0)
            goto done;
    }
    rc = 0;
    goto done;
oom:
    af_error_set(err, "", "%s: out of memory writing the finding", dir);
done:
    free(text);
    free(fs);
    return rc;
}
