/* cli_campaign.h - what `fuzz` and `gen` do around a run on a campaign
 * folder (docs/campaigns.md), whatever the engine:
 *
 *   at the start (af_cli_campaign_begin): --out (a default outside any
 *   checkout, printed; an --out inside this build's source tree refused),
 *   the known-defect lists (reports/baseline.h), campaign.json checked (a
 *   resume with other settings is refused, naming each difference), the
 *   findings store repaired, the lines of killed runs in history.jsonl
 *   completed, the store's counts noted, the run's first history line;
 *
 *   at the end (af_cli_campaign_end): the signatures the run met (folders
 *   that appeared or whose count grew), every folder labelled known / new,
 *   each new finding's repro.py run under the --python interpreters
 *   (meta.json's reproduces_on), the run's history line, a summary on
 *   stderr (new first, then known with their issues, then what is new
 *   since the last run), and the exit code: 0 nothing new, 1 a new
 *   signature, 2 a setup error with nothing found.
 *
 * The command's own work (the engines, gen's loop) happens in between.
 * Prints its messages once, to stderr; never exits.
 */
#ifndef ASYNCFUZZ_CLI_CAMPAIGN_H
#define ASYNCFUZZ_CLI_CAMPAIGN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness/cli/cli.h"
#include "reports/baseline.h"
#include "reports/campaign.h"
#include "reports/findings.h"

typedef struct af_cli_campaign {
    af_command_id cmd;
    const char *name; /* "fuzz", "gen" */
    char out[PATH_MAX];
    char findings[PATH_MAX + 16];
    char stats_dir[PATH_MAX + 128]; /* OUT/stats/<run-id>; "" when the command has none */
    char target[PATH_MAX];          /* as campaign.json records it */
    af_baseline *baseline;
    af_findings_tally before;
    af_campaign_run run;
    const af_files *pythons;
    double repro_timeout;
    bool quiet;
} af_cli_campaign;

/* What the run did, for history.jsonl. */
typedef struct af_cli_figures {
    uint64_t execs;
    double seconds;
    bool has_features; /* the engines; gen has none */
    uint64_t features, corpus;
} af_cli_figures;

/* The start (see above) for command cmd with engine ("builtin", ...,
 * "gen") and jobs: o's --out is set to the folder chosen. Returns
 * AF_CLI_GO, or AF_EXIT_USAGE after printing why (c then needs no end). */
int af_cli_campaign_begin(af_cli_campaign *c, af_command_id cmd, af_options *o, const char *engine,
                          int jobs);

/* The end (see above). setup_failed: the command could not run as asked
 * (an engine that did not start, a harness failure). Returns the exit
 * code; c is released. */
int af_cli_campaign_end(af_cli_campaign *c, const af_cli_figures *fig, bool setup_failed);

#endif
