/* pycov.c - Python line-edge coverage in C (pycov.h). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
/* 3.11: the frame object's f_trace_lines is only reachable through the
 * internal header. Turning it off for a frame of code we do not trace
 * spares a tracer call per line of that frame. */
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE
#define AF_SET_TRACE_LINES(frame, v) ((frame)->f_trace_lines = (char)(v))
#else
#define AF_SET_TRACE_LINES(frame, v)                                                               \
    PyObject_SetAttrString((PyObject *)(frame), "f_trace_lines", (v) ? Py_True : Py_False)
#endif

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "harness/engines/coverage.h"
#include "harness/engines/pycov.h"
#include "harness/run/embed.h"

typedef struct code_entry {
    PyObject *code; /* strong reference; NULL = empty slot */
    uint64_t key;   /* 0: not traced; else the code object's location seed */
} code_entry;

static code_entry table[AF_PYCOV_TABLE_SIZE];
static size_t ntraced, nskipped;
static uint64_t nlines;
static char *prefixes[AF_PYCOV_MAX_PREFIXES];
static size_t prefix_len[AF_PYCOV_MAX_PREFIXES];
static int nprefixes;
static int initialised;

static uint8_t *cur_map;
static size_t cur_size;
static uint64_t prev_loc;

int af_pycov_add_prefix(const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 0 || n > 1024 || nprefixes >= AF_PYCOV_MAX_PREFIXES)
        return -1;
    for (int i = 0; i < nprefixes; i++)
        if (strcmp(prefixes[i], prefix) == 0)
            return 0;
    prefixes[nprefixes] = strdup(prefix);
    if (!prefixes[nprefixes])
        return -1;
    prefix_len[nprefixes] = n;
    nprefixes++;
    return 0;
}

int af_pycov_prefix_count(void)
{
    return nprefixes;
}

const char *af_pycov_prefix(int i)
{
    return i >= 0 && i < nprefixes ? prefixes[i] : NULL;
}

void af_pycov_stats(size_t *traced, size_t *skipped, uint64_t *lines)
{
    if (traced)
        *traced = ntraced;
    if (skipped)
        *skipped = nskipped;
    if (lines)
        *lines = nlines;
}

int af_pycov_init(const char *extra_prefixes, af_error *err)
{
    if (initialised)
        return 0;
    PyObject *asyncio = PyImport_ImportModule("asyncio");
    if (!asyncio) {
        af_embed_error_from_python(err, "pycov: importing asyncio");
        return -1;
    }
    PyObject *file = PyObject_GetAttrString(asyncio, "__file__");
    Py_DECREF(asyncio);
    const char *path = file && PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : NULL;
    if (!path) {
        Py_XDECREF(file);
        af_embed_error_from_python(err, "pycov: reading asyncio.__file__");
        return -1;
    }
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", path);
    Py_DECREF(file);
    char *slash = strrchr(dir, '/');
    if (!slash) {
        af_error_set(err, "", "pycov: asyncio.__file__ has no directory: %s", dir);
        return -1;
    }
    slash[1] = '\0';
    if (af_pycov_add_prefix(dir) < 0) {
        af_error_set(err, "", "pycov: cannot register %s", dir);
        return -1;
    }
    if (extra_prefixes && *extra_prefixes) {
        char buf[4096];
        snprintf(buf, sizeof buf, "%s", extra_prefixes);
        for (char *save = NULL, *p = strtok_r(buf, ":", &save); p; p = strtok_r(NULL, ":", &save))
            if (af_pycov_add_prefix(p) < 0) {
                af_error_set(err, "AF_PYCOV_PATHS", "too many prefixes (at most %d)",
                             AF_PYCOV_MAX_PREFIXES);
                return -1;
            }
    }
    initialised = 1;
    return 0;
}

/* The location seed of a code object: 0 when it is not traced. Stable
 * across processes: made of the file name and first line, not addresses. */
static uint64_t decide(PyCodeObject *co)
{
    Py_ssize_t n = 0;
    const char *fn =
        PyUnicode_Check(co->co_filename) ? PyUnicode_AsUTF8AndSize(co->co_filename, &n) : NULL;
    if (!fn) {
        PyErr_Clear();
        return 0;
    }
    for (int i = 0; i < nprefixes; i++) {
        if ((size_t)n >= prefix_len[i] && memcmp(fn, prefixes[i], prefix_len[i]) == 0) {
            uint64_t k =
                af_cov_mix(af_fnv64_from(AF_COV_SEED, fn, (size_t)n), (uint64_t)co->co_firstlineno);
            return k ? k : 1;
        }
    }
    return 0;
}

static uint64_t lookup(PyCodeObject *co)
{
    uintptr_t p = (uintptr_t)co;
    size_t i = (size_t)((p >> 4) * 0x9e3779b97f4a7c15ull >> 51) & (AF_PYCOV_TABLE_SIZE - 1);
    for (size_t probe = 0; probe < 32; probe++, i = (i + 1) & (AF_PYCOV_TABLE_SIZE - 1)) {
        code_entry *e = &table[i];
        if (e->code == (PyObject *)co)
            return e->key;
        if (!e->code) {
            uint64_t k = decide(co);
            Py_INCREF(co);
            e->code = (PyObject *)co;
            e->key = k;
            if (k)
                ntraced++;
            else
                nskipped++;
            return k;
        }
    }
    return decide(co); /* table crowded here: decide without caching */
}

static int tracer(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)arg;
    if (what != PyTrace_LINE && what != PyTrace_CALL)
        return 0;
    PyCodeObject *co = PyFrame_GetCode(frame); /* new reference */
    uint64_t key = lookup(co);
    Py_DECREF(co);
    if (!key) {
        if (what == PyTrace_CALL)
            AF_SET_TRACE_LINES(frame, 0); /* no line events for this activation */
        return 0;
    }
    if (what == PyTrace_CALL) {
        prev_loc = key >> 1;
        return 0;
    }
    uint64_t loc = af_cov_mix(key, (uint64_t)PyFrame_GetLineNumber(frame));
    uint8_t *c = &cur_map[(loc ^ prev_loc) % cur_size];
    if (*c != 255)
        (*c)++;
    prev_loc = loc >> 1;
    nlines++;
    return 0;
}

void af_pycov_begin(uint8_t *map, size_t size)
{
    if (!map || size == 0)
        return;
    cur_map = map;
    cur_size = size;
    prev_loc = 0;
    PyEval_SetTrace(tracer, NULL);
}

void af_pycov_end(void)
{
    if (!cur_map)
        return;
    PyEval_SetTrace(NULL, NULL);
    cur_map = NULL;
    cur_size = 0;
}
