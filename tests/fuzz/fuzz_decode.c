/* fuzz_decode.c - libFuzzer target for the bytes <-> IR codec.
 *
 * For every input, with misuse off and on: af_decode must give a scenario
 * that validates, stays within every limit and (misuse off) has no misuse
 * op; af_encode must accept it; and decoding the encoding must give the
 * same scenario back. Any violation aborts with a message. */
#include <stdio.h>
#include <stdlib.h>

#include "scenarios/bytes.h"

static af_scenario s1, s2;
static uint8_t buf[AF_ENCODE_MAX_BYTES];

static void die(const char *what, bool misuse, const af_error *err)
{
    fprintf(stderr, "fuzz_decode: %s (misuse %s)%s%s%s%s\n", what, misuse ? "on" : "off",
            err ? ": " : "", err ? err->path : "", err ? ": " : "", err ? err->message : "");
    abort();
}

static void round_trip(const af_scenario *s, bool misuse)
{
    af_error err = {0};
    size_t len = 0;
    if (af_encode(s, misuse, buf, sizeof buf, &len, &err) != 0)
        die("encode failed", misuse, &err);
    if (len > AF_ENCODE_MAX_BYTES)
        die("encoding longer than AF_ENCODE_MAX_BYTES", misuse, NULL);
    af_decode(buf, len, misuse, &s2);
    if (!af_scenario_equal(s, &s2))
        die("decode(encode(s)) != s", misuse, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int m = 0; m < 2; m++) {
        bool misuse = m == 1;
        af_decode(data, size, misuse, &s1);
        af_error err = {0};
        if (af_scenario_validate(&s1, &err) != 0)
            die("decoded scenario does not validate", misuse, &err);
        /* validate checks every limit (counts, depth, total ticks); the
         * unit test checks them one by one as well */
        if (!misuse && af_scenario_has_misuse(&s1))
            die("misuse op decoded with misuse off", misuse, NULL);
        round_trip(&s1, misuse);
        /* a misuse-free scenario also encodes with misuse on */
        if (!misuse)
            round_trip(&s1, true);
    }
    return 0;
}
