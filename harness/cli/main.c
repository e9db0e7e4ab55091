/* main.c - the asyncfuzz binary: dispatches to one subcommand.
 *
 * Only usage errors, `asyncfuzz --help` and `asyncfuzz --version` are
 * handled here (and `--serve-runner`, the internal entry of a runner in a
 * process of its own, harness/run/remote.h: fds 3 and 4, never a user's); each command owns its options, output and exit code (see
 * cli.h), and its output is flushed here (af_cli_finish: a write error on
 * standard output is an error). The commands are the AF_COMMAND rows of
 * the option table.
 */
#include <stdio.h>
#include <string.h>

#include "base/file_io.h"
#include "harness/cli/cli.h"
#include "harness/run/remote.h"

static const af_command_fn functions[] = {
#define AF_COMMAND(name, flags, summary) af_cmd_##name,
#include "harness/options/options.def"
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: asyncfuzz COMMAND [ARGS]\n"
                 "       asyncfuzz --version\n\n"
                 "asyncfuzz fuzzes Python's asyncio: scenarios run on a virtual-time loop\n"
                 "inside embedded CPython and oracles judge each run.\n\ncommands:\n");
    for (int c = 0; c < AF_CMD_COUNT; c++)
        fprintf(out, "  %-8s %s\n", af_command((af_command_id)c)->name,
                af_command((af_command_id)c)->summary);
    fprintf(out, "\n`asyncfuzz COMMAND --help` describes one command.\n"
                 "exit codes: 0 ok, 1 finding or failed check, 2 usage or input error\n");
}

/* Standard output flushed: a write error is an error (exit 2). */
static int flushed(int code)
{
    af_error err;
    if (af_flush_stdout(&err) < 0) {
        fprintf(stderr, "asyncfuzz: %s\n", err.message);
        return AF_EXIT_USAGE;
    }
    return code;
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
        return flushed(AF_EXIT_OK);
    }
    if (strcmp(argv[1], "--serve-runner") == 0) /* internal: harness/run/remote.h */
        return af_remote_serve();
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        af_cli_print_version(stdout);
        return flushed(AF_EXIT_OK);
    }
    int c = af_command_find(argv[1]);
    if (c >= 0) /* the command's output flushed, a write error an error */
        return af_cli_finish((af_command_id)c, functions[c](argc - 1, argv + 1));
    fprintf(stderr, "asyncfuzz: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return AF_EXIT_USAGE;
}
