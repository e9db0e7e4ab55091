/* test_loop_c.c - the loop's scheduling in C (harness/accel/loop_c.c) behaves as
 * the Python code it replaces, inside the embedded interpreter.
 *
 *   heap_order        _af_loop.heappush / heappop keep timers in exactly the
 *                     order heapq keeps them with TimerHandle.__lt__ (random
 *                     pushes and pops, many equal deadlines, ints and
 *                     floats): the same item at every position after every
 *                     step;
 *   timers            call_at / call_later make the handle vloop.py makes
 *                     and schedule it; their errors; cancel() counts a
 *                     scheduled timer once;
 *   futures_debug     create_future and get_debug; call_soon in debug mode
 *                     defers to BaseEventLoop's (a handle with its traceback);
 *   registry          asyncio.all_tasks() sees a pending task; a task that
 *                     dies leaves the WeakSet; during an iteration its
 *                     removal waits in _pending_removals, as WeakSet does.
 * Each check is Python run in the embedded interpreter that sets `why` to
 * a sentence when something is wrong.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "harness/run/embed.h"

/* Runs code in a fresh namespace where vloop, probe (which binds the C
 * code) and heapq are imported; fails with `why` or the traceback. */
static void check_python(const char *code)
{
    static const char prelude[] = "import asyncio, heapq, random, gc, weakref\n"
                                  "import vloop, probe\n"
                                  "why = None\n";
    PyObject *ns = PyDict_New();
    assert_non_null(ns);
    assert_int_equal(PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()), 0);
    PyObject *r = PyRun_String(prelude, Py_file_input, ns, ns);
    if (r) {
        Py_DECREF(r);
        r = PyRun_String(code, Py_file_input, ns, ns);
    }
    if (!r) {
        af_error err;
        af_embed_error_from_python(&err, "check");
        print_error("%s\n%s\n", err.message, af_embed_last_traceback());
        Py_DECREF(ns);
        fail();
    }
    Py_DECREF(r);
    PyObject *why = PyDict_GetItemString(ns, "why"); /* borrowed */
    if (why && why != Py_None) {
        print_error("%s\n", PyUnicode_Check(why) ? PyUnicode_AsUTF8(why) : "(why is not a str)");
        Py_DECREF(ns);
        fail();
    }
    Py_DECREF(ns);
}

static void bound(void **state)
{
    (void)state;
    check_python("import _af_loop\n"
                 "L = vloop.VirtualLoop\n"
                 "for n in ('call_soon', 'call_at', 'call_later', 'create_future', 'get_debug',\n"
                 "          'run_until'):\n"
                 "    if 'built-in' not in repr(getattr(L, n)) and 'method' not in \\\n"
                 "            type(L.__dict__[n]).__name__:\n"
                 "        why = 'VirtualLoop.%s is not the C method: %r' % (n, L.__dict__[n])\n"
                 "reg = vars(asyncio.tasks).get('_scheduled_tasks',\n"
                 "                              vars(asyncio.tasks).get('_all_tasks'))\n"
                 "if type(reg.__dict__.get('add')).__name__ != \\\n"
                 "        'builtin_function_or_method':\n"
                 "    why = 'the task registry is not the C one'\n");
}

static void heap_order(void **state)
{
    (void)state;
    check_python(
        "import _af_loop\n"
        "rng = random.Random(7)\n"
        "T = vloop._VTimerHandle\n"
        "def timer(w):\n"
        "    h = T.__new__(T)\n"
        "    h._when = w\n"
        "    return h\n"
        "for trial in range(300):\n"
        "    a, b = [], []\n"
        "    for step in range(rng.randrange(1, 80)):\n"
        "        if a and rng.random() < 0.4:\n"
        "            x, y = _af_loop.heappop(a), heapq.heappop(b)\n"
        "            if x is not y:\n"
        "                why = 'trial %d step %d: pop differs' % (trial, step)\n"
        "        else:\n"
        "            w = rng.choice([rng.randrange(5), rng.randrange(5) + 0.5, "
        "rng.randrange(50)])\n"
        "            h = timer(w)\n"
        "            _af_loop.heappush(a, h)\n"
        "            heapq.heappush(b, h)\n"
        "        if [id(x) for x in a] != [id(x) for x in b]:\n"
        "            why = 'trial %d step %d: heap order differs from heapq' % (trial, step)\n"
        "        if why:\n"
        "            break\n"
        "    if why:\n"
        "        break\n"
        "try:\n"
        "    _af_loop.heappop([])\n"
        "    why = 'heappop([]) did not raise'\n"
        "except IndexError:\n"
        "    pass\n");
}

static void timers(void **state)
{
    (void)state;
    check_python(
        "loop = vloop.VirtualLoop()\n"
        "loop.reset([], None, None)\n"
        "loop._clock = 5\n"
        "def cb(*a): pass\n"
        "h = loop.call_later(3, cb, 1, 2)\n"
        "h2 = loop.call_at(4, cb, context=None)\n"
        "if type(h) is not vloop._VTimerHandle or h._when != 8 or h._args != (1, 2) \\\n"
        "        or h._callback is not cb or h._loop is not loop or h._cancelled \\\n"
        "        or not h._scheduled or h._repr is not None or h._source_traceback is not None:\n"
        "    why = 'call_later made a different handle'\n"
        "elif loop._scheduled != [h2, h]:\n"
        "    why = 'timers not in the heap in deadline order: %r' % (loop._scheduled,)\n"
        "elif not isinstance(h2._context, type(__import__('contextvars').copy_context())):\n"
        "    why = 'no context copied'\n"
        "for call, msg in ((lambda: loop.call_at(None, cb), 'when cannot be None'),\n"
        "                  (lambda: loop.call_later(None, cb), 'delay must not be None'),\n"
        "                  (lambda: loop.call_at(1, cb, bogus=1), 'unexpected keyword')):\n"
        "    try:\n"
        "        call()\n"
        "        why = 'no TypeError: ' + msg\n"
        "    except TypeError as e:\n"
        "        if msg not in str(e):\n"
        "            why = 'TypeError %r, not %r' % (str(e), msg)\n"
        "h.cancel(); h.cancel()\n"
        "if loop._timer_cancelled_count != 1 or not h._cancelled or h._callback is not None:\n"
        "    why = 'cancel(): count %d' % loop._timer_cancelled_count\n"
        "loop.clear_queues()\n"
        "loop.close()\n"
        "try:\n"
        "    loop.call_later(1, cb)\n"
        "    why = 'a closed loop scheduled a timer'\n"
        "except RuntimeError:\n"
        "    pass\n");
}

static void futures_debug(void **state)
{
    (void)state;
    check_python("loop = vloop.VirtualLoop()\n"
                 "f = loop.create_future()\n"
                 "if type(f) is not asyncio.Future or f.get_loop() is not loop:\n"
                 "    why = 'create_future: %r' % (f,)\n"
                 "loop._future_cls = asyncio.futures._PyFuture\n"
                 "if type(loop.create_future()) is not asyncio.futures._PyFuture:\n"
                 "    why = 'create_future ignores _future_cls'\n"
                 "if loop.get_debug() is not False:\n"
                 "    why = 'get_debug'\n"
                 "loop._debug = True\n"
                 "if loop.get_debug() is not True:\n"
                 "    why = 'get_debug does not read _debug'\n"
                 "h = loop.call_soon(print)\n" /* debug mode: BaseEventLoop's call_soon */
                 "if h not in loop._ready or h._source_traceback is None:\n"
                 "    why = 'call_soon in debug mode did not defer to BaseEventLoop'\n"
                 "loop._ready.clear()\n"
                 "loop.close()\n");
}

static void registry(void **state)
{
    (void)state;
    check_python(
        "ws = vars(asyncio.tasks).get('_scheduled_tasks', vars(asyncio.tasks).get('_all_tasks'))\n"
        "loop = vloop.VirtualLoop()\n"
        "loop.reset([], None, None)\n"
        "loop.enter_running()\n"
        "async def forever():\n"
        "    await loop.create_future()\n"
        "try:\n"
        "    t = loop.create_task(forever())\n"
        "    if t not in asyncio.all_tasks(loop):\n"
        "        why = 'all_tasks() does not see a pending task'\n"
        "    n = len(ws.data)\n"
        "    r = weakref.ref(t)\n"
        "    with weakref.WeakSet.__dict__['__iter__'].__globals__['_IterationGuard'](ws):\n"
        "        t.cancel(); loop.run_until(t.done, 100, 100, 5.0)\n"
        "        del t\n"
        "        loop.clear_queues(); gc.collect()\n"
        "        if r() is not None:\n"
        "            why = 'the task did not die'\n"
        "        elif len(ws._pending_removals) != 1:\n"
        "            why = 'removal during iteration not deferred: %r' % (ws._pending_removals,)\n"
        "    ws._commit_removals()\n"
        "    if why is None and len(ws.data) != n - 1:\n"
        "        why = 'the dead task is still registered (%d -> %d)' % (n, len(ws.data))\n"
        "    t2 = loop.create_task(forever())\n"
        "    r2 = weakref.ref(t2)\n"
        "    n = len(ws.data)\n"
        "    t2.cancel(); loop.run_until(t2.done, 100, 100, 5.0)\n"
        "    del t2\n"
        "    loop.clear_queues(); gc.collect()\n"
        "    if why is None and (r2() is not None or len(ws.data) != n - 1):\n"
        "        why = 'a dead task was not removed from the registry'\n"
        "finally:\n"
        "    loop.leave_running()\n"
        "    loop.close()\n");
}

int main(void)
{
    af_error err;
    if (af_embed_init(&err) < 0) {
        fprintf(stderr, "embedding failed: %s\n", err.message);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bound),         cmocka_unit_test(heap_order), cmocka_unit_test(timers),
        cmocka_unit_test(futures_debug), cmocka_unit_test(registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
