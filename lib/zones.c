/* Zones: parsing and validation of rectangles, polygons and zone files (docs/zones.md), and
 * rasterization onto the analysis grid.
 *
 * Rasterization rule: pixel (x, y) of a w x h grid is inside a polygon when its centre
 * ((x + 0.5) / w, (y + 0.5) / h) is inside by the even-odd rule, with edges half-open:
 * an edge crosses the row through centre cy when ymin <= cy < ymax, and a pixel is inside
 * when an odd number of crossings lie at or left of its centre. So a rectangle x0,y0,x1,y1
 * covers exactly the pixels with x0 <= cx < x1 and y0 <= cy < y1, and polygons that share
 * an edge or a vertex never both claim (nor both miss) a pixel on it.
 *
 * The scanline fill toggles a marker at the first pixel at or right of each crossing and
 * then takes a running XOR along the row: parity needs no sorted crossings, and the cost
 * is O(crossings + pixels). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"
#include "zones.h"

/* Even-odd area (fraction of the frame) below which a polygon counts as degenerate. Far
 * above rounding noise of decimal inputs (~1e-16), far below a pixel of any real frame. */
#define ZONE_AREA_MIN 1e-10
/* Largest analysis grid side: keeps width * height and every index within int. */
#define ZONE_MAP_DIM_MAX 32768
/* Open-addressing table of overlap classes: a power of two, at least twice 256. */
#define CLASS_SLOTS 512
/* Untrusted names and keys are shown at most this long in messages. */
#define SHOW_MAX 40

/* ------------------------------------------------------------------------------------------
 * Messages
 * ---------------------------------------------------------------------------------------- */

/* A printable, bounded copy of an untrusted string for error messages. */
static const char *show(const char *s, char *buf, size_t size)
{
    size_t i = 0;
    const size_t limit = VMO_MIN(size - 4, (size_t)SHOW_MAX);
    for (; s[i] && i < limit; i++)
        buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
    if (s[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* "zone 'porch'": the subject of messages about one zone. */
static void zone_context(char *ctx, size_t size, const char *name)
{
    char shown[SHOW_MAX + 4];
    snprintf(ctx, size, "zone '%s'", show(name, shown, sizeof(shown)));
}

/* ------------------------------------------------------------------------------------------
 * Zone sets
 * ---------------------------------------------------------------------------------------- */

static int count_kind(const vmo_zone_set *set, int kind)
{
    int n = 0;
    for (int i = 0; set && i < set->count; i++)
        n += set->zones[i].kind == kind;
    return n;
}

static int has_name(const vmo_zone_set *set, const char *name)
{
    for (int i = 0; set && i < set->count; i++)
        if (!strcmp(set->zones[i].name, name))
            return 1;
    return 0;
}

static int name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* Name syntax, uniqueness against the set and the zones still pending in the same call,
 * and the per-kind count. "frame" names the implicit whole-frame zone, which only exists
 * while there is no include zone: an include zone may take the name (it then replaces
 * that zone), an exclude zone may not (it would share a name with a reported zone). */
static int check_name(const vmo_zone_set *set, const vmo_zone_set *pending, const char *name,
                      int kind, const char *ctx, vmo_errbuf *err)
{
    const size_t len = strnlen(name, VMO_ZONE_NAME_MAX);
    if (!len)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: the zone name is empty", ctx);
    if (len >= VMO_ZONE_NAME_MAX)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: the name is longer than %d characters", ctx,
                           VMO_ZONE_NAME_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if (!name_char_ok(name[i]))
            return vmo_err_set(err, VMO_ERR_BAD_ZONE,
                               "%s: character %zu of the name is not one of A-Z a-z 0-9 _ . -", ctx,
                               i + 1);
    if (kind == VMO_ZONE_EXCLUDE && !strcmp(name, "frame"))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE,
                           "%s: 'frame' is the whole-frame zone; an exclude zone cannot use it",
                           ctx);
    if (has_name(set, name) || has_name(pending, name))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: a zone of that name already exists", ctx);
    if (count_kind(set, kind) + count_kind(pending, kind) >= VMO_MAX_ZONES)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: too many %s zones (at most %d)", ctx,
                           kind == VMO_ZONE_EXCLUDE ? "exclude" : "include", VMO_MAX_ZONES);
    return VMO_OK;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* x where the edge from (xa, ya) to (xb, yb) meets the line at height y, always evaluated
 * from the upper end (smaller y): the same edge traversed either way, or shared by two
 * polygons, then gives bit-identical crossings. */
static double edge_x_at(double xa, double ya, double xb, double yb, double y)
{
    if (yb < ya) {
        double t = xa;
        xa = xb;
        xb = t;
        t = ya;
        ya = yb;
        yb = t;
    }
    return xa + (y - ya) * (xb - xa) / (yb - ya);
}

/* Even-odd width of the polygon along the line at height y. */
static double even_odd_width(const double *xy, uint32_t n, double y, double *xs)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        const double *a = xy + 2 * i, *b = xy + 2 * ((i + 1) % n);
        if ((a[1] <= y && y < b[1]) || (b[1] <= y && y < a[1]))
            xs[k++] = edge_x_at(a[0], a[1], b[0], b[1], y);
    }
    qsort(xs, k, sizeof(*xs), cmp_double);
    double w = 0.0;
    for (uint32_t i = 0; i + 1 < k; i += 2)
        w += xs[i + 1] - xs[i];
    return w;
}

/* Even-odd area. Between consecutive vertex heights the width is piecewise linear (kinks
 * only where edges cross), so two Gauss points per slab give the area of simple polygons
 * exactly and of self-intersecting ones closely enough to tell zero from non-zero. */
static double even_odd_area(const double *xy, uint32_t n)
{
    double ys[VMO_ZONE_MAX_POINTS], xs[VMO_ZONE_MAX_POINTS];
    for (uint32_t i = 0; i < n; i++)
        ys[i] = xy[2 * i + 1];
    qsort(ys, n, sizeof(*ys), cmp_double);
    double area = 0.0;
    for (uint32_t i = 0; i + 1 < n; i++) {
        const double h = ys[i + 1] - ys[i];
        if (h <= 0)
            continue;
        const double w1 = even_odd_width(xy, n, ys[i] + h * 0.21132486540518713, xs);
        const double w2 = even_odd_width(xy, n, ys[i] + h * 0.78867513459481287, xs);
        area += h * (w1 + w2) * 0.5;
    }
    return area;
}

/* All points within 1e-9 of the line through point 0 and the point farthest from it. */
static int all_collinear(const double *xy, uint32_t n)
{
    uint32_t far = 0;
    double far_d2 = 0.0;
    for (uint32_t i = 1; i < n; i++) {
        const double dx = xy[2 * i] - xy[0], dy = xy[2 * i + 1] - xy[1];
        if (dx * dx + dy * dy > far_d2) {
            far_d2 = dx * dx + dy * dy;
            far = i;
        }
    }
    const double ux = xy[2 * far] - xy[0], uy = xy[2 * far + 1] - xy[1];
    for (uint32_t i = 1; i < n; i++) {
        const double cross = ux * (xy[2 * i + 1] - xy[1]) - uy * (xy[2 * i] - xy[0]);
        if (cross * cross > 1e-18 * far_d2)
            return 0;
    }
    return 1;
}

/* Point count, 0..1 range, no repeated neighbours, non-zero even-odd area. Points are
 * numbered from 1 in messages, as a user counts them in a spec or file. */
static int check_polygon(const double *xy, uint32_t n, const char *ctx, vmo_errbuf *err)
{
    if (n < 3)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: a polygon needs at least 3 points, not %u",
                           ctx, (unsigned)n);
    if (n > VMO_ZONE_MAX_POINTS)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: a polygon has at most %d points, not %u",
                           ctx, VMO_ZONE_MAX_POINTS, (unsigned)n);
    for (uint32_t i = 0; i < 2 * n; i++)
        if (!(xy[i] >= 0.0 && xy[i] <= 1.0)) /* also catches NaN */
            return vmo_err_set(err, VMO_ERR_BAD_ZONE,
                               "%s: %c of point %u is %g, outside 0..1 (coordinates are "
                               "fractions of the frame)",
                               ctx, i % 2 ? 'y' : 'x', (unsigned)(i / 2 + 1), xy[i]);
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t j = (i + 1) % n;
        if (xy[2 * i] == xy[2 * j] && xy[2 * i + 1] == xy[2 * j + 1])
            return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: points %u and %u are the same%s", ctx,
                               (unsigned)(VMO_MIN(i, j) + 1), (unsigned)(VMO_MAX(i, j) + 1),
                               j == 0 ? " (a polygon closes itself: do not repeat the first "
                                        "point)"
                                      : "");
    }
    if (even_odd_area(xy, n) < ZONE_AREA_MIN)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: the polygon has zero area (%s)", ctx,
                           all_collinear(xy, n) ? "all its points lie on one line"
                                                : "its outline retraces itself");
    return VMO_OK;
}

/* Rectangle checks with messages in its own terms, then the 4-point polygon. */
static int rect_to_polygon(const double r[4], double xy[8], const char *ctx, vmo_errbuf *err)
{
    static const char *const names[4] = { "x0", "y0", "x1", "y1" };
    for (int i = 0; i < 4; i++)
        if (!(r[i] >= 0.0 && r[i] <= 1.0))
            return vmo_err_set(err, VMO_ERR_BAD_ZONE,
                               "%s: %s is %g, outside 0..1 (coordinates are fractions of the "
                               "frame)",
                               ctx, names[i], r[i]);
    if (!(r[0] < r[2]))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: x0 (%g) must be less than x1 (%g)", ctx,
                           r[0], r[2]);
    if (!(r[1] < r[3]))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: y0 (%g) must be less than y1 (%g)", ctx,
                           r[1], r[3]);
    const double pts[8] = { r[0], r[1], r[2], r[1], r[2], r[3], r[0], r[3] };
    memcpy(xy, pts, sizeof(pts));
    return VMO_OK;
}

/* Appends a validated zone (copying xy). */
static int append_zone(vmo_zone_set *set, const char *name, int kind, const double *xy, uint32_t n)
{
    if (set->count == set->capacity) {
        const int cap = set->capacity ? set->capacity * 2 : 8;
        vmo_zone *grown = realloc(set->zones, (size_t)cap * sizeof(*grown));
        if (!grown)
            return VMO_ERR_NO_MEMORY;
        set->zones = grown;
        set->capacity = cap;
    }
    double *copy = malloc((size_t)n * 2 * sizeof(*copy));
    if (!copy)
        return VMO_ERR_NO_MEMORY;
    memcpy(copy, xy, (size_t)n * 2 * sizeof(*copy));
    vmo_zone *z = &set->zones[set->count++];
    memset(z, 0, sizeof(*z));
    snprintf(z->name, sizeof(z->name), "%s", name);
    z->kind = kind;
    z->npoints = n;
    z->xy = copy;
    return VMO_OK;
}

static int check_call(const vmo_zone_set *set, const char *name, int kind, const void *data,
                      vmo_errbuf *err)
{
    if (!set || !name || !data)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "zone: NULL argument");
    if (kind != VMO_ZONE_INCLUDE && kind != VMO_ZONE_EXCLUDE)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "zone: kind %d is neither include nor exclude",
                           kind);
    return VMO_OK;
}

int vmo_zone_set_add_polygon(vmo_zone_set *set, const char *name, int kind, const double *xy,
                             uint32_t npoints, vmo_errbuf *err)
{
    char ctx[64];
    int rc = check_call(set, name, kind, xy, err);
    if (rc != VMO_OK)
        return rc;
    zone_context(ctx, sizeof(ctx), name);
    rc = check_name(set, NULL, name, kind, ctx, err);
    if (rc == VMO_OK)
        rc = check_polygon(xy, npoints, ctx, err);
    if (rc != VMO_OK)
        return rc;
    rc = append_zone(set, name, kind, xy, npoints);
    return rc == VMO_OK ? rc : vmo_err_set(err, rc, "%s: out of memory", ctx);
}

/* ------------------------------------------------------------------------------------------
 * Spec strings: "x0,y0,x1,y1" and "poly:x,y;x,y;..."
 * ---------------------------------------------------------------------------------------- */

static const char *skip_blank(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A coordinate with blanks around it. A '-' is read so that "-0.1" gets the clearer
 * "outside 0..1" message; the range itself is checked with the whole zone. */
static const char *scan_coord(const char *p, double *v)
{
    p = skip_blank(p);
    const int neg = *p == '-';
    p = vmo_scan_decimal(p + neg, v);
    if (!p)
        return NULL;
    if (neg)
        *v = -*v;
    return skip_blank(p);
}

/* Where a spec stopped making sense, for the message: the 1-based offset and the text. */
static int spec_error(const char *ctx, const char *spec, const char *at, const char *what,
                      vmo_errbuf *err)
{
    char shown[SHOW_MAX + 4];
    return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: %s at character %zu of the spec (\"%s\")", ctx,
                       what, (size_t)(at - spec) + 1, show(at, shown, sizeof(shown)));
}

static int parse_poly_spec(const char *spec, const char *p, double *xy, uint32_t *n,
                           const char *ctx, vmo_errbuf *err)
{
    uint32_t k = 0;
    for (;;) {
        const char *q;
        if (k == VMO_ZONE_MAX_POINTS)
            return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: a polygon has at most %d points", ctx,
                               VMO_ZONE_MAX_POINTS);
        if (!(q = scan_coord(p, &xy[2 * k])))
            return spec_error(ctx, spec, p, "expected a number (x)", err);
        if (*q != ',')
            return spec_error(ctx, spec, q, "expected ',' between x and y", err);
        p = q + 1;
        if (!(q = scan_coord(p, &xy[2 * k + 1])))
            return spec_error(ctx, spec, p, "expected a number (y)", err);
        k++;
        if (!*q)
            break;
        if (*q != ';')
            return spec_error(ctx, spec, q, "expected ';' or the end after a point", err);
        p = q + 1;
    }
    *n = k;
    return VMO_OK;
}

static int parse_rect_spec(const char *spec, const char *p, double r[4], const char *ctx,
                           vmo_errbuf *err)
{
    for (int i = 0; i < 4; i++) {
        const char *q = scan_coord(p, &r[i]);
        if (!q)
            return spec_error(ctx, spec, p, "expected a number", err);
        if (i < 3 && *q != ',')
            return spec_error(ctx, spec, q,
                              "expected ',' (a rectangle is x0,y0,x1,y1; a polygon "
                              "poly:x,y;x,y;...)",
                              err);
        if (i == 3 && *q)
            return spec_error(ctx, spec, q, "unexpected text after the rectangle", err);
        p = q + 1;
    }
    return VMO_OK;
}

/* Parses and validates a spec into xy (room for VMO_ZONE_MAX_POINTS points). */
static int parse_spec(const char *spec, double *xy, uint32_t *n, const char *ctx, vmo_errbuf *err)
{
    const char *p = skip_blank(spec);
    int rc;
    if (!strncmp(p, "poly:", 5)) {
        rc = parse_poly_spec(spec, p + 5, xy, n, ctx, err);
    } else {
        double r[4];
        rc = parse_rect_spec(spec, p, r, ctx, err);
        if (rc == VMO_OK)
            rc = rect_to_polygon(r, xy, ctx, err);
        *n = 4;
    }
    return rc == VMO_OK ? check_polygon(xy, *n, ctx, err) : rc;
}

int vmo_zone_set_add_spec(vmo_zone_set *set, const char *name, int kind, const char *spec,
                          vmo_errbuf *err)
{
    double xy[2 * VMO_ZONE_MAX_POINTS];
    uint32_t n = 0;
    char ctx[64];
    int rc = check_call(set, name, kind, spec, err);
    if (rc != VMO_OK)
        return rc;
    zone_context(ctx, sizeof(ctx), name);
    rc = check_name(set, NULL, name, kind, ctx, err);
    if (rc == VMO_OK)
        rc = parse_spec(spec, xy, &n, ctx, err);
    if (rc != VMO_OK)
        return rc;
    rc = append_zone(set, name, kind, xy, n);
    return rc == VMO_OK ? rc : vmo_err_set(err, rc, "%s: out of memory", ctx);
}

/* ------------------------------------------------------------------------------------------
 * Zone files (JSON)
 * ---------------------------------------------------------------------------------------- */

static int json_rect(const json_t *v, double *xy, const char *ctx, vmo_errbuf *err)
{
    double r[4];
    if (!json_is_array(v) || json_array_size(v) != 4)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE,
                           "%s: \"rect\" must be an array of 4 numbers [x0, y0, x1, y1]", ctx);
    for (size_t i = 0; i < 4; i++) {
        const json_t *c = json_array_get(v, i);
        if (!json_is_number(c))
            return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: \"rect\" item %zu is not a number", ctx,
                               i + 1);
        r[i] = json_number_value(c);
    }
    return rect_to_polygon(r, xy, ctx, err);
}

static int json_polygon(const json_t *v, const char *key, double *xy, uint32_t *n, const char *ctx,
                        vmo_errbuf *err)
{
    if (!json_is_array(v))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: \"%s\" must be an array of [x, y] points",
                           ctx, key);
    const size_t count = json_array_size(v);
    if (count < 3 || count > VMO_ZONE_MAX_POINTS)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: \"%s\" has %zu points (3..%d allowed)", ctx,
                           key, count, VMO_ZONE_MAX_POINTS);
    for (size_t i = 0; i < count; i++) {
        const json_t *pt = json_array_get(v, i);
        const json_t *x = json_array_get(pt, 0), *y = json_array_get(pt, 1);
        if (!json_is_array(pt) || json_array_size(pt) != 2 || !json_is_number(x) ||
            !json_is_number(y))
            return vmo_err_set(err, VMO_ERR_BAD_ZONE,
                               "%s: \"%s\" point %zu is not an array of two numbers [x, y]", ctx,
                               key, i + 1);
        xy[2 * i] = json_number_value(x);
        xy[2 * i + 1] = json_number_value(y);
    }
    *n = (uint32_t)count;
    return VMO_OK;
}

static int is_known_key(const char *key)
{
    static const char *const keys[] = { "name", "exclude", "rect", "polygon", "points", "spec" };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(keys); i++)
        if (!strcmp(key, keys[i]))
            return 1;
    return 0;
}

/* Exactly one geometry: "rect", "polygon" (alias "points") or "spec". */
static int json_geometry(const json_t *entry, double *xy, uint32_t *n, const char *ctx,
                         vmo_errbuf *err)
{
    const json_t *rect = json_object_get(entry, "rect");
    const json_t *poly = json_object_get(entry, "polygon");
    const json_t *points = json_object_get(entry, "points");
    const json_t *spec = json_object_get(entry, "spec");
    if (!!rect + !!poly + !!points + !!spec != 1)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE,
                           "%s: needs exactly one of \"rect\", \"polygon\" (or \"points\") "
                           "and \"spec\"",
                           ctx);
    int rc;
    if (rect) {
        *n = 4;
        rc = json_rect(rect, xy, ctx, err);
    } else if (spec) {
        if (!json_is_string(spec))
            return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: \"spec\" must be a string", ctx);
        return parse_spec(json_string_value(spec), xy, n, ctx, err);
    } else {
        rc = json_polygon(poly ? poly : points, poly ? "polygon" : "points", xy, n, ctx, err);
    }
    return rc == VMO_OK ? check_polygon(xy, *n, ctx, err) : rc;
}

/* One element of "zones", validated against the set and the zones before it, and added to
 * `pending`. */
static int json_zone(const json_t *entry, size_t index, const vmo_zone_set *set,
                     vmo_zone_set *pending, vmo_errbuf *err)
{
    char ctx[96], shown[SHOW_MAX + 4];
    double xy[2 * VMO_ZONE_MAX_POINTS];
    uint32_t n = 0;
    const char *key;
    const json_t *value;

    snprintf(ctx, sizeof(ctx), "zones[%zu]", index);
    if (!json_is_object(entry))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: expected an object", ctx);
    const json_t *name = json_object_get(entry, "name");
    if (!json_is_string(name))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: needs a \"name\" string", ctx);
    snprintf(ctx, sizeof(ctx), "zones[%zu] ('%s')", index,
             show(json_string_value(name), shown, sizeof(shown)));
    /* Unknown keys are errors: a misspelt "exclude" must not turn a privacy mask into a
     * reported zone without a word. */
    json_object_foreach((json_t *)entry, key, value)
    {
        if (!is_known_key(key))
            return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: unknown key \"%s\"", ctx,
                               show(key, shown, sizeof(shown)));
    }
    const json_t *exclude = json_object_get(entry, "exclude");
    if (exclude && !json_is_boolean(exclude))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "%s: \"exclude\" must be true or false", ctx);
    const int kind = json_is_true(exclude) ? VMO_ZONE_EXCLUDE : VMO_ZONE_INCLUDE;
    int rc = check_name(set, pending, json_string_value(name), kind, ctx, err);
    if (rc == VMO_OK)
        rc = json_geometry(entry, xy, &n, ctx, err);
    if (rc != VMO_OK)
        return rc;
    rc = append_zone(pending, json_string_value(name), kind, xy, n);
    return rc == VMO_OK ? rc : vmo_err_set(err, rc, "%s: out of memory", ctx);
}

static int json_zone_file(const json_t *root, const vmo_zone_set *set, vmo_zone_set *pending,
                          vmo_errbuf *err)
{
    char shown[SHOW_MAX + 4];
    const char *key;
    const json_t *value;
    if (!json_is_object(root))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE,
                           "zones JSON: expected an object {\"zones\": [...]} at the top level");
    json_object_foreach((json_t *)root, key, value)
    {
        if (strcmp(key, "zones"))
            return vmo_err_set(err, VMO_ERR_BAD_ZONE, "zones JSON: unknown key \"%s\"",
                               show(key, shown, sizeof(shown)));
    }
    const json_t *zones = json_object_get(root, "zones");
    if (!json_is_array(zones))
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "zones JSON: needs a \"zones\" array");
    const size_t count = json_array_size(zones);
    if (count > 2 * VMO_MAX_ZONES)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE,
                           "zones JSON: %zu zones (at most %d include and %d exclude zones)", count,
                           VMO_MAX_ZONES, VMO_MAX_ZONES);
    for (size_t i = 0; i < count; i++) {
        const int rc = json_zone(json_array_get(zones, i), i, set, pending, err);
        if (rc != VMO_OK)
            return rc;
    }
    return VMO_OK;
}

/* Moves every zone of src to the end of dst, or nothing (only the array can fail). */
static int move_zones(vmo_zone_set *dst, vmo_zone_set *src)
{
    if (!src->count)
        return VMO_OK;
    if (dst->count + src->count > dst->capacity) {
        const int cap = dst->count + src->count;
        vmo_zone *grown = realloc(dst->zones, (size_t)cap * sizeof(*grown));
        if (!grown)
            return VMO_ERR_NO_MEMORY;
        dst->zones = grown;
        dst->capacity = cap;
    }
    memcpy(dst->zones + dst->count, src->zones, (size_t)src->count * sizeof(*src->zones));
    dst->count += src->count;
    src->count = 0; /* the polygons now belong to dst */
    return VMO_OK;
}

int vmo_zone_set_add_json(vmo_zone_set *set, const char *json, vmo_errbuf *err)
{
    json_error_t jerr;
    vmo_zone_set pending = { NULL, 0, 0 };
    if (!set || !json)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "zones JSON: NULL argument");
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return vmo_err_set(err, VMO_ERR_BAD_ZONE, "zones JSON, line %d column %d: %s", jerr.line,
                           jerr.column, jerr.text);
    int rc = json_zone_file(root, set, &pending, err);
    if (rc == VMO_OK) {
        rc = move_zones(set, &pending);
        if (rc != VMO_OK)
            vmo_err_set(err, rc, "zones JSON: out of memory");
    }
    vmo_zone_set_clear(&pending);
    json_decref(root);
    return rc;
}

int vmo_zone_set_copy(vmo_zone_set *dst, const vmo_zone_set *src)
{
    vmo_zone_set tmp = { NULL, 0, 0 };
    if (!dst || !src)
        return VMO_ERR_INVALID_ARG;
    if (dst == src)
        return VMO_OK;
    for (int i = 0; i < src->count; i++) {
        const vmo_zone *z = &src->zones[i];
        if (append_zone(&tmp, z->name, z->kind, z->xy, z->npoints) != VMO_OK) {
            vmo_zone_set_clear(&tmp);
            return VMO_ERR_NO_MEMORY;
        }
    }
    vmo_zone_set_clear(dst);
    *dst = tmp;
    return VMO_OK;
}

void vmo_zone_set_clear(vmo_zone_set *set)
{
    if (!set)
        return;
    for (int i = 0; i < set->count; i++)
        free(set->zones[i].xy);
    free(set->zones);
    set->zones = NULL;
    set->count = 0;
    set->capacity = 0;
}

int vmo_zone_set_find(const vmo_zone_set *set, const char *name)
{
    int index = 0;
    for (int i = 0; set && name && i < set->count; i++) {
        if (set->zones[i].kind != VMO_ZONE_INCLUDE)
            continue;
        if (!strcmp(set->zones[i].name, name))
            return index;
        index++;
    }
    return -1;
}

int vmo_zone_set_include_count(const vmo_zone_set *set)
{
    return count_kind(set, VMO_ZONE_INCLUDE);
}

/* ------------------------------------------------------------------------------------------
 * Rasterization
 * ---------------------------------------------------------------------------------------- */

/* One non-horizontal polygon edge prepared for scanning. */
typedef struct scan_edge {
    double xa, ya, xb, yb; /* endpoints, (xa, ya) the upper one */
    int r0, r1;            /* rows it crosses: r0 <= row < r1 */
    int bit;               /* map: 0..63 include zone, 64..127 exclude zone */
} scan_edge;

static double centre(int i, int n)
{
    return ((double)i + 0.5) / (double)n;
}

/* Smallest i in [0, n] with centre(i, n) >= v. Comparing with the very expression of the
 * pixel-centre rule (not v * n) keeps borders exact, e.g. x0 <= cx < x1 for rectangles. */
static int first_centre_at_or_after(double v, int n)
{
    if (!(v > centre(0, n))) /* NaN included */
        return 0;
    if (v > centre(n - 1, n))
        return n;
    int i = (int)(v * n - 0.5); /* in [0, n - 1] here; off by at most one */
    while (i > 0 && centre(i - 1, n) >= v)
        i--;
    while (i < n && centre(i, n) < v)
        i++;
    return i;
}

/* Prepares edge a -> b; returns 0 for edges that cross no row centre (horizontal ones). */
static int scan_edge_init(scan_edge *e, const double *a, const double *b, int height)
{
    if (a[1] == b[1])
        return 0;
    const double *top = a[1] < b[1] ? a : b, *bottom = a[1] < b[1] ? b : a;
    e->xa = top[0];
    e->ya = top[1];
    e->xb = bottom[0];
    e->yb = bottom[1];
    e->r0 = first_centre_at_or_after(e->ya, height);
    e->r1 = first_centre_at_or_after(e->yb, height);
    return e->r0 < e->r1;
}

/* Column of the first pixel whose centre is at or right of the edge on row r (may be w). */
static int scan_edge_col(const scan_edge *e, int r, int width, int height)
{
    return first_centre_at_or_after(edge_x_at(e->xa, e->ya, e->xb, e->yb, centre(r, height)),
                                    width);
}

void vmo_polygon_rasterize(const double *xy, uint32_t npoints, int width, int height, uint8_t *mask)
{
    if (!mask || width <= 0 || height <= 0)
        return;
    memset(mask, 0, (size_t)width * (size_t)height);
    if (!xy || npoints < 3)
        return;
    for (uint32_t i = 0; i < npoints; i++) {
        scan_edge e;
        if (!scan_edge_init(&e, xy + 2 * i, xy + 2 * ((i + 1) % npoints), height))
            continue;
        for (int r = e.r0; r < e.r1; r++) {
            const int c = scan_edge_col(&e, r, width, height);
            if (c < width)
                mask[(size_t)r * (size_t)width + (size_t)c] ^= 1;
        }
    }
    for (int r = 0; r < height; r++) {
        uint8_t *row = mask + (size_t)r * (size_t)width, inside = 0;
        for (int c = 0; c < width; c++)
            row[c] = inside ^= row[c];
    }
}

/* ------------------------------------------------------------------------------------------
 * Zone maps
 * ---------------------------------------------------------------------------------------- */

/* Working state of one build. */
typedef struct map_builder {
    vmo_zone_map *map;
    vmo_errbuf *err;
    scan_edge *edges;
    size_t nedges;
    int *active;          /* indices of the edges crossing the current row */
    uint64_t *toggle_inc; /* per column: include zones whose parity flips there */
    uint64_t *toggle_exc; /* per column: exclude zones whose parity flips there */
    uint64_t base;        /* zones covering every pixel (the implicit "frame") */
    uint64_t class_pixels[256];
    struct {
        uint64_t zones;
        int cls; /* 0: empty slot (class 0 is never stored) */
    } slots[CLASS_SLOTS];
} map_builder;

/* Class of a non-empty zone bitmask, numbered in order of first appearance. */
static int class_of(map_builder *b, uint64_t zones)
{
    vmo_zone_map *m = b->map;
    unsigned h = (unsigned)((zones * 0x9E3779B97F4A7C15ull) >> 55) & (CLASS_SLOTS - 1);
    for (; b->slots[h].cls; h = (h + 1) & (CLASS_SLOTS - 1))
        if (b->slots[h].zones == zones)
            return b->slots[h].cls;
    if (m->class_count == 256)
        return vmo_err_set(b->err, VMO_ERR_LIMIT,
                           "zones overlap in more than 255 distinct combinations at %dx%d: "
                           "use fewer overlapping zones",
                           m->width, m->height);
    const int cls = m->class_count++;
    m->class_zones[cls] = zones;
    b->slots[h].zones = zones;
    b->slots[h].cls = cls;
    return cls;
}

/* Labels pixels [c0, c1) of row r, all covered by the same include and exclude zones. */
static int label_span(map_builder *b, int r, int c0, int c1, uint64_t inc, uint64_t exc)
{
    vmo_zone_map *m = b->map;
    const size_t at = (size_t)r * (size_t)m->width + (size_t)c0, len = (size_t)(c1 - c0);
    if (exc) {
        memset(m->excluded + at, 1, len); /* label stays 0 */
        return VMO_OK;
    }
    if (!inc)
        return VMO_OK;
    const int cls = class_of(b, inc);
    if (cls < 0)
        return cls;
    memset(m->labels + at, cls, len);
    b->class_pixels[cls] += len;
    return VMO_OK;
}

/* Updates the active edge list for row r: edges are sorted by first row. */
static size_t update_active(map_builder *b, int r, size_t *next, size_t nactive)
{
    size_t k = 0;
    for (size_t i = 0; i < nactive; i++)
        if (b->edges[b->active[i]].r1 > r)
            b->active[k++] = b->active[i];
    for (; *next < b->nedges && b->edges[*next].r0 <= r; (*next)++)
        b->active[k++] = (int)*next;
    return k;
}

static int label_row(map_builder *b, int r, size_t nactive)
{
    const int w = b->map->width;
    for (size_t i = 0; i < nactive; i++) {
        const scan_edge *e = &b->edges[b->active[i]];
        const int c = scan_edge_col(e, r, w, b->map->height);
        if (c >= w)
            continue;
        if (e->bit < 64)
            b->toggle_inc[c] ^= 1ull << e->bit;
        else
            b->toggle_exc[c] ^= 1ull << (e->bit - 64);
    }
    uint64_t inc = b->base, exc = 0;
    int start = 0;
    for (int c = 0; c < w; c++) {
        if (!(b->toggle_inc[c] | b->toggle_exc[c]))
            continue;
        if (c > start) {
            const int rc = label_span(b, r, start, c, inc, exc);
            if (rc != VMO_OK)
                return rc;
        }
        inc ^= b->toggle_inc[c];
        exc ^= b->toggle_exc[c];
        b->toggle_inc[c] = b->toggle_exc[c] = 0; /* ready for the next row */
        start = c;
    }
    return label_span(b, r, start, w, inc, exc);
}

static int cmp_edge_row(const void *a, const void *b)
{
    const int x = ((const scan_edge *)a)->r0, y = ((const scan_edge *)b)->r0;
    return (x > y) - (x < y);
}

/* Edges of all zones, each tagged with its zone's bit, sorted by first row. */
static int collect_edges(map_builder *b, const vmo_zone_set *set)
{
    size_t total = 0;
    int inc = 0, exc = 0;
    for (int i = 0; i < set->count; i++)
        total += set->zones[i].npoints;
    b->edges = malloc(VMO_MAX(total, (size_t)1) * sizeof(*b->edges));
    b->active = malloc(VMO_MAX(total, (size_t)1) * sizeof(*b->active));
    if (!b->edges || !b->active)
        return vmo_err_set(b->err, VMO_ERR_NO_MEMORY, "zone map: out of memory");
    for (int i = 0; i < set->count; i++) {
        const vmo_zone *z = &set->zones[i];
        const int bit = z->kind == VMO_ZONE_EXCLUDE ? 64 + exc++ : inc++;
        /* The adders enforce this; a set filled by hand must not shift past bit 63. */
        if (inc > VMO_MAX_ZONES || exc > VMO_MAX_ZONES)
            return vmo_err_set(b->err, VMO_ERR_BAD_ZONE, "zone map: more than %d zones of a kind",
                               VMO_MAX_ZONES);
        for (uint32_t k = 0; k < z->npoints; k++) {
            scan_edge *e = &b->edges[b->nedges];
            if (scan_edge_init(e, z->xy + 2 * k, z->xy + 2 * ((k + 1) % z->npoints),
                               b->map->height)) {
                e->bit = bit;
                b->nedges++;
            }
        }
    }
    qsort(b->edges, b->nedges, sizeof(*b->edges), cmp_edge_row);
    return VMO_OK;
}

static int map_alloc(vmo_zone_map *m, map_builder *b, int width, int height)
{
    const size_t pixels = (size_t)width * (size_t)height;
    m->width = width;
    m->height = height;
    m->labels = calloc(pixels, 1);
    m->excluded = calloc(pixels, 1);
    b->toggle_inc = calloc((size_t)width, sizeof(uint64_t));
    b->toggle_exc = calloc((size_t)width, sizeof(uint64_t));
    if (!m->labels || !m->excluded || !b->toggle_inc || !b->toggle_exc)
        return vmo_err_set(b->err, VMO_ERR_NO_MEMORY, "zone map: out of memory for %dx%d", width,
                           height);
    return VMO_OK;
}

static int map_fill(map_builder *b, const vmo_zone_set *set)
{
    vmo_zone_map *m = b->map;
    const int includes = vmo_zone_set_include_count(set);
    m->zone_count = includes ? includes : 1;
    m->class_count = 1; /* class 0: outside every reported zone, or excluded */
    b->base = includes ? 0 : 1;
    int rc = collect_edges(b, set);
    size_t next = 0, nactive = 0;
    for (int r = 0; rc == VMO_OK && r < m->height; r++) {
        nactive = update_active(b, r, &next, nactive);
        rc = label_row(b, r, nactive);
    }
    if (rc != VMO_OK)
        return rc;
    for (int c = 1; c < m->class_count; c++)
        for (int z = 0; z < m->zone_count; z++)
            if (m->class_zones[c] >> z & 1)
                m->zone_area[z] += b->class_pixels[c];
    return VMO_OK;
}

int vmo_zone_map_build(vmo_zone_map *map, const vmo_zone_set *set, int width, int height,
                       vmo_errbuf *err)
{
    if (!map)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "zone map: NULL argument");
    vmo_zone_map_free(map);
    if (!set)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "zone map: NULL argument");
    if (width <= 0 || height <= 0)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "zone map: invalid size %dx%d", width, height);
    if (width > ZONE_MAP_DIM_MAX || height > ZONE_MAP_DIM_MAX)
        return vmo_err_set(err, VMO_ERR_LIMIT, "zone map: %dx%d exceeds %d pixels a side", width,
                           height, ZONE_MAP_DIM_MAX);
    map_builder *b = calloc(1, sizeof(*b));
    if (!b)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "zone map: out of memory");
    b->map = map;
    b->err = err;
    int rc = map_alloc(map, b, width, height);
    if (rc == VMO_OK)
        rc = map_fill(b, set);
    if (rc != VMO_OK)
        vmo_zone_map_free(map);
    free(b->edges);
    free(b->active);
    free(b->toggle_inc);
    free(b->toggle_exc);
    free(b);
    return rc;
}

void vmo_zone_map_free(vmo_zone_map *map)
{
    if (!map)
        return;
    free(map->labels);
    free(map->excluded);
    memset(map, 0, sizeof(*map));
}
