/* cli.h - the subcommands of the asyncfuzz binary.
 *
 * Each command takes its own argv (argv[0] is the command name), prints its
 * results to stdout and its errors to stderr once, and returns the exit
 * code: AF_EXIT_OK, AF_EXIT_FINDING (a finding, or a check that failed) or
 * AF_EXIT_USAGE (bad usage or bad input). Nothing below the CLI prints
 * errors or exits.
 */
#ifndef ASYNCFUZZ_CLI_H
#define ASYNCFUZZ_CLI_H

enum { AF_EXIT_OK = 0, AF_EXIT_FINDING = 1, AF_EXIT_USAGE = 2 };

typedef int (*af_command_fn)(int argc, char **argv);

struct af_command {
    const char *name;
    const char *summary; /* one line for `asyncfuzz --help` */
    af_command_fn run;
};

/* scenario commands: harness/cli/cli_scenario.c */
int af_cmd_show(int argc, char **argv);
int af_cmd_decode(int argc, char **argv);
int af_cmd_encode(int argc, char **argv);
int af_cmd_check(int argc, char **argv);

/* run commands: harness/cli/cli_run.c */
int af_cmd_run(int argc, char **argv);
int af_cmd_replay(int argc, char **argv);
int af_cmd_repro(int argc, char **argv);
int af_cmd_gen(int argc, char **argv);

/* fuzzing commands: harness/cli/cli_fuzz.c */
int af_cmd_fuzz(int argc, char **argv);
int af_cmd_minimize(int argc, char **argv);

/* Whether argv holds -h or --help. */
int af_wants_help(int argc, char **argv);

#endif
