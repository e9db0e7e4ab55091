/* oracles.c - the tables of base/oracles.def and their name lookups.
 *
 * Data only: no judging, no I/O.
 */
#include "base/oracles.h"

#include <stddef.h>
#include <string.h>

const af_oracle_def af_oracle_defs[AF_ORACLE_COUNT] = {
#define AF_ORACLE(id, name, judged, definition) {name, judged, definition},
#include "base/oracles.def"
};

const af_rule_def af_rule_defs[AF_RULE_COUNT] = {
#define AF_RULE(id, oracle, code, definition) {AF_ORACLE_##oracle, code, definition},
#include "base/oracles.def"
};

#define AF_CAUSE_OF_TARGET AF_CAUSE_TARGET
#define AF_CAUSE_OF_MISUSE AF_CAUSE_MISUSE
#define AF_CAUSE_OF_SCENARIO AF_CAUSE_SCENARIO
#define AF_CAUSE_OF_INHERITED AF_CAUSE_INHERITED
const af_cause_rule_def af_cause_rule_defs[AF_CAUSE_RULE_COUNT] = {
#define AF_CAUSE_RULE(id, cause, definition) {#id, AF_CAUSE_OF_##cause, definition},
#include "base/oracles.def"
};

const char *const af_cause_definitions[AF_CAUSE_COUNT] = {
#define AF_CAUSE(id, name, definition) definition,
#include "base/oracles.def"
};

const char *const af_oracle_names[AF_ORACLE_COUNT + 1] = {
#define AF_ORACLE(id, name, judged, definition) name,
#include "base/oracles.def"
    NULL,
};

const af_contract_def af_contract_defs[AF_CONTRACT_COUNT] = {
#define AF_CONTRACT(id, name, definition) {name, definition},
#include "base/oracles.def"
};

static const af_contract contract_of_rule[AF_RULE_COUNT] = {
#define AF_CONTRACT_RULE(contract, rule) [AF_RULE_##rule] = AF_CONTRACT_##contract,
#include "base/oracles.def"
};

af_contract af_contract_of_rule(af_rule rule)
{
    return (unsigned)rule < AF_RULE_COUNT ? contract_of_rule[rule] : AF_CONTRACT_COUNT;
}

int af_rule_from_code(af_oracle oracle, const char *code)
{
    for (int r = 0; code && r < AF_RULE_COUNT; r++)
        if (af_rule_defs[r].oracle == oracle && strcmp(af_rule_defs[r].code, code) == 0)
            return r;
    return -1;
}

static const char *const cause_names[AF_CAUSE_COUNT] = {
#define AF_CAUSE(id, name, definition) name,
#include "base/oracles.def"
};

static int index_of(const char *const *names, int count, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *af_oracle_name(af_oracle o)
{
    return (unsigned)o < AF_ORACLE_COUNT ? af_oracle_names[o] : NULL;
}

int af_oracle_from_name(const char *name)
{
    return index_of(af_oracle_names, AF_ORACLE_COUNT, name);
}

bool af_oracle_known(const char *name)
{
    return af_oracle_from_name(name) >= 0;
}

const char *af_cause_name(af_cause c)
{
    return (unsigned)c < AF_CAUSE_COUNT ? cause_names[c] : NULL;
}

int af_cause_from_name(const char *name)
{
    return index_of(cause_names, AF_CAUSE_COUNT, name);
}
