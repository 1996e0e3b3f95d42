/* vidmotion extract FILE...: finds the motion segments of clips and exports each one as a
 * new file (stream copy, or a precise cut), with a manifest that `vidmotion verify` checks. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct extract_opts {
    const char *out, *format, *redact, *case_ref;
    int precise, reencode, thumbnails, preview, overwrite;
} extract_opts;

static vmo_analyzer *interrupt_target;

static void on_interrupt(int sig)
{
    (void)sig;
    /* Only sets a flag (async-signal-safe): the scan stops and nothing is exported. */
    if (interrupt_target)
        vmo_analyzer_cancel(interrupt_target);
}

static void usage(FILE *out)
{
    fputs("usage: vidmotion extract [options] --out DIR FILE...\n"
          "Finds the motion segments of the clips and writes each one to DIR as a clip of\n"
          "its own, with DIR/manifest.json recording sources, outputs and their SHA-256\n"
          "(check it later with 'vidmotion verify'). Segments are stream-copied from the\n"
          "keyframe before their start unless asked otherwise (docs/export.md).\n\n"
          "Export:\n"
          "  --out DIR          output folder (must exist)                  required\n"
          "  --from T, --to T   only this time window: ISO-8601 wall clock\n"
          "                     (2026-07-04T14:05:00Z) or seconds / HH:MM:SS.mmm from\n"
          "                     each clip's start\n"
          "  --precise          frame-exact cuts: only the partial GOP at the head is\n"
          "                     re-encoded\n"
          "  --reencode         re-encode every frame\n"
          "  --redact[=black|pixelate]\n"
          "                     blank the privacy masks (--mask) in the clips (re-encodes)\n"
          "  --case REF         a case reference recorded in the manifest\n"
          "  --thumbnails       also one PNG per segment, at its peak\n"
          "  --preview          only the PNG thumbnails: no clip, no manifest\n"
          "  --format mp4|mkv   container of the clips (default mp4)\n"
          "  --overwrite        replace existing files (default: refuse)\n"
          "  --json             print the outputs as JSON\n"
          "  -q, --quiet        print nothing but errors\n"
          "  -h, --help         this help\n\n"
          "Exit status: 0 segments exported, 1 no segment, 2 bad command line, 3 an input\n"
          "could not be read, 4 an output could not be written (nothing is left behind).\n",
          out);
    cli_common_help(out);
}

/* Tables and switches keep cmd_scan.c's compact layout. */
/* clang-format off */
enum { OPT_OUT = 256, OPT_PRECISE, OPT_REENCODE, OPT_REDACT, OPT_CASE, OPT_THUMBS, OPT_PREVIEW,
       OPT_FORMAT, OPT_OVERWRITE };

static const struct option long_options[] = {
    { "zone", required_argument, 0, 0 },    { "zones", required_argument, 0, 0 },
    { "mask", required_argument, 0, 0 },    { "width", required_argument, 0, 0 },
    { "threshold", required_argument, 0, 0 }, { "fps", required_argument, 0, 0 },
    { "threads", required_argument, 0, 0 }, { "jobs", required_argument, 0, 0 },
    { "stream", required_argument, 0, 0 },  { "set", required_argument, 0, 0 },
    { "from", required_argument, 0, 0 },    { "to", required_argument, 0, 0 },
    { "out", required_argument, 0, OPT_OUT },
    { "precise", no_argument, 0, OPT_PRECISE },
    { "reencode", no_argument, 0, OPT_REENCODE },
    { "redact", optional_argument, 0, OPT_REDACT },
    { "case", required_argument, 0, OPT_CASE },
    { "thumbnails", no_argument, 0, OPT_THUMBS },
    { "preview", no_argument, 0, OPT_PREVIEW },
    { "format", required_argument, 0, OPT_FORMAT },
    { "overwrite", no_argument, 0, OPT_OVERWRITE },
    { "json", no_argument, 0, 'j' },        { "quiet", no_argument, 0, 'q' },
    { "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 },
};
/* clang-format on */

/* clang-format off */
static int parse_extract(extract_opts *x, int opt, const char *arg)
{
    switch (opt) {
    case OPT_OUT: x->out = arg; break;
    case OPT_PRECISE: x->precise = 1; break;
    case OPT_REENCODE: x->reencode = 1; break;
    case OPT_REDACT: x->redact = arg ? arg : "black"; break;
    case OPT_CASE: x->case_ref = arg; break;
    case OPT_THUMBS: x->thumbnails = 1; break;
    case OPT_PREVIEW: x->preview = 1; break;
    case OPT_FORMAT: x->format = arg; break;
    case OPT_OVERWRITE: x->overwrite = 1; break;
    default: return 0;
    }
    return 1;
}
/* clang-format on */

static int check_args(const cli_common *c, const extract_opts *x)
{
    if (c->nfiles == 0)
        cli_error("extract: no input file (try 'vidmotion extract --help')");
    else if (!x->out)
        cli_error("extract: --out DIR is required");
    else if (x->precise && x->reencode)
        cli_error("extract: --precise and --reencode exclude each other");
    else
        return CLI_OK;
    return CLI_USAGE;
}

/* clang-format off */
static int parse(cli_common *c, extract_opts *x, int argc, char **argv)
{
    int opt, index;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", long_options, &index)) != -1) {
        if (parse_extract(x, opt, optarg))
            continue;
        switch (opt) {
        case 0:
            if (cli_common_option(c, long_options[index].name, optarg) < 0)
                return CLI_USAGE;
            break;
        case 'j': c->json = 1; break;
        case 'q': c->quiet = 1; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return CLI_USAGE;
        }
    }
    c->files = calloc((size_t)(argc - optind + 1), sizeof(char *));
    for (int i = optind; c->files && i < argc; i++)
        c->files[c->nfiles++] = argv[i];
    return check_args(c, x);
}
/* clang-format on */

/* The analysis: a request over the files, like `vidmotion scan`. */
static int analyse(cli_common *c, vmo_result **res)
{
    vmo_analyzer *an = NULL;
    vmo_request *rq = NULL;
    int rc = CLI_OK;
    int status = vmo_analyzer_create(c->cfg, &an);
    if (status == VMO_OK)
        status = vmo_request_create(&rq);
    for (int i = 0; status == VMO_OK && i < c->nfiles; i++)
        status = vmo_request_add_clip(rq, c->files[i], NAN);
    if (status == VMO_OK && (c->from || c->to))
        status = vmo_request_set_window(rq, c->from, c->to);
    if (status != VMO_OK) {
        const char *why = an ? vmo_analyzer_last_error(an) : vmo_strerror(status);
        cli_error("%s", rq && *vmo_request_last_error(rq) ? vmo_request_last_error(rq) : why);
        rc = CLI_USAGE;
    } else {
        interrupt_target = an;
        signal(SIGINT, on_interrupt);
        status = vmo_analyzer_run_request(an, rq, res);
        signal(SIGINT, SIG_DFL);
        interrupt_target = NULL;
        if (status == VMO_ERR_CANCELLED)
            rc = CLI_INTERRUPTED;
        else if (!*res)
            rc = status == VMO_ERR_UNKNOWN_ZONE || status == VMO_ERR_NO_TIME_SOURCE ||
                         status == VMO_ERR_OVERLAP || status == VMO_ERR_BAD_WINDOW
                     ? CLI_USAGE
                     : CLI_INPUT_ERROR;
        if (rc != CLI_OK && rc != CLI_INTERRUPTED)
            cli_error("%s", vmo_analyzer_last_error(an));
    }
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
    return rc;
}

static int configure(vmo_export *ex, const extract_opts *x)
{
    const char *mode = x->precise ? "precise" : x->reencode ? "reencode" : "copy";
    int status = vmo_export_set_string(ex, "dir", x->out);
    if (status == VMO_OK)
        status = vmo_export_set_string(ex, "mode", mode);
    if (status == VMO_OK && x->format)
        status = vmo_export_set_string(ex, "format", x->format);
    if (status == VMO_OK && x->redact)
        status = vmo_export_set_string(ex, "redact", x->redact);
    if (status == VMO_OK && x->case_ref)
        status = vmo_export_set_string(ex, "case", x->case_ref);
    if (status == VMO_OK)
        status = vmo_export_set_int(ex, "thumbnails", x->thumbnails);
    if (status == VMO_OK)
        status = vmo_export_set_int(ex, "overwrite", x->overwrite);
    if (status != VMO_OK)
        cli_error("%s", vmo_export_last_error(ex));
    return status;
}

static void json_string(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void wall_text(double posix, char *buf, size_t size)
{
    if (isnan(posix) || vmo_format_time(posix, buf, size) != VMO_OK)
        snprintf(buf, size, "-");
}

static void print_json(FILE *out, const vmo_export *ex)
{
    fputs("{\"manifest\": ", out);
    json_string(out, vmo_export_manifest_path(ex));
    fputs(", \"outputs\": [", out);
    for (int i = 0; i < vmo_export_output_count(ex); i++) {
        vmo_export_output_info o = { .struct_size = sizeof(o) };
        vmo_export_output(ex, i, &o);
        char ws[40], we[40];
        wall_text(o.wall_start, ws, sizeof(ws));
        wall_text(o.wall_end, we, sizeof(we));
        fprintf(out, "%s\n  {\"event\": %d, \"path\": ", i ? "," : "", o.event);
        json_string(out, o.path);
        fputs(", \"sha256\": ", out);
        json_string(out, o.sha256);
        fputs(", \"thumbnail\": ", out);
        json_string(out, o.thumbnail);
        fprintf(out, ", \"size\": %lld", (long long)o.size_bytes);
        fprintf(out, ", \"duration\": %.6f, \"wall_start\": ", o.duration);
        json_string(out, isnan(o.wall_start) ? NULL : ws);
        fputs(", \"wall_end\": ", out);
        json_string(out, isnan(o.wall_end) ? NULL : we);
        fprintf(out, ", \"reencoded\": %s}", o.reencoded ? "true" : "false");
    }
    fputs("\n]}\n", out);
}

static void print_table(FILE *out, const vmo_export *ex)
{
    for (int i = 0; i < vmo_export_output_count(ex); i++) {
        vmo_export_output_info o = { .struct_size = sizeof(o) };
        vmo_export_output(ex, i, &o);
        char ws[40];
        wall_text(o.wall_start, ws, sizeof(ws));
        fprintf(out, "%-26s %8.2fs %s %s\n", ws, o.duration,
                o.path ? (o.reencoded ? "re-encoded" : "copied    ") : "preview   ",
                o.path ? o.path : o.thumbnail);
        if (o.path && o.thumbnail)
            fprintf(out, "%-26s %9s %10s %s\n", "", "", "thumbnail", o.thumbnail);
    }
    if (vmo_export_manifest_path(ex))
        fprintf(out, "manifest: %s\n", vmo_export_manifest_path(ex));
}

/* Exit code of a failed export: sources are inputs, everything else is the output side. */
static int export_exit(int status)
{
    switch (status) {
    case VMO_ERR_NOT_FOUND:
    case VMO_ERR_CORRUPT:
    case VMO_ERR_NO_VIDEO:
    case VMO_ERR_DECODE:
    case VMO_ERR_UNSUPPORTED:
        return CLI_INPUT_ERROR;
    case VMO_ERR_INVALID_ARG:
        return CLI_USAGE;
    default:
        return CLI_OUTPUT_ERROR;
    }
}

static int export_result(const cli_common *c, const extract_opts *x, const vmo_result *res)
{
    vmo_export *ex = NULL;
    if (vmo_export_create(&ex) != VMO_OK) {
        cli_error("out of memory");
        return CLI_OUTPUT_ERROR;
    }
    int rc = CLI_OK;
    int status = configure(ex, x);
    if (status != VMO_OK) {
        rc = CLI_USAGE;
    } else {
        status = x->preview ? vmo_export_thumbnails(ex, res) : vmo_export_run(ex, res);
        if (status != VMO_OK) {
            cli_error("%s", vmo_export_last_error(ex));
            rc = export_exit(status);
        }
    }
    if (rc == CLI_OK && !c->quiet) {
        if (c->json)
            print_json(stdout, ex);
        else
            print_table(stdout, ex);
    }
    if (rc == CLI_OK && vmo_export_output_count(ex) == 0)
        rc = CLI_NO_MATCH;
    vmo_export_destroy(&ex);
    return rc;
}

int cmd_extract(int argc, char **argv)
{
    cli_common c;
    extract_opts x;
    memset(&x, 0, sizeof(x));
    if (cli_common_init(&c))
        return CLI_INPUT_ERROR;
    int rc = parse(&c, &x, argc, argv);
    vmo_result *res = NULL;
    if (rc == CLI_OK)
        rc = analyse(&c, &res);
    if (rc == CLI_OK)
        rc = export_result(&c, &x, res);
    /* A clip that could not be analysed is reported even when others were exported. */
    if (rc == CLI_OK && res && cli_result_exit(res) == CLI_INPUT_ERROR)
        rc = CLI_INPUT_ERROR;
    if (fflush(stdout) != 0)
        rc = CLI_OUTPUT_ERROR;
    vmo_result_destroy(&res);
    cli_common_free(&c);
    return rc < 0 ? CLI_OK : rc;
}
