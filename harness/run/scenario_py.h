/* scenario_py.h - the scenario as Python objects, for harness/py/interp.py.
 *
 * The hot path hands the IR to a small preloaded Python interpreter of
 * scenarios instead of compiling generated source (about 150 us per run):
 * the scenario becomes nested tuples of ints, strings, bools and None.
 *
 *     scenario = (prims, root_task[, cancellable])
 *     prims    = tuple of (name, prim_kind, param)    prim_kind: af_prim_kind
 *     task     = (name, body, ir_task_index)
 *     body     = tuple of op
 *     op       = (kind, op_index, fields...)          kind: af_op_kind
 *     cancellable = tuple of the names of the timeouts and task groups a
 *                cancel_scope op names (only when there is one)
 *
 * The fields are those of the kind's row of scenarios/ops.def, in its
 * order, each as its codec says (scenarios/ops.h: ints, None for AF_NONE or
 * absent, bools, enums as their int, an exception as two ints, names as
 * strings, child tasks and bodies as tuples). harness/py/interp.py's header
 * lists them per kind for the Python side.
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
