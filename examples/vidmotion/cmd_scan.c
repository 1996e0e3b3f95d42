/* vidmotion scan FILE... and vidmotion query FILE...: motion per zone and motion segments
 * of one or more clips. query answers clips that have a valid motion index from it. */
#include <stdlib.h>

#include "cli.h"

#define RESULT_EXIT                                                                                \
    "0 motion found, 1 no motion, 2 bad command line, 3 an input could not\n"                      \
    "be read, 4 the output could not be written, 130 interrupted (the results so far\n"            \
    "are printed)."

static const cli_option no_own[] = { { 0 } };

static const cli_spec scan_spec = {
    .name = "scan",
    .args = "[options] FILE...",
    .about = "Decodes each clip, measures motion inside the zones and prints the motion\n"
             "segments: a table, the JSON contract (--json), or JSON lines as events happen\n"
             "(--jsonl). Several clips of one camera form one answer: an event that runs\n"
             "across contiguous files is one segment.",
    .groups = CLI_G_RESULT | CLI_G_QUIET | CLI_G_WINDOW | CLI_G_ZONES | CLI_G_ANALYSIS,
    .own = no_own,
    .min_files = 1,
    .exit_text = RESULT_EXIT,
};

static const cli_spec query_spec = {
    .name = "query",
    .args = "[options] FILE...",
    .about = "Answers a request (zones, --from/--to) from each clip's motion index\n"
             "('vidmotion index') where a valid one exists, without decoding, and decodes\n"
             "the others. Clips outside a wall-clock window are not decoded at all. Prints\n"
             "what 'vidmotion scan' prints.",
    .groups = CLI_G_RESULT | CLI_G_QUIET | CLI_G_WINDOW | CLI_G_ZONES | CLI_G_ANALYSIS,
    .own = no_own,
    .min_files = 1,
    .exit_text = RESULT_EXIT,
};

static int no_own_option(void *user, int key, const char *arg)
{
    (void)user, (void)key, (void)arg;
    return CLI_USAGE;
}

static int print_result(const cli_common *c, const vmo_result *res, int rc)
{
    int failed;
    if (c->jsonl)
        failed = cli_print_jsonl(stdout, res, rc);
    else if (c->json)
        failed = cli_print_json(stdout, res, c->frames);
    else
        failed = (cli_print_table(stdout, res), 0);
    if (failed || fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output");
        return CLI_OUTPUT_ERROR;
    }
    return rc;
}

static int scan_or_query(const cli_spec *spec, int argc, char **argv)
{
    cli_common c;
    if (cli_common_init(&c))
        return CLI_INPUT_ERROR;
    int rc = cli_parse(spec, &c, argc, argv, no_own_option, NULL);
    if (rc != CLI_OK) {
        cli_common_free(&c);
        return rc < 0 ? CLI_OK : rc;
    }
    cli_jsonl live = { .out = stdout, .c = &c };
    cli_hooks hooks = { .use_index = spec == &query_spec };
    if (c.jsonl) {
        hooks.event = cli_jsonl_event;
        hooks.user = &live;
    }
    vmo_result *res = NULL;
    int interrupted = 0;
    rc = cli_run_request(&c, &hooks, &res, &interrupted);
    if (rc == CLI_OK)
        rc = print_result(&c, res, cli_exit_code(res, interrupted));
    if (live.failed && rc != CLI_OUTPUT_ERROR) {
        cli_error("cannot write the output");
        rc = CLI_OUTPUT_ERROR;
    }
    vmo_result_destroy(&res);
    cli_common_free(&c);
    return rc;
}

int cmd_scan(int argc, char **argv)
{
    return scan_or_query(&scan_spec, argc, argv);
}

int cmd_query(int argc, char **argv)
{
    return scan_or_query(&query_spec, argc, argv);
}
