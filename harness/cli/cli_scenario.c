/* cli_scenario.c - the scenario commands: show, check, decode, encode.
 *
 * These need no interpreter: they read scenario files or fuzz bytes, and
 * print trees, JSON or bytes. Errors are printed here, once, in the format
 * of af_error_format (FILE:LINE:COL: PATH: MESSAGE); exit codes follow
 * cli.h. Nothing here runs a scenario.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/file_io.h"
#include "harness/cli/cli.h"
#include "scenarios/bytes.h"
#include "scenarios/json.h"
#include "scenarios/show.h"

static void print_error(const char *file, const af_error *err)
{
    char buf[600];
    af_error_format(err, file, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
}

static af_scenario *new_scenario(void)
{
    af_scenario *s = malloc(sizeof *s);
    if (!s)
        fprintf(stderr, "asyncfuzz: out of memory\n");
    return s;
}

/* Reads a fuzz input file and decodes it. */
static int load_bytes(const char *path, bool misuse, af_scenario *s)
{
    char *data = NULL;
    size_t len = 0;
    af_error err;
    if (af_read_file(path, AF_READ_MAX_BYTES, &data, &len, &err) < 0) {
        print_error(path, &err);
        return -1;
    }
    af_decode((const uint8_t *)data, len, misuse, s);
    free(data);
    return 0;
}

static int load_scenario(const char *path, bool bytes, bool misuse, af_scenario *s)
{
    if (bytes)
        return load_bytes(path, misuse, s);
    af_error err;
    if (af_json_read_file(path, s, &err) < 0) {
        print_error(path, &err);
        return -1;
    }
    return 0;
}

static const af_cli_help show_help = {
    .usage = "show [--bytes [--misuse]] FILE|-",
    .args = "FILE",
    .min_args = 1,
    .max_args = 1,
    .above = "Print a scenario as an indented tree: tasks, primitives, durations in\n"
             "virtual ticks, handlers, and misuse flagged with '!! misuse'.\n",
};

int af_cmd_show(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_show, &show_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    af_scenario *s = new_scenario();
    if (!s)
        return AF_EXIT_USAGE;
    rc = load_scenario(o.args[0], o.bytes, o.misuse, s) < 0 ? AF_EXIT_USAGE : AF_EXIT_OK;
    if (rc == AF_EXIT_OK)
        af_show(s, stdout);
    free(s);
    return rc;
}

static const af_cli_help check_help = {
    .usage = "check [--canonical] FILE|DIR...",
    .args = "FILE or DIR",
    .min_args = 1,
    .max_args = -1,
    .above = "Validate scenario files (a DIR means every *.json in it). Every file is\n"
             "checked; each error is printed as FILE:LINE:COL: PATH: MESSAGE.\n",
    .below = "exit: 0 all valid, 1 a file is valid but not canonical, 2 a file is invalid,\n"
             "unreadable, or a DIR holds no *.json file\n",
};

/* 0 valid and canonical (when asked), 1 not canonical, 2 invalid. */
static int check_one(const char *path, bool canonical, af_scenario *s)
{
    char *text = NULL;
    size_t len = 0;
    af_error err;
    if (af_read_file(path, AF_JSON_MAX_BYTES, &text, &len, &err) < 0) {
        print_error(path, &err);
        return AF_EXIT_USAGE;
    }
    int rc = AF_EXIT_OK;
    if (af_json_read(text, len, s, &err) < 0) {
        print_error(path, &err);
        rc = AF_EXIT_USAGE;
    } else if (canonical) {
        char *out = af_json_write(s);
        if (!out || strlen(out) != len || memcmp(out, text, len) != 0) {
            fprintf(stderr, "%s: not in canonical form (see `asyncfuzz check --help`)\n", path);
            rc = AF_EXIT_FINDING;
        }
        free(out);
    }
    free(text);
    return rc;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Every argument's files into `files`; a folder without a *.json file is
 * an error (counted in *empty, message printed). 0, or -1 when an argument
 * cannot be read. */
static int list_check_files(const af_options *o, af_path_list *files, int *empty)
{
    for (int i = 0; i < o->nargs; i++) {
        size_t before = files->count;
        if (af_path_list_add_arg(files, o->args[i], ".json") < 0) {
            fprintf(stderr, "asyncfuzz check: %s: %s\n", o->args[i], strerror(errno));
            return -1;
        }
        if (files->count == before && is_dir(o->args[i])) {
            fprintf(stderr, "asyncfuzz check: %s: no *.json file in this folder\n", o->args[i]);
            (*empty)++;
        }
    }
    return 0;
}

int af_cmd_check(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_check, &check_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    af_path_list files = {0};
    int empty = 0;
    if (list_check_files(&o, &files, &empty) < 0) {
        af_path_list_free(&files);
        return AF_EXIT_USAGE;
    }
    af_scenario *s = files.count ? new_scenario() : NULL;
    int worst = empty ? AF_EXIT_USAGE : AF_EXIT_OK, bad = 0;
    for (size_t i = 0; s && i < files.count; i++) {
        int one = check_one(files.paths[i], o.canonical, s);
        bad += one != AF_EXIT_OK;
        if (one > worst)
            worst = one;
    }
    if (s)
        printf("%zu checked, %d with errors\n", files.count, bad);
    else
        worst = AF_EXIT_USAGE;
    free(s);
    af_path_list_free(&files);
    return worst;
}

static const af_cli_help decode_help = {
    .usage = "decode [--misuse] FILE|-",
    .args = "FILE",
    .min_args = 1,
    .max_args = 1,
    .above = "Decode a fuzz input (bytes) into a scenario and print its canonical JSON.\n"
             "Every byte string decodes to a valid scenario. Without --misuse the\n"
             "decoding is the one the implementation fuzz targets use.\n",
};

int af_cmd_decode(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_decode, &decode_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    af_scenario *s = new_scenario();
    if (!s || load_bytes(o.args[0], o.misuse, s) < 0) {
        free(s);
        return AF_EXIT_USAGE;
    }
    char *text = af_json_write(s);
    free(s);
    if (!text) {
        fprintf(stderr, "asyncfuzz decode: out of memory\n");
        return AF_EXIT_USAGE;
    }
    fputs(text, stdout);
    free(text);
    return AF_EXIT_OK;
}

static const af_cli_help encode_help = {
    .usage = "encode [--misuse] [-o OUT] FILE|-",
    .args = "FILE",
    .min_args = 1,
    .max_args = 1,
    .above = "Encode a scenario JSON file into fuzz bytes (a seed for the fuzzers),\n"
             "written to OUT or standard output. `encode F | decode -` gives back F's\n"
             "program (description and expected verdicts are not part of the bytes).\n"
             "--misuse is required when the scenario has misuse operations.\n",
};

int af_cmd_encode(int argc, char **argv)
{
    af_options o;
    int rc = af_cli_options(AF_CMD_encode, &encode_help, argc, argv, &o);
    if (rc != AF_CLI_GO)
        return rc;
    const char *in = o.args[0];
    af_scenario *s = new_scenario();
    uint8_t *buf = malloc(AF_ENCODE_MAX_BYTES);
    size_t len = 0;
    af_error err;
    rc = AF_EXIT_USAGE;
    if (!s || !buf)
        fprintf(stderr, "asyncfuzz encode: out of memory\n");
    else if (load_scenario(in, false, false, s) < 0)
        rc = AF_EXIT_USAGE;
    else if (af_encode(s, o.misuse, buf, AF_ENCODE_MAX_BYTES, &len, &err) < 0)
        print_error(in, &err);
    else if (af_write_file(o.out_file, buf, len, &err) < 0) {
        if (o.out_file)
            print_error(o.out_file, &err);
        else
            fprintf(stderr, "asyncfuzz encode: %s\n", err.message);
    } else
        rc = AF_EXIT_OK;
    free(s);
    free(buf);
    return rc;
}
