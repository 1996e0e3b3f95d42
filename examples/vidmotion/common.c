/* The options every subcommand shares, the one parser and help printer built on them, and
 * error printing. Subcommands declare which option groups they take and their own options
 * (a cli_spec); the same tables print --help, which in turn is the man page's source. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vidmotion: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_common_init(cli_common *c)
{
    memset(c, 0, sizeof(*c));
    if (vmo_config_create(&c->cfg) != VMO_OK) {
        cli_error("out of memory");
        return -1;
    }
    return 0;
}

void cli_common_free(cli_common *c)
{
    vmo_config_destroy(&c->cfg);
    free(c->files);
    c->files = NULL;
    for (int i = 0; i < c->nzones; i++)
        free(c->zones[i].xy);
    free(c->zones);
    c->zones = NULL;
    c->nzones = 0;
}

static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* "NAME=SPEC" for --zone; for --mask the name is optional (mask1, mask2, ...). */
static int add_zone(cli_common *c, const char *arg, int kind)
{
    char name[64];
    const char *spec = arg;
    const char *eq = strchr(arg, '=');
    if (eq) {
        size_t n = (size_t)(eq - arg);
        if (n == 0 || n >= sizeof(name)) {
            cli_error("--%s '%s': the name before '=' must be 1 to 63 characters",
                      kind == VMO_ZONE_INCLUDE ? "zone" : "mask", arg);
            return -1;
        }
        memcpy(name, arg, n);
        name[n] = '\0';
        spec = eq + 1;
    } else if (kind == VMO_ZONE_EXCLUDE) {
        snprintf(name, sizeof(name), "mask%d", ++c->nmasks);
    } else {
        cli_error("--zone '%s': expected NAME=x0,y0,x1,y1 or NAME=poly:x,y;x,y;...", arg);
        return -1;
    }
    int rc = vmo_config_add_zone(c->cfg, name, kind, spec);
    if (rc != VMO_OK) {
        cli_error("%s", vmo_config_last_error(c->cfg));
        return -1;
    }
    cli_zone_remember_spec(c, name, kind, spec);
    return 1;
}

static int add_zone_file(cli_common *c, const char *path)
{
    char *text = read_text_file(path);
    if (!text) {
        cli_error("--zones %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = vmo_config_add_zones_json(c->cfg, text);
    if (rc == VMO_OK)
        cli_zone_remember_json(c, text);
    free(text);
    if (rc != VMO_OK) {
        cli_error("--zones %s: %s", path, vmo_config_last_error(c->cfg));
        return -1;
    }
    return 1;
}

static int set_option(cli_common *c, const char *name, const char *value)
{
    int rc = vmo_config_set_string(c->cfg, name, value);
    if (rc != VMO_OK) {
        cli_error("%s", vmo_config_last_error(c->cfg));
        return -1;
    }
    return 1;
}

static int set_named_option(cli_common *c, const char *value)
{
    const char *eq = value ? strchr(value, '=') : NULL;
    if (!eq || eq == value) {
        cli_error("--set '%s': expected OPTION=VALUE", value ? value : "");
        return -1;
    }
    char opt[64];
    size_t n = (size_t)(eq - value);
    if (n >= sizeof(opt)) {
        cli_error("--set '%s': option name too long", value);
        return -1;
    }
    memcpy(opt, value, n);
    opt[n] = '\0';
    return set_option(c, opt, eq + 1);
}

/* --from/--to are checked here, so that a typo is a usage error before any decoding. */
static int set_time(const char **slot, const char *name, const char *value)
{
    double s;
    int kind;
    if (vmo_parse_time(value, &s, &kind) != VMO_OK) {
        cli_error("--%s '%s': not a time (seconds, HH:MM:SS.mmm, or ISO-8601 such as "
                  "2025-11-02T23:59:52Z)",
                  name, value);
        return -1;
    }
    *slot = value;
    return 1;
}

int cli_common_option(cli_common *c, const char *name, const char *value)
{
    if (!strcmp(name, "zone"))
        return add_zone(c, value, VMO_ZONE_INCLUDE);
    if (!strcmp(name, "mask"))
        return add_zone(c, value, VMO_ZONE_EXCLUDE);
    if (!strcmp(name, "zones"))
        return add_zone_file(c, value);
    if (!strcmp(name, "set"))
        return set_named_option(c, value);
    static const char *direct[] = { "width", "threshold", "fps", "threads", "jobs", "stream" };
    for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
        if (!strcmp(name, direct[i]))
            return set_option(c, name, value);
    if (!strcmp(name, "from"))
        return set_time(&c->from, name, value);
    if (!strcmp(name, "to"))
        return set_time(&c->to, name, value);
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * The shared option tables: one entry per option, its group, and its help
 * ---------------------------------------------------------------------------------------- */

typedef struct shared_option {
    unsigned group;
    cli_option opt;
} shared_option;

enum { KEY_SHARED = 0x10000 }; /* getopt values of shared long-only options */

/* clang-format off */
static const shared_option shared[] = {
    { CLI_G_RESULT, { "json", KEY_SHARED, NULL,
      "print the result as one JSON document (docs/json.md)" } },
    { CLI_G_RESULT, { "jsonl", KEY_SHARED, NULL,
      "JSON lines: each event as it starts and ends, while the scan\n"
      "runs, then the clips and the final segments (docs/cli.md)" } },
    { CLI_G_RESULT, { "frames", KEY_SHARED, NULL,
      "with --json: also every analysed frame's scores" } },
    { CLI_G_QUIET, { "quiet", 'q', NULL,
      "no progress line (it is shown only when stderr is a terminal)" } },
    { CLI_G_WINDOW, { "from", KEY_SHARED, "T",
      "start of the time window: ISO-8601 wall clock\n"
      "(2025-11-02T23:59:52Z, 2025-11-03 01:00:00+01:00), or seconds\n"
      "or HH:MM:SS.mmm from each clip's start" } },
    { CLI_G_WINDOW, { "to", KEY_SHARED, "T", "end of the time window (the same forms)" } },
    { CLI_G_ZONES, { "zone", KEY_SHARED, "NAME=SPEC",
      "a zone to report on: x0,y0,x1,y1 (a rectangle in 0..1 of\n"
      "the frame) or poly:x,y;x,y;x,y... (a polygon)" } },
    { CLI_G_ZONES, { "zones", KEY_SHARED, "FILE",
      "zones (and masks) from a JSON file (docs/zones.md)" } },
    { CLI_G_ZONES, { "mask", KEY_SHARED, "[NAME=]SPEC",
      "a privacy mask: never analysed (same SPEC forms)" } },
    { CLI_G_ANALYSIS, { "width", KEY_SHARED, "N", "analysis width in pixels (default 320)" } },
    { CLI_G_ANALYSIS, { "threshold", KEY_SHARED, "N",
      "pixel difference that counts as change (default 4)" } },
    { CLI_G_ANALYSIS, { "fps", KEY_SHARED, "N", "analyse at most N frames per second" } },
    { CLI_G_ANALYSIS, { "threads", KEY_SHARED, "N", "decoder threads (default: one per core)" } },
    { CLI_G_ANALYSIS, { "jobs", KEY_SHARED, "N",
      "clips analysed in parallel (default: one per core)" } },
    { CLI_G_ANALYSIS, { "stream", KEY_SHARED, "N", "video stream index (default: the best one)" } },
    { CLI_G_ANALYSIS, { "set", KEY_SHARED, "OPTION=VALUE",
      "any library option ('vidmotion --options' lists them)" } },
};
/* clang-format on */

#define NSHARED (sizeof(shared) / sizeof(shared[0]))

static const struct {
    unsigned group;
    const char *heading;
} group_headings[] = {
    { CLI_G_RESULT | CLI_G_QUIET, "Output:" },
    { CLI_G_WINDOW, "Time window:" },
    { CLI_G_ZONES, "Zones:" },
    { CLI_G_ANALYSIS, "Analysis:" },
};

static const cli_option help_option = { "help", 'h', NULL, "this help" };

/* "  -q, --quiet" / "  --zone NAME=SPEC" */
static int option_label(const cli_option *o, char *buf, size_t size)
{
    int n = 0;
    if (o->key > 0 && o->key < 128)
        n = snprintf(buf, size, "  -%c, --%s", o->key, o->name);
    else
        n = snprintf(buf, size, "  --%s", o->name);
    if (o->arg)
        n += snprintf(buf + n, size - (size_t)n,
                      o->arg[0] == '[' && o->arg[1] == '=' ? "%s" : " %s", o->arg);
    return n;
}

#define HELP_COLUMN 24

static void print_option(FILE *out, const cli_option *o)
{
    char label[96];
    int n = option_label(o, label, sizeof(label));
    const char *text = o->help;
    fputs(label, out);
    if (n + 2 > HELP_COLUMN) {
        fputc('\n', out);
        n = 0;
    }
    for (int first = 1; text; first = 0) {
        const char *nl = strchr(text, '\n');
        int len = nl ? (int)(nl - text) : (int)strlen(text);
        fprintf(out, "%*s%.*s\n", first ? HELP_COLUMN - n : HELP_COLUMN, "", len, text);
        text = nl ? nl + 1 : NULL;
    }
}

static void print_group(FILE *out, unsigned groups, unsigned group, const char *heading)
{
    int printed = 0;
    for (size_t i = 0; i < NSHARED; i++) {
        if (!(shared[i].group & group & groups))
            continue;
        if (!printed++)
            fprintf(out, "%s\n", heading);
        print_option(out, &shared[i].opt);
    }
}

void cli_help(const cli_spec *spec, FILE *out)
{
    fprintf(out, "usage: vidmotion %s %s\n%s\n\n", spec->name, spec->args, spec->about);
    int help_printed = 0;
    if (spec->own && spec->own[0].name) {
        fprintf(out, "%s\n", spec->heading ? spec->heading : "Options:");
        for (const cli_option *o = spec->own; o->name; o++)
            print_option(out, o);
        print_option(out, &help_option);
        help_printed = 1;
    }
    for (size_t g = 0; g < sizeof(group_headings) / sizeof(group_headings[0]); g++) {
        if (!(spec->groups & group_headings[g].group))
            continue;
        print_group(out, spec->groups, group_headings[g].group, group_headings[g].heading);
        if (!help_printed++)
            print_option(out, &help_option);
    }
    if (!help_printed)
        print_option(out, &help_option);
    if (spec->exit_text)
        fprintf(out, "\nExit status: %s\n", spec->exit_text);
}

void cli_common_help(FILE *out)
{
    print_group(out, CLI_G_ZONES, CLI_G_ZONES, "Zones:");
    print_group(out, CLI_G_ANALYSIS, CLI_G_ANALYSIS, "Analysis:");
}

/* ------------------------------------------------------------------------------------------
 * cli_parse: getopt_long over the selected shared options and the command's own
 * ---------------------------------------------------------------------------------------- */

typedef struct parse_table {
    struct option longs[64];
    const cli_option *from[64]; /* the entry each long option came from */
    int shared_entry[64];       /* 1 when it is a shared option */
    int n;
    char shorts[64];
} parse_table;

static void table_add(parse_table *t, const cli_option *o, int is_shared)
{
    if (t->n >= 63)
        return;
    int i = t->n++;
    t->from[i] = o;
    t->shared_entry[i] = is_shared;
    t->longs[i].name = o->name;
    t->longs[i].has_arg = !o->arg                                ? no_argument
                          : o->arg[0] == '[' && o->arg[1] == '=' ? optional_argument
                                                                 : required_argument;
    t->longs[i].flag = NULL;
    t->longs[i].val = 0;
    if (o->key > 0 && o->key < 128) {
        size_t len = strlen(t->shorts);
        t->shorts[len] = (char)o->key;
        if (o->arg)
            t->shorts[len + 1] = ':';
    }
}

static void build_table(const cli_spec *spec, parse_table *t)
{
    memset(t, 0, sizeof(*t));
    for (const cli_option *o = spec->own; o && o->name; o++)
        table_add(t, o, 0);
    for (size_t i = 0; i < NSHARED; i++)
        if (shared[i].group & spec->groups)
            table_add(t, &shared[i].opt, 1);
    table_add(t, &help_option, 1);
}

static int shared_switch(cli_common *c, const char *name)
{
    if (!strcmp(name, "json"))
        c->json = 1;
    else if (!strcmp(name, "jsonl"))
        c->jsonl = 1;
    else if (!strcmp(name, "frames"))
        c->frames = 1;
    else if (!strcmp(name, "quiet"))
        c->quiet = 1;
    else
        return 0;
    return 1;
}

/* One parsed option: the table entry `i`. */
static int handle(const cli_spec *spec, cli_common *c, const parse_table *t, int i, const char *arg,
                  cli_own_fn own, void *user)
{
    const cli_option *o = t->from[i];
    if (!t->shared_entry[i])
        return own(user, o->key, arg);
    if (!strcmp(o->name, "help")) {
        cli_help(spec, stdout);
        return -1;
    }
    if (shared_switch(c, o->name))
        return CLI_OK;
    return cli_common_option(c, o->name, arg) < 0 ? CLI_USAGE : CLI_OK;
}

static int find_short(const parse_table *t, int ch)
{
    for (int i = 0; i < t->n; i++)
        if (t->from[i]->key == ch)
            return i;
    return -1;
}

static int take_operands(const cli_spec *spec, cli_common *c, int argc, char **argv)
{
    c->files = calloc((size_t)(argc - optind + 1), sizeof(char *));
    if (!c->files) {
        cli_error("out of memory");
        return CLI_USAGE;
    }
    for (int i = optind; i < argc; i++)
        c->files[c->nfiles++] = argv[i];
    if (c->nfiles < spec->min_files) {
        cli_error("%s: no input file (try 'vidmotion %s --help')", spec->name, spec->name);
        return CLI_USAGE;
    }
    if (c->json && c->jsonl) {
        cli_error("%s: --json and --jsonl exclude each other", spec->name);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_parse(const cli_spec *spec, cli_common *c, int argc, char **argv, cli_own_fn own,
              void *user)
{
    parse_table t;
    build_table(spec, &t);
    char optstring[80];
    snprintf(optstring, sizeof(optstring), ":%s", t.shorts); /* ':': we print the errors */
    int ch, index;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, optstring, t.longs, &index)) != -1) {
        int i = ch == 0 ? index : ch == '?' || ch == ':' ? -1 : find_short(&t, ch);
        if (i < 0) {
            char what[80];
            if (optopt > 0 && optopt < 128 && optopt != KEY_SHARED)
                snprintf(what, sizeof(what), "-%c", optopt);
            else
                snprintf(what, sizeof(what), "%s", argv[optind - 1]);
            if (ch == ':')
                cli_error("%s: %s needs a value (try 'vidmotion %s --help')", spec->name, what,
                          spec->name);
            else
                cli_error("%s: unknown option '%s' (try 'vidmotion %s --help')", spec->name, what,
                          spec->name);
            return CLI_USAGE;
        }
        int rc = handle(spec, c, &t, i, optarg, own, user);
        if (rc != CLI_OK)
            return rc;
    }
    return take_operands(spec, c, argc, argv);
}
