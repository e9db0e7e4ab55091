/* json.h - scenario files: JSON text <-> scenario IR (format: SCHEMA.md).
 *
 * Reading is strict. The text is first checked against the JSON grammar by
 * our own scanner (cJSON is lenient: it takes leading zeros, turns 1e999
 * into inf, and its error pointer is only approximate, see json_locate.c),
 * then parsed by cJSON, then walked field by field into the IR. Every error
 * carries the JSON path of the offending value (e.g.
 * `main.body[2].task.body[0].ticks`) and its line and column in the text,
 * located by walking the raw text along the cJSON tree (cJSON keeps no
 * positions). Unknown operations and fields, wrong types, out-of-range
 * values, duplicate keys or names, dangling references and exceeded limits
 * are all errors: nothing is guessed and nothing is dropped. The result is
 * checked with af_scenario_validate() before it is returned.
 *
 * Writing produces the canonical form of SCHEMA.md: the same IR always gives
 * the same bytes, and read(write(s)) equals s.
 *
 * Error format (af_error_format of base/error.h, used by the CLI):
 *     FILE:LINE:COL: PATH: MESSAGE
 * where LINE and COL are 1-based (COL counts bytes), ":LINE:COL" is left out
 * when the position is unknown (I/O errors, file too large) and "PATH: " is
 * left out when the error is not about one field (JSON syntax errors, the
 * top level not being an object).
 */
#ifndef ASYNCFUZZ_JSON_H
#define ASYNCFUZZ_JSON_H

#include <stddef.h>

#include "scenarios/ir.h"

/* Largest scenario text accepted, in bytes. The biggest scenario the limits
 * allow is a few tens of KiB in canonical form. */
#define AF_JSON_MAX_BYTES (1024 * 1024)
/* Deepest nesting of JSON arrays and objects accepted by the syntax check
 * (deeper than any scenario within AF_MAX_DEPTH needs). */
#define AF_JSON_MAX_NESTING 64

/* Parse `len` bytes of `text` (no terminating NUL needed) into `out`.
 * Returns 0, or -1 with `err` set and `out` reset to af_scenario_init(). */
int af_json_read(const char *text, size_t len, af_scenario *out, af_error *err);

/* Read the file at `path` ("-": standard input) and parse it. */
int af_json_read_file(const char *path, af_scenario *out, af_error *err);

/* The canonical text of `s`, ending in "\n"; malloc'd, the caller frees it.
 * NULL when memory runs out. `s` must be valid (af_scenario_validate). */
char *af_json_write(const af_scenario *s);

/* ---- helpers shared by json_read.c and the tests (json_locate.c) ---- */

/* Check that text[0..len) is exactly one JSON value (RFC 8259) with only
 * whitespace around it, nesting at most AF_JSON_MAX_NESTING, strings valid
 * UTF-8 without "\u0000". Returns 0, or -1 with *offset set to the byte
 * offset of the problem and `msg` filled. */
int af_json_syntax_check(const char *text, size_t len, size_t *offset, char *msg, size_t cap);

struct cJSON;
/* Byte offset in `text` (the text `root` was parsed from) of the value
 * `target` (a node of the tree `root`), and when `target` is an object
 * member, of its key (else *key_offset = *value_offset). Returns 0, or -1
 * when `target` is not in the tree. */
int af_json_locate(const char *text, size_t len, const struct cJSON *root,
                   const struct cJSON *target, size_t *value_offset, size_t *key_offset);

/* 1-based line and byte column of `offset` in text. */
void af_json_line_col(const char *text, size_t len, size_t offset, int *line, int *column);

#endif
