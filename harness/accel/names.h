/* names.h - tables of interned names for the C modules of the harness
 * (probe_c.c, loop_c.c). Header only; no state of its own.
 *
 * A module lists its names once, as an X-macro, so ids and texts cannot
 * drift apart:
 *     #define MY_NAMES(X) X(N_foo, "foo") X(N_bar, "bar")
 *     AF_NAME_TABLE(MY_NAMES, N_COUNT, name_text)
 *     static PyObject *N[N_COUNT];
 * and interns them once the interpreter is up:
 *     af_intern_names(N, name_text, N_COUNT)
 */
#ifndef ASYNCFUZZ_NAMES_H
#define ASYNCFUZZ_NAMES_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define AF_NAME_ENUM_ITEM(id, text) id,
#define AF_NAME_TEXT_ITEM(id, text) text,

/* enum { ids..., COUNT }; static const char *const TEXT[COUNT] = {...}; */
#define AF_NAME_TABLE(LIST, COUNT, TEXT)                                                           \
    enum { LIST(AF_NAME_ENUM_ITEM) COUNT };                                                        \
    static const char *const TEXT[COUNT] = {LIST(AF_NAME_TEXT_ITEM)};

/* out[i] = the interned str text[i], for i < n: 0, or -1 with an
 * exception (the names made so far stay, as the process keeps them). */
static inline int af_intern_names(PyObject **out, const char *const *text, int n)
{
    for (int i = 0; i < n; i++)
        if (!(out[i] = PyUnicode_InternFromString(text[i])))
            return -1;
    return 0;
}

#endif
