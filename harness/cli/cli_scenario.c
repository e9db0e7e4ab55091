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

static const char show_help[] =
    "usage: asyncfuzz show [--bytes [--misuse]] FILE|-\n\n"
    "Print a scenario as an indented tree: tasks, primitives, durations in\n"
    "virtual ticks, handlers, and misuse flagged with '!! misuse'.\n\n"
    "  --bytes    FILE is a fuzz input (bytes), not a scenario JSON file\n"
    "  --misuse   with --bytes: decode with misuse operations allowed\n";

int af_cmd_show(int argc, char **argv)
{
    bool bytes = false, misuse = false;
    const char *path = NULL;
    if (af_wants_help(argc, argv)) {
        fputs(show_help, stdout);
        return AF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0)
            bytes = true;
        else if (strcmp(argv[i], "--misuse") == 0)
            misuse = true;
        else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
            path = argv[i];
        else {
            fprintf(stderr, "asyncfuzz show: unexpected argument '%s'\n%s", argv[i], show_help);
            return AF_EXIT_USAGE;
        }
    }
    if (!path) {
        fputs(show_help, stderr);
        return AF_EXIT_USAGE;
    }
    af_scenario *s = new_scenario();
    if (!s)
        return AF_EXIT_USAGE;
    int rc = load_scenario(path, bytes, misuse, s) < 0 ? AF_EXIT_USAGE : AF_EXIT_OK;
    if (rc == AF_EXIT_OK)
        af_show(s, stdout);
    free(s);
    return rc;
}

static const char check_help[] =
    "usage: asyncfuzz check [--canonical] FILE|DIR...\n\n"
    "Validate scenario files (a DIR means every *.json in it). Every file is\n"
    "checked; each error is printed as FILE:LINE:COL: PATH: MESSAGE.\n\n"
    "  --canonical  also require each file to be in canonical form\n"
    "               (byte-identical to what asyncfuzz writes)\n\n"
    "exit: 0 all valid, 1 a file is valid but not canonical, 2 a file is invalid\n";

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

int af_cmd_check(int argc, char **argv)
{
    bool canonical = false;
    if (af_wants_help(argc, argv)) {
        fputs(check_help, stdout);
        return AF_EXIT_OK;
    }
    af_path_list files = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--canonical") == 0)
            canonical = true;
        else if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
            fprintf(stderr, "asyncfuzz check: unknown option '%s'\n%s", argv[i], check_help);
            af_path_list_free(&files);
            return AF_EXIT_USAGE;
        } else if (af_path_list_add_arg(&files, argv[i], ".json") < 0) {
            fprintf(stderr, "asyncfuzz check: %s: %s\n", argv[i], strerror(errno));
            af_path_list_free(&files);
            return AF_EXIT_USAGE;
        }
    }
    if (files.count == 0) {
        fputs(check_help, stderr);
        return AF_EXIT_USAGE;
    }
    af_scenario *s = new_scenario();
    int worst = AF_EXIT_OK, bad = 0;
    for (size_t i = 0; s && i < files.count; i++) {
        int rc = check_one(files.paths[i], canonical, s);
        bad += rc != AF_EXIT_OK;
        if (rc > worst)
            worst = rc;
    }
    if (s)
        printf("%zu checked, %d with errors\n", files.count, bad);
    free(s);
    af_path_list_free(&files);
    return s ? worst : AF_EXIT_USAGE;
}

static const char decode_help[] =
    "usage: asyncfuzz decode [--misuse] FILE|-\n\n"
    "Decode a fuzz input (bytes) into a scenario and print its canonical JSON.\n"
    "Every byte string decodes to a valid scenario.\n\n"
    "  --misuse   allow misuse operations (as `gen --misuse` does); without it\n"
    "             the decoding is the one the implementation fuzz targets use\n";

static int parse_io_args(int argc, char **argv, const char *help, bool *misuse, const char **in,
                         const char **out)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--misuse") == 0)
            *misuse = true;
        else if (out && strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            *out = argv[++i];
        else if (!*in && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
            *in = argv[i];
        else {
            fprintf(stderr, "asyncfuzz %s: unexpected argument '%s'\n%s", argv[0], argv[i], help);
            return -1;
        }
    }
    if (!*in) {
        fputs(help, stderr);
        return -1;
    }
    return 0;
}

int af_cmd_decode(int argc, char **argv)
{
    bool misuse = false;
    const char *in = NULL;
    if (af_wants_help(argc, argv)) {
        fputs(decode_help, stdout);
        return AF_EXIT_OK;
    }
    if (parse_io_args(argc, argv, decode_help, &misuse, &in, NULL) < 0)
        return AF_EXIT_USAGE;
    af_scenario *s = new_scenario();
    if (!s || load_bytes(in, misuse, s) < 0) {
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

static const char encode_help[] =
    "usage: asyncfuzz encode [--misuse] [-o OUT] FILE|-\n\n"
    "Encode a scenario JSON file into fuzz bytes (a seed for the fuzzers),\n"
    "written to OUT or standard output. `encode F | decode -` gives back F's\n"
    "program (description and expected verdicts are not part of the bytes).\n\n"
    "  --misuse   encode for decoding with misuse allowed; required when the\n"
    "             scenario has misuse operations\n"
    "  -o OUT     write to OUT instead of standard output\n";

int af_cmd_encode(int argc, char **argv)
{
    bool misuse = false;
    const char *in = NULL, *out = NULL;
    if (af_wants_help(argc, argv)) {
        fputs(encode_help, stdout);
        return AF_EXIT_OK;
    }
    if (parse_io_args(argc, argv, encode_help, &misuse, &in, &out) < 0)
        return AF_EXIT_USAGE;
    af_scenario *s = new_scenario();
    uint8_t *buf = malloc(AF_ENCODE_MAX_BYTES);
    size_t len = 0;
    af_error err;
    int rc = AF_EXIT_USAGE;
    if (!s || !buf)
        fprintf(stderr, "asyncfuzz encode: out of memory\n");
    else if (load_scenario(in, false, false, s) < 0)
        rc = AF_EXIT_USAGE;
    else if (af_encode(s, misuse, buf, AF_ENCODE_MAX_BYTES, &len, &err) < 0)
        print_error(in, &err);
    else if (af_write_file(out, buf, len, &err) < 0)
        print_error(out, &err);
    else
        rc = AF_EXIT_OK;
    free(s);
    free(buf);
    return rc;
}
