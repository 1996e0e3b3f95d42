/* vidmotion verify MANIFEST: hashes every file an export manifest lists again. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fputs("usage: vidmotion verify [options] MANIFEST\n"
          "Checks the size and SHA-256 of every source, clip and thumbnail an export\n"
          "manifest lists (docs/export.md). Prints one line per file.\n\n"
          "  -q, --quiet        print only the files that do not match\n"
          "  -h, --help         this help\n\n"
          "Exit status: 0 everything matches, 3 a file differs or is missing (or the\n"
          "manifest cannot be read), 2 bad command line.\n",
          out);
}

static const struct option long_options[] = {
    { "quiet", no_argument, 0, 'q' },
    { "help", no_argument, 0, 'h' },
    { 0, 0, 0, 0 },
};

/* Prints the report, or only its MISMATCH/ERROR lines when quiet. */
static void print_report(const char *report, int quiet)
{
    for (const char *line = report; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (!quiet || strncmp(line, "ok ", 3))
            printf("%.*s\n", (int)n, line);
        line += n + (nl != NULL);
    }
}

/* The switch keeps cmd_scan.c's compact layout. */
/* clang-format off */
int cmd_verify(int argc, char **argv)
{
    int opt, quiet = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", long_options, NULL)) != -1) {
        switch (opt) {
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return CLI_OK;
        default: usage(stderr); return CLI_USAGE;
        }
    }
    /* clang-format on */
    if (argc - optind != 1) {
        cli_error("verify: expected one manifest (try 'vidmotion verify --help')");
        return CLI_USAGE;
    }
    const char *path = argv[optind];
    char *report = NULL;
    int status = vmo_verify_manifest(path, &report);
    print_report(report, quiet);
    vmo_free(report);
    if (fflush(stdout) != 0)
        return CLI_OUTPUT_ERROR;
    if (status == VMO_OK)
        return CLI_OK;
    cli_error("%s: %s", path, vmo_strerror(status));
    return CLI_INPUT_ERROR;
}
