/* embed.c - initialise the embedded interpreter once per process (embed.h).
 *
 * Reference counting follows CPython's own discipline: every new reference
 * is owned by exactly one variable and released on every path (Py_XDECREF /
 * Py_CLEAR at a single exit label); borrowed references are never released.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "harness/accel/loop_c.h"
#include "harness/accel/probe_c.h"
#include "harness/accel/selector_c.h"
#include "harness/accel/watchdog_c.h"
#include "harness/run/embed.h"
#include "harness/run/py_embed.h"

static int g_ready;
static int g_failed;
static int g_accel = 1; /* chosen at the first af_embed_init_accel */
static char g_traceback[16384];

/* Serves harness/py/NAME.py from the embedded table: a meta-path finder and
 * loader, so `import interp` (and interp's own `import vloop`) never touch
 * the file system. Sources are also entered into linecache so that
 * tracebacks through them show their lines. */
static const char bootstrap_src[] =
    "import sys, linecache\n"
    "from importlib.machinery import ModuleSpec\n"
    "class AsyncfuzzEmbeddedImporter:\n"
    "    def __init__(self, sources):\n"
    "        self.sources = sources\n"
    "        for name, (filename, src) in sources.items():\n"
    "            linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        entry = self.sources.get(name)\n"
    "        if entry is None:\n"
    "            return None\n"
    "        return ModuleSpec(name, self, origin=entry[0])\n"
    "    def create_module(self, spec):\n"
    "        return None\n"
    "    def exec_module(self, module):\n"
    "        filename, src = self.sources[module.__spec__.name]\n"
    "        module.__file__ = filename\n"
    "        exec(compile(src, filename, 'exec', dont_inherit=True), module.__dict__)\n"
    "    def get_source(self, name):\n"
    "        return self.sources[name][1]\n"
    "sys.meta_path.insert(0, AsyncfuzzEmbeddedImporter(sources))\n";

int af_embed_ready(void)
{
    return g_ready;
}

int af_embed_pyversion(void)
{
    unsigned long v = Py_Version;
    return (int)((v >> 24) & 0xff) * 100 + (int)((v >> 16) & 0xff);
}

int af_embed_pypatch(void)
{
    return (int)((Py_Version >> 8) & 0xff);
}

void af_embed_describe(char *buf, size_t cap)
{
    /* Py_GetVersion: "3.11.2 (main, ...) [GCC ...]", the running library's */
    const char *version = Py_GetVersion();
    Dl_info where;
    memset(&where, 0, sizeof where);
    int located = dladdr((void *)Py_GetVersion, &where) != 0 && where.dli_fname;
    snprintf(buf, cap, "CPython %.*s%s%s%s", (int)strcspn(version, " "), version,
             located ? " (" : "", located ? where.dli_fname : "", located ? ")" : "");
}

const char *af_embed_last_traceback(void)
{
    return g_traceback;
}

static void set_plain(af_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_plain(af_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* Copy a Python str into buf (UTF-8, truncated). */
static void copy_str(PyObject *s, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (!s || !PyUnicode_Check(s))
        return;
    Py_ssize_t n = 0;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) {
        PyErr_Clear();
        return;
    }
    size_t len = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
    memcpy(buf, u, len);
    buf[len] = '\0';
}

/* The traceback of (type, value, tb) as text, into buf; also returns the
 * innermost frame "FILE:LINE in FUNC" into where. Never raises. */
static void format_exc(PyObject *type, PyObject *value, PyObject *tb, char *buf, size_t cap,
                       char *where, size_t wcap)
{
    PyObject *mod = NULL, *lines = NULL, *empty = NULL, *text = NULL;
    buf[0] = '\0';
    if (where)
        where[0] = '\0';
    mod = PyImport_ImportModule("traceback");
    if (!mod)
        goto done;
    lines = PyObject_CallMethod(mod, "format_exception", "OOO", type, value ? value : Py_None,
                                tb ? tb : Py_None);
    if (!lines)
        goto done;
    empty = PyUnicode_FromString("");
    if (!empty)
        goto done;
    text = PyUnicode_Join(empty, lines);
    if (!text)
        goto done;
    copy_str(text, buf, cap);
    if (where && tb && PyTraceBack_Check(tb)) {
        PyTracebackObject *last = (PyTracebackObject *)tb;
        while (last->tb_next)
            last = last->tb_next;
        PyCodeObject *code = PyFrame_GetCode(last->tb_frame); /* new reference */
        if (code) {
            char file[160], func[64];
            copy_str(code->co_filename, file, sizeof file);
            copy_str(code->co_name, func, sizeof func);
            snprintf(where, wcap, "%s:%d in %s", file, PyFrame_GetLineNumber(last->tb_frame), func);
            Py_DECREF(code);
        }
    }
done:
    if (PyErr_Occurred())
        PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(mod);
}

char *af_embed_format_exception(char *buf, size_t cap)
{
    PyObject *type, *value, *tb;
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    PyErr_Fetch(&type, &value, &tb);
    if (!type)
        return buf;
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    format_exc(type, value, tb, buf, cap, NULL, 0);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return buf;
}

void af_embed_error_from_python(af_error *err, const char *context)
{
    PyObject *type, *value, *tb;
    char where[256] = "", summary[200] = "";
    g_traceback[0] = '\0';
    PyErr_Fetch(&type, &value, &tb);
    if (!type) {
        set_plain(err, "%s", context);
        return;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    format_exc(type, value, tb, g_traceback, sizeof g_traceback, where, sizeof where);

    /* "Type: message" from the exception itself. */
    PyObject *tname = PyType_GetName((PyTypeObject *)type); /* new reference */
    PyObject *vstr = value ? PyObject_Str(value) : NULL;
    if (PyErr_Occurred())
        PyErr_Clear();
    char tbuf[64] = "?", vbuf[160] = "";
    copy_str(tname, tbuf, sizeof tbuf);
    copy_str(vstr, vbuf, sizeof vbuf);
    Py_XDECREF(vstr);
    Py_XDECREF(tname);
    snprintf(summary, sizeof summary, "%s%s%s", tbuf, vbuf[0] ? ": " : "", vbuf);
    if (where[0])
        set_plain(err, "%s: %s (at %s)", context, summary, where);
    else
        set_plain(err, "%s: %s", context, summary);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

PyObject *af_embed_import(const char *name, af_error *err)
{
    PyObject *mod = PyImport_ImportModule(name);
    if (!mod) {
        char ctx[128];
        snprintf(ctx, sizeof ctx, "importing %s", name);
        af_embed_error_from_python(err, ctx);
    }
    return mod;
}

/* A binary packaged with the standard library beside it - oss-fuzz/build.sh
 * puts Debian's /usr/lib/python3.X in $OUT/lib/python3.X for runners that
 * have no Python 3.X - runs from there: the folder holding that lib/ is
 * the interpreter's home. Returns 1 with home filled, 0 when not
 * packaged. */
static int packaged_home(wchar_t *home, size_t cap)
{
    char exe[4096], probe[4200];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    int v = af_embed_pyversion();
    snprintf(probe, sizeof probe, "%s/lib/python%d.%d/os.py", exe, v / 100, v % 100);
    if (access(probe, R_OK) != 0)
        return 0;
    return mbstowcs(home, exe, cap) < cap;
}

static int init_interpreter(af_error *err)
{
    PyStatus status;
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    /* Isolated: no PYTHON* variables, no user site, safe_path, no argv
     * parsing, no C stdio configuration. Made explicit here. */
    config.isolated = 1;
    config.use_environment = 0;
    config.user_site_directory = 0;
    config.parse_argv = 0;
    config.install_signal_handlers = 0;
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    config.site_import = 1; /* Debian's dist-packages */
    config.write_bytecode = 0;
    config.faulthandler = 0;
    config.tracemalloc = 0;
    config.dev_mode = 0;
    config.pathconfig_warnings = 0;

    status = PyWideStringList_Append(&config.warnoptions, L"always");
    if (PyStatus_Exception(status))
        goto fail;
    /* The interpreter's stdlib is the one of the interpreter the build
     * chose (CMakeLists.txt): compute paths as if this were that executable
     * (the binary may live anywhere). */
    status = PyConfig_SetBytesString(&config, &config.program_name, AF_PYTHON_EXECUTABLE);
    if (PyStatus_Exception(status))
        goto fail;
    wchar_t home[4096];
    if (packaged_home(home, sizeof home / sizeof home[0])) {
        status = PyConfig_SetString(&config, &config.home, home);
        if (PyStatus_Exception(status))
            goto fail;
    }
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status))
        goto fail;
    PyConfig_Clear(&config);
    return 0;
fail:
    set_plain(err, "initialising the embedded Python interpreter: %s%s%s",
              status.func ? status.func : "", status.func ? ": " : "",
              status.err_msg ? status.err_msg : "unknown error");
    PyConfig_Clear(&config);
    return -1;
}

/* Install the in-memory importer for af_py_sources. */
static int install_importer(af_error *err)
{
    int rc = -1;
    PyObject *sources = NULL, *globals = NULL, *result = NULL;

    sources = PyDict_New();
    if (!sources)
        goto error;
    for (const struct af_py_source *m = af_py_sources; m->name; m++) {
        char filename[256];
        snprintf(filename, sizeof filename, "<asyncfuzz>/%s/%s.py", m->folder, m->name);
        PyObject *entry = Py_BuildValue("(ss#)", filename, m->source, (Py_ssize_t)m->length);
        if (!entry)
            goto error;
        int r = PyDict_SetItemString(sources, m->name, entry);
        Py_DECREF(entry);
        if (r < 0)
            goto error;
    }
    globals = PyDict_New();
    if (!globals)
        goto error;
    if (PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto error;
    if (PyDict_SetItemString(globals, "__name__", Py_None) < 0) /* not __main__ */
        goto error;
    if (PyDict_SetItemString(globals, "sources", sources) < 0)
        goto error;
    result = PyRun_String(bootstrap_src, Py_file_input, globals, globals);
    if (!result)
        goto error;
    rc = 0;
    goto done;
error:
    af_embed_error_from_python(err, "installing the embedded module importer");
done:
    Py_XDECREF(result);
    Py_XDECREF(globals);
    Py_XDECREF(sources);
    return rc;
}

static int import_and_freeze(af_error *err)
{
    PyObject *mod = af_embed_import("asyncio", err);
    if (!mod)
        return -1;
    Py_DECREF(mod);
    for (const struct af_py_source *m = af_py_sources; m->name; m++) {
        if (!af_py_source_is_harness(m))
            continue; /* an adapter: imported when a run names it */
        mod = af_embed_import(m->name, err);
        if (!mod)
            return -1;
        Py_DECREF(mod);
    }
    /* CPython 3.11 installs its SIGINT handler when the signal module is
     * first imported (asyncio imports it), whatever install_signal_handlers
     * says. Put the default back: the harness owns no signal handlers, and
     * Ctrl-C stops it at once. */
    PyObject *r0 = PyRun_String("import signal as _s\n_s.signal(_s.SIGINT, _s.SIG_DFL)\ndel _s\n",
                                Py_file_input, PyModule_GetDict(PyImport_AddModule("__main__")),
                                PyModule_GetDict(PyImport_AddModule("__main__")));
    if (!r0) {
        af_embed_error_from_python(err, "restoring the default SIGINT handler");
        return -1;
    }
    Py_DECREF(r0);
    PyObject *gc = af_embed_import("gc", err);
    if (!gc)
        return -1;
    PyObject *r = PyObject_CallMethod(gc, "collect", NULL);
    if (r) {
        Py_DECREF(r);
        r = PyObject_CallMethod(gc, "freeze", NULL);
    }
    Py_DECREF(gc);
    if (!r) {
        af_embed_error_from_python(err, "freezing the start-up objects (gc.freeze)");
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* PYTHONPATH's folders, which the isolated configuration ignores, at the
 * front of sys.path in their order: a library under test (a vendor's
 * checkout) is importable. Added after asyncio and the harness's modules
 * are imported, so that those are always the interpreter's own. */
static int add_pythonpath(af_error *err)
{
    const char *env = getenv("PYTHONPATH");
    if (!env || !env[0])
        return 0;
    char *copy = strdup(env);
    if (!copy) {
        set_plain(err, "out of memory reading PYTHONPATH");
        return -1;
    }
    /* inserted at 0 one after the other: the last first */
    char *dirs[256];
    int n = 0;
    for (char *save = NULL, *p = strtok_r(copy, ":", &save); p && n < 256;
         p = strtok_r(NULL, ":", &save))
        dirs[n++] = p;
    int rc = 0;
    for (int i = n - 1; i >= 0 && rc == 0; i--)
        rc = af_embed_add_import_path(dirs[i], err);
    free(copy);
    return rc;
}

int af_embed_accel(void)
{
    return g_accel;
}

int af_embed_init_accel(int accel, af_error *err)
{
    if (g_ready && (accel != 0) != g_accel) {
        set_plain(err, "the interpreter runs %s; it cannot switch in the same process",
                  g_accel ? "the C accelerators" : "without the C accelerators");
        return -1;
    }
    if (!g_ready && !g_failed)
        g_accel = accel != 0;
    return af_embed_init(err);
}

int af_embed_init(af_error *err)
{
    if (g_ready)
        return 0;
    if (g_failed) {
        set_plain(err,
                  "the embedded Python interpreter failed to initialise earlier in this process");
        return -1;
    }
    if (!Py_IsInitialized() && init_interpreter(err) < 0) {
        g_failed = 1;
        return -1;
    }
    /* The probe's and the loop's C code (probe_c.h, loop_c.h), importable
     * before probe.py and vloop.py are; without them (no accelerators)
     * probe.py and vloop.py run their own Python code. */
    if (g_accel && (af_probe_c_register() < 0 || af_loop_c_register() < 0 ||
                    af_selector_c_register() < 0)) {
        af_embed_error_from_python(err, "creating the modules _af_probe, _af_loop and _af_selector");
        g_failed = 1;
        return -1;
    }
    /* The watchdog inside a callback (watchdog_c.h), with or without the
     * accelerators: vloop.py binds it. */
    if (af_watchdog_register() < 0) {
        af_embed_error_from_python(err, "creating the module _af_watchdog");
        g_failed = 1;
        return -1;
    }
    if (install_importer(err) < 0 || import_and_freeze(err) < 0 || add_pythonpath(err) < 0) {
        g_failed = 1;
        return -1;
    }
    g_ready = 1;
    return 0;
}

int af_embed_add_import_path(const char *dir, af_error *err)
{
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    PyObject *d = PyUnicode_DecodeFSDefault(dir);
    int rc = -1;
    if (path && d) {
        int has = PySequence_Contains(path, d);
        rc = has < 0 ? -1 : has ? 0 : PyList_Insert(path, 0, d);
    }
    Py_XDECREF(d);
    if (rc < 0) {
        char ctx[300];
        snprintf(ctx, sizeof ctx, "adding %.200s to sys.path", dir);
        af_embed_error_from_python(err, ctx);
    }
    return rc;
}
