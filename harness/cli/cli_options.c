/* cli_options.c - what every command does first (cli.h): its options from
 * the table (harness/options/options.h), --help and --version, and the
 * usage errors, printed once in one format. Nothing here runs a scenario.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/run/embed.h"

#ifndef AF_VERSION
#define AF_VERSION "unknown"
#endif
#ifndef AF_BUILD
#define AF_BUILD "unknown"
#endif

static void print_help(af_command_id cmd, const af_cli_help *help)
{
    printf("usage: asyncfuzz %s\n\n%s\n", help->usage, help->above);
    af_options_print_help(stdout, cmd);
    if (help->below)
        printf("\n%s", help->below);
}

void af_cli_print_version(FILE *out)
{
    char python[1200];
    af_embed_describe(python, sizeof python);
    fprintf(out, "asyncfuzz %s\nembedded interpreter: %s\nbuild: %s\n", AF_VERSION, python,
            AF_BUILD);
}

int af_cli_usage_error(af_command_id cmd, const char *fmt, ...)
{
    const char *name = af_command(cmd)->name;
    va_list ap;
    fprintf(stderr, "asyncfuzz %s: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(`asyncfuzz %s --help` lists the options)\n", name);
    return AF_EXIT_USAGE;
}

/* The positional arguments: between help->min_args and help->max_args. */
static int check_args(af_command_id cmd, const af_cli_help *help, const af_options *o)
{
    if (o->nargs < help->min_args)
        return af_cli_usage_error(cmd, "no %s given", help->args);
    if (help->max_args >= 0 && o->nargs > help->max_args) {
        if (help->max_args == 0)
            return af_cli_usage_error(cmd, "unexpected argument '%s'", o->args[0]);
        return af_cli_usage_error(cmd, "one %s only (got '%s' and '%s')", help->args, o->args[0],
                                  o->args[1]);
    }
    return AF_CLI_GO;
}

int af_cli_options(af_command_id cmd, const af_cli_help *help, int argc, char **argv, af_options *o)
{
    af_error err;
    af_options_default(o);
    if (((af_command(cmd)->flags & AF_CMDF_ENV) && af_options_from_env(o, &err) < 0) ||
        af_options_parse(o, cmd, argc, argv, &err) < 0) {
        if (err.path[0])
            return af_cli_usage_error(cmd, "%s: %s", err.path, err.message);
        return af_cli_usage_error(cmd, "%s", err.message);
    }
    if (o->help) {
        print_help(cmd, help);
        return AF_EXIT_OK;
    }
    if (o->version) {
        af_cli_print_version(stdout);
        return AF_EXIT_OK;
    }
    return check_args(cmd, help, o);
}

void af_cli_self_dir(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0) {
        snprintf(buf, cap, ".");
        return;
    }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
}

int af_cli_find_engine(af_command_id cmd, char *bin, size_t cap, const char *name,
                       const char *label, const char *how)
{
    char dir[4096];
    af_cli_self_dir(dir, sizeof dir);
    snprintf(bin, cap, "%s/%s", dir, name);
    if (access(bin, X_OK) == 0)
        return 0;
    fprintf(stderr,
            "asyncfuzz %s: the %s engine is not built: %s does not exist.\n"
            "%s%s.\n",
            af_command(cmd)->name, label, bin, how,
            cmd == AF_CMD_fuzz ? ", or use --engine builtin" : "");
    return -1;
}
