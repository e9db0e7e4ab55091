/* crash_site.c - one abort site per signature family (crash_site.h). */
#include "harness/engines/crash_site.h"

#include <stdlib.h>
#include <string.h>

/* Each site stores its own number before it aborts: no two bodies are
 * alike, so no linker or compiler folds them into one. */
#define SITE(name, number)                                                                         \
    __attribute__((noinline, noreturn, used)) void name(void);                                     \
    void name(void)                                                                                \
    {                                                                                              \
        volatile int site = (number);                                                              \
        (void)site;                                                                                \
        abort();                                                                                   \
    }
#define AF_RULE(id, oracle, code, definition) SITE(asyncfuzz_finding_##id, AF_RULE_##id + 1)
#include "base/oracles.def"
SITE(asyncfuzz_finding_unknown_rule, -1)
SITE(asyncfuzz_harness_error, -2)
#undef SITE

int af_verdict_rule(const af_verdict *v)
{
    /* the code: the third '|'-separated field */
    const char *p = strchr(v->signature_text, '|');
    p = p ? strchr(p + 1, '|') : NULL;
    if (!p)
        return -1;
    p++;
    size_t n = strcspn(p, "|");
    for (int r = 0; r < AF_RULE_COUNT; r++)
        if (af_rule_defs[r].oracle == v->oracle && strlen(af_rule_defs[r].code) == n &&
            strncmp(af_rule_defs[r].code, p, n) == 0)
            return r;
    return -1;
}

void af_crash_site(const af_verdict *v)
{
    if (!v)
        asyncfuzz_harness_error();
    switch (af_verdict_rule(v)) {
#define AF_RULE(id, oracle, code, definition)                                                      \
    case AF_RULE_##id:                                                                             \
        asyncfuzz_finding_##id();
#include "base/oracles.def"
    default:
        asyncfuzz_finding_unknown_rule();
    }
}
