/* bytes.h - fuzz bytes <-> scenario IR.
 *
 * af_decode turns ANY byte string into a valid scenario (total: it never
 * fails, never allocates, recurses at most AF_MAX_DEPTH + 2 deep and reads
 * at most a bounded number of bytes). af_encode is its inverse on valid
 * scenarios: for every scenario s that af_scenario_validate() accepts and
 * that needs no more than the draw flags d allow (af_draw_needed),
 *
 *     af_decode(af_encode(s, d), d)  is af_scenario_equal to  s.
 *
 * The byte format is a Hypothesis-style choice stream, described in
 * scenarios/BYTES.md: every byte is one choice, 0 is always the simplest
 * option, reading past the end yields 0, and repeated structure is drawn as
 * "while the next byte says more, draw one more", so deleting bytes or
 * lowering them simplifies the scenario.
 *
 * Only the program is encoded: description and expect are not part of the
 * byte format (af_decode leaves them empty).
 */
#ifndef ASYNCFUZZ_BYTES_H
#define ASYNCFUZZ_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenarios/ir.h"

/* An upper bound on af_encode's output for any valid scenario, derived from
 * the limits (see BYTES.md, "Size bound"):
 *   primitives: a stop byte, and per primitive more + kind + param and a
 *               name (flag + length + AF_MAX_NAME chars);
 *   tasks: per task a more byte, a name and its body's stop byte;
 *   ops: per op a more byte, a kind byte, a sub-kind byte and at most 48
 *        bytes of fields (the largest is cancel: 5 + AF_MAX_MSG). */
#define AF_ENCODE_NAME_BYTES (2 + AF_MAX_NAME)
#define AF_ENCODE_MAX_BYTES                                                                        \
    (1 + AF_MAX_PRIMITIVES * (3 + AF_ENCODE_NAME_BYTES) +                                          \
     AF_MAX_TASKS * (2 + AF_ENCODE_NAME_BYTES) + AF_MAX_OPS * (3 + 16 + AF_MAX_MSG))

/* What the decoder may draw, and the encoder encode (a bool true is
 * AF_DRAW_MISUSE): misuse operations and fields; loop-level operations
 * (ops.def's AF_OPF_LOOP kinds: they test a loop under test, and change
 * what every byte string decodes to, so they are drawn only when asked). */
#define AF_DRAW_MISUSE 0x1u
#define AF_DRAW_LOOP 0x2u
#define AF_DRAW_ALL (AF_DRAW_MISUSE | AF_DRAW_LOOP)

/* The flags a scenario needs: misuse if it has a misuse op, loop if a
 * loop-level op. */
unsigned af_draw_needed(const af_scenario *s);

/* Decode any byte string into *out (fully overwritten). Without
 * AF_DRAW_MISUSE the result contains no misuse op (af_scenario_has_misuse
 * is false), without AF_DRAW_LOOP no loop-level op. */
void af_decode(const uint8_t *data, size_t size, unsigned draw, af_scenario *out);

/* Encode a valid scenario into buf[0..cap). Returns 0 and sets *len, or -1
 * with err set when s is invalid, needs a flag draw lacks (af_draw_needed),
 * or buf is too small (cap >= AF_ENCODE_MAX_BYTES always suffices). err
 * may be NULL. */
int af_encode(const af_scenario *s, unsigned draw, uint8_t *buf, size_t cap, size_t *len,
              af_error *err);

/* ---- Internal: shared by decode.c and encode.c (not a public API). ---- */

/* Name characters: a name's first char is af_bytes_name_alpha[b % 53]
 * ([a-zA-Z_]), every other char af_bytes_name_alpha[b % 63] (the same
 * letters, then digits). */
#define AF_BYTES_NAME_FIRST 53
#define AF_BYTES_NAME_REST 63
extern const char af_bytes_name_alpha[];
/* Cancel message characters: every char af_valid_msg accepts (printable
 * ASCII but '"' and '\\'), letters first. */
#define AF_BYTES_MSG_CHARS 93
extern const char af_bytes_msg_alpha[];

/* The op-kind choice list in a context: af_op_kind order; the synchronisation
 * kinds collapse into one entry (AF_OP_EVENT_SET stands for it) present only
 * when nprims > 0; misuse kinds only with AF_DRAW_MISUSE, loop-level kinds
 * only with AF_DRAW_LOOP. Returns the length. */
int af_bytes_kind_list(unsigned draw, int nprims, af_op_kind list[AF_OP_KIND_COUNT]);
/* The choice list in a callback's body: the kinds that never wait, misuse
 * and loop kinds as above, a primitive's op only when the scenario has a
 * primitive of its kind (prim_kinds: bit k set when one of af_prim_kind k
 * exists; the op then draws which one of them). Returns the length. */
int af_bytes_callback_kind_list(unsigned draw, unsigned prim_kinds,
                                af_op_kind list[AF_OP_KIND_COUNT]);
/* The ops a primitive of kind `pk` offers, in af_op_kind order. */
int af_bytes_sync_ops(af_prim_kind pk, af_op_kind list[AF_OP_KIND_COUNT]);

/* Default names (buf holds AF_MAX_NAME + 1 bytes). */
enum {
    AF_BYTES_NAME_TASK,
    AF_BYTES_NAME_GROUP,
    AF_BYTES_NAME_TIMEOUT,
    AF_BYTES_NAME_HOLD,
    AF_BYTES_NAME_HANDLE
};
void af_bytes_default_name(char *buf, int what, int index);
/* Which default a name field gets: AF_BYTES_NAME_GROUP for a GROUP_NAME,
 * _TIMEOUT for a TIMEOUT_NAME, _HANDLE for a HANDLE_NAME, _HOLD for a
 * RESOURCE (af_field_codec). */
int af_bytes_name_kind(int codec);
void af_bytes_default_prim_name(char *buf, af_prim_kind kind, int index);

#endif
