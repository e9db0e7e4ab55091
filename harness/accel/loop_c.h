/* loop_c.h - the virtual-time loop's scheduling in C (the module `_af_loop`).
 *
 * harness/py/vloop.py makes a handle per callback and per timer, keeps the
 * timers in a heap, and every task registers itself in asyncio's WeakSet
 * of all tasks: thousands of Python frames per second of fuzzing. When the
 * embedded harness provides `_af_loop`, vloop.py uses these in place of
 * its Python methods. They read and write the same attributes, in the same
 * order, and keep the heap in exactly the order heapq keeps it (the same
 * sift algorithm, comparing timers by `_when` as TimerHandle.__lt__ does),
 * so a reproducer run by a plain python3.11 gives the same trace.
 *
 *   bind_handles(Handle, TimerHandle)   the two handle classes vloop makes
 *                                       (exact types: their object slots
 *                                       are read and written directly);
 *   method(cls, name)                   a method descriptor for cls:
 *                                       "call_soon", "call_at", "call_later",
 *                                       "create_future", "get_debug"
 *                                       (VirtualLoop) or
 *                                       "cancel" (the timer class);
 *   bind_handle_class(cls)              a subclass laid out as one of them
 *                                       (loops.py's handles), read directly
 *                                       too; call_soon / call_at make
 *                                       handles of the loop's _Handle /
 *                                       _TimerHandle when it is bound;
 *   bind_loop(VirtualLoop)              the loop class (exact type: its
 *                                       slots, af_lslot, are read and
 *                                       written directly);
 *   fast_registry(weakset)              asyncio's task registry without a
 *                                       Python frame per task (see loop_c.c).
 *
 * The C helpers below are shared with probe_c.c (run_until).
 */
#ifndef ASYNCFUZZ_LOOP_C_H
#define ASYNCFUZZ_LOOP_C_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The handle attributes the loop reads and writes. */
typedef enum af_hslot {
    AF_H_CONTEXT,
    AF_H_LOOP,
    AF_H_CALLBACK,
    AF_H_ARGS,
    AF_H_CANCELLED,
    AF_H_REPR,
    AF_H_SOURCE_TRACEBACK,
    AF_H_WHEN,      /* timers only */
    AF_H_SCHEDULED, /* timers only */
    AF_H_COUNT
} af_hslot;

/* The VirtualLoop attributes the C code reads and writes: object slots of
 * the class (vloop.py's __slots__), read at their offsets once
 * bind_loop(VirtualLoop) has run, by name otherwise. */
typedef enum af_lslot {
    AF_L_CLOCK,
    AF_L_ITERATION,
    AF_L_READY,
    AF_L_SCHEDULED,
    AF_L_TIMER_CANCELLED_COUNT,
    AF_L_HALTED,
    AF_L_DEBUG,
    AF_L_CLOSED,
    AF_L_FUTURE_CLS,
    AF_L_SLOW_TICKS,
    AF_L_SLOW_WHAT,
    AF_L_EVENTS,
    AF_L_THREAD_ID,
    AF_L_STOPPING,
    AF_L_EXCEPTION_HANDLER,
    AF_L_TASK_FACTORY,
    AF_L_COUNT
} af_lslot;

/* getattr(obj, name) / setattr(obj, name, v), reading and writing obj's
 * __dict__ directly where getattr and setattr would (no data descriptor of
 * that name, the generic getattr and setattr): a loop under test's
 * attributes without the generic lookup each time. */
PyObject *af_attr_get(PyObject *obj, PyObject *name);
int af_attr_set(PyObject *obj, PyObject *name, PyObject *v);

/* loop.<slot>: new reference, or NULL with AttributeError. */
PyObject *af_loop_get(PyObject *loop, af_lslot s);
/* loop.<slot> = v: 0, or -1 with an exception. */
int af_loop_set(PyObject *loop, af_lslot s, PyObject *v);
/* bool(loop.<slot>): 1, 0, -1. */
int af_loop_true(PyObject *loop, af_lslot s);

/* Create the module and enter it in sys.modules as `_af_loop`. Call with
 * the interpreter initialised, before vloop.py is imported. Returns 0, or
 * -1 with a Python exception set. */
int af_loop_c_register(void);

/* A new handle of tp, a bound class (bind_handles, bind_handle_class),
 * its slots set as vloop.call_soon / call_at set them (when: a timer's
 * _when, _scheduled True). New reference; NULL with an exception, or NULL
 * without one when tp is not bound (the caller then makes it the Python
 * way). */
PyObject *af_handle_new(PyTypeObject *tp, PyObject *loop, PyObject *callback, PyObject *args,
                        PyObject *context, PyObject *when);

/* h.<slot>: new reference, or NULL with AttributeError (unset slot) or
 * whatever getattr raised (a handle of another class). */
PyObject *af_handle_get(PyObject *h, af_hslot s);
/* h.<slot> = v: 0, or -1 with an exception. */
int af_handle_set(PyObject *h, af_hslot s, PyObject *v);
/* bool(h.<slot>): 1, 0, -1. */
int af_handle_true(PyObject *h, af_hslot s);

/* queue.append(h) for the loop's ready queue (a deque: its append method
 * without a lookup per call): 0, or -1 with an exception. */
int af_queue_append(PyObject *queue, PyObject *h);

/* heapq.heappush / heapq.heappop on a list of timers, with heapq's
 * algorithm and TimerHandle's order. push: 0 or -1; pop: new reference or
 * NULL (IndexError on an empty heap). */
int af_heap_push(PyObject *heap, PyObject *item);
PyObject *af_heap_pop(PyObject *heap);

#endif
