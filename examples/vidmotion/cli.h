/* The vidmotion command: shared declarations of its subcommands and helpers. It uses the
 * public API only, like any other program linking libvidmotion. */
#ifndef VMO_CLI_H
#define VMO_CLI_H

#include <stdio.h>

#include <vidmotion/vidmotion.h>

/* Exit codes (documented in docs/cli.md and the man page). */
enum {
    CLI_OK = 0,           /* success: something matched */
    CLI_NO_MATCH = 1,     /* success, but nothing matched (no segment) */
    CLI_USAGE = 2,        /* bad command line */
    CLI_INPUT_ERROR = 3,  /* an input could not be read or analysed */
    CLI_OUTPUT_ERROR = 4, /* an output could not be written */
    CLI_INTERRUPTED = 130 /* stopped by Ctrl-C (partial results were printed) */
};

/* Options shared by the subcommands that analyse clips. */
typedef struct cli_common {
    vmo_config *cfg;
    int json, jsonl, frames, quiet;
    const char *from, *to; /* time window strings, or NULL */
    char **files;
    int nfiles;
    int nmasks;
} cli_common;

/* Parses one shared option (long name without "--", and its value or NULL). Returns 1 if
 * it was one of ours, 0 if not, -1 on a bad value (message printed). */
int cli_common_option(cli_common *c, const char *name, const char *value);
/* Help lines for the shared options. */
void cli_common_help(FILE *out);
int cli_common_init(cli_common *c);
void cli_common_free(cli_common *c);

/* Prints "vidmotion: <what>: <detail>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Output of results: the --json contract, or a table for people. */
int cli_print_json(FILE *out, const vmo_result *res, int frames);
void cli_print_table(FILE *out, const vmo_result *res);
/* Exit code for a result: input error if a clip failed, else match / no match. */
int cli_result_exit(const vmo_result *res);

/* Subcommands. argv[0] is the subcommand's name. */
int cmd_scan(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif
