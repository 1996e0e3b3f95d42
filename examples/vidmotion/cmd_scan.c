/* vidmotion scan FILE... and vidmotion query FILE...: motion per zone and motion segments
 * of one or more clips. query answers clips that have a valid motion index from it. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static vmo_analyzer *interrupt_target;

static void on_interrupt(int sig)
{
    (void)sig;
    /* Only sets a flag (async-signal-safe); the scan stops at its next frame and the
     * partial result is printed. */
    if (interrupt_target)
        vmo_analyzer_cancel(interrupt_target);
}

static void usage(FILE *out, int query)
{
    fputs(query ? "usage: vidmotion query [options] FILE...\n"
                  "Answers from each clip's motion index (vidmotion index) where a valid one\n"
                  "exists, and decodes the others: the motion segments in the window.\n\n"
                : "usage: vidmotion scan [options] FILE...\n"
                  "Decodes each clip, measures motion inside the zones and prints the motion\n"
                  "segments (a table, or the JSON contract with --json).\n\n",
          out);
    fputs(
          "Output:\n"
          "  --json             print the result as JSON (docs/json.md)\n"
          "  --frames           with --json: also every analysed frame's scores\n"
          "  --from T, --to T   only this time window: ISO-8601 wall clock\n"
          "                     (2026-07-04T14:05:00Z) or seconds / HH:MM:SS.mmm from\n"
          "                     each clip's start\n"
          "  -q, --quiet        no progress line\n"
          "  -h, --help         this help\n",
          out);
    cli_common_help(out);
}

static const struct option long_options[] = {
    { "zone", required_argument, 0, 0 },    { "zones", required_argument, 0, 0 },
    { "mask", required_argument, 0, 0 },    { "width", required_argument, 0, 0 },
    { "threshold", required_argument, 0, 0 }, { "fps", required_argument, 0, 0 },
    { "threads", required_argument, 0, 0 }, { "jobs", required_argument, 0, 0 },
    { "stream", required_argument, 0, 0 },  { "set", required_argument, 0, 0 },
    { "from", required_argument, 0, 0 },    { "to", required_argument, 0, 0 },
    { "json", no_argument, 0, 'j' },        { "frames", no_argument, 0, 'F' },
    { "quiet", no_argument, 0, 'q' },       { "help", no_argument, 0, 'h' },
    { 0, 0, 0, 0 },
};

static int parse(cli_common *c, int argc, char **argv, int query)
{
    int opt, index;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", long_options, &index)) != -1) {
        switch (opt) {
        case 0:
            if (cli_common_option(c, long_options[index].name, optarg) < 0)
                return CLI_USAGE;
            break;
        case 'j': c->json = 1; break;
        case 'F': c->frames = 1; break;
        case 'q': c->quiet = 1; break;
        case 'h': usage(stdout, query); return -1;
        default: usage(stderr, query); return CLI_USAGE;
        }
    }
    c->files = calloc((size_t)(argc - optind + 1), sizeof(char *));
    for (int i = optind; c->files && i < argc; i++)
        c->files[c->nfiles++] = argv[i];
    if (c->nfiles == 0) {
        cli_error("%s: no input file (try 'vidmotion %s --help')", argv[0], argv[0]);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int scan_or_query(int argc, char **argv, int query)
{
    cli_common c;
    if (cli_common_init(&c))
        return CLI_INPUT_ERROR;
    int rc = parse(&c, argc, argv, query);
    if (rc != CLI_OK) {
        cli_common_free(&c);
        return rc < 0 ? CLI_OK : rc;
    }
    if (c.frames)
        vmo_config_set_int(c.cfg, "frames", 1);
    vmo_analyzer *an = NULL;
    vmo_request *rq = NULL;
    vmo_result *res = NULL;
    int status = vmo_analyzer_create(c.cfg, &an);
    if (status == VMO_OK)
        status = vmo_request_create(&rq);
    for (int i = 0; status == VMO_OK && i < c.nfiles; i++)
        status = vmo_request_add_clip(rq, c.files[i], NAN);
    if (status == VMO_OK && (c.from || c.to))
        status = vmo_request_set_window(rq, c.from, c.to);
    if (status == VMO_OK && query)
        status = vmo_request_set_double(rq, "use_index", 1);
    if (status != VMO_OK) {
        cli_error("%s", rq && *vmo_request_last_error(rq) ? vmo_request_last_error(rq)
                        : an ? vmo_analyzer_last_error(an) : vmo_strerror(status));
        rc = CLI_USAGE;
        goto done;
    }
    interrupt_target = an;
    signal(SIGINT, on_interrupt);
    status = vmo_analyzer_run_request(an, rq, &res);
    signal(SIGINT, SIG_DFL);
    interrupt_target = NULL;
    if (!res) {
        cli_error("%s", vmo_analyzer_last_error(an));
        /* A request that cannot be answered as asked is the caller's to fix. */
        rc = status == VMO_ERR_UNKNOWN_ZONE || status == VMO_ERR_NO_TIME_SOURCE ||
                     status == VMO_ERR_OVERLAP || status == VMO_ERR_BAD_WINDOW
                 ? CLI_USAGE
                 : CLI_INPUT_ERROR;
        goto done;
    }
    if (c.json) {
        if (cli_print_json(stdout, res, c.frames))
            rc = CLI_OUTPUT_ERROR;
    } else {
        cli_print_table(stdout, res);
    }
    if (rc == CLI_OK)
        rc = status == VMO_ERR_CANCELLED ? CLI_INTERRUPTED : cli_result_exit(res);
    if (fflush(stdout) != 0)
        rc = CLI_OUTPUT_ERROR;
done:
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
    cli_common_free(&c);
    return rc;
}

int cmd_scan(int argc, char **argv)
{
    return scan_or_query(argc, argv, 0);
}

int cmd_query(int argc, char **argv)
{
    return scan_or_query(argc, argv, 1);
}
