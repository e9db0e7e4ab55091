/* findings_label.c - what a campaign does to a findings store around a run
 * (findings.h): labelling the folders known / new from the baselines,
 * setting a field of one folder's meta.json, and the tally of counts that
 * tells which signatures a run met. Must not build or replace a folder:
 * that is findings.c's. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reports/findings.h"
#include "reports/findings_io.h"

/* meta.json of a folder, parsed; NULL when missing or unreadable. */
static cJSON *read_meta(const char *sig_dir)
{
    char *text = af_store_read_text(sig_dir, "meta.json");
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    return root;
}

int af_findings_label(const char *dir, const af_baseline *b, af_error *err)
{
    char(*names)[17];
    size_t n;
    if (af_store_sig_names(dir, &names, &n, err) < 0)
        return -1;
    if (n == 0)
        return 0;
    int lock = af_store_lock(dir, err);
    if (lock < 0) {
        free(names);
        return -1;
    }
    int changed = 0;
    for (size_t i = 0; i < n && changed >= 0; i++) {
        char sig_dir[AF_STORE_PATH_CAP];
        snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, names[i]);
        cJSON *root = read_meta(sig_dir);
        if (!root)
            continue; /* the repair rebuilds it; labelled next time */
        cJSON *want = af_store_label_json(b, strtoull(names[i], NULL, 16));
        cJSON *have = cJSON_GetObjectItemCaseSensitive(root, "baseline");
        if (have && cJSON_Compare(have, want, true)) {
            cJSON_Delete(want);
        } else {
            if (have)
                cJSON_ReplaceItemInObjectCaseSensitive(root, "baseline", want);
            else
                cJSON_AddItemToObject(root, "baseline", want);
            if (af_store_write_meta_json(sig_dir, root, true, err) < 0)
                changed = -1;
            else
                changed++;
        }
        cJSON_Delete(root);
    }
    if (changed > 0) {
        af_error ignored;
        af_store_summary_locked(dir, NULL, NULL, NULL, &ignored);
    }
    af_store_unlock(lock);
    free(names);
    return changed;
}

int af_findings_set_meta(const char *dir, uint64_t signature, const char *key, const char *json,
                         af_error *err)
{
    cJSON *value = cJSON_Parse(json);
    if (!value) {
        af_error_set(err, "", "meta.json %s: the value does not parse", key);
        return -1;
    }
    char sig_dir[AF_STORE_PATH_CAP];
    snprintf(sig_dir, sizeof sig_dir, "%s/%016" PRIx64, dir, signature);
    int lock = af_store_lock(dir, err);
    if (lock < 0) {
        cJSON_Delete(value);
        return -1;
    }
    int rc = -1;
    cJSON *root = read_meta(sig_dir);
    if (!root) {
        af_error_set(err, "", "%s: no readable meta.json", sig_dir);
        cJSON_Delete(value);
    } else {
        if (cJSON_GetObjectItemCaseSensitive(root, key))
            cJSON_ReplaceItemInObjectCaseSensitive(root, key, value);
        else
            cJSON_AddItemToObject(root, key, value);
        rc = af_store_write_meta_json(sig_dir, root, true, err);
        cJSON_Delete(root);
    }
    af_store_unlock(lock);
    return rc;
}

int af_findings_tally_read(const char *dir, af_findings_tally *out, af_error *err)
{
    memset(out, 0, sizeof *out);
    char(*names)[17];
    size_t n;
    if (af_store_sig_names(dir, &names, &n, err) < 0)
        return -1;
    if (n == 0)
        return 0;
    out->sigs = malloc(n * sizeof *out->sigs);
    out->counts = malloc(n * sizeof *out->counts);
    if (!out->sigs || !out->counts) {
        af_findings_tally_free(out);
        free(names);
        af_error_set(err, "", "%s: out of memory", dir);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char sig_dir[AF_STORE_PATH_CAP];
        snprintf(sig_dir, sizeof sig_dir, "%s/%s", dir, names[i]);
        out->sigs[i] = strtoull(names[i], NULL, 16); /* sorted: same-width hex */
        out->counts[i] = af_findings_count(sig_dir);
    }
    out->n = n;
    free(names);
    return 0;
}

void af_findings_tally_free(af_findings_tally *t)
{
    free(t->sigs);
    free(t->counts);
    memset(t, 0, sizeof *t);
}

uint64_t af_findings_tally_count(const af_findings_tally *t, uint64_t sig)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->sigs[mid] == sig)
            return t->counts[mid];
        if (t->sigs[mid] < sig)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}
