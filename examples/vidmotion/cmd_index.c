/* vidmotion index FILE...: writes each clip's motion index (CLIP.vmoidx) so that later
 * queries answer without decoding. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_CHECK = 256 };

static const cli_option index_options[] = {
    { "check", OPT_CHECK, NULL, "only check existing indexes (valid, stale or corrupt)" },
    { 0 },
};

static const cli_spec index_spec = {
    .name = "index",
    .args = "[options] FILE...",
    .about = "Scans each clip once and writes its motion index next to it (FILE.vmoidx):\n"
             "per frame, changed-pixel counts on a 32x18 grid, the clip's identity and the\n"
             "analysis settings. 'vidmotion query' then answers requests from the indexes\n"
             "without decoding (any zones; counts on the grid). Clips run in parallel.",
    .groups = CLI_G_QUIET | CLI_G_ZONES | CLI_G_ANALYSIS,
    .heading = "Index:",
    .own = index_options,
    .min_files = 1,
    .exit_text = "0 every index written (or valid), 2 bad command line, 3 a clip could not\n"
                 "be read or an index is stale or corrupt, 130 interrupted.",
};

static int index_option(void *user, int key, const char *arg)
{
    (void)arg;
    if (key != OPT_CHECK)
        return CLI_USAGE;
    *(int *)user = 1;
    return CLI_OK;
}

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
            printf("%-40s %8lld frames %8.1f s  index %7.1f KB (%.2f%% of the clip)\n", c->files[i],
                   (long long)ii.frames, ii.duration, ii.index_size / 1024.0,
                   100.0 * (double)ii.index_size / (double)(ii.clip_size ? ii.clip_size : 1));
    }
    return bad;
}

int cmd_index(int argc, char **argv)
{
    cli_common c;
    if (cli_common_init(&c))
        return CLI_INPUT_ERROR;
    int check_only = 0;
    int rc = cli_parse(&index_spec, &c, argc, argv, index_option, &check_only);
    if (rc != CLI_OK) {
        cli_common_free(&c);
        return rc < 0 ? CLI_OK : rc;
    }
    if (!check_only) {
        cli_hooks hooks = { .write_index = 1 };
        vmo_result *res = NULL;
        int interrupted = 0;
        rc = cli_run_request(&c, &hooks, &res, &interrupted);
        if (rc == CLI_OK && interrupted)
            rc = CLI_INTERRUPTED;
        vmo_result_destroy(&res);
    }
    if (rc == CLI_OK && report(&c) > 0)
        rc = CLI_INPUT_ERROR;
    cli_common_free(&c);
    return rc;
}
