/* Zone outlines for the pictures. The library checks every zone (and refuses bad ones with a
 * precise message) but does not give the geometry back, so the command keeps its own copy
 * of what it passed: these readers only see specs the library has already accepted. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static void zone_add(cli_common *c, const char *name, int kind, const double *xy, int n)
{
    cli_zone *grown = realloc(c->zones, (size_t)(c->nzones + 1) * sizeof(*grown));
    if (!grown)
        return; /* drawing is a nicety: the analysis does not need it */
    c->zones = grown;
    cli_zone *z = &c->zones[c->nzones];
    z->xy = malloc((size_t)n * 2 * sizeof(double));
    if (!z->xy)
        return;
    memcpy(z->xy, xy, (size_t)n * 2 * sizeof(double));
    snprintf(z->name, sizeof(z->name), "%s", name);
    z->kind = kind;
    z->npoints = n;
    c->nzones++;
}

static int rect_points(const double r[4], double *xy)
{
    const double pts[8] = { r[0], r[1], r[2], r[1], r[2], r[3], r[0], r[3] };
    memcpy(xy, pts, sizeof(pts));
    return 4;
}

int cli_zone_parse_spec(const char *spec, double *xy, int max_points)
{
    char *end;
    if (!strncmp(spec, "poly:", 5)) {
        int n = 0;
        const char *p = spec + 5;
        while (n < max_points) {
            xy[2 * n] = strtod(p, &end);
            if (end == p)
                break;
            p = end + strspn(end, " \t");
            if (*p++ != ',')
                return 0;
            xy[2 * n + 1] = strtod(p, &end);
            if (end == p)
                return 0;
            n++;
            p = end + strspn(end, " \t");
            if (*p != ';')
                break;
            p++;
        }
        return n;
    }
    double r[4];
    const char *p = spec;
    for (int i = 0; i < 4; i++) {
        r[i] = strtod(p, &end);
        if (end == p)
            return 0;
        p = end + strspn(end, " \t");
        if (i < 3 && *p++ != ',')
            return 0;
    }
    return max_points >= 4 ? rect_points(r, xy) : 0;
}

void cli_zone_remember_spec(cli_common *c, const char *name, int kind, const char *spec)
{
    double xy[512];
    int n = cli_zone_parse_spec(spec, xy, 256);
    if (n >= 3)
        zone_add(c, name, kind, xy, n);
}

/* "rect": [x0, y0, x1, y1] or "polygon"/"points": [[x, y], ...] into xy; returns points. */
static int json_points(json_t *zone, double *xy, int max_points)
{
    json_t *rect = json_object_get(zone, "rect");
    if (json_is_array(rect) && json_array_size(rect) == 4) {
        double r[4];
        for (int i = 0; i < 4; i++)
            r[i] = json_number_value(json_array_get(rect, (size_t)i));
        return rect_points(r, xy);
    }
    json_t *poly = json_object_get(zone, "polygon");
    if (!poly)
        poly = json_object_get(zone, "points");
    int n = 0;
    for (size_t i = 0; json_is_array(poly) && i < json_array_size(poly) && n < max_points; i++) {
        json_t *pt = json_array_get(poly, i);
        xy[2 * n] = json_number_value(json_array_get(pt, 0));
        xy[2 * n + 1] = json_number_value(json_array_get(pt, 1));
        n++;
    }
    return n;
}

void cli_zone_remember_json(cli_common *c, const char *text)
{
    json_t *root = json_loads(text, 0, NULL);
    json_t *zones = json_object_get(root, "zones");
    for (size_t i = 0; json_is_array(zones) && i < json_array_size(zones); i++) {
        json_t *z = json_array_get(zones, i);
        const char *name = json_string_value(json_object_get(z, "name"));
        int kind =
            json_is_true(json_object_get(z, "exclude")) ? VMO_ZONE_EXCLUDE : VMO_ZONE_INCLUDE;
        const char *spec = json_string_value(json_object_get(z, "spec"));
        if (!name)
            continue;
        if (spec) {
            cli_zone_remember_spec(c, name, kind, spec);
            continue;
        }
        double xy[512];
        int n = json_points(z, xy, 256);
        if (n >= 3)
            zone_add(c, name, kind, xy, n);
    }
    json_decref(root);
}
