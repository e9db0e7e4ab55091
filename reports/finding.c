/* finding.c - the files of one finding folder (finding.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/file_io.h"
#include "reports/finding.h"
#include "reports/findings_io.h"
#include "reports/repro.h"
#include "reports/repro_checks.h"
#include "scenarios/json.h"

void af_finding_scenario(const af_scenario *s, const af_verdict_list *v, int pyversion,
                         const char *origin, af_scenario *out)
{
    *out = *s;
    out->nexpect = 0;
    bool seen[AF_ORACLE_COUNT] = {0};
    char oracles[160] = "";
    const char *target = ""; /* the run's target, when not stock asyncio */
    size_t pos = 0;
    for (int i = 0; v && i < v->count; i++) {
        af_oracle o = v->items[i].oracle;
        if (v->items[i].target[0])
            target = v->items[i].target;
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
        e->pyversions[0] =
            (af_pyversion){.minor = (int16_t)pyversion, .first_patch = -1, .last_patch = -1};
        e->npyversions = 1;
        snprintf(e->target, sizeof e->target, "%s", target);
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

char *af_finding_repro(const af_scenario *s, const af_verdict_list *v, const af_trace *tr,
                       const char *target, af_error *err)
{
    /* One check per verdict (reports/repro_checks.h); the words say where
     * and what, so that a check that fires reads as the finding. */
    af_repro_assert checks[AF_MAX_VERDICTS];
    size_t n = af_repro_checks_build(s, v, tr, checks, AF_MAX_VERDICTS);
    char *text = af_codegen_python_target(s, target, checks, n);
    af_repro_checks_free(checks, n);
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

/* One file of the folder (made durable with the folder: findings.c). */
static int put_file(const char *dir, const char *name, const void *data, size_t len, af_error *err)
{
    return af_store_write_plain(dir, name, data, len, err);
}

/* verdict.json of a finding with verdicts: the primary verdict, one line. */
static int write_primary_verdict(const char *dir, const af_verdict *v, af_error *err)
{
    size_t n = af_verdict_write_json(v, NULL, 0);
    char *line = malloc(n + 2);
    if (!line) {
        af_error_set(err, "", "%s: out of memory writing the finding", dir);
        return -1;
    }
    af_verdict_write_json(v, line, n + 1);
    line[n] = '\n';
    int rc = put_file(dir, "verdict.json", line, n + 1, err);
    free(line);
    return rc;
}

/* A finding with verdicts (see finding.h). */
static int write_with_verdicts(const char *dir, const af_finding *f, af_error *err)
{
    int rc = -1;
    char *text = NULL;
    af_scenario *fs = NULL;
    size_t len = 0;

    /* scenario.json */
    fs = malloc(sizeof *fs);
    if (!fs)
        goto oom;
    af_finding_scenario(f->scenario, f->all_verdicts ? f->all_verdicts : f->verdicts, f->pyversion,
                        f->origin, fs);
    text = af_json_write(fs);
    if (!text)
        goto oom;
    if (put_file(dir, "scenario.json", text, strlen(text), err) < 0)
        goto done;
    free(text);

    /* repro.py */
    text = af_finding_repro(f->scenario, f->verdicts, f->trace, f->target, err);
    if (!text)
        goto done;
    if (put_file(dir, "repro.py", text, strlen(text), err) < 0)
        goto done;
    free(text);

    /* verdicts.json, verdict.json */
    text = verdicts_json(f, &len);
    if (!text)
        goto oom;
    if (put_file(dir, "verdicts.json", text, len, err) < 0)
        goto done;
    free(text);
    text = NULL;
    if (f->primary >= 0 && f->primary < f->verdicts->count &&
        write_primary_verdict(dir, &f->verdicts->items[f->primary], err) < 0)
        goto done;

    /* trace.jsonl */
    if (f->trace) {
        len = af_trace_write_jsonl(f->trace, NULL, 0);
        text = malloc(len + 1);
        if (!text)
            goto oom;
        af_trace_write_jsonl(f->trace, text, len + 1);
        if (put_file(dir, "trace.jsonl", text, len, err) < 0)
            goto done;
        free(text);
        text = NULL;
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

/* verdict.json of a finding without verdicts, one line:
 * {"oracle":..,"evidence":..,"signature":{"hash":..,"text":..}}. */
static char *death_verdict_json(const af_finding *f)
{
    cJSON *v = cJSON_CreateObject();
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, f->signature);
    cJSON_AddStringToObject(v, "oracle", f->oracle ? f->oracle : "unknown");
    cJSON_AddStringToObject(v, "evidence", f->evidence ? f->evidence : "");
    cJSON *sg = cJSON_AddObjectToObject(v, "signature");
    cJSON_AddStringToObject(sg, "hash", hex);
    cJSON_AddStringToObject(sg, "text", f->signature_text ? f->signature_text : "unknown");
    char *text = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    size_t n = text ? strlen(text) : 0;
    char *line = text ? realloc(text, n + 2) : NULL;
    if (!line) {
        free(text);
        return NULL;
    }
    memcpy(line + n, "\n", 2);
    return line;
}

/* verdicts.json of a finding without verdicts: shaped as for one with
 * verdicts, holding that one verdict (verdict.json's line). */
static char *death_verdicts_json(const af_finding *f, const char *verdict_line)
{
    size_t n = strlen(verdict_line) - 1, cap = n + 256;
    char *all = malloc(cap);
    if (all)
        snprintf(all, cap,
                 "{\"asyncfuzz_finding\": 1, \"python\": \"%d.%d\", \"origin\": \"%s\", "
                 "\"verdicts\": [%.*s]}\n",
                 f->pyversion / 100, f->pyversion % 100, f->engine ? f->engine : "", (int)n,
                 verdict_line);
    return all;
}

/* scenario.json's scenario of a finding without verdicts: no expect, the
 * evidence in the description. */
static af_scenario *death_scenario(const af_finding *f)
{
    af_scenario *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    *s = *f->scenario;
    snprintf(s->description, sizeof s->description, "found by asyncfuzz %s: %s: %s",
             f->engine ? f->engine : "", f->oracle ? f->oracle : "unknown",
             f->evidence ? f->evidence : "");
    s->nexpect = 0;
    return s;
}

static int put_text(const char *dir, const char *name, const char *text, af_error *err)
{
    return put_file(dir, name, text, strlen(text), err);
}

/* A finding without verdicts: the process running the input died. */
static int write_without_verdicts(const char *dir, const af_finding *f, af_error *err)
{
    af_scenario *s = death_scenario(f);
    char *json = s ? af_json_write(s) : NULL;
    char *py = json ? af_finding_repro(s, NULL, NULL, f->target, err) : NULL;
    char *verdict = death_verdict_json(f);
    char *all = verdict ? death_verdicts_json(f, verdict) : NULL;
    int rc = -1;
    if (!json || !all)
        af_error_set(err, "", "%s: out of memory writing the finding", dir);
    else if (py && put_text(dir, "scenario.json", json, err) == 0 &&
             put_text(dir, "repro.py", py, err) == 0 &&
             put_text(dir, "verdicts.json", all, err) == 0 &&
             put_text(dir, "verdict.json", verdict, err) == 0)
        rc = 0;
    free(all);
    free(verdict);
    free(py);
    free(json);
    free(s);
    return rc;
}

int af_finding_write(const char *dir, const af_finding *f, af_error *err)
{
    if (af_mkdirs(dir, err) < 0)
        return -1;
    int rc = f->verdicts ? write_with_verdicts(dir, f, err) : write_without_verdicts(dir, f, err);
    if (rc == 0 && f->input && put_file(dir, "input.bin", f->input, f->input_len, err) < 0)
        rc = -1;
    return rc;
}
