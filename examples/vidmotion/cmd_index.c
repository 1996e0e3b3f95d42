/* vidmotion index FILE...: writes each clip's motion index (CLIP.vmoidx) so that later
 * queries answer without decoding. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fputs("usage: vidmotion index [options] FILE...\n"
          "Scans each clip once and writes its motion index next to it (FILE.vmoidx):\n"
          "per frame, changed-pixel counts on a 32x18 grid, the clip's identity and the\n"
          "analysis settings. 'vidmotion query' then answers requests from the indexes\n"
          "without decoding (any zones; counts on the grid). Clips run in parallel.\n\n"
          "  --check            only check existing indexes (valid, stale or corrupt)\n"
          "  -q, --quiet        print nothing but errors\n"
          "  -h, --help         this help\n",
          out);
    cli_common_help(out);
}

static const struct option long_options[] = {
    { "mask", required_argument, 0, 0 },      { "width", required_argument, 0, 0 },
    { "threshold", required_argument, 0, 0 }, { "fps", required_argument, 0, 0 },
    { "threads", required_argument, 0, 0 },   { "jobs", required_argument, 0, 0 },
    { "stream", required_argument, 0, 0 },    { "set", required_argument, 0, 0 },
    { "check", no_argument, 0, 'c' },         { "quiet", no_argument, 0, 'q' },
    { "help", no_argument, 0, 'h' },          { 0, 0, 0, 0 },
};

/* Prints one line per clip about its index; returns how many are not valid. */
static int report(const cli_common *c)
{
    int bad = 0;
    for (int i = 0; i < c->nfiles; i++) {
        vmo_index_info ii = { .struct_size = sizeof(ii) };
        int rc = vmo_index_check(c->files[i], NULL, &ii);
        bad += rc != VMO_OK;
        if (rc != VMO_OK)
            fprintf(stderr, "vidmotion: %s: %s\n", c->files[i], vmo_strerror(rc));
        else if (!c->quiet)
            printf("%-40s %8lld frames %8.1f s  index %7.1f KB (%.2f%% of the clip)\n",
                   c->files[i], (long long)ii.frames, ii.duration, ii.index_size / 1024.0,
                   100.0 * (double)ii.index_size / (double)(ii.clip_size ? ii.clip_size : 1));
    }
    return bad;
}

int cmd_index(int argc, char **argv)
{
    cli_common c;
    if (cli_common_init(&c))
        return CLI_INPUT_ERROR;
    int check_only = 0, opt, index;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", long_options, &index)) != -1) {
        switch (opt) {
        case 0:
            if (cli_common_option(&c, long_options[index].name, optarg) < 0) {
                cli_common_free(&c);
                return CLI_USAGE;
            }
            break;
        case 'c': check_only = 1; break;
        case 'q': c.quiet = 1; break;
        case 'h': usage(stdout); cli_common_free(&c); return CLI_OK;
        default: usage(stderr); cli_common_free(&c); return CLI_USAGE;
        }
    }
    c.files = argv + optind;
    c.nfiles = argc - optind;
    if (c.nfiles == 0) {
        cli_error("index: no input file (try 'vidmotion index --help')");
        c.files = NULL;
        cli_common_free(&c);
        return CLI_USAGE;
    }
    int rc = CLI_OK;
    if (!check_only) {
        vmo_analyzer *an = NULL;
        vmo_request *rq = NULL;
        vmo_result *res = NULL;
        int st = vmo_analyzer_create(c.cfg, &an);
        if (st == VMO_OK)
            st = vmo_request_create(&rq);
        for (int i = 0; st == VMO_OK && i < c.nfiles; i++)
            st = vmo_request_add_clip(rq, c.files[i], NAN);
        if (st == VMO_OK)
            st = vmo_request_set_double(rq, "write_index", 1);
        if (st == VMO_OK)
            st = vmo_analyzer_run_request(an, rq, &res);
        if (st != VMO_OK && st != VMO_ERR_CANCELLED) {
            cli_error("%s", an ? vmo_analyzer_last_error(an) : vmo_strerror(st));
            rc = st == VMO_ERR_OVERLAP ? CLI_USAGE : CLI_INPUT_ERROR;
        }
        vmo_result_destroy(&res);
        vmo_request_destroy(&rq);
        vmo_analyzer_destroy(&an);
    }
    if (rc == CLI_OK && report(&c) > 0)
        rc = CLI_INPUT_ERROR;
    c.files = NULL; /* argv, not ours */
    cli_common_free(&c);
    return rc;
}
