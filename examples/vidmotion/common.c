/* Options shared by the subcommands, and error printing. */
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

int cli_common_option(cli_common *c, const char *name, const char *value)
{
    if (!strcmp(name, "zone"))
        return add_zone(c, value, VMO_ZONE_INCLUDE);
    if (!strcmp(name, "mask"))
        return add_zone(c, value, VMO_ZONE_EXCLUDE);
    if (!strcmp(name, "zones")) {
        char *text = read_text_file(value);
        if (!text) {
            cli_error("--zones %s: cannot read the file", value);
            return -1;
        }
        int rc = vmo_config_add_zones_json(c->cfg, text);
        free(text);
        if (rc != VMO_OK) {
            cli_error("--zones %s: %s", value, vmo_config_last_error(c->cfg));
            return -1;
        }
        return 1;
    }
    if (!strcmp(name, "set")) {
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
    static const char *direct[] = { "width", "threshold", "fps", "threads", "jobs", "stream" };
    for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
        if (!strcmp(name, direct[i]))
            return set_option(c, name, value);
    if (!strcmp(name, "from")) {
        c->from = value;
        return 1;
    }
    if (!strcmp(name, "to")) {
        c->to = value;
        return 1;
    }
    return 0;
}

void cli_common_help(FILE *out)
{
    fputs("Zones:\n"
          "  --zone NAME=x0,y0,x1,y1        a rectangle zone, coordinates 0..1 of the frame\n"
          "  --zone NAME=poly:x,y;x,y;...   a polygon zone (3 or more points)\n"
          "  --zones FILE                   zones from a JSON file (docs/zones.md)\n"
          "  --mask [NAME=]x0,y0,x1,y1      a privacy mask: never analysed (also poly:)\n"
          "Analysis:\n"
          "  --width N          analysis width in pixels (default 320)\n"
          "  --threshold N      pixel difference that counts as change (default 4)\n"
          "  --fps N            analyse at most N frames per second\n"
          "  --threads N        decoder threads (default: one per core)\n"
          "  --jobs N           clips analysed in parallel (default: one per core)\n"
          "  --stream N         video stream index (default: the best one)\n"
          "  --set OPTION=VALUE any library option (vidmotion --options lists them)\n",
          out);
}
