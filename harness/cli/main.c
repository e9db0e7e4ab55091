/* main.c - the asyncfuzz binary: dispatches to one subcommand.
 *
 * Only usage errors are handled here; each command owns its own options,
 * output and exit code (see cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "harness/cli/cli.h"

static const struct af_command commands[] = {
    {"show", "print a scenario as an indented tree", af_cmd_show},
    {"check", "validate scenario files, reporting every error with its position", af_cmd_check},
    {"decode", "fuzz bytes -> scenario JSON", af_cmd_decode},
    {"encode", "scenario JSON -> fuzz bytes", af_cmd_encode},
    {"run", "run one scenario and print its verdicts", af_cmd_run},
    {"replay", "run scenario files and compare with their expected verdicts", af_cmd_replay},
    {"repro", "print the standalone Python program of a scenario", af_cmd_repro},
    {"gen", "draw random scenarios, run them, report findings", af_cmd_gen},
    {"fuzz", "coverage-guided fuzzing: builtin, libFuzzer or AFL++ engine", af_cmd_fuzz},
    {"minimize", "shrink a finding while its verdict signature stays", af_cmd_minimize},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: asyncfuzz COMMAND [ARGS]\n\n"
                 "asyncfuzz fuzzes Python's asyncio: scenarios run on a virtual-time loop\n"
                 "inside embedded CPython and oracles judge each run.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`asyncfuzz COMMAND --help` describes one command.\n"
                 "exit codes: 0 ok, 1 finding or failed check, 2 usage or input error\n");
}

int af_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return AF_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return AF_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "asyncfuzz: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return AF_EXIT_USAGE;
}
