/* pyobj.h - the scenario as Python objects, for harness/py/interp.py.
 *
 * The hot path hands the IR to a small preloaded Python interpreter of
 * scenarios instead of compiling generated source (about 150 us per run):
 * the scenario becomes nested tuples of ints, strings, bools and None.
 *
 *     scenario = (prims, root_task)
 *     prims    = tuple of (name, prim_kind, param)    prim_kind: af_prim_kind
 *     task     = (name, body, ir_task_index)
 *     body     = tuple of op
 *     op       = (kind, op_index, fields...)          kind: af_op_kind
 *
 * Fields per kind (None where ir.h says AF_NONE or "absent"; every enum is
 * its int value):
 *     sleep          ticks
 *     return         value
 *     raise          exc_kind, exc_id
 *     spawn          task, keep, group_name|None
 *     await          task_name
 *     cancel         target_name|None (None: the current task, AF_SELF),
 *                    msg|None, count, uncancel
 *     gather         tasks, return_exceptions          (tasks: tuple of task)
 *     task_group     name, tasks, body
 *     wait_for       timeout|None, body
 *     timeout        name, delay|None, at, body
 *     reschedule     timeout_name, delay|None
 *     shield         task
 *     wait           tasks, return_when, timeout|None, cancel_pending
 *     as_completed   tasks, timeout|None
 *     try            body, on_cancel, exc_kind, exc_id, on_error,
 *                    finally_body|None (None: no finally clause)
 *     except_star    body, match, reaction, exc_kind, exc_id
 *     hold           resource, release_sleep|None, body
 *     event_set, event_wait, cond_wait, queue_get     prim_name
 *     lock, semaphore                                 prim_name, body
 *     cond_notify    prim_name, n|None (None: notify_all())
 *     queue_put      prim_name, value
 *     nested_run     nested_kind
 *     block          ticks
 *     never_awaited  (no field)
 *
 * The same text is at the top of harness/py/interp.py: change both.
 */
#ifndef ASYNCFUZZ_PYOBJ_H
#define ASYNCFUZZ_PYOBJ_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "scenarios/ir.h"

/* A new reference to the scenario tuple, or NULL with a Python exception set
 * (MemoryError, or ValueError for an IR whose links or references are
 * broken: call af_scenario_validate first). Needs the GIL. */
PyObject *af_scenario_to_py(const af_scenario *s);

#endif
