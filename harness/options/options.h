/* options.h - every option of asyncfuzz, generated from one table
 * (harness/options/options.def): the option struct, and the one parser,
 * help printer and environment reader/writer every command and engine uses.
 *
 * Where it sits: below the engines (their libFuzzer/AFL++ binaries own their
 * argv and read the options from the environment) and the CLI (which parses
 * argv); above the runner, whose narrow af_runner_options it fills
 * (af_options_to_runner). The engines fill their own narrow structs from
 * af_options likewise (engine.h, fuzz_target.h). No default, range, name
 * or variable of an option is written anywhere but in the table.
 *
 * Sources, in the order they are applied: the table's defaults
 * (af_options_default), the environment (af_options_from_env: the engine
 * binaries, and commands flagged AF_CMDF_ENV), the command line
 * (af_options_parse). o->text[id] keeps the text each option was last set
 * from (NULL: its default), which af_options_to_env writes back for the
 * engine binaries a command starts.
 *
 * Nothing here prints or exits: errors come back in af_error, with a
 * message that names the option (or variable), the value and what it
 * must be.
 */
#ifndef ASYNCFUZZ_OPTIONS_H
#define ASYNCFUZZ_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "harness/run/runner.h"
#include "scenarios/minimize.h"

/* A macro's value as a string literal (the table's defaults). */
#define AF_STR_(x) #x
#define AF_STR(x) AF_STR_(x)

/* ---- the commands ---- */

enum { AF_CMDF_RUNS = 1u << 0, AF_CMDF_ENV = 1u << 1 };

typedef enum af_command_id {
#define AF_COMMAND(name, flags, summary) AF_CMD_##name,
#include "harness/options/options.def"
    AF_CMD_COUNT
} af_command_id;

#define AF_CMD_BIT(name) (1u << AF_CMD_##name)

/* Masks of commands: all of them, and those that run scenarios. */
enum {
    AF_CMDS_ALL = (1u << AF_CMD_COUNT) - 1,
    AF_CMDS_RUNS = 0u
#define AF_COMMAND(name, flags, summary) | (((flags)&AF_CMDF_RUNS) ? AF_CMD_BIT(name) : 0u)
#include "harness/options/options.def"
};

typedef struct af_command_info {
    const char *name;
    unsigned flags; /* AF_CMDF_* */
    const char *summary;
} af_command_info;

const af_command_info *af_command(af_command_id cmd);
/* The command called `name`, or -1. */
int af_command_find(const char *name);

/* ---- the options ---- */

typedef enum af_option_type {
    AF_TYPE_FLAG,
    AF_TYPE_INT,
    AF_TYPE_U64,
    AF_TYPE_SECONDS,
    AF_TYPE_STRING,
    AF_TYPE_PATH,
    AF_TYPE_DIR,
    AF_TYPE_FILE,
    AF_TYPE_ENUM,
    AF_TYPE_LIST,
    AF_TYPE_FILES,
} af_option_type;

/* A FILES option's values: existing regular files, one per occurrence
 * (repeatable), kept joined with ':' - the form its environment variable
 * takes. A value holding ':' is refused. */
#define AF_FILES_CAP 4096
typedef struct af_files {
    char joined[AF_FILES_CAP]; /* "a.tsv:b.tsv"; "" when none */
    int count;
    bool from_argv; /* the command line gave one: it replaces the environment's */
} af_files;

typedef enum af_option_id {
#define AF_OPTION(id, name, alias, type, range, dflt, metavar, env, commands, help) AF_OPT_##id,
#include "harness/options/options.def"
    AF_OPT_COUNT
} af_option_id;

/* The C type of each option type's field. */
#define AF_FIELD_FLAG bool
#define AF_FIELD_INT uint64_t
#define AF_FIELD_U64 uint64_t
#define AF_FIELD_SECONDS double
#define AF_FIELD_STRING const char *
#define AF_FIELD_PATH const char *
#define AF_FIELD_DIR const char *
#define AF_FIELD_FILE const char *
#define AF_FIELD_ENUM const char *
#define AF_FIELD_LIST const char *
#define AF_FIELD_FILES af_files

/* Every option's value (one field per option, named by its id), whatever
 * the command: a command only parses its own, the others keep their
 * defaults. Strings point into argv, the environment or the table. */
typedef struct af_options {
#define AF_OPTION(id, name, alias, type, range, dflt, metavar, env, commands, help)                \
    AF_FIELD_##type id;
#include "harness/options/options.def"
    const char *text[AF_OPT_COUNT]; /* the text each was set from; NULL: the default */
    char **args;                    /* the positional arguments, in order */
    int nargs;
} af_options;

typedef struct af_option_info {
    const char *name; /* long name, without "--" */
    char alias;       /* short form letter, or 0 */
    af_option_type type;
    uint64_t min, max;   /* INT, U64 */
    double min_s, max_s; /* SECONDS */
    const char *choices; /* ENUM, LIST: "a|b|c" */
    const char *dflt;    /* the default as text, or NULL */
    const char *metavar; /* NULL for a FLAG */
    const char *env;     /* environment variable, or NULL */
    unsigned commands;   /* AF_CMD_BIT mask */
    const char *help;
} af_option_info;

const af_option_info *af_option(af_option_id id);

/* Whether command cmd takes option id. */
bool af_option_takes(af_command_id cmd, af_option_id id);

/* Every field to the table's default; no positional arguments. */
void af_options_default(af_options *o);

/* Set option id from `text` as if given on the command line: parsed and
 * checked by its type (an existing folder for DIR ...). `label` names it
 * in the error ("--jobs", "AF_JOBS"). text must outlive o. 0, or -1 with
 * err set. */
int af_options_set(af_options *o, af_option_id id, const char *text, const char *label,
                   af_error *err);

/* Every option with a variable that is set and not empty. 0, or -1 with
 * err set (the message names the variable). */
int af_options_from_env(af_options *o, af_error *err);

/* Parse argv (argv[0]: the command's name) for command cmd: --name VALUE,
 * --name=VALUE, -a VALUE, flags alone; "--" ends the options, "-" is an
 * argument. An option the command does not take is an error naming it and
 * the command. The positional arguments are moved to argv[1..] and left in
 * o->args / o->nargs. 0, or -1 with err set. */
int af_options_parse(af_options *o, af_command_id cmd, int argc, char **argv, af_error *err);

/* For the engine binaries a command starts (in the child, before exec):
 * every option with a variable that was set (o->text) is written to it,
 * every other such variable removed, so the child sees exactly o. 0, or
 * -1 when the environment cannot be changed. */
int af_options_to_env(const af_options *o);

/* The runner's budgets, Task flavour, accelerators and target adapter. */
void af_options_to_runner(const af_options *o, af_runner_options *r);

/* The option list of `asyncfuzz CMD --help`: its sections, each option
 * with its alias, metavar and help, the range, choices and default added,
 * wrapped to 80 columns. */
void af_options_print_help(FILE *out, af_command_id cmd);

/* A Markdown table for docs/: "command:NAME" (a command's options),
 * "section:ID" (the options of a section, with the commands taking them)
 * or "env" (every environment variable). -1 for an unknown `what`. */
int af_options_print_markdown(FILE *out, const char *what);

#endif
