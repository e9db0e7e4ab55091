/* watchdog_c.c - the run's real-time watchdog inside a callback
 * (watchdog_c.h). The thread touches Python objects only in `fire`, with
 * the GIL; it never runs Python code.
 *
 * Why not Py_AddPendingCall from the thread: in CPython 3.11 a pending call
 * added by a thread other than the main one does not set the eval breaker
 * (COMPUTE_EVAL_BREAKER asks whether the *calling* thread can handle
 * pending calls), so the main thread never runs it; from a signal handler
 * in the main thread it would, but the signal would interrupt the target's
 * system calls. PyThreadState_SetAsyncExc, made with the GIL, sets it: the
 * thread takes the GIL (the main thread hands it over at its next
 * bytecode boundary, within the switch interval), marks the run and sets
 * the exception, which the main thread raises where it resumes.
 *
 * Process-wide state, as for a signal handler: the thread and the active
 * run_until's deadline, loop and mark. Reference counting: the state owns
 * a reference to the active loop, to the loop last marked and its mark,
 * and to the exception type (bind). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/clock.h"
#include "harness/accel/watchdog_c.h"

static struct {
    /* shared with the thread */
    _Atomic uint64_t deadline_ns; /* the active run_until's; 0: none */
    _Atomic uint64_t repeat_ns;   /* past the deadline: fire again this often */
    _Atomic int idle;             /* the thread waits for a deadline */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started; /* the thread runs in this process (reset in a forked child) */
    bool atfork;
    /* with the GIL */
    unsigned long main_thread; /* PyThread_get_thread_ident() of begin's caller */
    bool fired;                /* an exception was set in the active run_until */
    int depth;
    PyObject *exc;         /* vloop.WatchdogExpired */
    PyObject *loop;        /* the active run_until's loop */
    PyObject *marked_loop; /* the loop whose last run_until was marked */
    PyObject *mark;        /* its mark: (index, clock, iteration) */
} wd = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the thread ---- */

static void fire(void);

static struct timespec abs_time(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    return ts;
}

static void *watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wd.mu);
    for (;;) {
        uint64_t d = atomic_load(&wd.deadline_ns);
        if (d == 0) {
            /* idle; begin() signals it when it sees idle set (seq_cst
             * store and load on both sides: one of them sees the other) */
            atomic_store(&wd.idle, 1);
            if (atomic_load(&wd.deadline_ns) == 0)
                pthread_cond_wait(&wd.cv, &wd.mu);
            atomic_store(&wd.idle, 0);
            continue;
        }
        uint64_t now = af_clock_ns(), until = d;
        if (now >= d) {
            pthread_mutex_unlock(&wd.mu); /* begin() may want it while we wait for the GIL */
            fire();
            pthread_mutex_lock(&wd.mu);
            until = af_clock_ns() + atomic_load(&wd.repeat_ns);
        }
        struct timespec ts = abs_time(until);
        pthread_cond_timedwait(&wd.cv, &wd.mu, &ts);
    }
    return NULL;
}

static void forked_child(void)
{
    wd.started = false;
    atomic_store(&wd.deadline_ns, 0);
    atomic_store(&wd.idle, 0);
    pthread_mutex_init(&wd.mu, NULL);
}

static void start_thread(void)
{
    if (!wd.atfork) {
        pthread_atfork(NULL, NULL, forked_child);
        wd.atfork = true;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay the main thread's */
    pthread_t t;
    /* a small stack, when the libraries' thread-local storage leaves room */
    pthread_attr_setstacksize(&attr, 256 * 1024);
    wd.started = pthread_create(&t, &attr, watch, NULL) == 0;
    if (!wd.started) {
        pthread_attr_destroy(&attr);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        wd.started = pthread_create(&t, &attr, watch, NULL) == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
}

/* ---- in the main thread ---- */

/* (len(loop.events), loop._clock, loop._iteration), or NULL (no error). */
static PyObject *mark_of(PyObject *loop)
{
    PyObject *events = PyObject_GetAttrString(loop, "events");
    PyObject *clock = PyObject_GetAttrString(loop, "_clock");
    PyObject *it = PyObject_GetAttrString(loop, "_iteration");
    Py_ssize_t n = events ? PyObject_Length(events) : -1;
    PyObject *m = n >= 0 && clock && it ? Py_BuildValue("(nOO)", n, clock, it) : NULL;
    Py_XDECREF(events);
    Py_XDECREF(clock);
    Py_XDECREF(it);
    if (!m || PyObject_SetAttrString(loop, "watchdog_at", m) < 0)
        Py_CLEAR(m);
    PyErr_Clear();
    return m;
}

/* From the thread: with the GIL, when a run_until is (still) past its
 * deadline, mark the run (the first time) and have the main thread raise
 * the watchdog's exception where it resumes. */
static void fire(void)
{
    PyGILState_STATE g = PyGILState_Ensure();
    uint64_t d = atomic_load(&wd.deadline_ns);
    if (d && af_clock_ns() >= d && wd.exc && wd.loop) {
        if (wd.marked_loop != wd.loop) {
            PyObject *m = mark_of(wd.loop);
            if (m) {
                Py_XSETREF(wd.mark, m);
                Py_INCREF(wd.loop);
                Py_XSETREF(wd.marked_loop, wd.loop);
            }
        }
        wd.fired = PyThreadState_SetAsyncExc(wd.main_thread, wd.exc) == 1;
    }
    PyGILState_Release(g);
}

int af_watchdog_begin(PyObject *loop, double seconds)
{
    if (wd.depth++ > 0)
        return 0;
    if (!wd.exc) {
        wd.depth--;
        PyErr_SetString(PyExc_RuntimeError, "_af_watchdog: bind(exc_type) was not called");
        return -1;
    }
    if (wd.marked_loop) { /* the mark of an earlier run_until */
        if (PyObject_SetAttrString(wd.marked_loop, "watchdog_at", Py_None) < 0)
            PyErr_Clear();
        Py_CLEAR(wd.marked_loop);
        Py_CLEAR(wd.mark);
    }
    if (!wd.started)
        start_thread();
    wd.main_thread = PyThread_get_thread_ident();
    Py_INCREF(loop);
    Py_XSETREF(wd.loop, loop);
    double repeat = seconds / 4 < 0.01 ? 0.01 : seconds / 4 > 1.0 ? 1.0 : seconds / 4;
    atomic_store(&wd.repeat_ns, (uint64_t)(repeat * 1e9));
    atomic_store(&wd.deadline_ns, af_clock_ns() + (uint64_t)(seconds * 1e9));
    if (atomic_load(&wd.idle)) {
        pthread_mutex_lock(&wd.mu);
        pthread_cond_signal(&wd.cv);
        pthread_mutex_unlock(&wd.mu);
    }
    return 0;
}

void af_watchdog_end(void)
{
    if (wd.depth == 0 || --wd.depth > 0)
        return;
    atomic_store(&wd.deadline_ns, 0);
    Py_CLEAR(wd.loop);
    if (wd.fired) { /* an exception set but not raised yet must not outlive the run_until */
        PyThreadState_SetAsyncExc(wd.main_thread, NULL);
        wd.fired = false;
    }
}

int af_watchdog_caught(void)
{
    if (!wd.exc || !PyErr_ExceptionMatches(wd.exc))
        return 0;
    PyErr_Clear();
    return 1;
}

PyObject *af_watchdog_mark(PyObject *loop)
{
    return wd.marked_loop == loop ? wd.mark : NULL;
}

/* ---- the module ---- */

static PyObject *py_bind(PyObject *self, PyObject *exc)
{
    (void)self;
    if (!PyExceptionClass_Check(exc)) {
        PyErr_SetString(PyExc_TypeError, "_af_watchdog.bind: an exception class is required");
        return NULL;
    }
    Py_INCREF(exc);
    Py_XSETREF(wd.exc, exc);
    Py_RETURN_NONE;
}

static PyObject *py_begin(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "begin(loop, seconds)");
        return NULL;
    }
    double seconds = PyFloat_AsDouble(args[1]);
    if (seconds == -1.0 && PyErr_Occurred())
        return NULL;
    if (af_watchdog_begin(args[0], seconds) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_end(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    af_watchdog_end();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bind", py_bind, METH_O, "bind(exc_type): the exception the watchdog raises."},
    {"begin", (PyCFunction)(void (*)(void))py_begin, METH_FASTCALL,
     "begin(loop, seconds): a run_until of loop begins, with seconds of real time."},
    {"end", py_end, METH_NOARGS, "end(): the run_until ends."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_af_watchdog",
    .m_doc = "The run's real-time watchdog inside a callback (harness/accel/watchdog_c.h).",
    .m_size = -1,
    .m_methods = methods,
};

int af_watchdog_register(void)
{
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return -1;
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    int rc = PyDict_SetItemString(modules, "_af_watchdog", m);
    Py_DECREF(m);
    return rc;
}
