/* error.c - filling and formatting af_error (error.h). Must not print. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

void af_error_set(af_error *err, const char *path, const char *fmt, ...)
{
    if (!err)
        return;
    err->line = 0;
    err->column = 0;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void af_error_format(const af_error *e, const char *file, char *buf, size_t cap)
{
    if (!cap)
        return;
    char pos[32] = "";
    if (e->line > 0)
        snprintf(pos, sizeof pos, ":%d:%d", e->line, e->column);
    snprintf(buf, cap, "%s%s: %s%s%s", file ? file : "<input>", pos, e->path,
             e->path[0] ? ": " : "", e->message);
}
