/* cli.h - the subcommands of the asyncfuzz binary.
 *
 * The commands are the AF_COMMAND rows of harness/options/options.def;
 * each is af_cmd_<name>, takes its own argv (argv[0] is the command name),
 * prints its results to stdout and its errors to stderr once, and returns
 * the exit code: AF_EXIT_OK, AF_EXIT_FINDING (a finding, or a check that
 * failed) or AF_EXIT_USAGE (bad usage or bad input). Nothing below the CLI
 * prints errors or exits.
 *
 * Every command starts with af_cli_options: its options parsed from the
 * table, --help (the command's prose around the option list the table
 * generates) and --version answered.
 */
#ifndef ASYNCFUZZ_CLI_H
#define ASYNCFUZZ_CLI_H

#include <stdio.h>

#include "harness/options/options.h"

enum { AF_EXIT_OK = 0, AF_EXIT_FINDING = 1, AF_EXIT_USAGE = 2 };

typedef int (*af_command_fn)(int argc, char **argv);

/* af_cmd_show, af_cmd_run ...: harness/cli/cli_scenario.c (show, check,
 * decode, encode), cli_run.c (run, replay, repro, gen), cli_fuzz.c (fuzz,
 * minimize). */
#define AF_COMMAND(name, flags, summary) int af_cmd_##name(int argc, char **argv);
#include "harness/options/options.def"

/* What a command takes besides its options, and its --help: "usage:
 * asyncfuzz USAGE", the prose above, the option list (from the table), the
 * prose below (NULL: none). */
typedef struct af_cli_help {
    const char *usage;
    const char *args; /* what the positional arguments are, for messages */
    int min_args;     /* how many it takes */
    int max_args;     /* -1: no limit */
    const char *above;
    const char *below;
} af_cli_help;

/* af_cli_options' "go on": any other value is the exit code. */
#define AF_CLI_GO (-1)

/* The options and arguments of command cmd into o: the table's defaults,
 * the environment (commands flagged AF_CMDF_ENV), then argv; the number
 * of positional arguments checked. Answers --help and --version. Returns
 * AF_CLI_GO, or the exit code after printing the help, the version or the
 * error. */
int af_cli_options(af_command_id cmd, const af_cli_help *help, int argc, char **argv,
                   af_options *o);

/* "asyncfuzz CMD: MESSAGE" and the pointer to --help on stderr; returns
 * AF_EXIT_USAGE. */
int af_cli_usage_error(af_command_id cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The process's runner for a target ("" or "asyncio": stock asyncio; a
 * built-in name or an adapter file), made on first use with the options
 * o (its target replaced): NULL after printing the error (the adapter's
 * traceback when it does not load). cli_run.c. */
struct af_runner;
struct af_runner_options;
struct af_runner *af_cli_runner(const char *cmd, const struct af_runner_options *o,
                                const char *target);

/* The end of a command that ran scenarios: every runner's adapter
 * teardown (a failing one makes the exit code AF_EXIT_USAGE, its error
 * printed), Python's and C's output flushed. Returns the exit code. */
int af_cli_finish(const char *cmd, int code);

/* A file or folder of the source tree (rel: "corpus/asyncio.dict",
 * "scenarios/catalog"): rel itself when it exists from here, else beside
 * the build folder holding this executable (BUILD/../rel); NULL when
 * neither exists. cli_fuzz.c. */
const char *af_cli_source_path(const char *rel, char *buf, size_t cap);

/* `asyncfuzz --version`: asyncfuzz's version, the interpreter it embeds,
 * the build. */
void af_cli_print_version(FILE *out);

#endif
