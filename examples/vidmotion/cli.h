/* The vidmotion command: shared declarations of its subcommands and helpers. It uses the
 * public API only, like any other program linking libvidmotion. */
#ifndef VMO_CLI_H
#define VMO_CLI_H

#include <stdio.h>

#include <vidmotion/vidmotion.h>

/* Exit codes (documented in the man page, `vidmotion --help` and the README). */
enum {
    CLI_OK = 0,           /* success: something matched */
    CLI_NO_MATCH = 1,     /* success, but nothing matched (no segment) */
    CLI_USAGE = 2,        /* bad command line */
    CLI_INPUT_ERROR = 3,  /* an input could not be read or analysed */
    CLI_OUTPUT_ERROR = 4, /* an output could not be written */
    CLI_INTERRUPTED = 130 /* stopped by Ctrl-C (partial results were printed) */
};

/* A zone as the command line gave it, kept for drawing (the library does not give the
 * geometry back). Coordinates 0..1 of the frame. */
typedef struct cli_zone {
    char name[64];
    int kind; /* VMO_ZONE_INCLUDE / VMO_ZONE_EXCLUDE */
    int npoints;
    double *xy; /* npoints (x, y) pairs */
} cli_zone;

/* Options shared by the subcommands that analyse clips. */
typedef struct cli_common {
    vmo_config *cfg;
    int json, jsonl, frames, quiet;
    const char *from, *to; /* time window strings, or NULL */
    char **files;
    int nfiles;
    int nmasks;
    cli_zone *zones; /* every --zone/--zones/--mask, in order */
    int nzones;
} cli_common;

/* Zone outlines for drawing (zone_geom.c): a spec ("x0,y0,x1,y1" or "poly:...") to points
 * (returns the count, 0 if unreadable), and the zones of a --zones JSON document. */
int cli_zone_parse_spec(const char *spec, double *xy, int max_points);
void cli_zone_remember_spec(cli_common *c, const char *name, int kind, const char *spec);
void cli_zone_remember_json(cli_common *c, const char *json);

/* ---- the one option parser ---- */

/* Option groups a subcommand accepts (besides its own options and -h/--help). */
enum {
    CLI_G_ZONES = 1u << 0,    /* --zone --zones --mask */
    CLI_G_ANALYSIS = 1u << 1, /* --width --threshold --fps --threads --jobs --stream --set */
    CLI_G_WINDOW = 1u << 2,   /* --from --to */
    CLI_G_RESULT = 1u << 3,   /* --json --jsonl --frames */
    CLI_G_QUIET = 1u << 4     /* -q/--quiet */
};

/* One option of a subcommand's own. `arg` names the value (NULL: a switch). `help` may hold
 * '\n' to continue on further lines. `key` is what the command's callback receives. */
typedef struct cli_option {
    const char *name;
    int key; /* a short option letter, or a number >= 256 for long-only options */
    const char *arg;
    const char *help;
} cli_option;

/* A subcommand's command line: parsed by cli_parse(), documented by cli_help() (and so by
 * the man page, which is made from the --help texts). */
typedef struct cli_spec {
    const char *name;      /* "scan" */
    const char *args;      /* "[options] FILE..." */
    const char *about;     /* paragraph(s) under the usage line */
    unsigned groups;       /* CLI_G_* */
    const char *heading;   /* heading of the own options ("Output:") */
    const cli_option *own; /* the command's own options, ended by {0} */
    int min_files;         /* operands needed (FILE...) */
    const char *exit_text; /* the "Exit status:" paragraph */
} cli_spec;

/* Called for each of the command's own options; returns 0, or CLI_USAGE after printing why. */
typedef int (*cli_own_fn)(void *user, int key, const char *arg);

/* Parses argv (argv[0] is the subcommand) into `c` (shared options and operands) and calls
 * `own` for the command's own options. Returns CLI_OK, CLI_USAGE (message printed), or -1
 * when --help was printed (exit 0). */
int cli_parse(const cli_spec *spec, cli_common *c, int argc, char **argv, cli_own_fn own,
              void *user);
void cli_help(const cli_spec *spec, FILE *out);

/* Parses one shared option (long name without "--", and its value or NULL). Returns 1 if
 * it was one of ours, 0 if not, -1 on a bad value (message printed). */
int cli_common_option(cli_common *c, const char *name, const char *value);
/* Help lines for the shared zone and analysis options. */
void cli_common_help(FILE *out);
int cli_common_init(cli_common *c);
void cli_common_free(cli_common *c);

/* Prints "vidmotion: <what>: <detail>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- running a request with progress and Ctrl-C ---- */

typedef struct cli_hooks {
    vmo_frame_fn frame; /* optional callbacks, with `user` */
    vmo_event_fn event;
    void *user;
    int use_index;   /* answer from motion indexes where valid (query) */
    int write_index; /* write motion indexes (index) */
} cli_hooks;

/* Runs a request over c->files with c's settings, zones and window. A progress line goes
 * to stderr when it is a terminal (not with --quiet); Ctrl-C cancels the run and the
 * partial result is kept (*interrupted = 1). Returns CLI_OK with *res set, or the exit
 * code of a failure (message printed, *res NULL). */
int cli_run_request(cli_common *c, const cli_hooks *hooks, vmo_result **res, int *interrupted);

/* 1 when any clip of `res` has analysed frames (a picture has something to show). */
int cli_analysed_frames(const vmo_result *res);

/* Progress line on stderr (progress.c). */
typedef struct cli_progress cli_progress;
/* NULL (no progress) when stderr is not a terminal or `quiet`. */
cli_progress *cli_progress_create(int quiet, int clip_count);
int cli_progress_update(void *user, int clip, int clip_count, int64_t done, int64_t total);
/* Clears the line and frees. Accepts NULL. */
void cli_progress_finish(cli_progress **p);

/* Ctrl-C: the first one cancels `an` (the scan stops cleanly, partial results are kept);
 * a second one kills the process as usual. */
void cli_interrupt_begin(vmo_analyzer *an);
void cli_interrupt_end(void);

/* ---- output of results ---- */

/* The --json contract, a table for people, or JSON lines (--jsonl). */
int cli_print_json(FILE *out, const vmo_result *res, int frames);
void cli_print_table(FILE *out, const vmo_result *res);
/* --jsonl: live "started"/"ended" lines (an event callback whose `user` is a cli_jsonl),
 * then the result's clips, segments and a summary line (docs/cli.md). */
typedef struct cli_jsonl {
    FILE *out;
    const cli_common *c; /* clip paths and zone names */
    int failed;          /* a write failed */
} cli_jsonl;
int cli_jsonl_event(void *user, int what, const vmo_event *ev);
int cli_print_jsonl(FILE *out, const vmo_result *res, int exit_code);
/* Exit code for a result: input error if a clip failed, else match / no match. */
int cli_result_exit(const vmo_result *res);
/* Same, with the run's outcome: interrupted wins. */
int cli_exit_code(const vmo_result *res, int interrupted);

/* "83.5" -> "00:01:23.500" into buf; "-" when not finite. */
const char *cli_clock(double seconds, char *buf, size_t size);
/* ISO-8601 of POSIX seconds into buf; "-" when NaN. */
const char *cli_wall(double posix, char *buf, size_t size);
const char *cli_base_name(const char *path);
/* Zone colour of index i (the same in the heatmap and the timeline), 0xRRGGBB. */
unsigned cli_zone_color(int i);

/* Output files written whole or not at all: data goes to PATH.tmp.PID, renamed at the end.
 * `overwrite` 0 refuses an existing PATH. Returns CLI_OK or CLI_OUTPUT_ERROR (printed). */
typedef struct cli_outfile {
    char *path, *tmp;
    FILE *f;
} cli_outfile;
int cli_outfile_open(cli_outfile *o, const char *path, int overwrite);
/* Closes and renames (commit != 0) or removes the temporary file. */
int cli_outfile_close(cli_outfile *o, int commit);

/* Subcommands. argv[0] is the subcommand's name. */
int cmd_scan(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_heatmap(int argc, char **argv);
int cmd_timeline(int argc, char **argv);

/* The command table (main.c). */
typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

/* The manual page (roff), made from every subcommand's --help (man.c), so that the two
 * cannot drift apart. */
int cli_print_man(FILE *out, const cli_command *commands, int count);
/* The top-level help: commands, exit codes. */
void cli_usage(FILE *out, const cli_command *commands, int count);

#endif
