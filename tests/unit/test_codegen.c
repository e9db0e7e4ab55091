/* test_codegen.c - the two ways a scenario runs give the same trace.
 *
 * For hand-written scenarios covering every op kind (below) and every file
 * of scenarios/catalog/: the interpreter of scenario tuples (harness/py/
 * interp.py, fed by harness/run/scenario_py.c) in this process, and the standalone
 * program of reports/repro.c run with the embedded version's plain python
 * (AF_PYTHON) --trace, must
 * print the same JSON lines, byte for byte; with the C Task and with the
 * pure-Python Task; the program under other hash seeds and -X dev too. The
 * interpreter must also repeat itself exactly in one process.
 *
 * Also: af_scenario_to_py leaks nothing over 10,000 builds and its cost per
 * small scenario; interp.KIND_NAMES matches af_op_kind_name; an unknown op
 * kind is a ValueError naming it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/run/py_embed.h"
#include "harness/run/scenario_py.h"
#include "reports/repro.h"
#include "scenarios/json.h"

#ifndef AF_SOURCE_DIR
#define AF_SOURCE_DIR "."
#endif
#ifndef AF_BINARY_DIR
#define AF_BINARY_DIR "."
#endif

/* The plain python of the embedded version (the build's interpreter). */
#define PYTHON AF_PYTHON

static af_scenario S;
static PyObject *interp_mod, *run_text_fn, *probe_mod;

/* ---- the embedded interpreter ---- */

static void fail_py(const char *what)
{
    PyErr_Print();
    fail_msg("%s failed (Python error above)", what);
}

static PyObject *load_module(const char *name)
{
    for (const struct af_py_source *m = af_py_sources; m->name; m++) {
        if (strcmp(m->name, name) != 0)
            continue;
        char filename[64];
        snprintf(filename, sizeof filename, "%s/%s.py", m->folder, name);
        PyObject *code = Py_CompileString(m->source, filename, Py_file_input);
        if (!code)
            return NULL;
        PyObject *mod = PyImport_ExecCodeModule(name, code);
        Py_DECREF(code);
        return mod;
    }
    PyErr_Format(PyExc_ImportError, "no embedded module %s", name);
    return NULL;
}

/* After a failed import of adapter `name`: whether it failed because the
 * library it adapts is not installed for the embedded interpreter (Debian's
 * python3-anyio and python3-async-timeout serve its 3.11 only). Then says
 * so, clears the error and returns true. */
static bool library_missing(const char *name)
{
    if (!PyErr_ExceptionMatches(PyExc_ModuleNotFoundError))
        return false;
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *value = PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
#endif
    PyObject *missing = value ? PyObject_GetAttrString(value, "name") : NULL;
    const char *lib = missing && PyUnicode_Check(missing) ? PyUnicode_AsUTF8(missing) : NULL;
    bool other = lib && strcmp(lib, name) != 0;
    if (other)
        fprintf(stderr, "SKIP: adapter %s: its library '%s' is not installed for CPython %s\n",
                name, lib, PY_VERSION);
    Py_XDECREF(missing);
    PyErr_Clear();
    if (!other)
        PyErr_SetObject((PyObject *)Py_TYPE(value), value);
    Py_XDECREF(value);
    return other;
}

static int setup_python(void **state)
{
    (void)state;
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    config.parse_argv = 0;
    PyStatus st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st))
        return -1;
    PyObject *v = load_module("vloop");
    Py_XDECREF(v);
    probe_mod = v ? load_module("probe") : NULL;
    PyObject *loops = probe_mod ? load_module("loops") : NULL;
    Py_XDECREF(loops);
    PyObject *c = loops ? load_module("contract") : NULL;
    Py_XDECREF(c);
    interp_mod = c ? load_module("interp") : NULL;
    if (!interp_mod) {
        PyErr_Print();
        return -1;
    }
    /* The target adapters, importable as the embedded importer serves them
     * (adapterlib and target_asyncio first: the others import them). */
    static const char *const first[] = {"adapterlib", "target_asyncio"};
    for (size_t i = 0; i < 2; i++) {
        PyObject *t = load_module(first[i]);
        if (!t) {
            PyErr_Print();
            return -1;
        }
        Py_DECREF(t);
    }
    for (const struct af_py_source *m = af_py_sources; m->name; m++) {
        if (af_py_source_is_harness(m) || !strcmp(m->name, "adapterlib") ||
            !strcmp(m->name, "target_asyncio"))
            continue;
        PyObject *t = load_module(m->name);
        if (!t && library_missing(m->name))
            continue;
        if (!t) {
            PyErr_Print();
            return -1;
        }
        Py_DECREF(t);
    }
    run_text_fn = PyObject_GetAttrString(interp_mod, "run_text");
    return run_text_fn ? 0 : -1;
}

/* Whether trace (JSON lines) has ["task_done", vtime, <any iteration>, id,
 * "outcome", ...]: iteration numbers differ between versions (3.11's
 * wait_for runs its body in a task of its own, 3.12's in the caller). */
static bool has_task_done(const char *trace, int vtime, int id, const char *outcome)
{
    for (const char *line = trace; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        int v, it, t, n = 0;
        char out[16];
        if (sscanf(line, "[\"task_done\",%d,%d,%d,\"%15[a-z]\"%n", &v, &it, &t, out, &n) == 4 &&
            n > 0 && v == vtime && t == id && strcmp(out, outcome) == 0)
            return true;
    }
    return false;
}

/* interp.run_text(scenario, options) as a malloc'd string; target: the
 * options' 6th element (NULL: a 5-tuple). */
static char *interp_trace_target(const af_scenario *s, bool pure, const char *target)
{
    PyObject *scen = af_scenario_to_py(s);
    if (!scen)
        fail_py("af_scenario_to_py");
    PyObject *opts = Py_None;
    Py_INCREF(opts);
    PyObject *dflt = PyObject_GetAttrString(probe_mod, "DEFAULT_OPTIONS");
    if (!dflt)
        fail_py("probe.DEFAULT_OPTIONS");
    if (target) {
        Py_DECREF(opts);
        opts = Py_BuildValue("(OOOOOs)", PyTuple_GET_ITEM(dflt, 0), PyTuple_GET_ITEM(dflt, 1),
                             PyTuple_GET_ITEM(dflt, 2), PyTuple_GET_ITEM(dflt, 3),
                             pure ? Py_True : Py_False, target);
    } else if (pure) {
        Py_DECREF(opts);
        opts = Py_BuildValue("(OOOOO)", PyTuple_GET_ITEM(dflt, 0), PyTuple_GET_ITEM(dflt, 1),
                             PyTuple_GET_ITEM(dflt, 2), PyTuple_GET_ITEM(dflt, 3), Py_True);
    }
    Py_DECREF(dflt);
    PyObject *text = PyObject_CallFunctionObjArgs(run_text_fn, scen, opts, NULL);
    Py_DECREF(scen);
    Py_DECREF(opts);
    if (!text)
        fail_py("interp.run_text");
    char *out = strdup(PyUnicode_AsUTF8(text));
    Py_DECREF(text);
    return out;
}

static char *interp_trace(const af_scenario *s, bool pure)
{
    return interp_trace_target(s, pure, NULL);
}

/* ---- the generated program ---- */

static char *read_all(FILE *f)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2048) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

static const char *write_program_target(const af_scenario *s, const char *target,
                                        const struct af_repro_assert *a, size_t na)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/test_codegen_prog_%d.py", AF_BINARY_DIR, (int)getpid());
    char *prog = target ? af_codegen_python_target(s, target, a, na) : af_codegen_python(s, a, na);
    assert_non_null(prog);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(prog, f);
    fclose(f);
    free(prog);
    return path;
}

static const char *write_program(const af_scenario *s, const struct af_repro_assert *a, size_t na)
{
    return write_program_target(s, NULL, a, na);
}

/* Run `env python [flags] path args`, return stdout; *rc the exit status. */
static char *run_program(const char *env, const char *flags, const char *path, const char *args,
                         int *rc)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s %s %s %s", env, PYTHON, flags, path, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = read_all(p);
    int st = pclose(p);
    if (rc)
        *rc = st;
    return out;
}

static void report_diff(const char *name, const char *what, const char *a, const char *b)
{
    const char *pa = a, *pb = b;
    int line = 1;
    while (*pa && *pa == *pb) {
        if (*pa == '\n')
            line++;
        pa++, pb++;
    }
    fprintf(stderr, "%s: %s differ at line %d\n--- interp:\n%s\n--- other:\n%s\n", name, what, line,
            a, b);
}

/* The whole check for one scenario; returns the number of mismatches. */
static int check_scenario(const char *name, const af_scenario *s)
{
    int bad = 0;
    af_error err = {0};
    if (af_scenario_validate(s, &err) != 0) {
        fprintf(stderr, "%s: invalid: %s: %s\n", name, err.path, err.message);
        return 1;
    }
    const char *path = write_program(s, NULL, 0);
    for (int pure = 0; pure < 2; pure++) {
        char *a = interp_trace(s, pure);
        char *a2 = interp_trace(s, pure);
        if (strcmp(a, a2) != 0) {
            report_diff(name, pure ? "pure: interp twice" : "interp twice", a, a2);
            bad++;
        }
        int rc = 0;
        char *b =
            run_program(pure ? "PYTHONHASHSEED=12345" : "PYTHONHASHSEED=1", pure ? "" : "-X dev",
                        path, pure ? "--trace --pure-python-tasks" : "--trace", &rc);
        if (rc != 0 || strcmp(a, b) != 0) {
            report_diff(name, pure ? "pure: interp and program" : "interp and program", a, b);
            bad++;
        }
        free(a);
        free(a2);
        free(b);
    }
    unlink(path);
    return bad;
}

/* One target adapter: interp with options[5] = target and the program of
 * af_codegen_python_target give the same trace. */
static int check_target(const char *name, const af_scenario *s, const char *target)
{
    const char *path = write_program_target(s, target, NULL, 0);
    char *a = interp_trace_target(s, false, target);
    int rc = 0, bad = 0;
    char *b = run_program("PYTHONHASHSEED=7", "", path, "--trace", &rc);
    if (rc != 0 || strcmp(a, b) != 0) {
        char what[96];
        snprintf(what, sizeof what, "target %s: interp and program", target);
        report_diff(name, what, a, b);
        bad++;
    }
    free(a);
    free(b);
    unlink(path);
    return bad;
}

/* ---- hand-written scenarios: every op kind, and the corners of each ---- */

static const char *const hand[] = {
    /* sleep, return, raise, spawn (kept, dropped), await, cancel self */
    "{\"asyncfuzz\":1,\"description\":\"leaves\",\"expect\":[],\"main\":{\"name\":\"main\","
    "\"body\":["
    "{\"op\":\"spawn\",\"task\":{\"name\":\"a\",\"body\":[{\"op\":\"sleep\",\"ticks\":3},{\"op\":"
    "\"return\",\"value\":7}]}},"
    "{\"op\":\"spawn\",\"keep\":false,\"task\":{\"name\":\"b\",\"body\":[{\"op\":\"raise\",\"exc\":"
    "{\"kind\":\"value\",\"id\":2}}]}},"
    "{\"op\":\"sleep\",\"ticks\":0},{\"op\":\"await\",\"task\":\"a\"},"
    "{\"op\":\"spawn\",\"task\":{\"name\":\"c\",\"body\":[{\"op\":\"cancel\",\"target\":\"self\","
    "\"msg\":\"me\"},"
    "{\"op\":\"sleep\",\"ticks\":1}]}},{\"op\":\"sleep\",\"ticks\":5}]}}",
    /* await a task not created yet; cancel twice + uncancel; cancel missing */
    "{\"asyncfuzz\":1,\"description\":\"refs\",\"expect\":[],\"main\":{\"name\":\"main\",\"body\":["
    "{\"op\":\"spawn\",\"task\":{\"name\":\"w\",\"body\":[{\"op\":\"await\",\"task\":\"late\"},"
    "{\"op\":\"cancel\",\"target\":\"late2\"},{\"op\":\"sleep\",\"ticks\":10}]}},"
    "{\"op\":\"sleep\",\"ticks\":1},{\"op\":\"cancel\",\"target\":\"w\",\"msg\":\"x\",\"count\":2,"
    "\"uncancel\":true},"
    "{\"op\":\"spawn\",\"task\":{\"name\":\"late\",\"body\":[]}},{\"op\":\"spawn\",\"task\":{"
    "\"name\":\"late2\",\"body\":[]}},"
    "{\"op\":\"await\",\"task\":\"w\"}]}}",
    /* gather both ways, return inside bodies, try/finally with return */
    "{\"asyncfuzz\":1,\"description\":\"gather\",\"expect\":[],\"main\":{\"name\":\"main\","
    "\"body\":["
    "{\"op\":\"gather\",\"return_exceptions\":true,\"children\":["
    "{\"name\":\"g1\",\"body\":[{\"op\":\"try\",\"body\":[{\"op\":\"return\",\"value\":1}],"
    "\"finally\":[{\"op\":\"sleep\",\"ticks\":2}]}]},"
    "{\"name\":\"g2\",\"body\":[{\"op\":\"raise\",\"exc\":{\"kind\":\"app\",\"id\":5}}]},"
    "{\"name\":\"g3\",\"body\":[{\"op\":\"try\",\"body\":[{\"op\":\"raise\",\"exc\":{\"kind\":"
    "\"app\",\"id\":6}}],"
    "\"finally\":[{\"op\":\"return\",\"value\":9}]}]}]},"
    "{\"op\":\"gather\",\"children\":[{\"name\":\"g4\",\"body\":[{\"op\":\"sleep\",\"ticks\":1}]},"
    "{\"name\":\"g5\",\"body\":[{\"op\":\"raise\",\"exc\":{\"kind\":\"value\",\"id\":1}}]}]}]}}",
    /* task group: children, body, spawn into it, spawn after it ended, nested */
    "{\"asyncfuzz\":1,\"description\":\"groups\",\"expect\":[],\"main\":{\"name\":\"main\","
    "\"body\":["
    "{\"op\":\"try\",\"on_error\":\"swallow\",\"body\":[{\"op\":\"task_group\",\"name\":\"tg1\","
    "\"children\":["
    "{\"name\":\"k1\",\"body\":[{\"op\":\"sleep\",\"ticks\":4}]},{\"name\":\"k2\",\"body\":[{"
    "\"op\":\"sleep\",\"ticks\":2},"
    "{\"op\":\"raise\",\"exc\":{\"kind\":\"app\",\"id\":3}}]}],"
    "\"body\":[{\"op\":\"spawn\",\"group\":\"tg1\",\"task\":{\"name\":\"k3\",\"body\":[{\"op\":"
    "\"sleep\",\"ticks\":8}]}},"
    "{\"op\":\"task_group\",\"name\":\"tg2\",\"children\":[{\"name\":\"k4\",\"body\":[{\"op\":"
    "\"sleep\",\"ticks\":1}]}]}]}]},"
    "{\"op\":\"try\",\"on_error\":\"swallow\",\"body\":[{\"op\":\"spawn\",\"group\":\"tg2\","
    "\"task\":{\"name\":\"k5\",\"body\":[]}}]},"
    "{\"op\":\"sleep\",\"ticks\":1}]}}",
    /* wait_for (expires, none, zero, completes), timeout, timeout_at, reschedule */
    "{\"asyncfuzz\":1,\"description\":\"deadlines\",\"expect\":[],\"main\":{\"name\":\"main\","
    "\"body\":["
    "{\"op\":\"try\",\"on_error\":\"swallow\",\"body\":[{\"op\":\"wait_for\",\"timeout\":3,"
    "\"body\":[{\"op\":\"sleep\",\"ticks\":5}]}]},"
    "{\"op\":\"wait_for\",\"timeout\":null,\"body\":[{\"op\":\"sleep\",\"ticks\":1},{\"op\":"
    "\"return\",\"value\":4}]},"
    "{\"op\":\"try\",\"on_error\":\"swallow\",\"body\":[{\"op\":\"wait_for\",\"timeout\":0,"
    "\"body\":[{\"op\":\"sleep\",\"ticks\":1}]}]},"
    "{\"op\":\"wait_for\",\"timeout\":9,\"body\":[{\"op\":\"sleep\",\"ticks\":1}]},"
    "{\"op\":\"try\",\"on_error\":\"swallow\",\"body\":[{\"op\":\"timeout\",\"name\":\"to1\","
    "\"delay\":4,\"body\":["
    "{\"op\":\"reschedule\",\"timeout\":\"to1\",\"delay\":2},{\"op\":\"sleep\",\"ticks\":6}]}]},"
    "{\"op\":\"timeout\",\"name\":\"to2\",\"delay\":2,\"at\":true,\"body\":[{\"op\":\"reschedule\","
    "\"timeout\":\"to2\",\"delay\":null},"
    "{\"op\":\"sleep\",\"ticks\":3}]},"
    "{\"op\":\"timeout\",\"name\":\"to3\",\"delay\":null,\"body\":[{\"op\":\"sleep\",\"ticks\":1}]}"
    ","
    "{\"op\":\"try\",\"on_error\":\"swallow\",\"body\":[{\"op\":\"reschedule\",\"timeout\":\"to3\","
    "\"delay\":1}]}]}}",
    /* shield, wait (each return_when, timeout, cancel_pending), as_completed */
    "{\"asyncfuzz\":1,\"description\":\"waiting\",\"expect\":[],\"main\":{\"name\":\"main\","
    "\"body\":["
    "{\"op\":\"shield\",\"task\":{\"name\":\"s1\",\"body\":[{\"op\":\"sleep\",\"ticks\":2}]}},"
    "{\"op\":\"wait\",\"return_when\":\"first_completed\",\"cancel_pending\":true,\"children\":["
    "{\"name\":\"w1\",\"body\":[{\"op\":\"sleep\",\"ticks\":1}]},{\"name\":\"w2\",\"body\":[{"
    "\"op\":\"sleep\",\"ticks\":5}]},"
    "{\"name\":\"w3\",\"body\":[{\"op\":\"sleep\",\"ticks\":6}]}]},"
    "{\"op\":\"wait\",\"return_when\":\"first_exception\",\"timeout\":4,\"children\":["
    "{\"name\":\"w4\",\"body\":[{\"op\":\"sleep\",\"ticks\":9}]},{\"name\":\"w5\",\"body\":[{"
    "\"op\":\"sleep\",\"ticks\":7}]}]},"
    "{\"op\":\"wait\",\"children\":[{\"name\":\"w6\",\"body\":[{\"op\":\"raise\",\"exc\":{\"kind\":"
    "\"app\",\"id\":1}}]}]},"
    "{\"op\":\"try\",\"on_error\":\"swallow\",\"body\":[{\"op\":\"as_completed\",\"timeout\":3,"
    "\"children\":["
    "{\"name\":\"c1\",\"body\":[{\"op\":\"sleep\",\"ticks\":1}]},{\"name\":\"c2\",\"body\":[{"
    "\"op\":\"sleep\",\"ticks\":8}]}]}]},"
    "{\"op\":\"as_completed\",\"children\":[{\"name\":\"c3\",\"body\":[]},{\"name\":\"c4\","
    "\"body\":[{\"op\":\"sleep\",\"ticks\":1}]}]}]}}",
    /* try: every on_cancel reaction, on_error, finally that awaits */
    "{\"asyncfuzz\":1,\"description\":\"handlers\",\"expect\":[],\"main\":{\"name\":\"main\","
    "\"body\":["
    "{\"op\":\"spawn\",\"task\":{\"name\":\"h1\",\"body\":[{\"op\":\"try\",\"on_cancel\":"
    "\"uncancel\",\"body\":[{\"op\":\"sleep\",\"ticks\":5}]},"
    "{\"op\":\"try\",\"on_cancel\":\"swallow\",\"body\":[{\"op\":\"sleep\",\"ticks\":5}]},"
    "{\"op\":\"try\",\"on_cancel\":\"raise\",\"raise\":{\"kind\":\"cancelled_subclass\",\"id\":4},"
    "\"body\":[{\"op\":\"sleep\",\"ticks\":5}],"
    "\"finally\":[{\"op\":\"sleep\",\"ticks\":1}]}]}},"
    "{\"op\":\"sleep\",\"ticks\":1},{\"op\":\"cancel\",\"target\":\"h1\",\"msg\":\"one\"},{\"op\":"
    "\"sleep\",\"ticks\":1},"
    "{\"op\":\"cancel\",\"target\":\"h1\"},{\"op\":\"sleep\",\"ticks\":1},{\"op\":\"cancel\","
    "\"target\":\"h1\",\"msg\":\"three\"},"
    "{\"op\":\"try\",\"on_cancel\":\"reraise\",\"on_error\":\"swallow\",\"body\":[{\"op\":"
    "\"await\",\"task\":\"h1\"}]},"
    "{\"op\":\"try\",\"on_cancel\":\"raise\",\"raise\":{\"kind\":\"app\",\"id\":8},\"on_error\":"
    "\"swallow\",\"body\":[{\"op\":\"sleep\",\"ticks\":1}]}]}}",
    /* except_star: each match and reaction */
    "{\"asyncfuzz\":1,\"description\":\"except "
    "star\",\"expect\":[],\"main\":{\"name\":\"main\",\"body\":["
    "{\"op\":\"except_star\",\"match\":\"app\",\"reaction\":\"swallow\",\"body\":[{\"op\":\"task_"
    "group\",\"name\":\"g\",\"children\":["
    "{\"name\":\"e1\",\"body\":[{\"op\":\"raise\",\"exc\":{\"kind\":\"app\",\"id\":1}}]},"
    "{\"name\":\"e2\",\"body\":[{\"op\":\"raise\",\"exc\":{\"kind\":\"app\",\"id\":2}}]}]}]},"
    "{\"op\":\"try\",\"on_error\":\"swallow\",\"body\":[{\"op\":\"except_star\",\"match\":"
    "\"value\",\"reaction\":\"raise\","
    "\"raise\":{\"kind\":\"app\",\"id\":9},\"body\":[{\"op\":\"raise\",\"exc\":{\"kind\":\"value\","
    "\"id\":3}}]}]},"
    "{\"op\":\"try\",\"on_error\":\"swallow\",\"body\":[{\"op\":\"except_star\",\"match\":"
    "\"exception\",\"reaction\":\"reraise\","
    "\"body\":[{\"op\":\"raise\",\"exc\":{\"kind\":\"value\",\"id\":4}}]}]},"
    "{\"op\":\"spawn\",\"task\":{\"name\":\"e3\",\"body\":[{\"op\":\"except_star\",\"match\":"
    "\"cancelled\",\"reaction\":\"swallow\","
    "\"body\":[{\"op\":\"sleep\",\"ticks\":9}]},{\"op\":\"return\",\"value\":1}]}},"
    "{\"op\":\"sleep\",\"ticks\":1},{\"op\":\"cancel\",\"target\":\"e3\",\"msg\":\"m\"},{\"op\":"
    "\"await\",\"task\":\"e3\"}]}}",
    /* hold (release sleep, cancelled in the finally), event, lock, semaphore */
    "{\"asyncfuzz\":1,\"description\":\"sync\",\"expect\":[],"
    "\"primitives\":[{\"name\":\"ev\",\"kind\":\"event\"},{\"name\":\"lk\",\"kind\":\"lock\"},"
    "{\"name\":\"sem\",\"kind\":\"semaphore\",\"value\":2}],\"main\":{\"name\":\"main\",\"body\":["
    "{\"op\":\"spawn\",\"task\":{\"name\":\"h\",\"body\":[{\"op\":\"hold\",\"resource\":\"db\","
    "\"release_sleep\":3,"
    "\"body\":[{\"op\":\"event_wait\",\"primitive\":\"ev\"}]}]}},"
    "{\"op\":\"spawn\",\"task\":{\"name\":\"l\",\"body\":[{\"op\":\"lock\",\"primitive\":\"lk\","
    "\"body\":[{\"op\":\"sleep\",\"ticks\":2}]}]}},"
    "{\"op\":\"spawn\",\"task\":{\"name\":\"m\",\"body\":[{\"op\":\"semaphore\",\"primitive\":"
    "\"sem\",\"body\":[{\"op\":\"sleep\",\"ticks\":1}]}]}},"
    "{\"op\":\"lock\",\"primitive\":\"lk\",\"body\":[{\"op\":\"semaphore\",\"primitive\":\"sem\","
    "\"body\":[{\"op\":\"sleep\",\"ticks\":1}]}]},"
    "{\"op\":\"event_set\",\"primitive\":\"ev\"},{\"op\":\"sleep\",\"ticks\":1},{\"op\":\"cancel\","
    "\"target\":\"h\"},"
    "{\"op\":\"hold\",\"resource\":\"mine\",\"body\":[{\"op\":\"sleep\",\"ticks\":1}]}]}}",
    /* condition wait / notify(n) / notify_all, queue put / get with maxsize */
    "{\"asyncfuzz\":1,\"description\":\"cond queue\",\"expect\":[],"
    "\"primitives\":[{\"name\":\"cv\",\"kind\":\"condition\"},{\"name\":\"q\",\"kind\":\"queue\","
    "\"maxsize\":1}],"
    "\"main\":{\"name\":\"main\",\"body\":["
    "{\"op\":\"spawn\",\"task\":{\"name\":\"x1\",\"body\":[{\"op\":\"cond_wait\",\"primitive\":"
    "\"cv\"},{\"op\":\"queue_put\",\"primitive\":\"q\",\"value\":1},"
    "{\"op\":\"queue_put\",\"primitive\":\"q\",\"value\":2}]}},"
    "{\"op\":\"spawn\",\"task\":{\"name\":\"x2\",\"body\":[{\"op\":\"cond_wait\",\"primitive\":"
    "\"cv\"}]}},"
    "{\"op\":\"sleep\",\"ticks\":1},{\"op\":\"cond_notify\",\"primitive\":\"cv\",\"n\":1},{\"op\":"
    "\"sleep\",\"ticks\":1},"
    "{\"op\":\"cond_notify\",\"primitive\":\"cv\",\"n\":null},{\"op\":\"queue_get\",\"primitive\":"
    "\"q\"},"
    "{\"op\":\"queue_get\",\"primitive\":\"q\"},{\"op\":\"sleep\",\"ticks\":1}]}}",
    /* misuse: nested runs, block, never awaited, leaked pending task */
    "{\"asyncfuzz\":1,\"description\":\"misuse\",\"expect\":[],\"primitives\":[{\"name\":\"never\","
    "\"kind\":\"event\"}],"
    "\"main\":{\"name\":\"main\",\"body\":["
    "{\"op\":\"nested_run\",\"kind\":\"asyncio_run\"},{\"op\":\"nested_run\",\"kind\":\"run_until_"
    "complete\"},"
    "{\"op\":\"nested_run\",\"kind\":\"run_forever\"},{\"op\":\"block\",\"ticks\":150},{\"op\":"
    "\"block\",\"ticks\":5},"
    "{\"op\":\"never_awaited\"},"
    "{\"op\":\"spawn\",\"keep\":false,\"task\":{\"name\":\"stuck\",\"body\":[{\"op\":\"try\",\"on_"
    "cancel\":\"swallow\","
    "\"body\":[{\"op\":\"event_wait\",\"primitive\":\"never\"}]},{\"op\":\"event_wait\","
    "\"primitive\":\"never\"}]}},"
    "{\"op\":\"spawn\",\"task\":{\"name\":\"lost\",\"body\":[{\"op\":\"raise\",\"exc\":{\"kind\":"
    "\"app\",\"id\":1}}]}},"
    "{\"op\":\"sleep\",\"ticks\":1}]}}",
    /* deadlock, and KeyboardInterrupt out of a child */
    "{\"asyncfuzz\":1,\"description\":\"deadlock\",\"expect\":[],\"primitives\":[{\"name\":\"ev\","
    "\"kind\":\"event\"}],"
    "\"main\":{\"name\":\"main\",\"body\":[{\"op\":\"event_wait\",\"primitive\":\"ev\"}]}}",
    "{\"asyncfuzz\":1,\"description\":\"kbi\",\"expect\":[],\"main\":{\"name\":\"main\",\"body\":["
    "{\"op\":\"spawn\",\"task\":{\"name\":\"k\",\"body\":[{\"op\":\"try\",\"finally\":[],\"body\":["
    "{\"op\":\"raise\",\"exc\":{\"kind\":\"keyboard_interrupt\",\"id\":1}}]}]}},"
    "{\"op\":\"sleep\",\"ticks\":3}]}}",
    "{\"asyncfuzz\":1,\"description\":\"sysexit "
    "root\",\"expect\":[],\"main\":{\"name\":\"main\",\"body\":["
    "{\"op\":\"spawn\",\"task\":{\"name\":\"k\",\"body\":[{\"op\":\"sleep\",\"ticks\":9}]}},"
    "{\"op\":\"raise\",\"exc\":{\"kind\":\"system_exit\",\"id\":2}}]}}",
};

static void test_kind_names(void **state)
{
    (void)state;
    PyObject *names = PyObject_GetAttrString(interp_mod, "KIND_NAMES");
    assert_non_null(names);
    assert_int_equal(PyTuple_Size(names), AF_OP_KIND_COUNT);
    for (int k = 0; k < AF_OP_KIND_COUNT; k++)
        assert_string_equal(PyUnicode_AsUTF8(PyTuple_GET_ITEM(names, k)),
                            af_op_kind_name((af_op_kind)k));
    Py_DECREF(names);
}

static void test_hand_written(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        af_error err = {0};
        if (af_json_read(hand[i], strlen(hand[i]), &S, &err) != 0)
            fail_msg("hand-written scenario %zu: %s: %s", i, err.path, err.message);
        char name[32];
        snprintf(name, sizeof name, "hand[%zu]", i);
        bad += check_scenario(name, &S);
    }
    assert_int_equal(bad, 0);
}

/* Target adapters (harness/targets/target_*.py): both paths agree for each
 * built-in one; asyncio_py is the pure-Python Task; the planted defect of
 * planted_wait_for shows; an unknown target is an ImportError naming it
 * and has no program. */
static void test_targets(void **state)
{
    (void)state;
    int bad = 0;
    /* asyncio_selector: stock asyncio's own loop, on virtual time (loops.py) */
    static const char *const targets[] = {"asyncio", "asyncio_py", "planted_wait_for",
                                          "asyncio_selector"};
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        af_error err = {0};
        if (af_json_read(hand[i], strlen(hand[i]), &S, &err) != 0)
            fail_msg("hand-written scenario %zu: %s: %s", i, err.path, err.message);
        char name[32];
        snprintf(name, sizeof name, "hand[%zu]", i);
        for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++)
            bad += check_target(name, &S, targets[t]);
        /* asyncio_py is the pure_python_tasks option. */
        char *a = interp_trace_target(&S, false, "asyncio_py"), *b = interp_trace(&S, true);
        if (strcmp(a, b) != 0) {
            report_diff(name, "target asyncio_py and pure_python_tasks", a, b);
            bad++;
        }
        free(a);
        free(b);
        /* The stock target's program is af_codegen_python's. */
        char *p1 = af_codegen_python(&S, NULL, 0),
             *p2 = af_codegen_python_target(&S, "asyncio", NULL, 0);
        assert_non_null(p1);
        assert_non_null(p2);
        assert_string_equal(p1, p2);
        free(p1);
        free(p2);
    }
    assert_int_equal(bad, 0);

    /* The planted defect: a task cancelled inside wait_for goes on. */
    static const char planted[] =
        "{\"asyncfuzz\":1,\"description\":\"planted\",\"expect\":[],\"main\":{\"name\":\"main\","
        "\"body\":["
        "{\"op\":\"spawn\",\"task\":{\"name\":\"w\",\"body\":[{\"op\":\"wait_for\",\"timeout\":100,"
        "\"body\":[{\"op\":\"sleep\",\"ticks\":50}]},{\"op\":\"sleep\",\"ticks\":5}]}},"
        "{\"op\":\"sleep\",\"ticks\":10},{\"op\":\"cancel\",\"target\":\"w\"},{\"op\":\"await\","
        "\"task\":\"w\"}]}}";
    af_error err = {0};
    assert_int_equal(af_json_read(planted, strlen(planted), &S, &err), 0);
    char *stock = interp_trace_target(&S, false, "asyncio");
    char *bad_wf = interp_trace_target(&S, false, "planted_wait_for");
    assert_true(has_task_done(stock, 10, 1, "cancelled"));
    assert_true(has_task_done(bad_wf, 15, 1, "result"));
    assert_int_equal(check_target("planted", &S, "planted_wait_for"), 0);
    free(stock);
    free(bad_wf);

    /* Unknown: ImportError naming it; no program. */
    PyObject *scen = af_scenario_to_py(&S);
    PyObject *opts =
        Py_BuildValue("(iidiOs)", 100000, 1000000, 10.0, 10, Py_False, "no_such_target");
    PyObject *run = PyObject_GetAttrString(interp_mod, "run");
    PyObject *r = PyObject_CallFunctionObjArgs(run, scen, opts, NULL);
    assert_null(r);
    assert_true(PyErr_ExceptionMatches(PyExc_ImportError));
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *msg = PyObject_Str(ev);
    assert_non_null(strstr(PyUnicode_AsUTF8(msg), "no_such_target"));
    Py_DECREF(msg);
    Py_XDECREF(et);
    Py_XDECREF(ev);
    Py_XDECREF(tb);
    Py_DECREF(run);
    Py_DECREF(opts);
    Py_DECREF(scen);
    assert_null(af_codegen_python_target(&S, "no_such_target", NULL, 0));
}

static void test_catalog(void **state)
{
    (void)state;
    DIR *d = opendir(AF_SOURCE_DIR "/scenarios/catalog");
    if (!d)
        skip();
    int bad = 0, n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/scenarios/catalog/%s", AF_SOURCE_DIR, e->d_name);
        af_error err = {0};
        if (af_json_read_file(path, &S, &err) != 0) {
            fprintf(stderr, "%s: %s: %s\n", e->d_name, err.path, err.message);
            bad++;
            continue;
        }
        bad += check_scenario(e->d_name, &S);
        n++;
    }
    closedir(d);
    fprintf(stderr, "catalog: %d scenarios compared\n", n);
    assert_int_equal(bad, 0);
}

/* The program's asserts: quiet on a well-behaved scenario, failing with the
 * words on one that shows the violation. */
static void test_asserts(void **state)
{
    (void)state;
    af_error err = {0};
    assert_int_equal(af_json_read(hand[10], strlen(hand[10]), &S, &err), 0);
    struct af_repro_assert a[] = {
        {"leaked-task", "stuck", "task stuck was still pending when main finished", NULL},
        {"nested-loop", NULL, "nested run misbehaved", NULL},
        {"blocking", "main", "main blocked the loop", NULL},
        {"lost-exception", "lost", "task lost's exception was never retrieved", NULL},
        {"differential", NULL, "the C and pure-Python Task disagree", NULL},
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        const char *path = write_program(&S, &a[i], 1);
        int rc = 0;
        char cmd[600];
        snprintf(cmd, sizeof cmd, "%s %s 2>&1", PYTHON, path);
        FILE *p = popen(cmd, "r");
        char *out = read_all(p);
        rc = pclose(p);
        bool expect_fail = i < 4; /* hand[10] shows the first four, not a difference */
        if (expect_fail != (rc != 0) || (expect_fail && !strstr(out, a[i].words)))
            fail_msg("assert %s: exit %d, output:\n%s", a[i].oracle, rc, out);
        free(out);
        unlink(path);
    }
    /* a well-behaved scenario passes every assert */
    static const char good[] =
        "{\"asyncfuzz\":1,\"description\":\"good\",\"expect\":[],\"main\":{\"name\":\"main\","
        "\"body\":["
        "{\"op\":\"gather\",\"children\":[{\"name\":\"b\",\"body\":[{\"op\":\"sleep\",\"ticks\":1}]"
        "},"
        "{\"name\":\"c\",\"body\":[{\"op\":\"hold\",\"resource\":\"r\",\"body\":[]}]}]}]}}";
    assert_int_equal(af_json_read(good, strlen(good), &S, &err), 0);
    struct af_repro_assert ok[] = {{"leaked-task", NULL, "leak", NULL},
                                   {"cleanup", NULL, "cleanup", NULL},
                                   {"hang", NULL, "hang", NULL},
                                   {"cancellation.swallowed", NULL, "sw", NULL}};
    const char *path = write_program(&S, ok, 4);
    int rc = 0;
    char *out = run_program("", "", path, "2>&1", &rc);
    if (rc != 0)
        fail_msg("well-behaved program failed:\n%s", out);
    free(out);
    unlink(path);
}

static void test_unknown_kind(void **state)
{
    (void)state;
    PyObject *run = PyObject_GetAttrString(interp_mod, "run");
    PyObject *sc =
        Py_BuildValue("(N(s(N)i))", PyTuple_New(0), "main", Py_BuildValue("(ii)", 99, 0), 0);
    PyObject *r = PyObject_CallFunctionObjArgs(run, sc, NULL);
    /* the root task fails with the ValueError: the run itself returns */
    assert_non_null(r);
    PyObject *text = PyObject_CallMethod(probe_mod, "trace_text", "O", r);
    assert_non_null(strstr(PyUnicode_AsUTF8(text), "builtins.ValueError"));
    Py_DECREF(text);
    Py_DECREF(r);
    Py_DECREF(sc);
    /* and the message names the kind */
    PyObject *body_fn = PyObject_GetAttrString(interp_mod, "_unknown");
    PyObject *op = Py_BuildValue("(ii)", 99, 0);
    assert_null(PyObject_CallFunctionObjArgs(body_fn, op, NULL));
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    assert_true(PyErr_GivenExceptionMatches(et, PyExc_ValueError));
    PyObject *msg = PyObject_Str(ev);
    assert_non_null(strstr(PyUnicode_AsUTF8(msg), "99"));
    Py_DECREF(msg);
    Py_XDECREF(et);
    Py_XDECREF(ev);
    Py_XDECREF(tb);
    Py_DECREF(op);
    Py_DECREF(body_fn);
    Py_DECREF(run);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static Py_ssize_t allocated_blocks(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    PyObject *r = PyObject_CallMethod(sys, "getallocatedblocks", NULL);
    Py_ssize_t n = PyLong_AsSsize_t(r);
    Py_DECREF(r);
    Py_DECREF(sys);
    return n;
}

static void test_pyobj_no_leak_and_cost(void **state)
{
    (void)state;
    /* a small scenario: 3 tasks, a gather, a cancel */
    static const char small[] =
        "{\"asyncfuzz\":1,\"description\":\"small\",\"expect\":[],\"main\":{\"name\":\"main\","
        "\"body\":["
        "{\"op\":\"spawn\",\"task\":{\"name\":\"a\",\"body\":[{\"op\":\"sleep\",\"ticks\":5}]}},"
        "{\"op\":\"gather\",\"children\":[{\"name\":\"b\",\"body\":[{\"op\":\"sleep\",\"ticks\":1}]"
        "},"
        "{\"name\":\"c\",\"body\":[{\"op\":\"return\",\"value\":2}]}]},"
        "{\"op\":\"cancel\",\"target\":\"a\",\"msg\":\"stop\"},{\"op\":\"sleep\",\"ticks\":1}]}}";
    af_error err = {0};
    assert_int_equal(af_json_read(small, strlen(small), &S, &err), 0);
    for (int i = 0; i < 100; i++)
        Py_DECREF(af_scenario_to_py(&S));
    Py_ssize_t before = allocated_blocks();
    double t0 = now_s();
    for (int i = 0; i < 10000; i++) {
        PyObject *o = af_scenario_to_py(&S);
        assert_non_null(o);
        Py_DECREF(o);
    }
    double dt = now_s() - t0;
    Py_ssize_t after = allocated_blocks();
    fprintf(stderr, "af_scenario_to_py: %.3f us per small scenario; blocks %zd -> %zd\n",
            dt / 10000 * 1e6, before, after);
    assert_true(after - before < 16);

    /* every hand-written scenario too, and the broken-reference error path */
    for (int rep = 0; rep < 1001; rep++) {
        if (rep == 1)
            before = allocated_blocks();
        for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
            assert_int_equal(af_json_read(hand[i], strlen(hand[i]), &S, &err), 0);
            PyObject *o = af_scenario_to_py(&S);
            assert_non_null(o);
            Py_DECREF(o);
        }
        assert_int_equal(af_json_read(hand[0], strlen(hand[0]), &S, &err), 0);
        S.ops[S.nops - 1].kind = AF_OP_AWAIT; /* the last sleep, now with a broken ref */
        S.ops[S.nops - 1].ref = 99;
        assert_null(af_scenario_to_py(&S));
        assert_true(PyErr_ExceptionMatches(PyExc_ValueError));
        PyErr_Clear();
    }
    after = allocated_blocks();
    fprintf(stderr, "hand-written and broken scenarios x1000: blocks %zd -> %zd\n", before, after);
    assert_true(after - before < 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_unknown_kind),
        cmocka_unit_test(test_pyobj_no_leak_and_cost),
        cmocka_unit_test(test_hand_written),
        cmocka_unit_test(test_asserts),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_catalog),
    };
    return cmocka_run_group_tests(tests, setup_python, NULL);
}
