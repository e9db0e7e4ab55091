/* fuzz_json.c - libFuzzer target for the scenario JSON reader and writer.
 *
 * Any byte string goes to af_json_read. When it is rejected, the error must
 * be well formed (a message, a position within the text). When it is
 * accepted, the scenario must validate, af_json_write must give text that
 * reads back to an equal scenario, and writing that again must give the
 * same bytes. Any violation aborts with a message.
 *
 * Random bytes seldom form a scenario, and the bounded ctest run starts
 * from an empty corpus directory: so when the first corpus directory given
 * on the command line is empty, LLVMFuzzerInitialize writes a few small
 * valid scenarios (each under 512 bytes, ctest's -max_len) into it, and
 * unless -dict= is given it writes a dictionary of the format's keywords
 * next to it (CORPUS.dict) and passes it on.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scenarios/json.h"

static af_scenario s1, s2;

static void die(const char *what, const af_error *err, const char *text)
{
    fprintf(stderr, "fuzz_json: %s%s%s%s%s\n", what, err ? ": " : "", err ? err->path : "",
            err ? ": " : "", err ? err->message : "");
    if (text)
        fprintf(stderr, "--- text ---\n%s\n", text);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    af_error err;
    if (af_json_read((const char *)data, size, &s1, &err) != 0) {
        if (err.message[0] == '\0')
            die("rejected without a message", &err, NULL);
        if (err.line < 0 || err.column < 0 || (err.line == 0) != (err.column == 0))
            die("bad error position", &err, NULL);
        char buf[600];
        af_error_format(&err, "in", buf, sizeof buf);
        return 0;
    }
    if (af_scenario_validate(&s1, &err) != 0)
        die("accepted scenario does not validate", &err, NULL);
    char *t1 = af_json_write(&s1);
    if (!t1)
        die("write failed", NULL, NULL);
    if (af_json_read(t1, strlen(t1), &s2, &err) != 0)
        die("cannot read what was written", &err, t1);
    if (!af_scenario_equal(&s1, &s2))
        die("read(write(s)) != s", NULL, t1);
    char *t2 = af_json_write(&s2);
    if (!t2)
        die("write failed", NULL, NULL);
    if (strcmp(t1, t2) != 0)
        die("writing twice gave different text", NULL, t1);
    free(t1);
    free(t2);
    return 0;
}

/* ---- seeds and dictionary for an empty corpus ------------------------- */

static const char *const seeds[] = {
    "{\"asyncfuzz\": 1, \"description\": \"\", \"expect\": [], \"primitives\": [{\"name\": "
    "\"l\", \"kind\": \"lock\"}], \"main\": {\"body\": [{\"op\": \"sleep\", \"ticks\": 1}, "
    "{\"op\": \"as_completed\", \"children\": [], \"timeout\": 1}, {\"op\": \"lock\", "
    "\"primitive\": \"l\", \"body\": []}]}}",
    "{\"asyncfuzz\": 1, \"description\": \"d\", \"expect\": [{\"oracle\": \"leaked-task\", "
    "\"python\": [\"3.11\"], \"issue\": \"gh-1\"}], \"primitives\": [{\"name\": \"e\", \"kind\": "
    "\"event\"}, {\"name\": \"s\", \"kind\": \"semaphore\", \"value\": 2}], \"main\": {\"name\": "
    "\"m\", \"body\": [{\"op\": \"spawn\", \"keep\": false, \"task\": {\"body\": [{\"op\": "
    "\"event_wait\", \"primitive\": \"e\"}]}}, {\"op\": \"event_set\", \"primitive\": \"e\"}, "
    "{\"op\": \"semaphore\", \"primitive\": \"s\", \"body\": []}]}}",
    "{\"asyncfuzz\": 1, \"description\": \"\", \"expect\": [], \"main\": {\"body\": [{\"op\": "
    "\"task_group\", \"name\": \"g\", \"children\": [{\"name\": \"w\", \"body\": [{\"op\": "
    "\"raise\", \"exc\": {\"kind\": \"app\", \"id\": 1}}]}], \"body\": [{\"op\": \"cancel\", "
    "\"target\": \"w\", \"msg\": \"m\", \"count\": 2, \"uncancel\": true}]}, {\"op\": \"spawn\", "
    "\"group\": \"g\", \"task\": {\"body\": []}}, {\"op\": \"await\", \"task\": \"w\"}]}}",
    "{\"asyncfuzz\": 1, \"description\": \"\", \"expect\": [], \"main\": {\"body\": [{\"op\": "
    "\"timeout\", \"name\": \"t\", \"delay\": 5, \"at\": true, \"body\": [{\"op\": \"reschedule\", "
    "\"timeout\": \"t\", \"delay\": null}, {\"op\": \"wait_for\", \"timeout\": 2, \"body\": "
    "[{\"op\": \"try\", \"body\": [{\"op\": \"sleep\", \"ticks\": 9}], \"on_cancel\": \"raise\", "
    "\"raise\": {\"kind\": \"value\", \"id\": 2}, \"on_error\": \"swallow\", \"finally\": "
    "[]}]}]}]}}",
    "{\"asyncfuzz\": 1, \"description\": \"\", \"expect\": [], \"primitives\": [{\"name\": \"q\", "
    "\"kind\": \"queue\", \"maxsize\": 1}, {\"name\": \"c\", \"kind\": \"condition\"}], \"main\": "
    "{\"body\": [{\"op\": \"wait\", \"children\": "
    "[{\"body\": [{\"op\": \"queue_put\", \"primitive\": \"q\", \"value\": 3}]}], "
    "\"return_when\": \"first_completed\", \"timeout\": 4, \"cancel_pending\": true}, {\"op\": "
    "\"queue_get\", \"primitive\": "
    "\"q\"}, {\"op\": \"cond_wait\", "
    "\"primitive\": \"c\"}, {\"op\": \"cond_notify\", \"primitive\": \"c\", \"n\": null}]}}",
    "{\"asyncfuzz\": 1, \"description\": \"\", \"expect\": [], \"main\": {\"body\": [{\"op\": "
    "\"gather\", \"children\": [{\"body\": [{\"op\": \"return\", \"value\": 7}]}], "
    "\"return_exceptions\": true}, {\"op\": \"shield\", \"task\": {\"body\": []}}, {\"op\": "
    "\"except_star\", \"body\": [], \"match\": \"exception\", \"reaction\": \"raise\", \"raise\": "
    "{\"kind\": \"cancelled_subclass\", \"id\": 0}}, {\"op\": \"hold\", \"resource\": \"r\", "
    "\"release_sleep\": 1, \"body\": []}, {\"op\": \"nested_run\", \"kind\": \"run_forever\"}, "
    "{\"op\": \"block\", \"ticks\": 1}, {\"op\": \"never_awaited\"}]}}",
};

/* clang-format off */
static const char *const dict[] = {
    "asyncfuzz", "description", "expect", "primitives", "main", "oracle", "python", "issue",
    "name", "kind", "value", "maxsize", "body", "op", "ticks", "exc", "id", "task", "keep",
    "group", "target", "msg", "count", "uncancel", "children", "return_exceptions", "timeout",
    "delay", "at", "return_when", "cancel_pending", "on_cancel", "raise", "on_error", "finally",
    "match", "reaction", "resource", "release_sleep", "primitive", "n", "self", "null", "true",
    "false", "3.11", "leaked-task", "hang", "event", "lock", "condition", "semaphore", "queue",
    "app", "swallow", "reraise", "all_completed", "first_completed", "run_forever",
    "\\u0041", "\\ud83d\\ude00", "10000", "-1", "1e3", "255", "256", "\": ", "\", \"", "[]", "{}",
    NULL,
};
/* clang-format on */

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = false;
    closedir(d);
    return empty;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *corpus = NULL;
    bool has_dict = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = (*argv)[i];
        if (strncmp(a, "-dict=", 6) == 0)
            has_dict = true;
        struct stat st;
        if (a[0] != '-' && !corpus && stat(a, &st) == 0 && S_ISDIR(st.st_mode))
            corpus = a;
    }
    if (!corpus)
        return 0;
    char path[4096];
    if (dir_is_empty(corpus)) {
        for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
            snprintf(path, sizeof path, "%s/seed-%zu.json", corpus, i);
            FILE *f = fopen(path, "w");
            if (f) {
                fputs(seeds[i], f);
                fclose(f);
            }
        }
    }
    if (has_dict)
        return 0;
    static char dict_path[4200];
    snprintf(dict_path, sizeof dict_path, "%s.dict", corpus);
    FILE *f = fopen(dict_path, "w");
    if (!f)
        return 0;
    for (int i = 0; dict[i]; i++) {
        fputc('"', f);
        for (const char *p = dict[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                fputc('\\', f);
            fputc(*p, f);
        }
        fputs("\"\n", f);
    }
    fclose(f);
    /* pass -dict= on: libFuzzer parses argv after this function returns */
    static char dict_flag[4300];
    snprintf(dict_flag, sizeof dict_flag, "-dict=%s", dict_path);
    char **args = malloc(((size_t)*argc + 2) * sizeof *args);
    if (!args)
        return 0;
    args[0] = (*argv)[0];
    args[1] = dict_flag;
    for (int i = 1; i < *argc; i++)
        args[i + 1] = (*argv)[i];
    args[*argc + 1] = NULL;
    *argc += 1;
    *argv = args;
    return 0;
}
