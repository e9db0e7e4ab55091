/* oracles.h - the oracles, their rules, the causes and the cause rules, as
 * enums and tables generated from base/oracles.def (the one list: read the
 * definitions there, or in docs/ORACLES.md).
 *
 * In base/ because every stage names oracles: scenario files expect them
 * (scenarios/ validates `expect`), the oracles fire them, reports and the
 * CLI print them. Data and name lookups only: judging is oracles/' job.
 */
#ifndef ASYNCFUZZ_ORACLES_H
#define ASYNCFUZZ_ORACLES_H

#include <stdbool.h>

typedef enum af_cause {
#define AF_CAUSE(id, name, definition) AF_CAUSE_##id,
#include "base/oracles.def"
    AF_CAUSE_COUNT
} af_cause;

typedef enum af_oracle {
#define AF_ORACLE(id, name, judged, definition) AF_ORACLE_##id,
#include "base/oracles.def"
    AF_ORACLE_COUNT
} af_oracle;

typedef enum af_rule {
#define AF_RULE(id, oracle, code, definition) AF_RULE_##id,
#include "base/oracles.def"
    AF_RULE_COUNT
} af_rule;

typedef enum af_cause_rule {
#define AF_CAUSE_RULE(id, cause, definition) AF_CR_##id,
#include "base/oracles.def"
    AF_CAUSE_RULE_COUNT
} af_cause_rule;

typedef enum af_contract {
#define AF_CONTRACT(id, name, definition) AF_CONTRACT_##id,
#include "base/oracles.def"
    AF_CONTRACT_COUNT
} af_contract;

typedef struct af_contract_def {
    const char *name; /* "cancellation-delivered"... */
    const char *definition;
} af_contract_def;
extern const af_contract_def af_contract_defs[AF_CONTRACT_COUNT];
/* The contract a rule's verdicts break (every rule has one). */
af_contract af_contract_of_rule(af_rule rule);
/* The rule of an oracle by the code in signatures ("external-timeout"),
 * -1 when unknown. */
int af_rule_from_code(af_oracle oracle, const char *code);

/* The cause column of a cause rule that passes on a cause another rule
 * decided (a leak's, a deadlock's). */
#define AF_CAUSE_INHERITED (-1)

typedef struct af_oracle_def {
    const char *name;       /* "leaked-task", "cancellation.swallowed"... */
    bool judged;            /* af_judge runs it */
    const char *definition; /* one line */
} af_oracle_def;

typedef struct af_rule_def {
    af_oracle oracle;
    const char *code; /* the reason in the signature text */
    const char *definition;
} af_rule_def;

typedef struct af_cause_rule_def {
    const char *id; /* the row's ID, "LEAK_GATHER_RAISED" */
    int cause;      /* af_cause, or AF_CAUSE_INHERITED */
    const char *definition;
} af_cause_rule_def;

extern const af_oracle_def af_oracle_defs[AF_ORACLE_COUNT];
extern const af_rule_def af_rule_defs[AF_RULE_COUNT];
extern const af_cause_rule_def af_cause_rule_defs[AF_CAUSE_RULE_COUNT];
/* The causes' definitions, in af_cause order. */
extern const char *const af_cause_definitions[AF_CAUSE_COUNT];

/* Oracle names in af_oracle order, NULL-terminated (the names a scenario
 * file may expect). */
extern const char *const af_oracle_names[AF_ORACLE_COUNT + 1];

/* Names: NULL / -1 when unknown. */
const char *af_oracle_name(af_oracle o);
int af_oracle_from_name(const char *name);
bool af_oracle_known(const char *name);
/* "target", "misuse", "scenario". */
const char *af_cause_name(af_cause c);
int af_cause_from_name(const char *name);

#endif
