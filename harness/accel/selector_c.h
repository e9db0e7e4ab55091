/* selector_c.h - virtual time for a loop under test, in C (the module
 * `_af_selector`, harness/accel/selector_c.c).
 *
 * harness/py/loops.py puts a loop written in Python on virtual time with a
 * VirtualSelector (select() is the clock) and handles whose _run reports
 * slow callbacks. Embedded, it replaces those two methods with these C
 * twins; a reproducer (plain python) keeps the Python ones, and both give
 * the same traces.
 */
#ifndef ASYNCFUZZ_SELECTOR_C_H
#define ASYNCFUZZ_SELECTOR_C_H

/* Create the module and enter it in sys.modules as `_af_selector`. Call
 * with the interpreter initialised, before loops.py is imported. Returns
 * 0, or -1 with a Python exception set. */
int af_selector_c_register(void);

#endif
